"""The marks plan: pure, from a report to cells, notes, the 校验结果 rows and the ledger."""
from decimal import Decimal

from perfeval_xl.findings import Finding, Metrics, Report, Severity
from perfeval_xl.marks import (
    FILL, LEDGER_SHEET, NOTE_HEADER, RESULT_SHEET, CellMark, LedgerEntry, compose_note, is_our_note,
    ledger_rows, link_target, needs_text_guard, normalize_cell, parse_ledger, plan_marks,
)

SE = "绩效自评表"


def seed_like_report():
    return Report(
        path="x.xlsx",
        findings=[
            Finding("PE201", Severity.WARNING, SE, "H13", "自评得分偏高", "10", "12"),
            Finding("PE101", Severity.ERROR, SE, "$h$13", "自评得分超过分值", "≤ 10", "12"),
            Finding("PE301", Severity.INFO, "三公经费情况表", "G4", "增减% 超过 ±30%"),
            Finding("PE401", Severity.WARNING, SE, "D4:E4", "执行率低于 90%"),
            Finding("PE900", Severity.INFO, "", "", "单位负责人签字须纸质签署"),
        ],
        metrics=Metrics(department="益阳市人民政府办公室", year=2024, budget=Decimal("3676.31"),
                        actual=Decimal("3527.66"), execution_rate=Decimal("0.9596"),
                        execution_score=Decimal("9.6"), self_total_score=Decimal("97.24"),
                        total_score=Decimal("96.5"), grade="优"),
    )


def test_one_mark_per_cell_with_the_worst_severity_and_all_messages():
    plan = plan_marks(seed_like_report())
    cells = {(m.sheet, m.cell) for m in plan.marks}
    assert cells == {(SE, "H13"), ("三公经费情况表", "G4"), (SE, "D4")}
    h13 = plan.mark_at(SE, "H13")
    assert h13.severity is Severity.ERROR and h13.fill == FILL[Severity.ERROR]
    assert h13.codes == ("PE101", "PE201")  # errors first
    lines = h13.note.splitlines()
    assert lines[0] == NOTE_HEADER + "■ 错误"  # the worst severity, readable where a template colour hides the fill
    assert lines[1].startswith("■[PE101 错误] 自评得分超过分值") and "实为 12" in lines[1]
    assert lines[2].startswith("▲[PE201 警告]")
    assert plan.mark_at("三公经费情况表", "G4").fill == FILL[Severity.INFO]
    assert [f.code for f in plan.unplaced] == ["PE900"]


def test_fills_differ_by_severity_and_are_light():
    assert len(set(FILL.values())) == 3
    for argb in FILL.values():
        r, g, b = (int(argb[i:i + 2], 16) for i in (2, 4, 6))
        assert 0.299 * r + 0.587 * g + 0.114 * b > 180  # black text stays readable


def test_result_sheet_lists_every_finding_with_a_link_errors_first():
    plan = plan_marks(seed_like_report(), generated="2025-04-23 10:00")
    res = plan.result
    assert res.name == RESULT_SHEET
    assert "益阳市人民政府办公室" in res.lines[0].values[0] and "2024" in res.lines[0].values[0]
    header = res.lines[res.header_row - 1]
    assert header.values == ("序号", "严重程度", "代码", "工作表", "单元格", "说明", "应为", "实为")
    rows = [ln for ln in res.lines if ln.role == "finding"]
    assert [r.values[2] for r in rows] == ["PE101", "PE201", "PE401", "PE301", "PE900"]
    assert [r.values[0] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].link == "#'绩效自评表'!H13" and rows[0].link_col == 4
    assert rows[-1].link is None  # no cell, no link
    meta = {ln.values[0]: ln.values[1] for ln in res.lines if ln.role == "meta"}
    assert meta["执行率"] == 0.9596 and meta["复核总分"] == 96.5 and meta["等级（复核）"] == "优"
    assert meta["校验结论"] == "错误 1 项，警告 2 项，提示 2 项"
    assert meta["校验时间"] == "2025-04-23 10:00"


def test_clean_and_unreadable_reports():
    clean = plan_marks(Report(path="a.xlsx", metrics=Metrics(department="甲单位", year=2024)))
    assert clean.marks == ()
    assert any("未发现问题" in str(ln.values[-1]) for ln in clean.result.lines if ln.role == "meta")
    bad = plan_marks(Report(path="b.xlsx", error="文件已加密"))
    assert [ln.values for ln in bad.result.lines if ln.role == "error"] == [("无法校验", "文件已加密")]


def test_plan_is_plain_data_and_deterministic():
    a, b = plan_marks(seed_like_report()), plan_marks(seed_like_report())
    assert a == b
    import perfeval_xl.marks as m
    src = open(m.__file__, encoding="utf-8").read()
    assert "import openpyxl" not in src and "import xlwings" not in src


def test_ledger_round_trip_and_sheet_names():
    entries = [LedgerEntry(SE, "H13", "solid", "rgb:FFFFFF00", "indexed:64", "用户批注\n第二行", "张三"),
               LedgerEntry("三公'表", "G4")]
    rows = ledger_rows(entries)
    assert rows[1][0] == "工作表"
    # blanks come back as None from a workbook
    rows = [[None if v == "" else v for v in r] for r in rows]
    assert parse_ledger(rows) == entries
    assert parse_ledger([["别的表"], ["x"]]) == []
    assert LEDGER_SHEET == "校验标记"


def test_notes_keep_the_users_own_note_and_are_recognisable():
    mark = CellMark(SE, "H13", Severity.ERROR, FILL[Severity.ERROR], NOTE_HEADER + "\n[PE101 错误] x", ("PE101",))
    assert compose_note(mark, "") == mark.note
    composed = compose_note(mark, "请核对")
    assert composed.startswith(NOTE_HEADER) and composed.endswith("请核对")
    assert compose_note(mark, composed) == mark.note  # never nests our own note
    assert is_our_note(composed) and not is_our_note("请核对") and not is_our_note(None)


def test_cells_links_and_text_guard():
    assert normalize_cell("$b$4") == "B4" and normalize_cell("B4:D6") == "B4"
    assert normalize_cell("") is None and normalize_cell("第4行") is None
    assert link_target("It's", "A1") == "#'It''s'!A1"
    assert needs_text_guard("=HYPERLINK(\"x\")") and needs_text_guard("-1") and not needs_text_guard("甲")


def test_result_columns_are_measured_to_show_every_label_whole():
    from perfeval_xl.marks import RESULT_WIDTHS, text_width

    assert text_width("全年预算数（万元）") == 18 and text_width("PE205") == 5 and text_width(None) == 0
    plan = plan_marks(seed_like_report(), generated="2025-04-23 10:00")
    res = plan.result
    labels = [ln.values[0] for ln in res.lines if ln.role == "meta"]
    assert res.widths[0] >= max(text_width(v) for v in labels) >= text_width("执行率得分（复核）")
    assert res.widths[3] >= text_width("三公经费情况表")  # 工作表 column
    assert all(w >= m for w, m in zip(res.widths, RESULT_WIDTHS))
    assert res.title_span == len(res.lines[res.header_row - 1].values)  # the title spans the table
    assert 5 in res.wrap_cols  # 说明 wraps
