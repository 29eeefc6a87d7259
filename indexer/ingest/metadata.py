"""What a report says about itself: title, issuing body, region, years, date and kind.

Only what the text shows is taken; unknown stays ``None``. Placeholder names left by
the sites that published these reports (``xxxx市``, ``XX区``, ``*年``) are unknown. The
one exception is the title: a report always gets a name to be shown by
(``display_title``), its opening words when it has no title line.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from indexer.ingest.segment import heading_level, heading_marker_end
from indexer.records import ReportMetadata

# Kinds of report, most specific first; matched in simplified and traditional script.
KINDS: list[tuple[str, re.Pattern[str]]] = [
    ("半年总结", re.compile(r"(上|下)?半年(工作)?(总结|總結|工作情[况況])")),
    ("工作要点", re.compile(r"工作要[点點]")),
    ("工作设想", re.compile(r"工作(设想|設想|打算|思路)")),
    ("工作计划", re.compile(r"工作(计划|計劃)")),
    ("工作总结", re.compile(r"(总结|總結)")),
    ("工作报告", re.compile(r"工作(报告|報告)")),
]
PLACEHOLDER = re.compile(r"^[xX×*＊○□]+|[xX×*＊]{2,}")
PLACE = r"[\u4e00-\u9fff]{2,6}?(?:省|市|县|縣|区|區|州|旗|镇|鎮)"
BODY = r"(?:人民政府)?(?:教育局|教育厅|教育廳|教育委员会|教委|教育体育局|教体局)"
ISSUER = re.compile(rf"({PLACE}{BODY})")
REGION_IN_ISSUER = re.compile(rf"^({PLACE})")
YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:年|\s*-\s*\d)")
TITLE_HINT = re.compile(r"(总结|總結|要点|要點|设想|設想|计划|計劃|报告|報告|打算|意见|意見|方案)")
SECTION_DATE = re.compile(r"^\d{6,8}$|^\d{4}年\d{1,2}月(\d{1,2}日)?$")
FRONT_MATTER_LINES = 8
# A report that speaks of itself as 我县 / 本市 … is about a place of that kind.
SELF_REFERENCE = {"县": "我县|我縣|本县|本縣", "市": "我市|本市", "区": "我区|我區|本区|本區"}
SUFFIXES = {"县": "县縣", "市": "市", "区": "区區"}
LEAD_YEAR = re.compile(r"^(?:回顾|回顧|在|截至)?((?:19|20)\d{2})年(?!以来|以來|起|前)")
UNTITLED = "（无标题）"
NAME_MAX_CHARS = 30
NAME_MIN_CHARS = 8
CLAUSE_MARKS = "，,、；;：:"


def _front_lines(text: str) -> list[str]:
    """The non-empty lines before the first heading or body paragraph, at most a few."""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if heading_level(stripped) is not None or len(lines) >= FRONT_MATTER_LINES:
            break
        lines.append(stripped)
    return lines


def find_title(text: str, hints: list[str]) -> str | None:
    """The report's title: its own opening lines (joined if broken), else a page hint."""
    front = _front_lines(text)
    for index, line in enumerate(front):
        if len(line) > 60 or not TITLE_HINT.search(line) and not line.endswith("和"):
            continue
        title = line
        # A title broken over two lines: "…2016年工作总结和" / "2017年工作设想".
        if title.endswith(("和", "与", "及", "暨")) and index + 1 < len(front):
            title += front[index + 1]
        return title
    for hint in hints:
        title = re.sub(r"^【|】$|(范文|範文)$", "", hint.strip())
        if title and TITLE_HINT.search(title) and not PLACEHOLDER.search(title):
            return title
    return None


def find_issuer(title: str | None, text: str) -> str | None:
    """The issuing body, named in the title or on a line of the front matter."""
    candidates = [title or ""] + _front_lines(text)
    for candidate in candidates:
        match = ISSUER.search(candidate)
        if match and not PLACEHOLDER.search(match.group(1)):
            return match.group(1)
    return None


