"""Pre-flight checks before any parser touches a file: what it is, and whether it is safe to open.

Interface (kept stable): preflight(path) -> format string ("xlsx", "xlsm", "xls", "ods"),
or raises ReadError with a Chinese reason. preflight_open(path) does the same checks and hands
over what it read (Checked: the format, the file's bytes, the zip opened on them) so that the
reader does not read and unzip the file a second time.
The format comes from the bytes, not the extension: a CSV renamed to .xlsx, an encrypted workbook
(an OLE2 container, not a zip), a zip bomb or an XML entity bomb are refused here with a message
the clerk can act on.

Limits are module-level settings (change them before calling, e.g. safety.MAX_ROWS = 50_000).
openpyxl parses XML through defusedxml when it is installed (it is a dependency); in addition
we refuse any workbook XML part that declares a DOCTYPE or ENTITY, which no Excel file needs.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import struct
import zipfile
import zlib

from .errors import ReadError

SUPPORTED = ("xlsx", "xlsm", "xls", "ods")

# ---- limits (defaults stated; every one is named in its refusal message) --------------------
MAX_FILE_BYTES = 100 * 1024 * 1024  # 100 MB on disk
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # 200 MB of XML once unzipped
MAX_RATIO = 100  # unpacked / packed, per member larger than RATIO_MIN_BYTES
RATIO_MIN_BYTES = 1024 * 1024  # small parts compress well and are harmless
MAX_MEMBERS = 5_000  # parts in the zip
MAX_ROWS = 20_000  # rows per worksheet (<dimension>); a form has < 500
MAX_COLUMNS = 1_000  # columns per worksheet
# The REAL extent of each sheet, from every cell and row reference and merge in its XML (not the <dimension>
# claim): python-calamine allocates rows x columns of its used range at once (one cell at XFD1048576 asks for
# 512 GB), openpyxl makes an object for every cell of every merged range.
MAX_CELLS = 2_000_000  # rows x columns of a sheet's used range (calamine: ~40 bytes each, so <= ~80 MB)
MAX_MERGES = 10_000  # merged ranges per sheet
MAX_MERGED_CELLS = 1_000_000  # cells covered by merged ranges, per sheet
SCAN_CHUNK = 1 << 20  # bytes of sheet XML scanned at a time (streaming: memory stays flat)
WHOLE_READ_BYTES = 16 * 1024 * 1024  # files up to this size are read once into memory for the scan
PROLOG_BYTES = 4096  # how much of each XML part is scanned for DOCTYPE / ENTITY / dimension

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")

_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)
_ROOT_REL = re.compile(rb"Type=\"[^\"]*/officeDocument\"[^>]*Target=\"([^\"]+)\"|Target=\"([^\"]+)\"[^>]*Type=\"[^\"]*/officeDocument\"")
# Real extents: only references that could break a limit are looked at. A chunk of sheet XML is first stripped of
# whitespace (so that r = 'B7', a tab or newline before r, all read r='B7'; bytes.translate runs at memory speed),
# numeric character references in it are decoded when there are any (r="&#88;FD1" is XFD1 to an XML parser), then
# one regex with a literal prefix finds the references with at least N row digits or L column letters: small
# references fail on their first characters. _ref_patterns builds it from the limits (which are settings).
_WHITESPACE = b" \t\n\r"
_QUOTES = bytes.maketrans(b"'", b'"')  # r='B7' reads r="B7"
_MERGE_REF = re.compile(rb'[^>]{0,300}?ref="\$?([A-Za-z]{1,4})\$?([0-9]{1,10})(?::\$?([A-Za-z]{1,4})\$?([0-9]{1,10}))?"')
# only the references to the characters a cell reference is made of (" $ ' 0-9 = A-Z a-z, codes 34..122): a
# &#10; in a text costs nothing
_CHARREF = re.compile(rb"&#(?:[xX]0*(2[2-9A-Fa-f]|[3-6][0-9A-Fa-f]|7[0-9Aa])|0*(3[4-9]|[4-9][0-9]|1[01][0-9]|12[0-2]));")
_FULL_REF = re.compile(rb"""["']\$?([A-Za-z]{0,4})\$?([0-9]+)""")
_REF_CACHE: dict = {}


