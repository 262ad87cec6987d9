"""Vendor exports as warehouses write them (field names in upper case), and a vendor's ``$``
property beside a custom property of the same name (``$os`` and ``os``)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from pmkit.canonical import EVENT_TYPES
from pmkit.sources import amplitude, mixpanel, posthog
from pmkit.sources.base import ROW, Parsed, ReadOptions
from pmkit.sources.events_common import NotExact, build_by_columns, build_by_records
from pmkit.sources.sniff import sniff

FIXTURES = Path(__file__).parent.parent / "fixtures" / "events"
OPTIONS = ReadOptions()

# An Amplitude export unloaded from Snowflake, which writes unquoted column names in upper case.
AMPLITUDE_CSV = (
    "EVENT_TIME,EVENT_TYPE,USER_ID,DEVICE_ID,$INSERT_ID,AMPLITUDE_ID,EVENT_PROPERTIES,COUNTRY\n"
    '2026-03-01 10:00:00.000000,Purchase,alice,D1,i1,1,"{""revenue"": 5}",DE\n'
    "2026-03-01 11:00:00.000000,View,,D2,i2,2,{},FR\n"
)
AMPLITUDE_RECORDS = [
    {
        "EVENT_TIME": "2026-03-01 10:00:00.000000",
        "EVENT_TYPE": "Purchase",
        "USER_ID": "alice",
        "DEVICE_ID": "D1",
        "$INSERT_ID": "i1",
        "AMPLITUDE_ID": 1,
        "EVENT_PROPERTIES": {"revenue": 5},
        "COUNTRY": "DE",
    },
    {
        "EVENT_TIME": "2026-03-01 11:00:00.000000",
        "EVENT_TYPE": "View",
        "USER_ID": None,
        "DEVICE_ID": "D2",
        "$INSERT_ID": "i2",
        "AMPLITUDE_ID": 2,
        "EVENT_PROPERTIES": {},
        "COUNTRY": "FR",
    },
]
# PostHog's Snowflake batch export, unloaded the same way: properties as JSON text.
POSTHOG_CSV = (
    "UUID,EVENT,DISTINCT_ID,TIMESTAMP,PROPERTIES\n"
    '"e1",signup,u1,2026-03-01T10:00:00Z,"{""$os"": ""Mac OS X"", ""$session_id"": ""s1"", ""Plan"": ""pro""}"\n'
    '"e2",purchase,u2,2026-03-01T11:00:00Z,"{""$os"": ""Windows"", ""revenue"": 49.5}"\n'
)
# The same two events with their properties spread over columns (PostHog's own CSV layout).
POSTHOG_SPREAD_CSV = (
    "UUID,EVENT,DISTINCT_ID,TIMESTAMP,PROPERTIES.$OS,PROPERTIES.$session_id,PROPERTIES.Plan,PROPERTIES.revenue\n"
    "e1,signup,u1,2026-03-01T10:00:00Z,Mac OS X,s1,pro,\n"
    "e2,purchase,u2,2026-03-01T11:00:00Z,Windows,,,49.5\n"
)
POSTHOG_RECORDS = [
    {
        "UUID": "e1",
        "EVENT": "signup",
        "DISTINCT_ID": "u1",
        "TIMESTAMP": "2026-03-01T10:00:00Z",
        "PROPERTIES": {"$os": "Mac OS X", "$session_id": "s1", "Plan": "pro"},
    },
    {
        "UUID": "e2",
        "EVENT": "purchase",
        "DISTINCT_ID": "u2",
        "TIMESTAMP": "2026-03-01T11:00:00Z",
        "PROPERTIES": {"$os": "Windows", "revenue": 49.5},
    },
]


def amplitude_expected(rows: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "event_time": [datetime(2026, 3, 1, 10), datetime(2026, 3, 1, 11)],
            "user_id": ["alice", "D2"],  # an empty USER_ID: the device is the user
            "event": ["Purchase", "View"],
            "event_id": ["i1", "i2"],
            "session_id": [None, None],
            "revenue": [5.0, None],
            "country": ["DE", "FR"],
            ROW: rows,
        },
        schema={**EVENT_TYPES, "country": pl.String, ROW: pl.Int64},
    )


def posthog_expected(rows: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "event_time": [datetime(2026, 3, 1, 10), datetime(2026, 3, 1, 11)],
            "user_id": ["u1", "u2"],
            "event": ["signup", "purchase"],
            "event_id": ["e1", "e2"],
            "session_id": ["s1", None],
            "revenue": [None, 49.5],
            "os": ["Mac OS X", "Windows"],
            "plan": ["pro", None],
            ROW: rows,
        },
        schema={**EVENT_TYPES, "os": pl.String, "plan": pl.String, ROW: pl.Int64},
    )


def write_json_lines(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def read_both_ways(path: Path, module: ModuleType) -> Parsed:
    """By column and record by record: the same Parsed; ``read`` gives it too."""
    sample = sniff(path)
    assert module.detect(sample)
    by_column = build_by_columns(sample, module.EXPORT)
    by_record = build_by_records(sample, module.EXPORT)
    assert_frame_equal(by_column.frame, by_record.frame)
    assert (by_column.errors, by_column.mapping) == (by_record.errors, by_record.mapping)
    assert_frame_equal(module.read(sample, OPTIONS).frame, by_record.frame)
    return by_record


# ---------------------------------------------------------------------------------------------
# Upper-case field names


def test_amplitude_csv_with_upper_case_names(tmp_path: Path):
    path = tmp_path / "amplitude.csv"
    path.write_text(AMPLITUDE_CSV)
    sample = sniff(path)
    assert amplitude.detect(sample)
    parsed = amplitude.read(sample, OPTIONS)
    assert parsed.errors == ()
    assert_frame_equal(parsed.frame, amplitude_expected([2, 3]))


def test_amplitude_json_lines_with_upper_case_names_take_the_fast_path(tmp_path: Path):
    parsed = read_both_ways(write_json_lines(tmp_path / "amplitude.jsonl", AMPLITUDE_RECORDS), amplitude)
    assert_frame_equal(parsed.frame, amplitude_expected([1, 2]))


def test_amplitude_parquet_with_upper_case_names(tmp_path: Path):
    records = [{**record, "EVENT_PROPERTIES": json.dumps(record["EVENT_PROPERTIES"])} for record in AMPLITUDE_RECORDS]
    path = tmp_path / "amplitude.parquet"
    pl.DataFrame(records).write_parquet(path)
    parsed = amplitude.read(sniff(path), OPTIONS)
    assert parsed.errors == ()
    assert_frame_equal(parsed.frame, amplitude_expected([1, 2]))


@pytest.mark.parametrize("text", [POSTHOG_CSV, POSTHOG_SPREAD_CSV], ids=["properties", "properties.*"])
def test_posthog_csv_with_upper_case_names(tmp_path: Path, text: str):
    """Property names are the user's and keep their case (``Plan`` is stored as plan either way)."""
    path = tmp_path / "posthog.csv"
    path.write_text(text)
    sample = sniff(path)
    assert posthog.detect(sample)
    parsed = posthog.read(sample, OPTIONS)
    assert parsed.errors == ()
    assert_frame_equal(parsed.frame, posthog_expected([2, 3]))


