"""PE4xx: required fields, readable cells, reasons for deviations, duplicates, vague targets (domain.md §5)."""
from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from .. import layout as L
from ..layout import TEMPLATE_LAYOUT
from ..model import Footer, Form, Loc, Value
from ..scoring import Comparator, ScoreKind, normalize, parse_target
from .base import (DATE, EMPTY, EPS, NA, NUMBER, TEXT, UNKNOWN, Ctx, E, I, W, amt, clean_name, disp, info, not_computed, num,
                   pct, pts, rule)
from .scores import lines_of

C = "完整性"


def _where(v: Value, key: str, form: Form | None = None) -> Value | Loc | None:
    """The cell to point at: the value's own, else the template's address for that field when the
    workbook is our template and has that sheet (never a cell that is not there), else the workbook."""
    if v.loc:
        return v
    spec = TEMPLATE_LAYOUT.fields.get(key)
    if spec is None:
        return None
    if form is not None and form.sheets_present and spec.sheet not in form.sheets_present:
        return None
    if form is not None and not form.template_version:
        return None  # a department's own layout: the template's address means nothing there
    return Loc(spec.sheet, spec.cell)


def _footers(form: Form) -> list[tuple[str, Footer, str]]:
    t = form.tables
    out = []
    if t is None or "footer.bd" in t:
        out.append(("基础数据表", form.basic.footer, "bd"))
    if t is None or "footer.se" in t:
        out.append(("绩效自评表", form.self_eval.footer, "se"))
    return out


@rule(info("PE401", "必填项未填", E, C, """
部门（单位）名称、年度、年度资金总额一行的年初预算数、全年预算数、全年执行数和分值、填表人、填报日期、联系电话
都必须填写，否则无法复核和归档；手工填写的表中，执行率、得分和总分也不能空着。改正：补填。"""))
def pe401(ctx: Ctx) -> None:
    form = ctx.form
    u, su = form.unit_name, form.self_eval.unit_name
    if _missing(u) and _missing(su):
        v = u if u.kind is UNKNOWN or su.kind is not UNKNOWN else su
        ctx.add("PE401", _where(v, "unit_name", form), f"部门（单位）名称{_why(v)}。{_fix(v)}", "单位全称", _shown(v))
    if _missing(form.year):
        ctx.add("PE401", _where(form.year, "year", form), f"年度{_why(form.year)}。{_fix(form.year)}", "评价年度，如 2024", _shown(form.year))
    f = form.self_eval.funds
    for v, key, label in ((f.initial_budget, "funds_initial", "年初预算数"), (f.budget, "funds_budget", "全年预算数"),
                          (f.actual, "funds_actual", "全年执行数"), (f.points, "funds_points", "预算执行率分值")):
        if _missing(v) and not v.template_formula:
            ctx.add("PE401", _where(v, key, form), f"年度资金总额·{label}{_why(v)}。{_fix(v)}", "金额", _shown(v))
    # derived figures typed by hand (the 原表): blank means the form is unfinished; in our template they
    # are formulas, and a blank there is a missing cached value (PE503), not a missing input
    se = form.self_eval
    for v, label in ((f.execution_rate, "年度资金总额·执行率"), (f.score, "年度资金总额·得分"), (se.total_score, "总分")):
        if v.kind is EMPTY and v.loc and not v.template_formula and se.indicators:
            ctx.add("PE401", v, f"{label}未填写。请按表中数字算出后补填", label.split("·")[-1], "空")
    for sheet, ft, p in _footers(form):
        for v, key, label in ((ft.preparer, "preparer", "填表人"), (ft.date, "date", "填报日期"),
                              (ft.phone, "phone", "联系电话")):
            if _missing(v):
                ctx.add("PE401", _where(v, f"{p}_{key}", form), f"{sheet}的{label}{_why(v)}。{_fix(v)}", label, _shown(v))


def _fix(v: Value) -> str:
    """The closing words: fill in a blank, recalculate a formula with no result, correct anything else."""
    if v.kind is UNKNOWN:
        return "请在 Excel 中重新计算后保存"
    return "请补填" if v.kind is EMPTY else "请核对并改正"


def _missing(v: Value) -> bool:
    """A required field with nothing in it: blank, or a formula with no computed value (UNKNOWN)."""
    return v.kind is EMPTY or (v.kind is UNKNOWN and not v.template_formula)  # our own formula: PE503


def _why(v: Value) -> str:
    return "是公式，没有计算结果" if v.kind is UNKNOWN else "未填写"


