"""Kafka's own access control, applied: SCRAM users and ACLs, through the Kafka protocol (no Java tools).

aiokafka's admin client has neither ACLs nor SCRAM users, so the requests are sent with its protocol
classes: CreateAcls / DeleteAcls v1 (which know PREFIXED patterns) and AlterUserScramCredentials v0
(KIP-554), defined here; DescribeAcls v1 finds what a principal holds, so applying makes its ACLs exactly the rules. The same requests work on any Kafka 2.7+ whose operator lets the caller alter
ACLs and users; what the rules are is not decided here (``contracts.kafka_access``).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Iterable
from typing import ClassVar, Protocol

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError, for_code
from aiokafka.protocol.admin import CreateAclsRequest_v1, DeleteAclsRequest_v1, DescribeAclsRequest_v1
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import CompactArray, CompactBytes, CompactString, Int8, Int16, Int32, Schema, TaggedFields
from pydantic import SecretStr

from .db import PlatformUnavailable
from .kafka import client_options, start_admin
from .settings import KafkaSettings

# Kafka's wire codes (org.apache.kafka.common.acl / resource); names as in kafka-acls.sh.
RESOURCE_TYPES = {"TOPIC": 2, "GROUP": 3, "CLUSTER": 4, "TRANSACTIONAL_ID": 5}
PATTERN_TYPES = {"ANY": 1, "LITERAL": 3, "PREFIXED": 4}
OPERATIONS = {"ANY": 1, "ALL": 2, "READ": 3, "WRITE": 4, "CREATE": 5, "DELETE": 6, "ALTER": 7, "DESCRIBE": 8,
              "CLUSTER_ACTION": 9, "DESCRIBE_CONFIGS": 10, "ALTER_CONFIGS": 11, "IDEMPOTENT_WRITE": 12}
ALLOW, ANY_PERMISSION = 3, 1
ANY_RESOURCE = 1
SCRAM_MECHANISMS = {"SCRAM-SHA-256": (1, "sha256"), "SCRAM-SHA-512": (2, "sha512")}
SCRAM_ITERATIONS = 8192
"""Kafka accepts 4096 to 16384; the salted password is computed here, the password itself never leaves."""


class Grant(Protocol):
    """One permission, as ``contracts.kafka_access.Acl`` states it."""

    resource: str
    name: str
    pattern: str
    operation: str


def user(name: str) -> str:
    """The principal a SCRAM user signs in as, as ACLs name it."""
    return f"User:{name}"


class _Many(Request[RequestStruct]):
    """A prepared struct sent as it is (aiokafka's own ACL requests carry one binding each)."""

    API_KEY: ClassVar[int] = -1

    def __init__(self, struct: RequestStruct) -> None:
        self.struct = struct

    def prepare(self, versions: dict[int, tuple[int, int]]) -> RequestStruct:  # type: ignore[override]
        low, high = versions.get(self.struct.API_KEY, (0, -1))
        if not low <= self.struct.API_VERSION <= high:
            raise PlatformUnavailable(f"Kafka does not take {type(self.struct).__name__} (API key "
                                      f"{self.struct.API_KEY}; versions {low}–{high}): Kafka 2.7 or later is needed")
        return self.struct

    def build(self, request_struct_class):  # never called: prepare returns the struct itself
        raise NotImplementedError


class AlterUserScramCredentialsResponse_v0(Response):
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("results", CompactArray(("user", CompactString("utf-8")), ("error_code", Int16),
                                 ("error_message", CompactString("utf-8")), ("tags", TaggedFields))),
        ("tags", TaggedFields),
    )


class AlterUserScramCredentialsRequest_v0(RequestStruct):
    FLEXIBLE_VERSION = True
    API_KEY = 51
    API_VERSION = 0
    RESPONSE_TYPE = AlterUserScramCredentialsResponse_v0
    SCHEMA = Schema(
        ("deletions", CompactArray(("name", CompactString("utf-8")), ("mechanism", Int8), ("tags", TaggedFields))),
        ("upsertions", CompactArray(("name", CompactString("utf-8")), ("mechanism", Int8), ("iterations", Int32),
                                    ("salt", CompactBytes), ("salted_password", CompactBytes),
                                    ("tags", TaggedFields))),
        ("tags", TaggedFields),
    )


def _binding(grant: Grant, principal: str) -> tuple:
    return (RESOURCE_TYPES[grant.resource], grant.name, PATTERN_TYPES[grant.pattern], principal, "*",
            OPERATIONS[grant.operation], ALLOW)


def _raise_errors(what: str, errors: Iterable[tuple[int, str | None]]) -> None:
    if failed := [f"{for_code(code).__name__}: {message or ''}".rstrip(": ") for code, message in errors if code]:
        raise PlatformUnavailable(f"Kafka refused to {what}: {'; '.join(sorted(set(failed)))}")


async def set_scram_password(admin: AIOKafkaAdminClient, name: str, password: str,
                             mechanism: str = "SCRAM-SHA-512") -> None:
    """Create the SCRAM user ``name`` or change its password (the broker keeps only a salted hash)."""
    code, digest = SCRAM_MECHANISMS[mechanism]
    salt = os.urandom(32)
    salted = hashlib.pbkdf2_hmac(digest, password.encode(), salt, SCRAM_ITERATIONS)
    request = AlterUserScramCredentialsRequest_v0([], [(name, code, SCRAM_ITERATIONS, salt, salted, {})], {})
    response = await admin._send_to_controller(_Many(request))
    _raise_errors(f"set the SCRAM password of {name}", ((c, m) for _, c, m, _ in response.results))


