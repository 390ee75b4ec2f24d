"""Every rule, a passing and a failing case, as data (tests/rule_cases/*.toml).

All case workbooks are built once per session: edited copies of the bundled examples; the ones
that need recalculation go through ONE LibreOffice call; each is then checked through
pipeline.check_file (the real reader, the real settings loading)."""
from __future__ import annotations

import glob
import os
import re
import shutil
import tomllib
import zipfile
from pathlib import Path

import pytest
from conftest import EXAMPLE_ALIASES, add_settings_sheet, set_cells

from perfeval_xl.catalog import CATALOG
from perfeval_xl.pipeline import CheckOptions, check_file
from perfeval_xl.rules import run_rules  # noqa: F401  (registers the workbook rules)

CASE_DIR = Path(__file__).parent / "rule_cases"
BLANK = "<空>"


def _load_cases() -> list[dict]:
    cases = []
    for path in sorted(CASE_DIR.glob("*.toml")):
        with open(path, "rb") as fh:
            for i, case in enumerate(tomllib.load(fh)["case"]):
                case["id"] = f"{case['code']}-{'pass' if case.get('absent') else 'fail'}-{path.stem}{i}"
                cases.append(case)
    return cases


CASES = _load_cases()


def _split(ref: str) -> tuple[str, str]:
    sheet, _, cell = ref.rpartition("!")
    return sheet, cell


def _sheet_xml(z: zipfile.ZipFile, sheet: str) -> str:
    """The zip member holding a sheet, through workbook.xml and its relationships."""
    wb = z.read("xl/workbook.xml").decode()
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    m = re.search(r'<sheet [^>]*name="' + re.escape(sheet) + r'"[^>]*r:id="([^"]+)"', wb)
    rid = m.group(1)
    target = re.search(r'<Relationship [^>]*Id="' + rid + r'"[^>]*Target="([^"]+)"', rels) or \
        re.search(r'<Relationship [^>]*Target="([^"]+)"[^>]*Id="' + rid + '"', rels)
    t = target.group(1).lstrip("/")
    return t if t.startswith("xl/") else "xl/" + t


def set_cached(path: str, cells: dict, error: bool = False) -> None:
    """Rewrite the cached value of formula cells inside the saved file (what a stale save looks like)."""
    tmp = path + ".tmp"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        edits: dict[str, list] = {}
        for ref, value in cells.items():
            sheet, cell = _split(ref)
            edits.setdefault(_sheet_xml(zin, sheet), []).append((cell, value))
        for item in zin.infolist():
            data = zin.read(item.filename)
            for cell, value in edits.get(item.filename, []):
                xml = data.decode()
                pat = re.compile(r'<c r="' + cell + r'"([^>]*)>(<f>.*?</f>|<f [^>]*/>|<f [^>]*>.*?</f>)'
                                 r'(<v>.*?</v>)?</c>', re.S)
                m = pat.search(xml)
                assert m, f"{cell}: not a formula cell in {item.filename}"
                attrs = re.sub(r'\s+t="[^"]*"', "", m.group(1))
                if error:
                    new = f'<c r="{cell}"{attrs} t="e">{m.group(2)}<v>{value}</v></c>'
                else:
                    new = f'<c r="{cell}"{attrs}>{m.group(2)}<v>{value}</v></c>'
                data = (xml[:m.start()] + new + xml[m.end():]).encode()
            zout.writestr(item, data)
    os.replace(tmp, path)


