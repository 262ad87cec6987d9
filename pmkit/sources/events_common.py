"""What every events source shares: reading times and amounts, and building the canonical frame.

Each events module maps its columns onto the canonical names and hands them to
``build_events``, which types them, reports every bad row once, names the dimensions and drops
repeated event ids. Everything here is vectorised (Polars expressions with explicit formats), so a
10M-row column parses in seconds; Python loops only touch the rows that failed and the JSON records
that cannot be read by column (see "JSON lines by column" below: a vendor's JSON lines are read
by Arrow, and record by record only where that could give a different result).

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
canonical one (or one the store adds: ``user_key``, ``day``, ``file_id``, ``events``) gets a
``source_`` prefix, a repeated name a ``_2`` suffix: a vendor's own ``$os`` is ``os`` and a custom
``os`` beside it ``os_2``, in whichever order a file has them (with only a custom ``os``, that is ``os``). Columns that
are empty in every loaded row are dropped, and at most ``MAX_DIMENSIONS`` (30) are kept in a
workspace: each dimension becomes a stored column and an entry in every breakdown picker, and
exports carry far more fields than anyone breaks down by (an Amplitude row has ~50 top-level fields,
a PostHog row often 100+ ``$`` properties, most of them empty or constant). A file keeps every
column named like one of ``ReadOptions.keep_dimensions`` (the workspace's dimensions and those
pmkit.toml names), then the most filled of its others while the workspace has room; the columns
with values it leaves out are listed in ``Parsed.dropped_dimensions``. Chosen per file alone, a
daily file whose ``plan`` was its least filled column lost it, and filtered numbers then depended
on how one export had been split into files.

Dedupe: within one file, rows sharing a non-null ``event_id`` keep the first (the exporters retry
and repeat rows; PostHog's ``uuid`` and Mixpanel's and Amplitude's ``$insert_id`` exist for this),
counted in ``Parsed.duplicates``. Across files it is the ingest's job, by the same rule.
"""

from __future__ import annotations

import concurrent.futures
import csv
import functools
import gzip
import json
import logging
import re
import unicodedata
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from pmkit.canonical import EVENT_OPTIONAL, EVENT_REQUIRED, EVENT_TYPES
from pmkit.sources.base import ROW, Parsed, ReadOptions, Rejected, RowError, Sample, json_cell, null_column
from pmkit.sources.sniff import TOO_DEEP

CANONICAL = EVENT_REQUIRED + EVENT_OPTIONAL
# Columns the ingest adds beside the dimensions in the stored events and rollups (the user's
# key, the local day, the file, a group's event count): a source column with one of these names
# would collide with them there, so it gets the ``source_`` prefix like a canonical name.
STORE_COLUMNS = frozenset({"user_key", "day", "file_id", "events"})
RESERVED = frozenset(CANONICAL) | STORE_COLUMNS | {ROW}
MAX_DIMENSIONS = 30
# Columns built from a vendor's properties (a JSON export's, GA4's event_params keys) before the
# dimension cap chooses among them over the rows that load: the most filled, twice the cap.
MAX_BUILT = 2 * MAX_DIMENSIONS
TIME_EXAMPLE = "2026-03-01T10:00:00Z"
LAYOUT_NAMES = {"jsonl": "JSON lines", "json": "JSON"}  # else the layout's upper case: CSV, PARQUET
# Event times outside these bounds are row errors, not events: 1970-01-01 and 0001-01-01 are the
# placeholders of an empty time, and every daily table spans each day from the first event to
# the last (one event in year 1 used up 24 GB; year 9999 overflowed the date type). Events up to
# a year ahead load, counted as dated after today (``FileResult.rows_future``).
EARLIEST_TIME = datetime(2000, 1, 1)
LATEST_AHEAD_DAYS = 366
SAMPLE_SIZE = 1_000
# Columns at least this long are parsed in two halves at once (``in_halves``).
PARALLEL_ROWS = 200_000
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"

logger = logging.getLogger(__name__)

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
EPOCH_UNIT_WORDS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
EPOCH_UNIT_EXAMPLES = {"s": "1772359200", "ms": "1772359200000", "us": "1772359200000000", "ns": "1772359200000000000"}

# Amounts that a plain cast to Float64 does not read, cleaned before a second cast:
# currency signs and spaces around or inside ("$49.00", "49 €", "1 234,50" with a no-break space).
NUMBER_NOISE = r"[\s$€£\u00a0\u202f]"
# 1,234.50 / 12,345 (comma thousands)
COMMA_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"
# 49,50 / 1.234,50 (decimal comma, dot thousands), only in `;` files
DECIMAL_COMMA = r"^[+-]?(\d+|\d{1,3}(\.\d{3})+),\d+$"
# 8.000 / 1.250.000 (dot thousands, no decimals), only in `;` files; a leading 0 is a decimal
DOT_THOUSANDS = r"^[+-]?[1-9]\d{0,2}(\.\d{3})+$"
# 1.250.000: two or more dot groups, thousands whatever else the column holds
DOT_GROUPS = r"^[+-]?[1-9]\d{0,2}(\.\d{3}){2,}$"
# 1,234.50: comma thousands and a dot decimal, which says the column's dot is a decimal point
COMMA_GROUPED_DECIMAL = r"^[+-]?\d{1,3}(,\d{3})+\.\d+$"
# 49.50 / 0.125 / 3.14159: a dot that cannot be a thousands separator
DOT_DECIMAL = r"^[+-]?(\d*\.(\d{1,2}|\d{4,})|0\.\d+)$"


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

    @functools.cache
    def unit() -> str:
        # From every epoch number of the column, worked out only when an epoch parse needs it: the
        # scan alone took 0.33 s of a 10M-row column of ISO times that never does.
        if epoch_unit is not None:
            return epoch_unit
        numbers = values.filter(values.str.contains(EPOCH_NUMBER).fill_null(False))
        return epoch_unit_of(numbers.cast(pl.Float64, strict=False))

    result = _parse_with_formats(values, timezone, unit)
    failed = result.is_null() & values.is_not_null()
    if failed.any():
        # A stray space typed into a spreadsheet cell (" 2026-03-01 10:00") is not an error.
        index = failed.arg_true()
        stripped = values.gather(index).str.strip_chars()
        result = result.scatter(index, _parse_with_formats(stripped, timezone, unit))
    return result.rename(values.name)


def _parse_with_formats(values: pl.Series, timezone: str, epoch_unit: Callable[[], str]) -> pl.Series:
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
    result = in_halves(parsers[order[0]][1], values)
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


def in_halves(work: Callable[[pl.Series], pl.Series], values: pl.Series) -> pl.Series:
    """``work(values)`` for an element-wise ``work``, on two halves at once: a Series operation
    runs on one core, and Polars lets go of the GIL while it works (a 10M-row time column parsed
    in 0.46 s instead of 0.76 s on two cores). Small columns are done whole."""
    if values.len() < PARALLEL_ROWS:
        return work(values)
    half = values.len() // 2
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        second = pool.submit(work, values.slice(half))
        first = work(values.slice(0, half))
        # One chunk: a split inside one of the column's chunks left a layout no other column
        # had, the kind that met the Polars panic _row_problems guards against.
        return pl.concat([first, second.result()], rechunk=True)


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


