"""The settings table: declared once, parsed and checked at load, secrets never shown, and
``iolaus config show`` printing what every command runs with."""

from __future__ import annotations

import ast
import json
from dataclasses import fields
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

import iolaus.config
from iolaus.cases.triage import TriagePolicy
from iolaus.cli import app
from iolaus.config import (
    REDACTED,
    SETTINGS,
    ConfigError,
    Origin,
    Setting,
    Settings,
    unknown_variables,
)
from iolaus.errors import IolausError
from iolaus.model.signals import Category
from iolaus.web import create_app

runner = CliRunner()
WEBHOOK_SECRET = "whsec-0123456789abcdef"


def test_the_settings_object_has_one_field_per_setting_with_its_default() -> None:
    names = [f.name for f in fields(Settings) if f.name != "origins"]
    assert names == [s.name for s in SETTINGS]
    assert len({s.env for s in SETTINGS}) == len(SETTINGS)
    built = Settings()
    for setting in SETTINGS:
        assert built.value(setting) == setting.default, setting.name
    assert TriagePolicy.from_settings(built) == TriagePolicy()


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env)
def test_a_value_reads_back_as_it_is_shown(setting: Setting[object]) -> None:
    written = setting.show(setting.default)
    if written:
        assert setting.parse(written) == setting.default


def test_config_sits_below_the_domain() -> None:
    tree = ast.parse(Path(iolaus.config.__file__).read_text(encoding="utf-8"))
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("iolaus")
    }
    imported |= {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name.startswith("iolaus")
    }
    assert imported and all(m == "iolaus.errors" or m.startswith("iolaus.model") for m in imported)


