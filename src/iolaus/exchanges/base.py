"""The one seam every hash exchange plugs into (python-threatexchange's SignalExchangeAPI, slimmed).

An exchange API only knows how to read a remote hash list incrementally: given the checkpoint of
the last sync it yields deltas, each a batch of record updates plus the checkpoint to store with
them. Banks, transactions, credentials and the audit log are the same for every API and live in
``iolaus.exchanges.sync``, so adding an exchange is one small module with ``@register`` on it.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from iolaus.errors import IolausError
from iolaus.hashing.types import SignalType
from iolaus.model.banks import InvalidSignal

Checkpoint = dict[str, Any]
"""Opaque to the sync: whatever JSON an API needs to resume where the last delta ended."""

Sleep = Callable[[float], None]


class InvalidExchange(IolausError, ValueError):
    """An exchange name, API, configuration or credential set that cannot be accepted."""


class ExchangeError(IolausError):
    """A fetch failed. Messages are written to be stored and shown: they never hold secrets."""


class HTTPStatusError(ExchangeError):
    """The server answered with an error status (after retries, for transient ones)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Opinion(StrEnum):
    """What a source thinks of a hash (pytx's SignalOpinionCategory, by name)."""

    POSITIVE = "positive"  # confirmed abusive by the source
    NEGATIVE = "negative"  # disputed: reviewed and not confirmed
    INVESTIGATION = "investigation"  # listed, not (yet) reviewed


@dataclass(frozen=True)
class Feedback:
    opinion: Opinion
    source: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Record:
    """One remote record: the hashes it names (normalised) and what the source says about them."""

    signals: Mapping[SignalType, str]
    categories: tuple[str, ...] = ()
    feedback: tuple[Feedback, ...] = ()
    withdrawn: bool = False

    @property
    def usable(self) -> bool:
        """HMA's rule: a record with no usable hash, or a withdrawn one, is a delete."""
        return bool(self.signals) and not self.withdrawn

    def metadata(self) -> dict[str, Any]:
        """What a curator sees on the bank item; never case numbers or other identities."""
        data: dict[str, Any] = {}
        if self.categories:
            data["categories"] = list(self.categories)
        if self.feedback:
            data["feedback"] = [
                {"opinion": f.opinion.value, "source": f.source, "tags": list(f.tags)}
                for f in self.feedback
            ]
        return data


@dataclass(frozen=True)
class FetchDelta:
    """A batch of updates (``None`` = delete) and the checkpoint that is true once it is applied.

    ``ignored`` counts source records the API dropped before keying them (unknown hash types,
    malformed entries), so the sync report can say how much of the list Iolaus cannot use.
    """

    updates: Mapping[str, Record | None]
    checkpoint: Checkpoint | None
    ignored: int = 0


