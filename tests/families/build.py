"""Fixtures of every form family, rebuilt by code as their departments laid them out (the tests tune on these).

Each builder writes one workbook and returns a Fixture: the family it is, the unit / project and year a
reader must find, and the faults planted in it (code, "sheet!cell" or "" for the workbook). Values are the
published ones where the page shows them; planted faults are named in each docstring.
The forms kept out of tuning live in heldback.py.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from .sheetkit import merge, new_book, put, rows

NOTE_10 = ("注：1.一级指标分值统一设置为：产出指标50分、效益指标30分、服务对象满意度指标10分、预算资金执行率10分。"
           "2.……")


@dataclass
class Fixture:
    path: str
    family: str
    unit: str  # 部门 or 主管部门 (Metrics.department)
    year: int
    project: str = ""  # 项目名称 as written (project families)
    faults: list[tuple[str, str]] = field(default_factory=list)  # (code, "sheet!cell" or "")
    parts: int = 0  # forms inside the workbook when several
    part_faults: dict[int, list[tuple[str, str]]] = field(default_factory=dict)


# ---- (a) 项目支出绩效自评表, national 10号 style ------------------------------------------------
def project_10_sheet(ws, top: int, *, year: str, name: str, dept: str, impl: str, funds, sources, goals,
                     indicators, total, headings_points: bool = True, note: bool = True) -> dict[str, int]:
    """Lay one 10号 project form from row `top`; returns the rows of its parts (for planting faults)."""
    t = top
    put(ws, f"A{t}", "附件：")
    put(ws, f"A{t + 1}", "项目支出绩效自评表", f"J{t + 1}")
    put(ws, f"A{t + 2}", f"（{year}年度）", f"J{t + 2}")
    put(ws, f"A{t + 3}", "项目名称", f"B{t + 3}")
    put(ws, f"C{t + 3}", name, f"J{t + 3}")
    put(ws, f"A{t + 4}", "主管部门", f"B{t + 4}")
    put(ws, f"C{t + 4}", dept, f"E{t + 4}")
    put(ws, f"F{t + 4}", "实施单位", f"G{t + 4}")
    put(ws, f"H{t + 4}", impl, f"J{t + 4}")
    f = t + 5
    put(ws, f"A{f}", "项目资金\n（万元）", f"B{f + 4}")
    rows(ws, f, [[None, None, None, "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"]])
    rows(ws, f + 1, [[None, None, "年度资金总额", *funds]])
    for i, (label, vals) in enumerate(sources, start=2):
        rows(ws, f + i, [[None, None, label, *vals, "—", None, "—"]])
    g = f + 5
    put(ws, f"A{g}", "年度总体目标", f"A{g + 1}")
    put(ws, f"B{g}", "预期目标", f"F{g}")
    put(ws, f"G{g}", "实际完成情况", f"J{g}")
    put(ws, f"B{g + 1}", goals[0], f"F{g + 1}")
    put(ws, f"G{g + 1}", goals[1], f"J{g + 1}")
    h = g + 2
    rows(ws, h, [["绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分",
                  "偏差原因分析及改进措施"]])
    r = h + 1
    first = r
    for level1, groups in indicators:
        top1 = r
        for level2, lines in groups:
            top2 = r
            for line in lines:
                rows(ws, r, [[None, None, None, *line]])
                r += 1
            ws.cell(top2, 3, level2)
            if r - 1 > top2:
                merge(ws, f"C{top2}:C{r - 1}")
        label = level1 if headings_points else level1.split("（")[0].split("(")[0]
        ws.cell(top1, 2, label)
        if r - 1 > top1:
            merge(ws, f"B{top1}:B{r - 1}")
    merge(ws, f"A{h}:A{r - 1}")
    rows(ws, r, [["总分", None, None, None, None, None, total[0], total[1], total[2] if len(total) > 2 else None]])
    merge(ws, f"A{r}:F{r}")
    if note:
        put(ws, f"A{r + 1}", NOTE_10, f"J{r + 1}")
    return {"funds": f + 1, "sources": f + 2, "goals": g + 1, "head": h, "first": first, "total": r,
            "end": r + (1 if note else 0)}


TANGXI_INDICATORS = [
    ("产出指标（50分）", [
        ("数量指标", [["基建工程委托业务项目数量", "≥50个", 50, 8, 8, None]]),
        ("质量指标", [["委托业务报告合格率", "≥100百分比", 100, 8, 8, None],
                      ["经费支出合规性", "严格执行相关制度规定", "达成预期指标", 8, 8, None]]),
        ("时效指标", [["提交报告及时性", "在项目计划完成时间内完成", "达成预期指标", 8, 8, None]]),
        ("成本指标", [["项目总成本", "≤90万元", 90, 8, 8, None],
                      ["单项业务成本", "符合相关规定", "达成预期指标", 10, 10, None]]),
    ]),
    ("效益指标（30分）", [
        ("社会效益指标", [["对维护基建市场公平的影响程度", "效果明显", "达成预期指标", 10, 10, None]]),
        ("生态效益指标", [["对控制基建项目成本影响程度", "效果明显", "达成预期指标", 10, 10, None]]),
        ("可持续影响指标", [["对推动基建项目“四项制度”健全和落实的持续性影响", "效果明显", "达成预期指标", 10, 10,
                             None]]),
    ]),
    ("满意度指标（10分）", [
        ("服务对象满意度指标", [["公众满意度", "≥90%", "95%", 10, 10, None]]),
    ]),
]
TANGXI_GOALS = ("本项目共申请预算资金90万元。其中：30万元用于基建工程项目预算编制；30万元用于基建工程项目审计；"
                "30万元用于基建工程项目设计、规划、测绘。",
                "本项目共完成预算资金89.97万元。其中：30万元用于基建工程项目预算编制；30万元用于基建工程项目审计；"
                "29.99万元用于基建工程项目设计、规划、测绘。")


def tangxi_project(outdir: str) -> Fixture:
    """池州市贵池区棠溪镇人民政府「委托业务项目」项目支出绩效自评表（2022年度）, as published.

    Source: 附件《项目支出绩效自评表（2022年度）》, 池州市贵池区棠溪镇人民政府 (WPS file, 2022),
    http://www.anthempetcare.com/upload_cz/download?id=502364&siteId=2 (a mirror of the published
    attachment). Its 年度资金总额 row reads 0 0 0 10 0 0 while 其中：本年财政拨款 holds 90 / 89.974 /
    89.974: the published form's own fault (PE604), left as it is. Nothing else planted."""
    wb, ws = new_book("项目支出绩效自评表")
    p = project_10_sheet(
        ws, 1, year="2022", name="委托业务项目", dept="219-池州市贵池区棠溪镇人民政府",
        impl="219001-池州市贵池区棠溪镇人民政府",
        funds=[0, 0, 0, 10, 0, 0],
        sources=[("其中：本年财政拨款", [90, 89.974, 89.974]), ("上年结转资金", [None, None, None]),
                 ("其他资金", [None, None, None])],
        goals=TANGXI_GOALS, indicators=TANGXI_INDICATORS, total=(100, 90))
    path = os.path.join(outdir, "棠溪镇_委托业务项目_2022.xlsx")
    wb.save(path)
    return Fixture(path, "project_10", "219-池州市贵池区棠溪镇人民政府", 2022, "委托业务项目",
                   [("PE604", f"项目支出绩效自评表!D{p['funds']}")])


