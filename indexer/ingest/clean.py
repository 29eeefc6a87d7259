"""Clean scraped report pages: injected pinyin, GBK mojibake and site furniture.

``clean`` is pure and idempotent; it never converts between traditional and simplified
script (the t2s fold is used only to judge and match, never written out). A character
the damage lost is never guessed: it is written as ``LOST`` (U+FFFD), and the runs of
``LOST`` are the document's garbled spans (``indexer.ingest.mojibake``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from indexer.ingest.markers import restore_markers
from indexer.ingest.mojibake import LOST, char_kind, repair_line, shows_shift
from indexer.text.scripts import converter

log = logging.getLogger(__name__)

REPAIR_KEYS = ("pinyin_removed", "mojibake_repaired", "mojibake_unrepaired",
               "headings_restored", "furniture_lines_dropped")
# A pass that changes the text makes it shorter in GB18030 bytes, so passes end; a guard.
_MAX_PASSES = 16


@dataclass
class CleanResult:
    """Cleaned text plus what was repaired, learned and dropped on the way."""

    text: str
    repairs: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REPAIR_KEYS, 0))
    found: dict[str, str] = field(default_factory=dict)
    dropped_lines: list[str] = field(default_factory=list)
    garbled_spans: list[tuple[int, int]] = field(default_factory=list)


def clean(raw: str) -> CleanResult:
    """Clean one scraped document (see the module docstring); never raises on a str."""
    result = CleanResult(text="")
    # Lone surrogates (broken input) cannot be encoded or shown: replace them first.
    text = raw.encode("utf-8", "replace").decode("utf-8")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A repair can expose more work (an annotation nested in another, a list revealed by a
    # dropped header), so passes run to a fixed point: that is what makes clean idempotent.
    for _ in range(_MAX_PASSES):
        new_text = _one_pass(text, result)
        changed = new_text != text
        text = new_text
        if not changed:
            break
    else:
        log.debug("clean: no fixed point after %d passes", _MAX_PASSES)
    result.text = text
    result.garbled_spans = garbled_spans(text)
    result.repairs["mojibake_unrepaired"] = len(result.garbled_spans)
    return result


def garbled_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every run of ``LOST`` characters in ``text``."""
    return [match.span() for match in re.finditer(f"{LOST}+", text)]


def _one_pass(text: str, result: CleanResult) -> str:
    pinyin_map = _pinyin_map(text)
    lines: list[str] = []
    reopened: set[int] = set()  # lines whose opening was re-decoded: a marker may be broken
    shifted = shows_shift(text) or "?" in text and _SWALLOWED.search(text) is not None
    for number, line in enumerate(text.split("\n")):
        stripped, cuts = _strip_pinyin(line)
        result.repairs["pinyin_removed"] += sum(map(len, cuts.values()))
        if not shifted:
            lines.append(stripped)
            continue
        fixed, repaired, opening = repair_line(stripped, cuts, pinyin_map)
        result.repairs["mojibake_repaired"] += repaired
        if opening:
            reopened.add(number)
        lines.append(fixed)
    result.repairs["headings_restored"] += restore_markers(lines, reopened)
    return _assemble(_drop_furniture(lines, result))


# ---------------------------------------------------------------- pinyin annotations
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_UNTONE = str.maketrans(_TONED + "ü", "aaaaeeeeiiiioooouuuuvvvvv")
_SYLLABLE = (r"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
             r"(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|van|ai|ei|ao|ou|an|en|er"
             r"|ia|ie|iu|in|ua|uo|ui|un|ve|vn|a|o|e|i|u|v)")
_PINYIN_WORD = re.compile(rf"{_SYLLABLE}(?:[ '’]?{_SYLLABLE})*")
# "(xué)" is an annotation; "?xué)" is one whose "(" a dangling GBK lead byte swallowed.
_ANNOTATION = re.compile(rf"([(（]|\?)([a-zü{_TONED} '’]{{1,30}})[)）]")
# "?xué)": an annotation whose "(" a dangling GBK lead byte swallowed: the text is shifted.
_SWALLOWED = re.compile(rf"\?[a-zü '’]*[{_TONED}][a-zü{_TONED} '’]*[)）]")


def _is_pinyin(word: str) -> bool:
    # The corpus only ever injects tone-marked syllables; bare "(xue)" or "(PPP)" is text.
    if not any(c in _TONED for c in word):
        return False
    return _PINYIN_WORD.fullmatch(word.translate(_UNTONE)) is not None


