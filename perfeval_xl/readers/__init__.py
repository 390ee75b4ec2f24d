"""Readers: a workbook file (or a live book, through a Grid) -> the form model. Readers never judge.

read_workbook(path, fast=False)
    fast=False: openpyxl; formulas and cached values both visible (Form.formulas_known=True).
                .xls and .ods, which openpyxl cannot open, are read with python-calamine.
    fast=True:  python-calamine, values only; one read of the file's bytes, the defined names
                taken from xl/workbook.xml in the same zip.
Both use our template's defined names (pe_*) when present, otherwise the labels (anchors); fields
whose names point nowhere (a renamed or deleted sheet, #REF!) are found by their labels.
form_from_grid(grid, names, source, reader) does the mapping for any source (xlwings too).
"""
from __future__ import annotations

import io
import re
import zipfile
import zlib
from functools import lru_cache
from html import unescape

from .. import layout as L
from ..errors import ReadError
from ..model import Form
from ..safety import Checked, preflight_open
from .grid import Grid
from .names import BROKEN_REF

__all__ = ["read_workbook", "form_from_grid", "read_grid", "Grid", "MAX_ROWS"]

MAX_ROWS = 5000  # the form has ~100 rows; more is not this form, and must not cost memory
_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: .xls, or an encrypted .xlsx
_ENCRYPTED_STREAM = "EncryptionInfo".encode("utf-16-le")
_ENCRYPTED = "文件已加密，请取消密码后再提交"


def form_from_grid(grid: Grid, names: dict[str, tuple[str, str]] | None, source: str, reader: str,
                   family: str | None = None) -> Form:
    """Map what a reader saw to the form model.

    names: defined names -> (sheet, address) as the workbook holds them now, e.g.
    {"pe_funds_budget": ("绩效自评表", "$D$4"), "pe_template_version": ("", '"1"')}; a constant
    name has an empty sheet. With our pe_* names the fields are read by name; otherwise the workbook
    is first recognised as one form family (perfeval_xl/forms) and read by that family's labels.
    family: a family key that skips recognition (--form).
    Raises ReadError when the workbook is no known form.
    """
    from ..forms import FAMILIES, NOT_A_FORM, hunan_tables, recognise
    from ..forms.reader import read_family
    from .anchors import map_anchors
    from .mapping import settings_pairs
    from .names import is_template, map_names

    if reader == "xlwings":  # a live book: Excel has computed every formula
        grid.results_current = True
    hunan = FAMILIES["hunan_dept"]
    if is_template(names) and family in (None, "", "hunan_dept"):
        form = Form(source=source, reader=reader, formulas_known=grid.formulas_known)
        map_names(grid, names, form)
        form.family, form.confidence = hunan.key, 1.0
        hunan_tables(form, hunan)
    else:
        from . import layout_cache  # a layout seen before is not searched again (same result, proven in tests)

        def search(form: Form) -> None:  # recognition and the label search
            rec = recognise(grid, force=family or None)
            fam = rec.family
            if fam is None and rec.scores.get("hunan_dept", 0) < 0.2:
                raise ReadError(source, NOT_A_FORM + rec.reason())
            if fam is None or fam.reader in ("hunan", "hunan2018"):
                try:  # a Hunan file with some tables missing scores low, and is still read by its reader
                    map_anchors(grid, form)
                except ReadError as e:
                    if fam is not None:
                        raise
                    raise ReadError(source, NOT_A_FORM + rec.reason()) from e
                fam = fam or hunan
                form.family, form.confidence = fam.key, rec.confidence
                hunan_tables(form, fam)
                if fam.reader == "hunan2018":
                    from ..forms.hunan2018 import read_criteria

                    read_criteria(grid, form)
                if not family:  # project forms sent inside the 部门整体 workbook: each a form of its own
                    _add_other_forms(grid, rec, form, source, reader)
            else:
                form.family, form.confidence = fam.key, rec.confidence
                read_family(grid, fam, rec.sheets, form)
                if form.tables is None and not form.parts:
                    raise ReadError(source, NOT_A_FORM + f"按“{fam.title}”未找到“{fam.total_labels[0]}”一行")

        form = layout_cache.mapped(grid, lambda: Form(source=source, reader=reader, formulas_known=grid.formulas_known),
                                   search, family or "", source)
    form.sheets_present = tuple(grid.all_sheets if grid.all_sheets is not None else grid.sheets)
    for part in form.parts:
        part.sheets_present = form.sheets_present
    sname, pairs, cells = settings_pairs(grid)
    if sname is not None:
        form.sheet_names[L.SHEET_SETTINGS] = sname
        form.settings_overrides = pairs
        form.settings_cells = cells
        for part in form.parts:
            part.settings_overrides, part.settings_cells = pairs, cells
    return form


