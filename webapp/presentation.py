"""What the pages show around a service result: links, pages, suggestions, citations.

Functions of the API's JSON and the validated request, so a page adds navigation and
help but never different data; the help looks up only what it offers (a title, whether
another way to search finds anything). :func:`public_sources` is the one change both
forms share.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from flask import current_app, url_for
from markupsafe import Markup

from webapp.config import setting
from webapp.params import FILTERS, SearchArgs

MODE_LABELS = {"keyword": "关键词", "semantic": "语义", "hybrid": "混合"}
FACET_LABELS = {"doc": "文档", "year": "年份", "region": "地区", "kind": "类型"}
SCORE_LABELS = {
    "keyword_rank": "关键词排名", "keyword_score": "关键词得分 (BM25F)",
    "vector_rank": "语义排名", "vector_score": "语义相似度 (余弦)",
    "fused_score": "融合得分", "fused": "融合得分", "fusion": "融合方式",
    "retrieval_rank": "检索排名 (重排前)", "answer_score": "答案得分 (重排依据)",
}
UNKNOWN = "未知"  # the facet and filter value of a report with no region or year
PAGE_AROUND = 2  # page links shown either side of the current page


@dataclass
class Link:
    """A labelled link; ``current`` marks the page or filter in force; no ``url``: a gap."""

    label: str
    url: str
    count: int | None = None
    current: bool = False


@dataclass
class Chip:
    """A filter in force: its label and the ``drop`` value of the button that removes it."""

    label: str
    drop: str


@dataclass
class SearchView:
    """Navigation around one page of hits.

    The chips that remove a filter are buttons of one form that holds the search once
    (``fields``), not links that each repeat every other filter: that would make the
    page grow with the square of the filters.
    """

    facets: dict[str, list[Link]] = field(default_factory=dict)
    active: list[Chip] = field(default_factory=list)
    fields: list[tuple[str, str]] = field(default_factory=list)
    pages: list[Link] = field(default_factory=list)
    previous: str | None = None
    next: str | None = None
    last_page: int = 1
    past_end: Link | None = None  # the last page, when this page lies past it
    suggestion: Link | None = None  # the library's "did you mean", as a link
    example: Link | None = None  # a Chinese example, for a query in English that found nothing
    suggestions: list[Link] = field(default_factory=list)
    first_rank: int = 0
    last_rank: int = 0


def search_url(args: SearchArgs, **changes: Any) -> str:
    """The search page for ``args`` with some of its fields changed."""
    state = replace(args, **changes)
    values: dict[str, Any] = {"q": state.q}
    if state.mode != "keyword" or state.chosen_mode:
        values["mode"] = state.mode
    if state.k != setting(current_app, "web_page_size"):
        values["k"] = state.k
    if state.page != 1:
        values["page"] = state.page
    for name in FILTERS:
        if state.filters.get(name):
            values[name] = state.filters[name]
    return url_for("pages.search", **values)


def search_fields(args: SearchArgs) -> list[tuple[str, str]]:
    """The search as form fields, each value once, from page 1 (as ``search_url``)."""
    fields = [("q", args.q)]
    if args.mode != "keyword" or args.chosen_mode:
        fields.append(("mode", args.mode))
    if args.k != setting(current_app, "web_page_size"):
        fields.append(("k", str(args.k)))
    fields += [(name, value) for name in FILTERS for value in args.filters.get(name, [])]
    return fields


def _with_filter(args: SearchArgs, name: str, value: str, on: bool) -> str:
    filters = {key: list(values) for key, values in args.filters.items()}
    chosen = [v for v in filters.get(name, []) if v != value]
    if on:
        chosen.append(value)
    filters[name] = chosen
    return search_url(args, filters=filters, page=1)


def facet_values(data: dict[str, Any], name: str) -> dict[str, int]:
    """A facet's counts, with "未知" (the passages of reports with no year or region) last."""
    counts = dict(data["facets"].get(name, {}))
    unknown = counts.pop(UNKNOWN, 0)
    if unknown:
        counts[UNKNOWN] = unknown
    return counts


