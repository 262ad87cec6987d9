"""Linear issue CSV exports -> canonical roadmap rows, with projects, milestones and initiatives."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pmkit import roadmap
from pmkit.sources import linear
from pmkit.sources.base import ROW, Parsed, ReadOptions, Rejected, RowError
from pmkit.sources.sniff import sniff

FIXTURES = Path(__file__).parent.parent / "fixtures" / "roadmap"
HEADER = (
    "ID,Team,Title,Description,Status,Estimate,Priority,Project ID,Project,Creator,Assignee,Labels,Cycle Number,"
    "Cycle Name,Cycle Start,Cycle End,Created,Updated,Started,Triaged,Completed,Canceled,Archived,Due Date,"
    "Parent issue,Initiatives,Project Milestone ID,Project Milestone,SLA Status,UUID,Time in status (minutes),"
    "Related to,Blocked by,Duplicate of"
)
COLUMNS = HEADER.split(",")


def line(**cells: str) -> str:
    """One export row with the given cells (by column name) and the rest empty."""
    return ",".join(cells.get(column.replace(" ", "_"), "") for column in COLUMNS)


# Milestone Beta of project Checkout v2 (initiative Revenue growth): ENG-1 done (3 points),
# ENG-2 in progress (5), ENG-3 canceled (8, so it counts for nothing). ENG-5 has no project.
ROWS = [
    line(ID="ENG-1", Team="Payments", Title="'=SUM(A1) breaks the import", Status="Done", Estimate="3", Project="Checkout v2",
         Assignee="Ann", Created="2024-05-01T08:00:00Z", Started="2024-05-02T09:00:00Z", Completed="2024-05-14T08:53:33Z",
         Due_Date="2024-06-01", Initiatives="Revenue growth", Project_Milestone="Beta"),
    line(ID="ENG-2", Team="Payments", Title="Card form", Status="In Progress", Estimate="5", Project="Checkout v2", Assignee="Bo",
         Created="2024-05-01T08:00:00Z", Started="2024-05-03T09:00:00Z", Due_Date="2024-06-10", Initiatives="Revenue growth",
         Project_Milestone="Beta", Blocked_by="ENG-1"),
    line(ID="ENG-3", Team="Payments", Title="Old flow", Status="Canceled", Estimate="8", Project="Checkout v2",
         Created="2024-05-01T08:00:00Z", Canceled="2024-05-10T10:00:00Z", Initiatives="Revenue growth", Project_Milestone="Beta"),
    line(ID="ENG-5", Team="Platform", Title="'Tis the season", Status="Todo", Created="2024-05-01T08:00:00Z"),
]  # fmt: skip


def read(tmp_path: Path, rows: list[str], options: ReadOptions | None = None) -> Parsed:
    path = tmp_path / "linear.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return linear.read(sniff(path), options or ReadOptions())


def test_issues_map_onto_canonical_columns(tmp_path):
    parsed = read(tmp_path, ROWS)
    assert parsed.errors == ()
    issues = parsed.frame.filter(pl.col(ROW).is_not_null())
    assert issues["item_id"].to_list() == ["ENG-1", "ENG-2", "ENG-3", "ENG-5"]
    assert issues["status_category"].to_list() == ["done", "in_progress", "cancelled", "todo"]
    assert issues["estimate"].to_list() == [3.0, 5.0, 8.0, None]
    assert issues["start_date"].to_list() == [date(2024, 5, 2), date(2024, 5, 3), None, None]
    assert issues["due_date"].to_list() == [date(2024, 6, 1), date(2024, 6, 10), None, None]
    assert issues["completed_date"].to_list() == [date(2024, 5, 14), None, None, None]
    assert issues["owner"].to_list() == ["Ann", "Bo", None, None]
    assert issues["blocked_by"].to_list() == [None, "ENG-1", None, None]
    assert set(parsed.frame["source"]) == {"linear"}


def test_formula_escape_is_undone_but_a_plain_apostrophe_stays(tmp_path):
    titles = read(tmp_path, ROWS).frame["title"].to_list()
    assert titles[0] == "=SUM(A1) breaks the import"
    assert titles[3] == "'Tis the season"


def test_projects_milestones_and_initiatives_become_items(tmp_path):
    frame = read(tmp_path, ROWS).frame
    assert frame.filter(item_id="ENG-1")["parent_id"].item() == "milestone:Checkout v2/Beta"
    assert frame.filter(item_id="ENG-5")["parent_id"].item() is None
    containers = frame.filter(pl.col(ROW).is_null()).select(
        "item_id", "title", "item_type", "parent_id", "status_category", "team"
    )
    assert containers.rows() == [
        ("milestone:Checkout v2/Beta", "Beta", "milestone", "project:Checkout v2", "in_progress", "Payments"),
        ("project:Checkout v2", "Checkout v2", "epic", "initiative:Revenue growth", "in_progress", "Payments"),
        ("initiative:Revenue growth", "Revenue growth", "initiative", None, "in_progress", "Payments"),
    ]
    milestone = frame.filter(item_id="milestone:Checkout v2/Beta").row(0, named=True)
    assert (milestone["start_date"], milestone["due_date"]) == (date(2024, 5, 2), date(2024, 6, 10))


def test_cancelled_issue_is_left_out_of_progress(tmp_path):
    """Beta has 3 of 3 + 5 points done; ENG-3's 8 canceled points do not count (3/16 if they did)."""
    snapshots = read(tmp_path, ROWS).frame.drop(ROW).with_columns(pl.lit(date(2024, 5, 20)).alias("snapshot_date"))
    health = roadmap.item_health(snapshots, date(2024, 5, 20))
    progress = dict(health.select("item_id", "progress").iter_rows())
    assert progress["milestone:Checkout v2/Beta"] == pytest.approx(3 / 8)
    assert progress["project:Checkout v2"] == pytest.approx(3 / 8)
    assert progress["initiative:Revenue growth"] == pytest.approx(3 / 8)
    assert health.filter(item_id="ENG-3")["health"].item() == "cancelled"


