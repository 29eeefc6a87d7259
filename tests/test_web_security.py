"""Bad input and security: limits, ids, escaping, headers, the admin token, the LLM key.

Most checks go through Flask's test client; the ones where the WSGI server matters (raw
paths, request bodies) go through waitress on 127.0.0.1, as in production.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import (
    HOSTILE_DOC,
    HOSTILE_QUESTION,
    HOSTILE_TEXT,
    IMG,
    ROOT,
    SCRIPT,
    build_keyword_index,
    make_hostile_index,
    serving,
)
from webapp import CSP, create_app
from webapp.ratelimit import SlidingWindow

SAFETY_DOC = "000_2b1971d50fbc2800"
SAFETY_PASSAGE = "000_2b1971d50fbc2800-debbb32e51"
@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory) -> Path:
    return make_hostile_index(tmp_path_factory.mktemp("hostile"))


def text_of(response) -> str:
    return response.get_data(as_text=True)


def assert_error_shape(response, status: int, starts: str = "") -> dict:
    assert response.status_code == status
    assert response.content_type == "application/json"
    body = response.get_json()
    assert set(body) == {"ok", "error", "status"}
    assert body["ok"] is False and body["status"] == status
    assert body["error"].startswith(starts)
    return body


# -- the rate limit on questions ---------------------------------------------------------

def test_sliding_window_counts_each_key_and_slides():
    now = [100.0]
    window = SlidingWindow(limit=2, window=10, clock=lambda: now[0])
    assert window.acquire("a") == 0 and window.acquire("a") == 0
    assert window.acquire("a") == pytest.approx(10)  # the first leaves the window at 110
    assert window.acquire("b") == 0  # another client has its own allowance
    now[0] = 104.0
    assert window.acquire("a") == pytest.approx(6)  # refusals are not counted
    now[0] = 110.0  # both left the window
    assert window.acquire("a") == 0 and window.acquire("a") == 0
    assert window.acquire("a") == pytest.approx(10)
    assert SlidingWindow(limit=0, window=10).acquire("a") == 0  # 0: no limit


def test_sliding_window_is_thread_safe():
    window = SlidingWindow(limit=50, window=60, clock=lambda: 1.0)
    allowed = []

    def ask() -> None:
        allowed.extend(window.acquire("same") == 0 for _ in range(100))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 50


def test_sliding_window_memory_is_bounded():
    now = [0.0]
    window = SlidingWindow(limit=1, window=10, clock=lambda: now[0], max_keys=3)
    for key in "abc":
        window.acquire(key)
    now[0] = 5.0
    window.acquire("d")  # the table is full and nothing expired: the oldest key goes
    assert set(window._events) == {"b", "c", "d"}
    now[0] = 14.0
    window.acquire("e")  # b and c expired (at 10), so they go first
    assert set(window._events) == {"d", "e"}


def test_asking_too_often_is_429_with_retry_after(index_dir, engine):
    app = create_app({"TESTING": True, "INDEX_DIR": index_dir, "POLICYQA_ENGINE": engine,
                      "WEB_ASK_RATE": 2, "WEB_ASK_RATE_WINDOW": 60})
    client = app.test_client()
    question = {"q": "句容市2016年校安工程计划实施的总面积是多少？", "mode": "keyword"}
    assert client.get("/api/ask", query_string=question).status_code == 200
    assert client.post("/api/ask", json=question).status_code == 200
    for response in (client.get("/api/ask", query_string=question),
                     client.post("/api/ask", json=question)):
        body = assert_error_shape(response, 429, "too many questions from your address: "
                                                 "at most 2 every 60 seconds; try again in ")
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert body["error"].endswith(f"{response.headers['Retry-After']} s")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    page = client.get("/ask", query_string=question)  # the page shares the allowance
    assert page.status_code == 429 and page.content_type == "text/html; charset=utf-8"
    assert "请求太频繁" in text_of(page) and "Retry-After" in page.headers
    other = client.get("/api/ask", query_string=question,
                       environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert other.status_code == 200  # the limit is per client address
    assert client.get("/api/search?q=校车").status_code == 200  # search is not limited
    spec = client.get("/openapi.json").get_json()
    for method in ("get", "post"):
        documented = spec["paths"]["/api/ask"][method]["responses"]["429"]
        assert documented["headers"]["Retry-After"]["required"] is True


def test_rate_limit_zero_is_off(client):
    for _ in range(5):  # refused requests count too, so cheap ones show the limit is off
        assert client.get("/api/ask?q=").status_code == 400


# -- request size and other limits -------------------------------------------------------

def test_a_body_over_the_limit_is_413_in_the_error_shape(index_dir, engine):
    app = create_app({"TESTING": True, "INDEX_DIR": index_dir, "POLICYQA_ENGINE": engine,
                      "WEB_MAX_BODY_BYTES": 1024, "WEB_ASK_RATE": 0})
    client = app.test_client()
    assert app.config["MAX_CONTENT_LENGTH"] == 1024
    big = json.dumps({"q": "校车", "pad": "x" * 2000})
    response = client.post("/api/ask", data=big, content_type="application/json")
    assert_error_shape(response, 413, "the request body is larger than the limit of 1024 bytes")
    small = client.post("/api/ask", json={"q": "校车", "mode": "keyword"})
    assert small.status_code == 200


def test_the_served_app_refuses_large_and_chunked_bodies(index_dir, engine):
    app = create_app({"INDEX_DIR": index_dir, "POLICYQA_ENGINE": engine,
                      "WEB_MAX_BODY_BYTES": 1024, "WEB_ASK_RATE": 0})
    payload = json.dumps({"q": "校车" * 1000}).encode()
    with serving(app) as url:
        connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=30)
        connection.request("POST", "/api/ask", body=payload,
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["status"] == 413
        connection.close()
        connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=30)
        connection.request("POST", "/api/ask", body=iter([payload[:600], payload[600:]]),
                           headers={"Content-Type": "application/json"},
                           encode_chunked=True)
        response = connection.getresponse()
        assert response.status == 413  # no Content-Length: still refused past the limit
        assert json.loads(response.read())["status"] == 413
        connection.close()


LIMITS = [
    ("q=" + "校" * 501, "the query is 501 characters long; the limit is 500"),
    ("q=校车&k=51", "k must be a whole number from 1 to 50, not 51"),
    ("q=校车&page=101", "page must be a whole number from 1 to 100, not 101"),
    ("q=校车&k=99999999999999999999999", "k must be a whole number from 1 to 50"),
    ("q=校车&year=" + "9" * 201, "a year filter is longer than 200 characters"),
    ("q=校车&k=" + "0" * 5000 + "5&page=" + "9" * 5000, "page must be a whole number"),
    # Found by the fuzzer: each of these used to be read as something else.
    ("q=" + "%1D" * 501 + "校车", "the query is 503 characters long; the limit is 500"),
    ("q=校车&doc=" + " " * 201, "a doc filter is longer than 200 characters"),
    ("q=校车&k=%1F", "k must be a whole number from 1 to 50, not '\\x1f'"),
    ("q=校车&k=+5", "k must be a whole number from 1 to 50, not ' 5'"),
    ("q=校车&k=%2B5", "k must be a whole number from 1 to 50, not '+5'"),
    ("q=校车&k=1_0", "k must be a whole number from 1 to 50, not '1_0'"),
    ("q=校车&k=5&k=6", "k is given 2 times; give it once"),
    ("q=校车&q=校舍", "q is given 2 times; give it once"),
    ("q=校车&mode=%20keyword", "mode must be one of keyword, semantic, hybrid, not ' keyword'"),
]


@pytest.mark.parametrize(("query", "message"), LIMITS, ids=[m for _, m in LIMITS])
def test_query_k_and_page_limits(client, query, message):
    assert_error_shape(client.get(f"/api/search?{query}"), 400, message)


@pytest.mark.parametrize(("query", "message"), [
    ("q=校车&q=校舍", "q is given 2 times; give it once"),
    ("q=校车&mode=keyword&mode=hybrid", "mode is given 2 times; give it once"),
    ("q=" + "%1D" * 501, "the question is 501 characters long; the limit is 500"),
], ids=["q-twice", "mode-twice", "long-whitespace"])
def test_question_limits(client, query, message):
    assert_error_shape(client.get(f"/api/ask?{query}"), 400, message)


def test_empty_optional_parameters_mean_their_defaults(client):
    data = client.get("/api/search?q=校车&mode=&k=&page=").get_json()
    assert (data["mode"], data["k"], data["page"]) == ("keyword", 10, 1)
    assert client.post("/api/ask", json={"q": "校车", "mode": ""}).status_code == 200


# -- ids are looked up, never opened ---------------------------------------------------

BAD_IDS = ["nope", "..", "../manifest.json", "..%2F..%2Fetc%2Fpasswd", "..%2fCURRENT",
           "%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%5C..%5Cwin.ini",
           "manifest.json", "documents.jsonl", "CURRENT", "whoosh", "%00", "..%00",
           "000_2b1971d50fbc2800%2F..%2F..%2Fmanifest.json", "C:%5Cwindows%5Cwin.ini"]
ROUTES = ["/api/documents/", "/api/passages/", "/documents/", "/passages/"]


@contextmanager
def files_opened() -> Iterator[list[str]]:
    """Record the files this thread opens while the block runs (a Python audit hook)."""
    opened: list[str] = []
    thread = threading.get_ident()
    _OPEN_RECORDERS.append((thread, opened))
    try:
        yield opened
    finally:
        _OPEN_RECORDERS.remove((thread, opened))


_OPEN_RECORDERS: list[tuple[int, list[str]]] = []


def _audit(event: str, args: tuple) -> None:
    if event == "open" and _OPEN_RECORDERS and isinstance(args[0], str | bytes):
        for thread, opened in _OPEN_RECORDERS:
            if thread == threading.get_ident():
                opened.append(str(args[0]))


sys.addaudithook(_audit)  # an audit hook cannot be removed; it records only inside the block


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_ids_are_404_and_open_no_file(app, client, index_dir, route, bad):
    client.get(route + SAFETY_DOC)  # templates and lazy imports are loaded before we watch
    with files_opened() as opened:
        response = client.get(route + bad)
    assert response.status_code == 404
    if route.startswith("/api/"):
        assert_error_shape(response, 404)
    else:
        assert "找不到" in text_of(response)
    assert "root:" not in text_of(response) and "analyzer_version" not in text_of(response)
    code = (str(ROOT / "webapp"), str(ROOT / "indexer"), sys.prefix, sys.base_prefix)
    pointer = str(index_dir / "CURRENT")  # which generation is live: the only file read
    assert [path for path in opened if not path.startswith(code) and path != pointer] == []


@pytest.mark.parametrize("raw", ["/api/documents/../../etc/passwd",
                                 "/api/documents/..%2f..%2fmanifest.json",
                                 "/api/documents//etc/passwd", "/documents/../../etc/passwd",
                                 "/api/passages/%2e%2e/%2e%2e/CURRENT",
                                 "/api/documents/..\\..\\manifest.json"])
def test_raw_traversal_paths_through_the_server_are_404(app, raw):
    with serving(app) as url:
        connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=30)
        connection.putrequest("GET", raw, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
        connection.close()
    assert response.status == 404, body
    assert "root:" not in body and "analyzer_version" not in body


# -- headers --------------------------------------------------------------------------------

HEADER_PATHS = [("get", "/", 200), ("get", "/search?q=校车", 200),
                ("get", f"/documents/{SAFETY_DOC}", 200), ("get", "/api/health", 200),
                ("get", "/api/search?q=校车", 200), ("get", "/openapi.json", 200),
                ("get", "/static/app.js", 200), ("get", "/static/style.css", 200),
                ("get", "/static/favicon.svg", 200), ("get", f"/passages/{SAFETY_PASSAGE}", 302),
                ("get", "/api/documents/nope", 404), ("get", "/nope", 404),
                ("get", "/api/search?q=", 400), ("get", "/search?q=", 400),
                ("post", "/api/search", 405), ("post", "/api/admin/update", 404)]


@pytest.mark.parametrize(("method", "path", "status"), HEADER_PATHS)
def test_every_response_carries_the_security_headers(client, method, path, status):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_the_api_description_is_served_without_an_index(tmp_path):
    client = create_app({"TESTING": True, "INDEX_DIR": tmp_path / "none"}).test_client()
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.headers["Content-Security-Policy"] == CSP
    parameter = response.get_json()["paths"]["/api/documents/{doc_id}"]["get"]["parameters"][0]
    assert "example" not in parameter


def test_the_policy_allows_no_inline_script_style_or_framing():
    directives = dict(part.strip().split(" ", 1) for part in CSP.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP and "*" not in CSP


@pytest.mark.parametrize("template", sorted((ROOT / "webapp" / "templates").glob("*.html")),
                         ids=lambda path: path.name)
def test_templates_hold_no_inline_script_style_or_handlers(template):
    source = template.read_text(encoding="utf-8")
    for tag, body in re.findall(r"(<script\b[^>]*>)(.*?)</script>", source, re.S):
        assert "src=" in tag and body.strip() == "", tag
    assert source.count("<script") == len(re.findall(r"<script\b[^>]*>.*?</script>", source,
                                                     re.S))
    assert "<style" not in source
    assert not re.search(r"\sstyle\s*=", source)
    assert not re.search(r"\son[a-z]+\s*=", source, re.IGNORECASE)
    assert "javascript:" not in source.lower()


def test_static_script_writes_no_html():
    script = (ROOT / "webapp" / "static" / "app.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script


# -- escaping -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_client(hostile_index):
    app = create_app({"TESTING": True, "INDEX_DIR": hostile_index, "WEB_ASK_RATE": 0})
    return app.test_client()


def test_the_hostile_report_is_indexed_as_text(hostile_client):
    data = hostile_client.get(f"/api/documents/{HOSTILE_DOC}").get_json()
    assert data["document"]["title"] == f"{SCRIPT}安全要点{IMG}"
    assert SCRIPT in data["document"]["text"] and IMG in data["document"]["text"]


HOSTILE_PAGES = [
    pytest.param("/search?q=alert", id="search-markup-in-hits"),
    pytest.param(f"/search?q=安全 {SCRIPT}", id="search-markup-in-query"),
    pytest.param("/search?q=安全&doc=" + HOSTILE_DOC, id="search-filtered"),
    pytest.param(f"/ask?q={HOSTILE_QUESTION}&mode=keyword", id="ask"),
    pytest.param(f"/ask?q={SCRIPT}{IMG}校园安全&mode=keyword", id="ask-markup-in-question"),
    pytest.param(f"/documents/{HOSTILE_DOC}", id="document"),
    pytest.param(f"/documents/{HOSTILE_DOC}?hl=0-40", id="document-highlighted"),
    pytest.param("/documents", id="documents"),
    pytest.param(f"/search?q={IMG}", id="query-only-markup"),
]


@pytest.mark.parametrize("path", HOSTILE_PAGES)
def test_markup_in_documents_and_queries_is_text_in_html(hostile_client, path):
    response = hostile_client.get(path)
    assert response.status_code == 200
    body = text_of(response)
    assert "<script>alert" not in body and "<img src=x" not in body
    assert re.findall(r"<script\b[^>]*>", body) == ['<script src="/static/app.js" defer>']
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


@pytest.mark.parametrize("path", HOSTILE_PAGES)
def test_markup_in_json_is_a_plain_string(hostile_client, path):
    response = hostile_client.get("/api" + path)
    assert response.status_code == 200
    assert response.content_type == "application/json"
    data = response.get_json()
    raw = json.dumps(data, ensure_ascii=False)
    assert SCRIPT in raw and IMG in raw  # kept as the characters it is, not dropped
    for hit in data.get("hits", []) + data.get("passages", []):
        # A highlight is HTML: escaped text, and <mark> the only tag.
        assert re.sub(r"</?mark>", "", hit["highlight"]).count("<") == 0


def test_the_hostile_report_is_found_highlighted_and_quoted(hostile_client):
    search = hostile_client.get("/api/search?q=alert").get_json()
    assert {hit["doc_id"] for hit in search["hits"]} == {HOSTILE_DOC}
    assert search["hits"][0]["highlight"] == (
        "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;安全要点"
        "&lt;img src=x onerror=<mark>alert</mark>(1)&gt;")
    assert search["hits"][0]["text"] == f"{SCRIPT}安全要点{IMG}"
    answer = hostile_client.get(f"/api/ask?q={HOSTILE_QUESTION}&mode=keyword").get_json()
    assert any(SCRIPT in citation["quote"] for citation in answer["citations"]), answer


# -- the endpoint that changes the index ----------------------------------------------------

TOKEN = "s3cret-admin-token-Zq81"


def test_admin_endpoint_is_off_without_a_token(client, app):
    assert app.config["WEB_ADMIN_TOKEN"] == ""
    for response in (client.post("/api/admin/update"), client.get("/api/admin/update"),
                     client.post("/api/admin/update",
                                 headers={"Authorization": "Bearer "})):
        assert_error_shape(response, 404, "there is nothing at /api/admin/update")
    assert "/api/admin/update" not in client.get("/openapi.json").get_json()["paths"]


@pytest.fixture
def admin_app(tmp_path, corpus_copy):
    index = build_keyword_index(corpus_copy, tmp_path / "index")
    return create_app({"TESTING": True, "INDEX_DIR": index, "CORPUS_DIR": corpus_copy,
                       "WEB_ADMIN_TOKEN": TOKEN})


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer ", "Bearer wrong",
                                           f"Basic {TOKEN}", f"Bearer {TOKEN}x",
                                           f"Bearer {TOKEN[:-1]}", f"{TOKEN}",
                                           "Bearer 令牌", f"Bearer  {TOKEN} extra"])
def test_admin_endpoint_needs_the_token(admin_app, authorization, caplog):
    caplog.set_level(logging.DEBUG)
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = admin_app.test_client().post("/api/admin/update", headers=headers)
    assert_error_shape(response, 401, "this endpoint needs the admin token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert TOKEN not in text_of(response) and TOKEN not in caplog.text


def test_admin_update_indexes_a_new_report(admin_app, corpus_copy, monkeypatch, caplog):
    monkeypatch.setenv("POLICYQA_VECTORS_ENABLED", "false")
    caplog.set_level(logging.DEBUG)
    client = admin_app.test_client()
    assert client.get("/api/search?q=alert").get_json()["total"] == 0
    before = client.get("/api/health").get_json()["generation"]
    (corpus_copy / f"{HOSTILE_DOC}.txt").write_text(HOSTILE_TEXT, encoding="utf-8")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/api/admin/update", headers=auth).status_code == 405
    response = client.post("/api/admin/update", headers=auth)
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["ok"] is True and report["added"] == [HOSTILE_DOC]
    assert report["changed"] == [] and report["removed"] == [] and not report["up_to_date"]
    assert report["generation"] != before
    assert client.get("/api/health").get_json()["generation"] == report["generation"]
    hits = client.get("/api/search?q=alert").get_json()["hits"]
    assert {hit["doc_id"] for hit in hits} == {HOSTILE_DOC}
    again = client.post("/api/admin/update", headers=auth).get_json()
    assert again["up_to_date"] is True and again["generation"] == report["generation"]
    spec = client.get("/openapi.json").get_json()
    assert spec["paths"]["/api/admin/update"]["post"]["security"] == [{"adminToken": []}]
    assert TOKEN not in caplog.text and TOKEN not in json.dumps(spec)


def test_an_update_without_a_corpus_folder_is_503(admin_app, tmp_path):
    admin_app.config["CORPUS_DIR"] = tmp_path / "gone"
    response = admin_app.test_client().post("/api/admin/update",
                                            headers={"Authorization": f"Bearer {TOKEN}"})
    assert_error_shape(response, 503, "the corpus folder ")


def test_a_second_update_at_once_is_409(admin_app):
    from indexer.store.generations import writer_lock

    client = admin_app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with writer_lock(admin_app.config["INDEX_DIR"]):  # as if `indexer update` were running
        assert_error_shape(client.post("/api/admin/update", headers=auth), 409,
                           "another build or update is writing the index")
    service = admin_app.extensions["policyqa"]
    with service._updating:  # an update of this app is still running
        assert_error_shape(client.post("/api/admin/update", headers=auth), 409,
                           "an index update is already running")
    assert client.post("/api/admin/update", headers=auth).status_code == 200


# -- the generation key and the bind address -----------------------------------------------

LLM_KEY = "sk-test-DO-NOT-SHOW-4b1d9c"


@pytest.mark.parametrize("failure", ["ok", "http-500", "garbage", "timeout", "unreachable",
                                     "key-in-url"])
def test_the_llm_key_never_shows(hostile_client, monkeypatch, caplog, failure):
    from tests.fake_llm import FakeLLM

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("POLICYQA_ANSWER_LLM_API_KEY_ENV", "POLICYQA_TEST_LLM_KEY")
    monkeypatch.setenv("POLICYQA_TEST_LLM_KEY", LLM_KEY)
    monkeypatch.setenv("POLICYQA_ANSWER_LLM_MODEL", "fake")
    monkeypatch.setenv("POLICYQA_ANSWER_LLM_TIMEOUT", "0.5")
    fake = FakeLLM(reply="2016年计划实施校安工程总面积为37.6万平方米[1]。",
                   status=500 if failure == "http-500" else 200,
                   raw=b"{not json" if failure == "garbage" else None,
                   delay=3.0 if failure == "timeout" else 0.0)
    with fake as llm:
        base = llm.base_url
        if failure == "unreachable":
            base = "http://127.0.0.1:9/v1"
        elif failure == "key-in-url":
            base = base.replace("http://", f"http://user:{LLM_KEY}@")
        monkeypatch.setenv("POLICYQA_ANSWER_LLM_BASE_URL", base)
        question = "句容市2016年校安工程计划实施的总面积是多少？"
        client = hostile_client
        responses = [client.get(f"/api/ask?q={question}&mode=keyword"),
                     client.get(f"/ask?q={question}&mode=keyword"),
                     client.post("/api/ask", json={"q": question, "mode": "keyword"}),
                     client.get("/api/health"), client.get("/openapi.json")]
    for response in responses:
        assert response.status_code == 200
        assert LLM_KEY not in text_of(response)
        assert LLM_KEY not in str(response.headers)
    assert LLM_KEY not in caplog.text
    if failure in ("ok", "http-500", "garbage"):
        assert llm.requests[0]["headers"]["Authorization"] == f"Bearer {LLM_KEY}"
    assert responses[0].get_json()["generated"] is (failure == "ok")


def test_the_server_binds_loopback_unless_told(monkeypatch):
    from webapp.__main__ import parse_args

    monkeypatch.delenv("POLICYQA_WEB_HOST", raising=False)
    assert parse_args([]).host == "127.0.0.1"
    assert parse_args(["--host", "0.0.0.0"]).host == "0.0.0.0"
    monkeypatch.setenv("POLICYQA_WEB_HOST", "::1")
    assert parse_args([]).host == "::1"
