"""Each metric on tiny workspaces whose answers were worked out by hand."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pmkit import metrics
from pmkit.config import load_config
from pmkit.definitions import ANOMALY_RULE, parse_definitions
from pmkit.metrics import Period, Segment
from pmkit.metrics.rollup import merge_dimension_rollup, rebuild_dimension_rollup
from pmkit.store import Store

D = dt.date


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def days(start: str, end: str) -> list[dt.date]:
    return pl.date_range(day(start), day(end), "1d", eager=True).to_list()


# --- active users -----------------------------------------------------------------------------


def test_wau_counts_each_user_once_per_trailing_week(workspace):
    """WAU on a day counts distinct users over the 7 days ending that day."""
    workspace.load_events(
        [
            ("2026-03-01T10:00Z", "u1", "login"),
            ("2026-03-03T09:00Z", "u1", "login"),
            ("2026-03-07T23:59Z", "u2", "signup"),
            ("2026-03-08T00:00Z", "u3", "login"),
        ]
    )
    daily = metrics.active_users(workspace.reader())
    assert daily.filter(day=D(2026, 3, 7))["wau"].item() == 2
    assert daily.filter(day=D(2026, 3, 8))["wau"].item() == 3  # u1's Mar 3 event is still in the window


def test_daily_kpis_every_column_and_zero_days(workspace):
    """Midnight splits days; a zero day still appears; ARPU = revenue / DAU; stickiness = DAU / MAU."""
    workspace.load_events(
        [
            ("2026-03-01T23:59:59Z", "u1", "signup", ""),
            ("2026-03-02T00:00:00Z", "u1", "purchase", "10"),
            ("2026-03-02T12:00:00Z", "u2", "signup", ""),
            ("2026-03-02T13:00:00Z", "u2", "purchase", "5.5"),
            ("2026-03-04T08:00:00Z", "u2", "login", ""),
        ],
        columns=("event_time", "user_id", "event", "revenue"),
    )
    got = metrics.daily_kpis(workspace.reader())
    expected = pl.DataFrame(
        {
            "day": days("2026-03-01", "2026-03-04"),
            "dau": [1, 2, 0, 1],
            "wau": [1, 2, 2, 2],
            "mau": [1, 2, 2, 2],
            "stickiness": [1.0, 1.0, 0.0, 0.5],
            "new_users": [1, 1, 0, 0],
            "events": [1, 3, 0, 1],
            "revenue": [0.0, 15.5, 0.0, 0.0],
            "arpu": [0.0, 7.75, None, 0.0],
        }
    )
    assert_frame_equal(got, expected)


def test_wau_and_mau_drop_a_user_on_the_8th_and_31st_day(workspace):
    """A user active only on Mar 1 is in WAU through Mar 7 and in MAU through Mar 30."""
    workspace.load_events([("2026-03-01T12:00Z", "u1", "login"), ("2026-04-05T12:00Z", "u2", "login")])
    daily = metrics.daily_kpis(workspace.reader(), Period(D(2026, 3, 6), D(2026, 3, 31)))
    by_day = {row["day"]: row for row in daily.iter_rows(named=True)}
    assert (by_day[D(2026, 3, 7)]["wau"], by_day[D(2026, 3, 8)]["wau"]) == (1, 0)
    assert (by_day[D(2026, 3, 30)]["mau"], by_day[D(2026, 3, 31)]["mau"]) == (1, 0)


def test_daily_kpis_outside_the_loaded_range(workspace):
    """Days before the data are zero; after it, WAU and MAU fade out over 7 and 30 days."""
    workspace.load_events([("2026-03-01T12:00Z", "u1", "login")])
    got = metrics.daily_kpis(workspace.reader(), Period(D(2026, 2, 27), D(2026, 4, 1)))
    assert got.height == 34
    assert got.filter(pl.col("day") < D(2026, 3, 1))["mau"].to_list() == [0, 0]
    assert got.filter(pl.col("dau") > 0)["day"].to_list() == [D(2026, 3, 1)]
    assert got.filter(pl.col("wau") > 0)["day"].to_list() == days("2026-03-01", "2026-03-07")
    assert got.filter(pl.col("mau") > 0)["day"].to_list() == days("2026-03-01", "2026-03-30")


def test_workspace_time_zone_moves_late_utc_events_to_the_previous_day(workspace):
    """In New York, 03:00 UTC on Mar 2 is 22:00 on Mar 1; a naive time is read as New York time."""
    workspace.configure(timezone="America/New_York")
    workspace.load_events(
        [
            ("2026-03-02T03:00:00Z", "u1", "login"),  # Mar 1, 22:00 in New York
            ("2026-03-02 01:00", "u2", "login"),  # naive: Mar 2, 01:00 in New York
            ("2026-03-02T05:30:00Z", "u3", "login"),  # Mar 2, 00:30 in New York
        ]
    )
    got = metrics.daily_kpis(workspace.reader()).select("day", "dau", "new_users")
    expected = pl.DataFrame({"day": [D(2026, 3, 1), D(2026, 3, 2)], "dau": [1, 2], "new_users": [1, 2]})
    assert_frame_equal(got, expected)


def test_active_events_decide_who_is_active_but_not_who_is_new(workspace):
    """With active_events = [login], an email_open makes nobody active; a user is still new on
    the day of their first event of any kind, and every event is counted."""
    workspace.configure(active_events=["login"])
    workspace.load_events(
        [
            ("2026-03-01T10:00Z", "u1", "email_open"),
            ("2026-03-02T10:00Z", "u1", "login"),
            ("2026-03-02T11:00Z", "u2", "email_open"),
        ]
    )
    got = metrics.daily_kpis(workspace.reader()).select("day", "dau", "mau", "new_users", "events")
    expected = pl.DataFrame(
        {"day": days("2026-03-01", "2026-03-02"), "dau": [0, 1], "mau": [0, 1], "new_users": [1, 1], "events": [1, 2]}
    )
    assert_frame_equal(got, expected)


SEGMENT_ROWS = [
    ("2026-03-02T10:00Z", "u1", "login", "", "pro", "US"),
    ("2026-03-02T11:00Z", "u2", "login", "", "free", "DE"),
    ("2026-03-03T10:00Z", "u1", "purchase", "30", "pro", "US"),
    ("2026-03-03T12:00Z", "u3", "login", "", "team", "US"),
    ("2026-03-04T10:00Z", "u2", "login", "", "pro", "DE"),  # u2 upgraded
    ("2026-03-09T10:00Z", "u3", "purchase", "20", "team", ""),
]
SEGMENT_COLUMNS = ("event_time", "user_id", "event", "revenue", "plan", "country")


def test_active_users_filtered_and_broken_down(workspace):
    """Filters on one dimension are alternatives; the breakdown splits by the value on the events."""
    workspace.load_events(SEGMENT_ROWS, columns=SEGMENT_COLUMNS)
    segment = Segment(filters=(("plan", "pro"), ("plan", "team")), breakdown="country")
    got = metrics.active_users(workspace.reader(), Period(D(2026, 3, 2), D(2026, 3, 9)), "week", segment)
    expected = pl.DataFrame(
        {
            "day": [D(2026, 3, 2), D(2026, 3, 9), D(2026, 3, 2), D(2026, 3, 9), D(2026, 3, 2), D(2026, 3, 9)],
            "country": ["DE", "DE", "US", "US", None, None],
            "active_users": [1, 0, 2, 0, 0, 1],
            "days": [7, 1, 7, 1, 7, 1],
        }
    )
    assert_frame_equal(got, expected)


def test_segment_daily_active_users_roll_like_the_unsegmented_ones(workspace):
    workspace.load_events(SEGMENT_ROWS, columns=SEGMENT_COLUMNS)
    segment = Segment(filters=(("plan", "pro"),))
    got = metrics.active_users(workspace.reader(), Period(D(2026, 3, 2), D(2026, 3, 9)), segment=segment)
    assert got["dau"].to_list() == [1, 1, 1, 0, 0, 0, 0, 0]
    assert got["wau"].to_list() == [1, 1, 2, 2, 2, 2, 2, 2]  # u1 on Mar 2-3, u2 (pro) on Mar 4
    assert got["mau"].to_list() == [1, 1, 2, 2, 2, 2, 2, 2]


def test_unknown_dimension_is_named_with_the_known_ones(workspace):
    workspace.load_events(SEGMENT_ROWS, columns=SEGMENT_COLUMNS)
    with pytest.raises(ValueError, match=r"segment: 'plna' is not an event dimension \(known: country, plan\)"):
        metrics.active_users(workspace.reader(), segment=Segment(filters=(("plna", "pro"),)))


def test_activity_per_week_has_arpu_over_distinct_active_users(workspace):
    workspace.load_events(SEGMENT_ROWS, columns=SEGMENT_COLUMNS)
    got = metrics.activity(workspace.reader(), Period(D(2026, 3, 2), D(2026, 3, 15)), "week")
    expected = pl.DataFrame(
        {
            "day": [D(2026, 3, 2), D(2026, 3, 9)],
            "events": [5, 1],
            "revenue": [30.0, 20.0],
            "active_users": [3, 1],
            "new_users": [3, 0],
            "arpu": [10.0, 20.0],
            "days": [7, 7],
        }
    )
    assert_frame_equal(got, expected)


def test_activity_for_the_whole_period_by_plan(workspace):
    workspace.load_events(SEGMENT_ROWS, columns=SEGMENT_COLUMNS)
    got = metrics.activity(
        workspace.reader(), Period(D(2026, 3, 2), D(2026, 3, 9)), "period", Segment(breakdown="plan")
    )
    expected = pl.DataFrame(
        {
            "day": [D(2026, 3, 2)] * 3,
            "plan": ["free", "pro", "team"],
            "events": [1, 3, 2],
            "revenue": [0.0, 30.0, 20.0],
            "active_users": [1, 2, 1],
            "new_users": [1, 1, 1],  # u2's first day was a free day
            "arpu": [0.0, 15.0, 20.0],
            "days": [8, 8, 8],
        }
    )
    assert_frame_equal(got, expected)


def test_segment_from_raw_events_matches_the_dimension_rollup(workspace, monkeypatch):
    """Without the rollup (an older store), segments are computed from the raw events, the same."""
    workspace.configure(timezone="America/New_York")
    workspace.load_events(SEGMENT_ROWS, columns=SEGMENT_COLUMNS)
    segment = Segment(filters=(("plan", "pro"), ("plan", "team")), breakdown="country")
    reader = workspace.reader()
    assert metrics.base.workspace_of(reader).dimension_rollup
    with_rollup = [
        metrics.active_users(reader, segment=segment),
        metrics.activity(reader, grain="week", segment=segment),
    ]
    monkeypatch.setattr(metrics.base, "_table_exists", lambda reader, name: False)
    reader.memo.clear()  # the reader remembers its workspace facts: forget them, as a new reader would
    assert not metrics.base.workspace_of(reader).dimension_rollup
    assert_frame_equal(metrics.active_users(reader, segment=segment), with_rollup[0])
    assert_frame_equal(metrics.activity(reader, grain="week", segment=segment), with_rollup[1])


def test_dimension_rollup_merge_equals_a_rebuild(workspace):
    """The ingest's incremental merge of a second file (overlapping days, a new dimension) gives
    the rollup a full rebuild gives."""
    workspace.load_events(SEGMENT_ROWS[:4], columns=SEGMENT_COLUMNS)
    workspace.load_events(
        [
            ("2026-03-03T15:00Z", "u1", "login", "ios"),
            ("2026-03-03T16:00Z", "u1", "login", "ios"),
            ("2026-03-10T15:00Z", "u4", "login", "web"),
        ],
        columns=("event_time", "user_id", "event", "platform"),
    )
    with Store(workspace.config.store_dir).writer() as writer:
        merged = writer.frame("SELECT * FROM user_event_day_dims ORDER BY ALL")
        rebuild_dimension_rollup(writer, "UTC")
        rebuilt = writer.frame("SELECT * FROM user_event_day_dims ORDER BY ALL")
    assert_frame_equal(merged, rebuilt)
    assert "platform" in merged.columns and merged.height == 6
    assert merged.filter(platform="ios")["events"].to_list() == [2]


def test_dimension_rollup_heals_itself_when_missing_or_stale(workspace):
    workspace.load_events(SEGMENT_ROWS, columns=SEGMENT_COLUMNS)
    config = workspace.config
    store = Store(config.store_dir)
    with store.writer() as writer:
        writer.set_meta("dimension_rollup_timezone", "Europe/Berlin")  # built in another zone
        writer.con.execute("CREATE TEMP TABLE batch_dims AS SELECT * FROM user_event_day_dims LIMIT 0")
        merge_dimension_rollup(writer, D(2026, 3, 2), D(2026, 3, 9), "UTC")
        assert writer.meta("dimension_rollup_timezone") == "UTC"
        assert writer.frame("SELECT sum(events) AS n FROM user_event_day_dims")["n"].item() == len(SEGMENT_ROWS)


# --- lifecycle and retention --------------------------------------------------------------------

LIFECYCLE_ROWS = [
    ("2026-03-02T10:00Z", "u1", "login"),  # week 1: u1 and u2 new
    ("2026-03-03T10:00Z", "u2", "login"),
    ("2026-03-09T10:00Z", "u1", "login"),  # week 2: u1 returning, u3 new, u2 dormant
    ("2026-03-10T10:00Z", "u3", "login"),
    ("2026-03-17T10:00Z", "u2", "login"),  # week 3: u2 resurrecting, u3 returning, u1 dormant
    ("2026-03-18T10:00Z", "u3", "login"),
    ("2026-03-29T10:00Z", "u1", "login"),  # week 4 (Sunday): u1 resurrecting, u2 and u3 dormant
]


def test_lifecycle_per_week(workspace, cohort_tables):
    workspace.load_events(LIFECYCLE_ROWS)
    got = metrics.lifecycle(workspace.reader())
    expected = pl.DataFrame(
        {
            "week": [D(2026, 3, 2), D(2026, 3, 9), D(2026, 3, 16), D(2026, 3, 23)],
            "new": [2, 1, 0, 0],
            "returning": [0, 1, 1, 0],
            "resurrecting": [0, 0, 1, 1],
            "dormant": [0, -1, -1, -2],
            "complete": [True, True, True, True],
        }
    )
    assert_frame_equal(got, expected)


def test_lifecycle_marks_the_week_still_running(workspace, cohort_tables):
    workspace.load_events(LIFECYCLE_ROWS[:-1])
    got = metrics.lifecycle(workspace.reader(), Period(D(2026, 3, 9), D(2026, 3, 31)))
    assert got["week"].to_list() == [D(2026, 3, 9), D(2026, 3, 16)]  # weeks after the data are not shown
    assert got["complete"].to_list() == [True, False]


def clock_at(moment: dt.datetime) -> object:
    """A stand-in for pmkit.config's ``datetime`` module whose now() is ``moment`` (UTC): the
    workspace's today (``config.workspace_today``) and nothing else."""
    import types

    class At(dt.datetime):
        @classmethod
        def now(cls, tz=None):  # noqa: ANN206 - a fixed clock
            return moment.astimezone(tz) if tz else moment.replace(tzinfo=None)

    clock = types.ModuleType("datetime")
    clock.__dict__.update(vars(dt))
    clock.datetime = At
    return clock


