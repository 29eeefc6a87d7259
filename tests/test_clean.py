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


LOST = "\ufffd"


def only_line(result: CleanResult, start: str) -> str:
    (line,) = [ln for ln in lines(result) if ln.startswith(start)]
    return line


def raw_line(prefix: str, start: str) -> str:
    (line,) = [ln for ln in raw(prefix).split("\n") if ln.startswith(start)]
    return line


# The broken headings of 004's first piece: how the raw lines open, and how they must come
# out. A heading marker comes back from its sequence; a character a lost byte pair took is
# LOST (U+FFFD, marked garbled), never the real but wrong one its half bytes decode to
# ("（一）在汝一輪" is "（一）在三年一輪", "（醛枝推進" is "（三）著力推進"). Heading lines
# that are nothing but the heading are pinned whole.
HEADINGS_004 = [
    ("。ㄒ唬┰谌暌惠喌目h",
     f"（一）在{LOST}一輪的縣級政府教育工作省級督導總報告中,29次提到我區教育工作的亮點。"),
    ("。ㄈ┲ν七M", f"（三）{LOST}推進中心建成區學校建設。在教育資源處于飽和狀態的中心城區,"),
    ("。ㄋ模┐罅", f"（四）大{LOST}施鄉鎮教育資源擴容工程。8所幼兒園完成新建和改擴建工程,"),
    ("。ㄎ澹⿵", "（五）強化教育環境治理。批量消減無證幼兒園29個,"),
    ("。⿵(qiáng)力推進", "（六）強力推進“教育吳中”品牌建設計劃。木瀆高級中學3位同學"),
    ("。ㄆ撸┤嫔罨",
     f"（七）{LOST}深化學校內涵發展工程。4所學校入選“XX市義務教育改革項目學{LOST}市初高中"),
    ("。ň牛﹦", "（九）創新教育人力資源管理跨學段交流教師59名;"),
    ("。ㄊ┤鎸", f"（十）{LOST}實施“美麗校園”“書香校園”工程。地方植物彩化校園行動全面鋪開;"),
    ("。ǘ┩怀鋈瞬沤", "（二）突出人才建設,推進立德樹人工程\n"),
    ("。ㄈ┨醿", "（三）提優發展環境,保障教育優質發展\n"),
    ("。ㄋ模﹥", "（四）優化教育督導,規范教育教學管理\n"),
]


@pytest.mark.parametrize("raw_start, expected", HEADINGS_004)
def test_shifted_gbk_headings_are_repaired_or_marked(cleaned, raw_start, expected):
    assert raw_line("004", raw_start)
    line = only_line(cleaned["004"], expected[:6])
    assert (line + "\n").startswith(expected)


@pytest.mark.parametrize("wrong", ["（醛", "（施孺", "）孺", "在汝一輪", "大施鄉鎮", "保略鯴",
                                   "枝推進", "（订"])
def test_no_wrong_character_is_left_from_a_lost_byte_pair(cleaned, wrong):
    assert wrong not in cleaned["004"].text


def test_heading_markers_count_up_in_each_part(cleaned):
    parts: list[list[str]] = [[]]
    for line in lines(cleaned["004"])[:34]:  # 篇一
        if line[:2] in ("一、", "二、"):
            parts.append([])
        elif marker := re.match(r"[（(]([一二三四五六七八九十]+)[）)]", line):
            parts[-1].append(marker.group(1))
    assert parts == [[], [*"一二三四五六七八九", "十"], [*"一二三四"]]
    assert cleaned["004"].repairs["headings_restored"] == 5


@pytest.mark.parametrize("before, after, restored", [
    ("（一）加強(qiáng)管理。", "（三）提高質量。", "（二）強力推進改革。"),
    ("（五）加強(qiáng)管理。", "（七）提高質量。", "（六）強力推進改革。"),
    ("（一）加強(qiáng)管理。", "", "）強力推進改革。"),  # nothing after it confirms the count
])
def test_a_broken_marker_takes_its_number_from_the_sequence(before, after, restored):
    # "。⿵(qiáng)力" is "　（N）強(qiáng)力" one byte out of step, "（N" lost in pairs.
    result = clean("\n".join(["一、工作", before, "。⿵(qiáng)力推進改革。", after]))
    assert lines(result)[2] == restored
    assert result.repairs["headings_restored"] == int(restored.startswith("（"))


