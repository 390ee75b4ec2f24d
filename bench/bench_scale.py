"""Province scale: the whole `perfeval check` process over N files, beside a bare read of the same files.

    python bench/bench_scale.py --n 10000            # generate once into --workdir, then measure
    python bench/bench_scale.py --n 50000 --runs text,jsonl,summary
    python bench/bench_scale.py --n 500 --profile    # where one process spends its time (cProfile)
    python bench/bench_scale.py --n 2000 --as-sent --stages   # ms of CPU a file per stage + findings fingerprint
    python bench/bench_scale.py --n 2000 --as-sent --runs bare,text,text0   # the layout cache on as-sent files

Files: bench_batch.generate's varied copies (the seed in three layout sizes with amounts, rates, scores, texts in
number cells and cached errors varied, plus the 原表 without defined names), and one hostile file in every 500:
a CSV named .xlsx, a truncated zip, an empty file, a zip bomb-like oversized sheet claim (what safety refuses).
Each run is a fresh process measured from outside with /usr/bin/time -v semantics (resource.getrusage of the
waited children): wall, CPU (user + sys, the pool's workers included), peak RSS of the largest process (the CLI or
one worker) and the output's size. The bare read is python-calamine opening every sheet of every file, in one
process and in a pool of --jobs processes, in its own fresh process. Ratios are taken within one run: the machine
is shared, so absolute times move with its load (printed).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

HOSTILE_EVERY = 500


def _hostile(i: int, path: str, good: str) -> None:
    kind = (i // HOSTILE_EVERY) % 4
    if kind == 0:
        open(path, "w", encoding="utf-8").write("项目,金额\n公务接待费,1.91\n")
    elif kind == 1:
        open(path, "wb").write(open(good, "rb").read()[:3000])
    elif kind == 2:
        open(path, "wb").close()
    else:  # a zip whose sheet claims a huge size: refused by the pre-flight scan, never inflated
        import zipfile

        with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for info in src.infolist():
                data = src.read(info)
                if info.filename.startswith("xl/worksheets/sheet1"):
                    data = data + b" " * 60_000_000  # compresses to ~60 KB
                z.writestr(info, data)


def generate(n: int, workdir: str) -> str:
    """N files in workdir/files_N (hard links of bench_batch's files where they exist, so 10 000 and 50 000 share)."""
    import bench_batch

    paths = bench_batch.generate(n, workdir)
    d = os.path.join(workdir, f"set_{n}")
    if os.path.isdir(d) and len(os.listdir(d)) == n:
        return d
    os.makedirs(d, exist_ok=True)
    for i, p in enumerate(paths):
        dest = os.path.join(d, os.path.basename(p))
        if os.path.exists(dest):
            continue
        if i % HOSTILE_EVERY == HOSTILE_EVERY - 1:
            _hostile(i, dest, paths[0])
        else:
            os.link(p, dest)
    return d


def generate_as_sent(n: int, workdir: str) -> str:
    """N copies of the as-sent 原表 (read by labels, as most submissions are), each with its own unit name and other
    amounts in ~30 of the number cells the reader takes values from (sheet XML edited, so calamine sees numbers)."""
    import random

    from xlsx_cells import edit_cells

    from perfeval_xl.examples import EXAMPLES_DIR, SEED_ORIGINAL
    from perfeval_xl.readers import layout_cache as LC
    from perfeval_xl.readers import read_workbook
    from perfeval_xl.readers.grid import a1

    d = os.path.join(workdir, f"as_sent_{n}")
    if os.path.isdir(d) and len(os.listdir(d)) == n:
        return d
    os.makedirs(d, exist_ok=True)
    src = os.path.join(EXAMPLES_DIR, SEED_ORIGINAL)
    LC.clear()
    form = read_workbook(src, fast=True)
    entry = next(e for es in LC._entries.values() for e in es)
    numbers = [(s, a1(r, c)) for (s, r, c), uses in entry.values.items()
               if isinstance(uses[0][2].raw, float) and uses[0][2].raw > 0]
    unit = (form.unit_name.loc.sheet, form.unit_name.loc.cell)
    rng = random.Random(20261207)
    for i in range(n):
        p = os.path.join(d, f"{i:05d}_原表.xlsx")
        edits = {unit: f"{rng.choice(('市', '县', '区'))}第{i}测试单位"}
        for cell in rng.sample(numbers, min(30, len(numbers))):
            edits[cell] = round(rng.uniform(1, 900), 2)
        if not os.path.exists(p):
            edit_cells(src, p, edits)
    return d


def measure(cmd, stdout_path=None, env=None) -> dict:
    """Run cmd as a child; wall, CPU of it and its waited descendants, peak RSS of the largest of them."""
    import resource

    wrapper = [sys.executable, "-c", (
        "import json,resource,subprocess,sys,time\n"
        "out=open(sys.argv[1],'wb') if sys.argv[1] != '-' else subprocess.DEVNULL\n"
        "t=time.perf_counter();rc=subprocess.run(sys.argv[2:],stdout=out,stderr=subprocess.DEVNULL).returncode\n"
        "w=time.perf_counter()-t;u=resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'rc':rc,'wall':w,'cpu':u.ru_utime+u.ru_stime,'peak_mb':u.ru_maxrss/1024}))"),
        stdout_path or "-"] + list(cmd)
    del resource
    res = subprocess.run(wrapper, capture_output=True, text=True, check=True,
                         env=dict(os.environ, **(env or {})))
    return json.loads(res.stdout.strip().splitlines()[-1])


def open_in_libreoffice(xlsx: str, out_dir: str) -> dict:
    """The summary opened by LibreOffice headless and saved again as .ods (every sheet parsed): whether it opens,
    the sheets it found, the time taken. (Printing every page of a 50 000-row 全部问题 to PDF takes far longer.)"""
    import shutil
    import zipfile

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        print("LibreOffice not found: the summary was not opened")
        return {}
    ods = os.path.splitext(xlsx)[0] + ".ods"
    if os.path.exists(ods):
        os.unlink(ods)
    t = time.perf_counter()
    subprocess.run([soffice, f"-env:UserInstallation=file://{out_dir}/lo_profile", "--headless", "--convert-to",
                    "ods", "--outdir", out_dir, xlsx], capture_output=True, timeout=3600)
    dt = time.perf_counter() - t
    sheets = None
    if os.path.exists(ods):
        with zipfile.ZipFile(ods) as z:
            sheets = z.read("content.xml").count(b"<table:table ")
    print(f"LibreOffice opened the summary and saved it as .ods: {sheets} sheets in {dt:.0f} s" if sheets
          else "LibreOffice could NOT open the summary")
    return {"sheets": sheets, "seconds": dt}


def _bare_read_main(folder: str, jobs: int) -> None:
    files = sorted(os.path.join(folder, f) for f in os.listdir(folder))
    if jobs <= 1:
        n = sum(_read_all(f) for f in files)
    else:
        from concurrent.futures import ProcessPoolExecutor

        size = max(1, len(files) // (jobs * 8))
        chunks = [files[i:i + size] for i in range(0, len(files), size)]
        with ProcessPoolExecutor(jobs) as pool:
            n = sum(pool.map(_read_chunk, chunks))
    print(n)


def _read_chunk(files) -> int:
    return sum(_read_all(f) for f in files)


def _read_all(path: str) -> int:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(path)
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python()
        return 1
    except Exception:
        return 0


def profile(folder: str, n: int) -> None:
    import cProfile
    import pstats

    from perfeval_xl.pipeline import CheckOptions, check_file

    files = sorted(os.path.join(folder, f) for f in os.listdir(folder))[:n]
    check_file(files[0], CheckOptions())
    pr = cProfile.Profile()
    pr.enable()
    for p in files:
        check_file(p, CheckOptions())
    pr.disable()
    pstats.Stats(pr).sort_stats("tottime").print_stats(20)
    pstats.Stats(pr).sort_stats("cumulative").print_stats(30)


def stages(folder: str, n: int) -> dict:
    """In one warm process, ms of CPU a file for each stage of check_file (pre-flight, calamine read, mapping to the
    form, rules + inert text) beside the bare read of the same file, and the findings (a fingerprint of them, so
    that a faster stage can be shown to change nothing). Files that are refused count in the pre-flight only."""
    import hashlib

    from python_calamine import CalamineWorkbook

    from perfeval_xl.errors import ReadError
    from perfeval_xl.pipeline import CheckOptions, check_form
    from perfeval_xl.readers import form_from_grid, read_grid
    from perfeval_xl.safety import preflight_open

    files = sorted(os.path.join(folder, f) for f in os.listdir(folder))[:n]
    clock = time.process_time
    t = dict(preflight=0.0, read=0.0, map=0.0, rules=0.0, bare=0.0)
    digest = hashlib.blake2b(digest_size=8)
    findings = 0
    opts = CheckOptions()
    for p in files:
        t0 = clock()
        try:
            with preflight_open(p) as checked:
                t1 = clock()
                grid, names, reader = read_grid(p, fast=True, checked=checked)
        except ReadError:
            t["preflight"] += clock() - t0
            continue
        t2 = clock()
        form = form_from_grid(grid, names, p, reader, None)
        t3 = clock()
        rep = check_form(form, opts, p)
        t4 = clock()
        wb = CalamineWorkbook.from_path(p)
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python()
        t5 = clock()
        t["preflight"] += t1 - t0
        t["read"] += t2 - t1
        t["map"] += t3 - t2
        t["rules"] += t4 - t3
        t["bare"] += t5 - t4
        for part in [rep] + list(rep.parts):
            for f in part.findings:
                digest.update(repr((os.path.basename(p), f.code, f.severity.value, f.sheet, f.cell, f.message,
                                    f.expected, f.actual, f.related)).encode())
                findings += 1
            m = part.metrics
            if m is not None:
                digest.update(repr((m.total_score, m.grade, m.score_provisional, m.execution_rate)).encode())
    out = {k: v / len(files) * 1e3 for k, v in t.items()}
    out["check"] = sum(v for k, v in out.items() if k != "bare")
    print(f"{len(files)} files, {findings} findings (fingerprint {digest.hexdigest()}); ms of CPU a file:")
    print("  " + "  ".join(f"{k} {v:.3f}" for k, v in out.items()) + f"  check/bare {out['check'] / out['bare']:.2f}x")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--workdir", default=os.path.join("/tmp", "perfeval-scale"))
    ap.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--runs", default="bare,text,jsonl,json,summary",
                    help="comma-separated: bare, bare1, text, text0 (layout cache off), jsonl, json, summary")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--stages", action="store_true",
                    help="in one process: ms of CPU a file for each stage, and a fingerprint of the findings")
    ap.add_argument("--as-sent", action="store_true",
                    help="N varied copies of the as-sent 原表 (all read by labels) instead of bench_batch's mix")
    ap.add_argument("--bare-read", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.bare_read:
        _bare_read_main(args.bare_read, args.jobs)
        return 0
    t0 = time.perf_counter()
    folder = generate_as_sent(args.n, args.workdir) if args.as_sent else generate(args.n, args.workdir)
    print(f"{args.n} files in {folder} (ready in {time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    if args.profile:
        profile(folder, args.n)
        return 0
    if args.stages:
        stages(folder, args.n)
        return 0
    out_dir = os.path.join(args.workdir, f"out_{'as_sent_' if args.as_sent else ''}{args.n}")
    os.makedirs(out_dir, exist_ok=True)
    perfeval = [sys.executable, "-m", "perfeval_xl.cli", "check", folder, "--jobs", str(args.jobs)]
    runs = {
        "bare1": ("bare python-calamine read, 1 process", [sys.executable, __file__, "--bare-read", folder,
                                                            "--jobs", "1"], None),
        "bare": (f"bare python-calamine read, {args.jobs} processes",
                 [sys.executable, __file__, "--bare-read", folder, "--jobs", str(args.jobs)], None),
        "text": ("perfeval check DIR -q", perfeval + ["-q"], "out.txt"),
        "text0": ("perfeval check DIR -q, layout cache off", perfeval + ["-q"], "out0.txt"),
        "jsonl": ("perfeval check DIR --format jsonl", perfeval + ["--format", "jsonl"], "out.jsonl"),
        "json": ("perfeval check DIR --format json", perfeval + ["--format", "json"], "out.json"),
        "summary": ("perfeval check DIR -q --summary S.xlsx", perfeval + ["-q", "--summary",
                                                                           os.path.join(out_dir, "S.xlsx")], None),
    }
    load = os.getloadavg()
    print(f"\nN = {args.n}, --jobs {args.jobs}, python {sys.version.split()[0]}, load average before "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores\n")
    print("| run | wall s | CPU s | peak RSS MB | output MB | wall / bare read |")
    print("|---|---:|---:|---:|---:|---:|")
    results = {}
    base = None
    for key in args.runs.split(","):
        what, cmd, out_name = runs[key]
        out_path = os.path.join(out_dir, out_name) if out_name else None
        if key == "summary":
            for f in os.listdir(out_dir):
                if f.startswith("S"):
                    os.unlink(os.path.join(out_dir, f))
        r = measure(cmd, out_path, {"PERFEVAL_LAYOUT_CACHE": "0"} if key == "text0" else None)
        size = 0.0
        if out_path:
            size = os.path.getsize(out_path) / 1e6
        if key == "summary":
            size = sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir)
                       if f.startswith("S")) / 1e6
        results[key] = dict(r, output_mb=size)
        if key.startswith("bare") and base is None:
            base = r["wall"]
        ratio = f"{r['wall'] / base:.2f}×" if base else "—"
        print(f"| {what} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['peak_mb']:.0f} | "
              f"{size:.1f} | {ratio} |", flush=True)
    if "summary" in results:
        results["libreoffice"] = open_in_libreoffice(os.path.join(out_dir, "S.xlsx"), out_dir)
    load = os.getloadavg()
    print(f"\nload average after {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    if "text" in results and "summary" in results:
        print(f"summary run / text run = {results['summary']['wall'] / results['text']['wall']:.2f}× wall, "
              f"{results['summary']['cpu'] / results['text']['cpu']:.2f}× CPU (goal <= 2×)")
    json.dump(results, open(os.path.join(out_dir, "results.json"), "w"), indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
