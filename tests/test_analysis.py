"""Analysis facts on the bundled reports: folding, the jieba tokenizer, Whoosh round trips."""

from __future__ import annotations

import pickle
import re
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import fields, highlight, index
from whoosh.filedb.filestore import RamStorage
from whoosh.qparser import QueryParser

from indexer.text import analysis
from indexer.text.analysis import fold, is_searchable, policy_analyzer, tokens
from indexer.text.scripts import in_other_script

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def corpus_text(prefix: str) -> str:
    (path,) = CORPUS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


def all_reports() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))]


def analyze(text: str, **kwargs) -> list[tuple[str, int, int, int]]:
    """(text, pos, startchar, endchar) of every token (the Token object is reused)."""
    return [(t.text, t.pos, t.startchar, t.endchar)
            for t in policy_analyzer()(text, positions=True, chars=True, **kwargs)]


# -- folding ---------------------------------------------------------------------------

def test_corpus_is_all_there():
    assert len(all_reports()) == 5


def test_fold_preserves_length_over_the_corpus():
    for text in all_reports():
        assert len(fold(text)) == len(text)


@pytest.mark.parametrize(("traditional", "simplified"), [
    ("學校建設", "学校建设"),
    ("縣級", "县级"),
    ("發展", "发展"),
    ("義務教育", "义务教育"),
    ("縣管校聘", "县管校聘"),
    ("教師隊伍", "教师队伍"),
])
def test_fold_maps_traditional_to_simplified(traditional, simplified):
    assert fold(traditional) == simplified


@pytest.mark.parametrize("text, other", [
    ("吴中今年招了多少个新老师?", "吳中今年招了多少個新老師?"),  # simplified → traditional
    ("吳中今年招了多少個新老師?", "吴中今年招了多少个新老师?"),  # and back
    ("Mac电脑", "Mac電腦"),  # Latin letters keep their case
    ("2016 ABC", None),  # nothing to convert
])
def test_in_other_script(text, other):
    assert in_other_script(text) == other


def test_fold_widths_case_and_punctuation():
    assert fold("ＡＢＣ１２３　Ｋ12") == "abc123 k12"
    assert fold("STEM課程，達到５０．０８％。") == "stem课程,达到50.08%。"
    # A character whose lowercase is two characters stays as it is.
    assert fold("İ") == "İ"


def test_fold_is_idempotent_on_traditional_reports():
    text = corpus_text("004")
    assert fold(fold(text)) == fold(text)
    assert "縣級" in text and "县级" in fold(text)


# -- tokens ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("全市新建5所幼儿园", ["全市", "新建", "5", "所", "幼儿园"]),
    ("2016年,全市教育系统", ["2016", "年", "全市", "教育", "系统"]),
    ("与镇江市区比相差34.5分", ["镇江市", "区", "比", "相差", "34.5", "分"]),
    ("全年开通接送学生线路257条", ["全年", "开通", "接送", "学生", "线路", "257", "条"]),
    # Pinyin left in the traditional web text (達(dá)) stays as single letters.
    ("本科率再创新高,達(dá)到50.08%", ["本科", "率", "再创新高", "达", "d", "á", "到", "50.08"]),
    ("较2015年的13.9分缩小了7.2分", ["较", "2015", "年", "13.9", "分", "缩小", "7.2", "分"]),
])
def test_numbers_keep_their_digits(text, expected):
    assert tokens(text) == expected


@pytest.mark.parametrize("query", ["5所", "2016年", "34.5分", "257条", "50.08%"])
def test_a_number_query_finds_its_text(query):
    """Every query token is in the index-mode tokens of a sentence containing the query."""
    sentence = {
        "5所": "5所县级职教中心", "2016年": "紧扣2016年教育工作要点",
        "34.5分": "相差34.5分", "257条": "线路257条", "50.08%": "達(dá)到50.08%;",
    }[query]
    indexed = {text for text, *_ in analyze(sentence, mode="index")}
    assert tokens(query) and set(tokens(query)) <= indexed


@pytest.mark.parametrize(("text", "term"), [
    ("推行中小學(xué)教師“縣管校聘”管理改革", "县管校聘"),
    ("深入推进县管校聘试点工作", "县管校聘"),
    ("在义务教育阶段学校开展片区合作共同体建设", "片区合作共同体"),
    ("以立德树人为核心任务", "立德树人"),
    ("坚持立德树人,全力提升质量", "立德树人"),
])
def test_dictionary_terms_stay_whole_in_context(text, term):
    assert term in tokens(text)


def test_every_dictionary_term_is_one_query_token():
    terms = [line.split()[0] for line in analysis._data_lines(analysis.USERDICT_PATH)]
    assert len(terms) > 150
    assert [t for t in terms if tokens(t) != [t]] == []


