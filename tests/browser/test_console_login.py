"""The reviewers' console in a real browser: logging in and out, a wrong password, the home page
of communities ranked by risk, and the two layers against script injection — escaping, and a
CSP that would still stop an inline script if escaping ever failed.

Only a browser shows that the session cookie (``HttpOnly``, ``SameSite=Strict``) is really sent
back after the login redirect, and that the CSP is enforced rather than merely present.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import ConsoleMessage, Page, Route

    from tests.browser.conftest import LiveApp

INJECTED = "<script>window.__pwned=1</script>"


def log_in(page: Page, live_app: LiveApp, password: str | None = None) -> None:
    page.goto(live_app("/console/login"))
    page.fill("input[name=username]", live_app.reviewer)
    page.fill("input[name=password]", password or live_app.password)
    with page.expect_navigation():
        page.click("form.stack button[type=submit]")


def pwned(page: Page) -> bool:
    """Whether any injected script ran on the page."""
    return bool(page.evaluate("() => typeof window.__pwned !== 'undefined'"))


def test_a_reviewer_logs_in_sees_communities_by_risk_and_logs_out(
    page: Page, live_app: LiveApp, shoot: Callable[[Page, str], Path], offsite: list[str]
) -> None:
    page.goto(live_app("/console"))
    assert page.url == live_app("/console/login"), "the console is closed without a session"

    log_in(page, live_app)
    assert page.url == live_app("/console")
    assert page.inner_text("h1") == "Communities by risk"
    assert page.inner_text("header .who") == f"{live_app.reviewer} · reviewer"
    rows = page.locator("tbody tr")
    assert rows.count() >= 3
    first = rows.first
    assert live_app.risky_community in first.inner_text()
    assert re.search(r"\d\.\d\d (high|critical)", first.locator("td").nth(1).inner_text())
    session = [c for c in page.context.cookies() if c["name"] == "iolaus_session"]
    assert session and session[0]["httpOnly"] and session[0]["sameSite"] == "Strict"
    shoot(page, "iolaus-console.png")

    with page.expect_navigation():
        page.click("header form button[type=submit]")
    assert page.url == live_app("/console/login")
    page.goto(live_app("/console"))
    assert page.url == live_app("/console/login"), "the session ended with the logout"
    assert offsite == [], offsite


def test_a_wrong_password_shows_the_error_and_opens_nothing(page: Page, live_app: LiveApp) -> None:
    log_in(page, live_app, password="not the password at all")
    assert page.url == live_app("/console/login?error=1")
    assert page.inner_text("p.error[role=alert]") == "Wrong user name or password."
    assert not any(c["name"] == "iolaus_session" for c in page.context.cookies())
    page.goto(live_app("/console"))
    assert page.url == live_app("/console/login")


def test_a_community_named_with_markup_is_shown_as_text(page: Page, live_app: LiveApp) -> None:
    log_in(page, live_app)
    row = page.locator("tbody tr", has_text="Evil")
    assert row.count() == 1
    assert live_app.payload in row.locator("td").first.inner_text()
    assert page.locator("main img, main script").count() == 0
    assert not pwned(page)


def test_the_csp_blocks_an_inline_script_that_escaping_let_through(
    page: Page, live_app: LiveApp
) -> None:
    """Simulate an escaping bug: the home page's HTML arrives with an inline script added (the
    server's headers untouched). The CSP (``script-src 'self'``) must refuse to run it."""
    log_in(page, live_app)
    errors: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    def inject(route: Route) -> None:
        response = route.fetch()
        assert "content-security-policy" in response.headers
        body = response.text().replace("</main>", f"{INJECTED}</main>")
        route.fulfill(response=response, body=body)

    page.on("console", record)
    page.route(live_app("/console"), inject)
    page.goto(live_app("/console"))
    assert page.locator("main script").count() == 1, "the script was injected"
    assert not pwned(page)
    assert any("Content Security Policy" in text for text in errors), errors
