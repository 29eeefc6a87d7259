"""The document view's text: numbered paragraphs cut into pieces at passage boundaries.

A passage may start inside a paragraph or run over several, so each paragraph is cut
at every passage boundary (and at the edges of a highlighted span); every piece knows
its passage, the first piece of a passage carries the passage id as its anchor, and
the pieces inside the highlighted span are marked; so are the garbled ones (the text the
cleaner could not recover, ``indexer.ingest.clean.garbled_spans``).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Piece:
    """A run of text inside one paragraph and one passage."""

    text: str
    passage_id: str | None = None
    anchor: bool = False
    marked: bool = False
    first_mark: bool = False
    garbled: bool = False


@dataclass
class ParagraphView:
    """One numbered paragraph (non-empty line) of the document."""

    number: int
    heading: bool
    depth: int
    pieces: list[Piece] = field(default_factory=list)


def paragraph_views(text: str, passages: list[dict[str, Any]],
                    span: tuple[int, int] | None = None) -> list[ParagraphView]:
    """Cut ``text`` into numbered paragraphs of passage pieces, marking ``span``."""
    from indexer.ingest.clean import garbled_spans
    from indexer.ingest.segment import paragraphs

    garbled = garbled_spans(text)
    ordered = sorted(passages, key=lambda p: p["start"])
    starts = [p["start"] for p in ordered]
    anchored: set[str] = set()
    mark_started = False
    views = []
    for paragraph in paragraphs(text):
        cuts = {paragraph.start, paragraph.end}
        for passage in ordered:
            for offset in (passage["start"], passage["end"]):
                if paragraph.start < offset < paragraph.end:
                    cuts.add(offset)
        if span:
            cuts.update(o for o in span if paragraph.start < o < paragraph.end)
        cuts.update(o for lost in garbled for o in lost if paragraph.start < o < paragraph.end)
        edges = sorted(cuts)
        view = ParagraphView(paragraph.number, paragraph.is_heading,
                             max(len(paragraph.section_path) - 1, 0))
        for begin, end in zip(edges, edges[1:], strict=False):
            index = bisect_right(starts, begin) - 1
            passage = ordered[index] if index >= 0 and begin < ordered[index]["end"] else None
            pid = passage["passage_id"] if passage else None
            piece = Piece(text[begin:end], pid,
                          garbled=any(s <= begin and end <= e for s, e in garbled))
            if pid and pid not in anchored:
                piece.anchor = True
                anchored.add(pid)
            if span and span[0] <= begin and end <= span[1]:
                piece.marked = True
                piece.first_mark = not mark_started
                mark_started = True
            view.pieces.append(piece)
        views.append(view)
    return views


def cited_paragraph(views: list[ParagraphView]) -> int | None:
    """The number of the first paragraph holding highlighted text."""
    return next((view.number for view in views if any(p.marked for p in view.pieces)), None)


def outline_trail(outline: list[dict[str, Any]], paragraph_no: int | None) -> set[int]:
    """Indexes of the outline entries whose sections contain paragraph ``paragraph_no``."""
    if paragraph_no is None:
        return set()
    stack: list[tuple[int, int]] = []  # (depth, index)
    for index, entry in enumerate(outline):
        if entry["paragraph_no"] > paragraph_no:
            break
        while stack and stack[-1][0] >= entry["depth"]:
            stack.pop()
        stack.append((entry["depth"], index))
    return {index for _, index in stack}
