"""The HTML pages: each renders the same service result its ``/api`` twin serves."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request

from webapp import params, presentation
from webapp.config import examples
from webapp.reading import paragraph_views
from webapp.services import service

bp = Blueprint("pages", __name__)


@bp.get("/")
def home():
    """One box, two actions, example queries and the index status."""
    return render_template("home.html", health=service().health(),
                           examples=examples(current_app))


@bp.get("/search")
def search():
    """A page of hits with facets, pagination and suggestions when nothing matched."""
    args = params.search_args(request.args)
    data = service().search(args.q, args.mode, args.k, args.page, args.engine_filters())
    return render_template("search.html", data=data, args=args,
                           view=presentation.search_view(data, args))


@bp.get("/documents")
def documents():
    """Every indexed document."""
    return render_template("documents.html", data=service().documents())


@bp.get("/documents/<doc_id>")
def document(doc_id: str):
    """The full cleaned text with numbered paragraphs, anchored passages and ``?hl=``."""
    data = service().document(doc_id)
    document = data["document"]
    span = params.highlight_span(request.args.get("hl"), len(document["text"]))
    return render_template("document.html", data=data, span=span,
                           paragraphs=paragraph_views(document["text"],
                                                      document["passages"], span))


@bp.get("/passages/<passage_id>")
def passage(passage_id: str):
    """A passage is shown in its document, highlighted."""
    return redirect(service().passage(passage_id)["url"])
