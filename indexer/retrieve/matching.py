"""Whoosh queries evaluated over whole posting lists at once.

Whoosh walks postings one document at a time in Python: an AND of common words over a
100k-passage index visits every shared posting through several layers of matchers. Here
the same query objects are evaluated with numpy over the posting arrays of
:mod:`indexer.retrieve.postings`: AND and OR become sorted-array merges, and BM25F is
computed for every matching passage in one expression, with the formula, statistics and
quantised field lengths of Whoosh's own scorer. The matches and scores are Whoosh's.

A phrase needs positions, read per document. Where a phrase only adds to the score (the
typed words, found together, rank above the same words apart) and every passage it
could match is matched anyway, it is not checked up front: each passage is first given
the most the phrase could add, and the phrase is then checked, best first, only in
passages that could still reach the top k. The top k is exact — every match is scored.
(Whoosh's own top-k search prunes a union of boosted terms by their unboosted quality,
and can miss the best passage: on the bundled reports, 4 of 300 sampled queries.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from whoosh import query as q

from indexer.retrieve.postings import EMPTY_IDS, Postings

_CHECK_BATCH = 32  # passages whose phrases are checked before the bound is revised


@dataclass
class _Deferred:
    """A phrase not yet checked: the passages holding its words and what it would add."""

    phrase: q.Phrase
    ids: np.ndarray
    bonus: np.ndarray


class QueryArrays:
    """Matches and exact top k of the Whoosh queries :class:`KeywordRetriever` builds
    (terms, phrases, AND, OR, NOT inside an AND, everything, nothing)."""

    def __init__(self, postings: Postings, weighting):
        self.postings = postings
        self.K1 = weighting.K1
        self.B = weighting.B

    def matches(self, searcher, node) -> np.ndarray:
        """Numbers of the documents ``node`` matches, ascending."""
        return self._evaluate(searcher, node, False, None)[0]

    def best(self, searcher, node, k: int, allowed: np.ndarray | None = None,
             order: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The ``k`` best (document, score) pairs among the matches (within ``allowed``),
        best first, equal scores by ``order`` (a key per document number), else by
        document number as Whoosh orders them."""
        if k <= 0:
            return []
        deferred: list[_Deferred] = []
        ids, upper = self._evaluate(searcher, node, True, deferred)
        if allowed is not None and len(ids):
            keep = np.isin(ids, allowed, assume_unique=True)
            ids, upper = ids[keep], upper[keep]
        if deferred and len(ids):
            upper = self._checked(searcher, ids, upper, deferred, k)
        return top(ids, upper, k, order)

    # -- exact scores where phrases could change the top k -----------------------------
    def _checked(self, searcher, ids, upper, deferred: list[_Deferred], k: int) -> np.ndarray:
        """Scores exact wherever they could reach the top ``k``; elsewhere below it."""
        bonus = np.zeros((len(deferred), len(ids)))
        for row, phrase in enumerate(deferred):
            where = np.searchsorted(ids, phrase.ids)
            inside = where < len(ids)
            inside[inside] = ids[where[inside]] == phrase.ids[inside]
            bonus[row, where[inside]] = phrase.bonus[inside]
        score = upper - bonus.sum(axis=0)  # exact where checked, a lower bound elsewhere
        unchecked = bonus.any(axis=0)
        while unchecked.any():
            cut = _kth_largest(score, k)
            waiting = np.flatnonzero(unchecked & (upper >= cut))
            if not len(waiting):
                break
            batch = np.sort(waiting[np.argsort(-upper[waiting], kind="stable")[:_CHECK_BATCH]])
            for row, phrase in enumerate(deferred):
                held = batch[bonus[row, batch] > 0]
                if len(held):
                    holds = self.postings.phrase_holds(searcher, phrase.phrase.fieldname,
                                                       list(phrase.phrase.words), ids[held])
                    score[held[holds]] += bonus[row, held[holds]]
            unchecked[batch] = False
        return score

    # -- evaluation ---------------------------------------------------------------------
    def _evaluate(self, searcher, node, scored: bool, deferred: list[_Deferred] | None):
        """The documents ``node`` matches (ascending) and, if ``scored``, their scores
        (zeros otherwise). With a ``deferred`` list, phrases that only add to a score
        get their upper bound, recorded there."""
        kind = type(node)
        if kind is q.Term:
            return self._term(searcher, node, scored)
        if kind is q.Phrase and node.slop == 1:
            return self._phrase(searcher, node, scored)
        if kind is q.And:
            return self._and(searcher, node, scored, deferred if node.boost == 1 else None)
        if _plain_or(node):
            return self._or(searcher, node, scored, deferred if node.boost == 1 else None)
        if kind is q.Every and node.fieldname is None:
            ids = self.postings.live(searcher)
            return ids, np.full(len(ids), float(node.boost))
        if node is q.NullQuery:
            return EMPTY_IDS, np.zeros(0)
        raise TypeError(f"no posting-array evaluation for {node!r}")

    def _term(self, searcher, node, scored: bool):
        ids, tf = self.postings.term(searcher, node.fieldname, node.text)
        if not scored or not len(ids):
            return ids, np.zeros(len(ids))
        idf = searcher.idf(node.fieldname, node.text)
        average = searcher.avg_field_length(node.fieldname) or 1
        length = self.postings.lengths(searcher, node.fieldname)[ids]
        K1, B = self.K1, self.B
        tf = tf.astype(np.float64)
        bm25 = idf * (tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * length / average))
        return ids, bm25 * node.boost

    def _and(self, searcher, node, scored: bool, deferred):
        wanted = [s for s in node.subqueries if not isinstance(s, q.Not)]
        unwanted = [s.query for s in node.subqueries if isinstance(s, q.Not)]
        if not wanted:
            raise TypeError(f"an AND of exclusions only: {node!r}")
        parts = sorted((self._evaluate(searcher, s, scored, deferred) for s in wanted),
                       key=lambda part: len(part[0]))
        ids, scores = parts[0]
        for other_ids, other_scores in parts[1:]:
            if not len(ids):
                break
            ids, here, there = np.intersect1d(ids, other_ids, assume_unique=True,
                                              return_indices=True)
            scores = scores[here] + other_scores[there]
        for sub in unwanted:
            if not len(ids):
                break
            keep = ~np.isin(ids, self.matches(searcher, sub), assume_unique=True)
            # Whoosh's matcher of a NOT clause is an inverse matcher scoring 1 everywhere.
            ids, scores = ids[keep], scores[keep] + (1.0 if scored else 0.0)
        return ids, scores * node.boost

    def _or(self, searcher, node, scored: bool, deferred):
        """A document's score is the sum of its matching parts' scores."""
        subqueries = _flattened(node)
        phrases = [] if deferred is None or not scored else [
            s for s in subqueries if type(s) is q.Phrase and s.slop == 1]
        parts = [self._evaluate(searcher, s, scored, deferred)
                 for s in subqueries if s not in phrases]
        if phrases:
            others = _union(parts, 1.0)[0]
            for phrase in phrases:
                ids, bonus = self._holding_words(searcher, phrase, scored=True)
                if np.isin(ids, others, assume_unique=True).all():  # adds to scores only
                    deferred.append(_Deferred(phrase, ids, bonus * phrase.boost))
                    parts.append((ids, bonus * phrase.boost))
                else:
                    parts.append(self._phrase(searcher, phrase, scored))
        return _union(parts, node.boost)

    def _holding_words(self, searcher, node, scored: bool):
        """The documents holding every word of a phrase in its field, and the sum of
        the words' scores there (a phrase's score when it holds)."""
        words = q.And([q.Term(node.fieldname, word) for word in node.words])
        return self._and(searcher, words, scored, None)

    def _phrase(self, searcher, node, scored: bool):
        ids, scores = self._holding_words(searcher, node, scored)
        if len(ids):
            holds = self.postings.phrase_holds(searcher, node.fieldname, list(node.words), ids)
            ids, scores = ids[holds], scores[holds]
        return ids, scores * node.boost


