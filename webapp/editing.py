"""Adding documents to the corpus folder and removing them, each followed by an update.

Both are all or nothing: an upload stores its files only after every one has been judged
(a refusal stores none), and removes them again if the update fails; a removal puts the
file back if the update fails. Both hold the service's update lock, so one change runs
at a time (another gets 409).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.serialize import document_summary, public_source
from webapp import uploads
from webapp.errors import Conflict, NotFound

if TYPE_CHECKING:
    from indexer.store.catalog import Catalog
    from webapp.services import PolicyQA
    from webapp.uploads import Incoming, Job

log = logging.getLogger(__name__)


def files_of(catalog: Catalog, built_from: str | None,
             corpus_dir: Path) -> dict[Path, list[str]]:
    """The documents of each file under ``corpus_dir`` (resolved path → document ids)."""
    found: dict[Path, list[str]] = {}
    for doc_id, document in catalog.documents.items():
        located = uploads.source_file(document.source, built_from, corpus_dir)
        if located is not None:
            found.setdefault(located[0].resolve(), []).append(doc_id)
    return found


def _entry(catalog: Catalog, doc_id: str, corpus_dir: Path, item: Incoming,
           status: str) -> dict[str, Any]:
    document = catalog.documents[doc_id]
    summary = document_summary(document)
    return {"doc_id": doc_id, "title": summary["title"],
            "source": public_source(document, corpus_dir),
            "passages": len(catalog.passages_of(doc_id)), "file": item.shown,
            "status": status}


def add(service: PolicyQA, items: list[Incoming], corpus_dir: Path, job: Job,
        max_bytes: int, max_unpacked: int) -> dict[str, Any]:
    """Judge every file, store the new readable ones, update the index, and say what
    became of each: ``documents`` (added or unchanged) and ``skipped`` (with reasons)."""
    job.report("checking", 0, len(items))
    try:
        return _add(service, items, corpus_dir, job, max_bytes, max_unpacked)
    except BaseException:
        job.report("failed", state="failed")
        raise


def _add(service: PolicyQA, items: list[Incoming], corpus_dir: Path, job: Job,
         max_bytes: int, max_unpacked: int) -> dict[str, Any]:
    from indexer.ingest.sources import corpus_files

    for item in items:  # every refusal (413, 415) comes before anything is stored
        uploads.judge(item, max_bytes, max_unpacked)
    with service.updating(corpus_dir):
        existing = corpus_files(corpus_dir)
        first: dict[str, Incoming] = {}
        fresh: list[Incoming] = []
        already: list[tuple[Incoming, Path | Incoming]] = []
        skipped: list[dict[str, str]] = []
        for number, item in enumerate(items):
            job.report("reading", number, len(items))
            if item.skipped is not None:
                skipped.append({"source": item.shown, "reason": item.skipped})
                continue
            earlier = first.get(item.digest) or uploads.same_file(existing, item)
            if earlier is not None:  # the same bytes: in the corpus, or sent twice now
                already.append((item, earlier))
                continue
            uploads.read_check(item, corpus_dir)
            if item.skipped is not None:
                skipped.append({"source": item.shown, "reason": item.skipped})
                continue
            first[item.digest] = item
            fresh.append(item)
        job.report("reading", len(items), len(items))
        placed = {item.stored_name: uploads.place(item, corpus_dir) for item in fresh}
        report = None
        try:
            if placed:
                report = service.rebuild(corpus_dir, stage=job.stage)
        except BaseException:
            for path in placed.values():
                path.unlink(missing_ok=True)
            raise
    generation = service.generation()
    catalog = generation.catalog
    by_file = files_of(catalog, generation.manifest.get("corpus_dir"), corpus_dir)
    documents: list[dict[str, Any]] = []
    for item in fresh:
        path = placed[item.stored_name]
        ids = by_file.get(path.resolve(), [])
        if not ids:  # read alone, but the build kept nothing of it (e.g. duplicate ids)
            path.unlink(missing_ok=True)
            reasons = [s.reason for s in (report.skipped if report else [])
                       if Path(s.source.split(":")[0]).name == path.name]
            skipped.append({"source": item.shown,
                            "reason": reasons[0] if reasons else "no document was read"})
            continue
        documents += [_entry(catalog, doc_id, corpus_dir, item, "added") for doc_id in ids]
        for line in (report.skipped if report else []):
            if Path(line.source).name.startswith(path.name + ":"):
                skipped.append({"source": f"{item.shown}:{line.source.rsplit(':', 1)[1]}",
                                "reason": line.reason})
    for item, earlier in already:
        where = placed.get(earlier.stored_name) if isinstance(earlier, uploads.Incoming) \
            else earlier
        ids = by_file.get(where.resolve(), []) if where is not None else []
        documents += [_entry(catalog, doc_id, corpus_dir, item, "unchanged") for doc_id in ids]
        if not ids:
            skipped.append({"source": item.shown, "reason": "the same file is already in "
                            "the corpus folder, but no document was read from it"})
    result = {"ok": True, "generation": generation.name, "documents": documents,
              "skipped": skipped}
    job.report("done", len(items), len(items), state="done",
               added=sum(d["status"] == "added" for d in documents),
               unchanged=sum(d["status"] == "unchanged" for d in documents),
               skipped=len(skipped))
    log.info("upload: %d documents added, %d files skipped, generation %s",
             sum(d["status"] == "added" for d in documents), len(skipped), generation.name)
    return result


def remove(service: PolicyQA, doc_id: str, corpus_dir: Path) -> dict[str, Any]:
    """Delete the file ``doc_id`` alone came from and update the index (see services)."""
    generation = service.generation()
    catalog = generation.catalog
    document = catalog.documents.get(doc_id)
    if document is None:
        raise NotFound(f"there is no document with id {doc_id!r} in the index")
    built_from = generation.manifest.get("corpus_dir")
    located = uploads.source_file(document.source, built_from, corpus_dir)
    if located is None:
        raise Conflict(f"document {doc_id!r} does not come from a file in the corpus folder, "
                       "so it cannot be removed here")
    path, bulk = located
    sharing = files_of(catalog, built_from, corpus_dir).get(path.resolve(), [])
    if bulk or sharing != [doc_id]:
        raise Conflict(f"document {doc_id!r} shares its file with {len(sharing) - 1} other "
                       "documents (a bulk .jsonl file); remove its line from that file and "
                       "update")
    with service.updating(corpus_dir):
        data = path.read_bytes()
        path.unlink()
        try:
            report = service.rebuild(corpus_dir)
        except BaseException:
            path.write_bytes(data)
            raise
    log.info("removed document %s (%s); generation %s", doc_id, path.name, report.generation)
    return {"ok": True, "removed": doc_id, "generation": report.generation}


# -- the request side: files of a multipart upload -----------------------------------------

def incoming_files() -> tuple[list[Incoming], Job]:
    """The files of this upload request (field ``file``, repeatable) and its progress log.

    Raises UnsupportedMedia (415) for a body that is not multipart/form-data, BadRequest
    (400) for no file or more than ``web_max_upload_files``, TooLarge (413) for a file
    over ``web_max_upload_bytes`` (read no further than that).
    """
    from flask import current_app, request

    from webapp.config import setting
    from webapp.errors import BadRequest, UnsupportedMedia

    if request.mimetype != "multipart/form-data":
        raise UnsupportedMedia("send the files as multipart/form-data, in the field 'file'")
    max_bytes = setting(current_app, "web_max_upload_bytes")
    max_files = setting(current_app, "web_max_upload_files")
    request.max_content_length = upload_body_limit(current_app)
    sent = [f for f in request.files.getlist("file") if f.filename or f.content_length]
    if not sent:
        raise BadRequest("no file was sent: send one or more files in the field 'file'")
    if len(sent) > max_files:
        raise BadRequest(f"{len(sent)} files were sent; at most {max_files} at a time "
                         "(web_max_upload_files)")
    items = []
    for storage in sent:
        data = storage.stream.read(max_bytes + 1)
        items.append(uploads.Incoming(storage.filename or "", data))
        if len(data) > max_bytes:
            uploads.judge(items[-1], max_bytes, 0)  # raises TooLarge
    job_id = uploads.new_job_id(request.form.get("job"))
    return items, uploads.Job(Path(current_app.config["INDEX_DIR"]), job_id)


def upload_body_limit(app) -> int:
    """The largest upload body: every file at its limit, and room for the form around them."""
    from webapp.config import setting

    return (setting(app, "web_max_upload_bytes") * setting(app, "web_max_upload_files")
            + (1 << 20))
