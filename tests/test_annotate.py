"""The openpyxl applier: marks on a copy of the seed example, exactly on the flagged cells,
undone and redone by a second run, and nothing of the user's workbook lost."""
from __future__ import annotations

import hashlib
import os
import shutil
import zipfile

import pytest
from openpyxl import load_workbook
from openpyxl.comments import Comment

from perfeval_xl.findings import Finding, Metrics, Report, Severity
from perfeval_xl.marks import FILL, LEDGER_SHEET, NOTE_HEADER, RESULT_SHEET
from perfeval_xl.writers.annotate import annotate, default_dest

SE, BD, SG = "绩效自评表", "基础数据表", "三公经费情况表"
FORM_SHEETS = (SG, BD, SE, "报告正文", "填报说明")


def seed_report(path):
    return Report(
        path=path,
        findings=[
            Finding("PE201", Severity.ERROR, SE, "H14", "自评得分 15 超过分值 10", "≤ 10", "15"),
            Finding("PE202", Severity.WARNING, SE, "I14", "自评得分低于分值，偏差原因未填写"),
            Finding("PE110", Severity.WARNING, SE, "H14", "自评得分与按指标值计算的得分不符", "10", "15"),
            Finding("PE301", Severity.INFO, SG, "G4", "增减% 为 -88.11%，超过 ±30%"),
            Finding("PE120", Severity.WARNING, SE, "C11", "年度总体目标实际完成情况过短"),  # inside merge B11:E11
            Finding("PE900", Severity.INFO, "", "", "单位负责人签字须纸质签署"),
            Finding("PE901", Severity.INFO, "不存在的表", "A1", "表不存在时仍列入校验结果"),
        ],
        metrics=Metrics(department="益阳市人民政府办公室", year=2024),
    )


def fingerprint(path):
    st = os.stat(path)
    return hashlib.sha256(open(path, "rb").read()).hexdigest(), st.st_mtime_ns


def looks(path):
    """(sheet, cell) -> (fill pattern, fill colour, comment text) for every cell of the form sheets."""
    wb = load_workbook(path)
    out = {}
    for name in FORM_SHEETS:
        for row in wb[name].iter_rows():
            for c in row:
                if not hasattr(c, "column_letter"):
                    continue
                fg = c.fill.fgColor
                out[(name, c.coordinate)] = (c.fill.patternType, fg.rgb if fg.type == "rgb" else (fg.type, fg.theme),
                                             c.comment.text if c.comment else None)
    return out


@pytest.fixture
def seed_copy(tmp_path, seed_example):
    """The seed example with one user comment and one user fill of its own."""
    from openpyxl.styles import PatternFill

    wb = load_workbook(seed_example)
    wb[SE]["H14"].comment = Comment("已与科室核对", "周旭")
    wb[SE]["I14"].fill = PatternFill("solid", fgColor="FF92D050")
    p = tmp_path / "收件" / "益阳市人民政府办公室_2024.xlsx"
    p.parent.mkdir()
    wb.save(p)
    return str(p)


def test_marks_land_exactly_on_the_flagged_cells(seed_copy, tmp_path):
    before = fingerprint(seed_copy)
    out = annotate(seed_copy, seed_report(seed_copy), str(tmp_path / "out" / "a.xlsx"))
    assert out == str(tmp_path / "out" / "a.xlsx")
    assert fingerprint(seed_copy) == before  # the original's bytes and mtime are untouched
    src, dst = looks(seed_copy), looks(out)
    changed = {k for k in src if src[k] != dst.get(k)}
    assert changed == {(SE, "H14"), (SE, "I14"), (SG, "G4"), (SE, "B11")}
    assert dst[(SE, "H14")][:2] == ("solid", FILL[Severity.ERROR])  # worst of its three findings
    assert dst[(SE, "I14")][:2] == ("solid", FILL[Severity.WARNING])
    assert dst[(SG, "G4")][:2] == ("solid", FILL[Severity.INFO])
    note = dst[(SE, "H14")][2]
    assert note.startswith(NOTE_HEADER) and "PE201" in note and "PE110" in note
    assert note.endswith("已与科室核对")  # the user's own note is kept under ours


