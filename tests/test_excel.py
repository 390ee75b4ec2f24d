"""The 校验 button on real xlwings Books: xlwings' remote interpreter builds a Book from the JSON
that Excel's Office.js client sends; validate_book marks it; book.json() returns the actions a
client would apply. The payloads are built from the example workbooks (values as Excel would
send them: the template example recalculated by LibreOffice, the 原表 as typed).

A second run is checked by applying the first run's actions to the payload (what the client
does) and running again on the resulting state.
"""
from __future__ import annotations

import copy
import os
from datetime import date, datetime, time

import openpyxl
import pytest

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # remote interpreter: PolyForm Noncommercial
xw = pytest.importorskip("xlwings")

from perfeval_xl.excel import check_book, clear_marks, summary_text, validate_book  # noqa: E402
from perfeval_xl.findings import Severity  # noqa: E402
from perfeval_xl.marks import FILL, LEDGER_SHEET, NOTE_HEADER, RESULT_SHEET, normalize_cell, plan_marks  # noqa: E402
from perfeval_xl.writers.xlwings_apply import NOTE_KEPT  # noqa: E402

_EPOCH = datetime(1899, 12, 30)


# ---- building what the Office.js client sends --------------------------------------------

def _js(v):
    """A cell value as Office.js sends it: blanks are "", dates are serial numbers."""
    if v is None:
        return ""
    if isinstance(v, datetime):
        return (v - _EPOCH).total_seconds() / 86400
    if isinstance(v, date):
        return float((datetime.combine(v, time()) - _EPOCH).days)
    if isinstance(v, time):
        return (v.hour * 3600 + v.minute * 60 + v.second) / 86400
    return v


def payload_from_xlsx(path: str, *, extra_sheets=(), notes=None) -> dict:
    """The JSON Excel's client would send for this workbook (cached values, defined names, notes).

    extra_sheets: (name, rows) appended; notes: {(sheet, "B4"), ...} cells carrying a user's note.
    """
    wb = openpyxl.load_workbook(path, data_only=True)
    sheets = []
    for ws in wb.worksheets:
        rows = [[_js(c.value) for c in row]
                for row in ws.iter_rows(min_row=1, max_row=max(ws.max_row, 1), max_col=max(ws.max_column, 1))]
        cells = [c.coordinate for row in ws.iter_rows() for c in row if c.comment]
        cells += [cell for s, cell in (notes or ()) if s == ws.title]
        sheets.append(_sheet(ws.title, rows, cells, ws.sheet_state))
    for name, rows in extra_sheets:
        sheets.append(_sheet(name, [[_js(v) for v in r] for r in rows]))
    names = []
    for name, dn in wb.defined_names.items():
        dests = list(dn.destinations) if dn.attr_text and "!" in dn.attr_text else []
        entry = {"name": name, "scope_sheet_name": None, "scope_sheet_index": None, "book_scope": True,
                 "sheet_index": None, "address": None, "refers_to": "=" + dn.attr_text}
        if len(dests) == 1:
            sheet, coord = dests[0]
            entry["sheet_index"] = wb.sheetnames.index(sheet)
            entry["address"] = coord.replace("$", "")
        names.append(entry)
    return {
        "client": "Office.js",
        "version": xw.__version__,
        "book": {"name": os.path.basename(path), "active_sheet_index": 0, "selection": "A1"},
        "names": names,
        "sheets": sheets,
    }


def _sheet(name, rows, notes=(), state="visible"):
    return {"name": name, "values": rows or [[""]], "pictures": [], "tables": [],
            "notes": [{"address": a} for a in notes],
            "visibility": "Visible" if state == "visible" else "Hidden"}


def _a1(row0: int, col0: int) -> str:
    s, n = "", col0 + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return f"{s}{row0 + 1}"


