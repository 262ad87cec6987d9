"""The feature table behind unsegmented feature adoption and the engagement matrix
(pmkit.metrics.feature_days), kept by the ingest: after each kind of load it holds what a query
written here counts from the raw events, and the metrics read from it equal the metrics read from
``user_event_day``."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pmkit import metrics
from pmkit.metrics import Period, Segment, feature_days
from pmkit.store import Store, Writer

D = dt.date


def expected_table(reader, timezone: str) -> pl.DataFrame:
    """feature_days from the raw events: local days with AT TIME ZONE, adopters by a range join
    over every loaded day."""
    return reader.frame(
        f"""
        WITH ev AS (
            SELECT user_id, event, CAST((event_time AT TIME ZONE 'UTC') AT TIME ZONE '{timezone}' AS DATE) AS day
            FROM events
        ), cal AS (
            SELECT CAST(range AS DATE) AS day FROM range((SELECT min(day) FROM ev), (SELECT max(day) FROM ev) + 1, INTERVAL 1 DAY)
        ), used AS (SELECT DISTINCT event, user_id, day FROM ev)
        SELECT * FROM (
            SELECT e.event, c.day,
                   (SELECT count(DISTINCT user_id) FROM ev WHERE ev.event = e.event AND ev.day = c.day) AS users,
                   (SELECT count(*) FROM ev WHERE ev.event = e.event AND ev.day = c.day) AS events,
                   (SELECT count(DISTINCT user_id) FROM used AS u
                    WHERE u.event = e.event AND u.day BETWEEN c.day - 29 AND c.day) AS adopters
            FROM (SELECT DISTINCT event FROM ev) AS e CROSS JOIN cal AS c
        ) WHERE adopters > 0
        ORDER BY ALL
        """
    )


def assert_table_holds_the_raw_counts(workspace, timezone: str = "America/New_York") -> None:
    reader = workspace.reader()
    assert metrics.base.workspace_of(reader).feature_rollup
    stored = reader.frame("SELECT * FROM feature_days ORDER BY ALL")
    assert_frame_equal(stored, expected_table(reader, timezone), check_dtypes=False)
    assert stored.height > 0


@pytest.fixture
def feature_workspace(workspace):
    workspace.configure(timezone="America/New_York")
    return workspace


def test_each_kind_of_load_leaves_the_table_equal_to_the_raw_counts(feature_workspace):
    ws = feature_workspace
    ws.load_events(
        [
            ("2026-03-02T15:00Z", "u1", "share_report"),
            ("2026-03-03T03:00Z", "u2", "share_report"),  # Mar 2 in New York
            ("2026-03-03T15:00Z", "u2", "share_report"),
            ("2026-03-03T16:00Z", "u2", "share_report"),  # twice on Mar 3: one user, two events
            ("2026-03-04T15:00Z", "u3", "login"),
        ]
    )
    assert_table_holds_the_raw_counts(ws)
    # The next day, appended.
    ws.load_events([("2026-03-05T15:00Z", "u1", "login"), ("2026-03-05T16:00Z", "u4", "share_report")])
    assert_table_holds_the_raw_counts(ws)
    # Days later, leaving a gap: the days between are new, with windows holding older days.
    ws.load_events([("2026-03-12T15:00Z", "u5", "login")])
    assert_table_holds_the_raw_counts(ws)
    # The 30th day after u1's first share and the day after it (u1's Mar 2 leaves the window).
    ws.load_events([("2026-03-31T15:00Z", "u2", "login"), ("2026-04-01T15:00Z", "u2", "login")])
    assert_table_holds_the_raw_counts(ws)
    # A late event in the middle: the windows of the 29 days after it change.
    ws.load_events([("2026-03-20T15:00Z", "u1", "share_report")])
    assert_table_holds_the_raw_counts(ws)
    # A late export before the first day, with a gap of more than 30 days after it.
    ws.load_events([("2026-01-10T15:00Z", "u6", "share_report")])
    assert_table_holds_the_raw_counts(ws)
    # An event repeated in a new file (without event ids it is loaded again), and a new user.
    ws.load_events([("2026-03-20T15:00Z", "u1", "share_report"), ("2026-04-01T16:00Z", "u7", "export_pdf")])
    assert_table_holds_the_raw_counts(ws)
    # Two files in one ingest, weeks apart: both spans of days are recounted.
    ws.load_event_files([("2026-02-20T18:00Z", "u1", "login")], [("2026-04-20T15:00Z", "u5", "share_report")])
    assert_table_holds_the_raw_counts(ws)


def test_the_next_days_export_counts_its_adopters_from_each_users_last_day(feature_workspace, monkeypatch):
    """Day by day, the new last day's row comes from user_event_last (no 30-day recount), and
    equals the raw counts: users leave the window on the 31st day, come back, and a second export
    of the same last day adds to it."""
    ws = feature_workspace
    ws.load_events(
        [
            ("2026-03-01T15:00Z", "u1", "share_report"),
            ("2026-03-01T16:00Z", "u2", "login"),
            ("2026-03-02T15:00Z", "u2", "share_report"),
            ("2026-03-29T15:00Z", "u3", "login"),
        ]
    )
    ran: list[str] = []
    original = Writer.run

    def run(self, name, *args, **kwargs):
        ran.append(name)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(Writer, "run", run)
    adopters = {}
    days = [
        ("2026-03-30T15:00Z", "u3", "login"),  # the 30th day from Mar 1: u1 and u2 still count
        ("2026-03-31T15:00Z", "u3", "login"),  # the 31st: Mar 1 has left the window
        ("2026-04-01T15:00Z", "u1", "share_report"),  # u1 again, after leaving; Mar 2 has left
        ("2026-04-01T18:00Z", "u4", "share_report"),  # the same last day, exported again
    ]
    for time, user, event in days:
        ran.clear()
        ws.load_events([(time, user, event)])
        assert "feature_days_last" in ran and "feature_days_refresh" not in ran
        assert_table_holds_the_raw_counts(ws)
        rows = ws.reader().frame(
            "SELECT event, adopters FROM feature_days WHERE day = (SELECT max(day) FROM feature_days)"
        )
        adopters[time[:10]] = dict(rows.rows())
    assert adopters == {
        "2026-03-30": {"login": 2, "share_report": 2},
        "2026-03-31": {"login": 1, "share_report": 1},
        "2026-04-01": {"login": 1, "share_report": 2},
    }
    ran.clear()
    ws.load_events([("2026-03-15T15:00Z", "u5", "login")])  # an older day: its windows are recounted
    assert "feature_days_refresh" in ran and "feature_days_last" not in ran
    assert_table_holds_the_raw_counts(ws)


def test_adopters_by_hand(feature_workspace, feature_table):
    """Hand-counted: a user counts on the 30 days from a day they used the feature, once however
    often; the window's first day is the 30th day back; days with no event still count."""
    ws = feature_workspace
    ws.load_events(
        [
            ("2026-03-01T15:00Z", "u1", "share_report"),
            ("2026-03-02T04:59Z", "u2", "share_report"),  # 23:59 on Mar 1 in New York
            ("2026-03-02T05:00Z", "u3", "share_report"),  # midnight: Mar 2
            ("2026-03-10T15:00Z", "u1", "share_report"),
            ("2026-03-10T16:00Z", "u1", "share_report"),
            ("2026-04-08T15:00Z", "u4", "login"),  # the last loaded day
        ]
    )
    reader = ws.reader()
    period = Period(D(2026, 3, 29), D(2026, 4, 8))
    got = metrics.feature_adoption(reader, "share_report", period)
    adopters = dict(zip(got["day"], got["adopters"], strict=True))
    assert adopters[D(2026, 3, 29)] == 3  # Mar 1's window starts Feb 28
    assert adopters[D(2026, 3, 30)] == 3  # Mar 1 is the 30th day back
    assert adopters[D(2026, 3, 31)] == 2  # u2 (Mar 1) has left; u1 (Mar 10) and u3 (Mar 2)
    assert adopters[D(2026, 4, 1)] == 1  # u3's Mar 2 has left too
    assert adopters[D(2026, 4, 8)] == 1  # Mar 10 is the 30th day back
    matrix = metrics.engagement_matrix(reader, D(2026, 3, 30), features=["share_report"])
    assert matrix.select("adopters", "days_used", "events", "mau").row(0) == (3, 4, 5, 3)