def test_lifecycle_waits_for_a_week_ending_today_to_be_over(workspace, cohort_tables, monkeypatch):
    """Sunday 22 Nov, this morning's export: u2, active the week before, can still come back
    today. The week of 16 Nov was drawn finished (dormant -1) while its last day was not over
    (QA); it is over once the clock reaches Monday."""
    import pmkit.config

    workspace.load_events(
        [
            ("2026-11-09T10:00Z", "u1", "login"),
            ("2026-11-10T10:00Z", "u2", "login"),
            ("2026-11-16T10:00Z", "u1", "login"),
            ("2026-11-22T00:05Z", "u3", "login"),
        ]
    )
    period = Period(D(2026, 11, 9), D(2026, 11, 22))
    sunday = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)
    monkeypatch.setattr(pmkit.config, "dt", clock_at(sunday))
    got = metrics.lifecycle(workspace.reader(), period)
    assert got.select("week", "dormant", "complete").rows() == [(D(2026, 11, 9), 0, True), (D(2026, 11, 16), -1, False)]
    monkeypatch.setattr(pmkit.config, "dt", clock_at(sunday + dt.timedelta(days=1)))
    assert metrics.lifecycle(workspace.reader(), period)["complete"].to_list() == [True, True]


def test_weekly_retention_on_and_on_or_after(workspace, cohort_tables):
    """u1 and u2 join in the week of Mar 2 (u2 on its Sunday); u3 in the week of Mar 9."""
    workspace.load_events(
        [
            ("2026-03-02T10:00Z", "u1", "login"),
            ("2026-03-08T23:00Z", "u2", "login"),
            ("2026-03-09T10:00Z", "u1", "login"),
            ("2026-03-15T10:00Z", "u3", "login"),
            ("2026-03-16T10:00Z", "u2", "login"),
            ("2026-03-23T10:00Z", "u1", "login"),
        ]
    )
    got = metrics.weekly_retention(workspace.reader())
    expected = pl.DataFrame(
        {
            "cohort_week": [D(2026, 3, 2)] * 4 + [D(2026, 3, 9)] * 3 + [D(2026, 3, 16)] * 2 + [D(2026, 3, 23)],
            "size": [2, 2, 2, 2, 1, 1, 1, 0, 0, 0],
            "week": [0, 1, 2, 3, 0, 1, 2, 0, 1, 0],
            "users_on": [2, 1, 1, 1, 1, 0, 0, 0, 0, 0],
            "share_on": [1.0, 0.5, 0.5, 0.5, 1.0, 0.0, 0.0, None, None, None],
            "users_on_or_after": [2, 2, 2, 1, 1, 0, 0, 0, 0, 0],
            "share_on_or_after": [1.0, 1.0, 1.0, 0.5, 1.0, 0.0, 0.0, None, None, None],
        }
    )
    assert_frame_equal(got, expected)


