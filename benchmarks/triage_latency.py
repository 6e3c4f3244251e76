"""Triage latency: from a report's submission to its case heading the reviewers' queue.

Bulk-generates open non-CSAM cases (100,000 by default) in a fresh SQLite database, then files
CSAM notices through the real intake function, each about a new community, and measures the time
until ``queue()`` shows that case first (each is then decided, so the next one is alone at the
top). Also prints the queue query's p50/p95 (first page of 50), and the console's own latency on
the same database: a reviewer logged in through a ``TestClient`` loads ``/console/queue`` and a
case page (a community with ~50 signals, flagged messages, attachments and reports) 100 times
each; the whole request is timed (session check, queries, audit write, template), since that is
what a reviewer waits for (target p95 ≤ 150 ms).

Run: ``.venv/bin/python benchmarks/triage_latency.py [--cases N] [--runs R]``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, Table, insert

from iolaus.cases import intake, mark_decided, queue
from iolaus.cases.triage import DEFAULT_POLICY, priority
from iolaus.model.signals import SEVERITY, Category
from iolaus.store.engine import open_engine
from iolaus.store.migrate import ensure_schema
from iolaus.store.mirror import platform_id
from iolaus.store.tables import (
    accounts,
    attachments,
    cases,
    channels,
    communities,
    community_risk,
    memberships,
    messages,
    reports,
    signals,
)
from iolaus.store.users import create_user
from iolaus.web.app import create_app

OTHERS = [c for c in Category if c is not Category.CSAM]
REVIEWER, PASSWORD = "bench-reviewer", "benchmark password, not a secret"
SIGNALS, MESSAGES = 50, 120
PAGE_TARGET_MS = 150


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


def _add(conn: Connection, table: Table, **values: Any) -> int:
    return int(conn.execute(insert(table).values(**values).returning(table.c.id)).scalar_one())


def seed_dossier(engine: Engine, now: datetime, seed: int = 11) -> int:
    """One open case heavy enough to be a realistic worst page: a community with 20 members
    (half shared with a mirror), two channels of chat, ``SIGNALS`` signals on ``MESSAGES``
    messages (every third message flagged, some with attachments) and three reports. Returns
    the case id."""
    rng = random.Random(seed)
    with engine.begin() as conn:
        platform = platform_id(conn, "discord")
        people = [
            _add(
                conn,
                accounts,
                platform_id=platform,
                external_id=f"bench-acct-{n}",
                username=f"member{n}",
                observed_at=now,
            )
            for n in range(20)
        ]
        community = _add(
            conn,
            communities,
            platform_id=platform,
            external_id="bench-dossier",
            name="dossier place",
            observed_at=now,
        )
        mirror = _add(
            conn,
            communities,
            platform_id=platform,
            external_id="bench-mirror",
            name="mirror place",
            observed_at=now,
        )
        for where, members in ((community, people), (mirror, people[:10])):
            conn.execute(
                insert(memberships),
                [
                    {
                        "community_id": where,
                        "account_id": a,
                        "first_seen_at": now,
                        "last_seen_at": now,
                    }
                    for a in members
                ],
            )
        rooms = [
            _add(
                conn,
                channels,
                community_id=community,
                external_id=f"bench-ch-{n}",
                name=f"room{n}",
                kind="GuildTextChat",
                observed_at=now,
            )
            for n in range(2)
        ]
        chat = []
        for n in range(MESSAGES):
            chat.append(
                _add(
                    conn,
                    messages,
                    channel_id=rooms[n % 2],
                    external_id=f"bench-msg-{n}",
                    author_id=rng.choice(people),
                    kind="Default",
                    content=f"generated benchmark message {n}",
                    created_at=now - timedelta(minutes=MESSAGES - n),
                    observed_at=now,
                )
            )
        flagged = chat[::3]
        for n in range(SIGNALS):
            category = rng.choice(OTHERS)
            message = flagged[n % len(flagged)]
            _add(
                conn,
                signals,
                dedupe_key=f"bench:{n}",
                detector=rng.choice(("rules", "pdq", "classifier")),
                category=category.value,
                severity=SEVERITY[category],
                score=rng.random(),
                explanation=f"benchmark {category.value} rule {n % 7}",
                community_id=community,
                channel_id=rooms[chat.index(message) % 2],
                message_id=message,
                account_id=rng.choice(people),
                created_at=now,
            )
        for n, message in enumerate(flagged[-8:]):  # the newest: the ones the page shows
            _add(
                conn,
                attachments,
                message_id=message,
                external_id=f"bench-file-{n}",
                file_name=f"file{n}.jpg",
                size_bytes=1000 + n,
                media_kind="image",
                url=f"https://cdn.example/bench/{n}",
            )
        reasons = [{"text": "benchmark wording", "strength": 0.9, "category": "ncii"}]
        conn.execute(
            insert(community_risk).values(
                community_id=community,
                score=0.9,
                band="critical",
                reasons=json.dumps(reasons),
                stats="{}",
                computed_at=now,
            )
        )
        case_id = _add(
            conn,
            cases,
            subject_kind="community",
            subject_key=f"community:{community}",
            community_id=community,
            category=Category.NCII.value,
            severity=SEVERITY[Category.NCII],
            priority=1.0,
            status="open",
            reports_count=3,
            signals_count=SIGNALS,
            received_at=now,
            triaged_at=now,
            deadline_at=now + DEFAULT_POLICY.deadline(Category.NCII),
        )
        for n in range(3):
            _add(
                conn,
                reports,
                reference=f"R-BENCH{n:05d}",
                secret_hash="-",
                case_id=case_id,
                target_kind="message",
                target=f"https://discord.com/channels/1/2/{n}",
                community_id=community,
                message_id=flagged[n],
                category="ncii",
                explanation="Benchmark notice: generated, non-graphic.",
                good_faith=True,
                source="web",
                status="triaged",
                received_at=now,
            )
        create_user(conn, REVIEWER, PASSWORD, "reviewer")
    return case_id


def logged_in(engine: Engine) -> TestClient:
    """A ``TestClient`` holding a reviewer's session, obtained through the real login form."""
    client = TestClient(create_app(engine))
    page = client.get("/console/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, "no CSRF token on the login page"
    answer = client.post(
        "/console/login",
        data={"username": REVIEWER, "password": PASSWORD, "csrf_token": found[1]},
        follow_redirects=False,
    )
    assert answer.headers.get("location") == "/console", "the benchmark reviewer cannot log in"
    return client


def time_page(client: TestClient, url: str, runs: int) -> list[float]:
    """Seconds per full request (after one warm-up request, which compiles the template)."""
    assert client.get(url).status_code == 200, url
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, url
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--page-runs", type=int, default=100)
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

        case_id = seed_dossier(engine, now)
        with logged_in(engine) as client:
            pages = {
                "/console/queue": time_page(client, "/console/queue", args.page_runs),
                f"/console/cases/{case_id}": time_page(
                    client, f"/console/cases/{case_id}", args.page_runs
                ),
            }
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
    for url, page_timings in pages.items():
        p95 = percentile(page_timings, 0.95) * ms
        verdict = "ok" if p95 <= PAGE_TARGET_MS else "MISSED"
        print(
            f"GET {url} (reviewer, {len(page_timings)} runs): "
            f"p50 {percentile(page_timings, 0.5) * ms:.1f} ms, p95 {p95:.1f} ms "
            f"(target ≤ {PAGE_TARGET_MS} ms: {verdict})"
        )


if __name__ == "__main__":
    main()
