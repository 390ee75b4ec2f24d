"""Recognise a layout once: the label search's result reused for every file that has the same layout.

Files made from one template share a layout, and the label search (which sheet is which table, which row is 公用经费,
where the 本年决算数 column is) gives the same answer for all of them. The first file of a layout is read the full
way; what it produced is kept as an entry:

  value cells   every Value of the form that parse_cell reproduces from its own cell (its kind found by trying each
                layout kind): the cells that carry data, and the kinds that read them;
  label cells   every other cell of the grid, exactly as it was (labels, headings, notes, the title with its year,
                the emptiness of cells the search looked past, and any cell whose text the form also holds
                outside a Value, such as a row's label);
  the form      a private copy, copied again for each file that uses the entry.

A later file uses the entry only when every label cell holds exactly the same raw value, its sheets and their sizes
(and merged ranges or cached errors, when the search looked at them) are the same, and every value cell is of the
same class (empty / number / text) and, when text, is not the text of any label cell (a project named "合计" would
change where the search ends a table) and is a placeholder ("指标2", "……") only where the first file had one. Then the form is the entry's copy with each value cell parsed again from this
file, by the kind that read it; when the kinds that reproduce the first file disagree on this file's cell, or the
cell now reads as another kind of value (a number as text, "——" as a value), the entry is not used. Anything else is a miss and the file gets the full search (and becomes an entry of its own).

When an entry matched a file but its kinds disagreed on it, the file is searched in full and the entry keeps only the
kinds that read both files (and then replays the second file exactly, or is left as it was).
Only the values-only reader (python-calamine: no formulas, no number formats) is cached; its grids are what a batch
reads. tests/test_layout_cache.py proves the findings and the whole form identical to the uncached path over the
fixtures and mutated copies.
"""
from __future__ import annotations

import dataclasses
import os
from collections import OrderedDict

from .. import layout as L
from ..model import Kind, Value
from ..values import _PLAIN_NUMERIC, parse_cell, to_decimal
from .grid import Grid, parse_a1

MAX_ENTRIES = 32  # layouts remembered per process (a batch from one province has a handful)
ENABLED = os.environ.get("PERFEVAL_LAYOUT_CACHE", "1") != "0"  # "0": always the full search (for comparison)
_KINDS = (L.AMOUNT, L.SIGNED, L.PERCENT, L.COUNT, L.AREA, L.POINTS, L.YEAR, L.DATE, L.TEXT, L.PHONE, L.LONGTEXT,
          L.CHOICE)
_EMPTY, _NUMBER, _TEXT, _OTHER = range(4)
_SAME_FOR_NUMBERS = _PLAIN_NUMERIC  # kinds parse_cell reads a number alike (its fast path)

_entries: OrderedDict = OrderedDict()  # prekey -> list of _Entry (most recent last)
stats = {"hits": 0, "misses": 0, "entries": 0}


def clear() -> None:
    _entries.clear()
    stats.update(hits=0, misses=0, entries=0)


def _class(v) -> int:
    if v is None or v == "":
        return _EMPTY
    t = type(v)
    if t is float or t is int or t is bool:
        return _NUMBER
    if t is str:
        return _TEXT
    return _OTHER


def _placeholder(text) -> bool:
    """Rows the official forms print for filling in ("指标2", "……"): the readers skip them, so a value cell that
    turns from one into text (or back) changes what the search finds."""
    global _PLACEHOLDERS
    if _PLACEHOLDERS is None:
        tests = []
        try:
            from .names import is_placeholder

            tests.append(is_placeholder)
        except ImportError:
            pass
        try:
            from ..forms.reader import _PLACEHOLDER

            tests.append(lambda t: bool(_PLACEHOLDER.match(t.strip())))
        except ImportError:
            pass
        _PLACEHOLDERS = tests
    return type(text) is str and any(t(text) for t in _PLACEHOLDERS)


_PLACEHOLDERS = None


def usable(grid: Grid) -> bool:
    """Values-only grids without formulas or formats (python-calamine), nothing left to load."""
    if grid.formulas_known or grid.formats_known or grid.results_current or grid.sheet_loader is not None:
        return False
    return all(not sg.formulas and not sg.number_formats and not sg.blank_results for sg in grid.sheets.values())


