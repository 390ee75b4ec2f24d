"""Held-back forms: published tables rebuilt by code and NOT used to tune the readers or rules.

Only tests/test_families_heldback.py (an acceptance test that reports figures) and the phantom property
test read them. Each Fixture lists the faults planted (or found by hand in the published form).
"""
from __future__ import annotations

import os

from .build import Fixture, chongqing_sheet, CQ_LINES, hunan2018_book, project_10_sheet, sichuan_sheet
from .sheetkit import merge, new_book, put, rows


def langfang_project(outdir: str) -> Fixture:
    """廊坊市食品工程学校「办公宿舍楼、食堂及餐厅暖通改造经费」项目支出绩效自评表（2019年度）.

    Source: http://www.lfsp.cn/newsinfo/1158053.html (绩效自评表（修改）, 附件1). As published: 43.2 / 43.2 /
    37.24, 分值 10, 执行率 "86%", 得分 9; indicators named "指标1工程资金金额" with the template's "指标2" and
    "……" rows left in; headings without points. Faults in the published form: 执行率 86% for 86.20%
    (PE201), 得分 9 for 8.62 (PE202), the placeholder rows (PE609). Planted: 总分 99 for 98 (PE208)."""
    wb, ws = new_book("项目支出绩效自评表")
    ph = [["指标2", None, None, None, None, None], ["……", None, None, None, None, None]]
    ind = [
        ("产出指标", [
            ("数量指标", [["指标1工程资金金额", 43.2, 37.24, 10, 9, "已完工，剩余3%尾款未付，且最高限价低于预算金额。提高预算准确度。"],
                          *ph]),
            ("质量指标", [["指标1工程完工率", 100, 100, 10, 10, None], ["指标2工程验收合格率", 100, 100, 10, 10, None],
                          ["……", None, None, None, None, None]]),
            ("时效指标", [["指标1项目完成及时率", 100, 100, 10, 10, None], *ph]),
            ("成本指标", [["指标1成本控制率", 100, 100, 10, 10, None], *ph]),
        ]),
        ("效益指标", [
            ("经济效益指标", [["指标1安全率", 100, 100, 10, 10, "0"], *ph]),
            ("社会效益指标", [["指标1学校发展能力", 100, 100, 10, 10, "0"], *ph]),
            ("生态效益指标", [["指标1", None, None, None, None, None], *ph]),
            ("可持续影响指标", [["指标1长期使用性", 100, 100, 10, 10, None], *ph]),
        ]),
        ("满意度指标", [("服务对象满意度指标", [["指标1学生满意度", 100, 100, 10, 10, "0"], *ph])]),
    ]
    p = project_10_sheet(ws, 1, year="2019", name="办公宿舍楼、食堂及餐厅暖通改造经费", dept="廊坊市发改委",
                         impl="廊坊市食品工程学校", funds=[43.2, 43.2, 37.24, 10, "86%", 9],
                         sources=[("其中：当年财政拨款", [43.2, 43.2, 37.24]), ("上年结转资金", [None, None, None]),
                                  ("其他资金", [None, None, None])],
                         goals=("43.2", "37.24"), indicators=ind, total=(100, 99), headings_points=False, note=False)
    path = os.path.join(outdir, "廊坊食品工程学校_暖通改造_2019.xlsx")
    wb.save(path)
    s = "项目支出绩效自评表"
    f = p["funds"]
    return Fixture(path, "project_10", "廊坊市发改委", 2019, "办公宿舍楼、食堂及餐厅暖通改造经费", [
        ("PE201", f"{s}!H{f}"), ("PE202", f"{s}!I{f}"), ("PE609", f"{s}!D{p['first'] + 1}"),
        ("PE208", f"{s}!H{p['total']}")])


