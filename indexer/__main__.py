"""Command line: python -m indexer inspect | build | update | search | ask | eval | check."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from indexer import settings
from indexer.cli import COMMANDS
from indexer.errors import PolicyQAError

log = logging.getLogger("indexer")


def parser() -> argparse.ArgumentParser:
    """The argument parser, one sub-command per entry of :data:`indexer.cli.COMMANDS`."""
    root = argparse.ArgumentParser(prog="python -m indexer",
                                   description="Build and query the policy-report index.")
    root.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = root.add_subparsers(dest="command", required=True)
    for name, (add_arguments, _run, help_text) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code; errors are one line on stderr."""
    args = parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else settings.get("log_level")
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    _add, run, _help = COMMANDS[args.command]
    try:
        return run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # every failure is one clear line, with details under -v
        log.debug("command failed", exc_info=True)
        message = str(exc) or exc.__class__.__name__
        code = exc.exit_code if isinstance(exc, PolicyQAError) else 1
        if getattr(args, "json", False):  # "status" is the exit code, as in `check --json`
            print(json.dumps({"ok": False, "error": message, "status": code},
                             ensure_ascii=False))
        print(f"error: {message}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
