"""The bureau's service: one FastAPI app in front of the same pipeline as the batch and the button.

  GET  /health                 alive, version, whether a guard is configured
  GET  /                       the browser page (WPS, LibreOffice, anyone without the add-in)
  POST /api/check              an uploaded workbook -> findings (JSON) and, base64, the marked copy
  POST /api/annotate           an uploaded workbook -> the marked copy itself (for scripts)
  POST /api/xlwings/validate   the Office.js client's workbook payload -> the actions that mark it
  POST /api/xlwings/clear      the same payload -> the actions that remove the marks
  POST /api/functions/{name}   a worksheet function (Office.js custom function =PERFEVAL.PE_EXECRATE(...))
  GET  /addin/manifest.xml     the Office add-in (绩效自评 tab: 校验, 清除标记), its command page and icons
  GET  /openapi.json, /docs    FastAPI's own

No domain logic here: uploads go through pipeline.check_file (whose reader runs safety's pre-flight) and
writers.annotate; payloads through excel.validate_book on xlwings' remote interpreter, whose book.json()
gives the actions. Nothing is written outside a per-request temporary folder, removed before the response
leaves, unless the bureau configures an archive folder.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import unicodedata
import uuid
from datetime import datetime

from fastapi import FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from .. import __version__
from .config import ServerConfig

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # remote interpreter: PolyForm Noncommercial

HERE = os.path.dirname(os.path.abspath(__file__))
STATIC_DIR = os.path.join(HERE, "static")
ADDIN_DIR = os.path.join(HERE, "addin")
log = logging.getLogger("perfeval.server")

UPLOAD_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".et")
_UNSAFE_NAME = re.compile(r"[\\/:*?\"<>|\x00-\x1f\x7f]")


def safe_upload_name(name: str | None) -> str:
    """The uploaded file's own name, reduced to a plain file name (no folders, no control characters).

    WPS's .et is stored as .xls: the pre-flight reads the content anyway, and LibreOffice converts it by name."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = unicodedata.normalize("NFC", _UNSAFE_NAME.sub("_", base)).strip(" .")[:120]
    stem, ext = os.path.splitext(base)
    if not stem:
        stem = "上传的工作簿"
    if ext.lower() == ".et":
        ext = ".xls"
    return stem + ext


def _event(**fields) -> None:
    """One structured log line: what happened and how long it took, never what the workbook says."""
    log.info(json.dumps(fields, ensure_ascii=False, default=str))


class _TooLarge(Exception):
    pass


class GuardMiddleware:
    """Network guard, token and request size limit, before any body is parsed (pure ASGI: sees the stream)."""

    def __init__(self, app, config: ServerConfig):
        self.app, self.config = app, config

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        path = scope.get("path", "")
        client = (scope.get("client") or ("", 0))[0]
        status = {"code": 0, "tripped": False}

        async def send_wrapped(message):
            if status["tripped"]:  # the body went over the limit: whatever the app answers becomes a 413
                if message["type"] == "http.response.start" and not status["code"]:
                    status["code"] = 413
                    await _json_response(send, 413, _too_large(limit))
                return
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        limit = None
        try:
            refusal = self._refuse(scope, client, path)
            if refusal:
                return await _json_response(send_wrapped, *refusal)
            limit = self._limit(path)
            if limit is not None:
                length = _header(scope, b"content-length")
                if length is not None and length.isdigit() and int(length) > limit:
                    return await _json_response(send_wrapped, 413, _too_large(limit))
                receive = _counting(receive, limit, status)
            try:
                await self.app(scope, receive, send_wrapped)
            except _TooLarge:
                if not status["code"]:
                    status["code"] = 413
                    await _json_response(send, 413, _too_large(limit))
        finally:
            _event(event="request", method=scope.get("method"), path=path, status=status["code"],
                   ms=round((time.perf_counter() - t0) * 1000, 1), client=client)

    def _refuse(self, scope, client: str, path: str):
        cfg = self.config
        if not cfg.allows(client):
            return 403, "本服务不对该网络地址开放（请联系财政局信息科把所在网段加入允许列表）"
        if cfg.token and path.startswith("/api/"):
            given = _header(scope, b"authorization") or ""
            if given.lower().startswith("bearer "):
                given = given[7:].strip()
            given = given or _header(scope, b"x-perfeval-token") or ""
            if not hmac.compare_digest(given.encode("utf-8", "replace"), cfg.token.encode("utf-8")):
                return 401, "访问口令不正确或未提供（请向财政局索取口令）"
        return None

    def _limit(self, path: str) -> int | None:
        if path.startswith("/api/xlwings/"):
            return self.config.max_payload_bytes
        if path.startswith("/api/"):
            return self.config.max_upload_bytes + 64 * 1024  # the multipart envelope around the file
        return 64 * 1024


