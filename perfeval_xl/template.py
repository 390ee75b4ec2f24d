"""Draw the declarative layout (layout.py) into the official template workbook (.xlsx, openpyxl).

Everything the workbook knows comes from the layout: labels, fields and their formulas,
merges, widths, defined names (pe_<key>, pe_projects, pe_indicators, pe_template_version).
This module adds only the look and the guard rails a clerk sees: fonts, borders, number
formats, input fill, data validation with input messages, live conditional formats,
sheet protection without a password, print set-up and the 填报说明 sheet.

The build is deterministic (fixed document dates and zip timestamps), so the committed
template can be compared byte for byte with what the code builds.

    python -m perfeval_xl.template            # regenerate templates/部门整体支出绩效自评表.xlsx
"""
from __future__ import annotations

import datetime as _dt
import io
import math
import os
import re
import zipfile
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from . import layout as L

TEMPLATE_FILENAME = "部门整体支出绩效自评表.xlsx"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if not os.path.isdir(os.path.join(REPO_ROOT, "templates")) and os.path.isdir("templates"):
    REPO_ROOT = os.getcwd()  # installed as a package: the committed files live in the checkout
TEMPLATE_PATH = os.path.join(REPO_ROOT, "templates", TEMPLATE_FILENAME)

# Fixed document dates: a rebuild must produce the same bytes.
FIXED_TIME = _dt.datetime(2025, 1, 1, 0, 0, 0)
_ZIP_TIME = (2025, 1, 1, 0, 0, 0)

# ---- look ------------------------------------------------------------------
FONT_NAME = "宋体"
FONT = Font(name=FONT_NAME, size=11)
FONT_BOLD = Font(name=FONT_NAME, size=11, bold=True)
FONT_TITLE = Font(name=FONT_NAME, size=16, bold=True)
FONT_NOTE = Font(name=FONT_NAME, size=9, italic=False, color="595959")
FONT_INPUT = Font(name="仿宋", size=11)
INPUT_FILL = PatternFill("solid", fgColor="FFF9E5")  # light: "type here"
FORMULA_FILL = PatternFill("solid", fgColor="F2F2F2")  # computed, locked
HEADER_FILL = PatternFill("solid", fgColor="E7EEF7")
_THIN = Side(style="thin", color="000000")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
ALERT_FILL = PatternFill("solid", fgColor="FFC7CE", bgColor="FFC7CE")  # conditional formats
ALERT_FONT = Font(color="9C0006", bold=True)

NUMBER_FORMATS = {
    L.AMOUNT: "0.00",
    L.SIGNED: "0.00",
    L.AREA: "0.00",
    L.PERCENT: "0.00%",
    L.COUNT: "0",
    L.YEAR: "0",
    L.POINTS: "0.00",
    L.DATE: "yyyy-mm-dd",
    L.TEXT: "@",
    L.PHONE: "@",
    L.LONGTEXT: "@",
    L.CHOICE: "@",
}
FORMULA_LABEL_FORMAT = "General;-General;;@"  # hide a zero, show text
NUMERIC_KINDS = {L.AMOUNT, L.SIGNED, L.AREA, L.PERCENT, L.COUNT, L.YEAR, L.POINTS}

# Input messages (数据验证 → 输入信息) per kind; FieldSpec.prompt wins when set.
KIND_PROMPTS = {
    L.AMOUNT: "填写金额（万元），保留两位小数，不能为负；没有发生填 0 或留空。",
    L.SIGNED: "填写金额（万元），可为负数（调减填负数）。",
    L.AREA: "填写面积（平方米），不能为负。",
    L.COUNT: "填写人数（整数）。",
    L.YEAR: "填写评价年度（四位整数，如 2024）。",
    L.DATE: "填写日期，如 2025-04-22。",
    L.PHONE: "填写手机号或带区号的座机号，如 0737-1234567。",
    L.CHOICE: "从下拉列表选择“有”或“无”。",
    L.TEXT: "填写文字。",
    L.LONGTEXT: "填写文字，可按 Alt+Enter 换行。",
}
KIND_ERRORS = {
    L.AMOUNT: "金额须为不小于 0 的数字（单位万元），不要输入“万元”等文字。",
    L.SIGNED: "金额须为数字（单位万元）。",
    L.AREA: "面积须为不小于 0 的数字。",
    L.COUNT: "人数须为不小于 0 的整数。",
    L.YEAR: "年度须为 2000 至 2100 之间的整数。",
    L.DATE: "请输入有效日期，如 2025-04-22。",
    L.PHONE: "联系电话长度应为 7 至 20 个字符。",
    L.CHOICE: "请选择“有”或“无”。",
}
BOXED_SHEETS = (L.SHEET_SG, L.SHEET_SELF, L.SHEET_NARRATIVE)  # one rectangular table each
LANDSCAPE_WIDTH = 100  # total column width above which a sheet prints landscape

