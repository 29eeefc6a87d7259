"""Extractive answers: the sentences of the top passages that answer a question, cited.

Every answerable sentence of the top ``answer_passages`` hits is a candidate. The answer
model (:mod:`indexer.answer.model`) scores each from its features — its build-time
vector's cosine to the question, where its passage ranked on each side, how many of the
question's words and characters it holds, whether it holds what the question asks for —
then decides from the best candidates whether the question is answered here at all. The
best sentence is the answer when that answerability reaches its calibrated threshold; a
second or third sentence joins only when it scores the follow threshold on its own. Each
sentence is followed by ``[n]``; a citation quotes it in the document's original script
with document offsets, so ``document.text[start:end] == quote``. Otherwise the answer says
so and cites nothing: a refusal beats a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from indexer import settings
from indexer.answer import features as feats
from indexer.answer.features import Sentence
from indexer.answer.model import AnswerModel, load_model, question_features, row
from indexer.answer.question import Question, analyse, keyword_query, only_numbers
from indexer.answer.rerank import by_answer_score
from indexer.answer.spans import sentences
from indexer.retrieve.hits import Hit

if TYPE_CHECKING:
    from indexer.store.catalog import Catalog

__all__ = ["NO_ANSWER", "NO_PASSAGES", "REFUSALS", "Answer", "Citation", "Sentence", "analyse",
           "answer", "choose", "cite", "keyword_query", "score_sentences", "sentences"]

NO_ANSWER = "未找到可靠的答案。以下是最接近的段落。"
NO_PASSAGES = "未找到可靠的答案。"
SHORT_NAME_CHARS = 12
# Why a question is refused (:attr:`Answer.refused_because`), each with what a reader is
# told: nothing was found, nothing could be scored, the answer model is not sure enough of
# the best sentence, or that sentence lacks what is asked (:func:`what_is_missing`).
REFUSALS = {
    "no_passages": "没有找到相关的段落。",
    "no_candidates": "找到的段落里没有可以用来回答的句子。",
    "uncertain": "最接近的句子不足以确定地回答这个问题。",
    "figure_not_given": "最接近的句子没有给出所问的数字或日期。",
    "other_year": "最接近的句子说的是另一年的情况。",
    "other_side": "最接近的句子说的是与所问相对的另一项（如问上半年，它说下半年）。",
    "other_place": "所问的地方在这份报告里没有提到。",
    "other_school": "最接近的句子说的不是所问的学校。",
    "name_not_given": "最接近的句子没有给出所问的人名。",
    "place_not_given": "最接近的句子没有给出所问的地方。",
}
# What a best sentence lacks, by the rule features (:mod:`indexer.answer.features`) that
# say so: the place asked about (its report never names it), the figure or date asked
# for, the name asked for, the year asked about, the side asked about, the school asked
# about.
MISSING = (("other_place", ("place_miss", "others_miss")),
           ("figure_not_given", ("measure_miss", "figure_miss", "count_miss", "total_miss",
                                 "gap_miss", "passers_miss", "people_miss", "stage_miss",
                                 "staff_miss", "sex_miss", "rate_miss", "purpose_miss",
                                 "period_miss", "length_miss", "day_miss", "year_miss",
                                 "when_miss")),
           ("name_not_given", ("name_miss",)),
           ("place_not_given", ("where_miss",)),
           ("other_year", ("time_miss",)),
           ("other_side", ("counterpart_miss",)),
           ("other_school", ("school_miss",)))


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
    """What a question gets: the answer text with ``[n]`` markers, its citations, the hits.

    ``confidence`` is the answer model's answerability of the best sentence (None when
    there was nothing to score). An answer is ``tentative`` when its confidence is below
    the model's sure threshold: half or fewer of the answers there are right, against four
    in five above it on the first own-words set (docs/evaluation.md, "Tentative answers"),
    so the reader is told to check the citations first.
    """

    question: str
    answerable: bool
    text: str
    citations: list[Citation] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    generated: bool = False
    flags: list[str] = field(default_factory=list)
    confidence: float | None = None
    tentative: bool = False
    # The question as answered, when a mistyped word in it was corrected (flag
    # ``typo_corrected``); None when it was answered as asked.
    read_as: str | None = None
    # Why it was refused (one of :data:`REFUSALS`); None when it was answered.
    refused_because: str | None = None


def _dense_inputs(question: str, found: list[Sentence], vectors, question_vector):
    """The candidates' sentence cosines and their passages' cosines, or (None, None) when
    the index has no sentence vectors."""
    if vectors is None or not getattr(vectors, "has_sentences", False) or not found:
        return None, None
    if question_vector is None:
        from indexer.errors import NothingToSearch
        from indexer.text.query import parse

        try:
            # In both scripts, as retrieval reads it (the vectors are remembered): a
            # simplified question scores lower against traditional text. The model was
            # trained on the question as typed; retrained on both, it did worse.
            question_vector = vectors.query_vectors(parse(question))
        except NothingToSearch:
            return None, None
    pids = list(dict.fromkeys(s.passage.passage_id for s in found))
    sentence_cosines = vectors.sentence_cosines(question_vector, pids)
    passage_cosines = dict(zip(pids, vectors.passage_cosines(question_vector, pids).tolist(),
                               strict=True))
    return sentence_cosines, passage_cosines


def score_sentences(question: str | Question, hits: list[Hit], catalog: Catalog,
                    vectors=None, overrides: Mapping[str, Any] | None = None,
                    question_vector=None, model: AnswerModel | None = None
                    ) -> list[Sentence]:
    """Every answerable sentence of the top hits (garbled passages skipped), best first,
    each with its features and ``score``: the model's probability that it answers.

    Empty when the question has no word but numbers: a number alone (``0``, ``2016``)
    occurs all over the corpus and says nothing of what is asked.

    Args:
        vectors: the dense retriever (:class:`indexer.retrieve.dense.DenseRetriever`)
            whose sentence vectors score the candidates; None: lexical features only.
        question_vector: the question's vectors (QueryVectors), when the caller has them.
    """
    asked = question if isinstance(question, Question) else analyse(question)
    if only_numbers(asked):
        return []
    found = feats.candidates(hits[:settings.get("answer_passages", overrides)], catalog)
    if not found:
        return []
    sentence_cosines, passage_cosines = _dense_inputs(asked.text, found, vectors,
                                                      question_vector)
    feats.describe(asked, found, catalog, sentence_cosines, passage_cosines)
    variant = (model or load_model()).variant(dense=sentence_cosines is not None)
    rows = feats.matrix(found, variant.sentence.features)
    scores = variant.sentence.prob(rows)
    names = variant.sentence.features
    ranks = scores if variant.rerank is None else variant.rerank.prob(
        rows[:, [names.index(name) for name in variant.rerank.features]])
    for sentence, score, rank in zip(found, scores.tolist(), ranks.tolist(), strict=True):
        sentence.score, sentence.rank_score = score, rank
    found.sort(key=lambda s: (-s.score, s.passage.passage_id, s.start))
    return found


def answerability(scored: list[Sentence], model: AnswerModel | None = None) -> float:
    """The model's probability that the best of ``scored`` (best first) is a right answer."""
    if not scored:
        return 0.0
    variant = (model or load_model()).variant(dense="cos_s" in scored[0].features)
    values = question_features(scored)
    return float(variant.answerable.prob(row(values, variant.answerable.features))[0])


