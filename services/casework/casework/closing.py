"""Rules for the end of a case's road: the coordinated plan (SIP) and closure, including closing as unreachable."""

from __future__ import annotations

from collections.abc import Sequence

from contracts.casework import CaseClosed, ClosureReason, ContactMethod, SipDeclined, SipEstablished, SipOffered
from eventkit.decider import Refused
from eventkit.events import Event

from .commands import CloseCase, DeclineSip, EstablishSip, OfferSip
from .state import Sip, State


def sip(command: OfferSip | DeclineSip | EstablishSip, state: State) -> Sequence[Event]:
    if state.sip is Sip.ESTABLISHED:
        raise Refused("sip-already-established", "A SIP is already established for this case")
    match command:
        case OfferSip():
            if state.sip is Sip.OFFERED:
                raise Refused("sip-already-offered", "A SIP has been offered and the client has not answered yet")
            return [SipOffered(case_id=command.case_id, offered_at=command.offered_at)]
        case DeclineSip():
            if state.sip is not Sip.OFFERED:
                raise Refused("sip-not-offered", "A SIP can only be declined after it has been offered to the client")
            return [SipDeclined(case_id=command.case_id, declined_at=command.declined_at)]
        case EstablishSip():
            # An offer accepted on the spot need not be recorded first: establishing one implies it was offered.
            if len(set(command.authorities)) < 2:
                raise Refused("sip-needs-two-authorities",
                              "A SIP coordinates at least two authorities (e.g. the municipality and the region)", 422)
            return [SipEstablished(case_id=command.case_id, authorities=list(command.authorities),
                                   established_at=command.established_at)]


def close(command: CloseCase, state: State, unreachable_min_attempts: int) -> Sequence[Event]:
    housing = command.reason is ClosureReason.STABLE_HOUSING
    if housing and command.housing_contract is None:
        raise Refused("stable-housing-needs-contract", "Closing to stable housing needs the type of housing contract", 422)
    if not housing and command.housing_contract is not None:
        raise Refused("contract-only-with-stable-housing",
                      "A housing contract is recorded only when the case closes to stable housing", 422)
    if command.reason is ClosureReason.UNREACHABLE:
        _require_documented_attempts(state, unreachable_min_attempts)
    return [CaseClosed(case_id=command.case_id, reason=command.reason, housing_contract=command.housing_contract,
                       self_supporting=command.self_supporting or command.reason is ClosureReason.SELF_SUPPORT,
                       closed_at=command.closed_at)]


def _require_documented_attempts(state: State, minimum: int) -> None:
    """The client must have been phoned, and ``minimum`` attempts made, since they were last reached or met."""
    unanswered = state.unanswered_since_reached
    if ContactMethod.PHONE not in unanswered:
        raise Refused("unreachable-without-phone-attempt",
                      "Before closing as unreachable the client must have been phoned without being reached")
    if len(unanswered) < minimum:
        raise Refused("unreachable-too-few-attempts",
                      f"Closing as unreachable needs {minimum} documented contact attempts without reaching the client; "
                      f"{len(unanswered)} recorded")
