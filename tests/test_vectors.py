"""The vector index: exact search equals brute force over passage and sentence vectors,
the sentence files, cache counters, model mismatch."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from indexer import settings
from indexer.errors import IndexMismatch
from indexer.retrieve.engine import Engine
from indexer.retrieve.hits import Filters
from indexer.store.build import build
from indexer.text.scripts import in_other_script
from tests.conftest import DATA
from tests.fakes import FakeEmbedder


@pytest.fixture
def fake_index(tmp_path, corpus_copy):
    embedder = FakeEmbedder(tmp_path / "cache")
    index = tmp_path / "index"
    report = build(corpus_copy, index, embedder=embedder)
    return index, embedder, report, corpus_copy


def _forms(embedder, query: str) -> list[tuple[np.ndarray, float]]:
    """The query's vectors the slow way: as typed, and in the other script less its
    handicap (when converting changes it)."""
    forms = [(embedder.embed_query(query), 0.0)]
    other = in_other_script(query)
    if other is not None:
        forms.append((embedder.embed_query(other),
                      settings.get("vector_other_script_handicap")))
    return forms


def _cosine(forms, vector) -> float:
    return max(float(np.dot(form, vector)) - handicap for form, handicap in forms)


def _dense_score(retriever, forms, passage_id: str) -> float:
    """A passage's dense score computed the slow way: its own cosine mixed with its best
    sentence's, by the sentence weight (the passage cosine alone without sentences); each
    cosine is the best over the query's forms."""
    own = _cosine(forms, retriever.vectors[retriever.ids.index(passage_id)])
    cosines = [_cosine(forms, retriever.sentences.vectors[row])
               for row, (pid, _start, _end) in enumerate(retriever.sentences.ids)
               if pid == passage_id]
    if not cosines:
        return own
    weight = retriever.sentence_weight
    return (1 - weight) * own + weight * max(cosines)


def _brute_force(engine, forms, k, allowed_docs=None):
    generation = engine.generation()
    retriever = generation.retriever("semantic")
    rows = [(p.passage_id, _dense_score(retriever, forms, p.passage_id))
            for p in generation.catalog.passage_list
            if allowed_docs is None or p.doc_id in allowed_docs]
    rows.sort(key=lambda row: -row[1])
    return [pid for pid, _ in rows[:k]]


def test_exact_search_equals_brute_force_cosine(fake_index, monkeypatch):
    monkeypatch.setenv("POLICYQA_RERANK_PASSAGES", "0")  # the dense retriever's own order
    index, embedder, report, _ = fake_index
    engine = Engine(index, embedder=embedder)
    for query in ["校车安全管理", "學校建設", "教师队伍建设 师德", "中考 成绩"]:
        hits = engine.search(query, mode="semantic", k=10).hits
        assert [h.passage_id for h in hits] == _brute_force(engine, _forms(embedder, query), 10)
        assert [h.rank for h in hits] == list(range(1, 11))


def test_the_hnsw_graph_finds_most_of_what_exact_search_finds(tmp_path, corpus_copy,
                                                              monkeypatch):
    """Above vector_ann_threshold the graph of passage vectors gives candidates for each of
    the query's forms (as typed, other script), and they are re-scored exactly. It is
    approximate: a passage it misses may hold a sentence that exact search scores high."""
    monkeypatch.setenv("POLICYQA_RERANK_PASSAGES", "0")
    monkeypatch.setenv("POLICYQA_VECTOR_ANN_THRESHOLD", "1")
    embedder = FakeEmbedder(tmp_path / "cache")
    build(corpus_copy, tmp_path / "index", embedder=embedder)
    engine = Engine(tmp_path / "index", embedder=embedder)
    retriever = engine.generation().retriever("semantic")
    assert retriever.graph is not None
    for query in ["校车安全管理", "學校建設", "教师队伍建设 师德"]:
        forms = _forms(embedder, query)
        hits = engine.search(query, mode="semantic", k=10).hits
        exact = _brute_force(engine, forms, 10)
        assert len({h.passage_id for h in hits} & set(exact)) >= 7, query
        for hit in hits:
            assert hit.score == pytest.approx(_dense_score(retriever, forms, hit.passage_id),
                                              abs=1e-4)