def answer(question: str, hits: list[Hit], catalog: Catalog, vectors=None, *,
           overrides: Mapping[str, Any] | None = None, question_vector=None,
           model: AnswerModel | None = None, rerank: int = 0) -> Answer:
    """The best one to three sentences of ``hits`` that answer ``question``, cited; those
    of a report of the place the question asks of first, unless the best one's passage
    names the place itself, and those that speak of the school it asks of
    (:func:`indexer.answer.features.answered_from`).

    Args:
        vectors: the dense retriever with sentence vectors; without it scoring is lexical.
        overrides: explicit setting values (``answer_min_score``, ...), as in settings.get.
        question_vector: the question's vectors (QueryVectors), when the caller has them.
        rerank: how many of the top hits to order by their best sentence's score, as
            search re-ranks them (:mod:`indexer.answer.rerank`); 0: retrieval order.
    Returns:
        An :class:`Answer`; ``answerable=False`` with no citations when the answerability
        of the best sentence is below ``answer_min_score`` (default: the model's
        calibrated threshold). The hits are always returned.
    """
    model = model or load_model()
    scored = score_sentences(question, hits, catalog, vectors, overrides, question_vector,
                             model)
    if rerank:
        hits = by_answer_score(hits, scored, rerank)
    scored = feats.answered_from(scored)
    if not scored:
        return Answer(question, False, NO_ANSWER if hits else NO_PASSAGES, [], list(hits),
                      refused_because="no_candidates" if hits else "no_passages")
    variant = model.variant(dense="cos_s" in scored[0].features)
    confidence = answerability(scored, model)
    why = refusal(scored, confidence,
                  _calibrated("answer_min_score", variant.answer_threshold, overrides))
    if why is not None:
        return Answer(question, False, NO_ANSWER, [], list(hits), confidence=confidence,
                      refused_because=why)
    chosen = with_followers(
        scored, _calibrated("answer_follow_min_score", variant.follow_threshold, overrides),
        settings.get("answer_max_sentences", overrides))
    citations, text = cite(chosen, catalog)
    sure = _calibrated("answer_sure_min_score", variant.sure_threshold, overrides)
    return Answer(question, True, text, citations, list(hits), confidence=confidence,
                  tentative=sure is not None and confidence < sure)


