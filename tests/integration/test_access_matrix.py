"""The access matrix: every demo user (so every role) × every endpoint of the services × a contact, case or
list of their own and of another administration, against the running apps with tokens from the real Keycloak.

The endpoints come from the apps' routes (``eventkit.permissions.routes``), what each cell should be from the one
rules table (``eventkit.permissions.RULES``): "ok" (past access control: 200, or a 409/422 of the command itself,
since writes are sent with an empty body and change nothing that matters), 403 or 404. Every route must either be
guarded or be one of the few open ones (health, metrics, docs, static files) or a page of the client's own
(feedback's ``/my-case``, reached with a client's session, never a staff token: 401 or 404 without one, and a staff
token opens nothing there), and every guarded one answers 401 without a token. The expected matrix is also kept in ``docs/access-matrix.txt``: a change of the rules shows there
as a diff (``VANTRUM_WRITE_ACCESS_MATRIX=1`` rewrites it).
"""

from __future__ import annotations

import os
import re
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI

from casework.app import create_app as create_casework
from casework.commands import OpenCase
from casework.ids import case_id_for_origin
from casework.settings import CaseworkSettings
from eventkit import permissions
from eventkit.application import execute
from eventkit.eventstore import Metadata
from eventkit.testing import DemoUser, in_namespace, namespace
from feedback.app import create_app as create_feedback
from feedback.commands import ReceiveComplaint
from feedback.domain import complaint_decider
from feedback.settings import FeedbackSettings
from insight.app import build_app
from integration.insight.conftest import golden_views  # noqa: F401  (the fixture, for the insight app)
from intake.app import create_app as create_intake
from intake.commands import OpenContact
from intake.domain import decider as contact_decider
from intake.settings import IntakeSettings
from outreach.app import create_app as create_outreach
from outreach.commands import RecordFirstEncounter
from outreach.domain import decider as outreach_decider
from outreach.settings import OutreachSettings
from contracts.sharing import NoticeRaised
from sharing import directory as sharing_directory
from sharing.app import create_app as create_sharing
from sharing.commands import GiveConsent, PartnerEntry, RegisterPartner
from sharing.domain import consent_decider, partner_decider, partner_stream
from sharing.notifications import store as notice_stores
from sharing.notifications.people import raise_notice
from sharing.settings import SharingSettings

pytestmark = pytest.mark.integration

SOC, AMF = "social-services", "amf"
USERS = {  # demo user → (roles, administration), as deploy/keycloak/vantrum-realm.json gives them
    "reception-sof": ({"reception"}, SOC), "handler-sof": ({"handler"}, SOC), "handler-amf": ({"handler"}, AMF),
    "outreach-sof": ({"outreach-worker"}, SOC), "manager-sof": ({"manager"}, SOC), "manager-amf": ({"manager"}, AMF),
    "ops": ({"operations"}, None), "auditor": ({"auditor"}, None),
}
SAVED = Path(__file__).parents[2] / "docs" / "access-matrix.txt"
PERSONNUMMER = "19900704-2345"
NEW = {  # the body of each route that makes a new contact, naming the administration it is for
    "/contacts": lambda administration: {"personnummer": PERSONNUMMER, "channel": "visit", "area": "homelessness",
                                         "administration": administration, "gender": "female"},
    "/outreach-contacts": lambda administration: {"alias": "Kalle", "place": "Stortorget", "worker": "outreach-1",
                                                  "administration": administration},
    "/complaints": lambda administration: {"administration": administration, "channel": "digital"},
    "/visit-ratings": lambda administration: {"unit": f"unit-of-{administration}", "administration": administration,
                                              "day": "2025-01-02", "satisfied": 1},
    "/consents": lambda administration: {"personnummer": PERSONNUMMER, "partner": "ria", "purpose": "drop_in_support",
                                         "reach_by": "drop_in", "administration": administration},
    "/referrals": lambda administration: {"personnummer": PERSONNUMMER, "partner": "ria",
                                          "administration": administration},
}


@dataclass
class Service:
    name: str
    app: FastAPI
    client: httpx.AsyncClient
    subjects: dict[str, str] | dict[str, dict[str, str]]
    """administration → the id of a contact or case of it; or, for a service with several kinds of subject,
    path parameter → administration → id"""


async def contacts(app: FastAPI) -> dict[str, str]:
    now, made = datetime.now(UTC), {}
    for administration in (SOC, AMF):
        made[administration] = contact_id = f"contact-{uuid4()}"
        await execute(app.state.store, contact_decider, contact_id, OpenContact(
            contact_id=contact_id, person_ref="p-" + uuid4().hex, channel="visit", area="homelessness",
            administration=administration, gender="female", contacted_at=now, recorded_at=now), Metadata(time=now))
    return made


async def outreach_contacts(app: FastAPI) -> dict[str, str]:
    now, made = datetime.now(UTC), {}
    for administration in (SOC, AMF):
        made[administration] = outreach_id = f"outreach-{uuid4()}"
        await execute(app.state.store, outreach_decider, outreach_id, RecordFirstEncounter(
            outreach_id=outreach_id, alias_ref="p-" + uuid4().hex, place="Stortorget", worker="outreach-1",
            met_at=now, administration=administration, recorded_at=now), Metadata(time=now))
    return made


