"""Page models: what each dashboard page shows, assembled from the engine. Pure: no Streamlit.

The pages stay UI only: they call ``pmkit.ui.compute(config, NAME, **kwargs)``, which runs
``NAME(reader, config, **kwargs)`` from ``PAGE_MODELS`` on the current store version through a
``PageCache``, so a result is computed once per store version and settings. Every number here comes from ``pmkit.metrics``,
``pmkit.roadmap`` and (when present) ``pmkit.objectives`` / ``pmkit.impact``; this module only
chooses, joins and words them.

>>> from pmkit.config import load_config
>>> from pmkit.store import Store
>>> config = load_config("data")  # doctest: +SKIP
>>> with Store(config.store_dir).reader() as reader:  # doctest: +SKIP
...     cards = scorecards(reader, config, Period.last(28, date(2026, 11, 26)))
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from pmkit import metrics, roadmap, roadmap_view, value_counts
from pmkit.charts import COMPARISON_LABELS
from pmkit.config import Config, workspace_today
from pmkit.definitions import Definitions, MetricDefinition, usable_definitions
from pmkit.formatting import (
    counted,
    fixed,
    format_change,
    format_date,
    format_days,
    format_percent,
    format_value,
    whole_points,
)
from pmkit.metrics import Period, Segment
from pmkit.metrics.base import Fragment, last_whole_day, run
from pmkit.store import Memo, Reader, Store, quote_identifier, remembered

# Metrics whose bucket value is a mean, share or ratio: a per-day target applies to any grain.
# Sums (count, events, revenue, ...) grow with the bucket, so a per-day target only fits days.
LEVEL_TYPES = ("funnel", "retention", "ratio")
LEVEL_BUILTINS = ("dau", "wau", "mau", "stickiness", "arpu")
HEADLINE_METRICS = ("dau", "mau", "new_users", "revenue")
RISK_HEALTHS = ("late", "off_track", "at_risk")
SHIPPED_DAYS = 90  # "recently shipped" looks this far back from the roadmap's as-of date
TOO_FEW_DAYS = 2  # a trend needs at least this many buckets to be drawn as a line
SPARK_MAX_POINTS = 60


# --- workspace facts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What is loaded, for empty states, captions ("source and freshness") and the Data page."""

    first_day: dt.date | None
    last_day: dt.date | None
    events: int
    users: int
    files: int
    last_loaded: dt.datetime | None
    answers: int
    roadmap_items: int
    last_snapshot: dt.date | None
    objectives: int
    event_days: int = 0  # days with at least one event (``days`` is the span)
    dimensions: tuple[str, ...] = ()
    timezone: str = "UTC"
    future_until: dt.date | None = None  # the last event day when events are dated after today
    # The events and users up to the last day shown, where events are dated after it: captions
    # said "20,200 events from 756 users, 1 Jun to 28 Nov" of 20,000 events and 556 users then.
    events_shown: int | None = None
    users_shown: int | None = None
    all_future: bool = False  # every event is dated after today (shown as it is, with a warning)
    # The first and last local day of a survey answer (None without answers): the Voice of
    # customer page's range spans them too, so answers without events (or beyond them) are seen.
    answers_first_day: dt.date | None = None
    answers_last_day: dt.date | None = None
    # What pmkit.toml changed that the rollups do not follow until the next ingest (ingest.rebuild_pending).
    rebuild_pending: str | None = None

    @property
    def has_events(self) -> bool:
        return self.last_day is not None and self.events > 0

    @property
    def today_open(self) -> bool:
        """The last day shown is today in the workspace's zone: not over (``Workspace.final_day``)."""
        return self.last_day is not None and self.last_day == workspace_today(self.timezone)

    @property
    def final_day(self) -> dt.date | None:
        """The last whole day (``Workspace.final_day``): the day before the last while that is today."""
        return last_whole_day(self.last_day, self.today_open)

    @property
    def events_in_view(self) -> int:
        """The events up to the last day the pages show (all of them, unless some are later)."""
        return self.events if self.events_shown is None else self.events_shown

    @property
    def users_in_view(self) -> int:
        """The users first seen up to the last day the pages show."""
        return self.users if self.users_shown is None else self.users_shown

    @property
    def events_after_view(self) -> int:
        """The events dated after the last day the pages show: loaded, not shown."""
        return self.events - self.events_in_view

    @property
    def days(self) -> int:
        """Days from the first to the last loaded event day (0 without events)."""
        if self.first_day is None or self.last_day is None:
            return 0
        return (self.last_day - self.first_day).days + 1

    def source(self, what: str = "events") -> str:
        """One line saying where a chart's numbers come from and how fresh they are."""
        loaded = f"last file loaded {self.last_loaded:%d %b %Y %H:%M} UTC" if self.last_loaded else "nothing loaded yet"
        if what == "roadmap":
            return f"Source: {counted(self.roadmap_items, 'roadmap item')}, latest snapshot {format_date(self.last_snapshot)}; {loaded}."
        if what == "feedback":
            return f"Source: {counted(self.answers, 'survey answer')}; {loaded}."
        events, users = self.events_in_view, self.users_in_view
        later = ""
        if self.future_until is not None and self.events_shown is not None:
            later = f", and {self.events_after_view:,} dated after today, not shown"
        elif self.all_future:
            later = ", all dated after today (check the export's clock and time zone)"
        return (
            f"Source: {counted(events, 'event')} from {counted(users, 'user')}, "
            f"{format_date(self.first_day)} to "
            f"{format_date(self.last_day)} ({self.timezone} days){later}; {loaded}."
        )


def facts(reader: Reader, config: Config) -> Facts:
    from pmkit.ingest import rebuild_pending

    row = reader.query("dashboard_facts").row(0, named=True)
    pending = rebuild_pending(reader, config)
    # The days the numbers are counted in: the store's zone until a rebuild follows pmkit.toml's.
    zone = (reader.meta("timezone") or config.timezone) if pending else config.timezone
    shown = metrics.base.shown_last_day(row["first_day"], row["last_day"], zone)
    future_until = row["last_day"] if shown != row["last_day"] else None
    counted: dict[str, Any] = {}
    if future_until is not None:
        counted = reader.query("dashboard_facts_shown", shown=shown).row(0, named=True)
    today = workspace_today(zone)
    answered: dict[str, Any] = {}
    if row["answers"]:
        answered = reader.query("dashboard_facts_answers", tz=answers_zone(reader)).row(0, named=True)
    return Facts(
        # Up to the last day shown, as the card's help says (review).
        **{**row, "last_day": shown, "event_days": counted.get("event_days", row["event_days"])},
        dimensions=tuple(reader.dimensions),
        timezone=zone,
        rebuild_pending=pending,
        future_until=future_until,
        events_shown=counted.get("events"),
        users_shown=counted.get("users"),
        all_future=row["first_day"] is not None and row["first_day"] > today,
        answers_first_day=answered.get("first_day"),
        answers_last_day=answered.get("last_day"),
    )


def coverage(reader: Reader, config: Config) -> pl.DataFrame:
    """Per kind of data (events, roadmap, objectives, feedback): files, rows, first_day,
    last_day, last_loaded."""
    return reader.query("dashboard_coverage")


def loaded_files(reader: Reader, config: Config) -> pl.DataFrame:
    return reader.frame(
        "SELECT name, kind, format, rows_loaded, rows_rejected, rows_duplicate, snapshot_date, loaded_at "
        "FROM loaded_files ORDER BY file_id DESC"
    )


def event_names(reader: Reader, config: Config) -> list[str]:
    """Every loaded event name, most frequent first."""
    kept = value_counts.read(reader, "event")
    return (kept["value"] if kept is not None else reader.query("dashboard_events")["event"]).to_list()


# A filter value is a label to pick from a list: a free-text column (a 30 MB note in one cell)
# sent every browser the whole text on every page.
MAX_FILTER_VALUE = 200


def dimension_values(reader: Reader, config: Config, dimension: str, limit: int = 200) -> list[str]:
    """The most common values of an event dimension (at most ``limit``), most events first;
    values longer than ``MAX_FILTER_VALUE`` characters are not offered as filters."""
    if dimension not in reader.dimensions:
        return []
    kept = value_counts.read(reader, dimension, limit)
    if kept is not None:
        values = kept["value"].to_list()
    else:
        fragment = Fragment(quote_identifier(dimension))
        values = run(reader, "dashboard_dimension_values", {"dimension": fragment}, limit=limit)["value"].to_list()
    return [v for v in values if v is None or len(str(v)) <= MAX_FILTER_VALUE]


def dimension_values_present(reader: Reader, config: Config, dimension: str, values: tuple[str, ...]) -> list[str]:
    """Which of ``values`` some event has for ``dimension`` (a link's filter beyond the values the
    pickers list: the 200 most common)."""
    if dimension not in reader.dimensions or not values:
        return []
    if value_counts.read(reader, dimension, 0) is not None:
        found = reader.frame(
            "SELECT value FROM value_counts WHERE column_name = $column AND list_contains($values, value)",
            column=dimension,
            values=list(values),
        )
    else:
        column = quote_identifier(dimension)
        found = reader.frame(
            f"SELECT DISTINCT CAST({column} AS VARCHAR) AS value FROM events "  # noqa: S608 - whitelisted name
            f"WHERE list_contains($values, CAST({column} AS VARCHAR))",
            values=list(values),
        )
    present = set(found["value"].to_list())
    return [value for value in values if value in present]


# --- metric definitions --------------------------------------------------------------------------


def definitions_of(config: Config) -> tuple[Definitions, tuple[str, ...]]:
    """The workspace's metric definitions and the problems of pmkit.toml's [metrics] tables
    (``definitions.usable_definitions``: a broken table leaves the others usable)."""
    return usable_definitions(config)


def events_not_loaded(config: Config, events: Sequence[str]) -> list[str]:
    """One message per event pmkit.toml names (its metrics' and ``active_events``) that no loaded
    event has; none before anything is loaded. The app and the CLI say the same."""
    if not events:
        return []
    definitions, _ = definitions_of(config)
    return definitions.unknown_events(events, config.get("workspace.active_events"))


def metric_catalog(config: Config) -> pl.DataFrame:
    """Every metric in words: key, name, kind (built-in or the custom type), format, definition."""
    definitions, _ = definitions_of(config)
    keys = definitions.keys()  # Definitions is not a dict: keys() lists built-in then custom
    rows = [
        {
            "key": d.key,
            "name": d.name,
            "kind": "built-in" if d.type == "builtin" else d.type,
            "format": d.format,
            "definition": d.in_words(),
        }
        for d in (definitions.get(key) for key in keys)
    ]
    return pl.DataFrame(
        rows,
        schema={"key": pl.String, "name": pl.String, "kind": pl.String, "format": pl.String, "definition": pl.String},
    )


def is_level(definition: MetricDefinition) -> bool:
    """True when a bucket's value is a level (mean, share, ratio), not a sum over its days."""
    return definition.type in LEVEL_TYPES or (definition.type == "builtin" and definition.key in LEVEL_BUILTINS)


def total_word(definition: MetricDefinition, many: bool = False) -> str:
    """What a bucket of a metric that is no level holds: a sum, or for distinct users a count
    (their "sum is partial" was said of users counted once; review)."""
    word = "count" if definition.type == "unique_users" else "sum"
    return f"{word}s" if many else word


def settling_days(definition: MetricDefinition) -> int:
    """Days after a day before its value is final: a funnel's window, a retention week's end."""
    if definition.type == "funnel":
        return math.ceil(definition.window_days)
    if definition.type == "retention":
        return 7 * definition.week + 6
    return 0


def settling_lag(definition: MetricDefinition, final_day: dt.date | None, timezone: str = "UTC") -> int:
    """``settling_days`` as of ``final_day`` in ``timezone``: a funnel's a day more where a short
    day pushes its windows past it (``metrics.base.final_funnel_day``). The messages said 7 days
    where 8 were left out (review)."""
    if definition.type == "funnel" and final_day is not None:
        return (final_day - metrics.base.final_funnel_day(final_day, definition.window_days, timezone)).days
    return settling_days(definition)


