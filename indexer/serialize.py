"""The JSON shapes the CLI's ``--json`` and the web API both serve: one serialiser."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.records import Document, Passage, Skipped
from indexer.retrieve.hits import Hit, SearchResult

if TYPE_CHECKING:
    from indexer.answer.compare import Comparison
    from indexer.answer.extract import Answer, Citation
    from indexer.store.build import BuildReport
    from indexer.store.catalog import Catalog


def passage_dict(passage: Passage) -> dict[str, Any]:
    """A passage as the inspect command and the passage API show it."""
    return {
        "passage_id": passage.passage_id,
        "doc_id": passage.doc_id,
        "section": passage.section,
        "section_path": passage.section_path,
        "paragraph_no": passage.paragraph_no,
        "start": passage.start,
        "end": passage.end,
        "text": passage.text,
        "garbled": passage.garbled,
        "year": passage.year,
    }


def document_summary(document: Document) -> dict[str, Any]:
    """A document's metadata, without its text."""
    return {
        "doc_id": document.doc_id,
        "title": document.title,
        "issuer": document.issuer,
        "region": document.region,
        "year": document.year,
        "kind": document.kind,
        "published": document.published,
        "source": document.source,
    }


def public_source(document: Document, root: Path) -> str:
    """Where ``document`` came from, fit to show outside the server.

    The web address its source recorded (a bulk line's ``url`` or ``source_url``), else
    its path relative to ``root`` (the corpus folder), else its file name: never a path
    on the server. (``document_summary`` keeps the path as read, for the CLI.)
    """
    from indexer.references import source_url

    url = source_url(document)  # the one reading of a source's web address
    if url:
        return url
    path = Path(document.source)
    try:
        relative = path.relative_to(root)
    except ValueError:
        return path.name
    return relative.as_posix() if relative.parts else path.name


def document_dict(document: Document, passages: list[Passage],
                  dropped_lines: list[str] | None = None) -> dict[str, Any]:
    """A document with its text, what was repaired, and its passages."""
    data = document_summary(document)
    data["text"] = document.text
    data["repairs"] = dict(document.repairs)
    data["garbled_spans"] = [list(span) for span in document.garbled_spans]
    if dropped_lines is not None:
        data["dropped_lines"] = list(dropped_lines)
    data["paragraphs"] = sum(1 for line in document.text.splitlines() if line.strip())
    data["passages"] = [passage_dict(p) for p in passages]
    return data


def skipped_dict(skipped: Skipped) -> dict[str, str]:
    return {"source": skipped.source, "reason": skipped.reason}


def hit_dict(hit: Hit, catalog: Catalog) -> dict[str, Any]:
    """A search hit with what a reader needs to judge and open it."""
    passage = catalog.passages[hit.passage_id]
    document = catalog.documents[passage.doc_id]
    return {
        "passage_id": passage.passage_id,
        "doc_id": passage.doc_id,
        "title": document.title,
        "section": passage.section,
        "paragraph_no": passage.paragraph_no,
        "start": passage.start,
        "end": passage.end,
        "text": passage.text,
        "highlight": hit.highlight,
        "score": round(hit.score, 6),
        "rank": hit.rank,
        "scores": hit.scores,
    }


def search_dict(result: SearchResult, catalog: Catalog) -> dict[str, Any]:
    """The search response shared by ``indexer search --json`` and ``/api/search``."""
    return {
        "ok": True,
        "query": result.query,
        "mode": result.mode,
        "total": result.total,
        "total_exact": result.total_exact,
        "page": result.page,
        "k": result.k,
        "fallback": result.fallback,
        "message": result.message,
        "suggestion": result.suggestion,
        "hits": [hit_dict(hit, catalog) for hit in result.hits],
        "facets": result.facets,
    }


def build_dict(report: BuildReport) -> dict[str, Any]:
    """What a build or update did."""
    data = asdict(report)
    data["skipped"] = [skipped_dict(s) for s in report.skipped]
    data["seconds"] = round(report.seconds, 3)
    return {"ok": True, **data}


def citation_dict(citation: Citation) -> dict[str, Any]:
    """A citation as the API serves it."""
    return {"n": citation.n, "passage_id": citation.passage_id, "doc_id": citation.doc_id,
            "title": citation.title, "section": citation.section,
            "paragraph_no": citation.paragraph_no, "quote": citation.quote,
            "start": citation.start, "end": citation.end}


def reference_dict(document: Document, accessed: date | None = None) -> dict[str, str]:
    """A report's reference in GB/T 7714-2015, BibTeX and RIS, accessed today by default."""
    from indexer.references import reference

    return reference(document, accessed or date.today())


def cited_dicts(citations: list[Citation], catalog: Catalog,
                accessed: date | None = None, references: bool = True) -> list[dict[str, Any]]:
    """Citations as the API serves them, each with its report's ``reference``."""
    accessed = accessed or date.today()
    found = []
    for citation in citations:
        data = citation_dict(citation)
        document = catalog.documents.get(citation.doc_id)
        if references and document is not None:
            data["reference"] = reference_dict(document, accessed)
        found.append(data)
    return found


def answer_dict(answer: Answer, catalog: Catalog, mode: str | None = None) -> dict[str, Any]:
    """The ask response shared by the CLI's ``--json`` and ``/api/ask``."""
    return {
        "ok": True,
        "question": answer.question,
        "mode": mode,
        "answerable": answer.answerable,
        "answer": answer.text,
        "citations": cited_dicts(answer.citations, catalog),
        "passages": [hit_dict(hit, catalog) for hit in answer.hits
                     if hit.passage_id in catalog.passages],
        "generated": answer.generated,
        "flags": list(answer.flags),
        "read_as": answer.read_as,
        "confidence": None if answer.confidence is None else round(answer.confidence, 3),
        "tentative": answer.tentative,
        "refused_because": answer.refused_because,
    }


def comparison_dict(comparison: Comparison, catalog: Catalog,
                    references: bool = True) -> dict[str, Any]:
    """The compare response shared by ``indexer compare --json`` and ``/api/compare``:
    one group per document, region or year, ``answer`` None where the group says nothing."""
    accessed = date.today()
    groups = []
    for item in comparison.groups:
        answer = item.answer
        groups.append({
            "key": item.group.key,
            "label": item.group.label,
            "answerable": answer is not None,
            "answer": answer.text if answer is not None else None,
            "citations": (cited_dicts(answer.citations, catalog, accessed, references)
                          if answer is not None else []),
        })
    return {"ok": True, "question": comparison.question, "by": comparison.by,
            "mode": comparison.mode, "groups": groups}
