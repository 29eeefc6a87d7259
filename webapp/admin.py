"""The one endpoint that changes the index: ``POST /api/admin/update``.

It exists only when ``web_admin_token`` is set (``create_app`` registers this blueprint
then, and the address is a plain 404 otherwise), and it answers only a request that
carries ``Authorization: Bearer <that token>``. The token is never logged or echoed.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request

from webapp.config import setting
from webapp.errors import Unauthorized
from webapp.services import service

bp = Blueprint("admin", __name__)


def _token_matches(header: str, token: str) -> bool:
    """True if ``header`` is ``Bearer <token>``, compared in constant time."""
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(given.strip().encode("utf-8", "surrogateescape"),
                               token.encode("utf-8", "surrogateescape"))


@bp.post("/api/admin/update")
def update():
    """Re-index the added, changed and removed files of the configured corpus folder."""
    if not _token_matches(request.headers.get("Authorization", ""),
                          setting(current_app, "web_admin_token")):
        raise Unauthorized("this endpoint needs the admin token: send "
                           "Authorization: Bearer <web_admin_token>",
                           headers={"WWW-Authenticate": 'Bearer realm="policyqa admin"'})
    return jsonify(service().update(setting(current_app, "corpus_dir")))
