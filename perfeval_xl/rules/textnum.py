"""Numbers typed as text in our template, and what the template's formulas then show (PE416).

Our reader reads "195万元", "２．００" or "1,020.00" as the number the clerk meant; Excel does not:
- SUM (and COUNT) skip text: a total is short by the amount;
- N(text) is 0: the rate formulas guarded by IF(N(x)=0, "", ...) show a blank (执行率 and 得分 with it);
- + − ÷ convert the text when they can ("1,020.00") and show #VALUE! when they cannot ("195万元");
- a plain reference (基础数据表 出国经费 = 三公经费表 B4) copies the text.

text_effects() follows each text number through the template's formulas (the layout's formulas, written
here over the form model so that inserted rows do not matter) and gives
- for each text cell: the level and the clause PE416 reports (what Excel shows, which total is short);
- the formula Values whose shown result the text changes ("tainted"): the identity checks through them
  (PE1xx, PE201/202/207/208/209/210, PE3xx on totals, PE502/503/504) stay silent, since PE416 names the
  one cause at the cell to fix, instead of blaming totals the clerk got right.
Only for our template (Form.template_version): in a typed 原表 there are no formulas, and the identities
are checked with the numbers as read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from ..findings import Severity
from ..model import Form, Value
from .base import NUMBER, Ctx, amt

# states of a cell as Excel shows it
OK, CONV, BAD, WRONG, BLANK, ERROR = range(6)
# CONV: text that Excel's + − ÷ can convert ("1,020.00"); BAD: text they cannot ("195万元", full-width)
# WRONG: a number, but not the one meant (a total that skipped a text); BLANK: "" or "—"; ERROR: #VALUE!

_CONVERTIBLE = re.compile(r"^ *[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?%? *$")
_LETTERS = re.compile(r"[^\d\s\u3000０-９.,，．。%％+\-－]")


@dataclass(slots=True)
class Node:
    target: Value
    op: str  # sum | arith | copy | rate | score | total | grade
    args: tuple[Value, ...]
    label: str
    is_total: bool = False


@dataclass
class Note:
    severity: Severity
    clause: str  # what Excel shows, e.g. "Excel 求和时按 0 计，项目支出合计·本年决算数少算 195.00"
    advice: str


@dataclass
class TextEffects:
    tainted: frozenset[int] = frozenset()
    notes: dict[int, Note] = field(default_factory=dict)  # id(text cell) -> its PE416


NO_EFFECTS = TextEffects()

_COLS = (("actual", "本年决算数"), ("budget", "本年预算数"), ("prev", "上年决算数"))
_BD_COLS = (("prev", "上年决算数"), ("budget", "本年预算数"), ("actual", "本年决算数"))


def graph(form: Form) -> list[Node]:
    """The template's formulas over the model, in an order where every operand comes first."""
    tp, b, se = form.three_public, form.basic, form.self_eval
    f = se.funds
    out: list[Node] = []
    add = out.append
    for attr, label in _BD_COLS:  # 公务用车购置和维护经费 = 公车购置 + 公车运行维护
        add(Node(getattr(b.car, attr), "arith", (getattr(b.car_purchase, attr), getattr(b.car_maintenance, attr)),
                 f"基础数据表公务用车购置和维护经费·{label}", True))
    for attr, label in _COLS:  # 三公 公务用车运行及购置 = 基础数据表 公车购置 + 公车运行维护
        add(Node(getattr(tp.car, attr), "arith", (getattr(b.car_purchase, attr), getattr(b.car_maintenance, attr)),
                 f"三公经费表公务用车运行及购置·{label}", True))
    for attr, label in _COLS:
        add(Node(getattr(tp.total, attr), "sum", tuple(getattr(x, attr) for x in tp.lines()),
                 f"三公经费表合计·{label}", True))
    for line in (*tp.lines(), tp.total):
        tot = line is tp.total
        add(Node(line.diff_budget, "arith", (line.actual, line.budget), f"三公经费表“{line.label}”比预算增减数", tot))
        add(Node(line.diff_prev, "arith", (line.actual, line.prev), f"三公经费表“{line.label}”比上年增减数", tot))
        add(Node(line.pct, "rate", (line.diff_prev, line.prev), f"三公经费表“{line.label}”增减%", tot))
    for row, line in ((b.abroad, tp.abroad), (b.reception, tp.reception)):  # plain references to table (a)
        for attr, label in _BD_COLS:
            add(Node(getattr(row, attr), "copy", (getattr(line, attr),), f"基础数据表{row.label}·{label}"))
    for attr, label in _BD_COLS:
        add(Node(getattr(b.sg_total, attr), "arith", tuple(getattr(x, attr) for x in (b.car, b.abroad, b.reception)),
                 f"基础数据表三公经费·{label}", True))
        add(Node(getattr(b.projects_total, attr), "sum", tuple(getattr(p, attr) for p in b.projects),
                 f"基础数据表项目支出合计·{label}", True))
    st, bl = b.staffing, b.building
    add(Node(st.rate, "rate", (st.actual, st.quota), "在职人员控制率"))
    add(Node(bl.area_rate, "rate", (bl.actual_area, bl.approved_area), "规模控制率"))
    add(Node(bl.investment_rate, "rate", (bl.actual_investment, bl.budget_investment), "投资概算控制率"))
    add(Node(f.exp_project, "copy", (b.projects_total.actual,), "绩效自评表项目支出", True))
    add(Node(f.execution_rate, "rate", (f.actual, f.budget), "执行率", True))
    add(Node(f.score, "score", (f.execution_rate,), "得分", True))
    inds = se.indicators
    add(Node(se.points_total, "sum", tuple(i.points for i in inds), "分值合计", True))
    add(Node(se.total_score, "total", (f.score, *(i.score for i in inds)), "总分", True))
    add(Node(se.grade, "grade", (se.total_score,), "等级", True))
    return out