def find_region(issuer: str | None, title: str | None, text: str = "") -> str | None:
    """The region a report is about: the place in its issuer's or title's name, else the
    one its body names as the seat of an education bureau or government and speaks of
    as its own (``_region_in_body``)."""
    for candidate in (issuer, title):
        if not candidate:
            continue
        match = REGION_IN_ISSUER.match(re.sub(r"^(?:19|20)\d{2}年度?", "", candidate))
        if match and not PLACEHOLDER.search(match.group(1)):
            return match.group(1)
    return _region_in_body(text)


def _region_in_body(text: str) -> str | None:
    """The one place of the kind a report calls its own ("我县") that its body names at
    least twice, once as the seat of a bureau ("丰县教育局"); several, or none, is unknown.
    """
    found: set[str] = set()
    for kind, words in SELF_REFERENCE.items():
        if not re.search(words, text):
            continue
        # The place starts after a non-Chinese character (or a year): "，丰县教育局".
        mention = re.compile(rf"(?<![\u4e00-\u9fff])(?:(?:19|20)\d{{2}}年度?)?"
                             rf"([\u4e00-\u9fff]{{1,6}}?[{SUFFIXES[kind]}]){BODY}")
        for match in mention.finditer(text):
            place = match.group(1)
            if not PLACEHOLDER.search(place) and text.count(place) >= 2:
                found.add(place)
    return found.pop() if len(found) == 1 else None


def find_years(title: str | None, text: str) -> str | None:
    """The year or years a report covers, from its title, else from its opening lines."""
    sources = [title] if title else []
    sources += [line for line in _front_lines(text)[:1]]
    for source in sources:
        years = sorted({int(y) for y in YEAR.findall(source)})
        if years:
            return str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"
    # The year its first sentence opens with: "2016年,全市…", "2017年上半年，我局…".
    match = LEAD_YEAR.match(_lead_paragraph(text))
    return match.group(1) if match else None


def _lead_paragraph(text: str) -> str:
    """The first line that reads as body text (not a heading, title or date line)."""
    lines = (line.strip() for line in text.splitlines() if line.strip())
    for _, line in zip(range(FRONT_MATTER_LINES), lines, strict=False):
        if heading_level(line) is None and (len(line) > 60 or re.search("[，,。]", line)):
            return line
    return ""


def display_title(title: str | None, text: str, source: str) -> str:
    """The name a report is shown by: its title, else its opening heading or sentence,
    shortened at a clause (``…``), else "（无标题）" and its file name."""
    if title:
        return title
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    opening = re.split(r"[。！？；!?;]", first[heading_marker_end(first):].lstrip(" :：、.．"),
                       maxsplit=1)[0]
    opening = opening.strip().rstrip(CLAUSE_MARKS)
    if len(opening) > NAME_MAX_CHARS:
        cut = max(opening.rfind(mark, 0, NAME_MAX_CHARS) for mark in CLAUSE_MARKS)
        opening = opening[:cut if cut >= NAME_MIN_CHARS else NAME_MAX_CHARS] + "…"
    return opening if len(opening) > 1 else f"{UNTITLED}{PurePath(source).name}"


def find_kind(title: str | None, text: str) -> str | None:
    """The kind of report, from its title, else from its top-level headings."""
    if title:
        # "…2016年工作总结和2017年工作设想" is first of all a 工作总结: the earliest kind wins.
        found = [(match.start(), kind) for kind, pattern in KINDS
                 if (match := pattern.search(title))]
        if found:
            return min(found)[1]
    headings = [line.strip() for line in text.splitlines() if heading_level(line.strip()) == 1]
    for kind, pattern in KINDS:
        if any(pattern.search(heading) for heading in headings[:2]):
            return kind
    return None


def extract(text: str, found: dict[str, str], source_meta: dict,
            source: str = "") -> ReportMetadata:
    """Read a report's metadata from its cleaned text and what its page furniture told;
    ``source`` (its file) names a report that has nothing better to be called by."""
    hints = [str(source_meta[key]) for key in ("title",) if source_meta.get(key)]
    hints += [found[key] for key in ("page_title",) if found.get(key)]
    title = find_title(text, hints)
    issuer = find_issuer(title, text)
    published = found.get("published") or source_meta.get("published")
    return ReportMetadata(
        title=display_title(title, text, source),
        title_from_text=not title,
        issuer=issuer,
        region=find_region(issuer, title, text),
        year=find_years(title, text),
        kind=find_kind(title, text),
        published=str(published) if published else None,
    )
