"""Objectives: each objective's metric on the path to its target, the items meant to move it, and what they did."""

import streamlit as st

from pmkit import charts, dashboard, ui
from pmkit.formatting import format_date

ITEM_COLUMNS = {
    "item_id": "Item",
    "title": st.column_config.TextColumn("Title", width="medium"),
    "item_type": "Type",
    "health": "Health",
    "due_date": "Due",
    "completed_date": "Done",
    "reason": st.column_config.TextColumn("Why", width="large"),
}
IMPACT_COLUMNS = {
    "item_id": "Item",
    "title": st.column_config.TextColumn("Title", width="medium"),
    "completed_date": "Shipped",
    "change_pct": "Change",
    "verdict": st.column_config.TextColumn("Verdict", width="large"),
    "confounders": st.column_config.TextColumn("Also shipped in the window", width="medium"),
}

cfg = ui.config()
facts = ui.facts(cfg)
st.title("Objectives")
period = ui.period_picker(cfg, facts)
ui.segment_picker(cfg, facts, applies=False)
as_of = dashboard.roadmap_day(facts, period.end) if period else None
goals = ui.compute(cfg, "objective_health", as_of=as_of)
if goals is None or not goals.height:
    ui.empty(
        "No objectives yet. Load objectives.csv (objective_id, title, metric, baseline, target, start_date, target_date, direction, owner) or add [objectives.ID] tables to pmkit.toml."
    )
    st.stop()
st.caption(
    ui.safe_text(
        f"Health as of {format_date(as_of)}. Outcome: the metric against the path to its target; delivery: the worst health of the objective's roadmap items."
    )
)

for goal in goals.iter_rows(named=True):
    detail = ui.compute(cfg, "objective_detail", objective_id=goal["objective_id"], as_of=as_of)
    with st.container(border=True):
        st.subheader(ui.safe_text(f"{goal['objective_id']} · {goal['title'] or 'untitled'}"))
        st.markdown(
            f"{ui.health_badge(goal['outcome_health'])} outcome &nbsp; {ui.health_badge(goal['delivery_health'])} delivery &nbsp; "
            + ui.safe_text(f"owner {goal['owner'] or 'not set'}")
        )
        st.caption(ui.safe_text(goal["outcome_reason"]))
        st.caption(ui.safe_text("; ".join([goal["delivery_reason"] or "", *(goal["callouts"] or [])]).strip("; ")))
        if detail is None:
            continue
        if detail.problem and detail.problem not in (goal["outcome_reason"] or ""):  # said once
            st.warning(ui.safe_text(detail.problem))
        if detail.definition is not None:
            ui.chart(
                charts.metric_trend(
                    detail.series,
                    name=detail.definition.name,
                    fmt=detail.definition.format,
                    rolling=detail.rolling,
                    target=detail.target,
                    ships=detail.ships,
                    smooth=True,
                ),
                compared_to="the straight path from the baseline on the start date to the target on the target date (dotted green); daily values faint; bold, "
                + (
                    "the 7-day value the outcome is judged on (as in the caption above)"
                    if detail.rolling_is_card
                    else "the days' values pooled over 7 days (the outcome takes its 7 days whole, so the two can differ)"
                )
                + "; ▲ marks items shipping",
                source=facts.source(),
                key=f"objective-{goal['objective_id']}",
            )
            ui.kpi_link(
                detail.definition.key, goal["objective_id"], label=f"Open {detail.definition.name} in the KPI explorer"
            )
        # Cancelled items are listed but left out of the delivery health's count ("14 items: ...").
        cancelled = int((detail.items["health"] == "cancelled").sum()) if detail.items.height else 0
        label = f"Linked roadmap items ({detail.items.height}" + (
            f", of which {cancelled} cancelled and not counted above)" if cancelled else ")"
        )
        with st.expander(label, expanded=False):
            if detail.items.height:
                ui.table(
                    detail.items.select(
                        "item_id", "title", "item_type", "health", "due_date", "completed_date", "reason"
                    ),
                    f"items_{goal['objective_id']}",
                    column_config=ITEM_COLUMNS,
                )
            else:
                # Not "no items linked" of a range that ends before the first roadmap snapshot.
                unknown = as_of and dashboard.roadmap_unknown(
                    facts, ui.compute(cfg, "items_health", as_of=as_of), as_of
                )
                st.caption(ui.safe_text(unknown or "No roadmap items are linked to this objective."))
        st.markdown("**Impact of shipped items** (correlation, not cause)")
        if detail.impact.height:
            ui.table(
                dashboard.with_change_text(detail.impact).select(
                    "item_id", "title", "completed_date", "change_pct", "verdict", "confounders"
                ),
                f"impact_{goal['objective_id']}",
                column_config=IMPACT_COLUMNS,
            )
        else:
            st.caption("Nothing linked to this objective has shipped yet.")
ui.definition("target")
