"""Any metric key, built-in or defined in pmkit.toml, as a series of values per grain bucket.

How a bucket (week, month, whole period) gets one value, per metric:

- dau and stickiness: the mean of the bucket's daily values (average DAU);
- wau and mau: the value on the bucket's last day inside the period;
- new_users, events, revenue, count, sum_revenue: the sum over the bucket;
- arpu: the bucket's revenue / the distinct users active in the bucket;
- unique_users: distinct users over the bucket;
- ratio: the numerator's bucket value / the denominator's bucket value;
- funnel: of the users with a step-1 event (an attempt start) in the bucket, the share who
  completed every step within the window from one of those attempts. Only attempts whose whole
  window is loaded count (started at least window_days before the last loaded day): later ones
  may still convert, and a low partial number would read as a drop. A bucket with no such
  attempt is null (e.g. the last window_days days at grain "day");
- retention (week w): of the users first seen in the bucket whose days 7w..7w+6 after their
  first day are all loaded, the share active on one of those days (null when none is eligible).

Per day, the funnel value is thus "conversion of the users who did step 1 that day", which
makes e.g. activation (signup -> create_report in 7 days) a daily or weekly trend.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from pmkit.definitions import LEVELS, Definitions, MetricDefinition
from pmkit.metrics import materialized
from pmkit.metrics.base import (
    Period,
    Segment,
    Workspace,
    bucket_expr,
    bucket_params,
    buckets,
    check_grain,
    check_segment,
    final_funnel_day,
    finish,
    ratio,
    run,
    user_event_days,
    workspace_of,
)
from pmkit.metrics.comparisons import _check_against, change, comparison_period
from pmkit.metrics.funnels import attempt_days, funnel_attempts
from pmkit.metrics.kpis import active_users, activity, daily_kpis
from pmkit.metrics.retention import window_retention
from pmkit.store import Reader, remembered

MAX_RATIO_DEPTH = 8


def metric_series(
    reader: Reader,
    key: str,
    period: Period | None = None,
    grain: str = "day",
    definitions: Definitions | None = None,
    segment: Segment | None = None,
) -> pl.DataFrame:
    """day (bucket start), [breakdown], value (Float64) for every bucket of the period.

    >>> metric_series(reader, "activation", grain="week", definitions=load_definitions(config))  # doctest: +SKIP
    """
    check_grain(grain)
    definitions = definitions or Definitions()
    try:
        definition = definitions.get(key)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    workspace = workspace_of(reader)
    period = period or workspace.default_period()
    segment = check_segment(segment, workspace)
    fingerprint = materialized.fingerprint(definitions, key)

    def compute() -> pl.DataFrame:
        frame = _stored(reader, workspace, definitions, definition, fingerprint, period, grain, segment)
        if frame is None:
            frame = _evaluate(reader, workspace, definition, definitions, period, grain, segment, 0)
            frame = finish(frame.sort(["grp", "day"], nulls_last=True), segment, ["day", "value"])
        return frame

    return remembered(reader, ("metric_series", fingerprint, period, grain, segment), compute)


def _stored_daily(
    reader: Reader,
    workspace: Workspace,
    definition: MetricDefinition,
    definitions: Definitions,
    period: Period,
    segment: Segment,
) -> pl.DataFrame | None:
    """(day, value) of a metric's daily series kept at ingest, or None when it cannot answer."""
    fingerprint = materialized.fingerprint(definitions, definition.key)
    return _stored(reader, workspace, definitions, definition, fingerprint, period, "day", segment)


def _stored(
    reader: Reader,
    workspace: Workspace,
    definitions: Definitions,
    definition: MetricDefinition,
    fingerprint: str,
    period: Period,
    grain: str,
    segment: Segment,
) -> pl.DataFrame | None:
    """The daily series kept at ingest (``pmkit.metrics.materialized``), when it can answer."""
    if grain != "day" or not segment.is_empty or definition.type == "builtin" or workspace.first_day is None:
        return None
    if period.start < workspace.first_day or period.end > workspace.last_day:
        return None
    if materialized.waits_for_last_day(definitions, definition.key) and not materialized.usable_as_of(
        reader, workspace.final_day
    ):
        return None  # settled against another last day (events after today, and the clock moved)
    return materialized.read_series(reader, definition.key, fingerprint, period)