def _epoch_from_text(texts: pl.Series, unit: Callable[[], str]) -> pl.Series:
    """Epoch numbers in ``texts`` as times; ``unit`` is asked only when there is one."""
    numeric = texts.str.contains(EPOCH_NUMBER)
    if not numeric.any():
        return null_column(texts.len(), pl.Datetime("us"), texts.name)
    whole = texts.str.to_integer(strict=False)  # exact for digits: ns values exceed float precision
    numbers = whole.cast(pl.Float64).zip_with(whole.is_not_null(), texts.cast(pl.Float64, strict=False))
    numbers = numbers.zip_with(numeric, pl.Series([None], dtype=pl.Float64))
    return epoch_to_utc(numbers, unit(), exact=whole)


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

    In a `;` file whose column writes decimal commas ("0,5", "1.234,5"), the dot groups
    thousands: "8.000" is eight thousand (it was read as 8 beside 1,234.5 in the next row, QA).
    Without a decimal comma in the column, or with a dot decimal in it ("49.50"), a dot is a
    decimal point: "12.500" may be a tool's three decimals (it was read a thousand times too
    large; review); events and objectives refuse such a value as ambiguous (``read_numbers``).

    >>> parse_numbers(pl.Series(["8.000", "0,5", "1.250.000"]), decimal_comma=True).to_list()
    [8000.0, 0.5, 1250000.0]
    >>> parse_numbers(pl.Series(["8.000", "49.50"]), decimal_comma=True).to_list()
    [8.0, 49.5]
    >>> parse_numbers(pl.Series(["12.500", "4.990"]), decimal_comma=True).to_list()
    [12.5, 4.99]
    >>> parse_numbers(pl.Series(["1.250.000", "8.000"]), decimal_comma=True).to_list()
    [1250000.0, 8000.0]
    """
    return read_numbers(values, decimal_comma=decimal_comma).numbers


@dataclass(frozen=True)
class ReadNumbers:
    """``read_numbers``' result: the numbers, and in a `;` file the texts read with a decimal
    point that could as well be dot-grouped thousands ("1.500"). ``ambiguous_in_column``: nothing
    else in the column says which (no decimal comma, no second dot group, no dot decimal such as
    49.50): what event files refuse. ``ambiguous_in_row``: no decimal comma or second dot group in
    the column says thousands, whatever else it holds: what objectives refuse, each row being
    another metric at its own scale (one metric's 0.30 says nothing of another's 8.000; review).
    None where no text can be (not a `;` file, no dot group)."""

    numbers: pl.Series
    ambiguous_in_column: pl.Series | None = None
    ambiguous_in_row: pl.Series | None = None


def read_numbers(values: pl.Series, *, decimal_comma: bool = False, by_column: bool = True) -> ReadNumbers:
    """``parse_numbers`` with the values it had to guess (``ReadNumbers``), worked out from the
    same passes over the column. ``by_column``: a column that writes dot decimals groups
    thousands with its commas (False: each row is its own, as an objective's).

    >>> found = read_numbers(pl.Series(["1.500", "750"]), decimal_comma=True)
    >>> found.numbers.to_list(), found.ambiguous_in_column.to_list()
    ([1.5, 750.0], [True, False])
    >>> found = read_numbers(pl.Series(["8.000", "0.30"]), decimal_comma=True)
    >>> found.ambiguous_in_column.to_list(), found.ambiguous_in_row.to_list()
    ([False, False], [True, False])
    """
    values = values.cast(pl.String)
    in_column = in_row = None
    dot_decimal = False
    if decimal_comma:
        stripped = values.str.replace_all(NUMBER_NOISE, "")
        # The column writes a dot as a decimal point (49.50, 1,234.50): its commas group thousands.
        dot_decimal = bool(
            stripped.str.contains(DOT_DECIMAL).any() or stripped.str.contains(COMMA_GROUPED_DECIMAL).any()
        )
        grouped = stripped.str.contains(DOT_THOUSANDS).fill_null(False)
        if grouped.any():
            # "1.250.000" can only be grouped thousands: it is read so, and says the dot groups.
            many = stripped.str.contains(DOT_GROUPS).fill_null(False)
            thousands = not dot_decimal and bool(many.any() or stripped.str.contains(DECIMAL_COMMA).any())
            dotless = stripped.str.replace_all(".", "", literal=True)
            if thousands:
                values = values.zip_with(~grouped, dotless)
                in_row = in_column = pl.repeat(False, values.len(), dtype=pl.Boolean, eager=True)
            else:
                values = values.zip_with(~many, dotless)
                in_row = grouped & ~many
                in_column = in_row & (not dot_decimal)
    result = _finite(values.cast(pl.Float64, strict=False))
    failed = result.is_null() & values.is_not_null()
    if not failed.any():
        return ReadNumbers(result, in_column, in_row)
    index = failed.arg_true()
    texts = values.gather(index).str.replace_all(NUMBER_NOISE, "")
    rules = pl.when(pl.col("t").str.contains(COMMA_THOUSANDS)).then(pl.col("t").str.replace_all(",", ""))
    if decimal_comma:
        # Checked first: in a `;` file "1,234" is one point two three four, unless the column
        # writes its decimals with a dot: beside 1,234.50, "12,345" read 12.345 (ingest QA).
        comma_decimal = pl.col("t").str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
        as_decimal = pl.col("t").str.contains(DECIMAL_COMMA)
        if dot_decimal and by_column:
            # "0,125" groups no thousands: a decimal comma whatever the column (review).
            grouping = pl.col("t").str.contains(COMMA_THOUSANDS) & ~pl.col("t").str.contains(r"^[+-]?0,")
            as_decimal = as_decimal & ~grouping
        rules = (
            pl.when(as_decimal)
            .then(comma_decimal)
            .when(pl.col("t").str.contains(COMMA_THOUSANDS))
            .then(pl.col("t").str.replace_all(",", ""))
        )
    cleaned = pl.DataFrame({"t": texts}).select(rules.otherwise(pl.col("t"))).to_series()
    return ReadNumbers(result.scatter(index, _finite(cleaned.cast(pl.Float64, strict=False))), in_column, in_row)


def ambiguous_dot_message(raw: pl.Expr) -> pl.Expr:
    """What a value ``read_numbers`` found ambiguous is told: the two readings, and how the file
    writes the second ("1,500" read as fifteen hundred to most eyes; review)."""
    text = raw.str.replace_all(NUMBER_NOISE, "")
    decimal = text.str.strip_chars_end("0").str.strip_chars_end(".")
    return pl.format(
        "'{}' could be {} (a dot grouping thousands) or {} (a decimal point) in a ';' file, and nothing says "
        "which: write {} or {}",
        raw,
        text.str.replace_all(".", "", literal=True),
        decimal,
        text.str.replace_all(".", "", literal=True),
        decimal.str.replace(".", ",", literal=True),
    )


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
    if isinstance(dtype, (pl.Struct, pl.List, pl.Array, pl.Map, pl.Object)):  # Map: Spark, Databricks
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
    # ' u_1' typed in a spreadsheet. Every cell is stripped, then the empty ones become null.
    # First finding which columns hold a padded cell costs a strip itself, and was no faster:
    # 0.75-1.10 s against 0.75-0.88 s for this on 10M rows of six text columns (six runs each).
    stripped = text.select(pl.all().str.strip_chars())
    return stripped.select(pl.when(pl.all().str.len_bytes() > 0).then(pl.all()).name.keep())


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
    unbuilt: tuple[str, ...] = ()  # stored names of columns with values not even built (JSON: the least filled)


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
    keep_dimensions: frozenset[str] = frozenset(),
    dimension_room: int | None = None,
    id_scope: tuple[str, ...] = (),
    identity: str | None = None,
) -> Parsed:
    """Type mapped columns into the canonical events frame and list every bad row.

    ``columns`` holds ``_row`` and the canonical columns the source has (any type; missing optional
    ones become null). ``sources`` names the source column of each canonical column, for error
    messages and ``Parsed.mapping``. ``timezone`` is the zone naive times are read in. ``id_scope``
    names the canonical columns an event id is compared with besides itself (``INSERT_ID_SCOPE``).

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
    null_text = null_column(height)
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
    guessed = None
    if "revenue" in columns.columns and columns["revenue"].dtype != pl.String:
        revenue = typed_numbers(columns["revenue"])
    else:
        found = read_numbers(raw_revenue, decimal_comma=decimal_comma)
        revenue, guessed = found.numbers, found.ambiguous_in_column
    if guessed is None:
        guessed = pl.repeat(False, height, dtype=pl.Boolean, eager=True)
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
    latest = latest_time()
    if identity is not None and IDENTITY in columns.columns:
        # After the times are read, before the checks: a row with no user of its own is good
        # once its identity names one (RecordExport.identity).
        named = clean_texts(columns.select(IDENTITY, IDENTIFIED))
        loads = pl.col("event_time").is_between(EARLIEST_TIME, latest) & pl.col("event").is_not_null()
        frame = merged_identities(frame.with_columns(named), identity, loads.fill_null(False))
    # A cheap mask first; the messages are only built for the (usually few) bad rows.
    bad = frame.select(
        pl.col("event_time").is_null()
        | ~pl.col("event_time").is_between(EARLIEST_TIME, latest)
        | pl.col("user_id").is_null()
        | pl.col("event").is_null()
        | (pl.col("revenue").is_null() & raw_revenue.is_not_null())
        | guessed
    ).to_series()
    row_errors = list(errors)
    if bad.any():
        epochs = (raw_time.str.contains(EPOCH_NUMBER).mean() or 0) > 0.5  # a column of epoch numbers
        found = _row_problems(
            frame.filter(bad),
            raw_time.filter(bad),
            raw_revenue.filter(bad),
            sources,
            latest,
            epochs,
            epoch_unit,
            guessed.filter(bad),
        )
        row_errors += [RowError(r, c, m) for r, c, m in zip(found[ROW], found["column"], found["message"], strict=True)]
    row_errors.sort(key=lambda error: error.row if error.row is not None else 0)
    mapping = {
        name: sources.get(name, name)
        for name in CANONICAL
        if name in columns.columns and (name in EVENT_REQUIRED or columns[name].null_count() < height)
    }
    dropped: tuple[str, ...] = ()
    if dimensions is not None and dimensions.frame.width:
        # Filled is counted over the rows that load: a column filled only in bad rows took a place.
        room = MAX_DIMENSIONS if dimension_room is None else dimension_room
        counted = ~bad if bad.any() else None
        dims, dim_mapping, dropped = _dimensions(dimensions.frame, dimensions, keep_dimensions, room, counted)
        frame = pl.concat([frame.drop(ROW), dims, frame.select(ROW)], how="horizontal")
        mapping.update(dim_mapping)
    good = frame.filter(~bad) if bad.any() else frame
    repeats = 0
    if good["event_id"].null_count() < good.height and _may_repeat(good["event_id"]):
        own_user = RAW_USER if RAW_USER in good.columns else "user_id"
        scope = [
            scope_time() if name == "event_time" else pl.col(own_user if name == "user_id" else name).alias(name)
            for name in id_scope
        ]
        key = pl.struct("event_id", *scope) if id_scope else pl.col("event_id")
        kept = good.filter(pl.col("event_id").is_null() | key.is_first_distinct())
        good, repeats = kept, good.height - kept.height
    return Parsed(
        kind="events",
        format=fmt,
        frame=good,
        errors=tuple(row_errors),
        mapping=mapping,
        duplicates=repeats,
        dropped_dimensions=dropped,
        id_scope=id_scope,
    )


# The columns an insert id is compared with (``Parsed.id_scope``). Mixpanel counts an event as a
# repeat when its name, distinct_id, time and $insert_id all match; Amplitude when its $insert_id
# comes again from the same device. Taken alone, one $insert_id set to an order number on "Order
# Completed" and "Payment Captured" (or on two users' events) lost all but the first. An export
# holds the events its tool accepted, so the repeats left to drop here are an overlapping
# export's copies, which match in every column: the full identity drops those and nothing else.
INSERT_ID_SCOPE = ("event", "user_id", "event_time")

# Values a ``flatten`` may give beside the canonical ones, for ``RecordExport.identity``: the
# vendor's identity of the row (a person, a device) and the user it is known as on that row.
IDENTITY, IDENTIFIED = "_identity", "_identified"
# The user a row names in its file, before ``merged_identities``: what its insert id is compared
# with (``INSERT_ID_SCOPE``), so the same visit under its device in one export and under the user
# in the next, which holds the sign-up, is one event, and two users' events sharing an insert id
# stay two (review). Not stored: the ingest drops it once the repeats are found.
RAW_USER = "_raw_user"


def merged_identities(frame: pl.DataFrame, rule: str, loads: pl.Expr) -> pl.DataFrame:
    """``frame`` (typed events with IDENTITY and IDENTIFIED) with each identity's rows under the
    user it is known as in the file, the rows' own users in RAW_USER, and without the two
    columns. A visit before signing up, under an anonymous id, was a second user, both new, and
    a visit -> sign-up funnel converted no one (vendor QA). "person": every row of the identity
    (PostHog's person_id, Amplitude's amplitude_id: what the vendor counts users by), under its
    latest id; "device": the rows with no user of their own, under the first user the device
    signed in as (Mixpanel ties it to that one; another user signing in on it keeps theirs).
    Only rows that load (``loads``) decide, in time order: a skipped row dated 2037, or a time
    sorted as text, named a person by its anonymous id (review). Within a file: a visit in one
    export and its sign-up in the next stay two users."""
    own = frame["user_id"]
    known = (
        frame.filter(loads & pl.col(IDENTITY).is_not_null() & pl.col(IDENTIFIED).is_not_null())
        .sort("event_time", ROW)
        .group_by(IDENTITY)
        .agg((pl.col(IDENTIFIED).first() if rule == "device" else pl.col(IDENTIFIED).last()).alias("_known"))
    )
    takes = pl.col(IDENTIFIED).is_null() if rule == "device" else pl.lit(True)
    merged = (
        frame.join(known, on=IDENTITY, how="left", maintain_order="left")
        .with_columns(
            pl.when(takes & pl.col("_known").is_not_null()).then("_known").otherwise("user_id").alias("user_id"),
        )
        .with_columns(pl.coalesce(own, pl.col("user_id")).alias(RAW_USER))
        .drop(IDENTITY, IDENTIFIED, "_known")
    )
    # Kept only where a row's user changed: a file without sign-ups reads as before.
    changed = merged.select((pl.col(RAW_USER) != pl.col("user_id")).any()).item()
    return merged if changed else merged.drop(RAW_USER)


def scope_time() -> pl.Expr:
    """``event_time`` as an id is compared with it (``INSERT_ID_SCOPE``): to the whole second.
    Mixpanel writes ``time`` in seconds in its exports and in milliseconds in what was imported,
    so the same events exported both ways differed in it and were counted twice."""
    return pl.col("event_time").dt.truncate("1s")


def _may_repeat(ids: pl.Series) -> bool:
    """False when no id appears twice. Distinct 64-bit hashes prove distinct ids and counting them
    is ten times cheaper than ``is_first_distinct`` on text; equal hashes (a repeat, or a rare
    collision) send the caller to the exact check."""
    present = ids.drop_nulls()
    return present.hash(seed=0).n_unique() < present.len()


def latest_time() -> datetime:
    """The latest time a row may hold (UTC, naive): a year after now."""
    return datetime.now(UTC).replace(tzinfo=None) + timedelta(days=LATEST_AHEAD_DAYS)


def time_bound_checks(column: str, raw: pl.Expr, latest: datetime) -> list[tuple[pl.Expr, str, pl.Expr]]:
    """A parsed time before 2000 (1970-01-01 is an empty time written as 0) or after ``latest``
    is a bad row, named with its cell as read (``raw``): checks as ``_row_problems`` lists them."""
    return [
        (
            pl.col(column) < EARLIEST_TIME,
            column,
            pl.format(
                "'{}' is before the year 2000: a placeholder for a missing time? Fix the time or remove the row", raw
            ),
        ),
        (
            pl.col(column) > latest,
            column,
            pl.format(
                "'{}' is more than a year after today: check the export's clock and time zone, or remove the row", raw
            ),
        ),
    ]


def _row_problems(
    frame: pl.DataFrame,
    raw_time: pl.Series,
    raw_revenue: pl.Series,
    sources: Mapping[str, str],
    latest: datetime,
    epochs: bool,
    epoch_unit: str | None = None,
    ambiguous: pl.Series | None = None,
) -> pl.DataFrame:
    """The first problem of each row (message null for good rows), checked in column order.
    ``epoch_unit``: the one unit the format's epoch numbers are in (GA4: microseconds);
    ``ambiguous``: the revenues ``read_numbers`` found ambiguous."""

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
            # 36526-73051: a spreadsheet's day number of 2000-2100 (days since 1900, as a sheet saves a
            # date cell formatted as a number; with a decimal comma in a ';' sheet). It was told to
            # export with one epoch unit (ingest QA), and among dates that it was no time (review).
            pl.lit(epoch_unit is None)
            & pl.col("event_time").is_null()
            & pl.col("raw_time").str.contains(r"^\d{5}([.,]\d+)?$")
            & pl.col("raw_time")
            .str.replace(",", ".", literal=True)
            .cast(pl.Float64, strict=False)
            .is_between(36_526, 73_051),
            "event_time",
            pl.format(
                "'{}' is a spreadsheet's day number (days since 1900), not a time: format the column as a date "
                f"and time in the spreadsheet (e.g. {TIME_EXAMPLE}) and save the CSV again",
                shown("raw_time"),
            ),
        ),
        (
            pl.lit(epochs) & pl.col("event_time").is_null() & pl.col("raw_time").str.contains(EPOCH_NUMBER),
            "event_time",
            pl.format(
                "'{}' is not a time in the unit of the column's other epoch numbers (one column holds seconds, "
                "milliseconds, microseconds or nanoseconds since 1970, told apart by their size: export it again "
                "with one unit)",
                shown("raw_time"),
            )
            if epoch_unit is None
            # A format of one unit: "the unit of the column's other numbers" sent people to look for
            # mixed units in a column that was all milliseconds.
            else pl.format(
                f"'{{}}' is not a time in {EPOCH_UNIT_WORDS[epoch_unit]} since 1970, the unit this column always "
                f"holds (e.g. {EPOCH_UNIT_EXAMPLES[epoch_unit]} is {TIME_EXAMPLE}): export it as the tool writes "
                "it, without converting the unit",
                shown("raw_time"),
            ),
        ),
        (
            pl.col("event_time").is_null(),
            "event_time",
            pl.format(f"'{{}}' is not a valid time (expected e.g. {TIME_EXAMPLE})", shown("raw_time")),
        ),
        *time_bound_checks("event_time", shown("raw_time"), latest),
        (pl.col("user_id").is_null(), "user_id", pl.lit("empty user_id (every event needs a user; e.g. u_123)")),
        (pl.col("event").is_null(), "event", pl.lit("empty event (every event needs a name; e.g. signup)")),
        (
            pl.col("revenue").is_null() & pl.col("raw_revenue").is_not_null(),
            "revenue",
            pl.format("'{}' is not a number (expected e.g. 49.00)", shown("raw_revenue")),
        ),
        (pl.col("ambiguous_revenue"), "revenue", ambiguous_dot_message(pl.col("raw_revenue"))),
    ]
    message: pl.Expr = pl.lit(None, pl.String)
    column: pl.Expr = pl.lit(None, pl.String)
    for condition, name, text in reversed(checks):
        message = pl.when(condition).then(text).otherwise(message)
        column = pl.when(condition).then(pl.lit(sources.get(name, name))).otherwise(column)
    # One chunk each (only the bad rows: a copy of little): Polars 2.1 panicked in pl.format over
    # a filtered text column of several chunks, some of them empty ("assertion failed: i <
    # self.len()"), and the file was refused as a bug in pmkit instead of naming its rows.
    flags = ambiguous if ambiguous is not None else pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True)
    work = frame.with_columns(raw_time=raw_time, raw_revenue=raw_revenue, ambiguous_revenue=flags).rechunk()
    return work.select(pl.col(ROW), message.alias("message"), column.alias("column"))


