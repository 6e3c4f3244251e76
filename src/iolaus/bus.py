"""A small in-process bus: a ``Topic`` carries one type of event to its subscribers, in the
publisher's transaction.

A subscriber is called with the publisher's connection and the event, in the order subscribed,
so whatever it writes commits or rolls back with what the event reports: a subscriber that
raises aborts the publisher's transaction. It may return notes (a small mapping) that the
publisher records with the event, e.g. in its audit entry.

The built-in subscribers are subscribed by one module, ``BUILTINS``, through the same
``subscribe`` a plug-in uses; it is imported before the first event is published or the first
other subscriber added, so the built-ins always run first and in their declared order, whatever
the entry point (CLI, web app, worker, a test).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

E = TypeVar("E")
Subscriber = Callable[[Connection, E], Mapping[str, Any] | None]

BUILTINS = "iolaus.subscribers"
_builtins_loaded = False
_loading = threading.RLock()


def _load_builtins() -> None:
    """Import ``BUILTINS`` once. The lock keeps a second thread (a web worker deciding a case
    at start-up) from publishing before the built-ins are subscribed; it is re-entrant and the
    flag is set first, so the module's own ``subscribe`` calls pass straight through."""
    global _builtins_loaded
    with _loading:
        if _builtins_loaded:
            return
        _builtins_loaded = True
        try:
            importlib.import_module(BUILTINS)
        except BaseException:
            _builtins_loaded = False
            raise


class Topic(Generic[E]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._subscribers: list[Subscriber[E]] = []

    def __repr__(self) -> str:
        return f"<Topic {self.name!r}: {len(self._subscribers)} subscribers>"

    def subscribe(self, subscriber: Subscriber[E]) -> Subscriber[E]:
        """Add a subscriber after the others; a subscriber is added once."""
        _load_builtins()
        if subscriber in self._subscribers:
            raise ValueError(f"{subscriber!r} already subscribes to {self.name}")
        self._subscribers.append(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber[E]) -> None:
        self._subscribers.remove(subscriber)

    def subscribers(self) -> tuple[Subscriber[E], ...]:
        _load_builtins()
        return tuple(self._subscribers)

    def publish(self, conn: Connection, event: E) -> dict[str, Any]:
        """Call every subscriber on ``conn``; returns their notes merged, in order."""
        notes: dict[str, Any] = {}
        for subscriber in self.subscribers():
            found = subscriber(conn, event)
            if found:
                notes.update(found)
        return notes
