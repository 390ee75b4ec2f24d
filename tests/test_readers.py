"""Readers: both example workbooks read to the same form model, by names and by labels, fast and full.

The examples come from owner A (tests/conftest.py): the seed in our template (defined names,
formulas, cached values saved by LibreOffice) and the same data in the official layout as a
department sends it (no names, no formulas). Edited copies are made with openpyxl.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from perfeval_xl import layout as L
from perfeval_xl import seed
from perfeval_xl.errors import ReadError
from perfeval_xl.model import Kind, Loc
from perfeval_xl.readers import form_from_grid, read_grid, read_workbook
from perfeval_xl.readers.grid import Grid
from perfeval_xl.readers.mapping import TARGETS
from perfeval_xl.values import norm_label

D = Decimal
LAYOUT = L.TEMPLATE_LAYOUT
INPUT_KEYS = sorted(k for k, s in LAYOUT.fields.items() if s.formula is None and s.sheet != L.SHEET_NARRATIVE)
DERIVED_KEYS = sorted(k for k, s in LAYOUT.fields.items() if s.formula is not None and k != "grade")


# ---- comparing forms ------------------------------------------------------------------------
def _val(v):
    if v.kind is Kind.NUMBER:
        return ("n", v.number)
    if v.kind is Kind.DATE:
        return ("d", v.date)
    if v.kind in (Kind.TEXT, Kind.NA):
        return (v.kind.value, norm_label(v.text))  # line breaks and spaces inside labels do not matter
    return (v.kind.value, None)


def snapshot(form) -> dict:
    """Every field and list item of a form as comparable tuples (no locations)."""
    out = {}
    for key, path in TARGETS.items():
        obj = form
        for p in path:
            obj = None if obj is None else getattr(obj, p)
        if obj is not None:
            out[key] = _val(obj)
    for i, p in enumerate(form.basic.projects):
        for a in ("name", "prev", "budget", "actual"):
            out[f"projects[{i}].{a}"] = _val(getattr(p, a))
    for i, p in enumerate(form.self_eval.indicators):
        for a in ("level1", "level2", "name", "target", "actual", "points", "score", "reason"):
            out[f"indicators[{i}].{a}"] = _val(getattr(p, a))
    out["self_eval.unit_name"] = _val(form.self_eval.unit_name)
    return out


def differences(a: dict, b: dict, keys=None) -> list:
    """Keys whose values differ; numbers within 0.01 (percent ratios within 0.0001) are equal."""
    bad = []
    for k in keys if keys is not None else sorted(set(a) | set(b)):
        x, y = a.get(k), b.get(k)
        if x == y:
            continue
        if x and y and x[0] == y[0] == "n":
            tol = D("0.0001") if k.endswith(("pct", "rate")) else D("0.01")
            if abs(x[1] - y[1]) <= tol:
                continue
        bad.append((k, x, y))
    return bad


def list_keys(snap: dict) -> list[str]:
    return [k for k in snap if k.startswith(("projects[", "indicators["))]


def _fingerprint(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest(), os.stat(path).st_mtime_ns


@pytest.fixture(scope="module")
def example_form(seed_example):
    return read_workbook(seed_example)


@pytest.fixture(scope="module")
def original_form(seed_original):
    return read_workbook(seed_original)


# ---- the seed, held by the model ----------------------------------------------------------------
def test_template_example_is_read_by_names_with_formulas(seed_example, example_form):
    f = example_form
    assert f.reader == "names" and f.template_version == L.TEMPLATE_VERSION and f.formulas_known
    assert f.read_notes == []
    assert f.unit_name.text == "益阳市人民政府办公室" and f.year_int == 2024
    funds = f.self_eval.funds
    assert funds.budget.number == D("3676.31") and funds.actual.number == D("3527.66")
    assert funds.budget.loc == Loc(L.SHEET_SELF, "D4")
    # derived cells: the formula is visible, the cached value read, the template formula known
    rate = funds.execution_rate
    assert rate.formula and rate.formula.startswith("=") and "E4" in rate.formula
    assert rate.template_formula == LAYOUT.fields["execution_rate"].formula
    assert abs(rate.number - D("0.9596")) < D("0.0001")
    assert funds.score.number == D("9.6")
    assert funds.budget.formula is None and funds.budget.template_formula is None
    assert f.sheet_names[L.SHEET_SELF] == L.SHEET_SELF and f.narrative is not None


@pytest.mark.parametrize("which", ["example", "original"])
def test_the_seed_figures_are_held_by_the_model(which, example_form, original_form):
    f = example_form if which == "example" else original_form
    funds = f.self_eval.funds
    assert (funds.initial_budget.number, funds.budget.number, funds.actual.number) == (
        D("2331.68"), D("3676.31"), D("3527.66"))
    assert funds.income_general.number == D("3676.31") and funds.exp_basic.number == D("2793.13")
    assert funds.exp_project.number == D("734.53")
    # 17 projects as printed (two named 金融支出); the placeholder rows are not projects
    names = [p.name.text for p in f.basic.projects]
    assert [norm_label(n) for n in names] == [norm_label(p[0]) for p in seed.PROJECTS]
    assert len(names) == 17 and names.count("15、金融支出") == 1 and names.count("16、金融支出") == 1
    assert not any("一个专项一行" in n or n == "……" for n in names)
    last = f.basic.projects[-1]
    assert last.name.text == "17、档案整理扫描工作经费" and last.prev.number == D("19.15") and not last.budget
    assert f.basic.projects[0].budget.number == D("57.92")  # "57.92　" typed as text
    # 9 indicators with their targets, 一级 filled down from the merged heading
    inds = f.self_eval.indicators
    assert len(inds) == 9
    assert [i.target.text for i in inds] == [row[3].strip() for row in seed.INDICATORS] == [
        "=24", "=100%", "=100%", "不超支", "-", "≥90%", "-", "中长期", "≥90%"]
    assert [norm_label(i.level1.text)[:2] for i in inds] == ["产出"] * 4 + ["效益"] * 4 + ["满意"]
    assert inds[1].level1_loc == inds[0].level1_loc == inds[0].level1.loc
    assert inds[4].name.kind is Kind.NA and not inds[4].points  # 不适用, no points
    assert inds[3].reason.text == "更加科学的做好预算工作"
    assert [i.points.number for i in inds if i.points] == [10, 15, 10, 10, 10, 15, 20]
    se = f.self_eval
    assert se.points_total.number == 100 and se.total_score.number == D("99.2")
    for footer in (f.basic.footer, se.footer):
        assert footer.preparer.text == "周旭" and footer.date.date == date(2025, 4, 22)
        assert footer.phone.text == "15273788388" and footer.signature.kind is Kind.EMPTY
    st = f.basic.staffing
    assert st.quota.number == 116 and st.actual.number == 116 and st.rate.number == 1
    assert f.basic.car_maintenance.actual.number == D("66.87")
    assert f.basic.public_total.actual.kind is Kind.EMPTY  # printed "　"
    assert f.basic.procurement.budget.kind is Kind.EMPTY
    assert f.three_public.abroad.prev.number == D("40.97")


def test_every_value_knows_its_cell(example_form, original_form):
    for f in (example_form, original_form):
        for p in f.basic.projects:
            for v in (p.name, p.prev, p.budget, p.actual):
                assert v.loc is not None and v.loc.cell.endswith(str(p.row))
        for i in f.self_eval.indicators:
            assert i.name.loc.cell == f"D{i.row}"
            assert i.level1_loc is not None
        assert f.self_eval.funds.actual.loc is not None
        assert f.basic.projects_region[0].sheet == f.sheet_names[L.SHEET_BASIC]


def test_the_original_reads_by_labels(original_form):
    f = original_form
    assert f.reader == "anchors" and f.template_version is None
    assert f.read_notes == []
    assert f.sheet_names == {L.SHEET_SG: "三公经费", L.SHEET_BASIC: "基础数据表", L.SHEET_SELF: "自评表"}
    assert f.unit_name.text == "益阳市人民政府办公室" and f.year_int == 2024
    assert f.year.loc.sheet == "自评表"  # from the title "2024年度部门整体支出绩效自评表"
    assert f.narrative is None
    # values typed inside labels: "其中：  一般公共预算：3676.31", "填表人： 周旭  填报日期：…"
    general = f.self_eval.funds.income_general
    assert general.number == D("3676.31") and general.loc == Loc("自评表", "B6") and general.raw == "3676.31"
    assert f.basic.footer.date.loc == Loc("基础数据表", "A41")  # the one cell holding the whole footer
    assert f.self_eval.funds.income_gov_fund.kind is Kind.EMPTY
    assert f.three_public.total.pct.number == D("0.375")  # "37.5" under the header 增减%


def test_original_and_template_example_hold_the_same_inputs(example_form, original_form):
    a, b = snapshot(example_form), snapshot(original_form)
    keys = INPUT_KEYS + list_keys(a) + list_keys(b) + ["self_eval.unit_name"]
    assert differences(a, b, keys) == []
    assert len(list_keys(a)) == 17 * 4 + 9 * 8


def test_original_derived_figures_equal_the_recalculated_template(recalculated_seed, original_form):
    recalculated = read_workbook(recalculated_seed)
    a, b = snapshot(recalculated), snapshot(original_form)
    assert differences(a, b, DERIVED_KEYS) == []
    assert a["execution_rate"][0] == "n"  # really computed by LibreOffice, not UNKNOWN on both sides


def test_the_template_read_by_labels_equals_by_names(seed_example, example_form):
    grid, names, _ = read_grid(seed_example)
    assert names and "pe_funds_budget" in names
    by_labels = form_from_grid(grid, None, seed_example, "anchors")
    assert by_labels.read_notes == []
    assert differences(snapshot(example_form), snapshot(by_labels)) == []


@pytest.mark.parametrize("which", ["seed_example", "seed_original"])
def test_fast_path_equals_openpyxl_path(which, request):
    path = request.getfixturevalue(which)
    full, fast = read_workbook(path), read_workbook(path, fast=True)
    assert fast.reader == "calamine" and not fast.formulas_known
    assert full.formulas_known
    assert differences(snapshot(full), snapshot(fast)) == []
    assert fast.template_version == full.template_version
    assert fast.sheet_names == full.sheet_names
    # cell by cell the same places, too
    assert [p.row for p in fast.basic.projects] == [p.row for p in full.basic.projects]
    assert fast.self_eval.funds.exp_basic.loc == full.self_eval.funds.exp_basic.loc


def test_xlsm_reads_like_xlsx(seed_example, example_form, tmp_path):
    path = shutil.copy(seed_example, tmp_path / "益阳.xlsm")
    for fast in (False, True):
        assert differences(snapshot(example_form), snapshot(read_workbook(str(path), fast=fast))) == []


def test_reading_never_modifies_the_input(seed_example, seed_original):
    before = [_fingerprint(p) for p in (seed_example, seed_original)]
    for p in (seed_example, seed_original):
        read_workbook(p)
        read_workbook(p, fast=True)
    assert [_fingerprint(p) for p in (seed_example, seed_original)] == before


# ---- .xls and .ods ---------------------------------------------------------------------------------
def _soffice_convert(files, fmt, outdir, soffice="soffice"):
    profile = tempfile.mkdtemp(prefix="lo_profile_")
    cmd = [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt,
           "--outdir", outdir, *files]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, HOME=profile)), profile


@pytest.fixture(scope="module")
def converted(seed_example, seed_original, tmp_path_factory, soffice):
    """The two examples as .xls and .ods: one soffice call per format, both running at once."""
    src = tmp_path_factory.mktemp("conv_src")
    out = tmp_path_factory.mktemp("conv_out")
    files = [shutil.copy(seed_example, src / "example.xlsx"), shutil.copy(seed_original, src / "original.xlsx")]
    procs = [_soffice_convert([str(f) for f in files], fmt, str(out), soffice) for fmt in ("xls", "ods")]
    for p, profile in procs:
        p.wait(timeout=180)
        shutil.rmtree(profile, ignore_errors=True)
    got = {f"{stem}.{ext}": str(out / f"{stem}.{ext}") for stem in ("example", "original") for ext in ("xls", "ods")}
    missing = [k for k, v in got.items() if not os.path.isfile(v)]
    assert not missing, f"LibreOffice did not write {missing}"
    return got


@pytest.mark.parametrize("name", ["original.xls", "original.ods", "example.xls", "example.ods"])
def test_xls_and_ods_read_like_the_xlsx(name, converted, original_form, example_form):
    path = converted[name]
    expected = original_form if name.startswith("original") else example_form
    for fast in (True, False):  # openpyxl cannot open them: both go through python-calamine
        f = read_workbook(path, fast=fast)
        assert f.reader == "calamine"
        keys = INPUT_KEYS + DERIVED_KEYS + list_keys(snapshot(expected)) + ["self_eval.unit_name"]
        if name.startswith("example"):  # defined names are not read from .xls/.ods: labels are
            assert f.template_version is None
        if name == "example.xls":
            # python-calamine reads the text results of formulas in .xls as 0: the template's
            # year-dependent headers ("2024年决算数") and C2 (=unit name) are lost; the columns
            # fall back to the official order and say so.
            keys.remove("self_eval.unit_name")
            assert any("按官方表样的列顺序读取" in n for n in f.read_notes)
        else:
            assert f.read_notes == []
        assert differences(snapshot(expected), snapshot(f), keys) == [], name


# ---- messy workbooks --------------------------------------------------------------------------------
def _edit(src, dest, fn):
    wb = openpyxl.load_workbook(src)
    fn(wb)
    wb.save(dest)
    return str(dest)


def _shift_merges(ws, at_row, n):
    """openpyxl moves cells on insert/delete but not merged ranges; Excel moves both."""
    for mr in ws.merged_cells.ranges:
        if mr.min_row >= at_row:
            mr.shift(row_shift=n)


def test_inserted_and_deleted_project_rows_in_the_original(seed_original, tmp_path):
    def edit(wb):
        ws = wb["基础数据表"]
        # delete "9、真抓实干奖" (row 20), then insert a new project after "5、派驻纪检组…" (row 16)
        assert ws["A20"].value == "9、真抓实干奖"
        ws.delete_rows(20)
        _shift_merges(ws, 21, -1)
        ws.insert_rows(17)
        _shift_merges(ws, 17, 1)
        for c, v in zip("ABCD", ("5a、新增项目", 1.5, "2.50", "３．５")):
            ws[f"{c}17"] = v

    path = _edit(seed_original, tmp_path / "moved.xlsx", edit)
    for fast in (False, True):
        f = read_workbook(path, fast=fast)
        names = [p.name.text for p in f.basic.projects]
        assert len(names) == 17 and "9、真抓实干奖" not in names
        new = f.basic.projects[names.index("5a、新增项目")]
        assert (new.prev.number, new.budget.number, new.actual.number, new.row) == (D("1.5"), D("2.5"), D("3.5"), 17)
        assert f.basic.public_office.actual.number == D("38.59")  # still found below the list
        assert f.basic.footer.preparer.text == "周旭"
        assert f.read_notes == []


def test_names_are_read_where_they_are_now(seed_example, tmp_path):
    """Rows inserted above the tables and inside the project list move the names, as Excel does."""
    from openpyxl.workbook.defined_name import DefinedName

    def shift_names(wb, sheet, at_row, grow=None):
        for name, dn in list(wb.defined_names.items()):
            dests = list(dn.destinations)
            if not dests or dests[0][0] != sheet:
                continue
            s, ref = dests[0]
            def bump(m):
                row = int(m.group(2))
                return f"${m.group(1)}${row + 1 if row >= at_row or (name == grow and row > at_row) else row}"
            new = re.sub(r"\$([A-Z]+)\$(\d+)", bump, ref)
            if name == grow:  # the list grows: its last row moves, its first stays
                a, b = ref.split(":")
                new = a + ":" + re.sub(r"\$([A-Z]+)\$(\d+)", lambda m: f"${m.group(1)}${int(m.group(2)) + 1}", b)
            wb.defined_names[name] = DefinedName(name, attr_text=f"'{s}'!{new}")

    def edit(wb):
        sg = wb[L.SHEET_SG]
        sg.insert_rows(1)
        _shift_merges(sg, 1, 1)
        shift_names(wb, L.SHEET_SG, 1)
        bd = wb[L.SHEET_BASIC]
        bd.insert_rows(20)
        _shift_merges(bd, 20, 1)
        shift_names(wb, L.SHEET_BASIC, 20, grow="pe_projects")
        for c, v in zip("ABCD", ("新增项目", 1, 2, 3)):
            bd[f"{c}20"] = v

    path = _edit(seed_example, tmp_path / "moved.xlsx", edit)
    for fast in (False, True):
        f = read_workbook(path, fast=fast)
        assert f.read_notes == []
        ab = f.three_public.abroad
        assert ab.actual.number == D("4.87") and ab.actual.loc == Loc(L.SHEET_SG, "B5")
        assert ab.diff_budget.template_formula == "=B5-C5"  # the layout's formula, moved with its cell
        assert ab.diff_budget.kind is Kind.UNKNOWN  # openpyxl saved no cached values: unknown, not 0
        assert len(f.basic.projects) == 18 and f.basic.projects[7].name.text == "新增项目"
        assert f.basic.public_office.actual.number == D("38.59")
        assert f.basic.public_office.actual.loc.cell == "D35"


def test_renamed_and_extra_sheets(seed_original, original_form, tmp_path):
    def edit(wb):
        wb["自评表"].title = "Sheet3 (2)"
        wb["三公经费"].title = "附表1"
        extra = wb.create_sheet("说明", 0)
        extra["A1"] = "请各单位于4月底前报送。项目支出、公用经费按决算填列。"
        other = wb.create_sheet("草稿")
        other["A1"], other["B1"] = "合计", 123

    path = _edit(seed_original, tmp_path / "renamed.xlsx", edit)
    for fast in (False, True):
        f = read_workbook(path, fast=fast)
        assert f.sheet_names == {L.SHEET_SG: "附表1", L.SHEET_BASIC: "基础数据表", L.SHEET_SELF: "Sheet3 (2)"}
        assert differences(snapshot(original_form), snapshot(f)) == []


def test_labels_with_spaces_breaks_and_punctuation_variants(seed_original, original_form, tmp_path):
    relabel = {
        ("三公经费", "A3"): "因 公 出 国\n经费", ("三公经费", "A6"): "合　计", ("三公经费", "G2"): "增减（%）",
        ("基础数据表", "A2"): "财政供养人员情况(人)", ("基础数据表", "A11"): "项目支出:",
        ("基础数据表", "A31"): " 公用经费 ", ("基础数据表", "A32"): "其中:办公费",
        ("基础数据表", "A41"): "填表人:周旭　填报日期:2025-4-22　联系电话:15273788388　单位负责人签字:",
        ("自评表", "B4"): "年度资金\n总额", ("自评表", "B12"): "一级\n指标", ("自评表", "A22"): "总　分",
        ("自评表", "A2"): "预算部门(单位)名称", ("自评表", "A1"): "２０２４年度部门整体支出绩效自评表",
    }

    def edit(wb):
        for (sheet, ref), text in relabel.items():
            wb[sheet][ref] = text

    path = _edit(seed_original, tmp_path / "labels.xlsx", edit)
    for fast in (False, True):
        f = read_workbook(path, fast=fast)
        assert f.read_notes == []
        assert differences(snapshot(original_form), snapshot(f)) == []


@pytest.mark.parametrize("which", ["seed_example", "seed_original"])
def test_a_checked_and_marked_workbook_reads_the_same(which, request, tmp_path):
    """校验结果 and the 校验标记 ledger that the annotate writer adds are not taken for the form."""
    from perfeval_xl.pipeline import CheckOptions, check_file
    from perfeval_xl.writers.annotate import annotate

    src = request.getfixturevalue(which)
    report = check_file(src, CheckOptions())
    assert report.error is None and report.findings
    marked = annotate(src, report, str(tmp_path / os.path.basename(src)))
    before = snapshot(read_workbook(src))
    # openpyxl saved the marked copy: formulas lost their cached results, so compare the inputs
    keys = INPUT_KEYS + list_keys(before) if which == "seed_example" else None
    for fast in (False, True):
        f = read_workbook(marked, fast=fast)
        assert f.read_notes == [] and L.SHEET_RESULT not in f.sheet_names.values()
        assert differences(before, snapshot(f), keys) == []


def test_all_three_tables_on_one_sheet(seed_original, original_form, tmp_path):
    """Some units stack the three tables on one sheet: each table ends where the next one starts."""
    src = openpyxl.load_workbook(seed_original)
    out = openpyxl.Workbook()
    ws = out.active
    offset = 0
    for s in src.worksheets:
        for row in s.iter_rows():
            for c in row:
                if c.value is not None:
                    cell = ws.cell(c.row + offset, c.column, c.value)
                    cell.data_type = c.data_type  # text "=100%" stays text
        for m in s.merged_cells.ranges:
            ws.merge_cells(start_row=m.min_row + offset, start_column=m.min_col,
                           end_row=m.max_row + offset, end_column=m.max_col)
        offset += s.max_row + 2
    path = str(tmp_path / "one_sheet.xlsx")
    out.save(path)
    for fast in (False, True):
        f = read_workbook(path, fast=fast)
        assert set(f.sheet_names.values()) == {ws.title} and f.read_notes == []
        assert differences(snapshot(original_form), snapshot(f)) == []


def test_numbers_typed_as_text(seed_original, tmp_path):
    def edit(wb):
        ws = wb["自评表"]
        ws["C4"], ws["D4"], ws["E4"] = "2,331.68", "３６７６．３１", "3527.66万元"
        ws["G4"] = "95.96%"
        ws["G13"] = "10分"
        bd = wb["基础数据表"]
        bd["B3"], bd["C3"] = "116人", 116
        bd["B5"] = "104.44 "
        sg = wb["三公经费"]
        sg["G3"] = "-88.11%"
        sg["B3"] = "abc"

    path = _edit(seed_original, tmp_path / "text.xlsx", edit)
    for fast in (False, True):
        f = read_workbook(path, fast=fast)
        funds = f.self_eval.funds
        assert (funds.initial_budget.number, funds.budget.number, funds.actual.number) == (
            D("2331.68"), D("3676.31"), D("3527.66"))
        assert funds.execution_rate.number == D("0.9596")
        assert f.self_eval.indicators[0].points.number == 10
        assert f.basic.staffing.quota.number == 116 and f.basic.sg_total.prev.number == D("104.44")
        assert f.three_public.abroad.pct.number == D("-0.8811")
        bad = f.three_public.abroad.actual
        assert bad.kind is Kind.INVALID and bad.problem == "无法识别为金额：“abc”" and bad.loc == Loc("三公经费", "B3")


def _set_xml_cell(path, sheet_part, ref, xml):
    """Rewrite one cell of a sheet part in place (a cached error cannot be written with openpyxl)."""
    tmp = path + ".tmp"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == sheet_part:
                text = data.decode("utf-8")
                text, n = re.subn(rf'<c r="{ref}"(?: [^>]*)?(?:/>|>.*?</c>)', xml, text, count=1, flags=re.S)
                assert n == 1, f"{ref} not found in {sheet_part}"
                data = text.encode("utf-8")
            zout.writestr(info, data)
    os.replace(tmp, path)


def test_cached_errors_and_missing_results_are_unknown_never_zero(seed_example, tmp_path):
    path = str(tmp_path / "err.xlsx")
    shutil.copy(seed_example, path)
    # 三公经费情况表 (sheet1) B7 = SUM(B4:B6) holds a cached #REF!
    _set_xml_cell(path, "xl/worksheets/sheet1.xml", "B7", '<c r="B7" t="e"><f>SUM(B4:B6)</f><v>#REF!</v></c>')
    f = read_workbook(path)
    total = f.three_public.total.actual
    assert total.kind is Kind.UNKNOWN and total.number is None and total.problem == "公式结果为错误值 #REF!"
    assert total.formula == "=SUM(B4:B6)"
    fast = read_workbook(path, fast=True)  # python-calamine sees '' for an error: found in the sheet XML
    assert fast.three_public.total.actual.kind is Kind.UNKNOWN and fast.three_public.total.actual.raw == "#REF!"
    assert fast.three_public.total.actual.problem == "公式结果为错误值 #REF!"
    assert f.three_public.abroad.actual.number == fast.three_public.abroad.actual.number == D("4.87")
    # a workbook saved by openpyxl has no cached results at all
    saved = _edit(seed_example, tmp_path / "nocache.xlsx", lambda wb: None)
    for fast in (False, True):
        g = read_workbook(saved, fast=fast)
        assert g.self_eval.funds.execution_rate.kind is Kind.UNKNOWN
        assert g.self_eval.funds.execution_rate.problem
        assert g.three_public.total.actual.kind is Kind.UNKNOWN
        assert g.self_eval.funds.budget.number == D("3676.31")  # inputs are still read


def test_a_formula_that_yields_blank_is_blank_when_results_are_cached(seed_example):
    # 规模控制率 = IF(N(批复规模)=0,"",...): LibreOffice cached "" — a blank, not a missing result
    for fast in (False, True):
        f = read_workbook(seed_example, fast=fast)
        assert f.basic.building.area_rate.kind is Kind.EMPTY
        assert f.basic.building.area_rate.template_formula is not None
    # the fast reader does not open the sheet XML for such a blank: the formula's own condition explains it
    grid, names, reader = read_grid(seed_example, fast=True)
    form_from_grid(grid, names, seed_example, reader)
    assert not any(sg.errors_read for sg in grid.sheets.values())


def _problems(form) -> dict:
    out = {}
    for key, path in TARGETS.items():
        v = form
        for p in path:
            v = None if v is None else getattr(v, p)
        if v is not None and (v.problem or v.kind is Kind.UNKNOWN):
            out[key] = (v.kind, v.raw, v.problem, v.loc)
    return out


def test_a_cached_error_reads_alike_on_both_paths(make_example, recalc_many):
    """Text typed in number cells, recalculated by LibreOffice: the template formulas using them hold
    #VALUE!. python-calamine reads an error as '' (like a formula with no result): the fast reader looks
    the cell up in the sheet XML and says what the openpyxl reader says; blank results stay blank."""
    path = make_example("seed", {"sg_abroad_actual": "'２．００", "funds_actual": "'abc"}, name="文字.xlsx")
    (path,) = recalc_many([path])
    forms = {fast: read_workbook(path, fast=fast) for fast in (False, True)}
    for fast, f in forms.items():
        sg, funds = f.three_public.abroad, f.self_eval.funds
        # =B4-C4, =IF(N(E4)=0,"—",F4/E4), =IF(N(D4)=0,"",E4/D4), =IF(G4="","",ROUND(...)): all #VALUE!
        for v in (sg.diff_budget, sg.diff_prev, sg.pct, funds.execution_rate, funds.score):
            assert (v.kind, v.raw, v.problem) == (Kind.UNKNOWN, "#VALUE!", "公式结果为错误值 #VALUE!"), (fast, v)
            assert v.template_formula and v.number is None
        assert sg.actual.number == D("2") and funds.actual.kind is Kind.INVALID  # the texts, read as such
        assert f.basic.building.area_rate.kind is Kind.EMPTY  # "" by its own condition: still blank
        assert f.three_public.total.budget.number == D("153.96")  # results that are numbers: still read
    assert _problems(forms[True]) == _problems(forms[False])
    assert differences(snapshot(forms[False]), snapshot(forms[True])) == []


def _rewrite_part(src, dest, part, fn):
    """A copy of a workbook with one zip part's text changed by fn (as tools other than Excel do)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == part:
                data = fn(data.decode("utf-8")).encode("utf-8")
            zout.writestr(info, data)
    return str(dest)