def stored_name(raw: str) -> str:
    """The name a dimension column is stored under (before a ``_2`` suffix for a repeat)."""
    name = dimension_name(raw)
    return f"source_{name}" if name in RESERVED else name


def _dimensions(
    frame: pl.DataFrame,
    dimensions: Dimensions,
    keep: frozenset[str] = frozenset(),
    room: int = MAX_DIMENSIONS,
    counted: pl.Series | None = None,
) -> tuple[pl.DataFrame, dict[str, str], tuple[str, ...]]:
    """Normalise names and drop columns empty in the ``counted`` rows (all by default); keep those
    whose stored name is in ``keep``, then the ``room`` most filled others (module docstring).
    Also returns the stored names of the columns with values that were left out, as
    ingest.keep_dimensions takes them. Names are given before the choice, so a repeat (``Plan``
    beside ``plan``: ``plan_2``) is a column of its own, which a full workspace has no room for.
    A vendor's own ``$`` name is named first: ``$os`` is ``os`` and a custom ``os`` beside it
    ``os_2`` in every file that has both, whatever their order (by file order, ``os`` held one
    property in one file and the other in the next). A file with only a custom ``os`` stores it
    as ``os``: nothing in it tells the two apart."""
    cleaned = clean_texts(frame)
    texts = {label: cleaned[label] for label in frame.columns}
    filled = {
        label: frame.height - values.null_count() if counted is None else int((values.is_not_null() & counted).sum())
        for label, values in texts.items()
    }
    labels = [label for label in frame.columns if filled[label] > 0]
    raw = {label: dimensions.names.get(label, label) for label in labels}
    taken: set[str] = set(RESERVED)
    named: dict[str, str] = {}
    for label in sorted(labels, key=lambda label: not raw[label].strip().startswith("$")):  # stable
        name = stored_name(raw[label])
        base, suffix = name, 2
        while name in taken:
            name, suffix = f"{base}_{suffix}", suffix + 1
        taken.add(name)
        named[label] = name
    # In the file's order again: keep_columns breaks ties in filled by it.
    names = {label: named[label] for label in labels}
    frame, mapping, dropped = keep_columns(texts, filled, names, keep, room, dimensions.origins)
    return frame, mapping, dropped + dimensions.unbuilt


