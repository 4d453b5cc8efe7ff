"""Properties of the feedback deciders over any sequence of commands (eventkit.testing.play): a refused command
changes nothing; a complaint's steps only ever go forward; a follow-up fires at most once and never early."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from contracts.feedback import (
    ComplaintAnswered, ComplaintClosed, ComplaintContactMade, FollowUpAnswer, FollowUpAnswered, FollowUpDue,
    Respondent, WaitQuestionsAnswered,
)
from eventkit.testing import play
from feedback.commands import (
    AnswerFollowUp, AnswerWaitQuestions, CloseComplaint, FireFollowUp, ReceiveComplaint, RecordComplaintAnswer,
    RecordComplaintContact, ScheduleFollowUp,
)
from feedback.domain import case_decider, complaint_decider

T0 = datetime(2025, 1, 1, tzinfo=UTC)
CASE, COMPLAINT = "case-00000000-0000-0000-0000-000000000002", "complaint-00000000-0000-0000-0000-000000000002"
times = st.integers(min_value=-10, max_value=800).map(lambda days: T0 + timedelta(days=days))
NOW = T0 + timedelta(days=900)

complaint_commands = st.one_of(
    st.builds(ReceiveComplaint, complaint_id=st.just(COMPLAINT), administration=st.just("amf"), case_id=st.none(),
              channel=st.just("letter_box"), has_text=st.booleans(), received_at=st.just(T0),
              contact_due_at=st.just(T0 + timedelta(days=7)), answer_due_at=st.just(T0 + timedelta(days=28)),
              recorded_at=st.just(NOW)),
    st.builds(RecordComplaintContact, by=st.just("chef.k"), contacted_at=times, recorded_at=st.just(NOW)),
    st.builds(RecordComplaintAnswer, by=st.just("chef.k"), answered_at=times, recorded_at=st.just(NOW)),
    st.builds(CloseComplaint, closed_at=times, recorded_at=st.just(NOW)),
)

ORDER = [ComplaintContactMade, ComplaintAnswered, ComplaintClosed]


@given(st.lists(complaint_commands, max_size=12))
def test_a_complaints_steps_only_go_forward_each_once(commands):
    def check(history, _):
        steps = [type(e) for e in history[1:]]
        assert steps == ORDER[:len(steps)]

    play(complaint_decider, commands, check)


case_commands = st.one_of(
    st.builds(AnswerWaitQuestions, case_id=st.just(CASE), administration=st.just("amf"), first_contact_at=st.just(T0),
              first_meeting_at=st.none() | times, experience=st.integers(1, 5), has_text=st.booleans(),
              respondent=st.sampled_from(Respondent), answered_at=times, recorded_at=st.just(NOW)),
    st.builds(ScheduleFollowUp, case_id=st.just(CASE), administration=st.just("amf"), closed_at=st.just(T0),
              due_at=st.just(T0 + timedelta(days=365)), recorded_at=st.just(T0)),
    st.builds(FireFollowUp, handler=st.none() | st.just("anna.h"), fired_at=times, recorded_at=st.just(NOW)),
    st.builds(AnswerFollowUp, answer=st.sampled_from(FollowUpAnswer), has_text=st.booleans(),
              respondent=st.sampled_from(Respondent), answered_at=times, recorded_at=st.just(NOW)),
)


@given(st.lists(case_commands, max_size=12))
def test_a_follow_up_fires_at_most_once_never_early_and_every_answer_comes_once(commands):
    def check(history, _):
        fired = [e for e in history if isinstance(e, FollowUpDue)]
        assert len(fired) <= 1 and all(e.fired_at >= e.due_at for e in fired)
        assert sum(isinstance(e, WaitQuestionsAnswered) for e in history) <= 1
        answers = [i for i, e in enumerate(history) if isinstance(e, FollowUpAnswered)]
        assert len(answers) <= 1 and all(any(isinstance(e, FollowUpDue) for e in history[:i]) for i in answers)

    play(case_decider, commands, check)
