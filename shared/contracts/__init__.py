"""The published language between services: vocabulary, event schemas and topics.

Services own their events, but a published event is a contract other services
(and the read side) depend on, so its schema lives here, where a change is
visible to everyone. Change a schema only by adding a new version with an
upcaster (see eventkit.events).
"""
