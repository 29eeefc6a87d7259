"""Extractive answers on the bundled corpus: the right sentence, exact citations, refusals."""

from __future__ import annotations

import re

import pytest

from indexer.answer.extract import (
    NO_ANSWER,
    Answer,
    Citation,
    analyse,
    answer,
    cite,
    keyword_query,
    score_sentences,
    sentences,
)
from indexer.answer.features import Sentence, of_the_place_asked
from indexer.answer.places import (
    is_of_the_place_asked,
    names_another_place,
    names_the_places_asked,
)
from indexer.answer.question import dated_otherwise, missing_specifics, names_the_counterpart
from indexer.ingest.segment import split_passages
from indexer.records import Document
from indexer.retrieve.hits import Hit
from indexer.retrieve.protocol import expand_years
from indexer.serialize import answer_dict
from indexer.store.catalog import Catalog
from indexer.text.analysis import fold
from tests.conftest import SURE_ANSWER, SURE_QUESTION, TENTATIVE_ANSWER, TENTATIVE_QUESTION


def ask(engine, question: str) -> Answer:
    """The answer the product gives (``Engine.ask``: hybrid retrieval, then extraction)."""
    return engine.ask(question)[0]


def assert_exact(result: Answer, engine) -> None:
    """Every citation's span, cut from its document, is its quote."""
    catalog = engine.generation().catalog
    for citation in result.citations:
        document = catalog.documents[citation.doc_id]
        assert document.text[citation.start:citation.end] == citation.quote
        passage = catalog.passages[citation.passage_id]
        assert passage.start <= citation.start < citation.end <= passage.end
        assert f"{citation.quote}[{citation.n}]" in result.text


@pytest.mark.model
@pytest.mark.parametrize("question, doc, expected", [
    # A number, with the context (句容) only in the report's title.
    ("2016年句容中考均分与镇江市区差多少分?", "000",
     "城乡校际之间合作意识增强、参与热情高涨,合作的成效非常显著,2016年中考,我市中考均分与镇江市区比"
     "相差34.5分,较201549.7分缩小了15.2分;"),
    # Simplified question, traditional report: quoted in its original script.
    ("哪位老师获评全国模范教师?", "004",
     "東山中心小學周志文老師獲評“全國模范教師”,東山莫厘中學姚建江老師獲評“全國優秀教師”;"),
    # Own words (bench/ownwords, train split), one per report: few of the report's words.
    ("句容学修车的职校生,跟哪家公司合作考洋证书?", "000",
     "加强校企合作,完善与“中德诺浩”的合作,实现汽车专业国际通用资格证书考核并确保较高通过率。"),
    ("吉林乡下老师评高级职称有没有照顾?", "001",
     "实施国家中小学教师职称评聘改革方案,切实向乡村教师倾斜,在教育基础薄弱的乡镇及以下学校继续设立"
     "高、中级特设岗位,优化农村学校教师结构。"),
    ("哪所美國學府要在山大那邊一起建研究室?", "002",
     "積極引進國內外高水平來青辦學,上海財經大學xxxx財富管理研究院今年正式招生,四川大學、山東科技大學"
     "已進入戰略合作、省市共建簽約階段,與美國弗吉尼亞理工大學合作在山東大學xxxx校區建設“仿生國際實驗室”"
     "以及與北京協和醫學院、中國科學院大學、大連海事大學合作辦學工作正在積極洽談中。"),
    ("县里教育部门出过一本什么书?", "003",
     "《县域教育特色化初探》一书的编辑出版作为一个标志性事件,表明我县学校管理水平达到了一个新的高度。"),
    ("市民打熱線、給區長寫信反映問題,一年處理了多少件?", "004",
     "年內,共處理寒山聞鐘、便民熱線、公眾監督、區長信箱等各類工單1403件,及時化解矛盾糾紛,穩妥處置網絡"
     "輿情,積極回應人民群眾的訴求。"),
    # The answer step reads the question in both scripts, as retrieval does.
    ("吴中今年招了多少个新老师?", "004",
     "精心制定教師招聘方案,嚴把教師入口關,嚴格按程序規定招聘179名新教師。"),
    # An item of a running list (…八是….九是…): a sentence, not a heading.
    ("吉林吃低保人家的孩子中午那顿饭有补助吗?", "001",
     "九是为全市低保家庭中小学生提供免费午餐补贴。"),
    # A number question, not answered from the passage's sentence without a number
    # (三星級高中本二達線率均實現翻番: number_cue_miss).
    ("吳中今年有多少考生過了二本線?", "004",
     "今年高考取得突破性成果,文理科本二以上達線人數1058人,達線率首次突破50%,較去年增長14.81個百分點,"
     "增幅列大市第一。"),
])
def test_a_question_is_answered_with_the_sentence_that_answers_it(any_engine, question,
                                                                  doc, expected):
    result = ask(any_engine, question)
    assert result.answerable and not result.generated and result.flags == []
    first = result.citations[0]
    assert first.n == 1 and first.doc_id.startswith(doc)
    assert first.quote == expected  # the span, exactly
    assert_exact(result, any_engine)


