"""Daily series of the pmkit.toml metrics, materialised at ingest so reading them costs the days.

A custom metric (count, unique users, revenue sum, ratio, funnel, retention) per day is computed
from the per-user rollups or, for funnels, the step events: cost that grows with the data. The
pages read the same daily series over and over (an objective's history, its path to target, the
placebo dates of an impact estimate), so the ingest keeps them in ``metric_daily``: one row per
metric and loaded day, and ``metric_series(..., grain="day")`` without a segment reads that
table when the period lies inside the loaded range. The built-in metrics need no copy: they come
from ``kpi_daily``, which is already one row per day.

Why a slice of the table equals a fresh computation: a day's value never depends on the period
asked for (a funnel's attempts that day look ahead through their window; retention follows the
users first seen that day; MAU looks back 28 days), only on the events and on the last loaded
day. A test compares the table with live computations after loads in several orders.

What a load can change, and so what ``refresh`` recomputes: the days from ``lookback`` days
before its first day (a funnel entered earlier converts on it, a cohort returns on it; none for
a count, sum or unique users) to ``lookahead`` days after its last one (29 when a ratio uses
MAU, whose window reaches forward); the days on which users it moves earlier were first seen
before (their old cohort); and, for funnels and retention, when the last loaded day moves, the
days whose window now ends inside the loaded range. A metric whose definition changed since its rows were written
(``fingerprint``) is recomputed whole; a reader never uses rows with another fingerprint.

"The last loaded day" is the last day the pages show (``base.shown_last_day``): not after today,
and funnels and retention settle against the last whole day (``Workspace.final_day``): today,
while it lasts, can still convert an attempt or bring a user back. Both move with the clock, not
with a load, so the table records the day its funnels and retention were settled against
(``AS_OF_META``). A reader whose last day is
another one computes those metrics live (``usable_as_of``), and the next ingest settles the days
between the two.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import asdict
from typing import Any

import polars as pl

from pmkit.definitions import Definitions
from pmkit.metrics.base import Period
from pmkit.store import Writer, count_tables, create_events_view, remembered

TABLE = "metric_daily"
FUNNEL_TABLE = "funnel_user_day"
CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (metric VARCHAR, fingerprint VARCHAR, day DATE, value DOUBLE);"
    f"CREATE TABLE IF NOT EXISTS {FUNNEL_TABLE} (metric VARCHAR, fingerprint VARCHAR, day DATE, user_key BIGINT, reached BIGINT);"
    # Added with saved funnels; rows written before it have other fingerprints (ROWS_VERSION).
    f"ALTER TABLE {FUNNEL_TABLE} ADD COLUMN IF NOT EXISTS seconds DOUBLE[]"
)
# Part of every fingerprint: raised when the rows kept for a definition change shape, so rows
# written by an older pmkit are never read and the next ingest rewrites them (2: funnel seconds;
# 3: a repeated step at the same instant as the step before counts).
ROWS_VERSION = 3
# A day's events reach the MAU of the 29 days after it (30-day window), the WAU of 6: only ratios
# over those built-ins look ahead; every custom type's day depends on that day and earlier ones.
ROLLING_LOOKAHEAD = {"mau": 29, "stickiness": 29, "wau": 6}
# The last day the funnels and retention in the table were settled against (ISO date).
AS_OF_META = "metric_daily_last_day"


def fingerprint(definitions: Definitions, key: str) -> str:
    """A hash of everything a metric's daily value depends on in its definition (a ratio's parts
    included)."""
    seen = [ROWS_VERSION, *(asdict(definition) for definition in _parts(definitions, key))]
    return hashlib.sha256(json.dumps(seen, sort_keys=True, default=str).encode()).hexdigest()[:16]


def materialised_keys(definitions: Definitions) -> list[str]:
    """The metrics kept in the table: every custom one (built-ins come from kpi_daily)."""
    return list(definitions.custom)


def _parts(definitions: Definitions, key: str) -> list[Any]:
    """The definition of ``key`` and of every metric it is made of (a ratio's parts, nested)."""
    found, pending = [], [key]
    while pending:
        definition = definitions.get(pending.pop())
        found.append(definition)
        pending += [part for part in (definition.numerator, definition.denominator) if part]
    return found


def lookback_days(definitions: Definitions, key: str) -> int:
    """How far before a changed day ``key``'s value can change: its longest funnel window (an
    attempt started then converts on the changed day) or retention week end (a cohort comes back
    on it), plus a day (a window of W days spans W + 1 local days). Per metric: a count of one
    day's events is not recomputed for a week because another metric's funnel needs it."""
    days = [-1]  # a count, sum or unique users of a day changes only with that day's events
    for definition in _parts(definitions, key):
        if definition.type == "funnel":
            days.append(math.ceil(definition.window_days))
        elif definition.type == "retention":
            days.append(7 * definition.week + 6)
    return max(days) + 1


def waits_for_last_day(definitions: Definitions, key: str) -> bool:
    """Whether a day's value of ``key`` can change when later days are loaded, with no event of
    its own: a funnel's attempts count once their window is loaded, a cohort once its week is."""
    return any(d.type in ("funnel", "retention") for d in _parts(definitions, key))


def usable_as_of(reader: Any, last_day: dt.date | None) -> bool:
    """Whether the kept funnels and retention were settled against ``last_day``, the reader's
    last whole day (``Workspace.final_day``). A store written before that day was recorded
    settled them against its last loaded day."""
    as_of = reader.meta(AS_OF_META)
    if as_of is None:
        # Asked for every kept funnel and retention series a page reads: read once per version.
        loaded = remembered(
            reader, "loaded_last_day", lambda: reader.frame("SELECT max(day) AS hi FROM kpi_daily").item()
        )
        return loaded == last_day
    return as_of == str(last_day)


def lookahead_days(definitions: Definitions, key: str) -> int:
    """How far after a changed day ``key``'s value can change: only through WAU, MAU or
    stickiness in a ratio (their windows reach forward)."""
    return max(ROLLING_LOOKAHEAD.get(d.key, 0) if d.type == "builtin" else 0 for d in _parts(definitions, key))


def read_series(reader: Any, key: str, fingerprint_: str, period: Period) -> pl.DataFrame | None:
    """(day, value) of ``key`` for every day of ``period`` from the table, or None when the table
    cannot answer (absent, another definition, or a day missing)."""
    if not _has_table(reader):
        return None
    frame = _kept_rows(reader, "day, value", TABLE, key, fingerprint_, period).sort("day")
    return frame if frame.height == period.days else None


def read_funnel_user_days(reader: Any, key: str, fingerprint_: str, period: Period) -> pl.DataFrame | None:
    """grp (null), user_key, day, reached, seconds of a funnel metric's attempts in ``period``
    (``funnels.attempt_days``), kept at ingest; None when the table does not cover the period (the daily series says which days
    were written: both are written together)."""
    if read_series(reader, key, fingerprint_, period) is None:
        return None
    return _kept_rows(
        reader, "NULL::VARCHAR AS grp, user_key, day, reached, seconds", FUNNEL_TABLE, key, fingerprint_, period
    )


def _kept_rows(reader: Any, columns: str, table: str, key: str, fingerprint_: str, period: Period) -> pl.DataFrame:
    """``columns`` (fixed text) of one metric's rows in one of this module's tables."""
    return reader.frame(
        f"SELECT {columns} FROM {table} WHERE metric = $key AND fingerprint = $fp AND day BETWEEN $lo AND $hi",  # noqa: S608 - fixed names
        key=key,
        fp=fingerprint_,
        lo=period.start,
        hi=period.end,
    )


def _has_table(reader: Any) -> bool:
    return remembered(reader, "metric_daily_exists", lambda: count_tables(reader, [TABLE, FUNNEL_TABLE]) == 2)


class WriterView:
    """The unpublished version seen through the reader interface the metrics use (``frame``,
    ``meta``, ``dimensions``, an ``events`` view over the loaded Parquet files)."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        # Never answer from the table being refreshed: metric_series must compute.
        self.memo: dict[Any, Any] = {"metric_daily_exists": False}
        con = writer.con
        self.dimensions = [r[0] for r in con.execute("SELECT name FROM dimensions ORDER BY name").fetchall()]
        files = writer.event_files()
        create_events_view(con, "events", files, self.dimensions, temporary=True)

    def frame(self, text: str, **params: Any) -> pl.DataFrame:
        return self.writer.frame(text, **params)

    def query(self, name: str, **params: Any) -> pl.DataFrame:
        from pmkit.store import sql_text

        return self.frame(sql_text(name), **params)

    def meta(self, key: str, default: str | None = None) -> str | None:
        return self.writer.meta(key, default)

    def close(self) -> None:
        self.writer.con.execute("DROP VIEW IF EXISTS temp.events")


def refresh(writer: Writer, definitions: Definitions) -> None:
    """Bring ``metric_daily`` up to date for the days this ingest changed (``writer.changed_days``,
    ``writer.rebuilt``; see the module docstring)."""
    # The series module reads this one: imported here, not at the top.
    from pmkit.metrics.base import Segment, final_shown_day, workspace_of
    from pmkit.metrics.series import funnel_user_days, metric_series

    con = writer.con
    con.execute(CREATE)
    first, last = con.execute("SELECT min(day), max(day) FROM kpi_daily").fetchall()[0]
    keys = materialised_keys(definitions)
    current = {key: fingerprint(definitions, key) for key in keys}
    for table in (TABLE, FUNNEL_TABLE):
        if first is None:
            con.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            continue
        # Rows of metrics no longer defined (or defined differently), or outside the loaded range, go.
        con.execute(
            f"DELETE FROM {table} WHERE NOT list_contains($keys, metric) OR day NOT BETWEEN $lo AND $hi "  # noqa: S608
            "OR fingerprint <> map_extract_value(MAP($keys, $prints), metric)",
            {"keys": keys or [""], "prints": list(current.values()) or [""], "lo": first, "hi": last},
        )
    if first is None:
        return
    # Events after today: the shown last day moved with the clock since the last refresh (or was
    # never recorded), so the days settled between then and now are recomputed too.
    # Funnels and retention settle against the last whole day: today, while it lasts, is not.
    shown = final_shown_day(first, last, writer.meta("timezone") or "UTC")
    as_of = writer.meta(AS_OF_META)
    if as_of is None:
        moved = [] if shown == last else [(first, last)]
    else:
        before = dt.date.fromisoformat(as_of)
        moved = [] if before == shown else [(min(before, shown), max(before, shown))]
    view = WriterView(writer)
    try:
        for key in keys:
            window = _window(
                writer,
                waits_for_last_day(definitions, key),
                dt.timedelta(days=lookback_days(definitions, key)),
                dt.timedelta(days=lookahead_days(definitions, key)),
                first,
                last,
                moved,
            )
            period = _span(window, _missing(con, key, first, last))
            if period is None:
                continue
            series = metric_series(view, key, period, "day", definitions)
            for table in (TABLE, FUNNEL_TABLE):
                con.execute(
                    f"DELETE FROM {table} WHERE metric = $1 AND day BETWEEN $2 AND $3",  # noqa: S608 - fixed names
                    [key, period.start, period.end],
                )
            if definitions.get(key).type == "funnel":
                # metric_series just computed them (kept in the view's memo): no second pass.
                attempts = funnel_user_days(
                    view, workspace_of(view), current[key], definitions.get(key), period, Segment()
                )
                _insert(
                    con,
                    FUNNEL_TABLE,
                    attempts.select(
                        pl.lit(key).alias("metric"),
                        pl.lit(current[key]).alias("fingerprint"),
                        "day",
                        "user_key",
                        "reached",
                        "seconds",
                    ),
                )
            rows = series.select(
                pl.lit(key).alias("metric"), pl.lit(current[key]).alias("fingerprint"), "day", pl.col("value")
            )
            _insert(con, TABLE, rows)
    finally:
        view.close()
    writer.set_meta(AS_OF_META, str(shown))


def _insert(con: Any, table: str, rows: pl.DataFrame) -> None:
    con.register("metric_rows", rows)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM metric_rows")  # noqa: S608 - fixed names
    finally:
        con.unregister("metric_rows")


def _missing(con: Any, key: str, first: dt.date, last: dt.date) -> Period | None:
    """The span of loaded days the table has no row for (new days, gaps, a new metric)."""
    lo, hi = con.execute(
        "SELECT min(d), max(d) FROM (SELECT CAST(range AS DATE) AS d FROM range($1::DATE, $2::DATE + 1, INTERVAL 1 DAY)) "  # noqa: S608 - a fixed name
        f"WHERE d NOT IN (SELECT day FROM {TABLE} WHERE metric = $3)",
        [first, last, key],
    ).fetchall()[0]
    return Period(lo, hi) if lo is not None else None


def _span(*periods: Period | None) -> Period | None:
    """The smallest period holding every given one (None when none is given)."""
    given = [p for p in periods if p is not None]
    if not given:
        return None
    return Period(min(p.start for p in given), max(p.end for p in given))


def _window(
    writer: Writer,
    settles: bool,
    lookback: dt.timedelta,
    lookahead: dt.timedelta,
    first: dt.date,
    last: dt.date,
    moved: list[tuple[dt.date, dt.date]],
) -> Period | None:
    """The loaded days a refresh must recompute, or None when the load changed nothing.
    ``settles``: the metric's days also change when the last loaded day moves (by a load, or
    with the clock: ``moved``)."""
    if writer.rebuilt:
        return Period(first, last)
    # A moved first day changes the cohort metrics of that day (retention, new users).
    spans = writer.changed_days + writer.moved_first_days + (writer.settled_days + moved if settles else [])
    if not spans:
        return None
    lo = min(r[0] for r in spans) - lookback
    hi = max(r[1] for r in spans) + lookahead
    lo, hi = max(lo, first), min(hi, last)
    return Period(lo, hi) if lo <= hi else None
