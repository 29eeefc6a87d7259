"""Index generations: a build writes a new folder and switches ``CURRENT`` to it atomically.

Readers resolve ``CURRENT`` once and keep using that folder, so they never see half an
index. One writer at a time holds ``build.lock``, which records its owner; a lock whose
owner process is dead is taken over, so a killed build never needs a human.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from indexer.errors import IndexDamaged, IndexNotReady, WriterBusy

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
LOCK = "build.lock"
BUILDING_SUFFIX = ".building"






def current_generation(index_dir: Path) -> Path:
    """The folder of the live generation.

    Raises IndexNotReady if there is none, IndexDamaged if CURRENT names no folder.
    """
    pointer = Path(index_dir) / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexNotReady(
            f"no index at {index_dir}: run `python -m indexer build` (or `make run`) first"
        ) from None
    except UnicodeDecodeError:
        raise IndexDamaged([f"{CURRENT} is not text"], index_dir) from None
    if not name:
        raise IndexDamaged([f"{CURRENT} is empty: it names no generation"], index_dir)
    folder = Path(index_dir) / name
    if not folder.is_dir():
        raise IndexDamaged([f"{CURRENT} names {name}, but there is no folder {folder}"],
                           index_dir)
    return folder


def new_generation(index_dir: Path) -> Path:
    """Create an empty folder for a generation being built (not yet live)."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for attempt in range(1000):
        name = f"gen-{stamp}-{attempt:03d}"
        if (index_dir / name).exists():  # a build in the same second already published it
            continue
        folder = index_dir / f"{name}{BUILDING_SUFFIX}"
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot create a new generation folder in {index_dir}")


def publish(index_dir: Path, building: Path) -> Path:
    """Make a finished generation live: rename it, then switch CURRENT atomically."""
    final = building.with_name(building.name.removesuffix(BUILDING_SUFFIX))
    building.rename(final)
    pointer = Path(index_dir) / CURRENT
    tmp = pointer.with_name(f"{CURRENT}.{os.getpid()}.tmp")
    tmp.write_text(final.name + "\n", encoding="utf-8")
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, pointer)
    log.info("generation %s is live", final.name)
    return final


def remove_stale(index_dir: Path, keep: int = 2) -> list[str]:
    """Delete unfinished builds and all but the newest ``keep`` finished generations.

    The live generation is never removed. Readers that still hold an older generation
    open keep working on POSIX (open files survive unlink) until they reopen.
    """
    index_dir = Path(index_dir)
    try:
        live = current_generation(index_dir).name
    except IndexNotReady:
        live = None
    removed = []
    finished = sorted((p for p in index_dir.glob("gen-*") if p.is_dir()
                       and not p.name.endswith(BUILDING_SUFFIX)), key=lambda p: p.name)
    old = [p for p in finished[:-keep] if p.name != live] if keep else []
    unfinished = [p for p in index_dir.glob(f"gen-*{BUILDING_SUFFIX}") if p.is_dir()]
    for folder in old + unfinished:
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder.name)
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_owner(lock: Path) -> dict | None:
    try:
        return json.loads(lock.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """Hold the one-writer lock for a build or update; take over a dead owner's lock."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    lock = index_dir / LOCK
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            held = _read_owner(lock)
            same_host = held and held.get("host") == owner["host"]
            if held and (not same_host or _pid_alive(int(held.get("pid", -1)))):
                raise WriterBusy(
                    f"another build (pid {held.get('pid')} on {held.get('host')}) is writing "
                    f"the index at {index_dir}; wait for it to finish") from None
            log.warning("taking over a stale writer lock left by %s", held)
            lock.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(owner, handle)
        break
    else:
        raise WriterBusy(f"cannot take the writer lock at {lock}")
    try:
        yield
    finally:
        if (_read_owner(lock) or {}).get("pid") == owner["pid"]:
            lock.unlink(missing_ok=True)
