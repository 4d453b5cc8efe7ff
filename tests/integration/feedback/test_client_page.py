"""The client's own page: reached only through a one-time link a handler made, for that one case; plain Swedish
(LIX under 40 for each page as a whole), English on ``?lang=en``; no unit names, codes or staff ids; the wait
questions answered there reach the bus without the client's text."""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import asynccontextmanager
from html.parser import HTMLParser
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from contracts import topics
from eventkit import erasure
from eventkit.envelope import Envelope, to_record
from eventkit.erasure import PersonErased
from eventkit.testing import eventually
from feedback.client.access import COOKIE
from unit.feedback.test_readability import lix

from .conftest import World, client_for

pytestmark = pytest.mark.integration
SCREENSHOTS = Path(__file__).parents[3] / "docs" / "screenshots"


class VisibleText(HTMLParser):
    """The text a person sees (not the style sheet), one block per element."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("style", "title")

    def handle_endtag(self, tag):
        self._skip -= tag in ("style", "title")

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.blocks.append(" ".join(data.split()))


def visible(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.blocks


def swedish_page_lix(html: str) -> float:
    blocks = [b for b in visible(html) if b != "In English"]
    return lix(" ".join(b if b.endswith((".", "!", "?")) else b + "." for b in blocks))


@asynccontextmanager
async def signed_in_client(world: World, case_id: str):
    """A client's browser that opened the link a handler made for ``case_id``: (client, link path, the answer)."""
    link = await world.client_link(case_id)
    assert link.status_code == 201, link.text
    path = "/" + link.json()["url"].split("/", 3)[3]
    async with client_for(world) as client:
        shown = await client.get(path)
        assert shown.status_code == 200 and "Visa mitt ärende" in shown.text
        opened = await client.post(path)
        assert opened.status_code == 303 and opened.headers["location"] == f"/my-case/{case_id}?lang=sv"
        yield client, path, opened


async def test_a_handlers_link_opens_the_clients_own_page_once_with_a_strict_http_only_cookie(world: World):
    case_id = await world.open_case()
    await world.first_meeting(case_id)
    async with signed_in_client(world, case_id) as (client, path, opened):
        cookie = opened.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert "Path=/my-case" in cookie and "Max-Age=1800" in cookie
        page = await client.get(f"/my-case/{case_id}")
        assert page.status_code == 200
        text = " ".join(visible(page.text))
        for expected in ("Vi tar reda på vilken hjälp som passar dig.", "Du väntade 21 dagar på ditt första möte",
                         "Du har en egen handläggare", "Hur upplevde du väntetiden?", "kl. 09.30"):
            assert expected in text, expected
        # No internal names or codes: not the administration, the area, the stage's code or the handler's staff id.
        for internal in ("social-services", "homelessness", "investigation", "anna.h", case_id):
            assert internal not in text, internal

        again = await client_for(world).post(path)  # the link was spent
        assert again.status_code == 404 and "Länken fungerar inte längre" in again.text

    token = path.rsplit("/", 1)[1]
    stored = await world.pool.fetch(f"SELECT * FROM {world.schema}.client_links WHERE case_id = $1", case_id)
    assert [row["token_hash"] for row in stored] == [hashlib.sha256(token.encode()).digest()]
    assert token not in json.dumps([{k: str(v) for k, v in row.items()} for row in stored])
    audited = await world.pool.fetch(f"SELECT staff, kind, action FROM {world.schema}.access_log WHERE $1 = ANY(subjects)",
                                     case_id)
    assert {(r["staff"], r["kind"], r["action"]) for r in audited} >= {
        ("handler-sof", "change", "CreateClientLink"), ("client", "read", "client-page")}


