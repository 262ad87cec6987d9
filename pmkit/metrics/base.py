"""What every metric shares: the period, the segment, the grain, and the SQL sources they become.

A metric query reads one of two row sources, spliced into its SQL file where it says
``{user_days}`` or ``{user_event_days}``:

- ``user_days``: one row per day, user and breakdown group: ``day, user_key, grp, events,
  revenue, active``;
- ``user_event_days``: the same per event as well: ``day, user_key, event, grp, events,
  revenue, active``.

Without a segment they are the ingest rollups ``user_day`` and ``user_event_day``. With filters
or a breakdown they come from the rollup ``user_event_day_dims`` (one row per day, user, event
and combination of dimension values, kept at ingest by ``pmkit.metrics.rollup``) when the store
has it, else from the raw ``events`` view restricted to the days asked for. Both give the same
numbers (a test checks it); the rollup's cost does not grow with the raw event count.

Only identifiers from ``reader.dimensions`` (quoted by ``store.quote_identifier``) and fixed
fragments are spliced; every value is a bound parameter.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

import polars as pl

from pmkit.config import workspace_today
from pmkit.metrics import cohorts, feature_days
from pmkit.store import Reader, count_tables, quote_identifier, remembered, sql_text

Grain = Literal["day", "week", "month", "period"]
GRAINS: tuple[str, ...] = ("day", "week", "month", "period")
DIMENSION_ROLLUP = "user_event_day_dims"
# Set by pmkit.metrics.rollup to the time zone the dimension rollup's days were built in.
DIMENSION_ROLLUP_META = "dimension_rollup_timezone"
# Set by pmkit.metrics.step_events to the event names it keeps in time order (a JSON list).
STEP_EVENTS_META = "step_events_names"
# The *_masks.sql files mark each user's days (or weeks) as the bits of one 64-bit mask, built by
# a hash aggregate; when more bits are needed, the plain file counts them with a window sort.
MASK_BITS = 64


def masked_sql(name: str, bits: int) -> str:
    """``name_masks`` when ``bits`` days or weeks fit one mask per user, else ``name``."""
    return f"{name}_masks" if bits <= MASK_BITS else name


def rolling_sql(name: str, start: dt.date, end: dt.date) -> str:
    """``masked_sql`` for rolling 30-day users over the days ``start``..``end``: the 29 days
    before the span and the span itself (at most 35 days)."""
    return masked_sql(name, (end - start).days + 30)


@dataclass(frozen=True)
class Period:
    """Inclusive range of days in the workspace time zone.

    >>> Period(dt.date(2026, 3, 1), dt.date(2026, 3, 7)).days
    7
    """

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period: end {self.end} is before start {self.start} (swap them)")

    @classmethod
    def last(cls, days: int, end: dt.date) -> Period:
        """The ``days`` days ending on ``end``."""
        return cls(end - dt.timedelta(days=days - 1), end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def shift(self, days: int) -> Period:
        return Period(self.start + dt.timedelta(days=days), self.end + dt.timedelta(days=days))

    def previous(self) -> Period:
        """The period of equal length just before this one."""
        return self.shift(-self.days)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Segment:
    """Which events count, and how to split the result.

    ``filters`` are (dimension, value) pairs: pairs on the same dimension are alternatives
    (plan is pro or team), pairs on different dimensions must all hold, on the same event.
    ``breakdown`` names a dimension: results get one row per value (null: events without one).

    >>> Segment(filters=(("plan", "pro"), ("plan", "team")), breakdown="country").filters_by_dimension()
    {'plan': ('pro', 'team')}
    """

    filters: tuple[tuple[str, str], ...] = ()
    breakdown: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "filters", tuple((str(d), str(v)) for d, v in self.filters))

    @property
    def is_empty(self) -> bool:
        return not self.filters and self.breakdown is None

    def filters_by_dimension(self) -> dict[str, tuple[str, ...]]:
        grouped: dict[str, list[str]] = {}
        for dimension, value in self.filters:
            grouped.setdefault(dimension, []).append(value)
        return {d: tuple(v) for d, v in grouped.items()}

    def dimensions(self) -> set[str]:
        names = {d for d, _ in self.filters}
        if self.breakdown:
            names.add(self.breakdown)
        return names


def last_whole_day(last_day: dt.date | None, today_open: bool) -> dt.date | None:
    """``last_day``, or the day before it while it is today and not over (``today_open``)."""
    if last_day is None or not today_open:
        return last_day
    return last_day - dt.timedelta(days=1)


@dataclass(frozen=True)
class Workspace:
    """Facts about the published store that every metric needs (read once per call)."""

    timezone: str
    active_events: tuple[str, ...]
    first_day: dt.date | None  # first and last loaded day (kpi_daily's range)
    last_day: dt.date | None
    dimensions: tuple[str, ...]
    dimension_rollup: bool
    step_events: tuple[str, ...] = ()  # the event names kept in time order (metrics.step_events)
    cohort_rollup: bool = False  # unsegmented retention can read metrics.cohorts' tables
    feature_rollup: bool = False  # unsegmented adoption can read metrics.feature_days' table
    today_open: bool = False  # the last day shown is today in the workspace's zone: not over yet

    @property
    def final_day(self) -> dt.date | None:
        """The last whole day: the last day shown, or the day before it while it is today (an
        export of this morning). Judgements (card changes, objectives, impact, anomalies) end
        here: today's few hours read as a 2% fall of a flat DAU, an objective at risk and a
        shipped item's impact (QA). Charts and tables still show today."""
        return last_whole_day(self.last_day, self.today_open)

    def default_period(self) -> Period:
        """The whole loaded range (today when nothing is loaded)."""
        if self.first_day is None or self.last_day is None:
            today = dt.date.today()
            return Period(today, today)
        return Period(self.first_day, self.last_day)


