"""Recognition before judgement: which family a workbook (and each of its sheets) is, from its labels.

Pure over a Grid: reads no file, judges nothing about the values. A workbook matching no family well
is refused by the caller with "不是已知的绩效自评表样：……".
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..values import norm_label
from .families import FAMILIES, Family

THRESHOLD = 0.45  # share of a family's mark weight that must be present
ANTI_PENALTY = 0.35  # a sheet holding a fragment that rules the family out keeps this share of its score
_OUR_SHEETS = ("校验结果", "校验标记", "设置")


@dataclass
class Recognition:
    family: Family | None
    confidence: float
    sheets: list[str] = field(default_factory=list)  # the sheets holding the family's forms, in order
    scores: dict[str, float] = field(default_factory=dict)  # family key -> workbook score
    per_sheet: dict[str, dict[str, float]] = field(default_factory=dict)  # family key -> sheet -> score

    def other_forms(self, used: set[str]) -> list[tuple[Family, list[str]]]:
        """Sheets the chosen family does not use that are project (or other one-sheet) forms of their own:
        a 部门整体 workbook often carries its projects' 项目支出绩效自评表 too."""
        out, taken = [], set(used)
        ranked = sorted(self.per_sheet.items(), key=lambda kv: -max(kv[1].values(), default=0))
        for key, ss in ranked:
            if self.family is not None and key == self.family.key:
                continue
            sheets = [n for n, v in ss.items() if v >= THRESHOLD and n not in taken
                      and v >= max((o.get(n, 0) for o in self.per_sheet.values()), default=0)]
            if sheets:
                out.append((FAMILIES[key], sheets))
                taken |= set(sheets)
        return out

    def reason(self) -> str:
        """Why nothing was recognised (Chinese), naming the closest family."""
        if not self.scores:
            return "工作簿中没有可读的工作表"
        key, best = max(self.scores.items(), key=lambda kv: kv[1])
        if best < 0.15:
            return "未找到任何已知表样的标志性标签（年度资金总额、因公出国经费、项目名称、三级指标等）"
        return (f"最接近“{FAMILIES[key].title}”，但只有 {best:.0%} 的标志性标签相符（至少需要 {THRESHOLD:.0%}）；"
                "未找到年度资金总额、因公出国经费、项目名称、三级指标等表头")


def norm_cells(sg) -> dict[tuple[int, int], str]:
    """(row, col) -> normalised text of every text cell of a sheet, computed once per sheet (the recogniser
    and the family reader both use it)."""
    got = getattr(sg, "_norm_cells", None)
    if got is None:
        got = {}
        for r, row in enumerate(sg.rows, start=1):
            for c, v in enumerate(row, start=1):
                if v.__class__ is str and v:
                    t = norm_label(v)
                    if t:
                        got[(r, c)] = t
        sg._norm_cells = got
    return got


def sheet_text(sg) -> str:
    """The sheet's short cells (labels, not prose), normalised and joined."""
    return "\x00".join(t for t in norm_cells(sg).values() if len(t) <= 40)


def score(family: Family, text: str) -> float:
    total = sum(w for _, w in family.marks) or 1.0
    got = sum(w for m, w in family.marks if m in text)
    s = got / total
    if any(a in text for a in family.anti):
        s *= ANTI_PENALTY
    return s


def recognise(grid, force: str | None = None) -> Recognition:
    """The family of a workbook. force: a family key (--form) that skips the choice."""
    texts = {name: sheet_text(sg) for name, sg in grid.sheets.items() if name.strip() not in _OUR_SHEETS}
    texts = {n: t for n, t in texts.items() if t}
    scores: dict[str, float] = {}
    per_sheet: dict[str, dict[str, float]] = {}
    for key, fam in FAMILIES.items():
        if fam.reader == "generic":  # one form per sheet (or several stacked): judge sheet by sheet
            ss = {n: score(fam, t) for n, t in texts.items()}
            per_sheet[key] = ss
            scores[key] = max(ss.values(), default=0.0)
        else:  # tables spread over sheets: judge the workbook as a whole, leaving out the sheets that are
            # another family's (a project form sent inside a 部门整体 workbook)
            own = "\x00".join(t for t in texts.values() if not any(a in t for a in fam.anti))
            scores[key] = score(fam, own)
    if force:
        fam = FAMILIES[force]
        sheets = _sheets_for(fam, per_sheet.get(fam.key), texts, lenient=True)
        return Recognition(fam, scores.get(force, 0.0), sheets, scores, per_sheet)
    key, best = max(scores.items(), key=lambda kv: kv[1])
    if best < THRESHOLD:
        return Recognition(None, best, [], scores, per_sheet)
    fam = FAMILIES[key]
    return Recognition(fam, round(best, 2), _sheets_for(fam, per_sheet.get(key), texts), scores, per_sheet)


def _sheets_for(fam: Family, ss: dict[str, float] | None, texts: dict[str, str], lenient: bool = False) -> list[str]:
    if ss is None:
        return list(texts)
    floor = 0.2 if lenient else THRESHOLD
    return [n for n, s in ss.items() if s >= floor]