class ExchangeAPI(ABC):
    """A hash list Iolaus can import. Subclasses are small: config, credentials, ``fetch``."""

    name: ClassVar[str]
    category: ClassVar[str | None] = None
    """Harm category of the bank the sync creates, when the list has only one."""
    credential_fields: ClassVar[tuple[str, ...]] = ()
    snapshot: ClassVar[bool] = False
    """True when every fetch returns the whole list: stored records it omits are deleted."""

    def __init__(
        self,
        config: Mapping[str, Any],
        credentials: Mapping[str, str] | None = None,
        *,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.config = self.check_config(config)
        self._credentials = self.check_credentials(credentials or {})
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"<{type(self).__name__} exchange API>"  # never the credentials

    @classmethod
    @abstractmethod
    def check_config(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """The validated, normalised configuration; raises ``InvalidExchange``."""

    @classmethod
    def check_credentials(cls, credentials: Mapping[str, str]) -> dict[str, str]:
        """Exactly the declared fields, each a non-empty string (errors name fields, not values)."""
        given = set(credentials)
        wanted = set(cls.credential_fields)
        if given != wanted:
            if not wanted:
                raise InvalidExchange(f"the {cls.name} API takes no credentials")
            missing, extra = sorted(wanted - given), sorted(given - wanted)
            detail = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unexpected {', '.join(extra)}" if extra else "",
                )
                if part
            )
            raise InvalidExchange(f"{cls.name} credentials: {detail}")
        for key, value in credentials.items():
            if not isinstance(value, str) or not value.strip():
                raise InvalidExchange(f"{cls.name} credentials: {key} must be a non-empty string")
        return {k: v.strip() for k, v in credentials.items()}

    @classmethod
    def parse_credentials(cls, text: str) -> dict[str, str]:
        """Credentials as an operator stores them: a JSON object of the declared fields."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise InvalidExchange(
                f"{cls.name} credentials must be a JSON object with "
                f"{', '.join(cls.credential_fields) or 'no fields'}"
            ) from None
        if not isinstance(data, dict):
            raise InvalidExchange(f"{cls.name} credentials must be a JSON object")
        return cls.check_credentials(data)

    @abstractmethod
    def fetch(self, checkpoint: Checkpoint | None) -> Generator[FetchDelta, None, None]:
        """Deltas from ``checkpoint`` (None: from the start) up to now."""


_APIS: dict[str, type[ExchangeAPI]] = {}


def register(cls: type[ExchangeAPI]) -> type[ExchangeAPI]:
    """Class decorator: make an API available by its name (in configs, the CLI, the HTTP API)."""
    if cls.name in _APIS and _APIS[cls.name] is not cls:
        raise ValueError(f"exchange API {cls.name!r} registered twice")
    _APIS[cls.name] = cls
    return cls


def get_api(name: str) -> type[ExchangeAPI]:
    try:
        return _APIS[name]
    except KeyError:
        raise InvalidExchange(
            f"unknown exchange API {name!r} (one of {', '.join(api_names())})"
        ) from None


def api_names() -> list[str]:
    return sorted(_APIS)


# -- helpers shared by the API modules ---------------------------------------------------------


def to_signal(kind: SignalType, raw: object) -> str | None:
    """A remote hash in canonical form, or None when it is not a valid hash of that type.

    Lists are written by many tools: case is normalised (pytx refuses upper-case PDQ from users,
    but an exchange's upper-case PDQ is still the same hash); anything else invalid is dropped.
    """
    if not isinstance(raw, str):
        return None
    try:
        return kind.validate(raw.strip().lower())
    except InvalidSignal:
        return None


def reject_unknown_keys(api: str, config: Mapping[str, Any], allowed: set[str]) -> None:
    """A typo in a config key would otherwise be silently ignored."""
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise InvalidExchange(
            f"{api} config: unknown key(s) {', '.join(unknown)} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )


def check_base_url(api: str, url: object) -> str:
    """HTTPS only, except on this machine (test servers): credentials travel with every call."""
    if not isinstance(url, str):
        raise InvalidExchange(f"{api} config: base_url must be a string")
    parts = urlsplit(url)
    local = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and local)):
        raise InvalidExchange(f"{api} config: base_url must be an https:// URL")
    return url.rstrip("/")


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def get_with_retries(
    client: httpx.Client,
    url: str,
    *,
    service: str,
    params: Mapping[str, str | int] | None = None,
    sleep: Sleep,
    tries: int = 4,
) -> httpx.Response:
    """GET, retrying transient failures (429, 5xx, network) with exponential backoff.

    Only GETs are retried: they are idempotent. Errors name the path and status, never the
    headers or credentials that went with the request.
    """
    path = urlsplit(url).path
    attempt = 0
    while True:
        final = attempt + 1 >= tries
        try:
            response = client.get(url, params=params)
        except httpx.TransportError as exc:
            if final:
                raise ExchangeError(f"{service}: GET {path} failed: {type(exc).__name__}") from None
            sleep(2.0**attempt)
            attempt += 1
            continue
        status = response.status_code
        if status in RETRY_STATUSES and not final:
            sleep(_retry_delay(response, attempt))
            attempt += 1
            continue
        if status in {401, 403}:
            raise HTTPStatusError(
                f"{service}: the server refused the credentials (HTTP {status})", status
            )
        if status >= 400:
            raise HTTPStatusError(f"{service}: GET {path} failed: HTTP {status}", status)
        return response


def _retry_delay(response: httpx.Response, attempt: int) -> float:
    """Honour a numeric Retry-After up to a minute; else 1, 2, 4 … seconds."""
    try:
        return min(60.0, max(0.0, float(response.headers.get("retry-after", ""))))
    except ValueError:
        return 2.0**attempt
