"""The arguments of a comparison and what its page shows around the service result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from webapp import params
from webapp.errors import BadRequest

BY_LABELS = {"doc": "按文档", "region": "按地区", "year": "按年份"}


@dataclass
class CompareArgs:
    """A validated comparison request."""

    q: str
    by: str
    mode: str | None


def compare_args(values: MultiDict) -> CompareArgs:
    """Validate ``q``, ``by`` (doc, region or year; default doc) and ``mode``."""
    params.once(values, "q", "by", "mode")
    asked = params.ask_args(MultiDict({name: values[name] for name in ("q", "mode")
                                       if name in values}))
    by = params.text(values.get("by"), "by") or "doc"
    if by not in BY_LABELS:
        raise BadRequest(f"by must be one of {', '.join(BY_LABELS)}, not {params.shown(by)}")
    return CompareArgs(asked.q, by, asked.mode)


def answered(data: dict[str, Any]) -> int:
    """How many groups of a comparison found an answer."""
    return sum(1 for group in data["groups"] if group["answerable"])
