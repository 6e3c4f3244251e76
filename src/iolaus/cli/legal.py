"""Commands for legal exports: DSA statements of reasons for the Transparency Database.

``export`` writes what the API takes: one statement body per line (``POST /api/v1/statement``)
or, with ``--batch``, one ``{"statements": [...]}`` object of at most 100 per line
(``POST /api/v1/statements``, all or nothing). Every statement is validated again before it
leaves, and an export with any invalid statement writes and marks nothing: a batch the database
rejects stores nothing either, and a statement with personal data must never be published.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from sqlalchemy import select, update

from iolaus.cli.main import app, err, fail, out, state
from iolaus.legal.dsa import MAX_BATCH, export_lines, read_statements, validate_statement
from iolaus.store.tables import statements_of_reasons
from iolaus.terminal import printable

legal_app = typer.Typer(help="Legal exports (DSA).", no_args_is_help=True)
sor_app = typer.Typer(
    help="DSA statements of reasons, in the Transparency Database format.", no_args_is_help=True
)
app.add_typer(legal_app, name="legal")
legal_app.add_typer(sor_app, name="sor")


def _write(handle: TextIO, lines: list[str]) -> None:
    for line in lines:
        handle.write(line + "\n")


def _problems_by_statement(statements: list[Any]) -> list[tuple[int, Any, list[str]]]:
    """(index, puid, problems) of each invalid statement."""
    found = []
    for index, body in enumerate(statements):
        problems = validate_statement(body)
        if problems:
            puid = body.get("puid") if isinstance(body, dict) else None
            found.append((index, puid, problems))
    return found


def _report(invalid: list[tuple[int, Any, list[str]]]) -> None:
    for index, puid, problems in invalid:
        out.print(f"statement {index} (puid {printable(str(puid))}):", highlight=False)
        for problem in problems:
            out.print(f"  - {printable(problem)}", highlight=False, soft_wrap=True)


@sor_app.command("export")
def export(
    since: Annotated[
        str | None,
        typer.Option(
            help="Export every statement created on or after this date (YYYY-MM-DD), exported "
            "before or not. Default: only statements never exported.",
            show_default=False,
        ),
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write to this file, not standard output.", dir_okay=False),
    ] = None,
    batch: Annotated[
        bool, typer.Option("--batch", help=f'{{"statements": [...]}} lines of ≤ {MAX_BATCH}.')
    ] = False,
) -> None:
    """Export statements of reasons as JSON lines and mark them exported."""
    query = select(statements_of_reasons.c.id, statements_of_reasons.c.body).order_by(
        statements_of_reasons.c.id
    )
    if since is None:
        query = query.where(statements_of_reasons.c.exported_at.is_(None))
    else:
        try:
            start = datetime.combine(date.fromisoformat(since), time(), UTC)
        except ValueError:
            fail(f"--since: {since!r} is not a date in the form YYYY-MM-DD")
        query = query.where(statements_of_reasons.c.created_at >= start)

    with state.engine().begin() as conn:
        rows = conn.execute(query).all()
        statements = [json.loads(r.body) for r in rows]
        invalid = _problems_by_statement(statements)
        if invalid:
            _report(invalid)
            fail(f"{len(invalid)} of {len(statements)} statements are invalid: nothing exported")
        lines = export_lines(statements, batch)
        if out_file is None:
            _write(sys.stdout, lines)
        else:
            with out_file.open("w", encoding="utf-8") as handle:
                _write(handle, lines)
        conn.execute(
            update(statements_of_reasons)
            .where(statements_of_reasons.c.id.in_([r.id for r in rows]))
            .values(exported_at=datetime.now(UTC))
        )
    err.print(f"{len(statements)} statements exported", highlight=False)


@sor_app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="JSON lines of statements, or batch objects.")],
) -> None:
    """Check statements against the Transparency Database rules; exit 1 if any is invalid."""
    try:
        statements = read_statements(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        fail(f"{file}: {exc}")
    invalid = _problems_by_statement(statements)
    _report(invalid)
    if invalid:
        fail(f"{len(invalid)} of {len(statements)} statements are invalid")
    out.print(f"{len(statements)} statements, all valid", highlight=False)
