"""Plane issue CSV exports -> canonical roadmap rows, with modules as milestones."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pmkit import roadmap
from pmkit.sources import plane
from pmkit.sources.base import ROW, Parsed, Rejected, RowError
from pmkit.sources.sniff import sniff

FIXTURES = Path(__file__).parent.parent / "fixtures" / "roadmap"


def read_rows(tmp_path: Path, header: str, rows: list[str]) -> Parsed:
    """A Plane CSV of ``header`` and ``rows``, read."""
    path = tmp_path / "plane.csv"
    path.write_text(header + "\n".join(rows) + "\n")
    return plane.read(sniff(path))


def module_progress(parsed: Parsed, module: str) -> float:
    """The progress of ``module`` judged on 1 Feb 2024, with the file as that day's snapshot."""
    snapshots = parsed.frame.drop(ROW).with_columns(pl.lit(date(2024, 2, 1)).alias("snapshot_date"))
    return roadmap.item_health(snapshots, date(2024, 2, 1)).filter(item_id=module)["progress"].item()


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
    assert module_progress(read_rows(tmp_path, header, rows), "module:WEB/Launch") == pytest.approx(2 / 8)


def test_bad_cells_are_row_errors(tmp_path):
    header = '"Identifier","Name","State Name","Target Date","Estimate","Assignees"\n'
    rows = [
        '"A-1","Fine","Todo","2024-01-31","1","Jane"',
        '"A-2","Bad","Todo","2024-01-32","",""',
        '"A-3","Worse","Todo","","L",""',
    ]
    parsed = read_rows(tmp_path, header, rows)
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


def test_a_relation_is_read_in_its_direction(tmp_path):
    """Plane writes each relation on both issues: on the other one marked "incoming" (in the type
    stored, or as its inverse, "blocking", without a direction). The incoming copy of "WEB-2
    blocked by WEB-1" made WEB-1 wait for WEB-2 too (vendor QA)."""
    header = '"Identifier","Name","State Name","Relations"\n'
    rows = [
        '"WEB-1","API","In Progress","[{""type"": ""blocked_by"", ""issue"": ""WEB-2"", ""direction"": ""incoming""}]"',
        '"WEB-2","UI","Todo","[{""type"": ""blocked_by"", ""issue"": ""WEB-1"", ""direction"": ""outgoing""}]"',
        '"WEB-3","Docs","Todo","[{""type"": ""blocking"", ""issue"": ""WEB-4""}]"',
        '"WEB-4","Site","Todo","[{""type"": ""blocked_by"", ""issue"": ""WEB-3""}, {""type"": ""relates_to"", ""issue"": ""WEB-1""}]"',
        '"WEB-5","Old","Todo","[{""type"": ""blocking"", ""issue"": ""WEB-1"", ""direction"": ""incoming""}]"',
    ]
    parsed = read_rows(tmp_path, header, rows)
    blockers = dict(parsed.frame.filter(pl.col("item_type") == "issue").select("item_id", "blocked_by").rows())
    assert blockers == {"WEB-1": None, "WEB-2": "WEB-1", "WEB-3": None, "WEB-4": "WEB-3", "WEB-5": "WEB-1"}


def test_category_estimates_are_left_out_and_progress_counts_items(tmp_path):
    """A project estimating in sizes (XS-XL) exports their labels: every row was "'M' is not a
    number of points" and the export could not be loaded at all (vendor QA). Labels alone are
    not points: the column is left out and progress counts items, as without estimates."""
    header = '"Project Identifier","Identifier","Name","State Name","Estimate","Modules"\n'
    rows = [
        '"WEB","WEB-1","Hero","Done","M","[""Launch""]"',
        '"WEB","WEB-2","Pricing","In Progress","XL","[""Launch""]"',
        '"WEB","WEB-3","Footer","Todo","","[""Launch""]"',
    ]
    parsed = read_rows(tmp_path, header, rows)
    assert parsed.errors == ()
    assert "estimate" not in parsed.mapping
    assert parsed.frame["estimate"].null_count() == parsed.frame.height
    assert module_progress(parsed, "module:WEB/Launch") == pytest.approx(1 / 3)


def test_formula_escapes_are_taken_off_as_for_linear(tmp_path):
    """Plane's CSV prefixes text starting with = + - @ with ' (as Linear's does): titles read
    "'=Revenue dashboard" (vendor QA)."""
    path = tmp_path / "plane.csv"
    path.write_text(
        '"Identifier","Name","State Name"\n"WEB-1","\'=Revenue dashboard","Todo"\n"WEB-2","\'-10% churn fix","Todo"\n'
    )
    assert plane.read(sniff(path)).frame["title"].to_list() == ["=Revenue dashboard", "-10% churn fix"]