def test_weekly_retention_by_group_splits_cohorts_by_the_first_day_and_counts_any_return(workspace):
    """u1 signs up on the free plan and comes back the next week on pro: a return to free's
    cohort, as PostHog takes a retention breakdown's value from the cohort's first event. Counted
    only as a return in the same group, an upgrade read as churn and the groups did not add up to
    the whole (free week 1: 1 of 2, where unsegmented it is 2 of 2)."""
    workspace.load_events(
        [
            ("2026-03-02T10:00Z", "u1", "login", "free"),
            ("2026-03-02T11:00Z", "u2", "login", "free"),
            ("2026-03-09T10:00Z", "u1", "login", "pro"),
            ("2026-03-10T10:00Z", "u2", "login", "free"),
        ],
        columns=("event_time", "user_id", "event", "plan"),
    )
    got = metrics.weekly_retention(workspace.reader(), segment=Segment(breakdown="plan"))
    free = got.filter(pl.col("plan") == "free", pl.col("cohort_week") == D(2026, 3, 2))
    assert free.select("week", "size", "users_on", "users_on_or_after").rows() == [(0, 2, 2, 2), (1, 2, 2, 2)]
    assert got.filter(pl.col("plan") == "pro")["size"].sum() == 0
    first_day = Period(D(2026, 3, 2), D(2026, 3, 2))
    day7 = metrics.day_retention(workspace.reader(), first_day, days=(7,), segment=Segment(breakdown="plan"))
    assert day7.filter(pl.col("plan") == "free").select("users", "retained").rows() == [(2, 1)]  # u1 on Mar 9


def test_retention_cohorts_one_row_per_cohort(workspace, cohort_tables):
    workspace.load_events(
        [
            ("2026-03-02T10:00Z", "u1", "login"),
            ("2026-03-09T10:00Z", "u2", "login"),
            ("2026-03-16T10:00Z", "u1", "login"),
        ]
    )
    got = metrics.retention_cohorts(workspace.reader())
    assert got.rows() == [
        (D(2026, 3, 2), 1, [1.0, 0.0, 1.0]),
        (D(2026, 3, 9), 1, [1.0, 0.0]),
        (D(2026, 3, 16), 0, [None]),
    ]


def test_day_n_retention_leaves_out_users_whose_day_n_is_not_loaded(workspace, cohort_tables):
    workspace.load_events(
        [
            ("2026-03-01T23:00Z", "u1", "signup"),
            ("2026-03-02T00:30Z", "u1", "login"),  # the next calendar day: D1
            ("2026-03-08T09:00Z", "u1", "login"),  # D7
            ("2026-03-01T08:00Z", "u2", "signup"),
            ("2026-03-03T08:00Z", "u2", "login"),  # D2 only
            ("2026-03-02T08:00Z", "u3", "signup"),
            ("2026-03-03T08:00Z", "u3", "login"),  # D1; its D7 (Mar 9) is after the last loaded day
        ]
    )
    got = metrics.day_retention(workspace.reader(), Period(D(2026, 3, 1), D(2026, 3, 2)), days=(1, 7))
    expected = pl.DataFrame(
        {"day": [D(2026, 3, 1)] * 2, "day_n": [1, 7], "users": [3, 2], "retained": [2, 1], "rate": [2 / 3, 0.5]}
    )
    assert_frame_equal(got, expected)


