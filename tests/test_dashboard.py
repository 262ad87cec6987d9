"""Page models on the hand-computed workspace (tests/known_workspace.py) and on small frames:
each number equals the engine's (or the hand count), and each sentence says what the numbers say."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from pmkit import charts, dashboard, metrics
from pmkit.config import load_config
from pmkit.definitions import Definitions, MetricDefinition, load_definitions
from pmkit.formatting import format_date
from pmkit.ingest import ingest
from pmkit.metrics import Period, Segment
from pmkit.metrics.base import workspace_of
from pmkit.store import Memo, Store
from tests.known_workspace import (
    EVENTS,
    FIRST_DAY,
    HOSTILE_COMMENT,
    HOSTILE_TITLE,
    LAST_DAY,
    MARKUP_COMMENT,
    MEAN_DAU,
    build_known_workspace,
    ingested,
)

D = dt.date
RANGE = Period(FIRST_DAY, LAST_DAY)


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory):
    root = build_known_workspace(tmp_path_factory.mktemp("known") / "ws")
    config = load_config(root)
    with Store(config.store_dir).reader() as reader:
        yield reader, config


def test_facts_say_what_is_loaded(known):
    reader, config = known
    facts = dashboard.facts(reader, config)
    assert (facts.first_day, facts.last_day, facts.events, facts.users) == (FIRST_DAY, LAST_DAY, 15, 3)
    assert (facts.answers, facts.objectives, facts.roadmap_items, facts.days) == (4, 1, 2, 10)
    assert facts.dimensions == ("plan",)
    assert "15 events from 3 users, 2 Mar 2026 to 11 Mar 2026" in facts.source()


def test_the_roadmap_source_counts_the_latest_snapshots_items(tmp_path: Path):
    """Three items on 5 Oct, one removed by 12 Oct: "Source: 3 roadmap items, latest snapshot
    12 Oct" was said beside a roadmap of 2 (every item ever loaded was counted, QA)."""
    header = "item_id,title,item_type,status,start_date,due_date\n"
    first = tmp_path / "roadmap_2026-10-05.csv"
    first.write_text(
        header
        + "A,Alpha,epic,To Do,2026-10-01,2026-10-31\nB,Bravo,epic,To Do,2026-10-01,2026-10-31\nR,Gone,epic,To Do,2026-10-01,2026-10-31\n"
    )
    second = tmp_path / "roadmap_2026-10-12.csv"
    second.write_text(header + "A,Alpha,epic,To Do,2026-10-01,2026-10-31\nB,Bravo,epic,To Do,2026-10-01,2026-10-31\n")
    config = load_config(tmp_path / "ws")
    assert [r.status for r in ingest([first, second], config)] == ["loaded", "loaded"]
    with Store(config.store_dir).reader() as reader:
        facts = dashboard.facts(reader, config)
        shown = reader.frame("SELECT count(*) AS n FROM roadmap_items WHERE snapshot_date = DATE '2026-10-12'")[
            "n"
        ].item()
    assert facts.roadmap_items == shown == 2
    assert facts.source("roadmap").startswith("Source: 2 roadmap items, latest snapshot 12 Oct 2026;")


def shipped_of(tmp_path: Path, roadmap_text: str) -> tuple[pl.DataFrame, dashboard.ObjectiveDetail]:
    """The items shipped in the 90 days to 20 Mar 2026 and objective O1's detail (DAU from 1 to 3)
    of a roadmap snapshot of that day, with two days of events."""
    roadmap = tmp_path / "roadmap_2026-03-20.csv"
    roadmap.write_text(roadmap_text)
    events = tmp_path / "events.csv"
    events.write_text("event_time,user_id,event\n2026-03-01T09:00:00Z,a,login\n2026-03-20T09:00:00Z,b,login\n")
    goals = tmp_path / "objectives.csv"
    goals.write_text(
        "objective_id,title,metric,baseline,target,start_date,target_date,direction,owner\n"
        "O1,Grow,dau,1,3,2026-03-01,2026-12-31,increase,Ann\n"
    )
    config = load_config(tmp_path / "ws")
    assert [r.status for r in ingest([events, roadmap, goals], config)] == ["loaded"] * 3
    as_of = dt.date(2026, 3, 20)
    with Store(config.store_dir).reader() as reader:
        items = dashboard.items_health(reader, config, as_of)
        return dashboard.recently_shipped(items, as_of), dashboard.objective_detail(reader, config, "O1", as_of)


def test_shipped_lists_issues_that_ship_on_their_own(tmp_path: Path):
    """Issues were all left out: a roadmap of issues alone "shipped nothing in the 90 days", and
    an issue's measured impact on its own metric was shown nowhere (objectives QA). Now: the epic
    E and its issue M, which has a metric of its own, and T, an issue of no epic, are listed;
    S, a part of E, is not (E stands for it); nor is the objective's own row."""
    shipped, detail = shipped_of(
        tmp_path,
        "item_id,title,item_type,parent_id,objective_id,metric,status,start_date,due_date,completed_date\n"
        "OB,Goal,objective,,O1,,In Progress,2026-01-01,2026-12-31,\n"
        "E,Epic,epic,OB,,,Done,2026-02-01,2026-03-10,2026-03-09\n"
        "S,Story of E,issue,E,,,Done,2026-02-01,2026-03-10,2026-03-05\n"
        "M,Metric story of E,issue,E,,dau,Done,2026-02-01,2026-03-10,2026-03-06\n"
        "T,Lone task,issue,,,,Done,2026-02-01,2026-03-10,2026-03-07\n",
    )
    assert shipped["item_id"].to_list() == ["E", "T", "M"]  # newest first
    assert sorted(detail.impact["item_id"].to_list()) == ["E", "M"]


def test_a_story_shipped_under_a_cancelled_epic_ships_on_its_own(tmp_path: Path):
    """An epic cancelled after its story shipped: the story was measured for impact (README: a
    cancelled item passes its objective to what was done under it), but left out as "part of
    what the epic ships", so the Objectives page said nothing had shipped and the summary and the
    report listed nothing (QA). A cancelled epic ships nothing: its done story is listed."""
    shipped, detail = shipped_of(
        tmp_path,
        "item_id,title,item_type,parent_id,objective_id,status,start_date,due_date,completed_date\n"
        "X,Dropped epic,epic,,O1,Cancelled,2026-02-01,2026-03-10,\n"
        "XS,Story of X,issue,X,,Done,2026-02-01,2026-03-10,2026-03-08\n"
        "XO,Open story of X,issue,X,,To Do,,2026-03-25,\n",
    )
    assert shipped["item_id"].to_list() == ["XS"]
    assert detail.impact["item_id"].to_list() == ["XS"]


def test_headline_cards_equal_the_engine_and_the_hand_count(known):
    reader, config = known
    dau, mau, new_users, revenue = dashboard.headline(reader, config, RANGE)
    assert dau.value == pytest.approx(MEAN_DAU)
    assert dau.value == metrics.compare_metric(reader, "dau", RANGE)["value"].item()
    assert (mau.value, new_users.value, revenue.value) == (3.0, 3.0, 0.0)
    assert dau.spark == (2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 1.0, 1.0)
    # Nothing is loaded before 2 Mar: no change is claimed against an empty period.
    assert dau.base is None and dau.change is None and "Nothing is loaded before" in dau.note


def test_a_previous_period_only_partly_loaded_gives_no_change(known):
    """5-11 Mar against 26 Feb - 4 Mar, of which only 2-4 Mar are loaded. DAU over those 3 days
    is (2 + 2 + 2) / 3 = 2, over all 7 with the 4 unloaded ones as 0s 6 / 7: neither is a base
    for the mean of 5-11 Mar, 8 / 7. 7-11 Mar (6 / 5) against 2-6 Mar (8 / 5) is wholly loaded
    and keeps its change."""
    reader, config = known
    week = Period(D(2026, 3, 5), LAST_DAY)
    (dau,) = dashboard.headline(reader, config, week, ["dau"])
    assert dau.value == pytest.approx(8 / 7)
    assert (dau.base, dau.change, dau.no_base) == (None, None, "only loaded from 2 Mar 2026")
    assert dau.note == (
        "The previous 7 days (26 Feb 2026 – 4 Mar 2026) are only loaded from 2 Mar 2026: no change is shown."
    )
    assert dashboard.narrative([dau], None) == [
        "Daily active users is 1.14 (the previous 7 days are only loaded from 2 Mar 2026)."
    ]
    totals = dashboard.explore(reader, config, "dau", week).totals.row(0, named=True)
    assert (totals["base"], totals["change"], totals["no_base"]) == (None, None, "only loaded from 2 Mar 2026")
    assert dashboard.versus(totals, "number") == (None, "only loaded from 2 Mar 2026")
    (whole,) = dashboard.headline(reader, config, Period(D(2026, 3, 7), LAST_DAY), ["dau"])
    assert (whole.value, whole.base, whole.no_base) == (pytest.approx(6 / 5), pytest.approx(8 / 5), "")


