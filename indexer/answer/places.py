"""Whether a text speaks of the places a question asks of, by the divisions both name
(:mod:`indexer.answer.divisions`): whether a report speaks of another place than the one
asked (:func:`names_another_place`) or is of that place by what it says of itself
(:func:`is_of_the_place_asked`), of another level than a county asked without its name
(:func:`of_another_level`), a sentence of its own place when other places are asked of
(:func:`lacks_other_places`), or one that names no place when which place is asked
(:func:`lacks_the_place_asked`)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from indexer.answer.divisions import cities_and_counties, places_in, provinces, spellings
from indexer.answer.names import without_people

if TYPE_CHECKING:
    from indexer.answer.question import Question

# A place a report masks (xx市, XXX区): the report may be of any city.
MASKED_PLACE = re.compile(r"[x×*]{1,3}[省市县区镇乡]")
# A place named only to be compared with (比丹阳低, 较镇江, 与丹阳比相差, 跟丹阳相比) is not
# the place a text speaks of: before it, 比 or 较; or 与, 和, 跟 or 同 with a comparison
# right after it (its 市/区 and a few characters in between: 与镇江市区比).
COMPARED_BEFORE = re.compile(r"(?:比|较|相较于?)$")
COMPARED_WITH = re.compile(r"(?:与|和|跟|同)$")
# 比 that compares: not 比例, 比率, 比赛, 比重, 比武, 比拼.
_BI = r"比(?![例率赛重武拼])"
COMPARED_AFTER = re.compile(rf"^.{{0,3}}?(?:相?{_BI}|相差|相较|持平|差距)")
# A question that compares (扬中的均分比句容高多少?, 两地差距多大?; not 评比) may be answered
# by a comparison with the place it names.
COMPARING = re.compile(rf"(?<!评){_BI}|相差|差距|差多少|落后|领先")
# A level of government a question asks of without naming the place (这个县, 那个县的…, 全区;
# not 县里, which also speaks of the county level in general: 教师归县里统一管), and how a
# report speaks of itself at a level (我县, 全县, 县委, 县教育局). County-level cities and
# prefectures alike call themselves 市, so 市 is asked of by no level; a report that speaks
# of itself as 市 alone is of none of the others.
_LEVELS = {"县": "县", "区": "区", "镇": "乡?镇", "乡": "乡(?!镇)"}  # 这个乡镇 asks of a town
ASKED_LEVEL = {level: re.compile(rf"(?:这个|那个|该|全|本|我){word}|{word}(?:教育局|委|政府|城)")
               for level, word in _LEVELS.items()}
SELF_LEVEL = {level: re.compile(rf"(?:我|全|本|该){level}|{level}(?:委|政府|教育局)")
              for level in "县区镇乡市"}
# How often a report speaks of itself at a level for the level to be its own, and how
# often a report that names its places names one (or its counties) for it to be its own.
SELF_LEVEL_MIN = 2
OWN_PLACE_MIN = 2
# How often a report must name one of a city's counties or districts, and more often than
# the city, to be that county's rather than the city's (句容's report: 句容 13 times, 镇江 6;
# not 002, which names 平度 twice among the counties it supports).
COUNTY_OWN_MIN = 5
# Places asked of without a name (其他县, 别的城市; not 特别的地方): places other than the
# report's own.
_PLACE_NOUN = r"(?:县市区|县区|县市|市县|县|市|区|乡镇|镇|乡|村|地方|城市|地区|省份?|国家)"
_OTHER = r"其他|其它|其余|(?<![特区分类个])别的|另外的?"
OTHER_PLACES = re.compile(rf"(?:{_OTHER})的?{_PLACE_NOUN}")
# What a text says of other places than its own (其他县, 兄弟县市, 周边地区, 各县区, 外省).
SPEAKS_OF_OTHERS = re.compile(rf"(?:{_OTHER}|兄弟|周边|各|外){_PLACE_NOUN}")
# What asks which city, county, district or province (哪个县?, 哪座大城市?, 建在哪个区?; not
# 哪个省级单位, 哪个区长): its answer names one.
ASKS_WHICH_PLACE = re.compile(r"哪(?:个|座|一个|一座|些|几个)?[大小]?(?:省|城市|市|县|区(?!域))"
                              r"(?![级长委里直属])")
# What asks which street or road (在哪条街上?, 哪条路): its answer names one (文昌路), read
# broadly (思路 counts: a rule that refuses on its absence must not miss one).
ASKS_WHICH_ROAD = re.compile(r"哪[一条]{0,2}(?:街|路|马路|大街|大道)|什么(?:街|路)")
ROAD = re.compile(r"[\u4e00-\u9fff\d]{1,8}(?:路|街|大道|巷|胡同|弄)")
# A division a text names by its full name, beyond the place table (平度市, 延吉市; three
# characters or more, so not 我县, 全市 or 城区).
NAMED_DIVISION = re.compile(r"[\u4e00-\u9fff]{2,}[省市县区州]")


def _named(place: str, text: str, comparing: bool = False) -> bool:
    """Whether ``text`` names ``place``, or one of its counties or districts: a report
    on 吴中 is a report on 苏州. Unless ``comparing`` (the question compares places), a
    place it names only to compare with (:func:`only_compared`) is not named."""
    if _names_itself(place, text, comparing):
        return True
    counties = cities_and_counties().counties.get(place, frozenset())
    # Segmenting is the costly part: only for a text that holds a county's name at all.
    return any(county in text for county in counties) and bool(counties & places_in(text))


def _names_itself(place: str, text: str, comparing: bool = False) -> bool:
    """Whether ``text`` (folded) names ``place`` itself, by its name or a nickname
    (:func:`indexer.answer.divisions.spellings`), other than only to compare with it
    (:func:`only_compared`) unless ``comparing``."""
    return any(name in text and (comparing or not only_compared(name, text))
               for name in spellings(place))


def only_compared(place: str, text: str) -> bool:
    """Whether every time ``text`` (folded) names ``place`` it compares with it: 句容's
    report gives "与丹阳比相差6.7分", the gap, not 丹阳's own average; a question "跟丹阳比,
    还落后多少" asks of its own place, not 丹阳."""
    starts = [match.start() for match in re.finditer(re.escape(place), text)]
    return bool(starts) and all(_compared_at(text, start, start + len(place))
                                for start in starts)


