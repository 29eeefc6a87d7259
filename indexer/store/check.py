"""Is the live index whole? Cheap checks of every file a generation needs.

``python -m indexer check`` prints what they find; the Engine runs them whenever it opens
a generation, so a damaged index is a clear error naming the file (a 503 in the web app)
rather than a crash in the middle of a request. They check existence, sizes, counts and
headers; they parse the catalog (the Engine needs it anyway) but read no vector and no
posting list. A rebuild (``python -m indexer build``) repairs whatever they report.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.errors import IndexDamaged, IndexMismatch, IndexNotReady, reason
from indexer.retrieve import keyword
from indexer.store import generations, manifest
from indexer.store.catalog import DOCUMENTS_FILE, PASSAGES_FILE, Catalog


@dataclass
class Examination:
    """What the checks found in one generation, and what they loaded on the way."""

    folder: Path | None
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    catalog: Catalog | None = None
    name: str | None = None  # the generation, when it is no folder (e.g. in Milvus)

    @property
    def ok(self) -> bool:
        return not self.problems


def check(index_dir: Path) -> list[str]:
    """One sentence per problem of the live generation of ``index_dir``; empty when whole."""
    return examine_index(index_dir).problems


def examine_index(index_dir: Path) -> Examination:
    """Check the live generation of the configured backend (for the local one, the
    folder CURRENT names), including the analyzer that built it."""
    from indexer import settings
    from indexer.text.analysis import ANALYZER_VERSION

    if settings.get("index_backend") == "milvus":
        from indexer.milvus.backend import check as check_milvus

        name, data, catalog, problems = check_milvus()
        found = Examination(None, problems, data, catalog, name)
        if data is not None and not problems:
            try:
                manifest.check_analyzer(data, ANALYZER_VERSION)
            except IndexMismatch as exc:
                found.problems.append(str(exc))
        return found

    try:
        folder = generations.current_generation(Path(index_dir))
    except IndexDamaged as exc:
        return Examination(None, exc.problems)
    except IndexNotReady as exc:
        return Examination(None, [str(exc)])
    try:
        found = examine(folder)
    except IndexMismatch as exc:
        return Examination(folder, [str(exc)])
    if found.manifest is not None:
        try:
            manifest.check_analyzer(found.manifest, ANALYZER_VERSION)
        except IndexMismatch as exc:
            found.problems.append(str(exc))
    return found


def examine(folder: Path) -> Examination:
    """Check one generation folder: manifest, catalog, keyword index, passage and sentence
    vectors.

    Raises IndexMismatch for a manifest of another format version (not damage: the
    index was written by another version of this code).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return Examination(folder, [f"the generation folder {folder} is missing"])
    found = Examination(folder)
    problems = found.problems
    try:
        found.manifest = manifest.read(folder)
    except IndexDamaged as exc:
        problems += exc.problems
    found.catalog = _load_catalog(folder, problems)
    data, catalog = found.manifest, found.catalog
    passages = len(catalog.passage_list) if catalog is not None else None
    if data is not None and catalog is not None:
        for name, key, have in ((PASSAGES_FILE, "passages_count", passages),
                                (DOCUMENTS_FILE, "documents_count", len(catalog.documents))):
            if data.get(key) is not None and data[key] != have:
                problems.append(f"{folder.name}/{name} holds {have} records, the manifest "
                                f"records {data[key]}")

    count, keyword_problems = keyword.check_files(folder / keyword.WHOOSH_DIR)
    problems += keyword_problems
    if count is not None and passages is not None and count != passages:
        problems.append(f"{folder.name}/{keyword.WHOOSH_DIR}/ (the keyword index) holds "
                        f"{count} passages, {folder.name}/{PASSAGES_FILE} {passages}")

    info = data.get("vectors") if data is not None else None
    if info:
        problems += _check_vectors(folder, info, catalog)
    return found


def _check_vectors(folder: Path, info: Any, catalog: Catalog | None) -> list[str]:
    from indexer.retrieve import vectors

    if not isinstance(info, dict):
        return [f"{folder.name}/{manifest.MANIFEST_FILE} describes its vectors as "
                f"{type(info).__name__}, not an object"]
    ids, problems = vectors.check_files(folder, info)
    if ids is not None and catalog is not None:
        unknown = sum(1 for pid in ids if pid not in catalog.passages)
        if unknown or len(ids) != len(catalog.passage_list):
            problems.append(f"{folder.name}/{vectors.IDS_FILE} does not match "
                            f"{folder.name}/{PASSAGES_FILE}: {len(ids)} ids ({unknown} "
                            f"unknown) for {len(catalog.passage_list)} passages")
    return problems


def _load_catalog(folder: Path, problems: list[str]) -> Catalog | None:
    """The generation's catalog, or None with its problems noted."""
    missing = [name for name in (DOCUMENTS_FILE, PASSAGES_FILE) if not (folder / name).is_file()]
    if missing:
        problems += [f"{folder.name}/{name} is missing" for name in missing]
        return None
    try:
        catalog = Catalog.load(folder)
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        problems.append(f"{_culprit(folder)} cannot be read ({reason(exc)})")
        return None
    orphans = sum(1 for p in catalog.passage_list if p.doc_id not in catalog.documents)
    if orphans:
        problems.append(f"{folder.name}/{PASSAGES_FILE} has {orphans} passages of documents "
                        f"missing from {folder.name}/{DOCUMENTS_FILE}")
    return catalog


def _culprit(folder: Path) -> str:
    """Which catalog file (and line) failed to load; read only when loading failed."""
    for name in (DOCUMENTS_FILE, PASSAGES_FILE):
        try:
            with (folder / name).open(encoding="utf-8") as handle:
                for number, line in enumerate(handle, start=1):
                    try:
                        record = json.loads(line) if line.strip() else {}
                    except ValueError:
                        record = None
                    if not isinstance(record, dict):
                        return f"{folder.name}/{name} line {number}"
        except (OSError, ValueError):  # unreadable, or not UTF-8
            return f"{folder.name}/{name}"
    return f"{folder.name}/{DOCUMENTS_FILE} or {PASSAGES_FILE}"


def signature(folder: Path) -> tuple:
    """Names, sizes and times of a generation's files: it changes when any file does.

    Cheap (two directory listings), so a reader can tell before each request whether the
    generation it opened is still the one on disk.
    """
    entries: list[tuple] = []
    for label, directory in (("", folder), (keyword.WHOOSH_DIR, folder / keyword.WHOOSH_DIR)):
        try:
            with os.scandir(directory) as listing:
                for entry in listing:
                    if entry.is_file():
                        stat = entry.stat()
                        entries.append((label, entry.name, stat.st_size, stat.st_mtime_ns))
        except OSError:
            entries.append((label, None, -1, -1))
    return tuple(sorted(entries))


def summary(found: Examination) -> dict[str, Any]:
    """Generation, size and model of a whole index, as ``check --json`` prints them."""
    data = found.manifest or {}
    vectors = data.get("vectors") or {}
    catalog = found.catalog
    return {
        "generation": found.name or (found.folder.name if found.folder else None),
        "built_at": data.get("built_at"),
        "documents": len(catalog.documents) if catalog else None,
        "passages": len(catalog.passage_list) if catalog else None,
        "model": Path(vectors["model"]).name if vectors.get("model") else None,
        "dimension": vectors.get("dimension"),
        "sentences": (vectors.get("sentences") or {}).get("count"),
        "answer_model": (data.get("answer_model") or {}).get("version"),
    }
