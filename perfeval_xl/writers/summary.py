"""The batch summary workbook (汇总表) for the finance bureau's reviewer, written in constant memory.

SummaryWriter(dest, ...).add(report, annotated=None) for each report as it arrives; .close() -> SummaryResult.
write_summary(reports, dest) -> str is the same for a list.

  汇总     a title + date row, the totals (files, 错误/警告/提示, unreadable files, where 全部问题 went), then one row
           per unit: 单位 项目名称 表样 年度 全年预算数 全年执行数 执行率 自评总分 复核总分 等级 错误数 警告数 提示数 文件
           [标注副本] 说明. A file holding several project forms has one row per form; an unreadable file is a row whose
           说明 holds the reason; a provisional 复核总分 is filled amber, its 等级 reads "优（暂定）" and 说明 says why.
  全部问题  every finding: 文件 单位 项目名称 代码 严重程度 工作表 单元格 说明 应为 实为. Past max_sheet_rows (default
           100 000) the complete list goes to a CSV beside the workbook (UTF-8 with BOM, Excel opens it), linked from
           汇总 and 全部问题; the sheet then keeps the most severe findings that fit (errors, then warnings).
           Above Excel's row limit a sheet continues in 全部问题2, 全部问题3, ...
  规则统计  per rule code: 名称, 严重程度, 出现次数, 涉及文件数 (most frequent first)
  图表     native charts: the most frequent rules ("PE303 公用经费项目超预算"); up to UNIT_BARS_MAX units one bar per
           unit (复核总分 on a 0–100 axis, 执行率); more units: the distribution of 复核总分 and 执行率 and the
           LOWEST_N lowest-scoring units by name. Their data sits right of the charts, outside the print area.

Why XlsxWriter in constant_memory mode (measured on this 2-core machine, 100 000 finding rows × 9 text cells):
XlsxWriter 9.5 s CPU and 21 MB peak, openpyxl write_only 17.1 s and 29 MB, csv 0.6 s. Neither writer is fast enough
for every finding of a province (5 M cells at 10 000 files would cost ~50 s), hence the CSV past max_sheet_rows.
Memory: reports are never kept. Each is reduced at once to its 汇总 rows and finding rows, spooled to two
temporary files beside dest (marshal, no memo), plus counters per rule code and per score band; the workbook is
written from the spools at close, so that its first sheet can state the totals. Every sheet prints on A4 landscape,
one page wide, its title and header rows repeated on each page.
Text taken from submitted files goes through inert_line/inert_text and is always written as a string
("=HYPERLINK(...)" stays text, with Excel's quote prefix so that editing the cell does not make it a formula).
"""
from __future__ import annotations

import csv
import heapq
import marshal
import os
import struct
import tempfile
import weakref
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ..findings import Report, Severity
from ..inert import inert_line, inert_text
from ..marks import FORMULA_FIRST, needs_text_guard

SUMMARY_SHEET = "汇总"
FINDINGS_SHEET = "全部问题"
RULES_SHEET = "规则统计"
CHARTS_SHEET = "图表"
SUMMARY_COLUMNS = ("单位", "项目名称", "表样", "年度", "全年预算数", "全年执行数", "执行率", "自评总分", "复核总分",
                   "等级", "错误数", "警告数", "提示数", "文件", "说明")
LINK_COLUMN = "标注副本"  # inserted before 说明 when the run wrote annotated copies
SUMMARY_WIDTHS = dict(zip(SUMMARY_COLUMNS, (26, 18, 14, 6, 12, 12, 10, 8, 8, 9, 6, 6, 6, 34, 40)))
SUMMARY_WIDTHS[LINK_COLUMN] = 9
NUMBER_FORMATS = {"年度": "0", "全年预算数": "#,##0.00", "全年执行数": "#,##0.00", "执行率": "0.00%",
                  "自评总分": "0.00", "复核总分": "0.00", "错误数": "0", "警告数": "0", "提示数": "0"}
FINDING_COLUMNS = ("文件", "单位", "项目名称", "代码", "严重程度", "工作表", "单元格", "说明", "应为", "实为")
FINDING_WIDTHS = (30, 22, 14, 8, 8, 12, 7, 60, 12, 12)
RULE_COLUMNS = ("代码", "名称", "严重程度", "出现次数", "涉及文件数")
RULE_WIDTHS = (9, 44, 9, 10, 11)
WRAPPED = {"文件", "说明", "单位", "项目名称", "表样"}  # long text wraps inside its column instead of running into the next

