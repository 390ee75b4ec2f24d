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
    report = run_rules(form, settings, options.select, options.ignore)
    report.path = path
    return report


def check_file(path: str, options: CheckOptions | None = None) -> Report:
    """Check one workbook. A file that cannot be read or checked gives Report(error=<Chinese reason>)."""
    from .readers import read_workbook

    options = options or CheckOptions()
    try:
        form = read_workbook(path, fast=options.fast)
    except ReadError as e:
        return Report(path=path, error=e.reason)
    except Exception as e:  # a reader bug must not stop a batch of hundreds
        return Report(path=path, error=f"读取失败（{type(e).__name__}：{e}）")
    try:
        return check_form(form, options, path)
    except Exception as e:
        return Report(path=path, error=f"校验失败（{type(e).__name__}：{e}）")
