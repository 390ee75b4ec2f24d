"""Map a Grid to the form model by its labels (the official form as departments send it).

Sheets are found by what they contain, not by name; labels are compared after
norm_label (no spaces or line breaks, half-width, no quotes or colons); columns are
found by their header text; rows are found by their labels, so inserted or deleted
rows do not matter. What cannot be found is recorded in Form.read_notes (facts,
not verdicts).
"""
from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from .. import layout as L
from ..errors import ReadError
from ..model import AmountRow, Form, Kind, Loc, Narrative, Value
from ..values import clean_text, norm_label, parse_cell
from .grid import Grid, SheetGrid, a1, loc
from .mapping import assign
from .names import _cell_value, _plain, indicator_rows, is_placeholder

# Role -> label fragments whose presence identifies the table (normalised).
_ROLE_MARKS = {
    L.SHEET_SG: ("因公出国经费", "公务用车运行", "公务接待费", "三公经费情况"),
    L.SHEET_BASIC: ("财政供养人员", "经费控制情况", "公用经费", "公车购置", "楼堂馆所", "厉行节约"),
    L.SHEET_SELF: ("年度资金总额", "一级指标", "三级指标", "年度总体目标", "绩效指标", "自评得分"),
    L.SHEET_NARRATIVE: ("主要职能", "机构情况", "存在的问题及原因分析", "下一步改进措施"),
}
MUST_FIND = ("年度资金总额", "因公出国经费", "项目支出")

_ENUM = re.compile(r"^\s*(?:其中\s*[:：]?\s*)?(?:(?:[0-9]+|[一二三四五六七八九十]+)\s*[、.．)）]|[(（]\s*(?:[0-9]+|[一二三四五六七八九十]+)\s*[)）])?\s*(?:其中\s*[:：]?\s*)?")
_YEAR = re.compile(r"(20\d{2}|19\d{2})\s*年")
_TITLE_YEAR = re.compile(r"^((?:19|20)\d{2})年")


class _Sheet:
    """A SheetGrid with its string cells normalised once."""

    def __init__(self, grid: Grid, sg: SheetGrid):
        self.grid = grid
        self.sg = sg
        self.text: dict[tuple[int, int], str] = {}
        for r, row in enumerate(sg.rows, start=1):
            for c, v in enumerate(row, start=1):
                if isinstance(v, str) and v:
                    t = norm_label(v)
                    if t:
                        self.text[(r, c)] = t
        self.joined = "\x00".join(self.text.values())
        # labels, not prose (填报说明 mentions every label): role detection looks at short cells only
        self.short = "\x00".join(t for t in self.text.values() if len(t) <= 30)

    def find(self, pred, r1: int = 1, r2: int | None = None, c1: int = 1, c2: int | None = None):
        frag = getattr(pred, "frag", None)
        if frag is not None and frag not in self.joined:
            return None
        r2 = r2 if r2 is not None else 1 << 30
        c2 = c2 if c2 is not None else 1 << 30
        for (r, c), t in self.text.items():  # dict keeps row-major order
            if r > r2:
                break
            if r >= r1 and c1 <= c <= c2 and pred(t):
                return r, c
        return None

    def has(self, frag: str) -> bool:
        return frag in self.joined

    def t(self, r: int, c: int) -> str:
        return self.text.get((r, c), "")

    def label(self, r: int, c: int) -> str:
        """Normalised text without a leading enumerator ("1、", "(二)") or "其中：": for row labels."""
        v = self.sg.value(r, c)
        return _row_label(v) if isinstance(v, str) else ""


@lru_cache(maxsize=8192)
def _row_label(v: str) -> str:
    return norm_label(_ENUM.sub("", clean_text(v), count=1))


def _contains(frag):
    def pred(t):
        return frag in t

    pred.frag = frag  # lets find() skip a sheet that lacks it
    return pred


def _starts(frag):
    def pred(t):
        return t.startswith(frag)

    pred.frag = frag
    return pred


def _official_order(cols: dict[str, int], order: list[str], label_col: int) -> list[str]:
    """Fill columns whose header was not recognised with the official form's position; returns them."""
    used = set(cols.values())
    missing = []
    for i, k in enumerate(order, start=1):
        if k not in cols and label_col + i not in used:
            cols[k] = label_col + i
            used.add(label_col + i)
            missing.append(k)
    return missing