def _shown(v: Value) -> str:
    return "公式无计算结果" if v.kind is UNKNOWN else "空"


_KIND_NA, _KIND_QUALITATIVE = ScoreKind.NA, ScoreKind.QUALITATIVE
_UPWARD = (Comparator.GE, Comparator.GT, Comparator.EQ)
_DOWNWARD = (Comparator.LE, Comparator.LT)


def _scored(ind) -> bool:
    t = parse_target(disp(ind.target))
    return t.kind is not _KIND_NA and normalize(disp(ind.name)) not in ("不适用", "")


@rule(info("PE402", "计分指标缺少分值、自评得分或实际完成值", E, C, """
每个计分的三级指标都要有分值、实际完成值和自评得分，否则无法核对得分。改正：补填；确实不适用的指标，
三级指标写“不适用”并且不设分值。"""))
def pe402(ctx: Ctx) -> None:
    for ind in ctx.form.self_eval.indicators:
        if not _scored(ind):
            continue
        for v, label in ((ind.points, "分值"), (ind.actual, "实际完成值"), (ind.score, "自评得分")):
            if v.kind is EMPTY:
                ctx.add("PE402", v if v.loc else ind.name, f"指标“{disp(ind.name)}”的{label}未填写。请补填", label, "空")


@rule(info("PE403", "填报日期不是有效日期或晚于今天", E, C, """
填报日期须是真实日期（如 2025年4月22日 或 2025-04-22），且不能晚于今天。改正：按实际填报日期填写。"""))
def pe403(ctx: Ctx) -> None:
    today = ctx.s.today_date()
    for sheet, ft, _ in _footers(ctx.form):
        v = ft.date
        if v.kind is DATE:
            if v.date > today:
                ctx.add("PE403", v, f"{sheet}的填报日期 {v.date.isoformat()} 晚于今天 {today.isoformat()}。请核对并改为实际填报日期",
                        f"不晚于 {today.isoformat()}", v.date.isoformat())
        elif v.kind not in (EMPTY, UNKNOWN):
            ctx.add("PE403", v, f"{sheet}的填报日期“{disp(v)}”不是有效日期。请改为日期，如 2025-04-22", "日期，如 2025-04-22", disp(v))


MAX_PHONE_CHARS = 40  # bounds the work of any settings regex (safe subset: settings._unsafe_regex)
_PHONE_SPACE = re.compile(r"[\s　]")
_PHONE_SPLIT = re.compile(r"[,，/、;；]")


@lru_cache(maxsize=64)
def _phone_patterns(patterns: tuple[str, ...]) -> list[re.Pattern]:
    return [re.compile(p) for p in patterns]


def _phone_text(v: Value) -> str:
    if v.kind is NUMBER and v.number == v.number.to_integral():
        return str(int(v.number))
    return _PHONE_SPACE.sub("", normalize(disp(v))).replace("—", "-").replace("－", "-")


@rule(info("PE404", "联系电话格式不对", W, C, """
联系电话应为手机号（11 位，1 开头）或固定电话（区号-号码，可带分机）。常见错误是少一位、多一位或写了姓名。
改正：填写能打通的号码。号码格式可在设置 phone_patterns 中调整。"""))
def pe404(ctx: Ctx) -> None:
    try:
        pats = _phone_patterns(ctx.s.phone_patterns)
    except TypeError:  # a list rather than a tuple (settings built by hand)
        pats = [re.compile(p) for p in ctx.s.phone_patterns]
    for sheet, ft, _ in _footers(ctx.form):
        v = ft.phone
        if v.kind is EMPTY or v.kind is UNKNOWN:
            continue
        text = _phone_text(v)
        parts = [p for p in _PHONE_SPLIT.split(text) if p]
        # a number longer than MAX_PHONE_CHARS is no phone number: settings regexes never see long text
        if not parts or not all(len(x) <= MAX_PHONE_CHARS and any(p.fullmatch(x) for p in pats) for x in parts):
            ctx.add("PE404", v, f"{sheet}的联系电话“{disp(v)}”不是手机号或固定电话。请核对并改正", "手机号或固定电话",
                    disp(v))


@rule(info("PE405", "单位负责人未签字", I, C, """
单位负责人签字在纸质件上完成，电子表格常为空，这里只作提示。"""))
def pe405(ctx: Ctx) -> None:
    for sheet, ft, p in _footers(ctx.form):
        if ft.signature.kind is EMPTY:
            ctx.add("PE405", _where(ft.signature, f"{p}_signature", ctx.form), f"{sheet}的单位负责人签字为空，请在纸质件上签字",
                    "签字", "空")


