"""Map a Grid to the form model through our template's defined names (pe_<key>).

Each name's current address is used, not the layout's: names move when rows are
inserted. The layout only supplies each field's kind and template formula.
"""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from .. import layout as L
from ..model import AmountRow, Form, Indicator, Kind, Loc, Narrative, Value
from ..values import _DECIMALS, _PLAIN_NUMERIC, _TEXTS, parse_cell, parse_text, to_decimal
from .grid import Grid, SheetGrid, a1, col_index, loc, parse_a1, parse_range
from .mapping import TARGETS, layout_for
from .mapping import parent as _parent
from .mapping import put as _put
from .mapping import set_field as _set_field

BROKEN_REF = "#REF!"  # the address of a defined name whose cells (or sheet) were deleted
_LIST_LABELS = {"projects": "项目支出明细区域", "indicators": "绩效指标区域"}
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
    raw = sg.value(r, c)
    has_formula = bool(template_formula) and not grid.formulas_known and not grid.results_current
    if has_formula and cached and raw is None:
        # values only (python-calamine): an error result reads as '', like no result at all; in a file
        # whose formulas carry results, ask the sheet XML whether this one holds an error value (not
        # when the formula's own condition for "" holds: the common blank, e.g. 规模控制率 with no building)
        if sg.errors_read or not _blank_explained(sg, template_formula):
            err = sg.cached_error(r, c)
            if err is not None:
                return parse_cell(err, kind, loc=at, template_formula=template_formula, has_formula=True)
        has_formula = '""' not in template_formula
    return parse_cell(raw, kind, loc=at, formula=formula, template_formula=template_formula,
                      has_formula=has_formula, number_format=fmt, hint=hint)


_IF_N0 = re.compile(r'=IF\(N\(\$?([A-Z]{1,3})\$?(\d+)\)=0,"",')
_IF_BLANK = re.compile(r'=IF\(\$?([A-Z]{1,3})\$?(\d+)="","",')
_IF_COUNT0 = re.compile(r'=IF\(COUNT\(\$?([A-Z]{1,3})\$?(\d+):\$?([A-Z]{1,3})\$?(\d+)\)=0,"",')


@lru_cache(maxsize=256)
def _blank_condition(formula: str):
    """The template's ways to yield "": IF(N(X)=0,"",…), IF(X="","",…), IF(COUNT(A:B)=0,"",…) ->
    (test, cells); None for any other formula."""
    m = _IF_N0.match(formula)
    if m:
        return "n0", (int(m.group(2)), col_index(m.group(1)))
    m = _IF_BLANK.match(formula)
    if m:
        return "blank", (int(m.group(2)), col_index(m.group(1)))
    m = _IF_COUNT0.match(formula)
    if m:
        r1, r2 = sorted((int(m.group(2)), int(m.group(4))))
        c1, c2 = sorted((col_index(m.group(1)), col_index(m.group(3))))
        return "count0", (r1, c1, r2, c2)
    return None


def _blank_explained(sg: SheetGrid, formula: str) -> bool:
    """Whether a template formula's condition for "" holds on the values read (a blank result is then
    what the formula gives, not a hidden error value)."""
    cond = _blank_condition(formula)
    if cond is None:
        return False
    test, cells = cond
    if test == "n0":
        v = sg.value(*cells)
        return v is None or v.__class__ is str or v == 0
    if test == "blank":
        return sg.value(*cells) is None
    r1, c1, r2, c2 = cells
    return not any(v.__class__ in (int, float) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
                   if (v := sg.value(r, c)) is not None)


