"""The Excel front end: the 校验 button (main), validate_book and clear_marks on a live xlwings Book.

No domain logic here: a Grid from the book (readers/xlwings_grid.py) -> owner B's form_from_grid
-> owner C's load_settings and run_rules -> owner F's plan_marks -> our xlwings applier.
Works on any xlwings Book: desktop Excel via xw.Book.caller(), or the remote interpreter's
xw.Book(json=...) (the actions then come back through book.json()).
"""
from __future__ import annotations

import os
from datetime import datetime

from .errors import ConfigError, ReadError
from .findings import Metrics, Report

ALERT_TITLE = "绩效自评校验"


def _fullname(book) -> str:
    try:
        return book.fullname or book.name
    except Exception:
        return book.name


def check_book(book, *, settings=None) -> Report:
    """Read the live book and run the rules; never raises for a bad book (Report.error says why)."""
    from .readers import form_from_grid
    from .readers.xlwings_grid import grid_from_book, names_from_book
    from .rules import run_rules
    from .settings import load_settings

    source = _fullname(book)
    try:
        grid = grid_from_book(book)
        names = names_from_book(book)
        form = form_from_grid(grid, names or None, source, "xlwings")
        if settings is None:
            # A config file beside a saved workbook counts as it does for the batch checker.
            path = source if os.path.isfile(source) else None
            settings = load_settings(workbook_path=path, overrides=form.settings_overrides or None,
                                     cells=form.settings_cells)
        return run_rules(form, settings)
    except ReadError as e:
        return Report(source, error=e.reason)
    except ConfigError as e:
        return Report(source, error=f"设置有误：{e}")


def summary_text(report: Report) -> str:
    """The short message shown after a run."""
    if report.error:
        return f"无法校验：{report.error}"
    lines = [f"错误 {report.errors} 项，警告 {report.warnings} 项，提示 {report.infos} 项"]
    m = report.metrics or Metrics()
    if m.total_score is not None:
        lines.append(f"复核总分 {m.total_score:.2f}，等级 {m.grade or '—'}" + ("（暂定）" if m.score_provisional else ""))
        if m.score_provisional and m.score_note:
            lines.append(m.score_note)
    if m.self_total_score is not None and m.total_score is not None and m.self_total_score != m.total_score:
        lines.append(f"（表中自评总分 {m.self_total_score:.2f}）")
    lines.append("详见“校验结果”工作表；有问题的单元格已标色并加批注。" if report.findings
                 else "未发现问题。")
    return "\n".join(lines)


def _alert(book, text: str) -> None:
    try:
        book.app.alert(text, title=ALERT_TITLE)
    except Exception:  # an engine without message boxes: the 校验结果 sheet says the same
        pass


def validate_book(book, *, settings=None, alert: bool = True) -> Report:
    """Check a live book, mark it (previous marks cleared first) and show a short summary."""
    from .marks import plan_marks
    from .writers.xlwings_apply import apply_plan

    report = check_book(book, settings=settings)
    plan = plan_marks(report, generated=datetime.now().strftime("%Y-%m-%d %H:%M"))
    apply_plan(book, plan)
    if alert:
        _alert(book, summary_text(report))
    return report


def clear_marks(book) -> int:
    """Remove the marks of the last run: cells get their own fill and notes back. Returns cells restored."""
    from .writers.xlwings_apply import clear_marks as _clear

    return _clear(book)


def main() -> None:
    """Entry of the ribbon's 校验 button (RibbonMyAddin.RunMain -> perfeval_xl.main())."""
    import xlwings as xw

    validate_book(xw.Book.caller())
