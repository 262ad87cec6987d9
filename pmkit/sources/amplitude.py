"""Amplitude exports: JSON lines (also gzip-compressed ``.json.gz``, and CSV with the same fields).

Header of a real export (one JSON object per line):
``server_received_time, app, city, user_id, uuid, event_time, platform, ..., $insert_id,
event_type, ..., event_properties, data, device_id, language, country, region, session_id, ...``.
``event_time`` looks like ``2025-07-17 10:36:28.583000`` and is UTC without a zone, so it is read
as UTC whatever the workspace time zone. Field names are read in any case (a warehouse's
``EVENT_TIME,EVENT_TYPE,USER_ID,...``); property names keep theirs.

Mapping: ``event_type`` -> event; ``user_id`` -> user_id, or ``device_id`` when ``user_id`` is
empty (anonymous users); ``$insert_id`` -> event_id, compared with the event, user and time (Amplitude's own
``event_id`` is a per-device counter, not unique); ``session_id`` (epoch ms of the session start, -1 for none) -> session_id;
revenue from ``event_properties.revenue`` / ``$revenue``, else ``price`` x ``quantity`` (quantity 1
when absent). Dimensions: the top-level fields in ``TOP_LEVEL_DIMENSIONS``, every event property
as named, every user property prefixed ``user_`` (``plan`` -> ``user_plan``, ``$plan`` too: beside
a custom ``plan`` it is Amplitude's that is ``user_plan``, see ``events_common``).

Amplitude's "export" API returns a zip of hourly ``.json.gz`` files: unzip it and load the
``.json.gz`` files (gzip content is recognised by its bytes, not the file name).

Reading: ``_flatten`` maps one record and is the reference; ``_flatten_columns`` maps all lines of
a JSON-lines file (plain or gzip) at once, and the file is read record by record wherever it could
differ (``events_common.build_from_records``).
"""

from __future__ import annotations

import polars as pl

from pmkit.sources.base import Parsed, ReadOptions, Sample
from pmkit.sources.events_common import (
    IDENTIFIED,
    IDENTITY,
    INSERT_ID_SCOPE,
    JsonColumn,
    JsonFields,
    NotExact,
    RecordError,
    RecordExport,
    build_from_records,
    float_texts,
    is_python_blank,
    json_floats,
    json_present,
    json_texts,
    parse_json_object,
    vendor_fields,
)

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
# The top-level fields read, by name in any case (``events_common.vendor_fields``).
FIELDS = frozenset(
    {"event_time", "event_type", "user_id", "device_id", "$insert_id", "session_id", "event_properties", "amplitude_id"}
    | {"user_properties", *REVENUE_KEYS, *TOP_LEVEL_DIMENSIONS}
)
EVENT_PREFIX = "event_properties."
USER_PREFIX = "user_properties."


def detect(sample: Sample) -> bool:
    if sample.layout not in ("jsonl", "json", "csv", "parquet"):
        return False
    return sample.has("event_type", "event_time") and any(sample.has(marker) for marker in MARKERS)


def read(sample: Sample, options: ReadOptions) -> Parsed:
    return build_from_records(sample, EXPORT.kept(options))


def _dimension_name(label: str) -> str:
    if label.startswith(EVENT_PREFIX):
        return label.removeprefix(EVENT_PREFIX)
    if label.startswith(USER_PREFIX):
        key = label.removeprefix(USER_PREFIX)
        # $plan -> $user_plan, stored as user_plan: the `$` keeps it Amplitude's own, named first.
        return ("$" if key.startswith("$") else "") + "user_" + key.lstrip("$")
    return label


def _flatten(record: dict) -> tuple[dict[str, object], dict[str, object]]:
    record = vendor_fields(record, FIELDS)
    event_properties = parse_json_object(record.get("event_properties"), "event_properties")
    user_properties = parse_json_object(record.get("user_properties"), "user_properties")
    user = signed_in = record.get("user_id")
    if user is None or (isinstance(user, str) and not user.strip()):
        user, signed_in = record.get("device_id"), None
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
        IDENTITY: record.get("amplitude_id"),
        IDENTIFIED: signed_in,
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
            # Without a quantity, the price alone ("'x' x 'None'" was shown).
            f"'{price}' x '{quantity}' is not a number (expected e.g. price 49.00, quantity 2)"
            if quantity not in (None, "")
            else f"price '{price}' is not a number (expected e.g. 49.00)",
        ) from None


