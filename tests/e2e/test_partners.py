"""A person waiting for a case is referred to a partner with their consent, over the real services, Kafka,
PostgreSQL and Keycloak: reception → a case in casework → the person's consent and a referral in sharing → the
referral on the partner's own topic (read with a plain consumer signed in as the partner's own Kafka principal, whose
ACLs allow nothing else) → the partner's status back on its status topic → visible in the sharing API and in casework's case read. After the withdrawal, a consumer on the
partner's topic receives nothing more about the person but the withdrawal and the tombstone. A referral without
consent is refused with 409 naming the rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from casework.ids import case_id_for_origin
from contracts import topics
from eventkit.testing import DemoUser, eventually, in_namespace
from integration.sharing.conftest import read_partner_topic, ria, send_status, signed_in_as_partner
from sharing.app import create_app as create_sharing
from sharing.settings import FeedSettings, SharingSettings

from .conftest import serving
from .test_erasure import a_personnummer
from .test_journeys import ago, ok, wait_for_case

pytestmark = pytest.mark.integration


async def test_consent_referral_status_back_in_casework_and_nothing_after_the_withdrawal(platform, settings):
    ns = platform.kafka.topic_prefix.rstrip(".")
    sharing_settings = in_namespace(SharingSettings, settings, ns, pseudonym_key=settings.pseudonym_key,
                                    feed=FeedSettings(interval=0.2, status_metadata_max_age_ms=1000))
    personnummer = a_personnummer()
    contact = await ok(platform.intake.post("/contacts", json={
        "personnummer": personnummer, "channel": "visit", "area": "addiction", "administration": "social-services",
        "gender": "female", "contacted_at": ago(3)}))
    await ok(platform.intake.post(f"/contacts/{contact['contact_id']}/referral", json={"referred_at": ago(2.9)}))
    case_id = case_id_for_origin(contact["contact_id"])
    case = await wait_for_case(platform, case_id)

    partner = f"ria-{ns[-6:]}"  # a principal of this session's own: partner-access replaces a principal's ACLs
    async with serving(create_sharing(sharing_settings), "sharing", "handler-sof") as sharing, \
            signed_in_as_partner(platform.kafka, partner) as as_partner:
        assert (await sharing.post("/partners", json=ria(code=partner), auth=DemoUser("manager-sof"))).status_code \
            == 201

        refused = await sharing.post("/referrals", json={"personnummer": personnummer, "partner": partner,
                                                         "administration": "social-services"})
        assert refused.status_code == 409 and refused.json()["rule"] == "consent-not-given"

        consent = await ok(sharing.post("/consents", json={
            "personnummer": personnummer, "partner": partner, "purpose": "callback_during_wait", "reach_by": "phone",
            "phone": "070-222 33 44", "administration": "social-services", "origin_id": case_id}))
        assert consent["person_ref"] == case["person_ref"], "one person, one pseudonym, in every service"
        referred = await ok(sharing.post("/referrals", json={"personnummer": personnummer, "partner": partner,
                                                             "administration": "social-services"}))

        topic = platform.kafka.topic(topics.partner_referrals(partner))
        [offer] = [json.loads(r.value) for r in await read_partner_topic(as_partner, topic, lambda rs: len(rs) >= 1)]
        assert offer["referral_id"] == referred["referral_id"] and offer["phone"] == "070-222 33 44"
        assert personnummer.replace("-", "") not in json.dumps(offer) and case["person_ref"] not in json.dumps(offer)

        contacted = datetime.now(UTC).isoformat()
        await send_status(as_partner, platform.kafka.topic(topics.partner_statuses(partner)),
                          {"kind": "referral_status", "referral_id": offer["referral_id"],
                           "reference": offer["reference"], "status": "in-progress", "contacted_at": contacted,
                           "at": contacted}, offer["reference"])

        async def reported_in_sharing():
            view = await ok(sharing.get(f"/consents/{consent['consent_id']}"))
            return view if view["latest_status"] == "in-progress" else None

        assert (await eventually(reported_in_sharing, timeout=30))["statuses"][0]["contacted_at"] is not None

        async def shown_in_casework():
            read = await ok(platform.casework.get(f"/cases/{case_id}"))
            referrals = read["partner_referrals"]
            return read if referrals and referrals[0]["statuses"] else None

        read = await eventually(shown_in_casework, timeout=30)
        [referral] = read["partner_referrals"]
        assert referral["partner"] == partner and referral["statuses"][0]["status"] == "in-progress"
        assert referral["contacted_at"] is not None and referral["referred_at"] is not None

        await ok(sharing.post(f"/consents/{consent['consent_id']}/withdrawal", json={}))
        records = await read_partner_topic(as_partner, topic, lambda rs: len(rs) >= 3, settle=3.0)
        assert [json.loads(r.value)["kind"] if r.value else "tombstone" for r in records] == \
            ["referral_offered", "referral_withdrawn", "tombstone"]
        assert {r.key.decode() for r in records} == {offer["reference"]}

        again = await sharing.post(f"/consents/{consent['consent_id']}/referral", json={})
        assert again.status_code == 409 and again.json()["rule"] == "consent-withdrawn"

        async def ended_in_casework():
            read = await ok(platform.casework.get(f"/cases/{case_id}"))
            return read if read["partner_referrals"][0]["end_reason"] else None

        assert (await eventually(ended_in_casework, timeout=30))["partner_referrals"][0]["end_reason"] == \
            "consent_withdrawn"
        records = await read_partner_topic(as_partner, topic, lambda rs: len(rs) >= 3, settle=2.0)
        assert len(records) == 3, "nothing more about the person"


async def test_staff_of_another_administration_cannot_refer_under_this_ones_consent(platform, settings):
    ns = platform.kafka.topic_prefix.rstrip(".")
    sharing_settings = in_namespace(SharingSettings, settings, ns, pseudonym_key=settings.pseudonym_key)
    async with serving(create_sharing(sharing_settings), "sharing", "handler-amf") as amf:
        response = await amf.post("/referrals", json={"personnummer": a_personnummer(), "partner": "ria",
                                                      "administration": "social-services"})
        assert response.status_code == 403 and response.json()["rule"] == "own-administration-only"
        assert isinstance(amf, httpx.AsyncClient)
