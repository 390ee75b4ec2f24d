"""A submitted report checked against its workbook (PR6xx): the seed, doctored copies, built reports, the CLI."""
from __future__ import annotations

import json
import os
import re
import shutil

import pytest
from conftest import set_cells
from docx import Document

from perfeval_xl.catalog import CATALOG
from perfeval_xl.examples import seed_layout
from perfeval_xl.cli import main
from perfeval_xl.findings import Severity
from perfeval_xl.readers import read_workbook
from perfeval_xl.report import check_report
from perfeval_xl.report.check import statements
from perfeval_xl.settings import Settings

# The seed report as published (text extraction), kept beside the tests; /work/shared/seed has the original.
SEED_TXT = next((p for p in (os.path.join(os.path.dirname(__file__), "test_report_seed.txt"),
                             "/work/shared/seed/000_7daf7e59afd9bf54.txt") if os.path.isfile(p)), "")
LAY = seed_layout()


def at(key: str) -> str:
    """The example's cell of a field key: "三公经费情况表!B6"."""
    f = LAY.fields[key]
    return f"{f.sheet}!{f.cell}"


def project_cell(line: int, col: str) -> str:
    pl = LAY.lists["projects"]
    return f"{pl.sheet}!{pl.columns[col]}{pl.first_row + line - 1}"


def indicator_cell(line: int, col: str) -> str:
    il = LAY.lists["indicators"]
    return f"{il.sheet}!{il.columns[col]}{il.first_row + line - 1}"


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not os.path.isfile(SEED_TXT):
        pytest.skip("the seed report text is not available")
    return open(SEED_TXT, encoding="utf-8").read()


def _codes(report):
    return [(f.code, f.cell) for f in report.findings]


def test_the_report_codes_are_in_the_catalog():
    for code, sev in (("PR601", Severity.ERROR), ("PR602", Severity.WARNING), ("PR603", Severity.WARNING),
                      ("PR604", Severity.WARNING)):
        info = CATALOG[code]
        assert info.severity is sev and info.group == "报告" and info.title and len(info.explanation) > 40


def test_the_seed_report_confirms_each_statement_and_flags_only_the_renamed_project(seed_text, seed_form):
    sts = statements(seed_text, seed_form)
    prose = [s for s in sts if s.where.endswith("段")]
    flagged = [s for s in prose if s.ok is not True]
    assert [(s.where, s.said) for s in flagged] == [("第20段", "防非处非工作经费20万元")]
    keys = {s.key for s in prose if s.ok}
    for k in ("staff_quota", "staff_actual", "income_total", "expenditure_total", "carryover_prev",
              "carryover_current", "sg_total_actual", "sg_abroad_actual", "sg_reception_actual",
              "bd_car_purchase_actual", "bd_car_maintenance_actual", "projects_total_actual", "indicator:满意"):
        assert k in keys, k
    assert sum(1 for s in prose if s.key.startswith("project:") and s.ok) == 15  # 16 listed, one renamed
    # the tables the seed reproduces agree with the workbook, cell by cell
    cells = [s for s in sts if s.where.startswith("表")]
    assert len(cells) > 130 and all(s.ok for s in cells), [s for s in cells if not s.ok][:3]

    report = check_report(seed_text, seed_form)
    assert report.error is None
    assert _codes(report) == [("PR602", "第20段")]
    f = report.findings[0]
    assert f.sheet == "报告" and f.severity is Severity.WARNING
    assert "防非处非工作经费" in f.message and "金融支出" in f.message and "第16行" in f.message
    assert project_cell(16, "name") in f.message  # line 16 of the example's project list
    assert (f.expected, f.actual) == ("金融支出", "防非处非工作经费")


def test_the_seed_file_by_path_names_the_file(seed_form):
    if not os.path.isfile(SEED_TXT):
        pytest.skip("the seed report text is not available")
    report = check_report(SEED_TXT, seed_form)
    assert report.path == SEED_TXT and report.findings[0].sheet == os.path.basename(SEED_TXT)