def test_filters_apply_before_ranking(fake_index, monkeypatch):
    monkeypatch.setenv("POLICYQA_RERANK_PASSAGES", "0")  # the dense retriever's own order
    index, embedder, _, _ = fake_index
    engine = Engine(index, embedder=embedder)
    catalog = engine.generation().catalog
    jurong = {d for d, doc in catalog.documents.items() if doc.region == "句容市"}
    hits = engine.search("教育质量", mode="semantic", k=5, filters=Filters(region=["句容"])).hits
    assert [h.passage_id for h in hits] == _brute_force(
        engine, _forms(embedder, "教育质量"), 5, jurong)


def test_sentence_vectors_are_built_beside_the_passage_vectors(fake_index):
    from indexer.answer.spans import embedding_text, readable_sentences

    index, embedder, report, _ = fake_index
    generation = Engine(index, embedder=embedder).generation()
    catalog, retriever = generation.catalog, generation.retriever("semantic")
    expected = [[p.passage_id, start, end] for p in catalog.passage_list
                for start, end in readable_sentences(p, catalog.documents[p.doc_id])]
    damaged = "004_0810e58871bb8528"
    garbled = catalog.documents[damaged].garbled_spans
    assert garbled and not any(s < e and start < t for pid, start, e in expected
                               if pid.startswith(damaged) for s, t in garbled)
    assert retriever.sentences.ids == expected
    assert generation.manifest["vectors"]["sentences"]["count"] == len(expected)
    # Each distinct text once; a sentence that is a whole passage shares its vector.
    assert report.embedded_sentences == len({
        embedding_text(catalog.documents[catalog.passages[pid].doc_id], catalog.passages[pid],
                       s, e)
        for pid, s, e in expected} - {p.text for p in catalog.passage_list})
    pid, start, end = expected[10]
    text = embedding_text(catalog.documents[catalog.passages[pid].doc_id],
                          catalog.passages[pid], start, end)
    assert np.allclose(retriever.sentences.vectors[10], embedder.embed_passages([text])[0])


def test_rebuilding_an_unchanged_corpus_embeds_nothing(fake_index):
    index, embedder, report, corpus_copy = fake_index
    assert report.embedded_passages == report.passages
    again = build(corpus_copy, index, embedder=embedder)
    assert again.embedded_passages == again.embedded_sentences == 0
    assert embedder.cache.misses == report.passages + report.embedded_sentences
    changed = next(corpus_copy.glob("003_*.txt"))
    changed.write_text(changed.read_text(encoding="utf-8").replace(
        "小学教师专业调整取得历史性进步", "小学教师轮岗交流取得历史性进步"), encoding="utf-8")
    edited = build(corpus_copy, index, incremental=True, embedder=embedder)
    assert edited.embedded_passages == 1


def test_an_index_built_by_another_model_is_a_clear_error(fake_index):
    index, _, _, _ = fake_index

    class OtherModel(FakeEmbedder):
        name = fingerprint = "another-model"

    engine = Engine(index, embedder=OtherModel(index.parent / "other-cache"))
    with pytest.raises(IndexMismatch, match="built with model 'fake-bigram-64'"):
        engine.search("教育", mode="semantic")


def test_an_update_after_the_model_changed_embeds_every_passage_again(fake_index):
    # A new model version (here: another fingerprint under the same name) with an
    # unchanged corpus: `indexer update` must not call the index up to date, or every
    # semantic search would then be refused.
    index, _, report, corpus_copy = fake_index

    class NewVersion(FakeEmbedder):
        fingerprint = "fake-bigram-64-v2"

    embedder = NewVersion(index.parent / "new-cache")
    engine = Engine(index, embedder=embedder)
    with pytest.raises(IndexMismatch, match="another version of 'fake-bigram-64'.*update"):
        engine.search("教育", mode="semantic")
    updated = build(corpus_copy, index, incremental=True, embedder=embedder)
    assert not updated.up_to_date and updated.models_changed == ["embedding model"]
    assert updated.embedded_passages == report.passages and updated.indexed_passages == 0
    assert Engine(index, embedder=embedder).search("教育", mode="semantic").hits
    again = build(corpus_copy, index, incremental=True, embedder=embedder)
    assert again.up_to_date and again.models_changed == []


