"""The dashboard's sign-in in headless Chromium: authorization code with PKCE through the real Keycloak's login page.

The ``vantrum-dashboard`` client only redirects to http://127.0.0.1:8004/*, so the app is served on that port (the
test fails, naming it, when something else, such as the demo, holds it).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import pytest_asyncio

from eventkit.settings import AuthSettings
from eventkit.testing import DEMO_PASSWORD
from insight.app import build_app

from .conftest import chromium, serving

pytestmark = pytest.mark.integration

BASE = "http://127.0.0.1:8004"
SCREENSHOT = Path(__file__).parents[3] / "docs" / "screenshots" / "signed-in.png"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def server(golden_views, pool):
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 8004)) == 0:
            pytest.fail("port 8004 is taken (the demo?): the dashboard client only signs in back to it")
    async with serving(build_app(golden_views, pool), 8004) as base:
        yield base


@pytest_asyncio.fixture(loop_scope="session")
async def browser():
    async with chromium() as browser:
        yield browser


async def sign_in(page, username: str) -> None:
    await page.wait_for_selector("#username")
    await page.fill("#username", username)
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("#kc-login")
    await page.wait_for_url(f"{BASE}/**")


async def test_a_manager_signs_in_through_keycloak_and_sees_who_and_which_administration(server, browser):
    context = await browser.new_context(viewport={"width": 1400, "height": 900}, locale="sv-SE")
    page = await context.new_page()
    response = await page.goto(f"{server}/?as_of=2024-07-01&purpose=follow-up")
    assert "/realms/vantrum/protocol/openid-connect/auth" in page.url, "not signed in: sent to the provider"
    assert "code_challenge_method=S256" in page.url and response.status == 200
    await sign_in(page, "manager-sof")
    assert page.url == f"{server}/?as_of=2024-07-01&purpose=follow-up", "back where the person was going"
    who = page.locator("#signed-in")
    assert "Inloggad som" in await who.inner_text() and "manager-sof" in await who.inner_text()
    assert "social-services" in await who.inner_text()
    rows = await page.locator("#waiting-now tbody tr").count()
    assert rows > 0, "the manager's own administration's people, with a purpose"
    await page.screenshot(path=str(SCREENSHOT), full_page=False)
    await page.goto(f"{server}/?lang=en&as_of=2024-07-01")
    assert "Signed in as" in await page.locator("#signed-in").inner_text()
    assert (await page.request.get(f"{server}/api/waits")).status == 200, "the CSV and API links work in the session"
    await context.close()


async def test_without_signing_in_the_api_answers_401_and_the_page_sends_to_sign_in(server, browser):
    context = await browser.new_context()
    page = await context.new_page()
    assert (await page.request.get(f"{server}/api/waits")).status == 401
    await page.goto(f"{server}/")
    issuer = os.environ.get("VANTRUM_AUTH__ISSUER") or AuthSettings().issuer  # as the server under test reads it
    assert page.url.startswith(issuer + "/"), "sent to sign in at the configured provider"
    await context.close()
