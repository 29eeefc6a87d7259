"""Builds and updates: atomic generations, incremental updates, one writer, crash safety."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

from indexer.errors import WriterBusy
from indexer.retrieve.engine import Engine
from indexer.store import generations
from indexer.store.build import build
from tests.conftest import DATA, ROOT


def _ids(engine, query):
    return [h.passage_id for h in engine.search(query, k=100).hits]


def test_update_handles_added_changed_and_deleted_documents(tmp_path, corpus_copy):
    index = tmp_path / "index"
    first = build(corpus_copy, index)
    assert first.documents == 5 and first.indexed_passages == first.passages
    engine = Engine(index)
    assert _ids(engine, "吉林市")

    next(corpus_copy.glob("001_*.txt")).unlink()
    changed = next(corpus_copy.glob("003_*.txt"))
    changed.write_text(changed.read_text(encoding="utf-8").replace(
        "小学教师专业调整取得历史性进步", "小学教师轮岗交流取得历史性进步"), encoding="utf-8")
    (corpus_copy / "new_report.txt").write_text(
        "某县教育局2018年工作要点\n一、加强校车安全管理\n全县开展校车安全隐患大排查，确保万无一失。",
        encoding="utf-8")

    report = build(corpus_copy, index, incremental=True)
    assert [d[:3] for d in report.removed] == ["001"]
    assert [d[:3] for d in report.changed] == ["003"]
    assert report.added == ["new_report"]
    assert report.unchanged == 3
    catalog = engine.generation().catalog
    assert report.indexed_passages == len(catalog.passages_of(report.changed[0])) + len(
        catalog.passages_of("new_report"))

    catalog = engine.generation().catalog  # the engine follows CURRENT without a restart
    assert not any(p.doc_id.startswith("001") for p in catalog.passage_list)
    assert not [pid for pid in _ids(engine, "吉林市 教育局") if pid.startswith("001")]
    assert any(pid.startswith("003") for pid in _ids(engine, "轮岗交流"))
    assert not engine.search('"小学教师专业调整"').hits
    assert _ids(engine, "隐患大排查")[0].startswith("new_report")

    again = build(corpus_copy, index, incremental=True)
    assert again.up_to_date and again.indexed_passages == 0


def test_second_writer_is_refused_with_a_clear_message(tmp_path):
    with generations.writer_lock(tmp_path):
        with pytest.raises(WriterBusy, match="another build"):
            with generations.writer_lock(tmp_path):
                pass


def test_a_dead_writers_lock_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    import json
    import socket

    (tmp_path / generations.LOCK).write_text(json.dumps(
        {"pid": int(dead.stdout), "host": socket.gethostname(), "started": 0}))
    with generations.writer_lock(tmp_path):
        pass
    assert not (tmp_path / generations.LOCK).exists()


@pytest.mark.slow
def test_a_build_killed_half_way_leaves_the_live_index_answering(tmp_path, corpus_copy):
    index = tmp_path / "index"
    build(corpus_copy, index)
    engine = Engine(index)
    before = _ids(engine, "片区合作共同体")
    live = generations.current_generation(index)

    # A bigger corpus (the 300 scale-file passages, one document per line) so the build is
    # still writing when it is killed.
    shutil.copy(DATA / "scale_passages.jsonl", corpus_copy / "bulk.jsonl")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POLICYQA_PROGRESS": "false"}
    process = subprocess.Popen([sys.executable, "-m", "indexer", "build", str(corpus_copy),
                                "--index", str(index)], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if list(index.glob("*.building/passages.jsonl")):
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert list(index.glob("*.building")), "the build was not caught half way"

    assert generations.current_generation(index) == live
    assert _ids(Engine(index), "片区合作共同体") == before
    report = build(corpus_copy, index)  # the stale lock and half-built folder are cleaned up
    assert report.documents > 200
    assert not list(index.glob("*.building"))


# -- kill -9 of an incremental update --------------------------------------------------

# The update runs in a child process with the fake embedder; while it embeds it sleeps, so
# a kill can land there too.
UPDATE_CHILD = """
import sys, time
from pathlib import Path
from indexer.store.build import build
from indexer.errors import WriterBusy
from tests.fakes import FakeEmbedder