async def test_a_client_cannot_read_or_answer_for_another_clients_case(world: World):
    mine, theirs = await world.open_case(), await world.open_case()
    await world.first_meeting(mine)
    await world.first_meeting(theirs)
    async with signed_in_client(world, mine) as (client, _, _):
        assert (await client.get(f"/my-case/{mine}")).status_code == 200
        other = await client.get(f"/my-case/{theirs}")
        assert other.status_code == 404 and "Det här ärendet kan du inte se." in other.text
        posted = await client.post(f"/my-case/{theirs}/wait-questions", content="experience=5",
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert posted.status_code == 404
    async with client_for(world) as stranger:
        signed_out = await stranger.get(f"/my-case/{mine}")
        assert signed_out.status_code == 401 and "Öppna länken" in signed_out.text
        stranger.cookies.set(COOKIE, "made-up")
        forged = await stranger.get(f"/my-case/{mine}")
        assert forged.status_code == 401
    assert (await world.pool.fetchval(f"SELECT count(*) FROM {world.schema}.events WHERE stream_id = $1", theirs)) == 0


async def test_only_a_handler_of_the_cases_administration_makes_a_link(world: World):
    case_id = await world.open_case()
    await world.seen(case_id)
    assert (await world.client_link(case_id, "handler-amf")).status_code == 404
    assert (await world.client_link(case_id, "reception-sof")).status_code == 403
    assert (await world.client_link(case_id, "manager-sof")).status_code == 403
    assert (await world.staff.post(f"/cases/{case_id}/client-links", auth=None)).status_code == 401


async def test_the_wait_questions_answered_on_the_page_reach_the_bus_without_the_clients_text(world: World):
    case_id = await world.open_case(waited_days=30)
    await world.first_meeting(case_id)
    words = "Prata med någon som varit med om samma sak"
    async with signed_in_client(world, case_id) as (client, _, _):
        sent = await client.post(f"/my-case/{case_id}/wait-questions?lang=sv",
                                 data={"experience": "2", "text": words})
        assert sent.status_code == 303 and "error" not in sent.headers["location"]
        page = await client.get(sent.headers["location"])
        assert "Tack för ditt svar!" in page.text and 'name="experience"' not in page.text
    published, records = await world.published(case_id, 1)
    mine = [json.loads(r.value) for r in published]
    assert [(m["experience"], m["waited_days"], m["has_text"], m["respondent"]) for m in mine] == [(2, 30, True, "client")]
    assert not any(words in r.value.decode() for r in records)
    kept = await world.pool.fetch(f"SELECT question, text FROM {world.schema}.free_texts WHERE subject_id = $1", case_id)
    assert [(r["question"], r["text"]) for r in kept] == [("Vad hade du velat göra under väntetiden?", words)]
    seen = await world.staff.get(f"/cases/{case_id}")
    assert seen.status_code == 200 and seen.json()["texts"][0]["text"] == words


async def test_a_personnummer_in_the_clients_text_is_refused_and_not_kept(world: World):
    case_id = await world.open_case()
    await world.first_meeting(case_id)
    async with signed_in_client(world, case_id) as (client, _, _):
        sent = await client.post(f"/my-case/{case_id}/wait-questions", data={"experience": "4",
                                                                             "text": "jag heter 19900704-2345"})
        assert sent.status_code == 303 and sent.headers["location"].endswith("error=true")
        page = await client.get(sent.headers["location"])
        assert "Vi kunde inte spara ditt svar" in page.text and 'name="experience"' in page.text
    assert await world.pool.fetchval(f"SELECT count(*) FROM {world.schema}.free_texts WHERE subject_id = $1", case_id) == 0


async def test_every_page_a_client_can_see_reads_easily_in_swedish_and_has_an_english_twin(world: World):
    waiting = await world.open_case()
    await world.seen(waiting)
    met = await world.open_case()
    await world.first_meeting(met)
    pages = []
    for case_id in (waiting, met):
        async with signed_in_client(world, case_id) as (client, path, _):
            for lang in ("sv", "en"):
                pages.append((lang, (await client.get(f"/my-case/{case_id}?lang={lang}")).text))
    async with client_for(world) as stranger:
        for lang in ("sv", "en"):
            pages.append((lang, (await stranger.get(path + f"?lang={lang}")).text))  # the spent link
            pages.append((lang, (await stranger.get(f"/my-case/{met}?lang={lang}")).text))  # no session
    for lang, html in pages:
        assert f'<html lang="{lang}">' in html
        if lang == "sv":
            assert swedish_page_lix(html) < 40, (swedish_page_lix(html), visible(html))
        else:
            assert not re.search(r"\b(Ditt ärende|handläggare|väntetiden)\b", html)
    async with client_for(world) as stranger:
        unknown = await stranger.get(f"/my-case/{met}?lang=fi")  # a language the page does not have: Swedish
        assert unknown.status_code == 401 and '<html lang="sv">' in unknown.text


async def test_screenshots_of_the_clients_page_in_swedish_and_english(world: World):
    from integration.insight.conftest import chromium, serving

    case_id = await world.open_case(waited_days=19)
    await world.first_meeting(case_id)
    link = (await world.client_link(case_id)).json()["url"]
    path = "/" + link.split("/", 3)[3]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with serving(world.feedback, 18705) as base, chromium() as browser:
        page = await browser.new_page(viewport={"width": 720, "height": 900}, locale="sv-SE")
        await page.goto(base + path)
        await page.click("text=Visa mitt ärende")  # spends the link, sets the cookie, shows the case
        await page.wait_for_url(f"**/my-case/{case_id}?lang=sv")
        assert await page.inner_text("h1") == "Ditt ärende"
        await page.screenshot(path=SCREENSHOTS / "client-sv.png", full_page=True)
        await page.click("text=In English")
        await page.wait_for_url(f"**/my-case/{case_id}?lang=en")
        assert await page.inner_text("h1") == "Your case"
        await page.screenshot(path=SCREENSHOTS / "client-en.png", full_page=True)
        cookies = await page.context.cookies()
        assert [(c["name"], c["httpOnly"], c["sameSite"]) for c in cookies] == [(COOKIE, True, "Strict")]


async def test_ended_links_and_sessions_are_forgotten_a_day_after_they_end(world: World):
    case_id = await world.open_case()
    await world.first_meeting(case_id)
    async with signed_in_client(world, case_id) as (client, _, _):
        links = world.feedback.state.client_links
        count = f"SELECT count(*) FROM {world.schema}.client_links WHERE case_id = $1"
        assert await world.pool.fetchval(count, case_id) == 1
        await links.forget_expired(world.settings.now())  # a live link and session stay
        assert await world.pool.fetchval(count, case_id) == 1
        await links.forget_expired(world.settings.now() + timedelta(days=5))
        assert await world.pool.fetchval(count, case_id) == 0
        assert (await client.get(f"/my-case/{case_id}")).status_code == 401  # the session went with it


async def test_an_erased_persons_free_text_is_deleted_and_their_score_stays(world: World, producer):
    case_id = await world.open_case(waited_days=12)
    await world.first_meeting(case_id)
    async with signed_in_client(world, case_id) as (client, _, _):
        sent = await client.post(f"/my-case/{case_id}/wait-questions", data={"experience": "3", "text": "Mer stöd"})
        assert sent.status_code == 303
    person = await world.pool.fetchval(f"SELECT person_ref FROM {world.schema}.case_view WHERE case_id = $1", case_id)
    assert person and await world.pool.fetchval(f"SELECT count(*) FROM {world.schema}.free_texts WHERE subject_id = $1",
                                                case_id) == 1
    erased = PersonErased(person_ref=person, erased_at=datetime.now(UTC))
    _, version, data = erasure.registry.encode(erased)
    envelope = Envelope(id=uuid4(), source="vantrum/erasure", type=erased.type_name(), subject=f"erasure-{person}",
                        time=erased.erased_at, schemaversion=version, data=data)
    record = to_record(envelope, world.settings.kafka.topic(topics.ERASURES))
    await producer.send_and_wait(record.topic, key=record.key, value=record.value, headers=record.headers)

    async def forgotten():
        return await world.pool.fetchval(
            f"""SELECT (SELECT count(*) FROM {world.schema}.free_texts WHERE subject_id = $1) = 0
                       AND (SELECT person_ref FROM {world.schema}.case_view WHERE case_id = $1) IS NULL""", case_id)

    assert await eventually(forgotten, timeout=30)
    seen = (await world.staff.get(f"/cases/{case_id}")).json()
    assert seen["texts"] == [] and seen["feedback"]["wait_experience"] == 3, "the score stays, counted"
