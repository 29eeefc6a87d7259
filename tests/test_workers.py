"""``python -m webapp --workers N``: gunicorn workers forked from one preloaded app.

Each test starts the real server in a child process on a free loopback port and tells
which worker answered a request by the worker process that holds its connection
(psutil). The question limit shared across workers needs Debian's ``redis-server``
(``make test`` installs it as root); without it that test is skipped.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from indexer import settings
from tests.conftest import CORPUS, ROOT, build_keyword_index
from webapp import CSP
from webapp.errors import NON_ASCII_ADDRESS
from webapp.prefork import FORK_SAFE_RUNTIMES

psutil = pytest.importorskip("psutil")

START_TIMEOUT = 120.0  # seconds for the server to print its address (a model may load)
LIMIT = 3  # questions per window in the limit tests
MAX_ASKS = 60  # requests one limit test may send, at most


@dataclass
class Served:
    """A running ``python -m webapp``: its master process, port and log file."""

    process: subprocess.Popen
    master: psutil.Process
    port: int
    log: Path

    def workers(self) -> list[psutil.Process]:
        return self.master.children()

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def first_line(stream, timeout: float) -> str:
    """The first line of ``stream``, or "" if none comes within ``timeout`` seconds."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


@contextmanager
def webapp_server(index: Path, log: Path, *options: str, **settings) -> Iterator[Served]:
    """``python -m webapp --workers 2 --port 0 --index INDEX`` with ``POLICYQA_*``
    ``settings``, until the block ends; waits for both workers to run."""
    env = {**os.environ, "POLICYQA_LOG_LEVEL": "INFO", "POLICYQA_WEB_ASK_RATE": "0",
           "POLICYQA_VECTORS_ENABLED": "false",
           **{f"POLICYQA_{name.upper()}": str(value) for name, value in settings.items()}}
    command = [sys.executable, "-m", "webapp", "--workers", "2", "--host", "127.0.0.1",
               "--port", "0", "--index", str(index), *options]
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                   stderr=stderr, text=True)
    try:
        line = first_line(process.stdout, START_TIMEOUT)
        match = re.search(r"http://127\.0\.0\.1:(\d+)/ \(gunicorn, 2 workers", line)
        assert match, (line, log.read_text(encoding="utf-8", errors="replace")[-3000:])
        served = Served(process, psutil.Process(process.pid), int(match.group(1)), log)
        deadline = time.monotonic() + START_TIMEOUT
        while len(served.workers()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(served.workers()) == 2, served.log_text()[-3000:]
        yield served
    finally:
        process.terminate()  # a server that ignores it fails the test here
        process.stdout.close()
        process.wait(timeout=60)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    worker: int | None  # the pid of the worker that answered


def worker_of(served: Served, connection: http.client.HTTPConnection) -> int | None:
    """The worker holding the server side of ``connection`` (kept alive after a response)."""
    port = connection.sock.getsockname()[1]
    for worker in served.workers():
        if any(c.raddr and c.raddr.port == port for c in worker.net_connections("tcp")):
            return worker.pid
    return None


def fetch(served: Served, path: str) -> Answer:
    """GET ``path`` on a new connection; the answer and which worker gave it."""
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=60)
    try:
        connection.request("GET", quote(path, safe="/?=&"))
        response = connection.getresponse()
        body = response.read()
        return Answer(response.status, dict(response.getheaders()), body,
                      worker_of(served, connection))
    finally:
        connection.close()


# -- Redis, when Debian's redis-server is installed ----------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """A private redis-server on a free loopback port, without persistence."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (make test installs Debian's "
                    "redis-server when run as root)")
    import redis

    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--dir", str(folder)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}"
    try:
        client = redis.Redis.from_url(url, socket_timeout=1)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"redis-server did not start on port {port}")
                time.sleep(0.1)
        client.close()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


# -- the question limit --------------------------------------------------------------------