# Columns the look needs wider than the layout gives them (addresses never change, widths only grow).
# 绩效自评表 A holds the section labels (年度预算申请（万元）, 年度总体目标, 绩效指标) and the footer label
# 填表人：: six characters a line, so "年度预算申请 / （万元）" breaks between words; B holds the 一级
# headings, "满意度指标（10分）" on one line. 基础数据表: the 楼堂馆所 headers ("预算投资（万元）",
# "楼堂馆所控制情况（2023年完工项目）") on one line instead of leaving "）" alone on the next.
COL_WIDTH_MIN = {
    L.SHEET_SELF: {"A": 14, "B": 20},
    L.SHEET_BASIC: {"A": 40, "B": 19, "C": 19, "D": 19, "E": 19, "F": 19, "G": 19},
}
# 填报说明 column A: a one-column sheet is never scaled to fit (LibreOffice cannot split a column, so it
# prints it at 100 % and cuts it), so the column itself must fit portrait A4: 75 units is a 14 cm text
# block in Excel, and still fits where LibreOffice lacks Calibri's metrics (wider units).
GUIDE_WIDTH = 75

# Print geometry (points) used to decide how many pages tall the 绩效自评表 prints.
_A4_SHORT, _A4_LONG = 595.0, 842.0
MARGIN_LR, MARGIN_TB = 0.5, 0.6  # inches
MIN_PRINT_SCALE = 0.7  # 绩效自评表 prints on as few pages as this much shrinking allows
DEFAULT_ROW_HEIGHT = 15.0

# Text metrics for row heights (11 pt 宋体/仿宋 at 96 dpi): a width unit is 7 px plus 5 px of padding.
_CJK_PX, _ASCII_PX, _UNIT_PX, _PAD_PX = 15.0, 8.0, 7.0, 5.0
LINE_HEIGHT = 15.0


# ---- helpers ---------------------------------------------------------------
def _cells(ref: str):
    """Every cell coordinate inside an A1 range (a single cell gives itself)."""
    c1, r1, c2, r2 = range_boundaries(ref if ":" in ref else f"{ref}:{ref}")
    for r in range(r1, r2 + 1):
        for c in range(c1, c2 + 1):
            yield f"{get_column_letter(c)}{r}"


def _rng(cell: str, merge_to: str | None) -> str:
    return f"{cell}:{merge_to}" if merge_to else cell


def _abs(cell: str) -> str:
    m = re.fullmatch(r"([A-Z]+)(\d+)", cell)
    return f"${m.group(1)}${m.group(2)}"


def _quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def _row(cell: str) -> int:
    return int(re.search(r"\d+", cell).group())


def _col(cell: str) -> str:
    return re.match(r"[A-Z]+", cell).group()


def _python_value(v):
    """Values as openpyxl should store them: Decimal -> int/float, '' -> None."""
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, str) and v == "":
        return None
    return v


def set_text(cell, text: str) -> None:
    """Store ``text`` as a string even when it starts with '=' ("=24", "=100%")."""
    cell.value = text
    if isinstance(text, str) and text.startswith("="):
        cell.data_type = "s"


def footer_rows(lay: L.Layout) -> dict[str, set[int]]:
    """Rows of the sheets' footers (填表人 …): drawn without borders."""
    rows: dict[str, set[int]] = {}
    for key, spec in lay.fields.items():
        if re.fullmatch(r"(bd|se)_(preparer|date|phone|signature)", key):
            rows.setdefault(spec.sheet, set()).add(_row(spec.cell))
    return rows


def computed_fields(lay: L.Layout):
    return [spec for spec in lay.fields.values() if not spec.is_input]


def col_widths(lay: L.Layout, sheet: str) -> dict[str, float]:
    """The widths drawn: the layout's, widened where the look needs it (COL_WIDTH_MIN)."""
    widths = dict(lay.col_widths.get(sheet, {}))
    for col, w in COL_WIDTH_MIN.get(sheet, {}).items():
        widths[col] = max(w, widths.get(col, 0))
    return widths


def _is_footer_label(lay: L.Layout, lab: L.Label) -> bool:
    return _row(lab.cell) in footer_rows(lay).get(lab.sheet, set())


