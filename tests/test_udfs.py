"""The worksheet functions on the seed's figures, on blanks and text, and on whole columns.

Off Windows the xlwings decorators do nothing, so the UDFs are called as plain Python with the
values Excel would pass (numbers as floats, blanks as None, typed text as str, ranges as 2-D lists).
"""
from __future__ import annotations

import copy
import datetime
import os

import pytest

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
xw = pytest.importorskip("xlwings")

from perfeval_xl.findings import Finding, Report, Severity  # noqa: E402
from perfeval_xl.udfs import (  # noqa: E402
    PE_CHECK,
    PE_EXECRATE,
    PE_EXECSCORE,
    PE_GRADE,
    PE_INDICATOR_SCORE,
    PE_VARIANCE,
    PE_VARIANCE_PCT,
    check_range,
    findings_in_range,
)


# ---- the seed's figures -------------------------------------------------------------------

def test_seed_execution_rate_is_95_96_percent():
    assert round(PE_EXECRATE(3676.31, 3527.66), 4) == 0.9596


def test_seed_execution_score_is_9_6():
    assert PE_EXECSCORE(3676.31, 3527.66, 10) == pytest.approx(9.6)
    assert PE_EXECSCORE(3676.31, 3527.66) == pytest.approx(9.6)  # 分值 defaults to 10


def test_over_execution_is_capped_at_the_points():
    assert PE_EXECSCORE(100, 120, 10) == pytest.approx(10)


def test_seed_indicator_at_or_above_target_scores_full_points():
    assert PE_INDICATOR_SCORE("≥90%", "99.06%", 10) == pytest.approx(10)


def test_indicator_below_target_scores_proportionally():
    assert PE_INDICATOR_SCORE("≥90%", "81%", 10) == pytest.approx(9.0)  # 0.81 / 0.9 × 10


def test_reverse_indicator_over_target_loses_points():
    assert PE_INDICATOR_SCORE("≤5", "8", 10) == pytest.approx(4.0)  # (1 − 3/5) × 10


def test_not_over_budget_against_the_seed_budget():
    # the seed's 成本指标: 年度指标值 不超支, 实际完成值 3527.66 against 全年预算数 3676.31
    assert PE_INDICATOR_SCORE("不超支", "3527.66", 10, 3676.31) == pytest.approx(10)
    assert PE_INDICATOR_SCORE("不超支", "未超支", 10) == pytest.approx(10)
    assert PE_INDICATOR_SCORE("不超支", "3800", 10, 3676.31) < 10


def test_qualitative_and_not_applicable_targets_say_so():
    assert PE_INDICATOR_SCORE("中长期", "有效提升", 10) == "定性指标，需人工评分"
    assert PE_INDICATOR_SCORE("不适用", "", 0) == "不适用，不计分"


def test_variances_of_the_seeds_three_public_lines():
    assert PE_VARIANCE(4.87, 20) == pytest.approx(-15.13)  # 因公出国 决算 − 预算
    assert round(PE_VARIANCE_PCT(4.87, 40.97), 4) == -0.8811  # 增减% printed as −88.11%
    assert round(PE_VARIANCE_PCT(143.61, 104.44), 4) == 0.3750  # 合计 39.17/104.44, printed 37.50%
    assert PE_VARIANCE_PCT(1, 0) == "—"  # as the template when the base is 0


def test_grades():
    assert PE_GRADE(95.2) == "优"
    assert PE_GRADE(90) == "优"
    assert PE_GRADE(89.99) == "良"
    assert PE_GRADE(60) == "中"
    assert PE_GRADE(59.9) == "差"


# ---- messy input --------------------------------------------------------------------------

def test_text_numbers_parse_like_the_readers():
    assert round(PE_EXECRATE("3,676.31", "３５２７．６６"), 4) == 0.9596
    assert round(PE_EXECRATE("3676.31万元", "　3527.66"), 4) == 0.9596
    assert PE_INDICATOR_SCORE("≥90%", "　99.06%", "10") == pytest.approx(10)


