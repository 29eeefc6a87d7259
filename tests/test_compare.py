"""Comparing reports: one answer per document, region or year, ``answerable: false`` (never
a stand-in sentence) where a report does not address the question; the JSON, the page and
the CLI from the same data; the link from every answer page and the copy choice there."""

from __future__ import annotations

import json
import re
from datetime import date
from html import unescape

import pytest

from indexer.__main__ import main
from indexer.answer.compare import UNKNOWN_REGION, compare, groups
from indexer.serialize import comparison_dict
from tests.conftest import assert_error_shape

# Only 吉林 (001) sets the hours of safety education a term; no other report addresses it.
ALLOWANCE = "学生每学期接受安全教育不少于多少课时？"
ALLOWANCE_DOC = "001_4827853948cbae87"
ALLOWANCE_QUOTE = "保证学生每学期接受不少于8课时的安全教育"
DOC_ORDER = ["000_2b1971d50fbc2800", ALLOWANCE_DOC, "002_911505a246343e51",
             "003_d9116304a1c6cf83", "004_0810e58871bb8528"]


def test_groups_by_document_region_and_year(engine):
    catalog = engine.generation().catalog
    by_doc = groups(catalog, "doc")
    assert [g.key for g in by_doc] == DOC_ORDER == list(catalog.documents)
    assert by_doc[1].label == "吉林市教育局2016年工作要点"
    assert [(g.key, g.label, g.filters.doc) for g in groups(catalog, "region")] == [
        ("句容市", "句容市", [DOC_ORDER[0]]), ("吉林市", "吉林市", [ALLOWANCE_DOC]),
        (None, UNKNOWN_REGION, DOC_ORDER[2:])]  # sorted as text, those naming none last
    years = groups(catalog, "year")
    assert [g.key for g in years][:3] == ["2016", "2017", None]
    assert [g.filters.year for g in years] == [["2016"], ["2017"], ["未知"]]


def test_only_the_report_that_addresses_it_answers(engine):
    generation = engine.generation()
    data = comparison_dict(compare(engine, ALLOWANCE, "doc", generation=generation),
                           generation.catalog)
    assert [g["key"] for g in data["groups"]] == DOC_ORDER
    answered = {g["key"]: g for g in data["groups"] if g["answerable"]}
    assert set(answered) == {ALLOWANCE_DOC}
    for group in data["groups"]:
        if not group["answerable"]:
            assert group["answer"] is None and group["citations"] == []
    citation = answered[ALLOWANCE_DOC]["citations"][0]
    assert ALLOWANCE_QUOTE in citation["quote"]
    text = generation.catalog.documents[ALLOWANCE_DOC].text
    assert text[citation["start"]:citation["end"]] == citation["quote"]
    assert citation["doc_id"] == ALLOWANCE_DOC
    assert citation["reference"]["gbt7714"] == (
        f"吉林市教育局. 吉林市教育局2016年工作要点[EB/OL]. (2016-03-17)[{date.today()}].")


def test_every_group_quotes_only_itself(engine):
    generation = engine.generation()
    result = compare(engine, "新招聘了多少名教师？", "doc", generation=generation)
    for item in result.groups:
        for citation in (item.answer.citations if item.answer else []):
            assert citation.doc_id == item.group.key


@pytest.mark.parametrize("form", ["json", "html"])
def test_page_and_api_show_the_same_groups(client, form):
    query = {"q": ALLOWANCE}
    data = client.get("/api/compare", query_string=query).get_json()
    assert data["ok"] and data["by"] == "doc" and data["question"] == ALLOWANCE
    if form == "json":
        response = client.get("/api/compare", query_string=query)
        assert response.get_json() == data
        assert response.headers["Cache-Control"] == "no-store"
        citation = next(g for g in data["groups"] if g["answerable"])["citations"][0]
        assert citation["url"] == (f"/documents/{ALLOWANCE_DOC}?hl={citation['start']}-"
                                   f"{citation['end']}#{citation['passage_id']}")
        assert set(citation) >= {"n", "passage_id", "doc_id", "title", "section",
                                 "paragraph_no", "quote", "start", "end", "url", "reference"}
        return
    page = client.get("/compare", query_string=query)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    rows = re.findall(r'<tr class="(answered|unanswered)" data-key="([^"]*)"', html)
    assert rows == [("answered" if g["answerable"] else "unanswered", g["key"])
                    for g in data["groups"]]
    assert html.count('<span class="none">未涉及</span>') == sum(
        not g["answerable"] for g in data["groups"])
    for group in data["groups"]:
        for citation in group["citations"]:
            assert f'<a href="{citation["url"]}">“{citation["quote"]}”</a>' in unescape(html)


