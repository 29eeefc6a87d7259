"""Semantic and hybrid hits re-ranked by the answer model (indexer/answer/rerank.py), on
the bundled corpus with the bundled model."""

import pytest

# Own-words questions (bench/ownwords, train split) whose answering passage hybrid fusion
# alone ranks second to fifth.
MOVED = [
    ("句容娃升高中那场考试,平均成绩比镇江城里低几分?", "000_2b1971d50fbc2800-463e95b5a2"),
    ("吉林乡下老师评高级职称有没有照顾?", "001_4827853948cbae87-830eda7f5e"),
    ("县里今年又掏了多少钱专门买唱歌画画用的器具?", "003_d9116304a1c6cf83-ead3419391"),
    ("蘇苑高中哪位老師今年評上了省特級?", "004_0810e58871bb8528-d219543453"),
]


@pytest.fixture(autouse=True)
def _without_synonyms(monkeypatch):
    """Re-ranking on its own: everyday words read as the report's (tests/test_synonyms.py)
    put one of these first by fusion alone."""
    monkeypatch.setenv("POLICYQA_QUERY_SYNONYMS", "false")


def first_rank(engine, question: str, passage_id: str, mode: str = "hybrid") -> int | None:
    hits = engine.search(question, mode=mode, k=8).hits
    return next((hit.rank for hit in hits if hit.passage_id == passage_id), None)


@pytest.mark.model
@pytest.mark.parametrize("question, passage_id", MOVED)
def test_the_passage_that_answers_comes_first(any_engine, question, passage_id):
    assert first_rank(any_engine, question, passage_id) == 1


@pytest.mark.model
@pytest.mark.parametrize("question, passage_id", MOVED)
def test_fusion_alone_ranks_it_lower(model_engine, monkeypatch, question, passage_id):
    monkeypatch.setenv("POLICYQA_RERANK_PASSAGES", "0")
    assert first_rank(model_engine, question, passage_id) not in (None, 1)


@pytest.mark.model
def test_reranked_hits_keep_their_retrieval_rank_and_show_the_answer_score(model_engine):
    question, passage_id = MOVED[0]
    hits = model_engine.search(question, mode="hybrid", k=10).hits
    assert [hit.rank for hit in hits] == list(range(1, 11))
    top, rest = hits[:8], hits[8:]
    assert sorted(hit.scores["retrieval_rank"] for hit in top) == list(range(1, 9))
    assert hits[0].passage_id == passage_id and hits[0].scores["retrieval_rank"] > 1
    scores = [hit.scores["answer_score"] for hit in top if "answer_score" in hit.scores]
    assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
    assert all("answer_score" not in hit.scores for hit in rest)  # below the re-ranked top
    # Paging reads the same order: page 2 of 4 starts where page 1 ended.
    page_two = model_engine.search(question, mode="hybrid", k=4, page=2).hits
    assert [hit.passage_id for hit in page_two] == [hit.passage_id for hit in hits[4:8]]


@pytest.mark.model
def test_keyword_search_keeps_its_bm25_order(model_engine):
    hits = model_engine.search("送教上门", mode="keyword", k=8).hits
    assert hits and all("answer_score" not in hit.scores for hit in hits)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


@pytest.mark.model
@pytest.mark.parametrize("question, passage_id", MOVED)
def test_the_answer_does_not_depend_on_the_order_hits_are_shown_in(model_engine, monkeypatch,
                                                                  question, passage_id):
    """The answer model reads where retrieval ranked each passage, not where it is shown."""
    answer, _ = model_engine.ask(question)
    monkeypatch.setenv("POLICYQA_RERANK_PASSAGES", "0")
    plain, _ = model_engine.ask(question)
    assert answer.text == plain.text and answer.confidence == pytest.approx(plain.confidence)
    assert [c.passage_id for c in answer.citations] == [c.passage_id for c in plain.citations]


@pytest.mark.model
@pytest.mark.parametrize("question, passage_id", MOVED)
def test_an_answer_shows_its_passages_in_the_order_search_shows_them(model_engine, question,
                                                                    passage_id):
    """``ask`` orders its hits from the sentences it scored to answer, as search does."""
    answer, _ = model_engine.ask(question)
    searched = model_engine.search(question, mode="hybrid", k=8).hits
    assert [hit.passage_id for hit in answer.hits] == [hit.passage_id for hit in searched]
    assert answer.hits[0].passage_id == passage_id
    assert [hit.rank for hit in answer.hits] == list(range(1, len(answer.hits) + 1))


def test_a_negative_depth_is_refused_with_the_variable_named(monkeypatch):
    from indexer import settings

    monkeypatch.setenv("POLICYQA_RERANK_PASSAGES", "-3")
    with pytest.raises(ValueError, match=r"POLICYQA_RERANK_PASSAGES='-3' is not valid: it "
                                         r"must be 0 or more"):
        settings.get("rerank_passages")