async def delete_scram_user(admin: AIOKafkaAdminClient, name: str, mechanism: str = "SCRAM-SHA-512") -> None:
    request = AlterUserScramCredentialsRequest_v0([(name, SCRAM_MECHANISMS[mechanism][0], {})], [], {})
    response = await admin._send_to_controller(_Many(request))
    resource_not_found = 91  # RESOURCE_NOT_FOUND: there was no such user, which is what was wanted
    _raise_errors(f"delete the SCRAM user {name}", ((c, m) for _, c, m, _ in response.results if c != resource_not_found))


async def bindings_of(admin: AIOKafkaAdminClient, principal: str) -> set[tuple]:
    """Every ACL binding that names ``principal``, in the wire form ``_binding`` makes."""
    request = DescribeAclsRequest_v1(ANY_RESOURCE, None, PATTERN_TYPES["ANY"], principal, None, OPERATIONS["ANY"],
                                     ANY_PERMISSION)
    response = await admin._send_request(_Many(request))
    _raise_errors(f"describe the ACLs of {principal}", [(response.error_code, response.error_message)])
    return {(resource, name, pattern, who, host, operation, permission)
            for resource, name, pattern, acls in response.resources for who, host, operation, permission in acls}


async def grant(admin: AIOKafkaAdminClient, principal: str, grants: Iterable[Grant]) -> tuple[int, int]:
    """Make ``principal``'s ACLs exactly ``grants`` (ALLOW, from any host): what is missing is added first, then
    what no grant gives any more is deleted, so the principal never holds less than both have in common.
    Returns (added, deleted); (0, 0) when the broker already had exactly these."""
    wanted, present = {_binding(g, principal) for g in grants}, await bindings_of(admin, principal)
    if missing := sorted(wanted - present):
        response = await admin._send_request(_Many(CreateAclsRequest_v1(missing)))
        _raise_errors(f"create the ACLs of {principal}", response.creation_responses)
    if stale := sorted(present - wanted):
        response = await admin._send_request(_Many(DeleteAclsRequest_v1(stale)))
        _raise_errors(f"delete the stale ACLs of {principal}", ((c, m) for c, m, _ in response.filter_responses))
    return len(missing), len(stale)


async def revoke_all(admin: AIOKafkaAdminClient, principal: str) -> int:
    """Delete every ACL binding of ``principal``; how many there were."""
    any_binding = (ANY_RESOURCE, None, PATTERN_TYPES["ANY"], principal, None, OPERATIONS["ANY"], ANY_PERMISSION)
    response = await admin._send_request(_Many(DeleteAclsRequest_v1([any_binding])))
    _raise_errors(f"delete the ACLs of {principal}", ((c, m) for c, m, _ in response.filter_responses))
    return sum(len(matching) for _, _, matching in response.filter_responses)


async def apply_principal(kafka: KafkaSettings, name: str, password: str | None,
                          grants: Iterable[Grant]) -> tuple[int, int]:
    """Sign ``name`` up (when a password is given) and make its ACLs exactly ``grants``: a rule taken out of
    ``contracts.kafka_access`` is taken off the broker too. Needs a principal allowed to alter ACLs and users (the
    local ``admin``, a super user). Returns the ACL bindings (added, deleted).

    With a password, it returns once the principal can sign in: the controller answers before the broker has
    applied the change, and a partner handed its password must not be refused on its first try. The ACLs go first,
    so a broker that knows the password (applied in log order) knows them too."""
    mechanism = kafka.sasl_mechanism if kafka.sasl_mechanism in SCRAM_MECHANISMS else "SCRAM-SHA-512"
    admin = await start_admin(kafka)
    try:
        changed = await grant(admin, user(name), grants)
        if password is not None:
            await set_scram_password(admin, name, password, mechanism)
    finally:
        await admin.close()
    if password is not None:
        await _until_signed_in(kafka.model_copy(update={"sasl_username": name, "sasl_password": SecretStr(password),
                                                        "sasl_mechanism": mechanism}))
    return changed


async def _until_signed_in(kafka: KafkaSettings, within: float = 30.0) -> None:
    """Sign in as ``kafka``'s principal until the broker takes it, for at most ``within`` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        client = AIOKafkaClient(**client_options(kafka))
        try:
            await client.bootstrap()
            return
        except (KafkaError, OSError, asyncio.TimeoutError) as error:
            if asyncio.get_running_loop().time() > deadline:
                raise PlatformUnavailable(f"{kafka.sasl_username} still cannot sign in to Kafka {within:.0f} s after "
                                          f"its password was set: {error}") from None
            await asyncio.sleep(0.2)
        finally:
            await client.close()


async def remove_principal(kafka: KafkaSettings, name: str) -> None:
    """Delete the user's ACLs and its SCRAM credential."""
    admin = await start_admin(kafka)
    try:
        await revoke_all(admin, user(name))
        await delete_scram_user(admin, name, kafka.sasl_mechanism if kafka.sasl_mechanism in SCRAM_MECHANISMS
                                else "SCRAM-SHA-512")
    finally:
        await admin.close()
