"""The finance bureau's batch review: collect the submitted files, check them over a process pool.

collect(paths, *, exclude=(), skipped=None, reasons=None) -> list[str]
    Files and folders (recursive) -> the workbooks to check, sorted, deduplicated: .xlsx .xlsm
    .xls .ods. Inside folders it skips Office lock files (~$...) and hidden files silently, and our
    earlier outputs, recognised by CONTENT, never by a free-form name: marked copies written by
    --annotate (the defined name perfeval_annotated_copy in xl/workbook.xml; a file marked in place or by the
    Excel 校验 button has marks but is a submission, and is checked), summary workbooks (their
    document title), and backups by the strict name "<name>_备份_YYYYMMDD-HHMMSS". It reports them:
    pass a list as `skipped` and it receives their paths (and a dict as `reasons`: path -> why), so
    that a front end can say so. A file named explicitly is always checked, whatever it is.
    Anything under `exclude` is left out silently.
run(files, options, jobs=None, progress=None) -> list[Report]   (iter_run: the same, as a generator)
    One Report per file, in input order. An unreadable file is a Report with .error; the batch
    always goes on. Serial for jobs == 1 or few files; otherwise a ProcessPoolExecutor with chunks.
    `progress` is a text stream: a one-line bar when it is a tty, nothing otherwise (or a callable
    progress(done, total) for front ends).
iter_annotate(tasks, jobs=None, progress=None)
    Writes the marked workbooks of (src, report, dest, in_place) tasks over the same kind of process
    pool (annotation costs ~0.1 s a file, far more than checking), with its own bar "标注 n/N", and
    yields AnnotateResult(src, written, backups, error) as each file is done. The files written are
    byte-for-byte what annotate() writes in one process.
"""
from __future__ import annotations

import os
import re
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import NamedTuple

from .findings import Report

EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods")
SERIAL_BELOW = 24  # files: below this a pool costs more than it saves (~0.15 s to start workers)
ANNOTATE_SERIAL_BELOW = 3  # annotation costs ~0.1 s a file: a pool pays off from a few files
CHUNK_TARGET = 4  # chunks per worker: enough to balance, few enough to keep pickling cheap
MAX_CHUNK = 64

_BACKUP = re.compile(r"_备份_\d{8}-\d{6}(-\d+)?$")  # annotate.backup_path: <name>_备份_20250423-101500[-2]
_COPY_NAME = re.compile(r'<(?:\w+:)?definedName\b[^>]*?\bname=["\']perfeval_annotated_copy["\']')
MAX_WORKBOOK_XML = 1 << 20  # bytes of xl/workbook.xml read to look for the copy marker

REASON_MARKED = "以前生成的标注副本"
REASON_BACKUP = "标注前留的备份"
REASON_SUMMARY = "以前生成的汇总表"


def is_backup(path: str) -> bool:
    """A backup written by annotate(in_place=True): "<name>_备份_YYYYMMDD-HHMMSS[-n].<ext>", nothing looser."""
    return bool(_BACKUP.search(os.path.splitext(os.path.basename(path))[0]))


def carries_marks(path: str) -> bool:
    """The workbook is a marked copy written by --annotate (read from xl/workbook.xml in the zip; ~0.1 ms)."""
    if not path.lower().endswith((".xlsx", ".xlsm")):
        return False
    try:
        import zipfile

        with zipfile.ZipFile(path) as z:
            info = z.getinfo("xl/workbook.xml")
            if info.file_size > MAX_WORKBOOK_XML:
                return False
            return bool(_COPY_NAME.search(z.read(info).decode("utf-8", "replace")))
    except Exception:  # not a zip, no workbook.xml, unreadable: not ours; the check will say what it is
        return False


def skip_reason(path: str) -> str | None:
    """Why a file found in a folder is one of our earlier outputs and not a submission (None: check it)."""
    if is_backup(path):
        return REASON_BACKUP
    if is_our_summary(path):
        return REASON_SUMMARY
    if carries_marks(path):
        return REASON_MARKED
    return None


def is_our_output(path: str) -> bool:
    return skip_reason(path) is not None


def _hidden_or_lock(name: str) -> bool:
    return name.startswith(("~$", ".~lock", "."))


