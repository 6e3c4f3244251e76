"""Who is looking: the session cookie, role checks and CSRF checks for console pages.

The cookie holds a random token (its hash is in the database), is ``HttpOnly`` and
``SameSite=Strict``, and ``Secure`` whenever the console is served over HTTPS (or
``IOLAUS_COOKIE_SECURE=1`` behind a TLS-terminating proxy). Forms carry the session's CSRF token;
the login form, before any session exists, a double-submit token (cookie + field).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable

from fastapi import Depends, HTTPException, Request
from sqlalchemy import Engine

from iolaus.model.cases import UserRole
from iolaus.store.users import Session, resume_session
from iolaus.web.settings import services

SESSION_COOKIE = "iolaus_session"
LOGIN_CSRF_COOKIE = "iolaus_login_csrf"
CONSOLE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class LoginRequired(Exception):
    """Raised by page dependencies; answered with a redirect to the login page."""


def engine_of(request: Request) -> Engine:
    return request.app.state.services.engine


def cookie_secure(request: Request) -> bool:
    return request.url.scheme == "https" or services(request).settings.cookie_secure


def current_session(request: Request) -> Session:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired
    with engine_of(request).begin() as conn:
        session = resume_session(conn, token)
    if session is None:
        raise LoginRequired
    return session


def require(*roles: UserRole) -> Callable[[Session], Session]:
    """A dependency admitting only these roles (any role when none is given)."""

    def check(session: Session = Depends(current_session)) -> Session:
        if roles and session.user.role not in roles:
            raise HTTPException(403, "your role does not allow this")
        return session

    return check


def check_csrf(session: Session, submitted: str) -> None:
    if not submitted or not hmac.compare_digest(session.csrf_token, submitted):
        raise HTTPException(403, "invalid or missing CSRF token: reload the page")


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def check_login_csrf(request: Request, submitted: str) -> None:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
        raise HTTPException(403, "invalid or missing CSRF token: reload the page")
