"""What isolation costs (issue 11): the isolated pool against the bare read and the old process pool, in one run.

    python bench/bench_isolation.py [--n 1000] [--workdir /tmp/perfeval-bench] [--repeat 3]
    python bench/bench_isolation.py --doubling      # report check and the extent scan: time as the input doubles

Uses the files bench_batch.py generates (the same --workdir). Every variant runs in the same process, the
repetitions interleaved, the best of R kept, so that the ratios hold on a shared, noisy machine:
  bare      python-calamine reading every sheet (the floor)
  check     perfeval check_file in this process (pre-flight incl. the real-extent scan, read, rules)
  check-no-extent   the same without the real-extent scan (what the scan costs)
  old-pool  the process pool batch.run used before (ProcessPoolExecutor, chunks of files, no limits)
  isolated  batch.run now: forked workers with a memory cap, a per-file timeout, replacement
"""
from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)


def bare(paths):
    from python_calamine import CalamineWorkbook

    for p in paths:
        wb = CalamineWorkbook.from_path(p)
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python()


def check(paths):
    from perfeval_xl.pipeline import CheckOptions, check_file

    o = CheckOptions()
    for p in paths:
        check_file(p, o)


def check_no_extent(paths):
    from perfeval_xl import safety

    keep = safety._check_extent
    safety._check_extent = lambda *a: None
    try:
        check(paths)
    finally:
        safety._check_extent = keep


def _old_chunk(args):
    paths, options = args
    from perfeval_xl.pipeline import check_file

    return [check_file(p, options) for p in paths]


def old_pool(paths, jobs):
    """batch.run as it was on 19658c1: a ProcessPoolExecutor over chunks (4 a worker, at most 64 files)."""
    from concurrent.futures import ProcessPoolExecutor

    from perfeval_xl.pipeline import CheckOptions

    size = max(1, min(64, -(-len(paths) // (jobs * 4))))
    chunks = [paths[i:i + size] for i in range(0, len(paths), size)]
    with ProcessPoolExecutor(max_workers=min(jobs, len(chunks))) as pool:
        n = sum(len(r) for r in pool.map(_old_chunk, [(c, CheckOptions()) for c in chunks]))
    assert n == len(paths)


def isolated(paths, jobs):
    from perfeval_xl.batch import run
    from perfeval_xl.pipeline import CheckOptions

    assert len(run(paths, CheckOptions(), jobs=jobs)) == len(paths)


def doubling() -> None:
    """Linear scans: doubling the input doubles the time (a quadratic scan would quadruple it)."""
    import io
    import zipfile

    from perfeval_xl.examples import EXAMPLES_DIR, SEED_EXAMPLE
    from perfeval_xl.readers import read_workbook
    from perfeval_xl.report.check import check_report
    from perfeval_xl import safety

    form = read_workbook(os.path.join(EXAMPLES_DIR, SEED_EXAMPLE))
    print("| input | size | seconds | ratio to half |")
    print("|---|---:|---:|---:|")
    prev = None
    for kb in (30, 60, 120, 240):
        n = kb * 1024 // 3
        text = "项目支出共计734.53万元，其中" + "行政运行经费" * (n // 6)
        t = min(_timed(lambda: check_report(text, form)) for _ in range(3))
        print(f"| report check, one paragraph of project items | {kb} KB | {t:.3f} | "
              f"{'' if prev is None else f'{t / prev:.2f}'} |")
        prev = t
    prev = None
    for rows in (25_000, 50_000, 100_000, 200_000):
        body = "".join(f'<row r="{r % 19000 + 1}"><c r="B{r % 19000 + 1}"><v>{r}</v></c></row>' for r in range(rows))
        xml = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
               f"{body}</sheetData></worksheet>").encode()
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("xl/worksheets/sheet1.xml", xml)
        zf = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
        info = zf.getinfo("xl/worksheets/sheet1.xml")
        t = min(_timed(lambda: safety._check_extent("x", zf, info)) for _ in range(3))
        print(f"| real-extent scan of a sheet part | {len(xml) >> 10} KB | {t:.3f} | "
              f"{'' if prev is None else f'{t / prev:.2f}'} |")
        prev = t


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--workdir", default=os.path.join("/tmp", "perfeval-bench"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--doubling", action="store_true")
    args = ap.parse_args(argv)
    if args.doubling:
        doubling()
        return 0
    from bench_batch import generate
    from perfeval_xl.batch import _warm_imports, default_jobs

    paths = generate(args.n, args.workdir)[: args.n]
    jobs = args.jobs or default_jobs()
    _warm_imports()
    variants = [("bare", lambda: bare(paths)), ("check", lambda: check(paths)),
                ("check-no-extent", lambda: check_no_extent(paths)),
                ("old-pool", lambda: old_pool(paths, jobs)), ("isolated", lambda: isolated(paths, jobs))]
    check(paths[:20]), bare(paths[:20])
    best = {name: float("inf") for name, _ in variants}
    for _ in range(args.repeat):
        for name, fn in variants:
            best[name] = min(best[name], _timed(fn))
    print(f"\n{len(paths)} files, {jobs} workers, best of {args.repeat} (interleaved); python {sys.version.split()[0]}\n")
    print("| variant | ms/file | ratio to bare read |")
    print("|---|---:|---:|")
    for name, _ in variants:
        print(f"| {name} | {1000 * best[name] / len(paths):.2f} | {best[name] / best['bare']:.2f} |")
    print(f"\nisolated / old pool = {best['isolated'] / best['old-pool']:.2f}; "
          f"extent scan costs {1000 * (best['check'] - best['check-no-extent']) / len(paths):.2f} ms/file")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
