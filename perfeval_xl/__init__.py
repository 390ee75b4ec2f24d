"""perfeval-xl: the official 部门整体支出绩效自评 workbook that checks itself.

Flow: reader -> form model -> rules -> findings -> writers.
The Excel entry points (main, validate_book, clear_marks) live in
perfeval_xl.excel and are loaded lazily so that batch work never imports xlwings.
"""
__version__ = "0.1.0"

_EXCEL = {"main", "validate_book", "clear_marks"}


def __getattr__(name):
    if name in _EXCEL:
        from . import excel

        return getattr(excel, name)
    raise AttributeError(name)