def _strip_pinyin(line: str) -> tuple[str, dict[int, list[tuple[str, bool]]]]:
    """Remove pinyin annotations; return the line and {position: [(pinyin, intact)]}."""
    out: list[str] = []
    cuts: dict[int, list[tuple[str, bool]]] = {}
    last = length = 0
    for m in _ANNOTATION.finditer(line):
        if not _is_pinyin(m.group(2)):
            continue
        out.append(line[last:m.start()])
        length += m.start() - last
        cuts.setdefault(length, []).append((m.group(2), m.group(1) != "?"))
        last = m.end()
    out.append(line[last:])
    return "".join(out), cuts


def _pinyin_map(text: str) -> dict[str, set[str]]:
    """Pinyin -> the plausible characters the document itself annotates with it."""
    found: dict[str, set[str]] = {}
    for m in re.finditer(rf"(.)[(（]([a-zü{_TONED}]{{1,8}})[)）]", text):
        if char_kind(m.group(1)) in ("l1", "l2") and _is_pinyin(m.group(2)):
            found.setdefault(m.group(2), set()).add(m.group(1))
    return found


# ---------------------------------------------------------------- site furniture
_FURNITURE_FILE = Path(__file__).resolve().parent.parent / "data" / "furniture.txt"
_DATE = re.compile(r"(\d{4})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})")
_CRUMB_SPLIT = re.compile(r"\s*(?:>|»|›|＞|→|->)\s*")


@lru_cache(maxsize=1)
def _furniture_rules() -> tuple[tuple[str, int, re.Pattern[str]], ...]:
    """(kind, max chars, pattern) from data/furniture.txt, read once on first use."""
    rules = []
    for line in _FURNITURE_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            kind, limit, pattern = line.split(maxsplit=2)
            rules.append((kind, int(limit), re.compile(pattern)))
    return tuple(rules)


def _furniture_kind(folded: str, in_list: bool) -> str | None:
    for kind, limit, pattern in _furniture_rules():
        if len(folded) <= limit and (kind != "listitem" or in_list) and pattern.search(folded):
            return "related" if kind == "listitem" else kind
    return None


def _drop_furniture(lines: list[str], result: CleanResult) -> list[str]:
    """Drop whole furniture lines, noting the date and title they give away."""
    kept, in_list = [], False
    for line in lines:
        body = line.strip()
        if not body:
            kept.append(line)
            continue
        # Patterns are written once, in simplified script, and matched against a t2s fold.
        folded = converter("t2s").convert(body) if len(body) <= 200 else body
        kind = _furniture_kind(folded, in_list)
        in_list = kind == "related"
        if kind is None:
            kept.append(line)
            continue
        result.repairs["furniture_lines_dropped"] += 1
        result.dropped_lines.append(line)
        _note_found(body, folded, kind, result.found)
    return kept


_BLURB_TITLE = re.compile(r"整理(?:了|的)《?(.{4,60}?)》?(?:范文|範文|的相[关關]文章|[,，。])")


def _note_found(body: str, folded: str, kind: str, found: dict[str, str]) -> None:
    date = _DATE.search(folded)
    if kind == "meta" and date and "published" not in found:
        y, m, d = (int(g) for g in date.groups())
        if 1 <= m <= 12 and 1 <= d <= 31:
            found["published"] = f"{y:04d}-{m:02d}-{d:02d}"
    title = ""
    if kind == "breadcrumb":
        parts = _CRUMB_SPLIT.split(re.split(r"[:：]", body, maxsplit=1)[-1])
        title = parts[-1].strip() if len(parts) > 1 else ""
    elif kind == "related" and body.startswith("【") and "】" in body:
        title = body[1:body.index("】")].strip()
    elif kind == "chrome" and (blurb := _BLURB_TITLE.search(body)):
        # "本站为你精心整理了X范文" / "小编为您收集整理的X的相关文章" name the page.
        title = blurb.group(1).strip()
    if title and "page_title" not in found:
        found["page_title"] = title


# ---------------------------------------------------------------- layout
_BLANK = re.compile(r"(?:\s|&nbsp;?|&#160;)*")


def _assemble(lines: list[str]) -> str:
    """Strip trailing space, blank out empty lines, collapse blank runs."""
    out: list[str] = []
    for line in lines:
        line = "" if _BLANK.fullmatch(line) else line.rstrip()
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)