class _Shifted:
    """A match found in a decoded copy, placed back at the offset of the original text."""

    def __init__(self, m: re.Match, offset: int):
        self.m, self.offset = m, offset

    def end(self) -> int:
        return self.m.end() + self.offset

    def groups(self):
        return self.m.groups()


def _decode_charrefs(buf: bytes) -> bytes:
    def one(m: re.Match) -> bytes:
        n = int(m.group(1), 16) if m.group(1) else int(m.group(2))
        return bytes([n]) if n < 128 else m.group(0)
    return _CHARREF.sub(one, buf)


def _ref_patterns():
    """(pattern, rows bound, columns bound, hits): the pattern finds, in whitespace-free XML, the references with
    at least N row digits or L column letters; the bounds are the largest row / column one it does NOT find names.
    hits: the pattern's matches that _check_extent reads something from (its big branch where _FULL_REF reads a
    reference, its character-reference branch), with the same span; the thousands of small references are
    dismissed by a lookahead before any branch is tried (~3x faster than finditer of the pattern and a match each)."""
    key = (MAX_ROWS, MAX_COLUMNS)
    hit = _REF_CACHE.get(key)
    if hit is None:
        n = max(1, min(4, len(str(MAX_ROWS))))
        cols, letters = MAX_COLUMNS, 0
        while cols > 0:
            cols, letters = (cols - 1) // 26, letters + 1
        ell = max(1, min(2, letters))
        big = rb"\$?(?:[A-Za-z]{%d}|[A-Za-z]{0,4}\$?[0-9]{%d})" % (ell, n)
        amp = rb'[^"]{0,80}?&#'
        small = rb'[A-Z]{0,%d}[0-9]{0,%d}"' % (ell - 1, n - 1)  # fewer letters and digits than big needs
        full = rb"\$?[A-Za-z]{0,4}\$?[0-9]"  # _FULL_REF after its quote
        # a value holding a character reference (r="&#88;FD1") is a candidate too: decoded, then read
        # hits' first branch (its only group) flags a value running into the next r=" (r="r="XFD9"): the pattern
        # consumes the first r="r and so never sees the second; the caller then takes the pattern's own matches
        hit = (re.compile(rb'r="(?:' + big + rb"|" + amp + rb")"), 10 ** (n - 1) - 1, 0 if ell == 1 else 26,
               re.compile(rb'r="(?!' + small + rb')(?:(?=[$A-Za-z0-9]*r=")()|(?=' + big + rb")(?=" + full + rb")|(?!"
                          + big + rb")" + amp + rb")"))
        _REF_CACHE.clear()
        _REF_CACHE[key] = hit
    return hit


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]*)([0-9]*)(?::([A-Z]*)([0-9]*))?\"")


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


class Checked:
    """What preflight_open saw: fmt; data, the file's bytes when it was read whole (files up to
    WHOLE_READ_BYTES), else None; zf, the zip opened on them (zip formats; None for .xls), for the
    reader to reuse. Close it (or use it as a context manager) when done."""

    __slots__ = ("path", "fmt", "data", "zf")

    def __init__(self, path: str, fmt: str, data: bytes | None = None, zf: zipfile.ZipFile | None = None):
        self.path, self.fmt, self.data, self.zf = path, fmt, data, zf

    def close(self) -> None:
        if self.zf is not None:
            self.zf.close()
            self.zf = None

    def __enter__(self) -> "Checked":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def preflight(path: str) -> str:
    """Identify the workbook format by content and refuse unsafe or unreadable files."""
    with preflight_open(path) as checked:
        return checked.fmt


