"""Engagement: how sticky the product is, who is new, back or gone each week, which features people use."""

import streamlit as st

from pmkit import charts, dashboard, ui
from pmkit.formatting import format_date, format_days

cfg = ui.config()
facts = ui.facts(cfg)
st.title("Engagement")
period = ui.period_picker(cfg, facts)
segment = ui.segment_picker(cfg, facts)
if period is None:
    ui.no_events(cfg)
source = f"{facts.source()} Segment: {ui.segment_text(segment)}."

st.subheader("Stickiness")
active = ui.compute(cfg, "active_users", period=period, segment=segment)
before = ui.compute(cfg, "active_users", period=period.previous(), segment=segment)
# The caption claimed a dashed line for a previous period with nothing loaded (display QA).
no_base = dashboard.why_no_base(period.previous(), facts.first_day)
ui.chart(
    charts.stickiness(
        active,
        compared=None
        if no_base == dashboard.NOTHING_EARLIER
        else dashboard.previous_alongside(active, before, "stickiness"),
    ),
    compared_to=(
        f"the previous {format_days(period.days)}: {no_base}"
        if no_base == dashboard.NOTHING_EARLIER
        else f"the previous {format_days(period.days)} (dashed{f', {no_base}' if no_base else ''}), day by day"
    ),
    source=source,
    key="stickiness",
)

st.subheader("Lifecycle")
weeks = ui.compute(cfg, "lifecycle", period=period, segment=segment)
ui.chart(
    charts.lifecycle_bars(weeks),
    compared_to="the week before: returning users were active in both weeks, dormant ones only in the week before",
    source=source
    + " A faded bar is a week still running."
    + (
        f" Weeks run Monday to Sunday: the first, week of {first[0]}, also counts {first[1]}, before the range."
        if (first := dashboard.whole_first_week(period))
        else ""
    )
    + (
        f" The last, week of {last[0]}, also counts {last[1]}, after the range."
        if (last := dashboard.whole_last_week(period, facts.last_day))
        else ""
    ),
    key="lifecycle",
)


@ui.fragment
def adoption() -> None:
    """Picking features reruns only this section."""
    st.subheader("Feature adoption")
    events = ui.compute(cfg, "event_names") or []
    ui.unknown_in_link("features", events, "feature", multi=True)
    features = st.multiselect(
        "Features (events)",
        events,
        default=dashboard.default_features(events),
        key="features",
        bind="query-params",
        max_selections=8,
    )
    if not features:
        ui.empty("Pick one or more events to see their adoption.")
        return
    # One pass over the rollup for every picked feature (the MAU is shared).
    adoption = ui.compute(cfg, "features_adoption", events=tuple(features), period=period, segment=segment)
    ui.chart(
        charts.feature_adoption(adoption),
        compared_to="MAU: each line is the share of the month's active users who used the feature in those 30 days",
        source=source,
        key="adoption",
    )


adoption()

st.subheader("Engagement matrix")
matrix = ui.compute(cfg, "engagement_matrix", as_of=period.end, segment=segment)
ui.chart(
    charts.engagement_matrix(matrix),
    compared_to=f"the other features: dotted lines are the medians, over the 30 days ending {format_date(period.end)}",
    source=source,
    key="matrix",
)
with st.expander("Values"):
    ui.table(matrix, "engagement_matrix")
ui.definition("stickiness", "lifecycle", "feature_adoption", "engagement")
