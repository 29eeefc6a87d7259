"""The web app through Flask's test client: every page with its /api twin, every error.

Pages and their JSON twins are checked together (same data, two renderings); every
error is checked for its status and its one sentence in both shapes; every response is
checked against the served OpenAPI description.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import urllib.request

import pytest
from markupsafe import escape

from indexer import settings
from tests.conftest import ROOT, SCRIPT, SURE_QUESTION, TENTATIVE_QUESTION
from webapp import config, create_app
from webapp.guidance import chinese
from webapp.presentation import marked

SAFETY_DOC = "000_2b1971d50fbc2800"
SAFETY_PASSAGE = "000_2b1971d50fbc2800-debbb32e51"
AREA_QUESTION = "句容市2016年校安工程计划实施的总面积是多少？"


@pytest.fixture(scope="module")
def catalog(model_engine):
    """The catalog of the index ``app`` serves."""
    return model_engine.generation().catalog


def esc(text: str) -> str:
    """Text as the templates write it (Jinja's escaping)."""
    return str(escape(text))


def text_of(response) -> str:
    return response.get_data(as_text=True)


# -- a small OpenAPI 3.1 schema check (the subset /openapi.json uses) -----------------------

def check_schema(value, schema: dict, spec: dict, where: str = "$") -> None:
    """Assert that ``value`` fits ``schema`` (type, const, enum, properties, items, $ref)."""
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "const" in schema:
        assert value == schema["const"], where
    if "enum" in schema:
        assert value in schema["enum"], where
    types = schema.get("type")
    if types:
        names = {"string": str, "integer": int, "number": (int, float), "boolean": bool,
                 "object": dict, "array": list, "null": type(None)}
        allowed = [types] if isinstance(types, str) else types
        assert any(isinstance(value, names[t]) and not (t in ("integer", "number") and
                   isinstance(value, bool)) for t in allowed), f"{where}: {value!r} not {types}"
    if isinstance(value, dict):
        for name in schema.get("required", []):
            assert name in value, f"{where}.{name} missing"
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            if name in properties:
                check_schema(item, properties[name], spec, f"{where}.{name}")
            elif isinstance(extra, dict):
                check_schema(item, extra, spec, f"{where}.{name}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            check_schema(item, schema["items"], spec, f"{where}[{index}]")


def check_against_spec(client, path: str, response, method: str = "get") -> None:
    spec = client.get("/openapi.json").get_json()
    template = re.sub(r"^/api/(documents|passages)/[^?]+", r"/api/\1/{id}", path.split("?")[0])
    template = template.replace("{id}", "{doc_id}" if "documents/" in template
                                else "{passage_id}")
    operation = spec["paths"][template][method]
    schema = operation["responses"][str(response.status_code)]["content"][
        "application/json"]["schema"]
    check_schema(response.get_json(), schema, spec)


# -- pages and their API twins ---------------------------------------------------------------

def search_facts(data, catalog):
    assert data["hits"][0]["passage_id"] == SAFETY_PASSAGE
    return [esc(data["query"])] + [
        f'href="/documents/{h["doc_id"]}?hl={h["start"]}-{h["end"]}#{h["passage_id"]}"'
        for h in data["hits"]] + [h["highlight"] for h in data["hits"]] + [
        f'第{h["paragraph_no"]}段' for h in data["hits"]]


def document_facts(data, catalog):
    document = data["document"]
    assert [p["passage_id"] for p in document["passages"]] == [
        p.passage_id for p in catalog.passages_of(SAFETY_DOC)]
    return ([f'id="{p["passage_id"]}"' for p in document["passages"]]
            + [esc(entry["title"]) for entry in data["outline"]]
            + [esc(document["title"]), f'id="p{document["paragraphs"]}"'])


def documents_facts(data, catalog):
    assert [d["doc_id"] for d in data["documents"]] == list(catalog.documents)
    return [f'href="/documents/{d["doc_id"]}"' for d in data["documents"]]


def health_facts(data, catalog):
    assert data["documents"] == len(catalog.documents)
    assert data["passages"] == len(catalog.passage_list)
    return [f'{data["documents"]} 篇', f'<dt>检索片段</dt><dd>{data["passages"]} 个</dd>',
            data["generation"], data["model"]]


def passage_facts(data, catalog):
    assert data["passage"]["text"] == catalog.passages[SAFETY_PASSAGE].text
    return []  # the page redirects to the document view (checked below)


def ask_facts(data, catalog):
    assert data["answerable"] and "37.6万平方米" in data["answer"]
    return [esc(c["quote"]) for c in data["citations"]] + [
        f'href="{c["url"]}"' for c in data["citations"]]


TWINS = [
    pytest.param("/search?q=校车+安全", "/api/search?q=校车+安全", search_facts, id="search"),
    pytest.param(f"/documents/{SAFETY_DOC}", f"/api/documents/{SAFETY_DOC}", document_facts,
                 id="document"),
    pytest.param("/documents", "/api/documents", documents_facts, id="documents"),
    pytest.param("/", "/api/health", health_facts, id="home-health"),
    pytest.param(f"/ask?q={AREA_QUESTION}&mode=keyword",
                 f"/api/ask?q={AREA_QUESTION}&mode=keyword", ask_facts, id="ask"),
]


@pytest.mark.parametrize(("page", "api", "facts"), TWINS)
def test_page_and_api_render_the_same_data(client, catalog, page, api, facts):
    data_response, page_response = client.get(api), client.get(page)
    assert data_response.status_code == 200 and page_response.status_code == 200
    assert data_response.content_type == "application/json"
    assert page_response.content_type == "text/html; charset=utf-8"
    data = data_response.get_json()
    assert data["ok"] is True
    body = text_of(page_response)
    for fact in facts(data, catalog):
        assert fact in body
    check_against_spec(client, api, data_response)


def test_passage_page_redirects_to_its_highlighted_place(client, catalog):
    passage = catalog.passages[SAFETY_PASSAGE]
    data = client.get(f"/api/passages/{SAFETY_PASSAGE}")
    check_against_spec(client, f"/api/passages/{SAFETY_PASSAGE}", data)
    url = f"/documents/{SAFETY_DOC}?hl={passage.start}-{passage.end}#{SAFETY_PASSAGE}"
    assert data.get_json()["url"] == url
    response = client.get(f"/passages/{SAFETY_PASSAGE}")
    assert response.status_code == 302 and response.headers["Location"] == url


def test_api_search_is_the_cli_json(client, model_index_dir, capsys):
    from indexer.__main__ import parser
    from indexer.cli import COMMANDS

    args = parser().parse_args(["search", "校车 安全", "--index", str(model_index_dir),
                                "--json"])
    assert COMMANDS["search"][1](args) == 0
    assert client.get("/api/search?q=校车 安全").get_json() == json.loads(
        capsys.readouterr().out)


def test_document_view_numbers_paragraphs_and_anchors_every_passage(client, catalog):
    body = text_of(client.get(f"/documents/{SAFETY_DOC}"))
    for passage in catalog.passages_of(SAFETY_DOC):
        anchor = body.index(f'id="{passage.passage_id}"')
        paragraph = re.findall(r'id="p(\d+)"', body[:anchor])[-1]
        assert int(paragraph) == passage.paragraph_no, passage.passage_id
    assert "<mark" not in body


def test_document_view_marks_the_cited_span(client, catalog):
    passage = catalog.passages[SAFETY_PASSAGE]
    body = text_of(client.get(f"/documents/{SAFETY_DOC}?hl={passage.start}-{passage.end}"))
    marks = re.findall(r"<mark[^>]*>(.*?)</mark>", body)
    assert html.unescape("".join(marks)) == passage.text
    assert body.count('<mark id="cited">') == 1
    assert 'class="here"' in body  # the cited section is marked in the outline


def test_document_view_keeps_the_original_script(client, catalog):
    (doc_id,) = [d for d in catalog.documents if d.startswith("004_")]
    body = text_of(client.get(f"/documents/{doc_id}"))
    assert "<h1>2017年度教育局工作總結</h1>" in body


def test_filters_facets_and_pages(client):
    data = client.get(f"/api/search?q=学校建设&doc={SAFETY_DOC}&k=5&page=2").get_json()
    assert {hit["doc_id"] for hit in data["hits"]} == {SAFETY_DOC}
    assert list(data["facets"]["doc"]) == [SAFETY_DOC]
    assert [hit["rank"] for hit in data["hits"]] == list(range(6, 6 + len(data["hits"])))
    body = text_of(client.get(f"/search?q=学校建设&doc={SAFETY_DOC}&k=5&page=2"))
    assert 'rel="prev"' in body and 'aria-current="page">2<' in body
    assert 'aria-label="去掉筛选 文档：句容市教育局2016年工作总结和2017年工作设想"' in body
    unfiltered = text_of(client.get("/search?q=学校建设"))
    assert f"doc={SAFETY_DOC}" in unfiltered and "year=2016" in unfiltered


def test_or_fallback_is_said_in_both_forms(client):
    data = client.get("/api/search?q=校车 火星").get_json()
    assert data["fallback"] == "or" and data["total"] > 0
    assert esc(data["message"]) in text_of(client.get("/search?q=校车 火星"))


def test_no_results_suggest_only_ways_that_find_something(client):
    data = client.get("/api/search?q=火星 探测器").get_json()
    assert data["total"] == 0 and data["hits"] == []
    body = text_of(client.get("/search?q=火星 探测器&year=2016"))
    assert "没有找到结果" in body
    assert not data["message"] or esc(data["message"]) not in body  # no "results below"
    assert "换一种写法" not in body  # 火星 探測器 finds nothing either
    assert "改用语义搜索" in body
    assert "去掉所有筛选条件" not in body  # without the year it still finds nothing


def test_home_examples_all_find_passages_and_answers(app, client):
    body = text_of(client.get("/"))
    examples = config.examples(app)
    questions = config.examples(app, "web_example_questions")
    assert examples and questions
    for example in examples:
        assert esc(example) in body
        assert client.get("/api/search", query_string={"q": example}).get_json()["total"] > 0
    for question in questions:
        assert esc(question) in body
        assert client.get("/api/ask", query_string={"q": question}).get_json()["answerable"]


def test_answer_page_cites_with_markers_previews_and_copy_text(client, catalog):
    data = client.get(f"/api/ask?q={AREA_QUESTION}&mode=keyword").get_json()
    (citation,) = data["citations"]
    body = text_of(client.get(f"/ask?q={AREA_QUESTION}&mode=keyword"))
    assert '<a class="marker" href="#c1" aria-describedby="preview-1">[1]</a>' in body
    assert f"<mark>{esc(citation['quote'])}</mark>" in body  # the preview
    copy = (f"“{citation['quote']}”——《句容市教育局2016年工作总结和2017年工作设想》，"
            "句容市教育局，2017-03-22，一、2016年工作总结 › (一)围绕重点工作,加大推进力度 › "
            "二是加快校安工程和新建学校工程建设步伐，第10段。")
    assert f'data-copy="{esc(copy)}" data-copy-link="{esc(citation["url"])}"' in body
    cited = text_of(client.get(citation["url"]))
    marks = re.findall(r"<mark[^>]*>(.*?)</mark>", cited)
    assert html.unescape("".join(marks)) == citation["quote"]
    document = catalog.documents[citation["doc_id"]]
    assert document.text[citation["start"]:citation["end"]] == citation["quote"]


def test_post_ask_is_the_same_as_get(client):
    posted = client.post("/api/ask", json={"q": AREA_QUESTION, "mode": "keyword"})
    check_against_spec(client, "/api/ask", posted, method="post")
    assert posted.get_json() == client.get(f"/api/ask?q={AREA_QUESTION}&mode=keyword").get_json()


def test_a_mistyped_question_is_answered_as_read_and_says_so(client):
    typed, read = "句容有没有建立送教上们制度?", "句容有没有建立送教上门制度?"
    response = client.get(f"/api/ask?q={typed}")
    check_against_spec(client, "/api/ask", response)
    data = response.get_json()
    assert data["question"] == typed and data["read_as"] == read
    assert "typo_corrected" in data["flags"] and "送教上门制度" in data["answer"]
    assert f"已按“{esc(read)}”回答" in text_of(client.get(f"/ask?q={typed}"))
    assert client.get(f"/api/ask?q={read}").get_json()["read_as"] is None
    assert "已按“" not in text_of(client.get(f"/ask?q={read}"))


def test_a_generated_answer_is_shown_with_its_checked_citations(client, monkeypatch):
    from tests.fake_llm import FakeLLM

    with FakeLLM(reply="2016年计划实施校安工程总面积为37.6万平方米[1]。") as llm:
        monkeypatch.setenv("POLICYQA_ANSWER_LLM_BASE_URL", llm.base_url)
        monkeypatch.setenv("POLICYQA_ANSWER_LLM_MODEL", "fake")
        data = client.get(f"/api/ask?q={AREA_QUESTION}&mode=keyword").get_json()
        body = text_of(client.get(f"/ask?q={AREA_QUESTION}&mode=keyword"))
    assert data["generated"] is True and data["citations"]
    assert data["answer"].startswith("2016年计划实施校安工程总面积为37.6万平方米")
    assert "回答由生成模型根据检索到的片段写成" in body
    assert '<a class="marker" href="#c1"' in body
    for citation in data["citations"]:
        assert f'href="{citation["url"]}"' in body


@pytest.mark.model
def test_an_answer_the_model_is_unsure_of_says_so(client):
    # Own-words train questions answered right: below the answer model's sure threshold
    # (about half such answers are right), and far above it.
    unsure, sure = TENTATIVE_QUESTION, SURE_QUESTION
    response = client.get("/api/ask", query_string={"q": unsure})
    check_against_spec(client, "/api/ask", response)
    data = response.get_json()
    assert data["answerable"] and data["tentative"] is True and 0 < data["confidence"] < 1
    body = text_of(client.get("/ask", query_string={"q": unsure}))
    assert "可能的回答" in body and "把握不大" in body
    assert client.get("/api/ask", query_string={"q": sure}).get_json()["tentative"] is False
    body = text_of(client.get("/ask", query_string={"q": sure}))
    assert ">回答<" in body and "把握不大" not in body


@pytest.mark.model
def test_no_answer_is_said_with_the_closest_passages(client):
    data = client.get("/api/ask?q=火星探测器什么时候发射？").get_json()
    assert data["mode"] == "hybrid"
    assert data["answerable"] is False and data["citations"] == [] and data["passages"]
    body = text_of(client.get("/ask?q=火星探测器什么时候发射？"))
    assert "未找到答案" in body and esc(data["answer"]) in body
    assert "最接近的片段" in body
    assert data["refused_because"] == "uncertain" and "不足以确定地回答" in body


@pytest.mark.model
def test_a_refusal_says_the_report_gives_another_figure(client):
    # A train near miss: the closest sentence counts 248套 and 1160台, not school buses.
    response = client.get("/api/ask", query_string={"q": "吉林全市一共有多少辆校车?"})
    check_against_spec(client, "/api/ask", response)
    assert response.get_json()["refused_because"] == "figure_not_given"
    body = text_of(client.get("/ask", query_string={"q": "吉林全市一共有多少辆校车?"}))
    assert "未找到答案" in body and "最接近的句子没有给出所问的数字或日期" in body


@pytest.mark.model
@pytest.mark.parametrize("mode", ["semantic", "hybrid"])
def test_other_modes_search_and_render(client, mode):
    response = client.get(f"/api/search?q=校车接送&mode={mode}&k=3")
    assert response.status_code == 200 and response.get_json()["mode"] == mode
    check_against_spec(client, "/api/search", response)
    page = text_of(client.get(f"/search?q=校车接送&mode={mode}&k=3&page=2"))
    assert f"最相关的片段（{'语义' if mode == 'semantic' else '混合'}检索），第 4–6 条" in page
    assert 'rel="next"' in page  # ranked by similarity, there is always a next page


# -- errors: one JSON shape, one error page ------------------------------------------------------

LONG = "校" * 501
ERRORS = [
    ("/api/search?q=", 400, "the query is empty: type what you are looking for"),
    ("/api/search?q=%20%20", 400, "the query is empty: type what you are looking for"),
    (f"/api/search?q={LONG}", 400, "the query is 501 characters long; the limit is 500"),
    ("/api/search?q=校车&k=0", 400, "k must be a whole number from 1 to 50, not 0"),
    ("/api/search?q=校车&k=51", 400, "k must be a whole number from 1 to 50, not 51"),
    ("/api/search?q=校车&k=ten", 400, "k must be a whole number from 1 to 50, not 'ten'"),
    ("/api/search?q=校车&page=0", 400, "page must be a whole number from 1 to 100, not 0"),
    ("/api/search?q=校车&mode=fuzzy", 400,
     "mode must be one of keyword, semantic, hybrid, not 'fuzzy'"),
    ("/api/search?q=。，！", 400, "nothing to search"),
    ("/api/ask?q=", 400, "the question is empty: type what you are looking for"),
    (f"/api/ask?q={LONG}", 400, "the question is 501 characters long; the limit is 500"),
    ("/api/documents/nope", 404, "there is no document with id 'nope' in the index"),
    ("/api/documents/..%2F..%2Fetc%2Fpasswd", 404, "there is nothing at"),
    ("/api/documents/%2Fetc%2Fpasswd", 404, "there is nothing at"),
    ("/api/documents/..", 404, "there is no document with id '..' in the index"),
    ("/api/passages/nope", 404, "there is no passage with id 'nope' in the index"),
    ("/api/passages/..%5C..%5Cwin.ini", 404, "there is no passage with id"),
    ("/api/nothing-here", 404, "there is nothing at /api/nothing-here: check the address"),
]


@pytest.mark.parametrize(("path", "status", "message"), ERRORS)
def test_errors_have_one_shape_and_one_page(client, path, status, message):
    response = client.get(path)
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"ok", "error", "status"}
    assert body["ok"] is False and body["status"] == status
    assert body["error"].startswith(message)
    page = client.get(path.replace("/api/", "/", 1))
    assert page.status_code == status
    assert page.content_type == "text/html; charset=utf-8"
    same = body["error"].replace(" /api/", " /", 1)  # "nothing at <the page's path>"
    said = chinese(same)  # the page says it in Chinese; the API's sentence is folded away
    assert said and f'<p class="message" role="alert">{esc(said)}</p>' in text_of(page)
    assert f'<p lang="en">{esc(same)}</p>' in text_of(page)
    if path.startswith(("/api/search", "/api/documents/", "/api/passages/", "/api/ask")) and \
            "nothing at" not in message:
        check_against_spec(client, path, response)


@pytest.mark.parametrize(("hl", "bad"), [("5-2", "'5-2'"), ("abc", "'abc'"),
                                         ("0-999999", "'0-999999'"), ("-3-4", "'-3-4'")])
def test_bad_highlight_span_is_400(client, hl, bad):
    response = client.get(f"/documents/{SAFETY_DOC}?hl={hl}")
    assert response.status_code == 400
    assert "hl must be START-END character offsets with 0 ≤ START &lt; END ≤ " in text_of(
        response)
    assert esc(bad) in text_of(response)


@pytest.mark.parametrize(("body", "kind", "status", "message"), [
    ("q=x", "application/x-www-form-urlencoded", 415, "send the question as JSON"),
    ("[1]", "application/json", 400, "the body must be a JSON object"),
    ("{not json", "application/json", 400, "the body must be a JSON object"),
    ('{"q": 5}', "application/json", 400, "q must be a string"),
    ('{"q": ""}', "application/json", 400, "the question is empty"),
])
def test_bad_ask_bodies(client, body, kind, status, message):
    response = client.post("/api/ask", data=body, content_type=kind)
    assert response.status_code == status
    assert response.get_json()["error"].startswith(message)


def test_wrong_method_is_405_in_the_same_shape(client):
    response = client.post("/api/search?q=校车")
    assert response.status_code == 405
    assert response.get_json() == {"ok": False, "status": 405,
                                   "error": "POST is not allowed at /api/search"}


def test_index_not_built_is_503_telling_to_build(tmp_path):
    app = create_app({"TESTING": True, "INDEX_DIR": tmp_path / "none"})
    client = app.test_client()
    for path in ("/api/health", "/api/search?q=校车", "/api/documents"):
        response = client.get(path)
        assert response.status_code == 503
        assert "run `python -m indexer build`" in response.get_json()["error"]
    page = client.get("/")
    assert page.status_code == 503 and "索引尚未就绪" in text_of(page)
    assert "python -m indexer build" in text_of(page)


@pytest.mark.model  # the index must have vectors for a semantic search to need the model
def test_a_missing_model_is_503_and_a_crash_is_500_in_the_same_shape(model_index_dir, caplog):
    from indexer.errors import ModelNotAvailable
    from indexer.retrieve.engine import Engine

    class MissingModel:
        name = "missing"

        @property
        def fingerprint(self):
            raise ModelNotAvailable("cannot load embedding model 'missing' from disk")

    class Broken:
        def generation(self):
            raise RuntimeError("disk on fire")

    app = create_app({"INDEX_DIR": model_index_dir,
                      "POLICYQA_ENGINE": Engine(model_index_dir, embedder=MissingModel())})
    response = app.test_client().get("/api/search?q=校车&mode=semantic")
    assert response.status_code == 503
    assert response.get_json()["error"] == (
        "the embedding model is not available: run `make model` (or `python -m indexer "
        "model`) first")
    app = create_app({"INDEX_DIR": model_index_dir, "POLICYQA_ENGINE": Broken()})
    response = app.test_client().get("/api/health")
    assert response.status_code == 500
    assert response.get_json() == {"ok": False, "status": 500, "error":
                                   "something went wrong on the server; the error is logged"}
    assert "disk on fire" not in response.get_data(as_text=True)
    assert "disk on fire" in caplog.text


# -- escaping and headers -------------------------------------------------------------------


@pytest.mark.parametrize("path", [f"/search?q={SCRIPT}", f"/ask?q={SCRIPT}&mode=keyword",
                                  f"/documents/{SCRIPT}", f"/search?q=校车&k={SCRIPT}",
                                  f"/search?q=校车&year={SCRIPT}"])
def test_reflected_input_is_text_in_html_and_json(client, path):
    page = text_of(client.get(path))
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    data = client.get(path.replace("/", "/api/", 1))
    assert data.content_type == "application/json"
    assert data.headers["X-Content-Type-Options"] == "nosniff"
    reflected = json.dumps(data.get_json(), ensure_ascii=False)
    assert "alert(1)" not in reflected or SCRIPT in reflected  # a JSON string, never markup


def test_only_mark_tags_pass_through_a_highlight():
    assert marked("a <mark>b</mark> &lt;c&gt;") == "a <mark>b</mark> &lt;c&gt;"
    assert marked(f"<mark>x</mark>{SCRIPT}") == \
        "&lt;mark&gt;x&lt;/mark&gt;&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.mark.parametrize("path", ["/", "/search?q=校车", f"/documents/{SAFETY_DOC}",
                                  "/api/health", "/api/documents/nope", "/nope"])