def test_posthog_csv_spread_all_upper_case_reads_its_session_and_revenue(tmp_path: Path):
    """A warehouse unload writes the property's part of the name upper case too:
    ``PROPERTIES.$SESSION_ID`` and ``PROPERTIES.REVENUE`` were stored as dimensions, the
    events without a session or revenue. Other properties are dimensions, named as ever."""
    path = tmp_path / "posthog.csv"
    path.write_text(
        "UUID,EVENT,DISTINCT_ID,TIMESTAMP,PROPERTIES.$OS,PROPERTIES.$SESSION_ID,PROPERTIES.PLAN,PROPERTIES.REVENUE\n"
        "e1,signup,u1,2026-03-01T10:00:00Z,Mac OS X,s1,pro,\n"
        "e2,purchase,u2,2026-03-01T11:00:00Z,Windows,,,49.5\n"
    )
    parsed = posthog.read(sniff(path), OPTIONS)
    assert parsed.errors == ()
    assert parsed.frame.select("session_id", "revenue").rows() == [("s1", None), (None, 49.5)]
    assert [c for c in parsed.frame.columns if c not in EVENT_TYPES and c != ROW] == ["os", "plan"]
    assert (
        parsed.mapping["session_id"] == "PROPERTIES.$SESSION_ID" and parsed.mapping["revenue"] == "PROPERTIES.REVENUE"
    )


