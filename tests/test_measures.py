"""What a figure or date question counts, and whether a sentence writes it
(:mod:`indexer.answer.measures`)."""

from __future__ import annotations

import pytest

from indexer.answer.measures import (
    asks_figure,
    counts_only_passers,
    counts_the_counterpart,
    gives_only_changes,
    gives_only_gaps,
    gives_only_rates,
    has_measure,
    lacks_a_year,
    lacks_count,
    lacks_day,
    lacks_figure,
    lacks_time,
    spent_on_another_purpose,
)
from indexer.answer.question import analyse
from indexer.text.analysis import fold


@pytest.mark.parametrize("question, measure, answering, other", [
    # What a number question counts, and sentences of the bundled reports with and without it.
    ("吉林小学生均公用经费一年多少钱?", "money", "小学生均公用经费每生每年600元",
     "新建改扩建公办幼儿园57所"),
    ("句容一共配了多少名专职保安?", "people", "配备专职保安241名", "投入车辆148辆"),
    ("吳中有多少所學校建成了錄播教室?", "institutions", "40余所学校建成录播教室",
     "完成百兆宽带接入100%"),
    ("指標生占招生計劃的比例是多少?", "percent", "指标生计划占招生计划的60%", "人均每月400元"),
    ("校安工程總面積多大?", "size", "总面积为37.6万平方米", "结转31.6万元"),
    ("句容中考均分比丹阳低几分?", "score", "与丹阳比相差6.7分", "减少了6.7%"),
    # Points, not 十分 ("very") or the 百分 of 百分点.
    ("陳蓉高考考了多少分?", "score", "平均分为七十五分", "较去年增长14.81个百分点"),
    ("陳蓉高考考了多少分?", "score", "考了650分", "成绩十分突出"),
    ("外籍教师一年工资多少钱?", "money", "年薪约3万美元", "聘请外籍教师12名"),
    # A date question that asks for a calendar date (什么时候 may be 受惊吓时: no measure).
    ("國際教育信息化大會是哪一年開的?", "calendar", "2015年5月在青岛召开", "来自xx多个国家"),
    ("投资发展银行是哪一年创立的?", "calendar", "创立于1957年4月26日", "投资1.7亿元"),  # not money
    # In tens of thousands, in another word for a month; a masked figure gives none.
    ("在學校踢足球的青少年有多少萬人?", "people", "青少年达到3.2万人", "青少年达到x.x万人"),
    ("吉林学校今年一共投了多少万元?", "money", "投入资金70万元", "投入车辆148辆"),
    ("班主任津贴是从哪个月开始涨的?", "calendar", "从9月起", "人均每月400元"),
    ("那179个新老师是哪几个月招进来的?", "calendar", "3月至5月", "招聘179名新教师"),
    ("多大比例的中小学加入了?", "percent", "已有一半以上的中小学参与试点", "参与试点的学校57所"),
    # What 多少 counts comes before a word for what is measured (投入 names money).
    ("一共投入了多少名专职保安?", "people", "配备专职保安241名", "投入资金70万元"),
    # People named after the count; a count in 个 only before a school's name.
    ("鎮上的數字電影放映隊有幾個放映員?", "people", "培训放映员12名", "全镇23个行政村"),
    ("白寨那場戲迷演唱會,台下來了多少觀眾?", "people", "吸引观众2000余人", "演出3场"),
    ("句容全市一共有多少所中小学?", "institutions", "建成19个乡镇中心校",
     "配备专职保安241名,安装视频监控探头2000余个"),
])
def test_a_number_question_knows_what_it_counts(question, measure, answering, other):
    asked = analyse(question)
    assert asked.measure == measure
    assert has_measure(asked, answering) is True and has_measure(asked, other) is False


def test_questions_that_count_nothing_in_particular_have_no_measure():
    for question in ["县里哪几所乡下初中冒头最快?", "一年开了几回校长会?", "校车安全怎么保障?",
                     "吉林市什么时候完成非专用校车更新？",
                     "动车组是何时投入服务的?",  # a date question: 投入 is no sum asked for
                     "多倫多大學的主要校區是哪個校區?",  # 多大 inside a name
                     "哪个年级的学生最多?",  # 哪个年级 is no date
                     "农村小学组建了几个学科的老师队伍?",  # counts 学科, not people
                     "2012年时靖西市境内的人口数为多少?",  # 62万 is written without 人
                     "县教育局把孩子不出事摆在第几位?"]:  # a place in a ranking, no people
        assert analyse(question).measure is None
        assert has_measure(analyse(question), "投入1.7亿元") is None


