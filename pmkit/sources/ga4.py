"""GA4 BigQuery exports flattened to CSV (or Parquet).

Header seen in real flattened exports:
``event_date, event_timestamp, event_name, user_id, user_pseudo_id, platform, device.category,
geo.country, app_info.version``. ``event_timestamp`` is epoch microseconds (``1772359200000000``
is 2026-03-01T10:00:00Z); ``event_date`` (``20260301``, the day in the property's time zone) repeats
it and is left out.

Mapping: user = ``user_pseudo_id`` (the browser or app instance, the user GA4's BigQuery export
counts by), else ``user_id`` (an export of signed-in users' events may keep only that column; both
consumed, not kept as dimensions; a file needs one of the two). ``user_id`` first counted a user
who signed in during a visit twice that day: the events before it under the pseudo id, those
after under the user id (ingest QA). ``event_value_in_usd`` -> revenue;
``ga_session_id`` (or ``event_params.ga_session_id``) -> session_id. GA4 has no event id, so no
dedupe happens. Other columns are dimensions, dots as ``_`` (``geo.country`` -> ``geo_country``,
``device.category`` -> ``device_category``); ``geo.country`` is also kept as ``country`` to line
up with the other sources.
"""

from __future__ import annotations

import polars as pl

from pmkit.sources.base import ROW, Parsed, ReadOptions, Rejected, RowError, Sample
from pmkit.sources.csvfile import column_lookup
from pmkit.sources.events_common import MAX_BUILT, Dimensions, build_events, read_table, stored_name

KIND = "events"
FORMAT = "GA4"

REQUIRED = ("event_timestamp", "event_name")
# At least one: GA4 fills user_pseudo_id on every row, but an export of signed-in users' events
# may keep only user_id (such a file was refused as matching no known export).
USER_COLUMNS = ("user_pseudo_id", "user_id")
SESSION_COLUMNS = ("ga_session_id", "event_params.ga_session_id", "session_id")
DROPPED = ("event_date",)
# The value of an event_params entry: the one of these that is set (BigQuery's export schema).
VALUE_FIELDS = ("string_value", "int_value", "float_value", "double_value")
ALSO_AS = {"geo.country": "country"}


def flattened(frame: pl.DataFrame, keep: frozenset[str] = frozenset()) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """BigQuery's own nested layout (a Parquet export of the events table) as the flattened one:
    a struct's fields as ``geo.country``, ``device.web_info.browser``; a key/value list
    (``event_params``, ``user_properties``) as one column per key, ``event_params.ga_session_id``,
    holding whichever of ``string_value``, ``int_value``, ``float_value``, ``double_value`` is set
    (as text). Before, ``geo`` was one JSON text dimension, so no country, and the session id
    inside ``event_params`` was not found. Other lists (``items``) stay as they are.

    A list builds the ``MAX_BUILT`` keys most rows have, and those whose stored name is in ``keep``;
    the stored names of the others are returned (left out, as the dimension cap reports them):
    a 600 KB file of 4,000 keys made a column of every row for each, 5.3 GB. A name already taken
    (a ``geo.country`` column beside a ``geo`` struct) gets a ``(2)``: the struct's values had
    replaced the column's without a word."""
    unbuilt: list[str] = []
    while structs := [c for c, dtype in frame.schema.items() if isinstance(dtype, pl.Struct)]:
        for column in structs:
            fields = frame.schema[column].fields  # type: ignore[attr-defined]
            taken = set(frame.columns)
            names = [_free(f"{column}.{f.name}", taken) for f in fields]
            frame = frame.with_columns(
                pl.col(column).struct.field(f.name).alias(name) for f, name in zip(fields, names, strict=True)
            ).drop(column)
    for column, dtype in frame.schema.items():
        if _is_key_values(dtype):
            wide, left_out = _key_value_columns(frame, column, keep)
            unbuilt += left_out
            taken = set(frame.columns)
            wide = wide.rename({c: _free(c, taken) for c in wide.columns if c != ROW})
            frame = frame.join(wide, on=ROW, how="left").drop(column)
    return frame, tuple(unbuilt)


