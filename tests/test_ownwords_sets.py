"""The own-words question sets (bench/ownwords) hold against the corpus the library cuts
today: a cleaning or segmentation change that moves a gold sentence fails here, not in a
benchmark run."""

import json

import pytest

from bench.ownwords import check
from bench.train_embedder import ARTICLE
from tests.conftest import DATA


@pytest.mark.parametrize("folder", ["", "independent", "fresh"])
def test_the_question_set_matches_the_corpus(folder, capsys):
    # Every gold sentence is one sentence of its report, in the passages named, holding its
    # answers; the split rule holds; the median word overlap stays at or under 0.2. The
    # independent and fresh sets have no typo file.
    status = check.main(["--dir", str(check.HERE / folder), "--json"])
    figures = json.loads(capsys.readouterr().out)
    assert status == 0, figures["errors"]
    assert figures["questions"] > 0 and figures["near_miss"] > 0


def test_the_probe_of_near_misses_matches_the_corpus(capsys):
    # The probe (bench/ownwords/probe) holds near misses alone.
    status = check.main(["--dir", str(check.HERE / "probe"), "--json"])
    figures = json.loads(capsys.readouterr().out)
    assert status == 0, figures["errors"]
    assert figures["near_miss"] > 0 and figures["questions"] == 0


def test_the_sets_share_no_question_id():
    # The sets can be evaluated together (indexer eval takes several --queries files).
    def qids(folder):
        files = [check.HERE / folder / name for name in ("questions.jsonl", "near_miss.jsonl")]
        return [json.loads(line)["qid"] for path in files if path.exists()
                for line in path.read_text("utf-8").splitlines()]

    every = [qid for folder in ("", "independent", "fresh", "probe") for qid in qids(folder)]
    assert len(set(every)) == len(every)


def test_the_law_questions_are_sentences_of_their_articles_in_everyday_words():
    # The questions on laws (bench/ownwords/laws), against the articles they cite
    # (tests/data/law_articles.jsonl, whole lines of the shared scale_passages.jsonl): each
    # gold sentence is one sentence of its article (after its 第X条 heading, ending at a
    # sentence end) and is asked once, each answer lies in it, and the wording stays the
    # user's (median overlap at most 0.2).
    rows = check.read_jsonl(check.HERE / "laws" / "questions.jsonl")
    articles = {row["pid"]: row for row in check.read_jsonl(DATA / "law_articles.jsonl")}
    checker = check.Checker(check.ROOT / "corpus")
    assert len({row["qid"] for row in rows}) == len(rows) >= 300
    assert len({(row["doc"], row["gold_sentence"]) for row in rows}) == len(rows)
    for row in rows:
        article = articles[row["pid"]]
        assert (article["doc"], article["title"]) == (row["doc"], row["title"])
        text, gold = ARTICLE.sub("", article["text"]), row["gold_sentence"]
        at = text.find(gold)
        assert at >= 0 and text.count(gold) == 1, row["qid"]
        assert at == 0 or text[at - 1] in check.TERMINATORS + "：:\n ", row["qid"]
        assert gold[-1] in check.TERMINATORS or at + len(gold) == len(text), row["qid"]
        assert row["answers"] and all(a in gold for a in row["answers"])
        assert row["kind"] in check.KINDS and row["script"] in check.SCRIPTS
    overlaps = sorted(checker.overlap(row["question"], row["gold_sentence"]) for row in rows)
    assert overlaps[len(overlaps) // 2] <= 0.2


def test_the_law_questions_find_their_sentences_as_the_corpus_reader_cleans_them(tmp_path):
    # What `bench.train_answer_model --laws` asks: each article of
    # tests/data/law_articles.jsonl is a document as the reader cleans it, and every law
    # question's gold span is its gold sentence there.
    from bench.answer_data import laws
    from indexer.ingest.corpus import load_corpus
    from indexer.store.catalog import Catalog

    (tmp_path / "law_articles.jsonl").write_bytes((DATA / "law_articles.jsonl").read_bytes())
    corpus = load_corpus(tmp_path)
    catalog = Catalog(corpus.documents, corpus.all_passages())
    rows = {row["qid"]: row for row in check.read_jsonl(check.HERE / "laws" / "questions.jsonl")}
    examples = laws(catalog)
    assert len(examples) == len(rows)
    for example in examples:
        doc, start, end = example.span
        assert example.gold == {doc} and example.source == "laws"
        assert catalog.documents[doc].text[start:end] == rows[example.qid]["gold_sentence"]
