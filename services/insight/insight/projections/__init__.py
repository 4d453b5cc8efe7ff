"""The read side's projection: the facts of every case, stored as they arrive, measures derived in SQL.

Events of one case come from three topics (intake, outreach, casework) and may
arrive in any order across them, and more than once. So the handler never
computes a measure from "the state so far": each event only records the facts
it carries, in a way that is commutative and idempotent (a row per event id,
or LEAST/GREATEST on a timestamp), and every measure is a SQL view over the
facts (``views.py``). Whatever the order of arrival, the same facts give the
same numbers; and a rebuild from offset zero gives the same views.
"""