def _manifest_version() -> str:
    """Office wants four numbers: the package version padded."""
    parts = [p for p in re.split(r"[^0-9]+", __version__) if p][:4]
    return ".".join(parts + ["0"] * (4 - len(parts)))


def _too_large(limit: int) -> str:
    return f"提交的内容过大（上限 {limit / 1048576:.0f} MB），不像一份自评表；请删除无关数据后重新提交"


def _header(scope, name: bytes) -> str | None:
    for k, v in scope.get("headers") or ():
        if k.lower() == name:
            return v.decode("latin-1")
    return None


def _counting(receive, limit: int, status: dict):
    seen = {"n": 0}

    async def wrapped():
        message = await receive()
        if message["type"] == "http.request":
            seen["n"] += len(message.get("body", b""))
            if seen["n"] > limit:
                status["tripped"] = True  # the framework may wrap the exception: remember it here
                raise _TooLarge()
        return message

    return wrapped


async def _json_response(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


# ---- the work, outside the web framework (also used by the benchmark) ------------------------------

def grouped_findings(report) -> list[dict]:
    """Findings grouped by sheet in the report's order, as the CLI prints them ("" = the workbook)."""
    groups: list[dict] = []
    for f in report.findings:
        if not groups or groups[-1]["sheet"] != f.sheet:
            groups.append({"sheet": f.sheet, "findings": []})
        groups[-1]["findings"].append({**f.to_dict(), "severity_label": f.severity.label})
    return groups


def report_body(report, name: str) -> dict:
    from ..output import summary_line

    body = report.to_dict()
    body["path"] = name  # never the request's temporary folder
    for part in body.get("forms", ()):
        part["path"] = name
    body.update(
        file=name,
        ok=report.error is None,
        summary=summary_line(report),
        counts={"error": report.errors, "warning": report.warnings, "info": report.infos},
        groups=grouped_findings(report),
    )
    return body


def check_upload(src: str, name: str, config: ServerConfig, *, annotate: bool = True) -> tuple[dict, bytes | None]:
    """Check a workbook saved at src (in a request's temporary folder): the JSON body and the marked copy."""
    from ..pipeline import CheckOptions, check_file
    from ..writers.annotate import annotate as write_marks
    from ..writers.annotate import default_dest

    report = check_file(src, CheckOptions(config=config.rules_config))
    body = report_body(report, name)
    marked = None
    if annotate and report.error is None:
        dest = os.path.join(os.path.dirname(src), "out", os.path.basename(default_dest(src)))
        try:
            written = write_marks(src, report, dest)
            with open(written, "rb") as fh:
                marked = fh.read()
            body["annotated_name"] = os.path.splitext(default_dest(name))[0] + os.path.splitext(written)[1]
        except Exception as e:  # the findings stand even when the copy cannot be written
            body["annotate_error"] = f"无法生成标注副本：{e}"
    return body, marked


def _archive(config: ServerConfig, src: str, name: str, body: dict, marked: bytes | None) -> None:
    """The bureau asked to keep submissions: <archive>/<date>/<time>_<id>_<name> (+ .json, + marked copy)."""
    day = os.path.join(config.archive, datetime.now().strftime("%Y%m%d"))
    os.makedirs(day, exist_ok=True)
    stem = f"{datetime.now():%H%M%S}_{uuid.uuid4().hex[:8]}_{name}"
    shutil.copyfile(src, os.path.join(day, stem))
    with open(os.path.join(day, stem + ".json"), "w", encoding="utf-8") as fh:
        json.dump({k: v for k, v in body.items() if k != "annotated"}, fh, ensure_ascii=False, indent=1)
    if marked is not None and body.get("annotated_name"):
        with open(os.path.join(day, f"{stem}__{body['annotated_name']}"), "wb") as fh:
            fh.write(marked)


def run_payload(payload, config: ServerConfig, action: str) -> dict:
    """The Office.js client's payload -> {"actions": [...], ...}; raises ValueError (Chinese) for a bad payload."""
    import xlwings as xw

    from ..excel import clear_marks, summary_text, validate_book

    if not isinstance(payload, dict) or not isinstance(payload.get("sheets"), list) or not payload["sheets"]:
        raise ValueError("工作簿数据格式不正确（缺少 sheets）")
    if not isinstance(payload.get("book"), dict):
        raise ValueError("工作簿数据格式不正确（缺少 book）")
    payload.setdefault("names", [])
    payload["client"] = "Office.js"  # our own command page, served by this service
    payload["version"] = xw.__version__  # ...so its xlwings version is ours by construction
    for sheet in payload["sheets"]:
        if not isinstance(sheet, dict) or not isinstance(sheet.get("values"), list):
            raise ValueError("工作簿数据格式不正确（工作表缺少 values）")
        sheet.setdefault("pictures", [])
        sheet.setdefault("tables", [])
        if sheet.get("notes_supported") is not False:
            sheet.setdefault("notes", [])
        if not sheet["values"]:
            sheet["values"] = [[""]]
    # xlwings' remote engine keeps its books in one process-wide App, and app-level actions (the alert) go to
    # the App's active book: one book at a time, closed afterwards so that the App does not keep every payload
    with _REMOTE_BOOK:
        try:
            book = xw.Book(json=payload)
        except Exception as e:
            raise ValueError(f"工作簿数据格式不正确（{type(e).__name__}）") from None
        try:
            if action == "clear":
                restored = clear_marks(book)
                return {"actions": book.json()["actions"], "restored": restored}
            report = validate_book(book, config=config.rules_config)
            out = report_body(report, str(payload["book"].get("name") or ""))
            out["actions"] = book.json()["actions"]
        finally:
            book.close()
    alerts = [a["args"][0] for a in out["actions"] if a.get("func") == "alert" and a.get("args")]
    out["message"] = alerts[0] if alerts else summary_text(report)  # what the clerk is shown
    return out


_REMOTE_BOOK = threading.Lock()


# ---- the app --------------------------------------------------------------------------------------

def create_app(config: ServerConfig | None = None):
    from ..errors import ConfigError
    from ..settings import load_settings
    from .functions import call as call_function
    from .functions import functions_js, functions_meta
    from .manifest import icon_png, manifest_xml

    config = config or ServerConfig()
    if config.rules_config:
        try:  # a wrong settings file is found at start, not on the first clerk's request
            from ..pipeline import check_settings_codes

            check_settings_codes(load_settings(config=config.rules_config))
        except ConfigError as e:
            raise ConfigError(f"规则设置有误：{e}") from None
    slots = threading.BoundedSemaphore(config.max_concurrent)

    app = FastAPI(title="perfeval-xl 绩效自评校验服务", version=__version__,
                  description="部门整体支出绩效自评表的校验服务：上传工作簿或由 Excel 加载项提交工作簿数据，返回校验结果与标注。")
    app.state.config = config

    @app.get("/health", summary="服务状态")
    def health():
        return {"status": "ok", "version": __version__, "guarded": config.guarded,
                "archive": bool(config.archive)}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page():
        return FileResponse(os.path.join(STATIC_DIR, "index.html"), media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    def _receive(upload: UploadFile, folder: str) -> tuple[str, str, str, int]:
        name = safe_upload_name(upload.filename)
        src = os.path.join(folder, name)
        digest = hashlib.sha256()
        size = 0
        with open(src, "wb") as out:
            while chunk := upload.file.read(1 << 20):
                size += len(chunk)
                if size > config.max_upload_bytes:
                    raise HTTPException(413, _too_large(config.max_upload_bytes))
                digest.update(chunk)
                out.write(chunk)
        return src, name, digest.hexdigest()[:16], size

    def _checked(upload: UploadFile, annotate: bool):
        t0 = time.perf_counter()
        with slots, tempfile.TemporaryDirectory(prefix="perfeval_srv_") as folder:
            src, name, digest, size = _receive(upload, folder)
            body, marked = check_upload(src, name, config, annotate=annotate)
            if config.archive:
                try:
                    _archive(config, src, name, body, marked)
                except OSError as e:
                    _event(event="archive_failed", reason=type(e).__name__)
        _event(event="check", sha256=digest, bytes=size, refused=body["error"] is not None,
               errors=body["counts"]["error"], warnings=body["counts"]["warning"], infos=body["counts"]["info"],
               marked=marked is not None, ms=round((time.perf_counter() - t0) * 1000, 1))
        return body, marked

    @app.post("/api/check", summary="上传工作簿，返回校验结果（JSON）与标注副本（base64）")
    def check(file: UploadFile = File(..., description="工作簿：.xlsx .xlsm .xls .ods .et"),
              annotate: bool = Query(True, description="同时生成标注副本")):
        body, marked = _checked(file, annotate)
        if marked is not None:
            body["annotated"] = base64.b64encode(marked).decode("ascii")
        return JSONResponse(body, status_code=200 if body["ok"] else 422)

    @app.post("/api/annotate", summary="上传工作簿，直接下载标注副本",
              responses={200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
    def annotate_copy(file: UploadFile = File(...)):
        body, marked = _checked(file, True)
        if marked is None:
            return JSONResponse(body, status_code=422)
        from urllib.parse import quote

        name = body["annotated_name"]
        media = ("application/vnd.ms-excel.sheet.macroEnabled.12" if name.endswith(".xlsm")
                 else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        return Response(marked, media_type=media, headers={
            "Content-Disposition": f"attachment; filename=\"checked.xlsx\"; filename*=UTF-8''{quote(name)}",
            "X-Perfeval-Name": quote(name), "X-Perfeval-Summary": quote(body["summary"])})

    def _payload_route(action: str):
        def handler(payload: dict):
            t0 = time.perf_counter()
            with slots:
                try:
                    out = run_payload(payload, config, action)
                except ValueError as e:
                    _event(event=action, refused=True, ms=round((time.perf_counter() - t0) * 1000, 1))
                    raise HTTPException(400, str(e)) from None
                except NotImplementedError as e:  # the client's Excel lacks an API the marks need
                    _event(event=action, refused=True, unsupported=type(e).__name__)
                    what = "批注（需要 ExcelApi 1.18）" if "Note" in str(e) else "部分功能"
                    raise HTTPException(422, f"此版本的 Excel 不支持标注所需的{what}；请升级 Excel，"
                                             "或在网页上上传工作簿校验并下载标注副本。") from None
            _event(event=action, sheets=len(payload["sheets"]), actions=len(out["actions"]),
                   errors=out.get("counts", {}).get("error"), ms=round((time.perf_counter() - t0) * 1000, 1))
            return out
        return handler

    app.post("/api/xlwings/validate", summary="Excel 加载项“校验”：工作簿数据 -> 标注动作")(_payload_route("validate"))
    app.post("/api/xlwings/clear", summary="Excel 加载项“清除标记”：工作簿数据 -> 恢复动作")(_payload_route("clear"))

    @app.get("/addin/manifest.xml", include_in_schema=False)
    def manifest(request: Request, token: str = ""):
        base = config.public_url or str(request.base_url).rstrip("/")
        # the token goes into the command page's URL only for whoever already holds it (the administrator)
        ok = bool(config.token) and hmac.compare_digest(token.encode("utf-8", "replace"), config.token.encode())
        return Response(manifest_xml(base, token if ok else "", version=_manifest_version()),
                        media_type="application/xml; charset=utf-8")

    @app.get("/addin/icon-{size}.png", include_in_schema=False)
    def icon(size: int):
        if size not in (16, 32, 64, 80):
            raise HTTPException(404)
        return Response(icon_png(size), media_type="image/png")

    @app.get("/addin/functions.json", include_in_schema=False)
    def functions_json():
        return functions_meta()

    @app.get("/addin/functions.js", include_in_schema=False)
    def functions_script(t: str = ""):
        ok = bool(config.token) and hmac.compare_digest(t.encode("utf-8", "replace"), config.token.encode())
        return Response(functions_js(t if ok else ""), media_type="text/javascript; charset=utf-8")

    @app.post("/api/functions/{name}", summary="工作表函数（Office.js 自定义函数）：参数 -> 结果（二维数组）")
    def custom_function(name: str, body: dict):
        try:
            result = call_function(name, body.get("args", []))
        except KeyError:
            raise HTTPException(404, f"没有工作表函数 {name}") from None
        except (ValueError, TypeError) as e:
            raise HTTPException(400, str(e) or "参数不对") from None
        return {"result": result}

    app.mount("/addin", StaticFiles(directory=ADDIN_DIR), name="addin")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    app.add_middleware(GuardMiddleware, config=config)  # outermost of ours: before any body is read
    return app
