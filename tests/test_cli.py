"""The command line: inspect, build, search, with --json, and one-line errors."""

from __future__ import annotations

import json

import pytest

from indexer.__main__ import main
from indexer.store.catalog import Catalog
from indexer.store.generations import current_generation
from tests.conftest import CORPUS, TENTATIVE_ANSWER, TENTATIVE_QUESTION

HIT_KEYS = {"passage_id", "doc_id", "title", "section", "paragraph_no", "text", "highlight",
            "score", "scores"}


def _json(capsys, argv):
    code = main(argv)
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_inspect_json_has_every_document_field(capsys):
    code, data = _json(capsys, ["inspect", str(CORPUS), "--json"])
    assert code == 0 and data["skipped"] == []
    assert len(data["documents"]) == 5
    for document in data["documents"]:
        assert {"doc_id", "title", "issuer", "region", "year", "kind", "published", "source",
                "text", "repairs", "passages"} <= set(document)
        for passage in document["passages"]:
            assert {"passage_id", "section", "paragraph_no", "start", "end", "text"} <= set(
                passage)
            assert document["text"][passage["start"]:passage["end"]] == passage["text"]
    repairs = {d["doc_id"][:3]: d["repairs"] for d in data["documents"]}
    assert repairs["002"]["pinyin_removed"] > 0 and repairs["004"]["mojibake_repaired"] > 0


def test_inspect_prints_a_summary_for_people(capsys):
    assert main(["inspect", str(CORPUS)]) == 0
    out = capsys.readouterr().out
    assert "句容市教育局2016年工作总结和2017年工作设想" in out
    assert out.strip().splitlines()[-1].startswith("5 documents")


def test_search_json_is_the_api_shape(capsys, keyword_index_dir):
    code, data = _json(capsys, ["search", "校车 安全", "--index", str(keyword_index_dir),
                                "--json"])
    assert code == 0
    assert {"ok", "query", "mode", "total", "hits", "facets"} <= set(data)
    assert data["ok"] is True and data["mode"] == "keyword" and data["total"] >= 1
    assert HIT_KEYS <= set(data["hits"][0])
    assert "<mark>校车</mark>" in data["hits"][0]["highlight"]


@pytest.mark.parametrize("argv, message", [
    (["search", "，。", "--json"], "nothing to search"),
    (["search", "教育", "--index", "/nonexistent/index", "--json"], "no index at"),
    # Not an empty page that reads as "nothing found" (送教上门 is in two reports).
    (["search", "送教上门", "--k", "0", "--json"], "k must be a whole number from 1, not 0"),
    (["search", "送教上门", "--page", "-2", "--json"], "page must be a whole number from 1"),
])
def test_errors_are_one_clear_line(capsys, keyword_index_dir, argv, message):
    if "--index" not in argv:
        argv = [*argv, "--index", str(keyword_index_dir)]
    code = main(argv)
    captured = capsys.readouterr()
    assert code != 0
    data = json.loads(captured.out)
    assert data["ok"] is False and message in data["error"]
    assert len(captured.err.strip().splitlines()) == 1 and message in captured.err


@pytest.mark.model
def test_ask_json_is_the_api_shape_with_exact_citations(capsys, model_index_dir):
    code, data = _json(capsys, ["ask", "2016年句容中考均分与镇江市区差多少分?",
                                "--index", str(model_index_dir), "--json"])
    assert code == 0 and data["ok"] is True and data["answerable"] is True
    assert {"question", "answer", "citations", "passages", "mode"} <= set(data)
    citation = data["citations"][0]
    assert {"n", "passage_id", "doc_id", "title", "section", "paragraph_no", "quote", "start",
            "end"} <= set(citation)
    document = Catalog.load(current_generation(model_index_dir)).documents[
        citation["doc_id"]]
    assert document.text[citation["start"]:citation["end"]] == citation["quote"]
    assert "34.5分" in citation["quote"] and f"[{citation['n']}]" in data["answer"]
    assert HIT_KEYS <= set(data["passages"][0])
    assert data["tentative"] is False and 0 < data["confidence"] <= 1


@pytest.mark.model
def test_ask_says_when_the_answer_is_tentative(capsys, model_index_dir):
    # An own-words train question answered right, below the answer model's sure threshold.
    code = main(["ask", TENTATIVE_QUESTION, "--index", str(model_index_dir)])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and lines[0].startswith("(tentative:")
    assert TENTATIVE_ANSWER in lines[1]


@pytest.mark.model
def test_ask_says_why_it_refused(capsys, model_index_dir):
    code = main(["ask", "吉林全市一共有多少辆校车?", "--index", str(model_index_dir)])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and lines[0].startswith("未找到可靠的答案")
    assert lines[1] == "(figure_not_given: 最接近的句子没有给出所问的数字或日期。)"
