"""The `perfeval` command line (Ruff habits: check / rules; exit 0 clean, 1 findings, 2 could not run).

perfeval check PATH... [--format text|json|jsonl] [--select X] [--ignore X] [--config F] [--summary X.xlsx]
                       [--annotate OUTDIR] [--in-place] [--jobs N] [--formulas]
perfeval forms                                          (the form families it recognises; --form picks one)
perfeval rules [CODE]
perfeval template -o PATH
perfeval serve [--host H] [--port P] [--config perfeval.toml] [--archive DIR]
perfeval excel install [--functions]   (perfeval_xl.excel_install: the add-in and xlwings config on Windows)
perfeval report ...   (registered by perfeval_xl.report.cli when present)

No domain logic here: batch.collect/run, pipeline.check_file, output.render_* and the writers do the work.
"""
from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

from . import __version__
from .inert import inert_line

EXIT_CLEAN, EXIT_FINDINGS, EXIT_FAILED = 0, 1, 2


# argparse's own messages, in Chinese (gettext-free: the common ones, matched on the English text)
_ERRORS = (
    (r"^the following arguments are required: (.*)$", r"缺少必需的参数：\1"),
    (r"^unrecognized arguments: (.*)$", r"无法识别的参数：\1"),
    (r"^invalid choice: (.*) \(choose from (.*)\)$", r"无效的选项值 \1（可选：\2）"),
    (r"^invalid int value: (.*)$", r"应为整数，而不是 \1"),
    (r"^invalid float value: (.*)$", r"应为数字，而不是 \1"),
    (r"^invalid (\S+) value: (.*)$", r"无效的值 \2"),
    (r"^expected one argument$", "需要一个值"),
    (r"^expected at least one argument$", "至少需要一个值"),
    (r"^expected at most one argument$", "最多只能有一个值"),
    (r"^expected (\d+) arguments?$", r"需要 \1 个值"),
    (r"^not allowed with argument (.*)$", r"不能与 \1 同时使用"),
    (r"^ambiguous option: (\S+) could match (.*)$", r"选项 \1 不明确，可能是：\2"),
    (r"^one of the arguments (.*) is required$", r"必须给出其中一个参数：\1"),
    (r"^ignored explicit argument (.*)$", r"多余的值 \1"),
)
_ARGUMENT = re.compile(r"^argument (.+?): (.*)$", re.S)