def is_our_summary(path: str) -> bool:
    """A summary workbook written by write_summary (its document title says so); ~0.1 ms a file."""
    if not path.lower().endswith(".xlsx"):
        return False
    try:
        import zipfile

        from .writers.summary import SUMMARY_TITLE

        with zipfile.ZipFile(path) as z:
            info = z.getinfo("docProps/core.xml")
            if info.file_size > 65536:
                return False
            return SUMMARY_TITLE.encode("utf-8") in z.read(info)
    except Exception:  # not a zip, no core.xml, unreadable: not ours; the check will say what it is
        return False


def collect(paths, *, exclude=(), skipped: list | None = None, reasons: dict | None = None,
            skip_marked: bool = True) -> list[str]:
    """Expand files and folders into the workbooks to check (input order for files, sorted within folders).

    `skipped`, when a list, receives the paths of earlier outputs found in the folders and not checked
    (marked workbooks, backups, summary workbooks); `reasons`, when a dict, path -> why (Chinese).
    skip_marked=False keeps marked workbooks (a --in-place run marks the folder's files again: the
    second run must find the files the first one marked)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    excluded = [os.path.realpath(p) for p in exclude if p]

    def is_excluded(p: str) -> bool:
        real = os.path.realpath(p)
        return any(real == e or real.startswith(e + os.sep) for e in excluded)

    out: list[str] = []
    seen: set[str] = set()
    seen_skipped: dict[str, tuple[str, str]] = {}

    def add(p: str) -> None:
        key = os.path.realpath(p)
        if key not in seen and not is_excluded(p):
            seen.add(key)
            out.append(p)

    for p in paths:
        p = os.fspath(p)
        if os.path.isdir(p) and not p.lower().endswith(EXTENSIONS):
            found = []
            for root, dirs, files in os.walk(p):
                dirs[:] = [d for d in dirs if not d.startswith(".") and not is_excluded(os.path.join(root, d))]
                found += [os.path.join(root, n) for n in files
                          if n.lower().endswith(EXTENSIONS) and not _hidden_or_lock(n)]
            # path order, folder by folder: 市直/办公室/x.xlsx before 市直/y.xlsx, as a file manager lists them
            for f in sorted(found, key=lambda f: os.path.relpath(f, p).split(os.sep)):
                if is_excluded(f):
                    continue
                why = skip_reason(f)
                if why and (skip_marked or why != REASON_MARKED):
                    if os.path.realpath(f) not in seen_skipped:
                        seen_skipped[os.path.realpath(f)] = (f, why)
                    continue
                add(f)
        else:
            # named explicitly: kept even if odd (a directory called x.xlsx, a missing file), so that
            # the report says what is wrong with it instead of silently dropping it
            add(p)
    left = [(f, why) for real, (f, why) in seen_skipped.items() if real not in seen]
    if skipped is not None:  # a file also named explicitly was checked, so it was not skipped
        skipped.extend(f for f, _ in left)
    if reasons is not None:
        reasons.update(left)
    return out


def annotate_dest(src: str, inputs, outdir: str) -> str:
    """Where --annotate OUTDIR puts the marked copy of src: its path below the input folder it was
    found in, mirrored under outdir, named like annotate's default ("<name>_已校验.xlsx")."""
    from .writers.annotate import default_dest

    real = os.path.realpath(src)
    rel = os.path.basename(src)
    best = -1
    for inp in ([inputs] if isinstance(inputs, (str, os.PathLike)) else inputs):
        root = os.path.realpath(os.fspath(inp))
        if os.path.isdir(root) and real.startswith(root + os.sep) and len(root) > best:
            rel, best = os.path.relpath(real, root), len(root)
    return os.path.join(outdir, os.path.dirname(rel), os.path.basename(default_dest(src)))


def _check_chunk(args):
    paths, options = args
    from .pipeline import check_file

    return [_check_one(check_file, p, options) for p in paths]


def _check_one(check_file, path, options) -> Report:
    try:
        return check_file(path, options)
    except Exception as e:  # check_file should never raise; a batch never stops for one file
        return Report(path=path, error=f"校验时发生内部错误（{type(e).__name__}: {e}）")


def _warm_imports() -> None:
    try:
        from . import readers, rules, settings  # noqa: F401
    except Exception:  # a broken module shows up per file, in the reports
        pass


