"""Files an editor adds to the corpus folder, and the one a document came from.

An uploaded file is judged by its content, never by its name: a PDF must start like one,
a .docx must be a ZIP holding ``word/document.xml``, anything else must decode as text
(and an ``.html`` name must hold a page, a ``.jsonl`` one JSON lines). A name that
disagrees with the content, or a format we do not read, refuses the whole upload (415);
so does a file over ``web_max_upload_bytes`` (413). What has the right type but cannot
be read (a broken PDF, an empty file, a .docx that would unpack past
``web_max_unpacked_bytes``) is skipped with its reason. A file that is kept is stored in
the corpus folder as ``<sha256 prefix>.<suffix>``: the name the user gave is only shown
back, never used as a path.

Progress of a running upload is written to ``<index_dir>/jobs/<job>.json``, which every
worker process can read.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from indexer.errors import PolicyQAError, UnreadableSource
from webapp.errors import NotFound, UnsupportedMedia

READABLE = "txt, md, html, pdf, docx and jsonl"
# The suffixes a file may be stored under, by what its content is.
SUFFIXES = {"txt": (".txt", ".md"), "html": (".html", ".htm"), "jsonl": (".jsonl",),
            "pdf": (".pdf",), "docx": (".docx",)}
# Content that is recognisably something we do not read (many of these decode as "text").
REFUSED_MAGIC = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"\x7fELF", "a program"), (b"\xd0\xcf\x11\xe0", "an old Office file (.doc, .xls)"),
    (b"\x1f\x8b", "a gzip archive"), (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"), (b"%!PS", "a PostScript file"), (b"{\\rtf", "an RTF file"),
)
HTML_START = re.compile(rb"<(?:!doctype\s+html|html|head|body|article|main|div|p)[\s>]", re.I)
MAX_ZIP_ENTRIES = 10_000
HIDDEN_INCOMING = ".incoming"  # inside the corpus folder: readers skip dot-folders
JOBS = "jobs"
JOB_ID = re.compile(r"[0-9a-f]{32}")
JOB_KEEP_SECONDS = 24 * 3600
SHOWN_NAME_CHARS = 120
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class TooLarge(PolicyQAError):
    """An uploaded file over ``web_max_upload_bytes``."""

    status = 413
    exit_code = 2


@dataclass
class Incoming:
    """One uploaded file: the name it was sent with (shown, never used) and its bytes."""

    name: str
    data: bytes
    suffix: str = ""  # what it will be stored as, once judged
    skipped: str | None = None  # the reason it cannot be read, if so
    digest: str = field(default="", repr=False)

    @property
    def shown(self) -> str:
        """The file name as sent, its folders dropped and cut to a sane length."""
        name = CONTROL.sub("", PurePosixPath(self.name.replace("\\", "/")).name)
        return name[:SHOWN_NAME_CHARS] or "(unnamed)"

    @property
    def stored_name(self) -> str:
        return f"{self.digest[:16]}{self.suffix}"


def _declared_suffix(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).suffix.lower()


def _zip_kind(item: Incoming, max_unpacked: int) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(item.data))
        names = archive.namelist()
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise UnsupportedMedia(f"{item.shown} is a damaged ZIP archive, not a .docx "
                               "document") from None
    if "word/document.xml" not in names:
        raise UnsupportedMedia(f"{item.shown} is a ZIP archive, not a .docx document; we read "
                               f"{READABLE}")
    unpacked = sum(info.file_size for info in infos)  # zipfile never inflates past these
    if len(infos) > MAX_ZIP_ENTRIES or unpacked > max_unpacked:
        item.skipped = (f"the .docx would unpack to {unpacked / 2**20:.1f} MB in "
                        f"{len(infos)} parts, over the limit of {max_unpacked / 2**20:.1f} MB "
                        "(web_max_unpacked_bytes): not read")
    return "docx"


def _text_kind(item: Incoming, declared: str) -> str:
    from indexer.ingest.sources import decode_text

    try:
        text = decode_text(item.data)
    except UnreadableSource as exc:
        raise UnsupportedMedia(f"{item.shown} is not a document we read ({exc}); we read "
                               f"{READABLE}") from None
    looks_html = bool(HTML_START.search(item.data[:4096]))
    lines = [line for line in text.splitlines() if line.strip()]
    looks_jsonl = bool(lines) and all(_json_object(line) for line in lines[:20])
    if declared in SUFFIXES["html"] and not looks_html:
        raise UnsupportedMedia(f"{item.shown} is named as an HTML page but is plain text")
    if declared == ".jsonl" and not looks_jsonl:
        raise UnsupportedMedia(f"{item.shown} is named as JSON lines but its lines are not "
                               "JSON objects")
    for kind in ("txt", "html", "jsonl"):  # a text format: the name chooses how to read it
        if declared in SUFFIXES[kind]:
            return kind
    return "html" if looks_html else "jsonl" if looks_jsonl else "txt"


def _json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def judge(item: Incoming, max_bytes: int, max_unpacked: int) -> None:
    """Decide what ``item`` is by its content and set the suffix it is stored under.

    Raises TooLarge (413) over ``max_bytes``, UnsupportedMedia (415) for a format we do
    not read or a name that says another format; sets ``skipped`` for an empty file or a
    .docx that would unpack past ``max_unpacked``.
    """
    if len(item.data) > max_bytes:
        raise TooLarge(f"{item.shown} is larger than {max_bytes} bytes, the limit per file "
                       "(web_max_upload_bytes)")  # read no further than that: size unknown
    item.digest = hashlib.sha256(item.data).hexdigest()
    declared = _declared_suffix(item.name)
    known = {s for suffixes in SUFFIXES.values() for s in suffixes}
    if declared and declared not in known:
        raise UnsupportedMedia(f"{item.shown}: {declared} files are not read; we read "
                               f"{READABLE}")
    if not item.data.strip():
        item.suffix, item.skipped = declared or ".txt", "empty file"
        return
    head = item.data[:1024]
    if b"%PDF-" in head:
        kind = "pdf"
    elif item.data.startswith(b"PK\x03\x04"):
        kind = _zip_kind(item, max_unpacked)
    else:
        what = next((name for magic, name in REFUSED_MAGIC if item.data.startswith(magic)),
                    None)
        if what:
            raise UnsupportedMedia(f"{item.shown} is {what}; we read {READABLE}")
        kind = _text_kind(item, declared)
    if declared and declared not in SUFFIXES[kind]:
        raise UnsupportedMedia(f"{item.shown} is named {declared} but its content is "
                               f"{kind.upper() if kind in ('pdf', 'html') else kind}")
    item.suffix = declared if declared else SUFFIXES[kind][0]


def read_check(item: Incoming, corpus_dir: Path) -> None:
    """Read ``item`` as the build will (in a hidden folder of the corpus) and set
    ``skipped`` when nothing can be read from it."""
    from indexer.ingest.sources import read_file
    from indexer.records import Skipped

    folder = corpus_dir / HIDDEN_INCOMING / secrets.token_hex(8)
    folder.mkdir(parents=True)
    try:
        path = folder / item.stored_name
        path.write_bytes(item.data)
        items = list(read_file(path))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        try:
            (corpus_dir / HIDDEN_INCOMING).rmdir()
        except OSError:
            pass
    if not any(not isinstance(found, Skipped) for found in items):
        reasons = [found.reason for found in items if isinstance(found, Skipped)]
        item.skipped = reasons[0] if reasons else "no text found"


def same_file(corpus_files: list[Path], item: Incoming) -> Path | None:
    """A file of the corpus with exactly ``item``'s bytes (compared by size, then hash)."""
    size = len(item.data)
    for path in corpus_files:
        try:
            if path.stat().st_size != size:
                continue
            if hashlib.sha256(path.read_bytes()).hexdigest() == item.digest:
                return path
        except OSError:
            continue
    return None