def _codes(report) -> list[str]:
    return sorted(f.code for f in report.findings)


def test_names_pointing_at_renamed_sheets_fall_back_to_labels(seed_example, tmp_path):
    """Sheets renamed outside Excel: the defined names still name the old sheets. The fields they led to
    are found by their labels (template formulas kept), with one read note, on both paths."""
    from perfeval_xl.pipeline import CheckOptions, check_file

    def rename(xml):
        for old, new in ((L.SHEET_SG, "Sheet1"), (L.SHEET_SELF, "自评")):
            xml, n = re.subn(rf'(<sheet\b[^>]*\bname="){old}(")', rf"\g<1>{new}\2", xml)
            assert n == 1
        return xml

    path = _rewrite_part(seed_example, tmp_path / "改名表.xlsx", "xl/workbook.xml", rename)
    for fast in (False, True):
        seed_form, f = read_workbook(seed_example, fast=fast), read_workbook(path, fast=fast)
        assert differences(snapshot(seed_form), snapshot(f)) == [], fast
        assert len(f.read_notes) == 1, f.read_notes
        assert "不存在的工作表“三公经费情况表”“绩效自评表”" in f.read_notes[0] and "按标签读取" in f.read_notes[0]
        assert f.sheet_names[L.SHEET_SG] == "Sheet1" and f.sheet_names[L.SHEET_SELF] == "自评"
        assert f.sheet_names[L.SHEET_BASIC] == L.SHEET_BASIC  # still by name
        rate, grade = f.self_eval.funds.execution_rate, f.self_eval.grade  # 等级 has no label: beside 总分
        assert rate.loc == Loc("自评", "G4") and rate.template_formula == LAYOUT.fields["execution_rate"].formula
        assert grade.text == seed_form.self_eval.grade.text and grade.loc.sheet == "自评"
        assert f.self_eval.funds.exp_project.loc == Loc("自评", "F7")
        assert f.year.loc == Loc("Sheet1", "F2")  # its template cell, not the title of another table
        # what a reviewer sees: the seed's findings, no false "未填写", one PE415 line
        seed_rep, rep = check_file(seed_example, CheckOptions(fast=fast)), check_file(path, CheckOptions(fast=fast))
        assert "PE401" not in _codes(rep) and _codes(rep).count("PE415") == 1
        assert [c for c in _codes(rep) if c != "PE415"] == _codes(seed_rep)


