"""The marks plan: which cells to colour, which notes to attach, what the 校验结果 sheet says.

Pure: findings in, plain data out. No openpyxl, no xlwings. Two appliers carry the plan out
(writers/annotate.py on a file, writers/xlwings_apply.py on a live book), so that the clerk's
button and the reviewer's batch mark a workbook identically.

How a second run undoes the first (the ledger):
  The applier keeps a hidden sheet LEDGER_SHEET ("校验标记"). Before marking a cell it records
  the cell's own fill and note there, one row per cell (LEDGER_HEADER). On the next run the
  applier first reads the ledger and restores every listed cell (restore_entries), deletes the
  old RESULT_SHEET and ledger, then marks afresh. Marks therefore never pile up and a cell that
  is no longer flagged gets its own fill and note back.

  Protocol for an applier (both do exactly this):
    1. entries = parse_ledger(rows of LEDGER_SHEET) if it exists; restore each entry's fill/note.
       Notes that still start with NOTE_HEADER but have no ledger row are removed (ledger lost).
    2. delete RESULT_SHEET and LEDGER_SHEET.
    3. for each CellMark: record LedgerEntry(sheet, cell, <current fill>, <current note>),
       set fill mark.fill (solid), set note compose_note(mark, original_note).
    4. write plan.result at position 0 (hyperlinks from ResultLine.link), activate it;
       write ledger_rows(entries) into a new LEDGER_SHEET, hidden, at the end.

Fill colours are encoded as strings so both appliers can store and parse them:
  "rgb:FFRRGGBB" | "theme:<n>:<tint>" | "indexed:<n>" | "" (none).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from .findings import Finding, Report, Severity

RESULT_SHEET = "校验结果"
LEDGER_SHEET = "校验标记"
NOTE_HEADER = "【perfeval 校验】"  # first line of every note we write; identifies our notes
NOTE_AUTHOR = "perfeval"
ORIGINAL_NOTE_SEPARATOR = "—— 原批注 ——"

# Fills by severity: light enough to read black text through (ARGB).
FILL = {
    Severity.ERROR: "FFFFC7CE",  # light red
    Severity.WARNING: "FFFFEB9C",  # amber
    Severity.INFO: "FFDDEBF7",  # light blue
}
# The template's own conditional formats paint overspent cells red over any fill we set, so a fill alone
# cannot tell severity there: every note line and the note's first line carry a symbol, and the 校验结果
# sheet has a legend (issue 12). The symbols are in GB2312, so every Chinese font has them.
SYMBOL = {
    Severity.ERROR: "■",
    Severity.WARNING: "▲",
    Severity.INFO: "●",
}
# ... and a border, which conditional formats of the template (fills only) never cover: error a thick dark red
# frame, warning a medium dashed dark amber one, info a thin dotted blue one. (style, ARGB)
BORDER = {
    Severity.ERROR: ("thick", "FFC00000"),
    Severity.WARNING: ("mediumDashed", "FFBF8F00"),
    Severity.INFO: ("dotted", "FF2F75B5"),
}
FONT_COLOR = {  # for the 严重程度 column of the result sheet
    Severity.ERROR: "FF9C0006",
    Severity.WARNING: "FF9C5700",
    Severity.INFO: "FF1F4E78",
}

RESULT_COLUMNS = ("序号", "严重程度", "代码", "工作表", "单元格", "说明", "应为", "实为")
RESULT_WIDTHS = (6, 9, 9, 16, 10, 70, 16, 16)  # minimum widths; _result_sheet widens to fit the text
RESULT_WRAP_COLS = (5, 6, 7)  # 0-based: 说明, 应为, 实为 wrap (rows grow, never a fixed height)
MAX_MEASURED_WIDTH = 40  # a measured column (not 说明) never grows past this
LEDGER_HEADER = ("工作表", "单元格", "原填充类型", "原填充前景色", "原填充背景色", "原批注", "原批注作者", "原边框")
LEDGER_VERSION = "perfeval-ledger-1"  # A1 of the ledger sheet; a newer format must not be misread

_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
_FORMULA_START = ("=", "+", "-", "@")
FORMULA_FIRST = frozenset(c[0] for c in _FORMULA_START)  # for writers that test a first character only


@dataclass(frozen=True, slots=True)
class CellMark:
    sheet: str
    cell: str  # single cell, A1 style, upper case, no $
    severity: Severity  # the worst of its findings
    fill: str  # ARGB, from FILL
    note: str  # NOTE_HEADER + one line per finding
    codes: tuple[str, ...]
    # added later, with a default, so that older appliers keep working: the frame that stays visible where the
    # template's conditional formats paint the cell (border_spec format; "" = none)
    border: str = ""


@dataclass(frozen=True, slots=True)
class ResultLine:
    """One row of the 校验结果 sheet. Text values must be written as text, never as formulas."""

    values: tuple
    role: str  # "title" | "meta" | "header" | "finding" | "blank" | "error"
    severity: Severity | None = None
    link: str | None = None  # "#'sheet'!B4": hyperlink on the 单元格 column
    link_col: int | None = None  # 0-based column index carrying the link
    formats: tuple = ()  # per value: "" | "0.00" | "0.00%"


@dataclass(frozen=True, slots=True)
class ResultSheet:
    name: str
    lines: tuple[ResultLine, ...]
    widths: tuple[int, ...] = RESULT_WIDTHS
    header_row: int = 0  # 1-based row of the column header (freeze panes below it)
    # added later, with defaults, so that older appliers keep working:
    title_span: int = len(RESULT_COLUMNS)  # columns the title is merged and centred across
    wrap_cols: tuple[int, ...] = RESULT_WRAP_COLS  # 0-based columns of finding rows that wrap


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A cell's own look before we marked it."""

    sheet: str
    cell: str
    pattern: str = ""  # fill patternType ("" = none)
    fg: str = ""  # colour spec, see module doc
    bg: str = ""
    note: str = ""  # the cell's own comment text ("" = none)
    note_author: str = ""
    border: str = ""  # the cell's own border, border_spec format ("" = none, or not recorded by an older run)