def test_result_sheet_in_front_with_links(seed_copy, tmp_path):
    out = annotate(seed_copy, seed_report(seed_copy), str(tmp_path / "a.xlsx"))
    wb = load_workbook(out)
    assert wb.sheetnames[0] == RESULT_SHEET and wb.active.title == RESULT_SHEET
    assert wb[LEDGER_SHEET].sheet_state == "hidden"
    ws = wb[RESULT_SHEET]
    rows = [r for r in ws.iter_rows(min_row=1) if isinstance(r[0].value, int)]
    assert [r[2].value for r in rows] == ["PE201", "PE202", "PE110", "PE120", "PE301", "PE900", "PE901"]
    links = {r[2].value: (r[4].hyperlink.location if r[4].hyperlink else None) for r in rows}
    assert links["PE201"] == "'绩效自评表'!H14" and links["PE301"] == "'三公经费情况表'!G4"
    assert links["PE120"] == "'绩效自评表'!C11"
    assert links["PE900"] is None and links["PE901"] is None  # no cell / no such sheet: no dead link
    assert "益阳市人民政府办公室" in ws["A1"].value


def test_second_run_replaces_marks_and_restores_cells_no_longer_flagged(seed_copy, tmp_path):
    first = annotate(seed_copy, seed_report(seed_copy), str(tmp_path / "1.xlsx"))
    again = annotate(first, seed_report(seed_copy), str(tmp_path / "2.xlsx"))
    assert looks(again) == looks(first)  # same marks, nothing piles up
    wb = load_workbook(again)
    assert wb.sheetnames.count(RESULT_SHEET) == 1 and wb.sheetnames[0] == RESULT_SHEET
    assert wb[SE]["H14"].comment.text.count(NOTE_HEADER) == 1

    fewer = Report(seed_copy, [Finding("PE301", Severity.INFO, SG, "G4", "增减% 超过 ±30%")])
    third = annotate(again, fewer, str(tmp_path / "3.xlsx"))
    src, now = looks(seed_copy), looks(third)
    for cell in ((SE, "H14"), (SE, "I14"), (SE, "B11")):
        assert now[cell] == src[cell]  # own fill (the user's green on I14) and own comment back
    assert now[(SG, "G4")][:2] == ("solid", FILL[Severity.INFO])
    clean = annotate(third, Report(seed_copy, []), str(tmp_path / "4.xlsx"))
    assert looks(clean) == src


def test_user_workbook_is_preserved(seed_example, tmp_path):
    out = annotate(seed_example, seed_report(seed_example), str(tmp_path / "a.xlsx"))
    a, b = load_workbook(seed_example), load_workbook(out)
    assert set(a.defined_names) == set(b.defined_names)
    for name in FORM_SHEETS:
        wa, wb_ = a[name], b[name]
        assert [[c.value for c in r] for r in wa.iter_rows()] == [[c.value for c in r] for r in wb_.iter_rows()]
        assert sorted(map(str, wa.merged_cells.ranges)) == sorted(map(str, wb_.merged_cells.ranges))
        dv = lambda ws: sorted((str(d.type), str(d.sqref), str(d.formula1)) for d in ws.data_validations.dataValidation)  # noqa: E731
        assert dv(wa) == dv(wb_)
        assert len(wa.conditional_formatting) == len(wb_.conditional_formatting)
        assert wa.print_title_rows == wb_.print_title_rows
    assert any(c.value and str(c.value).startswith("=") for r in b[SE].iter_rows() for c in r)  # formulas kept

    def raw_count(path, tag):
        with zipfile.ZipFile(path) as z:
            return sum(z.read(n).count(tag) for n in z.namelist() if n.startswith("xl/worksheets/sheet"))

    for tag in (b"<dataValidation ", b"<conditionalFormatting", b"<mergeCell "):
        assert raw_count(out, tag) == raw_count(seed_example, tag) > 0


