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
from indexer.records import Passage
from indexer.retrieve.hits import Hit

if TYPE_CHECKING:
    from indexer.store.catalog import Catalog

NO_ANSWER = "未找到可靠的答案。以下是最接近的段落。"
NO_PASSAGES = "未找到可靠的答案。"

# Words that ask (the answer sits next to what they ask about), folded and simplified.
ASKING_WORDS = frozenset(
    "多少 几 几个 几年 几次 几名 几所 几项 什么 啥 哪 哪些 哪个 哪一 哪一个 哪一年 哪年 哪里 "
    "哪儿 哪位 哪种 哪家 哪所 哪项 谁 何 何时 何地 何处 何种 如何 怎样 怎么 怎么样 咋 为什么 "
    "为何 是否 是不是 有没有 多大 多长 多高 多久 多远 什么样 什么时候".split())
# Words of a question that say nothing about its subject.
QUESTION_WORDS = ASKING_WORDS | frozenset(
    "吗 呢 请问 多 一下 告诉 我 你 有 时候 情况 问题 方面 具体 哪些方面 已经 一共 总共 打算 "
    "大约 大概 主要 分别 市里 县里 区里 镇里 省里 本市 我市 我县 我区".split())
# What a question asks for, by the words that ask it (checked in this order).
QUESTION_KINDS: list[tuple[str, re.Pattern[str]]] = [
    ("date", re.compile(r"何时|什么时候|哪一?年|哪一?天|哪一?月|几月|几号|几日|何年|日期|年份")),
    ("person", re.compile(r"谁|哪位|哪一?个人|什么人|哪些人|姓名|名字|哪[几两]?位")),
    ("number", re.compile(r"多少|几|多大|多高|多长|多远|多重|多久|比例|比率|百分|占比|人数"
                          r"|数量|总数|金额|面积|均分|达线率|率是")),
]
# A number in words: not a lone 一 (一名师 is "a famous teacher", not a count).
NUMBER = re.compile(r"(?:[一二三四五六七八九十两百千万亿]{2,}|[二三四五六七八九十两])"
                    r"[个名所人次年项条倍元分万亿]")
DATE = re.compile(r"\d{4}年|\d{1,2}月|\d{1,2}日|年[初底末]|[上下]半年|[春秋]季|月份"
                  r"|[一二三四五六七八九十]+月")
PERSON = re.compile(r"同学|老师|校长|教师|先生|女士|主任|书记|局长|总干事|院士|教授|市长|部长")
DIGITS = re.compile(r"\d+(?:\.\d+)?")
GARBLED = "\ufffd"  # what the cleaner writes for a character it could not recover
# A sentence shorter than this (characters, without punctuation) says too little to cite;
# a short unpunctuated line is a title, a short numbered one a heading: neither answers.
MIN_SENTENCE_CHARS = 6
TITLE_LINE_CHARS = 30
HEADING_SENTENCE_CHARS = 25
SENTENCE_MARKS = "。！？；!?;”’」』）)"
# Weights: IDF from jieba's general frequency table, less a floor so that 的/年 count
# for almost nothing; numbers are treated as fairly specific words.
IDF_FLOOR = 4.0
IDF_CAP = 10.0
NUMBER_WEIGHT = 5.0
# Where a question word is found, and what it is worth there: in the sentence; in its
# context (document title, region, section, the sentence before); elsewhere in the passage.
IN_SENTENCE, IN_CONTEXT, IN_PASSAGE = 1.0, 0.6, 0.3
# The content words nearest the asking word (…人数是多少, 多少所高中) are its focus.
FOCUS_WINDOW = 2
# Score parts and their weights: coverage of the question's words (in context), of its
# focus words (in the sentence itself), and embedding similarity. A sentence without what
# the question asks for (a number, a date, a name) is discounted.
WEIGHTS = {"coverage": 0.5, "focus": 0.2, "semantic": 0.3}
MISSING_CUE_FACTOR = 0.8
# Cosine range of the embedding model over question/sentence pairs, mapped onto 0..1.
COSINE_LOW, COSINE_HIGH = 0.75, 0.92
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
    """A question's kind (number, date, person or None), weighted words and focus words."""

    text: str
    kind: str | None
    terms: dict[str, float]
    focus: list[str]
    numbers: frozenset[str]


