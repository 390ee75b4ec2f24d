"""A Grid from a live xlwings Book, so that the Excel button reads the form with the same mapping
(owner B's perfeval_xl.readers.form_from_grid) as the batch readers.

Knows cells, never judges. Works on any xlwings engine: desktop Excel (COM / AppleScript) and
the remote interpreter (xw.Book(json=...)), which carries values and names but no merges.
"""
from __future__ import annotations

from . import MAX_ROWS
from .grid import Grid, formulas_from_rows, parse_range

# Sheets the applier writes: never part of the form.
from ..marks import LEDGER_SHEET, RESULT_SHEET

_SKIP = {RESULT_SHEET, LEDGER_SHEET}
MAX_COLS = 200  # as the file readers: a used range stretched by formatting must not cost a huge read


def _extent(sheet) -> tuple[int, int]:
    last = sheet.used_range.last_cell
    return min(last.row, MAX_ROWS), min(last.column, MAX_COLS)


def sheet_rows(sheet) -> list[list]:
    """Values from A1 to the used range's last cell (one read per sheet), as rows of raw values."""
    rows, cols = _extent(sheet)
    # err_to_str: Excel error values read as "#DIV/0!" (as the file readers give them), never as blanks
    values = sheet.range((1, 1), (rows, cols)).options(ndim=2, err_to_str=True).value
    return values or [[None]]


def sheet_formulas(sheet, rows) -> dict[tuple[int, int], str] | None:
    """Formula texts (one read per sheet) where the engine can give them; None otherwise (remote)."""
    n_rows, n_cols = len(rows), max((len(r) for r in rows), default=1)
    try:
        f = sheet.range((1, 1), (n_rows, n_cols)).formula
    except (NotImplementedError, AttributeError):
        return None
    if not isinstance(f, (list, tuple)) or (f and not isinstance(f[0], (list, tuple))):
        f = [[f]] if not isinstance(f, (list, tuple)) else [list(f)]
    return formulas_from_rows(f)


def sheet_merges(sheet, rows) -> list[tuple[int, int, int, int]]:
    """Merged ranges whose top-left cell holds a value (labels, 一级/二级 headings).

    Only non-blank cells are asked, which keeps desktop Excel to a few hundred calls. Engines that
    cannot tell merges synchronously (the remote interpreter) give none.
    """
    out: list[tuple[int, int, int, int]] = []
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row, start=1):
            if v is None or v == "":
                continue
            cell = sheet.range((r, c))
            try:
                if not cell.merge_cells:
                    continue
                area = cell.merge_area.address
            except (NotImplementedError, AttributeError):
                return []
            box = parse_range(area.replace("$", ""))
            if box[0] == r and box[1] == c:
                out.append(box)
    return out


def grid_from_book(book, *, merges: bool = True) -> Grid:
    """Every sheet of the book (except our 校验结果 and ledger sheets), values only."""
    grid = Grid()
    known = True
    for sheet in book.sheets:
        if sheet.name in _SKIP:
            continue
        rows = sheet_rows(sheet)
        formulas = sheet_formulas(sheet, rows) if known else None
        known = formulas is not None
        grid.add_sheet(sheet.name, rows, merged=sheet_merges(sheet, rows) if merges else (), formulas=formulas)
    grid.formulas_known = known and bool(grid.sheets)
    return grid


def names_from_book(book) -> dict[str, tuple[str, str]]:
    """Defined names that refer to one range: name -> (sheet, 'A1' or 'A1:D9'), without '$'.

    Names that hold a constant (pe_template_version) map to ('', their formula text, e.g. '="1"').
    """
    out: dict[str, tuple[str, str]] = {}
    for n in book.names:
        name = n.name
        if "!" in name:  # sheet-scoped: not ours
            continue
        try:
            rng = n.refers_to_range
            out[name] = (rng.sheet.name, rng.address.replace("$", ""))
        except Exception:  # a constant or a formula name: keep its definition
            try:
                ref = n.refers_to
            except Exception:
                ref = None
            if ref:
                out[name] = ("", str(ref))
    return out
