"""The bureau's service through FastAPI's TestClient: the same checks as the batch and the button, every
hostile file of the batch corpus refused in Chinese while the service goes on, limits, token, allow-list,
nothing left on disk, logs without the workbook's contents."""
from __future__ import annotations

import copy
import io
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from xml.etree import ElementTree

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("multipart")
from fastapi.testclient import TestClient  # noqa: E402

from perfeval_xl.errors import ConfigError  # noqa: E402
from perfeval_xl.marks import LEDGER_SHEET, RESULT_SHEET  # noqa: E402
from perfeval_xl.output import summary_line  # noqa: E402
from perfeval_xl.pipeline import CheckOptions, check_file  # noqa: E402
from perfeval_xl.server import ServerConfig, create_app, load_server_config  # noqa: E402
from perfeval_xl.server.serve import check_bind  # noqa: E402

import test_hostile as hostile  # noqa: E402  (the batch's corpus builders)
from test_excel import Client, flagged, payload_from_xlsx  # noqa: E402

TOKEN = "s3cret-token-for-tests-0123"


def client(**cfg) -> TestClient:
    return TestClient(create_app(ServerConfig(**cfg)))


def upload(c, path, name=None, **kw):
    with open(path, "rb") as fh:
        return c.post("/api/check", files={"file": (name or os.path.basename(path), fh.read())}, **kw)


@pytest.fixture(scope="module")
def app_client():
    return client()


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Temporary files of the requests go here, so that the test can see none is left."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


# ---- health, documents ---------------------------------------------------------------------------

def test_health_and_openapi(app_client):
    h = app_client.get("/health").json()
    assert h["status"] == "ok" and h["guarded"] is False and h["archive"] is False
    paths = app_client.get("/openapi.json").json()["paths"]
    for p in ("/health", "/api/check", "/api/annotate", "/api/xlwings/validate", "/api/xlwings/clear"):
        assert p in paths


def test_page_and_its_assets_come_from_the_service(app_client):
    page = app_client.get("/")
    assert page.status_code == 200 and "绩效自评表" in page.text
    # no CDN: every script and stylesheet is served from here
    assert "http://" not in page.text and "https://" not in page.text
    for asset in ("/static/app.js", "/static/style.css"):
        assert app_client.get(asset).status_code == 200


# ---- uploads: the same findings as the batch -----------------------------------------------------

def test_example_upload_gives_the_batch_findings_and_a_marked_copy(app_client, seed_example, private_tmp):
    r = upload(app_client, seed_example)
    assert r.status_code == 200
    body = r.json()
    batch = check_file(seed_example, CheckOptions())
    assert [(f["code"], f["sheet"], f["cell"], f["message"]) for f in body["findings"]] == \
        [(f.code, f.sheet, f.cell, f.message) for f in batch.findings]
    assert body["summary"] == summary_line(batch)
    assert body["path"] == os.path.basename(seed_example)  # never the server's temporary folder
    # grouped by sheet in the CLI's order, nothing lost
    assert [f for g in body["groups"] for f in g["findings"]] == \
        [{**f.to_dict(), "severity_label": f.severity.label} for f in batch.findings]
    assert [g["sheet"] for g in body["groups"]] == list(dict.fromkeys(f.sheet for f in batch.findings))
    # the marked copy: 校验结果 first, the flagged cells filled
    import base64

    import openpyxl

    assert body["annotated_name"] == "益阳市人民政府办公室_2024_已校验.xlsx"
    wb = openpyxl.load_workbook(io.BytesIO(base64.b64decode(body["annotated"])))
    assert wb.sheetnames[0] == RESULT_SHEET and wb.sheetnames[-1] == LEDGER_SHEET
    for (sheet, cell) in flagged(batch):
        assert wb[sheet][cell].fill.fgColor.rgb not in (None, "00000000"), (sheet, cell)
    assert list(private_tmp.iterdir()) == []  # nothing kept after the response


def test_annotate_endpoint_returns_the_file(app_client, seed_example):
    with open(seed_example, "rb") as fh:
        r = app_client.post("/api/annotate", files={"file": ("自评表.xlsx", fh.read())})
    assert r.status_code == 200
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    assert zipfile.ZipFile(io.BytesIO(r.content)).getinfo("xl/workbook.xml")


