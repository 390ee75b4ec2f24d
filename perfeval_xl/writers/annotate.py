"""The openpyxl applier of the marks plan: a marked COPY of a workbook, never the original.

annotate(src, report, dest=None, *, in_place=False, backup=True) -> str (the path written)

- dest defaults to "<name>_已校验<ext>" beside src; the source bytes are never touched unless
  in_place, and then a backup "<name>_备份_<YYYYmmdd-HHMMSS><ext>" is written first.
- Each flagged cell gets a fill by severity and a note; "校验结果" goes in front with hyperlinks;
  the hidden "校验标记" ledger records each marked cell's own fill and note, so that the next
  run restores them before marking again (see marks.py for the protocol).
- .xlsm stays macro-enabled (keep_vba=True; the extension follows). .xls/.ods cannot be opened
  by openpyxl: they are converted to an .xlsx copy with LibreOffice when it is installed, and the
  result sheet says so; otherwise a ReadError explains what to do.
"""
from __future__ import annotations

import io
import math
import os
import posixpath
import re
import shutil
import subprocess
import tempfile
import unicodedata
import zipfile
from datetime import datetime
from xml.sax.saxutils import escape as xml_escape

from ..errors import ReadError
from ..findings import Report
from ..marks import (
    FONT_COLOR, LEDGER_SHEET, NOTE_AUTHOR, RESULT_SHEET, LedgerEntry, MarkPlan, border_spec, compose_note,
    is_mark_border, is_mark_fill, is_our_note, parse_border_spec, ledger_rows, link_sheet, needs_text_guard, original_from_note, parse_ledger, plan_marks,
    text_width,
)
from ..safety import preflight

from ..ledger import ANNOTATED_SUFFIX, BACKUP_INFIX, KIND_BACKUP, KIND_COPY, annotate_dest, backup_path, default_dest
from ..ledger import ext_for as _ext_for
from ..ledger import record as _record

__all__ = ["annotate", "annotate_many", "default_dest", "backup_path", "ANNOTATED_SUFFIX", "BACKUP_INFIX",
           "FileChanged"]
CONVERT_TIMEOUT = 120  # seconds for one LibreOffice conversion of an .xls/.ods


class FileChanged(Exception):
    """--in-place: the file on disk is no longer the one that was checked (its size, time or hash differ)."""


