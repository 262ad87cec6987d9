"""Time and amount parsing, and the canonical events frame every events source builds."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal, assert_series_equal

from pmkit.canonical import EVENT_TYPES
from pmkit.sources.base import ROW, Rejected, RowError
from pmkit.sources.events_common import (
    MAX_DIMENSIONS,
    PARALLEL_ROWS,
    Dimensions,
    build_events,
    clean_texts,
    dimension_name,
    parse_numbers,
    parse_times,
)


def times(values: list[str | None], timezone: str = "UTC", **kwargs: object) -> list[datetime | None]:
    return parse_times(pl.Series("t", values, dtype=pl.String), timezone, **kwargs).to_list()  # type: ignore[arg-type]


def test_iso_times_with_zone_are_converted_to_utc():
    assert times(
        [
            "2026-03-01T10:00:00Z",
            "2026-03-01T10:00:00+02:00",
            "2026-03-01T10:00:00.250-0130",
            "2026-03-01 10:00:00.123456+00:00",
            "2026-03-01T10:00Z",
            "2026-03-01 10:00:00.5 UTC",
        ],
        timezone="Europe/Berlin",  # ignored: every value states its zone
    ) == [
        datetime(2026, 3, 1, 10, 0),
        datetime(2026, 3, 1, 8, 0),
        datetime(2026, 3, 1, 11, 30, 0, 250000),
        datetime(2026, 3, 1, 10, 0, 0, 123456),
        datetime(2026, 3, 1, 10, 0),
        datetime(2026, 3, 1, 10, 0, 0, 500000),
    ]


def test_the_result_is_microseconds_without_a_zone():
    parsed = parse_times(pl.Series(["2026-03-01T10:00:00+02:00"]), "Europe/Berlin")
    assert parsed.dtype == pl.Datetime("us")  # no time zone attached: UTC by convention


def test_naive_times_are_read_in_the_workspace_zone_across_dst():
    assert times(
        [
            "2026-01-15 10:00:00",  # CET, +01:00
            "2026-07-01T10:00:00.5",  # CEST, +02:00
            "2026-03-29 01:59",  # just before the spring change: still +01:00
            "2026-03-29 02:30",  # skipped wall-clock time: read with the offset before the change
            "2026-03-29 03:00",  # first time after the change, +02:00
            "2026-10-25 02:30",  # happens twice: the earliest (still +02:00)
            "2026-10-25 03:30",  # after the autumn change, +01:00
            "2026-03-01",  # a day alone: midnight
        ],
        timezone="Europe/Berlin",
    ) == [
        datetime(2026, 1, 15, 9, 0),
        datetime(2026, 7, 1, 8, 0, 0, 500000),
        datetime(2026, 3, 29, 0, 59),
        datetime(2026, 3, 29, 1, 30),
        datetime(2026, 3, 29, 1, 0),
        datetime(2026, 10, 25, 0, 30),
        datetime(2026, 10, 25, 2, 30),
        datetime(2026, 2, 28, 23, 0),
    ]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1772359200", "1772359260"], [datetime(2026, 3, 1, 10, 0), datetime(2026, 3, 1, 10, 1)]),
        (["1772359200000", "1772359200123"], [datetime(2026, 3, 1, 10, 0), datetime(2026, 3, 1, 10, 0, 0, 123000)]),
        (["1772359200000000", "1772359200000001"], [datetime(2026, 3, 1, 10, 0), datetime(2026, 3, 1, 10, 0, 0, 1)]),
        (
            ["1772359200000000000", "1772359200123456789"],
            [datetime(2026, 3, 1, 10, 0), datetime(2026, 3, 1, 10, 0, 0, 123456)],
        ),
        (["1772359200.25"], [datetime(2026, 3, 1, 10, 0, 0, 250000)]),
    ],
    ids=["seconds", "milliseconds", "microseconds", "nanoseconds", "fractional seconds"],
)
def test_epoch_unit_is_chosen_by_magnitude(values: list[str], expected: list[datetime]):
    assert times(values, timezone="Europe/Berlin") == expected


def test_epoch_numbers_outside_the_column_unit_are_not_guessed():
    # The column is milliseconds (median); a seconds value in it is a bad row, as is a tiny number.
    assert times(["1772359200000", "1772359200001", "1772359200", "5"]) == [
        datetime(2026, 3, 1, 10, 0),
        datetime(2026, 3, 1, 10, 0, 0, 1000),
        None,
        None,
    ]


def test_a_column_may_mix_formats():
    assert times(
        ["2026-03-01T10:00:00Z"] * 5
        + ["2026-03-01 12:00", "1772359200", " 2026-03-01T10:00:00Z ", "2026-03-01T12:00:00+01:00"],
        timezone="Europe/Berlin",
    ) == [datetime(2026, 3, 1, 10, 0)] * 5 + [
        datetime(2026, 3, 1, 11, 0),
        datetime(2026, 3, 1, 10, 0),
        datetime(2026, 3, 1, 10, 0),
        datetime(2026, 3, 1, 11, 0),
    ]


def test_impossible_and_unknown_times_are_null():
    assert (
        times(["2026-02-30 10:00", "2026-03-01T25:00:00Z", "2026-13-01", "yesterday", "03/01/2026", None]) == [None] * 6
    )


def test_a_long_column_parsed_in_halves_keeps_every_row_in_place():
    """Columns of ``PARALLEL_ROWS`` or more are parsed in two halves at once: each row's time,
    and each bad row's null, stays at its own position across the halves' seam, with the formats
    and epoch numbers of either half."""
    rows = 3 * PARALLEL_ROWS
    base = pl.datetime_range(datetime(2026, 1, 1), datetime(2026, 1, 30), "1s", eager=True).head(rows)
    split = rows * 3 // 4  # ISO times with a zone, then naive ones read in Berlin (winter: UTC+1)
    texts = pl.concat(
        [
            base.head(split).dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
            base.tail(rows - split).dt.strftime("%Y-%m-%d %H:%M:%S"),
        ]
    ).to_list()
    expected = base.to_list()
    expected[split:] = [t - timedelta(hours=1) for t in expected[split:]]
    for position in (0, rows // 2 - 1, rows // 2, rows // 2 + 1, rows - 1):  # around the seam, and the ends
        texts[position], expected[position] = "not a time", None
    for position in (7, rows - 5):  # epoch seconds among the texts, in either half
        texts[position] = "1772359200"
        expected[position] = datetime(2026, 3, 1, 10, 0)
    assert times(texts, "Europe/Berlin") == expected


def test_amounts():
    values = ["49", "49.00", "1,234.50", "-3.5", "$49.00", "49 €", "1e3", "abc", "49,50", "nan", None]
    assert parse_numbers(pl.Series(values)).to_list() == [
        49.0,
        49.0,
        1234.5,
        -3.5,
        49.0,
        49.0,
        1000.0,
        None,
        None,
        None,
        None,
    ]


def test_decimal_commas_in_semicolon_files():
    values = ["49,50", "1.234,50", "1 234,50", "1,234.50", "49", "49.5"]
    assert parse_numbers(pl.Series(values), decimal_comma=True).to_list() == [49.5, 1234.5, 1234.5, 1234.5, 49.0, 49.5]


def test_a_semicolon_column_writing_dot_decimals_groups_thousands_with_commas():
    """Ingest QA: beside 1,234.50 (or 49.99), "12,345" read as 12.345, a thousandth of the amount.
    A column that writes its decimals with a dot groups thousands with commas; with nothing
    saying so, a `;` file's "12,345" is still twelve point three four five."""
    us = ["1,234.50", "12,345", "49.99", "1,000,000"]
    assert parse_numbers(pl.Series(us), decimal_comma=True).to_list() == [1234.5, 12345.0, 49.99, 1_000_000.0]
    assert parse_numbers(pl.Series(["12,345", "49,50"]), decimal_comma=True).to_list() == [12.345, 49.5]
    # Review: "0,125" groups no thousands, whatever the column's dots say.
    mixed = ["49.50", "0,125", "0,500", "1,5"]
    assert parse_numbers(pl.Series(mixed), decimal_comma=True).to_list() == [49.5, 0.125, 0.5, 1.5]


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("geo.country", "geo_country"),
        ("$os", "os"),
        ("Plan Type", "plan_type"),
        ("Région", "region"),
        ("1st touch", "dim_1st_touch"),
        ("$$", "column"),
    ],
)
def test_dimension_names_are_safe_identifiers(raw: str, name: str):
    assert dimension_name(raw) == name


