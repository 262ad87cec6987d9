"""Amplitude exports: JSON lines (plain and gzip) and CSV with event_type, user_id, event_time, ..."""

from __future__ import annotations

import csv
import gzip
import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pmkit.canonical import EVENT_TYPES
from pmkit.sources import amplitude
from pmkit.sources.base import ROW, ReadOptions, Sample
from pmkit.sources.sniff import first_json_records, sniff

FIXTURES = Path(__file__).parent.parent / "fixtures" / "events"
# Amplitude's times are UTC without a zone: the workspace zone must not move them.
BERLIN = ReadOptions(timezone="Europe/Berlin")
DIMENSIONS = [
    "platform",
    "country",
    "os_name",
    "device_type",
    "version_name",
    "language",
    "city",
    "region",
    "page",
    "user_plan",
    "price",
    "quantity",
]


def expected(rows: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "event_time": [
                datetime(2025, 7, 17, 10, 36, 28, 583000),
                datetime(2025, 7, 17, 11, 0),
                datetime(2025, 7, 18, 9, 0, 0, 250000),
            ],
            "user_id": ["u_1", "d-2", "d-3"],  # empty user_id: the device is the user
            "event": ["report_created", "purchase", "upgrade_viewed"],
            # Line 3 is an overlapping export's copy of line 1 (the same event, user, time and
            # $insert_id; only the bookkeeping differs) and is dropped.
            "event_id": ["ins-1", "ins-2", "ins-3"],
            "session_id": ["1752748588000", None, "1752829200000"],  # -1 means no session
            "revenue": [None, 30.0, 12.5],  # $price 10 x $quantity 3; event_properties.revenue "12.5"
            "platform": ["Web", "Web", "Web"],
            "country": ["Germany", "France", "France"],
            "os_name": ["Chrome", "Mobile Safari", "Edge"],
            "device_type": ["Mac", "iPhone", "Windows"],
            "version_name": ["1.2.0", "1.2.0", "1.2.0"],
            "language": ["German", "French", "French"],
            "city": ["Berlin", "Paris", "Lyon"],
            "region": ["Berlin", "Ile-de-France", "Auvergne-Rhone-Alpes"],
            "page": ["home", "checkout", "pricing"],
            "user_plan": ["pro", None, "free"],
            "price": [None, "10", None],
            "quantity": [None, "3", None],
            ROW: rows,
        },
        schema={**EVENT_TYPES, **dict.fromkeys(DIMENSIONS, pl.String), ROW: pl.Int64},
    )


def test_amplitude_json_lines():
    sample = sniff(FIXTURES / "amplitude.jsonl")
    assert amplitude.detect(sample)
    parsed = amplitude.read(sample, BERLIN)
    assert_frame_equal(parsed.frame, expected([1, 2, 4]))
    assert parsed.errors == ()
    assert parsed.mapping["event"] == "event_type" and parsed.mapping["user_plan"] == "user_properties.plan"


def test_amplitude_gzip(tmp_path: Path):
    """Amplitude exports hourly .json.gz files. sniff() rejects binary files today, so the sample
    is built as sniff would once it unpacks gzip; read() unpacks by the magic bytes."""
    path = tmp_path / "123456_2025-07-17_10#0.json.gz"
    raw = (FIXTURES / "amplitude.jsonl").read_bytes()
    path.write_bytes(gzip.compress(raw))
    records = first_json_records(raw.decode())
    sample = Sample(
        path=path,
        layout="jsonl",
        encoding="utf-8",
        text=raw.decode(),
        columns=tuple({k: None for r in records for k in r}),
        records=tuple(records),
    )
    assert amplitude.detect(sample)
    assert_frame_equal(amplitude.read(sample, BERLIN).frame, expected([1, 2, 4]))


def test_amplitude_csv(tmp_path: Path):
    records = [json.loads(line) for line in (FIXTURES / "amplitude.jsonl").read_text().splitlines()]
    fields = list(dict.fromkeys(key for record in records for key in record))
    path = tmp_path / "amplitude.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        for record in records:
            writer.writerow(
                {
                    k: json.dumps(v) if isinstance(v, (dict, list)) else ("" if v is None else v)
                    for k, v in record.items()
                }
            )
    sample = sniff(path)
    assert amplitude.detect(sample)
    assert_frame_equal(amplitude.read(sample, BERLIN).frame, expected([2, 3, 5]))


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()))
def test_detects_only_amplitude_exports(name: str):
    assert amplitude.detect(sniff(FIXTURES / name)) == name.startswith("amplitude")


def test_a_plain_table_with_amplitude_like_names_is_not_amplitude(tmp_path: Path):
    """Without Amplitude's own fields, naive times may be local: leave such files to events_csv."""
    path = tmp_path / "events.csv"
    path.write_text("event_time,user_id,event_type\n2026-03-01 10:00:00,u1,login\n")
    assert not amplitude.detect(sniff(path))
