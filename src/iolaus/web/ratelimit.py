"""An in-memory sliding-window rate limit per client, for the public (unauthenticated) pages.

In memory and per process on purpose: it needs no server, and its job is to blunt a flood from
one address, not to count exactly across a fleet. Memory is bounded: at most ``max_clients``
addresses are tracked, the least recently seen dropped first.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

_SPEC = re.compile(r"(\d+)/(\d+)")


class SlidingWindow:
    """At most ``limit`` hits per ``window`` seconds for each key."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit ≥ 1 and a positive window")
        self.limit, self.window, self.max_clients = limit, window, max_clients
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, spec: str, **options: object) -> SlidingWindow:
        """``"10/600"``: ten hits per 600 seconds."""
        found = _SPEC.fullmatch(spec.strip())
        if not found:
            raise ValueError(f"bad rate limit {spec!r}: write hits/seconds, e.g. 10/600")
        return cls(int(found.group(1)), float(found.group(2)), **options)  # type: ignore[arg-type]

    def hit(self, key: str) -> int | None:
        """Count a hit; None when allowed, else the whole seconds to wait (for Retry-After).
        A refused hit is not counted, so a client that waits is let in."""
        now = self._clock()
        with self._lock:
            hits = self._hits.pop(key, None) or deque()
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            self._hits[key] = hits
            if len(self._hits) > self.max_clients:
                self._hits.popitem(last=False)
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.window - now))
            hits.append(now)
            return None
