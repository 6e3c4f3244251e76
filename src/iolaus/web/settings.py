"""What the HTTP app is built from: the process's ``Settings``, the database and the matcher,
reached by route handlers through the ``Svc`` dependency.

Remote fetching (``?url=`` on hashing, lookup and bank routes) is refused unless the operator
names the hosts it may reach (``Settings.fetch_allowed_hosts``): a server that fetches any URL it
is given is a proxy into the network it sits in (SSRF). HMA's ``ALLOWED_HOSTNAMES`` is optional;
here the empty default refuses every fetch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from iolaus.config import Settings
from iolaus.hashing.matcher import Matcher
from iolaus.model.clock import Clock, system_clock


@dataclass(frozen=True)
class Services:
    engine: Engine
    matcher: Matcher
    settings: Settings
    clock: Clock = system_clock
    """Every "now" of a request: deadlines, rate-limit windows, lock expiry."""


def services(request: Request) -> Services:
    return request.app.state.services


Svc = Annotated[Services, Depends(services)]
