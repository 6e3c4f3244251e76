"""The ``iolaus`` Typer app and what every command shares: settings, the database, output.

Commands stay thin: they parse options, call the domain, and print with Rich (or JSON with
``--json`` for scripts). Hostile text is printed through ``iolaus.terminal`` only.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine

from iolaus import __version__
from iolaus.config import Settings
from iolaus.store import migrate
from iolaus.store.engine import DatabaseURLError, open_engine
from iolaus.terminal import printable

app = typer.Typer(
    name="iolaus",
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
    """Per-invocation settings, resolved once in the callback."""

    settings: Settings = Settings()
    _engine: Engine | None = None

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
    state.settings = Settings.from_env(db)
    state._engine = None


def print_json(data: Any) -> None:
    """JSON for scripts: UTF-8, never Rich-formatted."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
