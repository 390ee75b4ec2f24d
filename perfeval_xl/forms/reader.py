"""One generic reader for every family description (forms/families.py). Knows cells, never judges.

A sheet may hold one form or several stacked one after another (Sichuan prints projects in a row);
each form is a block of rows around its fund block's total row (年度资金总额 / 总额). Every block gives
a Form; values keep the cell they came from. Fields the family has but the block lacks stay without a
cell (loc None) and are named in read_notes; fields the family does not have are never looked for.
"""
from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from .. import layout as L
from ..model import Form, FundRow, Indicator, Kind, Loc, ProjectInfo, Value
from ..readers.grid import Grid, SheetGrid, a1, loc
from ..readers.names import heading_above
from ..values import clean_text, norm_label, parse_cell
from .families import Family

_BRACKETS = re.compile(r"\([^)]*\)|（[^）]*）")
_ENUM = re.compile(r"^(?:其中)?(?:[0-9]+[、.．)）]|[(（][0-9一二三四五六七八九十]+[)）])?(?:其中)?")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_PLACEHOLDER = re.compile(r"^(?:指标\s*\d+\s*[:：]?|[.…·。]+|……)$")
_INDICATOR_PREFIX = re.compile(r"^指标\s*\d+\s*[:：]?\s*")


@lru_cache(maxsize=16384)
def _bare(t: str) -> str:
    """A normalised label without bracketed notes and enumerators: "实施单位(盖章)" -> "实施单位"."""
    return _ENUM.sub("", _BRACKETS.sub("", t), count=1)


class _S:
    """A sheet with its normalised text cells."""

    def __init__(self, sg: SheetGrid):
        from .recognize import norm_cells

        self.sg = sg
        self.text: dict[tuple[int, int], str] = norm_cells(sg)
        self.rows_of: dict[int, list[tuple[int, str]]] = {}  # row -> [(col, text)]
        self.by_text: dict[str, list[tuple[int, int]]] = {}  # normalised text and its bare form -> cells
        self.colon: list[tuple[int, int, str]] = []  # cells typed "label：value"
        self.headers: dict = {}  # (row, col, family) -> the fund block's header, found once
        rows = sg.rows
        for (r, c), t in self.text.items():
            self.rows_of.setdefault(r, []).append((c, t))
            b = _bare(t)
            self.by_text.setdefault(t, []).append((r, c))
            if b != t:
                self.by_text.setdefault(b, []).append((r, c))
            raw = rows[r - 1][c - 1]
            if "：" in raw or ":" in raw:
                self.colon.append((r, c, raw))

    def t(self, r: int, c: int) -> str:
        return self.text.get((r, c), "")

    def cells(self, r1: int, r2: int):
        rows_of = self.rows_of
        for r in range(max(r1, 1), min(r2, self.sg.max_row) + 1):
            for c, t in rows_of.get(r, ()):
                yield r, c, t

    def value(self, r: int, c: int, kind: str, hint: bool = False) -> Value:
        sg = self.sg
        at = loc(sg.name, r, c)
        if not sg.formulas and not sg.number_formats:  # values-only readers: the short way
            rows = sg.rows
            raw = rows[r - 1][c - 1] if r <= len(rows) and c <= len(rows[r - 1]) else None
            if raw == "":
                raw = None
            return parse_cell(raw, kind, loc=at, hint=hint)
        raw = sg.value(r, c)
        f = sg.formula(r, c)
        fmt = sg.number_format(r, c)
        if f is not None and raw is None and self.sg.blank_results and (r, c) in self.sg.blank_results:
            f = None  # a formula whose cached result is "": blank, as shown
        return parse_cell(raw, kind, loc=at, formula=f, number_format=fmt, hint=hint)

    def right(self, r: int, c: int, c_end: int | None = None, labels: tuple[str, ...] = ()):
        """The first filled cell right of (r, c) that is not another label; None when there is none."""
        last = min(c_end or self.sg.max_col, self.sg.max_col)
        for cc in range(c + 1, last + 1):
            top = self.sg.merge_top(r, cc)
            if top is not None and top != (r, cc):
                continue
            v = self.sg.value(r, cc)
            if v is None or (isinstance(v, str) and not v.strip()):
                continue
            if labels and _label_hit(self.t(r, cc), labels):
                return None
            return r, cc
        return None

    def below(self, r: int, c: int, r_end: int):
        for rr in range(r + 1, min(r + 3, r_end) + 1):
            v = self.sg.value(rr, c)
            if v is not None and not (isinstance(v, str) and not v.strip()):
                return rr, c
        return None