def test_day_n_retention_waits_for_today_to_be_over(workspace, cohort_tables):
    """This morning's export: the users first seen yesterday have had a few hours of their day 1.
    Counted as eligible, D1 read 3 of 8 (37.5%) where the whole days say 2 of 4 (QA). While
    today is not over it is no user's day N; the day's own users still count on the charts."""
    today = dt.datetime.now(dt.UTC).date()
    before, yesterday = today - dt.timedelta(days=2), today - dt.timedelta(days=1)
    rows = [(f"{before}T10:00Z", f"a{n}", "signup") for n in range(4)]
    rows += [(f"{yesterday}T10:00Z", f"a{n}", "login") for n in range(2)]  # the first cohort's D1: 2 of 4
    rows += [(f"{yesterday}T11:00Z", f"b{n}", "signup") for n in range(4)]
    rows += [(f"{today}T00:10Z", "b0", "login")]  # the second cohort's D1 so far: 1 of 4
    workspace.load_events(rows)
    reader = workspace.reader()
    got = metrics.day_retention(reader, Period(before, today), days=(1,))
    assert got.select("users", "retained").row(0) == (4, 2)
    assert got["rate"].item() == 0.5
    # By cohort day: yesterday's users are not judged yet; today's sign-ups have no day 1.
    by_day = metrics.day_retention(reader, Period(before, today), days=(1,), grain="day")
    assert by_day.select("day", "users", "retained").rows() == [(before, 4, 2), (yesterday, 0, 0), (today, 0, 0)]


# --- funnels ---------------------------------------------------------------------------------------

FUNNEL_ROWS = [
    ("2026-03-01T11:00Z", "u1", "signup"),  # u1: create_report before signup does not count
    ("2026-03-01T10:00Z", "u1", "create_report"),
    ("2026-03-01T10:00Z", "u2", "signup"),  # u2: create_report exactly 7 days later counts
    ("2026-03-08T10:00Z", "u2", "create_report"),
    ("2026-03-01T10:00Z", "u3", "signup"),  # u3: one second past the window does not
    ("2026-03-08T10:00:01Z", "u3", "create_report"),
    ("2026-03-02T12:00Z", "u4", "create_report"),  # u4: the same instant counts, in step order
    ("2026-03-02T12:00Z", "u4", "signup"),
    ("2026-02-20T09:00Z", "u5", "signup"),  # u5: the second attempt converts, 2 days after it
    ("2026-03-03T09:00Z", "u5", "signup"),
    ("2026-03-05T09:00Z", "u5", "create_report"),
    ("2026-03-05T10:00Z", "u5", "share_report"),
    ("2026-03-02T09:00Z", "u6", "signup"),  # u6: share before create: stops at step 2
    ("2026-03-02T09:30Z", "u6", "share_report"),
    ("2026-03-02T10:00Z", "u6", "create_report"),
]


def test_funnel_order_window_end_and_same_instant(workspace):
    workspace.load_events(FUNNEL_ROWS)
    got = metrics.funnel(workspace.reader(), ["signup", "create_report", "share_report"], window_days=7)
    expected = pl.DataFrame(
        {
            "step": [1, 2, 3],
            "event": ["signup", "create_report", "share_report"],
            "users": [6, 4, 1],
            "conversion": [1.0, 4 / 6, 1 / 6],
            "conversion_from_previous": [None, 4 / 6, 1 / 4],
            "drop_off": [None, 2, 3],
            "drop_off_rate": [None, 2 / 6, 3 / 4],
            # step 2: u2 7 days, u4 0 s, u5 2 days (its earliest attempt reaching step 3), u6 1 h.
            "median_seconds": [None, (3_600 + 172_800) / 2, 3_600.0],
        }
    )
    assert_frame_equal(got, expected)


def test_a_repeated_step_at_the_same_instant_as_the_step_before_counts(workspace):
    """view > signup > view: r1's second view is at the sign-up's instant ("at or after" it), r2's
    a second later: both reach step 3 (0 s and 1 s). A view is never two steps of one attempt:
    r3's only view, at its sign-up's instant, is step 1 (or 3), not both."""
    workspace.load_events(
        [
            ("2026-10-10T10:00:00Z", "r1", "view"),
            ("2026-10-10T10:00:05Z", "r1", "signup"),
            ("2026-10-10T10:00:05Z", "r1", "view"),
            ("2026-10-10T10:00:00Z", "r2", "view"),
            ("2026-10-10T10:00:05Z", "r2", "signup"),
            ("2026-10-10T10:00:06Z", "r2", "view"),
            ("2026-10-10T10:00:05Z", "r3", "signup"),
            ("2026-10-10T10:00:05Z", "r3", "view"),
        ]
    )
    got = metrics.funnel(workspace.reader(), ["view", "signup", "view"], window_days=1)
    assert got["users"].to_list() == [3, 3, 2]
    assert got["median_seconds"].to_list() == [None, 5.0, 0.5]


def test_funnel_attempts_start_in_the_period_and_finish_after_it(workspace):
    workspace.load_events(FUNNEL_ROWS)
    got = metrics.funnel(workspace.reader(), ["signup", "create_report"], period=Period(D(2026, 3, 3), D(2026, 3, 3)))
    assert got["users"].to_list() == [1, 1]  # only u5's Mar 3 signup; its report on Mar 5 counts


def test_funnel_days_are_local(workspace):
    workspace.configure(timezone="America/New_York")
    workspace.load_events([("2026-03-02T03:00Z", "u1", "signup"), ("2026-03-02T04:00Z", "u1", "create_report")])
    reader = workspace.reader()
    assert metrics.funnel(reader, ["signup", "create_report"], period=Period(D(2026, 3, 1), D(2026, 3, 1)))[
        "users"
    ].to_list() == [1, 1]
    assert metrics.funnel(reader, ["signup", "create_report"], period=Period(D(2026, 3, 2), D(2026, 3, 2)))[
        "users"
    ].to_list() == [0, 0]


def test_funnel_with_a_repeated_step_needs_two_events(workspace):
    workspace.load_events(
        [
            ("2026-03-01T10:00Z", "u1", "login"),
            ("2026-03-01T10:00Z", "u2", "login"),
            ("2026-03-01T10:00Z", "u2", "login"),  # two logins at the same instant are two events
            ("2026-03-01T12:00Z", "u2", "purchase"),
        ]
    )
    got = metrics.funnel(workspace.reader(), ["login", "login", "purchase"], window_days=1)
    assert got["users"].to_list() == [2, 1, 1]
    assert got["median_seconds"].to_list() == [None, 0.0, 7_200.0]


def test_funnel_breakdown_uses_the_first_step_value(workspace):
    workspace.load_events(
        [
            ("2026-03-01T10:00Z", "u1", "signup", "free"),
            ("2026-03-02T10:00Z", "u1", "create_report", "pro"),
            ("2026-03-01T10:00Z", "u2", "signup", "pro"),
        ],
        columns=("event_time", "user_id", "event", "plan"),
    )
    got = metrics.funnel(workspace.reader(), ["signup", "create_report"], segment=Segment(breakdown="plan"))
    assert got.select("plan", "step", "users").rows() == [("free", 1, 1), ("free", 2, 1), ("pro", 1, 1), ("pro", 2, 0)]


