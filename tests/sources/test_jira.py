"""Jira issue CSV exports -> canonical roadmap rows."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from pmkit import roadmap
from pmkit.canonical import ROADMAP_COLUMNS
from pmkit.sources import jira
from pmkit.sources.base import ROW, Parsed, ReadOptions, Rejected, RowError
from pmkit.sources.sniff import sniff

FIXTURES = Path(__file__).parent.parent / "fixtures" / "roadmap"
BOM = "\ufeff"

# The export the interface contract (../shared/contract/check.py) loads: ON-1 is 3 of 8 points done.
CONTRACT_CSV = (
    "\ufeffSummary,Issue key,Issue id,Issue Type,Status,Status Category,Due date,Parent,"
    "Custom field (Story Points),Custom field (Target start),Custom field (Target end)\n"
    "Onboarding revamp,ON-1,10,Epic,In Progress,In Progress,31/Mar/26,,,01/Mar/26,31/Mar/26\n"
    "Welcome tour,ON-2,11,Story,Done,Done,,ON-1,3,,\n"
    "Checklist,ON-3,12,Story,To Do,To Do,,ON-1,5,,\n"
)


def canonical(*rows: dict) -> pl.DataFrame:
    schema = {**ROADMAP_COLUMNS, ROW: pl.Int64()}
    return pl.DataFrame([{name: row.get(name) for name in schema} for row in rows], schema=schema, orient="row")


def read(tmp_path: Path, text: str, name: str = "export.csv") -> Parsed:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return jira.read(sniff(path))


def as_snapshot(frame: pl.DataFrame, day: date) -> pl.DataFrame:
    return frame.drop(ROW).with_columns(pl.lit(day).alias("snapshot_date"))


def test_contract_export_maps_every_column(tmp_path):
    parsed = read(tmp_path, CONTRACT_CSV)
    common = {"source": "jira"}
    assert parsed.errors == ()
    assert_frame_equal(
        parsed.frame,
        canonical(
            {
                **common,
                "item_id": "ON-1",
                "title": "Onboarding revamp",
                "item_type": "epic",
                "status": "In Progress",
                "status_category": "in_progress",
                "start_date": date(2026, 3, 1),
                "due_date": date(2026, 3, 31),
                ROW: 2,
            },
            {
                **common,
                "item_id": "ON-2",
                "title": "Welcome tour",
                "item_type": "issue",
                "parent_id": "ON-1",
                "status": "Done",
                "status_category": "done",
                "estimate": 3.0,
                ROW: 3,
            },
            {
                **common,
                "item_id": "ON-3",
                "title": "Checklist",
                "item_type": "issue",
                "parent_id": "ON-1",
                "status": "To Do",
                "status_category": "todo",
                "estimate": 5.0,
                ROW: 4,
            },
        ),
    )
    assert parsed.kind == "roadmap" and parsed.format == "jira"
    # canonical <- source, as for event files (the Data page and the CLI show it so)
    assert parsed.mapping["item_id"] == "Issue key"
    assert parsed.mapping["estimate"] == "Custom field (Story Points)"


def test_contract_epic_progress_is_done_points_over_total_points(tmp_path):
    """ON-2 (3 points) is done, ON-3 (5 points) is not: ON-1 is 3/8 = 0.375 done."""
    snapshots = as_snapshot(read(tmp_path, CONTRACT_CSV).frame, date(2026, 3, 13))
    health = roadmap.item_health(snapshots, date(2026, 3, 13))
    assert health.filter(item_id="ON-1")["progress"].item() == pytest.approx(0.375)


def test_two_snapshots_with_bom_repeated_sprints_and_story_points(tmp_path):
    """Sprint and Story Points repeat; the first non-empty story points count. Epic ON-1 has
    ON-2 (3, done), ON-3 (5, only in the second Story Points column) and ON-4 (2):
    2026-03-06: 3 of 10 points done; 2026-03-13: ON-3 is done too, 8 of 10."""
    header = "Issue key,Issue id,Summary,Issue Type,Status,Sprint,Sprint,Custom field (Story Points),Custom field (Story Points),Parent\n"
    first = (
        BOM + header + "ON-1,10,Onboarding,Epic,In Progress,,,,,\n"
        "ON-2,11,Welcome tour,Story,Done,Sprint 1,Sprint 2,3,,ON-1\n"
        "ON-3,12,Checklist,Story,In Progress,Sprint 2,,,5,ON-1\n"
        "ON-4,13,Tips,Story,To Do,,,2,2,ON-1\n"
    )
    second = first.replace("ON-3,12,Checklist,Story,In Progress", "ON-3,12,Checklist,Story,Done")
    one = read(tmp_path, first, "jira_1.csv")
    two = read(tmp_path, second, "jira_2.csv")
    assert one.errors == () and two.errors == ()
    assert one.frame["item_id"].to_list() == ["ON-1", "ON-2", "ON-3", "ON-4"]
    assert one.frame["estimate"].to_list() == [None, 3.0, 5.0, 2.0]
    assert not {"Sprint", "Sprint_duplicated_0"} & set(one.mapping.values())
    assert one.mapping["estimate"] == "Custom field (Story Points), Custom field (Story Points)_duplicated_0"

    snapshots = pl.concat([as_snapshot(one.frame, date(2026, 3, 6)), as_snapshot(two.frame, date(2026, 3, 13))])
    assert roadmap.item_health(snapshots, date(2026, 3, 6)).filter(item_id="ON-1")["progress"].item() == pytest.approx(
        0.3
    )
    assert roadmap.item_health(snapshots, date(2026, 3, 13)).filter(item_id="ON-1")["progress"].item() == pytest.approx(
        0.8
    )
    assert_frame_equal(
        roadmap.burn_up(snapshots, "ON-1"),
        pl.DataFrame(
            {
                "snapshot_date": [date(2026, 3, 6), date(2026, 3, 13)],
                "done": [3.0, 8.0],
                "total": [10.0, 10.0],
                "unit": ["points", "points"],
            }
        ),
    )


def test_all_fields_cloud_export(tmp_path):
    """A fixture with the exact 269-column header of a real Jira Cloud export (BOM included):
    dates with times, a repeated baseline field, three story point fields, Blocks links in
    repeated columns, parents named by epic name, and a Won't Do story filed under Done."""
    parsed = jira.read(sniff(FIXTURES / "jira_cloud_all_fields.csv"))
    assert parsed.errors == ()
    frame = parsed.frame
    assert frame["item_id"].to_list() == ["PAY-1", "PAY-2", "PAY-3", "PAY-4", "PAY-5"]
    assert frame["parent_id"].to_list() == [None, "PAY-1", "PAY-1", "PAY-1", "PAY-1"]
    assert frame["status_category"].to_list() == ["in_progress", "done", "in_progress", "todo", "cancelled"]
    assert frame["estimate"].to_list() == [None, 5.0, 3.0, 2.0, 8.0]
    assert frame["completed_date"].to_list() == [None, date(2026, 3, 10), None, None, None]  # 10/Mar/26 4:15 PM
    assert frame["blocked_by"].to_list() == [None, None, "PAY-2,PAY-4", None, None]
    assert frame["team"].to_list() == ["Checkout squad", "Payments", "Payments", "Payments", "Payments"]
    epic = frame.row(0, named=True)
    assert (epic["start_date"], epic["due_date"], epic["baseline_due_date"]) == (
        date(2026, 3, 2),
        date(2026, 4, 30),
        date(2026, 4, 15),
    )
    assert epic["owner"] == "Ann Lee"

    # PAY-5 is cancelled: PAY-1 is 5 of 5 + 3 + 2 points done.
    health = roadmap.item_health(as_snapshot(frame, date(2026, 3, 16)), date(2026, 3, 16))
    assert health.filter(item_id="PAY-1")["progress"].item() == pytest.approx(0.5)
    assert health.filter(item_id="PAY-5")["health"].item() == "cancelled"


