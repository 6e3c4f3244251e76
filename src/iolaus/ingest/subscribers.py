"""The media seam: what a source offers of an attachment's bytes, before it lets them go.

A source that holds media (an export made with ``--media``, later a bot that downloads files)
yields ``MediaOffered`` after the message that carries the attachment; the ingest loop hands the
offer, with where the attachment sits in the store, to every registered subscriber, inside the
unit's transaction. Hashing is the first subscriber; keeping evidence will be the next.

A subscriber is built once per ingest run by its factory (so that it can hold something costly,
such as the hash matcher's index, across the run's units) and reports what it did as
``MediaCounts`` for the run's summary.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Connection, Engine

from iolaus.hashing.matcher import Matcher
from iolaus.model.clock import Clock
from iolaus.model.events import MediaOffered
from iolaus.model.ingest import MediaCounts
from iolaus.store.mirror import StoredAttachment

BUILTIN_SUBSCRIBERS = ("iolaus.ingest.media",)
"""Modules whose import registers the built-in media subscribers."""


class MediaSubscriber(Protocol):
    """Receives offered media inside the unit's transaction."""

    def receive(
        self, conn: Connection, attachment: StoredAttachment, offer: MediaOffered
    ) -> MediaCounts:
        """Do this subscriber's work on the offered file; must be idempotent (a replay offers
        the same files again)."""
        ...


SubscriberFactory = Callable[[Engine, Clock, Matcher], MediaSubscriber]
"""Builds a subscriber for one run from the database, the clock and the run's bank matcher
(shared with detection, so an import loads the banks' index once)."""
_registry: dict[str, SubscriberFactory] = {}


def register_media_subscriber(name: str, factory: SubscriberFactory) -> None:
    """Offer every ingest run's media to what ``factory(engine, clock, matcher)`` builds."""
    known = _registry.get(name)
    if known is not None and known is not factory:
        raise ValueError(f"media subscriber {name!r} is already registered")
    _registry[name] = factory


def _load_builtins() -> None:
    for module in BUILTIN_SUBSCRIBERS:
        importlib.import_module(module)


def media_subscriber_names() -> list[str]:
    """Every registered subscriber's name, in registration order."""
    _load_builtins()
    return list(_registry)


def media_subscribers(engine: Engine, clock: Clock, matcher: Matcher) -> list[MediaSubscriber]:
    """One instance of every registered subscriber, in registration order, for one run."""
    _load_builtins()
    return [factory(engine, clock, matcher) for factory in _registry.values()]
