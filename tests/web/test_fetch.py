"""Remote fetching for ``?url=``: allow-list, private addresses, redirects, size cap, cleanup.

A local HTTP server on 127.0.0.1 serves generated pictures; it stops with each test.
"""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from iolaus.web import fetch
from tests.web.helpers import Api, LocalServer, local_server, make_api, png

PHOTO = png(11)
CAP = 200_000
UNSAFE = {"message": "Invalid or unsafe URL provided"}
TOO_LARGE = {"message": "Content too large"}


def _endless() -> Iterator[bytes]:
    for _ in range(100):  # 6.4 MB at most, sent without Content-Length
        yield b"\0" * 65536


@pytest.fixture
def server() -> Iterator[LocalServer]:
    routes: dict[str, Any] = {
        "/photo.png": (200, {"Content-Type": "image/png"}, PHOTO),
        "/photo.bin": (200, {"Content-Type": "application/octet-stream"}, PHOTO),
        "/big.png": (200, {"Content-Type": "image/png"}, PHOTO + b"\0" * CAP),
        "/endless.png": (200, {"Content-Type": "image/png"}, _endless),
        "/missing.png": (404, {}, b"gone"),
        "/hop": (302, {"Location": "/photo.png"}, b""),
        "/out": (302, {"Location": "http://evil.example/photo.png"}, b""),
        "/loop": (302, {"Location": "/loop"}, b""),
    }
    with local_server(routes) as running:
        yield running


@pytest.fixture
def client(sqlite_engine: Engine) -> Api:
    api = make_api(sqlite_engine, max_file_size=CAP)
    api.post("/c/banks", json={"name": "FETCHED"})
    return api


def test_fetch_hashes_like_an_upload(client: Api, server: LocalServer) -> None:
    uploaded = client.post("/h/hash", files={"photo": ("p.png", PHOTO, "image/png")}).json()
    assert client.get("/h/hash", params={"url": server.url("/photo.png")}).json() == uploaded
    fetched = client.get("/h/hash", params={"url": server.url("/hop"), "types": "pdq"})
    assert fetched.json() == {"pdq": uploaded["pdq"]}


def test_content_type_comes_from_the_header_or_the_parameter(
    client: Api, server: LocalServer
) -> None:
    refused = client.get("/h/hash", params={"url": server.url("/photo.bin")})
    assert refused.status_code == 400 and "content_type" in refused.json()["message"]
    named = client.get("/h/hash", params={"url": server.url("/photo.bin"), "content_type": "photo"})
    assert named.status_code == 200 and len(named.json()["pdq"]) == 64
    wrong = client.get("/h/hash", params={"url": server.url("/photo.png"), "content_type": "video"})
    assert wrong.json() == {"message": "the file is a photo, not a video"}
    bad = client.get("/h/hash", params={"url": server.url("/photo.png"), "content_type": "pdf"})
    assert bad.status_code == 400 and server.hits.count("/photo.png") == 1  # refused unfetched


def test_bank_add_and_lookup_by_url(client: Api, server: LocalServer) -> None:
    url = server.url("/photo.png")
    added = client.post(
        "/c/bank/FETCHED/content",
        params={"url": url},
        json={"metadata": {"content_id": "item-9", "json": {"source": "test"}}, "note": "by url"},
    )
    assert added.status_code == 200, added.text
    content_id = added.json()["id"]
    record = client.get(f"/c/bank/FETCHED/content/{content_id}").json()
    assert record["metadata"]["content_id"] == "item-9" and record["note"] == "by url"

    by_type = client.get("/m/lookup", params={"url": url}).json()
    assert by_type["pdq"] == {"FETCHED": [{"bank_content_id": content_id, "distance": "0"}]}
    assert by_type["md5"] == {"FETCHED": [{"bank_content_id": content_id, "distance": "-"}]}
    only_pdq = client.get("/m/lookup", params={"url": url, "signal_type": "pdq"}).json()
    assert only_pdq == {"FETCHED": [{"bank_content_id": content_id, "distance": "0"}]}
    missing = client.post("/c/bank/NOPE/content", params={"url": url})
    assert missing.status_code == 404 and server.hits.count("/photo.png") == 3  # not fetched