# ---- the build -------------------------------------------------------------
def build_workbook(lay: L.Layout | None = None, values: dict | None = None) -> Workbook:
    """The template as an openpyxl Workbook (not saved). ``values``: field key -> value,
    plus optional "projects" / "indicators": rows as dicts keyed by ListSpec column names
    (or sequences in the ListSpec column order)."""
    lay = lay or L.TEMPLATE_LAYOUT
    values = dict(values or {})
    wb = Workbook()
    wb.remove(wb.active)
    sheets = {name: wb.create_sheet(name) for name in L.FORM_SHEETS}
    loose = footer_rows(lay)
    bordered: dict[str, set[str]] = {s: set() for s in sheets}

    def style(ws, ref, *, font=FONT, fill=None, align=None, fmt=None, locked=True, border=True):
        for coord in _cells(ref):
            c = ws[coord]
            c.font = font
            if fill is not None:
                c.fill = fill
            if align is not None:
                c.alignment = align
            if fmt is not None:
                c.number_format = fmt
            c.protection = Protection(locked=locked)
            if border:
                bordered[ws.title].add(coord)

    # Column widths.
    for s in lay.col_widths:
        for col, w in col_widths(lay, s).items():
            sheets[s].column_dimensions[col].width = w

    # Labels.
    for lab in lay.labels:
        ws = sheets[lab.sheet]
        rng = _rng(lab.cell, lab.merge_to)
        if lab.merge_to:
            ws.merge_cells(rng)
        c = ws[lab.cell]
        c.value = lab.text  # "=..." labels are formulas (titles and year headers)
        if lab.text.startswith("="):
            c.number_format = FORMULA_LABEL_FORMAT  # "=unit" shows blank, not 0, while the unit is empty
        row = _row(lab.cell)
        border = lab.role not in ("title", "note") and row not in loose.get(lab.sheet, set()) and not (
            lab.sheet in (L.SHEET_SG, L.SHEET_BASIC) and row == 2)
        if lab.role == "title":
            style(ws, rng, font=FONT_TITLE, align=Alignment(horizontal="center", vertical="center"), border=False)
            ws.row_dimensions[row].height = 30
        elif lab.role == "header":
            style(ws, rng, font=FONT_BOLD, fill=HEADER_FILL, border=border,
                  align=Alignment(horizontal="center", vertical="center", wrap_text=True))
        elif lab.role == "section":
            style(ws, rng, font=FONT_BOLD, border=border,
                  align=Alignment(horizontal="center", vertical="center", wrap_text=True))
        elif lab.role == "note":
            style(ws, rng, font=FONT_NOTE, border=False,
                  align=Alignment(horizontal="left", vertical="top", wrap_text=True))
            ws.row_dimensions[row].height = 30
        elif lab.role == "input":  # 一级/二级 headings: the clerk may pick another from the list
            style(ws, rng, font=FONT_INPUT, fill=INPUT_FILL, locked=False, border=border,
                  align=Alignment(horizontal="center", vertical="center", wrap_text=True))
        elif row in loose.get(lab.sheet, set()):  # footer: 填表人： … one line, shrunk if need be
            style(ws, rng, border=border, align=Alignment(horizontal="left", vertical="center", shrink_to_fit=True))
        else:
            style(ws, rng, border=border, align=Alignment(horizontal="left", vertical="center", wrap_text=True))

    # Fields.
    for spec in lay.fields.values():
        ws = sheets[spec.sheet]
        rng = _rng(spec.cell, spec.merge_to)
        if spec.merge_to:
            ws.merge_cells(rng)
        row = _row(spec.cell)
        border = row not in loose.get(spec.sheet, set()) and not (
            spec.sheet in (L.SHEET_SG, L.SHEET_BASIC) and row == 2)
        numeric = spec.kind in NUMERIC_KINDS
        halign = "right" if numeric else ("center" if spec.kind in (L.DATE, L.CHOICE, L.YEAR) else "left")
        wrap = spec.kind in (L.LONGTEXT, L.TEXT)
        align = Alignment(horizontal=halign, vertical="top" if spec.kind == L.LONGTEXT else "center",
                          wrap_text=wrap)
        c = ws[spec.cell]
        if spec.is_input:
            style(ws, rng, font=FONT_INPUT, fill=INPUT_FILL, align=align, fmt=NUMBER_FORMATS[spec.kind],
                  locked=False, border=border)
            v = _python_value(values.get(spec.key))
            if v is not None:
                set_text(c, v) if isinstance(v, str) else setattr(c, "value", v)
        else:
            # Text-formatted formula cells turn into text when edited: keep them General.
            fmt = "General" if spec.kind in (L.TEXT, L.LONGTEXT) else NUMBER_FORMATS[spec.kind]
            style(ws, rng, font=FONT, fill=FORMULA_FILL, align=align, fmt=fmt, locked=True, border=border)
            c.value = spec.formula

    # Lists: every cell an input.
    for lst in lay.lists.values():
        ws = sheets[lst.sheet]
        rows = values.get(lst.key) or []
        if len(rows) > lst.rows:
            raise ValueError(f"{lst.key}: {len(rows)} rows given but the layout has {lst.rows}; "
                             f"build the layout with more rows")
        for i in range(lst.rows):
            r = lst.first_row + i
            data = rows[i] if i < len(rows) else None
            if data is not None and not isinstance(data, dict):
                data = dict(zip(lst.columns, data))
            for attr, col in lst.columns.items():
                coord = f"{col}{r}"
                cell = ws[coord]
                kind = lst.kinds[attr]
                if isinstance(cell, MergedCell):
                    continue
                if lst.key == "indicators" and attr in ("level1", "level2"):
                    # headings come from the layout (merged labels); a value may replace them
                    pass
                else:
                    fmt = "@" if kind == L.TEXT else NUMBER_FORMATS[kind]
                    wrap = kind == L.TEXT
                    halign = "left" if kind == L.TEXT else "right"
                    if lst.key == "indicators" and attr in ("target", "actual"):
                        halign = "center"
                    style(ws, coord, font=FONT_INPUT, fill=INPUT_FILL, fmt=fmt, locked=False,
                          align=Alignment(horizontal=halign, vertical="center", wrap_text=wrap))
                if data is not None and data.get(attr) not in (None, ""):
                    v = _python_value(data[attr])
                    set_text(cell, v) if isinstance(v, str) else setattr(cell, "value", v)

    # Borders: whole merged ranges get them so the frame is closed; boxed sheets get a full grid.
    for s, coords in bordered.items():
        ws = sheets[s]
        if s in BOXED_SHEETS and coords:
            rows = [_row(c) for c in coords]
            cols = [column_index_from_string(_col(c)) for c in coords]
            coords = set(_cells(f"{get_column_letter(min(cols))}{min(rows)}:{get_column_letter(max(cols))}{max(rows)}"))
        for coord in coords:
            ws[coord].border = BORDER

    # Row heights for long text (Excel does not grow merged rows by itself).
    _row_heights(lay, sheets, values)

    _defined_names(wb, lay)
    _validations(lay, sheets)
    _conditional_formats(lay, sheets)
    _protect_and_print(lay, sheets)
    _guide_sheet(lay, sheets[L.SHEET_GUIDE])
    wb.active = 0
    wb.properties.creator = "perfeval-xl"
    wb.properties.title = "部门整体支出绩效自评表"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.lastModifiedBy = "perfeval-xl"
    return wb