def test_an_update_after_the_answer_model_changed_records_it(fake_index, tmp_path,
                                                             monkeypatch):
    import json

    from indexer.answer.model import MODEL_FILE
    from indexer.store import manifest

    index, embedder, _, corpus_copy = fake_index
    other = tmp_path / "answer_model.json"
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    other.write_text(json.dumps({**data, "version": "answer-lr-1-retrained"}),
                     encoding="utf-8")
    monkeypatch.setenv("POLICYQA_ANSWER_MODEL", str(other))
    updated = build(corpus_copy, index, incremental=True, embedder=embedder)
    assert updated.models_changed == ["answer model"] and updated.embedded_passages == 0
    live = Engine(index, embedder=embedder).generation()
    assert manifest.read(live.folder)["answer_model"]["version"] == "answer-lr-1-retrained"


def test_an_update_after_sentences_are_split_otherwise_makes_their_vectors(fake_index,
                                                                         monkeypatch):
    # A new sentence definition (SENTENCES_VERSION) with an unchanged corpus: the answer
    # step's candidates are the new sentences, so each needs its vector.
    from indexer.answer import spans
    from indexer.store import build as builder
    from indexer.store import manifest

    index, embedder, _, corpus_copy = fake_index
    monkeypatch.setattr(spans, "SENTENCES_VERSION", "sentences-next")
    monkeypatch.setattr(builder, "SENTENCES_VERSION", "sentences-next")
    updated = build(corpus_copy, index, incremental=True, embedder=embedder)
    assert updated.models_changed == ["sentences"] and updated.embedded_passages == 0
    live = Engine(index, embedder=embedder).generation()
    assert manifest.read(live.folder)["vectors"]["sentences"]["version"] == "sentences-next"
    assert build(corpus_copy, index, incremental=True, embedder=embedder).up_to_date


# -- with the real model -------------------------------------------------------------

@pytest.mark.model
@pytest.mark.parametrize("question, starts", [
    ("吉林村里的小学今年能通上宽带吗?", "28.组建全市教育“大网络”"),
    ("吉林私立学校里赚钱的和不赚钱的分开管吗?", "13.依法支持和规范发展民办教育"),
    ("老师体罚学生怎么处理", "18.认真抓好师德建设"),
])
def test_paraphrased_questions_find_what_bm25_misses(any_engine, question, starts,
                                                     monkeypatch):
    """On the first page of semantic results, never on keyword's. Plain BM25: everyday
    words are not read as the report's (with them, keyword search finds more:
    tests/test_synonyms.py)."""
    monkeypatch.setenv("POLICYQA_QUERY_SYNONYMS", "false")
    catalog = any_engine.generation().catalog
    (target,) = [p.passage_id for p in catalog.passage_list if p.text.startswith(starts)]
    semantic = [h.passage_id for h in
                any_engine.search(question, mode="semantic", k=10).hits]
    keyword = [h.passage_id for h in any_engine.search(question, mode="keyword", k=10).hits]
    assert target in semantic
    assert target not in keyword


@pytest.mark.model
def test_real_model_search_equals_brute_force(model_engine, monkeypatch):
    monkeypatch.setenv("POLICYQA_RERANK_PASSAGES", "0")  # the dense retriever's own order
    vector = model_engine.generation().retriever("semantic")
    for question in ["校车安全管理", "學前教育", "怎样提高教师待遇"]:
        query = _forms(vector.embedder, question)
        hits = model_engine.search(question, mode="semantic", k=10).hits
        assert [h.passage_id for h in hits] == _brute_force(model_engine, query, 10)
        assert hits[0].scores["vector_score"] == pytest.approx(
            _dense_score(vector, query, hits[0].passage_id), abs=1e-4)


