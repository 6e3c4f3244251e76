"""The console's front door: login, sessions, CSRF, CSP, escaping, roles, audit."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from iolaus.store.audit import recent
from iolaus.store.tables import communities, platforms
from iolaus.store.users import create_user
from iolaus.web.app import create_app

PASSWORD = "correct horse battery"


def _login(client: TestClient, username: str = "rev", password: str = PASSWORD) -> None:
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]  # type: ignore[index]
    client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def test_login_session_csrf_and_escaping(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        create_user(conn, "rev", PASSWORD, "reviewer")
        platform_id = conn.execute(
            platforms.insert().values(name="discord").returning(platforms.c.id)
        ).scalar_one()
        conn.execute(
            communities.insert().values(
                platform_id=platform_id,
                external_id="1",
                name="<script>alert(1)</script>",
                nsfw_level="default",
                status="active",
                observed_at=datetime.now(UTC),
            )
        )
    client = TestClient(create_app(sqlite_engine))

    response = client.get("/console", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/console/login"

    page = client.get("/console/login")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]  # type: ignore[index]
    forged = client.post(
        "/console/login",
        data={"username": "rev", "password": PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    wrong = client.post(
        "/console/login",
        data={"username": "rev", "password": "not the password", "csrf_token": token},
        follow_redirects=False,
    )
    assert wrong.headers["location"] == "/console/login?error=1"
    ok = client.post(
        "/console/login",
        data={"username": "rev", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    cookie = ok.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")

    home = client.get("/console")
    assert home.status_code == 200
    assert "<script>alert(1)</script>" not in home.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home.text

    assert client.post("/console/logout", data={"csrf_token": "nope"}).status_code == 403
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home.text)[1]  # type: ignore[index]
    out = client.post("/console/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/console", follow_redirects=False).status_code == 303

    with sqlite_engine.connect() as conn:
        actions = [entry["action"] for entry in recent(conn)]
    assert {"console.login_failed", "console.login", "console.view", "console.logout"} <= set(
        actions
    )
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(communities.c.id)).scalar_one()


def test_static_css_is_served(sqlite_engine: Engine) -> None:
    client = TestClient(create_app(sqlite_engine))
    css = client.get("/static/console.css")
    assert css.status_code == 200 and "blur" in css.text
