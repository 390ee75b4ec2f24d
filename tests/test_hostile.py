"""Hostile and broken inputs, generated here: each gets a clear Chinese reason (or a clean check
when the file is fine), the batch goes on, and nothing is ever written to the input folder."""
from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
import sys
import zipfile

import pytest

from perfeval_xl import safety
from perfeval_xl.errors import ReadError
from perfeval_xl.safety import preflight

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
from xlsx_cells import Err, edit_cells  # noqa: E402

SE, BD = "绩效自评表", "基础数据表"


# ---- a minimal compound file (OLE2 / CFB v3) written by hand -------------------------------
ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _dir_entry(name, typ, color, right, child, start, size):
    n = (name + "\0").encode("utf-16-le")
    return (n.ljust(64, b"\0") + struct.pack("<HBBIII", len(n), typ, color, NOSTREAM, right, child)
            + b"\0" * 16 + struct.pack("<IQQIQ", 0, 0, 0, start, size))


def build_cfb(streams: list[tuple[str, bytes]]) -> bytes:
    """Sector 0 the FAT, sector 1 the directory, then each stream (>= 4096 bytes: no mini stream)."""
    fat, blobs, entries, start = [FATSECT, ENDOFCHAIN], [], [], 2
    for name, payload in streams:
        nsec = -(-len(payload) // 512)
        fat += [start + i + 1 for i in range(nsec - 1)] + [ENDOFCHAIN]
        blobs.append(payload.ljust(nsec * 512, b"\0"))
        entries.append((name, start, len(payload)))
        start += nsec
    fat += [FREESECT] * (128 - len(fat))
    dir_bytes = _dir_entry("Root Entry", 5, 1, NOSTREAM, 1, ENDOFCHAIN, 0)
    for i, (name, s, size) in enumerate(entries, start=1):
        right = i + 1 if i < len(entries) else NOSTREAM
        dir_bytes += _dir_entry(name, 2, 1 if i == 1 else 0, right, NOSTREAM, s, size)
    header = (safety.OLE2_MAGIC + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIIII", 0, 1, 1, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0, 0)
              + struct.pack("<I", FREESECT) * 108)
    return header + struct.pack("<128I", *fat) + dir_bytes.ljust(512, b"\0") + b"".join(blobs)


def encrypted_xlsx_bytes() -> bytes:
    """What Excel writes for "Encrypt with Password": OLE2 with EncryptionInfo + EncryptedPackage."""
    info = (b"\x04\x00\x04\x00\x40\x00\x00\x00" + b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            b'<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption"/>').ljust(4096, b" ")
    package = struct.pack("<Q", 6000) + os.urandom(6000)
    return build_cfb([("EncryptionInfo", info), ("EncryptedPackage", package)])


# ---- builders: each writes one hostile file into d and returns its path ---------------------

def _zip(path, members: dict[str, bytes], level=6):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _example_members(seed):
    with zipfile.ZipFile(seed) as z:
        return {i.filename: z.read(i.filename) for i in z.infolist()}


def b_truncated(d, seed):
    data = open(seed, "rb").read()
    p = d / "截断.xlsx"
    p.write_bytes(data[: len(data) // 2])
    return p


def b_random_bytes(d, seed):
    p = d / "乱码.xlsx"
    p.write_bytes(bytes((i * 37 + 11) % 256 for i in range(5000)))
    return p


def b_encrypted(d, seed):
    p = d / "加密.xlsx"
    p.write_bytes(encrypted_xlsx_bytes())
    return p


def b_entity_bomb(d, seed):
    m = _example_members(seed)
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                       for i in range(1, 10))
            + b"]>")
    sheet = m["xl/worksheets/sheet3.xml"]
    m["xl/worksheets/sheet3.xml"] = bomb + sheet[sheet.index(b"<worksheet"):]
    return _zip(d / "实体炸弹.xlsx", m)


def b_zip_bomb(d, seed):
    m = _example_members(seed)
    sheet = m["xl/worksheets/sheet5.xml"]
    pad = b" " * (30 * 1024 * 1024)  # 30 MB of whitespace: deflates ~1000:1
    m["xl/worksheets/sheet5.xml"] = sheet.replace(b"</worksheet>", pad + b"</worksheet>")
    return _zip(d / "压缩炸弹.xlsx", m, level=9)


def b_100k_rows(d, seed):
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" t="inlineStr"><is><t>行{r}</t></is></c></row>'
                   for r in range(1, 100_001))
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet '
             'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:B100000"/>'
             f"<sheetData>{rows}</sheetData></worksheet>").encode()
    from openpyxl import Workbook

    p = d / "十万行.xlsx"
    Workbook().save(p)
    m = _example_members(p)
    m["xl/worksheets/sheet1.xml"] = sheet
    return _zip(p, m, level=1)


