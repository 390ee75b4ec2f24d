"""What every rule module shares: registration, the finding context, number helpers.

A rule is a function ctx -> None that emits findings through ctx.add. It is registered with the
codes it may emit (RuleInfo: code, Chinese title, explanation, default severity) so that
`perfeval rules CODE` can explain it. Rules are pure: they read ctx.form and ctx.s only.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from ..catalog import CATALOG, RuleInfo, register
from ..findings import Finding, Severity
from ..model import Form, Kind, Loc, Value
from ..scoring import normalize, round2
from ..settings import Settings

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
EPS = Decimal("1e-9")  # LibreOffice caches 15 significant digits


@dataclass
class Rule:
    func: Callable[[Ctx], None]
    codes: tuple[str, ...]


RULES: list[Rule] = []


def info(code: str, title: str, severity: Severity, group: str, explanation: str) -> RuleInfo:
    return RuleInfo(code, title, explanation.strip(), severity, group)


def rule(*infos: RuleInfo):
    """Register a check function and the codes it emits."""
    for i in infos:
        register(i)

    def deco(func):
        RULES.append(Rule(func, tuple(i.code for i in infos)))
        return func

    return deco


@dataclass
class Ctx:
    form: Form
    s: Settings
    findings: list[Finding] = field(default_factory=list)
    memo: dict = field(default_factory=dict)  # shared per run: every Value, the scored indicator lines

    def values(self) -> list[Value]:
        if "values" not in self.memo:
            self.memo["values"] = list(iter_values(self.form))
        return self.memo["values"]

    def add(self, code: str, where: Value | Loc | None, message: str,
            expected: str | None = None, actual: str | None = None) -> None:
        loc = where.loc if isinstance(where, Value) else where
        sev = CATALOG[code].severity
        override = self.s.severity.get(code)
        if override:
            sev = Severity(override)
        self.findings.append(Finding(code, sev, loc.sheet if loc else "", loc.cell if loc else "",
                                     message, expected, actual))


def iter_values(obj) -> Iterator[Value]:
    """Every Value in the form, depth first."""
    if isinstance(obj, Value):
        yield obj
    elif dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            yield from iter_values(getattr(obj, f.name))
    elif isinstance(obj, list):
        for x in obj:
            yield from iter_values(x)


# ---- numbers -----------------------------------------------------------------------------------

def num(v: Value) -> Decimal | None:
    return v.number if v.kind is Kind.NUMBER else None


def blankish(v: Value) -> bool:
    """Blank, or stated as none ("—", "无"): counts as 0 in a sum."""
    return v.kind in (Kind.EMPTY, Kind.NA)


def not_computed(v: Value) -> bool:
    """No usable value: a formula never calculated, an error, unreadable text, or a blank where our
    template has a formula (a values-only reader cannot tell "no cached value" from blank)."""
    return v.kind in (Kind.UNKNOWN, Kind.INVALID) or (v.kind is Kind.EMPTY and bool(v.template_formula))


def as_amount(v: Value) -> Decimal | None:
    """A number, 0 for blank/none, None when it cannot take part in arithmetic."""
    if not_computed(v):
        return None
    if v.kind is Kind.NUMBER:
        return v.number
    if blankish(v):
        return Decimal(0)
    return None


def amt(x: Decimal | None) -> str:
    return "空" if x is None else f"{round2(x):f}"


def pct(x: Decimal | None) -> str:
    return "空" if x is None else f"{round2(x * 100):f}%"


def pts(x: Decimal | None) -> str:
    if x is None:
        return "空"
    r = round2(x)
    return f"{r.normalize():f}" if r == r.to_integral() else f"{r:f}".rstrip("0")


def shown(v: Value, fmt=amt) -> str:
    if v.kind is Kind.NUMBER:
        return fmt(v.number)
    if v.kind is Kind.EMPTY:
        return "空"
    return v.display or "空"


def is_formula_cell(v: Value) -> bool:
    return bool(v.formula)


def heading_points(text: str | None) -> Decimal | None:
    """"产出指标\\n\\n(50分)" -> 50."""
    m = re.search(r"(\d+(?:\.\d+)?)分", normalize(text))
    return Decimal(m.group(1)) if m else None


def clean_name(text: str | None) -> str:
    """A project name without its "16、" numbering and whitespace, for duplicate detection."""
    t = normalize(text)
    return re.sub(r"^[\(（]?\d+[\)）、.．,，]?", "", t)


def check_sum(ctx: Ctx, code: str, target: Value, terms: Iterable[tuple[Value, int]], where: str,
              what: str = "各项之和") -> None:
    """target = Σ sign × term, within n × tolerance. Skipped when any cell is not a usable number.

    A formula cell whose cached value disagrees is reported as PE502 (stale cache), not as `code`.
    """
    terms = list(terms)
    if not_computed(target) or target.kind in (Kind.TEXT, Kind.DATE):
        return
    total = Decimal(0)
    for v, sign in terms:
        a = as_amount(v)
        if a is None:
            return
        total += sign * a
    if blankish(target):
        if all(blankish(v) for v, _ in terms) or total == 0:
            return
        got = None
    else:
        got = target.number
    tol = ctx.s.tolerance * len(terms)
    if got is not None and abs(got - total) <= tol + EPS:
        return
    _report(ctx, code, target, where, what, amt(total), amt(got))


def check_ratio(ctx: Ctx, code: str, target: Value, numerator: Value, denominator: Value, where: str,
                what: str) -> None:
    """target (a ratio) = numerator / denominator, compared at 0.01 percentage point after rounding."""
    if target.kind is not Kind.NUMBER:
        return  # blank or "—" rates are not required; unreadable ones are PE406/PE503
    n, d = num(numerator), num(denominator)
    if n is None or d is None or d == 0:
        return
    expected = n / d
    tol = ctx.s.tolerance / 100
    if abs(round(expected, 4) - target.number) <= tol + EPS:
        return
    _report(ctx, code, target, where, what, pct(expected), pct(target.number))


def _report(ctx: Ctx, code: str, target: Value, where: str, what: str, expected: str, actual: str) -> None:
    if is_formula_cell(target):
        ctx.add("PE502", target,
                f"{where}的公式缓存值与公式结果不符：按{what}应为 {expected}，单元格缓存为 {actual}。"
                f"请在 Excel 中重新计算后保存", expected, actual)
    else:
        ctx.add(code, target, f"{where}应为{what} {expected}，表中为 {actual}", expected, actual)
