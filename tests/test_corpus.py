"""The corpus pipeline on the bundled reports: metadata, sections, offsets and stable ids."""

from __future__ import annotations

import json
import re

import pytest

from indexer.ingest.corpus import load_corpus
from indexer.ingest.metadata import display_title, extract
from indexer.store.catalog import PASSAGES_FILE, Catalog
from tests.conftest import CORPUS

LOST = "\ufffd"

FURNITURE = ["欢迎光临", "网站首页", "当前位置", "发布时间", "阅读次数", "责任编辑", "相关评论",
             "我来说两句", "相关文章", "免责声明", "本站为你精心整理", "13921100677",
             "切换城市", "小編為您收集整理", "相關(guān)推薦"]


def test_every_passage_is_its_documents_text_at_its_offsets(corpus):
    for document in corpus.documents:
        passages = corpus.passages[document.doc_id]
        assert passages, document.doc_id
        for passage in passages:
            assert document.text[passage.start:passage.end] == passage.text


def test_passages_are_sentence_aligned_and_near_the_target_length(corpus):
    for passage in corpus.all_passages():
        assert len(passage.text) <= 420 or "。" not in passage.text[:-1]
        # A passage ends at a sentence end or at the end of its paragraph (line).
        document = next(d for d in corpus.documents if d.doc_id == passage.doc_id)
        after = document.text[passage.end:passage.end + 1]
        assert after in ("", "\n") or passage.text[-1] in "。！？；!?;”’」』）)"


@pytest.mark.parametrize("term", FURNITURE)
def test_no_site_furniture_in_any_passage(corpus, term):
    for passage in corpus.all_passages():
        assert term not in passage.text, (passage.passage_id, passage.text[:60])


def test_related_article_lists_are_gone(corpus):
    dated = re.compile(r"(总结|總結)\d{2}-\d{2}$")
    for passage in corpus.all_passages():
        for line in passage.text.splitlines():
            assert not dated.search(line.strip()), line


@pytest.mark.parametrize("prefix, title, issuer, region, year, kind, published", [
    ("000", "句容市教育局2016年工作总结和2017年工作设想", "句容市教育局", "句容市", "2016-2017",
     "工作总结", "2017-03-22"),
    ("001", "吉林市教育局2016年工作要点", "吉林市教育局", "吉林市", "2016", "工作要点",
     "2016-03-17"),
    # No title line: named by its opening sentence; its city and year are masked (xxxx市,
    # XXXX年), so unknown.
    ("002", "XXXX年上半年,市教育局以黨的xx全會精神為指導…", None, None, None, "半年总结", None),
    ("003", "教育局加强教育均衡发展总结", None, None, None, "工作总结", None),
    # Its body says 我區 but names the district only as XX區; 篇二 is a town's report.
    ("004", "2017年度教育局工作總結", None, None, "2017", "工作总结", None),
])
def test_metadata_of_the_bundled_reports(documents, prefix, title, issuer, region, year, kind,
                                         published):
    document = documents[prefix]
    assert (document.title, document.issuer, document.region, document.year, document.kind,
            document.published) == (title, issuer, region, year, kind, published)


