"""The 整体支出绩效自评报告: written from the workbook (build), and a submitted one checked against it (check).

build_report(form, dest, *, pdf=False) -> path      a Word document laid out like the seed report
check_report(report_path_or_text, form, settings=None) -> Report   PR6xx findings
Importing this package registers the PR6xx codes in perfeval_xl.catalog.
"""
from __future__ import annotations

from .check import REPORT_CODES, check_report

__all__ = ["build_report", "check_report", "REPORT_CODES"]


def __getattr__(name):
    if name == "build_report":  # python-docx is imported only when a report is written
        from .build import build_report

        return build_report
    raise AttributeError(name)
