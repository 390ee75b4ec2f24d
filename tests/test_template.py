"""The template: drawn from the layout, guarded for clerks, computing what the seed printed."""
from __future__ import annotations

import os
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries

from perfeval_xl import layout as L
from perfeval_xl import recalc, seed
from perfeval_xl.template import TEMPLATE_PATH, build_template, display_text, text_lines, zip_parts

TOL = Decimal("0.01")


@pytest.fixture(scope="module")
def tpl():
    return load_workbook(TEMPLATE_PATH)


def _covers(sqref, coord) -> bool:
    m = re.fullmatch(r"([A-Z]+)(\d+)", coord)
    for rng in str(sqref).split():
        c1, r1, c2, r2 = range_boundaries(rng if ":" in rng else f"{rng}:{rng}")
        from openpyxl.utils import column_index_from_string

        c = column_index_from_string(m.group(1))
        r = int(m.group(2))
        if c1 <= c <= c2 and r1 <= r <= r2:
            return True
    return False


def _validations_at(ws, coord):
    return [dv for dv in ws.data_validations.dataValidation if _covers(dv.sqref, coord)]


def _by_name(wb, name):
    (sheet, ref), *_ = list(wb.defined_names[name].destinations)
    return sheet, ref


# ---- structure ------------------------------------------------------------------
def test_sheets_in_order(tpl):
    assert tpl.sheetnames == list(L.FORM_SHEETS)


def test_every_field_has_its_defined_name(tpl):
    lay = L.TEMPLATE_LAYOUT
    for spec in lay.fields.values():
        sheet, ref = _by_name(tpl, spec.name)
        assert (sheet, ref.replace("$", "")) == (spec.sheet, spec.cell), spec.key
    for lst in lay.lists.values():
        sheet, ref = _by_name(tpl, lst.name)
        assert sheet == lst.sheet and ref == lst.ref()
    assert tpl.defined_names[L.VERSION_NAME].attr_text == f'"{L.TEMPLATE_VERSION}"'
    assert len(tpl.defined_names) == len(lay.fields) + len(lay.lists) + 1


def test_formulas_locked_inputs_unlocked_and_written(tpl):
    for spec in L.TEMPLATE_LAYOUT.fields.values():
        c = tpl[spec.sheet][spec.cell]
        if spec.is_input:
            assert c.protection.locked is False, spec.key
            assert c.value is None, spec.key  # the blank template is blank
        else:
            assert c.protection.locked is True, spec.key
            assert c.data_type == "f" and c.value == spec.formula, spec.key
    p = L.TEMPLATE_LAYOUT.lists["projects"]
    for col in p.columns.values():
        assert tpl[p.sheet][f"{col}{p.first_row}"].protection.locked is False
        assert tpl[p.sheet][f"{col}{p.last_row}"].protection.locked is False


def test_labels_drawn(tpl):
    for lab in L.TEMPLATE_LAYOUT.labels:
        assert tpl[lab.sheet][lab.cell].value == lab.text, (lab.sheet, lab.cell)
        if lab.merge_to:
            assert f"{lab.cell}:{lab.merge_to}" in {str(r) for r in tpl[lab.sheet].merged_cells.ranges}


def test_sheets_protected_without_password_rows_can_grow(tpl):
    for ws in tpl.worksheets:
        p = ws.protection
        assert p.sheet is True, ws.title
        assert not p.password and not p.hashValue, ws.title
        if ws.title != L.SHEET_GUIDE:
            assert p.insertRows is False and p.formatRows is False  # False = allowed


def test_number_formats(tpl):
    lay = L.TEMPLATE_LAYOUT
    f = lay.fields
    assert tpl[L.SHEET_SG][f["sg_abroad_actual"].cell].number_format == "0.00"
    assert tpl[L.SHEET_SG][f["sg_total_pct"].cell].number_format == "0.00%"
    assert tpl[L.SHEET_BASIC][f["staff_quota"].cell].number_format == "0"
    assert tpl[L.SHEET_BASIC][f["bd_date"].cell].number_format == "yyyy-mm-dd"
    ind = lay.lists["indicators"]
    for attr in ("target", "actual"):
        col = ind.columns[attr]
        assert tpl[ind.sheet][f"{col}{ind.first_row}"].number_format == "@"  # "=24" stays text