def test_names_gone_to_ref_errors_fall_back_to_labels(seed_example, tmp_path):
    """Names turned into #REF! (their cells deleted, or edited by a tool) and one name deleted: read by
    labels. The fast reader reads only the sheets valid names point at, then the rest when it falls back."""
    def break_names(xml):
        xml, n = re.subn(rf'(<definedName\b[^>]*\bname="pe_[^"]*"[^>]*>)\'?{L.SHEET_SG}\'?![^<]*<', r"\1#REF!<", xml)
        assert n == 26  # unit, year and the 三公 table
        xml, n = re.subn(r'(<definedName\b[^>]*\bname="pe_indicators"[^>]*>)[^<]*<', rf"\1{L.SHEET_SELF}!#REF!<", xml)
        assert n == 1
        xml, n = re.subn(r'<definedName\b[^>]*\bname="pe_funds_budget"[^>]*>[^<]*</definedName>', "", xml)
        assert n == 1
        return xml

    path = _rewrite_part(seed_example, tmp_path / "名称失效.xlsx", "xl/workbook.xml", break_names)
    grid, names, _ = read_grid(path, fast=True)
    assert L.SHEET_SG not in grid.sheets  # no valid name points there
    for fast in (False, True):
        f = read_workbook(path, fast=fast)
        assert differences(snapshot(read_workbook(seed_example, fast=fast)), snapshot(f)) == [], fast
        assert f.sheet_names[L.SHEET_SG] == L.SHEET_SG
        assert f.three_public.abroad.pct.template_formula == LAYOUT.fields["sg_abroad_pct"].formula
        notes = "\n".join(f.read_notes)
        assert len(f.read_notes) == 2, notes
        assert "定义名称已失效（#REF!" in notes and "等 27 个" in notes and "按标签读取" in notes
        assert "未找到定义名称：pe_funds_budget（全年预算数）" in notes