def test_security_headers_and_no_inline_script(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    body = text_of(response)
    if response.content_type.startswith("text/html"):
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", body) == []
        assert not re.search(r"\son[a-z]+=|\sstyle=|javascript:", body)
        assert "http://" not in body and "https://" not in body  # nothing from elsewhere


# -- settings, the shared engine, the server ---------------------------------------------

def test_settings_come_from_the_registry_env_then_test_config(monkeypatch, keyword_index_dir,
                                                               keyword_engine):
    assert set(config.NAMES) <= set(settings.REGISTRY)
    monkeypatch.setenv("POLICYQA_WEB_PAGE_SIZE", "3")
    app = create_app({"INDEX_DIR": keyword_index_dir, "POLICYQA_ENGINE": keyword_engine})
    assert app.test_client().get("/api/search?q=学校").get_json()["k"] == 3
    app = create_app({"INDEX_DIR": keyword_index_dir, "POLICYQA_ENGINE": keyword_engine,
                      "WEB_PAGE_SIZE": 4})
    assert app.test_client().get("/api/search?q=学校").get_json()["k"] == 4


def test_engine_is_created_on_first_use_and_shared(keyword_index_dir):
    app = create_app({"INDEX_DIR": keyword_index_dir})
    service = app.extensions["policyqa"]
    assert service._engine is None  # nothing opened by create_app
    client = app.test_client()
    client.get("/api/health")
    first = service.engine
    client.get("/api/search?q=校车")
    assert service.engine is first and first.index_dir == keyword_index_dir


@pytest.mark.slow
def test_python_m_webapp_serves_on_loopback(keyword_index_dir):
    process = subprocess.Popen(
        [sys.executable, "-m", "webapp", "--port", "0", "--threads", "2",
         "--index", str(keyword_index_dir)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        with urllib.request.urlopen(url + "api/health", timeout=30) as response:
            assert response.headers["Server"] == "policyqa"
            assert json.load(response)["ok"] is True
    finally:
        process.terminate()  # gunicorn stops gracefully: workers get graceful_timeout (30 s)
        process.wait(timeout=60)
