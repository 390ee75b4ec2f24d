"""Parse messy cell contents into model Values.

A reader hands over what a cell holds (the cached value or typed text, plus the
formula and number format when it can see them); these functions say what it
means for a field kind. They never judge whether the value is right, only what
it is: a number, a date, text, "not applicable", blank, unreadable (INVALID) or
unknown (a cached error or a formula with no cached value). Never 0 for unknown.

Percent heuristic for plain numbers (no "%" in the text):
  * a numeric cell whose number format is a percent format holds a ratio: as is;
  * the format is known and not a percent format and the column header says %
    (``hint=True``): percent points, divided by 100 ("-88.11" under 增减% -> -0.8811);
  * otherwise (no hint, or the format is unknown as with python-calamine):
    |x| <= 2 is taken as a ratio (0.9596, 1.3382), |x| > 2 as percent points
    (95.96 -> 0.9596). Misread only for percent points within ±2%.
"""
from __future__ import annotations

import re
from functools import lru_cache
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from .model import Kind, Loc, Value

__all__ = [
    "EXCEL_ERRORS", "NA_WORDS", "clean_text", "norm_label", "to_decimal",
    "parse_amount", "parse_signed", "parse_percent", "parse_count", "parse_area",
    "parse_points", "parse_year", "parse_date", "parse_text", "parse_phone",
    "parse_choice", "parse_cell", "is_percent_format",
]

EXCEL_ERRORS = frozenset(
    ("#DIV/0!", "#REF!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
     "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#N/A!")
)
# Stated as "none / not applicable". Dashes are compared after cleaning.
NA_WORDS = frozenset(("—", "——", "-", "--", "－", "－－", "–", "―", "―", "─", "无", "不适用", "/", "N/A", "n/a", "NA"))

# Full-width ASCII range and the ideographic space -> half-width.
_FW = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}
_FW.update({0x3000: 0x20, 0x3002: 0x2E, 0x00A0: 0x20})  # 。 is a decimal point in typed numbers
_FW_TEXT = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}
_FW_TEXT.update({0x3000: 0x20, 0x00A0: 0x20})

