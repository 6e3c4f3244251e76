"""Bearer tokens on the HTTP API: every route against no token and every role."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from iolaus.model.access import GRANTS, Role, RouteGroup
from iolaus.store import tokens as token_store
from tests.web.helpers import Api, LocalServer, local_server, png, random_pdq

PHOTO = png(4)
HASH = random_pdq(4)

# (method, OpenAPI path, route group, request options). Path parameters default to the bank
# MATRIX and its one item; "path" in the options overrides them. {port} is the local server's,
# {n} a fresh number per request.
Request = tuple[str, str, RouteGroup, dict[str, Any]]
URL = {"url": "http://127.0.0.1:{port}/p.png"}
UPLOAD = {"files": {"photo": ("p.png", PHOTO, "image/png")}}
ROUTES: list[Request] = [
    ("GET", "/h/hash", RouteGroup.HASH, {"params": URL}),
    ("POST", "/h/hash", RouteGroup.HASH, UPLOAD),
    ("GET", "/m/raw_lookup", RouteGroup.MATCH, {"params": {"signal_type": "pdq", "signal": HASH}}),
    ("GET", "/m/lookup", RouteGroup.MATCH, {"params": {"signal_type": "pdq", "signal": HASH}}),
    ("GET", "/m/lookup", RouteGroup.MATCH, {"params": URL}),
    ("POST", "/m/lookup", RouteGroup.MATCH, UPLOAD),
    ("POST", "/m/lookup/batch", RouteGroup.MATCH, {"json": {"signal_type": "pdq", "signals": []}}),
    ("GET", "/m/index/status", RouteGroup.MATCH, {}),
    ("POST", "/m/compare", RouteGroup.MATCH, {"json": {"pdq": [HASH, HASH]}}),
    ("GET", "/c/banks", RouteGroup.CURATE, {}),
    ("POST", "/c/banks", RouteGroup.CURATE, {"json": {"name": "NEW_{n}"}}),
    ("GET", "/c/bank/{name}", RouteGroup.CURATE, {}),
    ("PUT", "/c/bank/{name}", RouteGroup.CURATE, {"json": {"enabled": True}}),
    ("DELETE", "/c/bank/{name}", RouteGroup.CURATE, {"path": {"name": "GONE_{n}"}}),
    ("POST", "/c/bank/{name}/content", RouteGroup.CURATE, UPLOAD),
    ("POST", "/c/bank/{name}/content", RouteGroup.CURATE, {"params": URL}),
    ("POST", "/c/bank/{name}/signal", RouteGroup.CURATE, {"json": {"pdq": random_pdq(5)}}),
    ("GET", "/c/bank/{name}/content/{content_id}", RouteGroup.CURATE, {}),
    (
        "PUT",
        "/c/bank/{name}/content/{content_id}",
        RouteGroup.CURATE,
        {"json": {"disable_until_ts": 1}},
    ),
    (
        "DELETE",
        "/c/bank/{name}/content/{content_id}",
        RouteGroup.CURATE,
        {"path": {"content_id": "999999"}},
    ),
    ("GET", "/c/signal_type", RouteGroup.CURATE, {}),
    ("GET", "/c/content_type", RouteGroup.CURATE, {}),
]


def _filled(value: Any, **values: Any) -> Any:
    """``value`` with {placeholders} in its strings filled in, recursively."""
    if isinstance(value, str):
        return value.format(**values)
    if isinstance(value, dict):
        return {k: _filled(v, **values) for k, v in value.items()}
    return value


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with local_server({"/p.png": (200, {"Content-Type": "image/png"}, PHOTO)}) as running:
        yield running


def test_every_api_route_is_in_the_matrix(sqlite_api: Api) -> None:
    spec = sqlite_api.client.app.openapi()  # type: ignore[attr-defined]
    documented = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if path.startswith(("/h/", "/m/", "/c/"))
    }
    assert documented == {(method, path) for method, path, _, _ in ROUTES}


def test_authorization_matrix(sqlite_api: Api, server: LocalServer) -> None:
    api = sqlite_api
    assert api.post("/c/banks", json={"name": "MATRIX"}).status_code == 201
    content_id = api.post("/c/bank/MATRIX/signal", json={"pdq": HASH}).json()["id"]
    fresh = iter(range(1_000_000))
    failures = []
    for method, path, group, options in ROUTES:
        for role in (None, *Role):
            n = next(fresh)
            sent = _filled(options, port=server.port, n=n)
            values = {"name": "MATRIX", "content_id": content_id, **sent.pop("path", {})}
            status = api.call(method, path.format(**values), role, **sent).status_code
            expected = 401 if role is None else (200 if group in GRANTS[role] else 403)
            if status != expected and not (expected == 200 and status == 201):
                failures.append((method, path, options, role, status))
    assert failures == []


def test_missing_and_bad_tokens_are_401_with_a_challenge(sqlite_api: Api) -> None:
    client = sqlite_api.client
    for headers in (
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "Bearer iol_" + "x" * 43},
        {"Authorization": "Bearer iol_" + "x" * 10_000},
    ):
        response = client.get("/c/banks", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        assert set(response.json()) == {"message"}
    lower = {"Authorization": f"bearer {sqlite_api.tokens[Role.ADMIN]}"}
    assert client.get("/c/banks", headers=lower).status_code == 200


def test_forbidden_names_the_role(sqlite_api: Api) -> None:
    response = sqlite_api.get("/c/banks", role=Role.MATCHER)
    assert response.json() == {"message": "role 'matcher' may not use /c routes"}
    assert sqlite_api.get("/m/index/status", role=Role.REPORTER).status_code == 403


def test_revoked_token_is_refused_at_once(sqlite_api: Api) -> None:
    engine = sqlite_api.client.app.state.services.engine  # type: ignore[attr-defined]
    assert sqlite_api.get("/c/banks", role=Role.CURATOR).status_code == 200
    with engine.begin() as conn:
        [curator] = [t for t in token_store.list_tokens(conn) if t.role is Role.CURATOR]
        token_store.revoke_token(conn, curator.id)
    response = sqlite_api.get("/c/banks", role=Role.CURATOR)
    assert (response.status_code, response.json()) == (401, {"message": "Invalid or revoked token"})


def test_roles_nest() -> None:
    """Each role can do everything the role below it can."""
    chain = [Role.ADMIN, Role.CURATOR, Role.MATCHER, Role.HASHER, Role.REPORTER]
    for higher, lower in itertools.pairwise(chain):
        assert GRANTS[lower] <= GRANTS[higher]
    assert GRANTS[Role.ADMIN] == frozenset(RouteGroup)
    assert GRANTS[Role.REPORTER] == frozenset()
    for granted in GRANTS.values():  # lookups by file (?url=, upload) hash first
        assert RouteGroup.MATCH not in granted or RouteGroup.HASH in granted
