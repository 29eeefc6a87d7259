"""Shared fixtures: the bundled corpus, read once, an index built once, the web app over it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED_BENCH = ROOT.parent / "shared" / "bench"

os.environ.setdefault("POLICYQA_PROGRESS", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def corpus_file(prefix: str) -> Path:
    """The bundled report whose file name starts with ``prefix`` (e.g. "004")."""
    (path,) = CORPUS.glob(f"{prefix}_*.txt")
    return path


@pytest.fixture(scope="session")
def corpus():
    """The bundled corpus, read, repaired and segmented once per session."""
    from indexer.ingest.corpus import load_corpus

    return load_corpus(CORPUS)


@pytest.fixture(scope="session")
def documents(corpus):
    """Bundled documents by the three-digit prefix of their file name."""
    return {d.doc_id[:3]: d for d in corpus.documents}


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory):
    """A keyword index of the bundled corpus, built once per session."""
    from indexer.store.build import build

    folder = tmp_path_factory.mktemp("index")
    build(CORPUS, folder)
    return folder


@pytest.fixture(scope="session")
def engine(index_dir):
    from indexer.retrieve.engine import Engine

    return Engine(index_dir)


@pytest.fixture(scope="module")
def app(index_dir, engine):
    """The web app over the session index. Every test request comes from 127.0.0.1, so
    the question rate limit is off here and tested on its own."""
    from webapp import create_app

    return create_app({"TESTING": True, "INDEX_DIR": index_dir, "POLICYQA_ENGINE": engine,
                       "WEB_ASK_RATE": 0})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def corpus_copy(tmp_path):
    """A writable copy of the bundled corpus, for tests that add, change or delete files."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target
