"""Check a submitted 自评报告 against its workbook (PR6xx).

Clerks retype the tables' numbers into the prose; prose and tables drift apart. This finds the
statements that carry amounts, counts and rates ("“三公”经费为143.61万元", "实有116名",
"满意率97.24%"), the project list ("市长热线话务人员服务外包费415.94万元") and the tables the
report reproduces, and compares each with the workbook's facts (facts.gather). Findings point at
the report (sheet = report file name, cell = 第N段 / 表N第R行) and name the workbook cell.
"""
from __future__ import annotations

import difflib
import os
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ..catalog import RuleInfo, register
from ..errors import ReadError
from ..findings import Finding, Report, Severity
from ..model import Form
from .facts import Fact, Facts, clean_name, fmt_amount, gather, indicator_actual, plain
from .text import Block, ReportText, looks_like_path, load, squash

PR601 = register(RuleInfo(
    "PR601", "报告中的数字与工作簿不符",
    "报告正文或报告所附表格中的金额、人数、比率与工作簿不一致（按报告写出的小数位数允许四舍五入差异，"
    "且不小于设置中的容差 0.01）。例如正文写“接待费为1.19万元”，而三公经费情况表中公务接待费本年决算数为 1.91。"
    "报告中的数字应由表格生成或逐一核对，改正报告或工作簿中错误的一方。",
    Severity.ERROR, "报告"))
PR602 = register(RuleInfo(
    "PR602", "报告中的项目名称与工作簿不符",
    "报告列出的项目支出在基础数据表的项目支出中找不到同名项目：金额相同而名称不同（例如正文写“防非处非工作经费20万元”，"
    "表中第16行为“金融支出” 20），或名称与金额都对不上。审核人无法确认二者是否同一项目；应统一项目名称。",
    Severity.WARNING, "报告"))
PR603 = register(RuleInfo(
    "PR603", "报告遗漏工作簿中的数据",
    "按范本结构，报告应写明编制人数、实有人数、本年收入、本年支出、结余结转、“三公”经费合计及其构成、"
    "项目支出合计和每个有支出的项目，以及有无政府性基金、国有资本经营、社会保险基金支出；报告未写明其中某项时提示。",
    Severity.WARNING, "报告"))
PR604 = register(RuleInfo(
    "PR604", "报告缺少规定章节",
    "整体支出绩效自评报告应有十个部分：单位基本情况、一般公共预算支出情况、政府性基金预算支出情况、"
    "国有资本经营预算支出情况、社会保险基金预算支出情况、部门整体支出绩效情况、存在的问题及原因分析、"
    "下一步改进措施、绩效自评结果拟应用和公开情况、其他需要说明的情况。缺少某部分的标题时提示。",
    Severity.WARNING, "报告"))

REPORT_CODES = ("PR601", "PR602", "PR603", "PR604")

# ---- text normalization ---------------------------------------------------------------------------------

_FW = str.maketrans("０１２３４５６７８９．％－", "0123456789.%-")
NUM = r"(?<![\d.])(-?\d+(?:,\d{3})*(?:\.\d+)?)"
SEP = r"(?:为|是|共计|合计|总计|共|计|达到|达|约|：|:|\s)*"


def norm(text: str) -> str:
    """Full-width digits to ASCII, spaces removed; Chinese punctuation kept (it separates statements)."""
    return squash((text or "").translate(_FW))


def _dec(s: str) -> Decimal | None:
    try:
        return Decimal(s.replace(",", ""))
    except InvalidOperation:
        return None


def _name_key(name: str) -> str:
    t = unicodedata.normalize("NFKC", clean_name(name))
    return re.sub(r"[“”\"'‘’「」《》()（）:：]", "", t)


# ---- statements in prose ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pattern:
    key: str  # fact key (facts.gather) or "indicator:满意"
    label: str  # what the report states, in Chinese
    before: str  # regex before the number
    unit: str  # regex after the number
    section: str  # where the seed states it (for omissions)


