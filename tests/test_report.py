"""The 自评报告 written from the workbook: the seed's prose numbers, the three tables, the layout, the PDF."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from decimal import Decimal

import pytest

from conftest import require_soffice, require_tool
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt
from openpyxl import load_workbook

from perfeval_xl.examples import build_seed_example, seed_layout
from perfeval_xl.model import Kind
from perfeval_xl.readers import read_workbook
from perfeval_xl.report import build_report
from perfeval_xl.report.build import BLANK, SECTION_TITLES, outline, Para
from perfeval_xl.report.text import text_blocks

# The seed report as published (text extraction), kept beside the tests; /work/shared/seed has the original.
SEED_TXT = next((p for p in (os.path.join(os.path.dirname(__file__), "test_report_seed.txt"),
                             "/work/shared/seed/000_7daf7e59afd9bf54.txt") if os.path.isfile(p)), "")
TOL = Decimal("0.01")


def _seed_text() -> str:
    if not SEED_TXT:
        pytest.skip("the seed report text is not available")
    return open(SEED_TXT, encoding="utf-8").read()


def _seed_prose() -> list[str]:
    """The seed's paragraphs from 一、单位基本情况 to the end of 十 (the tables after it are not prose)."""
    paras = [b.text for b in text_blocks(_seed_text()) if b.kind == "para"]
    start = paras.index("一、单位基本情况")
    end = next(i for i, p in enumerate(paras) if p.endswith("基础数据表"))
    return [p for p in paras[start:end] if not p.endswith("（万元）")]  # the 三公 table's caption


@pytest.fixture(scope="module")
def doc(seed_report_docx):
    return Document(seed_report_docx)


def _text(d) -> str:
    return "\n".join(p.text for p in d.paragraphs)


# A number of the prose with the two characters before it (and 为/共计): "费为4.87万元", "编制116名".
STATEMENT = re.compile(r"([\u4e00-\u9fa5“”]{2})(为|共计)?(\d+(?:\.\d+)?)(万元|万件|名|人|个|%|件|条|项|小时)")
# The seed's own drift: its prose names line 16 "防非处非工作经费", the table "金融支出" (same 20 万元).
SEED_DRIFT = {"经费20万元": "金融支出20万元"}


def test_the_built_report_restates_every_number_of_the_seed_prose_in_its_sentence(doc):
    built = _text(doc)
    found = []
    for para in _seed_prose():
        for m in STATEMENT.finditer(para):
            snippet = m.group(0)
            found.append(snippet)
            expected = SEED_DRIFT.get(snippet, snippet)
            assert expected in built, f"the seed states “{snippet}” ({para[:30]}…) but the report does not"
    # the statements of the brief are among them, so the check above is not vacuous
    for s in ("编制116名", "实有116名", "人数为116人", "收入3527.66万元", "支出为3527.66万元", "经费为0万元",
              "经费为143.61万元", "国费为4.87万元", "待费为1.91万元", "置费为69.96万元", "护费为66.87万元",
              "支出共计734.53万元", "包费415.94万元", "意率97.24%"):
        assert s in found
    assert len(found) >= 35
    assert "金融支出3.89万元" in built and "防非处非" not in built


def test_the_prose_sentences_read_like_the_seed(doc):
    built = _text(doc)
    assert ("2024年，本单位支出“三公”经费为143.61万元，其中出国费为4.87万元，接待费为1.91万元，"
            "公车购置费为69.96万元，车辆运行维护费为66.87万元。") in built
    assert ("2024年12月31日，本单位年末共有编制人数116人，实际在职人数为116人。本年收入3527.66万元，"
            "本年度支出为3527.66万元，上年结余结转经费为0万元，本年度结余结转经费为0万元。") in built
    assert "2024年项目支出共计734.53万元，其中行政运行57.92万元，公务用车购置69.96万元，春节慰问经费21.6万元，" in built
    # the project whose 本年决算数 is blank (17、档案整理扫描工作经费) is not listed, as in the seed
    assert "档案整理扫描工作经费" not in built.split("项目支出共计")[1].split("。")[0]
    for name in ("政府性基金", "国有资本经营", "社会保险基金"):
        assert f"2024年度本单位无{name}支出。" in built
    assert "预算执行率95.96%，执行率得分9.6分" in built and "自评总分99.2分" in built
    assert BLANK not in built