def _calibrated(name: str, calibrated: float | None,
                overrides: Mapping[str, Any] | None) -> float | None:
    """The threshold setting ``name``, or the model's calibrated value when it is empty."""
    value = settings.get(name, overrides)
    return calibrated if value == "" else value


def choose(scored: list[Sentence], confidence: float, threshold: float, follow: float,
           limit: int = 3) -> list[Sentence]:
    """The best sentence when the question's answerability reaches ``threshold`` and it
    holds what the question asks for in particular (:func:`lacks_what_is_asked`), then up
    to ``limit - 1`` more that each score ``follow`` themselves (every sentence of an
    answer must answer)."""
    if refusal(scored, confidence, threshold) is not None:
        return []
    return with_followers(scored, follow, limit)


def with_followers(scored: list[Sentence], follow: float, limit: int = 3) -> list[Sentence]:
    """The best of ``scored`` and up to ``limit - 1`` more that score ``follow``."""
    return [scored[0]] + [s for s in scored[1:] if s.score >= follow][:max(0, limit - 1)]


def refusal(scored: list[Sentence], confidence: float, threshold: float) -> str | None:
    """Why the best of ``scored`` is no answer (one of :data:`REFUSALS`), or None: it is.
    What the sentence lacks of the question comes first, however sure the model is: it
    tells the reader more than ``uncertain`` does."""
    if not scored:
        return "no_candidates"
    missing = what_is_missing(scored[0].features)
    if missing is None and confidence < threshold:
        return "uncertain"
    return missing


def what_is_missing(features: Mapping[str, float]) -> str | None:
    """What a sentence lacks of what its question asks (a name of :data:`MISSING`:
    :func:`lacks_what_is_asked`), or None."""
    return next((name for name, rules in MISSING
                 if any(features.get(rule) for rule in rules)), None)


