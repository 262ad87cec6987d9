"""What the roadmap sources (Jira, Linear, Plane, pmkit's own CSV) share.

Each of them reads the file as strings, maps columns onto ``canonical.ROADMAP_COLUMNS`` with the
helpers here, and hands the result to ``canonical_frame``, which types the columns, drops the bad
rows (each reported once as a ``RowError``) and keeps ``_row`` so a problem can be traced back to the
spreadsheet row. Status words, dates and numbers are parsed the same way for every source, so an
export from any tool means the same thing on the roadmap page.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from pmkit.canonical import ROADMAP_COLUMNS
from pmkit.formatting import BIDI_EMBEDDINGS, BIDI_ISOLATES, closed_bidi
from pmkit.sources.base import ROW, ReadOptions, RowError, Sample, null_column

KIND = "roadmap"
DEFAULT_OPTIONS = ReadOptions()

# Status words as tools export them, lower-cased, with "_" and "-" read as spaces.
# Jira's own status categories are "To Do", "In Progress" and "Done" ("new", "indeterminate" and
# "done" in its API); Plane's state groups are backlog, unstarted, started, completed, cancelled.
STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ("to do", "todo", "backlog", "open", "new", "triage", "unstarted", "planned", "not started", "icebox")
        + ("selected for development", "reopened", "draft", "proposed", "idea"),
        "todo",
    ),
    **dict.fromkeys(
        ("in progress", "indeterminate", "started", "in review", "review", "code review", "doing", "in development")
        + ("in qa", "qa", "testing", "in test", "blocked", "on hold", "paused", "active"),
        "in_progress",
    ),
    **dict.fromkeys(
        ("done", "closed", "resolved", "complete", "completed", "released", "shipped", "merged", "fixed", "deployed")
        + ("finished", "accepted", "delivered"),
        "done",
    ),
    **dict.fromkeys(
        ("cancelled", "canceled", "won't do", "wont do", "won't fix", "wontfix", "declined", "rejected", "duplicate")
        + ("abandoned", "obsolete", "not doing", "invalid", "cannot reproduce", "won't have"),
        "cancelled",
    ),
    # Jira's three status categories as it writes them in other languages (German, French,
    # Spanish, Portuguese, Italian, Dutch): a German export's "Erledigt" was work under way
    # (vendor QA).
    **dict.fromkeys(
        ("zu erledigen", "à faire", "a faire", "por hacer", "a fazer", "itens pendentes", "da fare", "te doen"),
        "todo",
    ),
    **dict.fromkeys(("in arbeit", "en cours", "en curso", "em andamento", "in corso", "in uitvoering"), "in_progress"),
    **dict.fromkeys(
        ("erledigt", "fertig", "terminé", "terminée", "termine", "listo", "hecho", "finalizado", "concluído")
        + ("concluido", "itens concluídos", "completato", "fatto", "gereed", "klaar"),
        "done",
    ),
    # Jira's "Won't Do" in those languages: a Resolved date alone would make it done (review).
    **dict.fromkeys(
        ("wird nicht erledigt", "ne sera pas fait", "no se hará", "não será feito", "non sarà fatto")
        + ("wordt niet gedaan",),
        "cancelled",
    ),
}
# Words that settle an unlisted status ("Cancelled by customer", "Done - awaiting deploy"), found
# at the start of a word ("Incomplete" and "Unresolved" hold no "complete" or "resolved") and not
# after a negation ("Not done", "Never shipped": work that is not finished).
CANCELLED_HINTS = (
    "cancel",
    "won't",
    "wont",
    "will not",
    "reject",
    "declin",
    "duplicate",
    "abandon",
    "descope",
    "de scope",
) + ("out of scope", "not planned", "obsolete")
# The same in German, French, Spanish, Portuguese, Italian and Dutch ("Abgebrochen", "Annulé",
# "Rechazado", "Annullato", "Geannuleerd"; "cancelado" starts with "cancel"): with a Resolved
# date, a cancelled story read done and counted in its epic (review).
CANCELLED_HINTS += ("annul", "abgebroch", "verworf", "abgelehn", "storn", "rejet", "rechaz", "rejeit", "rifiut")
CANCELLED_HINTS += ("afgewez", "geannuleerd", "descart", "duplica", "duplikat", "doublon")
DONE_HINTS = ("done", "closed", "complete", "resolved", "released", "shipped", "deployed")
TODO_HINTS = ("backlog", "to do", "todo", "not started")
NEGATIONS = frozenset({"not", "no", "never"})
# A negation in the languages of Jira's categories above, before a word for done ("Not Done",
# "Not yet finished", "Nicht erledigt", "Non fatto"): the work is not done, so a Resolved date does
# not make it so. Other negations ("No longer needed", "Go / No-Go passed") say nothing of that.
ANY_NEGATION = NEGATIONS | {"nicht", "non", "pas", "niet", "não", "nao", "nunca", "mai"}
DONE_WORDS = (*DONE_HINTS, *(word for word, category in STATUS_WORDS.items() if category == "done"))
DONE_WORDS += ("erledigt", "fertig", "termin", "fatto", "complet", "klaar", "gereed", "hecho", "listo", "finaliz")
DONE_WORDS += ("conclu", "finish", "abgeschlossen", "afgerond", "voltooid", "résolu", "resolu", "fix", "merge")

HEALTH_WORDS = {"on track": "on_track", "at risk": "at_risk", "off track": "off_track"}


def normalise_words(text: str) -> str:
    """`Won’t_Do ` -> `won't do`: lower case, typographic apostrophes and separators made plain."""
    text = text.strip().lower().replace("\u2019", "'").replace("_", " ").replace("-", " ")
    return re.sub(r"\s+", " ", text)


def known_status(status: str) -> bool:
    """Whether ``status`` is a listed word, names a hint word, or says the work is not done
    (``category_of_status`` is then sure of it, not guessing work under way). "Not Done" with a
    Resolved date was guessed done (review)."""
    words = normalise_words(status)
    hints = (*CANCELLED_HINTS, *DONE_HINTS, *TODO_HINTS)
    tokens = words.split()
    # A negation anywhere before a word for done: "Not yet finished" (review).
    negated = any(
        token in ANY_NEGATION and any(later.startswith(DONE_WORDS) for later in tokens[index + 1 :])
        for index, token in enumerate(tokens)
    )
    return words in STATUS_WORDS or negated or any(_names(words, hint) for hint in hints)


def category_of_status(status: str | None) -> str | None:
    """The status category (todo / in_progress / done / cancelled) a status word means.

    Known words map exactly; an unlisted status that names none of the hint words is work under
    way (in_progress): custom workflow steps such as "Ready for QA" sit between start and done.
    """
    if status is None or not status.strip():
        return None
    words = normalise_words(status)
    if words in STATUS_WORDS:
        return STATUS_WORDS[words]
    for hints, category in ((CANCELLED_HINTS, "cancelled"), (DONE_HINTS, "done"), (TODO_HINTS, "todo")):
        if any(_names(words, hint) for hint in hints):
            return category
    return "in_progress"


def _names(words: str, hint: str) -> bool:
    """Whether ``hint`` starts a word of ``words`` that no negation comes right before.

    >>> _names("done awaiting deploy", "done"), _names("not done", "done"), _names("incomplete", "complete")
    (True, False, False)
    """
    for found in re.finditer(rf"(?<![a-z']){re.escape(hint)}", words):
        before = words[: found.start()].split()
        if not before or before[-1] not in NEGATIONS:
            return True
    return False


def status_categories(
    status: pl.Series,
    category: pl.Series | None = None,
    resolution: pl.Series | None = None,
    finished: pl.Series | None = None,
) -> pl.Series:
    """One status category per row, from the best evidence a source has.

    A stated category (Jira's Status Category, Plane's state group) wins over the status word; a
    cancelling resolution (Jira "Won't Do") or status word makes the row cancelled whatever the
    category says, because Jira files cancelled work under the Done category. Rows with nothing
    to go on are done if ``finished`` (a completion date) is set, else todo.
    """
    by_status = _map_unique(status, category_of_status)
    result = by_status
    if category is not None:
        result = _map_unique(category, category_of_status).fill_null(by_status)
    if resolution is not None:
        cancels = _map_unique(resolution, category_of_status) == "cancelled"
        result = pl.select(pl.when(cancels.fill_null(False)).then(pl.lit("cancelled")).otherwise(result)).to_series()
    result = pl.select(pl.when(by_status == "cancelled").then(by_status).otherwise(result)).to_series()
    if finished is not None:
        # A status word of the team's own (or a language not listed), no known category, and a
        # completion date: finished work, not work under way (a German export's resolved story
        # read in progress; vendor QA).
        guessed = ~_map_unique(status, known_status, pl.Boolean).fill_null(False)
        if category is not None:
            guessed = guessed & ~_map_unique(category, known_status, pl.Boolean).fill_null(False)
        finished_guess = guessed & finished.is_not_null() & (result == "in_progress")
        result = pl.select(pl.when(finished_guess).then(pl.lit("done")).otherwise(result)).to_series()
    fallback = pl.Series(["todo"] * len(status), dtype=pl.String)
    if finished is not None:
        fallback = pl.select(pl.when(finished.is_not_null()).then(pl.lit("done")).otherwise(fallback)).to_series()
    return result.fill_null(fallback).alias("status_category")


def declared_health_of(text: str | None) -> str | None:
    """`On track` / `on_track` / `AT RISK` -> on_track / at_risk / off_track; None if not one of them."""
    if text is None:
        return None
    words = normalise_words(text)
    return HEALTH_WORDS.get(words)


def clean_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Surrounding spaces removed and blank cells made null, in every string column."""
    text = pl.col(pl.String).str.strip_chars()
    return frame.with_columns(pl.when(text.str.len_chars() > 0).then(text).otherwise(None))


