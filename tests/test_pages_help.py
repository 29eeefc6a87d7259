"""What users meet on the pages: words typed together, did-you-mean, pinyin, English,
long pastes, Chinese messages, unknown facets, pages past the end, readable ranks,
citations that can be pasted, and help when a question has no answer.

Through Flask's test client over the session's model index (``app``); each page is
checked against its /api twin where there is one. The real browser checks the same
pages in ``test_browser.py``.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from markupsafe import escape

from tests.conftest import SAFETY_DOC, text_of
from webapp.guidance import chinese
from webapp.presentation import Quote, answer_view, page_window

LONG = "校" * 627


def esc(text: str) -> str:
    return str(escape(text))


def main_text(body: str) -> str:
    """The visible text of a page's <main>, tags removed, spaces collapsed."""
    main = re.search(r"<main.*?</main>", body, re.S).group(0)
    main = re.sub(r"<details class=\"technical\">.*?</details>", "", main, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main)))


def links_in(body: str, css_class: str) -> list[tuple[str, dict[str, list[str]]]]:
    """The links (path, query) inside the first ``<div>`` with ``css_class``."""
    block = re.search(rf'<div class="{css_class}">.*?</div>', body, re.S).group(0)
    return [(urlsplit(href).path, parse_qs(urlsplit(href).query))
            for href in map(html.unescape, re.findall(r'href="([^"#]+)"', block))]


# -- 1. words typed together; suggestions that never loop ---------------------------------

def test_words_typed_together_are_found_and_both_marked(client):
    data = client.get("/api/search?q=校车安全").get_json()
    assert data["total"] > 0
    body = text_of(client.get("/search?q=校车安全"))
    assert body.count('class="hit"') == len(data["hits"])
    marks = set(re.findall(r"<mark>(.*?)</mark>", body))
    assert {"校车", "安全"} <= marks


@pytest.mark.parametrize("query", ["火星探測器", "火星 探测器", "school bus", "football"])
def test_every_way_out_of_an_empty_page_finds_something(client, query):
    assert client.get("/api/search", query_string={"q": query}).get_json()["total"] == 0
    body = text_of(client.get("/search", query_string={"q": query}))
    assert "没有找到结果" in body and "换一种写法" not in body
    links = links_in(body, "no-results")
    assert links
    for path, query_string in links:
        api = client.get("/api" + path, query_string=query_string)
        assert api.get_json()["total"] > 0, (path, query_string)


def test_a_likely_typo_offers_the_word_meant(client):
    data = client.get("/api/search?q=送教上们").get_json()
    assert data["suggestion"] == "送教上门"
    body = text_of(client.get("/search?q=送教上们"))
    assert ('<p class="notice did-you-mean" role="status">您是不是要找：'
            '<a href="/search?q=%E9%80%81%E6%95%99%E4%B8%8A%E9%97%A8">送教上门</a></p>') in body
    assert client.get("/api/search?q=送教上门").get_json()["total"] > 0


def test_no_suggestion_no_did_you_mean(client):
    assert client.get("/api/search?q=校车").get_json()["suggestion"] is None
    assert "您是不是要找" not in text_of(client.get("/search?q=校车"))


def test_the_total_of_a_common_word_is_exact_and_says_so(client, monkeypatch):
    monkeypatch.setenv("POLICYQA_KEYWORD_EXACT_MATCHES", "5")  # a Milvus bound only
    data = client.get("/api/search?q=教育").get_json()
    assert data["total_exact"] is True and data["total"] > 5
    body = main_text(text_of(client.get("/search?q=教育")))
    assert f"共 {data['total']} 条（关键词检索）" in body and "约 " not in body


# -- 4. pinyin, English, long pastes, Chinese messages -------------------------------------

def test_pinyin_read_as_words_is_said(client):
    data = client.get("/api/search?q=xiaoche anquan").get_json()
    assert data["message"] == "已按拼音查找：校车 安全" and data["total"] > 0
    assert esc(data["message"]) in text_of(client.get("/search?q=xiaoche anquan"))


@pytest.mark.parametrize("query", ["school bus", "football"])
def test_english_that_finds_nothing_is_told_to_use_chinese(client, query):
    body = text_of(client.get("/search", query_string={"q": query}))
    assert ('本系统只收录中文报告，请用中文关键词，例如：<a href="/search?q=%E6%A0%A1%E8%BD%A6+'
            '%E5%AE%89%E5%85%A8">校车 安全</a>') in body


def test_an_english_question_is_told_to_ask_in_chinese(client):
    data = client.get("/api/ask?q=football&mode=keyword").get_json()
    assert data["answerable"] is False
    body = text_of(client.get("/ask?q=football&mode=keyword"))
    assert "本系统只收录中文报告，请用中文提问，例如：" in body


