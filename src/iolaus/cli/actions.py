"""Commands over the action outbox: see what was sent or failed, run the dispatcher, retry.

The webhook URL and signing secret come from ``IOLAUS_WEBHOOK_URL`` and
``IOLAUS_WEBHOOK_SECRET``, never from the command line (shell history, ``ps``).
"""

from __future__ import annotations

import signal
import threading
from contextlib import closing
from datetime import UTC, datetime
from types import FrameType
from typing import Annotated

import typer
from rich.table import Table

from iolaus.actions import outbox, transports
from iolaus.actions.delivery import TransportConfigError
from iolaus.actions.dispatcher import DispatchReport, dispatch_once, run
from iolaus.actions.outbox import OutboxStatus
from iolaus.cli.main import app, fail, out, print_json, state
from iolaus.terminal import printable, shown

actions_app = typer.Typer(
    help="Actions ordered by decisions, delivered as signed webhooks from the outbox.",
    no_args_is_help=True,
)
app.add_typer(actions_app, name="actions")

ACTOR = "cli"


@actions_app.command("list")
def actions_list(
    status: Annotated[OutboxStatus | None, typer.Option(help="Only actions in this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Actions in the outbox, newest first, with attempts and the last error."""
    with state.engine().connect() as conn:
        rows = outbox.list_actions(conn, status, limit)
    if as_json:
        print_json(rows)
        return
    table = Table("id", "kind", "decision", "status", "attempts", "next attempt", "last error")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["kind"],
            str(row["decision_id"] or "—"),
            row["status"],
            str(row["attempts"]),
            row["next_attempt_at"] if row["status"] == OutboxStatus.PENDING else "—",
            shown(row["last_error"] or ""),
        )
    out.print(table)


def _print_report(report: DispatchReport) -> None:
    for r in report.results:
        state_text = r.status.value if r.status else "taken over by another dispatcher"
        error = f" ({printable(r.error)})" if r.error else ""
        line = f"action {r.id} {r.kind} attempt {r.attempt}: {state_text}{error}"
        out.print(line, markup=False, highlight=False)


@actions_app.command("dispatch")
def actions_dispatch(
    once: Annotated[
        bool, typer.Option("--once", help="One pass over due actions, then exit.")
    ] = False,
    interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between passes when nothing is due.")
    ] = 5.0,
    transport_name: Annotated[
        str,
        typer.Option("--transport", help=f"How to deliver: {', '.join(transports.names())}."),
    ] = transports.DEFAULT_TRANSPORT,
) -> None:
    """Deliver due actions through a transport (webhooks: to IOLAUS_WEBHOOK_URL, signed with
    IOLAUS_WEBHOOK_SECRET); without --once, keep going until interrupted (Ctrl-C or SIGTERM)."""
    try:
        transport = transports.create(transport_name, state.settings)
    except TransportConfigError as exc:
        fail(str(exc))
    engine = state.engine()
    totals = DispatchReport()

    def collect(report: DispatchReport) -> None:
        _print_report(report)
        totals.results.extend(report.results)

    with closing(transport) as sender:
        if once:
            collect(dispatch_once(engine, datetime.now(UTC), sender))
        else:
            stop = threading.Event()

            def on_signal(_signum: int, _frame: FrameType | None) -> None:
                stop.set()

            previous = signal.signal(signal.SIGTERM, on_signal)
            out.print(f"dispatching to {sender!r}, every {interval:g}s; Ctrl-C stops")
            try:
                run(engine, stop, interval, sender, on_report=collect)
            except KeyboardInterrupt:
                stop.set()
            finally:
                signal.signal(signal.SIGTERM, previous)
    out.print(
        f"{totals.claimed} attempted: {totals.delivered} delivered, {totals.retrying} to retry, "
        f"{totals.failed} failed",
        highlight=False,
    )


@actions_app.command("retry")
def actions_retry(
    action_id: Annotated[int, typer.Argument(metavar="ID", help="A failed action's id.")],
) -> None:
    """Put a failed action back in the queue, due now, with its attempts reset."""
    try:
        with state.engine().begin() as conn:
            outbox.retry(conn, action_id, datetime.now(UTC), ACTOR)
    except outbox.NotRetriable as exc:
        fail(str(exc))
    out.print(f"action {action_id} queued again", highlight=False)