def text_lines(text, width_chars: float, bold: bool = False) -> int:
    """How many lines ``text`` wraps to in a column ``width_chars`` wide (11 pt 宋体, Excel's metrics:
    a CJK character is 15 px, one more when bold, a width unit 7 px; 5 % slack for line-breaking rules
    once the text wraps at all)."""
    avail = max(1.0, width_chars * _UNIT_PX + _PAD_PX - 6)  # less the cell's inner padding
    extra = 1.0 if bold else 0.0
    lines = 0
    for part in str(text).split("\n"):
        px = sum((_CJK_PX if ord(ch) > 0x2E80 else _ASCII_PX) + extra for ch in part)
        lines += max(1, math.ceil((px * 1.05 if px > avail else px) / avail))
    return lines


def _text_height(text, width_chars: float, line: float = LINE_HEIGHT, minimum: float = 20.0,
                 bold: bool = False) -> float:
    if not text:
        return minimum
    return max(minimum, min(409.0, text_lines(text, width_chars, bold) * line + 4))


def display_text(text: str) -> str:
    """What a label shows once the year is typed, for sizing: '=IF(y="","本年",y&"年")&"实际在职人数"'
    shows "2024年实际在职人数"."""
    if not text.startswith("="):
        return text
    literals = re.findall(r'"([^"]*)"', text)
    if len(literals) >= 3 and literals[0] == "":  # IF(year="", blank text, year & …)
        return max("0000" + "".join(literals[2:]), literals[1], key=len)
    return max(literals, key=len, default="")


def _row_heights(lay, sheets, values) -> None:
    for spec in lay.fields.values():
        if spec.kind != L.LONGTEXT:
            continue
        ws = sheets[spec.sheet]
        width = 0.0
        for coord in _cells(_rng(spec.cell, spec.merge_to)):
            if _row(coord) == _row(spec.cell):
                width += col_widths(lay, spec.sheet).get(_col(coord), 9)
        text = values.get(spec.key)
        h = _text_height(text, width, minimum=60.0 if spec.sheet != L.SHEET_NARRATIVE else 45.0)
        r = _row(spec.cell)
        current = ws.row_dimensions[r].height or 0
        ws.row_dimensions[r].height = max(h, current)
    ws = sheets[L.SHEET_SELF]
    ind = lay.lists["indicators"]
    ws.row_dimensions[12].height = 30
    for r in range(ind.first_row, ind.last_row + 1):
        ws.row_dimensions[r].height = 30
    # Unmerged labels and list entries wrap inside their column: give the row room for them
    # (header formulas such as "2024年实际在职人数" too; footer labels shrink instead of wrapping).
    wanted: dict[tuple[str, int], float] = {}
    for lab in lay.labels:
        if lab.merge_to or lab.role in ("title", "note") or _is_footer_label(lay, lab):
            continue
        text = display_text(lab.text)
        if lab.text.startswith("=") and lab.role != "header":
            continue
        width = col_widths(lay, lab.sheet).get(_col(lab.cell), 9)
        key = (lab.sheet, _row(lab.cell))
        wanted[key] = max(wanted.get(key, 0), _text_height(text, width, minimum=0, bold=lab.role == "header"))
    for lst in lay.lists.values():
        for i, data in enumerate(values.get(lst.key) or []):
            if data is None:
                continue
            items = data.items() if isinstance(data, dict) else zip(lst.columns, data)
            for attr, v in items:
                if isinstance(v, str) and attr in lst.columns:
                    width = col_widths(lay, lst.sheet).get(lst.columns[attr], 9)
                    key = (lst.sheet, lst.first_row + i)
                    wanted[key] = max(wanted.get(key, 0), _text_height(v.strip(), width, minimum=0))
    for (sheet, r), h in wanted.items():
        dim = sheets[sheet].row_dimensions[r]
        if h > (dim.height or 15):
            dim.height = h


def _defined_names(wb: Workbook, lay: L.Layout) -> None:
    for spec in lay.fields.values():
        wb.defined_names[spec.name] = DefinedName(spec.name, attr_text=f"{_quote(spec.sheet)}!{_abs(spec.cell)}")
    for lst in lay.lists.values():
        wb.defined_names[lst.name] = DefinedName(lst.name, attr_text=f"{_quote(lst.sheet)}!{lst.ref()}")
    wb.defined_names[L.VERSION_NAME] = DefinedName(L.VERSION_NAME, attr_text=f'"{L.TEMPLATE_VERSION}"')


