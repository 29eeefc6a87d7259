"""A parsed query as Milvus reads it: BM25 text to rank by, and a boolean expression.

The expression (``ARRAY_CONTAINS`` on the passage's ``terms`` and ``pairs``) keeps the
rules of :class:`indexer.retrieve.keyword.KeywordRetriever`: every group must match
unless the query is loose (then a report word for an everyday word typed will do too);
a dictionary term matches through all its parts; words typed together need all their
parts; a phrase, or a number with its unit, needs its words next to each other (their
pairs); excluded items must not match. Filters become
``doc_id in [...]`` and ``ARRAY_CONTAINS_ANY(years, …)``.
"""

from __future__ import annotations

import itertools
import json

from indexer.errors import NothingToSearch
from indexer.retrieve.hits import Filters
from indexer.retrieve.protocol import allowed_docs, wanted_years
from indexer.text.analysis import parts, positioned_tokens, tokens
from indexer.text.query import Item, ParsedQuery

NOTHING = "doc_id == \"\""  # matches no passage (a filter that allows no document)


def token(word: str) -> str:
    """A word as one token of Milvus's ``standard`` analyzer: as it is when alphanumeric,
    else its UTF-8 bytes in hex after an ``x`` (``34.5`` → ``x33342e35``)."""
    if word.isalnum() and "_" not in word:
        return word.lower()
    return "x" + word.encode("utf-8").hex()


def pair(first: str, second: str) -> str:
    return token(first) + token(second)


def index_fields(*texts: str) -> tuple[str, list[str], list[str]]:
    """The ``words``, ``terms`` and ``pairs`` of a passage's texts (title, section, body)."""
    words: list[str] = []
    terms: dict[str, None] = {}
    pairs: dict[str, None] = {}
    for text in texts:
        if not text:
            continue
        by_position: dict[int, list[str]] = {}
        for position, word in positioned_tokens(text):
            words.append(token(word))
            terms[token(word)] = None
            by_position.setdefault(position, []).append(word)
        for position, here in by_position.items():
            for after in by_position.get(position + 1, ()):
                pairs.update((pair(word, after), None) for word in here)
    return " ".join(words), _kept(terms), _kept(pairs)


def _kept(found: dict[str, None]) -> list[str]:
    from indexer.milvus.schema import MAX_TERM, MAX_TERMS

    return [t for t in found if len(t.encode("utf-8")) <= MAX_TERM][:MAX_TERMS]


def _contains(field: str, value: str) -> str:
    return f'ARRAY_CONTAINS({field}, "{value}")'


def _all(clauses: list[str]) -> str:
    return clauses[0] if len(clauses) == 1 else "(" + " and ".join(clauses) + ")"


def _any(clauses: list[str]) -> str:
    return clauses[0] if len(clauses) == 1 else "(" + " or ".join(clauses) + ")"


def _is_number(word: str) -> bool:
    return word.replace(".", "", 1).replace("%", "").isdigit()


def _word(word: str) -> str:
    """A word: the passage holds it, or (a dictionary term) every one of its parts.
    The index holds a term's parts too, so all the parts are the test."""
    pieces = parts(word)
    return _all([_contains("terms", token(p)) for p in pieces]) if pieces \
        else _contains("terms", token(word))


def _phrase(words: list[str]) -> str:
    return _all([_contains("terms", token(w)) for w in words]
                + [_contains("pairs", pair(a, b)) for a, b in itertools.pairwise(words)])


def _item(item: Item, loose: bool) -> str | None:
    words = tokens(item.text)
    if not words:
        return None
    if len(words) == 1:
        return _word(words[0])
    if loose and not item.phrase:
        return _any([_word(w) for w in words])
    if item.phrase or any(_is_number(w) for w in words):
        return _phrase(words)
    return _all([_word(w) for w in words])


def matching(parsed: ParsedQuery) -> str:
    """The expression of the passages ``parsed`` matches ("" for every passage, when it
    has filters and no words). Raises NothingToSearch when it has nothing to look for."""
    groups = []
    for group in parsed.groups:
        items = [x for x in (_item(item, parsed.loose) for item in group) if x]
        if items:
            groups.append(_any(items))
    if groups:
        positive = _any(groups) if parsed.loose else _all(groups)
        if parsed.loose and parsed.report_words:
            positive = _any([positive, *(_contains("terms", token(word))
                                         for word in parsed.report_words)])
    elif parsed.filters and not parsed.positive_items:
        positive = ""
    else:
        raise NothingToSearch("nothing to search: the query has no words to look for "
                              "(only punctuation, operators or very common words)")
    excluded = [x for x in (_item(item, False) for item in parsed.excluded) if x]
    if excluded:
        negation = f"not {_any(excluded)}"
        positive = f"{positive} and {negation}" if positive else negation
    return positive


def ranking_text(parsed: ParsedQuery) -> str:
    """The BM25 query: every word of the positive items and the parts of each, and for
    a loose query the report's words for its everyday words (at full weight: Milvus's
    BM25 weighs every word of its text alike)."""
    found: list[str] = []
    for item in parsed.positive_items:
        for word in tokens(item.text):
            found.append(token(word))
            found.extend(token(p) for p in parts(word))
    if parsed.loose:
        found.extend(token(word) for word in parsed.report_words)
    return " ".join(dict.fromkeys(found))


def restriction(catalog, filters: Filters | None) -> str:
    """The expression of the filters ("" when they allow every passage)."""
    clauses = []
    allowed = allowed_docs(catalog, filters)
    if allowed is not None:
        clauses.append(f"doc_id in {json.dumps(sorted(allowed), ensure_ascii=False)}"
                       if allowed else NOTHING)
    years = wanted_years(filters)
    if years is not None:
        clauses.append(f"ARRAY_CONTAINS_ANY(years, {json.dumps(sorted(years))})")
    return " and ".join(clauses)


def both(*expressions: str) -> str:
    """The AND of the non-empty expressions."""
    present = [f"({e})" for e in expressions if e]
    return " and ".join(present)
