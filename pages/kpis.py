"""KPI explorer: any metric over time, against earlier periods, its target path and the ship dates."""

import streamlit as st

from pmkit import charts, dashboard, ui
from pmkit.formatting import format_date, format_value
from pmkit.metrics import Segment

cfg = ui.config()
facts = ui.facts(cfg)
st.title("KPI explorer")
period = ui.period_picker(cfg, facts)
segment = ui.segment_picker(cfg, facts)
if period is None:
    ui.no_events(cfg)
ui.definition_problems(cfg)
catalog = dashboard.metric_catalog(cfg)
names = dict(zip(catalog["key"], catalog["name"], strict=True))
words = dict(zip(catalog["key"], catalog["definition"], strict=True))
goals = ui.compute(cfg, "objectives")
goal_titles = (
    {
        g["objective_id"]: f"{g['objective_id']} · {g['title']}" if g["title"] else g["objective_id"]
        for g in goals.iter_rows(named=True)
    }
    if goals is not None
    else {}
)
goal_metrics = {g["objective_id"]: g["metric"] for g in goals.iter_rows(named=True)} if goals is not None else {}
# A link's metric that is not defined was dropped from the URL without a word (DAU was shown).
# One pmkit.toml defines but leaves out for a problem is named above (ui.definition_problems).
unknown = [key for key in st.query_params.get_all("metric") if key not in names and key not in cfg.metrics]
if unknown:
    st.warning(
        ui.safe_text(
            f"The link asks for {', '.join(unknown)}, which no built-in metric or pmkit.toml table defines: "
            "not shown (pick one below)."
        )
    )
AVERAGES = {"7": "7 days", "28": "28 days"}
MOST_METRICS, MOST_COMPARISONS = 4, 3  # shown at once
ui.options_from_url("compare", charts.COMPARISON_LABELS, "comparison", multi=True, most=MOST_COMPARISONS)
ui.options_from_url("avg", AVERAGES, "rolling average", multi=True)
# Past the widgets' limits a link's extras were dropped without a word (display QA).
for param, limit, what in (("metric", MOST_METRICS, "metrics"), ("compare", MOST_COMPARISONS, "comparisons")):
    asked = [value for value in st.query_params.get_all(param) if param != "metric" or value in names]
    if len(asked) > limit:
        st.warning(
            ui.safe_text(
                f"The link asks for {len(asked)} {what}; up to {limit} are shown at once: "
                f"{', '.join(charts.COMPARISON_LABELS.get(v, v) if param == 'compare' else v for v in asked[limit:])} "
                "left out (swap them in below)."
            )
        )