def test_a_change_in_a_share_is_given_in_points():
    # ow-299: a share asked how it changed is answered by its points; the share itself is not.
    changed = analyse("苏苑高中的二本上线比例比前一年涨了多少?")
    level = analyse("苏苑高中的二本上线比例是多少?")
    points = fold("蘇苑高級中學本二達線率較去年增長23個百分點;")
    assert changed.measure == level.measure == "percent"
    assert has_measure(changed, points) is True
    assert has_measure(level, points) is False
    assert has_measure(changed, fold("本二达线率56.9%")) is True


def test_a_question_asking_how_many_wants_a_figure():
    asked = analyse("吉林全市一共有多少辆校车?")
    assert lacks_figure(asked, fold("加强校车运营管理,年底前完成非专用校车更新任务。"))
    assert lacks_figure(asked, fold("四是加强校车运营管理。"))  # a list item's number
    assert lacks_figure(asked, fold("（三）加强校车运营管理。"))
    # A school grade is no figure (the near miss nm-082's sentence); other ordinals may
    # answer, and 高三 may be 提高三个百分点.
    assert lacks_figure(analyse("吉林读中专学农的,一年能领多少助学金?"),
                        fold("六是设立中等职业学校助学金,资助中等职业学校一、二年级涉农专业学生。"))
    assert lacks_figure(asked, fold("校车安全月在高三年级启动"))
    # 一年来 is "over the past year" (003's summing-up), no figure.
    assert lacks_figure(analyse("那个县今年辍学的学生有多少?"),
                        fold("一年来,我们较好地履行职责,使我县的教育工作取得了一些成绩"))
    assert not lacks_figure(analyse("句容中考成绩在镇江排名多少?"), fold("位列镇江第三"))
    assert not lacks_figure(analyse("本二达线率提高了多少?"), fold("比去年提高三个百分点"))
    for figure in ["投入车辆148辆", "一半以上的校车", "二十二辆校车", "校车3.5万辆"]:
        assert not lacks_figure(asked, fold(figure))
    # Words that count nothing are no figure (进一步, 统一, 十分).
    assert lacks_figure(asked, fold("进一步统一校车管理,十分重视安全"))
    assert not lacks_figure(asked, fold("进一步增加校车30辆"))
    # 多久 asks how often: no figure is required.
    assert not lacks_figure(analyse("局里隔多久查一回学校?"), fold("每季度组织督查检查"))
    # A prize's grade counts nothing: 002 masks how many first prizes (xx個), and 几等奖
    # asks for the grade itself.
    prizes = analyse("青岛在全国职业院校技能大赛拿了几个一等奖?")
    assert lacks_figure(prizes, fold("在XXXX年全國職業院校技能大賽中,我市獲xx個一等獎"))
    assert not lacks_figure(prizes, fold("市級一等獎8人次、二等獎25人次"))
    assert not asks_figure(analyse("吴中的学生在省赛拿了几等奖?"))


@pytest.mark.parametrize("question, asks", [
    ("吳中那些抱團辦學的初中,一共結成了幾個共同體?", True),  # the near miss nm-134
    ("句容教育局班子集中学习了几次?", True),
    ("县里有几所,都是哪几所?", False),  # a list of names is asked too
    ("县里哪几所乡下初中冒头最快?", False),
    ("句容中考成绩排第几?", False),
    ("吉林的职教改革从几个方面入手?", False),  # a list may answer
    ("校园里有几种树?", False),
    ("句容几乎所有学校都通了宽带吗?", False),
])
def test_a_question_asking_how_many_by_ji_wants_a_figure_unless_it_asks_more(question, asks):
    assert asks_figure(analyse(question)) is asks


def test_a_figure_with_ji_is_required_of_the_sentence():
    asked = analyse("吳中那些抱團辦學的初中,一共結成了幾個共同體?")
    # The sentence nm-134 was answered with: it holds no figure but 进一步's 一.
    assert lacks_figure(asked, fold("進一步推進初中辦學共同體建設,在教育資源共享、學校文化共建、"
                                    "教育優勢互補等方面,推動了共同體學校的整體發展。"))
    assert not lacks_figure(asked, fold("组建初中办学共同体5个"))
    assert not lacks_figure(asked, fold("组建三个初中办学共同体"))


