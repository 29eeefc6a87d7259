"""Every input format is read, and every kind of bad file is skipped with its reason."""

from __future__ import annotations

import json

import pytest

from indexer.ingest.sources import read_file
from indexer.records import RawDocument, Skipped

TEXT = "句容市教育局2016年工作总结\n一、校车安全管理\n全市校车安全管理工作扎实推进。"
TRADITIONAL = "吉林市教育局工作總結\n一、學校建設\n全市學校建設穩步推進。"


def _only(path):
    items = list(read_file(path))
    assert len(items) == 1, items
    return items[0]


@pytest.mark.parametrize("encoding, text", [
    ("utf-8", TEXT), ("gb18030", TEXT), ("gbk", TEXT), ("big5", TRADITIONAL),
])
def test_plain_text_encodings_are_detected(tmp_path, encoding, text):
    path = tmp_path / f"report-{encoding}.txt"
    path.write_bytes((text * 3).encode(encoding))
    item = _only(path)
    assert isinstance(item, RawDocument)
    assert item.text == text * 3


def test_markdown_is_read_as_text(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text(TEXT, encoding="utf-8")
    assert _only(path).text == TEXT


def test_html_main_content_without_navigation(tmp_path):
    path = tmp_path / "page.html"
    paragraphs = "".join(f"<p>{line}。这一段是正文内容，介绍全市校车安全管理的具体做法和成效。</p>"
                         for line in ("校车安全管理", "学校建设", "片区合作共同体"))
    path.write_text(
        "<html><head><meta charset='utf-8'><title>句容市教育局2016年工作总结</title></head>"
        "<body><nav><a href='/'>网站首页</a> <a href='/news'>新闻中心</a></nav>"
        f"<article><h1>句容市教育局2016年工作总结</h1>{paragraphs}</article>"
        "<footer>版权所有 联系我们</footer></body></html>", encoding="utf-8")
    item = _only(path)
    assert isinstance(item, RawDocument)
    assert "片区合作共同体。这一段是正文内容" in item.text
    assert "网站首页" not in item.text and "版权所有" not in item.text
    assert item.meta["title"] == "句容市教育局2016年工作总结"


def test_pdf_text_layer(tmp_path):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    path = tmp_path / "report.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.setFont("STSong-Light", 12)
    for row, line in enumerate(TEXT.splitlines()):
        pdf.drawString(50, 800 - 20 * row, line)
    pdf.save()
    assert _only(path).text.splitlines() == TEXT.splitlines()


def test_docx_paragraphs(tmp_path):
    import docx

    path = tmp_path / "report.docx"
    document = docx.Document()
    for line in TEXT.splitlines():
        document.add_paragraph(line)
    document.core_properties.title = "句容市教育局2016年工作总结"
    document.save(str(path))
    item = _only(path)
    assert item.text == TEXT
    assert item.meta["title"] == "句容市教育局2016年工作总结"


def test_jsonl_documents_keep_their_ids(tmp_path):
    path = tmp_path / "bulk.jsonl"
    path.write_text("\n".join([
        json.dumps({"pid": "P1", "title": "甲", "text": "第一段正文。", "doc": "A"},
                   ensure_ascii=False),
        json.dumps({"id": "D2", "title": "乙", "text": "第二段正文。", "year": 2016},
                   ensure_ascii=False),
        "{not json",
        json.dumps({"title": "no id", "text": "正文"}, ensure_ascii=False),
        json.dumps({"pid": "P5", "text": ""}),
    ]), encoding="utf-8")
    items = list(read_file(path))
    docs = [i for i in items if isinstance(i, RawDocument)]
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert [(d.doc_id, d.text, d.meta.get("title")) for d in docs] == [
        ("P1", "第一段正文。", "甲"), ("D2", "第二段正文。", "乙")]
    assert [(s.source.rsplit(":", 1)[1], s.reason.split(" (")[0]) for s in skipped] == [
        ("3", "bad JSON"), ("4", 'no "id" or "pid"'), ("5", 'no "text"')]


def test_bad_files_are_skipped_with_reasons_and_the_rest_is_read(tmp_path):
    from indexer.ingest.corpus import load_corpus

    (tmp_path / "good.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "junk.txt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (tmp_path / "broken.docx").write_bytes(b"PK not a zip")
    (tmp_path / "bulk.jsonl").write_text('{"pid": "J1", "text": "正文。"}\n[1, 2]\n',
                                         encoding="utf-8")
    _encrypted_pdf(tmp_path / "secret.pdf")
    corpus = load_corpus(tmp_path)
    assert sorted(d.doc_id for d in corpus.documents) == ["J1", "good"]
    reasons = {s.source.split("/")[-1]: s.reason for s in corpus.skipped}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["junk.txt"].startswith("binary file")
    assert reasons["broken.pdf"].startswith("not a readable PDF")
    assert reasons["broken.docx"].startswith("not a readable .docx")
    assert reasons["secret.pdf"] == "encrypted PDF"
    assert reasons["bulk.jsonl:2"] == "a JSON line must be an object"


def _encrypted_pdf(path):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("secret")
    with path.open("wb") as handle:
        writer.write(handle)