@pytest.mark.parametrize("prefix, starts, section", [
    ("000", "一是持续提升教育教学质量",
     "一、2016年工作总结 › (一)围绕重点工作,加大推进力度 › 一是持续提升教育教学质量"),
    ("000", "2016年,全市教育系统围绕", "一、2016年工作总结"),
    ("000", "一是加大片区合作共同体建设力度",
     "二、2017年工作打算 › 一是加大片区合作共同体建设力度,不断提升教育教学质量"),
    ("001", "1.深入推进中小学德育工作",
     "一、落实立德树人根本任务,全力提升育人水平 › 1.深入推进中小学德育工作"),
    ("003", "(二)教育现代信息技术装备取得历史性进步",
     "一、取得四项历史性进步 › (二)教育现代信息技术装备取得历史性进步"),
    ("004", "1.提升學前教育整體水平",
     "篇一:2017年度教育局工作總結 › 二、主要工作完成情況 › (一)加強內涵建設,提升教育核心質量 "
     "› 1.提升學前教育整體水平"),
    ("004", "1、春節期間", "篇二:2017年度教育局工作總結 › 二、開展豐富多彩的活動 › 1、春節期間"),
    # Under headings whose markers were restored from their sequence.
    ("004", "1.強化師德師風建設",
     "篇一:2017年度教育局工作總結 › 二、主要工作完成情況 › （二）突出人才建設,推進立德樹人工程 "
     "› 1.強化師德師風建設"),
    ("004", "1.深化依法行政工作",
     "篇一:2017年度教育局工作總結 › 二、主要工作完成情況 › （三）提優發展環境,保障教育優質發展 "
     "› 1.深化依法行政工作"),
    ("004", "（六）強力推進“教育吳中”品牌建設計劃",
     "篇一:2017年度教育局工作總結 › 一、亮點和特色工作 › （六）強力推進“教育吳中”品牌建設計劃"),
])
def test_section_paths_of_named_passages(corpus, documents, prefix, starts, section):
    doc_id = documents[prefix].doc_id
    (passage,) = [p for p in corpus.passages[doc_id] if p.text.startswith(starts)]
    assert passage.section == section


def test_pieces_of_one_report_are_separate_sections(corpus, documents):
    sections = {p.section_path[0] for p in corpus.passages[documents["004"].doc_id]
                if p.section_path}
    assert {"篇一:2017年度教育局工作總結", "篇二:2017年度教育局工作總結"} <= sections


def test_paragraph_numbers_count_the_documents_lines(corpus, documents):
    document = documents["000"]
    lines = [line for line in document.text.splitlines() if line.strip()]
    for passage in corpus.passages[document.doc_id]:
        # A passage starts its paragraph, or continues it after a sentence end.
        assert passage.text.splitlines()[0] in lines[passage.paragraph_no - 1]


def test_ids_are_identical_across_two_builds(corpus):
    again = load_corpus(CORPUS)
    assert [p.passage_id for p in again.all_passages()] == \
        [p.passage_id for p in corpus.all_passages()]
    ids = [p.passage_id for p in corpus.all_passages()]
    assert len(ids) == len(set(ids))


def test_changing_one_file_changes_no_other_documents_ids(corpus, corpus_copy):
    target = next(corpus_copy.glob("001_*.txt"))
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("深入推进中小学德育工作", "深入推进中小学思政与德育工作"),
                      encoding="utf-8")
    changed = load_corpus(corpus_copy)
    for document in corpus.documents:
        before = [p.passage_id for p in corpus.passages[document.doc_id]]
        after = [p.passage_id for p in changed.passages[document.doc_id]]
        if document.doc_id.startswith("001"):
            assert before != after
            assert len(set(before) & set(after)) == len(before) - 1
        else:
            assert before == after


# -- titles, regions and years ----------------------------------------------------------

def test_every_document_has_a_name(corpus):
    assert all(document.title and document.title.strip() for document in corpus.documents)


@pytest.mark.parametrize("text, source, title", [
    ("XXXX年上半年,市教育局以黨的xx全會精神為指導,主動適應經濟社會發展新常態。\n一、工作",
     "c/002.txt", "XXXX年上半年,市教育局以黨的xx全會精神為指導…"),
    ("一、上半年工作情况\n全市教育工作稳步推进。", "c/a.txt", "上半年工作情况"),
    ("全市教育工作稳步推进。\n二、问题", "c/a.txt", "全市教育工作稳步推进"),
    ("没有标点" + "很长" * 20, "c/a.txt", "没有标点" + "很长" * 13 + "…"),
    ("", "corpus/uploads/9f2c.txt", "（无标题）9f2c.txt"),
    ("。\n", "9f2c.txt", "（无标题）9f2c.txt"),
])
def test_a_report_without_a_title_line_is_named_by_its_opening(text, source, title):
    assert display_title(None, text, source) == title
    assert extract(text, {}, {}, source).title == title