def map_names(grid: Grid, names: dict[str, tuple[str, str]], form: Form) -> None:
    form.template_version = _version(grid, names)
    proj = _region(grid, names, "projects")
    ind = _region(grid, names, "indicators")
    n_proj = proj[1][2] - proj[1][0] + 1 if proj else L.STANDARD_PROJECT_ROWS
    n_ind = ind[1][2] - ind[1][0] + 1 if ind else L.TEMPLATE_LAYOUT.indicator_rows
    lay = layout_for(n_proj, n_ind)

    roles = form.sheet_names
    plan, lost, probes, by_sheet, (runs, role_pairs, narr_sheets, targets) = _plan(n_proj, n_ind, _names_key(names))
    sheets = grid.sheets
    for sheet in by_sheet:  # a sheet the names point at is gone (renamed or deleted outside Excel)
        if sheet not in sheets:
            lost = lost + by_sheet[sheet]
    cached = False
    if not grid.formulas_known:  # any template formula that always yields a number has a cached value?
        for sheet, r, c in probes:
            sg = sheets.get(sheet)
            if sg is not None and sg.value(r, c) is not None:
                cached = True
                break
    for role, sheet in role_pairs:  # each role: the first sheet (in plan order) that the workbook has
        if role not in roles and sheet in sheets:
            roles[role] = sheet
    if form.narrative is None and any(s in sheets for s in narr_sheets):
        form.narrative = Narrative()

    # values first, per sheet in plan order (a cell may load the sheet's error values, which later cells
    # of that sheet consult), then put where the model keeps them, each parent object looked up once
    values = [None] * len(plan)
    formats_known = grid.formats_known
    empty, number, texts, decimals = Kind.EMPTY, Kind.NUMBER, _TEXTS, _DECIMALS
    na, text_kind, date_kind, date_cls = Kind.NA, Kind.TEXT, Kind.DATE, date
    for sheet, entries in runs:
        sg = sheets.get(sheet)
        if sg is None:
            continue  # in `lost`: read by labels below
        rows = sg.rows
        n = len(rows) if not sg.formulas else -1  # -1: formulas visible, every cell the long way
        for kind, r, c, tf, at, slot, mode in entries:
            if 0 < r <= n and c > 0:  # values only: the common cases of _plain and _cell_value made here
                row = rows[r - 1]
                raw = row[c - 1] if c <= len(row) else None
                cls = raw.__class__
                if tf is None:
                    if raw is None or raw == "":
                        values[slot] = Value(empty, None, None, None, raw, at)
                        continue
                    if cls is float or cls is int:
                        if mode == _NUMERIC:
                            d = decimals.get(raw) if cls is float else None
                            values[slot] = Value(number, d if d is not None else to_decimal(raw), None, None, raw, at)
                            continue
                    elif cls is str:
                        if mode >= _TEXT and (hit := texts.get(raw)) is not None:  # parse_text, seen before
                            k = hit[0]
                            if mode == _CHOICE and k is na and hit[1] == "无":
                                k = text_kind  # parse_choice: 无 answers a 有/无 question
                            values[slot] = Value(k, None, hit[1], None, raw, at)
                            continue
                    elif cls is date_cls and mode == _DATE:
                        values[slot] = Value(date_kind, None, None, raw, raw, at)  # parse_date
                        continue
                elif (cls is float or cls is int) and (mode == _NUMERIC or mode == _PERCENT and not formats_known):
                    # a template formula's cached number: what _cell_value's parse_cell gives (a percent
                    # field then has the template's percent format: the number as is), made here
                    d = decimals.get(raw) if cls is float else None
                    values[slot] = Value(number, d if d is not None else to_decimal(raw), None, None, raw, at,
                                         None, tf)
                    continue
            values[slot] = _cell_value(grid, sg, r, c, kind, tf, cached=cached)
    for path, fields in targets:
        obj = None
        for attr, slot in fields:
            value = values[slot]
            if value is None:
                continue
            if obj is None:
                obj = _parent(form, path)  # looked up once for all its fields
            _set_field(obj, attr, value)

    if proj:
        _projects(grid, proj, lay.lists["projects"], form)
        roles.setdefault(L.SHEET_BASIC, proj[0].name)
    else:
        lost = lost + (_list_loss(names, grid, "projects"),)
    if ind:
        _indicators(grid, ind, lay.lists["indicators"], form)
        roles.setdefault(L.SHEET_SELF, ind[0].name)
    else:
        lost = lost + (_list_loss(names, grid, "indicators"),)
    if lost:
        _by_labels(grid, form, lost, cached)
    form.self_eval.unit_name = form.unit_name


def _ref_problem(ref) -> str:
    """Why a defined name (sheet, address) leads nowhere whatever the workbook: "absent", "ref" (#REF!),
    "invalid" (no sheet, or not a cell address); "" when it names a cell of some sheet."""
    if ref is None:
        return "absent"
    sheet, addr = ref
    if addr == BROKEN_REF:
        return "ref"
    if not sheet:
        return "invalid"
    try:
        parse_range(addr)
    except ValueError:
        return "invalid"
    return ""


