"""pmkit's own objectives and feedback CSVs, and Hotjar-style survey exports."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pmkit.canonical import FEEDBACK_COLUMNS, FEEDBACK_KEY, OBJECTIVE_COLUMNS
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


def test_objectives_in_a_semicolon_file_read_dot_thousands_as_the_file_writes_them(tmp_path: Path):
    """A `;` file writes 1.234,5 for one thousand two hundred and thirty-four and a half: its
    8.000 and 10.000 were read as 8 and 10, and an 8,000 -> 10,000 DAU objective was "achieved"
    at a DAU of 128 (objectives QA)."""
    path = write(
        tmp_path,
        "objective_id;title;metric;baseline;target;start_date;target_date;direction;owner\n"
        "K1;Tausend Nutzer;dau;8.000;10.000;2026-07-01;2026-12-31;Increase;Jo\n"
        "K2;Rate;dau;0,5;1.234,5;2026-07-01;2026-12-31;increase;Jo\n",
    )
    parsed = pmkit_tables.read(sniff(path), BERLIN)
    assert parsed.errors == ()
    assert parsed.frame.select("baseline", "target").rows() == [(8000.0, 10000.0), (0.5, 1234.5)]
    # Alone, with no decimal comma beside it, 8.000 is eight or eight thousand: the file says which.
    alone = write(
        tmp_path,
        "objective_id;title;metric;baseline;target;start_date;target_date;direction;owner\n"
        "K1;Tausend Nutzer;dau;8.000;10.000;2026-07-01;2026-12-31;Increase;Jo\n",
    )
    errors = pmkit_tables.read(sniff(alone), BERLIN).errors
    assert [(e.row, e.column) for e in errors] == [(2, "baseline")]  # a row's first problem
    assert errors[0].message == (
        "'8.000' could be 8000 (a dot grouping thousands) or 8 (a decimal point) in a ';' file, and nothing says "
        "which: write 8000 or 8"
    )
    # Another objective's 0.30 says nothing of this one's scale: still refused (it was read as 8,
    # and an 8,000 MAU target "achieved" at 20; review).
    mixed = write(
        tmp_path,
        "objective_id;title;metric;baseline;target;start_date;target_date;direction;owner\n"
        "O1;Sticky;stickiness;0.30;0.45;2026-07-01;2026-12-31;increase;Jo\n"
        "O2;Monthly;mau;6.500;8.000;2026-07-01;2026-12-31;increase;Jo\n",
    )
    errors = pmkit_tables.read(sniff(mixed), BERLIN).errors
    assert [(e.row, e.column) for e in errors] == [(3, "baseline")]
    # Nor of its commas: 4,500 -> 6,500 read 4.5 -> 6.5 alone and 4500 -> 6500 beside 0.30 (review).
    commas = write(
        tmp_path,
        "objective_id;title;metric;baseline;target;start_date;target_date;direction;owner\n"
        "O1;Sticky;stickiness;0.30;0.45;2026-07-01;2026-12-31;increase;Jo\n"
        "O2;Events;events;4,500;6,500;2026-07-01;2026-12-31;increase;Jo\n",
    )
    parsed = pmkit_tables.read(sniff(commas), BERLIN)
    assert parsed.frame.select("baseline", "target").rows() == [(0.3, 0.45), (4.5, 6.5)]


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


def feedback_frame(data: dict[str, list], dims: dict[str, list], keys: list[str] | None = None) -> pl.DataFrame:
    frame = pl.DataFrame(data, schema={**FEEDBACK_COLUMNS, ROW: pl.Int64})
    key = pl.Series(FEEDBACK_KEY, keys if keys is not None else [None] * frame.height, dtype=pl.String)
    return frame.select(*FEEDBACK_COLUMNS, key, *(pl.Series(k, v, dtype=pl.String) for k, v in dims.items()), ROW)


def hotjar_key(survey: str, number: str, submitted_at: datetime) -> str:
    """A Hotjar answer's key as documented: its survey's score question, Number and time (epoch us)."""
    micros = int(submitted_at.replace(tzinfo=UTC).timestamp()) * 1_000_000 + submitted_at.microsecond
    return json.dumps({"survey": survey, "id": number, "submitted_at": micros}, separators=(",", ":"))


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


def scores_file(tmp_path: Path, scores: list[str], scales: list[str] | None = None) -> Path:
    """A pmkit feedback CSV with one answer a day, and a scale column if ``scales`` is given."""
    header = "submitted_at,score" + (",scale" if scales is not None else "") + "\n"
    rows = "".join(
        f"2026-03-0{n + 1}T10:00:00Z,{score}" + (f",{scales[n]}" if scales is not None else "") + "\n"
        for n, score in enumerate(scores)
    )
    return write(tmp_path, header + rows)


@pytest.mark.parametrize(
    ("scores", "bad"),
    [
        (["9", "3", "10"], []),
        (["2", "0", "4"], []),  # 0 is no CSAT score: an NPS file, where it was rejected as CSAT
        (["4", "0", "2.5"], [RowError(4, "score", "'2.5' is not a valid NPS score (expected a whole number 0 to 10)")]),
    ],
)
def test_feedback_without_a_scale_is_nps_when_a_score_is_0_or_above_5(
    tmp_path: Path, scores: list[str], bad: list[RowError]
):
    parsed = pmkit_tables.read(sniff(scores_file(tmp_path, scores)), BERLIN)
    assert parsed.frame["scale"].to_list() == ["nps"] * (len(scores) - len(bad))
    assert list(parsed.errors) == bad
    assert parsed.frame["source"].to_list() == ["pmkit"] * (len(scores) - len(bad))  # no source column: the format


AMBIGUOUS = (
    "no score is 0 or above 5, so the answers could be NPS (0 to 10) or CSAT (1 to 5) "
    "and the file does not say which (add a scale column with nps or csat to each row, e.g. "
    "submitted_at,score,scale then 2026-03-01T10:00:00Z,4,nps; a survey tool's export says which "
    "in its question, e.g. How likely are you to recommend us? or How satisfied are you?)"
)


@pytest.mark.parametrize("scales", [None, ["", "", ""]], ids=["no scale column", "scale column empty"])
def test_feedback_whose_scores_fit_nps_and_csat_and_no_scale_is_rejected(tmp_path: Path, scales: list[str] | None):
    """Three NPS detractors (2, 5, 4) loaded as CSAT answers when the highest score chose the scale."""
    with pytest.raises(Rejected) as rejected:
        pmkit_tables.read(sniff(scores_file(tmp_path, ["2", "5", "4"], scales)), BERLIN)
    assert rejected.value.errors == [RowError(None, "score", AMBIGUOUS)]


def test_feedback_with_a_scale_column_needs_a_scale_on_every_row(tmp_path: Path):
    """The file says which scale row by row, so an empty cell is that row's error; the file's
    highest score (9) made the 4 an NPS answer though the row beside it said csat."""
    parsed = pmkit_tables.read(sniff(scores_file(tmp_path, ["9", "4", "5"], ["nps", "", "csat"])), BERLIN)
    assert parsed.frame.select("score", "scale", ROW).rows() == [(9.0, "nps", 2), (5.0, "csat", 4)]
    assert parsed.errors == (RowError(3, "scale", "empty scale (use nps or csat, as the other rows do)"),)


def test_answer_times_before_2000_or_more_than_a_year_ahead_are_bad_rows(tmp_path: Path):
    """1970-01-01 (an empty time written as 0) and a year mistyped as 2030 were loaded as answers,
    where the events beside them were rejected as bad rows: one 2030 answer made Voice of customer
    open on Dec 2029 - Jan 2030 with NPS +100 from it alone (QA)."""
    path = write(
        tmp_path,
        "submitted_at,user_id,score,scale\n"
        "2026-03-01T10:00:00Z,a,9,nps\n"
        "1970-01-01T00:00:00Z,b,3,nps\n"
        "2999-01-01T10:00:00Z,c,10,nps\n",
    )
    parsed = pmkit_tables.read(sniff(path), ReadOptions())
    assert parsed.frame.select("user_id", ROW).rows() == [("a", 2)]
    assert parsed.errors == (
        RowError(
            3,
            "submitted_at",
            "'1970-01-01T00:00:00Z' is before the year 2000: a placeholder for a missing time? "
            "Fix the time or remove the row",
        ),
        RowError(
            4,
            "submitted_at",
            "'2999-01-01T10:00:00Z' is more than a year after today: check the export's clock and time zone, "
            "or remove the row",
        ),
    )


NPS_QUESTION = "How likely are you to recommend Reportly to a friend or colleague?"  # hotjar_nps.csv's


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
        {"country": ["Germany", "France"], "device": ["desktop", "mobile"]},
        [
            hotjar_key(NPS_QUESTION, "1", datetime(2026, 3, 1, 10)),
            hotjar_key(NPS_QUESTION, "2", datetime(2026, 3, 2, 11, 30)),
        ],
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


USER_HEADER = "Number,User,Date Submitted,Hotjar User ID,How likely are you to recommend Acme?\n"


@pytest.mark.parametrize(
    ("rows", "user_ids", "mapped"),
    [
        # A real export: User empty in every row, the ids in Hotjar User ID; every user_id was NULL.
        (["1,,2026-03-01 10:00,hj_1,9", "2,,2026-03-02 10:00,hj_2,7"], ["hj_1", "hj_2"], "Hotjar User ID"),
        # Per row, the first filled of the two; blank text is empty.
        (
            ["1,u_1,2026-03-01 10:00,hj_1,9", "2,  ,2026-03-02 10:00,hj_2,7", "3,,2026-03-03 10:00,,6"],
            ["u_1", "hj_2", None],
            "User or Hotjar User ID",
        ),
    ],
)
def test_hotjar_user_is_the_first_user_column_filled_in_each_row(
    tmp_path: Path, rows: list[str], user_ids: list[str | None], mapped: str
):
    parsed = pmkit_tables.read(sniff(write(tmp_path, USER_HEADER + "\n".join(rows) + "\n")), ReadOptions())
    assert parsed.frame["user_id"].to_list() == user_ids
    assert parsed.mapping["user_id"] == mapped
    assert parsed.frame.columns == [*FEEDBACK_COLUMNS, FEEDBACK_KEY, ROW]  # no hotjar_user_id attribute


REAL_QUESTION = "How likely are you to recommend Acme to a friend or colleague?"
# Hotjar's own NPS export: its header as exported, a BOM, CRLF line ends, a comment over two lines.
HOTJAR_REAL = (
    "\ufeffNumber,User,Date Submitted,Country,Source URL,Device,Browser,OS,Hotjar User ID,Tags,"
    "How likely are you to recommend Acme to a friend or colleague?,What is the main reason for your score?\r\n"
    '1,,2026-03-02 09:15:00,Germany,https://acme.example/app,desktop,Chrome,Windows,hj_1,,9,"Fast, and the reports\n'
    'are clear"\r\n'
    "2,,2026-03-02 10:00:00,France,https://acme.example/pricing,mobile,Safari,iOS,hj_2,pricing,3,Too expensive\r\n"
    "3,,2026-03-03 11:30:00,Spain,https://acme.example/app,desktop,Firefox,Linux,,,0,\r\n"
)


def test_hotjar_reason_for_the_score_is_the_comment(tmp_path: Path):
    """ "What is the main reason for your score?" was kept as an attribute and comment stayed empty."""
    path = tmp_path / "hotjar.csv"
    path.write_bytes(HOTJAR_REAL.encode("utf-8"))
    sample = sniff(path)
    assert pmkit_tables.detect(sample)
    parsed = pmkit_tables.read(sample, ReadOptions())
    expected = feedback_frame(
        {
            "submitted_at": [datetime(2026, 3, 2, 9, 15), datetime(2026, 3, 2, 10), datetime(2026, 3, 3, 11, 30)],
            "user_id": ["hj_1", "hj_2", None],
            "score": [9.0, 3.0, 0.0],
            "scale": ["nps", "nps", "nps"],
            "comment": ["Fast, and the reports\nare clear", "Too expensive", None],
            "source": ["hotjar", "hotjar", "hotjar"],
            ROW: [2, 3, 4],
        },
        {
            "country": ["Germany", "France", "Spain"],
            "source_url": ["https://acme.example/app", "https://acme.example/pricing", "https://acme.example/app"],
            "device": ["desktop", "mobile", "desktop"],
            "browser": ["Chrome", "Safari", "Firefox"],
            "os": ["Windows", "iOS", "Linux"],
            "tags": [None, "pricing", None],
        },
        [
            hotjar_key(REAL_QUESTION, "1", datetime(2026, 3, 2, 9, 15)),
            hotjar_key(REAL_QUESTION, "2", datetime(2026, 3, 2, 10)),
            hotjar_key(REAL_QUESTION, "3", datetime(2026, 3, 3, 11, 30)),
        ],
    )
    assert_frame_equal(parsed.frame, expected)
    assert parsed.errors == ()
    assert parsed.mapping["comment"] == "What is the main reason for your score?"
    assert parsed.mapping["score"] == "How likely are you to recommend Acme to a friend or colleague?"


@pytest.mark.parametrize(
    ("header", "comment"),
    [
        # A choice question about a reason comes before the free text: the stronger word wins.
        ("date,How satisfied are you?,Reason for contacting us,Any other comments?", "Any other comments?"),
        (
            "date,How likely are you to recommend us?,Is there anything else you want to say?",
            "Is there anything else you want to say?",
        ),
        # "tell us" and "improve" also name score questions, so they never pick the comment.
        ("date,Please tell us how likely you are to recommend us,How satisfied are you with the improvements?", None),
    ],
)
def test_hotjar_comment_column_is_a_free_text_question(tmp_path: Path, header: str, comment: str | None):
    parsed = pmkit_tables.read(
        sniff(write(tmp_path, header + "\n" + "2026-03-01" + ",4" * header.count(",") + "\n")), BERLIN
    )
    assert parsed.mapping.get("comment") == comment
    scores = [column for name, column in parsed.mapping.items() if name.startswith("score")]
    assert scores and comment not in scores  # the last header has two: "score (nps)" and "score (csat)"


NPS_FRIEND = "How likely are you to recommend us to a friend?"
CSAT_PRODUCT = "How satisfied are you with the product?"
# A Hotjar survey with an NPS and a CSAT question (QA's week1.csv): answer 3 skipped the NPS one.
TWO_QUESTIONS = (
    f"Number,User,Date Submitted,Country,Device,{NPS_FRIEND},{CSAT_PRODUCT},What is the main reason for your score?\n"
    "1,,2026-11-02 10:00:00,DE,desktop,10,5,love it\n"
    "2,u_2,2026-11-03 10:00:00,FR,mobile,3,2,slow\n"
    "3,,2026-11-04 10:00:00,DE,desktop,,4,no nps answer\n"
)


def test_hotjar_nps_and_csat_questions_each_give_their_own_answers(tmp_path: Path):
    """Only the first score question was read: the CSAT column became the attribute
    how_satisfied_are_you_with_the_product and CSAT showed 0 responses. Each row gives one answer
    per question it answered (3 rows: 2 NPS answers, 3 CSAT), each with the row's time, user,
    comment and attributes, and each keyed by its own question."""
    parsed = pmkit_tables.read(sniff(write(tmp_path, TWO_QUESTIONS)), ReadOptions())
    nov = [datetime(2026, 11, 2, 10), datetime(2026, 11, 3, 10), datetime(2026, 11, 4, 10)]
    expected = feedback_frame(
        {
            "submitted_at": [nov[0], nov[0], nov[1], nov[1], nov[2]],
            "user_id": [None, None, "u_2", "u_2", None],
            "score": [10.0, 5.0, 3.0, 2.0, 4.0],
            "scale": ["nps", "csat", "nps", "csat", "csat"],
            "comment": ["love it", "love it", "slow", "slow", "no nps answer"],
            "source": ["hotjar"] * 5,
            ROW: [2, 2, 3, 3, 4],
        },
        {"country": ["DE", "DE", "FR", "FR", "DE"], "device": ["desktop", "desktop", "mobile", "mobile", "desktop"]},
        [
            hotjar_key(NPS_FRIEND, "1", nov[0]),
            hotjar_key(CSAT_PRODUCT, "1", nov[0]),
            hotjar_key(NPS_FRIEND, "2", nov[1]),
            hotjar_key(CSAT_PRODUCT, "2", nov[1]),
            hotjar_key(CSAT_PRODUCT, "3", nov[2]),
        ],
    )
    assert_frame_equal(parsed.frame, expected)
    assert parsed.errors == ()
    assert parsed.mapping == {
        "submitted_at": "Date Submitted",
        "user_id": "User",
        "score (nps)": NPS_FRIEND,
        "score (csat)": CSAT_PRODUCT,
        "comment": "What is the main reason for your score?",
        "answer_id": "Number",
        "country": "Country",
        "device": "Device",
    }
    # Row 4 skipped the optional NPS question: said, not an error; every row answered something.
    assert (parsed.questions_skipped, parsed.rows_unanswered) == ({NPS_FRIEND: 1}, 0)


def test_hotjar_empty_score_is_a_skipped_question_and_a_row_with_none_is_no_answer(tmp_path: Path):
    """One respondent who skipped the optional question rejected the whole export ("row 4 ...
    empty score"). Row 3 answered only the comment: no answer, left out, and counted."""
    text = (
        f"Number,Date Submitted,{NPS_FRIEND},Why?\n"
        "1,2026-03-01 10:00,9,fast\n"
        "2,2026-03-01 11:00,,just looking\n"
        "3,2026-03-01 12:00,0,\n"
        "4,2026-03-01 13:00,  ,\n"  # blank text is empty
    )
    parsed = pmkit_tables.read(sniff(write(tmp_path, text)), ReadOptions())
    assert parsed.errors == ()
    assert parsed.frame.select("score", "scale", "comment", ROW).rows() == [
        (9.0, "nps", "fast", 2),
        (0.0, "nps", None, 4),
    ]
    assert (parsed.questions_skipped, parsed.rows_unanswered) == ({NPS_FRIEND: 2}, 2)


def test_hotjar_invalid_scores_stay_row_errors_and_a_pmkit_empty_score_is_still_one(tmp_path: Path):
    """Only an empty Hotjar cell is a skipped question: "11", "abc" and a bad time are a row's
    error, one per row (its first question's), and a bad row gives no answer to any question."""
    hotjar = (
        f"Number,Date Submitted,{NPS_FRIEND},{CSAT_PRODUCT}\n"
        "1,2026-03-01 10:00,11,4\n"
        "2,2026-03-01 11:00,,abc\n"
        "3,yesterday,7,\n"
        "4,2026-03-01 13:00,8,5\n"
    )
    parsed = pmkit_tables.read(sniff(write(tmp_path, hotjar)), ReadOptions())
    assert parsed.errors == (
        RowError(2, NPS_FRIEND, "'11' is not a valid NPS score (expected a whole number 0 to 10)"),
        RowError(3, CSAT_PRODUCT, "'abc' is not a valid CSAT score (expected a whole number 1 to 5)"),
        RowError(4, "Date Submitted", "'yesterday' is not a valid time (expected e.g. 2026-03-01T10:00:00Z)"),
    )
    assert parsed.frame.select("score", "scale", ROW).rows() == [(8.0, "nps", 5), (5.0, "csat", 5)]
    assert (parsed.questions_skipped, parsed.rows_unanswered) == ({}, 0)  # of the rows not bad
    pmkit_csv = pmkit_tables.read(sniff(scores_file(tmp_path, ["9", "", "7"], ["nps", "nps", "nps"])), BERLIN)
    assert pmkit_csv.errors == (RowError(3, "score", "empty score (every answer needs one; e.g. 9)"),)
    assert (pmkit_csv.questions_skipped, pmkit_csv.rows_unanswered) == ({}, 0)


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


def test_hotjar_a_later_satisfaction_question_in_words_stays_an_attribute(tmp_path: Path):
    """ "What would make you more satisfied?" after the NPS question is free text, not CSAT: read as
    a score question it made every answer a row error (review). A later question counts as a score
    only when most of its filled cells are numbers; this one stays an attribute."""
    text = (
        f"Number,Date Submitted,{NPS_FRIEND},What would make you more satisfied?\n"
        "1,2026-11-02 10:00:00,10,faster exports\n2,2026-11-03 10:00:00,6,\n"
    )
    parsed = pmkit_tables.read(sniff(write(tmp_path, text)), ReadOptions())
    assert parsed.errors == ()
    assert parsed.frame["scale"].to_list() == ["nps", "nps"]
    assert parsed.frame["score"].to_list() == [10.0, 6.0]
    assert parsed.mapping["score"] == NPS_FRIEND
    assert parsed.frame["what_would_make_you_more_satisfied"].to_list() == ["faster exports", None]


def test_hotjar_reads_one_question_per_scale_and_a_free_text_one_first_is_no_score(tmp_path: Path):
    """A second "recommend" question (the mobile app's) was pooled into the product's NPS, and a
    free-text "What would make you more satisfied?" before the NPS question rejected the file as
    bad CSAT scores (review). The first NPS question and a numeric CSAT one are read; the others
    stay attributes."""
    text = (
        "Number,Date Submitted,What would make you more satisfied?,"
        f"{NPS_FRIEND},How likely are you to recommend our mobile app?\n"
        "1,2026-11-02 10:00:00,Faster exports,10,2\n2,2026-11-03 10:00:00,,6,3\n"
    )
    parsed = pmkit_tables.read(sniff(write(tmp_path, text)), ReadOptions())
    assert parsed.errors == ()
    assert (parsed.frame["scale"].to_list(), parsed.frame["score"].to_list()) == (["nps", "nps"], [10.0, 6.0])
    assert parsed.mapping["score"] == NPS_FRIEND
    assert parsed.frame["what_would_make_you_more_satisfied"].to_list() == ["Faster exports", None]
    assert parsed.frame["how_likely_are_you_to_recommend_our_mobile_app"].to_list() == ["2", "3"]


def test_hotjar_a_reworded_nps_question_is_read_as_one(tmp_path: Path):
    """The question's wording edited during the survey: the export has both wordings, each row
    answering one. Reading the first alone left two answers out as unanswered (review)."""
    text = (
        f"Number,Date Submitted,{NPS_FRIEND},How likely are you to recommend us to a colleague?\n"
        "1,2026-11-01 10:00:00,9,\n2,2026-11-02 10:00:00,,3\n3,2026-11-03 10:00:00,,10\n"
    )
    parsed = pmkit_tables.read(sniff(write(tmp_path, text)), ReadOptions())
    assert parsed.errors == ()
    assert parsed.frame["score"].to_list() == [9.0, 3.0, 10.0]
    assert parsed.frame["scale"].to_list() == ["nps"] * 3
    assert (parsed.questions_skipped, parsed.rows_unanswered) == ({}, 0)
    assert "how_likely_are_you_to_recommend_us_to_a_colleague" not in parsed.frame.columns
