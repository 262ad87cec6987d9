"""Read a whole CSV as strings, whatever its delimiter and encoding, keeping each record's row."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import polars as pl

from pmkit.sources.base import ROW, Rejected, RowError, Sample
from pmkit.sources.sniff import HEADER_BYTES, NOT_CP1252, first_non_utf8, line_break, not_utf8_error

# Python's csv reader refuses a field over 128 KB: a quote left open in a 245 KB file made the
# ragged-rows count fail as "a bug in pmkit" (review). Polars reads such fields; so does this.
csv.field_size_limit(2**31 - 1)


def _ragged_file(ragged: list[RowError]) -> Rejected:
    """The file rejected for its ragged rows: the first 20 named, the rest counted."""
    shown = ragged[:MAX_RAGGED_SHOWN]
    if len(ragged) > MAX_RAGGED_SHOWN:
        more = len(ragged) - MAX_RAGGED_SHOWN
        shown.append(RowError(None, None, f"{more} more rows with the wrong number of fields"))
    return Rejected(shown)


def read_csv_rows(sample: Sample, *, chunked: bool = False) -> tuple[pl.DataFrame, list[RowError]]:
    """All columns as strings (types are decided later, per column, with a clear error),
    repeated header names made unique (`Sprint`, `Sprint_duplicated_0`), empty cells as null,
    and ``_row`` = the spreadsheet row (header is row 1). The rows with more or fewer fields
    than the header are left out of the frame and returned as one error each, so that
    --skip-bad-rows can load the rest and without it the file is rejected naming them. Rejected
    if no row is left.

    ``chunked``: the frame keeps the CSV reader's chunks (events: every later step runs per
    chunk on the cores, and their messages are built over one chunk, ``events_common._row_problems``).
    Otherwise it is one chunk: Polars 2.1 panics in ``pl.format`` over a filtered text column of
    several chunks, some empty, which the other readers' messages are built with."""
    try:
        frame, ragged = _read_csv_rows(sample)
        return (frame if chunked else frame.rechunk()), ragged
    except NotUtf8:
        pass
    with open(sample.path, "rb") as handle:
        head = handle.read(HEADER_BYTES)
    found = first_non_utf8(sample.path, line_break(head))
    if found is None:  # Polars and Python disagree: say what is wrong all the same
        raise Rejected([RowError(None, None, "the file is not valid UTF-8 (save it again as UTF-8)")])
    offset, newlines, multibyte = found
    if not multibyte:
        # Only ASCII before the first non-UTF-8 byte, which lies past the head that ``sniff``
        # looked at: a Windows-1252 export whose first `é` comes late.
        return read_csv_rows(replace(sample, encoding="cp1252"), chunked=chunked)
    with open(sample.path, "rb") as handle:
        handle.seek(max(0, offset - HEADER_BYTES))
        before = handle.read(offset - handle.tell())
        byte = handle.read(1)[0]
    raise Rejected([not_utf8_error(head, before, byte, newlines)])


class NotUtf8(Exception):
    """Polars met bytes that are not UTF-8 in a file ``sniff`` took for UTF-8."""