# The text columns of roadmap items and objectives that go into sentences (``closed_directions``).
SHOWN_TEXT = ("title", "owner", "team", "status")

# The characters that open a change of writing direction, as ``formatting.closed_bidi`` reads them.
BIDI_OPENERS = f"[{BIDI_EMBEDDINGS}{BIDI_ISOLATES}]"


def closed_directions(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """``frame`` with each cell of ``columns`` (text that goes into sentences: titles, owners)
    closing the right-to-left override, embedding or isolate it opens (``closed_bidi``): a title's
    open override reversed the words after it ("Most urgent: .(enod %03 ...) exe.live" in the
    report; QA). Ids are left as typed: closed, they no longer matched their links (review)."""
    columns = [
        name
        for name in columns
        if name in frame.columns and frame[name].str.contains(BIDI_OPENERS).fill_null(False).any()
    ]
    return frame.with_columns(
        pl.col(name).map_elements(closed_bidi, return_dtype=pl.String, skip_nulls=True) for name in columns
    )


# Spreadsheet programs run cells starting with = + - @ (or a tab or carriage return) as formulas,
# so exporters such as Linear prefix such text with one apostrophe: `'=SUM(A1)` means `=SUM(A1)`.
# Only that escape is undone: a title that merely starts with an apostrophe is left alone.
FORMULA_ESCAPE = r"^'([=+\-@\t\r])"


def unescape_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """`'=SUM(A1)` -> `=SUM(A1)` in every string column (see FORMULA_ESCAPE)."""
    return frame.with_columns(pl.col(pl.String).str.replace(FORMULA_ESCAPE, "$1"))


def repeated_columns(frame: pl.DataFrame, *aliases: str) -> list[str]:
    """Every column named like one of ``aliases`` (case-insensitive), repeats included, in the
    order of the aliases and then of the file: Jira writes multi-value fields as repeated columns,
    which ``read_csv_rows`` names `Sprint`, `Sprint_duplicated_0`, `Sprint_duplicated_1`."""
    found: list[str] = []
    for alias in aliases:
        wanted = alias.lower()
        for column in frame.columns:
            lowered = column.lower()
            if (
                lowered == wanted or re.fullmatch(re.escape(wanted) + r"_duplicated_\d+", lowered)
            ) and column not in found:
                found.append(column)
    return found


def column_or_nulls(frame: pl.DataFrame, column: str | None) -> pl.Series:
    """The column's text, or nulls when the export lacks the column."""
    return frame[column] if column is not None else null_column(frame.height)


def first_filled(frame: pl.DataFrame, columns: Sequence[str]) -> pl.Series:
    """Per row, the first non-empty value among ``columns`` (all null if there are none)."""
    if not columns:
        return null_column(frame.height)
    return frame.select(pl.coalesce([pl.col(c) for c in columns])).to_series()


def joined_ids(frame: pl.DataFrame, columns: Sequence[str]) -> pl.Series:
    """Per row, the ids in ``columns`` (each may list several) as one comma-joined value."""
    if not columns:
        return null_column(frame.height)
    return pl.Series([join_ids(cells) for cells in frame.select(columns).iter_rows()], dtype=pl.String)


def ordered(errors: Iterable[RowError]) -> tuple[RowError, ...]:
    """Errors in file order: by row, then column."""
    return tuple(sorted(errors, key=lambda e: (e.row or 0, e.column or "")))


def split_ids(value: str | None) -> list[str]:
    """`ENG-1, ENG-2` or `ENG-1 ENG-2` -> ['ENG-1', 'ENG-2']."""
    if value is None:
        return []
    return [part for part in re.split(r"[,;\s]+", value) if part]


def join_ids(values: Iterable[str | None]) -> str | None:
    """Distinct ids, in order, comma-joined as canonical ``blocked_by`` expects; None if none."""
    ids: list[str] = []
    for value in values:
        for item_id in split_ids(value):
            if item_id not in ids:
                ids.append(item_id)
    return ",".join(ids) or None


def json_list(value: str | None) -> list[str | dict]:
    """A cell holding a JSON list, as Plane writes them: `["Jane Smith", "Bob"]` -> the names.

    Text that is not a JSON list is taken as one value, so a hand-edited cell still counts.
    """
    if value is None:
        return []
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return [value.strip()] if value.strip() else []
    if isinstance(parsed, list):
        return [item for item in parsed if isinstance(item, (str, dict))]
    return [str(parsed)]


def parse_date(text: str, formats: Sequence[str], timezone: str) -> date | None:
    """The calendar date a cell names, or None if it names none.

    ISO 8601 is always accepted (`2026-03-31`, Linear's `2024-05-14T08:53:33Z`, Jira's
    `2019-10-25T10:00:00.000+0100`); ``formats`` are the source's own strptime formats. A time with
    an offset is moved to the workspace time zone before its date is taken; a time without one is
    already local to whoever exported the file.
    """
    value = text.strip()
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    for fmt in formats:
        if parsed is not None:
            break
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            parsed = None
    if parsed is None:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(_zone(timezone))
    return parsed.date()


def date_column(
    frame: pl.DataFrame,
    column: str | None,
    *,
    formats: Sequence[str],
    example: str,
    timezone: str,
    errors: list[RowError],
    explain: Callable[[str], str] | None = None,
) -> pl.Series:
    """The column parsed as dates (null where empty); each cell that is not a date adds a RowError
    like `'31/Feb/20' is not a valid date (expected e.g. 25/Oct/19)`, and ``explain(cell)`` after
    it."""
    return parsed_column(
        frame,
        column,
        lambda text: parse_date(text, formats, timezone),
        dtype=pl.Date(),
        problem=f"is not a valid date (expected e.g. {example})",
        errors=errors,
        explain=explain,
    )


def parsed_column(
    frame: pl.DataFrame,
    column: str | None,
    parse: Callable[[str], object],
    *,
    dtype: pl.DataType | type[pl.DataType],
    problem: str,
    errors: list[RowError],
    explain: Callable[[str], str] | None = None,
) -> pl.Series:
    """The column through ``parse`` (called once per distinct value; None means "not valid"), null
    where empty or absent; each rejected cell adds a RowError `'<cell>' <problem>`, then what
    ``explain`` says of that cell (a source's own hint)."""
    if column is None:
        return null_column(frame.height, dtype)
    parsed = _map_unique(frame[column], parse, dtype)
    bad = frame.filter(parsed.is_null() & frame[column].is_not_null()).select(column, ROW)
    errors.extend(
        RowError(row, column, f"'{value}' {problem}{explain(value) if explain else ''}")
        for value, row in bad.iter_rows()
    )
    return parsed


def first_date(frame: pl.DataFrame, columns: Sequence[pl.Series]) -> pl.Series:
    """Per row, the first non-null of several parsed date columns (Jira repeats some date fields)."""
    if not columns:
        return null_column(frame.height, pl.Date())
    return pl.select(pl.coalesce(columns)).to_series()


def parse_number(text: str) -> float | None:
    """`3`, `2.5` or `2,5` (a decimal comma) -> a finite number of zero or more; else None."""
    value = text.strip()
    if value.count(",") == 1 and "." not in value:
        value = value.replace(",", ".")
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def number_column(frame: pl.DataFrame, column: str | None, *, expected: str, errors: list[RowError]) -> pl.Series:
    """The column parsed as non-negative numbers; each bad cell adds `'abc' is not <expected>`."""
    return parsed_column(frame, column, parse_number, dtype=pl.Float64(), problem=f"is not {expected}", errors=errors)


def first_number(frame: pl.DataFrame, columns: Sequence[str], *, expected: str, errors: list[RowError]) -> pl.Series:
    """Per row, the first non-empty of ``columns`` as a number (Jira repeats story point fields)."""
    if not columns:
        return null_column(frame.height, pl.Float64())
    column_of_value = pl.coalesce([pl.when(pl.col(c).is_not_null()).then(pl.lit(c)) for c in columns])
    picked = frame.select(
        pl.coalesce([pl.col(c) for c in columns]).alias("value"), column_of_value.alias("column"), ROW
    )
    values = _map_unique(picked["value"], parse_number, pl.Float64)
    bad = picked.filter(values.is_null() & picked["value"].is_not_null())
    errors.extend(RowError(row, column, f"'{value}' is not {expected}") for value, column, row in bad.iter_rows())
    return values


def id_errors(frame: pl.DataFrame, column: str, example: str) -> list[RowError]:
    """Rows without an item id, and rows repeating one (only the first of a repeated id is kept)."""
    errors = [
        RowError(row, column, f"the item id is empty (every row needs one, e.g. {example})")
        for row in frame.filter(pl.col(column).is_null())[ROW]
    ]
    ids = frame.filter(pl.col(column).is_not_null()).select(column, ROW)
    first_rows = ids.group_by(column).agg(pl.col(ROW).min().alias("first_row"))
    repeats = ids.join(first_rows, on=column).filter(pl.col(ROW) != pl.col("first_row"))
    errors.extend(
        RowError(row, column, f"'{item_id}' appears more than once (first on row {first}); each item needs its own id")
        for item_id, row, first in repeats.select(column, ROW, "first_row").iter_rows()
    )
    return errors


def missing_column(column: str, header_example: str) -> RowError:
    """The whole-file error for a missing id column, naming it and a header that works."""
    return RowError(
        1, column, f'the file has no "{column}" column (export it with that field, e.g. a header like {header_example})'
    )


def canonical_frame(
    rows: pl.Series, columns: dict[str, pl.Series], errors: Sequence[RowError], source: str
) -> pl.DataFrame:
    """The canonical roadmap frame: every ROADMAP_COLUMNS column with its type (null where the
    source has nothing), ``source`` filled in, ``_row`` last, and the rows named in ``errors`` left out."""
    frame = pl.DataFrame({ROW: rows.cast(pl.Int64)})
    frame = frame.with_columns(
        [
            columns[name].cast(dtype).alias(name) if name in columns else pl.lit(None, dtype=dtype).alias(name)
            for name, dtype in ROADMAP_COLUMNS.items()
        ]
    )
    frame = frame.with_columns(pl.col("source").fill_null(source))
    bad_rows = sorted({e.row for e in errors if e.row is not None})
    return frame.filter(~pl.col(ROW).is_in(bad_rows)).select([*ROADMAP_COLUMNS, ROW])


def container_rows(items: pl.DataFrame, containers: pl.DataFrame) -> pl.DataFrame:
    """Roadmap rows for items that exist only as column values (Linear projects, Plane modules).

    ``containers`` has item_id, title, item_type, parent_id (and optionally team); ``items`` is the
    canonical frame holding their children (``_for_containers``: an item counts in the nearest
    container up its parent chain; open work under a cancelled item does not). A container's status
    category comes from them:
    cancelled if all are, done if every other child is done, in_progress once any child is started
    or done, else todo. It starts with its earliest child and is due with its latest; its team is
    the children's one team, if they share one. Such rows have no ``_row``.
    """
    live = pl.col("status_category") != "cancelled"
    children = (
        _for_containers(items, containers["item_id"])
        .group_by("parent_id")
        .agg(
            pl.col("status_category").alias("categories"),
            pl.col("start_date").filter(live).min().alias("start_date"),
            pl.col("due_date").filter(live).max().alias("due_date"),
            pl.col("completed_date").filter(live).max().alias("completed_date"),
            pl.col("team").drop_nulls().unique().alias("teams"),
        )
    )
    joined = containers.unique("item_id", keep="first", maintain_order=True).join(
        children, left_on="item_id", right_on="parent_id", how="left", maintain_order="left"
    )
    categories = [_container_category(c or []) for c in joined["categories"].to_list()]
    own_team = pl.col("team") if "team" in containers.columns else pl.lit(None, dtype=pl.String)
    shared_team = pl.when(pl.col("teams").list.len() == 1).then(pl.col("teams").list.first())
    frame = joined.with_columns(pl.Series("status_category", categories, dtype=pl.String)).with_columns(
        pl.when(pl.col("status_category") == "done").then(pl.col("completed_date")).alias("completed_date"),
        pl.coalesce(own_team, shared_team).alias("team"),
    )
    return frame.select(
        [
            pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype=dtype).alias(name)
            for name, dtype in ROADMAP_COLUMNS.items()
            if name != "source"
        ]
        + [pl.lit(None, dtype=pl.Int64).alias(ROW)]
    )


