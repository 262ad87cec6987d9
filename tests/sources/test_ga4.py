"""GA4 BigQuery exports flattened to CSV: event_timestamp in microseconds, user_pseudo_id."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pmkit.canonical import EVENT_TYPES
from pmkit.sources import ga4
from pmkit.sources.base import ROW, ReadOptions, Rejected
from pmkit.sources.sniff import sniff

FIXTURES = Path(__file__).parent.parent / "fixtures" / "events"
DIMENSIONS = ["platform", "device_category", "geo_country", "app_info_version", "country"]


def test_ga4_export():
    sample = sniff(FIXTURES / "ga4.csv")
    assert ga4.detect(sample)
    parsed = ga4.read(sample, ReadOptions(timezone="Europe/Berlin"))
    expected = pl.DataFrame(
        {
            # 1772359200000000 µs = 2026-03-01T10:00:00Z
            "event_time": [
                datetime(2026, 3, 1, 10, 0),
                datetime(2026, 3, 1, 10, 1, 0, 500000),
                datetime(2026, 3, 1, 11, 0),
            ],
            # user_pseudo_id: the purchase after signing in (user_id u_42) is the same browser's, one
            # user (by user_id first, two users that day; ingest QA).
            "user_id": ["1234567.89", "1234567.89", "987654.32"],
            "event": ["page_view", "purchase", "first_open"],
            "event_id": [None, None, None],
            "session_id": [None, None, None],
            "revenue": [None, 19.99, None],
            "platform": ["WEB", "WEB", "ANDROID"],
            "device_category": ["desktop", "desktop", "mobile"],
            "geo_country": ["Germany", "Germany", "France"],
            "app_info_version": [None, None, "2.3.1"],
            "country": ["Germany", "Germany", "France"],
            ROW: [2, 3, 4],
        },
        schema={**EVENT_TYPES, **dict.fromkeys(DIMENSIONS, pl.String), ROW: pl.Int64},
    )
    assert_frame_equal(parsed.frame, expected)
    assert parsed.errors == ()
    assert parsed.mapping["country"] == "geo.country" and parsed.mapping["revenue"] == "event_value_in_usd"


def test_rows_without_any_user_are_errors(tmp_path: Path):
    path = tmp_path / "ga4.csv"
    path.write_text(
        "event_date,event_timestamp,event_name,user_id,user_pseudo_id\n20260301,1772359200000000,page_view,,\n"
    )
    parsed = ga4.read(sniff(path), ReadOptions())
    assert parsed.frame.height == 0
    # Both columns are named: the one every GA4 row should fill is user_pseudo_id.
    assert [(e.row, e.column) for e in parsed.errors] == [(2, "user_pseudo_id or user_id")]


def test_missing_columns_reject_the_file(tmp_path: Path):
    path = tmp_path / "ga4.csv"
    path.write_text("event_date,event_timestamp,event_name\n20260301,1772359200000000,page_view\n")
    with pytest.raises(Rejected, match="no user_pseudo_id or user_id column"):
        ga4.read(sniff(path), ReadOptions())


def test_an_export_with_user_id_only_loads_its_signed_in_events(tmp_path: Path):
    """Refused before as matching no known export, for want of user_pseudo_id."""
    path = tmp_path / "ga4.csv"
    path.write_text(
        "event_date,event_timestamp,event_name,user_id\n20260301,1772359200000000,page_view,u1\n"
        "20260301,1772359260000000,page_view,\n"
    )
    sample = sniff(path)
    assert ga4.detect(sample)
    parsed = ga4.read(sample, ReadOptions())
    assert parsed.frame.select("event_time", "user_id", "event").rows() == [
        (datetime(2026, 3, 1, 10), "u1", "page_view")
    ]
    assert [(e.row, e.column) for e in parsed.errors] == [(3, "user_id")]


def test_a_timestamp_in_another_unit_says_ga4_writes_microseconds(tmp_path: Path):
    """A column all in milliseconds was told its numbers were not in "the unit of the column's
    other epoch numbers" and to export it "with one unit": it had one, the wrong one."""
    path = tmp_path / "ga4.csv"
    path.write_text(
        "event_date,event_timestamp,event_name,user_pseudo_id\n20260301,1772359200000,page_view,p1\n"
        "20260301,1772359260000,page_view,p2\n"
    )
    parsed = ga4.read(sniff(path), ReadOptions())
    assert parsed.frame.height == 0
    assert [(e.row, e.column) for e in parsed.errors] == [(2, "event_timestamp"), (3, "event_timestamp")]
    assert parsed.errors[0].message == (
        "'1772359200000' is not a time in microseconds since 1970, the unit this column always holds "
        "(e.g. 1772359200000000 is 2026-03-01T10:00:00Z): export it as the tool writes it, without converting the unit"
    )


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()))
def test_detects_only_ga4_exports(name: str):
    assert ga4.detect(sniff(FIXTURES / name)) == name.startswith("ga4")


