"""Tokens of the real Keycloak, checked by eventkit.auth: the demo users' tokens verify with their roles and
administration; tokens for another audience, expired, tampered, unsigned or signed by another key are refused
with 401; the keys are fetched once; an identity provider that cannot be reached makes 503.

Keycloak is not stopped here (the whole session shares it, and a restart costs half a minute): "down" is an
address where nothing listens, which is what a service sees of a stopped Keycloak (connection refused).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import secrets
import socket
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, FastAPI

from eventkit.auth import IdentityProviderUnavailable, InvalidToken, Principal, TokenVerifier, install, principal, \
    require_roles
from eventkit.settings import AuthSettings

pytestmark = pytest.mark.integration

DEMO_USERS = {  # as deploy/keycloak/vantrum-realm.json creates them
    "reception-sof": ({"reception"}, "social-services"),
    "handler-sof": ({"handler"}, "social-services"),
    "handler-amf": ({"handler"}, "amf"),
    "outreach-sof": ({"outreach-worker"}, "social-services"),
    "manager-sof": ({"manager"}, "social-services"),
    "manager-amf": ({"manager"}, "amf"),
    "ops": ({"operations"}, None),
    "auditor": ({"auditor"}, None),
}


def small_app(settings: AuthSettings, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    app = FastAPI()
    install(app, settings, transport)

    @app.get("/me")
    async def me(who: Principal = Depends(principal)) -> dict:
        return {"staff": who.staff_id, "roles": sorted(who.roles), "administration": who.administration}

    @app.get("/cases")
    async def cases(who: Principal = Depends(require_roles("handler"))) -> dict:
        return {"staff": who.staff_id, "administration": who.administration}

    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def bearer(token: str) -> dict:
    return {"authorization": f"Bearer {token}"}


def b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unverified(token: str) -> tuple[dict, dict]:
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


class Counting(httpx.AsyncBaseTransport):
    """The real network, with each request's URL kept; ``down`` makes it refuse like a stopped server."""

    def __init__(self) -> None:
        self.inner, self.urls, self.down = httpx.AsyncHTTPTransport(), [], False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize("username", DEMO_USERS)
async def test_a_demo_users_token_verifies_with_roles_and_administration(auth_settings, tokens, username):
    token = (await tokens(username))["access_token"]
    who = await TokenVerifier(auth_settings).verify(token)
    roles, administration = DEMO_USERS[username]
    assert (who.staff_id, who.roles, who.administration) == (username, roles, administration)
    assert who.subject


async def test_the_dependencies_let_a_handler_in_and_refuse_others(auth_settings, tokens):
    handler = (await tokens("handler-amf"))["access_token"]
    reception = (await tokens("reception-sof"))["access_token"]
    async with client(small_app(auth_settings)) as http:
        assert (await http.get("/cases", headers=bearer(handler))).json() == {"staff": "handler-amf",
                                                                            "administration": "amf"}
        refused = await http.get("/cases", headers=bearer(reception))
        assert refused.status_code == 403
        assert refused.json() == {"rule": "role-required",
                                  "detail": "this needs the role handler, which reception-sof does not hold"}
        anonymous = await http.get("/me")
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == 'Bearer realm="vantrum"'


async def test_a_token_for_another_audience_is_refused(auth_settings, tokens):
    id_token = (await tokens("handler-sof", scope="openid"))["id_token"]  # same issuer and key, aud: vantrum-dev
    assert unverified(id_token)[1]["aud"] == "vantrum-dev"
    async with client(small_app(auth_settings)) as http:
        refused = await http.get("/me", headers=bearer(id_token))
    assert refused.status_code == 401
    assert refused.json() == {"rule": "invalid-token", "detail": "the token is not meant for vantrum-api (aud)"}
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]


