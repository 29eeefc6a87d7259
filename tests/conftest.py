"""Shared fixtures and helpers: the bundled corpus, its indexes built once, the web app over it.

Two session indexes of the bundled corpus: ``keyword_index_dir`` (keyword only, needs no
embedding model) and ``model_index_dir`` (keyword and real-model vectors, as ``make index``
builds it). ``app`` serves the model index, so every search mode works. Data beyond the
corpus comes from ``tests/data/`` (see its README). Embeddings are cached in a temporary
folder for the session, never in ``instance/``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DATA = ROOT / "tests" / "data"
CACHE_ENV = "POLICYQA_EMBEDDING_CACHE_DIR"
_SESSION_CACHE = pytest.StashKey[str]()

os.environ.setdefault("POLICYQA_PROGRESS", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def pytest_configure(config):
    """Cache embeddings in a temporary folder for the session, unless the env names one."""
    if not os.environ.get(CACHE_ENV):
        folder = tempfile.mkdtemp(prefix="policyqa-embeddings-")
        os.environ[CACHE_ENV] = folder  # subprocesses of the tests inherit it
        config.stash[_SESSION_CACHE] = folder


def pytest_unconfigure(config):
    folder = config.stash.get(_SESSION_CACHE, None)
    if folder is not None:
        os.environ.pop(CACHE_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)


def corpus_file(prefix: str) -> Path:
    """The bundled report whose file name starts with ``prefix`` (e.g. "004")."""
    (path,) = CORPUS.glob(f"{prefix}_*.txt")
    return path


def build_keyword_index(corpus: Path, index: Path) -> Path:
    """A keyword-only index of ``corpus`` (no embedding model needed)."""
    from indexer.store.build import build

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POLICYQA_VECTORS_ENABLED", "false")
        build(corpus, index)
    return index


# -- a report made of markup ----------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
HOSTILE_DOC = "900_hostile"
# A plain-text report whose text is markup: it must be shown as the characters it is.
HOSTILE_TEXT = f"""{SCRIPT}安全要点{IMG}
一、总体要求
各学校要把校园安全放在首位，{SCRIPT}认真落实安全责任制度，定期排查校舍、校车和食堂的安全隐患，确保师生平安。
二、具体措施
家长反映的{IMG}问题要及时处理，值班教师要做好记录并在当天向学校报告，重大情况立即上报教育局。
"""
HOSTILE_QUESTION = "各学校要把什么放在首位？"


def make_hostile_index(folder: Path) -> Path:
    """The bundled corpus plus a report made of ``<script>`` and ``onerror=`` markup."""
    corpus = folder / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / f"{HOSTILE_DOC}.txt").write_text(HOSTILE_TEXT, encoding="utf-8")
    return build_keyword_index(corpus, folder / "index")


# -- serving the app as in production -------------------------------------------------

@contextmanager
def serving(app) -> Iterator[str]:
    """``app`` served by waitress on an ephemeral loopback port, in a thread: its base URL."""
    from waitress import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4, ident="policyqa")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    host, port = server.socket.getsockname()[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        stop_server(server, thread)


def stop_server(server, thread: threading.Thread) -> None:
    """Close waitress's sockets from inside its own loop, so the loop ends cleanly."""

    def close_all() -> None:
        for channel in list(server._map.values()):
            channel.close()

    server.trigger.pull_trigger(close_all)
    thread.join(timeout=10)
    server.task_dispatcher.shutdown()


# -- the corpus and its indexes ---------------------------------------------------------

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
def keyword_index_dir(tmp_path_factory):
    """A keyword-only index of the bundled corpus, built once per session; no model."""
    return build_keyword_index(CORPUS, tmp_path_factory.mktemp("keyword-index"))


@pytest.fixture(scope="session")
def keyword_engine(keyword_index_dir):
    """The engine over ``keyword_index_dir``: keyword search only."""
    from indexer.retrieve.engine import Engine

    return Engine(keyword_index_dir)


@pytest.fixture(scope="session")
def real_embedder():
    """The real embedding model (the converted e5-small), loaded once per session."""
    from indexer.embed.embedder import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def model_index_dir(tmp_path_factory, real_embedder):
    """The bundled corpus indexed as ``make index`` does (keyword and real-model vectors),
    built once per session."""
    from indexer.store.build import build

    folder = tmp_path_factory.mktemp("model-index")
    build(CORPUS, folder, embedder=real_embedder)
    return folder


@pytest.fixture(scope="session")
def model_engine(model_index_dir, real_embedder):
    """The engine over ``model_index_dir``, sharing the session's model: every mode works."""
    from indexer.retrieve.engine import Engine

    return Engine(model_index_dir, embedder=real_embedder)


# The older names, still asked for by test modules that serve the app themselves: the
# index and engine ``app`` serves.
@pytest.fixture(scope="session")
def index_dir(model_index_dir):
    """The index ``app`` serves: ``model_index_dir``."""
    return model_index_dir


@pytest.fixture(scope="session")
def engine(model_engine):
    """The engine ``app`` serves: ``model_engine``."""
    return model_engine


@pytest.fixture(scope="module")
def app(model_index_dir, model_engine):
    """The web app over the session's model index. Every test request comes from
    127.0.0.1, so the question rate limit is off here and tested on its own."""
    from webapp import create_app

    return create_app({"TESTING": True, "INDEX_DIR": model_index_dir,
                       "POLICYQA_ENGINE": model_engine, "WEB_ASK_RATE": 0})


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