@pytest.mark.parametrize("body, region", [
    ("2017年，我县教育工作稳步推进。\n丰县教育局组织全县教师培训，丰县各校积极参与。", "丰县"),
    ("今年，我市教育工作稳步推进。《句容市教育局关于……》印发，句容市各校积极参与。",
     "句容市"),
    # Named once only, or not as a bureau's seat, or not the kind of place it calls its own.
    ("我县教育工作稳步推进。丰县教育局组织培训。", None),
    ("我县教育工作稳步推进，丰县各校、丰县教师积极参与。", None),
    ("我县教育工作稳步推进。徐州市教育局组织培训，徐州市各校积极参与。", None),
    ("我县教育工作稳步推进。丰县教育局、沛县教育局组织培训，丰县、沛县各校积极参与。", None),
    ("我县教育工作稳步推进。XX县教育局组织培训，XX县各校积极参与。", None),
])
def test_a_region_is_taken_from_the_body_only_where_it_says_so(body, region):
    assert extract("一、主要工作\n" + body, {}, {}).region == region


@pytest.mark.parametrize("text, year", [
    ("教育局工作总结\n2017年上半年，我局围绕中心工作。\n一、工作", "2017"),
    ("2016年,全市教育系统围绕中心工作。", "2016"),
    ("教育局工作总结\n2015年以来，我局围绕中心工作。", None),
    ("教育局工作总结\n2017年3月22日\n今年，我局围绕中心工作。", None),  # a date, not a year
    ("教育局工作总结\n我局围绕中心工作，2017年取得成绩。", None),
    ("XXXX年上半年,市教育局围绕中心工作。", None),
])
def test_a_year_is_taken_from_the_opening_sentence(text, year):
    assert extract(text, {}, {}).year == year


def test_a_passage_takes_its_year_from_its_section(corpus, documents):
    years = {}
    for passage in corpus.passages[documents["000"].doc_id]:
        years.setdefault(passage.section_path[0] if passage.section_path else "", set()).add(
            passage.year)
    assert years == {"": {"2016-2017"}, "一、2016年工作总结": {"2016"},
                     "二、2017年工作打算": {"2017"}}


def test_every_passage_carries_a_year(corpus):
    from indexer.serialize import passage_dict

    for document in corpus.documents[1:]:  # 000's parts name their own years (above)
        assert {p.year for p in corpus.passages[document.doc_id]} == {document.year}
    assert all("year" in passage_dict(p) for p in corpus.all_passages())


def test_the_catalog_keeps_passage_years_and_reads_old_catalogs(corpus, tmp_path):
    Catalog(corpus.documents, list(corpus.all_passages())).save(tmp_path)
    loaded = Catalog.load(tmp_path)
    assert [p.year for p in loaded.passage_list] == [p.year for p in corpus.all_passages()]
    # A catalog written before passages had a year still loads; the year is unknown.
    path = tmp_path / PASSAGES_FILE
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    path.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "year"},
                                       ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    assert {p.year for p in Catalog.load(tmp_path).passage_list} == {None}


# -- garbled text ------------------------------------------------------------------------

GARBLED = ["（醛", "（施孺", "）孺", "在汝一輪", "大施鄉鎮", "保略鯴"]


def test_no_passage_quotes_a_wrong_character(corpus):
    for passage in corpus.all_passages():
        for wrong in GARBLED:
            assert wrong not in passage.text and wrong not in passage.section, wrong


def test_passages_over_lost_characters_are_garbled(corpus, documents):
    document = documents["004"]
    assert len(document.garbled_spans) == 13
    for passage in corpus.passages[document.doc_id]:
        assert passage.garbled == (LOST in passage.text)
    assert sum(p.garbled for p in corpus.passages[document.doc_id]) == 10
    assert document.repairs["mojibake_unrepaired"] == 13
    assert document.repairs["headings_restored"] == 5


def test_the_document_view_marks_what_was_lost(corpus, documents):
    from indexer.serialize import passage_dict
    from webapp.reading import paragraph_views

    document = documents["004"]
    passages = [passage_dict(p) for p in corpus.passages[document.doc_id]]
    pieces = [piece for view in paragraph_views(document.text, passages)
              for piece in view.pieces]
    assert [piece.text for piece in pieces if piece.garbled] == [LOST] * 13
    assert "".join(piece.text for piece in pieces) == "".join(document.text.split("\n"))
