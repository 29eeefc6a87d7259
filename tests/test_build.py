"""Builds and updates: atomic generations, incremental updates, one writer, crash safety."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from indexer import generations
from indexer.build import build
from indexer.engine import Engine
from tests.conftest import ROOT, SHARED_BENCH


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
        with pytest.raises(generations.WriterBusy, match="another build"):
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

    # A bigger corpus so the build is still writing when it is killed.
    shutil.copy(SHARED_BENCH / "cmrc2018" / "passages.jsonl", corpus_copy / "bulk.jsonl")
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
