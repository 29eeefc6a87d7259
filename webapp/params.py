"""Request arguments, parsed and validated the same way for the pages and the API.

Each function raises :class:`~webapp.errors.BadRequest` with one sentence that says
what was wrong and what is allowed. Input that is not text is refused here, before it
reaches the engine: an address that is not UTF-8, a JSON string holding a lone surrogate,
a JSON body nested deeper than :data:`MAX_JSON_DEPTH`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import current_app, request
from werkzeug.datastructures import MultiDict

from indexer.retrieve.hits import Filters
from webapp.config import setting
from webapp.errors import BadRequest

FILTERS = ("doc", "year", "region", "kind")
MAX_FILTER_CHARS = 200
MAX_JSON_DEPTH = 20  # a question's body is one object; 20 leaves room for any client
WHOLE_NUMBER = re.compile(r"-?[0-9]+")  # ASCII digits only: not " 5", "+5", "1_0" or "٥"
SURROGATE = re.compile("[\ud800-\udfff]")
# A JSON string (an unclosed one runs to the end) or a bracket: one linear pass.
JSON_TOKEN = re.compile(r'"(?:[^"\\]+|\\.)*"?|[\[\]{}]', re.S)


@dataclass
class SearchArgs:
    """A validated search request."""

    q: str
    mode: str = "keyword"
    k: int = 10
    page: int = 1
    filters: dict[str, list[str]] = field(default_factory=dict)
    chosen_mode: str = ""  # the mode as the user chose it, "" for automatic (the form keeps it)

    def engine_filters(self) -> Filters:
        return Filters(**{name: list(self.filters.get(name, [])) for name in FILTERS})


def shown(raw: str, limit: int = 40) -> str:
    """``raw`` quoted for an error message, cut at ``limit`` characters."""
    return repr(raw) if len(raw) <= limit else f"{raw[:limit]!r}…"


def text(raw: Any, name: str) -> str | None:
    """A text parameter as given (None when absent).

    Raises BadRequest when it is not a string, or when it holds a lone surrogate (JSON's
    ``"\\udc80"``): that is not text, and no tokenizer or encoder takes it.
    """
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise BadRequest(f"{name} must be a string")
    if SURROGATE.search(raw):
        raise BadRequest(f"{name} is not text: it holds a lone surrogate (such as \\udc80); "
                         "send Unicode text")
    return raw


def query_text(raw: str | None, what: str = "query") -> str:
    """A non-empty query of at most ``web_max_query_chars`` characters (as sent)."""
    raw = raw or ""
    limit = setting(current_app, "web_max_query_chars")
    if len(raw) > limit:  # measured before stripping, as the API description says
        raise BadRequest(f"the {what} is {len(raw)} characters long; the limit is {limit}")
    stripped = raw.strip()
    if not stripped:
        raise BadRequest(f"the {what} is empty: type what you are looking for")
    return stripped


def mode(raw: str | None, default: str | None = "keyword") -> str | None:
    """One of the engine's modes; ``default`` when not given or empty."""
    from indexer.retrieve.engine import MODES

    if not raw:
        return default
    if raw not in MODES:
        raise BadRequest(f"mode must be one of {', '.join(MODES)}, not {shown(raw)}")
    return raw


def whole_number(raw: str) -> int | None:
    """``raw`` as a whole number: an optional ``-`` and ASCII digits, nothing else.

    None for what ``int()`` would also take (" 5", "+5", "1_0", "５"). More than 18 digits
    read as ±10**18, out of every range here, without reading thousands of digits.
    """
    if not WHOLE_NUMBER.fullmatch(raw):
        return None
    digits = raw.lstrip("-").lstrip("0") or "0"
    value = int(digits) if len(digits) <= 18 else 10**18
    return -value if raw.startswith("-") else value


def bounded_int(raw: str | None, name: str, default: int, high: int) -> int:
    """A whole number from 1 to ``high``; ``default`` when not given or empty."""
    if raw is None or raw == "":
        return default
    value = whole_number(raw)
    if value is None:
        raise BadRequest(f"{name} must be a whole number from 1 to {high}, not {shown(raw)}")
    if not 1 <= value <= high:
        number = raw if len(raw) <= 20 else f"{raw[:20]}…"
        raise BadRequest(f"{name} must be a whole number from 1 to {high}, not {number}")
    return value


def once(args: MultiDict, *names: str) -> None:
    """Refuse a parameter given more than once (which one would count is a guess)."""
    for name in names:
        if len(args.getlist(name)) > 1:
            raise BadRequest(f"{name} is given {len(args.getlist(name))} times; give it once")


