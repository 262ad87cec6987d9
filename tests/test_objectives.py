"""Objective health: the target path math by hand for each direction, and objectives read from a
real store and pmkit.toml, with delivery and callouts beside the outcome."""

from __future__ import annotations

import csv
import datetime as dt
from datetime import date

import polars as pl
import pytest

from pmkit.ingest import ingest
from pmkit.metrics import Period
from pmkit.objectives import (
    ON_TIME_OFF_TARGET,
    SHIPPED_BUT_FLAT,
    MetricSource,
    Outcome,
    format_value,
    judge_outcome,
    objective_health,
    outcome_reason,
)
from pmkit.roadmap import ITEM_HEALTH_COLUMNS

# --- the path, by hand ------------------------------------------------------------------------

START, TARGET_DATE = date(2026, 3, 1), date(2026, 6, 29)  # 120 days
MID = date(2026, 4, 30)  # day 60 of 120: half way


@pytest.mark.parametrize(
    ("direction", "baseline", "target", "as_of", "current", "expected", "health", "progress"),
    [
        # increase 0.30 -> 0.45: half way the path is 0.375; at risk within 5% of 0.15 = 0.0075.
        ("increase", 0.30, 0.45, MID, 0.41, 0.375, "on_track", (0.41 - 0.30) / 0.15),
        ("increase", 0.30, 0.45, MID, 0.375, 0.375, "on_track", 0.5),
        ("increase", 0.30, 0.45, MID, 0.37, 0.375, "at_risk", 0.07 / 0.15),
        ("increase", 0.30, 0.45, MID, 0.36, 0.375, "off_track", 0.06 / 0.15),
        ("increase", 0.30, 0.45, MID, 0.46, 0.375, "achieved", 1.0),  # progress clamped at 1
        ("increase", 0.30, 0.45, MID, 0.25, 0.375, "off_track", 0.0),  # and at 0
        # Before the start the path is the baseline, and nothing is judged yet.
        ("increase", 0.30, 0.45, date(2026, 2, 1), 0.20, 0.30, "not_started", 0.0),
        # On the start day the path is still the baseline: at it is on track.
        ("increase", 0.30, 0.45, START, 0.30, 0.30, "on_track", 0.0),
        # After the target date the path is the target: 0.44 misses by 0.01 > 0.0075.
        ("increase", 0.30, 0.45, date(2026, 7, 10), 0.44, 0.45, "off_track", 14 / 15),
        ("increase", 0.30, 0.45, date(2026, 7, 10), 0.445, 0.45, "at_risk", 0.145 / 0.15),
        ("increase", 0.30, 0.45, TARGET_DATE, 0.45, 0.45, "achieved", 1.0),
        # decrease 10 -> 6 (say, seconds to load): half way 8; at risk within 5% of 4 = 0.2.
        ("decrease", 10.0, 6.0, MID, 7.9, 8.0, "on_track", 2.1 / 4),
        ("decrease", 10.0, 6.0, MID, 8.1, 8.0, "at_risk", 1.9 / 4),
        ("decrease", 10.0, 6.0, MID, 8.3, 8.0, "off_track", 1.7 / 4),
        ("decrease", 10.0, 6.0, MID, 5.9, 8.0, "achieved", 1.0),
        ("decrease", 10.0, 6.0, date(2026, 1, 1), 11.0, 10.0, "not_started", 0.0),
        # stay_above 0.17: the path is flat at the target; at risk within 5% of 0.17 = 0.0085.
        ("stay_above", 0.20, 0.17, MID, 0.18, 0.17, "on_track", None),
        ("stay_above", 0.20, 0.17, MID, 0.165, 0.17, "at_risk", None),
        ("stay_above", 0.20, 0.17, MID, 0.15, 0.17, "off_track", None),
        ("stay_above", 0.20, 0.17, TARGET_DATE, 0.18, 0.17, "achieved", None),  # held to the end
        ("stay_above", 0.20, 0.17, date(2026, 2, 1), 0.18, 0.17, "not_started", None),
        # stay_below 2.0: at risk within 5% of 2.0 = 0.1.
        ("stay_below", None, 2.0, MID, 1.9, 2.0, "on_track", None),
        ("stay_below", None, 2.0, MID, 2.05, 2.0, "at_risk", None),
        ("stay_below", None, 2.0, MID, 2.2, 2.0, "off_track", None),
        ("stay_below", None, 2.0, date(2026, 8, 1), 1.5, 2.0, "achieved", None),
        # A miss of exactly 5% is at risk (float noise made these off track): 0.30 -> 0.50 half way
        # is 0.40, and 0.39 misses by 0.01 = 5% of 0.20; 5% of 0.6 is 0.03, 5% of 1.0 is 0.05.
        ("increase", 0.30, 0.50, MID, 0.39, 0.40, "at_risk", 0.09 / 0.20),
        ("stay_above", None, 0.6, MID, 0.57, 0.6, "at_risk", None),
        ("stay_below", None, 1.0, MID, 1.05, 1.0, "at_risk", None),
    ],
)
def test_outcome_against_the_straight_path(direction, baseline, target, as_of, current, expected, health, progress):
    outcome = judge_outcome(current, as_of, baseline, target, START, TARGET_DATE, direction)
    assert outcome.expected == pytest.approx(expected)
    assert outcome.health == health
    if progress is None:
        assert outcome.progress is None
    else:
        assert outcome.progress == pytest.approx(progress)


def test_no_value_is_no_data():
    assert judge_outcome(None, MID, 0.3, 0.45, START, TARGET_DATE, "increase").health == "no_data"


def test_reason_reads_like_a_status_update():
    """Path on 2026-05-09, day 68 of 120 from 2026-03-02: 0.30 + 0.15 x 68 / 120 = 0.385."""
    objective = {
        "baseline": 0.30,
        "target": 0.45,
        "start_date": date(2026, 3, 2),
        "target_date": date(2026, 6, 30),
        "direction": "increase",
    }
    as_of = date(2026, 5, 9)
    outcome = judge_outcome(0.41, as_of, 0.30, 0.45, date(2026, 3, 2), date(2026, 6, 30), "increase")
    reason = outcome_reason("Activation", "percent", outcome, 0.41, as_of, objective)
    assert reason == "Activation is 41.0%, ahead of the 38.5% path to 45% by 30 Jun 2026"
    behind = outcome_reason("Activation", "percent", Outcome("at_risk", 0.385, 0.5, -0.01), 0.375, as_of, objective)
    assert behind == "Activation is 37.5%, behind the 38.5% path to 45% by 30 Jun 2026"


def test_after_its_target_date_a_value_short_of_the_target_is_not_said_to_be_ahead_of_a_path_to_it():
    """Three days after a 23 due 14 Mar, the 7 days to 17 Mar hold four days of the path (22.1 on
    average with the target's three): 22.5 read "ahead of the 22.1 path to 23 by 14 Mar" (review)."""
    objective = {
        "baseline": 10.0,
        "target": 23.0,
        "start_date": date(2026, 1, 1),
        "target_date": date(2026, 3, 14),
        "direction": "increase",
    }
    as_of = date(2026, 3, 17)
    ahead = outcome_reason("DAU", "number", Outcome("on_track", 22.1, 0.96, 0.4), 22.5, as_of, objective)
    assert (
        ahead
        == "DAU is 22.5, ahead of the path over those days (its mean there: 22.1); the 23 target was due 14 Mar 2026"
    )
    on = outcome_reason("DAU", "number", Outcome("on_track", 22.5, 0.96, 0.0), 22.5, as_of, objective)
    assert on.startswith("DAU is 22.5, on the path over those days")


