"""Who may reach what: every route of the app against every kind of caller.

``tests/web/test_auth.py`` proves that each HMA route *works* for the token roles that open it
(with real bodies). This matrix asks a narrower question of *every* route — HMA API, report
intake, console, health, docs — and of *every* caller: anonymous, each API token role and each
console role. Does the request get past the gate (allowed), or is it stopped with 401 (API),
403 (role or CSRF) or a 303 to the console login? Requests carry no useful body, so an allowed
call usually ends in a harmless 400/404/409: that still proves the gate let it through.

A route the table does not classify fails ``test_every_route_is_classified``: new routes must
be placed in the matrix deliberately, so nothing ends up public by accident.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from starlette.routing import Mount

from iolaus.model.access import GRANTS, Role, RouteGroup
from iolaus.model.cases import UserRole
from iolaus.store.engine import open_engine
from iolaus.store.migrate import ensure_schema
from iolaus.store.users import create_user
from iolaus.web.console.auth import SESSION_COOKIE
from iolaus.web.reports import REPORTER_ROLES
from tests.console.test_cases_pages import csrf, seed
from tests.console.test_console_auth import PASSWORD, _login
from tests.web.helpers import Api, make_api


class Outcome(StrEnum):
    """What the gate did: the only distinctions an authorization matrix cares about."""

    ALLOWED = "allowed"
    UNAUTHORIZED = "401"
    FORBIDDEN = "403"
    LOGIN = "303 to login"


ANONYMOUS = "anonymous"
TOKEN_CALLERS = [f"token:{role}" for role in Role]
CONSOLE_CALLERS = [f"console:{role}" for role in UserRole]
CALLERS = [ANONYMOUS, *TOKEN_CALLERS, *CONSOLE_CALLERS]
CONSOLE_USERS = {
    UserRole.ADMIN: "boss",  # created here; the others come from the console tests' seed
    UserRole.REVIEWER: "rev",
    UserRole.LEGAL: "law",
    UserRole.VIEWER: "view",
}
FORGED = "forged-csrf-token"
"""What a cross-site form would send: a CSRF value that is not the session's."""

Rule = Callable[[str], Outcome]


# -- rules: a caller → the outcome it must get -----------------------------------------------------


def public(_caller: str) -> Outcome:
    return Outcome.ALLOWED


def api(group: RouteGroup) -> Rule:
    """HMA routes: bearer token only; a console session is no credential here."""

    def rule(caller: str) -> Outcome:
        kind, _, role = caller.partition(":")
        if kind != "token":
            return Outcome.UNAUTHORIZED
        return Outcome.ALLOWED if group in GRANTS[Role(role)] else Outcome.FORBIDDEN

    return rule


def reporter(caller: str) -> Outcome:
    kind, _, role = caller.partition(":")
    if kind != "token":
        return Outcome.UNAUTHORIZED
    return Outcome.ALLOWED if Role(role) in REPORTER_ROLES else Outcome.FORBIDDEN


def console(*roles: UserRole) -> Rule:
    """Console pages: a session of one of ``roles`` (any role when none); others are sent to log
    in (no session) or refused (wrong role)."""

    def rule(caller: str) -> Outcome:
        kind, _, role = caller.partition(":")
        if kind != "console":
            return Outcome.LOGIN
        return Outcome.ALLOWED if not roles or UserRole(role) in roles else Outcome.FORBIDDEN

    return rule


def forged_csrf(caller: str) -> Outcome:
    """A console form without its CSRF token: refused for every session, whatever its role."""
    return Outcome.FORBIDDEN if caller.startswith("console:") else Outcome.LOGIN


def login_forged(_caller: str) -> Outcome:
    """The login form has no session yet; its double-submit token is all that guards it."""
    return Outcome.FORBIDDEN


DECIDERS = (UserRole.REVIEWER, UserRole.ADMIN)
REVEALERS = (UserRole.REVIEWER, UserRole.ADMIN, UserRole.LEGAL)


@dataclass(frozen=True)
class Call:
    """One row of the matrix. ``csrf`` is None for routes without a CSRF field, else whether
    the row sends the session's real token (True) or a forged one (False)."""

    method: str
    path: str
    rule: Rule
    csrf: bool | None = None
    query: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        suffix = "" if self.csrf is None else ("+csrf" if self.csrf else "-csrf")
        return f"{self.method} {self.path}{suffix}"


