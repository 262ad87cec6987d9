"""Feature adoption (share of MAU using a feature) and the engagement matrix."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from pmkit.metrics.base import (
    Period,
    Segment,
    check_segment,
    days_between,
    densify,
    finish,
    ratio,
    run,
    user_event_days,
    workspace_of,
)
from pmkit.store import Reader

ADOPTION_WINDOW_DAYS = 30


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
    workspace = workspace_of(reader)
    period = period or workspace.default_period()
    segment = check_segment(segment, workspace)
    lookback = dt.timedelta(days=ADOPTION_WINDOW_DAYS - 1)
    source = user_event_days(workspace, segment, period.start - lookback, period.end)
    frame = run(
        reader, "metric_adoption", {"user_event_days": source}, feature=event, start=period.start, end=period.end
    )
    frame = densify(frame, pl.DataFrame({"day": days_between(period.start, period.end)}), {"adopters": 0, "mau": 0})
    frame = frame.with_columns(ratio(pl.col("adopters"), pl.col("mau")).alias("adoption"))
    return finish(frame, segment, ["day", "adopters", "mau", "adoption"])


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
