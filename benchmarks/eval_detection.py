"""Precision and recall of community detection on the labelled corpus (issue 4, "Figures").

Builds every community of ``tests/data/detection/`` as DiscordChatExporter files, imports them
into a fresh SQLite database with the real importer, registers the corpus's (invented) protected
persons, runs :func:`iolaus.signals.scan.scan_communities` and compares its bands with the
labels, at community level. Predicted positive = band ``high`` or ``critical``.

    python benchmarks/eval_detection.py [--corpus PATH] [--json] [--with-metadata] [--check]

Prints the confusion table, precision and recall, a breakdown per kind, language and tag, and
every miss (false negatives and false positives with their score, band and top reasons).

Why at community level and through the importer: the decision a reviewer acts on is "this
server is dedicated to image abuse", and a volunteer's export is what reaches Iolaus first, so
the figure must come from the same path. DCE exports carry neither a community description nor
channel NSFW flags; ``--with-metadata`` adds them (as a platform's API would) to show what they
are worth.

Targets: precision ≥ 0.95 and recall ≥ 0.95. ``--check`` exits 1 when either is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, update

from iolaus.demo.corpus import CorpusCommunity, load_corpus, protected_persons, write_exports
from iolaus.ingest.discord_export import import_exports, read_header
from iolaus.store import tables as T
from iolaus.store.engine import open_engine
from iolaus.store.migrate import ensure_schema
from iolaus.terminal import printable

POSITIVE_BANDS = frozenset({"high", "critical"})
BANDS = ("low", "watch", "high", "critical")
TARGET_PRECISION = 0.95
TARGET_RECALL = 0.95
TOP_REASONS = 3


@dataclass
class Row:
    """One community's truth next to what the scan said about it."""

    key: str
    name: str
    label: str
    kind: str
    lang: str
    tags: list[str]
    messages: int
    score: float
    band: str
    reasons: list[str] = field(default_factory=list)
    scanned: bool = True

    @property
    def predicted(self) -> bool:
        return self.band in POSITIVE_BANDS

    @property
    def actual(self) -> bool:
        return self.label == "abusive"

    @property
    def outcome(self) -> str:
        """``tp``, ``fp``, ``fn`` or ``tn``."""
        return ("t" if self.predicted == self.actual else "f") + ("p" if self.predicted else "n")


@dataclass
class Figures:
    """Confusion counts and the ratios derived from them."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @classmethod
    def of(cls, rows: Iterable[Row]) -> Figures:
        counts = Counter(row.outcome for row in rows)
        return cls(counts["tp"], counts["fp"], counts["fn"], counts["tn"])

    @property
    def precision(self) -> float | None:
        flagged = self.tp + self.fp
        return self.tp / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        positives = self.tp + self.fn
        return self.tp / positives if positives else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p and r else None

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


# --- building the database -----------------------------------------------------------------------


def build_database(
    corpus: Sequence[CorpusCommunity],
    workdir: Path,
    *,
    with_metadata: bool,
    with_protected: bool,
) -> tuple[Engine, dict[str, str], dict[str, Any]]:
    """Exports, import and registrations; returns the engine, guild id → corpus key, and timings
    and import counts for the report. Fails (SystemExit) if any export fails to import: a figure
    computed on a partial import would be wrong without saying so."""
    started = time.perf_counter()
    exports = write_exports(corpus, workdir / "exports")
    files = [path for paths in exports.values() for path in paths]
    written = time.perf_counter()
    engine = open_engine(f"sqlite:///{workdir / 'eval.db'}")
    ensure_schema(engine, auto_migrate=True)
    summary = import_exports(engine, files)
    imported = time.perf_counter()
    if summary.failures:
        for failure in summary.failures:
            print(f"import failed: {failure.error}", file=sys.stderr)
        raise SystemExit(1)
    guild_of: dict[str, str] = {}
    channel_of: dict[tuple[str, str], str] = {}
    for key, paths in exports.items():
        for path in paths:
            header = read_header(path)
            guild_of[header.community.external_id] = key
            channel_of[(key, header.channel.name)] = header.channel.external_id
    if with_protected:
        register_protected(engine, protected_persons(corpus))
    if with_metadata:
        apply_metadata(engine, corpus, {v: k for k, v in guild_of.items()}, channel_of)
    info = {
        "files": len(files),
        "messages": sum(c.size for c in corpus),
        "write_seconds": round(written - started, 3),
        "import_seconds": round(imported - written, 3),
        "with_metadata": with_metadata,
        "protected_persons": protected_persons(corpus) if with_protected else [],
    }
    return engine, guild_of, info


def register_protected(engine: Engine, names: Iterable[str]) -> None:
    """Register the corpus's invented public figures (streamers), as a platform would, so that
    deepfake requests naming them can be recognised."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        known = set(conn.scalars(select(T.protected_persons.c.name)))
        note = "detection corpus (invented)"
        rows = [
            {"name": name, "aliases": "[]", "note": note, "created_at": now}
            for name in names
            if name not in known
        ]
        if rows:
            conn.execute(insert(T.protected_persons), rows)


