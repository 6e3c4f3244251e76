"""The report pages and API through HTTP: the public form (CSRF, rate limit, escaping, CSP),
the token API (roles, trusted flaggers, CSAM to the top) and the secret status links."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from iolaus.cases import queue
from iolaus.model.access import Role
from iolaus.model.clock import FixedClock
from iolaus.store.tables import rate_limit_windows, reports
from iolaus.store.tokens import create_token
from iolaus.web.ratelimit import RateLimit
from iolaus.web.reports import ReportSettings, register
from tests.web.helpers import Api, make_api

REPORT: dict[str, Any] = {
    "target_kind": "message",
    "target": "https://discord.com/channels/111/222/333",
    "category": "ncii",
    "explanation": "Photos of a former partner posted without her consent.",
    "good_faith": True,
}


def with_reports(engine: Engine, **settings: Any) -> Api:
    api = make_api(engine)
    register(api.client.app, ReportSettings(**settings))
    return api


@pytest.fixture
def web(sqlite_engine: Engine) -> Api:
    return with_reports(sqlite_engine)


def form_token(api: Api) -> str:
    page = api.client.get("/report")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def submit_form(api: Api, **changes: Any) -> Any:
    data = {**REPORT, "good_faith": "yes", "csrf_token": form_token(api), **changes}
    return api.client.post("/report", data={k: v for k, v in data.items() if v is not None})


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(reports)).scalar_one())


def test_the_form_is_strict_and_self_contained(web: Api) -> None:
    page = web.client.get("/report")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "<script" not in page.text and "http" not in page.text.split("</head>")[0]
    assert "iolaus_csrf" in page.headers["set-cookie"].lower()
    assert "samesite=strict" in page.headers["set-cookie"].lower()
    assert web.client.get("/static/iolaus.css").status_code == 200


def test_a_form_report_gives_a_reference_and_a_private_link(
    web: Api, sqlite_engine: Engine
) -> None:
    page = submit_form(web, category="csam")
    assert page.status_code == 201
    link = re.search(r'href="(/report/status/(R-[A-Z0-9]{10})\?secret=([^"]+))"', page.text)
    assert link
    status = web.client.get(link.group(1))
    assert status.status_code == 200 and link.group(2) in status.text
    wrong = web.client.get(f"/report/status/{link.group(2)}?secret=nope")
    unknown = web.client.get(f"/report/status/R-AAAAAAAAAA?secret={link.group(3)}")
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.text.replace(link.group(2), "R-AAAAAAAAAA") == unknown.text
    assert stored(sqlite_engine) == 1


def test_errors_are_shown_escaped_and_nothing_is_stored(web: Api, sqlite_engine: Engine) -> None:
    page = submit_form(web, target='"><script>alert(1)</script>', good_faith=None)
    assert page.status_code == 400
    assert "<script>alert" not in page.text
    assert "&#34;&gt;&lt;script&gt;" in page.text  # the value comes back, escaped
    assert "good faith" in page.text and 'aria-invalid="true"' in page.text
    assert stored(sqlite_engine) == 0


def test_a_post_without_the_csrf_token_is_refused(web: Api, sqlite_engine: Engine) -> None:
    form_token(web)  # the visitor has a cookie, but the request carries no token
    refused = web.client.post("/report", data={**REPORT, "good_faith": "yes"})
    forged = submit_form(web, csrf_token="1.deadbeef")
    assert refused.status_code == forged.status_code == 400
    assert "expired" in refused.text
    token = form_token(web)
    web.client.cookies.clear()  # a token without its cookie is worthless
    data = {**REPORT, "good_faith": "yes", "csrf_token": token}
    assert web.client.post("/report", data=data).status_code == 400
    assert stored(sqlite_engine) == 0


def test_the_form_is_rate_limited_per_address(sqlite_engine: Engine) -> None:
    api = with_reports(sqlite_engine, submit_limit="2/600")
    assert [submit_form(api).status_code for _ in range(2)] == [201, 201]
    limited = submit_form(api)
    assert limited.status_code == 429
    assert 0 < int(limited.headers["retry-after"]) <= 600
    assert stored(sqlite_engine) == 2


def test_the_api_needs_a_reporter_token(web: Api) -> None:
    assert web.post("/api/reports", role=None, json=REPORT).status_code == 401
    assert web.post("/api/reports", role=Role.CURATOR, json=REPORT).status_code == 403
    assert web.post("/api/reports", role=Role.ADMIN, json=REPORT).status_code == 201


def test_the_api_explains_refusals(web: Api) -> None:
    reply = web.post("/api/reports", role=Role.REPORTER, json={**REPORT, "category": "other"})
    assert reply.status_code == 400 and set(reply.json()["errors"]) == {"category"}
    reply = web.post("/api/reports", role=Role.REPORTER, json={**REPORT, "good_faith": False})
    assert reply.status_code == 400 and "good_faith" in reply.json()["errors"]


def test_api_status_by_secret(api: Api) -> None:
    register(api.client.app, ReportSettings())
    filed = api.post("/api/reports", role=Role.REPORTER, json=REPORT).json()
    status = api.get(f"/api/reports/{filed['reference']}?secret={filed['secret']}", role=None)
    assert status.status_code == 200
    assert status.json()["status"] == "triaged" and status.json()["decision"] is None
    wrong = api.get(f"/api/reports/{filed['reference']}?secret=x", role=None)
    unknown = api.get(f"/api/reports/R-AAAAAAAAAA?secret={filed['secret']}", role=None)
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()


def test_trusted_flaggers_and_csam_go_first(api: Api, engine: Engine) -> None:
    register(api.client.app, ReportSettings())
    with engine.begin() as conn:
        _, hotline = create_token(conn, "hotline", Role.REPORTER, trusted_flagger=True)
    for n in range(3):
        api.post("/api/reports", json={**REPORT, "target": f"{n}/2/3"})
    flagged = api.client.post(
        "/api/reports",
        json={**REPORT, "target": "9/2/3"},
        headers={"Authorization": f"Bearer {hotline}"},
    )
    assert flagged.json()["trusted_flagger"] is True
    with engine.connect() as conn:
        assert queue(conn)[0].subject_key == "community-ext:9"
    api.post("/api/reports", json={**REPORT, "target": "7/2/3", "category": "csam"})
    with engine.connect() as conn:
        top = queue(conn, limit=2)
    assert [t.subject_key for t in top] == ["community-ext:7", "community-ext:9"]


def test_the_window_slides_and_forgets_the_least_recent_clients(engine: Engine) -> None:
    """Counted in the database on both backends; ended windows are deleted as new ones open."""
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    limiter = RateLimit(engine, "test", 2, 60, clock)
    assert limiter.hit("a") is None and limiter.hit("a") is None
    assert limiter.hit("a") == 60
    clock.advance(timedelta(seconds=30))
    assert limiter.hit("a") == 30  # refused hits do not count
    clock.advance(timedelta(seconds=30.5))
    assert limiter.hit("a") is None
    clock.advance(timedelta(seconds=61))
    limiter.hit("b"), limiter.hit("c")  # "a" is dropped: the table stays bounded
    with engine.connect() as conn:
        kept = set(conn.execute(select(rate_limit_windows.c.client)).scalars())
    assert "a" not in kept and {"b", "c"} <= kept
    with pytest.raises(ValueError):
        RateLimit.parse("ten per minute", engine, "test")


def test_two_servers_on_one_database_share_the_budget(sqlite_engine: Engine) -> None:
    """Hits on one app count against the other's limit: the windows are not in process memory."""
    first = with_reports(sqlite_engine, submit_limit="2/600")
    second = with_reports(sqlite_engine, submit_limit="2/600")
    assert submit_form(first).status_code == 201
    assert submit_form(second).status_code == 201
    refused = submit_form(first)
    assert refused.status_code == 429 and "Too many reports" in refused.text
    assert submit_form(second).status_code == 429
    assert stored(sqlite_engine) == 2


def test_a_trusted_flagger_has_priority_only_within_its_expertise(api: Api, engine: Engine) -> None:
    """DSA Art. 22: priority for notices within the flagger's designated areas, not others."""
    register(api.client.app, ReportSettings())
    with engine.begin() as conn:
        _, hotline = create_token(
            conn, "csam-hotline", Role.REPORTER, trusted_flagger=True, expertise=["csam"]
        )
    headers = {"Authorization": f"Bearer {hotline}"}
    inside = api.client.post(
        "/api/reports", json={**REPORT, "target": "5/2/3", "category": "csam"}, headers=headers
    )
    outside = api.client.post("/api/reports", json={**REPORT, "target": "6/2/3"}, headers=headers)
    assert inside.json()["trusted_flagger"] is True
    assert outside.json()["trusted_flagger"] is False
    with engine.begin() as conn, pytest.raises(ValueError, match="trusted flaggers only"):
        create_token(conn, "plain", Role.REPORTER, expertise=["ncii"])
