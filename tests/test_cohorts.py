"""The cohort tables behind unsegmented retention and lifecycle (pmkit.metrics.cohorts), kept by the ingest:
after each kind of load they hold what a query written here counts from the raw events."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pmkit import metrics
from pmkit.ingest import ingest
from pmkit.metrics import cohorts
from pmkit.store import Store

ACTIVE = ("login", "create_report")


def expected_tables(reader, timezone: str) -> dict[str, pl.DataFrame]:
    """The tables and users.last_active from the raw events: local days with AT TIME ZONE."""
    events = (
        "SELECT user_id, event, "
        f"CAST((event_time AT TIME ZONE 'UTC') AT TIME ZONE '{timezone}' AS DATE) AS day FROM events"
    )
    names = ", ".join(f"'{e}'" for e in ACTIVE)
    common = f"""
        WITH ev AS ({events}),
        firsts AS (SELECT user_id, min(day) AS first_day FROM ev GROUP BY user_id),
        active AS (SELECT DISTINCT user_id, day FROM ev WHERE event IN ({names}))
    """
    week = "CAST(date_trunc('week', {}) AS DATE)"
    queries = {
        "cohort_days": f"""{common}
            SELECT f.first_day, a.day, count(*) AS users FROM active AS a JOIN firsts AS f USING (user_id)
            GROUP BY ALL""",
        "cohort_weeks": f"""{common},
            weeks AS (SELECT DISTINCT user_id, {week.format("day")} AS week FROM active)
            SELECT {week.format("f.first_day")} AS cohort_week, w.week, count(*) AS users,
                   count(*) FILTER (WHERE EXISTS (
                       SELECT 1 FROM weeks AS b WHERE b.user_id = w.user_id AND b.week = w.week - 7)) AS returning_users
            FROM weeks AS w JOIN firsts AS f USING (user_id) GROUP BY ALL""",
        "last_active": f"""{common}
            SELECT f.user_id, max(a.day) AS last_active FROM firsts AS f LEFT JOIN active AS a USING (user_id)
            GROUP BY f.user_id""",
    }
    return {name: reader.frame(query + " ORDER BY ALL") for name, query in queries.items()}


def assert_tables_hold_the_raw_counts(workspace, timezone: str = "America/New_York") -> None:
    reader = workspace.reader()
    assert metrics.base.workspace_of(reader).cohort_rollup
    for table, expected in expected_tables(reader, timezone).items():
        query = "SELECT user_id, last_active FROM users" if table == "last_active" else f"SELECT * FROM {table}"  # noqa: S608
        stored = reader.frame(query + " ORDER BY ALL")
        assert_frame_equal(stored, expected, check_dtypes=False)


@pytest.fixture
def cohort_workspace(workspace):
    workspace.configure(timezone="America/New_York", active_events=ACTIVE)
    return workspace


def test_each_kind_of_load_leaves_the_tables_equal_to_the_raw_counts(cohort_workspace):
    ws = cohort_workspace
    # Mon Mar 2 .. Wed Mar 4 (New York days; 03:00Z is the evening before).
    ws.load_events(
        [
            ("2026-03-02T15:00Z", "u1", "login"),
            ("2026-03-03T03:00Z", "u2", "login"),  # Mar 2 local
            ("2026-03-03T15:00Z", "u2", "view_page"),  # not active
            ("2026-03-04T15:00Z", "u3", "create_report"),
            ("2026-03-02T16:00Z", "u6", "view_page"),  # first seen, not active
        ]
    )
    assert_tables_hold_the_raw_counts(ws)
    # Thursday of the same week: u1 again (one user in that week, not two), u4 new, u2 inactive.
    ws.load_events(
        [
            ("2026-03-05T15:00Z", "u1", "login"),
            ("2026-03-05T16:00Z", "u4", "login"),
            ("2026-03-05T17:00Z", "u2", "view_page"),
        ]
    )
    assert_tables_hold_the_raw_counts(ws)
    # The next week: everyone's last active week moves.
    ws.load_events(
        [
            ("2026-03-10T15:00Z", "u1", "login"),
            ("2026-03-11T15:00Z", "u3", "login"),
            ("2026-03-11T16:00Z", "u6", "login"),
        ]
    )
    assert_tables_hold_the_raw_counts(ws)
    # A late event the week before: u6 is now also active the week before the week of Mar 9.
    ws.load_events([("2026-03-03T15:00Z", "u6", "login")])
    assert_tables_hold_the_raw_counts(ws)
    # A late export: u3 was first seen the week before (their cohort moves), u2 came back Mar 3.
    ws.load_events([("2026-02-26T15:00Z", "u3", "view_page"), ("2026-03-03T15:00Z", "u2", "create_report")])
    assert_tables_hold_the_raw_counts(ws)
    # An event repeated in a new file (without event ids it is loaded again), and a new user.
    ws.load_events([("2026-03-10T15:00Z", "u1", "login"), ("2026-03-12T15:00Z", "u5", "login")])
    assert_tables_hold_the_raw_counts(ws)
    # Two files in one ingest, weeks apart: both spans of days are recounted.
    ws.load_event_files([("2026-03-04T18:00Z", "u1", "login")], [("2026-03-24T15:00Z", "u5", "create_report")])
    assert_tables_hold_the_raw_counts(ws)


def test_a_time_zone_change_recounts_the_tables(cohort_workspace):
    ws = cohort_workspace
    ws.load_events([("2026-03-02T03:00Z", "u1", "login"), ("2026-03-09T03:00Z", "u1", "login")])
    assert_tables_hold_the_raw_counts(ws)
    ws.configure(timezone="Asia/Tokyo", active_events=ACTIVE)
    ws.load_events([("2026-03-15T23:30Z", "u2", "login")])  # Monday Mar 16 in Tokyo
    assert_tables_hold_the_raw_counts(ws, "Asia/Tokyo")


@pytest.mark.parametrize("before", ["no tables", "an earlier layout"])
def test_an_older_store_reads_user_day_until_the_next_load(cohort_workspace, before):
    ws = cohort_workspace
    ws.load_events([("2026-03-02T15:00Z", "u1", "login"), ("2026-03-09T15:00Z", "u1", "login")])
    expected = metrics.weekly_retention(ws.reader())
    with Store(ws.config.store_dir).writer() as writer:
        if before == "no tables":
            for table in cohorts.TABLES:
                writer.con.execute(f"DROP TABLE {table}")  # noqa: S608 - fixed names
            writer.con.execute("ALTER TABLE users DROP COLUMN last_active")
            writer.con.execute("DELETE FROM meta WHERE key = $1", [cohorts.META])
        else:  # cohort_weeks without returning_users, marked without the layout number
            writer.con.execute("DROP TABLE cohort_weeks")
            writer.con.execute("CREATE TABLE cohort_weeks (cohort_week DATE, week DATE, users BIGINT)")
            old = json.loads(writer.meta(cohorts.META))[1:]
            writer.set_meta(cohorts.META, json.dumps(old))
    reader = ws.reader()
    assert not metrics.base.workspace_of(reader).cohort_rollup
    assert_frame_equal(metrics.weekly_retention(reader), expected)
    ws.load_events([("2026-03-16T15:00Z", "u2", "login")])
    assert_tables_hold_the_raw_counts(ws)


def test_other_active_events_or_a_segment_do_not_read_the_tables(cohort_workspace, monkeypatch):
    """The tables count the workspace's active events and no segment; anything else reads user_day."""
    ws = cohort_workspace
    ws.load_events(
        [("2026-03-02T15:00Z", "u1", "login", "pro"), ("2026-03-03T15:00Z", "u1", "login", "pro")],
        columns=("event_time", "user_id", "event", "plan"),
    )
    used = []
    original = metrics.retention.run

    def recording(reader, name, *args, **kwargs):
        used.append(name)
        return original(reader, name, *args, **kwargs)

    monkeypatch.setattr(metrics.retention, "run", recording)
    reader = ws.reader()
    period = metrics.Period(dt.date(2026, 3, 2), dt.date(2026, 3, 3))
    metrics.day_retention(reader, period, days=(1,))
    metrics.weekly_retention(reader, period)
    metrics.day_retention(reader, period, days=(1,), segment=metrics.Segment(filters=(("plan", "pro"),)))
    metrics.weekly_retention(reader, period, segment=metrics.Segment(breakdown="plan"))
    metrics.retention.window_retention(
        reader, metrics.base.workspace_of(reader), period, metrics.Segment(), [(1, 1)], active_events=["login"]
    )
    metrics.retention.window_retention(reader, metrics.base.workspace_of(reader), period, metrics.Segment(), [(0, 6)])
    assert used == [
        "metric_retention_days_cohorts",
        "metric_retention_weekly_cohorts",
        "metric_retention_window",
        "metric_retention_weekly",
        "metric_retention_window",
        "metric_retention_window",
    ]


