"""Linear issue CSV exports (Settings > Import/Export > Export CSV).

Linear writes ISO-8601 times such as `2024-05-14T08:53:33Z`, dates such as `2024-06-01`, and
prefixes text that looks like a spreadsheet formula with `'` (`'=SUM(A1)`), which is undone here.

The export has one row per issue; projects, project milestones and initiatives appear only as
column values. They become roadmap items of their own, so the hierarchy is complete:

    initiative:<Initiative>            item_type initiative  (the first name in `Initiatives`)
      project:<Project ID>             item_type epic        (a Linear project is a deliverable)
        milestone:<Project Milestone ID> item_type milestone
          <ID>                         item_type issue       (under its Parent issue if it has one,
                                                              else its milestone, else its project)

Their status category comes from their items (see ``roadmap_common.container_rows``). A project
and a milestone are named by the ids Linear exports beside their names (`Project ID`, `Project
Milestone ID`), so a renamed one stays the same item from snapshot to snapshot: by name, "Billing"
renamed "Billing v2" was a new project with its slip forgotten and the old one "gone" (ingest QA).
Without those columns (an older or hand-made export) the names are the ids: `project:<Project>`,
`milestone:<Project>/<Milestone>`.

| canonical | Linear column |
|---|---|
| item_id, title | ID, Title |
| status, status_category | Status (Backlog/Todo -> todo, In Progress/In Review -> in_progress, Done -> done, Canceled/Duplicate -> cancelled); a filled `Canceled` time -> cancelled |
| estimate | Estimate |
| parent_id | Parent issue, else the milestone or project item above |
| owner, team | Assignee, Team |
| start_date, due_date, completed_date | Started, Due Date, Completed |
| blocked_by | Blocked by |
"""

from __future__ import annotations

import polars as pl

from pmkit.sources.base import ROW, Parsed, ReadOptions, Sample
from pmkit.sources.csvfile import read_csv_rows
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
    joined_ids,
    number_column,
    ordered,
    repeated_columns,
    status_categories,
    unescape_formulas,
)

FORMAT = "linear"
__all__ = ["FORMAT", "KIND", "detect", "read"]

DATE_EXAMPLE = "2024-05-14T08:53:33Z"  # Linear writes only ISO 8601, which parse_date always reads
HEADER_EXAMPLE = '"ID,Team,Title,Status,Estimate,Project,Project Milestone,Started,Completed,Canceled,Due Date"'
# Columns only Linear's issue export has next to ID, Title and Status.
LINEAR_MARKERS = {"team", "project", "project milestone", "cycle number", "parent issue", "estimate", "canceled"}


def detect(sample: Sample) -> bool:
    """ID, Title and Status, with at least one Linear-only column (Team, Project, Cycle Number...)."""
    columns = columns_lower(sample)
    return sample.layout == "csv" and {"id", "title", "status"} <= columns and bool(columns & LINEAR_MARKERS)