def b_csv(d, seed):
    p = d / "其实是CSV.xlsx"
    p.write_text("项目,本年决算数,本年预算数\n因公出国经费,4.87,20\n", encoding="utf-8")
    return p


def b_empty_file(d, seed):
    p = d / "空文件.xlsx"
    p.write_bytes(b"")
    return p


def b_directory(d, seed):
    p = d / "文件夹.xlsx"
    p.mkdir()
    return p


def b_html(d, seed):
    p = d / "网页导出.xls"
    p.write_text("<html><body><table><tr><td>部门</td></tr></table></body></html>", encoding="utf-8")
    return p


def b_pdf(d, seed):
    p = d / "扫描件.xlsx"
    p.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n")
    return p


def b_docx(d, seed):
    import docx

    p = d / "报告.xlsx"
    doc = docx.Document()
    doc.add_paragraph("自评报告")
    doc.save(p)
    return p


def b_plain_zip(d, seed):
    return _zip(d / "压缩包.xlsx", {"readme.txt": "说明".encode()})


def b_doc_ole(d, seed):
    p = d / "旧版Word.xls"
    p.write_bytes(build_cfb([("WordDocument", b"\xec\xa5" + b"\0" * 5000)]))
    return p


def b_many_members(d, seed):
    m = _example_members(seed)
    for i in range(safety.MAX_MEMBERS + 10):
        m[f"xl/media/x{i}.bin"] = b""
    return _zip(d / "部件过多.xlsx", m, level=1)


def b_ods_wrong_mime(d, seed):
    return _zip(d / "演示.ods", {"mimetype": b"application/vnd.oasis.opendocument.presentation", "content.xml": b"<x/>"})


def b_xml2003(d, seed):
    p = d / "Excel2003.xls"
    p.write_text('<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>',
                 encoding="utf-8")
    return p


def b_lock_file(d, seed):
    p = d / "~$益阳.xlsx"
    p.write_bytes(b"\x04zhou" + b"\x20" * 50 + b"\x04\x00z\x00h\x00o\x00u\x00" + b"\x20\x00" * 50)
    return p


def b_missing(d, seed):
    return d / "不存在的文件.xlsx"


def b_no_permission(d, seed):
    p = d / "无权限.xlsx"
    shutil.copyfile(seed, p)
    os.chmod(p, 0)
    return p


REFUSED = [  # (builder, a phrase the Chinese reason must contain)
    (b_truncated, "已损坏"),
    (b_random_bytes, "无法识别"),
    (b_encrypted, "已加密"),
    (b_entity_bomb, "实体"),
    (b_zip_bomb, "压缩"),
    (b_100k_rows, "100000 行"),
    (b_csv, "CSV"),
    (b_empty_file, "为空"),
    (b_directory, "文件夹"),
    (b_html, "网页"),
    (b_pdf, "PDF"),
    (b_docx, "Word"),
    (b_plain_zip, "Content_Types"),
    (b_doc_ole, "Word"),
    (b_many_members, "部件过多"),
    (b_ods_wrong_mime, "不是电子表格"),
    (b_xml2003, "2003"),
    (b_lock_file, "锁定文件"),
    (b_missing, "不存在"),
    (b_no_permission, "权限"),
]


# ---- files that open: some are our form, some are not ---------------------------------------

def r_empty_workbook(d, seed):
    from openpyxl import Workbook

    p = d / "空工作簿.xlsx"
    Workbook().save(p)
    return p


def r_other_form(d, seed):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "工资表"
    ws.append(["姓名", "基本工资", "绩效工资"])
    for i in range(30):
        ws.append([f"职工{i}", 3000 + i, 500 * (i % 3)])
    p = d / "别的表格.xlsx"
    wb.save(p)
    return p


def r_chinese_path(d, seed):
    sub = d / "益阳 市 政府" / "2024 年 自评"
    sub.mkdir(parents=True)
    p = sub / "益阳市 人民政府办公室 2024.xlsx"
    shutil.copyfile(seed, p)
    return p