def test_stopwords_and_punctuation_are_dropped():
    assert tokens("教育的发展,和学校!") == ["教育", "发展", "学校"]
    assert tokens("教育的发展", removestops=False) == ["教育", "的", "发展"]
    stopped = [(t.text, t.stopped, t.pos) for t in policy_analyzer()(
        "教育的发展", positions=True, removestops=False)]
    # Kept words keep their positions (the index's), as with Whoosh's StopFilter.
    assert stopped == [("教育", False, 0), ("的", True, 1), ("发展", False, 1)]


def test_is_searchable():
    assert not is_searchable("")
    assert not is_searchable("  ")
    assert not is_searchable("，。！")
    assert not is_searchable("的")
    assert not is_searchable("的 了 和")
    assert is_searchable("校车")
    assert is_searchable("5所")


# -- the tokenizer contract ------------------------------------------------------------

@pytest.mark.parametrize("prefix", ["000", "002", "004"])
def test_offsets_point_into_the_original_text(prefix):
    text = corpus_text(prefix)
    for start_char in (0, 7):
        for word, _, start, end in analyze(text, mode="index", start_char=start_char):
            assert fold(text[start - start_char:end - start_char]) == word


@pytest.mark.parametrize("prefix", ["001", "004"])
def test_positions_count_tokens(prefix):
    text = corpus_text(prefix)
    query = analyze(text, mode="query")
    assert [pos for _, pos, _, _ in query] == list(range(len(query)))
    shifted = analyze(text, mode="query", start_pos=10)
    assert [pos for _, pos, _, _ in shifted] == list(range(10, 10 + len(query)))
    # Index mode emits the same words at the same positions, plus sub-words.
    index = analyze(text, mode="index")
    positions = [pos for _, pos, _, _ in index]
    assert positions == sorted(positions)
    assert sorted(set(positions)) == list(range(len(query)))
    # Keeping stopwords (as highlighters do) does not move the other words.
    kept = [(t.text, t.pos) for t in policy_analyzer()(
        text, positions=True, mode="index", removestops=False) if not t.stopped]
    assert kept == [(word, pos) for word, pos, _, _ in index]


def test_subwords_share_their_words_position_at_index_time_only():
    text = "全面推进義務教育片区合作共同体建设"
    index = analyze(text, mode="index")
    assert index == [
        ("全面", 0, 0, 2), ("推进", 1, 2, 4),
        ("义务教育", 2, 4, 8), ("义务", 2, 4, 6), ("教育", 2, 6, 8),
        ("片区合作共同体", 3, 8, 15), ("片区", 3, 8, 10), ("合作", 3, 10, 12),
        ("共同", 3, 12, 14), ("共同体", 3, 12, 15), ("同体", 3, 13, 15),
        ("建设", 4, 15, 17),
    ]
    assert tokens(text) == ["全面", "推进", "义务教育", "片区合作共同体", "建设"]
    assert [t[0] for t in analyze(text, mode="query")] == tokens(text)
    assert [t[0] for t in analyze(text, mode="query", subwords=True)] == [t[0] for t in index]


def test_keeporiginal_and_untokenized_values():
    originals = [t.original for t in policy_analyzer()("縣管校聘改革", keeporiginal=True)]
    assert originals == ["縣管校聘", "改革"]
    (whole,) = [(t.text, t.pos, t.startchar, t.endchar) for t in policy_analyzer()(
        "縣級 ＡＢ", tokenize=False, positions=True, chars=True, start_pos=3, start_char=5)]
    assert whole == ("县级 ab", 3, 5, 10)


def test_the_analyzer_pickles():
    """Whoosh stores the schema, analyzer included, pickled in the index."""
    copy = pickle.loads(pickle.dumps(policy_analyzer()))
    assert copy == policy_analyzer()
    assert [t.text for t in copy("縣管校聘", mode="query")] == ["县管校聘"]


def test_data_files_match_the_analyzer_version():
    assert analysis.data_fingerprint() == analysis.DATA_FINGERPRINT, (
        "userdict.txt or stopwords.txt changed: bump ANALYZER_VERSION and set "
        f"DATA_FINGERPRINT = {analysis.data_fingerprint()!r}")


def test_lazy_loading_happens_once_across_threads():
    calls = []
    barrier = threading.Barrier(8)

    @analysis._once
    def load():
        calls.append(1)
        return object()

    results = []

    def worker():
        barrier.wait()
        results.append(load())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len({id(r) for r in results}) == 1


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_tokenizer_never_raises_and_offsets_stay_inside(text):
    assert len(fold(text)) == len(text)
    for word, _, start, end in analyze(text, mode="index", removestops=False):
        assert 0 <= start < end <= len(text)
        assert fold(text[start:end]) == word
    tokens(text)
    is_searchable(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x3000, max_codepoint=0x9FFF),
               max_size=40))