def test_a_deleted_sheet_is_reported_not_guessed(seed_example, tmp_path):
    """三公经费情况表 deleted: its fields are not made up from another sheet (not from 填报说明, which names every
    label, nor "单位：万元" beside a blank unit name); what labels cannot find is said once."""
    path = _edit(seed_example, tmp_path / "删表.xlsx", lambda wb: wb.remove(wb[L.SHEET_SG]))
    for fast in (False, True):
        f = read_workbook(path, fast=fast)
        assert L.SHEET_SG not in f.sheet_names and f.unit_name.kind is Kind.EMPTY
        assert f.three_public.abroad.actual.loc is None and f.basic.sg_total.actual.kind is Kind.UNKNOWN
        assert f.self_eval.funds.budget.number == D("3676.31")  # the rest still by name
        assert len(f.read_notes) == 2 and f.read_notes[1].startswith("按标签也未找到：年度、因公出国经费本年决算数")


def test_settings_sheet_pairs(seed_original, tmp_path):
    def edit(wb):
        ws = wb.create_sheet("设置")
        ws.append(["设置项", "值"])
        ws.append(["execution_rate_warning", 0.85])
        ws.append(["grade_excellent", 90])
        ws.append([" reverse_formula ", "ratio"])

    path = _edit(seed_original, tmp_path / "settings.xlsx", edit)
    for fast in (False, True):
        f = read_workbook(path, fast=fast)
        assert f.settings_overrides == {"execution_rate_warning": "0.85", "grade_excellent": "90",
                                        "reverse_formula": "ratio"}
        assert f.sheet_names[L.SHEET_SETTINGS] == "设置"
        assert f.settings_cells == {"execution_rate_warning": ["A2"], "grade_excellent": ["A3"],
                                    "reverse_formula": ["A4"]}


