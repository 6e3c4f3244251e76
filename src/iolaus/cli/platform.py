"""Commands over the platform mirror: schema, imports, communities, the demo world."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from iolaus.cli.main import app, err, fail, out, print_json, state
from iolaus.model.ingest import ENTITIES, FileFailure, ImportSummary
from iolaus.store import migrate
from iolaus.terminal import printable, shown

if TYPE_CHECKING:
    from iolaus.pipeline import Pipeline

db_app = typer.Typer(help="Database schema: migrations (Alembic).", no_args_is_help=True)
import_app = typer.Typer(help="Import data from a source.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")


# -- db -------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply schema migrations (creates the database on first run)."""
    engine = state.engine(migrate_schema=False)
    migrate.upgrade(engine, revision)
    out.print(f"database at revision {migrate.current_revision(engine)}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision; 'base' drops every table.")],
) -> None:
    """Revert schema migrations down to REVISION."""
    engine = state.engine(migrate_schema=False)
    migrate.downgrade(engine, revision)
    out.print(f"database at revision {migrate.current_revision(engine) or 'base'}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's revision and the code's."""
    engine = state.engine(migrate_schema=False)
    out.print(f"database: {migrate.current_revision(engine) or 'empty'}")
    out.print(f"code:     {migrate.head_revision(engine)}")


# -- import ---------------------------------------------------------------------------------


@import_app.command("discord-export")
def import_discord_export(
    paths: Annotated[
        list[Path],
        typer.Argument(help="DiscordChatExporter JSON files, or folders searched for *.json."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import DiscordChatExporter JSON exports (idempotent: re-importing adds nothing).

    Each file is imported whole or not at all; a broken file is reported and the others go on.
    Exit status 1 if any file failed.
    """
    from iolaus.ingest.discord_export import discover

    files = discover(paths)
    if not files:
        fail("no export files found in the given paths")
    summary = _run_import(files, quiet=as_json)
    _report_import(summary, as_json)
    if not summary.ok:
        raise typer.Exit(1)


def build_pipeline() -> Pipeline:
    """The pipeline every command runs (import, demo, worker), on the selected database."""
    from iolaus.model.clock import system_clock
    from iolaus.pipeline import Pipeline

    return Pipeline(
        state.engine(), config=state.detection(), policy=state.policy(), clock=system_clock
    )


def _run_import(files: list[Path], *, quiet: bool) -> ImportSummary:
    """Import the files through the pipeline, then drain it (detection and triage), with a
    progress bar on a terminal and each failed file reported as it fails."""
    from iolaus.ingest.discord_export import DiscordExportSource

    pipeline = build_pipeline()
    total = sum(p.stat().st_size for p in files if p.is_file())
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
        transient=True,
    )
    with progress:
        task = progress.add_task(f"importing {len(files)} file(s)", total=total)

        def on_unit(_label: str, failure: FileFailure | None) -> None:
            if failure is not None and not quiet:
                err.print(
                    f"[red]failed:[/] {escape(printable(failure.error))}",
                    highlight=False,
                    soft_wrap=True,
                )

        summary = pipeline.ingest(
            DiscordExportSource(files),
            progress=lambda n: progress.advance(task, n),
            on_unit=on_unit,
        )
    pipeline.drain()
    return summary


def _report_import(summary: ImportSummary, as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps(summary.to_json()))
        return
    table = Table(
        title=f"{summary.files_imported} file(s) imported, {len(summary.failures)} failed"
    )
    for column in ("", "new", "updated", "unchanged"):
        table.add_column(column, justify="right" if column else "left")
    for name in ENTITIES:
        c = summary.counts[name]
        table.add_row(name, f"{c.new:,}", f"{c.updated:,}", f"{c.unchanged:,}")
    out.print(table)
    media = summary.media
    if media.hashed or media.refused:
        out.print(
            f"media files: {media.hashed:,} hashed, {media.matched:,} matching a bank, "
            f"{media.refused:,} refused",
            highlight=False,
        )


# -- communities ----------------------------------------------------------------------------


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "—"


@app.command("communities")
def communities_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List stored communities with members, channels, messages, attachments and activity."""
    from iolaus.store.queries import list_communities

    with state.engine().connect() as conn:
        rows = list_communities(conn)
    if as_json:
        print_json([row.to_json() for row in rows])
        return
    table = Table(title=f"{len(rows)} communities")
    for column in (
        "id",
        "name",
        "risk",
        "platform id",
        "status",
        "members",
        "channels",
        "messages",
        "files",
        "first activity",
        "last activity",
    ):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.id),
            shown(row.name, 40),
            f"{row.risk_score:.2f} {row.risk_band}" if row.risk_score is not None else "—",
            row.external_id,
            row.status,
            f"{row.members:,}",
            f"{row.channels:,}",
            f"{row.messages:,}",
            f"{row.attachments:,}",
            _when(row.first_activity),
            _when(row.last_activity),
        )
    out.print(table)


@app.command("community")
def community_command(
    ref: Annotated[str, typer.Argument(help="Community id (Iolaus id or platform id).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    top: Annotated[int, typer.Option(min=1, max=1000, help="How many members to show.")] = 10,
) -> None:
    """Show a community: its channels and most active members."""
    from iolaus.store.queries import community_detail, find_community_id

    with state.engine().connect() as conn:
        community_id = find_community_id(conn, ref)
        detail = community_detail(conn, community_id, top) if community_id else None
    if detail is None:
        fail(f"no community {ref!r}")
        return
    if as_json:
        print_json(detail.to_json())
        return
    o = detail.overview
    out.print(shown(f"{o.name}"), style="bold")
    out.print(
        f"{o.platform} {o.external_id} · {o.status} · {o.members:,} members · "
        f"{o.messages:,} messages · {o.attachments:,} files · "
        f"{_when(o.first_activity)} → {_when(o.last_activity)}",
        highlight=False,
        markup=False,
    )
    channels = Table(title="channels")
    for column in ("category", "channel", "kind", "messages", "last activity", "topic"):
        channels.add_column(column)
    for c in detail.channels:
        channels.add_row(
            shown(c.category, 30),
            shown(c.name, 40),
            c.kind,
            f"{c.messages:,}",
            _when(c.last_activity),
            shown(c.topic, 50),
        )
    out.print(channels)
    members = Table(title="most active members")
    for column in ("account", "display name", "roles", "messages", "first seen", "last seen"):
        members.add_column(column)
    for m in detail.top_members:
        members.add_row(
            shown(m.username, 32),
            shown(m.display_name, 32),
            shown(", ".join(m.roles), 40),
            f"{m.messages:,}",
            _when(m.first_seen),
            _when(m.last_seen),
        )
    out.print(members)


# -- demo -----------------------------------------------------------------------------------


@app.command("demo")
def demo_command(
    seed: Annotated[int, typer.Option(help="Seed: the same seed writes the same world.")] = 7,
    size: Annotated[str, typer.Option(help="small (≈10k messages) or large (≈300k).")] = "small",
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write the export files.")] = Path(
        "demo-world"
    ),
    media: Annotated[
        bool, typer.Option("--media", help="Also write the generated abstract images.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the import summary as JSON.")
    ] = False,
    reviewer: Annotated[
        bool,
        typer.Option(
            "--reviewer", help="Create the console user demo-reviewer with a new password, printed."
        ),
    ] = False,
) -> None:
    """Write a synthetic platform as DiscordChatExporter files and import it.

    The world holds ordinary communities, hard negatives (support groups, genealogy, resale…),
    a few abusive-pattern communities and a re-created successor of one of them. All text is
    short and non-graphic; all images are generated abstract art.
    """
    from iolaus.demo.world import build_world

    if size not in {"small", "large"}:
        fail("--size must be 'small' or 'large'")
    world = build_world(out_dir, seed=seed, size=size, media=media)  # type: ignore[arg-type]
    if not as_json:
        out.print(
            f"wrote {len(world.files)} export files to {out_dir}", highlight=False, soft_wrap=True
        )
    if media:
        from iolaus.demo.seed import DEMO_BANK, seed_demo_bank

        added = seed_demo_bank(state.engine(), world)
        if not as_json:
            out.print(f"bank {DEMO_BANK}: {added} known image hashes added", highlight=False)
    summary = _run_import(list(world.files), quiet=as_json)
    _report_import(summary, as_json)
    if not summary.ok:
        raise typer.Exit(1)
    if reviewer and not as_json:
        from iolaus.demo.seed import demo_reviewer

        username, password = demo_reviewer(state.engine())
        out.print(
            f"demo reviewer for the console: user {username}, password {password}",
            highlight=False,
        )
