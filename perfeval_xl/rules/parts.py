"""The file-level metrics of a workbook that holds several forms (pure: forms and their reports in, Metrics out)."""
from __future__ import annotations

from decimal import Decimal

from ..findings import Metrics
from ..forms import get_family


def file_metrics(form, parts):
    """The file-level entry of a workbook holding several forms: who and when, and the sums of the parts'
    budgets (each part keeps its own scores)."""
    if form.parts and form.parts[0].family == form.family and parts[0].metrics is not None:
        fam = get_family(form.family)
        if fam is not None and not fam.is_project:  # a 部门整体 form with its projects' forms beside it:
            m = parts[0].metrics  # the department's figures are the file's (the projects are inside them)
            return Metrics(department=m.department, year=m.year, budget=m.budget, actual=m.actual,
                           execution_rate=m.execution_rate, execution_score=m.execution_score,
                           self_total_score=m.self_total_score, total_score=m.total_score, grade=m.grade,
                           score_provisional=m.score_provisional, score_note=m.score_note, form=form.family)
    ms = [p.metrics for p in parts if p.metrics is not None]
    budgets = [m.budget for m in ms if m.budget is not None]
    actuals = [m.actual for m in ms if m.actual is not None]
    budget = sum(budgets, Decimal(0)) if budgets else None
    actual = sum(actuals, Decimal(0)) if actuals else None
    depts = {m.department for m in ms if m.department}
    return Metrics(department="、".join(sorted(depts)) if depts else form.department, year=form.year_int,
                   budget=budget, actual=actual,
                   execution_rate=round(actual / budget, 4) if budget and actual is not None else None,
                   form=form.family)
