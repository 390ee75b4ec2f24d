"""The bundled examples: the seed typed into our template, and the seed as a department sends it."""
from __future__ import annotations

import datetime as dt
import os

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from perfeval_xl import layout as L
from perfeval_xl import seed
from perfeval_xl.examples import (ORIG_BASIC, ORIG_SELF, ORIG_SG, SEED_EXAMPLE, SEED_ORIGINAL, build_original,
                                  project_rows, seed_layout)
from perfeval_xl.template import canonical_content, zip_parts

LAY = seed_layout()


def _cell(wb, key):
    (sheet, ref), *_ = list(wb.defined_names[L.NAME_PREFIX + key].destinations)
    return wb[sheet][ref.replace("$", "")]


@pytest.fixture(scope="module")
def ex(seed_example):
    return load_workbook(seed_example)


@pytest.fixture(scope="module")
def ex_cached(seed_example):
    return load_workbook(seed_example, data_only=True)


@pytest.fixture(scope="module")
def orig(seed_original):
    return load_workbook(seed_original)


# ---- the template example -----------------------------------------------------------
def test_committed_example_equals_a_fresh_build(seed_example, recalculated_seed):
    assert os.path.basename(recalculated_seed) == SEED_EXAMPLE  # non-ASCII names survive recalculation
    committed, fresh = canonical_content(seed_example), canonical_content(recalculated_seed)
    assert committed["sheets"] == fresh["sheets"]
    assert committed["names"] == fresh["names"]
    assert committed["merges"] == fresh["merges"]
    for sheet in fresh["cells"]:
        assert committed["cells"][sheet] == fresh["cells"][sheet], \
            f"{sheet} differs: run python -m perfeval_xl.examples"


def test_example_names_follow_the_seed_layout(ex):
    assert ex.sheetnames == list(L.FORM_SHEETS)
    assert project_rows() == len(seed.PROJECTS) + 3
    for spec in LAY.fields.values():
        c = _cell(ex, spec.key)
        assert (c.parent.title, c.coordinate) == (spec.sheet, spec.cell)
    (sheet, ref), = list(ex.defined_names["pe_projects"].destinations)
    assert ref == LAY.lists["projects"].ref()
    (sheet, ref), = list(ex.defined_names["pe_indicators"].destinations)
    assert ref == "$B$13:$I$21"
    assert ex.defined_names[L.VERSION_NAME].attr_text == f'"{L.TEMPLATE_VERSION}"'


def test_example_typed_like_a_clerk(ex):
    assert _cell(ex, "staff_quota").value == 116 and _cell(ex, "staff_quota").data_type == "n"  # "116　"
    assert _cell(ex, "bd_car_purchase_prev").value == pytest.approx(19.57)  # "　19.57"
    assert _cell(ex, "bd_date").value == dt.datetime(2025, 4, 22)
    assert _cell(ex, "report_date").value == dt.datetime(2025, 4, 23)
    assert _cell(ex, "year").value == 2024
    assert _cell(ex, "bd_phone").value == "15273788388"
    for key in ("public_total_actual", "frugality", "procurement_budget", "bd_signature", "income_gov_fund"):
        assert _cell(ex, key).value is None, key  # printed blank or "　" stays empty
    assert _cell(ex, "has_gov_fund_exp").value == "无"


def test_example_lists(ex):
    ws = ex[L.SHEET_BASIC]
    p = LAY.lists["projects"]
    names = [ws[f"A{r}"].value for r in range(p.first_row, p.last_row + 1)]
    assert names[:17] == [n.strip() for n, *_ in seed.PROJECTS] and names[17:] == [None] * 3
    assert ws[f"C{p.first_row}"].value == pytest.approx(57.92)  # "57.92　"
    assert ws[f"B{p.first_row + 1}"].value is None  # "　"
    ind = LAY.lists["indicators"]
    ws = ex[L.SHEET_SELF]
    for i, row in enumerate(seed.INDICATORS):
        r = ind.first_row + i
        for col, printed in (("E", row[3]), ("F", row[4])):
            c = ws[f"{col}{r}"]
            if printed.strip(" \u3000"):
                assert c.value == printed and c.data_type == "s", (col, r)  # "　=24", "=100%" as text
    assert ws["G13"].value == 10 and ws["H16"].value == pytest.approx(9.6)
    assert ws["G17"].value is None  # 不适用 carries no points
    assert ws["I16"].value == "更加科学的做好预算工作"
    assert ws["B13"].value == "产出指标（50分）" and ws["C17"].value == "经济效益指标"


