"""Web load benchmark: the production server under concurrent search and ask clients.

Run: .venv/bin/python -m bench.web_load [--workers 2,1] [--clients 32] [--seconds 30]
     [--targets search-hybrid,ask] [--questions 100] [--index DIR] [--out FILE]

For each worker count in ``--workers`` (default: one per core, then 1), in the same run,
starts ``python -m webapp --workers N --warm`` (gunicorn for several workers, waitress for
one) on 127.0.0.1 with an ephemeral port, then runs ``--clients`` clients, each with its
own keep-alive ``http.client`` connection, split evenly across ``--targets``: hybrid
searches and questions cycle through ``--questions`` distinct questions (from
bench/answer_questions.jsonl, then bench/ownwords/questions.jsonl). The clients run in a
process of their own, for ``--warmup`` seconds unmeasured and then ``--seconds``
measured. ``--one-at-a-time`` runs the targets one after another instead.

Prints one JSON object: the machine and its load average, then per worker count
p50/p95/p99 latency, throughput and errors (in total and per target) and the memory of
the whole process tree (the sum of RSS, which counts shared pages once per process, and
of PSS, which shares them out), at start, warm, peak and end; the throughput ratio of the
first count to the last and whether the first met the targets. Without ``--index``, the
index of ``index_dir`` is used, or corpus/ is indexed into a temporary folder. Traffic goes
to the loopback address only; every loop is bounded in time and in count.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.timing import percentiles

ROOT = Path(__file__).resolve().parent.parent
MAX_REQUESTS_PER_CLIENT = 100_000
REQUEST_TIMEOUT = 60.0
START_TIMEOUT = 300.0  # seconds for a server to print its address (it loads the model)
QUESTION_FILES = (ROOT / "bench" / "answer_questions.jsonl",
                  ROOT / "bench" / "ownwords" / "questions.jsonl")
# What the first worker count should reach (issue 14), checked in the output.
GOALS = {"p99_ms": 1000.0, "p50_ms": 300.0, "throughput_ratio": 1.8, "rss_total_mb": 2048.0}

SEARCHES = ["校车 安全", "县管校聘 OR 校安工程", '"片区合作共同体"', "學校建設", "义务教育 均衡",
            "教师 培训", "学前教育", "信息化", "中考 均分", "year:2016 安全"]


def questions(count: int = 100) -> list[str]:
    """``count`` distinct questions from the bench question files, in file order."""
    found: dict[str, None] = {}
    for path in QUESTION_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.setdefault(json.loads(line)["question"].strip(), None)
    if len(found) < count:
        raise SystemExit(f"only {len(found)} distinct questions in the bench files")
    return list(found)[:count]


def make_targets(count: int = 100) -> dict[str, tuple[str, list[dict]]]:
    """Target name → (path, query parameter sets); questions drive hybrid search and ask."""
    asked = questions(count)
    return {
        "search": ("/api/search", [{"q": q} for q in SEARCHES]),
        "search-hybrid": ("/api/search", [{"q": q, "mode": "hybrid"} for q in asked]),
        "ask": ("/api/ask", [{"q": q} for q in asked]),
        "ask-keyword": ("/api/ask", [{"q": q, "mode": "keyword"} for q in asked]),
    }


# -- the server and its memory ---------------------------------------------------------------

def server_processes(pid: int) -> list:
    """The server's master and its workers (psutil processes)."""
    import psutil

    master = psutil.Process(pid)
    return [master, *master.children(recursive=True)]


def tree_memory(pid: int) -> dict[str, float]:
    """Memory of the server's process tree: the sum of RSS (every process, then the
    workers only), of PSS, which shares each shared page out among its processes, and of
    USS, the pages each process holds alone."""
    import psutil

    rss = pss = uss = workers = 0
    for number, process in enumerate(server_processes(pid)):
        try:
            info = process.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        rss += info.rss
        pss += getattr(info, "pss", info.rss)
        uss += info.uss
        workers += info.rss if number else 0
    return {"rss_total_mb": round(rss / 2**20, 1),
            "rss_workers_mb": round((workers or rss) / 2**20, 1),
            "pss_total_mb": round(pss / 2**20, 1), "uss_total_mb": round(uss / 2**20, 1)}


def cpu_seconds(pid: int) -> dict[int, float]:
    """CPU time (user + system) so far of each process of the server."""
    import psutil

    seconds = {}
    for process in server_processes(pid):
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        seconds[process.pid] = times.user + times.system
    return seconds