def _header_cols(sh: _Sheet, rows, preds, max_col: int | None = None) -> tuple[int | None, dict[str, int], dict[str, str]]:
    """Best header row among `rows` and attr -> column. preds: [(attr, predicate)] tried in order per column,
    each column used once; an empty cell under a header merged down from above takes the merge's text."""
    best, best_row, best_cols, best_txt = -1, None, {}, {}
    for r in rows:
        if r < 1:
            continue
        cols: dict[str, int] = {}
        txts: dict[str, str] = {}
        for c in range(1, (max_col or sh.sg.max_col) + 1):
            t = sh.t(r, c)
            if not t:
                top = sh.sg.merge_top(r, c)
                if top is not None and top[0] < r:
                    t = sh.t(*top)
            if not t:
                continue
            for attr, pred in preds:
                if attr not in cols and pred(t):
                    cols[attr] = c
                    txts[attr] = t
                    break
        if len(cols) > best and cols:
            best, best_row, best_cols, best_txt = len(cols), r, cols, txts
    return best_row, best_cols, best_txt


def _split_years(cols: dict[str, int], txts: dict[str, str], pair: tuple[str, str], found: list[tuple[int, str]],
                 default_first: str) -> None:
    """Two 决算数 columns: the earlier year (or '上年') is prev; otherwise table order decides."""
    cur, prev = pair
    if not found:
        return
    if len(found) == 1:
        c, t = found[0]
        key = prev if "上年" in t else cur
        cols[key], txts[key] = c, t
        return
    (c1, t1), (c2, t2) = found[0], found[1]
    y1, y2 = _YEAR.search(t1), _YEAR.search(t2)
    if "上年" in t1 or "上年" in t2:
        first_is_prev = "上年" in t1
    elif y1 and y2 and y1.group(1) != y2.group(1):
        first_is_prev = y1.group(1) < y2.group(1)
    else:
        first_is_prev = default_first == prev
    a, b = ((c1, t1), (c2, t2)) if first_is_prev else ((c2, t2), (c1, t1))
    cols[prev], txts[prev] = a
    cols[cur], txts[cur] = b


def _amount_cols(sh: _Sheet, rows, with_diffs: bool, default_first: str):
    """Columns of 决算/预算 tables. Returns (header_row, cols, texts)."""
    found: list[tuple[int, str]] = []

    def is_actual(t):
        return "决算" in t and "增减" not in t

    preds = []
    if with_diffs:
        preds += [
            ("diff_budget", lambda t: "比预算" in t or ("预算" in t and "增减" in t)),
            ("diff_prev", lambda t: "比上年" in t or ("上年" in t and "增减" in t and "%" not in t)),
            ("pct", lambda t: "%" in t or "增减率" in t or "增长率" in t),
        ]
    preds += [("_actual1", is_actual), ("_actual2", is_actual), ("budget", lambda t: "预算" in t and "增减" not in t)]
    hr, cols, txts = _header_cols(sh, rows, preds)
    for k in ("_actual1", "_actual2"):
        if k in cols:
            found.append((cols.pop(k), txts.pop(k)))
    found.sort()
    _split_years(cols, txts, ("actual", "prev"), found, default_first)
    return hr, cols, txts


_FOOTER_LABELS = (
    ("preparer", re.compile(r"填\s*表\s*人\s*[:：]?")),
    ("date", re.compile(r"填\s*报\s*日\s*期\s*[:：]?|填\s*表\s*日\s*期\s*[:：]?")),
    ("phone", re.compile(r"联\s*系\s*电\s*话\s*[:：]?|电\s*话\s*[:：]")),
    ("signature", re.compile(r"单\s*位\s*负\s*责\s*人\s*(?:签\s*字|签\s*章|签\s*名)?\s*[:：]?")),
)
_INCOME_LABELS = (
    ("income_general", re.compile(r"(?:其中\s*[:：]?\s*)?一般公共预算(?:拨款|资金|收入)?\s*[:：]?")),
    ("income_gov_fund", re.compile(r"政府性基金(?:预算)?(?:拨款|资金|收入)?\s*[:：]?")),
    ("income_special", re.compile(r"纳入专户管理的非税收入(?:拨款)?\s*[:：]?|非税收入(?:拨款)?\s*[:：]?")),
    ("income_other", re.compile(r"其他资金\s*[:：]?|其他收入\s*[:：]?")),
)
_EXP_LABELS = (
    ("exp_basic", re.compile(r"(?:其中\s*[:：]?\s*)?基本支出\s*[:：]?")),
    ("exp_project", re.compile(r"项目支出\s*[:：]?")),
)


