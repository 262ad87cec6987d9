"""Retention: how many users of each weekly cohort come back, and on day 1, 7 and 30."""

import streamlit as st

from pmkit import charts, dashboard, ui
from pmkit.formatting import format_date
from pmkit.metrics import Segment

SHARES = {"share_on": "On week k", "share_on_or_after": "On or after week k"}

cfg = ui.config()
facts = ui.facts(cfg)
st.title("Retention")
period = ui.period_picker(cfg, facts)
segment = ui.segment_picker(cfg, facts)
if period is None:
    ui.no_events(cfg)

ui.options_from_url("retained", SHARES, "retention count")  # retained=share_on_or_after as well as its label
left, right = st.columns(2)
share = left.segmented_control(
    "Count a user as retained in week k when active",
    list(SHARES),
    format_func=SHARES.get,
    default="share_on",
    required=True,
    key="retained",
    bind="query-params",
)
with right:
    breakdown = ui.breakdown_picker(facts)
view = Segment(filters=segment.filters, breakdown=breakdown)
weekly = ui.compute(cfg, "weekly_retention", period=period, segment=view)
source = f"{facts.source()} Segment: {ui.segment_text(view)}."

st.subheader("Weekly cohorts")
if dashboard.cohort_count(weekly) == 0 and view.filters:
    # Widening the range rarely helps: the filter applies to each user's first event ever.
    ui.empty(
        "No user of this segment was first seen in this range: a user joins the cohort of their first event ever, "
        "and that event must match the segment."
    )
elif dashboard.cohort_count(weekly) < 2:
    ui.empty("Fewer than two weekly cohorts in this range: widen the date range in the sidebar to compare cohorts.")
# A week ending today is in progress until today is over, as its day N are (``Facts.final_day``).
open_weeks = charts.weeks_in_progress(weekly, facts.final_day)
if breakdown:
    st.caption(ui.safe_text(f"Broken down by {breakdown}: one curve per value, each the cohorts' weighted mean."))
else:
    ui.chart(
        charts.retention_heatmap(weekly, share, last_day=facts.final_day),
        compared_to="each cohort against the others: rows are the weeks users were first seen, columns the weeks after",
        source=source
        + (
            f" Cohorts are whole weeks: the first, week of {first[0]}, also holds the users first seen on {first[1]}, before the range; day 1, 7 and 30 below count only users first seen in the range."
            if (first := dashboard.whole_first_week(period))
            else ""
        )
        + (
            f" The last, week of {last[0]}, also holds the users first seen on {last[1]}, after the range."
            if (last := dashboard.whole_last_week(period, facts.last_day))
            else ""
        ),
        key="heatmap",
    )
if open_weeks:
    # Whole sentence escaped: the asterisk is the heatmap's mark, not markdown.
    one = open_weeks == 1
    cells = f"{open_weeks:,} cohort week{' is' if one else 's are'}"
    marked = " (marked * in the heatmap)" if not breakdown else ""
    st.caption(
        ui.safe_text(
            f"{cells} still in progress on {format_date(facts.last_day)}, the last loaded day"
            f"{' (today: not over yet)' if facts.today_open else ''}{marked}: "
            f"{'its share' if one else 'their shares'} can still rise. The curves leave {'it' if one else 'them'} out."
        )
    )
ui.chart(
    charts.retention_curves(weekly, share, group=breakdown, last_day=facts.final_day),
    compared_to="every cohort of the range (grey) and their mean weighted by cohort size, weeks in progress left out",
    source=source,
    key="curves",
)

st.subheader("Day 1, 7 and 30")
day_n = ui.compute(cfg, "day_retention", period=period, days=(1, 7, 30), segment=view)
ui.chart(
    charts.day_n_retention(day_n, group=breakdown),
    compared_to="the users first seen in this range; those whose day N is after the last loaded day are left out"
    if not facts.today_open
    else f"the users first seen in this range; those whose day N is after {format_date(facts.final_day)}, the last "
    f"whole day, are left out ({dashboard.not_over(facts.last_day)})",
    source=source,
    key="day-n",
)
with st.expander("Values"):
    ui.table(weekly, "weekly_retention")
    ui.table(day_n, "day_n_retention")
ui.definition("weekly_retention", "day_n_retention", "active")
