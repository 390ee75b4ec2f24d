"""Scoring arithmetic of the form (domain.md §2). Pure: no files, no workbook.

Amounts and scores are Decimal; percentages are ratios (0.9596). Scores round half up to 2 decimals,
as Excel's ROUND does.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache

from .settings import Settings

CENT = Decimal("0.01")
ZERO = Decimal(0)


def _d(x) -> Decimal | None:
    if x is None or isinstance(x, bool):
        return None
    if isinstance(x, Decimal):
        return x
    if isinstance(x, (int, float)):
        return Decimal(str(x))
    try:
        return Decimal(str(x).strip())
    except InvalidOperation:
        return None


def round2(x: Decimal) -> Decimal:
    return x.quantize(CENT, ROUND_HALF_UP)  # rounding passed by position: half the cost of the keyword


def execution_rate(budget, actual) -> Decimal | None:
    """执行率 = 全年执行数 / 全年预算数; None when the budget is 0 or missing."""
    b, a = _d(budget), _d(actual)
    if b is None or a is None or b == 0:
        return None
    return a / b


def execution_score(budget, actual, points=10) -> Decimal | None:
    """得分 = 分值 × 执行率, capped at 分值 (over-execution is an anomaly, not extra credit), 2 decimals."""
    rate, w = execution_rate(budget, actual), _d(points)
    if rate is None or w is None:
        return None
    return round2(max(ZERO, min(w, w * rate)))


class Comparator(StrEnum):
    GE = "≥"
    GT = ">"
    EQ = "="
    LE = "≤"
    LT = "<"
    NOT_OVER = "不超支"  # 执行数 ≤ 预算数
    QUALITATIVE = "定性"
    NA = "不适用"


class ScoreKind(StrEnum):
    QUANTITATIVE = "quantitative"
    QUALITATIVE = "qualitative"
    NA = "na"


# Members as module constants: an attribute lookup on an enum class costs several times a global one.
_GE, _GT, _EQ, _LE, _LT = Comparator.GE, Comparator.GT, Comparator.EQ, Comparator.LE, Comparator.LT
_C_NOT_OVER, _C_QUALITATIVE, _C_NA = Comparator.NOT_OVER, Comparator.QUALITATIVE, Comparator.NA
_K_QUANTITATIVE, _K_QUALITATIVE, _K_NA = ScoreKind.QUANTITATIVE, ScoreKind.QUALITATIVE, ScoreKind.NA


@dataclass(frozen=True)
class Target:
    comparator: Comparator
    number: Decimal | None = None  # ratio when is_percent (0.9 for 90%)
    is_percent: bool = False
    text: str = ""  # normalised text
    unit: str = ""  # what followed the number ("小时", "天"), for messages

    @property
    def kind(self) -> ScoreKind:
        if self.comparator is _C_NA:
            return _K_NA
        if self.comparator is _C_QUALITATIVE:
            return _K_QUALITATIVE
        return _K_QUANTITATIVE

    @property
    def is_quantitative(self) -> bool:
        return self.kind is _K_QUANTITATIVE


@dataclass(frozen=True)
class ScoreResult:
    score: Decimal | None  # None when it cannot be recomputed (qualitative, n/a, unreadable actual)
    kind: ScoreKind
    explanation: str  # Chinese
    deviation: Decimal | None = None  # (actual − target) / target
    target: Target | None = None
    actual: Decimal | None = None  # the actual as a number (ratio when percent)
    met: bool | None = None


_NA_TEXTS = {"", "-", "--", "—", "——", "–", "/", "\\", "不适用", "无", "n/a", "na", "不涉及", "/"}
_NOT_OVER = ("不超支", "不超预算", "未超支", "无超支", "不超出预算", "控制在预算内", "控制在预算范围内", "预算范围内",
             "不超过预算")
_WORD_CMP = (  # word forms, longest first
    ("大于等于", _GE), ("大于或等于", _GE), ("不低于", _GE), ("不少于", _GE),
    ("达到", _GE), ("以上", _GE),
    ("小于等于", _LE), ("小于或等于", _LE), ("不高于", _LE), ("不超过", _LE),
    ("不多于", _LE), ("以内", _LE), ("以下", _LE), ("控制在", _LE),
    ("大于", _GT), ("多于", _GT), ("超过", _GT),
    ("小于", _LT), ("少于", _LT), ("低于", _LT),
    ("等于", _EQ),
)
_SYM = (("≥", _GE), ("≧", _GE), (">=", _GE), ("=>", _GE),
        ("≤", _LE), ("≦", _LE), ("<=", _LE), ("=<", _LE),
        (">", _GT), ("<", _LT), ("==", _EQ), ("=", _EQ))
_NUM = re.compile(r"([-+]?\d+(?:,\d{3})*(?:\.\d+)?)\s*(%|‰)?")


_WS = re.compile(r"\s+")
_CACHE = 4096  # distinct cell texts kept per parse cache (a batch repeats the template's texts)
_SHORT = 120  # only short texts are cached (labels, targets, names); long free text rarely repeats


@lru_cache(maxsize=_CACHE)
def _normalize_str(text: str) -> str:
    return _WS.sub("", unicodedata.normalize("NFKC", text))


def normalize(text) -> str:
    """Full-width to half-width (＞ → >, ３ → 3, ％ → %), spaces and line breaks removed."""
    if text is None:
        return ""
    if type(text) is str:
        return _normalize_str(text) if len(text) <= _SHORT else _WS.sub("", unicodedata.normalize("NFKC", text))
    return _WS.sub("", unicodedata.normalize("NFKC", str(text)))


def _number(t: str) -> tuple[Decimal | None, bool, str]:
    m = _NUM.search(t)
    if not m:
        return None, False, ""
    n = Decimal(m.group(1).replace(",", ""))
    unit = t[m.end():]
    if m.group(2) == "%":
        return n / 100, True, unit
    if m.group(2) == "‰":
        return n / 1000, True, unit
    return n, False, unit


def parse_target(text) -> Target:
    """Read a 年度指标值: "≥90%", "=24", ">=0", "＞0", "不超支", "中长期", "不适用", "-"...

    Targets are immutable, so one parse per distinct text is shared (cached for str and None)."""
    if text is None or (type(text) is str and len(text) <= _SHORT):
        return _parse_target_cached(text)
    return _parse_target(text)


@lru_cache(maxsize=_CACHE)
def _parse_target_cached(text: str | None) -> Target:
    return _parse_target(text)


def _parse_target(text) -> Target:
    t = normalize(text)
    if t.lower() in _NA_TEXTS:
        return Target(_C_NA, text=t)
    if any(w in t for w in _NOT_OVER):
        return Target(_C_NOT_OVER, text=t)
    cmp = None
    rest = t
    for sym, c in _SYM:
        if t.startswith(sym):
            cmp, rest = c, t[len(sym):]
            break
    if cmp is None:
        for word, c in _WORD_CMP:
            if word in t:
                cmp = c
                break
    n, pct, unit = _number(rest)
    if n is None:
        return Target(_C_QUALITATIVE, text=t)
    if cmp is None:
        # a bare number ("100%", "24小时") is read as "=" (scored as positive when > 0);
        # text around it that is not a unit makes it qualitative ("2个方面有效提升")
        m = _NUM.search(rest)
        if m.start() > 0 and not re.fullmatch(r"[约共计全年累计]*", rest[:m.start()]):
            return Target(_C_QUALITATIVE, text=t)
        cmp = _EQ
    return Target(cmp, n, pct, t, unit)


def parse_actual(text, target: Target | None = None) -> Decimal | None:
    """The number in a 实际完成值 ("99.06%", "=24", "3,527.66万元"), in the target's unit when it is a percent."""
    per_cent = target is not None and target.is_percent
    if text is None or (type(text) is str and len(text) <= _SHORT):  # only the percent flag matters
        return _parse_actual_cached(text, per_cent)
    return _parse_actual(text, per_cent)


