"""Build workbook/perfeval_xl.xlam from the ribbon add-in that xlwings ships.

The shipped add-in's ribbon button calls the VBA macro RibbonMyAddin.RunMain, which
runs ``RunPython "import <add-in file name>; <name>.main()"``. Naming the file
perfeval_xl.xlam therefore makes the button call perfeval_xl.main(). We replace only
customUI/customUI.xml (the ribbon: a 绩效自评 tab with a large 校验 button) and copy
every other part byte for byte, so the VBA binary is never edited.

``python -m perfeval_xl.addin [DEST]`` writes the add-in (default: workbook/perfeval_xl.xlam in a
checkout, ./perfeval_xl.xlam elsewhere). The ribbon XML comes from the package data
(perfeval_xl/resources.py), so this works from a plain ``pip install``.

The add-in must match the installed xlwings exactly: its VBA declares ``xlwings64-<version>.dll``,
which only that xlwings version ships. ``build_addin`` therefore starts from the installed
xlwings' own add-in, and ``addin_xlwings_version`` tells which version an add-in was built from.
``vba_modules(path)`` reads the VBA source back (for tests and for review), using a small
reader of the OLE compound file and the MS-OVBA decompression.
"""
from __future__ import annotations

import os
import struct
import sys
import zipfile

RIBBON_PART = "customUI/customUI.xml"
VBA_PART = "xl/vbaProject.bin"
ADDIN_NAME = "perfeval_xl.xlam"  # the file name is the module RunMain imports

from . import resources

REPO_ROOT = resources.REPO_ROOT
RIBBON_SOURCE = resources.data_path(resources.RIBBON)
PACKAGED_ADDIN = resources.data_path(resources.ADDIN)
DEFAULT_DEST = (os.path.join(REPO_ROOT, resources.CHECKOUT_COPIES[resources.ADDIN]) if resources.in_checkout()
                else os.path.join(os.getcwd(), ADDIN_NAME))


def shipped_addin() -> str:
    """Path of the ribbon add-in inside the installed xlwings package."""
    import importlib.util

    spec = importlib.util.find_spec("xlwings")  # no import: xlwings is slow to import
    if spec is None or not spec.origin:
        raise FileNotFoundError("未安装 xlwings，找不到 quickstart_addin_ribbon.xlam")
    return os.path.join(os.path.dirname(spec.origin), "quickstart_addin_ribbon.xlam")


def build_addin(dest: str = DEFAULT_DEST, ribbon: str = RIBBON_SOURCE, source: str | None = None) -> str:
    """Write the add-in: the shipped one with our ribbon XML. Returns dest.

    The zip entries keep the shipped order and timestamps, so the build is reproducible.
    """
    source = source or shipped_addin()
    with open(ribbon, "rb") as f:
        ribbon_xml = f.read()
    tmp = dest + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        names = zin.namelist()
        if RIBBON_PART not in names or VBA_PART not in names:
            raise ValueError(f"{source} 不是带功能区的 xlwings 加载项")
        for info in zin.infolist():
            data = ribbon_xml if info.filename == RIBBON_PART else zin.read(info.filename)
            out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            out.compress_type = zipfile.ZIP_DEFLATED
            out.external_attr = info.external_attr
            zout.writestr(out, data)
    os.replace(tmp, dest)
    return dest


# ---- reading the VBA back (MS-CFB + MS-OVBA), read-only ---------------------------------