EXCEL_MAX_ROWS = 1_048_576
FINDINGS_SHEET_ROWS = 50_000  # findings kept inside the workbook; past this the full list goes to a CSV
MAX_CELL_CHARS = 32_767  # Excel's limit for one cell's text
TOP_RULES = 15  # rule codes shown in the frequency chart
UNIT_BARS_MAX = 60  # up to this many units, one bar per unit; more: distributions and the lowest LOWEST_N
LOWEST_N = 30
LOWEST_CHART_CM = 16.5  # the lowest LOWEST_N units fit one landscape A4 page below the title row
SCORE_BINS = tuple(range(0, 100, 10))  # 复核总分 bands: [0,10) ... [90,100]
RATE_BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0, 1.0000001)  # 执行率 bands, the last one: over 100%
CHART_CM_PER_BAR = 0.5  # per-unit bar charts grow with the number of units ...
CHART_MIN_CM, CHART_MAX_CM = 7.0, 40.0  # ... within these heights (UNIT_BARS_MAX units fit in 40 cm)
LABEL_PT = 8  # unit names and values on the bars
LABEL_MAX_WIDTH = 44  # display width of a bar label (a CJK character counts two)
UNIT_CHART_CM = 13.5  # width of each per-unit chart; the two stand side by side on landscape A4
CHART_DATA_COL = 19  # the charts' data starts in this column (0-based), right of the charts
SUMMARY_TITLE = "perfeval 批量校验汇总"  # docProps title: marks the file as ours (batch.is_our_summary)
PROVISIONAL = "暂定"

_CM = 37.8  # pixels per cm at XlsxWriter's 96 dpi


def _num(v):
    if v is None:
        return None
    return float(v) if isinstance(v, Decimal) else v


def _unit(report: Report) -> str:
    m = report.metrics
    if m and m.department:
        return inert_line(m.department)
    return inert_line(os.path.splitext(os.path.basename(report.path))[0])


def _rule_titles() -> dict:
    try:
        from .. import rules  # noqa: F401  (registers every rule in the catalog)
    except Exception:
        pass
    from ..catalog import CATALOG

    return CATALOG


LINE_PT = 15  # one line of 11-point text; rows with wrapped text get a height that shows all of it


def _width(text: str) -> int:
    """Display width, fast: UTF-8 length gives 1 for ASCII and 2 for a CJK character ((1+1)/2, (3+1)/2)."""
    return (len(text.encode("utf-8")) + len(text)) // 2


