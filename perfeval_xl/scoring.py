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
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


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


@dataclass(frozen=True)
class Target:
    comparator: Comparator
    number: Decimal | None = None  # ratio when is_percent (0.9 for 90%)
    is_percent: bool = False
    text: str = ""  # normalised text
    unit: str = ""  # what followed the number ("小时", "天"), for messages

    @property
    def kind(self) -> ScoreKind:
        if self.comparator is Comparator.NA:
            return ScoreKind.NA
        if self.comparator is Comparator.QUALITATIVE:
            return ScoreKind.QUALITATIVE
        return ScoreKind.QUANTITATIVE

    @property
    def is_quantitative(self) -> bool:
        return self.kind is ScoreKind.QUANTITATIVE


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
    ("大于等于", Comparator.GE), ("大于或等于", Comparator.GE), ("不低于", Comparator.GE), ("不少于", Comparator.GE),
    ("达到", Comparator.GE), ("以上", Comparator.GE),
    ("小于等于", Comparator.LE), ("小于或等于", Comparator.LE), ("不高于", Comparator.LE), ("不超过", Comparator.LE),
    ("不多于", Comparator.LE), ("以内", Comparator.LE), ("以下", Comparator.LE), ("控制在", Comparator.LE),
    ("大于", Comparator.GT), ("多于", Comparator.GT), ("超过", Comparator.GT),
    ("小于", Comparator.LT), ("少于", Comparator.LT), ("低于", Comparator.LT),
    ("等于", Comparator.EQ),
)
_SYM = (("≥", Comparator.GE), ("≧", Comparator.GE), (">=", Comparator.GE), ("=>", Comparator.GE),
        ("≤", Comparator.LE), ("≦", Comparator.LE), ("<=", Comparator.LE), ("=<", Comparator.LE),
        (">", Comparator.GT), ("<", Comparator.LT), ("==", Comparator.EQ), ("=", Comparator.EQ))
_NUM = re.compile(r"([-+]?\d+(?:,\d{3})*(?:\.\d+)?)\s*(%|‰)?")


def normalize(text) -> str:
    """Full-width to half-width (＞ → >, ３ → 3, ％ → %), spaces and line breaks removed."""
    if text is None:
        return ""
    t = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"\s+", "", t)


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
    """Read a 年度指标值: "≥90%", "=24", ">=0", "＞0", "不超支", "中长期", "不适用", "-"..."""
    t = normalize(text)
    if t.lower() in _NA_TEXTS:
        return Target(Comparator.NA, text=t)
    if any(w in t for w in _NOT_OVER):
        return Target(Comparator.NOT_OVER, text=t)
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
        return Target(Comparator.QUALITATIVE, text=t)
    if cmp is None:
        # a bare number ("100%", "24小时") is read as "=" (scored as positive when > 0);
        # text around it that is not a unit makes it qualitative ("2个方面有效提升")
        m = _NUM.search(rest)
        if m.start() > 0 and not re.fullmatch(r"[约共计全年累计]*", rest[:m.start()]):
            return Target(Comparator.QUALITATIVE, text=t)
        cmp = Comparator.EQ
    return Target(cmp, n, pct, t, unit)


def parse_actual(text, target: Target | None = None) -> Decimal | None:
    """The number in a 实际完成值 ("99.06%", "=24", "3,527.66万元"), in the target's unit when it is a percent."""
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
    if target is not None and target.is_percent and not pct and abs(n) > 1:
        n = n / 100  # "99.06" under a "≥90%" target means 99.06%
    return n


def _fmt(n: Decimal | None, pct: bool) -> str:
    if n is None:
        return ""
    if pct:
        return f"{round2(n * 100):f}%".replace(".00%", "%")
    s = format(n.normalize(), "f") if n == n.to_integral() else f"{n:f}"
    return s


def indicator_score(target_text, actual_text, points, settings: Settings | None = None,
                    budget=None, spent=None) -> ScoreResult:
    """Recompute one 三级指标's score (domain.md §2). budget/spent feed "不超支" (执行数 ≤ 预算数)."""
    s = settings or Settings()
    tg = parse_target(target_text)
    w = _d(points)
    if tg.kind is ScoreKind.NA:
        return ScoreResult(None, ScoreKind.NA, "不适用指标，不计分", target=tg)
    if tg.kind is ScoreKind.QUALITATIVE:
        return ScoreResult(None, ScoreKind.QUALITATIVE,
                           f"定性指标“{tg.text}”，得分无法复算，只能检查是否在 0 至分值之间", target=tg)
    if w is None:
        return ScoreResult(None, ScoreKind.QUANTITATIVE, "分值未填写，无法复算", target=tg)

    if tg.comparator is Comparator.NOT_OVER:
        return _score_not_over(tg, actual_text, w, s, _d(budget), _d(spent))

    a = parse_actual(actual_text, tg)
    if a is None:
        return ScoreResult(None, ScoreKind.QUANTITATIVE, f"实际完成值“{normalize(actual_text)}”不是数字，无法复算",
                           target=tg)
    a = max(a, ZERO)  # a negative actual counts as 0
    t = tg.number
    dev = (a - t) / t if t else None
    pct = tg.is_percent
    desc = f"目标{tg.comparator.value}{_fmt(t, pct)}，实际{_fmt(a, pct)}"
    c = tg.comparator
    if c is Comparator.EQ and t <= 0:
        met = a <= 0
        score = w if met else ZERO
        return ScoreResult(score, ScoreKind.QUANTITATIVE,
                           f"{desc}：{'达到目标' if met else '目标为 0 而实际不为 0'}，得 {_fmt(score, False)} 分",
                           dev, tg, a, met)
    if c in (Comparator.GE, Comparator.GT, Comparator.EQ):
        met = a >= t if c is not Comparator.GT else a > t
        if met:
            score = w
        elif t > 0:
            score = round2(a / t * w)
        else:
            score = ZERO
        how = "达到目标" if met else "未达到目标，按 实际/目标×分值"
        return ScoreResult(score, ScoreKind.QUANTITATIVE, f"{desc}：{how}，得 {_fmt(score, False)} 分", dev, tg, a, met)
    # reverse: ≤ / <
    met = a <= t if c is Comparator.LE else a < t
    score, how = _reverse(a, t, w, met, s)
    return ScoreResult(score, ScoreKind.QUANTITATIVE, f"{desc}：{how}，得 {_fmt(score, False)} 分", dev, tg, a, met)


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
        return ScoreResult(score, ScoreKind.QUANTITATIVE,
                           f"不超支：执行数 {_fmt(a, False)}，预算数 {_fmt(budget, False)}，{how}，"
                           f"得 {_fmt(score, False)} 分", dev, tg, a, met)
    t = normalize(actual_text)
    if t and any(w_ in t for w_ in _NOT_OVER):
        return ScoreResult(w, ScoreKind.QUANTITATIVE, f"不超支：实际“{t}”，得 {_fmt(w, False)} 分", None, tg, None, True)
    if "超支" in t or "超预算" in t:
        return ScoreResult(ZERO, ScoreKind.QUANTITATIVE, f"不超支：实际“{t}”，已超支，得 0 分", None, tg, None, False)
    return ScoreResult(None, ScoreKind.QUANTITATIVE, f"不超支：实际完成值“{t}”无法与预算数比较，无法复算", None, tg)


def grade(total, settings: Settings | None = None) -> str:
    """等级 of a total: 优 ≥ 90 · 良 ≥ 80 · 中 ≥ 60 · 差 (bands are settings)."""
    s = settings or Settings()
    return s.grade_of(_d(total) if _d(total) is not None else ZERO)
