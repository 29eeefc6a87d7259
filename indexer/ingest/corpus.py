"""The corpus pipeline: read every source, repair it, describe it, cut it into passages."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from indexer import settings
from indexer.ingest.clean import clean
from indexer.ingest.metadata import extract
from indexer.ingest.segment import split_passages
from indexer.ingest.sources import corpus_files, count_items, file_doc_id, read_file
from indexer.records import Document, Passage, RawDocument, Skipped

log = logging.getLogger(__name__)

METADATA_FIELDS = ("issuer", "region", "year", "kind", "published")


@dataclass
class Corpus:
    """Everything read from a corpus folder: documents, their passages, what was skipped."""

    documents: list[Document] = field(default_factory=list)
    passages: dict[str, list[Passage]] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    dropped_lines: dict[str, list[str]] = field(default_factory=dict)

    def all_passages(self) -> Iterator[Passage]:
        for document in self.documents:
            yield from self.passages[document.doc_id]


def build_document(raw: RawDocument, doc_id: str) -> tuple[Document, list[str]]:
    """Repair one raw document and read its metadata; also return the dropped lines."""
    cleaned = clean(raw.text)
    meta = extract(cleaned.text, cleaned.found, raw.meta, raw.source)
    document = Document(doc_id=doc_id, source=raw.source, text=cleaned.text,
                        repairs=dict(cleaned.repairs),
                        garbled_spans=list(cleaned.garbled_spans), **vars(meta))
    # A bulk file's own fields win over what we would guess from the text.
    for name in METADATA_FIELDS:
        value = raw.meta.get(name)
        if value not in (None, ""):
            setattr(document, name, str(value))
    document.extra = {k: v for k, v in raw.meta.items()
                      if k not in (*METADATA_FIELDS, "title") and _is_plain(v)}
    return document, cleaned.dropped_lines


def _is_plain(value: object) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _progress(items: Iterable, total: int, desc: str) -> Iterable:
    if not settings.get("progress") or total < 200:
        return items
    from tqdm import tqdm

    return tqdm(items, total=total, desc=desc, unit="doc", leave=False)


def _raw_documents(root: Path, files: list[Path]) -> Iterator[tuple[RawDocument | Skipped, Path]]:
    for path in files:
        for item in read_file(path):
            yield item, path


def load_corpus(root: Path) -> Corpus:
    """Read, repair and segment every document under ``root`` (a folder or one file)."""
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"corpus folder {root} does not exist")
    files = corpus_files(root)
    total = sum(count_items(path) for path in files)
    corpus = Corpus()
    seen_ids: set[str] = set()
    for item, path in _progress(_raw_documents(root, files), total, "reading corpus"):
        if isinstance(item, Skipped):
            log.warning("skipped %s: %s", item.source, item.reason)
            corpus.skipped.append(item)
            continue
        doc_id = item.doc_id or file_doc_id(path, root)
        if doc_id in seen_ids:
            if item.doc_id is not None:
                corpus.skipped.append(Skipped(item.source, f"duplicate document id {doc_id!r}"))
                continue
            doc_id = file_doc_id(path.with_name(path.name.replace(".", "_")), root)
        seen_ids.add(doc_id)
        document, dropped = build_document(item, doc_id)
        corpus.documents.append(document)
        corpus.passages[doc_id] = split_passages(document)
        corpus.dropped_lines[doc_id] = dropped
    log.info("read %d documents, %d passages; skipped %d", len(corpus.documents),
             sum(len(p) for p in corpus.passages.values()), len(corpus.skipped))
    return corpus
