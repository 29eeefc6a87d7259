"""Latency percentiles, shared by the benchmarks."""

from __future__ import annotations

import statistics


def percentiles(seconds: list[float]) -> dict[str, float]:
    """p50/p95/p99 and mean, in milliseconds, of samples given in seconds."""
    ordered = sorted(seconds)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"p50_ms": pick(0.50), "p95_ms": pick(0.95), "p99_ms": pick(0.99),
            "mean_ms": round(statistics.mean(ordered) * 1000, 2)}
