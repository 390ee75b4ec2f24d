"""What we write, and a record of it: the names of our outputs, and proof that a file found later is ours.

A batch must not check its own earlier outputs (marked copies, backups, summary workbooks) as submissions,
but a department must not be able to hide a submission by dressing it as one of ours: a name
("_备份_20250101-120000"), a defined name or a document title can all be forged. So a file is ours only when
its bytes are in our record: every file we write is hashed (SHA-256) and appended to a small ledger kept
OUTSIDE the inbox, in the reviewer's own state directory ($PERFEVAL_STATE_DIR, else
$XDG_STATE_HOME/perfeval, else ~/.local/state/perfeval). A file that is not there is a submission and is checked.
Backups are recorded with their file name too: a backup holds the same bytes as the submission it was taken
from, and an identical copy of that submission elsewhere is still a submission.

Both the batch (batch.py) and the writers (writers/annotate.py) import this module; it imports neither.
"""
from __future__ import annotations

import hashlib
import os
import time
from datetime import datetime

ANNOTATED_SUFFIX = "_已校验"
BACKUP_INFIX = "_备份_"
LEDGER_NAME = "outputs.tsv"
MAX_HASHED_BYTES = 256 * 1024 * 1024  # files larger than this are never ours (our outputs are small)

KIND_COPY = "copy"
KIND_BACKUP = "backup"
KIND_SUMMARY = "summary"
REASONS = {KIND_COPY: "以前生成的标注副本", KIND_BACKUP: "标注前留的备份", KIND_SUMMARY: "以前生成的汇总表"}


# ---- names ---------------------------------------------------------------------------------

def ext_for(fmt: str | None, ext: str) -> str:
    if fmt == "xlsm":
        return ".xlsm"
    if fmt in ("xlsx", "xls", "ods") or ext.lower() in (".xls", ".ods", ".xlsx", ".et", ""):
        return ".xlsx"  # openpyxl writes OOXML only
    return ext


def default_dest(src: str, fmt: str | None = None) -> str:
    """<name>_已校验<ext>; a copy that is already annotated keeps its name (never "_已校验_已校验").
    A source that is converted (.xls, .ods, .et) keeps its old extension in the name: ex.xls and ex.ods
    side by side give ex_xls_已校验.xlsx and ex_ods_已校验.xlsx, not one file twice."""
    stem, ext = os.path.splitext(src)
    if stem.endswith(ANNOTATED_SUFFIX):
        stem = stem[: -len(ANNOTATED_SUFFIX)]
    out_ext = ext_for(fmt, ext)
    if ext and ext.lower() not in (".xlsx", ".xlsm") and ext.lower() != out_ext:
        stem += "_" + ext.lstrip(".").lower()
    return stem + ANNOTATED_SUFFIX + out_ext


def backup_path(src: str) -> str:
    """<name>_备份_<YYYYmmdd-HHMMSS><ext>; never an existing file (two runs in one second keep both)."""
    stem, ext = os.path.splitext(src)
    base = f"{stem}{BACKUP_INFIX}{datetime.now():%Y%m%d-%H%M%S}"
    path, n = base + ext, 1
    while os.path.exists(path):
        n += 1
        path = f"{base}-{n}{ext}"
    return path


def annotate_dest(src: str, inputs, outdir: str) -> str:
    """Where --annotate OUTDIR puts the marked copy of src: its path below the input folder it was
    found in, mirrored under outdir, named like default_dest ("<name>_已校验.xlsx")."""
    real = os.path.realpath(src)
    rel = os.path.basename(src)
    best = -1
    for inp in ([inputs] if isinstance(inputs, (str, os.PathLike)) else inputs):
        root = os.path.realpath(os.fspath(inp))
        if os.path.isdir(root) and real.startswith(root + os.sep) and len(root) > best:
            rel, best = os.path.relpath(real, root), len(root)
    return os.path.join(outdir, os.path.dirname(rel), os.path.basename(default_dest(src)))


# ---- the record ----------------------------------------------------------------------------

def state_dir() -> str:
    d = os.environ.get("PERFEVAL_STATE_DIR")
    if not d:
        base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
        d = os.path.join(base, "perfeval")
    return d


def _ledger_path() -> str:
    return os.path.join(state_dir(), LEDGER_NAME)


def file_hash(path: str) -> str | None:
    """SHA-256 of a regular file (None when it cannot be read, is not regular, or is too large)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) * 0)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        import stat

        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_HASHED_BYTES:
            return None
        h = hashlib.sha256()
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None
    finally:
        os.close(fd)


def record(path: str, kind: str) -> None:
    """Remember that we wrote path (its bytes now). Never fails the caller: a record that cannot be
    written only means the file will be checked as a submission next time."""
    digest = file_hash(path)
    if digest is None:
        return
    try:
        size = os.path.getsize(path)
        os.makedirs(state_dir(), exist_ok=True)
        line = f"{digest}\t{size}\t{kind}\t{os.path.basename(path)}\t{int(time.time())}\n"
        fd = os.open(_ledger_path(), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))  # one short write with O_APPEND: whole lines, even from workers
        finally:
            os.close(fd)
    except OSError:
        pass
    _CACHE.clear()


_CACHE: dict = {}  # (ledger path, mtime, size) -> (sizes, {digest: [(kind, name)]})


def snapshot():
    """The record as it is now, for ours(path, loaded) over many paths (a folder of 50 000 files: one read)."""
    return _load()


def _load():
    p = _ledger_path()
    try:
        st = os.stat(p)
    except OSError:
        return set(), {}
    key = (p, st.st_mtime_ns, st.st_size)
    hit = _CACHE.get("v")
    if hit and hit[0] == key:
        return hit[1]
    sizes: set[int] = set()
    known: dict[str, list[tuple[str, str]]] = {}
    try:
        with open(p, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 4 and parts[1].isdigit():
                    sizes.add(int(parts[1]))
                    known.setdefault(parts[0], []).append((parts[2], parts[3]))
    except OSError:
        return set(), {}
    _CACHE["v"] = (key, (sizes, known))
    return sizes, known


def ours(path: str, loaded=None) -> str | None:
    """The kind of output we wrote (KIND_*) when path holds exactly the bytes of a file we wrote, else None.
    Only files whose size is in the record are hashed, so a folder of submissions costs one stat each.
    loaded: the record as _load() gave it, for a caller asking about a whole folder at once."""
    sizes, known = loaded if loaded is not None else _load()
    if not sizes:
        return None
    try:
        if os.stat(path).st_size not in sizes:
            return None
    except OSError:
        return None
    digest = file_hash(path)
    if digest is None or digest not in known:
        return None
    name = os.path.basename(path)
    for kind, rec_name in known[digest]:
        if kind != KIND_BACKUP or rec_name == name:
            return kind
    return None
