"""The events of the saved funnels' steps, kept in the store in time order.

A funnel needs each step event's time (see ``funnels``), so it reads raw events. The raw
events live in one Parquet file per loaded export, in the export's own row order: a read of a
few days (the refresh of a saved funnel after adding a day's export) scans every row group of
every file, 0.11 s for 10M events. ``step_events`` holds only the events whose name is a step of
a funnel metric in pmkit.toml (event_time, user_key, event), each load's rows sorted by time,
so DuckDB skips the row groups outside the days asked for.

Which names it holds is the meta key ``STEP_EVENTS_META``. At the start of an ingest, ``sync``
makes it the steps of the current definitions: names no longer used are deleted, new names are
read once from every loaded Parquet file. Each events file then adds its own rows of those names
(``add_batch``), after the event_id dedupe, so the table holds exactly the Parquet files' events
of those names. Times are UTC: a time zone change needs no rebuild.

A funnel without a segment whose steps are all kept reads this table (``funnel_events``): the
saved funnels' refresh at ingest, and any ad-hoc funnel over those steps. Segments need the
events' dimensions and read the Parquet files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import polars as pl

from pmkit.definitions import Definitions
from pmkit.metrics.base import STEP_EVENTS_META, Fragment, Segment, Workspace, raw_events
from pmkit.store import Writer

TABLE = "step_events"
CREATE = f"CREATE TABLE IF NOT EXISTS {TABLE} (event_time TIMESTAMP, user_key BIGINT, event VARCHAR)"


def wanted(definitions: Definitions) -> list[str]:
    """Every step of every funnel metric, sorted."""
    return sorted({step for d in definitions.custom.values() if d.type == "funnel" for step in d.steps})


def kept(writer: Writer) -> list[str]:
    return json.loads(writer.meta(STEP_EVENTS_META) or "[]")


def sync(writer: Writer, definitions: Definitions) -> None:
    """Make the table hold the steps of ``definitions`` for every loaded events file."""
    want, have = wanted(definitions), kept(writer)
    if want == have:
        return
    con = writer.con
    con.execute(CREATE)
    gone = sorted(set(have) - set(want))
    if gone:
        con.execute(f"DELETE FROM {TABLE} WHERE list_contains($1, event)", [gone])  # noqa: S608 - a fixed name
    new = sorted(set(want) - set(have))
    files = writer.event_files()
    if new and files:
        con.execute(
            f"INSERT INTO {TABLE} SELECT event_time, user_key, event FROM read_parquet($files, union_by_name = true) "  # noqa: S608 - a fixed name
            "WHERE list_contains($names, event) ORDER BY event_time",
            {"files": files, "names": new},
        )
    writer.set_meta(STEP_EVENTS_META, json.dumps(want))


def add_batch(writer: Writer, batch: pl.DataFrame) -> None:
    """Add the kept names' events of one loaded file (``batch``: the rows written to its
    Parquet file), in time order."""
    names = kept(writer)
    if not names:
        return
    rows = batch.lazy().filter(pl.col("event").is_in(names)).select("event_time", "user_key", "event")
    rows = rows.sort("event_time").collect()
    if rows.height:
        writer.con.register("step_rows", rows)
        try:
            writer.con.execute(f"INSERT INTO {TABLE} SELECT * FROM step_rows")  # noqa: S608 - a fixed name
        finally:
            writer.con.unregister("step_rows")


def funnel_events(workspace: Workspace, steps: Sequence[str], segment: Segment) -> Fragment:
    """The events a funnel over ``steps`` reads: (event_time, user_key, event, revenue, grp)."""
    if segment.is_empty and steps and set(steps) <= set(workspace.step_events):
        columns = "event_time, user_key, event, NULL::DOUBLE AS revenue, NULL::VARCHAR AS grp"
        return Fragment(f"(SELECT {columns} FROM {TABLE})")  # noqa: S608 - fixed text
    return raw_events(segment)
