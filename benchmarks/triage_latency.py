"""Triage latency: from a report's submission to its case heading the reviewers' queue.

Bulk-generates open non-CSAM cases (100,000 by default) in a fresh SQLite database, then files
CSAM notices through the real intake function, each about a new community, and measures the time
until ``queue()`` shows that case first (each is then decided, so the next one is alone at the
top). Also prints the queue query's p50/p95 (first page of 50).

Run: ``.venv/bin/python benchmarks/triage_latency.py [--cases N] [--runs R]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert

from iolaus.cases import intake, mark_decided, queue
from iolaus.cases.triage import DEFAULT_POLICY, priority
from iolaus.model.signals import SEVERITY, Category
from iolaus.store.engine import open_engine
from iolaus.store.migrate import ensure_schema
from iolaus.store.tables import cases

OTHERS = [c for c in Category if c is not Category.CSAM]


def generate(engine: Engine, count: int, now: datetime, seed: int = 7) -> None:
    """``count`` open cases of every non-CSAM category, received over the last three days."""
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        category = rng.choice(OTHERS)
        received = now - timedelta(seconds=rng.randrange(3 * 24 * 3600))
        trusted = rng.random() < 0.05
        items = rng.choice((1, 1, 1, 2, 3, 5, 12))
        rows.append(
            {
                "subject_kind": "community",
                "subject_key": f"community-ext:bench{n}",
                "category": category.value,
                "severity": SEVERITY[category],
                "priority": priority(
                    category, members=rng.randrange(5000), trusted=trusted, items=items
                ),
                "status": "open",
                "reports_count": items,
                "signals_count": 0,
                "trusted_flagger": trusted,
                "received_at": received,
                "triaged_at": received,
                "deadline_at": received + DEFAULT_POLICY.deadline(category),
            }
        )
    with engine.begin() as conn:
        for start in range(0, len(rows), 10_000):
            conn.execute(insert(cases), rows[start : start + 10_000])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        ensure_schema(engine, auto_migrate=True)
        now = datetime.now(UTC)
        started = time.perf_counter()
        generate(engine, args.cases, now)
        print(f"generated {args.cases:,} open cases in {time.perf_counter() - started:.1f} s")

        latencies = []
        for run in range(args.runs):
            notice = intake.validate(
                {
                    "target_kind": "message",
                    "target": f"https://discord.com/channels/{9_000_000 + run}/1/2",
                    "category": "csam",
                    "explanation": "Benchmark notice: a generated, non-graphic test report.",
                    "good_faith": True,
                }
            )
            started = time.perf_counter()
            with engine.begin() as conn:
                receipt = intake.submit(conn, notice, source="bench", actor="bench")
            with engine.connect() as conn:
                top = queue(conn, limit=1)[0]
            latencies.append(time.perf_counter() - started)
            assert top.id == receipt.case_id, "the CSAM case is not first in the queue"
            with engine.begin() as conn:  # reviewed: the next notice must reach the top alone
                mark_decided(conn, receipt.case_id, "bench", datetime.now(UTC))

        timings = []
        for _ in range(200):
            started = time.perf_counter()
            with engine.connect() as conn:
                queue(conn, limit=50, offset=0)
            timings.append(time.perf_counter() - started)
        engine.dispose()

    ms = 1000
    print(
        f"submission → first in queue ({args.runs} CSAM notices): "
        f"median {statistics.median(latencies) * ms:.1f} ms, "
        f"max {max(latencies) * ms:.1f} ms (target ≤ 1000 ms)"
    )
    print(
        f"queue query (first 50 of {args.cases:,} open cases): "
        f"p50 {percentile(timings, 0.5) * ms:.2f} ms, p95 {percentile(timings, 0.95) * ms:.2f} ms"
    )


if __name__ == "__main__":
    main()