def no_values_text(
    definition: MetricDefinition,
    period: Period,
    last_day: dt.date | None,
    today_open: bool = False,
    timezone: str = "UTC",
) -> str:
    """What a trend with no value to draw says: for a metric still settling, when every day of
    the range is one whose value is not final yet (the last ``settling_days`` before the last
    whole day: ``last_day``, or the day before while ``today_open``), why, instead of "no data"
    beside a card with a value. A short range earlier on, with nobody at the first step, has no
    data.

    >>> funnel = MetricDefinition("activation", "funnel", "Activation", window_days=7)
    >>> no_values_text(funnel, Period.last(7, dt.date(2026, 11, 27)), dt.date(2026, 11, 27))
    'The last 7 days of Activation are not final yet (a user still has time to convert or return): pick a longer range'
    >>> no_values_text(funnel, Period(dt.date(2026, 11, 5), dt.date(2026, 11, 6)), dt.date(2026, 11, 27))
    'No Activation data for this selection'
    >>> no_values_text(funnel, Period.last(8, dt.date(2026, 11, 28)), dt.date(2026, 11, 28), today_open=True)[:27]
    'The last 8 days of Activati'
    """
    final = last_whole_day(last_day, today_open)
    settle = settling_lag(definition, final, timezone)
    if settle and final is not None and period.start > _last_final_day(final, settle):
        return (
            f"The last {format_days(settle + today_open)} of {definition.name} are not final yet (a user still has "
            "time to convert or return): pick a longer range"
        )
    return f"No {definition.name} data for this selection"


def settled_period(
    definition: MetricDefinition,
    period: Period,
    final_day: dt.date | None,
    first_day: dt.date | None = None,
    timezone: str = "UTC",
) -> Period:
    """The period moved back, keeping its length, until every day of it is final
    (``whole_days``): for a funnel or a retention week, its ``settling_days`` before the last
    whole day too.

    >>> d = MetricDefinition("activation", "funnel", "Activation", window_days=7)
    >>> settled_period(d, Period(dt.date(2026, 3, 1), dt.date(2026, 3, 28)), dt.date(2026, 3, 28)).end
    datetime.date(2026, 3, 21)
    >>> dau = MetricDefinition("dau", "builtin", "DAU")  # today (28 Mar) not over: the 27th is the last whole day
    >>> settled_period(dau, Period(dt.date(2026, 3, 1), dt.date(2026, 3, 28)), dt.date(2026, 3, 27)).end
    datetime.date(2026, 3, 27)
    """
    return whole_days(period, final_day, first_day, settling_lag(definition, final_day, timezone))


def whole_days(period: Period, final_day: dt.date | None, first_day: dt.date | None = None, lag: int = 0) -> Period:
    """The period moved back, keeping its length, to end ``lag`` days before the last whole day
    (``Workspace.final_day``: not today while it lasts). Moved to days partly before
    ``first_day``, the first loaded day, it starts on it: DAU averaged a day of no data in as 0
    (1.67 for days of 2 and 3 users; QA). With no final day loaded at all (only today's data),
    it stays as it is: moved wholly before the data, the cards measured days with nothing
    loaded (review)."""
    if final_day is None:
        return period
    final = _last_final_day(final_day, lag)
    if period.end <= final:
        return period
    moved = period.shift((final - period.end).days)
    if first_day is not None and moved.end < first_day:
        return period
    if first_day is not None and moved.start < first_day:
        return Period(first_day, moved.end)
    return moved


def not_over(day: dt.date | None) -> str:
    """How the pages say today's data is partial: "today (28 Nov 2026) is not over"."""
    return f"today ({format_date(day)}) is not over"


def left_out(definition: MetricDefinition, workspace: metrics.base.Workspace) -> str:
    """Why a period was moved back (``settled_period``), in words."""
    lag = settling_lag(definition, workspace.final_day, workspace.timezone)
    today = not_over(workspace.last_day)
    if lag and workspace.today_open:
        return f"{today}, and the {format_days(lag)} before it are left out until they are final"
    if lag:
        return f"the last {format_days(lag)} are left out until they are final"
    return f"{today}: it is left out"


def unsettled_from(period: Period, last_day: dt.date, window_days: int, timezone: str = "UTC") -> dt.date | None:
    """The first day of ``period`` whose funnel attempts (``window_days`` long) can still
    convert, their window running past ``last_day``; None when every day of it is final (the
    rule of ``settling_days``).

    >>> unsettled_from(Period(dt.date(2026, 3, 1), dt.date(2026, 3, 11)), dt.date(2026, 3, 11), 7)
    datetime.date(2026, 3, 5)
    """
    first_open = max(
        period.start, metrics.base.final_funnel_day(last_day, window_days, timezone) + dt.timedelta(days=1)
    )
    return first_open if first_open <= period.end else None


def settled_parts(period: Period, open_from: dt.date | None) -> tuple[Period, Period] | None:
    """The days of ``period`` before ``open_from`` (``unsettled_from``), whose funnel attempts
    have had their whole window, and the same days of the period before: the conversions a
    range ending on the last day can compare (its last days' attempts can still convert, so the
    whole range never could). None when no day of it is settled.

    >>> settled_parts(Period(dt.date(2026, 3, 1), dt.date(2026, 3, 28)), dt.date(2026, 3, 22))
    (Period(start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 21)), Period(start=datetime.date(2026, 2, 1), end=datetime.date(2026, 2, 21)))
    """
    if open_from is None or open_from <= period.start:
        return None
    settled = Period(period.start, open_from - dt.timedelta(days=1))
    return settled, settled.shift(-period.days)


def still_converting(open_from: dt.date) -> str:
    """Why a funnel's conversions are not compared with the range before: "users who started
    from 5 Mar 2026 can still convert, so no change is claimed"."""
    return f"users who started from {format_date(open_from)} can still convert, so no change is claimed"


def _last_final_day(last_day: dt.date, lag: int) -> dt.date:
    """The last day whose value no later day can change, ``lag`` days (``settling_days``) back."""
    return last_day - dt.timedelta(days=lag)


# --- objectives and roadmap -------------------------------------------------------------------------


def objectives(reader: Reader, config: Config) -> pl.DataFrame:
    """Every objective, from objectives.csv and pmkit.toml (the explorer listed the CSV's alone,
    and a link to a pmkit.toml objective's target path drew none; QA)."""
    from pmkit.objectives import load_objectives

    return load_objectives(reader, config)[0]


def items_health(reader: Reader, config: Config, as_of: dt.date | None = None) -> pl.DataFrame:
    """Every roadmap item's health as of ``as_of`` (default: the latest snapshot)."""
    return roadmap_view.item_health(reader, config, as_of)


def roadmap_as_of(reader: Reader, config: Config) -> dt.date | None:
    return roadmap_view.latest_snapshot(reader, None)