@lru_cache(maxsize=32768)
def _label_hit(t: str, labels: tuple[str, ...]) -> str | None:
    """The label a cell is (exactly, after dropping notes in brackets and enumerators), or None.
    Labels are written as printed ("预算部门、单位名称"); cells are compared normalised."""
    b = _bare(t)
    for lab in labels:
        n = norm_label(lab)
        if b == n or t == n:
            return lab
    return None


@lru_cache(maxsize=256)
def _inline_rx(labels: tuple[str, ...]):
    alts = "|".join(r"\s*".join(map(re.escape, lab)) for lab in labels)
    return re.compile(r"^\s*(?:" + alts + r")\s*(?:[(（][^)）]*[)）])?\s*[:：]\s*(.*)$", re.S)


def _inline(raw, labels: tuple[str, ...]) -> str | None:
    """"项目负责人：张三" -> "张三" (a label with its value typed after a colon)."""
    if not isinstance(raw, str) or ("：" not in raw and ":" not in raw):
        return None
    m = _inline_rx(labels).match(clean_text(raw))
    return m.group(1).strip() if m else None


def read_family(grid: Grid, family: Family, sheets: list[str], form: Form) -> None:
    """Fill `form` (already carrying source/reader) from the family's sheets; several blocks -> form.parts."""
    blocks: list[tuple[_S, int, int, int]] = []
    for name in sheets:
        sg = grid.sheet(name)
        if sg is None:
            continue
        sh = _S(sg)
        anchors = sorted({r for (r, c), t in sh.text.items() if _label_hit(t, family.total_labels)
                          and _fund_header(sh, r, c, family) is not None})
        if not anchors:
            continue
        starts = []
        prev = 0
        for ar in anchors:
            starts.append(_block_start(sh, prev + 1, ar, family))
            prev = ar
        for i, ar in enumerate(anchors):
            end = starts[i + 1] - 1 if i + 1 < len(anchors) else sg.max_row
            blocks.append((sh, starts[i], ar, end))
    if not blocks:
        form.read_notes.append(f"未找到“{family.total_labels[0]}”一行（{family.title}）")
        return
    forms = []
    for sh, r0, ar, r1 in blocks:
        f = form if len(blocks) == 1 else Form(source=form.source, reader=form.reader,
                                                  formulas_known=form.formulas_known)
        f.family, f.confidence = family.key, form.confidence
        f.sheet_names[L.SHEET_SELF] = sh.sg.name
        _read_block(sh, r0, ar, r1, family, f)
        forms.append(f)
    if len(forms) > 1:
        form.parts = forms
        first = forms[0]
        form.year = first.year
        form.unit_name = first.unit_name
        form.project = None
        form.tables = first.tables


def _block_start(sh: _S, lo: int, ar: int, family: Family) -> int:
    """Where the form around the total row at `ar` begins: its title, 报表编号 or first head label."""
    heads = tuple(lab for _, labs in family.head for lab in labs)
    for r in range(lo, ar + 1):
        for c in range(1, sh.sg.max_col + 1):
            t = sh.t(r, c)
            if t and ("自评表" in t or t.startswith("报表编号") or _label_hit(t, heads)):
                return r
    return lo


def _fund_header(sh: _S, ar: int, ac: int, family: Family):
    """(header row, attr -> column) of the fund block whose total label stands at (ar, ac)."""
    key = (ar, ac, family.key)
    if key not in sh.headers:
        sh.headers[key] = _find_fund_header(sh, ar, ac, family)
    return sh.headers[key]


def _find_fund_header(sh: _S, ar: int, ac: int, family: Family):
    best = None
    for hr in (ar - 1, ar - 2, ar - 3, ar):
        if hr < 1:
            continue
        cols = _map_cols(sh, hr, family.fund_cols, ac + 1)
        if ("budget" in cols or "actual" in cols) and (best is None or len(cols) > len(best[1])):
            best = (hr, cols)
    return best