@lru_cache(maxsize=_CACHE)
def _parse_actual_cached(text: str | None, per_cent: bool) -> Decimal | None:
    return _parse_actual(text, per_cent)


def _parse_actual(text, per_cent: bool) -> Decimal | None:
    if isinstance(text, (int, float, Decimal)) and not isinstance(text, bool):
        n, pct = Decimal(str(text)), False
    else:
        t = normalize(text)
        if t.lower() in _NA_TEXTS:
            return None
        for sym, _ in _SYM:
            if t.startswith(sym):
                t = t[len(sym):]
                break
        m = _NUM.match(t)  # the actual must start with its number
        if not m:
            return None
        n, pct, _ = _number(t)
    if per_cent and not pct and abs(n) > 1:
        n = n / 100  # "99.06" under a "≥90%" target means 99.06%
    return n


def _fmt(n: Decimal | None, pct: bool) -> str:
    if n is None:
        return ""
    if pct:
        return (str(round2(n * 100)) + "%").replace(".00%", "%")  # str of a cents value is its plain form
    s = format(n.normalize(), "f") if n == n.to_integral() else f"{n:f}"
    return s


def _two(n: Decimal) -> str:
    """Scores and amounts in explanations: 2 decimals, as everywhere else in messages (10.00, 3527.66)."""
    return str(round2(n))


_SCORES: dict[tuple, ScoreResult] = {}
_TEXT_TYPES = (str, type(None))
_NUM_TYPES = (Decimal, type(None))


