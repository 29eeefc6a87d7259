"""The connection to Milvus and the names of what the index keeps there.

``milvus_uri`` is a folder path (milvus-lite, inside this process) or ``http://host:19530``
(a Milvus server or cluster, or ``milvus_lite server`` shared by several processes); the
client code is the same for both. Every failure to reach the engine becomes
:class:`~indexer.errors.IndexUnreachable` (a 503 with a one-line reason); the token is
never logged or shown.

A generation is three collections named after ``milvus_collection`` (the live alias):
``<alias>_g<stamp>`` holds the passages (text, filters, BM25 tokens, vectors),
``…_sentences`` the sentence vectors and ``…_store`` the manifest, the documents and the
vocabulary as chunked text. ``<alias>_control`` holds the writer's lease and the time
each replaced generation was retired.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from indexer import settings
from indexer.errors import IndexNotReady, IndexUnreachable, reason

log = logging.getLogger(__name__)

SENTENCES_SUFFIX = "_sentences"
STORE_SUFFIX = "_store"
CONTROL_SUFFIX = "_control"
GENERATION_MARK = "_g"

_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()


def uri() -> str:
    """The configured Milvus URI as pymilvus takes it (a path is made absolute)."""
    value = str(settings.get("milvus_uri"))
    if "://" in value:
        return value
    return str(Path(value).expanduser().resolve())


def is_embedded(address: str | None = None) -> bool:
    """True when the URI names a milvus-lite folder run inside this process."""
    return "://" not in (address or uri())


def where() -> str:
    """The URI and database, as messages name them (never the token)."""
    db = settings.get("milvus_db")
    return f"{uri()}{'/' + db if db else ''}"


def connect():
    """A client for the configured URI, database and token (one per process and URI)."""
    address, token, db = uri(), settings.get("milvus_token"), settings.get("milvus_db")
    key = (address, db, hash(token))
    client = _clients.get(key)
    if client is not None:
        return client
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            from pymilvus import MilvusClient

            # The client logs each failed call with its traceback; ours are reported
            # once, as typed errors, by unreachable_as_error.
            logging.getLogger("pymilvus").setLevel(logging.CRITICAL)

            if is_embedded(address):
                Path(address).parent.mkdir(parents=True, exist_ok=True)
                # milvus-lite serves inside this process and logs each call it does not
                # implement (the client's optional ones) with a traceback.
                logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
            log.info("connecting to Milvus at %s", where())
            options = {"uri": address, "token": token or ""}
            if db:
                options["db_name"] = db
            if not is_embedded(address):
                options["timeout"] = 10
            try:
                client = _clients[key] = MilvusClient(**options)
            except Exception as exc:
                raise _as_error(exc) from exc
    return client


def forget() -> None:
    """Drop the configured URI's client: the next use connects again (after a failure).

    milvus-lite's client is kept: closing it would stop the engine it runs.
    """
    if not is_embedded():
        address = uri()
        _close(lambda key: key[0] == address)


def close_all() -> None:
    """Close every client of this process (at exit, and between tests)."""
    _close(lambda key: True)


def _close(which) -> None:
    with _clients_lock:
        for key in [k for k in _clients if which(k)]:
            try:
                _clients.pop(key).close()
            except Exception:  # noqa: BLE001 (closing a broken client must not fail)
                log.debug("closing a Milvus client failed", exc_info=True)


def _as_error(exc: Exception) -> Exception:
    """The typed error for a failure the Milvus client reported."""
    if _missing_collection(exc):
        return IndexNotReady(f"no index in Milvus at {where()}: run `python -m indexer "
                             "build` first")
    return IndexUnreachable(f"the index engine (Milvus at {where()}) failed or cannot be "
                            f"reached: {reason(exc)}")


@contextmanager
def unreachable_as_error() -> Iterator[None]:
    """Turn a failure in or on the way to Milvus into a typed error naming the URI only
    (never the token); the client is dropped so the next request connects again."""
    try:
        yield
    except Exception as exc:
        if not from_engine(exc):
            raise
        error = _as_error(exc)
        if isinstance(error, IndexUnreachable):
            forget()
        raise error from exc


def from_engine(exc: BaseException) -> bool:
    """Whether ``exc`` is the client's report of a failure in or on the way to Milvus."""
    module = type(exc).__module__ or ""
    return module.startswith(("pymilvus", "grpc", "milvus_lite")) or isinstance(
        exc, (ConnectionError, TimeoutError))


def _missing_collection(exc: Exception) -> bool:
    text = str(exc).lower()
    return "collection not found" in text or "can't find collection" in text \
        or "alias not found" in text


@dataclass(frozen=True)
class Names:
    """The names of one index in Milvus: its live alias and what is named after it."""

    alias: str

    @classmethod
    def configured(cls) -> Names:
        """The index the ``milvus_collection`` setting names."""
        return cls(settings.get("milvus_collection"))

    @property
    def control(self) -> str:
        return self.alias + CONTROL_SUFFIX

    @property
    def prefix(self) -> str:
        return self.alias + GENERATION_MARK

    @staticmethod
    def sentences(generation: str) -> str:
        return generation + SENTENCES_SUFFIX

    @staticmethod
    def store(generation: str) -> str:
        return generation + STORE_SUFFIX

    def is_generation(self, name: str) -> bool:
        """True for a generation's passage collection (not its sentences or store)."""
        return name.startswith(self.prefix) and not name.endswith(
            (SENTENCES_SUFFIX, STORE_SUFFIX))

    def new_generation(self) -> str:
        """A fresh generation name: the alias and the time, to the microsecond."""
        now = time.time()
        return f"{self.prefix}{time.strftime('%Y%m%d%H%M%S', time.gmtime(now))}" \
               f"{int(now % 1 * 1e6):06d}"


def live_generation(client, names: Names) -> str:
    """The collection the live alias points at; IndexNotReady when there is none."""
    with unreachable_as_error():
        if names.alias not in client.list_aliases().get("aliases", []):
            raise IndexNotReady(f"no index in Milvus at {where()}: run `python -m indexer "
                                "build` first")
        return client.describe_alias(names.alias)["collection_name"]


def rows_in_order(client, collection: str, key: str, count: int, fields: list[str],
                  batch: int = 10000) -> Iterator[dict]:
    """The rows whose integer ``key`` is 0 … count-1, in key order, a window at a time
    (Milvus answers at most 16,384 rows per query)."""
    for start in range(0, count, batch):
        rows = client.query(collection, filter=f"{key} >= {start} and {key} < {start + batch}",
                            output_fields=[key, *fields], limit=batch)
        yield from sorted(rows, key=lambda row: row[key])


def count(client, collection: str, expression: str) -> int:
    """How many rows match ``expression``."""
    return client.query(collection, filter=expression, output_fields=["count(*)"])[0]["count(*)"]