def test_hosts_outside_the_allow_list_are_refused_unfetched(
    sqlite_engine: Engine, server: LocalServer
) -> None:
    closed = make_api(sqlite_engine, fetch_allowed_hosts=())  # the default: none
    for path in ("/h/hash", "/m/lookup"):
        response = closed.get(path, params={"url": server.url("/photo.png")})
        assert (response.status_code, response.json()) == (400, UNSAFE)
    other = make_api(sqlite_engine, fetch_allowed_hosts=("example.org",))
    assert other.get("/h/hash", params={"url": server.url("/photo.png")}).json() == UNSAFE
    assert server.hits == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/photo.png",
        "http://user:secret@127.0.0.1/photo.png",
        "http:///photo.png",
        "not a url at all",
        "http://127.0.0.1.evil.example/photo.png",
        "http://[::1]/photo.png",
        "gopher://127.0.0.1:70/",
    ],
)
def test_unsafe_urls(client: Api, url: str) -> None:
    assert client.get("/h/hash", params={"url": url}).json() == UNSAFE


def test_private_addresses_need_an_exact_entry(
    sqlite_engine: Engine, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name under an allowed domain that resolves to 127.0.0.1 is refused; naming that host
    exactly admits it, and the connection goes to the address that was checked."""
    real = socket.getaddrinfo

    def fake(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if host == "cdn.example.org" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    url = f"http://cdn.example.org:{server.port}/photo.png"
    by_domain = make_api(sqlite_engine, fetch_allowed_hosts=("example.org",))
    assert by_domain.get("/h/hash", params={"url": url}).json() == UNSAFE
    assert server.hits == []
    exact = make_api(sqlite_engine, fetch_allowed_hosts=("cdn.example.org",))
    response = exact.get("/h/hash", params={"url": url})
    assert response.status_code == 200 and len(response.json()["pdq"]) == 64
    assert server.hits == ["/photo.png"]


def test_redirects_are_checked_and_bounded(client: Api, server: LocalServer) -> None:
    assert client.get("/h/hash", params={"url": server.url("/out")}).json() == UNSAFE
    loop = client.get("/h/hash", params={"url": server.url("/loop")}).json()
    assert loop == {"message": "Failed to fetch URL: too many redirects"}
    assert server.hits.count("/loop") == fetch.MAX_REDIRECTS + 1


def test_size_cap_on_declared_and_streamed_length(client: Api, server: LocalServer) -> None:
    for path in ("/big.png", "/endless.png"):
        response = client.get("/h/hash", params={"url": server.url(path)})
        assert (response.status_code, response.json()) == (413, TOO_LARGE)
        adding = client.post("/c/bank/FETCHED/content", params={"url": server.url(path)})
        assert adding.status_code == 413


def test_failures_are_400(client: Api, server: LocalServer) -> None:
    missing = client.get("/h/hash", params={"url": server.url("/missing.png")})
    assert missing.json() == {"message": "Failed to fetch URL: HTTP status 404"}
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    refused = client.get("/h/hash", params={"url": f"http://127.0.0.1:{port}/x.png"})
    assert refused.status_code == 400 and refused.json()["message"].startswith("Failed to fetch")
    assert client.get("/h/hash").json() == {"message": "url is required"}


def test_fetched_files_are_deleted(
    client: Api, server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    for path in ("/photo.png", "/big.png", "/missing.png", "/photo.bin"):
        client.get("/h/hash", params={"url": server.url(path)})
    client.post("/c/bank/FETCHED/content", params={"url": server.url("/photo.png")})
    assert list(spool.iterdir()) == []


def test_allow_list_matching() -> None:
    allowed = ("example.org", "127.0.0.1")
    assert fetch._admitted("example.org", allowed) == (True, True)
    assert fetch._admitted("cdn.example.org", allowed) == (True, False)
    assert fetch._admitted("badexample.org", allowed) == (False, False)
    assert fetch._admitted("example.org.evil.net", allowed) == (False, False)
    assert not fetch._routable("10.1.2.3") and not fetch._routable("::ffff:127.0.0.1")
    assert not fetch._routable("169.254.169.254") and not fetch._routable("100.64.0.1")
    assert fetch._routable("93.184.215.14")
