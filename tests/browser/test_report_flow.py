"""A notifier's path through the public report form in a real browser (DSA Art. 16).

The form must work with no script at all (its CSP forbids every script), so these tests only
type, click and read, as a person would: file a notice, keep the reference and the private
link, follow it; file anonymously about CSAM; get a clear list of errors and no stored report
when the notice is incomplete; and see markup typed into the form come back as inert text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from iolaus.store.tables import reports

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page

    from tests.browser.conftest import LiveApp

EXPLANATION = "Photos of a former partner posted without her consent, shared again on request."
LINK = re.compile(r"/report/status/(R-[A-Z0-9]{10})\?secret=(\S+)")


def fill_form(page: Page, live_app: LiveApp, **fields: Any) -> None:
    """Open the form and fill it; a field given as None is left untouched (empty)."""
    values: dict[str, Any] = {
        "target_kind": "message",
        "target": live_app.message_link(),
        "category": "ncii",
        "explanation": EXPLANATION,
        "notifier_name": "Jo Notifier",
        "notifier_email": "jo@example.org",
        "good_faith": True,
        **fields,
    }
    page.goto(live_app("/report"))
    for name in ("target_kind", "category"):
        if values[name] is not None:
            page.select_option(f"#{name}", values[name])
    for name in ("target", "explanation", "notifier_name", "notifier_email"):
        if values[name] is not None:
            page.fill(f"#{name}", values[name])
    if values["good_faith"]:
        page.check("#good_faith")


def send(page: Page) -> int:
    """Submit the form the way a person does; the HTTP status of the page that came back."""
    with page.expect_navigation() as navigation:
        page.click("button[type=submit]")
    response = navigation.value
    assert response is not None
    return response.status


def stored(live_app: LiveApp) -> int:
    with live_app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(reports)).scalar_one())


def row(live_app: LiveApp, reference: str) -> Any:
    with live_app.engine.connect() as conn:
        return conn.execute(select(reports).where(reports.c.reference == reference)).one()


def pwned(page: Page) -> bool:
    """Whether any injected script ran on the page."""
    return bool(page.evaluate("() => typeof window.__pwned !== 'undefined'"))


def test_a_notifier_files_a_report_and_follows_its_private_link(
    page: Page, live_app: LiveApp, shoot: Callable[[Page, str], Path], offsite: list[str]
) -> None:
    page.goto(live_app("/report"))
    assert page.title() == "Report illegal content · Iolaus"
    shoot(page, "iolaus-report.png")

    fill_form(page, live_app)
    assert send(page) == 201
    assert page.inner_text("h1") == "Thank you: your report was received"
    reference = page.inner_text(".receipt .reference")
    link = page.inner_text("a.secret-link")
    found = LINK.fullmatch(link)
    assert found and found.group(1) == reference

    stored_row = row(live_app, reference)
    assert stored_row.community_id is not None, "the Discord link did not resolve to the guild"
    assert stored_row.message_id is not None and stored_row.case_id is not None

    page.click("a.secret-link")
    page.wait_for_url(re.compile(rf"/report/status/{reference}\?secret="))
    assert page.inner_text("h1") == f"Report {reference}"
    assert page.locator(".secret-link").count() == 0, "the secret is shown once, on receipt"
    facts = page.inner_text("dl.facts")
    assert "message" in facts and "ncii" in facts and stored_row.status in facts
    assert page.locator("ol.steps li.done").first.inner_text().startswith("Received:")
    assert "Decided: not yet" in page.inner_text("ol.steps")
    assert offsite == [], offsite

    page.goto(live_app(f"/report/status/{reference}?secret=wrong"))
    assert "No report with this reference and secret." in page.inner_text("main")


def test_a_csam_report_needs_no_name_or_email(page: Page, live_app: LiveApp) -> None:
    fill_form(page, live_app, category="csam", notifier_name=None, notifier_email=None)
    assert send(page) == 201
    reference = page.inner_text(".receipt .reference")
    stored_row = row(live_app, reference)
    assert stored_row.category == "csam"
    assert stored_row.notifier_name is None and stored_row.notifier_email is None


def test_an_invalid_report_lists_its_errors_and_stores_nothing(
    page: Page, live_app: LiveApp
) -> None:
    before = stored(live_app)
    fill_form(page, live_app, target="", explanation="too short", good_faith=False)
    assert send(page) == 400
    alert = page.locator(".errors[role=alert]")
    assert alert.is_visible()
    assert "Your report was not sent" in alert.inner_text()
    assert {a.get_attribute("href") for a in alert.locator("a").all()} == {
        "#target",
        "#explanation",
        "#good_faith",
    }
    for name in ("target", "explanation", "good_faith"):
        assert page.get_attribute(f"#{name}", "aria-invalid") == "true"
    # What the notifier typed is kept, so only the mistakes need fixing.
    assert page.input_value("#explanation") == "too short"
    assert page.input_value("#notifier_email") == "jo@example.org"
    assert stored(live_app) == before


def test_markup_typed_into_the_form_stays_text(page: Page, live_app: LiveApp) -> None:
    payload = live_app.payload
    # Refused (no good faith): every field comes back, in attributes and in the textarea.
    fill_form(
        page,
        live_app,
        target=payload,
        explanation=payload,
        notifier_name=payload,
        good_faith=False,
    )
    assert send(page) == 400
    assert page.input_value("#explanation") == payload
    assert page.input_value("#target") == payload
    assert page.input_value("#notifier_name") == payload
    assert page.locator("main img, main script").count() == 0
    assert not pwned(page)

    # Accepted: the explanation and name are stored verbatim, and neither the receipt nor
    # the status page renders them as markup.
    fill_form(page, live_app, explanation=payload, notifier_name=payload)
    assert send(page) == 201
    reference = page.inner_text(".receipt .reference")
    assert row(live_app, reference).explanation == payload
    assert not pwned(page)
    page.click("a.secret-link")
    page.wait_for_load_state()
    assert page.inner_text("h1") == f"Report {reference}"
    assert page.locator("main img, main script").count() == 0
    assert not pwned(page)