def _prekey(grid: Grid, extra="") -> tuple:
    """What must be equal before cells are compared: the options, every sheet's name and the length of each row."""
    listed = getattr(grid, "all_sheets", None)
    return (extra, tuple(listed) if listed is not None else None,
            tuple((name, len(sg.rows), tuple(len(r) for r in sg.rows)) for name, sg in grid.sheets.items()))


def _walk(obj, path, out, seen):
    """(path, Value) for every Value reachable from obj (dataclasses, lists, tuples, dicts)."""
    if isinstance(obj, Value):
        out.append((path, obj))
        return
    if id(obj) in seen:
        return
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        seen.add(id(obj))
        for f in dataclasses.fields(obj):
            _walk(getattr(obj, f.name), path + ((0, f.name),), out, seen)
    elif isinstance(obj, list):
        seen.add(id(obj))
        for i, x in enumerate(obj):
            _walk(x, path + ((1, i),), out, seen)
    elif isinstance(obj, dict):
        seen.add(id(obj))
        for k, x in obj.items():
            _walk(x, path + ((1, k),), out, seen)


def _strings(obj, out: set, seen: set) -> None:
    """Every non-empty string the form holds outside Values (row labels, notes, sheet names)."""
    if isinstance(obj, Value) or id(obj) in seen:
        return
    if type(obj) is str:
        if obj.strip():
            out.add(obj.strip())
        return
    seen.add(id(obj))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            if f.name != "source":
                _strings(getattr(obj, f.name), out, seen)
    elif isinstance(obj, (list, tuple)):
        for x in obj:
            _strings(x, out, seen)
    elif isinstance(obj, dict):
        for k, x in obj.items():
            _strings(k, out, seen)
            _strings(x, out, seen)


def _set(root, path, value) -> None:
    obj = root
    for how, key in path[:-1]:
        obj = getattr(obj, key) if how == 0 else obj[key]
    how, key = path[-1]
    if how == 0:
        setattr(obj, key, value)
    else:
        obj[key] = value


def _kinds_for(v: Value, raw) -> tuple:
    """The (kind, hint) pairs whose parse of raw gives exactly v; () when none does."""
    out = []
    for kind in _KINDS:
        for hint in ((False, True) if kind == L.PERCENT else (False,)):
            try:
                if parse_cell(raw, kind, loc=v.loc, hint=hint) == v:
                    out.append((kind, hint))
            except Exception:
                pass
    return tuple(out)


