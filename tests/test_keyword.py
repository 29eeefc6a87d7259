"""Keyword search on the bundled corpus: scripts, phrases, digits, filters, operators."""

from __future__ import annotations

import json

import pytest

from indexer.errors import NothingToSearch
from indexer.retrieve.hits import Filters
from indexer.text.query import parse


@pytest.fixture
def engine(any_engine):
    """Every search test here is a contract each backend keeps (local and Milvus)."""
    return any_engine


def _texts(engine, query, k=50, **kw):
    result = engine.search(query, k=k, **kw)
    catalog = engine.generation().catalog
    return result, [catalog.passages[h.passage_id] for h in result.hits]


def test_simplified_query_finds_and_marks_traditional_text(engine):
    catalog = engine.generation().catalog
    wanted = [p for p in catalog.passage_list if "學校建設" in p.text and not p.garbled]
    assert wanted and all(p.doc_id.startswith(("002", "004")) for p in wanted)
    result = engine.search("学校建设", k=100)
    marked = {h.passage_id: h.highlight for h in result.hits}
    for passage in wanted:
        assert passage.passage_id in marked
        assert "<mark>學校</mark><mark>建設</mark>" in marked[passage.passage_id] or \
            "<mark>學校建設</mark>" in marked[passage.passage_id]


def test_phrase_finds_exactly_the_passages_that_contain_it(engine):
    catalog = engine.generation().catalog
    expected = {p.passage_id for p in catalog.passage_list if "片区合作共同体" in p.text}
    assert len(expected) >= 3
    result, passages = _texts(engine, '"片区合作共同体"', k=200)
    assert {p.passage_id for p in passages} == expected
    assert result.total == len(expected)
    for hit in result.hits:
        assert "<mark>片区合作共同体</mark>" in hit.highlight


@pytest.mark.parametrize("query, needle", [("5所", "5所"), ("2016年 中考", "2016年"),
                                           ("34.5分", "34.5分")])
def test_numbers_keep_their_digits_and_units(engine, query, needle):
    result, passages = _texts(engine, query)
    catalog = engine.generation().catalog
    assert passages
    for passage in passages:  # the title counts: a passage of a 2016 report matches 2016年
        assert needle in passage.text or needle in catalog.documents[passage.doc_id].title
    marked = [h.highlight for h, p in zip(result.hits, passages, strict=True) if needle in p.text]
    assert marked and all(f"<mark>{needle.split('.')[0]}" in h for h in marked)


def test_year_and_region_filters_narrow_results(engine):
    everything, passages = _texts(engine, "教育", k=500)
    regions = {engine.generation().catalog.documents[p.doc_id].region for p in passages}
    assert {"句容市", "吉林市"} <= regions
    in_jurong, passages = _texts(engine, "教育 region:句容", k=500)
    assert 0 < in_jurong.total < everything.total
    assert {p.doc_id[:3] for p in passages} == {"000"}
    in_2016, passages = _texts(engine, "教育 year:2016", k=500)
    assert {p.doc_id[:3] for p in passages} == {"000", "001"}
    by_argument, _ = _texts(engine, "教育", k=500, filters=Filters(year=["2016"]))
    assert by_argument.total == in_2016.total


def test_minus_word_excludes(engine):
    _, teachers = _texts(engine, "教师", k=500)
    _, training = _texts(engine, "培训", k=500)
    expected = {p.passage_id for p in teachers} - {p.passage_id for p in training}
    assert 0 < len(expected) < len(teachers)
    _, without = _texts(engine, "教师 -培训", k=500)
    assert {p.passage_id for p in without} == expected
    assert all("培训" not in p.text for p in without)
    _, with_not = _texts(engine, "教师 NOT 培训", k=500)
    assert [p.passage_id for p in with_not] == [p.passage_id for p in without]


def test_or_finds_either(engine):
    a, _ = _texts(engine, "县管校聘", k=200)
    b, _ = _texts(engine, "校安工程", k=200)
    either, _ = _texts(engine, "县管校聘 OR 校安工程", k=200)
    assert a.total > 0 and b.total > 0
    assert max(a.total, b.total) <= either.total <= a.total + b.total


def test_and_with_no_hits_falls_back_to_or_and_says_so(engine):
    result = engine.search("片区合作共同体 奥林匹克竞赛")
    assert result.fallback == "or"
    assert result.total > 0 and result.message


@pytest.mark.parametrize("query", ["", "   ", "，。！？", "的", "-教育"])
def test_nothing_to_search(engine, query):
    with pytest.raises(NothingToSearch):
        engine.search(query)


def test_facets_count_the_query_matches(engine):
    result = engine.search("教育 质量", k=5)
    assert sum(result.facets["doc"].values()) == result.total
    assert set(result.facets["year"]) >= {"2016", "2017"}


def test_markup_in_a_query_is_escaped(engine):
    result = engine.search("<script>alert(1)</script> 教育")
    for hit in result.hits:
        assert "<script>" not in hit.highlight


# -- words typed together: a dictionary term also matches through its parts ------------------

def _dictionary_terms_with_parts():
    from indexer.text.analysis import USERDICT_PATH, _data_lines, parts

    terms = [line.split()[0] for line in _data_lines(USERDICT_PATH)]
    return [(term, parts(term)) for term in terms if parts(term)]


