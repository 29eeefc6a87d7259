"""Extractive answers on the bundled corpus: the right sentence, exact citations, refusals."""

from __future__ import annotations

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
from indexer.ingest.segment import split_passages
from indexer.records import Document
from indexer.retrieve.hits import Hit
from indexer.serialize import answer_dict
from indexer.store.catalog import Catalog


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
    # Paraphrased: none of 连上 / 网络 is how the report says it.
    ("吉林市打算怎样让村小都连上网络?", "001",
     "实施“教育光网全覆盖工程”,村小以上所有学校年内实现光纤网络进校园,实现教育内网和外网应用分离,"
     "城市学校逐步实现有线、无线双网覆盖。"),
])
def test_a_question_is_answered_with_the_sentence_that_answers_it(model_engine, question,
                                                                  doc, expected):
    result = ask(model_engine, question)
    assert result.answerable and not result.generated and result.flags == []
    first = result.citations[0]
    assert first.n == 1 and first.doc_id.startswith(doc)
    # The answering sentence leads (quoted with the next one when that one scores too).
    assert first.quote.startswith(expected)
    assert result.text.startswith(f"{first.quote}[1]")
    assert_exact(result, model_engine)
    assert [c.n for c in result.citations] == sorted(c.n for c in result.citations)


@pytest.mark.model
@pytest.mark.parametrize("question", [
    "医保报销比例是多少?",
    "北京到上海的高铁票价是多少钱?",
    "2018年世界杯足球赛的冠军是哪个国家?",
    "吉林市2016年教师平均工资是多少?",  # a near miss: about these reports, not in them
    "0",  # nothing but numbers: they occur everywhere and say nothing of the topic
    "2016?",
])
def test_a_question_the_corpus_does_not_answer_is_refused(model_engine, question):
    result = ask(model_engine, question)
    assert not result.answerable
    assert result.text == NO_ANSWER
    assert result.citations == []
    assert result.hits  # the closest passages are still shown


@pytest.mark.model
def test_the_answer_serialises_with_its_passages(model_engine):
    catalog = model_engine.generation().catalog
    result = ask(model_engine, "吉林市直属学校的班主任津贴每月多少钱?")
    data = answer_dict(result, catalog)
    assert list(data) == ["ok", "question", "mode", "answerable", "answer", "citations", "passages",
                          "generated", "flags"]
    assert data["ok"] is True and data["answerable"] is True and data["generated"] is False
    assert "人均每月400元" in data["answer"]
    (citation, *_) = data["citations"]
    assert list(citation) == ["n", "passage_id", "doc_id", "title", "section", "paragraph_no",
                              "quote", "start", "end"]
    assert citation["title"] == "吉林市教育局2016年工作要点"
    assert [p["passage_id"] for p in data["passages"]] == [h.passage_id for h in result.hits]
    assert {"text", "highlight", "score", "rank", "scores"} <= set(data["passages"][0])


@pytest.mark.model
def test_a_garbled_sentence_is_never_cited(model_engine):
    catalog = model_engine.generation().catalog
    garbled = [p for p in catalog.passage_list if p.garbled]
    assert garbled and all("\ufffd" in p.text for p in garbled)
    hits = [Hit(p.passage_id, 1.0, rank) for rank, p in enumerate(garbled, start=1)]
    for sentence in score_sentences("教育工作取得了哪些亮点和成绩?", hits, catalog,
                                    overrides={"answer_passages": len(hits)}):
        assert "\ufffd" not in sentence.text
    # 錄播教室 sits in a passage with a garbled heading elsewhere: its own sentence is whole
    result = answer("多少个学校建成了录播教室?", hits, catalog, model_engine.embedder(),
                    overrides={"answer_passages": len(hits)})
    assert all("\ufffd" not in c.quote for c in result.citations)


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
    assert analyse("什么时候开始实施?").kind == "date"
    assert analyse("哪位老師獲評全國模範教師?").kind == "person"  # folded first
    assert keyword_query("校车安全怎么保障?") == "校车安全 OR 保障"  # a userdict term


def test_sentences_have_document_offsets_and_skip_headings(small):
    spans = [s for p in small.passage_list for s in sentences(p)]
    quotes = [DOC.text[start:end] for start, end in spans]
    assert quotes == ["全年开通接送学生线路257条,投入车辆148辆。", "集中接送学生6745人;",
                      "配备专职保安241名。", "加快建设文昌路小学,缓解城区就学压力。"]


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
