"""From a notice to its decision, across both sides, in a real browser.

A notifier files a CSAM report about a message with an attachment; a reviewer logs in, opens
the queue, takes the top case (CSAM is always on top), finds the media shielded, decides; the
notifier's private status page then shows the decision. This is the loop DSA Arts. 16 and 17
promise, so it is tested end to end rather than piece by piece.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser.conftest import LiveApp


def submit_and_wait(page: Page, selector: str) -> int:
    """Click a submit button and wait for the page it leads to; that page's HTTP status."""
    with page.expect_navigation() as navigation:
        page.click(selector)
    response = navigation.value
    assert response is not None
    return response.status


def file_csam_report(page: Page, live_app: LiveApp) -> str:
    """File an anonymous CSAM notice about the seeded message with an attachment; its status
    link (kept, as the notifier is told to)."""
    page.goto(live_app("/report"))
    page.select_option("#target_kind", "message")
    page.fill("#target", live_app.message_link(live_app.media_message))
    page.select_option("#category", "csam")
    page.fill("#explanation", "An image of a child posted in the channel, with a sexual caption.")
    page.check("#good_faith")
    assert submit_and_wait(page, "form button[type=submit]") == 201
    return live_app(page.get_attribute("a.secret-link", "href") or "")


def test_a_reviewer_decides_the_top_case_and_the_notifier_sees_it(
    page: Page, live_app: LiveApp, offsite: list[str]
) -> None:
    status_link = file_csam_report(page, live_app)
    reference = page.inner_text(".receipt .reference")

    page.context.clear_cookies()
    page.goto(live_app("/console/login"))
    page.fill("input[name=username]", live_app.reviewer)
    page.fill("input[name=password]", live_app.password)
    submit_and_wait(page, "form.stack button[type=submit]")
    page.goto(live_app("/console/queue"))
    assert page.inner_text("h1") == "Case queue"
    top = page.locator("tbody tr").first
    assert top.locator(".cat").inner_text() == "csam", "CSAM is always on top"
    top.locator("a").first.click()
    page.wait_for_url(re.compile(r"/console/cases/\d+$"))
    assert reference in page.inner_text("section[aria-labelledby=reports]")

    # Media: a placeholder (Iolaus holds no image bytes), greyed; an image shown inside the
    # shield would be blurred and greyed by the stylesheet.
    shield = page.locator("figure.media-shield").first
    assert shield.is_visible()
    assert "grayscale" in shield.evaluate("e => getComputedStyle(e).filter")
    image_filter = shield.evaluate(
        """e => { const img = document.createElement('img'); e.appendChild(img);
                  const f = getComputedStyle(img).filter; img.remove(); return f; }"""
    )
    assert "blur" in image_filter and "grayscale" in image_filter, image_filter

    assert submit_and_wait(page, "form[action$='/lock'] button") == 200
    decide = page.locator("form[action$='/decide']")
    decide.locator("input[name=violation][value=yes]").check()
    decide.locator("select[name=category]").select_option("csam")
    decide.locator("input[name=ground][value=illegal]").check()
    decide.locator("input[name=legal_reference]").fill("18 U.S.C. § 2252; Directive 2011/93/EU")
    decide.locator("textarea[name=explanation]").fill("Sexualised image of a minor, confirmed.")
    decide.locator("input[name=actions][value=preserve_evidence]").check()
    assert submit_and_wait(page, "form[action$='/decide'] button[type=submit]") == 200
    assert page.locator("p.error").count() == 0, page.locator("p.error").all_inner_texts()
    decisions = page.inner_text("#decisions")
    assert "violation, csam (illegal)" in decisions and "preserve_evidence" in decisions

    page.context.clear_cookies()
    page.goto(status_link)
    assert page.inner_text("h1") == f"Report {reference}"
    assert "Decided: not yet" not in page.inner_text("ol.steps")
    assert "found to breach the law" in page.inner_text("main")
    assert offsite == [], offsite
