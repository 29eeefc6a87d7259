"""References of the bundled reports in GB/T 7714-2015, BibTeX and RIS, and where the API
serves them: pinned strings (unknown issuer, date and address left out as the standard
says), parsed back with bibtexparser 2 and rispy, and the cite endpoint's media types."""

from __future__ import annotations

from datetime import date

import pytest

from indexer.records import Document
from indexer.references import MEDIA_TYPES, bibtex, gbt7714, reference, ris

ACCESSED = date(2026, 12, 2)

GBT7714 = {
    "000": "句容市教育局. 句容市教育局2016年工作总结和2017年工作设想[EB/OL]. "
           "(2017-03-22)[2026-12-02].",
    "001": "吉林市教育局. 吉林市教育局2016年工作要点[EB/OL]. (2016-03-17)[2026-12-02].",
    # No issuer, no date: the reference starts with the title, and has no (date).
    "002": "XXXX年上半年,市教育局以黨的xx全會精神為指導…[EB/OL]. [2026-12-02].",
    "003": "教育局加强教育均衡发展总结[EB/OL]. [2026-12-02].",
    # A year the report covers (2017) is not a publication date: none is given.
    "004": "2017年度教育局工作總結[EB/OL]. [2026-12-02].",
}

BIBTEX_000 = """@misc{000_2b1971d50fbc2800,
  title = {句容市教育局2016年工作总结和2017年工作设想},
  author = {{句容市教育局}},
  year = {2017},
  date = {2017-03-22},
  urldate = {2026-12-02},
  note = {工作总结}
}
"""
BIBTEX_003 = """@misc{003_d9116304a1c6cf83,
  title = {教育局加强教育均衡发展总结},
  urldate = {2026-12-02},
  note = {工作总结}
}
"""
RIS_001 = """\
TY  - ELEC
TI  - 吉林市教育局2016年工作要点
AU  - 吉林市教育局
PY  - 2016
DA  - 2016/03/17
Y2  - 2026/12/02
CY  - 吉林市
M3  - 工作要点
ER  - \n"""
RIS_004 = """\
TY  - ELEC
TI  - 2017年度教育局工作總結
Y2  - 2026/12/02
M3  - 工作总结
ER  - \n"""


@pytest.mark.parametrize("prefix", sorted(GBT7714))
def test_gbt7714_of_each_bundled_report(documents, prefix):
    assert gbt7714(documents[prefix], ACCESSED) == GBT7714[prefix]


def test_bibtex_and_ris_pinned(documents):
    assert bibtex(documents["000"], ACCESSED) == BIBTEX_000
    assert bibtex(documents["003"], ACCESSED) == BIBTEX_003
    assert ris(documents["001"], ACCESSED) == RIS_001
    assert ris(documents["004"], ACCESSED) == RIS_004


@pytest.mark.parametrize("prefix", sorted(GBT7714))
def test_bibtex_parses_with_bibtexparser(documents, prefix):
    bibtexparser = pytest.importorskip("bibtexparser")
    document = documents[prefix]
    library = bibtexparser.parse_string(bibtex(document, ACCESSED))
    assert library.failed_blocks == []
    (entry,) = library.entries
    fields = {field.key: field.value for field in entry.fields}
    assert entry.entry_type == "misc"
    assert fields["title"] == document.title
    assert fields["urldate"] == "2026-12-02"
    if document.issuer:
        assert fields["author"] == "{" + document.issuer + "}"  # one corporate author
    else:
        assert "author" not in fields
    assert ("year" in fields) == bool(document.published)


@pytest.mark.parametrize("prefix", sorted(GBT7714))
def test_ris_parses_with_rispy(documents, prefix):
    rispy = pytest.importorskip("rispy")
    document = documents[prefix]
    (record,) = rispy.loads(ris(document, ACCESSED))
    assert record["type_of_reference"] == "ELEC"
    assert record["title"] == document.title
    assert record["access_date"] == "2026/12/02"
    assert record.get("authors") == ([document.issuer] if document.issuer else None)


def test_a_web_address_is_the_access_path_and_specials_are_escaped():
    bibtexparser = pytest.importorskip("bibtexparser")
    document = Document("报告 1", "x.jsonl:1", "正文", title="关于 50% & {括号} 的通知",
                        issuer="某市教育局", published="2020-05-01",
                        extra={"url": "https://example.org/a_b?x=1&y=2"})
    assert gbt7714(document, ACCESSED) == (
        "某市教育局. 关于 50% & {括号} 的通知[EB/OL]. (2020-05-01)[2026-12-02]. "
        "https://example.org/a_b?x=1&y=2.")
    text = bibtex(document, ACCESSED)
    assert text.startswith("@misc{report-")  # an id in other characters: a safe key
    (entry,) = bibtexparser.parse_string(text).entries
    fields = {field.key: field.value for field in entry.fields}
    assert fields["title"] == r"关于 50\% \& \{括号\} 的通知"
    assert fields["url"] == r"https://example.org/a\_b?x=1\&y=2"
    assert "UR  - https://example.org/a_b?x=1&y=2\n" in ris(document, ACCESSED)


def test_a_partial_date_is_no_date():
    document = Document("d", "d.txt", "正文", title="某报告", published="2016-03")
    assert gbt7714(document, ACCESSED) == "某报告[EB/OL]. [2026-12-02]."


# -- the API -----------------------------------------------------------------------------

@pytest.mark.parametrize("style", ["gbt7714", "bibtex", "ris"])
def test_cite_endpoint_serves_text_of_its_type(client, documents, style):
    document = documents["001"]
    response = client.get(f"/api/documents/{document.doc_id}/cite?format={style}")
    assert response.status_code == 200
    assert response.mimetype == MEDIA_TYPES[style]
    assert response.mimetype_params["charset"] == "utf-8"
    assert response.get_data(as_text=True) == reference(document, date.today())[style]


def test_cite_endpoint_default_unknown_format_and_unknown_document(client, documents):
    from tests.conftest import assert_error_shape

    document = documents["000"]
    response = client.get(f"/api/documents/{document.doc_id}/cite")
    assert response.get_data(as_text=True) == gbt7714(document, date.today())
    assert_error_shape(client.get(f"/api/documents/{document.doc_id}/cite?format=apa"), 400,
                       "format must be one of gbt7714, bibtex, ris")
    assert_error_shape(client.get("/api/documents/nope/cite"), 404)


def test_passage_api_carries_the_reference(client, engine, documents):
    passage = engine.generation().catalog.passages_of(documents["002"].doc_id)[0]
    data = client.get(f"/api/passages/{passage.passage_id}").get_json()
    assert data["reference"] == reference(documents["002"], date.today())
    assert data["passage"]["passage_id"] == passage.passage_id  # nothing removed
