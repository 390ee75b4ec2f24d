"""The batch summary workbook (汇总表) for the finance bureau's reviewer.

write_summary(reports, dest) -> str
  汇总     one row per file: 单位 年度 全年预算数 全年执行数 执行率 自评总分 复核总分 等级 错误数 警告数 文件 说明
           (an unreadable file is a row whose 说明 holds the reason)
  全部问题  every finding: 文件 单位 代码 严重程度 工作表 单元格 说明 应为 实为
  规则统计  per rule code: 名称, 严重程度, 出现次数, 涉及文件数 (most frequent first)
  图表     native Excel horizontal bar charts sized by the number of units: the most frequent rules
           ("PE303 公用经费项目超预算"), 复核总分 and 执行率 per readable unit (unreadable files stay in 汇总 only;
           a unit name shared by two files gets the file name added); their data sits right of the charts
Text taken from submitted files is always written as text: "=HYPERLINK(...)" stays a string.
"""
from __future__ import annotations

import os
import tempfile
from collections import Counter
from decimal import Decimal

from ..findings import Report, Severity
from ..marks import needs_text_guard

SUMMARY_SHEET = "汇总"
FINDINGS_SHEET = "全部问题"
RULES_SHEET = "规则统计"
CHARTS_SHEET = "图表"
SUMMARY_COLUMNS = ("单位", "年度", "全年预算数", "全年执行数", "执行率", "自评总分", "复核总分", "等级",
                   "错误数", "警告数", "文件", "说明")
SUMMARY_FORMATS = ("", "0", "#,##0.00", "#,##0.00", "0.00%", "0.00", "0.00", "", "0", "0", "", "")
SUMMARY_WIDTHS = (30, 7, 13, 13, 9, 10, 10, 6, 7, 7, 40, 50)
FINDING_COLUMNS = ("文件", "单位", "代码", "严重程度", "工作表", "单元格", "说明", "应为", "实为")
FINDING_WIDTHS = (36, 26, 9, 9, 14, 9, 70, 14, 14)
RULE_COLUMNS = ("代码", "名称", "严重程度", "出现次数", "涉及文件数")
TOP_RULES = 15  # rule codes shown in the frequency chart
CHART_CM_PER_BAR = 0.5  # horizontal bar charts grow with the number of units ...
LABEL_PT = 8  # unit names and values on the bars
LABEL_MAX_WIDTH = 44  # display width of a bar label; LibreOffice wraps longer ones and then skips every other
CHART_MIN_CM, CHART_MAX_CM = 7.0, 160.0  # ... within these heights (160 cm: ~300 units still labelled)
UNIT_CHART_CM = 13.5  # width of each per-unit chart; the two stand side by side on landscape A4
UNIT_CHART_COLS = 8  # default-width columns those 13.5 cm take (~1.69 cm each)
CHART_DATA_COL = 2 * UNIT_CHART_COLS + 3  # the charts' data starts here, right of the charts
SUMMARY_TITLE = "perfeval 批量校验汇总"  # docProps title: marks the file as ours


def _num(v):
    if v is None:
        return None
    return float(v) if isinstance(v, Decimal) else v


def _unit(report: Report) -> str:
    m = report.metrics
    if m and m.department:
        return m.department
    return os.path.splitext(os.path.basename(report.path))[0]


def _rule_titles() -> dict:
    try:
        from .. import rules  # noqa: F401  (registers every rule in the catalog)
    except Exception:
        pass
    from ..catalog import CATALOG

    return CATALOG


def chart_units(reports) -> list[tuple[str, float | None, float | None]]:
    """(label, 复核总分, 执行率) for each readable file, in summary order: the unit's name, with the file name
    added when two files give the same name. Unreadable files stay out of the charts (the 汇总 table lists them)."""
    rows = [r for r in reports if not r.error and r.metrics is not None]
    groups: dict[str, list[str]] = {}
    for r in rows:
        groups.setdefault(_unit(r), []).append(r.path)
    out = []
    for r in rows:
        label = _unit(r)
        if len(groups[label]) > 1:
            label = f"{label}（{_short_path(r.path, groups[label])}）"
        out.append((_fit(label), _num(r.metrics.total_score), _num(r.metrics.execution_rate)))
    return out