def test_sections_one_to_ten_in_the_seeds_order(doc):
    heads = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert heads == list(SECTION_TITLES)
    texts = [p.text for p in doc.paragraphs]
    cover = texts[:4]
    assert cover == ["2024年度益阳市人民政府办公室", "整体支出绩效自评报告", "部门（单位）名称：益阳市人民政府办公室",
                     "2025年4月23日"]
    subs = [p.text for p in doc.paragraphs if p.style.name == "Heading 2"]
    assert subs == ["（一）基本情况。", "（一）基本支出情况", "（二）项目支出情况"]
    leads = [p.runs[0].text for p in doc.paragraphs if p.runs and p.runs[0].bold and p.style.name == "Normal"
             and p.paragraph_format.first_line_indent]
    assert leads[:3] == ["1．主要职能。", "2．机构情况。", "3．人员情况。"]


def _n(text: str) -> Decimal | None:
    t = text.strip().rstrip("%")
    return Decimal(t) if re.fullmatch(r"-?\d+(\.\d+)?", t) else None


def _same(cell_text: str, value, pct=False) -> bool:
    got = _n(cell_text)
    if value in (None, "", "—"):
        return got is None
    want = Decimal(str(value)) * (100 if pct else 1)
    return got is not None and abs(got - want) <= TOL


def test_the_three_tables_agree_with_the_workbook_cell_by_cell(doc, seed_example):
    lay = seed_layout()
    wb = load_workbook(seed_example, data_only=True)

    def val(key):
        f = lay.fields[key]
        return wb[f.sheet][f.cell].value

    t_sg, t_basic, t_building, t_self = doc.tables
    # (a) 三公: every line, every column
    rows = {r.cells[0].text: [c.text for c in r.cells[1:]] for r in t_sg.rows[1:]}
    assert list(rows) == ["因公出国经费", "公务用车运行及购置", "公务接待费", "合计"]
    assert [c.text for c in t_sg.rows[0].cells][1] == "2024年\n决算数"
    checked = 0
    for label, line in zip(rows, ("abroad", "car", "reception", "total")):
        for text, col in zip(rows[label], ("actual", "budget", "diff_budget", "prev", "diff_prev", "pct")):
            assert _same(text, val(f"sg_{line}_{col}"), pct=col == "pct"), (label, col, text)
            checked += 1
    # as the template shows them (0.00 / 0.00%): the seed's "-88.11" without its % sign was the defect
    assert checked == 24 and rows["合计"][0] == "143.61" and rows["因公出国经费"][5] == "-88.11%"

    # (b) 基础数据表: fixed lines, then every project line in order
    cells = [[c.text for c in r.cells] for r in t_basic.rows]
    assert cells[0] == ["财政供养人员情况（人）", "编制数", "2024年实际在职人数", "控制率"]
    assert _same(cells[1][1], val("staff_quota")) and _same(cells[1][2], val("staff_actual"))
    assert _same(cells[1][3], val("staff_rate"), pct=True)
    assert cells[2] == ["经费控制情况（万元）", "2023年决算数", "2024年预算数", "2024年决算数"]
    fixed = {"三公经费": "bd_sg_total", "1、公务用车购置和维护经费": "bd_car", "其中：公车购置": "bd_car_purchase",
             "公车运行维护": "bd_car_maintenance", "2、出国经费": "bd_abroad", "3、公务接待": "bd_reception",
             "项目支出：": "bd_projects_total", "其中：办公费": "public_office",
             "水费、电费、差旅费": "public_utilities_travel", "会议费、培训费": "public_meetings_training"}
    by_label = {r[0]: r for r in cells}
    for label, key in fixed.items():
        for text, col in zip(by_label[label][1:], ("prev", "budget", "actual")):
            assert _same(text, val(f"{key}_{col}")), (label, col, text)
    pl = lay.lists["projects"]
    ws = wb[pl.sheet]
    start = [r[0] for r in cells].index("项目支出：") + 1
    n = 0
    for r in range(pl.first_row, pl.last_row + 1):
        name = ws[f"{pl.columns['name']}{r}"].value
        if not name:
            continue
        row = cells[start + n]
        assert row[0] == str(name).replace("\n", "")
        for text, col in zip(row[1:], ("prev", "budget", "actual")):
            assert _same(text, ws[f"{pl.columns[col]}{r}"].value), (name, col, text)
        n += 1
    assert n == 17 and cells[start + 15][0] == "16、金融支出"
    assert t_building.rows[0].cells[1].text == "批复规模\n（㎡）"  # broken as the seed breaks it

    # (c) 绩效自评表: 年度资金总额, every indicator, 总分
    self_rows = [[c.text for c in r.cells] for r in t_self.rows]
    funds = next(r for r in self_rows if r[1] == "年度资金总额")
    for text, key, pct in zip(funds[2:8], ("funds_initial", "funds_budget", "funds_actual", "funds_points",
                                           "execution_rate", "execution_score"), (0, 0, 0, 0, 1, 0)):
        assert _same(text, val(key), pct=bool(pct)), (key, text)
    assert funds[6] == "95.96%" and funds[7] == "9.60"  # the template's 0.00 (was "9.6")
    il = lay.lists["indicators"]
    ws = wb[il.sheet]
    head = next(i for i, r in enumerate(self_rows) if r[3] == "三级指标")
    for k, r in enumerate(range(il.first_row, il.last_row + 1)):
        row = self_rows[head + 1 + k]
        assert row[3] == str(ws[f"{il.columns['name']}{r}"].value).strip()
        for text, col in zip(row[4:6], ("target", "actual")):
            assert text == str(ws[f"{il.columns[col]}{r}"].value or "").strip(" \u3000")
        for text, col in zip(row[6:8], ("points", "score")):
            v = ws[f"{il.columns[col]}{r}"].value
            assert _same(text, v if not isinstance(v, str) or v.strip(" \u3000") else None), (r, col, text)
    total = next(r for r in self_rows if r[0] == "总分")
    assert _same(total[6], val("points_total")) and _same(total[7], val("total_score"))
    assert total[7] == "99.20" and total[8] == "优"


