"""Mixpanel raw exports: {"event": ..., "properties": {"time", "distinct_id", "$insert_id", ...}}."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pmkit.canonical import EVENT_TYPES
from pmkit.sources import mixpanel
from pmkit.sources.base import ROW, ReadOptions, RowError
from pmkit.sources.sniff import sniff

FIXTURES = Path(__file__).parent.parent / "fixtures" / "events"
BERLIN = ReadOptions(timezone="Europe/Berlin")


def test_mixpanel_export():
    sample = sniff(FIXTURES / "mixpanel.jsonl")
    assert mixpanel.detect(sample)
    parsed = mixpanel.read(sample, BERLIN)
    expected = pl.DataFrame(
        {
            # 1602611311 = 2020-10-13T17:48:31Z
            "event_time": [
                datetime(2020, 10, 13, 17, 48, 31),
                datetime(2020, 10, 13, 17, 50),
                datetime(2020, 10, 14, 18, 26, 40),
            ],
            "user_id": ["u_123", "u_123", "u_456"],
            "event": ["Signed up", "Purchase", "Signed up"],
            "event_id": ["ABCDE", "FGHIJ", "KLMNO"],  # line 3 repeats ABCDE and is dropped
            "session_id": [None, None, None],
            "revenue": [None, 19.99, None],
            "os": ["Mac OS X", "Mac OS X", "Windows"],
            "country": ["DE", "DE", "FR"],  # mp_country_code
            "plan": [None, "pro", None],
            ROW: [1, 2, 4],
        },
        schema={**EVENT_TYPES, "os": pl.String, "country": pl.String, "plan": pl.String, ROW: pl.Int64},
    )
    assert_frame_equal(parsed.frame, expected)
    assert parsed.errors == ()
    assert (
        parsed.mapping["event_id"] == "properties.$insert_id"
        and parsed.mapping["country"] == "properties.mp_country_code"
    )


def test_import_style_milliseconds_and_a_cut_off_last_line(tmp_path: Path):
    lines = [
        json.dumps({"event": "a", "properties": {"time": 1772359200123, "distinct_id": "u1", "$insert_id": "i1"}}),
        json.dumps({"event": "b", "properties": {"time": 1772359260000, "distinct_id": "u2", "$insert_id": "i2"}}),
        "",
        '{"event": "c", "properties": {"time": 17723592',
    ]
    path = tmp_path / "mixpanel.json"
    path.write_text("\n".join(lines))
    parsed = mixpanel.read(sniff(path), BERLIN)
    assert parsed.frame["event_time"].to_list() == [datetime(2026, 3, 1, 10, 0, 0, 123000), datetime(2026, 3, 1, 10, 1)]
    assert parsed.frame[ROW].to_list() == [1, 2]
    assert parsed.errors == (
        RowError(4, None, "this line is not a complete JSON object (the file may be cut off; export it again)"),
    )


def test_bad_time_names_the_property(tmp_path: Path):
    path = tmp_path / "mixpanel.json"
    path.write_text(json.dumps({"event": "a", "properties": {"time": "soon", "distinct_id": "u1"}}) + "\n")
    parsed = mixpanel.read(sniff(path), BERLIN)
    assert parsed.errors == (
        RowError(1, "properties.time", "'soon' is not a valid time (expected e.g. 2026-03-01T10:00:00Z)"),
    )


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()))
def test_detects_only_mixpanel_exports(name: str):
    assert mixpanel.detect(sniff(FIXTURES / name)) == name.startswith("mixpanel")


def test_the_export_layout_as_csv_and_parquet(tmp_path: Path):
    """Mixpanel's layout written as a table: a CSV with properties.* columns, a Parquet with those
    columns or one properties struct. Each was refused as matching no known export."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    csv = tmp_path / "mixpanel.csv"
    csv.write_text(
        "event,properties.time,properties.distinct_id,properties.$insert_id,properties.$os,properties.mp_country_code\n"
        "Signed up,1602611311,u_123,ABCDE,Mac OS X,DE\n"
        "Purchase,1602611400,u_123,FGHIJ,,DE\n"
    )
    spread = tmp_path / "spread.parquet"
    table = pa.table(
        {
            "event": ["Signed up", "Purchase"],
            "properties.time": pa.array([1602611311, 1602611400], pa.int64()),
            "properties.distinct_id": ["u_123", "u_123"],
            "properties.$insert_id": ["ABCDE", "FGHIJ"],
            "properties.$os": ["Mac OS X", None],
            "properties.mp_country_code": ["DE", "DE"],
        }
    )
    pq.write_table(table, spread)
    nested = tmp_path / "nested.parquet"
    properties = pa.struct(
        [
            ("time", pa.int64()),
            ("distinct_id", pa.string()),
            ("$insert_id", pa.string()),
            ("$os", pa.string()),
            ("mp_country_code", pa.string()),
        ]
    )
    pq.write_table(
        pa.table(
            {
                "event": ["Signed up", "Purchase"],
                "properties": pa.array(
                    [
                        {
                            "time": 1602611311,
                            "distinct_id": "u_123",
                            "$insert_id": "ABCDE",
                            "$os": "Mac OS X",
                            "mp_country_code": "DE",
                        },
                        {
                            "time": 1602611400,
                            "distinct_id": "u_123",
                            "$insert_id": "FGHIJ",
                            "$os": None,
                            "mp_country_code": "DE",
                        },
                    ],
                    properties,
                ),
            }
        ),
        nested,
    )
    for path in (csv, spread, nested):
        sample = sniff(path)
        assert mixpanel.detect(sample), path.name
        parsed = mixpanel.read(sample, BERLIN)
        assert parsed.errors == (), path.name
        assert parsed.frame.select("event_time", "user_id", "event", "event_id", "os", "country").rows() == [
            (datetime(2020, 10, 13, 17, 48, 31), "u_123", "Signed up", "ABCDE", "Mac OS X", "DE"),
            (datetime(2020, 10, 13, 17, 50), "u_123", "Purchase", "FGHIJ", None, "DE"),
        ], path.name