PATTERNS: tuple[Pattern, ...] = (
    Pattern("staff_actual", "实际在职人数", r"(?:实际在职人数|实际在职人员|在职人数|在职人员|实有人数|实有)", r"(?:人|名)", "一、单位基本情况"),
    Pattern("staff_quota", "编制人数", r"编制(?:人数|数)?", r"(?:人|名)", "一、单位基本情况"),
    Pattern("income_total", "本年收入", r"本年(?:度)?(?:总)?收入(?:合计|总额)?", "万元", "二、一般公共预算支出情况"),
    Pattern("expenditure_total", "本年支出", r"本年(?:度)?(?:总)?支出(?:合计|总额)?", "万元", "二、一般公共预算支出情况"),
    Pattern("carryover_prev", "上年结余结转", r"上年(?:度)?(?:末)?结(?:余结转|转结余|余)(?:经费|资金)?", "万元",
            "二、一般公共预算支出情况"),
    Pattern("carryover_current", "本年结余结转", r"(?:本年(?:度)?(?:末)?|年末)结(?:余结转|转结余|余)(?:经费|资金)?", "万元",
            "二、一般公共预算支出情况"),
    Pattern("sg_total_actual", "“三公”经费", r"[“\"‘']?三公[”\"’']?经费(?:支出)?(?:总额|合计|决算数?)?", "万元",
            "二、一般公共预算支出情况"),
    Pattern("sg_abroad_actual", "出国费", r"(?:因公)?出国(?:（境）|\(境\))?(?:经费|费用|费)", "万元", "二、一般公共预算支出情况"),
    Pattern("sg_reception_actual", "接待费", r"(?:公务)?接待(?:经费|费用|费)", "万元", "二、一般公共预算支出情况"),
    Pattern("bd_car_purchase_actual", "公车购置费", r"(?:公务用车|公车|车辆)购置(?:经费|费用|费)", "万元",
            "二、一般公共预算支出情况"),
    Pattern("bd_car_maintenance_actual", "车辆运行维护费", r"(?:公务用车|公车|车辆)运行(?:及|和)?维护(?:经费|费用|费)",
            "万元", "二、一般公共预算支出情况"),
    Pattern("sg_car_actual", "公务用车运行及购置费",
            r"公务用车(?:运行(?:维护)?(?:及|和)购置|购置(?:及|和)运行(?:维护)?)(?:经费|费用|费)?", "万元", ""),
    Pattern("projects_total_actual", "项目支出", r"项目支出(?:共计|合计|总计|总额)?", "万元", "二、一般公共预算支出情况"),
    Pattern("funds_budget", "全年预算数", r"全年预算(?:数)?", "万元", ""),
    Pattern("funds_initial", "年初预算数", r"年初预算(?:数)?", "万元", ""),
    Pattern("funds_actual", "全年执行数", r"全年执行(?:数)?", "万元", ""),
    Pattern("execution_score", "执行率得分", r"执行率得分", "分", ""),
    Pattern("execution_rate", "预算执行率", r"(?:预算)?执行率", "%", ""),
    Pattern("total_score", "自评总分", r"(?:自评)?总分", "分", ""),
    Pattern("staff_rate", "在职人员控制率", r"在职人员控制率", "%", ""),
    Pattern("indicator:满意", "满意率", r"满意(?:率|度)", "%", ""),
)
_RATE = re.compile(r"([\u4e00-\u9fa5]{1,8}率)" + SEP + NUM + r"\s*%")
# Lines with a budget and a previous year: "“三公”经费预算153.96万元", "2023年“三公”经费104.44万元".
COLUMNED = ("sg_total_actual", "sg_abroad_actual", "sg_reception_actual", "bd_car_purchase_actual",
            "bd_car_maintenance_actual", "sg_car_actual", "projects_total_actual")
_COL = r"(?P<col>(?:上年度?|上一年度?)?(?:预算|决算)数?)?"
_COMPILED = [(p, re.compile(p.before + (_COL if p.key in COLUMNED else "") + SEP + NUM + r"\s*" + p.unit))
             for p in PATTERNS]
# the project list: "项目支出共计734.53万元，其中行政运行57.92万元，……。"
_PROJECT_LIST = re.compile(r"项目支出(?:共计|合计|总计|总额)?" + SEP + NUM + r"\s*万元[，,；;]?其中[：:，,]?([^。]*)")
# "行政运行57.92万元": found by its amount, the name is what precedes it back to a separator. (A regex with a
# lazy name before the amount was quadratic on a long clause without one: 32 KB took 20 s.)
_AMOUNT = re.compile(SEP + NUM + r"\s*万元")
_ITEM_SEPARATORS = "，,；;。"


