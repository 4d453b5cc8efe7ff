"""The operator's command line: one place to see every service, the consumer lag and what waits for a person.

    .venv/bin/python -m deploy.ops status        # readiness, background tasks, backlogs and lag of every service
    .venv/bin/python -m deploy.ops lag           # committed offset, end and lag per consumer group and partition
    .venv/bin/python -m deploy.ops waiting       # parked outbox records and dead letters of every service

    .venv/bin/python -m deploy.ops partner-access ria   # a partner's Kafka user: its own referral and status topics
    .venv/bin/python -m deploy.ops kafka-principals --credentials FILE   # every service's user and ACLs (servers.py up)

    .venv/bin/python -m deploy.ops casework dead-letters --replay ID   # any service's own command, under its name
    .venv/bin/python -m deploy.ops intake parked --replay ID
    .venv/bin/python -m deploy.ops insight rebuild
    .venv/bin/python -m deploy.ops intake erase --by STAFF_ID          # asks for the personnummer

The first three read what already exists (each service's /health/ready and /metrics/, Kafka's consumer group
offsets, the services' tables through eventkit.parked) and change nothing. What changes something (replays, a
rebuild, an erasure) is the owning service's own command line, mounted here under the service's name, so there is
one implementation of each, run with that service's settings and database role.
"""