def preflight_open(path: str) -> Checked:
    """preflight, keeping what was read: the same checks, the same refusals (ReadError)."""
    path = os.fspath(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ReadError(path, "文件不存在") from None
    except OSError as e:
        raise ReadError(path, f"无法访问文件（{e.strerror or e}）") from None
    if stat.S_ISDIR(st.st_mode):
        raise ReadError(path, "这是一个文件夹，不是工作簿文件")
    if not stat.S_ISREG(st.st_mode):
        raise ReadError(path, "不是普通文件（可能是设备或管道），无法作为工作簿读取")
    if st.st_size == 0:
        raise ReadError(path, "文件为空（0 字节），可能未保存完整或下载失败，请重新提交")
    if st.st_size > MAX_FILE_BYTES:
        raise ReadError(path, f"文件过大（{st.st_size / 1048576:.1f} MB，上限 {MAX_FILE_BYTES // 1048576} MB），"
                              "不像一份自评表，请检查是否粘贴了大量无关数据")
    data = None
    try:
        with open(path, "rb") as fh:
            if st.st_size <= WHOLE_READ_BYTES:  # one read serves the scan and the reader
                data = fh.read()
                head = data[:8]
            else:
                head = fh.read(8)
    except PermissionError:
        raise ReadError(path, "没有读取该文件的权限，请检查文件权限或是否被其他程序独占") from None
    except OSError as e:
        raise ReadError(path, f"无法读取文件（{e.strerror or e}）") from None

    if head.startswith(ZIP_MAGICS):
        if data is not None and len(data) != st.st_size:
            data = None  # changed while we read it: let zipfile read it from disk, as before
        return _check_zip(path, data)
    if head == OLE2_MAGIC:
        return Checked(path, _check_ole2(path, st.st_size, data), data)
    raise ReadError(path, _describe_non_workbook(path))


# ---- OLE2 (.xls, or an encrypted .xlsx) ------------------------------------------------------

def _check_ole2(path: str, size: int, whole: bytes | None = None) -> str:
    # Directory entries hold stream names in UTF-16LE; scanning the bytes finds them without a
    # CFB parser. Encrypted OOXML = an OLE2 file with EncryptionInfo + EncryptedPackage streams.
    if whole is not None and len(whole) == size:
        data = whole[:32 * 1024 * 1024]
    else:
        with open(path, "rb") as fh:
            data = fh.read(min(size, 32 * 1024 * 1024))
    if _utf16("EncryptedPackage") in data or _utf16("EncryptionInfo") in data:
        raise ReadError(path, "文件已加密（设有打开密码），无法读取。请在 Excel 中去除密码"
                              "（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码）后重新提交")
    if _utf16("Workbook") in data or _utf16("Book") in data:
        return "xls"
    if _utf16("WordDocument") in data:
        raise ReadError(path, "这是 Word 文档（.doc），不是 Excel 工作簿")
    raise ReadError(path, "这是 OLE2 复合文档，但其中没有 Excel 工作簿数据，无法读取")


# ---- zip (xlsx, xlsm, ods) -------------------------------------------------------------------

def _check_zip(path: str, data: bytes | None = None) -> Checked:
    if data is None and os.path.getsize(path) <= WHOLE_READ_BYTES:
        with open(path, "rb") as fh:
            data = fh.read()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data) if data is not None else path)
    except zipfile.BadZipFile:
        raise ReadError(path, "文件已损坏（压缩包结构不完整，可能未下载或复制完整），请重新保存后提交") from None
    except (OSError, ValueError) as e:
        raise ReadError(path, f"文件已损坏，无法打开（{e}）") from None
    try:
        fmt = _scan_zip(path, zf, data)
    except BaseException:
        zf.close()
        raise
    return Checked(path, fmt, data, zf)


