"""Cases from the command line: the queue, opening cases from detection, escalation."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from iolaus.cases import store, triage
from iolaus.cli.main import app, out, print_json, state
from iolaus.terminal import shown

cases_app = typer.Typer(
    help="Cases: the review queue, detection-opened cases, escalation.", no_args_is_help=True
)
app.add_typer(cases_app, name="cases")


def _due(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    text = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
    return f"overdue {text}" if seconds < 0 else f"due in {text}"


def _items_json(items: list[store.QueueItem]) -> list[dict[str, object]]:
    return [
        {
            "id": i.id,
            "category": i.category,
            "severity": i.severity,
            "priority": i.priority,
            "community": i.community_name,
            "subject": i.subject_key,
            "reports": i.reports_count,
            "signals": i.signals_count,
            "trusted_flagger": i.trusted_flagger,
            "deadline_at": i.deadline_at.isoformat(),
            "seconds_left": round(i.seconds_left),
            "escalated": i.escalated_at is not None,
        }
        for i in items
    ]


@cases_app.command("queue")
def cases_queue(
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Open cases in review order: CSAM first, then severity, trusted flaggers, reach, age."""
    with state.engine().connect() as conn:
        items = store.queue(conn, limit)
    if as_json:
        print_json(_items_json(items))
        return
    table = Table(title=f"{len(items)} open cases")
    for column in ("case", "category", "community / subject", "reports", "signals", "deadline"):
        table.add_column(column)
    for i in items:
        flag = " ⚑" if i.escalated_at else ""
        table.add_row(
            str(i.id),
            f"{i.category} ({i.severity})",
            shown(i.community_name or i.subject_key, 40),
            str(i.reports_count),
            str(i.signals_count),
            _due(i.seconds_left) + flag,
        )
    out.print(table)


@cases_app.command("open-from-signals")
def cases_open_from_signals() -> None:
    """Open (or refresh) a case for every community rated high or critical by detection."""
    touched = triage.open_cases_from_signals(state.engine(), policy=state.policy())
    out.print(f"{len(touched)} case(s) opened or refreshed from detection", highlight=False)


@cases_app.command("escalate")
def cases_escalate(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Escalate open cases near their deadline (each once); run it every minute from cron or a
    worker. Prints the cases escalated."""
    escalated = triage.escalate_due(state.engine(), policy=state.policy())
    if as_json:
        print_json(_items_json(escalated))
        return
    for i in escalated:
        out.print(shown(f"escalated case {i.id} ({i.category}): {_due(i.seconds_left)}"))
    out.print(f"{len(escalated)} case(s) escalated", highlight=False)
