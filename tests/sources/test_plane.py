"""Plane issue CSV exports -> canonical roadmap rows, with modules as milestones."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pmkit import roadmap
from pmkit.sources import plane
from pmkit.sources.base import ROW, Rejected, RowError
from pmkit.sources.sniff import sniff

FIXTURES = Path(__file__).parent.parent / "fixtures" / "roadmap"


def test_sample_export_parses():
    """The sample has 9 issues in two projects; three name a module and no parent."""
    parsed = plane.read(sniff(FIXTURES / "plane_issues.csv"))
    assert parsed.errors == ()
    issues = parsed.frame.filter(pl.col(ROW).is_not_null())
    assert issues.select("item_id", "status", "status_category").rows() == [
        ("TEST-1", "Todo", "todo"),
        ("TEST-2", "In Progress", "in_progress"),
        ("TEST-3", "Done", "done"),
        ("TEST-4", "Backlog", "todo"),
        ("ANT-1", "Todo", "todo"),
        ("TEST-5", "Done", "done"),
        ("TEST-6", "Cancelled", "cancelled"),
        ("TEST-7", "In Progress", "in_progress"),
        ("TEST-8", "Backlog", "todo"),
    ]
    assert issues[ROW].to_list() == list(range(2, 11))
    ant = issues.filter(item_id="ANT-1").row(0, named=True)
    assert (ant["title"], ant["owner"], ant["team"], ant["due_date"]) == (
        "Design new landing page",
        "Alice Brown",  # the first of ["Alice Brown", "Bob Wilson"]
        "Another Project",
        date(2024, 1, 12),
    )
    test2 = issues.filter(item_id="TEST-2").row(0, named=True)
    assert (test2["start_date"], test2["due_date"], test2["estimate"]) == (date(2024, 1, 1), date(2024, 1, 5), 3.0)
    assert issues.filter(item_id="TEST-3")["completed_date"].item() == date(2024, 1, 3)  # 2024-01-03T15:00:00Z
    sub = issues.filter(item_id="TEST-7").row(0, named=True)
    assert (sub["parent_id"], sub["blocked_by"]) == ("TEST-2", "TEST-2")


def test_first_module_becomes_a_milestone_parent():
    frame = plane.read(sniff(FIXTURES / "plane_issues.csv")).frame
    assert frame.filter(item_id="TEST-1")["parent_id"].item() == "module:TEST/Authentication"
    assert frame.filter(item_id="TEST-4")["parent_id"].item() is None
    modules = frame.filter(pl.col(ROW).is_null()).select("item_id", "title", "item_type", "status_category", "team")
    assert modules.rows() == [
        ("module:TEST/Authentication", "Authentication", "milestone", "todo", "Test Project"),
        ("module:TEST/API", "API", "milestone", "done", "Test Project"),
        ("module:ANT/UI/UX", "UI/UX", "milestone", "todo", "Another Project"),
    ]
    assert set(frame["source"]) == {"plane"}


def test_module_progress_counts_its_issues(tmp_path):
    header = '"Project Identifier","Identifier","Name","State Name","Estimate","Modules","Parent"\n'
    rows = [
        '"WEB","WEB-1","Hero","Done","2","[""Launch""]",""',
        '"WEB","WEB-2","Pricing","In Progress","6","[""Launch"", ""Later""]",""',
        '"WEB","WEB-3","Dropped","Cancelled","4","[""Launch""]",""',
    ]
    path = tmp_path / "plane.csv"
    path.write_text(header + "\n".join(rows) + "\n")
    snapshots = plane.read(sniff(path)).frame.drop(ROW).with_columns(pl.lit(date(2024, 2, 1)).alias("snapshot_date"))
    health = roadmap.item_health(snapshots, date(2024, 2, 1))
    assert health.filter(item_id="module:WEB/Launch")["progress"].item() == pytest.approx(2 / 8)


def test_bad_cells_are_row_errors(tmp_path):
    header = '"Identifier","Name","State Name","Target Date","Estimate","Assignees"\n'
    rows = [
        '"A-1","Fine","Todo","2024-01-31","1","Jane"',
        '"A-2","Bad","Todo","2024-01-32","",""',
        '"A-3","Worse","Todo","","L",""',
    ]
    path = tmp_path / "plane.csv"
    path.write_text(header + "\n".join(rows) + "\n")
    parsed = plane.read(sniff(path))
    assert parsed.errors == (
        RowError(3, "Target Date", "'2024-01-32' is not a valid date (expected e.g. 2024-01-05)"),
        RowError(4, "Estimate", "'L' is not a number of points, 0 or more (e.g. 3)"),
    )
    assert parsed.frame.select("item_id", "owner").rows() == [("A-1", "Jane")]  # a plain name, not a JSON list


def test_missing_identifier_column_rejects_the_file(tmp_path):
    path = tmp_path / "plane.csv"
    path.write_text('"Name","State Name"\n"Something","Done"\n')
    with pytest.raises(Rejected) as caught:
        plane.read(sniff(path))
    assert caught.value.errors[0].column == "Identifier"


@pytest.mark.parametrize("header", sorted((FIXTURES / "headers").glob("*.csv")), ids=lambda p: p.name)
def test_detects_plane_headers_and_no_others(header):
    assert plane.detect(sniff(header)) == header.name.startswith("plane_")


def test_the_rows_loaded_are_the_files_rows_and_the_modules_named_are_said_apart(tmp_path):
    # The 9-row sample was "loaded 12 rows": its 3 modules counted as rows (QA).
    from pmkit.config import load_config
    from pmkit.ingest import ingest

    (result,) = ingest([FIXTURES / "plane_issues.csv"], load_config(tmp_path / "ws"))
    assert (result.status, result.rows_loaded, result.items_named) == ("loaded", 9, 3)
    assert result.summary() == (
        "plane_issues.csv: loaded 9 rows as roadmap (plane), and 3 items they name (modules, cycles, projects or initiatives)"
    )