def test_example_derived_cells_are_formulas_with_cached_values(ex, ex_cached):
    for spec in LAY.fields.values():
        if spec.is_input:
            continue
        assert _cell(ex, spec.key).data_type == "f", spec.key
        cached = _cell(ex_cached, spec.key).value
        if spec.key.startswith("building_"):  # no building reported: the guarded rate is ""
            assert cached in ("", None)
            continue
        assert cached is not None and not (isinstance(cached, str) and cached.startswith("#")), spec.key


def test_example_readable_by_calamine_with_cached_values(seed_example):
    wb = CalamineWorkbook.from_path(seed_example)
    rows = wb.get_sheet_by_name(L.SHEET_SELF).to_python()
    g4 = rows[3][6]  # 执行率
    assert g4 == pytest.approx(3527.66 / 3676.31)
    t = LAY.fields["total_score"].cell
    assert rows[int(t[1:]) - 1][7] == pytest.approx(99.2)


def test_example_keeps_guard_rails_after_libreoffice(ex):
    for ws in ex.worksheets:
        assert ws.protection.sheet and not ws.protection.password, ws.title
    assert len(ex[L.SHEET_SELF].data_validations.dataValidation) > 10
    assert len(ex[L.SHEET_BASIC].conditional_formatting) >= 3
    assert ex[L.SHEET_SELF]["E13"].number_format == "@"


def test_example_prints_as_the_seed_did(ex, ex_cached):
    """The seed's 绩效自评表 on one landscape page (its 总分 row and footer printed alone on page 2), and its
    grade shown: 优 for 99.20. LibreOffice keeps the print set-up on its round trip."""
    ps = ex[L.SHEET_SELF].page_setup
    assert (ps.orientation, ps.fitToWidth, ps.fitToHeight) == ("landscape", 1, 1)
    assert ex[L.SHEET_SELF].sheet_properties.pageSetUpPr.fitToPage
    assert _cell(ex_cached, "grade").value == "优" and _cell(ex_cached, "total_score").value == pytest.approx(99.2)
    assert ex[L.SHEET_GUIDE].page_setup.orientation == "portrait"


# ---- the 原表 -------------------------------------------------------------------------
def test_committed_original_equals_build(tmp_path, seed_original):
    built = build_original(str(tmp_path / SEED_ORIGINAL))
    a, b = zip_parts(seed_original), zip_parts(built)
    assert [n for n in a if a[n] != b.get(n)] == [], "run python -m perfeval_xl.examples"


def test_original_has_no_names_no_formulas(orig):
    assert orig.sheetnames == [ORIG_SG, ORIG_BASIC, ORIG_SELF]
    assert len(orig.defined_names) == 0
    formulas = [(ws.title, c.coordinate) for ws in orig.worksheets for row in ws.iter_rows() for c in row
                if c.data_type == "f"]
    assert formulas == []


def test_original_three_public_as_printed(orig):
    ws = orig[ORIG_SG]
    assert ws["G2"].value == "增减%"
    assert [ws[f"G{r}"].value for r in range(3, 7)] == [-88.11, 133.82, -61.41, 37.5]
    assert [c.value for c in ws[6]] == ["合计", 143.61, 153.96, -10.35, 104.44, 39.17, 37.5]
    assert ws["B2"].value == "2024年\n\n决算数"


