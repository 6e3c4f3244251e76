"""Commands over text detection: scanning communities, checking and trying rules, and the
protected-persons watch list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text
from sqlalchemy import Connection

from iolaus.cli.main import app, fail, out, print_json, state
from iolaus.signals.detect import TextEngine
from iolaus.signals.watchlist import add_person, list_persons, remove_person
from iolaus.store import audit
from iolaus.terminal import shown

rules_app = typer.Typer(
    help="Detection rules: check a rule file, try rules on a text.", no_args_is_help=True
)
watch_app = typer.Typer(
    help="Protected persons: people at risk of deepfakes and image abuse.", no_args_is_help=True
)
app.add_typer(rules_app, name="rules")
app.add_typer(watch_app, name="watch")

RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help="Rule file replacing the default rules (or IOLAUS_RULES)."),
]
LexiconOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--lexicon",
        help="Extra term list (CSV term,category,weight; repeatable; or IOLAUS_LEXICON, "
        "comma-separated), added to the default lexicon.",
    ),
]


def build_detector(conn: Connection, rules: Path | None, lexicon: list[Path] | None) -> TextEngine:
    """The detector every detection command runs: the settings' rules and lexicon, or the
    ``--rules`` / ``--lexicon`` options given to this command."""
    from iolaus.signals.scan import default_detector

    return default_detector(conn, state.detection(rules, lexicon or ()))


@app.command("scan")
def scan_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="Also write an HTML report.")] = None,
    rules: RulesOption = None,
    lexicon: LexiconOption = None,
    top: Annotated[int, typer.Option(min=1, help="Rows to print.")] = 50,
) -> None:
    """Run detection over every stored community and rank them by risk, with reasons.

    Communities an interrupted import left queued are first detected and triaged as the import
    would have done.

    Scores and live findings are stored (signals, community_risk); shadow rules are counted only.
    """
    from iolaus.cli.platform import build_pipeline
    from iolaus.signals.scan import scan_communities

    engine = state.engine()
    build_pipeline().drain()  # first what imports left queued: detection, then triage
    with engine.connect() as conn:
        detector = build_detector(conn, rules, lexicon)
    risks = scan_communities(engine, detector=detector)
    if html is not None:
        from iolaus.signals.report import render_html

        html.write_text(render_html(risks), encoding="utf-8")
    if as_json:
        print_json([r.to_json() for r in risks])
        return
    table = Table(title=f"{len(risks)} communities by risk")
    for column in ("#", "community", "score", "band", "top reasons"):
        table.add_column(column)
    for rank, risk in enumerate(risks[:top], 1):
        reasons = Text("\n").join(shown(r.text, 110) for r in risk.reasons[:3])
        table.add_row(
            str(rank),
            shown(risk.name, 32),
            f"{risk.score:.2f}",
            risk.band,
            reasons or "nothing found",
        )
    out.print(table)
    if html is not None:
        out.print(f"HTML report written to {html}", highlight=False)


@rules_app.command("check")
def rules_check(
    file: Annotated[
        Path | None, typer.Argument(help="Rule file; default: the built-in rules.")
    ] = None,
) -> None:
    """Load and check a rule file: exit 1 with FILE:LINE on the first problem."""
    rules = state.detection(file).rules
    by_scope: dict[str, int] = {}
    for rule in rules.rules:
        key = f"{rule.scope} ({rule.mode})"
        by_scope[key] = by_scope.get(key, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(by_scope.items()))
    out.print(f"{len(rules)} rules OK: {summary}", highlight=False)


@rules_app.command("test")
def rules_test(
    text: Annotated[str, typer.Option("--text", help="A message to try the rules on.")],
    channel: Annotated[str, typer.Option(help="Name of the channel it was posted in.")] = "",
    rules: RulesOption = None,
    lexicon: LexiconOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show how a message is read: normalised text, lexicon hits, protected persons, rules fired."""
    with state.engine().connect() as conn:
        detector = build_detector(conn, rules, lexicon)
    context, _ = detector.channel_features(channel, None, None, False) if channel else ({}, None)
    context["display"] = f"#{channel}" if channel else ""
    view, findings = detector.message(text, context)
    result: dict[str, Any] = {
        "normalised": view.normalised.text,
        "hits": [
            {
                "term": h.term,
                "category": h.category,
                "weight": h.weight,
                "original": view.normalised.quote(h.start, h.end),
            }
            for h in view.hits
        ],
        "protected": view.protected,
        "fired": [
            {
                "rule": f.rule.name,
                "mode": f.rule.mode,
                "category": f.rule.category.value,
                "severity": f.rule.severity,
                "explanation": f.explanation,
            }
            for f in findings
        ],
    }
    if as_json:
        print_json(result)
        return
    out.print(shown(f"normalised: {result['normalised']}"))
    for hit in result["hits"]:
        out.print(
            shown(
                f"hit: {hit['term']} ({hit['category']}, weight {hit['weight']}) "
                f"from «{hit['original']}»"
            )
        )
    if view.protected:
        out.print(shown(f"protected persons: {', '.join(view.protected)}"))
    for fired in result["fired"]:
        out.print(shown(f"fired [{fired['mode']}] {fired['rule']}: {fired['explanation']}"))
    if not findings:
        out.print("no rule fired")


@watch_app.command("add")
def watch_add(
    name: Annotated[str, typer.Argument(help="The person's public name.")],
    alias: Annotated[
        list[str] | None, typer.Option("--alias", help="Handle or alias (repeatable).")
    ] = None,
    note: Annotated[str | None, typer.Option(help="Free text, e.g. who asked.")] = None,
) -> None:
    """Register a protected person."""
    try:
        with state.engine().begin() as conn:
            person = add_person(conn, name, alias or (), note)
            audit.record(conn, "cli", "watch.add", str(person.id))
    except ValueError as exc:
        fail(str(exc))
    out.print(shown(f"protected person {person.id}: {person.name}"))


@watch_app.command("list")
def watch_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List protected persons."""
    with state.engine().connect() as conn:
        persons = list_persons(conn)
    if as_json:
        print_json([p.to_json() for p in persons])
        return
    table = Table(title=f"{len(persons)} protected persons")
    for column in ("id", "name", "aliases", "note"):
        table.add_column(column)
    for p in persons:
        table.add_row(str(p.id), shown(p.name), shown(", ".join(p.aliases)), shown(p.note))
    out.print(table)


@watch_app.command("remove")
def watch_remove(person_id: int) -> None:
    """Remove a protected person."""
    with state.engine().begin() as conn:
        if not remove_person(conn, person_id):
            fail(f"no protected person {person_id}")
        audit.record(conn, "cli", "watch.remove", str(person_id))
    out.print(f"removed protected person {person_id}")