@pytest.mark.parametrize("question, sentence, only_changes", [
    # A total asked; the sentences of the bundled reports give what was added or planned.
    ("全县有多少所幼儿园?", "計劃新改擴建的8所公辦幼兒園,6所已于今年9月1日投入使用,"
     "東山實小幼兒園、木瀆三小幼兒園將于年底啟用;", True),
    ("吳中全區一共有多少個中小學老師?", "新增XX市學科帶頭人27名,評出XX區知名教師10名、"
     "XX區學科帶頭人79名。", True),
    ("句容全市一共有多少所中小学?", "郭庄教育产业园、文昌路小学、下蜀中学、边城中心小学、"
     "葛村中心幼儿园等19所学校正在紧锣密鼓的建设中;", True),
    ("吴中区一共有多少所民办幼儿园?", "依法批辦民辦幼兒園6所、非學歷教育機構2個;", True),
    # A total asked after the place and its 的: a place is no verb.
    ("吴中的民办学校有多少所?", "依法批辦民辦幼兒園6所、非學歷教育機構2個;", True),
    ("这个县的小学有多少所?", "计划新建小学3所", True),
    # A clause that gives the total answers, whatever else the sentence adds.
    ("全县有多少所幼儿园?", "全县现有幼儿园57所,今年新建3所。", False),
    ("句容全市一共有多少名专职保安?", "配备专职保安241名", False),
    # Not a total: how many were added, or how many did something (an event).
    ("今年新建了多少所幼儿园?", "計劃新改擴建的8所公辦幼兒園,6所已于今年9月1日投入使用;", False),
    ("县城那所高中考过一本的有多少人?", "新增本一达线考生120人", False),
    ("句容有几位老师评上了省里正高职称?", "新增省职教正高级讲师1人", False),
    ("全市有多少名教师参加培训?", "全年培训教师3000人次", False),
    ("吉林现代学徒制试点有几所市直职校参加?", "计划新增试点职校12所", False),
    ("評上市裡陽光好少年的吳中孩子有幾個?", "新增市阳光好少年12名", False),  # a verb before 的
])
def test_a_total_is_not_answered_by_what_was_added_or_planned(question, sentence,
                                                               only_changes):
    assert gives_only_changes(analyse(question), fold(sentence)) is only_changes


@pytest.mark.parametrize("question, sentence, only_gaps", [
    # A level asked; the sentence gives only how it compares (the first is 句容's report's).
    ("镇江市区的孩子中考平均考多少分?", "2016年中考,我市中考均分与镇江市区比相差34.5分,"
     "较201549.7分缩小了15.2分;", True),
    ("吉林小学生均公用经费一年多少钱?", "小学生均公用经费比上年增加100元", True),
    ("句容二本上线的比例是多少?", "本二达线率比2015年提高4.4%", True),  # 比例 compares nothing
    # A clause that gives the level answers, whatever gap it adds; a level reached is one.
    ("句容二本上线比例是多少?", "本二以上达线率56.9%,比2015年提高4.4个百分点,"
     "超出全省平均水平15个百分点", False),
    ("吴中本二达线率是多少?", "本二达线率提高到56.9%", False),
    # A gap asked: a gap answers it.
    ("句容中考平均分比镇江市区低多少?", "我市中考均分与镇江市区比相差34.5分", False),
    ("苏苑高中的二本上线比例比前一年涨了多少?", "蘇苑高級中學本二達線率較去年增長23個百分點;",
     False),
    # Not a level: a count of people added answers a count (the total rule's concern).
    ("吴中有多少人过了二本线?", "较去年增加200人", False),
])
def test_a_level_is_not_answered_by_a_gap_alone(question, sentence, only_gaps):
    assert gives_only_gaps(analyse(question), fold(sentence)) is only_gaps


PASSERS = "高中段教育教学成绩连年攀升,*中学本二上线人数突破800大关,达856人,本一上线人数312人"


@pytest.mark.parametrize("question, sentence, only_passers", [
    # The near misses nm-053 and nm-140: 003 counts its exam's passers, not those trained
    # or enrolled.
    ("這個縣的船員培訓一年培養多少人?", PASSERS, True),
    ("沧州那个县的中专今年招进来多少新生?", PASSERS, True),
    # An exam asked of: its passers answer.
    ("县城那所高中考过一本的有多少人?", PASSERS, False),
    ("县里的中学本二上线人数是多少?", PASSERS, False),
    # Another count of people in the sentence answers; a count of no people is not asked.
    ("句容一共配了多少名专职保安?", "本二上线人数856人,配备专职保安241名", False),
    ("句容一共配了多少名专职保安?", "配备专职保安241名", False),
    ("全县有多少所中学?", PASSERS, False),
])
def test_a_count_of_an_exams_passers_answers_only_a_question_about_the_exam(
        question, sentence, only_passers):
    assert counts_only_passers(analyse(question), fold(sentence)) is only_passers


