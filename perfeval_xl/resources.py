"""Files the installed package carries, and where they come from.

A plain `pip install` has no checkout: the ribbon XML, the built add-in, the xlwings.conf example
and the blank template must come from the package. Their single source is the checkout's
top-level workbook/ and templates/ (the README's paths); setup.py copies them into perfeval_xl/data/
when a wheel is built, so no second copy is kept in git. In a checkout (or an editable install)
data_path() finds them in place.
"""
from __future__ import annotations

import os

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
DATA_DIRNAME = "data"
DATA_DIR = os.path.join(PACKAGE_DIR, DATA_DIRNAME)
REPO_ROOT = os.path.dirname(PACKAGE_DIR)

RIBBON = "customUI.xml"
ADDIN = "perfeval_xl.xlam"
XLWINGS_CONF = "xlwings.conf"
TEMPLATE = "部门整体支出绩效自评表.xlsx"

# packaged file -> its source in a checkout (relative to the repository root)
CHECKOUT_COPIES = {
    RIBBON: os.path.join("workbook", "ribbon", RIBBON),
    ADDIN: os.path.join("workbook", ADDIN),
    XLWINGS_CONF: os.path.join("workbook", XLWINGS_CONF),
    TEMPLATE: os.path.join("templates", TEMPLATE),
}


def in_checkout() -> bool:
    """True when running from a source checkout (the top-level workbook/ and templates/ exist)."""
    return all(os.path.isfile(os.path.join(REPO_ROOT, rel)) for rel in CHECKOUT_COPIES.values())


def data_path(name: str) -> str:
    """Path of a packaged file: the installed copy, else its source in the checkout."""
    installed = os.path.join(DATA_DIR, name)
    if os.path.isfile(installed):
        return installed
    return os.path.join(REPO_ROOT, CHECKOUT_COPIES[name])