def ask_until(served: Served, enough) -> list[Answer]:
    """Questions from one client, each on a new connection, until ``enough(answers)``.

    ``/api/ask?q=`` is counted like any question and then refused by the view (400), so
    the test depends on the limit alone.
    """
    answers: list[Answer] = []
    while len(answers) < MAX_ASKS and not enough(answers):
        answers.append(fetch(served, "/api/ask?q="))
    return answers


def assert_refused(answer: Answer) -> None:
    assert answer.status == 429
    body = json.loads(answer.body)
    assert body["ok"] is False and body["status"] == 429
    assert body["error"].startswith(f"too many questions from your address: at most {LIMIT} "
                                    "every 60 seconds; try again in ")
    assert 1 <= int(answer.headers["Retry-After"]) <= 60
    assert body["error"].endswith(f"{answer.headers['Retry-After']} s")
    assert answer.headers["Content-Security-Policy"] == CSP


def test_the_question_limit_holds_across_workers(keyword_index_dir, redis_url, tmp_path):
    def refused_by_both(answers: list[Answer]) -> bool:
        return len({a.worker for a in answers if a.status == 429}) == 2

    with webapp_server(keyword_index_dir, tmp_path / "server.log", web_ask_rate=LIMIT,
                       web_ask_rate_window=60, web_rate_limit_storage=redis_url) as served:
        answers = ask_until(served, refused_by_both)
        log = served.log_text()
    assert refused_by_both(answers), [(a.status, a.worker) for a in answers]
    assert [a.status for a in answers[:LIMIT]] == [400] * LIMIT  # counted, then refused
    for answer in answers[LIMIT:]:  # by either worker: they share one count
        assert_refused(answer)
    assert None not in {a.worker for a in answers}
    assert "counted per worker" not in log


def test_with_memory_storage_each_worker_counts_on_its_own(keyword_index_dir, tmp_path):
    def each_asked_past_its_limit(answers: list[Answer]) -> bool:
        per_worker = Counter(a.worker for a in answers)
        return len(per_worker) == 2 and min(per_worker.values()) > LIMIT

    with webapp_server(keyword_index_dir, tmp_path / "server.log", web_ask_rate=LIMIT,
                       web_ask_rate_window=60, web_rate_limit_storage="memory://") as served:
        answers = ask_until(served, each_asked_past_its_limit)
        log = served.log_text()
    assert each_asked_past_its_limit(answers), [(a.status, a.worker) for a in answers]
    allowed = Counter(a.worker for a in answers if a.status == 400)
    assert sorted(allowed.values()) == [LIMIT, LIMIT]  # one allowance per worker
    for answer in answers:
        if answer.status != 400:
            assert_refused(answer)
    assert ("the question limit (web_ask_rate) is counted per worker: with 2 workers a "
            "client may ask up to 2 times as often") in log


def test_when_redis_does_not_answer_each_process_counts_on_its_own(tmp_path, caplog):
    from webapp import create_app
    from webapp.ratelimit import EXTENSION

    app = create_app({"TESTING": True, "INDEX_DIR": tmp_path, "WEB_ASK_RATE": LIMIT,
                      "WEB_ASK_RATE_WINDOW": 60,
                      "WEB_RATE_LIMIT_STORAGE": f"redis://127.0.0.1:{free_port()}"})
    assert not app.extensions[EXTENSION].reachable()
    client = app.test_client()
    statuses = [client.get("/api/ask?q=").status_code for _ in range(LIMIT + 2)]
    assert statuses == [400] * LIMIT + [429, 429]  # still limited, in this process's memory
    assert "Rate limit storage unreachable - falling back to in-memory storage" in caplog.text


# -- each worker opens the index itself -----------------------------------------------------

def held(process: psutil.Process, folder: Path) -> list[str]:
    """Files under ``folder`` and SQLite files ``process`` holds open or mapped."""
    paths = {f.path for f in process.open_files()}
    paths |= {m.path for m in process.memory_maps(grouped=True)}
    return sorted(p for p in paths if p.startswith(f"{folder}{os.sep}")
                  or p.endswith((".sqlite", ".sqlite-wal")))


def generation_of(answer: Answer) -> str:
    assert answer.status == 200, answer.body
    return json.loads(answer.body)["generation"]


