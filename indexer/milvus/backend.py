"""The Milvus backend: the live generation is the collection the alias points at.

Before each use the backend asks Milvus where the alias points (at most once a
second), so a web host follows an update made from another machine without a restart.
Opening a generation reads its manifest, documents and passages from Milvus into the
catalog every search mode shares; no file of the host is read. A generation without a
manifest, or whose counts disagree with it, is damaged and refused, never half served.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from indexer.errors import IndexDamaged, IndexNotReady
from indexer.milvus import blobs
from indexer.milvus.build import DOCUMENTS, MANIFEST
from indexer.milvus.client import (
    Names,
    connect,
    count,
    live_generation,
    rows_in_order,
    unreachable_as_error,
    where,
)
from indexer.retrieve.generation import Generation, retrievers_by_mode
from indexer.store import manifest as manifests
from indexer.store.catalog import Catalog

log = logging.getLogger(__name__)

# How long a host trusts the alias it read before asking Milvus again.
ALIAS_SECONDS = 1.0


def _load_collection(client, name: str) -> None:
    """Load a collection for search (after a reopen Milvus serves none until then)."""
    if "Loaded" not in str(client.get_load_state(name).get("state")):
        client.load_collection(name)


def examine(client, generation: str) -> tuple[dict | None, Catalog | None, list[str]]:
    """The manifest and catalog of a generation, and a sentence for each problem."""
    store = Names.store(generation)
    if not client.has_collection(generation) or not client.has_collection(store):
        return None, None, [f"the collections of generation {generation} are missing"]
    _load_collection(client, store)
    data = blobs.get_json(client, store, MANIFEST)
    if not isinstance(data, dict):
        return None, None, [f"generation {generation} has no manifest: its build did not "
                            "finish"]
    problems: list[str] = []
    if data.get("format_version") != manifests.FORMAT_VERSION:
        problems.append(f"generation {generation} has format {data.get('format_version')}, "
                        f"this version reads {manifests.FORMAT_VERSION}")
    documents = blobs.get(client, store, DOCUMENTS)
    if documents is None:
        problems.append(f"the documents of generation {generation} are missing or cut short")
        return data, None, problems
    _load_collection(client, generation)
    held = count(client, generation, "ordinal >= 0")
    records = rows_in_order(client, generation, "ordinal", held, ["record"])
    catalog = Catalog.of_records((json.loads(line) for line in documents.splitlines()
                                  if line.strip()), (row["record"] for row in records))
    if len(catalog.passage_list) != data.get("passages_count"):
        problems.append(f"generation {generation} holds {len(catalog.passage_list)} "
                        f"passages, its manifest records {data.get('passages_count')}")
    if len(catalog.documents) != data.get("documents_count"):
        problems.append(f"generation {generation} holds {len(catalog.documents)} "
                        f"documents, its manifest records {data.get('documents_count')}")
    sentences = ((data.get("vectors") or {}).get("sentences") or {}).get("count")
    if sentences:
        name = Names.sentences(generation)
        if not client.has_collection(name):
            problems.append(f"the sentence vectors of generation {generation} are missing")
        else:
            _load_collection(client, name)
            held = count(client, name, "row >= 0")
            if held != sentences:
                problems.append(f"generation {generation} holds {held} sentence vectors, "
                                f"its manifest records {sentences}")
    return data, catalog, problems


def open_generation(client, generation: str, embedder_factory: Callable) -> Generation:
    """Open a generation after checking it (IndexDamaged names what is wrong)."""
    from indexer.milvus.retrieve import MilvusKeywordRetriever, MilvusVectorRetriever
    from indexer.text.analysis import ANALYZER_VERSION

    data, catalog, problems = examine(client, generation)
    if problems:
        raise IndexDamaged(problems, where())
    manifests.check_analyzer(data, ANALYZER_VERSION)
    keyword = MilvusKeywordRetriever(client, generation, catalog)
    dense = embedder = None
    if data.get("vectors"):
        embedder = embedder_factory()
        dense = MilvusVectorRetriever(client, generation, catalog, embedder, data["vectors"])
    return Generation(name=generation, manifest=data, catalog=catalog,
                      retrievers=retrievers_by_mode(keyword, dense), embedder=embedder)


class MilvusIndex:
    """The live generation in Milvus, reopened when a build moves the alias."""

    def __init__(self, index_dir: Path | None, embedder_factory: Callable,
                 names: Names | None = None):
        self.names = names or Names.configured()
        self._embedder_factory = embedder_factory
        self._lock = threading.Lock()
        self._generation: Generation | None = None
        self._checked = (0.0, None)  # when the alias was read, and what it named

    def _live_name(self) -> str:
        at, name = self._checked
        if name is not None and time.monotonic() - at < ALIAS_SECONDS:
            return name
        name = live_generation(connect(), self.names)
        self._checked = (time.monotonic(), name)
        return name

    def live(self) -> Generation:
        """The live generation (IndexNotReady when none is built, IndexUnreachable when
        Milvus cannot be reached, IndexDamaged when the live one is incomplete)."""
        with unreachable_as_error():
            name = self._live_name()
            current = self._generation
            if current is not None and current.name == name:
                return current
            with self._lock:
                current = self._generation
                if current is not None and current.name == name:
                    return current
                log.info("opening index generation %s in Milvus", name)
                self._generation = open_generation(connect(), name, self._embedder_factory)
                return self._generation

    def explain(self, generation: Generation, error: Exception) -> None:
        """A failure while searching: the engine unreachable, or the generation gone
        (a typed error); anything else is left for the engine to raise."""
        self._checked = (0.0, None)
        with unreachable_as_error():
            raise error


def check(names: Names | None = None) -> tuple[str | None, dict | None, Catalog | None,
                                              list[str]]:
    """The live generation, its manifest and catalog, and a sentence per problem."""
    names = names or Names.configured()
    try:
        with unreachable_as_error():
            client = connect()
            generation = live_generation(client, names)
            data, catalog, problems = examine(client, generation)
    except IndexNotReady as exc:
        return None, None, None, [str(exc)]
    return generation, data, catalog, problems