@pytest.mark.model
@pytest.mark.parametrize("question", [
    # Near misses (bench/ownwords, train split): a topic the reports cover, a figure or
    # detail they never give.
    "這個縣的船員培訓一年培養多少人?",
    "吳中建未來教室每間花了多少錢?",
    "吉林的教育光网工程一共投了多少钱?",
    # Off topic.
    "医保报销比例是多少?",
    "北京到上海的高铁票价是多少钱?",
    "0",  # nothing but numbers: they occur everywhere and say nothing of the topic
    "2016?",
])
def test_a_question_the_corpus_does_not_answer_is_refused(any_engine, question):
    result = ask(any_engine, question)
    assert not result.answerable
    assert result.text == NO_ANSWER
    assert result.citations == []
    assert result.hits  # the closest passages are still shown


@pytest.mark.model
@pytest.mark.parametrize("question, asked", [
    # Near misses (bench/ownwords, train split) on a topic the report covers.
    ("吉林第七届中小学生合唱节是几月份办?", None),  # the festival, never its month
    ("句容拔尖人才津贴每个月发多少钱?", None),  # the allowance paid, never its sum
    # Answered: the best sentence holds the sum asked for.
    ("吉林小学生均公用经费一年多少钱?", "元"),
    # Near misses of another year or half-year (train split): the sentence gives 2016's
    # rate, the first half's count; asked of the year and half given, they are answered.
    ("句容2015年考上一本的比例是多少?", None),
    ("句容下半年有多少人参加了社区里的培训?", None),
    ("句容2016年考上一本的比例是多少?", "13.5%"),
    ("句容上半年有多少人参加了社区里的培训?", "11.9万人"),
    # A sentence that names no year, in a report of another year (吉林's is 2016's plan).
    ("吉林2015年新建改扩建了几所公办幼儿园?", None),
    ("吉林2016年新建改扩建了几所公办幼儿园?", "57所"),
    # 多少 asked of a sentence that gives no figure at all (四是 numbers a list item).
    ("吉林普通高中国家助学金每人每年发多少?", None),
    ("句容各个学校一共装了多少个摄像头?", "2000余个"),
    # A masked figure (x.x萬人) gives none.
    ("在學校踢足球的青少年有多少萬人?", None),
    # The village count (23個行政村) is no count of projectionists.
    ("鎮上的數字電影放映隊有幾個放映員?", None),
    # A count in other classifiers (248套, 1160台) is none of 辆; a rise in 百分点 is no
    # score; 投入 names money, but 多少辆 says what is counted.
    ("吉林全市一共有多少辆校车?", None),
    ("句容接送学生一共投入了多少辆车?", "148辆"),
    ("陳蓉高考考了多少分?", None),
    # The counterpart of what is asked: 本二's rate for 本一, a 中考 average for 高考.
    ("木瀆高中考上一本的比例是多少?", None),
    ("木瀆高中考上二本的比例是多少?", "90%"),
    ("句容高考均分和镇江市区差多少分?", None),
    ("句容中考均分和镇江市区差多少分?", "34.5分"),
    # Another city than the report's: 金坛 beside 句容; 南京 beside 吴中, whose report
    # masks its city (XX市) but names its district. Its city and its own district answer.
    ("金坛全市一共开通了多少条接送学生的校车线路?", None),
    ("句容全市一共开通了多少条接送学生的校车线路?", "257条"),
    ("南京今年新增了多少个公办小学学位?", None),
    ("昆山今年新增了多少个公办小学学位?", None),  # 苏州's, beside 吴中
    ("嘉兴今年新增了多少个公办小学学位?", None),  # a city jieba reads mostly as a name
    ("丹阳2016年高考考上二本的比例是多少?", None),  # 句容's report compares with 丹阳
    ("句容跟丹阳比,初三毕业统考的平均成绩还落后多少?", "6.7分"),
    # A level asked of a sentence that gives only a gap: 镇江市区's own average is not given.
    ("镇江市区的孩子中考平均考多少分?", None),
    # Which place: the report masks its own (*县), and the answer names a place.
    ("这份总结写的是哪个县?", None),
    ("吉林老师在片区里轮岗,先拿哪个区试点?", "船营"),
    ("吳中全區一共有多少個中小學老師?", None),  # only teachers added or named
    ("吳中那些抱團辦學的初中,一共結成了幾個共同體?", None),
    ("苏州吴中今年新增了多少个公办小学学位?", "4320個"),
    # Places and a year asked of without a name: other counties than the report's, the
    # year before its own (this year's 856人 and 1058人 answer for neither).
    ("沧州市其他县的本二上线人数是多少?", None),
    ("县里的中学本二上线人数是多少?", "856人"),
    ("县中前一年过二本线的有多少人?", None),
    # When something is yet to happen: a sentence with no time gives none (立项审批).
    ("新的盲校什麼時候能蓋好?", None),
    ("吉林那些临时拼凑接孩子的车,啥时候要换掉?", "年底前"),
    # How a share changed is given in points; a place in a ranking (第几位) is no count of
    # people. Both were refused as figure_not_given.
    ("苏苑高中的二本上线比例比前一年涨了多少?", "23個百分點"),
    ("县教育局谈办学好坏时,把孩子不出事摆在第几位?", "安全第一"),
])
def test_a_figure_or_date_the_report_never_gives_is_not_answered(any_engine, monkeypatch,
                                                                  question, asked):
    # With no answerability threshold every question is answered: unless its best
    # sentence lacks the kind of figure or date it asks for, or gives it for another time.
    monkeypatch.setenv("POLICYQA_ANSWER_MIN_SCORE", "0")
    result = ask(any_engine, question)
    if asked is None:
        assert not result.answerable and result.citations == [] and result.hits
        assert result.refused_because in {"figure_not_given", "other_year", "other_side",
                                          "other_place", "place_not_given"}
    else:
        assert result.answerable and asked in result.citations[0].quote
        assert result.refused_because is None


