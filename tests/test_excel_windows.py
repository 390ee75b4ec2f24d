"""The 校验 button through xlwings' real Windows engine (xlwings._xlwindows), on Linux.

pywin32 is stubbed and Excel is the fake COM object model of tests/fake_excel.py, loaded from our
real files and enforcing what Excel enforces (sheet and structure protection as saved in the file,
error values, merged areas). The book reaches perfeval_xl.main() through xw.Book.caller(), as it
does when the ribbon's RunPython runs the macro. This is the gate the remote-interpreter tests in
test_excel.py cannot be: they never see protection.
"""
from __future__ import annotations

import logging
import os
import re
import zipfile

import pytest

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # as test_excel.py: whichever imports xlwings first
xw = pytest.importorskip("xlwings")

import fake_excel as fx  # noqa: E402
from test_excel import worst_severity  # noqa: E402

from perfeval_xl.marks import FILL, LEDGER_SHEET, NOTE_HEADER, RESULT_SHEET  # noqa: E402


@pytest.fixture
def excel(monkeypatch, tmp_path):
    """excel(path, **kw) -> (app, workbook, xw.Book): the book as the ribbon's macro sees it."""
    messages: list = []
    monkeypatch.setenv("PERFEVAL_XL_LOG", str(tmp_path / "log" / "excel.log"))  # never the real profile
    xlwindows = fx.install_pywin32_stubs(monkeypatch, messages)

    def open_(path, **kw):
        app, wb = fx.open_book(str(path), **kw)
        app.messages = messages
        book = fx.connect(monkeypatch, xlwindows, app, wb)
        return app, wb, book

    yield open_
    from perfeval_xl import excel as front

    if front._handler is not None:  # main() logged to this test's file: detach it
        logging.getLogger("perfeval_xl").removeHandler(front._handler)
        front._handler.close()
        front._handler = None


def _bgr(argb: str) -> int:
    h = argb[-6:]
    return fx._rgb_int(int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))


def flagged(report) -> dict[tuple[str, str], int]:
    """(sheet, cell) -> the fill (Excel's BGR int) its worst finding must get."""
    return {k: _bgr(FILL[s]) for k, s in worst_severity(report).items()}


def _a1(key) -> str:
    r, c = key
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(c)}{r}"


def marked(wb) -> dict[tuple[str, str], int]:
    """Cells carrying one of our fills now."""
    ours = {_bgr(v) for v in FILL.values()}
    return {(s.Name, _a1(k)): c.fill for s in wb._sheets for k, c in s.cells.items() if c.fill in ours}


def our_notes(wb) -> set[tuple[str, str]]:
    return {(s.Name, _a1(k)) for s in wb._sheets for k, c in s.cells.items()
            if c.comment and c.comment.startswith(NOTE_HEADER)}


