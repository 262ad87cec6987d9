"""Figure builders on small hand-made frames: the traces and values they draw, and a "No data"
figure (never an exception) for empty input."""

from __future__ import annotations

import datetime as dt
import math

import plotly.graph_objects as go
import polars as pl
import pytest

from pmkit import charts

D = dt.date


def no_data(fig: go.Figure) -> bool:
    """The figure is the empty-state figure: no traces, one annotation starting "No ..."."""
    texts = [a.text for a in fig.layout.annotations]
    return not fig.data and len(texts) == 1 and texts[0].startswith(("No ", "Not enough", "Nobody", "Fewer"))


def trace(fig: go.Figure, name: str) -> go.BaseTraceType:
    found = [t for t in fig.data if t.name == name]
    assert found, f"no trace named {name!r} in {[t.name for t in fig.data]}"
    return found[0]


def days(start: str, count: int) -> list[dt.date]:
    first = D.fromisoformat(start)
    return [first + dt.timedelta(days=i) for i in range(count)]


# --- empty input: every builder -------------------------------------------------------------------------

EMPTY_CASES = {
    "metric_trend": lambda: charts.metric_trend(pl.DataFrame(schema={"day": pl.Date, "value": pl.Float64}), name="DAU"),
    "retention_heatmap": lambda: charts.retention_heatmap(
        pl.DataFrame(schema={"cohort_week": pl.Date, "size": pl.Int64, "week": pl.Int64, "share_on": pl.Float64})
    ),
    "retention_curves": lambda: charts.retention_curves(
        pl.DataFrame(
            schema={
                "cohort_week": pl.Date,
                "size": pl.Int64,
                "week": pl.Int64,
                "users_on": pl.Int64,
                "share_on": pl.Float64,
            }
        )
    ),
    "day_n_retention": lambda: charts.day_n_retention(
        pl.DataFrame(
            schema={"day": pl.Date, "day_n": pl.Int64, "users": pl.Int64, "retained": pl.Int64, "rate": pl.Float64}
        )
    ),
    "funnel_bars": lambda: charts.funnel_bars(
        pl.DataFrame(schema={"step": pl.Int64, "event": pl.String, "users": pl.Int64})
    ),
    "time_to_convert": lambda: charts.time_to_convert(
        pl.DataFrame(schema={"step": pl.Int64, "event": pl.String, "users": pl.Int64, "median_seconds": pl.Float64})
    ),
    "lifecycle_bars": lambda: charts.lifecycle_bars(
        pl.DataFrame(
            schema={
                "week": pl.Date,
                "new": pl.Int64,
                "returning": pl.Int64,
                "resurrecting": pl.Int64,
                "dormant": pl.Int64,
            }
        )
    ),
    "feature_adoption": lambda: charts.feature_adoption(None),
    "engagement_matrix": lambda: charts.engagement_matrix(
        pl.DataFrame(
            schema={
                "event": pl.String,
                "adopters": pl.Int64,
                "adoption": pl.Float64,
                "frequency": pl.Float64,
                "events": pl.Int64,
            }
        )
    ),
    "stickiness": lambda: charts.stickiness(
        pl.DataFrame(schema={"day": pl.Date, "dau": pl.Int64, "mau": pl.Int64, "stickiness": pl.Float64})
    ),
    "gantt": lambda: charts.gantt(pl.DataFrame()),
    "burn_up": lambda: charts.burn_up(
        pl.DataFrame(schema={"snapshot_date": pl.Date, "done": pl.Float64, "total": pl.Float64})
    ),
    "slip_history": lambda: charts.slip_history(pl.DataFrame(schema={"snapshot_date": pl.Date, "due_date": pl.Date})),
    "score_trend": lambda: charts.score_trend(
        pl.DataFrame(schema={"day": pl.Date, "responses": pl.Int64, "nps": pl.Float64}), "nps", name="NPS"
    ),
    "score_distribution": lambda: charts.score_distribution(
        pl.DataFrame(schema={"score": pl.Int64, "answers": pl.Int64})
    ),
    "segment_scores": lambda: charts.segment_scores(
        pl.DataFrame(schema={"plan": pl.String, "nps": pl.Float64, "responses": pl.Int64}), "plan", "nps"
    ),
}


@pytest.mark.parametrize("builder", sorted(EMPTY_CASES))
def test_every_builder_draws_a_no_data_figure_for_an_empty_frame(builder):
    fig = EMPTY_CASES[builder]()
    assert isinstance(fig, go.Figure)
    assert no_data(fig), fig.layout.annotations


def test_a_series_of_nulls_is_no_data_too():
    """A funnel metric whose days are not final yet is all null: nothing to draw."""
    series = pl.DataFrame(
        {"day": days("2026-03-01", 3), "value": [None, None, None]}, schema={"day": pl.Date, "value": pl.Float64}
    )
    assert no_data(charts.metric_trend(series, name="Activation"))


