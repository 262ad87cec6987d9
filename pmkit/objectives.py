"""Objective health: the outcome (a metric against its target path) beside the delivery (its items).

Objectives come from the store's ``objectives`` table (loaded from CSV) and from ``[objectives.ID]``
tables in ``pmkit.toml`` (same keys as the CSV columns). When both define an id, the CSV row wins
whole (the export is the system of record; the TOML table is for objectives that have no export).
Objectives that exist only as roadmap items (``item_type = objective``) are listed too, with
``no_data`` and a reason saying where to set their target.

How each outcome number is computed, as of a date:

- current_value: the metric over the 7 days ending on ``as_of`` (moved back to the last day whose
  value is final, see ``MetricSource.complete_range``). For funnel and retention metrics, ARPU and
  ratios it is the metric's own value over those 7 days (converted users / users who started,
  weighted by cohort size; revenue over the week's users: a mean of daily rates would let a
  Sunday with three sign-ups count as much as a Monday with sixty; ``pooled``). For every other
  metric it is the mean of the 7 daily values (a daily average: 7 days hold
  each weekday once, so the weekly pattern cancels out). current_from and current_through are its
  first and last day, and outcome_reason names them: pages show it beside values of other ranges.
- expected_value: the straight line from the baseline on start_date to the target on
  target_date (the baseline before the start, the target after the target date), averaged over
  the current value's days, current_from to current_through (``pmkit.metrics.path_mean``): read
  on current_through alone, a 7-day mean rising exactly along the path stayed 3 days' worth of
  its change behind it, and on the target date was "short of the target" for six days. The
  target itself for stay_above and stay_below (``pmkit.metrics.expected_value``). A missing baseline (the CSV
  allows it) is the metric's value over the 7 days to start_date, and the reason says so; a
  stay_above/stay_below objective without a start_date is judged from as_of on.
- outcome_progress: (current - baseline) / (target - baseline), clamped to 0..1, for increase and
  decrease; null for stay_above and stay_below (there is no distance to cover).
- outcome_health, first rule that holds:
  no_data      the objective lacks a field, its metric is not defined, or there is no value yet;
  not_started  as_of is before start_date;
  achieved     increase/decrease: the target is reached (current >= target, or <= for decrease);
               stay_above/stay_below: on the right side of the target on or after target_date;
  on_track, at_risk, off_track  ``pmkit.metrics.target_status``: on the right side of the path is
               on track; a miss of at most 5% of the planned change (|target - baseline|; |target|
               for stay_above/stay_below) is at risk; a larger miss is off track.
- delivery_health: ``pmkit.roadmap.delivery_health``, the worst health of the objective's items.
- callouts: "on time but off target" when delivery is on_track or done but the outcome is at_risk
  or off_track; "shipped but flat" when at least one item is done yet the metric (increase or
  decrease only) is within noise of its baseline: |current - baseline| <= 2 standard errors of a
  7-day value, estimated from the daily values of the 28 days ending at the current value's day,
  each around its weekday's mean (a 7-day value holds each weekday once).

Example:
    >>> goals = objective_health(reader, config, items_health, date(2026, 6, 30))  # doctest: +SKIP
    >>> goals.select("objective_id", "outcome_health", "delivery_health", "outcome_reason")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl

from pmkit import metrics, roadmap
from pmkit.canonical import DIRECTION_SEPARATORS, DIRECTIONS, OBJECTIVE_COLUMNS
from pmkit.config import Config
from pmkit.definitions import (
    LEVELS,
    Definitions,
    MetricDefinition,
    usable_definitions,
)
from pmkit.formatting import closed_bidi, fixed, format_date, format_days, format_number, significant
from pmkit.metrics.base import ratio, run, user_event_days, workspace_of
from pmkit.sources.roadmap_common import SHOWN_TEXT
from pmkit.store import Reader

RECENT_DAYS = 7  # the current value is a 7-day figure: one of each weekday
NOISE_DAYS = 28  # daily values used to estimate the noise of a 7-day mean
NOISE_STANDARD_ERRORS = 2.0
# Rolling built-ins are partial until their window lies inside the loaded data: MAU on the
# 10th loaded day counts 10 days of users, not 30.
WARMUP_DAYS = {"wau": 6, "mau": 29, "stickiness": 29}
# Metrics whose value is a share of a cohort: their recent value is pooled over the cohorts.
COHORT_TYPES = ("funnel", "retention")


def unusable_metric(definitions: Definitions, problems: Sequence[str], key: str) -> str | None:
    """Why ``key`` is no usable metric, or None when it is one: its pmkit.toml table's problems
    when it has a table, else that it is not defined. A table left out for a problem was said
    "not defined: define it as [metrics.KEY]" beside its own problem (QA)."""
    try:
        definitions.get(key)
        return None  # a built-in stays usable beside a broken table of its name (review)
    except KeyError as exc:
        mine = [p for p in problems if p.startswith(f"metrics.{key}:")]
        return "pmkit.toml " + "; ".join(mine) if mine else str(exc.args[0])


def pooled(definition: MetricDefinition) -> bool:
    """Whether a metric's 7-day value is its value over the 7 days pooled, not a mean of days:
    a rate (funnel, retention) or a ratio (ARPU, a pmkit.toml ratio). ARPU as a mean of daily
    ARPU was $10 where the 7 days' revenue over their users is $35, and judged "achieved"
    against a $20 target it missed."""
    return definition.type in (*COHORT_TYPES, "ratio") or (definition.type == "builtin" and definition.key == "arpu")


OUTCOME_HEALTHS = ("achieved", "on_track", "at_risk", "off_track", "not_started", "no_data")
ON_TIME_OFF_TARGET = "on time but off target"
SHIPPED_BUT_FLAT = "shipped but flat"

OBJECTIVE_HEALTH_COLUMNS: dict[str, pl.DataType] = {
    **OBJECTIVE_COLUMNS,
    "source": pl.String(),  # csv / pmkit.toml / roadmap
    "metric_name": pl.String(),
    "current_value": pl.Float64(),
    "current_from": pl.Date(),  # first day of the (up to) 7 days the current value covers
    "current_through": pl.Date(),  # last day of those days
    "expected_value": pl.Float64(),
    "outcome_progress": pl.Float64(),
    "outcome_health": pl.String(),
    "outcome_reason": pl.String(),
    "delivery_health": pl.String(),
    "delivery_reason": pl.String(),
    "items": pl.Int64(),
    "items_done": pl.Int64(),
    "callouts": pl.List(pl.String()),
}


# --- metric values --------------------------------------------------------------------------------


def _seven_day_kind(side: MetricDefinition) -> str | None:
    """How a ratio's side is taken over 7 days, as ``metric_series`` takes it over a period:
    "distinct" users, a "sum" of its days, or None (another kind)."""
    if side.type == "unique_users":
        return "distinct"
    from pmkit.metrics.series import ADDITIVE_BUILTINS

    if side.type in ("count", "sum_revenue") or (side.type == "builtin" and side.key in ADDITIVE_BUILTINS - LEVELS):
        return "sum"
    return None


def _distinct_over_7_days(days: pl.DataFrame, pairs: pl.DataFrame) -> pl.Series:
    """On each of ``days``, how many users have a row of ``pairs`` (user_key, day; one per user
    and day) in the 7 days ending it. Counted as WAU is: each of a user's days opens
    [day, min(their next day, day + 7)), and a day's count is how many are open (one sort;
    repeating each row for its 7 windows, with a window over the users, took 0.4 s for a funnel
    at 10M events, this 0.09 s)."""
    starts = pairs.select("user_key", "day").sort("user_key", "day")
    same_user = pl.col("user_key") == pl.col("user_key").shift(-1)
    until = pl.min_horizontal(
        pl.when(same_user).then(pl.col("day").shift(-1)), pl.col("day") + dt.timedelta(days=RECENT_DAYS)
    )
    changes = pl.concat(
        [starts.select("day", pl.lit(1).alias("change")), starts.select(until.alias("day"), pl.lit(-1).alias("change"))]
    )
    open_on = (
        changes.group_by("day")
        .agg(pl.col("change").sum())
        .sort("day")
        .select("day", pl.col("change").cum_sum().alias("users"))
    )
    return days.sort("day").join_asof(open_on, on="day")["users"].fill_null(0)


class MetricSource:
    """Metric values for objectives and impact: definitions, final-value ranges, cached daily series.

    >>> source = MetricSource.open(reader, config)  # doctest: +SKIP
    >>> source.daily("activation")  # doctest: +SKIP
    """

    def __init__(self, reader: Reader, definitions: Definitions, problems: tuple[str, ...] = ()) -> None:
        self.reader = reader
        self.definitions = definitions
        self.problems = problems  # pmkit.toml [metrics.*] problems, quoted when a key is missing
        workspace = workspace_of(reader)
        self.first_day: dt.date | None = workspace.first_day
        self.last_day: dt.date | None = workspace.last_day
        # Values are final up to the last whole day: not today's first hours (``Workspace.final_day``).
        self.final_day: dt.date | None = workspace.final_day
        self._daily: dict[str, pl.DataFrame] = {}

    @classmethod
    def open(cls, reader: Reader, config: Config) -> MetricSource:
        """The workspace's definitions. A broken ``[metrics.*]`` table must not hide the others:
        then each table that parses on its own is kept, and the problems are quoted for the rest."""
        definitions, problems = usable_definitions(config)
        return cls(reader, definitions, problems)

    def lookup(self, key: str | None) -> MetricDefinition | None:
        if not key:
            return None
        try:
            return self.definitions.get(key)
        except KeyError:
            return None

    def missing_reason(self, key: str | None) -> str:
        """Why ``key`` cannot be measured, naming the key and how to define it."""
        if not key:
            return 'no metric named (set the objective\'s metric to a metric key, e.g. metric = "dau")'
        reason = unusable_metric(self.definitions, self.problems, key)
        return reason or f"no {key} data loaded yet (load events, e.g. python -m pmkit ingest events.csv)"

    def name(self, key: str) -> str:
        definition = self.lookup(key)
        return definition.name if definition else key

    def complete_range(self, key: str) -> tuple[dt.date, dt.date] | None:
        """The days on which the metric's value is final: after the warm-up of rolling windows
        (MAU needs 30 loaded days) and before the settling time of cohort metrics (a funnel's
        window, a retention week) at the end of the data, which ends on the last whole day
        (``Workspace.final_day``). None when nothing is loaded."""
        definition = self.lookup(key)
        if definition is None or self.first_day is None or self.final_day is None:
            return None
        first = self.first_day + dt.timedelta(days=self._warmup(definition, 0))
        last = self.final_day - dt.timedelta(days=self._settling(definition, 0))
        return (first, last) if first <= last else None

    def missing_hint(self, key: str, as_of: dt.date) -> str:
        """Why ``recent_value`` has nothing on ``as_of``, and what to do: "load events up to that
        day" was said of a stickiness objective whose events were loaded, and whose rolling 30
        days had not yet lain inside them (ingest QA)."""
        definition = self.lookup(key)
        warmup = self._warmup(definition, 0) if definition else 0
        if warmup and self.first_day is not None:
            first_final = self.first_day + dt.timedelta(days=warmup)
            if first_final > as_of or (self.last_day is not None and first_final > self.last_day):
                return (
                    f"it counts the {warmup + 1} days up to each day and events start "
                    f"{format_date(self.first_day)}, so its first whole value is of {format_date(first_final)}"
                )
        settling = self._settling(definition, 0) if definition else 0
        if settling and self.first_day is not None and self.final_day is not None:
            # A cohort's value is final once its window has passed: "load events up to that day"
            # was said with events loaded up to it (QA).
            settled = self.first_day + dt.timedelta(days=settling)
            if settled > as_of and as_of < self.final_day:  # a past day, before any value was final (review)
                return (
                    f"a day's value is final {format_days(settling)} after it (its users' whole window), and "
                    f"events start {format_date(self.first_day)}: the first is final on {format_date(settled)}"
                )
            if settled > self.final_day:
                return (
                    f"a day's value is final {format_days(settling)} after it (its users' whole window), and "
                    f"events start {format_date(self.first_day)}, so the first is final once events "
                    f"through {format_date(settled)} are loaded"
                )
        return "load events up to that day"

    def daily(self, key: str) -> pl.DataFrame:
        """(day, value, weight, total) for every day of the complete range (empty when there is
        none). weight is what a day counts for when days are pooled (``weights``); 1 for most
        metrics. total is what the day adds to a pooled value's top: value x weight, or a ratio's
        (and ARPU's) numerator that day (``numerators``), kept where its denominator is 0."""
        if key not in self._daily:
            bounds = self.complete_range(key)
            schema = {"day": pl.Date, "value": pl.Float64, "weight": pl.Float64, "total": pl.Float64}
            if bounds is None:
                frame = pl.DataFrame(schema=schema)
            else:
                period = metrics.Period(*bounds)
                series = metrics.metric_series(self.reader, key, period, "day", self.definitions)
                frame = series.select("day", pl.col("value").cast(pl.Float64))
                weights = self.weights(key, period)
                if weights is None:
                    frame = frame.with_columns(pl.lit(1.0).alias("weight"))
                else:
                    frame = frame.join(weights, on="day", how="left")
                frame = frame.with_columns(
                    pl.when(pl.col("value").is_null())
                    .then(0.0)
                    .otherwise(pl.col("weight").fill_null(0.0))
                    .alias("weight")
                )
                numerators = self.numerators(key, period)
                if numerators is None:
                    frame = frame.with_columns((pl.col("value").fill_null(0.0) * pl.col("weight")).alias("total"))
                else:
                    # A day without a denominator keeps its numerator: revenue on a day of no
                    # active user was lost, and an impact read "stayed at $5.00" where the 28
                    # days' revenue over their active users rose from $5.83 to $7.50 (QA).
                    frame = frame.join(numerators, on="day", how="left").with_columns(
                        pl.when(pl.col("weight") > 0)
                        .then(pl.col("value") * pl.col("weight"))
                        .otherwise(pl.col("total").fill_null(0.0))
                        .alias("total")
                    )
                frame = frame.select(list(schema))
            self._daily[key] = frame
        return self._daily[key]

    def numerators(self, key: str, period: metrics.Period) -> pl.DataFrame | None:
        """(day, total) of a ratio's numerator (ARPU's revenue) on each day of ``period``: the
        top of the days pooled, which a day whose denominator is 0 still adds to. None for other
        metrics (a funnel's or a cohort's day has no numerator without its weight)."""
        definition = self.lookup(key)
        if definition is None:
            return None
        if definition.type == "ratio" and definition.numerator and definition.denominator:
            side = definition.numerator
        elif definition.type == "builtin" and definition.key == "arpu":
            side = "revenue"
        else:
            return None
        series = metrics.metric_series(self.reader, side, period, "day", self.definitions)
        return series.select("day", pl.col("value").cast(pl.Float64).alias("total"))

    def weights(self, key: str, period: metrics.Period) -> pl.DataFrame | None:
        """(day, weight) for metrics whose daily value is a share of that day's cohort: the users
        who did a funnel's first step that day, the new users of a retention cohort, a ratio's
        denominator, ARPU's active users. Pooling days with these weights gives the rate of the days together. None
        for other metrics (every day counts the same)."""
        definition = self.lookup(key)
        if definition is None:
            return None
        if definition.type == "funnel" and definition.steps:
            # The funnel's daily value is "of the users with a step-1 event that day, the share who
            # converted" (pmkit.metrics.series): its cohort is the day's unique step-1 users.
            cohort = MetricDefinition(f"{key}__cohort", "unique_users", "cohort", events=definition.steps[:1])
            with_cohort = Definitions({**self.definitions.custom, cohort.key: cohort}, self.definitions.active_events)
            series = metrics.metric_series(self.reader, cohort.key, period, "day", with_cohort)
        elif definition.type == "retention":
            series = metrics.metric_series(self.reader, "new_users", period, "day", self.definitions)
        elif definition.type == "ratio" and definition.denominator:
            series = metrics.metric_series(self.reader, definition.denominator, period, "day", self.definitions)
        elif definition.type == "builtin" and definition.key == "arpu":
            # A day's ARPU is its revenue over its active users: unweighted, a Sunday of 2 users
            # counted as much as a Monday of 10, and an item's impact read $2.14 where the days'
            # revenue over their users is $1.30 (QA).
            series = metrics.metric_series(self.reader, "dau", period, "day", self.definitions)
        else:
            return None
        return series.select("day", pl.col("value").cast(pl.Float64).alias("weight"))

    def final_by(self, key: str, as_of: dt.date) -> dt.date:
        """The last day whose value was final on ``as_of``: a cohort metric's day needs its
        settling days after it. A report as of 20 Feb judged the retention cohorts of 14-20 Feb
        on activity up to 5 Mar, loaded later (QA); now it reads only what was known then."""
        definition = self.lookup(key)
        return as_of - dt.timedelta(days=self._settling(definition, 0) if definition else 0)

    def recent_period(self, key: str, as_of: dt.date) -> metrics.Period | None:
        """The days the current value covers: the 7 days ending ``as_of`` or the last final day
        before it (fewer at the start of the data); None when no day is final yet."""
        bounds = self.complete_range(key)
        if bounds is None:
            return None
        end = min(self.final_by(key, as_of), bounds[1])
        if end < bounds[0]:
            return None
        return metrics.Period(max(end - dt.timedelta(days=RECENT_DAYS - 1), bounds[0]), end)

    def recent_value(self, key: str, as_of: dt.date) -> tuple[float | None, dt.date | None]:
        """(value over ``recent_period``, its last day); see the module docstring for which kind
        of value."""
        period = self.recent_period(key, as_of)
        definition = self.lookup(key)
        if period is None or definition is None:
            return None, None
        if pooled(definition):
            whole = metrics.metric_series(self.reader, key, period, "period", self.definitions)
            value = whole["value"].item() if whole.height == 1 else None
        else:
            window = self.daily(key).filter(pl.col("day").is_between(period.start, period.end))
            value = window["value"].mean()
        return (None if value is None else float(value)), period.end

    def seven_day(self, key: str) -> pl.DataFrame:
        """(day, value) on every day of the complete range: the value ``recent_value`` measures
        with that day as its last (the 7 days ending it, fewer at the start of the range), for
        the objective charts. They drew a mean of daily ARPU ($4.80 in the demo) and a
        DAU-weighted one ($3.41) beside a card of $6.96, the 7 days' revenue over their users.

        ARPU is exactly the card's value: the 7 days' revenue over their distinct active users
        (the day's WAU). A funnel is too: each user who started in the 7 days once, at the
        furthest step they reached; and a ratio, each side taken as the card takes it (distinct
        users once, sums of days; ``_ratio_seven_day``). A retention, or a ratio pooled by day
        (``_ratio_pools_days``), pools its days by their weights (``weights``), which is its value
        where the days' counts add up, as a retention cohort's new users do. A ratio with a side of
        another kind is pooled the same way and is not the card's value (``seven_day_is_card``).
        Any other metric is the mean of the days' values."""
        daily = self.daily(key)
        definition = self.lookup(key)
        schema = {"day": pl.Date, "value": pl.Float64}
        if definition is None or daily.is_empty():
            return pl.DataFrame(schema=schema)
        window = {"by": "day", "window_size": f"{RECENT_DAYS}d"}
        if definition.type == "builtin" and definition.key == "arpu":
            kpis = metrics.daily_kpis(self.reader, metrics.Period(daily["day"].min(), daily["day"].max())).sort("day")
            value = pl.col("revenue").cast(pl.Float64).fill_null(0.0).rolling_sum_by(**window) / pl.col("wau")
            frame = kpis.select("day", pl.when(pl.col("wau") > 0).then(value).alias("value"))
        elif definition.type == "funnel" and definition.steps:
            frame = self._funnel_seven_day(definition, daily.select("day").sort("day"))
        elif (
            definition.type == "ratio"
            and (exact := self._ratio_seven_day(definition, daily.select("day").sort("day"))) is not None
        ):
            frame = exact
        elif pooled(definition):
            weighted = pl.col("total").rolling_sum_by(**window)
            weight = pl.col("weight").rolling_sum_by(**window)
            frame = daily.sort("day").select("day", pl.when(weight > 0).then(weighted / weight).alias("value"))
        else:
            total = pl.col("value").fill_null(0.0).rolling_sum_by(**window)
            count = pl.col("value").is_not_null().cast(pl.Int64).rolling_sum_by(**window)
            frame = daily.sort("day").select("day", pl.when(count > 0).then(total / count).alias("value"))
        return frame.select(pl.col("day"), pl.col("value").cast(pl.Float64))

    def _funnel_seven_day(self, definition: MetricDefinition, days: pl.DataFrame) -> pl.DataFrame:
        """(day, value) of a funnel over the 7 days ending each of ``days``, as its value over a
        period is counted (``metrics.series``): of the users with a step-1 attempt on those days
        (attempts whose window runs past the last loaded day left out), the share with one that
        reached the last step, each counted by ``_distinct_over_7_days``."""
        from pmkit.metrics.series import definitions_free_fingerprint, final_attempt_day, funnel_user_days

        workspace = workspace_of(self.reader)
        first, last = days["day"].min(), days["day"].max()
        span = metrics.Period(first - dt.timedelta(days=RECENT_DAYS - 1), last)
        attempts = funnel_user_days(
            self.reader, workspace, definitions_free_fingerprint(definition), definition, span, metrics.Segment()
        )
        attempts = attempts.filter(pl.col("day") <= final_attempt_day(workspace, definition, first))
        started = _distinct_over_7_days(days, attempts)
        converted = _distinct_over_7_days(days, attempts.filter(pl.col("reached") == len(definition.steps)))
        return days.with_columns(ratio(converted, started).alias("value"))

    def _ratio_seven_day(self, definition: MetricDefinition, days: pl.DataFrame) -> pl.DataFrame | None:
        """(day, value) of a ratio: each side over the 7 days ending each day, as ``metric_series``
        takes it over a period: a ratio pooled by day (``_ratio_pools_days``) sums both sides'
        days (weighting its days' values by the denominator lost a day's revenue with no active
        user; QA: $1.67 for a card of $18.33); otherwise distinct users counted once
        (``_distinct_over_7_days``), events and revenue summed. None for a side of another kind."""
        sides = self._ratio_sides(definition)
        if sides is None:
            return None
        summed = self._ratio_pools_days(definition)
        values = []
        for side in sides:
            value = self._side_seven_day(side, days, summed)
            if value is None:
                return None
            values.append(value)
        numerator, denominator = values
        return days.with_columns(ratio(numerator, denominator).alias("value"))

    def _side_seven_day(self, side: MetricDefinition, days: pl.DataFrame, summed: bool = False) -> pl.Series | None:
        """One side of a ratio over the 7 days ending each of ``days`` (``_seven_day_kind``; the
        sum of its days when ``summed``); None for a side of another kind. ``days`` start on the
        first day of the complete range, and so do the windows, as the card's do: a ratio over WAU
        or MAU begins after their warm-up, whose small first values the line summed (review:
        3.07 on its second day for a card of 1.50)."""
        first, last = days["day"].min(), days["day"].max()
        kind = "sum" if summed else _seven_day_kind(side)
        if kind == "distinct":
            workspace = workspace_of(self.reader)
            source = user_event_days(workspace, metrics.Segment(), first, last)
            pairs = run(self.reader, "metric_event_user_days", {"user_event_days": source}, events=list(side.events))
            return _distinct_over_7_days(days, pairs)
        if kind == "sum":
            period = metrics.Period(first, last)
            daily = metrics.metric_series(self.reader, side.key, period, "day", self.definitions)
            summed = daily.sort("day").select(
                "day", pl.col("value").cast(pl.Float64).fill_null(0.0).rolling_sum_by("day", f"{RECENT_DAYS}d")
            )
            return days.join(summed, on="day", how="left")["value"].fill_null(0.0)
        return None

    def seven_day_is_card(self, key: str) -> bool:
        """Whether ``seven_day`` is exactly the card's value on every day: not for a ratio with a
        side that is neither distinct users, a sum over days, nor pooled by day (a ratio of ARPU,
        say), which is drawn as its days' values pooled by their weights."""
        definition = self.lookup(key)
        if definition is None or definition.type != "ratio":
            return True
        sides = self._ratio_sides(definition)
        return sides is not None and (
            self._ratio_pools_days(definition) or all(_seven_day_kind(side) is not None for side in sides)
        )

    def _ratio_sides(self, definition: MetricDefinition) -> list[MetricDefinition] | None:
        found = [self.lookup(definition.numerator), self.lookup(definition.denominator)]
        sides = [side for side in found if side is not None]
        return sides if len(sides) == 2 else None

    def _ratio_pools_days(self, definition: MetricDefinition) -> bool:
        """A ratio with DAU, WAU or MAU on a side and sides that add up is pooled by day over any
        period (``metrics.series.pooled_sides``): its days' values weighted are its value."""
        from pmkit.metrics.series import pooled_sides

        sides = self._ratio_sides(definition)
        return sides is not None and pooled_sides(sides)

    def noise(self, key: str, through: dt.date) -> float | None:
        """Two standard errors of a 7-day value, from the daily values of the 28 days to
        ``through`` (a day varies like sigma^2 / weight; the 7 days pool 7 days' worth of weight).
        A day varies around its weekday's mean, as in ``impact.noise_floor``: a 7-day value holds
        each weekday once, so the weekly pattern is no noise. Around one mean, a product used on
        weekdays only had 2 standard errors of 28 and a 29% rise was called "shipped but flat"
        (QA). With fewer than 14 days, around their one mean."""
        window = self.daily(key).filter(
            pl.col("day").is_between(through - dt.timedelta(days=NOISE_DAYS - 1), through) & (pl.col("weight") > 0)
        )
        if window.height < 2:
            return None
        by_weekday = window.height >= 14
        groups = window["day"].dt.weekday().to_numpy() if by_weekday else np.zeros(window.height, dtype=int)
        value, weight = window["value"].to_numpy(), window["weight"].to_numpy()
        squares, dof = 0.0, 0
        for group in np.unique(groups):
            chosen = groups == group
            centre = float(np.sum(value[chosen] * weight[chosen]) / np.sum(weight[chosen]))
            squares += float(np.sum(weight[chosen] * (value[chosen] - centre) ** 2))
            dof += int(chosen.sum()) - 1
        if dof <= 0:
            return None
        week_weight = float(np.sum(weight)) * RECENT_DAYS / window.height
        return NOISE_STANDARD_ERRORS * math.sqrt(squares / dof / week_weight) * self._card_scale(key, through)

    def _card_scale(self, key: str, through: dt.date) -> float:
        """How many times the 7-day value judged (``seven_day``) is the days' pooled value on
        ``through``: ARPU's 7 days' revenue is over their distinct users, not over the sum of the
        days' active users, so its noise is that many times the pooled one's. Measured on the
        days' pooled value, a flat ARPU's two standard errors came out 7 times too small and a
        shipped-but-flat objective was not called so (QA). 1 where they are the same value."""
        definition = self.lookup(key)
        if definition is None or not pooled(definition):
            return 1.0
        # Every day's top, those without a denominator too, as the card counts them (review: a
        # Saturday's revenue with nobody active left out here made the scale 130).
        week = self.daily(key).filter(pl.col("day").is_between(through - dt.timedelta(days=RECENT_DAYS - 1), through))
        card = self.seven_day(key).filter(pl.col("day") == through)["value"]
        weight = float(week["weight"].sum()) if week.height else 0.0
        if card.len() != 1 or card[0] is None or weight <= 0:
            return 1.0
        pooled_value = float(week["total"].sum()) / weight
        return abs(float(card[0]) / pooled_value) if pooled_value else 1.0

    def format(self, key: str, value: float | None, *, trim: bool = False) -> str:
        definition = self.lookup(key)
        return format_value(value, definition.format if definition else "number", trim=trim)

    def _warmup(self, definition: MetricDefinition, depth: int) -> int:
        if definition.type == "builtin":
            return WARMUP_DAYS.get(definition.key, 0)
        if definition.type == "ratio" and depth < 8:
            return max((self._warmup(side, depth + 1) for side in self._sides(definition)), default=0)
        return 0

    def settling(self, key: str) -> int:
        """Days after a day before the metric's value of it is final (0 for most metrics)."""
        definition = self.lookup(key)
        return self._settling(definition, 0) if definition else 0

    def _settling(self, definition: MetricDefinition, depth: int) -> int:
        if definition.type == "funnel":
            return math.ceil(definition.window_days)
        if definition.type == "retention":
            return 7 * definition.week + 6  # the last day of retention week w
        if definition.type == "ratio" and depth < 8:
            return max((self._settling(side, depth + 1) for side in self._sides(definition)), default=0)
        return 0

    def _sides(self, definition: MetricDefinition) -> list[MetricDefinition]:
        found = [self.lookup(key) for key in (definition.numerator, definition.denominator)]
        return [side for side in found if side is not None]


def format_value(value: float | None, fmt: str = "number", *, trim: bool = False) -> str:
    """A metric value as a PM would write it: 0.41 -> "41.0%" (percent), 1234.5 -> "1,234".
    ``trim`` drops a trailing ".0" (for targets people wrote by hand: "45%").

    >>> format_value(0.385, "percent"), format_value(0.45, "percent", trim=True), format_value(85.25)
    ('38.5%', '45%', '85.3')
    >>> format_value(679.861, "currency"), format_value(930, "currency", trim=True), format_value(-5, "currency")
    ('$679.86', '$930', '-$5.00')
    >>> format_value(0.714), format_value(0.0062), format_value(2.5, trim=True), format_value(0.004, trim=True)
    ('0.71', '0.0062', '2.5', '0.004')
    >>> format_value(10.95, trim=True), format_value(0.4525, "percent", trim=True), format_value(12500.5, trim=True)
    ('10.95', '45.25%', '12,500.5')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if trim and fmt != "currency":
        # A value typed by hand keeps every digit typed: a target of 10.95 read "path to 10.9".
        return _as_typed(value * 100 if fmt == "percent" else value) + ("%" if fmt == "percent" else "")
    if fmt == "percent":
        text = fixed(value * 100, 1) + "%"
    elif abs(value) >= 1000:
        text = fixed(value, 0, ",")
    elif abs(value) >= 10 or fmt == "currency":
        text = fixed(value, 1, ",") if fmt != "currency" else fixed(value, 2, ",")
    elif trim:
        text = significant(value, 4)  # a target as written by hand: 2.5, 0.004 (not 2.50 and 0; review)
    else:
        # As the cards write a number under 10: the card read 0.71 and the sentence beside it
        # 0.714; two decimals made 0.0062 "0.01", level with a path of 0.0058.
        text = format_number(value)
    if trim:
        text = text.replace(".0%", "%").removesuffix(".0").removesuffix(".00")
    if fmt == "currency":  # as the cards beside the sentence write money
        text = f"-${text[1:]}" if text.startswith("-") else f"${text}"
    return text


def _as_typed(value: float) -> str:
    """A number as it was typed: its shortest decimal form (Python's repr, so that 0.4525 x 100 is
    45.25 and 123456789012.5 keeps its .5), thousands separated, never in exponent form.

    >>> _as_typed(123456789012.5), _as_typed(1e-12), _as_typed(0.4525 * 100), _as_typed(-0.0)
    ('123,456,789,012.5', '0.000000000001', '45.25', '0')
    >>> _as_typed(0.0001 + 0.0002), _as_typed(1e-7 * 100)
    ('0.0003', '0.00001')
    """
    shortest = Decimal(f"{value:.15g}")  # 15 digits: float noise (0.1 + 0.2) goes, typed digits stay
    text = f"{shortest:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def values_apart(first: float | None, second: float | None, fmt: str) -> tuple[str, str]:
    """Two values as ``format_value`` writes them, with more decimals while they read the same
    but are not: "Daily active users is 10.0 ..., behind the 10.0 path" (QA) reads "10.00 ...,
    behind the 10.05 path".

    >>> values_apart(10.0, 10.049, "number"), values_apart(0.4, 0.4, "percent"), values_apart(1.0, 1.004, "currency")
    (('10.00', '10.05'), ('40.0%', '40.0%'), ('$1.000', '$1.004'))
    """
    texts = format_value(first, fmt), format_value(second, fmt)
    # Equal but for float noise (0.1 + 0.2 and 0.3) they read the same, as they are.
    if first is None or second is None or math.isclose(first, second, rel_tol=1e-9, abs_tol=1e-12):
        return texts
    large = abs(max(first, second, key=abs)) >= 1000
    # Decimals as format_value writes them (a large amount in whole dollars), less one for
    # currency, so that a first step shows cents.
    base = (
        1 if fmt == "percent" else 1 if fmt == "currency" and large else 0 if large else 2 if fmt == "currency" else 1
    )
    extra = 0
    while texts[0] == texts[1] and extra < 6:
        extra += 1
        texts = (_decimals(first, fmt, base + extra), _decimals(second, fmt, base + extra))
    return texts


def _decimals(value: float, fmt: str, places: int) -> str:
    if fmt == "percent":
        return f"{value * 100:,.{places}f}%"
    text = f"{abs(value):,.{places}f}"
    if fmt == "currency":
        text = f"${text}"
    return f"-{text}" if value < 0 else text


# --- the outcome against its path -----------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """Where a metric stands against its objective's path on one day."""

    health: str
    expected: float | None
    progress: float | None
    gap: float | None  # current - expected, signed so that > 0 is better than the path


def judge_outcome(
    current: float | None,
    as_of: dt.date,
    baseline: float | None,
    target: float,
    start_date: dt.date,
    target_date: dt.date,
    direction: str,
    today: dt.date | None = None,
    since: dt.date | None = None,
) -> Outcome:
    """Outcome health, expected value, progress and gap (module docstring, "outcome_health"), of
    ``current`` measured over ``since`` (default ``as_of``) to ``as_of``, against the path's mean
    over those days (the target for days after the target date). ``today`` (default
    ``as_of``) is the day it is judged on: not started before its start date. A funnel's value
    ends a window before it: judged on that day instead, a stay_below objective without a start
    date (held from today) read "not started" with its ceiling breached (QA).

    >>> judge_outcome(0.41, dt.date(2026, 4, 30), 0.30, 0.45, dt.date(2026, 3, 1), dt.date(2026, 6, 29), "increase").health
    'on_track'
    """
    if since is not None:  # the path is flat at the target after its date: the days after count as it
        expected = metrics.path_mean(since, as_of, baseline, target, start_date, target_date, direction)
    else:
        expected = metrics.expected_value(as_of, baseline, target, start_date, target_date, direction)
    moves = direction in ("increase", "decrease")
    sign = 1.0 if direction in ("increase", "stay_above") else -1.0
    progress = None
    if moves and current is not None and baseline is not None:
        if target == baseline:
            progress = 1.0 if sign * (current - target) >= 0 else 0.0
        else:
            progress = min(1.0, max(0.0, (current - baseline) / (target - baseline)))
    if current is None:
        return Outcome("no_data", expected, None, None)
    gap = round(sign * (current - expected), 12)  # float noise must not make "on the path" a miss
    if (today or as_of) < start_date:
        return Outcome("not_started", expected, progress, gap)
    beyond_target = sign * (current - target) >= 0
    if beyond_target and (moves or as_of >= target_date):
        return Outcome("achieved", expected, progress, gap)
    status = metrics.target_status(current, as_of, baseline, target, start_date, target_date, direction, expected)
    return Outcome(status.status, expected, progress, gap)


def outcome_reason(
    name: str,
    fmt: str,
    outcome: Outcome,
    current: float | None,
    as_of: dt.date,
    objective: Mapping[str, Any],
    measured: str = "",
    settling: int = 0,
    today: dt.date | None = None,
    loaded_through: dt.date | None = None,
) -> str:
    """The outcome in one sentence, e.g. "Activation is 41.0% over the 7 days to 2026-06-30, ahead
    of the 38.5% path to 45% by 2026-06-30", where ``measured`` ("over the 7 days to 2026-06-30")
    says which days the current value covers: a page shows it beside values of other days.
    ``settling``: the days after a day before its value is final (a funnel's window)."""
    target, baseline = objective["target"], objective["baseline"]
    target_text = format_value(target, fmt, trim=True)
    due = objective["target_date"]
    by = format_date(due)
    current_text, expected_text = values_apart(current, outcome.expected, fmt)
    now = " ".join(filter(None, (f"{name} is {current_text}", measured)))
    direction = objective["direction"]
    if outcome.health == "not_started":
        start = format_date(objective["start_date"])
        against = f" against a baseline of {format_value(baseline, fmt, trim=True)}" if baseline is not None else ""
        if today is not None and objective["start_date"] <= today:
            # Begun, but no value since its start: "starts 2 Nov" was read on 5 Nov (QA).
            final_on = objective["start_date"] + dt.timedelta(days=settling)
            # Waiting for the window only with the start's day loaded: events that end before
            # it make no value final on that date (review).
            started_loaded = loaded_through is not None and loaded_through >= objective["start_date"]
            if settling and final_on > today and started_loaded:
                return (
                    f"started {start}; a day's value is final {format_days(settling)} after it, so the first since "
                    f"the start is final on {format_date(final_on)}; until then {now}{against}"
                )
            # The days since are not loaded (a date already past was given as to come; review).
            return f"started {start}, and no value since is loaded; {now}{against}"
        return f"starts {start}; {now}{against}"
    if direction in ("stay_above", "stay_below"):
        floor = "floor" if direction == "stay_above" else "ceiling"
        if outcome.health == "achieved":
            return f"{now}, {'above' if direction == 'stay_above' else 'below'} the {target_text} {floor} through {by}"
        if outcome.gap is not None and outcome.gap >= 0:
            side = "above" if direction == "stay_above" else "below"
            return f"{now}, {side} the {target_text} {floor} (held until {by})"
        side = "below" if direction == "stay_above" else "above"
        return f"{now}, {side} the {target_text} {floor} it should stay {'above' if side == 'below' else 'below'}"
    if outcome.health == "achieved":
        return f"{now}, past the target of {target_text} (set for {by})"
    if as_of >= due and (outcome.gap is None or outcome.gap < 0):
        return f"{now}, short of the {target_text} target that was due {by}"
    if as_of >= due:
        # From the target date on, a value short of the target still held to the path's mean over
        # days partly before it read "ahead of the 22.1 path to 23 by 14 Mar" (review).
        side = "ahead of" if outcome.gap else "on"
        return (
            f"{now}, {side} the path over those days (its mean there: {expected_text}); "
            f"the {target_text} target {'is' if as_of == due else 'was'} due {by}"
        )
    path = f"the {expected_text} path to {target_text} by {by}"
    if outcome.gap is not None and outcome.gap > 0:
        return f"{now}, ahead of {path}"
    if outcome.gap == 0:
        return f"{now}, on {path}"
    return f"{now}, behind {path}"


# --- objectives from the store and pmkit.toml -----------------------------------------------------


def load_objectives(reader: Reader, config: Config) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    """Every objective (OBJECTIVE_COLUMNS plus ``source``) and, per objective id, the problems
    of its ``pmkit.toml`` table. The CSV row wins whole over a TOML table with the same id."""
    from pmkit import roadmap_view

    schema = {**OBJECTIVE_COLUMNS, "source": pl.String()}
    stored = roadmap_view.objectives(reader)
    csv = stored.select([pl.col(name).cast(dtype) for name, dtype in OBJECTIVE_COLUMNS.items()]).with_columns(
        pl.lit("csv").alias("source")
    )
    rows, problems = [], {}
    for objective_id, table in config.objectives.items():
        row, found = _toml_objective(str(objective_id), table)
        rows.append({**row, "source": "pmkit.toml"})
        if found:
            problems[str(objective_id)] = found
    toml = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    toml = toml.filter(~pl.col("objective_id").is_in(csv["objective_id"].implode()))
    problems = {k: v for k, v in problems.items() if k in toml["objective_id"]}
    return pl.concat([csv, toml]).sort("objective_id"), problems


def _toml_objective(objective_id: str, table: Any) -> tuple[dict[str, Any], list[str]]:
    """One ``[objectives.ID]`` table as a row, and what is wrong with it (each naming the fix)."""
    where = f"pmkit.toml, objectives.{objective_id}"
    row: dict[str, Any] = dict.fromkeys(OBJECTIVE_COLUMNS)
    row["objective_id"] = objective_id
    if not isinstance(table, Mapping):
        return row, [f'{where}: must be a table (e.g. [objectives.{objective_id}] with metric = "dau")']
    problems = []
    examples = {
        "title": '"Grow weekly usage"',
        "metric": '"dau"',
        "owner": '"Maya Chen"',
        "direction": '"increase"',
        "baseline": "0.30",
        "target": "0.45",
        "start_date": "2026-03-01",
        "target_date": "2026-06-30",
    }
    for name in table:
        if name not in OBJECTIVE_COLUMNS or name == "objective_id":
            problems.append(f'{where}: unknown key "{name}" (keys: {", ".join(list(OBJECTIVE_COLUMNS)[1:])})')
    for name in ("title", "metric", "owner", "direction"):
        value = table.get(name)
        if value is not None and not isinstance(value, str):
            problems.append(f"{where}: {name} must be text in quotes (e.g. {name} = {examples[name]})")
        elif name == "direction" and value is not None:
            # As objectives.csv reads it: "Increase" was refused here and taken there.
            row[name] = re.sub(DIRECTION_SEPARATORS, "_", value.strip().lower())
        else:
            row[name] = closed_bidi(value) if name in SHOWN_TEXT and isinstance(value, str) else value
    for name in ("baseline", "target"):
        value = table.get(name)
        # TOML booleans are ints in Python; `target = true` is a mistake, not 1.
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            problems.append(f"{where}: {name} must be a number (e.g. {name} = {examples[name]})")
        elif value is not None:
            row[name] = float(value)
    for name in ("start_date", "target_date"):
        value = table.get(name)
        if isinstance(value, dt.datetime):
            row[name] = value.date()
        elif isinstance(value, dt.date):
            row[name] = value
        elif isinstance(value, str):
            try:
                row[name] = dt.date.fromisoformat(value)
            except ValueError:
                problems.append(f"{where}: {name} {value!r} is not a date (e.g. {name} = {examples[name]})")
        elif value is not None:
            problems.append(f"{where}: {name} must be a date (e.g. {name} = {examples[name]})")
    return row, problems


def path_start(objective: Mapping[str, Any], day: dt.date) -> dt.date | None:
    """The day an objective's path starts: its start date; a stay_above / stay_below objective
    without one is held from ``day``, the day judged, or its target date when that is earlier
    (a target date before it made a path running backwards). None for any other without one
    (``objective_problems`` says so)."""
    if objective["start_date"] is not None:
        return objective["start_date"]
    if objective.get("target_date") is None or objective.get("direction") not in ("stay_above", "stay_below"):
        return None
    return min(day, objective["target_date"])


def objective_problems(objective: Mapping[str, Any]) -> list[str]:
    """What stops an objective from having an outcome: missing fields, a bad direction, dates
    in the wrong order. A missing baseline is not a problem: it is measured at the start date."""
    where = objective["objective_id"]
    needed = ["metric", "target", "target_date", "direction"]
    if objective.get("direction") in ("increase", "decrease"):
        needed.insert(2, "start_date")
    missing = [name for name in needed if objective.get(name) is None]
    if missing:
        return [f"{where}: {', '.join(missing)} not set (add {'them' if len(missing) > 1 else 'it'} to the objective)"]
    problems = []
    if objective["direction"] not in DIRECTIONS:
        problems.append(f"{where}: direction {objective['direction']!r} is not one of {', '.join(DIRECTIONS)}")
    start = objective.get("start_date")
    if start is not None and objective["target_date"] < start:
        problems.append(
            f"{where}: target_date {format_date(objective['target_date'])} is before start_date {format_date(start)}"
        )
    # A stated baseline on the wrong side of the target: an increase from 20 to 10 read
    # "achieved" while the metric fell to 15 (QA).
    baseline, target, direction = objective.get("baseline"), objective["target"], objective["direction"]
    if baseline is not None and (
        (direction == "increase" and target < baseline) or (direction == "decrease" and target > baseline)
    ):
        other = "decrease" if direction == "increase" else "increase"
        problems.append(
            f"{where}: {'an' if direction == 'increase' else 'a'} {direction} from {significant(baseline, 6)} to {significant(target, 6)} goes the other way "
            f'(set direction = "{other}", or check the baseline and the target)'
        )
    return problems


# --- objective health -----------------------------------------------------------------------------


def objective_health(reader: Reader, config: Config, items_health: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """One row per objective with outcome and delivery side by side (OBJECTIVE_HEALTH_COLUMNS;
    the rules are in the module docstring).

    >>> objective_health(reader, config, item_health(...), date(2026, 6, 30)).row(0, named=True)  # doctest: +SKIP
    {'objective_id': 'OBJ-1', ..., 'outcome_health': 'on_track', 'outcome_reason': 'Activation rate is 41.0%, ahead of ...'}
    """
    source = MetricSource.open(reader, config)
    objectives, toml_problems = load_objectives(reader, config)
    objectives = _with_roadmap_objectives(objectives, items_health)
    delivery = roadmap.delivery_health(items_health, objectives.select("objective_id"))
    delivery_by_id = {row["objective_id"]: row for row in delivery.iter_rows(named=True)}
    cancelled = dict(
        items_health.filter(
            (pl.col("health") == "cancelled")
            & pl.col("objective_id").is_not_null()
            & pl.col("item_type").ne_missing("objective")
        )
        .group_by("objective_id")
        .len()
        .iter_rows()
    )
    # A roadmap loaded only from later snapshots says nothing of this day: "no roadmap items
    # linked" was said of objectives with five items linked in them.
    unknown = None
    if items_health.height == 0:
        first = reader.frame("SELECT min(snapshot_date) AS d FROM roadmap_items")["d"].item()
        if first is not None and first > as_of:
            unknown = f"no roadmap snapshot on or before {format_date(as_of)} (the first is of {format_date(first)})"
    rows = []
    for objective in objectives.iter_rows(named=True):
        row = {**objective, **_outcome(source, objective, toml_problems.get(objective["objective_id"], []), as_of)}
        counts = delivery_by_id.get(objective["objective_id"], {})
        row["delivery_health"] = counts.get("delivery_health")
        row["items"] = counts.get("items") or 0
        row["items_done"] = counts.get("items_done") or 0
        row["items_done_late"] = counts.get("items_done_late") or 0
        row["delivery_reason"] = unknown or _delivery_reason(counts, cancelled.get(objective["objective_id"], 0))
        row["callouts"] = _callouts(source, row)
        rows.append(row)
    if not rows:
        return pl.DataFrame(schema=OBJECTIVE_HEALTH_COLUMNS)
    frame = pl.DataFrame(rows, schema_overrides=OBJECTIVE_HEALTH_COLUMNS, infer_schema_length=None)
    return frame.select([pl.col(name).cast(dtype) for name, dtype in OBJECTIVE_HEALTH_COLUMNS.items()])


def _with_roadmap_objectives(objectives: pl.DataFrame, items_health: pl.DataFrame) -> pl.DataFrame:
    """Add objectives that only the roadmap names (an objective item, or an objective_id that
    items point at), with the item's title and metric when there is one."""
    known = set(objectives["objective_id"].to_list())
    items = items_health.filter(pl.col("item_type") == "objective")
    referenced = items_health["objective_id"].drop_nulls().unique().to_list()
    rows = []
    for objective_id in sorted({*items["item_id"].to_list(), *referenced} - known):
        item = items.filter(pl.col("item_id") == objective_id)
        first = item.row(0, named=True) if item.height else {}
        rows.append(
            {
                "objective_id": objective_id,
                "title": first.get("title"),
                "metric": first.get("metric"),
                "owner": first.get("owner"),
                "source": "roadmap",
            }
        )
    if not rows:
        return objectives
    extra = pl.DataFrame(rows, schema={k: objectives.schema[k] for k in rows[0]}, orient="row")
    return pl.concat([objectives, extra], how="diagonal").sort("objective_id")


def _outcome(source: MetricSource, objective: Mapping[str, Any], toml_problems: list[str], as_of: dt.date) -> dict:
    key = objective["metric"]
    empty = {
        "metric_name": source.name(key) if key else None,
        "current_value": None,
        "current_from": None,
        "current_through": None,
        "expected_value": None,
        "outcome_progress": None,
        "outcome_health": "no_data",
    }
    if objective["source"] == "roadmap" and objective.get("target") is None:
        where = objective["objective_id"]
        reason = (
            f"no target set: add {where} to objectives.csv or as [objectives.{where}] in pmkit.toml "
            '(metric, baseline, target, start_date, target_date, direction = "increase")'
        )
        return {**empty, "outcome_reason": reason}
    problems = toml_problems + objective_problems(objective)
    if problems:
        return {**empty, "outcome_reason": "; ".join(problems)}
    definition = source.lookup(key)
    if definition is None:
        return {**empty, "outcome_reason": source.missing_reason(key)}
    objective = dict(objective)
    notes = []
    held_from_today = objective["start_date"] is None
    objective["start_date"] = path_start(objective, as_of)
    if objective["baseline"] is None and objective["direction"] in ("increase", "decrease"):
        objective["baseline"], _ = source.recent_value(key, objective["start_date"])
        days = source.recent_period(key, objective["start_date"])
        if objective["baseline"] is None or days is None:
            reason = f"no baseline set and no {definition.name} value by {format_date(objective['start_date'])} to take it from"
            return {**empty, "outcome_reason": f"{reason} (set baseline in the objective)"}
        # The days it was measured on: "the 7 days to 1 Oct" named days with nothing loaded when
        # the events end before the start (QA).
        notes.append(
            f"baseline not set: {format_value(objective['baseline'], definition.format)} is the "
            f"{format_days(days.days)} to {format_date(days.end)}"
        )
    current, _ = source.recent_value(key, as_of)
    window = source.recent_period(key, as_of)  # the days of ``current``
    through = window.end if window else None
    # The path is read on the value's own last day: a funnel's latest final 7 days end a window
    # before as_of, and the path of as_of asked them to be where the metric is due a week later.
    judged = through or as_of
    outcome = judge_outcome(
        current,
        judged,
        objective["baseline"],
        objective["target"],
        objective["start_date"],
        objective["target_date"],
        objective["direction"],
        # Not started while the days measured are all before its start: an objective starting
        # 2 Nov read "on the 16.0 path" of the 7 days to 1 Nov (QA). One held from today (no
        # start date) is judged on today: its ceiling breached read "not started" (QA).
        today=as_of if held_from_today else judged,
        since=window.start if window else None,
    )
    if current is None:
        reason = f"no {definition.name} value on or before {format_date(as_of)} yet ({source.missing_hint(key, as_of)})"
    else:
        # A cohort metric's value is the rate of the 7 days pooled; any other is a mean of days
        # ("Reports shared is 104.3 a day on average", not 104.3 in the 7 days).
        per_day = "" if pooled(definition) else "a day on average "
        measured = f"{per_day}over the {format_days(window.days)} to {format_date(window.end)}" if window else ""
        reason = outcome_reason(
            definition.name,
            definition.format,
            outcome,
            current,
            judged,
            objective,
            measured,
            settling=0 if held_from_today else source.settling(key),
            today=as_of,
            loaded_through=source.final_day,
        )
        if through is not None and through < as_of:
            notes.insert(0, "the latest final value")
    if notes:
        reason += f" ({'; '.join(notes)})"
    return {
        **empty,
        "baseline": objective["baseline"],
        "current_value": current,
        "current_from": window.start if window else None,
        "current_through": through,
        "expected_value": outcome.expected,
        "outcome_progress": outcome.progress,
        "outcome_health": outcome.health,
        "outcome_reason": reason,
    }


def _delivery_reason(counts: Mapping[str, Any], cancelled: int = 0) -> str:
    """ "5 items: 1 late, 1 at risk, 3 done (1 after its due date)", or that nothing on the
    roadmap is linked, or that what is linked was cancelled. The done ones shipped late are said:
    "1 item: 1 done" hid a late delivery."""
    total = counts.get("items") or 0
    if not total and cancelled:
        # Not "no roadmap items linked" above a list of the two cancelled ones (QA).
        return f"every roadmap item linked to this objective is cancelled ({cancelled})"
    if not total:
        return "no roadmap items linked to this objective"
    parts = [
        f"{counts[f'items_{health}']} {health.replace('_', ' ')}"
        for health in roadmap.HEALTH_ORDER
        if counts.get(f"items_{health}")
    ]
    late = counts.get("items_done_late") or 0
    if late and parts:
        parts[-1] += f" ({late} after {'its' if late == 1 else 'their'} due date)"
    return f"{total} item{'s' if total != 1 else ''}: {', '.join(parts)}"


def _callouts(source: MetricSource, row: Mapping[str, Any]) -> list[str]:
    found = []
    outcome, delivery = row["outcome_health"], row["delivery_health"]
    on_time = delivery == "on_track" or (delivery == "done" and not row.get("items_done_late"))
    if on_time and outcome in ("at_risk", "off_track"):
        found.append(ON_TIME_OFF_TARGET)
    moves = row.get("direction") in ("increase", "decrease")
    measured = outcome not in ("no_data", "not_started", "achieved") and row["current_value"] is not None
    if row["items_done"] and moves and measured and row.get("baseline") is not None:
        noise = source.noise(row["metric"], row["current_through"])
        if noise is not None and abs(row["current_value"] - row["baseline"]) <= noise:
            found.append(SHIPPED_BUT_FLAT)
    return found


__all__ = [
    "OBJECTIVE_HEALTH_COLUMNS",
    "OUTCOME_HEALTHS",
    "MetricSource",
    "Outcome",
    "format_value",
    "judge_outcome",
    "load_objectives",
    "objective_health",
    "outcome_reason",
]
