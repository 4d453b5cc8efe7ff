"""The webhook signature follows Standard Webhooks: it reproduces the specification's published test vector (so any
of its libraries verifies our deliveries), and ``verify`` refuses what was changed, re-signed late, or signed with
another partner's secret."""

import pytest

from sharing.references import webhook_secret
from sharing.webhooks import InvalidSignature, headers, signature, verify

# The test vector published with the Standard Webhooks specification.
SECRET, MESSAGE, TIMESTAMP = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330
BODY = b'{"test": 2432232314}'


def test_reproduces_the_specifications_test_vector():
    assert signature(SECRET, MESSAGE, TIMESTAMP, BODY) == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_verify_accepts_its_own_and_a_rotated_keys_signature_and_refuses_the_rest():
    sent = headers(SECRET, MESSAGE, TIMESTAMP, BODY)
    verify(SECRET, sent, BODY, now=TIMESTAMP + 10)
    other = webhook_secret(b"x" * 32, "bryggan")
    rotated = sent | {"webhook-signature": f"{signature(other, MESSAGE, TIMESTAMP, BODY)} {sent['webhook-signature']}"}
    verify(SECRET, rotated, BODY, now=TIMESTAMP)
    for changed, body, now in [({}, b'{"test": 1}', TIMESTAMP),  # body changed on the way
                               ({}, BODY, TIMESTAMP + 301),  # too old: a replay
                               ({"webhook-id": "msg_other"}, BODY, TIMESTAMP),  # another message's signature
                               ({"webhook-signature": signature(other, MESSAGE, TIMESTAMP, BODY)}, BODY, TIMESTAMP),
                               ({"webhook-timestamp": "soon"}, BODY, TIMESTAMP)]:
        with pytest.raises(InvalidSignature):
            verify(SECRET, sent | changed, body, now=now)
