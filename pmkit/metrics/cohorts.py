"""Cohort rollups: unsegmented retention read in time that grows with days, not users.

Retention counts distinct users, so reading it from ``user_day`` touches every active day of every
cohort member: ten times the users, ten times the work. The ingest keeps three small tables
instead, whose size is bounded by the days (a 6-month store: some 16,000 rows):

- ``cohort_days(first_day, day, users)``: users first seen on ``first_day`` with an active day on
  ``day`` (day-N retention);
- ``cohort_weeks(cohort_week, week, users)``: users first seen in the Monday week ``cohort_week``
  with an active day in the week ``week`` ("on week k");
- ``cohort_last(cohort_week, last_week, users)``: users first seen in ``cohort_week`` whose last
  active day is in ``last_week`` ("on or after week k" adds these up from the last week down).

Cohort sizes are ``kpi_daily.new_users``. ``refresh`` runs at the end of every events ingest:
the days the ingest changed are recounted (their whole weeks for ``cohort_weeks``), and
everything is, when the rollups were rebuilt (time zone or active events changed), when a file
moved users' first day earlier, or for a store from before these tables. ``cohort_last`` is
always recounted whole (the last active day moves with any load).

Readers use them only for retention without filters, breakdown or other active events, and only
when ``META`` matches the workspace's time zone and active events (``usable``); any other
retention reads ``user_day`` as before. Both ways are tested against the same oracles.
"""

from __future__ import annotations

import datetime as dt
import json

from pmkit.store import Writer

META = "cohort_rollup"
CREATE = (
    "CREATE TABLE IF NOT EXISTS cohort_days (first_day DATE, day DATE, users BIGINT);"
    "CREATE TABLE IF NOT EXISTS cohort_weeks (cohort_week DATE, week DATE, users BIGINT);"
    "CREATE TABLE IF NOT EXISTS cohort_last (cohort_week DATE, last_week DATE, users BIGINT)"
)


def signature(timezone: str | None, active_events: str | None) -> str:
    """What the tables were counted under: the time zone and the stored active-events list."""
    return json.dumps([timezone or "UTC", active_events or "[]"])


def usable(meta_value: str | None, timezone: str, active_events: tuple[str, ...]) -> bool:
    """Whether tables marked ``meta_value`` hold the retention of this workspace."""
    return meta_value == signature(timezone, json.dumps(sorted(active_events)))


def refresh(writer: Writer) -> None:
    """Bring the cohort tables up to date with the rollups this ingest changed."""
    con = writer.con
    con.execute(CREATE)
    wanted = signature(writer.meta("timezone"), writer.meta("active_events"))
    first, last = con.execute("SELECT min(day), max(day) FROM kpi_daily").fetchall()[0]
    full = first is None or writer.rebuilt or writer.first_days_moved or writer.meta(META) != wanted
    if full:
        # Rows of days no longer loaded (a time zone change shifts every day) go too.
        for table in ("cohort_days", "cohort_weeks", "cohort_last"):
            con.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
    if full and first is not None:
        _recount_days(writer, first, last)
        writer.run("cohort_last")
    elif writer.changed_days:
        for lo, hi in _merged(writer.changed_days):
            _recount_days(writer, lo, hi)
        writer.run("cohort_last")
    writer.set_meta(META, wanted)


def _recount_days(writer: Writer, lo: dt.date, hi: dt.date) -> None:
    week_lo = lo - dt.timedelta(days=lo.weekday())
    week_hi = hi - dt.timedelta(days=hi.weekday())
    writer.run("cohort_refresh", lo=lo, hi=hi, week_lo=week_lo, week_hi=week_hi)


def _merged(spans: list[tuple[dt.date, dt.date]]) -> list[tuple[dt.date, dt.date]]:
    """Overlapping or touching spans as one: each day is recounted once."""
    merged: list[tuple[dt.date, dt.date]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1] + dt.timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
