"""Staff sign-in: OpenID Connect access tokens, verified against the identity provider's published keys.

A request carries ``Authorization: Bearer <token>``; the token is a JWT signed by the identity provider
(locally Keycloak's ``vantrum`` realm, see ``deploy/keycloak/``; in a municipality its own provider, named by
``auth.issuer``). It is accepted only if

- its algorithm is one of ``auth.algorithms`` (public-key only: never ``none``, never ``HS*``, whose
  "secret" would be the public key), and the key it names (``kid``) is one the issuer publishes for it;
- the signature verifies with that key;
- ``iss`` is exactly ``auth.issuer``, ``aud`` contains ``auth.audience`` (so an ID token, or a token
  meant for another client, is refused), and ``exp``/``nbf``/``iat`` hold within ``auth.leeway`` seconds;
- it names a staff member (``auth.staff_claim``).

The keys come from the ``jwks_uri`` of the issuer's OpenID configuration, fetched with httpx when first
needed and kept: a request never waits for a fetch unless its token names a key not yet known (the provider
rotated its keys) or the keys are older than ``auth.keys_max_age``, and fetches are at least
``auth.keys_refresh_interval`` apart however many unknown keys arrive.

If the provider cannot be reached when a key is needed, the answer is 503 ``identity-provider-unavailable``,
not 401: the token may be perfectly good, and a 401 would send the person to sign in again at a provider
that is down, and show an outage as bad credentials. Keys already fetched go on working while the provider
is down (a token is checked without asking it), so an outage only matters to tokens signed with a new key.

``principal`` and ``require_roles`` are FastAPI dependencies; ``install`` puts a verifier on an app and
maps refusals to the ``Refusal`` shape of every API, with a ``WWW-Authenticate: Bearer`` header (RFC 6750).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from .http import Refusal
from .logs import get_logger
from .settings import AuthSettings

log = get_logger(__name__)

REALM = "vantrum"


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed-in staff member, as the identity provider vouches for them."""

    staff_id: str
    """The staff member's user name (``preferred_username``): what the access log records as *who*."""
    roles: frozenset[str]
    administration: str | None
    """The administration (förvaltning) they work for, e.g. ``social-services``; None for staff who work across
    administrations (operations, auditors)."""
    subject: str | None = None
    """The provider's stable id for the person (``sub``), which survives a change of user name."""
    authenticated: bool = True

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], settings: AuthSettings) -> Principal:
        """The claims of a verified token, read as the settings name them; a claim of the wrong shape is refused."""
        staff_id = claims.get(settings.staff_claim)
        if not isinstance(staff_id, str) or not staff_id.strip():
            raise InvalidToken(f"the token names no staff member (claim {settings.staff_claim!r})")
        return cls(staff_id=staff_id, roles=frozenset(_roles(claims, settings.roles_claim)),
                   administration=_administration(claims, settings.administration_claim),
                   subject=claims.get("sub") if isinstance(claims.get("sub"), str) else None)

    def has_any(self, roles: tuple[str, ...] | frozenset[str]) -> bool:
        return not self.authenticated or bool(self.roles & set(roles))


SIGN_IN_DISABLED = Principal(staff_id="sign-in-disabled", roles=frozenset(), administration=None, authenticated=False)
"""Who every request is when ``auth.enabled`` is false (development only): every role check passes."""


def _roles(claims: Mapping[str, Any], path: str) -> list[str]:
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()  # some providers give a space-separated string, like ``scope``
    if isinstance(value, list) and all(isinstance(role, str) for role in value):
        return value
    raise InvalidToken(f"the roles claim {path!r} is neither a list of names nor a string")


