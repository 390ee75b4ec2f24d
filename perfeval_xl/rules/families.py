"""PE6xx: rules the form families need (domain.md §8): absent tables, fund sources, scored lines with
nothing to score, text actuals, deadlines, template residue, standard weights, 得分系数.

Each rule reads what the family's reader put in the model; which rules run for which family is
declared in rules/needs.py and forms/families.py (rules_off)."""
from __future__ import annotations

import re
from decimal import Decimal

from ..forms.families import NATIONAL_WEIGHTS, get_family
from ..model import Value
from ..scoring import ScoreKind, normalize, parse_target
from .base import EMPTY, EPS, NA, NUMBER, TEXT, ZERO, Ctx, E, I, W, amt, disp, heading_points, info, num, pct, pts, rule
from .deadlines import actual_month, deadline_month
from .scores import groups_of

G = "表样"


@rule(info("PE601", "未附表样应有的表", W, G, """
所识别表样应有的表（如湖南样式的三公经费情况表、基础数据表、绩效自评表）在工作簿中没有找到。缺表不是 0：
依赖这张表的校验不会运行，也不会报“未填写”。改正：补附这张表后重新报送，或确认本地不要求此表。"""))
def pe601(ctx: Ctx) -> None:
    for name in ctx.form.missing_tables:
        ctx.add("PE601", None, f"未附{name}：依赖{name}的校验未运行。请补附{name}后重新报送", name, "未附")


_PROJECT_HEAD = (("name", "项目名称"), ("department", "主管部门"), ("implementer", "实施单位"))


@rule(info("PE602", "表头必填项未填", E, G, """
项目表的项目名称、主管部门、实施单位，部门表的部门名称，以及年度和年度资金总额一行的全年预算数、全年执行数、
分值，都必须填写。表样中没有的栏目不要求填写。改正：补填。"""))
def pe602(ctx: Ctx) -> None:
    form = ctx.form
    p = form.project
    if p is not None:
        for attr, label in _PROJECT_HEAD:
            v = getattr(p, attr)
            if v.kind is EMPTY and v.loc is not None:
                ctx.add("PE602", v, f"{label}未填写。请填写{label}", label, "空")
        if p.name.loc is None and p.department.loc is None:
            ctx.add("PE602", None, "未找到“项目名称”一栏。请按表样填写项目名称", "项目名称", "未找到")
    elif "unit" in _head_keys(form) and form.unit_name.kind is EMPTY:
        ctx.add("PE602", form.unit_name if form.unit_name.loc else None, "部门名称未填写。请填写部门全称", "部门名称", "空")
    if form.year.kind is not NUMBER:
        ctx.add("PE602", None, "未读出年度（标题中的“（2023年度）”或“2023年度…自评表”）。请在标题中写明评价年度",
                "评价年度", "未找到")
    f = form.self_eval.funds
    for v, label in ((f.budget, "全年预算数"), (f.actual, "全年执行数"), (f.points, "分值")):
        if v.kind is EMPTY and v.loc is not None and not _total_left_blank(form):
            ctx.add("PE602", v, f"年度资金总额·{label}未填写。请填写{label}", label, "空")


def _head_keys(form) -> set[str]:
    fam = get_family(form.family)
    return {k for k, _ in fam.head} if fam is not None else set()


def _total_left_blank(form) -> bool:
    """The total row is blank while its source rows hold amounts: PE604 names that once."""
    return any(num(getattr(s, a)) for s in form.fund_sources for a in ("budget", "actual", "initial_budget"))


_COLS = (("initial_budget", "年初预算数"), ("budget", "全年预算数"), ("actual", "全年执行数"))


