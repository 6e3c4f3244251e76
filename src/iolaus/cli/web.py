"""``iolaus serve`` (the HTTP API) and ``iolaus token`` (the bearer tokens it requires)."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer
from rich.table import Table

from iolaus import logs
from iolaus.cli.main import app, fail, out, print_json, state
from iolaus.model.access import Role
from iolaus.store import tokens as token_store
from iolaus.terminal import shown

token_app = typer.Typer(
    help="API tokens: one per client, with the least role it needs.", no_args_is_help=True
)
app.add_typer(token_app, name="token")

ACTOR = "cli"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the HMA-compatible HTTP API (/h, /m, /c) with OpenAPI docs at /docs.

    Every API call needs a token from `iolaus token create`. Remote fetching (?url=) is off
    unless IOLAUS_FETCH_ALLOWED_HOSTS lists the hosts it may reach.
    """
    import uvicorn

    from iolaus.web import create_app

    engine = state.engine()
    with engine.connect() as conn:
        active = token_store.list_tokens(conn, include_revoked=False)
    logs.configure(state.settings.log_level, state.settings.log_format)
    web_app = create_app(engine, state.settings)
    out.print(
        f"serving Iolaus on http://{host}:{port}: console at /console, report form at /report, "
        "API docs at /docs",
        highlight=False,
    )
    if not active:
        out.print("no API token yet: create one with `iolaus token create --name N --role R`")
    if not _is_loopback(host):
        out.print("listening beyond this machine: put the API behind a TLS-terminating proxy")
    uvicorn.run(
        web_app, host=host, port=port, server_header=False, log_level="info", access_log=False
    )


@token_app.command("create")
def token_create(
    name: Annotated[
        str, typer.Option(help="Who holds it, e.g. ci-matcher (shown in the audit log).")
    ],
    role: Annotated[Role, typer.Option(help="admin, curator, matcher, hasher or reporter.")],
    trusted_flagger: Annotated[
        bool, typer.Option("--trusted-flagger", help="Reports made with it are prioritised.")
    ] = False,
    expertise: Annotated[
        str | None,
        typer.Option(
            help="Trusted flagger's areas, e.g. csam,ncii: priority only for reports in them."
        ),
    ] = None,
) -> None:
    """Create a token and print it once: only a digest of it is stored."""
    try:
        with state.engine().begin() as conn:
            token_id, plaintext = token_store.create_token(
                conn,
                name,
                role,
                trusted_flagger=trusted_flagger,
                expertise=[a.strip() for a in (expertise or "").split(",") if a.strip()],
                actor=ACTOR,
            )
    except token_store.TokenError as exc:
        fail(str(exc))
        return
    out.print(f"token {token_id} ({name}, role {role.value}):", highlight=False)
    print(plaintext)  # alone on its line of plain stdout: `grep "^iol_"` captures it
    out.print("Store it now: it cannot be shown again. Revoke it with `iolaus token revoke ID`.")


@token_app.command("list")
def token_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List tokens (never their secrets), revoked ones included."""
    with state.engine().connect() as conn:
        found = token_store.list_tokens(conn)
    if as_json:
        print_json([t.to_json() for t in found])
        return
    table = Table(title=f"{len(found)} tokens")
    for column in ("id", "name", "role", "trusted flagger", "created", "last used", "revoked"):
        table.add_column(column)
    for t in found:
        table.add_row(
            str(t.id),
            shown(t.name, 40),
            t.role.value,
            "yes" if t.trusted_flagger else "",
            f"{t.created_at:%Y-%m-%d %H:%M}",
            f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
            f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "",
        )
    out.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="Id from `iolaus token list`.")],
) -> None:
    """Revoke a token: the next request made with it is refused."""
    try:
        with state.engine().begin() as conn:
            token = token_store.revoke_token(conn, token_id, actor=ACTOR)
    except token_store.TokenError as exc:
        fail(str(exc))
        return
    out.print(f"revoked token {token.id} ({token.name})", highlight=False)
