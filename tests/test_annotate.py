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


def _borders(path):
    wb = load_workbook(path)
    return {(name, c.coordinate): tuple((getattr(c.border, k).style, getattr(c.border, k).color.rgb
                                         if getattr(c.border, k).color is not None else None)
                                        for k in ("left", "right", "top", "bottom"))
            for name in FORM_SHEETS for row in wb[name].iter_rows() for c in row if hasattr(c, "column_letter")}


def test_marks_carry_a_frame_by_severity_that_a_second_run_takes_back(seed_example, tmp_path):
    """The template's conditional formats paint overspent cells red over any fill: the frame shows the
    severity there (issue 12), and like the fill it is the cell's own again once the cell is no longer flagged."""
    from perfeval_xl.marks import BORDER

    from perfeval_xl.pipeline import CheckOptions, check_file

    report = check_file(seed_example, CheckOptions(fast=False))
    out = annotate(seed_example, report, str(tmp_path / "a.xlsx"))
    src, dst = _borders(seed_example), _borders(out)
    style, argb = BORDER[Severity.WARNING]
    assert dst[(SG, "B5")] == ((style, argb),) * 4  # PE301, under the template's red for an overspend
    assert dst[(SE, "G13")] == ((BORDER[Severity.ERROR][0], BORDER[Severity.ERROR][1]),) * 4  # a 分值 to edit
    assert src[(SG, "B5")] != dst[(SG, "B5")]
    clean = annotate(out, Report(seed_example, []), str(tmp_path / "b.xlsx"))
    assert _borders(clean) == src


def test_user_workbook_is_preserved(seed_example, tmp_path):
    out = annotate(seed_example, seed_report(seed_example), str(tmp_path / "a.xlsx"))
    a, b = load_workbook(seed_example), load_workbook(out)
    # every name of the user's kept; a copy adds only the marker that lets a folder run skip it
    assert set(b.defined_names) == set(a.defined_names) | {"perfeval_annotated_copy"}
    for name in FORM_SHEETS:
        wa, wb_ = a[name], b[name]
        assert [[c.value for c in r] for r in wa.iter_rows()] == [[c.value for c in r] for r in wb_.iter_rows()]
        assert sorted(map(str, wa.merged_cells.ranges)) == sorted(map(str, wb_.merged_cells.ranges))
        dv = lambda ws: sorted((str(d.type), str(d.sqref), str(d.formula1)) for d in ws.data_validations.dataValidation)  # noqa: E731
        assert dv(wa) == dv(wb_)
        assert len(wa.conditional_formatting) == len(wb_.conditional_formatting)
        assert wa.print_title_rows == wb_.print_title_rows
    assert any(c.value and str(c.value).startswith("=") for r in b[SE].iter_rows() for c in r)  # formulas kept

    def raw_count(path, tag):  # over the user's sheets (our 校验结果 has a merged title of its own)
        from perfeval_xl.writers.annotate import _sheet_parts

        with zipfile.ZipFile(path) as z:
            parts = {part for name, part in _sheet_parts(z).items() if name != RESULT_SHEET}
            return sum(z.read(n).count(tag) for n in parts)

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
    # and the cells each fix touches (the 分值 under a wrong heading, the sub-line behind an overspend)
    related = {(s, top_left(s, c)) for f in report.findings for s, c in f.related}
    assert (SE, "G13") in related and ("基础数据表", "D9") in related
    expected |= related
    src, dst = looks(seed_example), looks(out)
    noted = {k for k, v in dst.items() if v[2] and v[2].startswith(NOTE_HEADER)}
    assert noted == expected
    assert {k for k in src if src[k][:2] != dst[k][:2]} <= expected  # fills change only on flagged cells
    rows = [r for r in load_workbook(out)[RESULT_SHEET].iter_rows(values_only=True) if isinstance(r[0], int)]
    assert len(rows) == len(report.findings)


# ---- cached values survive marking ------------------------------------------------------------

def _found(path, fast=True):
    from perfeval_xl.pipeline import CheckOptions, check_file

    rep = check_file(path, CheckOptions(fast=fast))
    assert rep.error is None
    return rep, {(f.code, f.sheet, f.cell) for f in rep.findings}


def _cached(path):
    wb = load_workbook(path, data_only=True)
    return {(name, c.coordinate): c.value for name in FORM_SHEETS for r in wb[name].iter_rows() for c in r}