class Client:
    """What Excel's client does with the actions: apply them to its workbook (here the payload).

    Fills are not part of the payload, so they are tracked beside it: (sheet, cell) -> "#rrggbb".
    """

    def __init__(self, payload: dict):
        self.payload = payload
        self.fills: dict[tuple[str, str], str | None] = {}
        self.alerts: list[list] = []

    def book(self):
        return xw.Book(json=copy.deepcopy(self.payload))

    def apply(self, actions: list[dict]) -> None:
        sheets = self.payload["sheets"]
        for a in actions:
            f, args, pos = a["func"], a["args"], a["sheet_position"]
            if f == "addSheet":
                sheets.insert(args[0], _sheet(args[1], [[""]]))
                self._shift_names(args[0], +1)
            elif f == "sheetDelete":
                del sheets[pos]
                self._shift_names(pos + 1, -1)
            elif f == "setValues":
                vals = sheets[pos]["values"]
                for i, row in enumerate(a["values"]):
                    r = a["start_row"] + i
                    while len(vals) <= r:
                        vals.append([])
                    for j, v in enumerate(row):
                        c = a["start_column"] + j
                        vals[r].extend([""] * (c + 1 - len(vals[r])))
                        vals[r][c] = v
                width = max(len(r) for r in vals)
                for r in vals:
                    r.extend([""] * (width - len(r)))
            elif f == "setRangeColor":
                for i in range(a["row_count"]):
                    for j in range(a["column_count"]):
                        key = (sheets[pos]["name"], _a1(a["start_row"] + i, a["start_column"] + j))
                        self.fills[key] = args[0]
            elif f == "addNote":
                sheets[pos]["notes"].append({"address": args[0].replace("$", "")})
            elif f == "deleteNote":
                addr = args[0].replace("$", "")
                sheets[pos]["notes"] = [n for n in sheets[pos]["notes"] if n["address"] != addr]
            elif f == "setSheetVisibility":
                sheets[pos]["visibility"] = args[0]
            elif f == "activateSheet":
                self.payload["book"]["active_sheet_index"] = args[0]
            elif f == "alert":
                self.alerts.append(args)

    def _shift_names(self, from_index: int, by: int) -> None:
        """Names keep pointing at their sheet when sheets are inserted or deleted before it."""
        for n in self.payload["names"]:
            if n["sheet_index"] is not None and n["sheet_index"] >= from_index:
                n["sheet_index"] += by

    def run(self, fn=validate_book):
        book = self.book()
        out = fn(book)
        actions = book.json()["actions"]
        self.apply(actions)
        return out, actions

    def sheet_names(self):
        return [s["name"] for s in self.payload["sheets"]]

    def values(self, name):
        return next(s["values"] for s in self.payload["sheets"] if s["name"] == name)

    def notes(self, name):
        return {n["address"] for s in self.payload["sheets"] if s["name"] == name for n in s["notes"]}

    def marked(self):
        return {k: v for k, v in self.fills.items() if v}


def _hex(argb: str) -> str:
    return "#" + argb[-6:].lower()


def worst_severity(report) -> dict[tuple[str, str], Severity]:
    """(sheet, cell) -> the worst severity of the findings that mark it, straight from the report's findings."""
    worst: dict[tuple[str, str], Severity] = {}
    for f in report.findings:
        # its own cell, and the cells its fix touches (issue 12: the 分值 under a wrong heading are marked too)
        for sheet, cell in ((f.sheet, normalize_cell(f.cell)), *((s, normalize_cell(c)) for s, c in f.related)):
            if sheet and cell:
                k = (sheet, cell)
                if k not in worst or f.severity.rank < worst[k].rank:
                    worst[k] = f.severity
    return worst


def flagged(report) -> dict[tuple[str, str], str]:
    """(sheet, cell) -> the fill its worst finding gets."""
    return {k: _hex(FILL[s]) for k, s in worst_severity(report).items()}


def batch_report(path):
    """The batch checker's view of the same workbook (openpyxl reader, same rules)."""
    from perfeval_xl.readers import read_workbook
    from perfeval_xl.rules import run_rules
    from perfeval_xl.settings import load_settings

    form = read_workbook(path)
    return run_rules(form, load_settings(overrides=form.settings_overrides or None))


# ---- fixtures -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed_payload(recalculated_seed):
    return payload_from_xlsx(recalculated_seed)


@pytest.fixture(scope="module")
def first_run(seed_payload):
    client = Client(copy.deepcopy(seed_payload))
    report, actions = client.run()
    return client, report, actions


# ---- the template example (defined names) -------------------------------------------------

def test_seed_is_read_through_the_names_and_has_findings(first_run):
    client, report, _ = first_run
    assert report.error is None
    assert report.metrics.department == "益阳市人民政府办公室"
    assert report.metrics.year == 2024
    assert report.findings, "the seed is a real submission with real inconsistencies"


def test_seed_execution_rate_recomputed(first_run):
    _, report, _ = first_run
    m = report.metrics
    assert round(float(m.execution_rate), 4) == 0.9596
    assert float(m.execution_score) == pytest.approx(9.6)


def test_fills_fall_on_exactly_the_flagged_cells(first_run):
    client, report, actions = first_run
    assert client.marked() == flagged(report)
    # every fill action targets a form sheet, never the result or ledger sheet
    assert not {s for s, _ in client.marked()} & {RESULT_SHEET, LEDGER_SHEET}


def test_live_book_and_batch_checker_flag_the_same_cells(first_run, recalculated_seed):
    _, report, _ = first_run
    batch = batch_report(recalculated_seed)
    assert {(f.code, f.sheet, f.cell) for f in report.findings} == {(f.code, f.sheet, f.cell) for f in batch.findings}