def _scan_zip(path: str, zf: zipfile.ZipFile, data: bytes | None) -> str:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ReadError(path, f"压缩包内部件过多（{len(infos)} 个，上限 {MAX_MEMBERS} 个），疑似异常构造的文件，已拒绝读取")
    total = 0
    for info in infos:
        if info.file_size < 0 or info.compress_size < 0:
            raise ReadError(path, "文件已损坏（压缩包目录异常）")
        total += info.file_size
        if info.file_size > RATIO_MIN_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > MAX_RATIO:
                raise ReadError(path, f"压缩比异常（部件 {info.filename} 解压后是压缩前的 {ratio:.0f} 倍，上限 "
                                      f"{MAX_RATIO} 倍），疑似“压缩炸弹”，已拒绝读取")
    if total > MAX_UNPACKED_BYTES:
        raise ReadError(path, f"文件解压后过大（{total / 1048576:.0f} MB，上限 {MAX_UNPACKED_BYTES // 1048576} MB），"
                              "疑似“压缩炸弹”或含有大量无关数据，已拒绝读取")
    names = {i.filename for i in infos}
    if "mimetype" in names:
        return _check_ods(path, zf, names)
    if "[Content_Types].xml" not in names:
        raise ReadError(path, "不是 Excel 工作簿（压缩包中缺少 [Content_Types].xml），可能是其他压缩文件改了扩展名")
    workbook_part = _workbook_part(path, zf, names, data)
    if workbook_part is None:
        if any(n.startswith("word/") for n in names):
            raise ReadError(path, "这是 Word 文档（.docx），不是 Excel 工作簿")
        if any(n.startswith("ppt/") for n in names):
            raise ReadError(path, "这是 PowerPoint 演示文稿，不是 Excel 工作簿")
        raise ReadError(path, "不是 Excel 工作簿（压缩包中缺少 xl/workbook.xml）")
    for info in infos:
        if info.filename.endswith((".xml", ".rels", ".vml")):
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                _check_sheet(path, zf, info, data)
                continue
            prolog = _head(path, zf, data, info)
            if b"<!" in prolog and _DOCTYPE.search(prolog):  # "in" first: ~10x cheaper than the search
                raise ReadError(path, _doctype_message(info.filename))
    ctypes = _head(path, zf, data, zf.getinfo("[Content_Types].xml"), 1 << 16)
    if b"macroEnabled" in ctypes or "xl/vbaProject.bin" in names:
        return "xlsm"
    return "xlsx"


def _doctype_message(part: str) -> str:
    return (f"部件 {part} 含有 XML 实体声明（DOCTYPE/ENTITY），"
            "正常的 Excel 文件不会有，疑似恶意构造（XML 实体炸弹），已拒绝读取")


def _check_sheet(path: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes | None) -> None:
    """A worksheet part: DOCTYPE, <dimension> claim, real extent; skipped when these very bytes passed before."""
    key = _passed_key(data, info)
    record = None
    if key is not None:
        (key, off, end) = key
        record = data[off:end]
        if _PASSED.get(key) == record:
            return  # these very bytes passed every check below already (a sheet its template left alone)
    whole = _whole_sheet(data, info)
    # small sheets (all of them in practice) are inflated once, for the prolog and the scan alike
    prolog = whole[:_HEAD_N] if whole is not None else _head(path, zf, data, info)
    if b"<!" in prolog and _DOCTYPE.search(prolog):
        raise ReadError(path, _doctype_message(info.filename))
    _check_dimension(path, info.filename, prolog)
    _check_extent(path, zf, info, data, whole)
    if record is not None:
        global _PASSED_BYTES
        if len(_PASSED) >= _PASSED_MAX or _PASSED_BYTES + len(record) > _PASSED_MAX_BYTES:
            _PASSED.clear()
            _PASSED_BYTES = 0
        _PASSED[key] = record
        _PASSED_BYTES += len(record)


# Worksheet parts that passed the DOCTYPE, dimension and real-extent checks: everything those checks read (the
# limits, the member's directory entry) -> its local record (header + compressed bytes), compared byte for byte.
# Files made from one template carry many byte-identical sheets (填报说明, untouched tables): each is scanned once.
# Only passes are remembered; a refusal is found again every time. Bounded (entries and bytes): cleared when full.
_PASSED: dict = {}
_PASSED_MAX = 4096
_PASSED_MAX_BYTES = 32 * 1024 * 1024
_PASSED_BYTES = 0


def _record_start(data: bytes | None, info: zipfile.ZipInfo) -> int | None:
    """Where a plainly stored or deflated member's compressed bytes start in the archive bytes; None when there are
    no bytes, the member is encrypted or compressed otherwise, or its local header looks odd (zipfile's way then)."""
    if data is None or info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return None
    off = info.header_offset
    head = data[off:off + 30]
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        return None
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    return off + 30 + name_len + extra_len


def _passed_key(data: bytes | None, info: zipfile.ZipInfo):
    """(_PASSED key, start, end of the local record in data) of a plainly stored or deflated member read from the
    archive bytes; None otherwise. The record is compared, not hashed: a slice and a memcmp are ~10x cheaper than a
    digest, and exact."""
    start = _record_start(data, info)
    if start is None:
        return None
    off = info.header_offset
    end = start + info.compress_size
    if end > len(data):
        return None  # truncated: scanned (and refused) the ordinary way
    return ((MAX_ROWS, MAX_COLUMNS, MAX_CELLS, MAX_MERGES, MAX_MERGED_CELLS, SCAN_CHUNK, PROLOG_BYTES,
             info.filename, info.CRC, info.file_size, info.compress_size, info.compress_type, info.flag_bits),
            off, end)


