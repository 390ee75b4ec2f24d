"""The finance bureau's batch review: collect the submitted files, check each one in isolation.

collect(paths, *, exclude=(), skipped=None, reasons=None, refused=None) -> list[str]
    Files and folders (recursive) -> the files to check, in path order, deduplicated. A file is skipped as one
    of our own earlier outputs (marked copy, backup, summary workbook) only when its bytes are in our record of
    what we wrote (ledger.py; a name, a defined name or a title can be forged, the record cannot). Everything
    else found in a folder that looks like a spreadsheet is reported: a supported workbook (.xlsx .xlsm .xls
    .ods, a WPS .et, names ending in a dot or space) is checked; what cannot be (.xlsb, .csv and other
    spreadsheet-like extensions, a symlinked folder, a pipe or device, a path too long, a folder that cannot
    be opened) goes to `refused` (path -> Chinese reason) and becomes a row of its own. Only Office lock files
    (~$name, tiny, not a workbook) are left out silently. A file named explicitly is always checked.
run(files, options, jobs=None, progress=None, refused=None) -> list[Report]   (iter_run: the same, a generator)
    One Report per file, in input order. Each file is checked in a worker process with an address-space
    limit (isolation.MEMORY_PER_WORKER) and a time limit (CHECK_TIMEOUT): a file that exhausts either, or kills its
    worker outright, becomes Report(error=<Chinese reason>) and the worker is replaced; the others are judged.
    Workers die with their parent (PR_SET_PDEATHSIG on Linux). isolate=False checks in this process.
iter_annotate(tasks, jobs=None, progress=None)
    Writes the marked workbooks over the same kind of pool (ANNOTATE_TIMEOUT a file), with its own bar
    "标注 n/N", and yields AnnotateResult(src, written, backups, error) as each file is done. In place, a
    task carries the file's (size, mtime, sha256) when it was checked: a file changed since is checked again
    before it is marked (AnnotateResult.rechecked).
"""
from __future__ import annotations

import errno
import os
import stat
import time
from typing import NamedTuple

from . import ledger
from .findings import Report
from .isolation import MEMORY_PER_WORKER, IsolatedPool, lift_memory_limit, limit_memory, reason_memory  # noqa: F401
from .ledger import annotate_dest  # noqa: F401  (kept importable from here)

EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods", ".et")
# Found in a folder, these look like spreadsheets but cannot be checked: each is a row saying why.
SPREADSHEET_LIKE = {
    ".xlsb": "这是 Excel 二进制工作簿（.xlsb），本工具不能读取；请在 Excel 中“另存为” .xlsx 后提交",
    ".xlt": "这是 Excel 模板文件（.xlt），不是填报后的工作簿；请另存为 .xlsx 后提交",
    ".xltx": "这是 Excel 模板文件（.xltx），不是填报后的工作簿；请另存为 .xlsx 后提交",
    ".xltm": "这是 Excel 模板文件（.xltm），不是填报后的工作簿；请另存为 .xlsx 后提交",
    ".ett": "这是 WPS 表格模板（.ett），不是填报后的工作簿；请另存为 .xlsx 后提交",
    ".csv": "这是 CSV 文本文件，不是自评表工作簿；请提交 .xlsx 原表",
    ".numbers": "这是 Numbers 表格，本工具不能读取；请导出为 .xlsx 后提交",
    ".fods": "这是平面 OpenDocument 表格（.fods），本工具不能读取；请另存为 .xlsx 或 .ods 后提交",
    ".xml": None,  # only when it is an Excel 2003 XML spreadsheet (checked by content in _spreadsheet_like)
}
LOCK_MAX_BYTES = 4096  # an Office lock file (~$name) holds a user name: a few hundred bytes
SERIAL_BELOW = 24  # kept for callers; the isolated pool is used for any number of files
ANNOTATE_SERIAL_BELOW = 3
CHUNK_TARGET = 4  # chunks per worker: enough to balance the load
MAX_CHUNK = 16  # files per message to a worker (results come back per chunk; a failure is still one file's)
CHECK_TIMEOUT = 60.0  # seconds one file may take to check (a form takes ~5 ms; openpyxl ~50 ms)
ANNOTATE_TIMEOUT = 300.0  # seconds one file may take to mark (an .xls/.ods is converted by LibreOffice first)

