"""What every source module shares: the file sample it detects from, and the errors it reports.

A source module exposes ``KIND`` (events, roadmap, objectives or feedback), ``FORMAT`` (a short
name shown to users), ``detect(sample) -> bool`` deciding from the content only, and
``read(sample) -> Parsed`` mapping the file onto the canonical columns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

# The spreadsheet row of a record: the header is row 1, so the first record is row 2.
ROW = "_row"


def null_column(length: int, dtype: pl.DataType | type[pl.DataType] = pl.String, name: str = "") -> pl.Series:
    """``length`` nulls of ``dtype``: for a field an export does not have. Built in Polars, not
    from a Python list (0.2 s for 10M rows)."""
    return pl.repeat(None, length, dtype=dtype, eager=True).alias(name)


@dataclass(frozen=True)
class RowError:
    """One problem, in the words of STYLE.md: where, what is wrong, how to fix it."""

    row: int | None
    column: str | None
    message: str

    def describe(self, file_name: str) -> str:
        where = [file_name]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f'column "{self.column}"')
        return f"{', '.join(where)}: {self.message}"

    def as_json(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "message": self.message}


class Rejected(Exception):
    """A file (or a part of it) that cannot be loaded; carries every problem found."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(e.message for e in errors[:3]))
        self.errors = errors


@dataclass(frozen=True)
class Sample:
    """The first bytes of a file, decoded, with what could be learnt about its layout."""

    path: Path
    layout: str  # csv, jsonl, json or parquet
    encoding: str  # a Python codec name; "utf-8-sig" when the file starts with a BOM
    text: str  # decoded head of the file (empty for parquet)
    delimiter: str | None = None  # csv only
    columns: tuple[str, ...] = ()  # csv header, parquet schema, or keys of the first JSON objects
    records: tuple[dict, ...] = field(default=())  # first JSON objects (jsonl/json only)

    @property
    def lower_columns(self) -> set[str]:
        return {c.strip().lower() for c in self.columns}

    def has(self, *names: str) -> bool:
        """True if every name is a column (case-insensitive)."""
        return all(n.lower() in self.lower_columns for n in names)


@dataclass(frozen=True)
class ReadOptions:
    """What a source needs beyond the file: the workspace time zone for naive timestamps, and the
    dimension names (as stored) an events file keeps whatever its other columns: the workspace's
    own and those pmkit.toml names (``events_common.MAX_DIMENSIONS``)."""

    timezone: str = "UTC"
    keep_dimensions: frozenset[str] = frozenset()
    # How many other dimension columns it may add (None: the whole cap, for a new workspace).
    dimension_room: int | None = None
    # The same two for a feedback file, whose extra columns are its answers' attributes.
    keep_attributes: frozenset[str] = frozenset()
    attribute_room: int | None = None
    # A Mixpanel project's own zone, in which its exports write times (projects before 2023); "": UTC.
    mixpanel_timezone: str = ""


@dataclass(frozen=True)
class Parsed:
    """A file mapped onto a canonical table (pmkit.canonical), typed and validated.

    ``frame`` holds only the good rows: the canonical columns with their canonical types, any
    extra columns kept as dimensions (events, as strings), and ``_row``: the record's row in the
    source (spreadsheet row for CSV with the header as row 1, line number for JSON lines).
    ``errors`` lists every bad row (one RowError each, so --skip-bad-rows can record them);
    a problem with the whole file is raised as ``Rejected`` instead.
    ``mapping`` tells the user which source column became which canonical column.
    ``duplicates`` counts the rows left out as repeats of an earlier row (the same event_id).
    """

    kind: str
    format: str
    frame: pl.DataFrame
    errors: tuple[RowError, ...] = ()
    mapping: dict[str, str] = field(default_factory=dict)
    duplicates: int = 0  # good rows dropped as repeats of an earlier row of the file (events)
    dropped_dimensions: tuple[str, ...] = ()  # stored names of columns with values not kept (the cap)
    # Events: the canonical columns an event_id is compared with besides itself (events_common.
    # INSERT_ID_SCOPE), within the file and against the events loaded before; () for an id that
    # is unique on its own (a PostHog uuid, a column named event_id).
    id_scope: tuple[str, ...] = ()
    # A survey export's score questions left empty (skipped, so no answer to them), with how many
    # rows left each; and the rows that left every one empty, no answer at all and not in frame.
    questions_skipped: dict[str, int] = field(default_factory=dict)
    rows_unanswered: int = 0


def json_cell(value: object) -> str | None:
    """Nested JSON values become compact JSON text so they can be kept as a dimension."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
