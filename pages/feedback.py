"""Voice of customer: NPS and CSAT over time, how scores spread, who says what, and the comments."""

import streamlit as st

from pmkit import charts, dashboard, ui
from pmkit.metrics import Segment

SCALES = {"nps": "NPS (0-10)", "csat": "CSAT (1-5)"}

cfg = ui.config()
facts = ui.facts(cfg)
st.title("Voice of customer")
period = ui.period_picker(cfg, facts, with_answers=True)
segment = ui.segment_picker(cfg, facts)
if period is None or not facts.answers:
    ui.empty(
        "No survey answers loaded yet. Load a feedback CSV (submitted_at, user_id, score, scale, comment) or a Hotjar-style survey export."
    )
    st.stop()

ui.options_from_url("scale", SCALES, "survey")
scale = st.segmented_control(
    "Survey", list(SCALES), format_func=SCALES.get, default="nps", required=True, key="scale", bind="query-params"
)
answers, skipped = dashboard.filter_answers(ui.compute(cfg, "feedback_answers", period=period), segment)
if skipped:
    st.caption(ui.safe_text(f"The answers have no {', '.join(skipped)}: that filter is not applied here."))
# The filters the answers could follow: one on a dimension the survey lacks is not applied.
applied = Segment(filters=tuple((d, v) for d, v in segment.filters if d not in skipped))
source = facts.source("feedback") + f" Segment: {ui.segment_text(applied).replace('all users', 'all answers')}."

segmented = bool(applied.filters)
# The card counts whole days, as the summary's NPS card does (+33 there and +0 here for one range
# while today was open; review); the chart and the comments below show today's answers too.
measured, note = dashboard.survey_days(period, facts.final_day, facts.last_day, facts.today_open)
if segmented:
    # The card follows the segment like the rest of the page (it showed every answer's score),
    # over its own days: the range's answers missed the day the measured days begin (review).
    now, _ = dashboard.filter_answers(ui.compute(cfg, "feedback_answers", period=measured), segment)
    before, _ = dashboard.filter_answers(ui.compute(cfg, "feedback_answers", period=measured.previous()), segment)
    survey = dashboard.answers_survey_score(now, before, scale, note=note)
else:
    survey = ui.compute(cfg, "survey_score", period=period, scale=scale, whole_days_only=True)
grain = "week" if period.days > 14 else "day"
trend = ui.compute(cfg, scale, period=period, grain=grain)
card, chart = st.columns([1, 3])
with card:
    ui.survey_card(survey, period_days=period.days, filtered=segmented)
    if segmented:
        st.caption(ui.safe_text(f"Segment: {ui.segment_text(applied)}."))
with chart:
    ui.chart(
        charts.score_trend(
            trend,
            scale,
            name=scale.upper(),
            fmt="percent" if scale == "csat" else "number",
            value_range=(0, 1) if scale == "csat" else (-100, 100),
        ),
        compared_to=f"the {'weeks' if grain == 'week' else 'days'} before it; grey bars are the answers behind each point (few answers, wide swings)",
        source=facts.source("feedback") + " Trend over every answer (the segment applies to the card and below).",
        key="trend",
    )

left, right = st.columns(2)
with left:
    st.subheader("Score distribution")
    ui.chart(
        charts.score_distribution(dashboard.score_distribution(answers, scale), scale),
        compared_to="the other scores: red detractors, yellow passives, green promoters"
        if scale == "nps"
        else "the other scores: 4-5 count as satisfied",
        source=source,
        key="distribution",
    )
with right:
    st.subheader("By segment")
    choices = dashboard.feedback_segments(answers)
    ui.unknown_in_link("vo_by", choices, "segment", shown=choices[0] if choices else "no segment")
    by = st.selectbox("Segment", choices, key="vo_by", bind="query-params") if choices else None
    scores = dashboard.segment_scores(answers, by, scale) if by else None
    ui.chart(
        charts.segment_scores(scores, by, scale, fmt="percent" if scale == "csat" else "number")
        if by
        else charts.empty_figure("The answers have no segment columns"),
        compared_to="the other segments; n is the number of answers",
        source=source,
        key="segments",
    )


@ui.fragment
def comments() -> None:
    st.subheader("Comments")
    query = st.text_input(
        "Search the comments", key="q", bind="query-params", placeholder="e.g. sharing", icon=":material/search:"
    )
    found = dashboard.search_comments(answers, query or "", scale)
    st.caption(
        f"{found.height:,} comment{'' if found.height == 1 else 's'}"
        + (f" containing “{ui.safe_text(query)}”" if query else "")
    )
    ui.table(
        found.select([c for c in found.columns if c not in ("submitted_at", "scale")]),
        "comments",
        column_config={
            "comment": st.column_config.TextColumn("Comment", width="large"),
            "score": st.column_config.NumberColumn("Score", format="%d"),
        },
    )


comments()
ui.definition("nps", "csat")