def final_funnel_day(final_day: dt.date, window_days: float, timezone: str) -> dt.date:
    """The last day whose funnel attempts have had their whole window by the end of
    ``final_day`` (the last whole day) in ``timezone``: ``ceil(window_days)`` days before it, or
    one more where a short day (a clock moved forward) pushes a window from the day's last hour
    past it. New York's 9 Mar 2025 has 23 hours: a 1-day window from 8 Mar 23:30 ends at 10 Mar
    00:30, and 8 Mar read as final, and lost, with 9 Mar the last day (QA).

    >>> final_funnel_day(dt.date(2025, 3, 9), 1, "America/New_York"), final_funnel_day(dt.date(2025, 3, 9), 1, "UTC")
    (datetime.date(2025, 3, 7), datetime.date(2025, 3, 8))
    """
    zone = ZoneInfo(timezone)

    def end_of(day: dt.date) -> dt.datetime:  # the instant the local day ends
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(dt.UTC)

    window = dt.timedelta(days=window_days)
    day = final_day - dt.timedelta(days=math.ceil(window_days))
    while end_of(day) + window > end_of(final_day):
        day -= dt.timedelta(days=1)
    return day


def shown_last_day(first_day: dt.date | None, last_day: dt.date | None, timezone: str) -> dt.date | None:
    """The last day the pages show and measure up to: the last loaded day, but not after today
    in the workspace's time zone. One event dated 2030 (a wrong clock in an export) moved every
    default range there, empty, and made every roadmap item "1120 days late"; such events stay
    loaded (and counted at ingest, ``rows_future``) but out of sight. Data wholly in the future
    (nothing up to today) is shown as it is.

    >>> shown_last_day(dt.date(2026, 1, 1), dt.date(2999, 1, 1), "UTC") < dt.date(2999, 1, 1)
    True
    >>> shown_last_day(dt.date(2998, 1, 1), dt.date(2999, 1, 1), "UTC")
    datetime.date(2999, 1, 1)
    """
    if first_day is None or last_day is None:
        return last_day
    today = workspace_today(timezone)
    return today if first_day <= today < last_day else last_day


