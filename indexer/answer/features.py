"""The candidate sentences of a question's top passages, and what the answer model reads
of each: how close it is to the question (its build-time vector), where its passage ranked
on each side (keyword and dense), how many of the question's words and characters it
holds, and whether it holds what the question asks for.

Everything here is cheap at question time: sentence vectors were made at build time, so
a question costs one matrix-vector product over its candidates' rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from typing import TYPE_CHECKING

import numpy as np

from indexer.answer.groups import (
    counts_another_kind_of_staff,
    counts_another_stage,
    counts_other_people,
    lacks_the_sex_asked,
)
from indexer.answer.measures import (
    counts_only_passers,
    counts_the_counterpart,
    gives_only_changes,
    gives_only_gaps,
    gives_only_rates,
    has_measure,
    lacks_a_year,
    lacks_count,
    lacks_day,
    lacks_figure,
    lacks_time,
    spent_on_another_purpose,
)
from indexer.answer.names import lacks_a_name
from indexer.answer.periods import gives_another_period, gives_no_rate_per_one, lacks_a_length
from indexer.answer.places import (
    is_of_the_place_asked,
    lacks_other_places,
    lacks_the_place_asked,
    names_another_place,
    names_the_places_asked,
    of_a_county_of_the_city_asked,
    of_another_level,
)
from indexer.answer.question import (
    DIGITS,
    KINDS,
    Question,
    coverage,
    dated_otherwise,
    has_cue,
    lacks_year_before,
    missing_specifics,
    names_the_counterpart,
)
from indexer.answer.schools import (
    lacks_the_school_asked,
    names_the_school_asked,
    of_another_school,
    of_the_school_asked,
)
from indexer.answer.spans import readable_sentences
from indexer.records import Passage
from indexer.retrieve.hits import Hit
from indexer.retrieve.protocol import expand_years

if TYPE_CHECKING:
    from indexer.store.catalog import Catalog

# A rank the side did not give (the passage was not among its candidates).
ABSENT_RANK = 100
# Features the dense side supplies; a model for an index without vectors leaves them out.
DENSE_FEATURES = ("cos_s", "cos_s_gap", "cos_s_rank", "cos_p", "cos_p_gap", "vec_rank",
                  "agree", "best_in_passage", "best_cos", "margin", "cos_context")
# What tells a passage's sentences apart (:func:`_local`), not passages: the model's
# re-ranking stage leaves them out.
LOCAL_FEATURES = ("local_coverage", "local_best", "local_pairs")
FEATURES = (
    *DENSE_FEATURES,
    "hit_rank", "hit_norm", "kw_in", "kw_rank", "kw_norm", "coverage", "focus", "char_overlap",
    "bigram_overlap", "num_match", "cue_ok", "cue_miss", "number_cue_miss", "measure_ok",
    "measure_miss",
    *(f"kind_{k}" for k in KINDS),
    "position", "first_in_passage", "length", "best_coverage", "specific_miss",
    *LOCAL_FEATURES,
)


@dataclass
class Sentence:
    """A candidate sentence of a passage, with document offsets, features and score."""

    passage: Passage
    start: int
    end: int
    text: str
    hit: Hit
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    # What re-ranking orders passages by: the model's re-ranking stage, or ``score`` for a
    # model without one.
    rank_score: float = 0.0


def candidates(hits: Sequence[Hit], catalog: Catalog) -> list[Sentence]:
    """Every readable answerable sentence of the hits' passages (none that overlaps
    garbled text), each once."""
    found: list[Sentence] = []
    seen: set[tuple[str, int]] = set()
    for hit in hits:
        passage = catalog.passages.get(hit.passage_id)
        if passage is None:
            continue
        for start, end in readable_sentences(passage, catalog.documents.get(passage.doc_id)):
            if (passage.doc_id, start) in seen:
                continue
            seen.add((passage.doc_id, start))
            offset = start - passage.start
            found.append(Sentence(passage, start, end,
                                  passage.text[offset:offset + end - start], hit))
    return found


def describe(question: Question, found: list[Sentence], catalog: Catalog,
             sentence_cosines: dict[tuple[str, int], float] | None = None,
             passage_cosines: dict[str, float] | None = None) -> None:
    """Fill in every candidate's features (in place).

    Args:
        sentence_cosines: cosine of each candidate's build-time vector to the question, by
            (passage id, start); None for an index without vectors.
        passage_cosines: cosine of each hit's passage vector to the question, by id.
    """
    from indexer.text.analysis import fold

    if not found:
        return
    top_keyword = max((float(s.hit.scores.get("keyword_score") or 0.0) for s in found),
                      default=0.0)
    top_hit = max((float(s.hit.score) for s in found), default=0.0)
    contexts: dict[str, tuple[str, str, float, frozenset[str]]] = {}

    @cache
    def report(doc_id: str) -> str:
        """A report's folded text, folded at most once per question."""
        document = catalog.documents.get(doc_id)
        return fold(document.text) if document else ""

    # Each passage's candidates so far, with their folded text: the sentence before a
    # candidate, its place among them, and what _local compares.
    by_passage: dict[str, list[tuple[Sentence, str]]] = {}
    for sentence in found:
        passage = sentence.passage
        if passage.passage_id not in contexts:
            document = catalog.documents.get(passage.doc_id)
            heading = fold(" ".join(filter(None, [document.title if document else None,
                                                  document.region if document else None,
                                                  passage.section])))
            body = fold(passage.text)
            # What the passage, its headings and (for places) its report never name, of
            # the places and years asked.
            context, its_report = f"{heading} {body}", partial(report, passage.doc_id)
            contexts[passage.passage_id] = (
                heading, body, missing_specifics(question, context, its_report),
                names_another_place(question, context, its_report)
                or of_another_level(question, its_report)
                or of_a_county_of_the_city_asked(question, context, its_report),
                is_of_the_place_asked(question, its_report),
                names_the_places_asked(question, context),
                frozenset(expand_years(document.year if document else None)))
        heading, body, specific_miss, place_miss, place_own, place_named, report_years = \
            contexts[passage.passage_id]
        offset = sentence.start - passage.start
        folded = body[offset:offset + sentence.end - sentence.start]
        members = by_passage.setdefault(passage.passage_id, [])
        before = members[-1][1] if members else ""
        sentence.features = _lexical(question, sentence, folded, heading, before, body,
                                     len(members), top_keyword, report_years)
        members.append((sentence, folded))
        sentence.features["hit_norm"] = float(sentence.hit.score) / top_hit if top_hit > 0 \
            else 0.0
        sentence.features["specific_miss"] = specific_miss
        # Not a model feature: a rule (extract.lacks_what_is_asked) refuses on it.
        sentence.features["place_miss"] = 1.0 if place_miss else 0.0
        # Nor these: the answer is taken from a report of the place asked, when one is.
        sentence.features["place_own"] = 1.0 if place_own else 0.0
        sentence.features["place_named"] = 1.0 if place_named else 0.0
    _local(question, by_passage)
    best_coverage = max(s.features["coverage"] for s in found)
    for sentence in found:
        sentence.features["best_coverage"] = best_coverage
    if sentence_cosines is not None:
        _dense(found, sentence_cosines, passage_cosines or {})