def _add_other_forms(grid: Grid, rec, form: Form, source: str, reader: str) -> None:
    """Other forms found beside the workbook's own (a 部门整体 workbook carrying its projects' forms): `form`
    becomes the file-level form whose parts are its own form and those. In place, so that the layout cache
    remembers and replays it like any other result of the search."""
    import dataclasses

    from ..forms.reader import read_family

    extra = []
    for fam, sheets in rec.other_forms(set(form.sheet_names.values())):
        f = Form(source=source, reader=reader, formulas_known=form.formulas_known)
        f.family, f.confidence = fam.key, max(rec.per_sheet[fam.key][n] for n in sheets)
        read_family(grid, fam, sheets, f)
        extra += f.parts or ([f] if f.tables is not None else [])
    if not extra:
        return
    own = Form()
    for fld in dataclasses.fields(form):
        setattr(own, fld.name, getattr(form, fld.name))
    own.parts = []
    form.parts = [own] + extra


def read_workbook(path: str, *, fast: bool = False, family: str | None = None) -> Form:
    """Read a workbook into the form model. Raises ReadError with a Chinese reason.
    family: a form family key (perfeval forms) that skips recognition."""
    with preflight_open(path) as checked:  # the pre-flight's bytes and zip serve the reader too
        grid, names, reader = read_grid(path, fast=fast, checked=checked)
    try:
        return form_from_grid(grid, names, path, reader, family)
    except ReadError:
        raise
    except Exception as e:  # a mapping bug must not read as a crash of the batch
        raise ReadError(path, f"读取表格内容时出错（{type(e).__name__}: {e}）") from e


def read_grid(path: str, *, fast: bool = False, fmt: str | None = None, checked: Checked | None = None):
    """(Grid, names, reader label) for a file; the raw layer under read_workbook.
    checked: what safety.preflight_open returned for this path (its bytes and zip are reused)."""
    if checked is None and fmt is None:
        with preflight_open(path) as checked:
            return read_grid(path, fast=fast, checked=checked)
    fmt = fmt or checked.fmt
    data = checked.data if checked is not None else None
    if data is None:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as e:
            raise ReadError(path, f"无法打开文件（{e.strerror or e}）") from e
    kind = _sniff(path, data, fmt)
    try:
        if kind in ("xlsx", "xlsm") and not fast:
            grid, names = _grid_openpyxl(data)
            return grid, names, "names" if _has_pe(names) else "anchors"
        zf = checked.zf if checked is not None and checked.data is not None else None
        names = _names_from_zip(data, zf) if kind in ("xlsx", "xlsm") else None
        grid = _grid_calamine(data, names, zf.NameToInfo if zf is not None else None)
        return grid, names, "calamine"
    except ReadError:
        raise
    except Exception as e:
        raise ReadError(path, _reason(e)) from e


def _has_pe(names) -> bool:
    return bool(names) and any(k.startswith(L.NAME_PREFIX) for k in names)


def _sniff(path: str, data: bytes, fmt: str) -> str:
    """What the bytes are, whatever the extension says."""
    if not data:
        raise ReadError(path, "文件为空（0 字节），不是 Excel 工作簿")
    if data[:8] == _CFB:
        if _ENCRYPTED_STREAM in data[:65536] or _ENCRYPTED_STREAM in data[-65536:]:
            raise ReadError(path, _ENCRYPTED)
        return "xls"
    if data[:4] == b"PK\x03\x04":
        if fmt == "xls":
            return "xlsx"  # a new-format workbook named .xls
        return fmt
    raise ReadError(path, f"不是 Excel 工作簿（文件内容不是 {fmt} 格式，可能是改了扩展名的其他文件）")


def _reason(e: Exception) -> str:
    name = type(e).__name__
    if name == "PasswordError" or "password" in str(e).lower() or "encrypt" in str(e).lower():
        return _ENCRYPTED
    if isinstance(e, zipfile.BadZipFile):
        return "文件已损坏（压缩包结构无效），请用 Excel 打开后另存为 .xlsx 再提交"
    if isinstance(e, KeyError):
        part = re.search(r"'([^']+)'", str(e))
        return f"文件已损坏或不是有效的 Excel 工作簿（缺少部件“{part.group(1) if part else e.args[0]}”）"
    if "Entities" in name or "DTD" in name or "Forbidden" in name:
        return "文件包含不安全的 XML 内容（实体或 DTD），拒绝读取"
    if isinstance(e, MemoryError):
        return "文件内容过大，无法读取"
    return f"文件已损坏或不是有效的 Excel 工作簿（{name}: {str(e)[:120]}）"


