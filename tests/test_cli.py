"""`perfeval` on real files: exit codes, text and JSON output, rule selection, batch behaviour."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from perfeval_xl.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_seed_exits_1_on_error_findings_with_a_chinese_summary(capsys, seed_original):
    code, out, err = run(capsys, "check", seed_original)
    assert code == 1
    assert "[自评表]" in out and "PE205" in out and "错误" in out
    # the headings do not match their lines (PE205): the verdict says it is provisional, and why
    assert "执行率 95.96%" in out and "复核总分 99.20（暂定，表中 99.20）" in out
    assert "等级 优（暂定：分值结构有误 PE205）" in out
    assert "\x1b[" not in out  # not a tty: no colour


def test_check_exits_0_when_only_warnings_remain(capsys, seed_original):
    code, out, _ = run(capsys, "check", "--select", "PE3", seed_original)
    assert code == 0 and "PE301" in out and "PE205" not in out


def test_json_shape(capsys, seed_original, seed_example):
    code, out, _ = run(capsys, "check", "--format", "json", seed_original, seed_example)
    data = json.loads(out)
    assert list(data) == ["files", "skipped", "skipped_reasons"] and len(data["files"]) == 2
    assert data["skipped"] == [] and data["skipped_reasons"] == {}
    for f in data["files"]:
        assert set(f) == {"path", "form", "metrics", "findings", "error"} and f["error"] is None
        assert f["metrics"]["execution_rate"] == pytest.approx(0.9596)
        assert f["metrics"]["total_score"] == pytest.approx(99.2) and f["metrics"]["grade"] == "优"
        assert f["metrics"]["score_provisional"] is True and "PE205" in f["metrics"]["score_note"]
        for x in f["findings"]:
            assert set(x) == {"code", "severity", "sheet", "cell", "message", "expected", "actual", "related"}
            assert x["severity"] in ("error", "warning", "info")
    assert code == 1


def test_select_and_ignore_are_comma_separated_and_repeatable(capsys, seed_original):
    _, out, _ = run(capsys, "check", "--format", "json", "--select", "PE205,PE410", "--select", "PE3",
                    seed_original)
    codes = {x["code"] for x in json.loads(out)["files"][0]["findings"]}
    assert codes == {"PE205", "PE410", "PE301", "PE303", "PE307", "PE308", "PE309"}
    _, out, _ = run(capsys, "check", "--format", "json", "--ignore", "pe3", "--ignore", "PE205,PE4", seed_original)
    data = json.loads(out)["files"][0]
    assert {x["code"] for x in data["findings"]} == {"PE203"}
    # PE205 ignored: the verdict agrees with the findings shown, so it is not called provisional
    assert data["metrics"]["score_provisional"] is False and data["metrics"]["score_note"] == ""


def test_a_corrupt_file_exits_2_naming_it_while_the_others_are_checked(capsys, tmp_path, seed_original):
    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(b"this is not a zip")
    good = tmp_path / "good.xlsx"
    shutil.copyfile(seed_original, good)
    code, out, _ = run(capsys, "check", str(tmp_path))
    assert code == 2
    assert "坏文件.xlsx" in out and "无法校验" in out
    assert "PE205" in out  # the good file was still checked
    code, out, _ = run(capsys, "check", "--format", "json", str(bad), str(good))
    files = json.loads(out)["files"]
    assert code == 2 and files[0]["error"] and files[1]["error"] is None and files[1]["findings"]


def test_wrong_calls_exit_2(capsys, seed_original, tmp_path):
    assert run(capsys, "check")[0] == 2
    assert run(capsys, "check", "--format", "xml", seed_original)[0] == 2
    assert run(capsys, "check", "--jobs", "0", seed_original)[0] == 2
    assert run(capsys, "check", "--config", str(tmp_path / "none.toml"), seed_original)[0] == 2
    assert run(capsys, "check", str(tmp_path / "empty_folder_without_workbooks"))[0] == 2
    assert run(capsys)[0] == 2


def test_a_bad_setting_stops_the_run_with_one_usage_error(capsys, tmp_path, seed_original, monkeypatch):
    # the bureau's file in the directory the command runs from: broken -> one error, before any file is read
    shutil.copyfile(seed_original, tmp_path / "a.xlsx")
    shutil.copyfile(seed_original, tmp_path / "b.xlsx")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "perfeval.toml").write_text("low_execution = \"很多\"\n", encoding="utf-8")
    code, out, err = run(capsys, "check", "a.xlsx", "b.xlsx")
    assert code == 2 and out == "" and err.count("low_execution") == 1


def test_config_option_changes_thresholds(capsys, tmp_path, seed_original):
    cfg = tmp_path / "strict.toml"
    cfg.write_text('budget_adjustment = "60%"\n[severity]\nPE301 = "error"\n', encoding="utf-8")
    _, out, _ = run(capsys, "check", "--format", "json", "--config", str(cfg), seed_original)
    findings = json.loads(out)["files"][0]["findings"]
    assert not [x for x in findings if x["code"] == "PE307"]
    assert [x["severity"] for x in findings if x["code"] == "PE301"] == ["error"]


def test_rules_lists_and_explains(capsys):
    code, out, _ = run(capsys, "rules")
    assert code == 0 and "PE101" in out and "PE504" in out
    code, out, _ = run(capsys, "rules", "pe203")
    assert code == 0 and "PE203" in out and "复算" in out and "警告" in out
    code, _, err = run(capsys, "rules", "PE999")
    assert code == 2 and "PE999" in err


def test_summary_and_annotate_write_files_and_leave_inputs_alone(capsys, tmp_path, seed_original):
    src = tmp_path / "in" / "a.xlsx"
    src.parent.mkdir()
    shutil.copyfile(seed_original, src)
    before = src.read_bytes()
    summary = tmp_path / "汇总.xlsx"
    outdir = tmp_path / "marked"
    code, _, err = run(capsys, "check", str(src.parent), "--summary", str(summary), "--annotate", str(outdir))
    assert code == 1, err
    assert summary.is_file() and os.listdir(outdir)
    assert src.read_bytes() == before
    marked = os.path.join(outdir, os.listdir(outdir)[0])
    from openpyxl import load_workbook

    assert "校验结果" in load_workbook(marked).sheetnames


def test_in_place_marks_the_file_and_keeps_a_backup(capsys, tmp_path, seed_original):
    src = tmp_path / "a.xlsx"
    shutil.copyfile(seed_original, src)
    code, _, err = run(capsys, "check", "--in-place", str(src))
    assert code == 1, err
    from openpyxl import load_workbook

    assert "校验结果" in load_workbook(src).sheetnames
    assert any("备份" in n for n in os.listdir(tmp_path))
    assert run(capsys, "check", "--in-place", "--annotate", str(tmp_path / "x"), str(src))[0] == 2


def test_template_writes_a_blank_template(capsys, tmp_path):
    out = tmp_path / "空白.xlsx"
    code, text, _ = run(capsys, "template", "-o", str(out))
    assert code == 0 and out.is_file() and "空白" in text
    code, out2, _ = run(capsys, "check", "--format", "json", "--select", "PE401", str(out))
    assert code == 1 and json.loads(out2)["files"][0]["findings"]


def test_console_entry_point_runs_as_a_module(seed_original):
    env = dict(os.environ, NO_COLOR="1")
    p = subprocess.run([sys.executable, "-m", "perfeval_xl.cli", "check", "--select", "PE410", seed_original],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0 and "金融支出" in p.stdout


def test_colour_only_on_a_tty(monkeypatch):
    from perfeval_xl.output import use_color

    class Tty:
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Tty()) is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(Tty()) is False
    assert use_color(sys.stdout) is False or sys.stdout.isatty()


def test_annotate_mirrors_sub_folders_so_same_names_do_not_collide(capsys, tmp_path, seed_original):
    for unit in ("甲单位", "乙单位"):
        (tmp_path / "in" / unit).mkdir(parents=True)
        shutil.copyfile(seed_original, tmp_path / "in" / unit / "自评表.xlsx")
    out = tmp_path / "out"
    code, _, err = run(capsys, "check", str(tmp_path / "in"), "--annotate", str(out))
    assert code == 1, err
    assert (out / "甲单位" / "自评表_已校验.xlsx").is_file() and (out / "乙单位" / "自评表_已校验.xlsx").is_file()


def test_report_subcommands_and_their_rules_are_registered(capsys):
    pytest.importorskip("perfeval_xl.report.cli")
    code, out, _ = run(capsys, "report", "--help")
    assert code == 0 and "build" in out
    code, out, _ = run(capsys, "rules")
    assert "PR6" in out


def test_quiet_prints_one_line_per_file_and_the_total(capsys, tmp_path, seed_original):
    for name in ("甲.xlsx", "乙.xlsx"):
        shutil.copyfile(seed_original, tmp_path / name)
    (tmp_path / "坏.xlsx").write_bytes(b"not a zip")
    code, out, _ = run(capsys, "check", "-q", str(tmp_path))
    lines = out.splitlines()
    assert code == 2 and len(lines) == 4
    good = [ln for ln in lines if "甲.xlsx" in ln or "乙.xlsx" in ln]
    assert len(good) == 2 and all("执行率 95.96%" in ln and "复核总分 99.20（暂定" in ln and "等级 优" in ln
                                  and "错误 3" in ln for ln in good)
    bad = [ln for ln in lines if "坏.xlsx" in ln]
    assert len(bad) == 1 and "无法校验：" in bad[0]
    assert lines[-1].startswith("共 3 个文件") and "1 个文件无法校验" in lines[-1]
    assert "PE205 " not in out and "B13" not in out  # no findings listed (the verdict names PE205 as its reason)
    code, out, _ = run(capsys, "check", "--quiet", str(tmp_path / "甲.xlsx"))
    assert len(out.splitlines()) == 1


def test_the_reviewer_is_told_where_the_outputs_went(capsys, tmp_path, seed_original):
    src = tmp_path / "in" / "a.xlsx"
    src.parent.mkdir()
    shutil.copyfile(seed_original, src)
    shutil.copyfile(seed_original, tmp_path / "in" / "b.xlsx")
    summary, outdir = tmp_path / "汇总.xlsx", tmp_path / "marked"
    code, out, err = run(capsys, "check", "-q", str(src.parent), "--summary", str(summary), "--annotate", str(outdir))
    assert code == 1
    assert f"汇总表已写入：{summary}" in err and f"标注副本已写入：{outdir}（2 个文件）" in err
    code, out, err = run(capsys, "check", "--in-place", str(src))
    backups = [n for n in os.listdir(src.parent) if "_备份_" in n]
    assert len(backups) == 1 and "已直接标注 1 个文件，备份：" in err and backups[0] in err
    # JSON stays pure on stdout; the news goes to stderr
    code, out, err = run(capsys, "check", "--format", "json", str(tmp_path / "in" / "b.xlsx"), "--summary",
                         str(summary))
    assert json.loads(out)["files"] and "汇总表已写入" in err


def _marked_copy(src: str, dest) -> str:
    from perfeval_xl.pipeline import CheckOptions, check_file
    from perfeval_xl.writers.annotate import annotate

    return annotate(src, check_file(src, CheckOptions()), str(dest))


def test_earlier_outputs_in_a_folder_are_skipped_aloud_and_checked_when_named(capsys, tmp_path, seed_original):
    # earlier outputs are told by our record of what we wrote (ledger.py), never by a name or marker a
    # department could forge: "丙_备份_20250423-101500.xlsx" copied by hand is a submission (issue 11)
    from perfeval_xl import ledger

    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    shutil.copyfile(seed_original, inbox / "甲.xlsx")
    for i in range(3):
        _marked_copy(seed_original, inbox / f"乙{i}_已校验.xlsx")
    _marked_copy(seed_original, inbox / "renamed.xlsx")  # a marked copy renamed: still ours
    shutil.copyfile(seed_original, inbox / "戊_备份_20250423-101500.xlsx")
    ledger.record(str(inbox / "戊_备份_20250423-101500.xlsx"), ledger.KIND_BACKUP)  # one we wrote
    shutil.copyfile(seed_original, inbox / "丙_备份_20250423-101500.xlsx")  # named like ours: checked
    shutil.copyfile(seed_original, inbox / "财政局_已校验.xlsx")  # a real, unmarked submission: checked
    shutil.copyfile(seed_original, inbox / "丁_备份_2024.xlsx")
    code, out, err = run(capsys, "check", "-q", str(inbox))
    assert "跳过 5 个文件（以前生成的输出，不是报送文件）：以前生成的标注副本，4 个：" \
           "renamed.xlsx、乙0_已校验.xlsx、乙1_已校验.xlsx等；标注前留的备份，1 个：戊_备份_20250423-101500.xlsx" in err
    assert sorted(os.path.basename(line.split()[0]) for line in out.splitlines()[:-1]) == \
        ["丁_备份_2024.xlsx", "丙_备份_20250423-101500.xlsx", "甲.xlsx", "财政局_已校验.xlsx"]
    code, out, err = run(capsys, "check", "--format", "json", str(inbox))
    data = json.loads(out)
    assert len(data["files"]) == 4 and len(data["skipped"]) == 5 and "跳过" not in err
    assert data["skipped_reasons"][str(inbox / "renamed.xlsx")] == "以前生成的标注副本"
    assert data["skipped_reasons"][str(inbox / "戊_备份_20250423-101500.xlsx")] == "标注前留的备份"
    named = str(inbox / "乙0_已校验.xlsx")
    code, out, err = run(capsys, "check", "-q", named)
    assert code == 1 and named in out and "跳过" not in err
    # marking an annotated copy again does not make "_已校验_已校验"
    code, out, err = run(capsys, "check", "-q", named, "--annotate", str(tmp_path / "out"))
    assert os.listdir(tmp_path / "out") == ["乙0_已校验.xlsx"]


def test_in_place_runs_again_over_the_files_it_marked(capsys, tmp_path, seed_original):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    shutil.copyfile(seed_original, inbox / "甲.xlsx")
    shutil.copyfile(seed_original, inbox / "乙.xlsx")
    for _ in range(2):  # the second run finds the files the first one marked, and skips only the backups
        code, out, err = run(capsys, "check", "-q", str(inbox), "--in-place")
        assert code == 1 and "已直接标注 2 个文件" in err
        assert {os.path.basename(line.split()[0]) for line in out.splitlines()[:-1]} == {"甲.xlsx", "乙.xlsx"}
    assert "标注前留的备份，2 个" in err


def test_annotate_into_the_input_folder_checks_the_inputs(capsys, tmp_path, seed_original, seed_example):
    inbox = tmp_path / "examples"
    inbox.mkdir()
    shutil.copyfile(seed_original, inbox / "甲.xlsx")
    code, out, err = run(capsys, "check", "-q", str(inbox), "--annotate", str(inbox))  # not without asking
    assert code == 2 and "--output-in-inbox" in err and out == "" and os.listdir(inbox) == ["甲.xlsx"]
    shutil.copyfile(seed_original, inbox / "甲.xlsx")
    shutil.copyfile(seed_example, inbox / "乙.xlsx")
    shutil.copyfile(seed_original, inbox / "丙_已校验.xlsx")  # an unmarked submission: never overwritten
    before = (inbox / "丙_已校验.xlsx").read_bytes()
    for _ in range(2):  # the second run replaces its own copies silently, and checks the same three files
        code, out, err = run(capsys, "check", "-q", str(inbox), "--annotate", str(inbox), "--output-in-inbox")
        assert code == 1 and "没有找到" not in err and "跳过" not in err, err
        assert len(out.splitlines()) == 4 and "标注副本已写入：" in err and "（3 个文件）" in err
    assert sorted(os.listdir(inbox)) == ["丙_已校验.xlsx", "丙_已校验_2.xlsx", "乙.xlsx", "乙_已校验.xlsx",
                                         "甲.xlsx", "甲_已校验.xlsx"]
    assert (inbox / "丙_已校验.xlsx").read_bytes() == before
    assert "校验结果" in load_workbook_names(inbox / "甲_已校验.xlsx")


def load_workbook_names(path) -> list[str]:
    from openpyxl import load_workbook

    return load_workbook(path, read_only=True).sheetnames


def test_help_and_usage_errors_are_in_chinese(capsys):
    code, out, err = run(capsys, "--help")
    assert code == 0 and "用法：perfeval" in out and "显示本帮助并退出" in out
    for english in ("usage:", "show this help", "options:", "positional arguments"):
        assert english not in out
    code, out, _ = run(capsys, "check", "-h")
    assert code == 0 and "用法：perfeval check" in out and "--quiet" in out and "show this help" not in out
    code, _, err = run(capsys, "check")
    assert code == 2 and "缺少必需的参数：PATH" in err and "required" not in err and "usage" not in err
    code, _, err = run(capsys, "check", "--jobs", "x", "a.xlsx")
    assert code == 2 and "参数 --jobs：应为整数" in err
    code, _, err = run(capsys, "check", "--format", "xml", "a.xlsx")
    assert code == 2 and "无效的选项值 'xml'" in err and "invalid choice" not in err
    code, _, err = run(capsys, "check", "a.xlsx", "--bogus")
    assert code == 2 and "无法识别的参数：--bogus" in err
    code, _, err = run(capsys, "nonsense")
    assert code == 2 and "无效的选项值" in err


def test_translate_error_maps_the_common_messages():
    from perfeval_xl.cli import translate_error

    assert translate_error("argument --jobs: expected one argument") == "参数 --jobs：需要一个值"
    assert translate_error("the following arguments are required: -o/--output") == "缺少必需的参数：-o/--output"
    assert translate_error("argument --x: not allowed with argument --y") == "参数 --x：不能与 --y 同时使用"
    assert translate_error("something new") == "something new"


# ---- usage errors: once, before any file is read (issue 12) ---------------------------------------------------

def test_an_unknown_rule_code_is_one_usage_error_before_any_file_is_read(capsys, tmp_path, seed_original):
    for name in ("甲.xlsx", "乙.xlsx"):
        shutil.copyfile(seed_original, tmp_path / name)
    (tmp_path / "坏.xlsx").write_bytes(b"not a zip")  # never read: the call is refused first
    code, out, err = run(capsys, "check", "--select", "PE2,PE9Z", str(tmp_path))
    assert code == 2 and out == ""
    assert err.count("PE9Z") == 1 and "没有规则 PE9Z" in err and "坏.xlsx" not in err
    code, out, err = run(capsys, "check", "--ignore", "PE3O8", "--format", "json", str(tmp_path))
    assert code == 2 and out == "" and err.count("PE3O8") == 1


def test_rules_with_a_prefix_lists_the_family(capsys):
    code, out, _ = run(capsys, "rules", "PE2")
    codes = [ln.split()[0] for ln in out.splitlines()]
    assert code == 0 and "PE201" in codes and "PE205" in codes and all(c.startswith("PE2") for c in codes)


def test_a_misspelled_option_shows_the_subcommands_usage_and_the_nearest_option(capsys, seed_original):
    code, out, err = run(capsys, "check", "--formt", "json", seed_original)
    assert code == 2 and out == ""
    assert "用法：perfeval check" in err and "--formt 是不是 --format？" in err
    code, _, err = run(capsys, "report", "build", "--pfd", seed_original, "-o", "r.docx")
    assert code == 2 and "用法：perfeval report build" in err and "是不是 --pdf" in err


def test_output_paths_that_are_folders_or_the_wrong_kind_are_refused(capsys, tmp_path, seed_original):
    code, _, err = run(capsys, "check", "--summary", str(tmp_path / "s.csv"), seed_original)
    assert code == 2 and "只能写成 .xlsx" in err and "s.xlsx" in err and not (tmp_path / "s.csv").exists()
    code, _, err = run(capsys, "check", "--summary", str(tmp_path), seed_original)
    assert code == 2 and "是文件夹" in err
    code, _, err = run(capsys, "template", "-o", str(tmp_path / "t.xls"))
    assert code == 2 and "t.xlsx" in err and not (tmp_path / "t.xls").exists()
    code, _, err = run(capsys, "template", "-o", str(tmp_path))
    assert code == 2 and "是文件夹" in err
    code, _, err = run(capsys, "report", "build", seed_original, "-o", str(tmp_path / "r.pdf"))
    assert code == 2 and "--pdf" in err and not (tmp_path / "r.pdf").exists()


def test_one_verdict_on_the_example_everywhere(capsys, seed_example):
    """Issue 12: the CLI line, the JSON, the 校验结果 sheet and the Excel alert say the same total, grade and
    that both are provisional (the headings 50/30/10 do not match their lines 45/25/20)."""
    from perfeval_xl.excel import summary_text
    from perfeval_xl.marks import plan_marks
    from perfeval_xl.pipeline import CheckOptions, check_file

    _, out, _ = run(capsys, "check", seed_example)
    assert "复核总分 99.20（暂定，表中 99.20） · 等级 优（暂定：分值结构有误 PE205）" in out
    _, out, _ = run(capsys, "check", "--format", "json", seed_example)
    m = json.loads(out)["files"][0]["metrics"]
    assert (m["total_score"], m["grade"], m["score_provisional"]) == (pytest.approx(99.2), "优", True)
    report = check_file(seed_example, CheckOptions())
    meta = {ln.values[0]: ln.values[1] for ln in plan_marks(report).result.lines if ln.role == "meta"}
    assert meta["复核总分（暂定）"] == pytest.approx(99.2) and meta["等级（复核）"] == "优（暂定）"
    assert meta["暂定原因"].startswith("分值结构有误：PE205")
    alert = summary_text(report)
    assert "复核总分 99.20，等级 优（暂定）" in alert and "PE205" in alert
    # PE205 ignored by the bureau: the verdict agrees with the findings shown, and is plain again
    fixed = check_file(seed_example, CheckOptions(ignore=("PE205",)))
    assert not fixed.metrics.score_provisional and "暂定" not in summary_text(fixed)