def test_each_marked_cell_gets_a_note_with_its_findings(first_run, seed_payload):
    client, report, actions = first_run
    notes = [a for a in actions if a["func"] == "addNote"]
    plan = plan_marks(report)
    assert len(notes) == len(plan.marks)
    # marks are made before any sheet is added: positions are those of the book as sent
    names = [s["name"] for s in seed_payload["sheets"]]
    by_addr = {(names[a["sheet_position"]], a["args"][0].replace("$", "")): a["args"][1] for a in notes}
    for m in plan.marks:
        text = by_addr[(m.sheet, m.cell)]
        assert text.startswith(NOTE_HEADER)
        for code in m.codes:
            assert code in text


def test_result_sheet_comes_first_with_the_plan_rows(first_run):
    client, report, actions = first_run
    assert client.sheet_names()[0] == RESULT_SHEET
    assert client.payload["book"]["active_sheet_index"] == 0
    rows = client.values(RESULT_SHEET)
    plan = plan_marks(report)
    assert "校验结果" in rows[0][0]
    header = next(i for i, r in enumerate(rows, start=1) if r[0] == "序号")
    assert header == plan.result.header_row + 1  # one more meta line: 校验时间
    assert tuple(rows[header - 1][:8]) == ("序号", "严重程度", "代码", "工作表", "单元格", "说明", "应为", "实为")
    finding_rows = [r for r in rows[header:] if r and r[0] not in ("", None)]
    assert len(finding_rows) == len(report.findings)
    assert {(r[2], r[3], r[4]) for r in finding_rows} == {(f.code, f.sheet, f.cell) for f in report.findings}
    # errors listed before warnings before infos
    ranks = [{"错误": 0, "警告": 1, "提示": 2}[r[1]] for r in finding_rows]
    assert ranks == sorted(ranks)


def test_ledger_sheet_is_last_hidden_and_lists_every_marked_cell(first_run):
    client, report, _ = first_run
    assert client.sheet_names()[-1] == LEDGER_SHEET
    ledger = next(s for s in client.payload["sheets"] if s["name"] == LEDGER_SHEET)
    assert ledger["visibility"] == "Hidden"
    listed = {(r[0], r[1]) for r in ledger["values"][2:] if r[0]}
    assert listed == set(flagged(report))


def test_summary_alert_states_counts_score_and_grade(first_run):
    client, report, _ = first_run
    assert len(client.alerts) == 1
    text = client.alerts[0][0]
    assert f"错误 {report.errors} 项" in text and f"警告 {report.warnings} 项" in text
    assert f"复核总分 {report.metrics.total_score:.2f}" in text
    assert f"等级 {report.metrics.grade}" in text
    assert text == summary_text(report)


def test_second_run_clears_the_first_runs_marks(first_run):
    client, report, _ = first_run
    client = copy.deepcopy(client)
    before = dict(client.marked())
    report2, actions = client.run()
    funcs = [a["func"] for a in actions]
    # the old result and ledger sheets are deleted before the new ones are added
    deletes = [i for i, f in enumerate(funcs) if f == "sheetDelete"]
    adds = [i for i, f in enumerate(funcs) if f == "addSheet"]
    assert len(deletes) == 2 and len(adds) == 2 and max(deletes) < min(adds)
    # every cell marked by the first run is reset (its own fill: none) before marking again
    resets = [a for a in actions[:deletes[0]] if a["func"] == "setRangeColor"]
    assert len(resets) == len(before) and all(a["args"] == [None] for a in resets)
    # our notes are removed first, then written once
    assert sum(f == "deleteNote" for f in funcs[:deletes[0]]) == len(plan_marks(report).marks)
    # the end state is the same as after one run: marks do not pile up
    assert client.sheet_names().count(RESULT_SHEET) == 1
    assert client.sheet_names().count(LEDGER_SHEET) == 1
    assert client.marked() == before
    for sheet in {s for s, _ in before}:
        assert client.notes(sheet) == {c for s, c in before if s == sheet}


def test_clear_marks_restores_the_book(first_run, seed_payload):
    client, report, _ = first_run
    client = copy.deepcopy(client)
    restored, _ = client.run(clear_marks)
    assert restored == len(flagged(report))
    assert client.marked() == {}
    assert client.sheet_names() == [s["name"] for s in seed_payload["sheets"]]
    for s in seed_payload["sheets"]:
        assert client.notes(s["name"]) == {n["address"] for n in s["notes"]}