@rule(info("PE603", "资金来源之和与年度资金总额不符", E, G, """
年度资金总额（总额）每一列 = 其下各资金来源（当年财政拨款、上年结转资金、其他资金，或财政资金、财政专户管理资金、
单位资金、其他资金）之和。改正：核对各来源金额与总额，按各来源之和修改总额。"""),
      info("PE604", "年度资金总额为 0 或空而资金来源有金额", E, G, """
总额行填 0 或空着，而其下的资金来源填有金额：这是总额漏填，不是没有资金。执行率和得分因此无法复核。
改正：按各来源之和填写总额行，并重算执行率和得分。"""))
def pe603(ctx: Ctx) -> None:
    form = ctx.form
    srcs = form.fund_sources
    if not srcs:
        return
    f = form.self_eval.funds
    zero_cols = []
    for attr, label in _COLS:
        total = getattr(f, attr)
        if total.loc is None:
            continue
        parts = [getattr(s, attr) for s in srcs]
        if any(p.kind not in (NUMBER, EMPTY, NA) for p in parts):
            continue  # text in a source cell: PE406 / PE416 say so
        nums = [p.number for p in parts if p.kind is NUMBER]
        if not nums:
            continue
        s = sum(nums, ZERO)
        if total.kind in (EMPTY, NA) or (total.kind is NUMBER and total.number == 0):
            if s != 0:
                zero_cols.append((total, label, s))
            continue
        if total.kind is not NUMBER:
            continue
        if abs(total.number - s) > ctx.slack(len(nums)):
            e, a = amt(s), amt(total.number)
            ctx.add("PE603", total, f"年度资金总额·{label}应为各资金来源之和 {e}，表中为 {a}。请核对各来源金额并修改总额",
                    e, a)
    if zero_cols:
        total, label, s = zero_cols[0]
        cols = "、".join(f"{lab} {amt(x)}" for _, lab, x in zero_cols)
        shown_ = "空" if total.kind in (EMPTY, NA) else "0"
        ctx.add("PE604", total, f"年度资金总额为 {shown_}，而其下资金来源合计：{cols}。总额行漏填，执行率与得分无法复核；"
                f"请按各来源之和填写总额行并重算执行率和得分", amt(s), shown_)


@rule(info("PE605", "给出分值却未填得分", E, G, """
年度资金总额一行给出了分值（或权重），总分行给出了分值合计，得分却空着：自评没有完成。改正：按执行率计算得分，
并填写总分。"""))
def pe605(ctx: Ctx) -> None:
    se = ctx.form.self_eval
    f = se.funds
    if f.points.kind is NUMBER and f.points.number > 0 and f.score.kind is EMPTY and f.score.loc is not None:
        ctx.add("PE605", f.score, f"年度资金总额的分值为 {pts(f.points.number)}，得分未填写。请按 分值×执行率 填写得分",
                "得分", "空")
    if se.points_total.kind is NUMBER and se.total_score.kind is EMPTY and se.total_score.loc is not None \
            and se.indicators:
        ctx.add("PE605", se.total_score, f"总分行的分值为 {pts(se.points_total.number)}，得分未填写。"
                "请把执行率得分与各指标得分相加后填写总分", "总分", "空")


def _blank(v: Value) -> bool:
    return v.kind in (EMPTY, NA) or (v.kind is TEXT and normalize(v.text) in ("", "/", "\\", "…", "……"))


@rule(info("PE606", "指标既无指标值也无完成值却得分", W, G, """
一个三级指标既没有年度指标值，也没有实际完成值，却得了分：得分没有依据，这是复核时首先要看的。
改正：补填年度指标值和实际完成值，或把这一行的分值和得分删去。"""))
def pe606(ctx: Ctx) -> None:
    for ind in ctx.form.self_eval.indicators:
        sc = num(ind.score)
        if sc is None or sc <= 0:
            continue
        if _blank(ind.target) and _blank(ind.actual):
            ctx.add("PE606", ind.score, f"指标“{disp(ind.name)}”没有年度指标值，也没有实际完成值，却得 {pts(sc)} 分。"
                    "请补填指标值和完成值，或删去该行的分值和得分", "有指标值和完成值", pts(sc))


_HAS_DIGIT = re.compile(r"\d")


