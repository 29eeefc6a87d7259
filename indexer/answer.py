"""Extractive answers: the sentences of the top passages that answer a question, cited.

Every sentence of the top hits is scored against the question: how much of the
question's weighted words it carries (words found only in the passage's title, section
or neighbouring sentences count for less), how close its embedding is to the question's,
and whether it holds what the question asks for (a number for 多少, a date for 何时, a
name for 谁). The best one to three sentences are the answer, each followed by ``[n]``;
a citation quotes its sentence in the document's original script with document offsets,
so ``document.text[start:end] == quote``. When no sentence scores ``answer_min_score``
the answer says so and cites nothing: a refusal beats a guess.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from indexer import settings
from indexer.models import Passage
from indexer.results import Hit

if TYPE_CHECKING:
    from indexer.catalog import Catalog

NO_ANSWER = "未找到可靠的答案。以下是最接近的段落。"
NO_PASSAGES = "未找到可靠的答案。"

# Words that say what is asked, not what it is about (folded, simplified).
QUESTION_WORDS = frozenset(
    "多少 几 几个 几年 几次 几名 几所 什么 啥 哪 哪些 哪个 哪一 哪一个 哪一年 哪年 哪里 哪儿 "
    "哪位 谁 何 何时 何地 何处 何种 如何 怎样 怎么 怎么样 咋 为什么 为何 是否 是不是 有没有 "
    "吗 呢 请问 多 多大 多长 多高 多久 多远 一下 告诉 我 你 有 什么样 哪种 哪家 哪所 哪项 "
    "什么时候 时候 情况 问题 哪些方面 方面 具体".split())
# What a question asks for, by the words that ask it (checked in this order).
QUESTION_KINDS: list[tuple[str, re.Pattern[str]]] = [
    ("date", re.compile(r"何时|什么时候|哪一?年|哪一?天|哪一?月|几月|几号|几日|何年|日期|年份")),
    ("person", re.compile(r"谁|哪位|哪一?个人|什么人|哪些人|姓名|名字|哪[几两]?位")),
    ("number", re.compile(r"多少|几|多大|多高|多长|多远|多重|多久|比例|比率|百分|占比|人数"
                          r"|数量|总数|金额|面积|均分|达线率|率是")),
]
NUMBER = re.compile(r"\d+(?:\.\d+)?%?|[一二三四五六七八九十两百千万亿]+[个名所人次年项条倍元分]")
DATE = re.compile(r"\d{4}年|\d{1,2}月|\d{1,2}日|年[初底末内中]|[上下]半年|[春秋]季|月份"
                  r"|[一二三四五六七八九十]+月")
PERSON = re.compile(r"同学|老师|校长|教师|先生|女士|主任|书记|局长|总干事|院士|教授|市长|部长")
DIGITS = re.compile(r"\d+(?:\.\d+)?")
# A sentence shorter than this (characters, without punctuation) says too little to cite.
MIN_SENTENCE_CHARS = 6
# Weights: IDF from jieba's general frequency table, less a floor so that 的/年 count
# for almost nothing; numbers are treated as fairly specific words.
IDF_FLOOR = 4.0
IDF_CAP = 10.0
NUMBER_WEIGHT = 5.0
# Where a question word is found in or around a sentence, and what it is worth there.
IN_SENTENCE, IN_HEADING, IN_PASSAGE = 1.0, 0.6, 0.3
# Score = weighted mix of word coverage, own-sentence coverage and embedding similarity;
# a sentence without what the question asks for (number, date, name) is discounted.
COVERAGE_WEIGHT, OWN_WEIGHT, SEMANTIC_WEIGHT = 0.45, 0.25, 0.30
MISSING_CUE_FACTOR = 0.7
# Cosine range of the embedding model over question/sentence pairs, mapped onto 0..1.
COSINE_LOW, COSINE_HIGH = 0.78, 0.92
# Further sentences join the answer only when nearly as good as the best one.
FOLLOW_RATIO = 0.9


@dataclass
class Citation:
    """One cited sentence: ``document.text[start:end] == quote`` (original script)."""

    n: int
    passage_id: str
    doc_id: str
    title: str | None
    section: str
    paragraph_no: int
    quote: str
    start: int
    end: int


@dataclass
class Answer:
    """What a question gets: the answer text with ``[n]`` markers, its citations, the hits."""

    question: str
    answerable: bool
    text: str
    citations: list[Citation] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    generated: bool = False
    flags: list[str] = field(default_factory=list)


@dataclass
class Question:
    """A question's kind (number, date, person or None) and its weighted content words."""

    text: str
    kind: str | None
    terms: dict[str, float]
    numbers: frozenset[str]


