"""``python -m webapp``: serve the app in production (not the Flask development server).

By default one worker process per core under gunicorn (:mod:`webapp.prefork`); with
``--workers 1`` or ``--server waitress``, one process with threads under waitress (also
on Windows, where gunicorn does not run, and for debugging).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import sys
from typing import Any

from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.task import ErrorTask

from indexer import settings
from webapp import SECURITY_HEADERS
from webapp.errors import NON_ASCII_ADDRESS

SERVERS = ("auto", "gunicorn", "waitress")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m webapp", description=__doc__)
    parser.add_argument("--host", default=settings.get("web_host"),
                        help="address to listen on (default: %(default)s, loopback only)")
    parser.add_argument("--port", type=int, default=settings.get("web_port"),
                        help="port to listen on, 0 for any free one (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=settings.get("web_workers"),
                        help="server processes, 0 for one per core (default: %(default)s); "
                             "more than one runs gunicorn")
    parser.add_argument("--server", choices=SERVERS, default=settings.get("web_server"),
                        help="auto: gunicorn for several workers, waitress for one "
                             "(default: %(default)s)")
    parser.add_argument("--threads", type=int, default=settings.get("web_threads"),
                        help="threads per process (default: %(default)s)")
    parser.add_argument("--index", default=None,
                        help="index folder (default: the index_dir setting)")
    parser.add_argument("--warm", action="store_true",
                        help="open the index and load the embedding model before serving, "
                             "so the first semantic search or question does not wait")
    args = parser.parse_args(argv)
    if args.workers < 0 or args.threads < 1:
        parser.error("--workers must be 0 or more and --threads 1 or more")
    args.server, args.workers = choose_server(args.server, args.workers, parser)
    return args


def choose_server(server: str, workers: int, parser: argparse.ArgumentParser
                  ) -> tuple[str, int]:
    """The server and its process count: gunicorn for several processes, else waitress."""
    if server not in SERVERS:
        parser.error(f"unknown server {server!r}: use one of {', '.join(SERVERS)}")
    gunicorn = sys.platform != "win32" and importlib.util.find_spec("gunicorn") is not None
    if server == "waitress" or (server == "auto" and not gunicorn):
        if workers > 1:
            parser.error("waitress serves in one process: use --workers 1, or gunicorn")
        return "waitress", 1
    if server == "gunicorn" and not gunicorn:
        parser.error("gunicorn is not available here (it does not run on Windows)")
    from webapp.prefork import cores

    workers = workers or cores()
    return ("gunicorn" if server == "gunicorn" or workers > 1 else "waitress"), workers


class _ErrorTask(ErrorTask):
    """What waitress answers itself (a malformed request, headers over its limit, a body
    far over the app's): the app's JSON error shape and security headers, not plain text."""

    def execute(self) -> None:
        error = self.request.error
        # waitress says "Bad URI" only when the address does not decode as ASCII
        detail = NON_ASCII_ADDRESS if error.body == "Bad URI" else error.body
        message = f"{error.reason}: {detail}" if detail else error.reason
        body = json.dumps({"ok": False, "error": message, "status": error.code}).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend([("Content-Type", "application/json"),
                                      ("Cache-Control", "no-store"),
                                      *SECURITY_HEADERS.items()])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    error_task_class = _ErrorTask


def make_server(app, host: str, port: int, threads: int, **adjustments: Any):
    """The waitress server of ``app``, as ``python -m webapp`` runs it.

    waitress reads a whole body before the app sees it, so its own limit stays finite:
    four times ``web_max_body_bytes`` (at least 1 MB). Bodies between the two limits get
    the app's 413; what waitress still refuses itself gets the app's shape and headers.
    """
    adjustments.setdefault("max_request_body_size",  # uploads: UPLOAD_BODY_LIMIT (admin.py)
                           max(4 * app.config["MAX_CONTENT_LENGTH"], 1 << 20,
                               app.config.get("UPLOAD_BODY_LIMIT", 0)))
    server = create_server(app, host=host, port=port, threads=threads, ident="policyqa",
                           **adjustments)
    listeners = [server] if isinstance(server, BaseWSGIServer) else [
        each for each in server.map.values() if isinstance(each, BaseWSGIServer)]
    for listener in listeners:  # each makes a channel per connection, on accepting it
        listener.channel_class = _Channel
    return server


def main(argv: list[str] | None = None) -> int:
    """Configure logging, build the app and serve it until interrupted."""
    args = parse_args(argv)
    several = args.server == "gunicorn"
    logging.basicConfig(level=settings.get("log_level").upper(),
                        format="%(asctime)s %(levelname)s "
                               + ("[%(process)d] " if several else "") + "%(name)s: %(message)s")
    logging.getLogger("jieba").setLevel(logging.WARNING)
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)  # not a line per 429

    from webapp import create_app

    overrides = {"INDEX_DIR": args.index} if args.index else None
    app = create_app(overrides)
    if several:
        from webapp import prefork

        return prefork.serve(app, args.host, args.port, workers=args.workers,
                             threads=args.threads, warm=args.warm)
    if args.warm:
        from webapp.services import EXTENSION

        try:
            app.extensions[EXTENSION].warm()
        except Exception as exc:  # the app still serves, and says what is wrong per request
            logging.getLogger("webapp").warning("could not warm up: %s", exc)
    server = make_server(app, host=args.host, port=args.port, threads=args.threads)
    host, port = server.socket.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"serving {app.config['INDEX_DIR']} at http://{shown}:{port}/ "
          f"(waitress, one process x {args.threads} threads; Ctrl-C to stop)", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
