"""PE5xx: our template's formulas — overwritten, stale, or never calculated."""
from __future__ import annotations

from collections import defaultdict

from ..layout import TEMPLATE_LAYOUT
from .base import EMPTY, I, W, Ctx, info, rule

F = "公式"


def _label(v) -> str:
    spec = TEMPLATE_LAYOUT.field_at(v.loc.sheet, v.loc.cell) if v.loc else None
    return spec.label if spec else (v.loc.cell if v.loc else "")


@rule(info("PE501", "模板公式被手工数值覆盖", W, F, """
模板中自动计算的单元格（合计、差额、执行率、得分、总分等）被手工输入的数值或文字覆盖，或公式被删除。
覆盖后该数不再随明细变化，是合计出错的主要原因。改正：恢复模板公式（可从空白模板复制该单元格）。"""))
def pe501(ctx: Ctx) -> None:
    if not ctx.form.formulas_known:
        return
    for v in ctx.values():
        if v.template_formula and not v.formula and v.loc:
            what = "已被删除" if v.kind is EMPTY else f"被数值“{v.display}”覆盖"
            ctx.add("PE501", v, f"{_label(v)}的模板公式{what}，应为公式 {v.template_formula}。请恢复公式（从空白模板复制该单元格）",
                    v.template_formula, v.display or "空")


@rule(info("PE502", "公式缓存值与公式结果不符", W, F, """
单元格有公式，但保存的计算结果与按公式重新计算的结果不同：工作簿在关闭自动计算的情况下保存，或由其他程序改写过。
改正：在 Excel 中按 Ctrl+Alt+F9 重新计算后保存。"""),
      info("PE503", "公式没有计算结果", I, F, """
公式单元格没有保存计算结果（由程序生成、未在 Excel 中打开保存过），涉及它的核对因此跳过。
默认的快速读取（python-calamine）分不清“没有计算结果”和“结果为错误值”，提示写作“没有计算结果（或结果为错误值）”；
用 --formulas 读取时，结果为错误值的报 PE504。改正：在 Excel 中打开，重新计算后保存。"""),
      info("PE504", "公式结果为错误值", W, F, """
公式的计算结果是错误值（#DIV/0!、#VALUE!、#REF! 等），通常是除数为 0、引用了文字或被删除的单元格。
改正：检查公式引用的单元格。"""))
def pe503(ctx: Ctx) -> None:
    by_sheet: dict[str, list] = defaultdict(list)
    unknown = ctx.scan().unknown
    taint = ctx.taint() if unknown else frozenset()
    for v in unknown:
        if not v.loc or id(v) in taint:  # #VALUE! from a number typed as text: PE416 names the cause
            continue
        raw = str(v.raw or "").strip()
        if not raw.startswith("#") and v.problem and "错误值 #" in v.problem:  # the reader names the error
            raw = "#" + v.problem.split("错误值 #", 1)[1].split("，")[0].split()[0]
        if raw.startswith("#"):
            ctx.add("PE504", v, f"{_label(v)}的公式结果为错误值 {raw}。请核对公式引用的单元格（如除数为 0 或空白）并改正", "数值", raw)
        else:
            by_sheet[v.loc.sheet].append(v)
    # openpyxl sees a formula with no cached value as such; python-calamine gives the same blank for a
    # formula whose cached value is an error, so the fast path cannot promise which of the two it is
    what = "没有计算结果" if ctx.form.formulas_known else "没有计算结果（或结果为错误值）"
    for sheet, vals in by_sheet.items():
        cells = "、".join(v.loc.cell for v in vals[:6]) + ("等" if len(vals) > 6 else "")
        ctx.add("PE503", vals[0], f"{sheet}有 {len(vals)} 个公式单元格{what}（{cells}），相关核对已跳过。"
                "请在 Excel 中重新计算后保存", "计算结果", "无")
