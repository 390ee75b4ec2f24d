"""What every rule module shares: registration, the finding context, number helpers.

A rule is a function ctx -> None that emits findings through ctx.add. It is registered with the
codes it may emit (RuleInfo: code, Chinese title, explanation, default severity) so that
`perfeval rules CODE` can explain it. Rules are pure: they read ctx.form and ctx.s only.
"""
from __future__ import annotations

import dataclasses
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from operator import attrgetter

from ..catalog import CATALOG, RuleInfo, register
from ..findings import Severity
from ..model import Form, Kind, Loc, Value
from ..scoring import CENT, normalize
from ..settings import Settings

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
EPS = Decimal("1e-9")  # LibreOffice caches 15 significant digits
ZERO = Decimal(0)
# Kind members as module constants: an attribute lookup on the enum class costs ~6x a global one.
EMPTY, NUMBER, TEXT, DATE, NA, UNKNOWN, INVALID = (Kind.EMPTY, Kind.NUMBER, Kind.TEXT, Kind.DATE, Kind.NA,
                                                    Kind.UNKNOWN, Kind.INVALID)


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
    findings: list[tuple] = field(default_factory=list)  # rows: a Finding's fields in order (see add)
    memo: dict = field(default_factory=dict)  # shared per run: every Value, the scored indicator lines
    _slack: dict = field(default_factory=dict)  # n -> s.sum_tolerance(n) + EPS (the settings are fixed per run)
    _taint: frozenset[int] | None = None  # taint(), once known
    _levels: dict = field(default_factory=dict)  # code -> its severity in this run (see add)

    def values(self) -> list[Value]:
        """Every Value of the form, depth first, flattened once per run."""
        vals = self.memo.get("values")
        if vals is None:
            vals = self.memo["values"] = values_of(self.form)
        return vals

    def scan(self) -> Scan:
        """The Values the whole-form rules look at (unreadable, number-as-text, uncalculated), each list in
        form order; one walk per run."""
        sc = self.memo.get("scan")
        if sc is None:
            sc = self.memo["scan"] = Scan()
            _scan(self.form, sc.invalid.append, sc.number_text.append, sc.unknown.append)
        return sc

    def text_effects(self):
        """What numbers typed as text do to our template's formulas (rules/textnum.py), once per run."""
        fx = self.memo.get("text_effects")
        if fx is None:
            tn = _TEXTNUM or _textnum()
            form = self.form
            fx = tn.NO_EFFECTS if not form.template_version or not self.scan().number_text else tn.text_effects(self)
            self.memo["text_effects"] = fx
        return fx

    def taint(self) -> frozenset[int]:
        """id() of the formula Values whose shown result a number typed as text changes: the checks that
        go through them are left to PE416, which names the one cause."""
        t = self._taint
        if t is None:
            t = self._taint = self.text_effects().tainted
        return t

    def slack(self, n: int) -> Decimal:
        """What a sum of n terms may be off by: s.sum_tolerance(n) + EPS, worked out once per n per run."""
        x = self._slack.get(n)
        if x is None:
            x = self._slack[n] = self.s.sum_tolerance(n) + EPS
        return x

    def add(self, code: str, where: Value | Loc | None, message: str,
            expected: str | None = None, actual: str | None = None, severity: Severity | None = None,
            related: Iterable[Value | Loc | None] = ()) -> None:
        """severity: this finding's own level where a rule grades its findings (PE416, PE203); a [severity]
        setting for the code still wins. related: other cells the fix touches (marked too, counted once).
        Kept as a row (the fields of a Finding, in order): run_rules makes the Findings once, after it has
        filtered and sorted the rows (a frozen dataclass costs ~10x a tuple to build)."""
        loc = where.loc if type(where) is Value else where
        if severity is None:  # the usual call: the code's level, worked out once per run
            sev = self._levels.get(code)
            if sev is None:
                sev = self._levels[code] = self._level(code, None)
        else:
            sev = self._level(code, severity) if self.s.severity else severity
        rel = ()
        if related:
            here = (loc.sheet, loc.cell) if loc else None  # Locs compared as (sheet, cell): Loc.__eq__ is Python
            seen = []
            for r in related:
                rl = r.loc if isinstance(r, Value) else r
                if rl:
                    key = (rl.sheet, rl.cell)
                    if key != here and key not in seen:
                        seen.append(key)
            rel = tuple(seen)
        if loc:
            self.findings.append((code, sev, loc.sheet, loc.cell, message, expected, actual, rel))
        else:
            self.findings.append((code, sev, "", "", message, expected, actual, rel))

    def _level(self, code: str, severity: Severity | None) -> Severity:
        sev = severity or CATALOG[code].severity
        if self.s.severity:
            override = self.s.severity.get(code)
            if override:
                sev = Severity(override)
        return sev