def anzhou_sichuan(outdir: str) -> Fixture:
    """A Sichuan 部门预算项目支出绩效自评表(2022年度) for 绵阳市安州区公务服务中心 (the attachment listed at
    http://www.anzhou.gov.cn/zwgk/sgjfzl/jdb/43710578.html), with the indicator lines of the wage project
    published at https://dyrmt.com/article-132779-22.html (足额保障率 = 100 %, 科目调整次数 ≤ 10 次,
    按时发放率 = 100 %, 结余率 ≤ 5 %, 22.5 each; 评价结论 "及时、足额缴纳。", 存在问题 / 改进措施 "暂无").
    Completion values and amounts are illustrative. Planted: 得分 of the 结余率 line 22.5 although 8 % > 5 %
    (PE203), 合计 得分 100 for 99.9 (PE208)."""
    wb, ws = new_book("项目支出绩效自评表")
    p = sichuan_sheet(ws, 1, code="510000_0021zp", name="51072421R000000003310-人员类项目",
                      dept="绵阳市安州区公务服务中心", impl="绵阳市安州区公务服务中心",
                      total=[120.5, 130, 128.7, "99.00%", 10, 9.9],
                      sources=[("其中：财政资金", [120.5, 130, 128.7, "99.00%"]), ("财政专户管理资金", [0, 0, 0, "0.00%"]),
                               ("单位资金", [0, 0, 0, "0.00%"]), ("其他资金", [None, None, None, None])],
                      indicators=[["产出指标", "数量指标", "足额保障率", "=", 100, "%", 100, 22.5, 22.5, None],
                                  ["产出指标", "数量指标", "科目调整次数", "≤", 10, "次", 3, 22.5, 22.5, None],
                                  ["产出指标", "时效指标", "按时发放率", "=", 100, "%", 100, 22.5, 22.5, None],
                                  ["效益指标", "经济效益指标", "结余率(计算方法为：结余数/预算数)", "≤", 5, "%", 8, 22.5,
                                   22.5, None]],
                      sum_row=[100, 100],
                      texts={"goal": "及时、足额发放工资，缴纳社保。", "conclusion": "及时、足额缴纳。", "problems": "暂无",
                             "improvements": "暂无"})
    path = os.path.join(outdir, "安州区公务服务中心_项目支出_2022.xlsx")
    wb.save(path)
    s = "项目支出绩效自评表"
    for r in range(1, p["end"] + 1):  # the title of this county's export carries 2022
        v = ws.cell(r, 1).value
        if isinstance(v, str) and "2023年度" in v:
            ws.cell(r, 1).value = v.replace("2023", "2022")
    wb.save(path)
    return Fixture(path, "sichuan_project", "绵阳市安州区公务服务中心", 2022, "51072421R000000003310-人员类项目", [
        ("PE203", f"{s}!J{p['first'] + 3}"), ("PE208", f"{s}!J{p['sum']}")])


def chongqing_relaid(outdir: str) -> Fixture:
    """The 融媒体中心 form (source: https://m.yzwku.com/doc/98587.html) as a second department lays the same
    Chongqing template out: the sheet named "Sheet1", 自评总分 stated as 96.6, one 得分系数 of 80 % whose
    指标得分 stays at the full 10 (PE613), 自评总分 not the sum (PE208)."""
    lines = [list(x) for x in CQ_LINES]
    lines[1][3], lines[1][5] = "≤0", "-2%"
    lines[7][3], lines[7][5] = "≤100%", "90%"
    lines[17][6] = "80%"  # 播发稿件数量: 系数 80 % but 得分 10 of 10
    wb, ws = new_book("Sheet1")
    chongqing_sheet(ws, lines, unit="重庆高新区融媒体中心", total=96.6, funds=(600, 600, 456, "76%", 10, 7.6))
    path = os.path.join(outdir, "重庆高新区融媒体中心_2021.xlsx")
    wb.save(path)
    return Fixture(path, "chongqing_dept", "重庆高新区融媒体中心", 2021, "", [
        ("PE613", "Sheet1!J27"), ("PE208", "Sheet1!I3")])


