"""A Whoosh index's postings as numpy arrays, read once per term and shared by threads.

Whoosh reads postings one at a time in Python. Here a term's whole posting list (document
numbers and term frequencies) is read block by block from the W3 segment files into
arrays, beside the quantised field lengths and the deletions its scorer uses. Positions
are read only for the few documents a phrase has to be checked in.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.util.numeric import byte_to_length

EMPTY_IDS = np.zeros(0, dtype=np.int32)
_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


class Postings:
    """Posting arrays of one Whoosh index, shared by the threads that search it.

    Every call takes the calling thread's searcher (Whoosh file readers are not shared
    across threads); what is read through it — posting lists, field lengths, deletions —
    is cached here once. ``cache_bytes`` bounds the posting lists kept (least recently
    used go first).
    """

    def __init__(self, cache_bytes: int):
        self.cache_bytes = cache_bytes
        self._cached = 0
        self._terms: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lengths: dict[str, np.ndarray] = {}
        self._live: np.ndarray | None = None
        self._deleted: np.ndarray | None = None
        self._lock = threading.Lock()

    @property
    def cached_bytes(self) -> int:
        """What the cached posting lists take."""
        return self._cached

    def deleted(self, searcher) -> np.ndarray:
        """Numbers of the documents deleted but still in their segments' postings."""
        if self._deleted is None:
            numbers = [offset + d for leaf, offset in searcher.reader().leaf_readers()
                       if leaf.has_deletions() for d in leaf.deleted_docs_set]
            self._deleted = np.unique(np.asarray(numbers, dtype=np.int32))
        return self._deleted

    def live(self, searcher) -> np.ndarray:
        """Numbers of the documents not deleted, ascending."""
        if self._live is None:
            everything = np.arange(searcher.reader().doc_count_all(), dtype=np.int32)
            self._live = np.setdiff1d(everything, self.deleted(searcher), assume_unique=True)
        return self._live

    def lengths(self, searcher, field: str) -> np.ndarray:
        """Each document's length in ``field`` as Whoosh's scorer sees it (quantised)."""
        found = self._lengths.get(field)
        if found is None:
            parts = []
            for leaf, _ in searcher.reader().leaf_readers():
                size = leaf.doc_count_all()
                column = leaf._perdoc._cached_reader(f"_{field}_len", LENGTHS_COLUMN)
                codes = (np.zeros(size, dtype=np.uint8) if column is None
                         else np.asarray(column.load(), dtype=np.uint8)[:size])
                parts.append(np.pad(codes, (0, size - len(codes))))
            found = _LENGTHS[np.concatenate(parts)] if parts else np.zeros(0)
            self._lengths[field] = found
        return found

    def term(self, searcher, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The live documents holding ``text`` in ``field`` and its frequency in each."""
        key = (field, text)
        with self._lock:
            found = self._terms.get(key)
            if found is not None:
                self._terms.move_to_end(key)
                return found
        found = self._read(searcher, field, text)
        with self._lock:
            if key not in self._terms:
                self._terms[key] = found
                self._cached += found[0].nbytes + found[1].nbytes
            while self._cached > self.cache_bytes and len(self._terms) > 1:
                ids, weights = self._terms.popitem(last=False)[1]
                self._cached -= ids.nbytes + weights.nbytes
        return found

    def _read(self, searcher, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        ids, weights = [], []
        for leaf, offset in searcher.reader().leaf_readers():
            if (field, text) in leaf:
                block_ids, block_weights = _leaf_postings(leaf.postings(field, text))
                ids += [b + offset for b in block_ids]
                weights += block_weights
        if not ids:
            return EMPTY_IDS, np.zeros(0, dtype=np.float32)
        all_ids, all_weights = np.concatenate(ids), np.concatenate(weights)
        deleted = self.deleted(searcher)
        if len(deleted):
            keep = ~np.isin(all_ids, deleted, assume_unique=True)
            all_ids, all_weights = all_ids[keep], all_weights[keep]
        return all_ids, all_weights

    def occurrences(self, searcher, field: str, word: str, docs: np.ndarray) -> list:
        """Where ``word`` occurs in ``field`` of each of ``docs`` (ascending document
        numbers): token positions per document, empty where it does not occur.

        Read from the posting blocks holding those documents only, and not cached: a
        phrase is checked in a few of the thousands of passages a common word is in.
        """
        found: list = [()] * len(docs)
        positions_of = searcher.schema[field].format.decode_positions
        for leaf, offset in searcher.reader().leaf_readers():
            first, last = np.searchsorted(docs, [offset, offset + leaf.doc_count_all()])
            if first == last or (field, word) not in leaf:
                continue
            matcher = _unwrapped(leaf.postings(field, word))
            block = None
            for i in range(first, last):
                local = int(docs[i]) - offset
                while matcher.is_active() and matcher.block_max_id() < local:
                    matcher._next_block()
                    block = None
                if not matcher.is_active():
                    break
                if block is None:
                    matcher._read_data()
                    block = (np.cumsum(np.asarray(matcher._data[0], dtype=np.int64)),
                             matcher._data[2])
                j = int(np.searchsorted(block[0], local))
                if j < len(block[0]) and block[0][j] == local:
                    found[i] = positions_of(block[1][j])
        return found

    def phrase_holds(self, searcher, field: str, words: list[str],
                     docs: np.ndarray) -> np.ndarray:
        """Whether ``words`` occur one right after another in ``field`` of each of
        ``docs``: the rule of Whoosh's phrase matcher (slop 1)."""
        where = {word: self.occurrences(searcher, field, word, docs) for word in set(words)}
        holds = np.zeros(len(docs), dtype=bool)
        for i in range(len(docs)):
            later = [set(where[word][i]) for word in words[1:]]
            holds[i] = any(all(p + n in seen for n, seen in enumerate(later, start=1))
                           for p in where[words[0]][i])
        return holds


def _unwrapped(matcher):
    """The segment's own posting reader (a segment with deletions wraps it)."""
    while hasattr(matcher, "child"):
        matcher = matcher.child
    return matcher


def _leaf_postings(matcher) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A segment's posting list for one term as blocks of ids and frequencies.

    Reads Whoosh's W3 block format (a pickled tuple per block of ≤128 postings: the ids
    as deltas, the weights as None for all 1.0, one float for all, or one per posting)
    without decoding it posting by posting.
    """
    matcher = _unwrapped(matcher)
    ids, weights = [], []
    while matcher.is_active():
        matcher._read_data()
        deltas, stored = matcher._data[0], matcher._data[1]
        ids.append(np.cumsum(np.asarray(deltas, dtype=np.int32), dtype=np.int32))
        if stored is None or isinstance(stored, float):
            weights.append(np.full(len(deltas), 1.0 if stored is None else stored,
                                   dtype=np.float32))
        else:
            weights.append(np.asarray(stored, dtype=np.float32))
        matcher._next_block()
    return ids, weights