def _whole_sheet(data: bytes | None, info: zipfile.ZipInfo) -> bytes | None:
    """The whole XML of a member whose compressed bytes fit in _fast_head's window and whose XML fits in one scan
    chunk, straight from the archive bytes; then whole[:_HEAD_N] is exactly _fast_head's prolog and [whole]
    exactly _member_chunks' chunks. None otherwise, or at any doubt (damage, a BOM): the ordinary way then says it."""
    if not 0 < info.compress_size <= _HEAD_N * 4 + 1024:
        return None
    start = _record_start(data, info)
    if start is None:
        return None
    raw = data[start:start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        out = raw
    else:
        # one call (~30% cheaper than a bounded decompressobj): at most ~1032x the <= 17 KB in, so <= ~18 MB; a
        # complete stream gives what the streaming inflate gives, an incomplete or damaged one raises
        try:
            out = zlib.decompress(raw, -15)
        except zlib.error:
            return None
    if not out or len(out) >= SCAN_CHUNK or out.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    return out


# The prolog size the head readers use: PROLOG_BYTES as it was at import (their default argument, bound then).
_HEAD_N = PROLOG_BYTES


def _head(path: str, zf: zipfile.ZipFile, data: bytes | None, info: zipfile.ZipInfo, n: int = _HEAD_N) -> bytes:
    out = _fast_head(data, info, n) if data is not None else None
    return out if out is not None else _read_head(path, zf, info, n)


_HEADS: dict[tuple, bytes] = {}  # (n, compressed bytes) -> head: parts that files of one template share
_HEADS_MAX = 256
_VARYING_PARTS = ("xl/worksheets/", "xl/sharedStrings")  # differ from file to file: not remembered


def _fast_head(data: bytes, info: zipfile.ZipInfo, n: int = _HEAD_N) -> bytes | None:
    """The first n bytes of a member straight from the archive bytes (no ZipExtFile: ~10x cheaper).
    None when the member is not plainly stored or deflated, or looks odd: the caller then uses zipfile.
    The same compressed bytes always give the same head, so heads of the parts that files made from
    one template share byte for byte (styles, workbook, rels) are remembered, keyed by those bytes."""
    start = _record_start(data, info)
    if start is None:
        return None
    chunk = data[start:start + min(info.compress_size, n * 4 + 1024)]
    key = None
    if len(chunk) <= 4096 and not info.filename.startswith(_VARYING_PARTS):
        key = (n, info.compress_type, chunk)
        out = _HEADS.get(key)
        if out is not None:
            return out
    if info.compress_type == zipfile.ZIP_STORED:
        out = chunk[:n]
    else:
        try:
            out = zlib.decompressobj(-15).decompress(chunk, n)
        except zlib.error:
            return None  # let zipfile report the damage
    if out.startswith(b"\xff\xfe") or out.startswith(b"\xfe\xff"):
        return None
    if key is not None:
        if len(_HEADS) >= _HEADS_MAX:
            _HEADS.clear()
        _HEADS[key] = out
    return out


def _read_head(path: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo, n: int = _HEAD_N) -> bytes:
    try:
        with zf.open(info) as fh:
            data = fh.read(n)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError) as e:
        raise ReadError(path, f"文件已损坏（部件 {info.filename} 无法解压：{e}）") from None
    except RuntimeError as e:  # zip-level password
        raise ReadError(path, f"文件已加密，无法读取（{e}）") from None
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        try:
            data = data.decode("utf-16").encode("utf-8", "replace")
        except UnicodeDecodeError:
            pass
    return data