def heshan_2019(outdir: str) -> Fixture:
    """益阳市赫山区城市管理和综合执法局 2019年度部门整体支出 (Hunan; source:
    http://www.hnhs.gov.cn/23247/23297/23780/content_1219000.html, 局本级 在职在编 139 人). The 基础数据表
    in the 附件3 layout with 2018 / 2019 columns; amounts illustrative. Planted: 控制率 typed as 95 %
    for 139 / 139 (PE111), 公用经费 smaller than its items (PE110)."""
    wb, ws, r = hunan2018_book("益阳市赫山区城市管理和综合执法局", staff=(139, 139, "95%"),
                               public=[("公用经费", [45.0, 48.0, 20.0]), ("其中：办公经费", [12.0, 13.0, 12.6]),
                                       ("水费、电费、差旅费", [9.0, 9.5, 9.1]), ("会议费、培训费", [3.0, 3.0, 2.8])])
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str):
                c.value = c.value.replace("2018年", "2019年").replace("2017年", "2018年")
    path = os.path.join(outdir, "赫山区城管执法局_2019.xlsx")
    wb.save(path)
    return Fixture(path, "hunan_2018", "益阳市赫山区城市管理和综合执法局", 2019, "", [
        ("PE111", "基础数据表!D5"), ("PE110", "基础数据表!D16")])


def dept_10_variant(outdir: str) -> Fixture:
    """A 10号-style 部门整体支出绩效自评表 with "部门名称：" typed in one cell and 本年财政拨款 as the source label
    (the variants domain.md §8(b) lists; layout as the Anhui template of tangxi_project). Figures illustrative
    for 池州市贵池区梅街镇人民政府. Planted: 全年执行数 ≠ Σ sources (PE603), a score above its 分值 (PE204)."""
    wb, ws = new_book("Sheet1")
    put(ws, "A1", "部门整体支出绩效自评表", "I1")
    put(ws, "A2", "（2022年度）", "I2")
    put(ws, "A3", "部门名称：池州市贵池区梅街镇人民政府", "I3")
    put(ws, "A4", "预算资金（万元）", "B7")
    rows(ws, 4, [[None, None, None, "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"]])
    rows(ws, 5, [[None, None, "年度资金总额", 2800, 2950, 2920, 10, "98.98%", 9.9]])
    rows(ws, 6, [[None, None, "其中：本年财政拨款", 2700, 2850, 2800, "/", None, "/"]])
    rows(ws, 7, [[None, None, "上年结转资金", 100, 100, 100, "/", None, "/"]])
    put(ws, "A8", "年度总体目标", "A9")
    rows(ws, 8, [[None, "预期目标", None, None, None, "实际完成情况"]])
    rows(ws, 9, [[None, "保障机关正常运转。", None, None, None, "机关运转正常。"]])
    rows(ws, 10, [["绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分",
                   "偏差原因分析及改进措施"]])
    lines = [("产出指标（50分）", "数量指标", "保障在编人员数", "≥86人", "86人", 25, 25),
             (None, "时效指标", "工资发放及时性", "每月15日前", "按时", 25, 26),
             ("效益指标（30分）", "社会效益指标", "机关运转保障率", "=100%", "100%", 30, 30),
             ("满意度指标（10分）", "服务对象满意度指标", "群众满意度", "≥90%", "94%", 10, 10)]
    for i, (l1, l2, name, tg, ac, w, sc) in enumerate(lines, start=11):
        rows(ws, i, [[None, l1, l2, name, tg, ac, w, sc]])
    merge(ws, "B11:B12", "A10:A14")
    rows(ws, 15, [["总分", None, None, None, None, None, 100, 100.9]])
    merge(ws, "A15:F15")
    path = os.path.join(outdir, "梅街镇_部门整体_2022.xlsx")
    wb.save(path)
    return Fixture(path, "dept_10", "池州市贵池区梅街镇人民政府", 2022, "", [
        ("PE603", "Sheet1!F5"), ("PE204", "Sheet1!H12")])


BUILDERS = (langfang_project, anzhou_sichuan, chongqing_relaid, heshan_2019, dept_10_variant)


def build_all(outdir: str) -> list[Fixture]:
    return [b(outdir) for b in BUILDERS]