def _why(ref, sheets) -> str:
    """_ref_problem, or "sheet" when the workbook has no sheet of that name; "" when it leads to a cell."""
    why = _ref_problem(ref)
    return why or ("" if ref[0] in sheets else "sheet")


def _list_loss(names, grid: Grid, key: str) -> tuple:
    ref = names.get(L.NAME_PREFIX + key)
    return (_why(ref, grid.sheets) or "invalid", key, None, _LIST_LABELS[key], L.NAME_PREFIX + key,
            None, None, None, ref[0] if ref else None)


def _by_labels(grid: Grid, form: Form, lost: tuple, cached: bool) -> None:
    """Fields (and lists) whose defined names point nowhere: found by their labels, as in a form sent
    without names. A field with a template formula is then read at the cell found, with that formula
    (translated there), exactly as by name. One read note per cause, one for what labels cannot find."""
    from .anchors import map_anchors  # anchors imports this module

    by_label = Form(source=form.source, reader=form.reader, formulas_known=form.formulas_known)
    try:
        grid.load_all_sheets()  # the fast reader read only the sheets the names point at
        # the template's own 填报说明 names every label: never one of the tables
        view = Grid({n: sg for n, sg in grid.sheets.items() if n.strip() != L.SHEET_GUIDE}, grid.formulas_known,
                    grid.formats_known, grid.results_current)
        map_anchors(view, by_label)
        failed = False
    except Exception:  # ReadError: no table found by labels; anything else must not lose what names gave
        failed = True
    _note_lost(form, lost, failed)
    if failed:
        return
    for role, sheet in by_label.sheet_names.items():
        form.sheet_names.setdefault(role, sheet)
    lay = _layout_by_labels(form, by_label, lost)
    missing, placed, later = [], [], []
    for why, key, kind, label, name, formula, origin, path, sheet in lost:
        if key == "projects":
            form.basic.projects = by_label.basic.projects
            form.basic.projects_region = by_label.basic.projects_region
            if form.basic.projects_region is None:
                missing.append(label)
            continue
        if key == "indicators":
            form.self_eval.indicators = by_label.self_eval.indicators
            form.self_eval.indicators_region = by_label.self_eval.indicators_region
            if form.self_eval.indicators_region is None:
                missing.append(label)
            continue
        spec = lay.fields.get(key)
        if spec is not None:  # the formulas as the template has them for the list sizes found
            formula, origin = spec.formula, spec.cell
        v = _at_path(by_label, path)
        sg = grid.sheets.get(v.loc.sheet) if v is not None and v.loc is not None else None
        if sg is not None and spec is not None and sg.name != form.sheet_names.get(spec.sheet):
            sg = None  # found on another table (年度 in a title): beside its row mate if there is one
        own = sg is not None and _same_raw(v.raw, sg.cell(v.loc.cell))  # found in its own cell
        if own and formula is not None:
            placed.append((key, kind, formula, origin, path, (sg,) + parse_a1(v.loc.cell)))
        elif sg is not None and (own or v.kind is not Kind.EMPTY):
            _put(form, path, v)  # as found; or typed inside its label ("项目支出：734.53")
        elif sg is not None and (at := _beside(sg, v.loc.cell)) is not None:
            placed.append((key, kind, formula, origin, path, at))  # a blank (or uncalculated) value cell
        else:  # no label of its own (等级)
            later.append((key, kind, formula, origin, path, label, v))
    if not grid.formulas_known and not cached:  # the lost cells may be the ones carrying results
        cached = any(f and '""' not in f and at[0].value(at[1], at[2]) is not None
                     for _, _, f, _, _, at in placed)
    for key, kind, formula, origin, path, (sg, r, c) in placed:
        tf = _translate(formula, origin, a1(r, c)) if formula is not None else None
        _put(form, path, _cell_value(grid, sg, r, c, kind, tf, cached=cached))
    for key, kind, formula, origin, path, label, v in later:
        # placed beside a field of the same template row that was found (by name or by label)
        at = _row_mate(grid, form, lay, key)
        if at is not None:
            sg, r, c = at
            tf = _translate(formula, origin, a1(r, c)) if formula is not None else None
            v = _cell_value(grid, sg, r, c, kind, tf, cached=cached)
        elif v is None or v.loc is None:
            missing.append(label)
            continue
        _put(form, path, v)
    if missing:
        shown = "、".join(missing[:8]) + (f"等 {len(missing)} 项" if len(missing) > 8 else "")
        form.read_notes.append(f"按标签也未找到：{shown}")


