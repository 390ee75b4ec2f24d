"""What a plain `pip install` carries and does: the package data (copied from workbook/ and templates/
at build time, one source), the xlwings floor, a wheel that builds the add-in and the template from
outside the checkout, and `perfeval excel install` (README steps 3-5 as one command)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile

import pytest

from perfeval_xl import addin, excel_install, resources

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_in_a_checkout_the_data_is_read_from_its_single_source():
    for name, rel in resources.CHECKOUT_COPIES.items():
        assert os.path.samefile(resources.data_path(name), os.path.join(ROOT, rel))


def test_pyproject_floor_has_every_api_we_call():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        meta = tomllib.load(f)
    floor = next(d for d in meta["project"]["dependencies"] if d.startswith("xlwings"))
    assert floor.startswith("xlwings>=") and tuple(map(int, floor.split(">=")[1].split("."))) >= (0, 37, 5)
    import xlwings as xw

    for api in ("add_note", "note", "add_hyperlink", "merge_area", "color"):  # Range.add_note: 0.37.5
        assert hasattr(xw.Range, api), api


def test_committed_addin_matches_the_installed_xlwings():
    """The add-in's VBA loads xlwings64-<version>.dll: it works only with that xlwings version."""
    assert addin.addin_xlwings_version(addin.PACKAGED_ADDIN) == addin.installed_xlwings_version() or pytest.skip(
        "xlwings version differs from the committed add-in's; `perfeval excel install` builds a matching one")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    # a clean copy of the sources: an in-tree build would reuse (and leave) build/ in the checkout
    src = out / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "out"))
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(src)],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        pytest.skip(f"cannot build a wheel here (no network or package index?): {r.stderr.strip()[-300:]}")
    return next(out.glob("*.whl"))


def test_wheel_carries_the_package_data(wheel):
    with zipfile.ZipFile(wheel) as z:
        for name, rel in resources.CHECKOUT_COPIES.items():
            with open(os.path.join(ROOT, rel), "rb") as f:
                assert z.read(f"perfeval_xl/data/{name}") == f.read(), name