def test_many_dictionary_terms_have_parts():
    found = dict(_dictionary_terms_with_parts())
    assert found["校车安全"] == ("校车", "安全")
    assert found["片区合作共同体"] == ("片区", "合作", "共同体")
    assert len(found) >= 50


def test_every_dictionary_term_finds_the_passages_holding_all_its_parts(engine):
    from indexer.text.analysis import PolicyTokenizer

    catalog = engine.generation().catalog
    words = {p.passage_id: {t.text for t in PolicyTokenizer()(p.text, mode="index")}
             for p in catalog.passage_list}
    checked = 0
    for term, pieces in _dictionary_terms_with_parts():
        holding = {pid for pid, found in words.items() if set(pieces) <= found}
        result = engine.search(term, k=200)
        assert holding <= {h.passage_id for h in result.hits}, term
        assert result.fallback is None or not holding, term
        checked += bool(holding)
    assert checked >= 40


def test_words_typed_together_find_their_parts_and_the_whole_term_ranks_first(engine):
    catalog = engine.generation().catalog
    result, passages = _texts(engine, "校车安全")
    assert result.total >= 2 and result.fallback is None
    assert all("校车" in p.text and "安全" in p.text for p in passages)
    whole = [("校车安全" in p.text) for p in passages]
    assert whole == sorted(whole, reverse=True)  # the whole term first, then the parts
    jilin = [p for p in passages if p.doc_id.startswith("001")]
    assert jilin and all("<mark>校车</mark>" in h.highlight for h in result.hits
                         if catalog.passages[h.passage_id].doc_id.startswith("001")
                         and "校车安全" not in catalog.passages[h.passage_id].text)


def test_totals_count_every_match_and_facets_show_the_largest(keyword_engine, monkeypatch):
    """The local index counts every match exactly (the bound only applies to Milvus);
    a facet shows its ``facet_values`` largest counts."""
    monkeypatch.setenv("POLICYQA_KEYWORD_EXACT_MATCHES", "20")
    result = keyword_engine.search("教育")
    retriever = keyword_engine.generation().retriever("keyword")
    counting = retriever.build_query(parse("教育"), counting=True)
    every = sum(1 for _ in retriever._searcher().docs_for_query(counting))
    assert result.total_exact and result.total == every == sum(result.facets["doc"].values())
    assert every > 40
    monkeypatch.setenv("POLICYQA_FACET_VALUES", "2")
    fewer = keyword_engine.search("教育")
    assert list(fewer.facets["doc"].items()) == list(result.facets["doc"].items())[:2]
    assert fewer.total == result.total


def test_a_name_made_from_the_text_is_shown_but_never_searched_as_a_title(tmp_path):
    """A report without a title is named by its opening sentence; indexing that name in the
    title field (boosted) would let its common words outrank what a question is about."""
    from indexer.retrieve.engine import Engine
    from tests.conftest import build_keyword_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    lines = [{"pid": "b", "text": "温度的计量方法很多,有摄氏、华氏温标等。华氏温标由华伦海特"
                                  "制定。"}]
    # Lines over 60 characters: too long to be taken for a title line.
    lines += [{"pid": f"a{n}", "text": f"一人所表示的意见第{n}项。其他事项由主管机关另行规定,"
                                       "并于施行前公告周知,以便各单位遵照办理,各单位应当按照"
                                       "本项要求认真组织落实。"}
              for n in range(8)]
    (corpus / "passages.jsonl").write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    engine = Engine(build_keyword_index(corpus, tmp_path / "index"))
    documents = engine.generation().catalog.documents
    assert documents["a0"].title == "一人所表示的意见第0项"  # the name it is shown by
    assert documents["a0"].title_from_text and documents["a0"].own_title == ""
    from whoosh import query

    keyword = engine.generation().retriever("keyword")
    with keyword.index.searcher() as searcher:
        assert searcher.doc_count() == len(lines)
        assert len(searcher.search(query.Term("body", "表示"))) == 8
        assert len(searcher.search(query.Term("title", "表示"))) == 0
    hits = engine.search("华氏温标是哪一人所制定的气温表示法则？", mode="keyword", k=2).hits
    assert hits[0].passage_id.startswith("b")


def test_equal_scores_rank_the_same_however_the_index_was_written(tmp_path):
    # A multi-process build numbers passages in the order its processes finish; here the
    # same passages are written in two orders. Tied passages (the same sentence in five
    # reports) must still rank alike, in the catalog's order, and the cut at k must take
    # the same ones.
    from indexer.ingest.segment import split_passages
    from indexer.records import Document
    from indexer.retrieve import keyword
    from indexer.store.catalog import Catalog

    documents = [Document(doc_id=f"d{n}", source=f"d{n}.txt", title=f"报告{n}",
                          text="全县开展校车安全隐患大排查，确保万无一失。") for n in range(5)]
    catalog = Catalog(documents, [p for d in documents for p in split_passages(d)])
    rankings = []
    for name, passages in [("forward", catalog.passage_list),
                           ("reversed", catalog.passage_list[::-1])]:
        folder = tmp_path / name
        keyword.build(folder, catalog, passages)
        retriever = keyword.KeywordRetriever(folder, catalog)
        hits = retriever.ranked(parse("校车安全"), 3)
        assert len({h.score for h in hits}) == 1  # a tie
        rankings.append([h.passage_id for h in hits])
        retriever.close()
    assert rankings[0] == rankings[1] == [p.passage_id for p in catalog.passage_list[:3]]