def _formula_cells(path):
    wb = load_workbook(path)
    return {(name, c.coordinate) for name in FORM_SHEETS for r in wb[name].iter_rows() for c in r
            if isinstance(c.value, str) and c.value.startswith("=")}


def test_a_marked_copy_keeps_every_cached_value_and_checks_the_same(seed_example, tmp_path):
    report, before = _found(seed_example)
    assert ("PE301", SG, "B5") in before and ("PE205", SE, "B13") in before
    out = annotate(seed_example, report, str(tmp_path / "marked.xlsx"))
    _, after = _found(out)
    assert after == before and not any(code == "PE503" for code, _, _ in after)
    _, slow_before = _found(seed_example, fast=False)
    _, slow_after = _found(out, fast=False)
    assert slow_after == slow_before
    formulas = _formula_cells(seed_example)
    assert formulas and _formula_cells(out) == formulas  # still formulas, now with their results
    assert _cached(out) == _cached(seed_example)
    # text results keep t="str" (a title built by a formula), numbers stay numbers
    wb = load_workbook(out, data_only=True)
    assert wb[SG]["A1"].value == "2024年度部门“三公”经费情况表" and wb[SG]["D4"].value == pytest.approx(-15.13)
    # marking again (our own copy as the source) keeps them too
    again = annotate(out, report, str(tmp_path / "again.xlsx"))
    assert _cached(again) == _cached(seed_example) and _found(again)[1] == before


def test_in_place_marking_keeps_cached_values(seed_example, tmp_path):
    src = tmp_path / "益阳.xlsx"
    shutil.copyfile(seed_example, src)
    report, before = _found(str(src))
    backups = []
    assert annotate(str(src), report, in_place=True, backups=backups) == str(src)
    assert len(backups) == 1 and open(backups[0], "rb").read() == open(seed_example, "rb").read()
    _, after = _found(str(src))
    assert after == before and not any(code == "PE503" for code, _, _ in after)
    assert _cached(str(src)) == _cached(seed_example)


def test_cached_values_of_every_type_are_put_back(tmp_path):
    """Numbers, text, booleans, errors and the empty text a formula can return, from a hand-made package."""
    from openpyxl import Workbook

    from perfeval_xl.writers.annotate import read_cached_values, restore_cached_values

    wb = Workbook()
    ws = wb.active
    ws.title = "表"
    ws["A1"], ws["A2"], ws["A3"], ws["A4"], ws["A5"], ws["A6"] = 1, "=A1*2", '="x"&A1', "=A1>0", "=1/0", '=""'
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    cached = {"表": {"A2": ("n", "2"), "A3": ("str", "x<1>&"), "A4": ("b", "1"), "A5": ("e", "#DIV/0!"),
                     "A6": ("str", "")}}
    assert restore_cached_values(str(plain), cached) == 5
    got = load_workbook(plain, data_only=True)["表"]
    assert [got[f"A{i}"].value for i in range(2, 6)] == [2, "x<1>&", True, "#DIV/0!"]
    assert load_workbook(plain)["表"]["A2"].value == "=A1*2"  # the formula is still there
    assert read_cached_values(str(plain)) == cached


def test_an_annotated_copy_is_not_named_twice(tmp_path):
    from perfeval_xl.batch import annotate_dest

    assert default_dest("收件/甲_已校验.xlsx") == "收件/甲_已校验.xlsx"
    assert default_dest("收件/甲.xls") == "收件/甲_xls_已校验.xlsx"  # beside 甲.ods's copy, not onto it (issue 12)
    assert annotate_dest(str(tmp_path / "in" / "甲_已校验.xlsx"), [str(tmp_path / "in")], str(tmp_path / "out")) \
        == str(tmp_path / "out" / "甲_已校验.xlsx")


# ---- the 校验结果 sheet reads and prints well -------------------------------------------------