@dataclass
class Sentence:
    """A candidate sentence of a passage, with document offsets and its score parts."""

    passage: Passage
    start: int
    end: int
    text: str
    coverage: float = 0.0
    own: float = 0.0
    semantic: float | None = None
    cue: bool = True
    score: float = 0.0


def analyse(question: str) -> Question:
    """The kind of a question and its content words, weighted by how specific they are."""
    from indexer.analysis import fold, tokens

    folded = fold(question)
    kind = next((name for name, pattern in QUESTION_KINDS if pattern.search(folded)), None)
    terms: dict[str, float] = {}
    for token in tokens(question):
        if token not in QUESTION_WORDS:
            terms[token] = _weight(token)
    return Question(question, kind, {t: w for t, w in terms.items() if w > 0},
                    frozenset(DIGITS.findall(folded)))


def _weight(token: str) -> float:
    """How specific a word is: its IDF in general Chinese text, floored and capped."""
    if DIGITS.fullmatch(token):
        return NUMBER_WEIGHT
    from indexer.analysis import _segmenter

    segmenter = _segmenter()
    idf = math.log(segmenter.jieba.total / (segmenter.freq.get(token, 0) + 1))
    return max(0.0, min(idf, IDF_CAP + IDF_FLOOR) - IDF_FLOOR)


def keyword_query(question: str) -> str:
    """The question's content words as a keyword query (what a question retrieves with)."""
    return " OR ".join(analyse(question).terms) or question


def sentences(passage: Passage) -> list[tuple[int, int]]:
    """Document spans of a passage's sentences, split at line ends, without outer spaces."""
    from indexer.segment import sentence_spans

    spans = []
    text = passage.text
    for start, end in sentence_spans(text, 0, len(text)):
        for match in re.finditer(r"[^\n]+", text[start:end]):
            piece = match.group()
            lead = len(piece) - len(piece.lstrip())
            body = piece.strip()
            if len(re.sub(r"\W", "", body)) >= MIN_SENTENCE_CHARS:
                begin = passage.start + start + match.start() + lead
                spans.append((begin, begin + len(body)))
    return spans


def _cue(question: Question, folded: str) -> bool:
    """Whether a sentence holds the kind of thing the question asks for."""
    if question.kind == "number":
        return any(n not in question.numbers for n in DIGITS.findall(folded)) or bool(
            NUMBER.search(re.sub(r"\d+", "", folded)))
    if question.kind == "date":
        return bool(DATE.search(folded))
    if question.kind == "person":
        return bool(PERSON.search(folded))
    return True


def score_sentences(question: str | Question, hits: list[Hit], catalog: Catalog,
                    embedder=None, overrides: Mapping[str, Any] | None = None,
                    question_vector=None) -> list[Sentence]:
    """Every sentence of the top hits (garbled passages skipped), best first."""
    from indexer.analysis import fold

    asked = question if isinstance(question, Question) else analyse(question)
    total = sum(asked.terms.values())
    found: list[Sentence] = []
    seen: set[tuple[str, int]] = set()
    for hit in hits[:settings.get("answer_passages", overrides)]:
        passage = catalog.passages.get(hit.passage_id)
        if passage is None or passage.garbled:
            continue
        document = catalog.documents.get(passage.doc_id)
        heading = fold(" ".join(filter(None, [document.title if document else None,
                                              document.region if document else None,
                                              passage.section])))
        body = fold(passage.text)
        for start, end in sentences(passage):
            if (passage.doc_id, start) in seen:
                continue
            seen.add((passage.doc_id, start))
            text = passage.text[start - passage.start:end - passage.start]
            folded = body[start - passage.start:end - passage.start]
            sentence = Sentence(passage, start, end, text, cue=_cue(asked, folded))
            if total:
                for term, weight in asked.terms.items():
                    if term in folded:
                        sentence.coverage += weight * IN_SENTENCE
                        sentence.own += weight
                    elif term in heading:
                        sentence.coverage += weight * IN_HEADING
                    elif term in body:
                        sentence.coverage += weight * IN_PASSAGE
                sentence.coverage /= total
                sentence.own /= total
            found.append(sentence)
    for sentence in found:
        sentence.score = _combine(sentence)
    found.sort(key=lambda s: -s.score)
    budget = settings.get("answer_embed_sentences", overrides)
    if embedder is not None and budget > 0 and found:
        _add_semantic(asked.text, found[:budget], embedder, question_vector)
        found.sort(key=lambda s: -s.score)
    return found


