"""The bundled examples: the seed report (益阳市人民政府办公室 2024) twice.

- 益阳市人民政府办公室_2024.xlsx: our template filled the way a clerk types it (numbers
  into number cells, dates as dates, 年度指标值/实际完成值 as text exactly as printed),
  derived cells keep their formulas; then passed through LibreOffice so that it carries
  cached values like any saved submission.
- 益阳市人民政府办公室_2024_原表.xlsx: the same data as a department sends it in the
  official layout: renamed sheets, no defined names, no formulas, every derived figure
  typed as printed, messy strings as printed, values typed inside labels.

    python -m perfeval_xl.examples            # regenerate examples/*.xlsx
"""
from __future__ import annotations

import datetime as _dt
import io
import os
import re
import tempfile
import zipfile
from decimal import Decimal, InvalidOperation

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from . import layout as L
from . import seed
from .recalc import recalculate
from .template import REPO_ROOT, build_template, normalize_zip, save_deterministic, set_text

EXAMPLES_DIR = os.path.join(REPO_ROOT, "examples")
SEED_EXAMPLE = "益阳市人民政府办公室_2024.xlsx"
SEED_ORIGINAL = "益阳市人民政府办公室_2024_原表.xlsx"
SPARE_PROJECT_ROWS = 3

# Sheet names of the 原表: renamed on purpose, as departments do.
ORIG_SG, ORIG_BASIC, ORIG_SELF = "三公经费", "基础数据表", "自评表"

_SPACES = " \u3000\t\r\n\xa0"
_NUM = re.compile(r"-?\d+(\.\d+)?")


def _clean(text: str) -> str:
    return (text or "").strip(_SPACES)


def clerk_number(text: str):
    """What a clerk types into a number cell: "116　" -> 116, "　" -> None."""
    t = _clean(text)
    if not t:
        return None
    try:
        d = Decimal(t)
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {text!r}") from exc
    return int(d) if d == d.to_integral_value() else float(d)


def clerk_date(text: str):
    t = _clean(text)
    if not t:
        return None
    m = re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", t)
    if not m:
        raise ValueError(f"not a date: {text!r}")
    return _dt.datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def clerk_value(kind: str, text: str):
    if kind in (L.AMOUNT, L.SIGNED, L.AREA, L.COUNT, L.YEAR, L.POINTS, L.PERCENT):
        return clerk_number(text)
    if kind == L.DATE:
        return clerk_date(text)
    t = _clean(text)
    return t or None


def project_rows() -> int:
    return len(seed.PROJECTS) + SPARE_PROJECT_ROWS


def seed_layout() -> L.Layout:
    return L.build_layout(project_rows=project_rows(), indicator_groups=seed.INDICATOR_GROUPS)


def seed_values(lay: L.Layout | None = None) -> dict:
    """The seed typed into our template: field key -> value, plus the two lists."""
    lay = lay or seed_layout()
    values: dict = {}
    for key, text in {**seed.INPUTS, **seed.NARRATIVE}.items():
        spec = lay.fields[key]
        assert spec.is_input, key
        v = clerk_value(spec.kind, text)
        if v is not None:
            values[key] = v
    values["projects"] = [
        {"name": name.strip(_SPACES), "prev": clerk_number(prev), "budget": clerk_number(budget),
         "actual": clerk_number(actual)}
        for name, prev, budget, actual in seed.PROJECTS
    ]
    # 一级/二级 come from the layout's headings (the clerk picks them from the list).
    values["indicators"] = [
        {"name": _clean(name) or None, "target": target if _clean(target) else None,
         "actual": actual if _clean(actual) else None, "points": clerk_number(points),
         "score": clerk_number(score), "reason": _clean(reason) or None}
        for _l1, _l2, name, target, actual, points, score, reason in seed.INDICATORS
    ]
    return values


def build_seed_example(path: str) -> str:
    """The seed in our template, formulas only (no cached values): the input of recalculation."""
    lay = seed_layout()
    return build_template(path, lay, seed_values(lay))


# ---- the 原表 ------------------------------------------------------------------
_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_FONT = Font(name="宋体", size=10.5)
_TITLE = Font(name="宋体", size=16, bold=True)


def _typed(text):
    """A printed cell as typed: plain numbers become numbers, "95.96%" a percentage,
    anything with odd spaces or signs stays the string that was printed."""
    if text is None or text == "":
        return None, None
    if isinstance(text, str) and _NUM.fullmatch(text):
        d = Decimal(text)
        return (int(d) if d == d.to_integral_value() else float(d)), None
    if isinstance(text, str) and re.fullmatch(r"-?\d+(\.\d+)?%", text):
        return float(Decimal(text[:-1]) / 100), "0.00%"
    return text, None