def _lexical(question: Question, sentence: Sentence, folded: str, heading: str,
             before: str, body: str, index: int, top_keyword: float,
             report_years: frozenset[str] = frozenset()) -> dict[str, float]:
    """The features that need no vectors."""
    scores = sentence.hit.scores
    keyword_rank = scores.get("keyword_rank")
    keyword_score = float(scores.get("keyword_score") or 0.0)
    covered, focus = coverage(question, folded, heading, before, body)
    cue = has_cue(question, folded)
    measure = has_measure(question, folded)
    numbers = question.numbers
    features = {
        # Where retrieval ranked the passage (re-ranking by this model keeps it).
        "hit_rank": math.log(max(1, scores.get("retrieval_rank") or sentence.hit.rank or 1)),
        "kw_in": 1.0 if keyword_rank is not None else 0.0,
        "kw_rank": math.log(keyword_rank if keyword_rank is not None else ABSENT_RANK),
        "kw_norm": keyword_score / top_keyword if top_keyword > 0 else 0.0,
        "coverage": covered,
        "focus": focus,
        "char_overlap": (sum(1 for c in question.chars if c in folded) / len(question.chars)
                         if question.chars else 0.0),
        "bigram_overlap": (sum(1 for b in question.bigrams if b in folded)
                           / len(question.bigrams) if question.bigrams else 0.0),
        "num_match": (sum(1 for n in numbers if n in DIGITS.findall(folded)) / len(numbers)
                      if numbers else 0.0),
        "cue_ok": 1.0 if cue is True else 0.0,
        "cue_miss": 1.0 if cue is False else 0.0,
        # A number question's answer is a number: a sentence without one rarely answers.
        "number_cue_miss": 1.0 if cue is False and question.kind == "number" else 0.0,
        "measure_ok": 1.0 if measure is True else 0.0,
        "measure_miss": 1.0 if measure is False else 0.0,
        # Not model features: a rule (extract.lacks_what_is_asked) refuses on them.
        "figure_miss": 1.0 if lacks_figure(question, folded) else 0.0,
        "count_miss": 1.0 if lacks_count(question, folded) else 0.0,
        "total_miss": 1.0 if gives_only_changes(question, folded) else 0.0,
        "gap_miss": 1.0 if gives_only_gaps(question, folded) else 0.0,
        "passers_miss": 1.0 if counts_only_passers(question, folded) else 0.0,
        "people_miss": 1.0 if counts_other_people(question, folded) else 0.0,
        "stage_miss": 1.0 if counts_another_stage(question, folded) else 0.0,
        "sex_miss": 1.0 if lacks_the_sex_asked(question, folded) else 0.0,
        "staff_miss": 1.0 if counts_another_kind_of_staff(question, folded) else 0.0,
        "rate_miss": 1.0 if gives_only_rates(question, folded)
        or gives_no_rate_per_one(question, folded) else 0.0,
        "purpose_miss": 1.0 if spent_on_another_purpose(question, folded) else 0.0,
        "period_miss": 1.0 if gives_another_period(question, folded) else 0.0,
        "length_miss": 1.0 if lacks_a_length(question, folded) else 0.0,
        "day_miss": 1.0 if lacks_day(question, folded) else 0.0,
        "year_miss": 1.0 if lacks_a_year(question, folded) else 0.0,
        "when_miss": 1.0 if lacks_time(question, folded) else 0.0,
        "name_miss": 1.0 if lacks_a_name(question, folded) else 0.0,
        "time_miss": 1.0 if dated_otherwise(question, folded, report_years)
        or lacks_year_before(question, folded, report_years) else 0.0,
        "others_miss": 1.0 if lacks_other_places(question, folded) else 0.0,
        "school_miss": 1.0 if of_another_school(question, folded, body) else 0.0,
        # Nor this: an answer is taken from a sentence that names the school asked of.
        "school_named": 1.0 if names_the_school_asked(question, folded) else 0.0,
        "where_miss": 1.0 if lacks_the_place_asked(question, folded)
        or lacks_the_school_asked(question, folded) else 0.0,
        "counterpart_miss": 1.0 if names_the_counterpart(question, folded, heading)
        or counts_the_counterpart(question, folded) else 0.0,
        "position": math.log1p(index),
        "first_in_passage": 1.0 if index == 0 else 0.0,
        "length": math.log(max(1, len(folded))),
    }
    for kind in KINDS:
        features[f"kind_{kind}"] = 1.0 if question.kind == kind else 0.0
    return features


