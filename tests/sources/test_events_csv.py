"""pmkit's own events CSV, and any CSV or Parquet whose columns map onto the events table."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pmkit.canonical import EVENT_TYPES
from pmkit.sources import amplitude, events_csv, ga4, mixpanel, pmkit_tables, posthog
from pmkit.sources.base import ROW, Parsed, ReadOptions, Rejected, RowError
from pmkit.sources.sniff import sniff

FIXTURES = Path(__file__).parent.parent / "fixtures" / "events"
UTC = ReadOptions()
BERLIN = ReadOptions(timezone="Europe/Berlin")


def load(path: Path, options: ReadOptions = UTC) -> Parsed:
    sample = sniff(path)
    assert events_csv.detect(sample)
    return events_csv.read(sample, options)


def write(tmp_path: Path, text: str, name: str = "export.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def events(rows: list[tuple], dims: dict[str, list] | None = None) -> pl.DataFrame:
    """The expected canonical frame: rows of (event_time, user_id, event, event_id, session_id, revenue, _row)."""
    columns = list(zip(*rows, strict=True))
    data = {name: list(values) for name, values in zip([*EVENT_TYPES, ROW], columns, strict=True)}
    frame = pl.DataFrame(data, schema={**EVENT_TYPES, ROW: pl.Int64})
    if dims:
        frame = frame.select(*EVENT_TYPES, *(pl.Series(k, v, dtype=pl.String) for k, v in dims.items()), ROW)
    return frame


def test_pmkit_events_csv():
    parsed = load(FIXTURES / "pmkit_events.csv", BERLIN)
    expected = events(
        [
            (datetime(2026, 3, 1, 10, 0), "u1", "signup", "e1", "s1", None, 2),
            (datetime(2026, 3, 1, 9, 30), "u1", "purchase", "e2", "s1", 49.0, 3),  # 11:30+02:00
            (datetime(2026, 3, 2, 9, 15, 0, 250000), "u2", "login", "e3", None, None, 4),
            # row 5 repeats event id e3: dropped
        ],
        {"plan": ["free", "pro", "free"], "country": ["DE", "DE", None]},
    )
    assert_frame_equal(parsed.frame, expected)
    assert parsed.errors == ()
    assert parsed.kind == "events" and parsed.format == "pmkit events CSV"


def test_mapped_columns_with_semicolons_and_decimal_commas(tmp_path: Path):
    text = "Timestamp;Distinct ID;Event Name;Amount;Plan Type\n2026-03-01 10:00:00;u1;Checkout;1.234,50;pro\n2026-03-01 11:00:00;u2;Checkout;49,50;free\n"
    parsed = load(write(tmp_path, text))
    expected = events(
        [
            (datetime(2026, 3, 1, 10), "u1", "Checkout", None, None, 1234.5, 2),
            (datetime(2026, 3, 1, 11), "u2", "Checkout", None, None, 49.5, 3),
        ],
        {"plan_type": ["pro", "free"]},
    )
    assert_frame_equal(parsed.frame, expected)
    assert parsed.format == "events CSV (mapped columns)"
    assert parsed.mapping == {
        "event_time": "Timestamp",
        "user_id": "Distinct ID",
        "event": "Event Name",
        "revenue": "Amount",
        "plan_type": "Plan Type",
    }


def test_tab_delimited_with_epoch_milliseconds(tmp_path: Path):
    text = "ts\tuser\taction\tid\n1772359200000\tu1\tlogin\tx1\n1772359200500\tu2\tlogin\tx2\n"
    parsed = load(write(tmp_path, text, "export.tsv"))
    expected = events(
        [
            (datetime(2026, 3, 1, 10), "u1", "login", "x1", None, None, 2),
            (datetime(2026, 3, 1, 10, 0, 0, 500000), "u2", "login", "x2", None, None, 3),
        ]
    )
    assert_frame_equal(parsed.frame, expected)
    assert parsed.mapping == {"event_time": "ts", "user_id": "user", "event": "action", "event_id": "id"}


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("1772359200", datetime(2026, 3, 1, 10)),
        ("1772359200000", datetime(2026, 3, 1, 10)),
        ("1772359200000000", datetime(2026, 3, 1, 10)),
        ("2026-03-01T12:00:00+02:00", datetime(2026, 3, 1, 10)),
    ],
    ids=["epoch s", "epoch ms", "epoch us", "offset"],
)
def test_time_forms_ignore_the_workspace_zone(tmp_path: Path, stamp: str, expected: datetime):
    parsed = load(write(tmp_path, f"event_time,user_id,event\n{stamp},u1,login\n"), BERLIN)
    assert parsed.frame["event_time"].to_list() == [expected]


def test_naive_times_in_the_workspace_zone_around_dst(tmp_path: Path):
    text = "event_time,user_id,event\n2026-03-28 12:00:00,u1,a\n2026-03-29 02:30:00,u1,b\n2026-03-29 12:00:00,u1,c\n2026-10-25 02:30:00,u1,d\n"
    parsed = load(write(tmp_path, text), BERLIN)
    assert parsed.frame["event_time"].to_list() == [
        datetime(2026, 3, 28, 11, 0),  # CET
        datetime(2026, 3, 29, 1, 30),  # skipped by the clock change: the offset before it
        datetime(2026, 3, 29, 10, 0),  # CEST
        datetime(2026, 10, 25, 0, 30),  # happens twice: the earliest
    ]


def test_bom_is_not_part_of_the_first_column(tmp_path: Path):
    parsed = load(write(tmp_path, "event_time,user_id,event\n2026-03-01T10:00:00Z,u1,login\n", encoding="utf-8-sig"))
    assert parsed.mapping["event_time"] == "event_time"
    assert parsed.frame["event_time"].to_list() == [datetime(2026, 3, 1, 10)]


def test_windows_1252(tmp_path: Path):
    text = "event_time;user_id;event;revenue;city\n2026-03-01 10:00;u1;Café gekauft;€4,50;Zürich\n"
    parsed = load(write(tmp_path, text, encoding="cp1252"))
    expected = events([(datetime(2026, 3, 1, 10), "u1", "Café gekauft", None, None, 4.5, 2)], {"city": ["Zürich"]})
    assert_frame_equal(parsed.frame, expected)


def test_windows_1252_letter_just_before_the_end_is_not_taken_for_cut_utf8(tmp_path: Path):
    # Found by the property test: the file's only non-ASCII byte is its second-to-last one. A UTF-8
    # character cut by the sniff's head limit ends the bytes; this one is followed by a line break.
    parsed = load(
        write(tmp_path, "event_time,user_id,event,city\n2026-03-01T10:00:00Z,u1,login,Ä\n", encoding="cp1252")
    )
    assert parsed.frame["city"].to_list() == ["Ä"]


def test_impossible_date_is_a_row_error_naming_row_column_and_example(tmp_path: Path):
    text = "timestamp,user_id,event\n2026-03-01 10:00,u1,a\n2026-02-30 10:00,u1,b\n2026-03-01 25:00,u2,c\n"
    parsed = load(write(tmp_path, text))
    assert parsed.frame[ROW].to_list() == [2]
    assert parsed.errors == (
        RowError(3, "timestamp", "'2026-02-30 10:00' is not a valid time (expected e.g. 2026-03-01T10:00:00Z)"),
        RowError(4, "timestamp", "'2026-03-01 25:00' is not a valid time (expected e.g. 2026-03-01T10:00:00Z)"),
    )


def test_quoted_line_breaks_keep_spreadsheet_rows(tmp_path: Path):
    text = 'event_time,user_id,event,note\n2026-03-01T10:00:00Z,u1,a,"two\nlines"\n2026-02-30T10:00:00Z,u1,b,x\n'
    parsed = load(write(tmp_path, text))
    assert parsed.frame["note"].to_list() == ["two\nlines"]
    assert [e.row for e in parsed.errors] == [3]  # the record after the header and one record


def test_missing_user_column_rejects_the_file(tmp_path: Path):
    path = write(tmp_path, "event_time,event,plan\n2026-03-01T10:00:00Z,login,pro\n")
    sample = sniff(path)
    assert not events_csv.detect(sample)
    with pytest.raises(Rejected) as caught:
        events_csv.read(sample, UTC)
    (error,) = caught.value.errors
    assert error.row == 1
    assert (
        "no user_id column" in error.message
        and "distinct_id" in error.message
        and "event_time,user_id,event" in error.message
    )


def test_parquet_with_typed_columns(tmp_path: Path):
    path = tmp_path / "events.parquet"
    pl.DataFrame(
        {
            "created_at": pl.Series([datetime(2026, 3, 1, 10), datetime(2026, 3, 1, 11)]).dt.replace_time_zone("UTC"),
            "customer_id": [101, 102],
            "event_name": ["signup", "purchase"],
            "price": [None, 19.99],
            "tags": [["a", "b"], None],
        }
    ).write_parquet(path)
    parsed = load(path)
    expected = events(
        [
            (datetime(2026, 3, 1, 10), "101", "signup", None, None, None, 1),
            (datetime(2026, 3, 1, 11), "102", "purchase", None, None, 19.99, 2),
        ],
        {"tags": ['["a","b"]', None]},
    )
    assert_frame_equal(parsed.frame, expected)
    assert parsed.format == "events Parquet"


def test_parquet_with_a_map_column_keeps_it_as_json_text(tmp_path: Path):
    """Ingest QA: a MAP column, as Spark and Databricks write key/value columns, made the file
    "a bug in pmkit" (cannot cast map to str). It is a dimension of JSON text, as a struct is."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "events.parquet"
    table = pa.table(
        {
            "event_time": ["2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z"],
            "user_id": ["u1", "u2"],
            "event": ["signup", "view"],
            "context": pa.array([[("plan", "pro"), ("os", "iOS")], None], pa.map_(pa.string(), pa.string())),
        }
    )
    pq.write_table(table, path)
    parsed = load(path)
    assert parsed.frame["context"].to_list() == ['{"os":"iOS","plan":"pro"}', None]
    assert parsed.errors == ()