@rule(info("PE607", "数值目标的完成值是文字却得满分", W, G, """
年度指标值是数值（如“≤30万元”“≥50个”），实际完成值却写成“完成”“达成预期指标”这样的文字，得分又是满分：
是否达到目标无法核实。改正：把实际完成值写成与指标值同单位的数字。"""))
def pe607(ctx: Ctx) -> None:
    for ind in ctx.form.self_eval.indicators:
        w, sc = num(ind.points), num(ind.score)
        if w is None or sc is None or w <= 0 or sc < w - EPS:
            continue
        tt = disp(ind.target)
        if deadline_month(tt) is not None:
            continue  # PE608
        tg = parse_target(tt)
        if tg.kind is not ScoreKind.QUANTITATIVE or tg.number is None:
            continue
        a = ind.actual
        if a.kind is TEXT and a.text and not _HAS_DIGIT.search(a.text):
            ctx.add("PE607", ind.actual, f"指标“{disp(ind.name)}”的指标值是数值“{normalize(tt)}”，完成值却是“{a.text}”，"
                    f"得满分 {pts(sc)}：无法核实。请把完成值写成与指标值同单位的数字", "数值完成值", a.text)


@rule(info("PE608", "时限目标晚于期限却得满分", W, G, """
“9月前”“12月底前”“年底前完成”是时限：按月份比较，不当作数字。完成月份晚于期限（或无法读出）却得满分，
需要说明。改正：写明实际完成时间（如“10月”），并按完成情况扣分或说明原因。"""))
def pe608(ctx: Ctx) -> None:
    for ind in ctx.form.self_eval.indicators:
        month = deadline_month(disp(ind.target))
        if month is None:
            continue
        w, sc = num(ind.points), num(ind.score)
        if w is None or sc is None or sc < w - EPS:
            continue
        got = actual_month(disp(ind.actual))
        if got is not None and got > month:
            ctx.add("PE608", ind.score, f"指标“{disp(ind.name)}”的期限是{month}月（“{normalize(disp(ind.target))}”），"
                    f"实际{got}月完成，却得满分 {pts(sc)}。请按完成情况扣分或在偏差原因中说明", f"{month}月前", f"{got}月")


_INSTRUCTION = re.compile(r"[(（]\s*\d+\s*字以内\s*[)）]|结合自评情况|对照年度目标，?说明|针对项目自评中发现的问题|"
                          r"请在此填写|填写说明")


@rule(info("PE609", "表样的占位行或填表说明未清理", I, G, """
空白表样里的占位行（“指标1:”“指标2:”“……”）和填表说明（如“结合自评情况，分析存在的问题及原因。(200字以内)”）
留在了报送的表中。说明文字留在评价结论等栏目里，等于这一栏没有填写。改正：删去占位行，用实际内容替换说明文字。"""))
def pe609(ctx: Ctx) -> None:
    form = ctx.form
    rows = form.template_rows
    if len(rows) == 1:
        v = rows[0]
        ctx.add("PE609", v, f"“{normalize(disp(v))}”是空白表样的占位行。请删去该行或填写指标", "删去或填写", disp(v))
    elif rows:  # one finding for one cause: the first row, the others named
        names = "、".join(dict.fromkeys(f"“{normalize(disp(v))}”" for v in rows))
        where = "、".join(v.loc.cell for v in rows[:8] if v.loc) + ("等" if len(rows) > 8 else "")
        ctx.add("PE609", rows[0], f"表中留有 {len(rows)} 行空白表样的占位行（{names}，在 {where}）。请删去这些行或填写指标",
                "删去或填写", f"{len(rows)} 行")
    fields = list(form.texts.values()) + [form.self_eval.goal_expected, form.self_eval.goal_actual]
    for v in fields:
        if v.kind is TEXT and v.text and _INSTRUCTION.search(v.text):
            ctx.add("PE609", v, f"这里留着表样的填表说明“{v.text[:40]}”，等于没有填写。请用实际内容替换",
                    "实际内容", v.text[:40], severity=W)


