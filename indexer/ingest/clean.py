"""Clean scraped report pages: injected pinyin, GBK mojibake and site furniture.

``clean`` is pure and idempotent; it never converts between traditional and simplified
script (the t2s fold below is used only to judge and match, never written out).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

REPAIR_KEYS = ("pinyin_removed", "mojibake_repaired", "mojibake_unrepaired",
               "furniture_lines_dropped")
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
    spans: list[tuple[int, int]] = []
    # A repair can expose more work (an annotation nested in another, a list revealed by a
    # dropped header), so passes run to a fixed point: that is what makes clean idempotent.
    for _ in range(_MAX_PASSES):
        new_text, spans = _one_pass(text, result)
        changed = new_text != text
        text = new_text
        if not changed:
            break
    else:
        log.debug("clean: no fixed point after %d passes", _MAX_PASSES)
    result.text = text
    result.garbled_spans = spans
    result.repairs["mojibake_unrepaired"] = len(spans)
    return result


def _one_pass(text: str, result: CleanResult) -> tuple[str, list[tuple[int, int]]]:
    pinyin_map = _pinyin_map(text)
    lines: list[tuple[str, list[tuple[int, int]]]] = []
    for line in text.split("\n"):
        stripped, cuts = _strip_pinyin(line)
        result.repairs["pinyin_removed"] += sum(map(len, cuts.values()))
        fixed, spans, repaired = _repair_line(stripped, cuts, pinyin_map)
        result.repairs["mojibake_repaired"] += repaired
        lines.append((fixed, spans))
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
        if _kind(m.group(1)) in ("l1", "l2") and _is_pinyin(m.group(2)):
            found.setdefault(m.group(2), set()).add(m.group(1))
    return found


# ---------------------------------------------------------------- character judgement
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF))
# Blocks GB18030 can produce from misaligned bytes but that real Chinese prose never uses.
_STRONG_RANGES = ((0x2500, 0x259F), (0x2E80, 0x2FFF), (0x3100, 0x312F), (0x31A0, 0x31BF),
                  (0xFE10, 0xFE1F), (0xFE30, 0xFE6F), (0xE000, 0xF8FF), (0xFFFD, 0xFFFD))
_FOREIGN_RANGES = ((0x0370, 0x04FF), (0x3040, 0x30FF), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
_SENTENCE_PUNCT = frozenset("，。、；：！？,;:!?")
_CLOSERS = frozenset("）)》」』】")
_SCORES = {"l1": 1.0, "l2": 0.2, "rare": -1.0, "cjk": -0.5, "strong": -3.0, "foreign": -1.0,
           "latin_ext": -1.0, "punct": 0.3, "digit": 0.3, "letter": 0.2, "space": 0.0,
           "other": 0.0}
_CJK_KINDS = frozenset({"l1", "l2", "rare", "cjk"})
# Half-width punctuation this site made of full-width forms, which sit inside mojibake runs.
_FULLWIDTH = {",": "，", "!": "！", "?": "？", ";": "；", ":": "："}


def _in(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # imported on first use: nothing heavy at import time

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def _kind(ch: str) -> str:
    code = ord(ch)
    if code < 0x80:
        return ("digit" if ch.isdigit() else "letter" if ch.isalpha() else "space"
                if ch.isspace() else "punct" if ch.isprintable() else "other")
    if _in(code, _CJK_RANGES):
        folded = _t2s().convert(ch)
        try:
            gb = (folded if len(folded) == 1 else ch).encode("gb2312")
        except UnicodeEncodeError:
            return "rare" if _gb2(ch) else "cjk"
        return "l1" if gb[0] < 0xD8 else "l2"
    if _in(code, _STRONG_RANGES) or unicodedata.category(ch) in ("Cc", "Co", "Cn", "Cs"):
        return "strong"
    if _in(code, _FOREIGN_RANGES):
        return "foreign"
    if 0xC0 <= code <= 0x2FF:
        return "latin_ext"
    return ("space" if ch.isspace() else "digit" if ch.isdigit() else "punct"
            if unicodedata.category(ch).startswith("P") else "other")


@lru_cache(maxsize=65536)
def _gb2(ch: str) -> bytes | None:
    """The character's GB18030 bytes when it is a two-byte (GBK-range) character."""
    try:
        data = ch.encode("gb18030")
    except UnicodeEncodeError:  # lone surrogates
        return None
    return data if len(data) == 2 else None


def _is_letter(seq: str, i: int) -> bool:
    return 0 <= i < len(seq) and (seq[i].isascii() and seq[i].isalnum()
                                  or _kind(seq[i]) == "latin_ext")


