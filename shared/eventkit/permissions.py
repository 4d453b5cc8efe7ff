"""Who may use which endpoint: ONE table for the services, from which every route's guard and the access
matrix (``tests/integration/test_access_matrix.py``, printed in ``docs/access-matrix.txt``) are derived.

Every route of a service is guarded by ``guard(service)``: the kind of use comes from the HTTP method (GET reads,
anything else changes) unless the route names one (insight's aggregates, the audit log). The guard

- asks for a signed-in staff member (``eventkit.auth.principal``: 401 without a valid token), which also sets
  ``request.state.principal``, so the access log (``access.Actor``) records the signed-in person;
- refuses a role the table does not name for that kind of use: 403 ``role-required``, naming the roles needed;
- for a route on one contact or case (a path parameter the service names in ``app.state.subject_of``), loads that
  subject's *current* administration and answers 404, exactly as for one that does not exist, when the scope is
  ``own`` and the administration is not the staff member's (a transferred case belongs to where it went; a contact
  to both the administration whose reception took it and the one determined by affiliation, so the reception that
  took it can refer it on). ``within`` checks the same again inside a command's transaction, on the state the
  command is decided on, so a command racing a transfer cannot land.

List endpoints (insight) use ``Grant.administration_filter``: an ``own`` scope sees its own administration only
(asking for another's is 403 ``own-administration-only``). Open without a token: ``/health/*``, ``/metrics`` (the
operations scrape, on the service port: keep that port off the public network), the OpenAPI docs, the dashboard's
static files. With ``auth.enabled`` false (development, the fault-injection suite) every check passes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from . import access, row_scope
from .auth import Forbidden, Principal, principal
from .decider import Decider, Refused


class Kind(StrEnum):
    CHANGE = "change"
    """A command on a contact or case."""
    READ = "read"
    """Case-level data: one contact or case, or lists of cases."""
    AGGREGATE = "aggregate"
    """Counts, medians, shares: no person in them."""
    AUDIT = "audit"
    """The access log."""
    DIRECTORY = "directory"
    """Reading the partner directory (sharing): organisations and their hours, no person in it."""
    CURATE = "curate"
    """Keeping the partner directory (sharing): registering, changing, delisting partners; their delivery log."""
    PARTNER = "partner"
    """A partner organisation reporting on its own referrals (sharing's partner API); its code is its administration."""


class Scope(StrEnum):
    OWN = "own"
    """Only what belongs to the staff member's own administration."""
    ANY = "any"
    """Every administration's."""


RECEPTION, HANDLER, OUTREACH, MANAGER, OPERATIONS, AUDITOR, PARTNER = (
    "reception", "handler", "outreach-worker", "manager", "operations", "auditor", "partner")
ROLES = (RECEPTION, HANDLER, OUTREACH, MANAGER, OPERATIONS, AUDITOR, PARTNER)
OWN, ANY = Scope.OWN, Scope.ANY
AUDIT_LOG = {AUDITOR: ANY}

RULES: dict[str, dict[Kind, dict[str, Scope]]] = {
    # Reception works its own administration's contacts; managers read them.
    "intake": {Kind.CHANGE: {RECEPTION: OWN}, Kind.READ: {RECEPTION: OWN, MANAGER: OWN}, Kind.AUDIT: AUDIT_LOG},
    # Outreach workers: every outreach contact of their administration; managers read them.
    "outreach": {Kind.CHANGE: {OUTREACH: OWN}, Kind.READ: {OUTREACH: OWN, MANAGER: OWN}, Kind.AUDIT: AUDIT_LOG},
    # Handlers read and change the cases their administration has now; managers read them.
    "casework": {Kind.CHANGE: {HANDLER: OWN}, Kind.READ: {HANDLER: OWN, MANAGER: OWN}, Kind.AUDIT: AUDIT_LOG},
    # Case-level rows: own administration only. Aggregates: a manager sees every administration's (figures,
    # no person: comparing administrations is part of the job); a handler only their own administration's.
    # Handlers (who administer complaints, as the seeds' utredningssekreterare does) record feedback and make a
    # client's link for a case of their administration; managers read. Clients use their own page (client session).
    "feedback": {Kind.CHANGE: {HANDLER: OWN}, Kind.READ: {HANDLER: OWN, MANAGER: OWN}, Kind.AUDIT: AUDIT_LOG},
    # Reception and handlers record a person's consent to a partner and send the referral, for their own
    # administration; managers read them and keep the partner directory (no person in it: every staff role reads
    # it). A partner (its code in the administration claim) reports statuses on its own referrals only.
    "sharing": {Kind.CHANGE: {RECEPTION: OWN, HANDLER: OWN}, Kind.READ: {RECEPTION: OWN, HANDLER: OWN, MANAGER: OWN},
                Kind.DIRECTORY: {RECEPTION: ANY, HANDLER: ANY, OUTREACH: ANY, MANAGER: ANY},
                Kind.CURATE: {MANAGER: ANY}, Kind.PARTNER: {PARTNER: OWN}, Kind.AUDIT: AUDIT_LOG},
    "insight": {Kind.READ: {HANDLER: OWN, MANAGER: OWN}, Kind.AGGREGATE: {MANAGER: ANY, HANDLER: OWN},
                Kind.AUDIT: AUDIT_LOG},
}
"""service → kind of use → role → scope. A role not named may not use it (403). Operations: health and metrics only,
which are open on the service port."""

PUBLIC_PATHS = ("/health/", "/metrics", "/docs", "/redoc", "/openapi.json", "/static/", "/sign-in", "/signed-in",
                "/sign-out")
"""Paths (prefixes) open without a token (the last three: the dashboard's sign-in, ``insight.signin``)."""


def is_public(path: str) -> bool:
    return any(path == p.rstrip("/") or path.startswith(p) for p in PUBLIC_PATHS)


@dataclass(frozen=True)
class Grant:
    """What the guard let through: who, and how far their scope reaches."""

    who: Principal
    scope: Scope

    def sees(self, administration: str | frozenset[str] | None) -> bool:
        """Whether the subject of ``administration`` (or of any one of several) is within reach."""
        held = {administration} if isinstance(administration, str | None) else administration
        return self.scope is Scope.ANY or not self.who.authenticated or self.who.administration in held

    def administration_filter(self, asked: str | None) -> str | None:
        """The administration a list is limited to: the one asked for, or the staff member's own for an ``own``
        scope (403 when another is asked for)."""
        if self.scope is Scope.ANY or not self.who.authenticated:
            return asked
        own = self.who.administration or "-"  # no administration: sees none
        if asked is None or asked == own:
            return own
        raise Forbidden(f"{self.who.staff_id} sees {own}'s cases only, not {asked}'s", rule="own-administration-only")


def expected(service: str, kind: Kind, roles: frozenset[str], own: str | None,
             subject: str | frozenset[str] | None, one: bool = True) -> str | int:
    """What the table says a staff member with ``roles`` of administration ``own`` gets on a subject of
    administration ``subject`` (None: none in particular): "allowed", 403, or, for another administration's,
    404 on a route on ``one`` contact or case (not confirmed to exist) and 403 on a list or a new one."""
    scopes = {RULES[service].get(kind, {})[r] for r in roles if r in RULES[service].get(kind, {})}
    if not scopes:
        return 403
    if Scope.ANY in scopes or subject is None or own in ({subject} if isinstance(subject, str) else subject):
        return "allowed"
    return 404 if one else 403


_bearer = HTTPBearer(auto_error=False, description="An access token from the identity provider (deploy/keycloak)")


def kind_of(method: str, kind: Kind | None) -> Kind:
    return kind or (Kind.READ if method in ("GET", "HEAD") else Kind.CHANGE)


def guard(service: str, kind: Kind | None = None) -> Callable[..., Awaitable[Grant]]:
    """The dependency guarding a route (or a router) of ``service``: sign-in, role, administration."""
    if service not in RULES:
        raise ValueError(f"no rules for {service!r}")

    async def guarded(request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                      who: Annotated[Principal, Depends(principal)]) -> Grant:
        use = kind_of(request.method, kind)
        rules = RULES[service].get(use, {})
        scopes = {rules[role] for role in who.roles if role in rules}
        if not who.authenticated:
            grant = Grant(who, Scope.ANY)
        elif not scopes:
            needed = sorted(rules)
            names = f"the role {needed[0]}" if len(needed) == 1 else f"one of the roles {', '.join(needed)}"
            raise Forbidden(f"this needs {names}, which {who.staff_id} does not hold" if needed
                            else f"no role may do this on {service}")
        else:
            grant = Grant(who, Scope.ANY if Scope.ANY in scopes else Scope.OWN)
        request.state.grant = grant
        own = grant.scope is Scope.OWN and who.authenticated
        row_scope.see((who.administration or "") if own else row_scope.EVERY)  # the database's second line
        subject_of = getattr(request.app.state, "subject_of", None)
        if subject_of is not None and grant.scope is Scope.OWN and who.authenticated:
            parameter, administration_of, not_found = subject_of
            if (subject := request.path_params.get(parameter)) is not None:
                administration = await administration_of(request, subject)
                if administration is not None and not grant.sees(administration):
                    raise not_found(subject)  # as if it did not exist: another administration's is not confirmed
        return grant

    guarded.service, guarded.kind = service, kind  # type: ignore[attr-defined]  # read by the access matrix
    return guarded


def routes(app: FastAPI) -> list[tuple[str, str, tuple[str, Kind | None] | None]]:
    """Every (method, path, guard) the app serves, the guard being the (service, kind) a route is guarded with or
    None: how the access matrix finds every route's rule. A mount (``/metrics``) is listed with the method "*"."""
    found = []
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        guards = [(d.call.service, d.call.kind) for d in (dependant.dependencies if dependant else [])
                  if hasattr(d.call, "service")]
        for method in sorted(route.methods or {"*"}):
            if method != "HEAD":
                found.append((method, route.path, guards[0] if guards else None))
    return found


def within(request: Request, decider: Decider, subject_id: str, administration: Callable[[Any], Any]) -> Decider:
    """``decider``, refusing as not found a command on a subject outside the grant's reach, judged on the very state
    the command is decided on: a command racing a transfer conflicts, is decided again after it, and is refused.
    ``administration`` gives a state's administration (or several), None for a subject not yet made."""
    grant: Grant | None = getattr(request.state, "grant", None)
    if grant is None or grant.scope is Scope.ANY or not grant.who.authenticated:
        return decider
    not_found = request.app.state.subject_of[2]

    def decide(command: Any, state: Any) -> Any:
        held = administration(state)
        if held is not None and not grant.sees(held):
            raise not_found(subject_id)
        return decider.decide(command, state)

    return Decider(initial_state=decider.initial_state, decide=decide, evolve=decider.evolve)


def subject(parameter: str, administration_of: Callable[[Request, str], Awaitable[str | frozenset[str] | None]],
            not_found: Callable[[str], Exception]) -> tuple:
    """What ``app.state.subject_of`` holds: the path parameter naming the contact or case, how to find its current
    administration (None: it does not exist, the route answers its own 404), and the 404 to raise."""
    return parameter, administration_of, not_found


def refused_not_found(rule: str, what: str) -> Callable[[str], Exception]:
    return lambda subject_id: Refused(rule, f"there is no {what} {subject_id}", 404)


def audit_router(service: str) -> APIRouter:
    """``GET /audit``: the latest rows of the service's access log, for auditors (the read is logged too)."""
    router = APIRouter(tags=["audit"], dependencies=[Depends(guard(service, Kind.AUDIT))])

    @router.get("/audit", summary="The latest rows of the access log (auditors only)")
    async def audit_log(request: Request, limit: int = 100) -> list[dict]:
        audit: access.Audit = request.app.state.audit
        async with audit.pool.acquire() as conn:
            rows = await access.latest(conn, audit.schema, max(1, min(limit, 1000)))
        await audit.read(access.Actor.of(request, access.Purpose.AUDIT), "access-log", [])
        return [{k: row[k] for k in ("seq", "at", "staff", "role", "administration", "purpose", "kind", "action",
                                     "subjects", "client")} for row in rows]

    return router
