"""Text analysis shared by indexing, querying, highlighting and scoring.

Text is *folded* first: traditional → simplified (OpenCC's t2s table, applied one
character at a time), full-width → half-width, lowercase. Folding never changes the
length of a string, so an offset found in ``fold(text)`` is an offset in ``text``; that
is how a simplified query marks ``學校建設`` in a traditional passage.

The folded text is segmented by a private jieba tokenizer that knows the policy terms in
``data/userdict.txt``. Positions count tokens (what phrase queries need); character
offsets come from jieba and point into the original text. At index time a long word
also yields the dictionary words inside it (``义务教育`` → ``义务``, ``教育``) at the
word's own position, so they behave like synonyms: a query for ``教育`` finds
``义务教育`` and the phrase ``"义务教育 均衡"`` still matches. Queries get no sub-words.

The jieba dictionary and the folding table load on first use, once per process.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from whoosh.analysis import CompositeAnalyzer, Token, Tokenizer

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
USERDICT_PATH = DATA_DIR / "userdict.txt"
STOPWORDS_PATH = DATA_DIR / "stopwords.txt"

# Recorded by every index; bump it whenever tokens could change (code, dictionary,
# stopwords), so an index built by another analyzer is rebuilt rather than misread.
ANALYZER_VERSION = "policy-jieba-3"  # 3: only a title of its own in the title field
# SHA-256 (first 16 hex digits) of userdict.txt + stopwords.txt for ANALYZER_VERSION;
# a test fails when the data files change without a version bump.
DATA_FINGERPRINT = "5d3cdbc99e479e3c"

# Ideograph blocks whose characters may have a simplified form (BMP + planes 2/3).
_CJK_RANGES = ((0x2E80, 0x2FE0), (0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00),
               (0x20000, 0x32000))
_FULLWIDTH = range(0xFF01, 0xFF5F)  # ！ … ～ → ! … ~
_LAST_CASED = 0x1E950  # no cased letters above this code point
_SUBWORD_CACHE = 1 << 16
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)+")  # 34.5, 50.08, 2017.03.22
_DIGITS = re.compile(r"[0-9]+")

T = TypeVar("T")


def _once(build: Callable[[], T]) -> Callable[[], T]:
    """Call ``build`` on first use, once per process, even with many threads."""
    lock = threading.Lock()
    box: list[T] = []

    @functools.wraps(build)
    def get() -> T:
        if not box:
            with lock:
                if not box:
                    box.append(build())
        return box[0]

    return get


# -- folding ---------------------------------------------------------------------------

def _single(result: str, original: str) -> str:
    """Keep a per-character mapping only when it yields exactly one character."""
    return result if len(result) == 1 else original


@_once
def _fold_table() -> dict[int, str]:
    """The ``str.translate`` table: code point → folded character (changed ones only)."""
    import opencc

    lower = {}
    for cp in range(_LAST_CASED):
        ch = chr(cp)
        low = ch.lower()
        if low != ch and len(low) == 1:
            lower[ch] = low

    # Kangxi / CJK radicals (common in PDF text) → unified ideographs before t2s.
    ideographs = [chr(cp) for start, stop in _CJK_RANGES for cp in range(start, stop)]
    normal = [_single(unicodedata.normalize("NFKC", ch), ch) if ch < "\u3000" else ch
              for ch in ideographs]
    # One OpenCC call for every ideograph, newline-separated so no phrase rule can span
    # two characters; a result that is not exactly one character keeps the original.
    converted = opencc.OpenCC("t2s").convert("\n".join(normal)).split("\n")
    if len(converted) != len(normal):  # never seen; fall back to one call per character
        converter = opencc.OpenCC("t2s")
        converted = [converter.convert(ch) for ch in normal]

    table = {ord(ch): low for ch, low in lower.items()}
    for original, norm, simple in zip(ideographs, normal, converted, strict=True):
        target = _single(simple, norm)
        if target != original:
            table[ord(original)] = target
    for cp in _FULLWIDTH:
        half = chr(cp - 0xFEE0)
        table[cp] = lower.get(half, half)
    table[0x3000] = " "  # ideographic space
    # Follow chains (薴 → 苧 → 苎) so that folding twice changes nothing.
    for cp, target in table.items():
        for _ in range(4):
            target = table.get(ord(target), target)
        table[cp] = target
    return table


def fold(text: str) -> str:
    """Traditional → simplified, full-width → half-width, lowercase; keeps the length."""
    return text.translate(_fold_table())


# -- jieba, dictionary and stopwords ---------------------------------------------------

class _Segmenter:
    """A private jieba tokenizer with the policy dictionary, plus the stopword set."""

    def __init__(self) -> None:
        import jieba

        jieba_log = logging.getLogger("jieba")
        if jieba_log.getEffectiveLevel() < logging.WARNING:
            jieba.setLogLevel(logging.WARNING)  # its dictionary loading logs at DEBUG
        self.jieba = jieba.Tokenizer()
        self.jieba.initialize()
        self.freq: dict[str, int] = self.jieba.FREQ
        # The policy dictionary's tags (下蜀中学 nt, 白寨镇 ns), kept here: jieba's own
        # record of them is emptied by the first part-of-speech tagger made over it.
        self.tags: dict[str, str] = {}
        added = self._load_userdict(USERDICT_PATH)
        self.stopwords = frozenset(_data_lines(STOPWORDS_PATH))
        self.subwords = functools.lru_cache(maxsize=_SUBWORD_CACHE)(self._subwords)
        log.debug("analysis ready: %d dictionary terms, %d stopwords", added,
                  len(self.stopwords))

    def _load_userdict(self, path: Path) -> int:
        """Add ``word [freq [tag]]`` lines; a frequency never lowers jieba's own."""
        count = 0
        for line in _data_lines(path):
            word, *rest = line.split()
            wanted = int(rest[0]) if rest else 0
            tag = rest[1] if len(rest) > 1 else None
            # suggest_freq: just enough for the word to stay whole on its own.
            freq = max(wanted, self.freq.get(word, 0), self.jieba.suggest_freq(word))
            self.jieba.add_word(word, freq, tag)
            if tag:
                self.tags[word] = tag
            count += 1
        return count

    def segment(self, folded: str) -> Iterator[tuple[str, int, int]]:
        """(word, start, end) over folded text: jieba, but a decimal number stays whole."""
        # No HMM: its guesses at unknown words depend on the context, so a query and the
        # text it came from could segment differently; unknown words stay single chars.
        tokenize = self.jieba.tokenize
        if "." not in folded:
            yield from tokenize(folded, HMM=False)
            return
        done = 0
        for match in _DECIMAL.finditer(folded):
            start = match.start()
            if start > done:
                for word, begin, end in tokenize(folded[done:start], HMM=False):
                    yield word, begin + done, end + done
            done = match.end()
            yield match.group(), start, done
        if done < len(folded):
            for word, begin, end in tokenize(folded[done:], HMM=False):
                yield word, begin + done, end + done

    def _subwords(self, word: str) -> tuple[tuple[int, str], ...]:
        """(offset, text) of the words inside ``word``: dictionary words, number parts."""
        seen: set[str] = set()
        found: list[tuple[int, str]] = []
        if _DECIMAL.fullmatch(word):  # 2017.03.22 → 2017, 03, 22
            for match in _DIGITS.finditer(word):
                if match.group() not in seen:
                    seen.add(match.group())
                    found.append((match.start(), match.group()))
            return tuple(found)
        if not all("\u4e00" <= ch <= "\u9fff" for ch in word):
            return ()
        freq = self.freq
        size = len(word)
        for start in range(size - 1):
            for stop in range(start + 2, min(size, start + size - 1) + 1):
                gram = word[start:stop]
                if freq.get(gram) and gram not in seen:
                    seen.add(gram)
                    found.append((start, gram))
        return tuple(found)