def test_validations_on_every_input(tpl):
    lay = L.TEMPLATE_LAYOUT
    for spec in lay.fields.values():
        if not spec.is_input:
            continue
        dvs = _validations_at(tpl[spec.sheet], spec.cell)
        assert len(dvs) == 1, spec.key
        dv = dvs[0]
        assert dv.showInputMessage and dv.prompt, spec.key
        expected_type = {L.AMOUNT: "decimal", L.AREA: "decimal", L.SIGNED: "decimal", L.COUNT: "whole",
                         L.YEAR: "whole", L.DATE: "date", L.CHOICE: "list", L.PHONE: "textLength"}.get(spec.kind)
        assert dv.type == expected_type, spec.key
        if spec.kind == L.AMOUNT:
            assert dv.operator == "greaterThanOrEqual" and dv.formula1 == "0"
        if spec.kind == L.SIGNED:
            assert float(dv.formula1) < 0  # may be negative
    assert _validations_at(tpl[L.SHEET_SELF], "D4")[0].prompt.startswith("全年预算数为调整后预算")


def test_indicator_validations(tpl):
    ind = L.TEMPLATE_LAYOUT.lists["indicators"]
    ws = tpl[ind.sheet]
    r = ind.first_row + 1
    (l1,) = _validations_at(ws, f"B{r}")
    assert l1.type == "list" and all(c in l1.formula1 for c in L.LEVEL1_CHOICES)
    (l2,) = _validations_at(ws, f"C{r}")
    assert l2.type == "list" and all(c in l2.formula1 for c in L.LEVEL2_CHOICES)
    (pts,) = _validations_at(ws, f"G{r}")
    assert (pts.type, pts.formula1, pts.formula2) == ("decimal", "0", "100")
    (score,) = _validations_at(ws, f"H{ind.last_row}")
    assert score.type == "custom" and f"<=N(G{ind.first_row})" in score.formula1
    assert len(l1.formula1) <= 257  # Excel's limit for a literal list


def test_conditional_formats(tpl):
    def rules(ws):
        return {str(cf.sqref): [r.formula[0] for r in cf.rules] for cf in ws.conditional_formatting}

    sg = rules(tpl[L.SHEET_SG])
    assert sg["B4:B7"] == ["AND(ISNUMBER($B4),ISNUMBER($C4),$B4>$C4)"]
    basic = rules(tpl[L.SHEET_BASIC])
    p = L.TEMPLATE_LAYOUT.lists["projects"]
    covered = [k for k in basic if k.startswith("D") and _covers(k, f"D{p.first_row + 3}")]
    assert covered and ">$C" in basic[covered[0]][0]
    assert any(_covers(k, "D6") for k in basic)  # 三公经费 row of table (b)
    self_ = rules(tpl[L.SHEET_SELF])
    assert self_["G4"] == ["AND(ISNUMBER($G$4),$G$4>1)"]
    ind = L.TEMPLATE_LAYOUT.lists["indicators"]
    assert f"H{ind.first_row}:H{ind.last_row}" in self_
    total = L.TEMPLATE_LAYOUT.fields["points_total"].cell
    assert "<>100" in self_[total][0]


def test_print_setup(tpl):
    for ws in tpl.worksheets:
        ps = ws.page_setup
        # 绩效自评表: as few pages tall as stay readable (two for the blank 23 indicator rows), so that the
        # 总分 row and the footer never print alone on a last page; the others run on as long as they need.
        pages = 2 if ws.title == L.SHEET_SELF else 0
        assert int(ps.paperSize) == 9 and ps.fitToWidth == 1 and ps.fitToHeight == pages, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert tpl[L.SHEET_SELF].page_setup.orientation == "landscape"
    assert tpl[L.SHEET_GUIDE].page_setup.orientation == "portrait"
    assert tpl[L.SHEET_SG].print_title_rows == "$1:$3"