def translate_error(message: str) -> str:
    """argparse's English error text -> Chinese ("argument --jobs: invalid int value: 'x'" ->
    "参数 --jobs：应为整数，而不是 'x'"). Unknown messages pass through unchanged."""
    prefix = ""
    m = _ARGUMENT.match(message)
    if m:
        prefix, message = f"参数 {m.group(1)}：", m.group(2)
    for pattern, repl in _ERRORS:
        if re.match(pattern, message):
            return prefix + re.sub(pattern, repl, message)
    return prefix + message


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that speaks Chinese: its own -h/--help, section titles and error messages."""

    def __init__(self, *args, **kwargs):
        add_help = kwargs.pop("add_help", True)
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出")

    def format_help(self):
        return re.sub(r"^(参数|选项|命令|子命令):$", r"\1：", super().format_help(), flags=re.M)

    def error(self, message):  # argparse exits 2 already; say it in Chinese
        self.print_usage(sys.stderr)
        self.exit(EXIT_FAILED, f"{self.prog}：参数错误：{translate_error(message)}\n")


def _codes(values) -> tuple[str, ...]:
    """--select PE1,PE203 --select PE4 -> ("PE1", "PE203", "PE4")."""
    out = []
    for v in values or ():
        out += [c.strip().upper() for c in v.split(",") if c.strip()]
    return tuple(out)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="perfeval", description="部门整体支出绩效自评表：校验、批量复核与自评报告")
    p.add_argument("--version", action="version", version=f"perfeval-xl {__version__}", help="显示版本号并退出")
    sub = p.add_subparsers(dest="command", metavar="命令", parser_class=_Parser)

    c = sub.add_parser("check", help="校验一个或多个工作簿（文件或文件夹）")
    c.add_argument("paths", nargs="+", metavar="PATH", help="工作簿文件或文件夹")
    c.add_argument("--format", choices=("text", "json", "jsonl"), default="text",
                   help="输出格式：text（默认）、json（一个对象）、jsonl（每个文件一行 JSON，适合上万个文件）")
    c.add_argument("--select", action="append", metavar="CODES", help="只启用这些规则（代码或前缀，逗号分隔，可重复）")
    c.add_argument("--ignore", action="append", metavar="CODES", help="忽略这些规则（代码或前缀，逗号分隔，可重复）")
    c.add_argument("--config", metavar="FILE",
                   help="财政局的设置文件（perfeval.toml 或含 [tool.perfeval] 的 pyproject.toml）；不给时用当前目录中的"
                        " perfeval.toml，收件文件夹中的设置文件一律不用")
    c.add_argument("--summary", metavar="X.xlsx", help="把全部结果写成一个汇总工作簿")
    c.add_argument("--summary-rows", type=int, metavar="N", default=None,
                   help="汇总工作簿“全部问题”表最多的行数（默认 50000）；问题更多时完整清单写到工作簿旁的 CSV")
    c.add_argument("--annotate", metavar="OUTDIR", help="在 OUTDIR 中写出标注后的副本（原文件不动）")
    c.add_argument("--in-place", action="store_true", help="直接标注原文件（先写备份）")
    c.add_argument("--jobs", type=int, metavar="N", help="并行进程数（默认且最多为 CPU 核数）")
    c.add_argument("--force-jobs", action="store_true", help="允许 --jobs 超过 CPU 核数")
    c.add_argument("--output-in-inbox", action="store_true",
                   help="允许 --summary / --annotate 写在被校验的文件夹之内（默认拒绝，以免与报送文件混在一起）")
    c.add_argument("-q", "--quiet", action="store_true",
                   help="每个文件只输出一行（路径、执行率、复核总分、等级、问题数或无法校验的原因），最后一行合计")
    c.add_argument("--formulas", action="store_true",
                   help="用 openpyxl 读取（可见公式，检查公式被覆盖等；较慢），默认用 python-calamine 快速读取")
    c.add_argument("--form", metavar="FAMILY",
                   help="按指定表样读取，不自动识别（表样名见 perfeval forms，如 project_10、sichuan_project）")
    c.set_defaults(func=cmd_check)

    fm = sub.add_parser("forms", help="列出能识别的表样（省市的自评表样式）")
    fm.set_defaults(func=cmd_forms)

    r = sub.add_parser("rules", help="列出全部规则，或解释一条规则")
    r.add_argument("code", nargs="?", metavar="CODE")
    r.set_defaults(func=cmd_rules)

    t = sub.add_parser("template", help="生成空白模板")
    t.add_argument("-o", "--output", required=True, metavar="PATH", help="输出文件路径（.xlsx）")
    t.set_defaults(func=cmd_template)

    s = sub.add_parser("serve", help="启动财政局校验服务（网页上传、Excel 加载项）")
    s.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1；对外服务须在设置文件中配置口令或允许网段）")
    s.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
    s.add_argument("--config", metavar="FILE", help="设置文件 perfeval.toml：规则设置用于每个请求，[server] 表为服务设置")
    s.add_argument("--archive", metavar="DIR", help="把每次上传的文件、结果和标注副本存入此文件夹（默认不保存）")
    s.set_defaults(func=cmd_serve)

    from .excel_install import register as register_excel  # perfeval excel install

    register_excel(sub)

    try:
        report_cli = importlib.import_module("perfeval_xl.report.cli")
    except ModuleNotFoundError as e:
        if e.name not in ("perfeval_xl.report.cli", "perfeval_xl.report"):
            raise
    else:
        report_cli.register(sub)
    _own_parsers(sub)
    return p


def _own_parsers(subparsers) -> None:
    """Each subcommand's parser (at every depth) remembers itself: a wrong option is then reported with that
    subcommand's usage, not the top one (the deepest parser given is the one that was used)."""
    for sp in dict.fromkeys(subparsers.choices.values()):
        sp.set_defaults(_parser=sp)
        for action in sp._actions:
            if isinstance(action, argparse._SubParsersAction):
                _own_parsers(action)


SHOW_NAMES = 3  # file names listed in a message before "等"


def _some(names, n: int = SHOW_NAMES) -> str:
    names = list(names)
    return "、".join(names[:n]) + ("等" if len(names) > n else "")


def _inside(path: str, folder: str) -> bool:
    real, root = os.path.realpath(path), os.path.realpath(folder)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _is_input(target: str, files) -> bool:
    """target is one of the files being checked (the same file: by device and inode, so a link or another
    spelling of its path counts too). Only an existing target is compared: one stat a file, no realpath."""
    try:
        st = os.stat(target)
    except OSError:
        return False
    for f in files:
        try:
            fs = os.stat(f)
        except OSError:
            continue
        if os.path.samestat(fs, st):
            return True
    return False


