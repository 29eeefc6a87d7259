"""What changes the index: ``POST /api/admin/update`` and the editor's pages.

This blueprint exists only when ``web_admin_token`` is set (``create_app`` registers it
then, and its addresses are a plain 404 otherwise). The update endpoint answers only a
request that carries ``Authorization: Bearer <that token>``; the token is never logged or
echoed. The editor's pages (sign in and out, add and remove documents from ``/documents``
without script) use the session of :mod:`webapp.editor`, every post with its CSRF token.
The upload and delete API lives in :mod:`webapp.api`, behind :func:`webapp.editor.require`;
the pages add and remove with its :func:`~webapp.api.add_uploaded_files` and
:func:`~webapp.api.remove_from_corpus`.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request

from webapp import editing, editor
from webapp.api import add_uploaded_files, remove_from_corpus
from webapp.config import setting
from webapp.errors import TooManyRequests
from webapp.presentation import public_sources
from webapp.services import service

bp = Blueprint("admin", __name__)
SIGN_IN_LIMIT = "policyqa.sign_in_failures"


@bp.record_once
def _set_up(state) -> None:
    state.app.extensions[SIGN_IN_LIMIT] = editor.FailedSignIns()
    # The server reads a whole body before the app: it must let an upload's through.
    state.app.config["UPLOAD_BODY_LIMIT"] = editing.upload_body_limit(state.app)


class EditorView:
    """What a page needs to show the editor's forms (``editor`` in every template)."""

    @property
    def signed_in(self) -> bool:
        return editor.signed_in()

    @property
    def csrf(self) -> str:
        return editor.csrf_token()


@bp.app_context_processor
def _editor_context() -> dict[str, EditorView]:
    return {"editor": EditorView()}


bp.after_app_request(editor.save)


@bp.post("/api/admin/update")
def update():
    """Re-index the added, changed and removed files of the configured corpus folder."""
    if not editor.token_matches(request.headers.get("Authorization", "")):
        raise editor.unauthorized()
    return jsonify(service().update(setting(current_app, "corpus_dir")))


@bp.post("/editor/sign-in")
def sign_in():
    """Sign a browser in with the admin token; back to /documents."""
    editor.check_csrf()
    failures: editor.FailedSignIns = current_app.extensions[SIGN_IN_LIMIT]
    address = request.remote_addr or "unknown"
    wait = failures.wait(address)
    if wait > 0:
        seconds = int(wait) + 1
        raise TooManyRequests(f"too many wrong tokens from your address; try again in "
                              f"{seconds} s", headers={"Retry-After": str(seconds)})
    if not editor.token_matches(f"Bearer {request.form.get('token', '')}"):
        failures.failed(address)
        return _documents_page(sign_in_failed=True), 401
    editor.start(editor=True)
    return redirect("/documents", 303)


@bp.post("/editor/sign-out")
def sign_out():
    """End the editor's session."""
    editor.check_csrf()
    editor.start(editor=False)
    g.signing_out = True
    return redirect("/documents", 303)


@bp.post("/editor/add")
@editor.require
def add():
    """The upload form without script: add the files, then show what became of each."""
    return _documents_page(upload=add_uploaded_files())


@bp.post("/editor/delete/<doc_id>")
@editor.require
def delete(doc_id: str):
    """The delete button without script: remove the document, then list the rest."""
    return _documents_page(removed=remove_from_corpus(doc_id))


def _documents_page(**shown):
    return render_template("documents.html",
                           data=public_sources(service().documents()), **shown)
