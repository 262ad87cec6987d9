"""Custom metric definitions from pmkit.toml: parsing, and one clear message per problem."""

from __future__ import annotations

import tomllib

import pytest

from pmkit.definitions import (
    BUILTIN_METRICS,
    DefinitionError,
    Definitions,
    MetricDefinition,
    load_definitions,
    parse_definitions,
)

GOOD = """
[metrics.activation]
type = "funnel"
name = "Activation"
description = "New sign-ups who create a report within a week"
steps = ["signup", "create_report"]
window_days = 7

[metrics.reports]
type = "count"
event = "create_report"

[metrics.collaborators]
type = "unique_users"
events = ["share_report", "invite"]
format = "number"

[metrics.purchases]
type = "sum_revenue"
event = "purchase"

[metrics.all_revenue]
type = "sum_revenue"

[metrics.revenue_per_collaborator]
type = "ratio"
numerator = "purchases"
denominator = "collaborators"
format = "currency"

[metrics.week1_retention]
type = "retention"
week = 1
active_events = ["create_report"]
"""


def problems_of(toml: str, active_events: object = ()) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse_definitions(tomllib.loads(toml).get("metrics", {}), active_events)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return list(caught.value.problems)


def test_every_type_parses_into_a_frozen_definition():
    definitions = parse_definitions(tomllib.loads(GOOD)["metrics"], ["login"])
    assert definitions.active_events == ("login",)
    assert definitions.keys() == [*BUILTIN_METRICS, "activation", "reports", "collaborators", "purchases", "all_revenue",
                                  "revenue_per_collaborator", "week1_retention"]  # fmt: skip
    assert definitions.get("activation") == MetricDefinition(
        key="activation",
        type="funnel",
        name="Activation",
        description="New sign-ups who create a report within a week",
        format="percent",
        steps=("signup", "create_report"),
        window_days=7,
    )
    assert definitions.get("reports") == MetricDefinition("reports", "count", "Reports", events=("create_report",))
    assert definitions.get("collaborators").events == ("share_report", "invite")
    assert definitions.get("purchases").format == "currency"
    assert definitions.get("all_revenue").events == ()
    ratio = definitions.get("revenue_per_collaborator")
    assert (ratio.numerator, ratio.denominator, ratio.format) == ("purchases", "collaborators", "currency")
    retention = definitions.get("week1_retention")
    assert (retention.week, retention.active_events, retention.format) == (1, ("create_report",), "percent")
    assert definitions.get("dau").type == "builtin"
    with pytest.raises(AttributeError):
        definitions.get("reports").name = "x"  # type: ignore[misc]


def test_the_funnel_message_names_the_metric_and_the_fix():
    toml = '[metrics.activation]\ntype = "funnel"\nsteps = ["signup"]\n'
    assert problems_of(toml) == [
        'metrics.activation: "steps" needs at least two events (e.g. steps = ["signup", "create_report"])'
    ]


def test_every_problem_is_collected_one_message_each():
    toml = """
[metrics.dau]
type = "count"
event = "login"

[metrics."Weekly Reports"]
type = "count"
event = "create_report"

[metrics.no_type]
event = "x"

[metrics.typo_type]
type = "cuont"

[metrics.missing_event]
type = "unique_users"
format = "percentage"

[metrics.both]
type = "count"
event = "a"
events = ["b"]

[metrics.funnel_fields]
type = "funnel"
step = ["signup", "create_report"]
window_days = 0

[metrics.bad_ratio]
type = "ratio"
numerator = "revnue"

[metrics.back]
type = "retention"
week = true
active_events = []

[metrics.named]
type = "count"
event = "x"
name = 3
"""
    assert problems_of(toml, active_events="login") == [
        'workspace.active_events: \'login\' must be a list of event names (e.g. active_events = ["login", "create_report"])',
        "metrics.dau: 'dau' is a built-in metric; give yours another key (e.g. [metrics.dau_custom])",
        "metrics.Weekly Reports: the key must be lower-case letters, digits and _ starting with a letter (e.g. [metrics.weekly_reports])",
        'metrics.no_type: "type" is missing (one of count, unique_users, sum_revenue, ratio, funnel, retention; e.g. type = "count")',
        "metrics.typo_type: type 'cuont' is not a metric type (did you mean \"count\"? one of count, unique_users, sum_revenue, ratio, funnel, retention)",
        "metrics.missing_event: format 'percentage' is not one of number, percent, currency (e.g. format = \"percent\")",
        'metrics.missing_event: "event" is missing (e.g. event = "signup", or events = ["signup", "invite"])',
        'metrics.both: give either "event" or "events", not both (e.g. events = ["signup", "invite"])',
        'metrics.funnel_fields: unknown field "step" (did you mean "steps"?)',
        'metrics.funnel_fields: "steps" needs at least two events (e.g. steps = ["signup", "create_report"])',
        'metrics.funnel_fields: "window_days" must be a whole number from 1 to 365 (e.g. window_days = 7)',
        'metrics.bad_ratio: "denominator" must name a metric key (e.g. denominator = "mau")',
        'metrics.back: "week" must be a whole number from 1 to 52 (e.g. week = 1)',
        'metrics.back: "active_events" must be a non-empty list of events (e.g. active_events = ["login"]) or left out',
        'metrics.named: "name" must be text in quotes (e.g. name = "Activation")',
    ]