def test_guide_sheet_fits_portrait_a4_and_its_rows_hold_their_text(tpl):
    """填报说明 was 120 wide: wider than portrait A4, and a one-column sheet is not scaled to fit."""
    ws = tpl[L.SHEET_GUIDE]
    width = ws.column_dimensions["A"].width
    printable_pt = (595 - 72 * (ws.page_margins.left + ws.page_margins.right))
    assert (width * 7 + 5) * 0.75 <= printable_pt  # Excel's column width in points at 100 %
    for (cell,) in ws.iter_rows(min_col=1, max_col=1):
        if cell.value is None or cell.row == 1:
            continue
        assert cell.alignment.wrap_text, cell.coordinate
        lines = text_lines(cell.value, width, bold=bool(cell.font.b))
        assert ws.row_dimensions[cell.row].height >= lines * 14, (cell.coordinate, lines)


def test_self_evaluation_labels_have_room(tpl):
    """绩效自评表 column A: "年度预算申请（万元）" breaks before "（", "填表人：" stays on one line and the
    long footer label shrinks instead of wrapping; header rows are as tall as their wrapped text."""
    ws = tpl[L.SHEET_SELF]
    a = ws.column_dimensions["A"].width
    assert text_lines("年度预算申请", a, bold=True) == 1 and text_lines("年度预算申请（", a, bold=True) == 2
    assert text_lines("填表人：", a) == 1 and text_lines("年度总体目标", a, bold=True) == 1
    b = ws.column_dimensions["B"].width
    assert all(text_lines(h, b) == 1 for h in L.LEVEL1_CHOICES)  # 一级 headings: no lone "）"
    footer = {r for k, spec in L.TEMPLATE_LAYOUT.fields.items() if k.startswith("se_")
              for r in [int(re.search(r"\d+", spec.cell).group())]}
    for r in footer:
        c = ws[f"A{r}"]
        assert c.alignment.shrink_to_fit and not c.alignment.wrap_text, c.value
    # every single-cell header, formula headers such as "2024年实际在职人数" included, gets the rows it wraps to
    c3 = next(lab for lab in L.TEMPLATE_LAYOUT.labels if lab.sheet == L.SHEET_BASIC and lab.cell == "C3")
    assert display_text(c3.text) == "0000年实际在职人数"
    for lab in L.TEMPLATE_LAYOUT.labels:
        if lab.role != "header" or lab.merge_to:
            continue
        sheet = tpl[lab.sheet]
        col = re.match(r"[A-Z]+", lab.cell).group()
        shown = display_text(lab.text)  # a formula header shows "2024年…" once the year is typed
        lines = text_lines(shown, sheet.column_dimensions[col].width, bold=True)
        height = sheet.row_dimensions[int(lab.cell[len(col):])].height or 15
        assert height >= lines * 15, (lab.sheet, lab.cell, lines, height)


def test_indicator_headings_merged_down(tpl):
    lay = L.TEMPLATE_LAYOUT
    merges = {str(r) for r in tpl[L.SHEET_SELF].merged_cells.ranges}
    r = lay.lists["indicators"].first_row
    for level1, groups in lay.indicator_groups:
        top = r
        for level2, n in groups:
            assert tpl[L.SHEET_SELF][f"C{r}"].value == level2
            if n > 1:
                assert f"C{r}:C{r + n - 1}" in merges
            r += n
        assert f"B{top}:B{r - 1}" in merges and tpl[L.SHEET_SELF][f"B{top}"].value == level1


def test_guide_sheet_explains_filling(tpl):
    text = "\n".join(str(c.value) for c in tpl[L.SHEET_GUIDE]["A"] if c.value)
    for phrase in ("执行率 = 全年执行数 / 全年预算数", "最后一行之上", "插入", "万元", "优 ≥ 90", "不超过分值"):
        assert phrase in text
    assert L.TEMPLATE_LAYOUT.fields["execution_score"].cell in text


# ---- determinism ------------------------------------------------------------------
def test_committed_template_equals_build(tmp_path):
    built = build_template(str(tmp_path / "t.xlsx"))
    committed, fresh = zip_parts(TEMPLATE_PATH), zip_parts(built)
    assert sorted(committed) == sorted(fresh)
    changed = [n for n in committed if committed[n] != fresh[n]]
    assert not changed, f"committed template is stale in {changed}: run python -m perfeval_xl.template"
    with open(TEMPLATE_PATH, "rb") as a, open(built, "rb") as b:
        assert a.read() == b.read()