def compare_metric(
    reader: Reader,
    key: str,
    period: Period,
    against: Sequence[str] = ("previous_period",),
    definitions: Definitions | None = None,
    segment: Segment | None = None,
) -> pl.DataFrame:
    """The metric over the whole period against the same metric over each earlier period:
    comparison, start, end (of the earlier period), value, base, change, change_pct. Values
    follow the metric's bucket rule (e.g. distinct users for ARPU's denominator, the last day
    for MAU). With a breakdown, one row per comparison and value."""
    against = _check_against(against)
    current = metric_series(reader, key, period, "period", definitions, segment)
    rows = []
    for name in against:
        earlier = comparison_period(period, name)
        base = metric_series(reader, key, earlier, "period", definitions, segment)
        keys = [c for c in current.columns if c not in ("day", "value")]
        joined = (
            current.drop("day").join(
                base.drop("day").rename({"value": "base"}), on=keys, how="full", coalesce=True, nulls_equal=True
            )
            if keys
            else current.drop("day").with_columns(base["value"].alias("base"))
        )
        for row in joined.iter_rows(named=True):
            absolute, pct = change(row["value"], row["base"])
            rows.append(
                {
                    "comparison": name,
                    **{k: row[k] for k in keys},
                    "start": earlier.start,
                    "end": earlier.end,
                    "value": row["value"],
                    "base": row["base"],
                    "change": absolute,
                    "change_pct": pct,
                }
            )
    schema = {
        "comparison": pl.String,
        **{k: pl.String for k in current.columns if k not in ("day", "value")},
        "start": pl.Date,
        "end": pl.Date,
        "value": pl.Float64,
        "base": pl.Float64,
        "change": pl.Float64,
        "change_pct": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


def _grp(frame: pl.DataFrame, segment: Segment) -> pl.DataFrame:
    """A public metric frame back to the internal layout with a ``grp`` column."""
    if segment.breakdown:
        return frame.rename({segment.breakdown: "grp"})
    return frame.with_columns(pl.lit(None, pl.String).alias("grp"))


# Custom types whose value where no event counted is 0 (not unknown, as a funnel's or a cohort's).
ZERO_WHEN_ABSENT = frozenset({"count", "unique_users", "sum_revenue"})


# DAU, WAU and MAU are levels: over a bucket, a mean or the last day, not a sum. A ratio with one
# of them on a side is pooled over a bucket (the sum of each side's daily values) when both sides'
# daily values add up: those levels, and counts of events, users or revenue. Any other ratio
# takes each side by its own rule for a bucket: purchases / signups is the sum over the sum,
# revenue / payers the revenue over the distinct payers of the bucket (as ARPU).
ADDITIVE_BUILTINS = LEVELS | {"events", "revenue", "new_users"}


def pooled_sides(sides: Sequence[MetricDefinition]) -> bool:
    def adds_up(definition: MetricDefinition) -> bool:
        if definition.type == "builtin":
            return definition.key in ADDITIVE_BUILTINS
        return definition.type in ZERO_WHEN_ABSENT

    levels = any(side.type == "builtin" and side.key in LEVELS for side in sides)
    return levels and all(adds_up(side) for side in sides)


def _bucket_sums(daily: pl.DataFrame, grain: str, period: Period) -> pl.DataFrame:
    """(grp, day, value) of daily values summed per bucket (``day`` the bucket's start)."""
    return (
        daily.with_columns(bucket_expr(grain, period).alias("bucket"))
        .group_by("grp", "bucket")
        .agg(pl.col("value").sum())
        .select("grp", pl.col("bucket").alias("day"), "value")
    )


def _fill(frame: pl.DataFrame, period: Period, grain: str) -> pl.DataFrame:
    """(grp, day, value) for every bucket and group; missing values stay null."""
    calendar = buckets(period, grain).select("day")
    groups = frame.select("grp").unique() if frame.height else pl.DataFrame({"grp": [None]}, schema={"grp": pl.String})
    grid = groups.join(calendar, how="cross")
    return grid.join(
        frame.select("grp", "day", pl.col("value").cast(pl.Float64)), on=["grp", "day"], how="left", nulls_equal=True
    )


def _evaluate(
    reader: Reader,
    workspace: Workspace,
    definition: MetricDefinition,
    definitions: Definitions,
    period: Period,
    grain: str,
    segment: Segment,
    depth: int,
) -> pl.DataFrame:
    kind = definition.type
    if kind == "builtin":
        frame = _builtin(reader, definition.key, period, grain, segment)
    elif (
        kind in ("count", "sum_revenue")
        and grain != "day"
        and (daily := _stored_daily(reader, workspace, definition, definitions, period, segment)) is not None
    ):
        # A sum over a bucket is the sum of its days: the daily series kept at ingest answers.
        frame = (
            daily.with_columns(bucket_expr(grain, period).alias("bucket"))
            .group_by("bucket")
            .agg(pl.col("value").sum())
            .select(pl.lit(None, pl.String).alias("grp"), pl.col("bucket").alias("day"), "value")
        )
    elif kind in ("count", "unique_users", "sum_revenue"):
        source = user_event_days(workspace, segment, period.start, period.end)
        counted = run(
            reader,
            "metric_event_activity",
            {"user_event_days": source},
            events=list(definition.events),
            end=period.end,
            **bucket_params(grain, period),
        )
        column = {"count": "events", "unique_users": "users", "sum_revenue": "revenue"}[kind]
        frame = _fill(counted.select("grp", "day", pl.col(column).alias("value")), period, grain).with_columns(
            pl.col("value").fill_null(0.0)
        )
    elif kind == "ratio":
        if depth > MAX_RATIO_DEPTH:
            raise ValueError(f"metrics.{definition.key}: ratios nest more than {MAX_RATIO_DEPTH} deep")
        sides = [definitions.get(side) for side in (definition.numerator, definition.denominator) if side is not None]
        if grain != "day" and pooled_sides(sides):
            # Each side's daily values summed over the bucket, so the ratio keeps its daily scale.
            # By each side's own rule (a count's sum over DAU's mean), "reports shared / DAU" was
            # 0.48 a day but 2.65 over 7 days and 13.3 over 28, and an objective on it read
            # "achieved" on a metric that never moved.
            parts = [
                _bucket_sums(
                    _evaluate(reader, workspace, side, definitions, period, "day", segment, depth + 1), grain, period
                )
                for side in sides
            ]
        else:
            parts = [
                _evaluate(reader, workspace, side, definitions, period, grain, segment, depth + 1) for side in sides
            ]
        numerator, denominator = parts
        joined = numerator.join(
            denominator.rename({"value": "denominator"}), on=["grp", "day"], how="full", coalesce=True, nulls_equal=True
        )
        if segment.breakdown:
            # The groups the denominator counts: a count's own frame has only the values it saw,
            # so "buyers / DAU" by plan read blank, not 0, for a plan with no buyer.
            joined = joined.filter(pl.col("grp").is_in(denominator["grp"].unique().implode(), nulls_equal=True))
        if definitions.get(definition.numerator).type in ZERO_WHEN_ABSENT:
            joined = joined.with_columns(pl.col("value").fill_null(0.0))
        frame = joined.select("grp", "day", ratio(pl.col("value"), pl.col("denominator")).alias("value"))
    elif kind == "funnel":
        frame = _funnel(reader, workspace, definition, period, grain, segment)
    elif kind == "retention":
        week = definition.week
        per_day = window_retention(
            reader, workspace, period, segment, [(7 * week, 7 * week + 6)], definition.active_events
        )
        per_bucket = (
            per_day.with_columns(bucket_expr(grain, period, "first_day").alias("day"))
            .group_by("grp", "day")
            .agg(pl.col("retained").sum(), pl.col("eligible").sum())
        )
        frame = per_bucket.select("grp", "day", ratio(pl.col("retained"), pl.col("eligible")).alias("value"))
    else:  # parse_definitions only makes the types above
        raise ValueError(f"metrics.{definition.key}: unknown type {kind!r}")
    return _fill(frame, period, grain)


def _builtin(reader: Reader, key: str, period: Period, grain: str, segment: Segment) -> pl.DataFrame:
    if key in ("new_users", "events", "revenue", "arpu"):
        if segment.is_empty and (grain == "day" or key != "arpu"):
            # Sums over a bucket are sums of the daily KPIs kept at ingest (ARPU's distinct users
            # over a bucket are not, so it reads the rollup below).
            daily = daily_kpis(reader, period)
            if grain == "day":
                return daily.select(
                    pl.lit(None, pl.String).alias("grp"), "day", pl.col(key).cast(pl.Float64).alias("value")
                )
            daily = daily.with_columns(bucket_expr(grain, period).alias("bucket"))
            return (
                daily.group_by("bucket")
                .agg(pl.col(key).cast(pl.Float64).sum().alias("value"))
                .select(pl.lit(None, pl.String).alias("grp"), pl.col("bucket").alias("day"), "value")
            )
        frame = _grp(activity(reader, period, grain, segment), segment)
        return frame.select("grp", "day", pl.col(key).cast(pl.Float64).alias("value"))
    daily = _grp(active_users(reader, period, "day", segment), segment)
    if grain == "day":
        return daily.select("grp", "day", pl.col(key).cast(pl.Float64).alias("value"))
    bucketed = daily.with_columns(bucket_expr(grain, period).alias("bucket"))
    values = pl.col(key).cast(pl.Float64)
    value = values.sort_by("day").last() if key in ("wau", "mau") else values.mean()
    return bucketed.group_by("grp", "bucket").agg(value.alias("value")).rename({"bucket": "day"})


def _funnel(
    reader: Reader, workspace: Workspace, definition: MetricDefinition, period: Period, grain: str, segment: Segment
) -> pl.DataFrame:
    steps = list(definition.steps)
    attempts = funnel_user_days(
        reader, workspace, definitions_free_fingerprint(definition), definition, period, segment
    )
    users = (
        attempts.filter(pl.col("day") <= final_attempt_day(workspace, definition, period.start))
        .with_columns(bucket_expr(grain, period).alias("bucket"))
        .group_by("grp", "bucket", "user_key")
        .agg(pl.col("reached").max().alias("furthest"))
    )
    per_bucket = users.group_by("grp", "bucket").agg(
        (pl.col("furthest") == len(steps)).sum().alias("converted"), pl.len().alias("started")
    )
    return per_bucket.select(
        "grp", pl.col("bucket").alias("day"), ratio(pl.col("converted"), pl.col("started")).alias("value")
    )


def final_attempt_day(workspace: Workspace, definition: MetricDefinition, fallback: dt.date) -> dt.date:
    """The last day whose funnel attempts are final: their window ends by the last whole day.
    Later attempts are left out, like day-N retention's users whose day N is not loaded yet:
    today, while it lasts, can still convert them (QA: a New York sign-up of 21 Nov 22:00 read as
    lost on 28 Nov at 18:00). ``fallback`` stands for the last whole day when nothing is loaded."""
    return final_funnel_day(workspace.final_day or fallback, definition.window_days, workspace.timezone)


def definitions_free_fingerprint(definition: MetricDefinition) -> str:
    """A funnel's fingerprint needs no other definition (funnels have no parts)."""
    return materialized.fingerprint(Definitions({definition.key: definition}), definition.key)


def funnel_user_days(
    reader: Reader,
    workspace: Workspace,
    fingerprint: str,
    definition: MetricDefinition,
    period: Period,
    segment: Segment,
) -> pl.DataFrame:
    """``funnels.attempt_days`` of a funnel metric: grp, user_key, day (of a step-1 event),
    reached (the most steps any attempt that day reached), seconds (between the steps of the
    earliest attempt that got that far): from the rows kept at ingest when they cover the
    period, else from the events."""

    def compute() -> pl.DataFrame:
        stored = None
        loaded = workspace.first_day is not None and workspace.last_day is not None
        if segment.is_empty and loaded:
            # Only the loaded days: none before the first holds an attempt, and none after the
            # last shown day is counted (``_funnel``'s cut-off). The explorer's comparisons of
            # early buckets reach before the data, and each read the events again (0.09 s each:
            # 2.6 s for Activation by month against three comparisons at 10M events).
            start, end = max(period.start, workspace.first_day), min(period.end, workspace.last_day)
            if start <= end:
                stored = materialized.read_funnel_user_days(reader, definition.key, fingerprint, Period(start, end))
        if stored is None:
            attempts = funnel_attempts(
                reader, workspace, list(definition.steps), definition.window_days, period, segment
            )
            stored = attempt_days(attempts, len(definition.steps))
        return stored

    return remembered(reader, ("funnel_user_days", fingerprint, period, segment), compute)