_WS = re.compile(r"\s+")
_NUM = re.compile(
    r"^(?P<open>\()?(?P<sign>[+\-])?(?P<open2>\()?(?P<num>\d+(?:\.\d*)?|\.\d+)(?:[eE](?P<exp>[+\-]?\d+))?\)?"
    r"(?P<unit>%|万元|万|元|人|个|名|分|平方米|㎡|m2|m²|年)?$"
)
_SIMPLE = re.compile(r"-?\d+(?:\.\d+)?\Z")  # plain ASCII number: straight to Decimal
_SIMPLE_PCT = re.compile(r"-?\d+(?:\.\d+)?%\Z")
_NEEDS_FW = re.compile("[\uff01-\uff5e\u3000\u00a0\u3002]")
# Typed text keeps its Chinese punctuation (，；（）); only full-width digits, letters and the signs a
# target or amount uses become half-width, so "≥９０％" reads as "≥90%".
_TEXT_FW_CHARS = "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ％＝＜＞＋－．／"
_TEXT_FW = {ord(ch): ord(ch) - 0xFEE0 for ch in _TEXT_FW_CHARS}
_NEEDS_TEXT_FW = re.compile("[０-９Ａ-Ｚａ-ｚ％＝＜＞＋－．／]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?:\D|$))")
_DATE = re.compile(r"^(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_PERCENT_FMT = re.compile(r"%(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)")  # a % outside quoted literals
_EXCEL_EPOCH = datetime(1899, 12, 30)
# Label normalisation: drop punctuation variants, quotes and colons.
_LABEL_DROP = re.compile(r"[\s\"'“”‘’「」『』:：,，、;；.。·…_*]+")

_KIND_NAMES = {
    "amount": "金额", "signed": "金额", "percent": "百分比", "count": "人数", "area": "面积",
    "points": "分值", "year": "年度", "date": "日期",
}


def clean_text(s: str) -> str:
    """Half-width ASCII, ideographic spaces as spaces, outer whitespace stripped."""
    return (s.translate(_FW_TEXT) if _NEEDS_FW.search(s) else s).strip()


def norm_label(s: object) -> str:
    """A label as compared by the anchors reader: no spaces, line breaks, quotes, colons; half-width."""
    if s is None:
        return ""
    s = str(s)
    if len(s) <= 64:  # labels repeat from file to file: remember them
        return _norm_short(s)
    return _LABEL_DROP.sub("", s.translate(_FW_TEXT) if _NEEDS_FW.search(s) else s)


@lru_cache(maxsize=8192)
def _norm_short(s: str) -> str:
    return _LABEL_DROP.sub("", s.translate(_FW_TEXT) if _NEEDS_FW.search(s) else s)


_DECIMALS: dict[float, Decimal] = {}  # floats seen in cells -> Decimal (immutable: safe to share)


def to_decimal(x: int | float) -> Decimal:
    """A float from a cell as the Decimal the user typed (no binary noise)."""
    if type(x) is int:
        return Decimal(x)
    if type(x) is float:
        d = _DECIMALS.get(x)
        if d is not None:
            return d
        d = _to_decimal(x)
        if len(_DECIMALS) >= 8192:
            _DECIMALS.clear()
        _DECIMALS[x] = d
        return d
    return _to_decimal(x)


def _to_decimal(x) -> Decimal:
    if x.is_integer():
        return Decimal(int(x))
    r = repr(x)  # shortest round-trip text: what was typed, for typed numbers
    if len(r) > 12:  # computed (0.1 + 0.2, ratios): drop the noise beyond 10 decimals
        r = repr(round(x, 10))
    return Decimal(r)


def is_percent_format(fmt: str | None) -> bool:
    return bool(fmt) and "%" in fmt and bool(_PERCENT_FMT.search(fmt))


def _excel_error(raw: str, loc, of_formula: bool = False) -> Value | None:
    """An Excel error value: UNKNOWN, never 0. of_formula: the cell is known to hold a formula (its
    text is visible, or it is a template formula cell), so the error is that formula's result."""
    s = raw.strip()
    if s.startswith("#") and s.upper() in EXCEL_ERRORS:
        problem = f"公式结果为错误值 {s}" if of_formula else f"单元格为错误值 {s}，无法读取"
        return Value(Kind.UNKNOWN, raw=raw, loc=loc, problem=problem)
    return None


def _pre(raw, loc, formula, has_formula):
    """Common cases for every kind: blank, formula with no cache, cached error. None means go on."""
    if raw is None or (isinstance(raw, str) and raw == ""):
        if formula or has_formula:
            return Value(Kind.UNKNOWN, raw=raw, loc=loc, formula=formula,
                         problem="公式没有计算结果（文件保存时未重新计算），无法读取")
        return Value(Kind.EMPTY, raw=raw, loc=loc, formula=formula)
    if isinstance(raw, str):
        if not raw.strip():  # str.strip() also removes the ideographic space
            return Value(Kind.EMPTY, raw=raw, loc=loc, formula=formula)
        if raw[0] == "#" or raw.lstrip()[:1] == "#":
            v = _excel_error(raw, loc, bool(formula or has_formula))
            if v is not None:
                v.formula = formula
                return v
    return None


def _number_text(s: str):
    """(Decimal, unit) from typed text, or None. Accepts 3,527.66 / ３５２７．６６ / 3527.66万元 / =24 / (15.13)."""
    s = s.strip()
    if _SIMPLE.match(s):
        return Decimal(s), None
    if _SIMPLE_PCT.match(s):
        return Decimal(s[:-1]), "%"
    t = _WS.sub("", s.translate(_FW) if _NEEDS_FW.search(s) else s)
    if t[:1] == "=":
        t = t[1:]
    if "," in t:
        t = _THOUSANDS.sub("", t)
    m = _NUM.match(t)
    if m is None:
        return None
    try:
        n = Decimal(m.group("num"))
    except InvalidOperation:
        return None
    if m.group("exp"):
        n = n.scaleb(int(m.group("exp")))
    neg = m.group("sign") == "-"
    if m.group("open") or m.group("open2"):
        if not t.endswith(")"):
            return None
        neg = True
    elif t.endswith(")"):
        return None
    return (-n if neg else n), m.group("unit")


def _na(s: str) -> bool:
    if len(s) > 12:
        return False
    t = _WS.sub("", s.translate(_FW_TEXT))
    return t in NA_WORDS or (len(t) > 1 and set(t) <= {"-", "—", "－", "―", "─"})


def _numeric(raw, kind: str, loc, formula, units: tuple[str, ...]) -> Value:
    if isinstance(raw, bool):
        return Value(Kind.INVALID, raw=raw, loc=loc, formula=formula,
                     problem=f"无法识别为{_KIND_NAMES.get(kind, '数值')}：“{'是' if raw else '否'}”（逻辑值）")
    if isinstance(raw, (int, float)):
        return Value(Kind.NUMBER, number=to_decimal(raw), raw=raw, loc=loc, formula=formula)
    if isinstance(raw, str):
        got = _number_text(raw)
        if got is None and _na(raw):
            return Value(Kind.NA, text=clean_text(raw), raw=raw, loc=loc, formula=formula)
        if got is not None and (got[1] is None or got[1] in units):
            n, unit = got
            return Value(Kind.NUMBER, number=n, raw=raw, loc=loc, formula=formula)
    what = _KIND_NAMES.get(kind, "数值")
    return Value(Kind.INVALID, raw=raw, loc=loc, formula=formula, text=str(raw),
                 problem=f"无法识别为{what}：“{str(raw).strip()}”")


def _other(raw, kind: str, kw: dict, units: tuple[str, ...]) -> Value:
    v = _pre(raw, kw.get("loc"), kw.get("formula"), kw.get("has_formula", False))
    return v if v is not None else _numeric(raw, kind, kw.get("loc"), kw.get("formula"), units)


def parse_amount(raw, *, loc: Loc | None = None, formula: str | None = None, has_formula: bool = False,
                 **_) -> Value:
    """万元 amounts: '3,527.66', '3527.66万元', '３５２７．６６', '=24', 3527.66."""
    t = type(raw)
    if t is float or t is int:  # fast paths
        return Value(Kind.NUMBER, to_decimal(raw), None, None, raw, loc, formula)
    if t is str and _SIMPLE.match(raw):
        return Value(Kind.NUMBER, Decimal(raw), None, None, raw, loc, formula)
    v = _pre(raw, loc, formula, has_formula)
    return v if v is not None else _numeric(raw, "amount", loc, formula, ("万元", "万"))


def parse_signed(raw, **kw) -> Value:
    if type(raw) is float or type(raw) is int:
        return Value(Kind.NUMBER, number=to_decimal(raw), raw=raw, loc=kw.get("loc"), formula=kw.get("formula"))
    return _other(raw, "signed", kw, ("万元", "万"))


def parse_count(raw, **kw) -> Value:
    if type(raw) is float or type(raw) is int:
        return Value(Kind.NUMBER, number=to_decimal(raw), raw=raw, loc=kw.get("loc"), formula=kw.get("formula"))
    return _other(raw, "count", kw, ("人", "名", "个"))


def parse_area(raw, **kw) -> Value:
    if type(raw) is float or type(raw) is int:
        return Value(Kind.NUMBER, number=to_decimal(raw), raw=raw, loc=kw.get("loc"), formula=kw.get("formula"))
    return _other(raw, "area", kw, ("㎡", "平方米", "m2", "m²"))


def parse_points(raw, **kw) -> Value:
    if type(raw) is float or type(raw) is int:
        return Value(Kind.NUMBER, number=to_decimal(raw), raw=raw, loc=kw.get("loc"), formula=kw.get("formula"))
    return _other(raw, "points", kw, ("分",))


def parse_year(raw, **kw) -> Value:
    """'2024', '2024年', '2024年度', 2024."""
    loc, formula = kw.get("loc"), kw.get("formula")
    if isinstance(raw, str):
        t = _WS.sub("", raw.translate(_FW))
        if t.endswith("年度"):
            t = t[:-2]
        raw2 = t
    else:
        raw2 = raw
    v = _pre(raw, loc, formula, kw.get("has_formula", False))
    if v is not None:
        return v
    v = _numeric(raw2, "year", loc, formula, ("年",))
    v.raw = raw
    if v.kind is Kind.NUMBER and (v.number != v.number.to_integral_value() or not 1900 <= v.number <= 2200):
        return Value(Kind.INVALID, raw=raw, loc=loc, formula=formula, text=str(raw),
                     problem=f"无法识别为年度：“{str(raw).strip()}”")
    return v


def parse_percent(raw, *, loc: Loc | None = None, formula: str | None = None, has_formula: bool = False,
                  number_format: str | None = None, hint: bool = False, **_) -> Value:
    """Ratio out: '95.96%' -> 0.9596; see the module docstring for plain numbers."""
    if type(raw) is float or type(raw) is int:
        n = to_decimal(raw)
        if number_format is not None and is_percent_format(number_format):
            pass
        elif number_format is not None and hint:
            n = n / 100
        elif abs(n) > 2:
            n = n / 100
        return Value(Kind.NUMBER, number=n, raw=raw, loc=loc, formula=formula)
    v = _pre(raw, loc, formula, has_formula)
    if v is not None:
        return v
    if isinstance(raw, str):
        got = _number_text(raw)
        if got is None and _na(raw):
            return Value(Kind.NA, text=clean_text(raw), raw=raw, loc=loc, formula=formula)
        if got is not None and got[1] in (None, "%"):
            n, unit = got
            if unit == "%" or hint or abs(n) > 2:
                n = n / 100
            return Value(Kind.NUMBER, number=n, raw=raw, loc=loc, formula=formula)
    return _numeric(raw, "percent", loc, formula, ())


def parse_date(raw, *, loc: Loc | None = None, formula: str | None = None, has_formula: bool = False,
               **_) -> Value:
    """datetime/date, Excel serial numbers, '2025年4月22日', '2025-4-22', '2025/04/22', '2025.4.22'."""
    if isinstance(raw, datetime):
        return Value(Kind.DATE, date=raw.date(), raw=raw, loc=loc, formula=formula)
    if isinstance(raw, date):
        return Value(Kind.DATE, date=raw, raw=raw, loc=loc, formula=formula)
    v = _pre(raw, loc, formula, has_formula)
    if v is not None:
        return v
    bad = Value(Kind.INVALID, raw=raw, loc=loc, formula=formula, text=str(raw),
                problem=f"无法识别为日期：“{str(raw).strip()}”")
    if isinstance(raw, bool):
        return bad
    if isinstance(raw, (int, float)):
        if 1 <= raw < 2958466:  # Excel serial (1900 system)
            return Value(Kind.DATE, date=(_EXCEL_EPOCH + timedelta(days=int(raw))).date(), raw=raw, loc=loc,
                         formula=formula)
        return bad
    if isinstance(raw, str):
        if _na(raw):
            return Value(Kind.NA, text=clean_text(raw), raw=raw, loc=loc, formula=formula)
        t = raw.translate(_FW).strip()
        m = _DATE.match(t) or _DATE_COMPACT.match(t)
        if m:
            try:
                return Value(Kind.DATE, date=date(int(m.group(1)), int(m.group(2)), int(m.group(3))), raw=raw,
                             loc=loc, formula=formula)
            except ValueError:
                return bad
    return bad


def _as_text(raw) -> str:
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, datetime):
        return raw.date().isoformat() if raw.time() == datetime.min.time() else raw.isoformat(sep=" ")
    if isinstance(raw, date):
        return raw.isoformat()
    return str(raw)