@pytest.mark.parametrize(("path", "said"), [
    (f"/search?q={LONG}", "查询有 627 个字，超过了 500 字的上限"),
    (f"/ask?q={LONG}", "问题有 627 个字，超过了 500 字的上限"),
], ids=["search", "ask"])
def test_a_long_paste_is_refused_in_chinese_and_kept_whole(client, path, said):
    response = client.get(path)
    assert response.status_code == 400
    body = text_of(response)
    assert said in main_text(body)
    assert f'value="{LONG}"' in body  # the whole text, to shorten: not cut at the limit
    assert "maxlength" not in body and 'data-limit="500"' in body


@pytest.mark.parametrize("path", [
    "/search?q=。，！", "/search?q=", "/search?q=校车&k=0", "/search?q=校车&mode=fuzzy",
    "/search?q=校车&page=abc", "/search?q=校车&q=校舍", "/documents/nope", "/passages/nope",
    f"/documents/{SAFETY_DOC}?hl=5-2", "/nothing-here", "/search?q=校车&drop=month:5",
])
def test_error_pages_speak_chinese(client, path):
    response = client.get(path)
    assert response.status_code in (400, 404)
    body = text_of(response)
    shown = main_text(body)
    assert not re.search(r"[A-Za-z]{3,} [A-Za-z]{3,}", shown), shown  # no English sentence
    english = html.unescape(re.search(r'<p lang="en">(.*?)</p>', body).group(1))
    assert chinese(english) and esc(chinese(english)) in body  # folded: the API's sentence
    api = client.get("/api" + path)
    if api.status_code == response.status_code:  # the API keeps its English sentence
        assert api.get_json()["error"].replace(" /api/", " /", 1) == english


def test_known_messages_are_said_in_chinese():
    assert chinese("the question is 627 characters long; the limit is 500") == (
        "问题有 627 个字，超过了 500 字的上限，请删减后再试。")
    assert chinese("nothing to search: the query has no words to look for (only "
                   "punctuation, operators or very common words)").startswith("没有可以查找的词：")
    assert chinese("page must be a whole number from 1 to 100, not 0") == (
        "页码 page 必须是 1 到 100 之间的整数，不能是 0。")
    assert chinese("unknown mode 'x': use one of keyword, semantic, hybrid").endswith(
        "不能是 'x'。")
    assert chinese("a sentence nobody wrote") is None


# -- 2. unknown facets ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["region", "year"])
def test_reports_with_no_region_or_year_are_a_facet_that_filters(client, catalog, name):
    body = text_of(client.get("/search?q=教师"))
    link = re.search(rf'<a href="([^"]*{name}=%E6%9C%AA%E7%9F%A5[^"]*)">未知</a> '
                     r'<span class="count">(\d+)</span>', body)
    assert link, f"no 未知 in the {name} facet"
    data = client.get(f"/api/search?q=教师&{name}=未知&k=50").get_json()
    assert data["total"] == int(link.group(2)) > 0
    for hit in data["hits"]:
        document = catalog.documents[hit["doc_id"]]
        if name == "region":
            assert not document.region
        else:
            assert not (catalog.passages[hit["passage_id"]].year or document.year)
    page = text_of(client.get(html.unescape(link.group(1))))
    assert f"{'地区' if name == 'region' else '年份'}：未知" in page


@pytest.fixture(scope="module")
def catalog(model_engine):
    return model_engine.generation().catalog


def test_unknown_matches_the_reports_with_no_region_or_kind(catalog):
    from indexer.retrieve.hits import Filters
    from indexer.retrieve.protocol import allowed_docs

    no_region = {doc_id for doc_id, d in catalog.documents.items() if not d.region}
    assert no_region and allowed_docs(catalog, Filters(region=["未知"])) == no_region
    assert allowed_docs(catalog, Filters(region=["未知", "句容"])) == no_region | {SAFETY_DOC}
    assert allowed_docs(catalog, Filters(kind=["未知"])) == set()  # every report has a kind


# -- 5. smaller things ---------------------------------------------------------------------

def test_the_automatic_mode_stays_automatic(client):
    body = text_of(client.get("/search?q=校车"))
    assert '<option value="" selected>自动</option>' in body
    assert '<option value="keyword" selected>' not in body
    chosen = text_of(client.get("/search?q=教师&mode=keyword"))
    assert '<option value="keyword" selected>关键词</option>' in chosen
    assert "page=2&amp;mode=keyword" in chosen or "mode=keyword&amp;page=2" in chosen


@pytest.mark.parametrize(("page", "last", "window"), [
    (1, 5, [1, 2, 3, 4, 5]),
    (1, 10, [1, 2, 3, None, 10]),
    (5, 10, [1, 2, 3, 4, 5, 6, 7, None, 10]),
    (6, 10, [1, None, 4, 5, 6, 7, 8, 9, 10]),
    (9, 5, [1, None, 5]),
    (2, 2, [1, 2]),
])
def test_page_window_never_skips_a_page_silently(page, last, window):
    assert page_window(page, last) == window