def start_server(index: str | Path | None, threads: int, workers: int = 1,
                 env: dict[str, str] | None = None, stderr=subprocess.DEVNULL,
                 warm: bool = False) -> tuple[subprocess.Popen, str, int]:
    """``python -m webapp`` on 127.0.0.1, any free port; returns (process, host, port).

    ``workers`` > 1 runs gunicorn, 1 waitress. ``env`` replaces the server's environment
    (default: this one, with the per-client question limit off, as every load client
    shares one address) and ``stderr`` receives its log (default: discarded).
    """
    if env is None:
        env = {**os.environ, "POLICYQA_WEB_ASK_RATE": "0"}
    command = [sys.executable, "-m", "webapp", "--host", "127.0.0.1", "--port", "0",
               "--threads", str(threads), "--workers", str(workers)]
    if index:
        command += ["--index", str(index)]
    if warm:
        command.append("--warm")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=stderr, text=True)
    line = _first_line(process, START_TIMEOUT)
    match = re.search(r"http://(127\.0\.0\.1):(\d+)/", line)
    if not match:
        process.terminate()
        raise SystemExit(f"the server did not start: {line!r}")
    if workers > 1:  # gunicorn prints its address before it forks the workers
        deadline = time.monotonic() + START_TIMEOUT
        while len(server_processes(process.pid)) <= workers and time.monotonic() < deadline:
            time.sleep(0.1)
    return process, match.group(1), int(match.group(2))


def _first_line(process: subprocess.Popen, timeout: float) -> str:
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()),
                              daemon=True)
    reader.start()
    reader.join(timeout)
    return lines[0] if lines else ""


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


# -- the load, in a process of its own ---------------------------------------------------------

def get(connection: http.client.HTTPConnection, url: str) -> tuple[int, float]:
    started = time.perf_counter()
    connection.request("GET", url)
    response = connection.getresponse()
    response.read()
    return response.status, time.perf_counter() - started


def generate_load(host: str, port: int, plan: list[tuple[str, list[str]]], clients: int,
                  warmup: float, seconds: float) -> dict:
    """``clients`` threads, client n on ``plan[n % len(plan)]``, each cycling through its
    target's addresses: ``warmup`` seconds unmeasured, then ``seconds`` measured.

    Returns per target the latencies (seconds) and failures of the measured part.
    """
    start = time.monotonic()
    measure_from, deadline = start + warmup, start + warmup + seconds
    latencies: dict[str, list[float]] = {name: [] for name, _ in plan}
    failures: dict[str, list[str]] = {name: [] for name, _ in plan}
    lock = threading.Lock()

    def client(number: int) -> None:
        name, urls = plan[number % len(plan)]
        offset = (number // len(plan)) * max(1, len(urls) // max(1, clients // len(plan)))
        connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
        mine: list[float] = []
        failed: list[str] = []
        for count in range(MAX_REQUESTS_PER_CLIENT):
            began = time.monotonic()
            if began >= deadline:
                break
            url = urls[(offset + count) % len(urls)]
            try:
                status, elapsed = get(connection, url)
                error = None if status == 200 else f"{status} {url}"
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
                elapsed, error = time.monotonic() - began, f"{type(exc).__name__}: {exc}"
            if began >= measure_from:
                mine.append(elapsed)
                if error:
                    failed.append(error)
        connection.close()
        with lock:
            latencies[name].extend(mine)
            failures[name].extend(failed)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT + warmup + seconds + 30)
    return {"latencies": latencies, "failures": failures,
            "wall": time.monotonic() - measure_from}


def summarize(latencies: list[float], errors: int, wall: float) -> dict:
    data = {"requests": len(latencies), "errors": errors,
            "throughput_rps": round(len(latencies) / wall, 1) if wall > 0 else 0.0}
    return {**data, **(percentiles(latencies) if latencies else {})}


def measure(index: Path, workers: int, args: argparse.Namespace,
            plan: list[tuple[str, list[str]]]) -> dict:
    """One server with ``workers`` processes under the load: its latencies and memory."""
    process, host, port = start_server(index, args.threads, workers, warm=True)
    pid = process.pid
    server = ("gunicorn" if workers > 1 else "waitress")
    result: dict = {"workers": workers,
                    "server": f"{server}, {workers} process(es) x {args.threads} threads",
                    "memory_mb": {"started": tree_memory(pid)}}
    samples: list[dict[str, float]] = []
    try:
        context = multiprocessing.get_context("spawn")
        with context.Pool(1) as pool:
            pending = pool.apply_async(generate_load, (host, port, plan, args.clients,
                                                       args.warmup, args.seconds))
            pending.wait(args.warmup)
            result["memory_mb"]["warm"] = tree_memory(pid)
            before = cpu_seconds(pid)
            while not pending.ready():
                samples.append(tree_memory(pid))
                pending.wait(1.0)
            after = cpu_seconds(pid)
            load = pending.get(timeout=REQUEST_TIMEOUT)
        result["memory_mb"]["peak"] = {key: max((s[key] for s in samples), default=0.0)
                                       for key in samples[0]} if samples else {}
        # How the measured work spread over the processes (the master first).
        result["cpu_seconds_measured"] = [round(after[p] - before.get(p, 0.0), 1)
                                          for p in after]
        result["memory_mb"]["end"] = tree_memory(pid)
        result["processes"] = len(server_processes(pid))
    finally:
        stop_server(process)
    wall = load["wall"]
    every = [s for name, _ in plan for s in load["latencies"][name]]
    failures = [f for name, _ in plan for f in load["failures"][name]]
    result["total"] = summarize(every, len(failures), wall)
    result["targets"] = {name: summarize(load["latencies"][name],
                                         len(load["failures"][name]), wall)
                         for name, _ in plan}
    result["first_errors"] = failures[:5]
    return result