def _map_cols(sh: _S, hr: int, spec, c_min: int = 1) -> dict[str, int]:
    """Column heads of one row (or the merge above) -> attr -> column; each column and attr used once."""
    cols: dict[str, int] = {}
    for c in range(c_min, sh.sg.max_col + 1):
        t = sh.t(hr, c)
        if not t:
            top = sh.sg.merge_top(hr, c)
            if top is not None and top[0] < hr:
                t = sh.t(*top)
        if not t:
            continue
        hit = None
        for attr, frags in spec:
            if attr not in cols:
                for f in frags:
                    if f in t:
                        hit = attr
                        break
                if hit is not None:
                    break
        if hit is not None:
            cols[hit] = c
    return cols


_FUND_KINDS = {"initial_budget": L.AMOUNT, "budget": L.AMOUNT, "actual": L.AMOUNT, "points": L.POINTS,
               "execution_rate": L.PERCENT, "score": L.POINTS}


def _read_block(sh: _S, r0: int, ar: int, r1: int, family: Family, form: Form) -> None:
    sg = sh.sg
    features = {"self", "generic", "head"}
    missing: list[str] = []
    # ---- head: project / unit labels, anywhere above the fund block --------------------------------
    head_vals: dict[str, Value] = {}
    for key, labels in family.head:
        v = _labeled(sh, r0, ar, labels)
        if v is None:
            missing.append(labels[0])
            continue
        head_vals[key] = v
    if family.is_project:
        form.project = ProjectInfo(name=head_vals.get("project", Value()),
                                   department=head_vals.get("department", Value()),
                                   implementer=head_vals.get("implementer", Value()))
        features.add("project")
    if "unit" in head_vals:
        form.unit_name = head_vals["unit"]
        form.self_eval.unit_name = head_vals["unit"]
    total_v = _labeled(sh, r0, ar, ("自评总分",))
    # ---- year: "(2023年度)", a title "2023年度…", or a 年度 label ------------------------------------
    form.year = _year(sh, r0, ar) or Value()
    if not form.year:
        missing.append("年度")
    # ---- fund block --------------------------------------------------------------------------------
    ac = next(c for c, t in sh.rows_of.get(ar, ()) if _label_hit(t, family.total_labels))
    hr, cols = _fund_header(sh, ar, ac, family)
    if hr == ar:  # the block's label stands beside its column heads (Chongqing): figures on the next row
        ar += 1
    form.funds_row = ar
    fu = form.self_eval.funds
    for attr, c in cols.items():
        setattr(fu, attr, sh.value(ar, c, _FUND_KINDS[attr], hint=attr == "execution_rate"))
    for attr, _ in family.fund_cols:
        if attr not in cols:
            missing.append(dict(family.fund_cols)[attr][0])
    r = ar + 1
    if family.source_labels:
        features.add("sources")
        while r <= r1:
            lab = None
            for c in range(1, (min(cols.values()) if cols else sg.max_col)):
                t = sh.t(r, c)
                if t:
                    b = _bare(t)
                    lab = next((s for s in family.source_labels if b.startswith(s)), None)
                    break
            if lab is None:
                break
            row = FundRow(label=lab, row=r)
            for attr, c in cols.items():
                setattr(row, attr, sh.value(r, c, _FUND_KINDS[attr], hint=attr == "execution_rate"))
            form.fund_sources.append(row)
            r += 1
    # ---- goals ---------------------------------------------------------------------------------------
    ih = _indicator_header(sh, ar + 1, r1, family)
    goal_end = ih[0] - 1 if ih else r1
    for key, labels in family.goal_labels:
        hit = _find(sh, ar + 1, goal_end, labels)
        if hit is None:
            continue
        rc = sh.below(hit[0], hit[1], goal_end)
        if rc is not None:
            setattr(form.self_eval, key, sh.value(rc[0], rc[1], L.LONGTEXT))
        else:
            setattr(form.self_eval, key, Value(Kind.EMPTY, loc=Loc(sg.name, a1(hit[0] + 1, hit[1]))))
    # ---- indicators ----------------------------------------------------------------------------------
    last = r1
    if ih is None:
        missing.append(family.ind_header[0])
    else:
        hr2, icols = ih
        features.add("indicators")
        if "reason" in icols:
            features.add("reasons")
        total = None
        c_lim = min(icols.values()) + 3 if icols else 4
        closers = tuple(lab for _, labs in family.text_fields for lab in labs)
        for rr in range(hr2 + 1, r1 + 1):
            for c, t in sh.rows_of.get(rr, ()):  # the row's text cells, left to right
                if c > c_lim:
                    break
                if _bare(t).startswith(family.ind_total) or (closers and _label_hit(t, closers)):
                    total = rr
                    break
            if total is not None:
                break
        last = (total - 1) if total else r1
        _indicators(sh, hr2 + 1, last, icols, form)
        c1, c2 = min(icols.values()), max(icols.values())
        form.self_eval.indicators_region = (Loc(sg.name, a1(hr2 + 1, c1)), Loc(sg.name, a1(last, c2)))
        if total is not None and _bare(sh.t(total, min(icols.values()))).startswith(family.ind_total) \
                or (total is not None and any(_bare(sh.t(total, c)).startswith(family.ind_total)
                                              for c in range(1, c1 + 3))):
            features.add("total")
            if "points" in icols:
                form.self_eval.points_total = sh.value(total, icols["points"], L.POINTS)
            if "score" in icols:
                form.self_eval.total_score = sh.value(total, icols["score"], L.POINTS)
            if not form.self_eval.points_total and not form.self_eval.total_score:
                nums = [c for c in range(c1, sg.max_col + 1) if isinstance(sg.value(total, c), (int, float))]
                if nums:
                    form.self_eval.points_total = sh.value(total, nums[0], L.POINTS)
                if len(nums) > 1:
                    form.self_eval.total_score = sh.value(total, nums[1], L.POINTS)
            last = total
    if total_v is not None and not form.self_eval.total_score:
        form.self_eval.total_score = _as(total_v, L.POINTS)
        features.add("total")
    # ---- texts after the table and the footer --------------------------------------------------------
    for key, labels in family.text_fields:
        v = _labeled(sh, last, r1, labels)
        if v is not None:
            form.texts[key] = v
    for key, labels in family.footer:
        v = _labeled(sh, r0, r1, labels)
        if v is None:
            continue
        if key in ("leader", "finance_leader") and form.project is not None:
            setattr(form.project, key, v)
        elif key in ("preparer", "phone", "date"):
            setattr(form.self_eval.footer, key, _as(v, {"phone": L.PHONE, "date": L.DATE}.get(key, L.TEXT)))
            features.add("footer.se")
    form.tables = frozenset(features)
    for m in missing:
        form.read_notes.append(f"{sg.name}：未找到“{m}”")


