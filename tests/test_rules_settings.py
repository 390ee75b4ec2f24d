"""Settings: defaults, perfeval.toml / pyproject.toml in the working directory, --config, the 设置 sheet."""
from datetime import date
from decimal import Decimal as D

import pytest

from conftest import add_settings_sheet

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


def test_perfeval_toml_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    wb = tmp_path / "a.xlsx"
    (tmp_path / "perfeval.toml").write_text(
        'low_execution = "85%"\nreverse_formula = "ratio"\ngrade_bands = {"优" = 95, "良" = 85, "中" = 70}\n'
        'ignore = ["PE405"]\n[severity]\nPE301 = "error"\n', encoding="utf-8")
    s = load_settings(str(wb))
    assert s.low_execution == D("0.85") and s.reverse_formula == "ratio"
    assert s.grade_bands[0] == ("优", D(95)) and s.grade_bands[-1] == ("差", D(0))
    assert s.ignore == ("PE405",) and s.severity == {"PE301": "error"}



def test_resolved_settings_are_not_looked_for_again(tmp_path, monkeypatch):
    # the CLI resolves the bureau's settings once (CheckOptions.resolved): a worker takes config as all there is
    monkeypatch.chdir(tmp_path)
    (tmp_path / "perfeval.toml").write_text('low_execution = "85%"\n', encoding="utf-8")
    assert load_settings(str(tmp_path / "a.xlsx"), search=False).low_execution == D("0.9")  # resolved: none
    assert load_settings(str(tmp_path / "a.xlsx")).low_execution == D("0.85")
    cfg = tmp_path / "perfeval.toml"
    assert load_settings(config=str(cfg), search=False).low_execution == D("0.85")
    cfg.write_text('low_execution = "80%"\n', encoding="utf-8")  # rewritten in place: seen on the next file
    assert load_settings(config=str(cfg), search=False).low_execution == D("0.8")

def test_pyproject_tool_section_and_explicit_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.perfeval]\nyoy_change = 50\n", encoding="utf-8")
    assert load_settings(str(tmp_path / "x.xlsx")).yoy_change == D("0.5")
    other = tmp_path / "conf"
    other.mkdir()
    cfg = other / "mine.toml"
    cfg.write_text("yoy_change = 0.4\n", encoding="utf-8")
    assert load_settings(str(tmp_path / "x.xlsx"), config=str(cfg)).yoy_change == D("0.4")


def test_sheet_overrides_take_chinese_labels_and_may_only_make_checks_stricter(tmp_path):
    # issue 11: the sheet may only make checks stricter (key by key) unless the bureau allows more.
    cfg = tmp_path / "perfeval.toml"
    cfg.write_text("low_execution = 0.8\n", encoding="utf-8")
    s = load_settings(config=str(cfg), overrides={"执行率下限": "95%", "反向指标公式": "比例",
                                                   "执行率偏低须说明原因": "否", "今天": "2025-05-01",
                                                   "容差": "0.005", "": ""})
    assert s.low_execution == D("0.95") and s.tolerance == D("0.005")  # stricter: applied
    assert s.reverse_formula == "linear" and s.reason_required_low_execution is True and s.today is None
    notes = {k: why for k, _, why in s.sheet_notes}
    assert notes["执行率下限"] is None and notes["容差"] is None
    assert "只能让校验更严" in notes["执行率偏低须说明原因"] and "只能由财政局" in notes["反向指标公式"]
    assert "只能由财政局" in notes["今天"]
    cfg.write_text('low_execution = 0.8\nsheet_may_relax = ["执行率下限", "today"]\n', encoding="utf-8")
    s = load_settings(config=str(cfg), overrides={"执行率下限": "50%", "今天": "2025-05-01", "容差": "1"})
    assert s.low_execution == D("0.5") and s.today == date(2025, 5, 1) and s.tolerance == D("0.01")
    assert load_settings(overrides={"执行率下限": "95%"}).low_execution == D("0.95")  # no bureau file


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