def test_objective_cards_carry_outcome_and_delivery(known):
    reader, config = known
    (card,) = dashboard.scorecards(reader, config, RANGE)
    assert (card.objective_id, card.key, card.value) == ("OBJ-9", "dau", pytest.approx(MEAN_DAU))
    assert card.status == "off_track"  # last 7 days average 8/7 = 1.14, the path expects 1.67 on 11 Mar
    assert card.current == pytest.approx(8 / 7)
    assert card.current_period == Period(D(2026, 3, 5), LAST_DAY)  # judged on these days, not the range
    assert card.delivery == "late"
    assert card.goal_text == "3 by 31 Mar 2026"


def test_sums_of_an_objective_are_shown_per_day(known):
    reader, config = known
    definitions = load_definitions(config)
    card = dashboard._card(reader, definitions, definitions.get("events"), RANGE, workspace_of(reader), per_day=True)
    assert card.value == pytest.approx(15 / 10)
    assert card.label == "Events per day"


def test_distinct_users_of_an_objective_are_shown_as_their_mean_a_day(known):
    """Active users of the known events, a day: 2, 2, 2, 1, 1, 1, 1, 2, 1, 1 (14 over 10 days);
    3 distinct over the range. "Per day" divided the distinct 3 by 10 days (0.30; QA); it is the
    mean of the daily values, 1.40, as the objective's own line reads it."""
    reader, config = known
    uniques = MetricDefinition("actives", "unique_users", "Actives")
    definitions = Definitions({**load_definitions(config).custom, "actives": uniques}, ())
    card = dashboard._card(reader, definitions, uniques, RANGE, workspace_of(reader), per_day=True)
    assert card.value == pytest.approx(14 / 10)
    assert card.label == "Actives per day"


def test_funnel_cards_move_back_until_final(known):
    """Activation has a 7-day window: the 10 loaded days hold 3 final days, so a 3-day range
    ending on the last day is measured 7 days earlier."""
    reader, config = known
    definitions = load_definitions(config)
    card = dashboard._card(
        reader, definitions, definitions.get("activation"), Period(D(2026, 3, 9), LAST_DAY), workspace_of(reader)
    )
    assert card.period == Period(D(2026, 3, 2), D(2026, 3, 4))
    assert card.value == pytest.approx(2 / 3)  # u1 and u2 of the three sign-ups created a report
    assert "left out until they are final" in card.note


def test_settled_period_keeps_its_length():
    activation = MetricDefinition("activation", "funnel", "Activation", window_days=7)
    period = Period(D(2026, 3, 1), D(2026, 3, 28))
    assert dashboard.settled_period(activation, period, D(2026, 3, 28)) == Period(D(2026, 2, 22), D(2026, 3, 21))
    assert dashboard.settled_period(activation, period, D(2026, 4, 30)) == period
    assert dashboard.settled_period(MetricDefinition("dau", "builtin", "DAU"), period, D(2026, 3, 28)) == period
    # From the first loaded day on, and as it is when no final day is loaded (only today's data).
    dau = MetricDefinition("dau", "builtin", "DAU")
    assert dashboard.settled_period(dau, period, D(2026, 3, 27), D(2026, 3, 10)) == Period(
        D(2026, 3, 10), D(2026, 3, 27)
    )
    today = Period(D(2026, 3, 28), D(2026, 3, 28))
    assert dashboard.settled_period(dau, today, D(2026, 3, 27), D(2026, 3, 28)) == today


def test_survey_score_equals_metrics_nps(known):
    reader, config = known
    score = dashboard.survey_score(reader, config, RANGE)
    assert score.value == pytest.approx(100 / 3)
    assert score.value == metrics.nps(reader, RANGE, "period")["nps"].item()
    assert (score.value_text, score.responses) == ("+33", 3)
    assert dashboard.survey_score(reader, config, RANGE, "csat").value_text == "100.0%"


def test_narrative_in_plain_sentences(known):
    reader, config = known
    cards = dashboard.scorecards(reader, config, RANGE)
    items = dashboard.items_health(reader, config)
    sentences = dashboard.narrative(cards, items, dashboard.survey_score(reader, config, RANGE))
    # The card shows 1.40 over the 10 days; the outcome was judged on the last 7 (8 / 7 = 1.14).
    assert sentences[0] == (
        "Daily active users is 1.40 (nothing earlier to compare with); "
        "over the 7 days to 11 Mar 2026 it was 1.14, behind the path to 3 by 31 Mar 2026."
    )
    assert sentences[1].startswith(
        f"1 of 1 open roadmap items is late: {HOSTILE_TITLE} (due 6 Mar 2026, 5 days ago, 50% done"
    )
    assert sentences[2] == "NPS is +33 from 3 answers."


def test_narrative_says_rose_or_fell_against_the_previous_period():
    period = Period(D(2026, 3, 1), D(2026, 3, 28))
    cards = [
        dashboard.Scorecard(
            "activation",
            "Activation",
            "percent",
            period,
            0.44,
            0.408,
            objective_id="O",
            direction="increase",
            target=0.45,
            target_date=D(2026, 6, 30),
            status="on_track",
        ),
        dashboard.Scorecard(
            "stickiness",
            "Stickiness",
            "percent",
            period,
            0.17,
            0.18,
            objective_id="S",
            direction="stay_above",
            target=0.13,
            target_date=D(2026, 12, 31),
            status="on_track",
        ),
        dashboard.Scorecard("revenue", "Revenue", "currency", period, 900.0, 1000.0),
    ]
    assert dashboard.narrative(cards, None) == [
        "Activation rose to 44.0% (+3.2 pts vs the previous 28 days), on track for 45% by 30 Jun 2026.",
        "Stickiness fell to 17.0% (-1.0 pts vs the previous 28 days), holding above 13% until 31 Dec 2026.",
        "Revenue fell to $900 (-10.0% vs the previous 28 days).",
    ]


def test_narrative_names_the_days_a_status_was_judged_on():
    """Reports shared averaged 92.8 a day over the range but 104.3 over the last 7 days, which
    are past the target of 100: the sentence must not put "past its target" beside 92.8 alone."""
    period = Period(D(2026, 10, 31), D(2026, 11, 27))
    last_week = Period(D(2026, 11, 21), D(2026, 11, 27))
    shared = dashboard.Scorecard(
        "reports_shared",
        "Reports shared",
        "number",
        period,
        92.8,
        85.85,
        per_day=True,
        objective_id="OBJ-2",
        direction="increase",
        target=100.0,
        target_date=D(2027, 1, 1),
        current=104.3,
        current_period=last_week,
        status="achieved",
    )
    # Judged on the value shown (the range is those 7 days): said once, as before.
    same = dataclasses.replace(shared, period=last_week, value=104.3)
    assert dashboard.narrative([shared, same], None) == [
        "Reports shared per day rose to 92.8 (+8.1% vs the previous 28 days); "
        "over the 7 days to 27 Nov 2026 it was 104, past its target of 100 by 1 Jan 2027.",
        "Reports shared per day rose to 104 (+21.5% vs the previous 7 days), past its target of 100 by 1 Jan 2027.",
    ]


def test_the_narrative_says_a_target_date_has_passed():
    """DAU 16.0 over the 7 days to 1 Nov against a target of 16.2 due 31 Oct: the summary said
    "on track for 16.2 by 31 Oct 2026", a day after that date (QA)."""
    week = Period(D(2026, 10, 26), D(2026, 11, 1))
    card = dashboard.Scorecard(
        "dau", "DAU", "number", week, 16.0, 15.0, objective_id="O8", direction="increase", target=16.2,
        target_date=D(2026, 10, 31), current=16.0, current_period=week, status="on_track",
    )  # fmt: skip
    (sentence,) = dashboard.narrative([card], None)
    assert sentence.endswith(", short of its target of 16.2, due 31 Oct 2026.")
    ahead = dataclasses.replace(card, target_date=D(2026, 12, 31))
    assert dashboard.narrative([ahead], None)[0].endswith(", on track for 16.2 by 31 Dec 2026.")


def test_top_risks_worst_first_and_recently_shipped(known):
    reader, config = known
    items = dashboard.items_health(reader, config)
    risks = dashboard.top_risks(items)
    assert risks["item_id"].to_list() == ["EP-9"]
    assert risks["reason"].item().startswith("due 6 Mar 2026, 5 days ago, 50% done")
    shipped = dashboard.recently_shipped(items, LAST_DAY)
    assert shipped.select("item_id", "completed_date").rows() == [("EP-8", D(2026, 3, 5))]
    markers = dashboard.ship_markers(items, "dau", dashboard.objectives(reader, config), RANGE)
    assert markers.rows() == [(D(2026, 3, 5), "EP-8", "Welcome tour")]


def test_top_risks_order_late_then_off_track_then_at_risk():
    items = pl.DataFrame(
        {
            "item_id": ["a", "b", "c", "d", "o"],
            "title": ["A", "B", "C", "D", "O"],
            "item_type": ["epic", "epic", "epic", "epic", "objective"],
            "owner": [None] * 5,
            "team": [None] * 5,
            "health": ["at_risk", "late", "on_track", "off_track", "late"],
            "due_date": [D(2026, 1, 1)] * 5,
            "reason": [""] * 5,
        }
    )
    assert dashboard.top_risks(items)["item_id"].to_list() == ["b", "d", "a"]


