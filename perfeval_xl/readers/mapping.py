"""Where each layout field key lives in the form model, and small helpers both mapping paths share."""
from __future__ import annotations

from functools import lru_cache

from .. import layout as L
from ..model import AmountRow, Form, Narrative, Value
from ..values import norm_label
from .grid import Grid

_SG_LINES = ("abroad", "car", "reception", "total")
_SG_COLS = ("actual", "budget", "diff_budget", "prev", "diff_prev", "pct")
_BD_ROWS = {
    "bd_sg_total": "sg_total", "bd_car": "car", "bd_car_purchase": "car_purchase",
    "bd_car_maintenance": "car_maintenance", "bd_abroad": "abroad", "bd_reception": "reception",
    "bd_projects_total": "projects_total", "public_total": "public_total", "public_office": "public_office",
    "public_utilities_travel": "public_utilities_travel",
    "public_meetings_training": "public_meetings_training", "procurement": "procurement",
    "basic_adjustment": "basic_adjustment",
}
_FUNDS = {
    "funds_initial": "initial_budget", "funds_budget": "budget", "funds_actual": "actual",
    "funds_points": "points", "execution_rate": "execution_rate", "execution_score": "score",
    "income_general": "income_general", "income_gov_fund": "income_gov_fund",
    "income_special": "income_special", "income_other": "income_other",
    "exp_basic": "exp_basic", "exp_project": "exp_project",
}
_FOOTER = ("preparer", "date", "phone", "signature")


def _target_map() -> dict[str, tuple[str, ...]]:
    """field key -> attribute path from Form."""
    m: dict[str, tuple[str, ...]] = {"unit_name": ("unit_name",), "year": ("year",)}
    for line in _SG_LINES:
        for col in _SG_COLS:
            m[f"sg_{line}_{col}"] = ("three_public", line, col)
    m["staff_quota"] = ("basic", "staffing", "quota")
    m["staff_actual"] = ("basic", "staffing", "actual")
    m["staff_rate"] = ("basic", "staffing", "rate")
    for key, attr in _BD_ROWS.items():
        for col in ("prev", "budget", "actual"):
            m[f"{key}_{col}"] = ("basic", attr, col)
    for attr in ("approved_area", "actual_area", "area_rate", "budget_investment", "actual_investment",
                 "investment_rate"):
        m[f"building_{attr}"] = ("basic", "building", attr)
    m["frugality"] = ("basic", "frugality")
    for f in _FOOTER:
        m[f"bd_{f}"] = ("basic", "footer", f)
        m[f"se_{f}"] = ("self_eval", "footer", f)
    for key, attr in _FUNDS.items():
        m[key] = ("self_eval", "funds", attr)
    for key in ("goal_expected", "goal_actual", "points_total", "total_score", "grade"):
        m[key] = ("self_eval", key)
    for key, _label, _kind in L.NARRATIVE_FIELDS:
        m[key] = ("narrative", key)
    return m


TARGETS = _target_map()


def assign(form: Form, key: str, value: Value) -> None:
    """Put a parsed value where the model keeps field `key`; AmountRow.row follows the value's cell."""
    path = TARGETS.get(key)
    if path is not None:
        put(form, path, value)


def put(form: Form, path: tuple[str, ...], value: Value) -> None:
    """assign with the target path already looked up (the names reader resolves paths once per plan)."""
    set_field(parent(form, path[:-1]), path[-1], value)


def parent(form: Form, path: tuple[str, ...]):
    """The object at path in the form (a field's parent), making the narrative when it is not there yet."""
    obj = form
    for part in path:
        nxt = getattr(obj, part)
        if nxt is None and part == "narrative":
            nxt = form.narrative = Narrative()
        obj = nxt
    return obj


def set_field(obj, attr: str, value: Value) -> None:
    """obj.attr = value; an AmountRow's row follows its first value's cell."""
    setattr(obj, attr, value)
    if obj.__class__ is AmountRow and obj.row is None and value.loc is not None:
        obj.row = int(value.loc.cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


@lru_cache(maxsize=32)
def layout_for(project_rows: int, indicator_rows: int) -> L.Layout:
    """The template layout for list sizes as found (field formulas depend on them, not on the grouping)."""
    if project_rows == L.STANDARD_PROJECT_ROWS and indicator_rows == L.TEMPLATE_LAYOUT.indicator_rows:
        return L.TEMPLATE_LAYOUT
    return L.build_layout(max(project_rows, 1), (("产出指标", (("数量指标", max(indicator_rows, 1)),)),))


_SETTINGS_HEADERS = {"设置", "设置项", "参数", "键", "key", "名称", "项目", "配置项", "setting"}


def settings_pairs(grid: Grid) -> tuple[str | None, dict[str, str], dict[str, list[str]]]:
    """Raw key/value pairs from an optional 设置 sheet (column A key, column B value), and the A1 cells of
    every row that gave each key, in order (a repeated key keeps its last value here; the settings loader
    refuses the repetition, naming the cells)."""
    name = None
    for n in grid.sheets:
        if norm_label(n) == L.SHEET_SETTINGS:
            name = n
            break
    if name is None:
        return None, {}, {}
    sg = grid.sheets[name]
    out: dict[str, str] = {}
    cells: dict[str, list[str]] = {}
    for row in range(1, sg.max_row + 1):
        k = sg.value(row, 1)
        if k is None:
            continue
        key = str(k).strip()
        if not key or key.lower() in _SETTINGS_HEADERS or key.startswith("#"):
            continue
        v = sg.value(row, 2)
        if v is None:
            val = ""
        elif isinstance(v, bool):
            val = "true" if v else "false"
        elif isinstance(v, float) and v.is_integer():
            val = str(int(v))
        else:
            val = str(v).strip()
        out[key] = val
        cells.setdefault(key, []).append(f"A{row}")
    return name, out, cells