def item_history(
    reader: Reader, config: Config, item_id: str, as_of: dt.date | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(burn-up, slip history) of one item across the loaded snapshots, up to ``as_of`` if given:
    the page judges the item as of its date range's end, and its charts went on past it."""
    snapshots = roadmap_view.snapshots(reader)
    if as_of is not None:
        snapshots = snapshots.filter(pl.col("snapshot_date") <= as_of)
    return roadmap.burn_up(snapshots, item_id), roadmap.slip_history(snapshots, item_id)


def objective_health(reader: Reader, config: Config, as_of: dt.date | None = None) -> pl.DataFrame:
    """Per objective: outcome health (its metric against the path to its target) beside delivery
    health (the worst of its items), as of ``as_of`` (default: the latest roadmap snapshot, else
    the last loaded day); ``pmkit.objectives.OBJECTIVE_HEALTH_COLUMNS``."""
    from pmkit import objectives as objective_view

    when = as_of or roadmap_view.latest_snapshot(reader, None) or metrics.base.workspace_of(reader).last_day
    if when is None:
        return pl.DataFrame(schema=objective_view.OBJECTIVE_HEALTH_COLUMNS)
    # Each objective's detail asks for every objective's health (and the summary for the same).
    return remembered(
        reader,
        ("objective_health", settings_key(config), when),
        lambda: objective_view.objective_health(reader, config, roadmap_view.item_health(reader, config, when), when),
    )


def impact_results(
    reader: Reader, config: Config, window_days: int | None = None, as_of: dt.date | None = None
) -> pl.DataFrame:
    """Before/after of every shipped item on its metric (``pmkit.impact.IMPACT_COLUMNS``), with
    the window of ``impact.window_days`` unless given. With ``as_of`` (a page's range end), as
    known then: the items of the latest snapshot on or before it, measured on the metric's days
    up to it, as the report does. Without it the summary of a past range judged items on months
    of later data and showed items that were not done then."""
    from pmkit import impact as impact_view

    days = int(window_days or config.get("impact.window_days"))
    # Each objective's detail keeps its own rows of every shipped item's estimate.
    return remembered(
        reader,
        ("impact_results", settings_key(config), days, as_of),
        lambda: impact_view.impact(reader, config, roadmap_view.item_health(reader, config, as_of), days, as_of=as_of),
    )


def top_risks(items: pl.DataFrame, limit: int | None = 5) -> pl.DataFrame:
    """Late, then off-track, then at-risk items (objectives' own rows left out), soonest due
    first, ``limit`` of them (None: all): item_id, title, item_type, owner, team, health,
    due_date, reason."""
    columns = ["item_id", "title", "item_type", "owner", "team", "health", "due_date", "reason"]
    if items is None or not items.height:
        return pl.DataFrame(schema={c: roadmap.ITEM_HEALTH_COLUMNS[c] for c in columns})
    rank = {health: index for index, health in enumerate(RISK_HEALTHS)}
    return (
        items.filter(pl.col("health").is_in(RISK_HEALTHS) & pl.col("item_type").ne_missing("objective"))
        .with_columns(pl.col("health").replace_strict(rank, return_dtype=pl.Int64).alias("rank"))
        .sort("rank", "due_date", nulls_last=True)
        .head(limit if limit is not None else items.height)
        .select(columns)
    )


def shipped_on_its_own(items: pl.DataFrame) -> pl.Expr:
    """Whether an item of ``items`` is work shipped in its own right: not an objective's own row,
    and not an issue that is part of a roadmap item above it. An issue with a metric of its own,
    or with no parent among the items (Jira stories of no epic, Linear issues of no project),
    is: all issues were left out, so a roadmap of issues alone "shipped nothing" and an issue's
    measured impact on its own metric was shown nowhere (objectives QA). A cancelled parent
    ships nothing: a story done before its epic was cancelled ships on its own (it was measured
    for impact and listed nowhere; QA)."""
    shipping = items.filter(pl.col("status_category").ne_missing("cancelled"))["item_id"]
    part_of_more = pl.col("parent_id").is_in(shipping.implode()).fill_null(False)
    return pl.col("item_type").ne_missing("objective") & (
        pl.col("item_type").ne_missing("issue") | pl.col("metric").is_not_null() | ~part_of_more
    )


def recently_shipped(items: pl.DataFrame, as_of: dt.date | None, days: int = SHIPPED_DAYS) -> pl.DataFrame:
    """Done items completed in the ``days`` before ``as_of``, newest first: those shipped on
    their own (``shipped_on_its_own``)."""
    columns = ["item_id", "title", "item_type", "metric", "objective_id", "completed_date"]
    if items is None or not items.height or as_of is None:
        return pl.DataFrame(schema={c: roadmap.ITEM_HEALTH_COLUMNS[c] for c in columns})
    since = as_of - dt.timedelta(days=days)
    return (
        items.filter(
            (pl.col("health") == "done") & pl.col("completed_date").is_between(since, as_of) & shipped_on_its_own(items)
        )
        .sort("completed_date", descending=True)
        .select(columns)
    )


def shipped_with_impact(
    items: pl.DataFrame, impact: pl.DataFrame | None, as_of: dt.date | None, days: int = SHIPPED_DAYS
) -> pl.DataFrame:
    """``recently_shipped`` with each item's measured impact on its metric: the columns of
    ``pmkit.impact.IMPACT_COLUMNS``, the title and completed date the item's own; an item linked
    to no metric has status "not linked". The summary page and the report list these same rows
    (the report had kept its own choice: items from before the 90 days, no objective-linked ones
    beside an item's own metric, no item whose metric has no data)."""
    from pmkit.impact import IMPACT_COLUMNS

    shipped = recently_shipped(items, as_of, days).select("item_id", "title", "completed_date")
    if impact is None:
        impact = pl.DataFrame(schema=IMPACT_COLUMNS)
    measured_columns = [c for c in IMPACT_COLUMNS if c not in shipped.columns]
    return shipped.join(impact.select("item_id", *measured_columns), on="item_id", how="left").with_columns(
        pl.col("status").fill_null("not linked"), pl.col("verdict").fill_null("not linked to a metric")
    )


def with_change_text(impact: pl.DataFrame) -> pl.DataFrame:
    """``change_pct`` as the tables show it: "+12.3%", "new (from 0)" for a measured metric that
    started from nothing (no percentage exists), else "–" (the table showed "None").

    >>> frame = pl.DataFrame({"status": ["measured", "measured", "too recent"], "change_pct": [12.34, None, None]})
    >>> with_change_text(frame)["change_pct"].to_list()
    ['+12.3%', 'new (from 0)', '–']
    """
    texts = [
        fixed(pct, 1, "+") + "%" if pct is not None else "new (from 0)" if status == "measured" else "–"
        for status, pct in impact.select("status", "change_pct").iter_rows()
    ]
    return impact.with_columns(pl.Series("change_pct", texts, dtype=pl.String))


def measured(impact: pl.DataFrame) -> pl.DataFrame:
    """The rows of an impact frame whose before/after change could be measured."""
    return impact.filter((pl.col("status") == "measured") & pl.col("change_pct").is_not_null())


def ship_markers(
    items: pl.DataFrame, metric: str, goals: pl.DataFrame | None = None, period: Period | None = None
) -> pl.DataFrame:
    """Done items linked to ``metric`` (their own metric, or their objective's), as day, item_id,
    title; only those completed inside ``period`` when given."""
    schema = {"day": pl.Date, "item_id": pl.String, "title": pl.String}
    if items is None or not items.height:
        return pl.DataFrame(schema=schema)
    linked_objectives = (
        goals.filter(pl.col("metric") == metric)["objective_id"].to_list() if goals is not None and goals.height else []
    )
    done = items.filter(
        (pl.col("health") == "done")
        & pl.col("completed_date").is_not_null()
        & pl.col("item_type").ne_missing("objective")
        & (
            (pl.col("metric") == metric)
            | (
                pl.col("metric").is_null()
                & pl.col("objective_id").is_in(linked_objectives)
                & pl.col("item_type").is_in(["epic", "milestone", "initiative"])
            )
        )
    )
    if period is not None:
        done = done.filter(pl.col("completed_date").is_between(period.start, period.end))
    return done.select(pl.col("completed_date").alias("day"), "item_id", "title").sort("day").cast(schema)


def filter_items(
    items: pl.DataFrame,
    *,
    objective: Sequence[str] = (),
    team: Sequence[str] = (),
    owner: Sequence[str] = (),
    health: Sequence[str] = (),
    item_type: Sequence[str] = (),
) -> pl.DataFrame:
    """Items matching every non-empty filter (values of one filter are alternatives)."""
    frame = items
    for column, values in (
        ("objective_id", objective),
        ("team", team),
        ("owner", owner),
        ("health", health),
        ("item_type", item_type),
    ):
        if values:
            frame = frame.filter(pl.col(column).is_in(list(values)))
    return frame


TYPE_ORDER = {"objective": 0, "initiative": 1, "epic": 2, "milestone": 3, "issue": 4}


def roadmap_table(items: pl.DataFrame, goals: pl.DataFrame | None = None) -> pl.DataFrame:
    """Items in reading order (objective, then type from initiative down, then start date) with
    ``linked_metric`` (the item's own metric, else its objective's) and ``progress_pct`` (0-100)."""
    metric_of = (
        dict(zip(goals["objective_id"], goals["metric"], strict=True)) if goals is not None and goals.height else {}
    )
    return (
        items.with_columns(
            pl.coalesce(
                "metric", pl.col("objective_id").replace_strict(metric_of, default=None, return_dtype=pl.String)
            ).alias("linked_metric"),
            pl.col("item_type").replace_strict(TYPE_ORDER, default=9, return_dtype=pl.Int64).alias("type_order"),
            (pl.col("progress") * 100).alias("progress_pct"),
        )
        .sort("objective_id", "type_order", "start_date", "item_id", nulls_last=True)
        .drop("type_order")
    )


STALE_SNAPSHOT_DAYS = 30


def stale_snapshot(snapshot: dt.date, as_of: dt.date, latest: dt.date | None = None) -> str | None:
    """A warning when the roadmap snapshot judged is the latest loaded (``latest``) and more than
    ``STALE_SNAPSHOT_DAYS`` before the day it is judged as of: its items' states are that old
    ("Health as of 28 Nov 2026" from a 2019 snapshot said nothing). A past range judged on an
    older snapshot, with newer ones loaded, is as fresh as the data of then.

    >>> stale_snapshot(dt.date(2026, 10, 1), dt.date(2026, 11, 28))
    'The latest roadmap snapshot is 58 days old (1 Oct 2026): items done or moved since are not known. Load a fresh export.'
    >>> stale_snapshot(dt.date(2026, 11, 14), dt.date(2026, 11, 28)) is None
    True
    >>> stale_snapshot(dt.date(2026, 7, 11), dt.date(2026, 8, 14), latest=dt.date(2026, 11, 28)) is None
    True
    """
    age = (as_of - snapshot).days
    if age <= STALE_SNAPSHOT_DAYS or (latest is not None and latest > snapshot):
        return None
    return (
        f"The latest roadmap snapshot is {age:,} days old ({format_date(snapshot)}): items done or moved since are "
        "not known. Load a fresh export."
    )


TOOL_NAMES = {"jira": "Jira", "linear": "Linear", "plane": "Plane"}


def snapshots_judged(items: pl.DataFrame) -> list[tuple[str | None, dt.date]]:
    """(tool, snapshot date) of each tool's snapshot the items are judged on, oldest first: a
    Jira export of August beside a Linear one of October is two snapshots, and the page named
    only October's, its August items judged "late" without a word of their age (QA)."""
    if "source" not in items.columns:
        return [(None, items["snapshot_date"].max())]
    per_tool = items.group_by("source").agg(pl.col("snapshot_date").max()).sort("snapshot_date", "source")
    return [(TOOL_NAMES.get(tool, tool), day) for tool, day in per_tool.iter_rows()]


def snapshot_caption(items: pl.DataFrame, as_of: dt.date | None) -> str:
    """ "Health as of 28 Nov 2026, from the latest snapshot on or before it (27 Nov 2026)", each
    tool's when there are several (``snapshots_judged``)."""
    judged = snapshots_judged(items)
    when = max(day for _, day in judged)
    if not _several_dates(judged):  # one file may name several tools (a pmkit CSV's source)
        return f"Health as of {format_date(as_of or when)}, from the latest snapshot on or before it ({format_date(when)})."
    each = ", ".join(f"{tool} {format_date(day)}" for tool, day in judged)
    return f"Health as of {format_date(as_of or when)}, from each tool's latest snapshot on or before it ({each})."


def stale_snapshots(items: pl.DataFrame, as_of: dt.date | None, latest: dt.date | None = None) -> list[str]:
    """``stale_snapshot`` for each tool's snapshot (``snapshots_judged``), naming the tool where
    there are several."""
    judged = snapshots_judged(items)
    day_judged = as_of or max(day for _, day in judged)
    # A past range judged on older snapshots, with newer ones loaded, is as fresh as then.
    newer = latest if latest is not None and latest > day_judged else None
    several = _several_dates(judged)
    warnings = []
    for tool, day in judged:
        stale = stale_snapshot(day, day_judged, newer)
        if stale and several:
            stale = stale.replace("The latest roadmap snapshot", f"The latest {tool} roadmap snapshot", 1)
        if stale:
            warnings.append(stale)
    return list(dict.fromkeys(warnings))  # tools of one date: one warning


def _several_dates(judged: list[tuple[str | None, dt.date]]) -> bool:
    return len({day for _, day in judged}) > 1


def options(items: pl.DataFrame, column: str) -> list[str]:
    """The distinct non-empty values of a column, sorted (for a filter's options)."""
    if column not in items.columns:
        return []
    return sorted(v for v in items[column].unique().to_list() if v)


@dataclass(frozen=True)
class ObjectiveDetail:
    """One objective's metric history, its path to target, and what its roadmap shipped."""

    definition: MetricDefinition | None
    series: pl.DataFrame  # day, value: from four weeks before the start to the last loaded day
    rolling: pl.DataFrame | None  # day, value_7d: the objective's 7-day value (``MetricSource.seven_day``)
    target: pl.DataFrame | None  # day, target: start date to target date
    ships: pl.DataFrame  # day, item_id, title
    items: pl.DataFrame  # the objective's items (not its own row), with health and reason
    impact: pl.DataFrame  # pmkit.impact rows of its shipped items, bigger items first
    problem: str = ""
    rolling_is_card: bool = (
        True  # the bold line is the card's own value on each day (``MetricSource.seven_day_is_card``)
    )


def objective_detail(
    reader: Reader, config: Config, objective_id: str, as_of: dt.date | None = None
) -> ObjectiveDetail:
    """Everything the Objectives page draws for one objective."""
    definitions, problems = definitions_of(config)
    goals = objective_health(reader, config, as_of)
    goal = goals.filter(pl.col("objective_id") == objective_id)
    workspace = metrics.base.workspace_of(reader)
    empty_series = pl.DataFrame(schema={"day": pl.Date, "value": pl.Float64})
    items = roadmap_view.item_health(reader, config, as_of)
    linked = items.filter((pl.col("objective_id") == objective_id) & pl.col("item_type").ne_missing("objective"))
    impact = impact_results(reader, config, as_of=as_of)
    impact = (
        impact.filter(pl.col("objective_id") == objective_id)
        .with_columns(
            pl.col("item_type").replace_strict(TYPE_ORDER, default=9, return_dtype=pl.Int64).alias("type_order")
        )
        .sort("type_order", "completed_date", descending=[False, True])
        .drop("type_order")
    )
    # An issue under an epic is part of what the epic ships; one with its own metric, or of no
    # epic, is listed (its own measured result was dropped once the objective had an epic).
    impact = impact.filter(pl.col("item_id").is_in(items.filter(shipped_on_its_own(items))["item_id"].implode()))
    if not goal.height:
        return ObjectiveDetail(
            None,
            empty_series,
            None,
            None,
            ship_markers(linked, ""),
            linked,
            impact,
            f"{objective_id}: no such objective",
        )
    row = goal.row(0, named=True)
    if not row["metric"]:
        # An objective known only from the roadmap: its outcome's reason says what to add; this
        # said "metric '' is not defined ... as [metrics.]".
        return ObjectiveDetail(None, empty_series, None, None, ship_markers(linked, ""), linked, impact, "")
    from pmkit.objectives import unusable_metric

    if (unusable := unusable_metric(definitions, problems, row["metric"])) is not None:
        return ObjectiveDetail(None, empty_series, None, None, ship_markers(linked, ""), linked, impact, unusable)
    definition = definitions.get(row["metric"])
    if workspace.first_day is None or workspace.last_day is None:
        return ObjectiveDetail(
            definition,
            empty_series,
            None,
            None,
            ship_markers(linked, definition.key),
            linked,
            impact,
            "no events loaded yet",
        )
    start = row["start_date"] or workspace.first_day
    # A roadmap snapshot of today beside yesterday's events: the chart ran to today and drew
    # it as 0, its 7-day average falling (QA). It ends on the last day with events.
    last = min(as_of, workspace.last_day) if as_of else workspace.last_day
    # From 28 days before the start, or before the last day when the start is later: an
    # objective starting after the data drew its path alone, no metric line (QA).
    first = max(workspace.first_day, min(start, last) - dt.timedelta(days=28))
    series = metrics.metric_series(reader, definition.key, Period(min(first, last), last), "day", definitions)
    # The objective's own 7-day value on each day, as its card measures it (ARPU: the 7 days'
    # revenue over their users, where a mean of daily ARPU drew $4.80 beside a card of $6.96).
    from pmkit.objectives import MetricSource

    source = MetricSource(reader, definitions, problems)  # the definitions read above, not again
    through = source.final_by(definition.key, last)
    rolling = (
        source.seven_day(definition.key)
        .filter(pl.col("day").is_between(first, through))
        .select("day", pl.col("value").alias("value_7d"))
    )
    target, problem = None, ""
    # A held objective without a start is drawn from the day judged, as it is judged and as the
    # report draws it: the page drew no line under a caption naming one (QA).
    from pmkit.objectives import path_start

    start = path_start(row, last)
    if row["target"] is not None and start and row["target_date"] and row["direction"]:
        try:
            target = metrics.target_path(row["baseline"], row["target"], start, row["target_date"], row["direction"])
        except ValueError as exc:
            problem = str(exc)
    ships = ship_markers(linked, definition.key, goals)
    return ObjectiveDetail(
        definition, series, rolling, target, ships, linked, impact, problem, source.seven_day_is_card(definition.key)
    )


# --- scorecards ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scorecard:
    """One metric over a period against the previous period and, for an objective's metric,
    against the path to its target.

    Sums over days (counts, revenue) of an objective are shown per day (``per_day``), because
    objectives set daily targets ("66 reports shared a day").
    """

    key: str
    name: str
    fmt: str
    period: Period
    value: float | None
    base: float | None
    spark: tuple[float | None, ...] = ()
    per_day: bool = False
    note: str = ""  # e.g. why the period was moved back
    no_base: str = ""  # why there is no base (``why_no_base``), in a few words
    objective_id: str | None = None
    objective_title: str | None = None
    direction: str | None = None
    target: float | None = None
    target_date: dt.date | None = None
    current: float | None = None  # the objective's current value, over current_period
    current_period: Period | None = None  # the last 7 final days: not ``period`` unless chosen so
    status: str | None = None  # outcome health; None without an objective
    reason: str = ""  # the outcome in words
    delivery: str | None = None  # delivery health of the objective's items
    callouts: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.name} per day" if self.per_day else self.name

    @property
    def value_text(self) -> str:
        return format_value(self.value, self.fmt)

    @property
    def change_text(self) -> str:
        return format_change(self.value, self.base, self.fmt)

    @property
    def change(self) -> float | None:
        if self.value is None or self.base is None:
            return None
        return self.value - self.base

    @property
    def lower_is_better(self) -> bool:
        return self.direction in ("decrease", "stay_below")

    @property
    def goal_text(self) -> str:
        """ "45% by 31 Dec 2026", "above 13% by ...": the target in words."""
        if self.target is None:
            return ""
        if self.direction in ("stay_above", "stay_below"):
            side = self.direction.removeprefix("stay_")
            return f"{side} {format_target(self.target, self.fmt)} until {format_date(self.target_date)}"
        return f"{format_target(self.target, self.fmt)} by {format_date(self.target_date)}"


