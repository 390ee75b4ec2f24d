"""Form families, declared once as data (the sqlfluff-dialect habit).

A family is a description: the labels that identify it, the tables it has, the label variants of its
fields, the column heads of its fund block and indicator table, its weights and which rules apply.
The national 10号 项目支出绩效自评表 is the base; every other family is a copy with labels renamed,
columns or tables added or dropped, rules switched on or off (``Family.copy_as``). One generic reader
(forms/reader.py) walks any description; the Hunan 部门整体 family keeps the seed's reader.

Adding a locality: a new ``BASE.copy_as("key", ...)`` below, plus test files. No reader code.
Labels are compared after values.norm_label (no spaces or line breaks, half-width, no colons).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal

D = Decimal

# Table roles (shared with the Hunan reader's sheet roles) and their Chinese names for messages.
SG, BASIC, SELF, NARRATIVE = "sg", "basic", "self", "narrative"
TABLE_NAMES = {SG: "三公经费情况表", BASIC: "基础数据表", SELF: "绩效自评表", NARRATIVE: "报告正文"}


@dataclass(frozen=True)
class Family:
    key: str
    title: str  # Chinese, as `perfeval forms` lists it
    kind: str  # "project" | "dept"
    reader: str  # "generic" (forms/reader.py) | "hunan" (readers/anchors.py) | "hunan2018"
    # Recognition: label fragments (normalised) and their weight; a family is chosen by the best score
    # share over its own marks. `anti` fragments rule the family out on a sheet.
    marks: tuple[tuple[str, float], ...] = ()
    anti: tuple[str, ...] = ()
    tables: tuple[str, ...] = (SELF,)  # table roles the family has
    # Head fields: key -> label variants (the value stands right of the label, or after its colon).
    head: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Fund block: the total row's labels, the source rows' labels, the column heads.
    total_labels: tuple[str, ...] = ("年度资金总额", "资金总额", "总额")
    source_labels: tuple[str, ...] = ("当年财政拨款", "本年财政拨款", "上年结转资金", "上年结转", "其他资金",
                                      "财政资金", "财政专户管理资金", "单位资金", "财政拨款")
    fund_cols: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("initial_budget", ("年初预算",)),
        ("execution_rate", ("执行率",)),
        ("actual", ("全年执行数", "预算执行数", "执行数")),
        ("budget", ("全年预算数", "调整后预算", "全年(调整)预算数", "全年调整预算数", "预算数")),
        ("points", ("分值", "权重")),
        ("score", ("得分",)),
    )
    # Indicator table: attr -> column-head fragments, tried in this order per column.
    ind_header: tuple[str, ...] = ("三级指标", "一级指标")  # a fragment every indicator header row holds
    ind_cols: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("level1", ("一级指标",)),
        ("level2", ("二级指标",)),
        ("name", ("三级指标",)),
        ("target", ("年度指标值", "指标值", "目标值")),
        ("actual", ("实际完成值", "完成值")),
        ("points", ("分值",)),
        ("score", ("得分",)),
        ("reason", ("偏差原因", "原因分析", "改进措施")),
    )
    ind_total: tuple[str, ...] = ("总分", "合计")  # the row that closes the indicator table
    # Free-text fields after the table (Sichuan): key -> labels.
    text_fields: tuple[tuple[str, tuple[str, ...]], ...] = ()
    goal_labels: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("goal_expected", ("预期目标", "项目年度目标", "年初绩效目标")),
        ("goal_actual", ("实际完成情况", "年度目标完成情况", "全年目标实际完成情况")),
    )
    footer: tuple[tuple[str, tuple[str, ...]], ...] = ()  # preparer/date/phone labels, when the family has them
    # Scoring: the usual weights when headings state no points (财预〔2020〕10号).
    weights: tuple[tuple[str, Decimal], ...] = (("产出", D(50)), ("效益", D(30)), ("满意度", D(10)))
    weight_effect_no_satisfaction: Decimal = D(40)
    weight_execution: Decimal = D(10)
    dominant_share: Decimal = D("0.75")  # one indicator carrying more than this share of the points: warn
    rules_off: frozenset[str] = frozenset()  # codes that do not apply to this family
    note: str = ""  # where the layout comes from (for `perfeval forms`)
    year_from_columns: bool = False  # "2018年决算数"-style heads carry the year

    def copy_as(self, key: str, **changes) -> "Family":
        """A new family from this one (sqlfluff's dialect.copy_as): rename labels, add or drop parts."""
        return dataclasses.replace(self, key=key, **changes)

    def head_labels(self, key: str) -> tuple[str, ...]:
        return dict(self.head).get(key, ())

    @property
    def is_project(self) -> bool:
        return self.kind == "project"


_PROJECT_HEAD = (
    ("project", ("项目名称",)),
    ("department", ("主管部门", "主管单位")),
    ("implementer", ("实施单位", "项目实施单位", "项目单位")),
)

# ---- the base: national 10号 项目支出绩效自评表 ----------------------------------------------------
PROJECT_10 = Family(
    key="project_10",
    title="项目支出绩效自评表（财预〔2020〕10号附件样式）",
    kind="project",
    reader="generic",
    marks=(("项目支出绩效自评表", 3), ("项目名称", 2), ("主管部门", 1), ("实施单位", 1), ("项目资金", 1),
           ("年度资金总额", 2), ("全年预算数", 1), ("全年执行数", 1), ("年度总体目标", 1), ("一级指标", 1),
           ("三级指标", 1), ("年度指标值", 1), ("实际完成值", 1), ("偏差原因分析及改进措施", 1)),
    anti=("因公出国经费", "财政供养人员情况", "部门整体支出绩效自评表", "执行率权重", "指标性质"),
    head=_PROJECT_HEAD,
    note="财政部财预〔2020〕10号《项目支出绩效评价管理办法》附件；安徽、湖北、河北等地照此印发",
)

# 部门整体, 10号 style: "部门" instead of the project head, fund block called 预算资金.
DEPT_10 = PROJECT_10.copy_as(
    "dept_10",
    title="部门整体支出绩效自评表（10号样式）",
    kind="dept",
    marks=(("部门整体支出绩效自评表", 3), ("预算资金", 1), ("部门", 1), ("年度资金总额", 2), ("全年预算数", 1),
           ("全年执行数", 1), ("年度总体目标", 1), ("一级指标", 1), ("三级指标", 1), ("年度指标值", 1),
           ("实际完成值", 1)),
    anti=("因公出国经费", "财政供养人员情况", "项目名称", "执行率权重", "指标性质", "编报单位", "按收入性质分",
          "按支出性质分"),
    head=(("unit", ("部门名称", "部门", "预算部门", "单位名称", "预算部门、单位名称", "填报单位", "编报单位")),),
    note="安徽等地的部门整体支出绩效自评表，样式同 10号项目表",
)

# Sichuan 部门预算项目支出绩效自评表: 指标性质 + 指标值 + 度量单位, 权重, 评价结论 / 存在问题 / 改进措施.
SICHUAN_PROJECT = PROJECT_10.copy_as(
    "sichuan_project",
    title="部门预算项目支出绩效自评表（四川样式）",
    marks=(("部门预算项目支出绩效自评表", 3), ("报表编号", 2), ("项目名称", 2), ("实施单位(盖章)", 1),
           ("预算执行情况", 1), ("调整后预算数", 1), ("预算执行数", 1), ("指标性质", 2), ("度量单位", 2),
           ("完成值", 1), ("评价结论", 1), ("项目负责人", 1), ("财务负责人", 1)),
    anti=("因公出国经费", "财政供养人员情况", "执行率权重"),
    ind_cols=(
        ("level1", ("一级指标",)),
        ("level2", ("二级指标",)),
        ("name", ("三级指标",)),
        ("nature", ("指标性质",)),
        ("target", ("指标值",)),
        ("unit", ("度量单位", "计量单位")),
        ("actual", ("完成值",)),
        ("points", ("权重", "分值")),
        ("score", ("得分",)),
        ("reason", ("未完成原因", "原因分析", "偏差原因")),
    ),
    text_fields=(("conclusion", ("评价结论",)), ("problems", ("存在问题",)), ("improvements", ("改进措施",))),
    footer=(("leader", ("项目负责人",)), ("finance_leader", ("财务负责人",))),
    weights=(),  # 绩效指标(90分) split by the unit (产出 60 · 效益 30 is common): no national split to check
    note="四川省部门预算项目支出绩效自评表（报表编号 510000_…zp），一个项目一张表，常多张连排",
)

# Chongqing 部门整体绩效自评表: 执行率权重, 得分系数, 指标权重, 是否核心指标; no 一级/二级 headings.
CHONGQING_DEPT = PROJECT_10.copy_as(
    "chongqing_dept",
    title="部门整体绩效自评表（重庆样式）",
    kind="dept",
    marks=(("部门整体绩效自评表", 3), ("财政处室", 2), ("自评总分", 1), ("部门联系人", 1), ("部门预算执行情况", 1),
           ("执行率权重", 3), ("执行率得分", 1), ("当年绩效目标", 1), ("得分系数", 3), ("指标权重", 2),
           ("是否核心指标", 2), ("调整指标值", 1)),
    anti=("因公出国经费", "财政供养人员情况", "项目名称"),
    head=(("unit", ("主管部门",)),),
    total_labels=("部门预算执行情况",),
    source_labels=(),
    fund_cols=(
        ("initial_budget", ("年初预算",)),
        ("points", ("执行率权重",)),
        ("score", ("执行率得分",)),
        ("execution_rate", ("执行率",)),
        ("actual", ("全年执行数",)),
        ("budget", ("全年(调整)预算数", "调整)预算数", "全年预算数")),
    ),
    ind_header=("指标名称",),
    ind_cols=(
        ("name", ("指标名称",)),
        ("unit", ("计量单位",)),
        ("nature", ("指标性质",)),
        ("target_initial", ("年初指标值",)),
        ("target", ("调整指标值",)),
        ("actual", ("全年完成值", "完成值")),
        ("coefficient", ("得分系数",)),
        ("points", ("指标权重",)),
        ("score", ("指标得分",)),
        ("core", ("是否核心指标",)),
    ),
    ind_total=("合计", "总分"),
    goal_labels=(("goal_expected", ("年初绩效目标",)), ("goal_actual", ("全年目标实际完成情况",))),
    footer=(("preparer", ("部门联系人",)), ("phone", ("联系电话",))),
    weights=(),  # no 一级 headings: 执行率 10 + indicators 90
    # bare targets ("100%", "26次") carry no comparison here: the unit scores by 得分系数 (PE613), not by
    # the national formula
    rules_off=frozenset({"PE203", "PE209"}),
    note="重庆市部门整体绩效自评表（执行率 10 分 + 指标 90 分，指标得分 = 权重 × 得分系数）",
)

# The seed's family: Hunan 部门整体 (three tables), read by readers/anchors.py (and our template's names).
HUNAN_DEPT = PROJECT_10.copy_as(
    "hunan_dept",
    title="部门整体支出绩效自评表（湖南样式：三公经费情况表 + 基础数据表 + 自评表）",
    kind="dept",
    reader="hunan",
    marks=(("因公出国经费", 2), ("公务用车运行", 1), ("公务接待费", 1), ("三公经费情况", 1), ("财政供养人员", 2),
           ("经费控制情况", 2), ("公用经费", 1), ("公车购置", 1), ("厉行节约", 1), ("年度资金总额", 2),
           ("按收入性质分", 2), ("按支出性质分", 2), ("部门整体支出绩效自评表", 2), ("一级指标", 1),
           ("自评得分", 1)),
    anti=("项目名称", "执行率权重", "指标性质", "评价标准"),
    head=(("unit", ("编报单位", "预算部门、单位名称", "部门(单位)名称", "单位名称")),),
    tables=(SG, BASIC, SELF),
    note="益阳市等湖南市县使用的部门整体支出绩效自评表（本工具模板即此样式）",
)

# Hunan 2018-era: 基础数据表 (附件3) + 评价指标表 (投入 / 过程 / 产出 / 效果, rules written as 评价标准).
HUNAN_2018 = HUNAN_DEPT.copy_as(
    "hunan_2018",
    title="部门整体支出绩效评价基础数据表 + 评价指标表（湖南 2018 年前后样式）",
    reader="hunan2018",
    marks=(("财政供养人员", 2), ("经费控制情况", 2), ("公车购置", 1), ("公用经费", 1), ("评价标准", 3),
           ("指标说明", 2), ("投入", 1), ("过程", 1), ("效果", 1), ("附件3", 1), ("部门整体支出预算调整", 1)),
    anti=("项目名称", "执行率权重", "指标性质", "年度资金总额"),
    tables=(BASIC, "criteria"),
    year_from_columns=True,
    note="湖南省 2018 年前后的部门整体支出绩效评价基础数据表与评价指标表（评分规则写在“评价标准”中）",
)

FAMILIES: dict[str, Family] = {f.key: f for f in (HUNAN_DEPT, PROJECT_10, DEPT_10, SICHUAN_PROJECT,
                                                  CHONGQING_DEPT, HUNAN_2018)}


def get_family(key: str) -> Family | None:
    return FAMILIES.get((key or "").strip())
