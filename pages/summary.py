"""Executive summary: the objectives' metrics, their health, the roadmap's risks and wins, NPS."""

import streamlit as st

from pmkit import charts, dashboard, ui
from pmkit.formatting import format_date, format_days

cfg = ui.config()
facts = ui.facts(cfg)
st.title("Executive summary")
ui.demo_banner(cfg)
period = ui.period_picker(cfg, facts)
ui.segment_picker(cfg, facts, applies=False)
if period is None:
    # A roadmap loaded before any events: its risks and what shipped are still shown (the page
    # said only "No events are loaded yet" where the report listed five items needing attention).
    if facts is None or facts.last_snapshot is None:
        ui.no_events(cfg)
    ui.no_events(cfg, stop=False)
    as_of = facts.last_snapshot
    st.caption(ui.safe_text(f"The roadmap below is as of its latest snapshot, {format_date(as_of)}."))
    items = ui.compute(cfg, "items_health", as_of=as_of)
else:
    as_of = dashboard.roadmap_day(facts, period.end)
    items = ui.compute(cfg, "items_health", as_of=as_of)
    if as_of != period.end:
        st.caption(
            ui.safe_text(
                f"The roadmap is judged as of its latest snapshot, {format_date(as_of)}, after the last event day."
            )
        )

    cards = ui.compute(cfg, "scorecards", period=period, as_of=as_of) or []
    headline = ui.compute(cfg, "headline", period=period) or []
    survey = ui.compute(cfg, "survey_score", period=period, whole_days_only=True)

    st.subheader("In short")
    sentences = dashboard.narrative(cards, items, survey, period=period)
    st.markdown("\n".join(f"- {ui.safe_text(s)}" for s in sentences) or "Nothing to report for this range.")
    # The days before only partly loaded: the cards claim no change, and the caption said they
    # compare (QA).
    no_base = dashboard.why_no_base(period.previous(), facts.first_day)
    # Survey answers loaded before the range give the NPS card its change: the caption said
    # nothing was loaded before beside "+150 pts" (QA). The report says the same words.
    answers_before = facts.answers_first_day is not None and facts.answers_first_day < period.start
    of_events = " for the metrics of events" if answers_before else ""
    compared = (
        f"Periods are compared with the {format_days(period.days)} before."
        if no_base is None
        else f"No event is loaded before this range, so no change is claimed{of_events}."
        if answers_before and period.start <= facts.first_day
        else "Nothing is loaded before this range, so no change is claimed."
        if period.start <= facts.first_day
        else f"The {format_days(period.days)} before are {no_base}, so no change is claimed{of_events}."
    )
    st.caption(f"{ui.safe_text(facts.source())} {compared}")

    st.subheader("Objectives")
    if not cards:
        ui.empty(
            "No objectives with a known metric yet. Load objectives.csv, or add [objectives.ID] tables to pmkit.toml."
        )
    for row in range(0, len(cards), 4):
        for column, card in zip(st.columns(4), cards[row : row + 4], strict=False):
            with column:
                ui.scorecard(card, link=True)

    st.subheader("Product at a glance")
    columns = st.columns(len(headline) + 1)
    for column, card in zip(columns, headline, strict=False):
        with column:
            ui.scorecard(card)
    with columns[-1]:
        ui.survey_card(survey, period_days=period.days)

goals = ui.compute(cfg, "objective_health", as_of=as_of)
if goals is not None and goals.height:
    st.subheader("Outcome beside delivery")
    st.caption(
        "Outcome: is the metric on the path to its target? Delivery: how are the roadmap items meant to move it?"
    )
    for goal in goals.iter_rows(named=True):
        with st.container(border=True):
            title, outcome, delivery = st.columns([2, 3, 3])
            title.markdown(f"**{ui.safe_text(goal['title'] or goal['objective_id'])}**")
            title.caption(ui.safe_text(f"{goal['objective_id']} · {goal['owner'] or 'no owner'}"))
            outcome.markdown(f"{ui.health_badge(goal['outcome_health'])} outcome")
            outcome.caption(ui.safe_text(goal["outcome_reason"]))
            delivery.markdown(f"{ui.health_badge(goal['delivery_health'])} delivery")
            delivery.caption(
                ui.safe_text("; ".join([goal["delivery_reason"] or "", *(goal["callouts"] or [])]).strip("; "))
            )

unknown = dashboard.roadmap_unknown(facts, items, as_of)
if unknown:
    # One message for both sections: it was said twice, under Top risks and Recently shipped.
    st.subheader("Top risks and recently shipped")
    ui.empty(unknown)
    st.caption(ui.safe_text(facts.source("roadmap")))
    st.stop()

st.subheader("Top risks")
every_risk = dashboard.top_risks(items, None)
risks = every_risk.head(5)
if risks.height:
    ui.table(
        risks.select("title", "health", "due_date", "owner", "team", "reason"),
        "top_risks",
        column_config={
            "title": "Item",
            "health": "Health",
            "due_date": "Due",
            "owner": "Owner",
            "team": "Team",
            "reason": st.column_config.TextColumn("Why", width="large"),
        },
    )
    if every_risk.height > risks.height:
        # The report listed 7 where this table showed 5 without a word (hosted QA).
        st.caption(
            f"The {risks.height} most urgent of {every_risk.height} items late, off track or at risk: the Roadmap "
            "page lists every one."
        )
else:
    ui.empty("No roadmap item is late, off track or at risk.")
st.caption(ui.safe_text(facts.source("roadmap")))

st.subheader("Recently shipped")
shipped = dashboard.shipped_with_impact(items, ui.compute(cfg, "impact_results", as_of=as_of), as_of)
if shipped.height:
    ui.table(
        dashboard.with_change_text(shipped).select(
            "title", "completed_date", "metric_name", "change_pct", "verdict", "confounders"
        ),
        "recently_shipped",
        column_config={
            "title": "Item",
            "completed_date": "Shipped",
            "metric_name": "Metric",
            "change_pct": "Change",
            "verdict": st.column_config.TextColumn("Measured impact (correlation, not cause)", width="large"),
            "confounders": st.column_config.TextColumn("Also shipped in the window", width="medium"),
        },
    )
    measured = dashboard.measured(shipped)
    if measured.height:
        ui.chart(
            charts.impact_bars(measured),
            compared_to=f"the {cfg.get('impact.window_days')} days before each ship date; coloured bars stand out from the metric's normal variation, grey ones do not",
            source=facts.source(),
            key="impact",
        )
    else:
        st.caption("No shipped item has enough days before and after it to measure its impact yet.")
else:
    ui.empty(f"Nothing shipped in the {dashboard.SHIPPED_DAYS} days before {format_date(as_of)}.")
