"""Hunan 2018-era forms: the 基础数据表 is read by the seed's reader; here the year from its column
heads ("2017年决算数 · 2018年预算数 · 2018年决算数") and the 评价指标表's lines whose scoring rule is written
in words (评价标准). Never judges."""
from __future__ import annotations

import re
from decimal import Decimal

from .. import layout as L
from ..model import Criterion, Form, Kind, Loc, Value
from ..readers.grid import Grid, a1
from ..values import norm_label, parse_cell

_COL_YEAR = re.compile(r"((?:19|20)\d{2})年(?:度)?(?:预算|决算)数")


def read_criteria(grid: Grid, form: Form) -> None:
    if form.year.kind is not Kind.NUMBER:
        _year_from_columns(grid, form)
    for name, sg in grid.sheets.items():
        head = None
        for r, row in enumerate(sg.rows[:20], start=1):
            texts = [norm_label(v) if isinstance(v, str) else "" for v in row]
            if any(t == "评价标准" for t in texts):
                head = (r, texts)
                break
        if head is None:
            continue
        r0, texts = head
        c_std = texts.index("评价标准") + 1
        c_name = max((i + 1 for i, t in enumerate(texts[:c_std - 1]) if "三级指标" in t), default=None)
        scores = [i + 1 for i, t in enumerate(texts) if t == "得分"]
        c_score = scores[-1] if scores else None  # the line's own 得分 stands last
        if c_name is None or c_score is None:
            continue
        for r in range(r0 + 1, sg.max_row + 1):
            std = sg.value(r, c_std)
            if not isinstance(std, str) or not std.strip():
                continue
            form.criteria.append(Criterion(
                name=parse_cell(sg.value(r, c_name), L.TEXT, loc=Loc(name, a1(r, c_name))),
                standard=parse_cell(std, L.TEXT, loc=Loc(name, a1(r, c_std))),
                score=parse_cell(sg.value(r, c_score), L.POINTS, loc=Loc(name, a1(r, c_score))), row=r))
        if form.criteria:
            form.tables = (form.tables or frozenset()) | {"criteria"}
        return


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