def _as(v: Value, kind: str) -> Value:
    return parse_cell(v.raw if v.raw is not None else v.text, kind, loc=v.loc) if v.kind is not Kind.EMPTY else v


def _find(sh: _S, r1: int, r2: int, labels: tuple[str, ...]):
    for r, c, t in sh.cells(r1, r2):
        if _label_hit(t, labels) or any(t.startswith(lab) and len(t) <= len(lab) + 8 for lab in labels):
            return r, c
    return None


def _labeled(sh: _S, r1: int, r2: int, labels: tuple[str, ...]) -> Value | None:
    """A label's value: typed after its colon in the same cell, or the next filled cell to the right.
    A label with nothing beside it gives an EMPTY Value at the cell right of it (the field exists).
    The first such cell in reading order wins."""
    sg = sh.sg
    hits: set[tuple[int, int]] = set()
    for lab in labels:
        for rc in sh.by_text.get(norm_label(lab), ()):
            if r1 <= rc[0] <= r2:
                hits.add(rc)
    inline_at: dict[tuple[int, int], str] = {}
    for r, c, raw in sh.colon:
        if r1 <= r <= r2:
            got = _inline(raw, labels)
            if got is not None:
                inline_at[(r, c)] = got
                hits.add((r, c))
    for r, c in sorted(hits):
        inline = inline_at.get((r, c))
        if inline:
            return parse_cell(inline, L.TEXT, loc=loc(sg.name, r, c))
        rc = sh.right(r, c, labels=labels)
        if rc is not None:
            return sh.value(rc[0], rc[1], L.TEXT)
        top = sg.merge_top(r, c)
        nxt = c + 1
        if top is not None:  # the label's own merge: the value cell starts after it
            for (a, b, cc, d) in sg.merged:
                if (a, b) == top:
                    nxt = d + 1
                    break
        return Value(Kind.EMPTY, loc=loc(sg.name, r, nxt))
    return None


