"""Recalculate workbooks with headless LibreOffice, so that they carry cached formula values.

Files written by openpyxl have formulas but no cached values; real submissions (saved by
Excel, WPS or LibreOffice) have both, and the batch reader sees only the cached ones.
One ``soffice`` call converts every file (start-up dominates: ~1 s, then ~0.1 s per file),
with a throwaway profile that forces recalculation on load (otherwise stale caches survive).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from .errors import PerfevalError

# Forces "recalculate on load: always" for OOXML files (facts.md).
_RECALC_XCU = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
    'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
    '<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>'
    '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
    '<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>'
    "</oor:items>"
)

SOFFICE_CANDIDATES = ("soffice", "libreoffice", "/usr/bin/soffice", "/usr/lib/libreoffice/program/soffice",
                      "/opt/libreoffice/program/soffice", "/Applications/LibreOffice.app/Contents/MacOS/soffice")


class RecalcError(PerfevalError):
    """LibreOffice is missing or failed; the message is for the user (Chinese)."""


def find_soffice() -> str | None:
    env = os.environ.get("PERFEVAL_SOFFICE")
    if env:
        return env if shutil.which(env) or os.path.isfile(env) else None
    for cand in SOFFICE_CANDIDATES:
        found = shutil.which(cand) or (cand if os.path.isfile(cand) else None)
        if found:
            return found
    return None


# LibreOffice is packaged in parts (Debian: libreoffice-calc, libreoffice-writer, each with a -nogui flavour):
# the library of each part sits in the program folder beside soffice, so its presence says what is installed.
COMPONENTS = {
    "calc": ("sclo", "LibreOffice Calc", "libreoffice-calc-nogui"),
    "writer": ("swlo", "LibreOffice Writer", "libreoffice-writer-nogui"),
}


def _library_files(stem: str) -> tuple[str, ...]:
    return (f"lib{stem}.so", f"lib{stem}.dylib", f"{stem}.dll")


def soffice_components(soffice: str | None = None) -> set[str] | None:
    """The parts of LibreOffice installed beside ``soffice`` ({"calc", "writer"}); an empty set when there is
    no soffice; None when the folder holds none of the known libraries (an unknown layout: assume all)."""
    soffice = soffice or find_soffice()
    if soffice is None:
        return set()
    exe = shutil.which(soffice) or soffice
    program = os.path.dirname(os.path.realpath(exe))
    folders = (program, os.path.join(os.path.dirname(program), "Frameworks"))  # macOS keeps them apart
    found = set()
    for name, (stem, _, _) in COMPONENTS.items():
        if any(os.path.isfile(os.path.join(d, f)) for d in folders for f in _library_files(stem)):
            found.add(name)
    return found or None


def has_component(name: str, soffice: str | None = None) -> bool:
    comps = soffice_components(soffice)
    if comps is None:
        return (soffice or find_soffice()) is not None
    return name in comps


def missing_component(name: str) -> str:
    """Chinese: which part is missing and which package installs it."""
    _, label, package = COMPONENTS[name]
    if find_soffice() is None:
        return ("未找到 LibreOffice（soffice）：请安装 LibreOffice（Debian/Ubuntu：apt-get install "
                f"{package}），或用环境变量 PERFEVAL_SOFFICE 指定其路径")
    return (f"已找到 LibreOffice，但没有安装 {label}：请安装 {package}（Debian/Ubuntu：apt-get install {package}；"
            "Windows、macOS 的 LibreOffice 安装包已含此组件）")


def recalculate(paths, outdir: str, *, timeout: float = 300) -> list[str]:
    """Recalculate ``paths`` in ONE LibreOffice run; write ``outdir/<stem>.xlsx`` for each.

    Returns the output paths in input order. Inputs are never modified: they are copied
    to ASCII temp names first (soffice mishandles some non-ASCII names and duplicate stems).
    """
    paths = [os.fspath(p) for p in paths]
    if not paths:
        return []
    outputs = []
    for p in paths:
        if not os.path.isfile(p):
            raise RecalcError(f"{p}：文件不存在，无法重算")
        out = os.path.join(outdir, os.path.splitext(os.path.basename(p))[0] + ".xlsx")
        if os.path.abspath(out) == os.path.abspath(p):
            raise RecalcError(f"{p}：输出会覆盖输入文件，请换一个输出目录")
        if out in outputs:
            raise RecalcError(f"{p}：与另一输入文件同名，输出会互相覆盖")
        outputs.append(out)
    soffice = find_soffice()
    if soffice is None:
        raise RecalcError("未找到 LibreOffice（soffice）：请安装 LibreOffice，或用环境变量 PERFEVAL_SOFFICE 指定其路径")
    if not has_component("calc", soffice):
        raise RecalcError("无法重算：" + missing_component("calc"))
    os.makedirs(outdir, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="perfeval-recalc-") as work:
        profile = os.path.join(work, "profile")
        os.makedirs(os.path.join(profile, "user"))
        with open(os.path.join(profile, "user", "registrymodifications.xcu"), "w", encoding="utf-8") as fh:
            fh.write(_RECALC_XCU)
        src_dir, out_dir = os.path.join(work, "in"), os.path.join(work, "out")
        os.makedirs(src_dir)
        os.makedirs(out_dir)
        temp_inputs = []
        for i, p in enumerate(paths):
            ext = os.path.splitext(p)[1].lower() or ".xlsx"
            tmp = os.path.join(src_dir, f"f{i:04d}{ext}")
            shutil.copyfile(p, tmp)
            temp_inputs.append(tmp)
        cmd = [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless", "--norestore", "--nolockcheck",
            "--convert-to", "xlsx:Calc MS Excel 2007 XML",
            "--outdir", out_dir,
            *temp_inputs,
        ]
        env = dict(os.environ, HOME=work)  # keep soffice away from the user's own profile and dotfiles
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired as exc:
            raise RecalcError(f"LibreOffice 重算超时（{timeout:.0f} 秒）") from exc
        except OSError as exc:
            raise RecalcError(f"无法启动 LibreOffice（{soffice}）：{exc}") from exc
        missing = []
        for i, (p, out) in enumerate(zip(paths, outputs)):
            produced = os.path.join(out_dir, f"f{i:04d}.xlsx")
            if not os.path.isfile(produced):
                missing.append(p)
                continue
            shutil.move(produced, out)
        if missing:
            detail = (proc.stderr or proc.stdout or "").strip()[-500:]
            raise RecalcError(
                "LibreOffice 未能重算以下文件：" + "；".join(missing)
                + (f"（退出码 {proc.returncode}：{detail}）" if detail or proc.returncode else "")
            )
    return outputs


# A Basic module that inserts rows the way a clerk does (Rows.insertByIndex), sets cells, recalculates and
# saves as xlsx: it shows whether names, sums, validations and formats grow with the lists.
_INSERT_BASIC = """Sub PerfevalInsertRows(src, dest, ops)
  Dim args(0) As New com.sun.star.beans.PropertyValue
  args(0).Name = "Hidden"
  args(0).Value = True
  doc = StarDesktop.loadComponentFromURL(ConvertToURL(src), "_blank", 0, args())
  For Each op In Split(ops, ";")
    p = Split(op, ",")
    sh = doc.Sheets.getByIndex(CInt(p(0)))
    If p(1) = "row" Then
      sh.Rows.insertByIndex(CLng(p(2)) - 1, 1)
    Else
      sh.getCellRangeByName(p(2)).Value = CDbl(p(3))
    End If
  Next
  doc.calculateAll()
  Dim fa(0) As New com.sun.star.beans.PropertyValue
  fa(0).Name = "FilterName"
  fa(0).Value = "Calc MS Excel 2007 XML"
  doc.storeToURL(ConvertToURL(dest), fa())
  doc.close(True)