_TEXTNUM = None  # rules/textnum.py (it imports this module), imported once on first use


def _textnum():
    global _TEXTNUM
    from . import textnum

    _TEXTNUM = textnum
    return textnum


def tainted(ctx: Ctx, *vals: Value) -> bool:
    """Any of vals is a formula whose shown result a number typed as text changes (see Ctx.taint)."""
    taint = ctx.taint()
    return bool(taint) and any(id(v) in taint for v in vals)


def iter_values(obj) -> Iterator[Value]:
    """Every Value in the form, depth first."""
    yield from values_of(obj)


@dataclass
class Scan:
    """Ctx.scan(): the Values of the form that PE406/PE416/PE503 report on, each list in form order."""

    invalid: list[Value] = field(default_factory=list)  # kind INVALID
    number_text: list[Value] = field(default_factory=list)  # kind NUMBER read from a text (raw is a str)
    unknown: list[Value] = field(default_factory=list)  # kind UNKNOWN


# Walking the form. The model is dataclasses, lists and leaves; a walk visits a dataclass's fields in
# order and a list item by item, and finds a Value wherever one sits (~270 per form). The field getters
# are built once per type, and both walks below stay flat loops: this is the one pass over every cell.

_GETTERS: dict[type, Callable[[object], tuple]] = {}
_LEAVES = frozenset((str, type(None), int, float, bool, Decimal, dict, tuple, Loc))


def _getter(cls: type) -> Callable[[object], tuple]:
    names = tuple(f.name for f in dataclasses.fields(cls))
    if not names:
        return lambda obj: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names)


def _children(obj, t: type):
    """What a non-Value object holds, for a walk: a list's items, a dataclass's field values (in field
    order), or None for anything that holds no Values."""
    if t is list:
        return obj
    get = _GETTERS.get(t)
    if get is not None:
        return get(obj)
    if dataclasses.is_dataclass(obj):
        if isinstance(obj, type):  # a dataclass itself, not an instance: its class attributes
            return _getter(obj)(obj)
        return _GETTERS.setdefault(t, _getter(t))(obj)
    if isinstance(obj, list):
        return obj
    return None


def values_of(obj) -> list[Value]:
    """Every Value in obj (a form or any part of it), depth first."""
    out: list[Value] = []
    _collect(obj, out.append)
    return out


def _collect(obj, add) -> None:
    t = type(obj)
    if t is list:
        items = obj
    else:
        get = _GETTERS.get(t)
        if get is not None:  # the usual case: a part of the form already met
            items = get(obj)
        elif isinstance(obj, Value):
            add(obj)
            return
        else:
            items = None if t in _LEAVES else _children(obj, t)
            if items is None:
                return
    for x in items:
        tx = type(x)
        if tx is Value:
            add(x)
        elif tx not in _LEAVES:
            _collect(x, add)


def _scan(obj, invalid, number_text, unknown) -> None:
    """values_of, sorting out the Values the whole-form rules want as it meets them (in form order):
    invalid, number_text, unknown are the appends of Scan's three lists."""
    t = obj.__class__
    walk = _SCANNERS.get(t)
    if walk is not None:  # the usual case: a part of the form whose type was already met
        walk(obj, invalid, number_text, unknown)
        return
    if t is list:
        _scan_list(obj, invalid, number_text, unknown)
        return
    if isinstance(obj, Value):
        _classify(obj, (invalid, number_text, unknown))
        return
    items = None if t in _LEAVES else _children(obj, t)
    if items is None:
        return
    if t in _GETTERS:  # a dataclass instance: from now on its type has a scanner
        walk = _SCANNERS[t] = _scanner(t)
        walk(obj, invalid, number_text, unknown)
        return
    for x in items:  # a list subclass, or the class attributes of a dataclass type
        if x.__class__ is Value:
            _classify(x, (invalid, number_text, unknown))
        elif x.__class__ not in _LEAVES:
            _scan(x, invalid, number_text, unknown)


