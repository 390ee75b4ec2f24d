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
  - Cosmetics (widths, fonts, links, freeze panes) are best effort: a failing call, a COM error
    (pywintypes.com_error) included, is logged and skipped.

Desktop Excel (the Windows engine) enforces protection, which the remote engine cannot see. Our
template protects every sheet without a password, with cell formatting forbidden, so Excel refuses
Interior.Color, AddComment or Hyperlinks.Add there. SheetGuard unprotects each sheet the run
changes with the empty password (the workbook's structure too, when sheets are added or deleted)
and puts back exactly the same protection afterwards, whatever happens in between. A sheet (or a
structure) protected with a password we do not know is never forced: its cells are not marked and
the run says so in 校验结果 and in the alert.

Crash safety: the ledger is written before the first mark, so an abort half-way through marking
is undone by the next run or by clear_marks.
"""
from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field, replace

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
    ResultLine,
)
from ..findings import Severity

log = logging.getLogger("perfeval_xl.excel")

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


def engine_errors() -> tuple[type[BaseException], ...]:
    """What a failing call on a live book raises: the engines' own errors, and COM's on Windows.

    pywintypes is looked up, not imported: it is loaded exactly when the Windows engine is in use.
    """
    com = getattr(sys.modules.get("pywintypes"), "com_error", None)
    return _COSMETIC_ERRORS + ((com,) if isinstance(com, type) else ())


def com_message(exc: BaseException) -> str:
    """Excel's own text of a COM error (excepinfo[2]), else the exception's text."""
    info = getattr(exc, "excepinfo", None)
    if info and len(info) > 2 and info[2]:
        return str(info[2])
    return str(exc) or type(exc).__name__


def _cosmetic(fn) -> None:
    try:
        fn()
    except engine_errors() as e:
        log.warning("skipped a cosmetic step: %s", com_message(e))


# ---- protection (desktop Excel) -----------------------------------------------------------

_ALLOW = ("AllowFormattingCells", "AllowFormattingColumns", "AllowFormattingRows", "AllowInsertingColumns",
          "AllowInsertingRows", "AllowInsertingHyperlinks", "AllowDeletingColumns", "AllowDeletingRows",
          "AllowSorting", "AllowFiltering", "AllowUsingPivotTables")


def _com(obj):
    """The COM object behind an xlwings Book/Sheet on the Windows engine; None on other engines
    (the remote interpreter cannot see protection, AppleScript is not handled here)."""
    impl = getattr(obj, "impl", None)
    if impl is None or type(impl).__module__ != "xlwings._xlwindows":
        return None
    return obj.api


class SheetGuard:
    """Unprotects what a run changes, on first need, and re-protects it exactly as it was.

    Only the empty password is ever tried (the template's protection has none). What stays locked
    is recorded in `locked` (sheet name -> Excel's reason) and `structure_locked`.
    """

    def __init__(self, book):
        self.book = book
        self.com_book = _com(book)
        self._saved: dict[str, tuple] = {}  # sheet name -> (COM sheet, options) we unprotected
        self._checked: set[str] = set()
        self.locked: dict[str, str] = {}
        self._structure: tuple | None = None  # (windows,) when we unprotected the structure
        self.structure_checked = False
        self.structure_locked = ""
        self.problems: list[str] = []  # Chinese, for 校验结果 and the alert

    def sheet(self, sh) -> bool:
        """True when cells of `sh` may be changed now."""
        name = sh.name
        if name in self.locked:
            return False
        if name in self._checked:
            return True
        self._checked.add(name)
        api = _com(sh)
        if api is None:
            return True
        try:
            if not (api.ProtectContents or api.ProtectDrawingObjects or api.ProtectScenarios):
                return True
            options = {
                "DrawingObjects": bool(api.ProtectDrawingObjects),
                "Contents": bool(api.ProtectContents),
                "Scenarios": bool(api.ProtectScenarios),
                "UserInterfaceOnly": bool(api.ProtectionMode),
            }
            prot = api.Protection
            for k in _ALLOW:
                options[k] = bool(getattr(prot, k))
            selection = api.EnableSelection
        except engine_errors() as e:  # cannot even read the options: leave the sheet alone
            self.locked[name] = com_message(e)
            return False
        try:
            api.Unprotect("")  # always pass it: without one Excel would prompt for a password
        except engine_errors() as e:
            log.warning("sheet %s stays protected: %s", name, com_message(e))
            self.locked[name] = com_message(e)
            return False
        self._saved[name] = (api, options, selection)
        return True

    def structure(self) -> bool:
        """True when sheets may be added, deleted, renamed or hidden now."""
        if self.structure_checked:
            return not self.structure_locked
        self.structure_checked = True
        api = self.com_book
        if api is None:
            return True
        try:
            if not api.ProtectStructure:
                return True
            windows = bool(api.ProtectWindows)
            api.Unprotect("")
        except engine_errors() as e:
            log.warning("workbook structure stays protected: %s", com_message(e))
            self.structure_locked = com_message(e)
            return False
        self._structure = (windows,)
        return True

    def restore(self) -> None:
        """Put every protection we lifted back, with the same options. Never raises."""
        for name, (api, options, selection) in reversed(list(self._saved.items())):
            try:
                api.Protect("", **options)
                _cosmetic(lambda api=api, selection=selection: setattr(api, "EnableSelection", selection))
            except engine_errors() as e:
                log.error("could not protect sheet %s again: %s", name, com_message(e))
                self.problems.append(f"未能恢复工作表“{name}”的保护（{com_message(e)}），请在“审阅”中重新保护。")
        self._saved.clear()
        if self._structure is not None:
            try:
                if self._structure[0]:  # window protection only where it was on (gone from newer Excel)
                    self.com_book.Protect("", True, True)
                else:
                    self.com_book.Protect("", True)
            except engine_errors() as e:
                log.error("could not protect the workbook structure again: %s", com_message(e))
                self.problems.append(f"未能恢复工作簿结构保护（{com_message(e)}），请在“审阅”中重新保护。")
            self._structure = None


def locked_sheet_notice(name: str, count: int) -> str:
    return (f"工作表“{name}”设有密码保护，无法解除，其中 {count} 个有问题的单元格未能标色和加批注"
            "（问题仍全部列在“校验结果”工作表中）。请向模板下发单位索取无密码的模板，或撤销工作表保护后再校验。")


NOTES_UNSUPPORTED = ("此版本的 Excel 不支持批注（需 Excel API 1.18 或更新），有问题的单元格只标了颜色，"
                     "问题说明请看“校验结果”工作表。")

STRUCTURE_NOTICE = ("工作簿结构设有密码保护，无法添加“校验结果”工作表，本次未作任何标记。"
                    "请撤销工作簿保护（审阅 → 保护工作簿）后再校验。")


@dataclass
class Outcome:
    """What a marking run did: the ledger rows written and what could not be done (Chinese)."""

    entries: list[LedgerEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    result_written: bool = False


# ---- the protocol -----------------------------------------------------------------------

def _restore(book, guard: SheetGuard) -> tuple[int, list[LedgerEntry]]:
    """Steps 1-2 on the cells: restore every ledger row. Returns (restored, rows not restored)."""
    ledger = _sheet(book, LEDGER_SHEET)
    entries: list[LedgerEntry] = []
    if ledger is not None:
        rows = ledger.used_range.options(ndim=2).value or []
        entries = parse_ledger(rows)
    listed = set()
    kept: list[LedgerEntry] = []
    restored = 0
    for e in entries:
        sh = _sheet(book, e.sheet)
        if sh is None:
            continue
        listed.add((e.sheet, e.cell))
        if not guard.sheet(sh):
            kept.append(e)  # still marked: its row must survive in the next ledger
            continue
        try:
            rng = sh.range(e.cell)
            rng.color = _rgb(e.fg) if e.pattern == "solid" else None
            if e.note_author != NOTE_KEPT:
                current = _read_note(rng)
                # replace only our note (unreadable on the remote engine: a note we wrote there)
                if current is None or current is _UNREADABLE or is_our_note(current):
                    _set_note(rng, e.note or None)
        except engine_errors() as err:
            log.warning("could not restore %s!%s: %s", e.sheet, e.cell, com_message(err))
            kept.append(e)
            continue
        restored += 1
    _drop_stray_notes(book, listed, guard)
    return restored, kept


def _drop_sheets(book, guard: SheetGuard) -> None:
    for name in (RESULT_SHEET, LEDGER_SHEET):
        sh = _sheet(book, name)
        if sh is not None and guard.structure():
            sh.delete()


def clear_marks(book) -> int:
    """Restore every cell listed in the ledger, drop 校验结果 and the ledger (protection is lifted
    and put back as for marking). Returns the number of cells restored.

    Rows that could not be restored (a sheet locked with a password) stay in a new ledger.
    """
    guard = SheetGuard(book)
    try:
        if not guard.structure():
            return 0
        restored, kept = _restore(book, guard)
        _drop_sheets(book, guard)
        if kept:
            _write_ledger(book, LEDGER_SHEET, kept)
        return restored
    finally:
        guard.restore()


def _drop_stray_notes(book, listed: set, guard: SheetGuard | None = None) -> None:
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
                if guard is not None and not guard.sheet(sh):
                    break
                _cosmetic(note.delete)


def _note_address(note) -> str:
    try:
        return note.range.address.replace("$", "")  # remote engine
    except AttributeError:
        return str(note.api.Parent.Address).replace("$", "")  # COM: Comment.Parent is its cell


def apply_plan(book, plan: MarkPlan) -> list[LedgerEntry]:
    """Carry out the plan on a live book (previous marks cleared first). Returns the ledger entries."""
    return mark_book(book, plan).entries


def mark_book(book, plan: MarkPlan) -> Outcome:
    """Carry out the plan, lifting and restoring protection; says what could not be done."""
    guard = SheetGuard(book)
    out = Outcome()
    try:
        _mark(book, plan, guard, out)
    finally:
        guard.restore()
        out.problems += guard.problems
    return out


def _mark(book, plan: MarkPlan, guard: SheetGuard, out: Outcome) -> None:
    if not guard.structure():
        out.problems.append(STRUCTURE_NOTICE)
        return  # nothing half-done: no sheet can be added, so no cell is touched
    _, kept = _restore(book, guard)
    _drop_sheets(book, guard)
    carried = {(e.sheet, e.cell): e for e in kept}

    # 1. every cell's own look, recorded before anything is changed
    targets = []
    skipped: dict[str, int] = {}
    entries: list[LedgerEntry] = []
    for mark in plan.marks:
        sh = _sheet(book, mark.sheet)
        if sh is None:
            continue
        if not guard.sheet(sh):
            skipped[mark.sheet] = skipped.get(mark.sheet, 0) + 1
            continue
        rng, cell = _anchor(sh, mark.cell)
        old = carried.pop((mark.sheet, cell), None)
        if old is not None:  # still shows an earlier run's mark: its recorded look is the original
            entries.append(old)
            own = None if old.note_author == NOTE_KEPT else old.note
        else:
            pattern, fg, bg = _read_fill(rng)
            note = _read_note(rng)
            if note is _UNREADABLE:
                entries.append(LedgerEntry(mark.sheet, cell, pattern, fg, bg, "", NOTE_KEPT))
                own = None
            else:
                own = "" if note is None or is_our_note(note) else note
                entries.append(LedgerEntry(mark.sheet, cell, pattern, fg, bg, own, ""))
        targets.append((mark, rng, own))
    for name, n in skipped.items():
        out.problems.append(locked_sheet_notice(name, n))

    # 2. the ledger first: an abort while marking is undone by the next run or clear_marks
    out.entries = entries
    _write_ledger(book, plan.ledger_sheet, entries + list(carried.values()))

    # 3. the marks: the fill, then the note (a client without notes still gets every fill)
    failed = 0
    notes_ok = True
    for mark, rng, own in targets:
        try:
            rng.color = _argb_to_rgb(mark.fill)
        except engine_errors() as e:
            log.warning("could not fill %s!%s: %s", mark.sheet, mark.cell, com_message(e))
            failed += 1
            continue
        if own is None or not notes_ok:
            continue
        try:
            _set_note(rng, compose_note(mark, own))
        except NotImplementedError as e:  # e.g. Office.js below ExcelApi 1.18 (notes_supported: false)
            log.warning("notes are not supported here: %s", e)
            notes_ok = False
            out.problems.append(NOTES_UNSUPPORTED)
        except engine_errors() as e:
            log.warning("could not add the note at %s!%s: %s", mark.sheet, mark.cell, com_message(e))
            failed += 1
    if failed:
        out.problems.append(f"有 {failed} 个单元格未能标色或加批注（Excel 拒绝了修改），问题仍全部列在“校验结果”工作表中。")

    # 4. 校验结果, first and active
    _write_result(book, plan, notices=out.problems)
    out.result_written = True


def _anchor(sh, cell: str):
    """(range, address) of the cell that shows a merged area's look: its top-left, as the file
    applier does (a fill on another cell of the area would not be seen). Engines that cannot
    tell merges (the remote one) mark the cell as given."""
    rng = sh.range(cell)
    try:
        if rng.merge_cells:
            area = rng.merge_area
            top = area.address.replace("$", "").split(":")[0]
            if top != cell:
                return sh.range(top), top
    except engine_errors():
        pass
    return rng, cell


def _width_scale(book) -> float:
    """Desktop engines take widths in characters; the remote (Office.js) engine in points."""
    return CHAR_POINTS if isinstance(book.api, dict) else 1.0


def _cell_value(v):
    if needs_text_guard(v):
        return "'" + v  # Excel keeps it as text, never a formula
    return v


LINK_TIP = "转到该单元格"  # the hyperlink tooltip (xlwings' default is English)


def _with_notices(res, notices: list[str]):
    """校验结果 with the run's notices right under the title, where the clerk looks first."""
    if not notices:
        return res
    extra = tuple(ResultLine(("注意", text), "error", Severity.ERROR) for text in notices)
    lines = res.lines[:1] + extra + res.lines[1:]
    return replace(res, lines=lines, header_row=res.header_row + len(extra) if res.header_row else 0)


def _write_result(book, plan: MarkPlan, notices: list[str] | None = None) -> None:
    res = _with_notices(plan.result, list(notices or ()))
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
        if line.severity is not None and line.role in ("finding", "error"):
            cell = sh.range((r, 2))
            rgb = _argb_to_rgb(FONT_COLOR[line.severity])
            _cosmetic(lambda cell=cell, rgb=rgb: setattr(cell.font, "color", rgb))
        if line.link and line.link_col is not None:
            cell = sh.range((r, line.link_col + 1))
            text = str(line.values[line.link_col])
            _cosmetic(lambda cell=cell, link=line.link, text=text: cell.add_hyperlink(link, text, LINK_TIP))
    if res.title_span > 1:
        _cosmetic(lambda: sh.range((1, 1), (1, res.title_span)).merge())
    rows_of = [r for r, line in enumerate(res.lines, start=1) if line.role == "finding"]
    if rows_of:
        for c in res.wrap_cols:  # 说明, 应为, 实为: rows grow instead of the text running off
            area = sh.range((rows_of[0], c + 1), (rows_of[-1], c + 1))
            _cosmetic(lambda area=area: setattr(area, "wrap_text", True))
    _cosmetic(sh.activate)
    if res.header_row:
        _cosmetic(lambda: _freeze_below(book, sh, res.header_row))


def _freeze_below(book, sh, row: int) -> None:
    """Freeze the rows down to `row` (the column header) on the active result sheet."""
    if _com(sh) is None:
        sh.freeze_panes.freeze_at(f"A{row + 1}")
        return
    window = book.app.api.ActiveWindow  # xlwings' Windows engine has no freeze_panes: COM's own way
    window.FreezePanes = False
    window.SplitColumn = 0
    window.SplitRow = row
    window.FreezePanes = True


def _write_ledger(book, name: str, entries: list[LedgerEntry]) -> None:
    last = book.sheets[len(book.sheets) - 1]
    sh = book.sheets.add(name=name, after=last)
    rows = ledger_rows(entries)
    width = max(len(r) for r in rows)
    sh.range("A1").value = [[_cell_value(v) for v in r] + [None] * (width - len(r)) for r in rows]
    sh.visible = False