@pytest.mark.model
@pytest.mark.parametrize("question, why", [
    ("吉林全市一共有多少辆校车?", "figure_not_given"),  # 248套 and 1160台, no 辆
    ("句容2015年考上一本的比例是多少?", "other_year"),  # 2016's rate
    ("木瀆高中考上一本的比例是多少?", "other_side"),  # 本二's rate
    ("金坛的中考平均分比镇江市区低多少?", "other_place"),  # 句容's gap
    ("沧州市其他县的本二上线人数是多少?", "other_place"),  # the county's own 856人
    ("县中前一年过二本线的有多少人?", "other_year"),  # this year's 1058人
    ("句容的孩子中考平均考多少分?", "figure_not_given"),  # only its gap to 镇江市区
    # 句容's report is of a county of 镇江, not of 镇江 (and gives only the gap).
    ("镇江市区的孩子中考平均考多少分?", "other_place"),
    ("吉林低保家庭孩子的午餐补贴一天多少钱?", "figure_not_given"),  # 每生每年600元
    ("吴中今年高考本一达线率是多少?", "other_side"),  # 本二's 50%
    ("吉林有多少所民办普惠性幼儿园拿到了奖补?", "other_side"),  # 公办幼儿园57所
    ("镇江今年高考本二达线率是多少?", "other_place"),  # 句容's 56.9%
    ("苏州今年新增了多少个公办小学学位?", "other_place"),  # 吴中's 4320个
    ("沧州今年本二上线多少人?", "other_place"),  # 003's 856人, beside 荣获沧州市…奖
    ("句容的留守儿童有多少人?", "figure_not_given"),  # 专职保安241名
    ("这份总结写的是哪个县?", "place_not_given"),  # 003 masks its county, 我县
    ("吳中中專在省裡創新比賽拿一等獎的那兩個學生叫什麼名字?", "name_not_given"),  # 2名學生
    ("句容的校车接送一趟要多长时间?", "figure_not_given"),  # 257条 lines, no time
    ("吉林的幼儿园生均公用经费每年多少钱?", "figure_not_given"),  # 小学's and 初中's
    ("句容下蜀中学今年高考本二上线多少人?", "other_school"),  # the city's 62人
    ("句容理科前1万名里男生有几个?", "figure_not_given"),  # 理科45人, of either sex
    ("吉林给中职学生免学费一年花了多少钱?", "figure_not_given"),  # 每生每年3000元
    ("句容想借哪座大城市的明校力量?", "place_not_given"),  # 鲁云龙同学 names no place
    ("白寨鎮的戲迷俱樂部是哪一年成立的?", "figure_not_given"),  # xx年5月4日, a masked year
    ("苏州工业园区今年新增了多少个公办学位?", "other_place"),  # 吴中's, another district
    ("句容的初中有多少个在编老师?", "figure_not_given"),  # 14位名师
    ("吉林市教育局的局长是谁?", "name_not_given"),  # the plan's aims, no one named
    ("吉林的职教产业园区建在哪个区?", "place_not_given"),  # 职教产业园区, no district
    ("句容今年哪所学校的高考成绩最好?", "place_not_given"),  # the city's 13.5%, no school
    ("县里给教师培训一年花了多少钱?", "figure_not_given"),  # 70万元用于购置音美器材
    ("吉林今年给每个农村学校配了几台电脑?", "figure_not_given"),  # 1160台 in all
])
def test_a_refusal_says_what_the_closest_sentence_lacks(model_engine, monkeypatch, question,
                                                        why):
    # What the sentence lacks is the reason however sure the model is: above the answer
    # threshold and below it.
    for threshold in ("0", "1"):
        monkeypatch.setenv("POLICYQA_ANSWER_MIN_SCORE", threshold)
        assert ask(model_engine, question).refused_because == why