def workspace_of(reader: Reader) -> Workspace:
    return remembered(reader, "workspace", lambda: _read_workspace(reader))


def final_shown_day(first_day: dt.date | None, last_day: dt.date | None, timezone: str) -> dt.date | None:
    """``Workspace.final_day`` of a loaded range: the last day shown (``shown_last_day``), or
    the day before it while it is today. The ingest records it as the day its kept funnels and
    retention were settled against (``materialized.AS_OF_META``)."""
    shown = shown_last_day(first_day, last_day, timezone)
    return last_whole_day(shown, shown is not None and shown == workspace_today(timezone))


def _read_workspace(reader: Reader) -> Workspace:
    timezone = reader.meta("timezone") or "UTC"
    active = tuple(json.loads(reader.meta("active_events") or "[]"))
    first_day, last_day = reader.frame("SELECT min(day) AS lo, max(day) AS hi FROM kpi_daily").row(0)
    rollup = reader.meta(DIMENSION_ROLLUP_META) == timezone and _table_exists(reader, DIMENSION_ROLLUP)
    steps = tuple(json.loads(reader.meta(STEP_EVENTS_META) or "[]"))
    shown = shown_last_day(first_day, last_day, timezone)
    # The cohort tables count every loaded day: with events dated after the last shown day, a
    # user first seen tomorrow joined this week's cohort and a user back only in the future was
    # in no "on or after" week (QA). Those stores read the user days up to the shown day.
    cohort_rollup = cohorts.usable(reader) and shown == last_day
    feature_rollup = feature_days.usable(reader)
    return Workspace(
        timezone,
        active,
        first_day,
        shown,
        tuple(reader.dimensions),
        rollup,
        steps,
        cohort_rollup,
        feature_rollup,
        shown is not None and shown == workspace_today(timezone),
    )


def _table_exists(reader: Reader, name: str) -> bool:
    return count_tables(reader, [name]) == 1


def check_segment(segment: Segment | None, workspace: Workspace) -> Segment:
    """The segment, or a ValueError naming each unknown dimension and the known ones."""
    segment = segment or Segment()
    unknown = sorted(segment.dimensions() - set(workspace.dimensions))
    if unknown:
        known = ", ".join(workspace.dimensions) or "none loaded yet"
        raise ValueError(f"segment: {', '.join(repr(u) for u in unknown)} is not an event dimension (known: {known})")
    return segment


def check_grain(grain: str) -> None:
    if grain not in GRAINS:
        raise ValueError(f"grain: {grain!r} is not one of {', '.join(GRAINS)} (e.g. grain='week')")


# --- SQL ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fragment:
    """A parenthesised subquery spliced into a SQL file, with the parameters it binds."""

    sql: str
    params: Mapping[str, Any] = field(default_factory=dict)


def run(reader: Reader, name: str, fragments: Mapping[str, Fragment] | None = None, **params: Any) -> pl.DataFrame:
    """Run ``pmkit/sql/NAME.sql`` with ``{fragment}`` markers replaced and only the ``$params``
    the text uses bound (DuckDB refuses unused ones)."""
    text = sql_text(name)
    bound = dict(params)
    for marker, fragment in (fragments or {}).items():
        text = text.replace("{" + marker + "}", fragment.sql)
        bound.update(fragment.params)
    code = re.sub(r"--[^\n]*", "", text)  # a $name in a comment is not a parameter
    used = {k: v for k, v in bound.items() if re.search(rf"\${k}\b", code)}
    return reader.frame(code, **used)


def bucket_params(grain: str, period: Period) -> dict[str, Any]:
    """Parameters of a query that groups days into grain buckets (see metric_activity.sql)."""
    check_grain(grain)
    return {"whole_period": grain == "period", "trunc": "day" if grain == "period" else grain, "start": period.start}


