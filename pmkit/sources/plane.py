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

from collections.abc import Callable

import polars as pl

from pmkit.sources.base import ROW, Parsed, ReadOptions, RowError, Sample, null_column
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
    unescape_formulas,
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
    # Plane's CSV prefixes text starting with = + - @ with ' as Linear's does (vendor QA).
    raw = unescape_formulas(clean_text(raw))
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
        "estimate": _estimates(raw, pick, errors),
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


def _estimates(raw: pl.DataFrame, pick: Callable[..., str | None], errors: list[RowError]) -> pl.Series:
    """The Estimate column as points. A project estimating in categories (XS, S, M, L, XL, or
    names of its own) exports their labels: words alone, no number, are no points, so the column
    is left out (not named in the mapping) and progress counts items; every row of such an
    export was a bad cell and it could not be loaded (vendor QA). A word beside numbers is still
    a bad cell."""
    column = column_lookup(raw, "Estimate")
    if column is not None:
        given = raw[column].drop_nulls()
        labels = given.str.contains(r"^[^\d]+$")
        if given.len() and labels.all():
            return null_column(raw.height, pl.Float64())
    return number_column(
        raw, pick("estimate", "Estimate"), expected="a number of points, 0 or more (e.g. 3)", errors=errors
    )


def _first(values: list) -> str | None:
    """The first name of a JSON list cell (`["Jane Smith", "Bob"]` -> Jane Smith)."""
    names = [v for v in values if isinstance(v, str) and v.strip()]
    return names[0].strip() if names else None


def _blockers(cell: str | None) -> str | None:
    """Relations cells list `{"type": "blocked_by", "issue": "TEST-2"}`: the issues blocking this
    one. Plane writes a relation on both issues: on the other one either with
    `"direction": "incoming"` and the type as stored, or (newer) as its inverse, `blocking`. So
    this issue waits for `blocked_by` going out and `blocking` coming in; an incoming
    `blocked_by` is one it blocks (read as its own, WEB-1 waited for the WEB-2 waiting for it;
    vendor QA)."""
    relations = [r for r in json_list(cell) if isinstance(r, dict) and r.get("issue")]

    def waits_for(relation: dict) -> bool:
        incoming = str(relation.get("direction", "")).lower() == "incoming"
        return relation.get("type") == ("blocking" if incoming else "blocked_by")

    return join_ids(str(r["issue"]) for r in relations if waits_for(r))
