"""`perfeval report build|check`: registered into the main parser by perfeval_xl.cli.

perfeval report build WORKBOOK -o 报告.docx [--pdf]
perfeval report check REPORT --against WORKBOOK [--format text|json] [--config F] [--verbose]
Exit codes as `perfeval check`: 0 clean, 1 error findings, 2 could not read or write.
No domain logic: readers, report.build, report.check and output do the work.
"""
from __future__ import annotations

import sys

from . import check as _check  # noqa: F401  (registers the PR6xx codes for `perfeval rules`)

EXIT_CLEAN, EXIT_FINDINGS, EXIT_FAILED = 0, 1, 2


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help="自评报告：由工作簿生成 Word 报告，或核对已写好的报告")
    sub = p.add_subparsers(dest="report_command", metavar="子命令", parser_class=type(p))

    b = sub.add_parser("build", help="由工作簿生成整体支出绩效自评报告（.docx，可另导出 PDF）")
    b.add_argument("workbook", metavar="WORKBOOK", help="填好的自评工作簿")
    b.add_argument("-o", "--output", required=True, metavar="报告.docx", help="输出的 Word 文件")
    b.add_argument("--pdf", action="store_true", help="同时用 LibreOffice 导出 PDF（与 .docx 同名）")
    b.add_argument("--force", action="store_true",
                   help="工作簿有校验错误时也生成报告（封面注明工作簿仍有未改正的错误）")
    b.add_argument("--config", metavar="FILE", help="校验工作簿所用的设置文件（同 perfeval check --config）")
    b.set_defaults(func=cmd_build, _parser=b)

    c = sub.add_parser("check", help="核对已写好的报告（.docx 或 .txt）与工作簿是否一致")
    c.add_argument("report", metavar="REPORT", help="报告文件（.docx 或 .txt）")
    c.add_argument("--against", required=True, metavar="WORKBOOK", help="报告所依据的工作簿")
    c.add_argument("--format", choices=("text", "json"), default="text", help="输出格式（默认 text）")
    c.add_argument("--config", metavar="FILE", help="设置文件（perfeval.toml 或含 [tool.perfeval] 的 pyproject.toml）")
    c.add_argument("--verbose", "-v", action="store_true", help="同时列出核对一致的每一处数字")
    c.set_defaults(func=cmd_check, _parser=c)

    def no_sub(args) -> int:
        p.print_help(sys.stderr)
        return EXIT_FAILED

    p.set_defaults(func=no_sub, _parser=p)


def _read(path: str):
    from ..errors import ReadError
    from ..readers import read_workbook

    try:
        return read_workbook(path)
    except ReadError as e:
        print(f"perfeval：无法读取工作簿 {e.path}：{e.reason}", file=sys.stderr)
        return None


def cmd_build(args) -> int:
    from ..errors import PerfevalError
    from ..output import summary_line
    from ..pipeline import CheckOptions, check_form
    from ..cli import output_usage
    from .build import build_report, forced_note

    wrong = output_usage(args.output, ".docx")  # before the workbook is read
    if wrong:
        if args.output.lower().endswith(".pdf"):
            wrong += "；要 PDF，请写 -o 报告.docx 并加 --pdf"
        print(f"perfeval report build：{wrong}", file=sys.stderr)
        return EXIT_FAILED
    if args.pdf:
        from ..recalc import has_component, missing_component

        if not has_component("writer"):  # said before anything is read or written
            print(f"perfeval report build：--pdf 无法导出：{missing_component('writer')}", file=sys.stderr)
            return EXIT_FAILED
    form = _read(args.workbook)
    if form is None:
        return EXIT_FAILED
    # the gate: the report is only as good as the workbook; say its verdict, refuse on open errors
    verdict = check_form(form, CheckOptions(config=args.config), args.workbook)
    if verdict.error:
        print(f"perfeval：无法校验工作簿 {args.workbook}：{verdict.error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"工作簿校验：{summary_line(verdict)}")
    note = ""
    if verdict.errors:
        if not args.force:
            print(f"perfeval：工作簿有 {verdict.errors} 项错误，未生成报告。请先运行 perfeval check {args.workbook} "
                  "查看并改正；确需先出草稿的，加 --force（封面将注明工作簿仍有未改正的错误）", file=sys.stderr)
            return EXIT_FINDINGS
        note = forced_note(verdict.errors)
    try:
        path = build_report(form, args.output, pdf=args.pdf, cover_note=note)
    except PerfevalError as e:
        print(f"perfeval：{e}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as e:
        print(f"perfeval：无法写出报告 {args.output}：{e.strerror or e}", file=sys.stderr)
        return EXIT_FAILED
    print(f"已写出报告：{args.output}" + (f"\n已导出 PDF：{path}" if args.pdf else ""))
    if note:
        print(f"perfeval：已按 --force 生成，报告封面注明工作簿仍有 {verdict.errors} 项错误", file=sys.stderr)
    return EXIT_CLEAN


def cmd_check(args) -> int:
    from ..errors import ConfigError
    from ..output import render_json, render_text, use_color
    from ..settings import load_settings

    form = _read(args.against)
    if form is None:
        return EXIT_FAILED
    try:
        settings = load_settings(args.against, args.config, form.settings_overrides, cells=form.settings_cells)
    except ConfigError as e:
        print(f"perfeval：{e}", file=sys.stderr)
        return EXIT_FAILED
    report = _check.check_report(args.report, form, settings)
    if args.format == "json":
        sys.stdout.write(render_json([report]))
    else:
        sys.stdout.write(render_text([report], color=use_color(sys.stdout)))
        if args.verbose and not report.error:
            for st in _check.statements(args.report, form, settings):
                mark = {True: "一致", False: "不符", None: "无可比"}[st.ok]
                print(f"    {st.where:<10} {mark}  {st.said}  ← {st.workbook}")
    if report.error:
        return EXIT_FAILED
    return EXIT_FINDINGS if report.errors else EXIT_CLEAN