# ---- defined names ----------------------------------------------------------------------
_DN = re.compile(r'<(?:\w+:)?definedName\b([^>]*?)\bname="([^"]*)"([^>]*)>([^<]*)<')


def _split_ref(text: str) -> tuple[str, str]:
    """"'三公经费情况表'!$B$2:$D$2" -> (sheet, "$B$2:$D$2"); a constant -> ("", text)."""
    t = text.strip().lstrip("=")
    if "#REF!" in t.upper():  # its cells were deleted (or its sheet, outside Excel): points nowhere
        return "", BROKEN_REF
    first = t.split(",")[0] if "!" in t else t  # multi-area: the first area
    if "!" not in first:
        return "", t
    sheet, _, ref = first.rpartition("!")
    if len(sheet) >= 2 and sheet[0] == sheet[-1] == "'":
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, ref


_NAMES_BY_PART: dict[tuple, dict] = {}  # xl/workbook.xml as stored (compressed bytes, CRC) -> names


def _names_from_zip(data: bytes, zf: zipfile.ZipFile | None = None) -> dict[str, tuple[str, str]]:
    """Our defined names (pe_*) from xl/workbook.xml: a regex over one small part, no XML parser,
    so no entity expansion. Sheet-scoped twins lose to the workbook scope.
    zf: the zip already opened on data (by the pre-flight). Files made from one template store this
    part byte for byte alike: its names are remembered by the stored bytes, so it is not unzipped again."""
    if zf is None:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return _names_from_zip(data, z)
    try:
        info = zf.getinfo("xl/workbook.xml")
    except KeyError:
        return {}
    if info.file_size > 5_000_000:
        return {}
    stored = _stored_bytes(data, info)
    key = None
    if stored is not None:
        key = (info.compress_type, info.CRC, info.file_size, stored)
        hit = _NAMES_BY_PART.get(key)
        if hit is not None:
            return _copy_names(hit)
    xml = zf.read(info)  # checks the CRC
    shared = _parse_names(xml) if L.NAME_PREFIX.encode() in xml else None
    if key is not None:
        if len(_NAMES_BY_PART) >= 64:
            _NAMES_BY_PART.clear()
        _NAMES_BY_PART[key] = shared if shared is not None else {}
    return _copy_names(shared) if shared is not None else {}


def _copy_names(shared: dict) -> dict:
    if not shared:
        return {}
    out = NamesDict(shared)
    out.frozen = shared.frozen
    return out


def _stored_bytes(data: bytes, info: zipfile.ZipInfo) -> bytes | None:
    """A member's bytes as stored in the archive (compressed), or None when anything looks unusual."""
    if info.flag_bits & 0x1:
        return None
    off = info.header_offset
    head = data[off:off + 30]
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        return None
    name_len = int.from_bytes(head[26:28], "little")
    extra_len = int.from_bytes(head[28:30], "little")
    start = off + 30 + name_len + extra_len
    stored = data[start:start + info.compress_size]
    return stored if len(stored) == info.compress_size else None


class NamesDict(dict):
    """Defined names as read from the zip, carrying frozenset(items) for the mapping plan's cache key
    (computed once per distinct xl/workbook.xml). Treat as read-only."""
    frozen: frozenset | None = None


@lru_cache(maxsize=64)
def _parse_names(xml: bytes) -> NamesDict:
    # Files made from one template share this part byte for byte: parse it once per process.
    out = NamesDict()
    for before, name, after, body in _DN.findall(xml.decode("utf-8", "replace")):
        if not name.startswith(L.NAME_PREFIX):
            continue  # print areas and the workbook's own names
        if "&" in body:
            body = unescape(body)
        if ("localSheetId=" in before or "localSheetId=" in after) and name in out:
            continue
        out.setdefault(name, _split_ref(body))
    out.frozen = frozenset(out.items())
    return out


# ---- python-calamine ---------------------------------------------------------------------
def _is_worksheet(meta) -> bool:
    typ = str(meta.typ)
    return typ in ("SheetTypeEnum.WorkSheet", "WorkSheet") or "WorkSheet" in typ


