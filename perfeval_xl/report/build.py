"""Write the 整体支出绩效自评报告 (Word) from the workbook, laid out like the seed.

Two steps: `outline(form)` decides the words and tables (pure: model in, blocks out; every number
comes from `facts.gather`, never typed twice), `render` lays them out with python-docx in the
official style (A4, GB/T 9704 margins, 仿宋_GB2312 三号 body, 黑体 / 楷体 headings, 宋体 title).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from .. import scoring
from ..errors import PerfevalError
from ..model import Form, Kind
from .facts import Facts, fmt_amount, fmt_fixed, fmt_percent_fixed, gather, plain

BLANK = "____"  # what the clerk still has to fill in, visible in the document

# Fonts of Chinese official documents (GB/T 9704); Word substitutes when one is missing.
FONT_BODY = "仿宋_GB2312"
FONT_H1 = "黑体"
FONT_H2 = "楷体_GB2312"
FONT_TITLE = "宋体"
FONT_TABLE = "仿宋_GB2312"
SIZE_TITLE = Pt(22)  # 二号
SIZE_BODY = Pt(16)  # 三号
SIZE_CAPTION = Pt(15)  # 小三
SIZE_TABLE = Pt(10.5)  # 五号
TABLE_STYLE = "表格文字"

SECTION_TITLES = (
    "一、单位基本情况",
    "二、一般公共预算支出情况",
    "三、政府性基金预算支出情况",
    "四、国有资本经营预算支出情况",
    "五、社会保险基金预算支出情况",
    "六、部门整体支出绩效情况",
    "七、存在的问题及原因分析",
    "八、下一步改进措施",
    "九、绩效自评结果拟应用和公开情况",
    "十、其他需要说明的情况",
)


class ReportError(PerfevalError):
    """The report could not be written or exported; the message is for the user (Chinese)."""


# ---- blocks ---------------------------------------------------------------------------------------------

@dataclass
class Para:
    text: str
    lead: str = ""  # run-in heading ("1．主要职能。"), bold
    style: str = "body"  # body | h1 | h2 | title | center | caption | footer
    space_before: float = 0  # points; places the cover's lines on the page


@dataclass
class Table:
    key: str  # "three_public" | "basic" | "building" | "self_eval"
    rows: list[list[str]]
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # r0, c0, r1, c1
    header_rows: int = 1  # repeated at the top of each page the table runs onto
    widths: list[float] | None = None  # cm
    bold_rows: tuple[int, ...] = ()  # heading rows inside the table (基础数据表's 财政供养人员情况, 经费控制情况)


@dataclass
class Break:
    kind: str = "page"  # page | cover (ends the unnumbered cover) | landscape (a new, landscape section)


def _y(facts: Facts, offset: int = 0) -> str:
    return f"{facts.year + offset}" if facts.year else "    "


def _a(facts: Facts, key: str) -> str:
    t = facts[key].text() if key in facts.values else ""
    return t or BLANK


def _txt(v, default: str = "无") -> str:
    return plain(v) if v is not None and plain(v) else default


def outline(form: Form, cover_note: str = "") -> list:
    """The report as blocks: paragraphs, tables and breaks, in the seed's order. cover_note: said on the cover
    (a report forced from a workbook with open errors says so)."""
    f = gather(form)
    y = _y(f)
    unit = f.department or BLANK
    nar = form.narrative
    b: list = []
    # cover
    b += [Para(f"{y}年度{unit}", style="title", space_before=150), Para("整体支出绩效自评报告", style="title"),
          Para(f"部门（单位）名称：{unit}", style="center", space_before=220),
          Para(_report_date(form), style="center")]
    if cover_note:
        b.append(Para(cover_note, style="center", space_before=40))
    b.append(Break("cover"))
    b += [Para(f"{y}年度{unit}", style="title"), Para("整体支出绩效自评报告", style="title")]

    # 一
    b += [Para(SECTION_TITLES[0], style="h1"), Para("（一）基本情况。", style="h2"),
          Para(_txt(nar.main_functions if nar else None, BLANK), lead="1．主要职能。"),
          Para(_txt(nar.organization if nar else None, BLANK), lead="2．机构情况。"),
          Para(f"本单位编制{_a(f, 'staff_quota')}名，实有{_a(f, 'staff_actual')}名。", lead="3．人员情况。")]

    # 二
    b += [Para(SECTION_TITLES[1], style="h1"), Para("（一）基本支出情况", style="h2"),
          Para("1.部门整体支出概况。", style="body"),
          Para(f"{y}年12月31日，本单位年末共有编制人数{_a(f, 'staff_quota')}人，"
               f"实际在职人数为{_a(f, 'staff_actual')}人。本年收入{_a(f, 'income_total')}万元，"
               f"本年度支出为{_a(f, 'expenditure_total')}万元，上年结余结转经费为{_a(f, 'carryover_prev')}万元，"
               f"本年度结余结转经费为{_a(f, 'carryover_current')}万元。"),
          Para("2.部门整体支出绩效情况。", style="body"),
          Para(f"{y}年，本单位支出“三公”经费为{_a(f, 'sg_total_actual')}万元，其中出国费为{_a(f, 'sg_abroad_actual')}万元，"
               f"接待费为{_a(f, 'sg_reception_actual')}万元，公车购置费为{_a(f, 'bd_car_purchase_actual')}万元，"
               f"车辆运行维护费为{_a(f, 'bd_car_maintenance_actual')}万元。"),
          Para(f"{y}年度部门“三公”经费情况（万元）", style="caption"),
          three_public_table(f)]
    b += [Para("（二）项目支出情况", style="h2"), Para(_projects_sentence(f))]

    # 三 四 五
    for i, (key, name) in enumerate((("gov_fund", "政府性基金"), ("state_capital", "国有资本经营"),
                                     ("social_insurance", "社会保险基金")), start=2):
        b.append(Para(SECTION_TITLES[i], style="h1"))
        has = f.none_statements.get(key)
        if has is False:
            b.append(Para(f"{y}年度本单位无{name}支出。"))
        elif has is True:
            b.append(Para(f"{y}年度本单位有{name}支出，具体情况见决算报表。"))
        else:
            b.append(Para(f"{y}年度本单位{BLANK}（有/无）{name}支出。"))

    # 六
    b += [Para(SECTION_TITLES[5], style="h1"),
          Para(_txt(nar.perf_budget_execution if nar else None, BLANK), lead="（一）预算执行方面。"),
          Para(_txt(nar.perf_budget_management if nar else None, BLANK), lead="（二）预算管理方面。"),
          Para(_txt(nar.perf_financial_management if nar else None, BLANK), lead="（三）财务管理方面："),
          Para(_score_sentence(form, f), lead="（四）自评结果。")]
    # 七 to 十
    for i, attr in zip(range(6, 10), ("problems", "improvements", "result_application", "other_notes")):
        default = "无" if attr == "other_notes" else BLANK  # only "其他说明" may go without saying
        b += [Para(SECTION_TITLES[i], style="h1"), Para(_txt(getattr(nar, attr) if nar else None, default))]

    # the other two tables, as in the seed, on landscape pages
    b += [Break("landscape"), Para(f"附表1  {y}年度部门整体支出绩效评价基础数据表", style="caption"),
          basic_table(form, f), building_table(form, f), Para(BASIC_NOTE, style="footer"),
          _footer_para(form.basic.footer),
          Break(), Para(f"附表2  {y}年度部门整体支出绩效自评表", style="caption"),
          self_eval_table(form, f), _footer_para(form.self_eval.footer)]
    return b


def _report_date(form: Form) -> str:
    nar = form.narrative
    if nar is not None and nar.report_date.kind in (Kind.DATE, Kind.TEXT):
        return plain(nar.report_date)
    return f"{BLANK}年{BLANK}月{BLANK}日"


def _projects_sentence(f: Facts) -> str:
    y = _y(f)
    items = [f"{p.name}{fmt_amount(p.actual.value)}万元" for p in f.projects
             if p.actual.value is not None and p.actual.value != 0]
    total = f.get("projects_total_actual")
    if not items and total is not None and total == 0:
        return f"{y}年度本单位无项目支出。"  # stated as 0, not merely left blank
    s = f"{y}年项目支出共计{_a(f, 'projects_total_actual')}万元"
    return s + ("，其中" + "，".join(items) if items else "") + "。"


def _score_sentence(form: Form, f: Facts) -> str:
    total = f.get("total_score")
    g = f.grade or (scoring.grade(total) if total is not None else BLANK)
    return (f"{_y(f)}年度全年预算数{_a(f, 'funds_budget')}万元，全年执行数{_a(f, 'funds_actual')}万元，"
            f"预算执行率{_a(f, 'execution_rate')}，执行率得分{_a(f, 'execution_score')}分；"
            f"部门整体支出绩效自评总分{_a(f, 'total_score')}分，等级为“{g}”。")


def _footer_para(ft) -> Para:
    return Para(f"填表人：{plain(ft.preparer)}    填报日期：{plain(ft.date)}    联系电话：{plain(ft.phone)}"
                f"    单位负责人签字：{plain(ft.signature)}", style="footer")


# ---- the three tables ----------------------------------------------------------------------------------

# The form's note under the 基础数据表, as the template and the seed print it.
BASIC_NOTE = ("说明：“项目支出”需要填报基本支出以外的所有项目支出情况，“运行维护经费”填报项目支出中用于人员类和公用运转类的支出。"
              "“公用经费”填报基本支出中的一般商品和服务支出。")

THREE_PUBLIC_HEADERS = ("项目", "{y}年\n决算数", "{y}年\n预算数", "比预算\n增减数", "{p}年\n决算数", "比上年\n增减数", "增减%")


def three_public_table(f: Facts) -> Table:
    y, p = _y(f), _y(f, -1)
    rows = [[h.format(y=y, p=p) for h in THREE_PUBLIC_HEADERS]]
    for line, label in (("abroad", "因公出国经费"), ("car", "公务用车运行及购置"), ("reception", "公务接待费"),
                        ("total", "合计")):
        row = [label]
        for col in ("actual", "budget", "diff_budget", "prev", "diff_prev"):
            row.append(fmt_fixed(f.get(f"sg_{line}_{col}")))  # as the template shows them: 20.00, -36.10
        prev = f.get(f"sg_{line}_prev")
        row.append(fmt_percent_fixed(f.get(f"sg_{line}_pct")) if prev else "—")  # 37.50%
        rows.append(row)
    return Table("three_public", rows, widths=[3.9] + [1.9] * 5 + [2.2])  # the text width, 15.6 cm


BASIC_LINES = (
    ("bd_sg_total", "三公经费"),
    ("bd_car", "1、公务用车购置和维护经费"),
    ("bd_car_purchase", "其中：公车购置"),
    ("bd_car_maintenance", "公车运行维护"),
    ("bd_abroad", "2、出国经费"),
    ("bd_reception", "3、公务接待"),
)
PUBLIC_LINES = (
    ("bd_public_total", "公用经费"),
    ("bd_public_office", "其中：办公费"),
    ("bd_public_utilities_travel", "水费、电费、差旅费"),
    ("bd_public_meetings_training", "会议费、培训费"),
)


def basic_table(form: Form, f: Facts) -> Table:
    y, p = _y(f), _y(f, -1)
    rows = [["财政供养人员情况（人）", "编制数", f"{y}年实际在职人数", "控制率"],
            ["", _a(f, "staff_quota").replace(BLANK, ""), _a(f, "staff_actual").replace(BLANK, ""),
             fmt_percent_fixed(f.get("staff_rate"))],
            ["经费控制情况（万元）", f"{p}年决算数", f"{y}年预算数", f"{y}年决算数"]]

    def amounts(key):
        return [fmt_fixed(f.get(f"{key}_{c}")) for c in ("prev", "budget", "actual")]

    for key, label in BASIC_LINES:
        rows.append([label, *amounts(key)])
    rows.append(["项目支出：", *amounts("projects_total")])
    for pr in f.projects:
        rows.append([pr.raw_name.replace("\n", ""),
                     *(fmt_fixed(x.value) for x in (pr.prev, pr.budget, pr.actual))])
    for key, label in PUBLIC_LINES:
        rows.append([label, *amounts(key)])
    rows.append(["政府采购金额", "——", *amounts("bd_procurement")[1:]])
    rows.append(["部门基本支出预算调整", "——", *amounts("bd_basic_adjustment")[1:]])
    # 楼堂馆所 and 厉行节约保障措施 follow, in that order, in `building_table` (seven columns)
    return Table("basic", rows, header_rows=0, widths=[10.1, 5.2, 5.2, 5.2], bold_rows=(0, 2))


def building_table(form: Form, f: Facts) -> Table:
    bu = form.basic.building
    head = ["楼堂馆所控制情况" + (f"\n（{_y(f, -1)}年完工项目）" if f.year else ""),
            "批复规模\n（㎡）", "实际规模\n（㎡）", "规模\n控制率", "预算投资\n（万元）", "实际投资\n（万元）", "投资概算\n控制率"]
    vals = [""]
    for v, pct in ((bu.approved_area, False), (bu.actual_area, False), (bu.area_rate, True),
                   (bu.budget_investment, False), (bu.actual_investment, False), (bu.investment_rate, True)):
        n = v.number if v.kind is Kind.NUMBER else None
        vals.append((fmt_percent_fixed(n) if pct else fmt_fixed(n)) if n is not None else plain(v))
    frugality = ["厉行节约保障措施", plain(form.basic.frugality)] + [""] * 5
    # as wide as the 基础数据表 above it, which it continues (the seed prints them as one form)
    return Table("building", [head, vals, frugality], merges=[(2, 1, 2, 6)], widths=[5.3] + [3.4] * 6)


def self_eval_table(form: Form, f: Facts) -> Table:
    se = form.self_eval
    rows: list[list[str]] = []
    merges: list[tuple[int, int, int, int]] = []

    def add(cells: list[str]) -> int:
        rows.append((cells + [""] * 9)[:9])
        return len(rows) - 1

    r = add(["预算部门、单位名称", "", f.department])
    merges += [(r, 0, r, 1), (r, 2, r, 8)]
    top = add(["年度预算申请（万元）", "", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"])
    add(["", "年度资金总额", fmt_fixed(f.get("funds_initial")), fmt_fixed(f.get("funds_budget")),
         fmt_fixed(f.get("funds_actual")), fmt_fixed(f.get("funds_points")), fmt_percent_fixed(f.get("execution_rate")),
         fmt_fixed(f.get("execution_score"))])
    r = add(["", "按收入性质分：", "", "", "按支出性质分："])
    merges += [(r, 1, r, 3), (r, 4, r, 8)]
    pairs = ((("其中：一般公共预算", "income_general"), ("其中：基本支出", "exp_basic")),
             (("政府性基金拨款", "income_gov_fund"), ("项目支出", "exp_project")),
             (("纳入专户管理的非税收入拨款", "income_special"), None),
             (("其他资金", "income_other"), None))
    for left, right in pairs:
        cells = ["", left[0], fmt_fixed(f.get(left[1])), ""]
        cells += [right[0], fmt_fixed(f.get(right[1]))] if right else ["", ""]
        r = add(cells)
        merges += [(r, 2, r, 3), (r, 5, r, 8)]
    merges.append((top, 0, len(rows) - 1, 0))
    r = add(["年度总体目标", "预期目标", "", "", "实际完成情况"])  # two halves of about the same width
    merges += [(r, 1, r, 3), (r, 4, r, 8)]
    r2 = add(["", plain(se.goal_expected), "", "", plain(se.goal_actual)])
    merges += [(r2, 1, r2, 3), (r2, 4, r2, 8), (r, 0, r2, 0)]
    head = add(["绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "自评得分",
                "偏差原因分析及改进措施"])
    first = len(rows)
    for ind in se.indicators:
        add(["", plain(ind.level1).replace("\n", ""), plain(ind.level2).replace("\n", ""), plain(ind.name),
             plain(ind.target), plain(ind.actual), fmt_fixed(ind.points.num) if ind.points.num is not None
             else plain(ind.points), fmt_fixed(ind.score.num) if ind.score.num is not None else plain(ind.score),
             plain(ind.reason)])
    last = len(rows) - 1
    if last >= first:
        merges.append((head, 0, last, 0))
        for col in (1, 2):  # 一级 / 二级 merged down over their rows, as on the form
            start = first
            for i in range(first + 1, last + 2):
                if i > last or rows[i][col] != rows[start][col] or (col == 2 and rows[i][1] != rows[start][1]):
                    if i - 1 > start and rows[start][col]:
                        merges.append((start, col, i - 1, col))
                    start = i
    r = add(["总分", "", "", "", "", "", fmt_fixed(f.get("points_total")), fmt_fixed(f.get("total_score")), f.grade])
    merges.append((r, 0, r, 5))
    return Table("self_eval", rows, merges=merges, header_rows=0,
                 widths=[1.4, 3.8, 3.0, 5.4, 2.4, 2.4, 2.0, 2.0, 3.3])  # the landscape page's text width, 25.7 cm


# ---- rendering --------------------------------------------------------------------------------------------

def _set_font(rpr_owner, name: str, size=None, bold=None) -> None:
    """Latin and East Asian font names both, without the theme fonts that would override them."""
    font = rpr_owner.font
    font.name = name
    if size is not None:
        font.size = size
    if bold is not None:
        font.bold = bold
    rpr = rpr_owner.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        rfonts.set(qn(attr), name)


def _setup(doc) -> None:
    normal = doc.styles["Normal"]
    _set_font(normal, FONT_BODY, SIZE_BODY)
    pf = normal.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(28)
    pf.space_before = pf.space_after = Pt(0)
    for style_name, font in (("Heading 1", FONT_H1), ("Heading 2", FONT_H2)):
        st = doc.styles[style_name]
        _set_font(st, font, SIZE_BODY, bold=False)
        st.font.color.rgb = None
        st.font.italic = False
        st.paragraph_format.space_before = st.paragraph_format.space_after = Pt(0)
        st.paragraph_format.first_line_indent = Pt(32)
        st.paragraph_format.keep_with_next = True
    cell_style = doc.styles.add_style(TABLE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    cell_style.base_style = normal
    _set_font(cell_style, FONT_TABLE, SIZE_TABLE)  # also sizes the mark of an empty cell
    cell_style.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    cell_style.paragraph_format.first_line_indent = Pt(0)
    _page(doc.sections[0], landscape=False)  # the cover: its section has no footer, hence no page number


def _page(section, landscape: bool) -> None:
    # A4; margins of official documents (GB/T 9704: 天头 37 mm, 订口 28 mm)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Cm(29.7), Cm(21.0)
        section.top_margin = section.bottom_margin = Cm(2.0)
        section.left_margin = section.right_margin = Cm(2.0)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
        section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
        section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)


# what follows w:pgNumType inside w:sectPr (the schema's order)
_AFTER_PGNUMTYPE = ("w:cols", "w:formProt", "w:vAlign", "w:noEndnote", "w:titlePg", "w:textDirection", "w:bidi",
                    "w:rtlGutter", "w:docGrid", "w:printerSettings", "w:sectPrChange")


def _restart_numbering(section, start: int | None) -> None:
    """<w:pgNumType w:start="1"/> on the section (start=None removes it: numbering runs on)."""
    sect_pr = section._sectPr
    for old in sect_pr.findall(qn("w:pgNumType")):
        sect_pr.remove(old)
    if start is not None:
        el = OxmlElement("w:pgNumType")
        el.set(qn("w:start"), str(start))
        sect_pr.insert_element_before(el, *_AFTER_PGNUMTYPE)


def _page_numbers(section) -> None:
    """The body's footer: "— N —" centred, N counting from 1 on the first body page (the cover is its own,
    unnumbered section). Later sections link to this footer and run on."""
    section.footer.is_linked_to_previous = False
    _restart_numbering(section, 1)
    # python-docx has no field API: a PAGE field is the one small piece of XML written by hand
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_font(p.add_run("— "), FONT_BODY, Pt(14))
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), "PAGE")
    holder = p.add_run("1")  # the field's shown value until the viewer updates it
    _set_font(holder, FONT_BODY, Pt(14))
    fld.append(holder._r)  # moves the run inside the field
    p._p.append(fld)
    _set_font(p.add_run(" —"), FONT_BODY, Pt(14))


def _para(doc, block: Para, page_break_before: bool = False):
    st = block.style
    if st in ("h1", "h2"):
        p = doc.add_paragraph(style="Heading 1" if st == "h1" else "Heading 2")
        p.add_run(block.text)
        if page_break_before:
            p.paragraph_format.page_break_before = True
        return p
    p = doc.add_paragraph()
    pf = p.paragraph_format
    if page_break_before:
        pf.page_break_before = True  # no empty paragraph left at the top of the new page
    if block.space_before:
        pf.space_before = Pt(block.space_before)
    if st == "title":
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        pf.line_spacing = Pt(40)
        _set_font(p.add_run(block.text), FONT_TITLE, SIZE_TITLE, bold=True)
    elif st == "center":
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.add_run(block.text)
    elif st == "caption":
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        pf.keep_with_next = True  # a caption never stays behind at the foot of a page without its table
        _set_font(p.add_run(block.text), FONT_H1, SIZE_CAPTION)
    elif st == "footer":
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
        pf.space_before = Pt(4)
        _set_font(p.add_run(block.text), FONT_TABLE, Pt(12))
    else:
        pf.first_line_indent = Pt(32)  # two characters of 三号
        if block.lead:
            p.add_run(block.lead).bold = True
        p.add_run(block.text)
    return p


SMALL_TABLE = 12  # rows: a table this short is kept on one page with its caption


def _row_props(row, *, header: bool) -> None:
    """A row never breaks across pages (w:cantSplit); header rows repeat on each page (w:tblHeader)."""
    tr_pr = row._tr.get_or_add_trPr()
    for tag, on in (("w:cantSplit", True), ("w:tblHeader", header)):
        if on and tr_pr.find(qn(tag)) is None:
            tr_pr.append(OxmlElement(tag))


def _table(doc, block: Table) -> None:
    nrows, ncols = len(block.rows), max(len(r) for r in block.rows)
    t = doc.add_table(rows=nrows, cols=ncols)
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    if block.widths:
        t.autofit = False
        for c, w in enumerate(block.widths[:ncols]):
            t.columns[c].width = Cm(w)  # the grid LibreOffice lays out by
    # the style id set on the paragraph's properties: Paragraph.style rescans every style per call
    style_id = doc.styles[TABLE_STYLE].style_id
    merged = {}
    rows = t.rows
    for r0, c0, r1, c1 in block.merges:  # a row's cells, not t.cell(), which rescans the whole table
        rows[r0].cells[c0].merge(rows[r1].cells[c1])
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                merged[(r, c)] = (r0, c0)
    keep = nrows <= SMALL_TABLE
    for r, (row, texts) in enumerate(zip(rows, block.rows)):
        _row_props(row, header=r < block.header_rows)
        head = r < block.header_rows or r in block.bold_rows
        cells = row.cells  # one scan per row; a merged cell repeats over its span
        for c, text in enumerate(texts):
            cell = cells[c]
            if block.widths and c < len(block.widths) and merged.get((r, c), (r, c)) == (r, c):
                cell.width = Cm(block.widths[c])
            if merged.get((r, c), (r, c)) != (r, c):
                continue  # covered by a merge: its text is the top-left cell's
            p = cell.paragraphs[0]
            p._p.get_or_add_pPr().style = style_id
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER if head else _align(text, r, c, block.header_rows)
            if keep and r < nrows - 1:
                p.paragraph_format.keep_with_next = True  # Word keeps the whole short table on one page
            lines = text.split("\n")
            for i, line in enumerate(lines):
                run = p.add_run(line)
                if head:
                    run.bold = True
                if i < len(lines) - 1:
                    run.add_break(WD_BREAK.LINE)


def _align(text: str, r: int, c: int, header_rows: int):
    if r < header_rows:
        return WD_ALIGN_PARAGRAPH.CENTER
    if c > 0 and re.fullmatch(r"-?[\d,]+(\.\d+)?%?", text):
        return WD_ALIGN_PARAGRAPH.RIGHT  # amounts line up on the right
    if c == 0 or len(text) > 12:
        return WD_ALIGN_PARAGRAPH.LEFT
    return WD_ALIGN_PARAGRAPH.CENTER


def render(blocks: list, dest: str) -> str:
    doc = Document()
    _setup(doc)
    page_break = False  # a page break waits for the next paragraph (page_break_before)
    for block in blocks:
        if isinstance(block, Para):
            _para(doc, block, page_break_before=page_break)
            page_break = False
            continue
        if page_break:  # a table right after a break: the break needs a paragraph of its own
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            page_break = False
        if isinstance(block, Table):
            _table(doc, block)
        elif block.kind == "cover":
            sec = doc.add_section(WD_SECTION.NEW_PAGE)  # the body: portrait, numbered from 1
            _page(sec, landscape=False)
            _page_numbers(sec)
        elif block.kind == "landscape":
            sec = doc.add_section(WD_SECTION.NEW_PAGE)
            _restart_numbering(sec, None)  # the copied section properties would restart at 1 again
            _page(sec, landscape=True)  # its footer links to the body's: numbered on
        else:
            page_break = True
    doc.core_properties.title = "整体支出绩效自评报告"
    doc.save(dest)
    return dest


def forced_note(errors: int) -> str:
    """The cover note of a report built with --force from a workbook that still had error findings."""
    return (f"注意：生成本报告时，所依据的工作簿仍有 {errors} 项校验错误未改正（perfeval check），"
            "报告中的数字可能有误，不宜作为正式报告报送。")


def build_report(form: Form, dest: str, *, pdf: bool = False, cover_note: str = "") -> str:
    """Write the report to ``dest`` (.docx) and return its path; with pdf=True also export a PDF
    beside it (same name, .pdf) through headless LibreOffice and return the PDF's path."""
    dest = os.fspath(dest)
    if not dest.lower().endswith(".docx"):
        raise ReportError(f"{dest}：报告文件名应以 .docx 结尾")
    if os.path.abspath(dest) == os.path.abspath(form.source or ""):
        raise ReportError(f"{dest}：报告不能覆盖工作簿本身")
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    render(outline(form, cover_note), dest)
    return to_pdf([dest])[0] if pdf else dest