def _output_problem(args, files) -> str | None:
    """Why --summary / --annotate may not go where they point: never onto a file being checked, never
    inside a folder being checked unless --output-in-inbox."""
    folders = [p for p in args.paths if os.path.isdir(p)]
    if args.summary:
        if _is_input(args.summary, files):
            return f"--summary {inert_line(args.summary)} 是一个要校验的报送文件，不能用汇总表覆盖它；请换一个文件名"
        if os.path.isdir(args.summary):
            return f"--summary {inert_line(args.summary)} 是一个文件夹，应给出汇总表文件名（.xlsx）"
        if os.path.lexists(args.summary) and not os.path.isfile(args.summary):
            return f"--summary {inert_line(args.summary)} 不是普通文件（可能是设备或管道），不能写入"
        if not args.output_in_inbox and any(_inside(args.summary, d) for d in folders):
            return (f"--summary {inert_line(args.summary)} 在被校验的文件夹之内；请写到收件文件夹以外，"
                    "或加 --output-in-inbox 明确允许")
    if args.annotate:
        if os.path.isfile(args.annotate) or _is_input(args.annotate, files):
            return f"--annotate {inert_line(args.annotate)} 应为输出文件夹，而它是一个文件"
        if not args.output_in_inbox and any(_inside(args.annotate, d) for d in folders):
            return (f"--annotate {inert_line(args.annotate)} 在被校验的文件夹之内；请写到收件文件夹以外，"
                    "或加 --output-in-inbox 明确允许")
    return None


def _stamp(path: str):
    """(size, mtime_ns, sha256) of the file as it is now: --in-place marks only this version."""
    from .ledger import file_hash

    try:
        st = os.stat(path)
    except OSError:
        return None
    digest = file_hash(path)
    return (st.st_size, st.st_mtime_ns, digest) if digest else None


