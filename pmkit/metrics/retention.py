"""Weekly retention cohorts and day-N retention."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import polars as pl

from pmkit.metrics.base import (
    Period,
    Segment,
    Workspace,
    bucket_expr,
    buckets,
    check_grain,
    check_segment,
    densify,
    finish,
    ratio,
    run,
    user_days,
    workspace_of,
)
from pmkit.store import Reader

WEEKLY_COLUMNS = ["cohort_week", "size", "week", "users_on", "share_on", "users_on_or_after", "share_on_or_after"]
DAY_N_COLUMNS = ["day", "day_n", "users", "retained", "rate"]


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def weekly_retention(reader: Reader, period: Period | None = None, segment: Segment | None = None) -> pl.DataFrame:
    """Weekly cohorts, one row per cohort and week offset k (0 = the cohort's own week):
    cohort_week (Monday), [breakdown], size, week (k), users_on / share_on (active in week
    cohort + k), users_on_or_after / share_on_or_after (active in week cohort + k or later).

    Cohorts are the Monday weeks meeting the period (whole weeks: a user first seen on the
    Sunday before a Wednesday period start is not in it). Week k is listed while it has begun by
    the last loaded day (the latest week may be partial). Activity is counted up to the last
    loaded day, not only inside the period. With filters, a cohort holds the users with an event
    of the segment on their first day and a user is back for an active event of the segment;
    with a breakdown, a user joins the group of each value seen on their first day.
    """
    workspace = workspace_of(reader)
    period = period or workspace.default_period()
    segment = check_segment(segment, workspace)
    empty = pl.DataFrame(
        schema={
            "grp": pl.String,
            "cohort_week": pl.Date,
            "size": pl.Int64,
            "week": pl.Int64,
            "users_on": pl.Int64,
            "share_on": pl.Float64,
            "users_on_or_after": pl.Int64,
            "share_on_or_after": pl.Float64,
        }
    )
    first_week, last_week = _monday(period.start), _monday(period.end)
    last_day = workspace.last_day
    if last_day is None or last_day < first_week:
        return finish(empty, segment, WEEKLY_COLUMNS)
    last_week = min(last_week, _monday(last_day))
    if segment.is_empty and workspace.cohort_rollup:
        long = run(reader, "metric_retention_weekly_cohorts", first_week=first_week, last_week=last_week)
    else:
        source = user_days(workspace, segment, first_week, last_day)
        long = run(reader, "metric_retention_weekly", {"user_days": source}, first_week=first_week, last_week=last_week)
    cohort_weeks = pl.DataFrame({"cohort_week": pl.date_range(first_week, last_week, "1w", eager=True)})
    sizes = densify(
        long.filter(kind="size").select("grp", "cohort_week", pl.col("users").alias("size")),
        cohort_weeks,
        {"size": 0},
        on="cohort_week",
    )
    grid = sizes.with_columns(
        pl.int_ranges(0, (pl.lit(last_day) - pl.col("cohort_week")).dt.total_days() // 7 + 1).alias("week")
    ).explode("week")
    keys = ["grp", "cohort_week", "week"]
    on_week = long.filter(kind="on").select(
        "grp", "cohort_week", pl.col("k").alias("week"), pl.col("users").alias("users_on")
    )
    last = long.filter(kind="last").select(
        "grp", "cohort_week", pl.col("k").alias("week"), pl.col("users").alias("last_users")
    )
    frame = (
        grid.join(on_week, on=keys, how="left", nulls_equal=True)
        .join(last, on=keys, how="left", nulls_equal=True)
        .with_columns(pl.col("users_on", "last_users").fill_null(0))
        .sort(["grp", "cohort_week", "week"], nulls_last=True, descending=[False, False, True])
        .with_columns(pl.col("last_users").cum_sum().over(["grp", "cohort_week"]).alias("users_on_or_after"))
        .sort(["grp", "cohort_week", "week"], nulls_last=True)
        .with_columns(
            ratio(pl.col("users_on"), pl.col("size")).alias("share_on"),
            ratio(pl.col("users_on_or_after"), pl.col("size")).alias("share_on_or_after"),
        )
    )
    return finish(frame.select(empty.columns), segment, WEEKLY_COLUMNS)


def retention_cohorts(reader: Reader, period: Period | None = None, segment: Segment | None = None) -> pl.DataFrame:
    """``weekly_retention`` one row per cohort, as the CLI prints it: cohort_week,
    [breakdown], size, weeks (the "on week k" shares for k = 0, 1, ...; null for an empty cohort).
    """
    segment = segment or Segment()
    long = weekly_retention(reader, period, segment)
    keys = ["cohort_week", *([segment.breakdown] if segment.breakdown else []), "size"]
    return long.group_by(keys, maintain_order=True).agg(pl.col("share_on").alias("weeks"))


def day_retention(
    reader: Reader,
    period: Period | None = None,
    days: Sequence[int] = (1, 7, 30),
    grain: str = "period",
    segment: Segment | None = None,
) -> pl.DataFrame:
    """Day-N retention of the users first seen in the period: day (the bucket of their first
    day; the period start for grain "period"), [breakdown], day_n, users (the cohort members
    whose first day + N is on or before the last whole day, ``Workspace.final_day``: later ones
    are left out, not counted as lost; a day N of today, not over, counted this morning's absent
    users as lost), retained (of those, active exactly on first day + N), rate = retained / users.
    """
    check_grain(grain)
    if any(n < 0 for n in days):
        raise ValueError(f"days: {list(days)} has a negative N (day-N retention needs N >= 0, e.g. days=(1, 7, 30))")
    workspace = workspace_of(reader)
    period = period or workspace.default_period()
    segment = check_segment(segment, workspace)
    per_day = window_retention(reader, workspace, period, segment, [(n, n) for n in days])
    frame = (
        per_day.with_columns(bucket_expr(grain, period, "first_day").alias("day"), pl.col("a").alias("day_n"))
        .group_by("grp", "day", "day_n")
        .agg(pl.col("eligible").sum().alias("users"), pl.col("retained").sum())
    )
    calendar = (
        buckets(period, grain)
        .select("day")
        .join(pl.DataFrame({"day_n": list(days)}, schema={"day_n": pl.Int64}), how="cross")
    )
    groups = frame.select("grp").unique() if frame.height else pl.DataFrame({"grp": [None]}, schema={"grp": pl.String})
    frame = (
        groups.join(calendar, how="cross")
        .join(frame, on=["grp", "day", "day_n"], how="left", nulls_equal=True)
        .with_columns(pl.col("users", "retained").fill_null(0).cast(pl.Int64))
        .with_columns(ratio(pl.col("retained"), pl.col("users")).alias("rate"))
        .sort(["grp", "day", "day_n"], nulls_last=True)
    )
    return finish(frame, segment, DAY_N_COLUMNS)


def window_retention(
    reader: Reader,
    workspace: Workspace,
    period: Period,
    segment: Segment,
    windows: Iterable[tuple[int, int]],
    active_events: Iterable[str] | None = None,
) -> pl.DataFrame:
    """Per first day F in the period and group: for each window (a, b), the cohort members
    eligible (F + b on or before the last whole day, ``Workspace.final_day``: today, while it
    lasts, can still bring a user back) and retained (active in F + a .. F + b). Columns: grp,
    first_day, a, b, eligible, retained."""
    windows = list(windows)
    schema = {
        "grp": pl.String,
        "first_day": pl.Date,
        "a": pl.Int64,
        "b": pl.Int64,
        "eligible": pl.Int64,
        "retained": pl.Int64,
    }
    if workspace.last_day is None or not windows:
        return pl.DataFrame(schema=schema)
    reach = max(b for _, b in windows)
    if segment.is_empty and active_events is None and workspace.cohort_rollup and all(a == b for a, b in windows):
        name, fragments = "metric_retention_days_cohorts", {}
    else:
        source = user_days(workspace, segment, period.start, period.end + dt.timedelta(days=reach), active_events)
        name, fragments = "metric_retention_window", {"user_days": source}
    frame = run(
        reader,
        name,
        fragments,
        start=period.start,
        end=period.end,
        last_day=workspace.final_day,
        from_days=[a for a, _ in windows],
        to_days=[b for _, b in windows],
    )
    return frame.cast({"a": pl.Int64, "b": pl.Int64})