def test_the_documented_example_settings_file_loads(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    import re
    from pathlib import Path

    doc = (Path(__file__).parent.parent / "docs" / "rules.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", doc, re.S).group(1)
    (tmp_path / "perfeval.toml").write_text(block, encoding="utf-8")
    s = load_settings(str(tmp_path / "a.xlsx"))
    assert s.severity == {"PE301": "error"} and s.ignore == ("PE405",) and s.grade_of(D(85)) == "良"


def test_the_settings_sheet_of_a_workbook_applies(tmp_path, seed_original):
    from perfeval_xl.pipeline import CheckOptions, check_file

    # the sheet's 忽略规则 used to silence PE308 (the defect): a submission may not select or ignore rules
    path = add_settings_sheet(seed_original, tmp_path / "a.xlsx", [("执行率下限", "99%"), ("忽略规则", "PE308")])
    report = check_file(path, CheckOptions())
    codes = {f.code for f in report.findings}
    assert report.error is None and "PE305" in codes and "PE308" in codes
    notes = [f for f in report.findings if f.code == "PE417"]
    assert [(f.sheet, f.cell) for f in notes] == [("设置", "A2"), ("设置", "A3")]  # each at its own row
    assert any("执行率下限: 99%（已采用）" in f.message for f in notes)
    assert any("忽略规则: PE308（未采用" in f.message for f in notes)


def test_a_bad_settings_sheet_makes_the_file_fail_with_the_key_named(tmp_path, seed_original):
    from perfeval_xl.pipeline import CheckOptions, check_file

    path = add_settings_sheet(seed_original, tmp_path / "b.xlsx", [("执行率上限", "99%")])
    report = check_file(path, CheckOptions())
    assert report.error and "执行率上限" in report.error and not report.findings


def test_where_a_low_execution_reason_may_stand_is_a_setting(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = Settings()
    assert s.execution_reason_level2 == ("成本",) and "预算" in s.execution_reason_keywords
    s = load_settings(overrides={"执行率原因所在二级指标": "数量，成本", "执行率原因所在三级指标关键词": "预算"})
    # a sheet may narrow where a reason counts (stricter), not widen it
    assert s.execution_reason_level2 == ("成本",) and s.execution_reason_keywords == ("预算",)
    (tmp_path / "perfeval.toml").write_text('execution_reason_keywords = ["预算"]\n', encoding="utf-8")
    assert load_settings(str(tmp_path / "a.xlsx")).execution_reason_keywords == ("预算",)


# ---- QA round 2: a submission must never lower the bureau's checks silently ----

def test_a_settings_sheet_cannot_silence_the_rules_under_a_bureau_config(tmp_path, seed_original):
    from perfeval_xl.pipeline import CheckOptions, check_file

    bureau = tmp_path / "bureau.toml"
    bureau.write_text('low_execution = "99%"\n', encoding="utf-8")
    plain = check_file(seed_original, CheckOptions(config=str(bureau)))
    path = add_settings_sheet(seed_original, tmp_path / "evil.xlsx",
                                [("执行率下限", "50%"), ("忽略规则", "PE1,PE2,PE3,PE4,PE5"), ("规则级别", "PE205=提示"),
                                 ("启用规则", "PE405")])
    report = check_file(path, CheckOptions(config=str(bureau)))
    assert report.error is None
    rest = [(f.code, f.severity, f.cell) for f in report.findings if f.code != "PE417"]
    assert rest == [(f.code, f.severity, f.cell) for f in plain.findings]  # nothing silenced, nothing demoted
    assert any(f.code == "PE305" for f in report.findings)  # the bureau's 99%, not the sheet's 50%
    notes = [f.message for f in report.findings if f.code == "PE417"]
    assert len(notes) == 4 and all("未采用" in m for m in notes)
    assert any("忽略规则: PE1,PE2,PE3,PE4,PE5" in m for m in notes) and any("执行率下限: 50%" in m for m in notes)


def test_a_settings_sheet_does_not_replace_the_ignore_list_beside_the_files(tmp_path, seed_original, monkeypatch):
    from perfeval_xl.pipeline import CheckOptions, check_file

    monkeypatch.chdir(tmp_path)
    (tmp_path / "perfeval.toml").write_text('ignore = ["PE405"]\n', encoding="utf-8")
    path = add_settings_sheet(seed_original, tmp_path / "a.xlsx", [("忽略规则", "PE3")])
    codes = {f.code for f in check_file(path, CheckOptions()).findings}
    assert "PE405" not in codes and "PE301" in codes and "PE417" in codes


@pytest.mark.parametrize("where,codes", [("select", "PE9O"), ("select", "PE-205"), ("ignore", "PE3O8")])
def test_unknown_rule_codes_in_a_settings_file_are_config_errors(tmp_path, where, codes):
    from perfeval_xl.pipeline import check_settings_codes

    (tmp_path / "perfeval.toml").write_text(f'{where} = ["PE1", "{codes}"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=f"没有规则 {codes}"):  # the caller checks codes, settings know no rules
        check_settings_codes(load_settings(config=str(tmp_path / "perfeval.toml")))


def test_unknown_rule_codes_elsewhere_are_config_errors(tmp_path, seed_original):
    from perfeval_xl.pipeline import CheckOptions, check_file

    from perfeval_xl.pipeline import check_settings_codes

    with pytest.raises(ConfigError, match="没有规则 PE399"):
        check_settings_codes(Settings(severity={"PE399": "error"}))
    for opts, bad in ((CheckOptions(select=("PE-205",)), "--select：没有规则 PE-205"),
                      (CheckOptions(ignore=("PE2", "PE3O8")), "--ignore：没有规则 PE3O8")):
        report = check_file(seed_original, opts)
        assert report.error and bad in report.error and not report.findings
    # prefixes and report codes are real
    assert check_file(seed_original, CheckOptions(select=("PE3",), ignore=("PR601",))).error is None


@pytest.mark.parametrize("bands,why", [
    ({"优": 60, "良": 80, "中": 90}, "应高于"),
    ("优=90,良=90,中=60", "应高于"),
    ("中=60,良=80,优=50", "应高于"),
    ({"优": 190, "良": 80, "中": 60}, "0 至 100"),
    ({"优": 90, "良": 80, "中": -5}, "0 至 100"),
])
def test_nonsense_grade_bands_are_config_errors(bands, why):
    with pytest.raises(ConfigError) as e:
        load_settings(overrides={"grade_bands": bands})
    assert "grade_bands" in str(e.value) and why in str(e.value)


def test_grade_bands_in_any_order_mean_the_same(tmp_path):
    (tmp_path / "b.toml").write_text('"等级划分" = "中=60,优=95,良=85"\n', encoding="utf-8")
    s = load_settings(config=str(tmp_path / "b.toml"))
    assert [k for k, _ in s.grade_bands] == ["优", "良", "中", "差"] and s.grade_of(D("99.6")) == "优"
    assert s.grade_of(D(90)) == "良"


def test_the_sum_tolerance_is_capped(tmp_path):
    s = Settings()
    assert s.sum_tolerance(1) == D("0.01") and s.sum_tolerance(5) == D("0.05")
    assert s.sum_tolerance(2000) == D("0.10")  # used to be 20.00
    (tmp_path / "b.toml").write_text('"容差上限" = 0.5\n', encoding="utf-8")
    assert load_settings(config=str(tmp_path / "b.toml")).sum_tolerance(2000) == D("0.5")
    assert load_settings(overrides={"容差上限": "0.5"}).sum_tolerance(2000) == D("0.10")  # a sheet: stricter only


def test_an_unknown_sheet_key_suggests_the_closest(tmp_path, seed_original):
    from perfeval_xl.pipeline import CheckOptions, check_file

    with pytest.raises(ConfigError, match="是否是“执行率下限”？"):
        load_settings(overrides={"执行率下线": "97%"})
    path = add_settings_sheet(seed_original, tmp_path / "b1.xlsx", [("执行率下线", "97%")])
    report = check_file(path, CheckOptions())
    assert "“设置”工作表" in report.error and "执行率下线" in report.error and "是否是“执行率下限”？" in report.error


def test_severity_levels_in_chinese_and_a_bad_level_shown_plainly(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "perfeval.toml").write_text('[severity]\nPE301 = "错误"\nPE308 = "警告"\nPE405 = "提示"\n',
                                             encoding="utf-8")
    s = load_settings(str(tmp_path / "a.xlsx"))
    assert s.severity == {"PE301": "error", "PE308": "warning", "PE405": "info"}
    (tmp_path / "perfeval.toml").write_text('severity = "PE301=错误,PE308=警告"\n', encoding="utf-8")
    assert load_settings(str(tmp_path / "b.xlsx")).severity == {"PE301": "error", "PE308": "warning"}
    with pytest.raises(ConfigError) as e:
        load_settings(overrides={"规则级别": "PE301=严重"})
    assert "PE301 = 严重" in str(e.value) and "{" not in str(e.value)


# ---- the 设置 sheet's cells: repeated keys, and findings and errors that name the row ----

@pytest.mark.parametrize("fast", [False, True])
def test_a_key_given_twice_on_the_settings_sheet_names_both_cells(tmp_path, seed_original, fast):
    from perfeval_xl.pipeline import CheckOptions, check_file

    # the same key twice used to keep the last row silently
    path = add_settings_sheet(seed_original, tmp_path / "twice.xlsx",
                                [("反向指标公式", "比例"), ("执行率下限", "95%"), ("容差", "0.02"),
                                 ("模糊用语", "提高"), ("超额完成阈值", "50%"), ("执行率下限", "50%")])
    report = check_file(path, CheckOptions(fast=fast))
    assert report.error == "设置有误：设置表中“执行率下限”重复：设置!A3、设置!A7" and not report.findings
    # an English name and its Chinese label for one setting: the same thing, twice
    path = add_settings_sheet(seed_original, tmp_path / "alias.xlsx",
                                [("low_execution", "95%"), ("容差", "0.02"), ("执行率下限", "50%")])
    report = check_file(path, CheckOptions(fast=fast))
    assert report.error and "low_execution（执行率下限）" in report.error and "重复" in report.error
    assert report.error.endswith("：设置!A2、设置!A4") and not report.findings
    # a repeated row with an empty value is still a repetition (it would have dropped the first value)
    path = add_settings_sheet(seed_original, tmp_path / "blank.xlsx", [("执行率下限", "95%"), ("执行率下限", None)])
    assert check_file(path, CheckOptions(fast=fast)).error == "设置有误：设置表中“执行率下限”重复：设置!A2、设置!A3"


def test_repeats_without_cells_and_distinct_keys_still_load():
    with pytest.raises(ConfigError, match="重复") as e:  # no cells (a caller that has only the pairs)
        load_settings(overrides={"low_execution": "95%", "执行率下限": "50%"})
    assert "设置!" not in str(e.value)
    s = load_settings(overrides={"执行率下限": "95%", "容差": "0.005"}, cells={"执行率下限": ["A2"], "容差": ["A3"]})
    assert s.low_execution == D("0.95") and s.tolerance == D("0.005")


@pytest.mark.parametrize("fast", [False, True])
def test_unknown_keys_and_bad_values_on_the_sheet_name_their_cell(tmp_path, seed_original, fast):
    from perfeval_xl.pipeline import CheckOptions, check_file

    path = add_settings_sheet(seed_original, tmp_path / "typo.xlsx", [("容差", "0.02"), ("执行率下线", "97%")])
    err = check_file(path, CheckOptions(fast=fast)).error
    assert err == "设置有误：“设置”工作表（设置!A3）：未知的设置项“执行率下线”（是否是“执行率下限”？）"
    path = add_settings_sheet(seed_original, tmp_path / "bad.xlsx", [("执行率下限", "很多")])
    err = check_file(path, CheckOptions(fast=fast)).error
    assert "（设置!A2）" in err and "low_execution" in err and "很多" in err


@pytest.mark.parametrize("fast", [False, True])
def test_pe417_points_at_the_row_of_each_key(tmp_path, seed_original, fast):
    from openpyxl import load_workbook

    from perfeval_xl.pipeline import CheckOptions, check_file

    wb = load_workbook(seed_original)
    ws = wb.create_sheet("设置")
    ws["A1"] = "说明：本表由单位填写"
    ws["A4"], ws["B4"] = "执行率下限", "95%"
    ws["A9"], ws["B9"] = "ignore", "PE3"
    path = str(tmp_path / "rows.xlsx")
    wb.save(path)
    report = check_file(path, CheckOptions(fast=fast))
    assert report.error is None
    notes = [(f.sheet, f.cell, f.message) for f in report.findings if f.code == "PE417"]
    assert [(sh, c) for sh, c, _ in notes] == [("设置", "A4"), ("设置", "A9")]
    assert "执行率下限: 95%（已采用）" in notes[0][2] and "ignore: PE3（未采用" in notes[1][2]