def format_target(value: float, fmt: str) -> str:
    """A target as people write it: 45% rather than 45.0%, and a number under 10 with the digits
    it was written with, as the objective's sentence gives it (the card's Goal read 0.0013
    beside the sentence's 0.00125; review).

    >>> format_target(0.45, "percent"), format_target(66.0, "number"), format_target(0.412, "percent")
    ('45%', '66', '41.2%')
    >>> format_target(0.00125, "number"), format_target(2.345, "number")
    ('0.00125', '2.345')
    >>> format_target(10.95, "number"), format_target(0.4525, "percent"), format_target(12500.5, "number")
    ('10.95', '45.25%', '12,500.5')
    """
    from pmkit.objectives import format_value as as_written

    # The sentence's own formatting: "Goal: 10.9" stood beside "the path to 10.95" (review).
    return as_written(value, fmt, trim=True)


def roadmap_day(facts: Facts, end: dt.date) -> dt.date:
    """The day the roadmap is judged on for a range ending ``end``: that day, unless the range
    ends on the last loaded day and the latest roadmap snapshot is later, as when today's Jira
    export sits beside events through yesterday; then that snapshot's day (the pages and the
    report said "no roadmap snapshot on or before" the range's end, of a roadmap loaded today;
    review).

    >>> facts = Facts(None, dt.date(2026, 11, 27), 1, 1, 1, None, 0, roadmap_items=5, last_snapshot=dt.date(2026, 11, 28), objectives=0)
    >>> roadmap_day(facts, dt.date(2026, 11, 27)), roadmap_day(facts, dt.date(2026, 11, 20))
    (datetime.date(2026, 11, 28), datetime.date(2026, 11, 20))
    """
    return judged_day(end, facts.last_day, facts.last_snapshot)


def judged_day(end: dt.date, last_day: dt.date | None, latest_snapshot: dt.date | None) -> dt.date:
    """``roadmap_day`` from the last loaded day and the latest snapshot (the report has no Facts)."""
    if latest_snapshot is not None and last_day is not None and end >= last_day and latest_snapshot > end:
        return latest_snapshot
    return end


def roadmap_unknown(facts: Facts, items: pl.DataFrame | None, as_of: dt.date) -> str | None:
    """What the summary says of the roadmap for a range that ends before its first snapshot
    (the roadmap loaded is of later days), or with no roadmap loaded, or None. "No roadmap item
    is late" and "Nothing shipped" were said of a range whose items were simply not known yet,
    and of a workspace with no roadmap at all (where the report says none is loaded; QA).

    >>> facts = Facts(None, None, 0, 0, 1, None, 0, roadmap_items=5, last_snapshot=dt.date(2026, 11, 27), objectives=0)
    >>> roadmap_unknown(facts, pl.DataFrame(), dt.date(2026, 11, 14))
    'No roadmap snapshot on or before 14 Nov 2026 (the latest is of 27 Nov 2026): pick a range that ends on or after one'
    """
    if not facts.roadmap_items:
        return NO_ROADMAP
    if facts.last_snapshot and (items is None or items.height == 0):
        return (
            f"No roadmap snapshot on or before {format_date(as_of)} (the latest is of "
            f"{format_date(facts.last_snapshot)}): pick a range that ends on or after one"
        )
    return None


NOTHING_EARLIER = "nothing earlier to compare with"
NO_ROADMAP = "No roadmap loaded yet. Load a Jira, Linear, Plane or pmkit roadmap export."


def why_no_base(earlier: Period, first_day: dt.date | None) -> str | None:
    """Why a period compared with gives no base, or None when every day of it is loaded.

    Days before the first loaded day are no data, not zero activity. A period wholly before it
    would show "+7,064 (from 0)"; one partly before it averaged its 20 unloaded days in as 0s
    (DAU "+594% vs 5.68" where its 11 loaded days averaged 16.0), and a sum over 11 days
    against one over 31 is no comparison either. A period whose loaded days hold a real 0 (no
    revenue on them) keeps its 0.

    >>> why_no_base(Period(dt.date(2026, 2, 1), dt.date(2026, 2, 28)), dt.date(2026, 3, 1))
    'nothing earlier to compare with'
    >>> why_no_base(Period(dt.date(2026, 2, 20), dt.date(2026, 3, 5)), dt.date(2026, 3, 1))
    'only loaded from 1 Mar 2026'
    """
    if first_day is None or earlier.end < first_day:
        return NOTHING_EARLIER
    if earlier.start < first_day:
        return f"only loaded from {format_date(first_day)}"
    return None


def _card(
    reader: Reader,
    definitions: Definitions,
    definition: MetricDefinition,
    period: Period,
    workspace: metrics.base.Workspace,
    per_day: bool = False,
) -> Scorecard:
    first_day = workspace.first_day
    measured = settled_period(definition, period, workspace.final_day, first_day, workspace.timezone)
    notes = []
    if measured != period:
        notes.append(
            f"Measured {format_date(measured.start)} – {format_date(measured.end)}: {left_out(definition, workspace)}."
        )
    compared = metrics.compare_metric(reader, definition.key, measured, definitions=definitions)
    value, base = (compared["value"][0], compared["base"][0]) if compared.height else (None, None)
    before = measured.previous()
    no_base = why_no_base(before, first_day)
    if no_base == NOTHING_EARLIER:
        notes.append(f"Nothing is loaded before {format_date(first_day)} to compare with.")
    elif no_base:
        notes.append(
            f"The previous {format_days(before.days)} ({format_date(before.start)} – {format_date(before.end)}) are "
            f"{no_base}: no change is shown."
        )
    if no_base:
        base = None
    if per_day and definition.summed():
        value = None if value is None else value / measured.days
        base = None if base is None else base / measured.days
    elif per_day:
        # Distinct users over the range are no sum of days: divided by its days, "Sharers per
        # day" read 4.50 beside "9.29 a day on average" in its own objective line (QA). The mean
        # of the daily values, as the objective's.
        value = _daily_mean(reader, definitions, definition.key, measured)
        base = None if no_base else _daily_mean(reader, definitions, definition.key, before)
    grain = "day" if measured.days <= 92 else "week"
    series = metrics.metric_series(reader, definition.key, measured, grain, definitions)
    spark = tuple(series["value"].tail(SPARK_MAX_POINTS).to_list())
    return Scorecard(
        definition.key,
        definition.name,
        definition.format,
        measured,
        value,
        base,
        spark,
        per_day,
        " ".join(notes),
        no_base=no_base or "",
    )


def _daily_mean(
    reader: Reader, definitions: Definitions, key: str, period: Period, segment: Segment | None = None
) -> float | None:
    """The mean of ``key``'s daily values over ``period`` (None without any)."""
    series = metrics.metric_series(reader, key, period, "day", definitions, segment or Segment())
    mean = series["value"].cast(pl.Float64).mean()
    return None if mean is None else float(mean)


def scorecards(reader: Reader, config: Config, period: Period, as_of: dt.date | None = None) -> list[Scorecard]:
    """One card per objective with a defined metric: the metric over ``period`` (moved back for
    funnel and retention metrics until final; sums per day) against the previous period, and its
    outcome and delivery health as of ``as_of`` (default: the period's last day;
    ``objective_health``). The summary passes the day its table beside the cards is judged on
    (``roadmap_day``): a card read "Not started" over a row of the same objective "On track"
    (QA)."""
    definitions, _ = definitions_of(config)
    workspace = metrics.base.workspace_of(reader)
    cards = []
    for goal in objective_health(reader, config, as_of or period.end).iter_rows(named=True):
        try:
            definition = definitions.get(goal["metric"] or "")
        except KeyError:
            continue
        card = _card(
            reader,
            definitions,
            definition,
            period,
            workspace,
            per_day=not is_level(definition),
        )
        cards.append(
            replace(
                card,
                objective_id=goal["objective_id"],
                objective_title=goal["title"],
                direction=goal["direction"],
                target=goal["target"],
                target_date=goal["target_date"],
                current=goal["current_value"],
                current_period=Period(goal["current_from"], goal["current_through"])
                if goal["current_from"] and goal["current_through"]
                else None,
                status=goal["outcome_health"],
                reason=goal["outcome_reason"] or "",
                delivery=goal["delivery_health"],
                callouts=tuple(goal["callouts"] or ()),
            )
        )
    return cards