# --- metric trend ---------------------------------------------------------------------------------


def test_metric_trend_draws_value_comparison_rolling_target_and_anomalies():
    series = pl.DataFrame({"day": days("2026-03-08", 3), "value": [10.0, 12.0, 30.0]})
    compared = pl.DataFrame(
        {
            "day": days("2026-03-08", 3),
            "value": [10.0, 12.0, 30.0],
            "previous_period_day": days("2026-03-05", 3),
            "previous_period_value": [8.0, 9.0, 11.0],
        }
    )
    rolling = pl.DataFrame(
        {"day": days("2026-03-08", 3), "avg_7d": [None, 11.0, 17.0]}, schema={"day": pl.Date, "avg_7d": pl.Float64}
    )
    target = pl.DataFrame({"day": days("2026-03-08", 3), "target": [10.0, 11.0, 12.0]})
    anomalies = pl.DataFrame(
        {"day": days("2026-03-08", 3), "value": [10.0, 12.0, 30.0], "anomaly": [False, None, True]}
    )
    fig = charts.metric_trend(
        series, name="DAU", compared=compared, rolling=rolling, target=target, anomalies=anomalies
    )
    assert [t.name for t in fig.data] == [
        "DAU",
        "Previous period (5 Mar 2026 – 7 Mar 2026)",
        "7-day average",
        "Target path",
        "Anomaly",
    ]
    assert list(trace(fig, "DAU").y) == [10.0, 12.0, 30.0]
    previous = trace(fig, "Previous period (5 Mar 2026 – 7 Mar 2026)")
    assert list(previous.x) == days("2026-03-08", 3)  # drawn on the days it is compared with
    assert list(previous.y) == [8.0, 9.0, 11.0]
    assert list(trace(fig, "Anomaly").x) == [D(2026, 3, 10)]
    assert list(trace(fig, "Target path").y) == [10.0, 11.0, 12.0]


def test_metric_trend_one_line_per_breakdown_value():
    series = pl.DataFrame(
        {"day": days("2026-03-01", 2) * 2, "plan": ["pro", "pro", "free", "free"], "value": [1.0, 2.0, 5.0, 6.0]}
    )
    fig = charts.metric_trend(series, name="DAU", group="plan")
    assert sorted(t.name for t in fig.data) == ["free", "pro"]
    assert list(trace(fig, "free").y) == [5.0, 6.0]


def test_a_breakdown_of_many_values_gets_a_colour_each_and_its_legend_below():
    """14 app versions: Plotly's ten colours repeated (4.0.0 and 4.10.0 both blue) and the
    legend's wrapped lines ran under the chart's toolbar (QA)."""
    versions = [f"4.{n}.0" for n in range(14)]
    series = pl.DataFrame({"day": days("2026-03-01", 2) * 14, "app_version": [v for v in versions for _ in range(2)]})
    fig = charts.metric_trend(series.with_columns(value=pl.lit(1.0)), name="DAU", group="app_version")
    assert len(fig.data) == 14 and len(set(fig.layout.colorway)) >= 14
    assert fig.layout.legend.y < 0  # below the plot
    few = charts.metric_trend(
        series.filter(pl.col("app_version").is_in(versions[:3])).with_columns(value=pl.lit(1.0)),
        name="DAU",
        group="app_version",
    )
    assert few.layout.colorway is None and few.layout.legend.y > 1  # three values: as before


def test_ship_markers_show_the_title_on_hover_as_plain_text():
    series = pl.DataFrame({"day": days("2026-03-01", 5), "value": [1.0, 2.0, 3.0, 4.0, 5.0]})
    ships = pl.DataFrame({"day": [D(2026, 3, 3)], "item_id": ["EP-1"], "title": ["<b>Dark</b> mode"]})
    fig = charts.metric_trend(series, name="DAU", ships=ships)
    (annotation,) = fig.layout.annotations
    assert annotation.x == D(2026, 3, 3)
    assert annotation.text == "▲ EP-1"
    assert annotation.hovertext == "Shipped 3 Mar 2026: &lt;b&gt;Dark&lt;/b&gt; mode"
    assert len(fig.layout.shapes) == 1  # the dotted line


def test_percent_metrics_get_percent_axes():
    series = pl.DataFrame({"day": days("2026-03-01", 2), "value": [0.4, 0.5]})
    fig = charts.metric_trend(series, name="Activation", fmt="percent")
    assert fig.layout.yaxis.tickformat == ".0%"


def test_plot_text_escapes_tags_and_cuts_long_text():
    assert charts.plot_text("a <i>b</i> & c") == "a &lt;i&gt;b&lt;/i&gt; &amp; c"
    assert charts.plot_text("x" * 10, limit=5) == "xxxx…"
    assert charts.plot_text(None) == ""


# --- retention ----------------------------------------------------------------------------------