def _items(text: str):
    """(name, amount text) of every "name SEP amount 万元" in text, left to right; linear in len(text)."""
    pos = 0
    for m in _AMOUNT.finditer(text):
        start = pos
        for sep in _ITEM_SEPARATORS:  # the name never crosses a separator
            k = text.rfind(sep, pos, m.start())
            if k >= start:
                start = k + 1
        pos = m.end()
        if start < m.start():
            yield text[start:m.start()], m.group(1)
_CLAUSE_END = re.compile(r"[，,。；;：:]")
CLAUSE_WINDOW = 200  # characters looked back for the clause of a statement

SECTIONS = (
    ("一、单位基本情况", "单位基本情况"),
    ("二、一般公共预算支出情况", "一般公共预算支出情况"),
    ("三、政府性基金预算支出情况", "政府性基金预算支出情况"),
    ("四、国有资本经营预算支出情况", "国有资本经营预算支出情况"),
    ("五、社会保险基金预算支出情况", "社会保险基金预算支出情况"),
    ("六、部门整体支出绩效情况", "部门整体支出绩效情况"),
    ("七、存在的问题及原因分析", "存在的问题"),
    ("八、下一步改进措施", "改进措施"),
    ("九、绩效自评结果拟应用和公开情况", "绩效自评结果"),
    ("十、其他需要说明的情况", "其他需要说明"),
)
NONE_TOPICS = (("gov_fund", "政府性基金", "三、政府性基金预算支出情况"),
               ("state_capital", "国有资本经营", "四、国有资本经营预算支出情况"),
               ("social_insurance", "社会保险基金", "五、社会保险基金预算支出情况"))
# omissions are reported for these (the seed states each of them)
EXPECTED = ("staff_quota", "staff_actual", "income_total", "expenditure_total", "carryover_prev", "carryover_current",
            "sg_total_actual", "sg_abroad_actual", "sg_reception_actual", "bd_car_purchase_actual",
            "bd_car_maintenance_actual", "projects_total_actual")


@dataclass(frozen=True)
class Statement:
    """A number the report states and what the workbook says of it (for `--verbose` and tests)."""

    where: str  # 第N段 / 表N第R行
    said: str  # the words as found: "出国费为4.87万元"
    key: str  # fact key, "project:行政运行", "indicator:满意"
    ok: bool | None  # True agrees, False disagrees, None nothing in the workbook to compare with
    workbook: str = ""  # the workbook's value, with its cell