def _compared_at(text: str, start: int, end: int) -> bool:
    before, after = text[max(0, start - 3):start], text[end:end + 8]
    return bool(COMPARED_BEFORE.search(before)
                or (COMPARED_WITH.search(before) and COMPARED_AFTER.search(after)))


@functools.lru_cache(maxsize=64)
def _masked_report_cities(report: str) -> frozenset[str] | None:
    """For a report that masks its places (:data:`MASKED_PLACE`), the cities whose
    counties or districts it names (empty: its city cannot be told); None for a report
    that names its places."""
    if not MASKED_PLACE.search(report):
        return None
    cities = cities_and_counties().cities
    return frozenset(city for county in places_in(report) for city in cities.get(county, ()))


def of_a_masked_city(place: str, report: str) -> bool:
    """Whether ``place`` is the city of a ``report`` (folded) that masks it (xx市), by the
    counties the report names: 002 names 平度, so it is 青岛's. Not another county of that
    city (相城 of 吴中's report)."""
    return place in (_masked_report_cities(report) or ())


def names_another_place(question: Question, context: str, report: Callable[[], str]) -> bool:
    """Whether the question asks of a city, county, district or town that neither
    ``context`` (folded) nor its ``report`` (folded, asked for only when needed) names
    (:func:`_named`): a report on 句容 does not answer for 金坛, nor for 丹阳, which it
    names only to compare with, unless the question compares too; nor is a place the
    question compares with asked of (:func:`only_compared`). A report that masks its
    places may be of the place asked, unless the counties it names tell its city and the
    place is not that city nor one of its counties, or the place is a county beside one
    the report names (:func:`_beside_a_named_county`). Not a province, which reports also
    name by one character (援疆)."""
    asked, compared = _asked(question)
    comparing = bool(compared) or bool(COMPARING.search(question.folded))
    places = [name for name in asked
              if name not in compared and not _named(name, context, comparing)]
    if not places:
        return False
    text = report()
    places = [name for name in places if not _named(name, text, comparing)]
    own = _masked_report_cities(text)
    if own is None:
        return bool(places)
    cities = cities_and_counties().cities
    return (bool(own) and any(name not in own and not cities.get(name, frozenset()) & own
                              for name in places)) or (
        not (set(asked) - set(places)) and any(_beside_a_named_county(name, text)
                                               for name in places))


def _asked(question: Question) -> tuple[list[str], list[str]]:
    """The cities, counties, districts and towns a question names (not a province), and
    those of them it names only to compare with (:func:`only_compared`)."""
    asked = [name for name in question.specifics
             if not name.isdigit() and name not in provinces()]
    return asked, [name for name in asked if only_compared(name, question.folded)]


