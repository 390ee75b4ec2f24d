"""The layout cache gives exactly what the full label search gives: the same form, the same findings."""
from __future__ import annotations

import dataclasses
import os
import random
import shutil

import pytest

from perfeval_xl.model import Kind, Loc, Value
from perfeval_xl.pipeline import CheckOptions, check_file
from perfeval_xl.readers import layout_cache as LC
from perfeval_xl.readers import read_workbook


def _values(obj, out):
    if isinstance(obj, Value):
        out.append(obj)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            _values(getattr(obj, f.name), out)
    elif isinstance(obj, (list, tuple)):
        for x in obj:
            _values(x, out)
    elif isinstance(obj, dict):
        for x in obj.values():
            _values(x, out)
    return out


def _both(monkeypatch, files):
    """(forms, reports) with the cache, files in order, then the same without it."""
    out = []
    for enabled in (True, False):
        LC.clear()
        monkeypatch.setattr(LC, "ENABLED", enabled)
        forms = [read_workbook(f, fast=True) for f in files]
        LC.clear()
        reports = [check_file(f, CheckOptions()).to_dict() for f in files]
        out.append((forms, reports, dict(LC.stats)))
    return out


@pytest.fixture(scope="module")
def variants(tmp_path_factory, seed_original):
    """Copies of the as-sent 原表 (read by labels): the same layout with other data, and changes that must miss."""
    from tests.conftest import set_cells

    d = tmp_path_factory.mktemp("layouts")
    form = read_workbook(seed_original, fast=True)
    cells = [v.loc for v in _values(form, []) if v.loc is not None]
    numbers = [v.loc for v in _values(form, []) if v.kind is Kind.NUMBER and v.loc and v.loc.cell != "A1"]
    texts = [v.loc for v in _values(form, []) if v.kind is Kind.TEXT and v.loc]
    at = lambda loc: (loc.sheet, loc.cell)  # noqa: E731
    budget = form.self_eval.funds.budget.loc
    rng = random.Random(7)
    edits = {
        "same": {},
        "amounts": {at(budget): 5000.5, at(numbers[3]): 7.5, at(numbers[10]): -3.25},
        "unit": {at(form.unit_name.loc): "某某县财政局"},
        "text_in_number": {at(budget): "3,676.31万元"},
        "emptied": {at(numbers[5]): None},
        "label_changed": {("三公经费", "A3"): "因公出国（境）经费合计"},
        "year_title": {at(form.year.loc): "2025年度部门整体支出绩效自评表"},
        "name_is_a_label": {at(texts[-1]): "合计"},
    }
    raw_of = {at(v.loc): v.raw for v in _values(form, []) if v.loc is not None}
    LC.clear()
    read_workbook(seed_original, fast=True)  # the cells the cache reads again (the rest must match exactly)
    from perfeval_xl.readers.grid import a1

    reread = [(s, a1(r, c)) for entries in LC._entries.values() for e in entries for (s, r, c) in e.values]
    LC.clear()
    for k in range(10):  # random data in the value cells: of the same kind (a hit), or anything (mostly a miss)
        e = {}
        for loc in (rng.sample([Loc(*x) for x in reread], 12) if k < 6 else rng.sample(cells, 12)):
            raw = raw_of[at(loc)]
            if k < 6 and isinstance(raw, (int, float)):
                e[at(loc)] = round(rng.uniform(0, 9000), 2)
            elif k < 6 and isinstance(raw, str) and raw.strip():
                e[at(loc)] = "'" + rng.choice(("说明文字", "按计划完成", "好", "1,234.50"))
            elif k >= 6:
                e[at(loc)] = rng.choice((round(rng.uniform(-50, 9000), 2), None, "——", "说明文字", 0, "12.5%"))
        edits[f"random{k}"] = e
    paths = []
    for name, e in edits.items():
        p = str(d / f"{name}.xlsx")
        if e:
            set_cells(seed_original, e, dest=p)
        else:
            shutil.copyfile(seed_original, p)
        paths.append(p)
    return paths


def test_cached_forms_and_findings_are_those_of_the_full_search(monkeypatch, variants, seed_original, seed_example):
    files = [seed_original] + variants + [seed_example]
    (forms_c, reports_c, stats), (forms_f, reports_f, _) = _both(monkeypatch, files)
    assert reports_c == reports_f  # every finding and metric, file by file
    for f, a, b in zip(files, forms_c, forms_f):
        assert a == b, os.path.basename(f)  # the whole form, every Value and its cell
    assert stats["hits"] >= 5  # the cache was used, not bypassed