def tangxi_planted(outdir: str) -> Fixture:
    """The 棠溪镇 form with its totals made right, and faults planted the way real files carry them:
    总额 ≠ Σ sources (PE603), a deadline met early ("9月前" / "7月") that must NOT be a false alarm, a
    deadline missed yet scored full (PE608), a numeric target met by the word "完成" and scored full
    (PE607), a scored line with neither target nor actual (PE606), a score above its 分值 (PE204),
    a 总分 that is not the sum (PE208), a placeholder row left from the template (PE609), and the
    headings written without points ("产出指标") where the lines add to 55 (PE610).
    Source as tangxi_project; the indicator lines for deadlines are from the 10号 template's 时效指标."""
    wb, ws = new_book("项目支出绩效自评表")
    ind = [
        ("产出指标", [
            ("数量指标", [["基建工程委托业务项目数量", "≥50个", 50, 8, 8, None],
                          ["指标2：", None, None, None, None, None]]),
            ("质量指标", [["委托业务报告合格率", "≥100百分比", 100, 8, 8, None],
                          ["经费支出合规性", None, None, 8, 8, None]]),
            ("时效指标", [["提交报告及时性", "9月前", "7月", 8, 8, None],
                          ["审计报告送达时间", "9月前", "10月", 5, 5, None]]),
            ("成本指标", [["项目总成本", "≤90万元", "完成", 8, 8, None],
                          ["单项业务成本", "符合相关规定", "达成预期指标", 10, 11, None]]),
        ]),
        ("效益指标", [
            ("社会效益指标", [["对维护基建市场公平的影响程度", "效果明显", "达成预期指标", 10, 10, None]]),
            ("生态效益指标", [["对控制基建项目成本影响程度", "效果明显", "达成预期指标", 10, 10, None]]),
            ("可持续影响指标", [["对推动基建项目“四项制度”健全和落实的持续性影响", "效果明显", "达成预期指标", 10, 10,
                                 None]]),
        ]),
        ("满意度指标", [("服务对象满意度指标", [["公众满意度", "≥90%", "95%", 10, 10, None]])]),
    ]
    p = project_10_sheet(
        ws, 1, year="2022", name="委托业务项目", dept="219-池州市贵池区棠溪镇人民政府",
        impl="219001-池州市贵池区棠溪镇人民政府",
        funds=[90, 90, 89.97, 10, "99.97%", 10],
        sources=[("其中：本年财政拨款", [90, 89.974, 89.974]), ("上年结转资金", [10, 10, None]),
                 ("其他资金", [None, None, None])],
        goals=TANGXI_GOALS, indicators=ind, total=(100, 88), headings_points=False)
    f, first = p["funds"], p["first"]
    path = os.path.join(outdir, "棠溪镇_委托业务项目_2022_planted.xlsx")
    wb.save(path)
    s = "项目支出绩效自评表"
    return Fixture(path, "project_10", "219-池州市贵池区棠溪镇人民政府", 2022, "委托业务项目", [
        ("PE603", f"{s}!E{f}"),  # 全年预算数 90 ≠ 89.974 + 10
        ("PE606", f"{s}!H{first + 3}"),  # 经费支出合规性: no target, no actual, 8 points
        ("PE608", f"{s}!H{first + 5}"),  # 9月前 / 10月, full score
        ("PE607", f"{s}!F{first + 6}"),  # ≤90万元 / 完成, full score
        ("PE204", f"{s}!H{first + 7}"),  # 11 of 10
        ("PE208", f"{s}!H{p['total']}"),
        ("PE609", f"{s}!D{first + 1}"),  # 指标2：
        ("PE610", f"{s}!B{first}"),  # 产出 lines add to 55, headings state no points
    ])


