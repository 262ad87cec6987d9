"""Mixpanel raw exports: one JSON object a line, ``{"event": ..., "properties": {...}}``.

A real line: ``{"event": "Signed up", "properties": {"time": 1602611311, "distinct_id": "u_123",
"$insert_id": "ABCDE", "mp_processing_time_ms": 1602625711874, "$os": "Mac OS X",
"mp_country_code": "DE"}}``. ``time`` is epoch seconds in exports and milliseconds in imports; the
unit is chosen from the column's magnitude (see ``events_common``). The same layout is read from
a CSV whose properties are spread over ``properties.time``, ``properties.distinct_id``, ...
columns, and from Parquet with those columns or one ``properties`` struct.

Mapping: ``properties.time`` -> event_time, ``properties.distinct_id`` -> user_id,
``properties.$insert_id`` -> event_id (Mixpanel's dedupe key, with the event, user and time), ``properties.$session_id`` ->
session_id, ``properties.revenue`` -> revenue, ``mp_country_code`` -> ``country``; every other
property becomes a dimension with its ``$`` dropped (``$os`` -> ``os``), except Mixpanel's own
ingestion bookkeeping (``IGNORED``). ``time`` is UTC; a project made before 2023 writes its own
zone's wall-clock time, read as such when ``ingest.mixpanel_project_timezone`` names it.

Reading: ``_flatten`` maps one record and is the reference; ``_flatten_columns`` maps all lines of
a JSON-lines file at once, and the file is read record by record wherever it could differ
(``events_common.build_from_records``).
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pmkit.sources.base import Parsed, ReadOptions, Sample
from pmkit.sources.events_common import (
    IDENTIFIED,
    IDENTITY,
    INSERT_ID_SCOPE,
    JsonColumn,
    JsonFields,
    NotExact,
    RecordExport,
    build_from_records,
    is_spread_property,
    json_texts,
    properties_of,
    vendor_fields,
)

KIND = "events"
FORMAT = "Mixpanel"

SOURCES = {
    "event_time": "properties.time",
    "user_id": "properties.distinct_id",
    "event": "event",
    "event_id": "properties.$insert_id",
    "session_id": "properties.$session_id",
    "revenue": "properties.revenue",
}
PREFIX = "properties."
CONSUMED = frozenset({"time", "distinct_id", "$insert_id", "$session_id", "revenue"})
# When Mixpanel received the event, not when it happened: a timestamp per row, useless as a breakdown.
IGNORED = frozenset({"mp_processing_time_ms", "$mp_api_timestamp_ms", "$mp_api_endpoint"})
RENAMED = {"mp_country_code": "country"}
# The top-level fields read, by name in any case (``events_common.vendor_fields``).
FIELDS = frozenset({"event", "properties"})


def detect(sample: Sample) -> bool:
    if sample.layout in ("csv", "parquet"):
        # The same layout as a table: properties spread over ``properties.time``-style columns,
        # or (Parquet) one ``properties`` struct. PostHog's have a top-level timestamp.
        if not sample.has("event") or sample.has("timestamp"):
            return False
        return sample.has(f"{PREFIX}time", f"{PREFIX}distinct_id") or _properties_struct_has_time(sample)
    if sample.layout not in ("jsonl", "json") or not sample.records:
        return False
    first = sample.records[0]
    properties = first.get("properties")
    return "event" in first and isinstance(properties, dict) and "time" in properties and "timestamp" not in first


def _properties_struct_has_time(sample: Sample) -> bool:
    if sample.layout != "parquet" or not sample.has("properties"):
        return False
    schema = pq.read_schema(sample.path)
    field = next((f for f in schema if f.name.lower() == "properties"), None)
    return field is not None and pa.types.is_struct(field.type) and field.type.get_field_index("time") >= 0


def read(sample: Sample, options: ReadOptions) -> Parsed:
    parsed = build_from_records(sample, EXPORT.kept(options))
    if not options.mixpanel_timezone:
        return parsed
    return replace(parsed, frame=parsed.frame.with_columns(in_project_zone("event_time", options.mixpanel_timezone)))


def in_project_zone(column: str, timezone: str) -> pl.Expr:
    """``column``'s epoch times as a project made before 2023 writes them: wall-clock times in the
    project's zone, made UTC. Read as UTC, every event between midnight and 08:00 of a US/Pacific
    project landed on the day before (ingest QA). A time in the hour a clock skips cannot be
    one such a project wrote: it stays as read."""
    local = pl.col(column).dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
    return pl.coalesce(local.dt.convert_time_zone("UTC").dt.replace_time_zone(None), pl.col(column)).alias(column)


def _dimension_name(label: str) -> str:
    key = label.removeprefix(PREFIX)
    return RENAMED.get(key, key)


def _flatten(record: dict) -> tuple[dict[str, object], dict[str, object]]:
    fields = vendor_fields(record, FIELDS)
    properties = properties_of({**record, "properties": fields.get("properties")}, CONSUMED)
    values = {
        "event_time": properties.get("time"),
        "user_id": properties.get("distinct_id"),
        "event": fields.get("event"),
        "event_id": properties.get("$insert_id"),
        "session_id": properties.get("$session_id"),
        "revenue": properties.get("revenue"),
        IDENTITY: properties.get("$device_id"),
        IDENTIFIED: properties.get("$user_id"),
    }
    dimensions = {
        PREFIX + key: value for key, value in properties.items() if key not in CONSUMED and key not in IGNORED
    }
    return values, dimensions


def _flatten_columns(record: JsonFields) -> tuple[dict[str, pl.Series], dict[str, JsonColumn]]:
    """``_flatten`` of every line at once (see ``events_common.build_by_columns``)."""
    if any(is_spread_property(key) for key in record):
        raise NotExact("top-level properties.* fields")
    record = record.vendor_fields(FIELDS)
    properties = record.object("properties")
    values = {
        "event_time": json_texts(properties["time"]),
        "user_id": json_texts(properties["distinct_id"]),
        "event": json_texts(record["event"]),
        "event_id": json_texts(properties["$insert_id"]),
        "session_id": json_texts(properties["$session_id"]),
        "revenue": json_texts(properties["revenue"]),
        IDENTITY: json_texts(properties["$device_id"]),
        IDENTIFIED: json_texts(properties["$user_id"]),
    }
    dimensions = {
        PREFIX + key: column for key, column in properties.items() if key not in CONSUMED and key not in IGNORED
    }
    return values, dimensions


EXPORT = RecordExport(
    name=FORMAT,
    flatten=_flatten,
    flatten_columns=_flatten_columns,
    sources=SOURCES,
    dimension_names=_dimension_name,
    # Mixpanel's own dedupe: a repeat has the same event, distinct_id, time and $insert_id.
    id_scope=INSERT_ID_SCOPE,
    # Simplified ID Merge: a device's events before sign-in are the user it signs in as.
    identity="device",
)
