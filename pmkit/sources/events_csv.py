"""Events from pmkit's own CSV, and from any CSV or Parquet whose columns can be mapped.

pmkit's own layout is ``event_time,user_id,event[,event_id,session_id,revenue,...dimensions]``.
Any other table is mapped by column aliases (below, first match wins, names compared in lower case
with spaces, dots and dashes as ``_``, so ``Event Time`` is ``event_time``); ``Parsed.mapping``
shows the user which column became which. A file needs a time, a user and an event column to be
claimed here, so roadmap, objective and feedback files (which lack an event column) never are.
Delimiters ``,`` ``;`` and tab, and the encodings UTF-8, UTF-8 with BOM and Windows-1252 are
handled by ``sniff``/``read_csv_rows``; in ``;`` files amounts may use decimal commas (``49,50``).
"""

from __future__ import annotations

import re

import polars as pl

from pmkit.sources.base import ROW, Parsed, ReadOptions, Rejected, RowError, Sample
from pmkit.sources.events_common import INSERT_ID_SCOPE, Dimensions, build_events, read_table

KIND = "events"
FORMAT = "events table"

ALIASES: dict[str, tuple[str, ...]] = {
    "event_time": ("event_time", "timestamp", "time", "created_at", "datetime", "ts", "date"),
    # device_id last: it names a device, not a person, so it is used only when nothing else is there.
    "user_id": (
        "user_id",
        "distinct_id",
        "user_pseudo_id",
        "userid",
        "user",
        "person_id",
        "customer_id",
        "account_id",
        "device_id",
    ),
    "event": ("event", "event_name", "event_type", "action", "name"),
    "event_id": ("event_id", "uuid", "$insert_id", "insert_id", "message_id", "messageid", "id"),
    "session_id": ("session_id", "$session_id"),
    "revenue": ("revenue", "amount", "value", "price", "event_value_in_usd"),
}
# Ids compared with the event, user and time (INSERT_ID_SCOPE): a column named just `id` is often
# the row's number in its export, which restarts in the next week's file (as an event id it
# dropped that week's rows as repeats); an insert id is Mixpanel's or Amplitude's, unique only
# with those (as their own exports are read).
SCOPED_IDS = frozenset({"id", "$insert_id", "insert_id"})
REQUIRED_EXAMPLES = {
    "event_time": "a time column",
    "user_id": "a user column",
    "event": "an event column",
}


def column_key(name: str) -> str:
    """How column names are compared: ``Event Time`` and ``event.time`` are ``event_time``."""
    # Spaces, dots and dashes as `_`: "User ID" -> "user_id"; `$` is kept: "$insert_id".
    return re.sub(r"[\s.\-]+", "_", name.strip().lstrip("\ufeff").lower())