def _segments(text: str, labels) -> list[tuple[str, str, bool]]:
    """[(attr, value text, is_last)] for every label in a cell's text ('填表人： 周旭  填报日期：…')."""
    hits = []
    for attr, rx in labels:
        m = rx.search(text)
        if m:
            hits.append((m.start(), m.end(), attr))
    hits.sort()
    out = []
    for i, (s, e, attr) in enumerate(hits):
        end = hits[i + 1][0] if i + 1 < len(hits) else len(text)
        out.append((attr, text[e:end].strip(" \t\r\n:：\u3000"), i + 1 == len(hits)))
    return out


def _is_label(sh: _Sheet, r: int, c: int, labels) -> bool:
    v = sh.sg.value(r, c)
    if not isinstance(v, str):
        return False
    t = clean_text(v)
    return any(rx.search(t) for _, rx in labels)


def _right_value(sh: _Sheet, r: int, c: int, labels, c_end: int | None = None):
    """The first non-blank cell right of (r, c) that is not itself a label, before c_end."""
    last = min(c_end or sh.sg.max_col, sh.sg.max_col)
    for cc in range(c + 1, last + 1):
        top = sh.sg.merge_top(r, cc)
        if top is not None and top != (r, cc):
            continue  # covered by a merge (often the label's own merge)
        v = sh.sg.value(r, cc)
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        if _is_label(sh, r, cc, labels):
            return None
        return r, cc
    return None


def _labeled(sh: _Sheet, rows, labels, kinds: dict[str, str], got: dict[str, Value],
             c_limit: dict[str, int] | None = None) -> None:
    """Values typed inside label cells or right beside them."""
    sg = sh.sg
    for r in rows:
        for c in range(1, sg.max_col + 1):
            v = sg.value(r, c)
            if not isinstance(v, str):
                continue
            text = clean_text(v)
            for attr, seg, is_last in _segments(text, labels):
                if attr in got:
                    continue
                loc = Loc(sg.name, a1(r, c))
                if seg:
                    got[attr] = parse_cell(seg, kinds[attr], loc=loc)
                    continue
                if is_last:
                    rc = _right_value(sh, r, c, labels, (c_limit or {}).get(attr))
                    if rc is not None:
                        got[attr] = _cell_value_any(sh, rc[0], rc[1], kinds[attr])
                        continue
                got[attr] = Value(Kind.EMPTY, loc=loc)


def _cell_value_any(sh: _Sheet, r: int, c: int, kind: str, hint: bool = False) -> Value:
    sg = sh.sg
    if not sg.formulas:  # values-only readers: _cell_value's short way, one call shorter
        return _plain(sh.grid, sg, r, c, kind, loc(sg.name, r, c), hint)
    return _cell_value(sh.grid, sg, r, c, kind, None, hint)


# Sheets our writers add to a checked workbook (校验结果, the hidden 校验标记 ledger): never part of the form.
_OUR_SHEETS = (L.SHEET_RESULT, "校验标记", L.SHEET_SETTINGS)


def _roles(grid: Grid) -> dict[str, _Sheet]:
    sheets = [_Sheet(grid, sg) for name, sg in grid.sheets.items() if name.strip() not in _OUR_SHEETS]
    out = {}
    for role, marks in _ROLE_MARKS.items():
        best, score = None, 0
        for sh in sheets:
            s = sum(1 for m in marks if m in sh.short)
            if s > score:
                best, score = sh, s
        if best is not None and score >= (2 if role != L.SHEET_SG else 1):
            out[role] = best
    return out


