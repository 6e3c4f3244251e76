"""The public appeal pages (DSA Art. 20) through HTTP: the notifier appeals from their report's
private link, the affected account with its statement of reasons; both follow the appeal by a
secret link. Wrong credentials get one answer; CSRF, rate limits and escaping hold."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from iolaus.legal.appeals import decide_appeal
from iolaus.legal.dsa import create_statements
from iolaus.model.cases import APPEAL_WINDOW
from iolaus.store.digest import secret_digest
from iolaus.store.tables import appeals, audit_log, reports, statements_of_reasons
from iolaus.web import appeals as appeal_pages
from iolaus.web.reports import ReportSettings
from iolaus.web.reports import register as register_reports
from tests.legal.test_dsa import DECIDED, Seeded, seed
from tests.web.helpers import Api, make_api

ACCOUNT = "111111111111111111"  # the platform id seed() gives the case's account
SECRET = "notifier-secret-0123456789abcdef"
NOTIFIER = "R-SEEDED0001"  # seed()'s reference is shorter than a real one, which the pages refuse
LINK = re.compile(r'href="(/appeal/status/(A-[A-Z0-9]{10})\?secret=([^"]+))"')


class Clock:
    """The appeal window is six months: tests move time rather than wait."""

    def __init__(self) -> None:
        self.now = DECIDED + timedelta(days=3)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def with_appeals(engine: Engine, clock: Clock, **settings: Any) -> Api:
    api = make_api(engine)
    register_reports(api.client.app, ReportSettings(**settings))
    appeal_pages.register(api.client.app, clock=clock)
    return api


@pytest.fixture
def web(sqlite_engine: Engine, clock: Clock) -> Api:
    return with_appeals(sqlite_engine, clock)


@pytest.fixture
def seeded(sqlite_engine: Engine) -> Seeded:
    """A decided case with a notifier whose secret is ``SECRET`` and a statement of reasons."""
    with sqlite_engine.begin() as conn:
        found = seed(conn, actions=[{"kind": "remove_content"}, {"kind": "ban_accounts"}])
        conn.execute(
            update(reports)
            .where(reports.c.reference == found.report_reference)
            .values(reference=NOTIFIER, secret_hash=secret_digest(SECRET))
        )
        create_statements(conn, found.decision_id, now=DECIDED)
    return found


def puid_of(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(select(statements_of_reasons.c.puid).limit(1)).scalar_one())


def token_of(page: Any) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def appeal_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(appeals)).scalar_one())


def account_appeal(api: Api, **changes: str) -> Any:
    data = {"reason": "It was satire.", "csrf_token": token_of(api.client.get("/appeal"))}
    return api.client.post("/appeal", data={**data, **changes})


# -- the affected account ---------------------------------------------------------------------


def test_the_account_form_is_strict(web: Api) -> None:
    page = web.client.get("/appeal")
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text
    cookie = page.headers["set-cookie"].lower()
    assert "iolaus_csrf" in cookie and "samesite=strict" in cookie and "path=/appeal" in cookie


def test_the_affected_account_appeals_and_follows_it(
    web: Api, sqlite_engine: Engine, seeded: Seeded
) -> None:
    page = account_appeal(web, puid=puid_of(sqlite_engine), account=ACCOUNT)
    assert page.status_code == 201, page.text
    link = LINK.search(page.text)
    assert link
    with sqlite_engine.connect() as conn:
        row = conn.execute(select(appeals)).one()
        logged = conn.execute(select(audit_log)).all()
    assert row.appellant == ACCOUNT and row.reference == link.group(2)
    assert all(ACCOUNT not in (r.details or "") + r.actor for r in logged)
    assert all("satire" not in (r.details or "") for r in logged)

    status = web.client.get(link.group(1))
    assert status.status_code == 200 and "Open" in status.text
    with sqlite_engine.begin() as conn:
        decide_appeal(
            conn, row.id, seeded.second_reviewer_id, False, "<b>Still illegal</b>", web_now()
        )
    decided = web.client.get(link.group(1))
    assert "Upheld" in decided.text and "&lt;b&gt;Still illegal&lt;/b&gt;" in decided.text
    assert "<b>Still illegal" not in decided.text


def web_now() -> datetime:
    return DECIDED + timedelta(days=5)


def test_wrong_puid_or_account_get_one_answer(
    web: Api, sqlite_engine: Engine, seeded: Seeded
) -> None:
    puid = puid_of(sqlite_engine)
    wrong_account = account_appeal(web, puid=puid, account="222222222222222222")
    wrong_puid = account_appeal(web, puid="no-such-statement", account=ACCOUNT)
    assert wrong_account.status_code == wrong_puid.status_code == 400
    message = appeal_pages.NO_STANDING.split(".")[0]
    assert message in wrong_account.text and message in wrong_puid.text
    assert appeal_count(sqlite_engine) == 0


def test_the_account_form_checks_its_fields_before_any_lookup(
    web: Api, sqlite_engine: Engine, seeded: Seeded
) -> None:
    """The reason is named first; a malformed id gets the one answer a wrong id gets."""
    puid = puid_of(sqlite_engine)
    for reason in ("   ", "x" * (appeal_pages.MAX_REASON + 1)):
        refused = account_appeal(web, puid=puid, account=ACCOUNT, reason=reason)
        assert refused.status_code == 400 and "Give your reasons" in refused.text
    for puid_given, account in ((puid, "not an id"), ("bad puid!", ACCOUNT), (puid, "")):
        refused = account_appeal(web, puid=puid_given, account=account, reason="x" * 6000)
        assert refused.status_code == 400 and "Give your reasons" in refused.text
        refused = account_appeal(web, puid=puid_given, account=account)
        assert refused.status_code == 400
        assert appeal_pages.NO_STANDING.split(".")[0] in refused.text
    assert appeal_count(sqlite_engine) == 0


def test_the_account_form_needs_csrf_and_the_window(
    web: Api, sqlite_engine: Engine, seeded: Seeded, clock: Clock
) -> None:
    puid = puid_of(sqlite_engine)
    forged = web.client.post(
        "/appeal", data={"puid": puid, "account": ACCOUNT, "reason": "x", "csrf_token": "1.ab"}
    )
    assert forged.status_code == 400 and "expired" in forged.text
    clock.now = DECIDED + APPEAL_WINDOW + timedelta(days=1)
    late = account_appeal(web, puid=puid, account=ACCOUNT)
    assert late.status_code == 400 and "window closed" in late.text
    assert "decision " + str(seeded.decision_id) not in late.text
    assert appeal_count(sqlite_engine) == 0


def test_the_account_form_is_rate_limited(sqlite_engine: Engine, clock: Clock) -> None:
    api = with_appeals(sqlite_engine, clock, submit_limit="2/600")
    for _ in range(2):
        assert account_appeal(api, puid="p", account="1").status_code == 400
    refused = account_appeal(api, puid="p", account="1")
    assert refused.status_code == 429 and "retry-after" in refused.headers


# -- the notifier -----------------------------------------------------------------------------


def test_the_status_page_offers_the_appeal(web: Api, seeded: Seeded) -> None:
    reference = NOTIFIER
    status = web.client.get(f"/report/status/{reference}?secret={SECRET}")
    assert status.status_code == 200
    assert f'action="/report/status/{reference}/appeal"' in status.text
    assert "Appeal this decision" in status.text


def test_the_notifier_appeals_from_the_report_link(
    web: Api, sqlite_engine: Engine, seeded: Seeded
) -> None:
    reference = NOTIFIER
    form = web.client.get(f"/report/status/{reference}/appeal?secret={SECRET}")
    assert form.status_code == 200 and "Appeal this decision" in form.text
    assert "path=/report" in form.headers["set-cookie"].lower()
    data = {"secret": SECRET, "reason": "Not enough was done.", "csrf_token": token_of(form)}
    page = web.client.post(f"/report/status/{reference}/appeal", data=data)
    assert page.status_code == 201, page.text
    link = LINK.search(page.text)
    assert link and web.client.get(link.group(1)).status_code == 200
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(appeals.c.appellant)).scalar_one() == reference
    again = web.client.post(f"/report/status/{reference}/appeal", data=data)
    assert again.status_code == 400 and "already have an open appeal" in again.text


def test_the_notifier_needs_the_secret_and_csrf(
    web: Api, sqlite_engine: Engine, seeded: Seeded
) -> None:
    reference = NOTIFIER
    form = web.client.get(f"/report/status/{reference}/appeal?secret={SECRET}")
    wrong = web.client.get(f"/report/status/{reference}/appeal?secret=nope")
    unknown = web.client.get(f"/report/status/R-AAAAAAAAAA/appeal?secret={SECRET}")
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.text == unknown.text
    data = {"secret": "nope", "reason": "Not enough.", "csrf_token": token_of(form)}
    assert web.client.post(f"/report/status/{reference}/appeal", data=data).status_code == 404
    forged = {"secret": SECRET, "reason": "Not enough.", "csrf_token": "1.ab"}
    refused = web.client.post(f"/report/status/{reference}/appeal", data=forged)
    assert refused.status_code == 400 and "expired" in refused.text
    assert appeal_count(sqlite_engine) == 0


def test_no_appeal_after_the_window(
    web: Api, sqlite_engine: Engine, seeded: Seeded, clock: Clock
) -> None:
    clock.now = DECIDED + APPEAL_WINDOW + timedelta(days=1)
    page = web.client.get(f"/report/status/{NOTIFIER}/appeal?secret={SECRET}")
    assert page.status_code == 200 and "window closed" in page.text
    assert 'name="reason"' not in page.text


def test_no_appeal_before_a_decision(web: Api, sqlite_engine: Engine) -> None:
    form = web.client.get("/report")
    data = {
        "target_kind": "message",
        "target": "https://discord.com/channels/111/222/333",
        "category": "ncii",
        "explanation": "Photos of a former partner posted without her consent.",
        "good_faith": "yes",
        "csrf_token": token_of(form),
    }
    filed = web.client.post("/report", data=data)
    link = re.search(r'href="/report/status/(R-[A-Z0-9]{10})\?secret=([^"]+)"', filed.text)
    assert link
    status = web.client.get(f"/report/status/{link.group(1)}?secret={link.group(2)}")
    assert "No appeal is possible yet" in status.text
    page = web.client.get(f"/report/status/{link.group(1)}/appeal?secret={link.group(2)}")
    assert page.status_code == 200 and "not been decided yet" in page.text
    assert 'name="reason"' not in page.text


# -- following an appeal ----------------------------------------------------------------------


def test_wrong_appeal_secret_and_unknown_reference_look_alike(
    web: Api, sqlite_engine: Engine, seeded: Seeded
) -> None:
    page = account_appeal(web, puid=puid_of(sqlite_engine), account=ACCOUNT)
    link = LINK.search(page.text)
    assert link
    wrong = web.client.get(f"/appeal/status/{link.group(2)}?secret=nope")
    unknown = web.client.get(f"/appeal/status/A-AAAAAAAAAA?secret={link.group(3)}")
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.text.replace(link.group(2), "A-AAAAAAAAAA") == unknown.text