def _short_path(path: str, among) -> str:
    """The file name, with as many parent folders as it takes to tell it from the others in `among`."""
    parts = os.path.normpath(path).split(os.sep)
    for k in range(1, len(parts) + 1):
        tail = "/".join(parts[-k:])
        if sum(1 for p in among if "/".join(os.path.normpath(p).split(os.sep)[-k:]) == tail) <= 1:
            return tail
    return "/".join(parts)


def _fit(label: str, limit: int = LABEL_MAX_WIDTH) -> str:
    """A label no wider than `limit` (a CJK character counts two): head + "…" + tail, so that the end of a
    file name, which tells two same-named units apart, stays visible."""
    from ..marks import text_width

    if text_width(label) <= limit:
        return label
    head, tail = "", ""
    left, right = 0, len(label) - 1
    budget = limit - 1
    while left <= right:
        take_tail = text_width(tail) < text_width(head)
        ch = label[right] if take_tail else label[left]
        if text_width(head + tail + ch) > budget:
            break
        if take_tail:
            tail, right = ch + tail, right - 1
        else:
            head, left = head + ch, left + 1
    return head + "…" + tail


def _font(points: float):
    """Text properties of a chart element: the font size only."""
    from openpyxl.chart.text import RichText
    from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RichTextProperties

    size = int(points * 100)
    # no wrapping: a long name wrapped onto two lines makes LibreOffice drop every other label
    return RichText(bodyPr=RichTextProperties(wrap="none"), p=[Paragraph(pPr=ParagraphProperties(defRPr=CharacterProperties(sz=size)),
                                 endParaRPr=CharacterProperties(sz=size))])


def chart_height(n: int) -> float:
    """cm for a horizontal bar chart of n bars: ~0.5 cm a bar (a 9-point label each), within reasonable caps."""
    return round(min(CHART_MAX_CM, max(CHART_MIN_CM, 3 + CHART_CM_PER_BAR * n)), 1)