def test_values_prefill_and_text_that_looks_like_a_formula(tmp_path):
    lay = L.build_layout(project_rows=3, indicator_groups=seed.INDICATOR_GROUPS)
    path = build_template(str(tmp_path / "v.xlsx"), lay, {
        "unit_name": "测试单位", "funds_budget": Decimal("100.50"),
        "projects": [("1、项目甲", 1, 2, 3)],
        "indicators": [{"name": "值班", "target": "=24", "actual": "=24", "points": 10, "score": 10}],
    })
    wb = load_workbook(path)
    assert wb[L.SHEET_SG]["B2"].value == "测试单位"
    assert wb[L.SHEET_SELF]["D4"].value == 100.5
    assert [c.value for c in wb[L.SHEET_BASIC][13][:4]] == ["1、项目甲", 1, 2, 3]
    e13 = wb[L.SHEET_SELF]["E13"]
    assert e13.value == "=24" and e13.data_type == "s"
    assert wb.defined_names["pe_projects"].attr_text == f"'{L.SHEET_BASIC}'!$A$13:$D$15"


# ---- LibreOffice: the formulas compute what the seed printed -----------------------------
def _printed(text: str) -> tuple[Decimal, bool]:
    t = text.strip(" \u3000")
    if t.endswith("%"):
        return Decimal(t[:-1]) / 100, True
    return Decimal(t), False


@pytest.fixture(scope="module")
def seed_cached(recalculated_seed):
    wb = load_workbook(recalculated_seed, data_only=True)

    def get(key):
        sheet, ref = _by_name(wb, L.NAME_PREFIX + key)
        return wb[sheet][ref.replace("$", "")].value

    return get


@pytest.mark.parametrize("key", sorted(seed.PRINTED_DERIVED))
def test_template_formulas_reproduce_the_seeds_printed_figures(seed_cached, key):
    expected, pct = _printed(seed.PRINTED_DERIVED[key])
    got = seed_cached(key)
    assert isinstance(got, (int, float)), (key, got)
    # percentages: printed to 2 decimals of a percent, so the tolerance is 0.01 percentage points
    tol = TOL / 100 if pct else TOL
    assert abs(Decimal(str(got)) - expected) <= tol, (key, got, expected)


def test_seed_scores_and_grade(seed_cached):
    assert round(seed_cached("execution_rate"), 4) == 0.9596
    assert seed_cached("execution_score") == pytest.approx(9.6)
    assert seed_cached("total_score") == pytest.approx(99.2)
    assert seed_cached("points_total") == pytest.approx(100)
    assert seed_cached("grade") == "优"


