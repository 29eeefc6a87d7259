"""Feature rows for training the answer model, made exactly as ``Engine.ask`` makes them
(a question with a mistyped word is read as corrected, as ``Engine.read_question`` reads it).

Each training question is asked twice when it is answerable: as is (the index holds its
answer), and with its gold passages taken out of the retrieved list, re-ranked as if the
index lacked them (the same question now has no answer there). A removal variant whose
remaining candidates still hold an answer string is dropped: it would teach the model
that a right answer is wrong.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bench import answer_data
from bench.answer_data import Example

log = logging.getLogger(__name__)

EXTRA = 8  # hits retrieved beyond answer_passages, to stand in for removed gold passages


@dataclass
class Group:
    """The candidates of one asked question: feature rows, labels, and what it was."""

    example: Example
    removed: bool  # the gold passages were taken out
    rows: np.ndarray  # candidates × FEATURES
    labels: np.ndarray  # 1 where the candidate is a right answer
    passages: list[str]

    @property
    def answerable(self) -> bool:
        """Whether the question has an answer in the index it was asked of."""
        return self.example.answerable and not self.removed


def right(example: Example, sentence) -> bool:
    """Whether a candidate sentence is a right answer to the example."""
    from indexer.text.analysis import fold

    if not example.gold:
        return False
    passage = sentence.passage
    if passage.passage_id not in example.gold and passage.doc_id not in example.gold:
        return False
    if example.span is not None:
        doc_id, start, end = example.span
        if passage.doc_id != doc_id or not (sentence.start < end and sentence.end > start):
            return False
    folded = fold(sentence.text)
    return any(fold(a) in folded for a in example.answers if a)


def _holds_answer(example: Example, found) -> bool:
    """Whether any candidate holds one of the example's answer strings."""
    from indexer.text.analysis import fold

    answers = [fold(a) for a in example.answers if len(a) >= 2]
    return any(a in fold(s.text) for s in found for a in answers)


def _without(hits, gold: set[str], catalog, keep: int):
    """``hits`` without the gold passages, ranks closed up as if they were never indexed."""
    from dataclasses import replace

    removed = [h for h in hits if h.passage_id in gold
               or catalog.passages[h.passage_id].doc_id in gold]
    kept = []
    for rank, hit in enumerate((h for h in hits if h not in removed), start=1):
        scores = dict(hit.scores)
        for side in ("keyword_rank", "vector_rank"):
            if scores.get(side) is not None:
                scores[side] -= sum(1 for r in removed
                                    if r.scores.get(side) is not None
                                    and r.scores[side] < hit.scores[side])
        kept.append(replace(hit, rank=rank, scores=scores))
    return kept[:keep]


def groups_of(engine, example: Example, with_removal: bool = True) -> list[Group]:
    """The feature groups of one example (as is, and with its gold removed)."""
    from indexer import settings
    from indexer.answer import features as feats
    from indexer.answer.extract import _dense_inputs
    from indexer.answer.question import analyse, only_numbers
    from indexer.errors import NothingToSearch
    from indexer.retrieve.protocol import ranked_with_fallback
    from indexer.text.query import parse

    generation = engine.generation()
    catalog = generation.catalog
    dense = generation.retrievers.get("semantic")
    keep = settings.get("answer_passages")
    question = engine.read_question(example.question, generation) or example.question
    asked = analyse(question)
    if only_numbers(asked):
        return []
    try:
        hits, _ = ranked_with_fallback(generation.retriever("hybrid"), parse(question),
                                       keep + EXTRA)
    except NothingToSearch:
        return []
    variants = [(False, hits[:keep])]
    if with_removal and example.gold:
        variants.append((True, _without(hits, example.gold, catalog, keep)))
    found_groups = []
    for removed, chosen in variants:
        found = feats.candidates(chosen, catalog)
        if not found:
            continue
        sentence_cosines, passage_cosines = _dense_inputs(question, found, dense, None)
        feats.describe(asked, found, catalog, sentence_cosines, passage_cosines)
        labels = np.array([right(example, s) for s in found], dtype=np.int8)
        if removed and _holds_answer(example, found):
            continue  # the answer is also elsewhere: not an unanswerable question
        found_groups.append(Group(example, removed, feats.matrix(found, feats.FEATURES),
                                  labels, [s.passage.passage_id for s in found]))
    return found_groups


def collect(workdir: Path, embedder, cmrc: int, paragraphs: int, distractors: int,
            traditional: int, off_topic: int, seed: int) -> list[Group]:
    """Ask every training question (and its removal variant); the feature groups."""
    from indexer.retrieve.engine import Engine

    engine = Engine(answer_data.corpus_index(workdir, embedder), embedder=embedder)
    sets = [(engine, answer_data.ownwords(engine.generation().catalog)),
            (engine, answer_data.off_topic(off_topic, seed))]
    if cmrc:
        other = Engine(answer_data.cmrc_train_index(workdir, embedder, paragraphs, distractors),
                       embedder=embedder)
        questions = answer_data.cmrc_train(cmrc, seed, paragraphs)
        sets.append((other, questions))
        if traditional:
            crossed = Engine(answer_data.cmrc_train_index(workdir, embedder, paragraphs,
                                                          distractors, traditional=True),
                             embedder=embedder)
            sets.append((crossed, [replace(q, qid=f"{q.qid}:zht")
                                   for q in questions[:traditional]]))
    return [group for engine, examples in sets for group in _asked(engine, examples)]


def law_groups(workdir: Path, embedder) -> list[Group]:
    """The feature groups of the own-words questions on laws, asked of their laws."""
    from indexer.retrieve.engine import Engine

    engine = Engine(answer_data.law_index(workdir, embedder), embedder=embedder)
    return _asked(engine, answer_data.laws(engine.generation().catalog))


def _asked(engine, examples: list[Example]) -> list[Group]:
    from tqdm import tqdm

    return [group for example in tqdm(examples, desc="asking", unit="q", mininterval=30)
            for group in groups_of(engine, example)]
