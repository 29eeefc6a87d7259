"""indexer.ingest.clean on the real scraped corpus: pinyin, mojibake and furniture, as facts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.ingest.clean import REPAIR_KEYS, CleanResult, clean

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
# A pinyin annotation: tone-marked latin in ASCII or full-width parentheses ("?" is one
# whose "(" was swallowed by a broken GBK byte).
PINYIN = re.compile(rf"[(（?][a-zü{TONED}]*[{TONED}][a-zü{TONED}]*[)）]")
HAN_PINYIN = re.compile(rf"[\u4e00-\u9fff][(（][a-zü{TONED}]*[{TONED}][a-zü{TONED}]*[)）]")
# Blocks misaligned GBK produces that no clean Chinese text contains.
MOJIBAKE_CHARS = re.compile("[\u2500-\u259f\u2e80-\u2fff\u3100-\u312f\ufe10-\ufe6f"
                            "\ue000-\uf8ff\ufffd]")


def raw(prefix: str) -> str:
    (path,) = CORPUS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def cleaned() -> dict[str, CleanResult]:
    return {prefix: clean(raw(prefix)) for prefix in ("000", "001", "002", "003", "004")}


# ---------------------------------------------------------------- pinyin
@pytest.mark.parametrize("prefix, count", [("002", 336), ("004", 1714)])
def test_every_pinyin_annotation_is_removed(cleaned, prefix, count):
    assert len(PINYIN.findall(raw(prefix))) == count
    assert HAN_PINYIN.search(cleaned[prefix].text) is None
    assert PINYIN.search(cleaned[prefix].text) is None
    assert cleaned[prefix].repairs["pinyin_removed"] == count


@pytest.mark.parametrize("prefix, token, count", [
    ("000", "(试行)", 2), ("000", "(一)", 1), ("000", "(五)", 1), ("000", "(市、区)", 1),
    ("001", "(2015版)", 1), ("001", "(试行)", 1), ("001", "(2011-2020年)", 1),
    ("002", "(一)", 1), ("002", "(三)", 1), ("002", "(xxxx-xxxx年)", 1),
    ("004", "(2013)", 1), ("004", "(2017)", 1), ("004", "(二)", 1), ("004", "(八)", 1),
])
def test_real_parentheses_survive(cleaned, prefix, token, count):
    assert raw(prefix).count(token) == count
    assert cleaned[prefix].text.count(token) == count


def test_annotations_inside_real_parentheses_go_but_the_parentheses_stay(cleaned):
    assert "(實(shí)驗(yàn)小學(xué))" in raw("004")
    assert "(實驗小學)" in cleaned["004"].text
    assert "書法等級考試人數列縣(市、區)首位" in cleaned["004"].text


@pytest.mark.parametrize("text", [
    "(PPP)模式", "开展(STEM)教育", "学(xue)习", "项目(ban)", "(2015版)", "(一)", "北京(Běijīng)",
])
def test_text_that_only_looks_like_pinyin_stays(text):
    result = clean(text)
    assert result.text == text
    assert result.repairs["pinyin_removed"] == 0


@pytest.mark.parametrize("text, expected", [
    ("學(xué)校", "學校"), ("學（xué）校", "學校"), ("學習(xué xí)", "學習"), ("發(fā)展", "發展"),
])
def test_pinyin_shapes_are_removed(text, expected):
    assert clean(text).text == expected


# ---------------------------------------------------------------- mojibake
def lines(result: CleanResult) -> list[str]:
    return result.text.split("\n")


def test_shifted_gbk_headings_are_repaired(cleaned):
    text = cleaned["004"].text
    assert "。ㄒ唬┰谌暌惠喌" in raw("004")
    (line,) = [ln for ln in lines(cleaned["004"]) if "29次提到我區教育工作的亮點" in ln]
    assert line.startswith("（一）")
    assert line == "（一）在汝一輪的縣級政府教育工作省級督導總報告中,29次提到我區教育工作的亮點。"
    assert "（四）優化教育督導,規范教育教學管理" in lines(cleaned["004"])
    assert ("（五）強化教育環境治理。批量消減無證幼兒園29個,新增學前兒童看護點21個,"
            "完成現場探勘8個,全年新增看護點學位近8000個。全面啟動外來工子弟學校標準化建設。"
            ) in lines(cleaned["004"])
    # The character lost with a byte is recovered from the pinyin annotation that named it.
    assert "（九）創新教育人力資源管理跨學段交流教師59名;" in text
    assert not any(ln.startswith("。") for ln in lines(cleaned["004"]))


def test_mid_line_mojibake_is_repaired(cleaned):
    text = cleaned["004"].text
    for repaired in ("特色和亮點現場督查評估中", "成績蘇州大市獨占鰲頭", "我們農戶上門安裝",
                     "我們鎮黨委政府領導下", "種植當植物花,初步形成", "改革項目學,其中寶帶實小"):
        assert repaired in text
    assert cleaned["004"].repairs["mojibake_repaired"] == 22


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_no_mojibake_is_left_unmarked(cleaned, prefix):
    result = cleaned[prefix]
    marked = "".join(result.text[s:e] for s, e in result.garbled_spans)
    assert MOJIBAKE_CHARS.findall(result.text) == MOJIBAKE_CHARS.findall(marked)
    if prefix != "004":
        assert result.repairs["mojibake_repaired"] == 0
        assert result.garbled_spans == []


def test_unrepairable_mojibake_is_kept_and_marked(cleaned):
    result = cleaned["004"]
    assert result.repairs["mojibake_unrepaired"] == 1
    ((start, end),) = result.garbled_spans
    assert result.text[start:end] == "!保略鯴X"
    assert result.text[start - 5:end + 3] == "改革項目學!保略鯴X市初高"


def test_script_is_never_converted(cleaned):
    assert "学" not in raw("004") and "学" not in cleaned["004"].text
    assert "學" not in raw("000") and "學" not in cleaned["000"].text
    assert cleaned["004"].text.count("學") > 150


def test_a_rare_but_real_character_is_left_alone():
    result = clean("王喆同志在会上讲话。")
    assert (result.text, result.garbled_spans) == ("王喆同志在会上讲话。", [])


# ---------------------------------------------------------------- furniture
FURNITURE = [
    "欢迎光临", "网站首页", "当前位置", "发布时间", "阅读次数", "作者:办公室", "责任编辑",
    "相关评论", "我来说两句", "总站 切换城市", "13921100677", "【】【】【", "浏览:",
    "2018招生信息网", "相關推薦", "小編為您收集整理", "相關文章", "教育局工作總結03-11",
    "教育局保密工作總結02-08", "免責聲明", "網絡整理", "本站为你精心整理", "欢迎咨询",
]


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_furniture_lines_are_dropped(cleaned, prefix):
    for phrase in FURNITURE:
        assert phrase not in cleaned[prefix].text


@pytest.mark.parametrize("prefix, count", [("000", 4), ("001", 6), ("002", 1), ("003", 1),
                                           ("004", 10)])
def test_furniture_counts(cleaned, prefix, count):
    result = cleaned[prefix]
    assert result.repairs["furniture_lines_dropped"] == count == len(result.dropped_lines)


def test_dropped_lines_are_exactly_the_page_chrome(cleaned):
    assert [ln.strip() for ln in cleaned["001"].dropped_lines] == [
        "总站 切换城市", "13921100677",
        "当前位置:招生培训网 > 网站新闻 > 中考资讯 > \xa0吉林市教育局2016年工作要点",
        "发布时间:2016-03-17 22:20:14 \xa0\xa0来源:2018招生信息网\xa0\xa0浏览:\xa0\xa0 【】【】【",
        "责任编辑:", "相关评论我来说两句"]
    assert cleaned["004"].dropped_lines[-1] == "教育局保密工作總結02-08"


def test_content_next_to_furniture_is_kept(cleaned):
    assert lines(cleaned["000"])[0] == "句容市教育局2016年工作总结和2017年工作设想"
    assert lines(cleaned["001"])[0] == "吉林市教育局2016年工作要点"
    assert lines(cleaned["001"])[-1].startswith("35.积极开展教育宣传工作。")
    assert lines(cleaned["003"])[0].startswith("*年,在县委县政府的正确领导下")
    assert lines(cleaned["004"])[:2] == ["2017年度教育局工作總結", "篇一:2017年度教育局工作總結"]
    assert lines(cleaned["004"])[-2] == "九、廉政文化建設成效顯著"
    assert lines(cleaned["004"])[-1].startswith("黨風廉政建設的出發點和歸宿點")


def test_furniture_tells_the_date_and_title(cleaned):
    assert cleaned["000"].found == {"published": "2017-03-22"}
    assert cleaned["001"].found == {"published": "2016-03-17",
                                    "page_title": "吉林市教育局2016年工作要点"}
    assert cleaned["004"].found == {"page_title": "2017年度教育局工作總結"}
    assert cleaned["003"].found == {"page_title": "教育局加强教育均衡发展总结"}


# ---------------------------------------------------------------- layout and contract
@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_layout_is_normalised(cleaned, prefix):
    text = cleaned[prefix].text
    assert "\n\n\n" not in text and text == text.strip()
    assert all(ln == ln.rstrip() for ln in text.split("\n"))
    assert all(ln == "" or ln.strip(" \xa0\u3000") for ln in text.split("\n"))


def test_repairs_that_expose_more_work_run_to_a_fixed_point():
    # Removing the inner annotation leaves "(xué)" behind; one pass would not be idempotent.
    assert clean("學(x(xué)ué)校").text == "學校"


def test_blank_runs_collapse_and_nbsp_lines_go():
    assert clean("甲\n \n&nbsp;\n\xa0\n\n乙  \n\n").text == "甲\n\n乙"


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_clean_is_idempotent_on_the_corpus(cleaned, prefix):
    first = cleaned[prefix]
    again = clean(first.text)
    assert again.text == first.text
    assert again.garbled_spans == first.garbled_spans
    assert again.repairs == dict.fromkeys(REPAIR_KEYS, 0) | {
        "mojibake_unrepaired": first.repairs["mojibake_unrepaired"]}


def test_result_shape():
    result = clean("")
    assert (result.text, result.found, result.dropped_lines, result.garbled_spans) == (
        "", {}, [], [])
    assert list(result.repairs) == list(REPAIR_KEYS)


# Characters the cleaner has rules for, mixed into arbitrary text so the rules fire.
_SPICE = list("。ㄒ唬┰谌暌惠喌目h級學校在三年!?,:;()（）xuéàǘň⿵﹦鐚WFl【】\n\r \xa0")
_SPICE += ["(xué)", "?xué)", "当前位置:", "发布时间:2017-03-22", "相关文章:", "03-11\n", "&nbsp;"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.characters(), st.sampled_from(_SPICE)), max_size=80).map("".join))
def test_clean_never_raises_and_is_idempotent(text):
    result = clean(text)
    assert set(result.repairs) == set(REPAIR_KEYS)
    assert clean(result.text).text == result.text
    assert all(0 <= s < e <= len(result.text) for s, e in result.garbled_spans)
