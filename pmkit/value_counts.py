"""How many events carry each event name and each dimension value, kept at ingest.

The pages list the loaded event names (the funnel steps, the feature pickers) and each
dimension's values (the segment pickers) on every first render. Counted from the events or the
rollups, that read grows with the data; this table has one row per name or value, and each load
adds its own counts. ``column_name`` is ``event`` for event names, else the dimension.

A store written before the table existed gets it filled from all loaded events by its next
ingest (``meta`` says when it is complete); until then the readers count as before.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from pmkit.store import Writer, quote_identifier, remembered

TABLE = "value_counts"
META = "value_counts"
CREATE = f"CREATE TABLE IF NOT EXISTS {TABLE} (column_name VARCHAR, value VARCHAR, events BIGINT)"


def batch_counts(rows: pl.LazyFrame, dims: list[str]) -> pl.LazyFrame:
    """The counts of one batch of events: one plan, to run beside the rollups' group-bys."""
    parts = [
        rows.filter(pl.col(column).is_not_null())
        .group_by(column)
        .agg(pl.len().cast(pl.Int64).alias("events"))
        .select(pl.lit(column).alias("column_name"), pl.col(column).cast(pl.String).alias("value"), "events")
        for column in ["event", *dims]
    ]
    return pl.concat(parts, how="vertical")


def merge(writer: Writer, counts: pl.DataFrame) -> None:
    """Add a batch's counts (its Parquet file is already listed in ``batches``)."""
    con = writer.con
    con.execute(CREATE)
    if writer.meta(META) != "1":
        if con.execute("SELECT count(*) FROM batches").fetchall()[0][0] > 1:
            fill(writer)  # a store from before the table: count what it holds, this batch included
            return
        writer.set_meta(META, "1")  # the first events of a new store: the batch's counts are all
    con.register("batch_counts", counts)
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE merged_counts AS SELECT column_name, value, sum(events)::BIGINT AS events "  # noqa: S608 - fixed names
            f"FROM (SELECT * FROM {TABLE} UNION ALL SELECT * FROM batch_counts) GROUP BY column_name, value"
        )
    finally:
        con.unregister("batch_counts")
    con.execute(f"DELETE FROM {TABLE}")  # noqa: S608 - a fixed name
    con.execute(f"INSERT INTO {TABLE} SELECT * FROM merged_counts")  # noqa: S608 - a fixed name
    con.execute("DROP TABLE merged_counts")


def fill(writer: Writer) -> None:
    """Count every loaded event afresh (a store from before the table)."""
    con = writer.con
    con.execute(CREATE)
    files = writer.event_files()
    dims = [name for (name,) in con.execute("SELECT name FROM dimensions ORDER BY name").fetchall()]
    con.execute(f"DELETE FROM {TABLE}")  # noqa: S608 - a fixed name
    for column in ["event", *dims]:
        quoted = quote_identifier(column)
        con.execute(
            f"INSERT INTO {TABLE} SELECT $column, CAST({quoted} AS VARCHAR), count(*) "  # noqa: S608 - a checked identifier
            f"FROM read_parquet($files, union_by_name = true) WHERE {quoted} IS NOT NULL GROUP BY 2",
            {"column": column, "files": files},
        )
    writer.set_meta(META, "1")


def read(reader: Any, column: str, limit: int | None = None) -> pl.DataFrame | None:
    """value, events of one column (``event`` or a dimension), most events first; None when the
    store has no complete table yet."""
    if not remembered(reader, "value_counts_ready", lambda: reader.meta(META) == "1"):
        return None
    return reader.frame(
        f"SELECT value, events FROM {TABLE} WHERE column_name = $column ORDER BY events DESC, value "  # noqa: S608
        "LIMIT $limit",
        column=column,
        limit=limit if limit is not None else 1 << 62,
    )
