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