def test_bigquery_nested_parquet_reads_as_the_flattened_export(tmp_path: Path):
    """GA4's BigQuery events table written to Parquet keeps its nesting: structs (geo, device)
    and key/value lists (event_params, user_properties) whose value is whichever of string_value,
    int_value, float_value, double_value is set. Before, geo was one JSON text dimension (no
    country) and the session id inside event_params was never found."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    value = pa.struct(
        [
            ("string_value", pa.string()),
            ("int_value", pa.int64()),
            ("float_value", pa.float64()),
            ("double_value", pa.float64()),
        ]
    )
    pairs = pa.list_(pa.struct([("key", pa.string()), ("value", value)]))

    def param(key: str, string: str | None = None, integer: int | None = None, double: float | None = None):
        return {
            "key": key,
            "value": {"string_value": string, "int_value": integer, "float_value": None, "double_value": double},
        }

    table = pa.table(
        {
            "event_date": ["20260301", "20260301", "20260302"],
            "event_timestamp": pa.array([1772359200000000, 1772359260000000, 1772445600000000], pa.int64()),
            "event_name": ["page_view", "purchase", "page_view"],
            "event_params": pa.array(
                [
                    [param("ga_session_id", integer=1772359100), param("page_title", string="Home")],
                    [param("ga_session_id", integer=1772359100), param("value", double=49.5)],
                    [],
                ],
                pairs,
            ),
            "user_id": [None, "u9", None],
            "user_pseudo_id": ["p1", "p1", "p2"],
            "geo": pa.array(
                [{"country": "Germany", "city": "Berlin"}, {"country": "Germany", "city": None}, None],
                pa.struct([("country", pa.string()), ("city", pa.string())]),
            ),
            "device": pa.array(
                [
                    {"category": "desktop", "web_info": {"browser": "Chrome"}},
                    None,
                    {"category": "mobile", "web_info": None},
                ],
                pa.struct([("category", pa.string()), ("web_info", pa.struct([("browser", pa.string())]))]),
            ),
        }
    )
    path = tmp_path / "events_20260301.parquet"
    pq.write_table(table, path)
    sample = sniff(path)
    assert ga4.detect(sample)
    parsed = ga4.read(sample, ReadOptions())
    assert parsed.errors == ()
    got = parsed.frame.select(
        "event_time",
        "user_id",
        "event",
        "session_id",
        "country",
        "geo_city",
        "device_category",
        "device_web_info_browser",
        "event_params_page_title",
        "event_params_value",
    ).rows()
    assert got == [
        (
            datetime(2026, 3, 1, 10),
            "p1",
            "page_view",
            "1772359100",
            "Germany",
            "Berlin",
            "desktop",
            "Chrome",
            "Home",
            None,
        ),
        (datetime(2026, 3, 1, 10, 1), "p1", "purchase", "1772359100", "Germany", None, None, None, None, "49.5"),
        (datetime(2026, 3, 2, 10), "p2", "page_view", None, None, None, "mobile", None, None, None),
    ]
    assert parsed.mapping["session_id"] == "event_params.ga_session_id"
    assert parsed.mapping["country"] == "geo.country"


def test_nested_keys_beyond_the_built_ones_are_named_and_odd_names_keep_their_values(tmp_path: Path):
    """A list with more keys than MAX_KEYS builds the keys most rows have (a 600 KB file of 4,000
    keys took 5.3 GB), names the others as left out, and still builds a rare key pmkit.toml
    keeps. A struct field named like a column beside it no longer replaces that column's values,
    and a key named _row (the row index's name) no longer rejects the file as a bug in pmkit."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    value = pa.struct([("string_value", pa.string()), ("int_value", pa.int64())])
    pairs = pa.list_(pa.struct([("key", pa.string()), ("value", value)]))
    rows = 70

    def params(i: int) -> list[dict]:
        # k00..k58 and _row on every row (60 keys), k60..k68 on one row each.
        found = [{"key": f"k{n:02d}", "value": {"string_value": f"v{n}", "int_value": None}} for n in range(59)]
        found.append({"key": "_row", "value": {"string_value": "odd", "int_value": None}})
        if i < 9:
            found.append({"key": f"k{60 + i}", "value": {"string_value": "rare", "int_value": None}})
        return found

    table = pa.table(
        {
            "event_timestamp": pa.array([1772359200000000 + i * 1_000_000 for i in range(rows)], pa.int64()),
            "event_name": ["e"] * rows,
            "user_pseudo_id": [f"p{i}" for i in range(rows)],
            "event_params": pa.array([params(i) for i in range(rows)], pairs),
            "geo.country": ["TOPLEVEL"] * rows,
            "geo": pa.array([{"country": "DE"}] * rows, pa.struct([("country", pa.string())])),
        }
    )
    path = tmp_path / "events.parquet"
    pq.write_table(table, path)
    keep = frozenset({"event_params_k68"})
    parsed = ga4.read(sniff(path), ReadOptions(keep_dimensions=keep, dimension_room=200))
    assert parsed.errors == ()
    columns = set(parsed.frame.columns)
    assert {f"event_params_k{n:02d}" for n in range(59)} <= columns
    assert parsed.frame["event_params__row"].unique().to_list() == ["odd"]
    assert "event_params_k68" in columns and "event_params_k60" not in columns
    assert set(parsed.dropped_dimensions) == {f"event_params_k{60 + n}" for n in range(8)}
    assert parsed.frame["geo_country"].unique().to_list() == ["TOPLEVEL"]  # the file's own column
    assert parsed.frame["geo_country_2"].unique().to_list() == ["DE"]  # the struct's field beside it


def test_signing_in_does_not_make_a_second_user(tmp_path: Path):
    """Browser 111.222 views a page on 1 Mar, then on 2 Mar views one and signs in (user_id
    cust-9). By user_id where set, 2 Mar counted two users and one new (ingest QA); GA4's export
    counts users by user_pseudo_id: one user, new on 1 Mar. Checked on the store, by hand."""
    from pmkit.config import load_config
    from pmkit.ingest import ingest
    from pmkit.store import Store

    path = tmp_path / "ga4.csv"
    path.write_text(
        "event_date,event_timestamp,event_name,user_id,user_pseudo_id\n"
        "20260301,1772359200000000,page_view,,111.222\n"
        "20260302,1772445600000000,page_view,,111.222\n"
        "20260302,1772445660000000,login,cust-9,111.222\n"
    )
    data = tmp_path / "ws"
    data.mkdir()
    (data / "pmkit.toml").write_text('[workspace]\ntimezone = "UTC"\n')
    config = load_config(data)
    assert ingest([path], config)[0].status == "loaded"
    with Store(config.store_dir).reader() as reader:
        days = reader.frame("SELECT day, dau, new_users FROM kpi_daily ORDER BY day").rows()
    assert [(str(day), dau, new) for day, dau, new in days] == [("2026-03-01", 1, 1), ("2026-03-02", 1, 0)]


@pytest.mark.parametrize(
    ("key", "kind"),
    [("event_params.key", "event parameter"), ("user_properties.key", "user property"), ("items.item_id", "item")],
)
def test_an_export_with_a_row_per_event_parameter_is_refused_naming_the_fix(tmp_path: Path, key: str, kind: str):
    """A query with UNNEST(event_params) (or BigQuery's "flatten results") writes one row per
    parameter, `event_params.key` beside its values: 2 events loaded as 5, the key kept as a
    dimension (vendor QA). The file is refused saying how to export one row per event. A row per
    user property repeats the events the same way: 1 purchase of $50 loaded as 3 and $150 (review)."""
    path = tmp_path / "ga4.csv"
    value = key.replace(".key", ".value.string_value").replace(".item_id", ".item_name")
    path.write_text(
        f"event_date,event_timestamp,event_name,event_value_in_usd,{key},{value},user_pseudo_id\n"
        "20260301,1772359200000000,purchase,50,plan,pro,111.222\n"
        "20260301,1772359200000000,purchase,50,theme,dark,111.222\n"
    )
    with pytest.raises(Rejected) as refused:
        ga4.read(sniff(path), ReadOptions())
    (error,) = refused.value.errors
    assert (error.row, error.column) == (1, key)
    assert error.message.startswith(f"one row per {kind} ({key})")
    assert "the table as Parquet" in error.message


@pytest.mark.parametrize(
    ("name", "kind"),
    [("event_params", "event parameter"), ("p", "event parameter"), ("user_properties", "user property")],
)  # `SELECT e.*, p FROM ..., UNNEST(event_params) p`; a user property was said to be a parameter (review)
def test_a_parquet_of_one_row_per_parameter_as_a_struct_is_refused(tmp_path: Path, name: str, kind: str):
    """Review: `SELECT ..., p AS event_params FROM ..., UNNEST(event_params) p` written to Parquet
    holds one event_params struct per row. Checked before the structs are flattened, one $50
    purchase with three parameters loaded as three and $150."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    value = pa.struct([("string_value", pa.string()), ("int_value", pa.int64())])
    pair = pa.struct([("key", pa.string()), ("value", value)])
    params = [("ga_session_id", None, 1), ("plan", "pro", None), ("theme", "dark", None)]
    table = pa.table(
        {
            "event_timestamp": pa.array([1772359200000000] * 3, pa.int64()),
            "event_name": ["purchase"] * 3,
            "event_value_in_usd": [50.0] * 3,
            name: pa.array([{"key": k, "value": {"string_value": s, "int_value": i}} for k, s, i in params], pair),
            "user_pseudo_id": ["p1"] * 3,
        }
    )
    path = tmp_path / "ga4.parquet"
    pq.write_table(table, path)
    with pytest.raises(Rejected) as refused:
        ga4.read(sniff(path), ReadOptions())
    (error,) = refused.value.errors
    assert (error.row, error.column) == (1, f"{name}.key")
    assert error.message.startswith(f"one row per {kind} ({name}.key)")


def test_a_nested_parameter_named_key_is_a_parameter(tmp_path: Path):
    """Review: a nested export (one row per event, as the refusal above asks for) whose event had
    a parameter named "key" was refused as one row per parameter: flattened, that parameter is
    the column event_params.key."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    value = pa.struct([("string_value", pa.string()), ("int_value", pa.int64())])
    pairs = pa.list_(pa.struct([("key", pa.string()), ("value", value)]))
    table = pa.table(
        {
            "event_date": ["20260301", "20260301"],
            "event_timestamp": pa.array([1772359200000000, 1772359260000000], pa.int64()),
            "event_name": ["page_view", "search"],
            "event_params": pa.array(
                [
                    [{"key": "page_title", "value": {"string_value": "Home", "int_value": None}}],
                    [{"key": "key", "value": {"string_value": "pricing", "int_value": None}}],
                ],
                pairs,
            ),
            "user_pseudo_id": ["p1", "p1"],
        }
    )
    path = tmp_path / "events_20260301.parquet"
    pq.write_table(table, path)
    parsed = ga4.read(sniff(path), ReadOptions())
    assert parsed.frame["event"].to_list() == ["page_view", "search"]
    assert parsed.frame["event_params_key"].to_list() == [None, "pricing"]  # stored name


def test_a_bigquery_json_export_is_told_to_come_as_parquet(tmp_path: Path):
    """BigQuery's JSON of a GA4 table was told it matched no PostHog, Amplitude or Mixpanel layout,
    with no word of GA4 (vendor QA)."""
    from pmkit import sources

    path = tmp_path / "ga4.json"
    path.write_text(
        '{"event_date":"20260301","event_timestamp":"1772404200000000","event_name":"page_view",'
        '"event_params":[{"key":"ga_session_id","value":{"int_value":"1"}}],"user_pseudo_id":"1.2"}\n'
    )
    with pytest.raises(Rejected) as refused:
        sources.detect(sniff(path))
    assert refused.value.errors[0].message.startswith("a GA4 BigQuery export as JSON (event_timestamp, event_name)")
    assert "as Parquet" in refused.value.errors[0].message
