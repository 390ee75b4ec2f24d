"""One workbook in, one Report out: read -> settings -> rules. Never raises for a bad file.

CheckOptions is a plain frozen dataclass of strings and tuples, so it pickles into F's process pool.
Settings belong to the bureau: options.config, else the settings file in the current working directory
(settings.find_config), never one beside the workbook. Text that came from the submission (cell text in
messages, the unit's name, a reader's reason quoting a part name) is made inert here, once, so that every
writer after us (terminal, JSON, summary, 校验结果 sheet, notes) receives it without control characters.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError, ReadError
from .findings import Finding, Report
from .inert import inert_line


@dataclass(frozen=True)
class CheckOptions:
    config: str | None = None  # explicit settings file (--config)
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fast: bool = True  # python-calamine values-only reader (batch); False: openpyxl, formulas visible
    form: str | None = None  # a form family key (--form) that skips recognition; None: recognise
    # config is the bureau's settings file as the front end resolved it once (None: there is none), so a
    # worker does not look in the working directory again for every file
    resolved: bool = False


def check_form(form, options: CheckOptions | None = None, path: str | None = None) -> Report:
    """Rules over an already-read Form (the xlwings front end reads its own)."""
    run_rules, load_settings = _RULES or _load_rules()

    options = options or CheckOptions()
    path = path or form.source
    try:
        if options.select or options.ignore:  # (nothing to check otherwise)
            check_codes(options.select, "--select")
            check_codes(options.ignore, "--ignore")
        settings = load_settings(path, options.config, form.settings_overrides, form.settings_cells,
                                 search=not options.resolved)
        if settings.select or settings.ignore or settings.severity:
            check_settings_codes(settings)
    except ConfigError as e:
        return inert_report(Report(path=path, error=f"设置有误：{e}"))
    if form.parts:  # several forms in one workbook (one per project): each is checked on its own
        parts = []
        for part in form.parts:
            pr = run_rules(part, settings, options.select, options.ignore)
            pr.path, pr.form = path, part.family
            parts.append(pr)
        from .rules.parts import file_metrics

        return inert_report(Report(path=path, form=form.family, metrics=file_metrics(form, parts), parts=parts))
    report = run_rules(form, settings, options.select, options.ignore)
    report.path = path
    report.form = form.family
    return inert_report(report)


_RULES: tuple = ()  # (run_rules, load_settings), imported on first use: a function-level "from .rules import"
# goes through importlib's Python code for a package on every call


def _load_rules() -> tuple:
    global _RULES
    from .rules import run_rules
    from .settings import load_settings

    _RULES = (run_rules, load_settings)
    return _RULES


def check_codes(codes, where: str, prefixes: bool = True) -> None:
    """Every rule code (or, with prefixes, code prefix such as "PE3") must name a catalog entry:
    a typo ("PE3O8") would otherwise select or silence nothing. Raises ConfigError naming it."""
    codes = [str(c).strip().upper() for c in codes if str(c).strip()]
    if not codes:
        return
    from . import rules  # noqa: F401  (registers the workbook rules)
    from .catalog import unknown_codes

    bad = unknown_codes(codes, prefixes)
    if bad and any(c.startswith("PR") for c in bad):
        from . import report  # noqa: F401  (registers the report rules PR6xx)
        bad = unknown_codes(codes, prefixes)
    if bad:
        raise ConfigError(f"{where}：没有规则 {'、'.join(bad)}（`perfeval rules` 列出全部规则）")


def check_settings_codes(settings) -> None:
    """The rule codes a settings file names (select, ignore, severity) against the catalog."""
    from .settings import rule_codes

    for where, codes, prefixes in rule_codes(settings):
        check_codes(codes, where, prefixes)


def _inert_finding(f: Finding) -> Finding:
    m, e, a = inert_line(f.message), inert_line(f.expected) if f.expected is not None else None, \
        inert_line(f.actual) if f.actual is not None else None
    if (m, e, a) == (f.message, f.expected, f.actual):
        return f
    return Finding(f.code, f.severity, f.sheet, f.cell, m, e, a, f.related)  # the cells to mark stay


def inert_report(report: Report) -> Report:
    """The report with every submitted text made inert (one line each: no control character survives)."""
    report.findings = [_inert_finding(f) for f in report.findings]
    if report.error:
        report.error = inert_line(report.error)
    m = report.metrics
    if m is not None:
        m.department = inert_line(m.department)
        m.project = inert_line(m.project)
        m.score_note = inert_line(m.score_note)
    for part in report.parts:
        inert_report(part)
    return report


def with_parts(report: Report) -> Report:
    """The report to mark a workbook with (annotated copies, the Excel button): a workbook of several project
    forms is marked with every part's findings, since they are cells of the one file. Other reports as they are."""
    if not report.parts:
        return report
    findings = list(report.findings) + [f for p in report.parts for f in p.findings]
    return Report(path=report.path, findings=findings, metrics=report.metrics, error=report.error,
                  form=report.form, parts=report.parts)


def check_file(path: str, options: CheckOptions | None = None) -> Report:
    """Check one workbook. A file that cannot be read or checked gives Report(error=<Chinese reason>)."""
    from .readers import read_workbook

    options = options or CheckOptions()
    try:
        form = read_workbook(path, fast=options.fast, family=options.form)
    except ReadError as e:
        return inert_report(Report(path=path, error=e.reason))
    except MemoryError:
        return Report(path=path, error="文件内容过大，读取时超出内存上限，已停止读取")
    except Exception as e:  # a reader bug must not stop a batch of hundreds
        return inert_report(Report(path=path, error=f"读取失败（{type(e).__name__}：{e}）"))
    try:
        return check_form(form, options, path)
    except Exception as e:
        return inert_report(Report(path=path, error=f"校验失败（{type(e).__name__}：{e}）"))