def test_a_changed_label_or_title_is_searched_again(monkeypatch, variants, seed_original):
    monkeypatch.setattr(LC, "ENABLED", True)
    by_name = {os.path.basename(p)[:-5]: p for p in variants}
    LC.clear()
    read_workbook(seed_original, fast=True)
    assert LC.stats == {"hits": 0, "misses": 1, "entries": 1}
    read_workbook(by_name["amounts"], fast=True)
    assert LC.stats["hits"] == 1  # other data, same layout
    for name in ("label_changed", "year_title", "name_is_a_label", "text_in_number"):
        misses = LC.stats["misses"]
        read_workbook(by_name[name], fast=True)
        assert LC.stats["misses"] == misses + 1, name


def test_only_values_only_grids_are_cached(monkeypatch, seed_original):
    monkeypatch.setattr(LC, "ENABLED", True)
    LC.clear()
    read_workbook(seed_original, fast=False)  # openpyxl: formulas and formats visible, always the full search
    read_workbook(seed_original, fast=False)
    assert LC.stats["hits"] == 0 and LC.stats["entries"] == 0


def test_every_form_family_and_its_variants_read_the_same_with_the_cache(monkeypatch, tmp_path):
    """The proof over the family fixtures (tests/families, tuned and held back): each fixture, then copies with other
    data in the cells the cache reads again, give the same forms and findings with and without the cache."""
    from openpyxl import load_workbook

    from perfeval_xl.readers.grid import a1
    from tests.families import build, heldback

    (tmp_path / "held").mkdir()
    fixtures = build.build_all(str(tmp_path)) + heldback.build_all(str(tmp_path / "held"))
    rng = random.Random(11)
    files = []
    for fx in fixtures:
        monkeypatch.setattr(LC, "ENABLED", True)
        LC.clear()
        read_workbook(fx.path, fast=True)
        reread = [(s, r, c) for entries in LC._entries.values() for e in entries for (s, r, c), uses in
                  e.values.items() for _ in uses[:1]]
        files.append(fx.path)
        for k in range(2):
            wb = load_workbook(fx.path)
            for s, r, c in rng.sample(reread, min(8, len(reread))):
                cell = wb[s][a1(r, c)]
                if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                    cell.value = round(rng.uniform(0, 500), 2)
                elif k == 1 and isinstance(cell.value, str) and cell.value.strip():  # text: also "—" and "100%"
                    cell.value = rng.choice(("按计划完成", "说明文字", "好"))
            p = str(tmp_path / f"{os.path.basename(fx.path)[:-5]}_{k}.xlsx")
            wb.save(p)
            files.append(p)
    (forms_c, reports_c, stats), (forms_f, reports_f, _) = _both(monkeypatch, files)
    assert reports_c == reports_f
    for f, a, b in zip(files, forms_c, forms_f):
        assert a == b, os.path.basename(f)
    assert stats["hits"] >= 10  # most number-only variants were read from an entry (text changes mostly miss)


def test_the_replay_without_its_generated_builder_gives_the_same(monkeypatch, variants, seed_original):
    """The generated builder is the fast way; a form it does not make is copied and set by path. Both agree."""
    def no_builder(*a, **k):
        raise LC._NotCompiled("forced")

    monkeypatch.setattr(LC, "_compile_builder", no_builder)
    files = [seed_original] + variants
    (forms_c, reports_c, stats), (forms_f, reports_f, _) = _both(monkeypatch, files)
    assert reports_c == reports_f
    for f, a, b in zip(files, forms_c, forms_f):
        assert a == b, os.path.basename(f)
    assert stats["hits"] >= 5


def test_replayed_forms_share_no_container_with_the_entry_or_each_other(monkeypatch, variants, seed_original):
    """Rules and writers may set fields on a form: every dataclass, list and dict of a replayed form is its own."""
    monkeypatch.setattr(LC, "ENABLED", True)
    LC.clear()
    read_workbook(seed_original, fast=True)
    a, b = read_workbook(variants[0], fast=True), read_workbook(variants[1], fast=True)
    assert LC.stats["hits"] == 2
    entry = next(e for es in LC._entries.values() for e in es)

    def containers(obj, out):
        if isinstance(obj, Value) or isinstance(obj, (str, int, float, type(None))):
            return out
        if isinstance(obj, (list, dict)) or dataclasses.is_dataclass(obj) and not obj.__dataclass_params__.frozen:
            out.add(id(obj))
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            for f in dataclasses.fields(obj):
                containers(getattr(obj, f.name), out)
        elif isinstance(obj, (list, tuple)):
            for x in obj:
                containers(x, out)
        elif isinstance(obj, dict):
            for x in obj.values():
                containers(x, out)
        return out

    ca, cb, ce = containers(a, set()), containers(b, set()), containers(entry.form, set())
    assert len(ca) > 50 and not ca & cb and not ca & ce and not cb & ce
