"""Build hook: the package data (perfeval_xl/data/) is copied at build time from the checkout's
single source (workbook/, templates/: the README's paths), so no second copy is kept in git.

The list of files lives in perfeval_xl/resources.py (no third-party imports, loaded by path here).
"""
import importlib.util
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def _resources():
    spec = importlib.util.spec_from_file_location("_perfeval_resources", os.path.join(HERE, "perfeval_xl", "resources.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        res = _resources()
        dest_dir = os.path.join(self.build_lib, "perfeval_xl", res.DATA_DIRNAME)
        os.makedirs(dest_dir, exist_ok=True)
        for name, rel in res.CHECKOUT_COPIES.items():
            shutil.copyfile(os.path.join(HERE, rel), os.path.join(dest_dir, name))


setup(cmdclass={"build_py": BuildPyWithData})