def _read_csv_rows(sample: Sample) -> tuple[pl.DataFrame, list[RowError]]:
    if sample.encoding in ("utf-8", "utf-8-sig"):
        source: object = sample.path
    else:
        # Polars reads UTF-8 only: Windows-1252 and UTF-16 exports are re-encoded in memory.
        data = sample.path.read_bytes()
        try:
            source = data.decode(sample.encoding).encode("utf-8")
        except UnicodeDecodeError as exc:
            if sample.encoding != "cp1252":
                source = data.decode(sample.encoding, errors="replace").encode("utf-8")
            else:
                # One of the five bytes Windows-1252 lacks (0x81, as Shift-JIS writes): read as a
                # replacement character, the file loaded "fine" and two users differing there
                # were one (QA).
                error = not_utf8_error(
                    data[:HEADER_BYTES], data[: exc.start], data[exc.start], why=NOT_CP1252, encoding="cp1252"
                )
                raise Rejected([error]) from None
    if "\r" in sample.text and "\n" not in sample.text:
        # Lines ended by CR alone (classic Mac Excel's "CSV"): Polars saw one line, a header and
        # no rows. With no LF anywhere, every CR is a line end.
        data = source if isinstance(source, bytes) else sample.path.read_bytes()
        source = data.replace(b"\r", b"\n")
    delimiter = sample.delimiter or ","
    try:
        frame = _polars_csv(source, delimiter, truncate_ragged_lines=False)
    except pl.exceptions.PolarsError as exc:
        # Most often a row with more fields than the header: name it, else say what Polars said.
        ragged = ragged_rows(source, delimiter, _header_width(source, delimiter))
        unclosed = None if ragged else _unclosed_quote(source, delimiter)
        if unclosed is not None:
            # Said without a row before ("could not parse `"signup`"; QA).
            header = _header_names(source, delimiter)
            raise Rejected(
                [
                    RowError(
                        unclosed[0],
                        header[unclosed[1]] if unclosed[1] < len(header) else None,
                        'a quote (") opens a field here that no later quote closes, so the rest of the file '
                        "reads as one field: close it, or remove it",
                    )
                ]
            ) from exc
        if not ragged:
            raise Rejected(
                [
                    RowError(
                        None,
                        None,
                        f"the CSV cannot be read ({_first_line(exc)}); check that every row has as many fields as the header and quotes are closed",
                    )
                ]
            ) from exc
        try:
            frame = _polars_csv(source, delimiter, truncate_ragged_lines=True)
        except pl.exceptions.PolarsError:
            raise _ragged_file(ragged) from exc  # unreadable besides the rows named: those come first
    else:
        # A row cut short is padded with nulls, so its last field is null: when no row has a null
        # last field, no row is short (too many fields already failed above) and the line count,
        # about a quarter of the read, is skipped.
        maybe_short = frame.width > 0 and frame[frame.columns[-1]].null_count() > 0
        ragged = ragged_rows(source, delimiter, frame.width) if maybe_short else []
    frame = frame.rename(dict(zip(frame.columns, _stripped_names(frame.columns), strict=True)))
    # A header's own `_row` column is dropped, not overwritten in place: as the first column it
    # hid blank rows from the check below ("row 3: empty event_time" for a blank line).
    frame = frame.drop(ROW, strict=False)
    frame = frame.with_columns(_row_numbers(frame))
    if ragged:
        frame = frame.filter(~pl.col(ROW).is_in([error.row for error in ragged]))
    if frame.width > 1 and frame[frame.columns[0]].null_count():
        # A blank line (or a spreadsheet's row of empty cells, ",,,") is no record: it rejected the
        # whole file as "row 4: empty event_time", a trailing blank line included. Looked for only
        # when the first column has an empty cell (its null count is known: 0.5 s saved on 10M
        # rows), and the rows are copied only when one is blank.
        blank = frame.select(pl.all_horizontal(pl.exclude(ROW).is_null())).to_series()
        if blank.any():
            frame = frame.filter(~blank)
    if frame.height == 0:
        if ragged:
            raise _ragged_file(ragged)
        raise Rejected([RowError(None, None, "the file has a header but no rows (export it again with data)")])
    return frame, ragged


def _unclosed_quote(source: object, delimiter: str) -> tuple[int, int] | None:
    """(spreadsheet row, field index) of the quoted field that runs to the end of the file (a
    quote never closed), or None. Rows are records: a closed quoted field may hold line breaks.
    Lines are looked at whole (their quotes counted); only a line that leaves a quote open is
    read byte by byte, for the field it opens.

    >>> _unclosed_quote(b'a,b\\n1,"x\\ny"\\n2,"open\\n3,z\\n', ",")
    (3, 1)
    """
    data = source if isinstance(source, bytes) else Path(str(source)).read_bytes()
    row, quoted, opened = 1, False, (1, 0)
    for line in data.split(b"\n"):
        if line.count(b'"') % 2:
            if not quoted:
                opened = (row, _field_of_open_quote(line, delimiter))
            quoted = not quoted
        if not quoted:
            row += 1
    return opened if quoted else None


def _field_of_open_quote(line: bytes, delimiter: str) -> int:
    """The index of the field in which ``line`` (an odd number of quotes) leaves a quote open."""
    quote, separator = ord('"'), ord(delimiter)
    fields, inside, opened_at = 0, False, 0
    for byte in line:
        if byte == quote:
            inside = not inside
            if inside:
                opened_at = fields
        elif byte == separator and not inside:
            fields += 1
    return opened_at


def _row_numbers(frame: pl.DataFrame) -> pl.Series:
    """``_row``, the spreadsheet row of each record (the header is row 1), in chunks as long as
    the reader's. One chunk beside the reader's hundreds made every later select of the frame
    copy its columns into one chunk: 0.8 s for the two that split a 10M-row events file. (A
    previous try took the reader's own row index, and a header's own `_row` column clashed.)"""
    lengths = frame.get_column(frame.columns[0]).chunk_lengths() if frame.width else [frame.height]
    parts, start = [], 2
    for length in lengths:
        parts.append(pl.int_range(start, start + length, dtype=pl.Int64, eager=True))
        start += length
    return pl.concat(parts, rechunk=False).alias(ROW) if parts else pl.Series(ROW, [], dtype=pl.Int64)


def _stripped_names(names: list[str]) -> list[str]:
    """Header names without surrounding spaces or a BOM, still unique: ``plan`` and `` plan``
    stripped alike failed the whole file inside pmkit; the second becomes ``plan_duplicated_0``
    as Polars names a repeated header.

    >>> _stripped_names(["\ufeffevent_time", "plan", " plan", "", "  "])
    ['event_time', 'plan', 'plan_duplicated_0', '', '_duplicated_0']
    """
    taken: set[str] = set()
    result = []
    for name in names:
        clean, n = name.strip().lstrip("\ufeff"), 0
        unique = clean
        while unique in taken:
            unique, n = f"{clean}_duplicated_{n}", n + 1
        taken.add(unique)
        result.append(unique)
    return result


