"""The documents and passages of one index generation, as plain JSON lines.

The keyword and vector indexes store passage ids only; everything a result shows
(text, title, section, offsets) comes from here, so all search modes agree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from indexer.records import Document, Passage

DOCUMENTS_FILE = "documents.jsonl"
PASSAGES_FILE = "passages.jsonl"


class Catalog:
    """Documents and passages by id, passages in index order."""

    def __init__(self, documents: Iterable[Document], passages: Iterable[Passage]):
        self.documents: dict[str, Document] = {d.doc_id: d for d in documents}
        self.passage_list: list[Passage] = list(passages)
        self.passages: dict[str, Passage] = {p.passage_id: p for p in self.passage_list}
        self._by_doc: dict[str, list[Passage]] = {}
        for passage in self.passage_list:
            self._by_doc.setdefault(passage.doc_id, []).append(passage)

    def passages_of(self, doc_id: str) -> list[Passage]:
        """A document's passages in reading order."""
        return self._by_doc.get(doc_id, [])

    def save(self, folder: Path) -> None:
        """Write documents.jsonl and passages.jsonl into a generation folder."""
        _write_jsonl(folder / DOCUMENTS_FILE, self.document_records())
        _write_jsonl(folder / PASSAGES_FILE, self.passage_records())

    @classmethod
    def load(cls, folder: Path) -> Catalog:
        """Read a generation's documents and passages."""
        return cls.of_records(_read_jsonl(folder / DOCUMENTS_FILE),
                              _read_jsonl(folder / PASSAGES_FILE))

    @classmethod
    def of_records(cls, documents: Iterable[dict], passages: Iterable[dict]) -> Catalog:
        """A catalog from the records :meth:`document_records` and :meth:`passage_records`
        give (as a backend stored them)."""
        read = []
        for record in documents:
            record["garbled_spans"] = [tuple(span) for span in record.get("garbled_spans", [])]
            read.append(Document(**record))
        return cls(read, (Passage(**record) for record in passages))

    def document_records(self) -> Iterable[dict]:
        return (asdict(d) for d in self.documents.values())

    def passage_records(self) -> Iterable[dict]:
        return (asdict(p) for p in self.passage_list)


def _write_jsonl(path: Path, records: Iterable[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> Iterable[dict]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)
