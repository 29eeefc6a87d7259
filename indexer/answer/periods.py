"""Rates and lengths of time: the period a question asks a rate for (一天多少钱), the one
it asks a figure for each of (每个学校配了几台), the length of time it asks (多长时间, 多久,
几个小时), and whether a sentence gives them.

A sentence that gives rates per another period (每生每年600元 for 一天多少钱), only a figure
in all for one for each (配备计算机1160台 for 每个农村学校配了几台), or no length of time at
all (开通接送学生线路257条 for 校车一趟要多长时间?), does not answer: these checks let the
answer step refuse it (:mod:`indexer.answer.extract`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from indexer.answer.measures import AMOUNT, EACH, FIGURE, asks_figure, counted_as, figure_clauses

if TYPE_CHECKING:
    from indexer.answer.question import Question

# The period a question asks a rate for (一天多少钱, 每个月发多少, 每人每年; not 一年级, 一年来,
# 一年度), and the periods a sentence gives rates for (每生每年600元, 每村每月一场, 年均), each
# by one name: 天 and 日 are one period, as are 周 and 星期.
_PERIOD = r"(天|日|周|星期|月|学期|年)"
ASKS_PER = re.compile(rf"(?:每|一)个?{_PERIOD}(?![级来度])")
GIVES_PER = re.compile(rf"每个?{_PERIOD}(?!级)|(年|月|日)均")
SAME_PERIOD = {"日": "天", "星期": "周"}
# What asks how long something takes or lasts, or how often it comes round (多久碰一次头 →
# 月度): 多长时间, 多久, 几个小时, 多少天, 几个月 (not 哪几天, 哪几个月, 几月, 星期几).
ASKS_LENGTH = re.compile(r"多长(?:的)?时间|多久|(?<!哪)(?:多少|几)个?(?:小时|钟头|分钟|天|周|星期)"
                         r"|(?<!哪)(?:多少|几)个月")
# What asks for a figure for each one (:data:`indexer.answer.measures.EACH`), and any word
# that gives one (每生, 人均, 平均); a span of time asked (每个课堂…打算做几年?) asks a length,
# not a figure for each one.
ASKS_EACH = re.compile(EACH)
GIVES_EACH = re.compile(r"每|均")
ASKS_SPAN = re.compile(rf"{ASKS_LENGTH.pattern}|(?<![哪第])(?:多少|几)个?年(?!级)")
# Any length of time or frequency, read broadly (a rule that refuses on its absence must
# not miss one): a number of units (1小时, 三十日内, 近一年, 2016年), a rate (每月, 每季度),
# or a word that says how long or how often (年度, 一年一度, 半月, 全天, 定期, 长期).
_UNIT = r"(?:小时|钟头|钟|分钟|秒|天|日|周|星期|月|季度?|年|学期|学年|课时|学时|节课?|堂课?)"
_AMOUNT_OF_TIME = rf"(?:{AMOUNT}|[半几数])个?{_UNIT}"
LENGTH_GIVEN = re.compile(rf"{_AMOUNT_OF_TIME}|每个?{_UNIT}|[年季月]度|半月"
                          r"|全天|整天|当天|当日|定期|长期|常年|随时|即时|立即|及时")
# What asks how long one of something lasts (放一场要多长时间?, 接送一趟要多久?; not 多久碰一次
# 头, which asks how often): only an amount of time answers it, not a rate (每月一场).
ASKS_ONE_LASTS = re.compile(r"一(?:场|趟|次|节|堂|回|轮|期)[^,，?？]{0,4}?(?:多长(?:的)?时间|多久)")
DURATION_GIVEN = re.compile(_AMOUNT_OF_TIME)


def gives_another_period(question: Question, folded: str) -> bool:
    """Whether a question asks for a figure per a period (:data:`ASKS_PER`) and a sentence
    (folded) gives figures per other periods only (:data:`GIVES_PER`): "午餐补贴一天多少钱?"
    is not answered by "…小学每生每年600元". A sentence that gives no rate says nothing of
    the period (一年添了多少个名额? is answered by 全年新增…近8000个)."""
    asked = _periods(ASKS_PER, question.folded)
    if not asked or not asks_figure(question):
        return False
    given = _periods(GIVES_PER, folded)
    return bool(given) and not asked & given


def gives_no_rate_per_one(question: Question, folded: str) -> bool:
    """Whether a question asks for a figure for each one (:data:`ASKS_EACH`; not a span of
    time, :data:`ASKS_SPAN`) and a sentence (folded) gives the figure asked in all only,
    with no word for each (:data:`GIVES_EACH`): "吉林今年给每个农村学校配了几台电脑?" is not
    answered by "…配备计算机1160台", which gives the machines in all."""
    if (not asks_figure(question) or not ASKS_EACH.search(question.folded)
            or ASKS_SPAN.search(question.folded)):
        return False
    figure = counted_as(question) or FIGURE
    return bool(figure_clauses(folded, figure)) and not GIVES_EACH.search(folded)


def _periods(pattern: re.Pattern[str], folded: str) -> set[str]:
    """The periods ``pattern`` finds in a folded text, by one name each (:data:`SAME_PERIOD`)."""
    return {SAME_PERIOD.get(name, name) for match in pattern.finditer(folded)
            for name in match.groups() if name}


def lacks_a_length(question: Question, folded: str) -> bool:
    """Whether a question asks how long or how often (:data:`ASKS_LENGTH`) and a sentence
    (folded) gives no length of time nor any rate (:data:`LENGTH_GIVEN`): "句容的校车接送一趟
    要多长时间?" is not answered by "全年开通接送学生线路257条…", while "多久碰一次头?" is
    by 月度 and "一天至少能动多久?" by 一小时. How long one of something lasts
    (:data:`ASKS_ONE_LASTS`) is answered by an amount of time only: "数字电影放一场要多长
    时间?" not by "…每村每月就能免费看到一场…"."""
    if not ASKS_LENGTH.search(question.folded):
        return False
    given = DURATION_GIVEN if ASKS_ONE_LASTS.search(question.folded) else LENGTH_GIVEN
    return not given.search(folded)
