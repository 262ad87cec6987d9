"""Roadmap health read from the store: the snapshots and objectives in, the CLI/app view out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from pmkit import roadmap
from pmkit.canonical import ROADMAP_COLUMNS
from pmkit.config import Config
from pmkit.store import Reader, remembered

ITEM_FIELDS = (
    "item_id",
    "title",
    "item_type",
    "due_date",
    "baseline_due_date",
    "progress",
    "schedule_index",
    "slip_days",
    "forecast_date",
    "health",
    "reason",
)


def thresholds(config: Config) -> roadmap.Thresholds:
    return roadmap.Thresholds(
        at_risk_below=float(config.get("roadmap.at_risk_below")),
        off_track_below=float(config.get("roadmap.off_track_below")),
        slip_tolerance=float(config.get("roadmap.slip_tolerance")),
    )


def snapshots(reader: Reader) -> pl.DataFrame:
    """Every loaded roadmap snapshot, in the canonical columns plus snapshot_date."""
    columns = ", ".join([*ROADMAP_COLUMNS, "snapshot_date"])
    return reader.frame(f"SELECT {columns} FROM roadmap_items ORDER BY snapshot_date, item_id")  # noqa: S608 - fixed column names


def objectives(reader: Reader) -> pl.DataFrame:
    return reader.frame("SELECT * EXCLUDE (file_id) FROM objectives ORDER BY objective_id")


def latest_snapshot(reader: Reader, as_of: dt.date | None) -> dt.date | None:
    # Asked before every item health and objective health lookup: read once per version.
    return remembered(
        reader,
        ("latest_snapshot", as_of),
        lambda: reader.frame(
            "SELECT max(snapshot_date) AS d FROM roadmap_items WHERE $as_of IS NULL OR snapshot_date <= $as_of",
            as_of=as_of,
        )["d"].item(),
    )


def item_health(reader: Reader, config: Config, as_of: dt.date | None = None) -> pl.DataFrame:
    """Health of every item as of ``as_of`` (default: the latest snapshot date)."""
    when = as_of or latest_snapshot(reader, None)
    limits = thresholds(config)

    def compute() -> pl.DataFrame:
        history = snapshots(reader)
        if history.height == 0 or when is None:
            return pl.DataFrame(schema=roadmap.ITEM_HEALTH_COLUMNS)
        return roadmap.item_health(history.filter(pl.col("snapshot_date") <= when), when, limits)

    # The summary, the Roadmap page and each objective's detail ask for the same items' health.
    return remembered(reader, ("item_health", when, limits), compute)


def roadmap_report(reader: Reader, config: Config, as_of: dt.date | None = None) -> dict[str, Any]:
    """The `pmkit roadmap --json` shape (DESIGN.md): items, and objectives with both healths."""
    from pmkit import objectives as objective_view
    from pmkit.metrics.base import workspace_of

    items = item_health(reader, config, as_of)
    # Without a roadmap snapshot by then, the objectives are still judged on their metrics (their
    # delivery says no items are linked), on the last shown day: they were left out.
    when = as_of or latest_snapshot(reader, None) or workspace_of(reader).last_day or dt.date.today()
    goals = objective_view.objective_health(reader, config, items, when)
    rows = items.select(
        *ITEM_FIELDS,
        "declared_health",
        "health_disagrees",
        "blocked_by",
        "blocker_conflict",
        "objective_id",
        "owner",
        "team",
    ).to_dicts()
    return {"as_of": when, "items": rows, "objectives": goals.to_dicts()}
