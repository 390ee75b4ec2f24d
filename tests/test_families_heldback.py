"""Acceptance on the held-back forms (tests/families/heldback.py): never tuned against. It prints, per form,
what was read and how many planted faults were found, and lists every other finding for a reviewer to judge
(`pytest -s tests/test_families_heldback.py`). It fails only when a form is not read at all."""
from __future__ import annotations

import os

from families import heldback

from perfeval_xl.pipeline import CheckOptions, check_file


def test_heldback_forms(tmp_path, capsys):
    rows = []
    for fx in heldback.build_all(str(tmp_path)):
        r = check_file(fx.path, CheckOptions(fast=True))
        assert r.error is None, (fx.path, r.error)
        units = r.parts or [r]
        found = set()
        for u in units:
            found |= {(f.code, f"{f.sheet}!{f.cell}" if f.sheet else "") for f in u.findings}
        hit = [x for x in fx.faults if x in found]
        others = sorted(f"{c}@{w}" for c, w in found if (c, w) not in fx.faults)
        m = units[0].metrics
        rows.append((os.path.basename(fx.path), r.form == fx.family, fx.unit in (m.department or ""),
                     m.year == fx.year, len(hit), len(fx.faults), others))
    with capsys.disabled():
        print("\nheld-back forms: family · unit · year · planted found · other findings")
        for name, fam, unit, year, k, n, others in rows:
            print(f"  {name}: family {'ok' if fam else 'WRONG'} · unit {'ok' if unit else 'no'} · "
                  f"year {'ok' if year else 'no'} · {k}/{n} · {', '.join(others) or '—'}")
