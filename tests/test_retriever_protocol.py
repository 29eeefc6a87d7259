"""The retriever interface holds: a toy in-memory backend gets search and answers from the
engine with no other change, and the shared rules (filters, facets, fallback) apply to it."""

from __future__ import annotations

from collections import Counter

import pytest

from indexer.errors import NothingToSearch
from indexer.retrieve.generation import Generation, register_backend, retrievers_by_mode
from indexer.retrieve.hits import Filters, Hit
from indexer.retrieve.protocol import (
    Retriever,
    allowed_docs,
    expand_years,
    passage_years,
    wanted_years,
)
from indexer.store.catalog import Catalog


class ToyRetriever(Retriever):
    """Ranks passages by how many of the query's characters they hold: all of them
    (any, when loosened), or with ``dense`` every passage by the share it holds."""

    def __init__(self, catalog: Catalog, dense: bool = False):
        self.catalog, self.dense, self.matches_words = catalog, dense, not dense

    def _score(self, query, passage) -> float:
        chars = set(query.text) - {" "}
        return sum(c in passage.text for c in chars) / max(1, len(chars))

    def ranked(self, query, k, filters=None):
        if not query.text.strip():
            raise NothingToSearch("nothing to search")
        allowed = allowed_docs(self.catalog, filters)
        scored = [(self._score(query, p), p.passage_id) for p in self.catalog.passage_list
                  if allowed is None or p.doc_id in allowed]
        keep = [(s, pid) for s, pid in scored
                if self.dense or s == 1 or (query.loose and s > 0)]
        top = sorted(keep, key=lambda pair: (-pair[0], pair[1]))[:k]
        return [Hit(pid, s, rank, {"toy_score": s}) for rank, (s, pid) in enumerate(top, 1)]


class ToyBackend:
    def __init__(self, catalog: Catalog):
        retrievers = retrievers_by_mode(ToyRetriever(catalog), ToyRetriever(catalog, True))
        self.generation = Generation("toy", {}, catalog, retrievers)

    def live(self) -> Generation:
        return self.generation


@pytest.fixture(scope="module")
def toy_engine(corpus):
    from indexer.retrieve.engine import Engine

    catalog = Catalog(corpus.documents, corpus.all_passages())
    register_backend("toy", lambda index_dir, embedder_factory: ToyBackend(catalog))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POLICYQA_INDEX_BACKEND", "toy")
        engine = Engine("unused")
    assert isinstance(engine.backend, ToyBackend)
    return engine


def test_keyword_mode_through_the_engine(toy_engine):
    result = toy_engine.search("校车", mode="keyword")
    catalog = toy_engine.generation().catalog
    holding = [p for p in catalog.passage_list if all(c in p.text for c in "校车")]
    assert result.total == len(result.hits) == len(holding) == 4
    assert all(hit.highlight for hit in result.hits)
    assert any("<mark>校车</mark>" in hit.highlight for hit in result.hits)
    second = toy_engine.search("校车", mode="keyword", k=3, page=2)
    assert [h.rank for h in second.hits] == [4]
    assert sum(result.facets["doc"].values()) == result.total


def test_the_engine_loosens_and_filters_for_any_backend(toy_engine):
    result = toy_engine.search("校车 飞船", mode="keyword")
    assert result.fallback == "or" and result.total > 0 and result.message
    filtered = toy_engine.search("教育", mode="keyword", filters=Filters(region=["句容"]))
    catalog = toy_engine.generation().catalog
    assert filtered.hits and {catalog.passages[h.passage_id].doc_id for h in filtered.hits} \
        == {d.doc_id for d in catalog.documents.values() if d.region == "句容市"}


def test_hybrid_is_the_composition_of_the_two_toys(toy_engine):
    result = toy_engine.search("校车安全", mode="hybrid", k=5)
    assert len(result.hits) == 5
    top = result.hits[0].scores
    assert {"keyword_rank", "vector_rank", "fused_score"} <= set(top)
    assert top["keyword_rank"] == 1


def test_ask_through_the_engine(toy_engine):
    answer, mode = toy_engine.ask("句容市开通了多少条接送学生的线路？")
    assert mode == "hybrid"
    assert "257" in answer.text and answer.citations
    catalog = toy_engine.generation().catalog
    for citation in answer.citations:
        document = catalog.documents[citation.doc_id]
        assert document.text[citation.start:citation.end] == citation.quote


def test_allowed_docs_reads_regions_and_ids_and_years_are_the_passages(corpus):
    catalog = Catalog(corpus.documents, corpus.all_passages())
    assert allowed_docs(catalog, Filters()) is None
    assert allowed_docs(catalog, Filters(year=["2016年"])) is None  # years are per passage
    assert wanted_years(Filters(year=["2016年", " 2017"])) == {"2016", "2017"}
    assert expand_years("2016-2017") == ["2016", "2017"]
    (jurong,) = allowed_docs(catalog, Filters(region=["句容"]))
    assert allowed_docs(catalog, Filters(doc=[jurong], region=["吉林"])) == set()
    years = {tuple(passage_years(p, catalog.documents[jurong])) for p in
             catalog.passages_of(jurong)}
    assert years == {("2016",), ("2017",), ("2016", "2017")}


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_a_year_filter_and_facet_use_the_passage_year(model_engine, mode):
    """句容's report covers 2016-2017: its "2016年工作总结" part is not a 2017 passage."""
    catalog = model_engine.generation().catalog
    result = model_engine.search("学前教育", mode=mode, k=50, filters=Filters(year=["2017"]))
    assert result.hits
    for hit in result.hits:
        passage = catalog.passages[hit.passage_id]
        assert "2017" in passage_years(passage, catalog.documents[passage.doc_id])
        assert not any("2016年工作总结" in s for s in passage.section_path)
    counted = Counter(y for hit in result.hits for y in passage_years(
        catalog.passages[hit.passage_id], catalog.documents[hit.passage_id.split("-")[0]]))
    assert result.total == len(result.hits) and result.facets["year"] == dict(counted)
