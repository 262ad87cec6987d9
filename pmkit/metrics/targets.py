"""Target paths with on-track status, and anomalies against a metric's own weekly pattern."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from pmkit.canonical import DIRECTIONS
from pmkit.definitions import ANOMALY_MIN_WEEKS, ANOMALY_RULE, ANOMALY_THRESHOLD, ANOMALY_WEEKS
from pmkit.metrics.base import days_between

__all__ = ["ANOMALY_RULE", "TargetStatus", "anomalies", "expected_value", "path_mean", "target_path", "target_status"]

AT_RISK_SHARE = 0.05  # a miss of up to 5% of the planned change (or of the target) is "at risk"
MAD_TO_SIGMA = 0.6745  # MAD / 0.6745 estimates the standard deviation of normal data
MEAN_AD_TO_SIGMA = 1.2533  # and so does 1.2533 x the mean absolute deviation


def _check(direction: str, baseline: float | None, start: dt.date, target_date: dt.date) -> None:
    if direction not in DIRECTIONS:
        raise ValueError(f"direction: {direction!r} is not one of {', '.join(DIRECTIONS)}")
    if direction in ("increase", "decrease") and baseline is None:
        raise ValueError(
            f"baseline: a target to {direction} needs a baseline (e.g. the metric's value on the start date)"
        )
    if target_date < start:
        raise ValueError(f"target_date {target_date} is before start {start} (swap them)")


def expected_value(
    day: dt.date, baseline: float | None, target: float, start: dt.date, target_date: dt.date, direction: str
) -> float:
    """Where the metric should be on ``day``: on the straight line from the baseline on
    ``start`` to the target on ``target_date`` (the baseline before, the target after); the
    target itself for stay_above and stay_below."""
    _check(direction, baseline, start, target_date)
    if direction in ("stay_above", "stay_below") or baseline is None:
        return float(target)
    if day <= start:
        return float(baseline)
    if day >= target_date:
        return float(target)
    share = (day - start).days / (target_date - start).days
    return float(baseline + (target - baseline) * share)


def path_mean(
    first: dt.date,
    last: dt.date,
    baseline: float | None,
    target: float,
    start: dt.date,
    target_date: dt.date,
    direction: str,
) -> float:
    """The path's mean over the days ``first`` to ``last``: what a mean of those days' values is
    held to. Read on ``last`` alone, a 7-day mean rising exactly along the path stayed 3 days'
    worth of its change behind it, "at risk" or "off track" for good (QA).

    >>> path_mean(dt.date(2026, 1, 2), dt.date(2026, 1, 4), 0, 10, dt.date(2026, 1, 1), dt.date(2026, 1, 11), "increase")
    2.0
    """
    days = days_between(first, max(first, last))
    return sum(expected_value(d, baseline, target, start, target_date, direction) for d in days) / len(days)


def target_path(
    baseline: float | None,
    target: float,
    start: dt.date,
    target_date: dt.date,
    direction: str,
    end: dt.date | None = None,
) -> pl.DataFrame:
    """The path as a daily series (day, target) from ``start`` to ``end`` (default: the
    target date).

    >>> target_path(100, 120, dt.date(2026, 1, 1), dt.date(2026, 1, 3), "increase")["target"].to_list()
    [100.0, 110.0, 120.0]
    """
    _check(direction, baseline, start, target_date)
    days = days_between(start, max(end or target_date, start))
    values = [expected_value(d, baseline, target, start, target_date, direction) for d in days]
    return pl.DataFrame({"day": days, "target": values}, schema={"day": pl.Date, "target": pl.Float64})


@dataclass(frozen=True)
class TargetStatus:
    """status: on_track, at_risk, off_track, or no_data; gap = value - expected (signed)."""

    status: str
    value: float | None
    expected: float
    gap: float | None
    reason: str


def target_status(
    value: float | None,
    day: dt.date,
    baseline: float | None,
    target: float,
    start: dt.date,
    target_date: dt.date,
    direction: str,
    expected: float | None = None,
) -> TargetStatus:
    """Whether ``value`` on ``day`` is on the right side of the path (or of ``expected``, the
    path's value for it, when given): at or above it for increase and stay_above, at or below it
    for decrease and stay_below. A miss of at most 5% of the planned change (|target - baseline|;
    |target| for stay_above/stay_below) is at_risk, a larger one off_track.

    >>> target_status(108, dt.date(2026, 1, 2), 100, 120, dt.date(2026, 1, 1), dt.date(2026, 1, 3), "increase").status
    'off_track'
    """
    if expected is None:
        expected = expected_value(day, baseline, target, start, target_date, direction)
    if value is None:
        return TargetStatus("no_data", None, expected, None, f"no value on {day} to compare with {expected:g}")
    gap = float(value) - expected
    wants_more = direction in ("increase", "stay_above")
    miss = -gap if wants_more else gap
    if direction in ("increase", "decrease") and baseline is not None and baseline != target:
        scale = abs(target - baseline)
    else:
        scale = abs(target) or 1.0
    side = "below" if gap < 0 else "above"
    where = f"{value:g} on {day} vs {expected:g} expected on the path to {target:g} by {target_date}"
    # Rounded: float noise made a miss of exactly 5% (0.39 on the 0.40 path from 0.30 to 0.50)
    # off track, while its mirror image was at risk.
    if round(miss, 12) <= 0:
        return TargetStatus("on_track", float(value), expected, gap, f"{where} ({'at' if gap == 0 else side} the path)")
    status = "at_risk" if round(miss, 12) <= round(AT_RISK_SHARE * scale, 12) else "off_track"
    return TargetStatus(status, float(value), expected, gap, f"{where} ({abs(gap):g} {side})")


def anomalies(series: pl.DataFrame) -> pl.DataFrame:
    """Days departing from the metric's own weekly pattern (``ANOMALY_RULE``, in words).

    ``series`` has columns day and value (days may be missing). Returns, per day of the series:
    day, value, expected (median of the same weekday over the previous 8 weeks), low and high
    (the band expected +- 3.5 robust standard deviations), robust_z, anomaly (true/false; null
    when the day cannot be judged: fewer than 4 earlier weekdays with a value, or no value).
    """
    values = series.select("day", pl.col("value").cast(pl.Float64))
    lags = [f"week_{k}" for k in range(1, ANOMALY_WEEKS + 1)]
    frame = values
    for k, name in enumerate(lags, start=1):
        earlier = values.select((pl.col("day") + dt.timedelta(days=7 * k)).alias("day"), pl.col("value").alias(name))
        frame = frame.join(earlier, on="day", how="left")
    history = pl.concat_list(lags).list.drop_nulls()
    frame = frame.with_columns(history.list.len().alias("history"), history.list.median().alias("expected"))
    deviations = pl.concat_list([(pl.col(c) - pl.col("expected")).abs() for c in lags]).list.drop_nulls()
    frame = frame.with_columns(
        (deviations.list.median() / MAD_TO_SIGMA).alias("mad_sigma"),
        (deviations.list.mean() * MEAN_AD_TO_SIGMA).alias("mean_sigma"),
    )
    sigma = pl.when(pl.col("mad_sigma") > 0).then(pl.col("mad_sigma")).otherwise(pl.col("mean_sigma"))
    judged = (pl.col("history") >= ANOMALY_MIN_WEEKS) & pl.col("value").is_not_null()
    difference = pl.col("value") - pl.col("expected")
    # With no spread at all (every earlier weekday equal), any other value is a departure.
    z = (
        pl.when(~judged)
        .then(None)
        .when(sigma > 0)
        .then(difference / sigma)
        .when(difference == 0)
        .then(0.0)
        .otherwise(pl.when(difference > 0).then(float("inf")).otherwise(float("-inf")))
    )
    frame = frame.with_columns(sigma.alias("sigma"), z.alias("robust_z"))
    return frame.select(
        "day",
        "value",
        pl.when(judged).then(pl.col("expected")).alias("expected"),
        pl.when(judged).then(pl.col("expected") - ANOMALY_THRESHOLD * pl.col("sigma")).alias("low"),
        pl.when(judged).then(pl.col("expected") + ANOMALY_THRESHOLD * pl.col("sigma")).alias("high"),
        "robust_z",
        pl.when(judged).then(pl.col("robust_z").abs() > ANOMALY_THRESHOLD).alias("anomaly"),
    ).sort("day")