WEEKLY = pl.DataFrame(
    {
        "cohort_week": [D(2026, 3, 2)] * 3 + [D(2026, 3, 9)] * 2,
        "size": [10, 10, 10, 30, 30],
        "week": [0, 1, 2, 0, 1],
        "users_on": [10, 5, 2, 30, 3],
        "share_on": [1.0, 0.5, 0.2, 1.0, 0.1],
    }
)


def test_retention_heatmap_has_a_row_per_cohort_and_a_column_per_week():
    fig = charts.retention_heatmap(WEEKLY)
    (heatmap,) = fig.data
    assert list(heatmap.x) == ["Week 0", "Week 1", "Week 2"]
    assert list(heatmap.y) == ["2 Mar 2026 (10)", "9 Mar 2026 (30)"]
    assert [list(row) for row in heatmap.z] == [[1.0, 0.5, 0.2], [1.0, 0.1, None]]
    assert heatmap.text[0][1] == "50.0%"
    assert heatmap.zmax == 0.5  # colours scaled to the later weeks, not to week 0's 100%


def test_retention_curves_mean_is_weighted_by_cohort_size():
    fig = charts.retention_curves(WEEKLY)
    mean = trace(fig, "All cohorts (weighted)")
    assert list(mean.x) == [0, 1, 2]
    assert list(mean.y) == pytest.approx([1.0, 8 / 40, 2 / 10])
    assert len(fig.data) == 3  # two faint cohort lines and the mean


def test_retention_weeks_in_progress_are_marked_and_left_out_of_the_curves():
    """Last loaded day Wednesday 18 Mar: the 9 Mar cohort's week 1 (16-22 Mar) is in progress,
    the 2 Mar cohort's week 2 too; week 1 of 2 Mar (9-15 Mar) is whole."""
    last_day = D(2026, 3, 18)
    (heatmap,) = charts.retention_heatmap(WEEKLY, last_day=last_day).data
    assert [list(row) for row in heatmap.text] == [["100.0%", "50.0%", "20.0% *"], ["100.0%", "10.0% *", ""]]
    assert heatmap.customdata[1][1] == " (in progress: its week ends after 18 Mar 2026, the last whole day)"
    assert charts.weeks_in_progress(WEEKLY, last_day) == 2
    # Broken down by a dimension of two values, the same two cells (it said 4, one per group; QA).
    groups = pl.concat([WEEKLY.with_columns(platform=pl.lit(value)) for value in ("ios", "web")])
    assert charts.weeks_in_progress(groups, last_day) == 2
    mean = trace(charts.retention_curves(WEEKLY, last_day=last_day), "All cohorts (weighted)")
    assert list(mean.x) == [0, 1]
    assert list(mean.y) == pytest.approx([1.0, 5 / 10])  # 9 Mar's 3 of 30 so far is not a week
    # On the Sunday the weeks are whole: nothing marked, the mean as without a day.
    assert charts.weeks_in_progress(WEEKLY, D(2026, 3, 22)) == 0
    whole = trace(charts.retention_curves(WEEKLY, last_day=D(2026, 3, 22)), "All cohorts (weighted)")
    assert list(whole.y) == pytest.approx([1.0, 8 / 40, 2 / 10])
    # Only week 0 whole: nothing to draw, said so.
    assert no_data(charts.retention_curves(WEEKLY, last_day=D(2026, 3, 10)))


def test_a_week_0_short_of_its_cohort_is_in_progress_until_its_sunday():
    """With active events set, users first seen by another event are not yet retained in week
    0: the 16 Mar cohort (2 of 4 active so far, last whole day Wednesday 18 Mar) read 50.0%
    unmarked and pulled the mean's week 0 down to (10 + 2) / 14 (QA). It is in progress; the
    mean's week 0 is the whole 2 Mar cohort's 10 of 10."""
    weekly = pl.DataFrame(
        {
            "cohort_week": [D(2026, 3, 2), D(2026, 3, 2), D(2026, 3, 16)],
            "size": [10, 10, 4],
            "week": [0, 1, 0],
            "users_on": [10, 5, 2],
            "share_on": [1.0, 0.5, 0.5],
        }
    )
    last_day = D(2026, 3, 18)
    (heatmap,) = charts.retention_heatmap(weekly, last_day=last_day).data
    assert [list(row) for row in heatmap.text] == [["100.0%", "50.0%"], ["50.0% *", ""]]
    assert charts.weeks_in_progress(weekly, last_day) == 1
    mean = trace(charts.retention_curves(weekly, last_day=last_day), "All cohorts (weighted)")
    assert list(mean.y) == pytest.approx([1.0, 0.5])
    assert charts.weeks_in_progress(weekly, D(2026, 3, 22)) == 0  # on its Sunday the week is whole


