"""Split a cleaned document into sentence-aligned passages that keep their place.

Every non-empty line of the text is a paragraph, numbered from 1 as the document view
numbers them. Heading lines (``篇一`` ``一、`` ``（一）`` ``1.`` ``一是`` …) build the section
path; a paragraph that opens with a heading sentence (``1.深入推进德育工作。以……``) both
names a section and carries text. Passages never cross a section boundary, never cut a
sentence, and satisfy ``document.text[start:end] == passage.text``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from indexer import settings
from indexer.records import Document, Passage

CN_NUM = "一二三四五六七八九十百零〇两"

# (level, pattern) — a lower level is a larger unit; 篇 starts a new piece of the report.
HEADING_PATTERNS: list[tuple[int, re.Pattern[str]]] = [
    (0, re.compile(rf"^篇[{CN_NUM}]+\s*[:：、.．]?")),
    (0, re.compile(rf"^第[{CN_NUM}\d]+[部篇章]分?\s*")),
    (1, re.compile(rf"^[{CN_NUM}]+\s*[、.．]")),
    (2, re.compile(rf"^[（(]\s*[{CN_NUM}]+\s*[）)]")),
    (3, re.compile(r"^\d{1,2}\s*(?:[、．]|\.(?!\d))")),
    (4, re.compile(r"^[（(]\s*\d{1,2}\s*[）)]")),
    (5, re.compile(rf"^[{CN_NUM}]+是")),
]
# A heading line is short; a longer line only opens with its heading sentence.
HEADING_MAX_CHARS = 40
SENTENCE_END = re.compile(r"[^。！？；!?;]*(?:[。！？；!?;]+[”’」』）)]*|$)")
HEADING_SENTENCE_END = re.compile(r"[。：:！？；]")
CLAUSE_END = re.compile(r"[，,、]")
INNER_SENTENCE_END = re.compile(r"[。！？；!?;]")
# A year a heading names ("2016年工作总结"), not the end of a range ("2011-2020年").
HEADING_YEAR = re.compile(r"(?<![\d\-–—~～至到])((?:19|20)\d{2})\s*年")


@dataclass
class Paragraph:
    """One non-empty line: where it is, its number, and the section it sits in."""

    number: int
    start: int
    end: int
    section_path: list[str]
    is_heading: bool


def heading_level(line: str) -> int | None:
    """The heading level a line opens with, or None for body text."""
    for level, pattern in HEADING_PATTERNS:
        if pattern.match(line):
            return level
    return None


def heading_marker_end(line: str) -> int:
    """Where the heading marker a line opens with (一、 （三） 3. 四是 …) ends; 0 without one."""
    return max((m.end() for _, p in HEADING_PATTERNS if (m := p.match(line))), default=0)


def heading_title(line: str) -> str:
    """The heading text of a line: the whole line, or its first sentence when it runs on.

    A first sentence that is itself long ("1、春節期間,各村群眾組織了……") is a list item,
    not a heading: its first clause names it.
    """
    stripped = line.strip()
    if is_pure_heading(stripped):
        return stripped.rstrip("。：:")
    match = HEADING_SENTENCE_END.search(stripped)
    if match and match.start() <= HEADING_MAX_CHARS:
        return stripped[: match.start()]
    clause = CLAUSE_END.search(stripped, heading_marker_end(stripped))
    if clause and clause.start() <= HEADING_MAX_CHARS:
        return stripped[: clause.start()]
    return stripped[:HEADING_MAX_CHARS] + "…"


def is_pure_heading(line: str) -> bool:
    """A short line that is only its heading: no sentence ends inside it.

    "(二)高考取得突破性成果。文理科本二以上達線率首次突破50%,增幅列大市第一。" is short but
    carries a sentence after its heading: it is body text too, never dropped.
    """
    return (len(line) <= HEADING_MAX_CHARS
            and not INNER_SENTENCE_END.search(line.rstrip("。！？；!?;")))


def section_year(section_path: list[str], default: str | None) -> str | None:
    """The year the deepest heading naming exactly one year names, else ``default``.

    "一、2016年工作总结" and "二、2017年工作打算" date their passages inside a report
    that covers 2016-2017; a heading naming two years dates nothing.
    """
    for heading in reversed(section_path):
        years = set(HEADING_YEAR.findall(heading))
        if len(years) == 1:
            return years.pop()
    return default


def paragraphs(text: str) -> Iterator[Paragraph]:
    """Number the non-empty lines of ``text`` and give each its section path."""
    stack: list[tuple[int, str]] = []
    number = 0
    offset = 0
    for line in text.splitlines(keepends=True):
        line_start, offset = offset, offset + len(line)
        body = line.rstrip("\r\n")
        stripped = body.strip()
        if not stripped:
            continue
        number += 1
        lead = len(body) - len(body.lstrip())
        start = line_start + lead
        end = start + len(stripped)
        level = heading_level(stripped)
        if level is not None:
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading_title(stripped)))
        is_heading = level is not None and is_pure_heading(stripped)
        yield Paragraph(number, start, end, [title for _, title in stack], is_heading)


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]``, ending at 。！？； (closing quotes kept)."""
    spans = []
    for match in SENTENCE_END.finditer(text, start, end):
        if match.end() > match.start():
            spans.append((match.start(), match.end()))
    return spans