@pytest.mark.parametrize(
    "header",
    [
        "objective_id,title,metric,baseline,target,start_date,target_date,direction,owner",
        "submitted_at,user_id,score,scale,comment,source",
        "item_id,title,item_type,parent_id,objective_id,owner,team,status,start_date,due_date",
        "Issue key,Issue id,Summary,Issue Type,Status,Project key,Project name,Priority,Resolution,Assignee,Reporter,Created,Updated,Last Viewed,Resolved,Due Date,Sprint,Parent,Parent summary,Labels",
        "ID,Team,Title,Description,Status,Estimate,Priority,Project ID,Project,Creator,Assignee,Labels,Cycle Number,Cycle Name,Cycle Start,Cycle End,Created,Updated,Started,Triaged,Completed,Canceled,Archived,Due Date,Parent issue,Initiatives,Project Milestone ID,Project Milestone,SLA Status,Roadmaps",
        '"Project Name","Project Identifier","Parent","Identifier","Sequence Id","Name","State Name","Priority","Assignees","Subscribers","Created By Name","Start Date","Target Date","Completed At","Created At","Updated At"',
    ],
    ids=["objectives", "feedback", "pmkit roadmap", "jira", "linear", "plane"],
)
def test_does_not_claim_roadmap_objective_or_feedback_files(tmp_path: Path, header: str):
    assert not events_csv.detect(sniff(write(tmp_path, header + "\n")))