def _active_sql(column: str = "event") -> str:
    return f"(len($src_active::VARCHAR[]) = 0 OR list_contains($src_active::VARCHAR[], {column}))"


def _segment_sql(segment: Segment) -> tuple[str, str, dict[str, Any]]:
    """(group expression, extra WHERE conditions, their parameters) of a segment."""
    grp = f"CAST({quote_identifier(segment.breakdown)} AS VARCHAR)" if segment.breakdown else "NULL::VARCHAR"
    conditions, params = [], {}
    for index, (dimension, values) in enumerate(sorted(segment.filters_by_dimension().items())):
        conditions.append(f" AND list_contains($src_f{index}::VARCHAR[], {quote_identifier(dimension)})")
        params[f"src_f{index}"] = list(values)
    return grp, "".join(conditions), params


def raw_events(segment: Segment) -> Fragment:
    """The segment's raw events: (event_time, user_key, event, revenue, grp)."""
    grp, where, params = _segment_sql(segment)
    sql = f"(SELECT event_time, user_key, event, revenue, {grp} AS grp FROM events WHERE true{where})"  # noqa: S608 - quoted identifiers, bound values
    return Fragment(sql, params)


def _rows(
    workspace: Workspace,
    segment: Segment,
    lo: dt.date,
    hi: dt.date,
    active_events: Iterable[str] | None,
    per_event: bool,
) -> Fragment:
    """The segment's rows for days lo..hi, grouped once per (day, user_key, [event,] grp)."""
    active = list(workspace.active_events if active_events is None else active_events)
    grp, where, segment_params = _segment_sql(segment)
    params: dict[str, Any] = {"src_lo": lo, "src_hi": hi, "src_active": active, **segment_params}
    keys = "day, user_key, event, grp" if per_event else "day, user_key, grp"
    if segment.is_empty:
        if per_event:  # user_event_day is already one row per key
            sql = (
                f"(SELECT day, user_key, event, NULL::VARCHAR AS grp, events, revenue, {_active_sql()} AS active "  # noqa: S608 - fixed text
                "FROM user_event_day WHERE day BETWEEN $src_lo AND $src_hi)"
            )
            return Fragment(sql, params)
        source = "(SELECT day, user_key, event, NULL::VARCHAR AS grp, events, revenue FROM user_event_day)"
    elif workspace.dimension_rollup:
        source = (
            f"(SELECT day, user_key, event, {grp} AS grp, events, revenue FROM {DIMENSION_ROLLUP} WHERE true{where})"  # noqa: S608 - quoted identifiers
        )
    else:
        # Events carry UTC times; a local day lies within a day either side of its UTC date
        # (offsets are at most 14 hours), so this range prunes Parquet row groups safely.
        params["src_tz"] = workspace.timezone
        source = (
            "(SELECT CAST(timezone($src_tz, timezone('UTC', event_time)) AS DATE) AS day, user_key, event, "  # noqa: S608 - quoted identifiers
            f"{grp} AS grp, 1 AS events, coalesce(revenue, 0) AS revenue FROM events "
            f"WHERE event_time >= $src_lo::TIMESTAMP - INTERVAL 1 DAY AND event_time < $src_hi::TIMESTAMP + INTERVAL 2 DAY{where})"
        )
    sql = (
        f"(SELECT {keys}, sum(events)::BIGINT AS events, sum(revenue)::DOUBLE AS revenue, bool_or({_active_sql()}) AS active "  # noqa: S608 - our fragments
        f"FROM {source} AS rows WHERE day BETWEEN $src_lo AND $src_hi GROUP BY {keys})"
    )
    return Fragment(sql, params)


def user_event_days(
    workspace: Workspace,
    segment: Segment,
    lo: dt.date,
    hi: dt.date,
    active_events: Iterable[str] | None = None,
) -> Fragment:
    """Rows (day, user_key, event, grp, events, revenue, active) for days lo..hi, unique per
    (day, user_key, event, grp). ``active_events`` overrides the workspace's active events."""
    return _rows(workspace, segment, lo, hi, active_events, per_event=True)