def page_window(page: int, last: int, around: int = PAGE_AROUND) -> list[int | None]:
    """The page numbers to link: the first, the last and ``around`` either side of
    ``page``; None stands for a run of skipped pages ("…"); one skipped page is shown."""
    wanted = sorted({1, last, *range(max(1, page - around), min(last, page + around) + 1)})
    window: list[int | None] = []
    previous = 0
    for n in wanted:
        if n - previous == 2:
            window.append(n - 1)
        elif n - previous > 2:
            window.append(None)
        window.append(n)
        previous = n
    return window


def search_view(data: dict[str, Any], args: SearchArgs) -> SearchView:
    """Facet links, active filters, page links, the did-you-mean and, with no hits,
    other ways to search."""
    from webapp.services import service

    view = SearchView()
    for name in FILTERS:
        chosen = args.filters.get(name, [])
        links = []
        for value, count in facet_values(data, name).items():
            label = service().title(value) if name == "doc" else value
            links.append(Link(label, _with_filter(args, name, value, value not in chosen),
                              count, value in chosen))
        view.facets[name] = links
        for value in chosen:
            label = service().title(value) if name == "doc" else value
            view.active.append(Chip(f"{FACET_LABELS[name]}：{label}", f"{name}:{value}"))
    if view.active:
        view.fields = search_fields(args)
    last = max(1, math.ceil(data["total"] / args.k))
    if data["mode"] != "keyword" and len(data["hits"]) == args.k:
        last = args.page + 1  # ranked by similarity: there is always a next page to rank
    last = view.last_page = min(last, setting(current_app, "web_max_page"))
    if data["total"] and not data["hits"] and args.page > last:
        view.past_end = Link(f"第 {last} 页", search_url(args, page=last))
    if last > 1:
        view.pages = [Link(str(n), search_url(args, page=n), current=n == args.page)
                      if n else Link("…", "") for n in page_window(args.page, last)]
        if args.page > 1:
            view.previous = search_url(args, page=min(args.page - 1, last))
        view.next = search_url(args, page=args.page + 1) if args.page < last else None
    if data["hits"]:
        view.first_rank = data["hits"][0]["rank"]
        view.last_rank = data["hits"][-1]["rank"]
    if data.get("suggestion"):
        view.suggestion = Link(data["suggestion"],
                               search_url(args, q=data["suggestion"], page=1))
    if data["total"] == 0:
        from webapp.guidance import foreign_example, suggestions

        view.example = foreign_example(args.q)
        view.suggestions = suggestions(args)
    return view


def rank_label(hit: dict[str, Any], mode: str) -> str:
    """Where a hit ranks on each side, for a person: "关键词第1 · 语义第4", and where it
    ranked before the answer model re-ranked it, if that moved it: "重排前第3"."""
    scores = hit.get("scores") or {}
    parts = []
    for side, label in (("keyword", "关键词"), ("vector", "语义")):
        rank = scores.get(f"{side}_rank")
        if rank:
            parts.append(f"{label}第{rank}")
        elif mode == "hybrid":
            parts.append(f"{label}未命中")
    before = scores.get("retrieval_rank")
    if before and before != hit.get("rank"):
        parts.append(f"重排前第{before}")
    return " · ".join(parts) or f"第{hit['rank']}"


_MARK_TAGS = re.compile(r"</?mark>")


def marked(highlight: str | None) -> Markup:
    """A hit's ``highlight`` as HTML: it is escaped text plus ``<mark>`` tags, and is
    escaped again whole if it holds any other markup, so only ``<mark>`` ever passes."""
    text = highlight or ""
    if "<" in _MARK_TAGS.sub("", text) or ">" in _MARK_TAGS.sub("", text):
        return Markup.escape(text)
    return Markup(text)


# -- the answer page ---------------------------------------------------------------------

CONTEXT_CHARS = 60
MARKER = re.compile(r"\[(\d+)\]")


@dataclass
class Marker:
    """An ``[n]`` in the answer, with the quoted sentence in its context for a preview."""

    n: int
    before: str = ""
    quote: str = ""
    after: str = ""
    url: str = ""


@dataclass
class Quote:
    """One quoted sentence: its link to the highlighted place, and how it is copied
    (``copy`` ends where the link goes: the page adds the link as a full address)."""

    text: str
    url: str
    copy: str


@dataclass
class CitationGroup:
    """The citations of one passage (one ``n``): where it is and what is quoted."""

    n: int
    title: str
    section: str
    paragraph_no: int
    quotes: list[Quote] = field(default_factory=list)


