"""The committed add-in workbook/perfeval_xl.xlam: our ribbon on xlwings' shipped ribbon add-in,
the VBA untouched, the button calling perfeval_xl.main()."""
from __future__ import annotations

import importlib
import os
import re
import xml.etree.ElementTree as ET
import zipfile

import pytest

from perfeval_xl import addin

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMITTED = os.path.join(ROOT, "workbook", "perfeval_xl.xlam")
NS = {"ui": "http://schemas.microsoft.com/office/2006/01/customui"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return addin.build_addin(str(tmp_path_factory.mktemp("addin") / "perfeval_xl.xlam"))


def _ribbon(path):
    with zipfile.ZipFile(path) as z:
        return ET.fromstring(z.read(addin.RIBBON_PART))


def test_committed_addin_is_what_the_build_produces(built):
    assert os.path.isfile(COMMITTED), "run: python -m perfeval_xl.addin"
    if addin.addin_xlwings_version(COMMITTED) != addin.installed_xlwings_version():
        pytest.skip("built from another xlwings version (its VBA names that version's DLL)")
    with zipfile.ZipFile(COMMITTED) as a, zipfile.ZipFile(built) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            assert a.read(name) == b.read(name), name


def test_ribbon_has_the_tab_and_a_large_validate_button(built):
    root = _ribbon(built)
    tabs = root.findall(".//ui:tab", NS)
    assert [t.get("label") for t in tabs] == ["绩效自评"]
    buttons = tabs[0].findall(".//ui:button", NS)
    validate = [b for b in buttons if b.get("label") == "校验"]
    assert len(validate) == 1
    assert validate[0].get("size") == "large"
    assert validate[0].get("onAction") == "RibbonMyAddin.RunMain"


def test_every_onaction_is_a_macro_of_the_shipped_vba(built):
    modules = addin.vba_modules(built)
    for b in _ribbon(built).iter():
        action = b.get("onAction")
        if action is None:
            continue
        module, _, sub = action.partition(".")
        assert module in modules, action
        assert re.search(rf"^\s*(Public\s+)?Sub\s+{sub}\s*\(\s*control\s+As\s+IRibbonControl\s*\)",
                         modules[module], re.M | re.I), action


def test_vba_is_byte_identical_to_the_shipped_addin(built):
    with zipfile.ZipFile(built) as a, zipfile.ZipFile(addin.shipped_addin()) as b:
        assert a.read(addin.VBA_PART) == b.read(addin.VBA_PART)
        # only the ribbon differs
        for name in b.namelist():
            if name != addin.RIBBON_PART:
                assert a.read(name) == b.read(name), name


def test_the_button_runs_main_of_the_module_named_after_the_file(built):
    source = addin.vba_modules(built)["RibbonMyAddin"]
    assert 'RunPython "import " & mymodule & ";" & mymodule & ".main()"' in source
    assert "ThisWorkbook.Name" in source  # the module is the add-in's file name without extension
    assert os.path.splitext(os.path.basename(COMMITTED))[0] == "perfeval_xl"


def test_the_imported_module_exists_and_has_main():
    mod = importlib.import_module("perfeval_xl")
    assert callable(mod.main)
    from perfeval_xl.excel import main

    assert mod.main is main


def test_ribbon_source_is_well_formed_xml_in_the_repo():
    src = os.path.join(ROOT, "workbook", "ribbon", "customUI.xml")
    with open(src, "rb") as f:
        data = f.read()
    assert ET.fromstring(data).tag == "{%s}customUI" % NS["ui"]
    with zipfile.ZipFile(COMMITTED) as z:
        assert z.read(addin.RIBBON_PART) == data


def test_vba_reader_decodes_the_shipped_project():
    modules = addin.vba_modules(addin.shipped_addin())
    assert {"RibbonMyAddin", "xlwings", "ThisWorkbook"} <= set(modules)
    assert "Public Function RunPython(PythonCommand As String)" in modules["xlwings"]


def test_build_command_line(tmp_path, capsys):
    dest = str(tmp_path / "x" / "perfeval_xl.xlam")
    assert addin.main([dest]) == 0
    assert capsys.readouterr().out.strip() == dest
    assert zipfile.is_zipfile(dest)


def test_xlwings_conf_example_names_our_udf_module():
    import csv

    path = os.path.join(ROOT, "workbook", "xlwings.conf")
    with open(path, newline="", encoding="utf-8") as f:
        pairs = dict(csv.reader(f))  # the format VBA's `Input #` reads: "KEY","VALUE" per line
    assert pairs["UDF MODULES"] == "perfeval_xl.udfs"
    assert pairs["INTERPRETER_WIN"].lower().endswith("pythonw.exe")
    udfs = importlib.import_module(pairs["UDF MODULES"])
    for name in ("PE_EXECRATE", "PE_EXECSCORE", "PE_INDICATOR_SCORE", "PE_VARIANCE", "PE_VARIANCE_PCT",
                 "PE_GRADE", "PE_CHECK"):
        assert callable(getattr(udfs, name))