def test_each_worker_opens_the_index_itself_and_follows_updates(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    index = build_keyword_index(corpus, tmp_path / "index")
    with webapp_server(index, tmp_path / "server.log", "--warm") as served:
        deadline = time.monotonic() + START_TIMEOUT
        while (not all(held(w, index) for w in served.workers())
               and time.monotonic() < deadline):
            time.sleep(0.2)
        assert all(held(w, index) for w in served.workers()), served.log_text()[-3000:]
        assert held(served.master, index) == []  # nothing to share across a fork
        old = (index / "CURRENT").read_text(encoding="utf-8").strip()

        (corpus / "900_added.txt").write_text(
            "某县2023年校车安全管理报告\n全县校车四十二辆，工作标记词 workertoken 用来确认更新。\n",
            encoding="utf-8")
        env = {**os.environ, "POLICYQA_VECTORS_ENABLED": "false", "POLICYQA_PROGRESS": "0"}
        subprocess.run([sys.executable, "-m", "indexer", "update", str(corpus), "--index",
                        str(index)], cwd=ROOT, env=env, check=True, timeout=300,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        new = (index / "CURRENT").read_text(encoding="utf-8").strip()
        assert new != old
        seen: dict[int, str] = {}
        deadline = time.monotonic() + 60
        while (len(seen) < 2 or set(seen.values()) != {new}) and time.monotonic() < deadline:
            answer = fetch(served, "/api/health")
            seen[answer.worker] = generation_of(answer)
        found = {}
        while len(found) < 2 and time.monotonic() < deadline:
            answer = fetch(served, "/api/search?q=workertoken")
            found[answer.worker] = [h["doc_id"] for h in json.loads(answer.body)["hits"]]
        log = served.log_text()
    assert set(seen.values()) == {new} and len(seen) == 2, seen
    assert list(found.values()) == [["900_added"], ["900_added"]], found
    opened = re.findall(r"\[(\d+)\] indexer\.retrieve\.local: opening index generation "
                        rf"{new}", log)
    assert len(set(opened)) == 2 and str(served.master.pid) not in opened


# -- what gunicorn refuses itself -----------------------------------------------------------

@pytest.fixture(scope="module")
def plain_server(keyword_index_dir, tmp_path_factory) -> Iterator[Served]:
    with webapp_server(keyword_index_dir, tmp_path_factory.mktemp("plain") / "server.log",
                       web_max_body_bytes=1024) as served:
        yield served


def exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as bytes; the status, headers and body of the answer."""
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        while b"\r\n\r\n" not in data and (chunk := sock.recv(65536)):
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        while len(body) < int(headers["Content-Length"]) and (chunk := sock.recv(65536)):
            body += chunk
    return int(lines[0].split()[1]), headers, body


GUNICORN_ERRORS = [
    pytest.param(b"NOT A REQUEST LINE\r\n\r\n", 400, "Bad Request: Invalid Request Line",
                 id="bad-start-line"),
    pytest.param(b"GET /api/search?q=\xed\xb2\x80 HTTP/1.1\r\nHost: x\r\n\r\n", 400,
                 "Bad Request: " + NON_ASCII_ADDRESS, id="bytes-outside-ascii"),
    pytest.param(b"GET /api/ask?q=" + "县管校聘".encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                 400, "Bad Request: " + NON_ASCII_ADDRESS, id="raw-utf8-as-curl-sends-it"),
    pytest.param(b"GET /?q=" + b"a" * 8200 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414,
                 "URI Too Long: Request Line is too large (8217 > 8190)", id="line-too-long"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 8200 + b"\r\n\r\n", 431,
                 "Request Header Fields Too Large", id="header-too-large"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 101 + b"\r\n", 431,
                 "Request Header Fields Too Large", id="too-many-headers"),
    pytest.param(b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 999999999\r\n\r\n" + b"x" * 4096, 413,
                 "the request body is larger than the limit of 1024 bytes", id="body-over-limit"),
]


@pytest.mark.parametrize(("request_bytes", "status", "starts"), GUNICORN_ERRORS)
def test_what_gunicorn_refuses_has_the_error_shape_and_headers(plain_server, request_bytes,
                                                               status, starts):
    got, headers, body = exchange(plain_server.port, request_bytes)
    assert got == status, body
    assert headers["Content-Type"] == "application/json"
    data = json.loads(body)
    assert set(data) == {"ok", "error", "status"} and data["status"] == status
    assert data["error"].startswith(starts) and len(data["error"]) <= 300
    assert headers["Content-Security-Policy"] == CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"


def test_a_search_is_served_by_the_workers(plain_server):
    answer = fetch(plain_server, "/api/search?q=校车")
    assert answer.status == 200 and answer.worker in {w.pid for w in plain_server.workers()}
    assert json.loads(answer.body)["hits"][0]["doc_id"] == "000_2b1971d50fbc2800"


def test_a_second_server_on_the_same_port_is_refused(plain_server, keyword_index_dir):
    # The workers bind with SO_REUSEPORT, which would let another server share the port.
    done = subprocess.run([sys.executable, "-m", "webapp", "--workers", "2", "--host",
                           "127.0.0.1", "--port", str(plain_server.port), "--index",
                           str(keyword_index_dir)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "POLICYQA_VECTORS_ENABLED": "false"})
    assert done.returncode == 1 and done.stdout == ""
    assert f"cannot listen on 127.0.0.1:{plain_server.port}: Address already in use" in done.stderr


# -- choosing the server ----------------------------------------------------------------------

@pytest.mark.parametrize(("argv", "server", "workers"), [
    (["--workers", "1"], "waitress", 1),
    (["--server", "waitress"], "waitress", 1),
    (["--workers", "3"], "gunicorn", 3),
    (["--server", "gunicorn", "--workers", "1"], "gunicorn", 1),
])
def test_the_server_follows_the_worker_count(argv, server, workers):
    from webapp.__main__ import parse_args

    args = parse_args(argv)
    assert (args.server, args.workers) == (server, workers)


def test_the_default_is_one_worker_per_core(monkeypatch):
    from webapp.__main__ import parse_args
    from webapp.prefork import cores

    monkeypatch.delenv("POLICYQA_WEB_WORKERS", raising=False)
    args = parse_args([])
    assert args.workers == cores()
    assert args.server == ("gunicorn" if cores() > 1 else "waitress")


def test_waitress_refuses_several_workers(capsys):
    from webapp.__main__ import parse_args

    with pytest.raises(SystemExit):
        parse_args(["--server", "waitress", "--workers", "2"])
    assert "waitress serves in one process" in capsys.readouterr().err


# -- the model, loaded once before the fork (or once per worker) -----------------------------

@pytest.mark.model
@pytest.mark.slow
def test_the_model_loads_once_and_every_worker_embeds(model_index_dir, tmp_path):
    with webapp_server(model_index_dir, tmp_path / "server.log", "--warm",
                       vectors_enabled="true") as served:
        assert held(served.master, model_index_dir) == []  # no index file, no SQLite
        served_by: dict[int, list[str]] = {}
        deadline = time.monotonic() + START_TIMEOUT
        while len(served_by) < 2 and time.monotonic() < deadline:
            answer = fetch(served, "/api/search?q=如何解决校车接送问题&mode=semantic")
            assert answer.status == 200, answer.body
            served_by[answer.worker] = [h["doc_id"] for h in json.loads(answer.body)["hits"]]
        log = served.log_text()
    assert len(served_by) == 2, log[-3000:]
    first, second = served_by.values()
    assert first == second and first  # the same model in both
    loads = re.findall(r"\[(\d+)\] indexer\.embed\.\w+: loaded embedding model", log)
    if settings.get("embedding_runtime") in FORK_SAFE_RUNTIMES:
        assert loads == [str(served.master.pid)], log[-3000:]  # once, before the fork
    else:  # a runtime whose threads do not survive a fork: once in each worker
        assert len(loads) == len(set(loads)) == 2, log[-3000:]
        assert str(served.master.pid) not in loads
