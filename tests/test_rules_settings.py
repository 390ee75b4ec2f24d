"""Settings: defaults, perfeval.toml / pyproject.toml beside the workbook, --config, the 设置 sheet."""
from datetime import date
from decimal import Decimal as D

import pytest

from perfeval_xl.errors import ConfigError
from perfeval_xl.settings import Settings, load_settings


def test_defaults_are_the_domain_thresholds():
    s = Settings()
    assert s.tolerance == D("0.01") and s.over_achievement == D("0.3") and s.low_execution == D("0.9")
    assert s.item_over_budget == D("0.1") and s.budget_adjustment == D("0.2") and s.yoy_change == D("0.3")
    assert s.reverse_formula == "linear" and s.reason_required_low_execution is True
    assert (s.weight_execution, s.weight_output, s.weight_effect, s.weight_satisfaction) == (10, 50, 30, 10)
    assert s.weight_effect_no_satisfaction == 40
    assert "提高" in s.vague_words and "无" in s.no_reason_words


def test_perfeval_toml_beside_the_workbook(tmp_path):
    wb = tmp_path / "a.xlsx"
    (tmp_path / "perfeval.toml").write_text(
        'low_execution = "85%"\nreverse_formula = "ratio"\ngrade_bands = {"优" = 95, "良" = 85, "中" = 70}\n'
        'ignore = ["PE405"]\n[severity]\nPE301 = "error"\n', encoding="utf-8")
    s = load_settings(str(wb))
    assert s.low_execution == D("0.85") and s.reverse_formula == "ratio"
    assert s.grade_bands[0] == ("优", D(95)) and s.grade_bands[-1] == ("差", D(0))
    assert s.ignore == ("PE405",) and s.severity == {"PE301": "error"}


def test_pyproject_tool_section_and_explicit_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.perfeval]\nyoy_change = 50\n", encoding="utf-8")
    assert load_settings(str(tmp_path / "x.xlsx")).yoy_change == D("0.5")
    other = tmp_path / "conf"
    other.mkdir()
    cfg = other / "mine.toml"
    cfg.write_text("yoy_change = 0.4\n", encoding="utf-8")
    assert load_settings(str(tmp_path / "x.xlsx"), config=str(cfg)).yoy_change == D("0.4")


def test_sheet_overrides_win_and_take_chinese_labels(tmp_path):
    (tmp_path / "perfeval.toml").write_text("low_execution = 0.8\n", encoding="utf-8")
    s = load_settings(str(tmp_path / "x.xlsx"), overrides={"执行率下限": "95%", "反向指标公式": "比例",
                                                              "执行率偏低须说明原因": "否", "今天": "2025-05-01",
                                                              "": ""})
    assert s.low_execution == D("0.95") and s.reverse_formula == "ratio"
    assert s.reason_required_low_execution is False and s.today == date(2025, 5, 1)


@pytest.mark.parametrize("pairs,needle", [
    ({"no_such_setting": "1"}, "no_such_setting"),
    ({"执行率下限": "很多"}, "low_execution"),
    ({"reverse_formula": "cubic"}, "reverse_formula"),
    ({"grade_bands": "优"}, "grade_bands"),
    ({"severity": "PE301=fatal"}, "severity"),
])
def test_bad_keys_and_values_name_the_key(pairs, needle):
    with pytest.raises(ConfigError) as e:
        load_settings(overrides=pairs)
    assert needle in str(e.value) and "设置" in str(e.value)


def test_broken_toml_is_a_config_error(tmp_path):
    cfg = tmp_path / "perfeval.toml"
    cfg.write_text("low_execution = = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="TOML"):
        load_settings(config=str(cfg))


def test_the_documented_example_settings_file_loads(tmp_path):
    import re
    from pathlib import Path

    doc = (Path(__file__).parent.parent / "docs" / "rules.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", doc, re.S).group(1)
    (tmp_path / "perfeval.toml").write_text(block, encoding="utf-8")
    s = load_settings(str(tmp_path / "a.xlsx"))
    assert s.severity == {"PE301": "error"} and s.ignore == ("PE405",) and s.grade_of(D(85)) == "良"


def _with_settings_sheet(src, dest, pairs):
    from openpyxl import load_workbook

    wb = load_workbook(src)
    ws = wb.create_sheet("设置")
    ws.append(["设置项", "值"])
    for k, v in pairs:
        ws.append([k, v])
    wb.save(dest)
    return str(dest)


def test_the_settings_sheet_of_a_workbook_applies(tmp_path, seed_original):
    from perfeval_xl.pipeline import CheckOptions, check_file

    path = _with_settings_sheet(seed_original, tmp_path / "a.xlsx", [("执行率下限", "99%"), ("忽略规则", "PE308")])
    report = check_file(path, CheckOptions())
    codes = {f.code for f in report.findings}
    assert report.error is None and "PE305" in codes and "PE308" not in codes


def test_a_bad_settings_sheet_makes_the_file_fail_with_the_key_named(tmp_path, seed_original):
    from perfeval_xl.pipeline import CheckOptions, check_file

    path = _with_settings_sheet(seed_original, tmp_path / "b.xlsx", [("执行率上限", "99%")])
    report = check_file(path, CheckOptions())
    assert report.error and "执行率上限" in report.error and not report.findings


def test_where_a_low_execution_reason_may_stand_is_a_setting(tmp_path):
    s = Settings()
    assert s.execution_reason_level2 == ("成本",) and "预算" in s.execution_reason_keywords
    s = load_settings(overrides={"执行率原因所在二级指标": "数量，成本", "执行率原因所在三级指标关键词": "经费"})
    assert s.execution_reason_level2 == ("数量", "成本") and s.execution_reason_keywords == ("经费",)
    (tmp_path / "perfeval.toml").write_text('execution_reason_keywords = ["预算"]\n', encoding="utf-8")
    assert load_settings(str(tmp_path / "a.xlsx")).execution_reason_keywords == ("预算",)