@pytest.mark.parametrize("before, after, expected", [
    ("（二）甲。", "（四）乙。", f"（三）{LOST}推進中心建成區學校建設。"),
    ("（二）甲。", "", f"（三）{LOST}推進中心建成區學校建設。"),  # its own bytes say 三
    ("（一）甲。", "（三）乙。", f"（{LOST}{LOST}推進中心建成區學校建設。"),  # they disagree
])
def test_a_marker_whose_bytes_name_its_numeral_is_checked_against_them(before, after,
                                                                       expected):
    # "（醛" is "（三）" one byte out of step: 三's lead byte and "）"'s trail byte.
    broken = raw_line("004", "。ㄈ┲ν七M")
    result = clean("\n".join(["一、工作", before, broken, after]))
    assert lines(result)[2].startswith(expected)
    assert all(set(result.text[s:e]) == {LOST} for s, e in result.garbled_spans)


def test_pinyin_names_the_character_a_shift_split(cleaned):
    # "理?xiàng)l例": 項(xiàng) was 理's trail byte and 條's lead byte read together; "l" is
    # 條's trail byte.
    text = cleaned["004"].text
    assert "所管理?xiàng)l例" in raw("004") and "營業場所管理條例》" in text
    assert "我們?yōu)檗r(nóng)戶" in raw("004") and "我們為農戶上門安裝了" in text
    assert "當(dāng)?shù)刂参锘ɑ" in raw("004") and f"種植當地植物花{LOST},初步形成" in text
    # No character of the document has that pinyin and byte: the character is LOST.
    assert "績(jī)?cè)谔K州" in raw("004") and f"成績{LOST}蘇州大市獨占鰲頭" in text


def test_mid_line_mojibake_is_repaired(cleaned):
    text = cleaned["004"].text
    for repaired in ("特色和亮點現場督查評估中", f"成績{LOST}蘇州大市獨占鰲頭",
                     "我們為農戶上門安裝", f"我們{LOST}鎮黨委政府領導下",
                     f"種植當地植物花{LOST},初步形成", f"改革項目學{LOST},其中寶帶實小",
                     f"以{LOST}運為榮", f"“區域{LOST}校全覆蓋”"):
        assert repaired in text
    assert cleaned["004"].repairs["mojibake_repaired"] == 22


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_no_mojibake_is_left_unmarked(cleaned, prefix):
    result = cleaned[prefix]
    marked = "".join(result.text[s:e] for s, e in result.garbled_spans)
    assert MOJIBAKE_CHARS.findall(result.text) == MOJIBAKE_CHARS.findall(marked)
    assert result.garbled_spans == [m.span() for m in re.finditer(f"{LOST}+", result.text)]
    assert result.repairs["mojibake_unrepaired"] == len(result.garbled_spans)
    if prefix != "004":
        assert result.repairs["mojibake_repaired"] == 0
        assert result.garbled_spans == []


def test_what_cannot_be_recovered_is_marked(cleaned):
    result = cleaned["004"]
    assert result.repairs["mojibake_unrepaired"] == len(result.garbled_spans) == 13
    assert all(e - s == 1 for s, e in result.garbled_spans)
    # A run no decoding explains ("學校”，新增XX市" with byte pairs lost) is one LOST.
    assert "項(xiàng)目學(xué)!保略鯴X市初高中" in raw("004")
    assert f"改革項目學{LOST}市初高中課程基地" in result.text


def test_a_correct_reading_that_only_looks_odd_is_left_alone(cleaned):
    # 002 is Qingdao's report: "在青辦學" is "running schools in Qingdao", not mojibake.
    assert "激發各方在青辦學活力" in cleaned["002"].text
    assert cleaned["002"].garbled_spans == []


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


@pytest.mark.parametrize("text", [
    "保證金額＝重建計畫範圍內土地當期公告現值×申請第六條至第九條之獎勵容積樓地板面積。",
    "各構材之容許應力如下表：\n┌──────┬──────┐\n│木材種類│容許應力│\n└──────┴──────┘",
    "本法所稱著作，例示如下︰一、語文著作。二、音樂著作﹑戲劇﹑舞蹈著作。",
    "下令人无法理解的遗言「我不想再死一次了」，红条敬一郎小时候母亲因为交通事故死亡。",
])
def test_clean_text_without_the_marks_of_a_shift_is_never_rewritten(text):
    """Tables, symbols and Taiwanese forms are text: the repair needs evidence of a shift."""
    result = clean(text)
    assert "\ufffd" not in result.text and result.repairs["mojibake_repaired"] == 0
    assert result.text.replace("\n", "") == text.replace("\n", "")
