"""Feature adoption (share of MAU using a feature) and the engagement matrix."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl

from pmkit.metrics.base import (
    Period,
    Segment,
    Workspace,
    check_segment,
    days_between,
    densify,
    finish,
    ratio,
    rolling_sql,
    run,
    user_event_days,
    workspace_of,
)
from pmkit.metrics.feature_days import ADOPTION_WINDOW_DAYS
from pmkit.metrics.kpis import daily_kpis
from pmkit.store import Reader


def reads_feature_table(workspace: Workspace, segment: Segment, events: Sequence[str], last: dt.date) -> bool:
    """Whether adoption of ``events`` (empty: every event) up to the day ``last`` can read the
    feature table kept at ingest (``pmkit.metrics.feature_days``): no segment, days up to the last
    loaded one (after it the 30-day windows fade out), and every event activity, so that its
    users are in the MAU without a check per user."""
    active = workspace.active_events
    return (
        segment.is_empty
        and workspace.feature_rollup
        and workspace.last_day is not None
        and last <= workspace.last_day
        and (not active or (bool(events) and all(event in active for event in events)))
    )


def feature_adoption(
    reader: Reader,
    event: str,
    period: Period | None = None,
    segment: Segment | None = None,
) -> pl.DataFrame:
    """Per day: day, [breakdown], adopters (users in MAU who did ``event`` in the 30 days ending
    the day), mau, adoption = adopters / mau.

    >>> feature_adoption(reader, "share_report")  # doctest: +SKIP
    """
    return features_adoption(reader, [event], period, segment).drop("event")


def features_adoption(
    reader: Reader,
    events: Sequence[str],
    period: Period | None = None,
    segment: Segment | None = None,
) -> pl.DataFrame:
    """``feature_adoption`` of several events in one pass over the rollup: event, day,
    [breakdown], adopters, mau, adoption, in the order of ``events``."""
    workspace = workspace_of(reader)
    period = period or workspace.default_period()
    segment = check_segment(segment, workspace)
    events = list(dict.fromkeys(events))
    lookback = dt.timedelta(days=ADOPTION_WINDOW_DAYS - 1)
    source = user_event_days(workspace, segment, period.start - lookback, period.end)
    if not events:
        raise ValueError("features_adoption: name at least one event")
    calendar = pl.DataFrame({"day": days_between(period.start, period.end)})
    active = workspace.active_events

    def rolling(name: str, **params: Any) -> pl.DataFrame:
        """A query of rolling 30-day users over the period (by bit masks when it fits them)."""
        sql = rolling_sql(name, period.start, period.end)
        return run(reader, sql, {"user_event_days": source}, start=period.start, end=period.end, **params)

    def checked_against_mau(event: str) -> pl.DataFrame:
        """grp, day, adopters, mau of one feature, each adopter checked to be in the MAU."""
        return densify(rolling("metric_adoption", feature=event), calendar, {"adopters": 0, "mau": 0})

    if active and not all(event in active for event in events):
        # A feature that is not activity: adopters must also be in the MAU, checked per user.
        frame = pl.concat(
            [checked_against_mau(event).with_columns(pl.lit(event).alias("event")) for event in events], how="vertical"
        )
    else:
        # Every feature is activity, so its users are in the MAU by definition: adopters need only
        # the features' own user-days, and without a segment the MAU is the daily KPI series.
        if reads_feature_table(workspace, segment, events, period.end):
            adopters = reader.frame(
                "SELECT NULL::VARCHAR AS grp, event, day, adopters FROM feature_days "
                "WHERE list_contains($events, event) AND day BETWEEN $start AND $end",
                events=events,
                start=period.start,
                end=period.end,
            )
        else:
            adopters = rolling("metric_adoption_active", features=events)
        if segment.is_empty:
            mau = daily_kpis(reader, period).select(pl.lit(None, pl.String).alias("grp"), "day", "mau")
        else:
            mau = checked_against_mau("").select("grp", "day", "mau")  # no feature: only the MAU counts
        grid = mau.join(pl.DataFrame({"event": events}, schema={"event": pl.String}), how="cross")
        frame = grid.join(adopters, on=["grp", "event", "day"], how="left", nulls_equal=True).with_columns(
            pl.col("adopters").fill_null(0)
        )
    frame = frame.with_columns(ratio(pl.col("adopters"), pl.col("mau")).alias("adoption"))
    parts = [
        finish(
            frame.filter(pl.col("event") == event).sort(["grp", "day"], nulls_last=True),
            segment,
            ["day", "adopters", "mau", "adoption"],
        ).with_columns(pl.lit(event, pl.String).alias("event"))
        for event in events
    ]
    stacked = pl.concat(parts, how="vertical")
    return stacked.select("event", *[c for c in stacked.columns if c != "event"])


def engagement_matrix(
    reader: Reader,
    as_of: dt.date | None = None,
    features: Sequence[str] = (),
    segment: Segment | None = None,
) -> pl.DataFrame:
    """Per feature event over the 30 days ending ``as_of`` (default: the last loaded day):
    event, [breakdown], adopters, mau, adoption (adopters / mau), days_used, frequency (mean
    days used per adopter, 1..30), events. Sorted by adoption, highest first. ``features``
    limits the events listed (default: every event).

    Read it as a matrix: adoption (how many use it) against frequency (how often they do).
    """
    workspace = workspace_of(reader)
    segment = check_segment(segment, workspace)
    as_of = as_of or workspace.default_period().end
    start = as_of - dt.timedelta(days=ADOPTION_WINDOW_DAYS - 1)
    if reads_feature_table(workspace, segment, features, as_of):
        frame = run(reader, "metric_engagement_stored", as_of=as_of, start=start, features=list(features))
    else:
        source = user_event_days(workspace, segment, start, as_of)
        frame = run(reader, "metric_engagement", {"user_event_days": source}, features=list(features))
    if features:
        # Listed features nobody used still get a row, with zero adopters.
        grid = (
            frame.select("grp", "mau")
            .unique()
            .join(pl.DataFrame({"event": list(features)}, schema={"event": pl.String}), how="cross")
        )
        frame = grid.join(frame.drop("mau"), on=["grp", "event"], how="left", nulls_equal=True).with_columns(
            pl.col("adopters", "days_used", "events").fill_null(0)
        )
    frame = (
        frame.filter(pl.col("event").is_not_null())
        .with_columns(
            ratio(pl.col("adopters"), pl.col("mau")).alias("adoption"),
            ratio(pl.col("days_used"), pl.col("adopters")).alias("frequency"),
        )
        .sort(["grp", "adoption", "event"], descending=[False, True, False], nulls_last=True)
    )
    columns = ["event", "adopters", "mau", "adoption", "days_used", "frequency", "events"]
    return finish(frame, segment, columns)