# ---- (b) 部门整体支出绩效自评表, 10号 style -----------------------------------------------------------
def dept_10(outdir: str) -> Fixture:
    """A 部门整体支出绩效自评表 in the 10号 style Anhui copies: "部门" instead of 项目名称/主管部门/实施单位,
    the fund block called 预算资金（万元）, sources 当年财政拨款 / 上年结转资金 / 其他资金.

    Layout: domain.md §8(b), the same Anhui template as tangxi_project (池州市贵池区, 2022; source above).
    No published 部门整体 table was found in the pages corpus, so the figures are the 棠溪镇 unit's in
    that template's shape (illustrative). Planted: a wrong 执行率 (PE201), the 得分 left blank (PE605),
    满意度 lines adding to 15 under "(10分)" (PE205), so 分值 105 (PE206), a 总分 that is not the sum
    (PE208), a score below its 分值 with no reason (PE407)."""
    wb, ws = new_book("部门整体支出绩效自评表")
    put(ws, "A1", "部门整体支出绩效自评表", "J1")
    put(ws, "A2", "（2022年度）", "J2")
    put(ws, "A3", "部门", "B3")
    put(ws, "C3", "池州市贵池区棠溪镇人民政府", "J3")
    put(ws, "A4", "预算资金\n（万元）", "B8")
    rows(ws, 4, [[None, None, None, "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"]])
    rows(ws, 5, [[None, None, "年度资金总额", 3120.5, 3356.8, 3301.25, 10, "105.79%", None]])
    rows(ws, 6, [[None, None, "其中：当年财政拨款", 3020.5, 3206.8, 3151.25, "—", None, "—"]])
    rows(ws, 7, [[None, None, "上年结转资金", 100, 150, 150, "—", None, "—"]])
    rows(ws, 8, [[None, None, "其他资金", None, None, None, "—", None, "—"]])
    put(ws, "A9", "年度总体目标", "A10")
    put(ws, "B9", "预期目标", "F9")
    put(ws, "G9", "实际完成情况", "J9")
    put(ws, "B10", "保障镇政府机关正常运转，完成年度重点工作任务。", "F10")
    put(ws, "G10", "机关运转正常，年度重点工作任务全部完成。", "J10")
    rows(ws, 11, [["绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分",
                   "偏差原因分析及改进措施"]])
    lines = [
        ("产出指标（50分）", "数量指标", "重点工作任务完成数", "≥12项", "12项", 20, 20),
        (None, "质量指标", "重点工作任务按期完成率", "≥95%", "100%", 15, 15),
        (None, "时效指标", "资金支付及时性", "12月底前", "12月", 15, 15),
        ("效益指标（30分）", "社会效益指标", "群众办事便利度", "有效提升", "有效提升", 30, 28),
        ("满意度指标（10分）", "服务对象满意度指标", "群众满意度", "≥90%", "93%", 15, 15),
    ]
    for i, (l1, l2, name, tg, ac, w, sc) in enumerate(lines, start=12):
        rows(ws, i, [[None, l1, l2, name, tg, ac, w, sc]])
    merge(ws, "B12:B14", "A11:A16")
    rows(ws, 17, [["总分", None, None, None, None, None, 105, 103]])
    merge(ws, "A17:F17")
    path = os.path.join(outdir, "棠溪镇_部门整体_2022.xlsx")
    wb.save(path)
    s = "部门整体支出绩效自评表"
    return Fixture(path, "dept_10", "池州市贵池区棠溪镇人民政府", 2022, "", [
        ("PE201", f"{s}!H5"), ("PE605", f"{s}!I5"), ("PE205", f"{s}!B16"), ("PE206", f"{s}!G17"),
        ("PE208", f"{s}!H17"), ("PE407", f"{s}!I15")])