def _isolated_letter(seq: str, i: int) -> bool:
    # A lone Latin letter wedged between Chinese characters is usually an ASCII byte
    # that was a GBK trail byte ("亮點,F場" is "亮點現場" one byte out of step).
    if not seq[i].isascii() or not seq[i].isalpha() or _is_letter(seq, i - 1) \
            or _is_letter(seq, i + 1):
        return False
    return any(0 <= j < len(seq) and _kind(seq[j]) in _CJK_KINDS for j in (i - 1, i + 1))


def _char_score(seq: str, i: int) -> float:
    kind = _kind(seq[i])
    if kind == "latin_ext" and (_is_letter(seq, i - 1) or _is_letter(seq, i + 1)):
        return _SCORES["letter"]  # part of a Latin word such as "Běijīng"
    if kind == "letter" and _isolated_letter(seq, i):
        return _SCORES["letter"] - 2.0
    return _SCORES[kind]


def _suspicion(seq: str, i: int) -> int:
    """2 for characters mojibake alone explains, 1 for ones that are merely odd, else 0."""
    kind = _kind(seq[i])
    if kind == "strong" or kind == "latin_ext" and _char_score(seq, i) < 0:
        return 2
    if kind in ("rare", "foreign") or kind == "letter" and _isolated_letter(seq, i):
        return 1
    if seq[i] in "!?" and i + 1 < len(seq):
        nxt = seq[i + 1]
        return int(_kind(nxt) in _CJK_KINDS or nxt in _SENTENCE_PUNCT)
    return 0


def _score(seq: str, lo: int, hi: int, at_line_start: bool) -> float:
    """How much seq[lo:hi] reads like Chinese prose (higher is better)."""
    total = 0.0
    for i in range(lo, hi):
        total += _char_score(seq, i)
        if i + 1 < hi and seq[i] in _SENTENCE_PUNCT and seq[i + 1] in _SENTENCE_PUNCT:
            total -= 3.0
    if at_line_start and lo == 0 < hi:
        total -= 1.5 if seq[0] in _SENTENCE_PUNCT else 0.5 if seq[0] in _CLOSERS else 0.0
    return total


# ---------------------------------------------------------------- GBK mojibake
# A run is GBK text decoded one byte out of step: its bytes, minus the first (the orphan
# trail of a lost character), decode to the real text up to the ASCII byte that re-syncs.
_WINDOW = 12          # how far around suspicious characters a run may start or end
_CLUSTER_GAP = 8      # suspicious characters this close belong to one run
_CLUSTER_MAX = 48     # ... up to this length, which bounds the work on pure noise
_MARGIN = 2.0         # "clearly more plausible"
_MARGIN_KNOWN = -0.5  # after a swallowed "(" we know the bytes are out of step


def _run_char(ch: str) -> bool:
    return ch in _FULLWIDTH or (_gb2(ch) is not None and not ch.isspace())


def _trail_letter(ch: str) -> bool:
    return "\x40" <= ch <= "\x7e"  # the ASCII bytes that are also valid GBK trail bytes


def _segments(line: str, cuts: dict) -> list[tuple[int, int]]:
    """Spans a shifted run could cover: run characters plus one re-syncing ASCII byte."""
    found, n, i = [], len(line), 0
    while i < n:
        if not _run_char(line[i]) and not (i in cuts and _trail_letter(line[i])):
            i += 1
            continue
        a = j = i
        while j < n and _run_char(line[j]) and (j == a or j not in cuts):
            j += 1
        end = j + 1 if j < n and _trail_letter(line[j]) and (j == a or j not in cuts) else j
        found.append((a, end))
        i = max(end, a + 1)
    return found


def _shifted(text: str, cut: tuple[str, bool] | None, pinyin_map: dict) -> str:
    """Decode text's GB18030 bytes minus the first; a dangling last lead byte is recovered
    from the pinyin annotation that follows it when that names one character."""
    data = b"".join(_gb2(_FULLWIDTH.get(c, c)) or c.encode("ascii") for c in text)[1:]
    out, i = [], 0
    while i < len(data):
        if data[i] < 0x80:
            out.append(chr(data[i]))
            i += 1
        elif i + 1 < len(data):
            try:
                ch = data[i:i + 2].decode("gb18030")
                # User-defined (private-use) pairs are exactly what the damage lost.
                out.append("\ufffd" if 0xE000 <= ord(ch[0]) <= 0xF8FF else ch)
                i += 2
            except UnicodeDecodeError:
                out.append("\ufffd")
                i += 1
        else:
            names = pinyin_map.get(cut[0], ()) if cut else ()
            hits = [c for c in names if (_gb2(c) or b"\0")[0] == data[i]]
            out.extend(hits if len(hits) == 1 else ())
            i += 1
    return "".join(out)


