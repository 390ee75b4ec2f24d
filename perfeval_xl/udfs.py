"""Worksheet functions (xlwings UDFs) for the 绩效自评 workbook.

Import them in Excel with xlwings' "Import Functions" (xlwings.conf: UDF_MODULES = perfeval_xl.udfs),
or once into the add-in with `perfeval excel install --functions` (docs/excel.md).
Off Windows the xlwings decorators do nothing, so these stay plain Python functions.

Every function:
  - parses messy cells with perfeval_xl.values ("3,527.66", "３５２７．６６", "97.24%", "　100%"...);
  - returns a short Chinese message instead of raising ("预算数为空", "执行数不是数字：abc");
    an Excel error value passed in says so ("预算数为错误值 #DIV/0!": err_to_str on every argument);
  - works on whole columns: 2-D ranges in, a 2-D list out, element by element (a single
    cell broadcasts against a range). A range argument is first cut at the sheet's used range
    (its first row and column kept, so results stay aligned), so =PE_EXECRATE(D:D, E:E) returns
    the rows in use, not a million cells. The result spills in Excel 365; in Excel 2016/2019
    select the output cells and enter it with Ctrl+Shift+Enter.
The arithmetic is owner C's perfeval_xl.scoring, the same code the rules use.
"""
from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from decimal import Decimal

import xlwings as xw

from . import scoring
from .model import Kind

# ---- argument handling -------------------------------------------------------------------


class _Bad(Exception):
    """An argument that cannot be used; the message goes into the cell."""


USED_AREA = "pe_used"  # the xlwings converter name of a range argument cut to the used range
TRIM_ABOVE = 10_000  # cells: smaller ranges are read as they are (asking the used range costs a call)


def _trim_to_used(ctx) -> None:
    """Conversion stage: cut a range argument at the sheet's used range before it is read."""
    rng = ctx.range
    if rng is None:  # a literal argument: nothing to read
        return
    try:
        rows, cols = rng.shape
        if rows * cols <= TRIM_ABOVE:
            return
        used = rng.sheet.used_range
        last_row = used.row + used.shape[0] - 1
        last_col = used.column + used.shape[1] - 1
        r2 = min(rng.row + rows - 1, last_row)
        c2 = min(rng.column + cols - 1, last_col)
        if r2 < rng.row or c2 < rng.column:  # nothing in use there: one blank cell
            ctx.range = rng.sheet.range((rng.row, rng.column))
        else:
            ctx.range = rng.sheet.range((rng.row, rng.column), (r2, c2))
    except Exception:  # an engine that cannot tell: read the range as given
        return


def _register_used_area() -> None:
    try:
        from xlwings.conversion import ValueAccessor
    except ImportError:  # pragma: no cover - xlwings without the conversion framework
        return

    class UsedAreaAccessor(ValueAccessor):
        @staticmethod
        def reader(options):
            return ValueAccessor.reader(options).prepend_stage(_trim_to_used)

    UsedAreaAccessor.register(USED_AREA)


_register_used_area()
ARG = {"ndim": 2, "err_to_str": True}  # every argument: 2-D, Excel errors as "#DIV/0!" (not blanks)


def _grid(x) -> list[list]:
    """Scalar, 1-D or 2-D input -> 2-D list."""
    if isinstance(x, (list, tuple)):
        if not x:
            return [[None]]
        if all(isinstance(r, (list, tuple)) for r in x):
            return [list(r) if r else [None] for r in x]
        return [list(x)] if len(x) > 1 else [[x[0]]]
    return [[x]]


def _elementwise(fn, *args):
    """Apply fn cell by cell; a 1x1 argument broadcasts. All 1x1 -> a scalar result."""
    grids = [_grid(a) for a in args]
    rows = max(len(g) for g in grids)
    cols = max(len(g[0]) for g in grids)
    for g in grids:
        if len(g) not in (1, rows) or any(len(r) not in (1, cols) for r in g):
            return "参数区域的行列数不一致"

    def at(g, i, j):
        r = g[0] if len(g) == 1 else g[i]
        return r[0] if len(r) == 1 else r[j]

    def one(i, j):
        try:
            return fn(*(at(g, i, j) for g in grids))
        except _Bad as e:
            return str(e)
        except Exception as e:  # never a traceback, nor Python's own words, in a cell
            return f"无法计算：{_reason(e)}"

    if rows == 1 and cols == 1:
        return one(0, 0)
    return [[one(i, j) for j in range(cols)] for i in range(rows)]


