"""What a figure or date question counts, and whether a sentence writes it: a sum in 元
for 多少钱, a count of people for 多少人, a count in 辆 for 多少辆校车, a date for 哪一年.

A sentence that gives another figure (248套 for 多少辆, 14.81个百分点 for 多少分) does not
answer: these checks let the answer step refuse it (:mod:`indexer.answer.extract`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from indexer.answer.places import COMPARING
from indexer.ingest.segment import heading_marker_end

if TYPE_CHECKING:
    from indexer.answer.question import Question

# What asks for a calendar date (哪一年, 几月; not 哪个年级): a date question, and the
# measure its answer must hold.
ASKS_CALENDAR = r"哪[一个]?年(?!级)|哪[一个]?天|哪[一几]?个?月|几月|几号|几日|何年|日期|年份"
DATE = re.compile(r"(?<!\d)\d{1,4}年|\d{1,2}月|\d{1,2}日|年[初底末]|[上下]半年|[春秋]季|月份"
                  r"|[一二三四五六七八九十]+月|暑期|寒假|暑假|学期|今年|明年|去年|年内")
# What asks for a day (哪天, 几月几号), and any word a day may be given in (9月1日, 次日,
# 周六, 元宵节, 除夕), read broadly: 年底前 does not say which day.
ASKS_DAY = re.compile(r"哪一?天|几月几|几号|哪日|几日")
DAY = re.compile(r"[日号天节夕]|周[一二三四五六日末]|星期|礼拜")
# What asks for a year (哪一年, 何年; not 哪个年级, 哪个年代), and any word a year may be
# given in: 2016年, 二〇一六年, 民国元年, 去年, 同年, 1990年代, 十九世纪; not a masked one
# (xx年), nor 新世纪.
ASKS_YEAR = re.compile(r"哪[一个]?年(?![级龄代])|何年|年份")
YEAR_GIVEN = re.compile(r"(?<![xX×*])[\d〇○零一二三四五六七八九十百千两]+(?:年|世纪)"
                        r"|[元去今明前后同次当翌隔初末]年")
# What asks when something is yet to happen (什么时候能盖好?, 打算什么时候发下去?), and any
# word its time may be given in (年底前, 9月1日, 尽早, 下学期, 受惊吓时, 四十亿年后; 已 when
# it has happened).
ASKS_WHEN_AHEAD = re.compile(r"(?:什么时候|何时|啥时候?|几时|哪天)(?:能|会|可以|要(?!求)|将)"
                             r"|(?:打算|准备|预计|将要|将会)[^,，]{0,12}(?:什么时候|何时|啥时候?|几时)")
TIME_GIVEN = re.compile(rf"{DATE.pattern}|{DAY.pattern}|[月季期][底初末]|底前|之前|以前|之后|以后"
                        r"|期间|尽早|尽快|近期|即将|届时|随后|时|年代|世纪|凌晨|早上|上午|中午"
                        r"|下午|晚上|傍晚|夜|[年月天周][前后内]|已")
# What asks for a figure outright (多少人, 多少钱, 占多少): its answer gives one.
ASKS_FIGURE = re.compile(r"多少")
# 几 asks for one too (结成了几个共同体?, 集体学习了几回?), in a number question that asks
# nothing else: not 第几, 那几, 星期几, 几乎, 几种, 几类, 几等, 几个方面, whose answer may be a
# list or a name, nor beside 哪, 什么 or 怎么 (有几所,都是哪几所?).
ASKS_FEW = re.compile(r"(?<![第那这哪星期拜])几(?![乎种类样等]|个?方面)")
ASKS_OTHERWISE = re.compile(r"哪|什么|啥|谁|怎|如何|为何|为什么|是否|是不是|吗")
# Any figure, in digits or in words (一半, 二十二行省, 三年一轮), read broadly: a rule that
# refuses on its absence must not miss one.
FIGURE = re.compile(r"\d|[一二三四五六七八九十两百千万亿半]")
# A school grade names a year of school, not a quantity: 一年能领多少助学金? is not answered
# by "资助…一、二年级涉农专业学生". Other ordinals may answer (排名多少 → 第三; 办了多少届
# → 第七届), and 高三 may be 提高三个百分点.
GRADE = re.compile(r"[一二三四五六七八九十\d、]+年级")
# Nor do words that hold a number word but count nothing: 进一步推进, 统一, 一体化, 十分
# ("very"), 千方百计, 老百姓, a prize's grade (几个一等奖 is not answered by 我市获xx个一等奖,
# whose count is masked), 一年来 ("over the past year").
NO_FIGURE = re.compile(r"进一步|统一|一体|一起|一些|一定|一直|一切|一致|一贯|唯一|一般|一同|一律"
                       r"|一年来|同一|一流|一线|一方面|一系列|十分(?!之)|千方百计|百姓|万众"
                       r"|[一二三四五六七八九]等奖")
# What a number question counts, or the calendar date a date question asks for, by its
# words, and how a sentence writes it (checked in this order: 比例 before 人数). 多少钱
# wants 元, not 所; 哪几所 names, not counts; 哪一年 wants a date (什么时候 may be 受惊吓时).
# 几个放映员 counts people, 几个学科的老师 counts 学科; a count in 个 is of institutions only
# before their name (19个乡镇中心校, not 2000余个 cameras).
AMOUNT = r"(?:\d+(?:\.\d+)?|[一二三四五六七八九十两百千]+)\s*(?:多|余)?"
# A number of points: not 十分 ("very") or the 百分 of 百分点, 百分之, 百分比.
POINTS = (r"(?:\d+(?:\.\d+)?\s*|[一二三四五六七八九十两百千]*[一二三四五六七八九两][十百千]?)"
          r"(?:多|余)?分(?![点之比])")
# 第几 asks for a place in a ranking (排第几位 → 第一, 首位), not for how many.
COUNT = r"(?<![哪第])(?:多少|几)"
# How a sentence writes a share (56.9%, 百分之, 过半, 三成, 1:1).
SHARE = (AMOUNT + r"%|百分之|一半|半数|过半|\d+成|[一二三四五六七八九]成"
         r"|\d+\s*[:：]\s*\d+")
# A change in a share is given in points (较去年增长23个百分点), which answer a question on
# how the share changed (涨了多少, :data:`ASKS_GAP`) but not one on the share itself.
SHARE_OR_POINTS = re.compile(SHARE + "|" + AMOUNT + r"个?百分点")
# Who a count of people may count, besides 人, 学生 and 老师 (多少观众, 几位家长).
PEOPLE = r"观众|家长|居民|市民|群众|农民|职工|干部|儿童|幼儿|考生|毕业生|新生|志愿者|党员|村民|选手"
MEASURES: list[tuple[str, re.Pattern[str], re.Pattern[str]]] = [
    ("calendar", re.compile(ASKS_CALENDAR), DATE),
    ("percent", re.compile(r"比例|比率|百分|占比|[^效]率|几成"), re.compile(SHARE)),
    ("money", re.compile(COUNT + r"[万亿]?(?:钱|元|块)|经费|资金|费用|投入|投资|花了|花费|工资|补贴"
                         r"|补助|津贴|奖金|学费|金额|预算|拨款|收费"),
     re.compile(AMOUNT + r"(?:万|亿)?(?:美|港|欧|日|英)?(?:元|镑)")),
    ("score", re.compile(COUNT + r"分|分数|均分|考了多少"), re.compile(POINTS)),
    # 多大: a building, a fish, a child (not 多伦多大学).
    ("size", re.compile(r"面积|多大(?!学)|平方|" + COUNT + "亩"),
     re.compile(AMOUNT + r"\s*万?(?:平方米|平米|平方公里|平方千米|km²|m²|亩|公顷|公里|千米|公尺|米"
                         r"|岁)")),
    ("people", re.compile(COUNT + r"万?[个名位]?(?:人|学生|老师|教师|孩子|校长|员|名(?!额)|位|"
                          + PEOPLE + r")|" + COUNT + r"[个名位](?:(?!的)[\u4e00-\u9fff]){1,3}?"
                          r"(?:员|老师|教师|学生|校长)"
                          r"|人数|人次"),
     re.compile(AMOUNT + r"万?(?:人|名|位)")),
    ("institutions", re.compile(COUNT + r"(?:[所家]|个?(?:学校|幼儿园|园|校|机构|单位|中心"
                                r"|基地))"),
     re.compile(AMOUNT + r"(?:所|家|个[^，,。；;、]{0,6}?(?:学校|校|园|中心|基地|机构|单位))")),
]
# The classifiers a count of things is written in, each with those that may stand for it
# (多少台电脑: 1160台 or 248套). Not 个, 次, 项 or 条, which count anything in any way, nor
# 块 (多少块 asks money).
CLASSIFIERS = ("辆", "台套", "架", "部", "本册", "座栋幢", "场期届轮", "支", "张", "间", "艘",
               "件", "头只", "棵株", "篇", "首", "批", "门", "节", "层")
# 多少 and a classifier (多少辆校车, 多少支队伍), the count of things a question asks for.
# Not 几, which also asks how many kinds (几层 → 三级足球联赛, 几场 → 5项行动).
ASKS_COUNTED = re.compile(r"多少[万千百亿]?([" + "".join(CLASSIFIERS) + "])")
# A question that asks how many there are in all (全县有多少所幼儿园?, 一共有多少个中小学老师?):
# 有多少 or 有几 and what is counted, after a subject with no verb of its own (…的, 了, 过:
# 考过一本的有多少人 asks how many passed, an event) and before nothing more (有几个老师评上了…,
# 有多少名教师参加培训).
ASKS_TOTAL = re.compile(r"^[^的了过被把,，]*?有(?:多少|几)(?!.*(?:参加|参与|获|评|考|招|培训|入选"
                        r"|报名|录取|毕业|接受|享受|就读|上榜|当选|拿))"
                        r"[万千百]?[^的了过被把在得着到,，?？]{1,8}[?？]*$")
# A place a question asks of without its name, and its 的 (这个县的, 全市的).
OWN_PLACE_OF = re.compile(r"^(?:这个|那个|该|全|本|我)[省市县区镇乡村]的")
# What makes a figure a change or a plan, not a total: 新增…27名, 计划新改扩建的8所,
# 19所学校正在…建设中, 评出…10名, 依法批办民办幼儿园6所.
CHANGE = re.compile(r"新增|新建|新招|新聘|招聘|新改扩建|改扩建|扩建|新开|新设|增加|增长|减少"
                    r"|计划|拟|将(?!近)|正在|在建|建设中|投入使用|启用|建成|竣工|开工"
                    r"|评出|评选|认定|获评|新评|培训|提拔|批办|批准|审批|获批|新批")
CLAUSE = re.compile(r"[，,；;。]")
# A question that asks how two figures compare (:data:`indexer.answer.places.COMPARING`:
# 比镇江城里低几分, not 比例) or how one changed (涨了多少, 差多少, 翻了一番): a gap answers it.
ASKS_GAP = re.compile(rf"{COMPARING.pattern}|差|高出|低(?!保)|多了|少了|多出|涨|跌|增|降|提高|提升"
                      r"|缩小|扩大|翻|超|变化")
# What makes a figure a gap, not a level: a word of comparing or changing before it in its
# clause (相差34.5分, 缩小了15.2分, 较去年增长14.81个百分点, 超出全省平均水平15个百分点), but
# not one that gives the level reached (提高到, 增长至, 达到).
GAP = re.compile(r"(?:相差|差距|高出|低出|多出|领先|落后|超出|高于|低于|提高|增长|增加|上升"
                 r"|提升|下降|降低|减少|缩小|扩大|增幅|涨|降)(?![到至为])")
# The measures a gap stands beside rather than for: a score, a share, a sum.
LEVELS = ("score", "percent", "money")
# What counts an exam's passers (本二上线人数…达856人, 达线人数1058人, 录取), and what asks
# of an exam or its results: a count of passers answers only a question about an exam.
PASSED = re.compile(r"上线|达线|过线|录取|考取|考入|考上")
ASKS_EXAM = re.compile(r"考|上线|达线|过线|录取|升学|一本|二本|本一|本二|分数线")
# What asks for a sum in all (一共, 花了, 投入了, 发了), and what makes a sum a rate per one
# (每生每年600元, 生均, 按500元标准): a rate does not say what was spent in all.
ASKS_SUM = re.compile(r"一共|总共|共计|总计|合计|累计|总额|总投入|花了|花费了|投入了|投了|拨了"
                      r"|发了|发放了")
# For each one (每生, 每所, 每个农村学校, 生均, 平均每; not per a period,
# :mod:`indexer.answer.periods`); 按500元标准 gives a rate per one too.
EACH = r"每一?[个所名位人生校村户班家间]|[生人校]均|平均每"
PER_ONE = re.compile(rf"{EACH}|标准")
# What a sum is spent on, after it in its clause (70万元用于购置音美器材, 投入1.1亿元用于…).
SPENT_ON = re.compile(r"用于([^，,；;。]{2,16})")
# A clause that goes on with the one before it, whose figure is of what that one counts
# (…本二上线人数突破800大关,达856人).
GOES_ON = re.compile(r"^(?:达到?|共计?|合计|计|为|约|近|超过?)")


def has_measure(question: Question, folded: str) -> bool | None:
    """Whether a sentence holds a number of what the question counts (money in 元, people
    in 人/名, a share in %) or the date it asks for (None: the question asks for nothing
    in particular)."""
    written = written_as(question)
    return None if written is None else bool(written.search(folded))


def written_as(question: Question) -> re.Pattern[str] | None:
    """How a sentence writes what the question counts or dates (its measure's pattern of
    :data:`MEASURES`; a share asked how it changed in points too, :data:`SHARE_OR_POINTS`),
    or None for a question without a measure."""
    if question.measure == "percent" and ASKS_GAP.search(question.folded):
        return SHARE_OR_POINTS
    return next((pattern for name, _, pattern in MEASURES if name == question.measure), None)


def lacks_figure(question: Question, folded: str) -> bool:
    """Whether a question asks 多少 (or 几: :data:`ASKS_FEW`) and a sentence (folded)
    gives no figure at all: not one digit or number word after the list item's number it
    may open with (四是…, （三）…: :func:`indexer.ingest.segment.heading_marker_end`),
    besides those of a school grade (:data:`GRADE`) and of words that count nothing
    (:data:`NO_FIGURE`)."""
    text = folded[heading_marker_end(folded):]
    return asks_figure(question) and not FIGURE.search(NO_FIGURE.sub("", GRADE.sub("", text)))


def lacks_day(question: Question, folded: str) -> bool:
    """Whether a question asks for a day (:data:`ASKS_DAY`) and a sentence (folded) holds
    no word a day may be given in (:data:`DAY`): 句容的教育大会是几月几号开的? is not answered
    by …将在年底前陆续开工. A rule beside the calendar measure, not a finer measure: the
    measure is a feature of the answer model, which a new one would change."""
    return bool(ASKS_DAY.search(question.folded)) and not DAY.search(folded)


def lacks_a_year(question: Question, folded: str) -> bool:
    """Whether a question asks for a year (:data:`ASKS_YEAR`), not a day, and a sentence
    (folded) gives none (:data:`YEAR_GIVEN`): 戏迷俱乐部是哪一年成立的? is not answered by
    "xx年5月4日下午…", whose year the report masks."""
    return (bool(ASKS_YEAR.search(question.folded)) and not ASKS_DAY.search(question.folded)
            and not YEAR_GIVEN.search(folded))


def lacks_time(question: Question, folded: str) -> bool:
    """Whether a question asks when something is yet to happen (:data:`ASKS_WHEN_AHEAD`)
    and a sentence (folded) holds no word its time may be given in (:data:`TIME_GIVEN`):
    新的盲校什么时候能盖好? is not answered by …盲校新校完成立项审批. Not a question of
    what has happened, whose answer may be an event (什么时候 → 战国时期)."""
    return (question.kind == "date" and bool(ASKS_WHEN_AHEAD.search(question.folded))
            and not TIME_GIVEN.search(folded))


def asks_figure(question: Question) -> bool:
    """Whether a question asks for a figure outright: 多少, or 几 in a number question
    that asks nothing else (:data:`ASKS_FEW`)."""
    asked = question.folded
    return bool(ASKS_FIGURE.search(asked)) or (
        question.kind == "number" and bool(ASKS_FEW.search(asked))
        and not ASKS_OTHERWISE.search(asked))


def asked_measure(folded: str, kind: str | None) -> tuple[str | None, str | None]:
    """What a folded figure or date question counts or dates: the name of one of
    :data:`MEASURES`, or the classifiers its count of things is written in (多少辆校车 →
    辆), or neither.

    The words right after 多少 or 几 say it first (投入了多少辆车 counts 辆, 投入多少名教师
    counts people), then a word for what is measured (经费, 投入, 面积, 人数: the first of
    :data:`MEASURES` to name one). A date question asks only for a date."""
    found = [(name, [match.group() for match in asks.finditer(folded)])
             for name, asks, _ in MEASURES if (name == "calendar") == (kind == "date")]
    explicit = next((name for name, asked in found
                     if any(words.startswith(("多少", "几")) for words in asked)), None)
    if explicit is not None:
        return explicit, None
    counted = ASKS_COUNTED.search(folded) if kind == "number" else None
    if counted is not None:
        return None, next(group for group in CLASSIFIERS if counted.group(1) in group)
    return next((name for name, asked in found if asked), None), None


def lacks_count(question: Question, folded: str) -> bool:
    """Whether a question asks how many of a thing (:attr:`Question.counted_in`) and a
    sentence (folded) counts nothing in its classifiers: 248套 and 1160台 do not say how
    many 辆 of school bus there are."""
    return question.counted_in is not None and not _count_in(question.counted_in).search(folded)


def counted_as(question: Question) -> re.Pattern[str] | None:
    """How a sentence writes what a number question counts: its measure (:func:`written_as`)
    or its count in classifiers (:func:`_count_in`); None for a question that says
    neither."""
    written = written_as(question)
    if written is not None or question.counted_in is None:
        return written
    return _count_in(question.counted_in)


def _count_in(classifiers: str) -> re.Pattern[str]:
    """How a count in ``classifiers`` is written (248套, 1160台 for 台套)."""
    return re.compile(AMOUNT + r"[万千百亿]?[" + classifiers + "]")


def gives_only_changes(question: Question, folded: str) -> bool:
    """Whether a question asks how many there are in all (:data:`ASKS_TOTAL`) and every
    clause of a sentence (folded) that gives a figure of what it counts (any figure, for a
    question that names no measure) gives a change or a plan (:data:`CHANGE`): "新增…学科
    带头人27名,评出…知名教师10名" does not say how many teachers there are."""
    if question.kind != "number" or not asks_total(question):
        return False
    held = figure_clauses(folded, counted_as(question) or FIGURE)
    return bool(held) and all(CHANGE.search(clause) for clause, _ in held)


