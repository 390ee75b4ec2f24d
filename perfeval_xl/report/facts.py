"""The numbers a 自评报告 states, taken from the form model once, for both the writer and the checker.

A workbook written by openpyxl carries formulas without cached values; then a derived
figure (三公合计, 项目支出合计, 执行率 ...) is recomputed from its parts by the template's
own identity, and still points at the formula cell.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from .. import scoring
from ..model import Form, Kind, Loc, Value

CENT = Decimal("0.01")
ZERO = Decimal(0)

# Texts meaning "none" in the 有无 cells of 报告正文.
NONE_WORDS = ("无", "否", "没有", "不涉及")
YES_WORDS = ("有", "是")


@dataclass(slots=True)
class Fact:
    """One number of the workbook the report restates."""

    key: str
    label: str  # Chinese, for messages: "“三公”经费合计（本年决算数）"
    value: Decimal | None
    loc: Loc | None = None
    unit: str = "万元"  # 万元 | 人 | % | 分
    derived: bool = False  # recomputed because the formula cell had no cached value
    readable: bool = True  # False: the reader found no such cell, or could not read it (not the report's fault)

    @property
    def where(self) -> str:
        return str(self.loc) if self.loc else "工作簿"

    def text(self) -> str:
        return fmt_percent(self.value) if self.unit == "%" else fmt_amount(self.value)


@dataclass(slots=True)
class ProjectFact:
    index: int  # line number in the list, 1-based
    name: str  # cleaned: "行政运行" (the "1、" prefix and line breaks removed)
    raw_name: str
    prev: Fact
    budget: Fact
    actual: Fact
    loc: Loc | None = None  # the name cell


@dataclass(slots=True)
class Facts:
    year: int | None
    department: str  # 部门（单位）名称
    values: dict[str, Fact] = field(default_factory=dict)
    projects: list[ProjectFact] = field(default_factory=list)
    none_statements: dict[str, bool | None] = field(default_factory=dict)  # gov_fund/state_capital/social_insurance
    grade: str = ""  # 等级 as stated; recomputed when the cell is a formula without a cached value

    def __getitem__(self, key: str) -> Fact:
        return self.values[key]

    def get(self, key: str) -> Decimal | None:
        f = self.values.get(key)
        return f.value if f else None


# ---- formatting ---------------------------------------------------------------------------------------

def round2(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt_amount(x: Decimal | None) -> str:
    """As the seed prints amounts: 2 decimals at most, no trailing zeros ("21.6", "5", "3527.66")."""
    if x is None:
        return ""
    s = format(round2(x), "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def fmt_percent(ratio: Decimal | None, sign: bool = True) -> str:
    """A ratio as the seed prints it: 0.9596 -> "95.96%"; sign=False gives "95.96" (增减% columns)."""
    if ratio is None:
        return ""
    s = fmt_amount(ratio * 100)
    return s + "%" if sign else s


def fmt_fixed(x: Decimal | None) -> str:
    """As the template's cells show amounts, 分值 and 得分 (number format 0.00): "20.00", "-36.10", "9.60".
    For the report's tables; the prose keeps the seed's style (`fmt_amount`)."""
    if x is None:
        return ""
    s = format(round2(x), "f")
    return "0.00" if s == "-0.00" else s


def fmt_percent_fixed(ratio: Decimal | None) -> str:
    """As the template's cells show ratios (number format 0.00%): 0.375 -> "37.50%"."""
    if ratio is None:
        return ""
    return fmt_fixed(ratio * 100) + "%"


def clean_name(text: str | None) -> str:
    """A project name without its list number and line breaks: "4、\\n2020年度…" -> "2020年度…"."""
    t = re.sub(r"\s+", "", text or "")
    t = re.sub(r"^[（(]?\d{1,3}[)）]?[、.．,，]", "", t)
    return t


def plain(v: Value) -> str:
    """Text of a cell as written, trimmed of the ordinary and full-width spaces clerks leave."""
    if isinstance(v.raw, str) and v.kind is not Kind.EMPTY:
        return v.raw.strip(" \u3000\t\r\n")  # as typed: "97.24%", "=24"
    if v.kind is Kind.NUMBER:
        n = v.number
        return fmt_amount(n) if n == round2(n) else format(n.normalize(), "f")
    if v.kind is Kind.DATE:
        return f"{v.date.year}年{v.date.month}月{v.date.day}日"
    return (v.display or "").strip(" \u3000\t\r\n")


# ---- gathering --------------------------------------------------------------------------------------------

def _num(v: Value) -> Decimal | None:
    return v.number if v.kind is Kind.NUMBER else None


def _pick(key: str, label: str, v: Value, fallback=None, unit: str = "万元") -> Fact:
    """The stated number; when the cell is a formula with no cached value, its recomputation."""
    n = _num(v)
    readable = v.loc is not None and v.kind not in (Kind.UNKNOWN, Kind.INVALID)
    if n is not None or fallback is None or v.kind not in (Kind.UNKNOWN, Kind.EMPTY):
        return Fact(key, label, n, v.loc, unit, readable=readable)
    if v.kind is Kind.EMPTY and not (v.formula or v.template_formula):
        return Fact(key, label, None, v.loc, unit, readable=readable)
    x = fallback()
    return Fact(key, label, x, v.loc, unit, derived=True, readable=x is not None or readable)