def test_roadmap_epics_sample():
    """A real Advanced Roadmaps export: no status or type columns, keys like RR*3424."""
    parsed = jira.read(sniff(FIXTURES / "jira_roadmap_epics.csv"))
    assert parsed.errors == ()
    assert parsed.frame.height == 14
    first = parsed.frame.row(0, named=True)
    assert (first["item_id"], first["title"]) == ("RR*3424", "Virus scanning")
    assert (first["start_date"], first["due_date"]) == (date(2019, 9, 11), date(2019, 10, 25))
    assert set(parsed.frame["status_category"]) == {"todo"}
    assert set(parsed.frame["item_type"]) == {"issue"}


def test_impossible_date_is_a_row_error_naming_row_and_column(tmp_path):
    parsed = read(
        tmp_path, "Issue key,Summary,Due date\nA-1,Fine,25/Oct/19\nA-2,Bad,31/Feb/20\nA-3,Later,28/Nov/25 5:03 PM\n"
    )
    assert parsed.errors == (RowError(3, "Due date", "'31/Feb/20' is not a valid date (expected e.g. 25/Oct/19)"),)
    assert parsed.frame["item_id"].to_list() == ["A-1", "A-3"]
    assert parsed.frame["due_date"].to_list() == [date(2019, 10, 25), date(2025, 11, 28)]


