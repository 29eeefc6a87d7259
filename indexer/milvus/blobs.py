"""Named texts in a Milvus collection, cut into chunks below the VarChar limit.

A Milvus VarChar holds at most 65,535 bytes, so a long text (the documents of a
generation, its manifest, its vocabulary) is stored as numbered chunks of at most
:data:`~indexer.milvus.schema.CHUNK_BYTES` bytes, cut between characters, and read back
in order. A text whose chunks are not all there reads as None, never as a shorter text.
"""

from __future__ import annotations

import json
from typing import Any

from indexer.milvus.schema import CHUNK_BYTES, PLACEHOLDER

HEADER = "#"  # chunk -1 records how many chunks the text has


def chunks(text: str, size: int = CHUNK_BYTES) -> list[str]:
    """``text`` cut into pieces of at most ``size`` UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8")
    pieces, start = [], 0
    while start < len(data):
        end = min(len(data), start + size)
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # a continuation byte
            end -= 1
        pieces.append(data[start:end].decode("utf-8"))
        start = end
    return pieces or [""]


def put(client, collection: str, name: str, text: str) -> None:
    """Store ``text`` under ``name`` (replacing what was there)."""
    pieces = chunks(text)
    rows = [{"key": f"{name}#{i:06d}", "name": name, "chunk": i, "data": piece,
             "placeholder": PLACEHOLDER} for i, piece in enumerate(pieces)]
    rows.append({"key": f"{name}{HEADER}", "name": name, "chunk": -1,
                 "data": json.dumps({"chunks": len(pieces)}), "placeholder": PLACEHOLDER})
    client.delete(collection, filter=f"name == {json.dumps(name)}")
    for start in range(0, len(rows), 64):
        client.insert(collection, rows[start:start + 64])


def get(client, collection: str, name: str) -> str | None:
    """The text stored under ``name``, or None if it is missing or incomplete."""
    header = client.query(collection, filter=f"key == {json.dumps(name + HEADER)}",
                          output_fields=["data"])
    if not header:
        return None
    wanted = json.loads(header[0]["data"])["chunks"]
    pieces, batch = [], 1000
    for start in range(0, wanted, batch):
        rows = client.query(collection, filter=f"name == {json.dumps(name)} and chunk >= "
                            f"{start} and chunk < {start + batch}",
                            output_fields=["chunk", "data"], limit=batch)
        pieces += sorted((row["chunk"], row["data"]) for row in rows)
    if [c for c, _ in pieces] != list(range(wanted)):
        return None
    return "".join(data for _, data in pieces)


def put_json(client, collection: str, name: str, value: Any) -> None:
    put(client, collection, name, json.dumps(value, ensure_ascii=False))


def get_json(client, collection: str, name: str) -> Any:
    text = get(client, collection, name)
    return None if text is None else json.loads(text)


def delete(client, collection: str, name: str) -> None:
    client.delete(collection, filter=f"name == {json.dumps(name)}")
