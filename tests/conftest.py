"""Shared fixtures and helpers: the bundled corpus, its indexes built once, the web app over it.

Two session indexes of the bundled corpus: ``keyword_index_dir`` (keyword only, needs no
embedding model) and ``model_index_dir`` (keyword and real-model vectors, as ``make index``
builds it). ``app`` serves the model index, so every search mode works. Data beyond the
corpus comes from ``tests/data/`` (see its README). Embeddings are cached in a temporary
folder for the session, never in ``instance/``. The browser tests share a headless
Chromium set-up: :func:`browser_api`, :func:`chromium`, the ``browser_context`` and ``page``
fixtures (:func:`tab_fixture` makes a tab fixture of another browser).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DATA = ROOT / "tests" / "data"
CACHE_ENV = "POLICYQA_EMBEDDING_CACHE_DIR"
_SESSION_CACHE = pytest.StashKey[str]()
MILVUS_ENV = "POLICYQA_MILVUS_URI"

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
    if "indexer.milvus.client" in sys.modules:
        sys.modules["indexer.milvus.client"].close_all()


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


# -- answers the model is unsure of, and sure of ----------------------------------------

# Own-words train questions with a phrase of their right answer: the first (ow-140)
# answered below the answer model's sure threshold, the second far above it. A retrained
# model may move them; the CLI, API and answer tests read them from here (the eval test
# asks ow-140 by its qid).
TENTATIVE_QUESTION = "操場、食堂、危樓這一批翻修,說好在什麼時候之前弄完?"
TENTATIVE_ANSWER = "秋季開學前"
SURE_QUESTION = "句容各个学校一共装了多少个摄像头?"
SURE_ANSWER = "2000余个"

# -- a report made of markup ----------------------------------------------------------

SAFETY_DOC = "000_2b1971d50fbc2800"
SAFETY_PASSAGE = "000_2b1971d50fbc2800-debbb32e51"

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

def text_of(response) -> str:
    return response.get_data(as_text=True)


def assert_error_shape(response, status: int, starts: str = "") -> dict:
    """The one JSON error shape, with ``status`` and a message starting with ``starts``."""
    assert response.status_code == status
    assert response.content_type == "application/json"
    body = response.get_json()
    assert set(body) == {"ok", "error", "status"}
    assert body["ok"] is False and body["status"] == status
    assert body["error"].startswith(starts)
    return body


@contextmanager
def serving(app) -> Iterator[str]:
    """``app`` served as ``python -m webapp`` serves it (waitress, its limits and error
    responses) on an ephemeral loopback port, in a thread: its base URL."""
    from webapp.__main__ import make_server

    server = make_server(app, host="127.0.0.1", port=0, threads=4)
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

    try:
        server.trigger.pull_trigger(close_all)
    except OSError:  # its wake-up pipe is already closed: the loop cannot be woken
        close_all()
    thread.join(timeout=10)
    server.task_dispatcher.shutdown()


# -- a real browser: Debian's headless Chromium, driven by Playwright -------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOTS = ROOT / "bench" / "out" / "screenshots"


def browser_api():
    """Playwright's sync API, for a browser test module to call as it is imported: the
    module is skipped, with the reason, when ``/usr/bin/chromium`` or ``playwright`` is
    missing."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium (apt-get install -y chromium)",
                    allow_module_level=True)
    return pytest.importorskip("playwright.sync_api",
                               reason="needs the playwright pip package (pip install playwright)")


@contextmanager
def chromium(playwright, folder: Path, **options: Any) -> Iterator[Any]:
    """Headless Chromium with a fresh profile directory in ``folder``; ``options`` go to
    its browser context (viewport, touch, ...)."""
    context = playwright.chromium.launch_persistent_context(
        str(folder), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
        locale="zh-CN", **options)
    try:
        yield context
    finally:
        context.close()
        shutil.rmtree(folder, ignore_errors=True)


def new_tab(context):
    """A new tab that records console errors (a CSP violation shows up there) and dialogs."""
    tab = context.new_page()
    tab.errors = []
    tab.dialogs = []
    tab.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))

    def dialog(opened) -> None:
        tab.dialogs.append(opened.message)
        opened.dismiss()

    tab.on("dialog", dialog)
    return tab


def shoot(page, name: str) -> None:
    """What ``page`` shows, saved as ``bench/out/screenshots/<name>.png`` (ignored by git)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


@pytest.fixture(scope="module")
def playwright():
    """One Playwright driver for a browser test module (its sync API runs one at a time)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser_context(playwright, tmp_path_factory):
    """A desktop browser: 1280×900, mouse and keyboard."""
    with chromium(playwright, tmp_path_factory.mktemp("chromium-profile"),
                  viewport=DESKTOP) as context:
        yield context


def tab_fixture(browser: str, about: str):
    """A fixture: a new tab (see :func:`new_tab`) of the browser context that the fixture
    named ``browser`` gives, closed after each test; ``about`` is its docstring."""

    def tab(request):
        opened = new_tab(request.getfixturevalue(browser))
        yield opened
        opened.close()

    tab.__doc__ = about
    return pytest.fixture(tab)


page = tab_fixture("browser_context", "A desktop tab (see :func:`new_tab`).")


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


@pytest.fixture(scope="session", autouse=True)
def milvus_folder(tmp_path_factory) -> Iterator[Path]:
    """Where milvus-lite keeps the session's Milvus indexes: a folder of pytest's own
    temporary tree (milvus-lite writes to it until the process exits)."""
    folder = tmp_path_factory.mktemp("milvus") / "tests.db"
    previous = os.environ.get(MILVUS_ENV)
    os.environ[MILVUS_ENV] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop(MILVUS_ENV, None)
    else:
        os.environ[MILVUS_ENV] = previous


@pytest.fixture(scope="session")
def milvus_engine(real_embedder):
    """The bundled corpus indexed in milvus-lite (keyword and real-model vectors, under
    the alias ``corpus``), and the engine over it: the Milvus twin of ``model_engine``."""
    from indexer.milvus.backend import MilvusIndex
    from indexer.milvus.build import build
    from indexer.milvus.client import Names
    from indexer.retrieve.engine import Engine

    names = Names("corpus")
    build(CORPUS, embedder=real_embedder, names=names)
    return Engine(None, embedder=real_embedder,
                  backend=MilvusIndex(None, lambda: real_embedder, names))


@pytest.fixture(scope="session", params=["local", "milvus"])
def any_engine(request):
    """The engine over the bundled corpus on each backend: a test asking for it is a
    contract every backend keeps."""
    return request.getfixturevalue("model_engine" if request.param == "local"
                                   else "milvus_engine")


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