def new_file_mode() -> int:
    """The mode a new file gets from open(): 0666 & ~umask (0644 under the usual umask 022). mkstemp makes
    0600 files, which colleagues on a shared folder cannot open, so our temporary files are given this."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:  # Linux: read it without changing it
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (the process is single-threaded here)
    os.umask(mask)
    return 0o666 & ~mask


def annotate(src: str, report: Report, dest: str | None = None, *, in_place: bool = False,
             backup: bool = True, plan: MarkPlan | None = None, backups: list | None = None,
             expect: tuple | None = None) -> str:
    """Write the marked workbook; returns its path. `backups`, when a list, receives the backup
    written by in_place (so that a front end can say where it is).
    expect: (size, mtime_ns, sha256) of the file as it was checked; in place, the file is read once, and
    marked only if those bytes are still that file (else FileChanged: the caller checks it again). The
    backup and the marks are made from the same bytes that were verified. Every file written is recorded
    (ledger.record) so that a later batch knows it is ours."""
    src = os.fspath(src)
    fmt = preflight(src)
    converted_from = None
    workdir = None
    load_path = src
    if fmt in ("xls", "ods"):
        workdir = tempfile.mkdtemp(prefix="perfeval_conv_")
        load_path = _convert_to_xlsx(src, fmt, workdir)
        converted_from = fmt
    try:
        if in_place:
            if converted_from:
                # openpyxl cannot write .xls/.ods: the marked workbook goes beside it as .xlsx
                target = os.path.splitext(src)[0] + ".xlsx"
                if os.path.exists(target):
                    target = default_dest(src, fmt)
            else:
                target = src
        else:
            target = os.fspath(dest) if dest else default_dest(src, fmt)
            want = _ext_for(fmt, os.path.splitext(target)[1])
            if os.path.splitext(target)[1].lower() != want:
                target = os.path.splitext(target)[0] + want  # .xlsm stays .xlsm, conversions become .xlsx
            if os.path.exists(target) and os.path.samefile(target, src):
                raise ValueError(f"{src}：输出文件与原文件相同；如需直接在原文件上标注，请使用 in_place=True")
        if os.path.dirname(target):
            os.makedirs(os.path.dirname(target), exist_ok=True)
        backup_written = None
        data = None
        if in_place and target == src:
            data = _verified_bytes(src, expect)
            if backup:
                backup_written = backup_path(src)
                _write_new(backup_written, data, src)
                _record(backup_written, KIND_BACKUP)
        plan = plan or plan_marks(report, generated=f"{datetime.now():%Y-%m-%d %H:%M}")
        wb = _load(load_path, fmt, data if not converted_from else None)
        apply_plan(wb, plan, note=_conversion_note(src, converted_from))
        _mark_as_copy(wb, copy=target != src)
        # openpyxl writes formulas without their results: put the source's cached values back
        # (marking changes no value, so they stay valid) before the file takes its place
        cached = read_cached_values(io.BytesIO(data) if data is not None and not converted_from else load_path)
        # in place the file keeps its own mode (the backup too: copy2); a new file gets the umask's
        mode = os.stat(src).st_mode & 0o7777 if in_place and target == src else new_file_mode()
        _atomic_save(wb, target, lambda tmp: restore_cached_values(tmp, cached), mode=mode)
        if target != src:
            _record(target, KIND_COPY)
        if backups is not None and backup_written:
            backups.append(backup_written)
        return target
    finally:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)


COPY_NAME = "perfeval_annotated_copy"  # defined name carried only by marked COPIES, so a batch can skip them


def _mark_as_copy(wb, copy: bool) -> None:
    """Tag a marked copy (not a file marked in place, nor a book marked by the Excel button): a folder
    run skips copies, while a clerk's own marked submission is still checked. In place, the file
    keeps whatever it was: a copy stays a copy."""
    from openpyxl.workbook.defined_name import DefinedName

    if copy:
        wb.defined_names[COPY_NAME] = DefinedName(COPY_NAME, attr_text='"1"')


def _verified_bytes(src: str, expect: tuple | None) -> bytes:
    """The file's bytes, read once; with expect, only if they are still the checked file's."""
    import hashlib
    import stat as _stat

    with open(src, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not _stat.S_ISREG(st.st_mode):
            raise ReadError(src, "不是普通文件，不能直接标注")
        data = fh.read()
    if expect is not None:
        size, mtime_ns, digest = expect
        if st.st_size != size or st.st_mtime_ns != mtime_ns or hashlib.sha256(data).hexdigest() != digest:
            raise FileChanged(src)
    return data


def _write_new(path: str, data: bytes, like: str) -> None:
    """A new file (never replacing one) holding data, with like's mode and times (as copy2 gave)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        shutil.copystat(like, path)
    except BaseException:
        if os.path.exists(path):
            os.unlink(path)
        raise


def _load(path: str, fmt: str, data: bytes | None = None):
    import openpyxl

    from ..safety import check_openpyxl_safe

    try:
        check_openpyxl_safe(path, data)  # real extents and merges: openpyxl expands every merged cell
        # a file object: openpyxl would refuse a real .xlsx that is merely named .xls
        if data is not None:
            return openpyxl.load_workbook(io.BytesIO(data), keep_vba=(fmt == "xlsm"), keep_links=True,
                                          rich_text=True)
        with open(path, "rb") as fh:
            return openpyxl.load_workbook(fh, keep_vba=(fmt == "xlsm"), keep_links=True, rich_text=True)
    except ReadError:
        raise
    except Exception as e:  # openpyxl raises many kinds on malformed parts
        raise ReadError(path, f"无法用 openpyxl 打开以写入标注（{type(e).__name__}: {e}）") from None