def _data_lines(path: Path) -> list[str]:
    """Non-blank lines of a data file, without ``#`` comments."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


_segmenter = _once(_Segmenter)


def data_fingerprint() -> str:
    """SHA-256 prefix of the dictionary and stopword files (checked against the version)."""
    digest = hashlib.sha256()
    for path in (USERDICT_PATH, STOPWORDS_PATH):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# -- the Whoosh tokenizer --------------------------------------------------------------

class PolicyTokenizer(Tokenizer):
    """Folds, segments with jieba, drops punctuation; sub-words in ``mode='index'`` only.

    Keeps Whoosh's tokenizer contract: one reused :class:`Token`, ``pos`` counts tokens
    from ``start_pos``, ``startchar``/``endchar`` are offsets into the original value
    plus ``start_char``. Stopwords are dropped (and not counted) when ``removestops``;
    otherwise they are yielded with ``stopped=True``. Pass ``subwords=True/False`` to
    override the mode's default.
    """

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 subwords=None, **kwargs) -> Iterator[Token]:
        assert isinstance(value, str), f"{value!r} is not a str"
        folded = fold(value)
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = value
            t.text = folded
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar = start_char
                t.endchar = start_char + len(value)
            yield t
            return

        seg = _segmenter()
        stopwords = seg.stopwords
        if subwords is None:
            subwords = mode == "index"
        find_subwords = seg.subwords if subwords else None
        pos = start_pos - 1
        for word, start, end in seg.segment(folded):
            if not word.isalnum():
                # Punctuation, spaces, or a number with a sign or unit: "50.08%" → "50.08".
                lead, tail = 0, len(word)
                while lead < tail and not word[lead].isalnum():
                    lead += 1
                while tail > lead and not word[tail - 1].isalnum():
                    tail -= 1
                if lead == tail:
                    continue
                word = word[lead:tail]
                start, end = start + lead, start + tail
            stopped = word in stopwords
            if stopped and removestops:
                continue
            # Like Whoosh's StopFilter: a kept word has the same position whether or not
            # stopwords are removed; a stopword shares the next word's position.
            if not stopped:
                pos += 1
            t.text = word
            t.stopped = stopped
            t.boost = 1.0
            if keeporiginal:
                t.original = value[start:end]
            if positions:
                t.pos = pos + 1 if stopped else pos
            if chars:
                t.startchar = start_char + start
                t.endchar = start_char + end
            yield t
            if find_subwords is None or stopped or len(word) < 3:
                continue
            for offset, sub in find_subwords(word):
                if sub in stopwords and removestops:
                    continue
                t.text = sub
                t.stopped = sub in stopwords
                t.boost = 1.0
                if keeporiginal:
                    t.original = value[start + offset:start + offset + len(sub)]
                if positions:
                    t.pos = pos
                if chars:
                    t.startchar = start_char + start + offset
                    t.endchar = t.startchar + len(sub)
                yield t


def policy_analyzer() -> CompositeAnalyzer:
    """The Whoosh analyzer for every text field (index, query and highlight)."""
    return CompositeAnalyzer(PolicyTokenizer())


_query_tokenizer = PolicyTokenizer()


def tokens(text: str, removestops: bool = True) -> list[str]:
    """Folded query-mode tokens of ``text``: no sub-words, stopwords removed by default."""
    return [t.text for t in _query_tokenizer(text, mode="query", removestops=removestops)]


def positioned_tokens(text: str) -> list[tuple[int, str]]:
    """Index-mode tokens of ``text`` with their positions: what the keyword index holds
    (folded words, and the sub-words of each at the word's own position)."""
    return [(t.pos, t.text) for t in _query_tokenizer(text, positions=True, mode="index")]


def parts(word: str) -> tuple[str, ...]:
    """The dictionary words that together spell ``word`` (校车安全 → 校车, 安全), or ().

    A dictionary term is one token at query time, but a passage may hold its parts
    apart (校车 … 安全) or the term with other words around it: a query matches such
    passages through the parts. Longest parts first, left to right; a word that the
    dictionary cannot cover completely with parts of two or more characters has none.
    """
    found = _segmenter().subwords(word) if len(word) >= 3 else ()
    if not found or _DECIMAL.fullmatch(word):
        return ()
    starting: dict[int, list[str]] = {}
    for offset, sub in found:
        starting.setdefault(offset, []).append(sub)
    # best[i]: the fewest parts that spell word[i:] (ties: the longer first part).
    best: dict[int, tuple[str, ...]] = {len(word): ()}
    for at in range(len(word) - 1, -1, -1):
        options = [(sub, *best[at + len(sub)]) for sub in starting.get(at, ())
                   if at + len(sub) in best]
        if options:
            best[at] = min(options, key=lambda cover: (len(cover), -len(cover[0])))
    return best.get(0, ())


def is_searchable(query: str) -> bool:
    """False when ``query`` has nothing to look for (empty, punctuation, stopwords only)."""
    return bool(tokens(query))