def test_parent_issue_wins_over_milestone_and_a_done_project(tmp_path):
    rows = [
        line(ID="ENG-1", Title="Parent", Status="Done", Project="Mobile", Project_Milestone="GA"),
        line(ID="ENG-2", Title="Child", Status="Done", Project="Mobile", Project_Milestone="GA", Parent_issue="ENG-1"),
        line(ID="ENG-3", Title="No milestone", Status="Canceled", Project="Mobile"),
    ]
    frame = read(tmp_path, rows).frame
    assert dict(frame.select("item_id", "parent_id").iter_rows()) == {
        "ENG-1": "milestone:Mobile/GA",
        "ENG-2": "ENG-1",
        "ENG-3": "project:Mobile",
        "milestone:Mobile/GA": "project:Mobile",
        "project:Mobile": None,
    }
    assert frame.filter(item_id="project:Mobile")["status_category"].item() == "done"


def test_a_project_named_only_by_sub_issues_of_another_project_is_no_item(tmp_path):
    """Ingest QA: ENG-2, a sub-issue of ENG-1 (project Checkout), names project Other. It counts
    under its parent, in Checkout, and Other became an item with nothing in it, "not started"
    while its one issue was done."""
    rows = [
        line(ID="ENG-1", Title="Parent", Status="In Progress", Project_ID="p1", Project="Checkout"),
        line(ID="ENG-2", Title="Child", Status="Done", Project_ID="p2", Project="Other", Parent_issue="ENG-1",
             Completed="2026-03-10T10:00:00Z"),
    ]  # fmt: skip
    frame = read(tmp_path, rows).frame
    assert dict(frame.select("item_id", "parent_id").iter_rows()) == {
        "ENG-1": "project:p1",
        "ENG-2": "ENG-1",
        "project:p1": None,
    }


def test_an_open_sub_issue_keeps_its_milestone_and_project_open(tmp_path):
    """ENG-11 is done in milestone Beta; its sub-issue ENG-12, in the same project and milestone,
    is in progress and due 10 Mar. The milestone and the project read done, due 1 Mar with
    ENG-11 alone (ingest QA); Linear counts a sub-issue in its project: in progress, due 10 Mar."""
    rows = [
        line(ID="ENG-11", Title="Parent", Status="Done", Project="Web", Project_Milestone="Beta",
             Started="2026-02-20T09:00:00Z", Completed="2026-02-27T09:00:00Z", Due_Date="2026-03-01"),
        line(ID="ENG-12", Title="Child", Status="In Progress", Project="Web", Project_Milestone="Beta",
             Parent_issue="ENG-11", Started="2026-02-25T09:00:00Z", Due_Date="2026-03-10"),
    ]  # fmt: skip
    frame = read(tmp_path, rows).frame
    assert frame.filter(item_id="ENG-12")["parent_id"].item() == "ENG-11"  # the tree is as Linear has it
    for container in ("milestone:Web/Beta", "project:Web"):
        row = frame.filter(item_id=container).row(0, named=True)
        assert (row["status_category"], row["due_date"], row["completed_date"]) == (
            "in_progress",
            date(2026, 3, 10),
            None,
        )