def test_chinese_official_typography(doc):
    sec = doc.sections[0]
    assert (round(sec.page_width.cm, 1), round(sec.page_height.cm, 1)) == (21.0, 29.7)
    assert (round(sec.top_margin.cm, 1), round(sec.bottom_margin.cm, 1)) == (3.7, 3.5)
    assert (round(sec.left_margin.cm, 1), round(sec.right_margin.cm, 1)) == (2.8, 2.6)

    def east_asia(style):
        return style.element.rPr.rFonts.get(qn("w:eastAsia"))

    normal = doc.styles["Normal"]
    assert east_asia(normal) == "仿宋_GB2312" and normal.font.size == Pt(16)  # 三号
    assert east_asia(doc.styles["Heading 1"]) == "黑体" and doc.styles["Heading 1"].font.size == Pt(16)
    assert east_asia(doc.styles["Heading 2"]) == "楷体_GB2312"
    title = doc.paragraphs[0].runs[0]
    assert title.font.size == Pt(22) and title._r.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"
    cell_par = doc.tables[0].rows[1].cells[0].paragraphs[0]
    assert cell_par.style.name == "表格文字" and cell_par.style.font.size == Pt(10.5)  # 五号 in tables
    assert east_asia(cell_par.style) == "仿宋_GB2312"
    # the annexed tables sit on landscape A4 pages
    assert doc.sections[-1].page_width > doc.sections[-1].page_height
    assert round(doc.sections[-1].page_width.cm, 1) == 29.7


def test_a_workbook_without_cached_values_gives_the_same_report(seed_form, tmp_path):
    """openpyxl saves formulas without results: derived figures are recomputed from their parts."""
    raw = read_workbook(build_seed_example(str(tmp_path / "seed_raw.xlsx")))
    assert raw.three_public.total.actual.kind is Kind.UNKNOWN  # 合计 is a formula with no cached value
    assert raw.basic.projects_total.actual.kind is Kind.UNKNOWN

    def words(form):
        out = []
        for b in outline(form):
            out.append(b.text if isinstance(b, Para) else getattr(b, "rows", None))
        return out

    assert words(raw) == words(seed_form)