def map_anchors(grid: Grid, form: Form) -> None:
    roles = _roles(grid)
    if not roles or not any(r in roles for r in (L.SHEET_SG, L.SHEET_BASIC, L.SHEET_SELF)):
        raise ReadError(form.source, "未找到绩效自评表的标志性标签：" + "、".join(MUST_FIND)
                        + "（不是部门整体支出绩效自评表）")
    for role, sh in roles.items():
        form.sheet_names[role] = sh.sg.name
    for role in (L.SHEET_SG, L.SHEET_BASIC, L.SHEET_SELF):
        if role not in roles:
            form.read_notes.append(f"未找到{role}（按标签查找）")
    # Row ranges when several tables share one sheet: each table ends where the next one starts.
    starts: dict[str, int] = {}
    for role, frags in ((L.SHEET_SG, ("因公出国经费",)), (L.SHEET_BASIC, ("财政供养人员", "经费控制情况")),
                        (L.SHEET_SELF, ("年度资金总额",))):
        sh = roles.get(role)
        if sh is None:
            continue
        hits = [sh.find(_contains(f)) for f in frags]
        hits = [h[0] for h in hits if h]
        starts[role] = min(hits) if hits else 1

    def span(role):
        sh = roles[role]
        s = starts.get(role, 1)
        ends = [starts[o] - 1 for o in starts if o != role and roles[o] is sh and starts[o] > s]
        return s, min(ends) if ends else sh.sg.max_row

    if L.SHEET_SG in roles:
        _three_public(roles[L.SHEET_SG], span(L.SHEET_SG), form)
    if L.SHEET_BASIC in roles:
        _basic(roles[L.SHEET_BASIC], span(L.SHEET_BASIC), form)
    if L.SHEET_SELF in roles:
        _self_eval(roles[L.SHEET_SELF], span(L.SHEET_SELF), form)
    if L.SHEET_NARRATIVE in roles:
        _narrative(roles[L.SHEET_NARRATIVE], form)
    _unit_and_year(roles, form)


# ---- (a) 三公经费情况表 ------------------------------------------------------------
_SG_ROWS = (("abroad", "因公出国"), ("car", "公务用车"), ("reception", "公务接待"), ("total", "合计"), ("total", "总计"))
_SG_COL_NAMES = {"actual": "本年决算数", "budget": "本年预算数", "diff_budget": "比预算增减数", "prev": "上年决算数",
                 "diff_prev": "比上年增减数", "pct": "增减%"}
_SG_KINDS = {"actual": L.AMOUNT, "budget": L.AMOUNT, "diff_budget": L.SIGNED, "prev": L.AMOUNT,
             "diff_prev": L.SIGNED, "pct": L.PERCENT}


def _three_public(sh: _Sheet, span, form: Form) -> None:
    r0, r_end = span
    first = sh.find(_contains("因公出国"), r0, r_end)
    if first is None:
        form.read_notes.append("三公经费情况表：未找到“因公出国经费”行")
        return
    label_col = first[1]
    hr, cols, txts = _amount_cols(sh, range(first[0] - 1, first[0] - 5, -1), True, "actual")
    missing = _official_order(cols, list(_SG_KINDS), label_col)
    for k in missing:
        txts[k] = ""
    if missing:  # headers unreadable (e.g. formula text lost in .xls): the official column order
        form.read_notes.append("三公经费情况表：未识别列 " + "、".join(_SG_COL_NAMES[k] for k in missing)
                               + "，按官方表样的列顺序读取")
    seen = set()
    for r in range(first[0], r_end + 1):
        t = sh.label(r, label_col)
        for key, frag in _SG_ROWS:
            if key not in seen and t.startswith(frag):
                seen.add(key)
                for col, c in cols.items():
                    v = _cell_value_any(sh, r, c, _SG_KINDS[col], hint=(col == "pct" and "%" in txts[col]))
                    assign(form, f"sg_{key}_{col}", v)
                break
        if "total" in seen:
            break
    for key, frag in _SG_ROWS[:4]:
        if key not in seen:
            form.read_notes.append(f"三公经费情况表：未找到“{frag}”行")


# ---- (b) 基础数据表 ------------------------------------------------------------------
_BD_SG = (("bd_sg_total", _starts("三公经费")), ("bd_car_purchase", _starts("公车购置")),
          ("bd_car_maintenance", _starts("公车运行")), ("bd_car", _starts("公务用车")),
          ("bd_abroad", _contains("出国")), ("bd_reception", _contains("公务接待")))
_BD_PUBLIC = (("public_office", lambda t: "办公费" in t or "办公经费" in t),
              ("public_utilities_travel", lambda t: "水费" in t or "电费" in t or "差旅费" in t),
              ("public_meetings_training", lambda t: "会议费" in t or "培训费" in t),
              ("procurement", _contains("政府采购")),
              ("basic_adjustment", _contains("预算调整")))
