"""The `perfeval` command line (Ruff habits: check / rules; exit 0 clean, 1 findings, 2 could not run).

perfeval check PATH... [--format text|json] [--select X] [--ignore X] [--config F] [--summary X.xlsx]
                       [--annotate OUTDIR] [--in-place] [--jobs N] [--formulas]
perfeval rules [CODE]
perfeval template -o PATH
perfeval report ...   (registered by perfeval_xl.report.cli when present)

No domain logic here: batch.collect/run, pipeline.check_file, output.render_* and the writers do the work.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from . import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_FAILED = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse exits 2 already; say it in Chinese
        self.print_usage(sys.stderr)
        self.exit(EXIT_FAILED, f"{self.prog}：参数错误：{message}\n")


def _codes(values) -> tuple[str, ...]:
    """--select PE1,PE203 --select PE4 -> ("PE1", "PE203", "PE4")."""
    out = []
    for v in values or ():
        out += [c.strip().upper() for c in v.split(",") if c.strip()]
    return tuple(out)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="perfeval", description="部门整体支出绩效自评表：校验、批量复核与自评报告")
    p.add_argument("--version", action="version", version=f"perfeval-xl {__version__}")
    sub = p.add_subparsers(dest="command", metavar="命令", parser_class=_Parser)

    c = sub.add_parser("check", help="校验一个或多个工作簿（文件或文件夹）")
    c.add_argument("paths", nargs="+", metavar="PATH", help="工作簿文件或文件夹")
    c.add_argument("--format", choices=("text", "json"), default="text", help="输出格式（默认 text）")
    c.add_argument("--select", action="append", metavar="CODES", help="只启用这些规则（代码或前缀，逗号分隔，可重复）")
    c.add_argument("--ignore", action="append", metavar="CODES", help="忽略这些规则（代码或前缀，逗号分隔，可重复）")
    c.add_argument("--config", metavar="FILE", help="设置文件（perfeval.toml 或含 [tool.perfeval] 的 pyproject.toml）")
    c.add_argument("--summary", metavar="X.xlsx", help="把全部结果写成一个汇总工作簿")
    c.add_argument("--annotate", metavar="OUTDIR", help="在 OUTDIR 中写出标注后的副本（原文件不动）")
    c.add_argument("--in-place", action="store_true", help="直接标注原文件（先写备份）")
    c.add_argument("--jobs", type=int, metavar="N", help="并行进程数（默认为 CPU 核数）")
    c.add_argument("--formulas", action="store_true",
                   help="用 openpyxl 读取（可见公式，检查公式被覆盖等；较慢），默认用 python-calamine 快速读取")
    c.set_defaults(func=cmd_check)

    r = sub.add_parser("rules", help="列出全部规则，或解释一条规则")
    r.add_argument("code", nargs="?", metavar="CODE")
    r.set_defaults(func=cmd_rules)

    t = sub.add_parser("template", help="生成空白模板")
    t.add_argument("-o", "--output", required=True, metavar="PATH", help="输出文件路径（.xlsx）")
    t.set_defaults(func=cmd_template)

    try:
        report_cli = importlib.import_module("perfeval_xl.report.cli")
    except ModuleNotFoundError as e:
        if e.name not in ("perfeval_xl.report.cli", "perfeval_xl.report"):
            raise
    else:
        report_cli.register(sub)
    return p


def cmd_check(args) -> int:
    from . import batch
    from .output import render_json, render_text, use_color
    from .pipeline import CheckOptions

    if args.jobs is not None and args.jobs < 1:
        print("perfeval：--jobs 应为正整数", file=sys.stderr)
        return EXIT_FAILED
    if args.annotate and args.in_place:
        print("perfeval：--annotate 与 --in-place 只能选一个", file=sys.stderr)
        return EXIT_FAILED
    options = CheckOptions(config=args.config, select=_codes(args.select), ignore=_codes(args.ignore),
                           fast=not args.formulas)
    if args.config and not os.path.isfile(args.config):
        print(f"perfeval：设置文件 {args.config} 不存在", file=sys.stderr)
        return EXIT_FAILED
    files = batch.collect(args.paths, exclude=tuple(x for x in (args.summary, args.annotate) if x))
    if not files:
        print("perfeval：没有找到要校验的工作簿（.xlsx .xlsm .xls .ods）", file=sys.stderr)
        return EXIT_FAILED
    reports = batch.run(files, options, jobs=args.jobs, progress=sys.stderr)

    failed = False
    if args.annotate or args.in_place:
        from .writers.annotate import annotate, default_dest

        used: set[str] = set()
        for r in reports:
            if r.error:
                continue
            try:
                if args.in_place:
                    annotate(r.path, r, in_place=True)
                else:
                    dest = _annotate_dest(r.path, args.paths, args.annotate, default_dest, used)
                    os.makedirs(os.path.dirname(dest), exist_ok=True)
                    annotate(r.path, r, dest)
            except Exception as e:  # one file's marks must not stop the others
                print(f"perfeval：{r.path}：无法写出标注：{e}", file=sys.stderr)
                failed = True
    if args.summary:
        from .writers.summary import write_summary

        try:
            write_summary(reports, args.summary)
        except Exception as e:
            print(f"perfeval：无法写出汇总表 {args.summary}：{e}", file=sys.stderr)
            failed = True

    if args.format == "json":
        sys.stdout.write(render_json(reports))
    else:
        sys.stdout.write(render_text(reports, color=use_color(sys.stdout)))
    if failed or any(r.error for r in reports):
        return EXIT_FAILED
    return EXIT_FINDINGS if any(r.errors for r in reports) else EXIT_CLEAN


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
    dest = os.path.join(outdir, os.path.dirname(rel), os.path.basename(default_dest(path)))
    stem, ext = os.path.splitext(dest)
    n = 2
    while dest in used:
        dest, n = f"{stem}_{n}{ext}", n + 1
    used.add(dest)
    return dest


def cmd_rules(args) -> int:
    from .catalog import CATALOG
    from .output import render_rule, render_rules, use_color
    from .rules import run_rules  # noqa: F401  (registers the workbook rules; report rules register in build_parser)

    if args.code:
        info = CATALOG.get(args.code.strip().upper())
        if info is None:
            print(f"perfeval：没有规则 {args.code}（用 perfeval rules 查看全部）", file=sys.stderr)
            return EXIT_FAILED
        sys.stdout.write(render_rule(info))
    else:
        sys.stdout.write(render_rules(CATALOG, color=use_color(sys.stdout)))
    return EXIT_CLEAN


def cmd_template(args) -> int:
    from .template import build_template

    try:
        path = build_template(args.output)
    except OSError as e:
        print(f"perfeval：无法写出模板 {args.output}：{e.strerror or e}", file=sys.stderr)
        return EXIT_FAILED
    print(f"已写出空白模板：{path or args.output}")
    return EXIT_CLEAN


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, or a wrong call: return its code instead of exiting
        return int(e.code or 0) if not isinstance(e.code, str) else EXIT_FAILED
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_FAILED
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
