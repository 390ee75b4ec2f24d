"""Form families: descriptions (families.py), recognition (recognize.py), one generic reader (reader.py).

read_form(grid, form, force) fills a Form for any family: the Hunan 部门整体 family through the seed's
readers (readers/anchors.py), every other family through forms/reader.py.
"""
from __future__ import annotations

from .families import FAMILIES, TABLE_NAMES, Family, get_family
from .recognize import THRESHOLD, Recognition, recognise

__all__ = ["FAMILIES", "TABLE_NAMES", "Family", "get_family", "recognise", "Recognition", "THRESHOLD",
           "NOT_A_FORM", "hunan_tables"]

NOT_A_FORM = "不是已知的绩效自评表样："

# Hunan roles (the readers' sheet roles) -> family table keys and the features rules need.
_ROLE_TABLE = {"三公经费情况表": "sg", "基础数据表": "basic", "绩效自评表": "self", "报告正文": "narrative"}


def hunan_tables(form, family: Family) -> None:
    """Declare what a Hunan-family file holds, from the tables its reader found."""
    found = {_ROLE_TABLE[r] for r in form.sheet_names if r in _ROLE_TABLE}
    if family.key != "hunan_dept":  # tables this family never has are not looked for, nor noted
        found &= set(family.tables)
        gone = [TABLE_NAMES[t] for t in _ROLE_TABLE.values() if t not in family.tables]
        form.read_notes[:] = [n for n in form.read_notes if not any(g in n for g in gone)]
    feats = set(found) | ({"hunan"} if family.key == "hunan_dept" else {"head"})
    if "self" in found:
        feats |= {"sources.hunan", "footer.se", "total", "indicators", "reasons"}
    if "basic" in found:
        feats.add("footer.bd")
    form.tables = frozenset(feats)
    form.missing_tables = tuple(TABLE_NAMES[t] for t in family.tables if t in TABLE_NAMES and t not in found)
