"""Every threshold a rule uses, with defaults, and where overrides come from.

The bureau owns the settings. Its file is an explicit --config file, else perfeval.toml (or a pyproject.toml
with [tool.perfeval]) in the directory the command is run from (the current working directory) -- never a
file found beside a workbook or anywhere inside the inbox, where a department could put one.
Order: defaults <- the bureau's file <- the workbook's 设置 sheet (Form.settings_overrides), which may only
make checks STRICTER (lower tolerances, a higher 执行率下限, more vague words...), key by key, unless the
bureau's file lists the key in sheet_may_relax (设置表可放宽). Keys without a "stricter" direction (weights,
grade bands, formulas, phone formats, today) and rule selection/severity are never taken from the sheet
unless allowed (select/ignore/severity never). What the sheet changed, and what it tried and was not applied,
is kept in Settings.sheet_notes (reported as PE417: applied = info, refused = warning).
Rule codes are checked against the catalog by the caller (pipeline / CLI): settings know no rules.
Keys may be the English field names below or their Chinese labels (SETTING_LABELS).
"""
from __future__ import annotations

import copy
import dataclasses
import difflib
import os
import re
import stat
import time
import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from .errors import ConfigError

D = Decimal

DEFAULT_VAGUE_WORDS = (
    "提高", "改善", "提升", "加强", "有效", "明显", "显著", "进一步", "较好", "良好", "稳步", "持续", "逐步", "不断",
    "大幅", "积极", "充分", "基本",
)
DEFAULT_NO_REASON = ("无", "无。", "-", "－", "—", "——", "/", "／", "、", "暂无", "没有", "无偏差", "不适用", "0")
DEFAULT_PHONE_PATTERNS = (
    r"^(\+?86)?1[3-9]\d{9}$",  # mobile
    r"^(\(?0\d{2,3}\)?-?)?[2-9]\d{6,7}(-\d{1,6})?$",  # landline, optional area code and extension
    r"^(400|800)-?\d{3}-?\d{4}$",
)


@dataclass
class Settings:
    # arithmetic
    tolerance: Decimal = D("0.01")  # per term of a sum: n terms -> n × tolerance ...
    tolerance_max: Decimal = D("0.10")  # ... but never more than this (a 2000-row list must not allow 20 万元)
    # scoring
    reverse_formula: str = "linear"  # "linear" | "ratio" (domain.md §2)
    over_achievement: Decimal = D("0.30")  # 偏离度 at which 偏差原因 must explain
    grade_bands: tuple[tuple[str, Decimal], ...] = (("优", D(90)), ("良", D(80)), ("中", D(60)), ("差", D(0)))
    weight_execution: Decimal = D(10)
    weight_output: Decimal = D(50)
    weight_effect: Decimal = D(30)
    weight_satisfaction: Decimal = D(10)
    weight_effect_no_satisfaction: Decimal = D(40)
    total_points: Decimal = D(100)
    # variances
    low_execution: Decimal = D("0.90")  # 执行率 below this: warning
    reason_required_low_execution: bool = True
    # PE409: where the reason for a low 执行率 may stand (the form has no reason cell on that row):
    # a line whose 二级指标 contains one of these, or whose 三级指标 contains one of the keywords
    execution_reason_level2: tuple[str, ...] = ("成本",)
    execution_reason_keywords: tuple[str, ...] = ("预算", "执行", "支出", "资金")
    reason_required_over_achievement: bool = True
    item_over_budget: Decimal = D("0.10")  # 公用经费 items and project lines
    budget_adjustment: Decimal = D("0.20")  # 预算调整率 above this: warning
    yoy_change: Decimal = D("0.30")  # |增减%| beyond this: info
    staff_control_max: Decimal = D("1.00")  # 在职人员控制率 above this: warning
    # completeness
    vague_words: tuple[str, ...] = DEFAULT_VAGUE_WORDS
    no_reason_words: tuple[str, ...] = DEFAULT_NO_REASON
    phone_patterns: tuple[str, ...] = DEFAULT_PHONE_PATTERNS
    today: date | None = None  # injectable for tests; None means the real today
    # rule selection, from a settings file (the CLI adds its own)
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)  # code -> error|warning|info
    # what the workbook's 设置 sheet did: (key as written, value as written, None if applied else why not)
    sheet_notes: tuple[tuple[str, str, str | None], ...] = ()
    bureau_keys: frozenset[str] = frozenset()  # the fields the bureau's settings file set
    # keys the bureau lets a 设置 sheet change in either direction (default: only stricter)
    sheet_may_relax: tuple[str, ...] = ()

    def sum_tolerance(self, n: int) -> Decimal:
        """Allowed difference of a sum of n terms: tolerance per term, capped at tolerance_max."""
        return max(self.tolerance, min(self.tolerance * n, self.tolerance_max))

    def today_date(self) -> date:
        return self.today or date.today()

    def grade_of(self, total: Decimal) -> str:
        for label, low in self.grade_bands:
            if total >= low:
                return label
        return self.grade_bands[-1][0]


