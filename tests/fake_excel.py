"""A small fake of Excel's COM object model, loaded from a real .xlsx, for driving xlwings' real
Windows engine (xlwings._xlwindows) on Linux.

pywin32 is stubbed (install_pywin32_stubs) only as far as `import xlwings._xlwindows` needs; every
xlwings line between our code and "COM" is the real one. The fake enforces what Excel enforces and
what the 校验 button runs into on a clerk's PC:
  - sheet protection as saved in the file (<sheetProtection>): formatting cells, comments (objects),
    hyperlinks, columns; Unprotect with the wrong password fails with Excel's message, and
    Unprotect *without* a password argument on a password-protected sheet is a modal dialog the
    macro would hang on (recorded in app.dialogs and refused);
  - workbook structure protection: Sheets.Add / Delete / Move / Name / Visible are refused;
  - cells holding Excel error values come back as the int codes COM gives (-2146826281 = #DIV/0!);
  - merged areas (MergeCells / MergeArea, values only in the top-left cell).
A member the fake does not model is recorded in app.unknown (tests assert it stays empty), so a
green run cannot come from silently missing parts of the object model.
"""
from __future__ import annotations

import ctypes
import datetime as dt
import os
import re
import sys
import types

import openpyxl
from openpyxl.utils.cell import get_column_letter, range_boundaries

# ---- Excel's error codes and messages --------------------------------------------------------

ERROR_CODES = {
    "#DIV/0!": -2146826281, "#N/A": -2146826246, "#NAME?": -2146826259, "#NULL!": -2146826288,
    "#NUM!": -2146826252, "#REF!": -2146826265, "#VALUE!": -2146826273,
}
DISP_E_EXCEPTION = -2147352567
DISP_E_UNKNOWNNAME = -2147352570
XL_SCODE = -2146827284  # 0x800A03EC, what Excel puts in excepinfo for its refusals
XL_NONE = -4142
MAX_ROW, MAX_COL = 1_048_576, 16_384  # xlColorIndexNone / xlNone
MSG_PASSWORD = ("The password you supplied is not correct. Verify that the CAPS LOCK key is off "
                "and be sure to use the correct capitalization.")
MSG_PROTECTED_CELL = ("The cell or chart you're trying to change is on a protected sheet. To make a "
                      "change, unprotect the sheet. You might be requested to enter a password.")


# ---- pywin32 stubs ------------------------------------------------------------------------------

class com_error(Exception):  # noqa: N801 - pywintypes' name
    """pywintypes.com_error: args = (hresult, strerror, excepinfo, argerror)."""

    def __init__(self, hresult, strerror, excepinfo=None, argerror=None):
        super().__init__(hresult, strerror, excepinfo, argerror)
        self.hresult, self.strerror, self.excepinfo, self.argerror = hresult, strerror, excepinfo, argerror


class TimeType(dt.datetime):
    """pywintypes.TimeType: what COM gives for a date cell."""


def excel_error(message: str, source: str = "Microsoft Excel") -> com_error:
    return com_error(DISP_E_EXCEPTION, "Exception occurred.", (0, source, message, "xlmain11.chm", 0, XL_SCODE), None)


class CDispatch:
    """Base of every fake COM object, so xlwings wraps them in its COMRetryObjectWrapper as it does
    real ones. Unknown members are recorded and refused the way pywin32 refuses them."""

    _app = None

    def __getattr__(self, item):
        if item.startswith("__") or item in ("_app",):
            raise AttributeError(item)
        app = object.__getattribute__(self, "_app")
        if app is not None:
            app.unknown.append(f"{type(self).__name__}.{item}")
        raise AttributeError(item)

    _IID = "{00020400-0000-0000-C000-000000000046}"  # IDispatch; Range overrides with its interface

    @property
    def _oleobj_(self):
        return _OleObj(type(self)._IID)


class _OleObj:
    def __init__(self, iid: str):
        self.iid = iid

    def GetIDsOfNames(self, lcid, name):  # noqa: N802 - COM name
        raise com_error(DISP_E_UNKNOWNNAME, "Unknown name.", None, None)

    def GetTypeInfo(self):  # noqa: N802
        return self

    def GetTypeAttr(self):  # noqa: N802
        return self


class _Dll:
    """ctypes.windll / oledll / PyDLL stand-in: every function is a no-op returning 0."""

    def __init__(self, *a, **k):
        pass

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        f = _Func()
        setattr(self, name, f)
        return f


class _Func:
    restype = None

    def __call__(self, *a, **k):
        return 0


class _Loader:
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Dll()


NEW_APPS: list = []  # Application objects DispatchEx("Excel.Application") hands out, in order