def test_a_reason_never_reads_the_same_number_on_both_sides_of_a_verdict():
    """A DAU of 10.0 behind a path of 10.049 read "is 10.0 ..., behind the 10.0 path", and a
    target typed as 10.95 read "path to 10.9" (QA)."""
    objective = {
        "baseline": 9.0,
        "target": 10.95,
        "start_date": date(2026, 3, 1),
        "target_date": date(2026, 6, 30),
        "direction": "increase",
    }
    behind = outcome_reason("DAU", "number", Outcome("at_risk", 10.049, 0.5, -0.049), 10.0, date(2026, 5, 9), objective)
    assert behind == "DAU is 10.00, behind the 10.05 path to 10.95 by 30 Jun 2026"
    ahead = outcome_reason("DAU", "number", Outcome("on_track", 10.2, 0.6, 0.3), 10.5, date(2026, 5, 9), objective)
    assert ahead == "DAU is 10.5, ahead of the 10.2 path to 10.95 by 30 Jun 2026"  # apart already: as before


def test_values_are_formatted_by_the_metric_format():
    assert format_value(0.385, "percent") == "38.5%"
    assert format_value(0.45, "percent", trim=True) == "45%"
    assert format_value(1234.5) == "1,235"  # a half goes up, as in the charts
    assert format_value(20.0, trim=True) == "20"
    assert format_value(None) == "n/a"


# --- objectives from a store and pmkit.toml -----------------------------------------------------

AS_OF = date(2026, 3, 14)
OBJECTIVES_CSV_HEADER = (
    "objective_id",
    "title",
    "metric",
    "baseline",
    "target",
    "start_date",
    "target_date",
    "direction",
    "owner",
)
OBJECTIVES_TOML = """
[objectives.O-DAU]  # also in the CSV, which wins
title = "From pmkit.toml"
metric = "dau"
baseline = 10
target = 99
start_date = 2026-03-01
target_date = 2026-03-21
direction = "increase"

[objectives.O-EVENTS]
title = "Keep events up"
metric = "events"
target = 15
target_date = 2026-04-30
direction = "stay_above"

[objectives.O-TYPO]
title = "Typo in the metric"
metric = "signupz"
baseline = 1
target = 2
start_date = 2026-03-01
target_date = 2026-04-30
direction = "increase"

[objectives.O-BAD]
title = "Target is text"
metric = "dau"
baseline = 1
target = "lots"
start_date = 2026-03-01
target_date = 2026-04-30
direction = "increase"

[objectives.O-BASE]
title = "Baseline from the data"
metric = "dau"
target = 33
start_date = 2026-03-07
target_date = 2026-03-27
direction = "increase"

[objectives.O-LATER]
title = "Starts next month"
metric = "dau"
baseline = 20
target = 40
start_date = 2026-04-01
target_date = 2026-05-01
direction = "increase"
"""


def item(item_id: str, **columns: object) -> dict:
    return {"item_id": item_id, "item_type": "epic", "status_category": "in_progress", **columns}


