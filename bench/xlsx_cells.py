"""Edit cell values (and formula cached values) directly in an .xlsx's sheet XML.

Used by the benchmark and the hostile-file tests to vary a workbook that LibreOffice has
already calculated, without losing cached values (openpyxl would drop them all on save).
Only for files we generate; keeps every other part byte-identical.
"""
from __future__ import annotations

import re
import zipfile
from decimal import Decimal
from xml.sax.saxutils import escape


class Err(str):
    """A cached error value such as #DIV/0!."""


_COL = re.compile(r"([A-Z]+)([0-9]+)")


def _col_num(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> part path, from workbook.xml and its rels."""
    wb = z.read("xl/workbook.xml").decode("utf-8")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets = {}
    for m in re.finditer(r"<Relationship\b[^>]*>", rels):
        tag = m.group(0)
        rid = re.search(r'Id="([^"]+)"', tag).group(1)
        tgt = re.search(r'Target="([^"]+)"', tag).group(1).lstrip("/")
        targets[rid] = tgt if tgt.startswith("xl/") else "xl/" + tgt
    out = {}
    for m in re.finditer(r"<sheet\b[^>]*>", wb):
        tag = m.group(0)
        name = re.search(r'name="([^"]+)"', tag).group(1)
        rid = re.search(r'r:id="([^"]+)"', tag).group(1)
        name = name.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
        out[name] = targets[rid]
    return out


def _cell_xml(ref: str, style: str, formula: str | None, value) -> str:
    s = f' s="{style}"' if style else ""
    f = formula or ""
    if value is None:
        return f'<c r="{ref}"{s}>{f}</c>' if f else f'<c r="{ref}"{s}/>'
    if isinstance(value, Err):
        return f'<c r="{ref}"{s} t="e">{f}<v>{escape(str(value))}</v></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b">{f}<v>{int(value)}</v></c>'
    if isinstance(value, (int, float, Decimal)):
        return f'<c r="{ref}"{s} t="n">{f}<v>{value}</v></c>'
    text = escape(str(value))
    if f:
        return f'<c r="{ref}"{s} t="str">{f}<v>{text}</v></c>'
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def edit_sheet_xml(xml: str, edits: dict[str, object]) -> str:
    """Set cached values of cells (A1 refs) in one sheet's XML; formulas are kept."""
    for ref, value in edits.items():
        pat = re.compile(rf'<c r="{ref}"(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</c>)', re.S)
        m = pat.search(xml)
        if m:
            style = re.search(r's="([^"]*)"', m.group("attrs") or "")
            fm = re.search(r"<f\b.*?(?:/>|</f>)", m.group("body") or "", re.S)
            new = _cell_xml(ref, style.group(1) if style else "", fm.group(0) if fm else None, value)
            xml = xml[:m.start()] + new + xml[m.end():]
            continue
        col, row = _COL.fullmatch(ref).groups()
        new = _cell_xml(ref, "", None, value)
        rm = re.search(rf'<row r="{row}"[^>]*?(?:/>|>(.*?)</row>)', xml, re.S)
        if rm is None:  # insert a new row in order
            rows = [(int(x.group(1)), x.start()) for x in re.finditer(r'<row r="([0-9]+)"', xml)]
            pos = next((p for r, p in rows if r > int(row)), xml.index("</sheetData>"))
            xml = xml[:pos] + f'<row r="{row}">{new}</row>' + xml[pos:]
            continue
        if rm.group(0).endswith("/>"):
            xml = xml[:rm.start()] + rm.group(0)[:-2] + f">{new}</row>" + xml[rm.end():]
            continue
        body_start = rm.start(1)
        body = rm.group(1)
        insert_at = len(body)
        for cm in re.finditer(r'<c r="([A-Z]+)[0-9]+"', body):
            if _col_num(cm.group(1)) > _col_num(col):
                insert_at = cm.start()
                break
        xml = xml[:body_start + insert_at] + new + xml[body_start + insert_at:]
    return xml


def edit_cells(src: str, dest: str, edits: dict[tuple[str, str], object], *, level: int = 1,
               extra_parts: dict[str, bytes] | None = None) -> str:
    """Copy src to dest with cells changed: edits maps (sheet name, "B4") -> value (None blanks it)."""
    by_sheet: dict[str, dict[str, object]] = {}
    for (sheet, ref), v in edits.items():
        by_sheet.setdefault(sheet, {})[ref] = v
    with zipfile.ZipFile(src) as zin:
        parts = sheet_parts(zin)
        changed = {parts[s]: e for s, e in by_sheet.items()}
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zout:
            for info in zin.infolist():
                data = zin.read(info.filename)
                if info.filename in changed:
                    data = edit_sheet_xml(data.decode("utf-8"), changed[info.filename]).encode("utf-8")
                if extra_parts and info.filename in extra_parts:
                    data = extra_parts.pop(info.filename)
                zout.writestr(info.filename, data)
            for name, data in (extra_parts or {}).items():
                zout.writestr(name, data)
    return dest