def test_installed_package_builds_the_addin_and_the_template_outside_the_checkout(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    work = tmp_path / "elsewhere"
    work.mkdir()
    # -S: no site processing, so the checkout's editable install cannot leak in; the dependencies
    # come from this environment's site-packages, after the installed package
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), sysconfig.get_paths()["purelib"],
                                                        sysconfig.get_paths()["platlib"]])}
    probe = subprocess.run([sys.executable, "-S", "-c", "from perfeval_xl import resources as r; "
                            "print(r.data_path(r.RIBBON)); print(r.in_checkout())"],
                           cwd=work, env=env, capture_output=True, text=True, check=True)
    ribbon, in_checkout = probe.stdout.split()
    assert ribbon.startswith(str(target)) and in_checkout == "False"
    r = subprocess.run([sys.executable, "-S", "-m", "perfeval_xl.addin", str(work / "out" / "perfeval_xl.xlam")],
                       cwd=work, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    built = work / "out" / "perfeval_xl.xlam"
    with zipfile.ZipFile(built) as z, open(resources.data_path(resources.RIBBON), "rb") as f:
        assert z.read(addin.RIBBON_PART) == f.read()
    r = subprocess.run([sys.executable, "-S", "-c", "import sys; from perfeval_xl.cli import main; sys.exit(main())",
                        "template", "-o", str(work / "模板.xlsx")], cwd=work, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with open(work / "模板.xlsx", "rb") as a, open(os.path.join(ROOT, resources.CHECKOUT_COPIES[resources.TEMPLATE]), "rb") as b:
        assert a.read() == b.read()  # the build is deterministic: the same bytes as the committed template


# ---- perfeval excel install ---------------------------------------------------------------------

def test_excel_install_places_the_addin_and_writes_both_configs(tmp_path, capsys):
    from perfeval_xl.cli import main

    xlstart, home = tmp_path / "XLSTART", tmp_path / "home"
    assert main(["excel", "install", "--xlstart", str(xlstart), "--home", str(home)]) == 0
    out = capsys.readouterr().out
    assert "1/4" in out and "4/4" in out
    placed = xlstart / addin.ADDIN_NAME
    assert addin.addin_xlwings_version(str(placed)) == addin.installed_xlwings_version()
    assert sorted(p.name for p in xlstart.iterdir()) == ["perfeval_xl.xlam", "xlwings.xlam"]  # nothing else in XLSTART
    exe = excel_install.interpreter()
    assert excel_install.read_conf(str(home / ".myaddin" / "myaddin.conf")) == {"INTERPRETER_WIN": exe}
    assert excel_install.read_conf(str(home / ".xlwings" / "xlwings.conf")) == {
        "INTERPRETER_WIN": exe, "UDF MODULES": "perfeval_xl.udfs"}


def test_excel_install_keeps_the_users_settings_and_a_backup(tmp_path, capsys):
    xlstart, home = tmp_path / "XLSTART", tmp_path / "home"
    conf = home / ".xlwings" / "xlwings.conf"
    conf.parent.mkdir(parents=True)
    conf.write_bytes(b'"INTERPRETER_WIN","C:\\old\\pythonw.exe"\r\n"SHOW CONSOLE","True"\r\n')
    assert excel_install.Installer(str(xlstart), str(home), say=lambda s: None).run() == 0
    pairs = excel_install.read_conf(str(conf))
    assert pairs["SHOW CONSOLE"] == "True" and pairs["UDF MODULES"] == "perfeval_xl.udfs"
    assert pairs["INTERPRETER_WIN"] == excel_install.interpreter()
    backups = list((home / ".perfeval_xl" / "backup").rglob("xlwings.conf"))
    assert len(backups) == 1 and b"C:\\old\\pythonw.exe" in backups[0].read_bytes()
    # a second run changes nothing and backs up nothing more
    said: list[str] = []
    excel_install.Installer(str(xlstart), str(home), say=said.append).run()
    assert sum("已是最新" in s for s in said) == 4
    assert len([p for p in (home / ".perfeval_xl" / "backup").rglob("*") if p.is_file()]) == 1


def test_interpreter_path_is_written_with_userprofile(tmp_path):
    env = {"USERPROFILE": "C:\\Users\\张三"}
    exe = "C:\\Users\\张三\\AppData\\Local\\Programs\\Python\\Python311\\python.exe"
    assert excel_install.interpreter(exe, env) == "%USERPROFILE%\\AppData\\Local\\Programs\\Python\\Python311\\python.exe"
    assert excel_install.render_conf({"INTERPRETER_WIN": "%USERPROFILE%\\x"}).isascii()


def test_excel_install_off_windows_needs_explicit_folders(capsys, monkeypatch):
    from perfeval_xl.cli import main

    monkeypatch.setattr(sys, "platform", "linux")
    assert main(["excel", "install"]) == 2
    assert "Windows" in capsys.readouterr().err


# ---- the lowest xlwings the project claims -------------------------------------------------------

def _floor() -> str:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        deps = tomllib.load(f)["project"]["dependencies"]
    return next(d for d in deps if d.startswith("xlwings")).split(">=")[1].split(",")[0].strip()


@pytest.mark.skipif(not os.environ.get("PERFEVAL_XLWINGS_FLOOR"),
                    reason="opt-in (about 20 s and a package index): PERFEVAL_XLWINGS_FLOOR=1")
def test_windows_harness_passes_on_the_xlwings_floor(tmp_path):
    """The Windows-engine harness and the remote-engine tests, with the floor version of xlwings first on
    the path (installed into a private folder; the environment's own xlwings is left alone)."""
    target = tmp_path / "floor"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                        f"xlwings=={_floor()}"], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        pytest.skip(f"cannot install xlwings {_floor()} here: {r.stderr.strip()[-300:]}")
    env = {**os.environ, "PYTHONPATH": str(target), "PERFEVAL_XLWINGS_FLOOR": ""}
    probe = subprocess.run([sys.executable, "-c", "import xlwings; print(xlwings.__version__)"],
                           env=env, capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == _floor()
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "tests/test_excel_windows.py", "tests/test_excel.py"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:]


def test_excel_install_says_to_close_excel_when_the_addin_is_locked(tmp_path, capsys):
    from perfeval_xl.cli import main

    xlstart = tmp_path / "XLSTART"
    (xlstart / addin.ADDIN_NAME).mkdir(parents=True)  # an entry that cannot be replaced by a file
    code = main(["excel", "install", "--xlstart", str(xlstart), "--home", str(tmp_path / "home")])
    assert code == 2
    err = capsys.readouterr().err
    assert "安装未完成" in err and str(xlstart) in err
