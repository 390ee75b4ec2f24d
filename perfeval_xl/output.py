"""Rendering of reports for the terminal (Chinese text, coloured on a tty), as JSON and as JSON lines.

TextWriter, JsonWriter and JsonlWriter write each report as it arrives and keep none (flat memory at any batch
size); render_text/render_json are the same writers into a string."""
from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterable
from decimal import Decimal

from .findings import Report, Severity
from .inert import inert_json, inert_line

_COLOR = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}


def use_color(stream) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _num(x: Decimal | None, pct: bool = False) -> str:
    if x is None:
        return "—"
    if pct:
        return f"{x * 100:.2f}%"
    return f"{x:.2f}"


def summary_line(r: Report) -> str:
    """执行率 95.96% · 复核总分 99.20（表中 99.20）· 等级 优 · 错误 3 · 警告 8 · 提示 6; when the point structure
    is wrong: 复核总分 99.20（暂定，表中 99.20）· 等级 优（暂定：分值结构有误 PE205）· ..."""
    if r.error:
        return f"无法校验：{r.error}"
    m = r.metrics
    parts = []
    if m is not None:
        parts.append(f"执行率 {_num(m.execution_rate, pct=True)}")
        provisional = m.score_provisional and m.total_score is not None
        inner = ["暂定"] if provisional else []
        if m.self_total_score is not None:
            inner.append(f"表中 {_num(m.self_total_score)}")
        total = f"复核总分 {_num(m.total_score)}" + (f"（{'，'.join(inner)}）" if inner else "")
        parts.append(total)
        grade = f"等级 {m.grade or '—'}"
        if provisional:  # the note's first clause, and the codes it names: one line, the whole note is in JSON
            why = re.split(r"[：，。；]", m.score_note or "", maxsplit=1)[0]
            codes = "、".join(dict.fromkeys(f.code for f in r.findings if f.code in (m.score_note or "")))
            grade += f"（暂定{'：' + why if why else ''}{' ' + codes if codes else ''}）"
        parts.append(grade)
    parts.append(f"错误 {r.errors} · 警告 {r.warnings} · 提示 {r.infos}")
    return " · ".join(parts)


def _part_name(part: Report) -> str:
    m = part.metrics
    return inert_line((m.project or m.department) if m else "")


def _finding_lines(findings, indent: str, color: bool) -> list[str]:
    """Findings grouped under their sheet's head, indented for a file (two spaces) or a part (four)."""
    out, sheet = [], None
    for f in findings:
        if f.sheet != sheet:
            sheet = f.sheet
            out.append(f"{indent}[{inert_line(sheet) or '工作簿'}]")
        sev = _paint(f"{f.severity.label}", _COLOR[f.severity], color)
        out.append(f"{indent}  {inert_line(f.cell) or '—':<6} {sev} {f.code}  {inert_line(f.message)}")
    return out


def _report_text(r: Report, color: bool, quiet: bool) -> str:
    """One file's block (or, with quiet, its lines); text from the submission made inert. A workbook holding
    several project forms lists each under its own head (issue 10)."""
    head = _paint(inert_line(r.path), "1", color)
    if quiet:
        line = summary_line(r)
        if r.error:
            line = _paint("无法校验", "1;31", color) + f"：{inert_line(r.error)}"
        out = [f"{head}  {inert_line(line) if not r.error else line}"]
        for part in r.parts:  # several project forms in the file: one line each
            out.append(f"  — {_part_name(part)}  {inert_line(summary_line(part))}")
        return "\n".join(out) + "\n"
    if r.error:
        return f"{head}\n  {_paint('无法校验', '1;31', color)}：{inert_line(r.error)}\n\n"
    out = [head, *_finding_lines(r.findings, "  ", color)]
    for part in r.parts:
        out.append(f"  — {_paint(_part_name(part), '1', color)}")
        out.extend(_finding_lines(part.findings, "    ", color))
        out.append("    " + inert_line(summary_line(part)))
    if not r.findings and not r.parts:
        out.append("  未发现问题")
    out.append("  " + inert_line(summary_line(r)) + "\n")
    return "\n".join(out) + "\n"