def test_a_project_made_before_2023_writes_times_in_its_own_zone(tmp_path: Path):
    """Mixpanel projects made before 2023 export wall-clock times of the project's zone as epoch
    seconds: 1772420400 is 03:00 on 2 Mar in US/Pacific. Read as UTC, it was 19:00 on 1 Mar in a
    Los Angeles workspace, and every event between midnight and 08:00 a day early (ingest QA).
    With ingest.mixpanel_project_timezone named, it is 11:00 UTC, 2 Mar there."""
    from pmkit.config import ConfigError, load_config
    from pmkit.ingest import ingest
    from pmkit.store import Store

    path = tmp_path / "mixpanel.jsonl"
    record = {"event": "Signed up", "properties": {"time": 1772420400, "distinct_id": "u1", "$insert_id": "k1"}}
    path.write_text(json.dumps(record) + "\n")
    assert mixpanel.read(sniff(path), ReadOptions()).frame["event_time"].to_list() == [datetime(2026, 3, 2, 3)]
    zoned = mixpanel.read(sniff(path), ReadOptions(mixpanel_timezone="US/Pacific"))
    assert zoned.frame["event_time"].to_list() == [datetime(2026, 3, 2, 11)]
    data = tmp_path / "ws"
    data.mkdir()
    settings = '[workspace]\ntimezone = "America/Los_Angeles"\n\n[ingest]\nmixpanel_project_timezone = "US/Pacific"\n'
    (data / "pmkit.toml").write_text(settings)
    config = load_config(data)
    assert ingest([path], config)[0].status == "loaded"
    with Store(config.store_dir).reader() as reader:
        assert reader.frame("SELECT day FROM kpi_daily")["day"].to_list() == [datetime(2026, 3, 2).date()]
    (data / "pmkit.toml").write_text(settings.replace("US/Pacific", "Pacific"))
    with pytest.raises(ConfigError, match="ingest.mixpanel_project_timezone 'Pacific' is not a time zone"):
        load_config(data)
    # A folder of the zone database is no zone either: it failed with IsADirectoryError.
    (data / "pmkit.toml").write_text('[workspace]\ntimezone = "America"\n')
    with pytest.raises(ConfigError, match="workspace.timezone 'America' is not a time zone"):
        load_config(data)
