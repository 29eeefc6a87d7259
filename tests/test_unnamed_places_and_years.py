"""Places and years a question asks of without naming them: 其他县 (other places than the
report's, :func:`indexer.answer.places.lacks_other_places`), 那个县 (a county, not a city's
or a district's report, :func:`indexer.answer.places.of_another_level`), 哪个县 (which
one: the answer names it, :func:`indexer.answer.places.lacks_the_place_asked`) and 前一年
(the year before the report's, :func:`indexer.answer.question.lacks_year_before`)."""

from __future__ import annotations

import pytest

from indexer.answer.places import lacks_other_places, lacks_the_place_asked, of_another_level
from indexer.answer.question import analyse, lacks_year_before
from indexer.retrieve.protocol import expand_years
from indexer.text.analysis import fold

# Sentences of the bundled reports.
COUNTY_FIGURES = "*中学本二上线人数突破800大关,达856人,本一上线人数312人"
WUZHONG_RATE = "文理科本二以上達線人數1058人,達線率首次突破50%,較去年增長14.81個百分點"
VILLAGES = "目前,全鎮東崗、韋溝、翟溝、王寨河4個新農村文化大院建設已全部通過市級驗收。"


@pytest.mark.parametrize("question, sentence, lacks", [
    # A report's own figure is not other places'.
    ("沧州市其他县的本二上线人数是多少?", COUNTY_FIGURES, True),
    ("新密市其他乡镇建了多少个文化大院?", VILLAGES, True),
    ("别的城市中考均分有多高?", "2016年中考,我市中考均分与镇江市区比相差34.5分", True),
    # A sentence that speaks of other places may answer.
    ("其他县市的中考均分比句容高吗?", "我市中考均分列镇江各县市第一", False),
    ("其他县的本二上线人数是多少?", "全市其他县区本二上线人数合计1200人", False),
    # A question that compares with them asks of its own place.
    ("句容的中考均分比其他县市高多少?", "2016年中考,我市中考均分与镇江市区比相差34.5分", False),
    # Not asked of other places: 特别的地方, 个别的地方; the report's own place.
    ("白寨镇有什么特别的地方?", "白寨鎮位于XX市東北20公里處,總面積91.8平方公里", False),
    ("沧州那个县的本二上线人数是多少?", COUNTY_FIGURES, False),
])
def test_other_places_are_not_answered_by_the_reports_own(question, sentence, lacks):
    assert lacks_other_places(analyse(question), fold(sentence)) is lacks


@pytest.mark.parametrize("question, sentence, lacks", [
    # Which place is asked; the sentences of the bundled reports name none, or only the
    # place the question names itself.
    ("这份总结写的是哪个县?", "《县域教育特色化初探》一书的编辑出版作为一个标志性事件,"
     "表明我县学校管理水平达到了一个新的高度。", True),
    ("句容的教育工作会议是在哪个市开的?", "召开了全市教育工作会议,部署全年工作", True),
    ("潜江市隶属于哪一个省份?", "1994 年被列为省直管市。", True),
    # A county or district is not read from jieba's tags for places (深度 is one).
    ("吉林的职教产业园区建在哪个区?", "统筹规划职教产业园区“1+4”(职教+产业)布局,积极谋划校企深度"
     "融合的体制机制创新。", True),
    # Which street: a sentence that names no road.
    ("句容教育局的办公地点在哪条街上?", "城区新建的北阳门幼儿园、三台阁幼儿园已建成交付使用", True),
    ("句容教育局的办公地点在哪条街上?", "教育局位于华阳北路18号", False),
    ("郭庄教育产业园建在哪条路上?", "产业园沿二圣大道布局", False),
    # A place of the table, a masked one, a division by its full name, a place abroad.
    ("吉林老师在片区里轮岗,先拿哪个区试点?", "在船营区开展大学区内教师交流试点", False),
    ("这个县是哪个市给的牌子?", "*荣获沧州市*年高中教育教学质量先进县奖。", False),
    ("白寨镇在哪个市?", "白寨鎮位于XX市東北20公里處", False),
    ("哪一个城市是罗斯托夫州的首府?", "首府顿河畔罗斯托夫。", False),
    # Not which place: a body of a level (哪个省级单位), an area (哪个区域), where (在哪里).
    ("劳模进校园在哪个省级单位的会上交流过?", "在江苏省教科工会举办的专题会议上作交流", False),
    ("导弹系统部署在哪个区域附近?", "部署在附近区域的一套系统", False),
    ("白寨镇的文化大院建在哪里?", "各村文化大院", False),
])
def test_which_place_is_answered_by_a_sentence_that_names_one(question, sentence, lacks):
    assert lacks_the_place_asked(analyse(question), fold(sentence)) is lacks