def columns(**values: list) -> pl.DataFrame:
    height = len(next(iter(values.values())))
    return pl.DataFrame({ROW: list(range(2, height + 2)), **values})


def test_build_events_types_the_frame_and_reports_each_bad_row_once():
    frame = columns(
        event_time=[
            "2026-03-01T10:00:00Z",
            "2026-02-30 10:00",
            "",
            "2026-03-01T11:00:00Z",
            "2026-03-01T12:00:00Z",
            "2026-03-01T13:00:00Z",
        ],
        user_id=["u1", "", "u3", " ", "u5", "u6"],
        event=["signup", "login", "login", "login", None, "purchase"],
        revenue=[None, "abc", None, None, None, "12.50"],
    )
    parsed = build_events(frame, {"event_time": "ts", "user_id": "uid"}, fmt="test")
    expected = pl.DataFrame(
        {
            "event_time": [datetime(2026, 3, 1, 10), datetime(2026, 3, 1, 13)],
            "user_id": ["u1", "u6"],
            "event": ["signup", "purchase"],
            "event_id": [None, None],
            "session_id": [None, None],
            "revenue": [None, 12.5],
            ROW: [2, 7],
        },
        schema={**EVENT_TYPES, ROW: pl.Int64},
    )
    assert_frame_equal(parsed.frame, expected)
    assert parsed.errors == (
        RowError(3, "ts", "'2026-02-30 10:00' is not a valid time (expected e.g. 2026-03-01T10:00:00Z)"),
        RowError(4, "ts", "empty event_time (every event needs a time; e.g. 2026-03-01T10:00:00Z)"),
        RowError(5, "uid", "empty user_id (every event needs a user; e.g. u_123)"),
        RowError(6, "event", "empty event (every event needs a name; e.g. signup)"),
    )
    assert parsed.mapping == {"event_time": "ts", "user_id": "uid", "event": "event", "revenue": "revenue"}


