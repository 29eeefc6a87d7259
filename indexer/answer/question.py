"""What a question asks: its kind, its content words weighted by how specific they are, and
whether a sentence holds the kind of thing it asks for (a number, a date, a name, a place)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from indexer.answer.divisions import places_in, spellings
from indexer.answer.measures import ASKS_CALENDAR, DATE, asked_measure
from indexer.answer.places import of_a_masked_city
from indexer.retrieve.protocol import expand_years

# Words that ask (the answer sits next to what they ask about), folded and simplified.
ASKING_WORDS = frozenset(
    "多少 几 几个 几年 几次 几名 几所 几项 什么 啥 哪 哪些 哪个 哪一 哪一个 哪一年 哪年 哪里 "
    "哪儿 哪位 哪种 哪家 哪所 哪项 谁 何 何时 何地 何处 何种 如何 怎样 怎么 怎么样 咋 为什么 "
    "为何 是否 是不是 有没有 多大 多长 多高 多久 多远 什么样 什么时候".split())
# Words of a question that say nothing about its subject.
QUESTION_WORDS = ASKING_WORDS | frozenset(
    "吗 呢 请问 多 一下 告诉 我 你 有 时候 情况 问题 方面 具体 哪些方面 已经 一共 总共 打算 "
    "大约 大概 主要 分别 市里 县里 区里 镇里 省里 本市 我市 我县 我区".split())
# What asks for a number itself (比例 and 人数 only name one).
ASKS_HOW_MANY = r"多少|几|多大|多高|多长|多远|多重|多久|多快"
# What a question asks for, by the words that ask it (checked in this order).
QUESTION_KINDS: list[tuple[str, re.Pattern[str]]] = [
    ("date", re.compile(r"何时|什么时候|啥时候?|几时|" + ASKS_CALENDAR
                        + r"|哪段时间|什么时间|时间[是为]?[?？]*$")),
    # 叫什么 and 名字 ask for a person's name only after a word for a person (局长叫什么名字;
    # not 凉茶铺又叫什么, 诗集叫什么), and 名字 only where it is asked for (校长的名字是…;
    # not 以老师名字挂牌的工作室有几个).
    ("person", re.compile(r"谁|哪一?个?人(?!口)|什么人|哪些人|姓名|哪[一几两]?位"
                          r"|[长师人者员任记生他她]的?(?:叫什么|名字(?=[是叫?？]|$))"
                          r"|哪[个名]?(?:学生|同学|老师|教师|校长)")),
    ("place", re.compile(r"哪里|哪儿|何地|何处|什么地方|在哪|去哪|哪所|哪家|哪一?[个些]?(?:省|市|县"
                         r"|区|镇|乡|村|地方|国家|国|城市|学校|大学|单位|部门|公司|机构)")),
    ("number", re.compile(ASKS_HOW_MANY + r"|比例|比率|百分|占比|人数|数量|总数|金额|面积|均分"
                          r"|达线率|率是")),
    # 让不让, 收不收: a verb, 不, the verb again.
    ("yesno", re.compile(r"是否|有没有|可不可以|有无|([\u4e00-\u9fff])不\1|吗[?？]?$")),
]
KINDS = tuple(name for name, _ in QUESTION_KINDS)
# What asks for a number itself; a question that names one (比例, 人数) but asks with
# 是不是 or 有没有 asks yes or no (三星高中二本上線的比例是不是翻了一倍?).
ASKS_NUMBER = re.compile(ASKS_HOW_MANY)
ASKS_YES_OR_NO = dict(QUESTION_KINDS)["yesno"]
# A number in words: not a lone 一 (一名师 is "a famous teacher", not a count).
NUMBER = re.compile(r"(?:[一二三四五六七八九十两百千万亿]{2,}|[二三四五六七八九十两])"
                    r"[个名所人次年项条倍元分万亿]")
PERSON = re.compile(r"同学|老师|校长|教师|先生|女士|主任|书记|局长|总干事|院士|教授|市长|部长"
                    r"|[\u4e00-\u9fff]{1,3}等\d*[名位人]")
PLACE = re.compile(r"[\u4e00-\u9fff]{1,8}(?:省|市|县|区|镇|乡|村|街道|州|岛|国|大学|学院|学校"
                   r"|中学|小学|幼儿园|园区|基地|中心)|北京|上海|天津|重庆|香港|台湾|澳门")
DIGITS = re.compile(r"\d+(?:\.\d+)?")
YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?=年)")
# The kinds of question that ask for a figure or a date: what they count or date is their
# measure, and a year named in the sentence dates the answer.
FIGURE_KINDS = ("number", "date")
# A year a figure is compared with (比2015年提高4.4个百分点), which does not date the figure.
COMPARED_YEAR = re.compile(r"(?:比|较|与|同比|相比|高于|低于|超过)\s*((?:19|20)\d{2})(?=年)")
# A span of years (2015-2017年, 2015至2017年) names every year in it.
YEAR_SPAN = re.compile(r"(?<!\d)((?:19|20)\d{2})年?\s*[-—–~至到]\s*((?:19|20)\d{2})(?=年)")
# What dates a sentence: a year it opens with, after any list number (（三）2016年，…;
# 在2016年…), not one named later on (…继1987年以后, …并于2014年移交).
OPENING_YEAR = re.compile(r"^\W*(?:[一二三四五六七八九十\d]{1,3}[)）.、]\s*)?(?:在|于|截至)?"
                          r"((?:19|20)\d{2})(?=年)")
# The year before a report's (前一年, 上一年; not 去年, which people also say of a report's
# own year when it is the year before theirs), and what a text says of it as its own:
# 去年 too, or a year the report is not of. Compared (比前一年, 较去年) it dates no figure.
YEAR_BEFORE = re.compile(r"前一年|上一年|上年(?!级)|前年")
PAST_YEAR = re.compile(rf"去年|{YEAR_BEFORE.pattern}")
COMPARED_PAST = re.compile(r"(?:比|较|与|和|跟|同|于|相比)$")
# Pairs a report tells apart, neither standing for the other: a sentence that names only
# the counterpart of the one asked about does not answer (下半年's plans for 上半年, a 中考
# average for 高考, 本二's rate for 本一). A side lists its spellings.
COUNTERPARTS = (
    (("上半年",), ("下半年",)),
    (("高考",), ("中考",)),
    (("本一", "一本"), ("本二", "二本")),
    (("文科",), ("理科",)),
    (("春季",), ("秋季",)),
    (("寒假",), ("暑假",)),
    (("公办",), ("民办",)),
    (("专职",), ("兼职",)),
)
# Weights: IDF from jieba's general frequency table, less a floor so that 的/年 count
# for almost nothing; numbers are treated as fairly specific words.
IDF_FLOOR = 4.0
IDF_CAP = 10.0
NUMBER_WEIGHT = 5.0
# The content words nearest the asking word (…人数是多少, 多少所高中) are its focus.
FOCUS_WINDOW = 2


@dataclass
class Question:
    """A question's kind (one of :data:`KINDS` or None), weighted words and focus words."""

    text: str
    kind: str | None
    terms: dict[str, float]
    focus: list[str]
    numbers: frozenset[str]
    folded: str = ""
    chars: frozenset[str] = frozenset()
    bigrams: frozenset[str] = frozenset()
    # What pins the question to one report or time: the places and years it names.
    specifics: frozenset[str] = frozenset()
    # What a number question counts or a date question dates (a name of
    # :data:`indexer.answer.measures.MEASURES`), or None.
    measure: str | None = None
    # The report's words for an everyday word among its words (技校 → 职业学校 …).
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The pairs of COUNTERPARTS it asks one side of, as (that side, its counterpart).
    counterparts: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()
    # The classifiers a number question without a measure counts things in (多少辆 → 辆;
    # :func:`indexer.answer.measures.asked_measure`), or None.
    counted_in: str | None = None

    def holds(self, text: str, term: str) -> bool:
        """Whether ``text`` holds one of its content words or a report's word for it
        (:attr:`synonyms`)."""
        return any(word in text for word in (term, *self.synonyms.get(term, ())))