def _grid_of(path) -> Grid:
    """What the xlwings front end hands over: every sheet's values, rows[0][0] = A1."""
    import python_calamine

    wb = python_calamine.CalamineWorkbook.from_path(path)
    grid = Grid()
    for name in wb.sheet_names:
        grid.add_sheet(name, wb.get_sheet_by_name(name).to_python(skip_empty_area=False))
    return grid


def test_settings_sheet_cells_on_every_read_path(seed_example, seed_original, tmp_path):
    """Form.settings_cells: key as written -> the A1 cells of every row that gave it, in order (a repeated key
    keeps its last value in settings_overrides; the settings loader refuses it by these cells). Blank rows,
    the header, comments and a sheet that does not start at row 1 do not shift the rows."""
    def edit(wb):
        ws = wb.create_sheet("设置")
        ws["A2"], ws["B2"] = "设置项", "值"
        ws["A3"], ws["B3"] = "执行率下限", "95%"
        ws["A4"] = "# 说明"
        ws["A6"], ws["B6"] = " low_execution ", 0.9
        ws["A7"], ws["B7"] = "执行率下限", "97%"

    want = {"执行率下限": ["A3", "A7"], "low_execution": ["A6"]}
    for src in (seed_example, seed_original):  # by names (the fast path reads only the named sheets + 设置)
        path = _edit(src, tmp_path / f"settings_cells_{os.path.basename(src)}", edit)
        for fast in (False, True):
            f = read_workbook(path, fast=fast)
            assert f.settings_cells == want, (src, fast)
            assert f.settings_overrides == {"执行率下限": "97%", "low_execution": "0.9"}
        f = form_from_grid(_grid_of(path), None, "live.xlsx", "xlwings")  # the xlwings path, by labels
        assert f.settings_cells == want and f.sheet_names[L.SHEET_SETTINGS] == "设置"


