"""PE1xx: the arithmetic identities of tables (a), (b) and (c) and between them (domain.md §1, §3)."""
from __future__ import annotations

from decimal import Decimal

from ..model import Value
from .base import E, EMPTY, EPS, NUMBER, Ctx, amt, as_amount, check_ratio, check_sum, info, rule

A = "算术"

SG_COLS = (("actual", "本年决算数"), ("budget", "本年预算数"), ("diff_budget", "比预算增减数"),
           ("prev", "上年决算数"), ("diff_prev", "比上年增减数"))
BD_COLS = (("prev", "上年决算数"), ("budget", "本年预算数"), ("actual", "本年决算数"))


@rule(info("PE101", "三公经费表：比预算增减数与决算数减预算数不符", E, A, """
“三公”经费情况表每一行的比预算增减数 = 本年决算数 − 本年预算数。常见错误是把差额算反（预算 − 决算）
或在改动决算数后忘了更新差额。改正：按 决算 − 预算 重新计算，超支为正、节约为负。"""))
def sg_diff_budget(ctx: Ctx) -> None:
    tp = ctx.form.three_public
    for line in (*tp.lines(), tp.total):
        check_sum(ctx, "PE101", line.diff_budget, [(line.actual, 1), (line.budget, -1)],
                  f"三公经费表“{line.label}”的比预算增减数", "本年决算数减本年预算数")


@rule(info("PE102", "三公经费表：比上年增减数与决算数减上年决算数不符", E, A, """
每一行的比上年增减数 = 本年决算数 − 上年决算数。常见错误是用预算数代替决算数，或上年数取自别的口径。
改正：按 本年决算 − 上年决算 重新计算。"""))
def sg_diff_prev(ctx: Ctx) -> None:
    tp = ctx.form.three_public
    for line in (*tp.lines(), tp.total):
        check_sum(ctx, "PE102", line.diff_prev, [(line.actual, 1), (line.prev, -1)],
                  f"三公经费表“{line.label}”的比上年增减数", "本年决算数减上年决算数")


@rule(info("PE103", "三公经费表：增减%与比上年增减数除以上年决算数不符", E, A, """
增减% = 比上年增减数 ÷ 上年决算数（上年决算数为 0 时填“—”）。常见错误是除以本年数或预算数，
或把百分数再乘一次 100。改正：按 比上年增减数 / 上年决算数 计算，保留两位小数的百分比。"""))
def sg_pct(ctx: Ctx) -> None:
    tp = ctx.form.three_public
    for line in (*tp.lines(), tp.total):
        diff = line.diff_prev
        if diff.kind is not NUMBER:  # fall back to the figures the difference comes from
            a, p = as_amount(line.actual), as_amount(line.prev)
            if a is None or p is None or line.actual.kind is not NUMBER:
                continue
            diff = Value(NUMBER, number=a - p)
        check_ratio(ctx, "PE103", line.pct, diff, line.prev, f"三公经费表“{line.label}”的增减%",
                    "比上年增减数除以上年决算数")


@rule(info("PE104", "三公经费表：合计与三行之和不符", E, A, """
合计行每一列 = 因公出国经费 + 公务用车运行及购置 + 公务接待费。常见错误是新增或改动一行后合计没有更新，
或合计手工填写。改正：合计用求和公式，或按三行之和重填。"""))
def sg_total(ctx: Ctx) -> None:
    tp = ctx.form.three_public
    for attr, label in SG_COLS:
        check_sum(ctx, "PE104", getattr(tp.total, attr), [(getattr(x, attr), 1) for x in tp.lines()],
                  f"三公经费表合计·{label}", "三行之和")