def test_a_repeated_step_at_one_instant_counts_for_each_breakdown_group(workspace):
    """view > signup > view with two views (plans a and b) and the sign-up at one instant: each
    view starts an attempt and the other view, at the sign-up's instant, is its step 3. The
    attempt of the view sorted second searched only after its own view and found none: plan b
    read 0 of 1 at step 3 (QA)."""
    workspace.load_events(
        [
            ("2026-03-01T10:00Z", "u1", "view", "a"),
            ("2026-03-01T10:00Z", "u1", "view", "b"),
            ("2026-03-01T10:00Z", "u1", "signup", "a"),
        ],
        columns=("event_time", "user_id", "event", "plan"),
    )
    got = metrics.funnel(
        workspace.reader(), ["view", "signup", "view"], window_days=1, segment=Segment(breakdown="plan")
    )
    assert got.select("plan", "step", "users").rows() == [
        ("a", 1, 1),
        ("a", 2, 1),
        ("a", 3, 1),
        ("b", 1, 1),
        ("b", 2, 1),
        ("b", 3, 1),
    ]
    assert got["median_seconds"].to_list() == [None, 0.0, 0.0] * 2


def test_source_columns_named_like_the_stores_own_are_kept_under_another_name(workspace):
    """A column named day, user_key, file_id or events collided with the columns the ingest adds
    beside the dimensions (the load failed with a Polars error): it is kept as source_<name>, and
    a breakdown by it counts like any other dimension."""
    workspace.load_events(
        [
            ("2026-03-01T10:00Z", "u1", "login", "mon", "k1", "f1", "3"),
            ("2026-03-01T11:00Z", "u2", "login", "mon", "k2", "f1", "3"),
            ("2026-03-01T12:00Z", "u3", "login", "tue", "k3", "f2", "4"),
        ],
        columns=("event_time", "user_id", "event", "day", "user_key", "file_id", "events"),
    )
    reader = workspace.reader()
    assert {"source_day", "source_user_key", "source_file_id", "source_events"} <= set(
        reader.frame("SELECT * FROM events LIMIT 0").columns
    )
    day = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 1))
    got = metrics.active_users(reader, day, segment=Segment(breakdown="source_day"))
    assert got.select("source_day", "dau").rows() == [("mon", 2), ("tue", 1)]


def test_a_breakdown_named_like_any_column_of_the_result_is_refused_with_a_message(workspace):
    """Weekly active users are computed with activity's columns (new_users among them): a
    dimension of that name failed with Polars' duplicate-column error instead of the message."""
    workspace.load_events(
        [("2026-03-02T10:00Z", "u1", "login", "yes")], columns=("event_time", "user_id", "event", "new_users")
    )
    with pytest.raises(ValueError, match="cannot break down by 'new_users'"):
        metrics.active_users(workspace.reader(), grain="week", segment=Segment(breakdown="new_users"))


def test_funnel_needs_two_steps():
    with pytest.raises(ValueError, match="need at least two event names"):
        metrics.funnel(None, ["signup"])  # type: ignore[arg-type]


# --- adoption and engagement -----------------------------------------------------------------------


def test_feature_adoption_is_a_share_of_mau_over_30_days(workspace):
    workspace.configure(active_events=["login", "share_report"])
    workspace.load_events(
        [
            ("2026-03-01T10:00Z", "u1", "share_report"),
            ("2026-03-10T10:00Z", "u2", "login"),
            ("2026-03-10T11:00Z", "u3", "email_open"),  # not active: not in MAU
            ("2026-03-12T11:00Z", "u4", "login"),
            ("2026-03-20T11:00Z", "u4", "share_report"),
        ]
    )
    got = metrics.feature_adoption(workspace.reader(), "share_report", Period(D(2026, 3, 10), D(2026, 4, 1)))
    by_day = {row["day"]: (row["adopters"], row["mau"]) for row in got.iter_rows(named=True)}
    assert by_day[D(2026, 3, 10)] == (1, 2)
    assert by_day[D(2026, 3, 20)] == (2, 3)
    assert by_day[D(2026, 3, 30)] == (2, 3)  # u1's Mar 1 is the 30th day back
    assert by_day[D(2026, 3, 31)] == (1, 2)
    assert got.filter(day=D(2026, 3, 31))["adoption"].item() == 0.5


def test_feature_adoption_counts_only_users_in_mau(workspace):
    """A feature event that is not an active event does not make its user part of MAU."""
    workspace.configure(active_events=["login"])
    workspace.load_events([("2026-03-01T10:00Z", "u1", "share_report"), ("2026-03-01T11:00Z", "u2", "login")])
    got = metrics.feature_adoption(workspace.reader(), "share_report")
    assert got.select("adopters", "mau").row(0) == (0, 1)


def test_engagement_matrix_adoption_and_frequency(workspace, feature_table):
    workspace.load_events(
        [
            ("2026-03-01T10:00Z", "u1", "create_report"),
            ("2026-03-01T11:00Z", "u1", "create_report"),
            ("2026-03-05T10:00Z", "u1", "create_report"),
            ("2026-03-05T10:00Z", "u2", "create_report"),
            ("2026-03-06T10:00Z", "u2", "share_report"),
            ("2026-03-06T10:00Z", "u3", "login"),
            ("2026-02-01T10:00Z", "u4", "share_report"),  # before the 30 days
        ]
    )
    got = metrics.engagement_matrix(
        workspace.reader(), as_of=D(2026, 3, 6), features=["create_report", "share_report", "export"]
    )
    expected = pl.DataFrame(
        {
            "event": ["create_report", "share_report", "export"],
            "adopters": [2, 1, 0],
            "mau": [3, 3, 3],
            "adoption": [2 / 3, 1 / 3, 0.0],
            "days_used": [3, 1, 0],
            "frequency": [1.5, 1.0, None],
            "events": [4, 1, 0],
        }
    )
    assert_frame_equal(got, expected)


def test_engagement_matrix_by_group_leaves_out_a_group_with_no_active_user(workspace):
    """Per breakdown group, adopters are the group's MAU users who did the event; a group whose
    users did only events that are not activity has no MAU, so no row."""
    workspace.configure(active_events=["login"])
    workspace.load_events(
        [
            ("2026-03-01T10:00Z", "u1", "login", "free"),
            ("2026-03-02T10:00Z", "u1", "share_report", "free"),
            ("2026-03-03T10:00Z", "u1", "share_report", "free"),
            ("2026-03-02T10:00Z", "u2", "share_report", "free"),  # not in the MAU: not an adopter
            ("2026-03-02T10:00Z", "u3", "share_report", "pro"),  # the pro group has no MAU
        ],
        columns=("event_time", "user_id", "event", "plan"),
    )
    got = metrics.engagement_matrix(workspace.reader(), as_of=D(2026, 3, 6), segment=Segment(breakdown="plan"))
    assert got.select("event", "plan", "adopters", "mau", "days_used", "events").rows() == [
        ("login", "free", 1, 1, 1, 1),
        ("share_report", "free", 1, 1, 2, 2),
    ]


# --- feedback ---------------------------------------------------------------------------------------


