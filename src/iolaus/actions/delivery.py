"""What delivering an action means, whatever carries it: a ``Transport`` takes one claimed
outbox row and answers with an ``Outcome``. The dispatcher knows only this; ``transports``
holds the registry of the transports there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from iolaus.actions.outbox import Claimed
from iolaus.errors import IolausError


class TransportConfigError(IolausError):
    """A transport is unknown or not (or badly) configured; the message never holds a secret."""


class Verdict(IntEnum):
    """Ordered by gravity: with several receivers, the worst answer decides."""

    DELIVERED = 0
    RETRY = 1
    PERMANENT = 2


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    error: str | None = None


class Transport(Protocol):
    """Delivers one claimed action; the dispatcher only knows this, so tests inject fakes. A
    transport answers for delivery only: signing, endpoints and fan-out are its own business;
    leases, retries and backoff are the dispatcher's."""

    def __call__(self, action: Claimed) -> Outcome: ...

    def close(self) -> None:
        """Release connections; called once, by whoever created the transport."""
        ...
