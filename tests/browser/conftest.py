"""Browser tests: the real app served by uvicorn on 127.0.0.1, driven by Debian's Chromium.

Why a real server and a real browser: the HTTP tests already check what the app *sends*; these
check what a person *sees and can do* — that the forms work without any script, that escaped
payloads stay inert text, that the CSP actually stops an inline script, and that cookies
(``SameSite=Strict``, ``HttpOnly``) carry a login across pages the way a browser applies them.

Playwright drives ``/usr/bin/chromium`` from the distribution; Playwright's own browser
downloads are never used (they are not reachable from CI). When Chromium or the ``playwright``
package is missing, every test here is skipped with the reason, never failed: the rest of the
suite must still run on a laptop without them.

One server and one database serve the whole session (starting Chromium and migrating a
database per test would blow the time budget); tests therefore create what they need under
names of their own and compare counts, never absolute totals.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from sqlalchemy import Engine

from iolaus.config import Settings
from iolaus.demo.dce_writer import User, guild_json
from iolaus.ingest.discord_export import import_exports
from iolaus.signals.scan import scan_communities
from iolaus.store.engine import open_engine
from iolaus.store.migrate import ensure_schema
from iolaus.store.users import create_user
from iolaus.web.app import create_app
from tests.exports import GUILD, msg, photo, write_export

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Playwright, Route

CHROMIUM = Path(os.environ.get("IOLAUS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""No network chatter of Chromium's own: the browser talks to 127.0.0.1 and nothing else."""

PAYLOAD = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'
"""Markup that runs script if any page ever renders it as HTML instead of text."""

REVIEWER = "rev"
PASSWORD = "correct horse battery"

MESSAGE_LINK = "https://discord.com/channels/{guild}/{channel}/{message}"
RISKY_GUILD = guild_json("910000000000000001", "Les Partages")
PAYLOAD_GUILD = guild_json("920000000000000001", f"Evil {PAYLOAD}")
CHANNEL = "400000000000000001"
RISKY_CHANNEL = "410000000000000002"
PAYLOAD_CHANNEL = "420000000000000001"
MEDIA_MESSAGE = 7
"""The seeded message of "Test Guild" that carries an attachment (a file name, no bytes)."""
USERS = [User(id=f"2000000000000001{i:02d}", name=f"user{i}", nickname=None) for i in range(8)]
CHAT = ["salut", "quelqu'un joue ce soir ?", "mdr", "bonne nuit", "j'arrive", "gg", "ok top"]
ABUSE = [
    "qui a des photos de son ex ?",
    "balance ta cousine en mp",
    "nudes de mon ex, qui veut la suite ?",
    "échange photos de mon ex contre les tiennes",
    "elle sait pas que je poste ici",
    "le dossier complet de mon ex en mp",
]
"""Synthetic, non-graphic text that the default rules score high (as in tests/signals)."""

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None  # type: ignore[assignment]


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if sync_playwright is None:
        return "the 'playwright' Python package is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    return None


def _free_socket() -> socket.socket:
    """A listening socket on a free port of 127.0.0.1, handed to uvicorn so that no other
    process can take the port between choosing it and binding it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


@dataclass
class LiveApp:
    """The running app: its address and its database, for arranging and checking state."""

    url: str
    engine: Engine
    payload: str = PAYLOAD
    reviewer: str = REVIEWER
    password: str = PASSWORD
    risky_community: str = RISKY_GUILD["name"]
    payload_community: str = PAYLOAD_GUILD["name"]
    media_message: int = MEDIA_MESSAGE

    def __call__(self, path: str) -> str:
        return self.url + path

    def message_link(self, message: int = 1) -> str:
        """A Discord link to message ``message`` of the seeded "Test Guild" (it resolves)."""
        message_id = str(300000000000000000 + message)
        return MESSAGE_LINK.format(guild=GUILD["id"], channel=CHANNEL, message=message_id)


def _seed(engine: Engine, exports: Path) -> None:
    """Three communities through the real importer and scanner: a benign one that reports
    point at (its message ``MEDIA_MESSAGE`` has an attachment), a risky one that must rank
    first, and one whose name and chat carry markup."""
    files = [
        write_export(
            exports / "benign.json",
            [msg(n, content=CHAT[n % 7]) for n in range(1, 7)]
            + [msg(MEDIA_MESSAGE, content="regardez", attachments=[photo(MEDIA_MESSAGE)])],
        ),
        write_export(
            exports / "risky.json",
            [msg(100 + i, USERS[i % 8], text) for i, text in enumerate(ABUSE + CHAT * 3)],
            channel_id=RISKY_CHANNEL,
            channel_name="ex",
            guild=RISKY_GUILD,
        ),
        write_export(
            exports / "payload.json",
            [msg(200, content=PAYLOAD), msg(201, content="hello")],
            channel_id=PAYLOAD_CHANNEL,
            channel_name="evil",
            guild=PAYLOAD_GUILD,
        ),
    ]
    summary = import_exports(engine, files)
    assert not summary.failures, summary.failures
    scan_communities(engine)
    with engine.begin() as conn:
        create_user(conn, REVIEWER, PASSWORD, "reviewer")


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """``create_app`` over a fresh, migrated, seeded SQLite database, served by uvicorn in a
    background thread on a free port of 127.0.0.1; stopped when the session ends."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("browser-app")
    exports = root / "exports"
    exports.mkdir()
    engine = open_engine(f"sqlite:///{root / 'iolaus.db'}")
    ensure_schema(engine, auto_migrate=True)
    _seed(engine, exports)
    # All requests come from 127.0.0.1: the per-address limit must not trip over the suite.
    limits = {"IOLAUS_REPORT_RATE_LIMIT": "1000/600", "IOLAUS_REPORT_STATUS_RATE_LIMIT": "1000/60"}
    app = create_app(engine, Settings.load(limits))
    sock = _free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield LiveApp(f"http://127.0.0.1:{port}", engine)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        engine.dispose()


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    assert sync_playwright is not None
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[BrowserContext]:
    """Debian's Chromium with a throwaway profile, shared by the session (starting it costs
    about a second). A persistent context is what takes an explicit user-data dir; tests get
    isolation from :func:`page`, which clears cookies first."""
    profile = tempfile.mkdtemp(prefix="iolaus-chromium-")
    context = playwright_driver.chromium.launch_persistent_context(
        profile,
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def offsite() -> list[str]:
    """URLs the current test's page tried to reach outside the app (all of them aborted)."""
    return []


@pytest.fixture
def page(browser: BrowserContext, live_app: LiveApp, offsite: list[str]) -> Iterator[Page]:
    """A fresh tab with no cookies that may only reach the app: any other request is aborted
    and recorded in :func:`offsite`, so a page that calls out (a CDN, a tracker) shows up."""
    browser.clear_cookies()
    tab = browser.new_page()

    def guard(route: Route) -> None:
        if route.request.url.startswith(live_app.url + "/"):
            route.continue_()
        else:
            offsite.append(route.request.url)
            route.abort()

    tab.route("**/*", guard)
    try:
        yield tab
    finally:
        tab.close()


@pytest.fixture
def shoot(tmp_path: Path) -> Callable[[Page, str], Path]:
    """Save a full-page screenshot into the test's tmp dir, and also into
    ``IOLAUS_SCREENSHOT_DIR`` when set, so a person can look at the pages as rendered."""

    def take(page: Page, name: str) -> Path:
        target = tmp_path / name
        page.screenshot(path=str(target), full_page=True)
        extra = os.environ.get("IOLAUS_SCREENSHOT_DIR")
        if extra:
            shutil.copyfile(target, Path(extra) / name)
        return target

    return take