def rewrite(src, dest, part: str, fn) -> str:
    """Copy an .xlsx changing one XML part (what Excel itself would have saved)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == part:
                data = fn(data.decode("utf-8")).encode("utf-8")
            zout.writestr(info, data)
    return str(dest)


def lock_structure(xml: str, attrs: str) -> str:
    """workbook.xml with <workbookProtection attrs/> (replacing an empty one LibreOffice writes)."""
    xml = re.sub(r"<workbookProtection[^>]*/>", "", xml)
    return re.sub(r"(<workbookPr[^>]*/>)", rf"\1<workbookProtection {attrs}/>", xml, count=1)


def sheet_part(path, name: str) -> str:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    return f"xl/worksheets/sheet{wb.sheetnames.index(name) + 1}.xml"


# ---- the protected template and example -----------------------------------------------------

def test_a_failure_in_main_is_logged_and_explained(excel, seed_example, tmp_path):
    from perfeval_xl.excel import main

    app, wb, book = excel(seed_example)
    app.faults["Interior.Color"] = [0, RuntimeError("Excel stopped responding")]
    main()  # no traceback box from xlwings: our own message instead
    title, text, _ = app.messages[-1]
    log = tmp_path / "log" / "excel.log"
    assert "校验未完成" in text and str(log) in text
    logged = log.read_text(encoding="utf-8")
    assert "Traceback" in logged and "Excel stopped responding" in logged
    assert fx.protection(wb)["绩效自评表"][0]  # protected again despite the failure


def _check_marked_run(app, wb, report):
    assert app.unknown == [], "the fake was asked for members it does not model"
    assert app.dialogs == [], "a dialog would have stopped the macro"
    assert marked(wb) == flagged(report)
    assert our_notes(wb) == set(flagged(report))
    names = [s.Name for s in wb._sheets]
    assert names[0] == RESULT_SHEET and names[-1] == LEDGER_SHEET
    assert wb.sheet(LEDGER_SHEET).Visible == 0
    assert wb.ActiveSheet.Name == RESULT_SHEET


def test_example_is_marked_on_its_protected_sheets(excel, seed_example):
    app, wb, book = excel(seed_example)
    before = fx.protection(wb)
    assert wb.sheet("绩效自评表").ProtectContents and not wb.sheet("绩效自评表").Protection.AllowFormattingCells
    from perfeval_xl.excel import main, validate_book

    main()  # what RibbonMyAddin.RunMain runs
    report = validate_book(book, alert=False)  # the same state again, to get the report
    _check_marked_run(app, wb, report)
    assert report.findings and report.error is None
    assert fx.protection(wb) == {**before, RESULT_SHEET: fx.protection(wb)[RESULT_SHEET],
                                 LEDGER_SHEET: fx.protection(wb)[LEDGER_SHEET]}
    title, text, _ = app.messages[0]
    assert title == "绩效自评校验" and f"错误 {report.errors} 项" in text and "注意" not in text
    # links to the flagged cells, with a Chinese tooltip
    res = wb.sheet(RESULT_SHEET)
    links = [c.link for c in res.cells.values() if c.link]
    assert links and all(link.ScreenTip == "转到该单元格" for link in links)
    header = next(r for (r, c), cell in res.cells.items() if c == 1 and cell.value == "序号")
    assert res.panes == {"FreezePanes": True, "SplitColumn": 0, "SplitRow": header}  # the header stays in view
    assert res.merge_at(1, 8) == (1, 1, 1, 8)  # the title across the table
    assert (header + 1, 6) in res.wrapped  # 说明 wraps


def test_template_is_marked_and_protected_again(excel, recalculated_template):
    app, wb, book = excel(recalculated_template)
    before = fx.protection(wb)
    assert any(p[0] for k, p in before.items() if k != "<structure>"), "LibreOffice kept the protection"
    from perfeval_xl.excel import check_book, main

    main()  # what RibbonMyAddin.RunMain runs
    report = check_book(book)  # the findings of the same book (our sheets are skipped)
    assert report.error is None and report.findings  # a blank form: the required fields are flagged
    _check_marked_run(app, wb, report)
    assert app.messages and "校验未完成" not in app.messages[-1][1]
    after = fx.protection(wb)
    assert {k: v for k, v in after.items() if k not in (RESULT_SHEET, LEDGER_SHEET)} == before


def test_live_book_and_batch_checker_agree(excel, seed_example):
    """Values, formulas, merged areas and names read through COM give the batch checker's findings."""
    from perfeval_xl.excel import check_book
    from perfeval_xl.readers import read_workbook
    from perfeval_xl.rules import run_rules
    from perfeval_xl.settings import load_settings

    _, _, book = excel(seed_example)
    live = check_book(book)
    form = read_workbook(seed_example)
    batch = run_rules(form, load_settings(overrides=form.settings_overrides or None))
    assert {(f.code, f.sheet, f.cell) for f in live.findings} == {(f.code, f.sheet, f.cell) for f in batch.findings}


def test_second_run_restores_the_first(excel, seed_example):
    from perfeval_xl.excel import clear_marks, validate_book

    app, wb, book = excel(seed_example)
    pristine = fx.state(wb)
    report = validate_book(book)
    first = fx.state(wb)
    validate_book(book)
    assert fx.state(wb) == first  # marks do not pile up, protection is the same
    restored = clear_marks(book)
    assert restored == len(flagged(report))
    assert fx.state(wb) == pristine
    assert app.unknown == [] and app.dialogs == []


def test_a_fixed_cell_gets_its_own_look_back(excel, seed_example):
    """A cell flagged by the first run and fixed before the second is unmarked by the second."""
    from perfeval_xl.excel import validate_book

    app, wb, book = excel(seed_example)
    pristine = fx.state(wb)
    report = validate_book(book)
    sheet, cell = sorted(flagged(report))[0]
    # the second run sees fewer findings: simulate by running a plan without that cell
    from dataclasses import replace

    from perfeval_xl.marks import plan_marks
    from perfeval_xl.writers.xlwings_apply import mark_book

    plan = plan_marks(report)
    plan = replace(plan, marks=tuple(m for m in plan.marks if (m.sheet, m.cell) != (sheet, cell)))
    mark_book(book, plan)
    key = (sheet, cell)
    assert fx.state(wb)["fills"].get(key) == pristine["fills"].get(key)
    assert fx.state(wb)["notes"].get(key) == pristine["notes"].get(key)


