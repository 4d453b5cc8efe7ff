"""The dashboard's sign-in: OpenID Connect authorization code with PKCE (S256) at the identity provider, as the
public client ``vantrum-dashboard`` (no secret: a browser keeps none).

``/sign-in`` sends the browser to the provider's login page with a fresh code challenge and state; ``/signed-in``
takes the code back, exchanges it with the verifier for an access token, checks that token as every API does,
and keeps it in an HttpOnly, SameSite=Lax cookie that only this app reads, and only for GET requests (the dashboard
and its CSV links change nothing). When the token expires, the next page load goes through the provider again
(its own session usually signs the person in without a question). ``/sign-out`` forgets the cookie and ends the
provider's session.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from eventkit import auth
from eventkit.logs import get_logger

SESSION_COOKIE = "vantrum_session"
CLIENT_ID = "vantrum-dashboard"
PENDING_SECONDS = 600.0
"""How long a sign-in may take at the provider's page."""
log = get_logger(__name__)
router = APIRouter(include_in_schema=False)


def install(app: FastAPI) -> None:
    """The sign-in routes, the cookie for ``eventkit.auth.principal``, and a page load without a valid token sent to
    sign in (the API still answers 401)."""
    app.state.session_cookie, app.state.sign_ins = SESSION_COOKIE, {}
    app.include_router(router)
    answer_401 = app.exception_handlers[auth.Unauthenticated]

    async def unauthenticated(request: Request, refusal: auth.Unauthenticated) -> Response:
        if request.url.path == "/" and request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", status_code=303)
        return await answer_401(request, refusal)

    app.exception_handlers[auth.Unauthenticated] = unauthenticated


async def _configuration(request: Request) -> dict[str, Any]:
    cached = getattr(request.app.state, "openid_configuration", None)
    if cached is None:
        settings = request.app.state.settings.auth
        url = settings.discovery_url or settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
        async with httpx.AsyncClient(timeout=settings.fetch_timeout) as client:
            response = await client.get(url)
            response.raise_for_status()
            cached = request.app.state.openid_configuration = response.json()
    return cached


def _redirect_uri(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/signed-in"


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/sign-in")
async def sign_in(request: Request, next: str = "/") -> Response:  # noqa: A002
    verifier, state = secrets.token_urlsafe(64), secrets.token_urlsafe(24)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    pending: dict[str, tuple[str, str, float]] = request.app.state.sign_ins
    now = time.monotonic()
    for stale in [k for k, (_, _, at) in pending.items() if now - at > PENDING_SECONDS]:
        del pending[stale]
    pending[state] = (verifier, _safe_next(next), now)
    lang = "en" if "lang=en" in next else "sv"
    configuration = await _configuration(request)
    query = urlencode({"client_id": CLIENT_ID, "response_type": "code", "scope": "openid", "state": state,
                       "redirect_uri": _redirect_uri(request), "code_challenge": challenge,
                       "code_challenge_method": "S256", "ui_locales": lang})
    return RedirectResponse(f"{configuration['authorization_endpoint']}?{query}", status_code=303)


@router.get("/signed-in")
async def signed_in(request: Request, code: str = "", state: str = "") -> Response:
    entry = request.app.state.sign_ins.pop(state, None)
    if entry is None or not code:
        return HTMLResponse('<p lang="sv">Inloggningen misslyckades eller tog för lång tid. '
                            '<a href="/sign-in">Försök igen</a>.</p><p lang="en">Sign-in failed or took too long. '
                            '<a href="/sign-in?next=/%3Flang%3Den">Try again</a>.</p>', status_code=400)
    verifier, target, _ = entry
    configuration = await _configuration(request)
    async with httpx.AsyncClient(timeout=request.app.state.settings.auth.fetch_timeout) as client:
        response = await client.post(configuration["token_endpoint"], data={
            "grant_type": "authorization_code", "client_id": CLIENT_ID, "code": code,
            "redirect_uri": _redirect_uri(request), "code_verifier": verifier})
    if response.status_code != 200:
        log.info("sign-in code refused", status=response.status_code)
        return HTMLResponse('<p>Inloggningen misslyckades. <a href="/sign-in">Försök igen</a>.</p>', status_code=400)
    tokens = response.json()
    who = await request.app.state.token_verifier.verify(tokens["access_token"])  # as every API would check it
    log.info("signed in", staff=who.staff_id)
    redirect = RedirectResponse(target, status_code=303)
    redirect.set_cookie(SESSION_COOKIE, tokens["access_token"], max_age=int(tokens.get("expires_in", 300)),
                        httponly=True, samesite="lax", path="/")
    if "id_token" in tokens:  # for the provider's sign-out
        redirect.set_cookie(SESSION_COOKIE + "_id", tokens["id_token"], httponly=True, samesite="lax", path="/")
    return redirect


@router.get("/sign-out")
async def sign_out(request: Request) -> Response:
    configuration = await _configuration(request)
    query = {"client_id": CLIENT_ID, "post_logout_redirect_uri": str(request.base_url)}
    if id_token := request.cookies.get(SESSION_COOKIE + "_id"):
        query["id_token_hint"] = id_token
    response = RedirectResponse(f"{configuration['end_session_endpoint']}?{urlencode(query)}", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(SESSION_COOKIE + "_id", path="/")
    return response
