"""The rule catalog and run_rules: model + settings -> findings + metrics. Pure: no files."""
from __future__ import annotations

from ..catalog import CATALOG
from ..findings import Finding, Metrics, Report
from ..layout import FORM_SHEETS
from ..model import Form
from ..scoring import execution_rate, grade
from ..settings import Settings
from . import arithmetic, completeness, formulas, scores, variances  # noqa: F401  (registration)
from .base import RULES, Ctx, W, info, num, rule

# A rule that fails on an unexpected form must not take the others down (the clerk still gets the rest).
INTERNAL = rule(info("PE900", "校验规则运行出错", W, "内部", """
某条规则在这个工作簿上运行出错，其余规则照常完成。这通常说明工作簿的结构异常（合并单元格、插入的行），
也可能是本工具的缺陷：请把工作簿和这条提示一起反馈给维护人员。"""))(lambda ctx: None)

__all__ = ["run_rules", "matches", "compute_metrics", "CATALOG"]


def matches(code: str, patterns) -> bool:
    """A code matches a pattern when it starts with it: "PE1" selects PE101..PE116."""
    return any(code.upper().startswith(p.strip().upper()) for p in patterns if p.strip())


def _sheet_order(form: Form) -> dict[str, int]:
    order = {}
    for name in list(form.sheet_names.values()) + list(FORM_SHEETS):
        order.setdefault(name, len(order))
    return order


def _cell_key(cell: str) -> tuple[int, int]:
    col = "".join(ch for ch in cell if ch.isalpha())
    row = "".join(ch for ch in cell if ch.isdigit())
    c = 0
    for ch in col.upper():
        c = c * 26 + ord(ch) - 64
    return (int(row) if row else 0, c)


def compute_metrics(form: Form, s: Settings, lines=None) -> Metrics:
    f = form.self_eval.funds
    rate = execution_rate(num(f.budget), num(f.actual))
    lines = scores.score_lines(form, s) if lines is None else lines
    total = scores.recomputed_total(form, s, lines)
    return Metrics(
        department=form.department,
        year=form.year_int,
        budget=num(f.budget),
        actual=num(f.actual),
        execution_rate=round(rate, 4) if rate is not None else None,
        execution_score=scores.recomputed_execution_score(form, s),
        self_total_score=num(form.self_eval.total_score),
        total_score=total,
        grade=grade(total, s) if total is not None else None,
    )


def run_rules(form: Form, settings: Settings | None = None, select=(), ignore=()) -> Report:
    """Run every selected rule over the form. select/ignore take codes or prefixes ("PE1")."""
    s = settings or Settings()
    select = tuple(select) + tuple(s.select)
    ignore = tuple(ignore) + tuple(s.ignore)

    def wanted(code: str) -> bool:
        return (not select or matches(code, select)) and not matches(code, ignore)

    ctx = Ctx(form, s)
    for r in RULES:  # all run (cheap): a rule may emit a shared code such as PE502; filter after
        try:
            r.func(ctx)
        except Exception as e:  # noqa: BLE001  (reported as a finding, see PE900)
            ctx.add("PE900", None, f"规则 {'、'.join(r.codes)} 运行出错（{type(e).__name__}：{e}），已跳过", None, None)
    findings: list[Finding] = [f for f in ctx.findings if wanted(f.code)]
    order = _sheet_order(form)
    findings.sort(key=lambda f: (order.get(f.sheet, len(order)), _cell_key(f.cell), f.code))
    return Report(path=form.source, findings=findings, metrics=compute_metrics(form, s, scores.lines_of(ctx)))