def cmd_check(args) -> int:
    from . import batch
    from .errors import ConfigError
    from .output import JsonlWriter, JsonWriter, TextWriter, use_color
    from .pipeline import CheckOptions, check_codes, check_settings_codes, with_parts
    from .settings import bureau_settings

    if args.jobs is not None and args.jobs < 1:
        print("perfeval：--jobs 应为正整数", file=sys.stderr)
        return EXIT_FAILED
    if args.summary_rows is not None and args.summary_rows < 0:
        print("perfeval：--summary-rows 不能为负数", file=sys.stderr)
        return EXIT_FAILED
    wrong = check_usage(args)  # once, before any file is read
    if wrong:
        print(f"perfeval check：{wrong}", file=sys.stderr)
        return EXIT_FAILED
    if args.annotate and args.in_place:
        print("perfeval：--annotate 与 --in-place 只能选一个", file=sys.stderr)
        return EXIT_FAILED
    if args.form:
        from .forms import get_family

        if get_family(args.form) is None:
            print(f"perfeval：没有表样 {inert_line(args.form)}（用 perfeval forms 查看全部）", file=sys.stderr)
            return EXIT_FAILED
    jobs = batch.cap_jobs(args.jobs, force=args.force_jobs)
    if args.jobs and jobs < args.jobs:
        print(f"perfeval：--jobs {args.jobs} 超过 CPU 核数，改为 {jobs}（确需更多请加 --force-jobs）", file=sys.stderr)
    # the bureau's settings, once, before any file is read: a broken file is one usage error
    try:
        config, bureau = bureau_settings(args.config)
        check_settings_codes(bureau)
        check_codes(_codes(args.select), "--select")
        check_codes(_codes(args.ignore), "--ignore")
    except ConfigError as e:
        print(f"perfeval：{inert_line(str(e))}", file=sys.stderr)
        return EXIT_FAILED
    options = CheckOptions(config=config, select=_codes(args.select), ignore=_codes(args.ignore),
                           fast=not args.formulas, form=args.form or None, resolved=True)
    skipped: list[str] = []
    reasons: dict[str, str] = {}
    refused: dict[str, str] = {}
    # only this run's summary file is left out of the folders; earlier outputs are skipped when our record
    # proves them ours, and those this run is about to replace are dropped from the "skipped" list below
    from .ledger import KIND_SUMMARY, ours

    # an earlier summary at the --summary path is ours to replace and not a submission; any other file there
    # is collected like the rest, and refused below as a place to write
    mine = args.summary if args.summary and ours(args.summary) == KIND_SUMMARY else None
    files = batch.collect(args.paths, exclude=tuple(x for x in (mine,) if x), skipped=skipped,
                          reasons=reasons, skip_marked=not args.in_place, refused=refused)
    if not files:
        print("perfeval：没有找到要校验的工作簿（.xlsx .xlsm .xls .ods .et）", file=sys.stderr)
        if skipped:
            print(_skipped_message(skipped, reasons), file=sys.stderr)
        return EXIT_FAILED
    problem = _output_problem(args, [f for f in files if f not in refused])
    if problem:
        print(f"perfeval：{problem}", file=sys.stderr)
        return EXIT_FAILED
    stamps = {f: _stamp(f) for f in files if f not in refused} if args.in_place else {}

    out = sys.stdout
    if args.format == "json":
        writer = JsonWriter(out)
    elif args.format == "jsonl":
        writer = JsonlWriter(out)
    else:
        writer = TextWriter(out, color=use_color(out), quiet=args.quiet)
    failed = False
    summary = None
    if args.summary:
        from .writers.summary import FINDINGS_SHEET_ROWS, SummaryWriter

        try:
            rows = FINDINGS_SHEET_ROWS if args.summary_rows is None else args.summary_rows
            summary = SummaryWriter(args.summary, max_sheet_rows=rows)
        except OSError as e:
            print(f"perfeval：无法写出汇总表 {inert_line(args.summary)}：{_os_message(e)}", file=sys.stderr)
            failed = True

    # every report is written out as soon as it is known and then dropped (flat memory); only --annotate and
    # --in-place keep the reports of the files they are about to mark
    tasks = []
    outputs = set()
    # a marked copy never overwrites a file being checked (only --annotate writes copies: a province's 50 000
    # realpath calls are not spent on a plain check)
    used = {os.path.realpath(f) for f in files} if args.annotate else set()
    unreadable = has_errors = False
    if args.annotate:
        from .ledger import default_dest
    # the bar only when the results go elsewhere: on one terminal, the results themselves show the progress
    progress = None if getattr(out, "isatty", lambda: False)() else sys.stderr
    for r in batch.iter_run(files, options, jobs=jobs, progress=progress, refused=refused):
        dest = None
        if args.annotate:
            dest = _annotate_dest(r.path, args.paths, args.annotate, default_dest, used)
            outputs.add(os.path.realpath(dest))
            if not r.error:
                tasks.append((r.path, with_parts(r), dest, False))
        elif args.in_place and not r.error:
            tasks.append((r.path, with_parts(r), None, True, stamps.get(r.path), options))
        writer.write(r)
        if summary is not None:
            try:
                summary.add(r, dest if not r.error else None)
            except OSError as e:  # disk full under the spool: the results go on, the summary is given up
                print(f"perfeval：无法写出汇总表 {inert_line(args.summary)}：{_os_message(e)}", file=sys.stderr)
                summary.discard()
                summary, failed = None, True
        unreadable = unreadable or bool(r.error)
        # a workbook of several project forms carries its findings in its parts
        has_errors = has_errors or r.errors > 0 or any(p.errors for p in r.parts)
    if args.annotate:
        skipped = [f for f in skipped if os.path.realpath(f) not in outputs]  # replaced by this run
    if args.format == "text":
        writer.close()
    else:
        writer.close(skipped, reasons)
    out.flush()

    done: list[str] = []  # where things went, said after the results
    if args.format == "text" and skipped:
        done.append(_skipped_message(skipped, reasons))
    failed_marks: list[str] = []
    if args.annotate or args.in_place:
        written, backups, marked = 0, [], []
        try:
            for res in batch.iter_annotate(tasks, jobs=jobs, progress=sys.stderr):
                if res.error:  # one file's marks must not stop the others; said as it happens
                    print(f"perfeval：{inert_line(res.src)}：无法写出标注：{inert_line(res.error)}", file=sys.stderr)
                    failed_marks.append(res.src)
                    failed = True
                else:
                    written += 1
                    marked.append(res.written)
                    if res.rechecked is not None:
                        print(f"perfeval：{inert_line(res.src)} 在校验后被改动，已重新校验后再标注"
                              f"（{res.rechecked.errors} 个错误）", file=sys.stderr)
                backups += res.backups
        except KeyboardInterrupt:
            names = _some(inert_line(os.path.basename(m)) for m in marked)
            print(f"\nperfeval：已中断。已标注 {written} 个文件" + (f"：{names}" if marked else "") +
                  "；其余文件未改动，未写完的临时文件已删除", file=sys.stderr)
            if backups:
                print(f"备份：{_some(inert_line(b) for b in backups)}（共 {len(backups)} 个）", file=sys.stderr)
            return 130
        if args.in_place:
            line = f"已直接标注 {written} 个文件"
            if backups:
                line += f"，备份：{_some(inert_line(b) for b in backups)}（共 {len(backups)} 个，在原文件旁）"
            done.append(line)
        else:
            done.append(f"标注副本已写入：{inert_line(args.annotate)}（{written} 个文件）")
    if summary is not None:
        try:
            res, backup = _close_summary(summary, args.summary, failed_marks)
            line = f"汇总表已写入：{inert_line(res.path)}"
            if backup:
                line += f"（原有同名文件不是本工具生成的，已先备份为 {inert_line(backup)}）"
            if res.csv:
                line += f"；问题共 {res.findings} 条，超过表内上限，完整清单：{inert_line(res.csv)}"
            done.append(line)
        except Exception as e:
            print(f"perfeval：无法写出汇总表 {inert_line(args.summary)}：{_os_message(e)}", file=sys.stderr)
            failed = True

    for line in done:
        print(line, file=sys.stderr)
    if failed or unreadable:
        return EXIT_FAILED
    return EXIT_FINDINGS if has_errors else EXIT_CLEAN


