"""``manifest.json``: what built a generation, so a reader can trust or refuse it."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from indexer.errors import IndexDamaged, IndexMismatch
from indexer.records import Document, Passage

MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 1



def document_fingerprint(document: Document, passages: list[Passage]) -> str:
    """A hash of everything indexed for one document: changes when any of it changes."""
    digest = hashlib.sha1()
    for value in (document.text, document.title, document.issuer, document.region,
                  document.year, document.kind, document.published):
        digest.update(f"{value}\x1f".encode())
    for passage in passages:
        digest.update(f"{passage.passage_id}\x1f{passage.section}\x1e".encode())
    return digest.hexdigest()[:16]


def corpus_fingerprint(fingerprints: dict[str, str]) -> str:
    """One hash for the whole corpus, from the per-document fingerprints."""
    digest = hashlib.sha1()
    for doc_id in sorted(fingerprints):
        digest.update(f"{doc_id}={fingerprints[doc_id]}\n".encode())
    return digest.hexdigest()[:16]


def write(folder: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest last, atomically: a generation without one is unfinished."""
    data = {"format_version": FORMAT_VERSION, **manifest}
    tmp = folder / (MANIFEST_FILE + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, folder / MANIFEST_FILE)


def read(folder: Path) -> dict[str, Any]:
    """Read a generation's manifest; a missing or unreadable one means a damaged index.

    Raises IndexDamaged for a missing or unparseable manifest, IndexMismatch for one
    written in another format version.
    """
    folder = Path(folder)
    name = f"{folder.name}/{MANIFEST_FILE}"
    try:
        data = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexDamaged([f"{name} is missing"], folder.parent) from None
    except (OSError, ValueError) as exc:  # JSON or UTF-8 errors, unreadable file
        raise IndexDamaged([f"{name} cannot be read ({exc.__class__.__name__})"],
                           folder.parent) from None
    if not isinstance(data, dict):
        raise IndexDamaged([f"{name} is not a JSON object"], folder.parent)
    if data.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(f"the index at {folder} has format {data.get('format_version')}, "
                            f"this version reads {FORMAT_VERSION}: rebuild it")
    return data


def check_analyzer(data: dict[str, Any], analyzer_version: str) -> None:
    """Refuse an index whose keyword side was built by another analyzer."""
    built = data.get("analyzer_version")
    if built != analyzer_version:
        raise IndexMismatch(f"the index was built with analyzer {built}, this code uses "
                            f"{analyzer_version}: rebuild it with `python -m indexer build`")