@pytest.mark.parametrize("old,new,code,cell,expected,actual,names", [
    ("接待费为1.91万元", "接待费为1.19万元", "PR601", "第17段", "1.91万元", "1.19万元", at("sg_reception_actual")),
    ("实有116名", "实有118名", "PR601", "第11段", "116人", "118名", at("staff_actual")),
    ("本年收入3527.66万元", "本年收入3,572.66万元", "PR601", "第15段", "3527.66万元", "3,572.66万元",
     at("income_total")),
    ("市长热线话务人员服务外包费415.94万元", "市长热线话务人员服务外包费451.94万元", "PR601", "第20段", "415.94万元",
     "451.94万元", project_cell(10, "actual")),
    ("满意率97.24%", "满意率99.24%", "PR601", "第30段", "97.24%", "99.24%", indicator_cell(9, "actual")),
    ("\t-88.11", "\t-81.11", "PR601", "表1第2行", "-88.11%", "-81.11", at("sg_abroad_pct")),
])
def test_one_doctored_number_in_the_seed_gets_exactly_that_flag(seed_text, seed_form, old, new, code, cell,
                                                                   expected, actual, names):
    assert seed_text.count(old) == 1
    report = check_report(seed_text.replace(old, new), seed_form)
    new_findings = [f for f in report.findings if (f.code, f.cell) != ("PR602", "第20段")]
    assert [(f.code, f.cell) for f in new_findings] == [(code, cell)]
    f = new_findings[0]
    assert (f.expected, f.actual) == (expected, actual) and names in f.message


def test_a_report_within_its_stated_rounding_is_not_flagged(seed_text, seed_form):
    report = check_report(seed_text.replace("本年收入3527.66万元", "本年收入3527.7万元"), seed_form)
    assert _codes(report) == [("PR602", "第20段")]
    report = check_report(seed_text.replace("本年收入3527.66万元", "本年收入3528万元"), seed_form)
    assert _codes(report) == [("PR602", "第20段")]  # whole 万元, as some reports write
    report = check_report(seed_text.replace("本年收入3527.66万元", "本年收入3529万元"), seed_form)
    assert ("PR601", "第15段") in _codes(report)
    report = check_report(seed_text.replace("本年收入3527.66万元", "本年收入3527.68万元"), seed_form)
    assert ("PR601", "第15段") in _codes(report)


def test_omissions_and_missing_sections(seed_text, seed_form):
    text = (seed_text.replace("，接待费为1.91万元", "").replace("，巩固脱贫攻坚成果衔接乡村振兴1.53万元", "")
            .replace("七、存在的问题及原因分析", "").replace("2024年度本单位无社会保险基金支出。", ""))
    report = check_report(text, seed_form)
    got = {(f.code, f.cell): f for f in report.findings}
    assert set(got) == {("PR602", "第20段"), ("PR603", "第12段"), ("PR604", ""), ("PR603", "第25段")}
    # two omissions sit under 二 (第12段): the 接待费 and the project
    omitted = [f.message for f in report.findings if f.code == "PR603" and f.cell == "第12段"]
    assert len(omitted) == 2
    assert any("接待费" in m and at("sg_reception_actual") in m for m in omitted)
    assert any("巩固脱贫攻坚成果衔接乡村振兴" in m and "第14行" in m for m in omitted)
    assert "存在的问题及原因分析" in got[("PR604", "")].message
    assert "社会保险基金" in got[("PR603", "第25段")].message


def test_a_report_written_by_build_report_checks_clean(seed_report_docx, seed_form):
    report = check_report(seed_report_docx, seed_form)
    assert report.error is None and report.findings == []
    sts = statements(seed_report_docx, seed_form)
    assert len(sts) > 150 and all(s.ok for s in sts)


def _edit_docx(src: str, dest: str, old: str, new: str) -> str:
    d = Document(src)
    hits = 0
    for p in d.paragraphs:
        for run in p.runs:
            if old in run.text:
                run.text = run.text.replace(old, new)
                hits += 1
    for t in d.tables:
        for row in t.rows:
            for cell in row.cells:
                for p in cell.paragraphs:
                    for run in p.runs:
                        if run.text == old:
                            run.text = new
                            hits += 1
    assert hits >= 1
    d.save(dest)
    return dest


