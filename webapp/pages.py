"""The HTML pages: each renders the same service result its ``/api`` twin serves."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request

from webapp import guidance, params, presentation
from webapp.config import examples
from webapp.ratelimit import limit_asks
from webapp.reading import cited_paragraph, outline_trail, paragraph_views
from webapp.services import service

bp = Blueprint("pages", __name__)
# What the templates say in Chinese: an error sentence, a hit's ranks.
bp.add_app_template_filter(guidance.chinese, "chinese")
bp.add_app_template_global(presentation.rank_label, "rank_label")


@bp.get("/")
def home():
    """One box, two actions, example queries and the index status."""
    return render_template("home.html", health=service().health(),
                           examples=examples(current_app),
                           questions=examples(current_app, "web_example_questions"))


@bp.get("/search")
def search():
    """A page of hits with facets, pagination and suggestions when nothing matched."""
    args = params.search_args(request.args)
    dropped = params.without_dropped(request.args, args)  # a filter chip was pressed
    if dropped is not None:
        return redirect(presentation.search_url(dropped), 303)
    data = service().search(args.q, args.mode, args.k, args.page, args.engine_filters())
    return render_template("search.html", data=data, args=args,
                           view=presentation.search_view(data, args))


@bp.get("/ask")
@limit_asks  # the page costs what /api/ask costs, and shares its allowance
def ask():
    """An answer with [n] markers, its citations, or "no answer" with the closest passages."""
    args = params.ask_args(request.args)
    data = service().ask(args.q, args.mode)
    view = guidance.answer_help(presentation.answer_view(data), data, args.q, args.mode)
    return render_template("ask.html", data=data, args=args, view=view)


@bp.get("/documents")
def documents():
    """Every indexed document."""
    return render_template("documents.html",
                           data=presentation.public_sources(service().documents()))


@bp.get("/documents/<doc_id>")
def document(doc_id: str):
    """The full cleaned text with numbered paragraphs, anchored passages and ``?hl=``."""
    data = presentation.public_sources(service().document(doc_id))
    document = data["document"]
    span = params.highlight_span(request.args.get("hl"), len(document["text"]))
    views = paragraph_views(document["text"], document["passages"], span)
    return render_template("document.html", data=data, span=span, paragraphs=views,
                           trail=outline_trail(data["outline"], cited_paragraph(views)))


@bp.get("/passages/<passage_id>")
def passage(passage_id: str):
    """A passage is shown in its document, highlighted."""
    return redirect(service().passage(passage_id)["url"])


@bp.get("/compare")
@limit_asks  # as /api/compare: one question answered once per group
def compare():
    """What each report (region, year) says about one question: a table, one row each."""
    from flask import make_response

    from webapp.comparing import BY_LABELS, answered, compare_args

    args = compare_args(request.args)
    data = service().compare(args.q, args.by, args.mode)
    response = make_response(render_template("compare.html", data=data, args=args,
                                             by_labels=BY_LABELS, answered=answered(data)))
    response.headers["Cache-Control"] = "no-store"  # answers are never stored, as for /ask
    return response