def _administration(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if isinstance(value, list) and len(value) == 1:  # a single-valued attribute some providers send as a list
        value = value[0]
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidToken(f"the administration claim {name!r} must name one administration")
    return value


class InvalidToken(Exception):
    """The token is missing, malformed, not ours, or no longer valid: 401."""


class IdentityProviderUnavailable(Exception):
    """The keys needed to check the token could not be fetched from the identity provider: 503."""


class SigningKeys:
    """The issuer's public signing keys by key id, fetched from its JWKS when needed, never per request."""

    def __init__(self, settings: AuthSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._settings, self._transport = settings, transport
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None   # last successful fetch (monotonic)
        self._attempted_at: float | None = None  # last fetch, whatever came of it
        self._error: str | None = None           # why the last fetch failed, if it did
        self._lock: asyncio.Lock | None = None
        self.fetches = 0
        """How many times the keys were fetched (each: the OpenID configuration, then the JWKS)."""

    async def get(self, kid: str) -> jwt.PyJWK | None:
        """The key named ``kid``, or None if the issuer does not publish it; IdentityProviderUnavailable if
        the key is not known and the issuer cannot be asked."""
        if kid in self._keys and self._fresh():
            return self._keys[kid]
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # one fetch at a time; those waiting use its result
            if kid in self._keys and self._fresh():
                return self._keys[kid]
            if self._attempted_at is None or time.monotonic() - self._attempted_at >= self._settings.keys_refresh_interval:
                await self._refresh()
            if kid in self._keys:
                return self._keys[kid]  # possibly older than keys_max_age, if the refresh failed: better than nothing
            if self._error is not None:
                raise IdentityProviderUnavailable(self._error)
            return None

    def _fresh(self) -> bool:
        return self._fetched_at is not None and time.monotonic() - self._fetched_at < self._settings.keys_max_age

    async def _refresh(self) -> None:
        self._attempted_at, self.fetches = time.monotonic(), self.fetches + 1
        settings = self._settings
        discovery = settings.discovery_url or settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            async with httpx.AsyncClient(timeout=settings.fetch_timeout, transport=self._transport) as client:
                configuration = await _get_json(client, discovery)
                if configuration.get("issuer") != settings.issuer:
                    raise _Misconfigured(f"the OpenID configuration at {discovery} names the issuer "
                                         f"{configuration.get('issuer')!r}, not {settings.issuer!r} (auth.issuer)")
                if not isinstance(jwks_uri := configuration.get("jwks_uri"), str):
                    raise _Misconfigured(f"the OpenID configuration at {discovery} has no jwks_uri")
                jwks = await _get_json(client, jwks_uri)
        except (httpx.HTTPError, ValueError, _Misconfigured) as error:
            self._error = f"identity provider {settings.issuer} unavailable: {error or type(error).__name__}"
            log.warning("signing keys not fetched", issuer=settings.issuer, error=self._error,
                        keeping=len(self._keys))
            return
        self._keys, self._fetched_at, self._error = _signing_keys(jwks, settings.algorithms), time.monotonic(), None
        log.info("signing keys fetched", issuer=settings.issuer, kids=sorted(self._keys))


class _Misconfigured(Exception):
    pass


async def _get_json(client: httpx.AsyncClient, url: str) -> dict:
    response = await client.get(url, headers={"accept": "application/json"})
    if response.status_code != 200:
        raise _Misconfigured(f"{url} answered {response.status_code}")
    body = response.json()
    if not isinstance(body, dict):
        raise _Misconfigured(f"{url} did not answer a JSON object")
    return body


def _signing_keys(jwks: dict, algorithms: list[str]) -> dict[str, jwt.PyJWK]:
    """Keys for signatures in an accepted algorithm; encryption keys and the rest are left out."""
    keys = {}
    for data in jwks.get("keys", []):
        if not isinstance(data, dict) or not isinstance(data.get("kid"), str) or data.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(data)
        except jwt.PyJWTError:
            continue  # an algorithm or key type this library does not know cannot have signed an accepted token
        if key.algorithm_name in algorithms:
            keys[data["kid"]] = key
    return keys


class TokenVerifier:
    """Checks access tokens of one issuer; keeps its keys, so make one per process (``install`` does)."""

    VERIFIED_KEPT = 10_000
    """Tokens remembered as verified, the least recently used forgotten first."""

    def __init__(self, settings: AuthSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.keys = SigningKeys(settings, transport)
        # A signature check is about a tenth of a command's CPU (bench/http_write.py); a client sends the same token
        # for minutes, so a verified one is remembered until it expires (Keycloak's live 5 minutes), as long as the
        # key that signed it is still published (a withdrawn key ends its tokens at the next refresh of the keys).
        self._verified: OrderedDict[bytes, tuple[float, str, Principal]] = OrderedDict()

    async def verify(self, token: str) -> Principal:
        """The principal the token vouches for; InvalidToken or IdentityProviderUnavailable otherwise."""
        digest = hashlib.sha256(token.encode()).digest()
        if (known := self._verified.get(digest)) is not None:
            expires, kid, principal = known
            if time.time() < expires and await self.keys.get(kid) is not None:
                self._verified.move_to_end(digest)
                return principal
            del self._verified[digest]
        principal, expires, kid = await self._verify(token)
        self._verified[digest] = (expires, kid, principal)
        if len(self._verified) > self.VERIFIED_KEPT:
            self._verified.popitem(last=False)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float, str]:
        settings = self.settings
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("the token is not a signed JWT") from None
        algorithm = header.get("alg")
        if algorithm not in settings.algorithms:
            raise InvalidToken(f"tokens signed with {algorithm!r} are not accepted "
                               f"(only {', '.join(settings.algorithms)})")
        if not isinstance(kid := header.get("kid"), str):
            raise InvalidToken("the token names no signing key (kid)")
        if (key := await self.keys.get(kid)) is None:
            raise InvalidToken(f"the token is signed with a key {settings.issuer} does not publish")
        try:
            claims = jwt.decode(token, key=key, algorithms=settings.algorithms, audience=settings.audience,
                                issuer=settings.issuer, leeway=settings.leeway,
                                options={"require": ["exp", "iat", "iss", "aud"], "enforce_minimum_key_length": True})
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken(f"the token is not meant for {settings.audience} (aud)") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken(f"the token was not issued by {settings.issuer} (iss)") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("the token is not valid yet (nbf or iat in the future)") from None
        except jwt.MissingRequiredClaimError as error:
            raise InvalidToken(f"the token has no {error.claim!r} claim") from None
        except jwt.InvalidSignatureError:
            raise InvalidToken("the token's signature does not verify") from None
        except jwt.PyJWTError as error:
            raise InvalidToken(f"the token is not valid: {error}") from None
        return Principal.from_claims(claims, settings), float(claims["exp"]), kid


# ------------------------------------------------------------------ FastAPI

class Unauthenticated(Exception):
    def __init__(self, rule: str, detail: str, error: str | None = None) -> None:
        super().__init__(detail)
        self.rule, self.detail, self.error = rule, detail, error


class Forbidden(Exception):
    def __init__(self, detail: str, rule: str = "role-required") -> None:
        super().__init__(detail)
        self.detail, self.rule = detail, rule


class AuthUnavailable(Exception):
    pass


def install(app: FastAPI, settings: AuthSettings, transport: httpx.AsyncBaseTransport | None = None) -> TokenVerifier:
    """Put a verifier on ``app`` (for ``principal`` and ``require_roles``) and answer refusals in the Refusal shape."""
    verifier = TokenVerifier(settings, transport)
    app.state.token_verifier = verifier
    if not settings.enabled:
        log.warning("staff sign-in is disabled (auth.enabled=false): every request passes every role check")

    @app.exception_handler(Unauthenticated)
    async def unauthenticated(_: Request, refusal: Unauthenticated) -> JSONResponse:
        challenge = f'Bearer realm="{REALM}"'
        if refusal.error:  # RFC 6750 §3: no error code when the request simply had no token
            challenge += f', error="{refusal.error}", error_description="{_quoted(refusal.detail)}"'
        return JSONResponse(Refusal(rule=refusal.rule, detail=refusal.detail).model_dump(), status_code=401,
                            headers={"www-authenticate": challenge})

    @app.exception_handler(Forbidden)
    async def forbidden(_: Request, refusal: Forbidden) -> JSONResponse:
        return JSONResponse(Refusal(rule=refusal.rule, detail=refusal.detail).model_dump(), status_code=403,
                            headers={"www-authenticate": f'Bearer realm="{REALM}", error="insufficient_scope"'})

    @app.exception_handler(AuthUnavailable)
    async def unavailable(_: Request, error: AuthUnavailable) -> JSONResponse:
        return JSONResponse(Refusal(rule="identity-provider-unavailable", detail=str(error)).model_dump(),
                            status_code=503, headers={"retry-after": str(max(1, round(settings.keys_refresh_interval)))})

    return verifier


def _quoted(text: str) -> str:
    return text.replace("\\", "").replace('"', "'")


async def principal(request: Request) -> Principal:
    """FastAPI dependency: the signed-in staff member, from the request's bearer token; 401 without a valid one."""
    verifier: TokenVerifier | None = getattr(request.app.state, "token_verifier", None)
    if verifier is None:
        raise RuntimeError("eventkit.auth.install(app, settings.auth) was not called for this app")
    if not verifier.settings.enabled:
        return SIGN_IN_DISABLED
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    cookie = getattr(request.app.state, "session_cookie", None)  # the dashboard's sign-in keeps the token there
    if not token.strip() and cookie and request.method in ("GET", "HEAD") and request.cookies.get(cookie):
        scheme, token = "bearer", request.cookies[cookie]  # only for reads: a cookie rides along with any request
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("sign-in-required", "sign in: send an access token as 'Authorization: Bearer <token>'")
    try:
        who = await verifier.verify(token.strip())
    except InvalidToken as error:
        log.info("token refused", reason=str(error), path=request.url.path)
        raise Unauthenticated("invalid-token", str(error), error="invalid_token") from None
    except IdentityProviderUnavailable as error:
        raise AuthUnavailable(f"the token cannot be checked now: {error}; try again shortly") from None
    request.state.principal = who
    return who


def require_roles(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """FastAPI dependency: the signed-in staff member if they hold any one of ``roles``; 403 naming them otherwise."""
    if not roles:
        raise ValueError("require_roles needs at least one role")

    async def holds_a_role(who: Principal = Depends(principal)) -> Principal:
        if not who.has_any(roles):
            needed = f"the role {roles[0]}" if len(roles) == 1 else f"one of the roles {', '.join(roles)}"
            raise Forbidden(f"this needs {needed}, which {who.staff_id} does not hold")
        return who

    return holds_a_role