@pytest.mark.parametrize("blank", [None, "", "　", "  "])
def test_blank_gives_a_readable_message(blank):
    assert PE_EXECRATE(blank, 3527.66) == "预算数为空"
    assert PE_EXECRATE(3676.31, blank) == "执行数为空"
    assert PE_EXECSCORE(3676.31, 3527.66, blank) == "分值为空"
    assert PE_INDICATOR_SCORE(blank, "99%", 10) == "年度指标值为空"
    assert PE_INDICATOR_SCORE("≥90%", blank, 10) == "实际完成值为空"
    assert PE_GRADE(blank) == "总分为空"


def test_text_and_errors_give_a_readable_message():
    assert PE_EXECRATE("待定", 1) == "预算数不是数字：待定"
    assert PE_EXECRATE("—", 1) == "预算数为“—”，不是数字"
    assert PE_EXECRATE(0, 1) == "预算数为 0，无法计算执行率"
    assert "#DIV/0!" in PE_EXECRATE("#DIV/0!", 1)
    assert PE_EXECSCORE(100, 90, -5) == "分值不能为负数：-5"
    assert PE_GRADE("优秀") == "总分不是数字：优秀"
    assert "无法复算" in PE_INDICATOR_SCORE("≥90%", "基本完成", 10)


# ---- QA round 2: percentages, NaN/inf, negatives, dates, 不超支 without a budget -------------

@pytest.mark.parametrize("pct, shown", [("９０％", "90%"), ("　100%", "100%"), ("90 %", "90%")])
def test_a_percentage_given_as_an_amount_says_it_is_a_percentage(pct, shown):
    assert PE_EXECRATE(3676.31, pct) == f"执行数应为金额，不是百分比：{shown}"
    assert PE_EXECSCORE(pct, 3527.66) == f"预算数应为金额，不是百分比：{shown}"
    assert PE_GRADE(pct) == f"总分应为分数，不是百分比：{shown}"
    assert PE_EXECSCORE(3676.31, 3527.66, pct) == f"分值应为分数，不是百分比：{shown}"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_give_a_chinese_reason(bad):
    assert PE_EXECRATE(3676.31, bad) == "执行数不是有效数字"
    assert PE_EXECRATE(bad, 3527.66) == "预算数不是有效数字"
    assert PE_EXECSCORE(3676.31, 3527.66, bad) == "分值不是有效数字"
    assert PE_VARIANCE(bad, 20) == "实际数不是有效数字"
    assert PE_VARIANCE_PCT(4.87, bad) == "预算数不是有效数字"
    assert PE_GRADE(bad) == "总分不是有效数字"
    assert PE_INDICATOR_SCORE("≥90%", bad, 10) == "实际完成值不是有效数字"
    assert PE_INDICATOR_SCORE("不超支", 3527.66, 10, bad) == "预算数不是有效数字"


@pytest.mark.parametrize("huge", [1e308, "1e308"])
def test_absurdly_large_numbers_give_a_chinese_reason(huge):
    for out in (PE_EXECRATE(3676.31, huge), PE_EXECSCORE(3676.31, huge), PE_EXECSCORE(3676.31, 3527.66, huge),
                PE_VARIANCE_PCT(huge, 40.97), PE_GRADE(huge), PE_INDICATOR_SCORE("≥90%", huge, 10),
                PE_INDICATOR_SCORE("不超支", 3527.66, 10, huge)):
        assert "不是有效数字：数值过大" in out, out
    assert PE_EXECRATE(1e-308, 3527.66) == "结果超出可计算范围，请检查参数"  # a float overflow, not inf