def _plain_or(node) -> bool:
    return type(node) is q.Or and not node.minmatch and node.scale is None


def _flattened(node) -> list:
    """The parts of an OR, with those of the plain ORs inside it (OR sums its parts'
    scores, so an OR of ORs is one OR)."""
    parts = []
    for sub in node.subqueries:
        parts += _flattened(sub) if _plain_or(sub) and sub.boost == 1 else [sub]
    return parts


def _union(parts: list[tuple[np.ndarray, np.ndarray]], boost: float):
    """Documents matching any part; a document's score is the sum of its parts' scores."""
    parts = [part for part in parts if len(part[0])]
    if not parts:
        return EMPTY_IDS, np.zeros(0)
    if len(parts) == 1:
        ids, scores = parts[0]
        return ids, scores * boost
    ids, where = np.unique(np.concatenate([p[0] for p in parts]), return_inverse=True)
    scores = np.bincount(where, weights=np.concatenate([p[1] for p in parts]),
                         minlength=len(ids))
    return ids, scores * boost


def _kth_largest(scores: np.ndarray, k: int) -> float:
    if len(scores) <= k:
        return -np.inf
    return float(np.partition(scores, len(scores) - k)[len(scores) - k])


def top(ids: np.ndarray, scores: np.ndarray, k: int,
        order: np.ndarray | None = None) -> list[tuple[int, float]]:
    """The ``k`` best (document, score) pairs, best first; equal scores by ``order`` (a
    key per document number), then by document number, as Whoosh's collector orders them.
    Every document tied with the ``k``-th is weighed before the cut."""
    if len(ids) > k:
        keep = scores >= _kth_largest(scores, k)
        ids, scores = ids[keep], scores[keep]
    keys = (ids, -scores) if order is None else (ids, order[ids], -scores)
    best = np.lexsort(keys)[:k]
    return [(int(ids[i]), float(scores[i])) for i in best]