def test_bad_amount_is_a_row_error():
    frame = columns(event_time=["2026-03-01T10:00:00Z"], user_id=["u1"], event=["buy"], revenue=["abc"])
    parsed = build_events(frame, {}, fmt="test")
    assert parsed.frame.height == 0
    assert parsed.errors == (RowError(2, "revenue", "'abc' is not a number (expected e.g. 49.00)"),)


def test_repeated_event_ids_keep_the_first_row():
    frame = columns(
        event_time=["2026-03-01T10:00:00Z", "2026-03-01T10:00:05Z", "2026-03-01T10:00:09Z", "2026-03-01T10:00:10Z"],
        user_id=["u1", "u1", "u1", "u1"],
        event=["a", "a", "b", "c"],
        event_id=["e1", "e1", None, None],
    )
    parsed = build_events(frame, {}, fmt="test")
    assert parsed.frame[ROW].to_list() == [2, 4, 5]  # the repeat of e1 dropped, rows without an id kept
    assert parsed.errors == ()


def test_dimensions_are_named_capped_and_never_clash():
    height = 4
    base = columns(event_time=["2026-03-01T10:00:00Z"] * height, user_id=["u1"] * height, event=["a"] * height)
    dims = {
        "Plan Type": ["pro", "pro", None, None],
        "event_id": ["x", None, None, None],  # the source's own column named like a canonical one
        "plan.type": ["free", None, None, None],  # normalises to the same name as "Plan Type"
        "empty": [None] * height,
        "nested": [None, None, None, None],
    }
    for number in range(MAX_DIMENSIONS):
        dims[f"filled {number:02d}"] = ["v"] * height  # 30 fuller columns push out the sparse ones
    parsed = build_events(
        base, {}, fmt="test", dimensions=Dimensions(pl.DataFrame(dims, schema=dict.fromkeys(dims, pl.String)))
    )
    names = [c for c in parsed.frame.columns if c not in EVENT_TYPES and c != ROW]
    assert names == [f"filled_{n:02d}" for n in range(MAX_DIMENSIONS)]

    few = {
        "Plan Type": dims["Plan Type"],
        "event_id": dims["event_id"],
        "plan.type": dims["plan.type"],
        "empty": dims["empty"],
    }
    parsed = build_events(
        base, {}, fmt="test", dimensions=Dimensions(pl.DataFrame(few, schema=dict.fromkeys(few, pl.String)))
    )
    assert parsed.frame.columns == [*EVENT_TYPES, "plan_type", "source_event_id", "plan_type_2", ROW]
    assert parsed.mapping["source_event_id"] == "event_id" and parsed.mapping["plan_type_2"] == "plan.type"


