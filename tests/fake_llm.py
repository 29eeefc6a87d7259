"""A fake OpenAI-compatible chat server for tests: canned replies on 127.0.0.1.

    with FakeLLM(reply="……[1]。") as llm:
        overrides = {"answer_llm_base_url": llm.base_url, "answer_llm_model": "fake"}

``reply`` is a string or a function of the request body; ``delay`` holds every answer
back (to test timeouts); ``status`` other than 200 sends an error. Every request is
recorded in ``llm.requests`` as ``{"path", "headers", "body"}``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeLLM:
    """A chat-completions endpoint in a thread, on an ephemeral loopback port."""

    def __init__(self, reply: str | Callable[[dict], str] = "", delay: float = 0.0,
                 status: int = 200, raw: bytes | None = None):
        self.reply = reply
        self.delay = delay
        self.status = status
        self.raw = raw
        self.requests: list[dict] = []
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the server is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeLLM:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append({"path": self.path, "headers": dict(self.headers),
                                      "body": body})
                if fake.delay and fake._stop.wait(fake.delay):
                    return
                if not self.path.endswith("/chat/completions"):
                    self._send(404, {"error": {"message": "not found"}})
                elif fake.status != 200:
                    self._send(fake.status, {"error": {"message": "fake failure"}})
                elif fake.raw is not None:
                    self._send_bytes(200, fake.raw)
                else:
                    text = fake.reply(body) if callable(fake.reply) else fake.reply
                    self._send(200, {
                        "id": "chatcmpl-fake", "object": "chat.completion",
                        "model": body.get("model", "fake"),
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": text}}],
                    })

            def _send(self, status: int, data: dict) -> None:
                self._send_bytes(status, json.dumps(data, ensure_ascii=False).encode())

            def _send_bytes(self, status: int, payload: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, format: str, *args) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
