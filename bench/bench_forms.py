"""Recognition and the family readers, end to end: `perfeval check DIR --format json` against a bare
python-calamine read loop over the same files, both as whole processes (start-up and imports included).

    python bench/bench_forms.py              # 300 files: every family's fixtures, copied round-robin
    python bench/bench_forms.py --n 1000 --jobs 2

Files: the fixtures of tests/families/build.py (10号 project and 部门整体, Sichuan stacked and one per sheet,
Chongqing, Hunan 2018) and the seed's 原表, copied to N files in --workdir (default /tmp/perfeval-forms).
Goal (issue 10): checking stays within 3x the bare read. Both sides run in one process (--jobs 1 for the
checker) unless --jobs says otherwise.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

BARE = """
import os, sys
from python_calamine import CalamineWorkbook
n = 0
for name in sorted(os.listdir(sys.argv[1])):
    wb = CalamineWorkbook.from_path(os.path.join(sys.argv[1], name))
    for s in wb.sheet_names:
        n += len(wb.get_sheet_by_name(s).to_python(skip_empty_area=False))
print(n)
"""


def generate(workdir: str, n: int) -> str:
    from families.build import build_all, seed_without_sg

    from perfeval_xl.examples import EXAMPLES_DIR, SEED_ORIGINAL

    src = os.path.join(workdir, "src")
    files = os.path.join(workdir, f"files_{n}")
    if os.path.isdir(files) and len(os.listdir(files)) == n:
        return files
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(src)
    os.makedirs(files)
    bases = [fx.path for fx in build_all(src)] + [seed_without_sg(src).path, os.path.join(EXAMPLES_DIR, SEED_ORIGINAL)]
    for i in range(n):
        b = bases[i % len(bases)]
        shutil.copyfile(b, os.path.join(files, f"{i:05d}_{os.path.basename(b)}"))
    return files


def run(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", default="/tmp/perfeval-forms")
    a = ap.parse_args(argv)
    files = generate(a.workdir, a.n)
    py = sys.executable
    bare = min(run([py, "-c", BARE, files]) for _ in range(a.repeat))
    check = min(run([py, "-m", "perfeval_xl.cli", "check", files, "--format", "json", "--jobs", str(a.jobs)])
                for _ in range(a.repeat))
    print(f"files: {a.n} (every family's fixtures and the seed's 原表), best of {a.repeat}")
    print(f"bare python-calamine read loop (whole process): {bare:.2f} s  ({bare / a.n * 1000:.1f} ms/file)")
    print(f"perfeval check --format json --jobs {a.jobs} (whole process): {check:.2f} s  "
          f"({check / a.n * 1000:.1f} ms/file)")
    print(f"ratio: {check / bare:.2f}x  (goal: <= 3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
