"""Errors that carry a user-facing reason (Chinese) and the file it concerns."""
from __future__ import annotations


class PerfevalError(Exception):
    """Base class: the message is meant for the user."""


class ReadError(PerfevalError):
    """A workbook could not be read as this form: encrypted, corrupt, too large, not this form..."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}：{reason}")
        self.path = path
        self.reason = reason


class ConfigError(PerfevalError):
    """A settings file or 设置 sheet holds something that is not a valid setting."""


def os_error_text(e: BaseException) -> str:
    """An OS error in Chinese (full disk, read-only folder, no permission...); anything else as its own text."""
    import errno

    if isinstance(e, OSError) and e.errno is not None:
        known = {errno.ENOSPC: "磁盘已满", errno.EROFS: "目标位置只读", errno.EACCES: "没有写入权限",
                 errno.EPERM: "没有权限", errno.ENOENT: "文件或文件夹不存在", errno.ENAMETOOLONG: "路径过长",
                 errno.EISDIR: "这是一个文件夹", errno.EDQUOT: "超出磁盘配额", errno.ENOTDIR: "路径中有一段不是文件夹",
                 errno.EEXIST: "路径中有一段不是文件夹（是同名文件）", errno.EIO: "磁盘读写错误",
                 errno.EXDEV: "不能跨磁盘改名"}
        text = known.get(e.errno)
        if text:
            return text + (f"：{e.filename}" if getattr(e, "filename", None) else "")
    if isinstance(e, PerfevalError) and hasattr(e, "reason"):
        return e.reason
    return str(e) or type(e).__name__
