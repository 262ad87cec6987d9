"""Jira issue CSV exports (Cloud and Data Center, "all fields" or "current fields").

Jira writes one column per field, repeating the name for multi-value fields (`Sprint,Sprint`,
`Inward issue link (Blocks)` five times), names site fields `Custom field (...)` and writes dates
in the exporting user's format, usually `25/Oct/19` or `28/Nov/25 5:03 PM`. Cloud "Excel CSV"
exports start with a UTF-8 byte-order mark, which the reader drops before matching names.

Mapping (header names are matched case-insensitively; every column but `Issue key` is optional):

| canonical | Jira column |
|---|---|
| item_id | Issue key |
| title | Summary |
| item_type | Issue Type: Epic -> epic, Initiative -> initiative, Objective -> objective, Milestone -> milestone, anything else (Story, Task, Bug, Sub-task) -> issue |
| status, status_category | Status; Status Category (To Do / In Progress / Done) when exported, else the status word; a Won't Do, Cancelled, Declined or Rejected status or resolution -> cancelled |
| parent_id | Parent, Parent id (an Issue id is turned into its key when the file has it), Custom field (Epic Link), Custom field (Parent Link), else Custom field (Parent Epic Name) matched to an issue's Epic Name or Summary |
| start_date | Custom field (Target start), Custom field (Start date), Start date |
| due_date | Due date, else Custom field (Target end) |
| baseline_due_date | the first of Custom field (Baseline target date) (repeated in some sites), Custom field (Baseline end date) |
| completed_date | Resolved, for done items only |
| estimate | the first non-empty of Custom field (Story Points) / (Story point estimate) / (Story points) |
| owner | Assignee |
| team | Team, Team Name, Custom field (Team), else Project name |
| objective_id | Custom field (Objective), Objective |
| blocked_by | every Inward issue link (Blocks) column: on issue X they list the issues that block X |
"""

from __future__ import annotations

import re

import polars as pl

from pmkit.sources.base import ROW, Parsed, ReadOptions, Sample, null_column
from pmkit.sources.csvfile import column_lookup, read_csv_rows
from pmkit.sources.roadmap_common import (
    DEFAULT_OPTIONS,
    KIND,
    ExportColumns,
    by_canonical,
    canonical_frame,
    clean_text,
    column_or_nulls,
    columns_lower,
    date_column,
    first_date,
    first_filled,
    first_number,
    joined_ids,
    ordered,
    repeated_columns,
    status_categories,
)

FORMAT = "jira"
__all__ = ["FORMAT", "KIND", "detect", "read"]

DATE_FORMATS = (
    "%d/%b/%y",  # 25/Oct/19: the default date format (Due date, Advanced Roadmaps target dates)
    "%d/%b/%y %I:%M %p",  # 28/Nov/25 5:03 PM: the default date-time format (Created, Resolved)
    "%d/%b/%y %H:%M",  # 28/Nov/25 17:03: sites set to a 24-hour clock
    "%d/%b/%Y",  # 25/Oct/2019: sites set to a four-digit year
    "%d/%b/%Y %I:%M %p",  # 25/Oct/2019 5:03 PM
)
DATE_EXAMPLE = "25/Oct/19"
HEADER_EXAMPLE = '"Issue key,Summary,Issue Type,Status,Due date,Parent"'
STORY_POINTS = ("Custom field (Story Points)", "Custom field (Story point estimate)", "Custom field (Story points)")
BASELINE_DATES = ("Custom field (Baseline target date)", "Custom field (Baseline end date)")
ITEM_TYPES = {"epic": "epic", "initiative": "initiative", "objective": "objective", "milestone": "milestone"}


ENGLISH_MONTHS = frozenset(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))
MONTH_IN_CELL = re.compile(r"^\d{1,2}/([^\d/]+)/\d{2,4}\b")


def _month_hint(cell: str) -> str:
    """What a date cell that is not a date says more when its month is a word but not an English
    month's: Jira writes month names in the language of the profile that exports ("12/Mär/26"),
    and such an export loaded in months whose names agree and was refused in the others (vendor
    QA)."""
    found = MONTH_IN_CELL.match(cell)
    if found is None or found.group(1).lower() in ENGLISH_MONTHS:
        return ""
    return (
        ": Jira writes month names in the language of the profile that exports; export again with the "
        "profile's language set to English"
    )


def detect(sample: Sample) -> bool:
    """Jira exports always carry `Issue key` and `Summary`; no other tool uses that pair."""
    columns = columns_lower(sample)
    return sample.layout == "csv" and {"issue key", "summary"} <= columns


