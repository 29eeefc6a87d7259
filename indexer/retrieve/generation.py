"""What a backend hands the engine: one opened generation and a retriever for each mode.

A backend is anything with ``live() -> Generation`` (and, optionally,
``explain(generation, error)`` to turn a failure into a typed error). Backends are chosen
by the ``index_backend`` setting from :data:`BACKENDS`; :func:`register_backend` adds one
without touching the engine.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from indexer.errors import IndexNotReady
from indexer.retrieve.protocol import Retriever

if TYPE_CHECKING:
    from indexer.store.catalog import Catalog

MODES = ("keyword", "semantic", "hybrid")


@dataclass
class Generation:
    """One opened index generation: what it holds, and how to rank it in each mode."""

    name: str
    manifest: dict[str, Any]
    catalog: Catalog
    retrievers: dict[str, Retriever]
    embedder: Any = None  # the model the dense side embeds with (for the answer step)
    folder: Path | None = None  # where a file-based backend keeps it
    stamp: tuple = field(default=())  # the files' signature when opened (local backend)

    @property
    def has_vectors(self) -> bool:
        return "semantic" in self.retrievers

    def retriever(self, mode: str) -> Retriever:
        """The retriever for ``mode``; IndexNotReady if this index cannot rank that way."""
        found = self.retrievers.get(mode)
        if found is None:
            raise IndexNotReady(
                f"this index has no vectors, so {mode} search is not available: rebuild it "
                "with vectors enabled (`python -m indexer build`)")
        return found


def retrievers_by_mode(keyword: Retriever, dense: Retriever | None,
                       overrides: dict | None = None) -> dict[str, Retriever]:
    """The retriever of each mode: hybrid is the composition of the other two."""
    if dense is None:
        return {"keyword": keyword}
    from indexer.retrieve.hybrid import HybridRetriever

    return {"keyword": keyword, "semantic": dense,
            "hybrid": HybridRetriever(keyword, dense, overrides)}


class Backend(Protocol):
    """Where generations live: the engine asks it for the live one before each use."""

    def live(self) -> Generation: ...


# name -> "module:factory"; a factory takes (index_dir, embedder_factory).
BACKENDS: dict[str, str | Callable[..., Backend]] = {
    "local": "indexer.retrieve.local:LocalIndex",
    "milvus": "indexer.milvus.backend:MilvusIndex",
}
# name -> "module:function" building a generation, as indexer.store.build.build is called.
WRITERS: dict[str, str | Callable] = {
    "local": "indexer.store.build:build_local",
    "milvus": "indexer.milvus.build:build",
}


def register_backend(name: str, factory: Callable[..., Backend],
                     writer: Callable | None = None) -> None:
    """Make ``index_backend=name`` open ``factory(index_dir, embedder_factory)`` (and
    build with ``writer``)."""
    BACKENDS[name] = factory
    if writer is not None:
        WRITERS[name] = writer


def _resolve(table: dict, name: str):
    found = table.get(name)
    if found is None:
        raise IndexNotReady(f"unknown index_backend {name!r}: use one of "
                            f"{', '.join(sorted(table))}")
    if isinstance(found, str):
        module, _, attribute = found.partition(":")
        found = getattr(importlib.import_module(module), attribute)
    return found


def open_writer(name: str) -> Callable:
    """The build function of the backend named by the ``index_backend`` setting."""
    return _resolve(WRITERS, name)


def open_backend(name: str, index_dir: Path, embedder_factory: Callable) -> Backend:
    """The backend named by the ``index_backend`` setting."""
    return _resolve(BACKENDS, name)(index_dir, embedder_factory)