def _arith(states) -> int:
    if any(s in (ERROR, BAD, BLANK) for s in states):
        return ERROR  # "" or unconvertible text in + − ÷: #VALUE!
    return WRONG if WRONG in states else OK


def _sum(states) -> int:
    if ERROR in states:
        return ERROR
    return OK if all(s in (OK,) for s in states) else WRONG  # text and "" are skipped


def _eval(op: str, states: list[int]) -> int:
    if op == "sum":
        return _sum(states)
    if op == "arith":
        return _arith(states)
    if op == "copy":
        return states[0]
    if op == "rate":  # IF(N(den)=0, "" or "—", num/den)
        num_, den = states
        if den in (CONV, BAD, BLANK):
            return BLANK
        return _arith((num_, den))
    if op == "score":  # IF(G4="", "", ROUND(MIN(F4, F4*G4), 2))
        return states[0] if states[0] != CONV else OK
    if op == "total":  # N(H4) + SUM(H...)
        h4, rest = states[0], states[1:]
        if h4 == ERROR:
            return ERROR
        return _sum(((WRONG if h4 in (BLANK, WRONG) else OK), *rest))
    if op == "grade":
        return OK if states[0] == OK else (ERROR if states[0] == ERROR else WRONG)
    return OK


def _advice(raw: str) -> str:
    words = "".join(_LETTERS.findall(raw.strip()))
    if words:
        return f"请删去“{words}”等文字，输入数字"
    return "请把单元格设为数值格式，用半角数字重新输入（不带千位分隔符和空格）"


def _labels(nodes: list[Node], limit: int = 4) -> str:
    """Labels joined, a shared “line” prefix written once: 三公经费表“合计”比预算增减数、比上年增减数."""
    names = list(dict.fromkeys(n.label for n in nodes))
    more = len(names) > limit
    out: list[str] = []
    last = None
    for name in names[:limit]:
        head, sep, tail = name.rpartition("”")
        if sep and head == last:
            out.append(tail)
        else:
            out.append(name)
            last = head if sep else None
    return "、".join(out) + ("等" if more else "")