def place(item: Incoming, corpus_dir: Path) -> Path:
    """Write ``item`` into the corpus folder under its content name, atomically."""
    target = corpus_dir / item.stored_name
    temporary = corpus_dir / f".{item.stored_name}.{secrets.token_hex(4)}.part"
    temporary.write_bytes(item.data)
    os.replace(temporary, target)
    return target


# -- which file a document came from ------------------------------------------------------

BULK_LINE = re.compile(r"(.*\.jsonl):(\d+)", re.I)


def source_file(source: str, built_from: str | None, corpus_dir: Path) -> tuple[Path, bool] | None:
    """The file under ``corpus_dir`` that a document's ``source`` names, and whether it is
    a bulk file (a ``.jsonl`` line); None when it is not a file inside the folder.

    ``built_from`` is the corpus folder as the build was given it (its manifest says), so
    a source read as ``corpus/a.txt`` maps to ``<corpus_dir>/a.txt``.
    """
    bulk = BULK_LINE.fullmatch(source)
    path = Path(bulk.group(1) if bulk else source)
    try:
        relative = path.relative_to(Path(built_from)) if built_from else None
    except ValueError:
        relative = None
    if relative is None:
        try:
            relative = path.resolve().relative_to(corpus_dir.resolve())
        except (ValueError, OSError):
            return None
    candidate = corpus_dir / relative
    root = corpus_dir.resolve()
    try:
        real = candidate.resolve()
    except OSError:
        return None
    if candidate.is_symlink() or not real.is_relative_to(root) or not real.is_file():
        return None
    return candidate, bool(bulk)


# -- progress a browser can poll ------------------------------------------------------------

def new_job_id(given: str | None) -> str:
    """The job id a browser chose (32 hex digits), else a fresh one."""
    return given if given and JOB_ID.fullmatch(given) else secrets.token_hex(16)


class Job:
    """The progress of one upload, as a small JSON file other processes can read."""

    def __init__(self, index_dir: Path, job_id: str):
        self.folder = Path(index_dir) / JOBS
        self.job_id = job_id
        self.folder.mkdir(parents=True, exist_ok=True)
        self._forget_old()

    def _forget_old(self) -> None:
        cutoff = time.time() - JOB_KEEP_SECONDS
        for path in self.folder.glob("*.json"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                pass

    def report(self, stage: str, done: int = 0, total: int = 0, state: str = "running",
               **extra: Any) -> None:
        """Record the stage (checking, reading, indexing, embedding, done) and its counts."""
        data = {"ok": True, "job": self.job_id, "state": state, "stage": stage,
                "done": done, "total": total, **extra}
        path = self.folder / f"{self.job_id}.json"
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, path)

    def stage(self, name: str, done: int, total: int) -> None:
        """A build's ``stage`` callback (reading then counts the whole corpus)."""
        self.report(name, done, total, source="build")


def read_job(index_dir: Path, job_id: str) -> dict[str, Any]:
    """The progress of job ``job_id``; NotFound for an unknown or malformed id."""
    if not JOB_ID.fullmatch(job_id):
        raise NotFound(f"there is no upload {job_id!r}")
    try:
        return json.loads((Path(index_dir) / JOBS / f"{job_id}.json").read_text("utf-8"))
    except (OSError, ValueError):
        raise NotFound(f"there is no upload {job_id!r} (it has not started, or it is "
                       "over a day old)") from None