@rule(info("PE105", "公务用车购置和维护经费与公车购置、公车运行维护之和不符", E, A, """
基础数据表中“公务用车购置和维护经费” = 公车购置 + 公车运行维护，逐列（上年决算、本年预算、本年决算）核对。
改正：按两项之和重填，或检查两项明细是否漏填。"""))
def bd_car(ctx: Ctx) -> None:
    b = ctx.form.basic
    for attr, label in BD_COLS:
        check_sum(ctx, "PE105", getattr(b.car, attr),
                  [(getattr(b.car_purchase, attr), 1), (getattr(b.car_maintenance, attr), 1)],
                  f"基础数据表公务用车购置和维护经费·{label}", "公车购置与公车运行维护之和")


@rule(info("PE106", "三公经费表与基础数据表的同一项不符", E, A, """
“三公”经费情况表的每一行（出国、公务用车、接待、合计）与基础数据表“三公经费”部分的同一行、同一列
（本年决算、本年预算、上年决算）应相同。两表分别填写时最容易不一致。改正：以核实的决算数为准统一两表。"""))
def sg_vs_basic(ctx: Ctx) -> None:
    tp, b = ctx.form.three_public, ctx.form.basic
    pairs = ((tp.abroad, b.abroad), (tp.car, b.car), (tp.reception, b.reception), (tp.total, b.sg_total))
    for line, row in pairs:
        for attr, label in (("actual", "本年决算数"), ("budget", "本年预算数"), ("prev", "上年决算数")):
            check_sum(ctx, "PE106", getattr(row, attr), [(getattr(line, attr), 1)],
                      f"基础数据表“{row.label}”·{label}", "三公经费表同一项")


@rule(info("PE107", "基础数据表：三公经费与公务用车、出国、接待之和不符", E, A, """
基础数据表“三公经费” = 公务用车购置和维护经费 + 出国经费 + 公务接待，逐列核对。改正：按三项之和重填。"""))
def bd_sg_total(ctx: Ctx) -> None:
    b = ctx.form.basic
    for attr, label in BD_COLS:
        check_sum(ctx, "PE107", getattr(b.sg_total, attr),
                  [(getattr(x, attr), 1) for x in (b.car, b.abroad, b.reception)],
                  f"基础数据表三公经费·{label}", "公务用车、出国、接待三项之和")


@rule(info("PE108", "项目支出合计与各项目之和不符", E, A, """
基础数据表“项目支出”合计的每一列 = 下面各项目行之和。插入或删除项目行后合计没有跟着变，是最常见的错误。
改正：合计用求和公式覆盖全部项目行，或按各项目之和重填。"""))
def projects_total(ctx: Ctx) -> None:
    b = ctx.form.basic
    if not b.projects:
        return
    for attr, label in BD_COLS:
        check_sum(ctx, "PE108", getattr(b.projects_total, attr), [(getattr(p, attr), 1) for p in b.projects],
                  f"基础数据表项目支出合计·{label}", "各项目之和")


@rule(info("PE109", "基础数据表项目支出决算数与自评表项目支出不符", E, A, """
基础数据表“项目支出”的本年决算数与绩效自评表“按支出性质分”的项目支出是同一个数。改正：核实后统一两表。"""))
def projects_vs_self(ctx: Ctx) -> None:
    f = ctx.form.self_eval.funds
    check_sum(ctx, "PE109", f.exp_project, [(ctx.form.basic.projects_total.actual, 1)],
              "绩效自评表按支出性质分·项目支出", "基础数据表项目支出本年决算数")


@rule(info("PE110", "公用经费合计小于其中各项之和", E, A, """
“其中”的办公费、水电差旅费、会议培训费只是公用经费的一部分，合计应不小于三项之和。改正：核实公用经费合计，
合计应包含全部一般商品和服务支出。"""))
def public_total(ctx: Ctx) -> None:
    b = ctx.form.basic
    for attr, label in BD_COLS:
        total = getattr(b.public_total, attr)
        if total.kind is not NUMBER:
            continue  # a blank total is PE413
        parts = [as_amount(getattr(x, attr)) for x in b.public_items()]
        if any(p is None for p in parts):
            continue
        s = sum(parts, Decimal(0))
        if total.number + ctx.s.sum_tolerance(len(parts)) + EPS < s:  # (left to right, as ever: not slack())
            ctx.add("PE110", total, f"基础数据表公用经费·{label}应不小于其中各项之和 {amt(s)}，表中为 {amt(total.number)}。"
                    f"请核对公用经费合计与其中各项，合计应包含全部一般商品和服务支出，并修改",
                    f"≥ {amt(s)}", amt(total.number), related=[getattr(x, attr) for x in b.public_items()])