@pytest.mark.model
@pytest.mark.parametrize("question, asked", [
    # 003 is a county's report (我县); 吴中's passages rank above it, and a district's
    # report is not the county's, so they give way to 003's, as answer and as first hit.
    ("那个县的中学考上一本的有多少人?", "312人"),
    ("这个县的中专有什么特色专业?", "船员培训"),
])
def test_a_report_that_may_be_of_the_place_asked_answers_before_one_that_cannot(
        model_engine, question, asked):
    result = ask(model_engine, question)
    assert result.answerable and asked in result.citations[0].quote
    catalog = model_engine.generation().catalog
    assert catalog.passages[result.hits[0].passage_id].doc_id.startswith("003_")


@pytest.mark.model
def test_the_answer_serialises_with_its_passages(any_engine):
    catalog = any_engine.generation().catalog
    result = ask(any_engine, "吉林市直属学校的班主任津贴每月多少钱?")
    data = answer_dict(result, catalog)
    assert list(data) == ["ok", "question", "mode", "answerable", "answer", "citations", "passages",
                          "generated", "flags", "read_as", "confidence", "tentative",
                          "refused_because"]
    assert data["read_as"] is None and data["refused_because"] is None  # asked as typed
    assert data["ok"] is True and data["answerable"] is True and data["generated"] is False
    assert "人均每月400元" in data["answer"]
    (citation, *_) = data["citations"]
    assert list(citation) == ["n", "passage_id", "doc_id", "title", "section", "paragraph_no",
                              "quote", "start", "end", "reference"]
    assert citation["title"] == "吉林市教育局2016年工作要点"
    assert [p["passage_id"] for p in data["passages"]] == [h.passage_id for h in result.hits]
    assert {"text", "highlight", "score", "rank", "scores"} <= set(data["passages"][0])


@pytest.mark.model
def test_garbled_text_is_never_cited(any_engine):
    catalog = any_engine.generation().catalog
    dense = any_engine.generation().retriever("semantic")
    garbled = [p for p in catalog.passage_list if p.garbled]
    assert garbled
    question = "多少个学校建成了录播教室?"  # answered only by a garbled sentence
    hits = [Hit(p.passage_id, 1.0, rank) for rank, p in enumerate(garbled, start=1)]
    result = answer(question, hits, catalog, dense)
    spans = {d: catalog.documents[d].garbled_spans for d in catalog.documents}
    for scored in score_sentences(question, hits, catalog, dense):
        assert "\ufffd" not in scored.text
        assert not any(s < scored.end and scored.start < e for s, e in spans[scored.passage.doc_id])
    for citation in result.citations:
        assert "\ufffd" not in citation.quote


# -- without the model: the parts ------------------------------------------------------

DOC = Document(doc_id="d1", source="d1.txt", title="某市教育局2016年工作总结",
               text="一、工作总结\n全年开通接送学生线路257条,投入车辆148辆。集中接送学生6745人;"
                    "配备专职保安241名。\n二、明年打算\n加快建设文昌路小学,缓解城区就学压力。")


@pytest.fixture(scope="module")
def small():
    return Catalog([DOC], split_passages(DOC))


def test_question_analysis_finds_kind_words_and_focus():
    asked = analyse("句容市2016年小学在校生人数是多少?")
    assert asked.kind == "number"
    assert "多少" not in asked.terms and "在校生" in asked.terms
    assert asked.focus == ["在校生", "人数"]
    assert keyword_query("校车安全怎么保障?") == "校车安全 OR 保障"  # a userdict term


@pytest.mark.parametrize("question, kind", [
    ("什么时候开始实施?", "date"),
    ("哪位老師獲評全國模範教師?", "person"),  # folded first
    # A number named, yes or no asked; a number asked, whatever else is.
    ("三星高中二本上線的比例是不是翻了一倍?", "yesno"),
    ("本二上线的比例是多少?", "number"),
    ("局里隔多久下去查一回学校有没有危险?", "number"),
    # The everyday ways to ask: 啥时候, 哪个学生, 多快, and a verb, 不, the verb again.
    ("那些接孩子的车啥时候要换掉?", "date"),
    ("句容哪个学生拿到了清华北大的降分录取机会?", "person"),
    ("吳中學校接的網速有多快?", "number"),
    ("白寨鎮的網吧讓不讓未成年人進?", "yesno"),
    ("学校收不收赞助费?", "yesno"),
    # 哪一人, 哪一位; 哪国, 哪一个省 (哪个人口 asks for no person).
    ("华氏温标是哪一人所制定的?", "person"),
    ("哪一位老师获奖?", "person"),
    ("第一款机车是由哪国的公司制造的?", "place"),
    ("台前县位处山东省以及哪一个省的交界处?", "place"),
    ("哪个人口最多?", None),
    # 叫什么 asks for a person only after a word for one; 时间是 asks for a date.
    ("句容教育局局长叫什么名字?", "person"),
    ("凉茶铺又叫什么?", None),
    ("校长的名字是什么?", "person"),
    ("以骨干老师名字挂牌的工作室有几个?", "number"),  # 名字 named, not asked for
    ("潘仕成逝世的时间是?", "date"),
])
def test_a_question_kind_is_read_from_how_it_asks(question, kind):
    assert analyse(question).kind == kind


