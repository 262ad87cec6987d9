"""Exports as analysts really save them: a JSON array instead of JSON lines, JSON nested beyond
what can be read, a column mixing epoch units, a CSV whose lines end in CR alone."""

from __future__ import annotations

import json
from pathlib import Path

from pmkit.config import load_config
from pmkit.ingest import ingest
from pmkit.sources.sniff import TOO_DEEP
from pmkit.store import Store


def posthog_event(i: int) -> dict:
    return {
        "uuid": f"0190-{i}",
        "event": "$pageview",
        "distinct_id": f"p{i % 3}",
        "properties": {"$os": "Mac", "$session_id": "s1"},
        "timestamp": f"2026-03-0{1 + i % 5}T10:00:00.123Z",
    }


def test_a_posthog_json_array_loads_like_its_json_lines(tmp_path: Path) -> None:
    """An array of 10 events, pretty-printed: it matched no export ("the columns ((none))")."""
    array = tmp_path / "array.json"
    array.write_text(json.dumps([posthog_event(i) for i in range(10)], indent=2))
    lines = tmp_path / "lines.jsonl"
    lines.write_text("".join(json.dumps(posthog_event(i)) + "\n" for i in range(10)))
    (a,) = ingest([array], load_config(tmp_path / "a"))
    (b,) = ingest([lines], load_config(tmp_path / "b"))
    assert (a.status, a.rows_loaded, a.format, b.format) == ("loaded", 10, "PostHog JSON", "PostHog JSON lines")
    query = "SELECT event_time, user_id, event, event_id, os FROM events ORDER BY event_id"
    with (
        Store(load_config(tmp_path / "a").store_dir).reader() as one,
        Store(load_config(tmp_path / "b").store_dir).reader() as two,
    ):
        assert one.frame(query).equals(two.frame(query))


def test_json_nested_too_deep_names_the_row_and_the_fix(tmp_path: Path) -> None:
    """3,000 levels of properties failed the file inside pmkit (RecursionError)."""
    deep = '{"a":' * 3000 + "1" + "}" * 3000
    path = tmp_path / "deep.jsonl"
    path.write_text(
        json.dumps(posthog_event(0)) + "\n"
        '{"uuid":"x","event":"e","distinct_id":"d","timestamp":"2026-03-01T10:00:00Z","properties":{"deep":'
        + deep
        + "}}\n"
    )
    (result,) = ingest([path], load_config(tmp_path / "ws"))
    assert result.status == "rejected"
    assert [(e.row, e.message) for e in result.errors] == [(2, TOO_DEEP)]
    assert TOO_DEEP.startswith("this JSON nests deeper than it can be read")
    # Past the head that is sniffed, the file is named (its reader cannot tell the line).
    later = tmp_path / "deep_later.jsonl"
    later.write_text("".join(json.dumps(posthog_event(i)) + "\n" for i in range(60)) + path.read_text().split("\n")[1])
    (result,) = ingest([later], load_config(tmp_path / "ws"), skip_bad_rows=True)
    assert result.status == "rejected" and [(e.row, e.message) for e in result.errors] == [(None, TOO_DEEP)]


def test_epoch_times_of_mixed_units_say_so(tmp_path: Path) -> None:
    """Mixpanel seconds beside milliseconds: the seconds read as a bad ISO time before."""
    path = tmp_path / "mixpanel.jsonl"
    rows = [(1772359200, "m1"), (1772359200000, "m2"), (1772359260000, "m3")]
    path.write_text(
        "".join(
            json.dumps({"event": "Signed up", "properties": {"time": t, "distinct_id": u, "$insert_id": u}}) + "\n"
            for t, u in rows
        )
    )
    (result,) = ingest([path], load_config(tmp_path / "ws"))
    assert result.status == "rejected"
    (error,) = result.errors
    assert (error.row, error.column) == (1, "properties.time")
    assert error.message.startswith("'1772359200' is not a time in the unit of the column's other epoch numbers")


def test_a_csv_with_lines_ended_by_cr_alone_loads(tmp_path: Path) -> None:
    """Classic Mac Excel's CSV: it was "a header but no rows"."""
    path = tmp_path / "mac.csv"
    path.write_bytes(b"event_time,user_id,event\r2026-03-01T10:00:00Z,u1,a\r2026-03-02T10:00:00Z,u2,b\r")
    (result,) = ingest([path], load_config(tmp_path / "ws"))
    assert (result.status, result.rows_loaded) == ("loaded", 2)