def asks_total(question: Question) -> bool:
    """Whether a question asks how many there are in all (:data:`ASKS_TOTAL`), after the
    place it asks of and its 的 (吴中的民办学校有多少所?, 这个县的…): a place is no verb."""
    asked = question.folded
    for place in sorted((p for p in question.specifics if not p.isdigit()), key=len,
                        reverse=True):
        if asked.startswith(place + "的"):
            asked = asked[len(place) + 1:]
            break
    asked = OWN_PLACE_OF.sub("", asked, count=1)
    return bool(ASKS_TOTAL.search(asked))


def gives_only_gaps(question: Question, folded: str) -> bool:
    """Whether a question asks for a level (a score, a share or a sum: :data:`LEVELS`,
    not how it compares, :data:`ASKS_GAP`) and every clause of a sentence (folded) that
    gives a figure of it gives a gap (:data:`GAP`): "镇江市区的孩子中考平均考多少分?" is not
    answered by "…我市中考均分与镇江市区比相差34.5分,较…缩小了15.2分"."""
    if question.measure not in LEVELS or ASKS_GAP.search(question.folded):
        return False
    figure = written_as(question)
    held = figure_clauses(folded, figure)
    return bool(held) and all(_gap_before_figure(clause, figure) for clause, _ in held)


def counts_only_passers(question: Question, folded: str) -> bool:
    """Whether a question counts people and asks of no exam (:data:`ASKS_EXAM`), and every
    clause of a sentence (folded) that counts people counts an exam's passers
    (:data:`PASSED`, in the clause or, when it goes on from it, :data:`GOES_ON`, the one
    before): "這個縣的船員培訓一年培養多少人?" is not answered by "…本二上线人数突破800大关,
    达856人,本一上线人数312人"."""
    if question.measure != "people" or ASKS_EXAM.search(question.folded):
        return False
    held = figure_clauses(folded, written_as(question))
    return bool(held) and all(
        PASSED.search(clause) or (GOES_ON.match(clause) and PASSED.search(before))
        for clause, before in held)