def _same_raw(a, b) -> bool:
    return a == b or (a is None or a == "") and (b is None or b == "")


def _layout_by_labels(form: Form, by_label: Form, lost: tuple) -> L.Layout:
    """The template layout for the list sizes in force: the names' regions, or the lists found by labels."""
    keys = {e[1] for e in lost}
    regions = []
    for key, mine, theirs in (("projects", form.basic.projects_region, by_label.basic.projects_region),
                              ("indicators", form.self_eval.indicators_region,
                               by_label.self_eval.indicators_region)):
        region = theirs if key in keys else mine
        if region is None:
            regions.append(L.STANDARD_PROJECT_ROWS if key == "projects" else L.TEMPLATE_LAYOUT.indicator_rows)
        else:
            regions.append(parse_a1(region[1].cell)[0] - parse_a1(region[0].cell)[0] + 1)
    return layout_for(*regions)


def _beside(sg: SheetGrid, label_cell: str):
    """(sheet grid, row, col) of the blank cell right of a label, past the label's own merge; None
    when that cell holds text (another label)."""
    r, c = parse_a1(label_cell)
    cc = c + 1
    while cc <= sg.max_col and sg.merge_top(r, cc) not in (None, (r, cc)):
        cc += 1
    v = sg.value(r, cc)
    return None if isinstance(v, str) and v.strip() else (sg, r, cc)


def _row_mate(grid: Grid, form: Form, lay: L.Layout, key: str):
    """(sheet grid, row, col) of a field without a label of its own, placed as the template places it
    beside another field of the same row that was found (by name or by label); None when none was."""
    spec = lay.fields.get(key)
    if spec is None:
        return None
    r0, c0 = parse_a1(spec.cell)
    sheet = form.sheet_names.get(spec.sheet)
    for other, s2 in lay.fields.items():
        if other == key or s2.sheet != spec.sheet:
            continue
        r2, c2 = parse_a1(s2.cell)
        if r2 != r0:
            continue
        v = _at_path(form, TARGETS.get(other))
        sg = grid.sheets.get(v.loc.sheet) if v is not None and v.loc is not None and v.loc.sheet == sheet else None
        if sg is not None and _same_raw(v.raw, sg.cell(v.loc.cell)):  # found at its own cell
            r, c = parse_a1(v.loc.cell)
            if c + c0 - c2 >= 1:
                return grid.sheets[v.loc.sheet], r, c + c0 - c2
    return None


def _at_path(form: Form, path):
    obj = form
    for part in path or ():
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj if isinstance(obj, Value) else None


def _note_lost(form: Form, lost: tuple, failed: bool) -> None:
    then = "，且按标签也未找到这些表格，无法读取" if failed else "，已改为按标签读取"
    groups: dict[str, list] = {}
    for e in lost:
        groups.setdefault(e[0], []).append(e)
    sheets = groups.pop("sheet", None)
    if sheets:
        gone = "".join(f"“{s}”" for s in dict.fromkeys(e[8] for e in sheets))
        form.read_notes.append(f"定义名称指向不存在的工作表{gone}（工作表可能被改名或删除），"
                               f"{_count(sheets)}{then}")
    for why, head in (("ref", "定义名称已失效（#REF!，所指的单元格或工作表已被删除）"),
                      ("invalid", "定义名称的地址无效"), ("absent", "未找到定义名称")):
        es = groups.get(why)
        if es:
            shown = "、".join(f"{e[4]}（{e[3]}）" for e in es[:4]) + (f"等 {len(es)} 个" if len(es) > 4 else "")
            form.read_notes.append(f"{head}：{shown}{then}")


def _count(entries) -> str:
    n = sum(1 for e in entries if e[1] not in _LIST_LABELS)
    lists = [e[3] for e in entries if e[1] in _LIST_LABELS]
    parts = ([f"{n} 个字段"] if n else []) + lists
    return "涉及 " + "及".join(parts)


def _names_key(names: dict) -> frozenset:
    """frozenset(names.items()); the fast reader hands over names that carry it already (NamesDict)."""
    key = getattr(names, "frozen", None)
    return key if key is not None else frozenset(names.items())


