"""The web app: search, ask and read the source in a browser, and the JSON API.

``create_app()`` builds the app; nothing is loaded until the first request needs it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.sansio.utils import host_is_trusted

from webapp import config, errors, params, ratelimit, services

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
# Answers are per question and rate-limited, the admin report is private: never stored.
NO_STORE = {"api.ask", "pages.ask", "admin.update"}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: registry settings (env applied), then ``test_config``, then wiring."""
    app = Flask(__name__)
    app.config.from_mapping(config.from_registry())
    if test_config:
        app.config.from_mapping(test_config)
    app.config["MAX_CONTENT_LENGTH"] = config.setting(app, "web_max_body_bytes")
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = config.setting(app, "web_static_max_age")
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
    app.before_request(check_request)
    app.after_request(finish_response)
    return app


def check_request() -> None:
    """Refuse, before any view, a Host outside ``web_trusted_hosts`` and an address that
    is not UTF-8 (BadRequest: the one error shape, not werkzeug's)."""
    trusted = config.trusted_hosts(current_app)
    if trusted and not host_is_trusted(request.host, trusted):
        raise errors.BadRequest("this server does not answer for the host named in the "
                                "request (see web_trusted_hosts)")
    params.require_utf8()


def finish_response(response: Response) -> Response:
    """Security headers and an explicit Cache-Control on every response; relative
    redirects, so the Host header of a request never comes back in a Location."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint in NO_STORE or response.status_code >= 400:
        response.headers["Cache-Control"] = "no-store"
    else:  # static files keep their own (public, web_static_max_age seconds)
        response.headers.setdefault("Cache-Control", "no-cache")
    location = response.headers.get("Location")
    if location:
        response.headers["Location"] = relative_location(location)
    return response


def relative_location(location: str) -> str:
    """``location`` without this request's scheme and host, as werkzeug's slash redirects
    build it (``http://<Host header>/static/x``); other addresses are kept as they are."""
    origin = f"{request.scheme}://{request.host.lower()}"
    if location[:len(origin)].lower() == origin:
        location = location[len(origin):]
        return "/" + location.lstrip("/")  # "//x" would be another host
    return location
