"""Bearer-token access to the HTTP API, one dependency per HMA route group.

HMA itself has no authentication; a compatible server may require a bearer token as long as
the response shapes stay HMA's. ``Authorization: Bearer iol_…`` is checked against the stored
digests; a missing or unknown token is 401, a token whose role does not open the route group
is 403, both as ``{"message": …}`` like every other API error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from iolaus.model.access import RouteGroup, Token, allows
from iolaus.store.tokens import verify_token
from iolaus.web.settings import services

bearer = HTTPBearer(
    auto_error=False,
    description="An API token from `iolaus token create` (its role decides the routes).",
)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Token:
    if credentials is None:
        raise HTTPException(401, "Missing bearer token", headers=_CHALLENGE)
    with services(request).engine.begin() as conn:
        token = verify_token(conn, credentials.credentials)
    if token is None:
        raise HTTPException(401, "Invalid or revoked token", headers=_CHALLENGE)
    return token


def require(group: RouteGroup) -> Callable[..., Token]:
    """A dependency admitting tokens whose role opens ``group``; it returns the token."""

    def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Token:
        token = authenticate(request, credentials)
        if not allows(token.role, group):
            raise HTTPException(403, f"role '{token.role}' may not use /{group} routes")
        return token

    dependency.__name__ = f"require_{group.name.lower()}"
    return dependency


# One callable per group, so that FastAPI verifies a token once per request even when a router
# and its handler both depend on it.
hash_access = require(RouteGroup.HASH)
match_access = require(RouteGroup.MATCH)
curate_access = require(RouteGroup.CURATE)

CurateToken = Annotated[Token, Depends(curate_access)]