def test_by_region_and_year_cover_every_document(client):
    regions = client.get("/api/compare", query_string={"q": ALLOWANCE, "by": "region"})
    data = regions.get_json()
    assert [(g["key"], g["label"]) for g in data["groups"]] == [
        ("句容市", "句容市"), ("吉林市", "吉林市"), (None, UNKNOWN_REGION)]
    assert [g["answerable"] for g in data["groups"]] == [False, True, False]
    years = client.get("/api/compare", query_string={"q": ALLOWANCE, "by": "year"}).get_json()
    assert [g["label"] for g in years["groups"]][:2] == ["2016年", "2017年"]
    answered = [g for g in years["groups"] if g["answerable"]]
    assert {c["doc_id"] for g in answered for c in g["citations"]} == {ALLOWANCE_DOC}


@pytest.mark.parametrize(("query", "says"), [
    ({"q": ALLOWANCE, "by": "city"}, "by must be one of doc, region, year"),
    ({"by": "doc"}, "the question is empty"),
    ({"q": ALLOWANCE, "mode": "fuzzy"}, "mode must be one of"),
])
def test_bad_arguments_are_400(client, query, says):
    assert_error_shape(client.get("/api/compare", query_string=query), 400, says)


def test_too_many_groups_is_400(client, monkeypatch):
    monkeypatch.setenv("POLICYQA_COMPARE_MAX_GROUPS", "4")
    assert_error_shape(client.get("/api/compare", query_string={"q": ALLOWANCE}), 400,
                       "the index has 5 groups by doc; a comparison answers at most 4")


def test_every_answer_page_links_to_the_comparison_and_offers_the_reference(client):
    page = client.get("/ask", query_string={"q": ALLOWANCE}).get_data(as_text=True)
    link = re.search(r'<p class="compare-link"><a href="([^"]+)">', page)[1]
    assert unescape(link).startswith("/compare?q=")
    assert client.get(unescape(link)).status_code == 200
    answer = client.get("/api/ask", query_string={"q": ALLOWANCE}).get_json()
    first = answer["citations"][0]
    copies = [unescape(v) for v in re.findall(r'data-copy-cite="([^"]*)"', page)]
    assert f"“{first['quote']}”" in copies  # the quote alone
    assert (f"“{first['quote']}”[{first['n']}]\n[{first['n']}] "
            f"{first['reference']['gbt7714']}") in copies


def test_cli_compare(capsys, keyword_index_dir):
    code = main(["compare", ALLOWANCE, "--mode", "keyword", "--index", str(keyword_index_dir),
                 "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["by"] == "doc" and data["mode"] == "keyword"
    assert [g["key"] for g in data["groups"]] == DOC_ORDER
    assert main(["compare", ALLOWANCE, "--by", "region", "--mode", "keyword", "--index",
                 str(keyword_index_dir)]) == 0
    out = capsys.readouterr().out
    assert out.index("== 句容市") < out.index("== 吉林市") < out.index(f"== {UNKNOWN_REGION}")


def test_the_comparison_fits_its_description(client):
    from tests.test_webapp import check_schema

    spec = client.get("/openapi.json").get_json()
    operation = spec["paths"]["/api/compare"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    for by in ("doc", "region", "year"):
        data = client.get("/api/compare", query_string={"q": ALLOWANCE, "by": by}).get_json()
        check_schema(data, schema, spec)
    passage = client.get("/api/ask", query_string={"q": ALLOWANCE}).get_json()["citations"][0]
    response = client.get(f"/api/passages/{passage['passage_id']}")
    schema = spec["paths"]["/api/passages/{passage_id}"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]
    check_schema(response.get_json(), schema, spec)