def test_every_page_of_a_short_result_is_linked(client):
    data = client.get("/api/search?q=教师").get_json()
    pages = -(-data["total"] // data["k"])
    assert pages == 5
    nav = re.search(r'<nav class="pagination".*?</nav>', text_of(client.get("/search?q=教师")),
                    re.S).group(0)
    assert re.findall(r">(\d+)<", nav) == [str(n) for n in range(1, pages + 1)]


def test_a_page_past_the_end_says_so_and_links_the_last(client):
    body = text_of(client.get("/search?q=教师&page=9"))
    assert "第 0–0 条" not in body
    assert "第 9 页已经超出了结果范围，结果只有 5 页。" in main_text(body)
    assert '<a href="/search?q=%E6%95%99%E5%B8%88&amp;page=5">转到最后一页（第 5 页）</a>' in body


def test_paragraphs_and_passages_are_counted_apart(client, catalog):
    documents = text_of(client.get("/documents"))
    assert '<th scope="col">检索片段</th>' in documents
    for doc_id, document in catalog.documents.items():
        passages = len(catalog.passages_of(doc_id))
        assert f'<td data-label="检索片段">{passages}</td>' in documents
        paragraphs = sum(1 for line in document.text.splitlines() if line.strip())
        page = text_of(client.get(f"/documents/{doc_id}"))
        assert f"{paragraphs} 个段落，{passages} 个检索片段" in page
    home = text_of(client.get("/"))
    assert f"<dt>检索片段</dt><dd>{len(catalog.passage_list)} 个</dd>" in home
    assert " 段</dd>" not in home


@pytest.mark.model
def test_ranks_are_said_for_people(client):
    data = client.get("/api/search?q=校车接送&mode=hybrid").get_json()
    first = data["hits"][0]["scores"]
    body = text_of(client.get("/search?q=校车接送&mode=hybrid"))
    assert (f"<summary>排名：关键词第{first['keyword_rank']} · "
            f"语义第{first['vector_rank']}</summary>") in body
    assert "得分 0." not in body
    keyword = text_of(client.get("/search?q=校车"))
    assert "<summary>排名：关键词第1</summary>" in keyword
    # A hit the answer model moved up says where retrieval had put it.
    question = "句容市里怎么逼着下面各乡镇把教育抓好?"
    moved = client.get(f"/api/search?q={question}&mode=hybrid").get_json()["hits"][0]
    assert moved["rank"] == 1 and moved["scores"]["retrieval_rank"] > 1
    body = text_of(client.get(f"/search?q={question}&mode=hybrid"))
    assert f" · 重排前第{moved['scores']['retrieval_rank']}</summary>" in body


@pytest.mark.model
def test_no_answer_gives_the_help_of_an_empty_search(client):
    question = "火星探测器什么时候发射？"
    assert client.get("/api/ask", query_string={"q": question}).get_json()["answerable"] is False
    body = text_of(client.get("/ask", query_string={"q": question}))
    links = links_in(body, "no-results")
    assert ("/search", {"q": [question]}) in links
    assert ("/ask", {"q": [question], "mode": ["keyword"]}) in links
    assert "换一个说法" in body


def test_a_mistyped_question_offers_the_word_meant(client):
    body = text_of(client.get("/ask?q=送教上们&mode=keyword"))
    assert "您是不是要找：" in body and ">送教上门</a>" in body


# -- 3. a citation that can be pasted --------------------------------------------------------

def test_citation_text_is_quote_title_issuer_date_section_paragraph():
    citation = {"n": 1, "passage_id": "p", "doc_id": "doc-7", "title": "某市教育局工作要点",
                "section": "一、总体要求", "paragraph_no": 45, "quote": "确保师生平安。",
                "start": 10, "end": 17, "url": "/documents/doc-7?hl=10-17#p"}
    data = {"answer": "要确保师生平安[1]。", "citations": [citation], "passages": []}
    known = {"doc-7": {"issuer": "某市教育局", "published": "2017-03-22", "year": "2017"}}
    (group,) = answer_view(data, known).citations
    assert group.quotes == [Quote("确保师生平安。", citation["url"],
                                  "“确保师生平安。”——《某市教育局工作要点》，某市教育局，"
                                  "2017-03-22，一、总体要求，第45段。")]
    # What a report does not record is left out; its id is never its title.
    bare = answer_view({**data, "citations": [{**citation, "title": "", "section": ""}]},
                       {"doc-7": {"year": "2016"}}).citations[0]
    assert bare.quotes[0].copy == "“确保师生平安。”——《（无标题）》，2016年，第45段。"
    assert "doc-7" not in bare.quotes[0].copy and bare.title == "（无标题）"