_BUILDING = (("building_area_rate", _contains("规模控制率")), ("building_investment_rate", _contains("概算控制率")),
             ("building_approved_area", _contains("批复规模")), ("building_actual_area", _contains("实际规模")),
             ("building_budget_investment", _contains("预算投资")),
             ("building_actual_investment", _contains("实际投资")))
_BUILDING_KINDS = {"building_area_rate": L.PERCENT, "building_investment_rate": L.PERCENT,
                   "building_approved_area": L.AREA, "building_actual_area": L.AREA,
                   "building_budget_investment": L.AMOUNT, "building_actual_investment": L.AMOUNT}


def _basic(sh: _Sheet, span, form: Form) -> None:
    sg = sh.sg
    r0, r_end = span
    # 财政供养人员情况: header with 编制数, the numbers on the next filled row.
    st = sh.find(_contains("编制"), r0, r_end)
    if st is not None:
        hr, cols, _ = _header_cols(sh, (st[0],), [("quota", _contains("编制")), ("actual", _contains("在职")),
                                                  ("rate", _contains("控制率"))])
        lab = sh.find(_contains("财政供养"), st[0], st[0])
        missing = _official_order(cols, ["quota", "actual", "rate"], lab[1] if lab else st[1] - 1)
        if missing:
            form.read_notes.append("基础数据表：未识别列 " + "、".join(
                {"quota": "编制数", "actual": "实际在职人数", "rate": "控制率"}[k] for k in missing)
                + "，按官方表样的列顺序读取")
        for r in range(hr + 1, min(hr + 4, r_end) + 1):
            if any(sg.value(r, c) is not None for c in cols.values()):
                kinds = {"quota": L.COUNT, "actual": L.COUNT, "rate": L.PERCENT}
                for k, c in cols.items():
                    assign(form, f"staff_{k}", _cell_value_any(sh, r, c, kinds[k]))
                break
    else:
        form.read_notes.append("基础数据表：未找到“编制数”")

    ctl = sh.find(_contains("经费控制情况"), r0, r_end)
    if ctl is None:
        ctl = sh.find(_starts("三公经费"), r0, r_end)
        if ctl is None:
            form.read_notes.append("基础数据表：未找到“经费控制情况”")
            return
        ctl = (ctl[0] - 1, ctl[1])
    label_col = ctl[1]
    hr, cols, _ = _amount_cols(sh, range(ctl[0] + 1, ctl[0] - 3, -1), False, "prev")
    hr = hr or ctl[0]
    missing = _official_order(cols, ["prev", "budget", "actual"], label_col)
    if missing:  # the official order 上年决算数 · 本年预算数 · 本年决算数
        form.read_notes.append("基础数据表：未识别列 " + "、".join(
            {"prev": "上年决算数", "budget": "本年预算数", "actual": "本年决算数"}[k] for k in missing)
            + "，按官方表样的列顺序读取")

    def row_values(key, r, skip_prev=False, kind=L.AMOUNT):
        for col, c in cols.items():
            if skip_prev and col == "prev":
                continue
            assign(form, f"{key}_{col}", _cell_value_any(sh, r, c, kind))

    phase = "sg"
    done: set[str] = set()
    projects = form.basic.projects
    first_proj = last_proj = None
    foot = sh.find(_contains("填表人"), ctl[0], r_end)
    footer_row = foot[0] if foot else None
    for r in range((hr or ctl[0]) + 1, footer_row if footer_row else r_end + 1):
        raw_t = sh.t(r, label_col)
        t = sh.label(r, label_col)
        if phase == "sg":
            if t.startswith("项目支出"):
                row_values("bd_projects_total", r)
                phase, first_proj = "projects", r + 1
                continue
            for key, pred in _BD_SG:
                if key not in done and pred(t):
                    done.add(key)
                    row_values(key, r)
                    break
        elif phase == "projects":
            nxt = sh.label(r + 1, label_col)
            if raw_t.startswith("公用经费") or ("公用经费" in raw_t and ("办公费" in nxt or "办公经费" in nxt)):
                row_values("public_total", r)
                phase = "public"
                continue
            last_proj = r
            name = _cell_value_any(sh, r, label_col, L.TEXT)
            row = AmountRow(name.text or "", name=name, row=r)
            for col in ("prev", "budget", "actual"):
                if col in cols:
                    setattr(row, col, _cell_value_any(sh, r, cols[col], L.AMOUNT))
            has_amount = any(getattr(row, k).kind not in (Kind.EMPTY, Kind.NA) for k in ("prev", "budget", "actual"))
            if row.is_blank() or (not has_amount and is_placeholder(name.text)):
                continue
            projects.append(row)
        else:
            if "楼堂馆所" in t:
                _building(sh, r, r_end, form)
                continue
            if "厉行节约" in t:
                rc = _right_value(sh, r, label_col, ())
                assign(form, "frugality", _cell_value_any(sh, *rc, L.LONGTEXT) if rc
                       else Value(Kind.EMPTY, loc=Loc(sg.name, a1(r, label_col + 1))))
                continue
            for key, pred in _BD_PUBLIC:
                if key not in done and pred(t):
                    done.add(key)
                    signed = key == "basic_adjustment"
                    row_values(key, r, skip_prev=key in ("procurement", "basic_adjustment"),
                               kind=L.SIGNED if signed else L.AMOUNT)
                    break
    if first_proj is None:
        form.read_notes.append("基础数据表：未找到“项目支出”行")
    else:
        last = last_proj if last_proj is not None else first_proj
        c_last = max(cols.values()) if cols else label_col
        form.basic.projects_region = (Loc(sg.name, a1(first_proj, label_col)), Loc(sg.name, a1(last, c_last)))
    if phase != "public":
        form.read_notes.append("基础数据表：未找到“公用经费”行")
    if footer_row is not None:
        got: dict[str, Value] = {}
        _labeled(sh, range(footer_row, min(footer_row + 2, r_end) + 1), _FOOTER_LABELS, _FOOTER_KINDS, got)
        for k, v in got.items():
            assign(form, f"bd_{k}", v)
    else:
        form.read_notes.append("基础数据表：未找到“填表人”")


