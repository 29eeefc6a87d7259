"""The sentences an answer may quote, and the text each is embedded with at build time.

One definition serves the build (sentence vectors), retrieval (a passage's best sentence)
and the answer step (the candidates it scores), so all three see the same sentences.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from indexer.records import Passage

if TYPE_CHECKING:
    from indexer.records import Document

# A sentence shorter than this (characters, without punctuation) says too little to cite;
# a short unpunctuated line is a title, a short numbered one opening its line a heading:
# neither answers. A numbered one inside a line is an item of a running list (…七是….
# 八是为全市中小学校师生免费提供安全桶装饮用水。九是…), and so is one that ends in a
# semicolon (（九）…跨學段交流教師59名;): both answer.
LIST_ITEM_END = "；;"
MIN_SENTENCE_CHARS = 6
TITLE_LINE_CHARS = 30
HEADING_SENTENCE_CHARS = 25
SENTENCE_MARKS = "。！？；!?;”’」』）)"
# Bumped whenever the sentences or their embedded text change (recorded in the manifest).
SENTENCES_VERSION = "sentences-2"


def sentences(passage: Passage) -> list[tuple[int, int]]:
    """Document spans of a passage's answerable sentences: split at sentence and line
    ends, trimmed, without titles and headings (a short numbered sentence that opens its
    line and does not end in a semicolon)."""
    from indexer.ingest.segment import sentence_spans

    spans = []
    text = passage.text
    for start, end in sentence_spans(text, 0, len(text)):
        for match in re.finditer(r"[^\n]+", text[start:end]):
            piece = match.group()
            body = piece.strip()
            size = len(re.sub(r"\W", "", body))
            if size < MIN_SENTENCE_CHARS:
                continue
            if size <= TITLE_LINE_CHARS and body[-1] not in SENTENCE_MARKS:
                continue
            offset = start + match.start() + len(piece) - len(piece.lstrip())
            if size <= HEADING_SENTENCE_CHARS and _heads_a_section(text, offset, body):
                continue
            begin = passage.start + offset
            spans.append((begin, begin + len(body)))
    return spans


def _heads_a_section(text: str, offset: int, body: str) -> bool:
    """Whether the short sentence ``body`` at ``offset`` of ``text`` is a heading: it is
    numbered (:func:`indexer.ingest.segment.heading_level`), opens its line and does not
    end in a semicolon."""
    from indexer.ingest.segment import heading_level

    return (body[-1] not in LIST_ITEM_END
            and not text[text.rfind("\n", 0, offset) + 1:offset].strip()
            and heading_level(body) is not None)


def readable_sentences(passage: Passage, document: Document | None) -> list[tuple[int, int]]:
    """The answerable sentences of a passage that are not garbled: none overlaps a span the
    cleaner could not repair (a passage marked garbled keeps its clean sentences; without
    recorded spans, a garbled passage has none)."""
    spans = document.garbled_spans if document is not None else []
    if passage.garbled and not spans:
        return []
    text = passage.text
    return [(start, end) for start, end in sentences(passage)
            if not any(s < end and start < e for s, e in spans)
            and "\ufffd" not in text[start - passage.start:end - passage.start]]


def embedding_text(document: Document | None, passage: Passage, start: int, end: int) -> str:
    """What a sentence is embedded as: its document's title, then the sentence.

    The title is the name the report is shown by, even one made from its opening line (a
    title of its own is not needed here, unlike in the keyword index): on CMRC 2018 dev,
    leaving such names out took the answer hit rate from 0.76 to 0.64.

    Measured on the own-words train questions: with the title, a question that names its
    city or report (句容…, 吉林…) no longer matches every sentence that happens to name it
    ("改版了句容教育信息网"), and the right sentence ranks first 57% instead of 46%.
    """
    text = passage.text[start - passage.start:end - passage.start]
    title = (document.title or document.region or "") if document is not None else ""
    return f"{title} {text}" if title else text