def _dv(ws, ref, *, type=None, operator=None, formula1=None, formula2=None, title=None, prompt=None,
        error=None, allow_blank=True):
    dv = DataValidation(type=type, operator=operator, formula1=formula1, formula2=formula2,
                        allow_blank=allow_blank, showInputMessage=bool(prompt), showErrorMessage=bool(error))
    if prompt:
        dv.promptTitle = (title or "填写提示")[:32]
        dv.prompt = prompt[:255]
    if error:
        dv.errorTitle = "输入有误"
        dv.error = error[:255]
        dv.errorStyle = "stop"
    dv.add(ref)
    ws.add_data_validation(dv)
    return dv


def _field_validation(ws, spec: L.FieldSpec, ref: str) -> None:
    prompt = spec.prompt or KIND_PROMPTS.get(spec.kind)
    if spec.key.endswith("_signature"):
        prompt = "单位负责人在打印件上签字；电子表格中可填写姓名。"
    title = spec.label
    err = KIND_ERRORS.get(spec.kind)
    k = spec.kind
    if k in (L.AMOUNT, L.AREA):
        _dv(ws, ref, type="decimal", operator="greaterThanOrEqual", formula1="0", title=title, prompt=prompt, error=err)
    elif k == L.SIGNED:
        _dv(ws, ref, type="decimal", operator="between", formula1="-1000000000", formula2="1000000000",
            title=title, prompt=prompt, error=err)
    elif k == L.COUNT:
        _dv(ws, ref, type="whole", operator="greaterThanOrEqual", formula1="0", title=title, prompt=prompt, error=err)
    elif k == L.YEAR:
        _dv(ws, ref, type="whole", operator="between", formula1="2000", formula2="2100", title=title, prompt=prompt,
            error=err)
    elif k == L.DATE:
        # 2000-01-01 .. 2100-12-31 as serial numbers
        _dv(ws, ref, type="date", operator="between", formula1="36526", formula2="73415", title=title, prompt=prompt,
            error=err)
    elif k == L.CHOICE:
        _dv(ws, ref, type="list", formula1='"有,无"', title=title, prompt=prompt, error=err)
    elif k == L.PHONE:
        _dv(ws, ref, type="textLength", operator="between", formula1="7", formula2="20", title=title, prompt=prompt,
            error=err)
    elif k == L.POINTS:
        _dv(ws, ref, type="decimal", operator="between", formula1="0", formula2="100", title=title,
            prompt="填写分值（0～100）。", error="分值须在 0 至 100 之间。")
    else:  # text: an input message only
        _dv(ws, ref, title=title, prompt=prompt)


def _validations(lay: L.Layout, sheets) -> None:
    for spec in lay.fields.values():
        if spec.is_input:
            _field_validation(sheets[spec.sheet], spec, _rng(spec.cell, spec.merge_to))
    p = lay.lists["projects"]
    ws = sheets[p.sheet]
    f, t = p.first_row, p.last_row
    _dv(ws, f"A{f}:A{t}", title="项目名称", prompt="每行填一个项目；行不够时在本列表内（最后一行之上）插入行，合计与名称范围会自动扩展。")
    for attr, col in p.columns.items():
        if attr == "name":
            continue
        _dv(ws, f"{col}{f}:{col}{t}", type="decimal", operator="greaterThanOrEqual", formula1="0",
            title="项目金额（万元）", prompt=KIND_PROMPTS[L.AMOUNT], error=KIND_ERRORS[L.AMOUNT])
    ind = lay.lists["indicators"]
    ws = sheets[ind.sheet]
    f, t = ind.first_row, ind.last_row
    cols = ind.columns
    l1 = ",".join(L.LEVEL1_CHOICES)
    l2 = ",".join(L.LEVEL2_CHOICES)
    _dv(ws, f"{cols['level1']}{f}:{cols['level1']}{t}", type="list", formula1=f'"{l1}"', title="一级指标",
        prompt="从下拉列表选择一级指标，括号内为该类指标的总分值。", error="请从下拉列表选择一级指标。")
    _dv(ws, f"{cols['level2']}{f}:{cols['level2']}{t}", type="list", formula1=f'"{l2}"', title="二级指标",
        prompt="从下拉列表选择二级指标。", error="请从下拉列表选择二级指标。")
    _dv(ws, f"{cols['name']}{f}:{cols['name']}{t}", title="三级指标",
        prompt="填写三级指标名称；不适用的填“不适用”，且不填分值。")
    _dv(ws, f"{cols['target']}{f}:{cols['target']}{t}", title="年度指标值",
        prompt="写比较符和数值，如 ≥90%、=24、≤5、=100%、不超支；定性指标写文字。本列为文本格式。")
    _dv(ws, f"{cols['actual']}{f}:{cols['actual']}{t}", title="实际完成值",
        prompt="填写实际完成的数值或情况，如 97.24%。本列为文本格式。")
    g, h = cols["points"], cols["score"]
    _dv(ws, f"{g}{f}:{g}{t}", type="decimal", operator="between", formula1="0", formula2="100", title="分值",
        prompt="本指标分值（0～100）；同一一级指标下的分值之和应等于其总分值。", error="分值须在 0 至 100 之间。")
    _dv(ws, f"{h}{f}:{h}{t}", type="custom", formula1=f"AND(ISNUMBER({h}{f}),{h}{f}>=0,{h}{f}<=100,{h}{f}<=N({g}{f}))",
        title="自评得分", prompt="自评得分不能超过本行分值；未满分时须在右侧填写偏差原因。",
        error="自评得分须在 0 与本行分值之间。")
    _dv(ws, f"{cols['reason']}{f}:{cols['reason']}{t}", title="偏差原因分析及改进措施",
        prompt="自评得分低于分值、或实际值大幅超过目标时，写明原因和改进措施（“无”不算说明）。")