@lru_cache(maxsize=64)
def _plan(n_proj: int, n_ind: int, names: frozenset) -> tuple[tuple, tuple, tuple, dict, tuple]:
    """Where each field is read, for one layout and one set of names (shared by files of one template):
    (kind, label, name, sheet, row, col, template formula, sheet role, Loc, model path) per field; the
    fields no name leads to (absent, #REF!, a bad address); the cells that tell whether formula results
    were cached; and per sheet named, its fields in the same form as the lost ones (read by labels when
    the workbook has no such sheet). A lost field: (why, key, kind, label, name, template formula,
    its cell in the layout, model path, sheet)."""
    lay = layout_for(n_proj, n_ind)
    names = dict(names)
    plan, lost, probes = [], [], []
    by_sheet: dict[str, list] = {}
    for key, spec in lay.fields.items():
        path = TARGETS.get(key)
        ref = names.get(spec.name)
        why = _ref_problem(ref)
        if why:  # absent, #REF!, invalid
            if path is not None:
                lost.append((why, key, spec.kind, spec.label, spec.name, spec.formula, spec.cell, path,
                             ref[0] if ref else None))
            continue
        sheet, addr = ref
        r, c, _, _ = parse_range(addr)
        if spec.formula and '""' not in spec.formula:
            probes.append((sheet, r, c))
        tf = spec.formula
        if tf is not None:
            tf = _translate(tf, spec.cell, a1(r, c))
        plan.append((spec.kind, spec.label, spec.name, sheet, r, c, tf, spec.sheet, loc(sheet, r, c), path))
        if path is not None:
            by_sheet.setdefault(sheet, []).append(
                ("sheet", key, spec.kind, spec.label, spec.name, spec.formula, spec.cell, path, sheet))
    return (tuple(plan), tuple(lost), tuple(probes), {k: tuple(v) for k, v in by_sheet.items()},
            _compile(plan))


# kinds map_names reads inline, by how: plain numbers; percent; dates; text as parse_text reads it; 有/无
_NUMERIC, _PERCENT, _DATE, _TEXT, _CHOICE = 1, 2, 3, 4, 5  # mode >= _TEXT: text kinds
_MODES = {**dict.fromkeys(_PLAIN_NUMERIC, _NUMERIC), "percent": _PERCENT, "text": _TEXT, "longtext": _TEXT,
          "phone": _TEXT, "choice": _CHOICE, "date": _DATE}


def _compile(plan: list) -> tuple:
    """The plan as map_names walks it: per sheet, (kind, row, col, template formula, Loc, slot, _MODES
    of the kind) in plan order; (role, sheet) pairs in plan order; the sheets of the narrative role;
    per parent path in the model, (attribute, slot) in plan order (slot: the field's index in the plan)."""
    runs: dict[str, list] = {}
    pairs: dict[tuple, None] = {}
    narr: dict[str, None] = {}
    targets: dict[tuple, list] = {}
    for slot, (kind, _label, _name, sheet, r, c, tf, role, at, path) in enumerate(plan):
        runs.setdefault(sheet, []).append((kind, r, c, tf, at, slot, _MODES.get(kind, 0)))
        pairs.setdefault((role, sheet))
        if role == L.SHEET_NARRATIVE:
            narr.setdefault(sheet)
        if path is not None:
            targets.setdefault(path[:-1], []).append((path[-1], slot))
    return (tuple((k, tuple(v)) for k, v in runs.items()), tuple(pairs), tuple(narr),
            tuple((k, tuple(v)) for k, v in targets.items()))


def _reader(grid: Grid, sg: SheetGrid):
    """get(r, c, kind): _cell_value for cells with no template formula, one call shorter when the
    sheet has no formulas (values-only readers)."""
    if sg.formulas:
        return lambda r, c, kind: _cell_value(grid, sg, r, c, kind, None)
    name, rows = sg.name, sg.rows
    nrows = len(rows)  # the grid is read: its rows no longer change
    empty, number, texts, decimals = Kind.EMPTY, Kind.NUMBER, _TEXTS, _DECIMALS

    def get(r, c, kind):
        # _plain with its common cases inlined (blank, plain number, text seen before): one call a cell
        at = loc(name, r, c)
        if 0 < r <= nrows and 0 < c:
            row = rows[r - 1]
            raw = row[c - 1] if c <= len(row) else None
            if raw is None or raw == "":
                return Value(empty, None, None, None, raw, at)
            cls = raw.__class__
            if cls is float or cls is int:
                if kind in _PLAIN_NUMERIC:
                    d = decimals.get(raw) if cls is float else None  # to_decimal's memo, without the call
                    return Value(number, d if d is not None else to_decimal(raw), None, None, raw, at)
            elif cls is str and (kind == "text" or kind == "longtext"):
                hit = texts.get(raw)
                if hit is not None:  # what parse_text gives for text it has seen
                    return Value(hit[0], None, hit[1], None, raw, at)
        return _plain(grid, sg, r, c, kind, at)

    return get


