"""Funnels: how many users go through ordered steps within a window, where they drop off, how long it takes."""

import streamlit as st

from pmkit import charts, dashboard, ui
from pmkit.formatting import format_change, format_date, format_days, format_number, format_percent
from pmkit.metrics import Segment

cfg = ui.config()
facts = ui.facts(cfg)
st.title("Funnels")
period = ui.period_picker(cfg, facts)
segment = ui.segment_picker(cfg, facts)
if period is None:
    ui.no_events(cfg)
events = ui.compute(cfg, "event_names") or []
default_steps, default_window = dashboard.default_funnel(cfg, events)

ui.unknown_in_link("steps", events, "step", multi=True)
first, second, third = st.columns([4, 1, 2])
steps = first.multiselect(
    "Steps, in order",
    events,
    default=default_steps,
    key="steps",
    bind="query-params",
    help="Users must do the steps in this order, each within the window of the first step.",
)
ui.number_in_link("window", 1, 90, "window in days", shown=f"{default_window} days")
window = second.number_input(
    "Window (days)", min_value=1, max_value=90, value=default_window, step=1, key="window", bind="query-params"
)
with third:
    breakdown = ui.breakdown_picker(facts)
if len(steps) < 2:
    ui.empty("Pick at least two steps, in the order users should do them.")
    st.stop()

view = Segment(filters=segment.filters, breakdown=breakdown)
# The range and the one before it from one read of the step events.
funnel = {"steps": tuple(steps), "window_days": int(window), "periods": (period, period.previous())}
result, before = ui.compute(cfg, "funnels", **funnel, segment=view) or (None, None)
source = f"{facts.source()} Segment: {ui.segment_text(view)}."
path = " → ".join(steps)
# The cards are of the whole segment: a user on web and on iOS starts in both groups, and the
# groups' sum counted 1,490 starters of 1,240 (QA).
whole, whole_before = (
    (ui.compute(cfg, "funnels", **funnel, segment=Segment(filters=segment.filters)) or (None, None))
    if breakdown
    else (result, before)
)
now, then = dashboard.funnel_conversion(whole), dashboard.funnel_conversion(whole_before)
# Days before the first loaded day are no data: no change is claimed against them (as on the
# summary's cards), where "+8 (from 0)" was shown against a range before any event.
no_base = base_missing = dashboard.why_no_base(period.previous(), facts.first_day)
if not no_base and facts.today_open and period.end == facts.last_day:
    # Today's first hours against whole days: a flat funnel read "Started -11.4%" (review).
    no_base = f"{dashboard.not_over(facts.last_day)}, so no change is claimed"
# From the last whole day: today's first hours are not yet every attempt's whole window (review).
open_from = dashboard.unsettled_from(period, facts.final_day, int(window), facts.timezone)
# Attempts whose window is still open can convert yet; the range before has had all its time. A
# flat funnel's conversions read as a drop until the window closed (review): none is claimed.
still_open = no_base or (dashboard.still_converting(open_from) if open_from else None)
prior = f"vs prior {period.days}d"
# A range ending on the last day never compared its conversion (its last days can still
# convert): its settled days are, against the same days of the range before. While today is
# not over too: they end before the last whole day.
parts = None if base_missing else dashboard.settled_parts(period, open_from)
if parts is not None:
    settled = ui.compute(cfg, "funnels", **{**funnel, "periods": parts}, segment=Segment(filters=segment.filters))
    settled_now, settled_then = (dashboard.funnel_conversion(f) for f in settled or (None, None))
    parts_text = " against ".join(f"{format_date(p.start)} – {format_date(p.end)}" for p in parts)
cards = st.columns(3)
for card, label, value, earlier, why in (
    (cards[0], f"Started ({ui.safe_text(steps[0])})", now.started, then.started, no_base),
    (cards[1], f"Converted ({ui.safe_text(steps[-1])})", now.converted, then.converted, still_open),
):
    card.metric(
        label,
        format_number(value),
        delta=None if why else format_change(value, earlier),
        **ui.delta_style(value - earlier),  # no green arrow on "+0 (from 0)" (QA)
        delta_description=f"{prior}: {why}" if why else None,
        border=True,
    )
if parts is not None and settled_now.rate is not None and settled_then.rate is not None:
    cards[2].metric(
        "Conversion",
        format_percent(now.rate),
        delta=format_change(settled_now.rate, settled_then.rate, "percent"),
        **ui.delta_style(settled_now.rate - settled_then.rate),
        delta_description=(
            f"of the users who started {parts_text}: {format_percent(settled_now.rate)} against "
            f"{format_percent(settled_then.rate)} (later starters can still convert)"
        ),
        border=True,
    )
else:
    cards[2].metric(
        "Conversion",
        format_percent(now.rate),
        delta=format_change(now.rate, then.rate, "percent")
        if not still_open and now.rate is not None and then.rate is not None
        else None,
        **ui.delta_style(now.rate - then.rate if now.rate is not None and then.rate is not None else None),
        delta_description=f"{prior}: {still_open}" if still_open else f"{prior} ({format_percent(then.rate)})",
        border=True,
    )
ui.chart(
    charts.funnel_bars(result, group=breakdown),
    compared_to=f"the users who did {steps[0]} in this range (step 1 = 100%); grey is the drop-off from the step before",
    source=source,
    key="funnel",
)
st.subheader("Time to convert")
ui.chart(
    charts.time_to_convert(result, group=breakdown),
    compared_to="the step before: the median time between them, from each user's earliest attempt that got furthest",
    source=source,
    key="time",
)
with st.expander("Values"):
    ui.table(result, "funnel")
if open_from is not None:
    # Not final yet: the KPI explorer and the summary total the funnels of pmkit.toml over final days.
    st.caption(
        f"Users who started on {format_date(open_from)}"
        + (f" – {format_date(period.end)}" if open_from != period.end else "")
        + f" still have time to convert (their {int(window)}-day window runs past "
        + (f"{format_date(facts.final_day)}, the last whole day" if facts.today_open else "the last loaded day")
        + "), so this "
        "conversion can still rise. The "
        "executive summary and the KPI explorer count the funnels of pmkit.toml over final days only."
    )
saved = dashboard.saved_funnel_name(cfg, steps, int(window))
st.caption(
    ui.safe_text(
        f"Funnel: {path}, within {format_days(int(window))} of the first step."
        + (f" This is the saved funnel “{saved}” of pmkit.toml." if saved else "")
    )
)
ui.definition("funnel")
