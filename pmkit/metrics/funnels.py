"""Ordered funnels with a conversion window, with the semantics of ClickHouse's ``windowFunnel``.

Every step-1 event whose local day is in the period starts an attempt. An attempt reaches step i
when events of steps 2..i follow in order, each at or after the previous step's event (the same
instant counts) and at most ``window_days`` after the step-1 event: an event exactly at the
window's end counts, as ClickHouse's ``timestamp <= start + window`` does. One event never
serves two steps, and an event done before the previous step does not count for its step.
Later steps may fall after the period's end (within the window). Filters apply to the events of
every step; a breakdown takes the value on the step-1 event of each attempt.

A user counts at the furthest step any of their attempts reached. The time to convert from step
i-1 to i is taken from the user's earliest attempt that reached their furthest step; the median
over users is reported per step (null for step 1).

Saved funnels: a funnel metric of pmkit.toml keeps, per user and day, the furthest step that day's
attempts reached and the step times of the earliest attempt that got that far (``attempt_days``,
kept at ingest by ``pmkit.metrics.materialized``). A user's furthest step over a period is the
largest of their days', and their earliest attempt that got that far is on the first such day,
so ``funnel``/``funnels`` given the definitions read a saved funnel without a segment from those
rows, whose number does not grow with the events. Any other funnel reads the step events.

Why greedy is exact: taking, for each step, the earliest qualifying event after the previous
one leaves the most room for every later step (all constraints only get harder with time), so
an attempt reaches step i this way exactly when any choice of events would.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import polars as pl

from pmkit.definitions import Definitions, MetricDefinition
from pmkit.metrics.base import (
    Period,
    Segment,
    Workspace,
    check_segment,
    finish,
    ratio,
    run,
    workspace_of,
)
from pmkit.metrics.step_events import funnel_events
from pmkit.store import Reader

FUNNEL_COLUMNS = [
    "step",
    "event",
    "users",
    "conversion",
    "conversion_from_previous",
    "drop_off",
    "drop_off_rate",
    "median_seconds",
]


def check_steps(steps: Sequence[str], window_days: float) -> list[str]:
    steps = [str(s) for s in steps]
    if len(steps) < 2 or any(not s for s in steps):
        raise ValueError(
            f"funnel: steps {steps} need at least two event names (e.g. steps=['signup', 'create_report'])"
        )
    if not window_days > 0:
        raise ValueError(f"funnel: window_days {window_days!r} must be a positive number of days (e.g. 7)")
    return steps


def funnel(
    reader: Reader,
    steps: Sequence[str],
    window_days: float = 7,
    period: Period | None = None,
    segment: Segment | None = None,
    definitions: Definitions | None = None,
) -> pl.DataFrame:
    """One row per step: step (1-based), event, [breakdown], users (reaching the step),
    conversion (users / step-1 users), conversion_from_previous, drop_off (users lost since the
    previous step), drop_off_rate (drop_off / previous step's users), median_seconds (median
    time from the previous step; null for step 1). With ``definitions``, a saved funnel (the
    steps and window of a pmkit.toml funnel metric) is read from the rows kept at ingest.

    >>> funnel(reader, ["signup", "create_report"], window_days=7)  # doctest: +SKIP
    """
    steps = check_steps(steps, window_days)
    workspace = workspace_of(reader)
    period = period or workspace.default_period()
    segment = check_segment(segment, workspace)
    days = _attempt_days(reader, workspace, steps, window_days, period, segment, definitions)
    return _steps_table(days, steps, segment)


def funnels(
    reader: Reader,
    steps: Sequence[str],
    window_days: float = 7,
    periods: Sequence[Period] = (),
    segment: Segment | None = None,
    definitions: Definitions | None = None,
) -> tuple[pl.DataFrame, ...]:
    """``funnel`` over each of ``periods`` (e.g. a range and the one before it) from one read of
    the step events: an attempt's steps are found the same way whatever range is read, as long as
    it holds the attempt's window, so each period keeps its own attempts and gets the same table.

    >>> now, before = funnels(reader, ["signup", "create_report"], 7, (period, period.previous()))  # doctest: +SKIP
    """
    steps = check_steps(steps, window_days)
    workspace = workspace_of(reader)
    periods = list(periods) or [workspace.default_period()]
    segment = check_segment(segment, workspace)
    span = Period(min(p.start for p in periods), max(p.end for p in periods))
    days = _attempt_days(reader, workspace, steps, window_days, span, segment, definitions)
    return tuple(_steps_table(days.filter(pl.col("day").is_between(p.start, p.end)), steps, segment) for p in periods)


def saved_funnel(definitions: Definitions | None, steps: Sequence[str], window_days: float) -> MetricDefinition | None:
    """The pmkit.toml funnel metric with exactly these steps and window, if any."""
    for definition in definitions.custom.values() if definitions else ():
        same_steps = definition.type == "funnel" and list(definition.steps) == list(steps)
        if same_steps and float(definition.window_days) == float(window_days):
            return definition
    return None


def _attempt_days(
    reader: Reader,
    workspace: Workspace,
    steps: list[str],
    window_days: float,
    period: Period,
    segment: Segment,
    definitions: Definitions | None,
) -> pl.DataFrame:
    """``attempt_days`` of the period: kept at ingest for a saved funnel without a segment (when
    the rows cover the period), else from the step events."""
    saved = saved_funnel(definitions, steps, window_days) if segment.is_empty else None
    if saved is not None:
        # series imports this module: imported here.
        from pmkit.metrics.series import definitions_free_fingerprint, funnel_user_days

        return funnel_user_days(reader, workspace, definitions_free_fingerprint(saved), saved, period, segment)
    return attempt_days(funnel_attempts(reader, workspace, steps, window_days, period, segment), len(steps))


def attempt_days(attempts: pl.DataFrame, steps: int) -> pl.DataFrame:
    """Per group, user and day of a step-1 event (``funnel_attempts`` rows): reached (the furthest
    step of that day's attempts) and seconds (from each step to the next, in the day's earliest
    attempt that got that far; null beyond it)."""
    keys = ["grp", "user_key", "day"]
    gaps = [(pl.col(f"t_{i}") - pl.col(f"t_{i - 1}")).dt.total_microseconds() / 1e6 for i in range(1, steps)]
    # One user's attempts in seq order are in time order (seq orders by user, then time): the
    # first row kept per day is the earliest attempt that got furthest. Lists are built only for
    # those rows.
    return (
        attempts.filter(pl.col("reached") == pl.col("reached").max().over(keys))
        .sort("seq")
        .unique(keys, keep="first", maintain_order=True)
        .select(*keys, pl.col("reached").cast(pl.Int64), pl.concat_list(gaps).alias("seconds"))
    )


def _users(days: pl.DataFrame, steps: int) -> pl.DataFrame:
    """Per group and user: furthest (the furthest step of any attempt) and seconds_i (from step
    i-1 to i, in the earliest attempt that got that far: on the first day that reached it)."""
    if days["user_key"].n_unique() == days.height:
        # One row per user (a step 1 done on one day of the period, as a sign-up is): that row is
        # the one to pick. Checking costs 0.5 ms for 61k users; the group-by below 6-9 ms.
        chosen = days
    else:
        # One group-by picking each user's row (a user has one row per day): 16 -> 10 ms for 61k
        # users, where a window max, a filter, a sort and a group-by each went over the rows.
        chosen = days.group_by("grp", "user_key").agg(
            pl.col("reached", "seconds").sort_by(["reached", "day"], descending=[True, False]).first()
        )
    seconds = [pl.col("seconds").list.get(i - 1, null_on_oob=True).alias(f"seconds_{i}") for i in range(1, steps)]
    return chosen.select("grp", "user_key", pl.col("reached").alias("furthest"), *seconds)


def _steps_table(days: pl.DataFrame, steps: list[str], segment: Segment) -> pl.DataFrame:
    users = _users(days, len(steps))
    rows = []
    for index, event in enumerate(steps):
        reached = users.filter(pl.col("furthest") > index)
        aggregated = reached.group_by("grp").agg(
            pl.len().cast(pl.Int64).alias("users"),
            (pl.col(f"seconds_{index}").median() if index else pl.lit(None, pl.Float64)).alias("median_seconds"),
        )
        rows.append(aggregated.with_columns(pl.lit(index + 1, pl.Int64).alias("step"), pl.lit(event).alias("event")))
    groups = users.select("grp").unique() if users.height else pl.DataFrame({"grp": [None]}, schema={"grp": pl.String})
    grid = groups.join(
        pl.DataFrame({"step": range(1, len(steps) + 1), "event": steps}, schema={"step": pl.Int64, "event": pl.String}),
        how="cross",
    )
    frame = (
        grid.join(pl.concat(rows).drop("event"), on=["grp", "step"], how="left", nulls_equal=True)
        .with_columns(pl.col("users").fill_null(0))
        .sort(["grp", "step"], nulls_last=True)
        .with_columns(
            pl.col("users").first().over("grp").alias("first_users"),
            pl.col("users").shift(1).over("grp").alias("previous_users"),
        )
        .with_columns(
            ratio(pl.col("users"), pl.col("first_users")).alias("conversion"),
            ratio(pl.col("users"), pl.col("previous_users")).alias("conversion_from_previous"),
            (pl.col("previous_users") - pl.col("users")).alias("drop_off"),
            ratio(pl.col("previous_users") - pl.col("users"), pl.col("previous_users")).alias("drop_off_rate"),
        )
    )
    return finish(frame, segment, FUNNEL_COLUMNS, keys=2)


def funnel_attempts(
    reader: Reader,
    workspace: Workspace,
    steps: list[str],
    window_days: float,
    period: Period,
    segment: Segment,
) -> pl.DataFrame:
    """One row per attempt: grp, user_key, day (local day of its step-1 event), reached (steps
    reached, >= 1), t_0 .. t_{n-1} (the time of each step's event, null beyond ``reached``)."""
    window = dt.timedelta(days=window_days)
    events = run(
        reader,
        "metric_funnel_events",
        {"events": funnel_events(workspace, steps, segment)},
        steps=steps,
        start=period.start,
        end=period.end,
        # Whole days past the period: a window of 1.9 days read 1 more and missed steps (QA).
        reach_days=math.ceil(window_days) + 2,
    ).with_columns(
        pl.col("t").dt.replace_time_zone("UTC").dt.convert_time_zone(workspace.timezone).dt.date().alias("day")
    )
    if workspace.last_day is not None:
        # Not past the last day shown (today at the latest): a purchase dated after today
        # converted a sign-up the page's source line says it leaves out (QA).
        events = events.filter(pl.col("day") <= workspace.last_day)
    events = events.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("seq"))  # rows in the global order
    # The first seq of each user's instant: a next step may be any event "at or after" the one
    # before, so one at the same instant counts even if it sorts before it (a repeated step's
    # name sorts by its first position: in view > signup > view, the view at the sign-up's instant
    # comes first and was missed).
    new_instant = (pl.col("user_key") != pl.col("user_key").shift()) | (pl.col("t") != pl.col("t").shift())
    events = events.with_columns(
        pl.when(new_instant.fill_null(True)).then(pl.col("seq")).forward_fill().alias("instant")
    )
    attempts = (
        events.filter(pl.col("event") == steps[0], pl.col("day").is_between(period.start, period.end))
        .select("grp", "user_key", "day", "seq", pl.col("t").alias("t_0"), "instant")
        .with_row_index("attempt")
    )
    # `front` holds the attempts still going: when they started, the instant of their last step's
    # event and the seq of each step's event (s_j).
    front = attempts.select("attempt", "user_key", pl.col("t_0").alias("start"), "instant", pl.col("seq").alias("s_0"))
    attempts = attempts.drop("instant")
    for index, step in enumerate(steps[1:], start=1):
        if front.height == 0:
            attempts = attempts.with_columns(pl.lit(None, pl.Datetime("us")).alias(f"t_{index}"))
            continue
        candidates = events.filter(pl.col("event") == step).select(
            "user_key", pl.col("seq").alias("next_seq"), pl.col("t").alias("next_t"), pl.col("instant").alias("next")
        )
        joined = _next_unused(front, candidates, [f"s_{j}" for j in range(index) if steps[j] == step])
        joined = joined.filter(pl.col("next_t").is_not_null() & (pl.col("next_t") <= pl.col("start") + window))
        attempts = attempts.join(
            joined.select("attempt", pl.col("next_t").alias(f"t_{index}")), on="attempt", how="left"
        )
        front = joined.drop("instant", "next_t").rename({"next_seq": f"s_{index}", "next": "instant"})
    times = [f"t_{i}" for i in range(len(steps))]
    reached = pl.sum_horizontal(pl.col(c).is_not_null().cast(pl.Int64) for c in times)
    return attempts.with_columns(reached.alias("reached")).select("grp", "user_key", "day", "seq", "reached", *times)


def _next_unused(front: pl.DataFrame, candidates: pl.DataFrame, used: list[str]) -> pl.DataFrame:
    """Each attempt of ``front`` joined to the first of ``candidates`` (this step's events) at or
    after its previous step's instant that it has not used for an earlier step of the same name
    (``used``: those steps' seq columns; each event serves one step). A used event found is
    stepped over, and the search goes on after it: starting after the last used event instead
    passed over an unused one at the same instant before it (view > signup > view, two views and
    the sign-up at one instant: the attempt of the second view found no third step, and a
    breakdown by the views' values lost that group's conversion)."""
    pending = front.with_columns(pl.col("instant").alias("key"))
    found = []
    for _ in range(len(used) + 1):  # each turn steps over one used event at most
        joined = pending.sort("key").join_asof(
            candidates, left_on="key", right_on="next_seq", by="user_key", strategy="forward", check_sortedness=False
        )
        if not used:
            return joined.drop("key")
        clash = pl.any_horizontal([pl.col("next_seq") == pl.col(c) for c in used]).fill_null(False)
        found.append(joined.filter(~clash).drop("key"))
        pending = joined.filter(clash).select(*front.columns, (pl.col("next_seq") + 1).alias("key"))
    return pl.concat(found)