def test_an_older_store_is_counted_whole_even_when_a_file_of_the_load_fails(cohort_workspace, monkeypatch):
    """The load that first keeps the tables counts every day, not only its own files' days, even
    when one of its files is rejected after its Parquet file was named."""
    from pmkit.metrics import step_events
    from pmkit.sources.base import Rejected, RowError

    ws = cohort_workspace
    ws.load_events([("2026-03-02T15:00Z", "u1", "login"), ("2026-03-09T15:00Z", "u1", "login")])
    with Store(ws.config.store_dir).writer() as writer:  # as a store from before the tables
        for table in cohorts.TABLES:
            writer.con.execute(f"DROP TABLE {table}")  # noqa: S608 - fixed names
        writer.con.execute("DELETE FROM meta WHERE key = $1", [cohorts.META])
    original, calls = step_events.add_batch, []

    def failing_second(writer, batch):
        calls.append(batch.height)
        if len(calls) == 2:
            raise Rejected([RowError(None, None, "refused for the test")])
        return original(writer, batch)

    monkeypatch.setattr(step_events, "add_batch", failing_second)
    files = [ws.root / "good.csv", ws.root / "refused.csv"]
    files[0].write_text("event_time,user_id,event\n2026-03-16T15:00:00Z,u2,login\n", encoding="utf-8")
    files[1].write_text("event_time,user_id,event\n2026-03-17T15:00:00Z,u3,login\n", encoding="utf-8")
    assert [r.status for r in ingest(files, ws.config)] == ["loaded", "rejected"]
    assert_tables_hold_the_raw_counts(ws)