# Far beyond any 万元 amount or 分值; larger numbers (1e308) overflow the 2-decimal rounding.
LIMIT = Decimal("1e15")
_PERCENT_TEXT = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?[%‰]")


def _reason(e: Exception, default: str = "参数不是有效数字或超出可计算范围，请检查") -> str:
    """An unexpected error as cell text: its message only when it is ours (Chinese), never class names."""
    text = str(e)
    if re.search(r"[\u4e00-\u9fff]", text) and "<class" not in text:
        return text
    return default


def _refuse_date(raw, label: str) -> None:
    """A date or time cell (xlwings passes datetime) is never a number, whatever its serial."""
    if isinstance(raw, _dt.datetime):
        shown = f"{raw:%Y-%m-%d}" if raw.time() == _dt.time() else f"{raw:%Y-%m-%d %H:%M}"
        raise _Bad(f"{label}是日期，不是数字：{shown}")
    if isinstance(raw, _dt.date):
        raise _Bad(f"{label}是日期，不是数字：{raw:%Y-%m-%d}")
    if isinstance(raw, _dt.time):
        raise _Bad(f"{label}是时间，不是数字：{raw:%H:%M}")


def _refuse_error(raw, label: str) -> None:
    """An Excel error value (#DIV/0!, #N/A...) passed in: named as such, never taken for a blank."""
    from . import values

    if isinstance(raw, str) and raw.strip().upper() in values.EXCEL_ERRORS:
        raise _Bad(f"{label}为错误值 {raw.strip().upper()}")


def _valid(n: Decimal, raw, label: str) -> Decimal:
    """NaN, infinity and absurdly large numbers get a Chinese reason instead of failing in the arithmetic."""
    if not n.is_finite():
        raise _Bad(f"{label}不是有效数字")
    if abs(n) > LIMIT:
        raise _Bad(f"{label}不是有效数字：数值过大（{_show(raw)}）")
    return n


def _number(raw, label: str, parse, *, required: bool = True, what: str = "金额") -> Decimal | None:
    """A cell as a Decimal via perfeval_xl.values, or _Bad with a Chinese reason.

    what: what the argument should be ("金额", "分数"), named when a percentage is given instead."""
    _refuse_date(raw, label)
    _refuse_error(raw, label)
    v = _empty_value() if _blank(raw) else parse(raw)
    if v.kind is Kind.NUMBER:
        return _valid(v.number, raw, label)
    if v.kind is Kind.EMPTY:
        if required:
            raise _Bad(f"{label}为空")
        return None
    if v.kind is Kind.NA:
        raise _Bad(f"{label}为“{v.display}”，不是数字")
    if v.kind is Kind.UNKNOWN and v.problem:
        raise _Bad(f"{label}：{v.problem}")
    if isinstance(raw, str):
        typed = re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw))
        if _PERCENT_TEXT.fullmatch(typed):  # "９０％", "　100%": a number, but a rate, not an amount
            raise _Bad(f"{label}应为{what}，不是百分比：{typed}")
    raise _Bad(f"{label}不是数字：{_show(raw)}")


def _empty_value():
    from .model import Value

    return Value()


def _show(raw) -> str:
    s = str(raw).strip()
    return s if len(s) <= 20 else s[:20] + "…"


def _amount(raw, label: str, required: bool = True, what: str = "金额") -> Decimal | None:
    """An amount (万元) or a total: never negative, as the template's data validation."""
    from . import values

    n = _number(raw, label, values.parse_amount, required=required, what=what)
    if n is not None and n < 0:
        raise _Bad(f"{label}不能为负数：{_show(raw)}")
    return n


def _points(raw, label: str = "分值") -> Decimal:
    from . import values

    n = _number(raw, label, values.parse_points, what="分数")
    if n < 0:
        raise _Bad(f"{label}不能为负数：{_show(raw)}")
    return n


def _text(raw) -> str:
    from . import values

    v = values.parse_text(raw)
    if v.kind is Kind.NUMBER:
        return format(v.number, "f")
    return v.display


def _out(d: Decimal | None) -> float | None:
    if d is None:
        return None
    f = float(d)
    if not math.isfinite(f):  # e.g. a budget of 1e-308
        raise _Bad("结果超出可计算范围，请检查参数")
    return f


# ---- the functions -----------------------------------------------------------------------


def _execrate(budget, actual):
    b = _amount(budget, "预算数")
    a = _amount(actual, "执行数")
    if b == 0:  # the rate's denominator must be > 0 (negatives are refused by _amount)
        raise _Bad("预算数为 0，无法计算执行率")
    return _out(scoring.execution_rate(b, a))


