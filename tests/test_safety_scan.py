"""The pre-flight's fast paths refuse exactly what its plain paths refuse, with the same messages.

Fast paths (perfeval_xl/safety.py): one inflate per small sheet serving the prolog and the scan (_whole_sheet), the
references found through a lookahead that dismisses small ones (the hits pattern), plain merges read at once
(_plain_merges), passed sheets remembered by their bytes. Each is switched off here to give the plain path, and
both are run over sheets mutated with fragments of hostile spellings (r = 'XFD9', &#88;, r="r="…, loose merges),
under the default limits and others.
"""
from __future__ import annotations

import io
import random
import zipfile

import pytest

from perfeval_xl import safety
from perfeval_xl.errors import ReadError

TOKENS = [b"r", b"=", b'"', b"'", b" ", b"A", b"a", b"XFD", b"1", b"9999", b"$", b"&#88;", b"&#49;", b"&#x46;",
          b"mergeCell", b"s", b"ref", b":", b"/>", b"<", b">", b"\n", b"x:", b'r="', b'ref="', b"<c ", b"<row ",
          b"ZZ", b"20001", b"&#", b'r="r="', b'mergeCellref="A1:B2"', b"&#114;", b"&#34;", b"&#39;", b"B7", b"0",
          b"\t", b"<!DOCTYPE x>", b'<dimension ref="A1:XFD9"/>', b"1048576"]
TOKENS += [f'r="{col}{row}"'.encode() for col in ("", "A", "Z", "AA", "ZZ", "XFD", "ab", "$B$")
           for row in ("", 1, 9, 99, 999, 1000, 9999, 20001)]
LIMITS = [{}, {"MAX_ROWS": 500, "MAX_COLUMNS": 26}, {"MAX_ROWS": 9, "MAX_COLUMNS": 1, "MAX_MERGES": 3},
          {"MAX_ROWS": 100000, "MAX_COLUMNS": 20000}, {"SCAN_CHUNK": 512}, {"MAX_CELLS": 1000, "MAX_MERGED_CELLS": 10}]


def _sheets(seed_example, seed_original) -> list[bytes]:
    out = []
    for p in (seed_example, seed_original):
        with zipfile.ZipFile(p) as z:
            out += [z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    return out


def _workbook(seed_example, sheet: bytes, stored: bool) -> bytes:
    """The seed example with its first worksheet replaced."""
    buf = io.BytesIO()
    with zipfile.ZipFile(seed_example) as src, zipfile.ZipFile(
            buf, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, sheet if info.filename == "xl/worksheets/sheet1.xml" else src.read(info))
    return buf.getvalue()


def _outcome(path: str, data: bytes) -> str:
    try:
        with safety._check_zip(path, data) as checked:
            return "ok " + checked.fmt
    except ReadError as e:
        return str(e)


def _plain_paths(monkeypatch) -> None:
    """Every fast path off: the streaming scan, the pattern's own matches, the merge loop, nothing remembered."""
    monkeypatch.setattr(safety, "_whole_sheet", lambda data, info: None)
    monkeypatch.setattr(safety, "_plain_merges", lambda flat, at, seen: None)
    monkeypatch.setattr(safety, "_PASSED_MAX", 0)
    real = safety._ref_patterns

    def patterns():
        pattern, rows, cols, _ = real()
        return pattern, rows, cols, pattern  # no group: never the fallback, always the pattern's matches

    monkeypatch.setattr(safety, "_ref_patterns", patterns)


@pytest.mark.parametrize("limits", LIMITS, ids=[",".join(f"{k}={v}" for k, v in d.items()) or "default"
                                                for d in LIMITS])
def test_fast_and_plain_paths_refuse_alike(monkeypatch, tmp_path, seed_example, seed_original, limits):
    rng = random.Random(sum(map(ord, repr(limits))))
    sheets = _sheets(seed_example, seed_original)
    cases = []
    for i in range(60):
        x = rng.choice(sheets)
        for _ in range(rng.randint(1, 10)):
            soup = b"".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 25)))
            j = x.find(b"</sheetData>") if rng.random() < .3 else rng.randrange(len(x) + 1)
            x = x[:max(j, 0)] + soup + x[max(j, 0):]
        cases.append(_workbook(seed_example, x, stored=i % 5 == 0))
    for k, v in limits.items():
        monkeypatch.setattr(safety, k, v)
    path = str(tmp_path / "x.xlsx")
    safety._PASSED.clear()
    fast = [_outcome(path, d) for d in cases]
    again = [_outcome(path, d) for d in cases]  # remembered passes
    with monkeypatch.context() as m:
        _plain_paths(m)
        plain = [_outcome(path, d) for d in cases]
    safety._PASSED.clear()
    assert fast == plain
    assert again == plain
    assert len(set(plain)) > 3  # the cases are told apart: passes and refusals of several kinds