def _add(*xs: Decimal | None) -> Decimal | None:
    if all(x is None for x in xs):
        return None
    return sum((x for x in xs if x is not None), ZERO)


def _sub(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None else a - (b or ZERO)


def _ratio(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None or not b else a / b


def _choice(v: Value) -> bool | None:
    """有 -> True, 无 -> False, blank or unreadable -> None."""
    if v.kind is Kind.NA:
        return False
    t = plain(v)
    if not t:
        return None
    if t in NONE_WORDS or t.startswith("无"):
        return False
    if t in YES_WORDS or t.startswith("有"):
        return True
    return None


SG_COLUMNS = (("actual", "本年决算数"), ("budget", "本年预算数"), ("diff_budget", "比预算增减数"),
              ("prev", "上年决算数"), ("diff_prev", "比上年增减数"), ("pct", "增减%"))
SG_LINES = (("abroad", "因公出国经费"), ("car", "公务用车运行及购置"), ("reception", "公务接待费"), ("total", "合计"))
BASIC_COLUMNS = (("prev", "上年决算数"), ("budget", "本年预算数"), ("actual", "本年决算数"))


def gather(form: Form) -> Facts:
    """Every number the report needs, keyed as the builder and checker name them."""
    f = Facts(form.year_int, form.department)
    v = f.values
    tp, bd, se, nar = form.three_public, form.basic, form.self_eval, form.narrative

    def put(fact: Fact) -> Fact:
        v[fact.key] = fact
        return fact

    # (b) breakdown first: table (a)'s car line is derived from it.
    basic_rows = {
        "bd_sg_total": bd.sg_total, "bd_car": bd.car, "bd_car_purchase": bd.car_purchase,
        "bd_car_maintenance": bd.car_maintenance, "bd_abroad": bd.abroad, "bd_reception": bd.reception,
        "bd_public_total": bd.public_total, "bd_public_office": bd.public_office,
        "bd_public_utilities_travel": bd.public_utilities_travel,
        "bd_public_meetings_training": bd.public_meetings_training,
        "bd_procurement": bd.procurement, "bd_basic_adjustment": bd.basic_adjustment,
    }
    for key in ("bd_car_purchase", "bd_car_maintenance", "bd_public_total", "bd_public_office",
                "bd_public_utilities_travel", "bd_public_meetings_training", "bd_procurement",
                "bd_basic_adjustment"):
        row = basic_rows[key]
        for col, cl in BASIC_COLUMNS:
            put(_pick(f"{key}_{col}", f"基础数据表“{row.label}”{cl}", getattr(row, col)))

    sg_from_basic = {"abroad": bd.abroad, "reception": bd.reception}
    for col in ("actual", "budget", "prev"):
        for line in ("abroad", "reception"):
            # an input in (a); (b) repeats it by formula
            put(_pick(f"sg_{line}_{col}", "", getattr(getattr(tp, line), col),
                      lambda r=sg_from_basic[line], c=col: _num(getattr(r, c))))
        put(_pick(f"sg_car_{col}", "", getattr(tp.car, col),
                  lambda c=col: _add(f.get(f"bd_car_purchase_{c}"), f.get(f"bd_car_maintenance_{c}"))))
        put(_pick(f"sg_total_{col}", "", getattr(tp.total, col),
                  lambda c=col: _add(*(f.get(f"sg_{ln}_{c}") for ln in ("abroad", "car", "reception")))))
    for line, _ in SG_LINES:
        row = getattr(tp, line)
        put(_pick(f"sg_{line}_diff_budget", "", row.diff_budget,
                  lambda ln=line: _sub(f.get(f"sg_{ln}_actual"), f.get(f"sg_{ln}_budget"))))
        put(_pick(f"sg_{line}_diff_prev", "", row.diff_prev,
                  lambda ln=line: _sub(f.get(f"sg_{ln}_actual"), f.get(f"sg_{ln}_prev"))))
        put(_pick(f"sg_{line}_pct", "", row.pct,
                  lambda ln=line: _ratio(f.get(f"sg_{ln}_diff_prev"), f.get(f"sg_{ln}_prev")), unit="%"))
    for line, ll in SG_LINES:
        for col, cl in SG_COLUMNS:
            v[f"sg_{line}_{col}"].label = f"三公经费情况表“{ll}”{cl}"

    for key, parts in (("bd_car", ("bd_car_purchase", "bd_car_maintenance")),
                       ("bd_abroad", None), ("bd_reception", None), ("bd_sg_total", ("bd_car", "bd_abroad", "bd_reception"))):
        row = basic_rows[key]
        for col, cl in BASIC_COLUMNS:
            if parts is None:  # repeats table (a)
                fb = (lambda k=key, c=col: f.get(f"sg_{k[3:]}_{c}"))
            else:
                fb = (lambda ps=parts, c=col: _add(*(f.get(f"{p}_{c}") for p in ps)))
            put(_pick(f"{key}_{col}", f"基础数据表“{row.label}”{cl}", getattr(row, col), fb))

    # 项目支出
    for i, row in enumerate(bd.projects, start=1):
        raw = plain(row.name)
        f.projects.append(ProjectFact(
            i, clean_name(raw), raw,
            *(_pick(f"project{i}_{c}", f"基础数据表项目支出第{i}行“{clean_name(raw)}”{cl}", getattr(row, c))
              for c, cl in BASIC_COLUMNS),
            loc=row.name.loc,
        ))
        for x in (f.projects[-1].prev, f.projects[-1].budget, f.projects[-1].actual):
            put(x)
    for col, cl in BASIC_COLUMNS:
        put(_pick(f"projects_total_{col}", f"基础数据表项目支出合计{cl}", getattr(bd.projects_total, col),
                  lambda c=col: _add(*(getattr(p, c).value for p in f.projects))))

    # 人员
    st = bd.staffing
    put(_pick("staff_quota", "基础数据表编制数", st.quota, unit="人"))
    put(_pick("staff_actual", "基础数据表实际在职人数", st.actual, unit="人"))
    put(_pick("staff_rate", "基础数据表在职人员控制率", st.rate,
              lambda: _ratio(f.get("staff_actual"), f.get("staff_quota")), unit="%"))

    # (c) 年度资金总额
    fd = se.funds
    put(_pick("funds_initial", "绩效自评表年初预算数", fd.initial_budget))
    put(_pick("funds_budget", "绩效自评表全年预算数", fd.budget))
    put(_pick("funds_actual", "绩效自评表全年执行数", fd.actual))
    put(_pick("funds_points", "绩效自评表预算执行率分值", fd.points, lambda: Decimal(10), unit="分"))
    put(_pick("execution_rate", "绩效自评表执行率", fd.execution_rate,
              lambda: scoring.execution_rate(f.get("funds_budget"), f.get("funds_actual")), unit="%"))
    put(_pick("execution_score", "绩效自评表执行率得分", fd.score,
              lambda: scoring.execution_score(f.get("funds_budget"), f.get("funds_actual"),
                                              f.get("funds_points") or 10), unit="分"))
    for key, val, label in (("income_general", fd.income_general, "一般公共预算"),
                            ("income_gov_fund", fd.income_gov_fund, "政府性基金拨款"),
                            ("income_special", fd.income_special, "纳入专户管理的非税收入拨款"),
                            ("income_other", fd.income_other, "其他资金"),
                            ("exp_basic", fd.exp_basic, "基本支出")):
        put(_pick(key, f"绩效自评表{label}", val))
    put(_pick("exp_project", "绩效自评表项目支出", fd.exp_project, lambda: f.get("projects_total_actual")))
    put(_pick("points_total", "绩效自评表分值合计", se.points_total,
              lambda: _add(f.get("funds_points"), *(_num(i.points) for i in se.indicators)), unit="分"))
    put(_pick("total_score", "绩效自评表总分", se.total_score,
              lambda: _add(f.get("execution_score"), *(_num(i.score) for i in se.indicators)), unit="分"))

    g = se.grade
    if g.kind is Kind.TEXT:
        f.grade = plain(g)
    elif g.kind is Kind.UNKNOWN and f.get("total_score") is not None:
        f.grade = scoring.grade(f.get("total_score"))

    # 报告正文: facts no table holds; without the sheet, 本年支出 is the table's 全年执行数
    if nar is not None:
        put(_pick("income_total", "报告正文本年收入", nar.income_total))
        put(_pick("expenditure_total", "报告正文本年支出", nar.expenditure_total))
        put(_pick("carryover_prev", "报告正文上年结余结转", nar.carryover_prev))
        put(_pick("carryover_current", "报告正文本年结余结转", nar.carryover_current))
        f.none_statements = {
            "gov_fund": _choice(nar.has_gov_fund_exp),
            "state_capital": _choice(nar.has_state_capital_exp),
            "social_insurance": _choice(nar.has_social_insurance_exp),
        }
    else:
        put(Fact("income_total", "报告正文本年收入", None))
        ex = v["funds_actual"]
        put(Fact("expenditure_total", ex.label, ex.value, ex.loc))
        put(Fact("carryover_prev", "报告正文上年结余结转", None))
        put(Fact("carryover_current", "报告正文本年结余结转", None))
        f.none_statements = {"gov_fund": None, "state_capital": None, "social_insurance": None}
    return f


def indicator_actual(target_text: str, actual_text: str) -> Decimal | None:
    """An indicator's 实际完成值 as a number (a ratio for percent targets), via the scoring parser."""
    try:
        tg = scoring.parse_target(target_text)
        return scoring.parse_actual(actual_text, tg)
    except Exception:  # a cell the parser cannot read is simply not comparable
        return None
