"""Pre-flight checks before any parser touches a file: what it is, and whether it is safe to open.

Interface (kept stable): preflight(path) -> format string ("xlsx", "xlsm", "xls", "ods"),
or raises ReadError with a Chinese reason.
"""
from __future__ import annotations

import os

from .errors import ReadError

SUPPORTED = ("xlsx", "xlsm", "xls", "ods")


def preflight(path: str) -> str:
    if not os.path.isfile(path):
        raise ReadError(path, "文件不存在")
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in SUPPORTED:
        raise ReadError(path, f"不支持的文件类型 .{ext}（支持 .xlsx .xlsm .xls .ods）")
    return ext