def map_columns(columns: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Canonical name -> source column, for the canonical columns an alias was found for.

    >>> map_columns(["timestamp", "distinct_id", "event_name", "plan"])
    {'event_time': 'timestamp', 'user_id': 'distinct_id', 'event': 'event_name'}
    """
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(column_key(column), column)
    found: dict[str, str] = {}
    for canonical, aliases in ALIASES.items():
        for alias in aliases:
            column = by_key.get(alias)
            if column is not None and column not in found.values():
                found[canonical] = column
                break
    return found


# 12-hour times are joined too: the parser refuses "2026-03-01 5:03 PM" naming both columns,
# where the time column alone was refused as if the date were not there (review).
TIME_OF_DAY = r"^\s*\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([AaPp][Mm])?\s*$"


def _time_of_day_with_date(
    frame: pl.DataFrame, columns: list[str], found: dict[str, str]
) -> tuple[pl.DataFrame, dict[str, str], str] | None:
    """A spreadsheet's separate date and time columns (``date,time,user_id,event`` with
    ``2026-03-01,23:30:00``) read as one time, "date time": the time column alone was refused as
    "'23:30:00' is not a valid time" on every row, the date column passed over (ingest QA).
    Returns the frame with the joined column, the mapping naming both, and the date column; None
    unless the time column holds only times of day and a column named date is there."""
    time_column = found.get("event_time")
    date_column = next((c for c in columns if column_key(c) == "date" and c not in found.values()), None)
    if time_column is None or date_column is None or column_key(time_column) != "time":
        return None
    values = frame[time_column].drop_nulls()
    if values.is_empty() or not values.str.contains(TIME_OF_DAY).all():
        return None
    joined = f"{date_column} + {time_column}"
    both = pl.concat_str(pl.col(date_column).str.strip_chars(), pl.col(time_column).str.strip_chars(), separator=" ")
    return frame.with_columns(both.alias(joined)), {**found, "event_time": joined}, date_column


def detect(sample: Sample) -> bool:
    if sample.layout not in ("csv", "parquet"):
        return False
    found = map_columns(sample.columns)
    return all(name in found for name in REQUIRED_EXAMPLES)


def _repeats_of_mapped_columns(frame: pl.DataFrame, found: dict[str, str]) -> set[str]:
    """The repeats (``user_id_duplicated_0``, as ``read_csv_rows`` names a header's second
    ``user_id``) of the columns read as time, user, event...: left out when they hold the same
    values, else the file is rejected naming the first row where they differ. Two user_id columns
    that disagree loaded by the first, the second kept as a dimension, without a word (ingest QA)."""
    repeats: set[str] = set()
    for source in found.values():
        for column in frame.columns:
            # The same name, or the same in another case or spelling (`User_ID`: the name that
            # maps alike; review).
            same = re.fullmatch(re.escape(source) + r"_duplicated_\d+", column) or column_key(column) == column_key(
                source
            )
            if column in (source, ROW) or not same:
                continue
            # As text: a Parquet's user_id as text beside User_ID as integers (review).
            differ = frame.filter(pl.col(source).cast(pl.String).ne_missing(pl.col(column).cast(pl.String)))
            if differ.height:
                row, first, second = differ.select(ROW, source, column).row(0)
                other = re.sub(r"_duplicated_\d+$", "", column)
                named = f"{source} twice" if other == source else f"{source} twice (as {source} and {other})"
                message = (
                    f"the header names {named} and the two columns differ ({_shown(first)} and {_shown(second)}): "
                    "remove the one that is not the file's"
                )
                raise Rejected([RowError(row, source, message)])
            repeats.add(column)
    return repeats


def _shown(value: object) -> str:
    return "an empty cell" if value is None else f"'{str(value)[:60]}'"


def read(sample: Sample, options: ReadOptions) -> Parsed:
    frame, errors = read_table(sample)
    source_columns = [c for c in frame.columns if c != ROW]
    found = map_columns(source_columns)
    missing = [name for name in REQUIRED_EXAMPLES if name not in found]
    if missing:
        wanted = "; ".join(f"{REQUIRED_EXAMPLES[name]} named one of {', '.join(ALIASES[name])}" for name in missing)
        shown = ", ".join(source_columns[:8])
        message = f"no {', '.join(missing)} column among {shown} (expected {wanted}; e.g. a header like event_time,user_id,event)"
        raise Rejected([RowError(1, None, message)])
    consumed = set(found.values()) | _repeats_of_mapped_columns(frame, found)
    time_of_day = _time_of_day_with_date(frame, source_columns, found)
    if time_of_day is not None:
        frame, found, date_column = time_of_day
        consumed |= {date_column}
    columns = frame.select(pl.col(ROW), *(pl.col(source).alias(name) for name, source in found.items()))
    dimensions = frame.select(c for c in source_columns if c not in consumed)
    own_layout = all(found.get(name) == name for name in REQUIRED_EXAMPLES)
    if sample.layout == "parquet":
        fmt = "events Parquet"
    else:
        fmt = "pmkit events CSV" if own_layout else "events CSV (mapped columns)"
    return build_events(
        columns,
        found,
        fmt=fmt,
        timezone=options.timezone,
        keep_dimensions=options.keep_dimensions,
        dimension_room=options.dimension_room,
        dimensions=Dimensions(dimensions),
        decimal_comma=sample.delimiter == ";",
        errors=errors,
        id_scope=INSERT_ID_SCOPE if column_key(found.get("event_id", "")) in SCOPED_IDS else (),
    )