_FOOTER_KINDS = {"preparer": L.TEXT, "date": L.DATE, "phone": L.PHONE, "signature": L.TEXT}


def _building(sh: _Sheet, r: int, r_end: int, form: Form) -> None:
    _, cols, _ = _header_cols(sh, (r,), list(_BUILDING))
    if r + 1 <= r_end:  # the figures stand on the row under the header
        for key, c in cols.items():
            assign(form, key, _cell_value_any(sh, r + 1, c, _BUILDING_KINDS[key]))


# ---- (c) 绩效自评表 ------------------------------------------------------------------
_FUNDS_PREDS = [
    ("funds_initial", _contains("年初")),
    ("execution_rate", _contains("执行率")),
    ("funds_actual", lambda t: "执行数" in t or "决算" in t),
    ("funds_budget", lambda t: "预算数" in t or "调整后预算" in t),
    ("funds_points", _contains("分值")),
    ("execution_score", _contains("得分")),
]
_FUNDS_KINDS = {"funds_initial": L.AMOUNT, "funds_budget": L.AMOUNT, "funds_actual": L.AMOUNT,
                "funds_points": L.POINTS, "execution_rate": L.PERCENT, "execution_score": L.POINTS}
_IND_PREDS = [
    ("level1", _contains("一级指标")), ("level2", _contains("二级指标")), ("name", _contains("三级指标")),
    ("target", lambda t: "指标值" in t or "目标值" in t), ("actual", _contains("完成值")),
    ("reason", _contains("偏差")), ("score", _contains("得分")), ("points", _contains("分值")),
]