@rule(info("PE111", "在职人员控制率与实际在职人数除以编制数不符", E, A, """
控制率 = 实际在职人数 ÷ 编制数。改正：按两数重新计算，保留两位小数的百分比。"""))
def staff_rate(ctx: Ctx) -> None:
    st = ctx.form.basic.staffing
    check_ratio(ctx, "PE111", st.rate, st.actual, st.quota, "基础数据表在职人员控制率", "实际在职人数除以编制数")


@rule(info("PE112", "规模控制率与实际规模除以批复规模不符", E, A, """
楼堂馆所规模控制率 = 实际规模 ÷ 批复规模。改正：按两数重新计算。"""))
def area_rate(ctx: Ctx) -> None:
    bl = ctx.form.basic.building
    check_ratio(ctx, "PE112", bl.area_rate, bl.actual_area, bl.approved_area, "基础数据表规模控制率",
                "实际规模除以批复规模")


@rule(info("PE113", "投资概算控制率与实际投资除以预算投资不符", E, A, """
楼堂馆所投资概算控制率 = 实际投资 ÷ 预算投资。改正：按两数重新计算。"""))
def investment_rate(ctx: Ctx) -> None:
    bl = ctx.form.basic.building
    check_ratio(ctx, "PE113", bl.investment_rate, bl.actual_investment, bl.budget_investment,
                "基础数据表投资概算控制率", "实际投资除以预算投资")


@rule(info("PE114", "按收入性质分的各项之和与全年预算数不符", E, A, """
绩效自评表“按收入性质分”：一般公共预算 + 政府性基金拨款 + 纳入专户管理的非税收入拨款 + 其他资金 = 全年预算数。
常见错误是只填了年初数或漏填其他资金。改正：按调整后全年预算的资金来源重填。"""))
def income_parts(ctx: Ctx) -> None:
    f = ctx.form.self_eval.funds
    parts = f.income_parts()
    if all(p.kind is EMPTY for p in parts):
        return
    if f.budget.kind is not NUMBER:
        return
    _check_parts(ctx, "PE114", f.budget, parts, "全年预算数", "按收入性质分的各项之和")


@rule(info("PE115", "按支出性质分的各项之和与全年执行数不符", E, A, """
绩效自评表“按支出性质分”：基本支出 + 项目支出 = 全年执行数。改正：核实基本支出与项目支出决算数。"""))
def expenditure_parts(ctx: Ctx) -> None:
    f = ctx.form.self_eval.funds
    parts = (f.exp_basic, f.exp_project)
    if all(p.kind is EMPTY for p in parts) or f.actual.kind is not NUMBER:
        return
    _check_parts(ctx, "PE115", f.actual, parts, "全年执行数", "按支出性质分的各项之和")


def _check_parts(ctx: Ctx, code: str, whole, parts, whole_label: str, what: str) -> None:
    taint = ctx.taint()
    if taint and (id(whole) in taint or any(id(p) in taint for p in parts)):
        return  # a number typed as text changes a formula here: PE416
    vals = [as_amount(p) for p in parts]
    if any(v is None for v in vals):
        return
    s = sum(vals, Decimal(0))
    if abs(s - whole.number) <= ctx.slack(len(parts)):
        return
    first = next((p for p in parts if p.kind is NUMBER), parts[0])
    ctx.add(code, first, f"绩效自评表{what}应等于{whole_label} {amt(whole.number)}，表中各项之和为 {amt(s)}。"
            f"请核对各项与{whole_label}，并修改不符的一项", amt(whole.number), amt(s),
            related=[p for p in parts if p.kind is NUMBER] + [whole])

