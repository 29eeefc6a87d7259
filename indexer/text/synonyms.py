"""Everyday words read as the words a report writes for them.

People ask about 技校 where a report writes 职业学校, about 周末 where it writes 双休日.
``data/synonyms.txt`` maps each such everyday word to the report's words for it. A
query's report words widen what it finds, never what it must match:

- the keyword side looks for them, weighted by ``keyword_synonym_boost``, only when it
  accepts any of the query's words (a question always does);
- a query's vector is made from its own words followed by them;
- an answer sentence that holds one covers the everyday word it stands for
  (:func:`indexer.answer.question.coverage`).

Nothing here changes what an index holds, so an edit of the table needs no rebuild.
``query_synonyms`` turns it off.
"""

from __future__ import annotations

import functools
import logging

from indexer import settings
from indexer.text.analysis import DATA_DIR, fold, tokens

log = logging.getLogger(__name__)

SYNONYMS_PATH = DATA_DIR / "synonyms.txt"


@functools.cache
def table() -> dict[str, tuple[str, ...]]:
    """Everyday word → the report's words for it, read once per process."""
    entries: dict[str, tuple[str, ...]] = {}
    for number, line in enumerate(SYNONYMS_PATH.read_text(encoding="utf-8").splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) < 2:
            log.warning("%s:%d: %r has no report word; skipped", SYNONYMS_PATH.name, number,
                        words[0])
            continue
        entries[fold(words[0])] = tuple(fold(word) for word in words[1:])
    return entries


def everyday_words(text: str) -> dict[str, tuple[str, ...]]:
    """The table's everyday words that ``text`` uses, with their report words.

    A word of two or more characters counts anywhere in the folded text; a single
    character only as a word of its own (盖 in 盖学校, not in 覆盖).
    """
    return dict(_found(text)) if settings.get("query_synonyms") else {}


def report_words(text: str) -> tuple[str, ...]:
    """The report's words for the everyday words of ``text``, but those it holds itself."""
    folded = fold(text)
    found = (word for report in everyday_words(text).values() for word in report)
    return tuple(dict.fromkeys(word for word in found if word not in folded))


def readings(text: str) -> list[str]:
    """How ``text``'s everyday words were read, for a person: ``["周末→双休日",
    "功课→作业"]`` (only the report's words the text does not hold itself)."""
    added = set(report_words(text))
    folded = fold(text)
    return [f"{word}→{'/'.join(w for w in report if w in added)}"
            for word, report in sorted(everyday_words(text).items(),
                                       key=lambda entry: folded.find(entry[0]))
            if any(w in added for w in report)]


@functools.lru_cache(maxsize=1024)  # one question: its analysis, both sides, the answer step
def _found(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    folded = fold(text)
    words = set(tokens(text)) if any(len(word) == 1 and word in folded for word in table()) \
        else set()
    return tuple((word, report) for word, report in table().items()
                 if (word in folded if len(word) > 1 else word in words))
