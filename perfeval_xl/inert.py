"""Text from submitted files made inert before it reaches any output (terminal, JSON, xlsx, docx).

A unit name or file name is data from a department we do not trust: control characters could drive the terminal,
forge a line of output, or make the XML of a summary workbook invalid. Every writer passes such text through here.
"""
from __future__ import annotations

import re

# C0 and C1 controls, DEL, line/paragraph separators and the bidi overrides that reorder what a reviewer reads.
_UNSAFE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# The same, but tab and newline are kept (multi-line cells such as 偏差原因).
_UNSAFE_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# Excel's own escape for a control character stored in XML ("_x0001_"), which openpyxl decodes on reading.
_XML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _visible(m: re.Match) -> str:
    c = m.group(0)
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(c, f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


def inert_line(text) -> str:
    """One line of output: every control character shown as a visible escape, so no name can forge a line."""
    if text is None:
        return ""
    s = str(text)
    if s.isprintable():  # C-level: every character escaped below fails isprintable
        return s
    return _UNSAFE_LINE.sub(_visible, s) if _UNSAFE_LINE.search(s) else s


def inert_text(text) -> str:
    """Multi-line cell text: tabs and newlines kept, every other control character shown as an escape."""
    if text is None:
        return ""
    s = str(text)
    return _UNSAFE_TEXT.sub(_visible, s) if _UNSAFE_TEXT.search(s) else s


def undo_xml_escapes(text: str) -> str:
    """Decode "_x0001_"-style escapes the way Excel does, so they are judged (and then made inert) as characters."""
    return _XML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


# Characters json.dumps(ensure_ascii=False) leaves raw although they can reorder or break what a reader sees.
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def inert_json(text: str) -> str:
    """JSON text (from json.dumps(..., ensure_ascii=False)) with the controls it leaves raw escaped as \\uXXXX:
    still the same JSON, but no bidi override or line separator reaches a terminal or a log."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text) if _JSON_RAW.search(text) else text