def test_day_n_retention_pools_users_over_days():
    day_n = pl.DataFrame(
        {
            "day": [D(2026, 3, 1)] * 2 + [D(2026, 3, 2)] * 2,
            "day_n": [1, 7, 1, 7],
            "users": [10, 10, 30, 0],
            "retained": [5, 2, 9, 0],
        }
    ).with_columns((pl.col("retained") / pl.col("users")).alias("rate"))
    fig = charts.day_n_retention(day_n)
    (bars,) = fig.data
    assert list(bars.x) == ["D1", "D7"]
    assert list(bars.y) == pytest.approx([14 / 40, 2 / 10])


# --- funnels ------------------------------------------------------------------------------------


FUNNEL = pl.DataFrame(
    {
        "step": [1, 2, 3],
        "event": ["signup", "create_report", "share_report"],
        "users": [100, 40, 10],
        "conversion": [1.0, 0.4, 0.1],
        "drop_off": [None, 60, 30],
        "drop_off_rate": [None, 0.6, 0.75],
        "median_seconds": [None, 600.0, 7200.0],
    }
)


def test_funnel_bars_stack_reached_and_dropped_users():
    fig = charts.funnel_bars(FUNNEL)
    reached, dropped = fig.data
    assert list(reached.x) == ["1. signup", "2. create_report", "3. share_report"]
    assert list(reached.y) == [100, 40, 10]
    assert list(reached.text) == ["100 · 100.0%", "40 · 40.0%", "10 · 10.0%"]
    assert list(dropped.y) == [0, 60, 30]
    assert fig.layout.barmode == "stack"


def test_funnel_bars_by_breakdown_are_grouped_conversions():
    frame = pl.concat(
        [FUNNEL.with_columns(pl.lit("web").alias("platform")), FUNNEL.with_columns(pl.lit("ios").alias("platform"))]
    )
    fig = charts.funnel_bars(frame, group="platform")
    assert sorted(t.name for t in fig.data) == ["ios", "web"]
    assert list(fig.data[0].y) == [1.0, 0.4, 0.1]


def test_time_to_convert_picks_a_readable_unit():
    fig = charts.time_to_convert(FUNNEL)
    (bars,) = fig.data
    assert list(bars.x) == ["2. create_report", "3. share_report"]
    assert list(bars.y) == pytest.approx([10 / 60, 2.0])  # hours: the longest is 2 hours
    assert fig.layout.yaxis.title.text == "Median hours from the step before"
    assert list(bars.text) == ["10 min", "2.0 h"]


def test_a_funnel_nobody_started_is_no_data():
    assert no_data(charts.funnel_bars(FUNNEL.with_columns(pl.lit(0).alias("users"))))


# --- engagement -----------------------------------------------------------------------------------


def test_lifecycle_bars_stack_statuses_with_dormant_below_zero():
    weeks = pl.DataFrame(
        {
            "week": [D(2026, 3, 2), D(2026, 3, 9)],
            "new": [5, 3],
            "returning": [10, 12],
            "resurrecting": [1, 2],
            "dormant": [-4, -6],
            "complete": [True, False],
        }
    )
    fig = charts.lifecycle_bars(weeks)
    assert [t.name for t in fig.data] == ["New", "Returning", "Resurrecting", "Dormant"]
    assert list(trace(fig, "Dormant").y) == [-4, -6]
    assert list(trace(fig, "New").marker.opacity) == [1.0, 0.45]  # the running week is faded
    assert fig.layout.barmode == "relative"


def test_engagement_matrix_places_features_by_adoption_and_frequency():
    matrix = pl.DataFrame(
        {
            "event": ["share", "export", "never"],
            "adopters": [50, 10, 0],
            "adoption": [0.5, 0.1, 0.0],
            "frequency": [3.0, 1.5, None],
            "events": [400, 20, 0],
        }
    )
    fig = charts.engagement_matrix(matrix)
    (points,) = fig.data
    assert list(points.text) == ["share", "export"]  # unused features are left out
    assert list(points.x) == [0.5, 0.1]
    assert list(points.y) == [3.0, 1.5]
    assert fig.layout.xaxis.tickformat == ".0%"
    # Features used by 0.3% of MAU: every tick read "0%" (QA); the axis keeps two decimals.
    rare = charts.engagement_matrix(matrix.with_columns(pl.col("adoption") / 100))
    assert rare.layout.xaxis.tickformat == ".2~%"