def read(sample: Sample, options: ReadOptions = DEFAULT_OPTIONS) -> Parsed:
    """The export as canonical roadmap rows, one per issue, with a RowError per bad row."""
    raw, ragged = read_csv_rows(sample)
    raw = clean_text(raw)
    export = ExportColumns(raw, "Issue key", HEADER_EXAMPLE, "PROJ-123", ragged)
    key, errors, mapping, pick = export.key, export.errors, export.mapping, export.pick

    def picks(canonical: str, *aliases: str) -> list[str]:
        columns = repeated_columns(raw, *aliases)
        mapping.update(dict.fromkeys(columns, canonical))
        return columns

    def dates(column: str | None) -> pl.Series:
        return date_column(
            raw,
            column,
            formats=DATE_FORMATS,
            example=DATE_EXAMPLE,
            timezone=options.timezone,
            errors=errors,
            explain=_month_hint,
        )

    status = pick("status", "Status")
    category = pick("status_category", "Status Category")
    resolution = pick("status_category", "Resolution")
    resolved = dates(pick("completed_date", "Resolved"))
    status_category = status_categories(
        column_or_nulls(raw, status),
        raw[category] if category else None,
        raw[resolution] if resolution else None,
        finished=resolved,
    )
    item_type = column_or_nulls(raw, pick("item_type", "Issue Type")).str.to_lowercase()

    # Parent and Parent id may hold the numeric Issue id (10042) rather than the key (PROJ-7).
    issue_id = column_lookup(raw, "Issue id")
    key_of_id = dict(raw.select(issue_id, key).drop_nulls().iter_rows()) if issue_id else {}
    parent = first_filled(
        raw, picks("parent_id", "Parent", "Parent id", "Custom field (Epic Link)", "Custom field (Parent Link)")
    )
    parent = parent.replace(key_of_id).fill_null(
        _parent_by_epic_name(raw, key, pick("parent_id", "Custom field (Parent Epic Name)"))
    )
    due = dates(pick("due_date", "Due date", "Due Date"))
    target_end = dates(pick("due_date", "Custom field (Target end)"))
    teams = [c for c in (pick("team", "Team", "Team Name", "Custom field (Team)"), pick("team", "Project name")) if c]
    columns = {
        "item_id": raw[key],
        "title": column_or_nulls(raw, pick("title", "Summary")),
        "item_type": item_type.replace_strict(ITEM_TYPES, default="issue", return_dtype=pl.String),
        "parent_id": parent,
        "objective_id": column_or_nulls(raw, pick("objective_id", "Custom field (Objective)", "Objective")),
        "owner": column_or_nulls(raw, pick("owner", "Assignee")),
        "team": first_filled(raw, teams),
        "status": column_or_nulls(raw, status),
        "status_category": status_category,
        # The first filled of the start fields: the all-fields export has both custom fields, and
        # the first present one, often empty, hid the other's dates.
        "start_date": first_date(
            raw,
            [
                dates(c)
                for c in picks("start_date", "Custom field (Target start)", "Custom field (Start date)", "Start date")
            ],
        ),
        "due_date": due.fill_null(target_end),
        "baseline_due_date": first_date(raw, [dates(c) for c in picks("baseline_due_date", *BASELINE_DATES)]),
        "completed_date": pl.select(pl.when(status_category == "done").then(resolved)).to_series(),
        "estimate": first_number(
            raw,
            picks("estimate", *STORY_POINTS),
            expected="a number of story points, 0 or more (e.g. 3 or 0.5)",
            errors=errors,
        ),
        "blocked_by": joined_ids(raw, picks("blocked_by", "Inward issue link (Blocks)")),
    }
    frame = canonical_frame(raw[ROW], columns, errors, FORMAT)
    return Parsed(kind=KIND, format=FORMAT, frame=frame, errors=ordered(errors), mapping=by_canonical(mapping))


def _parent_by_epic_name(raw: pl.DataFrame, key: str, parent_epic_name: str | None) -> pl.Series:
    """Exports without a Parent column may name the epic instead (`Custom field (Parent Epic Name)`):
    the parent is then the issue whose Epic Name, or else Summary, is that name."""
    if parent_epic_name is None:
        return null_column(raw.height)
    key_of_name: dict[str, str] = {}
    for names in (column_lookup(raw, "Custom field (Epic Name)"), column_lookup(raw, "Summary")):
        if names is not None:
            for name, item_id in raw.select(names, key).drop_nulls().iter_rows():
                key_of_name.setdefault(name, item_id)
    return raw[parent_epic_name].replace_strict(key_of_name, default=None, return_dtype=pl.String)