def headline(reader: Reader, config: Config, period: Period, keys: Sequence[str] = HEADLINE_METRICS) -> list[Scorecard]:
    """Scorecards of the headline product metrics (average DAU, MAU on the last day, new users
    and revenue over the period, by default) against the previous period."""
    definitions, _ = definitions_of(config)
    workspace = metrics.base.workspace_of(reader)
    return [_card(reader, definitions, definitions.get(key), period, workspace) for key in keys]


@dataclass(frozen=True)
class SurveyScore:
    """NPS (or CSAT) over a period against the previous one."""

    scale: str
    value: float | None
    base: float | None
    responses: int
    base_responses: int
    trend: tuple[float | None, ...] = ()
    note: str = ""  # which days the score covers, when not the range's (``survey_score(whole_days=True)``)

    @property
    def value_text(self) -> str:
        if self.value is None:
            return format_value(None)
        return whole_points(self.value, sign=True) if self.scale == "nps" else format_percent(self.value)

    @property
    def change_text(self) -> str:
        if self.value is None or self.base is None:
            return format_value(None)
        return (
            f"{whole_points(self.value - self.base, sign=True)} pts"
            if self.scale == "nps"
            else format_change(self.value, self.base, "percent")
        )


def survey_days(
    period: Period, final_day: dt.date | None, last_day: dt.date | None, today_open: bool
) -> tuple[Period, str]:
    """The days a survey card measures for ``period``: not today while it is open (``whole_days``,
    as every card beside it), and a note saying which when they are not the range's. Only today:
    answers on days after the events' last one are whole days of answers. Not cut at the first
    event day, as the event cards are (a day of no events averaged in as 0 users): a day without
    answers changes no score, and answers can come before the events. Cut there, a range over
    both lost its first answers to the period before (QA: +33 from 3 and "+133 pts", where its
    days held -20 from 5 and nothing before)."""
    if not today_open or last_day is None or period.end < last_day:
        return period, ""
    measured = whole_days(period, final_day)
    if measured == period:
        return period, ""
    return measured, f"Measured {format_date(measured.start)} – {format_date(measured.end)}: {not_over(last_day)}."


def survey_score(
    reader: Reader, config: Config, period: Period, scale: str = "nps", *, whole_days_only: bool = False
) -> SurveyScore:
    """NPS (``scale="nps"``) or CSAT over ``period`` and the period before, with weekly values.
    ``whole_days_only``: over the period moved back to the last whole day, as the summary's other
    cards are (``whole_days``); its NPS counted this morning's answers beside cards saying "today
    is not over" (QA)."""
    compute = metrics.nps if scale == "nps" else metrics.csat
    column = "nps" if scale == "nps" else "csat"
    note = ""
    if whole_days_only:
        workspace = metrics.base.workspace_of(reader)
        period, note = survey_days(period, workspace.final_day, workspace.last_day, workspace.today_open)
    now = compute(reader, period, "period").row(0, named=True)
    before = compute(reader, period.previous(), "period").row(0, named=True)
    weekly = compute(reader, period, "week")
    return SurveyScore(
        scale, now[column], before[column], now["responses"], before["responses"], tuple(weekly[column].to_list()), note
    )


# --- the KPI explorer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exploration:
    """Everything the KPI explorer draws for one metric."""

    definition: MetricDefinition
    series: pl.DataFrame  # day, [breakdown], value
    totals: pl.DataFrame  # compare_metric: the period's value against each comparison
    compared: pl.DataFrame | None = None  # day, value, NAME_day, NAME_value per comparison
    rolling: pl.DataFrame | None = None
    target: pl.DataFrame | None = None
    anomalies: pl.DataFrame | None = None
    ships: pl.DataFrame | None = None
    notes: tuple[str, ...] = field(default=())
    measured: Period | None = None  # the days ``totals`` cover: the period moved back until final
    # The days each comparison line of the chart covers (its period, from the first loaded day).
    compared_periods: dict[str, Period] = field(default_factory=dict)
    # Week or month sums the range cuts: bucket day -> which days it holds (``partial_buckets``).
    partial: dict[dt.date, str] = field(default_factory=dict)
    # A distinct-users metric's mean of its daily values over ``measured`` (no breakdown): the
    # summary shows that per day, where the range's value counts each user once.
    daily_mean: float | None = None


def explore(
    reader: Reader,
    config: Config,
    key: str,
    period: Period,
    grain: str = "day",
    segment: Segment | None = None,
    against: Sequence[str] = ("previous_period",),
    windows: Sequence[int] = (),
    objective_id: str | None = None,
) -> Exploration:
    """One metric over ``period`` at ``grain`` with its comparisons, rolling averages (days only,
    no breakdown), the target path of ``objective_id``, anomalies and the ship dates of the
    roadmap items linked to it."""
    definitions, _ = definitions_of(config)
    try:
        definition = definitions.get(key)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    segment = segment or Segment()
    notes: list[str] = []
    series = metrics.metric_series(reader, key, period, grain, definitions, segment)
    workspace = metrics.base.workspace_of(reader)
    first_day = workspace.first_day
    # The totals are of final days only, like the summary's card of the same metric (which
    # moves the period back): a funnel's value over the period's final days against a whole
    # previous period compared 21 days with 28, under a label naming all 28.
    measured = settled_period(definition, period, workspace.final_day, first_day, workspace.timezone)
    totals = metrics.compare_metric(reader, key, measured, list(against), definitions, segment)
    no_base = pl.Series(
        "no_base", [why_no_base(Period(*days), first_day) for days in totals.select("start", "end").rows()], pl.String
    )
    totals = totals.with_columns(
        pl.when(no_base.is_not_null()).then(None).otherwise(pl.col(column)).alias(column)
        for column in ("base", "change", "change_pct")
    ).with_columns(no_base)
    breakdown = segment.breakdown
    compared = None
    compared_periods: dict[str, Period] = {}
    if against and not breakdown:
        compared = _aligned_comparisons(reader, key, period, grain, against, definitions, segment, series, first_day)
        compared = blank_before_data(compared, against, grain, first_day, period)
        cut = [name for name in against if compared.get_column(f"{name}_cut", default=pl.Series([False])).any()]
        if cut and not is_level(definition):
            labels = " and ".join(COMPARISON_LABELS.get(name, name) for name in cut)
            notes.append(
                f"{labels}: its {grain} of {format_date(first_day)}, the first loaded day, holds only the days "
                f"from it: its {total_word(definition)} is partial."
            )
        for name in against:
            earlier = metrics.comparison_period(period, name)
            if first_day is not None and earlier.end >= first_day:
                compared_periods[name] = Period(max(earlier.start, first_day), earlier.end)
    rolling = None

    def loaded_from(start: dt.date) -> Period:
        # The days before the first loaded one are no zeros: averaged or taken as a weekday's
        # history they drew averages of 0.14 and flagged the first days as anomalies.
        return Period(max(start, first_day) if first_day is not None else start, period.end)

    if windows and grain == "day" and not breakdown:
        history = metrics.metric_series(
            reader, key, loaded_from(period.start - dt.timedelta(days=max(windows) - 1)), "day", definitions, segment
        )
        rolling = metrics.rolling_average(history, list(windows)).filter(pl.col("day") >= period.start)
    elif windows:
        notes.append("Rolling averages are drawn on daily values without a breakdown.")
    found_anomalies = None
    if grain == "day" and not breakdown:
        history = metrics.metric_series(
            reader, key, loaded_from(period.start - dt.timedelta(days=7 * 8)), "day", definitions, segment
        )
        # Not today while it lasts: its first hours were flagged as a fall.
        found_anomalies = metrics.anomalies(history).filter(
            pl.col("day").is_between(period.start, workspace.final_day or period.end)
        )
    target = None
    goals = objectives(reader, config)
    if objective_id:
        goal = goals.filter(pl.col("objective_id") == objective_id)
        if goal.height:
            row = goal.row(0, named=True)
            from pmkit.objectives import path_start

            start, baseline, direction = path_start(row, period.end), row["baseline"], row["direction"] or "increase"
            if baseline is None and start is not None and direction in ("increase", "decrease"):
                # Taken from the data as the objective's health takes it: the Objectives page drew
                # the path from 12.0 and the explorer said it needed a baseline (QA).
                from pmkit.objectives import MetricSource

                baseline, _ = MetricSource(reader, definitions).recent_value(key, start)
            if row["metric"] != key:
                notes.append(f"The target path of {objective_id} is for {row['metric']}, not {key}.")
            elif grain != "day" and not is_level(definition):
                notes.append("The target path is a daily value: pick the day granularity to compare a sum with it.")
            elif row["target"] is not None and start and row["target_date"]:
                try:
                    path = metrics.target_path(
                        baseline,
                        row["target"],
                        start,
                        row["target_date"],
                        direction,
                        period.end,
                    )
                    target = path.filter(pl.col("day").is_between(period.start, period.end))
                except ValueError as exc:
                    notes.append(str(exc))
    items = roadmap_view.item_health(reader, config, None)
    ships = ship_markers(items, key, goals, period)
    partial = {} if is_level(definition) else partial_buckets(period, grain)
    if partial:
        one = len(partial) == 1
        notes.append(
            f"The {' and the '.join(partial.values())} {'holds' if one else 'hold'} only the range's days: "
            f"{'its' if one else 'their'} {total_word(definition, not one)} {'is' if one else 'are'} partial "
            "(ringed), not a drop or a rise."
        )
    if series.height < TOO_FEW_DAYS:
        notes.append(
            "Too few points for a trend: widen the date range"
            + (" or pick a finer granularity." if grain != "day" else ".")
        )
    settle = settling_lag(definition, workspace.final_day, workspace.timezone)
    if settle:
        # Today, while it lasts, is one more (the series settle against the last whole day).
        notes.append(
            f"The last {settle + workspace.today_open} days stay blank until they are final (a user still has time to "
            "convert or return)."
        )
    if measured != period and not breakdown:  # a breakdown shows no totals
        notes.append(
            f"The totals are of {format_date(measured.start)} – {format_date(measured.end)}, the same number of days "
            f"ending on the last final one, as on the executive summary: {left_out(definition, workspace)}."
        )
    # The series of a day grain over the same days is the memo's (metric_series remembers it).
    unique = definition.type == "unique_users" and not breakdown
    daily_mean = _daily_mean(reader, definitions, key, measured, segment) if unique else None
    return Exploration(
        definition,
        series,
        totals,
        compared,
        rolling,
        target,
        found_anomalies,
        ships,
        tuple(notes),
        measured,
        compared_periods,
        {day: f"{words[:1].upper()}{words[1:]}: only the range's days" for day, words in partial.items()},
        daily_mean,
    )


def _and_more(count: int, shown: int) -> str:
    """The end of a list cut at ``shown`` names: a count must match what it names ("4 are off
    track: A, B, C" left the fourth out).

    >>> _and_more(4, 3), _and_more(3, 3)
    (' and 1 more', '')
    """
    return f" and {count - shown:,} more" if count > shown else ""


def previous_words(card: Scorecard) -> str:
    """Why a card without a base has none, for a sentence (``narrative``).

    >>> card = Scorecard("dau", "DAU", "number", Period.last(31, dt.date(2026, 7, 10)), 39.4, None)
    >>> previous_words(replace(card, no_base="only loaded from 30 May 2026")), previous_words(card)
    ('the previous 31 days are only loaded from 30 May 2026', 'nothing earlier to compare with')
    """
    if card.no_base and card.no_base != NOTHING_EARLIER:
        return f"the previous {format_days(card.period.days)} are {card.no_base}"
    return NOTHING_EARLIER