# ---- (c) Sichuan 部门预算项目支出绩效自评表 --------------------------------------------------------------
def sichuan_sheet(ws, top: int, *, code: str, name: str, dept: str, impl: str, total, sources, indicators,
                  sum_row, texts, leaders=("", "")) -> dict[str, int]:
    t = top
    put(ws, f"J{t}", f"报表编号：{code}")
    put(ws, f"A{t + 1}", "部门预算项目支出绩效自评表(2023年度)", f"K{t + 1}")
    rows(ws, t + 2, [["项目名称", name]])
    merge(ws, f"B{t + 2}:K{t + 2}")
    rows(ws, t + 3, [["主管部门", dept, None, None, None, "实施单位\n（盖章）", impl]])
    merge(ws, f"B{t + 3}:E{t + 3}", f"G{t + 3}:K{t + 3}")
    put(ws, f"A{t + 4}", "项目基本情况", f"A{t + 7}")
    rows(ws, t + 4, [[None, "1.项目年度目标完成情况"]])
    rows(ws, t + 5, [[None, "项目年度目标", None, None, None, None, "年度目标完成情况"]])
    rows(ws, t + 6, [[None, "严格执行相关政策，保障工资及时、足额发放或社保及时、足额缴纳，预算编制科学合理，减少结余资金。",
                      None, None, None, None, texts.get("goal", "对照年度目标，说明相关任务目标的完成情况(100字以内)")]])
    rows(ws, t + 7, [[None, "2.项目实施内容及过程概述", None, None, None, None, texts.get("process")]])
    f = t + 8
    put(ws, f"A{f}", "预算执行情况(10分)", f"A{f + 5}")
    rows(ws, f, [[None, "年度预算数(万元)", "年初预算", "调整后预算数", "预算执行数", "预算执行率", "权重", "得分", "原因"]])
    rows(ws, f + 1, [[None, "总额", *total,
                      "1.预算执行率=预算执行数/调整后预算数，预算执行率未达到90%的需说明原因(100字以内)；"
                      "2.年中发生预算调整的(追加或调减)，应单独说明理由；3.其他资金包括：社会投入资金、银行贷款。"]])
    for i, (label, vals) in enumerate(sources, start=2):
        rows(ws, f + i, [[None, label, *vals, "/", "/"]])
    h = f + 6
    put(ws, f"A{h}", "绩效指标(90分)", f"A{h + len(indicators)}")
    rows(ws, h, [[None, "一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位", "完成值", "权重", "得分",
                  "未完成原因分析"]])
    for i, line in enumerate(indicators, start=1):
        rows(ws, h + i, [[None, *line]])
    s = h + len(indicators) + 1
    rows(ws, s, [["合计", None, None, None, None, None, None, None, *sum_row]])
    merge(ws, f"A{s}:H{s}")
    instr = {"conclusion": "结合自评情况，说明项目自评总分，说明项目实施取得的成效或成果。(200字以内)",
             "problems": "结合自评情况，分析存在的问题及原因。(200字以内)",
             "improvements": "针对项目自评中发现的问题，提出下一步改进完善的意见及有关政策性建议。(200字以内)"}
    for i, (key, label) in enumerate((("conclusion", "评价结论"), ("problems", "存在问题"),
                                      ("improvements", "改进措施")), start=1):
        rows(ws, s + i, [[label, texts.get(key, instr[key])]])
        merge(ws, f"B{s + i}:K{s + i}")
    rows(ws, s + 4, [[f"项目负责人：{leaders[0]}", None, None, None, None, None, f"财务负责人：{leaders[1]}"]])
    return {"total": f + 1, "sources": f + 2, "first": h + 1, "sum": s, "texts": s + 1, "end": s + 4}


QINGSHEN_SOURCES = [("其中：财政资金", [238.93, 251.89, 251.89, "100.00%"]),
                    ("财政专户管理资金", [0, 0, 0, "0.00%"]), ("单位资金", [0, 0, 0, "0.00%"]),
                    ("其他资金", [None, None, None, None])]


