"""The Milvus backend on milvus-lite: what only it has to keep, on the bundled corpus.

The search and answer contracts run over both backends where they are written
(``any_engine`` in test_keyword, test_answer and test_vectors). Here: the HTTP API over
Milvus answers as over the local files; an update adds, changes and deletes; a killed
build leaves the live generation answering; one writer at a time; an unreachable engine
is a 503 with one line; ``indexer check`` names what is wrong; and the index lives
entirely in Milvus (a host reads no file of its own).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.errors import IndexDamaged, IndexUnreachable, WriterBusy
from indexer.milvus import blobs, generations
from indexer.milvus.backend import MilvusIndex
from indexer.milvus.build import MANIFEST, build
from indexer.milvus.client import Names, connect
from indexer.retrieve.engine import Engine
from tests.conftest import ROOT, assert_error_shape

pytestmark = pytest.mark.model


def engine_of(names: Names, embedder=None) -> Engine:
    return Engine(None, embedder=embedder, backend=MilvusIndex(None, lambda: embedder, names))


@pytest.fixture(scope="module")
def both_apps(model_index_dir, model_engine, milvus_engine):
    from webapp import create_app

    def app(engine):
        return create_app({"TESTING": True, "INDEX_DIR": model_index_dir,
                           "POLICYQA_ENGINE": engine, "WEB_ASK_RATE": 0}).test_client()

    return app(model_engine), app(milvus_engine)


def _without_timing(data):
    """A JSON answer without what differs between two runs (times, scores, generation)."""
    if isinstance(data, dict):
        return {k: _without_timing(v) for k, v in data.items()
                if k not in {"took_ms", "generation", "score", "scores", "rank"}}
    if isinstance(data, list):
        return [_without_timing(v) for v in data]
    return data


@pytest.mark.parametrize("path", [
    "/api/search?q=片区合作共同体",
    "/api/search?q=教育 region:句容&k=50",
    "/api/search?q=教师 -培训&k=50",
    "/api/search?q=學校建設&year=2016&k=50",
    "/api/search?q=2016年 中考&k=50",
])
def test_the_api_answers_the_same_over_milvus(both_apps, path):
    local, milvus = (json.loads(app.get(path).data) for app in both_apps)
    assert local["total"] > 0
    assert set(milvus) == set(local)
    assert milvus["total"] == local["total"] and milvus["facets"] == local["facets"]
    by_id = {h["passage_id"]: _without_timing(h) for h in local["hits"]}
    shared = [h for h in milvus["hits"] if h["passage_id"] in by_id]
    if local["total"] <= 50:  # every match on the page: the same passages
        assert len(shared) == len(local["hits"]) == len(milvus["hits"])
    else:  # BM25 over one field there, BM25F with weighted titles here: close ranks
        assert len(shared) >= 0.7 * len(local["hits"])
    for hit in shared:  # the same text, place and highlight for each passage
        assert _without_timing(hit) == by_id[hit["passage_id"]]


def test_a_cited_answer_over_milvus_quotes_the_report_exactly(both_apps, milvus_engine):
    _, milvus = both_apps
    data = json.loads(milvus.get("/api/ask?q=吉林乡下老师评高级职称有没有照顾?").data)
    assert data["answerable"] and data["citations"]
    documents = milvus_engine.generation().catalog.documents
    for citation in data["citations"]:
        text = documents[citation["doc_id"]].text
        assert text[citation["start"]:citation["end"]] == citation["quote"]
    assert "乡村教师倾斜" in data["answer"]


def test_update_adds_changes_and_deletes(tmp_path, corpus_copy, real_embedder):
    names = Names("update_test")
    build(corpus_copy, embedder=real_embedder, names=names)
    engine = engine_of(names, real_embedder)
    first = engine.generation().name
    assert engine.search("片区合作共同体").total > 0

    (deleted,) = corpus_copy.glob("004_*.txt")
    deleted_id = deleted.stem
    deleted.unlink()
    (changed,) = corpus_copy.glob("000_*.txt")
    changed.write_text(changed.read_text(encoding="utf-8")
                       + "\n全县新增智慧校园标记词 milvustoken 一项。\n", encoding="utf-8")
    (corpus_copy / "900_added.txt").write_text(
        "某县2023年校车安全管理报告\n全县校车四十二辆，新增标记词 addedtoken。\n", encoding="utf-8")
    report = build(corpus_copy, incremental=True, embedder=real_embedder, names=names)
    assert report.added == ["900_added"] and report.removed == [deleted_id]
    assert report.changed == [changed.stem]
    assert report.embedded_passages < report.passages  # unchanged ones came from the cache

    time.sleep(1.1)  # a host trusts the alias for a second
    generation = engine.generation()
    assert generation.name != first
    assert deleted_id not in generation.catalog.documents
    for mode in ("keyword", "semantic", "hybrid"):
        hits = engine.search("义务教育 学校 教师", mode=mode, k=50).hits
        assert all(not h.passage_id.startswith(deleted_id) for h in hits)
    catalog = generation.catalog
    assert [catalog.passages[h.passage_id].doc_id
            for h in engine.search("milvustoken").hits] == [changed.stem]
    assert [catalog.passages[h.passage_id].doc_id
            for h in engine.search("addedtoken").hits] == ["900_added"]
    up_to_date = build(corpus_copy, incremental=True, embedder=real_embedder, names=names)
    assert up_to_date.up_to_date and up_to_date.generation == generation.name


def test_a_killed_build_leaves_the_live_generation_answering(tmp_path, corpus_copy,
                                                             real_embedder, monkeypatch):
    names = Names("killed_test")
    build(corpus_copy, embedder=real_embedder, names=names)
    engine = engine_of(names, real_embedder)
    live = engine.generation().name
    before = [h.passage_id for h in engine.search("校车 安全", mode="hybrid").hits]

    class Killed(BaseException):
        pass

    def killed(*args, **kwargs):
        raise Killed

    client = connect()
    # Killed between writing the passages and the manifest, with no chance to clean up.
    monkeypatch.setattr("indexer.milvus.build._insert_sentences", killed)
    monkeypatch.setattr(generations, "drop", lambda client, name: None)
    monkeypatch.setattr(generations.Lease, "release", lambda self: None)
    with pytest.raises(Killed):
        build(corpus_copy, embedder=real_embedder, names=names)
    monkeypatch.undo()
    left = [n for n in client.list_collections() if names.is_generation(n) and n != live]
    assert len(left) == 1  # the half-built generation, never made live
    blobs.put_json(client, names.control, generations.LEASE,  # its owner is gone
                   {**blobs.get_json(client, names.control, generations.LEASE),
                    "pid": _dead_pid()})

    time.sleep(1.1)
    assert engine.generation().name == live
    assert [h.passage_id for h in engine.search("校车 安全", mode="hybrid").hits] == before
    report = build(corpus_copy, embedder=real_embedder, names=names)  # takes over
    assert left[0] not in client.list_collections()  # the next writer dropped it
    assert report.generation != live


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_a_second_writer_is_refused_while_the_first_holds_the_lease(corpus_copy):
    names = Names("lease_test")
    client = connect()
    with generations.writing(client, names):
        with pytest.raises(WriterBusy, match="another build"):
            build(corpus_copy, embedder=None, names=names)
    assert blobs.get_json(client, names.control, generations.LEASE) is None  # released


def test_a_generation_without_its_manifest_is_damaged_and_check_says_so(corpus_copy,
                                                                        monkeypatch):
    names = Names("damaged_test")
    monkeypatch.setenv("POLICYQA_VECTORS_ENABLED", "false")
    build(corpus_copy, embedder=None, names=names)
    engine = engine_of(names)
    live = engine.generation().name
    client = connect()
    blobs.delete(client, Names.store(live), MANIFEST)
    fresh = engine_of(names)
    with pytest.raises(IndexDamaged, match="has no manifest"):
        fresh.generation()
    monkeypatch.setenv("POLICYQA_INDEX_BACKEND", "milvus")
    monkeypatch.setenv("POLICYQA_MILVUS_COLLECTION", names.alias)
    from indexer.store.check import examine_index

    found = examine_index(Path("unused"))
    assert found.name == live and any("has no manifest" in p for p in found.problems)


def test_an_unreachable_engine_is_a_503_with_one_line(model_index_dir, monkeypatch):
    from tests.test_workers import free_port
    from webapp import create_app

    monkeypatch.setenv("POLICYQA_MILVUS_URI", f"http://127.0.0.1:{free_port()}")
    engine = engine_of(Names("nowhere"))
    with pytest.raises(IndexUnreachable, match="cannot be reached"):
        engine.generation()
    app = create_app({"TESTING": True, "INDEX_DIR": model_index_dir,
                      "POLICYQA_ENGINE": engine, "WEB_ASK_RATE": 0}).test_client()
    data = assert_error_shape(app.get("/api/search?q=教育"), 503)
    assert "Milvus" in data["error"] and "\n" not in data["error"]
    page = app.get("/search?q=教育")
    assert page.status_code == 503 and "Milvus" in page.get_data(as_text=True)


def test_two_web_hosts_share_one_milvus_server_and_follow_an_update(tmp_path, corpus_copy):
    """The scale-out: ``milvus_lite server`` on loopback, an indexer and two web
    processes with no index files of their own; an update is live on both."""
    from tests.test_workers import fetch, free_port, webapp_server

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--host",
                               "127.0.0.1", "--port", str(port), "--data-dir",
                               str(tmp_path / "milvus-server")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    settings = {"index_backend": "milvus", "milvus_uri": f"http://127.0.0.1:{port}",
                "milvus_collection": "scaleout"}
    env = {**os.environ, "POLICYQA_VECTORS_ENABLED": "false", "POLICYQA_PROGRESS": "0",
           **{f"POLICYQA_{k.upper()}": v for k, v in settings.items()}}
    empty = tmp_path / "no-index"  # the web hosts' index folder: it stays empty
    try:
        _wait_for_port(port)
        subprocess.run([sys.executable, "-m", "indexer", "build", str(corpus_copy)],
                       cwd=ROOT, env=env, check=True, timeout=300, capture_output=True)
        with webapp_server(empty, tmp_path / "a.log", **settings) as first, \
                webapp_server(empty, tmp_path / "b.log", **settings) as second:
            for served in (first, second):
                answer = fetch(served, "/api/search?q=片区合作共同体")
                assert answer.status == 200 and json.loads(answer.body)["total"] > 0
            (corpus_copy / "900_added.txt").write_text(
                "某县2023年校车安全管理报告\n新增标记词 scaleouttoken。\n", encoding="utf-8")
            subprocess.run([sys.executable, "-m", "indexer", "update", str(corpus_copy)],
                           cwd=ROOT, env=env, check=True, timeout=300, capture_output=True)
            for served in (first, second):
                deadline, hits = time.monotonic() + 30, []
                while not hits and time.monotonic() < deadline:
                    hits = json.loads(fetch(served, "/api/search?q=scaleouttoken").body)["hits"]
                assert [h["doc_id"] for h in hits] == ["900_added"]
        assert not empty.exists() or not any(empty.iterdir())
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(tmp_path / "milvus-server", ignore_errors=True)


def _wait_for_port(port: int, timeout: float = 60) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"milvus_lite server did not listen on {port}")


def test_the_index_lives_in_milvus_not_on_the_host(milvus_engine):
    generation = milvus_engine.generation()
    assert generation.folder is None
    assert len(generation.catalog.passage_list) == generation.manifest["passages_count"]
    documents = blobs.get(connect(), Names.store(generation.name), "documents").splitlines()
    assert sorted(json.loads(line)["doc_id"] for line in documents) == sorted(
        generation.catalog.documents)


def test_a_text_longer_than_a_varchar_is_stored_in_chunks_and_read_back_whole():
    from indexer.milvus import schema

    client, name = connect(), "chunk_test_store"
    if client.has_collection(name):
        client.drop_collection(name)
    schema.create_blobs(client, name)
    text = "教育𠀀a" * 40000  # 3-, 3-, 4- and 1-byte characters: 440,000 bytes
    assert len(blobs.chunks(text)) == 8
    assert all(len(piece.encode("utf-8")) <= schema.CHUNK_BYTES for piece in blobs.chunks(text))
    blobs.put(client, name, "long", text)
    assert blobs.get(client, name, "long") == text
    client.delete(name, filter='key == "long#000003"')  # a chunk lost: never a shorter text
    assert blobs.get(client, name, "long") is None


def _cli(*argv: str, **settings: str) -> tuple[int, dict]:
    env = {**os.environ, "POLICYQA_VECTORS_ENABLED": "false", "POLICYQA_PROGRESS": "0",
           **{f"POLICYQA_{k.upper()}": v for k, v in settings.items()}}
    done = subprocess.run([sys.executable, "-m", "indexer", *argv, "--json"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    return done.returncode, json.loads(done.stdout)


def test_the_command_line_works_the_same_on_milvus(tmp_path, corpus_copy):
    milvus = {"index_backend": "milvus", "milvus_uri": str(tmp_path / "cli.db")}
    local = {"index_dir": str(tmp_path / "index")}
    code, missing = _cli("check", **milvus)
    assert code == 3 and not missing["ok"] and "run `python -m indexer build`" in \
        missing["error"]
    for settings in (local, milvus):
        code, built = _cli("build", str(corpus_copy), **settings)
        assert code == 0 and built["passages"] > 100
    searched = [_cli("search", "校车 安全", "--k", "50", **s)[1] for s in (local, milvus)]
    assert searched[1]["total"] == searched[0]["total"] > 0
    assert {h["passage_id"] for h in searched[1]["hits"]} == \
        {h["passage_id"] for h in searched[0]["hits"]}
    asked = [_cli("ask", "校车安全有哪些措施", **s)[1] for s in (local, milvus)]
    assert asked[1]["answerable"] == asked[0]["answerable"]
    assert asked[1]["answer"] == asked[0]["answer"]
    code, checked = _cli("check", **milvus)
    assert code == 0 and checked["ok"] and checked["passages"] == built["passages"]
    assert checked["index"].startswith("Milvus at ")