def _write_charts(wc, reports, ranked, catalog) -> None:
    """Horizontal bar charts, one bar per unit, growing downwards with the number of units, plus the
    most frequent rules labelled "PE303 公用经费项目超预算". Their data is written to the right of the
    charts (outside the print area) so that unreadable files can be left out."""
    import math

    from openpyxl.chart import BarChart, Reference
    from openpyxl.chart.label import DataLabelList
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.pagebreak import Break

    units = chart_units(reports)
    n = len(units)
    c0 = CHART_DATA_COL
    bold = Font(bold=True)
    wc.cell(1, c0, "图表数据：单位").font = bold
    wc.cell(1, c0 + 1, "复核总分").font = bold
    wc.cell(1, c0 + 2, "执行率").font = bold
    for i, (label, score, rate) in enumerate(units, start=2):
        cell = wc.cell(i, c0, label)
        if needs_text_guard(label):
            cell.data_type = "s"
            cell.quotePrefix = True
        wc.cell(i, c0 + 1, score).number_format = "0.00"
        wc.cell(i, c0 + 2, rate).number_format = "0.00%"
    top = ranked[:TOP_RULES]
    r0 = c0 + 4
    wc.cell(1, r0, "图表数据：问题").font = bold
    wc.cell(1, r0 + 1, "次数").font = bold
    for i, (code, count) in enumerate(top, start=2):
        info = catalog.get(code)
        label = f"{code} {info.title}" if info else code
        wc.cell(i, r0, label)
        wc.cell(i, r0 + 1, count)
    for col, w in ((c0, 36), (c0 + 1, 10), (c0 + 2, 10), (r0, 40), (r0 + 1, 8)):
        wc.column_dimensions[get_column_letter(col)].width = w

    def hbar(title, col, label_col, rows, height, width, fmt=None, top_value=None, label_fmt=None):
        ch = BarChart()
        ch.type = "bar"  # horizontal: long names read along the bars, the chart grows downwards
        ch.title = title
        ch.legend = None
        ch.gapWidth = 40
        ch.width, ch.height = width, height
        data = Reference(wc, min_col=col, min_row=1, max_row=rows + 1)
        cats = Reference(wc, min_col=label_col, min_row=2, max_row=rows + 1)
        ch.add_data(data, titles_from_data=True)
        ch.set_categories(cats)
        ch.x_axis.scaling.orientation = "maxMin"  # the first unit at the top, as in the 汇总 table
        ch.y_axis.crosses = "max"  # with the categories reversed, keep the value axis at the bottom
        ch.y_axis.scaling.min = 0  # bars from zero: a truncated axis exaggerates differences
        if top_value is not None:
            ch.y_axis.scaling.max = top_value
        if fmt:
            ch.y_axis.number_format = fmt
        ch.y_axis.delete = False
        ch.x_axis.delete = False
        ch.x_axis.tickLblSkip = 1  # every unit named: never every other one
        ch.x_axis.txPr = _font(LABEL_PT)
        # the value at the end of each bar, nothing else (LibreOffice would add the name and series)
        ch.dataLabels = DataLabelList(showVal=True, showCatName=False, showSerName=False, showLegendKey=False,
                                      showPercent=False, showBubbleSize=False, showLeaderLines=False)
        ch.dataLabels.position = "outEnd"
        if label_fmt or fmt:
            ch.dataLabels.numFmt = label_fmt or fmt
        ch.dataLabels.txPr = _font(LABEL_PT)
        return ch

    rows_per_cm = 1 / 0.53  # default 15-point rows
    row = 1
    if top:
        rule_h = chart_height(len(top))
        wc.add_chart(hbar(f"最常见的问题（前 {len(top)} 个规则）", r0 + 1, r0, len(top), rule_h, 2 * UNIT_CHART_CM),
                     "A1")
        row += math.ceil(rule_h * rows_per_cm) + 1
        wc.row_breaks.append(Break(id=row - 1))  # the unit charts start on a page of their own
    if n:
        h = chart_height(n)
        wc.add_chart(hbar(f"各单位复核总分（{n} 个单位）", c0 + 1, c0, n, h, UNIT_CHART_CM, "0", 100, "0.00"),
                     f"A{row}")
        wc.add_chart(hbar(f"各单位预算执行率（{n} 个单位）", c0 + 2, c0, n, h, UNIT_CHART_CM, "0%", None, "0.0%"),
                     f"{get_column_letter(UNIT_CHART_COLS + 1)}{row}")
        row += math.ceil(h * rows_per_cm)
    else:
        wc.cell(row, 1, "没有可以校验的文件，无法作图（见“汇总”表）")
        row += 1
    wc.page_setup.paperSize = wc.PAPERSIZE_A4
    wc.page_setup.orientation = "landscape"
    wc.page_setup.fitToWidth, wc.page_setup.fitToHeight = 1, 0
    wc.sheet_properties.pageSetUpPr.fitToPage = True
    wc.print_area = f"A1:{get_column_letter(2 * UNIT_CHART_COLS)}{row}"