def _polars_csv(source: object, delimiter: str, *, truncate_ragged_lines: bool) -> pl.DataFrame:
    try:
        return pl.read_csv(
            source,
            separator=delimiter,
            infer_schema=False,
            # A file's name is never a pattern: `ev*.csv` read evz.csv's rows, and
            # `report [final].csv` was refused as "expanded paths were empty" (QA).
            glob=False,
            truncate_ragged_lines=truncate_ragged_lines,
            encoding="utf8",  # not lossy: a stray byte must not become U+FFFD unseen
        )
    except pl.exceptions.ComputeError as exc:
        if "utf-8" in str(exc).lower():  # Polars 2.1: "invalid utf-8 sequence"
            raise NotUtf8 from exc
        raise


DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
MAX_RAGGED_SHOWN = 20


def ragged_rows(source: object, delimiter: str, width: int) -> list[RowError]:
    """Rows with more or fewer fields than the header. Polars pads a short row with nulls
    silently (`2026-03-01T10:00:00Z,u1` under a 3-column header would load with no event), so
    each line's fields are counted here: the delimiters of a line without quotes (about a second
    for 10M rows), Python's csv reader for a line with quotes (a quoted field may hold the
    delimiter), and the csv reader over the whole file when a quoted field holds a line break
    (its lines are then no longer rows)."""
    try:
        lines = pl.read_csv(
            source,
            glob=False,
            has_header=False,
            separator="\x1f",
            quote_char=None,
            infer_schema=False,
            new_columns=["line"],
            encoding="utf8-lossy",
        )
    except pl.exceptions.PolarsError:
        lines = None  # a unit separator inside the data: the csv reader counts instead
    if lines is None:
        counts = _record_fields(source, delimiter)
    else:
        numbered = lines.with_row_index("row", offset=1).filter(
            pl.col("row") > 1, pl.col("line").is_not_null(), pl.col("line").str.strip_chars() != ""
        )
        quotes = numbered["line"].str.count_matches('"', literal=True)
        if (quotes % 2 == 1).any():
            counts = _record_fields(source, delimiter)
        else:
            plain = numbered.filter(quotes == 0).select(
                "row", (pl.col("line").str.count_matches(delimiter, literal=True) + 1).cast(pl.Int64).alias("fields")
            )
            quoted = numbered.filter(quotes > 0)
            # One reader over the lines (each holds whole quoted fields: its quotes pair up).
            parsed = [len(record) for record in csv.reader(quoted["line"].to_list(), delimiter=delimiter)]
            counts = pl.concat([plain, quoted.select("row", pl.Series("fields", parsed, dtype=pl.Int64))])
    counts = counts.filter(pl.col("fields") != width).sort("row")
    name = DELIMITER_NAMES.get(delimiter, repr(delimiter))
    return [
        RowError(
            int(row),
            None,
            f"this row has {fields} field{'' if fields == 1 else 's'} but the header has {width} (the row is cut short or has an extra {name}; fix or remove the row)",
        )
        for row, fields in counts.select("row", "fields").iter_rows()
    ]


def _header_width(source: object, delimiter: str) -> int:
    return len(_header_names(source, delimiter))


def _header_names(source: object, delimiter: str) -> list[str]:
    """The header's names as the frame's columns are named (``_stripped_names``)."""
    with _text(source) as handle:
        return _stripped_names(next(csv.reader(handle, delimiter=delimiter), []))


def _text(source: object) -> io.TextIOBase:
    """The CSV as text for Python's csv reader (a path, or UTF-8 bytes re-encoded in memory)."""
    if isinstance(source, bytes):
        return io.StringIO(source.decode("utf-8", errors="replace"), newline="")
    return open(source, encoding="utf-8-sig", errors="replace", newline="")  # noqa: SIM115 - the caller closes it


def _record_fields(source: object, delimiter: str) -> pl.DataFrame:
    """row (spreadsheet row of each record after the header, as the frame numbers them: Polars
    reads a blank line as a record of nulls) and fields, by Python's csv reader; blank lines are
    left out (they are never ragged)."""
    with _text(source) as handle:
        records = csv.reader(handle, delimiter=delimiter)
        next(records, None)  # the header
        fields = [len(record) for record in records]
    counts = pl.DataFrame(
        {"row": pl.int_range(2, len(fields) + 2, eager=True), "fields": fields},
        schema={"row": pl.Int64, "fields": pl.Int64},
    )
    return counts.filter(pl.col("fields") > 0)


def column_lookup(frame: pl.DataFrame, *aliases: str) -> str | None:
    """The frame's column matching the first alias (case-insensitive), or None."""
    lowered = {c.lower(): c for c in frame.columns}
    for alias in aliases:
        if alias.lower() in lowered:
            return lowered[alias.lower()]
    return None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