# Chinese labels accepted as keys (in the 设置 sheet and in files).
SETTING_LABELS: dict[str, str] = {
    "容差": "tolerance",
    "每项容差": "tolerance",
    "容差上限": "tolerance_max",
    "反向指标公式": "reverse_formula",
    "超额完成阈值": "over_achievement",
    "偏离度阈值": "over_achievement",
    "等级划分": "grade_bands",
    "等级": "grade_bands",
    "预算执行率分值": "weight_execution",
    "产出指标分值": "weight_output",
    "效益指标分值": "weight_effect",
    "满意度指标分值": "weight_satisfaction",
    "无满意度时效益指标分值": "weight_effect_no_satisfaction",
    "总分值": "total_points",
    "执行率下限": "low_execution",
    "执行率偏低须说明原因": "reason_required_low_execution",
    "执行率原因所在二级指标": "execution_reason_level2",
    "执行率原因所在三级指标关键词": "execution_reason_keywords",
    "超额完成须说明原因": "reason_required_over_achievement",
    "超预算比例": "item_over_budget",
    "预算调整率上限": "budget_adjustment",
    "增减幅度提示": "yoy_change",
    "在职人员控制率上限": "staff_control_max",
    "模糊用语": "vague_words",
    "不算原因的填写": "no_reason_words",
    "电话格式": "phone_patterns",
    "今天": "today",
    "启用规则": "select",
    "忽略规则": "ignore",
    "规则级别": "severity",
    "设置表可放宽": "sheet_may_relax",
}
_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
_RATIO = {"over_achievement", "low_execution", "item_over_budget", "budget_adjustment", "yoy_change",
          "staff_control_max"}
_LABEL_OF = {}
for _zh, _en in SETTING_LABELS.items():
    _LABEL_OF.setdefault(_en, _zh)


def _label(key: str) -> str:
    zh = _LABEL_OF.get(key)
    return f"{key}（{zh}）" if zh else key


def _bad(key: str, value, why: str) -> ConfigError:
    return ConfigError(f"设置项 {_label(key)} 的值 {value!r} 无效：{why}")


def _decimal(key, value) -> Decimal:
    if isinstance(value, bool):
        raise _bad(key, value, "应为数字")
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    text = str(value).strip().replace("，", ",").replace("％", "%")
    pct = text.endswith("%")
    try:
        n = Decimal(text.rstrip("%").strip())
    except InvalidOperation:
        raise _bad(key, value, "应为数字") from None
    return n / 100 if pct else n


def _ratio(key, value) -> Decimal:
    pct = isinstance(value, str) and value.strip().endswith(("%", "％"))
    n = _decimal(key, value)
    if not pct and n > 2:  # "30" means 30%
        n = n / 100
    if n < 0:
        raise _bad(key, value, "不能为负数")
    return n


def _bool(key, value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on", "是", "开", "启用", "要求"):
        return True
    if text in ("0", "false", "no", "off", "否", "关", "停用", "不要求"):
        return False
    raise _bad(key, value, "应为 是/否")


def _words(key, value) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if str(v).strip())
    if isinstance(value, str):
        return tuple(w.strip() for w in re.split(r"[,，、;；\n]", value) if w.strip())
    raise _bad(key, value, "应为用逗号分隔的词语列表")


_GRADE_RANK = {"优": 0, "良": 1, "中": 2, "差": 3}


