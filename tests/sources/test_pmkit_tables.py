"""pmkit's own objectives and feedback CSVs, and Hotjar-style survey exports."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pmkit.canonical import FEEDBACK_COLUMNS, OBJECTIVE_COLUMNS
from pmkit.sources import events_csv, pmkit_tables
from pmkit.sources.base import ROW, ReadOptions, Rejected, RowError
from pmkit.sources.sniff import sniff

FIXTURES = Path(__file__).parent.parent / "fixtures" / "events"
BERLIN = ReadOptions(timezone="Europe/Berlin")
DIRECTIONS = "use one of increase, decrease, stay_above, stay_below"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "table.csv"
    path.write_text(text)
    return path


def test_objectives():
    sample = sniff(FIXTURES / "objectives.csv")
    assert pmkit_tables.detect(sample)
    parsed = pmkit_tables.read(sample, BERLIN)
    expected = pl.DataFrame(
        {
            "objective_id": ["O1", "O2", "O3"],
            "title": ["Grow activation", "Cut churn", "Keep NPS high"],
            "metric": ["activation_rate", "weekly_churn", "nps"],
            "baseline": [0.25, 0.08, 40.0],
            "target": [0.4, 0.05, 35.0],
            "start_date": [date(2026, 1, 1), date(2026, 1, 1), None],
            "target_date": [date(2026, 6, 30), date(2026, 6, 30), date(2026, 12, 31)],
            "direction": ["increase", "decrease", "stay_above"],  # "Stay above" in the file
            "owner": ["Ana", None, "Ben"],
            ROW: [2, 3, 4],
        },
        schema={**OBJECTIVE_COLUMNS, ROW: pl.Int64},
    )
    assert_frame_equal(parsed.frame, expected)
    assert parsed.kind == "objectives"
    assert parsed.errors == (
        RowError(5, "direction", f"'up' is not a direction ({DIRECTIONS})"),
        RowError(6, "target_date", "'2026-02-30' is not a valid date (expected e.g. 2026-03-31)"),
        RowError(7, "objective_id", "duplicate objective_id 'O1' (first on row 2; give each objective its own id)"),
    )


def test_objective_rows_need_their_required_cells(tmp_path: Path):
    text = (
        "objective_id,title,metric,baseline,target,start_date,target_date,direction,owner\n"
        "O1,,dau,,100,,2026-06-30,increase,\n"
        "O2,T,dau,,,,2026-06-30,increase,\n"
        "O3,T,dau,abc,100,,2026-06-30,increase,\n"
        "O4,T,dau,,100,2026-07-01,2026-06-30,,\n"
        "O5,T,dau,,100,2026-07-01,2026-06-30,increase,\n"
    )
    parsed = pmkit_tables.read(sniff(write(tmp_path, text)), BERLIN)
    assert parsed.frame.height == 0
    assert parsed.errors == (
        RowError(2, "title", "empty title (every objective needs one; e.g. Grow activation)"),
        RowError(3, "target", "empty target (every objective needs one; e.g. 0.4)"),
        RowError(4, "baseline", "'abc' is not a number (expected e.g. 0.25)"),
        RowError(5, "direction", f"empty direction ({DIRECTIONS})"),
        RowError(
            6, "target_date", "target_date 2026-06-30 is before start_date 2026-07-01 (swap them or fix the dates)"
        ),
    )


def test_objectives_without_a_required_column_are_rejected(tmp_path: Path):
    sample = sniff(write(tmp_path, "objective_id,title,metric,target\nO1,T,dau,1\n"))
    assert pmkit_tables.detect(sample)
    with pytest.raises(Rejected, match="no target_date, direction column"):
        pmkit_tables.read(sample, BERLIN)


def feedback_frame(data: dict[str, list], dims: dict[str, list]) -> pl.DataFrame:
    frame = pl.DataFrame(data, schema={**FEEDBACK_COLUMNS, ROW: pl.Int64})
    return frame.select(*FEEDBACK_COLUMNS, *(pl.Series(k, v, dtype=pl.String) for k, v in dims.items()), ROW)


def test_feedback():
    sample = sniff(FIXTURES / "feedback.csv")
    assert pmkit_tables.detect(sample)
    parsed = pmkit_tables.read(sample, BERLIN)
    expected = feedback_frame(
        {
            "submitted_at": [
                datetime(2026, 3, 1, 10),
                datetime(2026, 3, 2, 8),
                datetime(2026, 3, 3, 12),
            ],  # 09:00 Berlin = 08:00 UTC
            "user_id": ["u1", "u2", None],
            "score": [9.0, 6.0, 4.0],
            "scale": ["nps", "nps", "csat"],
            "comment": ["Love it", "Slow, sometimes", None],
            "source": ["in-app", "email", "in-app"],
            ROW: [2, 3, 4],
        },
        {"plan": ["pro", "free", None]},
    )
    assert_frame_equal(parsed.frame, expected)
    assert parsed.kind == "feedback"
    assert parsed.errors == (
        RowError(5, "score", "'11' is not a valid NPS score (expected a whole number 0 to 10)"),
        RowError(6, "scale", "'stars' is not a scale (use nps or csat)"),
    )


@pytest.mark.parametrize(
    ("scores", "scale", "bad"),
    [(["9", "3", "10"], "nps", []), (["4", "5", "1"], "csat", []), (["4", "0", "2.5"], "csat", [3, 4])],
)
def test_feedback_scale_is_inferred_when_absent(tmp_path: Path, scores: list[str], scale: str, bad: list[int]):
    rows = "".join(f"2026-03-0{n + 1}T10:00:00Z,{score}\n" for n, score in enumerate(scores))
    parsed = pmkit_tables.read(sniff(write(tmp_path, "submitted_at,score\n" + rows)), BERLIN)
    assert parsed.frame["scale"].to_list() == [scale] * (len(scores) - len(bad))
    assert [e.row for e in parsed.errors] == bad
    if bad:
        assert parsed.errors[0].message == "'0' is not a valid CSAT score (expected a whole number 1 to 5)"
    assert set(parsed.frame["source"].to_list()) <= {"pmkit"}  # no source column: the format


def test_hotjar_nps_export():
    sample = sniff(FIXTURES / "hotjar_nps.csv")
    assert pmkit_tables.detect(sample)
    parsed = pmkit_tables.read(sample, ReadOptions())
    expected = feedback_frame(
        {
            "submitted_at": [datetime(2026, 3, 1, 10), datetime(2026, 3, 2, 11, 30)],
            "user_id": [None, "u_7"],
            "score": [9.0, 3.0],
            "scale": ["nps", "nps"],
            "comment": ["Great reports", "Too slow"],
            "source": ["hotjar", "hotjar"],
            ROW: [2, 3],
        },
        {"number": ["1", "2"], "country": ["Germany", "France"], "device": ["desktop", "mobile"]},
    )
    assert_frame_equal(parsed.frame, expected)
    assert parsed.format == "Hotjar survey CSV"
    assert parsed.mapping["score"].startswith("How likely are you to recommend")


def test_hotjar_csat_export(tmp_path: Path):
    text = "date,How satisfied are you with the reports?,Any other comments?\n2026-03-01,4,Nice\n2026-03-02,2,\n"
    sample = sniff(write(tmp_path, text))
    assert pmkit_tables.detect(sample)
    parsed = pmkit_tables.read(sample, BERLIN)
    assert parsed.frame.select("submitted_at", "score", "scale", "comment").rows() == [
        (datetime(2026, 2, 28, 23), 4.0, "csat", "Nice"),
        (datetime(2026, 3, 1, 23), 2.0, "csat", None),
    ]


@pytest.mark.parametrize(
    "header",
    [
        "event_time,user_id,event,plan",
        "item_id,title,item_type,parent_id,objective_id,metric,owner,team,status,start_date,due_date",
        "Summary,Issue key,Issue id,Issue Type,Status,Created,Due date",
        "date,user,event,score",  # an events table with a numeric column, no survey question
    ],
)
def test_does_not_claim_events_or_roadmaps(tmp_path: Path, header: str):
    assert not pmkit_tables.detect(sniff(write(tmp_path, header + "\n")))


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()))
def test_detects_only_its_tables(name: str):
    assert pmkit_tables.detect(sniff(FIXTURES / name)) == (name in {"objectives.csv", "feedback.csv", "hotjar_nps.csv"})
    if name in {"objectives.csv", "feedback.csv", "hotjar_nps.csv"}:
        assert not events_csv.detect(sniff(FIXTURES / name))
