"""A damaged index is named, refused with a clear 503 and repaired by a rebuild.

Each test damages a copy of a small real index (vectors by the fake embedder) the way a
disk, a careless `rm` or a full disk would, then checks the three readers: `check`, the
Engine and the web app (which keeps running and serves the rebuilt index).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from indexer.__main__ import main
from indexer.errors import IndexDamaged, IndexNotReady
from indexer.retrieve.engine import Engine
from indexer.store import check, generations
from indexer.store.build import build
from tests.conftest import CORPUS
from tests.fakes import FakeEmbedder
from webapp import create_app


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A whole index with vectors, built once; tests damage copies of it."""
    root = tmp_path_factory.mktemp("pristine")
    build(CORPUS, root / "index", embedder=FakeEmbedder(root / "cache"))
    return root


@pytest.fixture
def index(pristine, tmp_path):
    target = tmp_path / "index"
    shutil.copytree(pristine / "index", target)
    return target


@pytest.fixture
def embedder(pristine):
    return FakeEmbedder(pristine / "cache")


def _live(index: Path) -> Path:
    return generations.current_generation(index)


def truncate_vectors(folder: Path) -> str:
    path = folder / "vectors.npy"
    os.truncate(path, path.stat().st_size // 2)
    return f"{folder.name}/vectors.npy is truncated"


def delete_manifest(folder: Path) -> str:
    (folder / "manifest.json").unlink()
    return f"{folder.name}/manifest.json is missing"


def delete_segment(folder: Path) -> str:
    (segment,) = (folder / "whoosh").glob("*.seg")
    segment.unlink()
    return f"{folder.name}/whoosh/{segment.name} is missing"


def truncate_segment(folder: Path) -> str:
    (segment,) = (folder / "whoosh").glob("*.seg")
    os.truncate(segment, segment.stat().st_size // 2)
    return f"{folder.name}/whoosh/ cannot be opened as a keyword index"


def garble_passages(folder: Path) -> str:
    with (folder / "passages.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"passage_id": "cut off in the midd\n')
    return f"{folder.name}/passages.jsonl line 144 cannot be read"


def drop_passages(folder: Path) -> str:
    path = folder / "passages.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-3]), encoding="utf-8")
    return f"{folder.name}/passages.jsonl holds 140 records, the manifest records 143"


def delete_vector_ids(folder: Path) -> str:
    (folder / "vector_ids.json").unlink()
    return f"{folder.name}/vector_ids.json is missing"


def delete_documents(folder: Path) -> str:
    (folder / "documents.jsonl").unlink()
    return f"{folder.name}/documents.jsonl is missing"


DAMAGE = [truncate_vectors, delete_manifest, delete_segment]
MORE_DAMAGE = [truncate_segment, garble_passages, drop_passages, delete_vector_ids,
               delete_documents]


def test_a_whole_index_has_no_problems(index, capsys):
    assert check.check(index) == []
    assert main(["check", "--index", str(index)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"ok: {_live(index).name} in {index}, 5 documents, 143 passages, "
                          "model fake-bigram-64 (64 dimensions)")


@pytest.mark.parametrize("damage", DAMAGE + MORE_DAMAGE, ids=lambda f: f.__name__)
def test_check_names_the_damaged_file(index, damage, capsys):
    expected = damage(_live(index))
    problems = check.check(index)
    assert problems and problems[0].startswith(expected), problems
    assert main(["check", "--index", str(index), "--json"]) == IndexDamaged.exit_code
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["problems"] == problems
    assert data["status"] == IndexDamaged.exit_code and expected in data["error"]
    assert main(["check", "--index", str(index)]) == IndexDamaged.exit_code
    out = capsys.readouterr().out
    assert out.startswith("damaged: ") and f"  - {problems[0]}\n" in out


@pytest.mark.parametrize("damage", DAMAGE + MORE_DAMAGE, ids=lambda f: f.__name__)
@pytest.mark.parametrize("opened", [False, True], ids=["before-open", "while-open"])
def test_the_engine_refuses_a_damaged_index_with_index_damaged(index, embedder, damage,
                                                               opened):
    engine = Engine(index, embedder=embedder)
    if opened:
        assert engine.search("校车 安全").hits
    expected = damage(_live(index))
    for mode in ("keyword", "semantic", "hybrid"):
        with pytest.raises(IndexDamaged, match="run `python -m indexer build`") as caught:
            engine.search("校车 安全", mode=mode)
        assert caught.value.problems[0].startswith(expected)


def test_damage_found_during_a_search_becomes_index_damaged(index, embedder, monkeypatch):
    """A segment lost between the engine's check and the search (another thread's first
    searcher opens it) is reported as damage, not as a FileNotFoundError."""
    engine = Engine(index, embedder=embedder)
    generation = engine.generation()
    expected = delete_segment(_live(index))
    monkeypatch.setattr(engine, "generation", lambda: generation)
    with pytest.raises(IndexDamaged) as caught:
        engine.search("校车 安全")
    assert isinstance(caught.value.__cause__, FileNotFoundError)
    assert caught.value.problems[0].startswith(expected)


def test_a_generation_that_current_names_but_is_gone_is_damage(index, embedder, capsys):
    shutil.rmtree(_live(index))
    problems = check.check(index)
    assert len(problems) == 1 and problems[0].startswith("CURRENT names gen-")
    with pytest.raises(IndexDamaged, match="CURRENT names gen-"):
        Engine(index, embedder=embedder).search("校车")
    assert main(["check", "--index", str(index)]) == IndexDamaged.exit_code


def test_no_index_at_all_is_not_ready_rather_than_damaged(tmp_path, capsys):
    assert main(["check", "--index", str(tmp_path / "none")]) == \
        IndexNotReady.exit_code
    assert capsys.readouterr().out.startswith(f"no index at {tmp_path / 'none'}")


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__)
def test_the_web_app_answers_503_then_serves_the_rebuilt_index(index, embedder, damage):
    app = create_app({"TESTING": True, "INDEX_DIR": index,
                      "POLICYQA_ENGINE": Engine(index, embedder=embedder)})
    client = app.test_client()
    before = client.get("/api/search?q=校车 安全")
    assert before.status_code == 200
    damaged_generation = _live(index).name

    expected = damage(_live(index))
    for path in ("/api/search?q=校车 安全", "/api/search?q=校车&mode=hybrid", "/api/health",
                 "/api/documents"):
        response = client.get(path)
        assert response.status_code == 503, path
        body = response.get_json()
        assert set(body) == {"ok", "error", "status"}
        assert body["ok"] is False and body["status"] == 503
        assert expected in body["error"] and "run `python -m indexer build`" in body["error"]
    assert client.get("/search?q=校车").status_code == 503  # the error page, same status

    build(CORPUS, index, embedder=embedder)
    assert check.check(index) == []
    after = client.get("/api/search?q=校车 安全")
    assert after.status_code == 200
    assert [h["passage_id"] for h in after.get_json()["hits"]] == [
        h["passage_id"] for h in before.get_json()["hits"]]
    assert client.get("/api/health").get_json()["generation"] != damaged_generation


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__)
def test_an_update_of_a_damaged_index_rebuilds_it_whole(index, embedder, damage):
    damage(_live(index))
    report = build(CORPUS, index, incremental=True, embedder=embedder)
    assert not report.up_to_date and report.passages > 0
    assert check.check(index) == []
    assert Engine(index, embedder=embedder).search("校车 安全").hits