def test_excels_delimiter_hint_line_is_named_with_the_fix(tmp_path: Path) -> None:
    """Ingest QA: a CSV starting with Excel's `sep=;` line (which Excel hides) was told "the
    columns (sep=, ) match no known export", with or without a BOM before it."""
    config = load_config(tmp_path / "ws")
    for name, bom in (("plain.csv", ""), ("bom.csv", "\ufeff")):
        path = tmp_path / name
        path.write_text(f"{bom}sep=;\nevent_time;user_id;event\n2026-03-01T10:00:00Z;u1;signup\n", encoding="utf-8")
        (result,) = ingest([path], config)
        assert result.status == "rejected"
        (error,) = result.errors
        assert (error.row, error.column) == (1, None)
        assert error.message.startswith("the first line (sep=;) is Excel's delimiter hint, not a header: delete")


def test_a_spreadsheets_day_numbers_are_told_to_be_saved_as_dates(tmp_path: Path) -> None:
    """Ingest QA: a sheet's date cells formatted as numbers save as day numbers (46022.4166 is
    31 Dec 2025 10:00). Each was told it was not "in the unit of the column's other epoch
    numbers" and to export with one unit, which every value already was."""
    path = tmp_path / "sheet.csv"
    path.write_text("date,user_id,event\n46022.4166666667,u1,signup\n46023.5,u2,purchase\n", encoding="utf-8")
    (result,) = ingest([path], load_config(tmp_path / "ws"))
    assert result.status == "rejected"
    assert [(e.row, e.column) for e in result.errors] == [(2, "date"), (3, "date")]
    assert result.errors[1].message == (
        "'46023.5' is a spreadsheet's day number (days since 1900), not a time: format the column as a date and "
        "time in the spreadsheet (e.g. 2026-03-01T10:00:00Z) and save the CSV again"
    )
    # Review: a few such cells among dates, and a ';' sheet's decimal comma, are told the same.
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(
        "date,user_id,event\n2026-03-01 10:00,u1,a\n2026-03-01 11:00,u2,a\n2026-03-01 12:00,u3,a\n46023.5,u4,a\n",
        encoding="utf-8",
    )
    comma = tmp_path / "comma.csv"
    comma.write_text("date;user_id;event\n46023,5;u1;a\n", encoding="utf-8")
    for path, row, value in ((mixed, 5, "46023.5"), (comma, 2, "46023,5")):
        (other,) = ingest([path], load_config(tmp_path / "ws"))
        assert [(e.row, e.column) for e in other.errors] == [(row, "date")]
        assert other.errors[0].message.startswith(f"'{value}' is a spreadsheet's day number (days since 1900)")


def test_a_column_read_as_the_user_twice_is_refused_where_the_two_differ(tmp_path: Path) -> None:
    """Ingest QA: `event_time,user_id,event,user_id` with u1 beside u9 loaded by the first
    column, the second kept as a dimension, without a word. Where the two agree, the file loads
    and the repeat is no dimension."""
    config = load_config(tmp_path / "ws")
    header = "event_time,user_id,event,user_id\n"
    differ = tmp_path / "differ.csv"
    differ.write_text(header + "2026-03-01T10:00:00Z,u1,a,u1\n2026-03-01T11:00:00Z,u2,a,u9\n", encoding="utf-8")
    same = tmp_path / "same.csv"
    same.write_text(header + "2026-03-01T10:00:00Z,u1,a,u1\n", encoding="utf-8")
    case = tmp_path / "case.csv"
    case.write_text("event_time,user_id,event,User_ID\n2026-03-01T10:00:00Z,u1,a,\n", encoding="utf-8")
    refused, loaded, other_case = ingest([differ, same, case], config)
    # The next review: the same name in another case is the same column, and an empty cell is said so.
    assert [(e.row, e.message) for e in other_case.errors] == [
        (
            2,
            "the header names user_id twice (as user_id and User_ID) and the two columns differ ('u1' and an empty "
            "cell): remove the one that is not the file's",
        )
    ]
    assert refused.status == "rejected"
    assert [(e.row, e.column, e.message) for e in refused.errors] == [
        (
            3,
            "user_id",
            "the header names user_id twice and the two columns differ ('u2' and 'u9'): remove the one that is "
            "not the file's",
        )
    ]
    assert loaded.status == "loaded"
    with Store(config.store_dir).reader() as reader:
        assert reader.frame("SELECT * FROM events").columns[:3] == ["event_time", "user_id", "event"]
        assert not [c for c in reader.frame("SELECT * FROM events").columns if c.startswith("user_id_")]


def test_a_repeated_user_column_of_another_type_is_compared_as_text(tmp_path: Path) -> None:
    """Review: a Parquet's user_id as text beside User_ID as integers was refused as a bug in
    pmkit (a string compared with a number). Agreeing as text, the file loads."""
    import polars as pl

    path = tmp_path / "events.parquet"
    pl.DataFrame(
        {"event_time": ["2026-03-01T10:00:00Z"], "user_id": ["7"], "event": ["a"], "User_ID": [7]}
    ).write_parquet(path)
    (result,) = ingest([path], load_config(tmp_path / "ws"))
    assert (result.status, result.rows_loaded) == ("loaded", 1)