def test_no_settings_sheet_no_settings_cells(seed_example, example_form):
    assert read_workbook(seed_example, fast=True).settings_cells == {} and example_form.settings_cells == {}


def test_form_from_a_grid_built_like_a_live_book(seed_example, example_form):
    """What D's xlwings reader hands over: values and names only."""
    import python_calamine

    wb = python_calamine.CalamineWorkbook.from_path(seed_example)
    grid = Grid()
    for name in wb.sheet_names:
        grid.add_sheet(name, wb.get_sheet_by_name(name).to_python(skip_empty_area=False))
    xl = openpyxl.load_workbook(seed_example)
    names = {n: list(dn.destinations)[0] for n, dn in xl.defined_names.items() if list(dn.destinations)}
    names[L.VERSION_NAME] = ("", xl.defined_names[L.VERSION_NAME].attr_text)
    f = form_from_grid(grid, names, "live.xlsx", "xlwings")
    assert f.reader == "xlwings" and f.template_version == L.TEMPLATE_VERSION
    assert differences(snapshot(example_form), snapshot(f)) == []


# ---- files that are not this form ---------------------------------------------------------------------
def test_not_this_form(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["B2"] = "工资表", 3000
    path = str(tmp_path / "工资表.xlsx")
    wb.save(path)
    for fast in (False, True):
        with pytest.raises(ReadError) as e:
            read_workbook(path, fast=fast)
        assert "不是已知的绩效自评表样：未找到任何已知表样的标志性标签（年度资金总额" in str(e.value) \
            and path in str(e.value)


def test_broken_files_raise_read_error_in_chinese(seed_original, tmp_path):
    text = tmp_path / "csv.xlsx"
    text.write_text("项目,金额\n办公费,38.59\n", encoding="utf-8")
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(open(seed_original, "rb").read()[:3000])
    encrypted = tmp_path / "encrypted.xlsx"  # an OLE2 container with an EncryptionInfo stream
    encrypted.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "EncryptionInfo".encode("utf-16-le")
                          + b"\0" * 2048)
    cases = {str(text): "", str(truncated): "", str(encrypted): "加密", str(tmp_path / "missing.xlsx"): "不存在"}
    for path, word in cases.items():
        for fast in (False, True):
            with pytest.raises(ReadError) as e:
                read_workbook(path, fast=fast)
            assert word in e.value.reason and e.value.path == path
            assert re.search(r"[\u4e00-\u9fff]", e.value.reason)  # the reason is Chinese