# 001's kindergartens: the count is of 公办 ones, the 民办 ones get a subsidy, uncounted.
KINDERGARTENS = "全市新建改扩建公办幼儿园57所,奖补一批民办普惠性幼儿园,开展终期检查验收"
RATES = "2016年全市高考稳中有升,文理类本一达线率13.5%,本二以上达线率56.9%"


@pytest.mark.parametrize("question, sentence, counterpart", [
    ("吉林有多少所民办普惠性幼儿园拿到了奖补?", KINDERGARTENS, True),
    ("吉林新建了多少所公办幼儿园?", KINDERGARTENS, False),
    ("吉林的民办幼儿园有什么奖补?", KINDERGARTENS, False),  # no figure asked
    # Each side's figure in a clause of its own: the side asked is given.
    ("句容高考本一达线率是多少?", RATES, False),
    ("句容高考本二达线率是多少?", RATES, False),
    ("句容高考本一达线率是多少?", "本二以上达线率56.9%,比2015年提高4.4个百分点", True),
])
def test_a_figure_of_the_counterpart_does_not_answer(question, sentence, counterpart):
    assert counts_the_counterpart(analyse(question), fold(sentence)) is counterpart


# 001's rates of funding per pupil, by stage of schooling.
FUNDING = ("统一全市城乡义务教育学校生均公用经费基准定额:小学每生每年600元、初中每生每年800元,"
           "寄宿制学校按照寄宿生年生均200元标准增加公用经费补助")


# 001's rate for vocational schools.
VOCATIONAL = "公办中职学校生均公用经费标准提高到每生每年3000元(含免学费补助)"
@pytest.mark.parametrize("question, sentence, only_rates", [
    # The probe's near miss: a sum spent in all, answered with rates per pupil.
    ("吉林给中职学生免学费一年花了多少钱?", VOCATIONAL, True),
    ("吉林一共投入了多少钱补助公用经费?", FUNDING, True),
    ("吉林市今年给贫困学生发了多少钱助学金?", FUNDING, True),
    # A sum in all is given beside the rates; or the question asks the rate itself.
    ("吉林一共投入了多少钱补助公用经费?", "全市投入1.2亿元,小学每生每年600元", False),
    ("吉林中职学校生均公用经费一年多少钱?", VOCATIONAL, False),
    ("吉林中职学校的公用经费是多少钱?", VOCATIONAL, False),  # a rate may be what is meant
])
def test_a_rate_per_one_does_not_say_what_was_spent_in_all(question, sentence, only_rates):
    assert gives_only_rates(analyse(question), fold(sentence)) is only_rates


COMPUTERS = "更新市直属学校班级多媒体设备248套,配备计算机1160台"


# 003's sum for music and art equipment, in a passage about training teachers.
EQUIPMENT = ("三年来累计培训近千人次,本年度又投入资金70万元用于购置音美器材,"
             "培训规模、人力物力投入、发挥的效益都是空前的")


@pytest.mark.parametrize("question, sentence, other_purpose", [
    # The probe's near miss: a sum for training asked, one for equipment given.
    ("县里给教师培训一年花了多少钱?", EQUIPMENT, True),
    # The purpose asked in the report's words, in its own words (器具 for 器材), or a sum
    # that says nothing of what it is for.
    ("县里买音美器材花了多少钱?", EQUIPMENT, False),
    ("县里今年又掏了多少钱专门买唱歌画画用的器具?", EQUIPMENT, False),  # ow-160
    ("县里给教师培训一年花了多少钱?", "年内投资809.8万元,完成农村中小学远程教育工程", False),
    ("县里给教师培训一年培训了多少人次?", EQUIPMENT, False),  # no sum asked
])
def test_a_sum_spent_on_something_else_does_not_answer(question, sentence, other_purpose):
    assert spent_on_another_purpose(analyse(question), fold(sentence)) is other_purpose


