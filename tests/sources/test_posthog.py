"""PostHog event exports: JSON lines, CSV and Parquet with uuid, event, distinct_id, properties, timestamp."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pmkit.canonical import EVENT_TYPES
from pmkit.sources import amplitude, events_csv, ga4, mixpanel, pmkit_tables, posthog
from pmkit.sources.base import ROW, ReadOptions, RowError
from pmkit.sources.sniff import sniff

FIXTURES = Path(__file__).parent.parent / "fixtures" / "events"
# A workspace zone that would move naive times: PostHog times are UTC whatever it is.
BERLIN = ReadOptions(timezone="Europe/Berlin")


def expected(rows: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "event_time": [
                datetime(2026, 3, 1, 10, 0, 0, 123000),
                datetime(2026, 3, 1, 9, 5),
                datetime(2026, 3, 2, 8, 0),
            ],
            "user_id": ["u_123", "u_123", "u_456"],
            "event": ["$pageview", "purchase", "signup"],
            "event_id": [f"0190a1b2-0001-7000-8000-00000000000{n}" for n in (1, 2, 3)],
            "session_id": ["sess-1", "sess-1", None],
            "revenue": [None, 49.5, None],
            "os": ["Mac OS X", "Mac OS X", "Windows"],
            "browser": ["Chrome", None, None],
            "current_url": ["https://app.example.com/reports", None, None],
            "plan": ["pro", "pro", None],
            "lib": [None, None, "web"],
            ROW: rows,  # $set updates the person's properties: no segment of events (is_bookkeeping)
        },
        schema={
            **EVENT_TYPES,
            **dict.fromkeys(["os", "browser", "current_url", "plan", "lib"], pl.String),
            ROW: pl.Int64,
        },
    )


@pytest.mark.parametrize(("name", "rows"), [("posthog.jsonl", [1, 2, 3]), ("posthog.csv", [2, 3, 4])])
def test_posthog_export(name: str, rows: list[int]):
    sample = sniff(FIXTURES / name)
    assert posthog.detect(sample)
    parsed = posthog.read(sample, BERLIN)
    assert_frame_equal(parsed.frame, expected(rows))
    assert parsed.errors == ()
    assert parsed.mapping["event_id"] == "uuid" and parsed.mapping["os"] == "properties.$os"


def test_posthog_parquet(tmp_path: Path):
    records = [json.loads(line) for line in (FIXTURES / "posthog.jsonl").read_text().splitlines()]
    for record in records:  # PostHog's Parquet exports hold properties as JSON text
        for key in ("properties", "person_properties"):
            record[key] = record[key] if isinstance(record[key], str) else json.dumps(record[key])
    path = tmp_path / "export.parquet"
    pl.DataFrame(records).write_parquet(path)
    sample = sniff(path)
    assert posthog.detect(sample) and sample.layout == "parquet"
    parsed = posthog.read(sample, BERLIN)
    assert_frame_equal(parsed.frame, expected([1, 2, 3]))
    assert parsed.format == "PostHog PARQUET"


def test_bad_lines_and_bad_properties_are_row_errors(tmp_path: Path):
    good = (FIXTURES / "posthog.jsonl").read_text().splitlines()[0]
    bad_properties = json.dumps(
        {"uuid": "x", "event": "a", "distinct_id": "u", "properties": "[1, 2]", "timestamp": "2026-03-01T10:00:00Z"}
    )
    no_user = json.dumps(
        {"uuid": "y", "event": "a", "distinct_id": None, "properties": {}, "timestamp": "2026-03-01T10:00:00Z"}
    )
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join([good, bad_properties, no_user, good[:40]]) + "\n")
    parsed = posthog.read(sniff(path), BERLIN)
    assert parsed.frame[ROW].to_list() == [1]
    assert parsed.errors == (
        RowError(2, "properties", """'[1, 2]' is not a JSON object (expected e.g. {"plan": "pro"})"""),
        RowError(3, "distinct_id", "empty user_id (every event needs a user; e.g. u_123)"),
        RowError(4, None, "this line is not a complete JSON object (the file may be cut off; export it again)"),
    )


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()))
def test_detects_only_posthog_exports(name: str):
    assert posthog.detect(sniff(FIXTURES / name)) == name.startswith("posthog")


def test_other_sources_do_not_claim_posthog_exports():
    for name in ("posthog.jsonl", "posthog.csv"):
        sample = sniff(FIXTURES / name)
        assert not any(module.detect(sample) for module in (amplitude, mixpanel, ga4, pmkit_tables))
    assert not events_csv.detect(sniff(FIXTURES / "posthog.jsonl"))


def test_posthog_js_bookkeeping_leaves_room_for_the_customers_properties(tmp_path: Path):
    """Events as posthog-js sends them: some 40 `$` properties on every event, the customer's
    `plan` on every one too. The 30 dimensions went to `$insert_id`, `$sent_at`, `$token`,
    `$raw_user_agent` and the like, and `plan` was left out (ingest QA). Bookkeeping is not a
    dimension; segments such as `$browser` and `$os` are, and so is `plan`."""
    bookkeeping = ["$insert_id", "$time", "$sent_at", "$token", "$ip", "$raw_user_agent", "$lib_version",
                   "$device_id", "$window_id", "$pageview_id", "$is_identified", "$process_person_profile",
                   "$configured_session_timeout_ms", "$session_recording_start_reason", "$replay_sample_rate",
                   "$sdk_debug_retry_queue_size", "$viewport_height", "$screen_width", "$prev_pageview_pathname",
                   "$autocapture_disabled_server_side", "distinct_id", "token"]  # fmt: skip
    segments = [f"$segment_{n:02d}" for n in range(30)] + ["$browser", "$os"]
    lines = []
    for n in range(4):
        properties = {key: f"{key}-{n}" for key in bookkeeping + segments} | {"plan": "pro"}
        record = {"uuid": f"e{n}", "event": "$pageview", "distinct_id": f"u{n}", "timestamp": f"2026-03-01T10:0{n}:00Z"}
        lines.append(json.dumps(record | {"properties": properties}))
    path = tmp_path / "posthog.jsonl"
    path.write_text("\n".join(lines) + "\n")
    parsed = posthog.read(sniff(path), ReadOptions())
    assert parsed.errors == ()
    kept = set(parsed.frame.columns) - set(EVENT_TYPES) - {ROW}
    assert "plan" in kept and len(kept) == 30
    assert not kept & {key.removeprefix("$") for key in bookkeeping}


def test_posthogs_own_csv_download_of_an_events_table(tmp_path: Path):
    """PostHog's CSV download of an events table with its "*" column writes each event's fields
    as `*.uuid`, `*.timestamp`, `*.distinct_id`, `*.properties.<name>` beside the table's own
    columns: it was refused as matching no known export (ingest QA). Its `*.` fields are read,
    and a bad one is named as the file names it."""
    header = (
        "*.uuid,*.event,*.properties.$browser,*.properties.plan,*.properties.revenue,*.timestamp,*.team_id,"
        "*.distinct_id,*.elements_chain,*.created_at,event,person,url / screen,library,time\n"
    )
    rows = (
        "e1,$pageview,Chrome,pro,,2026-03-01T10:00:00.000000+00:00,1,u1,,2026-03-01T10:00:01Z,$pageview,Ann,/x,web,x\n"
        "e2,purchase,Safari,free,49.5,2026-03-01T11:00:00.000000+00:00,1,u2,,2026-03-01T11:00:01Z,purchase,Bo,,web,x\n"
    )
    path = tmp_path / "events.csv"
    path.write_text(header + rows)
    sample = sniff(path)
    assert posthog.detect(sample) and not events_csv.detect(sample)
    parsed = posthog.read(sample, ReadOptions())
    assert parsed.errors == ()
    assert parsed.frame.select("event_time", "user_id", "event", "event_id", "revenue", "browser", "plan").rows() == [
        (datetime(2026, 3, 1, 10), "u1", "$pageview", "e1", None, "Chrome", "pro"),
        (datetime(2026, 3, 1, 11), "u2", "purchase", "e2", 49.5, "Safari", "free"),
    ]
    assert parsed.mapping["event_time"] == "*.timestamp" and parsed.mapping["user_id"] == "*.distinct_id"
    path.write_text(header + rows.replace("2026-03-01T11:00:00.000000+00:00", "yesterday"))
    parsed = posthog.read(sniff(path), ReadOptions())
    assert [(e.row, e.column) for e in parsed.errors] == [(3, "*.timestamp")]


def test_bookkeeping_named_in_keep_dimensions_is_kept_and_a_screen_name_is_a_segment(tmp_path: Path):
    """`$screen_name` (the mobile SDKs' page) was caught with the screen's size and could not be
    brought back by ingest.keep_dimensions; bookkeeping a workspace names there is kept (review)."""
    record = {
        "uuid": "e1",
        "event": "$screen",
        "distinct_id": "u1",
        "timestamp": "2026-03-01T10:00:00Z",
        "properties": {"$screen_name": "Home", "$screen_width": 390, "$sent_at": "2026-03-01T10:00:01Z"},
    }
    path = tmp_path / "posthog.jsonl"
    path.write_text(json.dumps(record) + "\n")
    plain = posthog.read(sniff(path), ReadOptions())
    assert "screen_name" in plain.frame.columns and not {"screen_width", "sent_at"} & set(plain.frame.columns)
    kept = posthog.read(sniff(path), ReadOptions(keep_dimensions=frozenset({"sent_at"})))
    assert kept.frame["sent_at"].to_list() == ["2026-03-01T10:00:01Z"]