def to_pdf(docx_paths: list[str], *, timeout: float = 180) -> list[str]:
    """Convert .docx files to PDF beside them in ONE LibreOffice call with a throwaway profile."""
    from ..recalc import find_soffice, has_component, missing_component  # PERFEVAL_SOFFICE or the usual places

    soffice = find_soffice()
    if soffice is None or not has_component("writer", soffice):  # a .docx needs Writer, not only Calc
        raise ReportError("无法导出 PDF：" + missing_component("writer"))
    with tempfile.TemporaryDirectory(prefix="perfeval-pdf-") as tmp:
        profile, out = os.path.join(tmp, "profile"), os.path.join(tmp, "out")
        os.makedirs(out)
        inputs = []
        for i, src in enumerate(docx_paths):  # ASCII names: soffice mishandles some non-ASCII paths
            p = os.path.join(tmp, f"r{i}.docx")
            shutil.copyfile(src, p)
            inputs.append(p)
        cmd = [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", out, *inputs]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ReportError(f"LibreOffice 导出 PDF 超时（{timeout:.0f} 秒）") from None
        results = []
        for i, src in enumerate(docx_paths):
            made = os.path.join(out, f"r{i}.pdf")
            if not os.path.isfile(made):
                raise ReportError(f"{src}：LibreOffice 未能导出 PDF（{(proc.stderr or proc.stdout).strip()[:200]}）")
            dest = os.path.splitext(src)[0] + ".pdf"
            shutil.move(made, dest)
            results.append(dest)
        return results
