"""Recognition and the family readers, end to end: `perfeval check DIR --format json` against a bare
python-calamine read loop over the same files, both as whole processes (start-up and imports included).

    python bench/bench_forms.py              # 300 files per family folder, and 300 mixed
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


def generate(workdir: str, n: int) -> dict[str, str]:
    """family -> a folder of n copies of that family's fixtures (and "all": every family, n in total)."""
    from families.build import build_all, seed_without_sg

    from perfeval_xl.examples import EXAMPLES_DIR, SEED_ORIGINAL

    src = os.path.join(workdir, "src")
    done = os.path.join(workdir, f"done_{n}")
    fixtures = None
    if not os.path.isfile(done):
        shutil.rmtree(workdir, ignore_errors=True)
        os.makedirs(src)
        fixtures = build_all(src) + [seed_without_sg(src)]
    groups: dict[str, list[str]] = {}
    if fixtures is not None:
        for fx in fixtures:
            groups.setdefault(fx.family, []).append(fx.path)
        groups["hunan_dept"].append(os.path.join(EXAMPLES_DIR, SEED_ORIGINAL))
        groups["all"] = [p for ps in list(groups.values()) for p in ps]
        for fam, paths in groups.items():
            d = os.path.join(workdir, fam)
            os.makedirs(d)
            for i in range(n):
                b = paths[i % len(paths)]
                shutil.copyfile(b, os.path.join(d, f"{i:05d}_{os.path.basename(b)}"))
        open(done, "w").close()
    return {fam: os.path.join(workdir, fam) for fam in sorted(os.listdir(workdir))
            if os.path.isdir(os.path.join(workdir, fam)) and fam != "src"}


def run(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300, help="files per family folder (and in the mixed folder)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", default="/tmp/perfeval-forms")
    a = ap.parse_args(argv)
    folders = generate(a.workdir, a.n)
    py = sys.executable
    print(f"{a.n} files per folder, whole processes, best of {a.repeat}; checker with --jobs {a.jobs}")
    print(f"{'folder':<16} {'bare read s':>11} {'check s':>9} {'ratio':>7}")
    for fam, files in folders.items():
        bare = check = float("inf")
        for _ in range(a.repeat):  # interleaved: both sides see the same machine load
            bare = min(bare, run([py, "-c", BARE, files]))
            check = min(check, run([py, "-m", "perfeval_xl.cli", "check", files, "--format", "json",
                                    "--jobs", str(a.jobs)]))
        print(f"{fam:<16} {bare:>11.2f} {check:>9.2f} {check / bare:>6.2f}x")
    print("goal (issue 10): check within 3x the bare read")
    return 0


if __name__ == "__main__":
    sys.exit(main())