def test_table_amounts_with_or_without_their_zeros_are_the_same_amount(seed_report_docx, seed_form, tmp_path):
    """The built tables print 20.00, -36.10, 37.50% (the template's formats); the seed prints 20, -36.1, 37.5."""
    path = seed_report_docx
    for i, (old, new) in enumerate((("20.00", "20"), ("-36.10", "-36.1"), ("37.50%", "37.5"), ("9.60", "9.6"),
                                    ("-88.11%", "-88.11"), ("100.00", "100"))):
        path = _edit_docx(path, str(tmp_path / f"种子样式{i}.docx"), old, new)
    report = check_report(path, seed_form)
    assert report.error is None and report.findings == []
    # and a real difference in the same cells is still one
    bad = _edit_docx(path, str(tmp_path / "改过.docx"), "-36.1", "-36.2")
    assert [(f.code, f.expected) for f in check_report(bad, seed_form).findings] == [("PR601", "-36.1万元")]


def test_a_doctored_built_report_gets_exactly_that_flag(seed_report_docx, seed_form, tmp_path):
    bad = _edit_docx(seed_report_docx, str(tmp_path / "改过的报告.docx"), "出国费为4.87万元", "出国费为4.78万元")
    report = check_report(bad, seed_form)
    assert len(report.findings) == 1
    f = report.findings[0]
    assert (f.code, f.severity, f.sheet) == ("PR601", Severity.ERROR, "改过的报告.docx")
    assert re.fullmatch(r"第\d+段", f.cell) and (f.expected, f.actual) == ("4.87万元", "4.78万元")
    assert at("sg_abroad_actual") in f.message
    # the paragraph number is the report's own count of non-empty paragraphs
    n = int(f.cell[1:-1])
    paras = [p.text for p in Document(bad).paragraphs if p.text.strip()]
    assert "出国费为4.78万元" in paras[n - 1]


def test_a_doctored_table_cell_is_flagged_at_its_row(seed_report_docx, seed_form, tmp_path):
    bad = _edit_docx(seed_report_docx, str(tmp_path / "表格改过.docx"), "415.94", "415.49")
    report = check_report(bad, seed_form)
    # the prose list and the 基础数据表 row (budget and actual columns) all disagree
    cells = sorted({f.cell for f in report.findings})
    assert all(f.code == "PR601" for f in report.findings)
    assert any(c.startswith("第") for c in cells) and any(c.startswith("表2第") for c in cells)
    assert all("415.94" in f.expected for f in report.findings)


def test_settings_pick_and_reweigh_report_codes(seed_text, seed_form):
    s = Settings(severity={"PR602": "error"})
    report = check_report(seed_text, seed_form, s)
    assert report.findings[0].severity is Severity.ERROR
    assert check_report(seed_text, seed_form, Settings(ignore=("PR602",))).findings == []


def test_unreadable_reports_say_why(seed_form, tmp_path):
    missing = check_report(str(tmp_path / "没有这个.docx"), seed_form)
    assert missing.error and "不存在" in missing.error
    doc = tmp_path / "旧报告.doc"
    doc.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    assert "另存为 .docx" in check_report(str(doc), seed_form).error
    fake = tmp_path / "坏的.docx"
    fake.write_text("not a zip")
    assert "不是有效的 .docx" in check_report(str(fake), seed_form).error
    gbk = tmp_path / "报告.txt"
    gbk.write_bytes("三、政府性基金预算支出情况\n本年收入3527.66万元。".encode("gb18030"))
    report = check_report(str(gbk), seed_form)
    assert report.error is None and any(f.code == "PR604" for f in report.findings)


# ---- the command line ---------------------------------------------------------------------------------------

