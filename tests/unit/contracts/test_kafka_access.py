"""The ACLs cover what each service really does: the topics its stores publish to, the topics and consumer groups
of its real handlers; and nothing a partner may touch is anybody else's."""

from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from casework import app as casework_app
from casework.settings import CaseworkSettings
from contracts import kafka_access, topics
from contracts.kafka_access import allows, partner_acls, service_acls
from eventkit.settings import KafkaSettings
from feedback import app as feedback_app
from feedback.settings import FeedbackSettings
from insight import generations
from insight.projections.feedback import FeedbackProjection
from insight.projections.journey import JourneyProjection
from sharing import app as sharing_app
from sharing.settings import SharingSettings
from insight.projections.notices import NoticeProjection
from insight.projections.partners import PartnerProjection
from insight.settings import InsightSettings
from intake import app as intake_app
from intake.open_cases import CasesOfPeople
from intake.settings import IntakeSettings
from outreach import app as outreach_app
from outreach.settings import OutreachSettings

PREFIX = "t1234567890."
KAFKA = KafkaSettings(topic_prefix=PREFIX)
DOC = Path(__file__).parents[3] / "docs" / "kafka-security.md"


class GenerationRow:
    """Stands in for the database while insight.generations.create names a new generation's consumer group."""

    def transaction(self):
        @asynccontextmanager
        async def nothing():
            yield
        return nothing()

    async def execute(self, *args):
        pass

    async def fetchval(self, *args):
        return 7

    async def fetchrow(self, sql, number, schema, group, version):
        return {"number": number, "schema_name": schema, "consumer_group": group, "views_version": version}


async def real_parts() -> dict[str, tuple[list, list]]:
    """Service → (its event stores, its handlers), built as each service's app builds them."""
    intake, outreach = IntakeSettings(mode="test", kafka=KAFKA), OutreachSettings(mode="test", kafka=KAFKA)
    casework, feedback = CaseworkSettings(mode="test", kafka=KAFKA), FeedbackSettings(mode="test", kafka=KAFKA)
    insight = InsightSettings(mode="test", kafka=KAFKA)
    parts = {"intake": ([intake_app.contact_store(None, intake)], [CasesOfPeople(intake.db_schema, intake.kafka)]),
             "outreach": ([outreach_app.outreach_store(None, outreach)], [])}
    for name, runtime in (("casework", casework_app.runtime(casework)), ("feedback", feedback_app.runtime(feedback))):
        stores = runtime.make_stores(None)
        parts[name] = (stores, list(runtime.make_handlers(None, stores)))
    generation = await generations.create(GenerationRow(), insight)
    parts["insight"] = ([], [JourneyProjection(insight, generation), FeedbackProjection(insight),
                             NoticeProjection(insight), PartnerProjection(insight)])
    sharing = SharingSettings(mode="test", kafka=KAFKA)
    stores = [make(None, sharing) for make in sharing_app.STORES]
    parts["sharing"] = (stores, [make(stores, sharing) for make in sharing_app.HANDLERS])
    return parts


async def test_every_service_with_a_role_on_the_bus_has_a_principal():
    assert set(await real_parts()) == set(kafka_access.SERVICES)


@pytest.mark.parametrize("service", ["intake", "outreach", "casework", "feedback", "insight", "sharing"])
async def test_a_service_may_do_what_its_code_does(service):
    stores, handlers = (await real_parts())[service]
    acls = service_acls(service, PREFIX)
    for store in stores:
        assert allows(acls, "TOPIC", store.topic, "WRITE"), f"{service} publishes {store.topic}"
        assert allows(acls, "TOPIC", KAFKA.topic(topics.ERASURES), "WRITE"), f"{service} can announce an erasure"
    for handler in handlers:
        for topic in handler.topics:
            assert allows(acls, "TOPIC", topic, "READ"), f"{service}'s {handler.name} reads {topic}"
        assert allows(acls, "GROUP", handler.name, "READ"), f"{service} consumes as group {handler.name}"
        assert allows(acls, "TOPIC", KAFKA.topic(topics.DEAD_LETTERS), "WRITE"), f"{service} parks dead letters"
    started = {s.topic for s in stores} | {t for h in handlers for t in h.topics} \
        | {KAFKA.topic(topics.DEAD_LETTERS), KAFKA.topic(topics.ERASURES)}  # what eventkit.runtime ensures exists
    for topic in started:
        assert allows(acls, "TOPIC", topic, "DESCRIBE") and allows(acls, "TOPIC", topic, "CREATE")


@pytest.mark.parametrize("service", ["intake", "outreach", "casework", "feedback", "insight"])
async def test_a_service_reads_no_topic_it_does_not_consume(service):
    # (sharing is left out: it reads every partner's status topic through one PREFIXED partner. rule, by design)
    stores, handlers = (await real_parts())[service]
    consumed = {t for h in handlers for t in h.topics}
    for topic in [*topics.ALL, topics.partner_referrals("ria"), topics.partner_statuses("ria")]:
        if KAFKA.topic(topic) not in consumed:
            assert not allows(service_acls(service, PREFIX), "TOPIC", KAFKA.topic(topic), "READ"), (service, topic)


def test_a_partner_reads_only_its_own_referrals_and_writes_only_its_own_statuses():
    acls = partner_acls("ria", PREFIX)
    everything = [*topics.ALL, *(f(p) for p in ("ria", "stadsmissionen") for f in (topics.partner_referrals,
                                                                                    topics.partner_statuses))]
    readable = {t for t in everything if allows(acls, "TOPIC", KAFKA.topic(t), "READ")}
    writable = {t for t in everything if allows(acls, "TOPIC", KAFKA.topic(t), "WRITE")}
    assert (readable, writable) == ({topics.partner_referrals("ria")}, {topics.partner_statuses("ria")})
    assert allows(acls, "GROUP", PREFIX + "partner-ria-inbox", "READ")
    assert not allows(acls, "GROUP", PREFIX + "casework.open-cases-from-referrals", "READ")


def test_only_sharing_touches_the_partners_topics():
    for service in kafka_access.SERVICES:
        acls = service_acls(service)
        touches = allows(acls, "TOPIC", topics.partner_referrals("ria"), "WRITE") \
            or allows(acls, "TOPIC", topics.partner_statuses("ria"), "READ")
        assert touches == (service == kafka_access.SHARING), service


def test_the_documented_table_is_the_rules():
    assert kafka_access.table() in DOC.read_text(), \
        "docs/kafka-security.md is stale: paste the output of `python -m contracts.kafka_access` into it"
