"""One root error type, mapped once at each edge: the CLI prints it, the API answers with it."""

from __future__ import annotations

from pathlib import Path

import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from iolaus.cli.main import _Commands
from iolaus.errors import Conflict, IolausError, NotFound
from iolaus.exchanges.sync import NoSuchExchange
from iolaus.store.banks import NoSuchBank
from iolaus.store.engine import open_engine
from iolaus.store.migrate import ensure_schema
from iolaus.web import create_app


def test_refusals_share_the_root_and_say_their_status() -> None:
    assert issubclass(NoSuchBank, NotFound) and issubclass(NoSuchBank, LookupError)
    assert NoSuchExchange.http_status == 404
    assert Conflict.http_status == 409 and IolausError.http_status == 400


def test_the_cli_prints_an_unhandled_refusal_with_its_exit_code() -> None:
    app = typer.Typer(cls=_Commands)

    @app.command()
    def boom() -> None:
        raise NotFound("no community 'g42'")

    @app.command()
    def other() -> None:
        """A second command, so that ``boom`` is a sub-command as in ``iolaus``."""

    result = CliRunner().invoke(app, ["boom"])
    assert result.exit_code == 1
    assert "error: no community 'g42'" in result.output
    assert "Traceback" not in result.output


def test_the_api_answers_an_unhandled_refusal_with_its_status(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'e.db'}")
    ensure_schema(engine, auto_migrate=True)
    app = create_app(engine)

    @app.get("/test/refused")
    def refused() -> None:
        raise Conflict("case 7 was decided meanwhile")

    response = TestClient(app).get("/test/refused")
    assert response.status_code == 409
    assert response.json() == {"message": "case 7 was decided meanwhile"}
    engine.dispose()
