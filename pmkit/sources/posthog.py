"""PostHog event exports: batch exports as JSON lines or Parquet, and CSV with the same columns.

Layout (PostHog docs, batch exports):
``uuid, event, distinct_id, person_id, properties, person_properties, elements_chain, timestamp,
created_at, _inserted_at``. ``properties`` is a JSON object, or JSON text of one (CSV, Parquet);
CSVs that spread it over ``properties.$os``-style columns are read the same way. Timestamps are
ISO-8601 in UTC (``2026-03-01T10:00:00.123000Z``); a time without a zone is taken as UTC too.
Field names are read in any case (a warehouse's ``UUID,EVENT,DISTINCT_ID,TIMESTAMP,PROPERTIES``);
property names keep theirs.

Mapping: ``timestamp`` -> event_time, ``distinct_id`` -> user_id, ``uuid`` -> event_id,
``properties.$session_id`` -> session_id, ``properties.revenue`` -> revenue; every other top-level
property becomes a dimension with its ``$`` dropped (``$os`` -> ``os``), except posthog-js's own
bookkeeping (``is_bookkeeping``: ids, tokens, send times, library versions). Person properties,
``elements_chain`` and the export's own bookkeeping columns are not events data and are left out.

Reading: ``_flatten`` maps one record and is the reference; ``_flatten_columns`` maps all lines of
a JSON-lines file at once, and the file is read record by record wherever it could differ
(``events_common.build_from_records``).
"""

from __future__ import annotations

import polars as pl

