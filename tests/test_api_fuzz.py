"""Fuzz the JSON API from its own ``/openapi.json`` with schemathesis.

The app is served by waitress on 127.0.0.1 (an ephemeral port) over the session's test
index; every documented operation is called with schema-derived examples, boundary
cases and random inputs, and every response must be a non-5xx whose status, content
type, headers and body are the ones the description documents. The run is seeded and
derandomized, so CI sees the same requests every time. The description lets the fuzzer
repeat filters (arrays up to the cap) and add any properties to a question's body; the
inputs an adversarial probe found (past the cap, nested 1,000 deep, lone surrogates,
bytes that are not UTF-8) are explicit cases on top.

Requests per operation and status are counted and logged when the module ends
(``pytest tests/test_api_fuzz.py -o log_cli=true --log-cli-level=INFO`` shows them).
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from math import inf
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import CORPUS, serving

schemathesis = pytest.importorskip("schemathesis", reason="needs the schemathesis package")
from schemathesis.core.failures import AcceptedNegativeData, FailureGroup  # noqa: E402

log = logging.getLogger(__name__)

# Random examples per operation, on top of the boundary (coverage) cases; a longer hunt:
# FUZZ_MAX_EXAMPLES=1000 pytest tests/test_api_fuzz.py
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "50"))
SEED = 20240601
ADMIN_TOKEN = "fuzz-admin-token"  # documented, so it is fuzzed; requests without it get 401

pytestmark = pytest.mark.slow

COUNTS: Counter[str] = Counter()
STATUSES: Counter[tuple[str, int]] = Counter()
FALSE_ALARMS: Counter[str] = Counter()


def fuzz_config():
    from schemathesis.config import SchemathesisConfig

    return SchemathesisConfig.from_dict({
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True,
                       "database": "none"},
        "phases": {"stateful": {"enabled": False}},
        # A schema-valid query may still have nothing to search (only punctuation, emoji
        # or stop words): that is the documented 400, which no JSON Schema can rule out.
        "operations": [{"include-path": ["/api/search", "/api/ask", "/api/compare"], "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2XX", 400]}}}],
        "request-timeout": 60,
    })


@pytest.fixture(scope="module")
def api_schema(index_dir, engine):
    """The served app's own description, loaded over HTTP from the running server."""
    from webapp import create_app

    app = create_app({"INDEX_DIR": index_dir, "POLICYQA_ENGINE": engine, "CORPUS_DIR": CORPUS,
                      "WEB_ASK_RATE": 0, "WEB_ADMIN_TOKEN": ADMIN_TOKEN})
    with serving(app) as url:
        yield schemathesis.openapi.from_url(f"{url}/openapi.json", config=fuzz_config())
    log.info("fuzzed %d requests: %s; statuses: %s; valid as sent, so not failures: %s",
             sum(COUNTS.values()), dict(COUNTS), dict(sorted(STATUSES.items())),
             dict(FALSE_ALARMS))


schema = schemathesis.pytest.from_fixture("api_schema")


def _value_fits(value: str, schema: dict) -> bool:
    """Whether one query-string value fits a parameter's (flat) schema, as the server reads it."""
    if "enum" in schema:
        return value in [str(v) for v in schema["enum"] if v is not None]
    if schema.get("type") == "integer":
        return (re.fullmatch(r"-?[0-9]+", value) is not None
                and schema.get("minimum", -inf) <= int(value) <= schema.get("maximum", inf))
    return schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", inf)


def query_as_sent_is_valid(case, url: str) -> bool:
    """Whether the query string that went over the wire fits the operation's parameters.

    schemathesis makes a request invalid by changing a value's type, but some changes do
    not survive serialisation (an empty object is sent as ``region=``, a valid empty
    string); a request that was valid as sent may rightly be accepted.
    """
    definition = case.operation.definition.raw
    if "requestBody" in definition or case.path_parameters:
        return False  # only query strings are judged here
    sent = parse_qs(urlsplit(url).query, keep_blank_values=True)
    for parameter in definition.get("parameters", []):
        values, schema = sent.get(parameter["name"], []), parameter["schema"]
        if not values:
            if parameter.get("required"):
                return False
            continue
        if schema.get("type") == "array":
            if len(values) > schema.get("maxItems", inf) or \
                    not all(_value_fits(value, schema["items"]) for value in values):
                return False
        elif len(values) > 1 or not (values[0] == "" and parameter.get("allowEmptyValue")
                                     or _value_fits(values[0], schema)):
            return False
    return True


@schema.parametrize()
def test_every_operation_answers_as_documented(case):
    label = f"{case.method} {case.operation.path}"  # the coverage phase tries other methods
    COUNTS[label] += 1
    response = case.call()
    STATUSES[(label, response.status_code)] += 1
    assert response.status_code < 500, response.text
    try:
        case.validate_response(response)
    except FailureGroup as failures:
        if not all(isinstance(failure, AcceptedNegativeData) for failure in failures.exceptions) \
                or not query_as_sent_is_valid(case, response.request.url):
            raise
        FALSE_ALARMS[label] += 1


def _explicit_cases(schema, cap: int) -> list:
    """What random generation rarely reaches: each must be a documented 400."""
    search, ask = schema["/api/search"]["GET"], schema["/api/ask"]["POST"]
    ask_get = schema["/api/ask"]["GET"]
    undecodable = "\xed\xb2\x80".encode("latin-1")  # a surrogate's bytes: not UTF-8
    return [
        search.Case(query={"q": "教育", "region": [f"v{i}" for i in range(cap + 1)]}),
        search.Case(query={"q": "教育", "doc": ["a"] * (cap // 2), "kind": ["b"],
                           "year": ["2016"] * (cap - cap // 2)}),
        search.Case(query={"q": "教育", "region": [f"v{i}" for i in range(3000)]}),
        search.Case(query={"q": "教育", "region": [undecodable]}),
        search.Case(query={"q": undecodable}),
        ask_get.Case(query={"q": undecodable}),
        ask.Case(body=b'{"q": "x", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}",
                 media_type="application/json"),
        ask.Case(body={"q": "x", "x": [[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]},
                 media_type="application/json"),
        ask.Case(body='{"q": "\\udc80校车", "mode": "semantic"}'.encode(),  # JSON's escape
                 media_type="application/json"),
        ask.Case(body=b'{"q": "' + undecodable + b'"}', media_type="application/json"),
    ]


def test_what_an_adversarial_probe_found_is_a_documented_400(api_schema):
    parameters = api_schema["/api/search"]["GET"].definition.raw["parameters"]
    (cap,) = {p["schema"]["maxItems"] for p in parameters if p["schema"].get("maxItems")}
    for case in _explicit_cases(api_schema, cap):
        response = case.call()
        assert response.status_code == 400, (case.query, case.body, response.text)
        assert response.json()["status"] == 400
        case.validate_response(response)