def test_cli_check_seed_text(seed_example, capsys):
    if not os.path.isfile(SEED_TXT):
        pytest.skip("the seed report text is not available")
    assert main(["report", "check", SEED_TXT, "--against", seed_example]) == 0  # a warning only
    out = capsys.readouterr().out
    assert "PR602" in out and "防非处非工作经费" in out and "警告" in out
    assert main(["report", "check", SEED_TXT, "--against", seed_example, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (f,) = data["files"][0]["findings"]
    assert f["code"] == "PR602" and f["cell"] == "第20段"


def test_cli_build_is_gated_by_the_workbook_verdict(seed_example, tmp_path, capsys):
    """The seed has open errors (PE205): build says the verdict and refuses; --force builds and says so on
    the cover; once the headings match their lines, it builds without --force."""
    from docx import Document

    out = tmp_path / "报告.docx"
    assert main(["report", "build", seed_example, "-o", str(out)]) == 1
    got = capsys.readouterr()
    assert "工作簿校验：执行率 95.96%" in got.out and "错误 3" in got.out
    assert "未生成报告" in got.err and "--force" in got.err and not out.exists()
    assert main(["report", "build", seed_example, "-o", str(out), "--force"]) == 0
    got = capsys.readouterr()
    assert "已写出报告" in got.out and "--force" in got.err
    cover = [p.text for p in Document(str(out)).paragraphs[:8]]
    assert any("仍有 3 项校验错误未改正" in t for t in cover), cover
    fixed = set_cells(seed_example, {("绩效自评表", "B13"): "产出指标（45分）", ("绩效自评表", "B17"): "效益指标（25分）",
                                     ("绩效自评表", "B21"): "满意度指标（20分）"}, dest=str(tmp_path / "fixed.xlsx"))
    clean = tmp_path / "clean.docx"
    assert main(["report", "build", fixed, "-o", str(clean)]) == 0
    got = capsys.readouterr()
    assert "错误 0" in got.out and "已写出报告" in got.out and "暂定" not in got.out  # structure fixed: a plain verdict
    assert not any("校验错误" in p.text for p in Document(str(clean)).paragraphs)


def test_report_check_on_a_document_that_is_not_a_report_is_an_error(seed_example, tmp_path, capsys):
    from docx import Document

    doc = Document()
    doc.add_paragraph("关于召开年度工作会议的通知")
    doc.add_paragraph("各科室：定于下周一上午九时召开会议，请准时参加。")
    path = tmp_path / "通知.docx"
    doc.save(str(path))
    assert main(["report", "check", str(path), "--against", seed_example]) == 2
    out = capsys.readouterr().out
    assert "不是部门整体支出绩效自评报告" in out and "未发现问题" not in out


def test_cli_build_then_check(seed_example, tmp_path, capsys):
    out = tmp_path / "报告.docx"
    assert main(["report", "build", seed_example, "-o", str(out), "--force"]) == 0
    assert out.is_file() and "已写出报告" in capsys.readouterr().out
    assert main(["report", "check", str(out), "--against", seed_example, "--verbose"]) == 0
    text = capsys.readouterr().out
    assert "未发现问题" in text and "一致" in text and "不符" not in text
    bad = _edit_docx(str(out), str(tmp_path / "bad.docx"), "接待费为1.91万元", "接待费为9.11万元")
    assert main(["report", "check", bad, "--against", seed_example]) == 1
    assert "PR601" in capsys.readouterr().out


def test_cli_cannot_read_exits_2(seed_example, tmp_path, capsys):
    assert main(["report", "check", str(tmp_path / "无.docx"), "--against", seed_example]) == 2
    not_a_book = tmp_path / "x.xlsx"
    not_a_book.write_text("no")
    assert main(["report", "build", str(not_a_book), "-o", str(tmp_path / "r.docx")]) == 2
    assert "无法读取工作簿" in capsys.readouterr().err
    assert not (tmp_path / "r.docx").exists()


def test_statements_name_their_column_and_year(seed_form):
    """A clerk's wording: the previous year and the budget are compared with their own columns."""
    text = ("二、一般公共预算支出情况\n"
            "2023年“三公”经费104.44万元，2024年“三公”经费预算153.96万元，实际支出“三公”经费143.61万元；"
            "公务接待费预算5万元，项目支出预算734.53万元。因公出国（境）费用４．８７万元，公务用车运行维护费66.87万元，"
            "本年收入3,527.66万元。")
    sts = {s.key: s for s in statements(text, seed_form)}
    assert {k: s.ok for k, s in sts.items()} == {
        "sg_total_prev": True, "sg_total_budget": True, "sg_total_actual": True, "sg_reception_budget": True,
        "projects_total_budget": True, "sg_abroad_actual": True, "bd_car_maintenance_actual": True,
        "income_total": True}
    wrong = text.replace("2024年“三公”经费预算153.96万元", "2024年“三公”经费预算143.61万元")
    report = check_report(wrong, seed_form)
    (f,) = [f for f in report.findings if f.code == "PR601"]
    assert f.expected == "153.96万元" and at("sg_total_budget") in f.message


@pytest.mark.parametrize("which,fast", [("seed", True), ("original", False), ("original", True)])
def test_the_seed_checks_the_same_against_every_reader(seed_text, seed_example, seed_original, which, fast):
    """Template names or label anchors, openpyxl or python-calamine: the same single true flag."""
    form = read_workbook(seed_example if which == "seed" else seed_original, fast=fast)
    report = check_report(seed_text, form)
    assert _codes(report) == [("PR602", "第20段")]
    assert sum(1 for s in statements(seed_text, form) if s.ok) >= 180


def test_a_zip_that_is_not_a_word_document_is_refused(seed_form, seed_example, tmp_path):
    fake = tmp_path / "其实是表格.docx"
    fake.write_bytes(open(seed_example, "rb").read())  # an .xlsx renamed
    report = check_report(str(fake), seed_form)
    assert report.error and "不是 Word 文档" in report.error


def test_a_renamed_project_line_in_the_reports_table_is_flagged(seed_report_docx, seed_form, tmp_path):
    bad = _edit_docx(seed_report_docx, str(tmp_path / "改名.docx"), "16、金融支出", "16、防非处非工作经费")
    report = check_report(bad, seed_form)
    (f,) = report.findings
    assert f.code == "PR602" and re.fullmatch(r"表2第\d+行", f.cell)
    assert (f.expected, f.actual) == ("金融支出", "防非处非工作经费") and project_cell(16, "name") in f.message


def test_one_line_of_text_is_read_as_text_not_as_a_file_name(seed_form):
    report = check_report("2024年，本单位支出“三公”经费为143.16万元。", seed_form)
    assert report.error is None and report.path == "报告"
    assert [(f.code, f.cell, f.expected) for f in report.findings if f.code == "PR601"] == \
        [("PR601", "第1段", "143.61万元")]


def _install_without(tmp_path, soffice: str, library: str) -> str:
    """A LibreOffice install like the one found, lacking one part's library: links to every file of its program
    folder (and its siblings) but `library`, and a copy of the soffice script. Detection looks at this folder."""
    real = os.path.dirname(os.path.realpath(soffice))
    root = tmp_path / "lo"
    program = root / "program"
    program.mkdir(parents=True)
    for name in os.listdir(os.path.dirname(real)):
        if name != os.path.basename(real):
            os.symlink(os.path.join(os.path.dirname(real), name), root / name)
    for name in os.listdir(real):
        if name not in (library, "soffice"):
            os.symlink(os.path.join(real, name), program / name)
    shutil.copyfile(os.path.join(real, "soffice"), program / "soffice")
    os.chmod(program / "soffice", 0o755)
    return str(program / "soffice")


def test_pdf_without_writer_names_the_package_before_anything_is_written(seed_example, tmp_path, capsys,
                                                                         monkeypatch, soffice):
    from perfeval_xl.recalc import has_component, soffice_components

    if not os.path.isfile(os.path.join(os.path.dirname(os.path.realpath(soffice)), "libswlo.so")):
        pytest.skip(f"no libswlo.so beside {soffice}: Writer is absent already, or not a Linux install")
    calc_only = _install_without(tmp_path, soffice, "libswlo.so")
    assert soffice_components(calc_only) == {"calc"} and soffice_components(soffice) >= {"calc", "writer"}
    monkeypatch.setenv("PERFEVAL_SOFFICE", calc_only)
    assert has_component("calc") and not has_component("writer")
    out = tmp_path / "r.docx"
    assert main(["report", "build", seed_example, "-o", str(out), "--pdf", "--force"]) == 2
    err = capsys.readouterr().err
    assert "LibreOffice Writer" in err and "libreoffice-writer-nogui" in err and not out.exists()
