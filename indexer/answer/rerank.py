"""Re-rank the top dense hits by the answer model: the passage that holds the sentence
most likely to answer comes first.

A passage vector and its best sentence's cosine say how close a passage is to the
question; the answer model (:mod:`indexer.answer.model`) also weighs what the question
asks for (a number with its unit, a date, a place), the words it shares, and where each
side ranked the passage. Ordering the top ``rerank_passages`` hits of semantic and hybrid
search by their best sentence's score puts the answering passage first far more often
for questions in a user's own words (README, "Search modes"). Keyword search is left as
BM25F ranks it: its users search for words, and get the passages that hold them. The
score that orders passages is the model's re-ranking stage (``Sentence.rank_score``),
which leaves out the features that tell one passage's sentences apart; an older model
file without that stage orders them by the sentence score.

Each re-ranked hit keeps its retrieval rank (``retrieval_rank``) and score, and gains
``answer_score``: the answer model reads the retrieval rank, so an answer is chosen from
the same features whichever order the hits are shown in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer.retrieve.hits import Hit

if TYPE_CHECKING:
    from indexer.answer.features import Sentence
    from indexer.store.catalog import Catalog


def rerank_hits(question: str, hits: list[Hit], catalog: Catalog, vectors, depth: int
                ) -> list[Hit]:
    """``hits`` with the first ``depth`` ordered by their best sentence's answer score;
    ``vectors`` is the dense retriever whose sentence vectors the answer model reads."""
    from indexer.answer.extract import score_sentences

    if len(hits[:depth]) < 2:
        return hits
    scored = score_sentences(question, hits[:depth], catalog, vectors,
                             overrides={"answer_passages": depth})
    return by_answer_score(hits, scored, depth)


def by_answer_score(hits: list[Hit], scored: list[Sentence], depth: int) -> list[Hit]:
    """``hits`` with the first ``depth`` ordered by the best re-ranking score among their
    sentences in ``scored`` (ties, and passages with no scored sentence, keep their
    retrieval order); the passages of the sentences the answer is taken from
    (:func:`indexer.answer.features.answered_from`: a report of the place the question
    asks of, a sentence on the school it asks of) come before the others. The rest follow
    unchanged."""
    if not scored or len(hits[:depth]) < 2:  # nothing read (e.g. numbers only), or one hit
        return hits
    from indexer.answer.features import answered_from

    best: dict[str, float] = {}
    for sentence in scored:
        pid = sentence.passage.passage_id
        best[pid] = max(best.get(pid, sentence.rank_score), sentence.rank_score)
    answering = {sentence.passage.passage_id for sentence in answered_from(scored)}
    top = hits[:depth]
    order = sorted(top, key=lambda hit: (hit.passage_id not in answering,
                                         -best.get(hit.passage_id, -1.0), hit.rank))
    for rank, hit in enumerate(order, start=1):
        hit.scores.setdefault("retrieval_rank", hit.rank)
        if hit.passage_id in best:
            hit.scores["answer_score"] = round(best[hit.passage_id], 4)
        hit.rank = rank
    return order + hits[depth:]