@xw.func
@xw.arg("budget", USED_AREA, **ARG, doc="全年预算数（万元），调整后预算")
@xw.arg("actual", USED_AREA, **ARG, doc="全年执行数（万元）")
def PE_EXECRATE(budget, actual):
    """执行率 = 全年执行数 / 全年预算数（比率，请设置为百分比格式）。"""
    return _elementwise(_execrate, budget, actual)


def _execscore(budget, actual, points):
    b = _amount(budget, "预算数")
    a = _amount(actual, "执行数")
    w = _points(points)
    if b == 0:
        raise _Bad("预算数为 0，无法计算执行率得分")
    return _out(scoring.execution_score(b, a, w))


@xw.func
@xw.arg("budget", USED_AREA, **ARG, doc="全年预算数（万元）")
@xw.arg("actual", USED_AREA, **ARG, doc="全年执行数（万元）")
@xw.arg("points", USED_AREA, **ARG, doc="分值，通常为 10")
def PE_EXECSCORE(budget, actual, points=10):
    """执行率得分 = 分值 × 执行率，最高为分值，保留两位小数。"""
    return _elementwise(_execscore, budget, actual, points)


def _indicator(target, actual, points, budget, spent):
    _refuse_error(target, "年度指标值")
    if _blank(target):
        raise _Bad("年度指标值为空")
    _refuse_date(target, "年度指标值")
    tg = scoring.parse_target(_text(target))
    if tg.kind is scoring.ScoreKind.NA:
        return "不适用，不计分"
    if tg.kind is scoring.ScoreKind.QUALITATIVE:
        return "定性指标，需人工评分"
    if tg.number is not None:
        _valid(tg.number, target, "年度指标值")
    w = _points(points)
    _refuse_error(actual, "实际完成值")
    if _blank(actual):
        raise _Bad("实际完成值为空")
    _refuse_date(actual, "实际完成值")
    if isinstance(actual, (int, float, Decimal)) and not isinstance(actual, bool):
        _valid(Decimal(str(actual)), actual, "实际完成值")  # NaN / inf / 1e308 typed as numbers
    elif isinstance(actual, str):
        from . import values

        typed = values.parse_amount(actual)  # "1e308" typed as text
        if typed.kind is Kind.NUMBER:
            _valid(typed.number, actual, "实际完成值")
    b = _amount(budget, "预算数", required=False)
    s = _amount(spent, "执行数", required=False)
    a = scoring.parse_actual(_text(actual), tg)
    if a is not None:
        _valid(a, actual, "实际完成值")
    if tg.comparator is scoring.Comparator.NOT_OVER and b is None and (a is not None or s is not None):
        # a number to compare and nothing to compare it with: the missing budget is the problem
        raise _Bad("“不超支”需要给出预算数（第 4 个参数）")
    res = scoring.indicator_score(_text(target), _text(actual), w, budget=b, spent=s)
    if res.score is None:
        return res.explanation
    return _out(res.score)


def _blank(raw) -> bool:
    from . import values

    return values.parse_text(raw).kind is Kind.EMPTY


@xw.func
@xw.arg("target", USED_AREA, **ARG, doc="年度指标值，如 ≥90%、=24、≤5、不超支")
@xw.arg("actual", USED_AREA, **ARG, doc="实际完成值，如 99.06%")
@xw.arg("points", USED_AREA, **ARG, doc="分值")
@xw.arg("budget", USED_AREA, **ARG, doc="（可选，用于“不超支”）预算数")
@xw.arg("spent", USED_AREA, **ARG, doc="（可选，用于“不超支”）执行数")
def PE_INDICATOR_SCORE(target, actual, points, budget=None, spent=None):
    """按年度指标值复算三级指标得分（正向、等于、反向、不超支）；定性指标返回提示。"""
    return _elementwise(_indicator, target, actual, points, budget, spent)


def _variance(actual, budget):
    a = _amount(actual, "实际数")
    b = _amount(budget, "预算数")
    return _out(a - b)


@xw.func
@xw.arg("actual", USED_AREA, **ARG, doc="实际数（决算数、执行数）")
@xw.arg("budget", USED_AREA, **ARG, doc="预算数（或上年数）")
def PE_VARIANCE(actual, budget):
    """增减数 = 实际 − 预算（万元）。"""
    return _elementwise(_variance, actual, budget)