def analyse(question: str) -> Question:
    """The kind of a question, its content words weighted by how specific they are, and
    its focus: the content words next to the asking word (all of them if there is none)."""
    from indexer.text.analysis import fold, tokens
    from indexer.text.synonyms import everyday_words

    folded = fold(question)
    kind = next((name for name, pattern in QUESTION_KINDS if pattern.search(folded)), None)
    if kind == "number" and ASKS_YES_OR_NO.search(folded) and not ASKS_NUMBER.search(folded):
        kind = "yesno"
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
    content = "".join(w for w in words if w not in QUESTION_WORDS)
    chars = frozenset(c for c in content if c.isalnum())
    bigrams = frozenset(content[i:i + 2] for i in range(len(content) - 1)
                        if content[i:i + 2].isalnum())
    measure, counted = asked_measure(folded, kind) if kind in FIGURE_KINDS else (None, None)
    everyday = everyday_words(question)
    synonyms = {term: tuple(w for word, report in everyday.items()
                            if word in term or term in word for w in report)
                for term in terms}
    return Question(question, kind, terms, focus, frozenset(DIGITS.findall(folded)), folded,
                    chars, bigrams, specifics(folded), measure,
                    {term: report for term, report in synonyms.items() if report},
                    asked_sides(tuple(words)), counted)