def apply_metadata(
    engine: Engine,
    corpus: Sequence[CorpusCommunity],
    guild_ids: dict[str, str],
    channel_ids: dict[tuple[str, str], str],
) -> None:
    """Set community descriptions and channel NSFW flags, which DCE exports do not carry."""
    with engine.begin() as conn:
        for c in corpus:
            conn.execute(
                update(T.communities)
                .where(T.communities.c.external_id == guild_ids[c.key])
                .values(description=c.description)
            )
            for ch in c.channels:
                if ch.nsfw:
                    conn.execute(
                        update(T.channels)
                        .where(T.channels.c.external_id == channel_ids[(c.key, ch.name)])
                        .values(nsfw=True)
                    )


# --- evaluation ----------------------------------------------------------------------------------


def compare(
    corpus: Sequence[CorpusCommunity], results: Iterable[Any], guild_of: dict[str, str]
) -> list[Row]:
    """One row per corpus community. A community the scan did not return scored nothing: it is
    counted as ``low`` (a missing community is a miss, never silently dropped)."""
    by_key: dict[str, Any] = {}
    for result in results:
        key = guild_of.get(str(result.external_id))
        if key is not None:
            by_key[key] = result
    rows = []
    for c in corpus:
        result = by_key.get(c.key)
        rows.append(
            Row(
                key=c.key,
                name=c.name,
                label=c.label,
                kind=c.kind,
                lang=c.lang,
                tags=list(c.tags),
                messages=c.size,
                score=float(result.score) if result is not None else 0.0,
                band=str(result.band) if result is not None else "low",
                reasons=[str(r.text) for r in (result.reasons if result is not None else [])],
                scanned=result is not None,
            )
        )
    return rows