# ---- what stays locked ------------------------------------------------------------------------

def test_a_sheet_locked_with_a_password_is_reported_not_forced(excel, seed_example, tmp_path):
    locked = "绩效自评表"
    path = rewrite(seed_example, tmp_path / "locked.xlsx", sheet_part(seed_example, locked),
                   lambda xml: xml.replace("<sheetProtection ", '<sheetProtection password="CC1A" ', 1))
    app, wb, book = excel(path)
    assert wb.sheet(locked)._password == "CC1A"
    before = fx.protection(wb)
    from perfeval_xl.excel import validate_book

    report = validate_book(book)
    assert app.dialogs == [] and app.unknown == []
    expected = flagged(report)
    assert any(s == locked for s, _ in expected), "the example has findings on 绩效自评表"
    assert marked(wb) == {k: v for k, v in expected.items() if k[0] != locked}
    assert not any(s == locked for s, _ in our_notes(wb))
    after = fx.protection(wb)
    assert {k: v for k, v in after.items() if k not in (RESULT_SHEET, LEDGER_SHEET)} == before
    # 校验结果 says which sheet and why, right under the title; every finding is still listed
    res = wb.sheet(RESULT_SHEET)
    texts = [str(c.value) for c in res.cells.values() if c.value is not None]
    notice = next(t for t in texts if "密码保护" in t)
    assert locked in notice and "未能标色" in notice
    n_locked = sum(1 for s, _ in expected if s == locked)
    assert f"{n_locked} 个" in notice
    listed = {(res.cells[(r, 3)].value, res.cells[(r, 4)].value, res.cells[(r, 5)].value)
              for (r, c), cell in res.cells.items() if c == 1 and isinstance(cell.value, float)}
    assert listed == {(f.code, f.sheet, f.cell) for f in report.findings}
    text = app.messages[-1][1]
    assert "注意" in text and locked in text
    # and a second run still does not half-do anything
    validate_book(book)
    assert marked(wb) == {k: v for k, v in expected.items() if k[0] != locked}


def test_structure_protection_without_password_is_lifted_and_put_back(excel, seed_example, tmp_path):
    path = rewrite(seed_example, tmp_path / "structure.xlsx", "xl/workbook.xml",
                   lambda xml: lock_structure(xml, 'lockStructure="1"'))
    app, wb, book = excel(path)
    assert wb.ProtectStructure
    from perfeval_xl.excel import validate_book

    report = validate_book(book)
    _check_marked_run(app, wb, report)
    assert wb.ProtectStructure and wb._password is None


def test_structure_locked_with_a_password_changes_nothing_and_says_why(excel, seed_example, tmp_path):
    path = rewrite(seed_example, tmp_path / "structure_pw.xlsx", "xl/workbook.xml",
                   lambda xml: lock_structure(xml, 'workbookPassword="CC1A" lockStructure="1"'))
    app, wb, book = excel(path)
    assert wb.ProtectStructure and wb._password
    pristine = fx.state(wb)
    from perfeval_xl.excel import validate_book

    report = validate_book(book)
    assert report.findings
    assert fx.state(wb) == pristine  # nothing half-done
    text = app.messages[-1][1]
    assert "工作簿结构设有密码保护" in text
    first = report.findings[0]
    assert f"{first.sheet}!{first.cell}" in text  # the findings are still shown


# ---- crash safety -----------------------------------------------------------------------------

def test_an_abort_while_marking_is_undone_by_clear_marks(excel, seed_example):
    from perfeval_xl.excel import clear_marks, validate_book

    app, wb, book = excel(seed_example)
    pristine = fx.state(wb)
    app.faults["Interior.Color"] = [3, RuntimeError("Excel stopped responding")]
    with pytest.raises(RuntimeError):
        validate_book(book)
    assert 0 < len(marked(wb)) < 10
    assert wb.sheet(LEDGER_SHEET)  # written before the first mark
    assert fx.protection(wb) == {**pristine["protection"], LEDGER_SHEET: fx.protection(wb)[LEDGER_SHEET]}
    del app.faults["Interior.Color"]
    clear_marks(book)
    assert fx.state(wb) == pristine