def test_typed_columns_from_parquet():
    frame = pl.DataFrame(
        {
            ROW: [1, 2, 3],
            "event_time": pl.Series([datetime(2026, 3, 1, 10), datetime(2026, 3, 1, 11), None]).dt.replace_time_zone(
                "Europe/Berlin"
            ),
            "user_id": [1, 2, 3],
            "event": ["a", "b", "c"],
            "revenue": [1.5, float("nan"), None],
        }
    )
    parsed = build_events(frame, {}, fmt="test")
    assert parsed.frame["event_time"].to_list() == [datetime(2026, 3, 1, 9)]
    assert parsed.frame["user_id"].to_list() == ["1"]
    assert [e.row for e in parsed.errors] == [2, 3]
    assert parsed.errors[0].message == "'NaN' is not a number (expected e.g. 49.00)"


def test_unknown_time_zone_rejects_the_file():
    frame = columns(event_time=["2026-03-01 10:00"], user_id=["u1"], event=["a"])
    with pytest.raises(Rejected, match="unknown time zone 'Mars/Olympus'"):
        build_events(frame, {}, fmt="test", timezone="Mars/Olympus")


def test_naive_times_of_typed_columns_use_the_zone():
    frame = pl.DataFrame({ROW: [1], "event_time": [datetime(2026, 7, 1, 10)], "user_id": ["u"], "event": ["a"]})
    parsed = build_events(frame, {}, fmt="test", timezone="Europe/Berlin")
    assert_series_equal(
        parsed.frame["event_time"], pl.Series("event_time", [datetime(2026, 7, 1, 8)], dtype=pl.Datetime("us"))
    )


def test_ids_are_checked_exactly_only_when_a_hash_repeats():
    from pmkit.sources.events_common import _may_repeat

    assert not _may_repeat(pl.Series(["e1", "e2", None, None, "e3"]))  # nulls are not ids
    assert _may_repeat(pl.Series(["e1", "e2", "e1"]))
    assert not _may_repeat(pl.Series([str(i) for i in range(100_000)]))


def test_cells_are_stripped_of_unicode_white_space_and_empty_ones_become_null():
    """A name typed with a stray space (or a no-break space pasted from a web page) is the same
    name; an empty or blank cell is missing. Columns without padding are left as they are."""
    spaces = [" ", "\t", "\u00a0", "\u2003", "\u3000", "\n"]
    values = ["u_1", *(f"{w}u_1" for w in spaces), *(f"u_1{w}" for w in spaces), "u 1", "", "  ", None, "\u00a0"]
    frame = pl.DataFrame({"padded": values, "clean": ["x y"] * len(values), "numbers": list(range(len(values)))})
    got = clean_texts(frame)
    want = [None if v is None or not v.strip() else v.strip() for v in values]
    assert got["padded"].to_list() == want
    assert got["padded"].to_list()[1:13] == ["u_1"] * 12
    assert got["clean"].to_list() == ["x y"] * len(values)
    # A column whose only padding is one kind of space is found too.
    for space in spaces:
        alone = clean_texts(pl.DataFrame({"c": ["a", f"{space}b", f"c{space}"]}))
        assert alone["c"].to_list() == ["a", "b", "c"], repr(space)
    assert got["numbers"].to_list() == [str(i) for i in range(len(values))]
