"""Commands over hash exchanges: NCMEC, StopNCII and local hash lists imported into banks.

Credentials are read from a file (``-`` for stdin) or an environment variable, never from the
command line, where they would land in shell history and in every user's ``ps`` output.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from iolaus.cli.main import app, err, fail, out, print_json, state
from iolaus.exchanges import InvalidExchange, api_names, get_api
from iolaus.exchanges.secrets import SecretKeyError, Vault
from iolaus.exchanges.sync import (
    NoSuchExchange,
    SyncFailed,
    SyncReport,
    create_exchange,
    get_exchange,
    list_exchanges,
    remove_exchange,
    set_credentials,
    sync_exchange,
)
from iolaus.model.banks import InvalidBank
from iolaus.model.signals import Category
from iolaus.terminal import shown

exchange_app = typer.Typer(
    help="Hash exchanges: remote hash lists (NCMEC, StopNCII, files) imported into banks.",
    no_args_is_help=True,
)
app.add_typer(exchange_app, name="exchange")

ACTOR = "cli"

CredentialsFile = Annotated[
    Path | None,
    typer.Option(
        "--credentials-file",
        help="File holding the credentials (JSON, or pytx's user:password / key,key); - = stdin.",
    ),
]
CredentialsEnv = Annotated[
    str | None,
    typer.Option("--credentials-env", help="Environment variable holding the credentials."),
]


def _vault() -> Vault:
    try:
        return Vault.from_settings(state.settings)
    except (SecretKeyError, OSError) as exc:
        fail(f"secret key: {exc}")


def _credentials(api: str, path: Path | None, env: str | None) -> dict[str, str] | None:
    if path is not None and env is not None:
        fail("give --credentials-file or --credentials-env, not both")
    if path is not None:
        try:
            text = sys.stdin.read() if str(path) == "-" else path.read_text()
        except OSError as exc:
            fail(f"cannot read {path}: {exc.strerror}")
    elif env is not None:
        if env not in os.environ:
            fail(f"environment variable {env} is not set")
        text = os.environ[env]
    else:
        return None
    try:
        return get_api(api).parse_credentials(text)
    except InvalidExchange as exc:
        fail(str(exc))


@exchange_app.command("add")
def exchange_add(
    name: Annotated[str, typer.Argument(help="Upper-case letters, digits, _ (HMA's rule).")],
    api: Annotated[str, typer.Option(help=f"Exchange API: {', '.join(api_names())}.")],
    bank: Annotated[
        str | None, typer.Option(help="Bank to fill (created if missing). Default: NAME.")
    ] = None,
    category: Annotated[
        Category | None,
        typer.Option(
            help="Category of a bank created here (default: csam for ncmec, ncii for "
            "stop_ncii; required for local_file)."
        ),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option(
            help='API settings as JSON, e.g. \'{"environment": "Industry"}\' (ncmec), '
            '\'{"filename": "/path/list.txt", "signal_type": "pdq"}\' (local_file).'
        ),
    ] = None,
    credentials_file: CredentialsFile = None,
    credentials_env: CredentialsEnv = None,
) -> None:
    """Add an exchange filling a bank; `iolaus exchange sync NAME` then fetches it."""
    try:
        api_cls = get_api(api)
    except InvalidExchange as exc:
        fail(str(exc))
    try:
        settings = json.loads(config) if config else {}
    except json.JSONDecodeError as exc:
        fail(f"--config is not valid JSON: {exc}")
    if not isinstance(settings, dict):
        fail("--config must be a JSON object")
    secret = _credentials(api, credentials_file, credentials_env)
    if api_cls.credential_fields and not secret:
        fail(
            f"the {api} API needs credentials ({', '.join(api_cls.credential_fields)}): "
            "give --credentials-file or --credentials-env"
        )
    bank_name = bank or name
    try:
        with state.engine().begin() as conn:
            create_exchange(
                conn,
                name,
                api,
                bank_name,
                settings,
                secret,
                vault=_vault() if secret else None,
                category=category.value if category else None,
                actor=ACTOR,
            )
    except (InvalidExchange, InvalidBank) as exc:
        fail(str(exc))
    out.print(f"added exchange {name} ({api}) filling bank {bank_name}", highlight=False)


@exchange_app.command("credentials")
def exchange_credentials(
    name: Annotated[str, typer.Argument(help="Exchange name.")],
    credentials_file: CredentialsFile = None,
    credentials_env: CredentialsEnv = None,
) -> None:
    """Replace an exchange's stored credentials (rotated keys, or a lost secret key)."""
    with state.engine().connect() as conn:
        info = get_exchange(conn, name)
    if info is None:
        fail(f"no exchange named {name!r}")
    secret = _credentials(info.api, credentials_file, credentials_env)
    if secret is None:
        fail("give --credentials-file or --credentials-env")
    try:
        with state.engine().begin() as conn:
            set_credentials(conn, name, secret, vault=_vault(), actor=ACTOR)
    except InvalidExchange as exc:
        fail(str(exc))
    out.print(f"stored new credentials for exchange {name}", highlight=False)


