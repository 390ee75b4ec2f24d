"""Hunan 2018-era forms: the 基础数据表 is read by the seed's reader; here the year from its column
heads ("2017年决算数 · 2018年预算数 · 2018年决算数") and the 评价指标表 (评价标准 in words). Never judges."""
from __future__ import annotations

import re
from decimal import Decimal

from ..model import Form, Kind, Loc, Value
from ..readers.grid import Grid, a1
from ..values import norm_label

_COL_YEAR = re.compile(r"((?:19|20)\d{2})年(?:度)?(?:预算|决算)数")


def read_criteria(grid: Grid, form: Form) -> None:
    if form.year.kind is not Kind.NUMBER:
        _year_from_columns(grid, form)


def _year_from_columns(grid: Grid, form: Form) -> None:
    """The latest year a 预算数/决算数 column head names is the year evaluated."""
    best = None
    for name, sg in grid.sheets.items():
        for r, row in enumerate(sg.rows[:60], start=1):
            for c, v in enumerate(row, start=1):
                if isinstance(v, str) and "数" in v:
                    m = _COL_YEAR.search(norm_label(v))
                    if m and (best is None or int(m.group(1)) > best[0]):
                        best = (int(m.group(1)), name, r, c, v)
    if best is not None:
        y, name, r, c, v = best
        form.year = Value(Kind.NUMBER, number=Decimal(y), raw=v, loc=Loc(name, a1(r, c)))
        form.read_notes[:] = [n for n in form.read_notes if "年度" not in n]
