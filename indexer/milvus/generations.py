"""Generations in Milvus: one writer at a time, an atomic switch, old ones dropped later.

- **Lease.** A writer records ``{pid, host, token, expires}`` under ``lease`` in the
  control collection and renews it while it works. Another writer finding a lease that
  has not expired (and whose process is alive, when on the same host) gets
  :class:`~indexer.errors.WriterBusy`; a killed build's lease expires after
  ``milvus_lease_seconds``, or at once on its own host. Milvus has no compare-and-set, so
  the writer reads its lease back after a short pause and gives way if another took it.
- **Switch.** A generation is live when the alias points at its passage collection;
  ``alter_alias`` moves it atomically. Until then readers keep the old one.
- **Grace.** The replaced generation is recorded as retired (``retired:<name>``) and
  dropped by a later build once ``milvus_grace_seconds`` have passed, so readers that
  still hold it finish their requests. Collections of a build that never went live (it
  was killed) are dropped by the next writer.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from indexer import settings
from indexer.errors import IndexNotReady, WriterBusy
from indexer.milvus import blobs, schema
from indexer.milvus.client import Names, live_generation

log = logging.getLogger(__name__)

LEASE = "lease"
RETIRED = "retired:"
# How long a new lease waits before reading itself back (another writer's put lands).
SETTLE_SECONDS = 0.3


def ensure_control(client, names: Names) -> None:
    if not client.has_collection(names.control):
        schema.create_blobs(client, names.control)


def _alive(owner: dict) -> bool:
    """Whether a lease's owner may still be working."""
    if owner.get("expires", 0) < time.time():
        return False
    if owner.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(owner.get("pid", -1)), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


class Lease:
    """This process's right to write the index; :meth:`renew` it while working."""

    def __init__(self, client, names: Names):
        self.client, self.names = client, names
        self.owner = {"pid": os.getpid(), "host": socket.gethostname(),
                      "token": uuid.uuid4().hex}
        self._renewed = 0.0

    def take(self) -> None:
        held = blobs.get_json(self.client, self.names.control, LEASE)
        if held and held.get("token") != self.owner["token"] and _alive(held):
            raise WriterBusy(f"another build (pid {held.get('pid')} on {held.get('host')}) "
                             f"is writing the index {self.names.alias} in Milvus; wait for "
                             "it to finish")
        if held:
            log.warning("taking over an expired writer lease left by pid %s on %s",
                        held.get("pid"), held.get("host"))
        self.renew(force=True)
        time.sleep(SETTLE_SECONDS)
        now = blobs.get_json(self.client, self.names.control, LEASE) or {}
        if now.get("token") != self.owner["token"]:
            raise WriterBusy(f"another build (pid {now.get('pid')} on {now.get('host')}) "
                             f"took the index {self.names.alias} at the same moment")

    def renew(self, force: bool = False) -> None:
        """Extend the lease (at most every few seconds unless ``force``)."""
        now = time.time()
        if not force and now - self._renewed < 10:
            return
        seconds = settings.get("milvus_lease_seconds")
        blobs.put_json(self.client, self.names.control, LEASE,
                       {**self.owner, "expires": now + seconds})
        self._renewed = now

    def release(self) -> None:
        held = blobs.get_json(self.client, self.names.control, LEASE) or {}
        if held.get("token") == self.owner["token"]:
            blobs.delete(self.client, self.names.control, LEASE)


@contextmanager
def writing(client, names: Names) -> Iterator[Lease]:
    """Hold the writer lease of ``names`` for a build or an update."""
    ensure_control(client, names)
    lease = Lease(client, names)
    lease.take()
    try:
        yield lease
    finally:
        lease.release()


def live_or_none(client, names: Names) -> str | None:
    try:
        return live_generation(client, names)
    except IndexNotReady:
        return None


def collections_of(generation: str) -> list[str]:
    return [generation, Names.sentences(generation), Names.store(generation)]


def drop(client, generation: str) -> None:
    for name in collections_of(generation):
        if client.has_collection(name):
            client.drop_collection(name)


def publish(client, names: Names, generation: str) -> str | None:
    """Make ``generation`` live; record the one it replaces as retired. Returns that one."""
    previous = live_or_none(client, names)
    if previous is None:
        client.create_alias(generation, names.alias)
    else:
        client.alter_alias(generation, names.alias)
        blobs.put_json(client, names.control, RETIRED + previous, {"at": time.time()})
    log.info("generation %s is live in Milvus", generation)
    return previous


def remove_stale(client, names: Names) -> list[str]:
    """Drop generations retired longer than the grace period, and unfinished ones.

    Called by the writer that holds the lease, so no other build is in progress.
    """
    live = live_or_none(client, names)
    grace = settings.get("milvus_grace_seconds")
    dropped = []
    for name in client.list_collections():
        if not names.is_generation(name) or name == live:
            continue
        retired = blobs.get_json(client, names.control, RETIRED + name)
        if retired is not None and time.time() - retired["at"] < grace:
            continue  # readers may still hold it
        drop(client, name)
        blobs.delete(client, names.control, RETIRED + name)
        dropped.append(name)
    if dropped:
        log.info("dropped old generations %s", ", ".join(dropped))
    return dropped