def _bands(key, value) -> tuple[tuple[str, Decimal], ...]:
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, str):
        pairs = []
        for part in re.split(r"[,，、;；]", value):
            if not part.strip():
                continue
            m = re.match(r"^\s*(\S+?)\s*(?:[=＝:：≥]|>=)\s*(\S+)\s*$", part)
            if not m:
                raise _bad(key, value, "应写作 优=90,良=80,中=60")
            pairs.append((m.group(1), m.group(2)))
    else:
        raise _bad(key, value, "应写作 优=90,良=80,中=60")
    bands = [(str(k).strip(), _decimal(key, v)) for k, v in pairs]
    if not bands:
        raise _bad(key, value, "至少需要一个等级")
    labels = [k for k, _ in bands]
    if len(set(labels)) != len(labels):
        raise _bad(key, value, "等级名称重复")
    if all(k in _GRADE_RANK for k in labels):  # 优 > 良 > 中 > 差 whatever order they were written in
        bands.sort(key=lambda p: _GRADE_RANK[p[0]])
    for k, v in bands:
        if not 0 <= v <= 100:
            raise _bad(key, value, f"“{k}”的分数线 {v} 应在 0 至 100 之间")
    for (hi, a), (lo, b) in zip(bands, bands[1:]):
        if not a > b:
            raise _bad(key, value, f"分数线应从高到低：“{hi}”({a}) 应高于“{lo}”({b})")
    if bands[-1][1] > 0:
        bands.append(("差", Decimal(0)))
    return tuple(bands)


def _severity(key, value) -> dict[str, str]:
    if isinstance(value, str):
        pairs = []
        for part in re.split(r"[,，;；]", value):
            if part.strip():
                k, _, v = part.partition("=")
                pairs.append((k.strip(), v.strip()))
        value = dict(pairs)
    if not isinstance(value, dict):
        raise _bad(key, value, "应写作 PE301=error")
    zh = {"错误": "error", "警告": "warning", "提示": "info"}
    out = {}
    for code, sev in value.items():
        shown = f"{str(code).strip()} = {str(sev).strip()}"
        sev = zh.get(str(sev).strip(), str(sev).strip().lower())
        if sev not in ("error", "warning", "info"):
            raise ConfigError(f"设置项 {_label(key)} 的值 {shown} 无效：级别应为 错误/警告/提示（error/warning/info）")
        out[str(code).strip().upper()] = sev
    return out


def rule_codes(s: "Settings") -> list[tuple[str, tuple[str, ...], bool]]:
    """The rule codes a settings object names, for the caller to check against the catalog:
    (where, codes, prefixes allowed)."""
    return [(_label("select"), tuple(s.select), True), (_label("ignore"), tuple(s.ignore), True),
            (_label("severity"), tuple(s.severity), False)]


# ---- regexes from settings: a safe subset only (no catastrophic backtracking) ----------------
MAX_PATTERN_LENGTH = 200


