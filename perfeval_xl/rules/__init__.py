"""The rule catalog and run_rules: model + settings -> findings + metrics. Pure: no files."""
from __future__ import annotations

import re
from functools import lru_cache

from ..catalog import CATALOG
from ..findings import Finding, Metrics, Report
from ..forms import get_family
from ..layout import FORM_SHEETS
from ..model import Form
from ..scoring import execution_rate, grade
from ..settings import Settings
from . import arithmetic, completeness, formulas, scores, variances  # noqa: F401  (registration)
from . import families  # noqa: F401  (registration: PE6xx, rules of the form families)
from .base import EMPTY, RULES, Ctx, W, info, num, rule
from .needs import dropped, runs

# A rule that fails on an unexpected form must not take the others down (the clerk still gets the rest).
INTERNAL = rule(info("PE900", "校验规则运行出错", W, "内部", """
某条规则在这个工作簿上运行出错，其余规则照常完成。这通常说明工作簿的结构异常（合并单元格、插入的行），
也可能是本工具的缺陷：请把工作簿和这条提示一起反馈给维护人员。"""))(lambda ctx: None)

__all__ = ["run_rules", "matches", "compute_metrics", "CATALOG"]


def matches(code: str, patterns) -> bool:
    """A code matches a pattern when it starts with it: "PE1" selects PE101..PE116."""
    return any(code.upper().startswith(p.strip().upper()) for p in patterns if p.strip())


def _sheet_order(form: Form) -> dict[str, int]:
    order = {}
    for name in list(form.sheet_names.values()) + list(FORM_SHEETS):
        order.setdefault(name, len(order))
    return order


_A1 = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


@lru_cache(maxsize=4096)
def _cell_key(cell: str) -> tuple[int, int]:
    m = _A1.fullmatch(cell)
    if m:  # the usual "H16"
        c = 0
        for ch in m.group(1):
            c = c * 26 + ord(ch) - 64
        return (int(m.group(2)), c)
    col = "".join(ch for ch in cell if ch.isalpha())
    row = "".join(ch for ch in cell if ch.isdigit())
    c = 0
    for ch in col.upper():
        c = c * 26 + ord(ch) - 64
    return (int(row) if row else 0, c)


@lru_cache(maxsize=4096)
def _cell_rank(cell: str) -> int | None:
    """_cell_key as one int that orders the same (row above column), None when row or column is too large."""
    row, col = _cell_key(cell)
    return (row << 15) | col if row < 1 << 24 and col < 1 << 15 else None


def compute_metrics(form: Form, s: Settings, lines=None) -> Metrics:
    lines = scores.score_lines(form, s) if lines is None else lines
    return _metrics(form, s, scores.recomputed_execution_score(form, s), scores.recomputed_total(form, s, lines))


@lru_cache(maxsize=256)
def _plan(tables: frozenset[str] | None, off: frozenset[str], _registered: int) -> tuple:
    """The rules that apply to a kind of form (runs()), in registration order; keyed on how many rules are
    registered, so that a rule registered later is not missed."""
    return tuple(r for r in RULES if runs(r.codes, tables, off))


def _metrics(form: Form, s: Settings, execution_score, total) -> Metrics:
    f = form.self_eval.funds
    budget, actual = num(f.budget), num(f.actual)
    rate = execution_rate(budget, actual)
    return Metrics(
        form=form.family,
        project=form.project_name,
        department=form.department,
        year=form.year_int,
        budget=budget,
        actual=actual,
        execution_rate=round(rate, 4) if rate is not None else None,
        execution_score=execution_score,
        self_total_score=num(form.self_eval.total_score),
        total_score=total,
        grade=grade(total, s) if total is not None else None,
    )