def _atomic_save(wb, target: str, finish=None, mode: int | None = None) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".perfeval_", suffix=os.path.splitext(target)[1],
                               dir=os.path.dirname(target) or ".")
    os.close(fd)
    try:
        wb.save(tmp)
        if finish is not None:
            finish(tmp)  # may replace tmp by a new (0600) file: the mode is set after it
        os.chmod(tmp, new_file_mode() if mode is None else mode)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _conversion_note(src: str, fmt: str | None) -> str | None:
    if not fmt:
        return None
    return (f"原文件 {os.path.basename(src)} 为 .{fmt} 格式，无法直接写入标注，"
            "已用 LibreOffice 另存为 .xlsx 后标注；原文件未改动")


def _convert_to_xlsx(src: str, fmt: str, workdir: str) -> str:
    from ..recalc import find_soffice

    soffice = find_soffice()
    if not soffice:
        raise ReadError(src, f".{fmt} 文件无法直接写入标注，且未找到 LibreOffice 进行转换；"
                             "请用 Excel 另存为 .xlsx 后再标注（校验结果仍见汇总表）")
    # a copy with an ASCII name: LibreOffice derives the output name from the input name
    inp = os.path.join(workdir, f"in.{fmt}")
    shutil.copyfile(src, inp)
    profile = os.path.join(workdir, "profile")
    cmd = [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
           "--convert-to", "xlsx", "--outdir", workdir, inp]
    try:
        from ..isolation import lift_memory_limit  # a pool worker's memory cap is not LibreOffice's

        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=CONVERT_TIMEOUT,
                       check=False, preexec_fn=lift_memory_limit if os.name == "posix" else None)
    except subprocess.TimeoutExpired:
        raise ReadError(src, f"LibreOffice 转换 .{fmt} 超时（{CONVERT_TIMEOUT} 秒），无法标注") from None
    out = os.path.join(workdir, "in.xlsx")
    if not os.path.isfile(out):
        raise ReadError(src, f"LibreOffice 未能把 .{fmt} 转换为 .xlsx，无法标注；请用 Excel 另存为 .xlsx 后再标注")
    return out


# ---- cached values of formulas ---------------------------------------------------------------

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
# a formula cell as openpyxl writes it: <c r="B4" s="3"><f>B2+B3</f><v></v></c> (or <v/>, or no <v>)
_FORMULA_CELL = re.compile(
    r'<c r="([A-Z]{1,3}[0-9]{1,7})"((?:\s+[a-zA-Z:]+="[^"]*")*)\s*>'
    r'(<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)(?:<v\s*/>|<v></v>)?</c>')