@rule(info("PE406", "单元格内容无法读作数字或日期", E, C, """
应填数字（金额、分值、人数）或日期的单元格里是无法识别的内容，例如“约3500”“3527.66.1”或一段文字。
这样的单元格不参与任何合计和复核。改正：只填数字（单位万元，不带单位和说明），说明写在备注或报告中。
填报日期无法识别时报 PE403（每个单元格只报一次）。"""),
      info("PE416", "数字以文本形式存储", W, C, """
（仅检查本模板）单元格里的数字是文本（如“195万元”“３５２７．６６”“1,020.00”）。本工具能读出来，Excel 却不当它是数字：
求和公式（合计、分值合计、总分）跳过文本，合计少算这个数；执行率、控制率公式把它当作 0，显示为空白；加减除运算
换算不了时显示 #VALUE!。因此只在文本单元格报一次，说明哪些公式受影响、合计少算多少，受影响的合计、差额和比率
不再另报 PE1xx、PE2xx、PE5xx（它们的公式没有错）。级别：改变了合计、总分的为错误，只影响差额或比率的为警告，
没有公式引用的为提示。改正：删去“万元”等文字或全角字符，把单元格设为数值格式后重新输入数字。"""))
def pe406(ctx: Ctx) -> None:
    # all PE406 then all PE416: each in form order, and the final sort keeps the order within a code
    sc = ctx.scan()
    if sc.invalid:
        dates = {id(ft.date) for _, ft, _ in _footers(ctx.form)}  # PE403 reports those
        for v in sc.invalid:
            if v.loc and id(v) not in dates:
                why = f"：{v.problem}" if v.problem else ""
                ctx.add("PE406", v, f"单元格内容“{v.raw}”无法识别{why}。请改为数字（或日期）", "数字或日期", str(v.raw))
    if not ctx.form.template_version or not sc.number_text:
        return
    notes = ctx.text_effects().notes
    for v in sc.number_text:
        note = notes.get(id(v))
        if note is not None:
            shown = v.raw.strip()
            ctx.add("PE416", v, f"数字“{shown}”以文本形式存储：{note.clause}。{note.advice}", disp(v), shown,
                    note.severity)


def _no_reason(v: Value, words) -> bool:
    if v.kind in (EMPTY, NA):
        return True
    t = normalize(disp(v))
    if t == "":
        return True
    try:
        return t in _normalized_words(words)
    except TypeError:  # a list rather than a tuple (settings built by hand)
        return t in {normalize(w) for w in words}


@lru_cache(maxsize=64)
def _normalized_words(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normalize(w) for w in words)


def _missing_reason(v: Value) -> str:
    """Why the reason does not count: blank, or a no-reason word such as “无”."""
    t = normalize(disp(v)) if v.kind is not EMPTY else ""
    return f"偏差原因填写为“{t}”，不算说明" if t else "偏差原因分析未填写"


@rule(info("PE407", "自评得分低于分值却未说明偏差原因", W, C, """
自评得分低于分值时，“偏差原因分析及改进措施”必须写明扣分原因和改进措施；“无”“—”“/”不算说明。
改正：写明未达成的原因和下一步措施。"""),
      info("PE408", "超额完成目标却未说明原因", W, C, """
实际完成值偏离目标值达到设置的阈值（默认 30%）时，说明年度目标定得偏低或完成值有误，须在偏差原因中解释。
不自动扣分。改正：说明超额原因，或调整下一年度的目标值。"""))
def pe407(ctx: Ctx) -> None:
    words = ctx.s.no_reason_words
    for x in lines_of(ctx):
        ind = x.ind
        if x.points is not None and x.written is not None and x.written < x.points - EPS:
            if _no_reason(ind.reason, words):
                ctx.add("PE407", ind.reason if ind.reason.loc else ind.score,
                        f"指标“{disp(ind.name)}”自评得分 {pts(x.written)} 低于分值 {pts(x.points)}，"
                        f"{_missing_reason(ind.reason)}。请在偏差原因分析中写明扣分原因和改进措施",
                        "偏差原因及改进措施", disp(ind.reason) or "空")
        r = x.result
        if not ctx.s.reason_required_over_achievement or r.deviation is None or r.target is None:
            continue
        c = r.target.comparator
        if c in _UPWARD:
            dev = r.deviation
        elif c in _DOWNWARD:
            dev = -r.deviation
        else:
            continue
        if dev >= ctx.s.over_achievement - EPS and _no_reason(ind.reason, words):
            ctx.add("PE408", ind.reason if ind.reason.loc else ind.actual,
                    f"指标“{disp(ind.name)}”实际完成值偏离目标 {pct(dev)}（达到 {pct(ctx.s.over_achievement)}），"
                    f"{_missing_reason(ind.reason)}。请写明超额完成的原因，或核对实际完成值与目标值", "超额原因说明", disp(ind.reason) or "空")


