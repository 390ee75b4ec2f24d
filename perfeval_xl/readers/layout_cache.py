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
from itertools import compress, count
from operator import itemgetter, ne

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


def _getter(idx: tuple):
    """row -> tuple of the cells at idx (itemgetter, always a tuple)."""
    if len(idx) == 1:
        i = idx[0]
        return lambda row: (row[i],)
    if not idx:
        return lambda row: ()
    return itemgetter(*idx)


class _Entry:
    __slots__ = ("sheets", "values", "label_texts", "form", "merged", "errors", "source", "tail", "plan", "rows")

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
        self.rows = {}  # sheet -> {row: (label cells getter, their values, their types, value columns)} (matches)
        for name, (rows_a, m) in self.sheets.items():
            per = self.rows[name] = {}
            for r, cols in m.items():
                ra = rows_a[r - 1]
                lab = tuple(i for i in range(len(ra)) if i + 1 not in cols)
                vals = tuple(ra[i] for i in lab)
                value_cols = tuple(sorted(c - 1 for c in cols if c <= len(ra)))
                per[r] = (_getter(lab), vals, tuple(map(type, vals)), value_cols)
        self.merged = {n: list(sg._merged) for n, sg in grid.sheets.items() if sg._merged is not None}
        self.errors = {n: dict(sg._errors) for n, sg in grid.sheets.items() if sg._errors is not None}
        self.source = form.source
        self.tail = tail
        self.form = _copy(form, "", "")  # a private copy: the caller's form goes on to the rules

    def matches(self, grid: Grid) -> bool:
        texts = self.label_texts
        for name, sg in grid.sheets.items():
            rows_a = self.sheets[name][0]
            rows_b = sg.rows
            if rows_a == rows_b:
                continue  # every row the same, value cells included
            per = self.rows[name]
            # the rows that differ, found at C speed (most rows of a file are its template's)
            for r in compress(count(1), map(ne, rows_a, rows_b)):
                plan = per.get(r)
                if plan is None:
                    return False  # a label row changed
                getter, vals, types, cols = plan
                got = getter(rows_b[r - 1])
                # label cells: the same raw values of the same types (1 and 1.0 and True are ==)
                if got != vals or tuple(map(type, got)) != types:
                    return False
                ra, rb = rows_a[r - 1], rows_b[r - 1]
                for c in cols:  # a value cell: any content of the same class, not a label's text
                    va, vb = ra[c], rb[c]
                    if va == vb:
                        continue
                    k = _class(vb)
                    if k != _class(va):
                        return False
                    if k == _TEXT:
                        t = vb.strip()
                        if t and t in texts or _placeholder(va) != _placeholder(vb):
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
        """self.values arranged for replay, made once per values (refine replaces them): (steps, paths, start,
        build). Each step is a value cell with its uses; each use has its slot (its index in paths and start), its
        first Value, that Value's raw and class, and whether every kind that reads it reads a number alike (then one
        parse, inline). start: the entry's Value of each slot; build: _compile_builder's function, or None."""
        plan = self.plan
        if plan is not None and plan[0] is self.values:
            return plan[1]
        steps, paths, start = [], [], []
        for (name, r, c), uses in self.values.items():
            step = []
            for path, kinds, va in uses:
                numeric = all(k in _SAME_FOR_NUMBERS for k, _ in kinds)
                step.append((len(paths), kinds, va, va.raw, type(va.raw), numeric))
                paths.append(path)
                start.append(va)
            steps.append((name, r - 1, c - 1, tuple(step)))
        try:
            build = _compile_builder(self.form, self.source, {p: i for i, p in enumerate(paths)})
        except Exception:  # _NotCompiled, or anything unforeseen: the copy and the sets by path, as before
            build = None
        self.plan = (self.values, (steps, paths, start, build))
        return self.plan[1]

    def replay(self, grid: Grid, source: str):
        """The form for this grid, or None when a value cell reads differently under the kinds that read it."""
        steps, paths, start, build = self._plan()
        vals = start.copy()
        sheets = grid.sheets
        number = Kind.NUMBER
        for name, r, c, uses in steps:
            raw = sheets[name].rows[r][c]
            traw = type(raw)
            for slot, kinds, va, va_raw, va_type, numeric in uses:
                if raw == va_raw and traw is va_type:
                    continue  # the same cell content: the entry's Value
                if numeric and (traw is float or traw is int):
                    # these kinds read a number alike, as parse_cell's fast path does
                    if va.kind is not number:
                        return None  # text or "——" that became a number: the search may differ
                    vals[slot] = Value(number, to_decimal(raw), None, None, raw, va.loc, None, None)
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
                vals[slot] = vb
        if build is not None:
            return build(vals, source)
        # a form the builder does not make: the entry's copy, each changed Value set by its path
        form = _copy(self.form, self.source, source)
        for path, v, v0 in zip(paths, vals, start):
            if v is not v0:
                _set(form, path, v)
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


