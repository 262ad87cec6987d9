"""pmkit's own roadmap CSV -> canonical roadmap rows, every cell checked."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pmkit.canonical import ROADMAP_COLUMNS
from pmkit.sources import pmkit_roadmap
from pmkit.sources.base import ROW, Parsed, Rejected, RowError
from pmkit.sources.sniff import sniff

FIXTURES = Path(__file__).parent.parent / "fixtures" / "roadmap"


def read(tmp_path: Path, text: str) -> Parsed:
    path = tmp_path / "roadmap.csv"
    path.write_text(text)
    return pmkit_roadmap.read(sniff(path))


def test_every_canonical_column_is_read(tmp_path):
    parsed = read(
        tmp_path,
        "item_id,title,item_type,parent_id,objective_id,metric,owner,team,status,status_category,start_date,due_date,"
        "baseline_due_date,completed_date,estimate,progress,declared_health,blocked_by,source\n"
        "obj-1,Grow activation,objective,,,activation_rate,Dana,Growth,Active,in_progress,2026-01-01,2026-06-30,,,,,On track,,\n"
        'ep-1,Checkout,epic,obj-1,obj-1,,Ann,Payments,Building,,2026-02-01,2026-03-31,2026-03-15,,8,40%,at_risk,"ep-2, ep-3",jira\n',
    )
    assert parsed.errors == ()
    expected = pl.DataFrame(
        [
            ("obj-1", "Grow activation", "objective", None, None, "activation_rate", "Dana", "Growth", "Active", "in_progress",
             date(2026, 1, 1), date(2026, 6, 30), None, None, None, None, "on_track", None, "pmkit", 2),
            ("ep-1", "Checkout", "epic", "obj-1", "obj-1", None, "Ann", "Payments", "Building", "in_progress",
             date(2026, 2, 1), date(2026, 3, 31), date(2026, 3, 15), None, 8.0, 0.4, "at_risk", "ep-2,ep-3", "jira", 3),
        ],
        schema={**ROADMAP_COLUMNS, ROW: pl.Int64()},
        orient="row",
    )  # fmt: skip
    assert_frame_equal(parsed.frame, expected)
    assert parsed.mapping["due_date"] == "due_date"


def test_minimal_file_gets_defaults(tmp_path):
    parsed = read(tmp_path, "Item_ID,Title,Status\nx-1,Something,Done\nx-2,Other,\n")
    assert parsed.frame.select("item_id", "item_type", "status_category", "source").rows() == [
        ("x-1", "issue", "done", "pmkit"),
        ("x-2", "issue", "todo", "pmkit"),
    ]


def test_the_readme_minimal_file_of_ids_and_titles_is_detected_and_read(tmp_path):
    """The README says only item_id and title are required; detection also wanted a status, so
    such a file was refused as "no known export" while the message asked for ids and titles."""
    path = tmp_path / "roadmap.csv"
    path.write_text("item_id,title\nQA-1,QA item one\n")
    assert pmkit_roadmap.detect(sniff(path))
    assert pmkit_roadmap.read(sniff(path)).frame.select("item_id", "title", "status_category").rows() == [
        ("QA-1", "QA item one", "todo")
    ]


def test_each_bad_cell_is_a_row_error(tmp_path):
    parsed = read(
        tmp_path,
        "item_id,title,item_type,status_category,due_date,estimate,progress,declared_health\n"
        "a,Fine,epic,done,2026-03-31,3,1,on_track\n"
        "b,Bad type,epik,todo,,,,\n"
        "c,Bad category,issue,finished,,,,\n"
        "d,Bad date,issue,todo,2026-02-30,,,\n"
        "e,Bad numbers,issue,todo,,three,150%,\n"
        "f,Bad health,issue,todo,,,,red\n"
        ",No id,issue,todo,,,,\n",
    )
    assert parsed.errors == (
        RowError(
            3, "item_type", "'epik' is not an item type (expected one of objective, initiative, epic, milestone, issue)"
        ),
        RowError(
            4,
            "status_category",
            "'finished' is not a status category (expected one of todo, in_progress, done, cancelled)",
        ),
        RowError(5, "due_date", "'2026-02-30' is not a valid date (expected e.g. 2026-03-31)"),
        RowError(6, "estimate", "'three' is not a number of points, 0 or more (e.g. 3 or 0.5)"),
        RowError(
            6, "progress", "'150%' is not a progress (expected a fraction such as 0.4 or a percentage such as 40%)"
        ),
        RowError(7, "declared_health", "'red' is not a health (expected on_track, at_risk or off_track)"),
        RowError(8, "item_id", "the item id is empty (every row needs one, e.g. checkout-v2)"),
    )
    assert parsed.frame["item_id"].to_list() == ["a"]


def test_missing_item_id_column_rejects_the_file(tmp_path):
    with pytest.raises(Rejected) as caught:
        read(tmp_path, "title,status\nSomething,Done\n")
    assert caught.value.errors[0].column == "item_id"


@pytest.mark.parametrize("header", sorted((FIXTURES / "headers").glob("*.csv")), ids=lambda p: p.name)
def test_detects_pmkit_headers_and_no_others(header):
    assert pmkit_roadmap.detect(sniff(header)) == header.name.startswith("pmkit_")


@pytest.mark.parametrize(
    ("status", "category"),
    [
        ("Done - awaiting deploy", "done"),
        ("Completed", "done"),
        ("Cancelled by customer", "cancelled"),
        ("Will not do", "cancelled"),
        ("Descoped", "cancelled"),
        ("Out of scope", "cancelled"),
        ("Closed as not planned", "cancelled"),
        # Not finished, though each holds a word of "done" (QA: each was done, progress 1).
        ("Incomplete", "in_progress"),
        ("Unresolved", "in_progress"),
        ("Not Done", "in_progress"),
        ("Undone", "in_progress"),
        ("Not completed", "in_progress"),
        ("Never shipped", "in_progress"),
        ("Ready for QA", "in_progress"),
        ("Not started", "todo"),
    ],
)
def test_an_unlisted_status_word_is_read_by_whole_words_and_negations(status: str, category: str) -> None:
    from pmkit.sources.roadmap_common import category_of_status

    assert category_of_status(status) == category