async def cases(app: FastAPI) -> dict[str, str]:
    now, made = datetime.now(UTC), {}
    for administration in (SOC, AMF):
        origin = f"contact-{uuid4()}"
        made[administration] = case_id = case_id_for_origin(origin)
        await execute(app.state.store, app.state.decider, case_id, OpenCase(
            case_id=case_id, person_ref="p-" + uuid4().hex, origin_id=origin, channel="phone", area="addiction",
            administration=administration, gender="male", first_contact_at=now - timedelta(days=3), opened_at=now),
            Metadata(time=now))
    return made


async def feedback_subjects(app: FastAPI) -> dict[str, dict[str, str]]:
    """A case of each administration in feedback's view (as casework's events would make it; the table is made at
    the app's start), and a complaint of each."""
    now, cases, complaints = datetime.now(UTC), {}, {}
    store = app.state.store
    for administration in (SOC, AMF):
        cases[administration] = case_id = case_id_for_origin(f"contact-{uuid4()}")
        await store.pool.execute(
            f"""INSERT INTO {store.schema}.case_view (case_id, administration, area, first_contact_at, opened_at)
                VALUES ($1, $2, 'addiction', $3, $3)""", case_id, administration, now - timedelta(days=3))
        complaints[administration] = complaint_id = f"complaint-{uuid4()}"
        await execute(store, complaint_decider, complaint_id, ReceiveComplaint(
            complaint_id=complaint_id, administration=administration, case_id=None, channel="digital", has_text=False,
            received_at=now, contact_due_at=now + timedelta(days=7), answer_due_at=now + timedelta(days=28),
            recorded_at=now), Metadata(time=now))
    return {"case_id": cases, "complaint_id": complaints}


async def sharing_subjects(app: FastAPI) -> dict[str, dict[str, str]]:
    """The partner Ria in the directory (no administration: every staff role reads it), and a consent recorded by
    each administration."""
    now, consents = datetime.now(UTC), {}
    directory_store = next(s for s in app.state.runtime.stores if s is not app.state.store)
    _, ria = await execute(directory_store, partner_decider, partner_stream("ria"), RegisterPartner(
        partner="ria", entry=PartnerEntry(name="Ria", delivery="kafka"), by="chef.k", at=now, recorded_at=now),
        Metadata(time=now))
    async with app.state.store.pool.acquire() as conn:
        await sharing_directory.keep(conn, app.state.store.schema, "ria", ria.entry, now, now, None)
    for administration in (SOC, AMF):
        consents[administration] = consent_id = f"consent-{uuid4()}"
        await execute(app.state.store, consent_decider, consent_id, GiveConsent(
            consent_id=consent_id, person_ref="p-" + uuid4().hex, partner="ria", partner_standing="listed",
            purpose="drop_in_support", reach_by="drop_in", administration=administration, recorded_by="anna.h",
            given_at=now, expires_at=now + timedelta(days=30), recorded_at=now), Metadata(time=now))
    notices = {}  # a notice to each administration (sharing.notifications), as its consumer raises one
    for administration, other in ((SOC, AMF), (AMF, SOC)):
        notice = NoticeRaised(notice_id=str(uuid4()), kind="case_transferred", administration=administration,
                              person_ref="p-" + uuid4().hex, own_ids=["case-x"], other_administrations=[other],
                              raised_at=now)
        async with app.state.store.pool.acquire() as conn:
            await raise_notice(conn, notice_stores.of(app), notice, Metadata(time=now))
        notices[administration] = notice.notice_id
    return {"consent_id": consents, "code": {SOC: "ria", AMF: "ria"}, "notice_id": notices}


def is_client_page(service: str, path: str) -> bool:
    return service == "feedback" and path.startswith("/my-case/")


def cell(status: int) -> str | int:
    return status if status in (401, 403, 404) else "ok"


