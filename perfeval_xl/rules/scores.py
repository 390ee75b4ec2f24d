"""PE2xx: 执行率 and its score, indicator scores, heading points, 总分 and 等级 (domain.md §2)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from ..model import Form, Indicator
from ..scoring import ScoreResult, execution_rate, execution_score, indicator_score, normalize, round2
from ..settings import Settings
from .deadlines import deadline_score
from .base import EPS, NUMBER, TEXT, ZERO, Ctx, E, I, W, disp, heading_points, info, num, pct, pts, rule, tainted

G = "评分"


@dataclass(slots=True)  # nine per form: slots make them cheaper to build
class Scored:
    ind: Indicator
    result: ScoreResult
    points: Decimal | None  # 分值
    written: Decimal | None  # 自评得分 as written
    recomputed: Decimal  # what the line contributes to the recomputed total
    stricter: bool = False  # the unit scored itself below the rule (kept: the review never raises a deduction)


def score_lines(form: Form, s: Settings) -> list[Scored]:
    """Each indicator line with its recomputed score (quantitative) or its written score clamped to [0, 分值]."""
    f = form.self_eval.funds
    budget, spent = num(f.budget), num(f.actual)
    out = []
    for ind in form.self_eval.indicators:
        w, written = num(ind.points), num(ind.score)
        target, actual = ind.target, ind.actual
        tt = target.text if target.text is not None else disp(target)
        at = actual.text if actual.text is not None else disp(actual)
        # deadline targets ("9月前") are months, not numbers (rules/deadlines.py, issue 10)
        res = deadline_score(tt, at, w) if "月" in tt or "年" in tt else None
        if res is None:
            res = indicator_score(tt, at, w, s, budget=budget, spent=spent)
        stricter = False
        if res.score is not None:
            rec = res.score
            # A unit stricter with itself than the formula (9.60 against 10 with a reason) keeps its own
            # score: the review lowers scores that are too high, it never raises a unit's own deduction.
            if written is not None and ZERO <= written < rec - s.tolerance - EPS:
                rec, stricter = written, True
        elif written is not None:
            rec = max(ZERO, min(written, w)) if w is not None else max(ZERO, written)
        else:
            rec = ZERO
        out.append(Scored(ind, res, w, written, rec, stricter))
    return out


def lines_of(ctx: Ctx) -> list[Scored]:
    """score_lines, once per run."""
    lines = ctx.memo.get("lines")
    if lines is None:
        lines = ctx.memo["lines"] = score_lines(ctx.form, ctx.s)
    return lines


def exec_score_of(ctx: Ctx) -> Decimal | None:
    """recomputed_execution_score, once per run."""
    memo = ctx.memo
    if "exec_score" not in memo:
        memo["exec_score"] = recomputed_execution_score(ctx.form, ctx.s)
    return memo["exec_score"]


def total_of(ctx: Ctx) -> Decimal | None:
    """recomputed_total over lines_of, once per run."""
    memo = ctx.memo
    if "total" not in memo:
        memo["total"] = _total(exec_score_of(ctx), lines_of(ctx))
    return memo["total"]


def exec_points(form: Form, s: Settings) -> Decimal:
    return num(form.self_eval.funds.points) or s.weight_execution


def recomputed_execution_score(form: Form, s: Settings) -> Decimal | None:
    f = form.self_eval.funds
    return execution_score(num(f.budget), num(f.actual), exec_points(form, s))


def recomputed_total(form: Form, s: Settings, lines: list[Scored] | None = None) -> Decimal | None:
    ex = recomputed_execution_score(form, s)
    return _total(ex, score_lines(form, s) if lines is None else lines)


def _total(ex: Decimal | None, lines: list[Scored]) -> Decimal | None:
    if ex is None and not lines:
        return None
    return round2((ex or ZERO) + sum((x.recomputed for x in lines), ZERO))


def groups_of(ctx: Ctx) -> list[tuple[Indicator, list[Indicator]]]:
    """groups, once per run."""
    g = ctx.memo.get("groups")
    if g is None:
        g = ctx.memo["groups"] = groups(ctx.form)
    return g


def groups(form: Form) -> list[tuple[Indicator, list[Indicator]]]:
    """Indicator lines grouped under their 一级 heading (by the heading cell, else its text)."""
    out: list[tuple[Indicator, list[Indicator]]] = []
    key_of: dict[tuple[str, str] | str, list[Indicator]] = {}
    for ind in form.self_eval.indicators:
        loc = ind.level1_loc  # a Loc's (sheet, cell): equal exactly when the Locs are, and hashed in C
        key = (loc.sheet, loc.cell) if loc else normalize(disp(ind.level1))
        members = key_of.get(key)
        if members is None:
            members = key_of[key] = []
            out.append((ind, members))
        members.append(ind)
    return out


@rule(info("PE201", "执行率与全年执行数除以全年预算数不符", E, G, """
执行率 = 全年执行数 ÷ 全年预算数（调整后的全年预算，不是年初预算数）。常见错误是用年初预算数作分母，
或执行率手工填写。改正：按 全年执行数 / 全年预算数 计算。"""))
def pe201(ctx: Ctx) -> None:
    f = ctx.form.self_eval.funds
    if f.execution_rate.kind is not NUMBER or tainted(ctx, f.execution_rate):
        return
    rate = execution_rate(num(f.budget), num(f.actual))
    if rate is None:
        return
    if abs(round(rate, 4) - f.execution_rate.number) <= ctx.s.tolerance / 100 + EPS:
        return
    _cmp_report(ctx, "PE201", f.execution_rate, "绩效自评表执行率", "全年执行数除以全年预算数",
                pct(rate), pct(f.execution_rate.number))


@rule(info("PE202", "执行率得分与分值乘执行率（不超过分值）不符", E, G, """
得分 = 分值 × 执行率，最高为分值（执行率超过 100% 是数据异常，不加分），保留两位小数。
改正：按 分值 × 执行率 计算并封顶。"""))
def pe202(ctx: Ctx) -> None:
    f = ctx.form.self_eval.funds
    if f.score.kind is not NUMBER or tainted(ctx, f.score):
        return
    exp = exec_score_of(ctx)
    if exp is None or abs(exp - f.score.number) <= ctx.s.tolerance + EPS:
        return
    _cmp_report(ctx, "PE202", f.score, "绩效自评表执行率得分", "分值×执行率（不超过分值）", pts(exp), pts(f.score.number))


def _cmp_report(ctx, code, v, where, what, expected, actual):
    if v.formula:
        ctx.add("PE502", v, f"{where}的公式缓存值与公式结果不符：按{what}应为 {expected}，单元格缓存为 {actual}。"
                f"请在 Excel 中重新计算后保存", expected, actual)
    else:
        ctx.add(code, v, f"{where}应为{what} {expected}，表中为 {actual}。请核对该单元格，按{what}修改"
                f"（或改用公式）", expected, actual)


@rule(info("PE203", "定量指标的自评得分与按指标值复算的得分不符", W, G, """
定量指标按年度指标值复算：≥/>（正向）达到得满分，否则 实际/目标×分值；=（目标大于 0 同正向，目标为 0 时实际为 0
得满分）；≤/<（反向）达到得满分，否则按设置的反向公式；“不超支”即执行数 ≤ 预算数。
方向不同，级别不同：自评得分高于复算得分是警告（打分偏高，复核总分按复算得分计）；自评得分低于复算得分只是提示
（单位对自己从严，复核总分保留表中得分，不再在总分上重复报出），请确认偏差原因写明了扣分依据。
改正：得分偏高的，按复算得分修改，或在偏差原因中说明打分依据。"""))
def pe203(ctx: Ctx) -> None:
    for x in lines_of(ctx):
        if x.result.score is None or x.written is None:
            continue
        if abs(x.result.score - x.written) <= ctx.s.tolerance + EPS:
            continue
        if _out_of_range(x.written, x.points):
            continue  # PE204 says what is wrong with this cell
        name = disp(x.ind.name)
        e, a = pts(x.result.score), pts(x.written)
        why = x.result.explanation
        if x.written < x.result.score:  # stricter than the rule: the unit's call, the review keeps it
            ctx.add("PE203", x.ind.score,
                    f"指标“{name}”的自评得分 {a} 低于按指标值复算的 {e}（{why}）：单位从严扣分，复核总分采用表中得分。"
                    f"请核对偏差原因分析中是否写明扣分依据", e, a, severity=I, related=[x.ind.reason])
        else:
            ctx.add("PE203", x.ind.score,
                    f"指标“{name}”的自评得分按复算应为 {e}（{why}），表中为 {a}。请核对实际完成值与年度指标值，"
                    f"并把自评得分改为 {e}，或在偏差原因中说明打分依据", e, a, severity=W)


@rule(info("PE204", "自评得分超出 0 至分值的范围", E, G, """
任何指标的自评得分都不能为负，也不能超过该指标的分值。定性指标无法复算，但同样受此限制。
改正：把自评得分改到 0 至分值之间，或更正分值。"""))
def pe204(ctx: Ctx) -> None:
    for ind in ctx.form.self_eval.indicators:
        w, sc = num(ind.points), num(ind.score)
        if sc is None:
            continue
        top = w
        if _out_of_range(sc, top):
            rng = f"0 至 {pts(top)}" if top is not None else "不小于 0"
            a = pts(sc)
            ctx.add("PE204", ind.score, f"指标“{disp(ind.name)}”的自评得分应在 {rng} 之间，表中为 {a}。"
                    f"请核对并修改自评得分（或更正分值）", rng, a, related=[ind.points])


def _out_of_range(score: Decimal, points: Decimal | None) -> bool:
    return score < 0 or (points is not None and score > points + EPS)


@rule(info("PE205", "一级指标标明的分值与其下三级指标分值之和不符", E, G, """
一级指标标题写明了分值（如“产出指标（50分）”），其下各三级指标分值之和应与之相等。常见错误是增删指标后
没有调整分值，或把某项分值挪到别的一级指标下。改正：调整三级指标分值，使之与一级指标分值一致。"""))
def pe205(ctx: Ctx) -> None:
    for head, lines in groups_of(ctx):
        stated = heading_points(disp(head.level1))
        if stated is None:
            continue
        total = ZERO
        for i in lines:
            p = i.points
            total = total + ((p.number if p.kind is NUMBER else None) or ZERO)
        if abs(total - stated) <= EPS:
            continue
        title = normalize(disp(head.level1))
        e, a = pts(stated), pts(total)
        cells = [i.points for i in lines if i.points.loc and (i.points.kind is NUMBER or num(i.score) is not None)]
        span = _span(cells)
        ctx.add("PE205", head.level1_loc or head.level1.loc,
                f"一级指标“{title}”标明 {e} 分，其下三级指标分值之和应为 {e}，表中为 {a}"
                f"（{'多' if total > stated else '少'} {pts(abs(total - stated))} 分）。请核对{span}的分值并修改，使之合计 {e} 分；"
                f"若标题中的分值有误，改正标题", e, a, related=cells)


@rule(info("PE206", "执行率分值加各指标分值之和不等于 100", E, G, """
执行率分值（10）加全部三级指标分值应为 100 分。改正：调整各指标分值。"""),
      info("PE207", "分值合计与各项分值之和不符", E, G, """