def indicator_score(target_text, actual_text, points, settings: Settings | None = None,
                    budget=None, spent=None) -> ScoreResult:
    """Recompute one 三级指标's score (domain.md §2). budget/spent feed "不超支" (执行数 ≤ 预算数).

    A pure function of its inputs, and a batch repeats the same indicator lines ("≥90%" / "100%" / 10 分),
    so results are memoised on the exact inputs (texts; Decimals by their exact digits, since a score of
    10.50 and one of 10.5 read differently in the explanation)."""
    s = settings or Settings()
    if (type(target_text) in _TEXT_TYPES and type(actual_text) in _TEXT_TYPES and type(points) in _NUM_TYPES
            and type(budget) in _NUM_TYPES and type(spent) in _NUM_TYPES
            and len(target_text or "") <= _SHORT and len(actual_text or "") <= _SHORT):
        tg = parse_target(target_text)
        if tg.comparator is _C_NOT_OVER:  # only "不超支" reads the budget and what was spent
            extra = (None if budget is None else str(budget), None if spent is None else str(spent))
        else:
            extra = None
        key = (target_text, actual_text, None if points is None else str(points), s.reverse_formula, extra)
        res = _SCORES.get(key)
        if res is None:
            if len(_SCORES) >= _CACHE:
                _SCORES.clear()
            res = _SCORES[key] = _indicator_score(target_text, actual_text, points, s, budget, spent)
        return res
    return _indicator_score(target_text, actual_text, points, s, budget, spent)


def _indicator_score(target_text, actual_text, points, s: Settings, budget, spent) -> ScoreResult:
    tg = parse_target(target_text)
    w = _d(points)
    if tg.kind is _K_NA:
        return ScoreResult(None, _K_NA, "不适用指标，不计分", target=tg)
    if tg.kind is _K_QUALITATIVE:
        return ScoreResult(None, _K_QUALITATIVE,
                           f"定性指标“{tg.text}”，得分无法复算，只能检查是否在 0 至分值之间", target=tg)
    if w is None:
        return ScoreResult(None, _K_QUANTITATIVE, "分值未填写，无法复算", target=tg)

    if tg.comparator is _C_NOT_OVER:
        return _score_not_over(tg, actual_text, w, s, _d(budget), _d(spent))

    a = parse_actual(actual_text, tg)
    if a is None:
        return ScoreResult(None, _K_QUANTITATIVE, f"实际完成值“{normalize(actual_text)}”不是数字，无法复算",
                           target=tg)
    a = max(a, ZERO)  # a negative actual counts as 0
    t = tg.number
    dev = (a - t) / t if t else None
    pct = tg.is_percent
    desc = f"目标{tg.comparator.value}{_fmt(t, pct)}，实际{_fmt(a, pct)}"
    c = tg.comparator
    if c is _EQ and t <= 0:
        met = a <= 0
        score = w if met else ZERO
        return ScoreResult(score, _K_QUANTITATIVE,
                           f"{desc}：{'达到目标' if met else '目标为 0 而实际不为 0'}，得 {_two(score)} 分",
                           dev, tg, a, met)
    if c in (_GE, _GT, _EQ):
        met = a >= t if c is not _GT else a > t
        if met:
            score = w
        elif t > 0:
            score = round2(a / t * w)
        else:
            score = ZERO
        how = "达到目标" if met else "未达到目标，按 实际/目标×分值"
        return ScoreResult(score, _K_QUANTITATIVE, f"{desc}：{how}，得 {_two(score)} 分", dev, tg, a, met)
    # reverse: ≤ / <
    met = a <= t if c is _LE else a < t
    score, how = _reverse(a, t, w, met, s)
    return ScoreResult(score, _K_QUANTITATIVE, f"{desc}：{how}，得 {_two(score)} 分", dev, tg, a, met)


def _reverse(a: Decimal, t: Decimal, w: Decimal, met: bool, s: Settings) -> tuple[Decimal, str]:
    if met:
        return w, "达到目标"
    if t <= 0:
        return ZERO, "目标为 0 而实际超出，得 0 分"
    if s.reverse_formula == "ratio":
        return round2(t / a * w), "超出目标，按 目标/实际×分值"
    return max(ZERO, round2((1 - (a - t) / t) * w)), "超出目标，按 (1−超出比例)×分值"


def _score_not_over(tg: Target, actual_text, w: Decimal, s: Settings, budget, spent) -> ScoreResult:
    a = parse_actual(actual_text)
    if a is None and spent is not None:
        a = spent
    if a is not None and budget is not None:
        a = max(a, ZERO)
        met = a <= budget
        dev = (a - budget) / budget if budget else None
        score, how = _reverse(a, budget, w, met, s)
        return ScoreResult(score, _K_QUANTITATIVE,
                           f"不超支：执行数 {_two(a)}，预算数 {_two(budget)}，{how}，"
                           f"得 {_two(score)} 分", dev, tg, a, met)
    t = normalize(actual_text)
    if t and any(w_ in t for w_ in _NOT_OVER):
        return ScoreResult(w, _K_QUANTITATIVE, f"不超支：实际“{t}”，得 {_two(w)} 分", None, tg, None, True)
    if "超支" in t or "超预算" in t:
        return ScoreResult(ZERO, _K_QUANTITATIVE, f"不超支：实际“{t}”，已超支，得 0 分", None, tg, None, False)
    return ScoreResult(None, _K_QUANTITATIVE, f"不超支：实际完成值“{t}”无法与预算数比较，无法复算", None, tg)


def grade(total, settings: Settings | None = None) -> str:
    """等级 of a total: 优 ≥ 90 · 良 ≥ 80 · 中 ≥ 60 · 差 (bands are settings)."""
    s = settings or Settings()
    return s.grade_of(_d(total) if _d(total) is not None else ZERO)
