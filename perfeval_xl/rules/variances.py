"""PE3xx: actual against budget, year on year, and the common control ratios (domain.md §3, §4)."""
from __future__ import annotations

from .base import EPS, Ctx, E, I, W, amt, disp, info, num, pct, rule, tainted

V = "差异"


@rule(info("PE301", "三公经费单项超预算", W, V, """
“三公”经费任一项（出国、公务用车、接待）本年决算数超过本年预算数。三公经费是公开和审计的重点，超支须有依据。
改正：核实决算数；确有超支的，在报告中说明原因和审批依据。"""))
def pe301(ctx: Ctx) -> None:
    tp, basic = ctx.form.three_public, ctx.form.basic
    for line in tp.lines():
        if tainted(ctx, line.actual, line.budget):
            continue
        a, b = num(line.actual), num(line.budget)
        if a is not None and b is not None and a > b + EPS:
            shown_a, shown_b = amt(a), amt(b)
            subs = (basic.car_purchase, basic.car_maintenance) if line is tp.car else ()
            cause, cells = _causes(subs)
            ctx.add("PE301", line.actual, f"三公经费“{line.label}”本年决算数 {shown_a} 超过预算数 {shown_b}，超支 {amt(a - b)}"
                    f"{cause}。请核实决算数；确有超支的，在报告中说明原因和审批依据", f"≤ {shown_b}", shown_a,
                    related=cells)


def _causes(rows) -> tuple[str, list]:
    """The sub-lines over their own budget, named where they cause the parent's overspend (issue 12):
    "，其中公车运行维护 66.87 超过预算 59.00（基础数据表 D9）" and their cells, to mark them too."""
    said, cells = [], []
    for row in rows:
        a, b = num(row.actual), num(row.budget)
        if a is not None and b is not None and a > b + EPS:
            where = f"（{row.actual.loc.sheet} {row.actual.loc.cell}）" if row.actual.loc else ""
            said.append(f"{row.label} {amt(a)} 超过预算 {amt(b)}{where}")
            cells.append(row.actual)
    return ("，超支来自其中" + "、".join(said) if said else ""), cells


@rule(info("PE302", "三公经费合计超预算", E, V, """
三公经费合计（控制率 = 决算 ÷ 预算）超过 100%，违反三公经费只减不增的控制要求。改正：核实决算数与预算数，
超支的须说明并整改。"""))
def pe302(ctx: Ctx) -> None:
    t = ctx.form.three_public.total
    if tainted(ctx, t.actual, t.budget):
        return
    a, b = num(t.actual), num(t.budget)
    if a is not None and b is not None and a > b + EPS:
        tp = ctx.form.three_public
        over = [x for x in tp.lines() if num(x.actual) is not None and num(x.budget) is not None
                and num(x.actual) > num(x.budget) + EPS]
        cause = ("，超支来自" + "、".join(x.label for x in over)) if over else ""
        ctx.add("PE302", t.actual, f"三公经费合计本年决算数 {amt(a)} 超过预算数 {amt(b)}（控制率 {pct(a / b) if b else '—'}）"
                f"{cause}。请核实合计的决算数与预算数；超支的须说明原因并整改", f"≤ {amt(b)}", amt(a),
                related=[x.actual for x in over])


def _over(ctx: Ctx, code: str, row, what: str | None, subs=()) -> None:
    """what=None: a project line, named after the project (only worked out when it is reported).
    subs: the row's "其中" lines, named when their own overspend causes the row's."""
    a, b = num(row.actual), num(row.budget)
    if a is None or b is None or b <= 0:
        return
    over = (a - b) / b
    line = ctx.s.item_over_budget
    if over > line + EPS:
        if what is None:
            what = f"项目“{(disp(row.name) or row.label).strip()}”"
        shown_a = amt(a)
        cause, cells = _causes(subs)
        ctx.add(code, row.actual, f"{what}本年决算数 {shown_a} 超过预算数 {amt(b)} 达 {pct(over)}"
                f"（超支提示线 {pct(line)}）{cause}。请核实决算数，超支的在偏差原因或报告中说明", f"≤ {amt(b)}",
                shown_a, related=cells)