def _lines(text, width: float) -> int:
    """Lines a wrapped cell of `width` characters needs for text (explicit line breaks kept)."""
    if not text:
        return 1
    text = str(text)
    per = max(1, int(width) - 1)
    if 2 * len(text) <= per and "\n" not in text:  # fits whatever its characters: the common case, no counting
        return 1
    return sum(max(1, -(-_width(part) // per)) for part in text.split("\n"))


def _row_height(cells) -> float | None:
    """Points for a row whose wrapped cells are (text, column width); None when one line is enough. Set
    explicitly: LibreOffice does not grow rows to wrapped text on opening an .xlsx, Excel does not always."""
    n = max((_lines(t, w) for t, w in cells), default=1)
    return None if n <= 1 else min(409, LINE_PT * n)


def chart_height(n: int) -> float:
    """cm for a horizontal bar chart of n bars: ~0.5 cm a bar (an 8-point label each), within reasonable caps."""
    return round(min(CHART_MAX_CM, max(CHART_MIN_CM, 3 + CHART_CM_PER_BAR * n)), 1)


def _short_path(path: str, among) -> str:
    """The file name, with as many parent folders as it takes to tell it from the others in `among`."""
    parts = os.path.normpath(path).split(os.sep)
    for k in range(1, len(parts) + 1):
        tail = "/".join(parts[-k:])
        if sum(1 for p in among if "/".join(os.path.normpath(p).split(os.sep)[-k:]) == tail) <= 1:
            return tail
    return "/".join(parts)


_BREAKS = set(" ·/\\（）()、，,-_—")


def _fit(label: str, limit: int = LABEL_MAX_WIDTH) -> str:
    """A label no wider than `limit` (a CJK character counts two), never cut inside a word: the name is kept whole
    when it fits; otherwise it ends at the last break (space, slash, bracket, 、) that fits, then "…"; a name without
    any break is cut after a whole character (Chinese has no spaces; each character is a unit of reading)."""
    from ..marks import text_width

    if text_width(label) <= limit:
        return label
    budget = limit - 1
    cut, width = 0, 0
    last_break = 0
    for i, ch in enumerate(label):
        w = text_width(ch)
        if width + w > budget:
            break
        width += w
        cut = i + 1
        if ch in _BREAKS:
            last_break = i  # cut before the break character
    keep = label[:last_break] if last_break >= max(4, cut // 2) else label[:cut]
    return keep.rstrip(" ·/\\（(、，,-_—") + "…"


def chart_units(reports) -> list[tuple[str, float | None, float | None]]:
    """(label, 复核总分, 执行率) for each readable unit (each project form of a file), in summary order: the unit's
    name (with the project's), and the file name added when two rows would read the same. Unreadable files stay
    out of the charts (the 汇总 table lists them)."""
    rows = []
    for r in reports:
        for part in (r.parts or [r]):
            if not part.error and part.metrics is not None:
                rows.append(part)
    return _labels([(_row_label(p), p.path, _num(p.metrics.total_score), _num(p.metrics.execution_rate))
                    for p in rows])


def _row_label(r: Report) -> str:
    unit = _unit(r)
    project = inert_line(r.metrics.project) if r.metrics and r.metrics.project else ""
    return f"{unit} · {project}" if project else unit


def _labels(rows) -> list[tuple[str, float | None, float | None]]:
    """rows: (label, path, score, rate) -> (fitted label, score, rate). Rows that would read the same are told apart
    by their file: the name kept whole (by words), then as much of the file's path as fits, its end first."""
    from ..marks import text_width

    groups: dict[str, list[str]] = {}
    for label, path, _, _ in rows:
        groups.setdefault(label, []).append(path)
    out = []
    for label, path, score, rate in rows:
        if len(groups[label]) > 1:
            suffix = inert_line(_short_path(path, groups[label]))
            name = _fit(label, LABEL_MAX_WIDTH - 16)  # room for at least 14 columns of the file's name
            room = LABEL_MAX_WIDTH - text_width(name) - 4
            if text_width(suffix) > room:
                while suffix and text_width(suffix) > room - 1:
                    suffix = suffix[1:]
                suffix = "…" + suffix
            label = f"{name}（{suffix}）"
        else:
            label = _fit(label)
        out.append((label, score, rate))
    return out


@dataclass
class SummaryResult:
    path: str  # the workbook
    csv: str | None = None  # the full 全部问题 list, when it did not fit the workbook
    findings: int = 0  # finding rows in all
    in_sheet: int = 0  # of which inside the workbook
    units: int = 0  # 汇总 rows
    notes: list[str] = field(default_factory=list)


# Spooled records are length-prefixed marshal bytes: marshal.load on a file object reads every string of a record
# with a call of its own (~170 µs for a report's 55 findings), marshal.loads on the record's bytes does not.
_SPOOL_LEN = struct.Struct("<I")


def _spool(fh, record) -> None:
    data = marshal.dumps(record)
    fh.write(_SPOOL_LEN.pack(len(data)) + data)


_SEVERITY_LABELS = {s.rank: s.label for s in Severity}


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _csv_cell(value):
    """A CSV cell Excel will not take for a formula: text starting with = + - @ gets a leading apostrophe, except a
    plain number ("-13.50")."""
    if needs_text_guard(value):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


class SummaryWriter:
    """Streams reports into a summary workbook: add() each report, close() once. Memory does not grow with the
    number of reports (two spool files beside dest, counters per rule and per band, the lowest LOWEST_N units)."""

    def __init__(self, dest, *, max_sheet_rows: int = FINDINGS_SHEET_ROWS, now: datetime | None = None):
        dest = os.fspath(dest)
        self.dest = dest
        self.dir = os.path.dirname(dest) or "."
        os.makedirs(self.dir, exist_ok=True)
        self.max_sheet_rows = max(0, int(max_sheet_rows))
        self.now = now or datetime.now()
        self._units = tempfile.TemporaryFile(prefix=".perfeval_units_", dir=self.dir)
        self._findings = tempfile.TemporaryFile(prefix=".perfeval_findings_", dir=self.dir)
        # the full list as CSV, begun once the findings pass max_sheet_rows and then written as reports arrive
        # (while the checks still run, instead of all at close); None until then
        self._csv_tmp: str | None = None
        self._csv_fh = None
        self._csv = None
        self._csv_cleanup = None  # removes _csv_tmp once (at discard, at close, or when dropped without either)
        self.n_units = 0
        self.n_files = 0
        self.n_unreadable = 0
        self.n_provisional = 0
        self.sev = Counter()  # severity -> findings
        self.rule_count: Counter = Counter()
        self.rule_files: Counter = Counter()
        self.rule_severity: dict[str, Severity] = {}
        self.links = False

    # ---- streaming in ---------------------------------------------------------------------------

    def add(self, report: Report, annotated: str | None = None) -> None:
        """One file's report; `annotated`: the path of its marked copy, when --annotate wrote one (linked)."""
        self.n_files += 1
        if report.error:
            self.n_unreadable += 1
        if annotated:
            self.links = True
        rows = [report] + list(report.parts) if report.parts else [report]
        seen_codes = set()
        for i, part in enumerate(rows):
            if report.parts and i == 0 and not report.findings:
                continue  # the file itself: a row only when it has findings of its own (the parts carry the rest)
            self._unit_row(part, report, annotated, whole_file=bool(report.parts) and i == 0)
            unit = _unit(part) if part.metrics else _unit(report)
            project = inert_line(part.metrics.project) if part.metrics and part.metrics.project else ""
            path = inert_line(report.path)
            block = []
            for f in part.findings:
                self.sev[f.severity] += 1
                self.rule_count[f.code] += 1
                self.rule_severity.setdefault(f.code, f.severity)
                if f.code not in seen_codes:
                    seen_codes.add(f.code)
                    self.rule_files[f.code] += 1
                block.append((path, unit, project, f.code, f.severity.rank, inert_line(f.sheet), inert_line(f.cell),
                              inert_text(f.message)[:MAX_CELL_CHARS], inert_text(f.expected or "") or None,
                              inert_text(f.actual or "") or None))
            if block:
                _spool(self._findings, block)
                if self._csv is not None:
                    self._csv_rows(block)
                elif sum(self.sev.values()) > self.max_sheet_rows:
                    self._begin_csv()

    def _unit_row(self, part: Report, report: Report, annotated, whole_file: bool) -> None:
        m = part.metrics
        note = ""
        if report.error:
            note = f"无法校验：{inert_text(report.error)}"
        elif part.error:
            note = f"无法校验：{inert_text(part.error)}"
        elif not part.findings:
            note = "未发现问题"
        provisional = bool(m and m.score_provisional)
        if provisional:
            self.n_provisional += 1
            why = inert_text(m.score_note) if m.score_note else "分值结构有误"
            note = (note + "；" if note else "") + f"复核总分暂定：{why}"
        grade = (m.grade or None) if m else None
        if provisional and grade:
            grade = f"{grade}（{PROVISIONAL}）"
        project = inert_line(m.project) if m and m.project else ("（整个文件）" if whole_file else None)
        form = inert_line(part.form or report.form) or None
        row = (
            _unit(part) if m else _unit(report), project, form, m.year if m else None,
            _num(m.budget) if m else None, _num(m.actual) if m else None, _num(m.execution_rate) if m else None,
            _num(m.self_total_score) if m else None, _num(m.total_score) if m else None, grade,
            part.errors, part.warnings, part.infos, inert_line(report.path), note[:MAX_CELL_CHARS] or None,
            annotated, bool(report.error or part.error), provisional, report.path,
        )
        _spool(self._units, row)
        self.n_units += 1

    # ---- writing out ----------------------------------------------------------------------------

    @staticmethod
    def _spooled(fh):
        fh.flush()
        fh.seek(0)
        size = _SPOOL_LEN.size
        while True:
            head = fh.read(size)
            if len(head) < size:
                return
            yield marshal.loads(fh.read(_SPOOL_LEN.unpack(head)[0]))

    def _begin_csv(self) -> None:
        """The findings no longer fit the sheet: the CSV gets every finding spooled so far, then each as it comes."""
        fd, self._csv_tmp = tempfile.mkstemp(prefix=".perfeval_", suffix=".csv", dir=self.dir)
        os.close(fd)
        # a run that stops before close() (Ctrl-C, a failing disk) leaves no half-written CSV behind
        self._csv_cleanup = weakref.finalize(self, _unlink_quietly, self._csv_tmp)
        self._csv_fh = open(self._csv_tmp, "w", newline="", encoding="utf-8-sig")
        self._csv = csv.writer(self._csv_fh)
        self._csv.writerow(FINDING_COLUMNS)
        for block in self._spooled(self._findings):
            self._csv_rows(block)
        self._findings.seek(0, os.SEEK_END)  # spooling goes on at the end

    def _csv_rows(self, block) -> None:
        labels, guard = _SEVERITY_LABELS, FORMULA_FIRST
        # a cell is looked at again only when it starts like a formula
        self._csv.writerows([v if not v or v.__class__ is not str or v[0] not in guard else _csv_cell(v)
                             for v in (path, unit, project, code, labels[rank], sheet, cell, message, expected,
                                       actual)]
                            for path, unit, project, code, rank, sheet, cell, message, expected, actual in block)

    def _end_csv(self) -> None:
        if self._csv_fh is not None:
            self._csv_fh.close()
            self._csv_fh = self._csv = None

    def _discard_csv(self) -> None:
        self._end_csv()
        if self._csv_cleanup is not None:
            self._csv_cleanup()  # a finalizer runs once: after close() moved the file, there is nothing to remove

    def discard(self) -> None:
        """Give the summary up (the run stopped, the disk failed): its temporary files go, nothing is written."""
        self._discard_csv()
        self._units.close()
        self._findings.close()

    def close(self, failed_annotations=()) -> SummaryResult:
        """Write the workbook (and the CSV when the findings do not fit). `failed_annotations`: source paths whose
        marked copy could not be written (no link for them)."""
        import xlsxwriter

        failed = {os.path.realpath(p) for p in failed_annotations}
        total = sum(self.sev.values())
        result = SummaryResult(path=self.dest, findings=total, units=self.n_units)
        fd, tmp = tempfile.mkstemp(prefix=".perfeval_", suffix=".xlsx", dir=self.dir)
        os.close(fd)
        csv_path = csv_tmp = None
        try:
            # which findings the workbook holds: all, or the most severe that fit, in file order (errors first, then
            # warnings, ...; the last level that fits only in part gives its first ones); the CSV then has every one
            keep_ranks = {s.rank: self.sev[s] for s in Severity}  # rank -> rows of that severity in the sheet
            if total > self.max_sheet_rows:
                csv_path = os.path.splitext(self.dest)[0] + "_全部问题.csv"
                if self._csv is None:  # never expected: add() begins it as soon as the findings pass the limit
                    self._begin_csv()
                self._end_csv()
                csv_tmp = self._csv_tmp
                room = self.max_sheet_rows
                for sev in (Severity.ERROR, Severity.WARNING, Severity.INFO):
                    keep_ranks[sev.rank] = min(self.sev[sev], room)
                    room -= keep_ranks[sev.rank]
            in_sheet = sum(keep_ranks.values())
            result.in_sheet, result.csv = in_sheet, csv_path

            wb = xlsxwriter.Workbook(tmp, {"constant_memory": True, "strings_to_numbers": False,
                                           "strings_to_formulas": False, "strings_to_urls": False})
            wb.set_properties({"title": SUMMARY_TITLE, "subject": "部门整体支出绩效自评 批量校验汇总"})
            self._formats(wb)
            self._write_units(wb, failed, total, in_sheet, keep_ranks, csv_path, result)
            self._write_findings(wb, total, in_sheet, keep_ranks, csv_path)
            ranked = sorted(self.rule_count.items(), key=lambda kv: (-kv[1], kv[0]))
            catalog = _rule_titles()
            self._write_rules(wb, ranked, catalog)
            self._write_charts(wb, ranked, catalog)
            wb.close()
            from .annotate import new_file_mode

            for t in (tmp, csv_tmp):
                if t:
                    os.chmod(t, new_file_mode())  # mkstemp makes 0600: colleagues on a shared folder must open it
            if csv_tmp:
                os.replace(csv_tmp, csv_path)
            os.replace(tmp, self.dest)
        except BaseException:
            if tmp and os.path.exists(tmp):
                os.unlink(tmp)
            raise
        finally:
            self._discard_csv()  # nothing left when it was moved into place
            self._units.close()
            self._findings.close()
        return result

    def _formats(self, wb) -> None:
        f = wb.add_format
        self.f_title = f({"bold": True, "font_size": 14})
        self.f_sub = f({"font_color": "#404040"})
        self.f_note = f({"bold": True, "font_color": "#9C0006", "bg_color": "#FFC7CE"})
        self.f_link = f({"font_color": "#0563C1", "underline": 1, "valign": "top"})
        self.f_head = f({"bold": True, "bg_color": "#D9D9D9", "border": 1, "text_wrap": True, "valign": "vcenter"})
        self.f_text = f({"valign": "top"})
        self.f_wrap = f({"text_wrap": True, "valign": "top"})
        self.f_guard = f({"quote_prefix": True, "valign": "top"})
        self.f_guard_wrap = f({"quote_prefix": True, "text_wrap": True, "valign": "top"})
        self.f_num = {col: f({"num_format": fmt, "valign": "top"}) for col, fmt in NUMBER_FORMATS.items()}
        self.f_bad = f({"bg_color": "#FFC7CE", "valign": "top", "text_wrap": True})
        self.f_provisional = {col: f({"num_format": NUMBER_FORMATS.get(col, "General"), "bg_color": "#FFEB9C",
                                      "bold": True, "valign": "top"}) for col in ("复核总分", "等级")}
        self.f_sev = {0: f({"bg_color": "#FFC7CE", "valign": "top"}), 1: f({"bg_color": "#FFEB9C", "valign": "top"}),
                      2: f({"bg_color": "#DDEBF7", "valign": "top"})}

    def _kept(self, quota: dict) -> str:
        """"全部错误（3 条）、警告 9 条中的前 5 条": what the 全部问题 sheet holds when it cannot hold everything."""
        parts = []
        for s in Severity:
            q, n = quota[s.rank], self.sev[s]
            if q and q == n:
                parts.append(f"全部{s.label}（{n} 条）")
            elif q:
                parts.append(f"{s.label} {n} 条中的前 {q} 条（按文件顺序）")
        return "、".join(parts) or "（无）"

    def _page(self, ws, title_rows: int, landscape: bool = True) -> None:
        """A4, one page wide, the title and header rows on every page, page numbers in the footer."""
        ws.set_paper(9)
        if landscape:
            ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0, title_rows - 1)
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
        ws.set_footer("&C第 &P 页，共 &N 页")

    def _text(self, ws, r, c, value, wrap=False, fmt=None):
        """Text from a submission: always a string; formula-looking text with Excel's quote prefix."""
        if value is None or value == "":
            return
        value = str(value)[:MAX_CELL_CHARS]
        if fmt is None:
            if needs_text_guard(value):
                fmt = self.f_guard_wrap if wrap else self.f_guard
            else:
                fmt = self.f_wrap if wrap else self.f_text
        ws.write_string(r, c, value, fmt)

    def _title(self, ws, text: str) -> None:
        ws.write_string(0, 0, f"{SUMMARY_TITLE} · {text}　　生成于 {self.now:%Y-%m-%d %H:%M}", self.f_title)

    def _write_units(self, wb, failed, total, in_sheet, keep_ranks, csv_path, result) -> None:
        ws = wb.add_worksheet(SUMMARY_SHEET)
        columns = list(SUMMARY_COLUMNS)
        if self.links:
            columns.insert(columns.index("说明"), LINK_COLUMN)
        col = {name: i for i, name in enumerate(columns)}
        for name, i in col.items():
            ws.set_column(i, i, SUMMARY_WIDTHS[name])
        self._title(ws, SUMMARY_SHEET)
        line = (f"共 {self.n_files} 个文件、{self.n_units} 行：错误 {self.sev[Severity.ERROR]}，"
                f"警告 {self.sev[Severity.WARNING]}，提示 {self.sev[Severity.INFO]}")
        if self.n_unreadable:
            line += f"；{self.n_unreadable} 个文件无法校验（说明栏写明原因）"
        if self.n_provisional:
            line += f"；{self.n_provisional} 行复核总分为暂定（分值结构有误，见说明）"
        ws.write_string(1, 0, line, self.f_sub)
        row = 2
        notes = []
        if csv_path:
            note = (f"问题共 {total} 条，超过工作簿内上限 {self.max_sheet_rows} 条：完整清单在 "
                    f"{os.path.basename(csv_path)}（与本工作簿同一文件夹，Excel 可直接打开），"
                    f"“{FINDINGS_SHEET}”表只列出{self._kept(keep_ranks)}")
            notes.append(note)
            self._link(ws, row, 0, csv_path, note, self.f_note)
            row += 1
        elif in_sheet > EXCEL_MAX_ROWS - 3:
            notes.append(f"问题共 {total} 条，超过 Excel 每表 {EXCEL_MAX_ROWS} 行的上限，分在“{FINDINGS_SHEET}”"
                         f"“{FINDINGS_SHEET}2”等多张表中")
            ws.write_string(row, 0, notes[-1], self.f_note)
            row += 1
        result.notes = notes
        for name, i in col.items():
            ws.write_string(row, i, name, self.f_head)
        header = row
        self._page(ws, header + 1)
        ws.freeze_panes(header + 1, 1)
        last = header
        for r, values in enumerate(self._spooled(self._units), start=header + 1):
            if r >= EXCEL_MAX_ROWS:  # more than a million units: said on the first rows, the rest in the JSON
                result.notes.append(f"汇总行数超过 Excel 上限，只列出前 {EXCEL_MAX_ROWS - header - 1} 行")
                break
            (unit, project, form, year, budget, actual, rate, self_total, total_score, grade, errors, warnings,
             infos, path, note, annotated, bad, provisional, raw_path) = values
            texts = {"单位": unit, "项目名称": project, "表样": form, "等级": grade, "文件": path, "说明": note}
            h = _row_height([(texts[n], SUMMARY_WIDTHS[n]) for n in WRAPPED if texts[n]])
            if h:
                ws.set_row(r, h)
            numbers = {"年度": year, "全年预算数": budget, "全年执行数": actual, "执行率": rate, "自评总分": self_total,
                       "复核总分": total_score, "错误数": errors, "警告数": warnings, "提示数": infos}
            for name, value in texts.items():
                if bad:
                    self._text(ws, r, col[name], value, True, self.f_bad if value else None)
                elif provisional and name == "等级":
                    self._text(ws, r, col[name], value, fmt=self.f_provisional["等级"])
                else:
                    self._text(ws, r, col[name], value, wrap=name in WRAPPED)
            for name, value in numbers.items():
                if value is None:
                    continue
                fmt = self.f_provisional["复核总分"] if provisional and name == "复核总分" else self.f_num[name]
                ws.write_number(r, col[name], value, fmt)
            if self.links and annotated and os.path.realpath(raw_path) not in failed:
                self._link(ws, r, col[LINK_COLUMN], annotated, "打开", self.f_link)
            last = r
        ws.autofilter(header, 0, max(last, header + 1), len(columns) - 1)

    def _link(self, ws, r, c, target: str, text: str, fmt) -> None:
        """A link to a file, relative to the summary when it can be (the folders can be moved together)."""
        try:
            rel = os.path.relpath(os.path.abspath(target), os.path.abspath(self.dir))
        except ValueError:  # another drive on Windows
            rel = os.path.abspath(target)
        url = "external:" + rel.replace(os.sep, "/")
        if ws.write_url(r, c, url, fmt, text) < 0:  # too long for Excel: the text without the link
            ws.write_string(r, c, text, fmt)

    def _write_findings(self, wb, total, in_sheet, keep_ranks, csv_path) -> None:
        per_sheet = EXCEL_MAX_ROWS - 3
        sheets = max(1, -(-in_sheet // per_sheet))

        def new_sheet(k):
            ws = wb.add_worksheet(FINDINGS_SHEET if k == 1 else f"{FINDINGS_SHEET}{k}")
            for i, w in enumerate(FINDING_WIDTHS):
                ws.set_column(i, i, w)
            title = FINDINGS_SHEET if sheets == 1 else f"{FINDINGS_SHEET}（第 {k}/{sheets} 张）"
            self._title(ws, title)
            if csv_path:
                note = (f"完整清单（{total} 条）在 {os.path.basename(csv_path)}；"
                        f"本表只列出{self._kept(keep_ranks)}")
                self._link(ws, 1, 0, csv_path, note, self.f_note)
            else:
                ws.write_string(1, 0, f"共 {total} 条问题", self.f_sub)
            for i, name in enumerate(FINDING_COLUMNS):
                ws.write_string(2, i, name, self.f_head)
            self._page(ws, 3)
            ws.freeze_panes(3, 0)
            return ws

        labels = _SEVERITY_LABELS
        left = dict(keep_ranks)  # rows still to write per severity
        room = sum(left.values())
        ws, k, r = new_sheet(1), 1, 3
        for block in self._spooled(self._findings):
            if room <= 0:
                break  # the sheet is full (the CSV has had every finding as it came)
            for row in block:
                path, unit, project, code, rank, sheet, cell, message, expected, actual = row
                if left[rank] <= 0:
                    continue
                left[rank] -= 1
                room -= 1
                if r >= EXCEL_MAX_ROWS:
                    ws.autofilter(2, 0, r - 1, len(FINDING_COLUMNS) - 1)
                    k += 1
                    ws, r = new_sheet(k), 3
                h = _row_height(((path, FINDING_WIDTHS[0]), (unit, FINDING_WIDTHS[1]),
                                 (project, FINDING_WIDTHS[2]), (message, FINDING_WIDTHS[7]),
                                 (expected, FINDING_WIDTHS[8]), (actual, FINDING_WIDTHS[9])))
                if h:
                    ws.set_row(r, h)
                self._text(ws, r, 0, path, wrap=True)
                self._text(ws, r, 1, unit, wrap=True)
                self._text(ws, r, 2, project, wrap=True)
                ws.write_string(r, 3, code, self.f_text)
                ws.write_string(r, 4, labels[rank], self.f_sev[rank])
                self._text(ws, r, 5, sheet)
                self._text(ws, r, 6, cell)
                self._text(ws, r, 7, message, wrap=True)
                self._text(ws, r, 8, expected, wrap=True)
                self._text(ws, r, 9, actual, wrap=True)
                r += 1
        ws.autofilter(2, 0, max(r - 1, 3), len(FINDING_COLUMNS) - 1)

    def _write_rules(self, wb, ranked, catalog) -> None:
        ws = wb.add_worksheet(RULES_SHEET)
        for i, w in enumerate(RULE_WIDTHS):
            ws.set_column(i, i, w)
        self._title(ws, RULES_SHEET)
        ws.write_string(1, 0, f"{len(ranked)} 条规则有问题，按出现次数排列", self.f_sub)
        for i, name in enumerate(RULE_COLUMNS):
            ws.write_string(2, i, name, self.f_head)
        self._page(ws, 3, landscape=False)
        ws.freeze_panes(3, 0)
        for r, (code, n) in enumerate(ranked, start=3):
            info = catalog.get(code)
            h = _row_height([(info.title if info else "", RULE_WIDTHS[1])])
            if h:
                ws.set_row(r, h)
            ws.write_string(r, 0, code, self.f_text)
            self._text(ws, r, 1, info.title if info else "", wrap=True)
            ws.write_string(r, 2, self.rule_severity[code].label, self.f_sev[self.rule_severity[code].rank])
            ws.write_number(r, 3, n)
            ws.write_number(r, 4, self.rule_files[code])

    # ---- charts ---------------------------------------------------------------------------------

    def _unit_stats(self):
        """One more pass over the spool: the first UNIT_BARS_MAX + 1 units, the LOWEST_N lowest 复核总分 and the
        counts per band; constant memory whatever the number of units."""
        first, lowest = [], []
        score_bins = [0] * len(SCORE_BINS)
        rate_bins = [0] * (len(RATE_BINS) - 1)
        scored = 0
        for seq, values in enumerate(self._spooled(self._units)):
            unit, project, _, _, _, _, rate, _, score, _, _, _, _, path, _, _, bad, _, raw_path = values
            if bad:
                continue
            label = f"{unit} · {project}" if project and project != "（整个文件）" else unit
            if len(first) <= UNIT_BARS_MAX:
                first.append((label, raw_path, score, rate))
            if score is not None:
                scored += 1
                score_bins[min(len(SCORE_BINS) - 1, max(0, int(score // 10)))] += 1
                item = (-score, -seq, label, raw_path, score, rate)
                if len(lowest) < LOWEST_N:
                    heapq.heappush(lowest, item)
                elif item > lowest[0]:
                    heapq.heapreplace(lowest, item)
            if rate is not None:
                for b in range(len(RATE_BINS) - 1):
                    if rate < RATE_BINS[b + 1] or b == len(RATE_BINS) - 2:
                        rate_bins[b] += 1
                        break
        lowest = [(label, path, score, rate) for _, _, label, path, score, rate in sorted(lowest, reverse=True)]
        return first, lowest, score_bins, rate_bins, scored

    def _write_charts(self, wb, ranked, catalog) -> None:
        ws = wb.add_worksheet(CHARTS_SHEET)
        self._title(ws, CHARTS_SHEET)
        first, lowest, score_bins, rate_bins, scored = self._unit_stats()
        c0 = CHART_DATA_COL
        head = self.f_head
        # data right of the charts, in the order rows are written (constant_memory: rows only go forward)
        cols: list[list] = []

        def column(title, values, fmt=None):
            cols.append((title, values, fmt))
            return c0 + len(cols) - 1

        top = ranked[:TOP_RULES]
        rule_labels = column("图表数据：问题", [f"{code} {catalog[code].title}" if code in catalog else code
                                               for code, _ in top])
        rule_counts = column("次数", [n for _, n in top])
        per_unit = len(first) <= UNIT_BARS_MAX
        if per_unit:
            units = _labels(first)
            unit_labels = column("图表数据：单位", [u[0] for u in units])
            unit_scores = column("复核总分", [u[1] for u in units], "0.00")
            unit_rates = column("执行率", [u[2] for u in units], "0.00%")
        else:
            units = _labels(lowest)
            unit_labels = column("图表数据：复核总分最低的单位", [u[0] for u in units])
            unit_scores = column("复核总分", [u[1] for u in units], "0.00")
            band_labels = column("复核总分分段", [f"{lo}–{lo + 10}" if lo < 90 else "90–100" for lo in SCORE_BINS])
            band_counts = column("单位数", score_bins)
            rate_labels = column("执行率分段", _rate_labels())
            rate_counts = column("单位数", rate_bins)
        ws.write_string(1, 0, "图表的数据在本表右侧（不打印）", self.f_sub)
        if not units:
            ws.write_string(2, 0, "没有可以校验的文件，无法作图（见“汇总”表）")
        for j, (title, _, _) in enumerate(cols):
            ws.write_string(2, c0 + j, title, head)
        longest = max((len(v) for _, v, _ in cols), default=0)
        num_fmt = {fmt: wb.add_format({"num_format": fmt}) for _, _, fmt in cols if fmt}
        for i in range(longest):
            for j, (_, values, fmt) in enumerate(cols):
                if i < len(values) and values[i] is not None:
                    v = values[i]
                    if isinstance(v, str):
                        self._text(ws, 3 + i, c0 + j, v)
                    else:
                        ws.write_number(3 + i, c0 + j, v, num_fmt.get(fmt))
        for j, (title, values, _) in enumerate(cols):
            ws.set_column(c0 + j, c0 + j, 36 if any(isinstance(v, str) for v in values) else 10)

        sheet = CHARTS_SHEET

        def ref(c, n):
            return [sheet, 3, c, 3 + n - 1, c]

        def bar(title, label_col, value_col, n, height_cm, width_cm, fmt, vmax=None, major=None, label_fmt=None,
                kind="bar"):
            ch = wb.add_chart({"type": kind})
            ch.add_series({"categories": ref(label_col, n), "values": ref(value_col, n), "gap": 40,
                           "data_labels": {"value": True, "position": "outside_end",
                                           "num_format": label_fmt or fmt, "font": {"size": LABEL_PT}}})
            ch.set_title({"name": title, "name_font": {"size": 11}})
            ch.set_legend({"none": True})
            value_axis = {"min": 0, "num_format": fmt, "num_font": {"size": LABEL_PT},
                          "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}}
            if vmax is not None:
                value_axis["max"] = vmax
            if major is not None:
                value_axis["major_unit"] = major
            cat_axis = {"num_font": {"size": LABEL_PT}, "interval_unit": 1}
            if kind == "bar":  # horizontal: the first row at the top, the value axis kept at the bottom
                cat_axis.update({"reverse": True, "crossing": "max"})
                ch.set_x_axis(value_axis)
                ch.set_y_axis(cat_axis)
            else:
                ch.set_x_axis(cat_axis)
                ch.set_y_axis(value_axis)
            ch.set_size({"width": width_cm * _CM, "height": height_cm * _CM})
            return ch

        anchor = 3
        breaks: list[int] = []
        if top:
            h = chart_height(len(top))
            ws.insert_chart(anchor, 0, bar(f"最常见的问题（前 {len(top)} 个规则，按出现次数）", rule_labels,
                                           rule_counts, len(top), h, 2 * UNIT_CHART_CM, "0"))
            anchor += int(h * _CM / 20) + 2
        if not units:
            anchor += 1
        elif per_unit:
            breaks.append(anchor)  # the unit charts start on a page of their own
            h = chart_height(len(units))
            ws.insert_chart(anchor, 0, bar(f"各单位复核总分（{len(units)} 个单位）", unit_labels, unit_scores,
                                           len(units), h, UNIT_CHART_CM, "0", 100, 20, "0.00"))
            ws.insert_chart(anchor, 9, bar(f"各单位预算执行率（{len(units)} 个单位）", unit_labels, unit_rates,
                                           len(units), h, UNIT_CHART_CM, "0%", None, None, "0.0%"))
            anchor += int(h * _CM / 20) + 1
        else:
            breaks.append(anchor)
            h = 9.0
            ws.insert_chart(anchor, 0, bar(f"复核总分分布（{scored} 个单位）", band_labels, band_counts,
                                           len(SCORE_BINS), h, UNIT_CHART_CM, "0", kind="column"))
            ws.insert_chart(anchor, 9, bar(f"预算执行率分布（{sum(rate_bins)} 个单位）", rate_labels, rate_counts,
                                           len(rate_bins), h, UNIT_CHART_CM, "0", kind="column"))
            anchor += int(h * _CM / 20) + 2
            breaks.append(anchor)  # the lowest units on a page of their own, whole
            h = min(chart_height(len(units)), LOWEST_CHART_CM)
            ws.insert_chart(anchor, 0, bar(f"复核总分最低的 {len(units)} 个单位（共 {scored} 个）", unit_labels,
                                           unit_scores, len(units), h, 2 * UNIT_CHART_CM, "0", 100, 20, "0.00"))
            anchor += int(h * _CM / 20) + 1
        ws.set_h_pagebreaks(breaks)
        self._page(ws, 1)
        ws.print_area(0, 0, max(anchor, 3), 17)


def _rate_labels() -> list[str]:
    out = []
    for lo, hi in zip(RATE_BINS, RATE_BINS[1:]):
        if hi > 1.0:
            out.append("超过 100%")
        elif lo == 0:
            out.append(f"低于 {hi:.0%}")
        else:
            out.append(f"{lo:.0%}–{hi:.0%}")
    return out


def write_summary(reports, dest: str, annotated: dict | None = None,
                  max_sheet_rows: int = FINDINGS_SHEET_ROWS) -> str:
    """The summary of a list of reports (annotated: source path -> marked copy, for the links); returns dest."""
    w = SummaryWriter(dest, max_sheet_rows=max_sheet_rows)
    for r in reports:
        w.add(r, (annotated or {}).get(r.path))
    return w.close().path