def test_events_dated_after_today_stay_out_of_retention_and_lifecycle(tmp_path):
    # The cohort tables count every loaded day: a user first seen tomorrow joined this week's
    # cohort, and a user back only in the future was in no "on or after" week, so that count
    # fell below "on" (QA). Dates are relative to today, so this holds on any day.
    from zoneinfo import ZoneInfo

    from pmkit.config import load_config

    tz = "Europe/Berlin"
    today = dt.datetime.now(ZoneInfo(tz)).date()
    monday = today - dt.timedelta(days=today.weekday())
    old = monday - dt.timedelta(weeks=7)

    def at(day: dt.date, hour: int = 12) -> str:
        local = dt.datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(tz))
        return local.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    rows = [
        (at(old), "a", "signup"),
        (at(old, 13), "b", "signup"),
        (at(monday - dt.timedelta(days=3)), "b", "view"),  # b back in week 6
        (at(monday), "c", "signup"),  # this week's cohort: today or earlier
        (at(today + dt.timedelta(days=1)), "d", "signup"),  # first seen tomorrow
        (at(today + dt.timedelta(days=12)), "a", "view"),  # a back only in the future
    ]
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "pmkit.toml").write_text(f'[workspace]\ntimezone = "{tz}"\n')
    csv = tmp_path / "events.csv"
    csv.write_text("event_time,user_id,event,plan\n" + "".join(f"{t},{u},{e},pro\n" for t, u, e in rows))
    ingest([csv], load_config(ws))
    everyone = metrics.Segment(filters=(("plan", "pro"),))  # every event: the user days' way
    with Store(load_config(ws).store_dir).reader() as reader:
        assert metrics.base.workspace_of(reader).last_day == today
        for segment in (None, everyone):
            weekly = metrics.weekly_retention(reader, segment=segment)
            cohort = {r["week"]: r for r in weekly.filter(pl.col("cohort_week") == old).iter_rows(named=True)}
            assert (cohort[0]["size"], cohort[0]["users_on"], cohort[0]["users_on_or_after"]) == (2, 2, 2)
            assert [cohort[k]["users_on_or_after"] for k in range(1, 8)] == [1, 1, 1, 1, 1, 1, 0]
            assert weekly.filter(pl.col("cohort_week") == monday)["size"].unique().to_list() == [1]
            this_week = metrics.lifecycle(reader, segment=segment).filter(pl.col("week") == monday)
            assert this_week["new"].to_list() == [1]