@pytest.mark.parametrize("question, doc, other", [
    # 003 speaks of itself as 我县 and 全县; 000 (句容市) only as 我市, 004 as 我区 and 全镇.
    ("那个县的小学有多少所?", "000", True),
    ("这个县的职教有啥拿手的招牌专业?", "004", True),
    ("县教育局里坐办公室的那帮人搞了个评几颗星的事,叫啥名?", "004", True),
    ("那个县的小学有多少所?", "003", False),
    ("白寨这个镇一年放多少场电影?", "004", False),
    ("白寨這個鄉鎮佔地多少?", "004", False),  # 乡镇: a town
    ("全区新增了多少个公办小学学位?", "004", False),
    # 县里 speaks of the county level in general too (教师归县里统一管); a city is asked of by
    # no level (县级市 and prefecture alike say 我市).
    ("句容试点老师归县里统一管,这是替哪一级承担的?", "000", False),
    ("那个市的小学有多少所?", "003", False),
])
def test_a_county_asked_of_is_not_answered_from_a_citys_report(corpus, question, doc, other):
    report = next(fold(d.text) for d in corpus.documents if d.doc_id.startswith(doc))
    assert of_another_level(analyse(question), lambda: report) is other


@pytest.mark.parametrize("question, sentence, lacks", [
    # This year's figure, and the change from last year, give no figure of last year.
    ("县中前一年过二本线的有多少人?", COUNTY_FIGURES, True),
    ("吴中上一年考过二本的有多少人?", WUZHONG_RATE, True),
    # A sentence that gives the past year's own figure answers.
    ("吴中上一年考过二本的有多少人?", "去年全区本二达线人数为800人", False),
    ("上一年本二达线率是多少?", "2015年本二达线率为52.5%", False),
    # A question that compares with the year before asks of this year.
    ("苏苑高中的二本上线比例比前一年涨了多少?", "蘇苑高級中學本二達線率較去年增長23個百分點",
     False),
    # 去年 is also what people call a report's own year a year later (句容去年考上一本…
    # asks of 2016, the year of a report published in 2017).
    ("句容去年考上一本线的高三生占多少?", "2016年全市高考稳中有升,文理类本一达线率13.5%", False),
    # Not a figure or a date: what was done the year before may be told without one.
    ("前一年学校做了什么?", COUNTY_FIGURES, False),
])
def test_the_year_before_is_not_answered_by_this_years_figure(question, sentence, lacks):
    assert lacks_year_before(analyse(question), fold(sentence)) is lacks


def test_a_year_of_the_report_itself_is_no_year_before():
    asked, sentence = analyse("上一年本二达线率是多少?"), fold("2016年本二达线率为56.9%")
    assert lacks_year_before(asked, sentence, frozenset(expand_years("2016"))) is True
    assert lacks_year_before(asked, sentence, frozenset(expand_years("2017"))) is False
    # A year compared with dates no figure: 比2015年提高 gives 2016's rate.
    compared = fold("本二以上达线率56.9%,比2015年提高4.4个百分点")
    assert lacks_year_before(asked, compared, frozenset(expand_years("2016"))) is True