def test_engagement_matrix_labels_of_nearby_features_do_not_overlap():
    # As in the demo: export_pdf, share_report and use_ai_summary close in adoption and frequency.
    xs, ys = [0.84, 0.70, 0.48, 0.45, 0.40, 0.05], [3.7, 4.1, 2.9, 3.0, 2.9, 1.0]
    labels = ["view_dashboard", "login", "use_ai_summary", "share_report", "export_pdf", "upgrade"]
    sizes = [40.0, 30.0, 24.0, 24.0, 24.0, 12.0]
    positions = charts.label_positions(xs, ys, labels, sizes)
    assert positions[:2] == ["top center", "top center"]  # far from the rest: above, as usual
    assert len(set(positions[2:5])) == 3  # three neighbours: three different sides
    assert positions[4] == "middle left"  # right of it is share_report's marker
    assert positions[5] == "top center"
    assert charts.label_positions([0.5], [2.0], ["alone"], [12.0]) == ["top center"]
    matrix = pl.DataFrame({"event": labels, "adopters": [1] * 6, "adoption": xs, "frequency": ys, "events": [10] * 6})
    assert len(charts.engagement_matrix(matrix).data[0].textposition) == 6


def test_stickiness_shows_dau_and_mau_on_hover():
    active = pl.DataFrame({"day": days("2026-03-01", 2), "dau": [2, 3], "mau": [10, 10], "stickiness": [0.2, 0.3]})
    fig = charts.stickiness(active)
    assert list(fig.data[0].y) == [0.2, 0.3]
    assert [list(c) for c in fig.data[0].customdata] == [[2, 10], [3, 10]]


def test_feature_adoption_one_line_per_feature():
    adoption = pl.DataFrame(
        {"day": days("2026-03-01", 2) * 2, "event": ["a", "a", "b", "b"], "adoption": [0.1, 0.2, 0.5, 0.4]}
    )
    fig = charts.feature_adoption(adoption)
    assert [t.name for t in fig.data] == ["a", "b"]


# --- roadmap --------------------------------------------------------------------------------------

ITEMS = pl.DataFrame(
    {
        "item_id": ["EP-1", "EP-2", "EP-3"],
        "title": ["Checklist", "Gallery", "No dates"],
        "health": ["done", "late", "on_track"],
        "start_date": [D(2026, 3, 1), D(2026, 3, 10), None],
        "due_date": [D(2026, 3, 20), D(2026, 4, 1), None],
        "baseline_due_date": [D(2026, 3, 20), D(2026, 3, 25), None],
        "completed_date": [D(2026, 3, 18), None, None],
        "forecast_date": [D(2026, 3, 18), D(2026, 4, 20), None],
        "progress": [1.0, 0.5, 0.0],
        "reason": ["done on 2026-03-18", "due 2026-04-01, 5 days ago", ""],
    }
)


def test_gantt_draws_a_bar_per_dated_item_coloured_by_health():
    fig = charts.gantt(ITEMS, today=D(2026, 4, 6))
    bars = {t.name: t for t in fig.data if t.type == "bar"}
    assert sorted(bars) == ["Done", "Late"]  # the undated item is left out
    assert list(bars["Done"].base) == ["2026-03-01"]
    assert list(bars["Done"].x) == [17 * 86_400_000]  # start to completion
    assert list(bars["Late"].x) == [22 * 86_400_000]  # start to the current due date
    assert bars["Late"].marker.color == charts.HEALTH_COLORS["late"]
    baseline = trace(fig, "Baseline due date")
    assert list(baseline.x) == [D(2026, 3, 25)]  # only where it differs from the due date
    assert list(trace(fig, "Forecast").x) == [D(2026, 4, 20)]


def test_gantt_keeps_items_of_one_short_label_apart_and_invents_no_start():
    """Two Linear milestones "Beta", ids alike in their first 12 characters, shared one row (one
    bar over the other), and an item without a start date said "start" 14 days before its due
    date, where its bar is drawn from (QA)."""
    items = pl.DataFrame(
        {
            "item_id": ["milestone:7a9e0b1c-01", "milestone:7a9e0b1c-02"],
            "title": ["Beta", "Beta"],
            "health": ["off_track", "not_started"],
            "start_date": [D(2026, 3, 1), None],
            "due_date": [D(2026, 3, 20), D(2026, 4, 1)],
            "baseline_due_date": [D(2026, 3, 20), D(2026, 4, 1)],
            "completed_date": pl.Series([None, None], dtype=pl.Date),
            "forecast_date": pl.Series([None, None], dtype=pl.Date),
            "progress": [None, 0.0],
            "reason": ["", ""],
        }
    )
    bars = [t for t in charts.gantt(items, today=D(2026, 3, 10)).data if t.type == "bar"]
    rows = [label for bar in bars for label in bar.y]
    assert len(set(rows)) == 2 and all("7a9e0b1c-0" in label for label in rows)
    data = {bar.name: list(bar.customdata[0]) for bar in bars}
    assert data["Not started"][0] == "–" and data["Off track"][3] == "progress unknown"


