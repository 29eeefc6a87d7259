"""Properties over arbitrary Unicode and over text that looks like a scraped report.

Cleaning is idempotent and never raises; passages keep ``text[start:end] == passage.text``
and come in order without overlap; the analyzer never raises and its offsets stay inside
the text; a query of any shape is searched or refused with a clear BadQuery (a 400).

Examples are derandomized (the same on every run, so CI is deterministic) and no example
database is read or written.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.errors import BadQuery
from indexer.ingest.clean import clean
from indexer.ingest.segment import split_passages
from indexer.records import Document
from indexer.retrieve.engine import Engine
from indexer.retrieve.generation import Generation
from indexer.store.catalog import Catalog
from indexer.text.analysis import fold, policy_analyzer, tokens
from indexer.text.query import parse


def examples(count: int):
    """Fixed, derandomized settings: ``count`` examples, no deadline, no database."""
    return settings(max_examples=count, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


# -- strategies ------------------------------------------------------------------------

SIMPLIFIED = "教育学校建设发展工作推进加强管理安全校车教师质量改革农村义务均衡县市区政府中考年"
TRADITIONAL = "學校建設發展質量義務師資體製區縣實現達標農村營養餐專業優質課題環境"
FULLWIDTH = list("，。、；：！？（）《》“”「」『』【】…—　０１２ＡＢａｂ％＋－")
PINYIN = ["(xué)", "（jiào）", "?yù)", "(zhōng guó)", "(ā)", "(lǜ)", "(PPP)", "(xue)", "（）"]
HTML = ["<p>", "</div>", "<br/>", "&nbsp;", "&#160;", "&amp;", "<a href='/x?a=1&b=2'>",
        "<!-- x -->", "<script>alert(1)</script>", "<td>", "&lt;"]
FURNITURE = ["当前位置：首页 > 教育 > 正文", "发布时间：2017-03-22 来源：教育局", "相关文章：",
             "2017-03-11", "上一篇：", "责任编辑：张三", "【】【】【", "网站首页 | 联系我们"]
HEADINGS = ["一、", "（二）", "3.", "(4)", "篇一：", "第二部分", "一是", "10、", "十一、"]
NUMBERS = ["2016年", "34.5分", "50.08%", "2017.03.22", "5所", "-3", "1e9", "0.", ".5"]
SPACING = ["\n", "\r\n", "\r", "\n\n\n", " ", "\t", "\u3000", "\xa0", "\u2028", "\x0b", "\x1c"]
QUERY_SYNTAX = ["OR", "NOT", "AND", "|", "&", "-", "+", "或", "非", "且", '"', "“", "”", "「",
                ":", "：", "year:", "region:句容", "doc:", "kind:工作要点", "年份：2016",
                "-year:2016", '"片区', "*", "?", "~", "^2", "\\", "(", ")", "[", "]", "{}"]


@st.composite
def mojibake(draw) -> str:
    """Chinese text decoded from GBK bytes one byte out of step, as the scraper did."""
    text = draw(st.text(alphabet=SIMPLIFIED + TRADITIONAL + "，。", min_size=2, max_size=12))
    data = text.encode("gb18030")[draw(st.integers(0, 1)):]
    return data.decode("gbk", errors=draw(st.sampled_from(["replace", "ignore"])))


any_text = st.text(max_size=120)
# Lone surrogates reach the code through JSON ("\ud800") and broken files.
any_codepoints = st.text(st.characters(codec=None, exclude_categories=()), max_size=80)
fragment = st.one_of(
    st.text(alphabet=SIMPLIFIED, min_size=1, max_size=30),
    st.text(alphabet=TRADITIONAL, min_size=1, max_size=20),
    mojibake(),
    st.sampled_from(FULLWIDTH + PINYIN + HTML + FURNITURE + HEADINGS + NUMBERS + SPACING),
    st.characters(),
)
scraped = st.lists(fragment, max_size=50).map("".join)
query_text = st.one_of(
    any_text,
    st.lists(st.one_of(st.sampled_from(QUERY_SYNTAX + NUMBERS + PINYIN + [" ", " ", "　"]),
                       st.text(alphabet=SIMPLIFIED + TRADITIONAL, min_size=1, max_size=6),
                       st.characters()), max_size=16).map("".join),
)


# -- cleaning --------------------------------------------------------------------------

def _assert_clean_properties(raw: str) -> None:
    first = clean(raw)
    assert clean(first.text).text == first.text
    assert all(0 <= s < e <= len(first.text) for s, e in first.garbled_spans)


@examples(150)
@given(any_codepoints)
def test_clean_never_raises_and_is_idempotent_on_any_text(raw):
    _assert_clean_properties(raw)


@examples(150)
@given(scraped)
def test_clean_never_raises_and_is_idempotent_on_scraped_text(raw):
    _assert_clean_properties(raw)


# -- segmentation ----------------------------------------------------------------------

sizes = st.integers(4, 80).flatmap(lambda target: st.tuples(
    st.just(target), st.integers(target, 3 * target), st.integers(1, target)))


def _assert_passages_keep_their_place(text: str, target: int, maximum: int,
                                      minimum: int) -> None:
    document = Document(doc_id="d", source="d.txt", text=text)
    passages = split_passages(document, target=target, maximum=maximum, minimum=minimum)
    previous_end = 0
    for passage in passages:
        assert text[passage.start:passage.end] == passage.text
        assert previous_end <= passage.start < passage.end <= len(text)
        assert passage.text.strip() and passage.paragraph_no >= 1
        previous_end = passage.end
    assert len({p.passage_id for p in passages}) == len(passages)


@examples(150)
@given(st.one_of(any_text, scraped), sizes)
def test_passages_keep_their_offsets_in_order_without_overlap(text, size):
    _assert_passages_keep_their_place(text, *size)


@examples(100)
@given(scraped, sizes)
def test_passages_of_cleaned_text_keep_their_offsets(raw, size):
    _assert_passages_keep_their_place(clean(raw).text, *size)


# -- analysis --------------------------------------------------------------------------

ANALYZER = policy_analyzer()


@examples(200)
@given(st.one_of(any_codepoints, scraped), st.sampled_from(["index", "query"]),
       st.booleans())
def test_the_analyzer_never_raises_and_its_offsets_stay_inside(text, mode, removestops):
    assert len(fold(text)) == len(text)
    last_pos = -1
    for token in ANALYZER(text, positions=True, chars=True, mode=mode,
                          removestops=removestops):
        assert 0 <= token.startchar <= token.endchar <= len(text)
        assert token.text and token.pos >= last_pos - 1
        last_pos = max(last_pos, token.pos)
    tokens(text)


# -- queries ---------------------------------------------------------------------------

@examples(300)
@given(st.one_of(query_text, any_codepoints))
def test_parsing_any_query_never_raises(raw):
    parsed = parse(raw)
    assert parsed.raw == raw
    assert all(item.text for group in parsed.groups for item in group)


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    """A keyword index of one small report, for searching arbitrary queries."""
    from indexer.retrieve import keyword

    text = ("一、加强校车安全管理\n全县开展校车安全隐患大排查，确保万无一失。2016年新建校舍5所，"
            "總面積34.5萬平方米。\n二、推进片区合作共同体建设\n县管校聘改革稳步推进。")
    document = Document(doc_id="d1", source="d1.txt", text=text, title="某县教育局2016年工作要点",
                        region="句容市", year="2016", kind="工作要点")
    catalog = Catalog([document], split_passages(document))
    folder = tmp_path_factory.mktemp("properties") / keyword.WHOOSH_DIR
    keyword.build(folder, catalog)
    return Engine(folder, backend=_Fixed(Generation("properties", {}, catalog, {
        "keyword": keyword.KeywordRetriever(folder, catalog)})))


class _Fixed:
    """A backend serving one generation (the engine's paging, facets and highlights)."""

    def __init__(self, generation):
        self.generation = generation

    def live(self):
        return self.generation


@examples(150)
@given(query_text)
def test_any_query_is_searched_or_refused_with_a_clear_bad_query(searcher, raw):
    try:
        result = searcher.search(raw, k=5)
    except BadQuery as exc:  # NothingToSearch is one: the web app answers 400
        assert str(exc) and "\n" not in str(exc)
        return
    assert result.total >= len(result.hits)
    for hit in result.hits:
        assert hit.passage_id in searcher.generation().catalog.passages