# A scanner: _scan over one dataclass, written out once per type from its fields (in order), with the
# test of each field inlined (no tuple of the fields, no loop): the walk visits every cell of every form.
_SCANNERS: dict[type, Callable[..., None]] = {}
_SCAN_ITEM = """\
tx = x.__class__
if tx is Value:
    k = x.kind
    if k is NUMBER:
        if isinstance(x.raw, str):
            number_text(x)
    elif k is INVALID:
        invalid(x)
    elif k is UNKNOWN:
        unknown(x)
elif tx not in _LEAVES:
    _scan(x, invalid, number_text, unknown)
"""


def _compile_scan(body: str) -> Callable[..., None]:
    ns = {"Value": Value, "NUMBER": NUMBER, "INVALID": INVALID, "UNKNOWN": UNKNOWN, "_LEAVES": _LEAVES,
          "_scan": _scan}
    exec("def scan(obj, invalid, number_text, unknown):\n" + body, ns)  # noqa: S102  (our own source)
    return ns["scan"]


def _scanner(cls: type) -> Callable[..., None]:
    names = [f.name for f in dataclasses.fields(cls)]  # identifiers: a dataclass's fields are attributes
    return _compile_scan("".join(f"    x = obj.{n}\n" + textwrap.indent(_SCAN_ITEM, " " * 4) for n in names) or "    pass\n")


_scan_list = _compile_scan("    for x in obj:\n" + textwrap.indent(_SCAN_ITEM, " " * 8))  # a list's items, the same test each


def _classify(v: Value, sink) -> None:
    invalid, number_text, unknown = sink
    k = v.kind
    if k is NUMBER:
        if isinstance(v.raw, str):
            number_text(v)
    elif k is INVALID:
        invalid(v)
    elif k is UNKNOWN:
        unknown(v)


# ---- numbers -----------------------------------------------------------------------------------

def num(v: Value) -> Decimal | None:
    return v.number if v.kind is NUMBER else None


def blankish(v: Value) -> bool:
    """Blank, or stated as none ("—", "无"): counts as 0 in a sum."""
    return v.kind in (EMPTY, NA)


def not_computed(v: Value) -> bool:
    """No usable value: a formula never calculated, an error, unreadable text, or a blank where our
    template has a formula (a values-only reader cannot tell "no cached value" from blank)."""
    return v.kind in (UNKNOWN, INVALID) or (v.kind is EMPTY and bool(v.template_formula))


def as_amount(v: Value) -> Decimal | None:
    """A number, 0 for blank/none, None when it cannot take part in arithmetic."""
    if not_computed(v):
        return None
    if v.kind is NUMBER:
        return v.number
    if blankish(v):
        return Decimal(0)
    return None


# A value rounded to cents has exponent -2, and str() writes such a Decimal in plain notation, exactly as
# format "f" does (str is ~3x faster).

# round2 written out in these three (x.quantize(CENT, ROUND_HALF_UP)): they run ~150 times per form.

def amt(x: Decimal | None) -> str:
    return "空" if x is None else str(x.quantize(CENT, ROUND_HALF_UP))


def pct(x: Decimal | None) -> str:
    return "空" if x is None else str((x * 100).quantize(CENT, ROUND_HALF_UP)) + "%"


def pts(x: Decimal | None) -> str:
    """分值 and scores, as amounts: always 2 decimals (10.00, 9.60), as the summary line prints them."""
    return "空" if x is None else str(x.quantize(CENT, ROUND_HALF_UP))


def shown(v: Value, fmt=amt) -> str:
    if v.kind is NUMBER:
        return fmt(v.number)
    if v.kind is EMPTY:
        return "空"
    return v.display or "空"


def disp(v: Value) -> str:
    """v.display (what the user sees), its usual case first: a text cell. ~100 calls a form, and the property's
    Kind.NUMBER / Kind.DATE lookups on the enum class cost ~4x this."""
    if v.kind is TEXT:
        t = v.text
        if t is not None:
            return t
    return v.display