@pytest.mark.parametrize("before", ["no table", "an earlier layout"])
def test_an_older_store_reads_user_event_day_until_the_next_load(feature_workspace, before):
    ws = feature_workspace
    ws.load_events([("2026-03-02T15:00Z", "u1", "share_report"), ("2026-03-09T15:00Z", "u2", "share_report")])
    expected = metrics.features_adoption(ws.reader(), ["share_report"])
    with Store(ws.config.store_dir).writer() as writer:
        if before == "no table":
            writer.con.execute("DROP TABLE feature_days")
            writer.con.execute("DELETE FROM meta WHERE key = $1", [feature_days.META])
        else:  # a table without events, marked with another layout number
            writer.con.execute("DROP TABLE feature_days")
            writer.con.execute("CREATE TABLE feature_days (event VARCHAR, day DATE, adopters BIGINT)")
            old = json.loads(writer.meta(feature_days.META))
            writer.set_meta(feature_days.META, json.dumps([old[0] - 1, *old[1:]]))
    reader = ws.reader()
    assert not metrics.base.workspace_of(reader).feature_rollup
    assert_frame_equal(metrics.features_adoption(reader, ["share_report"]), expected)
    ws.load_events([("2026-03-16T15:00Z", "u3", "login")])
    assert_table_holds_the_raw_counts(ws)