_TEXTS: dict[str, tuple[Kind, str]] = {}  # typed text -> (TEXT or NA, cleaned text), see parse_text


def parse_text(raw, *, loc: Loc | None = None, formula: str | None = None, has_formula: bool = False,
               **_) -> Value:
    """Text as typed, outer whitespace stripped, full-width digits, letters and signs made half-width;
    '不适用', '—', '无' are NA (text kept)."""
    if type(raw) is str and raw:
        hit = _TEXTS.get(raw)
        if hit is not None:
            return Value(hit[0], None, hit[1], None, raw, loc, formula)
        t = (raw.translate(_TEXT_FW) if len(raw) <= 200 and _NEEDS_TEXT_FW.search(raw) else raw).strip()
        if t and t[0] != "#":
            kind = Kind.NA if len(t) <= 3 and _na(t) else Kind.TEXT
            if len(raw) <= 200:  # labels and short answers repeat from file to file
                if len(_TEXTS) >= 8192:
                    _TEXTS.clear()
                _TEXTS[raw] = (kind, t)
            return Value(kind, None, t, None, raw, loc, formula)
    v = _pre(raw, loc, formula, has_formula)
    if v is not None:
        return v
    t = clean_text(_as_text(raw))
    if _na(t):
        return Value(Kind.NA, text=t, raw=raw, loc=loc, formula=formula)
    return Value(Kind.TEXT, text=t, raw=raw, loc=loc, formula=formula)