def _flatten_columns(record: JsonFields) -> tuple[dict[str, pl.Series], dict[str, JsonColumn]]:
    """``_flatten`` of every line at once (see ``events_common.build_by_columns``)."""
    record = record.vendor_fields(FIELDS)
    event_properties = record.object("event_properties")
    user_properties = record.object("user_properties")
    user, session = record["user_id"], record["session_id"]
    values = {
        "event_time": json_texts(record["event_time"]),
        "user_id": _choose(is_python_blank(user), json_texts(record["device_id"]), json_texts(user)),
        "event": json_texts(record["event_type"]),
        "event_id": json_texts(record["$insert_id"]),
        "session_id": _choose(_is_minus_one(session), pl.lit(None, pl.String), json_texts(session)),
        "revenue": _revenue_texts(record, event_properties),
        IDENTITY: json_texts(record["amplitude_id"]),
        IDENTIFIED: _choose(is_python_blank(user), pl.lit(None, pl.String), json_texts(user)),
    }
    dimensions = {key: record[key] for key in TOP_LEVEL_DIMENSIONS}
    for key, column in event_properties.items():
        if key not in REVENUE_KEYS:
            dimensions[EVENT_PREFIX + key] = column
    for key, column in user_properties.items():
        dimensions[USER_PREFIX + key] = column
    return values, dimensions


def _choose(condition: pl.Series, then: pl.Series | pl.Expr, otherwise: pl.Series | pl.Expr) -> pl.Series:
    return pl.select(pl.when(condition).then(then).otherwise(otherwise)).to_series()


def _is_minus_one(column: JsonColumn) -> pl.Series:
    """``value in (-1, "-1")``: -1 and -1.0 as numbers, "-1" as text."""
    values = column.values
    if values.dtype == pl.String:
        return (values == "-1").fill_null(False)
    if values.dtype == pl.Float64 or values.dtype.is_integer():
        return (values == -1).fill_null(False)
    return pl.Series([False] * len(values), dtype=pl.Boolean)


def _revenue_texts(record: JsonFields, event_properties: JsonFields) -> pl.Series:
    """``_revenue`` of every line: the first revenue field given, else price x quantity."""
    price = _first_key(event_properties, "price", "$price")
    quantity = _first_key(event_properties, "quantity", "$quantity")
    given_price = json_present(price)
    amounts = json_floats(price) * _choose(json_present(quantity), json_floats(quantity), pl.lit(1.0))
    if not amounts.filter(given_price).is_finite().all():
        raise NotExact("a price x quantity that is not a finite number")
    texts = _choose(given_price, float_texts(amounts), pl.lit(None, pl.String))
    candidates = [source[key] for source in (event_properties, record) for key in REVENUE_KEYS]
    for column in reversed(candidates):  # the first one given wins: lay the last down first
        texts = _choose(json_present(column), json_texts(column), texts)
    return texts


def _first_key(fields: JsonFields, key: str, fallback: str) -> JsonColumn:
    """``fields.get(key, fields.get(fallback))``. A record with ``key`` null and ``fallback`` set
    reads differently if the key is there (null) or missing, which columns do not tell apart."""
    if key not in fields or fallback not in fields:
        return fields[key] if key in fields else fields[fallback]
    if (fields[key].values.is_null() & fields[fallback].values.is_not_null()).any():
        raise NotExact(f'"{key}" is null where "{fallback}" is not')
    return fields[key]


EXPORT = RecordExport(
    name=FORMAT,
    flatten=_flatten,
    flatten_columns=_flatten_columns,
    sources=SOURCES,
    dimension_names=_dimension_name,
    # An overlapping export's copy of an event matches it in every column; one $insert_id on two
    # events (or devices) is two events.
    id_scope=INSERT_ID_SCOPE,
    # Amplitude counts an amplitude_id: a device's visit before sign-in and the user share one.
    identity="person",
)