def test_shipped_items_get_their_measured_impact(known):
    reader, config = known
    items = dashboard.items_health(reader, config)
    impact = dashboard.impact_results(reader, config)
    shipped = dashboard.shipped_with_impact(items, impact, LAST_DAY)
    assert shipped["item_id"].to_list() == ["EP-8"]
    assert shipped["status"].item() == impact.filter(pl.col("item_id") == "EP-8")["status"].item()


def test_explore_brings_comparisons_target_and_ships(known):
    reader, config = known
    result = dashboard.explore(reader, config, "dau", RANGE, "day", None, ("previous_period",), (7,), "OBJ-9")
    assert result.series["value"].to_list() == [2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 1.0, 1.0]
    assert result.compared["previous_period_day"].to_list()[0] == D(2026, 2, 20)
    assert result.target["day"].to_list() == result.series["day"].to_list()
    assert result.target["target"][0] == pytest.approx(1 + 2 * 1 / 30)  # one day into the 30-day path
    assert result.rolling["avg_7d"].drop_nulls().to_list()[-1] == pytest.approx(8 / 7)
    assert result.ships["item_id"].to_list() == ["EP-8"]


def test_explore_compares_with_nothing_before_the_first_loaded_day(known):
    """The previous 10 days lie before 2 Mar: no base, no change (not "+1.40 (from 0)"), as on
    the summary's cards. 7-11 Mar against 2-6 Mar: revenue is a real 0 on loaded days, and stays."""
    reader, config = known
    whole = dashboard.explore(reader, config, "dau", RANGE).totals.row(0, named=True)
    assert (whole["value"], whole["base"], whole["change"], whole["change_pct"]) == (
        pytest.approx(MEAN_DAU),
        None,
        None,
        None,
    )
    assert dashboard.versus(whole, "number") == (None, "nothing earlier to compare with")
    (headline_dau,) = dashboard.headline(reader, config, RANGE, ["dau"])
    assert headline_dau.base is None  # the summary's rule: the same answer
    later = dashboard.explore(reader, config, "revenue", Period(D(2026, 3, 7), LAST_DAY)).totals.row(0, named=True)
    assert (later["value"], later["base"]) == (0.0, 0.0)
    assert dashboard.versus(later, "currency") == ("+$0 (from 0)", "$0")


def test_explore_totals_a_funnel_over_final_days_like_the_summary(known):
    """3-11 Mar with the last day 11 Mar: a 7-day funnel's attempts are final up to 4 Mar. The
    totals took the final days inside the range (3-4 Mar: u3's sign-up alone, 0%) under a label
    naming 3-11 Mar, against a whole previous period; they are now of the days ending on 4 Mar
    from the first loaded day, 2 Mar (u1 and u2 converted, u3 did not: 2 of 3), as the summary's
    card. Moved back its whole nine days, they started on 24 Feb, before anything was loaded."""
    reader, config = known
    result = dashboard.explore(reader, config, "activation", Period(D(2026, 3, 3), LAST_DAY))
    assert result.measured == Period(D(2026, 3, 2), D(2026, 3, 4))
    row = result.totals.row(0, named=True)
    assert row["value"] == pytest.approx(2 / 3)
    assert (row["start"], row["end"], row["base"]) == (D(2026, 2, 27), D(2026, 3, 1), None)
    assert any("2 Mar 2026 – 4 Mar 2026" in note for note in result.notes)
    assert dashboard.explore(reader, config, "dau", RANGE).measured == RANGE  # final at once


def test_explore_weekly_sums_skip_a_daily_target(known):
    reader, config = known
    result = dashboard.explore(reader, config, "events", RANGE, "week", None, ("previous_period",), (7,), "OBJ-9")
    assert result.target is None and result.rolling is None
    assert any("target path of OBJ-9 is for dau" in n for n in result.notes)
    assert any("Rolling averages" in n for n in result.notes)


def test_explore_names_an_unknown_metric(known):
    reader, config = known
    with pytest.raises(ValueError, match="nope"):
        dashboard.explore(reader, config, "nope", RANGE)


def test_feedback_answers_segments_and_comments(known):
    reader, config = known
    answers = dashboard.feedback_answers(reader, config, RANGE)
    assert answers.height == 4 and "plan" in answers.columns
    assert dashboard.score_distribution(answers).filter(pl.col("answers") > 0).rows() == [(6, 1), (9, 1), (10, 1)]
    by_plan = dashboard.segment_scores(answers, "plan").sort("plan")
    assert by_plan.rows() == [("free", 2, 100.0), ("pro", 1, -100.0)]
    # Over one segment value for everyone, the score is metrics.nps's.
    everyone = dashboard.segment_scores(answers.with_columns(pl.lit("all").alias("all")), "all")
    assert everyone["nps"].item() == pytest.approx(metrics.nps(reader, RANGE, "period")["nps"].item())
    assert dashboard.search_comments(answers, "SHARING")["comment"].to_list() == [MARKUP_COMMENT]
    assert dashboard.search_comments(answers, "|' /C")["comment"].to_list() == [HOSTILE_COMMENT]  # text, not a pattern
    assert dashboard.search_comments(answers, "", "nps").height == 2  # answers without a comment are left out
    assert dashboard.search_comments(answers, "", "nps")["score"].dtype == pl.Int64  # 8, not 8.0, in its download
    pro, skipped = dashboard.filter_answers(answers, Segment(filters=(("plan", "pro"), ("country", "DE"))))
    assert pro["score"].to_list() == [6.0] and skipped == ["country"]
    # An events dimension named like an answer's own field (a UTM source) is no attribute of the
    # answers: it left every answer out, matched against the survey tool's name (QA).
    kept, skipped = dashboard.filter_answers(answers, Segment(filters=(("source", "google"),)))
    assert kept.height == answers.height and skipped == ["source"]


def test_roadmap_table_links_each_item_to_a_metric(known):
    reader, config = known
    table = dashboard.roadmap_table(dashboard.items_health(reader, config), dashboard.objectives(reader, config))
    assert table.select("item_id", "linked_metric", "progress_pct").sort("item_id").rows() == [
        ("EP-8", "dau", 100.0),
        ("EP-9", "dau", 50.0),
    ]
    assert dashboard.filter_items(table, health=["late"])["item_id"].to_list() == ["EP-9"]
    assert dashboard.options(table, "owner") == ["Ana", "Ben"]


def test_objective_detail(known):
    reader, config = known
    detail = dashboard.objective_detail(reader, config, "OBJ-9")
    assert detail.definition.key == "dau"
    assert detail.series["day"].min() == FIRST_DAY  # four weeks before the start, but not before the data
    assert (detail.target["day"].min(), detail.target["day"].max()) == (D(2026, 3, 1), D(2026, 3, 31))
    assert sorted(detail.items["item_id"].to_list()) == ["EP-8", "EP-9"]
    assert dashboard.objective_detail(reader, config, "OBJ-404").problem == "OBJ-404: no such objective"


def test_small_helpers():
    assert dashboard.default_funnel_steps(["login", "create_report", "signup"]) == ["signup", "create_report"]
    assert dashboard.default_funnel_steps(["a", "b", "c"]) == ["a", "b"]
    assert dashboard.default_features(["login", "create_report", "share_report"], 1) == ["create_report"]
    funnel = pl.DataFrame({"step": [1, 2, 1, 2], "users": [10, 4, 5, 1]})
    conversion = dashboard.funnel_conversion(funnel)
    assert (conversion.started, conversion.converted, conversion.rate) == (15, 5, pytest.approx(1 / 3))
    assert dashboard.funnel_conversion(None).rate is None
    assert dashboard.cohort_count(None) == 0


def test_empty_workspace_models_do_not_raise(tmp_path: Path):
    root = tmp_path / "empty"
    root.mkdir()
    (root / "pmkit.toml").write_text("")
    config = load_config(root)
    with Store(config.store_dir).reader() as reader:
        facts = dashboard.facts(reader, config)
        assert not facts.has_events and facts.days == 0
        assert dashboard.items_health(reader, config).height == 0
        assert dashboard.objective_health(reader, config).height == 0
        assert dashboard.impact_results(reader, config).height == 0
        assert dashboard.coverage(reader, config).height == 0
        assert dashboard.event_names(reader, config) == []


# --- the page cache: one memo per store version --------------------------------------------------


def _same(got: object, want: object) -> bool:
    """Results compared field by field, frames by their values."""
    if isinstance(want, pl.DataFrame):
        return isinstance(got, pl.DataFrame) and got.equals(want)
    if isinstance(want, list | tuple):
        return type(got) is type(want) and len(got) == len(want) and all(map(_same, got, want))
    if isinstance(want, dict):
        return isinstance(got, dict) and got.keys() == want.keys() and all(_same(got[k], want[k]) for k in want)
    if dataclasses.is_dataclass(want):
        return type(got) is type(want) and all(
            _same(getattr(got, f.name), getattr(want, f.name)) for f in dataclasses.fields(want)
        )
    return got == want


def _summary_results(compute) -> list[tuple[str, object]]:
    facts = compute("facts")
    period = dashboard.default_period(facts)
    return [("facts", facts), *((name, compute(name, **kw)) for name, kw in dashboard.summary_requests(facts, period))]