def measure_one_at_a_time(index: Path, workers: int, args: argparse.Namespace,
                          plan: list[tuple[str, list[str]]]) -> dict:
    """As :func:`measure`, each target on its own with every client."""
    runs = {name: measure(index, workers, args, [(name, urls)]) for name, urls in plan}
    first = next(iter(runs.values()))
    return {"workers": workers, "server": first["server"],
            "targets": {name: run["total"] for name, run in runs.items()},
            "memory_mb": {name: run["memory_mb"] for name, run in runs.items()}}


def goals_met(first: dict, last: dict) -> dict[str, bool]:
    """Whether the first worker count met the issue's targets."""
    total = first["total"]
    ratio = total["throughput_rps"] / max(last["total"]["throughput_rps"], 0.1)
    return {"p99_ms <= 1000": total.get("p99_ms", 1e9) <= GOALS["p99_ms"],
            "p50_ms <= 300": total.get("p50_ms", 1e9) <= GOALS["p50_ms"],
            "errors == 0": total["errors"] == 0,
            "throughput >= 1.8 x the last": ratio >= GOALS["throughput_ratio"],
            "peak rss_total <= 2048 MB":
                first["memory_mb"]["peak"]["rss_total_mb"] <= GOALS["rss_total_mb"],
            "peak pss_total <= 2048 MB":
                first["memory_mb"]["peak"]["pss_total_mb"] <= GOALS["rss_total_mb"]}


def find_index(given: str | None, tmp: Path) -> Path:
    """``given``, else the configured index, else corpus/ indexed into ``tmp``."""
    from indexer import settings

    if given:
        return Path(given)
    configured = Path(settings.get("index_dir"))
    if (configured / "CURRENT").is_file():
        return configured
    index = tmp / "index"
    subprocess.run([sys.executable, "-m", "indexer", "build", str(ROOT / "corpus"),
                    "--index", str(index)], cwd=ROOT, check=True, timeout=1800,
                   env={**os.environ, "POLICYQA_PROGRESS": "0"},
                   stdout=subprocess.DEVNULL)
    return index


def machine() -> dict:
    import psutil

    return {"cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    from webapp.prefork import cores

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default=None, help="index folder (default: index_dir, "
                                                      "else corpus/ indexed for the run)")
    parser.add_argument("--workers", default=f"{cores()},1",
                        help="comma-separated worker counts, measured in turn "
                             "(default: %(default)s)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=30.0,
                        help="unmeasured seconds first (each worker embeds each question once)")
    parser.add_argument("--threads", type=int, default=8, help="threads per server process")
    parser.add_argument("--questions", type=int, default=100,
                        help="distinct questions for hybrid search and ask")
    parser.add_argument("--targets", default="search-hybrid,ask",
                        help="comma-separated, from search, search-hybrid, ask, ask-keyword")
    parser.add_argument("--one-at-a-time", action="store_true",
                        help="each target on its own instead of together")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args()
    targets = make_targets(args.questions)
    names = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = set(names) - set(targets)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    plan = [(name, [f"{targets[name][0]}?{urlencode(p)}" for p in targets[name][1]])
            for name in names]

    tmp = Path(tempfile.mkdtemp(prefix="policyqa-web-load-"))
    try:
        index = find_index(args.index, tmp)
        result: dict = {"machine": machine(), "index": str(index), "clients": args.clients,
                        "seconds": args.seconds, "warmup_seconds": args.warmup,
                        "targets": names, "distinct_questions": args.questions, "runs": []}
        run = measure_one_at_a_time if args.one_at_a_time else measure
        for workers in counts:
            result["runs"].append(run(index, workers, args, plan))
        result["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    runs = result["runs"]
    if not args.one_at_a_time and len(runs) > 1:
        result["throughput_ratio"] = round(runs[0]["total"]["throughput_rps"]
                                           / max(runs[-1]["total"]["throughput_rps"], 0.1), 2)
        result["goals_met"] = goals_met(runs[0], runs[-1])
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