def parse_phone(raw, **kw) -> Value:
    """Kept as text: 15273788388 typed as a number stays '15273788388'."""
    return parse_text(raw, **kw)


def parse_choice(raw, **kw) -> Value:
    v = parse_text(raw, **kw)
    if v.kind is Kind.NA and v.text == "无":  # 有/无 questions: "无" is an answer, not "not applicable"
        v.kind = Kind.TEXT
    return v


_PLAIN_NUMERIC = frozenset(("amount", "signed", "count", "area", "points"))
_PARSERS = {
    "amount": parse_amount,
    "signed": parse_signed,
    "percent": parse_percent,
    "count": parse_count,
    "area": parse_area,
    "points": parse_points,
    "year": parse_year,
    "date": parse_date,
    "text": parse_text,
    "longtext": parse_text,
    "phone": parse_phone,
    "choice": parse_choice,
}


def parse_cell(raw, kind: str, *, loc: Loc | None = None, formula: str | None = None,
               template_formula: str | None = None, has_formula: bool = False,
               number_format: str | None = None, hint: bool = False) -> Value:
    """Parse a cell for a layout kind (perfeval_xl.layout: amount, percent, date, ...).

    has_formula: the cell is known to hold a formula although its text is not visible
    (python-calamine on a template formula cell), so '' means "no cached value".
    """
    t = type(raw)
    if t is float or t is int:  # fast paths: most cells are plain numbers, blanks or short text
        if kind in _PLAIN_NUMERIC:
            return Value(Kind.NUMBER, to_decimal(raw), None, None, raw, loc, formula, template_formula)
    elif raw is None:
        if formula is None and not has_formula:
            return Value(Kind.EMPTY, None, None, None, None, loc, None, template_formula)
    elif t is str and kind in _PLAIN_NUMERIC and _SIMPLE.match(raw):
        return Value(Kind.NUMBER, Decimal(raw), None, None, raw, loc, formula, template_formula)
    fn = _PARSERS.get(kind, parse_text)
    if fn is parse_percent:
        v = fn(raw, loc=loc, formula=formula, has_formula=has_formula, number_format=number_format, hint=hint)
    else:
        v = fn(raw, loc=loc, formula=formula, has_formula=has_formula)
    if template_formula is not None:
        v.template_formula = template_formula
    return v