def specifics(folded: str) -> frozenset[str]:
    """The places (:func:`indexer.answer.divisions.places_in`) and years a folded question
    names: a near miss asks of another city or year than the report's."""
    return places_in(folded) | set(YEAR.findall(folded))


def missing_specifics(question: Question, context: str,
                      report: Callable[[], str] | None = None) -> float:
    """The share of the question's places and years that ``context`` (folded) never names.

    A place that the whole ``report`` names (its folded text, asked for only when needed)
    counts as named: a report on 吴中 names the district a few times, not in every
    paragraph; so does the city of a report that masks it, by the counties it names
    (:func:`indexer.answer.places.of_a_masked_city`: 青岛 of 002). A place is named by its
    nickname too (岛城: :func:`indexer.answer.divisions.spellings`). A year counts only in
    ``context``: a report names many years.
    """
    if not question.specifics:
        return 0.0
    missing = [name for name in question.specifics if not _spelt_in(name, context)]
    if report is not None and any(not name.isdigit() for name in missing):
        text = report()
        missing = [name for name in missing
                   if name.isdigit() or not (_spelt_in(name, text) or of_a_masked_city(name, text))]
    return len(missing) / len(question.specifics)


def _spelt_in(specific: str, text: str) -> bool:
    """Whether ``text`` writes a year, or a place by its name or a nickname (岛城)."""
    return any(name in text for name in spellings(specific))


def dated_otherwise(question: Question, folded: str,
                    report_years: frozenset[str] = frozenset()) -> bool:
    """Whether a sentence (folded) is dated to another year than the ones its question
    asks about: a report that gives 2016's figure does not answer a question about 2015's.

    The sentence names none of the asked years, and either opens with another, or names
    another anywhere when the question asks for a figure or a date (句容2017年…多少平方米
    is not answered by …2016年计划实施校安工程总面积为37.6万平方米; a year the figure is
    compared with does not count, 比2015年提高; for other questions a year named later on
    may date another event: 为什么2008年…, …继1987年以后…), or belongs
    to a report whose ``report_years`` (its metadata,
    :func:`indexer.retrieve.protocol.expand_years`) hold none of them (吉林's 2016 plan
    does not answer for 2015).
    """
    asked = {name for name in question.specifics if name.isdigit()}
    if not asked:
        return False
    named = _named_years(folded)
    dating = named - set(COMPARED_YEAR.findall(folded))
    return not asked & named and bool(
        OPENING_YEAR.match(folded) or (dating and question.kind in FIGURE_KINDS)
        or (report_years and not asked & report_years))


