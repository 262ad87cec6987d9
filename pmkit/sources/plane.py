"""Plane issue CSV exports (28 quoted columns, JSON lists inside cells such as `["Jane Smith"]`).

| canonical | Plane column |
|---|---|
| item_id, title | Identifier, Name |
| status, status_category | State Name (Backlog/Todo -> todo, In Progress -> in_progress, Done -> done, Cancelled -> cancelled); a `State Group` column wins when exported |
| parent_id | Parent, else the item's first module |
| estimate | Estimate |
| start_date, due_date, completed_date | Start Date, Target Date, Completed At |
| owner | the first name in Assignees |
| team | Project Name |
| blocked_by | the `blocked_by` entries of Relations (`[{"type": "blocked_by", "issue": "TEST-2"}]`) |

A module appears only as a name in an issue's `Modules` list; the first module of an issue without a
parent becomes a milestone item `module:<Project Identifier>/<Module>` (`module:<Module>` when the
export has no Project Identifier), with its status derived from its issues. The project is part of
the id because Plane module names are unique only within a project.
"""

from __future__ import annotations

import polars as pl

from pmkit.sources.base import ROW, Parsed, ReadOptions, Sample
from pmkit.sources.csvfile import column_lookup, read_csv_rows
from pmkit.sources.roadmap_common import (
    DEFAULT_OPTIONS,
    KIND,
    ExportColumns,
    add_containers,
    by_canonical,
    canonical_frame,
    clean_text,
    column_or_nulls,
    columns_lower,
    date_column,
    join_ids,
    json_list,
    number_column,
    ordered,
    status_categories,
)

FORMAT = "plane"
__all__ = ["FORMAT", "KIND", "detect", "read"]

DATE_EXAMPLE = "2024-01-05"  # Plane writes ISO dates (Start Date) and times (Completed At: 2024-01-03T15:00:00Z)
HEADER_EXAMPLE = '"Project Name","Parent","Identifier","Name","State Name","Start Date","Target Date","Modules"'


def detect(sample: Sample) -> bool:
    """Plane names its columns Identifier, Name and State Name (or State)."""
    columns = columns_lower(sample)
    return sample.layout == "csv" and {"identifier", "name"} <= columns and bool(columns & {"state name", "state"})


def read(sample: Sample, options: ReadOptions = DEFAULT_OPTIONS) -> Parsed:
    """The export as canonical roadmap rows: issues, then the modules they belong to."""
    raw, ragged = read_csv_rows(sample)
    raw = clean_text(raw)
    export = ExportColumns(raw, "Identifier", HEADER_EXAMPLE, "PROJ-12", ragged)
    key, errors, mapping, pick = export.key, export.errors, export.mapping, export.pick

    def dates(column: str | None) -> pl.Series:
        return date_column(raw, column, formats=(), example=DATE_EXAMPLE, timezone=options.timezone, errors=errors)

    status = column_or_nulls(raw, pick("status", "State Name", "State"))
    group = pick("status_category", "State Group")
    completed = dates(pick("completed_date", "Completed At"))
    category = status_categories(status, raw[group] if group else None, finished=completed)

    project_key = column_or_nulls(raw, column_lookup(raw, "Project Identifier"))
    first_module = pl.Series(
        [_first(json_list(cell)) for cell in column_or_nulls(raw, pick("parent_id", "Modules"))], dtype=pl.String
    )
    module_id = pl.select(
        pl.when(project_key.is_not_null())
        .then(pl.lit("module:") + project_key + "/" + first_module)
        .otherwise(pl.lit("module:") + first_module)
    ).to_series()
    parent = column_or_nulls(raw, pick("parent_id", "Parent"))
    team = column_or_nulls(raw, pick("team", "Project Name"))
    columns = {
        "item_id": raw[key],
        "title": column_or_nulls(raw, pick("title", "Name")),
        "item_type": pl.Series(["issue"] * raw.height),
        "parent_id": parent.fill_null(module_id),
        "owner": pl.Series(
            [_first(json_list(cell)) for cell in column_or_nulls(raw, pick("owner", "Assignees"))], dtype=pl.String
        ),
        "team": team,
        "status": status,
        "status_category": category,
        "start_date": dates(pick("start_date", "Start Date")),
        "due_date": dates(pick("due_date", "Target Date", "Due Date")),
        "completed_date": pl.select(pl.when(category == "done").then(completed)).to_series(),
        "estimate": number_column(
            raw, pick("estimate", "Estimate"), expected="a number of points, 0 or more (e.g. 3)", errors=errors
        ),
        "blocked_by": pl.Series(
            [_blockers(cell) for cell in column_or_nulls(raw, pick("blocked_by", "Relations"))], dtype=pl.String
        ),
    }
    issues = canonical_frame(raw[ROW], columns, errors, FORMAT)
    modules = (
        pl.DataFrame({ROW: raw[ROW], "item_id": module_id, "title": first_module, "team": team, "parent": parent})
        .join(issues.select(ROW), on=ROW, how="semi", maintain_order="left")
        .filter(pl.col("item_id").is_not_null() & pl.col("parent").is_null())
        .select(
            "item_id",
            "title",
            pl.lit("milestone").alias("item_type"),
            pl.lit(None, dtype=pl.String).alias("parent_id"),
            "team",
        )
    )
    frame = add_containers(issues, [modules], FORMAT)
    return Parsed(kind=KIND, format=FORMAT, frame=frame, errors=ordered(errors), mapping=by_canonical(mapping))


def _first(values: list) -> str | None:
    """The first name of a JSON list cell (`["Jane Smith", "Bob"]` -> Jane Smith)."""
    names = [v for v in values if isinstance(v, str) and v.strip()]
    return names[0].strip() if names else None


def _blockers(cell: str | None) -> str | None:
    """Relations cells list `{"type": "blocked_by", "issue": "TEST-2"}`: the issues blocking this one."""
    relations = [r for r in json_list(cell) if isinstance(r, dict)]
    return join_ids(str(r.get("issue")) for r in relations if r.get("type") == "blocked_by" and r.get("issue"))