class _Entry:
    __slots__ = ("sheets", "values", "label_texts", "form", "merged", "errors", "source", "tail", "plan")

    def __init__(self, grid: Grid, form, tail):
        found: list = []
        _walk(form, (), found, set())
        cells: dict[tuple[str, int, int], list] = {}  # value cell -> [(path, kinds, value)]
        bad: set = set()  # cells some Value came from without parse_cell reproducing it: label cells
        for path, v in found:
            if v.loc is None or v.formula is not None or v.template_formula is not None:
                continue
            sg = grid.sheets.get(v.loc.sheet)
            if sg is None:
                continue
            try:
                r, c = parse_a1(v.loc.cell)
            except Exception:
                continue
            key = (v.loc.sheet, r, c)
            if not (1 <= r <= len(sg.rows) and 1 <= c <= len(sg.rows[r - 1])):
                bad.add(key)  # outside the data: nothing to read again
                continue
            kinds = _kinds_for(v, sg.rows[r - 1][c - 1])
            if not kinds:
                bad.add(key)
            else:
                cells.setdefault(key, []).append((path, kinds, v))
        # a cell whose text also lives in the form outside any Value (a row's label taken from it) is a label cell
        words = set()
        _strings(form, words, set())
        for key, uses in cells.items():
            raw = uses[0][2].raw
            if type(raw) is str and raw.strip():
                t = raw.strip()
                if any(w in t or t in w for w in words):
                    bad.add(key)
        for key in bad:
            cells.pop(key, None)
        self.values = cells
        self.plan = None
        # each sheet's rows as they were, and which cells of them are value cells; compared row by row
        self.sheets = {}
        masked = {}
        for (s, r, c) in cells:
            masked.setdefault(s, {}).setdefault(r, set()).add(c)
        texts = set()
        for name, sg in grid.sheets.items():
            m = masked.get(name, {})
            for r, row in enumerate(sg.rows, start=1):
                cols = m.get(r, ())
                for c, v in enumerate(row, start=1):
                    if type(v) is str and c not in cols and v.strip():
                        texts.add(v.strip())
            self.sheets[name] = ([list(row) for row in sg.rows], m)
        self.label_texts = frozenset(texts)
        self.merged = {n: list(sg._merged) for n, sg in grid.sheets.items() if sg._merged is not None}
        self.errors = {n: dict(sg._errors) for n, sg in grid.sheets.items() if sg._errors is not None}
        self.source = form.source
        self.tail = tail
        self.form = _copy(form, "", "")  # a private copy: the caller's form goes on to the rules

    def matches(self, grid: Grid) -> bool:
        texts = self.label_texts
        for name, sg in grid.sheets.items():
            rows_a, masked = self.sheets[name]
            for r, (ra, rb) in enumerate(zip(rows_a, sg.rows), start=1):
                if ra == rb:
                    continue  # the same row, value cells included
                cols = masked.get(r)
                if not cols:
                    return False
                for c, (va, vb) in enumerate(zip(ra, rb), start=1):
                    if c in cols:  # a value cell: any content of the same class, not a label's text
                        if va == vb:
                            continue
                        k = _class(vb)
                        if k != _class(va):
                            return False
                        if k == _TEXT:
                            t = vb.strip()
                            if t and t in texts or _placeholder(va) != _placeholder(vb):
                                return False
                    elif va != vb or type(va) is not type(vb):
                        return False
        for name, merged in self.merged.items():
            if list(grid.sheets[name].merged) != merged:
                return False
        for name, errors in self.errors.items():
            sg = grid.sheets[name]
            sg.cached_error(1, 1)  # load them
            if (sg._errors or {}) != errors:
                return False
        return True

    def refine(self, grid: Grid, form) -> bool:
        """After a full search of a file this entry matched but could not replay (its kinds were ambiguous, e.g. a 0
        that reads the same as an amount and as a percent): keep only the kinds that also read this file's Values,
        when that makes the replay of this file give exactly the full search's form."""
        found: list = []
        _walk(form, (), found, set())
        by_path = dict(found)
        narrowed = {}
        for key, uses in self.values.items():
            name, r, c = key
            raw = grid.sheets[name].rows[r - 1][c - 1]
            new = []
            for path, kinds, va in uses:
                vb = by_path.get(path)
                if vb is None or vb.loc != va.loc:
                    return False
                ks = tuple((k, h) for k, h in kinds if parse_cell(raw, k, loc=va.loc, hint=h) == vb)
                if not ks:
                    return False
                new.append((path, ks, va))
            narrowed[key] = new
        old, self.values = self.values, narrowed
        if self.replay(grid, form.source) != form:
            self.values = old
            return False
        return True

    def _plan(self):
        """self.values arranged for replay, made once per values (refine replaces them): each use with its first
        Value's raw and class, and whether every kind that reads it reads a number alike (then one parse, inline)."""
        plan = self.plan
        if plan is not None and plan[0] is self.values:
            return plan[1]
        steps = []
        for (name, r, c), uses in self.values.items():
            steps.append((name, r - 1, c - 1, tuple(
                (path, kinds, va, va.raw, type(va.raw), all(k in _SAME_FOR_NUMBERS for k, _ in kinds))
                for path, kinds, va in uses)))
        self.plan = (self.values, steps)
        return steps

    def replay(self, grid: Grid, source: str):
        """The form for this grid, or None when a value cell reads differently under the kinds that read it."""
        form = _copy(self.form, self.source, source)
        sheets = grid.sheets
        number = Kind.NUMBER
        for name, r, c, uses in self._plan():
            raw = sheets[name].rows[r][c]
            traw = type(raw)
            for path, kinds, va, va_raw, va_type, numeric in uses:
                if raw == va_raw and traw is va_type:
                    continue  # the same cell content: the copy already holds its Value
                if numeric and (traw is float or traw is int):
                    # these kinds read a number alike, as parse_cell's fast path does
                    if va.kind is not number:
                        return None  # text or "——" that became a number: the search may differ
                    _set(form, path, Value(number, to_decimal(raw), None, None, raw, va.loc, None, None))
                    continue
                vb = None
                for kind, hint in kinds:
                    v = parse_cell(raw, kind, loc=va.loc, hint=hint)
                    if vb is None:
                        vb = v
                    elif v != vb:
                        return None  # the kinds that read the first file disagree on this one
                if vb.kind is not va.kind:
                    return None  # a number that became text, a "——" that became a value: the search may differ
                _set(form, path, vb)
        return form