def test_nps_and_csat_per_week(workspace):
    workspace.configure(timezone="America/New_York")
    answers = [
        (f"2026-03-0{2 + i % 3}T12:00:00Z", f"u{i}", score, "nps") for i, score in enumerate([10, 9, 8, 7, 6, 0])
    ]
    answers += [
        ("2026-03-10T12:00:00Z", "u7", 10, "nps"),
        ("2026-03-10T12:00:00Z", "u8", 10, "nps"),
        ("2026-03-11T12:00:00Z", "u9", 3, "nps"),
    ]
    answers += [
        ("2026-03-02T03:00:00Z", "u1", 5, "csat"),
        ("2026-03-03T12:00:00Z", "u2", 4, "csat"),
        ("2026-03-03T13:00:00Z", "u3", 3, "csat"),
    ]
    workspace.load_feedback(answers)
    reader = workspace.reader()
    got = metrics.nps(reader, Period(D(2026, 3, 2), D(2026, 3, 15)), "week")
    expected = pl.DataFrame(
        {
            "day": [D(2026, 3, 2), D(2026, 3, 9)],
            "responses": [6, 3],
            "promoters": [2, 2],
            "passives": [2, 0],
            "detractors": [2, 1],
            "nps": [0.0, 100 / 3],
        }
    )
    assert_frame_equal(got, expected)
    # The 03:00 UTC answer is on Sunday Mar 1 in New York: the week before.
    csat = metrics.csat(reader, Period(D(2026, 2, 23), D(2026, 3, 8)), "week")
    expected_csat = pl.DataFrame(
        {"day": [D(2026, 2, 23), D(2026, 3, 2)], "responses": [1, 2], "satisfied": [1, 1], "csat": [1.0, 0.5]}
    )
    assert_frame_equal(csat, expected_csat)


# --- comparisons, targets, anomalies ---------------------------------------------------------------


def series_of(start: str, values: list[float | None]) -> pl.DataFrame:
    first = day(start)
    return pl.DataFrame(
        {"day": [first + dt.timedelta(days=i) for i in range(len(values))], "value": values},
        schema={"day": pl.Date, "value": pl.Float64},
    )


def test_compare_with_the_previous_period_and_last_year():
    series = pl.concat([series_of("2025-03-02", [1.0, 2.0]), series_of("2026-02-27", [0.0, 4.0, 5.0, 6.0])])
    got = metrics.compare(
        series, Period(D(2026, 3, 1), D(2026, 3, 2)), against=("previous_period", "same_period_last_year")
    )
    expected = pl.DataFrame(
        {
            "day": [D(2026, 3, 1), D(2026, 3, 2)],
            "value": [5.0, 6.0],
            "previous_period_day": [D(2026, 2, 27), D(2026, 2, 28)],
            "previous_period_value": [0.0, 4.0],
            "previous_period_change": [5.0, 2.0],
            "previous_period_change_pct": [None, 50.0],
            "same_period_last_year_day": [D(2025, 3, 2), D(2025, 3, 3)],  # 52 weeks back: Sunday to Sunday
            "same_period_last_year_value": [1.0, 2.0],
            "same_period_last_year_change": [4.0, 4.0],
            "same_period_last_year_change_pct": [400.0, 200.0],
        }
    )
    assert_frame_equal(got, expected)


def test_compare_refuses_more_than_three_or_unknown_comparisons():
    period = Period(D(2026, 3, 1), D(2026, 3, 2))
    with pytest.raises(ValueError, match="at most 3"):
        metrics.compare(series_of("2026-03-01", [1.0]), period, against=["previous_period"] * 4)
    with pytest.raises(ValueError, match="'last_decade' is not a comparison"):
        metrics.compare(series_of("2026-03-01", [1.0]), period, against=["last_decade"])


def test_rolling_averages_need_a_full_window():
    series = series_of("2026-03-01", [float(i) for i in range(1, 11)])
    got = metrics.rolling_average(series, windows=(7,))
    assert got["avg_7d"].to_list()[:7] == [None] * 6 + [4.0]
    assert got["avg_7d"].to_list()[-1] == 7.0
    gappy = series.filter(pl.col("day") != D(2026, 3, 9))  # a missing day leaves its windows blank
    assert metrics.rolling_average(gappy, windows=(7,))["avg_7d"].to_list()[-3:] == [5.0, None, None]


def test_target_path_and_status_are_direction_aware():
    path = metrics.target_path(100, 120, D(2026, 1, 1), D(2026, 1, 5), "increase", end=D(2026, 1, 6))
    assert path["target"].to_list() == [100.0, 105.0, 110.0, 115.0, 120.0, 120.0]
    status = metrics.target_status
    args = (D(2026, 1, 3), 100, 120, D(2026, 1, 1), D(2026, 1, 5))
    assert status(110, *args, "increase").status == "on_track"
    assert status(109, *args, "increase").status == "at_risk"  # 1 short of 110: within 5% of the 20 planned
    assert status(108.9, *args, "increase").status == "off_track"
    assert status(90, D(2026, 1, 3), 100, 80, D(2026, 1, 1), D(2026, 1, 5), "decrease").status == "on_track"
    assert status(95, D(2026, 1, 3), 100, 80, D(2026, 1, 1), D(2026, 1, 5), "decrease").status == "off_track"
    assert status(0.39, D(2026, 1, 3), None, 0.4, D(2026, 1, 1), D(2026, 1, 5), "stay_above").status == "at_risk"
    assert status(0.5, D(2026, 1, 3), None, 0.4, D(2026, 1, 1), D(2026, 1, 5), "stay_below").status == "off_track"
    assert status(None, *args, "increase").status == "no_data"
    assert (
        status(109, *args, "increase").reason
        == "109 on 2026-01-03 vs 110 expected on the path to 120 by 2026-01-05 (1 below)"
    )
    with pytest.raises(ValueError, match="'up' is not one of increase, decrease, stay_above, stay_below"):
        metrics.target_path(1, 2, D(2026, 1, 1), D(2026, 1, 2), "up")


def test_anomalies_against_the_same_weekday():
    """Ten weeks of a weekday/weekend pattern with noise; one Monday triples."""
    values = []
    for week in range(10):
        for weekday in range(7):
            base = 100.0 if weekday < 5 else 40.0
            values.append(base + (week % 3) - 1)
    values[9 * 7] = 300.0  # the Monday of week 10
    got = metrics.anomalies(series_of("2026-01-05", values))  # Jan 5 is a Monday
    assert got.filter(pl.col("anomaly"))["day"].to_list() == [D(2026, 3, 9)]
    assert got.head(28)["anomaly"].null_count() == 28  # fewer than 4 earlier weeks: not judged
    weekend = got.filter(day=D(2026, 3, 14))  # a Saturday at 40 +- 1 is normal
    assert weekend["anomaly"].item() is False and weekend["expected"].item() == 40.0
    assert "3.5 robust standard deviations" in ANOMALY_RULE and "previous 8 weeks" in ANOMALY_RULE


def test_anomaly_with_no_spread_flags_any_change():
    got = metrics.anomalies(series_of("2026-01-05", [0.0] * 35 + [1.0]))
    assert got["anomaly"].to_list()[-1] is True and math.isinf(got["robust_z"].to_list()[-1])
    assert got["anomaly"].to_list()[-2] is False


# --- metric_series ---------------------------------------------------------------------------------

METRICS_TOML = """
[metrics.reports]
type = "count"
event = "create_report"
[metrics.reporters]
type = "unique_users"
events = ["create_report", "share_report"]
[metrics.report_revenue]
type = "sum_revenue"
event = "purchase"
[metrics.reports_per_user]
type = "ratio"
numerator = "reports"
denominator = "dau"
[metrics.activation]
type = "funnel"
steps = ["signup", "create_report"]
window_days = 2
[metrics.week1]
type = "retention"
week = 1
"""

