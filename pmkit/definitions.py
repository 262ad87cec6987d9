"""Metric definitions: the built-in KPIs, and the custom metrics a PM writes in ``pmkit.toml``.

Custom metrics are ``[metrics.KEY]`` tables; objectives and the dashboard refer to them by KEY::

    [metrics.activation]
    type = "funnel"
    name = "Activation"
    description = "New sign-ups who create a report within a week"
    steps = ["signup", "create_report"]
    window_days = 7

| type | fields | value of a day |
|---|---|---|
| count | event or events | how many of those events happened |
| unique_users | event or events | distinct users who did any of them |
| sum_revenue | event or events (optional) | revenue of those events (of all events if none given) |
| ratio | numerator, denominator (metric keys) | numerator's value / denominator's value |
| funnel | steps (two or more events), window_days (default 7) | share of the users who did step 1 that day who went on to do every step within the window |
| retention | week (default 1), active_events (optional) | share of the users first seen that day who were active in week ``week`` after it (days 7w to 7w+6) |

Every type also takes ``name`` (default: the key), ``description`` and ``format`` (number,
percent or currency). Validation collects every problem, each naming the metric and the fix.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pmkit.config import Config
from pmkit.formatting import closed_bidi, format_days

FORMATS = ("number", "percent", "currency")
METRIC_TYPES = ("count", "unique_users", "sum_revenue", "ratio", "funnel", "retention")
COMMON_FIELDS = ("type", "name", "description", "format")
TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "count": ("event", "events"),
    "unique_users": ("event", "events"),
    "sum_revenue": ("event", "events"),
    "ratio": ("numerator", "denominator"),
    "funnel": ("steps", "window_days"),
    "retention": ("week", "active_events"),
}
DEFAULT_FORMATS = {
    "count": "number",
    "unique_users": "number",
    "sum_revenue": "currency",
    "ratio": "number",
    "funnel": "percent",
    "retention": "percent",
}
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_WINDOW_DAYS = 365
MAX_RETENTION_WEEK = 52

# Anomalies (pmkit.metrics.targets.anomalies): each day against the same weekday of the weeks before.
ANOMALY_WEEKS = 8
ANOMALY_MIN_WEEKS = 4
ANOMALY_THRESHOLD = 3.5
ANOMALY_RULE = (
    f"A day is flagged as an anomaly when its value is more than {ANOMALY_THRESHOLD} robust standard "
    f"deviations away from the median of the same weekday over the previous {ANOMALY_WEEKS} weeks. "
    "The robust standard deviation is the median absolute deviation of those days divided by 0.6745 "
    "(or 1.2533 times their mean absolute deviation when the median deviation is zero). A day is only "
    f"judged when at least {ANOMALY_MIN_WEEKS} of those {ANOMALY_WEEKS} weekdays have a value."
)

# Every metric and view in plain words: the README and the app show these.
DEFINITIONS: dict[str, str] = {
    "day": "Days start at midnight in the workspace time zone (workspace.timezone, default UTC).",
    "active": (
        "A user is active on a day when they did at least one event that day, or, when "
        "workspace.active_events is set, at least one of those events."
    ),
    "dau": "Daily active users: distinct users active on the day.",
    "wau": "Weekly active users: distinct users active on any of the 7 days ending on the day.",
    "mau": "Monthly active users: distinct users active on any of the 30 days ending on the day.",
    "stickiness": "Stickiness: DAU divided by MAU on the same day; the share of the month's users who came that day.",
    "new_users": "New users: users whose first event ever (of any kind) is on the day.",
    "events": "Events: how many events were tracked on the day (all events, active or not).",
    "revenue": "Revenue: the sum of the revenue column of the day's events.",
    "arpu": (
        "ARPU (average revenue per user): revenue divided by the users active in the same "
        "period; per day that is revenue / DAU, per week or month it uses the distinct users of the week or month."
    ),
    "active_users": "Active users per week or month: distinct users active on any day of it that lies in the chosen range.",
    "lifecycle": (
        "Lifecycle, per Monday-starting week (as PostHog defines it): new = active this week and "
        "first seen this week; returning = active this week and the week before; resurrecting = "
        "active this week, not the week before, and first seen earlier; dormant = active the week "
        "before but not this week (drawn below zero)."
    ),
    "weekly_retention": (
        "Weekly retention: a cohort is the users whose first event falls in the same "
        'Monday-starting week. Week k retention ("on week k") is the share of the cohort active in '
        'the k-th week after it (week 0 is the cohort\'s own week); "on or after week k" is the '
        "share active in that week or any later one. Weeks that have not started yet are not shown; "
        "a week still in progress on the last loaded day is marked * in the heatmap and left out of the "
        "curves, as its share can still rise."
    ),
    "day_n_retention": (
        "Day-N retention (D1, D7, D30): of the users first seen on a day F, the share active exactly on "
        "day F + N. Users whose day F + N is after the last whole day are left out, not counted as lost "
        "(the last loaded day is whole once it is over: today's first hours are nobody's day N yet)."
    ),
    "funnel": (
        "Funnel: every time a user does the first step starts an attempt; the attempt reaches a later "
        "step when the user does the steps in order, each at or after the previous one, and all within "
        "the window (default 7 days, an event exactly at the window's end counts) after the first step. "
        "A step done before the previous one does not count. Each user counts once, at the furthest step "
        "any attempt reached. Conversion = users reaching the step / users at step 1; drop-off = users "
        "lost since the previous step; time to convert = median time from the previous step, taken from "
        "each user's earliest attempt that got furthest."
    ),
    "feature_adoption": (
        "Feature adoption: of the day's MAU, the share who did the feature's event in the 30 days ending on the day."
    ),
    "engagement": (
        "Engagement matrix: for each feature over the last 30 days, adoption (share of MAU who used it) "
        "against frequency (the mean number of days each of those users used it, 1 to 30)."
    ),
    "nps": (
        "NPS (Net Promoter Score): of the answers on the 0-10 scale, the percentage of promoters "
        "(9-10) minus the percentage of detractors (0-6); from -100 to 100."
    ),
    "csat": "CSAT (customer satisfaction): the share of answers on the 1-5 scale that are 4 or 5.",
    "comparison": (
        "Comparisons are to the previous period of equal length unless another is chosen: the same "
        "period last year is the 52 weeks before (364 days), so weekdays line up."
    ),
    "rolling_average": "Rolling average: the mean of the 7 (or 28) days ending on each day; blank where one of those days has no value (before the first loaded day, or a day with none, such as ARPU on a day without active users).",
    "target": (
        "Target path: a straight line from the baseline on the start date to the target on the target "
        "date (flat at the target for stay above / stay below). On track when the metric is on the "
        "right side of the path; at risk when it misses by at most 5% of the planned change; off track beyond."
    ),
    "anomaly": ANOMALY_RULE,
    "segment": (
        "Filters keep the events whose dimension has one of the chosen values (values of one dimension "
        "are alternatives, different dimensions must all match on the same event). A breakdown splits "
        "each metric by a dimension's value on the events counted."
    ),
}


# How a count's or revenue's days make the value of a range (``MetricDefinition.over_a_range``).
SUM_OVER_DAYS = "the sum over its days"


@dataclass(frozen=True)
class MetricDefinition:
    """One metric. ``type`` is "builtin" for dau, wau, mau, stickiness, new_users, events,
    revenue and arpu, else one of METRIC_TYPES."""

    key: str
    type: str
    name: str
    description: str = ""
    format: str = "number"
    events: tuple[str, ...] = ()  # count, unique_users, sum_revenue (empty: every event)
    numerator: str | None = None  # ratio
    denominator: str | None = None
    steps: tuple[str, ...] = ()  # funnel
    window_days: int = 7
    week: int = 1  # retention
    active_events: tuple[str, ...] | None = None  # retention: what counts as back (None: the workspace's)

    def in_words(self) -> str:
        """The description, or one generated from the fields."""
        if self.description:
            return self.description
        if self.type == "builtin":
            return DEFINITIONS.get(self.key, self.name)
        events = " or ".join(self.events) if self.events else "any event"
        return {
            "count": f"How many {events} events happened.",
            "unique_users": f"Distinct users who did {events}.",
            "sum_revenue": f"Revenue of {events} events." if self.events else "Revenue of all events.",
            "ratio": f"{self.numerator} divided by {self.denominator}.",
            "funnel": (
                f"Of the users who did {self.steps[0] if self.steps else '?'}, the share who then did "
                f"{', then '.join(self.steps[1:])} within {format_days(self.window_days)} (by the day of the first step)."
            ),
            "retention": f"Of the users first seen on a day, the share active {self.week} week(s) later (days {7 * self.week} to {7 * self.week + 6}).",
        }.get(self.type, self.name)

    def summed(self) -> bool:
        """Whether the value of several days is the sum of theirs (a count, revenue).

        >>> BUILTIN_METRICS["events"].summed(), BUILTIN_METRICS["dau"].summed()
        (True, False)
        """
        return self.over_a_range() == SUM_OVER_DAYS

    def over_a_range(self) -> str:
        """How one value for several days (a week, a month, a date range) is made, in words, as
        ``pmkit.metrics.series`` computes it: cards of a range show a mean, a last day or a sum.

        >>> BUILTIN_METRICS["mau"].over_a_range(), BUILTIN_METRICS["events"].over_a_range()
        ('the value on its last day', 'the sum over its days')
        """
        if self.type == "builtin":
            return {
                "dau": "the mean of its daily values",
                "stickiness": "the mean of its daily values",
                "wau": "the value on its last day",
                "mau": "the value on its last day",
                "arpu": "its revenue divided by the users active in it",
            }.get(self.key, SUM_OVER_DAYS)
        return {
            "count": SUM_OVER_DAYS,
            "sum_revenue": SUM_OVER_DAYS,
            "unique_users": "the distinct users over all its days",
            "ratio": (
                f"the sum of its days' {self.numerator} divided by the sum of its days' {self.denominator} when "
                f"both add up over days (else {self.numerator} over all its days divided by {self.denominator} over "
                "all its days)"
                if {self.numerator, self.denominator} & LEVELS
                else f"{self.numerator} over all its days divided by {self.denominator} over all its days"
            ),
            "funnel": "the conversion of the users who did the first step in it",
            "retention": "the share of the users first seen in it who came back",
        }.get(self.type, SUM_OVER_DAYS)


# Levels, not sums, over several days: a ratio with one on a side pools its days (metrics.series).
LEVELS = frozenset({"dau", "wau", "mau"})

BUILTIN_METRICS: dict[str, MetricDefinition] = {
    key: MetricDefinition(key, "builtin", name, DEFINITIONS[key], fmt)
    for key, name, fmt in (
        ("dau", "Daily active users", "number"),
        ("wau", "Weekly active users", "number"),
        ("mau", "Monthly active users", "number"),
        ("stickiness", "Stickiness (DAU/MAU)", "percent"),
        ("new_users", "New users", "number"),
        ("events", "Events", "number"),
        ("revenue", "Revenue", "currency"),
        ("arpu", "ARPU", "currency"),
    )
}


class DefinitionError(ValueError):
    """``pmkit.toml`` defines metrics that cannot be used; ``problems`` holds one message each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Definitions:
    """The built-in and custom metrics of a workspace, and its active events."""

    custom: Mapping[str, MetricDefinition] = field(default_factory=dict)
    active_events: tuple[str, ...] = ()

    def keys(self) -> list[str]:
        """Built-in keys first, then the custom ones in pmkit.toml order."""
        return [*BUILTIN_METRICS, *self.custom]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def get(self, key: str) -> MetricDefinition:
        if key in BUILTIN_METRICS:
            return BUILTIN_METRICS[key]
        if key in self.custom:
            return self.custom[key]
        custom = ", ".join(self.custom) or "none"
        raise KeyError(
            f"metric {key!r} is not defined (built-in: {', '.join(BUILTIN_METRICS)}; custom: {custom}; "
            f"define it in pmkit.toml as [metrics.{key}])"
        )

    def unknown_events(self, known: set[str] | list[str], active_events: Sequence[str] = ()) -> list[str]:
        """One message per event named by a definition or by ``active_events`` (the workspace's)
        but absent from the loaded events (a typo, or data not loaded yet)."""
        known = set(known)
        messages = []
        for event in dict.fromkeys(active_events):
            if event not in known:
                close = difflib.get_close_matches(event, sorted(known), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else " (no loaded event has that name yet)"
                messages.append(f"workspace.active_events: event {event!r} is not in the loaded events{hint}")
        for definition in self.custom.values():
            named = [*definition.events, *definition.steps, *(definition.active_events or ())]
            for event in dict.fromkeys(named):
                if event not in known:
                    close = difflib.get_close_matches(event, sorted(known), n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else " (no loaded event has that name yet)"
                    messages.append(f"metrics.{definition.key}: event {event!r} is not in the loaded events{hint}")
        return messages


def load_definitions(config: Config) -> Definitions:
    """The workspace's metric definitions; ``DefinitionError`` lists every problem at once."""
    return parse_definitions(config.metrics, config.get("workspace.active_events"))


def usable_definitions(config: Config) -> tuple[Definitions, tuple[str, ...]]:
    """The definitions and the problems of pmkit.toml's [metrics] tables: when some are broken,
    every table that parses beside the others kept is still used (one bad table dropped every
    custom metric from the pages, and objectives then said "metric 'activation' is not
    defined"). A ratio of a broken metric is left out with it."""
    try:
        return load_definitions(config), ()
    except DefinitionError as exc:
        problems = exc.problems
    kept: dict[str, Any] = {}
    pending = dict(config.metrics)
    grew = True
    while grew:  # a ratio may name a metric listed after it
        grew = False
        for key, table in list(pending.items()):
            try:
                parse_definitions({**kept, key: table})
            except DefinitionError:
                continue
            kept[key] = pending.pop(key)
            grew = True
    # A ratio of a broken metric (or of a loop) is left out with it: say so, or it vanished from
    # the pages unnamed and "metric 'c' is not defined" was said of a metric defined (QA).
    named = {p.split(":", 1)[0] for p in problems}
    for key, table in pending.items():
        if f"metrics.{key}" not in named:
            sides = [table.get(side) for side in ("numerator", "denominator")] if isinstance(table, dict) else []
            broken = [
                str(side) for side in sides if side is not None and side not in kept and side not in BUILTIN_METRICS
            ]
            uses = f" ({', '.join(broken)})" if broken else ""
            problems = (
                *problems,
                f"metrics.{key}: left out: it uses a metric that cannot be used{uses}; fix that one first",
            )
    return parse_definitions(kept), problems


def parse_definitions(tables: Mapping[str, Any], active_events: Any = ()) -> Definitions:
    """Definitions from ``[metrics.KEY]`` tables as read from TOML.

    >>> parse_definitions({"signups": {"type": "count", "event": "signup"}}).get("signups").events
    ('signup',)
    """
    problems: list[str] = []
    if not isinstance(active_events, list | tuple) or not all(isinstance(e, str) and e for e in active_events):
        problems.append(
            f'workspace.active_events: {active_events!r} must be a list of event names (e.g. active_events = ["login", "create_report"])'
        )
        active_events = ()
    custom: dict[str, MetricDefinition] = {}
    for key, table in tables.items():
        definition = _parse_one(str(key), table, problems)
        if definition is not None:
            custom[definition.key] = definition
    _check_ratios(custom, tables, problems)
    if problems:
        raise DefinitionError(problems)
    return Definitions(custom, tuple(active_events))


def _parse_one(key: str, table: Any, problems: list[str]) -> MetricDefinition | None:
    where = f"metrics.{key}"
    before = len(problems)
    if not KEY_PATTERN.match(key):
        suggestion = re.sub(r"[^a-z0-9_]+", "_", key.lower()).strip("_") or "my_metric"
        if not suggestion[0].isalpha():
            suggestion = f"m_{suggestion}"
        problems.append(
            f"{where}: the key must be lower-case letters, digits and _ starting with a letter (e.g. [metrics.{suggestion}])"
        )
    if key in BUILTIN_METRICS:
        problems.append(f"{where}: {key!r} is a built-in metric; give yours another key (e.g. [metrics.{key}_custom])")
    if not isinstance(table, Mapping):
        problems.append(
            f'{where}: must be a table of fields (e.g. [metrics.{key}] with type = "count" and event = "signup")'
        )
        return None
    kind = table.get("type")
    if kind is None:
        problems.append(f'{where}: "type" is missing (one of {", ".join(METRIC_TYPES)}; e.g. type = "count")')
        return None
    if kind not in METRIC_TYPES:
        close = difflib.get_close_matches(str(kind), METRIC_TYPES, n=1)
        hint = f'did you mean "{close[0]}"? ' if close else ""
        problems.append(f"{where}: type {kind!r} is not a metric type ({hint}one of {', '.join(METRIC_TYPES)})")
        return None
    allowed = (*COMMON_FIELDS, *TYPE_FIELDS[kind])
    for name in table:
        if name not in allowed:
            close = difflib.get_close_matches(name, allowed, n=1)
            hint = f'did you mean "{close[0]}"?' if close else f"a {kind} metric takes {', '.join(allowed)}"
            problems.append(f'{where}: unknown field "{name}" ({hint})')
    # Closed if it turns the writing direction: the sentences it goes into read backwards (QA).
    name = closed_bidi(_text(table, "name", where, problems) or key.replace("_", " ").capitalize())
    description = _text(table, "description", where, problems) or ""
    fmt = table.get("format", DEFAULT_FORMATS[kind])
    if fmt not in FORMATS:
        problems.append(f'{where}: format {fmt!r} is not one of {", ".join(FORMATS)} (e.g. format = "percent")')
    fields: dict[str, Any] = {}
    if kind in ("count", "unique_users", "sum_revenue"):
        fields["events"] = _events(table, where, problems, required=kind != "sum_revenue")
    elif kind == "ratio":
        for side in ("numerator", "denominator"):
            value = table.get(side)
            if not isinstance(value, str) or not value:
                problems.append(
                    f'{where}: "{side}" must name a metric key (e.g. {side} = "{"revenue" if side == "numerator" else "mau"}")'
                )
            fields[side] = value if isinstance(value, str) else None
    elif kind == "funnel":
        steps = table.get("steps")
        if not isinstance(steps, list) or len(steps) < 2 or not all(isinstance(s, str) and s for s in steps):
            problems.append(f'{where}: "steps" needs at least two events (e.g. steps = ["signup", "create_report"])')
            steps = []
        fields["steps"] = tuple(steps)
        fields["window_days"] = _whole_number(table, "window_days", 7, MAX_WINDOW_DAYS, where, problems)
    elif kind == "retention":
        fields["week"] = _whole_number(table, "week", 1, MAX_RETENTION_WEEK, where, problems)
        if "active_events" in table:
            active = table["active_events"]
            if not isinstance(active, list) or not active or not all(isinstance(e, str) and e for e in active):
                problems.append(
                    f'{where}: "active_events" must be a non-empty list of events (e.g. active_events = ["login"]) or left out'
                )
                active = []
            fields["active_events"] = tuple(active)
    if len(problems) > before:
        return None
    return MetricDefinition(key=key, type=kind, name=name, description=description, format=fmt, **fields)


def _text(table: Mapping[str, Any], name: str, where: str, problems: list[str]) -> str | None:
    value = table.get(name)
    if value is not None and not isinstance(value, str):
        problems.append(f'{where}: "{name}" must be text in quotes (e.g. {name} = "Activation")')
        return None
    return value


def _events(table: Mapping[str, Any], where: str, problems: list[str], *, required: bool) -> tuple[str, ...]:
    if "event" in table and "events" in table:
        problems.append(f'{where}: give either "event" or "events", not both (e.g. events = ["signup", "invite"])')
        return ()
    if "event" in table:
        value = table["event"]
        if not isinstance(value, str) or not value:
            problems.append(f'{where}: "event" must be an event name in quotes (e.g. event = "signup")')
            return ()
        return (value,)
    if "events" in table:
        value = table["events"]
        if not isinstance(value, list) or not value or not all(isinstance(e, str) and e for e in value):
            problems.append(
                f'{where}: "events" must be a non-empty list of event names (e.g. events = ["signup", "invite"])'
            )
            return ()
        return tuple(value)
    if required:
        problems.append(f'{where}: "event" is missing (e.g. event = "signup", or events = ["signup", "invite"])')
    return ()


def _whole_number(
    table: Mapping[str, Any], name: str, default: int, highest: int, where: str, problems: list[str]
) -> int:
    value = table.get(name, default)
    # TOML booleans are ints in Python; `window_days = true` is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= highest:
        problems.append(f'{where}: "{name}" must be a whole number from 1 to {highest} (e.g. {name} = {default})')
        return default
    return value


def _check_ratios(custom: dict[str, MetricDefinition], tables: Mapping[str, Any], problems: list[str]) -> None:
    """Ratio sides must name known metrics, and no ratio may depend on itself."""
    known = set(BUILTIN_METRICS) | {str(k) for k in tables}
    for definition in list(custom.values()):
        if definition.type != "ratio":
            continue
        for side in ("numerator", "denominator"):
            target = getattr(definition, side)
            if target is None or target in known:
                continue
            close = difflib.get_close_matches(target, sorted(known), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(
                f"metrics.{definition.key}: {side} {target!r} is not a metric ({hint}use a built-in key such as mau, or a [metrics.KEY] defined here)"
            )
            custom.pop(definition.key, None)
    for key in list(custom):
        cycle = _cycle_from(key, custom, [])
        if cycle and cycle[0] == key:  # ratios that merely use a looping one are not reported twice
            problems.append(
                f"metrics.{key}: the ratio depends on itself ({' -> '.join(cycle)}); point numerator and denominator at other metrics"
            )
    for key in [k for k in custom if _cycle_from(k, custom, [])]:
        custom.pop(key)


def _cycle_from(key: str, custom: Mapping[str, MetricDefinition], path: list[str]) -> list[str] | None:
    if key in path:
        return [*path[path.index(key) :], key]
    definition = custom.get(key)
    if definition is None or definition.type != "ratio":
        return None
    for target in (definition.numerator, definition.denominator):
        if target is not None:
            found = _cycle_from(target, custom, [*path, key])
            if found:
                return found
    return None