def _chunks(files, jobs):
    size = max(1, min(MAX_CHUNK, -(-len(files) // (jobs * CHUNK_TARGET))))
    return [files[i:i + size] for i in range(0, len(files), size)]


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def run(files, options=None, jobs: int | None = None, progress=None) -> list[Report]:
    """All reports, in input order (memory grows with the findings held: ~13 KB a file for the seed)."""
    return list(iter_run(files, options, jobs, progress))


def iter_run(files, options=None, jobs: int | None = None, progress=None):
    """Reports one by one, in input order, for callers that stream them out (flat memory)."""
    from .pipeline import CheckOptions, check_file

    files = [os.fspath(f) for f in files]
    options = options if options is not None else CheckOptions()
    jobs = default_jobs() if jobs is None else max(1, int(jobs))
    bar = _Progress(progress, len(files))
    done = 0
    if jobs > 1 and len(files) >= SERIAL_BELOW:
        _warm_imports()  # forked workers inherit the modules instead of importing them each
        chunks = _chunks(files, jobs)
        try:
            with ProcessPoolExecutor(max_workers=min(jobs, len(chunks))) as pool:
                for chunk_reports in pool.map(_check_chunk, [(c, options) for c in chunks]):
                    for rep in chunk_reports:
                        yield rep
                    done += len(chunk_reports)
                    bar.step(len(chunk_reports))
        except (OSError, RuntimeError) as e:  # no fork/semaphores here, or a worker died: go on serially
            bar.note(f"并行校验不可用（{type(e).__name__}），改为逐个校验")
    for p in files[done:]:
        yield _check_one(check_file, p, options)
        bar.step(1)
    bar.done()


class AnnotateResult(NamedTuple):
    src: str
    written: str | None  # the path written, None when it failed
    backups: list  # backups written first (in_place)
    error: str | None  # why the marks could not be written (Chinese), None when they were


def _annotate_one(task) -> AnnotateResult:
    src, report, dest, in_place = task
    from .writers.annotate import annotate

    backups: list = []
    try:
        written = annotate(src, report, dest, in_place=in_place, backups=backups)
    except Exception as e:  # one file's marks must not stop the others
        return AnnotateResult(src, None, backups, str(e) or type(e).__name__)
    return AnnotateResult(src, written, backups, None)


def _warm_annotate() -> None:
    try:
        import openpyxl  # noqa: F401

        from .writers import annotate  # noqa: F401
    except Exception:  # shows up per file, in the results
        pass


def iter_annotate(tasks, jobs: int | None = None, progress=None):
    """(src, report, dest or None, in_place) tasks -> AnnotateResult as each file is written (completion
    order over the pool, input order when serial); a progress bar "标注 n/N" on `progress`."""
    tasks = list(tasks)
    jobs = default_jobs() if jobs is None else max(1, int(jobs))
    bar = _Progress(progress, len(tasks), label="标注")
    done: set[int] = set()
    if jobs > 1 and len(tasks) >= ANNOTATE_SERIAL_BELOW:
        _warm_annotate()  # forked workers inherit openpyxl instead of importing it each
        try:
            with ProcessPoolExecutor(max_workers=min(jobs, len(tasks))) as pool:
                futures = {pool.submit(_annotate_one, t): i for i, t in enumerate(tasks)}
                for fut in as_completed(futures):
                    res = fut.result()
                    done.add(futures[fut])
                    bar.step(1)
                    yield res
        except (OSError, RuntimeError) as e:  # no fork/semaphores, or a worker died: the rest one by one
            bar.note(f"并行标注不可用（{type(e).__name__}），改为逐个标注")
    for i, t in enumerate(tasks):
        if i not in done:
            res = _annotate_one(t)
            bar.step(1)
            yield res
    bar.done()


class _Progress:
    """A plain one-line progress bar on a tty; silent on files and pipes."""

    WIDTH = 30

    def __init__(self, target, total: int, label: str = "校验"):
        self.label = label
        self.total, self.n = total, 0
        self.t0 = time.perf_counter()
        self.callback = target if callable(target) and not hasattr(target, "write") else None
        self.stream = target if hasattr(target, "write") else None
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(self.stream is not None and isatty and isatty())
        self.last = 0.0

    def step(self, k: int) -> None:
        self.n += k
        if self.callback:
            self.callback(self.n, self.total)
        if not self.tty:
            return
        now = time.perf_counter()
        if now - self.last < 0.1 and self.n < self.total:
            return
        self.last = now
        frac = self.n / self.total if self.total else 1.0
        filled = int(frac * self.WIDTH)
        rate = self.n / max(now - self.t0, 1e-9)
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.n}/{self.total}"
                          f"  {rate:.0f} 个/秒")
        self.stream.flush()

    def note(self, text: str) -> None:
        if self.stream is not None:
            self.stream.write(("\n" if self.tty else "") + text + "\n")

    def done(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