def test_a_time_zone_change_recounts_the_table(feature_workspace):
    ws = feature_workspace
    # 90 days: recounting them all takes three spans of at most 35 days.
    ws.load_events(
        [
            ("2026-01-01T03:00Z", "u1", "share_report"),
            ("2026-02-05T03:00Z", "u2", "share_report"),
            ("2026-03-09T03:00Z", "u1", "login"),
            ("2026-04-01T03:00Z", "u3", "share_report"),
        ]
    )
    assert_table_holds_the_raw_counts(ws)
    ws.configure(timezone="Asia/Tokyo")
    ws.load_events([("2026-03-15T23:30Z", "u2", "share_report")])
    assert_table_holds_the_raw_counts(ws, "Asia/Tokyo")


def test_what_reads_the_table(workspace, monkeypatch):
    """Only unsegmented adoption of activity, up to the last loaded day, reads the table."""
    workspace.configure(active_events=["login", "share_report"])
    workspace.load_events(
        [("2026-03-02T15:00Z", "u1", "share_report", "pro"), ("2026-03-03T15:00Z", "u1", "email_open", "pro")],
        columns=("event_time", "user_id", "event", "plan"),
    )
    reader = workspace.reader()
    used: list[str] = []
    original_frame, original_run = reader.frame, metrics.adoption.run

    def frame(text, **params):
        used.extend(["feature_days"] if "FROM feature_days" in text else [])
        return original_frame(text, **params)

    def run(reader, name, *args, **kwargs):
        used.append(name)
        return original_run(reader, name, *args, **kwargs)

    monkeypatch.setattr(reader, "frame", frame)
    monkeypatch.setattr(metrics.adoption, "run", run)
    inside = Period(D(2026, 3, 2), D(2026, 3, 3))
    metrics.features_adoption(reader, ["share_report", "login"], inside)
    metrics.features_adoption(reader, ["share_report"], Period(D(2026, 3, 2), D(2026, 3, 4)))  # after the last day
    metrics.features_adoption(reader, ["email_open"], inside)  # not activity
    metrics.features_adoption(reader, ["share_report"], inside, Segment(filters=(("plan", "pro"),)))
    metrics.engagement_matrix(reader, D(2026, 3, 3), features=["share_report"])
    metrics.engagement_matrix(reader, D(2026, 3, 3))  # every event, email_open too
    metrics.engagement_matrix(reader, D(2026, 3, 3), features=["share_report"], segment=Segment(breakdown="plan"))
    assert [name for name in used if not name.startswith("metric_dims")] == [
        "feature_days",
        "metric_adoption_active_masks",
        "metric_adoption_masks",  # adopters checked against the MAU
        "metric_adoption_active_masks",
        "metric_adoption_masks",  # the segment's MAU
        "metric_engagement_stored",
        "feature_days",  # its text, read through reader.frame
        "metric_engagement",
        "metric_engagement",
    ]
