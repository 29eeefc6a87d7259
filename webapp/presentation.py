"""What the search page shows around a search result: links, pages and suggestions.

Pure functions of the API's search JSON and the validated request, so the page adds
navigation but never different data.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

from flask import current_app, url_for
from markupsafe import Markup

from webapp.config import setting
from webapp.params import FILTERS, SearchArgs

MODE_LABELS = {"keyword": "关键词", "semantic": "语义", "hybrid": "混合"}
FACET_LABELS = {"doc": "文档", "year": "年份", "region": "地区"}
SCORE_LABELS = {
    "keyword_rank": "关键词排名", "keyword_score": "关键词得分 (BM25F)",
    "vector_rank": "语义排名", "vector_score": "语义相似度 (余弦)",
    "fused_score": "融合得分", "fused": "融合得分",
}


@dataclass
class Link:
    """A labelled link; ``current`` marks the page or filter in force."""

    label: str
    url: str
    count: int | None = None
    current: bool = False


@dataclass
class SearchView:
    """Navigation around one page of hits."""

    facets: dict[str, list[Link]] = field(default_factory=dict)
    active: list[Link] = field(default_factory=list)
    pages: list[Link] = field(default_factory=list)
    previous: str | None = None
    next: str | None = None
    suggestions: list[Link] = field(default_factory=list)
    first_rank: int = 0
    last_rank: int = 0


def search_url(args: SearchArgs, **changes: Any) -> str:
    """The search page for ``args`` with some of its fields changed."""
    state = replace(args, **changes)
    values: dict[str, Any] = {"q": state.q}
    if state.mode != "keyword":
        values["mode"] = state.mode
    if state.k != setting(current_app, "web_page_size"):
        values["k"] = state.k
    if state.page != 1:
        values["page"] = state.page
    for name in FILTERS:
        if state.filters.get(name):
            values[name] = state.filters[name]
    return url_for("pages.search", **values)


def _with_filter(args: SearchArgs, name: str, value: str, on: bool) -> str:
    filters = {key: list(values) for key, values in args.filters.items()}
    chosen = [v for v in filters.get(name, []) if v != value]
    if on:
        chosen.append(value)
    filters[name] = chosen
    return search_url(args, filters=filters, page=1)


def search_view(data: dict[str, Any], args: SearchArgs) -> SearchView:
    """Facet links, active filters, page links and, with no hits, suggestions."""
    from webapp.services import service

    view = SearchView()
    for name in FILTERS:
        chosen = args.filters.get(name, [])
        links = []
        for value, count in data["facets"].get(name, {}).items():
            label = service().title(value) if name == "doc" else value
            links.append(Link(label, _with_filter(args, name, value, value not in chosen),
                              count, value in chosen))
        view.facets[name] = links
        for value in chosen:
            label = service().title(value) if name == "doc" else value
            view.active.append(Link(f"{FACET_LABELS[name]}：{label}",
                                    _with_filter(args, name, value, False)))
    last = math.ceil(data["total"] / args.k)
    if data["mode"] != "keyword" and len(data["hits"]) == args.k:
        last = args.page + 1  # ranked by similarity: there is always a next page to rank
    last = min(last, setting(current_app, "web_max_page"))
    if last > 1:
        window = sorted({1, last, *range(max(1, args.page - 2), min(last, args.page + 2) + 1)})
        view.pages = [Link(str(n), search_url(args, page=n), current=n == args.page)
                      for n in window]
        view.previous = search_url(args, page=args.page - 1) if args.page > 1 else None
        view.next = search_url(args, page=args.page + 1) if args.page < last else None
    if data["hits"]:
        view.first_rank = data["hits"][0]["rank"]
        view.last_rank = data["hits"][-1]["rank"]
    elif data["total"] == 0:
        view.suggestions = suggestions(args)
    return view


def suggestions(args: SearchArgs) -> list[Link]:
    """Other ways to ask when nothing matched: other script, no filters, other mode."""
    found = []
    spelled = other_script(args.q)
    if spelled != args.q:
        found.append(Link(f"换一种写法：{spelled}", search_url(args, q=spelled, page=1)))
    if args.filters:
        found.append(Link("去掉所有筛选条件", search_url(args, filters={}, page=1)))
    for mode, label in MODE_LABELS.items():
        if mode != args.mode and mode != "hybrid":
            found.append(Link(f"改用{label}搜索", search_url(args, mode=mode, page=1)))
    return found


@functools.cache
def _converter(config: str):
    import opencc

    return opencc.OpenCC(config)


def other_script(text: str) -> str:
    """``text`` in the other script: traditional → simplified, else simplified → traditional."""
    simplified = _converter("t2s").convert(text)
    if simplified != text:
        return simplified
    return _converter("s2t").convert(text)


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
class CitationGroup:
    """The citations of one passage (one ``n``): where it is and what is quoted."""

    n: int
    title: str
    section: str
    paragraph_no: int
    quotes: list[tuple[str, str]] = field(default_factory=list)  # (quote, url)
    copy_text: str = ""


@dataclass
class AnswerView:
    """The answer text cut at its markers, and the citation list."""

    parts: list[tuple[str, Marker | None]] = field(default_factory=list)
    citations: list[CitationGroup] = field(default_factory=list)


def citation_text(citation: dict[str, Any]) -> str:
    """How a citation is copied: ``《title》section 第N段``."""
    title = citation.get("title") or citation["doc_id"]
    section = f"{citation['section']} " if citation.get("section") else ""
    return f"《{title}》{section}第{citation['paragraph_no']}段"


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


def answer_view(data: dict[str, Any]) -> AnswerView:
    """Pair each ``[n]`` of the answer with its citation and group citations by ``n``."""
    view = AnswerView()
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
                citation["n"], citation.get("title") or citation["doc_id"],
                citation.get("section") or "", citation["paragraph_no"],
                copy_text=citation_text(citation))
        group.quotes.append((citation["quote"], citation["url"]))
    view.citations = list(groups.values())
    return view
