"""Properties of the consent decider over any sequence of commands (eventkit.testing.play): a refused command changes
nothing; at most one referral per consent, and only while the consent is valid; a consent ends at most once, and
nothing but statuses follows its end. Strategies are built from the commands themselves (``st.builds``), as the other
services' are, with times around the consent's life."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from contracts.sharing import (
    ConsentExpired, ConsentGiven, ConsentPurpose, ConsentWithdrawn, Delivery, PartnerReferralSent,
    PartnerStatusReported, ReachBy, TaskStatus, WithdrawalReason,
)
from eventkit.testing import play
from sharing.commands import ExpireConsent, GiveConsent, Refer, ReportStatus, WithdrawConsent
from sharing.domain import consent_decider

T0 = datetime(2026, 1, 1, tzinfo=UTC)
END = T0 + timedelta(days=30)
NOW = T0 + timedelta(days=60)
REFERENCES = st.sampled_from(["r-" + "a" * 32, "r-" + "b" * 32])
REFERRALS = st.sampled_from(["referral-1", "referral-2"])
times = st.integers(min_value=-2, max_value=40).map(lambda days: T0 + timedelta(days=days))
standings = st.sampled_from(["listed", "listed", "delisted", "unknown"])

gives = st.builds(GiveConsent, consent_id=st.just("consent-1"), person_ref=st.just("p-" + "0" * 32),
                  partner=st.just("ria"), partner_standing=standings, purpose=st.sampled_from(ConsentPurpose),
                  reach_by=st.sampled_from(ReachBy), phone=st.none() | st.just("070-123 45 67"),
                  share_area=st.booleans(), area=st.none() | st.just("addiction"), administration=st.just("amf"),
                  recorded_by=st.just("anna.h"), given_at=st.just(T0), expires_at=st.sampled_from([T0, END]),
                  recorded_at=st.just(NOW))
commands = st.one_of(
    gives,
    st.builds(Refer, referral_id=REFERRALS, reference=REFERENCES, partner_standing=standings,
              sent_by=st.just("anna.h"), sent_at=times, recorded_at=st.just(NOW)),
    st.builds(WithdrawConsent, recorded_by=st.just("anna.h"), reason=st.sampled_from(WithdrawalReason),
              withdrawn_at=times, recorded_at=st.just(NOW)),
    st.builds(ExpireConsent, expired_at=times, recorded_at=st.just(NOW)),
    st.builds(ReportStatus, referral_id=REFERRALS, reference=REFERENCES, status=st.sampled_from(TaskStatus),
              contacted_at=st.none() | times, reported_at=times, via=st.sampled_from(Delivery), recorded_at=st.just(NOW)),
)


@given(gives, st.lists(commands, max_size=15))
def test_a_referral_only_under_a_valid_consent_and_nothing_but_statuses_after_its_end(first, rest):
    def check(history, new):
        consent = history[0]
        assert isinstance(consent, ConsentGiven)
        referrals = [e for e in history if isinstance(e, PartnerReferralSent)]
        ends = [e for e in history if isinstance(e, ConsentWithdrawn | ConsentExpired)]
        assert len(referrals) <= 1 and len(ends) <= 1
        for event in new:
            if isinstance(event, PartnerReferralSent):
                assert not ends and event.sent_at < consent.expires_at
            if isinstance(event, ConsentExpired):
                assert event.expired_at >= consent.expires_at
            if isinstance(event, PartnerStatusReported):
                assert referrals and event.referral_id == referrals[0].referral_id
        if ends:
            after = history[history.index(ends[0]) + 1:]
            assert all(isinstance(e, PartnerStatusReported) for e in after)

    play(consent_decider, [first, *rest], check)
