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
    if frame.height == 0:
        raise Rejected([RowError(None, None, "the file has a header but no rows (export it again with data)")])
    return frame.with_columns(pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(ROW))


def column_lookup(frame: pl.DataFrame, *aliases: str) -> str | None:
    """The frame's column matching the first alias (case-insensitive), or None."""
    lowered = {c.lower(): c for c in frame.columns}
    for alias in aliases:
        if alias.lower() in lowered:
            return lowered[alias.lower()]
    return None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
