"""Map a Grid to the form model through our template's defined names (pe_<key>).

Each name's current address is used, not the layout's: names move when rows are
inserted. The layout only supplies each field's kind and template formula.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .. import layout as L
from ..model import AmountRow, Form, Indicator, Kind, Loc, Narrative, Value
from ..values import _PLAIN_NUMERIC, parse_cell, parse_text, to_decimal
from .grid import Grid, SheetGrid, a1, col_index, loc, parse_range
from .mapping import TARGETS, layout_for

_PLACEHOLDER = re.compile(r"^[.…·。\-—]+$|一个专项一行|一个项目一行")
_ASSUMED_PERCENT = "0.00%"  # the template's format for percent fields (used when formats are not visible)


def is_placeholder(name: str | None) -> bool:
    """Rows the official form prints for filling in: "3、市级专项资金（一个专项一行）", "……"."""
    return bool(name) and _PLACEHOLDER.search(name) is not None


def is_template(names: dict[str, tuple[str, str]] | None) -> bool:
    return bool(names) and (L.VERSION_NAME in names or any(k.startswith(L.NAME_PREFIX) for k in names))


def _version(grid: Grid, names) -> str | None:
    ref = names.get(L.VERSION_NAME)
    if ref is None:
        return None
    sheet, addr = ref
    if sheet and grid.sheet(sheet) is not None:
        try:
            r, c, _, _ = parse_range(addr)
            v = grid.sheet(sheet).value(r, c)
            return None if v is None else str(v).strip()
        except ValueError:
            pass
    t = (addr or "").strip().lstrip("=").strip()
    if len(t) >= 2 and t[0] == t[-1] == '"':
        t = t[1:-1]
    return t or None


def _region(grid: Grid, names, key: str):
    ref = names.get(L.NAME_PREFIX + key)
    if ref is None or not ref[0]:
        return None
    sg = grid.sheet(ref[0])
    if sg is None:
        return None
    try:
        return sg, parse_range(ref[1])
    except ValueError:
        return None


def _translate(formula: str, origin: str, dest: str) -> str:
    if origin == dest:
        return formula
    try:  # lazy: only when a name moved away from the layout's cell
        from openpyxl.formula.translate import Translator

        return Translator(formula, origin=origin).translate_formula(dest)
    except Exception:
        return formula


def _plain(grid: Grid, sg: SheetGrid, r: int, c: int, kind: str, at: Loc, hint: bool = False) -> Value:
    """_cell_value for a cell with neither a formula nor a template formula (most cells): the short way."""
    rows = sg.rows
    raw = rows[r - 1][c - 1] if r <= len(rows) and c <= len(rows[r - 1]) else None
    if raw is None or raw == "":
        return Value(Kind.EMPTY, None, None, None, raw, at)
    t = type(raw)
    if (t is float or t is int) and kind in _PLAIN_NUMERIC:
        return Value(Kind.NUMBER, to_decimal(raw), None, None, raw, at)
    if r < 1 or c < 1:
        raw = None  # SheetGrid.value: nothing outside the sheet
    elif t is str and (kind == "text" or kind == "longtext"):
        return parse_text(raw, loc=at)  # what parse_cell does for text
    return parse_cell(raw, kind, loc=at, number_format=sg.number_format(r, c) if grid.formats_known else None,
                      hint=hint)


def _cell_value(grid: Grid, sg: SheetGrid, r: int, c: int, kind: str, template_formula: str | None,
                hint: bool = False, cached: bool = False):
    """cached: the workbook is known to carry cached results (values only), so a blank result of a
    template formula that can yield "" is that result, not a missing value."""
    formulas = sg.formulas
    formula = formulas.get((r, c)) if formulas else None
    if formula is None and template_formula is None:  # input cells, most of them: the short way
        return _plain(grid, sg, r, c, kind, loc(sg.name, r, c), hint)
    at = loc(sg.name, r, c)
    if grid.formats_known:
        fmt = sg.number_format(r, c)
    else:
        fmt = _ASSUMED_PERCENT if kind == L.PERCENT and template_formula else None
    if formula is not None and ((r, c) in sg.blank_results or (grid.results_current and sg.value(r, c) is None)):
        v = parse_cell(None, kind, loc=at, template_formula=template_formula)
        v.formula = formula
        return v
    has_formula = (bool(template_formula) and not grid.formulas_known and not grid.results_current
                   and not (cached and '""' in template_formula))
    return parse_cell(sg.value(r, c), kind, loc=at, formula=formula, template_formula=template_formula,
                      has_formula=has_formula, number_format=fmt, hint=hint)


def map_names(grid: Grid, names: dict[str, tuple[str, str]], form: Form) -> None:
    form.template_version = _version(grid, names)
    proj = _region(grid, names, "projects")
    ind = _region(grid, names, "indicators")
    n_proj = proj[1][2] - proj[1][0] + 1 if proj else L.STANDARD_PROJECT_ROWS
    n_ind = ind[1][2] - ind[1][0] + 1 if ind else L.TEMPLATE_LAYOUT.indicator_rows
    lay = layout_for(n_proj, n_ind)

    roles = form.sheet_names
    plan, notes, probes = _plan(n_proj, n_ind, _names_key(names))
    sheets = grid.sheets
    cached = False
    if not grid.formulas_known:  # any template formula that always yields a number has a cached value?
        for sheet, r, c in probes:
            sg = sheets.get(sheet)
            if sg is not None and sg.value(r, c) is not None:
                cached = True
                break
    form.read_notes.extend(notes)
    formats_known = grid.formats_known
    narrative_role = L.SHEET_NARRATIVE
    for kind, label, name, sheet, r, c, tf, role, at, path in plan:
        sg = sheets.get(sheet)
        if sg is None:
            form.read_notes.append(f"定义名称 {name}（{label}）指向不存在的工作表“{sheet}”")
            continue
        if role not in roles:
            roles[role] = sheet
        if role == narrative_role and form.narrative is None:
            form.narrative = Narrative()
        if tf is None and not sg.formulas:  # an input cell of a values-only reader: inline _plain
            rows = sg.rows
            raw = rows[r - 1][c - 1] if r <= len(rows) and c <= len(rows[r - 1]) else None
            if raw is None or raw == "":
                value = Value(Kind.EMPTY, None, None, None, raw, at)
            elif (raw.__class__ is float or raw.__class__ is int) and kind in _PLAIN_NUMERIC:
                value = Value(Kind.NUMBER, to_decimal(raw), None, None, raw, at)
            elif formats_known:
                value = _plain(grid, sg, r, c, kind, at)
            else:
                value = parse_cell(raw if r >= 1 and c >= 1 else None, kind, loc=at)
        else:
            value = _cell_value(grid, sg, r, c, kind, tf, cached=cached)
        if path is not None:
            _put(form, path, value)

    if proj:
        _projects(grid, proj, lay.lists["projects"], form)
        roles.setdefault(L.SHEET_BASIC, proj[0].name)
    else:
        form.read_notes.append("未找到定义名称 pe_projects（项目支出明细区域）")
    if ind:
        _indicators(grid, ind, lay.lists["indicators"], form)
        roles.setdefault(L.SHEET_SELF, ind[0].name)
    else:
        form.read_notes.append("未找到定义名称 pe_indicators（绩效指标区域）")
    form.self_eval.unit_name = form.unit_name


def _put(form: Form, path: tuple[str, ...], value: Value) -> None:
    """mapping.assign with the target path looked up once per plan."""
    obj = form
    for part in path[:-1]:
        nxt = getattr(obj, part)
        if nxt is None and part == "narrative":
            nxt = form.narrative = Narrative()
        obj = nxt
    setattr(obj, path[-1], value)
    if obj.__class__ is AmountRow and obj.row is None and value.loc is not None:
        obj.row = int(value.loc.cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


def _names_key(names: dict) -> frozenset:
    """frozenset(names.items()); the fast reader hands over names that carry it already (NamesDict)."""
    key = getattr(names, "frozen", None)
    return key if key is not None else frozenset(names.items())


@lru_cache(maxsize=64)
def _plan(n_proj: int, n_ind: int, names: frozenset) -> tuple[tuple, tuple[str, ...], tuple]:
    """Where each field is read, for one layout and one set of names (shared by files of one template):
    (kind, label, name, sheet, row, col, template formula, sheet role, Loc, model path) per field, the
    notes for names missing or invalid, and the cells that tell whether formula results were cached."""
    lay = layout_for(n_proj, n_ind)
    names = dict(names)
    plan, notes, probes = [], [], []
    for key, spec in lay.fields.items():
        ref = names.get(spec.name)
        if spec.formula and '""' not in spec.formula and ref is not None:
            try:
                r, c, _, _ = parse_range(ref[1])
                probes.append((ref[0], r, c))
            except ValueError:
                pass
        if ref is None or not ref[0]:
            notes.append(f"未找到定义名称 {spec.name}（{spec.label}）")
            continue
        sheet, addr = ref
        try:
            r, c, _, _ = parse_range(addr)
        except ValueError:
            notes.append(f"定义名称 {spec.name}（{spec.label}）的地址无效：{addr}")
            continue
        tf = spec.formula
        if tf is not None:
            tf = _translate(tf, spec.cell, a1(r, c))
        plan.append((spec.kind, spec.label, spec.name, sheet, r, c, tf, spec.sheet, loc(sheet, r, c),
                     TARGETS.get(key)))
    return tuple(plan), tuple(notes), tuple(probes)


def _reader(grid: Grid, sg: SheetGrid):
    """get(r, c, kind): _cell_value for cells with no template formula, one call shorter when the
    sheet has no formulas (values-only readers)."""
    if sg.formulas:
        return lambda r, c, kind: _cell_value(grid, sg, r, c, kind, None)
    name = sg.name
    return lambda r, c, kind: _plain(grid, sg, r, c, kind, loc(name, r, c))


def _projects(grid: Grid, region, spec: L.ListSpec, form: Form) -> None:
    sg, (r1, c1, r2, c2) = region
    shift = c1 - min(col_index(c) for c in spec.columns.values())
    cols = {attr: col_index(letter) + shift for attr, letter in spec.columns.items()}
    out = form.basic.projects
    get = _reader(grid, sg)
    cn, cp, cb, ca = cols["name"], cols["prev"], cols["budget"], cols["actual"]
    text, amount, empty, na = L.TEXT, L.AMOUNT, Kind.EMPTY, Kind.NA
    for r in range(r1, r2 + 1):
        name = get(r, cn, text)
        prev = get(r, cp, amount)
        budget = get(r, cb, amount)
        actual = get(r, ca, amount)
        row = AmountRow(name.text or "", name, prev, budget, actual, r)
        no_amount = ((prev.kind is empty or prev.kind is na) and (budget.kind is empty or budget.kind is na)
                     and (actual.kind is empty or actual.kind is na))
        if not row.is_blank() and not (no_amount and is_placeholder(name.text)):
            out.append(row)
    form.basic.projects_region = (Loc(sg.name, a1(r1, c1)), Loc(sg.name, a1(r2, c2)))


def heading_above(sg: SheetGrid, r: int, c: int, last: tuple[int, int] | None, top_row: int):
    """The cell holding a merged-down heading (一级/二级) for row r: the cell itself, the top of its
    merge, or the last heading seen above (blank cells under a heading that is not merged)."""
    if sg.value(r, c) is not None:
        return r, c
    top = sg.merge_top(r, c)
    if top is not None and sg.value(*top) is not None:
        return top
    if last is not None and last[0] >= top_row:
        return last
    return None


def indicator_rows(grid: Grid, sg: SheetGrid, rows, cols: dict[str, int], form: Form, top_row: int,
                   hints: dict[str, bool] | None = None) -> None:
    """Shared by both mapping paths: read indicator lines, fill 一级/二级 down, skip blank lines."""
    out = form.self_eval.indicators
    last1 = last2 = None
    get = _reader(grid, sg)
    texts = [(attr, cols[attr]) for attr in ("name", "target", "actual", "reason") if attr in cols]
    points = [(attr, cols[attr]) for attr in ("points", "score") if attr in cols]
    text, pts = L.TEXT, L.POINTS
    c1 = cols.get("level1")
    c2 = cols.get("level2")
    for r in rows:
        kw = {attr: get(r, c, text) for attr, c in texts}  # given values: no default Values made
        for attr, c in points:
            kw[attr] = get(r, c, pts)
        ind = Indicator(row=r, **kw)
        if c1 is not None:
            h1 = heading_above(sg, r, c1, last1, top_row)
            if h1 is not None:
                last1 = h1
                ind.level1 = get(h1[0], h1[1], text)
                ind.level1_loc = ind.level1.loc
        if c2 is not None:
            h2 = heading_above(sg, r, c2, last2, top_row)
            if h2 is not None:
                last2 = h2
                ind.level2 = get(h2[0], h2[1], text)
        if not ind.is_blank():
            out.append(ind)


def _indicators(grid: Grid, region, spec: L.ListSpec, form: Form) -> None:
    sg, (r1, c1, r2, c2) = region
    shift = c1 - min(col_index(c) for c in spec.columns.values())
    cols = {attr: col_index(letter) + shift for attr, letter in spec.columns.items()}
    indicator_rows(grid, sg, range(r1, r2 + 1), cols, form, r1)
    form.self_eval.indicators_region = (Loc(sg.name, a1(r1, c1)), Loc(sg.name, a1(r2, c2)))


__all__ = ["map_names", "is_template", "indicator_rows", "heading_above", "Kind"]