def test_wps_et_name_is_read_by_content(app_client, seed_example):
    r = upload(app_client, seed_example, name="办公室自评.et")
    assert r.status_code == 200, r.json()
    assert r.json()["findings"] and r.json()["annotated_name"].endswith(".xlsx")


def test_bureau_settings_apply_to_every_request(tmp_path, seed_example):
    cfg = tmp_path / "perfeval.toml"
    cfg.write_text('"执行率下限" = "97%"\n\n[server]\nmax_upload_mb = 5\n', encoding="utf-8")
    base = {(f["code"], f["cell"]) for f in upload(client(), seed_example).json()["findings"]}
    c = TestClient(create_app(load_server_config(str(cfg))))
    strict = {(f["code"], f["cell"]) for f in upload(c, seed_example).json()["findings"]}
    assert any(cell == "G4" for _, cell in strict - base)  # 95.96% is now below the bureau's 97%
    # the same file as the batch's --config
    assert strict == {(f.code, f.cell) for f in check_file(seed_example, CheckOptions(config=str(cfg))).findings}


def test_a_wrong_server_table_is_refused_at_start(tmp_path):
    cfg = tmp_path / "perfeval.toml"
    cfg.write_text('[server]\nmax_upload_mb = -1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="max_upload_mb"):
        load_server_config(str(cfg))
    cfg.write_text('[server]\ntokn = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="tokn"):
        load_server_config(str(cfg))
    cfg.write_text('[server]\nallow = ["not-a-net"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="not-a-net"):
        load_server_config(str(cfg))


# ---- hostile files: a clear refusal, and the service keeps serving --------------------------------

UPLOADABLE = [(b, phrase) for b, phrase in hostile.REFUSED
              if b not in (hostile.b_directory, hostile.b_missing, hostile.b_no_permission)]


def test_every_hostile_file_is_refused_in_chinese_and_the_service_goes_on(app_client, seed_example, tmp_path,
                                                                          private_tmp, caplog):
    d = tmp_path / "in"
    d.mkdir()
    assert len(UPLOADABLE) >= 15
    caplog.set_level(logging.INFO, logger="perfeval.server")
    for builder, phrase in UPLOADABLE:
        path = builder(d, seed_example)
        t0 = time.perf_counter()
        r = upload(app_client, path)
        assert time.perf_counter() - t0 < 20, builder.__name__  # hang/DoS guard, not a speed test
        assert r.status_code == 422, (builder.__name__, r.status_code, r.text[:200])
        body = r.json()
        assert body["ok"] is False and phrase in body["error"], (builder.__name__, body["error"])
        assert "annotated" not in body
        assert str(tmp_path) not in body["error"]
        # and the next clerk is served
        assert upload(app_client, seed_example, params={"annotate": "false"}).status_code == 200
    assert list(private_tmp.iterdir()) == []
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "perfeval.server"]
    assert sum('"event": "check"' in ln and '"refused": true' in ln for ln in lines) == len(UPLOADABLE)


def test_logs_carry_no_workbook_contents(app_client, seed_example, caplog):
    caplog.set_level(logging.INFO, logger="perfeval.server")
    upload(app_client, seed_example)
    app_client.post("/api/xlwings/validate", json=payload_from_xlsx(seed_example))
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "perfeval.server"]
    assert any('"event": "check"' in ln for ln in lines) and any('"event": "validate"' in ln for ln in lines)
    text = "\n".join(lines)
    for secret in ("益阳", "三公", "绩效自评表", "3527.66", "PE"):
        assert secret not in text
    for ln in lines:
        json.loads(ln)  # structured: one JSON object a line


# ---- limits -----------------------------------------------------------------------------------------

def test_too_large_upload_is_refused_before_it_is_read(seed_example, private_tmp):
    c = client(max_upload_bytes=20_000)
    r = upload(c, seed_example)  # ~30 KB
    assert r.status_code == 413 and "过大" in r.json()["detail"]

    def chunks():  # no Content-Length: the stream is counted as it arrives
        yield (b'--zz\r\nContent-Disposition: form-data; name="file"; filename="a.xlsx"\r\n'
               b"Content-Type: application/octet-stream\r\n\r\n")
        for _ in range(400):
            yield b"x" * 4096

    r = c.post("/api/check", content=chunks(), headers={"content-type": "multipart/form-data; boundary=zz"})
    assert r.status_code == 413
    assert c.get("/health").status_code == 200
    assert list(private_tmp.iterdir()) == []


def test_too_large_payload_is_refused(seed_example):
    c = client(max_payload_bytes=10_000)
    r = c.post("/api/xlwings/validate", json=payload_from_xlsx(seed_example))
    assert r.status_code == 413 and "过大" in r.json()["detail"]


# ---- token and networks -------------------------------------------------------------------------------

def test_token_guards_the_api_but_not_the_page(seed_example):
    c = client(token=TOKEN)
    assert upload(c, seed_example).status_code == 401
    r = upload(c, seed_example, headers={"Authorization": "Bearer wrong-token-wrong-token"})
    assert r.status_code == 401 and "口令" in r.json()["detail"]
    assert upload(c, seed_example, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert upload(c, seed_example, headers={"X-Perfeval-Token": TOKEN}).status_code == 200
    assert c.post("/api/xlwings/validate", json={}).status_code == 401
    assert c.get("/").status_code == 200 and c.get("/health").status_code == 200


def test_allow_list_and_loopback_only_without_guard():
    from ipaddress import ip_network

    assert ServerConfig().allows("127.0.0.1") and ServerConfig().allows("::1")
    assert not ServerConfig().allows("10.1.2.3")  # unguarded: loopback only
    office = ServerConfig(allow=(ip_network("10.12.0.0/16"),))
    assert office.allows("10.12.9.9") and office.allows("::ffff:10.12.9.9") and not office.allows("10.13.0.1")
    assert ServerConfig(token=TOKEN).allows("10.1.2.3")  # the token is the guard
    # through the app: a client from another network is turned away before anything is read
    c = TestClient(create_app(office), client=("10.13.0.1", 40000))
    r = c.get("/")
    assert r.status_code == 403 and "网段" in r.json()["detail"]
    c = TestClient(create_app(office), client=("10.12.0.7", 40000))
    assert c.get("/health").status_code == 200
    c = TestClient(create_app(ServerConfig()), client=("192.168.1.5", 40000))
    assert c.get("/health").status_code == 403


def test_serving_beyond_loopback_needs_a_guard():
    with pytest.raises(ConfigError, match="127.0.0.1"):
        check_bind("0.0.0.0", ServerConfig())
    check_bind("127.0.0.1", ServerConfig())
    check_bind("0.0.0.0", ServerConfig(token=TOKEN))
    from perfeval_xl.cli import main

    assert main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_perfeval_serve_starts_with_one_command(tmp_path, seed_example):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "perfeval_xl.cli", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    try:
        deadline = time.time() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as resp:
                    assert json.load(resp)["status"] == "ok"
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.time() < deadline, "the service did not start within 20 s"
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    err = proc.stderr.read().decode()
    assert "校验服务" in err


# ---- the archive, when the bureau asks for one --------------------------------------------------------

def test_archive_keeps_upload_findings_and_copy(tmp_path, seed_example):
    arch = tmp_path / "存档"
    c = client(archive=str(arch))
    assert upload(c, seed_example).status_code == 200
    files = sorted(p.name for p in arch.rglob("*") if p.is_file())
    assert len(files) == 3
    assert any(f.endswith("_益阳市人民政府办公室_2024.xlsx") for f in files)
    assert any(f.endswith(".json") for f in files) and any("已校验" in f for f in files)


# ---- the Office.js payload: the desktop button's marks --------------------------------------------------

@pytest.fixture(scope="module")
def seed_payload(recalculated_seed):
    return payload_from_xlsx(recalculated_seed)


def test_payload_endpoint_marks_like_the_desktop_button(app_client, seed_payload):
    from perfeval_xl.excel import validate_book

    r = app_client.post("/api/xlwings/validate", json=seed_payload)
    assert r.status_code == 200
    body = r.json()
    over_http = Client(copy.deepcopy(seed_payload))
    over_http.apply(body["actions"])
    desktop = Client(copy.deepcopy(seed_payload))
    report, _ = desktop.run(validate_book)
    assert over_http.marked() == desktop.marked() == flagged(report)
    assert over_http.sheet_names() == desktop.sheet_names()
    assert over_http.values(RESULT_SHEET)[:3] == desktop.values(RESULT_SHEET)[:3]
    for s in over_http.sheet_names():
        assert over_http.notes(s) == desktop.notes(s)
    assert over_http.alerts == [[body["message"], "绩效自评校验", "ok", "", ""]]
    assert body["counts"] == {"error": report.errors, "warning": report.warnings, "info": report.infos}

    # 清除标记 on the marked book gives it back as it came
    r = app_client.post("/api/xlwings/clear", json=over_http.payload)
    assert r.status_code == 200 and r.json()["restored"] == len(flagged(report))
    over_http.apply(r.json()["actions"])
    assert over_http.marked() == {}
    assert over_http.sheet_names() == [s["name"] for s in seed_payload["sheets"]]


def test_concurrent_payloads_each_get_their_own_alert(app_client, seed_payload):
    """xlwings' remote engine shares one App: an alert must never land in another request's actions."""
    import xlwings as xw
    from concurrent.futures import ThreadPoolExecutor

    other = {"client": "Office.js", "version": xw.__version__, "names": [],
             "book": {"name": "购物清单.xlsx", "active_sheet_index": 0, "selection": "A1"},
             "sheets": [{"name": "Sheet1", "values": [["苹果", 3], ["梨", 5]], "pictures": [], "tables": [],
                         "notes": []}]}
    jobs = [copy.deepcopy(seed_payload if i % 2 else other) for i in range(12)]
    with ThreadPoolExecutor(6) as pool:
        bodies = list(pool.map(lambda p: app_client.post("/api/xlwings/validate", json=p).json(), jobs))
    for i, body in enumerate(bodies):
        alerts = [a["args"][0] for a in body["actions"] if a["func"] == "alert"]
        assert alerts == [body["message"]]
        assert alerts[0].startswith("无法校验") == (i % 2 == 0)


def test_a_broken_payload_gets_a_reason(app_client):
    for bad in ({}, {"book": {"name": "x"}, "sheets": "no"}, {"book": {}, "sheets": [{"name": "S"}]}):
        r = app_client.post("/api/xlwings/validate", json=bad)
        assert r.status_code == 400 and "格式不正确" in r.json()["detail"]
    r = app_client.post("/api/xlwings/validate", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert app_client.get("/health").status_code == 200


def test_client_without_notes_gets_fills_and_the_result_sheet(app_client, seed_payload):
    from perfeval_xl.writers.xlwings_apply import NOTES_UNSUPPORTED

    payload = copy.deepcopy(seed_payload)
    for s in payload["sheets"]:
        s["notes_supported"] = False
        s.pop("notes", None)
    r = app_client.post("/api/xlwings/validate", json=payload)
    assert r.status_code == 200, r.text[:300]
    funcs = [a["func"] for a in r.json()["actions"]]
    assert "addNote" not in funcs and "setRangeColor" in funcs and "addSheet" in funcs
    alerts = [a["args"][0] for a in r.json()["actions"] if a["func"] == "alert"]
    assert alerts == [r.json()["message"]] and alerts[0].count(NOTES_UNSUPPORTED) == 1


# ---- the add-in's manifest ------------------------------------------------------------------------------

def test_manifest_has_the_tab_and_both_buttons():
    c = TestClient(create_app(ServerConfig(public_url="https://perfeval.czj.example.gov.cn", token=TOKEN)))
    xml = c.get("/addin/manifest.xml").text
    root = ElementTree.fromstring(xml.encode("utf-8"))
    ns = {"o": "http://schemas.microsoft.com/office/appforoffice/1.1",
          "v": "http://schemas.microsoft.com/office/taskpaneappversionoverrides",
          "bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0"}
    strings = {s.get("id"): s.get("DefaultValue") for s in root.iter(f"{{{ns['bt']}}}String")}
    assert strings["Tab.Label"] == "绩效自评"
    assert strings["Validate.Label"] == "校验" and strings["Clear.Label"] == "清除标记"
    functions = [f.text for f in root.iter(f"{{{ns['v']}}}FunctionName")]
    assert functions == ["validate", "clearMarks"]
    urls = [u.get("DefaultValue") for u in root.iter(f"{{{ns['bt']}}}Url")]
    assert urls[0] == "https://perfeval.czj.example.gov.cn/addin/commands.html"  # no token unless asked with it
    assert not any("?t=" in u for u in urls)
    assert root.find("o:Requirements/o:Sets/o:Set", ns).get("MinVersion") == "1.7"
    with_token = c.get("/addin/manifest.xml", params={"token": TOKEN}).text
    assert f"commands.html?t={TOKEN}" in with_token
    assert TOKEN not in c.get("/addin/manifest.xml", params={"token": "guess-guess-guess-guess"}).text
    for size in (16, 32, 80):
        png = c.get(f"/addin/icon-{size}.png").content
        assert png.startswith(b"\x89PNG") and int.from_bytes(png[16:20], "big") == size
    assert c.get("/addin/commands.html").status_code == 200


# ---- the worksheet functions as Office.js custom functions -------------------------------------------------

def test_custom_functions_metadata_comes_from_the_udfs(app_client):
    meta = app_client.get("/addin/functions.json").json()
    ids = [f["id"] for f in meta["functions"]]
    assert {"PE_EXECRATE", "PE_EXECSCORE", "PE_INDICATOR_SCORE", "PE_VARIANCE", "PE_VARIANCE_PCT", "PE_GRADE"} <= set(ids)
    assert "PE_CHECK" not in ids  # it reads the whole workbook: the 校验 button's job
    rate = next(f for f in meta["functions"] if f["id"] == "PE_EXECRATE")
    assert [p["name"] for p in rate["parameters"]] == ["budget", "actual"]
    assert rate["parameters"][0]["description"].startswith("全年预算数")
    score = next(f for f in meta["functions"] if f["id"] == "PE_EXECSCORE")
    assert score["parameters"][-1]["optional"] is True
    js = app_client.get("/addin/functions.js").text
    assert "CustomFunctions.associate" in js and "PE_EXECRATE" in js


def test_custom_functions_run_the_same_python(app_client):
    from perfeval_xl import udfs

    r = app_client.post("/api/functions/PE_EXECRATE", json={"args": [[["3,676.31"]], [[3527.66]]]})
    assert r.status_code == 200
    assert r.json()["result"] == [[pytest.approx(0.9596, abs=1e-4)]]
    assert r.json()["result"] == [[udfs.PE_EXECRATE([["3,676.31"]], [[3527.66]])]]
    # the seed's execution score: 10 × 95.96% = 9.6; the optional 分值 left out takes its default
    r = app_client.post("/api/functions/PE_EXECSCORE", json={"args": [[[3676.31]], [[3527.66]], None]})
    assert r.json()["result"] == [[pytest.approx(9.6, abs=0.01)]]
    # a bad cell gets the function's Chinese message in the cell, not an HTTP error
    r = app_client.post("/api/functions/PE_EXECRATE", json={"args": [[["abc"]], [[1]]]})
    assert r.status_code == 200 and isinstance(r.json()["result"][0][0], str)
    assert app_client.post("/api/functions/PE_CHECK", json={"args": [[[1]]]}).status_code == 404
    assert app_client.post("/api/functions/__import__", json={"args": []}).status_code == 404
    assert client(token=TOKEN).post("/api/functions/PE_GRADE", json={"args": [[[95]]]}).status_code == 401


def test_old_formats_are_checked(app_client, tmp_path, seed_example, soffice):
    """.xls, and WPS's .et (the same OLE2 container): read by content with the batch's readers."""
    import shutil

    src = tmp_path / "src"
    src.mkdir()
    shutil.copyfile(seed_example, src / "seed.xlsx")
    out = tmp_path / "out"
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to",
                    "xls:MS Excel 97", "--outdir", str(out), str(src / "seed.xlsx")],
                   check=True, capture_output=True, timeout=180)
    xls = out / "seed.xls"
    batch = check_file(str(xls), CheckOptions())
    assert batch.error is None
    for name in ("办公室自评.xls", "办公室自评.et"):
        # findings only: the .xls marked copy is writers.annotate's LibreOffice path, tested with the batch
        r = upload(app_client, xls, name=name, params={"annotate": "false"})
        assert r.status_code == 200, r.json().get("error")
        assert [(f["code"], f["cell"]) for f in r.json()["findings"]] == [(f.code, f.cell) for f in batch.findings]


def test_an_unknown_rule_code_in_the_bureau_settings_stops_the_service_at_start(tmp_path):
    cfg = tmp_path / "perfeval.toml"
    cfg.write_text('ignore = ["PE999"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="PE999"):
        create_app(load_server_config(str(cfg)))