def counts_the_counterpart(question: Question, folded: str) -> bool:
    """Whether a question counts one side of a pair (:attr:`Question.counterparts`: 民办,
    本一) and every clause of a sentence (folded) that gives a figure of what it counts
    names the counterpart and not that side: "吉林有多少所民办普惠性幼儿园拿到了奖补?" is not
    answered by "…新建改扩建公办幼儿园57所,奖补一批民办普惠性幼儿园". A sentence that
    names only the counterpart is refused whatever its figures
    (:func:`indexer.answer.question.names_the_counterpart`)."""
    figure = counted_as(question)
    if question.kind != "number" or figure is None or not question.counterparts:
        return False
    held = [clause for clause, _ in figure_clauses(folded, figure)]

    def names(side: tuple[str, ...], clause: str) -> bool:
        return any(name in clause for name in side)

    return bool(held) and any(
        all(names(other, clause) and not names(one, clause) for clause in held)
        for one, other in question.counterparts)


def gives_only_rates(question: Question, folded: str) -> bool:
    """Whether a question asks for a sum spent in all (:data:`ASKS_SUM`; not per one:
    生均, 每人) and every clause of a sentence (folded) that gives a sum in 元 gives a rate
    per one (:data:`PER_ONE`): "吉林给中职学生免学费一年花了多少钱?" is not answered by
    "…公办中职学校生均公用经费标准提高到每生每年3000元"."""
    if (question.measure != "money" or not ASKS_SUM.search(question.folded)
            or PER_ONE.search(question.folded)):
        return False
    held = figure_clauses(folded, written_as(question))
    return bool(held) and all(PER_ONE.search(clause) for clause, _ in held)