def test_cjk_text_keeps_offsets(text):
    for word, _, start, end in analyze(text, mode="index", removestops=False):
        assert fold(text[start:end]) == word


# -- Whoosh round trip -----------------------------------------------------------------

@pytest.fixture(scope="module")
def paragraphs() -> dict[str, str]:
    """Every non-blank line of the corpus, keyed "prefix:line"."""
    found = {}
    for path in sorted(CORPUS.glob("*.txt")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if line.strip():
                found[f"{path.name[:3]}:{number}"] = line
    return found


@pytest.fixture(scope="module")
def whoosh_index(tmp_path_factory, paragraphs):
    schema = fields.Schema(key=fields.ID(stored=True, unique=True),
                           body=fields.TEXT(analyzer=policy_analyzer(), stored=True,
                                            phrase=True))
    folder = tmp_path_factory.mktemp("whoosh")
    ix = index.create_in(str(folder), schema)
    with ix.writer() as writer:
        for key, line in paragraphs.items():
            writer.add_document(key=key, body=line)
    return index.open_dir(str(folder))  # reads the pickled analyzer back


def search_keys(ix, text: str) -> set[str]:
    with ix.searcher() as searcher:
        query = QueryParser("body", ix.schema).parse(text)
        return {hit["key"] for hit in searcher.search(query, limit=None)}


def test_simplified_query_finds_traditional_passage(whoosh_index, paragraphs):
    keys = search_keys(whoosh_index, "县管校聘")
    assert "002:9" in keys
    assert "縣管校聘" in paragraphs["002:9"]
    assert keys == {k for k, line in paragraphs.items() if "县管校聘" in fold(line)}


@pytest.mark.parametrize("phrase", ["义务教育", "片区合作共同体", "校安工程", "立德树人"])
def test_phrase_matches_exactly_the_passages_containing_it(whoosh_index, paragraphs, phrase):
    expected = {k for k, line in paragraphs.items() if phrase in fold(line)}
    assert expected
    assert search_keys(whoosh_index, f'"{phrase}"') == expected


def test_two_word_phrase_spans_a_subworded_word(whoosh_index, paragraphs):
    """Sub-words sit at their word's position, so the next word is still adjacent."""
    expected = {k for k, line in paragraphs.items()
                if re.search("片区合作共同体(?:的)?建设", fold(line))}
    assert len(expected) >= 5
    assert search_keys(whoosh_index, '"片区合作共同体 建设"') == expected
    assert search_keys(whoosh_index, '"共同体 建设"') >= expected


def test_decimal_numbers_are_found_whole_and_by_parts(whoosh_index, paragraphs):
    expected = {k for k, line in paragraphs.items() if "34.5" in line}
    assert len(expected) == 1
    assert search_keys(whoosh_index, "34.5分") == expected
    assert search_keys(whoosh_index, "34") >= expected


class Brackets(highlight.Formatter):
    """Writes each match as [text], so a highlighted fragment can be compared exactly."""

    def format_token(self, text, token, replace=False):
        return "[" + highlight.get_text(text, token, replace) + "]"


@pytest.mark.parametrize(("prefix", "anchor", "query", "expected"), [
    ("002", "“縣管校聘”", "县管校聘", "推行中小學(xué)教師“[縣管校聘]”管理改革"),
    ("004", "縣級(jí)政府", "县级 政府",
     "三年一輪的[縣級](jí)[政府]教育工作督導(dǎo)評(píng)估是今年的一項(xiàng)重點(diǎn)工作"),
    # A sub-word inside a dictionary term is marked on its own.
    ("002", "召開首次國際", "信息化", "聯(lián)合國教科文組織在我市召開首次國際教育[信息化]大會"),
])
def test_highlighter_marks_traditional_characters(prefix, anchor, query, expected):
    text = corpus_text(prefix)
    at = text.index(anchor)
    start = max(text.rfind(p, 0, at) for p in "。,") + 1
    sentence = text[start:min(text.find(p, at) for p in "。,")]
    schema = fields.Schema(body=fields.TEXT(analyzer=policy_analyzer(), stored=True))
    ix = RamStorage().create_index(schema)
    with ix.writer() as writer:
        writer.add_document(body=sentence)
    with ix.searcher() as searcher:
        hits = searcher.search(QueryParser("body", schema).parse(query))
        hits.fragmenter = highlight.WholeFragmenter()
        hits.formatter = Brackets()
        assert hits[0].highlights("body") == expected