_T_ATTR = re.compile(r'\s+t="[^"]*"')


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> zip member of its worksheet XML (from workbook.xml and its rels)."""
    from xml.etree import ElementTree as ET

    rels = {}
    root = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    for rel in root.iter(f"{{{_NS_PKG_REL}}}Relationship"):
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        rels[rel.get("Id")] = target
    out = {}
    for sheet in ET.fromstring(z.read("xl/workbook.xml")).iter(f"{{{_NS_MAIN}}}sheet"):
        part = rels.get(sheet.get(f"{{{_NS_REL}}}id"))
        if part and part in z.namelist():
            out[sheet.get("name")] = part
    return out


def _shared_strings(z: zipfile.ZipFile) -> list[str]:
    from xml.etree import ElementTree as ET

    try:
        data = z.read("xl/sharedStrings.xml")
    except KeyError:
        return []
    return ["".join(t.text or "" for t in si.iter(f"{{{_NS_MAIN}}}t"))
            for si in ET.fromstring(data).iter(f"{{{_NS_MAIN}}}si")]


def read_cached_values(path: str) -> dict[str, dict[str, tuple[str, str]]]:
    """Every formula cell's cached result in an .xlsx/.xlsm: {sheet: {"B4": (type, text)}} where type is
    "n" (number), "str" (text), "b" (boolean 0/1) or "e" (error such as "#DIV/0!"). Read from the sheet XML
    directly, so that the text of the value is kept exactly. {} when the file is not a readable package."""
    from xml.etree import ElementTree as ET

    c_tag, f_tag, v_tag = (f"{{{_NS_MAIN}}}{t}" for t in ("c", "f", "v"))
    out: dict[str, dict[str, tuple[str, str]]] = {}
    try:
        with zipfile.ZipFile(path) as z:
            parts = _sheet_parts(z)
            strings = None
            for name, part in parts.items():
                cells: dict[str, tuple[str, str]] = {}
                with z.open(part) as fh:
                    for _, el in ET.iterparse(fh):
                        if el.tag != c_tag:
                            continue
                        f, v = el.find(f_tag), el.find(v_tag)
                        if f is not None and v is not None:
                            t = el.get("t") or "n"
                            text = v.text or ""  # "" is a valid text result (t="str"), not a number
                            if not text and t not in ("str", "inlineStr"):
                                el.clear()
                                continue
                            if t == "s":  # a formula's text result stored as a shared string (rare)
                                strings = _shared_strings(z) if strings is None else strings
                                try:
                                    t, text = "str", strings[int(text)]
                                except (ValueError, IndexError):
                                    t = ""
                            elif t == "inlineStr":
                                t = "str"
                            if t in ("n", "str", "b", "e"):
                                cells[el.get("r")] = (t, text)
                        el.clear()
                if cells:
                    out[name] = cells
    except (zipfile.BadZipFile, KeyError, OSError, ET.ParseError):
        return {}
    return out


def _with_value(m: re.Match, cached: dict[str, tuple[str, str]]) -> str:
    hit = cached.get(m.group(1))
    if hit is None:
        return m.group(0)
    t, text = hit
    attrs = _T_ATTR.sub("", m.group(2))
    if t != "n":
        attrs += f' t="{t}"'
    return f'<c r="{m.group(1)}"{attrs}>{m.group(3)}<v>{xml_escape(text)}</v></c>'


def restore_cached_values(path: str, cached: dict[str, dict[str, tuple[str, str]]]) -> int:
    """Put cached results back into the formula cells of a workbook openpyxl has just written (it writes
    <f> with an empty <v>). Only the worksheet parts that change are rewritten; every other member is
    copied byte for byte. Returns the number of cells given a value."""
    if not cached:
        return 0
    with zipfile.ZipFile(path) as z:
        parts = {part: cached[name] for name, part in _sheet_parts(z).items() if name in cached}
        new: dict[str, bytes] = {}
        total = 0
        for part, cells in parts.items():
            xml = z.read(part).decode("utf-8")
            count = 0

            def sub(m, cells=cells):
                nonlocal count
                out = _with_value(m, cells)
                count += out != m.group(0)
                return out

            xml2 = _FORMULA_CELL.sub(sub, xml)
            if count:
                new[part] = xml2.encode("utf-8")
                total += count
        if not new:
            return 0
        fd, tmp = tempfile.mkstemp(prefix=".perfeval_v_", suffix=".zip", dir=os.path.dirname(path) or ".")
        os.close(fd)
        try:
            with zipfile.ZipFile(tmp, "w") as out:
                for info in z.infolist():
                    data = new.get(info.filename)
                    if data is None:
                        data = z.read(info)
                    out.writestr(info, data, compress_type=info.compress_type)
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)  # the rewritten file keeps the mode it had
        except BaseException:
            os.unlink(tmp)
            raise
    os.replace(tmp, path)
    return total


# ---- colours ---------------------------------------------------------------------------------

def color_spec(color) -> str:
    """openpyxl Color -> "rgb:FF..." | "theme:n:tint" | "indexed:n" | ""."""
    if color is None:
        return ""
    t = getattr(color, "type", None)
    if t == "rgb" and isinstance(color.rgb, str):
        return f"rgb:{color.rgb}"
    if t == "theme":
        return f"theme:{color.theme}:{color.tint or 0}"
    if t == "indexed":
        return f"indexed:{color.indexed}"
    if t == "auto":
        return "auto"
    return ""


def color_from_spec(spec: str):
    from openpyxl.styles.colors import Color

    if not spec:
        return None
    kind, _, rest = spec.partition(":")
    if kind == "rgb":
        return Color(rgb=rest)
    if kind == "theme":
        n, _, tint = rest.partition(":")
        return Color(theme=int(n), tint=float(tint or 0))
    if kind == "indexed":
        return Color(indexed=int(rest))
    if kind == "auto":
        return Color(auto=True)
    return None


def _fill_of(cell) -> tuple[str, str, str]:
    f = cell.fill
    pattern = getattr(f, "patternType", None) or ""
    if not pattern:
        return "", "", ""
    return pattern, color_spec(f.fgColor), color_spec(f.bgColor)


def _restore_fill(cell, e: LedgerEntry) -> None:
    from openpyxl.styles import PatternFill

    if not e.pattern:
        cell.fill = PatternFill(fill_type=None)
        return
    kw = {"fill_type": e.pattern}
    fg, bg = color_from_spec(e.fg), color_from_spec(e.bg)
    if fg is not None:
        kw["fgColor"] = fg
    if bg is not None:
        kw["bgColor"] = bg
    cell.fill = PatternFill(**kw)


_SIDES = ("left", "right", "top", "bottom")


def _border_of(cell) -> str:
    b = cell.border
    sides = {}
    for k in _SIDES:
        side = getattr(b, k, None)
        if side is not None and side.style:
            sides[k] = (side.style, color_spec(side.color))
    return border_spec(sides)


def _set_border(cell, spec: str) -> None:
    """A border from border_spec text, keeping the cell's diagonal (never part of a mark)."""
    from openpyxl.styles import Border, Side

    sides = parse_border_spec(spec)
    old = cell.border
    cell.border = Border(**{k: Side(style=sides[k][0], color=color_from_spec(sides[k][1])) if k in sides else Side()
                            for k in _SIDES}, diagonal=old.diagonal, diagonalUp=old.diagonalUp,
                         diagonalDown=old.diagonalDown)


