"""The real identity provider: Keycloak with deploy/keycloak/vantrum-realm.json, started by deploy/local/servers.py."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

import httpx
import pytest
import pytest_asyncio

from eventkit.settings import AuthSettings

DEMO_PASSWORD = "vantrum-demo"
"""Every demo user's password (deploy/keycloak/README.md): local development and tests only."""

Tokens = Callable[..., Awaitable[dict]]


@pytest.fixture(scope="session")
def auth_settings() -> AuthSettings:
    return AuthSettings(issuer=os.environ.get("VANTRUM_AUTH__ISSUER") or AuthSettings().issuer)


@pytest_asyncio.fixture(scope="session")
async def openid_configuration(auth_settings: AuthSettings) -> dict:
    url = auth_settings.issuer + "/.well-known/openid-configuration"
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(url)
            response.raise_for_status()
            return response.json()
    except httpx.HTTPError as error:
        if "VANTRUM_AUTH__ISSUER" not in os.environ:  # your own servers, and no identity provider named
            pytest.skip(f"no identity provider at {auth_settings.issuer} ({error}); start one with "
                        "`python3 deploy/local/servers.py up --only keycloak` or set VANTRUM_AUTH__ISSUER")
        pytest.exit(f"the identity provider VANTRUM_AUTH__ISSUER={auth_settings.issuer} does not answer: {error}",
                    returncode=1)


@pytest.fixture(scope="session")
def tokens(openid_configuration: dict) -> Tokens:
    """``await tokens("handler-sof")``: the token response of the password grant for a demo user."""

    async def grant(username: str, client_id: str = "vantrum-dev", **form) -> dict:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(openid_configuration["token_endpoint"], data={
                "grant_type": "password", "client_id": client_id, "username": username,
                "password": DEMO_PASSWORD, **form})
        assert response.status_code == 200, response.text
        return response.json()

    return grant