@rule(info("PE303", "公用经费项目超预算", W, V, """
公用经费及其中的办公费、水电差旅费、会议培训费，决算数超过预算数的比例大于设置的提示线（默认 10%）。
改正：核实决算数，超支的在偏差原因或报告中说明。"""))
def pe303(ctx: Ctx) -> None:
    b = ctx.form.basic
    items = b.public_items()
    _over(ctx, "PE303", b.public_total, f"公用经费“{b.public_total.label}”", items)
    for row in items:
        _over(ctx, "PE303", row, f"公用经费“{row.label}”")


@rule(info("PE304", "项目支出超预算", W, V, """
项目支出某一行决算数超过该项目预算数的比例大于设置的提示线（默认 10%）。改正：核实该项目决算数和预算调整文件。"""))
def pe304(ctx: Ctx) -> None:
    for row in ctx.form.basic.projects:
        _over(ctx, "PE304", row, None)


@rule(info("PE305", "预算执行率偏低", W, V, """
执行率低于设置的下限（默认 90%）。执行率偏低说明预算编制不准或执行不力，须在偏差原因中说明。
改正：核实执行数；确属执行偏低的，写明原因和改进措施。"""))
def pe305(ctx: Ctx) -> None:
    f = ctx.form.self_eval.funds
    a, b = num(f.actual), num(f.budget)
    if a is None or b is None or b == 0:
        return
    rate = a / b
    if rate < ctx.s.low_execution - EPS:
        ctx.add("PE305", f.execution_rate if f.execution_rate.loc else f.actual,
                f"执行率 {pct(rate)} 低于 {pct(ctx.s.low_execution)}。请核实全年执行数；确属执行偏低的，"
                f"在偏差原因中写明原因和改进措施", f"≥ {pct(ctx.s.low_execution)}", pct(rate))


@rule(info("PE306", "全年执行数超过全年预算数", E, V, """
全年执行数大于全年预算数（执行率超过 100%）是数据异常：或执行数含了非本年预算资金，或预算数漏了调整。
改正：核实两数。"""))
def pe306(ctx: Ctx) -> None:
    f = ctx.form.self_eval.funds
    a, b = num(f.actual), num(f.budget)
    if a is not None and b is not None and a > b + EPS:
        ctx.add("PE306", f.actual, f"全年执行数 {amt(a)} 超过全年预算数 {amt(b)}。请核对两数（执行数是否含非本年预算资金、"
                f"预算数是否漏了调整）并修改", f"≤ {amt(b)}", amt(a), related=[f.budget])


@rule(info("PE307", "预算调整率偏高", W, V, """
预算调整率 = (全年预算数 − 年初预算数) ÷ 年初预算数，超过设置的上限（默认 20%）说明年初预算编制不够准确。
改正：在报告中说明预算调整的原因。"""))
def pe307(ctx: Ctx) -> None:
    f = ctx.form.self_eval.funds
    b, i = num(f.budget), num(f.initial_budget)
    if b is None or i is None or i == 0:
        return
    r = (b - i) / i
    if abs(r) > ctx.s.budget_adjustment + EPS:
        ctx.add("PE307", f.budget, f"预算调整率 {pct(r)}（全年预算数 {amt(b)}，年初预算数 {amt(i)}）超过 "
                f"{pct(ctx.s.budget_adjustment)}。请核对两数，并在报告中说明预算调整的原因",
                f"≤ {pct(ctx.s.budget_adjustment)}", pct(r))


@rule(info("PE308", "三公经费同比增减幅度较大", I, V, """
“三公”经费某行增减% 超出 ±30%（可设置）。三公经费只减不增：某行比上年增加超出提示线是警告（要有依据，
在报告中说明）；减少超出提示线只是提示（符合控制要求，请核实是否漏记）。
合计比上年增加时由 PE309 报出（并写明超出提示线），本条不再重复。"""))
def pe308(ctx: Ctx) -> None:
    tp = ctx.form.three_public
    for line in (*tp.lines(), tp.total):
        if tainted(ctx, line.actual, line.prev):
            continue
        a, p = num(line.actual), num(line.prev)
        if a is None or p is None or p == 0:
            continue
        r = (a - p) / p
        if abs(r) > ctx.s.yoy_change + EPS:
            shown_r, limit = pct(r), pct(ctx.s.yoy_change)
            if line is tp.total and r > 0:
                continue  # an increase of the 合计 is PE309, which names the ±limit too (one fact, one finding)
            where = line.pct if line.pct.loc else line.actual
            if r > 0:
                ctx.add("PE308", where, f"三公经费“{line.label}”比上年增加 {shown_r}，超出同比增减提示线 {limit}。"
                        f"三公经费只减不增：请核对本年与上年决算数，确有增加的在报告中说明原因",
                        f"≤ {limit}", shown_r, severity=W)
            else:
                ctx.add("PE308", where, f"三公经费“{line.label}”比上年减少 {pct(-r)}（降幅超过 {limit}，符合只减不增）。"
                        f"请核实本年决算数没有漏记", f"≥ -{limit}", shown_r, severity=I)