def _grid_calamine(data: bytes, names, infos: dict[str, zipfile.ZipInfo] | None = None) -> Grid:
    """infos: the zip's members (ZipFile.NameToInfo), when the pre-flight has opened it already."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    try:
        wanted = None
        if _has_pe(names):  # template: only the sheets the names point at, plus 设置
            wanted = {s for s, _ in names.values() if s}
        grid = Grid(formulas_known=False, formats_known=False)
        grid.all_sheets = [m.name for m in wb.sheets_metadata if _is_worksheet(m)]
        errors = _ErrorCells(data, infos) if data[:2] == b"PK" else None
        skipped = False
        for meta in wb.sheets_metadata:
            if not _is_worksheet(meta):
                continue
            name = meta.name
            if wanted is not None and name not in wanted and name.strip() != L.SHEET_SETTINGS:
                skipped = True  # template: the names say where everything is
                continue
            _add_calamine_sheet(grid, wb, name, errors)
        if skipped:  # read only if the names turn out to point nowhere (mapping falls back to labels)
            grid.sheet_loader = lambda g: _load_skipped_sheets(g, data, errors)
        return grid
    finally:
        try:
            wb.close()
        except Exception:
            pass


def _add_calamine_sheet(grid: Grid, wb, name: str, errors) -> None:
    sh = wb.get_sheet_by_name(name)
    rows = sh.to_python(skip_empty_area=False, nrows=MAX_ROWS)  # rows[0][0] is A1
    sg = grid.add_sheet(name, rows)
    sg.merge_loader = _merges_of(sh)  # read only when asked (the names path never asks)
    if errors is not None:
        sg.error_loader = lambda: errors.of(name)


def _load_skipped_sheets(grid: Grid, data: bytes, errors) -> bool:
    """Add the sheets _grid_calamine skipped, keeping the workbook's sheet order."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    try:
        have = dict(grid.sheets)
        order = [m.name for m in wb.sheets_metadata if _is_worksheet(m)]
        added = False
        for name in order:
            if name not in have:
                _add_calamine_sheet(grid, wb, name, errors)
                added = True
        grid.sheets = {n: grid.sheets[n] for n in order if n in grid.sheets} | {
            n: sg for n, sg in grid.sheets.items() if n not in order}
        return added
    finally:
        try:
            wb.close()
        except Exception:
            pass


_SHEET_TAG = re.compile(r"<(?:\w+:)?sheet\b([^>]*)>")
_REL_TAG = re.compile(r"<(?:\w+:)?Relationship\b([^>]*)>")
_ATTR = re.compile(r'([\w:]+)\s*=\s*"([^"]*)"')
_ERROR_START = re.compile(rb'<(?:\w+:)?c\s[^>]*?\bt="e"[^>]*>')
_CELL_REF = re.compile(rb'\br="\$?([A-Za-z]{1,3})\$?(\d+)"')
_CELL_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>|</(?:\w+:)?c>")


class _ErrorCells:
    """Cached error values of formula cells, read from the sheet XML: python-calamine reads an error
    as '', like a formula with no result. Asked only about a blank template formula cell in a file
    whose other formulas carry results; the sheet's part is then inflated straight from the file's
    bytes (~0.05 ms), and the sheet-to-part map is remembered for files of one template."""

    def __init__(self, data: bytes, infos: dict[str, zipfile.ZipInfo] | None = None):
        self.data = data
        self.infos = infos

    def of(self, sheet: str) -> dict[tuple[int, int], str]:
        from .grid import col_index

        if self.infos is None:
            with zipfile.ZipFile(io.BytesIO(self.data)) as zf:
                self.infos = zf.NameToInfo
        part = self._parts().get(sheet)
        xml = self._member(part) if part is not None else None
        out: dict[tuple[int, int], str] = {}
        if not xml or b't="e"' not in xml:
            return out
        for m in _ERROR_START.finditer(xml):
            tag = m.group(0)
            ref = _CELL_REF.search(tag)
            if ref is None or tag.endswith(b"/>"):
                continue
            v = _CELL_VALUE.search(xml, m.end())
            if v is None or v.group(1) is None:
                continue  # the cell closed without a value
            text = unescape(v.group(1).decode("utf-8", "replace")).strip()
            if text.startswith("#"):
                out[(int(ref.group(2)), col_index(ref.group(1).decode()))] = text
        return out

    def _member(self, name: str) -> bytes | None:
        info = self.infos.get(name)
        if info is None:
            return None
        stored = _stored_bytes(self.data, info)
        try:
            if stored is not None and info.compress_type == zipfile.ZIP_DEFLATED:
                return zlib.decompress(stored, -15)
            if stored is not None and info.compress_type == zipfile.ZIP_STORED:
                return stored
            with zipfile.ZipFile(io.BytesIO(self.data)) as zf:
                return zf.read(name)
        except (zlib.error, zipfile.BadZipFile, KeyError, OSError, NotImplementedError):
            return None

    def _parts(self) -> dict[str, str]:
        keys = []
        for name in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
            info = self.infos.get(name)
            stored = _stored_bytes(self.data, info) if info is not None else None
            if stored is None or info.file_size > 5_000_000:
                return {}
            keys.append((info.compress_type, info.file_size, stored))
        key = tuple(keys)
        hit = _PARTS_BY_BOOK.get(key)
        if hit is None:
            book, rels = self._member("xl/workbook.xml"), self._member("xl/_rels/workbook.xml.rels")
            hit = _sheet_parts(book, rels) if book and rels else {}
            if len(_PARTS_BY_BOOK) >= 64:
                _PARTS_BY_BOOK.clear()
            _PARTS_BY_BOOK[key] = hit
        return hit