def lacks_what_is_asked(features: Mapping[str, float]) -> bool:
    """Whether a sentence's report is of another place than the one asked; or the sentence
    lacks the figure or date its question asks for: no sum in 元 for
    多少钱, no count of people for 多少人, no date for 哪一年
    (:func:`indexer.answer.measures.has_measure`), no count in 辆 for 多少辆
    (:func:`indexer.answer.measures.lacks_count`), no figure at all for 多少 or 几
    (:func:`indexer.answer.measures.lacks_figure`), only what was added or planned for
    how many there are in all (:func:`indexer.answer.measures.gives_only_changes`), only
    a gap for a level (:func:`indexer.answer.measures.gives_only_gaps`), no
    day for 几月几号 (:func:`indexer.answer.measures.lacks_day`), no year for 哪一年
    (:func:`indexer.answer.measures.lacks_a_year`), no time for 什么时候能
    (:func:`indexer.answer.measures.lacks_time`); or no name for 叫什么名字
    (:func:`indexer.answer.names.lacks_a_name`); or no place for 哪个县
    (:func:`indexer.answer.places.lacks_the_place_asked`); or it gives them for another
    year than the one asked (:func:`indexer.answer.question.dated_otherwise`), only for this year
    when the year before is asked (:func:`indexer.answer.question.lacks_year_before`),
    only for its own place when other places are asked of, 其他县
    (:func:`indexer.answer.places.lacks_other_places`), or for the
    counterpart of what is asked: the other half-year, 中考 for 高考, 本二 for 本一
    (:func:`indexer.answer.question.names_the_counterpart`), or a figure of the
    counterpart only (:func:`indexer.answer.measures.counts_the_counterpart`); or rates
    per another period (:func:`indexer.answer.periods.gives_another_period`), no length
    of time for 多长时间 (:func:`indexer.answer.periods.lacks_a_length`), a count of
    staff for pupils (:func:`indexer.answer.groups.counts_other_people`), of another
    stage of schooling (:func:`indexer.answer.groups.counts_another_stage`), of another
    kind of teacher (:func:`indexer.answer.groups.counts_another_kind_of_staff`) or of
    either sex for one (:func:`indexer.answer.groups.lacks_the_sex_asked`), rates per
    one for a sum in all (:func:`indexer.answer.measures.gives_only_rates`), a county's
    figure for its city (:func:`indexer.answer.places.of_a_county_of_the_city_asked`), a
    sum spent on something else (:func:`indexer.answer.measures.spent_on_another_purpose`),
    a figure in all for one for each (:func:`indexer.answer.periods.gives_no_rate_per_one`),
    no school for 哪所学校 (:func:`indexer.answer.schools.lacks_the_school_asked`), or
    a city's or another school's for a school asked by name
    (:func:`indexer.answer.schools.of_another_school`). A report that never gives the
    figure asked for is not answered with another one.

    The answer model weighs the measure too; as a rule on top of it, out of fold on the
    own-words train questions, it refused 5 of the 33 near misses the model would answer,
    and none of its 119 right answers (measured with ``answer-lr-1-3036191819``, the model
    it was added with). The time rule refused 2 of the 30 train near misses that
    ``answer-lr-1-17f35f9f03`` answered, and none of its right answers; dating a sentence
    without a year by its report's year refused one more (吉林2015年…, of a 2016 plan).
    The figure rule refused 4 more of the 55 train near misses (吉林全市一共有多少辆校车?),
    and no right answer; nor did it change a dev-sample answer. The counterpart rule
    refused 2 more (木瀆高中考上一本…, answered from 本二's rate) and nothing else. Reading
    a year anywhere in the sentence of a figure or date question (not one it is compared
    with) refused 1 more of the 77 near misses of both sets' train parts (句容2017年…, from
    a 2016 plan), no right answer, and changed none of the 150 dev-sample questions that
    name a year. The count rule, with points that are no 百分点 and people that are 观众
    or 家长, refused 4 more of the 77 (多少辆校车 from 248套, 多少分 from 14.81个百分点),
    no right answer, and changed no answer of the 2,242 dev-sample questions. Refusing a
    city or county its report never names (:func:`indexer.answer.places.names_another_place`)
    refused 2 more (四平 of 吉林's report, 金坛 of 句容's), no right answer, and changed no
    dev-sample answer. Counting a place the report names only to compare with as not
    named (丹阳 of 句容's report), a total answered by a change (全县有多少所幼儿园? from
    计划新改扩建的8所), and 几 asking for a figure as 多少 does refused 6 more of the 88
    near misses of both sets' train parts, turned 2 wrong answers into refusals (几回,
    几个到位, from sentences without a figure), refused no right answer, and changed no
    answer of the 2,242 dev-sample questions. The name rule refused 2 more (局长叫什么名字
    from a count of 讲师, 那两个学生叫什么名字 from "2名学生…获得一等奖") and nothing else; no
    dev-sample question asks a person's name so. The day rule refused 1 more (几月几号
    from 年底前) and nothing else. The rules for the year before, other places and a time
    yet to come refused 2 more of the 88 (前一年 from this year's 1058人, 什么时候能盖好
    from 完成立项审批), 3 more of the 23 near misses of ``bench/ownwords/probe`` (其他县,
    其他乡镇, 前一年), no right answer, and changed no dev-sample answer. Refusing a county
    asked without its name from a city's or a district's report
    (:func:`indexer.answer.places.of_another_level`) refused 1 more of the probe's (那个县的
    小学有多少所?) and turned 2 wrong train answers into refusals (ow-157, ow-491). The gap
    rule refused 1 more of the train near misses (镇江市区…平均考多少分, from 句容's 相差34.5分)
    and nothing else; no dev-sample answer changed. The place rule refused 1 more (这份总结
    写的是哪个县?, from 我县) and turned 2 wrong dev-sample answers into refusals (潜江市
    隶属于哪一个省份?, in both scripts), and nothing else. Stop 48's rules (another period,
    the counterpart's figure, staff for pupils, a county's figure for its city) refused 2
    more of the 88 train near misses (nm-019, nm-059) and 9 more of the 38 new near misses
    of the probe, no right answer, and changed no dev-sample answer. Stop 50's rules (no
    year for 哪一年, a zone of a city, another kind of teacher, nobody for 局长是谁, no
    road, school or district for which one, how often for how long one lasts, a sum spent
    on something else, a figure in all for one for each, a total after its place and 的)
    refused 1 more of the 83 near misses of both sets' train parts (nm-139, from 年内) and
    68 of the probe's 91 new ones against 53, turned 2 wrong dev-sample answers into
    refusals (九三砲战于何年爆发?, in both scripts), and changed nothing else. Stop 51 made
    two of them refuse less: a change in a share asked (涨了多少) is answered by its
    points, and 第几位 asks a place in a ranking, not a count of people; two false
    refusals of the train parts are answered right (ow-299, ow-487), no other answer of
    the train parts or the probe changed, and of the dev samples only one wrong answer,
    for another wrong sentence (获得第几名?)."""
    return what_is_missing(features) is not None


