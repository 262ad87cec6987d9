"""The canonical tables every source maps onto (DESIGN.md, "Canonical tables")."""

from __future__ import annotations

import polars as pl

# events: required columns first; anything else a source keeps becomes a dimension.
EVENT_REQUIRED = ("event_time", "user_id", "event")
EVENT_OPTIONAL = ("event_id", "session_id", "revenue")
EVENT_TYPES: dict[str, pl.DataType] = {
    "event_time": pl.Datetime("us"),  # UTC, stored without a zone
    "user_id": pl.String(),
    "event": pl.String(),
    "event_id": pl.String(),
    "session_id": pl.String(),
    "revenue": pl.Float64(),
}

ROADMAP_COLUMNS: dict[str, pl.DataType] = {
    "item_id": pl.String(),
    "title": pl.String(),
    "item_type": pl.String(),  # objective / initiative / epic / milestone / issue
    "parent_id": pl.String(),
    "objective_id": pl.String(),
    "metric": pl.String(),  # a metric key, when the item itself names the metric it should move
    "owner": pl.String(),
    "team": pl.String(),
    "status": pl.String(),  # as exported
    "status_category": pl.String(),  # todo / in_progress / done / cancelled
    "start_date": pl.Date(),
    "due_date": pl.Date(),
    "baseline_due_date": pl.Date(),
    "completed_date": pl.Date(),
    "estimate": pl.Float64(),
    "progress": pl.Float64(),  # 0..1 when the source states it
    "declared_health": pl.String(),  # on_track / at_risk / off_track when the source states it
    "blocked_by": pl.String(),  # comma-separated item_ids this item waits for
    "source": pl.String(),  # pmkit / jira / linear / plane
}
ROADMAP_ITEM_TYPES = ("objective", "initiative", "epic", "milestone", "issue")
STATUS_CATEGORIES = ("todo", "in_progress", "done", "cancelled")

OBJECTIVE_COLUMNS: dict[str, pl.DataType] = {
    "objective_id": pl.String(),
    "title": pl.String(),
    "metric": pl.String(),
    "baseline": pl.Float64(),
    "target": pl.Float64(),
    "start_date": pl.Date(),
    "target_date": pl.Date(),
    "direction": pl.String(),  # increase / decrease / stay_above / stay_below
    "owner": pl.String(),
}
DIRECTIONS = ("increase", "decrease", "stay_above", "stay_below")
# "Stay above" and "stay-above" are stay_above, in objectives.csv and pmkit.toml alike.
DIRECTION_SEPARATORS = r"[\s\-]+"

FEEDBACK_COLUMNS: dict[str, pl.DataType] = {
    "submitted_at": pl.Datetime("us"),
    "user_id": pl.String(),
    "score": pl.Float64(),
    "scale": pl.String(),  # nps (0-10) or csat (1-5)
    "comment": pl.String(),
    "source": pl.String(),
}
# An answer's key, where its file gives one (stored beside FEEDBACK_COLUMNS; null: no key): an
# answer whose key was loaded before is skipped, as a repeated event_id is.
FEEDBACK_KEY = "answer_id"


def empty_frame(columns: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=columns)
