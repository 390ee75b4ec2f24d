"""Which part of a form each rule needs (forms/families.py declares what a file holds in Form.tables).

A rule whose table or field the file lacks is not run: a table that is absent is not zero, and a field a
family does not have is not "未填写". Forms read without a declaration (tables None) run every rule.
"""
from __future__ import annotations

from functools import lru_cache

_N = dict[str, frozenset[str]]


def _codes(spec: dict[str, tuple[str, ...]]) -> _N:
    out: _N = {}
    for codes, needs in spec.items():
        for c in codes.split():
            out[c] = frozenset(needs)
    return out


NEEDS: _N = _codes({
    "PE101 PE102 PE103 PE104 PE301 PE302 PE308 PE309": ("sg",),
    "PE106": ("sg", "basic"),
    "PE105 PE107 PE108 PE110 PE111 PE112 PE113 PE303 PE304 PE310 PE311 PE312 PE410 PE413": ("basic",),
    "PE109": ("basic", "self"),
    "PE114 PE115": ("self", "sources.hunan"),
    "PE201 PE202 PE203 PE204 PE206 PE208 PE209 PE210 PE305 PE306 PE307": ("self",),
    "PE205 PE211 PE402 PE411 PE412": ("indicators",),
    "PE407 PE408 PE409": ("reasons",),  # a form with no 偏差原因 column is not asked for reasons
    "PE207": ("total",),
    "PE401 PE405": ("hunan",),
    "PE403": ("footer.se",),
    "PE602": ("head",),
    "PE605": ("generic",),
    "PE603 PE604": ("sources",),
    "PE614": ("criteria", "basic"),
    "PE606 PE607 PE608 PE610 PE611 PE612 PE613": ("indicators",),
})


@lru_cache(maxsize=4096)
def runs(codes, tables: frozenset[str] | None, off: frozenset[str] = frozenset()) -> bool:
    """Whether a rule emitting `codes` applies to a form holding `tables` (None: every rule applies)."""
    if all(c in off for c in codes):
        return False
    if tables is None:
        return True
    return any(NEEDS.get(c, frozenset()) <= tables for c in codes if c not in off)


@lru_cache(maxsize=4096)
def keeps(code: str, tables: frozenset[str] | None, off: frozenset[str] = frozenset()) -> bool:
    if code in off:
        return False
    return tables is None or NEEDS.get(code, frozenset()) <= tables


@lru_cache(maxsize=256)
def dropped(tables: frozenset[str] | None, off: frozenset[str] = frozenset()) -> frozenset[str]:
    """Every code keeps() turns down for this form (a code outside NEEDS is kept unless it is off): one set
    per kind of form, so that filtering the findings is a set test each."""
    return frozenset(off) | frozenset(c for c in NEEDS if not keeps(c, tables, off))