_PARTS_BY_BOOK: dict[tuple, dict[str, str]] = {}  # workbook.xml and its rels as stored -> sheet parts


def _sheet_parts(book: bytes, rels: bytes) -> dict[str, str]:
    """Sheet name -> its part in the zip ("xl/worksheets/sheet1.xml"), from workbook.xml and its rels."""
    book_t, rels_t = book.decode("utf-8", "replace"), rels.decode("utf-8", "replace")
    targets = {}
    for m in _REL_TAG.finditer(rels_t):
        a = dict(_ATTR.findall(m.group(1)))
        if "Id" in a and "Target" in a:
            t = unescape(a["Target"])
            targets[a["Id"]] = t.lstrip("/") if t.startswith("/") else "xl/" + t
    out = {}
    for m in _SHEET_TAG.finditer(book_t):
        a = _ATTR.findall(m.group(1))
        name = next((unescape(v) for k, v in a if k == "name"), None)
        rid = next((v for k, v in a if k.endswith(":id") or k == "id"), None)
        if name is not None and rid in targets:
            out[name] = targets[rid]
    return out


def _merges_of(sh):
    def load():
        out = []
        try:
            for (r1, c1), (r2, c2) in sh.merged_cell_ranges or ():
                out.append((r1 + 1, c1 + 1, r2 + 1, c2 + 1))
        except Exception:
            pass  # formats without merge information
        return out

    return load


# ---- openpyxl ----------------------------------------------------------------------------
def _grid_openpyxl(data: bytes):
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), data_only=False, keep_links=False, rich_text=False)
    cached = openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=True, keep_links=False)
    try:
        names: dict[str, tuple[str, str]] = {}
        for name, dn in wb.defined_names.items():
            names[name] = _dn_target(dn)
        for ws in wb.worksheets:
            for name, dn in ws.defined_names.items():
                names.setdefault(name, _dn_target(dn))
        grid = Grid(formulas_known=True, formats_known=True)
        for ws in wb.worksheets:
            max_row = min(ws.max_row, MAX_ROWS)
            max_col = min(ws.max_column, 200)
            rows = [[None] * max_col for _ in range(max_row)]
            formulas: dict[tuple[int, int], str] = {}
            formats: dict[tuple[int, int], str] = {}
            for (r, c), cell in ws._cells.items():  # only cells that exist; faster than iter_rows
                if r > max_row or c > max_col:
                    continue
                v = cell.value
                if cell.data_type == "f":
                    formulas[(r, c)] = v if isinstance(v, str) else getattr(v, "text", None) or str(v)
                    v = None  # the cached value is filled below
                rows[r - 1][c - 1] = v
                fmt = cell.number_format
                if fmt != "General":
                    formats[(r, c)] = fmt
            blank_results: set[tuple[int, int]] = set()
            if formulas:
                cws = cached[ws.title]
                for r, cells in enumerate(cws.iter_rows(min_row=1, max_row=max_row, max_col=max_col), start=1):
                    for c, cell in enumerate(cells, start=1):
                        if (r, c) in formulas:
                            v = cell.value
                            rows[r - 1][c - 1] = v
                            if v is None and cell.data_type == "str":
                                blank_results.add((r, c))  # a cached "" (IF(...,"",...)), not a missing value
            merged = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
            sg = grid.add_sheet(ws.title, rows, merged, formulas, formats)
            sg.blank_results = blank_results
        return grid, names
    finally:
        cached.close()


def _dn_target(dn) -> tuple[str, str]:
    if "#REF!" in (dn.attr_text or "").upper():
        return "", BROKEN_REF
    try:
        dests = list(dn.destinations)
    except Exception:
        dests = []
    if dests:
        sheet, ref = dests[0]
        return sheet, ref
    return _split_ref(dn.attr_text or "")