def check_usage(args) -> str | None:
    """What is wrong with a `check` call as typed (Chinese), or None: a --summary that is a folder or whose
    extension does not match what is written. Said once, before any file is read (unknown rule codes are
    checked with the bureau's settings, also before any file is read; where outputs may go, _output_problem)."""
    summary = getattr(args, "summary", None)
    if summary:
        return output_usage(summary, ".xlsx", "--summary")
    return None


def output_usage(path: str, ext: str, option: str = "-o") -> str | None:
    """An output file option (-o) that is a folder, or has another extension than what is written: the Chinese
    reason, or None."""
    shown = inert_line(path)
    if os.path.isdir(path) or path.endswith(("/", os.sep)):
        return f"{option} 应为一个 {ext} 文件，而 {shown} 是文件夹（例如：{option} {os.path.join(shown, '输出' + ext)}）"
    got = os.path.splitext(path)[1].lower()
    if got != ext:
        stem = os.path.splitext(shown)[0] if got else shown
        return f"{option} 只能写成 {ext} 文件，{shown} 的扩展名不符（请改为 {stem}{ext}）"
    return None


def _os_message(e: Exception) -> str:
    from .errors import os_error_text

    return inert_line(os_error_text(e))


def _close_summary(summary, dest: str, failed_marks=()):
    """Finish the streamed summary workbook; an existing file there that we did not write is backed up first.
    Returns (SummaryResult, backup path or None)."""
    from .ledger import KIND_SUMMARY, backup_path, ours, record

    backup = None
    if os.path.exists(dest) and ours(dest) != KIND_SUMMARY:
        import shutil

        backup = backup_path(dest)
        shutil.copy2(dest, backup)
        record(backup, "backup")
    res = summary.close(failed_annotations=failed_marks)
    record(res.path, KIND_SUMMARY)
    return res, backup


def _skipped_message(skipped, reasons=None) -> str:
    """"跳过 N 个文件（以前生成的输出，不是报送文件）：带有校验标记（…），2 个：甲.xlsx、乙.xlsx；标注前留的备份，1 个：…"."""
    reasons = reasons or {}
    groups: dict[str, list[str]] = {}
    for f in skipped:
        groups.setdefault(reasons.get(f, "以前生成的输出"), []).append(inert_line(os.path.basename(f)))
    parts = [f"{why}，{len(names)} 个：{_some(names)}" for why, names in groups.items()]
    return f"跳过 {len(skipped)} 个文件（以前生成的输出，不是报送文件）：" + "；".join(parts)


def _annotate_dest(path: str, roots, outdir: str, default_dest, used: set[str]) -> str:
    """OUTDIR/<path relative to the folder it was found in>/<name>_已校验.xlsx: sub-folders are mirrored,
    so that same-named files from different units do not overwrite each other."""
    rel = os.path.basename(path)
    real = os.path.realpath(path)
    for root in roots:
        r = os.path.realpath(root)
        if os.path.isdir(r) and real.startswith(r + os.sep):
            rel = os.path.relpath(real, r)
            break
    from .ledger import KIND_COPY, ours

    dest = os.path.join(outdir, os.path.dirname(rel), os.path.basename(default_dest(path)))
    stem, ext = os.path.splitext(dest)
    n = 2
    # another unit's copy, a file of this run's input, or a file there that we did not write: never replaced
    while os.path.realpath(dest) in used or (os.path.lexists(dest) and ours(dest) != KIND_COPY):
        dest, n = f"{stem}_{n}{ext}", n + 1
    used.add(os.path.realpath(dest))
    return dest


