"""Cohort tables: unsegmented retention and lifecycle read in time that grows with days, not users.

Retention and lifecycle count distinct users, so reading them from ``user_day`` touches every
active day of every user involved: ten times the users, ten times the work. The ingest keeps
small tables instead, whose size is bounded by the days (a 6-month store: some 16,000 rows):

- ``cohort_days(first_day, day, users)``: users first seen on ``first_day`` with an active day on
  ``day`` (day-N retention);
- ``cohort_weeks(cohort_week, week, users, returning_users)``: users first seen in the Monday week
  ``cohort_week`` with an active day in the week ``week`` ("on week k"; lifecycle's active and new
  users), and how many of them were active the week before too (lifecycle's returning users);
- ``users.last_active``: each user's last day with an active event. "On or after week k" counts
  the cohort's users by the week of that day: a read of the cohort's rows of ``users``.

Cohort sizes are ``kpi_daily.new_users``. The ingest sets ``last_active`` as it keys each file's
users (events_stage.sql) and calls ``refresh`` at its end: the days it changed are
recounted (their whole weeks, and the week after, for ``cohort_weeks``), and everything is when
the rollups were rebuilt (time zone or active events changed), when a file moved users' first day
earlier, or in a store from before these tables.

Readers use them only without filters, breakdown or other active events, and only when ``META``
matches the workspace's time zone and active events (``usable``); anything else reads
``user_day`` as before. Both ways are tested against the same oracles.
"""

from __future__ import annotations

import datetime as dt
import json

from pmkit.metrics.kept import merged_spans, prepare
from pmkit.store import Reader, Writer

META = "cohort_rollup"
# Part of the signature: tables kept by an earlier layout are dropped and counted again.
LAYOUT = 2
TABLES = ("cohort_days", "cohort_weeks")
CREATE = (
    "CREATE TABLE IF NOT EXISTS cohort_days (first_day DATE, day DATE, users BIGINT);"
    "CREATE TABLE IF NOT EXISTS cohort_weeks (cohort_week DATE, week DATE, users BIGINT, returning_users BIGINT)"
)


def signature(store: Reader | Writer) -> str:
    """What tables counted now in ``store`` are counted under: the layout, and the time zone and
    active events its rollups were built with (their meta values, as the ingest stored them)."""
    return json.dumps([LAYOUT, store.meta("timezone") or "UTC", store.meta("active_events") or "[]"])


def usable(store: Reader | Writer) -> bool:
    """Whether ``store``'s tables hold the cohorts of its current rollups."""
    return store.meta(META) == signature(store)


def refresh(writer: Writer) -> None:
    """Bring the cohort tables up to date with the rollups this ingest changed."""
    con = writer.con
    counted = prepare(writer, META, signature(writer), TABLES, CREATE)
    first, last = con.execute("SELECT min(day), max(day) FROM kpi_daily").fetchall()[0]
    # Every loaded file came in this ingest (a new store): its loads kept last_active and listed
    # every day in changed_days, so nothing older needs a recount.
    this_ingest = [path.name for path in writer.new_files]
    older = con.execute("SELECT count(*) FROM batches WHERE NOT list_contains($1, path)", [this_ingest]).fetchall()
    new_store = older[0][0] == 0
    stale = writer.rebuilt or (not counted and not new_store)
    if stale:
        writer.run("cohort_last_active")
    # Moved first days change cohorts on every day their users were active: all are recounted.
    if stale or writer.moved_first_days or first is None:
        # Rows of days no longer loaded (a time zone change shifts every day) go too.
        for table in TABLES:
            con.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
        spans = [(first, last)] if first is not None else []
    else:
        spans = merged_spans(writer.changed_days)
    for lo, hi in spans:
        week_lo = lo - dt.timedelta(days=lo.weekday())
        week_hi = hi - dt.timedelta(days=hi.weekday())
        writer.run("cohort_refresh", lo=lo, hi=hi, week_lo=week_lo, week_hi=week_hi)
    writer.set_meta(META, signature(writer))