def test_a_users_own_note_on_a_flagged_cell_is_left_alone(recalculated_seed, first_run):
    _, report, _ = first_run
    sheet, cell = next(iter(flagged(report)))
    client = Client(payload_from_xlsx(recalculated_seed, notes={(sheet, cell)}))
    _, actions = client.run()
    pos = client.sheet_names().index(sheet)
    touched = [a for a in actions if a["func"] in ("addNote", "deleteNote", "setNoteText")
               and a["sheet_position"] == pos and a["args"][0].replace("$", "") == cell]
    assert touched == []
    assert (sheet, cell) in client.marked()  # still filled
    ledger = client.values(LEDGER_SHEET)
    assert [r for r in ledger if r[:2] == [sheet, cell]][0][6] == NOTE_KEPT
    _, actions = client.run(clear_marks)
    assert cell in client.notes(sheet)


def test_settings_sheet_overrides_a_threshold(recalculated_seed, first_run):
    _, base, _ = first_run
    client = Client(payload_from_xlsx(recalculated_seed, extra_sheets=[("设置", [["执行率下限", "97%"]])]))
    report, _ = client.run()
    new = {(f.code, f.sheet, f.cell) for f in report.findings} - {(f.code, f.sheet, f.cell) for f in base.findings}
    assert any(cell == "G4" for _, _, cell in new), new  # 95.96% is now below the 执行率 threshold


# ---- the official layout as a department sends it (no names: label anchoring) -------------

def test_original_layout_is_read_by_labels_and_marked(seed_original):
    client = Client(payload_from_xlsx(seed_original))
    report, _ = client.run()
    assert report.error is None
    assert report.metrics.department == "益阳市人民政府办公室"
    assert round(float(report.metrics.execution_rate), 4) == 0.9596
    assert client.marked() == flagged(report)
    assert client.sheet_names()[0] == RESULT_SHEET


def test_a_book_that_is_not_the_form_gets_a_reason_not_a_traceback():
    client = Client({
        "client": "Office.js", "version": xw.__version__,
        "book": {"name": "购物清单.xlsx", "active_sheet_index": 0, "selection": "A1"}, "names": [],
        "sheets": [_sheet("Sheet1", [["苹果", 3], ["梨", 5]])],
    })
    report, _ = client.run()
    assert report.error
    assert client.marked() == {}
    assert client.sheet_names()[0] == RESULT_SHEET
    assert any("无法校验" in str(v) for row in client.values(RESULT_SHEET) for v in row)
    assert client.alerts and client.alerts[0][0].startswith("无法校验")


def test_check_book_reads_without_marking(seed_payload):
    book = xw.Book(json=copy.deepcopy(seed_payload))
    report = check_book(book)
    assert report.findings
    assert book.json()["actions"] == []


def test_grid_from_a_live_book_skips_our_sheets_and_keeps_names(first_run):
    from perfeval_xl.readers.xlwings_grid import grid_from_book, names_from_book

    client, _, _ = first_run
    book = client.book()  # the state after a run: 校验结果 first, ledger last
    grid = grid_from_book(book)
    assert RESULT_SHEET not in grid.sheets and LEDGER_SHEET not in grid.sheets
    assert grid.sheet_names[:3] == ["三公经费情况表", "基础数据表", "绩效自评表"]
    assert grid.cell("绩效自评表", "D4") == pytest.approx(3676.31)
    assert grid.cell("绩效自评表", "E4") == pytest.approx(3527.66)
    assert grid.formulas_known is False  # the remote engine sends values only
    names = names_from_book(book)
    assert names["pe_funds_budget"] == ("绩效自评表", "D4")
    assert names["pe_template_version"][0] == ""


# ---- a web client without notes (Office.js below ExcelApi 1.18) ---------------------------

def test_a_client_without_notes_gets_fills_and_the_result_sheet(seed_payload):
    payload = copy.deepcopy(seed_payload)
    for s in payload["sheets"]:
        s["notes_supported"] = False
        s.pop("notes", None)
    client = Client(payload)
    report, actions = client.run()
    assert report.findings
    assert not [a for a in actions if a["func"] in ("addNote", "setNoteText", "deleteNote")]
    assert client.marked() == flagged(report)
    rows = client.values(RESULT_SHEET)
    notice = [r for r in rows if r and r[0] == "注意"]
    assert len(notice) == 1 and "不支持批注" in notice[0][1]
    finding_rows = [r for r in rows if r and isinstance(r[0], (int, float)) and not isinstance(r[0], bool)]
    assert len(finding_rows) == len(report.findings)
    assert len(client.alerts) == 1 and client.alerts[0][0].count("不支持批注") == 1
    # a second run still restores the first run's fills and marks afresh
    before = dict(client.marked())
    for s in client.payload["sheets"]:
        s["notes_supported"] = False
        s.pop("notes", None)
    client.run()
    assert client.marked() == before