@dataclass(frozen=True, slots=True)
class MarkPlan:
    marks: tuple[CellMark, ...]
    result: ResultSheet
    unplaced: tuple[Finding, ...] = ()  # findings without a cell: listed in the result only
    result_sheet: str = RESULT_SHEET
    ledger_sheet: str = LEDGER_SHEET
    ledger_header: tuple[str, ...] = LEDGER_HEADER

    def mark_at(self, sheet: str, cell: str) -> CellMark | None:
        for m in self.marks:
            if m.sheet == sheet and m.cell == cell:
                return m
        return None


# ---- helpers -------------------------------------------------------------------------------

def normalize_cell(cell: str) -> str | None:
    """'$b$4' -> 'B4'; 'B4:D6' -> 'B4' (the top-left); '' or junk -> None."""
    if not cell:
        return None
    first = cell.split(":", 1)[0].strip()
    m = _CELL.match(first)
    if not m:
        return None
    return f"{m.group(1).upper()}{int(m.group(2))}"


def text_width(value) -> int:
    """Display width in spreadsheet characters: a CJK or full-width character counts two."""
    if value is None:
        return 0
    if isinstance(value, float):
        value = f"{value:,.2f}"
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))


def quote_sheet(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def link_target(sheet: str, cell: str) -> str:
    """Hyperlink target inside the workbook: "#'sheet'!B4"."""
    return f"#{quote_sheet(sheet)}!{cell}"


def link_sheet(link: str) -> str:
    """The sheet a link_target() points at."""
    body = link.lstrip("#").rsplit("!", 1)[0]
    if body.startswith("'") and body.endswith("'"):
        body = body[1:-1].replace("''", "'")
    return body


def needs_text_guard(value) -> bool:
    """A string a spreadsheet would take for a formula if written naively."""
    return isinstance(value, str) and value.startswith(_FORMULA_START)


def finding_line(f: Finding) -> str:
    line = f"{SYMBOL[f.severity]}[{f.code} {f.severity.label}] {f.message}"
    extra = []
    if f.expected not in (None, ""):
        extra.append(f"应为 {f.expected}")
    if f.actual not in (None, ""):
        extra.append(f"实为 {f.actual}")
    if extra and not all(e.split(" ", 1)[1] in f.message for e in extra):
        line += "（" + "，".join(extra) + "）"
    return line


def note_size(text: str, width: int = 360) -> tuple[int, int]:
    """A note box (width, height in px) that shows its text whole: at 9 pt a half-width character is ~7 px and a
    CJK one ~13; each line wraps at the box width. Grows wider before it grows very tall."""
    def lines_at(w: int) -> int:
        per_line = max(8, (w - 12) // 7)  # half-width units per line
        return sum(max(1, -(-text_width(ln) // per_line)) for ln in text.split("\n"))

    n = lines_at(width)
    if n > 24:
        width = 520
        n = lines_at(width)
    return width, min(900, 14 + 16 * n)


def compose_note(mark: CellMark, original: str = "") -> str:
    """The note an applier writes: our lines, then the cell's own note kept for the reader."""
    if original and not original.startswith(NOTE_HEADER):
        return f"{mark.note}\n{ORIGINAL_NOTE_SEPARATOR}\n{original}"
    return mark.note


def is_our_note(text: str | None) -> bool:
    return bool(text) and text.startswith(NOTE_HEADER)


def original_from_note(text: str | None) -> str:
    """The cell's own note inside one of ours ("" when there was none); the text itself otherwise."""
    if not text:
        return ""
    if not is_our_note(text):
        return text
    sep = "\n" + ORIGINAL_NOTE_SEPARATOR + "\n"
    return text.split(sep, 1)[1] if sep in text else ""


def is_mark_fill(pattern: str, fg: str) -> bool:
    """True when a fill is still one we put there (so restoring will not undo the user's own change)."""
    return pattern == "solid" and fg.upper() in {f"RGB:{c}" for c in FILL.values()}


def border_spec(sides: dict[str, tuple[str, str]]) -> str:
    """{"left": ("thin", "rgb:FF000000"), ...} -> "left=thin:rgb:FF000000;right=;top=;bottom=" (sides without
    a style are empty). Colour specs as for fills (module doc)."""
    return ";".join(f"{k}=" + (f"{sides[k][0]}:{sides[k][1]}" if sides.get(k) and sides[k][0] else "")
                    for k in ("left", "right", "top", "bottom"))


def parse_border_spec(spec: str) -> dict[str, tuple[str, str]]:
    """border_spec's text back: {"left": ("thin", "rgb:FF000000")}; sides without a style are left out."""
    out = {}
    for part in (spec or "").split(";"):
        side, _, rest = part.partition("=")
        style, _, color = rest.partition(":")
        if side in ("left", "right", "top", "bottom") and style:
            out[side] = (style, color)
    return out


def mark_border(severity: Severity) -> str:
    style, argb = BORDER[severity]
    return border_spec({k: (style, f"rgb:{argb}") for k in ("left", "right", "top", "bottom")})


def is_mark_border(spec: str) -> bool:
    """True when a border is still one we drew (so restoring will not undo the user's own change)."""
    return bool(spec) and spec.upper() in {mark_border(s).upper() for s in BORDER}


def ledger_rows(entries) -> list[list[str]]:
    """The ledger sheet content: version marker, header, one row per entry (all text)."""
    rows = [[LEDGER_VERSION, "本表由 perfeval 自动生成，用于再次校验时恢复单元格原有格式，请勿修改。"],
            list(LEDGER_HEADER)]
    for e in entries:
        rows.append([e.sheet, e.cell, e.pattern, e.fg, e.bg, e.note, e.note_author, e.border])
    return rows


def parse_ledger(rows) -> list[LedgerEntry]:
    """Read back ledger_rows(); rows are sequences of cell values (None for blank)."""
    rows = [list(r) for r in rows]
    if not rows or str(rows[0][0] or "").strip() != LEDGER_VERSION:
        return []
    out = []
    for r in rows[2:]:
        r = [("" if v is None else str(v)) for v in r] + [""] * len(LEDGER_HEADER)
        sheet, cell = r[0], normalize_cell(r[1])
        if not sheet or not cell:
            continue
        out.append(LedgerEntry(sheet, cell, r[2], r[3], r[4], r[5], r[6], r[7]))
    return out


# ---- the plan ------------------------------------------------------------------------------

def _worst(findings) -> Severity:
    return min((f.severity for f in findings), key=lambda s: s.rank)


def _fmt_amount(v: Decimal | None):
    return float(v) if v is not None else None


def plan_marks(report: Report, *, generated: str | None = None) -> MarkPlan:
    """Turn a report into the marks to make. `generated` is an optional timestamp text."""
    by_cell: dict[tuple[str, str], list[tuple[Finding, str]]] = {}  # (finding, its cell when this is a related one)
    unplaced: list[Finding] = []
    for f in report.findings:
        cell = normalize_cell(f.cell)
        if not f.sheet or cell is None:
            unplaced.append(f)
        else:
            by_cell.setdefault((f.sheet, cell), []).append((f, ""))
        for rs, rc in f.related:  # the cells the fix touches (分值 under a heading): marked too
            rcell = normalize_cell(rc)
            if rs and rcell and (rs, rcell) != (f.sheet, cell):
                by_cell.setdefault((rs, rcell), []).append((f, f"{f.sheet}!{cell}" if f.sheet != rs else cell or ""))

    marks = []
    for (sheet, cell), pairs in by_cell.items():
        pairs = sorted(pairs, key=lambda p: (p[0].severity.rank, p[0].code, bool(p[1])))
        fs = [f for f, _ in pairs]
        sev = _worst(fs)
        body = [finding_line(f) + (f"（此格需一并修改；问题记在 {at}）" if at else "") for f, at in pairs]
        note = "\n".join([f"{NOTE_HEADER}{SYMBOL[sev]} {sev.label}"] + body)
        codes = tuple(dict.fromkeys(f.code for f in fs))
        marks.append(CellMark(sheet, cell, sev, FILL[sev], note, codes, mark_border(sev)))

    return MarkPlan(tuple(marks), _result_sheet(report, generated), tuple(unplaced))


# Short lines: a meta value runs on over the empty cells to its right, and must end inside the table.
LEGEND = ("■ 错误：浅红底、深红粗框　▲ 警告：黄底、深黄虚线框　● 提示：浅蓝底、蓝色点线框",
          "模板自带的条件格式会把超支的单元格染红、盖住标记底色：此时看边框，或批注首行的符号",
          "批注写“此格需一并修改”的，是同一问题要改的其他单元格（如一级指标下的各项分值）")


def _result_sheet(report: Report, generated: str | None) -> ResultSheet:
    m = report.metrics
    lines: list[ResultLine] = []
    unit = (m.department if m else "") or ""
    year = m.year if m else None
    title = f"{year}年度" if year else ""
    lines.append(ResultLine((f"{unit}{title}部门整体支出绩效自评表 校验结果",), "title"))
    lines.append(ResultLine(("单位", unit), "meta"))
    lines.append(ResultLine(("年度", year), "meta"))
    if generated:
        lines.append(ResultLine(("校验时间", generated), "meta"))
    if report.error:
        lines.append(ResultLine(("无法校验", report.error), "error", Severity.ERROR))
    if m:
        lines.append(ResultLine(("全年预算数（万元）", _fmt_amount(m.budget)), "meta", formats=("", "0.00")))
        lines.append(ResultLine(("全年执行数（万元）", _fmt_amount(m.actual)), "meta", formats=("", "0.00")))
        lines.append(ResultLine(("执行率", _fmt_amount(m.execution_rate)), "meta", formats=("", "0.00%")))
        lines.append(ResultLine(("执行率得分（复核）", _fmt_amount(m.execution_score)), "meta", formats=("", "0.00")))
        lines.append(ResultLine(("自评总分（表中）", _fmt_amount(m.self_total_score)), "meta", formats=("", "0.00")))
        provisional = m.score_provisional and m.total_score is not None
        lines.append(ResultLine(("复核总分（暂定）" if provisional else "复核总分", _fmt_amount(m.total_score)), "meta",
                                formats=("", "0.00")))
        lines.append(ResultLine(("等级（复核）", (m.grade or "") + ("（暂定）" if provisional and m.grade else "")),
                                "meta"))
        if provisional:
            for i, part in enumerate(_sentences(m.score_note)):
                lines.append(ResultLine(("暂定原因" if i == 0 else "", part), "meta"))
    counts = f"错误 {report.errors} 项，警告 {report.warnings} 项，提示 {report.infos} 项"
    if not report.findings and not report.error:
        counts += "：未发现问题"
    lines.append(ResultLine(("校验结论", counts), "meta"))
    if report.findings:
        for i, part in enumerate(LEGEND):
            lines.append(ResultLine(("标记说明" if i == 0 else "", part), "meta"))
    lines.append(ResultLine((), "blank"))
    lines.append(ResultLine(RESULT_COLUMNS, "header"))
    header_row = len(lines)
    ordered = sorted(report.findings, key=lambda f: f.severity.rank)  # stable: rule order kept within a severity
    for i, f in enumerate(ordered, start=1):
        cell = normalize_cell(f.cell)
        link = link_target(f.sheet, cell) if f.sheet and cell else None
        lines.append(ResultLine(
            (i, f.severity.label, f.code, f.sheet, f.cell, f.message, f.expected or "", f.actual or ""),
            "finding", f.severity, link, 4 if link else None,
        ))
    return ResultSheet(RESULT_SHEET, tuple(lines), _measure(lines), header_row)


def _sentences(text: str, room: int = 110) -> list[str]:
    """A long note as lines of at most ~room display units, cut after "。" or "；" (never mid-word)."""
    out, cur = [], ""
    for piece in re.split(r"(?<=[。；])", text):
        if cur and text_width(cur + piece) > room:
            out.append(cur)
            cur = ""
        cur += piece
    if cur:
        out.append(cur)
    return out


def _measure(lines) -> tuple[int, ...]:
    """Column widths that show every label whole: the longest text of each column (meta labels in A,
    numbers in B, finding fields), at least RESULT_WIDTHS, at most MAX_MEASURED_WIDTH; 说明 stays as
    given and wraps. Text meta values in B (unit name, 校验结论) run on over the empty cells to their right."""
    widths = list(RESULT_WIDTHS)
    for line in lines:
        if line.role == "title":
            continue
        for i, v in enumerate(line.values[: len(widths)]):
            if i in RESULT_WRAP_COLS:
                continue
            if line.role == "meta" and i == 1 and not isinstance(v, (int, float)):
                continue  # text runs on to the right
            widths[i] = max(widths[i], min(MAX_MEASURED_WIDTH, text_width(v) + 2))
    return tuple(widths)