def spent_on_another_purpose(question: Question, folded: str) -> bool:
    """Whether a question asks for a sum (money) and every clause of a sentence (folded)
    that gives one says what it is spent on (:data:`SPENT_ON`) in none of the question's
    words, their report words or a character of one of two or more (器具 may be 器材, as
    people ask in their own words): "县里给教师培训一年花了多少钱?" is not answered by
    "…本年度又投入资金70万元用于购置音美器材"."""
    if question.measure != "money":
        return False
    held = figure_clauses(folded, written_as(question))
    purposes = [SPENT_ON.search(clause) for clause, _ in held]

    def of_the_question(purpose: str) -> bool:
        return any(question.holds(purpose, term)
                   or (len(term) > 1 and any(char in purpose for char in term))
                   for term in question.terms)

    return bool(purposes) and all(purpose is not None and not of_the_question(purpose.group(1))
                                  for purpose in purposes)


def figure_clauses(folded: str, figure: re.Pattern[str]) -> list[tuple[str, str]]:
    """Each clause of a sentence (folded) that gives ``figure``, with the clause before it
    ("" for the first)."""
    clauses = [clause.strip() for clause in CLAUSE.split(folded)]
    return [(clause, clauses[i - 1] if i else "") for i, clause in enumerate(clauses)
            if figure.search(clause)]


def _gap_before_figure(clause: str, figure: re.Pattern[str]) -> bool:
    """Whether a clause's last figure comes after a word that makes it a gap (较2015年
    49.7分缩小了15.2分 gives two gaps)."""
    gap = GAP.search(clause)
    return gap is not None and [*figure.finditer(clause)][-1].start() >= gap.end()
