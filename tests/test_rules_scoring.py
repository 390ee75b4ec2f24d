"""perfeval_xl.scoring: the arithmetic of domain.md §2, on the seed's own figures first."""
from decimal import Decimal as D

import pytest

from perfeval_xl.scoring import (
    Comparator, ScoreKind, execution_rate, execution_score, grade, indicator_score, parse_actual, parse_target,
)
from perfeval_xl.settings import Settings


def test_seed_execution_rate_is_95_96_percent_and_scores_9_6():
    rate = execution_rate(D("3676.31"), D("3527.66"))
    assert round(rate, 4) == D("0.9596")
    assert execution_score(D("3676.31"), D("3527.66"), 10) == D("9.60")


def test_execution_score_is_capped_at_its_points_and_none_without_budget():
    assert execution_score(100, 130, 10) == D("10.00")
    assert execution_rate(0, 5) is None
    assert execution_rate(None, 5) is None
    assert execution_score(0, 5, 10) is None


@pytest.mark.parametrize("text,cmp,number,is_pct", [
    ("　=24", Comparator.EQ, D(24), False),
    ("=100%", Comparator.EQ, D(1), True),
    ("≥90%", Comparator.GE, D("0.9"), True),
    ("　≥90%", Comparator.GE, D("0.9"), True),
    (">=95%", Comparator.GE, D("0.95"), True),
    ("＞0", Comparator.GT, D(0), False),
    ("＞＝８５％", Comparator.GE, D("0.85"), True),
    ("≤5天", Comparator.LE, D(5), False),
    ("<3", Comparator.LT, D(3), False),
    ("不低于95%", Comparator.GE, D("0.95"), True),
    ("100%", Comparator.EQ, D(1), True),
])
def test_parse_target_quantitative(text, cmp, number, is_pct):
    t = parse_target(text)
    assert (t.comparator, t.number, t.is_percent) == (cmp, number, is_pct)
    assert t.kind is ScoreKind.QUANTITATIVE


@pytest.mark.parametrize("text,kind", [
    ("不超支", ScoreKind.QUANTITATIVE), ("　中长期", ScoreKind.QUALITATIVE), ("及时", ScoreKind.QUALITATIVE),
    ("有效提升", ScoreKind.QUALITATIVE), ("不适用", ScoreKind.NA), ("-", ScoreKind.NA), ("—", ScoreKind.NA),
    ("", ScoreKind.NA),
])
def test_parse_target_kinds(text, kind):
    assert parse_target(text).kind is kind


def test_parse_actual_reads_the_target_unit():
    t = parse_target("≥90%")
    assert parse_actual("　99.06%", t) == D("0.9906")
    assert parse_actual("99.06", t) == D("0.9906")  # a percent target: a bare 99.06 means 99.06%
    assert parse_actual("=24", parse_target("=24")) == D(24)
    assert parse_actual("3,527.66万元") == D("3527.66")
    assert parse_actual("中长期") is None


def test_seed_indicators_recompute():
    # 不超支: 3527.66 <= 3676.31 -> full 10 (the seed wrote 9.6)
    r = indicator_score("不超支", "3527.66", 10, budget=D("3676.31"))
    assert r.score == 10 and r.met and r.kind is ScoreKind.QUANTITATIVE
    assert "3527.66" in r.explanation
    assert indicator_score("　≥90%", "　97.24%", 20).score == 20
    assert indicator_score("　=24", "　=24", 10).score == 10
    assert indicator_score("=100%", "　=100%", 15).score == 15
    q = indicator_score("　中长期", "　中长期", 15)
    assert q.score is None and q.kind is ScoreKind.QUALITATIVE
    assert indicator_score("-", "-", None).kind is ScoreKind.NA


def test_positive_partial_is_proportional():
    r = indicator_score("≥90%", "45%", 10)
    assert r.score == D("5.00") and r.met is False and r.deviation == D("-0.5")
    assert indicator_score(">0", "0", 10).score == 0


def test_equal_with_zero_target():
    assert indicator_score("=0", "0", 10).score == 10
    assert indicator_score("=0", "2", 10).score == 0


def test_reverse_linear_default_and_ratio_setting():
    assert indicator_score("≤5", "7", 10).score == D("6.00")  # (1 - 2/5) * 10
    assert indicator_score("≤5", "20", 10).score == 0  # floored at 0
    assert indicator_score("≤5", "4", 10).score == 10
    ratio = Settings(reverse_formula="ratio")
    assert indicator_score("≤5", "8", 10, ratio).score == D("6.25")  # 5/8 * 10


def test_negative_actual_counts_as_zero():
    assert indicator_score("≥10", "-5", 10).score == 0
    assert indicator_score("≤5", "-3", 10).score == 10


def test_not_over_budget_variants():
    assert indicator_score("不超支", "3800", 10, budget=D(3600)).score < 10
    assert indicator_score("不超支", "未超支", 10).score == 10
    assert indicator_score("不超支", "未超支", 10, budget=D(100), spent=D(120)).score < 10
    assert indicator_score("不超支", "已超支", 10).score == 0
    assert indicator_score("不超支", "良好", 10).score is None


def test_over_achievement_deviation():
    r = indicator_score("≥100", "140", 10)
    assert r.score == 10 and r.deviation == D("0.4")


def test_grade_bands_default_and_configured():
    assert [grade(x) for x in (99.6, 90, 89.99, 80, 60, 59.99)] == ["优", "优", "良", "良", "中", "差"]
    s = Settings(grade_bands=(("优", D(95)), ("良", D(85)), ("中", D(70)), ("差", D(0))))
    assert grade(D("92"), s) == "良"