def user_days(
    workspace: Workspace,
    segment: Segment,
    lo: dt.date,
    hi: dt.date,
    active_events: Iterable[str] | None = None,
) -> Fragment:
    """Rows (day, user_key, grp, events, revenue, active) for days lo..hi, unique per
    (day, user_key, grp). Without a segment or an override of the active events this is the
    ``user_day`` rollup itself."""
    if segment.is_empty and active_events is None:
        return Fragment(
            "(SELECT day, user_key, NULL::VARCHAR AS grp, events, revenue, active FROM user_day "
            "WHERE day BETWEEN $src_lo AND $src_hi)",
            {"src_lo": lo, "src_hi": hi},
        )
    return _rows(workspace, segment, lo, hi, active_events, per_event=False)


# --- calendars and frames ----------------------------------------------------------------------


def days_between(start: dt.date, end: dt.date) -> pl.Series:
    return pl.date_range(start, end, "1d", eager=True).alias("day")


def bucket_start(day: dt.date, grain: str, period: Period) -> dt.date:
    """The first day of the grain bucket holding ``day`` (weeks start on Monday)."""
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return period.start


def buckets(period: Period, grain: str) -> pl.DataFrame:
    """One row per bucket meeting the period: ``day`` (the bucket's first calendar day, or the
    period start for grain "period") and ``days`` (how many of its days lie in the period)."""
    check_grain(grain)
    frame = pl.DataFrame({"date": days_between(period.start, period.end)})
    frame = frame.with_columns(bucket_expr(grain, period, "date").alias("day"))
    return frame.group_by("day", maintain_order=True).agg(pl.len().cast(pl.Int64).alias("days"))


def bucket_expr(grain: str, period: Period, column: str = "day") -> pl.Expr:
    """Polars expression mapping a date column to its bucket start."""
    if grain == "day":
        return pl.col(column)
    if grain == "week":
        return pl.col(column).dt.truncate("1w")
    if grain == "month":
        return pl.col(column).dt.truncate("1mo")
    return pl.lit(period.start, pl.Date)


def densify(
    frame: pl.DataFrame,
    calendar: pl.DataFrame,
    fill: Mapping[str, Any],
    *,
    on: str = "day",
) -> pl.DataFrame:
    """Every calendar row for every group in ``frame`` (one null group when ``frame`` is empty),
    missing values filled from ``fill``."""
    groups = frame.select("grp").unique() if frame.height else pl.DataFrame({"grp": [None]}, schema={"grp": pl.String})
    grid = groups.join(calendar, how="cross")
    out = grid.join(frame, on=["grp", on], how="left", nulls_equal=True)
    return out.with_columns([pl.col(k).fill_null(v) for k, v in fill.items()]).sort(["grp", on], nulls_last=True)


def finish(frame: pl.DataFrame, segment: Segment, columns: list[str], keys: int = 1) -> pl.DataFrame:
    """Name the group column after the breakdown dimension (or drop it) and order the columns:
    the first ``keys`` columns, the breakdown, the rest."""
    if segment.breakdown:
        # Also a column the frame has beyond ``columns`` (activity's new_users behind a grain's
        # active users): renaming the group onto it would make two columns of one name.
        if segment.breakdown in columns or segment.breakdown in set(frame.columns) - {"grp"}:
            raise ValueError(f"segment: cannot break down by {segment.breakdown!r}, a metric column has that name")
        frame = frame.rename({"grp": segment.breakdown})
        return frame.select([*columns[:keys], segment.breakdown, *columns[keys:]])
    return frame.select(columns)


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """numerator / denominator as Float64, null when the denominator is 0 or null."""
    return pl.when(denominator != 0).then(numerator.cast(pl.Float64) / denominator.cast(pl.Float64)).otherwise(None)
