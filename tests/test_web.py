"""The service in a real browser: Chromium from the system packages, driven by Playwright (no browser download).

The page: upload the example (file chooser and drag-and-drop), read the findings table, download the marked
copy, at 1366×768. The add-in: its command page with Office.js replaced by a recording fake of the Excel API
(tests/web/fake_office.js) that throws where Excel throws; on the example it records the marks the desktop
button makes."""
from __future__ import annotations

import base64
import contextlib
import copy
import json
import os
import shutil
import socket
import threading
import time

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("multipart")
uvicorn = pytest.importorskip("uvicorn")

from perfeval_xl.excel import validate_book  # noqa: E402
from perfeval_xl.marks import LEDGER_SHEET, RESULT_SHEET  # noqa: E402
from perfeval_xl.pipeline import CheckOptions, check_file  # noqa: E402
from perfeval_xl.server import ServerConfig, create_app  # noqa: E402

from test_excel import Client, flagged, payload_from_xlsx  # noqa: E402

FAKE_OFFICE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "web", "fake_office.js")
OFFICE_CDN = "https://appsforoffice.microsoft.com/**"
SCREEN = {"width": 1366, "height": 768}


def find_chromium() -> str:
    """The system's Chromium; skip without it, fail instead under PERFEVAL_REQUIRE_SOFFICE (CI installs it)."""
    for path in (os.environ.get("PERFEVAL_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                 shutil.which("chromium-browser")):
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    message = "Chromium is not installed (apt-get install chromium)"
    if os.environ.get("PERFEVAL_REQUIRE_SOFFICE"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    chromium = find_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("PERFEVAL_REQUIRE_SOFFICE"):
            pytest.fail("playwright is not installed (it is in the test extra)")
        pytest.skip("playwright is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield b
        b.close()


@contextlib.contextmanager
def serving(config: ServerConfig):
    """The real service on a loopback port (uvicorn in a thread), as `perfeval serve` runs it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        assert time.time() < deadline and thread.is_alive(), "the service did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def service():
    with serving(ServerConfig()) as url:
        yield url


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport=SCREEN, accept_downloads=True, locale="zh-CN")
    pg = ctx.new_page()
    yield pg
    ctx.close()


# ---- the page ------------------------------------------------------------------------------------

def read_table(page) -> list[tuple[str, str, str, str]]:
    """(sheet heading, cell, code, message) for every row of the findings tables, as shown."""
    return page.evaluate("""() => {
        const out = [];
        for (const h of document.querySelectorAll('#groups h2')) {
            const t = h.nextElementSibling;
            for (const tr of t.querySelectorAll('tbody tr')) {
                const td = [...tr.children].map(x => x.textContent);
                out.push([h.textContent, td[0], td[2], td[3]]);
            }
        }
        return out;
    }""")


def test_page_checks_the_example_and_offers_the_marked_copy(page, service, seed_example, tmp_path):
    page.goto(service + "/")
    assert page.title() == "绩效自评表校验"
    page.set_input_files("#file", seed_example)
    page.wait_for_selector("#result:not([hidden])", timeout=30_000)
    batch = check_file(seed_example, CheckOptions())
    verdict = page.inner_text("#verdict")
    assert f"错误 {batch.errors} 项" in verdict and f"警告 {batch.warnings} 项" in verdict
    assert "益阳市人民政府办公室" in page.inner_text("#metrics")
    assert "95.96%" in page.inner_text("#metrics") and "优" in page.inner_text("#metrics")
    rows = read_table(page)
    assert [(c, code, msg) for _, c, code, msg in rows] == [(f.cell or "—", f.code, f.message) for f in batch.findings]
    assert all(f.sheet in h for (h, *_), f in zip(rows, batch.findings))
    page.wait_for_selector("#download:not([hidden])", timeout=60_000)  # the copy follows the findings
    # fits a 1366×768 screen: no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREEN["width"]
    page.screenshot(path=str(tmp_path / "page_1366x768.png"))
    if os.environ.get("PERFEVAL_SCREENSHOT"):  # for people: where to keep a copy
        page.screenshot(path=os.environ["PERFEVAL_SCREENSHOT"])
    with page.expect_download() as dl:
        page.click("#download")
    saved = tmp_path / dl.value.suggested_filename
    dl.value.save_as(saved)
    assert saved.name == "益阳市人民政府办公室_2024_已校验.xlsx"
    import openpyxl

    wb = openpyxl.load_workbook(saved)
    assert wb.sheetnames[0] == RESULT_SHEET and wb.sheetnames[-1] == LEDGER_SHEET


def test_page_takes_a_dropped_file_and_shows_a_refusal(page, service, seed_example, tmp_path):
    page.goto(service + "/")
    bad = base64.b64encode("单位,金额\n办公室,3527.66\n".encode("utf-8")).decode()
    page.evaluate("""(b64) => {
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], '自评表.xlsx'));
        document.getElementById('drop').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true}));
    }""", bad)
    page.wait_for_selector("#result:not([hidden])", timeout=30_000)
    text = page.inner_text("#verdict")
    assert "无法校验" in text and "CSV" in text
    assert page.is_hidden("#download")
    # then the example, dropped the same way: the service still serves
    good = base64.b64encode(open(seed_example, "rb").read()).decode()
    page.evaluate("""(b64) => {
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], '益阳.xlsx'));
        document.getElementById('drop').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true}));
    }""", good)
    page.wait_for_function("document.getElementById('verdict').textContent.includes('益阳.xlsx')", timeout=30_000)
    assert "错误" in page.inner_text("#verdict")
    page.wait_for_selector("#download:not([hidden])", timeout=60_000)


def test_page_asks_for_the_token_when_the_service_has_one(page, seed_example):
    token = "token-for-the-page-test-0123"
    with serving(ServerConfig(token=token)) as url:
        page.goto(url + "/")
        page.set_input_files("#file", seed_example)
        page.wait_for_selector("#token-box:not([hidden])", timeout=30_000)
        assert "口令" in page.inner_text("#status")
        page.fill("#token", token)
        page.click("#token-save")
        page.wait_for_selector("#result:not([hidden])", timeout=30_000)
        assert "错误" in page.inner_text("#verdict") and page.is_hidden("#token-box")
        page.wait_for_selector("#download:not([hidden])", timeout=60_000)


def test_page_shows_submitted_text_as_text(page, service, seed_example, tmp_path):
    """A cell holding markup is shown as characters, never run as HTML."""
    page.goto(service + "/")
    page.evaluate("""() => window.perfevalPage.render({ok: true, file: 'x.xlsx', error: null,
        counts: {error: 1, warning: 0, info: 0}, metrics: {}, findings: [1],
        groups: [{sheet: '<img src=x onerror=window.__pwned=1>', findings: [{cell: 'A1', severity: 'error',
        severity_label: '错误', code: 'PE1', message: '<script>window.__pwned=1</script>', expected: '', actual: ''}]}]})""")
    assert page.evaluate("window.__pwned") is None
    assert "<script>" in page.inner_text("#groups")


# ---- the add-in with a recording fake of Office.js --------------------------------------------------------

def fake_book(payload: dict, *, api: str = "1.18", protected=None, book_password=None) -> dict:
    """The fake's workbook, from the payload Excel would send for the same file.

    protected: sheet name -> password ("" = protected without one, as the template's sheets are);
    book_password: the workbook's structure is protected (with this password, "" = none)."""
    protected = protected or {}
    sheets = []
    for s in payload["sheets"]:
        sheets.append({"name": s["name"], "values": s["values"], "visibility": s.get("visibility", "Visible"),
                       "protected": s["name"] in protected, "password": protected.get(s["name"], ""),
                       "options": {"allowFormatCells": False, "allowInsertRows": True} if s["name"] in protected else {},
                       "notes": {n["address"]: "用户批注" for n in s["notes"]}})
    names = [{"name": n["name"], "sheet": payload["sheets"][n["sheet_index"]]["name"], "address": n["address"]}
             for n in payload["names"] if n.get("sheet_index") is not None and n.get("address")]
    return {"name": payload["book"]["name"], "apiVersion": api, "protected": book_password is not None,
            "password": book_password or "", "sheets": sheets, "names": names}


def file_protection(path: str) -> dict:
    """The sheets the workbook file itself protects, as the fake's `protected` (the template: all, no password)."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    return {ws.title: "" for ws in wb.worksheets if ws.protection.sheet and not ws.protection.password}


def snapshot(page) -> str:
    return page.evaluate("JSON.stringify(window.__fakeBook.sheets.map(s => [s.name, s.fills, s.notes, s.protected, "
                         "s.options, s.values.length]).concat([window.__fakeBook.protected]))")


def open_addin(page, service, book: dict, seen: list | None = None):
    with open(FAKE_OFFICE, encoding="utf-8") as fh:
        fake = fh.read()
    page.route(OFFICE_CDN, lambda route: route.fulfill(body=fake, content_type="text/javascript"))
    if seen is not None:  # what the command page posts
        def spy(route):
            seen.append(json.loads(route.request.post_data))
            route.continue_()
        page.route("**/api/xlwings/*", spy)
    page.add_init_script("window.__fakeBook = " + json.dumps(book, ensure_ascii=False) + ";")
    page.goto(service + "/addin/commands.html")
    page.wait_for_function("() => typeof (window.__fake && window.__fake.actions.validate) === 'function'", timeout=10_000)


def press(page, button: str) -> dict:
    """Click a ribbon button (the function Office calls), wait for event.completed(); the fake's state."""
    return page.evaluate("""(name) => new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('event.completed() never called')), 60000);
        window.__fake.actions[name]({completed: () => { clearTimeout(timer); resolve(window.__fake); }});
    })""", button)


def fills(state) -> dict:
    return {(s["name"], cell): color for s in state["state"]["sheets"] for cell, color in s["fills"].items()}


@pytest.fixture(scope="module")
def seed_payload(recalculated_seed):
    return payload_from_xlsx(recalculated_seed)


@pytest.fixture(scope="module")
def desktop(seed_payload):
    """What the desktop 校验 button does to the same workbook (validate_book on a live book)."""
    client = Client(copy.deepcopy(seed_payload))
    report, _ = client.run(validate_book)
    return client, report


def test_addin_marks_the_example_like_the_desktop_button(page, service, seed_payload, desktop, recalculated_seed):
    client, report = desktop
    seen: list = []
    locks = file_protection(recalculated_seed)
    assert {"三公经费情况表", "基础数据表", "绩效自评表"} <= set(locks)  # the template protects its sheets
    open_addin(page, service, fake_book(seed_payload, protected=locks), seen)
    state = press(page, "validate")
    assert state["errors"] == []
    # as the desktop button: protection without a password lifted for the marking, then put back as it was
    for s in state["state"]["sheets"]:
        if s["name"] in locks:
            assert s["protected"] is True and s["options"] == {"allowFormatCells": False, "allowInsertRows": True}
    assert {e[1] for e in state["log"] if e[0] == "unprotect"} == {s for s, _ in flagged(report)}
    # the payload the command page built is the one the suite builds from the file
    sent = seen[0]
    assert [s["name"] for s in sent["sheets"]] == [s["name"] for s in seed_payload["sheets"]]
    assert {n["name"]: (n["sheet_index"], n["address"]) for n in sent["names"]} == \
        {n["name"]: (n["sheet_index"], n["address"]) for n in seed_payload["names"] if n.get("address")}
    # the marks: the same fills on the same cells, the same notes, the same sheets in the same order
    assert fills(state) == client.marked() == flagged(report)
    book = state["state"]
    assert [s["name"] for s in book["sheets"]] == client.sheet_names()
    for s in book["sheets"]:
        assert set(s["notes"]) == client.notes(s["name"]), s["name"]
    result = book["sheets"][0]
    assert result["name"] == RESULT_SHEET and book["active"] == 0
    assert [r[:2] for r in result["values"][:3]] == [r[:2] for r in client.values(RESULT_SHEET)[:3]]
    assert book["sheets"][-1]["name"] == LEDGER_SHEET and book["sheets"][-1]["visibility"] == "Hidden"
    assert result["frozenRows"] > 0 and result["links"]  # 校验结果 rows link to their cells
    # the alert: the button's summary, shown once
    assert [d["text"] for d in state["dialogs"]] == [client.alerts[0][0]]

    # 清除标记: the workbook as it was
    state = press(page, "clearMarks")
    assert fills(state) == {}
    assert [s["name"] for s in state["state"]["sheets"]] == [s["name"] for s in seed_payload["sheets"]]
    for s, orig in zip(state["state"]["sheets"], seed_payload["sheets"]):
        assert set(s["notes"]) == {n["address"] for n in orig["notes"]}
    assert "已清除标记" in state["dialogs"][-1]["text"]


def test_addin_on_a_password_protected_sheet_changes_nothing_and_says_why(page, service, seed_payload,
                                                                         recalculated_seed):
    locks = dict(file_protection(recalculated_seed), 绩效自评表="财政局")
    open_addin(page, service, fake_book(seed_payload, protected=locks))
    # the fake refuses like Excel does
    code = page.evaluate("""() => Excel.run(async (ctx) => {
        const ws = ctx.workbook.worksheets.getItem('绩效自评表');
        ws.getRange('A1').format.fill.color = '#ff0000';
        await ctx.sync();
    }).then(() => 'ok', (e) => e.code)""")
    assert code == "AccessDenied"
    page.evaluate("window.__fake.errors.length = 0")
    before = snapshot(page)
    state = press(page, "validate")
    assert snapshot(page) == before  # not one cell, note, sheet or protection changed
    text = state["dialogs"][-1]["text"]
    assert "绩效自评表" in text and "密码" in text and "未作任何改动" in text


def test_addin_in_a_protected_workbook_structure(page, service, seed_payload, desktop):
    client, report = desktop
    open_addin(page, service, fake_book(seed_payload, book_password=""))
    state = press(page, "validate")  # no password: lifted to add 校验结果, then put back
    assert fills(state) == flagged(report) and state["state"]["protected"] is True
    assert state["state"]["sheets"][0]["name"] == RESULT_SHEET


def test_addin_in_a_password_protected_workbook_structure_changes_nothing(page, service, seed_payload):
    open_addin(page, service, fake_book(seed_payload, book_password="财政局"))
    before = snapshot(page)
    state = press(page, "validate")
    assert snapshot(page) == before
    assert "工作簿结构设有密码保护" in state["dialogs"][-1]["text"]


def test_addin_below_the_notes_api_never_calls_notes(page, service, seed_payload):
    seen: list = []
    open_addin(page, service, fake_book(seed_payload, api="1.17"), seen)
    state = press(page, "validate")
    assert "ApiNotFound" not in state["errors"]  # the command page did not touch notes
    assert all(s.get("notes_supported") is False and "notes" not in s for s in seen[0]["sheets"])
    assert state["dialogs"], "the clerk is told what happened"


def test_addin_below_the_notes_api_still_marks_the_cells(page, service, seed_payload, desktop):
    from perfeval_xl.writers.xlwings_apply import NOTES_UNSUPPORTED

    client, report = desktop
    open_addin(page, service, fake_book(seed_payload, api="1.17"))
    state = press(page, "validate")
    assert fills(state) == flagged(report)
    assert state["state"]["sheets"][0]["name"] == RESULT_SHEET
    assert all(set(s["notes"]) == {n["address"] for n in o["notes"]}
               for s, o in zip(state["state"]["sheets"][1:], seed_payload["sheets"]))
    # said once, in the alert
    assert [d["text"].count(NOTES_UNSUPPORTED) for d in state["dialogs"]] == [1]


def test_custom_functions_page_registers_and_computes(page, service):
    with open(FAKE_OFFICE, encoding="utf-8") as fh:
        fake = fh.read()
    page.route(OFFICE_CDN, lambda route: route.fulfill(body=fake, content_type="text/javascript"))
    page.goto(service + "/addin/functions.html")
    page.wait_for_function("() => !!(window.__fake && window.__fake.functions.PE_EXECRATE)", timeout=10_000)
    assert "PE_CHECK" not in page.evaluate("Object.keys(window.__fake.functions)")
    # Excel calls with matrices and the invocation context last
    rate = page.evaluate("window.__fake.functions.PE_EXECRATE([[3676.31]], [[3527.66]], {address: 'G4'})")
    assert rate[0][0] == pytest.approx(0.9596, abs=1e-4)
    grade = page.evaluate("window.__fake.functions.PE_GRADE([[99.6]], {address: 'H30'})")
    assert grade == [["优"]]
