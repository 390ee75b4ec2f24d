"""Typed model of the form. Plain Python: it knows the form, never touches files.

Every value remembers where it came from (sheet, cell) and what the cell held,
so that a rule can point at the cell. Amounts are Decimal; percentages are
stored as ratios (0.9596 for 95.96%).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Loc:
    sheet: str
    cell: str  # A1 style

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}"


class Kind(StrEnum):
    EMPTY = "empty"  # blank cell
    NUMBER = "number"  # .number holds a Decimal
    TEXT = "text"  # .text holds the cleaned text
    DATE = "date"  # .date holds a datetime.date
    NA = "na"  # "不适用", "—", "-", "无": stated as not applicable / none
    UNKNOWN = "unknown"  # a formula with no cached value, or a cached error (#DIV/0!)
    INVALID = "invalid"  # something was typed that cannot be read as this field's kind


# Members as module constants for the properties below: an attribute lookup on the enum class costs ~6x a global one.
_EMPTY, _NUMBER, _TEXT, _DATE = Kind.EMPTY, Kind.NUMBER, Kind.TEXT, Kind.DATE
_KNOWN = (Kind.NUMBER, Kind.TEXT, Kind.DATE, Kind.NA)


@dataclass(slots=True)
class Value:
    kind: Kind = Kind.EMPTY
    number: Decimal | None = None
    text: str | None = None
    date: date | None = None
    raw: object = None  # exactly what the cell held (cached value or typed text)
    loc: Loc | None = None
    formula: str | None = None  # the cell's formula, when the reader can see formulas
    template_formula: str | None = None  # the formula our template puts here, if any
    problem: str | None = None  # why INVALID / UNKNOWN, in Chinese

    @property
    def num(self) -> Decimal | None:
        return self.number if self.kind is _NUMBER else None

    @property
    def is_blank(self) -> bool:
        return self.kind is _EMPTY

    @property
    def is_known(self) -> bool:
        return self.kind in _KNOWN

    @property
    def display(self) -> str:
        """What the user sees, for messages."""
        k = self.kind
        if k is _NUMBER:
            return format(self.number, "f")
        if k is _DATE:
            return self.date.isoformat()
        if self.text is not None:
            return self.text
        return "" if self.raw is None else str(self.raw)

    def __bool__(self) -> bool:  # a Value is truthy when it holds something
        return self.kind is not _EMPTY


def empty(loc: Loc | None = None) -> Value:
    return Value(loc=loc)


def _v() -> Value:
    return Value()


@dataclass(slots=True)
class ThreePublicLine:
    """One row of table (a): 本年决算数 · 本年预算数 · 比预算增减数 · 上年决算数 · 比上年增减数 · 增减%."""

    label: str
    actual: Value = field(default_factory=_v)
    budget: Value = field(default_factory=_v)
    diff_budget: Value = field(default_factory=_v)
    prev: Value = field(default_factory=_v)
    diff_prev: Value = field(default_factory=_v)
    pct: Value = field(default_factory=_v)


@dataclass(slots=True)
class ThreePublic:
    """(a) "三公"经费情况表."""

    abroad: ThreePublicLine = field(default_factory=lambda: ThreePublicLine("因公出国经费"))
    car: ThreePublicLine = field(default_factory=lambda: ThreePublicLine("公务用车运行及购置"))
    reception: ThreePublicLine = field(default_factory=lambda: ThreePublicLine("公务接待费"))
    total: ThreePublicLine = field(default_factory=lambda: ThreePublicLine("合计"))

    def lines(self) -> tuple[ThreePublicLine, ...]:
        return (self.abroad, self.car, self.reception)


@dataclass(slots=True)
class AmountRow:
    """A row of 经费控制情况: 上年决算数 · 本年预算数 · 本年决算数."""

    label: str
    name: Value = field(default_factory=_v)  # the label cell as typed (project names)
    prev: Value = field(default_factory=_v)
    budget: Value = field(default_factory=_v)
    actual: Value = field(default_factory=_v)
    row: int | None = None  # sheet row, for findings that point at the line

    def is_blank(self) -> bool:
        return not (self.name or self.prev or self.budget or self.actual)


@dataclass(slots=True)
class Staffing:
    quota: Value = field(default_factory=_v)  # 编制数
    actual: Value = field(default_factory=_v)  # 实际在职人数
    rate: Value = field(default_factory=_v)  # 控制率 as stated


@dataclass(slots=True)
class Building:
    """楼堂馆所控制情况."""

    approved_area: Value = field(default_factory=_v)
    actual_area: Value = field(default_factory=_v)
    area_rate: Value = field(default_factory=_v)
    budget_investment: Value = field(default_factory=_v)
    actual_investment: Value = field(default_factory=_v)
    investment_rate: Value = field(default_factory=_v)


@dataclass(slots=True)
class Footer:
    preparer: Value = field(default_factory=_v)  # 填表人
    date: Value = field(default_factory=_v)  # 填报日期
    phone: Value = field(default_factory=_v)  # 联系电话
    signature: Value = field(default_factory=_v)  # 单位负责人签字


@dataclass(slots=True)
class BasicData:
    """(b) 部门整体支出绩效评价基础数据表."""

    staffing: Staffing = field(default_factory=Staffing)
    sg_total: AmountRow = field(default_factory=lambda: AmountRow("三公经费"))
    car: AmountRow = field(default_factory=lambda: AmountRow("公务用车购置和维护经费"))
    car_purchase: AmountRow = field(default_factory=lambda: AmountRow("公车购置"))
    car_maintenance: AmountRow = field(default_factory=lambda: AmountRow("公车运行维护"))
    abroad: AmountRow = field(default_factory=lambda: AmountRow("出国经费"))
    reception: AmountRow = field(default_factory=lambda: AmountRow("公务接待"))
    projects_total: AmountRow = field(default_factory=lambda: AmountRow("项目支出"))
    projects: list[AmountRow] = field(default_factory=list)  # non-blank project lines only
    public_total: AmountRow = field(default_factory=lambda: AmountRow("公用经费"))
    public_office: AmountRow = field(default_factory=lambda: AmountRow("办公费"))
    public_utilities_travel: AmountRow = field(default_factory=lambda: AmountRow("水费、电费、差旅费"))
    public_meetings_training: AmountRow = field(default_factory=lambda: AmountRow("会议费、培训费"))
    procurement: AmountRow = field(default_factory=lambda: AmountRow("政府采购金额"))
    basic_adjustment: AmountRow = field(default_factory=lambda: AmountRow("部门基本支出预算调整"))
    building: Building = field(default_factory=Building)
    frugality: Value = field(default_factory=_v)  # 厉行节约保障措施
    footer: Footer = field(default_factory=Footer)
    projects_region: tuple[Loc, Loc] | None = None  # first and last cell of the list, for findings

    def public_items(self) -> tuple[AmountRow, ...]:
        return (self.public_office, self.public_utilities_travel, self.public_meetings_training)


@dataclass(slots=True)
class Funds:
    """年度资金总额 and its breakdowns."""

    initial_budget: Value = field(default_factory=_v)  # 年初预算数
    budget: Value = field(default_factory=_v)  # 全年预算数 (adjusted)
    actual: Value = field(default_factory=_v)  # 全年执行数
    points: Value = field(default_factory=_v)  # 分值 (10)
    execution_rate: Value = field(default_factory=_v)  # 执行率 as stated
    score: Value = field(default_factory=_v)  # 得分 as stated
    income_general: Value = field(default_factory=_v)  # 一般公共预算
    income_gov_fund: Value = field(default_factory=_v)  # 政府性基金拨款
    income_special: Value = field(default_factory=_v)  # 纳入专户管理的非税收入拨款
    income_other: Value = field(default_factory=_v)  # 其他资金
    exp_basic: Value = field(default_factory=_v)  # 基本支出
    exp_project: Value = field(default_factory=_v)  # 项目支出

    def income_parts(self) -> tuple[Value, ...]:
        return (self.income_general, self.income_gov_fund, self.income_special, self.income_other)


@dataclass(slots=True)
class Indicator:
    """One 三级指标 line. level1/level2 are filled down over merged cells."""

    level1: Value = field(default_factory=_v)  # e.g. "产出指标（50分）"
    level2: Value = field(default_factory=_v)  # e.g. "数量指标"
    name: Value = field(default_factory=_v)  # 三级指标
    target: Value = field(default_factory=_v)  # 年度指标值, text as typed ("≥90%")
    actual: Value = field(default_factory=_v)  # 实际完成值, text as typed
    points: Value = field(default_factory=_v)  # 分值
    score: Value = field(default_factory=_v)  # 自评得分
    reason: Value = field(default_factory=_v)  # 偏差原因分析及改进措施
    row: int | None = None
    level1_loc: Loc | None = None  # the heading cell (top of its merge)
    coefficient: Value = field(default_factory=_v)  # 得分系数(%) (Chongqing): 指标得分 = 权重 × 系数
    core: Value = field(default_factory=_v)  # 是否核心指标 (Chongqing)

    def is_blank(self) -> bool:
        return not (self.name or self.target or self.actual or self.points or self.score or self.reason)


@dataclass(slots=True)
class SelfEvaluation:
    """(c) 部门整体支出绩效自评表."""

    unit_name: Value = field(default_factory=_v)  # 预算部门、单位名称 as written on this sheet
    funds: Funds = field(default_factory=Funds)
    goal_expected: Value = field(default_factory=_v)
    goal_actual: Value = field(default_factory=_v)
    indicators: list[Indicator] = field(default_factory=list)  # non-blank lines only
    points_total: Value = field(default_factory=_v)  # Σ分值 + 10 as stated
    total_score: Value = field(default_factory=_v)  # 总分 as stated
    grade: Value = field(default_factory=_v)  # 等级 as stated, if the form has one
    footer: Footer = field(default_factory=Footer)
    indicators_region: tuple[Loc, Loc] | None = None


@dataclass(slots=True)
class Narrative:
    """报告正文: what the report needs and no table holds."""

    report_date: Value = field(default_factory=_v)
    main_functions: Value = field(default_factory=_v)
    organization: Value = field(default_factory=_v)
    income_total: Value = field(default_factory=_v)
    expenditure_total: Value = field(default_factory=_v)
    carryover_prev: Value = field(default_factory=_v)
    carryover_current: Value = field(default_factory=_v)
    has_gov_fund_exp: Value = field(default_factory=_v)
    has_state_capital_exp: Value = field(default_factory=_v)
    has_social_insurance_exp: Value = field(default_factory=_v)
    perf_budget_execution: Value = field(default_factory=_v)
    perf_budget_management: Value = field(default_factory=_v)
    perf_financial_management: Value = field(default_factory=_v)
    problems: Value = field(default_factory=_v)
    improvements: Value = field(default_factory=_v)
    result_application: Value = field(default_factory=_v)
    other_notes: Value = field(default_factory=_v)


@dataclass(slots=True)
class FundRow:
    """One row of a fund block under 年度资金总额 / 总额 (当年财政拨款, 上年结转资金, 财政资金 …)."""

    label: str
    initial_budget: Value = field(default_factory=_v)
    budget: Value = field(default_factory=_v)
    actual: Value = field(default_factory=_v)
    points: Value = field(default_factory=_v)
    execution_rate: Value = field(default_factory=_v)
    score: Value = field(default_factory=_v)
    row: int | None = None


@dataclass(slots=True)
class Criterion:
    """One line of a 评价指标表 whose scoring rule is written in words (Hunan 2018: 评价标准)."""

    name: Value = field(default_factory=_v)  # 三级指标, e.g. "“三公经费”变动率(5分)"
    standard: Value = field(default_factory=_v)  # 评价标准: "三公经费变动率≤0，计5分；每超过一个百分点扣0.5分"
    score: Value = field(default_factory=_v)  # the 得分 given to the line
    row: int | None = None


@dataclass(slots=True)
class ProjectInfo:
    """The head of a project self-evaluation (项目支出绩效自评表)."""

    name: Value = field(default_factory=_v)  # 项目名称 as written (budget code prefix kept)
    department: Value = field(default_factory=_v)  # 主管部门
    implementer: Value = field(default_factory=_v)  # 实施单位
    leader: Value = field(default_factory=_v)  # 项目负责人
    finance_leader: Value = field(default_factory=_v)  # 财务负责人

    @property
    def title(self) -> str:
        """The project name without its budget code ("51000021R000000019951-工资性支出" -> "工资性支出")."""
        import re

        t = self.name.text or ""
        return re.sub(r"^[0-9A-Za-z]{8,}\s*[-－—_:：]\s*", "", t)


@dataclass(slots=True)
class Form:
    """The whole workbook, as read."""

    source: str = ""  # file path or book name
    reader: str = ""  # "names" | "anchors" | "calamine" | "xlwings"
    template_version: str | None = None  # set when the workbook carries our defined names
    formulas_known: bool = False  # the reader could see formula text
    unit_name: Value = field(default_factory=_v)
    year: Value = field(default_factory=_v)
    three_public: ThreePublic = field(default_factory=ThreePublic)
    basic: BasicData = field(default_factory=BasicData)
    self_eval: SelfEvaluation = field(default_factory=SelfEvaluation)
    narrative: Narrative | None = None  # None when the workbook has no 报告正文 sheet
    sheet_names: dict[str, str] = field(default_factory=dict)  # our sheet role -> the sheet's actual name
    settings_overrides: dict[str, str] = field(default_factory=dict)  # raw pairs from a 设置 sheet
    # key as written -> the A1 cells (column A, e.g. "A3") of every row of the 设置 sheet that gave it, in order
    settings_cells: dict[str, list[str]] = field(default_factory=dict)
    read_notes: list[str] = field(default_factory=list)  # what the reader could not find (facts, not verdicts)
    # ---- form families (perfeval_xl/forms) ----
    family: str = ""  # recognised family key ("" when the workbook was read without recognition)
    confidence: float = 0.0  # how well the labels matched the family (0..1)
    # what the file holds of its family: table roles and features ("sg", "basic", "self", "sources",
    # "footer.se" …); None when not declared (every rule runs, as before families existed)
    tables: frozenset[str] | None = None
    missing_tables: tuple[str, ...] = ()  # tables the family has and this file lacks (Chinese names)
    sheets_present: tuple[str, ...] = ()  # every worksheet of the workbook: findings point only there
    project: ProjectInfo | None = None  # project self-evaluations only
    fund_sources: list[FundRow] = field(default_factory=list)  # rows under the 总额 row
    funds_row: int | None = None  # sheet row of 年度资金总额 / 总额
    texts: dict[str, Value] = field(default_factory=dict)  # 评价结论 · 存在问题 · 改进措施 …
    criteria: list[Criterion] = field(default_factory=list)  # 评价指标表 lines with 评价标准 (Hunan 2018)
    template_rows: list[Value] = field(default_factory=list)  # placeholder rows left from the blank form
    parts: list["Form"] = field(default_factory=list)  # several forms in one workbook (one per project)

    @property
    def department(self) -> str:
        v = self.unit_name if self.unit_name.kind is _TEXT else self.self_eval.unit_name
        if v.kind is not _TEXT and self.project is not None:
            p = self.project
            v = p.department if p.department.kind is _TEXT else p.implementer
        return v.text or ""

    @property
    def project_name(self) -> str:
        """项目名称 as written, without the line breaks a wrapped merged cell puts in it."""
        t = (self.project.name.text or "") if self.project is not None else ""
        return "".join(t.splitlines()).strip()

    @property
    def year_int(self) -> int | None:
        n = self.year.num
        return int(n) if n is not None else None