def _self_eval(sh: _Sheet, span, form: Form) -> None:
    sg = sh.sg
    r0, r_end = span
    fr = sh.find(_contains("年度资金总额"), r0, r_end)
    if fr is None:
        form.read_notes.append("绩效自评表：未找到“年度资金总额”")
        return
    hr, cols, txts = _header_cols(sh, range(fr[0] - 1, fr[0] - 4, -1), _FUNDS_PREDS)
    for key, kind in _FUNDS_KINDS.items():
        if key in cols:
            assign(form, key, _cell_value_any(sh, fr[0], cols[key], kind,
                                              hint=key == "execution_rate" and "%" in txts[key]))
        else:
            form.read_notes.append(f"绩效自评表：未找到列“{dict(_FUNDS_PREDS_LABELS)[key]}”")

    goal = sh.find(_contains("年度总体目标"), fr[0] + 1, r_end)
    perf = sh.find(lambda t: "一级指标" in t, fr[0] + 1, r_end)
    stop = (goal or perf or (r_end + 1, 0))[0] - 1
    # 按收入性质 / 按支出性质: values typed in the label cell or right beside it.
    split = sh.find(_contains("按支出性质"), fr[0] + 1, stop)
    limit = {k: (split[1] - 1 if split else None) for k, _ in _INCOME_LABELS}
    got: dict[str, Value] = {}
    kinds = {k: L.AMOUNT for k, _ in _INCOME_LABELS + _EXP_LABELS}
    _labeled(sh, range(fr[0] + 1, stop + 1), _INCOME_LABELS + _EXP_LABELS, kinds, got, limit)
    for k, _ in _INCOME_LABELS + _EXP_LABELS:
        if k in got:
            assign(form, k, got[k])
        else:
            form.read_notes.append(f"绩效自评表：未找到“{_INLINE_NAMES[k]}”")

    if goal is not None:
        ghr, gcols, _ = _header_cols(sh, (goal[0],), [("goal_expected", _contains("预期目标")),
                                                      ("goal_actual", _contains("实际完成"))])
        end = (perf[0] - 1) if perf else min(goal[0] + 3, r_end)
        for key, c in gcols.items():
            for r in range(goal[0] + 1, end + 1):
                if sg.value(r, c) is not None:
                    assign(form, key, _cell_value_any(sh, r, c, L.LONGTEXT))
                    break
    else:
        form.read_notes.append("绩效自评表：未找到“年度总体目标”")

    if perf is None:
        form.read_notes.append("绩效自评表：未找到“一级指标”表头")
        return
    ihr, icols, _ = _header_cols(sh, (perf[0],), _IND_PREDS)
    total = sh.find(lambda t: t.startswith("总分") or t == "合计", ihr + 1, r_end)
    last = (total[0] - 1) if total else r_end
    if total is None:
        form.read_notes.append("绩效自评表：未找到“总分”行")
    indicator_rows(sh.grid, sg, range(ihr + 1, last + 1), icols, form, ihr + 1)
    c1 = min(icols.values()) if icols else 1
    c2 = max(icols.values()) if icols else sg.max_col
    form.self_eval.indicators_region = (Loc(sg.name, a1(ihr + 1, c1)), Loc(sg.name, a1(last, c2)))
    if total is None:
        return
    tr = total[0]
    pts_c, sc_c = icols.get("points"), icols.get("score")
    pv = _cell_value_any(sh, tr, pts_c, L.POINTS) if pts_c else Value()
    sv = _cell_value_any(sh, tr, sc_c, L.POINTS) if sc_c else Value()
    if not pv and not sv:  # values not under their headers: take the numbers right of the label in order
        nums = [c for c in range(total[1] + 1, sg.max_col + 1) if sg.value(tr, c) is not None]
        if nums:
            pv = _cell_value_any(sh, tr, nums[0], L.POINTS)
        if len(nums) > 1:
            sv = _cell_value_any(sh, tr, nums[1], L.POINTS)
    assign(form, "points_total", pv)
    assign(form, "total_score", sv)
    if "reason" in icols:
        g = _cell_value_any(sh, tr, icols["reason"], L.TEXT)
        if g.kind is Kind.TEXT and g.text in ("优", "良", "中", "差"):
            assign(form, "grade", g)
    foot = sh.find(_contains("填表人"), tr + 1, r_end)
    if foot is not None:
        got = {}
        _labeled(sh, range(foot[0], min(foot[0] + 1, r_end) + 1), _FOOTER_LABELS, _FOOTER_KINDS, got)
        for k, v in got.items():
            assign(form, f"se_{k}", v)
    else:
        form.read_notes.append("绩效自评表：未找到“填表人”")


_FUNDS_PREDS_LABELS = (("funds_initial", "年初预算数"), ("execution_rate", "执行率"), ("funds_actual", "全年执行数"),
                       ("funds_budget", "全年预算数"), ("funds_points", "分值"), ("execution_score", "得分"))