def _unsafe_regex(pattern: str) -> str | None:
    """Why a settings regex is refused, or None. Allowed: literals, classes, anchors, groups and alternation,
    quantifiers over single characters or classes, and a quantified group only if nothing inside it repeats
    (so no (a+)+ or (a|aa)*: matching stays linear in the text). No backreferences, no look-arounds."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"过长（{len(pattern)} 个字符，上限 {MAX_PATTERN_LENGTH}）"
    try:
        import re._parser as sre_parse  # Python 3.11+
    except ImportError:  # pragma: no cover
        import sre_parse  # type: ignore
    try:
        tree = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError) as e:
        return f"不是有效的正则表达式（{e}）"
    const = sre_parse

    reps = {const.MAX_REPEAT, const.MIN_REPEAT, getattr(const, "POSSESSIVE_REPEAT", const.MAX_REPEAT)}

    def children(op, av):
        if op in reps:
            return [av[2]]
        if op is const.SUBPATTERN:
            return [av[-1]]
        if op is const.BRANCH:
            return list(av[1])
        if op is getattr(const, "ATOMIC_GROUP", None):
            return [av]
        return []

    def repeats_or_branches(items) -> bool:
        for op, av in items:
            if (op in reps and av[1] != 1) or op is const.BRANCH:
                return True
            if any(repeats_or_branches(c) for c in children(op, av)):
                return True
        return False

    def walk(items) -> str | None:
        for op, av in items:
            if op in (const.GROUPREF, getattr(const, "GROUPREF_EXISTS", None)):
                return "不允许反向引用"
            if op in (const.ASSERT, const.ASSERT_NOT):
                return "不允许前后查找（lookaround）"
            if op in reps and av[1] != 1 and repeats_or_branches(av[2]):
                return "中重复的部分内又有重复或分支（如 (\\d+)+），匹配可能极慢，已拒绝"
            for c in children(op, av):
                why = walk(c)
                if why:
                    return why
        return None

    return walk(tree)


def _date(key, value) -> date | None:
    if isinstance(value, date):
        return value
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise _bad(key, value, "应为日期，如 2025-04-30") from None


def _coerce(key: str, value):
    if key in _RATIO:
        return _ratio(key, value)
    if key == "reverse_formula":
        text = str(value).strip().lower()
        text = {"线性": "linear", "比例": "ratio", "比值": "ratio"}.get(text, text)
        if text not in ("linear", "ratio"):
            raise _bad(key, value, "应为 linear（线性）或 ratio（比例）")
        return text
    if key == "grade_bands":
        return _bands(key, value)
    if key in ("reason_required_low_execution", "reason_required_over_achievement"):
        return _bool(key, value)
    if key in ("vague_words", "no_reason_words", "phone_patterns", "select", "ignore", "execution_reason_level2",
               "execution_reason_keywords"):
        words = _words(key, value)
        if key == "phone_patterns":
            for p in words:
                why = _unsafe_regex(p)
                if why:
                    raise _bad(key, p, why if why.startswith("不是") else f"正则表达式{why}")
        if key in ("select", "ignore"):
            words = tuple(w.upper() for w in words)
        return words
    if key == "sheet_may_relax":
        out = []
        for w in _words(key, value):
            if w in ("全部", "all", "*"):
                out.append("*")
                continue
            k = SETTING_LABELS.get(w, w)
            if k not in _FIELDS or k in _INTERNAL or k in SHEET_FORBIDDEN or k == "sheet_may_relax":
                raise _bad(key, w, "不是可由“设置”表修改的设置项")
            out.append(k)
        return tuple(out)
    if key == "severity":
        return _severity(key, value)
    if key == "today":
        return _date(key, value)
    n = _decimal(key, value)  # tolerance, weights, total points
    if n < 0:
        raise _bad(key, value, "不能为负数")
    return n


# Keys a submitted workbook may not set: which rules run and how severe they are belong to the bureau.
SHEET_FORBIDDEN = frozenset({"select", "ignore", "severity", "sheet_may_relax"})

# The direction in which a 设置 sheet may move each key without the bureau's leave (stricter checks only):
# "down" a smaller number is stricter, "up" a larger one, "true" only switching a requirement on,
# "more" only adding words (a superset), "fewer" only removing them (a subset). Keys not here have no
# stricter direction (weights, grade bands, formulas, phone formats, today): the sheet may not set them.
STRICTER = {
    "tolerance": "down", "tolerance_max": "down", "over_achievement": "down", "item_over_budget": "down",
    "budget_adjustment": "down", "yoy_change": "down", "staff_control_max": "down",
    "low_execution": "up",
    "reason_required_low_execution": "true", "reason_required_over_achievement": "true",
    "vague_words": "more", "no_reason_words": "more",
    "execution_reason_level2": "fewer", "execution_reason_keywords": "fewer",
}


def _stricter_or_same(key: str, new, old) -> bool:
    how = STRICTER.get(key)
    if how == "down":
        return new <= old
    if how == "up":
        return new >= old
    if how == "true":
        return bool(new) or not old
    if how == "more":
        return set(old) <= set(new)
    if how == "fewer":
        return set(new) <= set(old)
    return new == old


def _relax_reason(key: str) -> str:
    how = STRICTER.get(key)
    if how is None:
        return "此项只能由财政局的设置文件规定（设置文件的 sheet_may_relax 可允许），工作簿中的设置未采用"
    return "工作簿中的“设置”表只能让校验更严，不能放宽（财政局的设置文件可用 sheet_may_relax 允许），未采用"
_INTERNAL = frozenset({"sheet_notes", "bureau_keys"})  # not settings anyone writes


def _unknown_key(k: str, source: str) -> ConfigError:
    names = [n for n in _FIELDS if n not in _INTERNAL]
    close = difflib.get_close_matches(k, list(SETTING_LABELS) + names, n=1, cutoff=0.5)
    hint = f"是否是“{close[0]}”？" if close else f"可用：{'、'.join(sorted(names))}"
    return ConfigError(f"{source}：未知的设置项“{k}”（{hint}）")


def _apply(s: Settings, pairs: dict, source: str) -> set[str]:
    """Apply key/value pairs; the set of field names set."""
    done = set()
    for raw_key, value in pairs.items():
        k = str(raw_key).strip()
        if not k or value is None or (isinstance(value, str) and not value.strip()):
            continue  # an empty row of the 设置 sheet
        key = SETTING_LABELS.get(k, k)
        if key not in _FIELDS or key in _INTERNAL:
            raise _unknown_key(k, source)
        try:
            setattr(s, key, _coerce(key, value))
        except ConfigError as e:
            raise ConfigError(f"{source}：{e}") from None
        done.add(key)
    return done


def _cell_order(cell: str) -> int:
    digits = cell.lstrip("$ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    return int(digits) if digits.isdigit() else 0


def _sheet_cells(cells) -> str:
    return "、".join(f"设置!{c}" for c in cells)


def _check_repeats(pairs: dict, cells: dict) -> None:
    """A setting given twice on the 设置 sheet (the same key, or an English name and its Chinese label) is
    ambiguous: the reader would keep one row silently. Raises ConfigError naming the key and the cells."""
    for k, where in cells.items():
        if len(where) > 1:
            raise ConfigError(f"设置表中“{str(k).strip()}”重复：{_sheet_cells(where)}")
    by_field: dict[str, list[str]] = {}
    for raw_key in pairs:
        k = str(raw_key).strip()
        if not k:
            continue
        key = SETTING_LABELS.get(k, k)
        if key in _FIELDS and key not in _INTERNAL:
            by_field.setdefault(key, []).append(k)
    for key, keys in by_field.items():
        if len(keys) > 1:
            where = sorted((c for k in keys for c in cells.get(k, ())), key=_cell_order)
            named = "、".join(f"“{k}”" for k in keys)
            tail = f"：{_sheet_cells(where)}" if where else ""
            raise ConfigError(f"设置表中“{_label(key)}”重复（写作{named}）{tail}")


def _apply_sheet(s: Settings, pairs: dict, bureau: frozenset[str], source: str,
                 cells: dict | None = None) -> None:
    """The 设置 sheet's pairs, over the bureau's file: a value is applied only when it makes the check
    stricter than the bureau's (or the default) one, or the bureau's sheet_may_relax lists the key;
    SHEET_FORBIDDEN keys never (all are still validated). Every pair is noted in s.sheet_notes for PE417.
    cells: key as written -> the A1 cells of the rows that gave it (Form.settings_cells), for the messages."""
    cells = cells or {}
    _check_repeats(pairs, cells)
    notes = []
    for raw_key, value in pairs.items():
        k = str(raw_key).strip()
        if not k or value is None or (isinstance(value, str) and not value.strip()):
            continue
        where = cells.get(raw_key) or cells.get(k)
        at = f"{source}（{_sheet_cells(where[:1])}）" if where else source
        key = SETTING_LABELS.get(k, k)
        if key not in _FIELDS or key in _INTERNAL:
            raise _unknown_key(k, at)
        try:
            coerced = _coerce(key, value)
        except ConfigError as e:
            raise ConfigError(f"{at}：{e}") from None
        shown = str(value).strip()
        allowed = "*" in s.sheet_may_relax or key in s.sheet_may_relax
        if key in SHEET_FORBIDDEN:
            notes.append((k, shown, "选用、忽略规则和规则级别只能由财政局的设置文件规定，工作簿中的设置未采用"))
        elif allowed or _stricter_or_same(key, coerced, getattr(s, key)):
            setattr(s, key, coerced)
            notes.append((k, shown, None))
        else:
            notes.append((k, shown, _relax_reason(key)))
    s.sheet_notes = tuple(notes)


def read_perfeval_table(path: str) -> dict:
    """The perfeval table of a settings file: the whole perfeval.toml, or a pyproject.toml's [tool.perfeval]."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as e:
        raise ConfigError(f"无法读取设置文件 {path}：{e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"设置文件 {path} 不是有效的 TOML：{e}") from None
    if os.path.basename(path) == "pyproject.toml":
        data = data.get("tool", {}).get("perfeval", {})
    elif "tool" in data and "perfeval" in data.get("tool", {}):
        data = data["tool"]["perfeval"]
    return data


def _read_toml(path: str) -> dict:
    data = read_perfeval_table(path)
    data.pop("server", None)  # the service's own table (perfeval_xl.server.config), not a rule setting
    return data


_RACY_NS = 2_000_000_000  # file times tick coarsely: a file changed this recently may change again unseen


def _stamp(path: str) -> tuple[int, int, int] | None:
    """What identifies one version of a file (None when it cannot be seen, or is not a regular file)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _settled(stamp: tuple[int, int, int]) -> bool:
    """Safe to remember: modified long enough ago that a rewrite would show in the stamp."""
    return time.time_ns() - stamp[0] > _RACY_NS


# A batch of hundreds of workbooks in one folder shares one settings file: it is read and checked once,
# and again only when the file changes (its modification time, size or inode).
_PYPROJECT_HAS_SECTION: dict[str, tuple[tuple[int, int, int], bool]] = {}
_FILE_SETTINGS: dict[str, tuple[tuple[int, int, int], Settings]] = {}
# the two paths find_config looks at, by working directory (the paths only: the files are looked at every time)
_CANDIDATES: dict[str, tuple[str, str]] = {}


def find_config(folder: str | None = None) -> str | None:
    """The bureau's settings file in the directory the command is run from (folder, default the current
    working directory): perfeval.toml, else a pyproject.toml with [tool.perfeval]. Never one beside a
    workbook: the inbox belongs to the departments."""
    cwd = not folder
    key = os.getcwd() if cwd else folder
    paths = _CANDIDATES.get(key) if cwd else None  # (a relative folder means another place in another cwd)
    if paths is None:
        base = os.path.abspath(key)
        paths = (os.path.join(base, "perfeval.toml"), os.path.join(base, "pyproject.toml"))
        if cwd and len(_CANDIDATES) < 256:
            _CANDIDATES[key] = paths
    p = paths[0]
    if os.path.isfile(p):
        return p
    p = paths[1]
    stamp = _stamp(p)
    if stamp is None:
        return None
    hit = _PYPROJECT_HAS_SECTION.get(p)
    if hit is not None and hit[0] == stamp:
        return p if hit[1] else None
    try:
        with open(p, "rb") as fh:
            found = "perfeval" in tomllib.load(fh).get("tool", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    if _settled(stamp):
        _PYPROJECT_HAS_SECTION[p] = (stamp, found)
    return p if found else None


def _copy(s: Settings) -> Settings:
    c = copy.copy(s)
    c.severity = dict(s.severity)  # the one mutable field
    return c


def _file_settings(path: str) -> Settings:
    """Defaults <- the settings file at path, parsed once per version of the file (a fresh copy each call)."""
    stamp = _stamp(path)
    hit = _FILE_SETTINGS.get(path)
    if stamp is not None and hit is not None and hit[0] == stamp:
        return _copy(hit[1])
    s = Settings()
    keys = _apply(s, _read_toml(path), f"设置文件 {path}")
    s.bureau_keys = frozenset(keys)  # what the bureau set: the 设置 sheet may not change it
    if stamp is not None and _settled(stamp):
        _FILE_SETTINGS[path] = (stamp, _copy(s))
    return s


def bureau_settings(config: str | None = None) -> tuple[str | None, Settings]:
    """(the settings file used, its settings): --config, else the one in the current working directory,
    else defaults. Raises ConfigError for a broken file: front ends call this once, before reading any
    workbook, so that a bad file is one usage error and not one error per workbook."""
    path = config or find_config()
    if config and not os.path.isfile(config):
        raise ConfigError(f"设置文件 {config} 不存在")
    return (os.path.abspath(path) if path else None), (_file_settings(path) if path else Settings())


def load_settings(workbook_path: str | None = None, config: str | None = None,
                  overrides: dict | None = None, cells: dict[str, list[str]] | None = None, *,
                  search: bool = True) -> Settings:
    """defaults <- the bureau's file (config, else the one in the current working directory; workbook_path
    is only named in messages, never searched beside) <- the 设置 sheet pairs, stricter only.

    The sheet changes only what makes checks stricter (or what sheet_may_relax allows), never select/ignore/severity; what it did
    is in s.sheet_notes. cells (Form.settings_cells): key as written -> the A1 cells of the rows that gave it;
    a key on two rows is a ConfigError naming them, and errors about a key name its cell. Without cells a key
    repeated on the sheet cannot be seen (the pairs keep one row); an English name beside its Chinese label
    still is. search=False: config is all there is (the front end already looked; None: no settings file)."""
    path = config or (find_config() if search else None)
    s = _file_settings(path) if path else Settings()
    if overrides:
        _apply_sheet(s, overrides, s.bureau_keys, "“设置”工作表", cells)
    return s
