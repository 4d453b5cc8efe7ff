"""Väntrum insight: the read side.

Projects the events of intake, outreach and casework (through ``contracts`` only)
into views of the wait to the first meeting with the responsible handler, and
serves them as a read API (``api``), a staff dashboard (``dashboard``) and CSV.
``python -m insight serve`` runs it; ``python -m insight rebuild`` rebuilds the
views beside the live ones and switches readers over without downtime.
"""
