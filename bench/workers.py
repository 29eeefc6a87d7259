"""Telling the processes of a server apart: which one holds a connection, and when each
first serves a new index generation (used by the soak test)."""

from __future__ import annotations

import http.client
import json
import threading
import time
from pathlib import Path

from bench.web_load import server_processes

INDEXER_TIMEOUT = 600.0  # seconds for one build or update
SWITCH_TIMEOUT = 60.0  # seconds for a server to serve a published generation


def fetch(connection: http.client.HTTPConnection, url: str) -> tuple[int, bytes]:
    """GET ``url`` on ``connection``; the status and the body."""
    connection.request("GET", url)
    response = connection.getresponse()
    return response.status, response.read()


def workers_of(pid: int) -> list[int]:
    """The processes that answer requests: gunicorn's workers, or the one waitress process."""
    return [p.pid for p in server_processes(pid)[1:]] or [pid]


def holder(pids: list[int], connection: http.client.HTTPConnection) -> int | None:
    """Which of ``pids`` holds the server side of ``connection``."""
    import psutil

    port = connection.sock.getsockname()[1]
    for pid in pids:
        try:
            if any(c.raddr and c.raddr.port == port
                   for c in psutil.Process(pid).net_connections("tcp")):
                return pid
        except psutil.Error:
            continue
    return None


class SwitchWatch(threading.Thread):
    """While an update runs: when CURRENT names a new generation, and when each worker
    first answers /api/health (on a new connection) with a generation other than ``old``."""

    def __init__(self, host: str, port: int, index: Path, old: str, workers: list[int]):
        super().__init__(daemon=True)
        self.host, self.port, self.index, self.old = host, port, index, old
        self.workers = workers
        self.published: float | None = None  # when CURRENT changed (its mtime, epoch s)
        self.first: dict[int, tuple[float, str]] = {}  # worker → (time.time(), generation)
        self.stop = threading.Event()

    def done(self) -> bool:
        return self.published is not None and len(self.first) == len(self.workers)

    def run(self) -> None:
        deadline = time.monotonic() + INDEXER_TIMEOUT + SWITCH_TIMEOUT
        while not self.stop.is_set() and not self.done() and time.monotonic() < deadline:
            if self.published is None:
                current = self.index / "CURRENT"  # replaced whole: its mtime is the switch
                try:
                    name, mtime = current.read_text(encoding="utf-8").strip(), current.stat()
                except OSError:
                    name, mtime = self.old, None
                if name != self.old and mtime is not None:
                    self.published = mtime.st_mtime
            connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                status, body = fetch(connection, "/api/health")
                worker = holder(self.workers, connection)
                name = json.loads(body).get("generation") if status == 200 else None
            except (OSError, http.client.HTTPException, ValueError):
                worker = name = None
            finally:
                connection.close()
            if name and name != self.old and worker is not None:
                self.first.setdefault(worker, (time.time(), name))
            time.sleep(0.05)

    def switch_seconds(self) -> dict[str, float]:
        """Per worker: seconds from CURRENT changing to its first answer from the new one."""
        return {str(pid): round(at - (self.published or at), 3)
                for pid, (at, _) in sorted(self.first.items())}