def test_stated_choices_and_missing_narrative(make_example, seed_original, tmp_path):
    has = read_workbook(make_example("seed", {"has_gov_fund_exp": "有", "has_social_insurance_exp": None}))
    text = "\n".join(b.text for b in outline(has) if isinstance(b, Para))
    assert "2024年度本单位有政府性基金支出" in text
    assert f"2024年度本单位{BLANK}（有/无）社会保险基金支出。" in text
    assert "2024年度本单位无国有资本经营支出。" in text
    # the official layout as a department sends it: no 报告正文 sheet, the tables still speak
    orig = read_workbook(seed_original)
    assert orig.narrative is None
    path = build_report(orig, str(tmp_path / "原表报告.docx"))
    t = _text(Document(path))
    assert "“三公”经费为143.61万元" in t and f"本年收入{BLANK}万元" in t
    assert "本年度支出为3527.66万元" in t  # without 报告正文, 本年支出 is the table's 全年执行数


def test_build_refuses_a_non_docx_destination_and_keeps_the_workbook(seed_form, seed_example, tmp_path):
    from perfeval_xl.report.build import ReportError

    with pytest.raises(ReportError, match=r"\.docx"):
        build_report(seed_form, str(tmp_path / "报告.pdf"))
    before = os.path.getmtime(seed_example), os.path.getsize(seed_example)
    build_report(seed_form, str(tmp_path / "again.docx"))
    assert (os.path.getmtime(seed_example), os.path.getsize(seed_example)) == before


def _need_soffice():
    require_soffice("writer")  # a .docx is opened by Writer: Calc alone does not do


@pytest.fixture(scope="module")
def built_pdf(seed_form, tmp_path_factory):
    """The seed's report exported once through LibreOffice (shared by the PDF tests)."""
    _need_soffice()
    folder = tmp_path_factory.mktemp("pdf")
    pdf = build_report(seed_form, str(folder / "自评报告.docx"), pdf=True)
    assert pdf == str(folder / "自评报告.pdf") and os.path.isfile(str(folder / "自评报告.docx"))
    return pdf


def _pdf_pages(pdf: str) -> list[str]:
    """The text of each page of a PDF (pdftotext, layout kept)."""
    require_tool("pdftotext", "poppler-utils")
    out = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True, check=True).stdout
    pages = out.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def test_pdf_export_through_libreoffice(built_pdf):
    data = open(built_pdf, "rb").read()
    assert data.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) >= 5  # cover, sections, two landscape annex pages
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", built_pdf, "-"], capture_output=True, text=True).stdout
        assert "整体支出绩效自评报告" in text and "143.61" in text


# ---- page numbers, tables across pages, numbers in tables ---------------------------------------------------

PAGE_NUMBER = re.compile(r"—\s*(\d+)\s*—")


def test_the_cover_is_not_numbered_and_the_first_body_page_is_page_1(doc, built_pdf):
    cover, body, annex = doc.sections  # the cover, the body (portrait), the annex tables (landscape)
    assert cover._sectPr.find(qn("w:footerReference")) is None  # no footer on the cover
    assert cover._sectPr.find(qn("w:pgNumType")) is None
    assert body._sectPr.find(qn("w:pgNumType")).get(qn("w:start")) == "1"
    assert not body.footer.is_linked_to_previous and "PAGE" in body.footer._element.xml
    assert annex._sectPr.find(qn("w:pgNumType")) is None and annex.footer.is_linked_to_previous  # runs on
    pages = _pdf_pages(built_pdf)
    numbers = [(PAGE_NUMBER.findall(p) or [None])[-1] for p in pages]
    assert "整体支出绩效自评报告" in pages[0] and numbers[0] is None  # the cover
    assert "一、单位基本情况" in pages[1].replace(" ", "")
    assert numbers[1:] == [str(n) for n in range(1, len(pages))]  # — 1 — on the first body page, then on


def test_the_building_table_is_kept_whole_with_its_header(built_pdf, doc):
    """楼堂馆所: the two-line header row, its values and 厉行节约保障措施 stand on one page, in the seed's order."""
    t_building = doc.tables[2]
    assert [r.cells[0].text for r in t_building.rows] == ["楼堂馆所控制情况\n（2023年完工项目）", "", "厉行节约保障措施"]
    assert "厉行节约保障措施" not in [r.cells[0].text for r in doc.tables[1].rows]
    pages = [re.sub(r"\s+", "", p) for p in _pdf_pages(built_pdf)]
    (page,) = [p for p in pages if "楼堂馆所控制情况" in p]
    assert "（2023年完工项目）" in page and "投资概算" in page and "厉行节约保障措施" in page


