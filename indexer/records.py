"""The records that flow through the pipeline: raw document → document → passage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SECTION_SEPARATOR = " › "


@dataclass
class RawDocument:
    """Text as read from one source, before any repair.

    ``doc_id`` is set when the source names it (a ``.jsonl`` line's id); otherwise the
    pipeline derives it from the file path. ``meta`` holds what the source format itself
    told us (an HTML ``<title>``, a JSON line's fields).
    """

    source: str
    text: str
    doc_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Skipped:
    """A source that could not be read, with a one-line reason."""

    source: str
    reason: str


@dataclass(kw_only=True)
class ReportMetadata:
    """What a report says of itself (``None`` where it does not say); given by name."""

    title: str | None = None
    issuer: str | None = None
    region: str | None = None
    year: str | None = None
    kind: str | None = None
    published: str | None = None
    # The title is a name made from the text (its opening line), not a title of its own:
    # shown like one, but never searched as one (boosted, it would repeat the text's words).
    title_from_text: bool = False

    @property
    def own_title(self) -> str:
        """The report's own title, or "" when it has none (only a name made from its text)."""
        return "" if self.title_from_text else (self.title or "")


@dataclass
class Document(ReportMetadata):
    """A cleaned report: its text in the original script and what we know about it.

    ``title`` is never empty once ingested (``metadata.display_title``); ``garbled_spans``
    are the runs of characters the damage lost (U+FFFD in ``text``).
    """

    doc_id: str
    source: str
    text: str
    repairs: dict[str, int] = field(default_factory=dict)
    garbled_spans: list[tuple[int, int]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Passage:
    """A sentence-aligned piece of a document: ``document.text[start:end] == text``."""

    passage_id: str
    doc_id: str
    section_path: list[str]
    paragraph_no: int
    start: int
    end: int
    text: str
    garbled: bool = False
    # The year its section heading names ("一、2016年工作总结"), else its document's year.
    year: str | None = None

    @property
    def section(self) -> str:
        return SECTION_SEPARATOR.join(self.section_path)

    def paragraph_at(self, offset: int) -> int:
        """The number of the paragraph holding document offset ``offset`` of this passage.

        A passage that merges short paragraphs runs over several lines; every non-empty
        line is a paragraph (``segment.paragraphs``).
        """
        lines = self.text[:max(0, offset - self.start)].splitlines(keepends=True)
        ended = [line for line in lines if line != line.rstrip("\r\n\v\f\x1c\x1d\x1e"
                                                                "\x85\u2028\u2029")]
        if not ended:
            return self.paragraph_no
        return self.paragraph_no + sum(1 for line in ended[1:] if line.strip()) + 1
