"""Read a submitted report into blocks: numbered paragraphs and tables (rows of cell texts).

Sources: a .docx (python-docx, body order, tables included) or plain text as extracted from a
published report (the seed: paragraphs one a line, tables flattened as one cell a line starting
with a tab, a blank line between rows, two blank lines after the table).
"""
from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass, field

from ..errors import ReadError

MAX_TEXT_BYTES = 20 * 1024 * 1024
MAX_DOCX_EXPANDED = 200 * 1024 * 1024  # declared size of all parts
# A report is a few hundred KB. The parts python-docx parses into a tree (a tree costs ~10x the XML) are
# measured by decompressing them, not by the sizes the zip declares (which a bomb can understate).
MAX_DOCX_MEMBERS = 1_000
MAX_DOCX_XML = 20 * 1024 * 1024  # bytes of word/document.xml and every other XML part, really decompressed
MAX_PARAGRAPH_CHARS = 50_000  # one paragraph (a long one is ~2 000): more is pasted data, not prose


@dataclass
class Block:
    kind: str  # "para" | "table"
    number: int  # 第N段 for paragraphs, 表N for tables
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"第{self.number}段" if self.kind == "para" else f"表{self.number}"


@dataclass
class ReportText:
    name: str  # file name, or "报告" for text given directly
    blocks: list[Block]

    def paragraphs(self) -> list[Block]:
        return [b for b in self.blocks if b.kind == "para"]

    def tables(self) -> list[Block]:
        return [b for b in self.blocks if b.kind == "table"]

    @property
    def plain(self) -> str:
        return "\n".join(b.text for b in self.paragraphs())


def load(report) -> ReportText:
    """A path to .docx / .txt, or the report's text itself."""
    if isinstance(report, (bytes, bytearray)):
        report = report.decode("utf-8")
    if isinstance(report, os.PathLike) or looks_like_path(report):
        path = os.fspath(report)
        ext = os.path.splitext(path)[1].lower()
        if not os.path.isfile(path):
            raise ReadError(path, "报告文件不存在")
        if ext == ".docx":
            return ReportText(os.path.basename(path), _docx_blocks(path))
        if ext in (".txt", ".text", ".md"):
            return ReportText(os.path.basename(path), text_blocks(_read_text(path)))
        if ext == ".doc":
            raise ReadError(path, "不支持旧版 Word .doc 文件：请在 Word 或 WPS 中另存为 .docx 后再核对")
        if ext == ".pdf":
            raise ReadError(path, "不支持直接核对 PDF：请提供 .docx 原件，或把正文复制为 .txt")
        raise ReadError(path, f"不支持的报告文件类型 {ext}（支持 .docx、.txt）")
    return ReportText("报告", text_blocks(str(report)))


PATH_EXTENSIONS = (".docx", ".txt", ".text", ".md", ".doc", ".pdf", ".wps", ".odt", ".rtf")


def looks_like_path(report) -> bool:
    """A file name, not one line of report text that happens to hold a dot ("三公经费为143.61万元。")."""
    if not isinstance(report, str) or "\n" in report or len(report) >= 1024:
        return False
    return os.path.exists(report) or report.lower().endswith(PATH_EXTENSIONS)


def _read_text(path: str) -> str:
    if os.path.getsize(path) > MAX_TEXT_BYTES:
        raise ReadError(path, "报告文件过大（超过 20 MB）")
    data = open(path, "rb").read()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ReadError(path, "无法识别报告文本的编码（应为 UTF-8 或 GBK）")