_COLUMNS: dict[tuple[int, int], tuple] = {}  # (id(list spec), first col) -> (spec, {attr: col})


def _list_columns(spec: L.ListSpec, c1: int) -> dict[str, int]:
    """{attr: column} of a list whose region starts at column c1 (specs live in layout_for's cache)."""
    hit = _COLUMNS.get((id(spec), c1))
    if hit is not None and hit[0] is spec:
        return hit[1]
    shift = c1 - min(col_index(c) for c in spec.columns.values())
    cols = {attr: col_index(letter) + shift for attr, letter in spec.columns.items()}
    if len(_COLUMNS) >= 256:
        _COLUMNS.clear()
    _COLUMNS[(id(spec), c1)] = (spec, cols)
    return cols


def _projects(grid: Grid, region, spec: L.ListSpec, form: Form) -> None:
    sg, (r1, c1, r2, c2) = region
    cols = _list_columns(spec, c1)
    out = form.basic.projects
    get = _reader(grid, sg)
    cn, cp, cb, ca = cols["name"], cols["prev"], cols["budget"], cols["actual"]
    text, amount, empty, na = L.TEXT, L.AMOUNT, Kind.EMPTY, Kind.NA
    rows = sg.rows if not sg.formulas else None  # values only: a row of blank cells is skipped unread
    for r in range(r1, r2 + 1):
        if rows is not None and r > 0:
            row = rows[r - 1] if r <= len(rows) else ()
            n = len(row)
            if ((cn > n or (v := row[cn - 1]) is None or v == "") and (cp > n or (v := row[cp - 1]) is None or v == "")
                    and (cb > n or (v := row[cb - 1]) is None or v == "")
                    and (ca > n or (v := row[ca - 1]) is None or v == "")):
                continue  # four blank Values: a blank AmountRow, never kept
        name = get(r, cn, text)
        prev = get(r, cp, amount)
        budget = get(r, cb, amount)
        actual = get(r, ca, amount)
        pk, bk, ak = prev.kind, budget.kind, actual.kind
        if name.kind is empty and pk is empty and bk is empty and ak is empty:
            continue  # AmountRow.is_blank, without making the row
        if (pk is empty or pk is na) and (bk is empty or bk is na) and (ak is empty or ak is na) \
                and is_placeholder(name.text):
            continue
        out.append(AmountRow(name.text or "", name, prev, budget, actual, r))
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
        kw = {}  # given values: no default Values made (a loop: no comprehension frame)
        for attr, c in texts:
            kw[attr] = get(r, c, text)
        for attr, c in points:
            kw[attr] = get(r, c, pts)
        if c1 is not None:
            h1 = heading_above(sg, r, c1, last1, top_row)
            if h1 is not None:
                last1 = h1
                kw["level1"] = v = get(h1[0], h1[1], text)
                kw["level1_loc"] = v.loc
        if c2 is not None:
            h2 = heading_above(sg, r, c2, last2, top_row)
            if h2 is not None:
                last2 = h2
                kw["level2"] = get(h2[0], h2[1], text)
        ind = Indicator(row=r, **kw)
        if not ind.is_blank():
            out.append(ind)


def _indicators(grid: Grid, region, spec: L.ListSpec, form: Form) -> None:
    sg, (r1, c1, r2, c2) = region
    cols = _list_columns(spec, c1)
    indicator_rows(grid, sg, range(r1, r2 + 1), cols, form, r1)
    form.self_eval.indicators_region = (Loc(sg.name, a1(r1, c1)), Loc(sg.name, a1(r2, c2)))


__all__ = ["map_names", "is_template", "indicator_rows", "heading_above", "Kind"]