@pytest.mark.model
def test_a_number_question_tells_a_sentence_without_a_number_apart(model_engine):
    generation = model_engine.generation()

    def number_cue_miss(question: str) -> dict[str, float]:
        hits = model_engine.search(question, mode="hybrid", k=5, generation=generation).hits
        scored = score_sentences(question, hits, generation.catalog,
                                 generation.retrievers["semantic"])
        return {s.text: s.features["number_cue_miss"] for s in scored}

    counted = number_cue_miss("吳中今年有多少考生過了二本線?")
    assert counted["三星級高中本二達線率均實現翻番。"] == 1.0
    assert not any(miss for text, miss in counted.items() if "1058人" in text)
    # A yes-or-no question asks for no number.
    assert set(number_cue_miss("吳中的高考是不是取得了突破?").values()) == {0.0}


def test_the_places_a_question_names_are_divisions_not_common_words():
    assert analyse("相城區2017年新增了多少個公辦幼兒園學位?").specifics == {"相城", "2017"}
    assert analyse("长春小学生每人每年的公用经费是多少?").specifics == {"长春"}
    assert analyse("白寨鎮的村民多久能看一回不要錢的電影?").specifics == {"白寨"}  # a town
    assert analyse("新疆维吾尔自治区派了几个老师?").specifics == {"新疆"}
    # Cities and districts that jieba's dictionary tags as common nouns or names, though
    # it tags their 市/县/区 forms as places.
    assert analyse("金坛的中考平均分比镇江市区低多少?").specifics == {"金坛", "镇江"}
    assert analyse("合肥和大连今年各招了多少名特岗教师?").specifics == {"合肥", "大连"}
    # Prefecture-level cities that jieba reads more often alone than as 保定市, 嘉兴市
    # (CITY_READING_RATIO); a county whose spoken name would be one character (献县).
    assert analyse("保定和嘉兴的本二上线人数是多少?").specifics == {"保定", "嘉兴"}
    assert analyse("南通和烟台今年招了多少名老师?").specifics == {"南通", "烟台"}
    assert analyse("献县的中学本二上线人数是多少?").specifics == {"献县"}
    # Division names that are mostly everyday words stay words.
    assert analyse("振兴乡村教育,2018年平安校园建了几所?").specifics == {"2018"}
    assert analyse("学校发了多少白银,来宾有几位?").specifics == frozenset()
    assert analyse("城区和东区的学校有几所?").specifics == frozenset()
    # Words jieba's dictionary tags as places, and a division's name cut out of a phrase.
    for question in ["县中过二本线的娃有多少?", "老师们每个礼拜哪天要集中充电?",
                     "想借哪座大城市的名校力量?", "市里怎么逼着下面各乡镇把教育抓好?",
                     "动手造东西有没有成立什么组织?"]:
        assert analyse(question).specifics == frozenset(), question


def test_a_place_its_report_names_elsewhere_is_not_missing(corpus):
    catalog = Catalog(corpus.documents, corpus.all_passages())
    places = next(p for p in catalog.passage_list if "公辦小學學位4320個" in p.text)
    paragraph = fold(places.text)
    report = fold(catalog.documents[places.doc_id].text)
    assert "吴中" not in paragraph  # the report names its district, this paragraph does not
    asked = analyse("吳中今年多出多少個公立小學的位子?")
    assert missing_specifics(asked, paragraph) == 1.0
    assert missing_specifics(asked, paragraph, lambda: report) == 0.0
    # Another district stays missing; so does a year that only other paragraphs name.
    assert missing_specifics(analyse("相城區今年新增了多少個公辦幼兒園學位?"), paragraph,
                             lambda: report) == 1.0
    assert "2017" in report and "2017" not in paragraph
    assert missing_specifics(analyse("吳中2017年新增了多少個公辦小學學位?"), paragraph,
                             lambda: report) == 0.5


def test_the_city_of_a_report_that_masks_it_is_not_missing(corpus):
    # 002 never names 青岛 (xx市), but the counties it names (平度) are 青岛's.
    qingdao = next(fold(d.text) for d in corpus.documents if d.doc_id.startswith("002"))
    assert "青岛" not in qingdao
    assert missing_specifics(analyse("青岛今年新开工了几所中小学?"), "", lambda: qingdao) == 0.0
    assert missing_specifics(analyse("南京今年新开工了几所中小学?"), "", lambda: qingdao) == 1.0
    # A report that names its places is not taken for another city (句容's is 镇江's).
    jurong = next(fold(d.text) for d in corpus.documents if d.doc_id.startswith("000"))
    assert missing_specifics(analyse("青岛今年招了多少名老师?"), "", lambda: jurong) == 1.0