def _local(question: Question, by_passage: dict[str, list[tuple[Sentence, str]]]) -> None:
    """What a sentence holds of the question that the other sentences of its passage do
    not (``by_passage``: each passage's candidates with their folded text): the question's
    words, weighted by how specific they are, and its character pairs, each weighted also
    by how few of the passage's sentences hold it. The name of what a passage is about is
    in most of its sentences; the words of what is asked about it (…以什么为食,
    …的目标是什么) are in one. The places and years the question names are left out:
    they say where, not what is asked (``specific_miss`` reads them), and a town named
    once in a passage would single out a sentence that only names it.

    Measured (docs/evaluation.md, "What a sentence holds that its passage does not
    repeat"), these features pick the answer's sentence
    better, but they also rank a passage that repeats the question's words in every
    sentence below one that names them once: re-ranking leaves them out
    (:data:`LOCAL_FEATURES`)."""
    named = [term for term in question.terms
             if any(name in term or term in name for name in question.specifics)]
    terms = {term: weight for term, weight in question.terms.items() if term not in named}
    pairs_asked = [pair for pair in question.bigrams
                   if not any(pair in name for name in (*named, *question.specifics))]
    for members in by_passage.values():
        texts = [folded for _, folded in members]
        words = locally_weighted({term: [question.holds(text, term) for text in texts]
                                  for term in terms}, terms, len(texts))
        pairs = locally_weighted({pair: [pair in text for text in texts]
                                  for pair in pairs_asked}, dict.fromkeys(pairs_asked, 1.0),
                                 len(texts))
        best = max(words)
        for i, (sentence, _) in enumerate(members):
            sentence.features.update({
                "local_coverage": words[i],
                "local_best": 1.0 if 0 < words[i] >= best else 0.0,
                "local_pairs": pairs[i],
            })