async def test_an_expired_token_is_refused(auth_settings, tokens):
    token = (await tokens("handler-sof", client_id="vantrum-dev-short-lived"))["access_token"]
    expires = unverified(token)[1]["exp"]
    await asyncio.sleep(max(0.0, expires + 1.1 - time.time()))
    async with client(small_app(auth_settings.model_copy(update={"leeway": 0}))) as http:
        refused = await http.get("/me", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the token has expired"


async def test_a_tampered_token_is_refused(auth_settings, tokens):
    token = (await tokens("handler-sof"))["access_token"]
    header, payload, signature = token.split(".")
    claims = unverified(token)[1]
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    moved = f"{header}.{b64({**claims, 'administration': 'amf', 'roles': ['manager']})}.{signature}"
    async with client(small_app(auth_settings)) as http:
        for forged in (f"{header}.{payload}.{flipped}", moved):
            refused = await http.get("/me", headers=bearer(forged))
            assert refused.status_code == 401
            assert refused.json()["detail"] == "the token's signature does not verify"


async def test_an_unsigned_token_and_one_signed_with_another_key_are_refused(auth_settings, tokens):
    token = (await tokens("handler-sof"))["access_token"]
    header, claims = unverified(token)
    unsigned = f"{b64({**header, 'alg': 'none'})}.{b64(claims)}."
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    same_kid = jwt.encode(claims, impostor, algorithm="RS256", headers={"kid": header["kid"]})
    own_kid = jwt.encode(claims, impostor, algorithm="RS256", headers={"kid": "impostor"})
    async with client(small_app(auth_settings)) as http:
        for forged, detail in ((unsigned, "tokens signed with 'none' are not accepted (only RS256, ES256)"),
                               (same_kid, "the token's signature does not verify"),
                               (own_kid, f"the token is signed with a key {auth_settings.issuer} does not publish")):
            refused = await http.get("/me", headers=bearer(forged))
            assert (refused.status_code, refused.json()["detail"]) == (401, detail)


async def test_the_keys_are_fetched_once_for_many_verifications(auth_settings, tokens, openid_configuration):
    network = Counting()
    verifier = TokenVerifier(auth_settings, network)
    issued = [(await tokens(user))["access_token"] for user in ("handler-sof", "handler-amf", "ops")]
    started = time.perf_counter()
    for _ in range(100):
        for token in issued:
            await verifier.verify(token)
    per_token_ms = (time.perf_counter() - started) / 300 * 1000
    assert network.urls == [auth_settings.issuer + "/.well-known/openid-configuration",
                            openid_configuration["jwks_uri"]]
    assert per_token_ms < 20, f"{per_token_ms:.2f} ms per verification"


async def test_a_provider_that_cannot_be_reached_makes_503_until_keys_are_known(auth_settings, tokens):
    token = (await tokens("handler-sof"))["access_token"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        nothing_listens = s.getsockname()[1]
    down = auth_settings.model_copy(update={
        "discovery_url": f"http://127.0.0.1:{nothing_listens}/realms/vantrum/.well-known/openid-configuration"})
    async with client(small_app(down)) as http:
        refused = await http.get("/me", headers=bearer(token))
    assert refused.status_code == 503
    assert refused.json()["rule"] == "identity-provider-unavailable"
    assert refused.headers["retry-after"]

    network = Counting()  # keys fetched while Keycloak answers keep working when it stops
    verifier = TokenVerifier(auth_settings.model_copy(update={"keys_refresh_interval": 0}), network)
    await verifier.verify(token)
    network.down = True
    assert (await verifier.verify(token)).staff_id == "handler-sof"
    with pytest.raises(IdentityProviderUnavailable):  # a key it has not seen cannot be checked: not the token's fault
        await verifier.verify(jwt.encode(unverified(token)[1], rsa.generate_private_key(
            public_exponent=65537, key_size=2048), algorithm="RS256", headers={"kid": "rotated"}))
    with pytest.raises(InvalidToken):  # but an unsigned token needs no key to be refused
        await verifier.verify(f"{b64({'alg': 'none', 'kid': 'x'})}.{b64(unverified(token)[1])}.")


async def test_the_dashboard_signs_in_with_the_code_flow_and_pkce_and_gets_an_api_token(auth_settings,
                                                                                         openid_configuration):
    redirect = "http://127.0.0.1:8004/"
    verifier = secrets.token_urlsafe(48)
    challenge = b64(hashlib.sha256(verifier.encode()).digest())
    query = {"client_id": "vantrum-dashboard", "response_type": "code", "scope": "openid", "redirect_uri": redirect,
             "state": "s-1"}
    async with httpx.AsyncClient(timeout=10) as browser:
        # Keycloak marks its cookies Secure; a browser sends them to http://127.0.0.1 (a secure context), httpx not.
        def cookies() -> dict:
            return {"cookie": "; ".join(f"{c.name}={c.value}" for c in browser.cookies.jar)}

        without_pkce = await browser.get(openid_configuration["authorization_endpoint"], params=query)
        assert without_pkce.status_code == 302
        assert parse_qs(urlsplit(without_pkce.headers["location"]).query)["error"] == ["invalid_request"]
        elsewhere = await browser.get(openid_configuration["authorization_endpoint"],
                                      params={**query, "redirect_uri": "https://evil.example/"})
        assert elsewhere.status_code == 400

        page = await browser.get(openid_configuration["authorization_endpoint"],
                                 params={**query, "code_challenge": challenge, "code_challenge_method": "S256"})
        assert page.status_code == 200
        action = re.search(r'action="([^"]+)"', page.text).group(1).replace("&amp;", "&")
        signed_in = await browser.post(action, data={"username": "manager-sof", "password": "vantrum-demo"},
                                       headers=cookies())
        assert signed_in.status_code == 302, signed_in.text[:500]
        code = parse_qs(urlsplit(signed_in.headers["location"]).query)["code"][0]
        wrong_verifier = await browser.post(openid_configuration["token_endpoint"], data={
            "grant_type": "authorization_code", "client_id": "vantrum-dashboard", "code": code,
            "redirect_uri": redirect, "code_verifier": secrets.token_urlsafe(48)})
        assert wrong_verifier.status_code == 400
        page = await browser.get(openid_configuration["authorization_endpoint"],  # signed in now: a new code at once
                                 params={**query, "code_challenge": challenge, "code_challenge_method": "S256"},
                                 headers=cookies())
        code = parse_qs(urlsplit(page.headers["location"]).query)["code"][0]
        issued = await browser.post(openid_configuration["token_endpoint"], data={
            "grant_type": "authorization_code", "client_id": "vantrum-dashboard", "code": code,
            "redirect_uri": redirect, "code_verifier": verifier})
        assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    assert unverified(token)[1]["aud"] == "vantrum-api"
    who = await TokenVerifier(auth_settings).verify(token)
    assert (who.staff_id, who.roles, who.administration) == ("manager-sof", {"manager"}, "social-services")


@pytest.mark.parametrize("client_id", ["vantrum-dashboard", "admin-cli"])
async def test_only_the_development_clients_take_passwords(openid_configuration, client_id):
    async with httpx.AsyncClient(timeout=10) as http:
        refused = await http.post(openid_configuration["token_endpoint"], data={
            "grant_type": "password", "client_id": client_id, "username": "handler-sof", "password": "vantrum-demo"})
    assert refused.status_code in (400, 401)
    assert refused.json()["error"] == "unauthorized_client"
