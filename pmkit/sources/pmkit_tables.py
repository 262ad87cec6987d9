"""pmkit's own objectives and feedback CSVs, and Hotjar-style survey exports (feedback).

The kind depends on the file, so ``KIND`` is ``"table"`` and ``Parsed.kind`` says which one:

- objectives: ``objective_id,title,metric,baseline,target,start_date,target_date,direction,owner``
  (canonical.OBJECTIVE_COLUMNS). objective_id, title, metric, target, target_date and direction
  must be filled; baseline, start_date and owner may be empty. Dates look like ``2026-03-31``;
  ``direction`` is one of canonical.DIRECTIONS (``stay above`` and ``Stay-Above`` are read as
  ``stay_above``). Other columns are ignored.
- feedback: ``submitted_at,user_id,score,scale,comment,source,...dimensions``
  (canonical.FEEDBACK_COLUMNS, then extra columns kept as String dimensions named like event
  dimensions). ``scale`` is ``nps`` (whole numbers 0..10) or ``csat`` (whole numbers 1..5). A file
  with a scale column needs it on every row. A file without one (or with it empty in every row)
  is nps if any score is 0 or above 5 (neither is a CSAT score), and is rejected if every score
  fits both scales (1..5): guessing made three NPS detractors (2, 5, 4) CSAT answers.
  ``source`` defaults to the format (``pmkit`` or ``hotjar``).
- Hotjar-style survey exports: a date column (``Date submitted``, ``date`` or ``created``) and
  one or more score question columns, each named with "how likely" and "recommend" (NPS) or
  "satisf" (CSAT), which gives its scale. Each row gives one answer per score question it
  answered, each with the row's time, user, comment and attributes: a survey asking "How likely
  are you to recommend us?" and "How satisfied are you?" gives NPS and CSAT answers (``mapping``
  then names each column as ``score (nps)``, ``score (csat)``). Score questions are optional in
  Hotjar: an empty cell is a question skipped, no answer to it and no error, and a row that left
  every one empty is no answer at all and is left out; both are counted (``questions_skipped``,
  ``rows_unanswered``) and said in the ingest report. A filled cell that is no valid score is the
  row's error, as in a pmkit CSV (where an empty score is one too). One question per scale
  is read, the first NPS one and the first CSAT one whose filled cells are mostly numbers: a
  second "recommend" question some rows also answered, or a free-text "What would make you more
  satisfied?", stays an attribute; "recommend" columns no row answered two of are one question
  reworded during the survey, read as one. The comment is the first
  other column whose name has "comment", else "why", else "reason", "feedback", "anything else"
  (HOTJAR_COMMENT_WORDS). The user is, per row, the first filled of ``user_id``, ``user id``,
  ``user``, ``hotjar user id``. Other columns become dimensions.

Each bad row is one RowError naming its first bad column (in a survey, its first bad question's;
none of a bad row's answers is kept); a missing column rejects the file.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from pmkit.canonical import DIRECTION_SEPARATORS, DIRECTIONS, FEEDBACK_COLUMNS, FEEDBACK_KEY, OBJECTIVE_COLUMNS
from pmkit.sources.base import ROW, Parsed, ReadOptions, Rejected, RowError, Sample, null_column
from pmkit.sources.csvfile import read_csv_rows
from pmkit.sources.events_common import (
    MAX_DIMENSIONS,
    TIME_EXAMPLE,
    ambiguous_dot_message,
    check_timezone,
    clean_text,
    dimension_name,
    keep_columns,
    latest_time,
    parse_numbers,
    parse_times,
    read_numbers,
    time_bound_checks,
)
from pmkit.sources.roadmap_common import ordered

KIND = "table"
FORMAT = "pmkit table"

OBJECTIVES_REQUIRED = ("objective_id", "title", "metric", "target", "target_date", "direction")
OBJECTIVE_EXAMPLES = {
    "objective_id": "O1",
    "title": "Grow activation",
    "metric": "activation_rate",
    "target": "0.4",
    "target_date": "2026-06-30",
}
FEEDBACK_REQUIRED = ("submitted_at", "score")
SCALES = {"nps": (0, 10), "csat": (1, 5)}
DATE_FORMAT = "%Y-%m-%d"  # 2026-03-31
DATE_EXAMPLE = "2026-03-31"

HOTJAR_DATE_COLUMNS = ("date submitted", "date", "created")
# Hotjar exports both User (empty unless the site identifies users) and Hotjar User ID.
HOTJAR_USER_COLUMNS = ("user_id", "user id", "user", "hotjar user id")
HOTJAR_NUMBER = "number"  # the answer's number in its survey: with the survey and time, its key
ANSWER_ID_COLUMNS = ("answer_id", "response_id")  # a pmkit feedback CSV's key column
# Free-text follow-ups, strongest first: "Any other comments?", "Why did you give that score?",
# Hotjar's own "What is the main reason for your score?", "Is there anything else ...?". A choice
# question such as "Reason for contacting us" loses to a "comments" column. Not "tell us" or
# "improve": score questions use them ("Please tell us how satisfied you are").
HOTJAR_COMMENT_WORDS = ("comment", "why", "reason", "feedback", "anything else")


# ---------------------------------------------------------------------------------------------
# Detection


def _is_nps_question(name: str) -> bool:
    lowered = name.lower()
    return "how likely" in lowered and "recommend" in lowered  # "How likely are you to recommend us?"


def _is_csat_question(name: str) -> bool:
    lowered = name.lower()  # "How satisfied are you with ...?", "Satisfaction"
    return "satisf" in lowered and not any(word in lowered for word in HOTJAR_COMMENT_WORDS)


def _lookup(columns: Sequence[str], *names: str) -> str | None:
    lowered = {c.strip().lower(): c for c in columns}
    return next((lowered[n] for n in names if n in lowered), None)


def _hotjar_comment(columns: Sequence[str], score_columns: Sequence[str]) -> str | None:
    """The free-text column: the first with the strongest of HOTJAR_COMMENT_WORDS, never a score."""
    return next(
        (c for word in HOTJAR_COMMENT_WORDS for c in columns if c not in score_columns and word in c.lower()),
        None,
    )


def _hotjar_columns(columns: Sequence[str]) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """(date column, its score questions) of a Hotjar-style export, or None: each question as
    (column, scale), in the file's order. A survey may ask "How likely are you to recommend us?"
    and "How satisfied are you?": the second was kept as an attribute, its CSAT answers unread."""
    date = _lookup(columns, *HOTJAR_DATE_COLUMNS)
    if date is None:
        return None
    questions = tuple(
        (c, "nps" if _is_nps_question(c) else "csat") for c in columns if _is_nps_question(c) or _is_csat_question(c)
    )
    return (date, questions) if questions else None


def _which(sample: Sample) -> str | None:
    if sample.layout != "csv":
        return None
    if sample.has("objective_id", "metric", "target") and not sample.has("item_id"):
        return "objectives"
    if sample.has(*FEEDBACK_REQUIRED):
        return "feedback"
    if _hotjar_columns(sample.columns) is not None:
        return "hotjar"
    return None


def detect(sample: Sample) -> bool:
    return _which(sample) is not None


def read(sample: Sample, options: ReadOptions) -> Parsed:
    which = _which(sample)
    if which == "objectives":
        return read_objectives(sample)
    if which in ("feedback", "hotjar"):
        return read_feedback(sample, options)
    raise Rejected(
        [
            RowError(
                1,
                None,
                "not an objectives or feedback file (expected a header like "
                "objective_id,title,metric,baseline,target,start_date,target_date,direction,owner or "
                "submitted_at,user_id,score,scale,comment,source)",
            )
        ]
    )


# ---------------------------------------------------------------------------------------------
# Objectives


def read_objectives(sample: Sample) -> Parsed:
    raw, ragged = read_csv_rows(sample)
    columns = {name: _lookup(raw.columns, name) for name in OBJECTIVE_COLUMNS}
    _require(
        columns, OBJECTIVES_REQUIRED, "objective_id,title,metric,baseline,target,start_date,target_date,direction,owner"
    )
    text = {name: _text(raw, column) for name, column in columns.items()}
    decimal_comma = sample.delimiter == ";"
    # Row by row: another objective's 0.30 says nothing of this one's 6,500 (review).
    read = {
        name: read_numbers(text[name], decimal_comma=decimal_comma, by_column=False) for name in ("baseline", "target")
    }
    numbers = {name: found.numbers for name, found in read.items()}
    dates = {name: text[name].str.to_date(DATE_FORMAT, strict=False) for name in ("start_date", "target_date")}
    direction = text["direction"].str.to_lowercase().str.replace_all(DIRECTION_SEPARATORS, "_")  # "Stay above"
    frame = pl.DataFrame(
        {
            "objective_id": text["objective_id"],
            "title": text["title"],
            "metric": text["metric"],
            **numbers,
            **{name: dates[name] for name in ("start_date", "target_date")},
            "direction": direction,
            "owner": text["owner"],
            ROW: raw[ROW],
        },
        schema={**OBJECTIVE_COLUMNS, ROW: pl.Int64},
    ).select(*OBJECTIVE_COLUMNS, ROW)
    work = frame.with_columns(
        **{f"raw_{name}": text[name] for name in ("baseline", "target", "start_date", "target_date", "direction")},
        **{
            f"ambiguous_{name}": found.ambiguous_in_row if found.ambiguous_in_row is not None else False
            for name, found in read.items()
        },
        first_row=pl.col(ROW).first().over("objective_id"),
    )
    checks: list[tuple[pl.Expr, str, pl.Expr]] = []
    for name, example in OBJECTIVE_EXAMPLES.items():
        raw_name = f"raw_{name}" if f"raw_{name}" in work.columns else name
        checks.append(
            (pl.col(raw_name).is_null(), name, pl.lit(f"empty {name} (every objective needs one; e.g. {example})"))
        )
    checks += [
        (
            pl.col(ROW) != pl.col("first_row"),
            "objective_id",
            pl.format(
                "duplicate objective_id '{}' (first on row {}; give each objective its own id)",
                pl.col("objective_id"),
                pl.col("first_row"),
            ),
        ),
        *(_bad_number(name) for name in ("baseline", "target")),
        *(_ambiguous_number(name) for name in ("baseline", "target") if decimal_comma),
        *(_bad_date(name) for name in ("start_date", "target_date")),
        (
            pl.col("raw_direction").is_null(),
            "direction",
            pl.lit(f"empty direction (use one of {', '.join(DIRECTIONS)})"),
        ),
        (
            ~pl.col("direction").is_in(DIRECTIONS),
            "direction",
            pl.format(f"'{{}}' is not a direction (use one of {', '.join(DIRECTIONS)})", pl.col("raw_direction")),
        ),
        (
            pl.col("target_date") < pl.col("start_date"),
            "target_date",
            pl.format(
                "target_date {} is before start_date {} (swap them or fix the dates)",
                pl.col("target_date"),
                pl.col("start_date"),
            ),
        ),
    ]
    good, errors = _split(work, checks, {name: column or name for name, column in columns.items()})
    mapping = {name: column for name, column in columns.items() if column is not None}
    return Parsed(
        kind="objectives",
        format="pmkit objectives CSV",
        frame=good.select(*OBJECTIVE_COLUMNS, ROW),
        errors=ordered([*ragged, *errors]),
        mapping=mapping,
    )


def _ambiguous_number(name: str) -> tuple[pl.Expr, str, pl.Expr]:
    """A `;` file's "8.000" read as 8, with nothing in its column to say the dot groups thousands:
    eight or eight thousand? A target a thousand times off made an objective "achieved" (QA), so
    the file says which (``read_numbers``: in its row, whatever the other objectives' numbers are)."""
    return (pl.col(f"ambiguous_{name}"), name, ambiguous_dot_message(pl.col(f"raw_{name}")))


def _bad_number(name: str) -> tuple[pl.Expr, str, pl.Expr]:
    return (
        pl.col(name).is_null() & pl.col(f"raw_{name}").is_not_null(),
        name,
        pl.format("'{}' is not a number (expected e.g. 0.25)", pl.col(f"raw_{name}")),
    )


def _bad_date(name: str) -> tuple[pl.Expr, str, pl.Expr]:
    return (
        pl.col(name).is_null() & pl.col(f"raw_{name}").is_not_null(),
        name,
        pl.format(f"'{{}}' is not a valid date (expected e.g. {DATE_EXAMPLE})", pl.col(f"raw_{name}")),
    )


# ---------------------------------------------------------------------------------------------
# Feedback


def read_feedback(sample: Sample, options: ReadOptions) -> Parsed:
    check_timezone(options.timezone)
    raw, ragged = read_csv_rows(sample)
    source_columns = [c for c in raw.columns if c != ROW]
    hotjar = None if _lookup(source_columns, *FEEDBACK_REQUIRED) else _hotjar_columns(source_columns)
    user_columns: list[str] = []
    reworded: tuple[str, ...] = ()  # NPS columns read as the first one's (_reworded)
    if hotjar is not None:
        date_column, questions = hotjar
        reworded = _reworded(raw, [q for q, scale in questions if scale == "nps"])
        if reworded:
            # One question, its wording edited during the survey: each row answered one version.
            first = next(q for q, scale in questions if scale == "nps")
            raw = raw.with_columns(pl.coalesce([_text(raw, c) for c in (first, *reworded)]).alias(first))
        questions = _score_questions(raw, questions)
        columns: dict[str, str | None] = {
            "submitted_at": date_column,
            "user_id": None,  # coalesced over user_columns below
            "score": None,  # one per question: questions
            "scale": None,
            "comment": _hotjar_comment(source_columns, [question for question, _ in questions]),
            "source": None,
        }
        user_columns = [c for name in HOTJAR_USER_COLUMNS if (c := _lookup(source_columns, name)) is not None]
        fmt, default_source = "Hotjar survey CSV", "hotjar"
        key_column = _lookup(source_columns, HOTJAR_NUMBER)
    else:
        columns = {name: _lookup(source_columns, name) for name in FEEDBACK_COLUMNS}
        _require(columns, FEEDBACK_REQUIRED, "submitted_at,user_id,score,scale,comment,source")
        questions = ((columns["score"] or "score", None),)  # the scale column, row by row
        fmt, default_source = "pmkit feedback CSV", "pmkit"
        key_column = _lookup(source_columns, *ANSWER_ID_COLUMNS)
    text = {name: _text(raw, column) for name, column in columns.items()}
    user_texts = [_text(raw, column) for column in user_columns]
    if user_texts:
        text["user_id"] = pl.select(pl.coalesce(user_texts)).to_series()
    keys = _text(raw, key_column) if key_column else None
    scores = {question: _text(raw, question) for question, _ in questions}
    # What a row's answers share, whichever question they answer.
    shared = pl.DataFrame(
        {
            "submitted_at": parse_times(text["submitted_at"], options.timezone),
            "user_id": text["user_id"],
            "comment": text["comment"],
            "source": text["source"].fill_null(default_source),
            ROW: raw[ROW],
            "raw_submitted_at": text["submitted_at"],
        }
    )
    answers: list[pl.DataFrame] = []
    errors: list[RowError] = []
    for index, (question, question_scale) in enumerate(questions):
        score = parse_numbers(scores[question], decimal_comma=sample.delimiter == ";")
        scale = text["scale"].str.to_lowercase()
        if scale.null_count() == raw.height:
            scale = scale.fill_null(question_scale or _scale_of_scores(score, question))
        work = shared.with_columns(score=score, scale=scale, raw_score=scores[question], question_index=pl.lit(index))
        work = work.with_columns(_answer_key(question if hotjar is not None else None, keys))
        if hotjar is not None:
            # A survey's score questions are optional: an empty cell is a question skipped, no
            # answer to it (one skipped NPS question rejected a whole Hotjar export; QA), and a row
            # that skipped every one gives no answer at all. A pmkit CSV's row is one answer, so
            # its empty score stays an error.
            work = work.filter(pl.col("raw_score").is_not_null())
        sources = {name: column or name for name, column in columns.items()} | {"score": question}
        good, bad = _split(work, _feedback_checks(), sources)
        answers.append(good)
        errors += bad
    # One error per bad row, its first question's, and none of a bad row's answers loaded.
    first_errors = {error.row: error for error in reversed(errors)}
    bad_rows = pl.Series(list(first_errors), dtype=pl.Int64)
    good = pl.concat(answers).filter(~pl.col(ROW).is_in(bad_rows.implode())).sort(ROW, "question_index")
    skipped, unanswered = _questions_skipped(scores, raw[ROW], bad_rows) if hotjar is not None else ({}, 0)
    repeats = 0
    if good[FEEDBACK_KEY].null_count() < good.height:
        kept = good.filter(pl.col(FEEDBACK_KEY).is_null() | pl.col(FEEDBACK_KEY).is_first_distinct())
        good, repeats = kept, good.height - kept.height
    used = {column for column in columns.values() if column is not None} | set(user_columns) | {key_column}
    used |= set(scores) | set(reworded)
    answering = raw.filter(pl.col(ROW).is_in(good[ROW].implode()))
    dimensions, dim_mapping, dropped = _feedback_dimensions(
        answering, [c for c in source_columns if c not in used], options
    )
    # A row gives one answer per question it answered, each with the row's attributes.
    attributes = pl.concat([dimensions, answering.select(ROW)], how="horizontal")
    frame = good.select(
        *(pl.col(name).cast(dtype) for name, dtype in FEEDBACK_COLUMNS.items()), FEEDBACK_KEY, ROW
    ).join(attributes, on=ROW, how="left", maintain_order="left")
    frame = frame.select(*FEEDBACK_COLUMNS, FEEDBACK_KEY, *dimensions.columns, ROW)
    if key_column:
        columns[FEEDBACK_KEY] = key_column
    # Name the user columns that gave an id: "User or Hotjar User ID", not an empty User.
    given = [
        column for column, values in zip(user_columns, user_texts, strict=True) if values.null_count() < raw.height
    ]
    if given:
        columns["user_id"] = " or ".join(given)
    mapping: dict[str, str] = {}
    for name, column in columns.items():
        if name == "score":
            mapping |= _score_mapping(questions)
        elif column is not None:
            mapping[name] = column
    return Parsed(
        kind="feedback",
        format=fmt,
        frame=frame,
        errors=ordered([*ragged, *first_errors.values()]),
        mapping=mapping | dim_mapping,
        dropped_dimensions=dropped,
        duplicates=repeats,
        questions_skipped=skipped,
        rows_unanswered=unanswered,
    )


def _reworded(raw: pl.DataFrame, nps_columns: Sequence[str]) -> tuple[str, ...]:
    """The NPS columns after the first when no row answered two of them: one question whose
    wording was edited during the survey, the old and new wording side by side in the export
    (reading the first alone left the rows of the new wording out as unanswered; review). Two
    questions some rows both answered (the product's and the mobile app's) stay apart."""
    if len(nps_columns) < 2:
        return ()
    filled = pl.DataFrame([_text(raw, c).is_not_null().cast(pl.Int32).alias(str(i)) for i, c in enumerate(nps_columns)])
    answered_twice = filled.select(pl.sum_horizontal(pl.all()) > 1).to_series().any()
    return () if answered_twice else tuple(nps_columns[1:])


def _score_questions(raw: pl.DataFrame, questions: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """One question per scale, the NPS one first: the first NPS question, and the first CSAT
    question whose filled cells are mostly numbers. A second "recommend" question (the mobile
    app's) was pooled into the product's NPS, and a free-text "What would make you more
    satisfied?" read as CSAT made every answer a row error (review); they stay attributes. A file
    with no such question keeps its first one, whose bad cells are then its rows' errors."""

    def mostly_numbers(question: str) -> bool:
        cells = _text(raw, question)
        filled = cells.len() - cells.null_count()
        return filled > 0 and (cells.len() - parse_numbers(cells).null_count()) * 2 > filled

    nps = next(((q, scale) for q, scale in questions if scale == "nps"), None)
    csat = next(((q, scale) for q, scale in questions if scale == "csat" and mostly_numbers(q)), None)
    kept = tuple(q for q in (nps, csat) if q is not None)
    return kept or (questions[0],)


def _questions_skipped(
    scores: dict[str, pl.Series], rows: pl.Series, bad_rows: pl.Series
) -> tuple[dict[str, int], int]:
    """Of a survey's rows that are not bad: how many left each score question empty (a question
    every row answered is not listed), and how many left every one empty (no answer: not loaded)."""
    empty = pl.DataFrame([score.is_null().alias(question) for question, score in scores.items()]).filter(
        ~rows.is_in(bad_rows.implode())
    )
    skipped = {question: count for question in scores if (count := int(empty[question].sum())) > 0}
    return skipped, int(empty.select(pl.all_horizontal(pl.all())).to_series().sum())


def _feedback_checks() -> list[tuple[pl.Expr, str, pl.Expr]]:
    low = pl.when(pl.col("scale") == "nps").then(0).otherwise(1)
    high = pl.when(pl.col("scale") == "nps").then(10).otherwise(5)
    return [
        (
            pl.col("raw_submitted_at").is_null(),
            "submitted_at",
            pl.lit(f"empty submitted_at (every answer needs a time; e.g. {TIME_EXAMPLE})"),
        ),
        (
            pl.col("submitted_at").is_null(),
            "submitted_at",
            pl.format(f"'{{}}' is not a valid time (expected e.g. {TIME_EXAMPLE})", pl.col("raw_submitted_at")),
        ),
        # As for events: one answer dated 2030 made Voice of customer open on its days (QA).
        *time_bound_checks("submitted_at", pl.col("raw_submitted_at"), latest_time()),
        (pl.col("raw_score").is_null(), "score", pl.lit("empty score (every answer needs one; e.g. 9)")),
        (pl.col("scale").is_null(), "scale", pl.lit("empty scale (use nps or csat, as the other rows do)")),
        (
            ~pl.col("scale").is_in(tuple(SCALES)),
            "scale",
            pl.format("'{}' is not a scale (use nps or csat)", pl.col("scale")),
        ),
        (
            pl.col("score").is_null()
            | (pl.col("score") != pl.col("score").round(0))
            | (pl.col("score") < low)
            | (pl.col("score") > high),
            "score",
            pl.format(
                "'{}' is not a valid {} score (expected a whole number {} to {})",
                pl.col("raw_score"),
                pl.col("scale").str.to_uppercase(),
                low,
                high,
            ),
        ),
    ]


def _score_mapping(questions: Sequence[tuple[str, str | None]]) -> dict[str, str]:
    """Which column gave the scores: ``score``, or with an NPS and a CSAT question each by its
    scale (``score (nps)``, ``score (csat)``; ``_score_questions`` keeps one per scale)."""
    if len(questions) == 1:
        return {"score": questions[0][0]}
    return {f"score ({scale})": question for question, scale in questions}


def _answer_key(survey: str | None, keys: pl.Series | None) -> pl.Expr:
    """Each answer's key (FEEDBACK_KEY), or null where the file gives none: the answer's id in
    its survey, the survey, and the time. A Hotjar export holds every answer so far, so this
    week's repeats last week's: its ``Number`` counts the answers of one survey, whose score
    question names it (``{"survey":"How likely ...?","id":"3","submitted_at":1772359200000000}``).
    A survey with several score questions (NPS and CSAT) gives each row one answer per question,
    each keyed by its own question, so one is never taken for a repeat of the other.
    A pmkit CSV's ``answer_id`` (or ``response_id``) is an id within its ``source`` and scale: two
    tools that number their answers 1, 2, 3 do not share a key (the id alone took one tool's
    answers for the other's). The time keeps two surveys under one source apart. Other files have
    no key: an answer is then skipped only with its whole file (the same content loaded before)."""
    if keys is None:
        return pl.lit(None, pl.String).alias(FEEDBACK_KEY)
    named = pl.lit(survey) if survey is not None else pl.concat_str(pl.col("source"), pl.col("scale"), separator=" ")
    return (
        pl.when(pl.lit(keys).is_not_null())
        .then(
            pl.struct(
                named.alias("survey"),
                pl.lit(keys).alias("id"),
                pl.col("submitted_at").dt.epoch("us").alias("submitted_at"),
            ).struct.json_encode()
        )
        .alias(FEEDBACK_KEY)
    )


def _scale_of_scores(score: pl.Series, score_column: str) -> str:
    """The scale of a file that does not say which: nps when a score is 0 or above 5 (no CSAT
    score is), else Rejected when a score fits both (the scores 2, 5, 4 are three NPS detractors
    or three CSAT answers). A file of no usable score is nps: its rows fail their score check."""
    if ((score == 0) | (score > 5)).any() or not score.is_between(1, 5).any():
        return "nps"
    raise Rejected(
        [
            RowError(
                None,
                score_column,
                "no score is 0 or above 5, so the answers could be NPS (0 to 10) or CSAT (1 to 5) "
                "and the file does not say which (add a scale column with nps or csat to each row, e.g. "
                "submitted_at,score,scale then 2026-03-01T10:00:00Z,4,nps; a survey tool's export says which "
                "in its question, e.g. How likely are you to recommend us? or How satisfied are you?)",
            )
        ]
    )


# Names an attribute does not take: the answers' own columns, and the day the pages add to them
# (an attribute named day was left out of every filter and breakdown without a word).
RESERVED_ATTRIBUTES = frozenset(FEEDBACK_COLUMNS) | {ROW, "day", FEEDBACK_KEY}


def attribute_name(raw: str) -> str:
    """The name a feedback column is stored under as an attribute (before a ``_2`` suffix)."""
    name = dimension_name(raw)
    return f"source_{name}" if name in RESERVED_ATTRIBUTES else name


def _feedback_dimensions(
    raw: pl.DataFrame, columns: list[str], options: ReadOptions
) -> tuple[pl.DataFrame, dict[str, str], tuple[str, ...]]:
    """Extra columns as String attributes, named like event dimensions, empty ones dropped: those
    the workspace's answers have (``options.keep_attributes``), then the most filled others while
    there is room, MAX_DIMENSIONS in all (survey exports carry a column per page-view attribute).
    Chosen per file, an export split in two lost its smaller half's plan, and NPS by plan changed.
    Also returns the names of the columns with values left out."""
    texts = {column: clean_text(raw[column]) for column in columns}
    filled = [column for column in columns if texts[column].null_count() < raw.height]
    taken = set(RESERVED_ATTRIBUTES)
    names: dict[str, str] = {}
    for column in filled:
        name = attribute_name(column)
        base, suffix = (f"source_{name}" if name in taken else name), 2
        name = base
        while name in taken:
            name, suffix = f"{base}_{suffix}", suffix + 1
        taken.add(name)
        names[column] = name
    room = MAX_DIMENSIONS if options.attribute_room is None else options.attribute_room
    counts = {column: raw.height - texts[column].null_count() for column in filled}
    return keep_columns(texts, counts, names, options.keep_attributes, room)


# ---------------------------------------------------------------------------------------------
# Shared


def _text(raw: pl.DataFrame, column: str | None) -> pl.Series:
    if column is None:
        return null_column(raw.height)
    return clean_text(raw[column])


def _require(columns: dict[str, str | None], required: Sequence[str], header: str) -> None:
    missing = [name for name in required if columns.get(name) is None]
    if missing:
        raise Rejected([RowError(1, None, f"no {', '.join(missing)} column (expected a header like {header})")])


def _split(
    work: pl.DataFrame, checks: list[tuple[pl.Expr, str, pl.Expr]], sources: dict[str, str]
) -> tuple[pl.DataFrame, tuple[RowError, ...]]:
    """Good rows, and one RowError per bad row: its first failing check, in the order given."""
    message: pl.Expr = pl.lit(None, pl.String)
    column: pl.Expr = pl.lit(None, pl.String)
    for condition, name, text in reversed(checks):
        hit = condition.fill_null(False)
        message = pl.when(hit).then(text).otherwise(message)
        column = pl.when(hit).then(pl.lit(sources.get(name, name))).otherwise(column)
    work = work.with_columns(message.alias("_message"), column.alias("_column"))
    bad = work.filter(pl.col("_message").is_not_null())
    errors = tuple(RowError(r, c, m) for r, c, m in zip(bad[ROW], bad["_column"], bad["_message"], strict=True))
    return work.filter(pl.col("_message").is_null()), errors
