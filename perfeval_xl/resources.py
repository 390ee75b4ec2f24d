"""Files the installed package carries (package data in perfeval_xl/data/), and their checkout copies.

A plain `pip install` has no checkout: the ribbon XML, the built add-in, the xlwings.conf example
and the blank template must come from the package. The checkout keeps its top-level copies
(templates/, workbook/: the README's paths); tests/test_packaging.py proves each pair identical,
and `python -m perfeval_xl.resources` copies the checkout files into the package after a rebuild.
"""
from __future__ import annotations

import os
import shutil
import sys

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

RIBBON = "customUI.xml"
ADDIN = "perfeval_xl.xlam"
XLWINGS_CONF = "xlwings.conf"
TEMPLATE = "部门整体支出绩效自评表.xlsx"

# package file -> its copy in a checkout (relative to the repository root)
CHECKOUT_COPIES = {
    RIBBON: os.path.join("workbook", "ribbon", RIBBON),
    ADDIN: os.path.join("workbook", ADDIN),
    XLWINGS_CONF: os.path.join("workbook", XLWINGS_CONF),
    TEMPLATE: os.path.join("templates", TEMPLATE),
}


def data_path(name: str) -> str:
    """Path of a packaged file."""
    return os.path.join(DATA_DIR, name)


def in_checkout() -> bool:
    """True when running from a source checkout (the top-level workbook/ and templates/ exist)."""
    return all(os.path.isdir(os.path.join(REPO_ROOT, d)) for d in ("workbook", "templates"))


def sync(root: str = REPO_ROOT) -> list[str]:
    """Copy the checkout files into the package data. Returns the files that changed."""
    changed = []
    for name, rel in CHECKOUT_COPIES.items():
        src, dest = os.path.join(root, rel), data_path(name)
        with open(src, "rb") as f:
            data = f.read()
        if not os.path.isfile(dest) or open(dest, "rb").read() != data:
            shutil.copyfile(src, dest)
            changed.append(dest)
    return changed


def main(argv: list[str] | None = None) -> int:
    if not in_checkout():
        print("perfeval：不在源码目录中，无需同步", file=sys.stderr)
        return 2
    for path in sync():
        print(f"已更新：{path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
