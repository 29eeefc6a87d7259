"""Whose figure a sentence gives: staff or pupils, a stage of schooling, a kind of teacher,
one sex. A figure of another group than the one asked does not answer (14位名师 for
在编老师, 小学每生每年600元 for 幼儿园, 理科45人 for 男生): these checks let the answer step
refuse it (:mod:`indexer.answer.extract`), as :mod:`indexer.answer.measures` does for a
figure of another measure.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from indexer.answer.measures import asks_figure, counted_as, figure_clauses, written_as

if TYPE_CHECKING:
    from indexer.answer.question import Question

# The two kinds of people a school report counts, staff and pupils (幼儿 not of 幼儿园): a
# count of one kind does not answer how many of the other there are.
STAFF = re.compile(r"教师|老师|校长|园长|班主任|教职工|职工|员工|讲师|教练|保安|干部|名师|督学"
                   r"|带头人|督导员|辅导员|专家|教授")
PUPILS = re.compile(r"学生|孩子|幼儿(?!园)|儿童|新生|考生|毕业生|学员|少年|同学|小朋友|娃")
# The stages of schooling, each with the words that name it: a figure of one stage does not
# answer what another costs or counts (小学每生每年600元 for 幼儿园). A word that spans stages
# names each (中小学, 义务教育, 中学); 幼儿 is of pre-school. Not the exams (升高中那场考试
# is 中考): 中考 and 高考 are counterparts (:data:`indexer.answer.question.COUNTERPARTS`).
STAGES = (re.compile(r"幼儿|学前|入园|托育|托儿|早教"),
          re.compile(r"小学|义务教育"),
          re.compile(r"初中|初[一二三]|中学|中小学|义务教育"),
          re.compile(r"高中|普高|中学|中小学"),
          re.compile(r"中职|中专|中等职业|职业学校|职业教育|职教|职校|职高|技校|技工"),
          re.compile(r"高校|大学|高职|高等教育|本科|研究生"))
# The kinds of teacher a report counts apart, each with the words that name it: a figure
# of one kind does not give another's (14位名师 for 在编老师, 班主任津贴 for 特岗教师's pay).
STAFF_KINDS = (re.compile(r"在编|编制内|正式编制|入编|事业编"),
               re.compile(r"特岗"),
               re.compile(r"代课|临聘|编外|合同制|外聘"),
               re.compile(r"名师|特级教师|学科带头人|骨干|名校长|知名教师|教学能手"),
               re.compile(r"班主任"),
               re.compile(r"校长|园长"),
               re.compile(r"新教师|新任教师|新招|新聘|招聘"),
               re.compile(r"退休"))
# A count of one sex (男生, 女教师): a sentence that names no one of that sex does not give
# it (理科45人 for 男生有几个).
SEX_ASKED = re.compile(r"([男女])(?:生|孩|童|性|教师|老师|职工|干部|学生|同学|运动员)")


def counts_other_people(question: Question, folded: str) -> bool:
    """Whether a question counts staff or pupils (:data:`STAFF`, :data:`PUPILS`), not both,
    and every clause of a sentence (folded) that counts people names only the other kind,
    or names neither after a clause that names only the other: "吴中今年有多少名教师退休?"
    is not answered by "吴中中专2名学生…获得中职一等奖", "句容的留守儿童有多少人?" by "…配备
    专职保安241名,兼职保安21名", nor "吉林今年有多少名学生参加了高考?" by "加大“全市中青年学
    科带头人”培养和评选力度,评选培养对象150名"."""
    if question.measure != "people":
        return False
    staff, pupils = bool(STAFF.search(question.folded)), bool(PUPILS.search(question.folded))
    if staff == pupils:
        return False
    one, other = (STAFF, PUPILS) if staff else (PUPILS, STAFF)
    held = figure_clauses(folded, written_as(question))

    def of_the_other_kind(clause: str, before: str) -> bool:
        said = clause if one.search(clause) or other.search(clause) else before
        return bool(other.search(said)) and not one.search(said)

    return bool(held) and all(of_the_other_kind(clause, before) for clause, before in held)


def counts_another_stage(question: Question, folded: str) -> bool:
    """Whether a number question asks of one stage of schooling (:data:`STAGES`: 幼儿园,
    中职), a sentence (folded) never names it, and a clause of it that gives a figure of
    what the question counts names another stage: "吉林的幼儿园生均公用经费每年多少钱?" is
    not answered by "…小学每生每年600元、初中每生每年800元,寄宿制学校…200元…"."""
    figure = counted_as(question)
    return (question.kind == "number" and figure is not None
            and _of_another_group(STAGES, question, folded, figure))


def counts_another_kind_of_staff(question: Question, folded: str) -> bool:
    """Whether a figure question asks of one kind of teacher (:data:`STAFF_KINDS`: 在编,
    特岗, 班主任), a sentence (folded) never names it, and a clause of it that gives a figure
    of what the question counts, or the clause before, names another kind: "句容的初中有多
    少个在编老师?" is not answered by "成立由14位名师领衔的教师工作室…"."""
    figure = counted_as(question)
    return (figure is not None and asks_figure(question)
            and _of_another_group(STAFF_KINDS, question, folded, figure, before=True))


def _of_another_group(groups: tuple[re.Pattern[str], ...], question: Question, folded: str,
                      figure: re.Pattern[str], before: bool = False) -> bool:
    """Whether the question names one of ``groups`` only, the sentence (folded) never names
    it, and a clause of it that gives ``figure`` (or, with ``before``, the clause before
    that) names another."""
    asked = [group for group in groups if group.search(question.folded)]
    if len(asked) != 1 or asked[0].search(folded):
        return False
    return any(group.search(clause) or (before and group.search(prior))
               for clause, prior in figure_clauses(folded, figure) for group in groups)


def lacks_the_sex_asked(question: Question, folded: str) -> bool:
    """Whether a question asking for a figure counts people of one sex (:data:`SEX_ASKED`:
    男生, 女教师) and a sentence (folded) never names that sex: "句容理科前1万名里男生有几个?"
    is not answered by "…其中理科45人,文科17人"."""
    asked = {match.group(1) for match in SEX_ASKED.finditer(question.folded)}
    return len(asked) == 1 and asks_figure(question) and asked.pop() not in folded
