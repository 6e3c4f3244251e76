"""Structured logs: fields stay fields, and secrets never reach the output."""

from __future__ import annotations

import json

import pytest

from iolaus import logs


@pytest.fixture(autouse=True)
def _reset() -> None:
    yield
    logs.configure("warning")


def test_json_lines_carry_fields(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("info", "json")
    logs.get_logger("iolaus.test").info("case.escalated", case_id=7, seconds_left=300)
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == "case.escalated"
    assert line["case_id"] == 7 and line["seconds_left"] == 300
    assert line["level"] == "info" and line["timestamp"].endswith("Z")


def test_secret_fields_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("info", "json")
    logs.get_logger("iolaus.test").info(
        "webhook.sent", webhook_secret="s3cr3t-value", api_token="t0k3n", outbox_id=3
    )
    err = capsys.readouterr().err
    assert "s3cr3t-value" not in err and "t0k3n" not in err
    line = json.loads(err.strip().splitlines()[-1])
    assert line["webhook_secret"] == logs.REDACTED and line["outbox_id"] == 3


def test_level_filters(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("warning", "console")
    log = logs.get_logger("iolaus.test")
    log.info("quiet.event")
    log.warning("loud.event", n=1)
    err = capsys.readouterr().err
    assert "quiet.event" not in err and "loud.event" in err and "n=1" in err
