"""Delivering actions as signed webhooks, and checking the signature on the receiving side.

Each action is one ``POST`` of a JSON object to every configured URL::

    {"id": 17, "idempotency_key": "<64 hex>", "kind": "ban_community", "decision_id": 4,
     "payload": {...}, "created_at": "2025-07-01T12:00:00+00:00"}

with the headers ``Content-Type: application/json``, ``Idempotency-Key: <the same key>`` and

    Iolaus-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>

(the scheme Stripe uses). A receiver recomputes the HMAC over the *raw* body bytes with the
shared secret, compares in constant time, and rejects timestamps more than a few minutes away
from its clock, which bounds replays; ``verify`` does all three. Several ``v1=`` entries may
appear (one per secret while a secret is being rotated); any one matching is enough.

Delivery is at least once: the same event can arrive twice (a retry after a lost response, a
dispatcher that died after sending), always with the same idempotency key, so receivers must
act once per key. Answers: 2xx = delivered; 408, 429, 5xx, timeouts and connection errors are
retried with backoff; any other status is a permanent failure (a receiver that refuses the event
will refuse it again), left failed in the outbox for an operator to look at and retry.

Configuration: ``IOLAUS_WEBHOOK_URL`` (one URL, or several separated by spaces or commas) and
``IOLAUS_WEBHOOK_SECRET`` (at least 16 characters, shared with the receivers). The secret never
appears in a repr, a log line, an error message or the audit log, and errors name a URL by its
scheme, host and port only, since webhook URLs often carry tokens in their path or query.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from iolaus import __version__
from iolaus.actions.delivery import Outcome, TransportConfigError, Verdict
from iolaus.actions.outbox import Claimed
from iolaus.config import WEBHOOK_SECRET, WEBHOOK_URLS, Settings

URL_ENV = WEBHOOK_URLS.env
SECRET_ENV = WEBHOOK_SECRET.env
SIGNATURE_HEADER = "Iolaus-Signature"
DEFAULT_TIMEOUT = 10.0
RETRIED_STATUSES = frozenset({408, 429})


class WebhookConfigError(TransportConfigError):
    """Webhooks are not (or badly) configured; the message never holds the secret."""


class InvalidSignature(Exception):
    """A received event whose signature header is missing, malformed, stale or wrong."""


@dataclass(frozen=True)
class Endpoint:
    url: str
    secret: bytes = field(repr=False)

    @property
    def where(self) -> str:
        """The URL without path, query or credentials: safe in errors and logs."""
        parts = urlsplit(self.url)
        host = parts.hostname or "?"
        return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def endpoints(settings: Settings) -> list[Endpoint]:
    """The configured receivers, each with the signing secret. The settings checked each URL
    and the secret's length when they were loaded; what is left is that both are set."""
    if not settings.webhook_urls:
        raise WebhookConfigError(f"no webhook URL: set {URL_ENV}")
    if not settings.webhook_secret:
        raise WebhookConfigError(f"no webhook signing secret: set {SECRET_ENV}")
    secret = settings.webhook_secret.encode()
    return [Endpoint(url, secret) for url in settings.webhook_urls]


def event_body(action: Claimed) -> bytes:
    """The exact bytes signed and sent: receivers must verify these, not a re-serialisation."""
    event = {
        "id": action.id,
        "idempotency_key": action.idempotency_key,
        "kind": action.kind,
        "decision_id": action.decision_id,
        "payload": action.payload,
        "created_at": action.created_at.isoformat(),
    }
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _mac(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: bytes | str, timestamp: int) -> str:
    """The ``Iolaus-Signature`` header value for ``body`` sent at ``timestamp``."""
    key = secret.encode() if isinstance(secret, str) else secret
    return f"t={timestamp},v1={_mac(key, timestamp, body)}"


def verify(
    body: bytes,
    header: str | None,
    secret: bytes | str,
    tolerance: int = 300,
    now: float | None = None,
) -> int:
    """Check a received event; returns its signing timestamp, or raises ``InvalidSignature``.

    ``body`` must be the raw request body. ``tolerance`` is the largest accepted distance, in
    seconds, between the signing time and ``now`` (default: this machine's clock)."""
    if not header:
        raise InvalidSignature(f"no {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise InvalidSignature(f"malformed {SIGNATURE_HEADER} header")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise InvalidSignature("signature timestamp outside the tolerance")
    key = secret.encode() if isinstance(secret, str) else secret
    expected = _mac(key, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise InvalidSignature("signature does not match")
    return timestamp


class WebhookSender:
    """The webhook ``Transport``: posts each action to every endpoint; one ``httpx.Client`` is
    kept for connection reuse.

    With several endpoints an action counts as delivered when all of them took it; otherwise it
    is sent again to all, and the ones that had it deduplicate on the idempotency key."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not endpoints:
            raise WebhookConfigError("no webhook endpoint")
        self._endpoints = list(endpoints)
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)
        self._clock = clock

    def __repr__(self) -> str:
        return f"<WebhookSender to {', '.join(e.where for e in self._endpoints)}>"

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def __call__(self, action: Claimed) -> Outcome:
        body = event_body(action)
        outcomes = [self._post(endpoint, action, body) for endpoint in self._endpoints]
        worst = max(o.verdict for o in outcomes)
        errors = [o.error for o in outcomes if o.error]
        return Outcome(worst, "; ".join(errors) if errors else None)

    def _post(self, endpoint: Endpoint, action: Claimed, body: bytes) -> Outcome:
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": action.idempotency_key,
            SIGNATURE_HEADER: sign(body, endpoint.secret, int(self._clock())),
            "User-Agent": f"iolaus/{__version__}",
        }
        try:
            response = self._client.post(endpoint.url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            return Outcome(Verdict.RETRY, f"{endpoint.where}: timed out ({type(exc).__name__})")
        except httpx.TransportError as exc:
            # The exception's text may quote the full URL: only its type is reported.
            return Outcome(Verdict.RETRY, f"{endpoint.where}: {type(exc).__name__}")
        status = response.status_code
        if 200 <= status < 300:
            return Outcome(Verdict.DELIVERED)
        error = f"{endpoint.where}: HTTP {status}"
        if status in RETRIED_STATUSES or status >= 500:
            return Outcome(Verdict.RETRY, error)
        return Outcome(Verdict.PERMANENT, error)


def from_settings(settings: Settings) -> WebhookSender:
    """The transport factory ``transports`` registers as ``webhook``."""
    return WebhookSender(endpoints(settings))