def _evaluations(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    """Every metric series the engine works out (from the kept tables or the rollups): metric,
    period, grain, segment."""
    from pmkit.metrics import series

    done: list[tuple[object, ...]] = []
    stored = series._stored

    def recorded(reader, workspace, definitions, definition, fingerprint, *asked):
        done.append((definition.key, *asked))
        return stored(reader, workspace, definitions, definition, fingerprint, *asked)

    monkeypatch.setattr(series, "_stored", recorded)
    return done


def _opened_readers(monkeypatch: pytest.MonkeyPatch) -> list:
    """Every store reader opened from now on."""
    from pmkit import store as store_module

    opened: list[store_module.Reader] = []
    init = store_module.Reader.__init__

    def recorded(self, *args):
        init(self, *args)
        opened.append(self)

    monkeypatch.setattr(store_module.Reader, "__init__", recorded)
    return opened


def test_page_cache_results_equal_a_fresh_readers_and_share_the_versions_series(tmp_path: Path, monkeypatch):
    """The results the page cache computes on one version share a memo, so a series one result
    worked out is not worked out again for the next."""
    config = load_config(build_known_workspace(tmp_path / "ws"))
    store = Store(config.store_dir)

    def fresh(name: str, **kw):  # a reader (and memo) of its own per result: the oracle
        with store.reader() as reader:
            return dashboard.PAGE_MODELS[name](reader, config, **kw)

    evaluated = _evaluations(monkeypatch)
    want = _summary_results(fresh)
    apart = len(evaluated)
    evaluated.clear()
    cache = dashboard.PageCache()
    got = _summary_results(lambda name, **kw: cache.compute(config, name, **kw))
    assert [name for name, _ in got] == [name for name, _ in want]
    for (name, result), (_, expected) in zip(got, want, strict=True):
        assert _same(result, expected), name
    assert "dau" in {metric for metric, *_ in evaluated}
    assert len(evaluated) == len(set(evaluated)) < apart  # each series once, where apart repeats them


def test_page_cache_after_an_ingest_answers_from_the_new_version(tmp_path: Path):
    """The memo is per version: the same request after an ingest is not answered from the series
    of the version before (the period and metric are the same, the data is not)."""
    root = build_known_workspace(tmp_path / "ws")
    config = load_config(root)
    cache = dashboard.PageCache()
    before = cache.compute(config, "headline", period=RANGE)
    assert before[0].key == "dau" and before[0].value == pytest.approx(MEAN_DAU)
    extra = tmp_path / "more.csv"
    extra.write_text("event_time,user_id,event\n2026-03-05T10:00:00Z,u7,login\n2026-03-06T10:00:00Z,u8,login\n")
    assert [r.status for r in ingest([extra], config)] == ["loaded"]
    after = cache.compute(config, "headline", period=RANGE)
    assert after[0].value == pytest.approx(16 / 10)  # two more user-days over the ten days
    with Store(config.store_dir).reader() as reader:
        assert _same(after, dashboard.headline(reader, config, RANGE))


def test_page_cache_answers_from_the_version_asked_for_after_a_newer_one_is_published(tmp_path: Path):
    """A page run reads the version published as it started (ui.one_version): after an ingest
    publishes the next one, results asked for at the old version are the old version's, and the
    readers of both versions are kept for their page runs."""
    root = build_known_workspace(tmp_path / "ws")
    config = load_config(root)
    store = Store(config.store_dir)
    old = store.current_version()
    cache = dashboard.PageCache()
    assert cache.compute(config, "headline", at_version=old, period=RANGE)[0].value == pytest.approx(MEAN_DAU)
    extra = tmp_path / "more.csv"
    extra.write_text("event_time,user_id,event\n2026-03-05T10:00:00Z,u7,login\n2026-03-06T10:00:00Z,u8,login\n")
    assert [r.status for r in ingest([extra], config)] == ["loaded"]
    assert store.current_version() == old + 1
    facts_then = cache.compute(config, "facts", at_version=old)  # not asked for before the ingest
    assert facts_then.events == cache.compute(config, "facts", at_version=old + 1).events - 2
    assert cache.compute(config, "headline", at_version=old, period=RANGE)[0].value == pytest.approx(MEAN_DAU)
    assert cache.compute(config, "headline", period=RANGE)[0].value == pytest.approx(16 / 10)
    with store.reader(old) as reader:  # the oracle: a reader of the old version
        assert _same(
            cache.compute(config, "items_health", at_version=old, as_of=LAST_DAY),
            dashboard.items_health(reader, config, LAST_DAY),
        )
        assert reader.frame("SELECT count(*) AS n FROM events")["n"][0] == facts_then.events


def test_page_cache_works_out_the_roadmaps_health_once_for_the_objectives_page(tmp_path: Path, monkeypatch):
    """Each objective's detail needs every objective's health, every item's health and every
    shipped item's impact: the page's results share them through the memo (worked out once per
    as-of day and settings) and equal a fresh reader's."""
    from pmkit import impact, objectives, roadmap

    config = load_config(build_known_workspace(tmp_path / "ws"))
    store = Store(config.store_dir)
    as_of = LAST_DAY
    requests = [
        ("objective_health", {"as_of": as_of}),
        *(("objective_detail", {"objective_id": goal, "as_of": as_of}) for goal in ("OBJ-9", "OBJ-404")),
        ("impact_results", {"as_of": as_of}),
    ]

    def fresh(name: str, **kw):  # a reader (and memo) of its own per result: the oracle
        with store.reader() as reader:
            return dashboard.PAGE_MODELS[name](reader, config, **kw)

    want = [fresh(name, **kw) for name, kw in requests]
    worked_out: list[tuple[object, ...]] = []
    for module, name in ((roadmap, "item_health"), (objectives, "objective_health"), (impact, "impact")):
        original = getattr(module, name)

        def counted(*args, _name=name, _original=original, **kwargs):
            # What tells one computation from another: the as-of day, thresholds, impact window.
            told = (*args, *kwargs.values())
            worked_out.append((_name, *(a for a in told if isinstance(a, dt.date | int | roadmap.Thresholds))))
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    cache = dashboard.PageCache()
    got = [cache.compute(config, name, **kw) for name, kw in requests]
    for (name, kw), result, expected in zip(requests, got, want, strict=True):
        assert _same(result, expected), (name, kw)
    assert got[1].items["item_id"].to_list() == ["EP-8", "EP-9"] and got[2].problem == "OBJ-404: no such objective"
    assert {name for name, *_ in worked_out} == {"item_health", "objective_health", "impact"}
    assert len(worked_out) == len(set(worked_out))  # each once: each detail repeated all of them


def test_roadmap_health_remembered_on_a_reader_follows_a_settings_change(tmp_path: Path):
    """One reader asked with other settings (an objective added in pmkit.toml, another impact
    window) answers from those settings, not from what it remembered for the first ones."""
    config = load_config(build_known_workspace(tmp_path / "ws"))
    added = {"title": "Keep people", "metric": "dau", "direction": "increase", "baseline": 1.0, "target": 2.0}
    changed = dataclasses.replace(
        config, objectives={"OBJ-10": added}, values={**config.values, "impact.window_days": 3}
    )
    store = Store(config.store_dir)
    with store.reader() as reader:
        before = dashboard.objective_health(reader, config), dashboard.impact_results(reader, config)
        after = dashboard.objective_health(reader, changed), dashboard.impact_results(reader, changed)
    with store.reader() as reader:
        assert _same(after, (dashboard.objective_health(reader, changed), dashboard.impact_results(reader, changed)))
    assert before[0]["objective_id"].to_list() == ["OBJ-9"]
    assert after[0]["objective_id"].to_list() == ["OBJ-10", "OBJ-9"]
    assert before[1]["verdict"].to_list() != after[1]["verdict"].to_list()


def test_memo_keeps_its_frames_under_its_byte_budget():
    frame = pl.DataFrame({"x": range(1000)}, schema={"x": pl.Int64})  # 8,000 bytes
    memo = Memo(max_bytes=20_000)
    memo["a"], memo["flag"], memo["b"] = frame, True, frame
    assert list(memo) == ["a", "flag", "b"]
    memo["c"] = frame  # 24,000 bytes would be over: the oldest entries go until it fits
    assert list(memo) == ["flag", "b", "c"]
    memo["b"] = frame  # replacing an entry does not count it twice
    assert list(memo) == ["flag", "c", "b"]
    memo["big"] = pl.concat([frame] * 3)  # 24,000 bytes: more than the budget on its own
    assert list(memo) == ["big"] and memo.get("c") is None


def test_page_cache_threads_sharing_an_evicting_memo_get_a_fresh_readers_results(tmp_path: Path):
    """Viewers' sessions compute at once through one cache; with a memo too small to keep a frame
    for long, entries go while other threads read it, and every result is still right."""
    import concurrent.futures

    config = load_config(build_known_workspace(tmp_path / "ws"))
    with Store(config.store_dir).reader() as reader:
        facts = dashboard.facts(reader, config)
        ends = [LAST_DAY - dt.timedelta(days=back) for back in range(4)]
        requests = [
            (name, kw) for end in ends for name, kw in dashboard.summary_requests(facts, Period(FIRST_DAY, end))
        ]
        want = [dashboard.PAGE_MODELS[name](reader, config, **kw) for name, kw in requests]

    class Tight(dashboard.PageCache):
        MEMO_BYTES = 600  # about one small series: nearly every write evicts

    cache = Tight()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda request: cache.compute(config, request[0], **request[1]), requests))
    for (name, kw), result, expected in zip(requests, got, want, strict=True):
        assert _same(result, expected), (name, kw)