_LEVELS = (("产出", "产出指标"), ("效益", "效益指标"), ("满意", "满意度指标"))


@rule(info("PE610", "一级指标未标分值且与通常分配不符", W, G, """
一级指标标题没有写明分值时，按财预〔2020〕10号的通常分配复核：产出指标 50 分、效益指标 30 分、满意度指标 10 分
（没有满意度指标时效益 40 分），预算执行率 10 分；地方的表样可以另定（见 perfeval forms）。改正：按通常分配
调整三级指标分值，或在一级指标标题中写明本地规定的分值。"""),
      info("PE611", "缺少一级指标", W, G, """
绩效指标应有产出指标和效益指标（通常还有满意度指标）。整类一级指标都没有，说明指标体系不完整。
改正：补设缺少的一级指标及其三级指标。"""),
      info("PE612", "一个指标占了绝大部分分值", W, G, """
一个三级指标的分值超过全部指标分值的一半（比例按表样设置），其余指标形同虚设。改正：把分值分配到各项指标。"""))
def pe610(ctx: Ctx) -> None:
    fam = get_family(ctx.form.family)
    inds = ctx.form.self_eval.indicators
    if fam is None or not inds:
        return
    by_title: dict[str, tuple] = {}  # one group per heading text (Sichuan repeats it on every line)
    for h, lines in groups_of(ctx):
        t = normalize(disp(h.level1))
        if t in by_title:
            by_title[t][1].extend(lines)
        else:
            by_title[t] = (h, list(lines))
    weights = dict(fam.weights)
    no_sat = fam.weight_effect_no_satisfaction
    if fam.weights == NATIONAL_WEIGHTS:  # the national split: the bureau's settings may change it
        s = ctx.s
        weights = {"产出": s.weight_output, "效益": s.weight_effect, "满意度": s.weight_satisfaction}
        no_sat = s.weight_effect_no_satisfaction
    if weights and any(by_title):
        titles = [(t, h, lines) for t, (h, lines) in by_title.items() if t]
        has_sat = any("满意" in t for t, _, _ in titles)
        if not any(heading_points(t) is not None for t, _, _ in titles):
            for t, h, lines in titles:
                key = next((k for k in weights if k in t), None)
                if key is None:
                    continue
                usual = weights[key] if (key != "效益" or has_sat) else no_sat
                got = sum((num(i.points) or ZERO for i in lines), ZERO)
                if abs(got - usual) > EPS:
                    ctx.add("PE610", h.level1_loc or h.level1.loc,
                            f"一级指标“{t}”未标分值，其下三级指标分值之和为 {pts(got)}，通常分配为 {pts(usual)}。"
                            f"请按通常分配调整分值，或在标题中写明本地规定的分值", pts(usual), pts(got))
        for frag, label in _LEVELS[:2]:
            if not any(frag in t for t, _, _ in titles):
                ctx.add("PE611", None, f"绩效指标中没有{label}。请补设{label}及其三级指标", label, "无")
    total = sum((num(i.points) or ZERO for i in inds), ZERO)
    if total > 0 and len([i for i in inds if num(i.points)]) > 1:
        top = max(inds, key=lambda i: num(i.points) or ZERO)
        share = (num(top.points) or ZERO) / total
        if share > fam.dominant_share:
            ctx.add("PE612", top.points, f"指标“{disp(top.name)}”的分值 {pts(num(top.points))} 占全部指标分值 "
                    f"{pts(total)} 的 {pct(share)}。请把分值分配到各项指标", f"不超过 {pct(fam.dominant_share)}",
                    pct(share))


