"""`perfeval excel install`: README steps 3-5 as one command on Windows, each step printed.

1. builds perfeval_xl.xlam from the *installed* xlwings (its VBA loads xlwings64-<version>.dll,
   which only that xlwings version ships) and copies it to the user's XLSTART folder;
2. copies xlwings' own add-in there too (what `xlwings addin install` does), for Import Functions;
3. writes the interpreter of this Python into %USERPROFILE%\\.myaddin\\myaddin.conf (read by our
   add-in: it is xlwings' ribbon add-in, PROJECT_NAME "myaddin") and, with UDF MODULES, into
   %USERPROFILE%\\.xlwings\\xlwings.conf (read by the xlwings add-in);
4. with --functions, imports the worksheet functions' VBA wrappers into the installed add-in
   through Excel (needs "Trust access to the VBA project object model" once), so that PE_* work
   in every workbook, .xlsx included, without Import Functions per workbook.

Files the user already has are merged key by key, and a changed one is first copied to
%USERPROFILE%\\.perfeval_xl\\backup\\ (never into XLSTART: Excel opens every file there).
"""
from __future__ import annotations

import csv
import io
import locale
import os
import shutil
import sys
from datetime import datetime

from . import addin

UDF_MODULE = "perfeval_xl.udfs"
TRUST_STEPS = ("Excel 中依次点 文件 → 选项 → 信任中心 → 信任中心设置 → 宏设置，勾选“信任对 VBA 工程对象模型的访问”，"
               "确定后关闭 Excel，再运行 perfeval excel install --functions。单位电脑由管理员锁定时请联系信息中心。")


def xlstart_dir(env=os.environ) -> str | None:
    appdata = env.get("APPDATA")
    return os.path.join(appdata, "Microsoft", "Excel", "XLSTART") if appdata else None


def home_dir(env=os.environ) -> str:
    return env.get("USERPROFILE") or os.path.expanduser("~")


def interpreter(executable: str = sys.executable, env=os.environ) -> str:
    """pythonw.exe beside this Python (no console window), written with %USERPROFILE% where it
    applies: xlwings expands variables, and the file stays ASCII for a user name in Chinese."""
    folder = os.path.dirname(executable)
    for name in ("pythonw.exe", "pythonw"):
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate):
            executable = candidate
            break
    profile = env.get("USERPROFILE")
    if profile and executable.lower().startswith(profile.lower().rstrip("\\/") + "\\"):
        executable = "%USERPROFILE%" + executable[len(profile.rstrip("\\/")):]
    return executable


def conf_encoding() -> str:
    """VBA's `Input #` reads the file in the ANSI code page (GBK on a Chinese Windows)."""
    return "mbcs" if sys.platform.startswith("win") else locale.getpreferredencoding(False) or "utf-8"


def read_conf(path: str) -> dict[str, str]:
    if not os.path.isfile(path):
        return {}
    with open(path, "rb") as f:
        raw = f.read()
    for enc in (conf_encoding(), "utf-8", "gbk", "latin-1"):
        try:
            text = raw.decode(enc)
            break
        except (UnicodeDecodeError, LookupError):
            continue
    return {row[0]: row[1] for row in csv.reader(io.StringIO(text)) if len(row) >= 2}


def render_conf(pairs: dict[str, str]) -> str:
    """`"KEY","VALUE"` lines, the only format xlwings' VBA reads (no comments, no header)."""
    out = io.StringIO()
    w = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    for k, v in pairs.items():
        w.writerow([k, v])
    return out.getvalue()


class Installer:
    def __init__(self, xlstart: str, home: str, say=print):
        self.xlstart, self.home, self.say = xlstart, home, say
        self.backup_dir = os.path.join(home, ".perfeval_xl", "backup", datetime.now().strftime("%Y%m%d-%H%M%S"))

    def _backup(self, path: str) -> str:
        os.makedirs(self.backup_dir, exist_ok=True)
        dest = os.path.join(self.backup_dir, os.path.basename(path))
        shutil.copy2(path, dest)
        return dest

    def place(self, data: bytes, dest: str, what: str) -> None:
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if os.path.isfile(dest):
            with open(dest, "rb") as f:
                if f.read() == data:
                    self.say(f"  {what}：已是最新，未改动 {dest}")
                    return
            self.say(f"  已备份原有文件：{self._backup(dest)}")
        tmp = dest + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, dest)
        self.say(f"  {what}：已写入 {dest}")

    def conf(self, path: str, updates: dict[str, str], what: str) -> None:
        pairs = read_conf(path)
        merged = {**pairs, **updates}
        self.place(render_conf(merged).encode(conf_encoding(), "replace"), path, what)

    def run(self, *, functions: bool = False) -> int:
        import tempfile

        exe = interpreter()
        self.say("1/4 生成校验加载项（与已安装的 xlwings "
                 f"{addin.installed_xlwings_version() or '?'} 版本一致）")
        with tempfile.TemporaryDirectory() as tmp:
            built = addin.build_addin(os.path.join(tmp, addin.ADDIN_NAME))
            with open(built, "rb") as f:
                data = f.read()
        target = os.path.join(self.xlstart, addin.ADDIN_NAME)
        self.place(data, target, "校验加载项")
        self.say("2/4 安装 xlwings 加载项（Import Functions 需要它）")
        xlwings_addin = os.path.join(os.path.dirname(addin.shipped_addin()), "addin", "xlwings.xlam")
        if os.path.isfile(xlwings_addin):
            with open(xlwings_addin, "rb") as f:
                self.place(f.read(), os.path.join(self.xlstart, "xlwings.xlam"), "xlwings 加载项")
        else:
            self.say(f"  未找到 {xlwings_addin}，跳过（可运行 xlwings addin install）")
        self.say(f"3/4 写入校验加载项的配置（解释器 {exe}）")
        self.conf(os.path.join(self.home, ".myaddin", "myaddin.conf"), {"INTERPRETER_WIN": exe}, "配置")
        self.say("4/4 写入 xlwings 的配置（解释器与工作表函数模块）")
        self.conf(os.path.join(self.home, ".xlwings", "xlwings.conf"),
                  {"INTERPRETER_WIN": exe, "UDF MODULES": UDF_MODULE}, "配置")
        code = 0
        if functions:
            self.say("另：把工作表函数导入校验加载项（需要 Excel）")
            code = import_functions(target, self.say)
        self.say("完成。请关闭并重新打开 Excel：功能区出现“绩效自评”选项卡。"
                 "宏被禁用时，把上面的 XLSTART 文件夹加入 信任中心 → 受信任位置。")
        return code