def _variance_pct(actual, budget):
    a = _amount(actual, "实际数")
    b = _amount(budget, "预算数")
    if b == 0:
        return "—"  # as the template's 增减% when the base is 0
    return _out((a - b) / b)


@xw.func
@xw.arg("actual", USED_AREA, **ARG, doc="实际数")
@xw.arg("budget", USED_AREA, **ARG, doc="预算数（或上年数）")
def PE_VARIANCE_PCT(actual, budget):
    """增减% = (实际 − 预算) / 预算（比率）；预算为 0 时返回“—”。"""
    return _elementwise(_variance_pct, actual, budget)


def _grade(total):
    t = _amount(total, "总分", what="分数")  # negatives refused there: "总分不能为负数：-5"
    return scoring.grade(t)


@xw.func
@xw.arg("total", USED_AREA, **ARG, doc="总分（0–100）")
def PE_GRADE(total):
    """等级：优 ≥ 90，良 80–<90，中 60–<80，差 < 60（等级划分可在设置中修改）。"""
    return _elementwise(_grade, total)


# ---- PE_CHECK ----------------------------------------------------------------------------

_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
# book -> (fingerprint of its values and formulas, report): the cells of one recalculation share
# one run of the rules, and any edit (a new fingerprint) runs them again
_CACHE: dict[str, tuple[object, object]] = {}


def _col(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _bounds(address: str) -> list[tuple[int, int, int, int]]:
    """'$A$1:$C$5,E7' -> [(r1, c1, r2, c2), ...]; whole rows/columns are not expected from Excel UDFs."""
    out = []
    for part in address.replace("$", "").split(","):
        ends = [_CELL.match(p.strip()) for p in part.split(":")]
        if not all(ends):
            continue
        (c1, r1), (c2, r2) = [(_col(m.group(1)), int(m.group(2))) for m in (ends[0], ends[-1])]
        out.append((min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))
    return out


def findings_in_range(report, sheet: str, address: str) -> list:
    """The findings of a report whose cell lies inside sheet!address (a finding's range counts by overlap)."""
    boxes = _bounds(address)
    out = []
    for f in report.findings:
        if f.sheet != sheet or not f.cell:
            continue
        for fr1, fc1, fr2, fc2 in _bounds(f.cell):
            if any(fr1 <= r2 and r1 <= fr2 and fc1 <= c2 and c1 <= fc2 for r1, c1, r2, c2 in boxes):
                out.append(f)
                break
    return out


def check_messages(findings) -> str:
    if not findings:
        return "未发现问题"
    return "\n".join(f"{f.severity.label} {f.code} {f.cell}：{f.message}" for f in findings)


def book_fingerprint(book):
    """What the rules depend on, read cheaply (values and formulas: two reads per sheet)."""
    from .readers.xlwings_grid import _SKIP, sheet_formulas, sheet_rows

    parts = []
    for sheet in book.sheets:
        if sheet.name in _SKIP:
            continue
        rows = sheet_rows(sheet)
        formulas = sheet_formulas(sheet, rows)
        parts.append((sheet.name, repr(rows), repr(sorted((formulas or {}).items()))))
    return hash(tuple(parts))


def _report_for(book):
    from .excel import check_book

    key = getattr(book, "fullname", None) or book.name
    fingerprint = book_fingerprint(book)
    hit = _CACHE.get(key)
    if hit and hit[0] == fingerprint:
        return hit[1]
    report = check_book(book)
    _CACHE[key] = (fingerprint, report)
    return report


def check_range(rng, report=None) -> str:
    """PE_CHECK's logic: the messages of the findings inside an xlwings Range.

    report: a precomputed Report (tests, or callers that already ran the rules); otherwise the
    rules run on the range's book through the same path as the 校验 button (excel.check_book).
    """
    try:
        sheet = rng.sheet.name
        if report is None:
            report = _report_for(rng.sheet.book)
        if report.error:
            return f"无法校验：{report.error}"
        return check_messages(findings_in_range(report, sheet, rng.address))
    except Exception as e:  # a UDF must never show a traceback (or Python's class names) in a cell
        return f"无法校验：{_reason(e, '读取工作簿时出错，请确认参数是本工作簿中的单元格区域')}"


@xw.func(volatile=True)
@xw.arg("rng", "range", doc="要查看的单元格区域")
def PE_CHECK(rng):
    """列出本工作簿校验发现的、位于该区域内的问题（与“校验”按钮同一套规则）。易失函数：工作簿任一单元格改动后自动重算。"""
    return check_range(rng)
