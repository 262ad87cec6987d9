"""What every events source shares: reading times and amounts, and building the canonical frame.

Each events module maps its columns onto the canonical names and hands them to
``build_events``, which types them, reports every bad row once, names the dimensions and drops
repeated event ids. Everything here is vectorised (Polars expressions with explicit formats), so a
10M-row column parses in seconds; Python loops only touch JSON records and the rows that failed.

Times (``parse_times``), in the order a column is tried:

- ISO-8601 with ``Z`` or an offset, converted to UTC: ``2026-03-01T10:00:00+02:00`` -> 08:00 UTC.
- naive ISO or ``YYYY-MM-DD HH:MM[:SS[.ffffff]]``, read in the workspace time zone and converted
  to UTC. A wall-clock time that happens twice (the autumn DST change, ``2026-10-25 02:30`` in
  Europe/Berlin) is read as the earliest of the two (00:30 UTC); one that never happens (skipped by
  the spring change, ``2026-03-29 02:30`` in Europe/Berlin) is read with the offset in force before
  the change (01:30 UTC), as Python's ``zoneinfo`` does.
- a date alone (``2026-03-01``) is midnight in the workspace time zone.
- epoch numbers, the unit chosen from the median of the column's numbers, since every time
  after 1973 has a unit-specific number of digits. All of these are 2026-03-01T10:00:00Z:
  ``1772359200`` (seconds, 1e8 <= n < 1e11), ``1772359200000`` (milliseconds, < 1e14),
  ``1772359200000000`` (microseconds, < 1e17), ``1772359200000000000`` (nanoseconds).
  A number outside its column's unit range (``5`` among seconds) is a bad row, not a guess.

A column may mix formats: the format that reads most of an evenly spread sample of 1,000 values
parses the whole column, then only the rows that failed are retried with the other formats.
Values that no format reads, and impossible dates (``2026-02-30``, hour 25), are row errors.

Amounts (``parse_numbers``): ``49``, ``49.00``, ``1,234.50``, ``-3.5``, ``$49.00``; and in files
delimited by ``;`` (where Excel in most of Europe writes decimal commas) ``49,50`` and
``1.234,50``. A ``;`` file's ``1.234`` stays 1.234: without a comma it cannot be told apart.

Dimensions: every source column not mapped onto a canonical column is kept as a String column
(nested JSON values as compact JSON text) whose name is a safe SQL identifier: lower case, runs of
anything but ``a-z``, digits and ``_`` turned into ``_`` (``geo.country`` -> ``geo_country``,
``$os`` -> ``os``, ``Plan Type`` -> ``plan_type``, ``Région`` -> ``region``); a name equal to a
canonical one gets a ``source_`` prefix, a repeated name a ``_2`` suffix. Columns that
are empty in every loaded row are dropped, and at most ``MAX_DIMENSIONS`` (30) are kept, the most
filled ones: each dimension becomes a stored column and an entry in every breakdown picker, and
exports carry far more fields than anyone breaks down by (an Amplitude row has ~50 top-level fields,
a PostHog row often 100+ ``$`` properties, most of them empty or constant).

Dedupe: within one file, rows sharing a non-null ``event_id`` keep the first (the exporters retry
and repeat rows; PostHog's ``uuid`` and Mixpanel's and Amplitude's ``$insert_id`` exist for this).
Across files it is the ingest's job.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import unicodedata
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl

from pmkit.canonical import EVENT_OPTIONAL, EVENT_REQUIRED, EVENT_TYPES
from pmkit.sources.base import ROW, Parsed, Rejected, RowError, Sample, json_cell

CANONICAL = EVENT_REQUIRED + EVENT_OPTIONAL
RESERVED = frozenset(CANONICAL) | {ROW}
MAX_DIMENSIONS = 30
TIME_EXAMPLE = "2026-03-01T10:00:00Z"
SAMPLE_SIZE = 1_000
GZIP_MAGIC = b"\x1f\x8b"

# Formats with a zone: the parsed time is UTC. `%#z` reads `Z`, `+02:00` and `+0200`; `%.f` is an
# optional fraction of any length. Formats without `%.f`/`%z` hit Polars' fast path (10x faster),
# so each comes first in its group and wins the sample when it reads as many rows.
AWARE_FORMATS = (
    "%Y-%m-%dT%H:%M:%SZ",  # 2026-03-01T10:00:00Z (pmkit's own CSV)
    "%Y-%m-%dT%H:%M:%S%.f%#z",  # 2026-03-01T10:00:00.123456Z, 2026-03-01T10:00:00+02:00
    "%Y-%m-%d %H:%M:%S%.f%#z",  # 2026-03-01 10:00:00.123000+00:00 (ClickHouse / PostHog CSV)
    "%Y-%m-%dT%H:%M%#z",  # 2026-03-01T10:00Z
    "%Y-%m-%d %H:%M:%S%.f UTC",  # 2026-03-01 10:00:00.123456 UTC (BigQuery)
)
# Formats without a zone: read in the workspace time zone (or the source's stated zone).
NAIVE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S",  # 2026-03-01T10:00:00
    "%Y-%m-%d %H:%M:%S",  # 2026-03-01 10:00:00
    "%Y-%m-%dT%H:%M:%S%.f",  # 2026-03-01T10:00:00.5
    "%Y-%m-%d %H:%M:%S%.f",  # 2025-07-17 10:36:28.583000 (Amplitude)
    "%Y-%m-%dT%H:%M",  # 2026-03-01T10:00
    "%Y-%m-%d %H:%M",  # 2026-03-01 10:00 (spreadsheets)
    "%Y-%m-%d",  # 2026-03-01 (a day: midnight)
)
# Every format above starts with a date; cheaper to test than trying every format on junk.
ISO_DATE_START = r"^\d{4}-\d\d-\d\d"  # 2026-03-01...
# An epoch number, optionally with a fraction: 1772359200, 1772359200.25
EPOCH_NUMBER = r"^\d+(\.\d+)?$"
# The smallest value of each epoch unit (anything smaller is the previous unit) and micros per unit.
EPOCH_UNITS = {"s": (1e8, 1_000_000), "ms": (1e11, 1_000), "us": (1e14, 1), "ns": (1e17, 0.001)}
EPOCH_LIMIT = 1e20

# Amounts that a plain cast to Float64 does not read, cleaned before a second cast:
# currency signs and spaces around or inside ("$49.00", "49 €", "1 234,50" with a no-break space).
NUMBER_NOISE = r"[\s$€£\u00a0\u202f]"
# 1,234.50 / 12,345 (comma thousands)
COMMA_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"
# 49,50 / 1.234,50 (decimal comma, dot thousands), only in `;` files
DECIMAL_COMMA = r"^[+-]?(\d+|\d{1,3}(\.\d{3})+),\d+$"


class RecordError(Exception):
    """A JSON record that cannot be mapped (raised by a module's flatten, reported as a row error)."""

    def __init__(self, column: str | None, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


# ---------------------------------------------------------------------------------------------
# Times


def parse_times(values: pl.Series, timezone: str = "UTC", *, epoch_unit: str | None = None) -> pl.Series:
    """Parse text times to ``Datetime("us")`` in UTC without a zone; null where no format reads.

    >>> parse_times(pl.Series(["2026-03-01T10:00:00+02:00", "1772359200", "2026-02-30"])).to_list()
    [datetime.datetime(2026, 3, 1, 8, 0), datetime.datetime(2026, 3, 1, 10, 0), None]
    """
    values = values.cast(pl.String)
    if epoch_unit is None:
        numbers = values.filter(values.str.contains(EPOCH_NUMBER).fill_null(False))
        epoch_unit = epoch_unit_of(numbers.cast(pl.Float64, strict=False))
    result = _parse_with_formats(values, timezone, epoch_unit)
    failed = result.is_null() & values.is_not_null()
    if failed.any():
        # A stray space typed into a spreadsheet cell (" 2026-03-01 10:00") is not an error.
        index = failed.arg_true()
        stripped = values.gather(index).str.strip_chars()
        result = result.scatter(index, _parse_with_formats(stripped, timezone, epoch_unit))
    return result.rename(values.name)


def _parse_with_formats(values: pl.Series, timezone: str, epoch_unit: str) -> pl.Series:
    """Best format first (by an evenly spread sample), then the failures with the others.

    Failures are only retried with formats of their kind (ISO-like text or an epoch number), so a
    column of junk costs one pass, not one per format.
    """
    parsers: list[tuple[str, Callable[[pl.Series], pl.Series]]] = [("iso", _aware_parser(f)) for f in AWARE_FORMATS]
    parsers += [("iso", _naive_parser(f, timezone)) for f in NAIVE_FORMATS]
    parsers.append(("epoch", lambda texts: _epoch_from_text(texts, epoch_unit)))
    present = values.drop_nulls()
    sample = present.gather_every(max(1, present.len() // SAMPLE_SIZE)).head(SAMPLE_SIZE)
    scores = [int(parse(sample).is_not_null().sum()) for _, parse in parsers]
    order = sorted(range(len(parsers)), key=lambda i: -scores[i])
    result = parsers[order[0]][1](values)
    pending = (result.is_null() & values.is_not_null()).arg_true()
    texts = values.gather(pending)
    kinds = pl.select(
        pl.when(pl.lit(texts).str.contains(ISO_DATE_START))
        .then(pl.lit("iso"))
        .when(pl.lit(texts).str.contains(EPOCH_NUMBER))
        .then(pl.lit("epoch"))
    ).to_series()
    for position in order[1:]:
        kind, parse = parsers[position]
        chosen = (kinds == kind).fill_null(False)
        if not chosen.any():
            continue
        result = result.scatter(pending.filter(chosen), parse(texts.filter(chosen)))
        still = result.gather(pending).is_null()
        pending, texts, kinds = pending.filter(still), texts.filter(still), kinds.filter(still)
    return result


def _aware_parser(fmt: str) -> Callable[[pl.Series], pl.Series]:
    def parse(texts: pl.Series) -> pl.Series:
        parsed = texts.str.to_datetime(fmt, time_unit="us", time_zone="UTC", strict=False, cache=False)
        return parsed.dt.replace_time_zone(None)

    return parse


def _naive_parser(fmt: str, timezone: str) -> Callable[[pl.Series], pl.Series]:
    def parse(texts: pl.Series) -> pl.Series:
        return local_to_utc(texts.str.to_datetime(fmt, time_unit="us", strict=False, cache=False), timezone)

    return parse


def local_to_utc(naive: pl.Series, timezone: str) -> pl.Series:
    """Wall-clock times in ``timezone`` -> UTC (no zone attached). DST: see the module docstring."""
    if timezone == "UTC":
        return naive.cast(pl.Datetime("us"))
    naive = naive.cast(pl.Datetime("us"))

    def convert(times: pl.Series) -> pl.Series:
        local = times.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
        return local.dt.convert_time_zone("UTC").dt.replace_time_zone(None)

    utc = convert(naive)
    skipped = utc.is_null() & naive.is_not_null()
    if skipped.any():
        # 02:30 on the spring-forward night: 3 hours earlier is before the change, so this uses the
        # offset in force before it (2026-03-29 02:30 Europe/Berlin -> 01:30 UTC, like zoneinfo).
        shift = pl.duration(hours=3)
        earlier = convert(pl.select(pl.lit(naive) - shift).to_series())
        utc = utc.zip_with(~skipped, pl.select(pl.lit(earlier) + shift).to_series())
    return utc


def epoch_unit_of(numbers: pl.Series) -> str:
    """The unit of a column's epoch numbers, from their median (see the module docstring)."""
    median = numbers.drop_nulls().median() if numbers.len() else None
    unit = "s"
    for name, (low, _) in EPOCH_UNITS.items():
        if isinstance(median, (int, float)) and median >= low:
            unit = name
    return unit


def _epoch_from_text(texts: pl.Series, unit: str) -> pl.Series:
    numeric = texts.str.contains(EPOCH_NUMBER)
    if not numeric.any():
        return pl.Series(texts.name, [None] * texts.len(), dtype=pl.Datetime("us"))
    whole = texts.str.to_integer(strict=False)  # exact for digits: ns values exceed float precision
    numbers = whole.cast(pl.Float64).zip_with(whole.is_not_null(), texts.cast(pl.Float64, strict=False))
    numbers = numbers.zip_with(numeric, pl.Series([None], dtype=pl.Float64))
    return epoch_to_utc(numbers, unit, exact=whole)


def epoch_to_utc(numbers: pl.Series, unit: str, *, exact: pl.Series | None = None) -> pl.Series:
    """Epoch numbers in ``unit`` -> Datetime("us"); null outside the unit's range.

    ``exact`` (Int64, optional) gives the integer values without float rounding.
    """
    low, micros = EPOCH_UNITS[unit]
    units = list(EPOCH_UNITS)
    high = EPOCH_UNITS[units[units.index(unit) + 1]][0] if unit != units[-1] else EPOCH_LIMIT
    numbers = numbers.cast(pl.Float64)
    in_range = (numbers >= low) & (numbers < high)
    frame = pl.DataFrame(
        {"n": numbers, "ok": in_range, "i": exact if exact is not None else numbers.cast(pl.Int64, strict=False)}
    )
    integer_micros = pl.col("i") // 1_000 if unit == "ns" else pl.col("i") * int(micros)
    float_micros = (pl.col("n") * micros).round(0).cast(pl.Int64, strict=False)
    micros_expr = pl.when(pl.col("i").is_not_null()).then(integer_micros).otherwise(float_micros)
    out = frame.select(pl.when(pl.col("ok")).then(micros_expr).cast(pl.Datetime("us")).alias(numbers.name))
    return out.to_series()


def typed_times(values: pl.Series, timezone: str, *, epoch_unit: str | None = None) -> pl.Series:
    """A time column of any type (Parquet keeps types) -> Datetime("us") UTC without zone."""
    dtype = values.dtype
    if dtype == pl.String:
        return parse_times(values, timezone, epoch_unit=epoch_unit)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            return values.dt.convert_time_zone("UTC").dt.replace_time_zone(None).cast(pl.Datetime("us"))
        return local_to_utc(values, timezone)
    if dtype == pl.Date:
        return local_to_utc(values.cast(pl.Datetime("us")), timezone)
    if dtype.is_numeric():
        numbers = values.cast(pl.Float64)
        exact = values.cast(pl.Int64, strict=False) if dtype.is_integer() else None
        return epoch_to_utc(numbers, epoch_unit or epoch_unit_of(numbers), exact=exact)
    return parse_times(as_text(values), timezone, epoch_unit=epoch_unit)


# ---------------------------------------------------------------------------------------------
# Numbers


def parse_numbers(values: pl.Series, *, decimal_comma: bool = False) -> pl.Series:
    """Parse text amounts to Float64; null where the text is not a finite number.

    >>> parse_numbers(pl.Series(["49", "1,234.50", "49,50", "abc"]), decimal_comma=True).to_list()
    [49.0, 1234.5, 49.5, None]
    """
    values = values.cast(pl.String)
    result = _finite(values.cast(pl.Float64, strict=False))
    failed = result.is_null() & values.is_not_null()
    if not failed.any():
        return result
    index = failed.arg_true()
    texts = values.gather(index).str.replace_all(NUMBER_NOISE, "")
    rules = pl.when(pl.col("t").str.contains(COMMA_THOUSANDS)).then(pl.col("t").str.replace_all(",", ""))
    if decimal_comma:
        # Checked first: in a `;` file "1,234" is one point two three four.
        comma_decimal = pl.col("t").str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
        rules = (
            pl.when(pl.col("t").str.contains(DECIMAL_COMMA))
            .then(comma_decimal)
            .when(pl.col("t").str.contains(COMMA_THOUSANDS))
            .then(pl.col("t").str.replace_all(",", ""))
        )
    cleaned = pl.DataFrame({"t": texts}).select(rules.otherwise(pl.col("t"))).to_series()
    return result.scatter(index, _finite(cleaned.cast(pl.Float64, strict=False)))


def _finite(numbers: pl.Series) -> pl.Series:
    return numbers.zip_with(numbers.is_finite().fill_null(False), pl.Series([None], dtype=pl.Float64))


def typed_numbers(values: pl.Series, *, decimal_comma: bool = False) -> pl.Series:
    if values.dtype == pl.String:
        return parse_numbers(values, decimal_comma=decimal_comma)
    if values.dtype.is_numeric():
        return _finite(values.cast(pl.Float64))
    return parse_numbers(as_text(values), decimal_comma=decimal_comma)


# ---------------------------------------------------------------------------------------------
# Text cells and dimension names


def as_text(values: pl.Series) -> pl.Series:
    """Any column as String: nested values as compact JSON text (like ``json_cell``)."""
    dtype = values.dtype
    if dtype == pl.String:
        return values
    if isinstance(dtype, (pl.Struct, pl.List, pl.Array, pl.Object)):
        return pl.Series(values.name, [json_cell(v) for v in values.to_list()], dtype=pl.String)
    if isinstance(dtype, pl.Datetime):
        return values.dt.to_string("%Y-%m-%dT%H:%M:%S%.f")
    return values.cast(pl.String)


def text_cell(value: object) -> str | None:
    """One JSON value as the text a CSV would hold: 49.5 -> '49.5', True -> 'true', {} -> '{}'."""
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return json_cell(value)


def dimension_name(raw: str) -> str:
    """``geo.country`` -> ``geo_country``, ``$os`` -> ``os``, ``Plan Type`` -> ``plan_type``.

    Names become safe SQL identifiers (``[a-z_][a-z0-9_]*``, at most 56 characters, leaving room
    for a ``_2`` suffix): accents are dropped (``Région`` -> ``region``), runs of anything else
    become ``_``, leading and trailing ``_`` go, and a leading digit gets ``dim_`` (``1st touch`` ->
    ``dim_1st_touch``).
    """
    ascii_name = unicodedata.normalize("NFKD", raw.strip().lower()).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-z0-9_]+", "_", ascii_name).strip("_")[:56].strip("_")
    if not name:
        return "column"
    return f"dim_{name}" if name[0].isdigit() else name


def clean_text(values: pl.Series) -> pl.Series:
    """Ids and names as String, with surrounding spaces removed and empty text as null."""
    return clean_texts(pl.DataFrame([as_text(values)])).to_series()


def clean_texts(frame: pl.DataFrame) -> pl.DataFrame:
    """``clean_text`` on every column of ``frame`` at once: one pass, columns in parallel."""
    if frame.width == 0:
        return frame
    text = (
        frame.select(pl.all().map_batches(as_text, return_dtype=pl.String))
        if any(dtype != pl.String for dtype in frame.dtypes)
        else frame
    )
    padded = text.select(pl.all().str.contains(r"^\s|\s$").any())  # ' u_1' typed in a spreadsheet
    stripped = [pl.col(c).str.strip_chars() if padded[c].item() else pl.col(c) for c in text.columns]
    return text.select(
        pl.when(e.str.len_bytes() > 0).then(e).alias(c) for e, c in zip(stripped, text.columns, strict=True)
    )


# ---------------------------------------------------------------------------------------------
# The canonical frame


@dataclass(frozen=True)
class Dimensions:
    """Candidate dimension columns. ``frame`` columns are unique labels; ``names`` gives the raw
    name each label becomes before ``dimension_name`` (default: the label), ``origins`` the source
    column shown in ``Parsed.mapping`` (default: the label)."""

    frame: pl.DataFrame
    names: Mapping[str, str] = field(default_factory=dict)
    origins: Mapping[str, str] = field(default_factory=dict)


def build_events(
    columns: pl.DataFrame,
    sources: Mapping[str, str],
    *,
    fmt: str,
    timezone: str = "UTC",
    dimensions: Dimensions | None = None,
    epoch_unit: str | None = None,
    decimal_comma: bool = False,
    errors: Iterable[RowError] = (),
) -> Parsed:
    """Type mapped columns into the canonical events frame and list every bad row.

    ``columns`` holds ``_row`` and the canonical columns the source has (any type; missing optional
    ones become null). ``sources`` names the source column of each canonical column, for error
    messages and ``Parsed.mapping``. ``timezone`` is the zone naive times are read in.

    >>> columns = pl.DataFrame({"_row": [2, 3], "event_time": ["2026-03-01T10:00:00Z", "soon"],
    ...                         "user_id": ["u1", "u2"], "event": ["signup", "login"]})
    >>> parsed = build_events(columns, {"event_time": "ts"}, fmt="demo")
    >>> parsed.frame.height, parsed.errors[0].message
    (1, "'soon' is not a valid time (expected e.g. 2026-03-01T10:00:00Z)")
    """
    check_timezone(timezone)
    for required in EVENT_REQUIRED:
        if required not in columns.columns:
            raise Rejected(
                [RowError(1, None, f"no {required} column (expected a header like event_time,user_id,event)")]
            )
    height = columns.height
    null_text = pl.Series([None] * height, dtype=pl.String)
    texts = clean_texts(
        columns.select(
            c for c in ("event_time", "user_id", "event", "event_id", "session_id", "revenue") if c in columns.columns
        )
    )
    raw_time = texts["event_time"]
    times = typed_times(
        raw_time if columns["event_time"].dtype == pl.String else columns["event_time"], timezone, epoch_unit=epoch_unit
    )
    raw_revenue = texts["revenue"] if "revenue" in columns.columns else null_text
    if "revenue" in columns.columns and columns["revenue"].dtype != pl.String:
        revenue = typed_numbers(columns["revenue"])
    else:
        revenue = parse_numbers(raw_revenue, decimal_comma=decimal_comma)
    frame = pl.DataFrame(
        {
            "event_time": times,
            "user_id": texts["user_id"],
            "event": texts["event"],
            "event_id": texts["event_id"] if "event_id" in texts.columns else null_text,
            "session_id": texts["session_id"] if "session_id" in texts.columns else null_text,
            "revenue": revenue,
            ROW: columns[ROW].cast(pl.Int64),
        },
        schema={**EVENT_TYPES, ROW: pl.Int64},
    )
    # A cheap mask first; the messages are only built for the (usually few) bad rows.
    bad = frame.select(
        pl.col("event_time").is_null()
        | pl.col("user_id").is_null()
        | pl.col("event").is_null()
        | (pl.col("revenue").is_null() & raw_revenue.is_not_null())
    ).to_series()
    row_errors = list(errors)
    if bad.any():
        found = _row_problems(frame.filter(bad), raw_time.filter(bad), raw_revenue.filter(bad), sources)
        row_errors += [RowError(r, c, m) for r, c, m in zip(found[ROW], found["column"], found["message"], strict=True)]
    row_errors.sort(key=lambda error: error.row if error.row is not None else 0)
    mapping = {
        name: sources.get(name, name)
        for name in CANONICAL
        if name in columns.columns and (name in EVENT_REQUIRED or columns[name].null_count() < height)
    }
    if dimensions is not None and dimensions.frame.width:
        dims, dim_mapping = _dimensions(dimensions.frame, dimensions)
        frame = pl.concat([frame.drop(ROW), dims, frame.select(ROW)], how="horizontal")
        mapping.update(dim_mapping)
    good = frame.filter(~bad) if bad.any() else frame
    if good["event_id"].null_count() < good.height and _may_repeat(good["event_id"]):
        good = good.filter(pl.col("event_id").is_null() | pl.col("event_id").is_first_distinct())
    return Parsed(kind="events", format=fmt, frame=good, errors=tuple(row_errors), mapping=mapping)


def _may_repeat(ids: pl.Series) -> bool:
    """False when no id appears twice. Distinct 64-bit hashes prove distinct ids and counting them
    is ten times cheaper than ``is_first_distinct`` on text; equal hashes (a repeat, or a rare
    collision) send the caller to the exact check."""
    present = ids.drop_nulls()
    return present.hash(seed=0).n_unique() < present.len()


def _row_problems(
    frame: pl.DataFrame, raw_time: pl.Series, raw_revenue: pl.Series, sources: Mapping[str, str]
) -> pl.DataFrame:
    """The first problem of each row (message null for good rows), checked in column order."""

    def shown(column: str) -> pl.Expr:
        text = pl.col(column)
        return pl.when(text.str.len_chars() > 60).then(text.str.slice(0, 57) + "...").otherwise(text)

    checks = [
        (
            pl.col("raw_time").is_null(),
            "event_time",
            pl.lit(f"empty event_time (every event needs a time; e.g. {TIME_EXAMPLE})"),
        ),
        (
            pl.col("event_time").is_null(),
            "event_time",
            pl.format(f"'{{}}' is not a valid time (expected e.g. {TIME_EXAMPLE})", shown("raw_time")),
        ),
        (pl.col("user_id").is_null(), "user_id", pl.lit("empty user_id (every event needs a user; e.g. u_123)")),
        (pl.col("event").is_null(), "event", pl.lit("empty event (every event needs a name; e.g. signup)")),
        (
            pl.col("revenue").is_null() & pl.col("raw_revenue").is_not_null(),
            "revenue",
            pl.format("'{}' is not a number (expected e.g. 49.00)", shown("raw_revenue")),
        ),
    ]
    message: pl.Expr = pl.lit(None, pl.String)
    column: pl.Expr = pl.lit(None, pl.String)
    for condition, name, text in reversed(checks):
        message = pl.when(condition).then(text).otherwise(message)
        column = pl.when(condition).then(pl.lit(sources.get(name, name))).otherwise(column)
    work = frame.with_columns(raw_time=raw_time, raw_revenue=raw_revenue)
    return work.select(pl.col(ROW), message.alias("message"), column.alias("column"))


def _dimensions(frame: pl.DataFrame, dimensions: Dimensions) -> tuple[pl.DataFrame, dict[str, str]]:
    """Normalise names, drop empty columns, keep the MAX_DIMENSIONS most filled ones."""
    cleaned = clean_texts(frame)
    texts = {label: cleaned[label] for label in frame.columns}
    filled = {label: frame.height - values.null_count() for label, values in texts.items()}
    labels = [label for label in frame.columns if filled[label] > 0]
    kept = set(sorted(labels, key=lambda label: -filled[label])[:MAX_DIMENSIONS])
    taken: set[str] = set(RESERVED)
    columns: list[pl.Series] = []
    mapping: dict[str, str] = {}
    for label in (label for label in labels if label in kept):
        name = dimension_name(dimensions.names.get(label, label))
        if name in RESERVED:
            name = f"source_{name}"
        base, suffix = name, 2
        while name in taken:
            name, suffix = f"{base}_{suffix}", suffix + 1
        taken.add(name)
        mapping[name] = dimensions.origins.get(label, label)
        columns.append(texts[label].rename(name))
    return pl.DataFrame(columns, schema=dict.fromkeys((c.name for c in columns), pl.String)), mapping


def check_timezone(timezone: str) -> None:
    """Rejected unless ``timezone`` is an IANA zone name such as Europe/Berlin."""
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise Rejected(
            [
                RowError(
                    None,
                    None,
                    f"unknown time zone '{timezone}' (set the workspace time zone to an IANA name, e.g. Europe/Berlin)",
                )
            ]
        ) from exc


# ---------------------------------------------------------------------------------------------
# JSON records (PostHog, Amplitude, Mixpanel) and the same layouts as CSV or Parquet


def read_table(sample: Sample) -> pl.DataFrame:
    """A CSV (every column as text) or Parquet (types kept) file, with ``_row``: the spreadsheet row
    for CSV (header = row 1), the record number for Parquet."""
    if sample.layout == "csv":
        from pmkit.sources.csvfile import read_csv_strings

        return read_csv_strings(sample)
    if sample.layout != "parquet":
        raise Rejected(
            [RowError(None, None, f"expected a CSV or Parquet file, got {sample.layout} (export the events as CSV)")]
        )
    try:
        frame = pl.read_parquet(sample.path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise Rejected(
            [RowError(None, None, f"the Parquet file cannot be read ({exc}); it may be cut off, export it again")]
        ) from exc
    if frame.height == 0:
        raise Rejected([RowError(None, None, "the file has no rows (export it again with data)")])
    return frame.with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(ROW))


def drop_cut_off_row(sample: Sample, frame: pl.DataFrame) -> tuple[pl.DataFrame, list[RowError]]:
    """A CSV whose last line has no line break and fewer fields than the header was cut off while
    copying (``...,u1,log`` of ``event_time,user_id,event,plan``): Polars would fill the missing
    fields with nulls and load a damaged row, so that row becomes an error instead.

    A cut inside the last field cannot be seen (``plan`` ``fr`` of ``free``), nor can a last line
    inside a quoted multi-line cell (an odd number of quotes), which is left alone.
    """
    if sample.layout != "csv" or frame.height == 0:
        return frame, []
    with open(sample.path, "rb") as handle:
        handle.seek(0, 2)
        handle.seek(max(0, handle.tell() - 65536))
        tail = handle.read()
    if tail.endswith((b"\n", b"\r")):
        return frame, []
    encoding = "utf-8" if sample.encoding in ("utf-8-sig", "binary") else sample.encoding
    last_line = tail.rsplit(b"\n", 1)[-1].decode(encoding, errors="replace")
    if last_line.count('"') % 2:
        return frame, []
    fields = next(csv.reader([last_line], delimiter=sample.delimiter or ","), [])
    header_width = frame.width - 1  # without _row
    if len(fields) >= header_width:
        return frame, []
    row = frame[ROW][-1]
    message = f"this row has {len(fields)} of {header_width} fields and no line break after it (the file may be cut off; export it again)"
    return frame.filter(pl.col(ROW) != row), [RowError(row, None, message)]


def read_records(sample: Sample) -> tuple[Iterator[tuple[int, dict]], list[RowError]]:
    """The file's records with their row: JSON lines (plain or gzip), a JSON array, CSV or Parquet.

    A JSON line that is not a complete object (a file cut off while copying) is a row error, not a
    reason to stop reading. The error list fills while the records are consumed.
    """
    errors: list[RowError] = []
    if sample.layout in ("csv", "parquet"):
        frame = read_table(sample)
        return ((record.pop(ROW), record) for record in frame.iter_rows(named=True)), errors
    text = read_text(sample.path, sample.encoding)
    if sample.layout == "json" or text.lstrip().startswith("["):
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            message = f"the JSON file is not complete ({exc.msg} at line {exc.lineno}); export it again"
            raise Rejected([RowError(None, None, message)]) from exc
        if not isinstance(values, list):
            values = [values]
        records = []
        for number, value in enumerate(values, start=1):
            if isinstance(value, dict):
                records.append((number, value))
            else:
                errors.append(RowError(number, None, "this item is not a JSON object (expected one object per event)"))
        return iter(records), errors
    return _json_lines(text, errors), errors


def _json_lines(text: str, errors: list[RowError]) -> Iterator[tuple[int, dict]]:
    # Split on \n only: str.splitlines() would also split on U+2028 inside JSON strings.
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            errors.append(
                RowError(
                    number, None, "this line is not a complete JSON object (the file may be cut off; export it again)"
                )
            )
            continue
        if isinstance(value, dict):
            yield number, value
        else:
            errors.append(RowError(number, None, "this line is not a JSON object (expected one object per line)"))


def read_text(path: Path, encoding: str) -> str:
    """The whole file as text; gzip content (Amplitude's ``.json.gz``) is unpacked first."""
    data = path.read_bytes()
    if data.startswith(GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise Rejected(
                [RowError(None, None, f"the gzip file cannot be unpacked ({exc}); it may be cut off, export it again")]
            ) from exc
        encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else encoding
    if encoding == "binary":
        encoding = "utf-8"
    return data.decode(encoding, errors="replace")


def parse_json_object(value: object, column: str) -> dict:
    """A properties cell: a JSON object, or JSON text of one (PostHog CSV and Parquet), or empty."""
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError:
            decoded = None
        if isinstance(decoded, dict):
            return decoded
    shown = str(value)[:57] + ("..." if len(str(value)) > 57 else "")
    raise RecordError(column, f'\'{shown}\' is not a JSON object (expected e.g. {{"plan": "pro"}})')


Flatten = Callable[[dict], tuple[dict[str, object], dict[str, object]]]


def build_from_records(
    sample: Sample,
    flatten: Flatten,
    sources: Mapping[str, str],
    *,
    fmt: str,
    timezone: str,
    dimension_names: Callable[[str], str] = lambda label: label,
    epoch_unit: str | None = None,
) -> Parsed:
    """Records -> canonical frame: ``flatten(record)`` returns (canonical values, dimension values
    by source label); values may be any JSON value and are turned into text like a CSV cell."""
    records, errors = read_records(sample)
    rows: list[int] = []
    canonical: dict[str, list[str | None]] = {name: [] for name in CANONICAL}
    dimension_rows: list[dict[str, str]] = []
    filled: Counter[str] = Counter()
    for row, record in records:
        try:
            values, dims = flatten(record)
        except RecordError as exc:
            errors.append(RowError(row, exc.column, exc.message))
            continue
        rows.append(row)
        for name in CANONICAL:
            canonical[name].append(text_cell(values.get(name)))
        texts = {label: text for label, value in dims.items() if (text := text_cell(value)) is not None}
        filled.update(texts.keys())
        dimension_rows.append(texts)
    if not rows and errors:
        raise Rejected(errors)
    if not rows:
        raise Rejected([RowError(None, None, "the file has no events (export it again with data)")])
    columns = pl.DataFrame({ROW: rows, **canonical}, schema={ROW: pl.Int64, **dict.fromkeys(CANONICAL, pl.String)})
    # Only the most filled labels are built as columns (the cap applies again after bad rows go).
    top = {label for label, _ in filled.most_common(MAX_DIMENSIONS * 2)}
    labels = [label for label in filled if label in top]
    dims = pl.DataFrame(
        {label: [d.get(label) for d in dimension_rows] for label in labels}, schema=dict.fromkeys(labels, pl.String)
    )
    dimensions = Dimensions(dims, names={label: dimension_names(label) for label in labels})
    return build_events(
        columns, sources, fmt=fmt, timezone=timezone, dimensions=dimensions, epoch_unit=epoch_unit, errors=errors
    )