@dataclass
class AnswerView:
    """The answer text cut at its markers, the citation list, and help when it is needed."""

    parts: list[tuple[str, Marker | None]] = field(default_factory=list)
    citations: list[CitationGroup] = field(default_factory=list)
    suggestion: Link | None = None  # the question with likely typos corrected
    example: Link | None = None  # a Chinese example, for a question in English
    tips: list[Link] = field(default_factory=list)  # other ways, when there is no answer
    refusal: str | None = None  # why there is no answer, in a reader's words


def citation_text(citation: dict[str, Any], document: dict[str, Any] | None = None) -> str:
    """How a citation is copied, up to its link: ``“quote”——《title》，issuer，date，
    section，第N段。`` (what the document does not record is left out)."""
    document = document or {}
    year = document.get("year")
    parts = [f"《{citation.get('title') or document.get('title') or '（无标题）'}》",
             document.get("issuer"), document.get("published") or (year and f"{year}年"),
             citation.get("section"), f"第{citation['paragraph_no']}段"]
    return f"“{citation['quote']}”——" + "，".join(p for p in parts if p) + "。"


def cited_documents(citations: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The metadata of each cited document (issuer, date), by id."""
    from indexer.serialize import document_summary
    from webapp.services import service

    known = service().generation().catalog.documents
    return {c["doc_id"]: document_summary(known[c["doc_id"]])
            for c in citations if c["doc_id"] in known}


def _marker(citation: dict[str, Any], passages: dict[str, dict[str, Any]]) -> Marker:
    marker = Marker(citation["n"], quote=citation["quote"], url=citation["url"])
    passage = passages.get(citation["passage_id"])
    if passage:
        begin = citation["start"] - passage["start"]
        end = citation["end"] - passage["start"]
        text = passage["text"]
        marker.before = ("…" if begin > CONTEXT_CHARS else "") + \
            text[max(0, begin - CONTEXT_CHARS):begin].lstrip()
        marker.after = text[end:end + CONTEXT_CHARS].rstrip() + \
            ("…" if len(text) - end > CONTEXT_CHARS else "")
    return marker


def answer_view(data: dict[str, Any],
                documents: dict[str, dict[str, Any]] | None = None) -> AnswerView:
    """Pair each ``[n]`` of the answer with its citation and group citations by ``n``;
    ``documents`` (default: looked up) gives each cited report's issuer and date."""
    view = AnswerView()
    if documents is None:
        documents = cited_documents(data["citations"])
    citations = data["citations"]
    passages = {p["passage_id"]: p for p in data["passages"]}
    pieces = MARKER.split(data["answer"])
    numbers = [int(n) for n in pieces[1::2]]
    in_order = numbers == [c["n"] for c in citations]
    by_n: dict[int, dict[str, Any]] = {}
    for citation in citations:
        by_n.setdefault(citation["n"], citation)
    for index, text in enumerate(pieces[0::2]):
        marker = None
        if index < len(numbers):
            n = numbers[index]
            citation = citations[index] if in_order else by_n.get(n)
            marker = _marker(citation, passages) if citation else Marker(n)
        view.parts.append((text, marker))
    groups: dict[int, CitationGroup] = {}
    for citation in citations:
        group = groups.get(citation["n"])
        if group is None:
            group = groups[citation["n"]] = CitationGroup(
                citation["n"], citation.get("title") or "（无标题）",
                citation.get("section") or "", citation["paragraph_no"])
        group.quotes.append(Quote(citation["quote"], citation["url"], citation_text(
            citation, documents.get(citation["doc_id"]))))
    view.citations = list(groups.values())
    if data.get("refused_because"):
        from indexer.answer.extract import REFUSALS

        view.refusal = REFUSALS.get(data["refused_because"])
    return view


# -- documents ---------------------------------------------------------------------------

def public_sources(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a documents, document or passage result) with every document's ``source``
    as a URL or a path under ``corpus_dir``, never a path on the server."""
    from indexer.serialize import public_source
    from webapp.services import service

    known = service().generation().catalog.documents
    root = Path(setting(current_app, "corpus_dir"))
    for summary in [*data.get("documents", []), data.get("document")]:
        if summary and "source" in summary:
            document = known.get(summary["doc_id"])
            summary["source"] = (public_source(document, root) if document
                                 else Path(summary["source"]).name)
    return data