def r_text_in_numbers(d, seed):
    from perfeval_xl.layout import AMOUNT, TEMPLATE_LAYOUT
    from openpyxl import load_workbook

    wb = load_workbook(seed)
    # the seed's own layout (its project rows) is what the names point at: use the names
    edits = {}
    for name, dn in wb.defined_names.items():
        key = name[3:]
        spec = TEMPLATE_LAYOUT.fields.get(key)
        if spec is not None and spec.kind == AMOUNT and spec.is_input:
            for sheet, ref in dn.destinations:
                edits[(sheet, ref.replace("$", ""))] = "三千五百元整"
    assert len(edits) > 20
    return edit_cells(seed, d / "数字格全是文字.xlsx", edits)


def r_cached_errors(d, seed):
    return edit_cells(seed, d / "缓存错误值.xlsx", {(SE, "G4"): Err("#DIV/0!"), (SE, "H4"): Err("#REF!"),
                                                    ("三公经费情况表", "G7"): Err("#DIV/0!")})


def r_xlsx_named_xls(d, seed):
    p = d / "扩展名写错.xls"
    shutil.copyfile(seed, p)
    return p


READABLE = [  # (builder, format preflight must report, whether it is our form and checks without error)
    (r_empty_workbook, "xlsx", False),
    (r_other_form, "xlsx", False),
    (r_chinese_path, "xlsx", True),
    (r_text_in_numbers, "xlsx", True),
    (r_cached_errors, "xlsx", True),
    (r_xlsx_named_xls, "xlsx", True),
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory, seed_example, soffice):
    """The seed as a real .xls and .ods, saved by LibreOffice (one call per format)."""
    out = tmp_path_factory.mktemp("lo")
    src = out / "src"
    src.mkdir()
    shutil.copyfile(seed_example, src / "seed.xlsx")
    profile = out / "profile"
    paths = {}
    for fmt, flt in (("xls", "xls:MS Excel 97"), ("ods", "ods")):
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", flt,
                        "--outdir", str(out), str(src / "seed.xlsx")], check=True, capture_output=True, timeout=180)
        paths[fmt] = out / f"seed.{fmt}"
        assert paths[fmt].is_file()
    return paths


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, seed_example, converted):
    d = tmp_path_factory.mktemp("hostile") / "收件箱 2025"
    d.mkdir()
    files = []
    for builder, phrase in REFUSED:
        if builder is b_no_permission and os.geteuid() == 0:
            continue  # root reads everything
        files.append((builder(d, seed_example), "refused", phrase))
    for builder, fmt, ours in READABLE:
        files.append((builder(d, seed_example), fmt, ours))
    for fmt, p in converted.items():
        q = d / f"旧格式 seed.{fmt}"
        shutil.copyfile(p, q)
        files.append((q, fmt, True))
    return d, files


def _snapshot(folder):
    snap = {}
    for root, dirs, names in os.walk(folder):
        for n in dirs + names:
            p = os.path.join(root, n)
            st = os.lstat(p)
            digest = None
            if os.path.isfile(p) and os.access(p, os.R_OK):
                digest = hashlib.sha256(open(p, "rb").read()).hexdigest()
            snap[p] = (st.st_size, st.st_mtime_ns, st.st_mode, digest)
    return snap


def test_corpus_is_large_enough(corpus):
    _, files = corpus
    assert len(files) >= 20


@pytest.mark.parametrize("builder,phrase", REFUSED, ids=[b.__name__[2:] for b, _ in REFUSED])
def test_preflight_refuses_with_a_chinese_reason(builder, phrase, tmp_path, seed_example):
    if builder is b_no_permission and os.geteuid() == 0:
        pytest.skip("running as root: every file is readable")
    path = builder(tmp_path, seed_example)
    with pytest.raises(ReadError) as exc:
        preflight(str(path))
    assert phrase in exc.value.reason, exc.value.reason
    assert exc.value.path == str(path)
    assert str(path) in str(exc.value)


@pytest.mark.parametrize("builder,fmt,ours", READABLE, ids=[b.__name__[2:] for b, _, _ in READABLE])
def test_preflight_accepts_real_workbooks_by_content(builder, fmt, ours, tmp_path, seed_example):
    assert preflight(str(builder(tmp_path, seed_example))) == fmt


def test_preflight_reads_old_formats_by_content(converted, tmp_path):
    assert preflight(str(converted["xls"])) == "xls"
    assert preflight(str(converted["ods"])) == "ods"
    odd = tmp_path / "其实是xls.xlsx"
    shutil.copyfile(converted["xls"], odd)
    assert preflight(str(odd)) == "xls"


