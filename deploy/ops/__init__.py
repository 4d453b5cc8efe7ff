"""The operator's command line: one place to see every service, the consumer lag and what waits for a person.

    .venv/bin/python -m deploy.ops status        # readiness, background tasks, backlogs and lag of every service
    .venv/bin/python -m deploy.ops lag           # committed offset, end and lag per consumer group and partition
    .venv/bin/python -m deploy.ops waiting       # parked outbox records and dead letters of every service

It reads what already exists (each service's /health/ready and /metrics/, Kafka's consumer group offsets, the
services' tables through eventkit.parked) and changes nothing. Replays and rebuilds stay with the service that
owns the records: ``python -m <service> parked --replay ID``, ``python -m <service> dead-letters --replay ID``,
``python -m insight rebuild``.
"""
