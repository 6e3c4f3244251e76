"""The ``iolaus`` Typer app and what every command shares: settings, the database, output.

Commands stay thin: they parse options, call the domain, and print with Rich (or JSON with
``--json`` for scripts). Hostile text is printed through ``iolaus.terminal`` only.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine
from typer.core import TyperGroup

from iolaus import __version__
from iolaus.cases.triage import TriagePolicy
from iolaus.config import ConfigError, Settings
from iolaus.errors import IolausError
from iolaus.signals.config import DetectionConfig
from iolaus.signals.errors import DataFileError
from iolaus.store import migrate
from iolaus.store.engine import DatabaseURLError, open_engine
from iolaus.terminal import printable


class _Commands(TyperGroup):
    """The command group: a refusal (``IolausError``) that a command did not handle itself
    is printed as ``error: …`` with its exit code, never as a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except IolausError as exc:
            fail(str(exc), exc.exit_code)


app = typer.Typer(
    name="iolaus",
    cls=_Commands,
    help="Find, triage and act on communities sharing intimate images without consent or child "
    "sexual abuse material. Data goes to ./iolaus.db (SQLite) unless --db or "
    "IOLAUS_DATABASE_URL names another database (e.g. postgresql://user@host/db).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

# Piped output is for reading in files and logs: do not squeeze tables into 80 columns.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


class State:
    """What one invocation runs with: the settings, loaded once from the environment and the
    global options, and what is built from them (engine, detection config, triage policy), so
    every command — and the detection and triage an import runs — uses the same ones.

    Loaded on first use rather than in the callback, so that ``--help`` still works when a
    setting is bad; a bad setting ends the command with its message, exit status 2.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self, **overrides: Any) -> None:
        """Start an invocation: ``overrides`` are the global options (``None`` = not given).
        The commands' modules hold this one object, so it is reset rather than replaced."""
        self.overrides = overrides
        self._settings: Settings | None = None
        self._engine: Engine | None = None
        self._detection: DetectionConfig | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = Settings.load(os.environ, **self.overrides)
            except ConfigError as exc:
                fail(str(exc), exc.exit_code)
        return self._settings

    def engine(self, *, migrate_schema: bool = True) -> Engine:
        if self._engine is None:
            try:
                self._engine = open_engine(self.settings.database_url)
            except DatabaseURLError as exc:
                fail(str(exc))
            if migrate_schema:
                try:
                    migrate.ensure_schema(self._engine, auto_migrate=self.settings.auto_migrate)
                except migrate.SchemaOutOfDateError as exc:
                    fail(str(exc))
        return self._engine

    def detection(self, rules: Path | None = None, lexicon: Sequence[Path] = ()) -> DetectionConfig:
        """The operator's rules and lexicon (``IOLAUS_RULES``, ``IOLAUS_LEXICON``), loaded once
        for every detection the command runs. A command's ``--rules`` replaces the rule file
        and its ``--lexicon`` adds term lists, for that command alone."""
        if rules is not None or lexicon:
            files = [*self.settings.lexicon_files, *lexicon]
            return _load_detection(rules or self.settings.rules_file, files)
        if self._detection is None:
            self._detection = _load_detection(self.settings.rules_file, self.settings.lexicon_files)
        return self._detection

    def policy(self) -> TriagePolicy:
        """Deadlines and escalation margins for every command that opens or escalates cases."""
        return TriagePolicy.from_settings(self.settings)


def _load_detection(rules: Path | None, lexicon: Sequence[Path]) -> DetectionConfig:
    if rules is None and not lexicon:
        return DetectionConfig.default()
    try:
        return DetectionConfig.load(rules, lexicon)
    except (DataFileError, OSError) as exc:
        fail(str(exc))


state = State()


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(printable(message))}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        out.print(f"iolaus {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL or SQLite path. Default: IOLAUS_DATABASE_URL, else ./iolaus.db.",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    state.reset(database_url=db)


def print_json(data: Any) -> None:
    """JSON for scripts: UTF-8, never Rich-formatted."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