def _api_calls() -> list[Call]:
    groups = {"h": RouteGroup.HASH, "m": RouteGroup.MATCH, "c": RouteGroup.CURATE}
    routes = [
        ("GET", "/h/hash"),
        ("POST", "/h/hash"),
        ("GET", "/m/raw_lookup"),
        ("GET", "/m/lookup"),
        ("POST", "/m/lookup"),
        ("POST", "/m/lookup/batch"),
        ("GET", "/m/index/status"),
        ("POST", "/m/compare"),
        ("GET", "/c/banks"),
        ("POST", "/c/banks"),
        ("GET", "/c/bank/{name}"),
        ("PUT", "/c/bank/{name}"),
        ("DELETE", "/c/bank/{name}"),
        ("POST", "/c/bank/{name}/content"),
        ("POST", "/c/bank/{name}/signal"),
        ("GET", "/c/bank/{name}/content/{content_id}"),
        ("PUT", "/c/bank/{name}/content/{content_id}"),
        ("DELETE", "/c/bank/{name}/content/{content_id}"),
        ("GET", "/c/signal_type"),
        ("GET", "/c/content_type"),
    ]
    return [Call(method, path, api(groups[path[1]])) for method, path in routes]


def _console_posts(path: str, *roles: UserRole) -> list[Call]:
    return [Call("POST", path, forged_csrf, csrf=False), Call("POST", path, console(*roles), True)]


SECRET = {"secret": "{secret}"}
MATRIX: list[Call] = [
    Call("GET", "/", public),
    Call("GET", "/status", public),
    Call("GET", "/status/live", public),
    Call("GET", "/docs", public),
    Call("GET", "/openapi.json", public),
    *_api_calls(),
    Call("GET", "/report", public),
    Call("POST", "/report", public),  # its own signed CSRF: 400 without it, never a login
    Call("GET", "/report/status/{reference}", public, query=SECRET),
    Call("GET", "/api/reports/{reference}", public, query=SECRET),
    Call("POST", "/api/reports", reporter),
    Call("GET", "/appeal", public),
    Call("POST", "/appeal", public),  # its own signed CSRF, like the report form
    Call("GET", "/report/status/{reference}/appeal", public, query=SECRET),
    Call("POST", "/report/status/{reference}/appeal", public),
    Call("GET", "/appeal/status/{reference}", public, query=SECRET),
    Call("GET", "/console/login", public),
    Call("POST", "/console/login", login_forged, csrf=False),
    *_console_posts("/console/logout"),
    Call("GET", "/console", console()),
    Call("GET", "/console/queue", console()),
    Call("GET", "/console/cases/{case_id}", console()),
    *_console_posts("/console/cases/{case_id}/lock", *DECIDERS),
    *_console_posts("/console/cases/{case_id}/reveal", *REVEALERS),
    *_console_posts("/console/cases/{case_id}/decide", *DECIDERS),
    Call("GET", "/console/appeals", console()),
    *_console_posts("/console/appeals/{appeal_id}/decide", *DECIDERS),
]
PUBLIC_ROUTES = {(c.method, c.path) for c in MATRIX if c.rule is public}


# -- one app, one database, one session per caller -------------------------------------------------


@dataclass
class World:
    """The shared app and its callers, built once for the whole module (logins are Argon2-slow)."""

    app: FastAPI
    api: Api
    sessions: dict[UserRole, tuple[TestClient, str]]
    values: dict[str, Any]


def _session(app: FastAPI, username: str) -> tuple[TestClient, str]:
    """A logged-in client and its session's CSRF token (read from the home page's logout form)."""
    client = TestClient(app)
    _login(client, username)
    home = client.get("/console")
    assert home.status_code == 200, f"{username} could not log in"
    return client, csrf(home.text)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path: Path = tmp_path_factory.mktemp("matrix") / "iolaus.db"
    engine = open_engine(f"sqlite:///{path}")
    ensure_schema(engine, auto_migrate=True)
    seeded = seed(engine)
    with engine.begin() as conn:
        create_user(conn, CONSOLE_USERS[UserRole.ADMIN], PASSWORD, "admin")
    api_ = make_api(engine)
    app: FastAPI = api_.client.app  # type: ignore[assignment]
    filed = api_.post(
        "/api/reports",
        role=Role.REPORTER,
        json={
            "target_kind": "message",
            "target": "https://discord.com/channels/1/2/3",
            "category": "ncii",
            "explanation": "Route matrix fixture: a generated test notice.",
            "good_faith": True,
        },
    )
    assert filed.status_code == 201, filed.text
    values = {
        "name": "MATRIX_NO_SUCH_BANK",
        "content_id": 999_999,
        "case_id": seeded.csam_case,
        "appeal_id": 999_999,
        "reference": filed.json()["reference"],
        "secret": filed.json()["secret"],
    }
    sessions = {role: _session(app, name) for role, name in CONSOLE_USERS.items()}
    yield World(app, api_, sessions, values)
    for client, _ in sessions.values():
        client.close()
    api_.client.close()
    engine.dispose()


