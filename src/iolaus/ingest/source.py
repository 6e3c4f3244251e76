"""The ``Source`` seam: anything that feeds Iolaus what it saw on a platform.

A source yields *units*, each a sequence of events (``iolaus.model.events``) that is written in
one transaction: a unit that breaks anywhere (bad input, a missing field, an event naming a
channel never seen) rolls back alone and is reported, and the others go on. For the export
importer a unit is one file; for a stream it would be one batch of messages.

Sources are registered by name (``register_source``), the built-in ones through the same call
as any other, so that an edge can pick one by configuration. Adding a source is one module
holding a ``Source`` subclass decorated with ``@register_source``.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from iolaus.errors import NotFound
from iolaus.model.events import Event

ProgressFn = Callable[[int], None]
"""Told how much work was just done, in the source's own measure (bytes read, events...)."""

BUILTIN_SOURCES = ("iolaus.ingest.discord_export",)
"""Modules whose import registers the built-in sources."""


@dataclass(frozen=True)
class Unit:
    """Events written all or nothing. ``label`` names the unit in reports (a file's path)."""

    label: str
    events: Iterable[Event]


class Source(ABC):
    """Turns one kind of input into units of events; knows nothing of the store."""

    name: ClassVar[str]
    """The registry key, e.g. ``discord-export``."""

    @abstractmethod
    def units(self, progress: ProgressFn | None = None) -> Iterator[Unit]:
        """The units to write, in order. Reading may be lazy: errors raised while a unit's
        events are iterated (``SourceError``, ``OSError``) fail that unit only."""


class UnknownSource(NotFound):
    """No source is registered under that name."""


S = TypeVar("S", bound=type[Source])
_registry: dict[str, type[Source]] = {}


def register_source(cls: S) -> S:
    """Class decorator: make ``cls`` available as ``source_class(cls.name)``."""
    if not getattr(cls, "name", ""):
        raise TypeError(f"{cls.__name__} needs a non-empty class attribute 'name'")
    known = _registry.get(cls.name)
    if known is not None and known is not cls:
        raise ValueError(f"source {cls.name!r} is already registered by {known.__qualname__}")
    _registry[cls.name] = cls
    return cls


def _load_builtins() -> None:
    for module in BUILTIN_SOURCES:
        importlib.import_module(module)


def source_class(name: str) -> type[Source]:
    """The source registered as ``name``."""
    _load_builtins()
    try:
        return _registry[name]
    except KeyError:
        raise UnknownSource(f"no source {name!r}; known: {', '.join(sorted(_registry))}") from None


def source_names() -> list[str]:
    """Every registered source's name, sorted."""
    _load_builtins()
    return sorted(_registry)