class _Checker:
    def __init__(self, rt: ReportText, form: Form, settings):
        self.rt, self.form = rt, form
        self.facts: Facts = gather(form)
        self.tol = Decimal(str(getattr(settings, "tolerance", None) or "0.01"))
        self.findings: list[Finding] = []
        self.seen: set[str] = set()  # fact keys the prose states
        self.sheet = rt.name
        self.statements: list[Statement] = []
        self.listed: set[int] | None = None  # project lines the prose lists (None: no list found)
        self.heads: dict[str, Block | None] = {}  # section title -> its heading paragraph

    # -- helpers
    def add(self, code: str, where: str, message: str, expected=None, actual=None, severity=None):
        sev = severity or {"PR601": PR601, "PR602": PR602, "PR603": PR603, "PR604": PR604}[code].severity
        self.findings.append(Finding(code, sev, self.sheet, where, message, expected, actual))

    def close(self, stated: Decimal, value: Decimal | None, stated_text: str, percent: bool = False) -> bool:
        """Equal up to the stated precision (a report may round) and never tighter than the tolerance."""
        if value is None:
            return False
        decimals = len(stated_text.split(".")[1]) if "." in stated_text else 0
        tol = max(self.tol, Decimal(5) * Decimal(10) ** -(decimals + 1))
        if percent:
            return abs(stated - value * 100) <= tol
        return abs(stated - value) <= tol

    @staticmethod
    def _show(fact: Fact) -> str:
        if fact.value is None:
            return "空"
        return fact.text() + ("" if fact.unit == "%" else fact.unit)

    # -- prose
    def prose(self):
        for blk in self.rt.paragraphs():
            text = norm(blk.text)
            taken = bytearray(len(text) + 1)  # 1 where a number already belongs to a statement: O(1) a look
            m = _PROJECT_LIST.search(text)
            if m:
                self._project_items(blk, m.group(2))
                taken[m.start(2):m.end(2)] = b"\1" * (m.end(2) - m.start(2))
            for pat, rx in _COMPILED:
                g = rx.groups  # the number is the pattern's last group
                for mm in rx.finditer(text):
                    s, e = mm.start(g), mm.end(g)
                    if taken[s]:
                        continue
                    taken[s:e] = b"\1" * (e - s)
                    self._statement(blk, pat, mm.group(0), mm.group(g), self._column(pat, mm, text))
            for mm in _RATE.finditer(text):
                if taken[mm.start(2)]:
                    continue
                self._rate(blk, mm.group(1), mm.group(0), mm.group(2))

    def _column(self, pat: Pattern, mm, text: str) -> str:
        """Which column a statement names: budget when it says 预算, the previous year when its clause says so."""
        if pat.key not in COLUMNED:
            return pat.key
        col = mm.group("col") or ""
        before = text[max(0, mm.start() - CLAUSE_WINDOW):mm.start()]  # a bounded look back: linear overall
        clause = _CLAUSE_END.split(before)[-1] + col
        prev_year = f"{self.facts.year - 1}年" if self.facts.year else "上年"
        if "上年" in clause or "上一年" in clause or prev_year in clause:
            return pat.key.replace("_actual", "_prev")
        if "预算" in col:
            return pat.key.replace("_actual", "_budget")
        return pat.key

    def _statement(self, blk: Block, pat: Pattern, said: str, num: str, key: str | None = None):
        stated = _dec(num)
        if pat.key.startswith("indicator:"):
            self._indicator_rate(blk, pat.key.split(":")[1], said, num)
            return
        key = key or pat.key
        fact = self.facts.values.get(key)
        if fact is None or stated is None:
            return
        self.seen.add(key)
        ok = None if fact.value is None else self.close(stated, fact.value, num, percent=fact.unit == "%")
        self.statements.append(Statement(blk.where, said, key, ok, f"{fact.where}={self._show(fact)}"))
        if ok is False:
            self.add("PR601", blk.where,
                     f"报告{blk.where}“{said}”与工作簿不符：{fact.label}（{fact.where}）为{self._show(fact)}",
                     self._show(fact), said[said.rfind(num):])

    def _indicator_rate(self, blk: Block, stem: str, said: str, num: str):
        for ind in self.form.self_eval.indicators:
            name = plain(ind.name)
            if stem in name:
                value = indicator_actual(plain(ind.target), plain(ind.actual))
                stated = _dec(num)
                ok = None if value is None or stated is None else self.close(stated, value, num, percent=True)
                self.statements.append(Statement(blk.where, said, f"indicator:{stem}", ok,
                                                 f"{ind.actual.loc or '绩效自评表'}={plain(ind.actual)}"))
                if ok is False:
                    loc = ind.actual.loc
                    self.add("PR601", blk.where,
                             f"报告{blk.where}“{said}”与工作簿不符：绩效指标“{name}”的实际完成值"
                             f"（{loc or '绩效自评表'}）为{plain(ind.actual)}",
                             plain(ind.actual), f"{num}%")
                return

    def _rate(self, blk: Block, term: str, said: str, num: str):
        """A rate the patterns do not know: compared only with an indicator that names it."""
        if len(term) >= 3:
            stem = term[-3:]
            if any(stem in plain(i.name) for i in self.form.self_eval.indicators):
                self._indicator_rate(blk, stem, said, num)

    # -- the project list
    def _project_items(self, blk: Block, items_text: str):
        items = []
        for raw, num in _items(items_text):
            name = re.sub(r"^(?:其中|以及|和|及|、|：|:)+", "", raw)
            amount = _dec(num)
            if name and amount is not None:
                items.append((name, amount, num))
        projects = list(self.facts.projects)
        used: set[int] = set()
        left = []
        for name, amount, num in items:  # 1. same name and amount
            key = _name_key(name)
            hit = next((p for p in projects if p.index not in used and _name_key(p.name) == key
                        and self.close(amount, p.actual.value, num)), None)
            if hit is None and len(key) >= 4:  # a shortened name with the line's amount
                hit = next((p for p in projects if p.index not in used and (key in _name_key(p.name))
                            and self.close(amount, p.actual.value, num)), None)
            if hit:
                used.add(hit.index)
                self.statements.append(Statement(blk.where, f"{name}{num}万元", f"project:{hit.name}", True,
                                                 f"{hit.actual.where}={self._show(hit.actual)}"))
            else:
                left.append((name, amount, num))
        left2 = []
        for name, amount, num in left:  # 2. same name, another amount
            key = _name_key(name)
            hit = next((p for p in projects if p.index not in used and _name_key(p.name) == key), None)
            if hit:
                used.add(hit.index)
                self.statements.append(Statement(blk.where, f"{name}{num}万元", f"project:{hit.name}", False,
                                                 f"{hit.actual.where}={self._show(hit.actual)}"))
                self.add("PR601", blk.where,
                         f"报告{blk.where}写“{name}{num}万元”，与工作簿不符：{hit.actual.label}"
                         f"（{hit.actual.where}）为{self._show(hit.actual)}",
                         self._show(hit.actual), f"{num}万元")
            else:
                left2.append((name, amount, num))
        for name, amount, num in left2:  # 3. same amount, another name; else not found
            cands = [p for p in projects if p.index not in used and self.close(amount, p.actual.value, num)]
            if cands:
                hit = max(cands, key=lambda p: difflib.SequenceMatcher(None, _name_key(name), _name_key(p.name)).ratio())
                used.add(hit.index)
                self.statements.append(Statement(blk.where, f"{name}{num}万元", f"project:{hit.name}", False,
                                                 f"{hit.loc}={hit.name}"))
                self.add("PR602", blk.where,
                         f"报告{blk.where}列出的项目“{name}”（{num}万元）在工作簿中名为“{hit.name}”"
                         f"（基础数据表项目支出第{hit.index}行，{hit.loc or '基础数据表'}，{fmt_amount(hit.actual.value)}万元），"
                         f"名称不一致", hit.name, name)
            else:
                self.statements.append(Statement(blk.where, f"{name}{num}万元", "project:", False, ""))
                self.add("PR602", blk.where,
                         f"报告{blk.where}列出的项目“{name}”（{num}万元）在基础数据表的项目支出中找不到"
                         f"（名称和金额都对不上）", None, f"{name}{num}万元")
        self.listed = (self.listed or set()) | used

    # -- tables the report reproduces
    def tables(self):
        for blk in self.rt.tables():
            flat = squash("".join("".join(r) for r in blk.rows))
            if "因公出国经费" in flat:
                self._three_public(blk)
            elif "经费控制情况" in flat or "财政供养人员情况" in flat:
                self._basic(blk)
            elif "年度资金总额" in flat:
                self._self_eval(blk)

    @staticmethod
    def _cell_num(text: str) -> tuple[Decimal | None, str]:
        t = norm(text).rstrip("%")
        if t in ("", "—", "——", "-", "－", "/", "无"):
            return None, ""
        m = re.fullmatch(NUM, t)
        return (_dec(t), t) if m else (None, "?")

    def _compare_cell(self, blk: Block, r: int, label: str, key: str, text: str):
        fact = self.facts.values.get(key)
        if fact is None or (fact.value is None and not fact.readable):
            return  # the workbook's cell is missing or unreadable: the workbook checks say so
        n, shown = self._cell_num(text)
        if shown == "?":
            return  # not a number: nothing to compare
        where = f"表{blk.number}第{r + 1}行"
        ok = self._cell_agrees(n, shown, fact)
        self.statements.append(Statement(where, f"{label}：{text.strip()}", key, ok, f"{fact.where}={self._show(fact)}"))
        if not ok:
            said = text.strip() or "空"
            self.add("PR601", where, f"报告{where}“{label}”为{said}，与工作簿不符：{fact.label}（{fact.where}）为"
                     f"{self._show(fact)}", self._show(fact), said)

    def _cell_agrees(self, n, shown, fact) -> bool:
        if n is None:
            return fact.value is None or fact.value == 0
        if fact.value is None:
            return n == 0
        return self.close(n, fact.value, shown, percent=fact.unit == "%")

    def _label_rows(self, blk: Block):
        """(row index, label, values after the label). A label alone on its row takes the next row, whose first
        cell is blank, as its values: text extraction split the row at a blank line inside the label's cell."""
        rows = blk.rows
        for r, row in enumerate(rows):
            label = squash(row[0]) if row else ""
            values = row[1:]
            if label and not values and r + 1 < len(rows) and rows[r + 1] and not squash(rows[r + 1][0]):
                values = rows[r + 1]
            yield r, label, values

    def _three_public(self, blk: Block):
        lines = {"因公出国经费": "abroad", "公务用车运行及购置": "car", "公务接待费": "reception", "合计": "total"}
        cols = ("actual", "budget", "diff_budget", "prev", "diff_prev", "pct")
        heads = ("本年决算数", "本年预算数", "比预算增减数", "上年决算数", "比上年增减数", "增减%")
        for r, label, values in self._label_rows(blk):
            line = lines.get(label)
            if not line:
                continue
            for col, head, text in zip(cols, heads, values):
                self._compare_cell(blk, r, f"{label}{head}", f"sg_{line}_{col}", text)

    BASIC_ROWS = {"三公经费": "bd_sg_total", "公务用车购置和维护经费": "bd_car", "公车购置": "bd_car_purchase",
                  "公车运行维护": "bd_car_maintenance", "出国经费": "bd_abroad", "公务接待": "bd_reception",
                  "项目支出": "projects_total", "公用经费": "bd_public_total", "办公费": "bd_public_office",
                  "水费、电费、差旅费": "bd_public_utilities_travel", "会议费、培训费": "bd_public_meetings_training",
                  "政府采购金额": "bd_procurement", "部门基本支出预算调整": "bd_basic_adjustment"}

    def _basic(self, blk: Block):
        rows = blk.rows
        in_projects = False
        projects = {p.index: p for p in self.facts.projects}
        used: set[int] = set()
        for r, label, values in self._label_rows(blk):
            if "编制数" in squash("".join(rows[r])) and r + 1 < len(rows):
                nxt = rows[r + 1]
                for key, text, head in zip(("staff_quota", "staff_actual", "staff_rate"), nxt[1:],
                                           ("编制数", "实际在职人数", "控制率")):
                    self._compare_cell(blk, r + 1, head, key, text)
                continue
            numbered = re.match(r"^\d{1,3}[、.．]", label) is not None
            key = self.BASIC_ROWS.get(re.sub(r"^其中[：:]", "", clean_name(label)).rstrip("：:"))
            if key and not (in_projects and numbered):  # "7、公用经费" is a project, "公用经费" the fixed line
                in_projects = key == "projects_total"
                for col, head, text in zip(("prev", "budget", "actual"), ("上年决算数", "本年预算数", "本年决算数"),
                                           values[-3:] if len(values) >= 3 else values):
                    self._compare_cell(blk, r, f"{label.rstrip('：:')}{head}", f"{key}_{col}", text)
                continue
            if not in_projects or not label:
                continue
            nums = [self._cell_num(t) for t in values[-3:]]
            name = clean_name(label)
            if all(n is None for n, _ in nums) or name.startswith("…") or "一个专项一行" in name:
                continue  # a blank placeholder line of the form
            m = re.match(r"^(\d{1,3})[、.．]", label)
            same_line = projects.get(int(m.group(1))) if m else None
            if same_line is not None and _name_key(same_line.name) == _name_key(name):
                hit = same_line  # the same line number and name (two lines may share a name)
            else:
                hit = next((p for p in self.facts.projects if p.index not in used
                            and _name_key(p.name) == _name_key(name)), None)
            if hit is None and same_line is not None:
                hit = same_line
                if _name_key(hit.name) != _name_key(name):
                    where = f"表{blk.number}第{r + 1}行"
                    self.add("PR602", where, f"报告{where}的项目“{name}”在工作簿项目支出第{hit.index}行"
                             f"（{hit.loc or '基础数据表'}）名为“{hit.name}”，名称不一致", hit.name, name)
            if hit is None:
                where = f"表{blk.number}第{r + 1}行"
                self.add("PR602", where, f"报告{where}的项目“{name}”在基础数据表的项目支出中找不到", None, name)
                continue
            used.add(hit.index)
            for (col, head), text in zip((("prev", "上年决算数"), ("budget", "本年预算数"), ("actual", "本年决算数")),
                                         values[-3:]):
                self._compare_cell(blk, r, f"{name}{head}", f"project{hit.index}_{col}", text)

    def _self_eval(self, blk: Block):
        singles = {"一般公共预算": "income_general", "政府性基金拨款": "income_gov_fund",
                   "纳入专户管理的非税收入拨款": "income_special", "其他资金": "income_other",
                   "基本支出": "exp_basic", "项目支出": "exp_project"}
        indicators = {}
        for i, ind in enumerate(self.form.self_eval.indicators):
            name = squash(plain(ind.name))
            if name and name != "不适用":
                indicators.setdefault(name, ind)
        for r, row in enumerate(blk.rows):
            cells = [squash(c) for c in row]
            for c, cell in enumerate(cells):
                if cell == "年度资金总额":
                    keys = ("funds_initial", "funds_budget", "funds_actual", "funds_points", "execution_rate",
                            "execution_score")
                    heads = ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")
                    for key, head, text in zip(keys, heads, row[c + 1:]):
                        self._compare_cell(blk, r, head, key, text)
                    break
                if cell == "总分":
                    for key, head, text in zip(("points_total", "total_score"), ("分值合计", "总分"), row[c + 1:]):
                        self._compare_cell(blk, r, head, key, text)
                    break
                m = re.fullmatch(r"(?:其中[：:])?(" + "|".join(singles) + r")[：:]?(.*)", cell)
                if m:
                    text = m.group(2)
                    if not text and c + 1 < len(cells) and self._cell_num(cells[c + 1])[1] != "?":
                        text = cells[c + 1]
                    self._compare_cell(blk, r, m.group(1), singles[m.group(1)], text)
                    continue
                ind = indicators.get(cell)
                if ind is not None and len(row) >= c + 5:
                    self._indicator_row(blk, r, ind, row[c + 1:c + 5])
                    break

    def _indicator_row(self, blk: Block, r: int, ind, cells: list[str]):
        where = f"表{blk.number}第{r + 1}行"
        name = plain(ind.name)
        target = plain(ind.target)
        for text, v, head in zip(cells, (ind.target, ind.actual), ("年度指标值", "实际完成值")):
            same = norm(unicodedata.normalize("NFKC", text)) == norm(unicodedata.normalize("NFKC", plain(v)))
            if not same and head == "实际完成值":  # "99.06%" and 0.9906 are the same completion
                a, b = indicator_actual(target, text), indicator_actual(target, plain(v))
                same = a is not None and b is not None and abs(a - b) <= self.tol / 100
            self.statements.append(Statement(where, f"{name}{head}：{text.strip()}", f"indicator:{name}", same,
                                             f"{v.loc or '绩效自评表'}={plain(v)}"))
            if same:
                continue
            self.add("PR601", where, f"报告{where}指标“{name}”的{head}为“{text.strip()}”，与工作簿不符："
                     f"{v.loc or '绩效自评表'}为“{plain(v)}”", plain(v), text.strip())
        for text, v, head in zip(cells[2:], (ind.points, ind.score), ("分值", "自评得分")):
            n, shown = self._cell_num(text)
            if shown == "?":
                continue
            val = v.num
            same = (n is None and val is None) or (n is not None and self.close(n, val, shown)) or \
                (n is None and val == 0) or (val is None and n == 0)
            self.statements.append(Statement(where, f"{name}{head}：{text.strip()}", f"indicator:{name}", same,
                                             f"{v.loc or '绩效自评表'}={fmt_amount(val) if val is not None else '空'}"))
            if same:
                continue
            self.add("PR601", where, f"报告{where}指标“{name}”的{head}为{text.strip() or '空'}，与工作簿不符："
                     f"{v.loc or '绩效自评表'}为{fmt_amount(val) if val is not None else '空'}",
                     fmt_amount(val) if val is not None else "空", text.strip() or "空")

    # -- structure and omissions
    def structure(self):
        paras = self.rt.paragraphs()
        heads = {}
        for title, kw in SECTIONS:
            hit = next((p for p in paras if kw in squash(p.text) and len(squash(p.text)) <= len(title) + 6), None)
            heads[title] = hit
            if hit is None:
                self.add("PR604", "", f"报告缺少“{title}”部分（找不到含“{kw}”的标题）", title, None)
        self.heads = heads
        prose = norm(self.rt.plain)
        for key, topic, section in NONE_TOPICS:
            has = self.facts.none_statements.get(key)
            says_none = re.search(r"无" + topic, prose) is not None
            says_has = re.search(r"有" + topic, prose) is not None
            where = self._where(section)
            if has is False and not says_none:
                self.add("PR603", where, f"报告未写明本单位无{topic}支出（工作簿报告正文为“无”），"
                         f"范本在“{section}”中写“{self._y()}年度本单位无{topic}支出。”", f"无{topic}支出", None)
            elif has is True and says_none:
                self.add("PR601", where, f"报告称无{topic}支出，与工作簿不符：报告正文中填写为“有”", "有", "无")

    def _y(self) -> str:
        return str(self.facts.year) if self.facts.year else ""

    def _where(self, section: str) -> str:
        h = self.heads.get(section)
        return h.where if h else ""

    def omissions(self):
        for key in EXPECTED:
            fact = self.facts.values.get(key)
            if fact is None or fact.value is None or key in self.seen:
                continue
            pat = next(p for p in PATTERNS if p.key == key)
            self.add("PR603", self._where(pat.section),
                     f"报告未写明{pat.label}（工作簿 {fact.where}：{self._show(fact)}），范本在“{pat.section}”中写明此数",
                     self._show(fact), None)
        listed = self.listed
        if listed is None:
            if any(p.actual.value for p in self.facts.projects) and "projects_total_actual" in self.seen:
                self.add("PR603", self._where("二、一般公共预算支出情况"),
                         "报告写了项目支出合计，但没有逐项列出项目及金额（范本写“其中××万元，××万元……”）", None, None)
            return
        for p in self.facts.projects:
            if p.index not in listed and p.actual.value:
                self.add("PR603", self._where("二、一般公共预算支出情况"),
                         f"报告的项目支出清单遗漏“{p.name}”（基础数据表项目支出第{p.index}行，{p.actual.where}："
                         f"{fmt_amount(p.actual.value)}万元）", f"{p.name}{fmt_amount(p.actual.value)}万元", None)