def test_no_python_class_names_ever_reach_a_cell():
    inputs = [float("nan"), float("inf"), 1e308, -1e308, 1e-308, "1e308", "NaN", "９０％", -5, True, "≥" + "9" * 40]
    outs = []
    for x in inputs:
        outs += [PE_EXECRATE(x, 1), PE_EXECRATE(1, x), PE_EXECSCORE(x, 1), PE_EXECSCORE(1, 1, x), PE_VARIANCE(x, 1),
                 PE_VARIANCE_PCT(1, x), PE_GRADE(x), PE_INDICATOR_SCORE("≥90%", x, 10), PE_INDICATOR_SCORE(x, 1, 10),
                 PE_INDICATOR_SCORE("不超支", 1, x, x), PE_INDICATOR_SCORE("≤5", x, 10)]
    for out in outs:
        if isinstance(out, str):
            assert "class" not in out and "Invalid" not in out and "Error" not in out, out
    assert PE_CHECK(object()) == "无法校验：读取工作簿时出错，请确认参数是本工作簿中的单元格区域"


def test_negative_amounts_are_refused_like_a_negative_total():
    assert PE_EXECRATE(-5, 3527.66) == "预算数不能为负数：-5"
    assert PE_EXECSCORE(-5, -5) == "预算数不能为负数：-5"
    assert PE_EXECSCORE(3676.31, -5) == "执行数不能为负数：-5"
    assert PE_EXECRATE(3676.31, "-3,527.66") == "执行数不能为负数：-3,527.66"
    assert PE_VARIANCE(4.87, -20) == "预算数不能为负数：-20"
    assert PE_VARIANCE_PCT(-4.87, 40.97) == "实际数不能为负数：-4.87"
    assert PE_INDICATOR_SCORE("不超支", 3527.66, 10, -5) == "预算数不能为负数：-5"
    assert PE_GRADE(-5) == "总分不能为负数：-5"
    # the rate's denominator must be > 0; 0 as a budget still reads as a budget for 增减%
    assert PE_EXECSCORE(0, 3527.66) == "预算数为 0，无法计算执行率得分"
    assert PE_VARIANCE_PCT(1, 0) == "—"
    assert PE_EXECRATE(3676.31, 0) == 0.0


def test_a_date_is_not_a_number():
    day = datetime.datetime(2024, 5, 1)
    assert PE_INDICATOR_SCORE("≥90%", day, 10) == "实际完成值是日期，不是数字：2024-05-01"
    assert PE_INDICATOR_SCORE("≥90%", datetime.date(2024, 12, 31), 10) == "实际完成值是日期，不是数字：2024-12-31"
    assert PE_INDICATOR_SCORE(day, "99.06%", 10) == "年度指标值是日期，不是数字：2024-05-01"
    assert PE_INDICATOR_SCORE("≥90%", "99.06%", day) == "分值是日期，不是数字：2024-05-01"
    assert PE_EXECRATE(day, 3527.66) == "预算数是日期，不是数字：2024-05-01"
    assert PE_GRADE(datetime.datetime(2024, 5, 1, 9, 30)) == "总分是日期，不是数字：2024-05-01 09:30"
    assert PE_EXECSCORE(3676.31, datetime.time(9, 30)) == "执行数是时间，不是数字：09:30"


def test_not_over_budget_without_a_budget_asks_for_the_budget():
    assert PE_INDICATOR_SCORE("不超支", 3527.66, 10) == "“不超支”需要给出预算数（第 4 个参数）"
    assert PE_INDICATOR_SCORE("不超支", "3,527.66万元", 10) == "“不超支”需要给出预算数（第 4 个参数）"
    assert PE_INDICATOR_SCORE("不超支", "未超支", 10) == pytest.approx(10)  # words need no budget
    assert PE_INDICATOR_SCORE("不超支", "已超支", 10) == pytest.approx(0)
    assert PE_INDICATOR_SCORE("不超支", 3527.66, 10, 3676.31) == pytest.approx(10)


# ---- whole columns ------------------------------------------------------------------------

def test_columns_are_computed_element_by_element():
    budgets = [[3676.31], [100], [None], ["abc"]]
    actuals = [[3527.66], [50], [1], [2]]
    out = PE_EXECRATE(budgets, actuals)
    assert len(out) == 4 and all(len(r) == 1 for r in out)
    assert round(out[0][0], 4) == 0.9596
    assert out[1][0] == pytest.approx(0.5)
    assert out[2][0] == "预算数为空"
    assert out[3][0] == "预算数不是数字：abc"