def test_mixpanel_csv_spread_all_upper_case_loads(tmp_path: Path):
    """Mixpanel's table layout from a warehouse: ``PROPERTIES.TIME`` and ``PROPERTIES.DISTINCT_ID``
    were not found, and every row was refused for an empty time."""
    path = tmp_path / "mixpanel.csv"
    path.write_text(
        "EVENT,PROPERTIES.TIME,PROPERTIES.DISTINCT_ID,PROPERTIES.$INSERT_ID,PROPERTIES.REVENUE,PROPERTIES.$OS\n"
        "Purchase,1772359200,u1,i1,5,Mac OS X\n"
        "View,1772362800,u2,i2,,Windows\n"
    )
    sample = sniff(path)
    assert mixpanel.detect(sample)
    parsed = mixpanel.read(sample, OPTIONS)
    assert parsed.errors == ()
    assert parsed.frame.select("event_time", "user_id", "event_id", "revenue").rows() == [
        (datetime(2026, 3, 1, 10), "u1", "i1", 5.0),
        (datetime(2026, 3, 1, 11), "u2", "i2", None),
    ]
    assert parsed.mapping["event_time"] == "PROPERTIES.TIME"


def test_posthog_json_lines_and_parquet_with_upper_case_names(tmp_path: Path):
    parsed = read_both_ways(write_json_lines(tmp_path / "posthog.jsonl", POSTHOG_RECORDS), posthog)
    assert_frame_equal(parsed.frame, posthog_expected([1, 2]))
    path = tmp_path / "posthog.parquet"  # properties as JSON text, as PostHog writes Parquet
    records = [{**record, "PROPERTIES": json.dumps(record["PROPERTIES"])} for record in POSTHOG_RECORDS]
    pl.DataFrame(records).write_parquet(path)
    assert_frame_equal(posthog.read(sniff(path), OPTIONS).frame, posthog_expected([1, 2]))


def test_a_field_spelt_two_ways_goes_record_by_record_and_lower_case_wins(tmp_path: Path):
    """Line 2 has both ``distinct_id`` and ``DISTINCT_ID``: the vendor's own spelling is the one
    read. Columns cannot tell a null from a missing key, so the file is read record by record."""
    lines = [
        POSTHOG_RECORDS[0],
        {**POSTHOG_RECORDS[1], "distinct_id": "u2", "DISTINCT_ID": "not-me"},
    ]
    path = write_json_lines(tmp_path / "posthog.jsonl", lines)
    with pytest.raises(NotExact, match="distinct_id"):
        build_by_columns(sniff(path), posthog.EXPORT)
    assert_frame_equal(posthog.read(sniff(path), OPTIONS).frame, posthog_expected([1, 2]))


