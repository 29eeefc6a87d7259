"""GBK mojibake: text decoded one byte out of step, and what its repair may not guess.

A scraped page was GBK text decoded with a byte lost, so every character after it pairs
the trail byte of one character with the lead byte of the next; pairs that made no
character were dropped with it. Decoding a run's bytes anew, one byte later, gives the
real text back, except where a dropped pair took two half characters with it: there the
lead of one and the trail of the next decode to a real but wrong character ("在汝一輪" for
"在三年一輪", "（醛" for "（三）"). Such a character must earn its place (``_doubtful``);
what cannot be recovered is written as ``LOST``, never guessed.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

from indexer.text.scripts import converter

# Stands for characters that could not be recovered; its runs are the garbled spans.
LOST = "\ufffd"
# The trail byte of "）", which a heading marker's numeral may have been joined to.
BRACKET_TRAIL = "）".encode("gbk")[1:]

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
           "other": 0.0, "lost": -0.5}
_CJK_KINDS = frozenset({"l1", "l2", "rare", "cjk"})
# Half-width punctuation this site made of full-width forms, which sit inside mojibake runs.
_FULLWIDTH = {",": "，", "!": "！", "?": "？", ";": "；", ":": "："}


# Blocks that only the shift produces in these pages, never their prose, their tables (box
# drawing) or Taiwanese forms (︰﹑): bopomofo, radicals, private use. Their presence is the
# evidence that a text was decoded out of step at all.
_EVIDENCE_RANGES = ((0x2E80, 0x2FFF), (0x3100, 0x312F), (0x31A0, 0x31BF), (0xE000, 0xF8FF))
_EVIDENCE = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _EVIDENCE_RANGES)
                       + "]")


def shows_shift(text: str) -> bool:
    """Whether ``text`` carries the marks of GBK decoded out of step (or of a ``(`` that a
    dangling lead byte swallowed before a pinyin annotation): only such a text is repaired,
    so clean text with rare characters, tables or symbols is never rewritten."""
    return _EVIDENCE.search(text) is not None


def _in(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


@lru_cache(maxsize=65536)
def char_kind(ch: str) -> str:
    """How a character reads in Chinese prose: l1/l2 (GB2312 levels), rare, cjk, strong
    (mojibake only), foreign, latin_ext, punct, digit, letter, space or other."""
    code = ord(ch)
    if code < 0x80:
        return ("digit" if ch.isdigit() else "letter" if ch.isalpha() else "space"
                if ch.isspace() else "punct" if ch.isprintable() else "other")
    if _in(code, _CJK_RANGES):
        folded = converter("t2s").convert(ch)
        try:
            gb = (folded if len(folded) == 1 else ch).encode("gb2312")
        except UnicodeEncodeError:
            return "rare" if gb2(ch) else "cjk"
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
def gb2(ch: str) -> bytes | None:
    """The character's GB18030 bytes when it is a two-byte (GBK-range) character."""
    try:
        data = ch.encode("gb18030")
    except UnicodeEncodeError:  # lone surrogates
        return None
    return data if len(data) == 2 else None


def _is_letter(seq: str, i: int) -> bool:
    return 0 <= i < len(seq) and (seq[i].isascii() and seq[i].isalnum()
                                  or char_kind(seq[i]) == "latin_ext")


def _isolated_letter(seq: str, i: int) -> bool:
    # A lone Latin letter wedged between Chinese characters is usually an ASCII byte
    # that was a GBK trail byte ("亮點,F場" is "亮點現場" one byte out of step).
    if not seq[i].isascii() or not seq[i].isalpha() or _is_letter(seq, i - 1) \
            or _is_letter(seq, i + 1):
        return False
    return any(0 <= j < len(seq) and char_kind(seq[j]) in _CJK_KINDS for j in (i - 1, i + 1))


def _char_score(seq: str, i: int) -> float:
    if seq[i] == LOST:
        return _SCORES["lost"]  # a character known to be there, but not which
    kind = char_kind(seq[i])
    if kind == "latin_ext" and (_is_letter(seq, i - 1) or _is_letter(seq, i + 1)):
        return _SCORES["letter"]  # part of a Latin word such as "Běijīng"
    if kind == "letter" and _isolated_letter(seq, i):
        return _SCORES["letter"] - 2.0
    return _SCORES[kind]


def _suspicion(seq: str, i: int) -> int:
    """2 for characters mojibake alone explains, 1 for ones that are merely odd, else 0."""
    kind = char_kind(seq[i])
    if kind == "strong" or kind == "latin_ext" and _char_score(seq, i) < 0:
        return 2
    if kind in ("rare", "foreign") or kind == "letter" and _isolated_letter(seq, i):
        return 1
    if seq[i] in "!?" and i + 1 < len(seq):
        nxt = seq[i + 1]
        return int(char_kind(nxt) in _CJK_KINDS or nxt in _SENTENCE_PUNCT)
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
    return ch in _FULLWIDTH or (gb2(ch) is not None and not ch.isspace())


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


def _shifted(text: str, cut: tuple[str, bool] | None, pinyin_map: dict,
             split: tuple[str, str] | None = None) -> tuple[str, frozenset[int]]:
    """Decode text's GB18030 bytes minus the first; return the text and the positions
    of the characters a pinyin annotation vouches for.

    A dangling last lead byte is recovered from the pinyin annotation that follows it
    when that names one character; ``split`` (the character before the run and the
    pinyin of the swallowed annotation it opens with) may name the character the first
    byte belonged to (``_split_char``). Whatever is not recovered is ``LOST``.
    """
    data = b"".join(gb2(_FULLWIDTH.get(c, c)) or c.encode("ascii") for c in text)
    out, vouched = [], set()
    if split is not None and data:
        named = _split_char(*split, data[0], pinyin_map)
        if named is not None:
            vouched.add(len(out))
        out.append(named or LOST)
    data, i = data[1:], 0
    while i < len(data):
        if data[i] < 0x80:
            out.append(chr(data[i]))
            i += 1
        elif i + 1 < len(data):
            try:
                ch = data[i:i + 2].decode("gb18030")
                # User-defined (private-use) pairs are exactly what the damage lost.
                out.append(LOST if 0xE000 <= ord(ch[0]) <= 0xF8FF else ch)
                i += 2
            except UnicodeDecodeError:
                out.append(LOST)
                i += 1
        else:
            names = pinyin_map.get(cut[0], ()) if cut else ()
            hits = [c for c in names if (gb2(c) or b"\0")[0] == data[i]]
            if len(hits) == 1:
                vouched.add(len(out))
            out.append(hits[0] if len(hits) == 1 else LOST)
            i += 1
    return "".join(out), frozenset(vouched)


def _split_char(before: str, pinyin: str, trail: int, pinyin_map: dict) -> str | None:
    """The character a "?pinyin)" annotation split, when the document tells which.

    The annotation was made on text one byte out of step: the character it names joined
    the last byte of ``before`` to the lead byte of the next character, and that lead
    byte is what "?" swallowed ("們?yōu)檗r": 優 is 們's trail and 為's lead). So the one
    character the document annotates with that pinyin and that byte gives the lead,
    and the run's first byte is the trail.
    """
    last = (gb2(before) or b"")[-1:]
    hits = [c for c in pinyin_map.get(pinyin, ()) if (gb2(c) or b"")[:1] == last]
    if not last or len(hits) != 1:
        return None
    try:
        ch = bytes([gb2(hits[0])[1], trail]).decode("gbk")
    except UnicodeDecodeError:
        return None
    return ch if char_kind(ch) in ("l1", "l2") else None


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


def repair_line(line: str, cuts: dict, pinyin_map: dict) -> tuple[str, int, bool]:
    """Repair the mojibake runs of one line (its pinyin already cut out at ``cuts``).

    Returns the line, how many runs were repaired, and whether its opening was decoded
    anew (a heading marker there may be broken: ``restore_markers``). A run that cannot
    be repaired becomes one ``LOST``.
    """
    edits: list[tuple[int, int, str | None]] = []  # None marks an unrepairable span
    for a, end in _segments(line, cuts):
        known = a in cuts and not cuts[a][-1][1]  # the run starts after a swallowed "("
        split = (line[a - 1], cuts[a][-1][0]) if known and a > 0 else None
        floor = a
        for cs, ce, weight in _clusters(line, a, end, known):
            if ce <= floor:
                continue
            cs = max(cs, floor)
            best = _best_candidate(line, max(floor, cs - _WINDOW, a), cs, ce,
                                   min(end, ce + _WINDOW), a if known else -1, split, cuts,
                                   pinyin_map)
            if best is not None:
                s, e, repl, vouched = best
                edits.append((s, e, _doubt(line, s, e, repl, vouched)))
                floor = e
            elif weight >= 2:
                edits.append((cs, ce, None))
                floor = ce
    out, last = "", 0
    for s, e, repl in edits:
        out, last = out + line[last:s] + (LOST if repl is None else repl), e
    repaired = sum(repl is not None for _, _, repl in edits)
    opening = any(s == 0 and repl is not None for s, _, repl in edits)
    return out + line[last:], repaired, opening


def _best_candidate(line, s_lo, cs, ce, e_hi, known_start, split, cuts, pinyin_map):
    n, best, best_key = len(line), None, None
    for s in range(s_lo, cs + 1):
        for e in range(max(ce, s + 1), e_hi + 1):
            repl, vouched = _shifted(line[s:e], cuts.get(e, [None])[0], pinyin_map,
                                     split if s == known_start else None)
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
                best, best_key = (s, e, repl, vouched), key
    return best


# ---------------------------------------------------------------- doubt
# jieba counts over ~60M words; a lone character rarer than this (汝 1189, 枝 1453, 孺 85)
# that makes no word with its neighbours is more likely two half characters.
_LONE_FLOOR = 2000
_WORD_MAX = 4


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, int]:
    """Word frequencies of jieba's stock dictionary (simplified script), read on first use."""
    import jieba

    jieba_log = logging.getLogger("jieba")
    if jieba_log.getEffectiveLevel() < logging.WARNING:
        jieba.setLogLevel(logging.WARNING)  # its dictionary loading logs at DEBUG
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer.FREQ


