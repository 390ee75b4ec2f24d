"""Map a Grid to the form model through our template's defined names (pe_<key>).

Each name's current address is used, not the layout's: names move when rows are
inserted. The layout only supplies each field's kind and template formula.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .. import layout as L
from ..model import AmountRow, Form, Indicator, Kind, Loc, Narrative, Value
from ..values import _PLAIN_NUMERIC, parse_cell, to_decimal
from .grid import Grid, SheetGrid, a1, col_index, loc, parse_range
from .mapping import assign, layout_for

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


def _cell_value(grid: Grid, sg: SheetGrid, r: int, c: int, kind: str, template_formula: str | None,
                hint: bool = False, cached: bool = False):
    """cached: the workbook is known to carry cached results (values only), so a blank result of a
    template formula that can yield "" is that result, not a missing value."""
    at = loc(sg.name, r, c)
    formula = sg.formulas.get((r, c)) if sg.formulas else None
    if formula is None and template_formula is None:  # input cells, most of them: the short way
        rows = sg.rows
        raw = rows[r - 1][c - 1] if r <= len(rows) and c <= len(rows[r - 1]) else None
        if raw is None or raw == "":
            return Value(Kind.EMPTY, None, None, None, raw, at)
        t = type(raw)
        if (t is float or t is int) and kind in _PLAIN_NUMERIC:
            return Value(Kind.NUMBER, to_decimal(raw), None, None, raw, at)
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


def _has_cached_results(grid: Grid, lay: L.Layout, names) -> bool:
    """Values-only readers cannot tell a cached "" from a missing cache: if any template formula that
    always yields a number has a value, the workbook was saved with results."""
    for spec in lay.fields.values():
        if spec.formula and '""' not in spec.formula and spec.name in names:
            sheet, addr = names[spec.name]
            sg = grid.sheet(sheet)
            if sg is None:
                continue
            try:
                r, c, _, _ = parse_range(addr)
            except ValueError:
                continue
            if sg.value(r, c) is not None:
                return True
    return False


def map_names(grid: Grid, names: dict[str, tuple[str, str]], form: Form) -> None:
    form.template_version = _version(grid, names)
    proj = _region(grid, names, "projects")
    ind = _region(grid, names, "indicators")
    n_proj = proj[1][2] - proj[1][0] + 1 if proj else L.STANDARD_PROJECT_ROWS
    n_ind = ind[1][2] - ind[1][0] + 1 if ind else L.TEMPLATE_LAYOUT.indicator_rows
    lay = layout_for(n_proj, n_ind)

    roles = form.sheet_names
    cached = not grid.formulas_known and _has_cached_results(grid, lay, names)
    plan, notes = _plan(n_proj, n_ind, frozenset(names.items()))
    form.read_notes.extend(notes)
    sheets = grid.sheets
    for key, kind, label, name, sheet, r, c, tf, role in plan:
        sg = sheets.get(sheet)
        if sg is None:
            form.read_notes.append(f"定义名称 {name}（{label}）指向不存在的工作表“{sheet}”")
            continue
        if role not in roles:
            roles[role] = sheet
        if role == L.SHEET_NARRATIVE and form.narrative is None:
            form.narrative = Narrative()
        assign(form, key, _cell_value(grid, sg, r, c, kind, tf, cached=cached))

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


@lru_cache(maxsize=64)
def _plan(n_proj: int, n_ind: int, names: frozenset) -> tuple[tuple, tuple[str, ...]]:
    """Where each field is read, for one layout and one set of names (shared by files of one template)."""
    lay = layout_for(n_proj, n_ind)
    names = dict(names)
    plan, notes = [], []
    for key, spec in lay.fields.items():
        ref = names.get(spec.name)
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
        plan.append((key, spec.kind, spec.label, spec.name, sheet, r, c, tf, spec.sheet))
    return tuple(plan), tuple(notes)


def _projects(grid: Grid, region, spec: L.ListSpec, form: Form) -> None:
    sg, (r1, c1, r2, c2) = region
    shift = c1 - min(col_index(c) for c in spec.columns.values())
    cols = {attr: col_index(letter) + shift for attr, letter in spec.columns.items()}
    out = form.basic.projects
    for r in range(r1, r2 + 1):
        name = _cell_value(grid, sg, r, cols["name"], L.TEXT, None)
        row = AmountRow(name.text or "", name=name, row=r)
        row.prev = _cell_value(grid, sg, r, cols["prev"], L.AMOUNT, None)
        row.budget = _cell_value(grid, sg, r, cols["budget"], L.AMOUNT, None)
        row.actual = _cell_value(grid, sg, r, cols["actual"], L.AMOUNT, None)
        no_amount = all(v.kind in (Kind.EMPTY, Kind.NA) for v in (row.prev, row.budget, row.actual))
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
    for r in rows:
        ind = Indicator(row=r)
        for attr in ("name", "target", "actual", "reason"):
            if attr in cols:
                setattr(ind, attr, _cell_value(grid, sg, r, cols[attr], L.TEXT, None))
        for attr in ("points", "score"):
            if attr in cols:
                setattr(ind, attr, _cell_value(grid, sg, r, cols[attr], L.POINTS, None))
        if "level1" in cols:
            h1 = heading_above(sg, r, cols["level1"], last1, top_row)
            if h1 is not None:
                last1 = h1
                ind.level1 = _cell_value(grid, sg, h1[0], h1[1], L.TEXT, None)
                ind.level1_loc = ind.level1.loc
        if "level2" in cols:
            h2 = heading_above(sg, r, cols["level2"], last2, top_row)
            if h2 is not None:
                last2 = h2
                ind.level2 = _cell_value(grid, sg, h2[0], h2[1], L.TEXT, None)
        if not ind.is_blank():
            out.append(ind)


def _indicators(grid: Grid, region, spec: L.ListSpec, form: Form) -> None:
    sg, (r1, c1, r2, c2) = region
    shift = c1 - min(col_index(c) for c in spec.columns.values())
    cols = {attr: col_index(letter) + shift for attr, letter in spec.columns.items()}
    indicator_rows(grid, sg, range(r1, r2 + 1), cols, form, r1)
    form.self_eval.indicators_region = (Loc(sg.name, a1(r1, c1)), Loc(sg.name, a1(r2, c2)))


__all__ = ["map_names", "is_template", "indicator_rows", "heading_above", "Kind"]