def write_summary(reports, dest: str) -> str:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    reports = list(reports)
    wb = Workbook()
    wb.properties.title = SUMMARY_TITLE
    bold = Font(bold=True)
    head_fill = PatternFill(fill_type="solid", fgColor="FFD9D9D9")
    sev_fill = {Severity.ERROR: "FFFFC7CE", Severity.WARNING: "FFFFEB9C", Severity.INFO: "FFDDEBF7"}

    def put(ws, r, c, value, fmt=""):
        cell = ws.cell(r, c)
        cell.value = value
        if needs_text_guard(value):  # a unit name like "=HYPERLINK(...)" stays text
            cell.data_type = "s"
            cell.quotePrefix = True
        if fmt and value is not None:
            cell.number_format = fmt
        return cell

    def header(ws, columns, widths):
        for c, (name, w) in enumerate(zip(columns, widths), start=1):
            cell = put(ws, 1, c, name)
            cell.font, cell.fill = bold, head_fill
            ws.column_dimensions[get_column_letter(c)].width = w
        ws.freeze_panes = "A2"
        # prints one page wide, landscape, header repeated
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = "1:1"

    # ---- 汇总 ----
    ws = wb.active
    ws.title = SUMMARY_SHEET
    header(ws, SUMMARY_COLUMNS, SUMMARY_WIDTHS)
    for r, rep in enumerate(reports, start=2):
        m = rep.metrics
        row = (
            _unit(rep), m.year if m else None, _num(m.budget) if m else None, _num(m.actual) if m else None,
            _num(m.execution_rate) if m else None, _num(m.self_total_score) if m else None,
            _num(m.total_score) if m else None, (m.grade or None) if m else None,
            rep.errors, rep.warnings, rep.path,
            f"无法校验：{rep.error}" if rep.error else ("未发现问题" if not rep.findings else None),
        )
        for c, (value, fmt) in enumerate(zip(row, SUMMARY_FORMATS), start=1):
            cell = put(ws, r, c, value, fmt)
            if rep.error:
                cell.fill = PatternFill(fill_type="solid", fgColor=sev_fill[Severity.ERROR])
    n_rows = len(reports) + 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(SUMMARY_COLUMNS))}{max(n_rows, 2)}"

    # ---- 全部问题 ----
    wf = wb.create_sheet(FINDINGS_SHEET)
    header(wf, FINDING_COLUMNS, FINDING_WIDTHS)
    r = 2
    for rep in reports:
        unit = _unit(rep)
        for f in rep.findings:
            values = (rep.path, unit, f.code, f.severity.label, f.sheet, f.cell, f.message,
                      f.expected or None, f.actual or None)
            for c, value in enumerate(values, start=1):
                cell = put(wf, r, c, value)
                if c == 7:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
            wf.cell(r, 4).fill = PatternFill(fill_type="solid", fgColor=sev_fill[f.severity])
            r += 1
    wf.auto_filter.ref = f"A1:{get_column_letter(len(FINDING_COLUMNS))}{max(r - 1, 2)}"

    # ---- 规则统计 ----
    wr = wb.create_sheet(RULES_SHEET)
    header(wr, RULE_COLUMNS, (9, 40, 9, 10, 11))
    count: Counter = Counter()
    files: dict[str, set] = {}
    severity: dict[str, Severity] = {}
    for rep in reports:
        for f in rep.findings:
            count[f.code] += 1
            files.setdefault(f.code, set()).add(rep.path)
            severity.setdefault(f.code, f.severity)
    catalog = _rule_titles()
    ranked = sorted(count.items(), key=lambda kv: (-kv[1], kv[0]))
    for i, (code, n) in enumerate(ranked, start=2):
        info = catalog.get(code)
        for c, value in enumerate((code, info.title if info else "", severity[code].label, n, len(files[code])),
                                  start=1):
            put(wr, i, c, value)

    # ---- 图表 ----
    _write_charts(wb.create_sheet(CHARTS_SHEET), reports, ranked, catalog)

    dest = os.fspath(dest)
    if os.path.dirname(dest):
        os.makedirs(os.path.dirname(dest), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".perfeval_", suffix=".xlsx", dir=os.path.dirname(dest) or ".")
    os.close(fd)
    try:
        wb.save(tmp)
        from .annotate import new_file_mode

        os.chmod(tmp, new_file_mode())  # mkstemp makes 0600: colleagues on a shared folder must open it
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return dest