@dataclass
class Sentence:
    """A candidate sentence of a passage, with document offsets and its score parts."""

    passage: Passage
    start: int
    end: int
    text: str
    coverage: float = 0.0
    focus: float = 0.0
    semantic: float | None = None
    cue: bool = True
    score: float = 0.0


def analyse(question: str) -> Question:
    """The kind of a question, its content words weighted by how specific they are, and
    its focus: the content words next to the asking word (all of them if there is none)."""
    from indexer.text.analysis import fold, tokens

    folded = fold(question)
    kind = next((name for name, pattern in QUESTION_KINDS if pattern.search(folded)), None)
    words = tokens(question)
    terms = {w: _weight(w) for w in words if w not in QUESTION_WORDS}
    terms = {t: w for t, w in terms.items() if w > 0}
    asking = next((i for i, w in enumerate(words) if w in ASKING_WORDS), None)
    if asking is None:
        focus = list(terms)
    else:
        before = [w for w in words[:asking] if w in terms][-FOCUS_WINDOW:]
        after = [w for w in words[asking + 1:] if w in terms][:FOCUS_WINDOW]
        focus = list(dict.fromkeys(before + after)) or list(terms)
    return Question(question, kind, terms, focus, frozenset(DIGITS.findall(folded)))


def _weight(token: str) -> float:
    """How specific a word is: its IDF in general Chinese text, floored and capped."""
    if DIGITS.fullmatch(token):
        return NUMBER_WEIGHT
    from indexer.text.analysis import _segmenter

    segmenter = _segmenter()
    idf = math.log(segmenter.jieba.total / (segmenter.freq.get(token, 0) + 1))
    return max(0.0, min(idf, IDF_CAP + IDF_FLOOR) - IDF_FLOOR)


def keyword_query(question: str) -> str:
    """The question's content words as an OR keyword query (what a question retrieves with)."""
    return " OR ".join(analyse(question).terms) or question


def sentences(passage: Passage) -> list[tuple[int, int]]:
    """Document spans of a passage's answerable sentences: split at sentence and line
    ends, trimmed, without titles and headings."""
    from indexer.ingest.segment import heading_level, sentence_spans

    spans = []
    text = passage.text
    for start, end in sentence_spans(text, 0, len(text)):
        for match in re.finditer(r"[^\n]+", text[start:end]):
            piece = match.group()
            body = piece.strip()
            size = len(re.sub(r"\W", "", body))
            if size < MIN_SENTENCE_CHARS:
                continue
            if size <= TITLE_LINE_CHARS and body[-1] not in SENTENCE_MARKS:
                continue
            if size <= HEADING_SENTENCE_CHARS and heading_level(body) is not None:
                continue
            begin = passage.start + start + match.start() + len(piece) - len(piece.lstrip())
            spans.append((begin, begin + len(body)))
    return spans


def _cue(question: Question, folded: str) -> bool:
    """Whether a sentence holds the kind of thing the question asks for."""
    if question.kind == "number":
        return any(n not in question.numbers for n in DIGITS.findall(folded)) or bool(
            NUMBER.search(folded))
    if question.kind == "date":
        return bool(DATE.search(folded))
    if question.kind == "person":
        return bool(PERSON.search(folded))
    return True


def score_sentences(question: str | Question, hits: list[Hit], catalog: Catalog,
                    embedder=None, overrides: Mapping[str, Any] | None = None,
                    question_vector=None) -> list[Sentence]:
    """Every answerable sentence of the top hits (garbled sentences skipped), best first.

    None when the question has no word but numbers: a number alone (``0``, ``2016``)
    occurs all over the corpus and says nothing of what is asked.
    """
    from indexer.text.analysis import fold

    asked = question if isinstance(question, Question) else analyse(question)
    if all(DIGITS.fullmatch(term) for term in asked.terms):
        return []  # nothing but numbers (or nothing) to look for: no sentence is about it
    found: list[Sentence] = []
    seen: set[tuple[str, int]] = set()
    for hit in hits[:settings.get("answer_passages", overrides)]:
        passage = catalog.passages.get(hit.passage_id)
        if passage is None:
            continue
        document = catalog.documents.get(passage.doc_id)
        heading = fold(" ".join(filter(None, [document.title if document else None,
                                              document.region if document else None,
                                              passage.section])))
        body = fold(passage.text)
        previous = ""
        for start, end in sentences(passage):
            offset = start - passage.start
            if GARBLED in passage.text[offset:offset + end - start]:
                continue  # a character the damage lost: never quoted
            folded = body[offset:offset + end - start]
            context, previous = (heading, previous, body), folded
            if (passage.doc_id, start) in seen:
                continue
            seen.add((passage.doc_id, start))
            sentence = Sentence(passage, start, end, passage.text[offset:offset + end - start],
                                cue=_cue(asked, folded))
            sentence.coverage, sentence.focus = _coverage(asked, folded, *context)
            sentence.score = _combine(sentence)
            found.append(sentence)
    found.sort(key=lambda s: -s.score)
    budget = settings.get("answer_embed_sentences", overrides)
    if embedder is not None and budget > 0 and found:
        _add_semantic(asked.text, found[:budget], embedder, question_vector)
        for sentence in found[budget:]:  # lexically weaker: count as semantically unrelated
            sentence.semantic = 0.0
            sentence.score = _combine(sentence)
        found.sort(key=lambda s: -s.score)
    return found