def test_a_place_neither_the_paragraph_nor_its_report_names_is_another_place(corpus):
    reports = [fold(document.text) for document in corpus.documents]
    jurong = next(text for text in reports if "句容" in text and "丹阳" in text)
    wuzhong = next(text for text in reports if "吴中" in text and "xx市" in text)

    def another(question: str, report: str) -> bool:
        return names_another_place(analyse(question), "", lambda: report)

    assert another("金坛的中考平均分是多少?", jurong)
    # The report names 丹阳 only to compare with it (与丹阳比相差6.7分): it gives the gap,
    # not 丹阳's own figures, unless the question compares too.
    assert another("丹阳的中考平均分是多少?", jurong)
    assert another("丹阳的小学分了几个片区?", jurong)
    assert not another("句容跟丹阳比,中考平均成绩还落后多少?", jurong)
    assert not another("扬中的中考均分比句容高多少?", jurong)
    assert not another("丹阳2016年高考考上二本的比例是多少?", jurong.replace("与丹阳比", "丹阳"))
    assert not another("镇江今年招了多少名老师?", jurong)  # 句容's city
    assert not another("新疆派了几个老师?", jurong)  # a province: 援疆 names it too
    # 吴中's report masks its city (XX市) but names its district, so 苏州 is its city.
    assert another("南京今年招了多少名老师?", wuzhong)
    assert not another("苏州今年招了多少名老师?", wuzhong)
    # It names its district too (吴中), so another district of 苏州 it never names is not
    # its own: not 相城, not 昆山. Unless the question names a place the report names
    # as well: the XX市 of its part on 白寨 may be 新密.
    assert another("相城区今年招了多少名老师?", wuzhong)
    assert another("昆山今年新增了多少个公办小学学位?", wuzhong)
    assert not another("新密市白寨镇有几个村的文化大院通过了验收?", wuzhong)
    # A place the paragraph names is named, whatever the report.
    assert not names_another_place(analyse("金坛的中考平均分是多少?"), "金坛中考", lambda: jurong)


@pytest.mark.parametrize("question, doc, own", [
    ("句容今年招了多少名老师?", "000", True),
    ("镇江今年招了多少名老师?", "000", True),  # 句容 is one of its counties
    # Named once, for the schools 句容 works with (对接南京优质教育资源): 句容's report may
    # be of 南京 as far as names_another_place can tell, but it is not 南京's.
    ("南京今年招了多少名老师?", "000", False),
    ("丹阳今年招了多少名老师?", "000", False),  # named only to compare with
    ("句容跟丹阳比,中考平均成绩还落后多少?", "000", True),  # 丹阳 compared, 句容 asked
    # 002 masks its city, but 平度 is one of 青岛's; it names 北京 twice, as a partner.
    ("青岛今年招了多少名老师?", "002", True),
    ("北京今年招了多少名老师?", "002", False),
    ("吳中今年新增了多少個公辦小學學位?", "004", True),
    ("那个县的小学有多少所?", "003", True),  # 003 speaks of itself as 我县
    ("那个县的小学有多少所?", "004", False),  # a district's report
    ("小学有多少所?", "003", False),  # no place asked
])
def test_a_report_is_of_the_place_asked_by_what_it_says_of_itself(corpus, question, doc, own):
    report = next(fold(d.text) for d in corpus.documents if d.doc_id.startswith(doc))
    assert is_of_the_place_asked(analyse(question), lambda: report) is own


def test_a_passage_names_the_places_asked_unless_it_only_compares():
    assert names_the_places_asked(analyse("句容今年招了多少名老师?"), fold("句容市招聘教师"))
    assert not names_the_places_asked(analyse("句容今年招了多少名老师?"), fold("我市招聘教师"))
    # 丹阳 is compared with, 句容 asked of: a passage naming only 丹阳 does not name it.
    assert not names_the_places_asked(analyse("句容跟丹阳比,中考均分还落后多少?"),
                                      fold("与丹阳比相差6.7分"))
    assert not names_the_places_asked(analyse("那个县的小学有多少所?"), fold("我县小学"))


def test_the_candidates_of_a_report_of_the_place_asked_are_taken_first():
    def candidate(text: str, **features: float) -> Sentence:
        return Sentence(None, 0, len(text), text, None, features=dict(features))

    other = candidate("吴中的", place_miss=1.0)
    own = candidate("县里的", place_own=1.0)
    neither = candidate("不知哪里的")
    assert of_the_place_asked([other, neither, own]) == [own]
    assert of_the_place_asked([other, neither]) == [other, neither]  # none is of it
    # The best passage names the place asked itself: it stays the best.
    named = candidate("都江堰、…", place_named=1.0)
    assert of_the_place_asked([named, own]) == [named, own]
    assert of_the_place_asked([]) == []


