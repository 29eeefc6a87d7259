"""Build or update an index generation from a corpus folder, then make it live atomically."""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from indexer.answer.spans import SENTENCES_VERSION
from indexer.errors import IndexNotReady
from indexer.ingest.corpus import Corpus, load_corpus
from indexer.records import Skipped
from indexer.retrieve import keyword
from indexer.store import generations, manifest
from indexer.store.catalog import Catalog

log = logging.getLogger(__name__)


@dataclass
class BuildReport:
    """What a build or update did."""

    generation: str | None
    documents: int = 0
    passages: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    indexed_passages: int = 0
    embedded_passages: int = 0
    embedded_sentences: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    up_to_date: bool = False
    # Models configured since the live generation was made (a new generation for them).
    models_changed: list[str] = field(default_factory=list)


def _progress(desc: str, total: int):
    from indexer import settings

    if not settings.get("progress") or total < 500:
        return None
    from tqdm import tqdm

    return lambda items: tqdm(items, total=total, desc=desc, unit="passage", leave=False)


def _previous(index_dir: Path) -> tuple[Path | None, dict | None]:
    """The live generation and its manifest, or (None, None) if there is no usable one.

    A damaged generation is not reused: the update then rebuilds everything, which repairs it.
    """
    from indexer.store.check import examine

    try:
        folder = generations.current_generation(index_dir)
    except IndexNotReady:
        return None, None
    found = examine(folder)
    if found.problems:
        log.warning("the live index is damaged, rebuilding it whole: %s", found.problems[0])
        return None, None
    return folder, found.manifest


def _write_vectors(folder: Path, catalog: Catalog, embedder) -> tuple[dict, int, int]:
    """Embed every passage and, unless ``vector_sentences`` is off, every answerable
    sentence (the cache answers for unchanged ones) and save the vectors. Returns the
    vector info and how many passages and sentences were embedded afresh."""
    from tqdm import tqdm

    from indexer import settings
    from indexer.retrieve import sentence_vectors, vectors

    before = embedder.cache.misses
    total = len(catalog.passage_list)
    with tqdm(total=total, desc="embedding", unit="passage", leave=False,
              disable=not settings.get("progress") or total < 500) as counter:
        matrix = vectors.embed_catalog(catalog, embedder, progress=counter.update)
    passages = embedder.cache.misses - before
    sentences = None
    if settings.get("vector_sentences"):
        with tqdm(desc="embedding sentences", unit="sentence", leave=False,
                  disable=not settings.get("progress") or total < 500) as counter:
            sentences = sentence_vectors.embed_sentences(catalog, embedder,
                                                         progress=counter.update)
    info = vectors.write(folder, [p.passage_id for p in catalog.passage_list], matrix,
                         embedder.name, embedder.fingerprint, sentences)
    return info, passages, embedder.cache.misses - before - passages


def answer_model_record() -> dict | None:
    """The answer model the index is served with: its version and file (in the manifest)."""
    from indexer.answer.model import load_model
    from indexer.errors import ModelNotAvailable

    try:
        model = load_model()
    except ModelNotAvailable as exc:  # asking will say so; building need not fail
        log.warning("%s", exc)
        return None
    return {"version": model.version, "file": model.path.name}


@dataclass
class Plan:
    """What a build will do: the corpus read, each document's fingerprint, and the
    report so far (added, changed, removed against the live generation)."""

    corpus: Corpus
    fingerprints: dict[str, str]
    report: BuildReport
    reusable: bool  # the live generation can be updated (same analyzer, incremental)
    # What the live generation was made with that is no longer configured (the embedding
    # model, the answer model): reason enough for a new generation, corpus unchanged.
    models_changed: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        report = self.report
        return self.reusable and not (report.added or report.removed or report.changed
                                      or self.models_changed)

    def rebuild_all(self) -> None:
        """Index every document afresh (nothing is reused)."""
        report = self.report
        report.added = sorted(self.fingerprints)
        report.changed, report.removed, report.unchanged = [], [], 0

    def manifest(self, corpus_dir: Path, vector_info: dict | None) -> dict:
        """What the manifest of the generation being built records."""
        from indexer.text.analysis import ANALYZER_VERSION

        return {
            "analyzer_version": ANALYZER_VERSION,
            "vectors": vector_info,
            "answer_model": answer_model_record(),
            "documents_count": len(self.corpus.documents),
            "passages_count": self.report.passages,
            "corpus_fingerprint": manifest.corpus_fingerprint(self.fingerprints),
            "documents": self.fingerprints,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "corpus_dir": str(corpus_dir),
        }


