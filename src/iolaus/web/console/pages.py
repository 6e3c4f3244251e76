"""Console pages: login, logout, and the home page (communities ranked by risk until the case
queue takes its place)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from iolaus.store import audit
from iolaus.store.queries import list_communities
from iolaus.store.users import Session, authenticate, end_session, start_session
from iolaus.web.console.auth import (
    CONSOLE_CSP,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    LoginRequired,
    check_csrf,
    check_login_csrf,
    cookie_secure,
    engine_of,
    new_login_token,
    require,
)
from iolaus.web.console.forms import LoginForm, LogoutForm

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
router = APIRouter(prefix="/console", include_in_schema=False)


def render_page(request: Request, name: str, status: int = 200, **context: object) -> HTMLResponse:
    """A console template, rendered with the console's strict CSP and never cached."""
    response = TEMPLATES.TemplateResponse(request, name, context, status_code=status)
    response.headers["Content-Security-Policy"] = CONSOLE_CSP
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/login")
def login_form(request: Request, error: str | None = None) -> HTMLResponse:
    token = new_login_token()
    response = render_page(request, "console/login.html", csrf_token=token, error=error)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
        path="/console",
    )
    return response


@router.post("/login")
def login(request: Request, form: Annotated[LoginForm, Form()]) -> Response:
    check_login_csrf(request, form.csrf_token)
    with engine_of(request).begin() as conn:
        user = authenticate(conn, form.username, form.password)
        if user is None:
            audit.record(conn, "anonymous", "console.login_failed", form.username[:64])
        else:
            token, _ = start_session(conn, user)
            audit.record(conn, f"user:{user.username}", "console.login", user.username)
    if user is None:
        return RedirectResponse("/console/login?error=1", status_code=303)
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
def logout(
    request: Request,
    form: Annotated[LogoutForm, Form()],
    session: Session = Depends(require()),
) -> Response:
    check_csrf(session, form.csrf_token)
    with engine_of(request).begin() as conn:
        end_session(conn, request.cookies.get(SESSION_COOKIE, ""))
        audit.record(conn, f"user:{session.user.username}", "console.logout", None)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("")
def home(request: Request, session: Session = Depends(require())) -> HTMLResponse:
    with engine_of(request).begin() as conn:
        communities = list_communities(conn)
        audit.record(conn, f"user:{session.user.username}", "console.view", "home")
    return render_page(request, "console/home.html", session=session, communities=communities)


def register(app: FastAPI) -> None:
    """Mount the console on ``app``: its routes and the redirect to login for page requests."""

    async def to_login(_request: Request, _exc: Exception) -> Response:
        return RedirectResponse("/console/login", status_code=303)

    app.add_exception_handler(LoginRequired, to_login)
    app.include_router(router)
