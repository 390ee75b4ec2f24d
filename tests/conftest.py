"""Shared fixtures: the bundled examples, LibreOffice recalculation, and a factory of edited copies.

LibreOffice start-up dominates (~1-2 s a call), so recalculation is batched: build every
edited copy first, then pass them all to ``recalc_many`` in one call.

    def test_something(make_example, recalc_many, named_value):
        a = make_example("seed", {"funds_budget": 0})
        b = make_example("seed", {("绩效自评表", "H13"): 11})
        a, b = recalc_many([a, b])
        assert named_value(a, "execution_rate") in ("", None)
"""
from __future__ import annotations

import itertools
import os
import shutil
import tempfile

import pytest

# The record of what perfeval wrote (perfeval_xl/ledger.py) lives in the user's state directory: tests keep
# their own, so that they neither read nor grow the developer's.
os.environ["PERFEVAL_STATE_DIR"] = tempfile.mkdtemp(prefix="perfeval_test_state_")

from perfeval_xl import layout as L
from perfeval_xl.examples import EXAMPLES_DIR, SEED_EXAMPLE, SEED_ORIGINAL, build_seed_example
from perfeval_xl.recalc import COMPONENTS, find_soffice, has_component, recalculate
from perfeval_xl.template import TEMPLATE_PATH, build_template

EXAMPLE_ALIASES = {
    "seed": os.path.join(EXAMPLES_DIR, SEED_EXAMPLE),
    "example": os.path.join(EXAMPLES_DIR, SEED_EXAMPLE),
    "original": os.path.join(EXAMPLES_DIR, SEED_ORIGINAL),
    "原表": os.path.join(EXAMPLES_DIR, SEED_ORIGINAL),
    "template": TEMPLATE_PATH,
}


@pytest.fixture(scope="session")
def seed_example() -> str:
    """The seed in our template (committed, with cached values saved by LibreOffice). Read only."""
    return EXAMPLE_ALIASES["seed"]


@pytest.fixture(scope="session")
def seed_original() -> str:
    """The seed as a department sends it: official layout, no defined names, no formulas. Read only."""
    return EXAMPLE_ALIASES["original"]


@pytest.fixture(scope="session")
def template_path() -> str:
    """The committed blank template (written by openpyxl: formulas, no cached values). Read only."""
    return TEMPLATE_PATH


def require_soffice(component: str = "calc") -> str:
    """Skip when LibreOffice, or the part of it a test needs ("calc" for workbooks, "writer" for .docx), is
    missing; fail instead when PERFEVAL_REQUIRE_SOFFICE is set (CI). The check is real: it looks for the
    part's library beside the soffice found (PERFEVAL_SOFFICE, else the usual places)."""
    found = find_soffice()
    if found is None:
        message = "LibreOffice (soffice) is not installed"
    elif not has_component(component, found):
        _, label, package = COMPONENTS[component]
        message = f"{label} is not installed beside {found} (package {package})"
    else:
        return found
    if os.environ.get("PERFEVAL_REQUIRE_SOFFICE"):
        pytest.fail(message)
    pytest.skip(message)