def test_load_parses_each_variable_and_records_where_it_came_from() -> None:
    env = {
        "IOLAUS_DATABASE_URL": "postgresql://u@h/db",
        "IOLAUS_AUTO_MIGRATE": "off",
        "IOLAUS_CASE_DEADLINES": "csam=30m, ncii=3d ,other=48h",
        "IOLAUS_CASE_ESCALATE_BEFORE": "0.5",
        "IOLAUS_LEXICON": "a.csv, b.csv",
        "IOLAUS_FETCH_ALLOWED_HOSTS": "CDN.Example.org., media.example",
        "IOLAUS_FETCH_TIMEOUT": "2.5",
        "IOLAUS_COOKIE_SECURE": "1",
        "IOLAUS_WEBHOOK_URL": "https://a.example/h https://b.example/h",
        "IOLAUS_RULES": "  ",  # empty counts as unset
    }
    settings = Settings.load(env, database_url="sqlite:///x.db", rules_file=None)
    assert settings.database_url == "sqlite:///x.db"
    assert settings.origin(iolaus.config.DATABASE_URL) is Origin.OPTION
    assert settings.auto_migrate is False and settings.cookie_secure is True
    deadlines = settings.case_deadlines
    assert deadlines.by_category[Category.CSAM] == timedelta(minutes=30)
    assert deadlines.by_category[Category.NCII] == timedelta(days=3)
    assert deadlines.by_category[Category.SEXUAL_DEEPFAKE] == timedelta(hours=24)  # kept
    assert deadlines.other == timedelta(hours=48)
    policy = TriagePolicy.from_settings(settings)
    assert policy.margin(Category.NCII) == timedelta(hours=36)
    assert settings.lexicon_files == (Path("a.csv"), Path("b.csv"))
    assert settings.fetch_allowed_hosts == ("cdn.example.org", "media.example")
    assert settings.fetch_timeout == 2.5
    assert settings.webhook_urls == ("https://a.example/h", "https://b.example/h")
    assert settings.rules_file is None
    assert settings.origin(iolaus.config.RULES_FILE) is Origin.DEFAULT
    assert settings.origin(iolaus.config.FETCH_TIMEOUT) is Origin.ENVIRONMENT
    with pytest.raises(TypeError, match="not settings: colour"):
        Settings.load({}, colour="blue")


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("IOLAUS_AUTO_MIGRATE", "maybe", "1 or 0"),
        ("IOLAUS_CASE_DEADLINES", "csam=soon", "bad duration"),
        ("IOLAUS_CASE_DEADLINES", "nope=1h", "unknown category 'nope'"),
        ("IOLAUS_CASE_DEADLINES", "csam=0h", "positive whole number"),
        ("IOLAUS_CASE_DEADLINES", "csam", "category=duration"),
        ("IOLAUS_CASE_ESCALATE_BEFORE", "1", "[0, 1)"),
        ("IOLAUS_MAX_REMOTE_FILE_SIZE", "10MB", "positive whole number of bytes"),
        ("IOLAUS_FETCH_TIMEOUT", "soon", "positive number of seconds"),
        ("IOLAUS_FETCH_TIMEOUT", "inf", "positive number of seconds"),
        ("IOLAUS_REPORT_RATE_LIMIT", "10 per minute", "hits/seconds"),
        ("IOLAUS_REPORT_STATUS_RATE_LIMIT", "0/60", "hits/seconds"),
        ("IOLAUS_COOKIE_SECURE", "yes please", "1 or 0"),
    ],
)
def test_a_bad_value_names_the_variable_the_value_and_what_is_expected(
    variable: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.load({variable: value})
    message = str(caught.value)
    assert message.startswith(f"{variable}={value!r}: ") and expected in message
    assert isinstance(caught.value, IolausError) and caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("IOLAUS_SECRET_KEY", "c2hvcnQ-not-a-key!", "base64 of 32"),
        ("IOLAUS_WEBHOOK_SECRET", "short-secret", "at least 16"),
        ("IOLAUS_WEBHOOK_URL", "ftp://token-in-here@x/", "http(s)://"),
        ("IOLAUS_WEBHOOK_URL", "https://x:99999/token-in-here", "bad port"),
    ],
)
def test_a_bad_secret_is_never_repeated(variable: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.load({variable: value})
    message = str(caught.value)
    assert message.startswith(f"{variable}=(value hidden): ") and expected in message
    assert value not in message and "token-in-here" not in message


def test_secrets_are_redacted_in_repr() -> None:
    settings = Settings.load(
        {
            "IOLAUS_CSRF_KEY": "csrf-key-value",
            "IOLAUS_WEBHOOK_URL": "https://hooks.example/token-in-path",
            "IOLAUS_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
    )
    shown = repr(settings)
    for secret in ("csrf-key-value", "token-in-path", WEBHOOK_SECRET):
        assert secret not in shown
    assert f"webhook_secret={REDACTED}" in shown and "secret_key=(unset)" in shown


def test_unknown_variables_are_told_apart() -> None:
    env = {"IOLAUS_CASE_DEADLINE": "ncii=72h", "IOLAUS_RULES": "r.toml", "HOME": "/root"}
    assert unknown_variables(env) == ["IOLAUS_CASE_DEADLINE"]


# -- the edges -------------------------------------------------------------------------------


def test_config_show_prints_effective_values_and_origins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for setting in SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)
    monkeypatch.setenv("IOLAUS_CASE_DEADLINES", "ncii=72h")
    monkeypatch.setenv("IOLAUS_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("IOLAUS_CASE_DEADLINE", "typo")
    db = f"sqlite:///{tmp_path / 'c.db'}"
    result = runner.invoke(app, ["--db", db, "config", "show", "--json"])
    assert result.exit_code == 0, result.stderr
    rows = {row["variable"]: row for row in json.loads(result.stdout)}
    assert list(rows) == [s.env for s in SETTINGS]
    assert rows["IOLAUS_DATABASE_URL"] == {
        "setting": "database_url",
        "variable": "IOLAUS_DATABASE_URL",
        "value": db,
        "origin": "option",
        "secret": False,
        "help": iolaus.config.DATABASE_URL.help,
    }
    deadlines = rows["IOLAUS_CASE_DEADLINES"]
    assert deadlines["value"] == "csam=1h,ncii=72h,sexual_deepfake=24h,other=72h"
    assert deadlines["origin"] == "environment"
    assert rows["IOLAUS_FETCH_TIMEOUT"] == rows["IOLAUS_FETCH_TIMEOUT"] | {
        "value": "30",
        "origin": "default",
    }
    assert rows["IOLAUS_WEBHOOK_SECRET"]["value"] == REDACTED
    assert rows["IOLAUS_SECRET_KEY"]["value"] == rows["IOLAUS_RULES"]["value"] == "(unset)"
    assert WEBHOOK_SECRET not in result.stdout + result.stderr
    assert "IOLAUS_CASE_DEADLINE is not a setting" in result.stderr
    table = runner.invoke(app, ["--db", db, "config", "show"])
    assert table.exit_code == 0 and "IOLAUS_CASE_DEADLINES" in table.stdout
    assert "environment" in table.stdout and WEBHOOK_SECRET not in table.stdout


def test_a_bad_setting_stops_every_command_cleanly_but_not_help(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOLAUS_CASE_DEADLINES", "ncii=forever")
    db = str(tmp_path / "b.db")
    for command in (["config", "show"], ["cases", "queue"], ["worker", "--once"]):
        result = runner.invoke(app, ["--db", db, *command])
        assert result.exit_code == 2, command
        assert result.stderr.startswith("error: IOLAUS_CASE_DEADLINES='ncii=forever': ")
        assert isinstance(result.exception, SystemExit) and "Traceback" not in result.stderr
    assert not Path(db).exists()  # refused before touching the database
    helped = runner.invoke(app, ["--db", db, "config", "show", "--help"])
    assert helped.exit_code == 0 and "where it came from" in helped.stdout


def test_the_rules_option_still_overrides_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOLAUS_RULES", str(tmp_path / "missing.toml"))
    db = str(tmp_path / "r.db")
    missing = runner.invoke(app, ["--db", db, "rules", "check"])
    assert missing.exit_code == 1 and "missing.toml" in missing.stderr
    builtin = Path(iolaus.config.__file__).parent / "signals" / "rules" / "default.toml"
    given = runner.invoke(
        app, ["--db", db, "rules", "test", "--text", "hi", "--rules", str(builtin)]
    )
    assert given.exit_code == 0, given.stderr


def test_the_console_cookie_flag_comes_from_the_settings(sqlite_engine: Engine) -> None:
    plain = TestClient(create_app(sqlite_engine)).get("/console/login")
    assert "secure" not in plain.headers["set-cookie"].lower()
    secure = TestClient(create_app(sqlite_engine, Settings(cookie_secure=True)))
    assert "secure" in secure.get("/console/login").headers["set-cookie"].lower()