def test_fast_read_is_lean(seed_example, seed_original):
    """Batch goal: a fast read close to a bare python-calamine read of every sheet (see docs/readers.md)."""
    import time

    import python_calamine

    def bare(path):
        wb = python_calamine.CalamineWorkbook.from_path(path)
        for n in wb.sheet_names:
            wb.get_sheet_by_name(n).to_python()

    for path in (seed_example, seed_original):
        best_bare = best_fast = 1e9
        for _ in range(30):  # interleaved, best of, CPU time: robust to a busy machine
            t = time.process_time()
            bare(path)
            best_bare = min(best_bare, time.process_time() - t)
            t = time.process_time()
            read_workbook(path, fast=True)
            best_fast = min(best_fast, time.process_time() - t)
        # measured 2.1x (names) and 3.5x (labels) of the bare read, ~2.3 ms a file
        assert best_fast < 0.015, best_fast
        assert best_fast / best_bare < 8, (best_fast, best_bare)


def test_preflight_bytes_and_zip_are_shared_with_the_reader(seed_example, seed_original, monkeypatch):
    """read_workbook reads the file once: the pre-flight's bytes and zip serve the calamine read, and
    gives the same grid and names as a reader that opens the file itself."""
    from perfeval_xl import safety
    from perfeval_xl.readers import _names_from_zip

    for path in (seed_example, seed_original):
        with safety.preflight_open(path) as checked:
            assert checked.fmt == safety.preflight(path) == "xlsx"
            assert checked.data == open(path, "rb").read() and checked.zf is not None
            grid, names, reader = read_grid(path, fast=True, checked=checked)
        alone = read_grid(path, fast=True, fmt="xlsx")
        assert (names, reader) == (alone[1], alone[2])
        assert {n: s.rows for n, s in grid.sheets.items()} == {n: s.rows for n, s in alone[0].sheets.items()}
        # the names remembered by the stored bytes of xl/workbook.xml equal a fresh parse
        data = checked.data
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            assert _names_from_zip(data, z) == _names_from_zip(data, z) == names
    opened = []
    real_open = open

    def counting_open(file, *a, **kw):
        if isinstance(file, (str, os.PathLike)) and os.fspath(file) == seed_example:
            opened.append(file)
        return real_open(file, *a, **kw)

    monkeypatch.setattr("builtins.open", counting_open)
    read_workbook(seed_example, fast=True)
    assert len(opened) == 1  # pre-flight and reader share one read