@pytest.mark.parametrize("question, counted", [
    ("吉林全市一共有多少辆校车?", "辆"),
    ("句容接送学生一共投入了多少辆车?", "辆"),  # 投入 names money; 多少辆 says what is counted
    ("全校一共有多少台电脑?", "台套"),  # 248套 may count them
    ("市長杯足球聯賽有多少支隊伍參加?", "支"),
    ("鄉里給校長們辦的交流會開了多少場?", "场期届轮"),  # 171期
    # 几 asks how many kinds too (几层 → 三级联赛); 次, 项 and 个 count anything.
    ("吉林中小学踢球比赛分成几层来打?", None),
    ("句容教育上半年在大报大台露了多少次脸?", None),
    ("一共安排了多少项行动?", None),
    ("全市有多少个乡镇?", None),
])
def test_a_question_knows_the_classifier_it_counts_in(question, counted):
    assert analyse(question).counted_in == counted


def test_a_question_with_a_measure_counts_in_no_classifier():
    # 多少块 asks money, which its measure checks (元, not 块).
    asked = analyse("一本练习册卖多少块?")
    assert asked.measure == "money" and asked.counted_in is None
    assert not lacks_count(asked, fold("每本2元"))


def test_a_count_of_other_things_does_not_answer_how_many():
    asked = analyse("吉林全市一共有多少辆校车?")
    assert lacks_count(asked, fold(COMPUTERS + "。"))
    assert lacks_count(asked, fold("加强校车运营管理。"))
    for written in ["投入车辆148辆", "二十二辆校车", "校车3.5万辆", "新增校车30余辆"]:
        assert not lacks_count(asked, fold(written))
    assert not lacks_count(analyse("全校一共有多少台电脑?"), fold("多媒体设备248套"))
    assert analyse("目前全世界約有多少台機車?").counted_in == "台套"
    assert not lacks_count(analyse("目前全世界約有多少台機車?"), fold("全世界约有2亿台机车"))


def test_a_question_asking_which_day_wants_a_day():
    asked = analyse("句容那年的全市教育大会是几月几号开的?")
    # The near miss nm-127's sentence: an end of year, no day.
    assert lacks_day(asked, fold("赤岗中学、华阳一幼等学校将在年底前陆续开工。"))
    for given in ["6所已于今年9月1日投入使用", "坚持周六学习日制度", "元宵节期间开展了灯节汇演",
                  "乡试放榜次日设宴"]:
        assert not lacks_day(asked, fold(given))
    # Nor does a question that asks no day want one.
    assert not lacks_day(analyse("教育大会是哪一年开的?"), fold("将在年底前陆续开工"))


def test_a_question_asking_which_year_wants_a_year():
    asked = analyse("白寨鎮的戲迷俱樂部是哪一年成立的?")
    # The near miss nm-230's sentence: its year masked by the report, a month and a day.
    assert lacks_a_year(asked, fold("xx年5月4日下午,在XX市白寨鎮金鑫商店十字路口,由鄭州新世紀"
                                    "\"谷秀榮\"藝術學校和白寨戲迷俱樂部聯合舉辦了…演唱會"))
    assert lacks_a_year(asked, fold("年內,大官廳鄉陳圩中學榮獲河北省示范性家長學校榮譽稱號"))
    for given in ["始建于2008年", "一九四九年建成", "民國元年設立", "去年成立", "同年改名",
                  "成立于1990年代", "十九世紀末傳入"]:
        assert not lacks_a_year(asked, fold(given)), given
    # A question for a day or a grade asks no year (lacks_day reads the day).
    assert not lacks_a_year(analyse("哪一年几月几号开的?"), fold("5月4日"))
    assert not lacks_a_year(analyse("学生读到哪个年级了?"), fold("读到三年级"))


def test_a_question_asking_when_something_will_happen_wants_a_time():
    asked = analyse("新的盲校什麼時候能蓋好?")
    # The near miss nm-038's sentence: the project approved, no time.
    assert lacks_time(asked, fold("盲校新校完成立項審批,幼兒師專、北部職教園區建設前期工作展開。"))
    for given in ["赤岗中学、华阳一幼等学校将在年底前陆续开工", "6所已于今年9月1日投入使用",
                  "尽早修订完善并下发年度《考评方案》", "下学期起全面推行"]:
        assert not lacks_time(asked, fold(given))
    assert lacks_time(analyse("吴中打算什么时候把考评方案发下去?"), fold("修订完善考评方案"))
    # What has happened may be dated by an event (战国时期, 受惊吓时): no time word wanted.
    assert not lacks_time(analyse("长城是什么时候修建的?"), fold("秦始皇统一六国后修建"))