def _comment(text: str, author: str):
    from openpyxl.comments import Comment

    from ..marks import note_size

    c = Comment(text, author or NOTE_AUTHOR)
    c.width, c.height = note_size(text)  # sized to the text (issue 12), CJK counted double
    return c


# ---- applying the plan -----------------------------------------------------------------------

def _anchor(ws, coord: str):
    """The cell that carries a merged range's look: its top-left."""
    for rng in ws.merged_cells.ranges:
        if coord in rng:
            return ws.cell(rng.min_row, rng.min_col)
    return ws[coord]


def clear_marks(wb) -> int:
    """Undo a previous run: restore cells listed in the ledger, drop our notes, sheets. Returns cells restored."""
    restored = 0
    if LEDGER_SHEET in wb.sheetnames:
        entries = parse_ledger(wb[LEDGER_SHEET].iter_rows(values_only=True))
        for e in entries:
            if e.sheet not in wb.sheetnames or e.sheet in (LEDGER_SHEET, RESULT_SHEET):
                continue
            ws = wb[e.sheet]
            if not hasattr(ws, "merged_cells"):
                continue
            cell = _anchor(ws, e.cell)
            pattern, fg, _ = _fill_of(cell)
            if is_mark_fill(pattern, fg):  # untouched since we marked it
                _restore_fill(cell, e)
            if is_mark_border(_border_of(cell)):  # a ledger of an older run has no border column: cleared
                _set_border(cell, e.border)
            if cell.comment is None or is_our_note(cell.comment.text):
                cell.comment = _comment(e.note, e.note_author) if e.note else None
            restored += 1
    for name in (RESULT_SHEET, LEDGER_SHEET):
        if name in wb.sheetnames:
            del wb[name]
    # notes of ours the ledger does not know (ledger deleted by hand, cells copied)
    for ws in wb.worksheets:
        for cell in list(ws._cells.values()):
            if cell.comment is not None and is_our_note(cell.comment.text):
                own = original_from_note(cell.comment.text)
                cell.comment = _comment(own, "") if own else None
    return restored


