"""Build or update an index generation in Milvus, then make it live with an alias switch.

Everything a reader needs goes into the generation's collections: passages with their
filters, tokens and vectors; sentence vectors; and, in the store collection, the
documents (texts included), the vocabulary and — written last — the manifest. A web host
then needs only the URI, the model and the settings.

An update reads the corpus, compares it with the live manifest, and writes a new
generation: added and changed documents are indexed afresh, deleted ones are gone, and
the vectors of unchanged passages come from the embedding cache. Readers keep the live
generation until the switch; a build killed half way leaves it answering, and its
collections are dropped by the next writer.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from indexer import settings
from indexer.milvus import blobs, generations, query, schema
from indexer.milvus.client import Names, connect, unreachable_as_error
from indexer.retrieve.protocol import passage_years
from indexer.store import manifest
from indexer.store.build import BuildReport, default_embedder, plan
from indexer.store.catalog import Catalog

log = logging.getLogger(__name__)

BATCH = 256
MANIFEST = "manifest"
DOCUMENTS = "documents"
VOCABULARY = "vocabulary"


def build(corpus_dir: Path, index_dir: Path | None = None, incremental: bool = False,
          embedder=None, stage=None, names: Names | None = None) -> BuildReport:
    """:func:`indexer.store.build.build` into Milvus (``index_dir`` is not used)."""
    stage = stage or (lambda name, done, total: None)
    embedder = embedder or default_embedder()
    names = names or Names.configured()
    started = time.perf_counter()
    with unreachable_as_error():
        client = connect()
        with generations.writing(client, names) as lease:
            live = generations.live_or_none(client, names)
            old = blobs.get_json(client, Names.store(live), MANIFEST) if live else None
            planned = plan(corpus_dir, old, incremental, stage, embedder)
            report = planned.report
            report.models_changed = planned.models_changed
            if planned.up_to_date:
                report.generation, report.up_to_date = live, True
                report.seconds = time.perf_counter() - started
                return report
            if not planned.reusable:
                planned.rebuild_all()
            generations.remove_stale(client, names)
            name = names.new_generation()
            catalog = Catalog(planned.corpus.documents, planned.corpus.all_passages())
            try:
                vector_info = _write(client, name, catalog, embedder, report, stage, lease)
                blobs.put_json(client, Names.store(name), MANIFEST,
                               {"format_version": manifest.FORMAT_VERSION,
                                **planned.manifest(corpus_dir, vector_info)})
                for collection in generations.collections_of(name):
                    client.flush(collection)
                generations.publish(client, names, name)
            except BaseException:
                log.warning("the build of %s did not finish; dropping it", name)
                generations.drop(client, name)
                raise
            report.generation = name
            generations.remove_stale(client, names)
    report.seconds = time.perf_counter() - started
    return report


def _write(client, name: str, catalog: Catalog, embedder, report: BuildReport, stage,
           lease) -> dict | None:
    """Create the generation's collections and fill them; returns the vector info."""
    from indexer.retrieve import sentence_vectors, vectors

    passages = catalog.passage_list
    matrix = sentences = None
    info = None
    if embedder is not None:
        stage("embedding", 0, len(passages))
        before = embedder.cache.misses
        matrix = vectors.embed_catalog(catalog, embedder, progress=lambda n: lease.renew())
        report.embedded_passages = embedder.cache.misses - before
        if settings.get("vector_sentences"):
            sentences = sentence_vectors.embed_sentences(catalog, embedder,
                                                         progress=lambda n: lease.renew())
        report.embedded_sentences = embedder.cache.misses - before - report.embedded_passages
        stage("embedding", len(passages), len(passages))
        info = {"model": embedder.name, "model_fingerprint": embedder.fingerprint,
                "dimension": int(matrix.shape[1]), "normalised": True,
                "count": len(passages), "approximate": True}
        if sentences is not None:
            from indexer.answer.spans import SENTENCES_VERSION

            info["sentences"] = {"count": len(sentences[0]), "version": SENTENCES_VERSION}
    dimension = info["dimension"] if info else None
    schema.create_passages(client, name, dimension)
    schema.create_blobs(client, Names.store(name))
    stage("indexing", 0, len(passages))
    report.indexed_passages = _insert_passages(client, name, catalog, matrix, lease)
    stage("indexing", report.indexed_passages, len(passages))
    if sentences is not None:
        schema.create_sentences(client, Names.sentences(name), dimension)
        _insert_sentences(client, Names.sentences(name), catalog, *sentences, lease)
    store = Names.store(name)
    blobs.put(client, store, DOCUMENTS, "\n".join(
        json.dumps(record, ensure_ascii=False) for record in catalog.document_records()))
    blobs.put_json(client, store, VOCABULARY, _vocabulary(catalog))
    return info


def _years(catalog: Catalog, passage) -> list[str]:
    return passage_years(passage, catalog.documents.get(passage.doc_id))


def _passage_row(catalog: Catalog, passage, ordinal: int, vector) -> dict:
    """A passage as its Milvus row: filters, record, words for BM25, terms and pairs."""
    from dataclasses import asdict

    from indexer.text.analysis import fold

    document = catalog.documents[passage.doc_id]
    words, terms, pairs = query.index_fields(document.own_title, passage.section,
                                             passage.text)
    row = {"passage_id": passage.passage_id, "ordinal": ordinal, "doc_id": passage.doc_id,
           "years": _years(catalog, passage), "region": fold(document.region or ""),
           "kind": fold(document.kind or ""), "record": asdict(passage), "words": words,
           "terms": terms, "pairs": pairs}
    if vector is not None:
        row["vector"] = vector.tolist()
    else:
        row["placeholder"] = schema.PLACEHOLDER
    return row


def _insert_passages(client, name: str, catalog: Catalog, matrix: np.ndarray | None,
                     lease) -> int:
    from tqdm import tqdm

    passages = catalog.passage_list
    with tqdm(total=len(passages), desc="milvus passages", unit="passage", leave=False,
              disable=not settings.get("progress") or len(passages) < 500) as bar:
        for start in range(0, len(passages), BATCH):
            rows = [_passage_row(catalog, passage, ordinal,
                                 None if matrix is None else matrix[ordinal])
                    for ordinal, passage in enumerate(passages[start:start + BATCH],
                                                      start=start)]
            client.insert(name, rows)
            lease.renew()
            bar.update(len(rows))
    return len(passages)


def _insert_sentences(client, name: str, catalog: Catalog, ids: list[list],
                      matrix: np.ndarray, lease) -> None:
    for start in range(0, len(ids), BATCH * 4):
        rows = []
        for row, (pid, begin, end) in enumerate(ids[start:start + BATCH * 4], start=start):
            passage = catalog.passages[pid]
            rows.append({"row": row, "passage_id": pid, "start": begin, "end": end,
                         "doc_id": passage.doc_id, "years": _years(catalog, passage),
                         "vector": matrix[row].tolist()})
        client.insert(name, rows)
        lease.renew()


def _vocabulary(catalog: Catalog) -> dict[str, int]:
    """Every word of the passage text with its document frequency (for typo help), as
    the keyword index's body field holds them."""
    from collections import Counter

    from indexer.text.analysis import positioned_tokens

    counts: Counter[str] = Counter()
    for passage in catalog.passage_list:
        counts.update({word for _, word in positioned_tokens(passage.text)})
    return dict(counts)