from pmkit.sources.base import Parsed, ReadOptions, Sample
from pmkit.sources.events_common import (
    IDENTIFIED,
    IDENTITY,
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
FORMAT = "PostHog"

SOURCES = {
    "event_time": "timestamp",
    "user_id": "distinct_id",
    "event": "event",
    "event_id": "uuid",
    "session_id": "properties.$session_id",
    "revenue": "properties.revenue",
}
PREFIX = "properties."
CONSUMED = frozenset({"$session_id", "revenue"})
# posthog-js's own bookkeeping on every event: ids, tokens, times, library versions, the raw user
# agent, its settings. Not segments: in a realistic export they filled the workspace's 30
# dimensions, ahead of the customer's `plan` on every row as well (ingest QA).
BOOKKEEPING = frozenset(
    {
        "$insert_id", "$time", "$sent_at", "$token", "token", "distinct_id", "$ip", "$raw_user_agent",
        "$lib_version", "$lib_version__major", "$lib_version__minor", "$lib_version__patch",
        "$lib_custom_api_host", "$device_id", "$user_id", "$anon_distinct_id", "$window_id", "$pageview_id",
        "$is_identified", "$process_person_profile", "$had_persisted_distinct_id", "$set", "$set_once",
        "$unset", "$groups", "$active_feature_flags", "$feature_flag_payloads", "$timezone_offset",
        "$configured_session_timeout_ms", "$plugins_succeeded", "$plugins_failed", "$plugins_deferred",
        "$transformations_succeeded", "$transformations_failed", "$geoip_disable", "$elements",
        "$sdk_debug_retry_queue_size", "$sdk_debug_replay_internal_buffer_length",
    }
)  # fmt: skip
BOOKKEEPING_PREFIXES = ("$session_recording", "$replay_", "$sdk_debug", "$prev_pageview_", "$viewport_")
# The screen's size, not `$screen_name` (the mobile SDKs' page, a segment; review).
BOOKKEEPING |= {"$screen_height", "$screen_width", "$screen_density"}
BOOKKEEPING_SUFFIXES = ("_server_side", "_enabled_server_side")


def is_bookkeeping(key: str) -> bool:
    """A property posthog-js sets for itself (``BOOKKEEPING``), not a segment of users: no
    dimension unless ``ingest.keep_dimensions`` names it (``RecordExport.bookkeeping``).

    >>> is_bookkeeping("$sent_at"), is_bookkeeping("$session_recording_start_reason"), is_bookkeeping("$os"), is_bookkeeping("$screen_name")
    (True, True, False, False)
    """
    return key in BOOKKEEPING or key.startswith(BOOKKEEPING_PREFIXES) or key.endswith(BOOKKEEPING_SUFFIXES)


# The top-level fields read, by name in any case (``events_common.vendor_fields``).
FIELDS = frozenset({"timestamp", "distinct_id", "event", "uuid", "properties", "person_id"})


# PostHog's own CSV download of an events table with its "*" column writes each event's fields as
# `*.uuid`, `*.timestamp`, `*.distinct_id`, `*.properties.$browser` beside the table's other
# columns (`event`, `person`): it was refused as matching no known export (ingest QA).
STAR = "*."


def detect(sample: Sample) -> bool:
    if sample.layout not in ("jsonl", "json", "csv", "parquet"):
        return False
    columns = [c.lower().removeprefix(STAR) for c in sample.columns]
    has_properties = "properties" in columns or any(c.startswith(PREFIX) for c in columns)
    return has_properties and all(name in columns for name in ("event", "distinct_id", "timestamp"))


def read(sample: Sample, options: ReadOptions) -> Parsed:
    return build_from_records(sample, EXPORT.kept(options))


def _unstarred(record: dict) -> dict:
    """A record of PostHog's own CSV download with its ``*.`` fields under their own names, which
    win over the table's columns of the same name."""
    if not any(key.startswith(STAR) for key in record):
        return record
    plain = {key: value for key, value in record.items() if not key.startswith(STAR)}
    return plain | {key.removeprefix(STAR): value for key, value in record.items() if key.startswith(STAR)}


def _flatten(record: dict) -> tuple[dict[str, object], dict[str, object]]:
    record = _unstarred(record)
    fields = vendor_fields(record, FIELDS)
    properties = properties_of({**record, "properties": fields.get("properties")}, CONSUMED)
    values = {
        "event_time": fields.get("timestamp"),
        "user_id": fields.get("distinct_id"),
        "event": fields.get("event"),
        "event_id": fields.get("uuid"),
        "session_id": properties.get("$session_id"),
        "revenue": properties.get("revenue"),
        IDENTITY: fields.get("person_id"),
        IDENTIFIED: fields.get("distinct_id"),
    }
    dimensions = {PREFIX + key: value for key, value in properties.items() if key not in CONSUMED}
    return values, dimensions


def _flatten_columns(record: JsonFields) -> tuple[dict[str, pl.Series], dict[str, JsonColumn]]:
    """``_flatten`` of every line at once (see ``events_common.build_by_columns``)."""
    if any(is_spread_property(key) or key.startswith(STAR) for key in record):
        raise NotExact("top-level properties.* or *. fields")
    record = record.vendor_fields(FIELDS)
    properties = record.object("properties")
    values = {
        "event_time": json_texts(record["timestamp"]),
        "user_id": json_texts(record["distinct_id"]),
        "event": json_texts(record["event"]),
        "event_id": json_texts(record["uuid"]),
        "session_id": json_texts(properties["$session_id"]),
        "revenue": json_texts(properties["revenue"]),
        IDENTITY: json_texts(record["person_id"]),
        IDENTIFIED: json_texts(record["distinct_id"]),
    }
    dimensions = {PREFIX + key: column for key, column in properties.items() if key not in CONSUMED}
    return values, dimensions


EXPORT = RecordExport(
    name=FORMAT,
    flatten=_flatten,
    flatten_columns=_flatten_columns,
    sources=SOURCES,
    dimension_names=lambda label: label.removeprefix(PREFIX),
    bookkeeping=lambda label: is_bookkeeping(label.removeprefix(PREFIX)),
    # PostHog counts a person: an anonymous visit and the sign-up after it share a person_id.
    identity="person",
)
