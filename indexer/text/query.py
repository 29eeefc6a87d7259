"""The query language a user can guess, parsed once for every search mode.

``校车 安全``  both words (space = AND) · ``县管校聘 OR 片区``  either ·
``-培训`` or ``NOT 培训``  exclude · ``"片区合作共同体"``  exact phrase ·
``year:2016 region:句容 doc:<id> kind:工作要点``  filters.
Parsing never raises on odd input: unknown syntax is searched literally.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from indexer.retrieve.hits import Filters

FILTER_FIELDS = {"year": "year", "region": "region", "doc": "doc", "kind": "kind",
                 "年份": "year", "地区": "region", "文档": "doc", "类型": "kind"}
QUOTES = "\"“”「」"
TOKEN = re.compile(
    rf"(?P<neg>-)?(?:(?P<field>[^\s:：{QUOTES}]+)[:：](?P<value>[{QUOTES}][^{QUOTES}]*[{QUOTES}]?|\S+)"
    rf"|[{QUOTES}](?P<phrase>[^{QUOTES}]*)[{QUOTES}]?"
    r"|(?P<word>\S+))"
)




@dataclass(frozen=True)
class Item:
    """A word or an exact phrase the user typed."""

    text: str
    phrase: bool = False


@dataclass
class ParsedQuery:
    """AND of groups, each group an OR of items; minus excluded items; plus filters.

    ``loose`` asks for any of the words instead of all of them (the fallback when the
    AND finds nothing).
    """

    raw: str
    groups: list[list[Item]] = field(default_factory=list)
    excluded: list[Item] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)
    loose: bool = False

    @property
    def can_loosen(self) -> bool:
        """Whether an OR of the query's parts could find more than its AND did."""
        items = self.positive_items
        return not self.loose and (
            len(items) > 1 or any(not item.phrase and len(item.text) > 1 for item in items))

    def loosened(self) -> ParsedQuery:
        """The same query, asking for any of its words."""
        return replace(self, loose=True)

    @property
    def positive_items(self) -> list[Item]:
        return [item for group in self.groups for item in group]

    @property
    def text(self) -> str:
        """The words and phrases to look for, as plain text (for semantic search)."""
        return " ".join(item.text for item in self.positive_items)

    @property
    def report_words(self) -> tuple[str, ...]:
        """The report's words for the everyday words typed (:mod:`indexer.text.synonyms`):
        found when any word will do, never required."""
        from indexer.text.synonyms import report_words

        return report_words(self.text)


def _strip_quotes(value: str) -> str:
    return value.strip(QUOTES)


def parse(raw: str) -> ParsedQuery:
    """Parse a query string; operators that make no sense are taken as words."""
    query = ParsedQuery(raw=raw)
    pending_or = False
    negate_next = False
    for match in TOKEN.finditer(raw.replace("\u3000", " ")):
        negative = bool(match.group("neg")) or negate_next
        negate_next = False
        name = match.group("field")
        if name is not None and name.lower() in FILTER_FIELDS:
            value = _strip_quotes(match.group("value"))
            if value and not negative:
                getattr(query.filters, FILTER_FIELDS[name.lower()]).append(value)
                continue
            item = Item(value) if value else None
        elif name is not None:  # "foo:bar" with an unknown field is a literal word
            item = Item(match.group(0).lstrip("-"))
        elif match.group("phrase") is not None:
            text = match.group("phrase").strip()
            item = Item(text, phrase=True) if text else None
        else:
            word = match.group("word")
            if word in ("OR", "|", "或") and query.groups and not negative:
                pending_or = True
                continue
            if word in ("NOT", "非") and not negative:
                negate_next = True
                continue
            if word in ("AND", "&", "且"):
                continue
            word = word.lstrip("+")
            item = Item(word) if word else None
        if item is None:
            continue
        if negative:
            query.excluded.append(item)
        elif pending_or and query.groups:
            query.groups[-1].append(item)
        else:
            query.groups.append([item])
        pending_or = False
    return query