def test_table_rows_never_split_header_rows_repeat_and_short_tables_stay_together(doc):
    for t in doc.tables:
        for row in t.rows:
            assert row._tr.trPr is not None and row._tr.trPr.find(qn("w:cantSplit")) is not None
    t_sg, _, t_building, _ = doc.tables
    for t in (t_sg, t_building):  # their first row is the column heads: repeated on a new page
        assert [r._tr.trPr.find(qn("w:tblHeader")) is not None for r in t.rows] == [True] + [False] * (len(t.rows) - 1)
        for row in t.rows[:-1]:  # Word keeps a short table on one page
            assert all(p.paragraph_format.keep_with_next for c in row.cells for p in c.paragraphs)
    caption = next(p for p in doc.paragraphs if p.text.endswith("“三公”经费情况（万元）"))
    assert caption.paragraph_format.keep_with_next


def test_tables_across_a_page_break_in_libreoffice(tmp_path):
    """Real layout: a tall row is moved whole, a long table repeats its header, a short table and its caption
    stay together. The filler is body text (exactly 28 pt a line), so where the page ends does not depend
    on the fonts installed."""
    _need_soffice()
    from perfeval_xl.report.build import Table, render, to_pdf

    filler = [Para(f"第{i}行。") for i in range(18)]  # 18 of the page's 22 lines
    tall = Table("t", [["项目", "说明"], ["高行", "\n".join(f"L{i:02d}" for i in range(1, 26))]], widths=[3, 8])
    long = Table("t", [["表头甲", "表头乙"]] + [[f"R{i:02d}", str(i)] for i in range(60)], widths=[3, 8])
    small = Table("t", [["小表头", "列"]] + [[f"S{i:02d}", str(i)] for i in range(10)], widths=[3, 8])
    docs = []
    for name, blocks in (("tall", filler + [tall]), ("long", [long]),
                         ("small", filler + [Para("小表标题", style="caption"), small])):
        docs.append(render(blocks, str(tmp_path / f"{name}.docx")))
    tall_pdf, long_pdf, small_pdf = to_pdf(docs)
    pages = _pdf_pages(tall_pdf)
    assert [i for i, p in enumerate(pages) if "L01" in p] == [i for i, p in enumerate(pages) if "L25" in p] != [0]
    pages = _pdf_pages(long_pdf)
    assert len(pages) >= 2 and all("表头甲" in p for p in pages)
    pages = _pdf_pages(small_pdf)
    (page,) = [p for p in pages if "小表标题" in p]
    assert all(f"S{i:02d}" in page for i in range(10))


def test_the_tables_show_numbers_as_the_template_does_and_the_prose_as_the_seed(doc):
    t_sg, t_basic, _, t_self = doc.tables
    rows = {r.cells[0].text: [c.text for c in r.cells[1:]] for r in t_sg.rows[1:]}
    assert rows["因公出国经费"] == ["4.87", "20.00", "-15.13", "40.97", "-36.10", "-88.11%"]
    assert rows["公务接待费"] == ["1.91", "5.00", "-3.09", "4.95", "-3.04", "-61.41%"]
    assert rows["合计"] == ["143.61", "153.96", "-10.35", "104.44", "39.17", "37.50%"]
    basic = {r.cells[0].text: [c.text for c in r.cells[1:]] for r in t_basic.rows}
    assert basic[""] == ["116", "116", "100.00%"]  # people are counted, not rounded to cents
    assert basic["3、春节慰问经费"] == ["18.00", "21.60", "21.60"]
    assert basic["其中：办公费"] == ["32.82", "15.00", "38.59"]
    self_rows = [[c.text for c in r.cells] for r in t_self.rows]
    funds = next(r for r in self_rows if r[1] == "年度资金总额")
    assert funds[2:8] == ["2331.68", "3676.31", "3527.66", "10.00", "95.96%", "9.60"]
    hours = next(r for r in self_rows if r[3] == "每天值班小时")
    assert hours[4:8] == ["=24", "=24", "10.00", "10.00"]  # 指标值 as typed, 分值 and 得分 as 0.00
    # the prose keeps the seed's own way of writing amounts
    prose = _text(doc)
    assert "春节慰问经费21.6万元" in prose and "金融支出20万元" in prose and "执行率得分9.6分" in prose
    assert not re.search(r"\d\.\d0(万元|分)", prose)
