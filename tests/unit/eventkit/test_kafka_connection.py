"""Every Kafka client takes its connection from one place: the settings' protocol, SASL and TLS options."""

import ssl

import pytest
from faststream.security import SASLPlaintext, SASLScram512
from pydantic import ValidationError

from eventkit.kafka import client_options
from eventkit.settings import KafkaSettings
from eventkit.subscriber import broker_security


def test_plaintext_needs_nothing_but_the_brokers():
    assert client_options(KafkaSettings(bootstrap_servers="k:9092")) == \
        {"bootstrap_servers": "k:9092", "security_protocol": "PLAINTEXT"}
    assert broker_security(KafkaSettings()) is None


def test_sasl_without_a_user_and_password_is_refused_when_the_settings_load():
    with pytest.raises(ValidationError, match="VANTRUM_KAFKA__SASL_USERNAME"):
        KafkaSettings(security_protocol="SASL_SSL", sasl_username="intake")


def test_a_client_certificate_needs_its_key():
    with pytest.raises(ValidationError, match="SSL_KEYFILE"):
        KafkaSettings(security_protocol="SSL", ssl_certfile="/etc/client.pem")


def test_sasl_ssl_verifies_the_brokers_and_signs_in_with_scram():
    kafka = KafkaSettings(security_protocol="SASL_SSL", sasl_username="intake", sasl_password="s3cret")
    options = client_options(kafka)
    context = options.pop("ssl_context")
    assert options == {"bootstrap_servers": kafka.bootstrap_servers, "security_protocol": "SASL_SSL",
                       "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "intake",
                       "sasl_plain_password": "s3cret"}
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    security = broker_security(kafka)
    assert isinstance(security, SASLScram512) and security.use_ssl and security.ssl_context is not None
    assert (security.username, security.password) == ("intake", "s3cret")


def test_faststream_gets_the_same_mechanism_as_the_other_clients():
    kafka = KafkaSettings(security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", sasl_username="u",
                          sasl_password="p")
    security = broker_security(kafka)
    assert isinstance(security, SASLPlaintext) and not security.use_ssl


def test_the_password_is_never_shown_in_the_settings():
    kafka = KafkaSettings(security_protocol="SASL_PLAINTEXT", sasl_username="u", sasl_password="hidden-value")
    assert "hidden-value" not in repr(kafka) and "hidden-value" not in str(kafka.model_dump())


def test_signed_in_as_another_principal_keeps_the_cluster_and_the_tls():
    kafka = KafkaSettings(bootstrap_servers="k:9093", security_protocol="SSL", topic_prefix="t.")
    partner = kafka.signed_in_as("partner-ria", "pw")
    assert (partner.bootstrap_servers, partner.security_protocol, partner.topic_prefix, partner.sasl_username) == \
        ("k:9093", "SASL_SSL", "t.", "partner-ria")
    assert client_options(partner)["sasl_plain_password"] == "pw"
