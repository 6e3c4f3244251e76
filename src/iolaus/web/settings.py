"""What the HTTP app is built from: its settings (from ``IOLAUS_*`` variables), the database
and the matcher, reached by route handlers through the ``Svc`` dependency.

Remote fetching (``?url=`` on hashing, lookup and bank routes) is refused unless the operator
names the hosts it may reach: a server that fetches any URL it is given is a proxy into the
network it sits in (SSRF). HMA's ``ALLOWED_HOSTNAMES`` is optional; here the empty default
refuses every fetch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from iolaus.hashing.matcher import Matcher

DEFAULT_MAX_FILE_SIZE = 100 * 1024 * 1024  # HMA's MAX_REMOTE_FILE_SIZE default


def _hosts(text: str) -> tuple[str, ...]:
    return tuple(h.strip().lower().rstrip(".") for h in text.split(",") if h.strip())


@dataclass(frozen=True)
class WebSettings:
    fetch_allowed_hosts: tuple[str, ...] = ()
    """Hosts ``?url=`` may fetch from: an entry admits itself and its subdomains. Addresses in
    private, loopback or link-local ranges are reachable only through an entry naming that very
    host (or IP address), never through a parent domain."""
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    """Largest fetched or uploaded file, in bytes."""
    fetch_timeout: float = 30.0
    """Seconds allowed for a whole remote fetch, connection to last byte."""

    @classmethod
    def from_env(cls) -> WebSettings:
        env = os.environ
        return cls(
            fetch_allowed_hosts=_hosts(env.get("IOLAUS_FETCH_ALLOWED_HOSTS", "")),
            max_file_size=int(env.get("IOLAUS_MAX_REMOTE_FILE_SIZE", DEFAULT_MAX_FILE_SIZE)),
            fetch_timeout=float(env.get("IOLAUS_FETCH_TIMEOUT", "30")),
        )


@dataclass(frozen=True)
class Services:
    engine: Engine
    matcher: Matcher
    settings: WebSettings


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


Svc = Annotated[Services, Depends(services)]