@rule(info("PE409", "执行率偏低却未说明原因", W, C, """
执行率低于下限（默认 90%）时，须说明原因（可在设置中关闭）。本表执行率一行没有原因栏，原因写在与预算执行相关的
指标行的“偏差原因分析及改进措施”中：二级指标为成本指标的行，或三级指标含“预算”“执行”“支出”“资金”的行
（设置 execution_reason_level2、execution_reason_keywords）。其他指标行的原因说明的是该指标，不算执行率的原因；
“无”“—”等也不算。改正：在成本指标（或上述指标）行的偏差原因中写明执行率偏低的原因和改进措施。"""))
def pe409(ctx: Ctx) -> None:
    s = ctx.s
    if not s.reason_required_low_execution:
        return
    f = ctx.form.self_eval.funds
    a, b = num(f.actual), num(f.budget)
    if a is None or b is None or b == 0 or a / b >= s.low_execution - EPS:
        return
    lines = [i for i in ctx.form.self_eval.indicators if _budget_line(i, s)]
    if any(not _no_reason(i.reason, s.no_reason_words) for i in lines):
        return
    where = f.execution_rate if f.execution_rate.loc else (
        f.actual if f.actual.loc else _where(f.execution_rate, "execution_rate", ctx.form))
    places = _reason_places(s)
    if lines:
        found = "、".join(f"“{normalize(disp(i.name)) or i.row}”" for i in lines[:3]) + ("等" if len(lines) > 3 else "")
        why = f"{found}的{_missing_reason(lines[0].reason)}" if len(lines) == 1 else f"{found}都没有写明原因"
    else:
        why = "表中没有与预算执行相关的指标行"
    ctx.add("PE409", where,
            f"执行率 {pct(a / b)} 低于 {pct(s.low_execution)}，未说明原因（{why}）。本表执行率一行没有原因栏，"
            f"请在{places}的“偏差原因分析及改进措施”中写明", "执行率偏低的原因", "空")


def _budget_line(ind, s) -> bool:
    """An indicator line where the reason for a low 执行率 belongs (settings-driven)."""
    l2 = normalize(disp(ind.level2))
    if l2 and any(w in l2 for w in s.execution_reason_level2):
        return True
    name = normalize(disp(ind.name))
    return bool(name) and any(w in name for w in s.execution_reason_keywords)


def _reason_places(s) -> str:
    parts = []
    if s.execution_reason_level2:
        parts.append("、".join(f"{w}" if w.endswith("指标") else f"{w}指标" for w in s.execution_reason_level2))
    if s.execution_reason_keywords:
        parts.append("三级指标含" + "".join(f"“{w}”" for w in s.execution_reason_keywords) + "的行")
    return "（或".join(parts) + ("）" if len(parts) > 1 else "")


@rule(info("PE410", "项目支出中有重名项目", W, C, """
项目支出清单中两行名称相同（去掉序号和空格后），复核人无法区分，也可能是重复填报。
改正：写出项目全称以便区分，或合并重复行。"""))
def pe410(ctx: Ctx) -> None:
    seen: dict[str, Value] = {}
    for row in ctx.form.basic.projects:
        key = clean_name(disp(row.name))
        if not key:
            continue
        if key in seen:
            first = seen[key]
            where = f"（与 {first.loc.cell} 同名）" if first.loc else ""
            ctx.add("PE410", row.name, f"项目名称“{key}”重复{where}。请核对是否重复填列；确为两个项目的，改用能区分的名称", "不重复的项目名称", disp(row.name).strip())
        else:
            seen[key] = row.name


@rule(info("PE411", "不适用的指标仍设有分值", W, C, """
三级指标写“不适用”或指标值为“—”的行不应设分值，否则分值合计与实际计分的指标对不上。
改正：删去该行分值，把分值分配给实际计分的指标。"""))
def pe411(ctx: Ctx) -> None:
    for ind in ctx.form.self_eval.indicators:
        w = num(ind.points)
        if w is None or w <= 0:
            continue
        if _not_applicable(ind):
            a = pts(w)
            ctx.add("PE411", ind.points, f"指标“{disp(ind.name) or '不适用'}”不适用，却设有分值 {a}。请删去分值，或改填适用的指标", "无分值", a)


