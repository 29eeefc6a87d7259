"""Mark a query's words in a passage: matched on folded text, rendered on the original.

Folding keeps length, so a span found in ``fold(text)`` is the same span of ``text``:
a simplified query marks ``學校建設`` in a traditional passage. Everything outside the
``<mark>`` tags is HTML-escaped; no markup from a document reaches a page unescaped.
"""

from __future__ import annotations

from html import escape

from indexer import settings
from indexer.query import ParsedQuery


def match_spans(text: str, parsed: ParsedQuery) -> list[tuple[int, int]]:
    """Character spans of ``text`` that the query's words and phrases match, merged."""
    from indexer.analysis import fold, policy_analyzer, tokens

    words: set[str] = set()
    phrases: list[str] = []
    for item in parsed.positive_items:
        if item.phrase:
            phrases.append(fold(item.text))
        else:
            words.update(tokens(item.text))
    spans: list[tuple[int, int]] = []
    if words:
        for token in policy_analyzer()(text, chars=True, mode="index", removestops=False):
            if token.text in words:
                spans.append((token.startchar, token.endchar))
    folded = fold(text) if phrases else ""
    for phrase in phrases:
        start = folded.find(phrase)
        while phrase and start != -1:
            spans.append((start, start + len(phrase)))
            start = folded.find(phrase, start + len(phrase))
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