_INLINE_NAMES = {"income_general": "一般公共预算", "income_gov_fund": "政府性基金拨款",
                 "income_special": "纳入专户管理的非税收入拨款", "income_other": "其他资金",
                 "exp_basic": "基本支出", "exp_project": "项目支出"}


# ---- 报告正文, unit name and year --------------------------------------------------------
def _narrative(sh: _Sheet, form: Form) -> None:
    form.narrative = form.narrative or Narrative()
    wanted = [(key, norm_label(re.sub(r"[（(].*$", "", label)), kind) for key, label, kind in L.NARRATIVE_FIELDS]
    done = set()
    for (r, c), t in sh.text.items():
        for key, lab, kind in wanted:
            if key not in done and t.startswith(lab):
                rc = _right_value(sh, r, c, ())
                if rc is not None:
                    done.add(key)
                    assign(form, key, _cell_value_any(sh, rc[0], rc[1], kind))
                break


_UNIT_NAME = re.compile(r"单位\)?名称")
_UNITS_NOTE = re.compile(r"^(?:金额)?单位\s*[:：]\s*(?:万元|元|千元|亿元)")
_UNIT_LABELS = (("unit", re.compile(r"(?:预算)?部门[、（(]?单位[）)]?名称\s*[:：]?|编报单位\s*[:：]?|填报单位\s*[:：]?|"
                                   r"单位名称\s*[:：]?")),)


def _unit_and_year(roles: dict[str, _Sheet], form: Form) -> None:
    order = [roles[r] for r in (L.SHEET_SG, L.SHEET_BASIC, L.SHEET_SELF) if r in roles]
    got_unit: dict[str, Value] = {}
    for sh in order:
        hit = sh.find(lambda t: "编报单位" in t or "填报单位" in t)
        if hit:
            _labeled(sh, (hit[0],), _UNIT_LABELS, {"unit": L.TEXT}, got_unit)
            if got_unit.get("unit") and got_unit["unit"].kind is Kind.TEXT and not _UNITS_NOTE.match(
                    got_unit["unit"].text):
                break
            got_unit.clear()
    self_unit: dict[str, Value] = {}
    if L.SHEET_SELF in roles:
        sh = roles[L.SHEET_SELF]
        hit = sh.find(lambda t: _UNIT_NAME.search(t) is not None)
        if hit:
            _labeled(sh, (hit[0],), _UNIT_LABELS, {"unit": L.TEXT}, self_unit)
            if self_unit.get("unit") is not None and _UNITS_NOTE.match(self_unit["unit"].text or ""):
                del self_unit["unit"]  # the name cell is blank: the next cell is the table's "单位：万元"
    if "unit" in self_unit:
        form.self_eval.unit_name = self_unit["unit"]
    unit = got_unit.get("unit") or self_unit.get("unit")
    if unit is not None:
        form.unit_name = unit
    else:
        form.read_notes.append("未找到“预算部门、单位名称”或“编报单位”")
    # Year: a title like "2024年度部门整体支出绩效自评表"; the self-evaluation's title first.
    best = None
    for sh in order:
        for (r, c), t in sh.text.items():
            if len(t) > 40 or not t[:1].isdigit():
                continue
            m = _TITLE_YEAR.match(t)
            if m and ("表" in t or "报告" in t):
                rank = 0 if "自评" in t else 1
                if best is None or rank < best[0]:
                    best = (rank, sh, r, c, m.group(1))
        if best is not None and best[0] == 0:
            break
    if best is not None:
        _, sh, r, c, y = best
        form.year = Value(Kind.NUMBER, number=Decimal(y), raw=sh.sg.value(r, c), loc=loc(sh.sg.name, r, c))
        return
    yr: dict[str, Value] = {}
    for sh in order:
        hit = sh.find(lambda t: t == "年度" or t == "评价年度")
        if hit:
            _labeled(sh, (hit[0],), _YEAR_LABELS, {"year": L.YEAR}, yr)
            if yr.get("year") is not None and yr["year"].kind is Kind.NUMBER:
                form.year = yr["year"]
                return
            yr.clear()
    form.read_notes.append("未找到标题中的年度（如“2024年度部门整体支出绩效自评表”）")


_YEAR_LABELS = (("year", re.compile(r"(?:评价)?年度\s*[:：]?")),)