@pytest.mark.model
def test_simplified_questions_find_traditional_passages_higher(tmp_path, real_embedder,
                                                               monkeypatch):
    """DRCD's traditional questions asked in simplified, among CMRC's simplified
    paragraphs: embedded in both scripts, each question's passage ranks as high or
    higher, and some higher (the model scores a simplified question lower against
    traditional text than against the same text in simplified)."""
    monkeypatch.setenv("POLICYQA_RERANK_PASSAGES", "0")  # the dense retriever's own order
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(DATA / "drcd" / "passages.jsonl", corpus / "drcd.jsonl")
    shutil.copy(DATA / "cmrc2018" / "passages.jsonl", corpus / "cmrc.jsonl")
    build(corpus, tmp_path / "index", embedder=real_embedder)
    questions = [json.loads(line) for line in
                 (DATA / "drcd" / "queries.jsonl").read_text(encoding="utf-8").splitlines()]

    def ranks(other_script: str) -> list[int]:
        monkeypatch.setenv("POLICYQA_VECTOR_OTHER_SCRIPT", other_script)
        engine = Engine(tmp_path / "index", embedder=real_embedder)
        catalog = engine.generation().catalog
        found = []
        for question in questions:
            simplified = in_other_script(question["question"])
            docs = [catalog.passages[h.passage_id].doc_id for h in
                    engine.search(simplified, mode="semantic", k=10).hits]
            found.append(next((rank for rank, doc in enumerate(docs, start=1)
                               if doc in question["gold_pids"]), 11))
        return found

    typed, both = ranks("false"), ranks("true")
    assert all(b <= t for t, b in zip(typed, both, strict=True))
    assert sum(both) < sum(typed)


@pytest.mark.model
def test_unchanged_corpus_embeds_nothing_with_the_real_model(tmp_path, corpus_copy,
                                                             model_index_dir, real_embedder):
    # The session's model built model_index_dir, so its cache holds the corpus already.
    report = build(corpus_copy, tmp_path / "index", embedder=real_embedder)
    assert report.embedded_passages == report.embedded_sentences == 0
    assert report.passages > 100


@pytest.mark.model
def test_a_question_asked_again_is_not_embedded_again(model_engine, monkeypatch):
    embedder = model_engine.embedder()
    calls = []
    encode = embedder.embed_queries
    monkeypatch.setattr(embedder, "embed_queries", lambda texts: calls.append(texts)
                        or encode(texts))
    first = embedder.embed_query("怎样缩小城乡学校的质量差距 (recent-query test)")
    again = embedder.embed_query("怎样缩小城乡学校的质量差距 (recent-query test)")
    assert len(calls) == 1 and again is first
    assert np.allclose(first, encode(["怎样缩小城乡学校的质量差距 (recent-query test)"])[0])


@pytest.mark.parametrize("damage, problem", [
    (lambda f: os.truncate(f / "sentence_vectors.npy", 1000),
     "sentence_vectors.npy is truncated"),
    (lambda f: (f / "sentence_ids.json").write_text("[]", encoding="utf-8"),
     "sentence_ids.json holds 0 sentences"),
    (lambda f: (f / "sentence_ids.json").unlink(), "sentence_ids.json is missing"),
])
def test_damaged_sentence_vectors_are_named_by_check(fake_index, damage, problem):
    from indexer.errors import IndexDamaged
    from indexer.store import check, generations

    index, embedder, _, _ = fake_index
    damage(generations.current_generation(index))
    problems = check.check(index)
    assert any(problem in p for p in problems), problems
    with pytest.raises(IndexDamaged):
        Engine(index, embedder=embedder).search("校车", mode="hybrid")


@pytest.mark.model
@pytest.mark.parametrize("mode", ["semantic", "hybrid"])
@pytest.mark.parametrize("query", ["，。！", "？？", " - "])
def test_a_punctuation_only_query_is_refused_in_every_mode(any_engine, mode, query):
    from indexer.errors import NothingToSearch

    with pytest.raises(NothingToSearch):
        any_engine.search(query, mode=mode)
