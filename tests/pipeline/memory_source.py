"""The issue's example: a new source is one small module plus its registration.

``MemorySource`` feeds events held in memory (what a test, or a replay of a captured stream,
has at hand); each inner list is one unit, written all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from iolaus.ingest.source import ProgressFn, Source, Unit, register_source
from iolaus.model.events import Event


@register_source
class MemorySource(Source):
    """Units of events given as lists."""

    name = "memory"

    def __init__(self, units: Sequence[Sequence[Event]]) -> None:
        self._units = units

    def units(self, progress: ProgressFn | None = None) -> Iterator[Unit]:
        for n, events in enumerate(self._units):
            if progress:
                progress(len(events))
            yield Unit(f"memory unit {n}", events)
