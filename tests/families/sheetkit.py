"""A small kit to lay out a published form in a worksheet as its department did: cells, merges, text as typed."""
from __future__ import annotations

from openpyxl import Workbook
from openpyxl.utils import get_column_letter


def put(ws, ref: str, value, merge_to: str | None = None) -> None:
    ws[ref] = value
    if merge_to:
        ws.merge_cells(f"{ref}:{merge_to}")


def rows(ws, top: int, data: list[list], col: int = 1) -> None:
    """Write a block of rows from (top, col); None leaves a cell blank."""
    for i, row in enumerate(data):
        for j, v in enumerate(row):
            if v is not None:
                ws.cell(top + i, col + j, v)


def merge(ws, *refs: str) -> None:
    for r in refs:
        ws.merge_cells(r)


def widths(ws, n: int = 10, w: float = 14) -> None:
    for c in range(1, n + 1):
        ws.column_dimensions[get_column_letter(c)].width = w


def new_book(title: str):
    wb = Workbook()
    ws = wb.active
    ws.title = title
    widths(ws)
    return wb, ws
