"""Mark a query's words in a passage: matched on folded text, rendered on the original.

Folding keeps length, so a span found in ``fold(text)`` is the same span of ``text``:
a simplified query marks ``學校建設`` in a traditional passage. Everything outside the
``<mark>`` tags is HTML-escaped; no markup from a document reaches a page unescaped.

Matching is by substring on the folded text, which is fast and finds a word inside a
longer one (教育 in 义务教育). A typed word is marked whole where it occurs whole;
otherwise its parts of two or more characters are marked, and numbers only where they
are not part of a longer number. Single characters alone are not marked: they would
light up half the passage.
"""

from __future__ import annotations

import re
from html import escape

from indexer import settings
from indexer.text.analysis import fold, parts, tokens
from indexer.text.query import ParsedQuery


def _occurrences(folded: str, needle: str) -> list[tuple[int, int]]:
    if needle.replace(".", "").isdigit():
        pattern = rf"(?<![\d.]){re.escape(needle)}(?![\d]|\.\d)"
        return [m.span() for m in re.finditer(pattern, folded)]
    spans, start = [], folded.find(needle)
    while needle and start != -1:
        spans.append((start, start + len(needle)))
        start = folded.find(needle, start + len(needle))
    return spans


def match_spans(text: str, parsed: ParsedQuery) -> list[tuple[int, int]]:
    """Character spans of ``text`` that the query's words and phrases match, merged; for
    a loose query (any word will do) also the report's words for its everyday words,
    which it looked for (:mod:`indexer.text.synonyms`)."""
    folded = fold(text)
    spans: list[tuple[int, int]] = []
    if parsed.loose:
        for word in parsed.report_words:
            spans.extend(_occurrences(folded, word))
    for item in parsed.positive_items:
        whole = fold(item.text).replace(" ", "")
        found = _occurrences(folded, whole) if whole else []
        spans.extend(found)
        if found or item.phrase:
            continue
        for word in tokens(item.text):
            if len(word) >= 2 or word.isdigit():
                found = _occurrences(folded, word)
                spans.extend(found)
                if not found:  # a dictionary term found through its parts
                    for piece in parts(word):
                        spans.extend(_occurrences(folded, piece))
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def render(text: str, spans: list[tuple[int, int]], limit: int | None = None) -> str:
    """Escape ``text`` and wrap each span in ``<mark>``; cut long text around the first span."""
    limit = limit or settings.get("highlight_fragment_chars")
    begin, end = 0, len(text)
    if len(text) > limit:
        first = spans[0][0] if spans else 0
        begin = max(0, min(first - limit // 4, len(text) - limit))
        end = begin + limit
    parts = ["…" if begin > 0 else ""]
    cursor = begin
    for start, stop in spans:
        if stop <= begin or start >= end:
            continue
        start, stop = max(start, begin), min(stop, end)
        parts.append(escape(text[cursor:start]))
        parts.append(f"<mark>{escape(text[start:stop])}</mark>")
        cursor = stop
    parts.append(escape(text[cursor:end]))
    parts.append("…" if end < len(text) else "")
    return "".join(parts)


def highlight(text: str, parsed: ParsedQuery) -> str:
    """The HTML fragment of ``text`` with the query's matches marked."""
    return render(text, match_spans(text, parsed))