def test_burn_up_and_slip_history():
    burn = pl.DataFrame(
        {"snapshot_date": days("2026-03-01", 2), "done": [1.0, 3.0], "total": [8.0, 10.0], "unit": ["points", "points"]}
    )
    fig = charts.burn_up(burn)
    assert list(trace(fig, "Done (points)").y) == [1.0, 3.0]
    assert list(trace(fig, "Scope (points)").y) == [8.0, 10.0]
    slip = pl.DataFrame(
        {
            "snapshot_date": days("2026-03-01", 2),
            "due_date": [D(2026, 4, 1), D(2026, 4, 15)],
            "baseline_due_date": [D(2026, 4, 1)] * 2,
            "slip_days": [0, 14],
        }
    )
    fig = charts.slip_history(slip)
    assert list(trace(fig, "Due date in the snapshot").customdata) == [0, 14]
    assert trace(fig, "Baseline").mode == "lines"
    assert fig.layout.xaxis.tickformat is None  # two snapshots: Plotly's own date ticks


def test_one_snapshot_is_drawn_by_its_day_with_its_baseline():
    """Browser QA: after a first roadmap load every item has one snapshot. Both charts' x axes
    read in milliseconds ("23:59:59.999 Nov 28, 2026 ... 00:00:00.0005"), and the baseline was
    in the legend but not drawn (a line of one point)."""
    one = D(2026, 11, 28)
    burn = charts.burn_up(pl.DataFrame({"snapshot_date": [one], "done": [1.0], "total": [4.0], "unit": ["items"]}))
    slip = charts.slip_history(
        pl.DataFrame(
            {
                "snapshot_date": [one],
                "due_date": [D(2026, 12, 5)],
                "baseline_due_date": [D(2026, 11, 1)],
                "slip_days": [34],
            }
        )
    )
    for fig in (burn, slip):
        assert fig.layout.xaxis.tickformat == "%d %b %Y"
        assert list(fig.layout.xaxis.range) == [D(2026, 11, 27), D(2026, 11, 29)]
    assert "markers" in trace(slip, "Baseline").mode


# --- voice of customer ------------------------------------------------------------------------------


def test_score_trend_draws_the_score_over_response_bars():
    frame = pl.DataFrame({"day": days("2026-03-02", 2), "responses": [5, 0], "nps": [20.0, None]})
    fig = charts.score_trend(frame, "nps", name="NPS", value_range=(-100, 100))
    responses, score = fig.data
    assert list(responses.y) == [5, 0]
    assert score.y[0] == 20.0 and math.isnan(score.y[1])  # a week without answers is a gap
    assert score.yaxis == "y2"
    assert list(fig.layout.yaxis2.range) == [-105, 105]  # -100 to 100 with room for a marker on either end


def test_a_csat_scale_axis_is_read_from_the_scores_not_the_answer_counts():
    frame = pl.DataFrame({"day": days("2026-03-02", 2), "responses": [40, 50], "csat": [0.004, 0.006]})
    fig = charts.score_trend(frame, "csat", name="CSAT", fmt="percent")
    assert fig.layout.yaxis2.tickformat == ".2~%"


def test_score_distribution_colours_detractors_passives_promoters():
    scores = pl.DataFrame({"score": list(range(11)), "answers": [1] * 11})
    (bars,) = charts.score_distribution(scores).data
    colors = list(bars.marker.color)
    assert colors[6] == charts.NPS_GROUP_COLORS["detractor"]
    assert colors[7] == colors[8] == charts.NPS_GROUP_COLORS["passive"]
    assert colors[9] == colors[10] == charts.NPS_GROUP_COLORS["promoter"]


def test_score_distribution_leaves_room_for_the_tallest_count():
    """The count above the tallest bar (21) was cut at the chart's top edge."""
    figure = charts.score_distribution(pl.DataFrame({"score": [9, 10], "answers": [5, 21]}))
    assert figure.layout.yaxis.range[1] > 21 * 1.1 and figure.data[0].cliponaxis is False


def test_segment_scores_sorted_with_answer_counts():
    frame = pl.DataFrame({"plan": ["pro", "free", "team"], "responses": [4, 10, 8], "nps": [50.0, -10.0, 12.5]})
    (bars,) = charts.segment_scores(frame, "plan", "nps").data
    assert list(bars.y) == ["free", "team", "pro"]
    # As the NPS card writes them: 12.5 is +13 there, and read 12 on its bar (QA).
    assert list(bars.text) == ["-10 (n=10)", "+13 (n=8)", "+50 (n=4)"]


