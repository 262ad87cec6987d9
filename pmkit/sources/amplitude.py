"""Amplitude exports: JSON lines (also gzip-compressed ``.json.gz``, and CSV with the same fields).

Header of a real export (one JSON object per line):
``server_received_time, app, city, user_id, uuid, event_time, platform, ..., $insert_id,
event_type, ..., event_properties, data, device_id, language, country, region, session_id, ...``.
``event_time`` looks like ``2025-07-17 10:36:28.583000`` and is UTC without a zone, so it is read
as UTC whatever the workspace time zone.

Mapping: ``event_type`` -> event; ``user_id`` -> user_id, or ``device_id`` when ``user_id`` is
empty (anonymous users); ``$insert_id`` -> event_id (Amplitude's own ``event_id`` is a per-device
counter, not unique); ``session_id`` (epoch ms of the session start, -1 for none) -> session_id;
revenue from ``event_properties.revenue`` / ``$revenue``, else ``price`` x ``quantity`` (quantity 1
when absent). Dimensions: the top-level fields in ``TOP_LEVEL_DIMENSIONS``, every event property
as named, every user property prefixed ``user_`` (``plan`` -> ``user_plan``).

Amplitude's "export" API returns a zip of hourly ``.json.gz`` files: unzip it and load the
``.json.gz`` files (gzip content is recognised by its bytes, not the file name).
"""

from __future__ import annotations

from pmkit.sources.base import Parsed, ReadOptions, Sample
from pmkit.sources.events_common import RecordError, build_from_records, parse_json_object

KIND = "events"
FORMAT = "Amplitude"

SOURCES = {
    "event_time": "event_time",
    "user_id": "user_id",  # device_id when empty
    "event": "event_type",
    "event_id": "$insert_id",
    "session_id": "session_id",
    "revenue": "event_properties.revenue",
}
TOP_LEVEL_DIMENSIONS = ("platform", "country", "os_name", "device_type", "version_name", "language", "city", "region")
# Fields only Amplitude writes; with event_type and event_time they tell its exports apart.
MARKERS = ("amplitude_id", "$insert_id", "event_properties", "user_properties")
REVENUE_KEYS = ("revenue", "$revenue")
EVENT_PREFIX = "event_properties."
USER_PREFIX = "user_properties."


def detect(sample: Sample) -> bool:
    if sample.layout not in ("jsonl", "json", "csv", "parquet"):
        return False
    return sample.has("event_type", "event_time") and any(sample.has(marker) for marker in MARKERS)


def read(sample: Sample, options: ReadOptions) -> Parsed:
    return build_from_records(
        sample,
        _flatten,
        SOURCES,
        fmt=f"Amplitude {'JSON lines' if sample.layout in ('jsonl', 'json') else sample.layout.upper()}",
        timezone="UTC",
        dimension_names=_dimension_name,
    )


def _dimension_name(label: str) -> str:
    if label.startswith(EVENT_PREFIX):
        return label.removeprefix(EVENT_PREFIX)
    if label.startswith(USER_PREFIX):
        return "user_" + label.removeprefix(USER_PREFIX).lstrip("$")
    return label


def _flatten(record: dict) -> tuple[dict[str, object], dict[str, object]]:
    event_properties = parse_json_object(record.get("event_properties"), "event_properties")
    user_properties = parse_json_object(record.get("user_properties"), "user_properties")
    user = record.get("user_id")
    if user is None or (isinstance(user, str) and not user.strip()):
        user = record.get("device_id")
    session = record.get("session_id")
    if session in (-1, "-1"):  # Amplitude writes -1 for events outside a session
        session = None
    values = {
        "event_time": record.get("event_time"),
        "user_id": user,
        "event": record.get("event_type"),
        "event_id": record.get("$insert_id"),
        "session_id": session,
        "revenue": _revenue(record, event_properties),
    }
    dimensions: dict[str, object] = {key: record.get(key) for key in TOP_LEVEL_DIMENSIONS}
    for key, value in event_properties.items():
        if key not in REVENUE_KEYS:
            dimensions[EVENT_PREFIX + key] = value
    for key, value in user_properties.items():
        dimensions[USER_PREFIX + key] = value
    return values, dimensions


def _revenue(record: dict, event_properties: dict) -> object:
    for source in (event_properties, record):
        for key in REVENUE_KEYS:
            if source.get(key) not in (None, ""):
                return source[key]
    price = event_properties.get("price", event_properties.get("$price"))
    if price in (None, ""):
        return None
    quantity = event_properties.get("quantity", event_properties.get("$quantity"))
    try:
        return float(price) * (float(quantity) if quantity not in (None, "") else 1.0)
    except (TypeError, ValueError):
        raise RecordError(
            "event_properties.price",
            f"'{price}' x '{quantity}' is not a number (expected e.g. price 49.00, quantity 2)",
        ) from None
