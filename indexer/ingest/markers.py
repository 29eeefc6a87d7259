"""Heading markers a lost byte pair broke: "（醛" for "（三）", "）" for "（六）".

A heading's "（N）" opens the line, where the one-byte shift of a mojibake run starts
(``indexer.ingest.mojibake``), and its numeral and brackets are exactly what a lost pair
takes. The markers of one part of a report count up, so the number comes back from the
sequence, checked by the bytes that are left.
"""

from __future__ import annotations

import re
from functools import lru_cache

from indexer.ingest.mojibake import BRACKET_TRAIL, LOST, gb2
from indexer.ingest.segment import heading_level

_NUMERALS = "一二三四五六七八九"
_MARKER = re.compile(r"\s*[（(]\s*([一二三四五六七八九十]+)\s*[）)]")
# What a lost pair leaves of "（N）": "（" and a character made of a numeral's lead byte
# and the bracket's trail byte ("（醛" for "（三）"), or only the bracket ("）" for "（六）").
_BROKEN_MARKER = re.compile(
    r"\s*(?:[（(](?P<numerals>[一二三四五六七八九十]*)(?P<merged>.?)|[）)])")
_BRACKET_LEAD = "）".encode("gbk")[:1]


@lru_cache(maxsize=1)
def _numeral_leads() -> dict[int, str]:
    """The numeral each lead byte belongs to (一 … 十 all have different ones)."""
    return {gb2(numeral)[0]: numeral for numeral in _NUMERALS + "十"}


def _numeral_value(text: str) -> int | None:
    """一 → 1 … 九十九 → 99; None for anything else."""
    tens, ten, ones = text.partition("十")
    if not ten:
        return _NUMERALS.index(text) + 1 if len(text) == 1 and text in _NUMERALS else None
    if len(tens) > 1 or len(ones) > 1 or not set(tens + ones) <= set(_NUMERALS):
        return None
    return ((_NUMERALS.index(tens) + 1 if tens else 1) * 10
            + (_NUMERALS.index(ones) + 1 if ones else 0))


def _numeral(value: int) -> str:
    tens, ones = divmod(value, 10)
    return ((_NUMERALS[tens - 1] if tens > 1 else "") + ("十" if tens else "")
            + (_NUMERALS[ones - 1] if ones else ""))


def restore_markers(lines: list[str], reopened: set[int]) -> int:
    """Give the broken "（N）" markers of re-decoded lines their numbers back, in place.

    The markers of one part of a report (between two 一、 or 篇 headings) count up from
    （一）, so a broken one is its predecessor's number plus one: restored when a later
    marker of the part confirms the count, or when its own bytes name that numeral. A
    numeral run into the bracket that is not restored is ``LOST``, never left as the
    character it decodes to. Returns how many were restored.
    """
    parts: list[list[tuple[int, int | None]]] = [[]]
    for index, line in enumerate(lines):
        level = heading_level(line.strip())
        marker = _MARKER.match(line)
        if level is not None and level <= 1:
            parts.append([])
        elif marker and (value := _numeral_value(marker.group(1))):
            parts[-1].append((index, value))
        elif index in reopened and _BROKEN_MARKER.match(line):
            parts[-1].append((index, None))
    restored = 0
    for part in parts:
        previous = 0
        for k, (index, value) in enumerate(part):
            if value is None:
                value = previous + 1
                later = [v for _, v in part[k + 1:] if v is not None]
                counted = bool(later) and later[0] > value
                if value < 100 and _restore(lines, index, _numeral(value), counted):
                    restored += 1
                else:
                    lines[index] = _unrun(lines[index])
            previous = value
    return restored


def _restore(lines: list[str], index: int, expected: str, counted: bool) -> bool:
    """Write marker ``expected`` over line ``index``'s broken one if the evidence agrees."""
    line = lines[index]
    broken = _BROKEN_MARKER.match(line)
    numerals, merged, rest = broken.group("numerals"), broken.group("merged"), line[broken.end():]
    data = (gb2(merged) or b"") if merged else b""
    if numerals is None:  # only "）" is left
        said = ""
    elif merged == LOST:  # the numeral's end and the bracket, or the bracket and more
        said = numerals
        rest = LOST + rest if said == expected else rest
    elif data[1:] == BRACKET_TRAIL:  # a numeral's lead and the bracket's trail
        said = numerals + _numeral_leads().get(data[0], "?")
        if said != expected:
            return False
        counted = True
    elif data[:1] == _BRACKET_LEAD and numerals == expected:
        said, rest = numerals, LOST + rest  # the bracket's lead and a lost one's trail
    elif numerals == expected and merged:
        said, rest = numerals, merged + rest  # only the bracket is missing
    else:
        return False  # "（" and text: not a marker
    if not counted or not expected.startswith(said):
        return False
    lines[index] = f"（{expected}）{rest}"
    return True


def _unrun(line: str) -> str:
    """``line`` with a numeral run into the bracket ("（醛") made ``LOST``."""
    broken = _BROKEN_MARKER.match(line)
    merged = broken.group("merged") if broken else None
    if not merged or (gb2(merged) or b"")[1:] != BRACKET_TRAIL:
        return line
    return line[:broken.start("merged")] + LOST + line[broken.end("merged"):]