def test_result_sheet_layout_fits_labels_wraps_and_prints_one_page_wide(seed_example, tmp_path):
    from perfeval_xl.marks import text_width
    from perfeval_xl.pipeline import CheckOptions, check_file

    report = check_file(seed_example, CheckOptions())
    ws = load_workbook(annotate(seed_example, report, str(tmp_path / "a.xlsx")))[RESULT_SHEET]
    labels = [r[0].value for r in ws.iter_rows(min_row=2) if isinstance(r[0].value, str) and r[0].value != "序号"]
    assert "全年预算数（万元）" in labels and "等级（复核）" in labels
    assert ws.column_dimensions["A"].width >= max(text_width(v) for v in labels)
    assert "A1:H1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A1"].alignment.horizontal == "center"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.page_setup.fitToHeight == 0
    header = next(r[0].row for r in ws.iter_rows() if r[0].value == "序号")
    assert ws.print_title_rows.replace("$", "") == f"{header}:{header}"
    rows = [r for r in ws.iter_rows(min_row=header + 1) if isinstance(r[0].value, int)]
    assert all(r[5].alignment.wrap_text for r in rows)
    long_rows = [r[0].row for r in rows if text_width(r[5].value) > 1.4 * ws.column_dimensions["F"].width]
    short_rows = [r[0].row for r in rows if text_width(r[5].value) < ws.column_dimensions["F"].width * 0.8]
    assert long_rows and short_rows
    assert all(ws.row_dimensions[r].height and ws.row_dimensions[r].height >= 30 for r in long_rows)
    assert all(ws.row_dimensions[r].height is None for r in short_rows)  # Excel sizes these itself


def test_result_sheet_prints_whole_on_the_first_page(seed_example, tmp_path, soffice, pdftotext):
    """LibreOffice's PDF: the title, every label and the 说明/应为/实为 columns are on page 1."""
    import subprocess

    from perfeval_xl.pipeline import CheckOptions, check_file

    report = check_file(seed_example, CheckOptions())
    out = annotate(seed_example, report, str(tmp_path / "a.xlsx"))
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/p", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), out], check=True, capture_output=True, timeout=180)
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(tmp_path / "a.pdf"), "-"],
                          check=True, capture_output=True, text=True).stdout
    flat = text.replace(" ", "")
    for piece in ("校验结果", "全年预算数（万元）", "执行率得分（复核）", "等级（复核）", "说明", "应为", "实为",
                  "一级指标“产出指标(50分)”标明50.00分"):
        assert piece in flat, piece


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path) -> int:
    return os.stat(path).st_mode & 0o777


def test_in_place_keeps_the_files_mode_and_its_backup_too(seed_copy, umask_022):
    os.chmod(seed_copy, 0o664)  # a group-writable file on a shared folder: it must stay so
    annotate(seed_copy, seed_report(seed_copy), in_place=True)
    backups = [os.path.join(os.path.dirname(seed_copy), n) for n in os.listdir(os.path.dirname(seed_copy))
               if "_备份_" in n]
    assert mode(seed_copy) == 0o664 and [mode(b) for b in backups] == [0o664]
    os.chmod(seed_copy, 0o640)
    annotate(seed_copy, seed_report(seed_copy), in_place=True)
    assert mode(seed_copy) == 0o640


def test_new_files_get_the_umask_mode_not_0600(seed_copy, tmp_path, umask_022):
    from perfeval_xl.writers.annotate import new_file_mode
    from perfeval_xl.writers.summary import write_summary

    assert new_file_mode() == 0o644
    out = annotate(seed_copy, seed_report(seed_copy), str(tmp_path / "out" / "a.xlsx"))
    assert mode(out) == 0o644  # colleagues can open the copy
    assert mode(write_summary([seed_report(seed_copy)], str(tmp_path / "汇总.xlsx"))) == 0o644
    os.umask(0o027)
    assert new_file_mode() == 0o640
    assert mode(annotate(seed_copy, seed_report(seed_copy), str(tmp_path / "out" / "b.xlsx"))) == 0o640
    assert not [n for n in os.listdir(tmp_path / "out") if n.startswith(".perfeval_")]  # no temporary left


def test_only_a_copy_carries_the_copy_marker(seed_example, tmp_path):
    """A copy is skipped by a folder run; a file marked in place (or by the Excel button) is a submission."""
    from perfeval_xl.batch import collect

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    mine = inbox / "本单位.xlsx"
    shutil.copyfile(seed_example, mine)
    annotate(str(mine), seed_report(seed_example), in_place=True, backup=False)
    copy = annotate(seed_example, seed_report(seed_example), str(inbox / "副本.xlsx"))
    assert "perfeval_annotated_copy" not in load_workbook(mine).defined_names
    assert "perfeval_annotated_copy" in load_workbook(copy).defined_names
    skipped: list = []
    assert collect([str(inbox)], skipped=skipped) == [str(mine)]
    assert skipped == [copy]
    # marking a copy again, in place, keeps it a copy
    annotate(copy, seed_report(seed_example), in_place=True, backup=False)
    assert "perfeval_annotated_copy" in load_workbook(copy).defined_names