def _cfb_streams(data: bytes) -> dict[str, bytes]:
    """All streams of an OLE compound file by name (names are unique in a VBA project)."""
    if data[:8] != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ValueError("not an OLE compound file")
    sec = 1 << struct.unpack_from("<H", data, 0x1E)[0]
    mini = 1 << struct.unpack_from("<H", data, 0x20)[0]
    first_dir, cutoff, first_minifat, n_minifat, first_difat, n_difat = struct.unpack_from(
        "<I4xIIIII", data, 0x30
    )

    def sector(n: int) -> bytes:
        return data[(n + 1) * sec : (n + 2) * sec]

    difat = list(struct.unpack_from("<109I", data, 0x4C))
    d = first_difat
    for _ in range(n_difat):
        ids = struct.unpack(f"<{sec // 4}I", sector(d))
        difat += ids[:-1]
        d = ids[-1]
    fat: list[int] = []
    for s in difat:
        if s >= 0xFFFFFFFA:
            continue
        fat += struct.unpack(f"<{sec // 4}I", sector(s))

    def chain(start: int, table: list[int]) -> list[int]:
        out = []
        while start < 0xFFFFFFFA and len(out) <= len(table):
            out.append(start)
            start = table[start]
        return out

    def read(start: int) -> bytes:
        return b"".join(sector(s) for s in chain(start, fat))

    dir_data = read(first_dir)
    minifat_data = read(first_minifat) if n_minifat else b""
    minifat = list(struct.unpack(f"<{len(minifat_data) // 4}I", minifat_data))
    entries = []
    for off in range(0, len(dir_data), 128):
        e = dir_data[off : off + 128]
        name_len = struct.unpack_from("<H", e, 64)[0]
        kind = e[66]
        start, size = struct.unpack_from("<IQ", e, 116)
        name = e[: max(name_len - 2, 0)].decode("utf-16-le", "replace")
        entries.append((name, kind, start, size))
    root_stream = read(entries[0][2])
    streams = {}
    for name, kind, start, size in entries[1:]:
        if kind != 2:  # 2 = stream
            continue
        if size < cutoff:
            body = b"".join(root_stream[s * mini : (s + 1) * mini] for s in chain(start, minifat))
        else:
            body = read(start)
        streams[name] = body[:size]
    return streams


def _decompress(data: bytes) -> bytes:
    """MS-OVBA 2.4.1 decompression of a CompressedContainer."""
    if not data or data[0] != 1:
        raise ValueError("not a compressed VBA container")
    out = bytearray()
    pos = 1
    while pos + 2 <= len(data):
        header = struct.unpack_from("<H", data, pos)[0]
        end = min(pos + (header & 0x0FFF) + 3, len(data))
        pos += 2
        start = len(out)
        if not header & 0x8000:  # raw chunk
            out += data[pos : pos + 4096]
            pos += 4096
            continue
        while pos < end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= end:
                    break
                if not flags >> bit & 1:
                    out.append(data[pos])
                    pos += 1
                    continue
                token = struct.unpack_from("<H", data, pos)[0]
                pos += 2
                bits = max((len(out) - start - 1).bit_length(), 4)
                offset = (token >> (16 - bits)) + 1
                for _ in range((token & (0xFFFF >> bits)) + 3):
                    out.append(out[-offset])
    return bytes(out)


def _module_offsets(dir_stream: bytes) -> dict[str, int]:
    """Module stream name -> offset of its compressed source, from the decompressed dir stream."""
    offsets: dict[str, int] = {}
    pos, current = 0, None
    while pos + 6 <= len(dir_stream):
        rid, size = struct.unpack_from("<HI", dir_stream, pos)
        pos += 6
        if rid == 0x0009:  # PROJECTVERSION: its size field lies, the body is 6 bytes
            size = 6
        body = dir_stream[pos : pos + size]
        pos += size
        if rid == 0x001A:  # MODULESTREAMNAME (MBCS)
            current = body.decode("latin-1")
        elif rid == 0x0031 and current is not None:  # MODULEOFFSET
            offsets[current] = struct.unpack("<I", body)[0]
    return offsets


def vba_modules(path: str) -> dict[str, str]:
    """Source text of each VBA module in an .xlam/.xlsm (or a bare vbaProject.bin)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            data = z.read(VBA_PART)
    else:
        with open(path, "rb") as f:
            data = f.read()
    streams = _cfb_streams(data)
    offsets = _module_offsets(_decompress(streams["dir"]))
    return {
        name: _decompress(streams[name][off:]).decode("cp1252", "replace")
        for name, off in offsets.items()
        if name in streams
    }


def addin_xlwings_version(path: str) -> str | None:
    """The xlwings version an add-in's VBA was taken from (its XLWINGS_VERSION constant)."""
    import re

    try:
        source = vba_modules(path).get("xlwings", "")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    m = re.search(r'XLWINGS_VERSION\s+As\s+String\s*=\s*"([^"]+)"', source)
    return m.group(1) if m else None


def installed_xlwings_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("xlwings")
    except PackageNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print("用法：python -m perfeval_xl.addin [DEST]  生成校验加载项 perfeval_xl.xlam")
        return 0
    dest = argv[0] if argv else DEFAULT_DEST
    try:
        print(build_addin(dest))
    except (OSError, ValueError) as e:
        print(f"perfeval：无法生成加载项 {dest}：{e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