# Sources in the order pmkit.sources tries them (events_csv last: it takes any mappable table).
ORDER = (posthog, amplitude, mixpanel, ga4, pmkit_tables, events_csv)
OWNER = {
    "pmkit_events.csv": events_csv,
    "posthog.jsonl": posthog,
    "posthog.csv": posthog,
    "amplitude.jsonl": amplitude,
    "mixpanel.jsonl": mixpanel,
    "ga4.csv": ga4,
    "objectives.csv": pmkit_tables,
    "feedback.csv": pmkit_tables,
    "hotjar_nps.csv": pmkit_tables,
}


@pytest.mark.parametrize("name", sorted(OWNER))
def test_each_fixture_goes_to_its_own_module(name: str):
    sample = sniff(FIXTURES / name)
    assert next(module for module in ORDER if module.detect(sample)) is OWNER[name]
    # The generic table reader is the fallback only: it also maps PostHog's CSV columns.
    generic = {"pmkit_events.csv", "posthog.csv"}
    assert events_csv.detect(sample) == (name in generic)


UTF8_WITH_A_STRAY_BYTE = (
    b"event_time,user_id,event,country\n"
    b"2026-03-01T10:00:00Z,u1,a,Z\xc3\xbcrich\n"  # Zurich with u-umlaut as UTF-8
    b"2026-03-01T11:00:00Z,u2,a,US\xff\n"  # a byte that is neither UTF-8 nor wanted
)
STRAY_BYTE_MESSAGE = (
    "'US' is followed by the byte 0xff, which is not UTF-8 though the rest of the file is "
    '(the file is damaged or mixes encodings; fix the value and save the file as UTF-8, e.g. Excel\'s "CSV UTF-8")'
)