总分行的分值合计应等于执行率分值加各三级指标分值。改正：用求和公式或按各项之和重填。"""))
def pe206(ctx: Ctx) -> None:
    se = ctx.form.self_eval
    if not se.indicators:
        return
    total = exec_points(ctx.form, ctx.s) + sum((num(i.points) or ZERO for i in se.indicators), ZERO)
    where = se.points_total if se.points_total.loc else (se.indicators[0].points)
    if abs(total - ctx.s.total_points) > EPS:
        e, a = pts(ctx.s.total_points), pts(total)
        cells = [i.points for i in se.indicators if i.points.loc and i.points.kind is NUMBER]
        ctx.add("PE206", where, f"执行率分值加各指标分值之和应为 {e}，表中合计为 {a}。"
                f"请核对{_span(cells)}的分值并修改，使合计为 {e} 分", e, a, related=cells)
    if se.points_total.kind is NUMBER and abs(se.points_total.number - total) > EPS \
            and not tainted(ctx, se.points_total):
        _cmp_report(ctx, "PE207", se.points_total, "总分行分值合计", "执行率分值加各指标分值之和", pts(total),
                    pts(se.points_total.number))


@rule(info("PE208", "总分与执行率得分加各指标自评得分不符", E, G, """
总分 = 执行率得分 + Σ 自评得分（表内算术）。手填总分与各项得分对不上，是自评表最常见的硬伤。
改正：按各项得分之和重填总分，或使用求和公式。"""),
      info("PE209", "总分与复核总分不符", W, G, """