def _workbook_part(path: str, zf: zipfile.ZipFile, names: set[str], data: bytes | None) -> str | None:
    if "_rels/.rels" in names:
        rels = _head(path, zf, data, zf.getinfo("_rels/.rels"), 1 << 16)
        m = _ROOT_REL.search(rels)
        if m:
            target = (m.group(1) or m.group(2)).decode("utf-8", "replace").lstrip("/")
            if target in names and target.startswith("xl/"):
                return target
    return "xl/workbook.xml" if "xl/workbook.xml" in names else None


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def _check_dimension(path: str, part: str, prolog: bytes) -> None:
    m = _DIMENSION.search(prolog)
    if not m:
        return
    last_col = m.group(3) or m.group(1)
    last_row = m.group(4) or m.group(2)
    rows = int(last_row) if last_row else 0
    cols = _col_number(last_col) if last_col else 0
    if rows > MAX_ROWS:
        raise ReadError(path, f"工作表（{part}）有 {rows} 行，超过上限 {MAX_ROWS} 行，不像一份自评表；"
                              "请删除无关数据后重新提交")
    if cols > MAX_COLUMNS:
        raise ReadError(path, f"工作表（{part}）有 {cols} 列，超过上限 {MAX_COLUMNS} 列，不像一份自评表")


def _col_of(letters: bytes) -> int:
    n = 0
    for ch in letters.upper().replace(b"$", b""):
        n = n * 26 + (ch - 64)
    return n