def run_rules(form: Form, settings: Settings | None = None, select=(), ignore=(), *,
              phantom_guard: bool = True) -> Report:
    """Run every selected rule over the form. select/ignore take codes or prefixes ("PE1").

    Rules that need a table or field the form's family (or this file) lacks are not run (rules/needs.py).
    phantom_guard: a finding on a sheet the workbook does not have is moved to the workbook as a whole
    (never shown at a cell that is not there); tests turn it off to prove no rule relies on it."""
    if form.parts:  # several forms in one workbook (a live book read by the Excel button): each on its own,
        # and the result carries every part's findings so that the one book is marked with all of them
        from .parts import file_metrics

        parts = [run_rules(p, settings, select, ignore, phantom_guard=phantom_guard) for p in form.parts]
        for p in parts:
            p.form = form.family
        return Report(path=form.source, findings=[f for p in parts for f in p.findings],
                      metrics=file_metrics(form, parts), form=form.family, parts=parts)
    s = settings or Settings()
    select = tuple(select) + tuple(s.select)
    ignore = tuple(ignore) + tuple(s.ignore)
    ctx = Ctx(form, s)
    fam = get_family(form.family)
    off = fam.rules_off if fam is not None else frozenset()
    tables = form.tables
    for r in _plan(tables, off, len(RULES)):  # a rule may emit a shared code such as PE502: filter after
        try:
            r.func(ctx)
        except Exception as e:  # noqa: BLE001  (reported as a finding, see PE900)
            ctx.add("PE900", None, f"规则 {'、'.join(r.codes)} 运行出错（{type(e).__name__}：{e}），已跳过", None, None)
    rows = ctx.findings  # a Finding's fields as a tuple: (code, severity, sheet, cell, ..., related)
    if tables is not None or off:
        drop = dropped(tables, off)
        if drop:
            rows = [r for r in rows if r[0] not in drop]
    if phantom_guard and form.sheets_present:
        present = set(form.sheets_present)
        rows = [r if (not r[2] or r[2] in present) and (not r[7] or all(c[0] in present for c in r[7]))
                else _on_present(r, present) for r in rows]
    if select or ignore:
        sel = _prefixes(select)
        ign = _prefixes(ignore)
        wanted: dict[str, bool] = {}
        for r in rows:
            if r[0] not in wanted:
                c = r[0].upper()
                wanted[r[0]] = (not select or c.startswith(sel)) and not c.startswith(ign)
        rows = [r for r in rows if wanted[r[0]]]
    order = _sheet_order(form)
    last = len(order)
    try:  # (sheet, row, column) packed into one int: the sort compares ints, not nested tuples
        rows = sorted(rows, key=lambda r: ((order.get(r[2], last) << 39) | _cell_rank(r[3]), r[0]))
    except TypeError:  # a cell too far out to pack (_cell_rank None): the same order, by the parts
        rows.sort(key=lambda r: (order.get(r[2], last), _cell_key(r[3]), r[0]))
    findings = [Finding(*r) for r in rows]  # rows are in Finding's field order (Ctx.add)
    metrics = _metrics(form, s, scores.exec_score_of(ctx), scores.total_of(ctx))
    note = scores.provisional_note(findings)  # after select/ignore: the verdict agrees with the findings shown
    if note and metrics.total_score is not None:
        metrics.score_provisional, metrics.score_note = True, note
    if not metrics.score_provisional and _unscored(form):
        metrics.score_provisional = True  # a project form sent with its scores left blank (issue 10)
        metrics.score_note = "有指标给出了分值却未填自评得分，复核总分不完整"
    return Report(path=form.source, findings=findings, metrics=metrics)


def _on_present(r: tuple, present: set[str]) -> tuple:
    """A finding (as a row, see Ctx.add) whose cell (or a related cell) is on a sheet the workbook does not
    have: that cell is dropped, and the finding stands for the workbook as a whole."""
    related = tuple(c for c in r[7] if c[0] in present)
    if r[2] and r[2] not in present:
        return (*r[:2], "", "", *r[4:7], related)
    return (*r[:7], related)


def _unscored(form: Form) -> bool:
    return any(num(i.points) and i.score.kind is EMPTY and i.score.loc is not None
               for i in form.self_eval.indicators)


def _prefixes(patterns) -> tuple[str, ...]:
    """matches() patterns as one tuple for str.startswith (blank patterns match nothing)."""
    return tuple(p.strip().upper() for p in patterns if p.strip())
