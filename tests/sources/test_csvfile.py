"""Reading a CSV as strings: rows with the wrong number of fields, and bytes that are not UTF-8."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pmkit.sources.base import ROW, Rejected, RowError
from pmkit.sources.csvfile import read_csv_rows
from pmkit.sources.sniff import sniff

RAGGED = (
    b"event_time,user_id,event\n"
    b"2026-03-01T10:00:00Z,u1,a\n"
    b"2026-03-01T10:00:00Z,u2\n"  # cut short
    b"2026-03-01T10:00:00Z,u3,a,extra\n"  # one field too many
)


def ragged_error(row: int, fields: int) -> RowError:
    message = f"this row has {fields} fields but the header has 3 (the row is cut short or has an extra comma; fix or remove the row)"
    return RowError(row, None, message)


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    return path


def test_ragged_rows_are_left_out_and_returned_as_errors(tmp_path: Path):
    frame, errors = read_csv_rows(sniff(write(tmp_path, RAGGED)))
    expected = pl.DataFrame(
        {"event_time": ["2026-03-01T10:00:00Z"], "user_id": ["u1"], "event": ["a"], ROW: [2]},
        schema={"event_time": pl.String, "user_id": pl.String, "event": pl.String, ROW: pl.Int64},
    )
    assert_frame_equal(frame, expected)
    assert errors == [ragged_error(3, 2), ragged_error(4, 4)]


def test_ragged_rows_keep_record_rows_around_quoted_line_breaks_and_blank_lines(tmp_path: Path):
    data = (
        b'event_time,user_id,event\n2026-03-01T10:00:00Z,u1,"two\nlines"\n\n'
        b"2026-03-01T10:00:00Z,u2\n2026-03-01T10:00:00Z,u3,a,extra\n2026-03-01T10:00:00Z,u4,c\n"
    )
    frame, errors = read_csv_rows(sniff(write(tmp_path, data)))
    assert frame["user_id"].to_list() == ["u1", "u4"]  # the blank line (record 3) is no record
    assert frame[ROW].to_list() == [2, 6]
    assert errors == [ragged_error(4, 2), ragged_error(5, 4)]


def test_every_ragged_row_is_returned(tmp_path: Path):
    data = b"event_time,user_id,event\n2026-03-01T10:00:00Z,u1,a\n" + b"2026-03-01T10:00:00Z,u2\n" * 25
    path = write(tmp_path, data)
    _, errors = read_csv_rows(sniff(path))
    assert [error.row for error in errors] == list(range(3, 28))  # every one, for --skip-bad-rows


def test_a_file_of_ragged_rows_only_is_rejected(tmp_path: Path):
    data = b"event_time,user_id,event\n2026-03-01T10:00:00Z,u2\n"
    with pytest.raises(Rejected) as caught:
        read_csv_rows(sniff(write(tmp_path, data)))
    assert caught.value.errors == [ragged_error(2, 2)]


def test_stray_byte_after_utf8_text_past_the_head_names_row_and_column(tmp_path: Path):
    filler = b"".join(b"2026-03-01T10:00:00Z,u%d,a\n" % i for i in range(20_000))  # past the 256 KiB head
    data = (
        b"event_time,user_id,event\n"
        + filler
        + b"2026-03-01T10:00:00Z,J\xc3\xbcrgen,a\n2026-03-01T10:00:00Z,u\xff2,a\n"
    )
    with pytest.raises(Rejected) as caught:
        read_csv_rows(sniff(write(tmp_path, data)))
    (error,) = caught.value.errors
    assert (error.row, error.column) == (20_003, "user_id")
    assert error.message.startswith("'u' is followed by the byte 0xff, which is not UTF-8")
    assert "save the file as UTF-8" in error.message


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_blank_lines_and_rows_of_empty_cells_are_no_records(tmp_path: Path, newline: bytes):
    """A trailing blank line rejected the whole file as "row 4: empty event_time"; a row of
    empty cells (",,") is a spreadsheet's blank row. The rows keep their spreadsheet numbers."""
    lines = [b"event_time,user_id,event", b"2026-03-01T10:00:00Z,u1,a", b"", b",,", b"2026-03-01T10:00:00Z,u2,b", b""]
    frame, errors = read_csv_rows(sniff(write(tmp_path, newline.join(lines) + newline)))
    assert errors == []
    assert frame["user_id"].to_list() == ["u1", "u2"]
    assert frame[ROW].to_list() == [2, 5]


def test_blank_lines_only_are_a_file_without_rows(tmp_path: Path):
    with pytest.raises(Rejected) as caught:
        read_csv_rows(sniff(write(tmp_path, b"event_time,user_id,event\n\n,,\n")))
    assert caught.value.errors == [
        RowError(None, None, "the file has a header but no rows (export it again with data)")
    ]


