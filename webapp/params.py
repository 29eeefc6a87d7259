"""Request arguments, parsed and validated the same way for the pages and the API.

Each function raises :class:`~webapp.errors.BadRequest` with one sentence that says
what was wrong and what is allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import current_app
from werkzeug.datastructures import MultiDict

from indexer.retrieve.hits import Filters
from webapp.config import setting
from webapp.errors import BadRequest

FILTERS = ("doc", "year", "region")
MAX_FILTER_CHARS = 200
WHOLE_NUMBER = re.compile(r"-?[0-9]+")  # ASCII digits only: not " 5", "+5", "1_0" or "٥"


@dataclass
class SearchArgs:
    """A validated search request."""

    q: str
    mode: str = "keyword"
    k: int = 10
    page: int = 1
    filters: dict[str, list[str]] = field(default_factory=dict)

    def engine_filters(self) -> Filters:
        return Filters(doc=list(self.filters.get("doc", [])),
                       year=list(self.filters.get("year", [])),
                       region=list(self.filters.get("region", [])))


def query_text(raw: str | None, what: str = "query") -> str:
    """A non-empty query of at most ``web_max_query_chars`` characters (as sent)."""
    raw = raw or ""
    limit = setting(current_app, "web_max_query_chars")
    if len(raw) > limit:  # measured before stripping, as the API description says
        raise BadRequest(f"the {what} is {len(raw)} characters long; the limit is {limit}")
    text = raw.strip()
    if not text:
        raise BadRequest(f"the {what} is empty: type what you are looking for")
    return text


def mode(raw: str | None, default: str | None = "keyword") -> str | None:
    """One of the engine's modes; ``default`` when not given or empty."""
    from indexer.retrieve.engine import MODES

    if not raw:
        return default
    if raw not in MODES:
        raise BadRequest(f"mode must be one of {', '.join(MODES)}, not {raw!r}")
    return raw


def bounded_int(raw: str | None, name: str, default: int, high: int) -> int:
    """A whole number from 1 to ``high``; ``default`` when not given or empty."""
    if raw is None or raw == "":
        return default
    if not WHOLE_NUMBER.fullmatch(raw):
        raise BadRequest(f"{name} must be a whole number from 1 to {high}, not {raw!r}")
    digits = raw.lstrip("-").lstrip("0") or "0"
    # Too many digits is out of range, and is not read (int() refuses over 4300 digits).
    value = -1 if raw.startswith("-") or len(digits) > 9 else int(digits)
    if not 1 <= value <= high:
        shown = raw if len(raw) <= 20 else f"{raw[:20]}…"
        raise BadRequest(f"{name} must be a whole number from 1 to {high}, not {shown}")
    return value


def once(args: MultiDict, *names: str) -> None:
    """Refuse a parameter given more than once (which one would count is a guess)."""
    for name in names:
        if len(args.getlist(name)) > 1:
            raise BadRequest(f"{name} is given {len(args.getlist(name))} times; give it once")


def search_args(args: MultiDict) -> SearchArgs:
    """Validate ``q``, ``mode``, ``k``, ``page`` and the doc/year/region filters."""
    app = current_app
    once(args, "q", "mode", "k", "page")
    filters = {}
    for name in FILTERS:
        if any(len(v) > MAX_FILTER_CHARS for v in args.getlist(name)):
            raise BadRequest(f"a {name} filter is longer than {MAX_FILTER_CHARS} characters")
        values = [v.strip() for v in args.getlist(name) if v.strip()]
        if values:
            filters[name] = values
    return SearchArgs(
        q=query_text(args.get("q")),
        mode=mode(args.get("mode")),
        k=bounded_int(args.get("k"), "k", setting(app, "web_page_size"),
                      setting(app, "web_max_k")),
        page=bounded_int(args.get("page"), "page", 1, setting(app, "web_max_page")),
        filters=filters,
    )


def highlight_span(raw: str | None, length: int) -> tuple[int, int] | None:
    """``hl=START-END``: character offsets inside a document of ``length`` characters."""
    if raw is None or raw == "":
        return None
    start_text, sep, end_text = raw.partition("-")
    try:
        start, end = int(start_text), int(end_text)
    except ValueError:
        start = end = -1
    if not sep or not 0 <= start < end <= length:
        raise BadRequest(f"hl must be START-END character offsets with "
                         f"0 ≤ START < END ≤ {length}, not {raw!r}")
    return start, end


@dataclass
class AskArgs:
    """A validated question; ``mode`` None lets the service choose."""

    q: str
    mode: str | None = None


def ask_args(values: MultiDict | dict) -> AskArgs:
    """Validate ``q`` and ``mode`` of a question (query string or JSON body)."""
    if isinstance(values, MultiDict):
        once(values, "q", "mode")
    raw_q, raw_mode = values.get("q"), values.get("mode")
    if raw_q is not None and not isinstance(raw_q, str):
        raise BadRequest("q must be a string")
    if raw_mode is not None and not isinstance(raw_mode, str):
        raise BadRequest("mode must be a string")
    return AskArgs(q=query_text(raw_q, "question"), mode=mode(raw_mode, None))