def test_blank_template_recalculates_without_error_values(recalculated_template):
    wb = load_workbook(recalculated_template, data_only=True)
    errors = [(ws.title, c.coordinate, c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
              if isinstance(c.value, str) and c.value.startswith("#")]
    assert errors == []
    f = L.TEMPLATE_LAYOUT.fields
    assert wb[L.SHEET_SG][f["sg_total_pct"].cell].value == "—"  # 上年决算 = 0
    assert wb[L.SHEET_SELF][f["execution_rate"].cell].value in ("", None)
    assert wb[L.SHEET_SG]["A1"].value.endswith("度部门“三公”经费情况表")


def test_blank_template_shows_no_grade_and_no_alert_until_something_is_scored(tpl, make_example, recalc_many):
    """The blank template showed 等级 差 and a red 分值合计 10.00 before anything was typed. The alert's own
    formula is evaluated by LibreOffice in a spare cell of the same sheet (absolute references)."""
    f = L.TEMPLATE_LAYOUT.fields
    ind = L.TEMPLATE_LAYOUT.lists["indicators"]
    total = f["points_total"].cell
    (alert,) = [r.formula[0] for cf in tpl[L.SHEET_SELF].conditional_formatting if str(cf.sqref) == total
                for r in cf.rules]
    probe = (L.SHEET_SELF, "K1")
    g, h = f"G{ind.first_row}", f"H{ind.first_row}"
    blank = make_example("template", {probe: f"={alert}"})
    points = make_example("template", {probe: f"={alert}", (L.SHEET_SELF, g): 5})
    scored = make_example("template", {probe: f"={alert}", (L.SHEET_SELF, g): 5, (L.SHEET_SELF, h): 4})
    full = make_example("template", {probe: f"={alert}", (L.SHEET_SELF, "D4"): 100, (L.SHEET_SELF, "E4"): 100,
                                     (L.SHEET_SELF, g): 90, (L.SHEET_SELF, h): 85})
    results = []
    for path in recalc_many([blank, points, scored, full]):
        ws = load_workbook(path, data_only=True)[L.SHEET_SELF]
        results.append((ws[probe[1]].value, ws[f["grade"].cell].value))
    assert results[0][0] is False and results[0][1] in ("", None)  # nothing typed: no colour, no grade
    assert results[1][0] is True and results[1][1] in ("", None)  # 分值 typed, total 15: red; nothing scored
    assert results[2][1] == "差"  # 4 points scored out of 15
    assert results[3] == (False, "优")  # 10 + 90 = 100 points; 10 + 85 = 95 scored


def test_libreoffice_keeps_names_protection_validation_and_formats(recalculated_template):
    raw, done = load_workbook(TEMPLATE_PATH), load_workbook(recalculated_template)
    assert dict((n, d.attr_text.replace("'", "")) for n, d in raw.defined_names.items()) == \
        dict((n, d.attr_text.replace("'", "")) for n, d in done.defined_names.items())
    for a in raw.worksheets:
        b = done[a.title]
        assert b.protection.sheet and not b.protection.password
        assert (b.protection.insertRows, b.protection.formatRows) == (a.protection.insertRows, a.protection.formatRows)

        def dvs(ws):
            # LibreOffice writes formula1="0" on input-message-only validations: ignore it there
            return sorted((str(d.sqref), d.type or "", (d.formula1 or "") if d.type else "", d.prompt or "")
                          for d in ws.data_validations.dataValidation)

        assert dvs(a) == dvs(b)

        def cfs(ws):
            return sorted((str(c.sqref), r.formula[0]) for c in ws.conditional_formatting for r in c.rules)

        assert cfs(a) == cfs(b)
        assert b.print_title_rows == a.print_title_rows


# ---- recalc ---------------------------------------------------------------------------
def test_recalc_says_clearly_when_soffice_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("PERFEVAL_SOFFICE", str(tmp_path / "no-such-soffice"))
    with pytest.raises(recalc.RecalcError, match="未找到 LibreOffice"):
        recalc.recalculate([TEMPLATE_PATH], str(tmp_path))


def test_recalc_never_overwrites_its_input(tmp_path):
    with pytest.raises(recalc.RecalcError, match="覆盖输入"):
        recalc.recalculate([TEMPLATE_PATH], os.path.dirname(TEMPLATE_PATH))
    with pytest.raises(recalc.RecalcError, match="不存在"):
        recalc.recalculate([str(tmp_path / "missing.xlsx")], str(tmp_path / "out"))
    assert recalc.recalculate([], str(tmp_path)) == []


def test_lists_grow_when_a_clerk_inserts_rows_inside_them(seed_example, tmp_path, soffice):
    """Insert a row above the last row of each list in LibreOffice: names, sums, checks follow."""
    from perfeval_xl.examples import seed_layout

    lay = seed_layout()
    p, ind = lay.lists["projects"], lay.lists["indicators"]
    sheets = list(L.FORM_SHEETS)
    out = recalc.insert_rows(seed_example, str(tmp_path / "grown.xlsx"), [
        ("row", sheets.index(p.sheet), p.last_row), ("set", sheets.index(p.sheet), f"C{p.last_row}", 100),
        ("row", sheets.index(ind.sheet), ind.last_row), ("set", sheets.index(ind.sheet), f"G{ind.last_row}", 5),
    ])
    wb, cached = load_workbook(out), load_workbook(out, data_only=True)
    assert _by_name(wb, "pe_projects")[1] == f"$A${p.first_row}:$D${p.last_row + 1}"
    assert _by_name(wb, "pe_indicators")[1] == f"$B${ind.first_row}:$I${ind.last_row + 1}"
    sheet, ref = _by_name(cached, "pe_bd_projects_total_budget")
    assert cached[sheet][ref.replace("$", "")].value == pytest.approx(734.53 + 100)
    sheet, ref = _by_name(cached, "pe_points_total")
    assert ref == f"$G${ind.last_row + 2}" and cached[sheet][ref.replace("$", "")].value == pytest.approx(105)
    ws = wb[p.sheet]
    assert ws.protection.sheet
    new = f"C{p.last_row}"
    assert _validations_at(ws, new) and any(_covers(cf.sqref, f"D{p.last_row}") for cf in ws.conditional_formatting)


def test_more_list_rows_than_the_layout_holds_is_refused(tmp_path):
    lay = L.build_layout(project_rows=2)
    with pytest.raises(ValueError, match="projects"):
        build_template(str(tmp_path / "x.xlsx"), lay, {"projects": [("a",), ("b",), ("c",)]})


# ---- printing: LibreOffice's own PDF of the template and of the seed example ------------------------
def _to_pdf(soffice: str, paths: list[str], outdir) -> list[str]:
    """Print ``paths`` to PDF in one LibreOffice call (throwaway profile, ASCII names)."""
    import shutil
    import subprocess

    outdir = str(outdir)
    inputs = []
    for i, p in enumerate(paths):
        inputs.append(os.path.join(outdir, f"p{i}.xlsx"))
        shutil.copyfile(p, inputs[-1])
    env = dict(os.environ, HOME=outdir)
    subprocess.run([soffice, f"-env:UserInstallation=file://{outdir}/profile", "--headless", "--norestore",
                    "--convert-to", "pdf", "--outdir", outdir, *inputs], capture_output=True, timeout=300, env=env)
    pdfs = [p[:-5] + ".pdf" for p in inputs]
    assert all(os.path.isfile(p) for p in pdfs), "LibreOffice did not print"
    return pdfs


def _pdf_pages(path: str) -> list[tuple[float, list[float]]]:
    """Each page of a LibreOffice PDF: its width and the x of every text run drawn on it."""
    import zlib

    data = open(path, "rb").read()
    objs = {int(m.group(1)): m.group(2) for m in re.finditer(rb"(\d+) 0 obj(.*?)endobj", data, re.S)}
    pages = []
    for _, body in sorted(objs.items()):
        if not re.search(rb"/Type\s*/Page\b(?!s)", body):
            continue
        width = float(re.search(rb"/MediaBox\s*\[([^\]]*)\]", body).group(1).split()[2])
        xs: list[float] = []
        refs = re.search(rb"/Contents\s*(\[[^\]]*\]|\d+ 0 R)", body).group(1)
        for ref in re.findall(rb"(\d+) 0 R", refs):
            stream = re.search(rb"stream\r?\n(.*?)\r?\nendstream", objs[int(ref)], re.S).group(1)
            text = zlib.decompress(stream) if b"FlateDecode" in objs[int(ref)] else stream
            xs += [float(m.group(1)) for m in re.finditer(rb"(-?[\d.]+) -?[\d.]+ (?:Td|Tm)\b", text)]
        pages.append((width, xs))
    return pages


def _only_sheet(src: str, sheet: str, dest: str) -> str:
    wb = load_workbook(src)
    for ws in wb.worksheets:
        ws.sheet_state = "visible" if ws.title == sheet else "hidden"  # hidden sheets are not printed
    wb.active = wb.sheetnames.index(sheet)
    wb.save(dest)
    return dest


@pytest.fixture(scope="module")
def printed(soffice, seed_example, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("print")
    paths = [TEMPLATE_PATH, seed_example, _only_sheet(seed_example, L.SHEET_SELF, str(tmp / "seed_self.xlsx"))]
    return dict(zip(("template", "seed", "seed_self"), (_pdf_pages(p) for p in _to_pdf(soffice, paths, tmp))))


def test_nothing_prints_off_the_page(printed):
    """The 填报说明 sheet printed every line cut off on both sides (its text ran off the paper)."""
    for name in ("template", "seed"):
        for i, (width, xs) in enumerate(printed[name], start=1):
            assert xs, (name, i)
            assert 0 <= min(xs) and max(xs) < width, (name, i, min(xs), max(xs), width)


def test_seed_self_evaluation_prints_on_one_page(printed):
    """The seed's 总分 row and footer printed alone on a second page."""
    assert len(printed["seed_self"]) == 1