def qingshen_stacked(outdir: str) -> Fixture:
    """青神县发展和改革局 部门预算项目支出绩效自评表(2023年度), Sichuan, two projects printed one after the
    other on one sheet (as the county's export prints them).

    Source: https://www.scqs.gov.cn/info/13206/211004.htm (青神县人民政府, 报表编号 510000_0013zp).
    Project 1 is the published 工资性支出 form as it stands: 完成值 and 得分 left blank, the template's
    instructions left in 评价结论 / 存在问题 / 改进措施, 0.00% on the 0/0 source rows (must not be a
    failure). Found there: 得分 blank under 权重 10 (PE605), indicators without 完成值/得分 (PE402),
    the instructions (PE609). Project 2 (日常公用经费, figures illustrative) is filled; planted: 得分
    not 权重 × 执行率 (PE202)."""
    wb, ws = new_book("项目支出绩效自评表")
    p1 = sichuan_sheet(ws, 1, code="510000_0013zp", name="51000021R000000019951-工资性支出",
                       dept="青神县发展和改革局本级", impl="青神县发展和改革局",
                       total=[238.93, 251.89, 251.89, "100.00%", 10, None], sources=QINGSHEN_SOURCES,
                       indicators=[["产出指标", "数量指标", "发放(缴纳)覆盖率", "=", 100, "%", None, 60, None, None],
                                   ["效益指标", "社会效益指标", "足额保障率(参保率)", "=", 100, "%", None, 30, None, None]],
                       sum_row=[100, None], texts={})
    top2 = p1["end"] + 3
    p2 = sichuan_sheet(ws, top2, code="510000_0014zp", name="51000021R000000020417-日常公用经费",
                       dept="青神县发展和改革局本级", impl="青神县发展和改革局",
                       total=[35.6, 38.2, 34.38, "90.00%", 10, 10],
                       sources=[("其中：财政资金", [35.6, 38.2, 34.38, "90.00%"]),
                                ("财政专户管理资金", [0, 0, 0, "0.00%"]), ("单位资金", [0, 0, 0, "0.00%"]),
                                ("其他资金", [None, None, None, None])],
                       indicators=[["产出指标", "数量指标", "保障在职人员数", "≥", 42, "人", 42, 30, 30, None],
                                   ["产出指标", "时效指标", "资金支付及时率", "≥", 95, "%", 100, 30, 30, None],
                                   ["效益指标", "社会效益指标", "机关正常运转率", "=", 100, "%", 100, 30, 30, None]],
                       sum_row=[100, 100], texts={"goal": "保障了机关正常运转，经费按时足额支付。",
                                                  "conclusion": "项目自评得分100分，机关运转经费保障到位。",
                                                  "problems": "个别月份支付进度偏慢。", "improvements": "加强支付进度管理。"},
                       leaders=("王洪", "李敏"))
    path = os.path.join(outdir, "青神县发改局_项目支出_2023.xlsx")
    wb.save(path)
    s = "项目支出绩效自评表"
    return Fixture(path, "sichuan_project", "青神县发展和改革局本级", 2023, "", parts=2, part_faults={
        0: [("PE605", f"{s}!H{p1['total']}"), ("PE402", f"{s}!H{p1['first']}"), ("PE609", f"{s}!B{p1['texts']}")],
        1: [("PE202", f"{s}!H{p2['total']}")],
    })


def qingshen_per_sheet(outdir: str) -> Fixture:
    """The same two 青神县 projects, one per sheet (the other way counties send them). Source as above.
    Planted in project 2: its 合计 得分 is not 执行率得分 + Σ 得分 (PE208)."""
    wb, ws = new_book("工资性支出")
    p1 = sichuan_sheet(ws, 1, code="510000_0013zp", name="51000021R000000019951-工资性支出",
                       dept="青神县发展和改革局本级", impl="青神县发展和改革局",
                       total=[238.93, 251.89, 251.89, "100.00%", 10, 10], sources=QINGSHEN_SOURCES,
                       indicators=[["产出指标", "数量指标", "发放(缴纳)覆盖率", "=", 100, "%", 100, 60, 60, None],
                                   ["效益指标", "社会效益指标", "足额保障率(参保率)", "=", 100, "%", 100, 30, 30, None]],
                       sum_row=[100, 100], texts={"goal": "工资及社保按时足额发放。", "conclusion": "自评100分。",
                                                  "problems": "无", "improvements": "无"}, leaders=("王洪", "李敏"))
    ws2 = wb.create_sheet("日常公用经费")
    p2 = sichuan_sheet(ws2, 1, code="510000_0014zp", name="51000021R000000020417-日常公用经费",
                       dept="青神县发展和改革局本级", impl="青神县发展和改革局",
                       total=[35.6, 38.2, 34.38, "90.00%", 10, 9],
                       sources=[("其中：财政资金", [35.6, 38.2, 34.38, "90.00%"]),
                                ("财政专户管理资金", [0, 0, 0, "0.00%"]), ("单位资金", [0, 0, 0, "0.00%"]),
                                ("其他资金", [None, None, None, None])],
                       indicators=[["产出指标", "数量指标", "保障在职人员数", "≥", 42, "人", 42, 30, 30, None],
                                   ["产出指标", "时效指标", "资金支付及时率", "≥", 95, "%", 100, 30, 30, None],
                                   ["效益指标", "社会效益指标", "机关正常运转率", "=", 100, "%", 100, 30, 30, None]],
                       sum_row=[100, 95], texts={"goal": "保障了机关正常运转。", "conclusion": "自评99分。",
                                                 "problems": "支付进度偏慢。", "improvements": "加强支付进度管理。"},
                       leaders=("王洪", "李敏"))
    path = os.path.join(outdir, "青神县发改局_项目支出_每表一项目_2023.xlsx")
    wb.save(path)
    return Fixture(path, "sichuan_project", "青神县发展和改革局本级", 2023, "", parts=2, part_faults={
        0: [], 1: [("PE208", f"日常公用经费!J{p2['sum']}")]})


