"""The feature table: unsegmented feature adoption and the engagement matrix read in time that
grows with days and events, not users.

Feature adoption counts, per day, the distinct users who did an event in the 30 days ending that
day; the engagement matrix counts them and their days of use. Read from ``user_event_day`` they
touch every user-event-day of the window: ten times the users, ten times the work. The ingest
keeps one small table instead, bounded by the days and the event names (a 6-month store of 11
events: some 2,000 rows):

- ``feature_days(event, day, users, events, adopters)``: on ``day``, the distinct users who did
  ``event`` and how many times it was done; ``adopters``: the distinct users who did it in the 30
  days ending ``day``. A row for each event and loaded day with an adopter; days with none have
  no row (zero).

The ingest calls ``refresh`` at its end: a load changes the days it touched and the 29 days after
each (their windows hold it), and days added between the old last day and its own are new; those
days are recounted, a span of up to 35 days per query (each user's days of an event as the bits of
one 64-bit mask, as in the rolling KPIs; see feature_days_refresh.sql). Everything is recounted
when the rollups were rebuilt, when the table was counted under another time zone or layout, and
in a store from before it. Recounting a day reads the 30 days ending it, grouped per user and
event (about 0.1 s at 10M events); a 35-day span reads 64 days once (0.25 s), not one window per
day.

- ``user_event_last(user_key, event, last_day)``: each user's last loaded day of each event, kept
  beside it. When a load changes only the new last day (the next day's export), that day's
  adopters are the users whose last day of the event is in the 30 days ending it: one read of
  this table instead of the 30-day recount (feature_days_last.sql).

Readers use it only without filters or breakdown, for events that are activity (every event when
no active events are set: then every adopter is in the MAU by definition), for days up to the
last loaded day, and only when ``META`` matches the store's time zone (``usable``); anything else
reads ``user_event_day`` as before. Both ways are tested against the same oracles.
"""

from __future__ import annotations

import datetime as dt
import json

from pmkit.metrics.kept import merged_spans, prepare
from pmkit.store import Reader, Writer

META = "feature_rollup"
# Part of the signature: a table kept by an earlier layout is dropped and counted again
# (2: user_event_last added; a store of layout 1 has no such table to trust).
LAYOUT = 2
CREATE = (
    "CREATE TABLE IF NOT EXISTS feature_days (event VARCHAR, day DATE, users BIGINT, events BIGINT, adopters BIGINT);\n"
    "CREATE TABLE IF NOT EXISTS user_event_last (user_key BIGINT, event VARCHAR, last_day DATE)"
)
ADOPTION_WINDOW_DAYS = 30
# Days recounted per query: the 29 days before them and themselves must fit a 64-bit mask.
SPAN_DAYS = 35
WINDOW_BITS = (1 << ADOPTION_WINDOW_DAYS) - 1  # a mask's 30 bits of one window


def signature(store: Reader | Writer) -> str:
    """What the table counted now in ``store`` is counted under: the layout and the time zone of
    its rollups' days (active events do not change it: it counts every event's users)."""
    return json.dumps([LAYOUT, store.meta("timezone") or "UTC"])


def usable(store: Reader | Writer) -> bool:
    """Whether ``store``'s table holds the counts of its current rollups."""
    return store.meta(META) == signature(store)


def refresh(writer: Writer) -> None:
    """Bring ``feature_days`` up to date with the rollups this ingest changed."""
    con = writer.con
    counted = prepare(writer, META, signature(writer), ("feature_days", "user_event_last"), CREATE)
    first, last = con.execute("SELECT min(day), max(day) FROM kpi_daily").fetchall()[0]
    everything = first is not None and (writer.rebuilt or not counted)
    changed = merged_spans(writer.changed_days)
    _keep_last_days(writer, everything, changed)
    if first is None:
        spans: list[tuple[dt.date, dt.date]] = []
    elif everything:
        # Every loaded day (a table of another time zone was dropped by prepare, with its days).
        spans = [(first, last)]
    else:
        window = dt.timedelta(days=ADOPTION_WINDOW_DAYS - 1)
        one = dt.timedelta(days=1)
        # A changed day is in the window of itself and the 29 days after; days between the old
        # last day and a load's first day are new, with windows holding older days.
        touched = [(lo, hi + window) for lo, hi in writer.changed_days]
        touched += [(old_last + one, new_last) for old_last, new_last in writer.settled_days]
        spans = [(max(lo, first), min(hi, last)) for lo, hi in merged_spans(touched) if lo <= last and hi >= first]
    if not everything and spans == [(last, last)] and changed == [(last, last)]:
        # The next day's export: only the new last day changes (its rows are staged).
        writer.run("feature_days_last", day=last)
        spans = []
    con.execute("DROP TABLE IF EXISTS span_rows")
    for lo, hi in spans:
        start = lo
        while start <= hi:
            end = min(start + dt.timedelta(days=SPAN_DAYS - 1), hi)
            days = (end - start).days + 1
            counts = ", ".join(f"count(*) FILTER (WHERE (mask >> {k}) & {WINDOW_BITS} <> 0)" for k in range(days))
            writer.run("feature_days_refresh", {"day_counts": counts}, lo=start, hi=end, days=days)
            start = end + dt.timedelta(days=1)
    writer.set_meta(META, signature(writer))


def _keep_last_days(writer: Writer, everything: bool, changed: list[tuple[dt.date, dt.date]]) -> None:
    """Bring ``user_event_last`` up to date: counted again from every rollup row (``everything``),
    else moved on by the ``changed`` spans of days, whose rows stay staged in ``span_rows`` (the
    last span's) for the caller."""
    con = writer.con
    if everything:
        con.execute("DELETE FROM user_event_last")
        con.execute(
            "INSERT INTO user_event_last SELECT user_key, event, max(day) FROM user_event_day GROUP BY user_key, event"
        )
        return
    for lo, hi in changed:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE span_rows AS "
            "SELECT day, user_key, event, events FROM user_event_day WHERE day BETWEEN $lo AND $hi",
            {"lo": lo, "hi": hi},
        )
        writer.run("feature_days_last_merge")