End Sub
"""
_INSERT_MODULE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">\n'
    '<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" '
    'script:language="StarBasic">\n'
    + _INSERT_BASIC.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    + "</script:module>\n"
)


def insert_rows(src: str, dest: str, edits, *, timeout: float = 120) -> str:
    """Insert rows and set numbers in a copy of ``src`` with LibreOffice (as a clerk would), save to ``dest``.

    ``edits``: ("row", sheet_index, row) inserts a row so that the new row gets number ``row``;
    ("set", sheet_index, "C21", 100.0) sets a number. Protected sheets that allow inserting rows
    accept it, as in Excel. Used by tests to prove that the lists grow with their names and sums."""
    soffice = find_soffice()
    if soffice is None:
        raise RecalcError("未找到 LibreOffice（soffice）")
    ops = []
    for kind, sheet, where, *rest in edits:
        ops.append(f"{sheet},row,{where}" if kind == "row" else f"{sheet},set,{where},{float(rest[0])!r}")
    with tempfile.TemporaryDirectory(prefix="perfeval-insert-") as work:
        profile = os.path.join(work, "profile")
        env = dict(os.environ, HOME=work)
        base = [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore", "--nolockcheck"]
        # First run creates the profile (it would overwrite a module written before).
        subprocess.run([*base, "--terminate_after_init"], capture_output=True, timeout=timeout, env=env)
        module = os.path.join(profile, "user", "basic", "Standard", "Module1.xba")
        if not os.path.isfile(module):
            raise RecalcError("LibreOffice 配置目录初始化失败")
        with open(module, "w", encoding="utf-8") as fh:
            fh.write(_INSERT_MODULE)
        tmp_src, tmp_dest = os.path.join(work, "in.xlsx"), os.path.join(work, "out.xlsx")
        shutil.copyfile(src, tmp_src)
        macro = f'macro:///Standard.Module1.PerfevalInsertRows("{tmp_src}","{tmp_dest}","{";".join(ops)}")'
        proc = subprocess.run([*base, macro], capture_output=True, text=True, timeout=timeout, env=env)
        if not os.path.isfile(tmp_dest):
            raise RecalcError(f"LibreOffice 插入行失败：{(proc.stderr or '').strip()[-300:]}")
        os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
        shutil.move(tmp_dest, dest)
    return dest


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="用 LibreOffice 重算工作簿的公式并保存缓存值")
    ap.add_argument("paths", nargs="+")
    ap.add_argument("-o", "--outdir", required=True)
    args = ap.parse_args(argv)
    try:
        for out in recalculate(args.paths, args.outdir):
            print(out)
    except RecalcError as exc:
        print(exc)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