# ---- (d) Chongqing 部门整体绩效自评表 ---------------------------------------------------------------------
CQ_LINES = [  # 指标名称 · 计量单位 · 指标性质 · 年初指标值 · 调整指标值 · 全年完成值 · 得分系数 · 指标权重 · 指标得分 · 是否核心
    ["财政供养人员控制率", "%", "定量指标", "100%", None, "92%", "100%", 2, 2, "否"],
    ["“三公”经费变动率", "%", "定量指标", None, None, None, "100%", 2, 2, "否"],
    ["基础信息完善", "%", "定量指标", "100%", None, "100%", "100%", 1, 1, "否"],
    ["预算完成率", "%", "定量指标", "70%", None, "76%", "100%", 2, 2, "是"],
    ["预算调整率", "%", "定量指标", "3%", None, "0", "100%", 2, 2, "否"],
    ["结转结余率", "%", "定量指标", "2%", None, "0", "100%", 2, 2, "是"],
    ["公用经费控制率", "%", "定量指标", "100%", None, "97%", "100%", 2, 2, "是"],
    ["“三公”经费控制率", "%", "定量指标", None, None, None, "100%", 2, 2, "否"],
    ["政府采购执行率", "%", "定量指标", "100%", None, "72.74%", "100%", 2, 2, "是"],
    ["管理制度健全性", None, "定性指标", "高", None, "高", "100%", 3, 3, "否"],
    ["资金使用合规性", None, "定性指标", "好", None, "好", "100%", 5, 5, "否"],
    ["预决算信息公开性", None, "定性指标", "高", None, "高", "100%", 1, 1, "否"],
    ["资产管理安全", None, "定性指标", "好", None, "好", "100%", 2, 2, "否"],
    ["固定资产利用率", "%", "定量指标", "90%", None, "100%", "100%", 2, 2, "否"],
    ["党性教育培训次数", "次", "定量指标", "26次", None, "12次", "100%", 5, 5, "是"],
    ["组织宣传活动次数", "次", "定量指标", "40次", None, "43次", "100%", 10, 10, "是"],
    ["制作宣传品数量", "份", "定量指标", "20份", None, "20份", "100%", 5, 5, "否"],
    ["播发稿件数量", "篇", "定量指标", "2200篇", None, "2859篇", "100%", 10, 10, "是"],
    ["业务保障能力提升", "%", "定量指标", "90%", None, "95%", "100%", 10, 10, "否"],
    ["服务对象满意度", "%", "定量指标", "90%", None, "95%", "100%", 20, 20, "是"],
]


def chongqing_sheet(ws, lines, *, unit="西部（重庆）科学城融媒体中心", total=97.6,
                    funds=(650, 650, 494, "76%", 10, 7.6)) -> dict[str, int]:
    put(ws, "A1", "部门整体绩效自评表", "J1")
    put(ws, "A2", "（2021年度）", "J2")
    rows(ws, 3, [["主管部门", unit, None, None, "财政处室", "行政政法处", None, "自评总分（分）", total]])
    merge(ws, "B3:D3", "F3:G3", "I3:J3")
    rows(ws, 4, [["部门联系人", "曾雪莲", None, None, "联系电话", "023-65870000"]])
    merge(ws, "B4:D4", "F4:J4")
    put(ws, "A5", "部门预算执行情况（万元）", "A6")
    rows(ws, 5, [[None, "年初预算数", "全年（调整）预算数", "全年执行数", "执行率（%）", "执行率权重", "执行率得分（分）"]])
    rows(ws, 6, [[None, *funds]])
    put(ws, "A7", "当年绩效目标", "A8")
    rows(ws, 7, [[None, "年初绩效目标", None, None, "全年（调整）绩效目标", None, None, "全年目标实际完成情况"]])
    rows(ws, 8, [[None, "通过整合各级各类媒体、户外广告载体、宣传宣讲活动等，为建设成渝地区双城经济圈和西部（重庆）科学城营造良好氛围。",
                  None, None, "无", None, None,
                  "中心2021年较好地完成了履职任务，有效开展了西部（重庆）科学城新闻宣传管理、思想文化领域建设等工作。"]])
    merge(ws, "B7:D7", "E7:G7", "H7:J7", "B8:D8", "E8:G8", "H8:J8")
    put(ws, "A9", "绩效指标", f"A{9 + len(lines)}")
    rows(ws, 9, [[None, "指标名称", "计量单位", "指标性质", "年初指标值", "调整指标值", "全年完成值", "得分系数（%）",
                  "指标权重（分）", "指标得分（分）", "是否核心指标"]])
    for i, line in enumerate(lines, start=10):
        rows(ws, i, [[None, *line]])
    return {"first": 10, "funds": 6}


