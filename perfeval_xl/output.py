"""Rendering of reports for the terminal (Chinese text, coloured on a tty) and as JSON."""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from decimal import Decimal

from .inert import inert_line
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


def render_text(reports: Iterable[Report], color: bool = False, quiet: bool = False) -> str:
    """Every finding under its file and sheet; with quiet, one line per file (path and summary_line)."""
    reports = list(reports)
    out: list[str] = []
    for r in reports:
        head = _paint(inert_line(r.path), "1", color)  # a file name is submitted text too
        if quiet:
            line = summary_line(r)
            if r.error:
                line = _paint("无法校验", "1;31", color) + f"：{r.error}"
            out.append(f"{head}  {line}")
            for part in r.parts:  # several project forms in the file: one line each
                m = part.metrics
                out.append(f"  — {inert_line((m.project or m.department) if m else '')}  {summary_line(part)}")
            continue
        if r.error:
            out.append(f"{head}\n  {_paint('无法校验', '1;31', color)}：{r.error}\n")
            continue
        out.append(head)
        sheet = None
        for f in r.findings:
            if f.sheet != sheet:
                sheet = f.sheet
                out.append(f"  [{inert_line(sheet) or '工作簿'}]")
            sev = _paint(f"{f.severity.label}", _COLOR[f.severity], color)
            out.append(f"    {f.cell or '—':<6} {sev} {f.code}  {f.message}")
        for part in r.parts:  # several project forms in one workbook: each under its own head (issue 10)
            m = part.metrics
            out.append(f"  — {_paint(inert_line((m.project or m.department) if m else ''), '1', color)}")
            sheet = None
            for f in part.findings:
                if f.sheet != sheet:
                    sheet = f.sheet
                    out.append(f"    [{sheet or '工作簿'}]")
                sev = _paint(f"{f.severity.label}", _COLOR[f.severity], color)
                out.append(f"      {f.cell or '—':<6} {sev} {f.code}  {f.message}")
            out.append("    " + summary_line(part))
        if not r.findings and not r.parts:
            out.append("  未发现问题")
        out.append("  " + summary_line(r) + "\n")
    if len(reports) > 1:
        bad = sum(1 for r in reports if r.error)
        units = [u for r in reports for u in [r, *r.parts]]  # a workbook's project forms count too
        e = sum(u.errors for u in units)
        w = sum(u.warnings for u in units)
        i = sum(u.infos for u in units)
        tail = f"共 {len(reports)} 个文件：错误 {e}，警告 {w}，提示 {i}"
        if bad:
            tail += f"；{bad} 个文件无法校验"
        out.append(tail)
    return "\n".join(out).rstrip("\n") + "\n"


def render_json(reports: Iterable[Report], skipped: Iterable[str] | None = None,
                reasons: dict | None = None) -> str:
    """{"files": [{"path", "metrics": {...}, "findings": [{code, severity, sheet, cell, message, expected, actual}],
    "error"}], "skipped": [...]}; "skipped" (given by `perfeval check`: paths of earlier outputs found in the
    folders and not checked, [] when none) is left out when None; with `reasons` (path -> why) each skipped
    path's reason is given in "skipped_reasons" ({path: reason}, same order)."""
    data = {"files": [r.to_dict() for r in reports]}
    if skipped is not None:
        data["skipped"] = list(skipped)
        if reasons is not None:
            data["skipped_reasons"] = {f: reasons.get(f, "以前生成的输出") for f in data["skipped"]}
    return inert_json(json.dumps(data, ensure_ascii=False, indent=2)) + "\n"


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