_COPIERS: dict[type, object] = {}  # dataclass -> its copy function (made once, below)
_LEAVES: set = {Value, str, int, float, bool, type(None)}  # classes _copy hands back as they are


def _copy(obj, old: str, new: str):
    """A copy of the entry's form for another file: new containers, the Values and immutable leaves shared (a
    Value is never changed once read; those of the value cells are replaced by new ones); every `source` that named
    the first file names this one."""
    cls = obj.__class__
    if cls in _LEAVES:
        return obj  # shared: nothing changes a Value once the reader has made it (rules are pure)
    if cls is list:
        return [x if x.__class__ in _LEAVES else _copy(x, old, new) for x in obj]
    if cls is dict:
        return {k: x if x.__class__ in _LEAVES else _copy(x, old, new) for k, x in obj.items()}
    copier = _COPIERS.get(cls)
    if copier is None:
        if not dataclasses.is_dataclass(cls) or cls.__dataclass_params__.frozen:
            _LEAVES.add(cls)  # Decimal, enums, tuples, frozen Loc: immutable
            return obj
        copier = _COPIERS[cls] = _make_copier(cls)
    return copier(obj, old, new)


def _make_copier(cls):
    """A function copying one dataclass field by field (the per-file copy is the cache's main cost: generated
    code, as dataclasses makes its __init__, instead of a getattr / setattr loop)."""
    names = tuple(f.name for f in dataclasses.fields(cls))
    if cls.__setattr__ is not object.__setattr__ or not all(n.isidentifier() for n in names):
        def generic(obj, old, new):
            twin = cls.__new__(cls)
            for name in names:
                x = getattr(obj, name)
                if name == "source" and x == old:
                    x = new
                object.__setattr__(twin, name, _copy(x, old, new))
            return twin
        return generic
    lines = ["def copier(obj, old, new):", "    twin = cls.__new__(cls)"]
    for name in names:
        lines.append(f"    x = obj.{name}")
        if name == "source":
            lines.append("    if x == old:")
            lines.append("        x = new")
        lines.append(f"    twin.{name} = x if x.__class__ in leaves else _copy(x, old, new)")
    lines.append("    return twin")
    scope = {"cls": cls, "leaves": _LEAVES, "_copy": _copy}
    exec("\n".join(lines), scope)  # noqa: S102  (field names of our own dataclasses only)
    return scope["copier"]


def mapped(grid: Grid, form, full, options="") -> None:
    """Fill `form` from the grid: by an entry when this layout was seen, else by full(form) (recognition and the
    label search), remembered for the next file. The form's state after full() is what an entry reproduces;
    `options`: whatever else full() depends on (a forced form family)."""
    if not ENABLED or not usable(grid):
        full(form)
        return
    key = _prekey(grid, options)
    matched = None
    for entry in reversed(_entries.get(key, ())):
        if entry.matches(grid):
            got = entry.replay(grid, form.source)
            if got is not None:
                for f in dataclasses.fields(got):
                    setattr(form, f.name, getattr(got, f.name))
                stats["hits"] += 1
                _entries.move_to_end(key)
                return
            matched = matched or entry
    stats["misses"] += 1
    full(form)
    if matched is not None:
        try:
            if matched.refine(grid, form):
                return  # the entry now reads this layout's cells by the kinds that really read them
        except Exception:
            pass
    try:
        entry = _Entry(grid, form, None)
    except Exception:  # a form we cannot copy is simply not cached
        return
    _entries.setdefault(key, []).append(entry)
    _entries.move_to_end(key)
    if len(_entries[key]) > 4:
        del _entries[key][0]
    while len(_entries) > MAX_ENTRIES:
        _entries.popitem(last=False)
    stats["entries"] = sum(len(v) for v in _entries.values())
