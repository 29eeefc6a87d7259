"""The evaluation data the benchmarks read: ``../shared/bench/``, beside the project.

A fresh clone does not have it, so the benchmarks ask for each file through
:func:`shared_file`, which exits with one line saying what is missing, not a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_BENCH = ROOT.parent / "shared" / "bench"


def _program() -> str:
    """The running benchmark as ``python -m`` names it (e.g. ``bench.keyword_bench``)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return spec.name if spec is not None else Path(sys.argv[0]).name


def _missing(shown: str, path: Path) -> SystemExit:
    """The one-line exit for a missing file, saying where shared data comes from."""
    where = ""
    if path.resolve().is_relative_to(SHARED_BENCH.resolve()):
        where = f" (the evaluation data beside the project, looked for at {path}; see README)"
    return SystemExit(f"{_program()}: {shown} is missing{where}")


def shared_file(relpath: str) -> Path:
    """The file ``relpath`` of ``../shared/bench``.

    Raises SystemExit (status 1, one line on stderr) when it is missing.
    """
    path = SHARED_BENCH / relpath
    if not path.is_file():
        raise _missing(f"../shared/bench/{relpath}", path)
    return path


def scale_rows(count: int) -> list[str]:
    """The first ``count`` lines of ``../shared/bench/scale_passages.jsonl`` (one JSON
    passage each, newline kept)."""
    with shared_file("scale_passages.jsonl").open(encoding="utf-8") as handle:
        return [line for _, line in zip(range(count), handle, strict=False)]


def existing_file(path: Path) -> Path:
    """``path``, a file named on the command line.

    Raises SystemExit (status 1, one line on stderr) when it is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise _missing(str(path), path)
    return path