def apply_plan(wb, plan: MarkPlan, note: str | None = None) -> dict:
    """Mark an openpyxl workbook in memory following the plan; returns counts."""
    from openpyxl.styles import PatternFill

    restored = clear_marks(wb)
    entries: list[LedgerEntry] = []
    placed = skipped = 0
    for mark in plan.marks:
        if mark.sheet not in wb.sheetnames or not hasattr(wb[mark.sheet], "merged_cells"):
            skipped += 1
            continue
        ws = wb[mark.sheet]
        cell = _anchor(ws, mark.cell)
        pattern, fg, bg = _fill_of(cell)
        own_note = cell.comment.text if cell.comment is not None else ""
        own_author = cell.comment.author if cell.comment is not None else ""
        entries.append(LedgerEntry(mark.sheet, cell.coordinate, pattern, fg, bg, own_note or "", own_author or "",
                                   _border_of(cell)))
        cell.fill = PatternFill(fill_type="solid", fgColor=mark.fill, bgColor=mark.fill)
        if getattr(mark, "border", "") and not any(cell.coordinate in rng for rng in ws.merged_cells.ranges):
            _set_border(cell, mark.border)  # not on a merged range: its edges are drawn from other cells
        cell.comment = _comment(compose_note(mark, own_note or ""), NOTE_AUTHOR)
        placed += 1
    _write_result(wb, plan, note)
    _write_ledger(wb, entries)
    return {"placed": placed, "skipped": skipped, "restored": restored}


def _put(ws, row: int, col: int, value, fmt: str = ""):
    cell = ws.cell(row, col)
    cell.value = value
    if needs_text_guard(value):  # text from a submitted file must never become a formula
        cell.data_type = "s"
        cell.quotePrefix = True
    if fmt:
        cell.number_format = fmt
    return cell