def test_xlsm_stays_macro_enabled_with_identical_vba(seed_example, tmp_path):
    import xlwings

    quick = os.path.join(os.path.dirname(xlwings.__file__), "quickstart.xlsm")
    wb = load_workbook(seed_example)
    wb.vba_archive = zipfile.ZipFile(quick)
    src = tmp_path / "宏.xlsm"
    wb.save(src)
    vba = zipfile.ZipFile(src).read("xl/vbaProject.bin")
    out = annotate(str(src), seed_report(str(src)), str(tmp_path / "out" / "宏_已校验.xlsx"))
    assert out.endswith(".xlsm")  # the extension follows the content
    z = zipfile.ZipFile(out)
    assert z.read("xl/vbaProject.bin") == vba
    assert b"macroEnabled" in z.read("[Content_Types].xml")
    assert load_workbook(out, keep_vba=True)[RESULT_SHEET]


def test_in_place_keeps_a_backup_first(seed_copy):
    original = open(seed_copy, "rb").read()
    out = annotate(seed_copy, seed_report(seed_copy), in_place=True)
    assert out == seed_copy
    folder = os.path.dirname(seed_copy)
    backups = [n for n in os.listdir(folder) if "_备份_" in n]
    assert len(backups) == 1 and backups[0].endswith(".xlsx")
    assert open(os.path.join(folder, backups[0]), "rb").read() == original
    assert load_workbook(seed_copy).sheetnames[0] == RESULT_SHEET
    annotate(seed_copy, seed_report(seed_copy), in_place=True)  # again, within the same second
    backups = sorted(n for n in os.listdir(folder) if "_备份_" in n)
    assert len(backups) == 2
    assert original in [open(os.path.join(folder, b), "rb").read() for b in backups]  # the pristine one survives


def test_never_overwrites_the_source_unless_asked(seed_copy):
    with pytest.raises(ValueError):
        annotate(seed_copy, seed_report(seed_copy), seed_copy)
    assert default_dest(seed_copy).endswith("_已校验.xlsx")


def test_text_from_the_file_is_never_a_formula(seed_copy, tmp_path):
    rep = seed_report(seed_copy)
    rep.metrics.department = '=HYPERLINK("http://evil.example","点我")'
    out = annotate(seed_copy, rep, str(tmp_path / "a.xlsx"))
    ws = load_workbook(out)[RESULT_SHEET]
    cells = [c for r in ws.iter_rows() for c in r if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.data_type == "s" for c in cells)
    xml = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in xml


def test_xls_input_gets_an_xlsx_copy(tmp_path, seed_example, soffice):
    import subprocess

    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/p", "--headless", "--convert-to",
                    "xls:MS Excel 97", "--outdir", str(tmp_path), seed_example], check=True, capture_output=True)
    xls = tmp_path / (os.path.splitext(os.path.basename(seed_example))[0] + ".xls")
    before = fingerprint(xls)
    out = annotate(str(xls), seed_report(str(xls)), str(tmp_path / "out" / "a.xls"))
    assert out.endswith("a.xlsx") and fingerprint(xls) == before
    wb = load_workbook(out)
    assert wb.sheetnames[0] == RESULT_SHEET
    assert any("另存为 .xlsx" in str(c.value) for r in wb[RESULT_SHEET].iter_rows() for c in r)
    assert wb[SE]["H14"].fill.fgColor.rgb == FILL[Severity.ERROR]


def test_real_report_marks_every_flagged_cell_and_nothing_else(seed_example, tmp_path):
    from perfeval_xl.marks import normalize_cell
    from perfeval_xl.pipeline import CheckOptions, check_file

    report = check_file(seed_example, CheckOptions(fast=False))
    assert report.error is None and report.findings
    out = annotate(seed_example, report, str(tmp_path / "seed_marked.xlsx"))
    wb = load_workbook(seed_example)

    def top_left(sheet, cell):
        for rng in wb[sheet].merged_cells.ranges:
            if cell in rng:
                return rng.start_cell.coordinate
        return cell

    expected = {(f.sheet, top_left(f.sheet, normalize_cell(f.cell)))
                for f in report.findings if f.sheet in wb.sheetnames and normalize_cell(f.cell)}
    src, dst = looks(seed_example), looks(out)
    noted = {k for k, v in dst.items() if v[2] and v[2].startswith(NOTE_HEADER)}
    assert noted == expected
    assert {k for k in src if src[k][:2] != dst[k][:2]} <= expected  # fills change only on flagged cells
    rows = [r for r in load_workbook(out)[RESULT_SHEET].iter_rows(values_only=True) if isinstance(r[0], int)]
    assert len(rows) == len(report.findings)