def test_open_work_under_a_cancelled_issue_counts_for_nothing_and_done_work_does(tmp_path):
    """ENG-2, open and due 30 Apr, is a sub-issue of ENG-1, cancelled, in project P1 beside the
    done ENG-3: it counts for nothing there, as in progress, and P1 is done (review: P1 read in
    progress, due 30 Apr, "100% done"). In P2, the cancelled ENG-4's sub-issue ENG-5 was done:
    P2 is done with it (review: P2 read cancelled). A sub-issue counts where its parent does, as
    its progress and objective do (its row's own project named another)."""
    rows = [
        line(ID="ENG-1", Title="Dropped", Status="Canceled", Project="P1", Due_Date="2026-03-01"),
        line(ID="ENG-2", Title="Left over", Status="In Progress", Project="P1", Parent_issue="ENG-1",
             Started="2026-03-02T09:00:00Z", Due_Date="2026-04-30"),
        line(ID="ENG-3", Title="Shipped", Status="Done", Project="P1", Completed="2026-03-10T09:00:00Z", Due_Date="2026-03-15"),
        line(ID="ENG-4", Title="Dropped too", Status="Canceled", Project="P2"),
        line(ID="ENG-5", Title="Done first", Status="Done", Project="P2", Parent_issue="ENG-4",
             Completed="2026-03-05T09:00:00Z", Due_Date="2026-03-05"),
        line(ID="ENG-6", Title="Parent", Status="Done", Project="P3", Completed="2026-03-05T09:00:00Z", Due_Date="2026-03-05"),
        line(ID="ENG-7", Title="Elsewhere", Status="In Progress", Project="P4", Parent_issue="ENG-6",
             Started="2026-03-02T09:00:00Z", Due_Date="2026-04-01"),
    ]  # fmt: skip
    frame = read(tmp_path, rows).frame
    status = {r["item_id"]: (r["status_category"], r["due_date"]) for r in frame.iter_rows(named=True)}
    assert status["project:P1"] == ("done", date(2026, 3, 15))
    assert status["project:P2"] == ("done", date(2026, 3, 5))
    assert status["project:P3"] == ("in_progress", date(2026, 4, 1))


def test_times_are_read_in_the_workspace_time_zone(tmp_path):
    rows = [
        line(
            ID="ENG-1",
            Title="Late night",
            Status="Done",
            Started="2024-05-14T23:30:00Z",
            Completed="2024-05-15T22:30:00.000Z",
        )
    ]
    frame = read(tmp_path, rows, ReadOptions(timezone="Europe/Berlin")).frame
    assert frame.select("start_date", "completed_date").row(0) == (date(2024, 5, 15), date(2024, 5, 16))


def test_bad_dates_and_estimates_are_row_errors(tmp_path):
    rows = [
        line(ID="ENG-1", Title="Fine", Status="Todo", Due_Date="2024-06-01"),
        line(ID="ENG-2", Title="Bad date", Status="Todo", Due_Date="2024-02-30"),
        line(ID="ENG-3", Title="Bad estimate", Status="Todo", Estimate="XL"),
    ]
    parsed = read(tmp_path, rows)
    assert parsed.errors == (
        RowError(3, "Due Date", "'2024-02-30' is not a valid date (expected e.g. 2024-05-14T08:53:33Z)"),
        RowError(4, "Estimate", "'XL' is not a number of points, 0 or more (e.g. 3)"),
    )
    assert parsed.frame["item_id"].to_list() == ["ENG-1"]


def test_missing_id_column_rejects_the_file(tmp_path):
    path = tmp_path / "linear.csv"
    path.write_text("Title,Status,Team\nSomething,Done,Payments\n")
    with pytest.raises(Rejected) as caught:
        linear.read(sniff(path))
    assert caught.value.errors[0].column == "ID"


@pytest.mark.parametrize("header", sorted((FIXTURES / "headers").glob("*.csv")), ids=lambda p: p.name)
def test_detects_linear_headers_and_no_others(header):
    assert linear.detect(sniff(header)) == header.name.startswith("linear_")


def test_a_renamed_project_or_milestone_stays_the_same_item_by_its_linear_id(tmp_path):
    """Project "Billing" renamed "Billing v2" (and milestone "Beta" renamed "Public beta") a week
    later, with ENG-2's due date moved from 25 Mar to 10 Apr: by name, the renamed project was a
    new item with a new baseline and no slip, and the old one was "gone" (ingest QA)."""
    ids = {"Project_ID": "11111111-aaaa", "Project_Milestone_ID": "22222222-bbbb"}

    def snapshot(project: str, milestone: str, due: str, day: date) -> pl.DataFrame:
        rows = [
            line(ID="ENG-1", Title="Done part", Status="Done", Estimate="3", Project=project, Project_Milestone=milestone,
                 Started="2026-03-01T09:00:00Z", Completed="2026-03-04T09:00:00Z", Due_Date="2026-03-10", **ids),
            line(ID="ENG-2", Title="Open part", Status="In Progress", Estimate="5", Project=project,
                 Project_Milestone=milestone, Started="2026-03-02T09:00:00Z", Due_Date=due, **ids),
        ]  # fmt: skip
        frame = read(tmp_path, rows).frame.drop(ROW)
        return frame.with_columns(pl.lit(day).alias("snapshot_date"))

    before = snapshot("Billing", "Beta", "2026-03-25", date(2026, 3, 5))
    after = snapshot("Billing v2", "Public beta", "2026-04-10", date(2026, 3, 12))
    containers = after.filter(pl.col("item_type") != "issue").select("item_id", "title", "parent_id")
    assert containers.rows() == [
        ("milestone:22222222-bbbb", "Public beta", "project:11111111-aaaa"),
        ("project:11111111-aaaa", "Billing v2", None),
    ]
    assert set(before["item_id"]) == set(after["item_id"])
    health = roadmap.item_health(pl.concat([before, after]), date(2026, 3, 12))
    project = health.filter(item_id="project:11111111-aaaa").row(0, named=True)
    assert (project["title"], project["slip_days"]) == ("Billing v2", 16)  # 25 Mar -> 10 Apr