def _write_result(wb, plan: MarkPlan, note: str | None) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.hyperlink import Hyperlink

    res = plan.result
    ws = wb.create_sheet(res.name, 0)
    for i, w in enumerate(res.widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    span = getattr(res, "title_span", len(res.widths)) or len(res.widths)
    wrap_cols = set(getattr(res, "wrap_cols", (5,)))
    bold = Font(bold=True)
    head_fill = PatternFill(fill_type="solid", fgColor="FFD9D9D9")
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    left = Alignment(horizontal="left")
    lines = list(res.lines)
    header_row = res.header_row
    note_row = None
    if note:
        lines.insert(1, type(lines[0])(("说明", note), "meta"))
        header_row += 1
        note_row = 2
    for r, line in enumerate(lines, start=1):
        for c, value in enumerate(line.values, start=1):
            fmt = line.formats[c - 1] if c - 1 < len(line.formats) else ""
            cell = _put(ws, r, c, value, fmt)
            if line.role == "title":
                cell.font = Font(bold=True, size=14)
                cell.alignment = Alignment(horizontal="center", vertical="center")
            elif line.role == "header":
                cell.font, cell.fill = bold, head_fill
                cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            elif line.role == "meta":
                if c == 1:
                    cell.font = bold
                else:
                    cell.alignment = left  # beside its label, numbers too
            elif line.role == "error":
                cell.font = Font(bold=True, color=FONT_COLOR[line.severity])
            elif line.role == "finding":
                cell.alignment = wrap if c - 1 in wrap_cols else top
                if c == 1:
                    cell.alignment = Alignment(horizontal="center", vertical="top")
                if c == 2 and line.severity is not None:
                    cell.font = Font(bold=True, color=FONT_COLOR[line.severity])
        if line.role == "title" and span > 1:
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=span)
        if line.link and line.link_col is not None and link_sheet(line.link) in wb.sheetnames:
            cell = ws.cell(r, line.link_col + 1)
            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=line.link.lstrip("#"),
                                       display=str(cell.value or ""))
            cell.font = Font(color="FF0563C1", underline="single")
            cell.alignment = top
        if line.role == "finding":
            n = _wrapped_lines(line.values, res.widths, wrap_cols)
            if n > 1:
                # Excel fits a row without a height to its wrapped text, but LibreOffice and WPS keep the
                # default height and the lines overlap the next row: give such rows the height they need
                ws.row_dimensions[r].height = LINE_HEIGHT * n + 2
    if note_row and span > 2:
        # the conversion note is long: across the table, wrapped; a merged cell does not grow by itself
        ws.merge_cells(start_row=note_row, start_column=2, end_row=note_row, end_column=span)
        ws.cell(note_row, 2).alignment = Alignment(wrap_text=True, vertical="top")
        room = max(1, sum(res.widths[1:span]))
        ws.row_dimensions[note_row].height = 15 * (1 + text_width(note) // room)
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    # printing: A4 landscape, one page wide, the column header repeated on every page
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if header_row:
        ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_options.horizontalCentered = True
    for other in wb.worksheets:
        other.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    wb.active = 0


LINE_HEIGHT = 15  # points per line of 11-point text (CJK included)
CJK_UNITS = 1.7  # width of a CJK character in column-width units as rendered (Excel ~2, LibreOffice ~1.6)


def _line_units(text: str) -> float:
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF")
    return wide * CJK_UNITS + (len(text) - wide)


def _wrapped_lines(values, widths, wrap_cols) -> int:
    """Lines the longest wrapped value of a row takes at the column widths."""
    n = 1
    for i in wrap_cols:
        if i < len(values) and i < len(widths) and values[i] not in (None, ""):
            room = max(1.0, widths[i] - 1.0)
            n = max(n, sum(max(1, math.ceil(_line_units(part) / room)) for part in str(values[i]).split("\n")))
    return n


def _write_ledger(wb, entries: list[LedgerEntry]) -> None:
    ws = wb.create_sheet(LEDGER_SHEET)
    for r, row in enumerate(ledger_rows(entries), start=1):
        for c, value in enumerate(row, start=1):
            if value != "":
                cell = ws.cell(r, c)
                cell.value = value
                cell.data_type = "s"  # colour specs and notes are text, always
    ws.sheet_state = "hidden"


def annotate_many(pairs, outdir: str | None = None, *, inputs=(), in_place: bool = False,
                  backup: bool = True) -> list[tuple[str, str | None, str | None]]:
    """Annotate (src, report) pairs; with outdir each copy mirrors src's place below `inputs`
    (the folders given to collect) as batch.annotate_dest does.

    Returns (src, written path or None, Chinese reason when not written). Never stops on one bad file.
    """
    out = []
    for src, report in pairs:
        if report.error:
            out.append((src, None, f"未标注：{report.error}"))
            continue
        try:
            dest = annotate_dest(src, inputs, outdir) if outdir and not in_place else None
            out.append((src, annotate(src, report, dest, in_place=in_place, backup=backup), None))
        except ReadError as e:
            out.append((src, None, f"未标注：{e.reason}"))
        except Exception as e:  # one odd workbook must not stop the batch
            out.append((src, None, f"未标注：写入时出错（{type(e).__name__}: {e}）"))
    return out