def test_com_errors_on_cosmetic_steps_do_not_stop_the_run(excel, seed_example):
    from perfeval_xl.excel import validate_book

    app, wb, book = excel(seed_example)
    refusal = fx.excel_error("Unable to set the ColumnWidth property of the Range class")
    app.faults["Range.ColumnWidth"] = [0, refusal]
    app.faults["Hyperlinks.Add"] = [0, fx.excel_error("Add method of Hyperlinks class failed")]
    app.faults["Font.Bold"] = [0, fx.excel_error("Unable to set the Bold property of the Font class")]
    report = validate_book(book)
    assert marked(wb) == flagged(report)
    assert wb._sheets[0].Name == RESULT_SHEET


def test_a_refused_mark_is_counted_and_the_run_goes_on(excel, seed_example):
    from perfeval_xl.excel import validate_book

    app, wb, book = excel(seed_example)
    app.faults["Interior.Color"] = [2, fx.excel_error("Unable to set the Color property of the Interior class")]
    report = validate_book(book)
    assert len(marked(wb)) == 2 < len(flagged(report))
    assert "未能标色" in app.messages[-1][1]


# ---- Excel's error values -----------------------------------------------------------------------

def test_error_values_are_read_as_errors_not_blanks(excel, seed_example):
    from perfeval_xl.excel import check_book
    from perfeval_xl.readers.xlwings_grid import grid_from_book

    app, wb, book = excel(seed_example)
    ws = wb.sheet("绩效自评表")
    ws.cell(4, 4).value = fx.ERROR_CODES["#DIV/0!"]  # D4, 预算数, as Excel shows #DIV/0!
    assert grid_from_book(book).cell("绩效自评表", "D4") == "#DIV/0!"
    report = check_book(book)
    d4 = [f for f in report.findings if f.sheet == "绩效自评表" and f.cell == "D4"]
    assert d4 and not any("为空" in f.message for f in d4)


# ---- worksheet functions, through xlwings' own UDF machinery ----------------------------------

@pytest.fixture
def win_udfs(excel, seed_example):
    """perfeval_xl.udfs decorated as on Windows (xlwings.udfs.xlfunc/xlarg), called with call_udf."""
    import importlib

    import xlwings

    app, wb, book = excel(seed_example)
    from xlwings import udfs as xlwings_udfs

    import perfeval_xl.udfs as ours

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(xlwings, "func", xlwings_udfs.xlfunc)
        mp.setattr(xlwings, "arg", xlwings_udfs.xlarg)
        mp.setattr(xlwings, "ret", xlwings_udfs.xlret)
        mod = importlib.reload(ours)

        def call(name, *args, caller="Z1"):
            ws = wb.sheet("绩效自评表")
            return xlwings_udfs.call_udf("perfeval_xl.udfs", name, args, wb, ws.Range(caller))

        yield app, wb, book, mod, call
    importlib.reload(ours)


def test_every_argument_reads_errors_as_text_and_is_cut_to_the_used_range(win_udfs):
    _, _, _, mod, _ = win_udfs
    funcs = [getattr(mod, n) for n in dir(mod) if n.startswith("PE_")]
    assert len(funcs) == 7
    for f in funcs:
        if f.__name__ == "PE_CHECK":
            continue
        for a in f.__xlfunc__["args"]:
            assert a["options"] == {"ndim": 2, "err_to_str": True, "convert": mod.USED_AREA}, (f.__name__, a)


def test_an_error_value_passed_in_gives_its_reason(win_udfs):
    app, wb, _, _, call = win_udfs
    ws = wb.sheet("绩效自评表")
    ws.cell(4, 4).value = fx.ERROR_CODES["#DIV/0!"]  # D4 shows #DIV/0!
    assert call("PE_EXECRATE", ws.Range("D4"), 3527.66) == [["预算数为错误值 #DIV/0!"]]
    ws.cell(4, 5).value = fx.ERROR_CODES["#N/A"]
    assert call("PE_INDICATOR_SCORE", "≥90%", ws.Range("E4"), 10.0) == [["实际完成值为错误值 #N/A"]]


def test_a_whole_column_argument_returns_the_rows_in_use(win_udfs):
    app, wb, _, _, call = win_udfs
    ws = wb.sheet("绩效自评表")
    used = ws.UsedRange
    out = call("PE_EXECRATE", ws.Range("D:D"), ws.Range("E:E"))
    assert len(out) == used.r2 and all(len(r) == 1 for r in out)  # from row 1: rows stay aligned
    assert out[3][0] == pytest.approx(3527.66 / 3676.31, abs=1e-6)  # D4/E4
    assert app.reads["Value cells"] < 2 * used.r2 + 10  # never a million cells


