"""Bad input and security: limits, ids, escaping, headers, the admin token, the LLM key.

Most checks go through Flask's test client; the ones where the WSGI server matters (raw
paths, request bodies) go through waitress on 127.0.0.1, as in production.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import shutil
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from indexer import settings
from tests.conftest import (
    CORPUS,
    HOSTILE_DOC,
    HOSTILE_QUESTION,
    HOSTILE_TEXT,
    IMG,
    ROOT,
    SAFETY_DOC,
    SAFETY_PASSAGE,
    SCRIPT,
    assert_error_shape,
    build_keyword_index,
    make_hostile_index,
    serving,
    text_of,
)
from webapp import CSP, create_app
from webapp.errors import NON_ASCII_ADDRESS


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory) -> Path:
    return make_hostile_index(tmp_path_factory.mktemp("hostile"))


# -- the rate limit on questions ---------------------------------------------------------

def limited_client(folder: Path, rate: int, window: float):
    """A client of an app whose questions are limited, with no index: ``/api/ask?q=`` is
    counted like any question, then refused by the view (400)."""
    app = create_app({"TESTING": True, "INDEX_DIR": folder, "WEB_ASK_RATE": rate,
                      "WEB_ASK_RATE_WINDOW": window})
    return app, app.test_client()


def test_the_ask_limit_counts_each_address_and_slides(tmp_path, monkeypatch):
    now = [100.0]
    monkeypatch.setattr(time, "time", lambda: now[0])  # the clock of the memory storage
    app, client = limited_client(tmp_path, rate=2, window=10)

    def ask(address: str = "127.0.0.1"):
        return client.get("/api/ask?q=", environ_base={"REMOTE_ADDR": address})

    assert ask().status_code == 400 and ask().status_code == 400
    refused = ask()  # the first leaves the window at 110
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "10"
    assert ask("127.0.0.2").status_code == 400  # another client has its own allowance
    now[0] = 104.0
    assert ask().headers["Retry-After"] == "6"  # refusals are not counted
    now[0] = 110.5  # both left the window: a moving window, not a fixed one
    assert ask().status_code == 400 and ask().status_code == 400
    assert ask().headers["Retry-After"] == "10"
    _, unlimited = limited_client(tmp_path, rate=0, window=10)
    assert all(unlimited.get("/api/ask?q=").status_code == 400 for _ in range(5))


def test_the_ask_limit_is_thread_safe(tmp_path):
    app, _ = limited_client(tmp_path, rate=50, window=60)
    statuses: list[int] = []

    def ask() -> None:
        client = app.test_client()
        statuses.extend(client.get("/api/ask?q=").status_code for _ in range(100))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(400) == 50 and statuses.count(429) == 750


def test_the_ask_limit_drops_the_times_of_a_window_that_has_passed(tmp_path, monkeypatch):
    from webapp.ratelimit import EXTENSION

    now = [0.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    app, client = limited_client(tmp_path, rate=1, window=10)
    for address in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
        client.get("/api/ask?q=", environ_base={"REMOTE_ADDR": address})
    events = app.extensions[EXTENSION].limiter.storage.events
    assert len(events) == 3
    now[0] = 14.0  # their windows ended at 10; the next request has them dropped
    client.get("/api/ask?q=", environ_base={"REMOTE_ADDR": "127.0.0.4"})
    deadline = time.monotonic() + 10
    while sum(map(bool, events.values())) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    # What is left of an address whose window has passed is its key (limits keeps it).
    assert [key.split("/")[2] for key, times in events.items() if times] == ["127.0.0.4"]


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


@pytest.fixture(scope="module")
def locked_app(index_dir, engine, tmp_path_factory):
    """One app with the admin endpoint on, shared by the refusals: its corpus folder does
    not exist, so a token wrongly accepted would be a 503, never a change to the index."""
    return create_app({"TESTING": True, "INDEX_DIR": index_dir, "POLICYQA_ENGINE": engine,
                       "CORPUS_DIR": tmp_path_factory.mktemp("locked") / "none",
                       "WEB_ADMIN_TOKEN": TOKEN})


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer ", "Bearer wrong",
                                           f"Basic {TOKEN}", f"Bearer {TOKEN}x",
                                           f"Bearer {TOKEN[:-1]}", f"{TOKEN}",
                                           "Bearer 令牌", f"Bearer  {TOKEN} extra"])
def test_admin_endpoint_needs_the_token(locked_app, authorization, caplog):
    caplog.set_level(logging.DEBUG)
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = locked_app.test_client().post("/api/admin/update", headers=headers)
    assert_error_shape(response, 401, "this endpoint needs the admin token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.headers["Cache-Control"] == "no-store"
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
    assert response.headers["Cache-Control"] == "no-store"
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


# -- found by an adversarial probe of the running server -----------------------------------

def repeated(name: str, count: int, width: int = 4) -> str:
    """``name=v0000&name=v0001…``: ``count`` distinct values of one filter."""
    return "&".join(f"{name}=v{i:0{width}d}" for i in range(count))


@pytest.mark.parametrize("path", ["/api/search", "/search"])
def test_more_filter_values_than_the_cap_are_400(app, client, path):
    cap = app.config["WEB_MAX_FILTER_VALUES"]
    assert cap == settings.get("web_max_filter_values") == 20
    assert client.get(f"{path}?q=教育&{repeated('region', cap)}").status_code == 200
    message = f"{cap + 1} filter values are given; the limit is {cap}"
    mixed = f"{path}?q=教育&doc=a&year=2016&kind=b&{repeated('region', cap - 2)}"
    for query in (f"{path}?q=教育&{repeated('region', cap + 1)}", mixed):
        response = client.get(query)
        if path.startswith("/api/"):
            assert_error_shape(response, 400, message)
        else:
            assert response.status_code == 400 and message in text_of(response)
    many = client.get(f"{path}?q=教育&{repeated('region', 3000)}")
    assert many.status_code == 400 and len(many.data) < 20_000


def test_the_search_page_grows_linearly_with_its_filters(index_dir, engine):
    app = create_app({"TESTING": True, "INDEX_DIR": index_dir, "POLICYQA_ENGINE": engine,
                      "WEB_MAX_FILTER_VALUES": 1000})
    client = app.test_client()
    sizes = {}
    for count in (100, 200, 400):
        response = client.get(f"/search?q=教育&{repeated('region', count)}")
        assert response.status_code == 200
        sizes[count] = len(response.data)
    # Linear: doubling the filters doubles the growth (2); quadratic would quadruple it (4).
    assert sizes[400] - sizes[200] < 2.5 * (sizes[200] - sizes[100]), sizes


def test_the_largest_allowed_search_page_stays_small(app, client, engine):
    # The most filter values, each as long as allowed, and still hits, facets and pages:
    # every facet and page link repeats them (the chips do not).
    cap = app.config["WEB_MAX_FILTER_VALUES"]
    documents = list(engine.generation().catalog.documents)
    values = documents + [f"{i:03d}" + "校" * 197 for i in range(cap - len(documents))]
    response = client.get("/search?q=教育&" + "&".join(f"doc={v}" for v in values))
    assert response.status_code == 200
    assert text_of(response).count('class="hit"') == 10 and 'rel="next"' in text_of(response)
    assert len(response.data) < 600_000


def test_a_filter_chip_drops_its_filter_and_keeps_the_others(client):
    page = f"/search?q=学校建设&doc={SAFETY_DOC}&year=2016&k=5"
    body = text_of(client.get(page))
    assert '<button class="chip" type="submit" name="drop" value="year:2016"' in body
    assert '<input type="hidden" name="k" value="5">' in body
    response = client.get(page + "&drop=year:2016")
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("", "", "/search")
    assert parse_qs(location.query) == {"q": ["学校建设"], "k": ["5"], "doc": [SAFETY_DOC]}
    assert client.get(page + "&drop=month:5").status_code == 400
    assert client.get(page + "&drop=year:2016&drop=doc:x").status_code == 400


MODES = ["keyword", "semantic", "hybrid"]


@pytest.mark.parametrize("body", [
    *({"q": "校车\udc80", "mode": mode} for mode in MODES),
    {"q": "\ud800"}, {"q": "校车", "mode": "keyword\udfff"},
], ids=[*MODES, "alone", "in-mode"])
def test_a_lone_surrogate_in_a_json_body_is_400(client, body):
    data = json.dumps(body)  # ASCII: the surrogate travels as its \\u escape
    assert "\\ud" in data
    response = client.post("/api/ask", data=data, content_type="application/json")
    assert_error_shape(response, 400, "q " if "\udc80" in body["q"] or "\ud800" in body["q"]
                       else "mode ")
    assert "not text" in response.get_json()["error"]


UNDECODABLE = ["/api/search?q=%ED%B2%80", "/search?q=%ED%B2%80", "/api/ask?q=%ED%B2%80",
               "/ask?q=%ED%B2%80", "/api/ask?q=%E6%A0&mode=keyword",
               "/api/search?q=校车&region=%ED%B2%80", "/api/search?q=校车&mode=%FF",
               "/api/search?q=校车&k=%C0%B1", "/search?q=校车&doc=%F0%9F",
               f"/documents/{SAFETY_DOC}?hl=%ED%B2%80", "/api/health?%FF=1", "/?q=%C3"]


@pytest.mark.parametrize("path", UNDECODABLE)
def test_a_query_string_that_is_not_utf8_is_400(client, path):
    response = client.get(path)
    message = "the query string is not UTF-8 text"
    if path.startswith("/api/"):
        assert_error_shape(response, 400, message)
    else:
        assert response.status_code == 400 and message in text_of(response)


@pytest.mark.parametrize(("raw", "message"), [
    (b"GET /api/documents/%ED%B2%80 HTTP/1.1", "the address is not UTF-8 text"),
    (b"GET /documents/%ED%B2%80 HTTP/1.1", "the address is not UTF-8 text"),
    (b"GET /api/search?q=%ED%B2%80 HTTP/1.1", "the query string is not UTF-8 text"),
    # Bytes outside ASCII in the request line: waitress refuses them itself, and says how
    # to send them.
    (b"GET /api/passages/\xed\xb2\x80 HTTP/1.1", "Bad Request: " + NON_ASCII_ADDRESS),
    (b"GET /api/search?q=\xed\xb2\x80 HTTP/1.1", "Bad Request: " + NON_ASCII_ADDRESS),
    (b"GET /api/ask?q=" + "县管校聘".encode() + b" HTTP/1.1", "Bad Request: " + NON_ASCII_ADDRESS),
])
def test_an_address_that_is_not_utf8_is_400_through_the_server(app, raw, message):
    with serving(app) as url:
        status, headers, body = raw_exchange(url, raw + b"\r\nHost: x\r\nConnection: close"
                                                        b"\r\n\r\n")
    assert status == 400, body
    assert message.encode() in body  # in the JSON shape, or the error page for a page
    assert headers["Content-Security-Policy"] == CSP


NESTED = [
    pytest.param('{"q":"x","x":' + "[" * 1000 + "]" * 1000 + "}", id="lists-1000"),
    pytest.param('{"q":"x","x":' + '{"a":' * 1000 + "1" + "}" * 1000 + "}", id="objects-1000"),
    pytest.param("[" * 30000 + "]" * 30000, id="lists-30000"),
    pytest.param('{"q":"校车","mode":"keyword","x":' + "[" * 20 + "]" * 20 + "}",
                 id="one-past-the-limit"),
    pytest.param('{"q":"x","x":' + "[" * 5000, id="unclosed"),
]


@pytest.mark.parametrize("body", NESTED)
def test_deeply_nested_json_is_400(client, body):
    response = client.post("/api/ask", data=body, content_type="application/json")
    assert_error_shape(response, 400, "the JSON body is nested more than 20 levels deep")


def test_json_nested_within_the_limit_and_brackets_in_strings_are_fine(client):
    body = ('{"q":"校车","mode":"keyword","x":' + "[" * 19 + "]" * 19 +
            ',"y":"' + "[" * 50 + '","z":"\\"{{{{"}')
    response = client.post("/api/ask", data=body, content_type="application/json")
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("body", [b'{"q": "\xed\xb2\x80"}', b'{"q": "\xff"}',
                                  b'"' + b'\\"' * 30000])
def test_a_body_that_is_not_utf8_json_is_400_and_quick(client, body):
    started = time.perf_counter()
    response = client.post("/api/ask", data=body, content_type="application/json")
    assert response.status_code == 400
    assert time.perf_counter() - started < 2


@pytest.fixture(scope="module")
def sourced_index(tmp_path_factory) -> tuple[Path, Path]:
    """A corpus with a report in a sub-folder and a bulk file, one line of it from a URL."""
    folder = tmp_path_factory.mktemp("sourced")
    corpus = folder / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (path,) = CORPUS.glob("000_*.txt")
    shutil.copy(path, corpus / "sub" / path.name)
    text = ("各学校要把校园安全放在首位，认真落实安全责任制度，定期排查校舍、校车和食堂的"
            "安全隐患，确保师生平安。")
    lines = [{"id": "web-1", "title": "网上的报告", "text": text,
              "url": "https://www.example.gov.cn/2016/report.html"},
             {"id": "bulk-2", "title": "文件里的报告", "text": text}]
    (corpus / "bulk.jsonl").write_text(
        "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n",
        encoding="utf-8")
    return corpus, build_keyword_index(corpus, folder / "index")


@pytest.mark.parametrize("relative", [True, False], ids=["corpus-dir", "elsewhere"])
def test_sources_are_corpus_paths_or_urls_never_server_paths(sourced_index, relative):
    corpus, index = sourced_index
    client = create_app({"TESTING": True, "INDEX_DIR": index,
                         "CORPUS_DIR": corpus if relative else index}).test_client()
    (path,) = CORPUS.glob("000_*.txt")
    expected = {"web-1": "https://www.example.gov.cn/2016/report.html",
                "bulk-2": "bulk.jsonl:2",
                "sub_000_2b1971d50fbc2800": f"sub/{path.name}" if relative else path.name}
    listed = client.get("/api/documents").get_json()["documents"]
    assert {d["doc_id"]: d["source"] for d in listed} == expected
    passage = client.get("/api/documents/bulk-2").get_json()["document"]["passages"][0]
    responses = [client.get("/api/documents"), client.get("/api/documents/bulk-2"),
                 client.get(f"/api/passages/{passage['passage_id']}"),
                 client.get("/api/documents/sub_000_2b1971d50fbc2800"), client.get("/documents"),
                 client.get("/documents/sub_000_2b1971d50fbc2800")]
    for response in responses:
        assert response.status_code == 200
        assert str(corpus) not in text_of(response) and str(index) not in text_of(response)
    assert client.get("/api/documents/web-1").get_json()["document"]["source"] == \
        expected["web-1"]
    assert client.get(f"/api/passages/{passage['passage_id']}").get_json()["document"][
        "source"] == "bulk.jsonl:2"


def test_the_bundled_sources_are_file_names(client):
    sources = [d["source"] for d in client.get("/api/documents").get_json()["documents"]]
    assert sorted(sources) == sorted(path.name for path in CORPUS.glob("*.txt"))
    assert str(ROOT) not in text_of(client.get(f"/api/passages/{SAFETY_PASSAGE}"))


@pytest.mark.parametrize("host", ["evil.example.com", "evil.example.com:8000", "x/<y>"])
def test_redirects_are_relative_whatever_the_host(client, host):
    response = client.get("/static//app.js", headers={"Host": host})
    assert response.status_code == 308 and response.headers["Location"] == "/static/app.js"
    response = client.get(f"/passages/{SAFETY_PASSAGE}", headers={"Host": host})
    assert response.status_code == 302 and response.headers["Location"].startswith("/documents/")
    response = client.get("//static//app.js", headers={"Host": host})
    assert not response.headers.get("Location", "/").startswith("//")


def test_redirects_are_relative_through_the_server(app):
    with serving(app) as url:
        status, headers, _ = raw_exchange(url, b"GET /static//app.js HTTP/1.1\r\nHost: "
                                               b"evil.example.com\r\nConnection: close\r\n\r\n")
    assert status == 308 and headers["Location"] == "/static/app.js"


def test_only_trusted_hosts_are_answered_when_set(index_dir, engine):
    app = create_app({"TESTING": True, "INDEX_DIR": index_dir, "POLICYQA_ENGINE": engine,
                      "WEB_TRUSTED_HOSTS": "localhost, .example.org"})
    client = app.test_client()
    for host in ("localhost", "localhost:8000", "example.org", "www.example.org:443"):
        assert client.get("/api/health", headers={"Host": host}).status_code == 200, host
    for host in ("evil.example.com", "localhost.evil.com", "example.org.evil.com"):
        response = client.get("/api/health", headers={"Host": host})
        assert_error_shape(response, 400, "this server does not answer for the host")
        assert host not in text_of(response)
        page = client.get("/static//x", headers={"Host": host})
        assert page.status_code == 400 and "请求有误" in text_of(page)
        assert "Location" not in page.headers
    assert create_app({"TESTING": True, "INDEX_DIR": index_dir}).config[
        "WEB_TRUSTED_HOSTS"] == ""  # by default every host is answered


CACHING = [("get", "/api/ask?q=校车&mode=keyword", "no-store"),
           ("post", "/api/ask", "no-store"),
           ("get", "/ask?q=校车&mode=keyword", "no-store"),
           ("get", "/api/ask?q=", "no-store"),
           ("get", "/static/app.js", "public, max-age=600"),
           ("get", "/static/style.css", "public, max-age=600"),
           ("get", "/", "no-cache"), ("get", "/search?q=校车", "no-cache"),
           ("get", "/api/search?q=校车", "no-cache"), ("get", "/api/documents", "no-cache"),
           ("get", f"/documents/{SAFETY_DOC}", "no-cache"), ("get", "/api/health", "no-cache"),
           ("get", "/openapi.json", "no-cache"), ("get", f"/passages/{SAFETY_PASSAGE}", "no-cache"),
           ("get", "/api/search?q=", "no-store"), ("get", "/nope", "no-store"),
           ("get", "/static/nope.js", "no-store")]


@pytest.mark.parametrize(("method", "path", "cache"), CACHING,
                         ids=[f"{m} {p}" for m, p, _ in CACHING])
def test_every_response_says_how_to_cache_it(client, method, path, cache):
    if method == "post":
        response = client.post(path, json={"q": "校车", "mode": "keyword"})
    else:
        response = client.get(path)
    assert response.headers["Cache-Control"] == cache


def raw_exchange(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as bytes to the server at ``url``; its status, headers and body."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


WAITRESS_ERRORS = [
    pytest.param(b"NOT A REQUEST LINE\r\n\r\n", 400, id="bad-start-line"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400, id="bad-header"),
    pytest.param(b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 999999999\r\n\r\n", 413, id="body-over-waitress-limit"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * (1 << 18) + b"\r\n\r\n",
                 431, id="headers-too-large"),
]


@pytest.mark.parametrize(("request_bytes", "status"), WAITRESS_ERRORS)
def test_what_waitress_refuses_itself_has_the_error_shape_and_headers(app, request_bytes,
                                                                      status):
    with serving(app) as url:
        got, headers, body = raw_exchange(url, request_bytes)
    assert got == status, body
    assert headers["Content-Type"] == "application/json"
    data = json.loads(body)
    assert set(data) == {"ok", "error", "status"} and data["status"] == status
    assert headers["Content-Security-Policy"] == CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"


def test_the_app_answers_bodies_between_its_limit_and_waitress_limit(app):
    size = app.config["MAX_CONTENT_LENGTH"] * 2
    body = json.dumps({"q": "校车", "pad": "x" * size}).encode()
    with serving(app) as url:
        status, headers, data = raw_exchange(
            url, b"POST /api/ask HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                 b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
                 + body)
    assert status == 413 and json.loads(data)["error"].startswith(
        "the request body is larger than the limit of")
    assert headers["Content-Security-Policy"] == CSP


@pytest.mark.parametrize("hl", [" +1_0-２０", "+1-20", "1_0-20", "１-20", "1- 20", "1-20 ",
                                "0x1-20", "1-2e1", "-0-20"])
def test_hl_is_read_as_strictly_as_k_and_page(client, hl):
    response = client.get(f"/documents/{SAFETY_DOC}?hl={quote(hl)}")
    assert response.status_code == 400
    assert "hl must be START-END character offsets" in text_of(response)
    assert client.get(f"/documents/{SAFETY_DOC}?hl=10-20").status_code == 200
    assert client.get(f"/documents/{SAFETY_DOC}?hl=010-020").status_code == 200