def test_limits_are_settings_named_in_the_message(monkeypatch, seed_example):
    monkeypatch.setattr(safety, "MAX_UNPACKED_BYTES", 100 * 1024)
    with pytest.raises(ReadError, match="上限 0 MB|解压后过大"):
        preflight(seed_example)
    monkeypatch.setattr(safety, "MAX_UNPACKED_BYTES", 200 * 1024 * 1024)
    monkeypatch.setattr(safety, "MAX_ROWS", 10)
    with pytest.raises(ReadError, match="超过上限 10 行"):
        preflight(seed_example)
    with pytest.raises(ReadError, match="超过上限 10 行"):
        safety.check_sheet_height("x.xls", SE, 11)


def test_openpyxl_parses_through_defusedxml():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML is True


def test_the_batch_goes_on_and_reports_every_file_in_order(corpus, tmp_path):
    pytest.importorskip("perfeval_xl.readers")
    from perfeval_xl.batch import collect, run
    from perfeval_xl.pipeline import CheckOptions

    folder, files = corpus
    before = _snapshot(folder)
    paths = [str(p) for p, _, _ in files]
    reports = run(paths, CheckOptions(), jobs=2)
    assert [r.path for r in reports] == paths
    for (p, kind, detail), rep in zip(files, reports):
        if kind == "refused":
            assert rep.error and detail in rep.error, (p, rep.error)
        elif detail:  # our form, readable: a clean check (findings allowed, no error)
            assert rep.error is None, (p, rep.error)
            assert rep.metrics is not None
        else:  # a workbook that is not this form: a reason, in Chinese
            assert rep.error and any("\u4e00" <= ch <= "\u9fff" for ch in rep.error), (p, rep.error)
    by_name = {os.path.basename(r.path): r for r in reports}
    seed_copy, texts = by_name["益阳市 人民政府办公室 2024.xlsx"], by_name["数字格全是文字.xlsx"]
    assert texts.errors > seed_copy.errors  # text in number cells is reported, not read as 0 or a crash
    assert by_name["缓存错误值.xlsx"].metrics.execution_score is not None  # recomputed, not taken from #REF!
    # folder collection skips the lock file but keeps the odd ones, so the reviewer hears about them
    collected = collect([str(folder)])
    assert not any(os.path.basename(c).startswith("~$") for c in collected)
    assert any(c.endswith("其实是CSV.xlsx") for c in collected)
    assert _snapshot(folder) == before  # nothing written to, or next to, the inputs


def test_annotating_the_readable_ones_never_touches_the_inputs(corpus, tmp_path):
    pytest.importorskip("perfeval_xl.readers")
    from perfeval_xl.batch import run
    from perfeval_xl.pipeline import CheckOptions
    from perfeval_xl.writers.annotate import annotate_many

    folder, files = corpus
    before = _snapshot(folder)
    ok = [(str(p), r) for (p, kind, ours), r in zip(files, run([str(p) for p, _, _ in files], CheckOptions(), jobs=1))
          if kind == "xlsx" and ours]
    assert ok
    results = annotate_many(ok, str(tmp_path / "out"), inputs=[str(folder)])
    assert all(written and written.startswith(str(tmp_path / "out")) for _, written, _ in results), results
    mirrored = [os.path.relpath(w, tmp_path / "out") for _, w, _ in results]
    assert os.path.join("益阳 市 政府", "2024 年 自评", "益阳市 人民政府办公室 2024_已校验.xlsx") in mirrored
    assert _snapshot(folder) == before


def test_sheets_seen_before_are_not_scanned_again_yet_refused_alike(monkeypatch, seed_example, tmp_path):
    """The pre-flight remembers sheet parts whose very bytes passed (files of one template share many): a
    sheet that differs by one far cell, or the same bytes under a lower limit, is still scanned and refused."""
    safety._PASSED.clear()
    assert preflight(seed_example) == "xlsx"
    seen = len(safety._PASSED)
    assert seen >= 2  # every worksheet of the seed
    assert preflight(seed_example) == "xlsx" and len(safety._PASSED) == seen  # the second time: all remembered
    far = tmp_path / "远处单元格.xlsx"
    edit_cells(seed_example, str(far), {(SE, "B30000"): 1})
    with pytest.raises(ReadError, match="实际用到第 30000 行"):
        preflight(str(far))
    monkeypatch.setattr(safety, "MAX_MERGES", 3)
    with pytest.raises(ReadError, match="合并区域"):
        preflight(seed_example)
