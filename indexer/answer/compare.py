"""Compare what each report says: one answer per document, region or year.

Each group is answered on its own, from its own passages only (the engine's search under
the group's filter, as :meth:`Engine.ask` retrieves), so a group's answer can only quote
that group. Its candidate sentences are ranked by the answer model, as for a question;
but whether the group *addresses* the question at all is decided differently. The answer
model's answerability is calibrated for "is this the answer, in the whole corpus", and
within one report it separates the reports that address a question from those that do
not poorly (ROC AUC 0.67 on ``bench/compare``); the share of the question's character
bigrams the best sentence holds does it well (0.95), with the weighted coverage of the
question's words (0.92). So a group counts as addressing the question when its best
sentence reaches ``compare_min_overlap`` and ``compare_min_coverage``; otherwise it is
``answerable: false`` with no answer, never the nearest unrelated sentence. Comparisons
are extractive: the optional generated answer is not used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from indexer import settings
from indexer.errors import BadRequest
from indexer.retrieve.hits import Filters

if TYPE_CHECKING:
    from indexer.answer.extract import Answer, Sentence
    from indexer.retrieve.engine import Engine, Generation
    from indexer.retrieve.hits import Hit
    from indexer.store.catalog import Catalog

BY = ("doc", "region", "year")
UNKNOWN_REGION = "地区不详"
UNKNOWN_YEAR = "年份不详"


@dataclass
class Group:
    """What one row of a comparison covers: a key, a label and the filter that selects it.

    ``key`` is a document id, a region or a year; None for the documents that name no
    region (or year).
    """

    key: str | None
    label: str
    filters: Filters


@dataclass
class GroupAnswer:
    """One group's answer; ``answer`` is None when nothing in the group answers."""

    group: Group
    answer: Answer | None


@dataclass
class Comparison:
    """A question answered once per group, groups in a stable order."""

    question: str
    by: str
    mode: str
    groups: list[GroupAnswer] = field(default_factory=list)


def groups(catalog: Catalog, by: str) -> list[Group]:
    """Every document, region or year of the catalog as a group, in a stable order.

    Documents keep catalog (corpus file) order; regions and years are sorted, and the
    documents naming none come last as one group. A year is a passage's (its section's,
    else its report's), so a 2016-2017 report counts under both years.
    """
    from indexer.retrieve.protocol import UNKNOWN, passage_years

    if by not in BY:
        raise BadRequest(f"unknown grouping {by!r}: use one of {', '.join(BY)}")
    if by == "doc":
        return [Group(doc_id, document.title or doc_id, Filters(doc=[doc_id]))
                for doc_id, document in catalog.documents.items()]
    if by == "region":
        by_region: dict[str, list[str]] = {}
        nowhere: list[str] = []
        for doc_id, document in catalog.documents.items():
            if document.region:
                by_region.setdefault(document.region, []).append(doc_id)
            else:
                nowhere.append(doc_id)
        found = [Group(region, region, Filters(doc=ids))
                 for region, ids in sorted(by_region.items())]
        return found + ([Group(None, UNKNOWN_REGION, Filters(doc=nowhere))] if nowhere else [])
    years: set[str] = set()
    for passage in catalog.passage_list:
        years.update(passage_years(passage, catalog.documents.get(passage.doc_id)))
    dated = sorted(y for y in years if y != UNKNOWN)
    found = [Group(year, f"{year}年", Filters(year=[year])) for year in dated]
    return found + ([Group(None, UNKNOWN_YEAR, Filters(year=[UNKNOWN]))]
                    if UNKNOWN in years else [])


def compare(engine: Engine, question: str, by: str = "doc", mode: str | None = None,
            generation: Generation | None = None) -> Comparison:
    """Answer ``question`` once for every group of the live (or given) generation.

    Raises BadRequest for an unknown ``by`` or more groups than ``compare_max_groups``
    (each group is one question answered), and what :meth:`Engine.ask` raises.
    """
    generation = generation or engine.generation()
    mode = mode or ("hybrid" if generation.has_vectors else "keyword")
    found = groups(generation.catalog, by)
    limit = settings.get("compare_max_groups")
    if len(found) > limit:
        raise BadRequest(f"the index has {len(found)} groups by {by}; a comparison answers at "
                         f"most {limit} (compare_max_groups): group by region or year")
    comparison = Comparison(question, by, mode)
    for group in found:
        comparison.groups.append(GroupAnswer(group, answer_group(
            engine, generation, question, mode, group.filters)))
    return comparison


def best_sentence(engine: Engine, generation: Generation, question: str, mode: str,
                  filters: Filters) -> tuple[Sentence | None, list[Hit]]:
    """The candidate the answer model ranks first among the passages ``filters`` allow
    (retrieved as :meth:`Engine.ask` retrieves), and those passages' hits."""
    from indexer.answer.extract import keyword_query, score_sentences

    query = keyword_query(question) if mode == "keyword" else question
    hits = engine.search(query, mode=mode, k=settings.get("answer_passages"),
                         filters=filters, generation=generation).hits
    dense = generation.retrievers.get("semantic")  # its sentence vectors, as ask uses them
    vectors = dense if getattr(dense, "has_sentences", False) else None
    scored = score_sentences(question, hits, generation.catalog, vectors)
    return (scored[0] if scored else None), hits


def answer_group(engine: Engine, generation: Generation, question: str, mode: str,
                 filters: Filters) -> Answer | None:
    """The best sentence of the passages ``filters`` allow, cited, when it addresses the
    question (see the module's docstring); None otherwise."""
    from indexer.answer.extract import Answer, cite

    best, hits = best_sentence(engine, generation, question, mode, filters)
    if best is None or not addresses(best.features):
        return None
    citations, text = cite([best], generation.catalog)
    return Answer(question, True, text, citations, list(hits), confidence=best.score)


def addresses(features: dict[str, float], overlap: float | None = None,
              coverage: float | None = None) -> bool:
    """Whether a best sentence, by its features, shows its group addresses the question
    (thresholds: the settings, unless given)."""
    overlap = settings.get("compare_min_overlap") if overlap is None else overlap
    coverage = settings.get("compare_min_coverage") if coverage is None else coverage
    return (features.get("bigram_overlap", 0.0) >= overlap
            and features.get("coverage", 0.0) >= coverage)
