"""Claim mapping and token checks of eventkit.auth, against keys made here and a JWKS served in memory.

The same checks against the real Keycloak are in tests/integration/auth/.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import Depends, FastAPI
from pydantic import ValidationError

from eventkit.auth import (IdentityProviderUnavailable, InvalidToken, Principal, SIGN_IN_DISABLED, TokenVerifier,
                           install, principal, require_roles)
from eventkit.settings import AuthSettings, Settings

ISSUER = "https://idp.example/realms/vantrum"
SETTINGS = AuthSettings(issuer=ISSUER)
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key, kid: str, alg: str) -> dict:
    algorithm = jwt.algorithms.RSAAlgorithm if alg.startswith("RS") else jwt.algorithms.ECAlgorithm
    return {**json.loads(algorithm.to_jwk(key.public_key())), "kid": kid, "alg": alg, "use": "sig"}


class Provider:
    """An identity provider in memory: its OpenID configuration and JWKS, with the requests counted."""

    def __init__(self, keys: list[dict]) -> None:
        self.keys, self.requests, self.down = keys, [], False

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url.path)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(200, json={"issuer": ISSUER, "jwks_uri": ISSUER + "/certs"})
        return httpx.Response(200, json={"keys": self.keys})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


def claims(**changes) -> dict:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": "vantrum-api", "sub": "u-1", "iat": now, "exp": now + 300,
            "preferred_username": "handler-sof", "roles": ["handler"], "administration": "social-services"}
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def sign(payload: dict, key=RSA_KEY, kid: str = "rsa-1", alg: str = "RS256") -> str:
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid})


def b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture
def provider() -> Provider:
    return Provider([jwk(RSA_KEY, "rsa-1", "RS256"), jwk(EC_KEY, "ec-1", "ES256"),
                     {"kty": "RSA", "kid": "enc-1", "use": "enc", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"}])


def verifier(provider: Provider, **settings) -> TokenVerifier:
    return TokenVerifier(SETTINGS.model_copy(update=settings), provider.transport())


# ------------------------------------------------------------------ claim mapping

def test_the_claims_name_the_staff_member_their_roles_and_administration():
    who = Principal.from_claims(claims(), SETTINGS)
    assert who == Principal(staff_id="handler-sof", roles=frozenset({"handler"}), administration="social-services",
                            subject="u-1")


def test_staff_without_an_administration_have_none():
    assert Principal.from_claims(claims(administration=None), SETTINGS).administration is None
    assert Principal.from_claims(claims(administration=""), SETTINGS).administration is None


def test_a_single_valued_administration_sent_as_a_list_is_read_but_two_are_refused():
    assert Principal.from_claims(claims(administration=["amf"]), SETTINGS).administration == "amf"
    with pytest.raises(InvalidToken, match="administration"):
        Principal.from_claims(claims(administration=["amf", "social-services"]), SETTINGS)


def test_roles_can_come_from_a_nested_claim_or_a_space_separated_string():
    keycloak = AuthSettings(roles_claim="realm_access.roles")
    nested = claims(roles=None, realm_access={"roles": ["manager", "handler"]})
    assert Principal.from_claims(nested, keycloak).roles == {"manager", "handler"}
    assert Principal.from_claims(claims(roles="reception auditor"), SETTINGS).roles == {"reception", "auditor"}
    assert Principal.from_claims(claims(roles=None), SETTINGS).roles == frozenset()
    with pytest.raises(InvalidToken, match="roles"):
        Principal.from_claims(claims(roles=[{"name": "handler"}]), SETTINGS)


def test_a_token_without_a_staff_id_is_refused_and_the_claim_names_are_settings():
    with pytest.raises(InvalidToken, match="preferred_username"):
        Principal.from_claims(claims(preferred_username=None), SETTINGS)
    other_provider = AuthSettings(staff_claim="upn", administration_claim="department")
    who = Principal.from_claims(claims(upn="anna@kommun.example", department="amf"), other_provider)
    assert (who.staff_id, who.administration) == ("anna@kommun.example", "amf")


def test_only_public_key_algorithms_can_be_configured():
    for refused in (["none"], ["HS256"], ["RS256", "HS512"], []):
        with pytest.raises(ValidationError, match="public-key"):
            AuthSettings(algorithms=refused)


def test_the_issuer_is_a_setting_of_every_service(monkeypatch):
    monkeypatch.setenv("VANTRUM_AUTH__ISSUER", "https://login.kommun.example/realms/soc")
    monkeypatch.setenv("VANTRUM_AUTH__ENABLED", "false")
    monkeypatch.setenv("VANTRUM_MODE", "test")  # the development pseudonym key is accepted
    auth = Settings().auth
    assert (auth.issuer, auth.audience, auth.enabled) == ("https://login.kommun.example/realms/soc", "vantrum-api",
                                                          False)


# ------------------------------------------------------------------ verification

async def test_rs256_and_es256_tokens_verify(provider):
    check = verifier(provider)
    assert (await check.verify(sign(claims()))).staff_id == "handler-sof"
    assert (await check.verify(sign(claims(), EC_KEY, "ec-1", "ES256"))).roles == {"handler"}


# Built when each test runs, not when pytest collects them: the suite runs for minutes, and a token made at
# collection would have expired by then, hiding the claim under test.
@pytest.mark.parametrize(("payload", "reason"), [
    (lambda: claims(aud="account"), "not meant for vantrum-api"),
    (lambda: claims(iss="https://evil.example/realms/vantrum"), "not issued by"),
    (lambda: claims(exp=int(time.time()) - 60), "expired"),
    (lambda: claims(iat=int(time.time()) + 600), "not valid yet"),
    (lambda: claims(nbf=int(time.time()) + 600), "not valid yet"),
    (lambda: claims(exp=None), "'exp'"),
    (lambda: claims(aud=None), "'aud'"),
], ids=["audience", "issuer", "expired", "issued-in-the-future", "not-before", "no-exp", "no-aud"])
async def test_a_token_with_a_wrong_claim_is_refused(provider, payload, reason):
    with pytest.raises(InvalidToken, match=reason):
        await verifier(provider).verify(sign(payload()))


async def test_the_leeway_forgives_a_little_clock_difference(provider):
    just_expired = sign(claims(exp=int(time.time()) - 3))
    assert (await verifier(provider).verify(just_expired)).staff_id == "handler-sof"
    with pytest.raises(InvalidToken, match="expired"):
        await verifier(provider, leeway=0).verify(just_expired)


async def test_alg_none_and_hmac_with_the_public_key_as_secret_are_refused(provider):
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': 'rsa-1'})}.{b64(claims())}."
    public_pem = RSA_KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    header = b64({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"})
    payload = b64(claims())
    # The classic algorithm-confusion forgery, built by hand (PyJWT refuses to make it).
    mac = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    confused = f"{header}.{payload}.{b64(mac)}"
    check = verifier(provider)
    for forged, reason in ((unsigned, "'none' are not accepted"), (confused, "'HS256' are not accepted")):
        with pytest.raises(InvalidToken, match=reason):
            await check.verify(forged)
    assert provider.requests == [], "refused before any key was fetched"


async def test_a_token_whose_algorithm_does_not_match_its_key_is_refused(provider):
    rs_header_on_ec_key = sign(claims(), RSA_KEY, "ec-1", "RS256")
    with pytest.raises(InvalidToken, match="not valid"):
        await verifier(provider).verify(rs_header_on_ec_key)


async def test_a_signature_by_another_key_or_a_changed_payload_is_refused(provider):
    check = verifier(provider)
    with pytest.raises(InvalidToken, match="signature does not verify"):
        await check.verify(sign(claims(), OTHER_KEY, "rsa-1"))
    header, _, signature = sign(claims()).split(".")
    with pytest.raises(InvalidToken, match="signature does not verify"):
        await check.verify(f"{header}.{b64(claims(administration='amf'))}.{signature}")
    for garbage in ("", "abc", "a.b.c"):
        with pytest.raises(InvalidToken, match="not a signed JWT"):
            await check.verify(garbage)


async def test_keys_are_fetched_once_and_again_only_for_an_unknown_key_at_most_every_interval(provider):
    check = verifier(provider, keys_refresh_interval=3600)
    for _ in range(20):
        await check.verify(sign(claims()))
    assert provider.requests == ["/realms/vantrum/.well-known/openid-configuration", "/realms/vantrum/certs"]
    for _ in range(5):  # made-up key ids: one refresh is allowed per interval, here none
        with pytest.raises(InvalidToken, match="does not publish"):
            await check.verify(sign(claims(), OTHER_KEY, "made-up"))
    assert check.keys.fetches == 1


async def test_a_rotated_key_is_fetched_when_a_token_names_it(provider):
    check = verifier(provider, keys_refresh_interval=0)
    await check.verify(sign(claims()))
    provider.keys = [jwk(OTHER_KEY, "rsa-2", "RS256")]  # the provider rotated its key
    assert (await check.verify(sign(claims(), OTHER_KEY, "rsa-2"))).staff_id == "handler-sof"
    assert check.keys.fetches == 2
    with pytest.raises(InvalidToken, match="does not publish"):  # the withdrawn key is forgotten with the refresh
        await check.verify(sign(claims()))


async def test_a_provider_that_is_down_makes_503_only_for_keys_not_yet_known(provider):
    check = verifier(provider, keys_refresh_interval=0)
    provider.down = True
    with pytest.raises(IdentityProviderUnavailable, match="connection refused"):
        await check.verify(sign(claims()))
    provider.down = False
    await check.verify(sign(claims()))
    provider.down = True
    assert (await check.verify(sign(claims()))).staff_id == "handler-sof", "known keys work while the provider is down"
    with pytest.raises(IdentityProviderUnavailable):
        await check.verify(sign(claims(), OTHER_KEY, "rsa-2"))


async def test_old_keys_are_fetched_again_and_kept_if_the_provider_is_down_then(provider):
    check = verifier(provider, keys_max_age=0.05, keys_refresh_interval=0)
    await check.verify(sign(claims()))
    await asyncio.sleep(0.1)
    provider.down = True
    assert (await check.verify(sign(claims()))).staff_id == "handler-sof"
    assert check.keys.fetches == 2, "the old keys were due: one try, then they served on"
    provider.down = False
    provider.keys = [jwk(OTHER_KEY, "rsa-2", "RS256")]  # withdrawn while the service still had it
    await asyncio.sleep(0.1)
    with pytest.raises(InvalidToken, match="does not publish"):
        await check.verify(sign(claims()))


async def test_a_provider_naming_another_issuer_is_a_configuration_error():
    lying = httpx.MockTransport(lambda request: httpx.Response(
        200, json={"issuer": "https://elsewhere.example", "jwks_uri": "https://elsewhere.example/certs"}))
    with pytest.raises(IdentityProviderUnavailable, match="names the issuer 'https://elsewhere.example'"):
        await TokenVerifier(SETTINGS, lying).verify(sign(claims()))


# ------------------------------------------------------------------ FastAPI dependencies

def app_with_auth(provider: Provider, **settings) -> FastAPI:
    app = FastAPI()
    install(app, SETTINGS.model_copy(update=settings), provider.transport())

    @app.get("/me")
    async def me(who: Principal = Depends(principal)) -> dict:
        return {"staff": who.staff_id, "roles": sorted(who.roles), "administration": who.administration}

    @app.get("/cases")
    async def cases(who: Principal = Depends(require_roles("handler", "manager"))) -> dict:
        return {"staff": who.staff_id}

    @app.get("/audit")
    async def audit(who: Principal = Depends(require_roles("auditor"))) -> dict:
        return {"staff": who.staff_id}

    return app


def http(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_the_dependencies_answer_401_403_and_503_in_the_refusal_shape(provider):
    bearer = {"authorization": f"Bearer {sign(claims())}"}
    async with http(app_with_auth(provider)) as client:
        me = await client.get("/me", headers=bearer)
        assert me.json() == {"staff": "handler-sof", "roles": ["handler"], "administration": "social-services"}
        assert (await client.get("/cases", headers=bearer)).json() == {"staff": "handler-sof"}

        missing = await client.get("/me")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == 'Bearer realm="vantrum"'
        assert missing.json()["rule"] == "sign-in-required"
        basic = await client.get("/me", headers={"authorization": "Basic aGFuZGxlcjpwdw=="})
        assert basic.status_code == 401

        expired = await client.get("/me", headers={"authorization": f"Bearer {sign(claims(exp=1))}"})
        assert expired.status_code == 401
        assert expired.json() == {"rule": "invalid-token", "detail": "the token has expired"}
        assert expired.headers["www-authenticate"] == \
            'Bearer realm="vantrum", error="invalid_token", error_description="the token has expired"'

        forbidden = await client.get("/audit", headers=bearer)
        assert forbidden.status_code == 403
        assert forbidden.json() == {"rule": "role-required",
                                    "detail": "this needs the role auditor, which handler-sof does not hold"}
        reception = {"authorization": f"Bearer {sign(claims(preferred_username='reception-sof', roles=['reception']))}"}
        assert "one of the roles handler, manager" in (await client.get("/cases", headers=reception)).json()["detail"]

    provider.down = True
    async with http(app_with_auth(provider)) as client:
        down = await client.get("/me", headers=bearer)
        assert down.status_code == 503
        assert down.json()["rule"] == "identity-provider-unavailable"
        assert down.headers["retry-after"] == "10"


async def test_with_sign_in_disabled_nobody_is_asked_for_a_token(provider):
    async with http(app_with_auth(provider, enabled=False)) as client:
        assert (await client.get("/audit")).json() == {"staff": SIGN_IN_DISABLED.staff_id}
    assert provider.requests == []


def test_require_roles_needs_a_role():
    with pytest.raises(ValueError):
        require_roles()


async def test_a_verified_token_is_remembered_until_it_expires_and_checked_again_after(provider, monkeypatch):
    check = verifier(provider)
    token = sign(claims(exp=int(time.time()) + 60))
    assert (await check.verify(token)).staff_id == "handler-sof"
    checked = []
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: checked.append(1) or (_ for _ in ()).throw(jwt.PyJWTError("x")))
    assert (await check.verify(token)).staff_id == "handler-sof" and not checked, "remembered: not decoded again"
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(InvalidToken):
        await check.verify(token)
    assert checked, "expired in the memory: verified again, and refused"