@pytest.mark.parametrize("question, sentence, otherwise", [
    ("2015年本一达线率是多少?", "2016年全市高考稳中有升,文理类本一达线率13.5%;", True),
    ("2015年本一达线率是多少?", "（三）2016年,本一达线率13.5%", True),  # after a list number
    ("2016年本一达线率是多少?", "2016年全市高考稳中有升,文理类本一达线率13.5%;", False),
    ("2016年本一达线率是多少?", "2015-2017年,本一达线率年均提高2个百分点", False),  # a span
    # A figure or date asked for: another year anywhere in the sentence dates it ...
    ("2017年打算新添多少平方米的校舍?", "结合薄弱学校改造,2016年计划实施校安工程37.6万平方米",
     True),
    ("2017年哪天开园?", "新建幼儿园于2016年9月1日开园", True),
    # ... unless the figure is only compared with it.
    ("2016年本二达线率是多少?", "本二达线率56.9%,比2015年提高4.4个百分点", False),
    ("2015年本二达线率是多少?", "本二达线率56.9%,比2015年提高4.4个百分点", False),
    # Another question: a year named after the opening dates another event.
    ("2008年总决赛为何被誉为梦幻对决?", "本届总决赛是继1987年以后再一次由湖人对决", False),
    ("有多少人参加培训?", "2016年共11.9万人参与了社区培训", False),  # no time asked
])
def test_a_sentence_dated_otherwise(question, sentence, otherwise):
    assert dated_otherwise(analyse(question), fold(sentence)) is otherwise


@pytest.mark.parametrize("question, context, counterpart", [
    ("下半年有多少人参加培训?", "上半年,共11.9万人参与了社区培训", True),
    ("上半年有多少人参加培训?", "上半年,共11.9万人参与了社区培训,下半年继续开展", False),
    # Report 002 is in two parts: the first half's work, then the second half's plans.
    ("下半年要办哪些实事?", "一、上半年工作情況 新建改扩建幼儿园10所", True),
    ("下半年要办哪些实事?", "二、存在問題和下半年工作打算 新建改扩建幼儿园10所", False),
    ("句容高考成绩在镇江各县市里排第几?", "2016年中考,我市中考均分与镇江市区比相差34.5分", True),
    ("木瀆高中考上一本的比例是多少?", "木瀆高級中學本二達線率超90%;", True),
    ("民办幼儿园有几所?", "全市公办幼儿园57所", True),  # 民办幼儿园 is one word
    # 专兼职 names both kinds, not how many are 专职 (003's 兼职督导员).
    ("每个乡镇配了几个专职督导员?", "(各乡镇均配备兼职督导员)督导网络,一支专兼职结合的队伍", True),
    ("每个乡镇配了几个专职督导员?", "各乡镇配备专职督导员2名", False),
    ("县中考上一本的比例是多少?", "文理类本一达线率13.5%", False),  # 县/中/考上: no 中考
    # jieba cuts 本一达线率 as 本/一/达线率: a run of one-character words names 本一.
    ("吴中今年高考本一达线率是多少?", "文理科本二以上達線人數1058人,達線率首次突破50%", True),
    ("文科前2500名有多少人?", "进入全省理科前1万名、文科前2500名的人数总数达到62人", False),
    ("有多少人参加培训?", "上半年,共11.9万人参与了社区培训", False),  # nothing asked
])
def test_a_sentence_about_the_counterpart_of_what_is_asked(question, context, counterpart):
    assert names_the_counterpart(analyse(question), fold(context)) is counterpart


def test_a_sentence_without_a_year_is_dated_by_its_report():
    asked, sentence = analyse("2015年新建了几所幼儿园?"), fold("全市新建改扩建公办幼儿园57所")
    assert dated_otherwise(asked, sentence, frozenset(expand_years("2016"))) is True
    assert dated_otherwise(asked, sentence, frozenset(expand_years("2015-2016"))) is False
    assert dated_otherwise(asked, sentence) is False  # a report of no known year
    # A sentence that names the year asked answers for it, whatever the report's year.
    assert dated_otherwise(asked, fold("比2015年新增幼儿园3所"),
                           frozenset(expand_years("2016"))) is False
    assert expand_years("2016-2018") == ["2016", "2017", "2018"] and expand_years(None) == []


def test_sentences_have_document_offsets_and_skip_headings(small):
    spans = [s for p in small.passage_list for s in sentences(p)]
    quotes = [DOC.text[start:end] for start, end in spans]
    assert quotes == ["全年开通接送学生线路257条,投入车辆148辆。", "集中接送学生6745人;",
                      "配备专职保安241名。", "加快建设文昌路小学,缓解城区就学压力。"]


def sentence_quotes(corpus, prefix: str) -> list[str]:
    """The answerable sentences of a bundled report, as quoted."""
    doc_id = next(d.doc_id for d in corpus.documents if d.doc_id.startswith(prefix))
    return [passage.text[start - passage.start:end - passage.start]
            for passage in corpus.passages[doc_id] for start, end in sentences(passage)]


