"""The transport registry: webhooks are the built-in transport, chosen by name, configured from
the environment; an unknown name or a bad configuration is a clear error without secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import iolaus.cli.actions  # noqa: F401  (registers `iolaus actions`)
from iolaus.actions import transports
from iolaus.actions.delivery import TransportConfigError
from iolaus.actions.webhooks import WebhookConfigError, WebhookSender
from iolaus.cli.main import app
from iolaus.config import Settings
from iolaus.store.engine import open_engine
from iolaus.store.migrate import ensure_schema
from tests.actions.test_webhooks import SECRET


def test_webhook_is_the_default_transport() -> None:
    assert transports.DEFAULT_TRANSPORT == "webhook" and "webhook" in transports.names()
    environ = {"IOLAUS_WEBHOOK_URL": "https://hooks.example/t0ken", "IOLAUS_WEBHOOK_SECRET": SECRET}
    transport = transports.create("webhook", Settings.load(environ))
    try:
        assert isinstance(transport, WebhookSender)
        assert repr(transport) == "<WebhookSender to https://hooks.example>"
    finally:
        transport.close()


def test_a_misconfigured_transport_is_a_transport_config_error() -> None:
    with pytest.raises(WebhookConfigError, match="IOLAUS_WEBHOOK_URL") as raised:
        transports.create("webhook", Settings.load({}))
    assert isinstance(raised.value, TransportConfigError)


def test_an_unknown_transport_names_the_known_ones() -> None:
    with pytest.raises(TransportConfigError, match=r"unknown transport 'pigeon' \(known: webhook"):
        transports.create("pigeon", Settings.load({}))


def test_a_name_is_registered_once() -> None:
    with pytest.raises(ValueError, match="already registered"):
        transports.register("webhook", lambda settings: transports.create("webhook", settings))


def test_the_cli_chooses_the_transport_by_name(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    engine = open_engine(f"sqlite:///{db}")
    ensure_schema(engine, auto_migrate=True)
    engine.dispose()
    result = CliRunner().invoke(
        app, ["--db", str(db), "actions", "dispatch", "--once", "--transport", "pigeon"]
    )
    assert result.exit_code == 1 and "unknown transport 'pigeon'" in result.stderr