@exchange_app.command("list")
def exchange_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List exchanges with their bank and last sync (credentials are never shown)."""
    with state.engine().connect() as conn:
        rows = list_exchanges(conn)
    if as_json:
        print_json([row.to_json() for row in rows])
        return
    table = Table(title=f"{len(rows)} exchanges")
    for column in ("name", "api", "bank", "enabled", "records", "last sync", "status"):
        table.add_column(column)
    for row in rows:
        when = row.fetch_completed_at
        status = (
            "running"
            if row.running
            else "never synced"
            if row.fetch_succeeded is None
            else "ok"
            if row.fetch_succeeded
            else f"failed: {row.fetch_error}"
        )
        table.add_row(
            row.name,
            row.api,
            row.bank,
            "yes" if row.enabled else "no",
            f"{row.fetched_items:,}",
            when.strftime("%Y-%m-%d %H:%M:%S") if when else "—",
            shown(status, 80),
        )
    out.print(table)


@exchange_app.command("sync")
def exchange_sync(
    name: Annotated[str | None, typer.Argument(help="Exchange name.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Sync every enabled exchange.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
) -> None:
    """Fetch what changed since the last sync and apply it to the banks.

    Exit status 1 if any exchange failed; the others are still synced.
    """
    if (name is None) == (not all_):
        fail("give an exchange NAME or --all")
    engine = state.engine()
    with engine.connect() as conn:
        infos = list_exchanges(conn)
    if all_:
        targets = [i for i in infos if i.enabled]
    else:
        targets = [i for i in infos if i.name == name]
        if not targets:
            fail(f"no exchange named {name!r}")
    vault = _vault() if any(i.has_credentials for i in targets) else None
    results: list[dict[str, object]] = []
    failed = False
    for info in targets:
        try:
            with _status(info.name, enabled=not as_json and err.is_terminal) as show:
                report = sync_exchange(engine, info.name, vault=vault, progress=show, actor=ACTOR)
        except (SyncFailed, NoSuchExchange) as exc:
            failed = True
            partial = exc.report.to_json() if isinstance(exc, SyncFailed) else {}
            results.append({**partial, "exchange": info.name, "error": str(exc)})
            if not as_json:
                err.print(f"[red]{info.name} failed:[/]", shown(str(exc)), highlight=False)
            continue
        results.append(report.to_json())
        if not as_json:
            out.print(f"{info.name}: {_summary(report)}", highlight=False)
    if as_json:
        print_json(results)
    if failed:
        raise typer.Exit(1)


@contextlib.contextmanager
def _status(name: str, *, enabled: bool) -> Iterator[Callable[[SyncReport], None] | None]:
    """A live progress line on a terminal; nothing in scripts and JSON mode."""
    if not enabled:
        yield None
        return
    with err.status(f"syncing {name}…") as status:
        yield lambda report: status.update(f"syncing {name}: {_summary(report)}")


def _summary(report: SyncReport) -> str:
    return (
        f"{report.fetched:,} fetched, {report.added:,} added, {report.updated:,} updated, "
        f"{report.deleted:,} deleted, {report.unchanged:,} unchanged, {report.ignored:,} ignored"
    )


@exchange_app.command("remove")
def exchange_remove(name: Annotated[str, typer.Argument(help="Exchange name.")]) -> None:
    """Remove an exchange, its credentials and the hashes only it supplied (the bank stays)."""
    try:
        with state.engine().begin() as conn:
            removed = remove_exchange(conn, name, actor=ACTOR)
    except NoSuchExchange as exc:
        fail(str(exc))
    out.print(f"removed exchange {name} and {removed:,} record(s)", highlight=False)