def search_args(args: MultiDict) -> SearchArgs:
    """Validate ``q``, ``mode``, ``k``, ``page`` and the doc/year/region/kind filters.

    At most ``web_max_filter_values`` filter values in all: each is repeated in the links
    of the search page, so the cap bounds the page.
    """
    app = current_app
    once(args, "q", "mode", "k", "page")
    given = sum(len(args.getlist(name)) for name in FILTERS)
    cap = setting(app, "web_max_filter_values")
    if given > cap:
        raise BadRequest(f"{given} filter values are given; the limit is {cap} "
                         f"({', '.join(FILTERS)} together)")
    filters = {}
    for name in FILTERS:
        if any(len(v) > MAX_FILTER_CHARS for v in args.getlist(name)):
            raise BadRequest(f"a {name} filter is longer than {MAX_FILTER_CHARS} characters")
        values = [v.strip() for v in args.getlist(name) if text(v, name).strip()]
        if values:
            filters[name] = values
    q = query_text(text(args.get("q"), "q"))
    chosen = mode(text(args.get("mode"), "mode"), None) or ""
    return SearchArgs(
        q=q,
        mode=chosen or "keyword",
        k=bounded_int(args.get("k"), "k", setting(app, "web_page_size"),
                      setting(app, "web_max_k")),
        page=bounded_int(args.get("page"), "page", 1, setting(app, "web_max_page")),
        filters=filters,
        chosen_mode=chosen,
    )


def without_dropped(args: MultiDict, search: SearchArgs) -> SearchArgs | None:
    """``search`` without the filter named by ``drop=NAME:VALUE`` (a chip of the search
    page), from page 1; None when no filter is dropped."""
    once(args, "drop")
    raw = args.get("drop")
    if not raw:
        return None
    name, sep, value = raw.partition(":")
    if not sep or name not in FILTERS:
        raise BadRequest(f"drop must be NAME:VALUE with NAME one of {', '.join(FILTERS)}, "
                         f"not {shown(raw)}")
    kept = {key: [v for v in values if (key, v) != (name, value.strip())]
            for key, values in search.filters.items()}
    return replace(search, filters={key: values for key, values in kept.items() if values},
                   page=1)


def highlight_span(raw: str | None, length: int) -> tuple[int, int] | None:
    """``hl=START-END``: character offsets inside a document of ``length`` characters,
    read as strictly as ``k`` and ``page``."""
    if raw is None or raw == "":
        return None
    start_text, sep, end_text = raw.partition("-")
    start, end = whole_number(start_text), whole_number(end_text)
    if not sep or start is None or end is None or not 0 <= start < end <= length:
        raise BadRequest(f"hl must be START-END character offsets with "
                         f"0 ≤ START < END ≤ {length}, not {shown(raw)}")
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
    return AskArgs(q=query_text(text(values.get("q"), "q"), "question"),
                   mode=mode(text(values.get("mode"), "mode"), None))


def json_depth(source: str) -> int:
    """How deep the arrays and objects of JSON ``source`` nest (brackets inside strings
    do not count), in one linear pass whatever the text is."""
    depth = deepest = 0
    for match in JSON_TOKEN.finditer(source):
        bracket = match.group()[0]
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif bracket in "]}":
            depth -= 1
    return deepest


def json_object(body: bytes) -> dict[str, Any]:
    """A request body that is one JSON object, in UTF-8, nested at most MAX_JSON_DEPTH deep.

    The depth is checked before parsing: Python's parser recurses, and a body of a
    thousand ``[`` would otherwise end in RecursionError.
    """
    try:
        source = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8 text: send JSON encoded in UTF-8") from None
    if json_depth(source) > MAX_JSON_DEPTH:
        raise BadRequest(f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        value = json.loads(source)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise BadRequest('the body must be a JSON object such as {"q": "..."}')
    return value


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def require_utf8() -> None:
    """Refuse an address whose path or query string is not UTF-8 once %-decoded.

    Werkzeug would read such bytes as other text (``q=%ED%B2%80`` as the nine characters
    ``%ED%B2%80``, a path's as U+FFFD); like an undecodable JSON body, they are a 400.
    """
    path = request.environ.get("PATH_INFO", "")  # WSGI: the raw bytes, as latin-1
    if not _is_utf8(path.encode("latin-1", "replace")):
        raise BadRequest("the address is not UTF-8 text: percent-encode it as UTF-8")
    if not _is_utf8(unquote_to_bytes(request.query_string)):
        raise BadRequest("the query string is not UTF-8 text: percent-encode it as UTF-8")
