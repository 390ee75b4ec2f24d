"""The Excel front end: the 校验 button (main), validate_book and clear_marks on a live xlwings Book.

No domain logic here: a Grid from the book (readers/xlwings_grid.py) -> owner B's form_from_grid
-> owner C's load_settings and run_rules -> owner F's plan_marks -> our xlwings applier.
Works on any xlwings Book: desktop Excel via xw.Book.caller(), or the remote interpreter's
xw.Book(json=...) (the actions then come back through book.json()).
"""
from __future__ import annotations

import logging
import os
from datetime import datetime

from .errors import ConfigError, ReadError
from .findings import Metrics, Report

ALERT_TITLE = "绩效自评校验"
log = logging.getLogger("perfeval_xl.excel")


def _fullname(book) -> str:
    try:
        return book.fullname or book.name
    except Exception:
        return book.name


def check_book(book, *, settings=None, config: str | None = None) -> Report:
    """Read the live book and run the rules; never raises for a bad book (Report.error says why).

    config: a settings file that applies whatever the book's name (a service checking books sent to it)."""
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
            # The button runs on the clerk's own PC, for the clerk: the bureau's perfeval.toml handed out with the
            # template is found beside the saved workbook (the batch, which owns an inbox, never looks there).
            path = source if os.path.isfile(source) else None
            if config is None and path:
                from .settings import find_config
                config = find_config(os.path.dirname(os.path.abspath(path)))
            settings = load_settings(workbook_path=path, config=config, overrides=form.settings_overrides or None,
                                     cells=form.settings_cells)
        return run_rules(form, settings)
    except ReadError as e:
        return Report(source, error=e.reason)
    except ConfigError as e:
        return Report(source, error=f"设置有误：{e}")


def summary_text(report: Report, *, all_marked: bool = True, result_sheet: bool = True) -> str:
    """The short message shown after a run (all_marked False: some cells could not be marked;
    result_sheet False: no 校验结果 sheet could be written, the alert lists the findings)."""
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
    if not report.findings:
        lines.append("未发现问题。")
    elif not result_sheet:
        lines.append("未能写入“校验结果”工作表，也未标记任何单元格。")
    elif all_marked:
        lines.append("详见“校验结果”工作表；有问题的单元格已标色并加批注。")
    else:
        lines.append("详见“校验结果”工作表。")
    return "\n".join(lines)


ALERT_FINDINGS = 10  # findings listed in the alert when no 校验结果 sheet could be written


def _alert(book, text: str) -> None:
    try:
        book.app.alert(text, title=ALERT_TITLE)
    except Exception:  # an engine without message boxes: the 校验结果 sheet says the same
        log.info("no message box on this engine; the alert said: %s", text)


def alert_text(report: Report, problems=(), *, result_written: bool = True) -> str:
    """The alert: the summary, then what could not be done; the findings themselves when the
    校验结果 sheet could not be written."""
    parts = [summary_text(report, all_marked=not problems, result_sheet=result_written)]
    if problems:
        parts.append("注意：" + "\n".join(problems))
    if not result_written and report.findings:
        from .inert import inert_line

        shown = report.findings[:ALERT_FINDINGS]
        lines = ["问题："] + [inert_line(f"{f.severity.label} {f.sheet}!{f.cell} {f.message}") for f in shown]
        if len(report.findings) > len(shown):
            lines.append(f"……共 {len(report.findings)} 项")
        parts.append("\n".join(lines))
    return "\n".join(parts)


def validate_book(book, *, settings=None, alert: bool = True, config: str | None = None) -> Report:
    """Check a live book, mark it (previous marks cleared first) and show a short summary.

    Sheets protected without a password are unprotected for the marking and protected again with
    the same options; what could not be marked is said in 校验结果 and in the alert.
    """
    from .marks import plan_marks
    from .writers.xlwings_apply import mark_book

    report = check_book(book, settings=settings, config=config)
    plan = plan_marks(report, generated=datetime.now().strftime("%Y-%m-%d %H:%M"))
    outcome = mark_book(book, plan)
    if alert:
        _alert(book, alert_text(report, outcome.problems, result_written=outcome.result_written))
    return report


def clear_marks(book) -> int:
    """Remove the marks of the last run: cells get their own fill and notes back. Returns cells restored."""
    from .writers.xlwings_apply import clear_marks as _clear

    return _clear(book)


def log_path(env=os.environ) -> str:
    """Where the button logs: %LOCALAPPDATA%\\perfeval_xl\\excel.log (PERFEVAL_XL_LOG overrides)."""
    if env.get("PERFEVAL_XL_LOG"):
        return env["PERFEVAL_XL_LOG"]
    if env.get("LOCALAPPDATA"):
        return os.path.join(env["LOCALAPPDATA"], "perfeval_xl", "excel.log")
    return os.path.join(os.path.expanduser("~"), ".perfeval_xl", "excel.log")


_handler: logging.Handler | None = None


def _file_log() -> str | None:
    """Send perfeval_xl's log to log_path(); None when the file cannot be written."""
    global _handler
    path = log_path()
    root = logging.getLogger("perfeval_xl")
    if _handler is not None and getattr(_handler, "baseFilename", None) == os.path.abspath(path):
        return path
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
        _handler = None
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    _handler = handler
    return path


def main() -> None:
    """Entry of the ribbon's 校验 button (RibbonMyAddin.RunMain -> perfeval_xl.main()).

    Every run is logged (log_path()); an unexpected failure is logged with its traceback and shown
    in a Chinese message box naming the log, instead of xlwings' English traceback.
    """
    import xlwings as xw

    path = _file_log()
    book = xw.Book.caller()
    log.info("校验开始：%s", _fullname(book))
    try:
        report = validate_book(book)
    except Exception as e:
        log.exception("校验未完成")
        where = f"详细信息见日志：{path}" if path else ""
        _alert(book, f"校验未完成：{type(e).__name__}: {e}\n已做的标记可再点一次“校验”清除并重做。\n{where}")
        return
    log.info("校验完成：错误 %s 项，警告 %s 项，提示 %s 项", report.errors, report.warnings, report.infos)