SPELLINGS = st.sampled_from([str.lower, str.upper, str.title])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
@pytest.mark.parametrize(("name", "module"), [("amplitude.jsonl", amplitude), ("posthog.jsonl", posthog)])
def test_any_case_of_the_top_level_names_reads_the_same(
    tmp_path: Path, name: str, module: ModuleType, data: st.DataObject
):
    """Each top-level name re-cased (the same way in every line) reads the fixture's events; the
    property keys inside are left as they are."""
    lines = (FIXTURES / name).read_text().splitlines()
    keys = list(dict.fromkeys(key for line in lines for key in json.loads(line)))
    spelt = {key: data.draw(SPELLINGS, label=key)(key) for key in keys}
    original = module.read(sniff(FIXTURES / name), OPTIONS)
    records = [{spelt[key]: value for key, value in json.loads(line).items()} for line in lines]
    parsed = module.read(sniff(write_json_lines(tmp_path / name, records)), OPTIONS)
    assert_frame_equal(parsed.frame, original.frame)
    assert parsed.errors == original.errors
    # The same file as a CSV (nested values as JSON text, as warehouses unload them).
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, list(spelt.values()), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in record.items()})
    (tmp_path / "export.csv").write_text(buffer.getvalue())
    parsed = module.read(sniff(tmp_path / "export.csv"), OPTIONS)
    assert_frame_equal(parsed.frame, original.frame.with_columns(pl.col(ROW) + 1))


# ---------------------------------------------------------------------------------------------
# `$os` beside a custom `os`


def posthog_line(uuid: str, user: str, hour: int, properties: str) -> str:
    return (
        f'{{"uuid":"{uuid}","event":"e","distinct_id":"{user}",'
        f'"timestamp":"2026-03-01T{hour}:00:00Z","properties":{properties}}}\n'
    )


def mixpanel_line(insert_id: str, user: str, properties: str) -> str:
    return (
        f'{{"event":"e","properties":{{"time":1772359200,"distinct_id":"{user}","$insert_id":"{insert_id}",'
        f"{properties}}}}}\n"
    )


@pytest.mark.parametrize("order", ['{"os":"legacy-7","$os":"Windows"}', '{"$os":"Windows","os":"legacy-7"}'])
def test_posthog_own_os_is_os_and_a_custom_os_is_os_2_in_any_order(tmp_path: Path, order: str):
    alone = tmp_path / "a.jsonl"
    alone.write_text(posthog_line("a1", "u1", 10, '{"$os":"Mac OS X"}'))
    both = tmp_path / "b.jsonl"
    both.write_text(posthog_line("b1", "u2", 11, order))
    assert read_both_ways(alone, posthog).frame["os"].to_list() == ["Mac OS X"]
    parsed = read_both_ways(both, posthog)
    assert parsed.frame.select("os", "os_2").rows() == [("Windows", "legacy-7")]
    assert (parsed.mapping["os"], parsed.mapping["os_2"]) == ("properties.$os", "properties.os")
    spread = tmp_path / "b.csv"  # PostHog's CSV, its properties over columns in the same order
    columns = [f"properties.{key}" for key in json.loads(order)]
    spread.write_text(
        "uuid,event,distinct_id,timestamp," + ",".join(columns) + "\n"
        "b1,e,u2,2026-03-01T11:00:00Z," + ",".join(json.loads(order).values()) + "\n"
    )
    assert posthog.read(sniff(spread), OPTIONS).frame.select("os", "os_2").rows() == [("Windows", "legacy-7")]


@pytest.mark.parametrize("order", ['"os":"legacy-7","$os":"Windows"', '"$os":"Windows","os":"legacy-7"'])
def test_mixpanel_own_os_is_os_in_any_order(tmp_path: Path, order: str):
    path = tmp_path / "mixpanel.jsonl"
    path.write_text(mixpanel_line("i1", "u1", order))
    parsed = read_both_ways(path, mixpanel)
    assert parsed.frame.select("os", "os_2").rows() == [("Windows", "legacy-7")]


