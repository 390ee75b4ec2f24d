"""Deadline targets ("9月前", "12月底前", "年底前完成") are months, never plain numbers (domain.md §8).

deadline_score(target, actual, points) -> ScoreResult for a deadline target, None for any other target.
Met ("7月" against "9月前", a date in time, "按时完成") scores full; a later month cannot be scored by a
formula (localities differ): the line is treated as qualitative and PE608 asks for the reason."""
from __future__ import annotations

import re
from decimal import Decimal

from ..scoring import ScoreKind, ScoreResult, normalize

_TARGET = re.compile(r"^(?:于|在)?(?:(\d{1,2})\s*月(?:份)?(?:底|末|中旬|上旬|下旬|\d{1,2}日)?|年底|年末|年内|当年|本年度?)"
                     r"\s*(?:前|之前|以前|内)?(?:完成|办结|到位|发放|支付|拨付|实施)?$")
_ACTUAL_MONTH = re.compile(r"(?:(?:19|20)\d{2}\s*[年./-]\s*)?(\d{1,2})\s*(?:月|[./-]\d{1,2}日?)")
_ON_TIME = ("按时", "如期", "及时", "提前", "已完成", "完成")


def deadline_month(target: str | None) -> int | None:
    """The month a deadline target names (年底 = 12), or None when the target is not a deadline."""
    if not target:
        return None
    t = normalize(target).replace(" ", "")
    if len(t) > 16 or not any(w in t for w in ("月", "年底", "年末", "年内")):
        return None
    if t.startswith(("≤", "<=", "＜", "<")):
        t = t.lstrip("≤<=＜")
    m = _TARGET.match(t)
    if m is None:
        return None
    return int(m.group(1)) if m.group(1) else 12


def actual_month(actual: str | None) -> int | None:
    if not actual:
        return None
    t = normalize(actual)
    m = _ACTUAL_MONTH.search(t)
    if m:
        n = int(m.group(1))
        return n if 1 <= n <= 12 else None
    if any(w in t for w in ("年底", "年末", "12月")):
        return 12
    return None


def deadline_score(target: str | None, actual: str | None, points: Decimal | None) -> ScoreResult | None:
    month = deadline_month(target)
    if month is None:
        return None
    got = actual_month(actual)
    t = normalize(target)
    if got is not None and got <= month:
        return ScoreResult(points, ScoreKind.QUANTITATIVE, f"时限目标“{t}”，实际 {got} 月完成：按时，得满分",
                           met=True)
    if got is None and actual and any(w in normalize(actual) for w in _ON_TIME):
        return ScoreResult(points, ScoreKind.QUANTITATIVE, f"时限目标“{t}”，实际“{normalize(actual)}”：按时，得满分",
                           met=True)
    why = f"实际 {got} 月完成，晚于 {month} 月" if got is not None else "实际完成时间无法读出"
    return ScoreResult(None, ScoreKind.QUALITATIVE, f"时限目标“{t}”，{why}", met=False if got else None)