def _cf(ws, ref: str, formula: str) -> None:
    ws.conditional_formatting.add(ref, FormulaRule(formula=[formula], fill=ALERT_FILL, font=ALERT_FONT,
                                                   stopIfTrue=False))


def _conditional_formats(lay: L.Layout, sheets) -> None:
    f = lay.fields
    # (a) an actual above its budget (B 决算 vs C 预算), rows 4..7.
    ws = sheets[L.SHEET_SG]
    a0, a1 = _row(f["sg_abroad_actual"].cell), _row(f["sg_total_actual"].cell)
    _cf(ws, f"B{a0}:B{a1}", f"AND(ISNUMBER($B{a0}),ISNUMBER($C{a0}),$B{a0}>$C{a0})")
    _cf(ws, f"D{a0}:D{a1}", f"AND(ISNUMBER($D{a0}),$D{a0}>0)")
    # (b) every row with a budget (C) and an actual (D).
    ws = sheets[L.SHEET_BASIC]
    rows = sorted({_row(s.cell) for k, s in f.items()
                   if s.sheet == L.SHEET_BASIC and k.endswith("_actual") and f"{k[:-7]}_budget" in f
                   and k[:-7] != "basic_adjustment"})
    p = lay.lists["projects"]
    rows = sorted(set(rows) | set(range(p.first_row, p.last_row + 1)))
    for lo, hi in _runs(rows):
        _cf(ws, f"D{lo}:D{hi}", f"AND(ISNUMBER($D{lo}),ISNUMBER($C{lo}),$D{lo}>$C{lo})")
    for key in ("staff_rate", "building_area_rate", "building_investment_rate"):
        c = f[key].cell
        _cf(ws, c, f"AND(ISNUMBER({_abs(c)}),{_abs(c)}>1)")
    # (c) 执行率 > 100%, 自评得分 > 分值, 总分分值 != 100.
    ws = sheets[L.SHEET_SELF]
    c = f["execution_rate"].cell
    _cf(ws, c, f"AND(ISNUMBER({_abs(c)}),{_abs(c)}>1)")
    ind = lay.lists["indicators"]
    g, h = ind.columns["points"], ind.columns["score"]
    lo, hi = ind.first_row, ind.last_row
    _cf(ws, f"{h}{lo}:{h}{hi}", f"AND(ISNUMBER({h}{lo}),{h}{lo}>N({g}{lo}))")
    c = f["points_total"].cell
    # only once some 分值 is typed: the blank template's 10 (执行率分值 alone) is not an error yet
    _cf(ws, c, f"AND(ISNUMBER({_abs(c)}),COUNT(${g}${lo}:${g}${hi})>0,ROUND({_abs(c)},2)<>100)")


def _runs(rows):
    """Consecutive runs of row numbers: [6,7,8,10] -> [(6,8),(10,10)]."""
    out = []
    for r in rows:
        if out and r == out[-1][1] + 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


def _protect_and_print(lay: L.Layout, sheets) -> None:
    for name, ws in sheets.items():
        prot = ws.protection
        prot.sheet = True  # no password: protection guards formulas against slips, not people
        prot.formatRows = False  # False = allowed
        prot.formatColumns = False
        prot.insertRows = False
        prot.deleteRows = False
        prot.formatCells = True
        prot.selectLockedCells = False
        prot.selectUnlockedCells = False
        ps = ws.page_setup
        ps.paperSize = ws.PAPERSIZE_A4
        width = sum(col_widths(lay, name).values()) or 110
        landscape = width > LANDSCAPE_WIDTH
        ps.orientation = "landscape" if landscape else "portrait"
        ps.fitToWidth = 1
        ps.fitToHeight = 0
        # 绩效自评表 on as few pages as keeps the text readable, so that the 总分 row and the footer
        # never print alone on a last page (the seed: one page; the blank template's 23 indicator rows: two).
        if name == L.SHEET_SELF:
            ps.fitToHeight = print_pages(lay, ws, landscape)
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
        ws.page_margins.left = ws.page_margins.right = MARGIN_LR
        ws.page_margins.top = ws.page_margins.bottom = MARGIN_TB
        if name in lay.title_rows:
            ws.print_title_rows = lay.title_rows[name]
        ws.sheet_view.zoomScale = 100


