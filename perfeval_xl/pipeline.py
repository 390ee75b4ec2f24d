"""One workbook in, one Report out: read -> settings -> rules. Never raises for a bad file.

CheckOptions is a plain frozen dataclass of strings and tuples, so it pickles into F's process pool.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError, ReadError
from .findings import Report


@dataclass(frozen=True)
class CheckOptions:
    config: str | None = None  # explicit settings file (--config)
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fast: bool = True  # python-calamine values-only reader (batch); False: openpyxl, formulas visible
    form: str | None = None  # a form family key (--form) that skips recognition; None: recognise


def check_form(form, options: CheckOptions | None = None, path: str | None = None) -> Report:
    """Rules over an already-read Form (the xlwings front end reads its own)."""
    from .rules import run_rules
    from .settings import check_codes, load_settings

    options = options or CheckOptions()
    path = path or form.source
    try:
        check_codes(options.select, "--select")
        check_codes(options.ignore, "--ignore")
        settings = load_settings(path, options.config, form.settings_overrides, form.settings_cells)
    except ConfigError as e:
        return Report(path=path, error=f"设置有误：{e}")
    if form.parts:  # several forms in one workbook (one per project): each is checked on its own
        parts = []
        for part in form.parts:
            pr = run_rules(part, settings, options.select, options.ignore)
            pr.path, pr.form = path, part.family
            parts.append(pr)
        return Report(path=path, form=form.family, metrics=_file_metrics(form, parts), parts=parts)
    report = run_rules(form, settings, options.select, options.ignore)
    report.path = path
    report.form = form.family
    return report


def _file_metrics(form, parts):
    """The file-level entry of a workbook holding several forms: who and when, and the sums of the parts'
    budgets (each part keeps its own scores)."""
    from decimal import Decimal

    from .findings import Metrics

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


def check_file(path: str, options: CheckOptions | None = None) -> Report:
    """Check one workbook. A file that cannot be read or checked gives Report(error=<Chinese reason>)."""
    from .readers import read_workbook

    options = options or CheckOptions()
    try:
        form = read_workbook(path, fast=options.fast, family=options.form)
    except ReadError as e:
        return Report(path=path, error=e.reason)
    except Exception as e:  # a reader bug must not stop a batch of hundreds
        return Report(path=path, error=f"读取失败（{type(e).__name__}：{e}）")
    try:
        return check_form(form, options, path)
    except Exception as e:
        return Report(path=path, error=f"校验失败（{type(e).__name__}：{e}）")
