"""The corpus pipeline on the bundled reports: metadata, sections, offsets and stable ids."""

from __future__ import annotations

import re

import pytest

from indexer.ingest.corpus import load_corpus
from tests.conftest import CORPUS

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
    ("002", None, None, None, None, "半年总结", None),
    ("003", "教育局加强教育均衡发展总结", None, None, None, "工作总结", None),
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
