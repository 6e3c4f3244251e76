"""Import throughput and peak memory of the DiscordChatExporter importer.

Generates a synthetic export of N messages (500 authors, one attachment every tenth message,
replies and edits like a real channel), then imports it into a fresh SQLite database in a child
process and prints messages/s and the child's peak RSS, then re-imports it (the idempotent
replay: 0 new rows) and prints that rate too.

    python benchmarks/import_discord.py --messages 1000000

Target (issue 2): ≥ 50,000 messages/s into SQLite, peak RSS ≤ 300 MB at 1,000,000 messages.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from iolaus.demo.dce_writer import (
    ExportWriter,
    Role,
    User,
    attachment_json,
    channel_json,
    guild_json,
    message_json,
    snowflake,
)

CHILD = """
import json, resource, sys, time
from pathlib import Path
from iolaus.ingest.discord_export import import_exports
from iolaus.store.engine import open_engine
from iolaus.store.migrate import ensure_schema
engine = open_engine(sys.argv[1]); ensure_schema(engine, auto_migrate=True)
start = time.perf_counter()
summary = import_exports(engine, [Path(sys.argv[2])])
elapsed = time.perf_counter() - start
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "rss_mb": rss_mb, "summary": summary.to_json()}))
"""


def generate(path: Path, n: int) -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    roles = (Role("10", "member", "#aabbcc", 2), Role("11", "everyone", None, 0))
    users = [
        User(id=snowflake(base, i), name=f"user{i}", nickname=f"User {i}", roles=roles)
        for i in range(500)
    ]
    guild = guild_json("900000000000000001", "Benchmark guild")
    channel = channel_json("900000000000000002", "general", category=("900000000000000003", "Text"))
    previous = None
    with ExportWriter(
        path, guild=guild, channel=channel, exported_at=base + timedelta(days=800)
    ) as w:
        for i in range(n):
            at = base + timedelta(seconds=i)
            message_id = snowflake(at, i)
            attachments = []
            if i % 10 == 0:
                attachments = [
                    attachment_json(
                        snowflake(at, i + 1),
                        f"IMG_{i}.jpg",
                        20_000 + i % 5000,
                        f"https://cdn.discordapp.com/attachments/2/{i}/IMG_{i}.jpg",
                    )
                ]
            w.write(
                message_json(
                    message_id,
                    users[(i * 7) % 500],
                    at,
                    f"message number {i}: anyone up for a game tonight?",
                    attachments=attachments,
                    edited_at=at + timedelta(minutes=1) if i % 50 == 0 else None,
                    reply_to=(previous, channel["id"], guild["id"])
                    if previous and i % 5 == 0
                    else None,
                )
            )
            previous = message_id


def run_import(db: Path, export: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, f"sqlite:///{db}", str(export)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--workdir", type=Path, default=None, help="Keep files here.")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="iolaus-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    export = workdir / f"export-{args.messages}.json"
    if not export.exists():
        start = time.perf_counter()
        generate(export, args.messages)
        print(
            f"generated {args.messages:,} messages ({export.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - start:.1f} s"
        )
    db = workdir / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    first = run_import(db, export)
    replay = run_import(db, export)
    n = args.messages
    print(
        f"import:  {n / first['seconds']:>10,.0f} messages/s  ({first['seconds']:.1f} s), "
        f"peak RSS {first['rss_mb']:.0f} MB"
    )
    print(
        f"replay:  {n / replay['seconds']:>10,.0f} messages/s  ({replay['seconds']:.1f} s), "
        f"peak RSS {replay['rss_mb']:.0f} MB, "
        f"new messages {replay['summary']['counts']['messages']['new']}"
    )
    print(f"database: {db.stat().st_size / 1e6:.0f} MB; target ≥ 50,000 messages/s, ≤ 300 MB RSS")


if __name__ == "__main__":
    main()
