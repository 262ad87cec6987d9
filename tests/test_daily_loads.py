"""A store fed day by day, the way exports arrive, holds exactly what one load of everything
holds: every rollup and kept table, across some forty versions (so across the compacting ones),
with two files for some days, an export repeated, late days, a time zone and active events."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pmkit.demo import DEMO_METRICS_TOML
from pmkit.store import COMPACT_EVERY, Store

TIMEZONE = "America/New_York"
ACTIVE_EVENTS = ("login", "view_dashboard", "create_report", "share_report", "purchase")
# Each table with users by their id: keys are given in the order users arrive, which differs.
TABLES = {
    "kpi_daily": "SELECT * FROM kpi_daily ORDER BY day",
    "user_day": "SELECT t.* EXCLUDE (user_key), u.user_id FROM user_day t JOIN users u USING (user_key) ORDER BY ALL",
    "user_event_day": (
        "SELECT t.* EXCLUDE (user_key), u.user_id FROM user_event_day t JOIN users u USING (user_key) ORDER BY ALL"
    ),
    "users": "SELECT user_id, first_time, first_day, last_active FROM users ORDER BY user_id",
    "cohort_days": "SELECT * FROM cohort_days ORDER BY ALL",
    "cohort_weeks": "SELECT * FROM cohort_weeks ORDER BY ALL",
    "feature_days": "SELECT * FROM feature_days ORDER BY ALL",
    "metric_daily": "SELECT metric, day, value FROM metric_daily ORDER BY ALL",
    "funnel_user_day": (
        "SELECT t.metric, t.day, u.user_id, t.reached, t.seconds FROM funnel_user_day t "
        "JOIN users u USING (user_key) ORDER BY ALL"
    ),
}


def workspace(factory: type, root: Path) -> object:
    """A conftest ``Workspace`` with the demo's metrics: a funnel, a count, unique users and a
    weekly retention, kept per day."""
    ws = factory(root)
    ws.configure(timezone=TIMEZONE, active_events=ACTIVE_EVENTS, metrics=DEMO_METRICS_TOML)
    return ws


# One seed: each draws 40-odd loads of a growing store (30 s in CI); a second doubled that.
@pytest.mark.parametrize("seed", [2])
def test_a_store_fed_day_by_day_equals_one_load_of_everything(tmp_path, workspace_factory, events_generator, seed):
    rng = random.Random(seed)
    events = events_generator(600, seed=seed, days=75).with_columns(
        pl.int_range(pl.len()).cast(pl.String).alias("event_id"),  # repeated exports are recognised
        pl.col("event_time").dt.replace_time_zone("UTC").dt.convert_time_zone(TIMEZONE).dt.date().alias("day"),
    )
    days = sorted(events["day"].unique())

    def load(ws: object, frame: pl.DataFrame) -> None:
        ws.load_frame(frame.drop("day"))

    whole = workspace(workspace_factory, tmp_path / "whole")
    load(whole, events)

    pieces = workspace(workspace_factory, tmp_path / "pieces")
    bulk, daily = days[:-25], days[-25:]
    late = rng.sample(bulk, 3)
    load(pieces, events.filter(pl.col("day").is_in(bulk) & ~pl.col("day").is_in(late)))
    for index, day in enumerate(daily):
        today = events.filter(pl.col("day") == day)
        parts = rng.randrange(1, 3)
        for part in range(parts):  # one or two files for the day
            load(pieces, today.filter(pl.int_range(pl.len()) % parts == part))
        if rng.random() < 0.2:  # part of the day's export again
            load(pieces, today.sample(fraction=0.3, seed=index))
        if late and rng.random() < 0.25:  # a day from weeks ago arrives
            old = late.pop()
            load(pieces, events.filter(pl.col("day") == old))
    for old in late:
        load(pieces, events.filter(pl.col("day") == old))
    assert Store(pieces.config.store_dir).current_version() > 4 * COMPACT_EVERY

    with Store(whole.config.store_dir).reader() as expected, Store(pieces.config.store_dir).reader() as actual:
        for name, query in TABLES.items():
            left, right = expected.frame(query), actual.frame(query)
            assert left.height, name
            try:
                assert_frame_equal(right, left, check_exact=False)
            except AssertionError as error:
                raise AssertionError(f"{name}: {error}") from None