def _asked_of(question: Question) -> list[str]:
    """The places a question asks of: those it names (:func:`_asked`), less those it
    only compares with."""
    asked, compared = _asked(question)
    return [name for name in asked if name not in compared]


def is_of_the_place_asked(question: Question, report: Callable[[], str]) -> bool:
    """Whether a ``report`` (folded, asked for only when needed) is of the place the
    question asks of by what it says of itself, not only may be
    (:func:`names_another_place`): it speaks of itself at the level asked without a name
    (这个县: 我县, 全县; :func:`of_another_level`), and it is of each place asked. A report
    that names its places is of one it names, or names counties of, at least
    :data:`OWN_PLACE_MIN` times other than to compare (句容's report names 南京 once, for
    the schools it works with, and is not 南京's); one that masks them (xx市) is of the city
    its counties give and of those counties (002 of 青岛, by 平度). False for a question
    that asks of no place."""
    asked = _asked_of(question)
    levels = _asked_levels(question)
    if not asked and not levels:
        return False
    text = report()
    if levels and not levels & _self_levels(text):
        return False
    return all(_own_place(name, text) for name in asked)


def names_the_places_asked(question: Question, context: str) -> bool:
    """Whether a passage (``context``, folded, with its headings) names every place the
    question names and asks of, other than to compare (False when it names none)."""
    asked = _asked_of(question)
    return bool(asked) and all(_names_itself(place, context) for place in asked)


@functools.lru_cache(maxsize=256)
def _own_place(place: str, report: str) -> bool:
    """Whether a report (folded) is of ``place``: see :func:`is_of_the_place_asked`. The
    same for every passage of the report, so worked out once."""
    divisions = cities_and_counties()
    masked_cities = _masked_report_cities(report)
    if masked_cities is not None:
        return of_a_masked_city(place, report) or (
            bool(divisions.cities.get(place, frozenset()) & masked_cities)
            and place in places_in(report))
    names = {*spellings(place)} | divisions.counties.get(place, frozenset())
    return sum(_own_mentions(name, report) for name in names if name in report) \
        >= OWN_PLACE_MIN


def _own_mentions(place: str, text: str) -> int:
    """How many times ``text`` (folded) names ``place`` other than to compare with it."""
    return sum(1 for match in re.finditer(re.escape(place), text)
               if not _compared_at(text, match.start(), match.end()))


def _beside_a_named_county(place: str, report: str) -> bool:
    """Whether ``place`` is a county or district of a city that a masked ``report``
    (folded) names another county or district of: 吴中's report (XX市, XX区) names 吴中 and
    not 昆山, both of 苏州, so it is 吴中's and not 昆山's. The question then names no place
    the report names (新密市白寨镇…: 白寨 is named, so its XX市 may be 新密)."""
    divisions = cities_and_counties()
    siblings = {county for city in divisions.cities.get(place, frozenset())
                for county in divisions.counties.get(city, frozenset())} - {place}
    return bool(siblings & places_in(report))


def lacks_other_places(question: Question, folded: str) -> bool:
    """Whether the question asks of places other than the report's own without naming
    them (其他县的本二上线人数是多少?) and the sentence (folded) says nothing of other
    places (:data:`SPEAKS_OF_OTHERS`): a report's own figure is not theirs. A question that
    compares with them (比其他县高多少?) asks of its own place."""
    return (bool(OTHER_PLACES.search(question.folded))
            and not COMPARING.search(question.folded)
            and not SPEAKS_OF_OTHERS.search(folded))


def of_a_county_of_the_city_asked(question: Question, context: str,
                                  report: Callable[[], str]) -> bool:
    """Whether the question asks of a city (one with counties or districts: 镇江, 苏州) by
    its name alone, not by one of its counties nor by a level (这个县: :data:`ASKED_LEVEL`),
    and the ``report`` (folded, asked for only when needed) is of one of the city's
    counties or districts (:func:`_of_a_county`): "镇江今年高考本二达线率是多少?" is not
    answered by 句容's 56.9%, nor 苏州's by 吴中's 1058人.

    A figure of such a report is the county's even in a passage (``context``, folded)
    that names the city: it does so as the level of a title or a prize (1个镇江市课程基地,
    荣获沧州市…奖, 在镇江市级以上主流媒体发稿40余篇). Another question may be answered by
    a passage that names the city other than to compare ("平原省在哪一年改属为山东省聊城专区?"
    of a county's article). A question that names the county too (镇江句容…) may be
    answered from it: :func:`is_of_the_place_asked` takes a county's report as of its
    city."""
    asked = _asked_of(question)
    counties = cities_and_counties().counties
    cities = [name for name in asked if counties.get(name)]
    if not cities or _asked_levels(question):
        return False
    if any(counties[city] & set(asked) for city in cities):
        return False
    if question.kind != "number":
        cities = [city for city in cities if not _names_itself(city, context)]
    return any(_of_a_county(city, report()) for city in cities)


