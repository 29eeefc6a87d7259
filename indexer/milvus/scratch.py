"""A temporary index in Milvus under its own alias (for ``indexer eval``), dropped after."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from indexer.milvus.client import Names, connect, unreachable_as_error


@contextmanager
def scratch_engine(corpus_dir: Path) -> Iterator:
    """An Engine over a fresh Milvus index of ``corpus_dir``; every collection it made is
    dropped when the block ends. The live index of ``milvus_collection`` is untouched."""
    from indexer import settings
    from indexer.embed import open_embedder
    from indexer.milvus.backend import MilvusIndex
    from indexer.milvus.build import build
    from indexer.retrieve.engine import Engine

    names = Names(f"{Names.configured().alias}_scratch_{os.getpid()}_{uuid.uuid4().hex[:8]}")
    embedder = open_embedder() if settings.get("vectors_enabled") else None
    try:
        build(corpus_dir, incremental=False, embedder=embedder, names=names)
        yield Engine(None, embedder=embedder,
                     backend=MilvusIndex(None, lambda: embedder, names))
    finally:
        with unreachable_as_error():
            client = connect()
            if names.alias in client.list_aliases().get("aliases", []):
                client.drop_alias(names.alias)
            for name in client.list_collections():
                if name.startswith(names.alias):
                    client.drop_collection(name)