def test_page_cache_reuses_its_readers_and_lets_an_old_versions_reader_go(tmp_path: Path, monkeypatch):
    """One reader (a DuckDB instance with the version attached) serves computation after
    computation; after an ingest the next computation opens the new version and the idle reader
    of the old one is closed (its file let go)."""
    import duckdb

    config = load_config(build_known_workspace(tmp_path / "ws"))
    opened = _opened_readers(monkeypatch)
    cache = dashboard.PageCache()
    _summary_results(lambda name, **kw: cache.compute(config, name, **kw))
    assert len(opened) == 1  # the summary's eleven results, one after the other: one reader
    first = opened[0]
    extra = tmp_path / "more.csv"
    extra.write_text("event_time,user_id,event\n2026-03-05T10:00:00Z,u7,login\n")
    assert [r.status for r in ingest([extra], config)] == ["loaded"]
    assert len(opened) == 1  # the ingest's own connections are not readers
    after = cache.compute(config, "headline", period=RANGE)
    assert after[0].value == pytest.approx(15 / 10)
    assert len(opened) == 2 and opened[1].version > first.version
    with pytest.raises(duckdb.ConnectionException):
        first.con.execute("SELECT 1")


def test_page_cache_closes_the_reader_of_a_failed_computation(tmp_path: Path, monkeypatch):
    import duckdb

    config = load_config(build_known_workspace(tmp_path / "ws"))
    opened = _opened_readers(monkeypatch)
    cache = dashboard.PageCache()
    with pytest.raises(ValueError, match="no_such_metric"):
        cache.compute(config, "explore", key="no_such_metric", period=RANGE)
    with pytest.raises(duckdb.ConnectionException):
        opened[0].con.execute("SELECT 1")
    assert cache.compute(config, "headline", period=RANGE)[0].value == pytest.approx(MEAN_DAU)
    assert len(opened) == 2  # a new reader, not the closed one


def test_explore_draws_no_earlier_line_before_the_first_loaded_day(known):
    """2-11 Mar against 20 Feb - 1 Mar: no day of the previous period is loaded, so its line is
    blank, not a row of 0s under the current one. 7-11 Mar against 2-6 Mar: loaded days, drawn
    as they are (revenue is a real 0 there). Weeks: 2 Mar's week against 23 Feb's is blank."""
    reader, config = known
    whole = dashboard.explore(reader, config, "dau", RANGE).compared
    assert whole["previous_period_day"].to_list()[:2] == [D(2026, 2, 20), D(2026, 2, 21)]
    assert whole["previous_period_value"].null_count() == whole.height == 10
    assert whole["previous_period_change"].null_count() == 10
    later = dashboard.explore(reader, config, "dau", Period(D(2026, 3, 7), LAST_DAY)).compared
    assert later["previous_period_value"].to_list() == [2.0, 2.0, 2.0, 1.0, 1.0]  # 2-6 Mar, as in the series above
    revenue = dashboard.explore(reader, config, "revenue", Period(D(2026, 3, 7), LAST_DAY)).compared
    assert revenue["previous_period_value"].null_count() == 0
    weeks = dashboard.explore(reader, config, "events", RANGE, "week").compared
    assert weeks["previous_period_day"].to_list()[0] < FIRST_DAY - dt.timedelta(days=6)
    assert weeks["previous_period_value"].to_list()[0] is None


def test_a_comparison_bucket_ends_with_its_period():
    """Months of a range of 6 months ending 27 Nov, data from 30 May: the previous period ends
    29 May, so its May bucket holds 1-29 May, none of it loaded (it was drawn as one 0 under
    "Previous period (1 May 2026 - 1 May 2026)"). The same bucket of a period ending 31 May
    holds 30 and 31 May and keeps its value."""
    frame = pl.DataFrame(
        {
            "day": [D(2026, 11, 1)],
            "value": [5.0],
            "previous_period_day": [D(2026, 5, 1)],
            "previous_period_value": [0.0],
        }
    )
    six_months = Period(D(2026, 5, 30), D(2026, 11, 27))
    blank = dashboard.blank_before_data(frame, ["previous_period"], "month", D(2026, 5, 30), six_months)
    assert blank["previous_period_value"].to_list() == [None]
    later = Period(D(2026, 6, 1), D(2026, 11, 27))  # the previous period ends 31 May
    kept = dashboard.blank_before_data(frame, ["previous_period"], "month", D(2026, 5, 30), later)
    assert kept["previous_period_value"].to_list() == [0.0]


def test_a_one_day_range_asks_for_a_wider_range_not_a_finer_grain(known):
    reader, config = known
    notes = dashboard.explore(reader, config, "dau", Period(LAST_DAY, LAST_DAY)).notes
    assert "Too few points for a trend: widen the date range." in notes
    weekly = dashboard.explore(reader, config, "dau", RANGE, "month").notes
    assert "Too few points for a trend: widen the date range or pick a finer granularity." in weekly


def test_free_text_longer_than_a_label_is_not_offered_as_a_filter(tmp_path):
    """A 30 MB note in one cell became a filter value sent to every page; now a value of more
    than 200 characters is left out, the short ones stay, most events first."""
    long_note = "x" * 201
    path = tmp_path / "notes.csv"
    path.write_text(
        "event_time,user_id,event,note\n"
        f"2026-03-01T10:00:00Z,u1,a,{long_note}\n2026-03-01T11:00:00Z,u2,a,short\n2026-03-01T12:00:00Z,u3,a,short\n"
        f"2026-03-01T13:00:00Z,u4,a,{'y' * 200}\n"
    )
    config = load_config(tmp_path / "ws")
    ingest([path], config)
    with Store(config.store_dir).reader() as reader:
        assert dashboard.dimension_values(reader, config, "note") == ["short", "y" * 200]


def test_the_chart_names_the_days_its_comparison_lines_cover(known):
    """At a week grain the line's points are on the weeks' Mondays: the legend named those
    ("28 Sep - 26 Oct") for a period of 3 - 30 Oct. The explorer now says the period, from the
    first loaded day; nothing when none of it is loaded."""
    reader, config = known
    weeks = dashboard.explore(reader, config, "dau", Period(D(2026, 3, 7), LAST_DAY), "week")
    assert weeks.compared_periods == {"previous_period": Period(D(2026, 3, 2), D(2026, 3, 6))}
    partly = dashboard.explore(reader, config, "dau", Period(D(2026, 3, 5), LAST_DAY))
    assert partly.compared_periods == {"previous_period": Period(FIRST_DAY, D(2026, 3, 4))}
    assert dashboard.explore(reader, config, "dau", RANGE).compared_periods == {}


def test_events_dated_after_today_stay_out_of_sight(tmp_path, monkeypatch):
    """One event two months ahead beside last week's: the pages still end today, and the Data
    page says the later events exist. (Not 2099: the daily tables would span 73 years.)"""
    from tests.test_pages import open_page, texts

    today = dt.datetime.now(dt.UTC).date()
    week_ago = today - dt.timedelta(days=7)
    later = today + dt.timedelta(days=60)
    path = tmp_path / "clock.csv"
    path.write_text(
        "event_time,user_id,event\n"
        f"{week_ago}T10:00:00Z,u1,login\n{week_ago}T11:00:00Z,u2,login\n{later}T10:00:00Z,u3,login\n"
    )
    config = load_config(tmp_path / "ws")
    ingest([path], config)
    with Store(config.store_dir).reader() as reader:
        workspace = metrics.base.workspace_of(reader)
        assert (workspace.first_day, workspace.last_day) == (week_ago, today)
        facts = dashboard.facts(reader, config)
        assert (facts.last_day, facts.future_until) == (today, later)
        # The captions count what the pages show: 2 events of 2 users, not 3 of 3.
        assert facts.source().startswith(
            f"Source: 2 events from 2 users, {format_date(week_ago)} to {format_date(today)} (UTC days), "
            "and 1 dated after today, not shown;"
        )
        (dau,) = dashboard.headline(reader, config, Period(week_ago, today), ["dau"])
        # 2 users on 1 of the 7 whole days (today, not over, is left out); the later event is not in it.
        assert dau.value == pytest.approx(2 / 7)
    at = open_page(monkeypatch, tmp_path / "ws", "data")
    assert any(f"Some events are dated after today, up to {format_date(later)}" in w for w in texts(at.warning))