def pywin32_stub_modules(messages: list) -> dict[str, types.ModuleType]:
    """The modules xlwings._xlwindows imports at module level. MessageBox calls land in `messages`."""
    m = {name: types.ModuleType(name) for name in (
        "pywintypes", "pythoncom", "win32api", "win32con", "win32com", "win32com.client",
        "win32gui", "win32process", "win32timezone")}
    pwt = m["pywintypes"]
    pwt.com_error = com_error
    pwt.error = type("error", (Exception,), {})
    pwt.TimeType = TimeType
    pwt.IID = lambda s: s
    pc = m["pythoncom"]
    pc.com_error = pc.ole_error = com_error
    pc.CoInitialize = lambda: None
    pc.__file__ = "pythoncom-stub"
    pc.DISPATCH_PROPERTYGET, pc.DISPATCH_PROPERTYPUT, pc.DISPATCH_METHOD = 2, 4, 1
    pc.Missing = pc.Empty = object()
    api = m["win32api"]

    def message_box(hwnd, text, title, style):
        messages.append((title, text, style))
        return 1  # "ok"

    api.MessageBox = message_box
    api.OpenProcess = api.TerminateProcess = api.CloseHandle = lambda *a: None
    con = m["win32con"]
    for i, k in enumerate(("MB_OK", "MB_OKCANCEL", "MB_ABORTRETRYIGNORE", "MB_YESNOCANCEL", "MB_YESNO")):
        setattr(con, k, i)
    con.MB_ICONINFORMATION, con.MB_ICONWARNING = 64, 48
    cl = m["win32com.client"]
    cl.CDispatch = CDispatch
    cl.CoClassBaseClass = type("CoClassBaseClass", (), {})
    cl.DispatchBaseClass = type("DispatchBaseClass", (), {})

    def dispatch(obj, *a, **k):  # Dispatch(an IDispatch we already hold) is that object
        if isinstance(_u(obj), CDispatch):
            return _u(obj)
        raise OSError("no COM on this machine")

    def dispatch_ex(progid, *a, **k):  # a new Excel instance: whatever the test queued
        if progid == "Excel.Application" and NEW_APPS:
            return NEW_APPS.pop(0)
        return dispatch(None)

    cl.Dispatch = dispatch
    cl.DispatchEx = dispatch_ex
    m["win32com"].client = cl
    m["win32gui"].FindWindowEx = lambda *a: 0
    m["win32process"].GetWindowThreadProcessId = lambda hwnd: (1, 4242)
    tz = m["win32timezone"]
    tz.TimeZoneInfo = type("TimeZoneInfo", (), {"utc": staticmethod(lambda: dt.timezone.utc)})
    return m