def test_impact_bars_grey_out_changes_within_normal_variation():
    """A Vega-Lite spec (the summary's chart): a bar per measured item in the frame's order, its
    change as a fraction and as text, one colour where it stands out whichever way it moved (a
    fall is the goal of some objectives), grey where not."""
    impact = pl.DataFrame(
        {
            "item_id": ["EP-1", "EP-5", "EP-6", "EP-7"],
            "title": ["Checklist", "Dark mode", "Export", "<b>Bulk</b> edit for every table in the workspace"],
            "change_pct": [40.0, -2.0, None, -12.5],
            "significant": [True, False, True, True],
        }
    )
    spec = charts.impact_bars(impact)
    rows = spec["data"]["values"]
    assert [r["item"] for r in rows] == [
        "EP-1 · Checklist",
        "EP-5 · Dark mode",
        "EP-7 · <b>Bulk</b> edit for every tabl…",  # as typed (Vega draws text, not HTML): 31 + "…"
    ]
    assert [r["change"] for r in rows] == pytest.approx([0.4, -0.02, -0.125])
    assert [r["text"] for r in rows] == ["+40.0%", "-2.0%", "-12.5%"]
    assert [r["color"] for r in rows] == [charts.STANDS_OUT, charts.MUTED, charts.STANDS_OUT]
    bars, up, down, zero = spec["layer"]
    assert bars["encoding"]["y"]["sort"] is None  # the frame's order (newest ship first), not alphabetical
    assert bars["encoding"]["color"] == {"field": "color", "type": "nominal", "scale": None, "legend": None}
    assert up["transform"] == [{"filter": "datum.change >= 0"}] and up["mark"]["align"] == "left"
    assert down["transform"] == [{"filter": "datum.change < 0"}] and down["mark"]["align"] == "right"
    assert zero["encoding"]["x"] == {"datum": 0}
    assert spec["encoding"]["x"]["axis"]["format"] == "+.0%"
    # Review: changes of +0.4% and -0.3% had every tick read "+0%" or "-0%".
    small = impact.head(2).with_columns(pl.Series("change_pct", [0.4, -0.3]))
    assert charts.impact_bars(small)["encoding"]["x"]["axis"]["format"] == "+.2~%"


def test_a_chart_of_one_day_or_week_is_drawn_by_its_day():
    """Review: one week of answers, one week of lifecycle and one day of feature use read in
    milliseconds ("23:59:59.9996 Mar 1, 2026"); one day of adoption, a line of one point, was
    not drawn at all."""
    day = D(2026, 3, 2)
    figures = [
        charts.score_trend(pl.DataFrame({"day": [day], "responses": [5], "nps": [20.0]}), "nps", name="NPS"),
        charts.lifecycle_bars(
            pl.DataFrame(
                {"week": [day], "new": [5], "returning": [1], "resurrecting": [0], "dormant": [-1], "complete": [True]}
            )
        ),
        charts.feature_adoption(pl.DataFrame({"day": [day], "event": ["share"], "adoption": [0.2]})),
    ]
    for fig in figures:
        assert fig.layout.xaxis.tickformat == "%d %b %Y"
    # A line's axis spans the days around it; a bar keeps Plotly's range, which is its own width:
    # the days around a lone bar drew it a millisecond wide, not at all (the next review).
    assert list(figures[2].layout.xaxis.range) == [D(2026, 3, 1), D(2026, 3, 3)]
    assert figures[0].layout.xaxis.range is None and figures[1].layout.xaxis.range is None
    # One tick, on the day: over a millisecond's range, ticks before midnight read the day before.
    assert figures[0].layout.xaxis.dtick == 86_400_000 and figures[0].layout.xaxis.tick0 == day
    assert "markers" in figures[2].data[0].mode


def test_impact_bars_of_nothing_measured_say_so():
    for impact in (
        pl.DataFrame(schema={"item_id": pl.String, "title": pl.String, "change_pct": pl.Float64}),
        pl.DataFrame(
            {"item_id": ["EP-1"], "title": ["Checklist"], "change_pct": [None]},
            schema_overrides={"change_pct": pl.Float64},
        ),
    ):
        spec = charts.impact_bars(impact)
        assert "layer" not in spec
        assert spec["data"]["values"] == [{"message": "No shipped item with a metric and enough days before and after"}]


def test_cohorts_without_a_later_week_are_no_data():
    """A single week of data: every cohort is 100% in week 0, which says nothing."""
    first_week = WEEKLY.filter(pl.col("week") == 0)
    assert no_data(charts.retention_heatmap(first_week))
    assert no_data(charts.retention_curves(first_week))


def test_day_n_with_nobody_first_seen_says_so_not_too_early():
    """A segment whose users all started outside it has no cohort: the chart said "not enough
    days after sign-up", as if waiting would help."""
    nobody = pl.DataFrame(
        {
            "day": [D(2026, 3, 1)] * 3,
            "day_n": [1, 7, 30],
            "users": [0, 0, 0],
            "retained": [0, 0, 0],
            "rate": [None] * 3,
        },
        schema_overrides={"rate": pl.Float64},
    )
    fig = charts.day_n_retention(nobody)
    assert [a.text for a in fig.layout.annotations] == ["No user was first seen in this range"]
    waiting = nobody.with_columns(pl.Series("users", [4, 0, 0]))
    assert [a.text for a in charts.day_n_retention(waiting).layout.annotations] == [
        "Not enough days after sign-up to measure D1, D7 or D30 yet"
    ]


