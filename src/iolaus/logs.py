"""Structured logs: one event name and key-value fields per line, JSON for machines.

Operators grep and ship logs; a reviewer's case id, an outbox id or a community id must be a field,
not words inside a sentence. The long-running edges (``iolaus serve``, ``iolaus worker``) call
``configure`` once (``IOLAUS_LOG_LEVEL``, ``IOLAUS_LOG_FORMAT``); before that, warnings and
errors go to stderr as readable lines. Modules take ``get_logger(__name__)``. Fields whose name
says they hold a secret are redacted before rendering, whatever a caller passes: secrets never
reach a log.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

SECRET_WORDS = ("secret", "password", "token", "key", "credential", "authorization", "cookie")
REDACTED = "[redacted]"


def _redact(_logger: object, _method: str, event: MutableMapping[str, Any]) -> Any:
    for name in list(event):
        lowered = name.lower()
        if any(word in lowered for word in SECRET_WORDS):
            event[name] = REDACTED
    return event


def configure(level: str = "info", fmt: str = "console") -> None:
    """Route structlog and the standard library's loggers to stderr, as JSON lines
    (``fmt="json"``) or readable key=value lines (``"console"``)."""
    numeric = logging.getLevelNamesMapping()[level.upper()]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=numeric, stream=sys.stderr, format="%(name)s %(message)s")


configure("warning")  # until an edge configures: warnings and errors, on stderr, never stdout


def get_logger(name: str) -> Any:
    """A logger bound to the module's name (``log.info("event", field=value)``)."""
    return structlog.get_logger(name)