def install_pywin32_stubs(monkeypatch, messages: list):
    """Stub pywin32 and ctypes' Windows loaders, import xlwings._xlwindows fresh, return it."""
    for name, mod in pywin32_stub_modules(messages).items():
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.setattr(ctypes, "windll", _Loader(), raising=False)
    monkeypatch.setattr(ctypes, "oledll", _Loader(), raising=False)
    monkeypatch.setattr(ctypes, "PyDLL", _Dll)
    for name in ("xlwings._xlwindows", "xlwings._win32patch", "xlwings.udfs"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    # The COM server process (win32com.server) is not modelled; call_udf imports only its event
    # loop from it, which synchronous UDFs (all of ours) never use.
    server = types.ModuleType("xlwings.com_server")
    server.loop = None
    monkeypatch.setitem(sys.modules, "xlwings.com_server", server)
    import importlib

    import xlwings

    xlwindows = importlib.import_module("xlwings._xlwindows")
    monkeypatch.setattr(xlwings, "_xlwindows", xlwindows, raising=False)
    return xlwindows


# ---- the object model ---------------------------------------------------------------------------

def _u(obj):
    """The fake object behind xlwings' COMRetryObjectWrapper (COM passes the real object through)."""
    try:
        return object.__getattribute__(obj, "_inner")
    except AttributeError:
        return obj


def _rgb_int(r: int, g: int, b: int) -> int:
    return r + (g << 8) + (b << 16)  # Excel's Color is BGR


class Cell:
    __slots__ = ("value", "formula", "fill", "comment", "number_format", "bold", "font_color", "link")

    def __init__(self, value=None, formula=None):
        self.value, self.formula = value, formula
        self.fill = None  # BGR int or None
        self.comment = None  # text or None
        self.number_format = "General"
        self.bold = False
        self.font_color = 0
        self.link = None


PROTECTION_FLAGS = (  # Excel's Protection.AllowX -> openpyxl / <sheetProtection> attribute (True = forbidden)
    ("AllowFormattingCells", "formatCells"), ("AllowFormattingColumns", "formatColumns"),
    ("AllowFormattingRows", "formatRows"), ("AllowInsertingColumns", "insertColumns"),
    ("AllowInsertingRows", "insertRows"), ("AllowInsertingHyperlinks", "insertHyperlinks"),
    ("AllowDeletingColumns", "deleteColumns"), ("AllowDeletingRows", "deleteRows"),
    ("AllowSorting", "sort"), ("AllowFiltering", "autoFilter"), ("AllowUsingPivotTables", "pivotTables"),
)


class Protection(CDispatch):
    def __init__(self, app, allow: dict):
        self._app = app
        self.__dict__.update(allow)


class Application(CDispatch):
    def __init__(self):
        self._app = self
        self.unknown: list[str] = []
        self.dialogs: list[str] = []
        self.calls: list[tuple] = []  # (sheet, what) of every refused call, for the tests
        self.faults: dict[str, list] = {}  # member -> [calls to let through, exception]: injected failures
        self.reads: dict[str, int] = {}  # member -> how often it was read (cost checks)
        self.Hwnd = 1
        self.Version = "16.0"
        self.DisplayAlerts = True
        self.ScreenUpdating = True
        self.StatusBar = False
        self.workbooks: list[Workbook] = []
        self.ActiveWorkbook = None

    @property
    def Application(self):  # noqa: N802
        return self

    @property
    def ActiveSheet(self):  # noqa: N802
        return self.ActiveWorkbook.ActiveSheet if self.ActiveWorkbook else None

    @property
    def ActiveWindow(self):  # noqa: N802
        return Window(self.ActiveSheet)

    def fault(self, member: str) -> None:
        """Raise the injected failure for `member` once its countdown has run out."""
        f = self.faults.get(member)
        if f is None:
            return
        if f[0] > 0:
            f[0] -= 1
            return
        raise f[1]

    def refuse(self, where: str, message: str):
        self.calls.append((where, message))
        return excel_error(message)


class Window(CDispatch):
    """The window showing the active sheet; its panes are kept on the sheet (Excel: per window and sheet)."""

    def __init__(self, sheet):
        object.__setattr__(self, "_app", sheet._app)
        object.__setattr__(self, "_sheet", sheet)

    def __getattr__(self, item):
        if item in ("FreezePanes", "SplitRow", "SplitColumn"):
            return self._sheet.panes.get(item, 0)
        return super().__getattr__(item)

    def __setattr__(self, key, value):
        if key not in ("FreezePanes", "SplitRow", "SplitColumn"):
            self._app.unknown.append(f"Window.{key}")
            return
        self._sheet.panes[key] = value


class Workbook(CDispatch):
    def __init__(self, app: Application, path: str, *, password_sheets: dict | None = None,
                 structure_password: str | None = None):
        self._app = app
        self.Application = app
        self.FullName = path
        self.Name = path.replace("\\", "/").rsplit("/", 1)[-1]
        self.Path = path.rsplit("/", 1)[0]
        formulas = openpyxl.load_workbook(path)
        values = openpyxl.load_workbook(path, data_only=True)
        self._sheets: list[Worksheet] = []
        for ws in formulas.worksheets:
            self._sheets.append(Worksheet(self, ws, values[ws.title], (password_sheets or {}).get(ws.title)))
        sec = formulas.security
        self.ProtectStructure = bool(sec and sec.lockStructure)
        self.ProtectWindows = bool(sec and sec.lockWindows)
        saved = (sec.workbookPassword if sec is not None else None) or None  # the file's legacy hash
        self._password = (structure_password or saved) if self.ProtectStructure else None
        self._names = Names(self, formulas)
        self._active = self._sheets[0]
        app.workbooks.append(self)
        app.ActiveWorkbook = self

    # collections
    @property
    def Worksheets(self):  # noqa: N802
        return Sheets(self)

    Sheets = Worksheets

    @property
    def Names(self):  # noqa: N802
        return self._names

    @property
    def ActiveSheet(self):  # noqa: N802
        return self._active

    def Activate(self):  # noqa: N802
        self._app.ActiveWorkbook = self

    def sheet(self, name: str) -> Worksheet:
        return next(s for s in self._sheets if s.Name == name)

    # protection
    def Unprotect(self, Password=None):  # noqa: N802,N803
        if self._password is not None and Password is None:
            self._app.dialogs.append("workbook password prompt")
            raise self._app.refuse("workbook", MSG_PASSWORD)
        if self._password is not None and Password != self._password:
            raise self._app.refuse("workbook", MSG_PASSWORD)
        self.ProtectStructure = self.ProtectWindows = False
        self._password = None

    def Protect(self, Password=None, Structure=None, Windows=None):  # noqa: N802,N803
        self.ProtectStructure = bool(Structure) if Structure is not None else True
        self.ProtectWindows = bool(Windows)
        self._password = Password or None

    def _structure_guard(self, what: str):
        if self.ProtectStructure:
            raise self._app.refuse("workbook", what)


class Sheets(CDispatch):
    def __init__(self, book: Workbook):
        self._app, self._book = book._app, book

    @property
    def Count(self):  # noqa: N802
        return len(self._book._sheets)

    @property
    def Parent(self):  # noqa: N802
        return self._book

    def __call__(self, key):
        if isinstance(key, int):
            return self._book._sheets[key - 1]
        for s in self._book._sheets:
            if s.Name.lower() == str(key).lower():
                return s
        raise excel_error("Subscript out of range", "")

    Item = __call__

    def __iter__(self):
        return iter(list(self._book._sheets))

    def Add(self, Before=None, After=None, Count=None, Type=None):  # noqa: N802,N803
        Before, After = _u(Before), _u(After)
        self._book._structure_guard("Add method of Sheets class failed")
        n = 1
        while any(s.Name == f"Sheet{n}" for s in self._book._sheets):
            n += 1
        ws = Worksheet(self._book, None, None, None, name=f"Sheet{n}")
        sheets = self._book._sheets
        if Before is not None:
            sheets.insert(sheets.index(Before), ws)
        elif After is not None:
            sheets.insert(sheets.index(After) + 1, ws)
        else:
            sheets.insert(sheets.index(self._book._active), ws)
        self._book._active = ws
        return ws


class Worksheet(CDispatch):
    def __init__(self, book: Workbook, ws, ws_values, password: str | None, name: str | None = None):
        self._app, self._book = book._app, book
        self._name = name or ws.title
        self.cells: dict[tuple[int, int], Cell] = {}
        self.merged: list[tuple[int, int, int, int]] = []  # (min_row, min_col, max_row, max_col)
        self.widths: dict[int, float] = {}
        self._visible = -1  # xlSheetVisible
        self.panes: dict[str, object] = {}
        self.wrapped: set[tuple[int, int]] = set()
        self.EnableSelection = 0
        prot_allow = {k: True for k, _ in PROTECTION_FLAGS}
        self.ProtectContents = self.ProtectDrawingObjects = self.ProtectScenarios = False
        self.ProtectionMode = False
        self._password = None
        if ws is None:
            self.Protection = Protection(self._app, prot_allow)
            return
        self._visible = {"visible": -1, "hidden": 0, "veryHidden": 2}[ws.sheet_state]
        for row in ws.iter_rows():
            for c in row:
                v = ws_values[c.coordinate].value
                f = c.value if isinstance(c.value, str) and c.value.startswith("=") else None
                if getattr(ws_values[c.coordinate], "data_type", "") == "e" and isinstance(v, str):
                    v = ERROR_CODES.get(v, ERROR_CODES["#VALUE!"])
                elif isinstance(v, dt.datetime):
                    v = TimeType(v.year, v.month, v.day, v.hour, v.minute, v.second, tzinfo=dt.timezone.utc)
                elif isinstance(v, dt.date):
                    v = TimeType(v.year, v.month, v.day, tzinfo=dt.timezone.utc)
                elif isinstance(v, int) and not isinstance(v, bool):
                    v = float(v)  # COM gives doubles
                cell = Cell(v, f)
                fill = c.fill
                if fill is not None and fill.fill_type == "solid":
                    rgb = fill.fgColor.rgb if fill.fgColor.type == "rgb" else "FFF2F2F2"
                    if isinstance(rgb, str) and len(rgb) >= 6:
                        h = rgb[-6:]
                        cell.fill = _rgb_int(int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
                if c.comment is not None:
                    cell.comment = c.comment.text
                if v is not None or f is not None or cell.fill is not None or cell.comment is not None:
                    self.cells[(c.row, c.column)] = cell
        for mr in ws.merged_cells.ranges:
            self.merged.append((mr.min_row, mr.min_col, mr.max_row, mr.max_col))
        p = ws.protection
        if p.sheet:
            self.ProtectContents = True
            self.ProtectDrawingObjects = bool(p.objects)
            self.ProtectScenarios = bool(p.scenarios)
            for allow, attr in PROTECTION_FLAGS:
                prot_allow[allow] = not bool(getattr(p, attr))
            self.EnableSelection = 1 if p.selectLockedCells else 0
            self._password = password if password else (p.password or None)
        self.Protection = Protection(self._app, prot_allow)

    def __repr__(self):
        return f"<Worksheet {self._name}>"

    # identity
    @property
    def Name(self):  # noqa: N802
        return self._name

    @Name.setter
    def Name(self, value):  # noqa: N802
        self._book._structure_guard("Unable to set the Name property of the Worksheet class")
        if len(value) > 31 or any(s is not self and s._name.lower() == value.lower() for s in self._book._sheets):
            raise self._app.refuse(value, "That name is already taken. Try a different one.")
        self._name = value

    @property
    def Index(self):  # noqa: N802
        return self._book._sheets.index(self) + 1

    @property
    def Parent(self):  # noqa: N802
        return self._book

    @property
    def Application(self):  # noqa: N802
        return self._app

    @property
    def Visible(self):  # noqa: N802
        return self._visible

    @Visible.setter
    def Visible(self, value):  # noqa: N802
        self._book._structure_guard("Unable to set the Visible property of the Worksheet class")
        value = {True: -1, False: 0}.get(value, value)
        if value != -1 and sum(1 for s in self._book._sheets if s._visible == -1 and s is not self) == 0:
            raise self._app.refuse(self._name, "Unable to set the Visible property of the Worksheet class")
        self._visible = value

    def Activate(self):  # noqa: N802
        if self._visible != -1:
            raise self._app.refuse(self._name, "Activate method of Worksheet class failed")
        self._book._active = self

    Select = Activate

    def Delete(self):  # noqa: N802
        self._book._structure_guard("Delete method of Worksheet class failed")
        if self._app.DisplayAlerts:
            self._app.dialogs.append(f"delete {self._name}?")
        self._book._sheets.remove(self)
        if self._book._active is self:
            self._book._active = next(s for s in self._book._sheets if s._visible == -1)

    def Move(self, Before=None, After=None):  # noqa: N802,N803
        Before, After = _u(Before), _u(After)
        self._book._structure_guard("Move method of Worksheet class failed")
        sheets = self._book._sheets
        sheets.remove(self)
        if Before is not None:
            sheets.insert(sheets.index(Before), self)
        else:
            sheets.insert(sheets.index(After) + 1, self)

    # protection
    def Unprotect(self, Password=None):  # noqa: N802,N803
        if self._password is not None and Password is None:
            self._app.dialogs.append(f"password prompt for {self._name}")
            raise self._app.refuse(self._name, MSG_PASSWORD)
        if self._password is not None and Password != self._password:
            raise self._app.refuse(self._name, MSG_PASSWORD)
        self.ProtectContents = self.ProtectDrawingObjects = self.ProtectScenarios = False
        self._password = None

    def Protect(self, Password=None, DrawingObjects=True, Contents=True, Scenarios=True,  # noqa: N802,N803
                UserInterfaceOnly=False, **allow):
        if self.ProtectContents and self._password is not None:
            raise self._app.refuse(self._name, "Protect method of Worksheet class failed")
        self.ProtectContents, self.ProtectDrawingObjects = bool(Contents), bool(DrawingObjects)
        self.ProtectScenarios, self.ProtectionMode = bool(Scenarios), bool(UserInterfaceOnly)
        known = {k for k, _ in PROTECTION_FLAGS}
        for k, v in allow.items():
            if k not in known:
                self._app.unknown.append(f"Worksheet.Protect({k}=)")
                continue
            setattr(self.Protection, k, bool(v))
        for k in known - set(allow):
            setattr(self.Protection, k, False)  # Excel: an option not passed is reset to not allowed
        self._password = Password or None

    def guard(self, allow: str, what: str, objects: bool = False):
        """Refuse `what` as Excel does when the sheet is protected against it."""
        if objects:
            if self.ProtectDrawingObjects:
                raise self._app.refuse(self._name, what)
            return
        if self.ProtectContents and not getattr(self.Protection, allow, False):
            raise self._app.refuse(self._name, what)

    # ranges
    def cell(self, r: int, c: int) -> Cell:
        return self.cells.setdefault((r, c), Cell())

    def merge_at(self, r: int, c: int):
        for box in self.merged:
            if box[0] <= r <= box[2] and box[1] <= c <= box[3]:
                return box
        return None

    def Cells(self, row, col):  # noqa: N802
        return Range(self, row, col, row, col)

    def Range(self, a, b=None):  # noqa: N802
        a, b = _u(a), _u(b)
        if isinstance(a, Range):
            if b is None:
                return a
            return Range(self, min(a.r1, b.r1), min(a.c1, b.c1), max(a.r2, b.r2), max(a.c2, b.c2))
        ref = a.replace("$", "") if b is None else f"{a}:{b}".replace("$", "")
        c1, r1, c2, r2 = range_boundaries(ref)
        if r1 is None:  # "D:D": the whole column, as Excel means it
            r1, r2 = 1, MAX_ROW
        if c1 is None:  # "4:4"
            c1, c2 = 1, MAX_COL
        return Range(self, r1, c1, r2, c2)

    @property
    def UsedRange(self):  # noqa: N802
        used = [k for k, c in self.cells.items() if c.value is not None or c.formula or c.fill is not None
                or c.comment is not None]
        if not used:
            return Range(self, 1, 1, 1, 1)
        rows = [r for r, _ in used] + [b[2] for b in self.merged]
        cols = [c for _, c in used] + [b[3] for b in self.merged]
        return Range(self, min(r for r, _ in used), min(c for _, c in used), max(rows), max(cols))

    @property
    def Comments(self):  # noqa: N802
        return [Comment(Range(self, r, c, r, c)) for (r, c), cell in sorted(self.cells.items()) if cell.comment is not None]

    @property
    def Hyperlinks(self):  # noqa: N802
        return Hyperlinks(self)

    @property
    def Names(self):  # noqa: N802
        return []


class Range(CDispatch):
    _IID = "{00020846-0000-0000-C000-000000000046}"  # Excel's Range interface (xlwings' is_range_instance)

    def __init__(self, sheet: Worksheet, r1, c1, r2, c2):
        self._app, self._sheet = sheet._app, sheet
        self.r1, self.c1, self.r2, self.c2 = r1, c1, r2, c2

    def __repr__(self):
        return f"<Range {self._sheet.Name}!{self.Address}>"

    def _each(self):
        for r in range(self.r1, self.r2 + 1):
            for c in range(self.c1, self.c2 + 1):
                yield r, c

    def __call__(self, row, col=1):
        r, c = self.r1 + row - 1, self.c1 + col - 1
        return Range(self._sheet, r, c, r, c)

    Item = __call__

    @property
    def Worksheet(self):  # noqa: N802
        return self._sheet

    Parent = Worksheet

    @property
    def Application(self):  # noqa: N802
        return self._app

    @property
    def Row(self):  # noqa: N802
        return self.r1

    @property
    def Column(self):  # noqa: N802
        return self.c1

    @property
    def Rows(self):  # noqa: N802
        return _Count(self.r2 - self.r1 + 1)

    @property
    def Columns(self):  # noqa: N802
        return _Count(self.c2 - self.c1 + 1)

    @property
    def Count(self):  # noqa: N802
        return (self.r2 - self.r1 + 1) * (self.c2 - self.c1 + 1)

    @property
    def Address(self):  # noqa: N802
        a = f"${get_column_letter(self.c1)}${self.r1}"
        if (self.r1, self.c1) == (self.r2, self.c2):
            return a
        return f"{a}:${get_column_letter(self.c2)}${self.r2}"

    def GetAddress(self, RowAbsolute=True, ColumnAbsolute=True, ReferenceStyle=1, External=False):  # noqa
        return self.Address

    # values
    def _grid(self, get):
        rows = tuple(tuple(get(r, c) for c in range(self.c1, self.c2 + 1)) for r in range(self.r1, self.r2 + 1))
        return rows[0][0] if self.Count == 1 else rows

    @property
    def Value(self):  # noqa: N802
        self._app.reads["Value cells"] = self._app.reads.get("Value cells", 0) + self.Count

        def get(r, c):
            cell = self._sheet.cells.get((r, c))
            return None if cell is None else cell.value
        return self._grid(get)

    @Value.setter
    def Value(self, data):  # noqa: N802
        sh = self._sheet
        if sh.ProtectContents:
            raise self._app.refuse(sh.Name, MSG_PROTECTED_CELL)
        if not isinstance(data, (list, tuple)):
            data = [[data]]
        elif data and not isinstance(data[0], (list, tuple)):
            data = [data]
        for i, row in enumerate(data):
            for j, v in enumerate(row):
                cell = sh.cell(self.r1 + i, self.c1 + j)
                if isinstance(v, str) and v.startswith("="):
                    cell.formula, cell.value = v, None
                    self._app.unknown.append("formula written (not evaluated by the fake)")
                elif isinstance(v, str) and v.startswith("'"):
                    cell.formula, cell.value = None, v[1:]
                else:
                    if isinstance(v, int) and not isinstance(v, bool):
                        v = float(v)  # read back as a double, as from Excel
                    cell.formula, cell.value = None, (None if v == "" else v)

    Value2 = Value

    @property
    def Formula(self):  # noqa: N802
        def get(r, c):
            cell = self._sheet.cells.get((r, c))
            if cell is None or (cell.value is None and not cell.formula):
                return ""
            if cell.formula:
                return cell.formula
            if isinstance(cell.value, float) and cell.value.is_integer():
                return str(int(cell.value))
            if isinstance(cell.value, int) and cell.value in ERROR_CODES.values():
                return next(k for k, v in ERROR_CODES.items() if v == cell.value)
            return str(cell.value)
        return self._grid(get)

    # merges
    @property
    def MergeCells(self):  # noqa: N802
        self._app.reads["MergeCells"] = self._app.reads.get("MergeCells", 0) + 1
        boxes = {self._sheet.merge_at(r, c) for r, c in self._each()}
        if boxes == {None}:
            return False
        return True if None not in boxes else None

    @property
    def MergeArea(self):  # noqa: N802
        box = self._sheet.merge_at(self.r1, self.c1)
        if box is None:
            return self
        return Range(self._sheet, *box)

    # formats
    @property
    def Interior(self):  # noqa: N802
        return Interior(self)

    @property
    def Font(self):  # noqa: N802
        return Font(self)

    @property
    def ColumnWidth(self):  # noqa: N802
        return self._sheet.widths.get(self.c1, 8.43)

    @ColumnWidth.setter
    def ColumnWidth(self, value):  # noqa: N802
        self._app.fault("Range.ColumnWidth")
        self._sheet.guard("AllowFormattingColumns", "Unable to set the ColumnWidth property of the Range class")
        for c in range(self.c1, self.c2 + 1):
            self._sheet.widths[c] = value

    @property
    def NumberFormat(self):  # noqa: N802
        return self._sheet.cells.get((self.r1, self.c1), Cell()).number_format

    @NumberFormat.setter
    def NumberFormat(self, value):  # noqa: N802
        self._sheet.guard("AllowFormattingCells", "Unable to set the NumberFormat property of the Range class")
        for r, c in self._each():
            self._sheet.cell(r, c).number_format = value

    def Merge(self, Across=False):  # noqa: N802,N803
        self._sheet.guard("AllowFormattingCells", "Merge method of Range class failed")
        self._sheet.merged.append((self.r1, self.c1, self.r2, self.c2))

    @property
    def WrapText(self):  # noqa: N802
        return (self.r1, self.c1) in self._sheet.wrapped

    @WrapText.setter
    def WrapText(self, value):  # noqa: N802
        self._sheet.guard("AllowFormattingCells", "Unable to set the WrapText property of the Range class")
        for rc in self._each():
            (self._sheet.wrapped.add if value else self._sheet.wrapped.discard)(rc)

    # comments (Excel's notes)
    @property
    def Comment(self):  # noqa: N802
        cell = self._sheet.cells.get((self.r1, self.c1))
        return Comment(self) if cell is not None and cell.comment is not None else None

    def AddComment(self, Text=None):  # noqa: N802,N803
        self._sheet.guard("", "AddComment method of Range class failed", objects=True)
        cell = self._sheet.cell(self.r1, self.c1)
        if cell.comment is not None:
            raise self._app.refuse(self._sheet.Name, "Application-defined or object-defined error")
        cell.comment = "" if Text is None else str(Text)
        return Comment(self)

    @property
    def Hyperlinks(self):  # noqa: N802
        return Hyperlinks(self._sheet)


class _Count(CDispatch):
    def __init__(self, n):
        self.Count = n


class Interior(CDispatch):
    def __init__(self, rng: Range):
        self._app, self._rng = rng._app, rng

    def _cells(self):
        sh = self._rng._sheet
        return [sh.cell(r, c) for r, c in self._rng._each()]

    @property
    def Color(self):  # noqa: N802
        fills = {c.fill for c in self._cells()}
        f = fills.pop() if len(fills) == 1 else None
        return 16777215 if f is None else f  # Excel reports white for no fill

    @Color.setter
    def Color(self, value):  # noqa: N802
        self._app.fault("Interior.Color")
        self._rng._sheet.guard("AllowFormattingCells", "Unable to set the Color property of the Interior class")
        for c in self._cells():
            c.fill = int(value)

    @property
    def ColorIndex(self):  # noqa: N802
        fills = {c.fill for c in self._cells()}
        if fills == {None}:
            return XL_NONE
        return None if len(fills) > 1 else 1

    @ColorIndex.setter
    def ColorIndex(self, value):  # noqa: N802
        self._rng._sheet.guard("AllowFormattingCells", "Unable to set the ColorIndex property of the Interior class")
        if value == XL_NONE:
            for c in self._cells():
                c.fill = None
        else:
            self._app.unknown.append("Interior.ColorIndex = palette index")

    @property
    def Pattern(self):  # noqa: N802
        return XL_NONE if self.ColorIndex == XL_NONE else 1


class Font(CDispatch):
    def __init__(self, rng: Range):
        self._app, self._rng = rng._app, rng

    def _set(self, attr, value, prop):
        self._app.fault("Font." + prop)
        self._rng._sheet.guard("AllowFormattingCells", f"Unable to set the {prop} property of the Font class")
        sh = self._rng._sheet
        for r, c in self._rng._each():
            setattr(sh.cell(r, c), attr, value)

    @property
    def Bold(self):  # noqa: N802
        return self._rng._sheet.cells.get((self._rng.r1, self._rng.c1), Cell()).bold

    @Bold.setter
    def Bold(self, value):  # noqa: N802
        self._set("bold", bool(value), "Bold")

    @property
    def Color(self):  # noqa: N802
        return self._rng._sheet.cells.get((self._rng.r1, self._rng.c1), Cell()).font_color

    @Color.setter
    def Color(self, value):  # noqa: N802
        self._set("font_color", int(value), "Color")


class Comment(CDispatch):
    def __init__(self, rng: Range):
        self._app, self._rng = rng._app, rng

    @property
    def Parent(self):  # noqa: N802
        return self._rng

    @property
    def Author(self):  # noqa: N802
        return "clerk"

    def Text(self, Text=None, Start=None, Overwrite=None):  # noqa: N802,N803
        cell = self._rng._sheet.cell(self._rng.r1, self._rng.c1)
        if Text is not None:
            self._rng._sheet.guard("", "Text method of Comment class failed", objects=True)
            cell.comment = str(Text)
        return cell.comment

    def Delete(self):  # noqa: N802
        self._rng._sheet.guard("", "Delete method of Comment class failed", objects=True)
        self._rng._sheet.cell(self._rng.r1, self._rng.c1).comment = None


class Hyperlink(CDispatch):
    def __init__(self, app, cell: Cell, address, sub_address):
        self._app, self._cell = app, cell
        self.Address, self.SubAddress = address, sub_address
        self.ScreenTip = None
        self.TextToDisplay = None


class Hyperlinks(CDispatch):
    def __init__(self, sheet: Worksheet):
        self._app, self._sheet = sheet._app, sheet

    def Add(self, Anchor, Address, SubAddress=None, ScreenTip=None, TextToDisplay=None):  # noqa: N802,N803
        self._app.fault("Hyperlinks.Add")
        self._sheet.guard("AllowInsertingHyperlinks", "Add method of Hyperlinks class failed")
        Anchor = _u(Anchor)
        cell = self._sheet.cell(Anchor.r1, Anchor.c1)
        link = Hyperlink(self._app, cell, Address, SubAddress)
        link.ScreenTip, link.TextToDisplay = ScreenTip, TextToDisplay
        cell.link = link
        return link


class Name(CDispatch):
    def __init__(self, book: Workbook, name: str, refers_to: str):
        self._app, self._book = book._app, book
        self.Name, self._refers_to = name, refers_to

    @property
    def RefersTo(self):  # noqa: N802
        return "=" + self._refers_to

    @property
    def RefersToRange(self):  # noqa: N802
        ref = self._refers_to
        if "!" not in ref:
            raise excel_error("Application-defined or object-defined error", "")
        sheet, addr = ref.rsplit("!", 1)
        sheet = sheet.strip("'").replace("''", "'")
        try:
            ws = self._book.sheet(sheet)
        except StopIteration:
            raise excel_error("Application-defined or object-defined error", "") from None
        return ws.Range(addr)


class Names(CDispatch):
    def __init__(self, book: Workbook, wb):
        self._app = book._app
        self._items = [Name(book, n, dn.attr_text) for n, dn in wb.defined_names.items()]

    @property
    def Count(self):  # noqa: N802
        return len(self._items)

    def __iter__(self):
        return iter(list(self._items))

    def __call__(self, i):
        return self._items[i - 1]

    Item = __call__


def state(book: Workbook) -> dict:
    """Everything a run may change, for before/after comparisons."""
    return {
        "sheets": [(s.Name, s.Visible) for s in book._sheets],
        "fills": {(s.Name, k): c.fill for s in book._sheets for k, c in s.cells.items() if c.fill is not None},
        "notes": {(s.Name, k): c.comment for s in book._sheets for k, c in s.cells.items() if c.comment is not None},
        "protection": protection(book),
    }


def protection(book: Workbook) -> dict:
    """Every protection option of the book and its sheets, password included."""
    out = {"<structure>": (book.ProtectStructure, book.ProtectWindows, book._password)}
    for s in book._sheets:
        out[s.Name] = (s.ProtectContents, s.ProtectDrawingObjects, s.ProtectScenarios, s.ProtectionMode,
                       s._password, s.EnableSelection, tuple(sorted((k, v) for k, v in vars(s.Protection).items() if k.startswith("Allow"))))
    return out


def open_book(path: str, **kw) -> tuple[Application, Workbook]:
    app = Application()
    return app, Workbook(app, path, **kw)


def connect(monkeypatch, xlwindows, app: Application, book: Workbook):
    """Make xlwings see this Excel as the running instance, and `book` as the caller of the macro.

    Only xlwings' window discovery (win32 window enumeration, AccessibleObjectFromWindow) is
    replaced; the workbook reaches our code the way an OPTIMIZED_CONNECTION RunPython hands it
    over (xlwings._xlwindows.BOOK_CALLER), wrapped in xlwings' own COM retry wrapper.
    """
    import xlwings
    from xlwings.main import Engine, engines

    engine = Engine(impl=xlwindows.engine)
    monkeypatch.setattr(engines, "engines", [*engines.engines, engine])
    monkeypatch.setattr(engines, "engines_by_name", {**engines.engines_by_name, engine.name: engine})
    monkeypatch.setattr(engines, "active", engine)
    monkeypatch.setattr(xlwindows, "get_excel_hwnds", lambda: iter([app.Hwnd]))
    monkeypatch.setattr(xlwindows, "get_xl_app_from_hwnd", lambda hwnd: xlwindows.COMRetryObjectWrapper(app))
    monkeypatch.setattr(xlwindows, "BOOK_CALLER", xlwindows.COMRetryObjectWrapper(book))
    return xlwings.Book.caller()


# ---- an Excel started by automation, opening an add-in (perfeval excel install --functions) --------

MSG_VBOM = "Programmatic access to Visual Basic Project is not trusted\n"


class AutomationExcel(Application):
    """A hidden Excel as DispatchEx starts it: opens files, may refuse the VBA project."""

    def __init__(self, trust_vbom: bool):
        super().__init__()
        self.trust_vbom = trust_vbom
        self.Visible = False
        self.macro_options: list[tuple] = []
        self.quit = False

    @property
    def Workbooks(self):  # noqa: N802
        return _Workbooks(self)

    def MacroOptions(self, Macro, **kw):  # noqa: N802,N803
        self.macro_options.append((Macro, kw))

    def Quit(self):  # noqa: N802
        self.quit = True

    def Run(self, macro, *args):  # noqa: N802
        """The add-in's own VBA fallback of import_udfs; it needs the same trust."""
        if macro != "ImportXlwingsUdfsModule":
            self.unknown.append(f"Run({macro})")
            raise excel_error(f"Cannot run the macro '{macro}'.")
        if not self.trust_vbom:
            raise excel_error(MSG_VBOM)
        _VBComponents(self.workbooks[-1]).Import(args[0])


class _Workbooks(CDispatch):
    def __init__(self, app):
        self._app = app

    def Open(self, path, *args):  # noqa: N802
        book = AddinBook(self._app, path)
        self._app.workbooks.append(book)
        return book

    def __iter__(self):
        return iter(list(self._app.workbooks))

    def __call__(self, key):
        for b in self._app.workbooks:
            if isinstance(key, int) and self._app.workbooks.index(b) == key - 1 or str(key).lower() == b.Name.lower():
                return b
        raise excel_error("Subscript out of range", "")

    @property
    def Count(self):  # noqa: N802
        return len(self._app.workbooks)


class AddinBook(CDispatch):
    """An .xlam opened for editing its VBA project: no cells are modelled."""

    def __init__(self, app, path: str):
        self._app = app
        self.Application = app
        self.FullName = path
        self.Name = os.path.basename(path)
        self.Path = os.path.dirname(path)
        self.FileFormat = 55  # xlOpenXMLAddIn
        self.saved = 0
        self.components: dict[str, str] = {}

    @property
    def Worksheets(self):  # noqa: N802
        return []

    @property
    def VBProject(self):  # noqa: N802
        if not self._app.trust_vbom:
            raise excel_error(MSG_VBOM)
        return _VBProject(self)

    def Save(self):  # noqa: N802
        self.saved += 1

    def Close(self, SaveChanges=None):  # noqa: N802,N803
        pass


class _VBProject(CDispatch):
    def __init__(self, book):
        self._app, self._book = book._app, book

    @property
    def VBComponents(self):  # noqa: N802
        return _VBComponents(self._book)


class _VBComponents(CDispatch):
    def __init__(self, book):
        self._app, self._book = book._app, book

    def __call__(self, name):
        if name not in self._book.components:
            raise excel_error("Subscript out of range", "VBAProject")
        return name

    def Remove(self, name):  # noqa: N802
        del self._book.components[_u(name)]

    def Import(self, path):  # noqa: N802
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        m = re.search(r'Attribute VB_Name = "(\w+)"', text)
        self._book.components[m.group(1) if m else "Module1"] = text