def items_frame(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(
        [{name: row.get(name) for name in ITEM_HEALTH_COLUMNS} for row in rows],
        schema=ITEM_HEALTH_COLUMNS,
        orient="row",
    )


def rising_logins() -> list[tuple[str, str, str]]:
    """DAU 10 + i on 2026-03-01 + i (i = 0..13), one login per active user."""
    return [
        (f"{date(2026, 3, 1) + dt.timedelta(days=i)}T12:00:00Z", f"u{n}", "login")
        for i in range(14)
        for n in range(10 + i)
    ]


@pytest.fixture
def goals(workspace) -> pl.DataFrame:
    """DAU on 2026-03-01 + i is 10 + i (i = 0..13), one login per active user, so the 7 days to
    2026-03-14 average 20 (17..23) for both DAU and events."""
    workspace.configure(metrics=OBJECTIVES_TOML)
    workspace.load_events(rising_logins())
    path = workspace.root / "objectives.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(OBJECTIVES_CSV_HEADER)
        writer.writerow(["O-DAU", "Grow daily use", "dau", "10", "40", "2026-03-01", "2026-03-21", "increase", "Ana"])
        writer.writerow(["O-PATH", "Right on the path", "dau", "10", "30", "2026-03-01", "2026-03-21", "increase", ""])
        writer.writerow(
            ["O-FLAT", "Shipped, nothing moved", "dau", "20", "40", "2026-03-10", "2026-04-30", "increase", ""]
        )
    assert ingest([path], workspace.config)[0].status == "loaded"
    items = items_frame(
        item("EP-A", objective_id="O-DAU", status_category="done", health="done"),
        item("EP-B", objective_id="O-DAU", health="on_track"),
        item("EP-C", objective_id="O-FLAT", status_category="done", health="done"),
        item("O-ROAD", item_type="objective", objective_id="O-ROAD", title="Only on the roadmap", metric="dau"),
    )
    return objective_health(workspace.reader(), workspace.config, items, AS_OF)


def row_of(goals: pl.DataFrame, objective_id: str) -> dict:
    return goals.filter(objective_id=objective_id).row(0, named=True)


def test_every_objective_gets_a_row_csv_winning_over_toml(goals):
    assert goals["objective_id"].to_list() == [
        "O-BAD", "O-BASE", "O-DAU", "O-EVENTS", "O-FLAT", "O-LATER", "O-PATH", "O-ROAD", "O-TYPO",
    ]  # fmt: skip
    dau = row_of(goals, "O-DAU")
    assert (dau["source"], dau["title"], dau["target"]) == ("csv", "Grow daily use", 40.0)
    assert row_of(goals, "O-EVENTS")["source"] == "pmkit.toml"
    assert row_of(goals, "O-ROAD")["source"] == "roadmap"


def test_increase_behind_its_path(goals):
    """8-14 Mar are days 7-13 of 20 on the path from 10 to 40, 1.5 a day: their path averages
    10 + 1.5 x 10 = 25; the current 20 (the same days' mean) misses by 5 > 5% of 30."""
    dau = row_of(goals, "O-DAU")
    assert dau["current_value"] == pytest.approx(20.0)
    assert (dau["current_from"], dau["current_through"]) == (date(2026, 3, 8), AS_OF)
    assert dau["expected_value"] == pytest.approx(25.0)
    assert dau["outcome_progress"] == pytest.approx(10 / 30)
    assert dau["outcome_health"] == "off_track"
    assert dau["outcome_reason"] == (
        "Daily active users is 20.0 a day on average over the 7 days to 14 Mar 2026, "
        "behind the 25.0 path to 40 by 21 Mar 2026"
    )
    assert (dau["delivery_health"], dau["items"], dau["items_done"]) == ("on_track", 2, 1)
    assert dau["delivery_reason"] == "2 items: 1 on track, 1 done"
    # 20 is far from the baseline 10, so not flat. Noise: each weekday's two days (i, i + 7) lie
    # 3.5 from their mean: sigma^2 = 14 x 3.5^2 / 7 = 24.5, and 2 x sqrt(24.5 / 7) = 3.74.
    assert dau["callouts"] == [ON_TIME_OFF_TARGET]


def test_a_metric_rising_exactly_along_its_path_is_on_it(goals):
    """DAU is 10 + i on 1 Mar + i, the path from 10 on 1 Mar to 30 on 21 Mar: the metric is on
    the path every day. The 7 days' mean (20) was read against the path on their last day (23)
    and called off track for good (QA); the path's mean over the same days is 20."""
    on_path = row_of(goals, "O-PATH")
    assert (on_path["current_value"], on_path["expected_value"]) == (pytest.approx(20.0), pytest.approx(20.0))
    assert on_path["outcome_health"] == "on_track"
    assert on_path["outcome_reason"] == (
        "Daily active users is 20.0 a day on average over the 7 days to 14 Mar 2026, "
        "on the 20.0 path to 30 by 21 Mar 2026"
    )


def test_on_its_target_date_a_metric_on_its_path_is_on_track(workspace):
    """The same rise judged on 14 Mar against a path from 10 on 1 Mar to 23 on 14 Mar (1 a day,
    the metric's own values): the 7 days' 20 is on the path's mean over them, 20. Held to the
    target itself from its date on, it was "short of the 23 target" for six days (review)."""
    workspace.configure(
        metrics='[objectives.O-DUE]\nmetric = "dau"\nbaseline = 10\ntarget = 23\nstart_date = 2026-03-01\n'
        'target_date = 2026-03-14\ndirection = "increase"\n'
    )
    workspace.load_events(rising_logins())
    due = row_of(objective_health(workspace.reader(), workspace.config, items_frame(), AS_OF), "O-DUE")
    assert (due["current_value"], due["expected_value"]) == (pytest.approx(20.0), pytest.approx(20.0))
    assert due["outcome_health"] == "on_track"
    assert due["outcome_reason"] == (
        "Daily active users is 20.0 a day on average over the 7 days to 14 Mar 2026, on the path over those days "
        "(its mean there: 20.0); the 23 target is due 14 Mar 2026"
    )


def test_shipped_but_flat_when_done_work_left_the_metric_at_its_baseline(goals):
    """The path from 20 on 10 Mar to 40 on 30 Apr (51 days) over 8-14 Mar: 20 on 8-10 Mar, then
    20 + 20 x k / 51 for k = 1..4; mean 20 + 200 / 357. The current 20 misses by 0.56, within 5%
    of 20: at risk."""
    flat = row_of(goals, "O-FLAT")
    assert flat["current_value"] == pytest.approx(20.0)
    assert flat["expected_value"] == pytest.approx(20 + 200 / 357)
    assert flat["outcome_health"] == "at_risk"
    assert flat["delivery_health"] == "done"
    assert flat["callouts"] == [ON_TIME_OFF_TARGET, SHIPPED_BUT_FLAT]


def test_stay_above_without_a_start_date_compares_with_the_target(goals):
    events = row_of(goals, "O-EVENTS")
    assert (events["current_value"], events["expected_value"]) == (pytest.approx(20.0), 15.0)
    assert events["outcome_health"] == "on_track"
    assert events["outcome_progress"] is None
    assert events["outcome_reason"] == (
        "Events is 20.0 a day on average over the 7 days to 14 Mar 2026, above the 15 floor (held until 30 Apr 2026)"
    )
    assert events["delivery_reason"] == "no roadmap items linked to this objective"


def test_missing_baseline_is_the_metric_at_the_start(goals):
    """Baseline: the 7 days to 2026-03-07 average 13 (10..16); the path from it rises 1 a day
    to 33 on 27 Mar, 14..20 on 8-14 Mar: mean 17, which the current 20 is ahead of."""
    base = row_of(goals, "O-BASE")
    assert base["baseline"] == pytest.approx(13.0)
    assert base["expected_value"] == pytest.approx(17.0)
    assert base["outcome_health"] == "on_track"
    assert base["outcome_reason"] == (
        "Daily active users is 20.0 a day on average over the 7 days to 14 Mar 2026, ahead of the 17.0 path to 33 by 27 Mar 2026 "
        "(baseline not set: 13.0 is the 7 days to 7 Mar 2026)"
    )


def test_not_started_before_the_start_date(goals):
    later = row_of(goals, "O-LATER")
    assert later["outcome_health"] == "not_started"
    assert later["expected_value"] == 20.0
    assert later["outcome_reason"] == (
        "starts 1 Apr 2026; Daily active users is 20.0 a day on average over the 7 days to 14 Mar 2026 "
        "against a baseline of 20"
    )


def test_unknown_metric_names_the_key_and_how_to_define_it(goals):
    typo = row_of(goals, "O-TYPO")
    assert typo["outcome_health"] == "no_data"
    assert "'signupz' is not defined" in typo["outcome_reason"]
    assert "[metrics.signupz]" in typo["outcome_reason"]


def test_bad_toml_values_and_roadmap_only_objectives_say_what_to_fix(goals):
    bad = row_of(goals, "O-BAD")
    assert bad["outcome_health"] == "no_data"
    assert "pmkit.toml, objectives.O-BAD: target must be a number (e.g. target = 0.45)" in bad["outcome_reason"]
    road = row_of(goals, "O-ROAD")
    assert (road["title"], road["metric"], road["outcome_health"]) == ("Only on the roadmap", "dau", "no_data")
    assert "[objectives.O-ROAD] in pmkit.toml" in road["outcome_reason"]


FUNNEL_TOML = """
[metrics.activation]
type = "funnel"
steps = ["signup", "create_report"]
window_days = 1
"""


def test_cohort_metrics_pool_their_users_and_wait_for_the_window(workspace):
    """Sign-ups: 4 on Mar 1 (1 converts), 1 on Mar 2 (converts). Pooled 2 / 5 = 0.4, where a mean of
    daily rates would say (0.25 + 1) / 2 = 0.625. Data ends Mar 5, so with a 1-day window the last
    final day is Mar 4. MAU needs 30 loaded days: not final at all in 5 days."""
    workspace.configure(metrics=FUNNEL_TOML)
    workspace.load_events(
        [
            *[(f"2026-03-01T09:0{n}:00Z", f"u{n}", "signup") for n in range(4)],
            ("2026-03-01T10:00:00Z", "u0", "create_report"),
            ("2026-03-02T09:00:00Z", "u9", "signup"),
            ("2026-03-02T11:00:00Z", "u9", "create_report"),
            ("2026-03-05T09:00:00Z", "u1", "login"),
        ]
    )
    source = MetricSource.open(workspace.reader(), workspace.config)
    assert source.complete_range("activation") == (date(2026, 3, 1), date(2026, 3, 4))
    assert source.recent_value("activation", date(2026, 3, 5)) == (pytest.approx(0.4), date(2026, 3, 4))
    # The data starts Mar 1: the value covers the 4 final days there are, not 7.
    assert source.recent_period("activation", date(2026, 3, 5)) == Period(date(2026, 3, 1), date(2026, 3, 4))
    assert source.complete_range("mau") is None
    assert source.recent_value("stickiness", date(2026, 3, 5)) == (None, None)


def test_a_cohort_metric_is_judged_against_the_path_on_its_own_last_day(workspace):
    """The same data as above, as of Mar 5: activation is 40% over Mar 1-4, its last final day.
    The path from 10% (Mar 1) to 100% (Mar 11) rises 9 points a day: 10, 19, 28 and 37% on Mar
    1-4, a mean of 23.5%, ahead; the path of Mar 5 (46%) would have called the value six points
    behind a day it does not cover."""
    workspace.configure(
        metrics=FUNNEL_TOML
        + '\n[objectives.O-ACT]\ntitle = "Activate"\nmetric = "activation"\nbaseline = 0.1\ntarget = 1.0\n'
        'start_date = 2026-03-01\ntarget_date = 2026-03-11\ndirection = "increase"\n'
    )
    workspace.load_events(
        [
            *[(f"2026-03-01T09:0{n}:00Z", f"u{n}", "signup") for n in range(4)],
            ("2026-03-01T10:00:00Z", "u0", "create_report"),
            ("2026-03-02T09:00:00Z", "u9", "signup"),
            ("2026-03-02T11:00:00Z", "u9", "create_report"),
            ("2026-03-05T09:00:00Z", "u1", "login"),
        ]
    )
    goal = row_of(objective_health(workspace.reader(), workspace.config, items_frame(), date(2026, 3, 5)), "O-ACT")
    assert goal["current_value"] == pytest.approx(0.4)
    assert goal["current_through"] == date(2026, 3, 4)
    assert goal["expected_value"] == pytest.approx(0.235)
    assert goal["outcome_health"] == "on_track"
    assert goal["outcome_reason"].startswith(
        "Activation is 40.0% over the 4 days to 4 Mar 2026, ahead of the 23.5% path to 100% by 11 Mar 2026"
    )


def test_no_objectives_gives_an_empty_frame_with_the_columns(workspace):
    workspace.configure()
    workspace.load_events([("2026-03-01T10:00:00Z", "u1", "login")])
    frame = objective_health(workspace.reader(), workspace.config, items_frame(), AS_OF)
    assert frame.height == 0 and "outcome_health" in frame.columns


def test_a_broken_metric_table_leaves_the_others_usable(workspace):
    """[metrics.broken] has no type; [metrics.logins] is fine and still measures."""
    workspace.configure(
        metrics=FUNNEL_TOML.replace(
            "[metrics.activation]", '[metrics.logins]\ntype = "count"\nevent = "login"\n\n[metrics.activation]'
        )
        + '\n[metrics.broken]\nevent = "login"\n'
    )
    workspace.load_events([("2026-03-01T10:00:00Z", "u1", "login"), ("2026-03-02T10:00:00Z", "u2", "login")])
    source = MetricSource.open(workspace.reader(), workspace.config)
    assert source.recent_value("logins", date(2026, 3, 2)) == (pytest.approx(1.0), date(2026, 3, 2))
    assert source.lookup("activation") is not None
    assert source.missing_reason("broken").startswith('pmkit.toml metrics.broken: "type" is missing')


def test_work_done_late_is_not_on_time_but_off_target(goals, workspace):
    """O-FLAT's one item done, but 26 days after its due date: the delivery is done, not on time,
    so "on time but off target" is not said of it (Roadmap QA); done on time, it is."""
    late = items_frame(
        item(
            "EP-C",
            objective_id="O-FLAT",
            status_category="done",
            health="done",
            due_date=date(2026, 3, 1),
            completed_date=date(2026, 3, 27),
        )
    )
    flat = row_of(objective_health(workspace.reader(), workspace.config, late, AS_OF), "O-FLAT")
    assert (flat["delivery_health"], flat["outcome_health"]) == ("done", "at_risk")
    assert flat["delivery_reason"] == "1 item: 1 done (1 after its due date)"  # was "1 item: 1 done"
    assert ON_TIME_OFF_TARGET not in flat["callouts"]
    assert ON_TIME_OFF_TARGET in row_of(goals, "O-FLAT")["callouts"]  # no dates: done is on time


def test_arpu_is_judged_on_the_weeks_revenue_over_its_users(workspace):
    """$70 from user a on 2 Mar, a and b active every day to 8 Mar: ARPU over the 7 days is
    70 / 2 = $35 (the card's value), where the mean of daily ARPU is $10 (70 on one day, 0 on six)
    and called "achieved" against a $20 target for a decrease (QA)."""
    rows = [("2026-03-02T10:00:00Z", "a", "purchase", 70.0)]
    for day in range(2, 9):
        rows += [(f"2026-03-{day:02d}T11:00:00Z", user, "login", None) for user in ("a", "b")]
    workspace.configure(
        metrics='[objectives.O1]\ntitle = "ARPU down"\nmetric = "arpu"\nbaseline = 50\ntarget = 20\n'
        'start_date = 2026-03-01\ntarget_date = 2026-03-08\ndirection = "decrease"\n'
    )
    workspace.load_events(rows, columns=("event_time", "user_id", "event", "revenue"))
    goal = row_of(objective_health(workspace.reader(), workspace.config, items_frame(), date(2026, 3, 8)), "O1")
    assert goal["current_value"] == pytest.approx(35.0)
    assert goal["outcome_health"] == "off_track"
    assert goal["outcome_reason"].startswith("ARPU is $35.00 over the 7 days to 8 Mar 2026")


def test_the_objective_charts_draw_the_value_the_card_judges(workspace, tmp_path):
    """Ten users on weekdays, two of them at weekends, $10 a day: every whole week holds $70 from
    10 users, ARPU $7.00 (the card). The Objectives page drew the mean of daily ARPU ($2.14) and
    the report a DAU-weighted one ($1.30): the line sat far below a card that met its path.
    Both now draw, on each day, the card's own 7-day value (fewer days at the start)."""
    import base64
    import re

    import duckdb
    import numpy as np

    from pmkit import dashboard
    from pmkit.report import write_report

    first = date(2026, 3, 2)  # a Monday
    days = [first + dt.timedelta(days=n) for n in range(14)]
    rows = []
    for day in days:
        users = range(10) if day.weekday() < 5 else range(2)
        rows += [(f"{day}T09:00:00Z", f"u{n}", "login", None) for n in users]
        rows.append((f"{day}T10:00:00Z", "u0", "purchase", 10.0))
    workspace.configure(
        metrics='[objectives.O1]\ntitle = "ARPU up"\nmetric = "arpu"\nbaseline = 1\ntarget = 10\n'
        'start_date = 2026-03-01\ntarget_date = 2026-04-30\ndirection = "increase"\n'
    )
    workspace.load_events(rows, columns=("event_time", "user_id", "event", "revenue"))
    as_of = days[-1]
    # The oracle: each day's 7 days (from the first day on) in a query of the rows themselves.
    events = pl.DataFrame(rows, schema=["t", "user_id", "event", "revenue"], orient="row").with_columns(
        pl.col("t").str.slice(0, 10).str.to_date().alias("day")
    )
    con = duckdb.connect()
    con.register("events", events)
    oracle = [
        con.sql(
            "SELECT sum(revenue) / count(DISTINCT user_id) FROM events WHERE day BETWEEN $lo AND $hi",
            params={"lo": max(day - dt.timedelta(days=6), first), "hi": day},
        ).fetchall()[0][0]
        for day in days
    ]
    assert oracle == pytest.approx([1, 2, 3, 4, 5, 6, 7, 7, 7, 7, 7, 7, 7, 7])  # by hand
    reader = workspace.reader()
    goal = row_of(objective_health(reader, workspace.config, items_frame(), as_of), "O1")
    assert goal["current_value"] == pytest.approx(7.0)
    detail = dashboard.objective_detail(reader, workspace.config, "O1", as_of)
    assert detail.rolling["day"].to_list() == days
    assert detail.rolling["value_7d"].to_list() == pytest.approx(oracle)
    page = write_report(workspace.config, tmp_path / "r.html", as_of=as_of).read_text(encoding="utf-8")
    drawn = re.search(r'"name":"ARPU, 7 days".*?"y":\{"dtype":"(f8)","bdata":"([^"]+)"', page)
    assert drawn, "the report's ARPU line"
    assert np.frombuffer(base64.b64decode(drawn[2]), dtype="<f8").tolist() == pytest.approx(oracle)


def test_a_ratio_of_distinct_users_draws_the_value_its_card_judges(workspace, tmp_path):
    """u1 visits on each of 7 days and buys on the first: buyers / visitors over the 7 days is
    1 / 1 (the card, achieved), where the days pooled by their visitors read 1 / 7 (review: the
    line drew 0.14 under a card of 1.0, below the 0.5 baseline). The line counts each side as the
    card does, distinct users once over the 7 days; a side of another kind (ARPU) is drawn as the
    days pooled, and said to be."""
    from pmkit import dashboard
    from pmkit.objectives import MetricSource
    from pmkit.report import write_report

    workspace.configure(
        metrics='[metrics.buyers]\ntype = "unique_users"\nevents = ["buy"]\n'
        '[metrics.visitors]\ntype = "unique_users"\nevents = ["visit"]\n'
        '[metrics.buys]\ntype = "count"\nevents = ["buy"]\n'
        '[metrics.visits]\ntype = "count"\nevents = ["visit"]\n'
        '[metrics.buyer_share]\ntype = "ratio"\nnumerator = "buyers"\ndenominator = "visitors"\n'
        '[metrics.buys_per_visitor]\ntype = "ratio"\nnumerator = "buys"\ndenominator = "visitors"\n'
        '[metrics.buys_per_visit]\ntype = "ratio"\nnumerator = "buys"\ndenominator = "visits"\n'
        '[metrics.arpu_per_visit]\ntype = "ratio"\nnumerator = "arpu"\ndenominator = "visits"\n'
        '[metrics.bought]\ntype = "funnel"\nsteps = ["visit", "buy"]\nwindow_days = 1\n'
        '[objectives.O1]\nmetric = "buyer_share"\nbaseline = 0.5\ntarget = 0.9\n'
        'start_date = 2026-09-01\ntarget_date = 2026-12-31\ndirection = "increase"\n'
        '[objectives.O2]\nmetric = "arpu_per_visit"\nbaseline = 0\ntarget = 1\n'
        'start_date = 2026-09-01\ntarget_date = 2026-12-31\ndirection = "increase"\n'
    )
    rows = [(f"2026-10-0{day}T10:00:00Z", "u1", "visit") for day in range(1, 8)]
    rows.append(("2026-10-01T11:00:00Z", "u1", "buy"))
    workspace.load_events(rows)
    # The report says which line is not the value judged (O2's), as the Objectives page does.
    page = write_report(workspace.config, tmp_path / "r.html", as_of=date(2026, 10, 7)).read_text(encoding="utf-8")
    assert page.count("(days pooled, not the value judged)") == 1
    reader = workspace.reader()
    as_of = date(2026, 10, 7)
    goal = row_of(objective_health(reader, workspace.config, items_frame(), as_of), "O1")
    detail = dashboard.objective_detail(reader, workspace.config, "O1", as_of)
    assert goal["current_value"] == 1.0
    # Each day's 7 days (from 1 Oct): u1 visited, and bought on the 1st, so 1 / 1 every day.
    assert detail.rolling["value_7d"].to_list() == [1.0] * 7
    assert detail.rolling_is_card
    source = MetricSource.open(reader, workspace.config)
    # buys / visitors: 1 buy over 1 visitor; buys / visits: 1 over 1, 2, ... 7 visits.
    assert source.seven_day("buys_per_visitor")["value"].to_list() == [1.0] * 7
    assert source.seven_day("buys_per_visit")["value"].to_list() == pytest.approx([1 / n for n in range(1, 8)])
    kinds = ("buyer_share", "bought", "buys_per_visitor", "buys_per_visit", "arpu", "dau", "arpu_per_visit")
    assert [source.seven_day_is_card(key) for key in kinds] == [True, True, True, True, True, True, False]


def test_a_ratio_over_dau_keeps_the_revenue_of_a_day_without_active_users(workspace):
    """Logins are the active events; u1 logs in every day but 5 Oct and buys $10 on the 2nd, u2
    buys $100 on the 5th (no login). Revenue over DAU for 2-8 Oct is 110 / 6 = $18.33 (the card,
    summing both sides' days). The line weighted the days' values by DAU, and the 5th, with no
    active user, has no value: it read 10 / 6 = $1.67 (QA)."""
    from pmkit import dashboard

    workspace.configure(
        metrics='[metrics.rev]\ntype = "sum_revenue"\nevent = "purchase"\n'
        '[metrics.rev_per_dau]\ntype = "ratio"\nnumerator = "rev"\ndenominator = "dau"\n'
        '[objectives.O1]\nmetric = "rev_per_dau"\nbaseline = 1\ntarget = 20\n'
        'start_date = 2026-10-01\ntarget_date = 2026-12-31\ndirection = "increase"\n',
        active_events=["login"],
    )
    rows = [(f"2026-10-0{day}T10:00:00Z", "u1", "login", None) for day in (1, 2, 3, 4, 6, 7, 8)]
    rows += [("2026-10-02T10:05:00Z", "u1", "purchase", 10.0), ("2026-10-05T10:00:00Z", "u2", "purchase", 100.0)]
    workspace.load_events(rows, columns=("event_time", "user_id", "event", "revenue"))
    reader = workspace.reader()
    as_of = date(2026, 10, 8)
    goal = row_of(objective_health(reader, workspace.config, items_frame(), as_of), "O1")
    line = dashboard.objective_detail(reader, workspace.config, "O1", as_of).rolling
    assert goal["current_value"] == pytest.approx(110 / 6)
    assert line.filter(pl.col("day") == as_of)["value_7d"].item() == pytest.approx(110 / 6)


def test_a_ratio_over_wau_starts_its_line_where_its_card_starts(workspace):
    """u1 logs in every day from 1 Oct, u2 on 1 Oct only; u1 pays $10 on 8 Oct. WAU is whole from
    7 Oct, so the card of 8 Oct pools 7-8 Oct: $10 over WAU 2 + 1 = $3.33. The line summed the
    7 days to 8 Oct, warm-up days included: $10 / 13 (review)."""
    from pmkit import dashboard

    workspace.configure(
        metrics='[metrics.rev_per_wau]\ntype = "ratio"\nnumerator = "revenue"\ndenominator = "wau"\n'
        '[objectives.O1]\nmetric = "rev_per_wau"\nbaseline = 1\ntarget = 20\n'
        'start_date = 2026-10-01\ntarget_date = 2026-12-31\ndirection = "increase"\n'
    )
    rows = [(f"2026-10-{day:02d}T10:00:00Z", "u1", "login", None) for day in range(1, 15)]
    rows += [("2026-10-01T11:00:00Z", "u2", "login", None), ("2026-10-08T12:00:00Z", "u1", "purchase", 10.0)]
    workspace.load_events(rows, columns=("event_time", "user_id", "event", "revenue"))
    reader = workspace.reader()
    as_of = date(2026, 10, 8)
    goal = row_of(objective_health(reader, workspace.config, items_frame(), as_of), "O1")
    line = dashboard.objective_detail(reader, workspace.config, "O1", as_of).rolling
    assert (goal["current_value"], goal["current_from"]) == (pytest.approx(10 / 3), date(2026, 10, 7))
    assert line["day"].min() == date(2026, 10, 7)
    assert line.filter(pl.col("day") == as_of)["value_7d"].item() == pytest.approx(10 / 3)


def test_a_funnel_objectives_line_counts_each_user_once_over_the_7_days(workspace):
    """u1 visits every day of 1-7 Oct and buys on the 7th, u2 visits on the 5th, u3 visits and
    buys on the 2nd (1-day window; a login on 10 Oct makes every window final). Over 1-7 Oct
    2 of the 3 users bought (the card); the days pooled by their visitors read 2 / 9 (review:
    0.52 under a card of 0.875). On 4 Oct the 4 days hold u1 (not yet) and u3: 1 / 2."""
    from pmkit import dashboard

    workspace.configure(
        metrics='[metrics.bought]\ntype = "funnel"\nsteps = ["visit", "buy"]\nwindow_days = 1\n'
        '[objectives.O1]\nmetric = "bought"\nbaseline = 0.2\ntarget = 0.9\n'
        'start_date = 2026-09-01\ntarget_date = 2026-12-31\ndirection = "increase"\n'
    )
    rows = [(f"2026-10-0{day}T10:00:00Z", "u1", "visit") for day in range(1, 8)]
    rows += [
        ("2026-10-07T11:00:00Z", "u1", "buy"),
        ("2026-10-05T10:00:00Z", "u2", "visit"),
        ("2026-10-02T10:00:00Z", "u3", "visit"),
        ("2026-10-02T12:00:00Z", "u3", "buy"),
        ("2026-10-10T10:00:00Z", "u9", "login"),
    ]
    workspace.load_events(rows)
    reader = workspace.reader()
    as_of = date(2026, 10, 8)  # a 1-day funnel's value of the 7 days to the 7th is final on the 8th
    goal = row_of(objective_health(reader, workspace.config, items_frame(), as_of), "O1")
    line = dashboard.objective_detail(reader, workspace.config, "O1", as_of).rolling
    assert (goal["current_value"], goal["current_through"]) == (pytest.approx(2 / 3), date(2026, 10, 7))
    assert line["day"].max() == date(2026, 10, 7)
    assert line.filter(pl.col("day") == date(2026, 10, 7))["value_7d"].item() == pytest.approx(2 / 3)
    assert line.filter(pl.col("day") == date(2026, 10, 4))["value_7d"].item() == pytest.approx(1 / 2)


def test_a_begun_funnel_objective_says_when_its_first_final_value_comes(workspace):
    """Carried from QA: a 2-day funnel objective starting 9 Oct, judged on 10 Oct (the last event's
    day), has no final day since its start (its last is 8 Oct; 9 Oct is final on the 11th). It
    read "starts 9 Oct 2026" a day after that date; it says it started, and when its first value
    is final."""
    workspace.configure(
        metrics='[metrics.bought]\ntype = "funnel"\nsteps = ["visit", "buy"]\nwindow_days = 2\n'
        '[objectives.O1]\nmetric = "bought"\nbaseline = 0.2\ntarget = 0.9\n'
        'start_date = 2026-10-09\ntarget_date = 2026-12-31\ndirection = "increase"\n'
    )
    rows = [(f"2026-10-0{day}T10:00:00Z", f"u{day}", "visit") for day in range(1, 10)]
    rows += [("2026-10-02T12:00:00Z", "u2", "buy"), ("2026-10-10T10:00:00Z", "u9", "login")]
    workspace.load_events(rows)
    as_of = date(2026, 10, 10)
    goal = row_of(objective_health(workspace.reader(), workspace.config, items_frame(), as_of), "O1")
    assert (goal["outcome_health"], goal["current_through"]) == ("not_started", date(2026, 10, 8))
    assert goal["outcome_reason"] == (
        "started 9 Oct 2026; a day's value is final 2 days after it, so the first since the start is final on "
        "11 Oct 2026; until then Bought is 14.3% over the 7 days to 8 Oct 2026 against a baseline of 20% (the "
        "latest final value)"
    )
    # Review: judged on 20 Oct, 11 Oct is past and its events are not loaded: no date to come.
    later = row_of(objective_health(workspace.reader(), workspace.config, items_frame(), date(2026, 10, 20)), "O1")
    assert later["outcome_reason"].startswith("started 9 Oct 2026, and no value since is loaded; Bought is 14.3%")


def test_a_begun_funnel_objective_with_no_events_since_its_start_waits_for_no_date(workspace):
    """Review: events end 5 Oct and the 2-day funnel objective starts 9 Oct: judged on 10 Oct, it
    said the first value since the start "is final on 11 Oct", which no load had made possible."""
    workspace.configure(
        metrics='[metrics.bought]\ntype = "funnel"\nsteps = ["visit", "buy"]\nwindow_days = 2\n'
        '[objectives.O1]\nmetric = "bought"\nbaseline = 0.2\ntarget = 0.9\n'
        'start_date = 2026-10-09\ntarget_date = 2026-12-31\ndirection = "increase"\n'
    )
    rows = [(f"2026-10-0{day}T10:00:00Z", f"u{day}", "visit") for day in range(1, 6)]
    workspace.load_events([*rows, ("2026-10-02T12:00:00Z", "u2", "buy")])
    goal = row_of(objective_health(workspace.reader(), workspace.config, items_frame(), date(2026, 10, 10)), "O1")
    assert goal["outcome_reason"].startswith("started 9 Oct 2026, and no value since is loaded; Bought is ")


def test_a_ceiling_held_from_today_is_judged_when_its_value_ends_before_today(workspace):
    """DAU is 5 every day of Mar 4-10; the objectives are judged on Mar 11 (a roadmap snapshot's
    day, after the last event). Without a start date a floor or ceiling is held from that day; the
    value's last day (Mar 10) came before it, and both read "not started", the ceiling breached."""
    workspace.configure(
        metrics='[objectives.FLOOR]\nmetric = "dau"\ntarget = 4\ntarget_date = 2026-12-31\ndirection = "stay_above"\n'
        '[objectives.CEILING]\nmetric = "dau"\ntarget = 4\ntarget_date = 2026-12-31\ndirection = "stay_below"\n'
    )
    workspace.load_events(
        [(f"2026-03-{day:02d}T09:00:00Z", f"u{n}", "login") for day in range(4, 11) for n in range(5)]
    )
    goals = objective_health(workspace.reader(), workspace.config, items_frame(), date(2026, 3, 11))
    floor, ceiling = row_of(goals, "FLOOR"), row_of(goals, "CEILING")
    assert (floor["current_value"], floor["current_through"]) == (5.0, date(2026, 3, 10))
    assert floor["outcome_health"] == "on_track"
    assert ceiling["outcome_health"] == "off_track"  # 5 over a ceiling of 4: a miss of 25%


def test_an_as_of_judgement_reads_only_what_was_final_then(workspace_factory, tmp_path):
    """The same objective as of Mar 5, in a store loaded to Mar 5 and in one loaded to Mar 10: a
    sign-up of Mar 5 converts on Mar 6, which was not known on Mar 5. With a 1-day window, Mar 4
    is the last day final by Mar 5: 2 of the 3 sign-ups of Mar 1-4 converted, in both stores."""
    events = [
        ("2026-03-01T09:00:00Z", "a", "signup"),
        ("2026-03-01T10:00:00Z", "a", "create_report"),
        ("2026-03-03T09:00:00Z", "b", "signup"),
        ("2026-03-04T09:00:00Z", "c", "signup"),
        ("2026-03-04T10:00:00Z", "c", "create_report"),
        ("2026-03-05T09:00:00Z", "d", "signup"),
    ]
    later = [("2026-03-06T08:00:00Z", "d", "create_report"), ("2026-03-10T09:00:00Z", "e", "login")]
    toml = (
        FUNNEL_TOML + '\n[objectives.O-ACT]\nmetric = "activation"\nbaseline = 0.1\ntarget = 1.0\n'
        'start_date = 2026-03-01\ntarget_date = 2026-03-31\ndirection = "increase"\n'
    )
    found = []
    for name, rows in (("to-mar-5", events), ("to-mar-10", events + later)):
        store = workspace_factory(tmp_path / name)
        store.configure(metrics=toml)
        store.load_events(rows)
        goal = row_of(objective_health(store.reader(), store.config, items_frame(), date(2026, 3, 5)), "O-ACT")
        found.append((goal["current_value"], goal["current_from"], goal["current_through"], goal["outcome_health"]))
        store.close()
    assert found[0] == found[1]
    assert found[0][:3] == (pytest.approx(2 / 3), date(2026, 3, 1), date(2026, 3, 4))


@pytest.mark.parametrize(
    ("direction", "baseline", "target", "problem"),
    [
        ("increase", 20.0, 10.0, 'O-X: an increase from 20 to 10 goes the other way (set direction = "decrease"'),
        ("decrease", 0.2, 0.35, 'O-X: a decrease from 0.2 to 0.35 goes the other way (set direction = "increase"'),
        # Plain notation, not 2e-05 (review).
        ("decrease", 0.00002, 0.00005, "O-X: a decrease from 0.00002 to 0.00005 goes the other way"),
        ("increase", 10.0, 20.0, None),
        ("decrease", 20.0, 20.0, None),
        ("stay_above", 20.0, 10.0, None),  # a floor below where it starts is fine
    ],
)
def test_a_baseline_on_the_wrong_side_of_the_target_is_a_problem(direction, baseline, target, problem):
    # An increase from 20 to 10 read "achieved" with 50% progress while the metric fell to 15 (QA).
    from pmkit.objectives import objective_problems

    objective = {
        "objective_id": "O-X",
        "metric": "dau",
        "baseline": baseline,
        "target": target,
        "start_date": START,
        "target_date": TARGET_DATE,
        "direction": direction,
    }
    found = objective_problems(objective)
    assert found[0].startswith(problem) if problem else found == [], found


@pytest.mark.parametrize("written", ["Increase", "increase", "Stay above", "stay-above"])
def test_a_toml_direction_is_read_as_objectives_csv_reads_it(written: str):
    """objectives.csv took "Increase" and "Stay above"; pmkit.toml refused them (QA)."""
    from pmkit.objectives import _toml_objective

    table = {"metric": "dau", "target": 3, "target_date": dt.date(2026, 6, 30), "direction": written}
    row, problems = _toml_objective("O1", table)
    assert problems == []
    assert row["direction"] == ("increase" if "ncrease" in written else "stay_above")


def test_a_rolling_metric_before_its_first_whole_window_says_so(workspace):
    """Events on 3-4 Mar only: stickiness (DAU/MAU) has no whole 30 days until 1 Apr. The reason
    said "load events up to that day" of events already loaded (ingest QA); DAU has its value."""
    rows = [(f"2026-03-0{day}T11:00:00Z", user, "login") for day in (3, 4) for user in ("a", "b")]
    workspace.configure(
        metrics='[objectives.O1]\ntitle = "Sticky"\nmetric = "stickiness"\nbaseline = 0.2\ntarget = 0.4\n'
        'start_date = 2026-03-01\ntarget_date = 2026-06-30\ndirection = "increase"\n'
        '[objectives.O2]\ntitle = "Daily"\nmetric = "dau"\nbaseline = 1\ntarget = 4\n'
        'start_date = 2026-03-01\ntarget_date = 2026-06-30\ndirection = "increase"\n'
    )
    workspace.load_events(rows)
    goals = objective_health(workspace.reader(), workspace.config, items_frame(), date(2026, 3, 4))
    assert row_of(goals, "O1")["outcome_reason"] == (
        "no Stickiness (DAU/MAU) value on or before 4 Mar 2026 yet (it counts the 30 days up to each day and "
        "events start 3 Mar 2026, so its first whole value is of 1 Apr 2026)"
    )
    assert row_of(goals, "O2")["current_value"] == pytest.approx(2.0)


def test_a_cohort_metric_before_its_first_settled_day_says_so(workspace):
    """Ten days of events (20-29 Oct) and a week-1 retention objective: the first cohort's
    value is final 13 days after it. The reason said "load events up to that day" of events
    loaded up to it (QA)."""
    rows = [(f"2026-10-{day}T11:00:00Z", user, "login") for day in range(20, 30) for user in ("a", "b")]
    workspace.configure(
        metrics='[metrics.w1]\nname = "Week-1 retention"\ntype = "retention"\nweek = 1\n\n'
        '[objectives.R1]\ntitle = "Keep"\nmetric = "w1"\nbaseline = 0.2\ntarget = 0.4\n'
        'start_date = 2026-10-01\ntarget_date = 2026-12-31\ndirection = "increase"\n'
    )
    workspace.load_events(rows)
    goals = objective_health(workspace.reader(), workspace.config, items_frame(), date(2026, 10, 29))
    assert row_of(goals, "R1")["outcome_reason"] == (
        "no Week-1 retention value on or before 29 Oct 2026 yet (a day's value is final 13 days after it (its "
        "users' whole window), and events start 20 Oct 2026, so the first is final once events through "
        "2 Nov 2026 are loaded)"
    )


def test_a_weekly_pattern_is_not_noise_for_shipped_but_flat(workspace):
    """DAU 100 on weekdays and 20 at weekends, every week alike, from 1 Aug to 30 Sep 2026: the
    7 days to 30 Sep average (5 x 100 + 2 x 20) / 7 = 77.1, 28.6% above the baseline of 60.
    Each day equals its weekday's mean, so a 7-day value has no noise at all; around the 28 days'
    one mean, 2 standard errors were 27.8 and the rise of 17.1 was "shipped but flat" (QA)."""
    workspace.configure(
        metrics='[objectives.O-WEEK]\nmetric = "dau"\nbaseline = 60\ntarget = 120\nstart_date = 2026-08-01\n'
        'target_date = 2026-12-31\ndirection = "increase"\n'
    )
    rows, day = [], date(2026, 8, 1)
    while day <= date(2026, 9, 30):
        rows += [(f"{day}T12:00:00Z", f"u{n}", "login") for n in range(20 if day.weekday() >= 5 else 100)]
        day += dt.timedelta(days=1)
    workspace.load_events(rows)
    shipped = items_frame(item("EP-1", objective_id="O-WEEK", status_category="done", health="done"))
    source = MetricSource.open(workspace.reader(), workspace.config)
    assert source.noise("dau", date(2026, 9, 30)) == pytest.approx(0.0)
    goal = row_of(objective_health(workspace.reader(), workspace.config, shipped, date(2026, 9, 30)), "O-WEEK")
    assert goal["current_value"] == pytest.approx(540 / 7)
    assert SHIPPED_BUT_FLAT not in goal["callouts"]


def test_a_baseline_taken_from_the_data_names_the_days_it_was_measured_on(workspace):
    """DAU 10 + i on 1-14 Mar, an objective without a baseline starting 1 Apr, judged on 1 Apr:
    its baseline is the last 7 days loaded, 8-14 Mar (17..23, mean 20). The note said "the 7 days
    to 1 Apr", days with nothing loaded (QA)."""
    workspace.configure(
        metrics='[objectives.O-APR]\nmetric = "dau"\ntarget = 40\nstart_date = 2026-04-01\n'
        'target_date = 2026-06-30\ndirection = "increase"\n'
    )
    workspace.load_events(rising_logins())
    goal = row_of(objective_health(workspace.reader(), workspace.config, items_frame(), date(2026, 4, 1)), "O-APR")
    assert goal["baseline"] == pytest.approx(20.0)
    assert goal["outcome_reason"].endswith("baseline not set: 20.0 is the 7 days to 14 Mar 2026)")


def test_numbers_in_words_keep_what_was_typed_and_part_only_what_differs():
    """Review of the wording change: float noise read "is 0.3000000, behind the 0.3000000 path";
    a large amount got three decimals; 123456789012.5 lost its .5; the Goal on the summary card
    still wrote 10.95 as 10.9 beside the sentence's 10.95."""
    from pmkit.dashboard import format_target
    from pmkit.objectives import values_apart

    assert values_apart(0.1 + 0.2, 0.3, "number") == ("0.30", "0.30")
    assert values_apart(1234.0, 1234.4, "currency") == ("$1,234.00", "$1,234.40")
    assert format_value(123456789012.5, trim=True) == "123,456,789,012.5"
    assert format_target(10.95, "number") == format_value(10.95, trim=True) == "10.95"
    assert format_target(0.4525, "percent") == "45.25%"


def shipped_arpu_objective(tmp_path, lines: list[str], baseline: float, toml: str = "") -> tuple[dict, float | None]:
    """(objective row, its noise) of an ARPU objective I1 (``baseline`` to twice it, from 5 Oct)
    with a done epic, as of 1 Nov 2026, over the events ``lines`` (a CSV's, header first)."""
    from pmkit import roadmap_view
    from pmkit.config import load_config
    from pmkit.store import Store

    events, goals, plan = tmp_path / "events.csv", tmp_path / "objectives.csv", tmp_path / "roadmap_2026-11-01.csv"
    events.write_text("".join(lines))
    goals.write_text(
        "objective_id,title,metric,baseline,target,start_date,target_date,direction,owner\n"
        f"I1,ARPU,arpu,{baseline},{2 * baseline},2026-10-05,2026-12-31,increase,\n"
    )
    plan.write_text(
        "item_id,title,item_type,objective_id,status_category,completed_date\nE1,Pricing,epic,I1,done,2026-10-20\n"
    )
    data = tmp_path / "ws"
    data.mkdir()
    (data / "pmkit.toml").write_text('[workspace]\ntimezone = "UTC"\n' + toml)
    config = load_config(data)
    assert [r.status for r in ingest([events, goals, plan], config)] == ["loaded"] * 3
    as_of = date(2026, 11, 1)
    with Store(config.store_dir).reader() as reader:
        items = roadmap_view.item_health(reader, config, as_of)
        row = objective_health(reader, config, items, as_of).row(0, named=True)
        return row, MetricSource.open(reader, config).noise("arpu", row["current_through"])


def test_a_flat_arpu_is_shipped_but_flat(tmp_path):
    """u1 buys every day for 1 or 2 dollars (1,2,1,2,... one week, 2,1,2,1,... the next) and u2
    logs in every day, 5 Oct - 1 Nov. The 7 days' revenue over their 2 users moves between $5.00
    and $5.50 from day to day with nothing changing; the baseline is $5 and its epic shipped. Its
    noise was taken on the days' revenue per active user, a scale 7 times smaller (the days'
    active users sum to 14, the week's distinct users are 2): 0.22, and the callout was not
    made (QA). By hand, the 7 days' sums vary by about a dollar over 2 users: noise above $0.50."""
    start = date(2026, 10, 5)
    lines = ["event_time,user_id,event,revenue\n"]
    for i in range(28):
        day = start + dt.timedelta(days=i)
        amount = (1, 2, 1, 2, 1, 2, 1)[i % 7] if (i // 7) % 2 == 0 else (2, 1, 2, 1, 2, 1, 2)[i % 7]
        lines += [f"{day}T10:00:00Z,u1,purchase,{amount}\n", f"{day}T11:00:00Z,u2,login,\n"]
    row, noise = shipped_arpu_objective(tmp_path, lines, 5)
    assert row["current_value"] in (pytest.approx(5.0), pytest.approx(5.5))
    assert noise > 0.5
    assert SHIPPED_BUT_FLAT in row["callouts"]


def test_a_cohort_metric_judged_on_a_past_day_before_its_first_settled_one_says_so(workspace):
    """Events loaded 1 Oct - 30 Nov, a week-1 retention objective judged as of 12 Oct: the hint
    said to load events through 14 Oct, which are loaded (review)."""
    rows = [
        (f"2026-{m:02d}-{d:02d}T11:00:00Z", "a", "login")
        for m, last in ((10, 31), (11, 30))
        for d in range(1, last + 1)
    ]
    workspace.configure(
        metrics='[metrics.w1]\nname = "Week-1 retention"\ntype = "retention"\nweek = 1\n\n'
        '[objectives.R1]\ntitle = "Keep"\nmetric = "w1"\nbaseline = 0.2\ntarget = 0.4\n'
        'start_date = 2026-10-01\ntarget_date = 2026-12-31\ndirection = "increase"\n'
    )
    workspace.load_events(rows)
    goals = objective_health(workspace.reader(), workspace.config, items_frame(), date(2026, 10, 12))
    assert row_of(goals, "R1")["outcome_reason"].endswith("events start 1 Oct 2026: the first is final on 14 Oct 2026)")


def test_revenue_on_days_without_active_users_does_not_widen_the_noise(tmp_path):
    """Only logins are activity. Four users log in and one buys for $1 or $3 on weekdays; every
    Saturday a $200 order comes with nobody logged in. The card counts that revenue, and the
    scale of its noise left it out: 130 times the pooled one, and a steady 30% rise was called
    shipped but flat (review)."""
    start = date(2026, 10, 5)  # a Monday
    lines = ["event_time,user_id,event,revenue\n"]
    for i in range(28):
        day = start + dt.timedelta(days=i)
        if day.weekday() == 5:
            lines.append(f"{day}T10:00:00Z,guest,purchase,200\n")
        elif day.weekday() < 5:
            lines += [f"{day}T09:00:00Z,u{n},login,\n" for n in range(4)]
            lines.append(f"{day}T10:00:00Z,u0,purchase,{1 + 2 * ((i // 7) % 2)}\n")  # $1 one week, $3 the next
    row, _ = shipped_arpu_objective(tmp_path, lines, 40, 'active_events = ["login"]\n')
    assert row["current_value"] == pytest.approx((5 * 3 + 200) / 4)  # the last 7 days' $215 over 4 users
    assert SHIPPED_BUT_FLAT not in row["callouts"]