def _put(ws, coord, text, *, merge_to=None, bold=False, center=False, border=True, typed=True):
    if merge_to:
        ws.merge_cells(f"{coord}:{merge_to}")
    c = ws[coord]
    value, fmt = _typed(text) if typed else (text or None, None)
    if isinstance(value, str):
        set_text(c, value)  # "=100%" printed as text stays text
    else:
        c.value = value
    if fmt:
        c.number_format = fmt
    c.font = Font(name="宋体", size=10.5, bold=bold)
    c.alignment = Alignment(horizontal="center" if center else None, vertical="center", wrap_text=True)
    if border:
        rng = ws[f"{coord}:{merge_to}"] if merge_to else ((c,),)
        for row in rng:
            for cell in row:
                cell.border = _BORDER


def _title(ws, coord, text, merge_to):
    ws.merge_cells(f"{coord}:{merge_to}")
    c = ws[coord]
    c.value = text
    c.font = _TITLE
    c.alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[c.row].height = 30


def build_original_workbook() -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    I, D, P = seed.INPUTS, seed.PRINTED_DERIVED, seed.PROJECTS
    year = int(seed.YEAR)

    # (a) 三公经费: the table as printed inside the report, 增减% as plain numbers.
    ws = wb.create_sheet(ORIG_SG)
    for col, w in zip("ABCDEFG", (22, 12, 12, 12, 12, 12, 10)):
        ws.column_dimensions[col].width = w
    _title(ws, "A1", f"{year}年度部门“三公”经费情况（万元）", "G1")
    heads = ("项目", f"{year}年\n\n决算数", f"{year}年\n\n预算数", "比预算\n\n增减数", f"{year - 1}年\n\n决算数",
             "比上年\n\n增减数", "增减%")
    for col, text in zip("ABCDEFG", heads):
        _put(ws, f"{col}2", text, bold=True, center=True)
    ws.row_dimensions[2].height = 45
    pct_printed = {"abroad": "-88.11", "car": "133.82", "reception": "-61.41", "total": "37.5"}
    for r, (key, label) in enumerate((("abroad", "因公出国经费"), ("car", "公务用车运行及购置"),
                                      ("reception", "公务接待费"), ("total", "合计")), start=3):
        cells = [
            label,
            I.get(f"sg_{key}_actual") or D[f"sg_{key}_actual"],
            I.get(f"sg_{key}_budget") or D[f"sg_{key}_budget"],
            D[f"sg_{key}_diff_budget"],
            I.get(f"sg_{key}_prev") or D[f"sg_{key}_prev"],
            D[f"sg_{key}_diff_prev"],
            pct_printed[key],
        ]
        for col, text in zip("ABCDEFG", cells):
            _put(ws, f"{col}{r}", text)

    # (b) 基础数据表, row by row as printed.
    ws = wb.create_sheet(ORIG_BASIC)
    for col, w in zip("ABCDEFG", (36, 13, 14, 14, 14, 14, 14)):
        ws.column_dimensions[col].width = w
    _title(ws, "A1", f"{year}年度部门整体支出绩效评价基础数据表", "G1")
    rows: list[tuple] = [
        ("财政供养人员情况（人）", "编制数", f"{year}年实际在职人数", "控制率"),
        ("", I["staff_quota"], I["staff_actual"], D["staff_rate"]),
        ("经费控制情况（万元）", f"{year - 1}年决算数", f"{year}年预算数", f"{year}年决算数"),
        ("三公经费", D["bd_sg_total_prev"], D["bd_sg_total_budget"], D["bd_sg_total_actual"]),
        ("   1、公务用车购置和维护经费", D["bd_car_prev"], D["bd_car_budget"], D["bd_car_actual"]),
        (" 其中：公车购置", I["bd_car_purchase_prev"], I["bd_car_purchase_budget"], I["bd_car_purchase_actual"]),
        ("         公车运行维护", I["bd_car_maintenance_prev"], I["bd_car_maintenance_budget"],
         I["bd_car_maintenance_actual"]),
        ("2、出国经费", D["bd_abroad_prev"], D["bd_abroad_budget"], D["bd_abroad_actual"]),
        ("3、公务接待", D["bd_reception_prev"], D["bd_reception_budget"], D["bd_reception_actual"]),
        ("项目支出：", D["bd_projects_total_prev"], D["bd_projects_total_budget"], D["bd_projects_total_actual"]),
        *P,
        ("3、市级专项资金（一个专项一行）", "", "\u3000", "\u3000"),
        ("……", "", "\u3000", "\u3000"),
        ("公用经费", I["public_total_prev"], I["public_total_budget"], I["public_total_actual"]),
        ("其中：办公费", I["public_office_prev"], I["public_office_budget"], I["public_office_actual"]),
        ("        水费、电费、差旅费", I["public_utilities_travel_prev"], I["public_utilities_travel_budget"],
         I["public_utilities_travel_actual"]),
        ("    会议费、培训费", I["public_meetings_training_prev"], I["public_meetings_training_budget"],
         I["public_meetings_training_actual"]),
        ("政府采购金额", "——", I["procurement_budget"], I["procurement_actual"]),
        ("部门基本支出预算调整 ", "——", I["basic_adjustment_budget"], I["basic_adjustment_actual"]),
    ]
    r = 2
    for row in rows:
        header = row[0] in ("财政供养人员情况（人）", "经费控制情况（万元）")
        for col, text in zip("ABCD", row):
            _put(ws, f"{col}{r}", text, bold=header, center=header and col != "A", typed=not header)
        if "\n" in row[0]:
            ws.row_dimensions[r].height = 30
        r += 1
    heads = (f"楼堂馆所控制情况\n（{year - 1}年完工项目）", "批复规模\n（㎡）", "实际规模（㎡）", "规模控制率",
             "预算投资（万元）", "实际投资（万元）", "投资概算控制率")
    for col, text in zip("ABCDEFG", heads):
        _put(ws, f"{col}{r}", text, bold=True, center=True, typed=False)
    ws.row_dimensions[r].height = 30
    r += 1
    _put(ws, f"A{r}", "")
    for col in "BCDEFG":
        _put(ws, f"{col}{r}", "\u3000")
    r += 1
    _put(ws, f"A{r}", "厉行节约保障措施")
    _put(ws, f"B{r}", I["frugality"], merge_to=f"G{r}")
    r += 1
    _put(ws, f"A{r}", "说明：“项目支出”需要填报基本支出以外的所有项目支出情况，“运行维护经费”填报项目支出中用于人员类和"
                      "公用运转类的支出。“公用经费”填报基本支出中的一般商品和服务支出。", merge_to=f"G{r}", border=False)
    ws.row_dimensions[r].height = 30
    r += 1
    _put(ws, f"A{r}", f"填表人： {I['bd_preparer']}  填报日期：{I['bd_date']}  联系电话：{I['bd_phone']}  单位负责人签字：",
         merge_to=f"G{r}", border=False, typed=False)

    # (c) 自评表.
    ws = wb.create_sheet(ORIG_SELF)
    for col, w in zip("ABCDEFGHI", (6, 16, 14, 24, 12, 12, 8, 10, 24)):
        ws.column_dimensions[col].width = w
    _title(ws, "A1", f"{year}年度部门整体支出绩效自评表", "I1")
    _put(ws, "A2", "预算部门、单位名称", merge_to="B2", center=True)
    _put(ws, "C2", seed.UNIT_NAME + "\u3000", merge_to="I2")
    _put(ws, "A3", "年度预\n\n算申请\n（万元）", merge_to="A9", bold=True, center=True)
    for col, text in zip("BCDEFGH", ("", "年初\n预算数", "全年预算数", "全年\n执行数", "分值", "执行率", "得分")):
        _put(ws, f"{col}3", text, bold=True, center=True)
    ws.row_dimensions[3].height = 30
    for col, text in zip("BCDEFGH", ("年度资金总额", I["funds_initial"], I["funds_budget"], I["funds_actual"],
                                     D["funds_points"], D["execution_rate"], D["execution_score"])):
        _put(ws, f"{col}4", text)
    _put(ws, "B5", "按收入性质分：", merge_to="D5")
    _put(ws, "E5", "按支出性质分：", merge_to="H5")
    income = (f"  其中：  一般公共预算：{I['income_general']}", "政府性基金拨款：", "纳入专户管理的非税收入拨款：", "其他资金：")
    spend = (f"其中：基本支出：{I['exp_basic']}", f"项目支出：{D['exp_project']}", "", "")
    for r, (a, b) in enumerate(zip(income, spend), start=6):
        _put(ws, f"B{r}", a, merge_to=f"D{r}", typed=False)
        _put(ws, f"E{r}", b, merge_to=f"H{r}", typed=False)
    _put(ws, "A10", "年度总体目标", merge_to="A11", bold=True, center=True)
    _put(ws, "B10", "预期目标", merge_to="E10", bold=True, center=True)
    _put(ws, "F10", "实际完成情况\u3000", merge_to="I10", bold=True, center=True)
    _put(ws, "B11", I["goal_expected"] + "  ", merge_to="E11", typed=False)
    _put(ws, "F11", I["goal_actual"], merge_to="I11", typed=False)
    ws.row_dimensions[11].height = 150
    first = 13
    last = first + len(seed.INDICATORS) - 1
    _put(ws, "A12", "绩\n\n效\n\n指\n\n标", merge_to=f"A{last}", bold=True, center=True)
    for col, text in zip("BCDEFGHI", ("一级指标", "二级指标", "三级指标", "年度\n\n指标值", "实际\n完成值", "分值",
                                      "自评得分", "偏差原因\n分析及\n改进措施")):
        _put(ws, f"{col}12", text, bold=True, center=True)
    ws.row_dimensions[12].height = 45
    # 一级 merged down its rows, as printed.
    groups: list[tuple[str, int, int]] = []
    for i, row in enumerate(seed.INDICATORS):
        r = first + i
        if groups and groups[-1][0] == row[0]:
            groups[-1] = (row[0], groups[-1][1], r)
        else:
            groups.append((row[0], r, r))
    for text, top, bottom in groups:
        _put(ws, f"B{top}", text, merge_to=f"B{bottom}" if bottom > top else None, center=True)
    for i, (_l1, l2, name, target, actual, points, score, reason) in enumerate(seed.INDICATORS):
        r = first + i
        for col, text in zip("CDEFGHI", (l2, name, target, actual, points, score, reason)):
            _put(ws, f"{col}{r}", text, center=col in "EFGH")
        ws.row_dimensions[r].height = 45
    t = last + 1
    _put(ws, f"A{t}", "总分", merge_to=f"F{t}", bold=True, center=True)
    _put(ws, f"G{t}", D["points_total"])
    _put(ws, f"H{t}", D["total_score"])
    _put(ws, f"I{t}", "\u3000")
    _put(ws, f"A{t + 1}",
         f"填表人： {I['se_preparer']}  填报日期： {I['se_date']}  联系电话： {I['se_phone']}  单位负责人签字：",
         merge_to=f"I{t + 1}", border=False, typed=False)

    wb.active = 0
    wb.properties.creator = "益阳市人民政府办公室"
    return wb