def test_header_names_alike_once_stripped_stay_apart(tmp_path: Path):
    """`plan` and ` plan` failed the file inside pmkit ("a bug in pmkit": DuplicateError)."""
    frame, _ = read_csv_rows(sniff(write(tmp_path, b"event_time,user_id,event,plan, plan\nt,u1,a,free,pro\n")))
    assert frame.columns == ["event_time", "user_id", "event", "plan", "plan_duplicated_0", ROW]
    assert frame.row(0)[3:5] == ("free", "pro")


def test_row_numbers_hold_across_the_readers_chunks(tmp_path: Path):
    """A big file is read in many chunks: each row's number is still its line (user ``u<line>``
    here), past a short row and a row of empty cells deep in the file."""
    lines = [b"event_time,user_id,event,plan"]
    lines += [b"2026-03-01T10:00:00Z,u%d,a,free" % line for line in range(2, 300_002)]
    lines[150_000 - 1] = b"2026-03-01T10:00:00Z,u150000,a"  # line 150,000: a field short
    lines[250_000 - 1] = b",,,"  # line 250,000: blank, no record
    frame, errors = read_csv_rows(sniff(write(tmp_path, b"\n".join(lines) + b"\n")))
    assert frame.height == 300_000 - 2
    assert frame.select((pl.col(ROW) == pl.col("user_id").str.slice(1).cast(pl.Int64)).all()).item()
    assert [error.row for error in errors] == [150_000]


def test_a_header_named_like_the_row_column_is_not_taken_for_it(tmp_path: Path):
    """Its own `_row` column, first, hid a blank line from the blank-row check (QA): "row 3:
    empty event_time" rejected the file."""
    data = b"_row,event_time,user_id,event\n9,t,u1,a\n\n9,t,u2,b\n,,,\n"
    frame, errors = read_csv_rows(sniff(write(tmp_path, data)))
    assert frame.columns == ["event_time", "user_id", "event", ROW]
    assert frame[ROW].to_list() == [2, 4] and errors == []


def test_a_cut_off_last_row_counts_the_files_own_header(tmp_path: Path):
    """With a `_row` column of its own, the cut-off row's message counted the header without it
    ("2 of 3 fields" under a header of 4; QA)."""
    from pmkit.sources.events_common import read_table

    data = b"_row,event_time,user_id,event\n1,2026-03-01T10:00:00Z,u1,a\n2,2026-03-01T10:00:00Z"
    _, errors = read_table(sniff(write(tmp_path, data)))
    assert [e.row for e in errors] == [3]
    assert errors[0].message.startswith("this row has 2 of 4 fields and no line break after it")


def test_only_an_events_read_keeps_the_readers_chunks(tmp_path: Path):
    """Events keep the CSV reader's chunks, the row column chunked alike (every later step runs
    per chunk; selecting the mapped columns of 10M rows no longer copies them). The other readers
    get one chunk: Polars 2.1 panics in pl.format over a filtered text column of several chunks,
    some empty, and their messages are built with it."""
    path = tmp_path / "big.csv"
    path.write_text("event_time,user_id,event\n" + "2026-03-01T10:00:00Z,u1,login\n" * 200_000)
    chunked, _ = read_csv_rows(sniff(path), chunked=True)
    assert chunked["event"].n_chunks() > 1
    assert chunked[ROW].chunk_lengths() == chunked["event"].chunk_lengths()
    assert chunked[ROW].to_list() == list(range(2, 200_002))
    whole, _ = read_csv_rows(sniff(path))
    assert whole.n_chunks() == 1
    assert_frame_equal(whole, chunked)


def test_a_quote_never_closed_is_named_by_row_and_column(tmp_path: Path):
    """u2's event opens a quote no later quote closes: the rest of the file is one field. The
    message said only "could not parse `"signup`" (QA); it names the row and the column, after a
    quoted field with a line break that is closed."""
    path = tmp_path / "events.csv"
    path.write_text(
        'event_time,user_id,event\n2026-03-01T10:00:00Z,u1,"two\nlines"\n'
        '2026-03-01T11:00:00Z,u2,"signup\n2026-03-01T12:00:00Z,u3,login\n'
    )
    with pytest.raises(Rejected) as rejected:
        read_csv_rows(sniff(path))
    (error,) = rejected.value.errors
    assert (error.row, error.column) == (3, "event")
    assert error.message.startswith('a quote (") opens a field here that no later quote closes')


def test_a_quote_left_open_in_a_large_file_is_named_not_called_a_bug(tmp_path: Path):
    """The field a quote left open ran past Python's csv reader's 128 KB limit, and the file was
    refused as a bug in pmkit (review)."""
    rows = [f"2026-03-01T10:00:00Z,u{n},login" for n in range(8_000)]
    rows.insert(9, '2026-03-01T10:00:00Z,u9,"signup')
    path = tmp_path / "events.csv"
    path.write_text("event_time,user_id,event\n" + "\n".join(rows) + "\n")
    assert path.stat().st_size > 200_000
    with pytest.raises(Rejected) as rejected:
        read_csv_rows(sniff(path))
    assert [(e.row, e.column) for e in rejected.value.errors] == [(11, "event")]
