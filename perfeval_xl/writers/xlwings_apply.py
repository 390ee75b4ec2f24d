"""The xlwings applier of the marks plan: carries out perfeval_xl.marks.MarkPlan on a live book.

It follows the protocol in perfeval_xl.marks exactly (restore from the ledger, drop the old
校验结果 and ledger sheets, mark, write 校验结果 first and a hidden ledger last), using only
the public xlwings API so that it works on desktop Excel (COM / AppleScript) and on the
remote interpreter (xw.Book(json=...)), where the actions come back through book.json().

What an engine cannot do is skipped, not faked:
  - The remote engine cannot read a cell's fill or a note's text synchronously. A cell whose
    fill cannot be read is recorded as having none (a second run clears our fill to none).
    A cell that already has a note we cannot read keeps it untouched (fill and 校验结果 still
    show the finding); its ledger row says so (NOTE_KEPT) so that restoring leaves it alone.
  - Cosmetics (widths, fonts, links, freeze panes) are best effort.
"""
from __future__ import annotations

from ..marks import (
    LEDGER_SHEET,
    RESULT_SHEET,
    FONT_COLOR,
    LedgerEntry,
    MarkPlan,
    compose_note,
    is_our_note,
    ledger_rows,
    needs_text_guard,
    parse_ledger,
)

NOTE_KEPT = "perfeval:未改动"  # ledger note_author: the cell's own note was left as it was
CHAR_POINTS = 6.0  # about one character of the default font, in points
_COSMETIC_ERRORS = (NotImplementedError, AttributeError, TypeError, ValueError)


# ---- small engine adapters --------------------------------------------------------------

def _sheet(book, name: str):
    for sh in book.sheets:
        if sh.name == name:
            return sh
    return None


def _read_fill(rng) -> tuple[str, str, str]:
    """(pattern, fg, bg) in the ledger's encoding; no fill when the engine cannot tell."""
    try:
        color = rng.color
    except NotImplementedError:
        return "", "", ""
    if color is None:
        return "", "", ""
    r, g, b = color
    return "solid", f"rgb:FF{r:02X}{g:02X}{b:02X}", ""


def _rgb(spec: str) -> tuple[int, int, int] | None:
    """'rgb:FFRRGGBB' -> (r, g, b); theme/indexed colours cannot be reproduced here -> None."""
    if spec.startswith("rgb:") and len(spec) >= 10:
        h = spec[4:][-6:]
        try:
            return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
        except ValueError:
            return None
    return None


def _argb_to_rgb(argb: str) -> tuple[int, int, int]:
    h = argb[-6:]
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


_UNREADABLE = object()


def _read_note(rng):
    """The note text, None when there is none, _UNREADABLE when the engine cannot read it."""
    note = rng.note
    if note is None:
        return None
    try:
        return note.text or ""
    except NotImplementedError:
        return _UNREADABLE


def _set_note(rng, text: str | None) -> None:
    note = rng.note
    if text is None or text == "":
        if note is not None:
            note.delete()
        return
    if note is not None:
        note.text = text
    else:
        rng.add_note(text)


def _cosmetic(fn) -> None:
    try:
        fn()
    except _COSMETIC_ERRORS:
        pass


# ---- the protocol -----------------------------------------------------------------------

def clear_marks(book) -> int:
    """Steps 1-2: restore every cell listed in the ledger, drop 校验结果 and the ledger.

    Returns the number of cells restored.
    """
    ledger = _sheet(book, LEDGER_SHEET)
    entries: list[LedgerEntry] = []
    if ledger is not None:
        rows = ledger.used_range.options(ndim=2).value or []
        entries = parse_ledger(rows)
    listed = set()
    for e in entries:
        sh = _sheet(book, e.sheet)
        if sh is None:
            continue
        rng = sh.range(e.cell)
        listed.add((e.sheet, e.cell))
        rng.color = _rgb(e.fg) if e.pattern == "solid" else None
        if e.note_author != NOTE_KEPT:
            current = _read_note(rng)
            # replace only our note (unreadable on the remote engine: a note we wrote there)
            if current is None or current is _UNREADABLE or is_our_note(current):
                _set_note(rng, e.note or None)
    _drop_stray_notes(book, listed)
    for name in (RESULT_SHEET, LEDGER_SHEET):
        sh = _sheet(book, name)
        if sh is not None:
            sh.delete()
    return len(entries)


