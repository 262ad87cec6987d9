"""pmkit's own roadmap CSV: the canonical column names (DESIGN.md, "Canonical tables") as the header.

`item_id` and `title` are required; every other column is optional (`source` defaults to pmkit;
an item with neither `status` nor `status_category` is to do). Dates are ISO (`2026-03-31`), `progress` a fraction (`0.4`) or a
percentage (`40%`), `declared_health` one of on_track / at_risk / off_track (`On track` is fine too),
`blocked_by` a comma-separated list of item ids. A missing `status_category` is derived from
`status` the way the Jira, Linear and Plane readers do it; a missing `item_type` means issue.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from pmkit.canonical import ROADMAP_COLUMNS, ROADMAP_ITEM_TYPES, STATUS_CATEGORIES
from pmkit.sources.base import ROW, Parsed, ReadOptions, Rejected, Sample
from pmkit.sources.csvfile import column_lookup, read_csv_rows
from pmkit.sources.roadmap_common import (
    DEFAULT_OPTIONS,
    KIND,
    canonical_frame,
    clean_text,
    column_or_nulls,
    columns_lower,
    date_column,
    declared_health_of,
    id_errors,
    joined_ids,
    missing_column,
    normalise_words,
    number_column,
    ordered,
    parse_number,
    parsed_column,
    status_categories,
)

FORMAT = "pmkit"
__all__ = ["FORMAT", "KIND", "detect", "read"]

DATE_EXAMPLE = "2026-03-31"
HEADER_EXAMPLE = '"item_id,title,item_type,parent_id,status_category,start_date,due_date,estimate"'
DATE_COLUMNS = ("start_date", "due_date", "baseline_due_date", "completed_date")
TEXT_COLUMNS = ("title", "parent_id", "objective_id", "metric", "owner", "team", "status", "source")


def detect(sample: Sample) -> bool:
    """The canonical names item_id and title (the README's minimal roadmap: every other column is
    optional; no other format's export names its columns so)."""
    return sample.layout == "csv" and {"item_id", "title"} <= columns_lower(sample)


def read(sample: Sample, options: ReadOptions = DEFAULT_OPTIONS) -> Parsed:
    """The file's rows, typed and checked; each bad cell is one RowError naming its row and column."""
    raw, ragged = read_csv_rows(sample)
    raw = clean_text(raw)
    key = column_lookup(raw, "item_id")
    if key is None:
        raise Rejected([missing_column("item_id", HEADER_EXAMPLE)])
    errors = [*ragged, *id_errors(raw, key, "checkout-v2")]
    found = {name: column_lookup(raw, name) for name in ROADMAP_COLUMNS}
    mapping = {name: column for name, column in found.items() if column is not None}

    def checked(
        name: str, parse: Callable[[str], object], problem: str, dtype: type[pl.DataType] = pl.String
    ) -> pl.Series:
        return parsed_column(raw, found[name], parse, dtype=dtype, problem=problem, errors=errors)

    def dates(name: str) -> pl.Series:
        return date_column(raw, found[name], formats=(), example=DATE_EXAMPLE, timezone=options.timezone, errors=errors)

    columns: dict[str, pl.Series] = {"item_id": raw[key]}
    columns.update({name: column_or_nulls(raw, found[name]) for name in TEXT_COLUMNS})
    columns.update({name: dates(name) for name in DATE_COLUMNS})
    columns["estimate"] = number_column(
        raw, found["estimate"], expected="a number of points, 0 or more (e.g. 3 or 0.5)", errors=errors
    )
    item_types = ", ".join(ROADMAP_ITEM_TYPES)
    columns["item_type"] = checked("item_type", _item_type, f"is not an item type (expected one of {item_types})")
    columns["item_type"] = columns["item_type"].fill_null("issue")
    categories = ", ".join(STATUS_CATEGORIES)
    stated = checked("status_category", _status_category, f"is not a status category (expected one of {categories})")
    derived = status_categories(columns["status"], finished=columns["completed_date"])
    columns["status_category"] = stated.fill_null(derived)
    columns["progress"] = checked(
        "progress",
        _progress,
        "is not a progress (expected a fraction such as 0.4 or a percentage such as 40%)",
        pl.Float64(),
    )
    columns["declared_health"] = checked(
        "declared_health", declared_health_of, "is not a health (expected on_track, at_risk or off_track)"
    )
    columns["blocked_by"] = joined_ids(raw, [found["blocked_by"]] if found["blocked_by"] else [])
    frame = canonical_frame(raw[ROW], columns, errors, FORMAT)
    return Parsed(kind=KIND, format=FORMAT, frame=frame, errors=ordered(errors), mapping=mapping)


def _item_type(text: str) -> str | None:
    value = normalise_words(text)
    return value if value in ROADMAP_ITEM_TYPES else None


def _status_category(text: str) -> str | None:
    value = normalise_words(text).replace(" ", "_")
    return value if value in STATUS_CATEGORIES else None


def _progress(text: str) -> float | None:
    """`0.4` or `40%` -> 0.4; anything outside 0..1 (0..100%) is a mistake, not a progress."""
    if text.strip().endswith("%"):
        number = parse_number(text.strip()[:-1])
        number = None if number is None else number / 100
    else:
        number = parse_number(text)
    return number if number is not None and 0 <= number <= 1 else None