def classify(response: Response) -> Outcome:
    """The gate's verdict. A logout also answers 303 to the login page, but it clears the
    session cookie; a redirect that clears nothing is the gate sending a stranger to log in."""
    assert response.status_code < 500, response.text
    if response.status_code == 401:
        return Outcome.UNAUTHORIZED
    if response.status_code == 403:
        return Outcome.FORBIDDEN
    to_login = response.headers.get("location", "").split("?")[0] == "/console/login"
    ended = f"{SESSION_COOKIE}=" in response.headers.get("set-cookie", "")
    if response.status_code == 303 and to_login and not ended:
        return Outcome.LOGIN
    return Outcome.ALLOWED


def send(world: World, call: Call, caller: str) -> Response:
    url = call.path.format(**world.values)
    params = {k: v.format(**world.values) for k, v in call.query.items()}
    kind, _, role = caller.partition(":")
    headers: dict[str, str] = {}
    client = world.api.client
    token = FORGED
    if kind == "token":
        headers = world.api.headers(Role(role))
    elif kind == "console":
        client, token = world.sessions[UserRole(role)]
        if call.path == "/console/logout" and call.csrf:
            # A real logout ends the session: spend a throwaway one, keep the shared one.
            client, token = _session(world.app, CONSOLE_USERS[UserRole(role)])
    data: dict[str, str] | None = None
    if call.csrf is not None:
        data = {"csrf_token": token if call.csrf else FORGED}
        if call.path == "/console/login":
            data |= {"username": "rev", "password": PASSWORD}
    return client.request(
        call.method, url, params=params, headers=headers, data=data, follow_redirects=False
    )


def test_every_route_is_classified(world: World) -> None:
    """Every route the app serves (bar the static files) has a row; every row is a route."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI ≥ 0.16x: lazily included
    except ImportError:  # pragma: no cover - older FastAPI lists routes directly
        routes: list[Any] = list(world.app.routes)
    else:
        routes = list(iter_route_contexts(world.app.routes))
    served = set()
    for route in routes:
        if isinstance(getattr(route, "original_route", route), Mount) or route.path == "/static":
            continue
        methods = set(route.methods or ())
        if "GET" in methods:
            methods.discard("HEAD")  # Starlette's implicit HEAD for GET
        served |= {(method, route.path) for method in methods}
    assert served == {(call.method, call.path) for call in MATRIX}


OPEN_WITHOUT_LOGIN = {
    ("GET", "/"),
    ("GET", "/status"),
    ("GET", "/status/live"),
    ("GET", "/docs"),
    ("GET", "/openapi.json"),
    ("GET", "/report"),
    ("POST", "/report"),
    ("GET", "/report/status/{reference}"),  # with the report's secret
    ("GET", "/api/reports/{reference}"),  # with the report's secret
    ("GET", "/console/login"),
    ("GET", "/appeal"),  # DSA Art. 20: the affected account appeals without an account here
    ("POST", "/appeal"),
    ("GET", "/report/status/{reference}/appeal"),  # the notifier appeals, with the secret
    ("POST", "/report/status/{reference}/appeal"),
    ("GET", "/appeal/status/{reference}"),  # with the appeal's secret
}
"""Routes that answer a stranger by design (the login form's POST is guarded by its own
double-submit CSRF token, see ``login_forged``). Adding to this set is a security decision."""


def test_only_the_intended_routes_are_public() -> None:
    """A row marked ``public`` that is not on the reviewed list fails here, not in production."""
    assert OPEN_WITHOUT_LOGIN == PUBLIC_ROUTES


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("call", MATRIX, ids=[call.id for call in MATRIX])
def test_route_matrix(world: World, call: Call, caller: str) -> None:
    response = send(world, call, caller)
    assert classify(response) is call.rule(caller), (response.status_code, response.text[:200])


@pytest.mark.parametrize("role", list(UserRole))
def test_console_forms_without_a_csrf_field_are_refused(world: World, role: UserRole) -> None:
    """Omitting the field entirely is refused too (400 where the field is required, else 403),
    never carried out."""
    client, _ = world.sessions[role]
    for call in MATRIX:
        if call.csrf is False:
            url = call.path.format(**world.values)
            response = client.post(url, data={}, follow_redirects=False)
            assert response.status_code in (400, 403), (call.path, response.status_code)


def test_wrong_report_secret_reveals_nothing(world: World) -> None:
    """The status routes are public only with the secret: a wrong one is the same 404 as an
    unknown reference."""
    client = world.api.client
    reference = world.values["reference"]
    for path in (f"/report/status/{reference}", f"/api/reports/{reference}"):
        assert client.get(path, params={"secret": "wrong"}).status_code == 404
        assert client.get(path).status_code == 404
    assert re.fullmatch(r"R-[A-Z0-9]{10}", reference)