def test_items_of_a_running_list_are_sentences_and_numbered_lines_are_headings(corpus):
    """Report 001 lists its aid as 一是…九是… in one line: each item is a sentence a
    question may be answered with. Its numbered lines (1.深入推进中小学德育工作。) head
    sections and answer nothing."""
    quotes = sentence_quotes(corpus, "001")
    items = [q for q in quotes if re.match("[一二三四五六七八九]是", q)
             and ("资助" in q or "免费" in q or "补助" in q or "免除" in q)]
    assert [q[0] for q in items] == list("一二三四五六七八九")
    assert "九是为全市低保家庭中小学生提供免费午餐补贴。" in items
    assert not [q for q in quotes if re.match(r"\d+\.", q) and len(q) <= 26]
    assert "5.大力发展学前教育。" not in quotes


def test_a_numbered_line_ending_in_a_semicolon_is_a_list_item(corpus):
    """In report 004 a scraped heading ran into its first item: the line ends in a
    semicolon, like the items of a list, not in 。 like the headings around it."""
    quotes = sentence_quotes(corpus, "004")
    assert "（九）創新教育人力資源管理跨學段交流教師59名;" in quotes
    assert "（五）強化教育環境治理。" not in quotes


def test_lexical_answer_and_citation_numbers(small):
    hits = [Hit(p.passage_id, 1.0, i) for i, p in enumerate(small.passage_list, start=1)]
    result = answer("一共配备了多少名专职保安?", hits, small)
    assert result.answerable
    assert result.citations[0].quote == "配备专职保安241名。"
    assert result.text.startswith("配备专职保安241名。[1]")


def test_adjacent_sentences_of_one_passage_are_quoted_together(small):
    hits = [Hit(p.passage_id, 1.0, i) for i, p in enumerate(small.passage_list, start=1)]
    scored = score_sentences("接送学生", hits, small)
    chosen = sorted((s for s in scored if "接送" in s.text), key=lambda s: s.start)
    citations, text = cite(chosen, small)
    assert citations == [Citation(1, chosen[0].passage.passage_id, "d1", DOC.title,
                                  chosen[0].passage.section, chosen[0].passage.paragraph_no,
                                  "全年开通接送学生线路257条,投入车辆148辆。集中接送学生6745人;",
                                  chosen[0].start, chosen[1].end)]
    assert text == "全年开通接送学生线路257条,投入车辆148辆。集中接送学生6745人;[1]"


def test_no_hits_means_no_answer(small):
    result = answer("校车有多少辆?", [], small)
    assert not result.answerable and result.citations == [] and result.hits == []
    assert answer_dict(result, small)["passages"] == []


def test_sentences_from_different_reports_are_labelled_with_their_report():
    other = Document(doc_id="d2", source="d2.txt", title="吉林市教育局2016年工作要点",
                     region="吉林市", text="全市开通校车线路120条,覆盖所有农村学校。")
    unnamed = Document(doc_id="d3", source="d3.txt", title="某县关于进一步加强校园足球工作的通知",
                       text="全县建成校园足球特色学校12所。")
    catalog = Catalog([DOC, other, unnamed],
                      [p for d in (DOC, other, unnamed) for p in split_passages(d)])
    hits = [Hit(p.passage_id, 1.0, i) for i, p in enumerate(catalog.passage_list, start=1)]
    scored = score_sentences("校车线路有多少条", hits, catalog)
    chosen = [next(s for s in scored if s.passage.doc_id == d) for d in ("d1", "d2", "d3")]
    citations, text = cite(chosen, catalog)
    quotes = [c.quote for c in citations]
    # A region, else the title cut to a dozen characters.
    assert text == (f"某市教育局2016年工作…：{quotes[0]}[1]  吉林市：{quotes[1]}[2]  "
                    f"某县关于进一步加强校园足…：{quotes[2]}[3]")
    # One report: no labels.
    assert cite(chosen[:1], catalog)[1] == f"{quotes[0]}[1]"


@pytest.mark.model
def test_a_right_answer_the_model_is_unsure_of_is_marked_tentative(model_engine, monkeypatch):
    # Both answered right: the first with an answerability (about 0.17) below the model's
    # sure threshold (about 0.27), under which about half the answers are right; the
    # second far above it.
    from indexer.answer.model import load_model

    threshold = load_model().variant(dense=True).sure_threshold
    unsure = ask(model_engine, TENTATIVE_QUESTION)
    assert unsure.answerable and TENTATIVE_ANSWER in unsure.text
    assert unsure.tentative and unsure.confidence < threshold
    sure = ask(model_engine, SURE_QUESTION)
    assert sure.answerable and SURE_ANSWER in sure.text
    assert not sure.tentative and sure.confidence >= threshold
    data = answer_dict(unsure, model_engine.generation().catalog, "hybrid")
    assert data["tentative"] is True and data["confidence"] == round(unsure.confidence, 3)
    monkeypatch.setenv("POLICYQA_ANSWER_SURE_MIN_SCORE", "0.1")  # the setting overrides
    assert not ask(model_engine, TENTATIVE_QUESTION).tentative
