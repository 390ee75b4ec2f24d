"""Messy cell contents (domain.md §6) parsed into model Values, as data tables."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from perfeval_xl.model import Kind, Loc
from perfeval_xl.values import (
    norm_label, parse_amount, parse_cell, parse_count, parse_date, parse_percent, parse_points, parse_text,
    parse_year, to_decimal,
)

D = Decimal

AMOUNTS = [
    # raw, kind, number
    ("3,527.66", Kind.NUMBER, D("3527.66")),
    ("3527.66万元", Kind.NUMBER, D("3527.66")),
    ("3527.66 万", Kind.NUMBER, D("3527.66")),
    ("３５２７．６６", Kind.NUMBER, D("3527.66")),
    ("３，５２７．６６", Kind.NUMBER, D("3527.66")),
    ("　19.57", Kind.NUMBER, D("19.57")),  # full-width space in front (seed)
    ("120.82　", Kind.NUMBER, D("120.82")),
    ("=24", Kind.NUMBER, D("24")),
    ("＝24", Kind.NUMBER, D("24")),
    ("-15.13", Kind.NUMBER, D("-15.13")),
    ("－15.13", Kind.NUMBER, D("-15.13")),
    ("(15.13)", Kind.NUMBER, D("-15.13")),
    ("1,234,567.8", Kind.NUMBER, D("1234567.8")),
    (3527.66, Kind.NUMBER, D("3527.66")),
    (0.1 + 0.2, Kind.NUMBER, D("0.3")),  # binary noise removed
    (20, Kind.NUMBER, D("20")),
    (20.0, Kind.NUMBER, D("20")),
    ("—", Kind.NA, None),
    ("——", Kind.NA, None),
    ("-", Kind.NA, None),
    ("--", Kind.NA, None),
    ("无", Kind.NA, None),
    ("不适用", Kind.NA, None),
    (None, Kind.EMPTY, None),
    ("", Kind.EMPTY, None),
    ("　", Kind.EMPTY, None),
    (" \n\t ", Kind.EMPTY, None),
    ("abc", Kind.INVALID, None),
    ("95%", Kind.INVALID, None),  # a percentage is not an amount
    ("12.3.4", Kind.INVALID, None),
    (True, Kind.INVALID, None),
    ("#DIV/0!", Kind.UNKNOWN, None),
    ("#REF!", Kind.UNKNOWN, None),
    ("#N/A", Kind.UNKNOWN, None),
    ("#VALUE!", Kind.UNKNOWN, None),
]


@pytest.mark.parametrize("raw,kind,number", AMOUNTS)
def test_amounts(raw, kind, number):
    v = parse_amount(raw)
    assert v.kind is kind, (raw, v)
    assert v.number == number
    assert v.raw == raw or raw is None


def test_unreadable_amount_says_why_in_chinese():
    v = parse_amount("abc", loc=Loc("基础数据表", "D13"))
    assert v.problem == "无法识别为金额：“abc”"
    assert v.loc == Loc("基础数据表", "D13")
    assert v.number is None  # never 0


def test_cached_error_is_unknown_never_zero():
    v = parse_cell("#DIV/0!", "percent")
    assert v.kind is Kind.UNKNOWN and v.number is None and "#DIV/0!" in v.problem


def test_formula_without_cached_value_is_unknown():
    for raw in (None, ""):
        v = parse_cell(raw, "amount", formula="=SUM(B4:B6)")
        assert v.kind is Kind.UNKNOWN and v.number is None and "公式" in v.problem
        assert v.formula == "=SUM(B4:B6)"
    # python-calamine cannot see the formula; the reader says the cell holds one
    v = parse_cell("", "amount", has_formula=True, template_formula="=SUM(B4:B6)")
    assert v.kind is Kind.UNKNOWN and v.template_formula == "=SUM(B4:B6)"
    # an input cell left blank is only blank
    assert parse_cell("", "amount").kind is Kind.EMPTY


PERCENTS = [
    # raw, number_format, hint, ratio
    ("95.96%", None, False, D("0.9596")),
    ("　100%", None, False, D("1")),
    ("-88.11%", None, False, D("-0.8811")),
    ("９５．９６％", None, False, D("0.9596")),
    ("=100%", None, False, D("1")),
    (0.9596, "0.00%", False, D("0.9596")),  # a % formatted number is a ratio
    (1.3382, "0.00%", True, D("1.3382")),  # ... even under a % header
    (-88.11, "General", True, D("-0.8811")),  # plain number, header says %: percent points
    (0.5, "General", True, D("0.005")),
    ("-88.11", None, True, D("-0.8811")),
    # no hint, format unknown: |x| <= 2 is a ratio, larger is percent points
    (0.9596, None, False, D("0.9596")),
    (1.3382, None, False, D("1.3382")),
    (95.96, None, False, D("0.9596")),
    ("95.96", None, False, D("0.9596")),
    (-88.11, None, True, D("-0.8811")),
]


@pytest.mark.parametrize("raw,fmt,hint,ratio", PERCENTS)
def test_percents(raw, fmt, hint, ratio):
    v = parse_percent(raw, number_format=fmt, hint=hint)
    assert v.kind is Kind.NUMBER, v
    assert v.number == ratio


@pytest.mark.parametrize("raw,kind", [("—", Kind.NA), ("", Kind.EMPTY), ("高", Kind.INVALID), ("#DIV/0!", Kind.UNKNOWN)])
def test_percent_non_numbers(raw, kind):
    assert parse_percent(raw).kind is kind


DATES = [
    ("2025年4月22日", date(2025, 4, 22)),
    ("2025年04月22日", date(2025, 4, 22)),
    (" 2025 年 4 月 22 日", date(2025, 4, 22)),
    ("２０２５年４月２２日", date(2025, 4, 22)),
    ("2025-4-22", date(2025, 4, 22)),
    ("2025/04/22", date(2025, 4, 22)),
    ("2025.4.22", date(2025, 4, 22)),
    ("20250422", date(2025, 4, 22)),
    (datetime(2025, 4, 22, 0, 0), date(2025, 4, 22)),
    (date(2025, 4, 22), date(2025, 4, 22)),
    (45769, date(2025, 4, 22)),  # Excel serial
    (45769.0, date(2025, 4, 22)),
]


@pytest.mark.parametrize("raw,expected", DATES)
def test_dates(raw, expected):
    v = parse_date(raw)
    assert v.kind is Kind.DATE and v.date == expected


@pytest.mark.parametrize("raw,kind", [("2025年13月1日", Kind.INVALID), ("四月", Kind.INVALID), ("", Kind.EMPTY),
                                      ("　", Kind.EMPTY), ("无", Kind.NA), (True, Kind.INVALID)])
def test_bad_dates(raw, kind):
    v = parse_date(raw)
    assert v.kind is kind
    if kind is Kind.INVALID:
        assert v.problem.startswith("无法识别为日期")


TEXTS = [
    ("益阳市人民政府办公室　", Kind.TEXT, "益阳市人民政府办公室"),
    ("  周旭 ", Kind.TEXT, "周旭"),
    ("　≥90%", Kind.TEXT, "≥90%"),  # a target stays text for the scoring rules
    ("　=24", Kind.TEXT, "=24"),
    ("不适用", Kind.NA, "不适用"),
    ("-", Kind.NA, "-"),
    ("无", Kind.NA, "无"),
    ("　", Kind.EMPTY, None),
    (None, Kind.EMPTY, None),
    (3527.66, Kind.TEXT, "3527.66"),
    (15273788388.0, Kind.TEXT, "15273788388"),  # a phone number typed as a number
    ("#REF!", Kind.UNKNOWN, None),
]


@pytest.mark.parametrize("raw,kind,text", TEXTS)
def test_texts(raw, kind, text):
    v = parse_text(raw)
    assert v.kind is kind and v.text == text


def test_counts_years_points():
    assert parse_count("116　").number == 116
    assert parse_count("116人").number == 116
    assert parse_count(116.0).number == 116
    assert parse_year("2024").number == 2024
    assert parse_year("2024年度").number == 2024
    assert parse_year(2024.0).number == 2024
    assert parse_year("24").kind is Kind.INVALID
    assert parse_points("　9.6").number == D("9.6")
    assert parse_points("10分").number == 10
    assert parse_cell("有", "choice").kind is Kind.TEXT
    assert parse_cell("无", "choice").text == "无"


def test_to_decimal_keeps_what_was_typed():
    assert to_decimal(3527.66) == D("3527.66")
    assert to_decimal(2793.13 + 734.53) == D("3527.66")
    assert str(to_decimal(116.0)) == "116"


def test_norm_label_tolerates_spacing_and_punctuation():
    assert norm_label("年度预\n\n算申请\n（万元）") == "年度预算申请(万元)"
    assert norm_label("经济效\n\n益指标") == "经济效益指标"
    assert norm_label("部门“三公”经费") == "部门三公经费"
    assert norm_label("填表人：") == "填表人"
    assert norm_label("　合　计　") == "合计"


def test_remembered_texts_and_numbers_read_the_same_as_fresh_ones():
    """parse_text and to_decimal remember what they saw (texts and floats repeat from file to file):
    the second reading of a cell equals the first, and a fresh Value is made for every cell."""
    from perfeval_xl import values as V

    cells = ["  不适用 ", "≥９０％", "——", "无", "产出指标", "#N/A", "x" * 250, "  "]
    first = [V.parse_text(c, loc=Loc("表", "A1")) for c in cells]
    second = [V.parse_text(c, loc=Loc("表", "A2")) for c in cells]
    for a, b in zip(first, second):
        assert (a.kind, a.text, a.raw, a.problem) == (b.kind, b.text, b.raw, b.problem)
        assert a is not b and b.loc == Loc("表", "A2")
    for x in (3527.66, 0.1 + 0.2, -0.0, 1e20, 95.96, 2.0):
        assert V.to_decimal(x) == V.to_decimal(x) == V._to_decimal(x)
    assert str(V.to_decimal(-0.0)) == "0" and str(V.to_decimal(0.1 + 0.2)) == "0.3"
