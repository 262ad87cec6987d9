"""Roadmap health on small snapshot histories whose numbers are worked out by hand in each test."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pmkit.canonical import ROADMAP_COLUMNS
from pmkit.roadmap import (
    ITEM_HEALTH_COLUMNS,
    Thresholds,
    burn_up,
    delivery_health,
    item_health,
    progress_by_snapshot,
    slip_history,
)

SNAPSHOT_COLUMNS = {**ROADMAP_COLUMNS, "snapshot_date": pl.Date()}


def snapshot(day: date, *items: dict) -> pl.DataFrame:
    """One snapshot: each item a dict of canonical columns; unset ones are null, status in_progress."""
    defaults = {"item_type": "issue", "status_category": "in_progress", "source": "pmkit", "title": None}
    rows = [{**defaults, **item, "snapshot_date": day} for item in items]
    return pl.DataFrame(
        [{name: row.get(name) for name in SNAPSHOT_COLUMNS} for row in rows], schema=SNAPSHOT_COLUMNS, orient="row"
    )


def history(*snapshots: pl.DataFrame) -> pl.DataFrame:
    return pl.concat(snapshots)


def health_of(frame: pl.DataFrame, item_id: str) -> dict:
    return frame.filter(item_id=item_id).row(0, named=True)


# --- progress -------------------------------------------------------------------------------


def test_progress_rolls_up_points_over_leaves_and_skips_cancelled_subtrees():
    """I -> E (S1 done 3, S2 todo 5, S3 cancelled 8, S4 half done 2), E2 (T1 done, T2 todo; no points),
    E3 cancelled (S5 done 100).
    E  = (3 + 0 + 0.5 * 2) / (3 + 5 + 2) = 0.4
    E2 = 1 / 2 leaves = 0.5
    I  = E's points, and E2, work without points, as one item of the mean of I's units (10 / 3),
         half done: (4 + 10/3 * 0.5) / (10 + 10/3) = 0.425 (E3's subtree counts for nothing). It
         was the points alone, 4 / 10 = 0.4, with E2's work left out (objectives QA)."""
    day = date(2026, 3, 1)
    snapshots = snapshot(
        day,
        {"item_id": "I", "item_type": "initiative"},
        {"item_id": "E", "parent_id": "I", "item_type": "epic"},
        {"item_id": "S1", "parent_id": "E", "status_category": "done", "estimate": 3.0},
        {"item_id": "S2", "parent_id": "E", "status_category": "todo", "estimate": 5.0},
        {"item_id": "S3", "parent_id": "E", "status_category": "cancelled", "estimate": 8.0},
        {"item_id": "S4", "parent_id": "E", "progress": 0.5, "estimate": 2.0},
        {"item_id": "E2", "parent_id": "I", "item_type": "epic"},
        {"item_id": "T1", "parent_id": "E2", "status_category": "done"},
        {"item_id": "T2", "parent_id": "E2", "status_category": "todo"},
        {"item_id": "E3", "parent_id": "I", "item_type": "epic", "status_category": "cancelled"},
        {"item_id": "S5", "parent_id": "E3", "status_category": "done", "estimate": 100.0},
    )
    progress = dict(progress_by_snapshot(snapshots).select("item_id", "progress").iter_rows())
    assert progress["E"] == pytest.approx(0.4)
    assert progress["E2"] == pytest.approx(0.5)
    assert progress["I"] == pytest.approx(0.425)
    assert (progress["S1"], progress["S2"], progress["S4"], progress["T2"]) == (1.0, 0.0, 0.5, 0.0)
    assert progress["S3"] is None and progress["E3"] is None


def test_work_under_a_done_item_is_done_for_the_items_above_it():
    """Roadmap QA: an epic closed with its stories left open (as Jira teams do) read 100% while
    its initiative counted those stories as open work: 0% by counts and by points.
    I3 -> EX (done; X1, X2 open) and EY (open): leaves X1, X2, EY, two of them done for I3: 2 / 3.
    I4 -> EP (done; P1 3 points, P2 2 points, open) and EQ (5 points, open): 5 / 10.
    S -> D (done) -> M (open) -> M1 (done), M2 (open): S is 1.0, but below the done item each
    keeps its own progress: M is 1 / 2, M2 is 0."""
    day = date(2026, 3, 1)
    snapshots = snapshot(
        day,
        {"item_id": "I3", "item_type": "initiative"},
        {"item_id": "EX", "parent_id": "I3", "item_type": "epic", "status_category": "done"},
        {"item_id": "X1", "parent_id": "EX", "status_category": "todo"},
        {"item_id": "X2", "parent_id": "EX", "status_category": "todo"},
        {"item_id": "EY", "parent_id": "I3", "item_type": "epic", "status_category": "todo"},
        {"item_id": "I4", "item_type": "initiative"},
        {"item_id": "EP", "parent_id": "I4", "item_type": "epic", "status_category": "done"},
        {"item_id": "P1", "parent_id": "EP", "status_category": "todo", "estimate": 3.0},
        {"item_id": "P2", "parent_id": "EP", "status_category": "todo", "estimate": 2.0},
        {"item_id": "EQ", "parent_id": "I4", "item_type": "epic", "status_category": "todo", "estimate": 5.0},
        {"item_id": "S", "item_type": "initiative"},
        {"item_id": "D", "parent_id": "S", "item_type": "epic", "status_category": "done"},
        {"item_id": "M", "parent_id": "D", "status_category": "todo"},
        {"item_id": "M1", "parent_id": "M", "status_category": "done"},
        {"item_id": "M2", "parent_id": "M", "status_category": "todo"},
    )
    progress = dict(progress_by_snapshot(snapshots).select("item_id", "progress").iter_rows())
    assert progress["I3"] == pytest.approx(2 / 3)
    assert progress["I4"] == pytest.approx(0.5)
    assert progress["S"] == pytest.approx(1.0)
    assert (progress["EX"], progress["EP"], progress["D"]) == (1.0, 1.0, 1.0)
    assert progress["M"] == pytest.approx(0.5)
    assert (progress["X1"], progress["P1"], progress["M2"]) == (0.0, 0.0, 0.0)


def test_work_without_points_beside_work_with_points_counts_at_their_mean():
    """EP over S1 (3 points, done) and S2-S4 without estimates, open: 100% done, on track,
    forecast today (objectives QA). Each of S2-S4 counts as the 3 points of the mean unit:
    3 / 12 = 0.25; with S2 done, 6 / 12 = 0.5. An epic whose stories all have points is as before:
    F over U1 (2, done) and U2 (6, open) = 2 / 8."""
    day = date(2026, 10, 15)
    rows = [
        {"item_id": "EP", "item_type": "epic"},
        {"item_id": "S1", "parent_id": "EP", "status_category": "done", "estimate": 3.0},
        {"item_id": "S2", "parent_id": "EP", "status_category": "todo"},
        {"item_id": "S3", "parent_id": "EP", "status_category": "in_progress"},
        {"item_id": "S4", "parent_id": "EP", "status_category": "todo"},
        {"item_id": "F", "item_type": "epic"},
        {"item_id": "U1", "parent_id": "F", "status_category": "done", "estimate": 2.0},
        {"item_id": "U2", "parent_id": "F", "status_category": "todo", "estimate": 6.0},
    ]
    sums = progress_by_snapshot(snapshot(day, *rows))
    epic = sums.filter(item_id="EP").row(0, named=True)
    assert (epic["progress"], epic["done_points"], epic["total_points"]) == (pytest.approx(0.25), 3.0, 12.0)
    assert sums.filter(item_id="F")["progress"].item() == pytest.approx(0.25)
    rows[2] = {**rows[2], "status_category": "done"}
    assert progress_by_snapshot(snapshot(day, *rows)).filter(item_id="EP")["progress"].item() == pytest.approx(0.5)


def test_work_without_points_counts_per_item_and_parents_sum_their_children():
    """Review of the first rule (each leaf at the mean of the item asked about):
    a) EP over S1 (3, done) and S2 (no points, 4 open sub-tasks): 3 / (3 + 3) = 0.5, not 3 / 15;
    b) I over A (S1 1 point done, and 4 done leaves without points: 5 / 5) and B (two open
       10-point stories: 0 / 20): I = 5 / 25 = 0.2, its children's sums, not 29 / 49;
    c) a 0-point story is left out of the mean: EP2 over U (5, done), Z (0, open), L (open,
       no points): (5 + 0) / (5 + 0 + 5) = 0.5."""
    day = date(2026, 10, 15)
    rows = [
        {"item_id": "EP", "item_type": "epic"},
        {"item_id": "S1", "parent_id": "EP", "status_category": "done", "estimate": 3.0},
        {"item_id": "S2", "parent_id": "EP", "status_category": "in_progress"},
        *({"item_id": f"T{n}", "parent_id": "S2", "status_category": "todo"} for n in range(4)),
        {"item_id": "I", "item_type": "initiative"},
        {"item_id": "A", "parent_id": "I", "item_type": "epic"},
        {"item_id": "A1", "parent_id": "A", "status_category": "done", "estimate": 1.0},
        *({"item_id": f"A{n}", "parent_id": "A", "status_category": "done"} for n in range(2, 6)),
        {"item_id": "B", "parent_id": "I", "item_type": "epic"},
        {"item_id": "B1", "parent_id": "B", "status_category": "todo", "estimate": 10.0},
        {"item_id": "B2", "parent_id": "B", "status_category": "todo", "estimate": 10.0},
        {"item_id": "EP2", "item_type": "epic"},
        {"item_id": "U", "parent_id": "EP2", "status_category": "done", "estimate": 5.0},
        {"item_id": "Z", "parent_id": "EP2", "status_category": "todo", "estimate": 0.0},
        {"item_id": "L", "parent_id": "EP2", "status_category": "todo"},
    ]
    sums = progress_by_snapshot(snapshot(day, *rows))
    row = {r["item_id"]: r for r in sums.iter_rows(named=True)}
    assert row["EP"]["progress"] == pytest.approx(0.5)
    assert (row["A"]["done_points"], row["A"]["total_points"]) == (5.0, 5.0)
    assert (row["B"]["done_points"], row["B"]["total_points"]) == (0.0, 20.0)
    assert (row["I"]["done_points"], row["I"]["total_points"]) == (5.0, 25.0)
    assert row["I"]["progress"] == pytest.approx(0.2)
    assert row["EP2"]["progress"] == pytest.approx(0.5)


def test_work_without_points_under_zero_point_items_takes_the_nearest_mean_above():
    """P's only estimated item is a 0-point story: its open story without points weighed nothing
    anywhere, and the initiative above read 100% (re-review). It takes the mean of the nearest
    item above with points: J over P (Z 0 points done, L open without points) and Q (V 4, done):
    J = (0 + 4) / (0 + 4 + 4) = 0.5."""
    day = date(2026, 10, 15)
    rows = [
        {"item_id": "J", "item_type": "initiative"},
        {"item_id": "P", "parent_id": "J", "item_type": "epic"},
        {"item_id": "Z", "parent_id": "P", "status_category": "done", "estimate": 0.0},
        {"item_id": "L", "parent_id": "P", "status_category": "todo"},
        {"item_id": "Q", "parent_id": "J", "item_type": "epic"},
        {"item_id": "V", "parent_id": "Q", "status_category": "done", "estimate": 4.0},
    ]
    sums = {r["item_id"]: r for r in progress_by_snapshot(snapshot(day, *rows)).iter_rows(named=True)}
    assert (sums["J"]["done_points"], sums["J"]["total_points"]) == (4.0, 8.0)
    assert sums["J"]["progress"] == pytest.approx(0.5)


def test_points_are_counted_on_the_lowest_estimated_items_as_in_jira():
    """Jira puts story points on stories, none on their sub-tasks. EP-1: ST-1 done (2 points), ST-2
    (6 points, to do) with sub-tasks SUB-1 done and SUB-2 to do, so ST-2 is 1 / 2 = 0.5 along by
    count; EP-1 = (2 * 1 + 6 * 0.5) / 8 = 0.625, and the initiative above it the same. Only the
    estimated leaves were counted before: ST-1 alone, so EP-1 read 2 / 2 = 100% (roadmap QA).
    EP-2's story states 0.25 and every child of it has points: theirs count, not its."""
    day = date(2026, 10, 15)
    snapshots = snapshot(
        day,
        {"item_id": "IN-1", "item_type": "initiative"},
        {"item_id": "EP-1", "parent_id": "IN-1", "item_type": "epic"},
        {"item_id": "ST-1", "parent_id": "EP-1", "status_category": "done", "estimate": 2.0},
        {"item_id": "ST-2", "parent_id": "EP-1", "status_category": "todo", "estimate": 6.0},
        {"item_id": "SUB-1", "parent_id": "ST-2", "status_category": "done"},
        {"item_id": "SUB-2", "parent_id": "ST-2", "status_category": "todo"},
        {"item_id": "EP-2", "item_type": "epic"},
        {"item_id": "ST-3", "parent_id": "EP-2", "progress": 0.25, "estimate": 8.0},
        {"item_id": "T-1", "parent_id": "ST-3", "status_category": "done", "estimate": 1.0},
        {"item_id": "T-2", "parent_id": "ST-3", "status_category": "todo", "estimate": 3.0},
    )
    sums = progress_by_snapshot(snapshots)
    progress = dict(sums.select("item_id", "progress").iter_rows())
    assert progress["ST-2"] == pytest.approx(0.5)
    assert progress["EP-1"] == pytest.approx(0.625)
    assert progress["IN-1"] == pytest.approx(0.625)
    assert (progress["ST-3"], progress["EP-2"]) == (0.25, pytest.approx(0.25))  # T-1: 1 of 1 + 3 points
    assert burn_up(snapshots, "EP-1").row(0) == (day, 5.0, 8.0, "points")
    assert burn_up(snapshots, "ST-2").row(0) == (day, 3.0, 6.0, "points")


def test_a_storys_points_are_split_only_when_every_child_has_points_of_its_own():
    """S2 (8 points) has sub-tasks T1 (1 point, done), T2 and T3 (none, to do): the 1 point does not
    stand for the story, so S2 counts its 8 points at 1 / 3 done; E1 = (8 + 8 / 3) / 16 = 2 / 3.
    Taken as the lowest estimated item, T1 alone made S2 and E1 read 100% (review QA). S4 (5
    points) has one sub-task of 0 points, to do: S4 is 0 done, not split into 0 points. E3's
    children all have points: E3's own 10 are split among them, (2 * 1 + 3 * 0) / 5 = 0.4."""
    day = date(2026, 11, 20)
    snapshots = snapshot(
        day,
        {"item_id": "E1", "item_type": "epic"},
        {"item_id": "S1", "parent_id": "E1", "status_category": "done", "estimate": 8.0},
        {"item_id": "S2", "parent_id": "E1", "estimate": 8.0},
        {"item_id": "T1", "parent_id": "S2", "status_category": "done", "estimate": 1.0},
        {"item_id": "T2", "parent_id": "S2", "status_category": "todo"},
        {"item_id": "T3", "parent_id": "S2", "status_category": "todo"},
        {"item_id": "E2", "item_type": "epic"},
        {"item_id": "S3", "parent_id": "E2", "status_category": "done", "estimate": 5.0},
        {"item_id": "S4", "parent_id": "E2", "estimate": 5.0},
        {"item_id": "T4", "parent_id": "S4", "status_category": "todo", "estimate": 0.0},
        {"item_id": "E3", "item_type": "epic", "estimate": 10.0},
        {"item_id": "S5", "parent_id": "E3", "status_category": "done", "estimate": 2.0},
        {"item_id": "S6", "parent_id": "E3", "status_category": "todo", "estimate": 3.0},
    )
    progress = dict(progress_by_snapshot(snapshots).select("item_id", "progress").iter_rows())
    assert progress["S2"] == pytest.approx(1 / 3)
    assert progress["E1"] == pytest.approx(2 / 3)
    assert (progress["S4"], progress["E2"]) == (0.0, pytest.approx(0.5))
    assert progress["E3"] == pytest.approx(0.4)
    assert burn_up(snapshots, "E1").row(0) == (day, pytest.approx(8 + 8 / 3), 16.0, "points")


def test_stated_progress_wins_and_done_is_complete():
    day = date(2026, 3, 1)
    snapshots = snapshot(
        day,
        {"item_id": "E", "item_type": "epic", "progress": 0.9},
        {"item_id": "S1", "parent_id": "E", "status_category": "todo", "estimate": 3.0},
        {"item_id": "F", "item_type": "epic", "status_category": "done", "progress": 0.5},
        {"item_id": "S2", "parent_id": "F", "status_category": "todo"},
    )
    progress = dict(progress_by_snapshot(snapshots).select("item_id", "progress").iter_rows())
    assert (progress["E"], progress["F"]) == (0.9, 1.0)


# --- schedule, health and reason --------------------------------------------------------------

PLAN = {"start_date": date(2026, 3, 1), "due_date": date(2026, 4, 20)}  # 50 days


def test_time_elapsed_schedule_index_and_reason_on_track():
    """13 of 50 days gone (0.26) and 62% done: schedule index 0.62 / 0.26 = 2.3846.
    Forecast from progress since the start: 0.38 left at 0.62 / 13 a day = 7.97, so 8 days."""
    as_of = date(2026, 3, 14)
    row = health_of(item_health(snapshot(as_of, {"item_id": "A", "progress": 0.62, **PLAN}), as_of), "A")
    assert row["time_elapsed"] == pytest.approx(0.26)
    assert row["schedule_index"] == pytest.approx(0.62 / 0.26)
    assert row["forecast_date"] == date(2026, 3, 22)
    assert row["health"] == "on_track"
    assert row["reason"] == "62% done with 26% of the time gone"


def test_on_the_due_date_an_unfinished_item_is_not_late_yet():
    """As of the due date: all the time is gone, 95% done (index 0.95, not below 0.9), but at
    0.95 / 50 a day the last 5% takes 2.6, so 3, more days: at risk. A day later it is late."""
    snapshots = snapshot(date(2026, 4, 20), {"item_id": "A", "progress": 0.95, **PLAN})
    on_due = health_of(item_health(snapshots, date(2026, 4, 20)), "A")
    assert (on_due["time_elapsed"], on_due["schedule_index"]) == (1.0, pytest.approx(0.95))
    assert on_due["forecast_date"] == date(2026, 4, 23)
    assert on_due["health"] == "at_risk"
    assert (
        on_due["reason"]
        == "95% done with 100% of the time gone; forecast to finish 23 Apr 2026, 3 days after its due date"
    )

    after = health_of(item_health(snapshots, date(2026, 4, 21)), "A")
    assert after["health"] == "late"
    assert after["reason"] == "due 20 Apr 2026, 1 day ago, 95% done"


@pytest.mark.parametrize(
    ("progress", "health", "reason"),
    [
        # 15 of 30 days gone; a forecast from progress since the start restates the index.
        (
            0.3,
            "off_track",
            "30% done with 50% of the time gone; forecast to finish 20 Apr 2026, 20 days after its due date",
        ),
        (
            0.4,
            "at_risk",
            "40% done with 50% of the time gone; forecast to finish 8 Apr 2026, 8 days after its due date",
        ),
        (0.6, "on_track", "60% done with 50% of the time gone"),
    ],
)
def test_schedule_index_thresholds(progress, health, reason):
    as_of = date(2026, 3, 16)
    plan = {"start_date": date(2026, 3, 1), "due_date": date(2026, 3, 31)}
    row = health_of(item_health(snapshot(as_of, {"item_id": "A", "progress": progress, **plan}), as_of), "A")
    assert row["schedule_index"] == pytest.approx(progress / 0.5)
    assert (row["health"], row["reason"]) == (health, reason)


def test_thresholds_are_settings():
    as_of = date(2026, 3, 16)
    snapshots = snapshot(
        as_of, {"item_id": "A", "progress": 0.3, "start_date": date(2026, 3, 1), "due_date": date(2026, 3, 31)}
    )
    assert health_of(item_health(snapshots, as_of, Thresholds(off_track_below=0.5)), "A")["health"] == "at_risk"


def test_not_started_done_and_cancelled():
    as_of = date(2026, 3, 16)
    snapshots = snapshot(
        as_of,
        {"item_id": "future", "status_category": "todo", "start_date": date(2026, 4, 1), "due_date": date(2026, 4, 30)},
        {"item_id": "undated", "status_category": "todo"},
        {
            "item_id": "shipped",
            "status_category": "done",
            "due_date": date(2026, 3, 10),
            "completed_date": date(2026, 3, 12),
        },
        {"item_id": "dropped", "status_category": "cancelled", "due_date": date(2026, 3, 1)},
    )
    rows = item_health(snapshots, as_of).select("item_id", "health", "reason", "forecast_date").rows()
    assert rows == [
        ("future", "not_started", "not started; starts 1 Apr 2026", None),
        ("undated", "not_started", "not started, and no start date", None),
        ("shipped", "done", "done on 12 Mar 2026; 2 days after its due date", date(2026, 3, 12)),
        ("dropped", "cancelled", "cancelled", None),
    ]


# --- slip -------------------------------------------------------------------------------------


def test_due_date_moved_twice_across_three_snapshots():
    """Due 03-31, then 04-14, then 04-21: slips of 0, 14 and 21 days from the first due date.
    As of 03-15: 14 of 51 days gone (27%), 50% done, slip 21 > 10% of 51 days: at risk.
    Burn rate over the three snapshots: 0.4 in 14 days; 0.5 left takes 17.5, so 18 days: 04-02."""
    start = date(2026, 3, 1)
    snapshots = history(
        snapshot(
            date(2026, 3, 1), {"item_id": "A", "start_date": start, "due_date": date(2026, 3, 31), "progress": 0.1}
        ),
        snapshot(
            date(2026, 3, 8), {"item_id": "A", "start_date": start, "due_date": date(2026, 4, 14), "progress": 0.3}
        ),
        snapshot(
            date(2026, 3, 15), {"item_id": "A", "start_date": start, "due_date": date(2026, 4, 21), "progress": 0.5}
        ),
    )
    expected = pl.DataFrame(
        {
            "snapshot_date": [date(2026, 3, 1), date(2026, 3, 8), date(2026, 3, 15)],
            "due_date": [date(2026, 3, 31), date(2026, 4, 14), date(2026, 4, 21)],
            "baseline_due_date": [date(2026, 3, 31)] * 3,
            "slip_days": [0, 14, 21],
        }
    )
    assert_frame_equal(slip_history(snapshots, "A"), expected)
    row = health_of(item_health(snapshots, date(2026, 3, 15)), "A")
    assert (row["baseline_due_date"], row["slip_days"]) == (date(2026, 3, 31), 21)
    assert row["forecast_date"] == date(2026, 4, 2)
    assert row["health"] == "at_risk"
    assert row["reason"] == "50% done with 27% of the time gone; slipped 21 days since the baseline"

    # As of 03-08 the history ends at the second snapshot.
    assert health_of(item_health(snapshots, date(2026, 3, 8)), "A")["slip_days"] == 14


def test_a_stated_baseline_wins_over_the_first_due_date():
    snapshots = history(
        snapshot(date(2026, 3, 1), {"item_id": "A", "due_date": date(2026, 3, 31)}),
        snapshot(
            date(2026, 3, 8), {"item_id": "A", "due_date": date(2026, 4, 14), "baseline_due_date": date(2026, 4, 10)}
        ),
    )
    # The first snapshot states no baseline, so its own (first) due date is the baseline there.
    assert slip_history(snapshots, "A")["slip_days"].to_list() == [0, 4]
    assert health_of(item_health(snapshots, date(2026, 3, 8)), "A")["slip_days"] == 4


# --- forecast ---------------------------------------------------------------------------------

BURN_PLAN = {"start_date": date(2026, 2, 23), "due_date": date(2026, 4, 30)}


def test_forecast_from_a_steady_burn_rate_of_20_percent_a_week():
    """0.2, 0.4, 0.6 a week apart: 0.2 / 7 a day; 0.4 left takes 14 days from 03-16."""
    snapshots = history(
        *[
            snapshot(day, {"item_id": "A", "progress": done, **BURN_PLAN})
            for day, done in [(date(2026, 3, 2), 0.2), (date(2026, 3, 9), 0.4), (date(2026, 3, 16), 0.6)]
        ]
    )
    row = health_of(item_health(snapshots, date(2026, 3, 16)), "A")
    assert (row["forecast_date"], row["forecast_optimistic"], row["forecast_pessimistic"]) == (date(2026, 3, 30),) * 3


def test_forecast_uses_the_last_three_snapshots_and_the_extreme_weekly_rates():
    """Progress 0.0, 0.1, 0.3, 0.4 on 02-23, 03-02, 03-09, 03-16.
    Recent rate (last three snapshots): 0.3 in 14 days; 0.6 left takes 28 days: 04-13.
    Fastest week 0.2 / 7: 21 days (04-06); slowest 0.1 / 7: 42 days (04-27).
    As of 03-12 the latest snapshot is 03-09: rate 0.3 / 14 over 02-23..03-09, 0.7 left takes
    32.7, so 33, days from 03-12: 04-14."""
    snapshots = history(
        *[
            snapshot(day, {"item_id": "A", "progress": done, **BURN_PLAN})
            for day, done in [
                (date(2026, 2, 23), 0.0),
                (date(2026, 3, 2), 0.1),
                (date(2026, 3, 9), 0.3),
                (date(2026, 3, 16), 0.4),
            ]
        ]
    )
    row = health_of(item_health(snapshots, date(2026, 3, 16)), "A")
    assert (row["forecast_date"], row["forecast_optimistic"], row["forecast_pessimistic"]) == (
        date(2026, 4, 13),
        date(2026, 4, 6),
        date(2026, 4, 27),
    )
    between = health_of(item_health(snapshots, date(2026, 3, 12)), "A")
    assert (between["snapshot_date"], between["progress"], between["forecast_date"]) == (
        date(2026, 3, 9),
        0.3,
        date(2026, 4, 14),
    )


def test_a_burn_rate_forecast_far_past_due_is_off_track():
    """03-02: 0.1, 03-09: 0.15 on a 03-01..03-31 plan: the index (0.15 / 0.27 = 0.58) is already
    off track; the burn rate of 0.05 a week needs 119 days for the last 0.85: 07-06."""
    plan = {"start_date": date(2026, 3, 1), "due_date": date(2026, 3, 31)}
    snapshots = history(
        snapshot(date(2026, 3, 2), {"item_id": "A", "progress": 0.1, **plan}),
        snapshot(date(2026, 3, 9), {"item_id": "A", "progress": 0.15, **plan}),
    )
    row = health_of(item_health(snapshots, date(2026, 3, 9)), "A")
    assert row["forecast_date"] == date(2026, 7, 6)
    assert row["health"] == "off_track"
    assert (
        row["reason"] == "15% done with 27% of the time gone; forecast to finish 6 Jul 2026, 97 days after its due date"
    )


def test_no_progress_means_no_forecast():
    as_of = date(2026, 3, 16)
    row = health_of(item_health(snapshot(as_of, {"item_id": "A", "progress": 0.0, **BURN_PLAN}), as_of), "A")
    assert (row["forecast_date"], row["health"]) == (None, "off_track")  # 0% done, 32% of the time gone


def test_a_begun_item_without_progress_over_its_snapshots_is_stalled_with_no_forecast():
    """Half done on 03-08, 03-15 and 03-22 of a 03-01..04-30 plan: the index (0.5 / 0.35 = 1.43)
    looks fine, and progress since the start forecast 04-12, on track (Roadmap QA); the burn rate
    of the snapshots is 0, so it never finishes at that rate. Progress taken back (a reopened item)
    still falls back to progress since the start."""
    plan = {"start_date": date(2026, 3, 1), "due_date": date(2026, 4, 30)}
    weeks = [date(2026, 3, 8), date(2026, 3, 15), date(2026, 3, 22)]
    stalled = history(*(snapshot(day, {"item_id": "ST", "progress": 0.5, **plan}) for day in weeks))
    row = health_of(item_health(stalled, weeks[-1]), "ST")
    assert (row["forecast_date"], row["health"]) == (None, "off_track")
    assert row["reason"] == (
        "50% done with 35% of the time gone; its share done has not grown since 8 Mar 2026: at that rate it never finishes"
    )
    backwards = history(
        *(
            snapshot(day, {"item_id": "RE", "progress": p, **plan})
            for day, p in zip(weeks, [0.6, 0.6, 0.5], strict=True)
        )
    )
    assert health_of(item_health(backwards, weeks[-1]), "RE")["forecast_date"] == date(2026, 4, 12)
    # Not begun (no progress at all) is not stalled: the schedule index says it, as before.
    idle = history(*(snapshot(day, {"item_id": "ID", "progress": 0.0, **plan}) for day in weeks))
    assert "never finishes" not in health_of(item_health(idle, weeks[-1]), "ID")["reason"]


def test_daily_snapshots_judge_the_burn_rate_over_two_weeks_not_two_days():
    """Daily exports: nothing on 25 and 26 Feb, then 5% more each day 1-10 Mar (0.05 to 0.5), then
    the weekend unchanged. Over its last three snapshots (10-12 Mar) the item made no progress and
    was "off track ... it never finishes" every weekend (QA). Over the snapshots of the 14 days to
    12 Mar, from 26 Feb: 0.5 in 14 days, the 0.5 left takes 14 more: 26 Mar, on track. (From 25 Feb,
    15 days, it would be 27 Mar; from 1 Mar, 13 days, 25 Mar.)"""
    plan = {"start_date": date(2026, 2, 25), "due_date": date(2026, 4, 30)}
    days = [date(2026, 2, 25), date(2026, 2, 26), *(date(2026, 3, d) for d in range(1, 13))]
    done = [0.0, 0.0, *(0.05 * min(d, 10) for d in range(1, 13))]
    daily = history(
        *(snapshot(day, {"item_id": "D", "progress": p, **plan}) for day, p in zip(days, done, strict=True))
    )
    row = health_of(item_health(daily, days[-1]), "D")
    assert (row["forecast_date"], row["health"]) == (date(2026, 3, 26), "on_track")
    assert "never finishes" not in row["reason"]


# --- declared health, blockers, objectives ------------------------------------------------------


def test_declared_health_disagreement():
    as_of = date(2026, 3, 16)
    plan = {"start_date": date(2026, 3, 1), "due_date": date(2026, 3, 31)}
    snapshots = snapshot(
        as_of,
        {"item_id": "rosy", "progress": 0.3, "declared_health": "on_track", **plan},  # computed off_track
        {"item_id": "honest", "progress": 0.4, "declared_health": "at_risk", **plan},  # computed at_risk
        {"item_id": "gloomy", "progress": 0.6, "declared_health": "off_track", **plan},  # computed on_track
        {"item_id": "careful", "progress": 0.6, "declared_health": "at_risk", **plan},  # computed on_track
        {"item_id": "silent", "progress": 0.3, **plan},
    )
    health = item_health(snapshots, as_of)
    assert dict(health.select("item_id", "health_disagrees").iter_rows()) == {
        "rosy": True,
        "honest": False,
        "gloomy": True,
        "careful": False,
        "silent": False,
    }
    assert health_of(health, "rosy")["reason"].endswith("; declared on track")


def test_blocker_ending_after_the_item_starts_is_a_conflict():
    as_of = date(2026, 3, 16)
    snapshots = snapshot(
        as_of,
        {
            "item_id": "A",
            "status_category": "todo",
            "start_date": date(2026, 4, 1),
            "due_date": date(2026, 4, 30),
            "blocked_by": "B,D,X",
        },
        {"item_id": "B", "status_category": "todo", "start_date": date(2026, 3, 20), "due_date": date(2026, 4, 10)},
        {
            "item_id": "C",
            "status_category": "todo",
            "start_date": date(2026, 4, 1),
            "due_date": date(2026, 4, 30),
            "blocked_by": "D",
        },
        {"item_id": "D", "status_category": "done", "due_date": date(2026, 4, 20)},
    )
    health = item_health(snapshots, as_of)
    assert dict(health.select("item_id", "blocker_conflict").iter_rows()) == {
        "A": True,
        "B": False,
        "C": False,
        "D": False,
    }
    assert health_of(health, "A")["reason"] == (
        "not started; starts 1 Apr 2026; waits for B, which ends 10 Apr 2026, after this starts (1 Apr 2026)"
    )


def test_a_done_or_cancelled_item_waits_for_no_blocker():
    """A is done and C cancelled, both still "blocked by" B (open, due 30 Oct), as Jira and
    Linear keep the links after an issue is resolved. Both read "waits for B, which ends 30 Oct
    2026" and were flagged (roadmap QA); E, open, still is."""
    as_of = date(2026, 10, 20)
    snapshots = snapshot(
        as_of,
        {"item_id": "A", "status_category": "done", "start_date": date(2026, 10, 1), "completed_date": date(2026, 10, 15), "blocked_by": "B"},
        {"item_id": "B", "status_category": "in_progress", "start_date": date(2026, 10, 1), "due_date": date(2026, 10, 30)},
        {"item_id": "C", "status_category": "cancelled", "start_date": date(2026, 10, 5), "blocked_by": "B"},
        {"item_id": "E", "status_category": "todo", "start_date": date(2026, 10, 25), "due_date": date(2026, 11, 30), "blocked_by": "B"},
    )  # fmt: skip
    health = item_health(snapshots, as_of)
    conflicts = dict(health.select("item_id", "blocker_conflict").iter_rows())
    assert (conflicts["A"], conflicts["C"], conflicts["E"]) == (False, False, True)
    assert health_of(health, "A")["reason"] == "done on 15 Oct 2026"
    assert "waits for" not in health_of(health, "C")["reason"]


def test_an_open_blocker_past_its_due_date_without_a_forecast_is_a_conflict():
    """As of 20 Oct, X (due 10 Oct, 0% done: no forecast) is still open; Y starts 15 Oct and
    waits for it. X was taken to end on 10 Oct and Y was not flagged (roadmap QA). Z waits for W,
    open and due 1 Nov: W ends then, after Z's start on 25 Oct, as before."""
    as_of = date(2026, 10, 20)
    snapshots = snapshot(
        as_of,
        {"item_id": "X", "status_category": "in_progress", "start_date": date(2026, 10, 1), "due_date": date(2026, 10, 10)},
        {"item_id": "Y", "status_category": "todo", "start_date": date(2026, 10, 15), "due_date": date(2026, 11, 30), "blocked_by": "X"},
        {"item_id": "W", "status_category": "todo", "start_date": date(2026, 10, 21), "due_date": date(2026, 11, 1)},
        {"item_id": "Z", "status_category": "todo", "start_date": date(2026, 10, 25), "due_date": date(2026, 11, 30), "blocked_by": "W"},
        {"item_id": "V", "status_category": "todo", "start_date": date(2026, 11, 5), "due_date": date(2026, 11, 30), "blocked_by": "W"},
    )  # fmt: skip
    health = item_health(snapshots, as_of)
    conflicts = dict(health.select("item_id", "blocker_conflict").iter_rows())
    assert (conflicts["Y"], conflicts["Z"], conflicts["V"]) == (True, True, False)
    assert health_of(health, "Y")["reason"].endswith(
        "waits for X, still open past its due date (10 Oct 2026), after this starts (15 Oct 2026)"
    )
    assert health_of(health, "Z")["reason"].endswith(
        "waits for W, which ends 1 Nov 2026, after this starts (25 Oct 2026)"
    )
    # A blocker with no due date nor forecast, open on the day judged: not given a made-up end (review).
    undated = snapshot(
        as_of,
        {"item_id": "U", "status_category": "in_progress"},
        {"item_id": "Y", "status_category": "in_progress", "start_date": date(2026, 10, 1), "due_date": date(2026, 11, 30), "blocked_by": "U"},
    )  # fmt: skip
    assert health_of(item_health(undated, as_of), "Y")["reason"].endswith(
        "waits for U, still open, with no due date, after this starts (1 Oct 2026)"
    )


def test_objective_is_inherited_down_the_tree():
    day = date(2026, 3, 1)
    snapshots = snapshot(
        day,
        {"item_id": "O", "item_type": "objective"},
        {"item_id": "E", "item_type": "epic", "parent_id": "O"},
        {"item_id": "S", "parent_id": "E"},
        {"item_id": "F", "item_type": "epic", "objective_id": "obj-x"},
        {"item_id": "T", "parent_id": "F"},
        {"item_id": "lone"},
    )
    objectives = dict(item_health(snapshots, day).select("item_id", "objective_id").iter_rows())
    assert objectives == {"O": "O", "E": "O", "S": "O", "F": "obj-x", "T": "obj-x", "lone": None}


def test_open_work_under_a_cancelled_item_is_not_its_objectives():
    """E4 (objective O1) was cancelled, "Won't Do", with its story I4 still open and past due.
    I4 inherited O1 through E4 and made O1's delivery late (QA); a cancelled item passes no
    objective down, as it passes no progress up. I5 under the open E5 still counts."""
    as_of = date(2026, 10, 19)
    snapshots = snapshot(
        as_of,
        {"item_id": "O1", "item_type": "objective", "status_category": "in_progress"},
        {"item_id": "E4", "item_type": "epic", "status_category": "cancelled", "objective_id": "O1"},
        {"item_id": "I4", "parent_id": "E4", "start_date": date(2026, 9, 25), "due_date": date(2026, 10, 10)},
        {"item_id": "E5", "item_type": "epic", "parent_id": "O1", "start_date": date(2026, 10, 1), "due_date": date(2026, 12, 1)},
        {"item_id": "I5", "parent_id": "E5", "status_category": "done", "completed_date": date(2026, 10, 5)},
        # Shipped before E4 was cancelled: still O1's work, for its impact (review).
        {"item_id": "I6", "parent_id": "E4", "status_category": "done", "completed_date": date(2026, 9, 20)},
        # At any depth (review): an open sub-task of I6 is not O1's; done work two cancelled
        # levels down, or under an open item under E4, is.
        {"item_id": "T1", "parent_id": "I6", "start_date": date(2026, 9, 25), "due_date": date(2026, 10, 10)},
        {"item_id": "F4", "parent_id": "E4", "status_category": "cancelled"},
        {"item_id": "S2", "parent_id": "F4", "status_category": "done", "completed_date": date(2026, 9, 21)},
        {"item_id": "S3", "parent_id": "E4", "start_date": date(2026, 9, 25), "due_date": date(2026, 10, 10)},
        {"item_id": "T3", "parent_id": "S3", "status_category": "done", "completed_date": date(2026, 9, 22)},
    )  # fmt: skip
    health = item_health(snapshots, as_of)
    objectives = dict(health.select("item_id", "objective_id").iter_rows())
    assert (objectives["E4"], objectives["I4"], objectives["E5"], objectives["I5"]) == ("O1", None, "O1", "O1")
    assert (objectives["I6"], objectives["S2"], objectives["T3"]) == ("O1", "O1", "O1")
    assert (objectives["T1"], objectives["S3"], objectives["F4"]) == (None, None, None)
    delivery = delivery_health(health).filter(objective_id="O1").row(0, named=True)
    assert delivery["delivery_health"] != "late"


def test_an_objective_whose_items_are_all_cancelled_says_so(tmp_path):
    """O2's two epics are cancelled: its delivery read "no roadmap items linked to this
    objective" above the list of the two (QA)."""
    from pmkit import objectives, roadmap_view
    from pmkit.config import load_config
    from pmkit.ingest import ingest
    from pmkit.store import Store

    roadmap_csv = tmp_path / "roadmap_2026-10-19.csv"
    roadmap_csv.write_text(
        "item_id,title,item_type,objective_id,status_category\nE1,One,epic,O2,cancelled\nE2,Two,epic,O2,cancelled\n"
    )
    goals = tmp_path / "objectives.csv"
    goals.write_text(
        "objective_id,title,metric,baseline,target,start_date,target_date,direction,owner\nO2,Grow,dau,1,2,2026-10-01,2026-12-31,increase,\n"
    )
    config = load_config(tmp_path / "ws")
    assert [r.status for r in ingest([roadmap_csv, goals], config)] == ["loaded", "loaded"]
    with Store(config.store_dir).reader() as reader:
        items = roadmap_view.item_health(reader, config, date(2026, 10, 19))
        row = objectives.objective_health(reader, config, items, date(2026, 10, 19)).row(0, named=True)
    assert row["delivery_reason"] == "every roadmap item linked to this objective is cancelled (2)"


def test_delivery_health_is_the_worst_item_with_counts():
    items = pl.DataFrame(
        {
            "objective_id": ["o1", "o1", "o1", "o1", "o1", "o2", "o2", "o3", None],
            "item_type": ["objective", "epic", "epic", "issue", "issue", "epic", "epic", "issue", "epic"],
            "health": ["late", "at_risk", "on_track", "done", "cancelled", "done", "not_started", "done", "late"],
        }
    )
    objectives = pl.DataFrame({"objective_id": ["o1", "o2", "o3", "o4"]})
    expected = pl.DataFrame(
        {
            "objective_id": ["o1", "o2", "o3", "o4"],
            "delivery_health": ["at_risk", "not_started", "done", None],
            "items": [3, 2, 1, 0],
            "items_late": [0, 0, 0, 0],
            "items_off_track": [0, 0, 0, 0],
            "items_at_risk": [1, 0, 0, 0],
            "items_on_track": [1, 0, 0, 0],
            "items_not_started": [0, 1, 0, 0],
            "items_done": [1, 1, 1, 0],
            "items_done_late": [0, 0, 0, 0],  # no dates to say so
        }
    )
    assert_frame_equal(delivery_health(items, objectives), expected)
    assert delivery_health(items)["objective_id"].to_list() == ["o1", "o2", "o3"]


# --- snapshots and shapes -------------------------------------------------------------------------


def test_each_source_uses_its_own_latest_snapshot():
    snapshots = history(
        snapshot(date(2026, 3, 10), {"item_id": "J-1", "source": "jira"}),
        snapshot(date(2026, 3, 12), {"item_id": "L-1", "source": "linear"}),
    )
    assert item_health(snapshots, date(2026, 3, 13))["item_id"].to_list() == ["J-1", "L-1"]
    assert item_health(snapshots, date(2026, 3, 11))["item_id"].to_list() == ["J-1"]


def test_nothing_before_as_of_gives_an_empty_frame_with_the_columns():
    snapshots = snapshot(date(2026, 3, 10), {"item_id": "A"})
    empty = item_health(snapshots, date(2026, 3, 1))
    assert empty.is_empty() and empty.schema == pl.Schema(ITEM_HEALTH_COLUMNS)
    assert item_health(snapshots, date(2026, 3, 10)).schema == pl.Schema(ITEM_HEALTH_COLUMNS)


def test_burn_up_counts_items_without_estimates():
    snapshots = history(
        snapshot(
            date(2026, 3, 1),
            {"item_id": "E", "item_type": "epic"},
            {"item_id": "S1", "parent_id": "E", "status_category": "done"},
            {"item_id": "S2", "parent_id": "E", "status_category": "todo"},
        ),
        snapshot(
            date(2026, 3, 8),
            {"item_id": "E", "item_type": "epic"},
            {"item_id": "S1", "parent_id": "E", "status_category": "done"},
            {"item_id": "S2", "parent_id": "E", "status_category": "done"},
            {"item_id": "S3", "parent_id": "E", "status_category": "todo"},
        ),
    )
    expected = pl.DataFrame(
        {
            "snapshot_date": [date(2026, 3, 1), date(2026, 3, 8)],
            "done": [1.0, 2.0],
            "total": [2.0, 3.0],
            "unit": ["items", "items"],
        }
    )
    assert_frame_equal(burn_up(snapshots, "E"), expected)


def test_a_begun_leaf_that_states_no_progress_is_judged_by_its_dates():
    """A Linear issue in progress since 2 Oct, due 20 Oct, as of 5 Oct: no progress stated and no
    sub-items. Its 0 read "off_track: 0% done with 17% of the time gone" from its first day
    (QA); its progress is unknown, so no schedule index: on track until its due date, late after
    it. Its epic still counts it as 0 of 1 done, and a todo leaf is 0% done as before."""
    snapshots = snapshot(
        date(2026, 10, 5),
        {"item_id": "E", "item_type": "epic", "start_date": date(2026, 10, 1), "due_date": date(2026, 10, 31)},
        {"item_id": "I", "parent_id": "E", "start_date": date(2026, 10, 2), "due_date": date(2026, 10, 20)},
        {"item_id": "T", "parent_id": "E", "status_category": "todo"},
    )
    health = item_health(snapshots, date(2026, 10, 5))
    issue = health_of(health, "I")
    assert (issue["progress"], issue["schedule_index"], issue["health"]) == (None, None, "on_track")
    assert issue["reason"] == "17% of the time gone; progress unknown (it states none and has no sub-items)"
    assert health_of(health, "E")["progress"] == 0.0 and health_of(health, "T")["progress"] == 0.0
    late = health_of(item_health(snapshots, date(2026, 10, 21)), "I")
    assert (late["health"], late["reason"]) == ("late", "due 20 Oct 2026, 1 day ago, progress unknown")


def test_an_item_in_progress_without_a_start_date_is_not_called_not_started():
    """Status In Progress, no start date, no progress: "not started, and no start date" contradicted
    the status (Roadmap QA)."""
    as_of = date(2026, 3, 16)
    frame = item_health(
        snapshot(as_of, {"item_id": "G", "status": "In Progress"}, {"item_id": "T", "status_category": "todo"}), as_of
    )
    assert health_of(frame, "G")["health"] == "on_track"
    assert health_of(frame, "G")["reason"] == "progress unknown; no start or due date to compare the time gone against"
    assert health_of(frame, "T")["health"] == "not_started"


def test_a_rate_whose_forecast_is_beyond_ten_years_is_off_track():
    """0.5 on 10-08 and 0.5001 on 10-15 of a 10-01..12-31 plan: 0.0001 a week leaves 0.4999 for
    some 35,000 days, past the ten years a forecast date is given for. It read on track (no date,
    so no rule held) where 0.5 twice (stalled) and 0.51 (a forecast in 2027) read off track (QA)."""
    plan = {"start_date": date(2026, 10, 1), "due_date": date(2026, 12, 31)}
    days = (date(2026, 10, 8), date(2026, 10, 15))
    snapshots = history(
        snapshot(date(2026, 10, 8), {"item_id": "A", "progress": 0.5, **plan}),
        snapshot(date(2026, 10, 15), {"item_id": "A", "progress": 0.5001, **plan}),
    )
    row = health_of(item_health(snapshots, date(2026, 10, 15)), "A")
    assert row["forecast_date"] is None
    assert row["health"] == "off_track"
    assert row["reason"] == "50% done with 15% of the time gone; at its rate it finishes more than ten years from now"
    faster = history(snapshots.head(1), snapshot(date(2026, 10, 15), {"item_id": "A", "progress": 0.51, **plan}))
    assert health_of(item_health(faster, date(2026, 10, 15)), "A")["health"] == "off_track"
    # Due in 2060, more than ten years away: a forecast beyond ten years may still be in time.
    far = {"start_date": date(2026, 1, 1), "due_date": date(2060, 1, 1)}
    distant = history(
        *(snapshot(d, {"item_id": "F", "progress": p, **far}) for d, p in zip(days, (0.5, 0.5001), strict=True))
    )
    row = health_of(item_health(distant, date(2026, 10, 15)), "F")
    assert (row["health"], row["reason"]) == ("on_track", "50% done with 2% of the time gone")


def test_a_start_after_the_due_date_is_named_not_counted_as_a_slip():
    """Start 10-20, due 10-10: the planned duration is -10 days, so the slip tolerance was -1 and a
    slip of 0 days made the item at risk, "slipped 0 days", with "no start and due date" (QA)."""
    as_of = date(2026, 10, 5)
    plan = {"start_date": date(2026, 10, 20), "due_date": date(2026, 10, 10)}
    row = health_of(item_health(snapshot(as_of, {"item_id": "A", "progress": 0.5, **plan}), as_of), "A")
    assert (row["slip_days"], row["time_elapsed"], row["schedule_index"]) == (0, None, None)
    assert row["health"] == "on_track"
    assert (
        row["reason"] == "50% done; its start date (20 Oct 2026) is after its due date (10 Oct 2026): fix one of them"
    )


def test_burn_up_in_points_keeps_a_snapshot_from_before_the_estimates():
    """13 Oct: four children without estimates, two done (progress 0.5 by count); 20 Oct: 3 points
    each, two done. The burn-up in points had only 20 Oct, while the health's "no progress since
    13 Oct" came from the 13th (roadmap QA): that row is kept, with no points to draw."""

    def children(day: date, points: float | None) -> pl.DataFrame:
        kids = [
            {"item_id": f"S{n}", "parent_id": "E", "status_category": "done" if n < 2 else "todo", "estimate": points}
            for n in range(4)
        ]
        return snapshot(day, {"item_id": "E", "item_type": "epic"}, *kids)  # fmt: skip

    burn = burn_up(history(children(date(2026, 10, 13), None), children(date(2026, 10, 20), 3.0)), "E")
    assert burn.rows() == [(date(2026, 10, 13), None, None, "points"), (date(2026, 10, 20), 6.0, 12.0, "points")]


def test_the_reason_names_the_missing_date():
    """Due 30 Nov with no start date read "no start and due date to compare against", as if it
    had neither (roadmap QA)."""
    as_of = date(2026, 11, 2)
    frame = item_health(
        snapshot(
            as_of,
            {"item_id": "D", "status_category": "in_progress", "due_date": date(2026, 11, 30)},
            {"item_id": "S", "status_category": "in_progress", "start_date": date(2026, 10, 1)},
        ),
        as_of,
    )
    assert health_of(frame, "D")["reason"] == "progress unknown; no start date to compare the time gone against"
    assert health_of(frame, "S")["reason"] == "progress unknown; no due date to compare the time gone against"


def test_a_schedule_index_exactly_at_a_threshold_is_not_below_it():
    """60% done with 32 of 40 days gone is 0.6 / 0.8 = 0.75 exactly, which the division made
    0.7499999999999999: off track where DESIGN.md says off track is below 0.75 (QA); its forecast
    from the start makes it at risk. 0.72 / 0.8 = 0.9, with a burn rate finishing by the due
    date, read at risk the same way: it is on track."""
    dates = {"start_date": date(2026, 10, 1), "due_date": date(2026, 11, 10)}
    frame = item_health(
        history(
            snapshot(date(2026, 10, 19), {"item_id": "T2", "progress": 0.1, **dates}),
            snapshot(date(2026, 10, 26), {"item_id": "T2", "progress": 0.4, **dates}),
            snapshot(
                date(2026, 11, 2),
                {"item_id": "T1", "progress": 0.6, **dates},
                {"item_id": "T2", "progress": 0.72, **dates},
            ),
        ),
        date(2026, 11, 2),
    )
    one, two = health_of(frame, "T1"), health_of(frame, "T2")
    assert (one["schedule_index"], one["health"]) == (0.75, "at_risk")
    assert (two["schedule_index"], two["forecast_date"], two["health"]) == (0.9, date(2026, 11, 9), "on_track")