def _combine(sentence: Sentence) -> float:
    """One score in 0..1 from a sentence's parts (lexical only when no embedding)."""
    lexical = (COVERAGE_WEIGHT * sentence.coverage + OWN_WEIGHT * sentence.own) / (
        COVERAGE_WEIGHT + OWN_WEIGHT)
    if sentence.semantic is None:
        score = lexical
    else:
        score = (1 - SEMANTIC_WEIGHT) * lexical + SEMANTIC_WEIGHT * sentence.semantic
    return score if sentence.cue else score * MISSING_CUE_FACTOR


def _add_semantic(question: str, candidates: list[Sentence], embedder,
                  question_vector=None) -> None:
    """Score the best lexical candidates by embedding similarity to the question."""
    vector = question_vector if question_vector is not None else embedder.embed_query(question)
    vectors = embedder.embed_passages([s.text for s in candidates])
    for sentence, cosine in zip(candidates, vectors @ vector, strict=True):
        scaled = (float(cosine) - COSINE_LOW) / (COSINE_HIGH - COSINE_LOW)
        sentence.semantic = min(1.0, max(0.0, scaled))
        sentence.score = _combine(sentence)


def answer(question: str, hits: list[Hit], catalog: Catalog, embedder=None, *,
           overrides: Mapping[str, Any] | None = None, question_vector=None) -> Answer:
    """The best one to three sentences of ``hits`` that answer ``question``, cited.

    Args:
        embedder: the embedding model (``Embedder``); without it scoring is lexical only.
        overrides: explicit setting values (``answer_min_score``, ...), as in settings.get.
        question_vector: the question's embedding, when the caller already has it.
    Returns:
        An :class:`Answer`; ``answerable=False`` with no citations when nothing scores
        ``answer_min_score``. The hits are always returned.
    """
    scored = score_sentences(question, hits, catalog, embedder, overrides, question_vector)
    threshold = settings.get("answer_min_score", overrides)
    if not scored or scored[0].score < threshold:
        return Answer(question, False, NO_ANSWER if hits else NO_PASSAGES, [], list(hits))
    best = scored[0].score
    chosen = [s for s in scored if s.score >= max(threshold, best * FOLLOW_RATIO)]
    chosen = chosen[:settings.get("answer_max_sentences", overrides)]
    citations, text = cite(chosen, catalog)
    return Answer(question, True, text, citations, list(hits))


def cite(chosen: list[Sentence], catalog: Catalog) -> tuple[list[Citation], str]:
    """Citations for the chosen sentences (one number per passage) and the answer text."""
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    parts: list[str] = []
    for sentence in chosen:
        passage = sentence.passage
        n = numbers.setdefault(passage.passage_id, len(numbers) + 1)
        document = catalog.documents.get(passage.doc_id)
        citations.append(Citation(n, passage.passage_id, passage.doc_id,
                                  document.title if document else None, passage.section,
                                  passage.paragraph_no, sentence.text, sentence.start,
                                  sentence.end))
        parts.append(f"{sentence.text}[{n}]")
    return citations, "".join(parts)


def citation_dict(citation: Citation) -> dict[str, Any]:
    """A citation as the API serves it."""
    return {"n": citation.n, "passage_id": citation.passage_id, "doc_id": citation.doc_id,
            "title": citation.title, "section": citation.section,
            "paragraph_no": citation.paragraph_no, "quote": citation.quote,
            "start": citation.start, "end": citation.end}


def answer_dict(answer: Answer, catalog: Catalog) -> dict[str, Any]:
    """The ask response shared by the CLI's ``--json`` and ``/api/ask``."""
    from indexer.serialize import hit_dict

    return {
        "ok": True,
        "question": answer.question,
        "answerable": answer.answerable,
        "answer": answer.text,
        "citations": [citation_dict(c) for c in answer.citations],
        "passages": [hit_dict(hit, catalog) for hit in answer.hits
                     if hit.passage_id in catalog.passages],
        "generated": answer.generated,
        "flags": list(answer.flags),
    }
