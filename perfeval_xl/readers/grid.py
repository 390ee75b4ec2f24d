"""Grid: what a reader saw in a workbook, before any meaning is given to it.

Rows and columns are 1-based in every public method (as in Excel); ``rows`` is
the raw list of lists with rows[0][0] = A1. Raw values are whatever the library
gave: None (or '') for blank, str, int, float, bool, datetime. Formulas and number
formats are optional, keyed by (row, col).

Front ends that read a live book (xlwings) build a Grid with ``Grid.add_sheet``
and hand it to ``perfeval_xl.readers.form_from_grid``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..model import Loc

_A1 = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


def col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


_LETTERS: dict[int, str] = {}


def col_letter(n: int) -> str:
    s = _LETTERS.get(n)
    if s is None:
        m, s = n, ""
        while m:
            m, r = divmod(m - 1, 26)
            s = chr(65 + r) + s
        _LETTERS[n] = s
    return s


@lru_cache(maxsize=4096)
def parse_a1(ref: str) -> tuple[int, int]:
    """'B12' or '$B$12' -> (12, 2)."""
    m = _A1.match(ref.strip())
    if m is None:
        raise ValueError(f"not an A1 cell reference: {ref!r}")
    return int(m.group(2)), col_index(m.group(1))


@lru_cache(maxsize=4096)
def parse_range(ref: str) -> tuple[int, int, int, int]:
    """'A13:D29' (or one cell) -> (r1, c1, r2, c2), 1-based inclusive."""
    a, _, b = ref.partition(":")
    r1, c1 = parse_a1(a)
    r2, c2 = parse_a1(b) if b else (r1, c1)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


@lru_cache(maxsize=16384)
def a1(row: int, col: int) -> str:
    return f"{col_letter(col)}{row}"


@lru_cache(maxsize=16384)
def loc(sheet: str, row: int, col: int) -> Loc:
    """Locs are immutable: one object per cell, shared across reads of the same form."""
    return Loc(sheet, a1(row, col))


@dataclass
class SheetGrid:
    name: str
    rows: list[list] = field(default_factory=list)
    _merged: list[tuple[int, int, int, int]] | None = field(default=None)  # (r1, c1, r2, c2) 1-based
    formulas: dict[tuple[int, int], str] | None = None  # (row, col) -> "=..."
    number_formats: dict[tuple[int, int], str] | None = None
    blank_results: set[tuple[int, int]] = field(default_factory=set)  # formula cells whose cached result is ""
    _merge_top: dict[tuple[int, int], tuple[int, int]] | None = field(default=None, repr=False)
    _max_col: int | None = field(default=None, repr=False)

    merge_loader: object = field(default=None, repr=False)  # callable giving merged ranges on first use
    # callable giving {(row, col): "#VALUE!"} for the sheet's cached error values, on first use: for
    # values-only readers (python-calamine reads an error as ''), asked only about a blank formula cell
    error_loader: object = field(default=None, repr=False)
    _errors: dict[tuple[int, int], str] | None = field(default=None, repr=False)

    @property
    def merged(self) -> list[tuple[int, int, int, int]]:
        if self._merged is None:
            self._merged = list(self.merge_loader()) if self.merge_loader is not None else []
        return self._merged

    @merged.setter
    def merged(self, value) -> None:
        self._merged = list(value)

    @property
    def max_row(self) -> int:
        return len(self.rows)

    @property
    def max_col(self) -> int:
        n = self._max_col
        if n is None:
            n = self._max_col = max((len(r) for r in self.rows), default=0)
        return n

    def value(self, row: int, col: int):
        """Raw value at (row, col); None outside the data. '' is returned as None."""
        if row < 1 or col < 1 or row > len(self.rows):
            return None
        r = self.rows[row - 1]
        if col > len(r):
            return None
        v = r[col - 1]
        return None if v == "" else v

    def cell(self, ref: str):
        return self.value(*parse_a1(ref))

    @property
    def errors_read(self) -> bool:
        """Whether cached_error has looked at the sheet already (further questions are free)."""
        return self._errors is not None

    def cached_error(self, row: int, col: int) -> str | None:
        """The error value ("#DIV/0!") a formula cell holds as its cached result, when the reader
        could not see it in rows (python-calamine); None when not an error or not known."""
        if self._errors is None:
            if self.error_loader is None:
                return None
            try:
                self._errors = dict(self.error_loader())
            except Exception:
                self._errors = {}
        return self._errors.get((row, col))

    def formula(self, row: int, col: int) -> str | None:
        return self.formulas.get((row, col)) if self.formulas else None

    def number_format(self, row: int, col: int) -> str | None:
        return self.number_formats.get((row, col)) if self.number_formats else None

    def merge_top(self, row: int, col: int) -> tuple[int, int] | None:
        """Top-left cell of the merged range covering (row, col), or None when not merged."""
        if self._merge_top is None:
            m: dict[tuple[int, int], tuple[int, int]] = {}
            for r1, c1, r2, c2 in self.merged:
                if (r2 - r1 + 1) * (c2 - c1 + 1) > 20000:  # whole-column merges: keep the lookup small
                    r2 = min(r2, r1 + 500)
                for r in range(r1, r2 + 1):
                    for c in range(c1, c2 + 1):
                        m[(r, c)] = (r1, c1)
            self._merge_top = m
        return self._merge_top.get((row, col))


@dataclass
class Grid:
    sheets: dict[str, SheetGrid] = field(default_factory=dict)  # in workbook order
    formulas_known: bool = False  # formula text was visible to the reader
    formats_known: bool = False  # number formats were visible to the reader
    # Values come from a live engine that has computed every formula (xlwings on an open book):
    # a formula cell without a value holds an empty result, not a missing one.
    results_current: bool = False
    # callable(grid) adding the sheets a reader skipped (the fast reader reads only the sheets the
    # defined names point at); see load_all_sheets
    sheet_loader: object = field(default=None, repr=False)
    # every worksheet's name when the reader skipped some (findings may point at any of them); None: sheets
    all_sheets: list[str] | None = None

    def load_all_sheets(self) -> bool:
        """Read the sheets the reader skipped, if any (when names point nowhere and the mapping falls
        back to labels). True when sheets were added."""
        loader, self.sheet_loader = self.sheet_loader, None
        return bool(loader(self)) if loader is not None else False

    @property
    def sheet_names(self) -> list[str]:
        return list(self.sheets)

    def add_sheet(self, name: str, rows, merged=(), formulas=None, number_formats=None) -> SheetGrid:
        """Add a sheet. merged: 'A1:B2' strings or (r1, c1, r2, c2) tuples, 1-based.
        formulas: a dict {(row, col): '=...'} or a 2-D list parallel to rows (non-formula entries ignored)."""
        ms = [parse_range(m) if isinstance(m, str) else tuple(m) for m in merged]
        if formulas is not None and not isinstance(formulas, dict):
            formulas = formulas_from_rows(formulas)
        sg = SheetGrid(name, rows if isinstance(rows, list) else [list(r) for r in rows], ms, formulas,
                       number_formats)
        self.sheets[name] = sg
        return sg

    def sheet(self, name: str) -> SheetGrid | None:
        return self.sheets.get(name)

    def cell(self, sheet: str, ref: str):
        sg = self.sheets.get(sheet)
        return None if sg is None else sg.cell(ref)


def formulas_from_rows(rows) -> dict[tuple[int, int], str]:
    """A 2-D array of formula texts (xlwings Range.formula) -> {(row, col): formula} for cells holding one."""
    out: dict[tuple[int, int], str] = {}
    for i, row in enumerate(rows, start=1):
        for j, f in enumerate(row, start=1):
            if isinstance(f, str) and len(f) > 1 and f[0] == "=":
                out[(i, j)] = f
    return out
