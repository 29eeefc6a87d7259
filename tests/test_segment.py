"""Segmentation rules that the bundled reports do not exercise: giant sentences."""

from __future__ import annotations

import json

from indexer.ingest.segment import paragraphs, split_passages
from indexer.records import Document
from tests.conftest import DATA


def test_a_sentence_longer_than_the_maximum_is_cut_at_clause_marks():
    clause = "各县（市）区要完善校车安全管理制度，"
    text = "一、校车安全\n" + clause * 60 + "确保万无一失。"
    document = Document(doc_id="long", source="test", text=text)
    passages = split_passages(document, target=250, maximum=400, minimum=40)
    assert len(passages) > 2
    assert all(len(p.text) <= 400 for p in passages)
    assert all(text[p.start:p.end] == p.text for p in passages)
    assert "".join(p.text for p in passages) == text[len("一、校车安全\n"):]
    assert all(p.text.endswith(("，", "。")) for p in passages)


def test_real_passages_from_the_scale_file_fit_the_model_window():
    with (DATA / "scale_passages.jsonl").open(encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    long = [r for r in records if len(r["text"]) > 400]
    assert len(long) >= 10 and max(len(r["text"]) for r in long) > 1000
    for record in long:
        document = Document(doc_id="x", source="test", text=record["text"])
        passages = split_passages(document, target=250, maximum=400, minimum=40)
        assert all(len(p.text) <= 400 for p in passages), record["pid"]


def test_an_offset_inside_a_passage_names_its_own_paragraph(corpus):
    spanning = 0
    for document in corpus.documents:
        numbers = {p.start: p.number for p in paragraphs(document.text)}
        for passage in corpus.passages[document.doc_id]:
            spanning += "\n" in passage.text
            for start, number in numbers.items():
                if passage.start <= start < passage.end:
                    assert passage.paragraph_at(start) == number
                    assert passage.paragraph_at(start + 1) == number
    assert spanning, "no passage of the corpus runs over two paragraphs: nothing was checked"


def test_a_short_heading_line_that_carries_a_sentence_is_kept_as_text(documents):
    from indexer.ingest.segment import split_passages

    document = documents["004"]
    line = "(二)高考取得突破性成果。文理科本二以上達線率首次突破50%,增幅列大市第一。"
    assert line in document.text
    holding = [p for p in split_passages(document) if line in p.text]
    assert len(holding) == 1 and holding[0].section_path[-1] == "(二)高考取得突破性成果"