def test_pe_check_is_volatile_and_sees_every_edit(win_udfs):
    app, wb, _, mod, call = win_udfs
    assert mod.PE_CHECK.__xlfunc__["volatile"] is True
    ws = wb.sheet("绩效自评表")
    area = ws.Range("A1:I40")
    mod._CACHE.clear()
    first = call("PE_CHECK", area)
    merges = app.reads["MergeCells"]
    assert call("PE_CHECK", area) == first  # the same book: the rules are not run again
    assert app.reads["MergeCells"] == merges
    assert "abc" not in first[0][0]
    ws.cell(4, 4).value = "abc"  # the clerk types text into 预算数
    after = call("PE_CHECK", area)
    assert after != first and "D4" in after[0][0] and "abc" in after[0][0]


def test_generated_vba_wrappers_compile_against_the_addin(win_udfs):
    """What Import Functions writes into the add-in: one wrapper per UDF, calling procedures the
    add-in's own xlwings module defines (no VBA reference needed inside the add-in)."""
    from perfeval_xl import addin, excel_install

    _, _, _, mod, _ = win_udfs
    vba = excel_install.udf_vba()
    names = {n for n in dir(mod) if n.startswith("PE_")}
    heads = re.findall(r"^Function (\w+)\(([^)]*)\)", vba, re.M)
    assert {h for h, _ in heads} == names
    assert vba.count("\nEnd Function") == len(names)
    assert vba.count("#If App") == vba.count("#End If") == len(names)
    reserved = {"date", "name", "range", "error", "type", "string", "integer", "end", "sub", "function", "next"}
    for _, args in heads:
        for a in filter(None, (x.strip() for x in args.split(","))):
            a = a.removeprefix("Optional ").strip()
            assert re.fullmatch(r"[A-Za-z]\w*", a) and a.lower() not in reserved, a
    assert "ActiveWorkbook" in vba and "ThisWorkbook" not in vba  # the add-in form
    assert "Application.Volatile" in vba  # PE_CHECK
    source = addin.vba_modules(addin.PACKAGED_ADDIN)["xlwings"]
    assert re.search(r"^Function XLPy\(\)", source, re.M)


@pytest.mark.parametrize("trusted", [True, False])
def test_install_functions_imports_the_wrappers_into_the_addin(win_udfs, tmp_path, trusted, monkeypatch):
    """`perfeval excel install --functions` through xlwings' own import_udfs, on a hidden Excel."""
    from perfeval_xl import excel_install

    excel_app = fx.AutomationExcel(trust_vbom=trusted)
    monkeypatch.setattr(fx, "NEW_APPS", [excel_app])
    target = tmp_path / "XLSTART" / "perfeval_xl.xlam"
    target.parent.mkdir()
    target.write_bytes(b"")
    said: list[str] = []
    code = excel_install.import_functions(str(target), said.append)
    assert excel_app.unknown == []
    assert excel_app.quit, "the hidden Excel is closed again"
    if not trusted:
        assert code == 2 and any("信任对 VBA 工程对象模型的访问" in s for s in said), said
        return
    assert code == 0, said
    book = excel_app.workbooks[0]
    assert book.saved == 1
    text = book.components["xlwings_udfs"]
    assert set(re.findall(r"^Function (\w+)\(", text, re.M)) == {n for n in dir(win_udfs[3]) if n.startswith("PE_")}
    assert {m.split("!")[1] for m, _ in excel_app.macro_options} >= {"PE_EXECRATE", "PE_CHECK"}


def test_a_mark_inside_a_merged_area_goes_on_the_cell_excel_shows(excel, seed_example):
    """Excel shows a merged area with its top-left cell's fill: a mark on another cell would be invisible."""
    from dataclasses import replace

    from perfeval_xl.excel import check_book, clear_marks
    from perfeval_xl.marks import plan_marks
    from perfeval_xl.writers.xlwings_apply import mark_book

    app, wb, book = excel(seed_example)
    pristine = fx.state(wb)
    ws = wb.sheet("绩效自评表")
    assert ws.merge_at(14, 2) == (13, 2, 16, 2)  # B13:B16, the 产出指标 heading
    plan = plan_marks(check_book(book))
    inside = next(m for m in plan.marks if (m.sheet, m.cell) == ("绩效自评表", "B13"))
    plan = replace(plan, marks=tuple(replace(m, cell="B14") if m is inside else m for m in plan.marks))
    mark_book(book, plan)
    assert ("绩效自评表", "B13") in marked(wb) and ("绩效自评表", "B14") not in marked(wb)
    assert ("绩效自评表", "B13") in our_notes(wb)
    clear_marks(book)
    assert fx.state(wb) == pristine