def lacks_year_before(question: Question, folded: str,
                      report_years: frozenset[str] = frozenset()) -> bool:
    """Whether a figure or date question asks of the year before the report's (县中前一年
    过二本线的有多少人?) and the sentence (folded) gives nothing of a past year as its own:
    not 去年, 上年 or the like, except compared with (较去年增长14.81个百分点 gives this
    year's figure and the change), nor a year the report is not of (``report_years``)."""
    if question.kind not in FIGURE_KINDS or not _own_mentions(YEAR_BEFORE, question.folded):
        return False
    dating = _named_years(folded) - set(COMPARED_YEAR.findall(folded))
    return not _own_mentions(PAST_YEAR, folded) and not (
        dating - report_years if report_years else dating)


def _named_years(folded: str) -> set[str]:
    """The years a folded text names, every year of a span included (2015-2017年)."""
    named = set(YEAR.findall(folded))
    for first, last in YEAR_SPAN.findall(folded):
        named.update(expand_years(f"{first}-{last}"))
    return named


def _own_mentions(pattern: re.Pattern[str], text: str) -> bool:
    """Whether ``text`` says ``pattern`` other than to compare with it (比前一年)."""
    return any(not COMPARED_PAST.search(text[max(0, match.start() - 2):match.start()])
               for match in pattern.finditer(text))


def asked_sides(words: tuple[str, ...]) -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    """The pairs of :data:`COUNTERPARTS` a question's words ask one side of, as (that side,
    its counterpart). A word names a side when it begins with it (民办幼儿园 names 民办;
    县中考上一本, cut 县/中/考上, names no 中考), and so does a run of one-character words
    that holds it (本一达线率, cut 本/一/达线率, names 本一)."""
    runs = "".join(word if len(word) == 1 else " " for word in words).split()

    def asks(side: tuple[str, ...]) -> bool:
        return any(word.startswith(name) for word in words for name in side) or any(
            name in run for run in runs for name in side)

    return tuple((one, other) for pair in COUNTERPARTS for one, other in (pair, pair[::-1])
                 if asks(one) and not asks(other))


def names_the_counterpart(question: Question, folded: str, heading: str = "") -> bool:
    """Whether a sentence (folded), with its section ``heading`` (folded), names the
    counterpart of something the question asks about (:data:`COUNTERPARTS`) and not the
    thing itself: 上半年 asked, 二、下半年工作打算 given."""
    if not question.counterparts:
        return False
    context = f"{heading} {folded}"

    def names(side: tuple[str, ...]) -> bool:
        return any(name in context for name in side)

    return any(names(other) and not names(one) for one, other in question.counterparts)


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


def only_numbers(question: Question) -> bool:
    """Whether a question has no word but numbers (or none): a number alone (``0``,
    ``2016``) occurs all over a corpus and says nothing of what is asked."""
    return all(DIGITS.fullmatch(term) for term in question.terms)


def has_cue(question: Question, folded: str) -> bool | None:
    """Whether a sentence holds the kind of thing the question asks for (None: the
    question's kind asks for nothing in particular)."""
    if question.kind == "number":
        return any(n not in question.numbers for n in DIGITS.findall(folded)) or bool(
            NUMBER.search(folded))
    if question.kind == "date":
        return bool(DATE.search(folded))
    if question.kind == "person":
        return bool(PERSON.search(folded))
    if question.kind == "place":
        return bool(PLACE.search(folded))
    return None


def coverage(question: Question, folded: str, heading: str, previous: str,
             body: str) -> tuple[float, float]:
    """Weighted share of the question's words found in or around a sentence (in it: 1; in
    its title, section or the sentence before: 0.6; elsewhere in its passage: 0.3), and
    the share of its focus words found in the sentence itself. A report's word for an
    everyday word of the question (:attr:`Question.synonyms`) counts as the word."""
    total = focus_total = found = focus = 0.0
    for term, weight in question.terms.items():
        total += weight
        in_focus = term in question.focus
        focus_total += weight if in_focus else 0.0
        if question.holds(folded, term):
            found += weight
            focus += weight if in_focus else 0.0
        elif question.holds(heading, term) or question.holds(previous, term):
            found += weight * 0.6
        elif question.holds(body, term):
            found += weight * 0.3
    return (found / total if total else 0.0), (focus / focus_total if focus_total else 0.0)
