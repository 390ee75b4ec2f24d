"""Findings and per-workbook reports (the frictionless habit: small dataclasses)."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def label(self) -> str:
        return {"error": "错误", "warning": "警告", "info": "提示"}[self.value]

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True, slots=True)
class Finding:
    code: str  # stable rule code, e.g. "PE101"
    severity: Severity
    sheet: str
    cell: str  # A1 style: the cell the user must look at ("" when the finding has no cell)
    message: str  # Chinese: what is wrong, where, what was expected, what was found
    expected: str | None = None
    actual: str | None = None
    # Other cells the fix touches, as (sheet, cell): the 分值 cells under a heading whose sum is wrong, the
    # sub-line that causes a parent's overspend. Marked too; the finding is still counted once (issue 12).
    related: tuple[tuple[str, str], ...] = ()

    def __reduce__(self):
        # Pickled as its fields in order (the worker pool sends every finding to the parent): the slots
        # dataclass default, __getstate__/__setstate__, looks the fields up again for every object.
        return (Finding, (self.code, self.severity, self.sheet, self.cell, self.message, self.expected, self.actual,
                          self.related))

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "sheet": self.sheet,
            "cell": self.cell,
            "message": self.message,
            "expected": self.expected,
            "actual": self.actual,
            "related": [{"sheet": s, "cell": c} for s, c in self.related],
        }


@dataclass(slots=True)
class Metrics:
    department: str = ""
    year: int | None = None
    budget: Decimal | None = None  # 全年预算数
    actual: Decimal | None = None  # 全年执行数
    execution_rate: Decimal | None = None  # ratio
    execution_score: Decimal | None = None  # recomputed, capped at 分值
    self_total_score: Decimal | None = None  # 总分 as written in the form
    total_score: Decimal | None = None  # recomputed
    grade: str | None = None  # from the recomputed total
    # The verdict is provisional when the point structure itself is wrong (issue 12): say so, and why.
    score_provisional: bool = False
    score_note: str = ""  # Chinese: why 复核总分/等级 are provisional ("" when they are not)
    form: str = ""  # recognised form family key, e.g. "hunan_dept" (issue 10)
    project: str = ""  # 项目名称, for project self-evaluation forms (issue 10)

    def __reduce__(self):
        return (Metrics, tuple(getattr(self, k) for k in self.__slots__))  # as Finding: fields in order

    def to_dict(self) -> dict:
        def j(v):
            return float(v) if isinstance(v, Decimal) else v

        return {k: j(getattr(self, k)) for k in self.__slots__}


@dataclass(slots=True)
class Report:
    """The outcome for one workbook: findings and metrics, or the reason it could not be read."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    metrics: Metrics | None = None
    error: str | None = None  # Chinese: why the file could not be checked
    form: str = ""  # recognised form family key ("" when not recognised or not read)
    # One entry per form inside the file (several project forms in one workbook); empty when the file is one form.
    # Each part is a Report of its own with the same path; findings of the parts are not repeated here.
    parts: list["Report"] = field(default_factory=list)

    def __reduce__(self):
        return (Report, tuple(getattr(self, k) for k in self.__slots__))  # as Metrics

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def errors(self) -> int:
        return self.count(Severity.ERROR)

    @property
    def warnings(self) -> int:
        return self.count(Severity.WARNING)

    @property
    def infos(self) -> int:
        return self.count(Severity.INFO)

    def to_dict(self) -> dict:
        d = {
            "path": self.path,
            "form": self.form,
            "metrics": self.metrics.to_dict() if self.metrics else None,
            "findings": [f.to_dict() for f in self.findings],
            "error": self.error,
        }
        if self.parts:
            d["forms"] = [p.to_dict() for p in self.parts]
        return d