def _not_applicable(ind) -> bool:
    """Stated as 不适用: the target is “不适用”/“—”, or the 三级指标 reads 不适用. A formula with no computed
    value (UNKNOWN) or a blank target says nothing about applicability."""
    t = ind.target
    if t.kind is NA or (t.kind is TEXT and parse_target(disp(t)).kind is _KIND_NA):
        return True
    return normalize(disp(ind.name)) == "不适用"


@rule(info("PE412", "指标值用语模糊，无法衡量", W, C, """
年度指标值应是可衡量的目标（“≥90%”“=24”“≤5天”），而不是“提高”“改善”“有效提升”这类无法判断是否完成的说法。
改正：写出比较符和数值；确属定性目标的，写明评判标准。"""))
def pe412(ctx: Ctx) -> None:
    for ind in ctx.form.self_eval.indicators:
        t = parse_target(disp(ind.target))
        if t.kind is not _KIND_QUALITATIVE:
            continue
        hit = next((w for w in ctx.s.vague_words if w in t.text), None)
        if hit:
            ctx.add("PE412", ind.target, f"指标“{disp(ind.name)}”的年度指标值“{t.text}”含模糊用语“{hit}”，无法衡量是否完成。请改为可衡量的指标值（如“≥90%”）",
                    "比较符和数值，如 ≥90%", t.text)


@rule(info("PE413", "公用经费合计未填而其中各项已填", W, C, """
公用经费的“其中”各项（办公费、水电差旅费、会议培训费）已填，而公用经费合计为空，复核人无法判断公用经费总额。
改正：填写公用经费合计（基本支出中的一般商品和服务支出）。"""))
def pe413(ctx: Ctx) -> None:
    b = ctx.form.basic
    cols = []
    where = None
    for attr, label in (("prev", "上年决算数"), ("budget", "本年预算数"), ("actual", "本年决算数")):
        total = getattr(b.public_total, attr)
        if (total.kind is not EMPTY and total.kind is not NA) or not_computed(total):
            continue
        items = [num(getattr(x, attr)) for x in b.public_items()]
        if any(n is not None and n != 0 for n in items):
            s = sum((n for n in items if n is not None), Decimal(0))
            cols.append(f"{label}（其中各项合计 {amt(s)}）")
            if where is None:
                where = total
    if cols:
        ctx.add("PE413", where, f"公用经费合计未填写，而其中各项已填：{'；'.join(cols)}。请补填公用经费合计（不小于其中各项之和）", "公用经费合计", "空")


@rule(info("PE415", "读取时有内容未找到", I, C, """
读取工作簿时没有找到的表格或栏目（例如工作表改了名、缺少报告正文），相关检查因此跳过。
改正：使用官方模板，或把工作表和栏目名称改回标准名称。"""))
def pe415(ctx: Ctx) -> None:
    for note in ctx.form.read_notes:
        ctx.add("PE415", None, f"读取时：{note}", None, None)



@rule(info("PE417", "工作簿的“设置”表改变了校验设置", I, C, """
报送的工作簿带有“设置”工作表（A 列设置项、B 列值），改变了本工具的阈值（如执行率下限、等级划分）。为防止报送单位
降低财政局的校验要求：“设置”表只能让校验更严（如调高执行率下限、调低容差），放宽的写法不采用（财政局设置文件
——--config，或运行命令的当前目录中的 perfeval.toml——可用 sheet_may_relax 逐项允许）；权重、等级划分等没有“更严”
方向的设置项，以及启用规则、忽略规则、规则级别，只能由财政局规定。采用的列为提示，未采用的列为警告，复核人据此判断。改正：删除“设置”工作表，或与财政局确认。"""))
def pe417(ctx: Ctx) -> None:
    notes = ctx.s.sheet_notes
    if not notes:
        return
    sheet = ctx.form.sheet_names.get(L.SHEET_SETTINGS, L.SHEET_SETTINGS)
    cells = ctx.form.settings_cells
    for key, value, why in notes:
        row = cells.get(key)
        where = Loc(sheet, row[0] if row else "A1")  # the row that set it (A1 when the reader gave no cells)
        if why is None:
            ctx.add("PE417", where, f"工作簿的“设置”表改变了校验设置：{key}: {value}（已采用）", "财政局的设置",
                    f"{key}: {value}")
        else:
            ctx.add("PE417", where, f"工作簿的“设置”表试图改变校验设置：{key}: {value}（未采用：{why}）",
                    "财政局的设置", f"{key}: {value}", severity=W)  # an attempt: visible