class TextWriter:
    """Text output as each report arrives: every finding under its file and sheet (or, quiet, one line a file),
    and the totals at the end. Holds counts only, never the reports."""

    def __init__(self, stream, color: bool = False, quiet: bool = False):
        self.stream, self.color, self.quiet = stream, color, quiet
        self.files = self.bad = self.errors = self.warnings = self.infos = 0
        self._pending = ""  # the previous block's trailing blank line, dropped after the last file

    def write(self, r: Report) -> None:
        block = _report_text(r, self.color, self.quiet)
        self.stream.write(self._pending + block.rstrip("\n") + "\n")
        self._pending = "\n" * (len(block) - len(block.rstrip("\n")) - 1)
        self.files += 1
        self.bad += bool(r.error)
        for part in [r, *r.parts]:  # a workbook of several project forms carries its findings in its parts
            self.errors += part.errors
            self.warnings += part.warnings
            self.infos += part.infos

    def close(self) -> None:
        if self.files > 1:
            tail = f"共 {self.files} 个文件：错误 {self.errors}，警告 {self.warnings}，提示 {self.infos}"
            if self.bad:
                tail += f"；{self.bad} 个文件无法校验"
            self.stream.write(self._pending + tail + "\n")
        self._pending = ""


def render_text(reports: Iterable[Report], color: bool = False, quiet: bool = False) -> str:
    """Every finding under its file and sheet; with quiet, one line per file (path and summary_line)."""
    buf = io.StringIO()
    w = TextWriter(buf, color=color, quiet=quiet)
    for r in reports:
        w.write(r)
    w.close()
    return buf.getvalue() or "\n"


def _skipped_tail(skipped, reasons) -> dict:
    data = {"skipped": list(skipped)}
    if reasons is not None:
        data["skipped_reasons"] = {f: reasons.get(f, "以前生成的输出") for f in data["skipped"]}
    return data


# ---- JSON -----------------------------------------------------------------------------------
# A province's batch writes tens of thousands of reports: json.dumps(indent=2) runs json's pure-Python encoder
# (~0.5 ms a report of ~55 findings), so reports are written here from their fields, with json's C string
# encoder, to exactly the text json.dumps(r.to_dict(), ensure_ascii=False, indent=2 / compact) gives
# (tests/test_output_json.py compares them over the fixtures and odd texts).
_js = json.encoder.encode_basestring  # a str as json writes it with ensure_ascii=False (C)


def _scalar(o) -> str:
    if o is None:
        return "null"
    t = type(o)
    if t is str:
        return _js(o)
    if o is True:
        return "true"
    if o is False:
        return "false"
    return json.dumps(o)  # numbers: json's own float and int text (NaN, Infinity, repr)


