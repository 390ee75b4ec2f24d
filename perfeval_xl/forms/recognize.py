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

    def reason(self) -> str:
        """Why nothing was recognised (Chinese), naming the closest family."""
        if not self.scores:
            return "工作簿中没有可读的工作表"
        key, best = max(self.scores.items(), key=lambda kv: kv[1])
        if best < 0.15:
            return "未找到任何已知表样的标志性标签（年度资金总额、因公出国经费、项目名称、三级指标等）"
        return (f"最接近“{FAMILIES[key].title}”，但只有 {best:.0%} 的标志性标签相符（至少需要 {THRESHOLD:.0%}）；"
                "未找到年度资金总额、因公出国经费、项目名称、三级指标等表头")


def sheet_text(rows) -> str:
    """The sheet's short cells (labels, not prose), normalised and joined."""
    out = []
    for row in rows:
        for v in row:
            if isinstance(v, str) and v:
                t = norm_label(v)
                if t and len(t) <= 40:
                    out.append(t)
    return "\x00".join(out)


def score(family: Family, text: str) -> float:
    total = sum(w for _, w in family.marks) or 1.0
    got = sum(w for m, w in family.marks if m in text)
    s = got / total
    if any(a in text for a in family.anti):
        s *= ANTI_PENALTY
    return s


def recognise(grid, force: str | None = None) -> Recognition:
    """The family of a workbook. force: a family key (--form) that skips the choice."""
    texts = {name: sheet_text(sg.rows) for name, sg in grid.sheets.items() if name.strip() not in _OUR_SHEETS}
    texts = {n: t for n, t in texts.items() if t}
    whole = "\x00".join(texts.values())
    scores: dict[str, float] = {}
    per_sheet: dict[str, dict[str, float]] = {}
    for key, fam in FAMILIES.items():
        if fam.reader == "generic":  # one form per sheet (or several stacked): judge sheet by sheet
            ruled_out = any(a in whole for a in fam.anti)  # …but a fragment anywhere in the book rules it out
            ss = {n: score(fam, t) * (ANTI_PENALTY if ruled_out and not any(a in t for a in fam.anti) else 1)
                  for n, t in texts.items()}
            per_sheet[key] = ss
            scores[key] = max(ss.values(), default=0.0)
        else:  # tables spread over sheets: judge the workbook as a whole
            scores[key] = score(fam, whole)
    if force:
        fam = FAMILIES[force]
        sheets = _sheets_for(fam, per_sheet.get(fam.key), texts, lenient=True)
        return Recognition(fam, scores.get(force, 0.0), sheets, scores)
    key, best = max(scores.items(), key=lambda kv: kv[1])
    if best < THRESHOLD:
        return Recognition(None, best, [], scores)
    fam = FAMILIES[key]
    return Recognition(fam, round(best, 2), _sheets_for(fam, per_sheet.get(key), texts), scores)


def _sheets_for(fam: Family, ss: dict[str, float] | None, texts: dict[str, str], lenient: bool = False) -> list[str]:
    if ss is None:
        return list(texts)
    floor = 0.2 if lenient else THRESHOLD
    return [n for n, s in ss.items() if s >= floor]
