"""The bureau's service under load: files per second and latency percentiles with N concurrent clients,
and the service's memory after 1 000 requests (it must not grow).

    python bench/bench_server.py                       # 1, 4 and 8 clients, 200 requests each; 1 000 for memory
    python bench/bench_server.py --clients 16 --requests 400
    python bench/bench_server.py --endpoint payload    # the Office.js add-in's endpoint instead of uploads

The service runs as `perfeval serve` does (uvicorn, one process) in a child process on a loopback port;
clients are threads posting the example workbook over real HTTP (keep-alive). Every timing is also given as a
ratio against the same work done in one process without HTTP, in this run: check_file (upload, no copy),
check_file + annotate (upload with the marked copy), validate_book on xw.Book(json=...) (payload).
"""
from __future__ import annotations

import argparse
import copy
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def start_service(port: int, extra=()) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "perfeval_xl.cli", "serve", "--port", str(port), *extra],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the service did not start")


def multipart(path: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    with open(path, "rb") as fh:
        data = fh.read()
    name = os.path.basename(path).encode("utf-8")
    body = (b"--" + boundary.encode() + b"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name
            + b"\"\r\nContent-Type: application/octet-stream\r\n\r\n" + data + b"\r\n--" + boundary.encode() + b"--\r\n")
    return body, f"multipart/form-data; boundary={boundary}"


def request_maker(endpoint: str, example: str):
    if endpoint == "payload":
        from test_excel import payload_from_xlsx

        body = json.dumps(payload_from_xlsx(example)).encode("utf-8")
        return "/api/xlwings/validate", body, "application/json"
    body, ctype = multipart(example)
    path = "/api/check?annotate=" + ("true" if endpoint == "upload+copy" else "false")
    return path, body, ctype


def load(port: int, clients: int, requests: int, path: str, body: bytes, ctype: str) -> dict:
    """clients threads share `requests` POSTs; each keeps one connection. Latencies in ms."""
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if next(counter, None) is None:
                    break
            t0 = time.perf_counter()
            conn.request("POST", path, body=body, headers={"Content-Type": ctype})
            resp = conn.getresponse()
            resp.read()
            dt = (time.perf_counter() - t0) * 1000
            with lock:
                lat.append(dt)
                if resp.status != 200:
                    errors[0] += 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))]

    return {"clients": clients, "requests": len(lat), "errors": errors[0], "files_per_s": len(lat) / wall,
            "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99), "mean_ms": statistics.fmean(lat)}


def in_process_ms(endpoint: str, example: str, repeat: int = 30) -> float:
    """The same work without HTTP, median ms: what the service adds is the rest."""
    from perfeval_xl.pipeline import CheckOptions, check_file
    from perfeval_xl.writers.annotate import annotate

    times = []
    if endpoint == "payload":
        import xlwings as xw
        from test_excel import payload_from_xlsx

        from perfeval_xl.excel import validate_book

        payload = payload_from_xlsx(example)
        for _ in range(repeat):
            t0 = time.perf_counter()
            book = xw.Book(json=copy.deepcopy(payload))
            validate_book(book)
            book.json()
            times.append(time.perf_counter() - t0)
    else:
        with tempfile.TemporaryDirectory() as d:
            for _ in range(repeat):
                t0 = time.perf_counter()
                rep = check_file(example, CheckOptions())
                if endpoint == "upload+copy":
                    annotate(example, rep, os.path.join(d, "out.xlsx"))
                times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    from perfeval_xl.examples import EXAMPLES_DIR, SEED_EXAMPLE

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 4, 8])
    ap.add_argument("--requests", type=int, default=200, help="requests per concurrency level")
    ap.add_argument("--memory-requests", type=int, default=1000)
    ap.add_argument("--endpoint", choices=("upload", "upload+copy", "payload"), nargs="+",
                    default=["upload", "upload+copy", "payload"])
    ap.add_argument("--example", default=os.path.join(EXAMPLES_DIR, SEED_EXAMPLE))
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()

    port = _free_port()
    proc = start_service(port)
    results = {"cores": os.cpu_count(), "endpoints": {}}
    try:
        for endpoint in args.endpoint:
            path, body, ctype = request_maker(endpoint, args.example)
            load(port, 2, 10, path, body, ctype)  # warm: imports, caches
            base = in_process_ms(endpoint, args.example)
            rows = []
            for n in args.clients:
                r = load(port, n, args.requests, path, body, ctype)
                r["p50_over_in_process"] = r["p50_ms"] / base
                rows.append(r)
            results["endpoints"][endpoint] = {"in_process_ms": base, "load": rows}
        # memory: the same service after 1 000 more requests of every kind
        rss0 = _rss_mb(proc.pid)
        kinds = [request_maker(e, args.example) for e in args.endpoint]
        per = max(1, args.memory_requests // len(kinds))
        marks = []
        for i in range(4):
            for path, body, ctype in kinds:
                load(port, 4, per // 4, path, body, ctype)
            marks.append(round(_rss_mb(proc.pid), 1))
        results["memory"] = {"rss_after_warmup_mb": round(rss0, 1), "rss_each_quarter_mb": marks,
                             "requests": per * len(kinds)}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
        return
    print(f"perfeval serve on 127.0.0.1, {results['cores']} cores, example {os.path.basename(args.example)}")
    for endpoint, res in results["endpoints"].items():
        print(f"\n{endpoint}: in process without HTTP {res['in_process_ms']:.1f} ms")
        print("  clients  files/s   p50 ms   p90 ms   p99 ms   p50/in-process  errors")
        for r in res["load"]:
            print(f"  {r['clients']:>7}  {r['files_per_s']:7.1f}  {r['p50_ms']:7.1f}  {r['p90_ms']:7.1f}  "
                  f"{r['p99_ms']:7.1f}  {r['p50_over_in_process']:14.2f}  {r['errors']:>6}")
    m = results["memory"]
    print(f"\nmemory (VmRSS of the service): {m['rss_after_warmup_mb']} MB after warm-up, then "
          f"{' → '.join(map(str, m['rss_each_quarter_mb']))} MB over {m['requests']} more requests")


if __name__ == "__main__":
    main()