def test_a_single_cell_broadcasts_against_a_column():
    out = PE_INDICATOR_SCORE([["≥90%"], ["≥95%"], ["中长期"]], [["99.06%"], ["90%"], ["好"]], 10)
    assert out[0][0] == pytest.approx(10)
    assert out[1][0] == pytest.approx(9.47)  # 0.90 / 0.95 × 10
    assert out[2][0] == "定性指标，需人工评分"
    assert PE_GRADE([[95, 85], [65, 10]]) == [["优", "良"], ["中", "差"]]


def test_a_row_from_a_one_dimensional_list():
    assert PE_VARIANCE([10, 20, 30], 5) == [[5.0, 15.0, 25.0]]


def test_mismatched_ranges_say_so():
    assert PE_EXECRATE([[1], [2], [3]], [[1], [2]]) == "参数区域的行列数不一致"


# ---- PE_CHECK -----------------------------------------------------------------------------

def _report():
    return Report("x.xlsx", [
        Finding("PE101", Severity.ERROR, "绩效自评表", "G4", "执行率与 全年执行数/全年预算数 不符"),
        Finding("PE201", Severity.WARNING, "绩效自评表", "H13:H14", "自评得分超出分值"),
        Finding("PE301", Severity.INFO, "基础数据表", "B4", "在职人员控制率为 100%"),
        Finding("PE900", Severity.INFO, "", "", "没有单元格的发现"),
    ])


def test_findings_in_range_filters_by_sheet_and_address():
    r = _report()
    assert [f.code for f in findings_in_range(r, "绩效自评表", "$A$1:$H$10")] == ["PE101"]
    assert [f.code for f in findings_in_range(r, "绩效自评表", "H14")] == ["PE201"]  # a finding's range overlaps
    assert [f.code for f in findings_in_range(r, "绩效自评表", "A1:A2,G4")] == ["PE101"]
    assert findings_in_range(r, "基础数据表", "$G$4") == []
    assert findings_in_range(r, "三公经费情况表", "A1:Z99") == []


def _remote_book():
    payload = {
        "client": "Office.js", "version": xw.__version__,
        "book": {"name": "x.xlsx", "active_sheet_index": 0, "selection": "A1"}, "names": [],
        "sheets": [{"name": "绩效自评表", "values": [[""] * 9 for _ in range(15)], "pictures": [], "tables": [],
                    "notes": []}],
    }
    return xw.Book(json=payload)


def test_pe_check_on_a_real_xlwings_range_with_a_report():
    sheet = _remote_book().sheets["绩效自评表"]
    text = check_range(sheet.range("G4:H4"), report=_report())
    assert text == "错误 PE101 G4：执行率与 全年执行数/全年预算数 不符"
    assert check_range(sheet.range("A1:C3"), report=_report()) == "未发现问题"
    both = check_range(sheet.range("A1:I15"), report=_report())
    assert both.splitlines()[1].startswith("警告 PE201 H13:H14")


def test_pe_check_runs_the_rules_on_the_calling_book(recalculated_seed):
    from test_excel import batch_report, payload_from_xlsx

    book = xw.Book(json=copy.deepcopy(payload_from_xlsx(recalculated_seed)))
    sheet = book.sheets["绩效自评表"]
    expected = [f for f in batch_report(recalculated_seed).findings if f.sheet == "绩效自评表"]
    assert expected, "the seed has findings on its 绩效自评表"
    text = PE_CHECK(sheet.range("A1:I60"))
    for f in expected:
        assert f.code in text
    assert book.json()["actions"] == []  # the UDF reads, never marks


def test_pe_check_shows_why_a_book_cannot_be_checked():
    assert check_range(_remote_book().sheets[0].range("A1"), report=Report("x", error="不是绩效自评表")) \
        == "无法校验：不是绩效自评表"
    assert PE_CHECK(object()).startswith("无法校验")
