"""Per-client rate limits for the public (unauthenticated) pages, counted in the database.

Counted there rather than in a process's memory so that a fleet of server processes shares one
budget per address and a restart does not hand a flood a fresh one. Each hit costs one upsert
(see ``iolaus.store.rate_limits``); the window opens at a client's first hit, so at most
``limit`` hits get in per ``window`` seconds after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Engine

from iolaus.model.clock import Clock, system_clock
from iolaus.store.rate_limits import count_hit

_SPEC = re.compile(r"(\d+)/(\d+)")


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` hits per ``window`` seconds for each client, within ``scope``."""

    engine: Engine
    scope: str
    limit: int
    window: int
    clock: Clock = system_clock

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window <= 0:
            raise ValueError("a rate limit needs limit ≥ 1 and a positive window")

    @classmethod
    def parse(cls, spec: str, engine: Engine, scope: str, clock: Clock = system_clock) -> RateLimit:
        """``"10/600"``: ten hits per 600 seconds."""
        found = _SPEC.fullmatch(spec.strip())
        if not found:
            raise ValueError(f"bad rate limit {spec!r}: write hits/seconds, e.g. 10/600")
        return cls(engine, scope, int(found.group(1)), int(found.group(2)), clock)

    def hit(self, client: str) -> int | None:
        """Count a hit; None when allowed, else the whole seconds to wait (for Retry-After)."""
        with self.engine.begin() as conn:
            return count_hit(
                conn,
                self.scope,
                client,
                limit=self.limit,
                window=self.window,
                now=self.clock().timestamp(),
            )