def build_original(path: str) -> str:
    from .template import FIXED_TIME

    wb = build_original_workbook()
    wb.properties.created = wb.properties.modified = FIXED_TIME
    return save_deterministic(wb, os.fspath(path))


_DV_BLOCK = re.compile(rb"(<dataValidations[^>]*>)(.*?)(</dataValidations>)", re.S)
_DV_ITEM = re.compile(rb"<dataValidation\b.*?</dataValidation>|<dataValidation\b[^>]*/>", re.S)


def _sort_validations(xml: bytes) -> bytes:
    """LibreOffice writes data validations in hash order; sort them so rebuilds diff cleanly."""
    def fix(m):
        items = _DV_ITEM.findall(m.group(2))
        if b"".join(items) != m.group(2):
            return m.group(0)  # unexpected shape: leave it alone
        return m.group(1) + b"".join(sorted(items)) + m.group(3)

    return _DV_BLOCK.sub(fix, xml)


def finish_recalculated(src: str, dest: str) -> str:
    """Copy a LibreOffice output with fixed zip/document dates and our fonts restored.

    LibreOffice without CJK fonts writes the fallback "DejaVu Sans" as the font of text
    cells; put the template's 宋体 back (a font name, nothing else, changes)."""
    with open(src, "rb") as fh:
        data = fh.read()
    src_zip = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src_zip.infolist():
            body = src_zip.read(info.filename)
            if info.filename == "xl/styles.xml":
                body = body.replace(b'<name val="DejaVu Sans"/>', '<name val="宋体"/>'.encode())
            elif info.filename.startswith("xl/worksheets/sheet"):
                body = _sort_validations(body)
            out.writestr(info, body)
    normalize_zip(buf.getvalue(), dest)
    return dest


def build_examples(outdir: str = EXAMPLES_DIR) -> list[str]:
    """Write both examples into ``outdir``; the template example is recalculated by LibreOffice."""
    os.makedirs(outdir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="perfeval-examples-") as tmp:
        raw = build_seed_example(os.path.join(tmp, SEED_EXAMPLE))
        calc_dir = os.path.join(tmp, "calc")
        (done,) = recalculate([raw], calc_dir)
        target = os.path.join(outdir, SEED_EXAMPLE)
        finish_recalculated(done, target)
    original = build_original(os.path.join(outdir, SEED_ORIGINAL))
    return [target, original]


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="生成示例工作簿（种子报告）")
    ap.add_argument("-o", "--outdir", default=EXAMPLES_DIR)
    args = ap.parse_args(argv)
    for p in build_examples(args.outdir):
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