class _NotCompiled(Exception):
    """The form holds something _compile_builder does not reproduce exactly: replay copies and sets by path."""


def _compile_builder(root, old: str, slots: dict):
    """A function build(values, new) making exactly what _copy(root, old, new) makes with values[slots[path]] set
    at each path: the whole copy written out as straight-line code for this one form (the per-file copy and the
    sets by path were the replay's main cost: ~60 recursive calls and ~50 walks down a path a file).
    Raises _NotCompiled for anything unusual."""
    consts: list = []
    lines: list = []
    reached: set = set()
    names = iter(range(1 << 30))

    def const(x) -> str:
        consts.append(x)
        return f"K[{len(consts) - 1}]"

    def expr(obj, path) -> str:
        k = slots.get(path)
        if k is not None:
            reached.add(path)
            return f"V[{k}]"
        cls = obj.__class__
        if cls is list or cls is dict:
            items = list(obj.items()) if cls is dict else list(enumerate(obj))
            parts = [(key, expr(x, path + ((1, key),))) for key, x in items]
            name = f"c{next(names)}"
            if cls is list:
                lines.append(f"    {name} = [{', '.join(e for _, e in parts)}]")
            else:
                lines.append(f"    {name} = {{{', '.join(f'{const(key)}: {e}' for key, e in parts)}}}")
            return name
        if _is_leaf(cls):
            return "None" if obj is None else const(obj)
        return fill(obj, path)

    def fill(obj, path) -> str:
        cls = obj.__class__
        if cls.__setattr__ is not object.__setattr__:
            raise _NotCompiled(cls)
        fields = [f.name for f in dataclasses.fields(cls)]
        if not all(n.isidentifier() and not n.startswith("__") for n in fields):
            raise _NotCompiled(cls)
        values = []
        for n in fields:
            x = getattr(obj, n)
            if n == "source" and x == old and path + ((0, n),) not in slots:
                values.append((n, "new"))
            else:
                values.append((n, expr(x, path + ((0, n),))))
        name = f"c{next(names)}"
        lines.append(f"    {name} = {const(cls)}.__new__({const(cls)})")
        for n, e in values:
            lines.append(f"    {name}.{n} = {e}")
        return name

    cls = root.__class__
    if not dataclasses.is_dataclass(cls) or _is_leaf(cls):
        raise _NotCompiled(cls)
    out = fill(root, ())
    if reached != set(slots):
        raise _NotCompiled("a value under a container the copy shares")
    code = "def build(V, new):\n" + "\n".join(lines) + f"\n    return {out}\n"
    scope = {"K": consts}
    exec(code, scope)  # noqa: S102  (generated from our own dataclasses' fields; values come in through K and V)
    return scope["build"]


def _is_leaf(cls) -> bool:
    """What _copy hands back as it is (and learns to): anything but lists, dicts and non-frozen dataclasses."""
    if cls in _LEAVES:
        return True
    if cls is list or cls is dict:
        return False
    return not dataclasses.is_dataclass(cls) or cls.__dataclass_params__.frozen


def mapped(grid: Grid, new_form, full, options="", source=None):
    """The form of the grid: an entry's replay when this layout was seen, else new_form() filled by full(form)
    (recognition and the label search), remembered for the next file. The form's state after full() is what an
    entry reproduces; `options`: whatever else full() depends on (a forced form family); source: the file's.
    A hit makes no new_form() (a new Form builds ~170 default objects, all of which the replay replaces)."""
    if not ENABLED or not usable(grid):
        form = new_form()
        full(form)
        return form
    key = _prekey(grid, options)
    matched = None
    for entry in reversed(_entries.get(key, ())):
        if entry.matches(grid):
            got = entry.replay(grid, source)
            if got is not None:
                stats["hits"] += 1
                _entries.move_to_end(key)
                return got
            matched = matched or entry
    form = new_form()
    stats["misses"] += 1
    full(form)
    if matched is not None:
        try:
            if matched.refine(grid, form):
                return form  # the entry now reads this layout's cells by the kinds that really read them
        except Exception:
            pass
    try:
        entry = _Entry(grid, form, None)
    except Exception:  # a form we cannot copy is simply not cached
        return form
    _entries.setdefault(key, []).append(entry)
    _entries.move_to_end(key)
    if len(_entries[key]) > 4:
        del _entries[key][0]
    while len(_entries) > MAX_ENTRIES:
        _entries.popitem(last=False)
    stats["entries"] = sum(len(v) for v in _entries.values())
    return form