def partial_buckets(period: Period, grain: str) -> dict[dt.date, str]:
    """Which buckets at the range's ends a week or month grain cuts (Monday weeks, calendar
    months), by the bucket's day as the series has it, in words: 28 days to 27 Nov by month are
    31 Oct alone and 1-27 Nov, drawn as a 20-fold rise in revenue.

    >>> partial_buckets(Period(dt.date(2026, 10, 31), dt.date(2026, 11, 27)), "month")
    {datetime.date(2026, 10, 1): 'first month (from 31 Oct 2026)', datetime.date(2026, 11, 1): 'last month (to 27 Nov 2026)'}
    >>> partial_buckets(Period(dt.date(2026, 11, 2), dt.date(2026, 11, 15)), "week")
    {}
    >>> partial_buckets(Period(dt.date(2026, 11, 3), dt.date(2026, 11, 10)), "month")
    {datetime.date(2026, 11, 1): 'only month (3 Nov 2026 – 10 Nov 2026)'}
    """
    if grain == "week":
        starts, ends = period.start.weekday() == 0, period.end.weekday() == 6
        first, last = (day - dt.timedelta(days=day.weekday()) for day in (period.start, period.end))
    elif grain == "month":
        starts = period.start.day == 1
        ends = (period.end + dt.timedelta(days=1)).day == 1
        first, last = (day.replace(day=1) for day in (period.start, period.end))
    else:
        return {}
    cut = {}
    if not starts:
        cut[first] = f"first {grain} (from {format_date(period.start)})"
    if not ends:
        cut[last] = (
            f"only {grain} ({format_date(period.start)} – {format_date(period.end)})"  # cut at both ends
            if last in cut
            else f"last {grain} (to {format_date(period.end)})"
        )
    return cut


def versus(row: dict[str, Any], fmt: str) -> tuple[str | None, str]:
    """A KPI explorer card's delta and the value it is against, for one row of
    ``Exploration.totals``: no delta against a period with nothing loaded.

    >>> versus({"value": 120.0, "base": 100.0}, "number"), versus({"value": 7064.0, "base": None}, "number")
    (('+20.0%', '100'), (None, 'nothing earlier to compare with'))
    """
    if row["base"] is None:
        return None, row.get("no_base") or NOTHING_EARLIER
    delta = format_change(row["value"], row["base"], fmt) if row["value"] is not None else None
    return delta, format_value(row["base"], fmt)


def blank_before_data(
    compared: pl.DataFrame, against: Sequence[str], grain: str, first_day: dt.date | None, period: Period
) -> pl.DataFrame:
    """Each comparison's buckets that end before the first loaded day made blank: their 0 is
    no data, and a dashed line along 0 under the current one reads as growth from nothing (the
    cards' rule, ``why_no_base``). A bucket with some loaded days keeps its value.

    >>> frame = pl.DataFrame({"day": [dt.date(2026, 3, 2)], "value": [5.0],
    ...     "previous_period_day": [dt.date(2026, 2, 23)], "previous_period_value": [0.0]})
    >>> weeks = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 15))  # against 16 Feb - 1 Mar
    >>> def drawn(first_day):
    ...     return blank_before_data(frame, ["previous_period"], "week", first_day, weeks)["previous_period_value"]
    >>> drawn(dt.date(2026, 3, 1)).to_list(), drawn(dt.date(2026, 3, 2)).to_list()
    ([0.0], [None])
    """
    for name in against:
        start = pl.col(f"{name}_day")
        # A bucket's days stop at the end of its period: May's bucket of a period ending 29 May
        # holds 1-29 May, nothing of data that starts on the 30th.
        end = metrics.comparison_period(period, name).end
        if f"{name}_end" in compared.columns:  # the days each bucket was compared with, exactly
            last = pl.col(f"{name}_end")
        else:
            last = pl.min_horizontal(
                {
                    "day": start,
                    "week": start + pl.duration(days=6),
                    "month": start.dt.month_end(),
                    "period": pl.lit(end),
                }[grain],
                pl.lit(end),
            )
        gone = pl.lit(True) if first_day is None else last < first_day
        columns = [c for c in (f"{name}_value", f"{name}_change", f"{name}_change_pct") if c in compared.columns]
        compared = compared.with_columns(pl.when(gone).then(None).otherwise(pl.col(c)).alias(c) for c in columns)
    return compared


def _aligned_comparisons(
    reader: Reader,
    key: str,
    period: Period,
    grain: str,
    against: Sequence[str],
    definitions: Definitions,
    segment: Segment,
    series: pl.DataFrame,
    first_day: dt.date | None = None,
) -> pl.DataFrame:
    """Each bucket beside the same days shifted by each comparison (for days, exactly
    ``metrics.compare``: the day the comparison's shift lands on). A week or month bucket is
    compared with its own days moved back, valued by the metric's rule for a range: the earlier
    period's own weeks, matched by position, set a whole week against two days of a cut one
    (+250% on a constant series). A bucket partly before ``first_day`` is valued over its
    loaded days (``NAME_cut``): a flat DAU of 1 read 0.71 with 2 of its 7 days averaged in as
    0s (QA)."""
    if grain == "day":
        earliest = min(metrics.comparison_period(period, name).start for name in against)
        history = metrics.metric_series(reader, key, Period(earliest, period.end), "day", definitions, segment)
        return metrics.compare(history, period, list(against))
    frame = series.select("day", "value")
    # Each bucket's own days: from its first day (or the range's start) to its last (or the end).
    end = {"week": pl.col("day") + pl.duration(days=6), "month": pl.col("day").dt.month_end()}.get(grain)
    bounds = frame.select(
        pl.max_horizontal("day", pl.lit(period.start)).alias("start"),
        pl.min_horizontal(end, pl.lit(period.end)).alias("end") if end is not None else pl.lit(period.end).alias("end"),
    )
    spans = [Period(start, stop) for start, stop in bounds.iter_rows()]
    for name in against:
        earlier = metrics.comparison_period(period, name)
        shift = period.start - earlier.start
        moved = [Period(span.start - shift, span.end - shift) for span in spans]
        cut = [first_day is not None and days.start < first_day <= days.end for days in moved]
        moved = [Period(first_day, days.end) if partly else days for days, partly in zip(moved, cut, strict=True)]
        if grain == "week" and shift.days % 7 == 0 and not any(cut):
            # Whole weeks back: the earlier period's own weeks are these days moved back, cut alike,
            # and one query gives them all (a funnel's weeks one by one took 2-3 times as long).
            weeks = metrics.metric_series(reader, key, earlier, grain, definitions, segment)["value"]
            values = weeks.to_list() if weeks.len() == len(moved) else [None] * len(moved)
        else:
            values = []
            for days in moved:
                value = metrics.metric_series(reader, key, days, "period", definitions, segment)["value"]
                values.append(value.item() if value.len() == 1 else None)
        frame = frame.with_columns(
            pl.Series(f"{name}_day", [days.start for days in moved], dtype=pl.Date),
            pl.Series(f"{name}_end", [days.end for days in moved], dtype=pl.Date),
            pl.Series(f"{name}_value", values, dtype=pl.Float64),
            pl.Series(f"{name}_cut", cut, dtype=pl.Boolean),
        )
    return frame


def whole_first_week(period: Period) -> tuple[str, str] | None:
    """For a range starting after a Monday: the first week's Monday and its days before the
    range, in words, which the weekly charts hold too (their first week is a whole Monday week:
    the lifecycle counted a new user whose only day was the Monday before the range; display
    QA); None for a range starting on a Monday.

    >>> whole_first_week(Period(dt.date(2026, 11, 4), dt.date(2026, 11, 24)))
    ('2 Nov 2026', '2 Nov 2026 – 3 Nov 2026')
    >>> whole_first_week(Period(dt.date(2026, 11, 2), dt.date(2026, 11, 24))) is None
    True
    """
    monday = period.start - dt.timedelta(days=period.start.weekday())
    if monday == period.start:
        return None
    before = period.start - dt.timedelta(days=1)
    return format_date(monday), format_date(
        monday
    ) if monday == before else f"{format_date(monday)} – {format_date(before)}"


def whole_last_week(period: Period, last_day: dt.date | None) -> tuple[str, str] | None:
    """For a range ending before a Sunday, with days loaded after it: the last week's Monday and
    its loaded days after the range, in words, which the weekly charts hold too (a user first
    seen on the Saturday after the range was in its last cohort, and the captions named only
    the first week's extra days; QA); None otherwise.

    >>> whole_last_week(Period(dt.date(2026, 11, 4), dt.date(2026, 11, 18)), dt.date(2026, 11, 28))
    ('16 Nov 2026', '19 Nov 2026 – 22 Nov 2026')
    >>> whole_last_week(Period(dt.date(2026, 11, 4), dt.date(2026, 11, 18)), dt.date(2026, 11, 19))
    ('16 Nov 2026', '19 Nov 2026')
    >>> whole_last_week(Period(dt.date(2026, 11, 4), dt.date(2026, 11, 18)), dt.date(2026, 11, 18)) is None
    True
    """
    sunday = period.end + dt.timedelta(days=6 - period.end.weekday())
    after = period.end + dt.timedelta(days=1)
    if last_day is None or sunday == period.end or last_day < after:
        return None
    end = min(sunday, last_day)
    monday = sunday - dt.timedelta(days=6)
    return format_date(monday), format_date(after) if end == after else f"{format_date(after)} – {format_date(end)}"


def values_table(series: pl.DataFrame, grain: str, period: Period) -> pl.DataFrame:
    """A metric's values as the explorer's table and CSV give them: by day as they are; a week
    or month under its name with the days of it the value covers, so a bucket the range cuts is
    not read as a whole one (the CSV's "day 2026-11-02: 1 event" held 4-8 Nov only; display QA).

    >>> frame = pl.DataFrame({"day": [dt.date(2026, 11, 2), dt.date(2026, 11, 9)], "value": [1.0, 4.0]})
    >>> values_table(frame, "week", Period(dt.date(2026, 11, 4), dt.date(2026, 11, 12))).rows()
    [(datetime.date(2026, 11, 2), datetime.date(2026, 11, 4), datetime.date(2026, 11, 8), 1.0), (datetime.date(2026, 11, 9), datetime.date(2026, 11, 9), datetime.date(2026, 11, 12), 4.0)]
    """
    end = {"week": pl.col("day") + pl.duration(days=6), "month": pl.col("day").dt.month_end()}.get(grain)
    if end is None or "day" not in series.columns:
        return series
    rest = [c for c in series.columns if c != "day"]
    return series.select(
        pl.col("day").alias(grain),
        pl.max_horizontal("day", pl.lit(period.start)).alias("from"),
        pl.min_horizontal(end, pl.lit(period.end)).alias("to"),
        *rest,
    )


def cohort_count(weekly: pl.DataFrame | None) -> int:
    """How many weekly cohorts with at least one user ``metrics.weekly_retention`` returned."""
    if weekly is None or not weekly.height:
        return 0
    return weekly.filter(pl.col("size") > 0).select("cohort_week").n_unique()


FUNNEL_HINTS = ("signup", "sign_up", "create_report", "activate", "share_report", "purchase", "upgrade")


def default_funnel_steps(events: Sequence[str]) -> list[str]:
    """A starting funnel for the loaded events: the known product steps that exist, in their
    usual order, else the two most frequent events.

    >>> default_funnel_steps(["login", "signup", "create_report"])
    ['signup', 'create_report']
    """
    known = [e for e in FUNNEL_HINTS if e in events]
    if len(known) >= 2:
        return known[:3]
    return list(events[:2])


@dataclass(frozen=True)
class Conversion:
    started: int
    converted: int

    @property
    def rate(self) -> float | None:
        return self.converted / self.started if self.started else None