def _run(report_path_or_text, form: Form, settings=None):
    document = isinstance(report_path_or_text, os.PathLike) or looks_like_path(report_path_or_text)
    label = os.fspath(report_path_or_text) if document else "报告"
    try:
        rt = load(report_path_or_text)
    except ReadError as e:
        return Report(str(label), error=e.reason), None
    ck = _Checker(rt, form, settings)
    ck.structure()
    if document and not any(ck.heads.values()):  # a document that is no report at all: an error, not a pass
        return Report(str(label), error="不是部门整体支出绩效自评报告：找不到任何一个应有的部分标题（如“"
                      + SECTIONS[0][0] + "”“" + SECTIONS[5][0] + "”），无法核对"), None
    ck.prose()
    ck.tables()
    ck.omissions()
    findings = _select(ck.findings, settings)
    findings.sort(key=lambda f: (_order(f.cell), f.code))
    # no Metrics: the workbook's scores are `perfeval check`'s business, not the report's
    return Report(str(label), findings=findings), ck


def statements(report_path_or_text, form: Form, settings=None) -> list[Statement]:
    """Every number the report states that was compared, with the verdict (empty when unreadable)."""
    _, ck = _run(report_path_or_text, form, settings)
    return ck.statements if ck else []


def check_report(report_path_or_text, form: Form, settings=None) -> Report:
    """Compare a report (.docx path, .txt path, or the text itself) with the workbook's form.

    Never raises for a bad report: Report.error holds the Chinese reason.
    """
    return _run(report_path_or_text, form, settings)[0]


def _order(cell: str) -> tuple:
    m = re.match(r"第(\d+)段", cell)
    if m:
        return (0, int(m.group(1)), 0)
    m = re.match(r"表(\d+)第(\d+)行", cell)
    if m:
        return (1, int(m.group(1)), int(m.group(2)))
    return (2, 0, 0)


def _select(findings: list[Finding], settings) -> list[Finding]:
    """The settings' rule selection and severity overrides apply to report codes as to workbook codes."""
    if settings is None:
        return findings
    select = tuple(getattr(settings, "select", ()) or ())
    ignore = tuple(getattr(settings, "ignore", ()) or ())
    sev = dict(getattr(settings, "severity", {}) or {})
    out = []
    for f in findings:
        if select and not any(f.code.startswith(s) for s in select):
            continue
        if any(f.code.startswith(s) for s in ignore):
            continue
        if f.code in sev:
            f = Finding(f.code, Severity(sev[f.code]), f.sheet, f.cell, f.message, f.expected, f.actual)
        out.append(f)
    return out


__all__ = ["check_report", "statements", "Statement", "REPORT_CODES"]
