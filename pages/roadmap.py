"""Roadmap: every item's schedule health on a timeline, why, and the history of the one you pick."""

import streamlit as st

from pmkit import charts, dashboard, ui
from pmkit.formatting import format_date

cfg = ui.config()
facts = ui.facts(cfg)
st.title("Roadmap")
period = ui.period_picker(cfg, facts)
ui.segment_picker(cfg, facts, applies=False)
as_of = dashboard.roadmap_day(facts, period.end) if period else None
items = ui.compute(cfg, "items_health", as_of=as_of)
goals = ui.compute(cfg, "objectives")
if items is None or not items.height:
    # A range that ends before the first snapshot: said so (it read "No roadmap loaded yet" beside
    # six loaded snapshots).
    unknown = dashboard.roadmap_unknown(facts, items, as_of) if as_of else None
    ui.empty(unknown or dashboard.NO_ROADMAP)
    st.stop()
items = dashboard.roadmap_table(items, goals)
when = items["snapshot_date"].max()
st.caption(ui.safe_text(dashboard.snapshot_caption(items, as_of)))
for stale in dashboard.stale_snapshots(items, as_of, facts.last_snapshot):
    st.warning(ui.safe_text(stale))

choices = {column: dashboard.options(items, column) for column in ("objective_id", "team", "owner", "item_type")}
# A link's filter value no item has was dropped without a word and every item shown.
for param, column, what in (
    ("rm_objective", "objective_id", "objective"),
    ("rm_team", "team", "team"),
    ("rm_owner", "owner", "owner"),
    ("rm_types", "item_type", "item type"),
):
    ui.unknown_in_link(param, choices[column], what, multi=True)
filters = st.columns(5)
objective = filters[0].multiselect(
    "Objective", choices["objective_id"], key="rm_objective", bind="query-params", placeholder="All"
)
team = filters[1].multiselect("Team", choices["team"], key="rm_team", bind="query-params", placeholder="All")
owner = filters[2].multiselect("Owner", choices["owner"], key="rm_owner", bind="query-params", placeholder="All")
ui.options_from_url("rm_health", {h: ui.health_label(h) for h in charts.HEALTH_LABELS}, "health", multi=True)
health = filters[3].multiselect(
    "Health",
    [h for h in charts.HEALTH_LABELS if h in set(items["health"].to_list())],
    format_func=ui.health_label,
    key="rm_health",
    bind="query-params",
    placeholder="All",
)
types = choices["item_type"]
kinds = filters[4].multiselect(
    "Item types",
    types,
    default=[t for t in types if t != "issue"],
    key="rm_types",
    bind="query-params",
    placeholder="All",
)
shown = dashboard.filter_items(items, objective=objective, team=team, owner=owner, health=health, item_type=kinds)

ui.chart(
    charts.gantt(shown, today=as_of or when),
    compared_to="each item's baseline due date (black tick: the first due date it had) and its forecast (circle)",
    source=facts.source("roadmap"),
    key="gantt",
)

# Of how many: the default leaves issues out, and "Items (2)" sat under "Source: 3 roadmap items".
st.subheader(f"Items ({shown.height} of {items.height})" if shown.height != items.height else f"Items ({shown.height})")
if "objective" in shown["item_type"].to_list():
    # Two healths of one objective: its own schedule here, the worst of its items elsewhere.
    st.caption(
        "An objective's row is the objective item's own schedule (its dates and progress in the roadmap). Its "
        "delivery health, the worst health of the items under it, is on the Objectives page and the summary."
    )
table = ui.with_kpi_links(shown).select(
    "item_id",
    "title",
    "health",
    "reason",
    "kpi",
    "progress_pct",
    "due_date",
    "baseline_due_date",
    "slip_days",
    "forecast_date",
    "schedule_index",
    "declared_health",
    "item_type",
    "objective_id",
    "team",
    "owner",
    "linked_metric",
)
ui.table(
    table,
    "roadmap_items",
    column_config={
        "item_id": "Item",
        "title": st.column_config.TextColumn("Title", width="medium"),
        "health": "Health",
        "reason": st.column_config.TextColumn("Why", width="large"),
        "kpi": st.column_config.LinkColumn("Metric", display_text="Open in KPI explorer"),
        "progress_pct": st.column_config.ProgressColumn("Progress", format="%.0f%%", min_value=0, max_value=100),
        "due_date": "Due",
        "baseline_due_date": "Baseline due",
        "slip_days": "Slip (days)",
        "forecast_date": "Forecast",
        "schedule_index": st.column_config.NumberColumn("Schedule index", format="%.2f"),
        "declared_health": "Declared",
        "item_type": "Type",
        "objective_id": "Objective",
        "team": "Team",
        "owner": "Owner",
        "linked_metric": "Metric key",
    },
)


@ui.fragment
def item_detail() -> None:
    st.subheader("One item over time")
    titles = {r["item_id"]: f"{r['item_id']} · {r['title']}" for r in shown.iter_rows(named=True)}
    if not titles:
        ui.empty("No item matches these filters.")
        return
    worst = dashboard.top_risks(shown, 1)["item_id"].to_list()
    start = list(titles).index(worst[0]) if worst else 0
    ui.options_from_url("item", titles, "item")  # item=EP-1 in a link, as the page writes "EP-1 · Checkout"
    chosen = st.selectbox("Item", list(titles), index=start, format_func=titles.get, key="item", bind="query-params")
    row = shown.row(list(titles).index(chosen), named=True)
    st.markdown(f"{ui.health_badge(row['health'])} {ui.safe_text(row['reason'])}")
    burn, slip = ui.compute(cfg, "item_history", item_id=chosen, as_of=as_of)
    left, right = st.columns(2)
    rows = burn.iter_rows(named=True) if burn is not None else []
    unestimated = [format_date(r["snapshot_date"]) for r in rows if r["total"] is None]
    with left:
        ui.chart(
            charts.burn_up(burn, "Burn-up"),
            compared_to="the item's total scope in each snapshot"
            + (f" (none on {', '.join(unestimated)}: no estimated scope then)" if unestimated else ""),
            source=facts.source("roadmap"),
            key="burn",
        )
    with right:
        ui.chart(
            charts.slip_history(slip, "Due date per snapshot"),
            compared_to="the baseline due date",
            source=facts.source("roadmap"),
            key="slip",
        )
    if row["linked_metric"]:
        catalog = dashboard.metric_catalog(cfg)
        names = dict(zip(catalog["key"], catalog["name"], strict=True))
        metric_name = names.get(row["linked_metric"], row["linked_metric"])
        ui.kpi_link(row["linked_metric"], row["objective_id"], label=f"Open {metric_name} in the KPI explorer")


item_detail()