def chongqing(outdir: str) -> Fixture:
    """西部（重庆）科学城融媒体中心 部门整体绩效自评表（2021年度）, Chongqing style, as published.

    Source: 《部门整体绩效自评表.docx》, https://m.yzwku.com/doc/98587.html (自评总分 97.6, 执行率 76%,
    执行率权重 10, 得分 7.6; the indicator lines, 得分系数, 权重 and 是否核心指标 as printed; the budget
    amounts are not legible there and are chosen to give 76%). The lines are printed in the real order;
    the last, cut off in the source, is 服务对象满意度 with the 20 points that make 90.
    Found as published: two lines (“三公”经费变动率 / 控制率) with no target and no actual yet 2 points
    each (PE606); 执行率 76% is below 90% (PE305)."""
    wb, ws = new_book("部门整体绩效自评表")
    p = chongqing_sheet(ws, CQ_LINES)
    path = os.path.join(outdir, "重庆科学城融媒体中心_2021.xlsx")
    wb.save(path)
    s = "部门整体绩效自评表"
    return Fixture(path, "chongqing_dept", "西部（重庆）科学城融媒体中心", 2021, "", [
        ("PE606", f"{s}!J{p['first'] + 1}"), ("PE606", f"{s}!J{p['first'] + 7}"), ("PE305", f"{s}!E6")])


def chongqing_planted(outdir: str) -> Fixture:
    """The 融媒体中心 form with planted faults: 指标得分 ≠ 权重 × 得分系数 (PE613), 执行率得分 not
    权重 × 执行率 (PE202), 自评总分 not the sum (PE208). Source as chongqing()."""
    lines = [list(x) for x in CQ_LINES]
    lines[1][3], lines[1][5] = "≤0", "-3%"  # targets filled in: only the planted faults remain
    lines[7][3], lines[7][5] = "≤100%", "85%"
    lines[14][6], lines[14][8] = "50%", 5  # 系数 50% but 得分 5 of 5
    wb, ws = new_book("部门整体绩效自评表")
    p = chongqing_sheet(ws, lines, total=95, funds=(650, 650, 494, "76%", 10, 8.6))
    path = os.path.join(outdir, "重庆科学城融媒体中心_2021_planted.xlsx")
    wb.save(path)
    s = "部门整体绩效自评表"
    return Fixture(path, "chongqing_dept", "西部（重庆）科学城融媒体中心", 2021, "", [
        ("PE613", f"{s}!J{p['first'] + 14}"), ("PE202", f"{s}!G6"), ("PE208", f"{s}!I3")])


