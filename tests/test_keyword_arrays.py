"""Keyword search over posting arrays gives exactly Whoosh's own matches and BM25F scores.

The oracle is Whoosh itself on the same index: every match scored by its own matchers
(``limit=None``, then sorted by score and document number) and every match counted by
``docs_for_query``. Queries are typed shapes (words, dictionary terms, words typed
together, phrases, numbers, OR, NOT, filters, both scripts) and words drawn from the
reports.
"""

from __future__ import annotations

import random

import pytest

from indexer.retrieve.hits import Filters
from indexer.text.analysis import tokens
from indexer.text.query import parse
from tests.conftest import build_keyword_index

SHAPES = ["教育", "加强 教育", "学校建设", "學校建設", "校车安全", "县管校聘 OR 片区",
          "教育 -培训", "教育 NOT 学校", '"片区合作共同体"', '"义务教育 均衡"', "2016年",
          "2016年 中考", "34.5分", "5所", "义务教育均衡发展", "人民政府 工作",
          "教师 队伍 建设 工作", "year:2016 教育", "教育 发展 改革 质量 学生"]


def _whoosh_best(retriever, parsed, k: int = 10) -> list[tuple[str, float]]:
    searcher = retriever._searcher()
    results = searcher.search(retriever.build_query(parsed), limit=None, optimize=False,
                              filter=retriever.filter_query(parsed.filters))
    best = sorted((-hit.score, hit.docnum, hit["passage_id"]) for hit in results)[:k]
    return [(passage_id, -negative) for negative, _, passage_id in best]


def _whoosh_count(retriever, parsed) -> int:
    from whoosh import query as q

    counting = retriever.build_query(parsed, counting=True)
    restriction = retriever.filter_query(parsed.filters)
    if restriction is not None:
        counting = q.And([counting, restriction])
    return sum(1 for _ in retriever._searcher().docs_for_query(counting))


def _assert_as_whoosh(retriever, query: str) -> None:
    parsed = parse(query)
    ours = retriever.ranked(parsed, 10, parsed.filters)
    theirs = _whoosh_best(retriever, parsed)
    assert [h.passage_id for h in ours] == [pid for pid, _ in theirs], query
    assert [h.score for h in ours] == pytest.approx([s for _, s in theirs], rel=1e-9), query
    assert retriever.matched(parsed, parsed.filters).total == _whoosh_count(retriever, parsed)


@pytest.mark.parametrize("query", SHAPES)
def test_each_query_shape_ranks_and_counts_as_whoosh(keyword_engine, query):
    retriever = keyword_engine.generation().retriever("keyword")
    assert _whoosh_count(retriever, parse(query)) > 0, query  # a shape that finds something
    _assert_as_whoosh(retriever, query)


def test_words_drawn_from_the_reports_rank_and_count_as_whoosh(keyword_engine):
    """1–4 neighbouring words of random passages, typed apart and typed together (words
    typed together rank higher where they stand together: the phrase checks)."""
    generation = keyword_engine.generation()
    retriever = generation.retriever("keyword")
    rng = random.Random(5)
    for _ in range(120):
        words = tokens(rng.choice(generation.catalog.passage_list).text)
        if not words:
            continue
        size = rng.randint(1, 4)
        start = rng.randrange(max(1, len(words) - size + 1))
        chosen = words[start:start + size]
        for query in (" ".join(chosen), "".join(chosen)):
            _assert_as_whoosh(retriever, query)


def test_filters_restrict_ranking_and_counting_alike(keyword_engine):
    generation = keyword_engine.generation()
    retriever = generation.retriever("keyword")
    doc_id = generation.catalog.passage_list[0].doc_id
    parsed = parse("教育")
    within = Filters(doc=[doc_id])
    hits = retriever.ranked(parsed, 500, within)
    assert hits and {generation.catalog.passages[h.passage_id].doc_id for h in hits} == {doc_id}
    assert retriever.matched(parsed, within).total == len(hits)


def test_after_an_update_removed_passages_never_match(corpus_copy, tmp_path):
    """An update deletes a report's passages inside the copied Whoosh segments: they are
    still in the posting lists, and must match nothing."""
    from indexer.retrieve.engine import Engine
    from indexer.store.build import build

    index = build_keyword_index(corpus_copy, tmp_path / "index")
    removed = sorted(corpus_copy.iterdir())[1]
    removed_id = removed.name.split("_")[0] + "_"
    removed.unlink()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POLICYQA_VECTORS_ENABLED", "false")
        build(corpus_copy, index, incremental=True)
    retriever = Engine(index).generation().retriever("keyword")
    reader = retriever._searcher().reader()
    assert any(leaf.has_deletions() for leaf, _ in reader.leaf_readers())
    for query in ("教育", "学校建设", "加强 教育", "2016年", "教育 -培训"):
        hits = retriever.ranked(parse(query), 1000)
        assert hits and not any(h.passage_id.startswith(removed_id) for h in hits), query
        _assert_as_whoosh(retriever, query)


def test_an_index_of_no_reports_finds_nothing_without_error(tmp_path):
    from indexer.retrieve.engine import Engine

    empty = tmp_path / "corpus"
    empty.mkdir()
    engine = Engine(build_keyword_index(empty, tmp_path / "index"))
    for query in ("教育", "教育 -培训", "year:2016", '"义务教育 均衡"'):
        result = engine.search(query)
        assert (result.total, result.hits, result.total_exact) == (0, [], True), query


def test_warming_reads_the_longest_posting_lists_and_changes_no_result(keyword_index_dir):
    from indexer.retrieve.engine import Engine

    cold = Engine(keyword_index_dir).generation().retriever("keyword")
    warm = Engine(keyword_index_dir).generation().retriever("keyword")
    warm.warm()
    reader = warm._searcher().reader()
    commonest = max(reader.iter_field("body"), key=lambda pair: pair[1].doc_frequency())[0]
    word = commonest.decode("utf-8") if isinstance(commonest, bytes) else commonest
    postings = warm.arrays.postings
    assert 0 < postings.cached_bytes <= postings.cache_bytes // 2 + 2**20
    assert ("body", word) in postings._terms and not cold.arrays.postings.cached_bytes
    for query in ("教育", word, "学校建设 -培训"):
        parsed = parse(query)
        assert [(h.passage_id, h.score) for h in warm.ranked(parsed, 20)] == \
            [(h.passage_id, h.score) for h in cold.ranked(parsed, 20)]