def _clusters(line: str, a: int, end: int, known: bool) -> list[tuple[int, int, int]]:
    """(start, end, weight) of groups of suspicious characters in one segment."""
    seeds = [(i, _suspicion(line, i)) for i in range(a, end)]
    seeds = [(i, w) for i, w in seeds if w] or ([(a, 0)] if known else [])
    if known and seeds[0][0] != a:
        seeds.insert(0, (a, 0))
    groups: list[list[int]] = []
    for i, w in seeds:
        if groups and i - groups[-1][1] < _CLUSTER_GAP and i - groups[-1][0] < _CLUSTER_MAX:
            groups[-1][1], groups[-1][2] = i, groups[-1][2] + w
        else:
            groups.append([i, i, w])
    return [(s, e + 1, w) for s, e, w in groups]


def _repair_line(line: str, cuts: dict, pinyin_map: dict):
    """Repair the mojibake runs of one line; return it, its garbled spans and a count."""
    edits: list[tuple[int, int, str | None]] = []  # None marks an unrepairable span
    for a, end in _segments(line, cuts):
        known = a in cuts and not cuts[a][-1][1]  # the run starts after a swallowed "("
        floor = a
        for cs, ce, weight in _clusters(line, a, end, known):
            if ce <= floor:
                continue
            cs = max(cs, floor)
            best = _best_candidate(line, max(floor, cs - _WINDOW, a), cs, ce,
                                   min(end, ce + _WINDOW), a if known else -1, cuts,
                                   pinyin_map)
            if best is not None:
                edits.append(best)
                floor = best[1]
            elif weight >= 2:
                edits.append((cs, ce, None))
                floor = ce
    out, spans, last = "", [], 0
    for s, e, repl in edits:
        out += line[last:s]
        if repl is None:
            spans.append((len(out), len(out) + e - s))
        out, last = out + (line[s:e] if repl is None else repl), e
    return out + line[last:], spans, sum(repl is not None for _, _, repl in edits)


def _best_candidate(line, s_lo, cs, ce, e_hi, known_start, cuts, pinyin_map):
    n, best, best_key = len(line), None, None
    for s in range(s_lo, cs + 1):
        for e in range(max(ce, s + 1), e_hi + 1):
            repl = _shifted(line[s:e], cuts.get(e, [None])[0], pinyin_map)
            lo, hi = max(0, s - 3), min(n, e + 3)
            old, new = line[lo:hi], line[lo:s] + repl + line[e:hi]
            first, tail = (0 if lo == 0 else 1), (0 if hi == n else 1)
            delta = (_score(new, first, len(new) - tail, lo == 0)
                     - _score(old, first, len(old) - tail, lo == 0))
            if e - 1 > s and line[e - 1] in _FULLWIDTH:
                delta -= 1.0  # ASCII punctuation after a run is most likely the real re-sync
            if delta < (_MARGIN_KNOWN if s == known_start else _MARGIN):
                continue
            key = (round(delta, 6), s - e)  # ties go to the smaller change
            if best_key is None or key > best_key:
                best, best_key = (s, e, repl), key
    return best


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


def _drop_furniture(lines, result: CleanResult):
    """Drop whole furniture lines, noting the date and title they give away."""
    kept, in_list = [], False
    for line, spans in lines:
        body = line.strip()
        if not body:
            kept.append((line, spans))
            continue
        # Patterns are written once, in simplified script, and matched against a t2s fold.
        folded = _t2s().convert(body) if len(body) <= 200 else body
        kind = _furniture_kind(folded, in_list)
        in_list = kind == "related"
        if kind is None:
            kept.append((line, spans))
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


def _assemble(lines) -> tuple[str, list[tuple[int, int]]]:
    """Strip trailing space, blank out empty lines, collapse blank runs; map spans."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    offset = 0
    for line, line_spans in lines:
        line = "" if _BLANK.fullmatch(line) else line.rstrip()
        if not line and (not out or not out[-1]):
            continue
        for s, e in line_spans:
            if s < min(e, len(line)):
                spans.append((offset + s, offset + min(e, len(line))))
        out.append(line)
        offset += len(line) + 1
    while out and not out[-1]:
        out.pop()
    return "\n".join(out), spans