def test_utf8_file_with_a_stray_byte_is_rejected_naming_row_and_column(tmp_path: Path):
    # Read as Windows-1252 it loaded as `ZÃ¼rich` and `USÿ`.
    path = tmp_path / "export.csv"
    path.write_bytes(UTF8_WITH_A_STRAY_BYTE)
    with pytest.raises(Rejected) as caught:
        load(path)
    assert caught.value.errors == [RowError(3, "country", STRAY_BYTE_MESSAGE)]


def test_utf8_file_with_a_stray_byte_past_the_sniffed_head_is_rejected(tmp_path: Path):
    # 20,000 ASCII rows (~600 KiB) push both the `ü` and the bad byte past sniff's 256 KiB head.
    filler = b"".join(b"2026-03-01T10:00:00Z,u%d,a,DE\n" % i for i in range(20_000))
    header, rows = UTF8_WITH_A_STRAY_BYTE.split(b"\n", 1)
    path = tmp_path / "export.csv"
    path.write_bytes(header + b"\n" + filler + rows)
    with pytest.raises(Rejected) as caught:
        load(path)
    assert caught.value.errors == [RowError(20_003, "country", STRAY_BYTE_MESSAGE)]


@pytest.mark.parametrize(
    ("data", "where"),
    [
        # A Windows-1252 `é` before the 0x81 that Windows-1252 lacks: the value was shown as
        # `Ren\ufffde`, read as UTF-8 (review).
        (b"event_time,user_id,event\n2026-03-01T10:00:00Z,u1,a\n2026-03-01T11:00:00Z,Ren\xe9e\x81,a\n", "Ren\xe9e"),
        # Lines ended by CR alone (classic Mac Excel): counted by LF, it was row 1 and no column.
        (b"event_time,user_id,event\r2026-03-01T10:00:00Z,u\xe91,a\r2026-03-01T11:00:00Z,u\x812,a\r", "u"),
    ],
)
def test_a_byte_windows_1252_lacks_is_named_by_its_row_column_and_value(tmp_path: Path, data: bytes, where: str):
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    with pytest.raises(Rejected) as caught:
        load(path)
    (error,) = caught.value.errors
    assert (error.row, error.column) == (3, "user_id")
    assert error.message.startswith(f"'{where}' is followed by the byte 0x81, which is neither UTF-8 nor Windows-1252")


def test_a_stray_byte_in_a_utf8_file_of_cr_line_ends_is_named_by_its_row(tmp_path: Path):
    # The same count when the head is UTF-8 and the byte is past it: lines ended by CR alone.
    filler = b"".join(b"2026-03-01T10:00:00Z,u%d,a,DE\r" % i for i in range(20_000))
    header, rows = UTF8_WITH_A_STRAY_BYTE.split(b"\n", 1)
    path = tmp_path / "export.csv"
    path.write_bytes(header + b"\r" + filler + rows.replace(b"\n", b"\r"))
    with pytest.raises(Rejected) as caught:
        load(path)
    assert caught.value.errors == [RowError(20_003, "country", STRAY_BYTE_MESSAGE)]


