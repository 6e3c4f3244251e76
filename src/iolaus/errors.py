"""The root of every error Iolaus raises on purpose, so each edge maps them once.

An ``IolausError`` is a refusal the user can act on (bad input, a missing object, a conflict):
the CLI prints its message and exits with ``exit_code``; the HTTP app answers ``http_status``
with the message as ``detail``. Anything else that escapes is a bug, logged and answered 500.
Subclasses set the two class attributes; the message never carries a secret.
"""

from __future__ import annotations


class IolausError(Exception):
    """A refusal with a message meant for the person who asked."""

    http_status: int = 400
    exit_code: int = 1


class NotFound(IolausError, LookupError):
    """The thing named does not exist (or is not visible to the caller)."""

    http_status = 404


class Conflict(IolausError):
    """The request is valid but the current state forbids it (already decided, locked, …)."""

    http_status = 409
