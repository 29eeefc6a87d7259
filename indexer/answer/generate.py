"""Optional generated answers from an OpenAI-compatible endpoint, with checked citations.

Off unless ``answer_llm_base_url`` and ``answer_llm_model`` are set. The top passages go
to ``POST {base}/chat/completions`` with an instruction to answer only from them and to
cite them as ``[n]``. Nothing the model writes is shown before it is checked: a ``[n]``
must name a supplied passage, and the sentence carrying it must share at least
``answer_citation_min_overlap`` of its words with that passage; other markers are removed
(flag ``citation_removed``). A reply with no valid citation left, a timeout or any error
serves the extractive answer instead (flags ``generation_unsupported``,
``generation_failed``). Generation runs only when the extractive step found an answer,
so the calibrated refusal stands. The API key is read from the environment variable
named by ``answer_llm_api_key_env`` and never logged or echoed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from indexer import settings
from indexer.answer.extract import Answer, Citation, sentences
from indexer.errors import GenerationError
from indexer.records import Passage

if TYPE_CHECKING:
    from indexer.store.catalog import Catalog

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "你是政策文件问答助手。只根据用户提供的编号段落回答问题，不要使用段落以外的任何知识，"
    "不要推测。回答简洁，使用中文。每一句话的句末都要用 [编号] 标注它所依据的段落，例如 [1]；"
    "只能引用给出的编号。如果段落中没有答案，只回答：无法从给定段落中找到答案。")
MARKER = re.compile(r"\[(\d{1,3})\]")
# A reply sentence with the markers that follow its closing punctuation.
REPLY_SENTENCE = re.compile(r"[^。！？!?；;\n]*(?:[。！？!?；;]+[”’」』）)]*)?(?:\s*\[\d{1,3}\])*")
MAX_REPLY_TOKENS = 600



def enabled(overrides: Mapping[str, Any] | None = None) -> bool:
    """Whether an endpoint and model are configured."""
    return bool(settings.get("answer_llm_base_url", overrides)
                and settings.get("answer_llm_model", overrides))


def generate(question: str, hits, catalog: Catalog, extractive: Answer, *,
             overrides: Mapping[str, Any] | None = None) -> Answer:
    """A generated answer with checked citations, or ``extractive`` when that is safer.

    Args:
        extractive: the answer of :func:`indexer.answer.extract.answer` for the same hits; served
            (with a flag saying why) whenever generation is off, fails or cites nothing.
    """
    if not enabled(overrides) or not extractive.answerable:
        return extractive
    passages = [p for p in (catalog.passages.get(h.passage_id) for h in hits)
                if p is not None and not p.garbled]
    passages = passages[:settings.get("answer_llm_passages", overrides)]
    if not passages:
        return extractive
    try:
        reply = complete(_messages(question, passages, catalog), overrides)
    except GenerationError as exc:
        log.warning("answer generation failed (%s); serving the extractive answer", exc)
        return replace(extractive, flags=[*extractive.flags, "generation_failed"])
    text, citations, removed = check_citations(
        reply, passages, catalog, settings.get("answer_citation_min_overlap", overrides))
    flags = ["citation_removed"] if removed else []
    if not citations:
        log.info("generated answer had no valid citation; serving the extractive answer")
        return replace(extractive, flags=[*extractive.flags, *flags, "generation_unsupported"])
    # The question as asked and read, and the model's certainty, stay the extractive's.
    return replace(extractive, text=text, citations=citations, generated=True,
                   flags=[*extractive.flags, *flags])


def _messages(question: str, passages: list[Passage], catalog: Catalog) -> list[dict]:
    blocks = []
    for n, passage in enumerate(passages, start=1):
        document = catalog.documents.get(passage.doc_id)
        title = document.title if document and document.title else passage.doc_id
        where = f"《{title}》" + (f" {passage.section}" if passage.section else "")
        blocks.append(f"[{n}] {where}\n{passage.text}")
    user = "段落：\n\n" + "\n\n".join(blocks) + f"\n\n问题：{question}"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def complete(messages: list[dict], overrides: Mapping[str, Any] | None = None) -> str:
    """The model's reply to ``messages`` (one chat completion), or GenerationError."""
    base = settings.get("answer_llm_base_url", overrides).rstrip("/")
    key = os.environ.get(settings.get("answer_llm_api_key_env", overrides), "")
    body = json.dumps({"model": settings.get("answer_llm_model", overrides),
                       "messages": messages, "temperature": 0,
                       "max_tokens": MAX_REPLY_TOKENS}, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(f"{base}/chat/completions", data=body, headers=headers,
                                     method="POST")
    where = _endpoint_name(base)
    try:
        with urllib.request.urlopen(request, timeout=settings.get("answer_llm_timeout",
                                                                  overrides)) as response:
            data = json.loads(response.read().decode("utf-8"))
        content = data["choices"][0]["message"]["content"]
    except urllib.error.HTTPError as exc:
        raise GenerationError(f"{where} answered HTTP {exc.code}") from None
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        kind = "timed out" if isinstance(reason, TimeoutError) or "timed out" in str(reason) \
            else f"could not be reached ({reason.__class__.__name__})"
        raise GenerationError(f"{where} {kind}") from None
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise GenerationError(f"{where} sent an unreadable reply ({exc.__class__.__name__})"
                              ) from None
    if not isinstance(content, str) or not content.strip():
        raise GenerationError(f"{where} sent an empty reply")
    return content.strip()


def _endpoint_name(base: str) -> str:
    """scheme://host:port of the endpoint: never its path, query or user information."""
    parts = urllib.parse.urlsplit(base)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def overlap(sentence: str, passage_text: str) -> float:
    """Share of a sentence's distinct words that occur in the passage (both folded)."""
    from indexer.text.analysis import fold, tokens

    words = set(tokens(sentence))
    if not words:
        return 0.0
    folded = fold(passage_text)
    return sum(1 for w in words if w in folded) / len(words)


def check_citations(reply: str, passages: list[Passage], catalog: Catalog,
                    min_overlap: float) -> tuple[str, list[Citation], int]:
    """The reply with only valid markers, renumbered by first appearance; its citations;
    and how many markers were removed."""
    numbers: dict[int, int] = {}  # supplied passage number → shown number
    citations: list[Citation] = []
    quoted: set[tuple[int, int]] = set()
    removed = 0
    parts: list[str] = []
    for match in REPLY_SENTENCE.finditer(reply):
        piece = match.group()
        if not piece:
            continue
        plain = MARKER.sub("", piece)
        kept: dict[int, int] = {}
        for marker in MARKER.findall(piece):
            supplied = int(marker)
            if not 1 <= supplied <= len(passages) or overlap(
                    plain, passages[supplied - 1].text) < min_overlap:
                removed += 1
                continue
            passage = passages[supplied - 1]
            shown = numbers.setdefault(supplied, len(numbers) + 1)
            kept[supplied] = shown
            start, end = _best_sentence(plain, passage)
            if (shown, start) not in quoted:
                quoted.add((shown, start))
                document = catalog.documents.get(passage.doc_id)
                citations.append(Citation(
                    shown, passage.passage_id, passage.doc_id,
                    document.title if document else None, passage.section,
                    passage.paragraph_no, passage.text[start - passage.start:end - passage.start],
                    start, end))
        parts.append(_rewrite(piece, kept))
    text = re.sub(r"[ \t]+\n", "\n", "".join(parts)).strip()
    return text, citations, removed


def _rewrite(piece: str, kept: dict[int, int]) -> str:
    """A reply sentence with valid markers renumbered and the others dropped."""
    def swap(match: re.Match[str]) -> str:
        shown = kept.get(int(match.group(1)))
        return f"[{shown}]" if shown else ""

    return MARKER.sub(swap, piece)


def _best_sentence(text: str, passage: Passage) -> tuple[int, int]:
    """Document span of the passage sentence sharing the most words with ``text``."""
    from indexer.text.analysis import tokens

    words = set(tokens(text))
    spans = sentences(passage) or [(passage.start, passage.end)]

    def shared(span: tuple[int, int]) -> tuple[int, int]:
        own = set(tokens(passage.text[span[0] - passage.start:span[1] - passage.start]))
        return len(words & own), -(span[1] - span[0])

    return max(spans, key=shared)