SERIES_ROWS = [
    ("2026-03-02T10:00Z", "u1", "signup", ""),
    ("2026-03-02T11:00Z", "u1", "create_report", ""),
    ("2026-03-02T12:00Z", "u1", "create_report", ""),
    ("2026-03-03T10:00Z", "u2", "signup", ""),
    ("2026-03-03T11:00Z", "u2", "purchase", "12"),
    ("2026-03-06T10:00Z", "u2", "create_report", ""),  # 3 days after signup: past the 2-day window
    ("2026-03-09T10:00Z", "u1", "share_report", ""),  # u1 back in days 7..13
    ("2026-03-20T10:00Z", "u3", "login", ""),
]


def test_metric_series_for_custom_metrics(workspace):
    workspace.configure(metrics=METRICS_TOML)
    workspace.load_events(SERIES_ROWS, columns=("event_time", "user_id", "event", "revenue"))
    definitions = parse_definitions(load_config(workspace.root).metrics)
    reader = workspace.reader()
    period = Period(D(2026, 3, 2), D(2026, 3, 15))

    def weekly(key: str) -> list[float | None]:
        got = metrics.metric_series(reader, key, period, "week", definitions)
        assert got["day"].to_list() == [D(2026, 3, 2), D(2026, 3, 9)]
        return got["value"].to_list()

    assert weekly("reports") == [3.0, 0.0]
    assert weekly("reporters") == [2.0, 1.0]
    assert weekly("report_revenue") == [12.0, 0.0]
    # DAU is a level: the week pools its days, 3 reports / 3 user-days (u1 Mar 2, u2 Mar 3 and 6),
    # then 0 / 1 (u1 Mar 9). By each side's own rule it read 3 / the mean DAU 3/7 = 7.
    assert weekly("reports_per_user") == [1.0, 0.0]
    assert weekly("activation") == [0.5, None]  # u1 yes, u2 no; no sign-ups in the week of Mar 9
    assert weekly("week1") == [0.5, None]  # u1 and u2 first seen; u1 back on day 7
    daily = metrics.metric_series(reader, "activation", Period(D(2026, 3, 2), D(2026, 3, 4)), "day", definitions)
    assert daily["value"].to_list() == [1.0, 0.0, None]  # nobody signed up on Mar 4


def test_a_ratio_by_segment_is_0_where_its_count_saw_nothing_and_the_denominator_did(workspace):
    """buyers / DAU by plan: on Mar 2 plan free has 1 active user and no buyer, so 0 / 1 = 0, not
    blank; on Mar 3 free has no active user: blank (0 / 0). pro: 1 / 1, then 0 / 1. The blank
    came from the count's own frame, which holds only the plans it saw."""
    workspace.configure(
        metrics='[metrics.buyers]\ntype = "unique_users"\nevent = "purchase"\n'
        '[metrics.buyer_share]\ntype = "ratio"\nnumerator = "buyers"\ndenominator = "dau"\n'
    )
    workspace.load_events(
        [
            ("2026-03-02T10:00Z", "u1", "login", "free"),
            ("2026-03-02T11:00Z", "u2", "purchase", "pro"),
            ("2026-03-03T11:00Z", "u2", "login", "pro"),
        ],
        columns=("event_time", "user_id", "event", "plan"),
    )
    definitions = parse_definitions(load_config(workspace.root).metrics)
    reader = workspace.reader()
    period = Period(D(2026, 3, 2), D(2026, 3, 3))
    got = metrics.metric_series(reader, "buyer_share", period, "day", definitions, Segment(breakdown="plan"))
    assert sorted(got.select("plan", "day", "value").rows(), key=str) == [
        ("free", D(2026, 3, 2), 0.0),
        ("free", D(2026, 3, 3), None),
        ("pro", D(2026, 3, 2), 1.0),
        ("pro", D(2026, 3, 3), 0.0),
    ]
    whole = metrics.metric_series(reader, "buyer_share", period, "period", definitions, Segment(breakdown="plan"))
    # Over the period, pooled (DAU is a level): free 0 buyers / 1 user-day; pro 1 / 2 user-days.
    assert sorted(whole.select("plan", "value").rows()) == [("free", 0.0), ("pro", 0.5)]


def test_a_ratio_over_dau_keeps_its_daily_scale_over_any_range(workspace):
    """shares / DAU: every day 2 users active and 1 share, so 0.5 a day. Over 7 and 28 days it read
    3.5 and 14 (the shares' sum over DAU's mean), and an objective targeting 0.6 read achieved.
    Pooled: 7 / 14 and 28 / 56 = 0.5."""
    workspace.configure(
        metrics='[metrics.shares]\ntype = "count"\nevent = "share"\n'
        '[metrics.share_rate]\ntype = "ratio"\nnumerator = "shares"\ndenominator = "dau"\n'
    )
    rows = []
    for n in range(28):
        day = (dt.date(2026, 3, 2) + dt.timedelta(days=n)).isoformat()
        rows += [(f"{day}T10:00Z", "u1", "share"), (f"{day}T11:00Z", "u2", "login")]
    workspace.load_events(rows)
    definitions = parse_definitions(load_config(workspace.root).metrics)
    reader = workspace.reader()
    for days in (7, 28):
        period = Period(D(2026, 3, 2), D(2026, 3, 2) + dt.timedelta(days=days - 1))
        assert metrics.metric_series(reader, "share_rate", period, "period", definitions)["value"].to_list() == [0.5]
    weeks = metrics.metric_series(reader, "share_rate", Period(D(2026, 3, 2), D(2026, 3, 29)), "week", definitions)
    assert weeks["value"].to_list() == [0.5, 0.5, 0.5, 0.5]


def test_funnel_metric_leaves_out_attempts_whose_window_is_not_loaded(workspace):
    """Sign-ups in the last window_days days may still convert: they count once their window is loaded."""
    workspace.configure(metrics=METRICS_TOML)  # activation: signup -> create_report within 2 days
    workspace.load_events(
        [
            ("2026-03-02T10:00Z", "u1", "signup"),
            ("2026-03-02T11:00Z", "u1", "create_report"),
            ("2026-03-03T10:00Z", "u2", "signup"),  # Mar 3 + 2 days = the last loaded day: counted
            ("2026-03-04T10:00Z", "u3", "signup"),  # not yet: its window ends after Mar 5
            ("2026-03-05T10:00Z", "u4", "login"),
        ]
    )
    definitions = parse_definitions(load_config(workspace.root).metrics)
    reader = workspace.reader()
    whole = metrics.metric_series(reader, "activation", Period(D(2026, 3, 2), D(2026, 3, 5)), "period", definitions)
    assert whole["value"].to_list() == [0.5]
    daily = metrics.metric_series(reader, "activation", Period(D(2026, 3, 2), D(2026, 3, 5)), "day", definitions)
    assert daily["value"].to_list() == [1.0, 0.0, None, None]