def breakdown(rows: Sequence[Row], group: str) -> list[dict[str, Any]]:
    """Per value of ``group`` (``kind``, ``lang`` or ``tag``) and label: count, flagged, bands,
    mean score."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        values = row.tags if group == "tag" else [getattr(row, group)]
        for value in values:
            groups[(row.label, value)].append(row)
    table = []
    for (label, value), members in sorted(groups.items()):
        bands = Counter(row.band for row in members)
        table.append(
            {
                group: value,
                "label": label,
                "n": len(members),
                "flagged": sum(row.predicted for row in members),
                "correct": sum(row.predicted == row.actual for row in members),
                "mean_score": round(sum(row.score for row in members) / len(members), 3),
                "bands": {band: bands[band] for band in BANDS if bands[band]},
            }
        )
    return table


def report(rows: Sequence[Row], info: dict[str, Any], corpus_path: str) -> dict[str, Any]:
    figures = Figures.of(rows)
    met = (figures.precision or 0) >= TARGET_PRECISION and (figures.recall or 0) >= TARGET_RECALL
    return {
        "corpus": corpus_path,
        "communities": len(rows),
        "labels": dict(Counter(row.label for row in rows)),
        "positive_bands": sorted(POSITIVE_BANDS),
        "figures": figures.to_json(),
        "targets": {"precision": TARGET_PRECISION, "recall": TARGET_RECALL, "met": met},
        "run": info,
        "by_kind": breakdown(rows, "kind"),
        "by_lang": breakdown(rows, "lang"),
        "by_tag": breakdown(rows, "tag"),
        "false_negatives": [_miss(r) for r in _sorted(rows, "fn", reverse=True)],
        "false_positives": [_miss(r) for r in _sorted(rows, "fp", reverse=True)],
        "rows": [_miss(r) | {"outcome": r.outcome} for r in rows],
    }


def _sorted(rows: Sequence[Row], outcome: str, *, reverse: bool) -> list[Row]:
    return sorted((r for r in rows if r.outcome == outcome), key=lambda r: r.score, reverse=reverse)


def _miss(row: Row) -> dict[str, Any]:
    return {
        "key": row.key,
        "name": row.name,
        "label": row.label,
        "kind": row.kind,
        "lang": row.lang,
        "tags": row.tags,
        "messages": row.messages,
        "score": round(row.score, 4),
        "band": row.band,
        "scanned": row.scanned,
        "reasons": row.reasons[:TOP_REASONS],
    }


# --- printing ------------------------------------------------------------------------------------


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def print_report(data: dict[str, Any]) -> None:
    f = data["figures"]
    run = data["run"]
    print(
        f"corpus {data['corpus']}: {data['communities']} communities "
        f"({data['labels'].get('abusive', 0)} abusive, {data['labels'].get('benign', 0)} benign), "
        f"{run['files']} export files, {run['messages']} messages; "
        f"import {run['import_seconds']}s, scan {run['scan_seconds']}s"
        + (", with description/NSFW metadata" if run["with_metadata"] else ", DCE data only")
    )
    print(f"\npredicted positive = band in {{{', '.join(data['positive_bands'])}}}\n")
    print(f"{'':>18}{'flagged':>10}{'not flagged':>13}")
    print(f"{'abusive':>18}{f['tp']:>10}{f['fn']:>13}")
    print(f"{'benign':>18}{f['fp']:>10}{f['tn']:>13}")
    t = data["targets"]
    print(
        f"\nprecision {_ratio(f['precision'])} (target {t['precision']})   "
        f"recall {_ratio(f['recall'])} (target {t['recall']})   f1 {_ratio(f['f1'])}   "
        + ("targets met" if t["met"] else "TARGETS MISSED")
    )
    for group in ("kind", "lang", "tag"):
        print(f"\nby {group}:")
        print(f"  {'label':<8} {group:<20} {'n':>3} {'flagged':>8} {'mean':>6}  bands")
        for line in data[f"by_{group}"]:
            bands = " ".join(f"{band}:{n}" for band, n in line["bands"].items())
            print(
                f"  {line['label']:<8} {line[group]:<20} {line['n']:>3} {line['flagged']:>8} "
                f"{line['mean_score']:>6.3f}  {bands}"
            )
    for title, misses in (
        ("false negatives (abusive, not flagged)", data["false_negatives"]),
        ("false positives (benign, flagged)", data["false_positives"]),
    ):
        print(f"\n{title}: {len(misses)}")
        for miss in misses:
            tags = f" [{', '.join(miss['tags'])}]" if miss["tags"] else ""
            unscanned = " (not returned by the scan)" if not miss["scanned"] else ""
            print(
                f"  {miss['key']} — {printable(miss['name'])} ({miss['kind']}, {miss['lang']}, "
                f"{miss['messages']} msgs){tags}: score {miss['score']:.3f}, band {miss['band']}"
                f"{unscanned}"
            )
            for reason in miss["reasons"]:  # reasons quote hostile text: shown, not obeyed
                print(f"      - {printable(reason, 160)}")


# --- entry point ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="corpus file or folder (default: the tests')")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--with-metadata",
        action="store_true",
        help="also set community descriptions and channel NSFW flags (not in DCE exports)",
    )
    parser.add_argument(
        "--no-protected", action="store_true", help="do not register the protected persons"
    )
    parser.add_argument("--workdir", type=Path, help="keep exports and database here")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    try:
        from iolaus.signals.scan import scan_communities
    except ImportError as exc:
        print(
            "iolaus.signals.scan.scan_communities is not available yet, so there is nothing to "
            f"evaluate ({exc}). It is the community scan of issue 4; run this again once it "
            "has landed.",
            file=sys.stderr,
        )
        return 2

    corpus = load_corpus(args.corpus)
    with tempfile.TemporaryDirectory(prefix="iolaus-eval-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        engine, guild_of, info = build_database(
            corpus,
            workdir,
            with_metadata=args.with_metadata,
            with_protected=not args.no_protected,
        )
        try:
            started = time.perf_counter()
            results = list(scan_communities(engine))
            info["scan_seconds"] = round(time.perf_counter() - started, 3)
        finally:
            engine.dispose()
    rows = compare(corpus, results, guild_of)
    data = report(rows, info, str(args.corpus or "tests/data/detection"))
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print_report(data)
    return 1 if args.check and not data["targets"]["met"] else 0


if __name__ == "__main__":
    sys.exit(main())
