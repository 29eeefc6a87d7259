"""Rates and lengths of time: a rate per a period, a figure for each one, and a length of
time (:mod:`indexer.answer.periods`)."""

from __future__ import annotations

import pytest

from indexer.answer.periods import gives_another_period, gives_no_rate_per_one, lacks_a_length
from indexer.answer.question import analyse
from indexer.text.analysis import fold
from tests.test_measures import COMPUTERS, FUNDING

# 001's rates of funding per pupil, per year.
PER_YEAR = "统一全市城乡义务教育学校生均公用经费基准定额:小学每生每年600元、初中每生每年800元"
# 000's school buses: how many, never how long a ride takes.
BUSES = "全年开通接送学生线路257条,投入车辆148辆,集中接送学生6745人。"
# 004's village cinema: once a month, for how long is not said.
CINEMA = "使全镇23个行政村的群众足不出户每村每月就能免费看到一场高清晰的数字电影"


@pytest.mark.parametrize("question, sentence, other_period", [
    # The near miss nm-019 asks a day's lunch subsidy; the report gives yearly sums only.
    ("吉林低保家庭孩子的午餐补贴一天多少钱?", PER_YEAR, True),
    ("吉林低保家庭孩子的午餐补贴每个月多少钱?", PER_YEAR, True),
    ("白寨每个村一年放几场电影?", CINEMA, True),
    # The period asked is given (日 and 天 are one period; so are 周 and 星期).
    ("吉林孩子住校的话,学校每人每年多拿多少补贴?", PER_YEAR, False),
    ("白寨每个村每月放几场电影?", CINEMA, False),
    ("学生每天锻炼多少分钟?", "确保学生每日校园体育活动时间不少于1小时", False),
    ("每星期上几节体育课?", "每周3节体育课", False),
    # A sentence that gives no rate says nothing of the period: a year's total answers.
    ("新开的幼儿托管点一年添了多少个名额?", "全年新增看护点学位近8000个", False),
    # Not a period: a school year, or 一年来; nor a question that asks for no figure.
    ("一年级新生有多少人?", "每年招收新生600人", False),
    ("一年来学校建了多少所?", "每年新建学校2所", False),
    ("午餐补贴一天是不是每年发?", PER_YEAR, False),
])
def test_a_rate_per_another_period_does_not_answer(question, sentence, other_period):
    assert gives_another_period(analyse(question), fold(sentence)) is other_period


@pytest.mark.parametrize("question, sentence, lacking", [
    # Near misses of the probe: a length asked, none given.
    ("句容的校车接送一趟要多长时间?", BUSES, True),
    ("句容的孩子坐校车上学路上一般要多久?", BUSES, True),
    ("吉林的老师参加一次暑期培训要培训多少天?",
     "推进中小学教师全员培训,完成好“国培计划”和“省培计划”培训任务,参培率达到100%。", True),
    ("吳中的中小學生每天在學校運動多長時間?",
     "組織開展了“陽光體育運動”和“校園藝術周”等專項活動", True),  # 艺术周 is no length
    # Own-words questions of the train parts and their answers: a length, or how often.
    ("吉林的娃在学校一天至少能动多久?", "确保学生每天在校体育活动一小时", False),
    ("句容教育局里头多久碰一次头开例会?", "坚持局务会月度例会制度", False),
    ("白寨鎮的村民多久能看一回不要錢的電影?", CINEMA, False),
    ("吳中對各個學校的管理打分,多久評一回?", "一年一度的学校管理考评", False),
    ("市裡來木瀆高中檢查素質教育查了幾天?", "进行了为期3天的督导评估", False),
    ("递交了开私立学校的筹备材料,多久能给个准信?", "应当自受理之日起三十日内", False),
    # How long one lasts: only an amount of time answers, not how often (每月一场).
    ("白寨鎮的數字電影放一場要多長時間?", CINEMA, True),
    ("数字电影放一场要多长时间?", "每场放映约2小时", False),
    ("白寨镇多久放一场电影?", CINEMA, False),
    # Not a length: which days or months, and questions that ask none.
    ("全国的职教宣传周是哪几天?", BUSES, False),
    ("吴中那179个新老师是哪几个月招进来的?", BUSES, False),
    ("句容有多少辆校车?", BUSES, False),
])
def test_a_length_of_time_asked_must_be_given(question, sentence, lacking):
    assert lacks_a_length(analyse(question), fold(sentence)) is lacking


@pytest.mark.parametrize("question, sentence, in_all_only", [
    # The probe's near miss: a count for each school asked, the machines in all given.
    ("吉林今年给每个农村学校配了几台电脑?", COMPUTERS, True),
    ("吉林给普惠性的民办幼儿园每所奖补多少钱?", "全市计划投资1.7亿元", True),
    # A rate for each one is given, or none is asked, or a span of time is asked.
    ("吉林孩子住校的话,学校每人每年多拿多少补贴?", FUNDING, False),
    ("吉林今年配了多少台电脑?", COMPUTERS, False),
    ("用网络把好课送进每个课堂的那份方案,前后打算做几年?", "研究制订“互联网+”教育三年行动计划",
     False),
])
def test_a_figure_in_all_does_not_answer_one_for_each(question, sentence, in_all_only):
    assert gives_no_rate_per_one(analyse(question), fold(sentence)) is in_all_only
