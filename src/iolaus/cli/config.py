"""``iolaus config show``: the settings this process runs with, and where each value came from.

The values are the ones every command would use — loaded and checked as at any start-up — so the
command doubles as a check of a deployment's configuration: a bad value ends it with the
variable's name, what it expects, and exit status 2. Secrets only say whether they are set.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from iolaus.cli.main import app, err, out, print_json, state
from iolaus.config import SETTINGS, unknown_variables
from iolaus.terminal import shown

config_app = typer.Typer(
    help="Settings: the IOLAUS_* variables and options Iolaus runs with.", no_args_is_help=True
)
app.add_typer(config_app, name="config")


@config_app.command("show")
def config_show(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print every setting's effective value and where it came from: "default", "environment"
    (its IOLAUS_* variable) or "option" (a global option such as --db).

    Secrets (keys, webhook URL and secret) show "•••• (set)" or "(unset)", never the value.
    A bad value stops with its message and exit status 2. IOLAUS_* variables that are no
    setting (a typo?) are named on stderr.
    """
    settings = state.settings
    rows = [
        {
            "setting": s.name,
            "variable": s.env,
            "value": s.shown(settings.value(s)),
            "origin": settings.origin(s).value,
            "secret": s.secret,
            "help": s.help,
        }
        for s in SETTINGS
    ]
    for name in unknown_variables(os.environ):
        err.print(shown(f"note: {name} is not a setting, so it is ignored (a typo?)"))
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} settings")
    for column in ("variable", "value", "from"):
        table.add_column(column)
    for row in rows:
        table.add_row(shown(str(row["variable"])), shown(str(row["value"])), str(row["origin"]))
    out.print(table)


@app.command("plugins")
def plugins_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the pipeline's seams and what is registered in each, in the order they run."""
    from iolaus.pipeline.plugins import SEAMS, registered

    found = registered()
    if as_json:
        print_json({seam: list(names) for seam, names in found.items()})
        return
    table = Table(title="plug-ins by seam")
    for column in ("seam", "registered", "what it is"):
        table.add_column(column)
    for seam, names in found.items():
        table.add_row(seam, ", ".join(names) or "—", SEAMS[seam])
    out.print(table)