def is_formula_cell(v: Value) -> bool:
    return bool(v.formula)


_POINTS = re.compile(r"(\d+(?:\.\d+)?)分")
_NUMBERING = re.compile(r"^[\(（]?\d+[\)）、.．,，]?")


def heading_points(text: str | None) -> Decimal | None:
    """"产出指标\\n\\n(50分)" -> 50."""
    if text is None or (type(text) is str and len(text) <= 120):  # short texts only, as in scoring
        return _heading_points(text)  # Decimals are immutable: one parse per distinct heading
    m = _POINTS.search(normalize(text))
    return Decimal(m.group(1)) if m else None


@lru_cache(maxsize=1024)
def _heading_points(text: str | None) -> Decimal | None:
    m = _POINTS.search(normalize(text))
    return Decimal(m.group(1)) if m else None


def clean_name(text: str | None) -> str:
    """A project name without its "16、" numbering and whitespace, for duplicate detection."""
    if text is None or (type(text) is str and len(text) <= 120):
        return _clean_name(text)
    return _NUMBERING.sub("", normalize(text))


@lru_cache(maxsize=4096)
def _clean_name(text: str | None) -> str:
    return _NUMBERING.sub("", normalize(text))


def check_sum(ctx: Ctx, code: str, target: Value, terms: Iterable[tuple[Value, int]], where: str,
              what: str = "各项之和") -> None:
    """target = Σ sign × term, within n × tolerance. Skipped when any cell is not a usable number.

    A formula cell whose cached value disagrees is reported as PE502 (stale cache), not as `code`.
    """
    # as_amount / not_computed / blankish inlined: this runs ~35 times per form
    tk = target.kind
    if tk is UNKNOWN or tk is INVALID or tk is TEXT or tk is DATE or (tk is EMPTY and target.template_formula):
        return
    taint = ctx.taint()
    if taint and id(target) in taint:
        return  # a number typed as text changes what the formula shows: PE416 says so at the text
    total = ZERO
    n = 0
    numbers = False
    for v, sign in terms:
        if taint and id(v) in taint:
            return
        k = v.kind
        if k is NUMBER:
            a = v.number
            numbers = True
        elif k is EMPTY:
            if v.template_formula:
                return
            a = ZERO
        elif k is NA:
            a = ZERO
        else:  # not computed, or text / a date where an amount belongs
            return
        total += sign * a
        n += 1
    if tk is EMPTY or tk is NA:
        if not numbers or total == 0:
            return
        got = None
    else:
        got = target.number
        if abs(got - total) <= ctx.slack(n):
            return
    _report(ctx, code, target, where, what, amt(total), amt(got))


def check_ratio(ctx: Ctx, code: str, target: Value, numerator: Value, denominator: Value, where: str,
                what: str) -> None:
    """target (a ratio) = numerator / denominator, compared at 0.01 percentage point after rounding."""
    if target.kind is not NUMBER:
        return  # blank or "—" rates are not required; unreadable ones are PE406/PE503
    taint = ctx.taint()
    if taint and (id(target) in taint or id(numerator) in taint or id(denominator) in taint):
        return
    n, d = num(numerator), num(denominator)
    if n is None or d is None or d == 0:
        return
    expected = n / d
    tol = ctx.s.tolerance / 100
    if abs(round(expected, 4) - target.number) <= tol + EPS:
        return
    _report(ctx, code, target, where, what, pct(expected), pct(target.number))


def _report(ctx: Ctx, code: str, target: Value, where: str, what: str, expected: str, actual: str) -> None:
    if target.formula:  # is_formula_cell
        ctx.add("PE502", target,
                f"{where}的公式缓存值与公式结果不符：按{what}应为 {expected}，单元格缓存为 {actual}。"
                f"请在 Excel 中重新计算后保存", expected, actual)
    else:
        ctx.add(code, target, f"{where}应为{what} {expected}，表中为 {actual}。{fix_text(what)}", expected, actual)


@lru_cache(maxsize=256)  # a handful of distinct texts, one per kind of sum
def fix_text(what: str) -> str:
    """The closing words of an arithmetic message: what the clerk does (issue 12: every message ends with it)."""
    return f"请核对该单元格，按{what}修改（或改用求和、计算公式）"
