"""Declarative layout of the official template.

One description serves three consumers: the template builder draws it, the
names reader finds fields by their defined names, and the fast reader uses the
same addresses after checking a few anchor labels. Nothing here touches files.

A field key ``k`` is published in the workbook as the defined name ``pe_k``.
List regions (projects, indicators) are published as ``pe_projects`` and
``pe_indicators``; the lists can grow by inserting rows inside them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

TEMPLATE_VERSION = "1"
NAME_PREFIX = "pe_"
VERSION_NAME = "pe_template_version"

SHEET_SG = "三公经费情况表"
SHEET_BASIC = "基础数据表"
SHEET_SELF = "绩效自评表"
SHEET_NARRATIVE = "报告正文"
SHEET_GUIDE = "填报说明"
SHEET_RESULT = "校验结果"  # written by the annotate writers, never by the template
SHEET_SETTINGS = "设置"  # optional, user-made: key / value pairs overriding settings

FORM_SHEETS = (SHEET_SG, SHEET_BASIC, SHEET_SELF, SHEET_NARRATIVE, SHEET_GUIDE)

# Field kinds: how a value is parsed and formatted.
AMOUNT = "amount"  # 万元, 2 decimals, >= 0 for inputs
SIGNED = "signed"  # 万元 difference, may be negative
PERCENT = "percent"  # ratio stored, shown as 0.00%
COUNT = "count"  # people
AREA = "area"  # ㎡
POINTS = "points"  # 分值 / 得分
YEAR = "year"
DATE = "date"
TEXT = "text"
PHONE = "phone"
LONGTEXT = "longtext"
CHOICE = "choice"  # 是 / 否


@dataclass(frozen=True)
class FieldSpec:
    key: str
    sheet: str
    cell: str  # top-left cell, A1 style
    kind: str
    label: str  # Chinese, used in messages
    formula: str | None = None  # template formula; None means an input cell
    merge_to: str | None = None  # bottom-right cell when the field spans a merge
    prompt: str | None = None  # input message shown by data validation

    @property
    def name(self) -> str:
        return NAME_PREFIX + self.key

    @property
    def is_input(self) -> bool:
        return self.formula is None


@dataclass(frozen=True)
class Label:
    sheet: str
    cell: str
    text: str  # plain text, or a formula starting with "="
    merge_to: str | None = None
    role: str = "label"  # title | header | label | note | section


@dataclass(frozen=True)
class ListSpec:
    """A growable block of rows; columns map model attributes to letters."""

    key: str  # defined name pe_<key>
    sheet: str
    first_row: int
    rows: int
    columns: dict[str, str]  # attribute -> column letter
    kinds: dict[str, str]

    @property
    def last_row(self) -> int:
        return self.first_row + self.rows - 1

    @property
    def name(self) -> str:
        return NAME_PREFIX + self.key

    def ref(self) -> str:
        cols = sorted(self.columns.values())
        return f"${cols[0]}${self.first_row}:${cols[-1]}${self.last_row}"


# Standard 一级 headings with the usual weights (财预〔2020〕10号); data validation offers these.
LEVEL1_CHOICES = (
    "产出指标（50分）",
    "效益指标（30分）",
    "效益指标（40分）",
    "满意度指标（10分）",
)
LEVEL2_CHOICES = (
    "数量指标",
    "质量指标",
    "时效指标",
    "成本指标",
    "经济效益指标",
    "社会效益指标",
    "生态效益指标",
    "可持续影响指标",
    "服务对象满意度指标",
)

# The blank template's indicator block: (一级, [(二级, rows)]). Merges follow it.
STANDARD_INDICATOR_GROUPS: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = (
    ("产出指标（50分）", (("数量指标", 3), ("质量指标", 3), ("时效指标", 3), ("成本指标", 3))),
    (
        "效益指标（30分）",
        (("经济效益指标", 2), ("社会效益指标", 2), ("生态效益指标", 2), ("可持续影响指标", 2)),
    ),
    ("满意度指标（10分）", (("服务对象满意度指标", 3),)),
)
STANDARD_PROJECT_ROWS = 30

NARRATIVE_FIELDS: tuple[tuple[str, str, str], ...] = (
    # key, label, kind
    ("report_date", "报告日期", DATE),
    ("main_functions", "主要职能", LONGTEXT),
    ("organization", "机构情况", LONGTEXT),
    ("income_total", "本年收入（万元）", AMOUNT),
    ("expenditure_total", "本年支出（万元）", AMOUNT),
    ("carryover_prev", "上年结余结转（万元）", AMOUNT),
    ("carryover_current", "本年结余结转（万元）", AMOUNT),
    ("has_gov_fund_exp", "有无政府性基金支出（有/无）", CHOICE),
    ("has_state_capital_exp", "有无国有资本经营支出（有/无）", CHOICE),
    ("has_social_insurance_exp", "有无社会保险基金支出（有/无）", CHOICE),
    ("perf_budget_execution", "预算执行方面", LONGTEXT),
    ("perf_budget_management", "预算管理方面", LONGTEXT),
    ("perf_financial_management", "财务管理及业务工作方面", LONGTEXT),
    ("problems", "存在的问题及原因分析", LONGTEXT),
    ("improvements", "下一步改进措施", LONGTEXT),
    ("result_application", "绩效自评结果拟应用和公开情况", LONGTEXT),
    ("other_notes", "其他需要说明的情况", LONGTEXT),
)


@dataclass
class Layout:
    project_rows: int
    indicator_groups: tuple
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    labels: list[Label] = field(default_factory=list)
    lists: dict[str, ListSpec] = field(default_factory=dict)
    merges: list[tuple[str, str]] = field(default_factory=list)  # (sheet, "A1:B2")
    col_widths: dict[str, dict[str, float]] = field(default_factory=dict)
    title_rows: dict[str, str] = field(default_factory=dict)  # sheet -> "1:3" repeated on print
    # Anchors the fast reader checks before trusting addresses: (sheet, cell, text).
    anchors: list[tuple[str, str, str]] = field(default_factory=list)

    def _f(self, key, sheet, cell, kind, label, formula=None, merge_to=None, prompt=None):
        self.fields[key] = FieldSpec(key, sheet, cell, kind, label, formula, merge_to, prompt)

    def _l(self, sheet, cell, text, merge_to=None, role="label"):
        self.labels.append(Label(sheet, cell, text, merge_to, role))

    def field_at(self, sheet: str, cell: str) -> FieldSpec | None:
        for spec in self.fields.values():
            if spec.sheet == sheet and spec.cell == cell:
                return spec
        return None

    @property
    def indicator_rows(self) -> int:
        return sum(n for _, groups in self.indicator_groups for _, n in groups)


def _q(sheet: str) -> str:
    return f"'{sheet}'"


def _year_text(year_ref: str, offset: int = 0, blank: str = "本年") -> str:
    # Header text that follows the year input: "2024年决算数"; "本年决算数" while blank.
    y = year_ref if offset == 0 else f"({year_ref}-{-offset})" if offset < 0 else f"({year_ref}+{offset})"
    return f'IF({year_ref}="","{blank}",{y}&"年")'


def build_layout(
    project_rows: int = STANDARD_PROJECT_ROWS,
    indicator_groups=STANDARD_INDICATOR_GROUPS,
) -> Layout:
    """The template's layout for a given list size (the example uses the seed's)."""
    lay = Layout(project_rows, tuple(indicator_groups))
    year = f"{_q(SHEET_SG)}!$F$2"
    unit = f"{_q(SHEET_SG)}!$B$2"

    # ---- (a) 三公经费情况表 -------------------------------------------------
    s = SHEET_SG
    lay.col_widths[s] = {"A": 22, "B": 13, "C": 13, "D": 13, "E": 13, "F": 13, "G": 11}
    lay.title_rows[s] = "1:3"
    lay._l(s, "A1", f'={_year_text("$F$2", blank="    年")}&"度部门“三公”经费情况表"', "G1", "title")
    lay._l(s, "A2", "编报单位：")
    lay._f("unit_name", s, "B2", TEXT, "部门（单位）名称", merge_to="D2", prompt="填写预算部门（单位）全称")
    lay._l(s, "E2", "年度：")
    lay._f("year", s, "F2", YEAR, "年度", prompt="填写评价年度，如 2024")
    lay._l(s, "G2", "单位：万元")
    lay._l(s, "A3", "项目", role="header")
    lay._l(s, "B3", f'={_year_text("$F$2")}&"决算数"', role="header")
    lay._l(s, "C3", f'={_year_text("$F$2")}&"预算数"', role="header")
    lay._l(s, "D3", "比预算增减数", role="header")
    lay._l(s, "E3", f'={_year_text("$F$2", -1, "上年")}&"决算数"', role="header")
    lay._l(s, "F3", "比上年增减数", role="header")
    lay._l(s, "G3", "增减%", role="header")
    lay.anchors += [(s, "A4", "因公出国经费"), (s, "A7", "合计")]
    b = _q(SHEET_BASIC)
    sg_rows = (
        ("abroad", 4, "因公出国经费"),
        ("car", 5, "公务用车运行及购置"),
        ("reception", 6, "公务接待费"),
        ("total", 7, "合计"),
    )
    for key, r, text in sg_rows:
        lay._l(s, f"A{r}", text)
        if key == "car":  # the breakdown stands in 基础数据表 (公车购置 + 公车运行维护)
            actual, budget, prev = f"={b}!D8+{b}!D9", f"={b}!C8+{b}!C9", f"={b}!B8+{b}!B9"
        elif key == "total":
            actual, budget, prev = "=SUM(B4:B6)", "=SUM(C4:C6)", "=SUM(E4:E6)"
        else:
            actual = budget = prev = None
        lay._f(f"sg_{key}_actual", s, f"B{r}", AMOUNT, f"{text}本年决算数", actual)
        lay._f(f"sg_{key}_budget", s, f"C{r}", AMOUNT, f"{text}本年预算数", budget)
        lay._f(f"sg_{key}_diff_budget", s, f"D{r}", SIGNED, f"{text}比预算增减数", f"=B{r}-C{r}")
        lay._f(f"sg_{key}_prev", s, f"E{r}", AMOUNT, f"{text}上年决算数", prev)
        lay._f(f"sg_{key}_diff_prev", s, f"F{r}", SIGNED, f"{text}比上年增减数", f"=B{r}-E{r}")
        lay._f(f"sg_{key}_pct", s, f"G{r}", PERCENT, f"{text}增减%", f'=IF(N(E{r})=0,"—",F{r}/E{r})')
    lay._l(s, "A9", "注：公务用车运行及购置 = 基础数据表中的公车购置 + 公车运行维护，自动计算。", "G9", "note")

    # ---- (b) 基础数据表 -----------------------------------------------------
    s = SHEET_BASIC
    a = _q(SHEET_SG)
    lay.col_widths[s] = {"A": 34, "B": 14, "C": 14, "D": 14, "E": 14, "F": 14, "G": 14}
    lay.title_rows[s] = "1:2"
    lay._l(s, "A1", f'={_year_text(year, blank="    年")}&"度部门整体支出绩效评价基础数据表"', "G1", "title")
    lay._l(s, "A2", "编报单位：")
    lay._l(s, "B2", f"={unit}", "D2")
    lay._l(s, "G2", "单位：万元")
    lay._l(s, "A3", "财政供养人员情况（人）", role="header")
    lay._l(s, "B3", "编制数", role="header")
    lay._l(s, "C3", f'={_year_text(year)}&"实际在职人数"', role="header")
    lay._l(s, "D3", "控制率", role="header")
    lay._f("staff_quota", s, "B4", COUNT, "编制数")
    lay._f("staff_actual", s, "C4", COUNT, "实际在职人数")
    lay._f("staff_rate", s, "D4", PERCENT, "在职人员控制率", '=IF(N(B4)=0,"",C4/B4)')
    lay._l(s, "A5", "经费控制情况（万元）", role="header")
    lay._l(s, "B5", f'={_year_text(year, -1, "上年")}&"决算数"', role="header")
    lay._l(s, "C5", f'={_year_text(year)}&"预算数"', role="header")
    lay._l(s, "D5", f'={_year_text(year)}&"决算数"', role="header")
    lay.anchors += [(s, "A3", "财政供养人员情况（人）"), (s, "A6", "三公经费")]
    cols = (("prev", "B"), ("budget", "C"), ("actual", "D"))
    sg_col = {"prev": "E", "budget": "C", "actual": "B"}  # the same column in table (a)
    basic_rows = (
        ("bd_sg_total", 6, "三公经费", lambda c, col: f"={c}7+{c}10+{c}11"),
        ("bd_car", 7, "1、公务用车购置和维护经费", lambda c, col: f"={c}8+{c}9"),
        ("bd_car_purchase", 8, "其中：公车购置", None),
        ("bd_car_maintenance", 9, "公车运行维护", None),
        ("bd_abroad", 10, "2、出国经费", lambda c, col: f"={a}!{sg_col[col]}4"),
        ("bd_reception", 11, "3、公务接待", lambda c, col: f"={a}!{sg_col[col]}6"),
    )
    col_label = {"prev": "上年决算数", "budget": "本年预算数", "actual": "本年决算数"}
    for key, r, text, formula in basic_rows:
        lay._l(s, f"A{r}", text)
        for col, c in cols:
            lay._f(f"{key}_{col}", s, f"{c}{r}", AMOUNT, f"{text.split('、')[-1].replace('其中：', '')}{col_label[col]}",
                   formula(c, col) if formula else None)
    n = project_rows
    first, last = 13, 12 + n
    lay._l(s, "A12", "项目支出：")
    for col, c in cols:
        lay._f(f"bd_projects_total_{col}", s, f"{c}12", AMOUNT, f"项目支出合计{col_label[col]}",
               f"=SUM({c}{first}:{c}{last})")
    lay.lists["projects"] = ListSpec(
        "projects", s, first, n, {"name": "A", "prev": "B", "budget": "C", "actual": "D"},
        {"name": TEXT, "prev": AMOUNT, "budget": AMOUNT, "actual": AMOUNT},
    )
    p = last + 1
    public = (
        ("public_total", p, "公用经费"),
        ("public_office", p + 1, "其中：办公费"),
        ("public_utilities_travel", p + 2, "水费、电费、差旅费"),
        ("public_meetings_training", p + 3, "会议费、培训费"),
    )
    for key, r, text in public:
        lay._l(s, f"A{r}", text)
        for col, c in cols:
            lay._f(f"{key}_{col}", s, f"{c}{r}", AMOUNT, f"{text.replace('其中：', '')}{col_label[col]}")
    for key, r, text in (("procurement", p + 4, "政府采购金额"), ("basic_adjustment", p + 5, "部门基本支出预算调整")):
        lay._l(s, f"A{r}", text)
        lay._l(s, f"B{r}", "——")
        for col, c in cols[1:]:
            lay._f(f"{key}_{col}", s, f"{c}{r}", SIGNED if key == "basic_adjustment" else AMOUNT,
                   f"{text}{col_label[col]}")
    r = p + 6
    lay._l(s, f"A{r}", '=IF(' + year + '="","楼堂馆所控制情况（上年完工项目）","楼堂馆所控制情况（"&(' + year + '-1)&"年完工项目）")', role="header")
    for c, text in zip("BCDEFG", ("批复规模（㎡）", "实际规模（㎡）", "规模控制率", "预算投资（万元）", "实际投资（万元）", "投资概算控制率")):
        lay._l(s, f"{c}{r}", text, role="header")
    r += 1
    lay._f("building_approved_area", s, f"B{r}", AREA, "楼堂馆所批复规模")
    lay._f("building_actual_area", s, f"C{r}", AREA, "楼堂馆所实际规模")
    lay._f("building_area_rate", s, f"D{r}", PERCENT, "规模控制率", f'=IF(N(B{r})=0,"",C{r}/B{r})')
    lay._f("building_budget_investment", s, f"E{r}", AMOUNT, "楼堂馆所预算投资")
    lay._f("building_actual_investment", s, f"F{r}", AMOUNT, "楼堂馆所实际投资")
    lay._f("building_investment_rate", s, f"G{r}", PERCENT, "投资概算控制率", f'=IF(N(E{r})=0,"",F{r}/E{r})')
    r += 1
    lay._l(s, f"A{r}", "厉行节约保障措施")
    lay._f("frugality", s, f"B{r}", LONGTEXT, "厉行节约保障措施", merge_to=f"G{r}")
    r += 1
    lay._l(s, f"A{r}", "说明：“项目支出”需要填报基本支出以外的所有项目支出情况，“运行维护经费”填报项目支出中用于人员类和公用运转类的支出。“公用经费”填报基本支出中的一般商品和服务支出。", f"G{r}", "note")
    r += 1
    _footer(lay, s, "bd", r)
    lay.anchors += [(s, f"A{p}", "公用经费")]

    # ---- (c) 绩效自评表 -----------------------------------------------------
    s = SHEET_SELF
    lay.col_widths[s] = {"A": 6, "B": 16, "C": 16, "D": 26, "E": 13, "F": 13, "G": 9, "H": 10, "I": 26}
    lay.title_rows[s] = "1:2"
    lay._l(s, "A1", f'={_year_text(year, blank="    年")}&"度部门整体支出绩效自评表"', "I1", "title")
    lay._l(s, "A2", "预算部门、单位名称", "B2")
    lay._l(s, "C2", f"={unit}", "I2")
    lay._l(s, "A3", "年度预算申请（万元）", "A9", "section")
    for c, text in zip("CDEFGH", ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")):
        lay._l(s, f"{c}3", text, role="header")
    lay._l(s, "B4", "年度资金总额")
    lay._f("funds_initial", s, "C4", AMOUNT, "年初预算数")
    lay._f("funds_budget", s, "D4", AMOUNT, "全年预算数", prompt="全年预算数为调整后预算，执行率以它为分母")
    lay._f("funds_actual", s, "E4", AMOUNT, "全年执行数")
    lay._f("funds_points", s, "F4", POINTS, "预算执行率分值", "=10")
    lay._f("execution_rate", s, "G4", PERCENT, "执行率", '=IF(N(D4)=0,"",E4/D4)')
    lay._f("execution_score", s, "H4", POINTS, "执行率得分", '=IF(G4="","",ROUND(MIN(F4,F4*G4),2))')
    lay._l(s, "B5", "按收入性质分：", "D5")
    lay._l(s, "E5", "按支出性质分：", "H5")
    lay._l(s, "B6", "其中：一般公共预算")
    lay._f("income_general", s, "C6", AMOUNT, "一般公共预算")
    lay._l(s, "B7", "政府性基金拨款")
    lay._f("income_gov_fund", s, "C7", AMOUNT, "政府性基金拨款")
    lay._l(s, "B8", "纳入专户管理的非税收入拨款")
    lay._f("income_special", s, "C8", AMOUNT, "纳入专户管理的非税收入拨款")
    lay._l(s, "B9", "其他资金")
    lay._f("income_other", s, "C9", AMOUNT, "其他资金")
    lay._l(s, "E6", "其中：基本支出")
    lay._f("exp_basic", s, "F6", AMOUNT, "基本支出")
    lay._l(s, "E7", "项目支出")
    lay._f("exp_project", s, "F7", AMOUNT, "项目支出", f"={b}!D12")
    lay._l(s, "A10", "年度总体目标", "A11", "section")
    lay._l(s, "B10", "预期目标", "E10", "header")
    lay._l(s, "F10", "实际完成情况", "I10", "header")
    lay._f("goal_expected", s, "B11", LONGTEXT, "年度总体目标预期目标", merge_to="E11")
    lay._f("goal_actual", s, "F11", LONGTEXT, "年度总体目标实际完成情况", merge_to="I11")
    m = lay.indicator_rows
    first, last = 13, 12 + m
    lay._l(s, "A12", "绩效指标", f"A{last}", "section")
    for c, text in zip("BCDEFGHI", ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "自评得分", "偏差原因分析及改进措施")):
        lay._l(s, f"{c}12", text, role="header")
    lay.lists["indicators"] = ListSpec(
        "indicators", s, first, m,
        {"level1": "B", "level2": "C", "name": "D", "target": "E", "actual": "F",
         "points": "G", "score": "H", "reason": "I"},
        {"level1": TEXT, "level2": TEXT, "name": TEXT, "target": TEXT, "actual": TEXT,
         "points": POINTS, "score": POINTS, "reason": TEXT},
    )
    r = first
    for level1, groups in lay.indicator_groups:
        top = r
        for level2, rows in groups:
            lay._l(s, f"C{r}", level2, f"C{r + rows - 1}" if rows > 1 else None, "input")
            r += rows
        lay._l(s, f"B{top}", level1, f"B{r - 1}" if r - 1 > top else None, "input")
    t = last + 1
    lay._l(s, f"A{t}", "总分", f"F{t}", "header")
    lay._f("points_total", s, f"G{t}", POINTS, "分值合计", f"=F4+SUM(G{first}:G{last})")
    lay._f("total_score", s, f"H{t}", POINTS, "总分", f"=N(H4)+SUM(H{first}:H{last})")
    lay._f("grade", s, f"I{t}", TEXT, "等级",
           f'=IF(COUNT(H{first}:H{last})=0,"",IF(H{t}>=90,"优",IF(H{t}>=80,"良",IF(H{t}>=60,"中","差"))))')
    _footer(lay, s, "se", t + 1)
    lay.anchors += [(s, "B4", "年度资金总额"), (s, "A12", "绩效指标"), (s, f"A{t}", "总分")]

    # ---- 报告正文 (narrative the tables do not hold) -------------------------
    s = SHEET_NARRATIVE
    lay.col_widths[s] = {"A": 30, "B": 100}
    lay.title_rows[s] = "1:2"
    lay._l(s, "A1", f'={_year_text(year, blank="    年")}&"度整体支出绩效自评报告正文"', "B1", "title")
    lay._l(s, "A2", "项目", role="header")
    lay._l(s, "B2", "内容", role="header")
    for i, (key, label, kind) in enumerate(NARRATIVE_FIELDS, start=3):
        lay._l(s, f"A{i}", label)
        lay._f(key, s, f"B{i}", kind, label)
    lay.anchors += [(s, "A4", "主要职能")]
    return lay


def _footer(lay: Layout, sheet: str, prefix: str, r: int) -> None:
    lay._l(sheet, f"A{r}", "填表人：")
    lay._f(f"{prefix}_preparer", sheet, f"B{r}", TEXT, "填表人")
    lay._l(sheet, f"C{r}", "填报日期：")
    lay._f(f"{prefix}_date", sheet, f"D{r}", DATE, "填报日期", prompt="填写日期，如 2025-04-22")
    lay._l(sheet, f"E{r}", "联系电话：")
    lay._f(f"{prefix}_phone", sheet, f"F{r}", PHONE, "联系电话")
    lay._l(sheet, f"A{r + 1}", "单位负责人签字：")
    lay._f(f"{prefix}_signature", sheet, f"B{r + 1}", TEXT, "单位负责人签字")


TEMPLATE_LAYOUT = build_layout()