REASON_MARKED = ledger.REASONS[ledger.KIND_COPY]
REASON_BACKUP = ledger.REASONS[ledger.KIND_BACKUP]
REASON_SUMMARY = ledger.REASONS[ledger.KIND_SUMMARY]
REASON_SYMLINK_DIR = "这是指向别处的文件夹链接（符号链接），未进入；如需校验，请直接给出它指向的文件夹"
REASON_NOT_REGULAR = "不是普通文件（可能是管道、设备或套接字），无法作为工作簿读取"


def skip_reason(path: str, record=None) -> str | None:
    """Why a file found in a folder is one of our earlier outputs and not a submission (None: check it).
    Only our record of what we wrote counts (ledger.ours), never a name or a marker inside the file.
    record: ledger.snapshot(), when asking about many files at once."""
    kind = ledger.ours(path, record)
    return ledger.REASONS.get(kind) if kind else None


def is_our_output(path: str) -> bool:
    return skip_reason(path) is not None


def _ext(name: str) -> str:
    """The extension as Windows would see it: trailing dots and spaces do not count ("a.xlsx. " is .xlsx)."""
    return os.path.splitext(name.rstrip(". "))[1].lower()


def _is_lock_file(path: str, name: str) -> bool:
    """~$name.xlsx left by Office while a file is open: tiny, and not a workbook by its first bytes."""
    if not name.startswith("~$"):
        return False
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > LOCK_MAX_BYTES:
            return False
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            head = os.read(fd, 8)
        finally:
            os.close(fd)
    except OSError:
        return False
    return not head.startswith((b"PK", b"\xd0\xcf\x11\xe0"))


def _spreadsheet_like(path: str, ext: str) -> str | None:
    """The reason a spreadsheet-looking file cannot be checked, or None when it is not spreadsheet-like."""
    if ext not in SPREADSHEET_LIKE:
        return None
    why = SPREADSHEET_LIKE[ext]
    if why is None:  # .xml: only an Excel 2003 spreadsheet is a submission in the wrong format
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    return None
                head = os.read(fd, 4096)
            finally:
                os.close(fd)
        except OSError:
            return None
        if b"urn:schemas-microsoft-com:office:spreadsheet" not in head:
            return None
        why = "这是 Excel 2003 XML 表格，本工具不能读取；请用 Excel 打开后“另存为” .xlsx 再提交"
    return why


def _os_reason(e: OSError) -> str:
    if e.errno == errno.ENAMETOOLONG:
        return "路径或文件名过长，系统无法打开；请缩短文件夹或文件名后重新提交"
    if e.errno == errno.ELOOP:
        return "符号链接循环（链接指向自身），无法打开"
    if e.errno in (errno.EACCES, errno.EPERM):
        return "没有读取权限，无法打开"
    if e.errno == errno.ENOENT:
        return "文件在校验前已被删除或移走"
    return f"无法访问（{e.strerror or e}）"


def _relative_parts(path: str, top: str) -> list[str]:
    """os.path.relpath(path, top).split(os.sep) for a path os.walk(top) gave, without relpath's abspath calls."""
    head = top if top.endswith(os.sep) else top + os.sep
    if path.startswith(head):
        return path[len(head):].split(os.sep)
    return os.path.relpath(path, top).split(os.sep)