@ui.fragment
def explorer() -> None:
    ui.unknown_in_link("grain", ["day", "week", "month"], "granularity", shown="day")
    ui.unknown_in_link("objective", goal_titles, "objective", shown="no target path")
    first, second, third = st.columns([3, 2, 3])
    keys = first.multiselect(
        "Metrics",
        list(names),
        default=["dau"],
        key="metric",
        bind="query-params",
        max_selections=MOST_METRICS,
        help="Metric keys: " + "; ".join(f"{key} = {ui.safe_text(name)}" for key, name in names.items()),
    )
    grain = second.segmented_control(
        "Granularity", ["day", "week", "month"], default="day", required=True, key="grain", bind="query-params"
    )
    against = third.multiselect(
        "Compare with",
        list(charts.COMPARISON_LABELS),
        default=["previous_period"],
        format_func=charts.COMPARISON_LABELS.get,
        key="compare",
        bind="query-params",
        max_selections=MOST_COMPARISONS,
    )
    fourth, fifth, sixth = st.columns([3, 2, 3])
    windows = fourth.pills(
        "Rolling average",
        list(AVERAGES),
        selection_mode="multi",
        format_func=AVERAGES.get,
        key="avg",
        bind="query-params",
    )
    with fifth:
        breakdown = ui.breakdown_picker(facts)
    objective = sixth.selectbox(
        "Target path of objective",
        list(goal_titles),
        index=None,
        placeholder="None",
        key="objective",
        bind="query-params",
        help="; ".join(ui.safe_text(t) for t in goal_titles.values()) or None,
    )
    if not keys:
        ui.empty("Pick a metric to explore.")
        return
    if objective and not goal_metrics.get(objective):
        st.caption(ui.safe_text(f"{objective} names no metric: it has no target path to draw."))
    elif objective and goal_metrics.get(objective) not in keys:
        st.caption(
            ui.safe_text(
                f"{objective} measures {names.get(goal_metrics.get(objective), goal_metrics.get(objective))}: add that metric to see its target path."
            )
        )
    view = Segment(filters=segment.filters, breakdown=breakdown)
    for key in keys:
        result = ui.compute(
            cfg,
            "explore",
            key=key,
            period=period,
            grain=grain,
            segment=view,
            against=tuple(against),
            windows=tuple(int(w) for w in windows),
            objective_id=objective if goal_metrics.get(objective) == key else None,
        )
        if result is None:
            continue
        fmt = result.definition.format
        st.subheader(ui.safe_text(result.definition.name))
        st.caption(ui.safe_text(words.get(key, "")))
        if not breakdown and result.totals.height:
            cards = st.columns(max(3, result.totals.height))
            for card, row in zip(cards, result.totals.iter_rows(named=True), strict=False):
                name = charts.COMPARISON_LABELS.get(row["comparison"], row["comparison"]).lower()
                span = f"{format_date(row['start'])} – {format_date(row['end'])}"
                delta, base_text = dashboard.versus(row, fmt)
                shown = result.measured or period
                # Moved back until final: its comparison is not the chart's, so it is named by its
                # days (the help read "The 14 Aug 2026 – 10 Sep 2026 is 14 Aug 2026 – ..."; QA).
                label = span if shown != period else name
                # A sum says so, with its mean a day: the summary's "Reports shared per day" 95.6
                # opened here as 2,678 under the same name (QA).
                summed = result.definition.summed() and row["value"] is not None
                per_day = f" That is {format_value(row['value'] / shown.days, fmt)} a day." if summed else ""
                # Distinct users of the range: the summary's "per day" of the same metric is the
                # mean of its daily values (538 here beside 53.8 there; QA).
                distinct = result.daily_mean is not None and row["value"] is not None
                if distinct:
                    per_day = f" Its days average {format_value(result.daily_mean, fmt)} a day."
                prefix = "Total, " if summed else "Distinct users, " if distinct else ""
                card.metric(
                    f"{prefix}{format_date(shown.start)} – {format_date(shown.end)}",
                    format_value(row["value"], fmt),
                    delta=delta,
                    **ui.delta_style(row["change"]),
                    delta_description=f"vs {label}: {base_text}",
                    help=f"The {name} is {span}. "
                    + ui.safe_text(f"The value of a range is {result.definition.over_a_range()}.{per_day}"),
                    border=True,
                )
        # The chart's own comparison days: the cards' may be moved back (funnels), and its lines
        # start on the first loaded day.
        spans = {name: (p.start, p.end) for name, p in result.compared_periods.items()}
        compared = (
            ", ".join(
                f"{charts.COMPARISON_LABELS.get(name, name).lower()} "
                + (
                    f"({format_date(spans[name][0])} – {format_date(spans[name][1])})"
                    if name in spans
                    else "(nothing loaded then)"
                )
                for name in against
            )
            or "nothing (pick a comparison above)"
        )
        if breakdown:  # the chart draws one line per value and no earlier period
            values = (
                result.series[breakdown].drop_nulls().unique().to_list() if breakdown in result.series.columns else []
            )
            # Why one value, only when a filter on the breakdown's own dimension explains it: "a filter
            # on it leaves one" was said of a filter on another dimension, or of none.
            why = " (a filter on it leaves one)" if any(d == breakdown for d, _ in segment.filters) else ""
            compared = (
                f"no other value: {values[0]} is the only value of {breakdown} here{why}"
                if len(values) == 1
                else f"each other value of {breakdown}"
            ) + " (earlier periods are drawn without a breakdown: pick none to see them)"
        if result.target is not None:
            compared += f"; the target path of {objective}"
        ui.chart(
            charts.metric_trend(
                result.series,
                name=result.definition.name,
                fmt=fmt,
                group=breakdown,
                compared=result.compared,
                rolling=result.rolling,
                target=result.target,
                ships=result.ships,
                anomalies=result.anomalies,
                compared_periods=spans,
                partial=result.partial,
                empty=dashboard.no_values_text(
                    result.definition, period, facts.last_day, facts.today_open, facts.timezone
                ),
            ),
            compared_to=compared,
            source=f"{facts.source()} Segment: {ui.segment_text(view)}.",
            key=f"chart-{key}",
        )
        for note in result.notes:
            st.caption(ui.safe_text(note))
        if result.ships is not None and result.ships.height:
            st.caption("▲ marks a roadmap item linked to this metric shipping; hover it for the title.")
        with st.expander("Values"):
            ui.table(dashboard.values_table(result.series, grain, period), f"{key}_{grain}")


explorer()
ui.definition("comparison", "rolling_average", "target", "anomaly", "segment")
