"""The JSON writers render reports from their fields (output.report_json) for speed: the text must be exactly what
json.dumps(report.to_dict()) gives, indented (--format json) and compact (--format jsonl)."""
from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from perfeval_xl.findings import Finding, Metrics, Report, Severity
from perfeval_xl.output import report_json
from perfeval_xl.pipeline import check_file

ODD = ['引号"与反斜杠\\', "换行\n制表\t回车\r", "\x00\x01\x1f\x7f", "\u2028\u2029\u202e", "", " ", "😀 astral",
       "=HYPERLINK(\"x\")", "/ \\u0041"]


def _reference(r: Report, ind: str | None) -> str:
    if ind is None:
        return json.dumps(r.to_dict(), ensure_ascii=False, separators=(",", ":"))
    return json.dumps(r.to_dict(), ensure_ascii=False, indent=2).replace("\n", "\n" + ind)


def _odd_reports() -> list[Report]:
    findings = []
    for i, t in enumerate(ODD):
        findings.append(Finding(f"PE{100 + i}", list(Severity)[i % 3], t, f"B{i + 1}", t + "说明", t or None,
                                None if i % 2 else t, tuple((t, f"C{j}") for j in range(i % 3))))
    metrics = Metrics(department=ODD[0], year=2024, budget=D("3676.31"), actual=D("0"), execution_rate=D("0.9596"),
                      execution_score=D("9.6"), self_total_score=None, total_score=D("99.20"), grade="优",
                      score_provisional=True, score_note=ODD[3], form="hunan_dept", project=ODD[1])
    part = Report("多表.xlsx", findings[:3], metrics, None, "project10", [])
    return [
        Report("奇怪的\"路径\"\\a.xlsx", findings, metrics, None, "hunan_dept", []),
        Report("坏.xlsx", error="文件已加密\u2028第二行"),
        Report("空.xlsx", [], Metrics(), None, "", []),
        Report("多表.xlsx", [], Metrics(execution_rate=D("1E+2"), total_score=D("-0.00")), None, "project10",
               [part, Report("多表.xlsx", [], None, "第二张表读不出", "", [])]),
    ]


@pytest.mark.parametrize("ind", ["", "    ", None])
def test_report_json_is_json_dumps_of_to_dict_for_odd_reports(ind):
    for r in _odd_reports():
        assert report_json(r, ind) == _reference(r, ind)


@pytest.fixture(scope="module")
def real_reports(seed_example, seed_original, tmp_path_factory):
    from tests.families.build import build_all

    fixtures = build_all(str(tmp_path_factory.mktemp("families")))
    reports = [check_file(seed_example), check_file(seed_original)] + [check_file(fx.path) for fx in fixtures]
    every = [f for r in reports for p in [r] + r.parts for f in p.findings]
    assert len(every) > 60  # real findings, with related cells and several forms in a file
    assert any(f.related for f in every) and any(r.parts for r in reports)
    return reports


@pytest.mark.parametrize("ind", ["    ", None])
def test_report_json_is_json_dumps_of_to_dict_for_real_reports(real_reports, ind):
    for r in real_reports:
        assert report_json(r, ind) == _reference(r, ind), r.path