def test_windows_1252_letter_past_the_sniffed_head_is_read_as_windows_1252(tmp_path: Path):
    # The head is ASCII, so sniff calls it UTF-8; the late `ü` (0xfc) is not UTF-8 and no UTF-8
    # character came before it: a Windows-1252 export, read as such (it used to become U+FFFD).
    filler = "".join(f"2026-03-01T10:00:00Z,u{i},a,DE\n" for i in range(20_000))
    text = "event_time,user_id,event,city\n" + filler + "2026-03-01T10:00:00Z,u1,a,München\n"
    parsed = load(write(tmp_path, text, encoding="cp1252"))
    assert parsed.frame["city"].tail(1).to_list() == ["München"]
    assert parsed.frame.height == 20_001


def test_windows_1252_and_utf8_with_or_without_bom_load_the_same_values(tmp_path: Path):
    text = (
        "event_time,user_id,event,country\n2026-03-01T10:00:00Z,u1,a,Côte d'Ivoire\n2026-03-01T11:00:00Z,u2,a,München\n"
    )
    for encoding in ("cp1252", "utf-8", "utf-8-sig"):
        parsed = load(write(tmp_path, text, name=f"{encoding}.csv", encoding=encoding))
        assert parsed.frame["country"].to_list() == ["Côte d'Ivoire", "München"], encoding
        assert parsed.errors == ()


RAGGED = (
    "event_time,user_id,event\n"
    "2026-03-01T10:00:00Z,u1,a\n"
    "2026-03-01T10:00:00Z,u2\n"  # cut short
    "2026-03-01T10:00:00Z,u3,a,extra\n"  # one field too many
)
RAGGED_ERRORS = (
    RowError(
        3,
        None,
        "this row has 2 fields but the header has 3 (the row is cut short or has an extra comma; fix or remove the row)",
    ),
    RowError(
        4,
        None,
        "this row has 4 fields but the header has 3 (the row is cut short or has an extra comma; fix or remove the row)",
    ),
)


def test_rows_with_the_wrong_number_of_fields_are_row_errors(tmp_path: Path):
    parsed = load(write(tmp_path, RAGGED))
    assert parsed.frame[ROW].to_list() == [2]
    assert parsed.errors == RAGGED_ERRORS


def test_bad_times_deep_in_a_long_file_are_named_not_a_crash(tmp_path: Path):
    """200,000 rows, two bad times past the middle (QA): Polars 2.1 panicked while the messages
    were built, and the file was refused as "a bug in pmkit" instead of naming the rows."""
    lines = ["event_time,user_id,event"] + ["2026-03-01T10:00:00Z,u,v"] * 200_000
    lines[150_001] = lines[150_002] = "2026-02-30,u,v"  # rows 150,002 and 150,003
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n")
    sample = sniff(path)
    parsed = events_csv.read(sample, ReadOptions(timezone="UTC"))
    assert parsed.frame.height == 200_000 - 2
    assert [(e.row, e.column) for e in parsed.errors] == [(150_002, "event_time"), (150_003, "event_time")]
    assert parsed.errors[0].message.startswith("'2026-02-30' is not a valid time")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_named_as_such(tmp_path: Path, encoding: str):
    """It was "not a text export (it looks like binary data); save it as CSV", which it was
    (ingest QA). With the mark it loads (tested with the other encodings)."""
    from pmkit.sources.base import Rejected
    from pmkit.sources.sniff import sniff

    path = tmp_path / "events.csv"
    path.write_bytes("event_time,user_id,event\n2026-03-01T10:00:00Z,u1,login\n".encode(encoding))
    with pytest.raises(Rejected) as caught:
        sniff(path)
    assert caught.value.errors[0].message.startswith("this looks like UTF-16 text without a byte-order mark")