def _docx_blocks(path: str) -> list[Block]:
    from docx import Document

    if not zipfile.is_zipfile(path):
        raise ReadError(path, "不是有效的 .docx 文件（可能已损坏，或是改了扩展名的 .doc）")
    with zipfile.ZipFile(path) as z:  # a report is small; a huge expansion is a zip bomb, not a report
        infos = z.infolist()
        if len(infos) > MAX_DOCX_MEMBERS:
            raise ReadError(path, f"报告文件内部件过多（{len(infos)} 个，上限 {MAX_DOCX_MEMBERS} 个），疑似异常构造")
        if sum(i.file_size for i in infos) > MAX_DOCX_EXPANDED:
            raise ReadError(path, "报告文件解压后过大（超过 200 MB），不像正常的报告")
        if "word/document.xml" not in z.namelist():
            raise ReadError(path, "不是 Word 文档（缺少 word/document.xml）")
        for info in infos:
            if info.filename.endswith((".xml", ".rels")):
                _check_part(path, z, info)
    try:
        doc = Document(path)
    except Exception as e:  # python-docx raises several kinds for a broken package
        raise ReadError(path, f"无法打开 Word 文档：{type(e).__name__}") from None
    blocks: list[Block] = []
    np = nt = 0
    for item in doc.iter_inner_content():
        if hasattr(item, "rows"):
            nt += 1
            rows = []
            for row in item.rows:
                cells, last = [], None
                for cell in row.cells:  # a horizontally merged cell repeats: keep it once
                    if last is not None and cell._tc is last:
                        continue
                    last = cell._tc
                    cells.append(cell.text)
                rows.append(cells)
            blocks.append(Block("table", nt, rows=rows))
        else:
            t = item.text.strip()
            if len(t) > MAX_PARAGRAPH_CHARS:
                raise ReadError(path, f"报告第 {np + 1} 段有 {len(t)} 个字符，超过上限 {MAX_PARAGRAPH_CHARS} 个，"
                                      "不像正常的报告正文（可能粘贴了大量数据）")
            if t:
                np += 1
                blocks.append(Block("para", np, t))
    return blocks


def _check_part(path: str, z: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Decompress one XML part in chunks, counting: refuse it past MAX_DOCX_XML (or with a DOCTYPE)."""
    n = 0
    try:
        with z.open(info) as fh:
            head = fh.read(4096)
            if re.search(rb"<!\s*(DOCTYPE|ENTITY)", head, re.I):
                raise ReadError(path, f"报告部件 {info.filename} 含有 XML 实体声明，疑似恶意构造，已拒绝读取")
            n = len(head)
            while n <= MAX_DOCX_XML:
                chunk = fh.read(1 << 20)
                if not chunk:
                    return
                n += len(chunk)
    except ReadError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, NotImplementedError) as e:
        raise ReadError(path, f"报告文件已损坏（部件 {info.filename} 无法解压：{type(e).__name__}）") from None
    raise ReadError(path, f"报告部件 {info.filename} 解压后超过 {MAX_DOCX_XML >> 20} MB，疑似“压缩炸弹”，已拒绝读取")


def text_blocks(text: str) -> list[Block]:
    """Plain text: non-blank lines are paragraphs; tab-led lines are flattened tables."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks: list[Block] = []
    np = nt = 0
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if line.startswith("\t"):
            rows: list[list[str]] = [[]]
            blanks = 0
            while i < n:
                line = lines[i]
                if line.startswith("\t"):
                    if blanks and rows[-1]:
                        rows.append([])  # a blank line then a cell: the next row
                    rows[-1].append(line[1:])
                    blanks = 0
                elif not line.strip():
                    blanks += 1
                elif blanks >= 2:
                    break  # two blank lines then text: the table has ended
                else:
                    if rows[-1]:
                        rows[-1][-1] += "\n" + line  # a line break inside a cell
                    blanks = 0
                i += 1
            nt += 1
            blocks.append(Block("table", nt, rows=[r for r in rows if r]))
            continue
        if line.strip():
            np += 1
            blocks.append(Block("para", np, line.strip()))
        i += 1
    return blocks


_WS = re.compile(r"[\s\u3000]+")


def squash(text: str) -> str:
    return _WS.sub("", text or "")
