"""Console users: ``iolaus user create|list|disable|enable``."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from iolaus.cli.main import app, fail, out, print_json, state
from iolaus.model.cases import UserRole
from iolaus.store import audit
from iolaus.store.users import UserError, create_user, list_users, set_disabled

user_app = typer.Typer(help="Console users (admin, reviewer, legal, viewer).", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Option("--username", help="Login name.")],
    role: Annotated[UserRole, typer.Option(help="What the user may do in the console.")],
    password_env: Annotated[
        str | None,
        typer.Option(help="Read the password from this environment variable (for scripts)."),
    ] = None,
) -> None:
    """Create a console user. The password is asked twice, hidden, unless --password-env is given;
    it is never taken as a plain argument (it would show in the process list and shell history).
    """
    if password_env:
        password = os.environ.get(password_env, "")
        if not password:
            fail(f"environment variable {password_env} is empty or unset")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        with state.engine().begin() as conn:
            user = create_user(conn, username, password, role.value)
            audit.record(conn, "cli", "user.create", username, role=role.value)
    except UserError as exc:
        fail(str(exc))
    out.print(f"created {user.role.value} {user.username}", highlight=False)


@user_app.command("list")
def user_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List console users."""
    with state.engine().connect() as conn:
        found = list_users(conn)
    if as_json:
        print_json(
            [{"username": u.username, "role": u.role.value, "disabled": u.disabled} for u in found]
        )
        return
    table = Table(title=f"{len(found)} users")
    for column in ("username", "role", "status"):
        table.add_column(column)
    for u in found:
        table.add_row(u.username, u.role.value, "disabled" if u.disabled else "active")
    out.print(table)


def _toggle(username: str, disabled: bool) -> None:
    with state.engine().begin() as conn:
        if not set_disabled(conn, username, disabled):
            fail(f"no user {username!r}")
        audit.record(conn, "cli", "user.disable" if disabled else "user.enable", username)
    out.print(
        f"{username} {'disabled (sessions ended)' if disabled else 'enabled'}", highlight=False
    )


@user_app.command("disable")
def user_disable(username: str) -> None:
    """Disable a user and end their sessions at once."""
    _toggle(username, True)


@user_app.command("enable")
def user_enable(username: str) -> None:
    """Enable a disabled user."""
    _toggle(username, False)