def locally_weighted(held: dict[str, list[bool]], weights: dict[str, float],
                     count: int) -> list[float]:
    """For each of ``count`` texts, its share of the keys' weight: ``held[key][i]`` says
    whether text ``i`` holds a key, whose weight ``weights[key]`` is multiplied by
    log(1 + count / the number of texts that hold it)."""
    local = {key: weights[key] * math.log(1 + count / max(1, sum(texts)))
             for key, texts in held.items()}
    total = sum(local.values())
    if not total:
        return [0.0] * count
    return [sum(w for key, w in local.items() if held[key][i]) / total for i in range(count)]


def _dense(found: list[Sentence], sentence_cosines: dict[tuple[str, int], float],
           passage_cosines: dict[str, float]) -> None:
    """The features read from the build-time vectors."""
    cos_s = np.array([sentence_cosines.get((s.passage.passage_id, s.start), 0.0)
                      for s in found], dtype=np.float64)
    cos_p = np.array([passage_cosines.get(s.passage.passage_id, 0.0) for s in found],
                     dtype=np.float64)
    order = np.argsort(-cos_s, kind="stable")
    rank = np.empty(len(found))
    rank[order] = np.arange(len(found))
    best_s, best_p = float(cos_s.max()), float(cos_p.max())
    runner_up = float(cos_s[order[1]]) if len(found) > 1 else best_s - 0.05
    best_of: dict[str, float] = {}
    for sentence, value in zip(found, cos_s, strict=True):
        pid = sentence.passage.passage_id
        best_of[pid] = max(best_of.get(pid, -1.0), float(value))
    # The best neighbour in the same passage: a sentence may answer what the one before
    # or after it introduces.
    context = np.full(len(found), -1.0)
    for i in range(len(found)):
        for j in (i - 1, i + 1):
            if 0 <= j < len(found) and found[j].passage is found[i].passage:
                context[i] = max(context[i], cos_s[j])
    context = np.where(context < 0, cos_s, context)
    for i, sentence in enumerate(found):
        vector_rank = sentence.hit.scores.get("vector_rank")
        keyword_rank = sentence.hit.scores.get("keyword_rank")
        sentence.features.update({
            "cos_s": float(cos_s[i]),
            "cos_s_gap": float(cos_s[i]) - best_s,
            "cos_s_rank": math.log1p(rank[i]),
            "cos_p": float(cos_p[i]),
            "cos_p_gap": float(cos_p[i]) - best_p,
            "vec_rank": math.log(vector_rank if vector_rank is not None else ABSENT_RANK),
            "agree": 1.0 if vector_rank is not None and keyword_rank is not None else 0.0,
            "best_in_passage": 1.0 if cos_s[i] >= best_of[sentence.passage.passage_id] else 0.0,
            "best_cos": best_s,
            "margin": best_s - runner_up,
            "cos_context": float(context[i]) - best_s,
        })


def matrix(found: list[Sentence], names: Sequence[str]) -> np.ndarray:
    """The candidates' features as a (candidates × names) array (absent features: 0)."""
    return np.array([[s.features.get(name, 0.0) for name in names] for s in found],
                    dtype=np.float64).reshape(len(found), len(names))


def of_the_place_asked(found: list[Sentence]) -> list[Sentence]:
    """The candidates (best first) whose report is of the place the question asks of
    (``place_own``: :func:`indexer.answer.places.is_of_the_place_asked`), in their order;
    all of them when none is, or when the best one's passage names the places asked
    itself (``place_named``: 中國古代四大水利工程分別是都江堰…和哪一個? is answered from the
    passage that names 都江堰 among the four, not from an article on 都江堰). "这个县的中专
    有什么特色专业?" is answered from the county's report, not refused because a sentence
    of 吴中's (a district's) ranks first."""
    if not found or found[0].features.get("place_named"):
        return found
    kept = [sentence for sentence in found if sentence.features.get("place_own")]
    return kept or found


def answered_from(found: list[Sentence]) -> list[Sentence]:
    """The candidates (best first) an answer is taken from, in their order: those of a
    report of the place asked (:func:`of_the_place_asked`), then, among them, those that
    speak of the school asked (:func:`indexer.answer.schools.of_the_school_asked`)."""
    return of_the_school_asked(of_the_place_asked(found))
