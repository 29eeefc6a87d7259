"""The web app's settings, read from the one registry in :mod:`indexer.settings`.

Each registry setting the app uses becomes an upper-case Flask config key
(``index_dir`` → ``INDEX_DIR``), so the order of precedence is: the registry default,
then the ``POLICYQA_*`` environment variable, then ``create_app(test_config)``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from indexer import settings

# The registry settings the web app reads; their defaults and help live in the registry.
NAMES = (
    "index_dir",
    "corpus_dir",
    "web_host",
    "web_port",
    "web_threads",
    "web_page_size",
    "web_max_k",
    "web_max_page",
    "web_max_query_chars",
    "web_max_body_bytes",
    "web_max_filter_values",
    "web_trusted_hosts",
    "web_static_max_age",
    "web_ask_rate",
    "web_ask_rate_window",
    "web_rate_limit_storage",
    "web_admin_token",
    "web_max_upload_bytes",
    "web_max_upload_files",
    "web_max_unpacked_bytes",
    "web_session_hours",
    "web_cookie_secure",
    "web_examples",
    "web_example_questions",
    "log_level",
)


def from_registry() -> dict[str, Any]:
    """Every web setting as a Flask config key, with environment overrides applied."""
    return {name.upper(): settings.get(name) for name in NAMES}


def setting(app: Flask, name: str) -> Any:
    """The value of registry setting ``name`` as this app was configured."""
    return app.config[name.upper()]


def examples(app: Flask, name: str = "web_examples") -> list[str]:
    """The example queries (or, with ``web_example_questions``, questions) of the home page."""
    return [text.strip() for text in setting(app, name).split(";") if text.strip()]


def trusted_hosts(app: Flask) -> list[str]:
    """The host names of ``web_trusted_hosts``; empty when every host is answered."""
    return [name.strip() for name in setting(app, "web_trusted_hosts").split(",")
            if name.strip()]