@lru_cache(maxsize=65536)
def _fold(ch: str) -> str:
    folded = converter("t2s").convert(ch)
    return folded if len(folded) == 1 else ch


def _in_word(seq: str, j: int) -> bool:
    """Whether seq[j] is part of a dictionary word with the characters around it."""
    lexicon = _lexicon()
    for a in range(max(0, j - _WORD_MAX + 1), j + 1):
        for b in range(max(j + 1, a + 2), min(len(seq), a + _WORD_MAX) + 1):
            if lexicon.get("".join(_fold(c) for c in seq[a:b]), 0) > 0:
                return True
    return False


def _doubtful(seq: str, j: int) -> bool:
    """Whether decoded seq[j] may be the lead and trail of two different characters."""
    kind = char_kind(seq[j])
    if kind == "l1" or kind == "l2":
        return not _in_word(seq, j) and _lexicon().get(_fold(seq[j]), 0) < _LONE_FLOOR
    if kind == "rare" or kind == "cjk":
        return not _in_word(seq, j)
    return kind in ("strong", "foreign") or kind == "latin_ext" and _char_score(seq, j) < 0


def _doubt(line: str, s: int, e: int, repl: str, vouched: frozenset[int]) -> str:
    """``repl`` (for line[s:e]) with every character it cannot vouch for made ``LOST``.

    The character after an opening "（" is left to ``indexer.ingest.markers`` when it
    ends in the bracket's trail byte: it may be a numeral and "）" run together ("（醛").
    """
    seq = line[:s] + repl + line[e:]
    if seq[:1] in ("（", "(") and (gb2(seq[1:2]) or b"")[1:] == BRACKET_TRAIL:
        vouched = vouched | {1 - s}
    return "".join(LOST if i not in vouched and _doubtful(seq, s + i) else ch
                   for i, ch in enumerate(repl))
