"""The dimension rollup behind filters and breakdowns, kept up to date by the ingest.

``user_event_day_dims`` holds one row per day, user, event and combination of dimension values,
with the events and revenue of that row. For the usual dimensions (plan, country, platform,
app version: constant for a user within a day) it has about as many rows as ``user_event_day``,
so a segmented metric costs what an unsegmented one does. A dimension with a value per event (a
URL, say) makes it as large as the raw events: correct, just not cheaper.

The ingest calls ``merge_dimension_rollup(writer, lo_day, hi_day, timezone)`` in
``_store_events`` after ``rollup_merge``, while the staged ``batch`` table still exists. If the
rollup is missing, or was built in another time zone, that call rebuilds it from every loaded
Parquet file (which includes the file being loaded) instead of merging, so an old store heals
on its next events load. Readers use the rollup only when its meta key names the workspace's
current time zone, and otherwise read the raw events (``pmkit.metrics.base.user_event_days``).
"""

from __future__ import annotations

import datetime as dt

from pmkit.metrics.base import DIMENSION_ROLLUP, DIMENSION_ROLLUP_META
from pmkit.store import Writer, quote_identifier

CREATE = (
    f"CREATE TABLE IF NOT EXISTS {DIMENSION_ROLLUP} "
    "(day DATE, user_key BIGINT, event VARCHAR, events BIGINT, revenue DOUBLE)"
)


def _add_dimension_columns(writer: Writer) -> None:
    writer.con.execute(CREATE)
    for (name,) in writer.con.execute("SELECT name FROM dimensions ORDER BY name").fetchall():
        # Names in `dimensions` were checked at ingest; quote_identifier refuses anything else.
        writer.con.execute(f"ALTER TABLE {DIMENSION_ROLLUP} ADD COLUMN IF NOT EXISTS {quote_identifier(name)} VARCHAR")


def merge_dimension_rollup(
    writer: Writer, lo_day: dt.date, hi_day: dt.date, timezone: str, *, only_file: bool = False
) -> None:
    """Add the registered ``batch_dims`` (days lo_day..hi_day, grouped by day, user, event and
    dimensions) to the rollup, or rebuild it whole when it is stale. ``only_file``: the batch is
    everything the store holds, so a stale rollup is simply replaced by it (no re-read)."""
    stale = writer.meta(DIMENSION_ROLLUP_META) != timezone
    if stale and not only_file:
        rebuild_dimension_rollup(writer, timezone)
        return
    _add_dimension_columns(writer)
    if stale:
        # Only this file is loaded: the rollup is rebuilt from nothing, by this merge.
        writer.con.execute(f"DELETE FROM {DIMENSION_ROLLUP}")  # noqa: S608 - a fixed table name
        writer.set_meta(DIMENSION_ROLLUP_META, timezone)
    existing = writer.con.execute(
        f"SELECT count(*) FROM {DIMENSION_ROLLUP} WHERE day BETWEEN $1 AND $2",  # noqa: S608 - a fixed table name
        [lo_day, hi_day],
    ).fetchall()[0][0]
    if existing:
        writer.run("metric_dims_merge", lo=lo_day, hi=hi_day)
    else:
        writer.con.execute(f"INSERT INTO {DIMENSION_ROLLUP} BY NAME SELECT * FROM batch_dims")  # noqa: S608


def rebuild_dimension_rollup(writer: Writer, timezone: str) -> None:
    """Recompute the rollup from every loaded Parquet file (after a time zone change)."""
    _add_dimension_columns(writer)
    files = writer.event_files()
    if files:
        writer.run("metric_dims_rebuild", files=files, tz=timezone)
    else:
        writer.con.execute(f"DELETE FROM {DIMENSION_ROLLUP}")  # noqa: S608 - a fixed table name
    writer.set_meta(DIMENSION_ROLLUP_META, timezone)