# ---- (e) Hunan 2018-era 基础数据表 + 评价指标表 -------------------------------------------------------
def hunan2018_book(unit: str, staff=(21, 21, "100%"), sg=None, projects=None, public=None, fix_total=True):
    wb, ws = new_book("基础数据表")
    put(ws, "A1", "附件3")
    put(ws, "A2", "部门整体支出绩效评价基础数据表", "D2")
    rows(ws, 3, [["编报单位：", unit, None, "单位：万元"]])
    rows(ws, 4, [["财政供养人员情况", "编制数", "2018年实际在职人数", "控制率"]])
    rows(ws, 5, [[None, *staff]])
    rows(ws, 6, [["经费控制情况", "2017年决算数", "2018年预算数", "2018年决算数"]])
    sg = sg or [("三公经费", [6.8, 6.0, 5.2]), ("1、公务用车购置和维护经费", [4.0, 3.5, 3.1]),
                ("其中：公车购置", [0, 0, 0]), ("公车运行维护", [4.0, 3.5, 3.1]), ("2、出国经费", [0, 0, 0]),
                ("3、公务接待", [2.8, 2.5, 2.1])]
    r = 7
    for label, vals in sg:
        rows(ws, r, [[label, *vals]])
        r += 1
    projects = projects or [("1、业务工作专项", [120.0, 130.0, 126.5]), ("2、运行维护专项", [60.0, 65.0, 63.2])]
    tot = [round(sum(v[i] for _, v in projects), 2) for i in range(3)]
    rows(ws, r, [["项目支出：", *tot]])
    r += 1
    for label, vals in projects:
        rows(ws, r, [[label, *vals]])
        r += 1
    public = public or [("公用经费", [45.0, 48.0, 46.3]), ("其中：办公经费", [12.0, 13.0, 12.6]),
                        ("水费、电费、差旅费", [9.0, 9.5, 9.1]), ("会议费、培训费", [3.0, 3.0, 2.8])]
    for label, vals in public:
        rows(ws, r, [[label, *vals]])
        r += 1
    rows(ws, r, [["政府采购金额", "——", 30.0, 28.5]])
    rows(ws, r + 1, [["部门整体支出预算调整", "——", 420.0, 452.0]])
    rows(ws, r + 2, [["楼堂馆所控制情况（2017年完工项目）", "批复规模（㎡）", "实际规模（㎡）", "规模控制率"]])
    rows(ws, r + 4, [["厉行节约保障措施", "严格执行公务接待、公车管理等制度。"]])
    rows(ws, r + 5, [["填表人：", "吴俊", "填报日期：", "2019年6月18日"]])
    rows(ws, r + 6, [["联系电话：", "0730-8690022", "单位负责人签字：", None]])
    ws2 = wb.create_sheet("评价指标表")
    put(ws2, "A1", "部门整体支出绩效评价指标表", "I1")
    rows(ws2, 2, [["一级指标", "得分", "二级指标", "得分", "三级指标", "得分", "评价标准", "指标说明", "得分"]])
    rows(ws2, 3, [["投入(20分)", 18, "预算配置(10分)", 9, "在职人员控制率(5分)", 5,
                   "在职人员控制率≤100%，计5分；每超过一个百分点扣0.5分，扣完为止", "在职人员控制率=在职人员数/编制数", 5]])
    rows(ws2, 4, [[None, None, None, None, "“三公经费”变动率(5分)", 5,
                   "三公经费变动率≤0，计5分；每超过一个百分点扣0.5分，扣完为止",
                   "“三公经费”变动率=（本年度“三公经费”总额-上年度“三公经费”总额）/上年度“三公经费”总额", 4]])
    return wb, ws, r


def yueyang_2018(outdir: str) -> Fixture:
    """岳阳市城市管理监督指挥中心 2018年度部门整体支出绩效评价 (Hunan 2018-era forms).

    Source: http://www.yueyang.gov.cn/cgj/9886/9901/content_1560779.html (岳阳市城市管理监督指挥中心
    2018绩效评价自评报告及评分表: 人员编制 21, 实有人数 21; 联络电话 8690022). The 基础数据表 is laid out
    as the 附件3 form (domain.md §8e): years spelled out in the column heads, 其中：办公经费; amounts are
    illustrative. Planted: 三公经费 not the sum of its lines (PE107), 项目支出 total not Σ lines (PE108); in the
    评价指标表, “三公经费”变动率 (−13.24 %, so 5 of 5 by its own 评价标准) scored 4 (PE614)."""
    wb, ws, r = hunan2018_book("岳阳市城市管理监督指挥中心",
                               sg=[("三公经费", [6.8, 6.0, 5.9]), ("1、公务用车购置和维护经费", [4.0, 3.5, 3.1]),
                                   ("其中：公车购置", [0, 0, 0]), ("公车运行维护", [4.0, 3.5, 3.1]),
                                   ("2、出国经费", [0, 0, 0]), ("3、公务接待", [2.8, 2.5, 2.1])])
    ws["D13"] = 190.7  # 项目支出 2018年决算数: the lines add to 189.70
    path = os.path.join(outdir, "岳阳市城管监督指挥中心_2018.xlsx")
    wb.save(path)
    return Fixture(path, "hunan_2018", "岳阳市城市管理监督指挥中心", 2018, "", [
        ("PE107", "基础数据表!D7"), ("PE108", "基础数据表!D13"), ("PE614", "评价指标表!I4")])


BUILDERS = (tangxi_project, tangxi_planted, dept_10, qingshen_stacked, qingshen_per_sheet, chongqing,
            chongqing_planted, yueyang_2018)


def build_all(outdir: str) -> list[Fixture]:
    return [b(outdir) for b in BUILDERS]


def seed_without_sg(outdir: str) -> Fixture:
    """The seed as a department sends it (examples/…_原表.xlsx) with its 三公经费情况表 removed: the family
    has that table and the file lacks it (PE601, reported once; no rule compares the absent table with 0)."""
    from openpyxl import load_workbook

    from conftest import EXAMPLE_ALIASES

    wb = load_workbook(EXAMPLE_ALIASES["original"])
    sg = next(ws for ws in wb.worksheets if "三公" in ws.title)
    wb.remove(sg)
    path = os.path.join(outdir, "益阳市人民政府办公室_2024_缺三公表.xlsx")
    wb.save(path)
    return Fixture(path, "hunan_dept", "益阳市人民政府办公室", 2024, "", [("PE601", "")])