def _for_containers(items: pl.DataFrame, container_ids: pl.Series) -> pl.DataFrame:
    """``items`` as the containers (``container_ids``) count them: each under the nearest
    container up its parent chain (``roadmap.climb``), and open work under a cancelled item not
    at all.

    A Linear sub-issue hangs under its parent issue: counted only as its parent, a project read
    done, due with its done issue, while that issue's open sub-issue was due later (ingest QA).
    Open work under a cancelled item counts for nothing, as in progress
    (``roadmap.progress_by_snapshot``): the open sub-issue of a cancelled issue kept its project
    open (review). Done work under it still counts, as its objective does (``roadmap``). Rows
    under no container keep their parent."""
    from pmkit.roadmap import climb

    frame = items.join(climb(items, container_ids), on="item_id", how="left")
    kept = ~pl.col("crossed").fill_null(False) | (pl.col("status_category") == "done")
    return frame.filter(kept).with_columns(pl.coalesce("stop", "parent_id").alias("parent_id")).drop("stop", "crossed")


def add_containers(items: pl.DataFrame, levels: Sequence[pl.DataFrame], source: str) -> pl.DataFrame:
    """``items`` with container rows appended, one level at a time from the lowest (milestones)
    up (projects, then initiatives), so each level's status comes from the level below."""
    frame = items
    for level in levels:
        if level.height == 0:
            continue
        known = frame.select("item_id")
        level = level.join(known, on="item_id", how="anti", maintain_order="left")
        rows = container_rows(frame, level).with_columns(pl.lit(source).alias("source"))
        frame = pl.concat([frame, rows.select(frame.columns)])
    return frame


