"""Serving on every core: gunicorn's threaded workers, forked from a master that built the app.

The master builds the app once (``preload_app``) and loads what the workers can share
copy-on-write and that survives a fork: the jieba dictionary and the embedding model. It
opens no index file and no SQLite connection, so each worker opens the live generation
itself and follows CURRENT on its own, exactly as the single process does. Torch is run
with one thread in the master: a torch that has used several threads hangs in a forked
child. Each worker then gets its share of the cores for the model.

What gunicorn answers itself (a malformed request, a request line or header over its
limits) carries the app's JSON error shape and security headers, as with waitress.
Unix only: gunicorn does not run on Windows, where ``python -m webapp`` uses waitress.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.http import wsgi as gunicorn_wsgi
from gunicorn.workers.gthread import ThreadWorker

from indexer import settings
from webapp import SECURITY_HEADERS, ratelimit
from webapp.errors import NON_ASCII_ADDRESS
from webapp.services import EXTENSION

log = logging.getLogger(__name__)

# Runtimes whose loaded model is safe to use in a forked child; others load per worker.
FORK_SAFE_RUNTIMES = {"torch"}
THREADS_ENV = "POLICYQA_EMBEDDING_THREADS"
SERVER_NAME = "policyqa"  # the Server header and the process name

# What gunicorn itself accepts. Its request line cannot be longer than 8,190 bytes (0
# would mean unbounded); waitress bounds the request line and headers together at 256 KB.
LIMITS = {
    "limit_request_line": 8190,
    "limit_request_fields": 100,
    "limit_request_field_size": 8190,
}


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's own error answer, in the app's JSON shape with its security headers."""
    if status_int == 400 and mesg.startswith("Invalid Request Line") and not mesg.isascii():
        mesg = NON_ASCII_ADDRESS
    message = f"{reason}: {mesg}" if mesg else reason
    if len(message) > 300:  # it may quote the request line: not all 8 KB of it
        message = message[:299] + "…"
    body = json.dumps({"ok": False, "error": message, "status": status_int}).encode()
    head = [f"HTTP/1.1 {status_int} {reason}", "Connection: close",
            "Content-Type: application/json", f"Content-Length: {len(body)}",
            "Cache-Control: no-store", *(f"{k}: {v}" for k, v in SECURITY_HEADERS.items())]
    util.write_nonblock(sock, ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)


class Worker(ThreadWorker):
    """gunicorn's threaded worker, answering what gunicorn refuses in the app's JSON shape."""

    def init_process(self) -> None:
        # Worker.handle_error writes through gunicorn.util.write_error and offers no other
        # hook for the body; this runs in the worker process only, which is all ours.
        util.write_error = write_json_error
        # Every response's Server header is the module's SERVER (gunicorn/<version>), with no
        # setting for it: name the product instead, as waitress's ident does.
        gunicorn_wsgi.SERVER = SERVER_NAME
        super().init_process()


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def model_threads(workers: int) -> int:
    """Torch threads per worker: ``embedding_threads`` if set, else the worker's share."""
    return settings.get("embedding_threads") or max(1, cores() // workers)


def load_shared(app: Flask) -> None:
    """Load, before the fork, what every worker shares: the jieba dictionary and (when the
    live index has vectors, or none is built yet and vectors are on) the embedding model.

    Opens no index file and no SQLite connection. Failures are logged: the workers load
    what is missing on first use and say per request what is wrong.
    """
    from indexer.store import generations, manifest
    from indexer.text.analysis import tokens

    service = app.extensions[EXTENSION]
    try:
        tokens("教育 校车")  # the jieba dictionary and the folding table
        try:
            vectors = bool(manifest.read(generations.current_generation(service.index_dir))
                           .get("vectors"))
        except Exception:  # no index yet: the first build will follow the setting
            vectors = settings.get("vectors_enabled")
        embedder = service.engine.embedder() if vectors else None
        if embedder is not None and embedder.runtime in FORK_SAFE_RUNTIMES:
            embedder.embed_query("教育")
    except Exception as exc:
        log.warning("could not load the shared parts before starting the workers: %s", exc)
    gc.freeze()  # what is loaded now stays shared: the collector never writes to it


class Server(BaseApplication):
    """gunicorn running ``app`` with ``options`` (no config file, no command line)."""

    def __init__(self, app: Flask, options: dict[str, Any]):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        return self.application


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def claim_port(host: str, port: int) -> int:
    """``port`` (or, for 0, a free one) once checked free on ``host``: the port every
    worker then binds with SO_REUSEPORT.

    The check binds without SO_REUSEPORT, so it fails on a port that another server holds,
    even one that would share it, as a second ``python -m webapp`` would.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SystemExit(f"cannot listen on {bind_address(host, port)}: "
                             f"{exc.strerror}") from None
        return probe.getsockname()[1]


def serve(app: Flask, host: str, port: int, workers: int, threads: int,
          warm: bool = False) -> int:
    """Run gunicorn over ``app`` until it is stopped (SIGTERM: graceful, Ctrl-C: quick)."""
    # Each worker listens on its own socket (SO_REUSEPORT) and the kernel spreads new
    # connections over them; on one shared socket, whichever worker wakes first accepts,
    # and a burst of keep-alive clients can stay 28 to 4 on two workers.
    port = claim_port(host, port)
    shown = f"[{host}]" if ":" in host else host
    per_worker = model_threads(workers)
    os.environ[THREADS_ENV] = "1"  # the master's torch: one thread, or the workers hang
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # the same for the tokenizer
    index_dir = Path(app.config["INDEX_DIR"])
    asks: ratelimit.AskLimit = app.extensions[ratelimit.EXTENSION]
    if asks.enabled and not asks.shared:
        log.warning("the question limit (web_ask_rate) is counted per worker: with %d "
                    "workers a client may ask up to %d times as often; set "
                    "web_rate_limit_storage to a Redis URI to share it", workers, workers)
    elif asks.enabled and not asks.reachable():
        log.warning("the question limit's storage %s does not answer: each worker counts on "
                    "its own until it does", asks.storage_uri)
    load_shared(app)

    def post_fork(server, worker) -> None:
        os.environ[THREADS_ENV] = str(per_worker)  # for a model this worker loads later
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_num_threads(per_worker)

    def post_worker_init(worker) -> None:
        if warm:  # each worker opens the live generation before its first request
            try:
                app.extensions[EXTENSION].warm()
            except Exception as exc:  # it still serves, and says what is wrong per request
                log.warning("could not warm up: %s", exc)
        if worker.age == 1:  # the first worker listens and is ready: say where
            print(f"serving {index_dir} at http://{shown}:{port}/ (gunicorn, {workers} "
                  f"workers x {threads} threads; Ctrl-C to stop)", flush=True)

    options = {
        "bind": [bind_address(host, port)],
        "workers": workers,
        "worker_class": f"{__name__}.Worker",
        "threads": threads,
        "preload_app": True,
        "reuse_port": True,
        **LIMITS,
        "forwarded_allow_ips": "",  # no proxy headers trusted, as waitress
        "keepalive": 30,  # seconds an idle connection is kept (waitress: 120)
        "timeout": 120,  # a warm worker opens the index before its first heartbeat
        "graceful_timeout": 30,
        "control_socket_disable": True,  # no ~/.gunicorn socket shared between servers
        "loglevel": settings.get("log_level").lower(),
        "proc_name": SERVER_NAME,
        "post_fork": post_fork,
        "post_worker_init": post_worker_init,
    }
    Server(app, options).run()
    return 0
