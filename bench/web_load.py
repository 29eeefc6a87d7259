"""Web load benchmark: latency of /api/search and /api/ask under concurrent clients.

Run: .venv/bin/python -m bench.web_load [--index DIR] [--clients 8] [--seconds 30]
     [--targets search,ask]

Starts ``python -m webapp`` (waitress) on 127.0.0.1 with an ephemeral port, warms it up,
then for each target runs ``--clients`` threads, each with its own keep-alive
``http.client`` connection, cycling through fixed queries for ``--seconds``. Prints one
JSON object: p50/p95/p99 latency, throughput and errors per target, and the server's
resident memory (RSS) after start-up, after warm-up and at its peak. Traffic goes to the
loopback address only; every loop is bounded in time and in count.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.timing import percentiles

ROOT = Path(__file__).resolve().parent.parent
MAX_REQUESTS_PER_CLIENT = 100_000

SEARCHES = ["校车 安全", "县管校聘 OR 校安工程", '"片区合作共同体"', "學校建設", "义务教育 均衡",
            "教师 培训", "学前教育", "信息化", "中考 均分", "year:2016 安全"]
QUESTIONS = ["句容市2016年校安工程计划实施的总面积是多少？", "吉林市什么时候完成非专用校车更新？",
             "如何解决校车接送问题？", "句容市全年开通了多少条接送学生的线路?",
             "怎样推进义务教育优质均衡发展？", "片区合作共同体是怎么建设的？"]
# target name → (path, query parameter sets)
TARGETS = {
    "search": ("/api/search", [{"q": q} for q in SEARCHES]),
    "search-hybrid": ("/api/search", [{"q": q, "mode": "hybrid"} for q in SEARCHES]),
    "ask": ("/api/ask", [{"q": q} for q in QUESTIONS]),
    "ask-keyword": ("/api/ask", [{"q": q, "mode": "keyword"} for q in QUESTIONS]),
}


def rss_mb(pid: int) -> float:
    import psutil

    return round(psutil.Process(pid).memory_info().rss / 2**20, 1)


def start_server(index: str | Path | None, threads: int, env: dict[str, str] | None = None,
                 stderr=subprocess.DEVNULL) -> tuple[subprocess.Popen, str, int]:
    """``python -m webapp`` on 127.0.0.1, any free port; returns (process, host, port).

    ``env`` replaces the server's environment (default: this one, with the per-client
    question limit off, as every load client shares one address) and ``stderr`` receives
    its log (default: discarded).
    """
    if env is None:
        env = {**os.environ, "POLICYQA_WEB_ASK_RATE": "0"}
    command = [sys.executable, "-m", "webapp", "--host", "127.0.0.1", "--port", "0",
               "--threads", str(threads)]
    if index:
        command += ["--index", str(index)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=stderr, text=True)
    line = process.stdout.readline()
    match = re.search(r"http://(127\.0\.0\.1):(\d+)/", line)
    if not match:
        process.terminate()
        raise SystemExit(f"the server did not start: {line!r}")
    return process, match.group(1), int(match.group(2))


def get(connection: http.client.HTTPConnection, url: str) -> tuple[int, float]:
    started = time.perf_counter()
    connection.request("GET", url)
    response = connection.getresponse()
    response.read()
    return response.status, time.perf_counter() - started


def run_target(host: str, port: int, path: str, params: list[dict], clients: int,
               seconds: float, peak: list[float], pid: int) -> dict:
    """``clients`` threads hammering one endpoint for ``seconds``; latencies and errors."""
    urls = [f"{path}?{urlencode(p)}" for p in params]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=60)
        for count in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= deadline:
                break
            try:
                status, elapsed = get(connection, urls[(number + count) % len(urls)])
            except (OSError, http.client.HTTPException):
                errors[number] += 1
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=60)
                continue
            latencies[number].append(elapsed)
            if status != 200:
                errors[number] += 1
        connection.close()

    workers = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    while any(w.is_alive() for w in workers):
        peak.append(rss_mb(pid))
        time.sleep(0.5)
    for worker in workers:
        worker.join()
    wall = time.monotonic() - started
    samples = [s for per_client in latencies for s in per_client]
    return {"requests": len(samples), "errors": sum(errors),
            "throughput_rps": round(len(samples) / wall, 1), **percentiles(samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default=None, help="index folder (default: index_dir)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=8, help="server worker threads")
    parser.add_argument("--targets", default="search,ask",
                        help=f"comma-separated, from {', '.join(TARGETS)}")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args()
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = set(targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")

    process, host, port = start_server(args.index, args.threads)
    try:
        result = {"server": f"waitress, {args.threads} threads, {host}", "clients":
                  args.clients, "seconds": args.seconds, "rss_mb": {"started": rss_mb(
                      process.pid)}, "targets": {}}
        connection = http.client.HTTPConnection(host, port, timeout=300)
        warm = {}
        for name in targets:  # first requests open the index and load the model
            path, params = TARGETS[name]
            times = [get(connection, f"{path}?{urlencode(p)}")[1] for p in params]
            warm[name] = round(times[0] * 1000, 1)
        connection.close()
        result["first_request_ms"] = warm
        result["rss_mb"]["warm"] = rss_mb(process.pid)
        peak: list[float] = []
        for name in targets:
            path, params = TARGETS[name]
            result["targets"][name] = run_target(host, port, path, params, args.clients,
                                                 args.seconds, peak, process.pid)
        result["rss_mb"]["peak"] = max(peak, default=0.0)
        result["rss_mb"]["end"] = rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