def print_scale(lay: L.Layout, ws, landscape: bool, pages: int = 1) -> float:
    """The print scale that puts the sheet one A4 page wide and ``pages`` pages tall (1.0: no shrinking).
    Estimated from the column widths and row heights (repeated title rows ignored)."""
    page_w, page_h = (_A4_LONG, _A4_SHORT) if landscape else (_A4_SHORT, _A4_LONG)
    avail_w, avail_h = page_w - 2 * MARGIN_LR * 72, page_h - 2 * MARGIN_TB * 72
    sheet_w = sum((w * _UNIT_PX + _PAD_PX) * 0.75 for w in col_widths(lay, ws.title).values())
    sheet_h = 0.0
    for r in range(1, ws.max_row + 1):
        dim = ws.row_dimensions.get(r)  # .get: do not create row records
        sheet_h += dim.height if dim is not None and dim.height else DEFAULT_ROW_HEIGHT
    return min(1.0, avail_w / max(sheet_w, 1.0), pages * avail_h / max(sheet_h, 1.0))


def print_pages(lay: L.Layout, ws, landscape: bool, most: int = 9) -> int:
    """The fewest pages tall the sheet prints on at a readable scale (at least MIN_PRINT_SCALE)."""
    for pages in range(1, most + 1):
        if print_scale(lay, ws, landscape, pages) >= MIN_PRINT_SCALE:
            return pages
    return 0  # as many as it takes


def _guide_sheet(lay: L.Layout, ws) -> None:
    """填报说明: how to fill each table, which cells compute themselves, how lists grow, the scoring."""
    ws.column_dimensions["A"].width = GUIDE_WIDTH
    p, ind = lay.lists["projects"], lay.lists["indicators"]
    f = lay.fields
    lines: list[tuple[str, str]] = [
        ("title", "部门整体支出绩效自评表 填报说明"),
        ("head", "一、总体要求"),
        ("text", "1. 金额单位为万元，保留两位小数；百分比保留两位小数。只在浅黄色单元格中填写，灰色单元格为自动计算，已锁定。"),
        ("text", "2. 工作表已保护（无密码），防止误改公式；可以调整行高列宽、插入和删除行。确需修改公式时，"
                 "可在“审阅 → 撤销工作表保护”后修改，但校验程序会提示与模板公式不一致。"),
        ("text", "3. 数字请直接输入数字，不要输入“万元”、空格或全角字符；没有发生的金额填 0 或留空。日期输入为 2025-04-22 形式。"),
        ("text", f"4. 先在“{L.SHEET_SG}”填写编报单位和年度（{f['unit_name'].cell}、{f['year'].cell}），"
                 "各表标题和“××年决算数”等表头随年度自动变化。"),
        ("head", f"二、{L.SHEET_SG}"),
        ("text", "填写因公出国经费、公务接待费的本年决算数、本年预算数、上年决算数。公务用车运行及购置一行取自"
                 f"“{L.SHEET_BASIC}”的公车购置与公车运行维护之和，合计、比预算增减数、比上年增减数、增减% 自动计算；"
                 "上年决算数为 0 时增减% 显示“—”。"),
        ("head", f"三、{L.SHEET_BASIC}"),
        ("text", "填写编制数、实际在职人数（控制率 = 实际在职人数 / 编制数，自动计算），公车购置、公车运行维护三列金额，"
                 "公用经费及其中明细（明细为其中数，合计不小于明细之和），政府采购金额，楼堂馆所情况和厉行节约保障措施。"),
        ("text", f"项目支出：第 {p.first_row}～{p.last_row} 行每行填一个项目（名称、上年决算数、本年预算数、本年决算数），"
                 f"合计（第 {_row(f['bd_projects_total_actual'].cell)} 行）自动求和；本年决算合计即“{L.SHEET_SELF}”中的项目支出。"),
        ("text", "增加项目行：选中项目列表中最后一行之上的任一行（不要选列表外的行），右键“插入”整行，"
                 "合计公式、名称范围 pe_projects、数据验证和条件格式会一起扩展。删除多余空行同理。"),
        ("head", f"四、{L.SHEET_SELF}"),
        ("text", "年度资金总额：填写年初预算数、全年预算数（调整后预算）、全年执行数；按收入性质、按支出性质填写其中数。"
                 "分值（10 分）、执行率、得分自动计算。"),
        ("text", "绩效指标：一级、二级指标从下拉列表选择，已按常用结构合并单元格；三级指标、年度指标值、实际完成值、分值、"
                 "自评得分、偏差原因逐行填写。年度指标值和实际完成值为文本格式，可直接输入 “=24”“≥90%”“不超支”。"
                 "不适用的行写“不适用”，不填分值和得分。"),
        ("text", f"增加指标行：在指标列表（第 {ind.first_row}～{ind.last_row} 行）最后一行之上插入整行，"
                 "再调整一级、二级指标的合并范围；总分与分值合计会自动扩展。"),
        ("head", "五、评分规则（简要）"),
        ("text", "1. 执行率 = 全年执行数 / 全年预算数；得分 = 分值 × 执行率，最高不超过分值（执行率超过 100% 属于数据异常，不加分）。"),
        ("text", "2. 自评得分在 0 与分值之间；正向指标（≥、>）达到目标得满分，否则按 实际值/目标值 × 分值；"
                 "反向指标（≤、<）达到目标得满分，否则按偏离程度扣分；定性指标按 达成 80%～100%、部分达成 60%～80%、"
                 "未达成 0～60% 的分值区间评分。"),
        ("text", "3. 总分 = 执行率得分 + 各指标自评得分之和；分值合计应为 100（预算执行率 10、产出 50、效益 30、满意度 10，"
                 "无满意度指标时效益 40）。"),
        ("text", "4. 等级：优 ≥ 90 分；良 80～90 分；中 60～80 分；差 < 60 分。"),
        ("text", "5. 自评得分低于分值、实际值超过目标 30% 以上、或执行率低于 90% 时，须填写偏差原因分析及改进措施。"),
        ("head", "六、自动计算的单元格（请勿覆盖）"),
    ]
    for sheet in (L.SHEET_SG, L.SHEET_BASIC, L.SHEET_SELF):
        items = [f"{s.label}（{s.cell}）" for s in computed_fields(lay) if s.sheet == sheet]
        lines.append(("text", f"{sheet}：" + "、".join(items) + "。"))
    lines += [
        ("head", f"七、{L.SHEET_NARRATIVE}"),
        ("text", "填写自评报告正文所需、表格中没有的内容：主要职能、机构情况、收支与结转结余、三项基金支出有无、"
                 "绩效情况、存在问题、改进措施、结果应用和其他说明。自评报告由程序根据本工作簿生成。"),
        ("head", "八、校验"),
        ("text", "填写完成后点击加载项中的“校验”按钮，或由财政局批量复核；发现的问题会标注在对应单元格，"
                 "并汇总在“校验结果”工作表中。再次校验会先恢复单元格原有格式。"),
    ]
    for i, (kind, text) in enumerate(lines, start=1):
        c = ws.cell(row=i, column=1, value=text)
        if kind == "title":
            c.font = FONT_TITLE
            c.alignment = Alignment(horizontal="center", vertical="center")
            ws.row_dimensions[i].height = 30
        elif kind == "head":
            c.font = FONT_BOLD
            c.alignment = Alignment(wrap_text=True, vertical="center")
            ws.row_dimensions[i].height = _text_height(text, GUIDE_WIDTH, minimum=20)
        else:
            c.font = FONT
            c.alignment = Alignment(wrap_text=True, vertical="top")
            ws.row_dimensions[i].height = _text_height(text, GUIDE_WIDTH, minimum=18)
    ws.protection.sheet = True
    ps = ws.page_setup
    ps.paperSize = ws.PAPERSIZE_A4
    ps.orientation = "portrait"
    ps.fitToWidth, ps.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = MARGIN_LR
    ws.page_margins.top = ws.page_margins.bottom = MARGIN_TB


