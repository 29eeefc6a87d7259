"""The embedding runtimes: the setting picks one, ONNX int8 agrees with torch fp32 on what
retrieval needs, their caches never mix, and the export is made once, faithfully, or fails
with a clear error."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from indexer import settings
from indexer.embed import RUNTIMES, open_embedder, runtime_name
from indexer.embed import onnx as onnx_export
from indexer.embed.embedder import Embedder, TorchEmbedder, model_path, resolve_model
from indexer.embed.onnx import ensure_onnx_model
from indexer.embed.onnx_runtime import OnnxEmbedder
from indexer.errors import ModelNotAvailable
from tests.conftest import DATA, ROOT

# Questions on the bundled corpus, as people ask them: numbers, paraphrases, traditional
# script, bare search words.
CORPUS_QUESTIONS = [
    "2016年句容中考均分与镇江市区差多少分?",
    "哪位老师获评全国模范教师?",
    "吉林市打算怎样让村小都连上网络?",
    "吉林市要求每学期安全教育不少于多少课时?",
    "句容市2016年校安工程计划实施的总面积是多少？",
    "吉林市什么时候完成非专用校车更新？",
    "吉林市直属学校的班主任津贴每月多少钱?",
    "多少个学校建成了录播教室?",
    "一共配备了多少名专职保安?",
    "句容市2016年小学在校生人数是多少?",
    "校车安全怎么保障?",
    "县管校聘改革进展如何",
    "片区合作共同体",
    "學校建設",
    "教師隊伍建設與師德師風",
    "食堂 食品安全",
]


# Cosines this close (in torch, fp32) are a tie that int8 arithmetic may break either way.
NEAR_TIE = 0.01


def _rows(name: str) -> list[dict]:
    with (DATA / name).open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def torch_embedder(real_embedder):
    """The fp32 sentence-transformers runtime (the session's, when that is torch)."""
    return real_embedder if real_embedder.runtime == "torch" else open_embedder("torch")


@pytest.fixture(scope="module")
def onnx_embedder(real_embedder):
    """The int8 ONNX runtime over the converted model (exported here if set-up did not)."""
    return real_embedder if real_embedder.runtime == "onnx" else open_embedder("onnx")


# --- the setting ---------------------------------------------------------------------------


def test_the_setting_selects_the_runtime(monkeypatch, keyword_engine):
    from indexer.retrieve.engine import Engine

    assert settings.REGISTRY["embedding_runtime"].default in RUNTIMES
    for runtime, kind in [("onnx", OnnxEmbedder), ("torch", TorchEmbedder),
                          (" ONNX ", OnnxEmbedder)]:
        monkeypatch.setenv("POLICYQA_EMBEDDING_RUNTIME", runtime)
        # Every place that makes an embedder: the factory, the engine, the index build.
        assert type(open_embedder()) is kind
        assert type(Engine(keyword_engine.index_dir).embedder()) is kind
        assert type(Embedder()) is kind
    assert type(open_embedder("torch")) is TorchEmbedder  # an explicit runtime wins
    monkeypatch.setenv("POLICYQA_EMBEDDING_RUNTIME", "tensorrt")
    with pytest.raises(ValueError, match="unknown embedding runtime 'tensorrt'"):
        runtime_name()


# --- agreement on the corpus and the dev samples ----------------------------------------


@pytest.mark.model
@pytest.mark.slow
def test_onnx_agrees_with_torch_on_the_corpus(corpus, torch_embedder, onnx_embedder):
    passages = list(corpus.all_passages())
    texts = [p.text for p in passages]
    ours, theirs = onnx_embedder.embed_passages(texts), torch_embedder.embed_passages(texts)
    assert ours.shape == theirs.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosine = np.sum(ours * theirs, axis=1)
    assert np.median(cosine) >= 0.99 and cosine.min() >= 0.97
    questions = {name: e.embed_queries(CORPUS_QUESTIONS)
                 for name, e in [("onnx", onnx_embedder), ("torch", torch_embedder)]}
    assert np.min(np.sum(questions["onnx"] * questions["torch"], axis=1)) >= 0.98
    # Retrieval is what counts. e5 scores sit close together (0.85-0.91 here), so int8's
    # score noise can swap passages that fp32 itself all but ties; any other best passage
    # must stay the same. Measured with 7-bit weights (the same on every CPU): 13 of 16
    # identical, the other three 0.0009, 0.0014 and 0.0040 below fp32's best.
    scores = {"onnx": questions["onnx"] @ ours.T, "torch": questions["torch"] @ theirs.T}
    best = {name: np.argmax(s, axis=1) for name, s in scores.items()}
    rows = np.arange(len(CORPUS_QUESTIONS))
    fp32_gap = scores["torch"][rows, best["torch"]] - scores["torch"][rows, best["onnx"]]
    assert np.all(fp32_gap <= 0.005), [passages[i].passage_id for i in best["onnx"]]
    assert np.sum(best["onnx"] == best["torch"]) >= len(CORPUS_QUESTIONS) - 3


@pytest.mark.model
@pytest.mark.slow
def test_onnx_keeps_own_words_questions_close_to_torch(torch_embedder, onnx_embedder):
    # Questions in a user's own words and their gold sentences sit within hundredths of
    # each other (e5 scores 0.87-0.93), so the export's error decides rankings. With every
    # MatMul in int8 it was 0.0028 on average (1 - cosine; worst 0.0055); keeping the
    # feed-forward output projections in fp32 brings it to 0.0009 (worst 0.0019). The
    # question adapter's weights quantise less well: 0.0049 for questions (worst 0.0073)
    # and 0.0040 for sentences (worst 0.0062), with own-words rankings unchanged against
    # torch (indexer/embed/onnx.py).
    rows = [json.loads(line) for line in
            (ROOT / "bench/ownwords/questions.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = rows[::3]
    for texts, embed in [([r["question"] for r in rows], "embed_queries"),
                         ([r["gold_sentence"] for r in rows], "embed_passages")]:
        cosine = np.sum(getattr(onnx_embedder, embed)(texts)
                        * getattr(torch_embedder, embed)(texts), axis=1)
        assert 1 - cosine.mean() <= 0.006 and 1 - cosine.min() <= 0.009, embed


@pytest.mark.model
def test_the_export_keeps_feed_forward_outputs_in_fp32(onnx_embedder):
    import onnx

    graph = onnx.load(str(Path(onnx_embedder.name) / "model.onnx")).graph
    weights = {t.name: t for t in graph.initializer}
    layers = json.loads((Path(model_path()) / "config.json").read_text())["num_hidden_layers"]
    fp32 = [weights[i] for n in graph.node if n.op_type == "MatMul"
            for i in n.input if i in weights]
    assert len(fp32) == layers
    assert all(t.data_type == onnx.TensorProto.FLOAT and t.dims[0] > t.dims[1] for t in fp32)
    # Everything else that carries weights is quantised.
    assert sum(n.op_type in {"MatMulInteger", "DynamicQuantizeMatMul"}
               for n in graph.node) == 5 * layers


@pytest.mark.model
def test_the_export_quantises_matmul_weights_to_7_bits(onnx_embedder):
    """On an AVX2 CPU without VNNI, ONNX Runtime adds pairs of uint8 × int8 products in 16
    bits: full-range int8 weights overflow there (other vectors than on other CPUs), while
    |w| ≤ 64 never does (2 × 255 × 64 = 32,640 ≤ 32,767)."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(Path(onnx_embedder.name) / "model.onnx")).graph
    weights = {t.name: t for t in graph.initializer}
    quantised = [numpy_helper.to_array(weights[n.input[1]]) for n in graph.node
                 if n.op_type in {"MatMulInteger", "DynamicQuantizeMatMul"}]
    assert quantised and all(w.dtype == np.int8 for w in quantised)
    assert max(int(np.abs(w.astype(np.int16)).max()) for w in quantised) <= 64


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.parametrize("sample", ["cmrc2018", "drcd"])
def test_onnx_finds_what_torch_finds_on_the_dev_samples(sample, torch_embedder,
                                                        onnx_embedder):
    """The int8 model picks torch's first passage, or one torch scores within a near tie
    of it: ONNX Runtime's int8 kernels depend on the CPU, and they may flip a tie. On an
    AVX-512 VNNI CPU 3 of the 50 CMRC questions flip, each within 0.005 in torch, with
    as many right at rank 1 either way; 95 % agreement, asked here before, failed there."""
    passages = _rows(f"{sample}/passages.jsonl")
    queries = [q for q in _rows(f"{sample}/queries.jsonl") if q["question"]]
    pids = [p["pid"] for p in passages]
    scores = {}
    for e in (torch_embedder, onnx_embedder):
        matrix = e.embed_passages([p["text"] for p in passages])
        scores[e.runtime] = e.embed_queries([q["question"] for q in queries]) @ matrix.T
    ranked = {runtime: np.argmax(table, axis=1) for runtime, table in scores.items()}
    hits = {runtime: sum(pids[top] in q["gold_pids"] for top, q in zip(tops, queries,
                                                                       strict=True))
            for runtime, tops in ranked.items()}
    same = int(np.sum(ranked["onnx"] == ranked["torch"]))
    rows = np.arange(len(queries))
    torch_gap = scores["torch"][rows, ranked["torch"]] - scores["torch"][rows, ranked["onnx"]]
    assert same >= 0.9 * len(queries)
    assert float(torch_gap.max()) <= NEAR_TIE  # every other pick a near tie in torch
    assert hits["onnx"] >= hits["torch"] - 1  # at most one question lost at rank 1


@pytest.mark.model
def test_queries_and_passages_get_the_prompts_truncation_and_normalisation(torch_embedder,
                                                                           onnx_embedder):
    info = onnx_embedder.info
    assert info["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert (info["pooling"], info["normalized"], info["max_seq_length"]) == ("mean", True, 512)
    text = "国务院关于优化营商环境的意见"
    query, passage = onnx_embedder.embed_queries([text])[0], onnx_embedder._encode([text],
                                                                                  "passage")[0]
    torch_query = torch_embedder.embed_queries([text])[0]
    torch_passage = torch_embedder._encode([text], "passage")[0]
    # Each prompt matches its torch counterpart better than the other prompt does.
    assert query @ torch_query > query @ torch_passage
    assert passage @ torch_passage > passage @ torch_query
    long = "各学校要把校园安全放在首位。" * 200  # far past 512 tokens
    np.testing.assert_allclose(onnx_embedder._encode([long], "passage")[0],
                               onnx_embedder._encode([long + "不同的结尾"], "passage")[0],
                               atol=1e-6)
    # Alone or among longer texts, the same vector: int8 activation scales are per tensor,
    # so a padded batch would let batch-mates move it.
    batch = onnx_embedder._encode([long, text, "税收"], "passage")
    np.testing.assert_array_equal(batch[1], passage)


# --- the cache -------------------------------------------------------------------------------


@pytest.mark.model
def test_the_cache_never_mixes_runtimes(torch_embedder, onnx_embedder):
    assert torch_embedder.fingerprint != onnx_embedder.fingerprint
    assert torch_embedder.cache.path != onnx_embedder.cache.path
    assert OnnxEmbedder().fingerprint == onnx_embedder.fingerprint  # stable across loads
    text = f"缓存测试：两个运行时不共用向量。{time.time_ns()}"
    from_torch = torch_embedder.embed_passages([text])[0]  # now in torch's cache
    from_onnx = onnx_embedder.embed_passages([text])[0]
    np.testing.assert_array_equal(from_onnx, onnx_embedder._encode([text], "passage")[0])
    assert not np.allclose(from_onnx, from_torch, atol=1e-6)


# --- the export --------------------------------------------------------------------------------


@pytest.mark.model
def test_set_up_exports_once(onnx_embedder):
    folder = Path(onnx_embedder.name)
    assert folder == onnx_export.onnx_model_dir(Path(model_path()))
    assert {p.name for p in folder.iterdir()} == {"model.onnx", "tokenizer.json", "export.json"}
    info = onnx_export.read_manifest(folder)
    assert info["check"]["fp32_min_cosine"] >= onnx_export.FP32_MIN_COSINE
    assert info["model_sha256"] == onnx_export._sha256(folder / "model.onnx")
    exported = (folder / "model.onnx").stat().st_mtime_ns
    assert ensure_onnx_model(model_path()) == folder  # `python -m indexer model` again
    assert resolve_model() in {model_path(), str(folder)}
    assert (folder / "model.onnx").stat().st_mtime_ns == exported  # not exported again


def _tiny_model(folder: Path) -> Path:
    """A two-layer, 32-wide BERT with seeded random weights, laid out as the converted model."""
    import torch
    from transformers import BertConfig, BertModel

    source = Path(model_path())
    for name in ("tokenizer.json", "tokenizer_config.json", "modules.json",
                 "sentence_bert_config.json", "config_sentence_transformers.json",
                 "2_Normalize/config.json"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, folder / name)
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    config.update(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                  intermediate_size=64)
    torch.manual_seed(0)
    BertModel(BertConfig(**config)).save_pretrained(folder)
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling/config.json").write_text(json.dumps(
        {"embedding_dimension": 32, "pooling_mode": "mean", "include_prompt": True}))
    return folder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return _tiny_model(tmp_path_factory.mktemp("tiny-e5"))


@pytest.mark.model
@pytest.mark.slow
def test_a_missing_export_is_made_on_first_use_deterministically(tiny, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setenv("POLICYQA_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("POLICYQA_EMBEDDING_MODEL", str(tiny))
    monkeypatch.setenv("POLICYQA_EMBEDDING_CACHE_DIR", str(tmp_path / "cache"))
    texts = ["税收", "吉林市什么时候完成非专用校车更新？", "學校建設" * 40]
    onnx = OnnxEmbedder()
    ours = onnx.embed_passages(texts)  # no export yet: made now
    folder = onnx_export.onnx_model_dir(tiny)
    assert onnx.name == str(folder) and onnx.dimension == 32
    theirs = TorchEmbedder().embed_passages(texts)
    assert np.min(np.sum(ours * theirs, axis=1)) >= 0.98
    # The same source exports to the same bytes.
    again = onnx_export.export(tiny, tmp_path / "again")
    assert (again / "model.onnx").read_bytes() == (folder / "model.onnx").read_bytes()
    # A damaged export is named, with what to do.
    (folder / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelNotAvailable, match="cannot load the ONNX export .*indexer model"):
        OnnxEmbedder().embed_queries(["税收"])


def test_models_it_cannot_export_give_clear_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYQA_MODELS_DIR", str(tmp_path / "models"))
    with pytest.raises(ModelNotAvailable, match="model folder on disk"):
        ensure_onnx_model("intfloat/multilingual-e5-small")  # a hub name: never downloaded
    dense = tmp_path / "dense"
    dense.mkdir()
    (dense / "modules.json").write_text(json.dumps([
        {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
        for i, (path, kind) in enumerate([("", "Transformer"), ("1_Pooling", "Pooling"),
                                          ("2_Dense", "Dense")])]))
    with pytest.raises(ModelNotAvailable, match="not Transformer, Pooling"):
        ensure_onnx_model(dense)
    assert [p.name for p in (tmp_path / "models").iterdir() if p.suffix != ".lock"] == []

    real_version = importlib.metadata.version

    def without_onnxruntime(name: str) -> str:
        if name == "onnxruntime":
            raise importlib.metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(onnx_export.importlib.metadata, "version", without_onnxruntime)
    with pytest.raises(ModelNotAvailable, match="needs onnxruntime"):
        ensure_onnx_model(dense)