def plan(corpus_dir: Path, old: dict | None, incremental: bool, stage,
         embedder=None) -> Plan:
    """Read the corpus and compare it with ``old`` (the live manifest, or None), and the
    models it records with the configured ones (``embedder``: None when vectors are off).
    """
    from indexer.text.analysis import ANALYZER_VERSION

    stage("reading", 0, 0)
    corpus = load_corpus(Path(corpus_dir))
    stage("reading", len(corpus.documents), len(corpus.documents))
    fingerprints = {d.doc_id: manifest.document_fingerprint(d, corpus.passages[d.doc_id])
                    for d in corpus.documents}
    reusable = (incremental and old is not None
                and old.get("analyzer_version") == ANALYZER_VERSION)
    old_prints: dict[str, str] = old.get("documents", {}) if reusable else {}
    report = BuildReport(generation=None, documents=len(corpus.documents),
                         passages=sum(len(p) for p in corpus.passages.values()),
                         skipped=corpus.skipped)
    report.added = sorted(set(fingerprints) - set(old_prints))
    report.removed = sorted(set(old_prints) - set(fingerprints))
    report.changed = sorted(d for d in set(fingerprints) & set(old_prints)
                            if fingerprints[d] != old_prints[d])
    report.unchanged = len(fingerprints) - len(report.added) - len(report.changed)
    return Plan(corpus, fingerprints, report, reusable, _models_changed(old, embedder))


def _models_changed(old: dict | None, embedder) -> list[str]:
    """The models the live manifest ``old`` records that differ from the configured ones:
    its vectors are then another model's (searching them would be refused), its sentence
    vectors are of sentences split another way, or it names an answer model that is no
    longer served."""
    if old is None:
        return []
    changed = []
    vectors = old.get("vectors") or {}
    if (embedder is None) != (not vectors) or (
            embedder is not None and vectors.get("model_fingerprint") != embedder.fingerprint):
        changed.append("embedding model")
        log.info("the embedding model is not the one the live generation was made with: "
                 "every passage is embedded again")
    sentences = vectors.get("sentences")
    if sentences and sentences.get("version") != SENTENCES_VERSION:
        # The answer step's candidates are the sentences as defined now: each needs its
        # vector (the cache answers for the unchanged ones).
        changed.append("sentences")
        log.info("sentences are split otherwise than when the live generation was made: "
                 "its sentence vectors are made again")
    if old.get("answer_model") != answer_model_record():
        changed.append("answer model")
    return changed


def default_embedder():
    """The configured model, or None when the ``vectors_enabled`` setting is off."""
    from indexer import settings

    if not settings.get("vectors_enabled"):
        return None
    from indexer.embed.embedder import Embedder

    return Embedder()


def build(corpus_dir: Path, index_dir: Path, incremental: bool = False,
          embedder=None, stage=None) -> BuildReport:
    """Index ``corpus_dir`` into a new generation of the configured backend.

    With ``incremental``, only added or changed documents are re-indexed and deleted
    ones removed, starting from the live generation; if nothing changed, nothing is
    written. Readers keep the live generation until the new one is complete. Vectors
    are made with ``embedder`` (default: the configured model) unless the
    ``vectors_enabled`` setting is off. ``stage`` (optional) is called as
    ``stage(name, done, total)`` when each stage starts and ends: reading (documents),
    indexing and embedding (passages). ``index_dir`` is where the local backend keeps
    its generations (other backends name their own place in settings).
    """
    from indexer import settings
    from indexer.retrieve.generation import open_writer

    writer = open_writer(settings.get("index_backend"))
    return writer(Path(corpus_dir), Path(index_dir), incremental=incremental,
                  embedder=embedder, stage=stage)


def build_local(corpus_dir: Path, index_dir: Path, incremental: bool = False,
                embedder=None, stage=None) -> BuildReport:
    """:func:`build` into generation folders under ``index_dir``."""
    stage = stage or (lambda name, done, total: None)
    embedder = embedder or default_embedder()
    started = time.perf_counter()
    index_dir = Path(index_dir)
    with generations.writer_lock(index_dir):
        previous, old = _previous(index_dir)
        planned = plan(corpus_dir, old, incremental, stage, embedder)
        corpus, report, reusable = planned.corpus, planned.report, planned.reusable
        report.models_changed = planned.models_changed
        if planned.up_to_date:
            report.generation, report.up_to_date = previous.name, True
            report.seconds = time.perf_counter() - started
            return report

        generations.remove_stale(index_dir)
        folder = generations.new_generation(index_dir)
        try:
            catalog = Catalog(corpus.documents, corpus.all_passages())
            catalog.save(folder)
            whoosh_dir = folder / keyword.WHOOSH_DIR
            if reusable:
                shutil.copytree(previous / keyword.WHOOSH_DIR, whoosh_dir)
                fresh = set(report.added) | set(report.changed)
                todo = [p for p in catalog.passage_list if p.doc_id in fresh]
                stale = report.changed + report.removed
            else:
                todo, stale = catalog.passage_list, []
                planned.rebuild_all()
            stage("indexing", 0, len(todo))
            report.indexed_passages = keyword.build(
                whoosh_dir, catalog, todo, delete_docs=stale,
                progress=_progress("keyword index", len(todo)))
            stage("indexing", report.indexed_passages, len(todo))
            vector_info = None
            if embedder is not None:
                stage("embedding", 0, len(catalog.passage_list))
                vector_info, report.embedded_passages, report.embedded_sentences = \
                    _write_vectors(folder, catalog, embedder)
                stage("embedding", len(catalog.passage_list), len(catalog.passage_list))
            manifest.write(folder, planned.manifest(corpus_dir, vector_info))
            live = generations.publish(index_dir, folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        report.generation = live.name
        generations.remove_stale(index_dir)
    report.seconds = time.perf_counter() - started
    return report