def columns_lower(sample: Sample) -> set[str]:
    """The header names, lower-cased, with any byte-order mark left by an odd encoding removed."""
    return {c.lstrip("\ufeff").strip().lower() for c in sample.columns}


def _container_category(categories: list[str]) -> str:
    live = [c for c in categories if c != "cancelled"]
    if categories and not live:
        return "cancelled"
    if live and all(c == "done" for c in live):
        return "done"
    if any(c in ("in_progress", "done") for c in live):
        return "in_progress"
    return "todo"


def _map_unique(
    series: pl.Series, parse: Callable[[str], object], dtype: pl.DataType | type[pl.DataType] = pl.String
) -> pl.Series:
    """``parse`` applied once per distinct value (roadmap columns repeat a few values many times)."""
    distinct = [v for v in series.unique().to_list() if v is not None]
    mapping = {value: parse(value) for value in distinct}
    return series.replace_strict(mapping, default=None, return_dtype=dtype).alias(series.name)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


class ExportColumns:
    """The start every roadmap export shares: find the id column (or reject the file naming it),
    list the rows with a missing or repeated id, and record which source column became which
    canonical one as columns are picked (``Parsed.mapping``)."""

    def __init__(
        self,
        raw: pl.DataFrame,
        id_column: str,
        header_example: str,
        id_example: str,
        ragged: Sequence[RowError] = (),
    ) -> None:
        """``ragged``: the rows ``read_csv_rows`` left out (wrong number of fields), kept as
        errors like any bad row, so --skip-bad-rows loads the rest."""
        from pmkit.sources.base import Rejected
        from pmkit.sources.csvfile import column_lookup

        key = column_lookup(raw, id_column)
        if key is None:
            raise Rejected([missing_column(id_column, header_example)])
        self.raw = raw
        self.key = key
        self.errors = [*ragged, *id_errors(raw, key, id_example)]
        self.mapping: dict[str, str] = {key: "item_id"}

    def pick(self, canonical: str, *aliases: str) -> str | None:
        """The first of ``aliases`` the export has, recorded as the source of ``canonical``."""
        from pmkit.sources.csvfile import column_lookup

        column = column_lookup(self.raw, *aliases)
        if column is not None:
            self.mapping[column] = canonical
        return column


def by_canonical(sources: dict[str, str]) -> dict[str, str]:
    """``ExportColumns.mapping`` (source column -> canonical column) the way every reader hands
    it to the user, canonical -> source, several sources of one column joined ("parent_id ←
    Modules, Parent"): shown as source -> canonical, the arrows of roadmap files pointed the
    other way from those of event files.

    >>> by_canonical({"Issue key": "item_id", "Modules": "parent_id", "Parent": "parent_id"})
    {'item_id': 'Issue key', 'parent_id': 'Modules, Parent'}
    """
    joined: dict[str, list[str]] = {}
    for source, canonical in sources.items():
        joined.setdefault(canonical, []).append(source)
    return {canonical: ", ".join(names) for canonical, names in joined.items()}
