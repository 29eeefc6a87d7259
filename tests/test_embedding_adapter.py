"""The question adapter: the committed file loads and fits the bundled model, conversion
merges it (and keys the model folder by it), bad files get one clear error, and it brings
own-words questions it was never trained on nearer the sentences that answer them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from indexer import settings
from indexer.embed import adapter as question_adapter
from indexer.embed import convert as modelconv
from indexer.embed.embedder import model_path
from indexer.errors import ModelConversionError


@pytest.fixture(scope="module")
def committed():
    return question_adapter.load()


@pytest.fixture(scope="module")
def base_dir() -> Path:
    return modelconv.ensure_default_model(settings.get("models_dir"))


@pytest.fixture(scope="module")
def adapted_dir() -> Path:
    return Path(model_path())


def _tensors(folder: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(folder / "model.safetensors"))


def test_committed_adapter_is_the_trainers_and_fits_the_upper_layers(committed):
    assert committed.meta["trained_by"] == "bench.train_embedder"
    assert committed.meta["own_set"] == "bench/ownwords/independent/questions.jsonl"
    assert "law_set" not in committed.meta  # measured with them, not adopted (stop 41)
    layers = {int(name.split(".")[2]) for name in committed.factors}
    assert layers == set(range(committed.meta["from_layer"], 12))
    for a, b in committed.factors.values():
        assert a.shape[0] == b.shape[1] == committed.meta["rank"]
        assert np.abs(b).max() > 0  # trained: B starts at zero


@pytest.mark.model
def test_conversion_merges_the_adapter_and_names_the_folder_by_it(committed, base_dir,
                                                                  adapted_dir):
    assert adapted_dir.name == f"{base_dir.name}-q{committed.version}"
    manifest = json.loads((adapted_dir / modelconv.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["adapter"] == {"version": committed.version,
                                   "weights": len(committed.factors)}
    base_manifest = json.loads((base_dir / modelconv.MANIFEST).read_text(encoding="utf-8"))
    assert base_manifest.get("adapter") is None
    base, adapted = _tensors(base_dir), _tensors(adapted_dir)
    name = sorted(committed.factors)[0]
    a, b = committed.factors[name]
    np.testing.assert_allclose(adapted[name] - base[name], committed.scale * b @ a, atol=1e-5)
    untouched = "encoder.layer.0.attention.self.query.weight"
    assert untouched not in committed.factors
    np.testing.assert_array_equal(adapted[untouched], base[untouched])


def test_the_setting_turns_it_off(monkeypatch, committed):
    monkeypatch.setattr(modelconv, "ensure_default_model",
                        lambda root, adapter=None: modelconv.default_model_dir(root, adapter))
    assert model_path().endswith(f"-q{committed.version}")
    monkeypatch.setenv("POLICYQA_EMBEDDING_ADAPTER", "false")
    assert not model_path().endswith(f"-q{committed.version}")
    assert model_path() == str(modelconv.default_model_dir(settings.get("models_dir")))


def test_bad_adapter_files_get_one_clear_error(tmp_path, committed):
    with pytest.raises(ModelConversionError, match="cannot read the embedding adapter"):
        question_adapter.load(tmp_path / "missing.npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ModelConversionError, match="cannot read the embedding adapter"):
        question_adapter.load(garbage)
    empty = tmp_path / "empty.npz"
    np.savez(empty, scale=np.array(2.0))
    with pytest.raises(ModelConversionError, match="is not an embedding adapter"):
        question_adapter.load(empty)
    name = sorted(committed.factors)[0]
    a, b = committed.factors[name]
    tensors = {name: np.zeros((b.shape[0] + 1, a.shape[1]), np.float32)}
    with pytest.raises(ModelConversionError, match="does not fit this model"):
        committed.apply(tensors)
    assert tensors[name].shape == (b.shape[0] + 1, a.shape[1])  # left as it was
    # Every weight but the last fits: none of them is changed either.
    *fitting, last = sorted(committed.factors)
    tensors = {n: np.zeros((committed.factors[n][1].shape[0], committed.factors[n][0].shape[1]),
                           np.float32) for n in fitting}
    with pytest.raises(ModelConversionError, match=f"{last} is missing"):
        committed.apply(tensors)
    assert all(not tensor.any() for tensor in tensors.values())


def test_saved_factors_load_back_with_a_content_version(tmp_path, committed):
    first, second = tmp_path / "one.npz", tmp_path / "two.npz"
    version = question_adapter.save(first, committed.factors, committed.scale, committed.meta)
    assert question_adapter.save(second, committed.factors, committed.scale,
                                 committed.meta) == version == committed.version
    again = question_adapter.load(first)
    assert again.scale == committed.scale and again.meta == committed.meta


@pytest.mark.model
def test_own_words_questions_it_never_saw_find_their_sentences(corpus, base_dir, adapted_dir):
    """The first own-words set's train questions (the adapter learnt from the independent
    set's): among every sentence of the bundled reports, by raw cosine (the torch
    embedder), the gold sentence ranks first more often and higher on average with the
    adapter than without."""
    from bench.answer_data import ownwords
    from indexer.answer.spans import embedding_text, readable_sentences
    from indexer.embed import open_embedder
    from indexer.store.catalog import Catalog

    catalog = Catalog(corpus.documents, corpus.all_passages())
    rows, texts = [], []
    for passage in catalog.passage_list:
        document = catalog.documents[passage.doc_id]
        for start, end in readable_sentences(passage, document):
            rows.append((passage.doc_id, start, end))
            texts.append(embedding_text(document, passage, start, end))
    questions = [q for q in ownwords(catalog) if q.source == "questions" and q.span]
    assert len(questions) >= 150

    def ranks(folder: Path) -> np.ndarray:
        embedder = open_embedder("torch", model=str(folder))
        sentences = embedder.embed_passages(texts)
        asked = embedder.embed_queries([q.question for q in questions])
        found = []
        for question, vector in zip(questions, asked, strict=True):
            order = np.argsort(-(sentences @ vector), kind="stable")
            doc, start, end = question.span
            found.append(min(place for place, row in enumerate(order)
                             if rows[row][0] == doc and rows[row][1] < end
                             and rows[row][2] > start))
        return np.array(found)

    before, after = ranks(base_dir), ranks(adapted_dir)
    assert (after == 0).sum() >= (before == 0).sum() + 10
    assert np.mean(1 / (after + 1)) >= np.mean(1 / (before + 1)) + 0.05