@pytest.mark.parametrize("reverse", [False, True])
def test_amplitude_own_price_and_plan_keep_the_plain_names_in_any_order(tmp_path: Path, reverse: bool):
    """``$price`` is Amplitude's, ``price`` the user's; ``user_properties.$plan`` is stored as
    user_plan like Amplitude's others, a custom ``plan`` beside it as user_plan_2."""

    def ordered(pairs: list[tuple[str, object]]) -> dict[str, object]:
        return dict(reversed(pairs) if reverse else pairs)

    record = {
        "event_time": "2026-03-01 10:00:00.000000",
        "event_type": "Purchase",
        "user_id": "u1",
        "$insert_id": "i1",
        "amplitude_id": 1,
        "event_properties": ordered([("price", 7), ("$price", 10)]),
        "user_properties": ordered([("plan", "legacy"), ("$plan", "pro")]),
    }
    parsed = read_both_ways(write_json_lines(tmp_path / "amplitude.jsonl", [record]), amplitude)
    assert parsed.frame.select("price", "price_2", "user_plan", "user_plan_2").rows() == [("10", "7", "pro", "legacy")]
    assert parsed.mapping["price"] == "event_properties.$price"
    assert parsed.mapping["user_plan_2"] == "user_properties.plan"


def test_the_cap_keeps_the_same_columns_whatever_their_names(tmp_path: Path):
    """Naming ``$os`` first changes no choice of the columns kept: with room for one, the tie
    between the two goes to the first in the file, as before (the custom ``os``, now ``os_2``)."""
    path = tmp_path / "b.jsonl"
    path.write_text(posthog_line("b1", "u2", 11, '{"os":"legacy-7","$os":"Windows"}'))
    parsed = posthog.read(sniff(path), ReadOptions(dimension_room=1))
    assert parsed.frame.columns == [*EVENT_TYPES, "os_2", ROW]
    assert parsed.frame["os_2"].to_list() == ["legacy-7"]
    assert parsed.dropped_dimensions == ("os",)


def test_the_mapping_and_row_errors_name_the_fields_as_the_file_spells_them(tmp_path: Path):
    """An upper-case export was told of "column event_time" and mapped from event_time: columns
    it does not have. A price without a quantity read "'x' x 'None' is not a number"."""
    path = tmp_path / "amplitude.csv"
    path.write_text(
        "EVENT_TIME,EVENT_TYPE,USER_ID,DEVICE_ID,$INSERT_ID,AMPLITUDE_ID,EVENT_PROPERTIES\n"
        '2026-03-01 10:00:00.000000,Purchase,alice,D1,i1,1,"{""revenue"": 5}"\n'
        "not a time,View,bob,D3,i3,3,{}\n"
        '2026-03-01 12:00:00.000000,Buy,carl,D4,i4,4,"{""price"": ""x""}"\n'
    )
    parsed = amplitude.read(sniff(path), OPTIONS)
    assert parsed.mapping["event_time"] == "EVENT_TIME" and parsed.mapping["revenue"] == "EVENT_PROPERTIES.revenue"
    assert [(e.row, e.column) for e in parsed.errors] == [(3, "EVENT_TIME"), (4, "EVENT_PROPERTIES.price")]
    assert parsed.errors[1].message == "price 'x' is not a number (expected e.g. 49.00)"


def test_a_property_differing_only_in_case_from_a_vendor_field_is_kept_beside_it():
    """`properties.Time` beside `properties.time` was neither the time nor a dimension (review);
    the same record as JSON keeps it."""
    from pmkit.sources.events_common import properties_of

    spread = properties_of({"properties.time": 1, "properties.Time": "35s"}, mixpanel.CONSUMED)
    nested = properties_of({"properties": {"time": 1, "Time": "35s"}}, mixpanel.CONSUMED)
    assert spread == nested == {"time": 1, "Time": "35s"}
    assert properties_of({"PROPERTIES.TIME": 1}, mixpanel.CONSUMED) == {"time": 1}