async def test_every_role_on_every_endpoint_gets_what_the_rules_say(settings, golden_views, pool):  # noqa: F811
    ns = namespace()
    async with AsyncExitStack() as stack:
        services = []
        for name, make, settings_class, subjects in (
                ("intake", create_intake, IntakeSettings, contacts), ("outreach", create_outreach, OutreachSettings,
                                                                      outreach_contacts),
                ("casework", create_casework, CaseworkSettings, cases),
                ("feedback", create_feedback, FeedbackSettings, feedback_subjects),
                ("sharing", create_sharing, SharingSettings, sharing_subjects)):
            app = make(in_namespace(settings_class, settings, ns))
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = await stack.enter_async_context(httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url=f"http://{name}"))
            services.append(Service(name, app, client, await subjects(app)))
        insight = build_app(golden_views, pool)
        services.append(Service("insight", insight, await stack.enter_async_context(httpx.AsyncClient(
            transport=httpx.ASGITransport(app=insight), base_url="http://insight")), {}))

        rows, unexpected, saved = [], {"read": [], "write": []}, []
        for service in services:
            for method, path, guarded in permissions.routes(service.app):
                if guarded is None and is_client_page(service.name, path):
                    url = path.replace("{case_id}", service.subjects["case_id"][SOC]).replace("{token}", "no-such-link")
                    for user in (None, "handler-sof", "manager-sof"):
                        response = await service.client.request(method, url, auth=DemoUser(user) if user else None)
                        allowed = (200, 401, 404) if path.endswith("/sign-out") else (401, 404)  # sign-out only forgets
                        assert response.status_code in allowed, f"{user} {method} {path}: {response.status_code}"
                        assert "Var är ditt ärende nu?" not in response.text, f"{user} {method} {path} shows a case"
                    continue
                if guarded is None:
                    assert permissions.is_public(path), f"{service.name} {method} {path} has no guard and is not open"
                    if method == "GET":
                        response = await service.client.get(path)
                        assert response.status_code not in (401, 403), f"{path} is open: {response.status_code}"
                    continue
                name, kind = guarded
                assert name == service.name, f"{service.name} {path} is guarded with {name}'s rules"
                use = permissions.kind_of(method, kind)
                parameter = re.search(r"\{(\w+)\}", path)
                one = parameter is not None
                line, expected_line = [], []

                async def call(user: str | None, administration: str, headers: dict) -> int:
                    url, params, body = path, {}, None
                    if one:
                        ids = service.subjects.get(parameter.group(1), service.subjects)
                        url = path.replace(parameter.group(0), ids[administration])
                    elif path in NEW:
                        body = NEW[path](administration)
                    elif path != "/audit" and administration != "own":  # a list: asked for that administration's
                        params = {"administration": administration}
                    auth = DemoUser(user) if user else None
                    response = await service.client.request(
                        method, url, params=params, json=body if method != "GET" else None,
                        headers={"X-Purpose": "audit", **headers}, auth=auth or httpx.USE_CLIENT_DEFAULT)
                    if response.status_code == 200 and service.name == "insight" and use is permissions.Kind.READ \
                            and user and path.endswith(("waiting-now", "lost", "cases")):
                        leaked = {r["administration"] for r in response.json()} - {USERS[user][1]}
                        assert not leaked, f"{user} was shown cases of {leaked} on {path}"
                    return response.status_code

                signed_out = (401, 303) if path == "/" else (401,)  # the dashboard page sends a browser to sign in
                assert await call(None, SOC, {}) in signed_out, f"{method} {path} without a token"
                assert await call(None, SOC, {"Authorization": "Bearer not-a-token"}) in signed_out
                for user, (roles, own) in USERS.items():
                    other = AMF if own == SOC else SOC
                    for column, administration in (("own", own or SOC), ("other", other)):
                        if not one and path not in NEW and column == "own":
                            administration = "own"  # a list with no filter: it must show the user's own only
                        subject = None if (not one and path not in NEW and column == "own") or path == "/audit" \
                            else administration
                        want = permissions.expected(service.name, use, frozenset(roles), own, subject, one=one)
                        got = cell(await call(user, administration, {}))
                        line.append(str(got))
                        expected_line.append(str(want if want != "allowed" else "ok"))
                        if got != (want if want != "allowed" else "ok"):
                            unexpected["read" if method == "GET" else "write"].append(
                                f"{user} {column} {method} {path}: {got}, the rules say {want}")
                rows.append(f"{service.name:9} {method:4} {path:54} " + " ".join(f"{c:>5}" for c in line))
                saved.append(f"{service.name:9} {method:4} {path:54} " + " ".join(f"{c:>5}" for c in expected_line))

    header = f"{'':9} {'':4} {'':54} " + " ".join(f"{u[:11]:>11}" for u in USERS)
    subheader = f"{'':9} {'':4} {'':54} " + " ".join(f"{'own':>5} {'other':>5}" for _ in USERS)
    print("\n".join(["", header, subheader, *rows]))
    print(f"{len(unexpected['read'])} unexpected reads, {len(unexpected['write'])} unexpected writes")
    assert not unexpected["read"] and not unexpected["write"], "\n".join(unexpected["read"] + unexpected["write"])

    document = "\n".join([
        "# The access matrix: what the rules (shared/eventkit/permissions.py) say each demo user gets.",
        "# ok: allowed (200); 403: the role may not, or not for another administration's list or new contact;",
        "# 404: another administration's contact or case (not confirmed to exist). Generated and checked by",
        "# tests/integration/test_access_matrix.py (VANTRUM_WRITE_ACCESS_MATRIX=1 rewrites it).",
        header, subheader, *saved]) + "\n"
    if os.environ.get("VANTRUM_WRITE_ACCESS_MATRIX"):
        SAVED.write_text(document, encoding="utf-8")
    assert SAVED.exists() and SAVED.read_text(encoding="utf-8") == document, (
        "the rules changed: docs/access-matrix.txt differs from what they give now; check the change, then "
        "rewrite it with VANTRUM_WRITE_ACCESS_MATRIX=1 scripts/test.sh tests/integration/test_access_matrix.py")