def test_original_basic_data_as_printed(orig):
    ws = orig[ORIG_BASIC]
    assert [c.value for c in ws[3]][:4] == [None, "116\u3000", "116\u3000", "\u3000100%"]
    col_a = [c.value for c in ws["A"]]
    i = col_a.index("项目支出：")
    assert [c.value for c in ws[i + 1]][:4] == ["项目支出：", "861.54\u3000", "734.53\u3000", "\u3000734.53"]
    assert col_a[i + 1:i + 18] == [p[0] for p in seed.PROJECTS]
    assert col_a[i + 18:i + 20] == ["3、市级专项资金（一个专项一行）", "……"]
    assert "   1、公务用车购置和维护经费" in col_a and "部门基本支出预算调整 " in col_a
    assert any(isinstance(v, str) and v.startswith("楼堂馆所控制情况\n（2023年完工项目）") for v in col_a)
    assert any(isinstance(v, str) and v.startswith("填表人： 周旭  填报日期：2025年4月22日") for v in col_a)


def test_original_self_evaluation_as_printed(orig):
    ws = orig[ORIG_SELF]
    assert ws["A2"].value == "预算部门、单位名称" and ws["C2"].value == "益阳市人民政府办公室\u3000"
    assert ws["A3"].value == "年度预\n\n算申请\n（万元）"
    assert [c.value for c in ws[4]][1:8] == ["年度资金总额", 2331.68, 3676.31, 3527.66, 10, 0.9596, 9.6]
    assert ws["B6"].value == "  其中：  一般公共预算：3676.31"
    assert ws["E6"].value == "其中：基本支出：2793.13" and ws["E7"].value == "项目支出：734.53"
    assert ws["E13"].value == "\u3000=24"
    assert ws["E14"].value == "=100%" and ws["E14"].data_type == "s"
    assert ws["F18"].value == "\u300099.06%"
    assert ws["C17"].value == "经济效\n\n益指标"
    assert ws["H22"].value == "\u300099.2" and ws["G22"].value == 100
    merges = {str(r) for r in ws.merged_cells.ranges}
    assert {"B13:B16", "B17:B20", "A12:A21", "A3:A9", "A22:F22"} <= merges
    assert ws["B13"].value == "产出指标\n\n(50分)"


# ---- edited copies, recalculated together -------------------------------------------------
def test_division_guards_and_live_checks(make_example, recalc_many, seed_original):
    zeros = make_example("seed", {"funds_budget": 0, "staff_quota": 0, "sg_abroad_prev": 0, "sg_reception_prev": 0,
                                  "building_approved_area": 0, "building_budget_investment": 0})
    texts = make_example("seed", {"funds_budget": "'3,676.31", "staff_quota": "'一百一十六"})
    over = make_example("seed", {"funds_actual": 4000, ("绩效自评表", "H13"): 11, ("绩效自评表", "G13"): 12})
    zeros, texts, over = recalc_many([zeros, texts, over])
    z = load_workbook(zeros, data_only=True)
    errors = [(ws.title, c.coordinate, c.value) for ws in z.worksheets for row in ws.iter_rows() for c in row
              if isinstance(c.value, str) and c.value.startswith("#")]
    assert errors == []
    assert _cell(z, "execution_rate").value in ("", None) and _cell(z, "execution_score").value in ("", None)
    assert _cell(z, "sg_abroad_pct").value == "—"
    assert _cell(z, "total_score").value == pytest.approx(99.2 - 9.6)  # N() keeps the sum alive
    t = load_workbook(texts, data_only=True)
    assert _cell(t, "staff_rate").value in ("", None)  # N(text) = 0: guarded, no #VALUE!
    o = load_workbook(over, data_only=True)
    assert _cell(o, "execution_rate").value > 1
    assert _cell(o, "execution_score").value == pytest.approx(10)  # capped at 分值
    assert _cell(o, "points_total").value == pytest.approx(102)
    with pytest.raises(KeyError):
        make_example(seed_original, {"funds_budget": 1})  # the 原表 has no names
