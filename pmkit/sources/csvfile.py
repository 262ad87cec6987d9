"""Read a whole CSV as strings, whatever its delimiter and encoding, keeping each record's row."""

from __future__ import annotations

import polars as pl

from pmkit.sources.base import ROW, Rejected, RowError, Sample


def read_csv_strings(sample: Sample) -> pl.DataFrame:
    """All columns as strings (types are decided later, per column, with a clear error),
    repeated header names made unique (`Sprint`, `Sprint_duplicated_0`), empty cells as null,
    and ``_row`` = the spreadsheet row (header is row 1)."""
    if sample.encoding in ("utf-8", "utf-8-sig"):
        source: object = sample.path
    else:
        # Polars reads UTF-8 only: Windows-1252 and UTF-16 exports are re-encoded in memory.
        source = sample.path.read_bytes().decode(sample.encoding, errors="replace").encode("utf-8")
    try:
        frame = pl.read_csv(
            source,
            separator=sample.delimiter or ",",
            infer_schema=False,
            truncate_ragged_lines=False,
            encoding="utf8-lossy",
        )
    except pl.exceptions.PolarsError as exc:
        raise Rejected(
            [
                RowError(
                    None,
                    None,
                    f"the CSV cannot be read ({_first_line(exc)}); check that every row has as many fields as the header and quotes are closed",
                )
            ]
        ) from exc
    frame = frame.rename({c: c.strip().lstrip("\ufeff") for c in frame.columns})
    # A row cut short is padded with nulls, so its last field is null: when no row has a null
    # last field, no row is short (too many fields already failed above) and the line count,
    # about a quarter of the read, is skipped.
    maybe_short = frame.width > 0 and frame[frame.columns[-1]].null_count() > 0
    ragged = ragged_rows(source, sample.delimiter or ",", frame.width) if maybe_short else []
    if ragged:
        raise Rejected(ragged)
    if frame.height == 0:
        raise Rejected([RowError(None, None, "the file has a header but no rows (export it again with data)")])
    return frame.with_columns(pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(ROW))


DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
MAX_RAGGED_SHOWN = 20


def ragged_rows(source: object, delimiter: str, width: int) -> list[RowError]:
    """Rows with more or fewer fields than the header. Polars pads a short row with nulls
    silently (`2026-03-01T10:00:00Z,u1` under a 3-column header would load with no event), so
    each physical line's delimiters are counted here: about a second for 10M rows. Lines holding
    a quote are not counted (a quoted field may contain the delimiter), and a file with a quoted
    line break is not checked at all, since its lines are no longer rows."""
    try:
        lines = pl.read_csv(
            source,
            has_header=False,
            separator="\x1f",
            quote_char=None,
            infer_schema=False,
            new_columns=["line"],
            encoding="utf8-lossy",
        )
    except pl.exceptions.PolarsError:
        return []  # a unit separator inside the data: leave the check to the CSV reader
    numbered = lines.with_row_index("row", offset=1).filter(pl.col("row") > 1, pl.col("line").is_not_null())
    quotes = numbered["line"].str.count_matches('"', literal=True)
    if (quotes % 2 == 1).any():
        return []
    counts = (
        numbered.filter(quotes == 0)
        .with_columns((pl.col("line").str.count_matches(delimiter, literal=True) + 1).alias("fields"))
        .filter((pl.col("fields") != width) & (pl.col("line").str.strip_chars() != ""))
    )
    name = DELIMITER_NAMES.get(delimiter, repr(delimiter))
    errors = [
        RowError(
            int(row),
            None,
            f"this row has {fields} fields but the header has {width} (the row is cut short or has an extra {name}; fix or remove the row)",
        )
        for row, fields in counts.select("row", "fields").head(MAX_RAGGED_SHOWN).iter_rows()
    ]
    if counts.height > MAX_RAGGED_SHOWN:
        errors.append(
            RowError(None, None, f"{counts.height - MAX_RAGGED_SHOWN} more rows with the wrong number of fields")
        )
    return errors


def column_lookup(frame: pl.DataFrame, *aliases: str) -> str | None:
    """The frame's column matching the first alias (case-insensitive), or None."""
    lowered = {c.lower(): c for c in frame.columns}
    for alias in aliases:
        if alias.lower() in lowered:
            return lowered[alias.lower()]
    return None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