def _member_chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes | None):
    """The member's bytes, SCAN_CHUNK at a time: straight from the archive bytes when we have them (a
    deflate stream decompressed here, ~10x cheaper than a ZipExtFile for a small part), else via zipfile."""
    start = _record_start(data, info)
    if start is None:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(SCAN_CHUNK)
                if not chunk:
                    return
                yield chunk
    raw = memoryview(data)[start:start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        for i in range(0, len(raw), SCAN_CHUNK):
            yield bytes(raw[i:i + SCAN_CHUNK])
        return
    d = zlib.decompressobj(-15)
    pending = bytes(raw)
    while pending:
        out = d.decompress(pending, SCAN_CHUNK)
        pending = d.unconsumed_tail
        if out:
            yield out
        elif not pending:
            break
    rest = d.flush()
    if rest:
        yield rest


_PLAIN_MERGE = re.compile(rb'mergeCellref="\$?([A-Za-z]{1,4})\$?([0-9]{1,10})(?::\$?([A-Za-z]{1,4})\$?([0-9]{1,10}))?"')
_MERGES_SEEN: dict = {}  # the merges part of a sheet, as bytes -> its sums (files of one template share it)


def _merge_extent(mm) -> tuple[int, int, int]:
    """(cells covered, largest column, largest row) of a merged range matched by _MERGE_REF or _PLAIN_MERGE."""
    c1, r1, c2, r2 = mm.groups()
    a, b = _col_of(c1), int(r1)
    c, d = (_col_of(c2), int(r2)) if c2 else (a, b)
    return (abs(c - a) + 1) * (abs(d - b) + 1), max(a, c), max(b, d)


def _plain_merges(flat: bytes, at: int, seen: int):
    """(merges, cells merged, largest column, largest row) of the merged ranges of flat from `at` (its first
    "mergeCell"), when every <mergeCell> there is written plainly (mergeCellref="A1:B2"): _MERGE_REF reads exactly
    that of each (its lazy prefix matches nothing). None when any is written otherwise: then the loop reads each."""
    plain = list(_PLAIN_MERGE.finditer(flat, at))
    if not plain or len(plain) != flat.count(b"mergeCell", at) - flat.count(b"mergeCells", at):
        return None
    region = flat[plain[0].start():plain[-1].end()] if seen == 0 else None  # its sums depend on these bytes only
    hit = _MERGES_SEEN.get(region)
    if hit is not None:
        return hit
    merges = merged = max_col = max_row = 0
    for mm in plain:
        if mm.end() <= seen:
            continue
        merges += 1
        cells, col, row = _merge_extent(mm)
        merged += cells
        max_col, max_row = max(max_col, col), max(max_row, row)
    hit = (merges, merged, max_col, max_row)
    if region is not None and len(region) <= 16384:
        if len(_MERGES_SEEN) >= 256:
            _MERGES_SEEN.clear()
        _MERGES_SEEN[region] = hit
    return hit


def _check_extent(path: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes | None = None,
                  whole: bytes | None = None) -> None:
    """Scan a worksheet part's XML once, streaming, for its real extent: the largest row and column any
    cell or row reference names, and the merged ranges. Linear in the part's size, flat in memory.
    whole: the part's XML when _whole_sheet had it (one chunk: no generator, no second inflate)."""
    part = info.filename
    max_row = max_col = merges = merged = 0
    tail = b""
    try:
        for chunk in ((whole,) if whole is not None else _member_chunks(zf, info, data)):
            buf = tail + chunk
            pattern, _, _, hits = _ref_patterns()
            flat = buf.translate(_QUOTES, _WHITESPACE)
            found = list(hits.finditer(flat))
            if found and any(m.lastindex for m in found):
                # a value running into the next r=" (r="r="XFD9"): the pattern's own matches, each hiding what
                # starts inside it, exactly as before
                found = pattern.finditer(flat)
            for m in found:
                if flat.endswith(b"&#", 0, m.end()):
                    end = flat.find(b'"', m.end())
                    value = _decode_charrefs(flat[m.start() + 2:end + 1 if end >= 0 else m.end() + 200])
                    full = _FULL_REF.match(value.translate(_QUOTES, _WHITESPACE))
                else:
                    full = _FULL_REF.match(flat, m.start() + 2)
                if full:
                    c, r = full.groups()
                    if c:
                        max_col = max(max_col, _col_of(c))
                    max_row = max(max_row, int(r))
            seen = len(tail.translate(None, _WHITESPACE))  # merges ending in the tail were counted already
            at = flat.find(b"mergeCell")
            if at >= 0:
                plain = _plain_merges(flat, at, seen)
                if plain is not None:
                    merges, merged = merges + plain[0], merged + plain[1]
                    max_col, max_row = max(max_col, plain[2]), max(max_row, plain[3])
                    at = -1
            while at >= 0:
                nxt = flat.find(b"mergeCell", at + 9)
                if flat[at + 9:at + 10] == b"s":  # the <mergeCells> container
                    at = nxt
                    continue
                mm = _MERGE_REF.match(flat, at + 9)
                if mm is None and b"&#" in flat[at:at + 400]:  # ref="&#65;1:XFD9": decoded, then read
                    mm = _MERGE_REF.match(_decode_charrefs(flat[at + 9:at + 400]).translate(_QUOTES, _WHITESPACE))
                    mm = mm if mm is None else _Shifted(mm, at + 9)
                at = nxt
                if mm is None or mm.end() <= seen:
                    continue
                merges += 1
                cells, col, row = _merge_extent(mm)
                merged += cells
                max_col, max_row = max(max_col, col), max(max_row, row)
            tail = buf[-64:]
            if max_row > MAX_ROWS or max_col > MAX_COLUMNS or merged > MAX_MERGED_CELLS or merges > MAX_MERGES:
                break  # refused below: no need to read the rest
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError) as e:
        raise ReadError(path, f"文件已损坏（部件 {part} 无法解压：{e}）") from None
    except RuntimeError as e:  # zip-level password
        raise ReadError(path, f"文件已加密，无法读取（{e}）") from None
    _, row_bound, col_bound, _ = _ref_patterns()
    max_row, max_col = max(max_row, min(row_bound, MAX_ROWS)), max(max_col, min(col_bound, MAX_COLUMNS))
    where = f"工作表（{part}）"
    if max_row > MAX_ROWS:
        raise ReadError(path, f"{where}实际用到第 {max_row} 行，超过上限 {MAX_ROWS} 行，不像一份自评表；"
                              "请删除远处的无关单元格后重新提交")
    if max_col > MAX_COLUMNS:
        raise ReadError(path, f"{where}实际用到第 {max_col} 列，超过上限 {MAX_COLUMNS} 列，不像一份自评表；"
                              "请删除远处的无关单元格后重新提交")
    if max_row * max_col > MAX_CELLS:
        raise ReadError(path, f"{where}的使用范围 {max_row} 行 × {max_col} 列，超过上限 {MAX_CELLS} 个单元格，"
                              "读取会占用过多内存，已拒绝")
    if merges > MAX_MERGES:
        raise ReadError(path, f"{where}有 {merges} 个以上合并区域，超过上限 {MAX_MERGES} 个，疑似异常构造，已拒绝")
    if merged > MAX_MERGED_CELLS:
        raise ReadError(path, f"{where}的合并区域共覆盖 {merged} 个以上单元格，超过上限 {MAX_MERGED_CELLS} 个，"
                              "疑似异常构造（如合并整张表），已拒绝")