def _year(sh: _S, r0: int, ar: int) -> Value | None:
    best = None
    for r, c, t in sh.cells(r0, ar):
        m = _YEAR.search(t)
        if not m:
            continue
        rank = 0 if ("年度" in t and ("自评" in t or t.startswith("(") or len(t) <= 12)) else 1
        if best is None or rank < best[0]:
            best = (rank, r, c, m.group(1))
    if best is None:
        return None
    _, r, c, y = best
    return Value(Kind.NUMBER, number=Decimal(y), raw=sh.sg.value(r, c), loc=Loc(sh.sg.name, a1(r, c)))


def _indicator_header(sh: _S, r1: int, r2: int, family: Family):
    for r, c, t in sh.cells(r1, r2):
        if any(f in t for f in family.ind_header) and len(t) <= 12:
            cols = _map_cols(sh, r, family.ind_cols)
            if "name" in cols and ("points" in cols or "score" in cols):
                # a two-row head (merged cells): take what the row below adds
                more = _map_cols(sh, r + 1, family.ind_cols) if r + 1 <= r2 else {}
                for k, v in more.items():
                    cols.setdefault(k, v)
                return (r + 1 if more and not _data_row(sh, r + 1) else r), cols
    return None


def _data_row(sh: _S, r: int) -> bool:
    return any(isinstance(v, (int, float)) for v in (sh.sg.rows[r - 1] if r <= len(sh.sg.rows) else ()))


_IND_ATTRS = ("name", "actual", "points", "score", "reason", "coefficient", "core")
_IND_KINDS = {"points": L.POINTS, "score": L.POINTS, "coefficient": L.PERCENT}


def _indicators(sh: _S, first: int, last: int, cols: dict[str, int], form: Form) -> None:
    sg = sh.sg
    last1 = last2 = None
    out = form.self_eval.indicators
    for r in range(first, last + 1):
        vals = {attr: sh.value(r, c, _IND_KINDS.get(attr, L.TEXT), hint=attr == "coefficient")
                for attr, c in cols.items() if attr not in ("level1", "level2")}
        kw = {attr: vals[attr] for attr in _IND_ATTRS if attr in vals}  # given values: no default Values made
        ind = Indicator(row=r, target=_target(vals), **kw)
        for attr, lastv in (("level1", last1), ("level2", last2)):
            c = cols.get(attr)
            if c is None:
                continue
            h = heading_above(sg, r, c, lastv, first)
            if h is not None:
                if attr == "level1":
                    last1 = h
                    ind.level1 = sh.value(h[0], h[1], L.TEXT)
                    ind.level1_loc = ind.level1.loc
                else:
                    last2 = h
                    ind.level2 = sh.value(h[0], h[1], L.TEXT)
        name = ind.name.text or ""
        placeholder = bool(_PLACEHOLDER.match(name.strip())) if name else False
        rest_blank = not (ind.target or ind.actual or ind.points or ind.score)
        if ind.is_blank() or (placeholder and rest_blank):
            if placeholder:
                form.template_rows.append(ind.name)
            continue
        out.append(ind)


def _target(vals: dict[str, Value]) -> Value:
    """年度指标值; Sichuan's 指标性质 + 指标值 + 度量单位 read as one target ("≥" "90" "%" -> "≥90%");
    Chongqing's 调整指标值, else 年初指标值."""
    t = vals.get("target")
    if (t is None or t.kind is Kind.EMPTY) and vals.get("target_initial") is not None:
        t = vals["target_initial"]
    if t is None:
        return Value()
    nature, unit = vals.get("nature"), vals.get("unit")
    parts = []
    n = (nature.text or "").strip() if nature is not None and nature.kind is Kind.TEXT else ""
    if n in ("≥", "≤", "=", ">", "<", ">=", "<=", "＞", "＜", "＝"):
        parts.append(n)
    if t.kind is Kind.EMPTY:
        return t
    body = t.display
    parts.append(body)
    u = (unit.text or "").strip() if unit is not None and unit.kind is Kind.TEXT else ""
    if u and not body.endswith(u) and not re.search(r"[\u4e00-\u9fff]", body[-1:] or ""):
        parts.append(u)
    text = "".join(parts)
    if text == t.display:
        return t
    return Value(Kind.TEXT, text=text, raw=t.raw, loc=t.loc)
