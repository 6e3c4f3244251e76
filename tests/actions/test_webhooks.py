"""Webhook signing, verification and delivery against a local receiver on 127.0.0.1.

``Receiver`` is what a platform would run: it verifies the signature on the raw body, records
every idempotency key it sees, and acts once per key. It answers scripted statuses (or stalls)
before answering 200, serves at most ``MAX_REQUESTS`` requests and shuts itself down after
``LIFETIME`` seconds even if a test forgets to, so nothing here can hang the suite.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from iolaus.actions.delivery import Verdict
from iolaus.actions.outbox import Claimed
from iolaus.actions.webhooks import (
    SIGNATURE_HEADER,
    Endpoint,
    InvalidSignature,
    WebhookConfigError,
    WebhookSender,
    endpoints,
    event_body,
    sign,
    verify,
)
from iolaus.config import ConfigError, Settings

SECRET = "whsec-test-0123456789abcdef"
MAX_REQUESTS = 50
LIFETIME = 30.0


@dataclass
class Receiver:
    secret: str = SECRET
    script: list[int | str] = field(default_factory=list)  # statuses, or "stall", then 200s
    stall: float = 0.5
    seen: list[str] = field(default_factory=list)  # idempotency keys of verified requests
    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # acted on, once per key
    rejected: list[str] = field(default_factory=list)  # why a request failed verification
    headers: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def handle(self, body: bytes, headers: dict[str, str]) -> int:
        with self._lock:
            if len(self.headers) >= MAX_REQUESTS:
                return 410
            self.headers.append(headers)
            step = self.script.pop(0) if self.script else 200
        try:
            verify(body, headers.get(SIGNATURE_HEADER.lower()), self.secret)
        except InvalidSignature as exc:
            self.rejected.append(str(exc))
            return 401
        event = json.loads(body)
        key = headers["idempotency-key"]
        assert event["idempotency_key"] == key
        with self._lock:
            self.seen.append(key)
        if step == "stall":  # received, then too slow to answer: the sender gives up
            time.sleep(self.stall)
            step = 200
        with self._lock:
            if step == 200:
                self.events.setdefault(key, event)
        return int(step)

    @contextmanager
    def running(self) -> Iterator[str]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.handle(body, {k.lower(): v for k, v in self.headers.items()})
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up waiting (the timeout tests)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        watchdog = threading.Timer(LIFETIME, server.shutdown)
        thread.start()
        watchdog.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}/hooks/iolaus?token=url-token-xyz"
        finally:
            watchdog.cancel()
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def claimed(**overrides: Any) -> Claimed:
    values: dict[str, Any] = {
        "id": 7,
        "decision_id": 3,
        "kind": "ban_community",
        "payload": {"community_id": 1, "platform": "discord", "external_id": "900"},
        "idempotency_key": "k" * 64,
        "attempts": 1,
        "created_at": datetime(2025, 7, 1, 12, tzinfo=UTC),
    }
    return Claimed(**{**values, **overrides})


def sender_to(url: str, timeout: float = 2.0) -> WebhookSender:
    return WebhookSender([Endpoint(url, SECRET.encode())], timeout=timeout)


# -- signature scheme ----------------------------------------------------------------------------


def test_sign_and_verify_round_trip() -> None:
    body = b'{"id":1}'
    header = sign(body, SECRET, 1_750_000_000)
    assert header.startswith("t=1750000000,v1=")
    assert verify(body, header, SECRET, now=1_750_000_100) == 1_750_000_000
    assert verify(body, header, SECRET.encode(), now=1_750_000_000) == 1_750_000_000


@pytest.mark.parametrize(
    ("body", "header", "secret", "now", "reason"),
    [
        (b'{"id":2}', None, SECRET, 1_750_000_000, "does not match"),  # tampered body
        (b'{"id":1}', None, "another-secret-0123456789", 1_750_000_000, "does not match"),
        (b'{"id":1}', None, SECRET, 1_750_000_301, "tolerance"),  # replayed late
        (b'{"id":1}', None, SECRET, 1_749_999_699, "tolerance"),  # clock far ahead
        (b'{"id":1}', "v1=abc", SECRET, 1_750_000_000, "malformed"),
        (b'{"id":1}', "t=1750000000", SECRET, 1_750_000_000, "malformed"),
        (b'{"id":1}', "", SECRET, 1_750_000_000, "no Iolaus-Signature"),
    ],
)
def test_verify_rejects(
    body: bytes, header: str | None, secret: str, now: int, reason: str
) -> None:
    if header is None:
        header = sign(b'{"id":1}', SECRET, 1_750_000_000)
    with pytest.raises(InvalidSignature, match=reason) as info:
        verify(body, header, secret, now=now)
    assert SECRET not in str(info.value)


def test_verify_accepts_any_of_several_signatures_during_rotation() -> None:
    body = b"{}"
    old = sign(body, "old-secret-0123456789", 1_750_000_000)
    new = sign(body, SECRET, 1_750_000_000).split(",")[1]
    verify(body, f"{old},{new}", SECRET, now=1_750_000_000)
    verify(body, f"{old},{new}", "old-secret-0123456789", now=1_750_000_000)


def test_event_body_is_the_documented_object() -> None:
    event = json.loads(event_body(claimed()))
    assert set(event) == {"id", "idempotency_key", "kind", "decision_id", "payload", "created_at"}
    assert event["created_at"] == "2025-07-01T12:00:00+00:00"
    assert event["payload"]["external_id"] == "900"


def test_configuration_from_the_environment_never_echoes_the_secret() -> None:
    env = {"IOLAUS_WEBHOOK_URL": "https://a.example/h, https://b.example/h"}
    with pytest.raises(WebhookConfigError, match="IOLAUS_WEBHOOK_SECRET"):
        endpoints(Settings.load(env))
    with pytest.raises(ConfigError, match="16") as info:
        Settings.load({**env, "IOLAUS_WEBHOOK_SECRET": "short-secret"})
    assert "short-secret" not in str(info.value)
    with pytest.raises(WebhookConfigError, match="IOLAUS_WEBHOOK_URL"):
        endpoints(Settings.load({"IOLAUS_WEBHOOK_SECRET": SECRET}))
    with pytest.raises(ConfigError, match="http"):
        Settings.load({"IOLAUS_WEBHOOK_URL": "ftp://x/", "IOLAUS_WEBHOOK_SECRET": SECRET})
    settings = Settings.load({**env, "IOLAUS_WEBHOOK_SECRET": SECRET})
    receivers = endpoints(settings)
    assert [e.where for e in receivers] == ["https://a.example", "https://b.example"]
    assert SECRET not in repr(receivers) and SECRET not in repr(WebhookSender(receivers))
    assert SECRET not in repr(settings) and "a.example" not in repr(settings)


# -- delivery ------------------------------------------------------------------------------------


def test_delivery_is_signed_and_carries_the_idempotency_key() -> None:
    receiver = Receiver()
    with receiver.running() as url, sender_to(url) as sender:
        outcome = sender(claimed())
    assert outcome.verdict is Verdict.DELIVERED and outcome.error is None
    assert receiver.rejected == []
    assert receiver.seen == ["k" * 64]
    headers = receiver.headers[0]
    assert headers["content-type"] == "application/json"
    assert headers["idempotency-key"] == "k" * 64
    assert receiver.events["k" * 64]["kind"] == "ban_community"


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (500, Verdict.RETRY),
        (503, Verdict.RETRY),
        (429, Verdict.RETRY),
        (408, Verdict.RETRY),
        (400, Verdict.PERMANENT),
        (404, Verdict.PERMANENT),
        (410, Verdict.PERMANENT),
    ],
)
def test_status_codes_decide_retry_or_permanent_failure(status: int, verdict: Verdict) -> None:
    receiver = Receiver(script=[status])
    with receiver.running() as url, sender_to(url) as sender:
        outcome = sender(claimed())
    assert outcome.verdict is verdict
    assert outcome.error is not None and f"HTTP {status}" in outcome.error
    # Errors name the host only: webhook URLs carry tokens in their path and query.
    assert "url-token-xyz" not in outcome.error and "/hooks" not in outcome.error
    assert SECRET not in outcome.error


def test_a_timeout_is_retried() -> None:
    receiver = Receiver(script=["stall"], stall=0.6)
    with receiver.running() as url, sender_to(url, timeout=0.2) as sender:
        outcome = sender(claimed())
    assert outcome.verdict is Verdict.RETRY
    assert outcome.error is not None and "timed out" in outcome.error
    assert "url-token-xyz" not in outcome.error


def test_an_unreachable_receiver_is_retried() -> None:
    receiver = Receiver()
    with receiver.running() as url:
        pass  # stopped: nothing listens on the port any more
    with sender_to(url, timeout=1.0) as sender:
        outcome = sender(claimed())
    assert outcome.verdict is Verdict.RETRY
    assert outcome.error is not None and "url-token-xyz" not in outcome.error


def test_a_wrong_secret_is_refused_by_the_receiver_and_fails_permanently() -> None:
    receiver = Receiver(secret="the-receivers-own-secret-42")
    with receiver.running() as url, sender_to(url) as sender:
        outcome = sender(claimed())
    assert receiver.rejected == ["signature does not match"]
    assert outcome.verdict is Verdict.PERMANENT


def test_several_receivers_the_worst_answer_decides() -> None:
    ok, down = Receiver(), Receiver(script=[503])
    with ok.running() as url_ok, down.running() as url_down:
        endpoints = [Endpoint(url_ok, SECRET.encode()), Endpoint(url_down, SECRET.encode())]
        with WebhookSender(endpoints) as sender:
            first = sender(claimed())
            second = sender(claimed())
    assert first.verdict is Verdict.RETRY and second.verdict is Verdict.DELIVERED
    # The receiver that had it already sees the same key again and acts once.
    assert ok.seen == ["k" * 64] * 2 and len(ok.events) == 1