def test_small_values_get_plain_ticks_not_milli():
    """ARPU of $0.2-$0.8 had ticks "$200m ... $800m", read as millions; large ones keep 12k, $1.2M."""
    small = charts.metric_trend(
        pl.DataFrame({"day": [D(2026, 3, 1), D(2026, 3, 2)], "value": [0.2, 0.8]}), name="ARPU", fmt="currency"
    )
    assert small.layout.yaxis.tickformat == "$,.2~f"
    large = charts.metric_trend(
        pl.DataFrame({"day": [D(2026, 3, 1), D(2026, 3, 2)], "value": [900.0, 19_000.0]}),
        name="Revenue",
        fmt="currency",
    )
    assert large.layout.yaxis.tickformat == "$~s"


def test_a_single_day_is_a_point_on_a_day_axis():
    """A one-day range drew an empty plot whose axis spanned milliseconds."""
    fig = charts.metric_trend(pl.DataFrame({"day": [D(2026, 11, 27)], "value": [183.0]}), name="DAU", fmt="number")
    assert fig.data[0].mode == "lines+markers"
    assert list(fig.layout.xaxis.range) == [D(2026, 11, 26), D(2026, 11, 28)]
    assert fig.layout.xaxis.tickformat == "%d %b %Y"
    two = charts.metric_trend(
        pl.DataFrame({"day": [D(2026, 11, 26), D(2026, 11, 27)], "value": [1.0, 2.0]}), name="DAU", fmt="number"
    )
    assert two.data[0].mode == "lines" and two.layout.xaxis.range is None


def test_a_comparison_line_is_named_by_its_period_not_its_bucket_days():
    series = pl.DataFrame({"day": [D(2026, 11, 2), D(2026, 11, 9)], "value": [5.0, 6.0]})
    compared = pl.DataFrame(
        {
            "day": [D(2026, 11, 2), D(2026, 11, 9)],
            "value": [5.0, 6.0],
            "previous_period_day": [D(2026, 9, 28), D(2026, 10, 5)],
            "previous_period_value": [4.0, 4.5],
        }
    )
    spans = {"previous_period": (D(2026, 10, 3), D(2026, 10, 30))}
    fig = charts.metric_trend(series, name="DAU", compared=compared, compared_periods=spans)
    assert fig.data[1].name == "Previous period (3 Oct 2026 – 30 Oct 2026)"
    assert charts.metric_trend(series, name="DAU", compared=compared).data[1].name == (
        "Previous period (28 Sep 2026 – 5 Oct 2026)"
    )


def test_the_nps_trend_has_round_ticks_room_for_its_extremes_and_monday_weeks():
    weekly = pl.DataFrame(
        {
            "day": [D(2026, 10, 26), D(2026, 11, 2), D(2026, 11, 9)],
            "nps": [100.0, 20.0, -10.0],
            "responses": [1, 17, 23],
        }
    )
    fig = charts.score_trend(weekly, "nps", name="NPS", value_range=(-100, 100))
    axis = fig.layout.yaxis2
    assert (axis.tickmode, axis.tick0, axis.dtick) == ("linear", -100, 50)
    assert axis.range[0] < -100 and axis.range[1] > 100
    assert fig.layout.xaxis.tick0 == D(2026, 10, 26) and fig.layout.xaxis.dtick == 7 * 86_400_000


def test_a_weekly_comparison_line_names_the_days_each_point_sums():
    """At week grain the comparison's hover read "4 on 2026-11-06" for the sum of 6-12 Nov
    (display QA); a daily one names its day."""
    week = pl.DataFrame(
        {
            "day": [dt.date(2026, 11, 16)],
            "value": [5.0],
            "previous_period_day": [dt.date(2026, 11, 6)],
            "previous_period_end": [dt.date(2026, 11, 12)],
            "previous_period_value": [4.0],
        }
    )
    fig = charts.metric_trend(week.select("day", "value"), name="Events", compared=week)
    (line,) = [t for t in fig.data if t.name.startswith("Previous period")]
    assert list(line.customdata) == ["over 6 Nov 2026 – 12 Nov 2026"]
    assert line.hovertemplate.endswith(" %{customdata}")
    day = week.drop("previous_period_end")
    (line,) = [
        t
        for t in charts.metric_trend(day.select("day", "value"), name="Events", compared=day).data
        if t.name.startswith("Previous")
    ]
    assert list(line.customdata) == ["on 6 Nov 2026"]


def test_a_closer_before_a_right_to_left_override_does_not_leave_it_open():
    """Counting closers against openers let "\u202c\u202e" leave the override open (review)."""
    assert charts.plot_text("\u202c\u202eApproved").endswith("\u202c")
    assert charts.chart_text("\u2069\u2067x") == "\u2069\u2067x\u2069"