def _coverage(asked: Question, folded: str, heading: str, previous: str,
              body: str) -> tuple[float, float]:
    """Weighted share of the question's words found in or around a sentence, and of its
    focus words found in the sentence itself."""
    total = focus_total = found = focus = 0.0
    for term, weight in asked.terms.items():
        total += weight
        in_focus = term in asked.focus
        focus_total += weight if in_focus else 0.0
        if term in folded:
            found += weight * IN_SENTENCE
            focus += weight if in_focus else 0.0
        elif term in heading or term in previous:
            found += weight * IN_CONTEXT
        elif term in body:
            found += weight * IN_PASSAGE
    return (found / total if total else 0.0), (focus / focus_total if focus_total else 0.0)


def _combine(sentence: Sentence) -> float:
    """One score in 0..1 from a sentence's parts (lexical parts only without embeddings)."""
    parts = {"coverage": sentence.coverage, "focus": sentence.focus}
    if sentence.semantic is not None:
        parts["semantic"] = sentence.semantic
    score = sum(WEIGHTS[name] * value for name, value in parts.items()) / sum(
        WEIGHTS[name] for name in parts)
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
    chosen = choose(scored, settings.get("answer_min_score", overrides),
                    settings.get("answer_max_sentences", overrides))
    if not chosen:
        return Answer(question, False, NO_ANSWER if hits else NO_PASSAGES, [], list(hits))
    citations, text = cite(chosen, catalog)
    return Answer(question, True, text, citations, list(hits))


def choose(scored: list[Sentence], threshold: float, limit: int = 3) -> list[Sentence]:
    """The best sentence if it reaches ``threshold``, with up to ``limit - 1`` near equals."""
    if not scored or scored[0].score < threshold:
        return []
    floor = max(threshold, scored[0].score * FOLLOW_RATIO)
    return [s for s in scored if s.score >= floor][:limit]


def cite(chosen: list[Sentence], catalog: Catalog) -> tuple[list[Citation], str]:
    """Citations for the chosen sentences and the answer text with their ``[n]`` markers.

    One number per passage, in order of first appearance (the best passage first); a
    passage's sentences are read in document order, and adjacent ones are quoted together.
    """
    by_passage: dict[str, list[Sentence]] = {}
    for sentence in chosen:
        by_passage.setdefault(sentence.passage.passage_id, []).append(sentence)
    citations: list[Citation] = []
    parts: list[str] = []
    for n, group in enumerate(by_passage.values(), start=1):
        passage = group[0].passage
        document = catalog.documents.get(passage.doc_id)
        spans: list[list[int]] = []
        for sentence in sorted(group, key=lambda s: s.start):
            gap = passage.text[spans[-1][1] - passage.start:sentence.start - passage.start] \
                if spans else None
            if gap is not None and not gap.strip() and "\n" not in gap:
                spans[-1][1] = sentence.end
            else:
                spans.append([sentence.start, sentence.end])
        for start, end in spans:
            quote = passage.text[start - passage.start:end - passage.start]
            citations.append(Citation(n, passage.passage_id, passage.doc_id,
                                      document.title if document else None, passage.section,
                                      passage.paragraph_at(start), quote, start, end))
            parts.append(f"{quote}[{n}]")
    return citations, "".join(parts)