def read(sample: Sample, options: ReadOptions = DEFAULT_OPTIONS) -> Parsed:
    """The export as canonical roadmap rows: issues, then the milestones, projects and
    initiatives they belong to."""
    raw, ragged = read_csv_rows(sample)
    raw = unescape_formulas(clean_text(raw))
    export = ExportColumns(raw, "ID", HEADER_EXAMPLE, "ENG-123", ragged)
    key, errors, mapping, pick = export.key, export.errors, export.mapping, export.pick

    def dates(column: str | None) -> pl.Series:
        return date_column(raw, column, formats=(), example=DATE_EXAMPLE, timezone=options.timezone, errors=errors)

    status = column_or_nulls(raw, pick("status", "Status"))
    completed = dates(pick("completed_date", "Completed"))
    canceled = dates(pick("status_category", "Canceled", "Cancelled"))
    category = status_categories(status, finished=completed)
    category = pl.select(pl.when(canceled.is_not_null()).then(pl.lit("cancelled")).otherwise(category)).to_series()

    project = column_or_nulls(raw, pick("parent_id", "Project"))
    milestone = column_or_nulls(raw, pick("parent_id", "Project Milestone"))
    initiative = column_or_nulls(raw, pick("parent_id", "Initiatives")).str.split(",").list.first().str.strip_chars()
    containers = pl.DataFrame(
        {
            ROW: raw[ROW],
            "project": project,
            "milestone": milestone,
            "initiative": initiative,
            "project_key": column_or_nulls(raw, pick("parent_id", "Project ID")),
            "milestone_key": column_or_nulls(raw, pick("parent_id", "Project Milestone ID")),
        }
    )
    containers = containers.with_columns(
        # A key only where the name is filled: an ID column beside an empty name is no project.
        pl.when(pl.col("project").is_not_null())
        .then("project:" + pl.coalesce("project_key", "project"))
        .alias("project_id"),
        pl.when(pl.col("project").is_not_null() & pl.col("milestone").is_not_null())
        .then("milestone:" + pl.coalesce("milestone_key", pl.col("project") + "/" + pl.col("milestone")))
        .alias("milestone_id"),
        ("initiative:" + pl.col("initiative")).alias("initiative_id"),
    )
    parent_issue = column_or_nulls(raw, pick("parent_id", "Parent issue"))
    blockers = repeated_columns(raw, "Blocked by")
    mapping.update(dict.fromkeys(blockers, "blocked_by"))
    columns = {
        "item_id": raw[key],
        "title": column_or_nulls(raw, pick("title", "Title")),
        "item_type": pl.Series(["issue"] * raw.height),
        "parent_id": pl.select(
            pl.coalesce(parent_issue, containers["milestone_id"], containers["project_id"])
        ).to_series(),
        "owner": column_or_nulls(raw, pick("owner", "Assignee")),
        "team": column_or_nulls(raw, pick("team", "Team")),
        "status": status,
        "status_category": category,
        "start_date": dates(pick("start_date", "Started")),
        "due_date": dates(pick("due_date", "Due Date")),
        "completed_date": pl.select(pl.when(category == "done").then(completed)).to_series(),
        "estimate": number_column(
            raw, pick("estimate", "Estimate"), expected="a number of points, 0 or more (e.g. 3)", errors=errors
        ),
        "blocked_by": joined_ids(raw, blockers),
    }
    issues = canonical_frame(raw[ROW], columns, errors, FORMAT)
    # Containers of the issues placed in them: a sub-issue counts under its parent issue, and a
    # project named only by sub-issues of another project's issues was an empty item, "not
    # started" with its one issue done (ingest QA).
    placed = containers.filter(parent_issue.is_null())
    good = placed.join(issues.select(ROW), on=ROW, how="semi", maintain_order="left")
    levels = (
        good.filter(pl.col("milestone_id").is_not_null()).select(
            pl.col("milestone_id").alias("item_id"),
            pl.col("milestone").alias("title"),
            pl.lit("milestone").alias("item_type"),
            pl.col("project_id").alias("parent_id"),
        ),
        good.filter(pl.col("project_id").is_not_null())
        .group_by("project_id", maintain_order=True)
        .agg(pl.col("project").first(), pl.col("initiative_id").drop_nulls().first())
        .select(
            pl.col("project_id").alias("item_id"),
            pl.col("project").alias("title"),
            pl.lit("epic").alias("item_type"),
            pl.col("initiative_id").alias("parent_id"),
        ),
        # An initiative is listed only when one of its projects is: issues belong to it through them.
        good.filter(pl.col("project_id").is_not_null() & pl.col("initiative_id").is_not_null()).select(
            pl.col("initiative_id").alias("item_id"),
            pl.col("initiative").alias("title"),
            pl.lit("initiative").alias("item_type"),
            pl.lit(None, dtype=pl.String).alias("parent_id"),
        ),
    )
    frame = add_containers(issues, levels, FORMAT)
    return Parsed(kind=KIND, format=FORMAT, frame=frame, errors=ordered(errors), mapping=by_canonical(mapping))