def _value(o, ind: str | None) -> str:
    """o (a to_dict dict) as json.dumps writes it, its later lines indented by ind more; ind None: compact."""
    if ind is None:
        return json.dumps(o, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(o, ensure_ascii=False, indent=2).replace("\n", "\n" + ind)


def _finding_json(f, ind: str | None) -> str:
    if ind is None:
        rel = "[" + ",".join('{"sheet":%s,"cell":%s}' % (_js(s), _js(c)) for s, c in f.related) + "]"
        return ('{"code":%s,"severity":%s,"sheet":%s,"cell":%s,"message":%s,"expected":%s,"actual":%s,"related":%s}'
                % (_js(f.code), _js(str(f.severity)), _js(f.sheet), _js(f.cell), _js(f.message),
                   _scalar(f.expected), _scalar(f.actual), rel))
    i1, i2, i3 = ind + "  ", ind + "    ", ind + "      "
    if f.related:
        rel = "[\n" + ",\n".join(f'{i2}{{\n{i3}"sheet": {_js(s)},\n{i3}"cell": {_js(c)}\n{i2}}}'
                                  for s, c in f.related) + f"\n{i1}]"
    else:
        rel = "[]"
    return (f'{{\n{i1}"code": {_js(f.code)},\n{i1}"severity": {_js(str(f.severity))},\n{i1}"sheet": {_js(f.sheet)},'
            f'\n{i1}"cell": {_js(f.cell)},\n{i1}"message": {_js(f.message)},\n{i1}"expected": {_scalar(f.expected)},'
            f'\n{i1}"actual": {_scalar(f.actual)},\n{i1}"related": {rel}\n{ind}}}')


def report_json(r: Report, ind: str | None = "") -> str:
    """json.dumps(r.to_dict(), ensure_ascii=False, indent=2) with every line after the first indented by ind more
    (ind None: separators=(",", ":"), one line), written from the report's fields."""
    if ind is None:
        parts = ['{"path":', _js(r.path), ',"form":', _js(r.form), ',"metrics":',
                 _value(r.metrics.to_dict(), None) if r.metrics else "null", ',"findings":[',
                 ",".join(_finding_json(f, None) for f in r.findings), '],"error":', _scalar(r.error)]
        if r.parts:
            parts += [',"forms":[', ",".join(report_json(p, None) for p in r.parts), "]"]
        parts.append("}")
        return "".join(parts)
    i1, i2 = ind + "  ", ind + "    "
    if r.findings:
        findings = "[\n" + ",\n".join(i2 + _finding_json(f, i2) for f in r.findings) + f"\n{i1}]"
    else:
        findings = "[]"
    out = (f'{{\n{i1}"path": {_js(r.path)},\n{i1}"form": {_js(r.form)},'
           f'\n{i1}"metrics": {_value(r.metrics.to_dict(), i1) if r.metrics else "null"},'
           f'\n{i1}"findings": {findings},\n{i1}"error": {_scalar(r.error)}')
    if r.parts:
        out += f',\n{i1}"forms": [\n' + ",\n".join(i2 + report_json(p, i2) for p in r.parts) + f"\n{i1}]"
    return out + f"\n{ind}}}"


class JsonWriter:
    """`--format json` written as each report arrives: byte for byte the document render_json gives
    ({"files": [...], "skipped": [...], "skipped_reasons": {...}}, indent 2), one file object at a time."""

    def __init__(self, stream):
        self.stream = stream
        self.n = 0

    def write(self, r: Report) -> None:
        body = inert_json(report_json(r, "    "))  # json leaves no raw \n inside strings: every \n is structure
        self.stream.write(('{\n  "files": [\n    ' if self.n == 0 else ",\n    ") + body)
        self.n += 1

    def close(self, skipped: Iterable[str] | None = None, reasons: dict | None = None) -> None:
        self.stream.write('{\n  "files": []' if self.n == 0 else "\n  ]")
        if skipped is not None:
            tail = inert_json(json.dumps(_skipped_tail(skipped, reasons), ensure_ascii=False, indent=2))
            self.stream.write(",\n" + tail[2:-2])  # its members, at the document's own indent
        self.stream.write("\n}\n")


class JsonlWriter:
    """`--format jsonl`: one line per file as it is known (the object of "files" in --format json), then one line
    per skipped earlier output: {"path": ..., "skipped": reason}."""

    def __init__(self, stream):
        self.stream = stream

    def _line(self, text: str) -> None:
        # inert_json escapes what json leaves raw (U+2028/2029 are line breaks to some readers, e.g. Python's
        # splitlines; bidi overrides): one object stays one line
        self.stream.write(inert_json(text) + "\n")

    def write(self, r: Report) -> None:
        self._line(report_json(r, None))

    def close(self, skipped: Iterable[str] | None = None, reasons: dict | None = None) -> None:
        for f in skipped or ():
            self._line(json.dumps({"path": f, "skipped": (reasons or {}).get(f, "以前生成的输出")},
                                  ensure_ascii=False, separators=(",", ":")))


def render_json(reports: Iterable[Report], skipped: Iterable[str] | None = None,
                reasons: dict | None = None) -> str:
    """{"files": [{"path", "metrics": {...}, "findings": [{code, severity, sheet, cell, message, expected, actual}],
    "error"}], "skipped": [...]}; "skipped" (given by `perfeval check`: paths of earlier outputs found in the
    folders and not checked, [] when none) is left out when None; with `reasons` (path -> why) each skipped
    path's reason is given in "skipped_reasons" ({path: reason}, same order). JsonWriter streams the same text."""
    buf = io.StringIO()
    w = JsonWriter(buf)
    for r in reports:
        w.write(r)
    w.close(skipped, reasons)
    return buf.getvalue()


def render_rules(catalog: dict, color: bool = False) -> str:
    lines = []
    for code in sorted(catalog):
        info = catalog[code]
        sev = _paint(f"{info.severity.label}", _COLOR[info.severity], color)
        lines.append(f"{code}  {sev}  [{info.group}] {info.title}")
    return "\n".join(lines) + "\n"


def render_rule(info) -> str:
    return (f"{info.code}  {info.title}\n"
            f"类别：{info.group}    默认级别：{info.severity.label}（{info.severity.value}）\n\n"
            f"{info.explanation}\n")