def test_events_all_dated_after_today_are_shown_and_said(tmp_path, monkeypatch):
    """Nothing up to today: the pages show the events as they are, and now say so (nothing did)."""
    from tests.test_pages import open_page, texts

    first = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=5)
    path = tmp_path / "ahead.csv"
    path.write_text(f"event_time,user_id,event\n{first}T10:00:00Z,u1,login\n{first}T11:00:00Z,u2,login\n")
    config = load_config(tmp_path / "ws")
    ingest([path], config)
    with Store(config.store_dir).reader() as reader:
        facts = dashboard.facts(reader, config)
    assert (facts.last_day, facts.future_until, facts.all_future) == (first, None, True)
    assert "2 events from 2 users" in facts.source() and "all dated after today" in facts.source()
    at = open_page(monkeypatch, tmp_path / "ws", "data")
    assert any("Every event is dated after today" in w for w in texts(at.warning))


def test_distinct_users_by_week_say_their_count_is_partial(tmp_path):
    """Review: a week the range cuts said "its sum is partial" for a metric of distinct users,
    which is counted once over the week's days, not summed."""
    data = ingested(
        tmp_path,
        {"events.csv": EVENTS},
        '[workspace]\ntimezone = "UTC"\n\n[metrics.actives]\nname = "Actives"\ntype = "unique_users"\n'
        'events = ["login"]\n',
    )
    with Store(load_config(data).store_dir).reader() as reader:
        result = dashboard.explore(reader, load_config(data), "actives", RANGE, "week")
    assert (
        "The last week (to 11 Mar 2026) holds only the range's days: its count is partial (ringed), not a drop or "
        "a rise." in result.notes
    )


def test_a_sum_by_week_names_the_partial_weeks_at_the_range_ends(known):
    """2-11 Mar by week: 2 Mar is a Monday, 11 Mar a Wednesday: the last week is cut."""
    reader, config = known
    result = dashboard.explore(reader, config, "events", RANGE, "week")
    assert (
        "The last week (to 11 Mar 2026) holds only the range's days: its sum is partial (ringed), not a drop or a rise."
        in result.notes
    )
    # The chart rings that week's point (9 Mar: 4 events in 9-11 Mar), not the whole 2-8 Mar.
    assert result.partial == {D(2026, 3, 9): "Last week (to 11 Mar 2026): only the range's days"}
    figure = charts.metric_trend(result.series, name="Events", partial=result.partial)
    ringed = [t for t in figure.data if t.name == "Partial (only the range's days)"]
    assert [(list(t.x), list(t.y)) for t in ringed] == [([D(2026, 3, 9)], [4.0])]
    level = dashboard.explore(reader, config, "dau", RANGE, "week")
    assert not [n for n in level.notes if "partial" in n] and level.partial == {}


def test_rolling_averages_and_anomalies_start_with_the_loaded_days(known):
    """Days before 2 Mar were read as zeros: a 7-day average of 2/7 on 2 Mar and every early day
    flagged against a weekday history of 0s (QA). DAU 2,2,2,1,1,1,1 -> 10/7 on 8 Mar, the first
    day with 7 loaded days; no day has the 4 earlier same weekdays an anomaly needs."""
    reader, config = known
    result = dashboard.explore(reader, config, "dau", RANGE, "day", against=(), windows=(7,))
    averages = dict(zip(result.rolling["day"], result.rolling["avg_7d"], strict=True))
    assert [averages[D(2026, 3, day)] for day in range(2, 8)] == [None] * 6
    assert averages[D(2026, 3, 8)] == pytest.approx(10 / 7)
    assert not result.anomalies["anomaly"].fill_null(False).any()
    assert result.anomalies.filter(pl.col("day") == D(2026, 3, 2))["expected"].item() is None


@pytest.fixture(scope="module")
def one_a_day(tmp_path_factory: pytest.TempPathFactory):
    """One event a day, 1 Jan - 31 Mar 2026: every bucket's sum is its number of days."""
    root = tmp_path_factory.mktemp("one_a_day")
    events = root / "daily.csv"
    start = D(2026, 1, 1)
    events.write_text(
        "event_time,user_id,event\n" + "".join(f"{start + dt.timedelta(days=k)}T10:00:00Z,a,login\n" for k in range(90))
    )
    config = load_config(root / "ws")
    ingest([events], config)
    return config


def test_week_buckets_are_compared_with_their_own_days_moved_back(one_a_day):
    """2 - 31 Mar by week against the previous 30 days. The earlier period's own weeks, matched
    by position, set the week of 2 Mar (7 events) against 31 Jan - 1 Feb (2) and drew +250% on
    a constant series (QA). Each bucket now meets its own days 30 days back: 7 against 7, and
    the cut last week (30 - 31 Mar) 2 against 2."""
    config = one_a_day
    with Store(config.store_dir).reader() as reader:
        result = dashboard.explore(
            reader, config, "events", Period(D(2026, 3, 2), D(2026, 3, 31)), "week", against=("previous_period",)
        )
    compared = result.compared.sort("day")
    assert compared["value"].to_list() == [7.0, 7.0, 7.0, 7.0, 2.0]
    assert compared["previous_period_value"].to_list() == [7.0, 7.0, 7.0, 7.0, 2.0]
    assert compared["previous_period_day"].to_list()[0] == D(2026, 1, 31)  # 2 Mar - 30 days


def test_month_buckets_and_whole_week_shifts_meet_the_same_days(one_a_day):
    """By month, 31 Jan - 28 Feb against the 29 days before (2 - 30 Jan): January's bucket here
    is 31 Jan alone (1 event) and meets 2 Jan alone; February's 28 days meet 3 - 30 Jan. The
    week before (whole weeks back) gives the same as moving each bucket's days by 7."""
    config = one_a_day
    period = Period(D(2026, 1, 31), D(2026, 2, 28))
    with Store(config.store_dir).reader() as reader:
        months = dashboard.explore(reader, config, "events", period, "month", against=("previous_period",)).compared
        weeks = dashboard.explore(reader, config, "events", period, "week", against=("previous_week",)).compared
    assert months.sort("day").select("value", "previous_period_value").rows() == [(1.0, 1.0), (28.0, 28.0)]
    assert months.sort("day")["previous_period_day"].to_list() == [D(2026, 1, 2), D(2026, 1, 3)]
    assert weeks.sort("day")["previous_week_value"].to_list() == weeks.sort("day")["value"].to_list()


def test_a_cut_weeks_comparison_wholly_before_the_data_is_blank(one_a_day):
    """10 - 23 Jan by week against the 14 days before: the first bucket (Sat 10 - Sun 11 Jan) meets
    27 - 28 Dec, before the first loaded day, so it is blank; guessing its end as a whole week
    from 27 Dec (2 Jan) kept a 0 drawn as no activity."""
    config = one_a_day
    with Store(config.store_dir).reader() as reader:
        compared = dashboard.explore(
            reader, config, "events", Period(D(2026, 1, 10), D(2026, 1, 23)), "week", against=("previous_period",)
        ).compared.sort("day")
    assert compared["previous_period_end"].to_list()[0] == D(2025, 12, 28)
    assert compared["previous_period_value"].to_list() == [None, 4.0, 5.0]  # 1 - 4 Jan loaded; 5 - 9 Jan


def test_an_nps_of_a_half_point_rounds_away_from_zero_as_its_chart_does():
    # 8 answers: 3 promoters, 2 detractors -> +12.5, shown +12 on the card (halves to even) and
    # 13 in the chart's hover (QA).
    score = dashboard.SurveyScore("nps", 12.5, -12.5, 8, 8)
    assert (score.value_text, score.change_text) == ("+13", "+25 pts")
    assert dashboard.SurveyScore("nps", -12.5, 0.0, 8, 8).value_text == "-13"


def test_an_items_history_stops_at_the_pages_as_of_day(tmp_path: Path):
    """The roadmap page judges an item as of its range's end; its burn-up and due-date charts went
    on to the snapshots after it (roadmap QA). E1: 1 of 4 points done on 10-08, 3 on 10-15."""
    config = load_config(tmp_path / "ws")
    header = "item_id,title,parent_id,status_category,due_date,estimate\n"
    for day, done, due in (("2026-10-08", 1, "2026-10-31"), ("2026-10-15", 3, "2026-11-07")):
        rows = [f"E1,Epic,,in_progress,{due},\n"]
        rows += [f"S{k},Story,E1,{'done' if k <= done else 'todo'},,1\n" for k in range(1, 5)]
        (tmp_path / f"roadmap_{day}.csv").write_text(header + "".join(rows))
        ingest([tmp_path / f"roadmap_{day}.csv"], config)
    reader = Store(config.store_dir).reader()
    burn, slip = dashboard.item_history(reader, config, "E1", as_of=dt.date(2026, 10, 14))
    assert burn.rows() == [(dt.date(2026, 10, 8), 1.0, 4.0, "points")]
    assert slip["slip_days"].to_list() == [0]
    burn, slip = dashboard.item_history(reader, config, "E1")
    assert burn["done"].to_list() == [1.0, 3.0] and slip["slip_days"].to_list() == [0, 7]