@functools.lru_cache(maxsize=256)
def _of_a_county(city: str, report: str) -> bool:
    """Whether a report (folded) is of a county or district rather than of ``city``: it
    speaks of itself as a county or district more often than as a city (003: 我县, 全县;
    004: 全区), or it names one of the city's counties at least :data:`COUNTY_OWN_MIN` times
    and more often than the city, other than to compare (句容's report)."""
    said = _self_level_counts(report)
    if said["县"] + said["区"] > said["市"]:
        return True
    own = sum(_own_mentions(name, report) for name in spellings(city))
    return any(_own_mentions(county, report) >= max(COUNTY_OWN_MIN, own + 1)
               for county in cities_and_counties().counties.get(city, frozenset())
               if county in report)


def of_another_level(question: Question, report: Callable[[], str]) -> bool:
    """Whether the question asks of a county, district, town or township it does not name
    (:data:`ASKED_LEVEL`: 那个县的小学有多少所?) and the ``report`` (folded, asked for only
    when needed) speaks of itself at other levels only (:data:`SELF_LEVEL`): 句容's report
    says 我市 and 全市, never 我县, so it is not the county asked of. A report that speaks
    of itself at no level may be of any."""
    asked = _asked_levels(question)
    if not asked:
        return False
    own = _self_levels(report())
    return bool(own) and not own & asked


def _asked_levels(question: Question) -> set[str]:
    """The levels a question asks of without a name (:data:`ASKED_LEVEL`: 这个县 → 县)."""
    return {level for level, pattern in ASKED_LEVEL.items() if pattern.search(question.folded)}


@functools.lru_cache(maxsize=64)
def _self_level_counts(report: str) -> dict[str, int]:
    """How often a report (folded) speaks of itself at each level (:data:`SELF_LEVEL`)."""
    return {level: len(pattern.findall(report)) for level, pattern in SELF_LEVEL.items()}


def _self_levels(report: str) -> frozenset[str]:
    """The levels a report (folded) speaks of itself at, at least :data:`SELF_LEVEL_MIN`
    times each (004 both 区 and 镇: 吴中区 and 白寨镇)."""
    return frozenset(level for level, count in _self_level_counts(report).items()
                     if count >= SELF_LEVEL_MIN)


def lacks_the_place_asked(question: Question, folded: str) -> bool:
    """Whether the question asks which city, county, district or province
    (:data:`ASKS_WHICH_PLACE`) and the sentence (folded) names no place but those the
    question names: none of the place table, no masked one (xx市), no division by its full
    name (:data:`NAMED_DIVISION`) and, for a city or province, no word jieba tags as a
    place name (莫斯科, 罗斯托夫: places abroad; not for a county or district, which jieba's
    tags would find in 深度 or 英雄). "这份总结写的是哪个县?" is not answered by "…表明我县学
    校管理水平…". A person's name is no place (鲁云龙同学:
    :func:`indexer.answer.names.without_people`). Nor is a question asking which street
    (:data:`ASKS_WHICH_ROAD`) answered by a sentence that names no road."""
    if ASKS_WHICH_ROAD.search(question.folded) and not ROAD.search(folded):
        return True
    asked = ASKS_WHICH_PLACE.search(question.folded)
    if asked is None:
        return False
    folded = without_people(folded)
    if places_in(folded) - question.specifics or MASKED_PLACE.search(folded):
        return False
    abroad = not asked.group().endswith(("县", "区"))
    return not any(((abroad and flag.startswith("ns")) or NAMED_DIVISION.fullmatch(word))
                   and len(word) > 1 and word not in question.folded
                   for word, flag in _tagger().cut(folded))


@functools.cache
def _tagger():
    """jieba's part-of-speech tagger over the segmenter's dictionary, made once."""
    from jieba.posseg import POSTokenizer

    from indexer.text.analysis import _segmenter

    return POSTokenizer(_segmenter().jieba)