复核总分 = 复算的执行率得分（封顶） + 定量指标复算得分 + 定性指标自评得分（限制在 0 至分值）。
与表中总分不一致时，说明有得分需要复核。改正：逐项核对 PE202、PE203、PE204 指出的得分。"""),
      info("PE210", "等级与总分不符", W, G, """
等级按总分划分：优 ≥ 90，良 80–90，中 60–80，差 < 60（可在设置中调整）。改正：按复核总分确定等级。"""))
def pe208(ctx: Ctx) -> None:
    se = ctx.form.self_eval
    ts = se.total_score
    lines = lines_of(ctx)
    if tainted(ctx, ts):
        return  # a number typed as text changes the total (and so the grade): PE416 says by how much
    if ts.kind is NUMBER:
        f = se.funds
        ex = num(f.score)
        written = [num(i.score) for i in se.indicators]
        if ex is not None or any(w is not None for w in written):
            arith = (ex or ZERO) + sum((w for w in written if w is not None), ZERO)
            n = 1 + len(written)
            if abs(arith - ts.number) > ctx.slack(n):
                _cmp_report(ctx, "PE208", ts, "总分", "执行率得分加各指标自评得分", pts(arith), pts(ts.number))
        rec = total_of(ctx)
        if rec is not None and abs(rec - ts.number) > ctx.slack(1 + len(lines)):
            e, a = pts(rec), pts(ts.number)
            ctx.add("PE209", ts, f"总分复核应为 {e}（执行率得分与定量指标按规则复算），表中为 {a}。"
                    f"请按上面各指标得分的提示逐项核对并修改，再重填总分", e, a)
    if se.grade.kind is TEXT and se.grade.text and not tainted(ctx, se.grade):
        rec = total_of(ctx)
        if rec is None:
            return
        g = ctx.s.grade_of(rec)
        if normalize(se.grade.text) != g:
            ctx.add("PE210", se.grade, f"等级按复核总分 {pts(rec)} 应为“{g}”，表中为“{se.grade.text}”。"
                    f"请核对总分后把等级改为“{g}”", g, se.grade.text)


@rule(info("PE211", "指标权重与通常分配不同", I, G, """
财预〔2020〕10号的通常分配：预算执行率 10 分，产出指标 50 分，效益指标 30 分，满意度指标 10 分；没有满意度指标时
效益指标 40 分。地方可以不同，这里只作提示。改正：如无特别规定，按通常分配设定一级指标分值。"""))
def pe211(ctx: Ctx) -> None:
    s = ctx.s
    gs = groups_of(ctx)
    has_sat = any("满意" in normalize(disp(h.level1)) for h, _ in gs)
    f = ctx.form.self_eval.funds
    fp = num(f.points)
    if fp is not None and fp != s.weight_execution:
        e, a = pts(s.weight_execution), pts(fp)
        ctx.add("PE211", f.points, f"预算执行率分值通常为 {e}，表中为 {a}。如无本地规定，请改为 {e}", e, a)
    for head, _lines in gs:
        title = normalize(disp(head.level1))
        stated = heading_points(title)
        if stated is None:
            continue
        if "产出" in title:
            usual = s.weight_output
        elif "效益" in title:
            usual = s.weight_effect if has_sat else s.weight_effect_no_satisfaction
        elif "满意" in title:
            usual = s.weight_satisfaction
        else:
            continue
        if stated != usual:
            e, a = pts(usual), pts(stated)
            ctx.add("PE211", head.level1_loc or head.level1.loc,
                    f"一级指标“{title}”通常为 {e} 分，表中标明 {a} 分。如无本地规定，请按通常分配修改", e, a)


def _span(values) -> str:
    """"G13:G16" for cells one under another in one column, else "G13、G15"; "" when none."""
    locs = [v.loc for v in values if v.loc]
    if not locs:
        return "三级指标"
    cells = [l.cell for l in locs]
    parts = [_col_row(c) for c in cells]
    col = {c for c, _ in parts}
    rows = sorted(r for _, r in parts)
    if len(col) == 1 and len(rows) > 1 and rows == list(range(rows[0], rows[0] + len(rows))):
        (c,) = col
        return f" {c}{rows[0]}:{c}{rows[-1]} "
    return " " + "、".join(cells) + " "


@lru_cache(maxsize=4096)
def _col_row(cell: str) -> tuple[str, int]:
    """"G13" -> ("G", 13), once per distinct cell (a batch repeats the template's cells)."""
    return "".join(ch for ch in cell if ch.isalpha()), int("".join(ch for ch in cell if ch.isdigit()))


# ---- the verdict: is the recomputed total one a reviewer can sign? --------------------------------

# Codes whose finding says the point structure itself is wrong; while one stands, 复核总分 and 等级 are
# provisional. Rule modules that check the structure too (standard weights of a form family) add theirs
# with structure_code().
STRUCTURE_CODES: dict[str, str] = {
    "PE205": "一级指标分值与其下三级指标分值之和不符",
    "PE206": "执行率分值加各指标分值之和不等于 100",
    # the form families' standard-weight rule (issue 10): headings without points that miss the usual split
    "PE610": "一级指标未标分值且与通常分配不符",
}


def structure_code(code: str, what: str) -> None:
    """Declare that a finding of `code` makes the total provisional (what: short Chinese reason)."""
    STRUCTURE_CODES[code] = what


def provisional_note(findings) -> str:
    """Why 复核总分/等级 are provisional ("" when they are not): a structure finding at warning or error level
    stands (one downgraded to info by the locality's settings is accepted structure)."""
    hits: dict[str, list[str]] = {}
    for f in findings:
        if f.code in STRUCTURE_CODES and f.severity is not I:
            hits.setdefault(f.code, []).append(f.cell or f.sheet or "")
    if not hits:
        return ""
    parts = []
    for code, cells in hits.items():
        where = "、".join(c for c in cells[:3] if c) + ("等" if len(cells) > 3 else "")
        parts.append(f"{code} {STRUCTURE_CODES[code]}" + (f"（{where}）" if where else ""))
    return ("分值结构有误：" + "；".join(parts) + "。复核总分与等级按表中现有分值计算，仅为暂定，"
            "请改正分值后重新校验")