def _free(name: str, taken: set[str]) -> str:
    """``name``, or ``name (2)``, ``(3)``... when taken; the name returned is taken from then on."""
    chosen, n = name, 2
    while chosen in taken:
        chosen, n = f"{name} ({n})", n + 1
    taken.add(chosen)
    return chosen


def _is_key_values(dtype: pl.DataType) -> bool:
    inner = dtype.inner if isinstance(dtype, pl.List) else None  # type: ignore[attr-defined]
    if not isinstance(inner, pl.Struct):
        return False
    fields = {f.name: f.dtype for f in inner.fields}
    return set(fields) == {"key", "value"} and isinstance(fields["value"], pl.Struct)


def _key_value_columns(frame: pl.DataFrame, column: str, keep: frozenset[str]) -> tuple[pl.DataFrame, list[str]]:
    """``_row`` and a text column ``column.KEY`` per built key of the key/value list ``column``,
    and the stored names of the keys left out (``flattened``)."""
    pairs = frame.select(ROW, column).explode(column).unnest(column).filter(pl.col("key").is_not_null())
    value_fields = [f.name for f in pairs.schema["value"].fields]  # type: ignore[attr-defined]
    set_values = [pl.col("value").struct.field(name).cast(pl.String) for name in VALUE_FIELDS if name in value_fields]
    # The column's name in the pivot's values: a key named like the row index (``_row``) stays a key.
    pairs = pairs.select(
        ROW,
        (pl.lit(f"{column}.") + pl.col("key")).alias("name"),
        pl.coalesce(set_values).alias("value") if set_values else pl.lit(None, pl.String).alias("value"),
    ).filter(pl.col("value").is_not_null())
    counts = (
        pairs.group_by("name")
        .agg(pl.col(ROW).n_unique().alias("rows"))
        .sort(["rows", "name"], descending=[True, False])
    )
    names = counts["name"].to_list()
    built = {name for name in names[:MAX_BUILT]} | {name for name in names if stored_name(name) in keep}
    left_out = [stored_name(name) for name in names if name not in built]
    pairs = pairs.filter(pl.col("name").is_in(list(built)))
    if pairs.height == 0:
        return frame.select(ROW), left_out
    wide = pairs.pivot(on="name", index=ROW, values="value", aggregate_function="first")
    return wide, left_out


# How to export one row per event from BigQuery (a query for the user to run there).
ONE_ROW_PER_EVENT = (
    "Export one row per event: the table as Parquet (its nested event_params are read), or each "
    "parameter selected as a column, e.g. (SELECT value.int_value FROM UNNEST(event_params) WHERE "
    "key = 'ga_session_id') AS ga_session_id"
)


# The key column of a list unnested into one row per entry, by the list's kind: as a flat
# column, or (the first name) as a struct's field, `SELECT ..., p AS event_params FROM ...,
# UNNEST(event_params) p` written to Parquet (review).
PER_KEY_COLUMNS = {
    "event parameter": ("event_params.key", "event_params_key"),
    "user property": ("user_properties.key", "user_properties_key"),
    "item": ("items.item_id", "items_item_id"),
}


def _unnested_struct(frame: pl.DataFrame, name: str) -> str | None:
    """``name`` (``event_params.key``) when its list column holds one struct per row, not a list."""
    column, field = name.split(".", 1)
    found = column_lookup(frame, column)
    dtype = frame.schema[found] if found is not None else None
    if isinstance(dtype, pl.Struct) and field in {f.name for f in dtype.fields}:
        return f"{found}.{field}"
    return None


def _any_key_value_struct(frame: pl.DataFrame) -> str | None:
    """``<column>.key`` for a struct column of a key and a struct value, whatever its name:
    ``SELECT e.*, p FROM events e, UNNEST(event_params) p`` (review)."""
    for column, dtype in frame.schema.items():
        if isinstance(dtype, pl.Struct) and _is_key_values(pl.List(dtype)):
            return f"{column}.key"
    return None


