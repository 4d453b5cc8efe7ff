import pytest

from eventkit.db import PlatformUnavailable, create_pool
from eventkit.kafka import start_producer
from eventkit.settings import KafkaSettings, PostgresSettings


async def test_unreachable_postgres_is_one_line_naming_where():
    with pytest.raises(PlatformUnavailable) as error:
        await create_pool(PostgresSettings(dsn="postgresql://postgres@127.0.0.1:1/vantrum"), timeout=3)
    message = str(error.value)
    assert message.startswith("PostgreSQL unreachable at 127.0.0.1:1/vantrum")
    assert "\n" not in message


async def test_unreachable_kafka_is_one_line_naming_where():
    with pytest.raises(PlatformUnavailable) as error:
        await start_producer(KafkaSettings(bootstrap_servers="127.0.0.1:1"))
    message = str(error.value)
    assert message.startswith("Kafka unreachable at 127.0.0.1:1")
    assert "\n" not in message