def funnel_conversion(funnel: pl.DataFrame | None) -> Conversion:
    """Users at step 1 and at the last step of ``metrics.funnel``, summed over its breakdown
    groups: pass a funnel without one for the segment's totals (a user can start in two groups)."""
    if funnel is None or not funnel.height:
        return Conversion(0, 0)
    last = int(funnel["step"].max())
    return Conversion(
        int(funnel.filter(pl.col("step") == 1)["users"].sum()),
        int(funnel.filter(pl.col("step") == last)["users"].sum()),
    )


def previous_alongside(
    current: pl.DataFrame | None, previous: pl.DataFrame | None, column: str, name: str = "previous_period"
) -> pl.DataFrame | None:
    """The previous period's ``column`` beside the current one, day by day in order (the shape
    of ``metrics.compare``: day, value, NAME_day, NAME_value)."""
    if current is None or previous is None or not current.height:
        return None
    now = current.sort("day").select("day", pl.col(column).cast(pl.Float64).alias("value")).with_row_index("position")
    then = previous.sort("day").select(
        pl.col("day").alias(f"{name}_day"), pl.col(column).cast(pl.Float64).alias(f"{name}_value")
    )
    return now.join(then.with_row_index("position"), on="position", how="left").drop("position")


DEFAULT_FEATURE_SKIP = ("login", "signup", "sign_up", "view_dashboard", "pageview", "$pageview", "session_start")


def default_features(events: Sequence[str], count: int = 4) -> list[str]:
    """The most frequent events that are features rather than visits (no login, sign-up, page view).

    >>> default_features(["login", "create_report", "share_report"], 2)
    ['create_report', 'share_report']
    """
    return [e for e in events if e not in DEFAULT_FEATURE_SKIP][:count]


# --- voice of customer -----------------------------------------------------------------------------------


def answers_zone(reader: Reader) -> str:
    """The zone survey answers are put in days by: the store's, as NPS and CSAT count them
    (``metrics.feedback``). pmkit.toml's zone, changed with a rebuild pending, put the cards and
    the answers' table and dates in different days (QA)."""
    return metrics.base.workspace_of(reader).timezone


def feedback_answers(reader: Reader, config: Config, period: Period) -> pl.DataFrame:
    """Survey answers in the period: day, submitted_at, scale, score, comment, source, and one
    column per attribute of the export (plan, country, ...), newest first."""
    frame = reader.query("dashboard_feedback", tz=answers_zone(reader), start=period.start, end=period.end)
    attributes = [json.loads(a) if a else {} for a in frame["attributes"]]
    names = sorted({k for a in attributes for k in a if k not in frame.columns})
    extra = [
        pl.Series(name, [None if a.get(name) is None else str(a.get(name)) for a in attributes], dtype=pl.String)
        for name in names
    ]
    return frame.drop("attributes").with_columns(extra)


# The columns of ``feedback_answers`` an answer has of its own, not attributes shared with events.
ANSWER_FIELDS = frozenset({"day", "submitted_at", "scale", "score", "comment", "source"})


def filter_answers(answers: pl.DataFrame, segment: Segment | None) -> tuple[pl.DataFrame, list[str]]:
    """Answers matching the segment's filters on the attributes they share with the events (a
    survey export with a plan column follows a plan filter), and the dimensions that could not
    be applied because the answers lack them."""
    if segment is None:
        return answers, []
    skipped = []
    for dimension, values in segment.filters_by_dimension().items():
        # An answer's own fields are not attributes: an events dimension named source (a UTM
        # source) was matched against the survey tool's name, and every answer left out (QA).
        if dimension in answers.columns and dimension not in ANSWER_FIELDS:
            answers = answers.filter(pl.col(dimension).is_in(list(values)))
        else:
            skipped.append(dimension)
    return answers, skipped


def feedback_segments(answers: pl.DataFrame) -> list[str]:
    """The attribute columns of ``feedback_answers`` that split answers into groups, and the
    survey tool (``source``)."""
    return [c for c in answers.columns if c not in ANSWER_FIELDS] + (["source"] if "source" in answers.columns else [])


def score_distribution(answers: pl.DataFrame, scale: str = "nps") -> pl.DataFrame:
    """Answers per score of one scale (score 0-10 or 1-5, answers), every score listed."""
    low, high = (0, 10) if scale == "nps" else (1, 5)
    counts = (
        answers.filter(pl.col("scale") == scale)
        .group_by(pl.col("score").cast(pl.Int64))
        .agg(pl.len().cast(pl.Int64).alias("answers"))
    )
    scores = pl.DataFrame({"score": list(range(low, high + 1))}, schema={"score": pl.Int64})
    return scores.join(counts, on="score", how="left").with_columns(pl.col("answers").fill_null(0))


def segment_scores(answers: pl.DataFrame, segment: str, scale: str = "nps") -> pl.DataFrame:
    """The score of each value of ``segment``: segment value, responses, and nps (promoters 9-10
    minus detractors 0-6, in points) or csat (share of 4-5), as ``metrics.nps`` / ``csat``
    define them; answers outside the scale's range are ignored as they are there."""
    if segment not in answers.columns:
        return pl.DataFrame(schema={segment: pl.String, "responses": pl.Int64, scale: pl.Float64})
    low, high = (0, 10) if scale == "nps" else (1, 5)
    valid = answers.filter((pl.col("scale") == scale) & pl.col("score").is_between(low, high))
    if scale == "nps":
        score = (
            ((pl.col("score") >= 9).cast(pl.Int64).sum() - (pl.col("score") <= 6).cast(pl.Int64).sum()) / pl.len() * 100
        )
    else:
        score = (pl.col("score") >= 4).cast(pl.Int64).sum() / pl.len()
    return (
        valid.with_columns(pl.col("score").cast(pl.Float64))
        .group_by(segment)
        .agg(pl.len().cast(pl.Int64).alias("responses"), score.cast(pl.Float64).alias(scale))
        .sort("responses", descending=True)
    )


def answers_survey_score(now: pl.DataFrame, before: pl.DataFrame, scale: str = "nps", note: str = "") -> SurveyScore:
    """``survey_score`` from answers already filtered to a segment (``filter_answers``): the
    card follows the segment the rest of the page shows, by the same rule as ``segment_scores``.
    ``note``: which days they are, when not the range's (``survey_days``).

    >>> def answers(*scores):
    ...     return pl.DataFrame({"day": [dt.date(2026, 3, 2)] * len(scores), "scale": ["nps"] * len(scores),
    ...                          "score": list(scores)})
    >>> score = answers_survey_score(answers(10, 9, 3), answers(7), "nps")
    >>> score.value, score.base, score.responses, score.base_responses
    (33.33333333333333, 0.0, 3, 1)
    """

    def scored(frame: pl.DataFrame, by: str) -> pl.DataFrame:
        return segment_scores(frame, by, scale).sort(by)

    everything = scored(now.with_columns(pl.lit(1).alias("whole")), "whole")
    earlier = scored(before.with_columns(pl.lit(1).alias("whole")), "whole")
    weekly = scored(now.with_columns(pl.col("day").dt.truncate("1w").alias("week")), "week")

    def first(frame: pl.DataFrame, column: str) -> Any:
        return frame[column][0] if frame.height else None

    return SurveyScore(
        scale,
        first(everything, scale),
        first(earlier, scale),
        int(first(everything, "responses") or 0),
        int(first(earlier, "responses") or 0),
        tuple(weekly[scale].to_list()),
        note,
    )


def search_comments(answers: pl.DataFrame, query: str = "", scale: str | None = None) -> pl.DataFrame:
    """Answers with a comment containing ``query`` (plain text, any case; not a pattern). Scores
    are whole numbers (the ingest refuses others): a download wrote 8 as 8.0 (QA)."""
    frame = answers.filter(pl.col("comment").is_not_null() & (pl.col("comment").str.strip_chars() != ""))
    if "score" in frame.columns and frame.schema["score"].is_float():
        frame = frame.with_columns(pl.col("score").round(0).cast(pl.Int64))
    if scale:
        frame = frame.filter(pl.col("scale") == scale)
    if query.strip():
        frame = frame.filter(pl.col("comment").str.to_lowercase().str.contains(query.strip().lower(), literal=True))
    return frame


# --- the narrative --------------------------------------------------------------------------------------------


def _judged_end(card: Scorecard) -> dt.date:
    """The last day a card's objective is judged on: its current value's, else its period's."""
    return card.current_period.end if card.current_period is not None else card.period.end


STATUS_WORDS = {
    "achieved": "past its target of",
    "on_track": "on track for",
    "at_risk": "slightly behind the path to",
    "off_track": "behind the path to",
}


def narrative(
    cards: Sequence[Scorecard],
    items: pl.DataFrame | None,
    survey: SurveyScore | None = None,
    limit: int = 3,
    period: Period | None = None,
) -> list[str]:
    """A few plain sentences from the numbers, e.g. "Activation rate rose to 44.0% (+3.2 pts vs
    the previous 28 days), on track for 45% by 31 Dec 2026." and "1 of 8 open roadmap items is
    late: ...". A card measured over other days than ``period`` (the page's range; a funnel's
    moved back until final) names them.

    >>> card = Scorecard("dau", "DAU", "number", Period.last(28, dt.date(2026, 3, 28)), 120.0, 100.0)
    >>> narrative([card], None)
    ['DAU rose to 120 (+20.0% vs the previous 28 days).']
    >>> narrative([card], None, period=Period.last(28, dt.date(2026, 4, 4)))
    ['DAU rose to 120 over 1 Mar 2026 – 28 Mar 2026, its last final days (+20.0% vs the previous 28 days).']
    """
    sentences = []
    for card in cards:
        if card.value is None:
            sentences.append(
                f"{card.label}: no value for {format_date(card.period.start)} – {format_date(card.period.end)} yet."
            )
            continue
        value = card.value_text
        if period is not None and card.period != period:
            value += f" over {format_date(card.period.start)} – {format_date(card.period.end)}, its last final days"
        if card.base is None:
            sentence = f"{card.label} is {value} ({previous_words(card)})"
        elif card.change is None or abs(card.change) < 1e-12:
            sentence = f"{card.label} is {value}, as in the previous {format_days(card.period.days)}"
        else:
            verb = "rose to" if card.change > 0 else "fell to"
            sentence = (
                f"{card.label} {verb} {value} ({card.change_text} vs the previous {format_days(card.period.days)})"
            )
        if card.status in STATUS_WORDS and card.target is not None:
            if card.direction in ("stay_above", "stay_below"):
                holding = card.status in ("on_track", "achieved")
                status = f"{'holding' if holding else 'off its goal to stay'} {card.goal_text}"
            elif card.status != "achieved" and card.target_date is not None and _judged_end(card) > card.target_date:
                # Its date has passed: "on track for 16.2 by 31 Oct 2026" was said on 1 Nov (QA).
                status = (
                    f"short of its target of {format_target(card.target, card.fmt)}, "
                    f"due {format_date(card.target_date)}"
                )
            else:
                status = f"{STATUS_WORDS[card.status]} {card.goal_text}"
            judged = _judged_apart(card)
            sentence += f"; {judged}, {status}" if judged else f", {status}"
        sentences.append(sentence + ".")
    if items is not None and items.height:
        # The items Top risks lists (issues too): "None of the 1 open roadmap items is late" sat
        # above a late issue in that table.
        work = items.filter(pl.col("item_type").ne_missing("objective") & pl.col("health").ne_missing("cancelled"))
        late = work.filter(pl.col("health") == "late")
        off = work.filter(pl.col("health") == "off_track")
        open_items = work.filter(pl.col("health") != "done").height
        if late.height:
            named = "; ".join(f"{t} ({r})" for t, r in late.select("title", "reason").head(limit).iter_rows())
            verb = "is" if late.height == 1 else "are"
            sentences.append(
                f"{late.height} of {open_items} open roadmap items {verb} late: {named}{_and_more(late.height, limit)}."
            )
        if off.height:
            named = ", ".join(off["title"].head(limit).to_list())
            more = "more " if late.height else ""
            sentences.append(
                f"{off.height} {more}{'is' if off.height == 1 else 'are'} off track: {named}{_and_more(off.height, limit)}."
            )
        if not late.height and not off.height and open_items:
            sentences.append(f"None of the {open_items} open roadmap items is late or off track.")
    if survey is not None and survey.value is not None:
        name = "NPS" if survey.scale == "nps" else "CSAT"
        change = (
            f" ({survey.change_text} vs the period before, from {survey.base_responses:,})"
            if survey.base is not None
            else ""
        )
        answers = f"{survey.responses:,} answer{'s' if survey.responses != 1 else ''}"
        sentences.append(f"{name} is {survey.value_text} from {answers}{change}.")
    return sentences


