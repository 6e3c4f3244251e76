"""Fetching a remote file for hashing, without becoming a proxy into the server's network.

Every URL, and every redirect target, must be ``http``/``https`` without credentials, on a host
the operator allow-listed (the entry itself or a subdomain of it). The host is resolved once, its
addresses are checked, and the connection goes to the checked address (the name is kept for the
``Host`` header and TLS), so DNS cannot answer differently between the check and the connection.
Addresses that are not globally routable (private, loopback, link-local, CGNAT, multicast…) are
reached only when the allow-list names that very host or address: a public parent domain never
opens the internal network.

The body is streamed to a temporary file under a size cap (declared ``Content-Length`` first,
then counted bytes) and an overall deadline; the file is deleted when the caller is done.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpx
from fastapi import HTTPException

from iolaus.config import Settings

UNSAFE_URL = "Invalid or unsafe URL provided"  # HMA's message for every refused URL
TOO_LARGE = "Content too large"
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Fetched:
    path: Path
    content_type: str
    """The response's ``Content-Type`` header ('' when absent)."""


def _admitted(host: str, allowed: tuple[str, ...]) -> tuple[bool, bool]:
    """(admitted by some entry, named exactly by an entry)."""
    exact = host in allowed
    return exact or any(host.endswith("." + entry) for entry in allowed), exact


def _routable(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise HTTPException(400, f"Failed to fetch URL: cannot resolve host ({exc})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_target(url: httpx.URL, allowed: tuple[str, ...]) -> str:
    """The address to connect to for ``url``, or 400 if the URL may not be fetched."""
    if url.scheme not in ("http", "https") or not url.raw_host or url.userinfo:
        raise HTTPException(400, UNSAFE_URL)
    host = url.raw_host.decode("ascii").lower().rstrip(".")
    admitted, exact = _admitted(host, allowed)
    if not admitted:
        raise HTTPException(400, UNSAFE_URL)
    addresses = _resolve(host, url.port or (443 if url.scheme == "https" else 80))
    if not addresses or (not exact and not all(_routable(a) for a in addresses)):
        raise HTTPException(400, UNSAFE_URL)
    return addresses[0]


def parse_url(text: str) -> httpx.URL:
    try:
        return httpx.URL(text)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise HTTPException(400, UNSAFE_URL) from None


def _pinned_request(client: httpx.Client, url: httpx.URL, address: str) -> httpx.Request:
    """A GET to ``address`` that still presents ``url``'s host name to the server and to TLS."""
    host = url.raw_host.decode("ascii")
    host_header = host if url.port is None else f"{host}:{url.port}"
    return client.build_request(
        "GET",
        url.copy_with(host=address),
        headers={
            "Host": host_header,
            "Accept": "image/*, video/*",
            "Accept-Encoding": "identity",  # media is compressed already; no gzip bombs
        },
        extensions={"sni_hostname": host},
    )


@contextlib.contextmanager
def fetch_to_tempfile(text: str, settings: Settings) -> Iterator[Fetched]:
    """Download ``text`` into a temporary file that is deleted when the block ends."""
    url = parse_url(text)
    deadline = time.monotonic() + settings.fetch_timeout
    fd, name = tempfile.mkstemp(prefix="iolaus-fetch-")
    path = Path(name)
    try:
        with (
            os.fdopen(fd, "wb") as sink,
            httpx.Client(
                timeout=settings.fetch_timeout, follow_redirects=False, trust_env=False
            ) as client,
        ):
            content_type = _download(client, url, sink, settings, deadline)
        yield Fetched(path, content_type)
    finally:
        path.unlink(missing_ok=True)


def _download(
    client: httpx.Client,
    url: httpx.URL,
    sink: BinaryIO,
    settings: Settings,
    deadline: float,
) -> str:
    for _ in range(MAX_REDIRECTS + 1):
        address = checked_target(url, settings.fetch_allowed_hosts)
        try:
            response = client.send(_pinned_request(client, url, address), stream=True)
            try:
                if response.is_redirect and "location" in response.headers:
                    url = url.join(response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise HTTPException(
                        400, f"Failed to fetch URL: HTTP status {response.status_code}"
                    )
                _stream(response, sink, settings.max_file_size, deadline)
                return response.headers.get("content-type", "")
            finally:
                response.close()
        except httpx.HTTPError as exc:
            raise HTTPException(400, f"Failed to fetch URL: {type(exc).__name__}") from None
    raise HTTPException(400, "Failed to fetch URL: too many redirects")


def _stream(response: httpx.Response, sink: BinaryIO, max_bytes: int, deadline: float) -> None:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise HTTPException(413, TOO_LARGE)
    received = 0
    for chunk in response.iter_bytes(_CHUNK):  # decoded bytes are what is capped
        received += len(chunk)
        if received > max_bytes:
            raise HTTPException(413, TOO_LARGE)
        if time.monotonic() > deadline:
            raise HTTPException(400, "Failed to fetch URL: timed out")
        sink.write(chunk)
    if received == 0:
        raise HTTPException(400, "Failed to fetch URL: empty response")