def preflight_bytes(path: str, data: bytes) -> str:
    """The same checks as preflight, on bytes already read (the writers verify what they will open)."""
    if data[:4] in ZIP_MAGICS or data[:4] == b"PK\x03\x04":
        with _check_zip(path, data):
            pass
        return "xlsx"
    return preflight(path)


def check_openpyxl_safe(path: str, data: bytes | None = None) -> None:
    """Before openpyxl loads a workbook (--formulas, --annotate, --in-place, a converted .xls/.ods):
    the same refusals as preflight, on the bytes it will load."""
    if data is not None and data[:4] == b"PK\x03\x04":
        with _check_zip(path, data):
            return
    preflight(path)


def check_sheet_height(path: str, sheet: str, rows: int, columns: int = 0) -> None:
    """For readers that learn a sheet's size after opening (calamine height, .xls, .ods)."""
    if rows > MAX_ROWS:
        raise ReadError(path, f"工作表“{sheet}”有 {rows} 行，超过上限 {MAX_ROWS} 行，不像一份自评表；请删除无关数据后重新提交")
    if columns > MAX_COLUMNS:
        raise ReadError(path, f"工作表“{sheet}”有 {columns} 列，超过上限 {MAX_COLUMNS} 列，不像一份自评表")


def _check_ods(path: str, zf: zipfile.ZipFile, names: set[str]) -> str:
    mime = _read_head(path, zf, zf.getinfo("mimetype"), 200).strip()
    if mime != b"application/vnd.oasis.opendocument.spreadsheet":
        kind = mime.decode("ascii", "replace") or "未知"
        raise ReadError(path, f"不是电子表格（OpenDocument 类型为 {kind}）")
    if "content.xml" not in names:
        raise ReadError(path, "文件已损坏（.ods 中缺少 content.xml）")
    for part in ("content.xml", "styles.xml", "meta.xml", "settings.xml", "META-INF/manifest.xml"):
        if part in names and _DOCTYPE.search(_read_head(path, zf, zf.getinfo(part))):
            raise ReadError(path, f"部件 {part} 含有 XML 实体声明（DOCTYPE/ENTITY），疑似恶意构造，已拒绝读取")
    return "ods"


# ---- not a workbook at all -----------------------------------------------------------------

def _describe_non_workbook(path: str) -> str:
    with open(path, "rb") as fh:
        sample = fh.read(4096)
    base = os.path.basename(path)
    if base.startswith("~$"):
        return "这是 Office 打开文件时留下的锁定文件（~$ 开头），不是工作簿，可忽略"
    low = sample.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if low.startswith((b"<html", b"<!doctype html", b"<table", b"<meta")) or b"<html" in low[:512]:
        return "这是网页（HTML）格式的伪 Excel 文件（常见于系统导出），请用 Excel 打开后“另存为” .xlsx 再提交"
    if low.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in sample:
        return "这是 Excel 2003 XML 表格格式，请用 Excel 打开后“另存为” .xlsx 再提交"
    if sample.startswith(b"%PDF"):
        return "这是 PDF 文件，不是 Excel 工作簿；请提交原始 Excel 文件"
    if sample.startswith((b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")):
        return "这是压缩包（gzip/rar/7z），不是 Excel 工作簿；请解压后提交其中的工作簿"
    text = _as_text(sample)
    if text is not None:
        if any(sep in text for sep in (",", "\t", "，")):
            return "这是 CSV/文本文件，只是扩展名为 Excel，不是真正的工作簿；请用 Excel 打开后“另存为” .xlsx 再提交"
        return "这是纯文本文件，不是 Excel 工作簿"
    return "无法识别的文件格式（既不是 .xlsx/.xlsm/.ods 压缩包，也不是 .xls），文件可能已损坏"


def _as_text(sample: bytes) -> str | None:
    if b"\x00" in sample and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    for enc in ("utf-8-sig", "utf-16", "gb18030"):
        try:
            text = sample.decode(enc)
        except UnicodeDecodeError:
            continue
        printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
        if text and printable / len(text) > 0.95:
            return text
    return None