def test_a_funnel_day_waits_for_a_window_that_a_short_day_pushes_past_the_last_day(workspace):
    """New York springs forward on 9 Mar 2025: its day has 23 hours, so a 1-day window from a
    sign-up at 8 Mar 23:30 EST ends at 10 Mar 00:30 EDT. With 9 Mar the last loaded day, 8 Mar
    read 0.0 as final, and 1.0 once 10 Mar was loaded (QA). It stays blank until then."""
    workspace.configure(
        timezone="America/New_York",
        metrics='[metrics.act]\nname = "Act"\ntype = "funnel"\nsteps = ["signup", "create"]\nwindow_days = 1\n',
    )
    workspace.load_events(
        [
            ("2025-03-07T15:00:00Z", "filler", "x"),
            ("2025-03-09T04:30:00Z", "u1", "signup"),  # 8 Mar 23:30 EST
            ("2025-03-10T03:00:00Z", "filler", "x"),  # 9 Mar 23:00 EDT: the last loaded day
        ]
    )
    definitions = parse_definitions(load_config(workspace.root).metrics)
    days = Period(D(2025, 3, 7), D(2025, 3, 9))
    assert metrics.metric_series(workspace.reader(), "act", days, "day", definitions)["value"].to_list() == [
        None,
        None,
        None,
    ]
    workspace.load_events([("2025-03-10T04:15:00Z", "u1", "create")])  # 10 Mar 00:15 EDT, 23 h 45 min later
    assert metrics.metric_series(workspace.reader(), "act", days, "day", definitions)["value"].to_list() == [
        None,
        1.0,
        None,
    ]


def test_a_funnel_with_a_fractional_window_reads_the_events_its_last_attempts_reach(workspace):
    """A window of 1.9 days (45.6 h) from a New York sign-up at 10 Jun 23:00 EDT reaches 12 Jun
    20:36 EDT: the step at 20:30 was not read for a range ending 10 Jun (the events read went
    ``int(window)`` days past it), and was for one ending 11 Jun (QA)."""
    workspace.configure(timezone="America/New_York")
    workspace.load_events(
        [
            ("2025-06-11T03:00:00Z", "u1", "signup"),  # 10 Jun 23:00 EDT
            ("2025-06-13T00:30:00Z", "u1", "create"),  # 45.5 h later
            ("2025-06-20T00:00:00Z", "filler", "x"),
        ]
    )
    reader = workspace.reader()
    for end in (D(2025, 6, 10), D(2025, 6, 11)):
        got = metrics.funnel(reader, ["signup", "create"], window_days=1.9, period=Period(D(2025, 6, 10), end))
        assert got["users"].to_list() == [1, 1], end


def test_metric_series_builtin_bucket_rules(workspace):
    workspace.load_events(SERIES_ROWS, columns=("event_time", "user_id", "event", "revenue"))
    reader = workspace.reader()
    period = Period(D(2026, 3, 2), D(2026, 3, 8))
    daily = metrics.daily_kpis(reader, period)
    for key in ("dau", "wau", "mau", "stickiness", "new_users", "events", "revenue", "arpu"):
        got = metrics.metric_series(reader, key, period)
        assert_frame_equal(got, daily.select("day", pl.col(key).cast(pl.Float64).alias("value")))
    week = {
        key: metrics.metric_series(reader, key, period, "week")["value"].item()
        for key in ("dau", "mau", "events", "arpu")
    }
    assert week == {"dau": 3 / 7, "mau": 2.0, "events": 6.0, "arpu": 6.0}  # 12 revenue / 2 users active in the week


def test_metric_series_names_an_unknown_key(workspace):
    workspace.load_events([("2026-03-02T10:00Z", "u1", "signup")])
    with pytest.raises(ValueError, match=r"metric 'activaton' is not defined \(built-in: dau, wau"):
        metrics.metric_series(workspace.reader(), "activaton")


def test_compare_metric_with_the_previous_period(workspace):
    workspace.load_events(SERIES_ROWS, columns=("event_time", "user_id", "event", "revenue"))
    got = metrics.compare_metric(workspace.reader(), "events", Period(D(2026, 3, 9), D(2026, 3, 15)))
    assert got.select("comparison", "start", "end", "value", "base", "change").row(0) == (
        "previous_period",
        D(2026, 3, 2),
        D(2026, 3, 8),
        1.0,
        6.0,
        -5.0,
    )
    assert got["change_pct"].item() == pytest.approx(-500 / 6)


def test_definitions_cover_every_builtin_metric():
    for key in metrics.BUILTIN_METRICS:
        assert metrics.DEFINITIONS[key]
    for view in (
        "lifecycle",
        "weekly_retention",
        "day_n_retention",
        "funnel",
        "feature_adoption",
        "engagement",
        "nps",
        "csat",
        "anomaly",
    ):
        assert metrics.DEFINITIONS[view]


def test_every_metric_answers_on_an_empty_workspace(workspace):
    """Before anything is loaded each metric returns an empty or zero frame, never an error."""
    reader = workspace.reader()
    period = Period(D(2026, 3, 2), D(2026, 3, 8))
    assert metrics.daily_kpis(reader, period)["dau"].to_list() == [0] * 7
    assert metrics.active_users(reader, period, "week")["active_users"].to_list() == [0]
    assert metrics.activity(reader, period, "period")["events"].to_list() == [0]
    assert metrics.lifecycle(reader, period).height == 0
    assert metrics.weekly_retention(reader, period).height == 0
    assert metrics.day_retention(reader, period)["users"].to_list() == [0, 0, 0]
    assert metrics.funnel(reader, ["signup", "create_report"], period=period)["users"].to_list() == [0, 0]
    assert metrics.feature_adoption(reader, "share_report", period)["mau"].to_list() == [0] * 7
    assert metrics.engagement_matrix(reader, D(2026, 3, 8)).height == 0
    assert metrics.nps(reader, period)["responses"].to_list() == [0]
    assert metrics.metric_series(reader, "arpu", period, "week")["value"].to_list() == [None]
    assert metrics.metric_series(reader, "dau")["value"].to_list() == [0.0]  # today, with no data


@pytest.mark.parametrize("saved", [False, True])
def test_a_funnel_leaves_out_steps_dated_after_today(tmp_path, utc_events, saved):
    """u1 signed up 8 days ago and u2 4 days ago; u2's create is dated two days after today (a
    wrong clock in an export). The pages stop at today and the source line says that event is
    not shown, yet the funnel counted it: 1 of 2 converted (QA). Counted by hand: 0 of 2. The
    saved funnel (rows kept at ingest) the same."""
    today = dt.datetime.now(dt.UTC).date()
    lines = [
        "event_time,user_id,event\n",
        f"{today - dt.timedelta(days=8)}T10:00:00Z,u1,signup\n",
        f"{today - dt.timedelta(days=4)}T10:00:00Z,u2,signup\n",
        f"{today + dt.timedelta(days=2)}T10:00:00Z,u2,create\n",
        f"{today - dt.timedelta(days=1)}T10:00:00Z,u3,login\n",
    ]
    toml = '[metrics.act]\ntype = "funnel"\nsteps = ["signup", "create"]\nwindow_days = 7\n'
    config = load_config(utc_events(lines, toml=toml))
    definitions = parse_definitions(config.metrics, config.get("workspace.active_events")) if saved else None
    with Store(config.store_dir).reader() as reader:
        assert metrics.base.workspace_of(reader).last_day == today
        got = metrics.funnel(
            reader,
            ["signup", "create"],
            window_days=7,
            period=Period(today - dt.timedelta(days=8), today),
            definitions=definitions,
        )
    assert got.select("event", "users").rows() == [("signup", 2), ("create", 0)]