def test_bad_rows_each_give_one_error_and_good_rows_load(tmp_path):
    parsed = read(
        tmp_path,
        "Issue key,Summary,Custom field (Story Points)\nA-1,Fine,3\n,No key,1\nA-3,Odd points,lots\nA-1,Again,2\n",
    )
    assert parsed.errors == (
        RowError(3, "Issue key", "the item id is empty (every row needs one, e.g. PROJ-123)"),
        RowError(4, "Custom field (Story Points)", "'lots' is not a number of story points, 0 or more (e.g. 3 or 0.5)"),
        RowError(5, "Issue key", "'A-1' appears more than once (first on row 2); each item needs its own id"),
    )
    assert parsed.frame["item_id"].to_list() == ["A-1"]


def test_missing_issue_key_column_rejects_the_file(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Summary,Status\nSomething,Done\n")
    with pytest.raises(Rejected) as caught:
        jira.read(sniff(path))
    [error] = caught.value.errors
    assert error.column == "Issue key"
    assert '"Issue key,Summary,Issue Type,Status,Due date,Parent"' in error.message


def test_parent_given_as_issue_id_becomes_the_key(tmp_path):
    parsed = read(
        tmp_path, "Issue key,Issue id,Summary,Parent id\nP-1,100,Epic,\nP-2,101,Story,100\nP-3,102,Orphan,999\n"
    )
    assert parsed.frame["parent_id"].to_list() == [None, "P-1", "999"]


def test_status_words_resolutions_and_dates_without_status_category(tmp_path):
    parsed = read(
        tmp_path,
        "Issue key,Summary,Status,Resolution,Resolved,Issue Type,Custom field (Epic Link)\n"
        "A-1,One,Closed,Fixed,02/Mar/26 9:00 AM,Bug,E-1\n"
        "A-2,Two,Closed,Won't Do,02/Mar/26 9:00 AM,Sub-task,E-1\n"
        "A-3,Three,Ready for QA,,,Task,E-1\n"
        "A-4,Four,Declined,,,Initiative,\n"
        "A-5,Five,Backlog,,,Epic,\n",
    )
    assert parsed.frame["status_category"].to_list() == ["done", "cancelled", "in_progress", "cancelled", "todo"]
    assert parsed.frame["completed_date"].to_list() == [date(2026, 3, 2), None, None, None, None]
    assert parsed.frame["item_type"].to_list() == ["issue", "issue", "issue", "initiative", "epic"]
    assert parsed.frame["parent_id"].to_list() == ["E-1", "E-1", "E-1", None, None]


def test_iso_dates_and_workspace_time_zone(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(
        "Issue key,Summary,Status,Resolved,Due date\nA-1,One,Done,2026-03-01T23:30:00.000+0000,2026-03-31\n"
    )
    parsed = jira.read(sniff(path), ReadOptions(timezone="Europe/Berlin"))
    assert parsed.frame["completed_date"].item() == date(2026, 3, 2)  # 00:30 in Berlin
    assert parsed.frame["due_date"].item() == date(2026, 3, 31)


SHUFFLE_HEADER = "Issue key,Summary,Status,Sprint,Sprint,Custom field (Story Points),Parent,Due date"
SHUFFLE_ROWS = (
    "ON-1,Café checkout,In Progress,,,,,31/Mar/26",
    "ON-2,Welcome tour,Done,Sprint 1,Sprint 2,3,ON-1,",
    "ON-3,Checklist – part 2,To Do,Sprint 2,,5,ON-1,28/Nov/25 5:03 PM",
    "ON-4,Tips,Won't Do,,,2,ON-1,",
)


@settings(max_examples=30, deadline=None)
@given(
    order=st.permutations(range(len(SHUFFLE_ROWS))),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
)
def test_shuffled_or_re_encoded_exports_load_the_same_rows(order, encoding):
    """Row order and the file's encoding (Excel writes Windows-1252 or UTF-16) change nothing."""
    rows = [SHUFFLE_ROWS[i] for i in order]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        path.write_bytes("\r\n".join([SHUFFLE_HEADER, *rows, ""]).encode(encoding))
        parsed = jira.read(sniff(path))
    assert parsed.errors == ()
    frame = parsed.frame.drop(ROW).sort("item_id")
    assert frame["title"].to_list() == ["Café checkout", "Welcome tour", "Checklist – part 2", "Tips"]
    assert frame["status_category"].to_list() == ["in_progress", "done", "todo", "cancelled"]
    assert frame["due_date"].to_list() == [date(2026, 3, 31), None, date(2025, 11, 28), None]
    assert frame["estimate"].to_list() == [None, 3.0, 5.0, 2.0]


@pytest.mark.parametrize("header", sorted((FIXTURES / "headers").glob("*.csv")), ids=lambda p: p.name)
def test_detects_jira_headers_and_no_others(header):
    assert jira.detect(sniff(header)) == header.name.startswith("jira_")


def test_detects_the_full_fixtures():
    assert jira.detect(sniff(FIXTURES / "jira_cloud_all_fields.csv"))
    assert jira.detect(sniff(FIXTURES / "jira_roadmap_epics.csv"))
    assert not jira.detect(sniff(FIXTURES / "plane_issues.csv"))


def test_the_start_date_is_the_first_filled_of_the_start_fields(tmp_path):
    """The all-fields export has both Target start and Start date: the first present column, empty
    here, was taken, so P-1 had no start date and no schedule at all (roadmap QA)."""
    parsed = read(
        tmp_path,
        "Issue key,Summary,Status,Custom field (Start date),Custom field (Target start),Due date\n"
        "P-1,x,In Progress,01/Oct/26,,31/Oct/26\n"
        "P-2,y,In Progress,01/Oct/26,05/Oct/26,31/Oct/26\n",
    )
    assert parsed.errors == ()
    assert parsed.frame["start_date"].to_list() == [date(2026, 10, 1), date(2026, 10, 5)]  # Target start first
    assert parsed.mapping["start_date"] == "Custom field (Target start), Custom field (Start date)"


def test_an_export_in_another_language_reads_its_status_categories(tmp_path):
    """A German Jira writes "Erledigt", "In Arbeit" and "Zu erledigen": each unknown word was work
    under way, the done story (resolved 10 Feb) too, and its epic read 0% done and off track
    (vendor QA). Jira's three categories are read in German, French, Spanish, Portuguese,
    Italian and Dutch; a status no word of which is known, with a Resolved date, is done."""
    path = tmp_path / "jira.csv"
    path.write_text(
        "Issue key,Issue id,Summary,Issue Type,Status,Resolution,Resolved,Status Category\n"
        "PROJ-1,10001,Onboarding,Epic,In Arbeit,,,In Arbeit\n"
        "PROJ-2,10002,Welcome mail,Story,Fertig,Fertig,10/Feb/26 4:15 PM,Erledigt\n"
        "PROJ-3,10003,Checklist,Story,Zu erledigen,,,Zu erledigen\n"
        "PROJ-4,10004,Docs,Story,À faire,,,À faire\n"
        "PROJ-5,10005,API,Story,Em andamento,,,Em andamento\n"
        "PROJ-6,10006,Site,Story,Abgenommen,,12/Feb/26 9:00 AM,\n"
        "PROJ-7,10007,Copy,Story,Lektorat,,,\n",
        encoding="utf-8",
    )
    frame = jira.read(sniff(path)).frame
    assert dict(frame.select("item_id", "status_category").rows()) == {
        "PROJ-1": "in_progress",
        "PROJ-2": "done",
        "PROJ-3": "todo",
        "PROJ-4": "todo",
        "PROJ-5": "in_progress",
        "PROJ-6": "done",  # a word of the team's own, resolved
        "PROJ-7": "in_progress",  # a step of the team's own, not resolved
    }


def test_a_month_name_in_another_language_says_how_to_export_it(tmp_path):
    """Jira writes month names in the exporting person's language: a German export's "12/Mär/26"
    was refused as any bad date, and the same export loaded in months whose names agree (vendor
    QA). The message says to export with the profile's language set to English."""
    path = tmp_path / "jira.csv"
    path.write_text(
        "Issue key,Summary,Issue Type,Status,Due date\nP-1,A,Story,Done,12/Mär/26\nP-2,B,Story,Done,31/Feb/20\n"
    )
    errors = jira.read(sniff(path)).errors
    assert errors == (
        RowError(
            2,
            "Due date",
            "'12/Mär/26' is not a valid date (expected e.g. 25/Oct/19): Jira writes month names in the language "
            "of the profile that exports; export again with the profile's language set to English",
        ),
        RowError(3, "Due date", "'31/Feb/20' is not a valid date (expected e.g. 25/Oct/19)"),
    )


def test_a_cancelled_story_in_another_language_is_not_done_by_its_resolved_date(tmp_path):
    """Review: "Abgebrochen" with the resolution "Wird nicht erledigt", "Verworfen", "Annullato"
    and "Geannuleerd", each with a Resolved date (Jira sets one for Won't Do too), read done and
    counted as shipped under the rule for a status of the team's own."""
    path = tmp_path / "jira.csv"
    path.write_text(
        "Issue key,Issue id,Summary,Issue Type,Status,Resolution,Resolved\n"
        "P-1,1,A,Story,Abgebrochen,Wird nicht erledigt,10/Feb/26 4:15 PM\n"
        "P-2,2,B,Story,Verworfen,Abgelehnt,10/Feb/26 4:15 PM\n"
        "P-3,3,C,Story,Annullato,,10/Feb/26 4:15 PM\n"
        "P-4,4,D,Story,Geannuleerd,,10/Feb/26 4:15 PM\n"
        "P-5,5,E,Story,Anders,Wordt niet gedaan,10/Feb/26 4:15 PM\n",
        encoding="utf-8",
    )
    categories = jira.read(sniff(path)).frame["status_category"].to_list()
    assert categories == ["cancelled"] * 5


def test_a_status_saying_the_work_is_not_done_is_not_done_by_its_resolved_date(tmp_path):
    """Review: "Not Done" (and "Nicht erledigt", "Non fatto") with a Resolved date read done under
    the rule for a status of the team's own: the negation made the status unknown, and unknown
    with a Resolved date is finished work. A status of the team's own stays done by that date."""
    path = tmp_path / "jira.csv"
    path.write_text(
        "Issue key,Issue id,Summary,Issue Type,Status,Resolved\n"
        "P-1,1,A,Story,Not Done,12/Mar/26 5:03 PM\n"
        "P-2,2,B,Story,Nicht erledigt,12/Mar/26 5:03 PM\n"
        "P-3,3,C,Story,Non fatto,12/Mar/26 5:03 PM\n"
        "P-4,4,D,Story,Abgenommen,12/Mar/26 5:03 PM\n"
        # The next review: other negations say nothing of done; these are a team's closing words.
        "P-5,5,E,Story,No longer needed,12/Mar/26 5:03 PM\n"
        "P-6,6,F,Story,Go / No-Go passed,12/Mar/26 5:03 PM\n"
        # The third: any word for done after the negation, the status list's own among them.
        "P-7,7,G,Story,Not Fixed,12/Mar/26 5:03 PM\n"
        "P-8,8,H,Story,Not yet finished,12/Mar/26 5:03 PM\n"
        "P-9,9,I,Story,Nicht abgeschlossen,12/Mar/26 5:03 PM\n",
        encoding="utf-8",
    )
    categories = jira.read(sniff(path)).frame["status_category"].to_list()
    assert categories == ["in_progress"] * 3 + ["done"] * 3 + ["in_progress"] * 3