def udf_vba(addin_name: str = addin.ADDIN_NAME) -> str:
    """The VBA module text xlwings' Import Functions generates for our UDFs inside the add-in."""
    import importlib

    from xlwings import udfs as xlwings_udfs

    class _Book:  # generate_vba_wrapper asks the workbook for its name only
        Name = addin_name

    module = importlib.import_module(UDF_MODULE)
    out = io.StringIO()
    out.write('Attribute VB_Name = "xlwings_udfs"\n')
    xlwings_udfs.generate_vba_wrapper(UDF_MODULE, module, out, _Book())
    return out.getvalue()


def import_functions(addin_path: str, say=print) -> int:
    """Open the add-in in a hidden Excel, import the UDF wrappers into it, save. Windows only."""
    try:
        import xlwings as xw
        from xlwings import udfs as xlwings_udfs
    except ImportError as e:
        say(f"  无法导入函数：{e}")
        return 2
    app = None
    try:
        app = xw.App(visible=False, add_book=False)
        book = app.books.open(addin_path)
        xlwings_udfs.import_udfs(UDF_MODULE, book.api)
        book.save()
        say(f"  已导入工作表函数：{addin_path}")
        return 0
    except Exception as e:  # COM refuses VBProject access unless the trust centre allows it
        text = getattr(e, "excepinfo", None)
        text = str(text[2] if text and len(text) > 2 and text[2] else e).strip()
        say(f"  未能导入工作表函数：{text}")
        if "trusted" in text.lower() or "信任" in text:
            say("  " + TRUST_STEPS)
        else:
            say("  请关闭所有 Excel 窗口后重试（加载项正被 Excel 使用时无法保存）。")
        return 2
    finally:
        if app is not None:
            try:
                app.quit()
            except Exception:
                pass


def register(sub) -> None:
    """Add `perfeval excel install` to the command line."""
    e = sub.add_parser("excel", help="Excel 加载项：安装到本机")
    esub = e.add_subparsers(dest="excel_cmd", metavar="{install}")
    i = esub.add_parser("install", help="安装校验加载项并写入 xlwings 配置（Windows）")
    i.add_argument("--xlstart", metavar="DIR", help="Excel 启动文件夹（默认 %%APPDATA%%\\Microsoft\\Excel\\XLSTART）")
    i.add_argument("--home", metavar="DIR", help="用户文件夹（默认 %%USERPROFILE%%）")
    i.add_argument("--functions", action="store_true",
                   help="同时把工作表函数导入加载项（需要 Excel 和“信任对 VBA 工程对象模型的访问”）")
    i.set_defaults(func=cmd_install)
    e.set_defaults(func=lambda args: (e.print_help(), 2)[1])


def cmd_install(args) -> int:
    xlstart = args.xlstart or (xlstart_dir() if sys.platform.startswith("win") else None)
    home = args.home or (home_dir() if sys.platform.startswith("win") else None)
    if not xlstart or not home:
        print("perfeval：excel install 用于 Windows；在其他系统上请用 --xlstart 和 --home 指定目录", file=sys.stderr)
        return 2
    try:
        return Installer(xlstart, home).run(functions=args.functions)
    except PermissionError as e:  # Windows locks an add-in Excel has open
        print(f"perfeval：安装未完成：无法写入 {e.filename}（文件正被使用？请先关闭所有 Excel 窗口再运行）", file=sys.stderr)
        return 2
    except (OSError, ValueError) as e:
        print(f"perfeval：安装未完成：{e}", file=sys.stderr)
        return 2
