"""Roadmap health: progress, schedule, slip and forecast of each item, from stacked snapshots.

The input is ``canonical.ROADMAP_COLUMNS`` plus ``snapshot_date``: every roadmap file loaded is a
dated snapshot, and the history across snapshots gives baselines, slip, burn rate and forecasts.

How each number is computed, as of a date:

- The current snapshot is, for each source, its latest snapshot on or before the date (a Jira
  export from Monday and a Linear export from Wednesday are both current on Thursday).
- progress: done items are 1. Otherwise the progress the source states; else the done estimate
  divided by the total estimate of the units of its subtree; else done leaves over all leaves
  (leaves: items without children that are not cancelled). A unit is an item with an estimate
  whose points are not split among its children (split: every live child has a positive
  estimate of its own), with nothing below a unit counted for the items above it: a story's
  points count, not its sub-tasks' (Jira leaves them without points, or gives some of them a
  few, or 0). A unit is done as far as its own progress goes (its done leaves over its leaves
  when it states none). Work without points beside work with points (the highest items with no
  unit in or above them whose parent has units below it) counts, item by item, as the mean
  estimate of its parent's units with points, as far along as its own progress. A leaf counts as
  1 if done, else its stated progress, else 0, in its parents' progress; the own progress of a
  begun one (in progress) is unknown then (no schedule index: judged by its dates, slip and
  blockers). Work under a done item counts as done for it and every item above it (each item
  below keeps its own progress). Cancelled
  items, and everything below them, count for nothing in their parents' progress.
- time_elapsed = (as_of - start) / (due - start), clamped to 0..1; unknown without both dates.
- schedule_index = progress / time_elapsed; unknown while no time has elapsed.
- baseline_due_date: stated, else the first due date the item had in any snapshot up to as_of.
  slip_days = due_date - baseline_due_date.
- burn rate: progress gained per day between the oldest and newest of the item's last three
  snapshots, or of its snapshots of the last 14 days when those are more (daily exports); when that is negative (progress taken back) or there is one snapshot, progress per
  day since the start date. A begun, unfinished item with no progress over those snapshots is
  stalled: no forecast (it never finishes at that rate), and off track. forecast_date = as_of +
  remaining progress / burn rate (null without progress, or when that is more than ten years away). forecast_optimistic and forecast_pessimistic use the fastest and
  the slowest rate seen between two consecutive snapshots (pessimistic is null if the slowest
  rate is no progress at all). Done items are forecast at their completed date.
- health, first rule that holds:
  cancelled   the item is cancelled;
  done        the item is done;
  late        as_of is after the due date (on the due date itself it is not late yet);
  off_track   schedule_index < off_track_below (0.75), or the burn-rate forecast is later than the
              due date by more than slip_tolerance (10%) of the planned duration or is beyond ten
              years (a forecast from
              progress since the start restates the schedule index, so only snapshots count here),
              or the item is stalled;
  at_risk     schedule_index < at_risk_below (0.9), or the forecast is after the due date (or
              beyond ten years), or slip_days > slip_tolerance of the planned duration (any slip
              without a start date, or with a start after the due date);
  not_started no progress, the start date is after as_of or unknown, and the status is not
              in progress;
  on_track    otherwise.
- health_disagrees: the declared health is rosier than the computed one (declared on_track, computed
  at_risk, off_track or late; declared at_risk, computed off_track or late), or gloomier by two
  steps (declared off_track, computed on_track).
- blocker_conflict: the item is open (not done or cancelled) and a blocker that is not done or
  cancelled ends (the latest of its due date, its forecast and as_of, since an open item has not
  ended yet) after this item starts.
- objective_id: stated, else the nearest ancestor's, else the nearest ancestor that is an objective;
  through a cancelled ancestor only to a done item (open work under it counts for nothing).

Example:
    >>> from datetime import date
    >>> health = item_health(snapshots, date(2026, 3, 13))  # doctest: +SKIP
    >>> health.select("item_id", "progress", "health", "reason")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import polars as pl

from pmkit.formatting import format_date

KEY = ["snapshot_date", "item_id"]
MAX_DEPTH = 32  # deeper parent chains are a cycle in the data, not a roadmap
RECENT_SNAPSHOTS = 3
# The recent burn rate looks back at least this far: three daily snapshots are two days, and an
# epic 60% done at half its time went "off track, no progress: it never finishes" over a weekend
# (QA: one flipped six times in two weeks). Three weekly snapshots already cover it.
RECENT_DAYS = 14
MAX_FORECAST_DAYS = 3650
HEALTH_ORDER = ("late", "off_track", "at_risk", "on_track", "not_started", "done")  # worst first
RANK = {"on_track": 0, "at_risk": 1, "off_track": 2, "late": 3}  # how bad a declarable health is

ITEM_HEALTH_COLUMNS: dict[str, pl.DataType] = {
    "item_id": pl.String(),
    "title": pl.String(),
    "item_type": pl.String(),
    "parent_id": pl.String(),
    "objective_id": pl.String(),
    "metric": pl.String(),
    "owner": pl.String(),
    "team": pl.String(),
    "status": pl.String(),
    "status_category": pl.String(),
    "start_date": pl.Date(),
    "due_date": pl.Date(),
    "baseline_due_date": pl.Date(),
    "completed_date": pl.Date(),
    "estimate": pl.Float64(),
    "progress": pl.Float64(),
    "time_elapsed": pl.Float64(),
    "schedule_index": pl.Float64(),
    "slip_days": pl.Int64(),
    "forecast_date": pl.Date(),
    "forecast_optimistic": pl.Date(),
    "forecast_pessimistic": pl.Date(),
    "health": pl.String(),
    "declared_health": pl.String(),
    "health_disagrees": pl.Boolean(),
    "blocked_by": pl.String(),
    "blocker_conflict": pl.Boolean(),
    "reason": pl.String(),
    "source": pl.String(),
    "snapshot_date": pl.Date(),
}


@dataclass(frozen=True)
class Thresholds:
    """Where health changes; fractions (of the schedule index, or of an item's planned duration)."""

    at_risk_below: float = 0.9
    off_track_below: float = 0.75
    slip_tolerance: float = 0.10


def item_health(snapshots: pl.DataFrame, as_of: date, thresholds: Thresholds = Thresholds()) -> pl.DataFrame:
    """One row per item of the current snapshot (see the module docstring), ITEM_HEALTH_COLUMNS.

    >>> item_health(snapshots, date(2026, 3, 13)).filter(item_id="ON-1")["progress"].item()  # doctest: +SKIP
    0.375
    """
    history = snapshots.filter(pl.col("snapshot_date") <= as_of)
    if history.is_empty():
        return pl.DataFrame(schema=ITEM_HEALTH_COLUMNS)
    progress = progress_by_snapshot(history)
    current = (
        history.filter(pl.col("snapshot_date") == pl.col("snapshot_date").max().over("source"))
        .unique("item_id", keep="first", maintain_order=True)
        .with_row_index("file_order")
    )
    current = current.drop("progress").join(progress.select(*KEY, "progress"), on=KEY, how="left")
    first_due = (
        history.filter(pl.col("due_date").is_not_null())
        .sort("snapshot_date")
        .group_by("item_id")
        .agg(pl.col("due_date").first().alias("first_due_date"))
    )
    items = (
        current.join(first_due, on="item_id", how="left")
        .join(_burn_rates(progress.join(current.select("item_id"), on="item_id", how="semi")), on="item_id", how="left")
        .with_columns(pl.coalesce("baseline_due_date", "first_due_date").alias("baseline_due_date"))
    )
    items = _with_objectives(items)
    items = _with_schedule(items, as_of, thresholds)
    items = _with_blocker_conflicts(items, as_of)
    reasons = [_reason(row, as_of) for row in items.iter_rows(named=True)]
    items = items.with_columns(pl.Series("reason", reasons, dtype=pl.String))
    return items.sort("file_order").select([pl.col(name).cast(dtype) for name, dtype in ITEM_HEALTH_COLUMNS.items()])


def progress_by_snapshot(snapshots: pl.DataFrame) -> pl.DataFrame:
    """Per snapshot and item: progress, and the sums it comes from (done_points and total_points
    over the units, done_count and total_count over the leaves; see the module docstring).
    Cancelled items have only stated progress.

    >>> progress_by_snapshot(snapshots).filter(item_id="ON-1")  # doctest: +SKIP
    """
    category = pl.col("status_category")
    stated = pl.col("progress").clip(0, 1)
    # How far an item that counts on its own is (a unit, or work without points): done, else
    # as it states, else its done leaves over its leaves (``counts``).
    own_progress = (
        pl.when(category == "done")
        .then(1.0)
        .when(stated.is_not_null())
        .then(stated)
        .when(pl.col("total_count") > 0)
        .then(pl.col("done_count") / pl.col("total_count"))
        .otherwise(0.0)
    )
    live = snapshots.filter(category.ne_missing("cancelled")).unique(KEY, keep="first")
    with_children = live.select("snapshot_date", pl.col("parent_id").alias("item_id")).drop_nulls().unique()
    leaves = live.join(with_children, on=KEY, how="anti").select(
        "snapshot_date",
        pl.col("item_id").alias("leaf_id"),
        pl.when(category == "done").then(1.0).otherwise(stated.fill_null(0.0)).alias("leaf_progress"),
    )
    # Links between live items only: a cancelled parent cuts its subtree off from the items above.
    links = (
        live.select("snapshot_date", pl.col("item_id").alias("child"), pl.col("parent_id").alias("item_id"))
        .drop_nulls("item_id")
        .join(live.select(KEY), on=KEY, how="semi")
    )
    # Every live item with each of its ancestors, itself included, and how many levels up.
    pairs = live.select("snapshot_date", pl.col("item_id").alias("member_id"), "item_id", pl.lit(0).alias("up"))
    level = pairs
    for _ in range(MAX_DEPTH):
        level = level.join(
            links, left_on=["snapshot_date", "item_id"], right_on=["snapshot_date", "child"], suffix="_parent"
        ).select("snapshot_date", "member_id", pl.col("item_id_parent").alias("item_id"), pl.col("up") + 1)
        if level.is_empty():
            break
        pairs = pl.concat([pairs, level])
    pairs = pairs.group_by("snapshot_date", "member_id", "item_id").agg(pl.col("up").min())  # a cycle: the nearest
    # Work under a done item is done for that item and every item above it: an epic closed with
    # its stories left open (as Jira teams do) counted them as open, and its initiative read 0%
    # beside it at 100% (roadmap QA). Below the done item, each keeps its own progress.
    done_at = (
        pairs.filter(pl.col("up") > 0)
        .join(live.filter(category == "done").select(KEY), on=KEY, how="semi")
        .group_by("snapshot_date", "member_id")
        .agg(pl.col("up").min().alias("done_at"))
    )

    def done_above(progress: str) -> pl.Expr:
        return pl.when(pl.col("up") >= pl.col("done_at")).then(1.0).otherwise(pl.col(progress)).alias(progress)

    pairs = pairs.join(done_at, on=["snapshot_date", "member_id"], how="left")
    counts = (
        pairs.join(leaves, left_on=["snapshot_date", "member_id"], right_on=["snapshot_date", "leaf_id"])
        .with_columns(done_above("leaf_progress"))
        .group_by(KEY)
        .agg(
            pl.col("leaf_progress").sum().alias("done_count"),
            pl.len().cast(pl.Float64).alias("total_count"),
        )
    )
    # Points are counted on units: items with an estimate whose points are not split among their
    # children (split: every live child has points of its own). A story's points count, not its
    # sub-tasks' (Jira leaves them without any, or gives a few of them some, or 0); an epic over a
    # 6-point story with half its sub-tasks done read 100% from its estimated leaves alone. Below a
    # unit nothing counts for the items above it; each unit is as far along as it says, else as
    # its leaves are.
    split = (
        links.join(live.select(*KEY, "estimate"), left_on=["snapshot_date", "child"], right_on=KEY)
        .group_by(KEY)
        .agg((pl.col("estimate") > 0).fill_null(False).all().alias("split"))
        .filter("split")
        .select(KEY)
    )
    units = (
        live.filter(pl.col("estimate").is_not_null())
        .join(split, on=KEY, how="anti")
        .join(counts, on=KEY, how="left")
        .select(
            "snapshot_date",
            pl.col("item_id").alias("member_id"),
            "estimate",
            own_progress.alias("unit_progress"),
        )
    )
    unit_ids = units.select("snapshot_date", pl.col("member_id").alias("item_id"))
    # Each unit's nearest unit above it, which hides it from the items above that one.
    covered_at = (
        pairs.filter(pl.col("up") > 0)
        .join(unit_ids, on=KEY, how="semi")
        .group_by("snapshot_date", "member_id")
        .agg(pl.col("up").min().alias("covered_at"))
    )
    counted = (
        pairs.join(units, on=["snapshot_date", "member_id"])
        .join(covered_at, on=["snapshot_date", "member_id"], how="left")
        .join(unit_ids.with_columns(pl.lit(True).alias("is_unit")), on=KEY, how="left")
        .filter(
            (pl.col("up") == 0)
            | (pl.col("is_unit").is_null() & (pl.col("covered_at").is_null() | (pl.col("up") < pl.col("covered_at"))))
        )
    )
    points = (
        counted.with_columns(done_above("unit_progress"))
        .group_by(KEY)
        .agg(
            (pl.col("unit_progress") * pl.col("estimate")).sum().alias("done_points"),
            pl.col("estimate").sum().alias("total_points"),
        )
    )
    # Work without points beside work with points: the highest items with no unit in or above
    # them whose parent has units below it ("loose" items: a story without an estimate, whatever
    # its sub-tasks). Each counts as the mean estimate of its parent's units (0-point ones left
    # out), as far along as its own progress, for its parent and every item above: an epic over a
    # done 3-point story and three open stories without estimates read 100% done (objectives QA),
    # now 25%. Weighed per item, not per leaf, and by its own parent's units, so a story's
    # sub-tasks do not multiply it and a parent's points are its children's sums (review).
    with_units_below = (
        pairs.filter(pl.col("up") > 0).join(unit_ids, left_on=["snapshot_date", "member_id"], right_on=KEY).select(KEY)
    ).unique()
    candidates = (
        live.select(*KEY)
        .join(unit_ids, on=KEY, how="anti")
        .join(with_units_below, on=KEY, how="anti")
        .join(covered_at.rename({"member_id": "item_id"}), on=KEY, how="anti")
    )
    parent_of = links.select("snapshot_date", pl.col("child").alias("item_id"), pl.col("item_id").alias("parent_id"))
    mean_points = (
        counted.filter((pl.col("up") > 0) & (pl.col("estimate") > 0))
        .group_by(KEY)
        .agg(pl.col("estimate").mean().alias("weight"))
    )
    # The mean of the nearest item above with units of positive points: its parent's, unless
    # those are all 0 points (then it weighed nothing anywhere, and the items above read 100%
    # with open work; re-review).
    nearest_mean = (
        pairs.filter(pl.col("up") > 0)
        .join(mean_points, on=KEY)
        .sort("up")
        .group_by("snapshot_date", "member_id")
        .agg(pl.col("weight").first())
        .rename({"member_id": "item_id"})
    )
    loose = (
        candidates.join(parent_of, on=KEY)
        .join(candidates.rename({"item_id": "parent_id"}), on=["snapshot_date", "parent_id"], how="anti")
        .join(nearest_mean, on=KEY)
        .join(live.select(*KEY, "status_category", "progress"), on=KEY, how="left")
        .join(counts, on=KEY, how="left")
        .select(
            "snapshot_date",
            pl.col("item_id").alias("member_id"),
            "weight",
            own_progress.alias("loose_progress"),
        )
    )
    added = (
        pairs.filter(pl.col("up") > 0)
        .join(loose, on=["snapshot_date", "member_id"])
        .with_columns(done_above("loose_progress"))
        .group_by(KEY)
        .agg(
            (pl.col("weight") * pl.col("loose_progress")).sum().alias("loose_done"),
            pl.col("weight").sum().alias("loose_points"),
        )
    )
    points = (
        points.join(added, on=KEY, how="left")
        .with_columns(pl.col("loose_done", "loose_points").fill_null(0.0))
        .select(
            *KEY,
            pl.col("done_points") + pl.col("loose_done"),
            pl.col("total_points") + pl.col("loose_points"),
        )
    )
    sums = counts.join(points, on=KEY, how="full", coalesce=True)
    # A begun leaf that states no progress has none to measure: its parents count it as 0 done,
    # but read as its own progress that 0 called every started Linear issue off track from its
    # first day ("0% done with 17% of the time gone"; QA). Unknown, it is judged by its dates.
    leaf_ids = leaves.select("snapshot_date", pl.col("leaf_id").alias("item_id"), pl.lit(True).alias("leaf"))
    return (
        snapshots.unique(KEY, keep="first")
        .select(*KEY, "status_category", "progress")
        .join(sums, on=KEY, how="left")
        .join(leaf_ids, on=KEY, how="left")
        .select(
            *KEY,
            pl.when(category == "done")
            .then(1.0)
            .when(stated.is_not_null() | (category == "cancelled"))
            .then(stated)
            .when(pl.col("leaf").fill_null(False) & (category == "in_progress"))
            .then(None)
            .when(pl.col("total_points") > 0)
            .then(pl.col("done_points") / pl.col("total_points"))
            .when(pl.col("total_count") > 0)
            .then(pl.col("done_count") / pl.col("total_count"))
            .alias("progress"),
            "done_points",
            "total_points",
            "done_count",
            "total_count",
        )
    )


def burn_up(snapshots: pl.DataFrame, item_id: str) -> pl.DataFrame:
    """Done and total scope of an item's subtree per snapshot: in estimate points when its leaves
    have estimates in any snapshot, else in item counts (``unit`` says which). In points, a
    snapshot from before the estimates keeps its row with done and total null: it was left out,
    and the chart began a week after the health's "no progress since" (roadmap QA).

    >>> burn_up(snapshots, "ON-1")  # doctest: +SKIP
    snapshot_date  done  total  unit
    2026-03-13     3.0   8.0    points
    """
    sums = progress_by_snapshot(snapshots).filter(pl.col("item_id") == item_id).sort("snapshot_date")
    in_points = bool((sums["total_points"].fill_null(0) > 0).any())
    done, total = ("done_points", "total_points") if in_points else ("done_count", "total_count")
    counted = pl.col(total).fill_null(0.0) > 0
    rows = sums.select(
        "snapshot_date",
        pl.when(counted).then(pl.col(done).fill_null(0.0)).alias("done"),
        pl.when(counted).then(pl.col(total)).alias("total"),
        pl.lit("points" if in_points else "items").alias("unit"),
    )
    return rows if in_points else rows.filter(pl.col("total").is_not_null())


def slip_history(snapshots: pl.DataFrame, item_id: str) -> pl.DataFrame:
    """The item's due date in each snapshot and its slip from the baseline (stated, else the first
    due date it had).

    >>> slip_history(snapshots, "ON-1")  # doctest: +SKIP
    snapshot_date  due_date    baseline_due_date  slip_days
    2026-03-01     2026-03-31  2026-03-31         0
    2026-03-08     2026-04-14  2026-03-31         14
    """
    rows = snapshots.filter(pl.col("item_id") == item_id).unique("snapshot_date", keep="first").sort("snapshot_date")
    first_due = rows["due_date"].drop_nulls()
    baseline = pl.lit(first_due[0] if len(first_due) else None, dtype=pl.Date)
    return rows.select(
        "snapshot_date",
        "due_date",
        pl.coalesce("baseline_due_date", baseline).alias("baseline_due_date"),
    ).with_columns((pl.col("due_date") - pl.col("baseline_due_date")).dt.total_days().alias("slip_days"))


def delivery_health(items_health: pl.DataFrame, objectives: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per objective_id, the worst health of its items (late > off_track > at_risk > on_track >
    not_started > done; cancelled items and the objective's own row left out), how many items
    have each health, and how many of the done ones were done after their due date
    (``items_done_late``). With ``objectives``, every objective gets a row (no items: health null).

    >>> delivery_health(item_health(snapshots, date(2026, 3, 13)))  # doctest: +SKIP
    objective_id  delivery_health  items  items_late  items_off_track ...
    """
    order = {health: rank for rank, health in enumerate(HEALTH_ORDER)}
    items = items_health.filter(
        pl.col("objective_id").is_not_null()
        & pl.col("item_type").ne_missing("objective")
        & pl.col("health").is_in(HEALTH_ORDER)
    )
    counts = [(pl.col("health") == health).sum().cast(pl.Int64).alias(f"items_{health}") for health in HEALTH_ORDER]
    summary = (
        items.group_by("objective_id")
        .agg(
            pl.col("health").replace_strict(order, return_dtype=pl.Int64).min().alias("worst"),
            pl.len().cast(pl.Int64).alias("items"),
            *counts,
            # Done, but after the due date: the delivery is done, not on time.
            (
                ((pl.col("health") == "done") & (pl.col("completed_date") > pl.col("due_date"))).sum()
                if {"completed_date", "due_date"} <= set(items.columns)
                else pl.lit(0)
            )
            .cast(pl.Int64)
            .alias("items_done_late"),
        )
        .with_columns(
            pl.col("worst")
            .replace_strict(dict(enumerate(HEALTH_ORDER)), return_dtype=pl.String)
            .alias("delivery_health")
        )
        .select("objective_id", "delivery_health", "items", *[f"items_{h}" for h in HEALTH_ORDER], "items_done_late")
    )
    if objectives is not None:
        every = objectives.select(pl.col("objective_id").cast(pl.String)).unique(maintain_order=True)
        summary = every.join(summary, on="objective_id", how="left").with_columns(
            pl.col("items", *[f"items_{h}" for h in HEALTH_ORDER], "items_done_late").fill_null(0)
        )
    return summary.sort("objective_id")


def _burn_rates(progress: pl.DataFrame) -> pl.DataFrame:
    """Per item: the recent burn rate (progress per day over its last three snapshots, or its
    snapshots of the last ``RECENT_DAYS`` days when those are more) and the fastest and slowest
    rate between two consecutive snapshots."""
    days = pl.col("snapshot_date").cast(pl.Int64)
    ordered = progress.select(*KEY, "progress").sort(KEY)
    from_end = pl.len().over("item_id") - pl.int_range(pl.len()).over("item_id")
    lately = pl.col("snapshot_date") >= pl.col("snapshot_date").max().over("item_id") - pl.duration(days=RECENT_DAYS)
    recent = (
        ordered.filter((from_end <= RECENT_SNAPSHOTS) | lately)
        .group_by("item_id")
        .agg(
            ((pl.col("progress").last() - pl.col("progress").first()) / (days.last() - days.first())).alias(
                "recent_rate"
            ),
            pl.len().alias("snapshots"),
            pl.col("snapshot_date").first().alias("recent_since"),
        )
        .with_columns(pl.when(pl.col("snapshots") > 1).then(pl.col("recent_rate")).alias("recent_rate"))
    )
    steps = ordered.with_columns(
        (pl.col("progress").diff().over("item_id") / days.diff().over("item_id")).alias("step_rate")
    ).filter(pl.col("step_rate").is_not_null() & pl.col("step_rate").is_finite())
    extremes = steps.group_by("item_id").agg(
        pl.col("step_rate").max().alias("fastest_rate"), pl.col("step_rate").min().alias("slowest_rate")
    )
    return recent.select("item_id", "recent_rate", "recent_since").join(extremes, on="item_id", how="left")


def climb(items: pl.DataFrame, stops: Iterable[str]) -> pl.DataFrame:
    """(item_id, stop, crossed) for each item whose parent chain meets one of ``stops``: the
    nearest one, and whether a cancelled item was met on the way there (the stop included).
    Chains longer than MAX_DEPTH (a cycle in the data) end there. Both what an item inherits
    (``_with_objectives``) and the container it counts in (``sources.roadmap_common``) follow it:
    open work under a cancelled item counts for neither."""
    stop_ids = list(stops)
    ancestors = items.select(
        pl.col("item_id").alias("_up"),
        pl.col("parent_id").alias("_next"),
        (pl.col("status_category") == "cancelled").fill_null(False).alias("_cancelled"),
    ).unique("_up", keep="first")
    walk = items.select("item_id", pl.col("parent_id").alias("_up"), pl.lit(False).alias("crossed"))
    found = [pl.DataFrame(schema={"item_id": pl.String, "stop": pl.String, "crossed": pl.Boolean})]
    for _ in range(MAX_DEPTH):
        walk = walk.filter(pl.col("_up").is_not_null())
        if walk.is_empty():
            break
        walk = walk.join(ancestors, on="_up", how="left").with_columns(
            (pl.col("crossed") | pl.col("_cancelled").fill_null(False)).alias("crossed")
        )
        at_stop = pl.col("_up").is_in(stop_ids)
        found.append(walk.filter(at_stop).select("item_id", pl.col("_up").alias("stop"), "crossed"))
        walk = walk.filter(~at_stop).select("item_id", pl.col("_next").alias("_up"), "crossed")
    return pl.concat(found).unique("item_id", keep="first")


def _with_objectives(items: pl.DataFrame) -> pl.DataFrame:
    """objective_id: stated, else inherited down the parent chain from the nearest ancestor that
    states one or is an objective. Through a cancelled item (the one stating it, or any on the
    way) it reaches only what was done: the open stories of an epic marked "Won't Do" made its
    objective's delivery late (QA), and a story shipped before its epic was cancelled still moved
    the objective's metric (review), at any depth below it (review)."""
    own = pl.coalesce("objective_id", pl.when(pl.col("item_type") == "objective").then(pl.col("item_id")))
    items = items.with_columns(own.alias("objective_id"))
    holders = items.filter(pl.col("objective_id").is_not_null()).select(
        pl.col("item_id").alias("stop"), pl.col("objective_id").alias("_found")
    )
    inherited = climb(items, holders["stop"]).join(holders.unique("stop", keep="first"), on="stop")
    done = pl.col("status_category") == "done"
    return (
        items.join(inherited.select("item_id", "_found", "crossed"), on="item_id", how="left")
        .with_columns(
            pl.coalesce(
                "objective_id", pl.when(~pl.col("crossed").fill_null(False) | done).then(pl.col("_found"))
            ).alias("objective_id")
        )
        .drop("_found", "crossed")
    )


def _with_schedule(items: pl.DataFrame, as_of: date, thresholds: Thresholds) -> pl.DataFrame:
    """time_elapsed, schedule_index, slip_days, the forecasts, health and health_disagrees."""
    today = pl.lit(as_of, dtype=pl.Date)
    duration = (pl.col("due_date") - pl.col("start_date")).dt.total_days()
    since_start = (today - pl.col("start_date")).dt.total_days()
    category = pl.col("status_category")
    items = items.with_columns(
        duration.alias("duration_days"),
        pl.when(duration > 0)
        .then((since_start / duration).clip(0, 1))
        .when(duration == 0)
        .then((since_start >= 0).cast(pl.Float64))
        .alias("time_elapsed"),
        (pl.col("due_date") - pl.col("baseline_due_date")).dt.total_days().alias("slip_days"),
        pl.when(since_start > 0).then(pl.col("progress") / since_start).alias("start_rate"),
    )
    remaining = 1 - pl.col("progress")
    # Begun, not finished, and no progress over its last snapshots: at that rate it never ends.
    # Progress since the start would forecast a date the snapshots say nothing is moving toward.
    stalled = (
        (pl.col("recent_rate") == 0)
        & pl.col("progress").is_between(0, 1, closed="none")
        & ~category.is_in(["done", "cancelled"])
    ).fill_null(False)
    items = items.with_columns(stalled.alias("stalled"))
    rate = (
        pl.when(pl.col("recent_rate") > 0)
        .then(pl.col("recent_rate"))
        .when((pl.col("start_rate") > 0) & ~pl.col("stalled"))
        .then(pl.col("start_rate"))
    )
    done_on = pl.col("completed_date")
    # A positive rate whose forecast is beyond ten years has no date, but is a late forecast: a
    # rate of 0.0001 a day read on track where no progress and faster progress read off track.
    beyond = (rate > 0) & (remaining.clip(0, None) / rate > MAX_FORECAST_DAYS) & ~category.is_in(["done", "cancelled"])
    items = items.with_columns(
        (pl.col("recent_rate") > 0).fill_null(False).alias("forecast_from_snapshots"),
        beyond.fill_null(False).alias("forecast_beyond"),
        # Rounded off the division's last bit: 0.6 / 0.8 was 0.7499999999999999, off track where
        # the rule is "below 0.75" (QA).
        pl.when(pl.col("time_elapsed") > 0)
        .then((pl.col("progress") / pl.col("time_elapsed")).round(12))
        .alias("schedule_index"),
        pl.when(category == "done").then(done_on).otherwise(_forecast(today, remaining, rate)).alias("forecast_date"),
        pl.when(category == "done")
        .then(done_on)
        .otherwise(_forecast(today, remaining, pl.col("fastest_rate")))
        .alias("forecast_optimistic"),
        pl.when(category == "done")
        .then(done_on)
        .otherwise(_forecast(today, remaining, pl.col("slowest_rate")))
        .alias("forecast_pessimistic"),
        # None for a start after the due date: the tolerance of a negative duration is below 0,
        # and a slip of 0 days counted as a slip.
        pl.when(pl.col("duration_days") >= 0)
        .then(thresholds.slip_tolerance * pl.col("duration_days"))
        .alias("tolerance_days"),
    )
    # Late only when the due date is within those ten years: one due in 2060 may well be met.
    beyond_due = pl.col("forecast_beyond") & (pl.col("due_date") <= today + pl.duration(days=MAX_FORECAST_DAYS))
    forecast_over = (pl.col("forecast_date") - pl.col("due_date")).dt.total_days()
    schedule = pl.col("schedule_index")
    no_progress = pl.col("progress").fill_null(0) <= 0
    health = (
        pl.when(category == "cancelled")
        .then(pl.lit("cancelled"))
        .when(category == "done")
        .then(pl.lit("done"))
        .when(today > pl.col("due_date"))
        .then(pl.lit("late"))
        .when(
            (schedule < thresholds.off_track_below)
            | (pl.col("forecast_from_snapshots") & ((forecast_over > pl.col("tolerance_days")) | beyond_due))
            | pl.col("stalled")
        )
        .then(pl.lit("off_track"))
        .when(
            (schedule < thresholds.at_risk_below)
            | (forecast_over > 0)
            | beyond_due
            | (pl.col("slip_days") > pl.col("tolerance_days").fill_null(0))
        )
        .then(pl.lit("at_risk"))
        .when(
            no_progress
            & (pl.col("start_date").is_null() | (pl.col("start_date") > today))
            & category.ne_missing("in_progress")  # the source says it has begun
        )
        .then(pl.lit("not_started"))
        .otherwise(pl.lit("on_track"))
    )
    items = items.with_columns(health.alias("health"))
    computed = pl.col("health").replace_strict(RANK, default=None, return_dtype=pl.Int64)
    declared = pl.col("declared_health").replace_strict(RANK, default=None, return_dtype=pl.Int64)
    disagrees = (computed > declared) | (declared - computed >= 2)
    return items.with_columns(disagrees.fill_null(False).alias("health_disagrees"))


def _forecast(today: pl.Expr, remaining: pl.Expr, rate: pl.Expr) -> pl.Expr:
    """today + remaining / rate days, rounded up (after rounding away float noise: 0.6 / (0.2 / 7)
    is 21.000000000000004 days, which is 21); null without a positive rate or beyond ten years."""
    days = (remaining.clip(0, None) / rate).round(6).ceil()
    usable = (rate > 0) & (days <= MAX_FORECAST_DAYS)
    return pl.when(usable).then(today + pl.duration(days=days.cast(pl.Int64)))


def _with_blocker_conflicts(items: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """blocker_conflict, and ``conflicting_blockers``: the open blockers that end after this item
    starts, as (id, end date, still open past its due date, undated) for the reason text. An open
    blocker ends on as_of at the earliest: one past its due date with no forecast (no progress to
    go by) was taken to end on its due date, and the item it held up was not flagged (roadmap QA).
    One with no due date nor forecast holds up an item that has started by then too, said as
    "still open, with no due date" (it was no conflict before)."""
    planned = pl.max_horizontal("due_date", "forecast_date")
    blockers = items.select(
        pl.col("item_id").alias("blocker_id"),
        pl.max_horizontal(planned, pl.lit(as_of)).alias("blocker_end"),
        (planned < pl.lit(as_of)).fill_null(False).alias("blocker_overdue"),
        planned.is_null().alias("blocker_undated"),
        pl.col("due_date").alias("blocker_due"),
        pl.col("status_category").alias("blocker_category"),
    )
    conflicts = (
        # A done or cancelled item waits for nothing: Jira and Linear keep "blocked by" links
        # after an issue is resolved, and a done one read "waits for B, which ends ..." (QA).
        items.filter(~pl.col("status_category").is_in(["done", "cancelled"]).fill_null(True))
        .select("item_id", "start_date", pl.col("blocked_by").str.split(",").alias("blocker_id"))
        .explode("blocker_id")
        .with_columns(pl.col("blocker_id").str.strip_chars())
        .join(blockers, on="blocker_id")
        .filter(
            ~pl.col("blocker_category").is_in(["done", "cancelled"]) & (pl.col("blocker_end") > pl.col("start_date"))
        )
        .group_by("item_id")
        .agg(
            pl.struct("blocker_id", "blocker_end", "blocker_overdue", "blocker_undated", "blocker_due").alias(
                "conflicting_blockers"
            )
        )
    )
    return items.join(conflicts, on="item_id", how="left").with_columns(
        pl.col("conflicting_blockers").is_not_null().alias("blocker_conflict")
    )


def _reason(row: Mapping[str, object], as_of: date) -> str:
    """Why the item has its health, in words a PM would use in a status meeting."""
    health = row["health"]
    progress, elapsed, due = row["progress"], row["time_elapsed"], row["due_date"]
    done_text = f"{progress:.0%} done" if progress is not None else "progress unknown"
    parts: list[str] = []
    if health == "cancelled":
        parts.append("cancelled")
    elif health == "done":
        completed = row["completed_date"]
        parts.append(f"done on {format_date(completed)}" if completed else "done")
        if completed and due and completed > due:
            parts.append(f"{_days((completed - due).days)} after its due date")
    elif health == "late":
        parts.append(f"due {format_date(due)}, {_days((as_of - due).days)} ago, {done_text}")
    elif health == "not_started":
        start = row["start_date"]
        parts.append(f"not started; starts {format_date(start)}" if start else "not started, and no start date")
    else:
        forecast, slip, tolerance = row["forecast_date"], row["slip_days"], row["tolerance_days"]
        late_forecast = forecast is not None and due is not None and forecast > due
        slipped = slip is not None and slip > (tolerance or 0)
        start = row["start_date"]
        if elapsed is not None and progress is None:
            parts.append(f"{elapsed:.0%} of the time gone; progress unknown (it states none and has no sub-items)")
        elif elapsed is not None:
            parts.append(f"{done_text} with {elapsed:.0%} of the time gone")
        elif start is not None and due is not None and start > due:
            parts.append(
                f"{done_text}; its start date ({format_date(start)}) is after its due date ({format_date(due)}): fix one of them"
            )
        else:
            # Which date is missing: "no start and due date" read as neither of an item due 30 Nov.
            missing = (
                "no start or due date"
                if start is None and due is None
                else "no start date"
                if start is None
                else "no due date"
            )
            parts.append(f"{done_text}; {missing} to compare the time gone against")
        if row.get("stalled"):
            # Its share done: work done as fast as scope was added (2 of 4, 3 of 6, 4 of 8 points)
            # read "no progress since", beside a burn-up of done work rising (QA).
            parts.append(
                f"its share done has not grown since {format_date(row['recent_since'])}: at that rate it never finishes"
            )
        if late_forecast:
            parts.append(
                f"forecast to finish {format_date(forecast)}, {_days((forecast - due).days)} after its due date"
            )
        elif row.get("forecast_beyond") and due is not None and (due - as_of).days <= MAX_FORECAST_DAYS:
            parts.append("at its rate it finishes more than ten years from now")
        if slipped:
            parts.append(f"slipped {_days(slip)} since the baseline")
    for blocker in row.get("conflicting_blockers") or []:
        if blocker.get("blocker_undated"):  # open, with no date to end by: it has not ended yet
            ends = "still open, with no due date"
        elif blocker.get("blocker_overdue"):
            ends = f"still open past its due date ({format_date(blocker['blocker_due'])})"
        else:
            ends = f"which ends {format_date(blocker['blocker_end'])}"
        parts.append(f"waits for {blocker['blocker_id']}, {ends}, after this starts ({format_date(row['start_date'])})")
    if row["health_disagrees"]:
        parts.append(f"declared {str(row['declared_health']).replace('_', ' ')}")
    return "; ".join(parts)


def _days(count: int) -> str:
    return f"{count} day" if abs(count) == 1 else f"{count} days"


__all__ = [
    "HEALTH_ORDER",
    "ITEM_HEALTH_COLUMNS",
    "Thresholds",
    "burn_up",
    "delivery_health",
    "item_health",
    "progress_by_snapshot",
    "slip_history",
]
