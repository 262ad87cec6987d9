"""Comparisons with earlier periods, and rolling averages, of a daily series (day, value)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from pmkit.metrics.base import Period, days_between, ratio

# How far back each comparison looks, in days; "previous_period" is the period's own length.
# The same period last year is 52 weeks back, so a Monday is compared with a Monday.
COMPARISON_DAYS: dict[str, int | None] = {
    "previous_period": None,
    "previous_week": 7,
    "previous_4_weeks": 28,
    "same_period_last_year": 364,
}
MAX_COMPARISONS = 3


def comparison_period(period: Period, against: str) -> Period:
    """The earlier period ``against`` names.

    >>> comparison_period(Period(dt.date(2026, 3, 8), dt.date(2026, 3, 14)), "previous_period")
    Period(start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 7))
    """
    if against not in COMPARISON_DAYS:
        raise ValueError(f"against: {against!r} is not a comparison (one of {', '.join(COMPARISON_DAYS)})")
    return period.shift(-(COMPARISON_DAYS[against] or period.days))


def _check_against(against: Sequence[str]) -> list[str]:
    against = list(against)
    if len(against) > MAX_COMPARISONS:
        raise ValueError(f"against: at most {MAX_COMPARISONS} comparisons on one series, got {len(against)}")
    for name in against:
        comparison_period(Period(dt.date(2000, 1, 1), dt.date(2000, 1, 1)), name)
    return against


def compare(
    series: pl.DataFrame,
    period: Period,
    against: Sequence[str] = ("previous_period",),
) -> pl.DataFrame:
    """Each day of the period beside the matching day of up to three earlier periods.

    ``series`` has columns day and value and should reach back far enough (a missing day
    compares as null). Columns: day, value, then for each comparison NAME: NAME_day (the
    earlier day), NAME_value, NAME_change (value - NAME_value), NAME_change_pct (change as a
    percentage of NAME_value; null when that is 0 or missing).
    """
    against = _check_against(against)
    values = series.select("day", pl.col("value").cast(pl.Float64))
    frame = pl.DataFrame({"day": days_between(period.start, period.end)}).join(values, on="day", how="left")
    for name in against:
        back = dt.timedelta(days=COMPARISON_DAYS[name] or period.days)
        earlier = values.rename({"day": f"{name}_day", "value": f"{name}_value"})
        frame = (
            frame.with_columns((pl.col("day") - back).alias(f"{name}_day"))
            .join(earlier, on=f"{name}_day", how="left")
            .with_columns((pl.col("value") - pl.col(f"{name}_value")).alias(f"{name}_change"))
            .with_columns(
                (ratio(pl.col(f"{name}_change"), pl.col(f"{name}_value").abs()) * 100).alias(f"{name}_change_pct")
            )
        )
    return frame


def change(value: float | None, base: float | None) -> tuple[float | None, float | None]:
    """(absolute change, % change) from ``base`` to ``value``; % is None when base is 0 or None."""
    if value is None or base is None:
        return None, None
    pct = (value - base) / abs(base) * 100 if base else None
    return value - base, pct


def rolling_average(series: pl.DataFrame, windows: Sequence[int] = (7, 28)) -> pl.DataFrame:
    """The series (day, value, ...) on every day from its first to its last, with avg_Nd = the
    mean of the N days ending each day; null until N days with a value exist in the window.
    """
    if series.height == 0:
        return series.with_columns([pl.lit(None, pl.Float64).alias(f"avg_{n}d") for n in windows])
    days = pl.DataFrame({"day": days_between(series["day"].min(), series["day"].max())})
    frame = days.join(series, on="day", how="left").sort("day")
    present = pl.col("value").is_not_null().cast(pl.Int64)
    for n in windows:
        total = pl.col("value").cast(pl.Float64).fill_null(0).rolling_sum_by("day", window_size=f"{n}d")
        count = present.rolling_sum_by("day", window_size=f"{n}d")
        frame = frame.with_columns(pl.when(count == n).then(total / n).otherwise(None).alias(f"avg_{n}d"))
    return frame