def keep_columns(
    texts: Mapping[str, pl.Series],
    filled: Mapping[str, int],
    names: Mapping[str, str],
    keep: frozenset[str],
    room: int,
    origins: Mapping[str, str] | None = None,
) -> tuple[pl.DataFrame, dict[str, str], tuple[str, ...]]:
    """The columns of ``names`` (label -> stored name, in the file's order) a workspace keeps:
    those whose stored name is in ``keep``, then the ``room`` most ``filled`` others (a vendor's
    ``$`` properties after the others equally filled). Returns them
    as String columns under their stored names, stored name -> source column (``origins``, else
    the label), and the stored names of the others, left out. Events' dimensions and feedback's
    attributes are chosen alike."""
    kept = {label for label in names if names[label] in keep}
    # Equally filled, the user's own properties before a vendor's (`$browser`): a file of 47
    # vendor properties on every row kept 30 of them and left out the `plan` every row had too.
    others = sorted((label for label in names if label not in kept), key=lambda label: (-filled[label], "$" in label))
    kept |= set(others[: max(room, 0)])
    columns = [texts[label].rename(names[label]) for label in names if label in kept]
    mapping = {names[label]: (origins or {}).get(label, label) for label in names if label in kept}
    dropped = tuple(names[label] for label in names if label not in kept)
    return pl.DataFrame(columns, schema=dict.fromkeys((c.name for c in columns), pl.String)), mapping, dropped


def check_timezone(timezone: str) -> None:
    """Rejected unless ``timezone`` is an IANA zone name such as Europe/Berlin."""
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
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


def read_table(sample: Sample) -> tuple[pl.DataFrame, list[RowError]]:
    """A CSV (every column as text) or Parquet (types kept) file, with ``_row``: the spreadsheet row
    for CSV (header = row 1), the record number for Parquet; and the CSV rows that cannot be read,
    left out of the frame as one error each (so --skip-bad-rows loads the rest, and without it
    they reject the file with their rows named): a row with more or fewer fields than the header,
    and a last line cut short with no line break after it (a file cut off while copying)."""
    if sample.layout == "csv":
        from pmkit.sources.csvfile import read_csv_rows

        frame, ragged = read_csv_rows(sample, chunked=True)
        return frame, _cut_off(sample, frame, ragged)
    if sample.layout != "parquet":
        raise Rejected(
            [RowError(None, None, f"expected a CSV or Parquet file, got {sample.layout} (export the events as CSV)")]
        )
    try:
        frame = pl.read_parquet(sample.path, glob=False)  # a name is never a pattern (`ev*.parquet`)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise Rejected(
            [RowError(None, None, f"the Parquet file cannot be read ({exc}); it may be cut off, export it again")]
        ) from exc
    if frame.height == 0:
        raise Rejected([RowError(None, None, "the file has no rows (export it again with data)")])
    return frame.with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(ROW)), []


def _cut_off(sample: Sample, frame: pl.DataFrame, ragged: list[RowError]) -> list[RowError]:
    """``ragged`` with its last error said as a cut-off file when it is the file's last line and
    no line break follows it (``...,u1,log`` of ``event_time,user_id,event,plan``). A cut inside
    the last field cannot be seen (``plan`` ``fr`` of ``free``)."""
    if not ragged or ragged[-1].row is None or ragged[-1].row <= frame[ROW].max():
        return ragged
    with open(sample.path, "rb") as handle:
        handle.seek(0, 2)
        handle.seek(max(0, handle.tell() - 65536))
        tail = handle.read()
    if tail.endswith((b"\n", b"\r")):
        return ragged
    encoding = "utf-8" if sample.encoding in ("utf-8-sig", "binary") else sample.encoding
    last_line = tail.rsplit(b"\n", 1)[-1].decode(encoding, errors="replace")
    fields = next(csv.reader([last_line], delimiter=sample.delimiter or ","), [])
    header_width = len(sample.columns) or frame.width - 1  # the file's own (a `_row` of its own dropped)
    if last_line.count('"') % 2 or len(fields) >= header_width:
        return ragged
    message = f"this row has {len(fields)} of {header_width} fields and no line break after it (the file may be cut off; export it again)"
    return [*ragged[:-1], RowError(ragged[-1].row, None, message)]


CUT_OFF_LINE = "this line is not a complete JSON object (the file may be cut off; export it again)"
NOT_AN_OBJECT_LINE = "this line is not a JSON object (expected one object per line)"


def read_records(sample: Sample) -> tuple[Iterator[tuple[int, dict]], list[RowError]]:
    """The file's records with their row: JSON lines (plain or gzip), a JSON array, CSV or Parquet.

    A JSON line that is not a complete object (a file cut off while copying) is a row error, not a
    reason to stop reading. The error list fills while the records are consumed.
    """
    errors: list[RowError] = []
    if sample.layout in ("csv", "parquet"):
        frame, errors = read_table(sample)
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
            errors.append(RowError(number, None, CUT_OFF_LINE))
            continue
        except RecursionError:
            errors.append(RowError(number, None, TOO_DEEP))
            continue
        if isinstance(value, dict):
            yield number, value
        else:
            errors.append(RowError(number, None, NOT_AN_OBJECT_LINE))


def read_text(path: Path, encoding: str) -> str:
    """The whole file as text; gzip content (Amplitude's ``.json.gz``) is unpacked first."""
    data, encoding = _unpacked(path, encoding)
    return data.decode("utf-8" if encoding == "binary" else encoding, errors="replace")


