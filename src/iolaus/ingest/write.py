"""Writing a source into the store: one transaction per unit, media offered on the way.

This is the ingest half of the pipeline (``iolaus.pipeline``). Each unit's events go to the one
writer (``store.mirror.MirrorWriter``), which also queues the touched communities for detection
in the same transaction; ``MediaOffered`` events go to the media subscribers. A unit that fails
rolls back alone and is reported; the others go on.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from iolaus.errors import IolausError
from iolaus.hashing.matcher import Matcher
from iolaus.ingest.errors import SourceError
from iolaus.ingest.source import ProgressFn, Source, Unit
from iolaus.ingest.subscribers import MediaSubscriber, media_subscribers
from iolaus.model.clock import Clock
from iolaus.model.events import MediaOffered
from iolaus.model.ingest import FileFailure, ImportSummary, MediaCounts
from iolaus.store.mirror import MirrorWriter

UnitFn = Callable[[str, FileFailure | None], None]
"""Told each unit's label once it is committed (None) or rolled back (its failure)."""


def write_source(
    engine: Engine,
    source: Source,
    *,
    clock: Clock,
    matcher: Matcher | None = None,
    progress: ProgressFn | None = None,
    on_unit: UnitFn | None = None,
) -> ImportSummary:
    """Write every unit of ``source``; a failed unit is rolled back and reported. Offered media
    is matched with ``matcher`` (default: a new one on ``engine``)."""
    summary = ImportSummary()
    counted: set[tuple[str, str]] = set()
    subscribers = media_subscribers(engine, clock, matcher or Matcher(engine))
    with few_collections():
        for unit in source.units(progress):
            failure = _write_unit(engine, unit, summary, counted, subscribers, clock)
            if on_unit:
                on_unit(unit.label, failure)
    return summary


def _write_unit(
    engine: Engine,
    unit: Unit,
    summary: ImportSummary,
    counted: set[tuple[str, str]],
    subscribers: list[MediaSubscriber],
    clock: Clock,
) -> FileFailure | None:
    """Write one unit in its own transaction and record the outcome in ``summary``."""
    media = MediaCounts()
    try:
        with engine.begin() as conn:
            writer = MirrorWriter(conn, counted, queued_at=clock())
            apply = writer.apply
            for event in unit.events:
                if type(event) is not MediaOffered:
                    apply(event)
                    continue
                stored = writer.attachment(event)
                if stored is not None:
                    for subscriber in subscribers:
                        media.add(subscriber.receive(conn, stored, event))
            writer.finish()
    except SourceError as exc:
        failure = FileFailure(unit.label, str(exc))
    except OSError as exc:
        failure = FileFailure(unit.label, f"{unit.label}: cannot read: {exc.strerror or exc}")
    except IolausError as exc:  # an event the store refuses (e.g. naming an unseen channel)
        failure = FileFailure(unit.label, f"{unit.label}: {exc}")
    else:
        summary.files_imported += 1
        summary.merge(writer.counts)
        summary.media.add(media)
        summary.community_ids |= writer.touched
        counted |= writer.newly_counted
        return None
    summary.failures.append(failure)
    return failure


@contextmanager
def few_collections() -> Iterator[None]:
    """Run with Python's cyclic garbage collector mostly out of the way.

    Parsing allocates millions of short-lived, acyclic objects; the collector's default
    thresholds make it walk them over and over (a third of the import time, measured with
    ``benchmarks/import_discord.py``). Reference counting frees them; the collector still runs,
    just rarely, and the previous settings are restored afterwards.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(200_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
