"""Batch speed and memory: the checker (read + rules, fast path) against a bare python-calamine read
and an openpyxl load of the same files.

    python bench/bench_batch.py                 # 1000 files, timings + memory at 100 and 1000
    python bench/bench_batch.py --n 10000       # memory as N grows up to 10 000
    python bench/bench_batch.py --profile       # where the checker's time goes (cProfile, top 25)

Files are generated ONCE into --workdir (default /tmp/perfeval-bench): a few layout sizes of the
seed built by the template code and recalculated by LibreOffice in one call, then N varied copies
made by editing cached values directly in the sheet XML (bench/xlsx_cells.py), so that calamine sees
numbers: unit names, amounts, 执行率 and 得分 consistent or not, scores, texts in number cells, plus
the 原表 (no defined names: the label-anchored path).
Goals: checking costs at most 1.5x the bare calamine read, is >= 10x faster than an openpyxl load,
and peak memory stays flat as N grows.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

PROJECT_SIZES = (None, 10, 30)  # None: the seed's own layout


def _rss_mb(field: str = "VmHWM") -> float:
    """Peak (VmHWM) or current (VmRSS) resident memory of this process, MB. ru_maxrss is not used:
    on Linux it carries the parent's peak across exec."""
    try:
        for line in open("/proc/self/status", encoding="ascii"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- generation ------------------------------------------------------------------------------

def _bases(workdir: str) -> list[dict]:
    """Recalculated base workbooks (one soffice call) and their field cells from the defined names."""
    from perfeval_xl import layout as L
    from perfeval_xl.examples import EXAMPLES_DIR, SEED_ORIGINAL, seed_layout, seed_values
    from perfeval_xl.recalc import recalculate
    from perfeval_xl.template import build_template

    base_dir = os.path.join(workdir, "bases")
    meta_path = os.path.join(base_dir, "bases.json")
    if os.path.isfile(meta_path):
        return json.load(open(meta_path, encoding="utf-8"))
    os.makedirs(base_dir, exist_ok=True)
    raws = []
    for size in PROJECT_SIZES:
        lay = seed_layout() if size is None else L.build_layout(project_rows=size,
                                                                  indicator_groups=seed_layout().indicator_groups)
        values = seed_values(seed_layout())
        values["projects"] = values["projects"][: lay.project_rows]
        raws.append(build_template(os.path.join(base_dir, f"raw_{size or 'seed'}.xlsx"), lay, values))
    done = recalculate(raws, os.path.join(base_dir, "calc"))
    from openpyxl import load_workbook

    bases = []
    for path in done:
        wb = load_workbook(path)
        cells = {}
        for name, dn in wb.defined_names.items():
            if name.startswith(L.NAME_PREFIX):
                dest = list(dn.destinations)
                if dest:
                    sheet, ref = dest[0]
                    cells[name[len(L.NAME_PREFIX):]] = [sheet, ref.replace("$", "").split(":")[0]]
        bases.append({"path": path, "cells": cells, "named": True})
    original = os.path.join(base_dir, SEED_ORIGINAL)
    import shutil

    shutil.copyfile(os.path.join(EXAMPLES_DIR, SEED_ORIGINAL), original)
    bases.append({"path": original, "cells": {}, "named": False})
    json.dump(bases, open(meta_path, "w", encoding="utf-8"), ensure_ascii=False)
    return bases


def _variant(i: int, base: dict, rng: random.Random) -> dict:
    """Cached-value edits for file i: (sheet, cell) -> value."""
    from xlsx_cells import Err

    c = base["cells"]
    if not c:  # the 原表: vary only what we know is there (its unit name cell)
        return {}
    e = {}
    budget = round(rng.uniform(200, 9000), 2)
    rate = rng.choice((rng.uniform(0.85, 1.0), rng.uniform(0.6, 0.9), rng.uniform(0.98, 1.08)))
    actual = round(budget * rate, 2)
    e[tuple(c["unit_name"])] = f"{rng.choice(('市', '县', '区'))}第{i}测试单位"
    e[tuple(c["funds_budget"])] = budget
    e[tuple(c["funds_actual"])] = actual
    e[tuple(c["funds_initial"])] = round(budget * rng.uniform(0.6, 1.0), 2)
    e[tuple(c["income_general"])] = budget
    er = actual / budget
    score = round(min(10, 10 * er), 2)
    kind = i % 10
    if kind == 3:  # a stale cache: the 执行率 does not follow the amounts
        e[tuple(c["execution_rate"])] = 0.5
    else:
        e[tuple(c["execution_rate"])] = er
    e[tuple(c["execution_score"])] = score
    if kind == 5:  # text typed in number cells
        e[tuple(c["funds_actual"])] = f"{actual:,.2f}万元"
        e[tuple(c["exp_basic"])] = "——"
    if kind == 7:  # cached errors
        e[tuple(c["execution_rate"])] = Err("#DIV/0!")
        e[tuple(c["execution_score"])] = Err("#REF!")
    return e


def generate(n: int, workdir: str) -> list[str]:
    from xlsx_cells import edit_cells

    bases = _bases(workdir)
    out_dir = os.path.join(workdir, "files")
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(20250423)
    paths = []
    t0 = time.perf_counter()
    made = 0
    for i in range(n):
        base = bases[i % len(bases)]
        p = os.path.join(out_dir, f"{i:05d}_单位.xlsx")
        edits = _variant(i, base, rng)  # always drawn, so file i is the same whatever n is
        if not os.path.isfile(p):
            edit_cells(base["path"], p, edits) if edits else _copy(base["path"], p)
            made += 1
        paths.append(p)
    if made:
        print(f"generated {made} files in {time.perf_counter() - t0:.1f} s -> {out_dir}", file=sys.stderr)
    return paths


def _copy(src, dest):
    import shutil

    shutil.copyfile(src, dest)


# ---- measurements ----------------------------------------------------------------------------

def time_calamine(paths) -> float:
    from python_calamine import CalamineWorkbook

    t0 = time.perf_counter()
    for p in paths:
        wb = CalamineWorkbook.from_path(p)
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python()
    return time.perf_counter() - t0


def time_check(paths) -> float:
    from perfeval_xl.pipeline import CheckOptions, check_file

    opts = CheckOptions()
    t0 = time.perf_counter()
    for p in paths:
        r = check_file(p, opts)
        if r.error:
            raise SystemExit(f"bench file unreadable: {p}: {r.error}")
    return time.perf_counter() - t0


def time_openpyxl(paths) -> float:
    from openpyxl import load_workbook

    t0 = time.perf_counter()
    for p in paths:
        load_workbook(p)
    return time.perf_counter() - t0


def time_pool(paths, jobs=None) -> float:
    from perfeval_xl.batch import run
    from perfeval_xl.pipeline import CheckOptions

    t0 = time.perf_counter()
    reports = run(paths, CheckOptions(), jobs=jobs)
    dt = time.perf_counter() - t0
    assert len(reports) == len(paths)
    return dt


def rss_child(paths_file: str, n: int, mode: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--rss-child", paths_file, "--n", str(n), "--mode", mode],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _rss_main(paths_file: str, n: int, mode: str) -> None:
    paths = json.load(open(paths_file, encoding="utf-8"))[:n]
    from perfeval_xl.batch import run
    from perfeval_xl.pipeline import CheckOptions

    import perfeval_xl.rules  # noqa: F401  (import cost out of the measurement)
    from perfeval_xl.readers import read_workbook  # noqa: F401

    from perfeval_xl.batch import iter_run

    base = _rss_mb("VmRSS")
    t0 = time.perf_counter()
    jobs = 1 if mode.startswith("serial") else None
    if mode.endswith("stream"):  # reports consumed one by one (e.g. written out), none kept
        findings = sum(len(r.findings) for r in iter_run(paths, CheckOptions(), jobs=jobs))
    else:
        reports = run(paths, CheckOptions(), jobs=jobs)
        findings = sum(len(r.findings) for r in reports)
    dt = time.perf_counter() - t0
    held = _rss_mb("VmRSS")
    print(json.dumps({"n": n, "mode": mode, "rss_start_mb": round(base, 1), "rss_peak_mb": round(_rss_mb(), 1),
                      "rss_end_mb": round(held, 1),
                      "seconds": round(dt, 2), "files_per_s": round(n / dt, 1), "findings": findings}))


def profile(paths) -> None:
    import cProfile
    import pstats

    from perfeval_xl.pipeline import CheckOptions, check_file

    opts = CheckOptions()
    pr = cProfile.Profile()
    pr.enable()
    for p in paths:
        check_file(p, opts)
    pr.disable()
    pstats.Stats(pr).sort_stats("cumulative").print_stats(25)
    pstats.Stats(pr).sort_stats("tottime").print_stats(15)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="files (default 1000; memory is measured up to this)")
    ap.add_argument("--workdir", default=os.path.join("/tmp", "perfeval-bench"))
    ap.add_argument("--openpyxl-sample", type=int, default=200, help="files loaded with openpyxl (it is slow)")
    ap.add_argument("--repeat", type=int, default=3, help="best of R timings")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--no-rss", action="store_true")
    ap.add_argument("--rss-child", help=argparse.SUPPRESS)
    ap.add_argument("--mode", default="serial", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.rss_child:
        _rss_main(args.rss_child, args.n, args.mode)
        return 0

    paths = generate(args.n, args.workdir)
    if args.profile:
        profile(paths[: min(len(paths), 500)])
        return 0
    timed = paths[: min(len(paths), 1000)]
    # warm caches and imports once, so that every timing below sees the same state
    time_check(timed[:20]), time_calamine(timed[:20]), time_openpyxl(timed[:5])
    cal = min(time_calamine(timed) for _ in range(args.repeat))
    chk = min(time_check(timed) for _ in range(args.repeat))
    sample = timed[: args.openpyxl_sample]
    opx = time_openpyxl(sample) * len(timed) / len(sample)
    pool = time_pool(timed)
    cores = len(os.sched_getaffinity(0))
    rows = [
        ("python-calamine, every sheet (bare read)", cal),
        ("perfeval check, one process (read + rules)", chk),
        (f"perfeval batch.run, process pool ({cores} cores)", pool),
        (f"openpyxl load_workbook (sample of {len(sample)})", opx),
    ]
    print(f"\n{len(timed)} files, best of {args.repeat}; python {sys.version.split()[0]}\n")
    print("| what | files/s | ms/file |")
    print("|---|---:|---:|")
    for what, dt in rows:
        print(f"| {what} | {len(timed) / dt:,.0f} | {1000 * dt / len(timed):.2f} |")
    print(f"\ncheck / calamine = {chk / cal:.2f}x (goal <= 1.5x); openpyxl / check = {opx / chk:.1f}x (goal >= 10x)")

    if not args.no_rss:
        listing = os.path.join(args.workdir, "paths.json")
        json.dump(paths, open(listing, "w", encoding="utf-8"))
        sizes = [s for s in (100, 1000, 3000, 10000) if s < args.n] + [args.n]
        print("\n| N | mode | RSS before MB | peak RSS MB (parent) | findings |")
        print("|---:|---|---:|---:|---:|")
        for n in sizes:
            for mode in ("serial", "pool", "pool-stream"):
                r = rss_child(listing, n, mode)
                print(f"| {n} | {mode} | {r['rss_start_mb']} | {r['rss_peak_mb']} | {r['findings']} |")
    gc.collect()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
