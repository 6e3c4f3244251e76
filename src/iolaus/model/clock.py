"""Time as a dependency: every "now" in Iolaus comes from a ``Clock`` handed down from the edge.

Deadlines, escalation, locks and holds all compare against now; a clock passed in (rather than
``datetime.now`` called deep inside) makes them testable at any instant, and a test suite that
runs for an hour behaves as one that runs for a second.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware (UTC)."""


def system_clock() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved: for tests and replays."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now