# ---- saving ------------------------------------------------------------------
_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def save_deterministic(wb: Workbook, path: str) -> str:
    """Save with fixed zip timestamps and document dates, so a rebuild gives the same bytes."""
    buf = io.BytesIO()
    wb.save(buf)
    normalize_zip(buf.getvalue(), path)
    return path


def normalize_zip(data: bytes, path: str) -> None:
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    src = zipfile.ZipFile(io.BytesIO(data))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _CORE_DATES.sub(lambda m: m.group(1) + stamp + m.group(3), body)
            zi = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            out.writestr(zi, body)
    os.replace(tmp, path)


def build_template(path: str, layout: L.Layout | None = None, values: dict | None = None) -> str:
    """Write the template (optionally pre-filled with ``values``) to ``path``; return ``path``."""
    return save_deterministic(build_workbook(layout, values), os.fspath(path))


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="生成部门整体支出绩效自评表模板")
    ap.add_argument("-o", "--output", default=TEMPLATE_PATH)
    args = ap.parse_args(argv)
    print(build_template(args.output))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


# ---- comparing workbooks -------------------------------------------------------
def _norm_formula(text: str, sheets) -> str:
    for s in sheets:  # LibreOffice drops the quotes around sheet names
        text = text.replace(_quote(s) + "!", s + "!")
    return text


def _norm_value(v):
    if isinstance(v, float):
        return float(f"{v:.12g}")
    if isinstance(v, _dt.datetime):
        return v.isoformat()
    return v


def canonical_content(path: str) -> dict:
    """What a workbook says, independent of who saved it: sheet order, every cell's formula or
    typed value (text vs number kept apart), cached values, defined names, merges.
    Used to check that a committed example equals what the code builds."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    cached = load_workbook(path, data_only=True)
    sheets = wb.sheetnames
    out: dict = {"sheets": sheets, "names": {}, "cells": {}, "merges": {}}
    for name, dn in wb.defined_names.items():
        out["names"][name] = _norm_formula(dn.attr_text, sheets)
    for ws in wb.worksheets:
        cws = cached[ws.title]
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is None:
                    continue
                if c.data_type == "f":
                    cells[c.coordinate] = ("f", _norm_formula(str(c.value), sheets),
                                           _norm_value(cws[c.coordinate].value))
                else:
                    cells[c.coordinate] = (c.data_type, _norm_value(c.value))
        out["cells"][ws.title] = cells
        out["merges"][ws.title] = sorted(str(r) for r in ws.merged_cells.ranges)
    return out


def zip_parts(path: str) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}