@pytest.fixture(scope="session")
def case_reports(tmp_path_factory, recalc_many):
    """Build every case workbook, recalculate those that ask for it in one call, check them all."""
    root = tmp_path_factory.mktemp("rule_cases")
    paths: dict[str, str] = {}
    to_recalc: list[str] = []
    for case in CASES:
        folder = root / case["id"]
        folder.mkdir()
        src = EXAMPLE_ALIASES.get(case["base"]) or _family_base(case["base"], tmp_path_factory)
        dest = str(folder / (case["id"] + os.path.splitext(src)[1]))  # unique stems for one soffice call
        shutil.copyfile(src, dest)
        cells = {}
        for ref, value in case.get("set", {}).items():
            cells[_split(ref)] = None if value == BLANK else value
        if cells:
            set_cells(dest, cells)
        if case.get("settings_sheet"):  # a 设置 sheet of key/value rows, as a unit would add one
            add_settings_sheet(dest, dest, case["settings_sheet"])
        if case.get("cached"):
            set_cached(dest, case["cached"])
        if case.get("cached_error"):
            set_cached(dest, case["cached_error"], error=True)
        if case.get("config"):
            lines = [f"{k} = {_toml_value(v)}" for k, v in case["config"].items()]
            (folder / "perfeval.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths[case["id"]] = dest
        if case.get("recalc"):
            to_recalc.append(case["id"])
    if to_recalc:
        done = recalc_many([paths[i] for i in to_recalc])
        for cid, out in zip(to_recalc, done):
            final = os.path.join(os.path.dirname(paths[cid]), "recalculated_" + os.path.basename(out))
            shutil.move(out, final)  # keep it beside its perfeval.toml
            paths[cid] = final
    reports = {}
    for case in CASES:
        # the bureau's file is given as --config would give it: a file beside a workbook is never read
        cfg = os.path.join(os.path.dirname(paths[case["id"]]), "perfeval.toml") if case.get("config") else None
        reports[case["id"]] = check_file(paths[case["id"]], CheckOptions(fast=bool(case.get("fast")), config=cfg))
    return reports


_FAMILY_BASES: dict[str, str] = {}


def _family_base(base: str, tmp_path_factory) -> str:
    """"family:<builder>": a fixture of tests/families/build.py, built once per session."""
    from families import build

    name = base.removeprefix("family:")
    if name not in _FAMILY_BASES:
        out = tmp_path_factory.mktemp("family_" + name)
        _FAMILY_BASES[name] = getattr(build, name)(str(out)).path
    return _FAMILY_BASES[name]


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return '"' + str(v).replace('"', '\\"') + '"'


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_rule_case(case, case_reports):
    report = case_reports[case["id"]]
    assert report.error is None, report.error
    code = case["code"]
    everything = report.findings + [f for part in report.parts for f in part.findings]  # forms inside the file
    hits = [f for f in everything if f.code == code]
    where = [f"{f.sheet}!{f.cell}" if f.sheet else "" for f in hits]
    for ref in _listed(case.get("absent_also")):  # "PE108@基础数据表!D12": not reported there
        other, _, at = ref.partition("@")
        wrong = [f.message for f in report.findings if f.code == other and f"{f.sheet}!{f.cell}" == at]
        assert not wrong, f"unexpected {other} at {at}: {wrong}"
    if case.get("absent"):
        at = case.get("at")
        bad = [f for f, w in zip(hits, where) if at is None or w == at]
        assert not bad, f"unexpected {code}: {[f.message for f in bad]}"
    else:
        assert case["expect"] in where, f"{code} expected at {case['expect']!r}, found at {where}: " \
            f"{[f.message for f in report.findings]}"
        f = hits[where.index(case["expect"])]
        assert f.message and f.severity is not None
        for part in _listed(case.get("message")):  # what the message must say
            assert part in f.message, f"{code} at {case['expect']}: {part!r} not in {f.message!r}"
        for part in _listed(case.get("no_message")):
            assert part not in f.message, f"{code} at {case['expect']}: {part!r} in {f.message!r}"
        if case.get("severity"):
            assert f.severity.value == case["severity"], (f.severity, f.message)
        if f.expected is not None:
            assert isinstance(f.expected, str) and isinstance(f.actual, str)


def _listed(x) -> list[str]:
    return [] if x is None else [x] if isinstance(x, str) else list(x)


def test_every_rule_has_a_passing_and_a_failing_case():
    covered = {(c["code"], bool(c.get("absent"))) for c in CASES}
    workbook_rules = [c for c in CATALOG if re.fullmatch(r"PE[1-5]\d\d", c)]
    missing = [f"{c}:{kind}" for c in workbook_rules for kind, absent in (("pass", True), ("fail", False))
               if (c, absent) not in covered]
    assert not missing, missing


def test_case_files_are_all_read():
    assert len(glob.glob(str(CASE_DIR / "*.toml"))) >= 5 and len(CASES) > 100


def test_rule_titles_state_the_problem_in_one_style():
    """Titles say what is wrong ("…与…不符", "…超预算", "…未填"), never the rule ("…应为…")."""
    rule_like = ("应为", "应等于", "应在", "应与", "不应", "应逐列")
    bad = [f"{c}: {i.title}" for c, i in CATALOG.items() if any(w in i.title for w in rule_like)]
    assert not bad, bad


# Rules whose message is a notice rather than a request (settings taken from the sheet, reading notes, the
# internal-error catch-all): they need no closing "what to do".
NOTICES = ("PE415", "PE417", "PE900")


def test_every_message_ends_with_what_to_do(case_reports):
    """Issue 12: each finding tells the clerk what to do ("请核对…并修改…"), on every case the catalog has."""
    seen, bad = set(), []
    for report in case_reports.values():
        for f in report.findings:
            if f.code.startswith(NOTICES) or not re.fullmatch(r"PE[1-5]\d\d", f.code):
                continue
            seen.add(f.code)
            tail = f.message.rsplit("。", 1)[-1] if "。" in f.message else f.message
            if "请" not in tail and "不必修改" not in tail:
                bad.append(f"{f.code}: {f.message}")
    assert len(seen) > 40
    assert not bad, sorted(set(bad))[:20]