def test_a_semicolon_files_dotted_amounts_are_read_as_the_column_says_or_refused(tmp_path: Path):
    """ "12.500;4.990" with nothing else in the column: three decimals (12.5) or thousands
    (12,500)? Read as decimals, "1.500" beside "750" made revenue a thousand times too small
    without a word (QA); read as thousands, a three-decimal tool's amounts were a thousand times
    too large (review). So such rows are refused, naming both readings. A dot decimal (49.50) in
    the column says the dot is a decimal point; a decimal comma (4,99) says it groups thousands."""
    path = tmp_path / "events.csv"
    head = "event_time;user_id;event;revenue\n"
    path.write_text(head + "2026-03-01T10:00:00Z;u1;buy;12.500\n2026-03-01T11:00:00Z;u2;buy;4.990\n")
    parsed = events_csv.read(sniff(path), ReadOptions())
    assert parsed.frame.height == 0
    assert [(e.row, e.column) for e in parsed.errors] == [(2, "revenue"), (3, "revenue")]
    assert parsed.errors[0].message == (
        "'12.500' could be 12500 (a dot grouping thousands) or 12.5 (a decimal point) in a ';' file, and nothing "
        "says which: write 12500 or 12,5"
    )
    path.write_text(head + "2026-03-01T10:00:00Z;u1;buy;1.500\n2026-03-01T11:00:00Z;u2;buy;750\n")
    parsed = events_csv.read(sniff(path), ReadOptions())
    assert [(e.row, e.column) for e in parsed.errors] == [(2, "revenue")]
    assert parsed.frame["revenue"].to_list() == [750.0]
    path.write_text(head + "2026-03-01T10:00:00Z;u1;buy;12.500\n2026-03-01T11:00:00Z;u2;buy;49.50\n")
    parsed = events_csv.read(sniff(path), ReadOptions())
    assert (parsed.errors, parsed.frame["revenue"].to_list()) == ((), [12.5, 49.5])
    # "1,234.50" groups with commas and so says the dot is a decimal point (review).
    path.write_text(head + "2026-03-01T10:00:00Z;u1;buy;1.500\n2026-03-01T11:00:00Z;u2;buy;1,234.50\n")
    parsed = events_csv.read(sniff(path), ReadOptions())
    assert (parsed.errors, parsed.frame["revenue"].to_list()) == ((), [1.5, 1234.5])
    path.write_text(head + "2026-03-01T10:00:00Z;u1;buy;1.500\n2026-03-01T11:00:00Z;u2;buy;4,99\n")
    parsed = events_csv.read(sniff(path), ReadOptions())
    assert (parsed.errors, parsed.frame["revenue"].to_list()) == ((), [1500.0, 4.99])


def test_separate_date_and_time_columns_are_one_time(tmp_path: Path):
    """A spreadsheet's date and time columns: the time column was taken alone and every row
    refused ("'23:30:00' is not a valid time"), the date column passed over (ingest QA). They
    are one time, read in the workspace's zone; a bad one names both columns."""
    path = tmp_path / "events.csv"
    path.write_text("Date,Time,user_id,event\n2026-03-01,23:30:00,u1,login\n2026-03-02, 08:15 ,u2,login\n")
    parsed = events_csv.read(sniff(path), ReadOptions(timezone="Europe/Berlin"))
    assert parsed.errors == ()
    assert parsed.frame.select("event_time", "user_id").rows() == [
        (datetime(2026, 3, 1, 22, 30), "u1"),  # 23:30 in Berlin
        (datetime(2026, 3, 2, 7, 15), "u2"),
    ]
    assert parsed.mapping["event_time"] == "Date + Time" and "Date" not in parsed.frame.columns
    path.write_text("date,time,user_id,event\n2026-03-01,23:30:00,u1,login\n2026-02-30,10:00,u2,login\n")
    parsed = events_csv.read(sniff(path), ReadOptions())
    assert [(e.row, e.column) for e in parsed.errors] == [(3, "date + time")]
    # A time column holding whole times is the time, and a date column beside it a dimension.
    path.write_text("date,time,user_id,event\n2026-03-01,2026-03-01T10:00:00Z,u1,login\n")
    parsed = events_csv.read(sniff(path), ReadOptions())
    assert parsed.frame["event_time"].to_list() == [datetime(2026, 3, 1, 10)] and "date" in parsed.frame.columns