@rule(info("PE309", "三公经费比上年增加", I, V, """
“三公”经费变动率 = (本年决算 − 上年决算) ÷ 上年决算，按控制要求应不大于 0。增加时请在报告中说明原因。
增幅在同比增减提示线以内是提示；超出提示线是警告，且只报本条并写明超出，不再另报 PE308（同一增加只报一次）。"""))
def pe309(ctx: Ctx) -> None:
    t = ctx.form.three_public.total
    if tainted(ctx, t.actual, t.prev):
        return
    a, p = num(t.actual), num(t.prev)
    if a is None or p is None or p == 0:
        return
    if a > p + EPS:
        r = (a - p) / p
        far = r > ctx.s.yoy_change + EPS
        beyond = f"，超出同比增减提示线 {pct(ctx.s.yoy_change)}" if far else ""  # not PE308
        ctx.add("PE309", t.actual, f"三公经费合计本年决算数 {amt(a)} 比上年 {amt(p)} 增加 {pct(r)}{beyond}。"
                f"三公经费只减不增：请核对各行决算数，确有增加的在报告中说明原因", f"≤ {amt(p)}", amt(a),
                severity=W if far else I)


@rule(info("PE310", "公用经费控制率超过 100%", W, V, """
公用经费控制率 = 公用经费决算 ÷ 预算，应不超过 100%。改正：核实公用经费决算数，超支的说明原因。"""))
def pe310(ctx: Ctx) -> None:
    pt = ctx.form.basic.public_total
    a, b = num(pt.actual), num(pt.budget)
    if a is not None and b is not None and b > 0 and a > b + EPS:
        ctx.add("PE310", pt.actual, f"公用经费控制率 {pct(a / b)}（决算 {amt(a)}，预算 {amt(b)}）超过 100%。"
                f"请核实公用经费决算数，超支的说明原因", "≤ 100.00%", pct(a / b))


@rule(info("PE311", "在职人员控制率超过 100%", W, V, """
在职人员控制率 = 实际在职人数 ÷ 编制数，超过上限（默认 100%）即超编。改正：核实人数口径（是否含借调、编外）。"""))
def pe311(ctx: Ctx) -> None:
    st = ctx.form.basic.staffing
    q, a = num(st.quota), num(st.actual)
    if q is None or a is None or q == 0:
        return
    r = a / q
    if r > ctx.s.staff_control_max + EPS:
        ctx.add("PE311", st.actual, f"在职人员控制率 {pct(r)}（在职 {a} 人，编制 {q} 人）超过 {pct(ctx.s.staff_control_max)}。"
                f"请核实人数口径（是否含借调、编外）并修改", f"≤ {pct(ctx.s.staff_control_max)}", pct(r))


@rule(info("PE312", "楼堂馆所规模或投资超过批复", W, V, """
楼堂馆所的实际规模超过批复规模，或实际投资超过预算投资（控制率超过 100%）。改正：核实数据并说明超出原因。"""))
def pe312(ctx: Ctx) -> None:
    bl = ctx.form.basic.building
    for actual, approved, what, fmt in ((bl.actual_area, bl.approved_area, "规模", _area),
                                        (bl.actual_investment, bl.budget_investment, "投资", amt)):
        a, b = num(actual), num(approved)
        if a is not None and b is not None and b > 0 and a > b + EPS:
            ctx.add("PE312", actual, f"楼堂馆所实际{what} {fmt(a)} 超过批复（预算）{what} {fmt(b)}。请核实数据并说明超出原因",
                    f"≤ {fmt(b)}", fmt(a))


def _area(x) -> str:
    """An area in ㎡ as typed (not money: no forced decimals)."""
    return f"{x.normalize():f}" if x == x.to_integral() else f"{x:f}"