def objective_o1_detail(tmp_path: Path, metric_table: str, metric: str, events: str, as_of: dt.date):
    """``objective_detail`` of O1 (on ``metric``) in a workspace of one pmkit.toml metric table."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pmkit.toml").write_text(
        metric_table + f'[objectives.O1]\ntitle = "Goal"\nmetric = "{metric}"\nbaseline = 0.2\ntarget = 0.4\n'
        'start_date = 2026-03-01\ntarget_date = 2026-06-30\ndirection = "increase"\n'
    )
    path = tmp_path / "events.csv"
    path.write_text("event_time,user_id,event\n" + events)
    config = load_config(root)
    assert ingest([path], config)[0].status == "loaded"
    with Store(config.store_dir).reader() as reader:
        return dashboard.objective_detail(reader, config, "O1", as_of)


def test_an_objective_on_a_metric_left_out_for_a_problem_names_the_problem(tmp_path: Path) -> None:
    """[metrics.halfday] with window_days = 0.5: the objective's page said "metric 'halfday' is
    not defined ... define it in pmkit.toml" under the table's own problem (QA)."""
    table = '[metrics.halfday]\ntype = "funnel"\nname = "Half day"\nsteps = ["signup", "login"]\nwindow_days = 0.5\n'
    events = "2026-03-01T09:00:00Z,a,signup\n2026-03-01T10:00:00Z,a,login\n"
    detail = objective_o1_detail(tmp_path, table, "halfday", events, dt.date(2026, 3, 1))
    assert detail.problem.startswith("pmkit.toml metrics.halfday: ")
    assert "not defined" not in detail.problem


def test_an_objective_on_a_built_in_beside_a_broken_table_of_its_name_keeps_its_chart(tmp_path: Path) -> None:
    """[metrics.dau] is refused (a built-in's key), and the built-in DAU stays: its objective's
    chart was dropped for the table's problem (review)."""
    table = '[metrics.dau]\ntype = "count"\nname = "Mine"\nevents = ["login"]\n'
    events = "2026-03-01T09:00:00Z,a,login\n2026-03-02T09:00:00Z,b,login\n"
    detail = objective_o1_detail(tmp_path, table, "dau", events, dt.date(2026, 3, 2))
    assert detail.definition is not None and detail.definition.key == "dau"
    assert detail.series.height == 2


def test_an_objectives_chart_ends_on_the_last_day_with_events(tmp_path: Path) -> None:
    """Events on 1-2 Mar, the page judged as of 3 Mar (a roadmap snapshot of that day): the
    chart's series ran to 3 Mar and drew it as 0 (QA). DAU 1 and 1, and no third day."""
    table = ""
    events = "2026-03-01T09:00:00Z,a,login\n2026-03-02T09:00:00Z,b,login\n"
    detail = objective_o1_detail(tmp_path, table, "dau", events, dt.date(2026, 3, 3))
    assert detail.series["day"].to_list() == [D(2026, 3, 1), D(2026, 3, 2)]
    assert detail.series["value"].to_list() == [1, 1]
    assert detail.rolling["day"].max() == D(2026, 3, 2)


def test_top_risks_takes_a_limit_or_none_for_all() -> None:
    """Seven items at risk: the summary shows the five most urgent and says of how many (the
    report listed seven where the page showed five without a word; hosted QA)."""
    from pmkit.roadmap import ITEM_HEALTH_COLUMNS

    healths = ["late", "off_track", "off_track", "at_risk", "at_risk", "at_risk", "at_risk", "on_track"]
    items = pl.DataFrame(
        [{"item_id": f"I{n}", "health": h, "due_date": D(2026, 3, 1 + n)} for n, h in enumerate(healths)],
        schema={c: ITEM_HEALTH_COLUMNS[c] for c in ("item_id", "health", "due_date")},
    )
    items = items.with_columns(
        *[pl.lit(None, dtype=ITEM_HEALTH_COLUMNS[c]).alias(c) for c in ITEM_HEALTH_COLUMNS if c not in items.columns]
    )
    assert dashboard.top_risks(items)["item_id"].to_list() == ["I0", "I1", "I2", "I3", "I4"]
    assert dashboard.top_risks(items, None).height == 7


def test_answers_are_put_in_days_by_the_zone_nps_counts_them_in(tmp_path: Path) -> None:
    """Loaded in New York, then pmkit.toml says UTC before any ingest (a rebuild pending): the
    NPS card counted 2-3 Nov in New York days and the answers' table in UTC days (QA). An answer
    at 2026-11-03T03:00Z is 2 Nov in New York, 3 Nov in UTC; one at 2026-11-04T03:00Z is 3 Nov in
    New York: over 2-3 Nov both are in, by New York days, everywhere."""
    root = ingested(
        tmp_path,
        {
            "events.csv": "event_time,user_id,event\n2026-11-02T15:00:00Z,a,login\n",
            "feedback.csv": "submitted_at,user_id,score,scale\n2026-11-03T03:00:00Z,a,10,nps\n"
            "2026-11-04T03:00:00Z,b,0,nps\n",
        },
        toml='[workspace]\ntimezone = "America/New_York"\n',
    )
    (root / "pmkit.toml").write_text('[workspace]\ntimezone = "UTC"\n')
    config = load_config(root)
    period = Period(D(2026, 11, 2), D(2026, 11, 3))
    with Store(config.store_dir).reader() as reader:
        card = dashboard.survey_score(reader, config, period, "nps")
        table = dashboard.feedback_answers(reader, config, period)
        facts = dashboard.facts(reader, config)
    assert facts.rebuild_pending
    assert card.responses == table.height == 2
    assert sorted(table["day"].to_list()) == [D(2026, 11, 2), D(2026, 11, 3)]
    assert (facts.answers_first_day, facts.answers_last_day) == (D(2026, 11, 2), D(2026, 11, 3))