def test_ratios_must_point_at_known_metrics_without_loops():
    toml = """
[metrics.a]
type = "ratio"
numerator = "b"
denominator = "mau"

[metrics.b]
type = "ratio"
numerator = "a"
denominator = "dau"

[metrics.c]
type = "ratio"
numerator = "revnue"
denominator = "dau"

[metrics.uses_a]
type = "ratio"
numerator = "a"
denominator = "dau"
"""
    assert problems_of(toml) == [
        "metrics.c: numerator 'revnue' is not a metric (did you mean 'revenue'? use a built-in key such as mau, or a [metrics.KEY] defined here)",
        "metrics.a: the ratio depends on itself (a -> b -> a); point numerator and denominator at other metrics",
        "metrics.b: the ratio depends on itself (b -> a -> b); point numerator and denominator at other metrics",
    ]


def test_a_table_that_is_not_a_table():
    assert problems_of("[metrics]\nactivation = 3\n") == [
        'metrics.activation: must be a table of fields (e.g. [metrics.activation] with type = "count" and event = "signup")'
    ]


def test_load_definitions_reads_the_workspace_toml(workspace):
    workspace.configure(active_events=["login"], metrics=GOOD)
    definitions = load_definitions(workspace.config)
    assert definitions.active_events == ("login",)
    assert definitions.get("activation").steps == ("signup", "create_report")


def test_unknown_events_are_reported_with_a_suggestion():
    definitions = parse_definitions(tomllib.loads(GOOD)["metrics"])
    assert definitions.unknown_events({"signup", "create_report", "share_report", "purchase", "login"}) == [
        "metrics.collaborators: event 'invite' is not in the loaded events (no loaded event has that name yet)",
    ]
    assert definitions.unknown_events({"signup", "create_reports", "share_report", "invite", "purchase"})[0] == (
        "metrics.activation: event 'create_report' is not in the loaded events (did you mean 'create_reports'?)"
    )


def test_unknown_key_lists_what_exists():
    with pytest.raises(KeyError, match=r"metric 'activaton' is not defined .*custom: none; define it in pmkit.toml"):
        Definitions().get("activaton")


def test_every_definition_reads_in_words():
    definitions = parse_definitions(tomllib.loads(GOOD)["metrics"])
    words = {key: definitions.get(key).in_words() for key in definitions}
    assert words["activation"] == "New sign-ups who create a report within a week"
    assert words["reports"] == "How many create_report events happened."
    assert words["collaborators"] == "Distinct users who did share_report or invite."
    assert words["all_revenue"] == "Revenue of all events."
    assert (
        words["week1_retention"] == "Of the users first seen on a day, the share active 1 week(s) later (days 7 to 13)."
    )
    assert words["dau"].startswith("Daily active users")
    assert all(words.values())


def test_a_broken_metric_table_leaves_the_others_usable_everywhere(tmp_path):
    """One [metrics.broken] without a type dropped every custom metric from the pages and the
    ingest's kept series (security QA: objectives then said "metric 'activation' is not defined").
    A ratio listed before its part is kept; a ratio of the broken one goes with it."""
    from pmkit.config import load_config
    from pmkit.definitions import usable_definitions

    (tmp_path / "pmkit.toml").write_text(
        '[metrics.per_share]\ntype = "ratio"\nnumerator = "shares"\ndenominator = "dau"\n\n'
        '[metrics.shares]\ntype = "count"\nevent = "share"\n\n'
        '[metrics.broken]\nevent = "login"\n\n'
        '[metrics.of_broken]\ntype = "ratio"\nnumerator = "broken"\ndenominator = "dau"\n'
    )
    definitions, problems = usable_definitions(load_config(tmp_path))
    assert sorted(definitions.custom) == ["per_share", "shares"]
    assert any("broken" in p for p in problems)


def test_a_ratio_left_out_with_a_broken_part_is_named(tmp_path):
    # c and per_user vanished from the pages with no message, and "metric 'c' is not defined"
    # was said of a metric defined (QA).
    from pmkit.config import load_config
    from pmkit.definitions import usable_definitions

    (tmp_path / "pmkit.toml").write_text(
        '[metrics.a]\ntype = "ratio"\nnumerator = "b"\ndenominator = "dau"\n\n'
        '[metrics.b]\ntype = "ratio"\nnumerator = "a"\ndenominator = "dau"\n\n'
        '[metrics.c]\ntype = "ratio"\nnumerator = "a"\ndenominator = "mau"\n\n'
        '[metrics.broken]\ntype = "counter"\nevent = "login"\n\n'
        '[metrics.per_user]\ntype = "ratio"\nnumerator = "broken"\ndenominator = "dau"\n\n'
        '[metrics.ok]\ntype = "count"\nevent = "login"\n'
    )
    definitions, problems = usable_definitions(load_config(tmp_path))
    assert sorted(definitions.custom) == ["ok"]
    assert [p.split(":")[0] for p in problems] == [
        "metrics.broken",
        "metrics.a",
        "metrics.b",
        "metrics.c",
        "metrics.per_user",
    ]
    assert "metrics.c: left out: it uses a metric that cannot be used (a); fix that one first" in problems
    assert "metrics.per_user: left out: it uses a metric that cannot be used (broken); fix that one first" in problems


def test_active_events_not_loaded_are_reported_with_a_suggestion():
    definitions = parse_definitions({})
    assert definitions.unknown_events({"login", "signup"}, ["logni", "signup"]) == [
        "workspace.active_events: event 'logni' is not in the loaded events (did you mean 'login'?)"
    ]


def test_a_metric_name_that_turns_the_writing_direction_is_closed():
    """QA: a pmkit.toml name "\u202emetric" reversed the objective's whole reason after it."""
    table = tomllib.loads('[metrics.m]\nname = "\u202emetric"\ntype = "count"\nevent = "login"\n')["metrics"]
    assert parse_definitions(table, []).get("m").name == "\u202emetric\u202c"