def _judged_apart(card: Scorecard) -> str:
    """ "over the 7 days to 27 Nov 2026 it was 104.3", when the objective's status was judged on
    other days (``card.current_period``) than the value shown: else "past its target" would sit
    beside a number below the target. Empty when it was judged on the value shown."""
    if card.current is None or card.current_period is None:
        return ""
    current = format_value(card.current, card.fmt)
    if card.current_period == card.period and current == card.value_text:
        return ""
    return (
        f"over the {format_days(card.current_period.days)} to {format_date(card.current_period.end)} it was {current}"
    )


def _engine(function: Callable[..., Any]) -> Callable[..., Any]:
    """An engine function ``f(reader, **kwargs)`` as a page model ``f(reader, config, **kwargs)``."""

    def model(reader: Reader, config: Config, **kwargs: Any) -> Any:
        return function(reader, **kwargs)

    model.__name__ = function.__name__
    return model


def metric_series(
    reader: Reader, config: Config, key: str, period: Period, grain: str = "day", segment: Segment | None = None
) -> pl.DataFrame:
    """``metrics.metric_series`` with the workspace's definitions."""
    definitions, _ = definitions_of(config)
    return metrics.metric_series(reader, key, period, grain, definitions, segment)


def funnel(reader: Reader, config: Config, **kwargs: Any) -> pl.DataFrame:
    """``metrics.funnel``; a saved funnel (a pmkit.toml funnel metric) reads its kept rows."""
    return metrics.funnel(reader, **kwargs, definitions=definitions_of(config)[0])


def funnels(reader: Reader, config: Config, **kwargs: Any) -> tuple[pl.DataFrame, ...]:
    """``metrics.funnels``; a saved funnel (a pmkit.toml funnel metric) reads its kept rows."""
    return metrics.funnels(reader, **kwargs, definitions=definitions_of(config)[0])


def default_funnel(config: Config, events: Sequence[str]) -> tuple[list[str], int]:
    """The steps and window the Funnels page opens on: the first saved funnel (a pmkit.toml
    funnel metric of whole days) whose events are loaded, else ``default_funnel_steps`` in 7 days."""
    for definition in definitions_of(config)[0].custom.values():
        whole_days = float(definition.window_days).is_integer() if definition.type == "funnel" else False
        if whole_days and all(step in events for step in definition.steps):
            return list(definition.steps), int(definition.window_days)
    return default_funnel_steps(events), 7


def saved_funnel_name(config: Config, steps: Sequence[str], window_days: float) -> str | None:
    """The name of the pmkit.toml funnel metric with these steps and window, if any."""
    saved = metrics.saved_funnel(definitions_of(config)[0], steps, window_days)
    return saved.name if saved else None


ENGINE_FUNCTIONS = (
    metrics.active_users,
    metrics.day_retention,
    metrics.engagement_matrix,
    metrics.feature_adoption,
    metrics.features_adoption,
    metrics.lifecycle,
    metrics.nps,
    metrics.csat,
    metrics.weekly_retention,
)

PAGE_MODELS: dict[str, Callable[..., Any]] = {
    fn.__name__: fn
    for fn in (
        dimension_values_present,
        *(_engine(f) for f in ENGINE_FUNCTIONS),
        metric_series,
        funnel,
        funnels,
        event_names,
        facts,
        coverage,
        loaded_files,
        dimension_values,
        objectives,
        objective_detail,
        items_health,
        roadmap_as_of,
        item_history,
        objective_health,
        impact_results,
        scorecards,
        headline,
        survey_score,
        explore,
        feedback_answers,
    )
}


def settings_key(config: Config) -> str:
    """Everything in the settings that changes a result (metric definitions, thresholds, ...),
    and today in the workspace's zone: whether the last day is whole (``Workspace.final_day``)
    and which days are shown depend on it, and a server left running past midnight kept
    leaving out "today", by then yesterday, until the next publish (review)."""
    today = workspace_today(config.timezone).isoformat()
    return json.dumps([config.values, config.metrics, config.objectives, today], sort_keys=True, default=str)


class PageCache:
    """``PAGE_MODELS`` results kept per (workspace, store version, settings, name, arguments).

    A new store version or a settings change is a new key, so nothing is ever stale; the least
    recently used entries go beyond ``max_entries``. Callers that ask for the same result at once
    (ten viewers opening the summary after an ingest) compute it once: the others wait for the
    first. Lists and dicts are handed out as copies; frames and frozen dataclasses as they are
    (nothing in pmkit changes them in place).
    """

    # The readers of one store version and settings share a memo, so the series one result
    # computed are not computed again for the next (the summary's cold results at 10M events:
    # 1.3-1.6 s with a memo per reader, 1.0-1.2 s shared). Kept for the newest MEMO_VERSIONS
    # (version, settings), up to MEMO_BYTES of frames each.
    MEMO_VERSIONS = 2
    MEMO_BYTES = 64 << 20
    # Readers of the current version are reused, one computation at a time each: opening one
    # (a DuckDB instance, the version file attached, the events view) cost about 25 ms, and its
    # first reads of the file more (the summary's cold results at 10M: 0.83-0.96 s with a reader
    # per result, 0.58-0.62 s reusing them). Up to POOL_SIZE wait idle per workspace; more
    # computations at once open their own, closed after use.
    POOL_SIZE = 2

    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
        self._results: OrderedDict[Any, Any] = OrderedDict()
        self._locks: dict[Any, threading.Lock] = {}
        self._memos: OrderedDict[Any, Memo] = OrderedDict()
        self._idle: dict[str, list[Reader]] = {}
        self._guard = threading.Lock()

    @contextlib.contextmanager
    def _reading(self, config: Config, current: int, settings: str) -> Iterator[Reader]:
        """A reader of the ``current`` version for one computation: an idle one, else a new one;
        with the memo shared by that version's readers under these ``settings`` (chosen by the
        version the reader has open: an ingest may publish one in between). Back to the idle ones
        after, unless the computation failed (its connection is then closed, not reused)."""
        store = Store(config.store_dir)
        workspace = str(config.data_dir)
        with self._guard:
            idle = self._idle.setdefault(workspace, [])
            # Readers of older versions are let go once one of a newer version is asked for; a
            # page run still reading an older version (ui.one_version) leaves the newer ones be.
            stale = [r for r in idle if r.version < current]
            idle[:] = [r for r in idle if r.version >= current]
            reader = next((r for r in idle if r.version == current), None)
            if reader is not None:
                idle.remove(reader)
        for old in stale:
            old.close()
        reader = reader or store.reader(current)
        reader.memo = self._memo((workspace, reader.version, settings))
        try:
            yield reader
        except BaseException:
            reader.close()
            raise
        with self._guard:
            idle = self._idle.setdefault(workspace, [])
            if len(idle) < self.POOL_SIZE:
                idle.append(reader)
                return
        reader.close()

    def _memo(self, key: tuple[str, int, str]) -> Memo:
        """The memo of (workspace, version, settings), made on first use."""
        with self._guard:
            memo = self._memos.get(key)
            if memo is None:
                memo = self._memos[key] = Memo(self.MEMO_BYTES)
                while len(self._memos) > self.MEMO_VERSIONS:
                    self._memos.popitem(last=False)
            self._memos.move_to_end(key)
        return memo

    def _key(self, config: Config, name: str, kwargs: dict[str, Any], version: int | None) -> tuple[Any, ...]:
        version = Store(config.store_dir).current_version() if version is None else version
        return (str(config.data_dir), version, settings_key(config), name, tuple(sorted(kwargs.items())))

    def has(self, config: Config, name: str, *, at_version: int | None = None, **kwargs: Any) -> bool:
        """Whether ``compute`` would answer from the cache (for showing a spinner only when not)."""
        try:
            with self._guard:
                return self._key(config, name, kwargs, at_version) in self._results
        except TypeError:  # an unhashable argument is never cached
            return False

    def compute(self, config: Config, name: str, *, at_version: int | None = None, **kwargs: Any) -> Any:
        """``PAGE_MODELS[name](reader, config, **kwargs)`` on store version ``at_version``, else
        on the current one."""
        key = self._key(config, name, kwargs, at_version)
        _, version, settings, *_ = key  # the version and settings the key read: not read again
        try:
            hash(key)
        except TypeError:  # an unhashable argument: no caching, just compute
            with self._reading(config, version, settings) as reader:
                return PAGE_MODELS[name](reader, config, **kwargs)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._results:
                    self._results.move_to_end(key)
                    return _handed_out(self._results[key])
            with self._reading(config, version, settings) as reader:
                result = PAGE_MODELS[name](reader, config, **kwargs)
            with self._guard:
                self._results[key] = result
                while len(self._results) > self.max_entries:
                    self._results.popitem(last=False)
                if len(self._locks) > 4 * self.max_entries:  # keys of old versions: drop idle locks
                    for old in [k for k, held in self._locks.items() if not held.locked() and k not in self._results]:
                        del self._locks[old]
            return _handed_out(result)

    def clear(self) -> None:
        with self._guard:
            self._results.clear()
            self._memos.clear()
            idle = [reader for readers in self._idle.values() for reader in readers]
            self._idle.clear()
        for reader in idle:
            reader.close()


def _handed_out(result: Any) -> Any:
    return copy.copy(result) if isinstance(result, list | dict) else result


# --- warming the cache after a new store version ------------------------------------------------

DEFAULT_PERIOD_DAYS = 28  # the date range a page opens with (ui.DEFAULT_RANGE)


def default_period(facts: Facts) -> Period | None:
    """The range every page opens with: the last DEFAULT_PERIOD_DAYS loaded days."""
    if not facts.has_events or facts.first_day is None or facts.last_day is None:
        return None
    last = facts.last_day
    return Period(max(facts.first_day, last - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1)), last)


def summary_requests(facts: Facts, period: Period) -> list[tuple[str, dict[str, Any]]]:
    """What the executive summary computes when it opens (pages/summary.py, in its order), with
    the sidebar's dimension lists: warming these makes the first viewer's render cache hits."""
    as_of = roadmap_day(facts, period.end)
    return [
        *(("dimension_values", {"dimension": dimension}) for dimension in facts.dimensions),
        ("scorecards", {"period": period, "as_of": as_of}),
        ("headline", {"period": period}),
        ("survey_score", {"period": period, "whole_days_only": True}),
        ("items_health", {"as_of": as_of}),
        ("objective_health", {"as_of": as_of}),
        ("impact_results", {"as_of": as_of}),
    ]


def warm_summary(cache: PageCache, config: Config) -> int:
    """Compute the summary's opening results into ``cache`` (run in the background when a server
    first sees a store version, so the first executive to open it does not wait). Returns how
    many results were computed; a result that fails is left for the page to compute and explain."""
    facts_now = cache.compute(config, "facts")
    period = default_period(facts_now)
    if period is None:
        return 0
    done = 0
    for name, kwargs in summary_requests(facts_now, period):
        try:
            cache.compute(config, name, **kwargs)
            done += 1
        except (ValueError, KeyError):
            continue  # the page shows the same problem as a message when it asks
    return done