def text_effects(ctx: Ctx) -> TextEffects:
    form = ctx.form
    texts = [v for v in ctx.scan().number_text if v.loc and not v.formula and not v.template_formula]
    if not texts:
        return NO_EFFECTS
    known = form.formulas_known  # openpyxl: a total typed over its formula is the clerk's number, not Excel's
    nodes = [(n, id(n.target), tuple(id(a) for a in n.args)) for n in graph(form)
             if n.target.template_formula and (n.target.formula or not known)]
    tainted: set[int] = set()
    notes: dict[int, Note] = {}
    for v in texts:
        raw = str(v.raw)
        conv = CONV if _CONVERTIBLE.match(raw) else BAD
        st: dict[int, int] = {id(v): conv}
        hit: list[Node] = []
        soft: list[Node] = []
        for n, tid, aids in nodes:
            if not any(a in st for a in aids):
                continue  # every operand as meant: so is the result
            s = _eval(n.op, [st.get(a, OK) for a in aids])
            if s != OK:
                st[tid] = s
                hit.append(n)
            elif n.op in ("arith", "rate") and _direct(n, st):
                soft.append(n)  # + − ÷ that Excel can convert: right in Excel, #VALUE! where it cannot
        notes[id(v)] = _note(ctx, v, raw, conv, st, hit, soft)
        tainted.update(id(n.target) for n in hit)
    return TextEffects(frozenset(tainted), notes)


def _direct(n: Node, st: dict[int, int]) -> bool:
    """The text, or a plain copy of it, is an operand of n (only one text is followed at a time)."""
    return any(st.get(id(a)) in (CONV, BAD) for a in n.args)


def _note(ctx: Ctx, v: Value, raw: str, conv: int, st: dict[int, int], hit: list[Node],
          soft: list[Node]) -> Note:
    clauses: list[str] = []
    said: set[int] = set()
    x = v.number if v.kind is NUMBER else None
    for n in hit:  # SUM skips it: the total is short
        if n.op in ("sum", "total") and _direct(n, st) and st[id(n.target)] == WRONG:
            clauses.append(f"Excel 求和时按 0 计，{n.label}少算 {amt(x)}")
            said.add(id(n.target))
    for n in hit:  # N() reads it as 0: the rate shows blank
        if n.op == "rate" and st[id(n.target)] == BLANK and st.get(id(n.args[1])) in (CONV, BAD):
            if n.label == "执行率":
                from .scores import exec_score_of
                ex = exec_score_of(ctx)
                tail = f"，总分少算 {amt(ex)}" if ex is not None else "，总分随之少算"
                clauses.append(f"执行率公式把它当作 0，执行率和得分显示为空白{tail}")
                said.update(id(m.target) for m in hit if m.label in ("执行率", "得分", "总分", "等级"))
            else:
                shows = "“—”" if "增减%" in n.label else "空白"
                clauses.append(f"{n.label}公式把它当作 0，显示为{shows}")
            said.add(id(n.target))
    errors = [n for n in hit if st[id(n.target)] == ERROR and id(n.target) not in said]
    if errors:
        how = "显示 #VALUE!" if _LETTERS.search(raw) else "在 Excel 无法换算时显示 #VALUE!"
        clauses.append(f"{_labels(errors)}{how}")
        said.update(id(n.target) for n in errors)
    if soft and conv == CONV:
        clauses.append(f"{_labels(soft)}的公式要先把文本换算成数字，换算不了时显示 #VALUE!")
    rest = [n for n in hit if id(n.target) not in said and n.is_total]
    if rest and clauses:
        clauses.append(f"并影响{_labels(rest)}")
    if any(n.is_total for n in hit):
        sev = Severity.ERROR
    elif hit or soft:
        sev = Severity.WARNING
    else:
        sev = Severity.INFO
    if not clauses:
        clauses.append("模板公式没有引用它，本工具按数字读取；在 Excel 中求和时会按 0 计")
    return Note(sev, "；".join(clauses), _advice(raw))

