"""``python -m webapp``: serve the app with waitress (not the Flask development server)."""

from __future__ import annotations

import argparse
import logging
import sys

from indexer import settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m webapp", description=__doc__)
    parser.add_argument("--host", default=settings.get("web_host"),
                        help="address to listen on (default: %(default)s, loopback only)")
    parser.add_argument("--port", type=int, default=settings.get("web_port"),
                        help="port to listen on, 0 for any free one (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=settings.get("web_threads"),
                        help="worker threads (default: %(default)s)")
    parser.add_argument("--index", default=None,
                        help="index folder (default: the index_dir setting)")
    parser.add_argument("--warm", action="store_true",
                        help="open the index and load the embedding model before serving, "
                             "so the first semantic search or question does not wait")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Configure logging, build the app and serve it until interrupted."""
    args = parse_args(argv)
    logging.basicConfig(level=settings.get("log_level").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("jieba").setLevel(logging.WARNING)

    from waitress import create_server

    from webapp import create_app

    overrides = {"INDEX_DIR": args.index} if args.index else None
    app = create_app(overrides)
    if args.warm:
        from webapp.services import EXTENSION

        try:
            app.extensions[EXTENSION].warm()
        except Exception as exc:  # the app still serves, and says what is wrong per request
            logging.getLogger("webapp").warning("could not warm up: %s", exc)
    # waitress itself refuses bodies far over the app's limit before buffering them; the
    # app answers the ones in between with its 413 in the JSON error shape.
    server = create_server(app, host=args.host, port=args.port, threads=args.threads,
                           ident="policyqa",
                           max_request_body_size=max(4 * app.config["MAX_CONTENT_LENGTH"],
                                                     1 << 20))
    host, port = server.socket.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"serving {app.config['INDEX_DIR']} at http://{shown}:{port}/ "
          f"({args.threads} threads; Ctrl-C to stop)", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
