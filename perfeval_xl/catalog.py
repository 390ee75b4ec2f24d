"""The catalog of rule codes: every check, workbook or report, registers its code here.

`perfeval rules` lists this catalog; `perfeval rules CODE` explains one entry.
"""
from __future__ import annotations

from dataclasses import dataclass

from .findings import Severity


@dataclass(frozen=True)
class RuleInfo:
    code: str  # stable, e.g. "PE101"
    title: str  # Chinese, one line
    explanation: str  # Chinese paragraph: what is checked, why, the anti-pattern and the fix
    severity: Severity  # default severity
    group: str = ""  # e.g. "算术" / "评分" / "差异" / "完整性" / "公式" / "报告"


CATALOG: dict[str, RuleInfo] = {}


def register(info: RuleInfo) -> RuleInfo:
    if info.code in CATALOG and CATALOG[info.code] != info:
        raise ValueError(f"duplicate rule code {info.code}")
    CATALOG[info.code] = info
    return info


def unknown_codes(codes, prefixes: bool = True) -> list[str]:
    """The codes (or, with prefixes, code prefixes such as "PE3") that name no catalog entry. The caller
    registers the rules first (importing perfeval_xl.rules, and perfeval_xl.report for PR codes)."""
    out = []
    for c in codes:
        c = str(c).strip().upper()
        if c and c not in CATALOG and not (prefixes and any(k.startswith(c) for k in CATALOG)):
            out.append(c)
    return out
