"""Whole-text conversion between simplified and traditional Chinese (OpenCC, phrase-aware).

Folding (:func:`indexer.text.analysis.fold`) maps character by character and keeps a
text's length, for matching; these converters rewrite a text as its readers would write it
in the other script, for embedding a question twice and for showing a correction in the
script it was typed in. One converter per direction, built on first use.
"""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=2)
def converter(config: str):
    """The OpenCC converter for ``config`` ("t2s" or "s2t")."""
    import opencc  # imported on first use: nothing heavy at import time

    return opencc.OpenCC(config)


def in_other_script(text: str) -> str | None:
    """``text`` in the other Chinese script: traditional when it is written in simplified
    (s2t), else simplified (t2s); None when that changes nothing."""
    simplified = converter("t2s").convert(text)
    other = converter("s2t").convert(text) if simplified == text else simplified
    return other if other != text else None
