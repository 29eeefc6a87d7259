"""Soak test: mixed search and ask load on the production server while the index updates.

Run: .venv/bin/python -m bench.soak [--clients 32] [--seconds 60] [--out FILE]

Copies corpus/ to a temporary folder and indexes it in another (the embedding cache under
instance/ answers for unchanged passages), then starts ``python -m webapp --workers N
--warm`` (gunicorn with N workers, default one per core; waitress for 1) on 127.0.0.1 over
it. ``--clients`` threads with keep-alive connections cycle through keyword search, hybrid
search and questions. After ``--update-after`` seconds a document is added, one gets a
sentence with a marker word and one is deleted; ``python -m indexer update`` runs, and
while it runs /api/health is polled on new connections until every worker (told apart by
the process holding the connection) answers with the new generation; the edits are checked
through the API; then the corpus is reverted and updated again. The load lasts
``--seconds``, or until the updates are checked if that is later.

Prints one JSON object; exits 1 if any response under load was not 2xx or a check failed
(among them: every worker served the new generation within ``--switch-limit`` seconds of
CURRENT naming it, no worker restarted, only the newest two generations left on disk,
none held open by any server process).
Loopback only, every loop bounded; the server and temporary folders are always removed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from bench.timing import percentiles
from bench.web_load import (
    MAX_REQUESTS_PER_CLIENT,
    ROOT,
    make_targets,
    server_processes,
    start_server,
    stop_server,
    tree_memory,
)
from bench.workers import INDEXER_TIMEOUT, SWITCH_TIMEOUT, SwitchWatch, fetch, workers_of

KEEP = 2  # finished generations indexer.store.generations.remove_stale keeps
MARKER = "soakmarker"  # one jieba token, in no document of the corpus
APPENDED = f"\n本段为浸泡测试追加的句子，标记词 {MARKER} 用来确认更新已经生效。\n"
ADDED_FILE = "900_soak_report.txt"
ADDED_TEXT = """某县教育局2023年校车安全管理工作报告
一、基本情况
全县共有校车四十二辆，覆盖农村学校二十八所，每天接送学生约三千人。教育局会同交通、公安部门建立校车安全联席会议制度，每季度开展一次联合检查。
二、主要做法
（一）落实驾驶人管理。所有校车驾驶人每年参加安全培训，考核合格后方可上岗，实行一车一档、一人一档管理。
（二）加强线路管理。根据学生分布调整接送线路，避开临水临崖路段，在上下学高峰安排随车照管人员。
三、下一步打算
继续推进校车信息化监管平台建设，实现车辆定位、超速提醒和学生上下车刷卡全覆盖，确保全年校车安全零事故。
"""
MIX = ("search", "search-hybrid", "ask")
TARGETS = make_targets()
REQUEST_TIMEOUT = 60.0  # seconds; a slower answer counts as a failed request
TAIL_SECONDS = 2.0  # load kept on the final generation after the last check
ERRORS_KEPT = 5


class SoakError(Exception):
    """A step of the soak could not be done (a build failed, the server did not switch)."""


class Load:
    """Client threads cycling through the mix until stopped, recording every response."""

    def __init__(self, host: str, port: int, mix: list[str], clients: int):
        self.host, self.port, self.mix = host, port, mix
        self.urls = {name: [f"{TARGETS[name][0]}?{urlencode(p)}" for p in TARGETS[name][1]]
                     for name in mix}
        # per client: (target, seconds since start when done, latency) and failures
        self.samples: list[list[tuple[str, float, float]]] = [[] for _ in range(clients)]
        self.failures: list[list[dict]] = [[] for _ in range(clients)]
        self.stop = threading.Event()
        self.started = time.monotonic()
        self.threads = [threading.Thread(target=self._client, args=(n,), daemon=True)
                        for n in range(clients)]

    def now(self) -> float:
        """Seconds since the load started."""
        return time.monotonic() - self.started

    def start(self) -> None:
        self.started = time.monotonic()
        for thread in self.threads:
            thread.start()

    def finish(self) -> float:
        """Stop the clients, wait for their last requests; the load's wall time."""
        self.stop.set()
        for thread in self.threads:
            thread.join(REQUEST_TIMEOUT + 5)
        return self.now()

    def _client(self, number: int) -> None:
        connection = None
        for count in range(MAX_REQUESTS_PER_CLIENT):
            if self.stop.is_set():
                break
            target = self.mix[(number + count) % len(self.mix)]
            urls = self.urls[target]
            url = urls[(number + count // len(self.mix)) % len(urls)]
            if connection is None:
                connection = http.client.HTTPConnection(self.host, self.port,
                                                        timeout=REQUEST_TIMEOUT)
            started = time.monotonic()
            try:
                status, body = fetch(connection, url)
                error = None if 200 <= status < 300 else body.decode("utf-8", "replace")
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                connection, status, error = None, None, f"{type(exc).__name__}: {exc}"
            done = time.monotonic()
            if status is not None:
                self.samples[number].append((target, done - self.started, done - started))
            if error is not None:
                self.failures[number].append({"t": round(done - self.started, 2),
                                              "target": target, "url": url,
                                              "status": status, "body": error[:500]})
        if connection is not None:
            connection.close()

    def summary(self, wall: float) -> dict:
        """Per target and in total: requests, errors, requests/s and latency percentiles."""
        samples = [s for per_client in self.samples for s in per_client]
        failures = sorted((f for per_client in self.failures for f in per_client),
                          key=lambda f: f["t"])

        def stats(latencies: list[float], errors: int) -> dict:
            data = {"requests": len(latencies), "errors": errors,
                    "rps": round(len(latencies) / wall, 1) if wall else 0.0}
            return {**data, **(percentiles(latencies) if latencies else {})}

        targets = {name: stats([s[2] for s in samples if s[0] == name],
                               sum(f["target"] == name for f in failures))
                   for name in self.mix}
        return {"targets": targets, "total": stats([s[2] for s in samples], len(failures)),
                "first_errors": failures[:ERRORS_KEPT]}

    def count_between(self, start: float, end: float) -> tuple[int, int]:
        """Responses and failures completed between two load times."""
        done = sum(start <= s[1] <= end for per_client in self.samples for s in per_client)
        failed = sum(start <= f["t"] <= end for per_client in self.failures for f in per_client)
        return done, failed


class Api:
    """The soak's own connection for health polls and checks (not counted as load)."""

    def __init__(self, host: str, port: int):
        self.connection = http.client.HTTPConnection(host, port, timeout=300)

    def get(self, path: str, **params) -> tuple[int, dict]:
        url = f"{path}?{urlencode(params)}" if params else path
        try:
            status, body = fetch(self.connection, url)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.connection.close()  # the server closed it while idle: once more, anew
            status, body = fetch(self.connection, url)
        except (OSError, http.client.HTTPException):
            self.connection.close()  # reconnects on the next request
            raise
        try:
            return status, json.loads(body)
        except ValueError:
            return status, {"body": body.decode("utf-8", "replace")[:500]}

    def generation(self) -> str | None:
        status, data = self.get("/api/health")
        return data.get("generation") if status == 200 else None

    def wait_for_generation(self, old: str | None) -> tuple[str, float]:
        """Poll /api/health until it names a generation other than ``old``."""
        started = time.monotonic()
        while time.monotonic() - started < SWITCH_TIMEOUT:
            name = self.generation()
            if name and name != old:
                return name, time.monotonic() - started
            time.sleep(0.1)
        raise SoakError(f"/api/health still shows {old} {SWITCH_TIMEOUT:.0f} s after the update")


class Corpus:
    """The temporary corpus and the edits the updates make to it."""

    def __init__(self, folder: Path):
        from indexer.ingest.sources import file_doc_id

        self.folder = folder
        texts = sorted(folder.glob("*.txt"))
        if len(texts) < 2:
            raise SoakError(f"the soak needs at least two .txt documents in {folder}")
        self.changed, self.deleted = texts[0], texts[-1]
        self.changed_id = file_doc_id(self.changed, folder)
        self.deleted_id = file_doc_id(self.deleted, folder)
        self.added_id = file_doc_id(folder / ADDED_FILE, folder)
        self._originals = {p: p.read_bytes() for p in (self.changed, self.deleted)}

    def edit(self) -> None:
        """Add a document, append the marker sentence to one, delete another."""
        (self.folder / ADDED_FILE).write_text(ADDED_TEXT, encoding="utf-8")
        self.changed.write_bytes(self._originals[self.changed] + APPENDED.encode("utf-8"))
        self.deleted.unlink()

    def revert(self) -> None:
        """Put the corpus back as it was copied."""
        (self.folder / ADDED_FILE).unlink()
        for path, data in self._originals.items():
            path.write_bytes(data)


def run_indexer(command: str, corpus: Path, index: Path, env: dict, log: Path) -> dict:
    """``python -m indexer <command> --json`` in a child process; its report and wall time."""
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as stderr:
        done = subprocess.run(
            [sys.executable, "-m", "indexer", command, str(corpus), "--index", str(index),
             "--json"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True,
            timeout=INDEXER_TIMEOUT, check=False)
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise SoakError(f"indexer {command} exited with {done.returncode}: {tail}")
    report = json.loads(done.stdout)
    report["wall_seconds"] = round(time.monotonic() - started, 2)
    return report


def server_files(pid: int, index: Path) -> list[str]:
    """Files under ``index`` that any process of the server holds open or mapped."""
    paths: set[str] = set()
    for process in server_processes(pid):
        paths |= {f.path for f in process.open_files()}
        paths |= {m.path for m in process.memory_maps(grouped=True)}
    prefix = str(index) + os.sep
    return sorted(p for p in paths if p.startswith(prefix))


def read_log(log_text: str) -> tuple[list[str], list[str]]:
    """From the server log: the generations it opened, and its first ERROR records."""
    opened, errors = [], []
    for line in log_text.splitlines():
        if "opening index generation " in line:
            opened.append(line.split("opening index generation ", 1)[1].strip())
        elif " ERROR " in line:
            errors.append([line])
        elif errors and len(errors[-1]) < 200 and not line[:4].isdigit():
            errors[-1].append(line)  # a traceback line of the last error
    return opened, [e[0] + "\n" + "\n".join(e[1:])[-1200:] for e in errors[:ERRORS_KEPT]]


class Soak:
    """One soak run: the temporary corpus and index, the server, the load and the checks."""

    def __init__(self, args: argparse.Namespace, tmp: Path):
        self.args = args
        self.tmp = tmp
        self.corpus_dir, self.index = tmp / "corpus", tmp / "index"
        self.env = dict(os.environ, POLICYQA_CORPUS_DIR=str(self.corpus_dir),
                        POLICYQA_INDEX_DIR=str(self.index), POLICYQA_PROGRESS="0",
                        POLICYQA_LOG_LEVEL="INFO", POLICYQA_WEB_ASK_RATE="0",
                        POLICYQA_EMBEDDING_THREADS=str(args.embedding_threads))
        self.result: dict = {"ok": False, "clients": args.clients, "seconds": args.seconds,
                             "mix": list(MIX), "checks": []}
        self.server: subprocess.Popen | None = None
        self.load: Load | None = None
        self.peak_rss: list[dict[str, float]] = []

    def check(self, name: str, ok: bool, detail=None) -> None:
        self.result["checks"].append({"check": name, "ok": bool(ok), "detail": detail})

    def prepare(self) -> tuple[str, int]:
        """Copy the corpus, build its index, start and warm the server."""
        shutil.copytree(ROOT / "corpus", self.corpus_dir)
        self.corpus = Corpus(self.corpus_dir)
        build = run_indexer("build", self.corpus_dir, self.index, self.env,
                            self.tmp / "build.log")
        self.result["build"] = {k: build[k] for k in ("generation", "documents", "passages",
                                                       "embedded_passages", "wall_seconds")}
        self.log = (self.tmp / "server.log").open("w", encoding="utf-8")
        self.server, host, port = start_server(self.index, self.args.threads,
                                               workers=self.args.workers, env=self.env,
                                               stderr=self.log, warm=True)
        pid = self.server.pid
        self.workers = workers_of(pid)
        self.result["server"] = {"workers": len(self.workers), "threads": self.args.threads,
                                 "host": host, "pid": pid, "worker_pids": self.workers,
                                 "memory_mb": {"started": tree_memory(pid)}}
        api = Api(host, port)
        for name in MIX:  # the workers opened the index (--warm); a few requests more
            path, params = TARGETS[name]
            for p in params[:3]:
                api.get(path, **p)
        self.result["server"]["memory_mb"]["warm"] = tree_memory(pid)
        self.generations = [api.generation()]
        self.api, self.host, self.port = api, host, port
        return host, port

    def update(self, label: str, expect: dict[str, list[str]]) -> dict:
        """Run ``indexer update`` under load and wait until the server serves its result."""
        begun = self.load.now()
        watch = SwitchWatch(self.host, self.port, self.index, self.generations[-1],
                            self.workers)
        watch.start()
        try:
            report = run_indexer("update", self.corpus_dir, self.index, self.env,
                                 self.tmp / f"{label}.log")
            exited = self.load.now()
            watch.join(SWITCH_TIMEOUT)
        finally:
            watch.stop.set()
        if not watch.done():
            raise SoakError(f"{label}: workers {sorted(set(self.workers) - set(watch.first))} "
                            f"did not serve a new generation {SWITCH_TIMEOUT:.0f} s after it")
        generation = self.api.wait_for_generation(self.generations[-1])[0]
        self.generations.append(generation)
        switches = watch.switch_seconds()
        limit = self.args.switch_limit
        self.check(f"{label}: every worker served the new generation within {limit:g} s",
                   all(s <= limit for s in switches.values())
                   and {g for _, g in watch.first.values()} == {generation}, switches)
        done, failed = self.load.count_between(begun, self.load.now())
        self.check(f"{label}: the report lists the edits",
                   all(report[k] == v for k, v in expect.items()),
                   {k: report[k] for k in expect})
        self.check(f"{label}: /api/health shows the published generation",
                   generation == report["generation"], [generation, report["generation"]])
        return {"label": label, "started_s": round(begun, 2),
                "update_seconds": round(exited - begun, 2),
                "report_seconds": report["seconds"], "generation": generation,
                "switch_seconds": max(switches.values()),
                "switch_seconds_by_worker": switches,
                "embedded_passages": report["embedded_passages"],
                "responses_during": done, "failures_during": failed}

    def check_served(self, label: str, edited: bool) -> None:
        """The marker, the deleted and the added document as the live generation has them."""
        corpus = self.corpus
        for mode in ("keyword", "hybrid"):
            status, data = self.api.get("/api/search", q=MARKER, mode=mode)
            found = [h["doc_id"] for h in data.get("hits", []) if MARKER in h["text"]]
            expected = [corpus.changed_id] if edited else []
            self.check(f"{label}: {mode} search for {MARKER!r} finds "
                       f"{expected[0] if edited else 'nothing'}",
                       status == 200 and sorted(set(found)) == expected, [status, found])
        for doc_id, present in ((corpus.deleted_id, not edited), (corpus.added_id, edited)):
            status, _ = self.api.get(f"/api/documents/{quote(doc_id, safe='')}")
            self.check(f"{label}: /api/documents/{doc_id} is {200 if present else 404}",
                       status == (200 if present else 404), status)

    def sample_rss(self) -> None:
        while not self.load.stop.is_set():
            try:
                self.peak_rss.append(tree_memory(self.server.pid))
            except Exception:  # the server died: the checks say so
                return
            time.sleep(0.5)

    def run(self) -> None:
        """Prepare, load, update twice under the load, stop, then check what is left."""
        host, port = self.prepare()
        args, corpus = self.args, self.corpus
        self.load = Load(host, port, list(MIX), args.clients)
        self.load.start()
        threading.Thread(target=self.sample_rss, daemon=True).start()
        updates = self.result["updates"] = []
        try:
            time.sleep(max(0.0, args.update_after - self.load.now()))
            corpus.edit()
            updates.append(self.update("edit", {"added": [corpus.added_id],
                                                "changed": [corpus.changed_id],
                                                "removed": [corpus.deleted_id]}))
            self.check_served("edit", edited=True)
            if args.revert:
                corpus.revert()
                updates.append(self.update("revert", {"added": [corpus.deleted_id],
                                                      "changed": [corpus.changed_id],
                                                      "removed": [corpus.added_id]}))
                self.check_served("revert", edited=False)
            time.sleep(max(args.seconds - self.load.now(), TAIL_SECONDS))
        except (SoakError, subprocess.SubprocessError) as exc:  # still report the load
            self.result["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            wall = self.load.finish()
        self.result["load_seconds"] = round(wall, 2)
        self.result.update(self.load.summary(wall))
        self.finish_checks()

    def finish_checks(self) -> None:
        """No failed request, the same server process, old generations gone from disk."""
        total = self.result["total"]
        self.check("every response under load was 2xx", total["errors"] == 0,
                   total["errors"])
        pid = self.server.pid
        self.check("the server was not restarted and no worker was replaced",
                   self.server.poll() is None and workers_of(pid) == self.workers,
                   {"before": self.workers, "after": workers_of(pid)})
        on_disk = sorted(p.name for p in self.index.iterdir() if p.name.startswith("gen-"))
        live = (self.index / "CURRENT").read_text(encoding="utf-8").strip()
        expected = self.generations[-KEEP:]
        self.result["generation"] = {"before": self.generations[0], "after": live,
                                     "created": self.generations, "on_disk": on_disk,
                                     "keep": KEEP}
        self.check(f"the index folder holds the newest {KEEP} generations, no others",
                   on_disk == sorted(expected) and live == self.generations[-1],
                   {"expected": expected, "on_disk": on_disk})
        self.check("no writer lock is left", not (self.index / "build.lock").exists())
        api_generation = self.api.generation()
        held = server_files(pid, self.index)
        removed = [f for f in held if Path(f).relative_to(self.index).parts[0] not in on_disk]
        self.check("the server holds no file of a removed generation", not removed, removed)
        memory = self.result["server"]["memory_mb"]
        memory["peak"] = {key: max((m[key] for m in self.peak_rss), default=0.0)
                          for key in ("rss_total_mb", "pss_total_mb")}
        memory["end"] = tree_memory(pid)
        self.log.flush()
        log_text = (self.tmp / "server.log").read_text(encoding="utf-8", errors="replace")
        server = self.result["server"]
        server["opened_generations"], server["log_errors"] = read_log(log_text)
        self.check("/api/health serves the last generation",
                   api_generation == self.generations[-1], api_generation)
        self.result["ok"] = ("error" not in self.result
                             and all(c["ok"] for c in self.result["checks"]))

    def close(self) -> None:
        """Stop the server; the caller removes the temporary folder."""
        if self.server is not None and self.server.poll() is None:
            stop_server(self.server)
        if getattr(self, "log", None):
            self.log.close()


def main() -> int:
    from webapp.prefork import cores

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="load duration (longer if the updates take longer)")
    parser.add_argument("--update-after", type=float, default=None,
                        help="seconds of load before the first update (default: a quarter "
                             "of --seconds)")
    parser.add_argument("--no-revert", dest="revert", action="store_false",
                        help="update once (edit) instead of twice (edit, then revert)")
    parser.add_argument("--workers", type=int, default=cores(),
                        help="server processes (default: one per core; 1: waitress)")
    parser.add_argument("--threads", type=int, default=8, help="threads per server process")
    parser.add_argument("--switch-limit", type=float, default=2.0,
                        help="seconds each worker may take to serve a published generation")
    parser.add_argument("--embedding-threads", type=int, default=1,
                        help="torch threads of the server and the indexer")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args()
    if args.update_after is None:
        args.update_after = args.seconds / 4

    tmp = Path(tempfile.mkdtemp(prefix="policyqa-soak-"))
    soak = Soak(args, tmp)
    try:
        soak.run()
    except (SoakError, OSError, http.client.HTTPException, subprocess.SubprocessError) as exc:
        soak.result["ok"] = False
        soak.result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        soak.close()
        shutil.rmtree(tmp, ignore_errors=True)
    order = ("ok", "error", "clients", "seconds", "load_seconds", "total", "targets",
             "updates", "generation", "server", "build", "first_errors", "checks")
    result = {k: soak.result[k] for k in order if k in soak.result}
    text = json.dumps({**result, **soak.result}, ensure_ascii=False, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0 if soak.result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