def _drop_stray_notes(book, listed: set) -> None:
    """Our notes without a ledger row (the ledger was lost): remove them where text is readable."""
    for sh in book.sheets:
        if sh.name in (RESULT_SHEET, LEDGER_SHEET):
            continue
        try:
            notes = list(sh.notes)
        except (NotImplementedError, AttributeError):
            continue
        for note in notes:
            try:
                text = note.text
                addr = _note_address(note)
            except (NotImplementedError, AttributeError):
                continue
            if (sh.name, addr) not in listed and is_our_note(text):
                note.delete()


def _note_address(note) -> str:
    try:
        return note.range.address.replace("$", "")  # remote engine
    except AttributeError:
        return str(note.api.Parent.Address).replace("$", "")  # COM: Comment.Parent is its cell


def apply_plan(book, plan: MarkPlan) -> list[LedgerEntry]:
    """Carry out the plan on a live book (previous marks cleared first). Returns the ledger entries."""
    clear_marks(book)
    entries: list[LedgerEntry] = []
    for mark in plan.marks:
        sh = _sheet(book, mark.sheet)
        if sh is None:
            continue
        rng = sh.range(mark.cell)
        pattern, fg, bg = _read_fill(rng)
        note = _read_note(rng)
        if note is _UNREADABLE:
            entries.append(LedgerEntry(mark.sheet, mark.cell, pattern, fg, bg, "", NOTE_KEPT))
        else:
            own = "" if note is None or is_our_note(note) else note
            entries.append(LedgerEntry(mark.sheet, mark.cell, pattern, fg, bg, own, ""))
            _set_note(rng, compose_note(mark, own))
        rng.color = _argb_to_rgb(mark.fill)
    _write_result(book, plan)
    _write_ledger(book, plan, entries)
    return entries


def _width_scale(book) -> float:
    """Desktop engines take widths in characters; the remote (Office.js) engine in points."""
    return CHAR_POINTS if isinstance(book.api, dict) else 1.0


def _cell_value(v):
    if needs_text_guard(v):
        return "'" + v  # Excel keeps it as text, never a formula
    return v


def _write_result(book, plan: MarkPlan) -> None:
    res = plan.result
    first = book.sheets[0]
    sh = book.sheets.add(name=plan.result_sheet, before=first)
    width = max(len(res.widths), *(len(line.values) for line in res.lines))
    rows = [[_cell_value(v) for v in line.values] + [None] * (width - len(line.values)) for line in res.lines]
    sh.range("A1").value = rows
    scale = _width_scale(book)
    for i, w in enumerate(res.widths):
        col = sh.range((1, i + 1))
        _cosmetic(lambda col=col, w=w: setattr(col, "column_width", w * scale))
    for r, line in enumerate(res.lines, start=1):
        for c, fmt in enumerate(line.formats, start=1):
            if fmt:
                cell = sh.range((r, c))
                _cosmetic(lambda cell=cell, fmt=fmt: setattr(cell, "number_format", fmt))
        if line.role in ("title", "header"):
            row = sh.range((r, 1), (r, max(len(line.values), 1)))
            _cosmetic(lambda row=row: setattr(row.font, "bold", True))
        if line.severity is not None and line.role == "finding":
            cell = sh.range((r, 2))
            rgb = _argb_to_rgb(FONT_COLOR[line.severity])
            _cosmetic(lambda cell=cell, rgb=rgb: setattr(cell.font, "color", rgb))
        if line.link and line.link_col is not None:
            cell = sh.range((r, line.link_col + 1))
            text = str(line.values[line.link_col])
            _cosmetic(lambda cell=cell, link=line.link, text=text: cell.add_hyperlink(link, text))
    if res.header_row:
        _cosmetic(lambda: sh.freeze_panes.freeze_at(f"A{res.header_row + 1}"))
    _cosmetic(sh.activate)


def _write_ledger(book, plan: MarkPlan, entries: list[LedgerEntry]) -> None:
    last = book.sheets[len(book.sheets) - 1]
    sh = book.sheets.add(name=plan.ledger_sheet, after=last)
    rows = ledger_rows(entries)
    width = max(len(r) for r in rows)
    sh.range("A1").value = [[_cell_value(v) for v in r] + [None] * (width - len(r)) for r in rows]
    sh.visible = False
    result = _sheet(book, plan.result_sheet)
    if result is not None:
        _cosmetic(result.activate)