def _split_long(span: tuple[int, int], text: str, maximum: int) -> list[tuple[int, int]]:
    """A sentence longer than ``maximum`` (a table row, a run-on clause list) is cut at
    clause marks, else at ``maximum``: a passage must fit the embedding model's window."""
    start, end = span
    if end - start <= maximum:
        return [span]
    pieces: list[tuple[int, int]] = []
    while end - start > maximum:
        window = text[start:start + maximum]
        cut = max(window.rfind(mark) for mark in "，,、：:）) ")
        cut = start + cut + 1 if cut > maximum // 3 else start + maximum
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def _pack(sentences: list[tuple[int, int]], target: int, maximum: int,
          minimum: int) -> list[tuple[int, int]]:
    """Group consecutive sentences into chunks near ``target`` characters."""
    chunks: list[tuple[int, int]] = []
    for s_start, s_end in sentences:
        if chunks:
            c_start, c_end = chunks[-1]
            grown = s_end - c_start
            if c_end - c_start < target and grown <= maximum:
                chunks[-1] = (c_start, s_end)
                continue
        chunks.append((s_start, s_end))
    if len(chunks) > 1 and chunks[-1][1] - chunks[-1][0] < minimum:
        last = chunks.pop()
        chunks[-1] = (chunks[-1][0], last[1])
    return chunks


def passage_id(doc_id: str, section: str, text: str, seen: dict[str, int]) -> str:
    """A stable id: the document id and a hash of the passage's section and text."""
    # surrogatepass: a lone surrogate (broken input) hashes instead of raising; other
    # text encodes exactly as UTF-8, so ids do not change.
    digest = hashlib.sha1(f"{section}\n{text}".encode("utf-8", "surrogatepass")).hexdigest()[:10]
    key = f"{doc_id}-{digest}"
    seen[key] = seen.get(key, 0) + 1
    return key if seen[key] == 1 else f"{key}-{seen[key]}"


def split_passages(document: Document, target: int | None = None,
                   maximum: int | None = None, minimum: int | None = None) -> list[Passage]:
    """Cut a document into passages: sentence-aligned, within one section, with offsets."""
    target = target or settings.get("passage_target_chars")
    maximum = maximum or settings.get("passage_max_chars")
    minimum = minimum or settings.get("passage_min_chars")
    text = document.text

    # Body paragraphs of one section are packed together; a heading line only names them.
    groups: list[tuple[list[str], list[Paragraph]]] = []
    for paragraph in paragraphs(text):
        if paragraph.is_heading:
            continue
        if groups and groups[-1][0] == paragraph.section_path:
            groups[-1][1].append(paragraph)
        else:
            groups.append((paragraph.section_path, [paragraph]))

    passages: list[Passage] = []
    seen: dict[str, int] = {}
    for section_path, members in groups:
        for start, end, number in _section_chunks(text, members, target, maximum, minimum):
            chunk = text[start:end]
            section = " › ".join(section_path)
            passages.append(Passage(
                passage_id=passage_id(document.doc_id, section, chunk, seen),
                doc_id=document.doc_id,
                section_path=list(section_path),
                paragraph_no=number,
                start=start,
                end=end,
                text=chunk,
                garbled=any(s < end and start < e for s, e in document.garbled_spans),
                year=section_year(section_path, document.year),
            ))
    return passages


def _section_chunks(text: str, members: list[Paragraph], target: int, maximum: int,
                    minimum: int) -> Iterator[tuple[int, int, int]]:
    """Chunks of one section's paragraphs: long ones split, tiny ones merged forward."""
    pending: Paragraph | None = None  # a tiny paragraph waiting to join the next one
    for index, paragraph in enumerate(members):
        start = pending.start if pending else paragraph.start
        number = pending.number if pending else paragraph.number
        is_last = index == len(members) - 1
        if paragraph.end - start < minimum and not is_last:
            pending = pending or paragraph
            continue
        pending = None
        if paragraph.end - start <= maximum:
            yield start, paragraph.end, number
            continue
        sentences = [piece for span in sentence_spans(text, paragraph.start, paragraph.end)
                     for piece in _split_long(span, text, maximum)]
        if start < paragraph.start:  # a merged tiny paragraph leads the first chunk
            sentences[0] = (start, sentences[0][1])
        for c_start, c_end in _pack(sentences, target, maximum, minimum):
            yield c_start, c_end, number
