"""Properties of the events CSV reader: any shuffled or re-encoded copy of an export loads the same
rows, and a truncated copy loads only rows of the original or fails with errors naming where.

A cut inside the last field of the last line (``free`` -> ``fr``) leaves a well-formed row that no
reader can tell from a complete one, so the row holding the cut is only required to be loaded or
reported, not to equal its original; every other row must be exactly the original at that row.
"""

from __future__ import annotations

import csv
import io
import string
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pmkit.sources import events_csv
from pmkit.sources.base import ROW, ReadOptions, Rejected, RowError
from pmkit.sources.sniff import sniff

HEADER = ["event_time", "user_id", "event", "event_id", "revenue", "plan"]
# Latin text that Windows-1252 can encode, with the characters CSV has to quote.
ALPHABET = string.ascii_letters + string.digits + " ,;\"'-_.éüßÄ€"
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

Row = tuple[datetime, str, str, str, float | None, str | None]

text = st.text(ALPHABET, min_size=1, max_size=12).filter(lambda value: value == value.strip())
# Inside the bounds of an event time (events_common.EARLIEST_TIME, a year ahead at most).
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2026, 12, 31))


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[Row], list[list[str]]]:
    """Rows as the reader should return them, and the same rows as CSV cells (mixed time formats)."""
    count = draw(st.integers(min_value=1, max_value=12))
    rows: list[Row] = []
    cells: list[list[str]] = []
    for number in range(count):
        moment = draw(moments).replace(fold=0)  # fold only matters for zoned times
        style = draw(st.sampled_from(["Z", "fraction", "offset"]))
        if style == "Z":
            moment = moment.replace(microsecond=0)
            stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # 2026-03-01T10:00:00Z
        elif style == "fraction":
            stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # 2026-03-01T10:00:00.123456Z
        else:
            local = moment + timedelta(hours=2)
            stamp = local.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+02:00"  # 2026-03-01T12:00:00.123456+02:00
        cents = draw(st.one_of(st.none(), st.integers(min_value=-(10**7), max_value=10**7)))
        amount = None if cents is None else f"{cents / 100:.2f}"  # 1234.50
        plan = draw(st.one_of(st.none(), text))
        user, event = draw(text), draw(text)
        rows.append((moment, user, event, f"e{number}", None if amount is None else float(amount), plan))
        cells.append([stamp, user, event, f"e{number}", amount or "", plan or ""])
    return rows, cells


def encode(cells: list[list[str]], delimiter: str, encoding: str, newline: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(HEADER)
    writer.writerows(cells)
    return buffer.getvalue().encode(encoding)


def loaded(parsed_frame: pl.DataFrame) -> list[Row]:
    plan = parsed_frame["plan"] if "plan" in parsed_frame.columns else [None] * parsed_frame.height
    return [
        (time, user, event, event_id, revenue, p)
        for time, user, event, event_id, revenue, p in zip(
            parsed_frame["event_time"],
            parsed_frame["user_id"],
            parsed_frame["event"],
            parsed_frame["event_id"],
            parsed_frame["revenue"],
            plan,
            strict=True,
        )
    ]


def is_ambiguous_cp1252(data: bytes, encoding: str) -> bool:
    """A Windows-1252 file that is also valid UTF-8 (``Ä€`` is the bytes of ``Ā``) is read as UTF-8:
    sniff tries UTF-8 first, as nearly every export is UTF-8. One whose text before its first
    byte that is not UTF-8 holds such a character (``Ä€Ä``: ``Ā`` and then a stray byte) is
    refused as a damaged UTF-8 file, as ``Zürich`` in UTF-8 before a stray byte is, rather than
    loaded as ``ZÃ¼rich`` (sniff.decode). Such files are left out."""
    if encoding != "cp1252" or data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return not data[: exc.start].isascii()
    return True


encodings = st.sampled_from(["utf-8", "utf-8-sig", "cp1252"])
delimiters = st.sampled_from([",", ";", "\t"])
newlines = st.sampled_from(["\n", "\r\n"])


@SETTINGS
@given(
    table=tables(), order=st.randoms(use_true_random=False), encoding=encodings, delimiter=delimiters, newline=newlines
)
def test_shuffled_and_reencoded_exports_load_the_same_rows(tmp_path: Path, table, order, encoding, delimiter, newline):
    rows, cells = table
    paired = list(zip(rows, cells, strict=True))
    order.shuffle(paired)
    data = encode([c for _, c in paired], delimiter, encoding, newline)
    assume(not is_ambiguous_cp1252(data, encoding))
    path = tmp_path / "export.csv"
    path.write_bytes(data)

    sample = sniff(path)
    assert events_csv.detect(sample)
    parsed = events_csv.read(sample, ReadOptions(timezone="Europe/Berlin"))
    assert parsed.errors == ()
    assert sorted(loaded(parsed.frame), key=repr) == sorted(rows, key=repr)


def names_where(error: RowError) -> bool:
    return error.row is not None or error.column is not None or "file" in error.message or "CSV" in error.message


@SETTINGS
@given(table=tables(), encoding=encodings, delimiter=delimiters, newline=newlines, data=st.data())
def test_truncated_exports_load_original_rows_or_say_where_they_fail(
    tmp_path: Path, table, encoding, delimiter, newline, data
):
    rows, cells = table
    export = encode(cells, delimiter, encoding, newline)
    assume(not is_ambiguous_cp1252(export, encoding))
    truncated = export[: data.draw(st.integers(min_value=0, max_value=len(export) - 1), label="cut")]
    path = tmp_path / "export.csv"
    path.write_bytes(truncated)
    # The line holding the cut, if the cut is not at a line break (the header is line 1 = row 1).
    cut_row = None if truncated.endswith(b"\n") else truncated.count(b"\n") + 1

    try:
        sample = sniff(path)
        if not events_csv.detect(sample):
            return  # pmkit.sources.detect rejects it: the columns match no known export
        parsed = events_csv.read(sample, ReadOptions())
    except Rejected as rejected:
        assert rejected.errors and all(names_where(e) for e in rejected.errors)
        return
    assert all(e.row is not None for e in parsed.errors)
    for row_number, row in zip(parsed.frame[ROW], loaded(parsed.frame), strict=True):
        if row_number != cut_row:
            assert row == rows[row_number - 2]
    assert {e.row for e in parsed.errors}.isdisjoint(parsed.frame[ROW].to_list())