class SlowEmbedder(FakeEmbedder):
    def embed_passages(self, texts, progress=None):
        time.sleep(float(sys.argv[4]))
        return super().embed_passages(texts, progress)

build(Path(sys.argv[1]), Path(sys.argv[2]), incremental=True,
      embedder=SlowEmbedder(Path(sys.argv[3])))
"""


def _building(index, pattern):
    return lambda: any(index.glob(f"*{generations.BUILDING_SUFFIX}/{pattern}"))


# Where the update is when it is killed: a file that appears at that point, or a delay.
KILL_POINTS = {
    "lock-taken": lambda index: (index / generations.LOCK).exists,
    "catalog-written": lambda index: _building(index, "passages.jsonl"),
    "keyword-writing": lambda index: _building(index, "whoosh/*.trm"),
    "embedding": lambda index: _building(index, "whoosh/_MAIN_2.toc"),
}
_RANDOM = random.Random("update-kill")  # seeded: the same points on every run
RANDOM_DELAYS = [round(_RANDOM.uniform(0.3, 3.0), 2) for _ in range(2)]


@pytest.mark.slow
@pytest.mark.parametrize("point", [*KILL_POINTS, *(f"after-{d}s" for d in RANDOM_DELAYS)])
def test_an_update_killed_at_any_point_leaves_the_live_index_answering(
        tmp_path, corpus_copy, point):
    from indexer.store.check import check
    from tests.fakes import FakeEmbedder

    index, cache = tmp_path / "index", tmp_path / "cache"
    build(corpus_copy, index, embedder=FakeEmbedder(cache))
    engine = Engine(index, embedder=FakeEmbedder(cache))
    before = {mode: [h.passage_id for h in engine.search("片区合作共同体", mode=mode).hits]
              for mode in ("keyword", "semantic")}
    live = generations.current_generation(index)

    # A few dozen more documents, so the update has something to do at every point.
    lines = (DATA / "cmrc2018" / "passages.jsonl").read_text(encoding="utf-8")
    (corpus_copy / "bulk.jsonl").write_text("".join(lines.splitlines(keepends=True)[:40]),
                                            encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POLICYQA_PROGRESS": "false"}
    process = subprocess.Popen(
        [sys.executable, "-c", UPDATE_CHILD, str(corpus_copy), str(index), str(cache), "30"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if point in KILL_POINTS:
            reached = KILL_POINTS[point](index)
            deadline = time.monotonic() + 60
            while not reached() and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            assert reached(), f"the update never reached {point}"
        else:
            time.sleep(float(point.removeprefix("after-").removesuffix("s")))
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()

    if point != "lock-taken" and point in KILL_POINTS:
        assert list(index.glob(f"*{generations.BUILDING_SUFFIX}")), "not caught half way"
    # The update never finishes (its embedder sleeps 30 s), so the live index is as before.
    assert generations.current_generation(index) == live
    assert check(index) == []
    for reader in (engine, Engine(index, embedder=FakeEmbedder(cache))):
        for mode, ids in before.items():
            assert [h.passage_id for h in reader.search("片区合作共同体", mode=mode).hits] == ids

    # The dead update's lock is taken over and its half-built folder removed.
    report = build(corpus_copy, index, incremental=True, embedder=FakeEmbedder(cache))
    assert len(report.added) == 40 and report.unchanged == 5
    assert not list(index.glob(f"*{generations.BUILDING_SUFFIX}"))
    assert not (index / generations.LOCK).exists()
    assert check(index) == []
    top = engine.search("跑跑卡丁车").hits[0].passage_id
    assert engine.generation().catalog.passages[top].doc_id == "cmrc2018:TRIAL_800"