def cite(chosen: list[Sentence], catalog: Catalog) -> tuple[list[Citation], str]:
    """Citations for the chosen sentences and the answer text with their ``[n]`` markers.

    One number per passage, in order of first appearance (the best passage first); a
    passage's sentences are read in document order, and adjacent ones are quoted together.
    When the sentences come from more than one report, each is labelled with its report's
    short name (``句容：…[1]  吉林：…[2]``) so that no reader takes them for one account.
    """
    by_passage: dict[str, list[Sentence]] = {}
    for sentence in chosen:
        by_passage.setdefault(sentence.passage.passage_id, []).append(sentence)
    citations: list[Citation] = []
    parts: list[str] = []
    mixed = len({sentence.passage.doc_id for sentence in chosen}) > 1
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
            label = f"{short_name(document, passage.doc_id)}：" if mixed else ""
            parts.append(f"{label}{quote}[{n}]")
    return citations, ("  " if mixed else "").join(parts)


def short_name(document, doc_id: str) -> str:
    """What a report is called in a mixed answer: its region, else its issuer, else its
    title (cut to a dozen characters), else its id."""
    if document is None:
        return doc_id
    name = document.region or document.issuer or document.title or doc_id
    return name if len(name) <= SHORT_NAME_CHARS else name[:SHORT_NAME_CHARS] + "…"