@rule(info("PE613", "指标得分与权重乘得分系数不符", E, G, """
重庆样式：指标得分 = 指标权重 × 得分系数（%），保留两位小数。改正：按权重×得分系数重填指标得分。"""))
def pe613(ctx: Ctx) -> None:
    for ind in ctx.form.self_eval.indicators:
        w, k, sc = num(ind.points), num(ind.coefficient), num(ind.score)
        if w is None or k is None or sc is None:
            continue
        exp = round(w * k, 2)
        if abs(exp - sc) > ctx.s.tolerance + EPS:
            e, a = pts(exp), pts(sc)
            ctx.add("PE613", ind.score, f"指标“{disp(ind.name)}”的得分应为 权重 {pts(w)} × 得分系数 {pct(k)} = {e}，"
                    f"表中为 {a}。请按权重×得分系数修改", e, a)


__all__ = ["pe601", "Decimal"]


_STANDARD = re.compile(
    r"^(?P<what>[^≤≥<>=]+?)(?P<op>≤|<=|≥|>=|<|>|=)(?P<thr>-?\d+(?:\.\d+)?)(?P<pct>%)?[,，;；]?"
    r"计(?P<pts>\d+(?:\.\d+)?)分[,，;；]每(?P<dir>超过|高于|低于|少于|减少)(?:一|1)个百分点扣(?P<ded>\d+(?:\.\d+)?)分")


def _criterion_value(what: str, form) -> tuple[Decimal, str] | None:
    """The indicator a 评价标准 names, computed from the 基础数据表 (a ratio), with how it was computed."""
    b = form.basic
    if "在职人员控制率" in what or "人员控制率" in what:
        q, a = num(b.staffing.quota), num(b.staffing.actual)
        return (a / q, f"在职 {a} ÷ 编制 {q}") if q and a is not None else None
    if "三公" in what and "变动率" in what:
        p, a = num(b.sg_total.prev), num(b.sg_total.actual)
        return ((a - p) / p, f"（本年 {amt(a)} − 上年 {amt(p)}）÷ 上年 {amt(p)}") if p and a is not None else None
    if "三公" in what and "控制率" in what:
        bu, a = num(b.sg_total.budget), num(b.sg_total.actual)
        return (a / bu, f"决算 {amt(a)} ÷ 预算 {amt(bu)}") if bu and a is not None else None
    if "公用经费控制率" in what:
        bu, a = num(b.public_total.budget), num(b.public_total.actual)
        return (a / bu, f"决算 {amt(a)} ÷ 预算 {amt(bu)}") if bu and a is not None else None
    return None


@rule(info("PE614", "得分与评价标准不符", W, G, """
评分规则写成文字的指标（湖南 2018 年前后的评价指标表，如“三公经费变动率≤0，计5分；每超过一个百分点扣0.5分，
扣完为止”），按基础数据表中的数据复算：在职人员控制率、“三公经费”变动率与控制率、公用经费控制率。
改正：按评价标准和基础数据重算得分。"""))
def pe614(ctx: Ctx) -> None:
    for c in ctx.form.criteria:
        if c.score.kind is not NUMBER or c.standard.kind is not TEXT:
            continue
        m = _STANDARD.match(normalize(c.standard.text).replace("“", "").replace("”", "").replace('"', ""))
        if m is None:
            continue
        got = _criterion_value(m.group("what"), ctx.form)
        if got is None:
            continue
        ratio, how = got
        v = ratio * 100  # percentage points
        thr, full, ded = Decimal(m.group("thr")), Decimal(m.group("pts")), Decimal(m.group("ded"))
        op = m.group("op")
        miss = max(ZERO, v - thr) if op in ("≤", "<=", "<", "=") else max(ZERO, thr - v)
        exp = max(ZERO, round(full - ded * miss, 2))
        if abs(exp - c.score.number) <= ctx.s.tolerance + EPS:
            continue
        e, a = pts(exp), pts(c.score.number)
        ctx.add("PE614", c.score, f"指标“{normalize(disp(c.name))}”按评价标准“{normalize(c.standard.text)}”："
                f"{m.group('what')}为 {pct(ratio)}（{how}），应得 {e} 分，表中为 {a}。请按评价标准重算得分", e, a)