def detect(sample: Sample) -> bool:
    return (
        sample.layout in ("csv", "parquet")
        and sample.has(*REQUIRED)
        and any(sample.has(column) for column in USER_COLUMNS)
    )


def read(sample: Sample, options: ReadOptions) -> Parsed:
    frame, errors = read_table(sample)
    # UNNEST(event_params), UNNEST(user_properties) or UNNEST(items), or BigQuery's "flatten
    # results": a row per entry, each event repeated; 2 events loaded as 5 (vendor QA). Looked for
    # in the columns as read (a nested export's parameter named "key" is flattened to
    # event_params.key, and such a file was refused), by name first, then any struct of a key and
    # a value as parameters (review).
    found = [
        (kind, column_lookup(frame, *names) or _unnested_struct(frame, names[0]))
        for kind, names in PER_KEY_COLUMNS.items()
    ]
    found.append(("event parameter", _any_key_value_struct(frame)))
    for kind, per_key in found:
        if per_key is not None:
            message = (
                f"one row per {kind} ({per_key}): each event is repeated for each of its {kind}s and "
                "would be counted as many times. " + ONE_ROW_PER_EVENT
            )
            raise Rejected([RowError(1, per_key, message)])
    frame, unbuilt = flattened(frame, options.keep_dimensions)
    found = {name: column_lookup(frame, name) for name in REQUIRED}
    missing = [name for name, column in found.items() if column is None]
    if missing:
        message = f"no {', '.join(missing)} column (a GA4 export has e.g. event_date,event_timestamp,event_name,user_id,user_pseudo_id)"
        raise Rejected([RowError(1, None, message)])
    time_column, event_column = (found[name] for name in REQUIRED)
    pseudo_column = column_lookup(frame, "user_pseudo_id")
    user_column = column_lookup(frame, "user_id")
    if pseudo_column is None and user_column is None:
        message = "no user_pseudo_id or user_id column (a GA4 export has e.g. event_date,event_timestamp,event_name,user_id,user_pseudo_id)"
        raise Rejected([RowError(1, None, message)])
    session_column = column_lookup(frame, *SESSION_COLUMNS)
    revenue_column = column_lookup(frame, "event_value_in_usd")
    user = pl.col(user_column).cast(pl.String) if user_column is not None else pl.lit(None, pl.String)
    if pseudo_column is not None:
        device = pl.col(pseudo_column).cast(pl.String).str.strip_chars()
        user = pl.when(device.str.len_bytes() > 0).then(device).otherwise(user)
    selected = [
        pl.col(ROW),
        pl.col(time_column).alias("event_time"),
        user.alias("user_id"),
        pl.col(event_column).alias("event"),
    ]
    sources = {
        "event_time": time_column,
        # Both, when both are there: a row with neither (a consent-mode ping) was said to have an
        # empty user_id, while the column every GA4 row should fill is user_pseudo_id.
        "user_id": " or ".join(c for c in (pseudo_column, user_column) if c is not None),
        "event": event_column,
    }
    for name, column in (("session_id", session_column), ("revenue", revenue_column)):
        if column is not None:
            selected.append(pl.col(column).alias(name))
            sources[name] = column
    consumed = {time_column, event_column, pseudo_column, user_column, session_column, revenue_column, ROW}
    consumed |= {column for column in frame.columns if column.lower() in DROPPED}
    kept = [column for column in frame.columns if column not in consumed]
    dimensions = frame.select(kept)
    names: dict[str, str] = {}
    origins: dict[str, str] = {}
    for column in kept:
        alias = ALSO_AS.get(column.lower())
        if alias is not None:
            label = f"{column} as {alias}"
            dimensions = dimensions.with_columns(pl.col(column).alias(label))
            names[label], origins[label] = alias, column
    return build_events(
        frame.select(selected),
        sources,
        fmt=f"GA4 {sample.layout.upper()}",
        timezone=options.timezone,
        keep_dimensions=options.keep_dimensions,
        dimension_room=options.dimension_room,
        dimensions=Dimensions(dimensions, names=names, origins=origins, unbuilt=unbuilt),
        epoch_unit="us",
        errors=errors,
    )