def _unpacked(path: Path, encoding: str) -> tuple[bytes, str]:
    """The file's bytes, gzip content unpacked, and the codec to decode them with."""
    data = path.read_bytes()
    if data.startswith(GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise Rejected(
                [RowError(None, None, f"the gzip file cannot be unpacked ({exc}); it may be cut off, export it again")]
            ) from exc
        encoding = "utf-8-sig" if data.startswith(UTF8_BOM) else encoding
    return data, encoding


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


SPREAD_PREFIX = "properties."


def properties_of(record: Mapping[str, object], read: frozenset[str] = frozenset()) -> dict[str, object]:
    """A PostHog or Mixpanel record's properties: its ``properties`` object (or JSON text of one)
    and, from a table that spreads them over columns, each ``properties.$os``-style field (in
    any case: ``PROPERTIES.$OS`` from a warehouse), the object's own value first.

    A warehouse writes the whole column name upper case, the property's part too: a spread
    column of one of the properties the vendor ``read`` (lower case) is taken in any case, under
    that name, so ``PROPERTIES.$SESSION_ID`` is the session, not a dimension. Other property
    names keep their case (``PROPERTIES.Plan`` stays ``Plan``).

    >>> properties_of({"PROPERTIES.$SESSION_ID": "s1", "PROPERTIES.Plan": "pro"}, frozenset({"$session_id"}))
    {'$session_id': 's1', 'Plan': 'pro'}
    """
    properties = dict(parse_json_object(record.get("properties"), "properties"))
    spread = [(key[len(SPREAD_PREFIX) :], value) for key, value in record.items() if is_spread_property(key)]
    # A vendor's field in another case is that field only where the vendor's own spelling is not
    # there too: beside `properties.time`, `properties.Time` is a property of the user's (it was
    # dropped; review).
    exact = {name for name, _ in spread if name in read} | {name for name in properties if name in read}
    for name, value in spread:
        if name.lower() in read and name.lower() not in exact:
            properties.setdefault(name.lower(), value)
        else:
            properties.setdefault(name, value)
    return properties


def is_spread_property(key: str) -> bool:
    """A column of one property: ``properties.$os``, ``PROPERTIES.$OS``."""
    return key[: len(SPREAD_PREFIX)].lower() == SPREAD_PREFIX


def vendor_fields(record: Mapping[str, object], names: frozenset[str]) -> dict[str, object]:
    """The record's fields among a vendor's top-level ``names`` (lower case), found whatever
    their case: warehouses write column names upper case (Snowflake unloads ``EVENT_TIME``).
    A field spelt as the vendor spells it wins over other spellings, and of those the record's
    first. Property keys inside the fields are the user's and keep their case.

    >>> vendor_fields({"EVENT_TIME": "2026-03-01", "Country": "DE", "x": 1}, frozenset({"event_time", "country"}))
    {'event_time': '2026-03-01', 'country': 'DE'}
    """
    return {name: record[key] for name, key in _spellings(tuple(record), names)}


@functools.lru_cache(maxsize=256)
def _spellings(keys: tuple[str, ...], names: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """(name, key) for each of ``names`` among ``keys``. Cached: the rows of a CSV or Parquet file,
    and most JSON lines, have the same keys, and going through the 49 of an Amplitude record took
    10.6 us a record against 2.7 cached (the record path reads 100k such lines in 3.6 s)."""
    found: dict[str, str] = {}
    for key in keys:
        name = key.strip().lower()  # as Sample.has detects it
        if name in names and (name not in found or key == name):
            found[name] = key
    return tuple(found.items())


# ---------------------------------------------------------------------------------------------
# JSON lines by column: the fast path
#
# Reading 1M JSON lines record by record (json.loads, flatten, text_cell) takes tens of seconds;
# Arrow's JSON reader types each field for all lines in a few. The fast path must give exactly
# the record path's result, so it reads nothing it cannot reproduce and raises NotExact instead,
# and the file is read record by record. Arrow was chosen over Polars' reader because it fails
# loudly where Polars quietly converts: a field that is a string in one line and a number in
# another, a repeated key, a key missing from the schema. What neither keeps is how a number was
# written, and Python's text differs: 49 -> '49' but 49.0 -> '49.0'. A float column's fractions
# are floats whatever their spelling; its whole numbers are looked up in the line's text.


class NotExact(Exception):
    """The fast path cannot promise the record path's result for this file; the message says why."""


@dataclass(frozen=True)
class LineTexts:
    """The raw text of each record: segment ``segments[i]`` of ``data``, which runs from
    ``offsets[k]`` to ``offsets[k + 1]`` (its line break included). Every segment is UTF-8."""

    data: pa.Buffer
    offsets: np.ndarray
    segments: np.ndarray

    def lines(self, records: Iterable[int]) -> list[str]:
        """A few records' lines, for Python."""
        bounds = ((self.offsets[k], self.offsets[k + 1]) for k in self.segments[list(records)])
        return [_piece(self.data, start, end).decode("utf-8") for start, end in bounds]

    def column(self, records: pl.Series) -> pl.Series:
        """Many records' lines, for Polars."""
        return self._segment_column.gather(self.segments[records.to_numpy()])

    @cached_property
    def _segment_column(self) -> pl.Series:
        # An Arrow column over ``data`` itself, which Polars takes without copying: 30 ms for 1 GB.
        offsets = pa.py_buffer(self.offsets.astype(np.int64))
        every = pa.LargeStringArray.from_buffers(len(self.offsets) - 1, offsets, self.data)
        return pl.Series("line", every, dtype=pl.String)


@dataclass(frozen=True)
class JsonColumn:
    """One field of every record as Arrow typed it (String, Int64, Float64, Boolean, Null, Struct,
    List), with its key and the records' text to find how each whole number was written."""

    key: str
    values: pl.Series
    lines: LineTexts


@dataclass(frozen=True)
class JsonFields:
    """The fields of one JSON object of every record (the record itself, or a nested object). The
    record's fields stay Arrow arrays until asked for: most exports carry fields no vendor reads."""

    arrays: Mapping[str, pl.Series | pa.ChunkedArray]
    height: int
    lines: LineTexts
    # The key a field has in the lines where it differs from its name here (``vendor_fields``).
    keys: Mapping[str, str] = field(default_factory=dict)

    def __contains__(self, key: str) -> bool:
        return key in self.arrays

    def __getitem__(self, name: str) -> JsonColumn:
        """The field's column; all null when no record has the key."""
        key = self.keys.get(name, name)
        values = self.arrays.get(name)
        if values is None:
            values = null_column(self.height, pl.Null, key)
        elif not isinstance(values, pl.Series):
            values = _polars(key, values)
        return JsonColumn(key, values, self.lines)

    def vendor_fields(self, names: frozenset[str]) -> JsonFields:
        """``vendor_fields`` of every line: the fields among ``names`` under those names, each
        column keeping its key as the lines spell it (``JsonColumn.key``); NotExact for a field
        spelt two ways, where a record's choice depends on which keys it has, not which are null."""
        found: dict[str, list[str]] = {}
        for key in self.arrays:
            name = key.strip().lower()
            if name in names:
                found.setdefault(name, []).append(key)
        for name, keys in found.items():
            if len(keys) > 1:
                raise NotExact(f'"{name}" is spelt {len(keys)} ways ({", ".join(keys)})')
        return JsonFields(
            {name: self.arrays[keys[0]] for name, keys in found.items()},
            self.height,
            self.lines,
            {name: keys[0] for name, keys in found.items() if keys[0] != name},
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self.arrays)

    def items(self) -> Iterator[tuple[str, JsonColumn]]:
        return ((key, self[key]) for key in self.arrays)

    def object(self, key: str) -> JsonFields:
        """The fields of a nested object, given as an object or as JSON text of one (PostHog), or
        null; NotExact if the field holds anything else, or text that is not one JSON object."""
        values = self[key].values
        if values.dtype == pl.Null:
            return JsonFields({}, self.height, self.lines)
        if isinstance(values.dtype, pl.Struct):
            fields = values.struct.unnest()
            return JsonFields({name: fields[name] for name in fields.columns}, self.height, self.lines)
        if values.dtype == pl.String:
            return _objects_in_text(key, values)
        raise NotExact(f'"{key}" is not a JSON object in every line')


def _polars(key: str, values: pa.ChunkedArray) -> pl.Series:
    try:
        return pl.Series(key, values)
    except pl.exceptions.PolarsError as exc:
        raise NotExact(f'"{key}" cannot be read into Polars ({exc})') from exc


def _objects_in_text(key: str, texts: pl.Series) -> JsonFields:
    """Fields of JSON text, one object per record, read by Arrow as lines of their own. Like
    ``parse_json_object``, null and "" are {}; anything else must be one object on one line."""
    texts = texts.fill_null("")
    texts = _where(texts != "", texts).fill_null("{}")
    objects = texts.str.strip_chars(" \t\r\n").str.starts_with("{")  # `null` would be a record of nulls
    if texts.str.contains("[\n\ufeff]").any() or not objects.all():  # (a BOM, Arrow would skip)
        raise NotExact(f'"{key}" holds text that is not one JSON object per line')
    body = pa.py_buffer((texts.str.join("\n").item() + "\n").encode("utf-8"))
    ends = texts.str.len_bytes().cast(pl.Int64).cum_sum().to_numpy() + np.arange(len(texts)) + 1
    offsets = np.concatenate(([0], ends))
    lines = LineTexts(body, offsets, np.arange(len(texts)))
    table = _arrow_json(body, offsets)
    if table.num_rows != len(texts):
        raise NotExact(f'"{key}" holds text that is not one JSON object per line')
    _check_finite(table)
    return JsonFields({name: table.column(name) for name in table.column_names}, len(texts), lines)


@dataclass(frozen=True)
class JsonLines:
    """A JSON-lines file read by column: the top-level fields, each record's line number, and the
    error for a cut-off last line (every other bad line sends the file to the record path)."""

    fields: JsonFields
    rows: np.ndarray
    errors: tuple[RowError, ...]


# Fields and text that the records flatten into, by canonical name and by dimension label.
FlattenColumns = Callable[[JsonFields], tuple[dict[str, pl.Series], dict[str, JsonColumn]]]
# A JSON number literal: -12, 0.5, 49.0, 1e3, 2.5E-7
NUMBER_LITERAL = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
# A JSON array or object with no array or object inside: ["beta", "new-nav"], {"plan": "pro"}
FLAT_CONTAINER = r'\[(?:"(?:[^"\\]|\\.)*"|[^"\\\[\]{}])*\]|\{(?:"(?:[^"\\]|\\.)*"|[^"\\\[\]{}])*\}'
# Keys every JSON writer writes literally ($os, plan, geo.country, utm-source); a key with other
# characters may be escaped (Go writes & as \u0026), so its literal could not be found by name.
LITERAL_KEY = re.compile(r"[A-Za-z0-9_$ .:-]+")
# Python's str.isspace() is Unicode White_Space (\s) plus the separators \x1c-\x1f.
PYTHON_BLANK = r"^[\s\x1c-\x1f]*$"
# Arrow's schema is inferred from the first MiB, then every text field is declared as text so
# that Arrow keeps it as written instead of turning ISO-looking text into timestamps.
SCHEMA_HEAD_BYTES = 1 << 20
# Arrow parses blocks in parallel; 16 MiB blocks read 1 GB of lines in 3.0 s, 1 MiB ones in 4.2.
# A line longer than a block is an Arrow error, so such a file is read record by record.
ARROW_BLOCK_BYTES = 16 << 20
# Records whose reference reading is compared with the columns' (spread over the file).
SPOT_CHECKS = 16
# The bytes a line may start with and still be blank: space, tab, \r, or none (\n).
BLANK_START = np.frombuffer(b" \t\r\n", np.uint8)


def read_json_lines(sample: Sample) -> JsonLines:
    """A JSON-lines file by column; NotExact if any line might read differently than by record."""
    if sample.layout != "jsonl":
        raise NotExact(f"a {sample.layout} file")
    data, encoding = _mapped(sample.path, sample.encoding)
    if encoding == "utf-8-sig" and _piece(data, 0, 3) == UTF8_BOM:
        data = data.slice(3)
    elif encoding not in ("utf-8", "utf-8-sig", "binary"):
        raise NotExact(f"{encoding} text")
    if _piece(data, 0, 3) == UTF8_BOM:  # Arrow skips it; the record path's first line starts with it
        raise NotExact("a byte order mark that is part of the first line")
    if not data.size:
        raise NotExact("an empty file")
    starts, ends = _segments(data)
    if not _is_utf8(data.slice(0, starts[-1])):  # the record path reads such bytes as U+FFFD
        raise NotExact("bytes that are not UTF-8")  # (after the last line break: a character cut off)
    # Lines of spaces, tabs or \r are skipped by both readers; any other blank line (a \x0c, a
    # no-break space) is one Arrow cannot parse, so such a file never reaches the count check.
    first_bytes = np.frombuffer(data, np.uint8)[np.minimum(starts, data.size - 1)]
    candidates = np.flatnonzero((ends == starts) | np.isin(first_bytes, BLANK_START))
    kept = np.ones(len(starts), dtype=bool)
    kept[[i for i in candidates.tolist() if not _piece(data, starts[i], ends[i]).strip(b" \t\r")]] = False
    kept[-1] = False  # the part after the last line break, checked below
    keep = np.flatnonzero(kept)
    # Arrow reads a line `null` as a record of nulls; for Python it is not an object. Every other
    # JSON value that is not an object is an Arrow error.
    indented = keep[first_bytes[keep] != ord("{")].tolist()
    if any(not _piece(data, starts[i], ends[i]).lstrip(b" \t\r").startswith(b"{") for i in indented):
        raise NotExact("a line that is not a JSON object")
    whole, errors = _last_line(_piece(data, starts[-1], data.size), len(starts))
    if whole:
        keep = np.append(keep, len(starts) - 1)
    if not keep.size:
        raise NotExact("no complete lines")
    offsets = np.append(starts, data.size) if whole else starts
    table = _arrow_json(data.slice(0, int(offsets[-1])), offsets)
    if table.num_rows != keep.size:  # Arrow reads `{"a": 1} {"a": 2}` as two records
        raise NotExact("a line that holds more or less than one JSON object")
    _check_finite(table)
    lines = LineTexts(data, offsets, keep)
    arrays = {key: table.column(key) for key in table.column_names}
    return JsonLines(JsonFields(arrays, table.num_rows, lines), keep + 1, tuple(errors))


def _mapped(path: Path, encoding: str) -> tuple[pa.Buffer, str]:
    """The file's bytes as Arrow sees them: a plain file is memory-mapped, not copied (0.1 s for
    1 GB against 0.8 s to read it into Python); gzip content is unpacked as for ``read_text``."""
    with open(path, "rb") as handle:
        packed = handle.read(2) == GZIP_MAGIC
    if packed:
        data, encoding = _unpacked(path, encoding)
        return pa.py_buffer(data), encoding
    return pa.memory_map(str(path)).read_buffer(), encoding


def _piece(data: pa.Buffer, start: int, end: int) -> bytes:
    start, end = int(start), int(min(end, data.size))
    return data.slice(start, max(0, end - start)).to_pybytes()


def _is_utf8(data: pa.Buffer) -> bool:
    """Arrow's UTF-8 check, vectorised, of the whole buffer as one text."""
    text = pa.LargeStringArray.from_buffers(1, pa.py_buffer(np.array([0, data.size], np.int64)), data)
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _last_line(tail: bytes, line: int) -> tuple[bool, list[RowError]]:
    """Whether the text after the last line break is a record to read, or the error it is: a line
    cut off while copying, as the record path reports it."""
    text = tail.decode("utf-8", errors="replace").strip()
    if not text:
        return False, []
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return False, [RowError(line, None, CUT_OFF_LINE)]
    if not isinstance(value, dict):
        return False, [RowError(line, None, NOT_AN_OBJECT_LINE)]
    if text != tail.decode("utf-8", errors="ignore").strip():
        raise NotExact("bytes that are not UTF-8")
    return True, []


def _segments(data: pa.Buffer) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of every \\n-separated segment (the last one follows the last \\n)."""
    values = np.frombuffer(data, np.uint8)
    step = 1 << 24  # in chunks: a 1 GB comparison at once would allocate 1 GB
    newlines = np.concatenate(
        [np.flatnonzero(values[at : at + step] == 10) + at for at in range(0, len(values), step)] or [np.zeros(0, int)]
    )
    return np.concatenate(([0], newlines + 1)), np.concatenate((newlines, [data.size]))


def _arrow_json(body: pa.Buffer, offsets: np.ndarray) -> pa.Table:
    """All lines through Arrow (``offsets``: where they start), with the text fields seen in the
    first MiB declared as text; a text field first met later and read as times is declared in a
    second read."""
    head = body.slice(0, int(offsets[min(np.searchsorted(offsets, SCHEMA_HEAD_BYTES), len(offsets) - 1)]))
    table = _arrow_read(body, pa.schema(_declared(_arrow_read(head, check=False).schema)))
    if _has_times(table.schema):
        table = _arrow_read(body, pa.schema(_declared(table.schema)))
        if _has_times(table.schema):
            raise NotExact("text that Arrow keeps reading as times")
    return table


def _arrow_read(data: pa.Buffer, declared: pa.Schema | None = None, *, check: bool = True) -> pa.Table:
    options = pa_json.ParseOptions(explicit_schema=declared, unexpected_field_behavior="infer")
    try:
        table = pa_json.read_json(
            pa.BufferReader(data), read_options=pa_json.ReadOptions(block_size=ARROW_BLOCK_BYTES), parse_options=options
        )
        if check:  # Arrow 26 infers [null, "a"] as an array with a child too short (declared, fine)
            table.validate()
        return table
    except pa.ArrowException as exc:
        raise NotExact(f"Arrow does not read it the same way ({str(exc).splitlines()[0]})") from exc


def _check_finite(table: pa.Table) -> None:
    # Python reads NaN and Infinity, Arrow also -NaN and Inf, which are bad lines for Python.
    if not all(_all_finite(column) for column in table.columns):
        raise NotExact("NaN or Infinity")


def _all_finite(values: pa.ChunkedArray) -> bool:
    """No NaN or infinite number anywhere in the column, nested objects and arrays included."""
    if pa.types.is_floating(values.type):
        return pc.all(pc.is_finite(values)).as_py() is not False
    if pa.types.is_struct(values.type):
        return all(_all_finite(pc.struct_field(values, [i])) for i in range(values.type.num_fields))
    if pa.types.is_list(values.type) or pa.types.is_large_list(values.type):
        return _all_finite(pc.list_flatten(values))
    return True


def _declared(fields: Iterable[pa.Field]) -> list[pa.Field]:
    """Text fields (and text Arrow took for times: "2026-03-01"), in objects and arrays too,
    declared as text so that Arrow keeps them as written; the rest is left to infer. (A declared
    array also spares Arrow 26 inferring ``[null, "a"]`` into a broken array.)"""
    declared = []
    for column in fields:
        kind = _declared_type(column.type)
        if kind is not None:
            declared.append(pa.field(column.name, kind))
    return declared


def _declared_type(kind: pa.DataType) -> pa.DataType | None:
    if pa.types.is_struct(kind):
        return pa.struct(_declared(kind))
    if pa.types.is_string(kind) or pa.types.is_temporal(kind):
        return pa.string()
    if pa.types.is_list(kind) and not pa.types.is_nested(kind.value_type):
        item = _declared_type(kind.value_type)
        return None if item is None else pa.list_(item)
    return None


def _has_times(fields: Iterable[pa.Field]) -> bool:
    return any(
        pa.types.is_temporal(column.type) or (pa.types.is_struct(column.type) and _has_times(column.type))
        for column in fields
    )


def json_present(column: JsonColumn) -> pl.Series:
    """Where ``text_cell`` of the value is not null: not null, and not "" for text."""
    values = column.values
    if values.dtype == pl.String:
        return (values.str.len_bytes() > 0).fill_null(False)
    return values.is_not_null()


def json_texts(column: JsonColumn) -> pl.Series:
    """``text_cell`` of every value: text as it is ("" as null), booleans as true / false, numbers
    as Python writes them (49 -> '49', 49.0 -> '49.0', 1e3 -> '1000.0'), arrays and objects as
    compact JSON with sorted keys (``{"a":1,"b":[2]}``). NotExact for NaN, Infinity and arrays or
    objects nested in arrays or objects."""
    values = column.values
    dtype = values.dtype
    if dtype == pl.String:
        return _where(values.str.len_bytes() > 0, values)
    if dtype == pl.Boolean:
        return pl.select(pl.when(values).then(pl.lit("true")).when(~values).then(pl.lit("false"))).to_series()
    if dtype.is_integer():
        return values.cast(pl.String)
    if dtype == pl.Null:
        return values.cast(pl.String)
    if dtype == pl.Float64:
        return _number_texts(column)
    if isinstance(dtype, (pl.Struct, pl.List)):
        return _nested_texts(column)
    raise NotExact(f'"{column.key}" holds {dtype} values')


def _where(mask: pl.Series, values: pl.Series) -> pl.Series:
    return pl.select(pl.when(mask).then(values)).to_series().rename(values.name)


def _number_texts(column: JsonColumn) -> pl.Series:
    values = column.values
    if not values.is_finite().fill_null(True).all():
        raise NotExact(f'"{column.key}" holds NaN or Infinity')
    texts = float_texts(values)
    whole = (values == values.floor()).fill_null(False)
    if not whole.any():
        return texts
    index = whole.arg_true()
    integers = _integer_literals(column, index, values.gather(index))
    written = integers.is_not_null()
    return texts.scatter(index.filter(written), integers.filter(written))


def _integer_literals(column: JsonColumn, records: pl.Series, values: pl.Series) -> pl.Series:
    """For whole numbers of a float column: the literal if it was written as an int (``49``,
    ``-0`` as ``0``), null if written as a float (``49.0``, ``4.9e1``). Every ``"key": <number>``
    of the line with the same value is a candidate (the key may be in other objects of the line
    too, or end another key: ``"a\\"key"``); NotExact unless the candidates agree."""
    lines = column.lines.column(records)
    found = pl.DataFrame({"record": pl.int_range(len(records), eager=True), "value": values, "match": lines})
    found = found.with_columns(pl.col("match").str.extract_all(_key_at(column.key) + NUMBER_LITERAL)).explode("match")
    literal = pl.col("match").str.extract(f"({NUMBER_LITERAL})$", 1)
    candidates = found.with_columns(literal=literal).filter(pl.col("literal").cast(pl.Float64) == pl.col("value"))
    candidates = candidates.with_columns(
        integer=pl.when(~pl.col("literal").str.contains("[.eE]")).then(pl.col("literal").str.replace("^-0$", "0"))
    )
    agreed = candidates.group_by("record").agg(
        pl.col("integer").first(), (pl.col("integer").n_unique() == 1).alias("agree")
    )
    if agreed.height != len(records) or not agreed["agree"].all():
        raise NotExact(f'"{column.key}" is written more than one way in a line')
    return agreed.sort("record")["integer"]


def _nested_texts(column: JsonColumn) -> pl.Series:
    """``json_cell`` of nested values. Arrays of text, booleans or whole numbers are what Arrow
    read; for objects (a null and a missing key read alike) and arrays of floats (49 and 49.0),
    each distinct text of the value, a flat array or object (no arrays or objects inside), goes
    through Python's json. NotExact for deeper nesting, and unless the key holds an array or object
    once in the line (a nested value is not checked as a number is)."""
    values = column.values
    inner = values.dtype.inner if isinstance(values.dtype, pl.List) else None
    if inner is not None and (inner in (pl.String, pl.Boolean, pl.Null) or inner.is_integer()):
        # Arrays of text, booleans or whole numbers read the same from Arrow (["beta", null]).
        distinct = values.unique().drop_nulls()
        cells = pl.DataFrame(
            {"value": distinct, "text": pl.Series([json_cell(v) for v in distinct.to_list()], dtype=pl.String)}
        )
        found = values.to_frame("value").join(cells, on="value", how="left", maintain_order="left")
        return found["text"].rename(column.key)
    present = values.is_not_null()
    texts = null_column(len(present), pl.String, column.key)
    if not present.any():
        return texts
    index = present.arg_true()
    lines = column.lines.column(index)
    key_at = _key_at(column.key)
    if not (lines.str.count_matches(key_at + r"[\[{]") == 1).all():
        raise NotExact(f'"{column.key}" holds an array or object more than once in a line')
    written = lines.str.extract(f"{key_at}({FLAT_CONTAINER})", 1)
    if written.null_count():
        raise NotExact(f'"{column.key}" holds arrays or objects inside arrays or objects')
    cells = {text: json_cell(json.loads(text)) for text in written.unique().to_list()}
    return texts.scatter(index, written.replace_strict(cells, return_dtype=pl.String))


def _key_at(key: str) -> str:
    """A regex for ``"key":``, where the key is written as it is (the line's raw text, not its
    value, is searched). NotExact for keys a writer may escape (``a/b`` as ``a\\/b``)."""
    if not LITERAL_KEY.fullmatch(key):
        raise NotExact(f'"{key}" may be escaped in the file')
    escaped = re.sub(r"([$.-])", r"\\\1", key)
    return rf'"{escaped}"[ \t\r\n]*:[ \t\r\n]*'


def float_texts(values: pl.Series) -> pl.Series:
    """``repr`` of each float. Polars writes the same shortest digits, and switches to an exponent
    at the same 1e16, but writes 1e-05 as 0.00001: numbers below 1e-4 go through Python."""
    texts = values.cast(pl.String)
    tiny = ((values != 0) & (values.abs() < 1e-4)).fill_null(False)
    if tiny.any():
        index = tiny.arg_true()
        texts = texts.scatter(index, [repr(value) for value in values.gather(index).to_list()])
    return texts


def json_floats(column: JsonColumn) -> pl.Series:
    """``float(value)`` of every value as Python computes it; NotExact where Python might not
    (text that is not a plain number such as ' 12' or '1_000', nested values)."""
    values = column.values
    if values.dtype == pl.String:
        text = values.filter(values.str.len_bytes() > 0)
        if not text.str.contains(r"^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$").all():  # 49, 49.00, 1e3
            raise NotExact(f'"{column.key}" holds text that is not a plain number')
        return values.cast(pl.Float64, strict=False)
    if values.dtype in (pl.Float64, pl.Boolean, pl.Null) or values.dtype.is_integer():
        return values.cast(pl.Float64)
    raise NotExact(f'"{column.key}" holds nested JSON values')


def is_python_blank(column: JsonColumn) -> pl.Series:
    """Where ``value is None or (isinstance(value, str) and not value.strip())``."""
    values = column.values
    if values.dtype == pl.String:
        return values.str.contains(PYTHON_BLANK).fill_null(True)
    return values.is_null()


# ---------------------------------------------------------------------------------------------
# Records -> events, by column when exact, else record by record


Flatten = Callable[[dict], tuple[dict[str, object], dict[str, object]]]


def _same_label(label: str) -> str:
    return label


@dataclass(frozen=True)
class RecordExport:
    """How one vendor's records become events. ``flatten(record)`` returns (canonical values,
    dimension values by source label), any JSON values, turned into text like a CSV cell; it is
    the reference. ``flatten_columns`` does the same for all lines of a JSON-lines file at once,
    and raises NotExact where it cannot promise the same result."""

    name: str  # PostHog
    flatten: Flatten
    sources: Mapping[str, str]
    flatten_columns: FlattenColumns | None = None
    timezone: str = "UTC"
    dimension_names: Callable[[str], str] = _same_label
    keep_dimensions: frozenset[str] = frozenset()  # ReadOptions.keep_dimensions
    dimension_room: int | None = None  # ReadOptions.dimension_room
    id_scope: tuple[str, ...] = ()  # build_events: the columns the vendor's id is unique within
    # Labels of the vendor's own bookkeeping (PostHog's `$sent_at`): no dimension unless named in
    # keep_dimensions.
    bookkeeping: Callable[[str], bool] | None = None
    # How the vendor ties a visit before sign-up to the user (``merged_identities``): "person" (an
    # id the vendor counts users by: every row of it is one user) or "device" (rows with no user
    # of their own are the user their device signed in as); None: user ids as they are.
    identity: str | None = None

    def kept(self, options: ReadOptions) -> RecordExport:
        """This export reading with ``options``'s dimensions to keep and room for others."""
        return replace(self, keep_dimensions=options.keep_dimensions, dimension_room=options.dimension_room)

    def dimensions_of(self, dims: dict) -> dict:
        """``dims`` (label -> value or column) without the vendor's bookkeeping, but for the
        labels ``keep_dimensions`` names."""
        if self.bookkeeping is None:
            return dims
        return {label: value for label, value in dims.items() if not self.bookkeeping(label) or self.keeps(label)}

    def keeps(self, label: str) -> bool:
        """Whether a dimension label is always kept (its stored name is in keep_dimensions)."""
        return stored_name(self.dimension_names(label)) in self.keep_dimensions

    def format_of(self, sample: Sample) -> str:
        return f"{self.name} {LAYOUT_NAMES.get(sample.layout, sample.layout.upper())}"


def build_from_records(sample: Sample, export: RecordExport) -> Parsed:
    """The events of a vendor export: by column if exact (JSON lines), else record by record.
    The mapping and the errors name the file's own fields as the file spells them."""
    spell = _file_spelling(sample)
    try:
        try:
            parsed = build_by_columns(sample, export)
        except NotExact as exc:
            logger.debug("%s: read record by record: %s", sample.path.name, exc)
            parsed = build_by_records(sample, export)
    except RecursionError:
        # A record nested past Python's recursion limit, past the lines ``sniff`` read: the record
        # path names the line it meets first; any other reader only knows the file.
        raise Rejected([RowError(None, None, TOO_DEEP)]) from None
    except Rejected as rejected:
        raise Rejected([replace(e, column=spell(e.column)) for e in rejected.errors]) from None
    return replace(
        parsed,
        mapping={name: spell(column) or column for name, column in parsed.mapping.items()},
        errors=tuple(replace(e, column=spell(e.column)) for e in parsed.errors),
    )


def _file_spelling(sample: Sample) -> Callable[[str | None], str | None]:
    """A vendor field's name (``event_time``, ``event_properties.revenue``) as the file spells its
    top-level part (``EVENT_TIME``, ``EVENT_PROPERTIES.revenue``: ``vendor_fields`` reads names in
    any case), or a spread property's whole column (``PROPERTIES.$SESSION_ID``); the mapping and
    the row errors named a column the file did not have."""
    columns = set(sample.columns)

    def plain(column: str) -> str:  # PostHog's own CSV download writes `*.timestamp` (posthog.STAR)
        return column.strip().lower().removeprefix("*.")

    spelled = {
        plain(column): column for column in sample.columns if column != plain(column) and plain(column) not in columns
    }

    def spell(name: str | None) -> str | None:
        if not name or not spelled:
            return name
        if name in spelled:  # a property's own column (``PROPERTIES.$SESSION_ID``)
            return spelled[name]
        head, dot, rest = name.partition(".")
        return spelled.get(head, head) + dot + rest

    return spell


def build_by_records(sample: Sample, export: RecordExport) -> Parsed:
    """Records -> canonical frame with ``export.flatten``, one record at a time."""
    records, errors = read_records(sample)
    rows: list[int] = []
    kept = [*CANONICAL, IDENTITY, IDENTIFIED] if export.identity else CANONICAL
    canonical: dict[str, list[str | None]] = {name: [] for name in kept}
    dimension_rows: list[dict[str, str]] = []
    filled: Counter[str] = Counter()
    for row, record in records:
        try:
            values, dims = export.flatten(record)
            dims = export.dimensions_of(dims)
        except RecordError as exc:
            errors.append(RowError(row, exc.column, exc.message))
            continue
        rows.append(row)
        for name in kept:
            canonical[name].append(text_cell(values.get(name)))
        texts = {label: text for label, value in dims.items() if (text := text_cell(value)) is not None}
        filled.update(texts.keys())
        dimension_rows.append(texts)
    if not rows and errors:
        raise Rejected(errors)
    if not rows:
        raise Rejected([RowError(None, None, "the file has no events (export it again with data)")])
    columns = pl.DataFrame({ROW: rows, **canonical}, schema={ROW: pl.Int64, **dict.fromkeys(kept, pl.String)})
    labels = _most_filled(filled, export)
    for attempt in range(2):
        dims = pl.DataFrame(
            {label: [d.get(label) for d in dimension_rows] for label in labels},
            schema=dict.fromkeys(labels, pl.String),
        )
        parsed = _build(sample, export, columns, dims, errors, _unbuilt(filled, labels))
        if attempt or not parsed.dropped_dimensions or parsed.frame.height == len(rows):
            return parsed
        # Rows left out by the checks (--skip-bad-rows) counted towards the columns built: the
        # good rows' own columns could go unbuilt. Counted again over the rows that load.
        loaded = set(parsed.frame[ROW].to_list())
        filled = _filled_in(filled, rows, dimension_rows, loaded)
        again = _most_filled(filled, export)
        if set(again) == set(labels):
            return parsed
        labels = again
    return parsed


def build_by_columns(sample: Sample, export: RecordExport) -> Parsed:
    """The same Parsed as ``build_by_records``, from a JSON-lines file read by column; NotExact if
    that cannot be promised. Dimension labels are ordered as the record path meets them (line of
    first value, then place in that record), which the reference ``flatten`` of those few records
    tells; the same records and a spread of others are compared value by value as a last check."""
    if export.flatten_columns is None:
        raise NotExact(f"{export.name} has no reading by column")
    records = read_json_lines(sample)
    values, dims = export.flatten_columns(records.fields)
    dims = export.dimensions_of(dims)
    present = {label: json_present(column) for label, column in dims.items()}
    filled = {label: int(mask.sum()) for label, mask in present.items()}
    first = {label: int(mask.arg_max()) for label, mask in present.items() if filled[label]}
    height = records.fields.height
    checked = sorted(set(first.values()) | set(np.linspace(0, height - 1, SPOT_CHECKS).astype(int).tolist()))
    reference = {}
    for index, line in zip(checked, records.fields.lines.lines(checked), strict=True):
        try:
            values_of_line, dims_of_line = export.flatten(json.loads(line))
            reference[index] = values_of_line, export.dimensions_of(dims_of_line)
        except RecordError as exc:
            raise NotExact(f"line {records.rows[index]}: {exc.message}") from exc

    def met(label: str) -> tuple[int, int]:
        order = list(reference[first[label]][1])
        if label not in order:
            raise NotExact(f"{label} is not in line {records.rows[first[label]]} by record")
        return first[label], order.index(label)

    counted = Counter({label: filled[label] for label in sorted(first, key=met)})
    labels = _most_filled(counted, export)
    kept = [*CANONICAL, IDENTITY, IDENTIFIED] if export.identity else CANONICAL
    texts = {name: values[name] for name in kept}
    columns = pl.DataFrame({ROW: records.rows, **texts}, schema={ROW: pl.Int64, **dict.fromkeys(kept, pl.String)})
    dim_texts = pl.DataFrame(
        {label: json_texts(dims[label]) for label in labels}, schema=dict.fromkeys(labels, pl.String)
    )
    for index, (record_values, record_dims) in reference.items():
        by_record = (
            [text_cell(record_values.get(name)) for name in kept],
            [text_cell(record_dims.get(label)) for label in labels],
            {label for label, value in record_dims.items() if text_cell(value) is not None},
        )
        by_column = (
            [columns[name][index] for name in kept],
            [dim_texts[label][index] for label in labels],
            {label for label, mask in present.items() if mask[index]},
        )
        if by_record != by_column:
            raise NotExact(f"line {records.rows[index]} reads differently by column")
    parsed = _build(sample, export, columns, dim_texts, list(records.errors), _unbuilt(counted, labels))
    if parsed.dropped_dimensions and parsed.frame.height < height:
        good = pl.Series(np.isin(records.rows, parsed.frame[ROW].to_numpy()))
        recounted = Counter({label: int((present[label] & good).sum()) for label in counted})
        if set(_most_filled(+recounted, export)) != set(labels):
            raise NotExact("the rows left out by the checks change the columns to build")  # record by record
    return parsed


def _filled_in(
    filled: Counter[str], rows: list[int], dimension_rows: list[dict[str, str]], loaded: set[int]
) -> Counter[str]:
    """``filled`` counted again over the ``loaded`` rows only, in the same order."""
    counts: Counter[str] = Counter()
    for row, texts in zip(rows, dimension_rows, strict=True):
        if row in loaded:
            counts.update(texts.keys())
    return Counter({label: counts[label] for label in filled if counts[label]})


def _most_filled(filled: Counter[str], export: RecordExport) -> list[str]:
    """The labels built as columns, in the order met: those always kept and the most filled,
    before the cap applies again after bad rows go."""
    top = {label for label, _ in filled.most_common(MAX_BUILT)}
    return [label for label in filled if label in top or export.keeps(label)]


def _unbuilt(filled: Counter[str], labels: list[str]) -> tuple[str, ...]:
    """The labels with values that ``_most_filled`` left out, in the order met."""
    built = set(labels)
    return tuple(label for label, count in filled.items() if count and label not in built)


def _build(
    sample: Sample,
    export: RecordExport,
    columns: pl.DataFrame,
    dims: pl.DataFrame,
    errors: list[RowError],
    unbuilt: tuple[str, ...] = (),
) -> Parsed:
    dimensions = Dimensions(
        dims,
        names={label: export.dimension_names(label) for label in dims.columns},
        unbuilt=tuple(dict.fromkeys(stored_name(export.dimension_names(label)) for label in unbuilt)),
    )
    return build_events(
        columns,
        export.sources,
        fmt=export.format_of(sample),
        timezone=export.timezone,
        dimensions=dimensions,
        errors=errors,
        keep_dimensions=export.keep_dimensions,
        dimension_room=export.dimension_room,
        id_scope=export.id_scope,
        identity=export.identity,
    )
