"""The batch summary workbook (汇总表) for the finance bureau's reviewer.

write_summary(reports, dest) -> str
  汇总     one row per file: 单位 年度 全年预算数 全年执行数 执行率 自评总分 复核总分 等级 错误数 警告数 文件 说明
           (an unreadable file is a row whose 说明 holds the reason)
  全部问题  every finding: 文件 单位 代码 严重程度 工作表 单元格 说明 应为 实为
  规则统计  per rule code: 名称, 严重程度, 出现次数, 涉及文件数 (most frequent first)
  图表     native Excel bar charts: 复核总分 per unit, 执行率 per unit, the most frequent rule codes
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


def write_summary(reports, dest: str) -> str:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
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
    wc = wb.create_sheet(CHARTS_SHEET)
    wc.page_setup.orientation = "landscape"
    wc.page_setup.fitToWidth, wc.page_setup.fitToHeight = 1, 0
    wc.sheet_properties.pageSetUpPr.fitToPage = True
    units = max(len(reports), 1)
    width = min(60, max(16, 0.9 * units))

    def bar(title, y_title, ref_sheet, col, rows, fmt=None, top=None):
        ch = BarChart()
        ch.type = "col"
        ch.title = title
        ch.y_axis.title = y_title
        ch.legend = None
        ch.width, ch.height = width, 9
        data = Reference(ref_sheet, min_col=col, min_row=1, max_row=max(rows, 2))
        cats = Reference(ref_sheet, min_col=1, min_row=2, max_row=max(rows, 2))
        ch.add_data(data, titles_from_data=True)
        ch.set_categories(cats)
        if fmt:
            ch.y_axis.number_format = fmt
        ch.y_axis.scaling.min = 0  # bars from zero: a truncated axis exaggerates differences
        if top is not None:
            ch.y_axis.scaling.max = top
        ch.y_axis.delete = False
        ch.x_axis.delete = False
        return ch

    wc.add_chart(bar("各单位复核总分", "分", ws, SUMMARY_COLUMNS.index("复核总分") + 1, n_rows, top=100), "A1")
    wc.add_chart(bar("各单位预算执行率", "执行率", ws, SUMMARY_COLUMNS.index("执行率") + 1, n_rows, "0%"), "A20")
    top = min(len(ranked), TOP_RULES)
    rules_chart = bar(f"最常见的问题（前 {max(top, 1)} 个规则代码）", "次数", wr, 4, top + 1)
    rules_chart.width = 20
    wc.add_chart(rules_chart, "A39")

    dest = os.fspath(dest)
    if os.path.dirname(dest):
        os.makedirs(os.path.dirname(dest), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".perfeval_", suffix=".xlsx", dir=os.path.dirname(dest) or ".")
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return dest
