"""The web app: search, ask and read the source in a browser, and the JSON API.

``create_app()`` builds the app; nothing is loaded until the first request needs it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from webapp import config, errors, ratelimit, services

# Content-Security-Policy: own scripts and styles only, nothing inline, no framing.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: registry settings (env applied), then ``test_config``, then wiring."""
    app = Flask(__name__)
    app.config.from_mapping(config.from_registry())
    if test_config:
        app.config.from_mapping(test_config)
    app.config["MAX_CONTENT_LENGTH"] = config.setting(app, "web_max_body_bytes")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    services.init_app(app)
    ratelimit.init_app(app)
    errors.register(app)
    from webapp import admin, api, pages, presentation

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    if config.setting(app, "web_admin_token"):  # no token, no endpoint that changes the index
        app.register_blueprint(admin.bp)
    app.jinja_env.globals.update(citation_url=services.citation_url,
                                 ask_enabled="pages.ask" in app.view_functions,
                                 mode_labels=presentation.MODE_LABELS,
                                 facet_labels=presentation.FACET_LABELS,
                                 score_labels=presentation.SCORE_LABELS)
    app.jinja_env.filters["marked"] = presentation.marked

    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app
