"""The local backend: generation folders under ``index_dir``, the live one named by CURRENT.

Before each use it re-reads CURRENT and lists the generation's files (a few system
calls): a new generation is opened without a restart, and a generation whose files
changed on disk is checked again, so damage is reported as IndexDamaged (a 503 in the
web app) and a rebuild is picked up by the next request. A damaged generation is
refused, never half served.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from indexer.errors import IndexDamaged
from indexer.retrieve.generation import Generation, retrievers_by_mode
from indexer.store import check, generations, manifest

log = logging.getLogger(__name__)


def open_generation(folder: Path, embedder_factory: Callable, stamp: tuple = ()
                    ) -> Generation:
    """Open a generation folder after checking it.

    Raises IndexDamaged naming each missing, truncated or unreadable file, and
    IndexMismatch for one built by another analyzer or format.
    """
    from indexer.retrieve import keyword
    from indexer.text.analysis import ANALYZER_VERSION

    found = check.examine(folder)
    if found.problems:
        raise IndexDamaged(found.problems, Path(folder).parent)
    data, catalog = found.manifest, found.catalog
    manifest.check_analyzer(data, ANALYZER_VERSION)
    keyword_retriever = keyword.KeywordRetriever(folder / keyword.WHOOSH_DIR, catalog)
    dense = embedder = None
    if data.get("vectors"):
        from indexer.retrieve.vectors import VectorRetriever

        embedder = embedder_factory()
        dense = VectorRetriever(folder, catalog, embedder)
    return Generation(name=folder.name, manifest=data, catalog=catalog,
                      retrievers=retrievers_by_mode(keyword_retriever, dense),
                      embedder=embedder, folder=folder, stamp=stamp)


class LocalIndex:
    """The live generation of ``index_dir``, reopened when a build switches CURRENT."""

    def __init__(self, index_dir: Path, embedder_factory: Callable):
        self.index_dir = Path(index_dir)
        self._embedder_factory = embedder_factory
        self._lock = threading.Lock()
        self._generation: Generation | None = None
        self._damaged: tuple[Path, tuple, list[str]] | None = None  # folder, stamp, problems

    def live(self) -> Generation:
        """The live generation, reopened if a build switched CURRENT or its files changed.

        Raises IndexNotReady when there is no index, IndexDamaged when it is damaged.
        """
        live = generations.current_generation(self.index_dir)
        stamp = check.signature(live)
        current = self._generation
        if current is not None and current.folder == live and current.stamp == stamp:
            return current
        with self._lock:
            # Read CURRENT again: a request that read it just before a switch must not
            # reopen the generation that another thread has just replaced.
            live = generations.current_generation(self.index_dir)
            stamp = check.signature(live)
            current = self._generation
            if current is not None and current.folder == live and current.stamp == stamp:
                return current
            damaged = self._damaged
            if damaged is not None and damaged[:2] == (live, stamp):
                raise IndexDamaged(damaged[2], self.index_dir)
            log.info("opening index generation %s", live.name)
            try:
                self._generation = open_generation(live, self._embedder_factory, stamp)
            except IndexDamaged as exc:
                log.error("index generation %s is damaged: %s", live.name,
                          "; ".join(exc.problems))
                self._generation, self._damaged = None, (live, stamp, exc.problems)
                raise
            self._damaged = None
            return self._generation

    def explain(self, generation: Generation, error: Exception) -> None:
        """Raise IndexDamaged if ``error`` came from files damaged since they were opened."""
        stamp = check.signature(generation.folder)
        if stamp == generation.stamp:
            return
        found = check.examine(generation.folder)
        if not found.problems:
            return
        log.error("index generation %s was damaged while open: %s", generation.folder.name,
                  "; ".join(found.problems))
        with self._lock:
            if self._generation is generation:
                self._generation = None
            self._damaged = (generation.folder, stamp, found.problems)
        raise IndexDamaged(found.problems, self.index_dir) from error