def require_tool(name: str, package: str) -> str:
    """Skip when a command-line tool is missing; fail instead when PERFEVAL_REQUIRE_SOFFICE is set (CI)."""
    found = shutil.which(name)
    if found is None:
        message = f"{name} ({package}) is not installed"
        if os.environ.get("PERFEVAL_REQUIRE_SOFFICE"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def pdftotext() -> str:
    """poppler's pdftotext (and pdfinfo beside it), to read what LibreOffice printed."""
    require_tool("pdfinfo", "poppler-utils")
    return require_tool("pdftotext", "poppler-utils")


@pytest.fixture(scope="session")
def soffice() -> str:
    """The soffice executable with Calc (skips, or fails under PERFEVAL_REQUIRE_SOFFICE, when missing)."""
    return require_soffice("calc")


@pytest.fixture(scope="session")
def soffice_writer() -> str:
    """The soffice executable with Writer, for .docx (skips, or fails under PERFEVAL_REQUIRE_SOFFICE)."""
    return require_soffice("writer")


@pytest.fixture(scope="session")
def recalc_many(tmp_path_factory, soffice):
    """recalc_many(paths) -> recalculated paths, in ONE LibreOffice call for the whole list."""
    base = tmp_path_factory.mktemp("recalc")
    counter = itertools.count()

    def run(paths):
        paths = [os.fspath(p) for p in paths]
        outdir = base / f"batch{next(counter)}"
        return recalculate(paths, str(outdir))

    return run


@pytest.fixture(scope="session")
def _fresh_recalculated(tmp_path_factory, recalc_many) -> dict[str, str]:
    """Build the seed example and the blank template afresh, recalculate both in one call."""
    src = tmp_path_factory.mktemp("fresh")
    seed_raw = build_seed_example(str(src / SEED_EXAMPLE))
    blank_raw = build_template(str(src / "blank_template.xlsx"))
    seed_done, blank_done = recalc_many([seed_raw, blank_raw])
    return {"seed": seed_done, "blank": blank_done, "seed_raw": seed_raw, "blank_raw": blank_raw}


@pytest.fixture(scope="session")
def recalculated_seed(_fresh_recalculated) -> str:
    """The template example built now and recalculated by LibreOffice (cached values present)."""
    return _fresh_recalculated["seed"]


@pytest.fixture(scope="session")
def recalculated_template(_fresh_recalculated) -> str:
    """The blank template recalculated by LibreOffice."""
    return _fresh_recalculated["blank"]


def _resolve_cell(wb, key):
    """(sheet, "B4") as given, or a field key / defined name resolved through the workbook's names."""
    if isinstance(key, tuple):
        return key
    name = key if key.startswith(L.NAME_PREFIX) else L.NAME_PREFIX + key
    if name not in wb.defined_names:
        raise KeyError(f"{name}: no such defined name in this workbook (use (sheet, cell) for the 原表)")
    (sheet, ref), *_ = list(wb.defined_names[name].destinations)
    return sheet, ref.replace("$", "").split(":")[0]


@pytest.fixture(scope="session")
def seed_form(seed_example):
    """The seed example read into the model (shared: tests must not change it)."""
    from perfeval_xl.readers import read_workbook

    return read_workbook(seed_example)


@pytest.fixture(scope="session")
def seed_report_docx(seed_form, tmp_path_factory) -> str:
    """The 自评报告 built from the seed example (tests that edit it work on a copy)."""
    from perfeval_xl.report.build import build_report

    return build_report(seed_form, str(tmp_path_factory.mktemp("report") / "自评报告.docx"))


def add_settings_sheet(src: str, dest, pairs) -> str:
    """A copy of src at dest (dest may be src) with a 设置 sheet: a header row, then one key/value row per pair."""
    from openpyxl import load_workbook

    wb = load_workbook(src)
    ws = wb.create_sheet(L.SHEET_SETTINGS)
    ws.append(["设置项", "值"])
    for k, v in pairs:
        ws.append([k, v])
    wb.save(dest)
    return os.fspath(dest)


def set_cells(path: str, cells: dict, dest: str | None = None) -> str:
    """Set cells of a workbook copy and save it. Values: numbers, dates, None (clear),
    "=..." (a formula), "'..." (text, the apostrophe dropped: "'=24" stores the text "=24")."""
    from openpyxl import load_workbook
    from openpyxl.cell.cell import MergedCell

    keep_vba = path.lower().endswith(".xlsm")
    wb = load_workbook(path, keep_vba=keep_vba)
    for key, value in (cells or {}).items():
        sheet, coord = _resolve_cell(wb, key)
        cell = wb[sheet][coord]
        if isinstance(cell, MergedCell):
            raise ValueError(f"{sheet}!{coord} lies inside a merged range; set its top-left cell")
        if isinstance(value, str) and value.startswith("'"):
            cell.value = value[1:]
            cell.data_type = "s"
        else:
            cell.value = value
    wb.save(dest or path)
    return dest or path


@pytest.fixture
def make_example(tmp_path, recalc_many):
    """make_example(name_or_path, {("sheet", "B4"): v, "field_key": v, ...}, recalc=False, name=None) -> path.

    name_or_path: "seed" / "original" (or "原表") / "template", a file name in examples/, or a path.
    The copy lives in tmp_path; without recalc it has no cached values for formulas openpyxl saved
    (recalculate many copies at once with recalc_many)."""
    counter = itertools.count()

    def make(name_or_path, cells=None, recalc=False, name=None):
        src = EXAMPLE_ALIASES.get(name_or_path)
        if src is None:
            src = name_or_path if os.path.isfile(name_or_path) else os.path.join(EXAMPLES_DIR, name_or_path)
        if not os.path.isfile(src):
            raise FileNotFoundError(src)
        stem, ext = os.path.splitext(name or os.path.basename(src))
        ext = ext or os.path.splitext(src)[1]
        dest = tmp_path / f"{stem}{ext}"
        while dest.exists():
            dest = tmp_path / f"{stem}_{next(counter)}{ext}"
        shutil.copyfile(src, dest)
        if cells:
            set_cells(str(dest), cells)
        if recalc:
            (done,) = recalc_many([str(dest)])
            return done
        return str(dest)

    return make


@pytest.fixture(scope="session")
def named_value():
    """named_value(path, key, data_only=True): the value of field key (or pe_ name) via the defined name."""
    from openpyxl import load_workbook

    def get(path, key, data_only=True):
        wb = load_workbook(path, data_only=data_only)
        sheet, coord = _resolve_cell(wb, key)
        return wb[sheet][coord].value

    return get
