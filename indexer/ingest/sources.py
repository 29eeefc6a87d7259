"""Read the files of a corpus folder into raw documents, one reader per format.

Every reader turns one file into zero or more :class:`RawDocument`. A file that cannot
be read raises :class:`UnreadableSource` with a one-line reason; :func:`read_corpus`
turns that into a :class:`Skipped` entry and goes on with the rest.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from indexer.errors import UnreadableSource
from indexer.records import RawDocument, Skipped

log = logging.getLogger(__name__)

# Encodings we expect in scraped Chinese reports; anything else is suspicious.
CHINESE_ENCODINGS = ("utf_8", "gb18030", "gbk", "gb2312", "big5", "big5hkscs", "cp950", "hz",
                     "utf_16", "utf_32", "ascii")



def decode_text(data: bytes) -> str:
    """Decode bytes of a plain-text report, detecting UTF-8, GB18030/GBK or Big5."""
    if not data.strip():
        raise UnreadableSource("empty file")
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableSource("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = from_bytes(data, cp_isolation=list(CHINESE_ENCODINGS))
    best = matches.best()
    if best is None:
        raise UnreadableSource("not text in any Chinese encoding we know (binary?)")
    log.debug("detected %s", best.encoding)
    return str(best)


def read_text(path: Path) -> Iterator[RawDocument]:
    """A .txt or .md report."""
    yield RawDocument(source=str(path), text=decode_text(path.read_bytes()))


def read_html(path: Path) -> Iterator[RawDocument]:
    """An HTML page: the main content only, with its title and date as metadata."""
    import trafilatura

    data = path.read_bytes()
    if not data.strip():
        raise UnreadableSource("empty file")
    html = decode_text(data)
    result = trafilatura.bare_extraction(html, include_comments=False, include_tables=True,
                                         favor_recall=True, with_metadata=True)
    text = result.text if result is not None else None
    if not text or not text.strip():
        raise UnreadableSource("no main text found in the HTML page")
    meta = {}
    if result.title:
        meta["title"] = result.title.strip()
    if result.date:
        meta["published"] = result.date
    yield RawDocument(source=str(path), text=text, meta=meta)


def read_pdf(path: Path) -> Iterator[RawDocument]:
    """A PDF with a text layer, pages joined by blank lines."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise UnreadableSource("encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise UnreadableSource(f"not a readable PDF ({exc.__class__.__name__})") from exc
    text = "\n\n".join(page.strip() for page in pages)
    if not text.strip():
        raise UnreadableSource("PDF has no text layer (scanned?)")
    meta = {}
    if reader.metadata and reader.metadata.title:
        meta["title"] = str(reader.metadata.title)
    yield RawDocument(source=str(path), text=text, meta=meta)


def read_docx(path: Path) -> Iterator[RawDocument]:
    """A Word .docx document, one line per paragraph."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise UnreadableSource(f"not a readable .docx file ({exc.__class__.__name__})") from exc
    text = "\n".join(p.text for p in document.paragraphs)
    if not text.strip():
        raise UnreadableSource("empty document")
    meta = {}
    if document.core_properties.title:
        meta["title"] = document.core_properties.title
    yield RawDocument(source=str(path), text=text, meta=meta)


def read_jsonl_line(source: str, line: str) -> RawDocument:
    """One line of a bulk file: ``{"id" or "pid", "title", "text", ...metadata}``."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UnreadableSource(f"bad JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(record, dict):
        raise UnreadableSource("a JSON line must be an object")
    doc_id = record.get("id", record.get("pid"))
    if doc_id is None or str(doc_id).strip() == "":
        raise UnreadableSource('no "id" or "pid"')
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise UnreadableSource('no "text"')
    meta = {key: value for key, value in record.items() if key not in {"id", "pid", "text"}}
    return RawDocument(source=source, text=text, doc_id=str(doc_id), meta=meta)


READERS: dict[str, Callable[[Path], Iterator[RawDocument]]] = {
    ".txt": read_text,
    ".md": read_text,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".docx": read_docx,
}
SUPPORTED_SUFFIXES = (*READERS, ".jsonl")


def corpus_files(root: Path) -> list[Path]:
    """The files under ``root`` we know how to read, in a stable order."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*")
                  if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def count_items(path: Path) -> int:
    """How many raw documents a file will give (lines for bulk files), for progress bars."""
    if path.suffix.lower() == ".jsonl":
        with path.open("rb") as handle:
            return sum(1 for line in handle if line.strip())
    return 1


def read_file(path: Path) -> Iterator[RawDocument | Skipped]:
    """Yield the raw documents of one file, or a Skipped entry for what cannot be read."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from _read_jsonl(path)
        return
    try:
        yield from READERS[suffix](path)
    except UnreadableSource as exc:
        yield Skipped(str(path), str(exc))
    except Exception as exc:  # a reader library failing on junk input must not stop a build
        log.debug("reader failed on %s", path, exc_info=True)
        yield Skipped(str(path), f"unreadable {suffix} file ({exc.__class__.__name__}: {exc})")


def _read_jsonl(path: Path) -> Iterator[RawDocument | Skipped]:
    try:
        text = decode_text(path.read_bytes())
    except UnreadableSource as exc:
        yield Skipped(str(path), str(exc))
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        source = f"{path}:{number}"
        try:
            yield read_jsonl_line(source, line)
        except UnreadableSource as exc:
            yield Skipped(source, str(exc))


_UNSAFE_ID_CHARS = re.compile(r"[^\w.-]+")


def file_doc_id(path: Path, root: Path) -> str:
    """A stable, URL-safe document id from a file's path under the corpus root."""
    relative = path.relative_to(root) if root.is_dir() else Path(path.name)
    stem = relative.with_suffix("").as_posix()
    return _UNSAFE_ID_CHARS.sub("_", stem).strip("_") or "document"
