"""The detector seam: one class per way of finding abuse, and a registry of those classes.

A detector declares its ``name`` (stored with each of its signals, so that a new run replaces
the last one's), its ``scope`` (what its judgement rests on: single messages, a channel, the
whole community, or other communities too) and returns typed :class:`Signal` objects. The scan
runs every registered detector on a community, narrowest scope first, so that a wider detector
can build on narrower findings (message rules count a message's hash matches); risk scoring then
weighs the signals by their typed fields alone. Adding a detector is one module with one class,
plus ``register(ThatClass)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from sqlalchemy import Connection, Engine

from iolaus.hashing.matcher import Matcher
from iolaus.model.signals import Scope, Signal
from iolaus.signals.config import DetectionConfig
from iolaus.signals.detect import TextEngine


@dataclass(frozen=True)
class DetectorSetup:
    """What a scan offers detectors as it builds them, once per scan: the database (the hash
    matcher's refreshes read it), the detection config, the text engine built from that config
    with the current watch list, and the bank matcher (the caller's, so a pipeline loads the
    banks' index once for its imports and every drain, not once per scan)."""

    engine: Engine
    config: DetectionConfig
    text: TextEngine
    matcher: Matcher


@dataclass(frozen=True)
class CommunityInfo:
    """The community being detected."""

    id: int
    external_id: str
    name: str
    description: str | None
    nsfw: bool


@dataclass
class CommunityScan:
    """One community's detection run, handed to each detector in turn.

    ``found`` holds the signals of the detectors that ran before (narrower scopes first);
    ``totals`` the message counts that message rates are computed against, filled by whichever
    detector reads the messages; ``shadow`` how often each shadow rule would have fired."""

    conn: Connection
    community: CommunityInfo
    now: datetime
    found: list[Signal] = field(default_factory=list)
    totals: dict[str, int] = field(
        default_factory=lambda: {"messages": 0, "authors": 0, "flagged_messages": 0}
    )
    shadow: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class Detector(ABC):
    """One way of finding abuse in a community.

    ``cumulative`` detectors keep every signal they ever recorded (a hash match stays evidence
    after the bank item is withdrawn): a run adds what is new, and the community's risk counts
    the stored ones too. Others' signals are replaced by each run (a rule finding reflects the
    current rules and text)."""

    name: ClassVar[str]
    scope: ClassVar[Scope]
    cumulative: ClassVar[bool] = False

    @classmethod
    def build(cls, setup: DetectorSetup) -> Detector:
        """An instance for one scan; override to take what the detector needs from ``setup``."""
        return cls()

    @abstractmethod
    def detect(self, scan: CommunityScan) -> Iterable[Signal]:
        """This detector's signals about ``scan.community``."""


_REGISTRY: dict[str, type[Detector]] = {}


def register(cls: type[Detector]) -> type[Detector]:
    """Add a detector class (usable as a decorator); names are unique."""
    name = getattr(cls, "name", "")
    if not name or not isinstance(getattr(cls, "scope", None), Scope):
        raise TypeError(f"{cls.__name__} must declare a name and a Scope")
    if _REGISTRY.get(name, cls) is not cls:
        raise ValueError(f"a detector named {name!r} is already registered")
    _REGISTRY[name] = cls
    return cls


def unregister(cls: type[Detector]) -> None:
    """Remove a detector class (a plug-in switched off)."""
    if _REGISTRY.get(cls.name) is cls:
        del _REGISTRY[cls.name]


def registered() -> list[type[Detector]]:
    """The registered detector classes in the order a scan runs them: narrowest scope first,
    then in order of registration."""
    order = list(Scope)
    return sorted(_REGISTRY.values(), key=lambda cls: order.index(cls.scope))