def test_today_while_it_lasts_is_left_out_of_changes_objectives_and_anomalies(tmp_path: Path) -> None:
    """Three users a day for 60 days to yesterday, then this morning's export: one user so far
    today. Counted as a whole day, a flat DAU "fell" (3 over 27 days and 1 today: 2.93), a
    "stay above 2.9" objective went at risk and today was flagged as a fall (QA). Judged to
    yesterday, DAU is 3 against 3, the objective holds, and today is no anomaly; the chart
    still shows today's 1."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pmkit.toml").write_text(
        '[workspace]\ntimezone = "UTC"\n\n[objectives.O1]\nmetric = "dau"\ntarget = 2.9\n'
        'target_date = 2099-12-31\ndirection = "stay_above"\n'
    )
    today = dt.datetime.now(dt.UTC).date()
    days = [today - dt.timedelta(days=n) for n in range(60, 0, -1)]
    lines = ["event_time,user_id,event\n"]
    lines += [f"{day}T12:00:00Z,u{n},login\n" for day in days for n in range(3)]
    lines.append(f"{today}T00:05:00Z,u0,login\n")
    events = tmp_path / "events.csv"
    events.write_text("".join(lines))
    config = load_config(root)
    assert ingest([events], config)[0].status == "loaded"
    yesterday = today - dt.timedelta(days=1)
    with Store(config.store_dir).reader() as reader:
        assert workspace_of(reader).final_day == yesterday
        (dau,) = dashboard.headline(reader, config, Period.last(28, today), ["dau"])
        goal = objectives_health_row(reader, config, today)
        explored = dashboard.explore(reader, config, "dau", Period.last(28, today))
    assert dau.period == Period.last(28, yesterday)
    assert (dau.value, dau.base) == (3.0, 3.0)
    assert f"today ({format_date(today)}) is not over" in dau.note
    assert goal["current_through"] == yesterday and goal["current_value"] == 3.0
    assert goal["outcome_health"] == "on_track"
    assert explored.series.filter(pl.col("day") == today)["value"].to_list() == [1]
    assert explored.anomalies.filter(pl.col("day") == today).height == 0


@pytest.mark.parametrize("kept", [True, False], ids=["kept series", "live"])
def test_a_funnel_day_whose_window_ends_today_waits_for_today_to_be_over(utc_events, kept, monkeypatch):
    """Two sign-ups 7 days ago, one bought at once; this morning's export. The other has until
    noon today to buy: the explorer drew that day at 50% and said the last 7 days stay blank
    (QA: it read 100% once today's purchase came). Its window ends today, not over: it is blank,
    in the series kept at ingest and computed live alike; the day before is final."""
    from pmkit.metrics import materialized

    if not kept:
        monkeypatch.setattr(materialized, "usable_as_of", lambda *args: False)
    today = dt.datetime.now(dt.UTC).date()
    week_ago, before = today - dt.timedelta(days=7), today - dt.timedelta(days=8)
    lines = [
        "event_time,user_id,event\n",
        f"{today - dt.timedelta(days=10)}T09:00:00Z,a,login\n",
        f"{before}T09:00:00Z,b,signup\n",
        f"{before}T09:10:00Z,b,purchase\n",
        f"{week_ago}T10:00:00Z,u1,signup\n",
        f"{week_ago}T10:10:00Z,u1,purchase\n",
        f"{week_ago}T12:00:00Z,u2,signup\n",
        f"{today}T00:05:00Z,a,login\n",
    ]
    root = utc_events(lines, '[metrics.bought]\ntype = "funnel"\nsteps = ["signup", "purchase"]\nwindow_days = 7\n')
    config = load_config(root)
    with Store(config.store_dir).reader() as reader:
        explored = dashboard.explore(reader, config, "bought", Period(today - dt.timedelta(days=10), today))
    values = dict(explored.series.select("day", "value").iter_rows())
    assert values[before] == 1.0
    assert values[week_ago] is None
    # The 7 days of its window and today (review: "the last 7 days" of 8 blank ones).
    assert "The last 8 days stay blank until they are final" in " ".join(explored.notes)


def objectives_health_row(reader: object, config: object, as_of: dt.date) -> dict:
    from pmkit.objectives import objective_health

    return objective_health(reader, config, dashboard.items_health(reader, config, as_of), as_of).row(0, named=True)


def test_cached_results_and_memos_roll_over_at_the_workspaces_midnight(tmp_path: Path) -> None:
    """Results are kept per store version and settings. Whether the last day is whole depends
    on the date: a server left running past midnight kept judging to the day before yesterday
    until the next publish (review). Today's date in the workspace's zone is part of the key."""
    from pmkit.config import workspace_today

    root = tmp_path / "ws"
    root.mkdir()
    (root / "pmkit.toml").write_text('[workspace]\ntimezone = "Pacific/Kiritimati"\n')
    config = load_config(root)
    key = json.loads(dashboard.settings_key(config))
    assert workspace_today("Pacific/Kiritimati").isoformat() in key
    assert dashboard.PageCache()._key(config, "facts", {}, 7)[2] == dashboard.settings_key(config)


def test_one_snapshot_date_of_several_tools_reads_as_one_snapshot():
    """A pmkit CSV whose rows name two tools (its source column) read as two snapshots of one
    date, "Jira 20 Aug 2026, pmkit 20 Aug 2026", and would warn twice (review)."""
    items = pl.DataFrame({"source": ["pmkit", "jira"], "snapshot_date": [dt.date(2026, 8, 20)] * 2})
    assert dashboard.snapshot_caption(items, dt.date(2026, 11, 28)) == (
        "Health as of 28 Nov 2026, from the latest snapshot on or before it (20 Aug 2026)."
    )
    assert len(dashboard.stale_snapshots(items, dt.date(2026, 11, 28), dt.date(2026, 8, 20))) == 1


def one_objective_on_march(tmp_path: Path, row: str) -> dashboard.ObjectiveDetail:
    """The detail of the objective ``row`` (objectives.csv) as of 20 Mar, over one new user a
    day from 1 Mar (DAU 1)."""
    events = tmp_path / "events.csv"
    events.write_text(
        "event_time,user_id,event\n" + "".join(f"2026-03-{d:02d}T09:00:00Z,u{d},login\n" for d in range(1, 21))
    )
    goals = tmp_path / "objectives.csv"
    goals.write_text("objective_id,title,metric,baseline,target,start_date,target_date,direction,owner\n" + row + "\n")
    config = load_config(tmp_path / "ws")
    assert [r.status for r in ingest([events, goals], config)] == ["loaded"] * 2
    with Store(config.store_dir).reader() as reader:
        return dashboard.objective_detail(reader, config, row.split(",")[0], dt.date(2026, 3, 20))


def test_a_held_objective_without_a_start_gets_its_line(tmp_path):
    """Keep DAU above 15 by 31 Dec, no start date: the Objectives page drew no target line
    under a caption naming one (the report draws it from the day judged; QA)."""
    detail = one_objective_on_march(tmp_path, "O3,Hold,dau,,15,,2026-12-31,stay_above,")
    assert detail.target is not None and detail.target["target"].unique().to_list() == [15.0]
    assert detail.target["day"].min() == dt.date(2026, 3, 20)


def test_an_objective_starting_after_the_data_still_shows_its_metric(tmp_path):
    """Events through 20 Mar, an objective starting 1 May: the chart began 28 days before the
    start, after the data, and drew the path alone (QA). It shows the data's last 28 days."""
    detail = one_objective_on_march(tmp_path, "O6,Later,dau,1,3,2026-05-01,2026-12-31,increase,")
    assert detail.rolling is not None and detail.rolling["value_7d"].drop_nulls().len() >= 14
    assert detail.series["day"].max() == dt.date(2026, 3, 20)


def test_the_explorer_draws_the_path_of_a_pmkit_toml_objective_and_one_without_a_baseline(tmp_path):
    """A link to a pmkit.toml objective's target path drew none (the explorer knew the CSV's
    objectives alone), and a CSV objective without a baseline said it needed one, where the
    Objectives page takes it from the data (QA). DAU is 3 a day from 1 Mar: both paths start at 3."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pmkit.toml").write_text(
        '[workspace]\ntimezone = "UTC"\n\n[objectives.T1]\ntitle = "Grow"\nmetric = "dau"\nbaseline = 3\n'
        'target = 6\nstart_date = 2026-03-10\ntarget_date = 2026-04-10\ndirection = "increase"\n'
    )
    events = tmp_path / "events.csv"
    events.write_text(
        "event_time,user_id,event\n"
        + "".join(f"2026-03-{d:02d}T09:00:00Z,u{n},login\n" for d in range(1, 21) for n in range(3))
    )
    goals = tmp_path / "objectives.csv"
    goals.write_text(
        "objective_id,title,metric,baseline,target,start_date,target_date,direction,owner\n"
        "C1,Grow too,dau,,6,2026-03-10,2026-04-10,increase,\n"
    )
    config = load_config(root)
    assert [r.status for r in ingest([events, goals], config)] == ["loaded"] * 2
    period = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 20))
    with Store(config.store_dir).reader() as reader:
        assert set(dashboard.objectives(reader, config)["objective_id"]) == {"T1", "C1"}
        for objective in ("T1", "C1"):
            found = dashboard.explore(reader, config, "dau", period, objective_id=objective)
            assert found.target is not None, (objective, found.notes)
            assert found.target.filter(pl.col("day") == dt.date(2026, 3, 10))["target"].item() == pytest.approx(3.0)


def test_a_funnel_settles_a_day_later_across_a_short_day():
    """New York's 9 Mar 2025 has 23 hours: a 1-day window from 8 Mar 23:30 ends on 10 Mar. The
    Funnels page's "can still convert" and the cards' settled periods took 8 Mar as final with 9
    Mar the last day (QA, the series' rule; metrics.base.final_funnel_day)."""
    activation = MetricDefinition("act", "funnel", "Act", window_days=1)
    week = Period(dt.date(2025, 3, 3), dt.date(2025, 3, 9))
    last = dt.date(2025, 3, 9)
    assert dashboard.unsettled_from(week, last, 1, "America/New_York") == dt.date(2025, 3, 8)
    assert dashboard.unsettled_from(week, last, 1, "UTC") == dt.date(2025, 3, 9)
    assert dashboard.settled_period(activation, week, last, timezone="America/New_York").end == dt.date(2025, 3, 7)
    assert dashboard.settled_period(activation, week, last, timezone="UTC").end == dt.date(2025, 3, 8)
    autumn = Period(dt.date(2025, 10, 27), dt.date(2025, 11, 2))  # 2 Nov has 25 hours: no day more
    assert dashboard.unsettled_from(autumn, dt.date(2025, 11, 2), 1, "America/New_York") == dt.date(2025, 11, 2)


def test_a_comparison_week_partly_before_the_data_is_valued_over_its_loaded_days(workspace):
    """One user active every day from 1 to 26 Nov: DAU is 1 on each loaded day. 10-26 Nov by
    week against the 17 days before, loaded from 1 Nov: the week compared with 16-22 Nov (the 3rd
    week back, 30 Oct - 5 Nov) read 0.714, 5 loaded days of 7 averaged with 2 days of no data as
    0 (QA). It is 1.0 over its loaded days; a sum over such a week is said to be partial."""
    workspace.load_events([(f"2026-11-{d:02d}T12:00Z", "u1", "login") for d in range(1, 27)])
    reader, config = workspace.reader(), load_config(workspace.root)
    days = Period(D(2026, 11, 10), D(2026, 11, 26))
    for grain in ("week", "month"):
        compared = dashboard.explore(reader, config, "dau", days, grain).compared
        assert compared["previous_period_value"].drop_nulls().to_list() == [1.0] * len(
            compared["previous_period_value"].drop_nulls()
        ), grain
        assert compared["previous_period_value"].drop_nulls().len() >= 1, grain
    events = dashboard.explore(reader, config, "events", days, "month")
    assert events.compared["previous_period_value"].to_list() == [9.0]  # 1-9 Nov, all it holds
    assert (
        "Previous period: its month of 1 Nov 2026, the first loaded day, holds only the days from it: its sum is partial."
        in events.notes
    ), events.notes


def test_the_days_left_out_are_counted_across_a_short_day():
    """A 7-day funnel's last 8 days are left out across New York's 9 Mar 2025 (23 hours): the
    words said 7, and a range of those 8 days read "No Activation data" (review)."""
    funnel = MetricDefinition("activation", "funnel", "Activation", window_days=7)
    last = dt.date(2025, 3, 14)
    assert dashboard.settling_lag(funnel, last, "America/New_York") == 8
    assert dashboard.settling_lag(funnel, last, "UTC") == 7
    eight = Period(dt.date(2025, 3, 7), last)
    assert dashboard.no_values_text(funnel, eight, last, timezone="America/New_York").startswith(
        "The last 8 days of Activation are not final yet"
    )
    assert dashboard.no_values_text(funnel, eight, last) == "No Activation data for this selection"