def cmd_rules(args) -> int:
    from .catalog import CATALOG
    from .output import render_rule, render_rules, use_color
    from .rules import run_rules  # noqa: F401  (registers the workbook rules; report rules register in build_parser)

    if args.code:
        code = args.code.strip().upper()
        info = CATALOG.get(code)
        if info is None:
            if code.startswith("PR"):
                from . import report  # noqa: F401  (registers the report rules)
            family = {c: i for c, i in CATALOG.items() if code and c.startswith(code)}
            if family:  # "PE2": the prefix's rules, as --select PE2 would pick them
                sys.stdout.write(render_rules(family, color=use_color(sys.stdout)))
                return EXIT_CLEAN
            print(f"perfeval：没有规则 {args.code}（用 perfeval rules 查看全部）", file=sys.stderr)
            return EXIT_FAILED
        sys.stdout.write(render_rule(info))
    else:
        sys.stdout.write(render_rules(CATALOG, color=use_color(sys.stdout)))
    return EXIT_CLEAN


def cmd_forms(args) -> int:
    from .forms import FAMILIES

    for fam in FAMILIES.values():
        kind = "项目" if fam.is_project else "部门整体"
        print(f"{fam.key:<16}{kind}  {fam.title}")
        print(f"{'':<16}{fam.note}")
    return EXIT_CLEAN


def cmd_template(args) -> int:
    from .template import build_template

    wrong = output_usage(args.output, ".xlsx")
    if wrong:
        print(f"perfeval template：{wrong}", file=sys.stderr)
        return EXIT_FAILED
    try:
        path = build_template(args.output)
    except OSError as e:
        print(f"perfeval：无法写出模板 {args.output}：{e.strerror or e}", file=sys.stderr)
        return EXIT_FAILED
    print(f"已写出空白模板：{path or args.output}")
    return EXIT_CLEAN


def cmd_serve(args) -> int:
    """Start the bureau's service; refuses to listen beyond loopback with no token or allow-list."""
    try:
        import uvicorn

        from .server import create_app, load_server_config
        from .server.serve import check_bind
    except ModuleNotFoundError as e:
        print(f"perfeval：缺少服务所需的组件 {e.name}；请安装：pip install 'perfeval-xl[server]'", file=sys.stderr)
        return EXIT_FAILED
    from .errors import ConfigError

    if args.config and not os.path.isfile(args.config):
        print(f"perfeval：设置文件 {args.config} 不存在", file=sys.stderr)
        return EXIT_FAILED
    try:
        config = load_server_config(args.config, archive=args.archive)
        check_bind(args.host, config)
        app = create_app(config)
    except ConfigError as e:
        print(f"perfeval：{e}", file=sys.stderr)
        return EXIT_FAILED
    from .server.serve import log_config

    print(f"校验服务：http://{args.host}:{args.port}/ （加载项清单：/addin/manifest.xml；按 Ctrl+C 停止）",
          file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_config=log_config(), access_log=False,
                server_header=False)
    return EXIT_CLEAN


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # a misspelled option: said by the subcommand it was meant for, with its usage
            _unknown(getattr(args, "_parser", None) or parser, extra)
    except SystemExit as e:  # --help, --version, or a wrong call: return its code instead of exiting
        return int(e.code or 0) if not isinstance(e.code, str) else EXIT_FAILED
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_FAILED
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("\nperfeval：已中断", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `perfeval check ... | head`: the reader has gone; say nothing more
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_FAILED


def _unknown(parser, extra) -> None:
    """parser.error for options it does not know, naming the nearest one it does ("--formt" -> "--format")."""
    import difflib

    known = [o for a in parser._actions for o in a.option_strings]
    hints = []
    for word in extra:
        if word.startswith("-"):
            close = difflib.get_close_matches(word.split("=", 1)[0], known, n=1, cutoff=0.6)
            if close:
                hints.append(f"{word} 是不是 {close[0]}？")
    parser.error(f"unrecognized arguments: {' '.join(extra)}" + ("（" + "；".join(hints) + "）" if hints else ""))


if __name__ == "__main__":
    sys.exit(main())