def collect(paths, *, exclude=(), skipped: list | None = None, reasons: dict | None = None,
            skip_marked: bool = True, refused: dict | None = None) -> list[str]:
    """Expand files and folders into the files to check (input order for files, path order within folders).

    `skipped`, when a list, receives the paths of our earlier outputs found in the folders and not checked
    (proved ours by the record); `reasons`, when a dict, path -> why (Chinese). `refused`, when a dict,
    receives path -> why for what was found in the folders and cannot be checked; those paths are also in
    the list returned, in their place, so that the caller gives each a row (iter_run(refused=...) does).
    Without `refused` they are left out (the old behaviour, for library callers that want files only).
    skip_marked=False keeps marked copies (a --in-place run marks the folder's files again)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    excluded = [os.path.realpath(p) for p in exclude if p]

    def is_excluded(p: str, real: str | None = None) -> bool:
        if not excluded:
            return False
        real = real or os.path.realpath(p)
        return any(real == e or real.startswith(e + os.sep) for e in excluded)

    out: list[str] = []
    record = None
    seen: set[str] = set()
    seen_skipped: dict[str, tuple[str, str]] = {}
    refusals: dict[str, str] = {}

    def add(p: str, real: str | None = None) -> None:
        key = real or os.path.realpath(p)
        if key not in seen and not is_excluded(p, key):
            seen.add(key)
            out.append(p)

    for p in paths:
        p = os.fspath(p)
        if os.path.isdir(p) and _ext(p) not in EXTENSIONS:
            found: list[tuple[str, str | None, str | None]] = []  # (path, refusal reason or None, real path)

            def onerror(e: OSError, found=found) -> None:
                if e.filename and os.path.realpath(e.filename) != os.path.realpath(p):
                    found.append((e.filename, "无法打开文件夹：" + _os_reason(e), None))

            for root, dirs, files in os.walk(p, onerror=onerror):
                keep = []
                for d in dirs:
                    full = os.path.join(root, d)
                    if is_excluded(full):
                        continue
                    if os.path.islink(full):
                        found.append((full, REASON_SYMLINK_DIR if os.path.isdir(full) else None, None))
                        continue
                    keep.append(d)
                dirs[:] = keep
                # a province's folder holds tens of thousands of files: the real path of a file that is not a link
                # is its folder's real path and its name (one realpath a folder instead of ~4 lstat calls a file)
                real_root = os.path.realpath(root)
                for n in files:
                    full = os.path.join(root, n)
                    ext = _ext(n)
                    if ext in EXTENSIONS:
                        if _is_lock_file(full, n):
                            continue
                        try:
                            st = os.lstat(full)
                            real = os.path.join(real_root, n)
                            if stat.S_ISLNK(st.st_mode):
                                st, real = os.stat(full), None
                        except OSError as e:
                            found.append((full, _os_reason(e), None))
                            continue
                        found.append((full, None if stat.S_ISREG(st.st_mode) else REASON_NOT_REGULAR, real))
                    else:
                        why = _spreadsheet_like(full, ext)
                        if why:
                            found.append((full, why, None))
            found = [(f, w, r) for f, w, r in found if f is not None]
            # path order, folder by folder: 市直/办公室/x.xlsx before 市直/y.xlsx, as a file manager lists them
            for f, why, real in sorted(found, key=lambda fw: _relative_parts(fw[0], p)):
                real = real or os.path.realpath(f)
                if is_excluded(f, real):
                    continue
                if why is None:
                    if record is None:
                        record = ledger.snapshot()  # read once for the whole folder
                    mine = skip_reason(f, record)
                    if mine and (skip_marked or mine != REASON_MARKED):
                        if real not in seen_skipped:
                            seen_skipped[real] = (f, mine)
                        continue
                    add(f, real)
                elif refused is not None:
                    refusals[f] = why
                    add(f, real)
        else:
            # named explicitly: kept even if odd (a directory called x.xlsx, a missing file), so that
            # the report says what is wrong with it instead of silently dropping it
            add(p)
    left = [(f, why) for real, (f, why) in seen_skipped.items() if real not in seen]
    if skipped is not None:  # a file also named explicitly was checked, so it was not skipped
        skipped.extend(f for f, _ in left)
    if reasons is not None:
        reasons.update(left)
    if refused is not None:
        refused.update((f, w) for f, w in refusals.items() if f in set(out))
    return out


def _check_task(task):
    path, options = task
    from .pipeline import check_file

    return _check_one(check_file, path, options)


def _check_one(check_file, path, options) -> Report:
    try:
        return check_file(path, options)
    except MemoryError:
        return Report(path=path, error=reason_memory())
    except Exception as e:  # check_file should never raise; a batch never stops for one file
        return Report(path=path, error=f"校验时发生内部错误（{type(e).__name__}: {e}）")


def _warm_imports() -> None:
    try:
        from . import pipeline, readers, rules, settings  # noqa: F401
        import python_calamine  # noqa: F401
    except Exception:  # a broken module shows up per file, in the reports
        pass


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def cap_jobs(jobs: int | None, force: bool = False) -> int:
    """--jobs N: at most the number of CPUs unless forced (400 processes on 2 cores help nobody)."""
    n = default_jobs()
    if jobs is None:
        return n
    return max(1, int(jobs)) if force else max(1, min(int(jobs), n))


def run(files, options=None, jobs: int | None = None, progress=None, refused: dict | None = None,
        isolate: bool = True) -> list[Report]:
    """All reports, in input order (memory grows with the findings held: ~13 KB a file for the seed)."""
    return list(iter_run(files, options, jobs, progress, refused=refused, isolate=isolate))


def iter_run(files, options=None, jobs: int | None = None, progress=None, refused: dict | None = None,
             isolate: bool = True):
    """Reports one by one, in input order, for callers that stream them out."""
    from .pipeline import CheckOptions, check_file

    files = [os.fspath(f) for f in files]
    refused = refused or {}
    options = options if options is not None else CheckOptions()
    jobs = default_jobs() if jobs is None else max(1, int(jobs))
    bar = _Progress(progress, len(files))
    todo = [(i, f) for i, f in enumerate(files) if f not in refused]
    results: dict[int, Report] = {i: Report(path=f, error=refused[f]) for i, f in enumerate(files) if f in refused}
    nxt = 0

    def flush():
        nonlocal nxt
        while nxt in results:
            rep = results.pop(nxt)
            nxt += 1
            bar.step(1)
            yield rep

    yield from flush()
    if todo and isolate:
        _warm_imports()  # forked workers inherit the modules instead of importing them each
        try:
            workers = min(jobs, len(todo))
            chunk = max(1, min(MAX_CHUNK, len(todo) // (workers * CHUNK_TARGET)))
            pool = IsolatedPool(_check_task, workers, CHECK_TIMEOUT, chunk=chunk)
        except (OSError, ValueError, ImportError) as e:
            bar.note(f"无法启动校验进程（{type(e).__name__}），改为在本进程中逐个校验，单个文件不再受内存和时间限制")
            pool = None
        if pool is not None:
            with pool:
                for k, ok, value in pool.imap_unordered([(f, options) for _, f in todo]):
                    i, f = todo[k]
                    results[i] = value if ok else Report(path=f, error=value)
                    yield from flush()
            todo = []
    for i, f in todo:
        results[i] = _check_one(check_file, f, options)
        yield from flush()
    yield from flush()
    bar.done()


class AnnotateResult(NamedTuple):
    src: str
    written: str | None  # the path written, None when it failed
    backups: list  # backups written first (in_place)
    error: str | None  # why the marks could not be written (Chinese), None when they were
    rechecked: Report | None = None  # in place: the file had changed since the check, this is its new report


def _annotate_one(task) -> AnnotateResult:
    """task: (src, report, dest, in_place[, expect, options]). In place with expect (size, mtime_ns, sha256):
    a file that changed since it was checked is checked again, and marked with its new findings."""
    src, report, dest, in_place = task[:4]
    expect = task[4] if len(task) > 4 else None
    options = task[5] if len(task) > 5 else None
    from .writers.annotate import FileChanged, annotate

    backups: list = []
    rechecked = None
    for _attempt in range(3):
        try:
            written = annotate(src, report, dest, in_place=in_place, backups=backups, expect=expect)
            return AnnotateResult(src, written, backups, None, rechecked)
        except FileChanged:
            from .pipeline import check_file

            st = os.stat(src)
            expect = (st.st_size, st.st_mtime_ns, ledger.file_hash(src))
            report = rechecked = check_file(src, options)
            if report.error:
                return AnnotateResult(src, None, backups, f"文件在校验后被改动，重新校验时无法读取：{report.error}",
                                      rechecked)
        except Exception as e:  # one file's marks must not stop the others
            from .errors import os_error_text

            return AnnotateResult(src, None, backups, os_error_text(e), rechecked)
    return AnnotateResult(src, None, backups, "文件在标注过程中反复被改动，未标注", rechecked)


def _warm_annotate() -> None:
    try:
        import openpyxl  # noqa: F401

        from .writers import annotate  # noqa: F401
    except Exception:  # shows up per file, in the results
        pass


def iter_annotate(tasks, jobs: int | None = None, progress=None, isolate: bool = True):
    """(src, report, dest or None, in_place[, expect, options]) tasks -> AnnotateResult as each file is
    written (completion order); a progress bar "标注 n/N" on `progress`."""
    tasks = list(tasks)
    jobs = default_jobs() if jobs is None else max(1, int(jobs))
    bar = _Progress(progress, len(tasks), label="标注")
    done: set[int] = set()
    if tasks and isolate:
        _warm_annotate()  # forked workers inherit openpyxl instead of importing it each
        try:
            pool = IsolatedPool(_annotate_one, min(jobs, len(tasks)), ANNOTATE_TIMEOUT)
        except (OSError, ValueError, ImportError) as e:
            bar.note(f"无法启动标注进程（{type(e).__name__}），改为在本进程中逐个标注")
            pool = None
        if pool is not None:
            with pool:
                for k, ok, value in pool.imap_unordered(tasks):
                    done.add(k)
                    bar.step(1)
                    yield value if ok else AnnotateResult(tasks[k][0], None, [], value)
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

