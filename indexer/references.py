"""A report as a formal reference: GB/T 7714-2015, BibTeX and RIS.

A report from the web is an electronic resource (``[EB/OL]``)::

    主要责任者. 题名[EB/OL]. (发布或更新日期)[引用日期]. 获取和访问路径.

Missing elements follow the standard's rules rather than being invented: with no known
issuer the reference starts with the title (8.1.3: a numbered reference list may omit an
unknown responsible body), with no date the parenthesised date is left out, and with no
known address the access path is left out. The access date is the day the reference is
made.

A report's ``year`` is the year it covers, not when it was published, so it never stands in
for a publication date: BibTeX ``year`` and RIS ``PY`` come from ``published`` only.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indexer.records import Document

FORMATS = ("gbt7714", "bibtex", "ris")
MEDIA_TYPES = {"gbt7714": "text/plain", "bibtex": "application/x-bibtex",
               "ris": "application/x-research-info-systems"}
# Fields of a source (a bulk file's line) that record the web address a report came from.
SOURCE_URL_FIELDS = ("url", "source_url")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_BIBTEX_SPECIAL = re.compile(r"([{}%&#_$\\])")
_BIBTEX_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_:-]")


def source_url(document: Document) -> str | None:
    """The web address the report came from, when its source recorded one."""
    for name in SOURCE_URL_FIELDS:
        value = document.extra.get(name)
        if isinstance(value, str) and value.startswith(("https://", "http://")):
            return value
    return None


def _published(document: Document) -> str | None:
    """The publication date as YYYY-MM-DD, when the report gives a full one."""
    value = (document.published or "").strip()
    return value if _DATE.match(value) else None


def _title(document: Document) -> str:
    return (document.title or "").strip() or "（无标题）"


def gbt7714(document: Document, accessed: date) -> str:
    """The GB/T 7714-2015 reference of a report read online on ``accessed``."""
    parts = []
    if document.issuer:
        parts.append(f"{document.issuer.strip()}. ")
    parts.append(f"{_title(document)}[EB/OL]. ")
    published = _published(document)
    parts.append(f"({published})" if published else "")
    parts.append(f"[{accessed.isoformat()}].")
    url = source_url(document)
    if url:
        parts.append(f" {url}.")
    return "".join(parts)


def _bibtex_value(text: str) -> str:
    return _BIBTEX_SPECIAL.sub(r"\\\1", text)


def bibtex(document: Document, accessed: date) -> str:
    """A BibTeX ``@misc`` entry; the issuing body is braced as one corporate author."""
    key = _BIBTEX_KEY_UNSAFE.sub("", document.doc_id)
    if key != document.doc_id or not key:  # an id in other characters: a stable stand-in
        key = "report-" + hashlib.sha1(document.doc_id.encode("utf-8")).hexdigest()[:10]
    fields = [("title", f"{{{_bibtex_value(_title(document))}}}")]
    if document.issuer:
        fields.append(("author", f"{{{{{_bibtex_value(document.issuer.strip())}}}}}"))
    published = _published(document)
    if published:
        fields.append(("year", f"{{{published[:4]}}}"))
        fields.append(("date", f"{{{published}}}"))
    url = source_url(document)
    if url:
        fields.append(("url", f"{{{_bibtex_value(url)}}}"))
    fields.append(("urldate", f"{{{accessed.isoformat()}}}"))
    if document.kind:
        fields.append(("note", f"{{{_bibtex_value(document.kind)}}}"))
    body = ",\n".join(f"  {name} = {value}" for name, value in fields)
    return f"@misc{{{key},\n{body}\n}}\n"


def ris(document: Document, accessed: date) -> str:
    """An RIS record of type ELEC (web page)."""
    lines = [("TY", "ELEC"), ("TI", _title(document))]
    if document.issuer:
        lines.append(("AU", document.issuer.strip()))
    published = _published(document)
    if published:
        lines.append(("PY", published[:4]))
        lines.append(("DA", published.replace("-", "/")))
    url = source_url(document)
    if url:
        lines.append(("UR", url))
    lines.append(("Y2", accessed.strftime("%Y/%m/%d")))
    if document.region:
        lines.append(("CY", document.region))
    if document.kind:
        lines.append(("M3", document.kind))
    lines.append(("ER", ""))
    # One line per tag ("ER  - " too, as the format has it); a value never spans lines.
    return "".join(f"{tag}  - {' '.join(value.split())}\n" for tag, value in lines)


def reference(document: Document, accessed: date) -> dict[str, str]:
    """The report in every format, as the API's ``reference`` object."""
    return {"gbt7714": gbt7714(document, accessed), "bibtex": bibtex(document, accessed),
            "ris": ris(document, accessed)}
