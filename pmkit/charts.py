"""Plotly figure builders: frames from pmkit in, a ``go.Figure`` out. Pure: no Streamlit, no I/O.

Every builder takes the frame its engine function returns (named in its docstring) and returns a
figure; an empty or unusable frame gives ``empty_figure`` (a blank plot with a "No data ..."
note), never an exception, so a page can always draw something.

Text from files (item titles, event names, segment values) reaches Plotly, which renders a few
HTML-like tags in labels; ``plot_text`` escapes them so such text shows as typed.

One builder departs from Plotly: ``impact_bars`` returns a Vega-Lite spec, because it is the
executive summary's only chart. Plotly's code (a 4.7 MB bundle the browser fetches and runs on a
page's first Plotly chart) kept the browser busy for 1.2-1.5 s after the summary's script had
finished; Vega's code is loaded there anyway for the metrics' sparklines (bench/README.md).
Vega draws labels and tooltips as text, never as HTML, so its text is only cut, not escaped.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go
import polars as pl

from pmkit.formatting import (
    closed_bidi,
    fixed,
    format_date,
    format_duration,
    format_value,
    plotly_hover_format,
    plotly_tick_format,
    whole_points,
)

HEALTH_COLORS = {
    "on_track": "#2e7d32",
    "at_risk": "#f9a825",
    "off_track": "#ef6c00",
    "late": "#c62828",
    "done": "#78909c",
    "not_started": "#b0bec5",
    "cancelled": "#cfd8dc",
    "no_data": "#cfd8dc",
}
HEALTH_LABELS = {
    "on_track": "On track",
    "at_risk": "At risk",
    "off_track": "Off track",
    "late": "Late",
    "done": "Done",
    "not_started": "Not started",
    "cancelled": "Cancelled",
    "no_data": "No data",
}
LIFECYCLE_COLORS = {"new": "#1e88e5", "returning": "#43a047", "resurrecting": "#8e24aa", "dormant": "#e53935"}
COMPARISON_LABELS = {
    "previous_period": "Previous period",
    "previous_week": "Week before",
    "previous_4_weeks": "4 weeks before",
    "same_period_last_year": "Same period last year",
}
NPS_GROUP_COLORS = {"detractor": "#e53935", "passive": "#fbc02d", "promoter": "#43a047"}
MAIN_COLOR = "#1e63b5"
# Plotly's own ten colours repeat from a breakdown's eleventh value on (app versions 4.0.0 and
# 4.6.0 were both blue; QA): a breakdown of more values draws from these 24.
MANY_COLORS = (
    "#2E91E5", "#E15F99", "#1CA71C", "#FB0D0D", "#DA16FF", "#222A2A", "#B68100", "#750D86",
    "#EB663B", "#511CFB", "#00A08B", "#FB00D1", "#FC0080", "#B2828D", "#6C7C32", "#778AAE",
    "#862A16", "#A777F1", "#620042", "#1616A7", "#DA60CA", "#6C4516", "#0D2A63", "#AF0038",
)  # fmt: skip
# More legend entries than fit on one line above the plot wrap under the chart's toolbar: they
# go below it instead.
LEGEND_ABOVE_MAX = 6
MUTED = "#90a4ae"
# A change that stands out: neither good nor bad by itself (a fall is the goal of an objective to
# decrease errors), so one colour for both directions, as in the HTML report.
STANDS_OUT = "#0969da"
HEIGHT = 360
LABEL_LENGTH = 48


def plot_text(text: object, limit: int | None = None) -> str:
    """Untrusted text made safe for Plotly labels: Plotly renders <b>, <a href> and friends in
    text and hover labels, so < and > become entities (shown as typed); long text is cut.

    >>> plot_text("<b>Dark</b> mode")
    '&lt;b&gt;Dark&lt;/b&gt; mode'
    """
    return chart_text(text, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def empty_figure(message: str = "No data for this selection", height: int = 220) -> go.Figure:
    """A blank plot that says why it is blank."""
    fig = go.Figure()
    fig.add_annotation(
        text=plot_text(message),
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 15, "color": "#607d8b"},
    )
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _layout(
    fig: go.Figure, *, height: int = HEIGHT, y_format: str | None = None, title: str | None = None
) -> go.Figure:
    # The legend sits above the plot; a title takes its place there and pushes it below.
    legend = {"orientation": "h", "xanchor": "left", "x": 0, "yanchor": "bottom", "y": 1.02}
    if title:
        legend.update(yanchor="top", y=-0.22)
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40 if title else 30, "b": 10},
        hovermode="x unified",
        legend=legend,
        title={"text": plot_text(title), "font": {"size": 14}, "x": 0, "xanchor": "left"} if title else None,
    )
    if y_format:
        fig.update_yaxes(tickformat=plotly_tick_format(y_format, largest_y(fig)), rangemode="tozero")
    day = _only_day(fig)
    if day is not None and fig.layout.xaxis.range is None:
        if any(isinstance(trace, go.Bar) for trace in fig.data):
            # A lone bar on a date axis is a millisecond wide: by the days around it, it was not
            # drawn at all (review). Plotly's own range keeps it; its ticks are written by day.
            fig.update_xaxes(tickformat="%d %b %Y", tick0=day, dtick=86_400_000)  # one tick: its day
        else:
            one_day_axis(fig, day)  # any line of one day or week: Plotly spans it by milliseconds
    return fig


def _only_day(fig: go.Figure) -> dt.date | None:
    """The one date every trace's x holds, if they hold one (None otherwise)."""
    days: set[Any] = set()
    for trace in fig.data:
        xs = getattr(trace, "x", None)
        for value in xs if xs is not None else ():
            value = value.item() if hasattr(value, "item") else value  # a NumPy scalar
            if not isinstance(value, dt.date):
                return None
            days.add(value.date() if isinstance(value, dt.datetime) else value)
            if len(days) > 1:
                return None
    return next(iter(days)) if days else None


def largest_y(fig: go.Figure, *, span: bool = False) -> float | None:
    """The largest absolute numeric y of the figure's traces (None: none is a number); with
    ``span``, the largest less the smallest (an axis that does not start at zero)."""
    numbers = []
    for trace in fig.data:
        for value in getattr(trace, "y", None) if getattr(trace, "y", None) is not None else ():
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            if math.isfinite(number):
                numbers.append(number)
    if not numbers:
        return None
    return max(numbers) - min(numbers) if span else max(abs(n) for n in numbers)


def _usable(frame: pl.DataFrame | None, *columns: str) -> bool:
    return (
        frame is not None
        and frame.height > 0
        and all(c in frame.columns for c in columns)
        and frame.select(pl.col(columns[-1]).is_not_null().any()).item()
    )


def _hover(fmt: str) -> str:
    return "%{y:" + plotly_hover_format(fmt) + "}"


# --- metric trends ----------------------------------------------------------------------------


def _compared_days(part: pl.DataFrame, against: str) -> list[str]:
    """The days each point of a comparison line stands for, for its hover: "on 6 Nov 2026", or
    a week's or a month's "over 6 Nov 2026 – 12 Nov 2026" (a 7-day sum read "4 on 2026-11-06").

    >>> frame = pl.DataFrame({"previous_period_day": [dt.date(2026, 11, 6)], "previous_period_end": [dt.date(2026, 11, 12)]})
    >>> _compared_days(frame, "previous_period"), _compared_days(frame.drop("previous_period_end"), "previous_period")
    (['over 6 Nov 2026 – 12 Nov 2026'], ['on 6 Nov 2026'])
    """
    starts = part[f"{against}_day"].to_list()
    ends = part[f"{against}_end"].to_list() if f"{against}_end" in part.columns else starts
    return [
        f"on {format_date(start)}" if end in (None, start) else f"over {format_date(start)} – {format_date(end)}"
        for start, end in zip(starts, ends, strict=True)
    ]


def metric_trend(
    series: pl.DataFrame,
    *,
    name: str,
    fmt: str = "number",
    group: str | None = None,
    compared: pl.DataFrame | None = None,
    rolling: pl.DataFrame | None = None,
    target: pl.DataFrame | None = None,
    ships: pl.DataFrame | None = None,
    anomalies: pl.DataFrame | None = None,
    height: int = HEIGHT,
    smooth: bool = False,
    compared_periods: Mapping[str, tuple[dt.date, dt.date]] | None = None,
    partial: Mapping[dt.date, str] | None = None,
    empty: str | None = None,
) -> go.Figure:
    """A metric over time (``series``: day, value, and the ``group`` column for a breakdown).

    Optional layers: ``compared`` (``metrics.compare.compare`` output; each NAME_value drawn
    dashed on the day it is compared with), ``rolling`` (``rolling_average``: avg_7d, avg_28d; or
    value_7d, an objective's 7-day value, ``MetricSource.seven_day``),
    ``target`` (``target_path``: day, target), ``ships`` (day, item_id, title: a dotted line
    per shipped item, its title on hover) and ``anomalies`` (day, value, anomaly). ``smooth``
    draws the values faint and the rolling averages bold (for noisy daily values). ``partial``
    (bucket day: words) rings the points of week or month sums the range cuts, so a short
    bucket's sum is not read as a drop. ``empty``: what to say when there is no value to draw.
    """
    if not _usable(series, "day", "value"):
        return empty_figure(empty or f"No {name} data for this selection")
    fig = go.Figure()
    hover = _hover(fmt)
    # One day (a one-day range, one week or month) is a point: a line through it draws nothing.
    single = series["day"].n_unique() == 1
    mode = "lines+markers" if single else "lines"
    if group and group in series.columns:
        for index, (key, part) in enumerate(series.sort("day").group_by(group, maintain_order=True)):
            label = plot_text(key[0] if key[0] is not None else "(none)", LABEL_LENGTH)
            fig.add_scatter(
                x=part["day"], y=part["value"], mode=mode, name=label, hovertemplate=hover, legendrank=index
            )
        fig.update_layout(showlegend=True)  # one value (a filter on the same dimension) is named too
        groups = series[group].n_unique()
    else:
        groups = 0
        ordered = series.sort("day")
        line = {"color": "#b0c4de", "width": 1} if smooth else {"color": MAIN_COLOR, "width": 2.5}
        fig.add_scatter(
            x=ordered["day"], y=ordered["value"], mode=mode, name=plot_text(name), line=line, hovertemplate=hover
        )
    if compared is not None and compared.height:
        dashes = ["dash", "dot", "dashdot"]
        names = [c.removesuffix("_value") for c in compared.columns if c.endswith("_value") and c != "value"]
        for index, against in enumerate(names):
            part = compared.filter(pl.col(f"{against}_value").is_not_null())
            if not part.height:
                continue
            # The days the line covers: at a week or month grain its points are on the buckets'
            # first days, which named "28 Sep - 26 Oct" for a period of 3 - 30 Oct.
            first, last = (compared_periods or {}).get(
                against, (part[f"{against}_day"].min(), part[f"{against}_day"].max())
            )
            label = f"{COMPARISON_LABELS.get(against, against)} ({format_date(first)} – {format_date(last)})"
            fig.add_scatter(
                x=part["day"],
                y=part[f"{against}_value"],
                mode="lines",
                name=label,
                line={"color": MUTED, "dash": dashes[index % len(dashes)], "width": 1.5},
                customdata=_compared_days(part, against),
                hovertemplate=hover + " %{customdata}",
            )
    if rolling is not None and rolling.height:
        for column, width in (("avg_7d", 1.5), ("avg_28d", 2), ("value_7d", 1.5)):
            if column in rolling.columns and rolling[column].is_not_null().any():
                days = column.split("_")[1].removesuffix("d")
                color = MAIN_COLOR if smooth else "#6a1b9a" if days == "28" else "#ab47bc"
                fig.add_scatter(
                    x=rolling["day"],
                    y=rolling[column],
                    mode="lines",
                    name=f"{days}-day {'value' if column.startswith('value') else 'average'}",
                    line={"width": 2.5 if smooth else width, "color": color},
                    hovertemplate=hover,
                )
    if target is not None and target.height:
        fig.add_scatter(
            x=target["day"],
            y=target["target"],
            mode="lines",
            name="Target path",
            line={"color": HEALTH_COLORS["on_track"], "dash": "dot", "width": 2},
            hovertemplate=hover,
        )
    if anomalies is not None and anomalies.height and "anomaly" in anomalies.columns:
        flagged = anomalies.filter(pl.col("anomaly").fill_null(False))
        _add_points(fig, flagged, "Anomaly", {"color": "#c62828", "size": 9, "symbol": "x"}, hover)
    cut = series.filter(pl.col("day").is_in(list(partial or {})) & pl.col("value").is_not_null())
    ring = {"color": "#ffffff", "size": 11, "symbol": "circle", "line": {"color": "#e65100", "width": 2}}
    _add_points(fig, cut, "Partial (only the range's days)", ring, hover, [(partial or {}).get(d) for d in cut["day"]])
    add_ship_markers(fig, ships)
    if single:
        one_day_axis(fig, series["day"][0])
    fig = _layout(fig, height=height, y_format=fmt)
    if groups > 10:
        fig.update_layout(colorway=list(MANY_COLORS))
    if groups > LEGEND_ABOVE_MAX:
        fig.update_layout(
            legend={"yanchor": "top", "y": -0.2}, margin={"b": 10}, height=height + 20 * math.ceil(groups / 5)
        )
    return fig


def _add_points(
    fig: go.Figure, points: pl.DataFrame, name: str, marker: dict[str, Any], hover: str, notes: list | None = None
) -> None:
    """Markers on some days of a trend (day, value), with a note per point on hover."""
    if not points.height:
        return
    fig.add_scatter(
        x=points["day"],
        y=points["value"],
        mode="markers",
        name=name,
        marker=marker,
        customdata=notes,
        hovertemplate=hover + ("<br>%{customdata}" if notes else ""),
    )


def add_ship_markers(fig: go.Figure, ships: pl.DataFrame | None) -> go.Figure:
    """A dotted vertical line per shipped item (day, item_id, title), its title on hover."""
    if ships is None or not ships.height:
        return fig
    for row in ships.drop_nulls("day").iter_rows(named=True):
        title = plot_text(row.get("title") or row.get("item_id"), 80)
        fig.add_vline(x=row["day"], line={"color": "#546e7a", "dash": "dot", "width": 1})
        fig.add_annotation(
            x=row["day"],
            y=1,
            yref="paper",
            yanchor="bottom",
            text="▲ " + plot_text(row.get("item_id"), 12),
            showarrow=False,
            font={"size": 10, "color": "#37474f"},
            hovertext=f"Shipped {format_date(row['day'])}: {title}",
        )
    return fig


# --- retention ----------------------------------------------------------------------------------


def _no_later_weeks(weekly: pl.DataFrame) -> bool:
    return not weekly.filter((pl.col("size") > 0) & (pl.col("week") > 0)).height


def _in_progress(last_day: dt.date | None) -> pl.Expr:
    """A cohort's week whose Sunday is after ``last_day`` (the pages pass the last whole day,
    ``Facts.final_day``): its share can still rise, so it must not read as a drop. Week 0 too
    unless every user of the cohort is in it: with active events set, a user first seen by
    another event is not yet retained in week 0 (a cell read 0.0% unmarked, and the mean's week
    0 halved; QA); without, week 0 is 100% whatever the day."""
    if last_day is None:
        return pl.lit(False)
    sunday = pl.col("cohort_week") + pl.duration(days=pl.col("week") * 7 + 6)
    return ((pl.col("week") > 0) | (pl.col("users_on") < pl.col("size"))) & (sunday > pl.lit(last_day))


IN_PROGRESS_MARK = " *"


def retention_heatmap(weekly: pl.DataFrame, share: str = "share_on", last_day: dt.date | None = None) -> go.Figure:
    """Cohorts (rows) by week offset (columns) from ``metrics.weekly_retention``. With
    ``last_day``, a week still in progress on it is marked with an asterisk."""
    if not _usable(weekly, "cohort_week", "week", share) or not weekly.filter(pl.col("size") > 0).height:
        return empty_figure("No user was first seen in this range")
    if _no_later_weeks(weekly):
        return empty_figure("No cohort has a week after its first one loaded yet")
    frame = (
        weekly.filter(pl.col("size") > 0).sort("cohort_week", "week").with_columns(_in_progress(last_day).alias("open"))
    )
    cohorts = frame.select("cohort_week", "size").unique(maintain_order=True)
    weeks = list(range(int(frame["week"].max()) + 1))
    lookup = {(r["cohort_week"], r["week"]): (r[share], r["open"]) for r in frame.iter_rows(named=True)}
    cells = [[lookup.get((c, w), (None, False)) for w in weeks] for c in cohorts["cohort_week"]]
    z = [[v for v, _ in row] for row in cells]
    text = [
        [format_value(v, "percent") + (IN_PROGRESS_MARK if open_ else "") if v is not None else "" for v, open_ in row]
        for row in cells
    ]
    # The page passes the last whole day: with today open the cells count today's events too, so
    # not "data to <last_day>"; and "the week is not over" was wrong of old data (review).
    until = f" (in progress: its week ends after {format_date(last_day)}, the last whole day)" if last_day else ""
    hover = [[until if open_ else "" for _, open_ in row] for row in cells]
    labels = [f"{format_date(c)} ({s:,})" for c, s in cohorts.iter_rows()]
    # Week 0 is 100% by definition; scale the colours to the later weeks so their differences show.
    later = frame.filter(pl.col("week") > 0)[share].drop_nulls()
    top = float(later.max()) if later.len() else 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"Week {w}" for w in weeks],
            y=labels,
            text=text,
            customdata=hover,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=max(top, 0.05),
            hovertemplate="Cohort %{y}<br>%{x}: %{z:.1%}%{customdata}<extra></extra>",
            colorbar={"tickformat": ".0%"},
        )
    )
    fig.update_yaxes(autorange="reversed", title="Cohort week (users)")
    return _layout(fig, height=max(260, 28 * len(labels) + 80)).update_layout(hovermode="closest")


def weeks_in_progress(weekly: pl.DataFrame, last_day: dt.date | None) -> int:
    """How many cells of cohorts with users ``retention_heatmap`` marks as in progress: each
    (cohort, week) once, under a breakdown too (its rows, one per group, said 96 of 13 cohorts; QA)."""
    if weekly is None or weekly.is_empty() or "cohort_week" not in weekly.columns:
        return 0
    return weekly.filter((pl.col("size") > 0) & _in_progress(last_day)).select("cohort_week", "week").unique().height


def retention_curves(
    weekly: pl.DataFrame, share: str = "share_on", group: str | None = None, last_day: dt.date | None = None
) -> go.Figure:
    """Share retained by week offset: one faint line per cohort and the cohorts' weighted mean
    (or one line per ``group`` value when broken down). With ``last_day``, weeks still in
    progress on it are left out: a cohort's half-counted week would pull its line and the mean
    down."""
    if not _usable(weekly, "cohort_week", "week", share) or not weekly.filter(pl.col("size") > 0).height:
        return empty_figure("No user was first seen in this range")
    if _no_later_weeks(weekly):
        return empty_figure("No cohort has a week after its first one loaded yet")
    frame = weekly.filter((pl.col("size") > 0) & ~_in_progress(last_day))
    if _no_later_weeks(frame):
        return empty_figure("No cohort has a whole week after its first one loaded yet")
    users = "users_on" if share == "share_on" else "users_on_or_after"
    fig = go.Figure()
    keys = [group] if group and group in frame.columns else []
    if not keys:
        for cohort, part in frame.sort("cohort_week", "week").group_by("cohort_week", maintain_order=True):
            fig.add_scatter(
                x=part["week"],
                y=part[share],
                mode="lines",
                line={"color": "#b0bec5", "width": 1},
                showlegend=False,
                name=format_date(cohort[0]),
                hovertemplate="%{y:.1%}",
            )
    mean = (
        frame.group_by([*keys, "week"])
        .agg((pl.col(users).sum() / pl.col("size").sum()).alias("share"))
        .sort([*keys, "week"])
    )
    if keys:
        for key, part in mean.group_by(keys, maintain_order=True):
            fig.add_scatter(
                x=part["week"],
                y=part["share"],
                mode="lines+markers",
                name=plot_text(key[0] or "(none)", LABEL_LENGTH),
                hovertemplate="%{y:.1%}",
            )
    else:
        fig.add_scatter(
            x=mean["week"],
            y=mean["share"],
            mode="lines+markers",
            name="All cohorts (weighted)",
            line={"color": MAIN_COLOR, "width": 3},
            hovertemplate="%{y:.1%}",
        )
    fig.update_xaxes(title="Weeks after the cohort week", dtick=1)
    return _layout(fig, y_format="percent")


def day_n_retention(day_n: pl.DataFrame, group: str | None = None) -> go.Figure:
    """D1 / D7 / D30 bars from ``metrics.day_retention`` (grain "period"), per group if any."""
    if day_n is not None and "users" in day_n.columns and not day_n["users"].sum():
        # Not "too early": nobody qualifies (in a segment, a user's first event must match it).
        return empty_figure("No user was first seen in this range")
    if not _usable(day_n, "day_n", "rate"):
        return empty_figure("Not enough days after sign-up to measure D1, D7 or D30 yet")
    fig = go.Figure()
    keys = [group] if group and group in day_n.columns else []
    frame = day_n.group_by([*keys, "day_n"]).agg(pl.col("users").sum(), pl.col("retained").sum()).sort([*keys, "day_n"])
    frame = frame.with_columns((pl.col("retained") / pl.col("users")).alias("rate"))
    parts = frame.group_by(keys, maintain_order=True) if keys else [((None,), frame)]
    for key, part in parts:
        label = plot_text(key[0] or "(none)", LABEL_LENGTH) if keys else "All new users"
        fig.add_bar(
            x=[f"D{n}" for n in part["day_n"]],
            y=part["rate"],
            name=label,
            text=[format_value(r, "percent") for r in part["rate"]],
            textposition="outside",
            customdata=part.select("retained", "users").rows(),
            hovertemplate="%{y:.1%} (%{customdata[0]:,} of %{customdata[1]:,})",
            marker_color=None if keys else MAIN_COLOR,
        )
    fig.update_layout(barmode="group")
    return _layout(fig, y_format="percent").update_layout(hovermode="closest")


# --- funnels ------------------------------------------------------------------------------------


def _step_labels(frame: pl.DataFrame) -> list[str]:
    return [f"{s}. {plot_text(e, 28)}" for s, e in frame.select("step", "event").iter_rows()]


def funnel_bars(funnel: pl.DataFrame, group: str | None = None) -> go.Figure:
    """Users reaching each step (``metrics.funnel``), with the drop-off from the step before
    stacked in grey; grouped conversion bars when broken down."""
    if not _usable(funnel, "step", "users") or not funnel["users"].sum():
        return empty_figure("Nobody did the first step in this date range")
    fig = go.Figure()
    if group and group in funnel.columns:
        for key, part in funnel.sort(group, "step", nulls_last=True).group_by(group, maintain_order=True):
            fig.add_bar(
                x=_step_labels(part),
                y=part["conversion"],
                name=plot_text(key[0] or "(none)", LABEL_LENGTH),
                text=[format_value(c, "percent") for c in part["conversion"]],
                textposition="outside",
                customdata=part["users"],
                hovertemplate="%{y:.1%} (%{customdata:,} users)",
            )
        fig.update_layout(barmode="group")
        return _layout(fig, y_format="percent").update_layout(hovermode="closest")
    frame = funnel.sort("step")
    labels = _step_labels(frame)
    text = [f"{u:,} · {format_value(c, 'percent')}" for u, c in frame.select("users", "conversion").iter_rows()]
    fig.add_bar(
        x=labels,
        y=frame["users"],
        name="Reached the step",
        marker_color=MAIN_COLOR,
        text=text,
        textposition="inside",
        hovertemplate="%{y:,} users",
    )
    drop = frame["drop_off"].fill_null(0)
    fig.add_bar(
        x=labels,
        y=drop,
        name="Dropped off since the step before",
        marker_color="#cfd8dc",
        text=[
            f"−{d:,} ({format_value(r, 'percent')})" if d else ""
            for d, r in zip(drop, frame["drop_off_rate"], strict=True)
        ],
        textposition="inside",
        hovertemplate="%{y:,} dropped off",
    )
    fig.update_layout(barmode="stack", legend={"traceorder": "normal"})
    return _layout(fig).update_layout(hovermode="closest")


def time_to_convert(funnel: pl.DataFrame, group: str | None = None) -> go.Figure:
    """Median time from the previous step to each step (``metrics.funnel`` median_seconds)."""
    frame = funnel.filter(pl.col("step") > 1) if funnel is not None and "step" in funnel.columns else None
    if not _usable(frame, "step", "median_seconds"):
        return empty_figure("Nobody converted, so there is no time to convert")
    peak = float(frame["median_seconds"].max())
    unit, size = ("days", 86_400) if peak >= 2 * 86_400 else ("hours", 3_600) if peak >= 2 * 3_600 else ("minutes", 60)
    fig = go.Figure()
    keys = [group] if group and group in frame.columns else []
    parts = (
        frame.sort([*keys, "step"], nulls_last=True).group_by(keys, maintain_order=True)
        if keys
        else [((None,), frame.sort("step"))]
    )
    for key, part in parts:
        fig.add_bar(
            x=_step_labels(part),
            y=part["median_seconds"] / size,
            name=plot_text(key[0] or "(none)", LABEL_LENGTH) if keys else "Median",
            text=[format_duration(s) for s in part["median_seconds"]],
            textposition="outside",
            marker_color=None if keys else "#5c6bc0",
            hovertemplate="%{text}",
        )
    fig.update_yaxes(title=f"Median {unit} from the step before", rangemode="tozero")
    fig.update_layout(barmode="group")
    return _layout(fig).update_layout(hovermode="closest")


# --- engagement ---------------------------------------------------------------------------------


def lifecycle_bars(lifecycle: pl.DataFrame) -> go.Figure:
    """Weekly lifecycle from ``metrics.lifecycle``: new, returning, resurrecting above zero,
    dormant below; an incomplete last week is drawn faded."""
    if (
        not _usable(lifecycle, "week", "new")
        or not lifecycle.select(
            pl.sum_horizontal(pl.col("new", "returning", "resurrecting", "dormant").abs()).sum()
        ).item()
    ):
        return empty_figure("No activity in this date range")
    fig = go.Figure()
    opacity = [1.0 if c else 0.45 for c in lifecycle["complete"]] if "complete" in lifecycle.columns else None
    for status in ("new", "returning", "resurrecting", "dormant"):
        fig.add_bar(
            x=lifecycle["week"],
            y=lifecycle[status],
            name=status.capitalize(),
            marker={"color": LIFECYCLE_COLORS[status], "opacity": opacity},
            hovertemplate="%{y:,}",
        )
    fig.update_layout(barmode="relative")
    fig.update_xaxes(title="Week starting")
    return _layout(fig)


def feature_adoption(adoption: pl.DataFrame, feature: str = "event") -> go.Figure:
    """Adoption (share of MAU) per day, one line per feature (long frame: day, ``feature``, adoption)."""
    if not _usable(adoption, "day", "adoption"):
        return empty_figure("No feature use in this date range")
    fig = go.Figure()
    single = adoption["day"].n_unique() == 1  # a line of one point is not drawn (review)
    for key, part in adoption.sort("day").group_by(feature, maintain_order=True):
        fig.add_scatter(
            x=part["day"],
            y=part["adoption"],
            mode="lines+markers" if single else "lines",
            name=plot_text(key[0], LABEL_LENGTH),
            hovertemplate="%{y:.1%}",
        )
    return _layout(fig, y_format="percent")


# Label placement around a point, in the order tried: Plotly's name, and which way the label's
# centre moves from the point (x, y).
_LABEL_SPOTS = (("top center", 0, 1), ("bottom center", 0, -1), ("middle right", 1, 0), ("middle left", -1, 0))


def label_positions(xs: list[float], ys: list[float], labels: list[str], sizes: list[float]) -> list[str]:
    """A Plotly textposition per point of a scatter so that labels do not print over each other or
    over other points' markers: each label takes the first of above, below, right and left whose
    box misses the markers and the labels already placed; when none does, the one that covers the
    least of them. Boxes are estimated in pixels on a plot area of about 850 x 300 px with both axes
    from zero: a label 7.5 px per character and 14 px high, a marker ``sizes`` px across."""
    width_px, height_px = 850.0, 300.0
    # Both axes start at zero (rangemode "tozero") and Plotly pads the top by about 5%.
    span_x = 1.05 * max(max(xs), 0.0) or 1.0
    span_y = 1.05 * max(max(ys), 0.0) or 1.0
    points = [(x / span_x * width_px, y / span_y * height_px) for x, y in zip(xs, ys, strict=True)]
    taken = [(px - r, px + r, py - r, py + r) for (px, py), r in zip(points, [s / 2 for s in sizes], strict=True)]

    def covered(box: tuple[float, float, float, float]) -> float:
        return sum(
            max(0.0, min(box[1], o[1]) - max(box[0], o[0])) * max(0.0, min(box[3], o[3]) - max(box[2], o[2]))
            for o in taken
        )

    positions = []
    for (px, py), label, size in zip(points, labels, sizes, strict=True):
        half_w, half_h, radius = 7.5 * len(label) / 2, 7.0, size / 2
        boxes = {}
        for name, dx, dy in _LABEL_SPOTS:
            cx = px + dx * (radius + 3 + half_w)
            cy = py + dy * (radius + 3 + half_h)
            boxes[name] = (cx - half_w, cx + half_w, cy - half_h, cy + half_h)
        # Its own marker is in `taken` and touches no box of its own label.
        chosen = min(boxes, key=lambda name: covered(boxes[name]))  # the first free side when there is one
        taken.append(boxes[chosen])
        positions.append(chosen)
    return positions


def engagement_matrix(matrix: pl.DataFrame) -> go.Figure:
    """Adoption (x) against frequency (y) per feature from ``adoption.engagement_matrix``;
    bubble size by events, dotted lines at the medians split the four quadrants."""
    if not _usable(matrix, "event", "adoption") or not matrix.filter(pl.col("adopters") > 0).height:
        return empty_figure("No feature use in the 30 days ending this date")
    frame = matrix.filter(pl.col("adopters") > 0)
    biggest = max(float(frame["events"].max() or 1), 1.0)
    sizes = [12 + 30 * (e / biggest) ** 0.5 for e in frame["events"]]
    fig = go.Figure(
        go.Scatter(
            x=frame["adoption"],
            y=frame["frequency"],
            mode="markers+text",
            text=[plot_text(e, 24) for e in frame["event"]],
            textposition=label_positions(
                frame["adoption"].to_list(),
                frame["frequency"].to_list(),
                [str(e)[:24] for e in frame["event"]],
                sizes,
            ),
            marker={
                "size": sizes,
                "color": MAIN_COLOR,
                "opacity": 0.7,
            },
            customdata=frame.select("adopters", "events").rows(),
            hovertemplate="%{text}<br>adoption %{x:.1%} (%{customdata[0]:,} users)<br>%{y:.1f} days per user<br>%{customdata[1]:,} events<extra></extra>",
        )
    )
    fig.add_vline(x=float(frame["adoption"].median()), line={"dash": "dot", "color": MUTED})
    fig.add_hline(y=float(frame["frequency"].median()), line={"dash": "dot", "color": MUTED})
    fig.update_xaxes(
        title="Adoption: share of MAU who used it",
        tickformat=plotly_tick_format("percent", float(frame["adoption"].max())),
        rangemode="tozero",
    )
    fig.update_yaxes(title="Frequency: days used per user (of 30)", rangemode="tozero")
    return _layout(fig, height=420).update_layout(hovermode="closest", showlegend=False)


def stickiness(active: pl.DataFrame, compared: pl.DataFrame | None = None) -> go.Figure:
    """DAU / MAU per day from ``metrics.active_users`` (grain day), with DAU and MAU on hover."""
    if not _usable(active, "day", "stickiness"):
        return empty_figure("No active users in this date range")
    series = active.select("day", pl.col("stickiness").alias("value"))
    fig = metric_trend(series, name="Stickiness (DAU/MAU)", fmt="percent", compared=compared)
    fig.data[0].customdata = active.sort("day").select("dau", "mau").rows()
    fig.data[0].hovertemplate = "%{y:.1%} (DAU %{customdata[0]:,} / MAU %{customdata[1]:,})"
    return fig


# --- roadmap ------------------------------------------------------------------------------------


def gantt(items: pl.DataFrame, today: dt.date | None = None) -> go.Figure:
    """Roadmap timeline from ``roadmap.item_health``: a bar per item from its start to its current
    due date (done items to their completion), coloured by health; a black tick at the baseline
    due date, a hollow circle at the forecast. Items without a start or due date are left out."""
    if items is None or not items.height:
        return empty_figure("No roadmap items match these filters")
    frame = items.with_columns(
        pl.coalesce(
            "start_date", pl.col("due_date") - dt.timedelta(days=14), pl.col("completed_date") - dt.timedelta(days=14)
        ).alias("bar_start"),
        pl.when(pl.col("health") == "done")
        .then(pl.coalesce("completed_date", "due_date"))
        .otherwise("due_date")
        .alias("bar_end"),
    ).filter(pl.col("bar_start").is_not_null() & pl.col("bar_end").is_not_null())
    if not frame.height:
        return empty_figure("No roadmap item has a start or due date to draw")
    frame = frame.with_columns(
        pl.max_horizontal("bar_end", pl.col("bar_start") + dt.timedelta(days=1)).alias("bar_end")
    )
    labels = [f"{plot_text(i, 12)} · {plot_text(t, 40)}" for i, t in frame.select("item_id", "title").iter_rows()]
    # Ids cut to 12 characters can meet (two Linear milestones "Beta": `milestone:7…`), and items
    # of one label shared a row, one bar over the other (QA): those keep their whole id.
    repeated = {label for label in labels if labels.count(label) > 1}
    labels = [
        f"{plot_text(i, 80)} · {plot_text(t, 40)}" if label in repeated else label
        for label, (i, t) in zip(labels, frame.select("item_id", "title").iter_rows(), strict=True)
    ]
    frame = frame.with_columns(pl.Series("label", labels))
    fig = go.Figure()
    for health in HEALTH_COLORS:
        part = frame.filter(pl.col("health") == health)
        if not part.height:
            continue
        duration_ms = [(e - s).days * 86_400_000 for s, e in part.select("bar_start", "bar_end").iter_rows()]
        fig.add_bar(
            y=part["label"],
            x=duration_ms,
            base=[str(s) for s in part["bar_start"]],
            orientation="h",
            name=HEALTH_LABELS[health],
            marker_color=HEALTH_COLORS[health],
            # The item's own dates: a bar without a start is drawn from 14 days before its due
            # date, and the hover gave that as its start (QA).
            customdata=[
                [
                    str(s or "–"),
                    str(d or "–"),
                    str(b or "–"),
                    "progress unknown" if p is None else f"{format_value(p, 'percent')} done",
                    plot_text(r, 120),
                ]
                for s, d, b, p, r in part.select(
                    "start_date", "due_date", "baseline_due_date", "progress", "reason"
                ).iter_rows()
            ],
            hovertemplate="%{y}<br>start %{customdata[0]}, due %{customdata[1]} (baseline %{customdata[2]})"
            "<br>%{customdata[3]}<br>%{customdata[4]}<extra></extra>",
        )
    baseline = frame.filter(
        pl.col("baseline_due_date").is_not_null() & (pl.col("baseline_due_date") != pl.col("due_date"))
    )
    if baseline.height:
        fig.add_scatter(
            y=baseline["label"],
            x=baseline["baseline_due_date"],
            mode="markers",
            name="Baseline due date",
            marker={"symbol": "line-ns-open", "size": 18, "color": "#212121", "line": {"width": 3, "color": "#212121"}},
            hovertemplate="baseline due %{x}<extra></extra>",
        )
    forecast = frame.filter(pl.col("forecast_date").is_not_null() & (pl.col("health") != "done"))
    if forecast.height:
        fig.add_scatter(
            y=forecast["label"],
            x=forecast["forecast_date"],
            mode="markers",
            name="Forecast",
            marker={"symbol": "circle-open", "size": 9, "color": "#212121"},
            hovertemplate="forecast %{x}<extra></extra>",
        )
    if today:
        fig.add_vline(x=today, line={"color": "#c62828", "width": 1.5})
        fig.add_annotation(
            x=today,
            y=1,
            yref="paper",
            yanchor="bottom",
            text="as of " + format_date(today),
            showarrow=False,
            font={"size": 10},
        )
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=labels)
    # Frame the bars and today; a forecast far beyond them stays reachable by zooming out.
    lo = frame["bar_start"].min() - dt.timedelta(days=7)
    hi = max(
        frame["bar_end"].max(),
        frame["baseline_due_date"].max() or frame["bar_end"].max(),
        today or frame["bar_end"].max(),
    ) + dt.timedelta(days=30)
    fig.update_xaxes(type="date", range=[lo, hi])
    return _layout(fig, height=max(300, 26 * frame.height + 100)).update_layout(barmode="overlay", hovermode="closest")


def one_day_axis(fig: go.Figure, day: dt.date) -> None:
    """The x axis of a chart of one day: the days around it, by day. Left to Plotly, it spans the
    one point by milliseconds ("23:59:59.999 Nov 26")."""
    fig.update_xaxes(
        range=[day - dt.timedelta(days=1), day + dt.timedelta(days=1)], dtick=86_400_000, tickformat="%d %b %Y"
    )


def burn_up(burn: pl.DataFrame, title: str = "") -> go.Figure:
    """Done against total scope per snapshot, from ``roadmap.burn_up``."""
    if not _usable(burn, "snapshot_date", "total"):
        return empty_figure("Not enough snapshots of this item to draw a burn-up")
    unit = burn["unit"][0] if "unit" in burn.columns else "points"
    fig = go.Figure()
    fig.add_scatter(
        x=burn["snapshot_date"],
        y=burn["total"],
        mode="lines+markers",
        name=f"Scope ({unit})",
        line={"color": MUTED, "dash": "dash"},
    )
    fig.add_scatter(
        x=burn["snapshot_date"],
        y=burn["done"],
        mode="lines+markers",
        name=f"Done ({unit})",
        line={"color": MAIN_COLOR, "width": 3},
    )
    fig.update_yaxes(rangemode="tozero", title=unit)
    return _layout(fig, height=300, title=title or None)


def slip_history(slip: pl.DataFrame, title: str = "") -> go.Figure:
    """The due date in each snapshot against the baseline, from ``roadmap.slip_history``."""
    if not _usable(slip, "snapshot_date", "due_date"):
        return empty_figure("No due dates in this item's snapshots")
    fig = go.Figure()
    fig.add_scatter(
        x=slip["snapshot_date"],
        y=slip["due_date"],
        mode="lines+markers",
        name="Due date in the snapshot",
        customdata=slip["slip_days"],
        hovertemplate="due %{y} (slip %{customdata} days)",
        line={"color": HEALTH_COLORS["off_track"], "width": 3},
    )
    # One snapshot: a line of one point is not drawn, so the baseline is a dash where it is.
    single = slip["snapshot_date"].n_unique() == 1
    fig.add_scatter(
        x=slip["snapshot_date"],
        y=slip["baseline_due_date"],
        mode="lines+markers" if single else "lines",
        name="Baseline",
        line={"color": "#212121", "dash": "dash"},
        marker={"symbol": "line-ew-open", "size": 28, "line": {"width": 2, "color": "#212121"}},
    )
    dates = pl.concat([slip["due_date"], slip["baseline_due_date"]]).drop_nulls()
    fig.update_yaxes(
        type="date",
        tickformat="%d %b %Y",
        range=[dates.min() - dt.timedelta(days=10), dates.max() + dt.timedelta(days=10)],
    )
    return _layout(fig, height=300, title=title or None)


# --- voice of customer ----------------------------------------------------------------------------


def score_trend(
    frame: pl.DataFrame, value: str, *, name: str, fmt: str = "number", value_range: tuple[float, float] | None = None
) -> go.Figure:
    """A survey score per bucket (``metrics.feedback.nps`` or ``csat``) as a line, with the
    response count as bars on a second axis so a swing on five answers reads as such."""
    if not _usable(frame, "day", "responses") or not frame["responses"].sum():
        return empty_figure(f"No {name} answers in this date range")
    fig = go.Figure()
    # Responses on the first axis (drawn first, right side), the score on an overlaying axis on
    # the left, so the line is drawn above the bars.
    fig.add_bar(
        x=frame["day"], y=frame["responses"], name="Responses", marker_color="#e3e8ec", hovertemplate="%{y:,} responses"
    )
    y_format = ".1%" if fmt == "percent" else ".0f"
    fig.add_scatter(
        x=frame["day"],
        y=frame[value],
        mode="lines+markers",
        name=name,
        line={"color": MAIN_COLOR, "width": 3},
        hovertemplate="%{y:" + y_format + "}",
        connectgaps=False,
        yaxis="y2",
        cliponaxis=False,  # a +100 week sits on the axis' edge: draw its marker whole
    )
    scale_axis: dict[str, Any] = {"title": name, "overlaying": "y", "side": "left"}
    if fmt == "percent":
        scale_axis["tickformat"] = plotly_tick_format("percent", frame[value].abs().max())  # not the answers
    if value_range:
        low, high = value_range
        # Round ticks (-100, -50, 0, 50, 100) instead of the overlaid axis' count of them
        # (-100, -58.7, -17.4, ...), and a margin so the extremes are not cut.
        margin = (high - low) / 40
        scale_axis.update(range=[low - margin, high + margin], tickmode="linear", tick0=low, dtick=(high - low) / 4)
    fig.update_layout(
        yaxis={"title": "Responses", "side": "right", "showgrid": False, "rangemode": "tozero", "tickformat": ",d"},
        yaxis2=scale_axis,
    )
    days = frame["day"].drop_nulls().sort()
    if days.len() > 1 and (days.diff().drop_nulls() == dt.timedelta(days=7)).all():
        # Weekly buckets start on Mondays: ticks on them, not on Plotly's Sundays.
        fig.update_xaxes(tick0=days[0], dtick=7 * 86_400_000, tickformat="%d %b")
    return _layout(fig)


def score_distribution(scores: pl.DataFrame, scale: str = "nps") -> go.Figure:
    """Answers per score (score, answers): detractors red, passives yellow, promoters green on the
    0-10 scale; 1-2 red, 3 yellow, 4-5 green on the 1-5 scale."""
    if not _usable(scores, "score", "answers") or not scores["answers"].sum():
        return empty_figure("No answers in this date range")
    low, high = (6, 9) if scale == "nps" else (2, 4)
    colors = [
        NPS_GROUP_COLORS["detractor"]
        if s <= low
        else NPS_GROUP_COLORS["promoter"]
        if s >= high
        else NPS_GROUP_COLORS["passive"]
        for s in scores["score"]
    ]
    fig = go.Figure(
        go.Bar(
            x=scores["score"],
            y=scores["answers"],
            marker_color=colors,
            text=scores["answers"],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="score %{x}: %{y:,}<extra></extra>",
        )
    )
    fig.update_xaxes(dtick=1, title="Score")
    # Room above the tallest bar for its count, which was cut at the top edge (UI QA).
    fig.update_yaxes(title="Answers", range=[0, float(scores["answers"].max()) * 1.15])
    return _layout(fig, height=300).update_layout(hovermode="closest", showlegend=False)


def segment_scores(frame: pl.DataFrame, segment: str, value: str, *, fmt: str = "number") -> go.Figure:
    """A score per segment value as horizontal bars (frame: ``segment``, ``value``, responses)."""
    if not _usable(frame, segment, value):
        return empty_figure("No answers with this segment")
    ordered = frame.filter(pl.col(value).is_not_null()).sort(value)
    # An NPS as the card writes it (+13 for 12.5: Python's rounding wrote 12; QA).
    text = [
        f"{format_value(v, 'percent') if fmt == 'percent' else whole_points(v, sign=True)} (n={n:,})"
        for v, n in ordered.select(value, "responses").iter_rows()
    ]
    fig = go.Figure(
        go.Bar(
            y=[plot_text(s or "(none)", 30) for s in ordered[segment]],
            x=ordered[value],
            orientation="h",
            marker_color=MAIN_COLOR,
            text=text,
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    low, high = min(0.0, float(ordered[value].min())), max(0.0, float(ordered[value].max()))
    pad = (high - low or 1.0) * 0.3  # room for the labels outside the bars
    tick_format = plotly_tick_format(fmt, max(-low, high)) if fmt == "percent" else None
    fig.update_xaxes(range=[low - (pad if low < 0 else 0), high + pad], tickformat=tick_format)
    return _layout(fig, height=max(220, 40 * ordered.height + 80)).update_layout(hovermode="closest", showlegend=False)


# --- impact -------------------------------------------------------------------------------------


def impact_bars(impact: pl.DataFrame) -> dict[str, Any]:
    """Change of each shipped item's metric, after against before (impact: item_id, title,
    change_pct, significant), as a Vega-Lite spec for ``st.vega_lite_chart``: one bar per item,
    in the frame's order, blue where the change is beyond normal variation (``STANDS_OUT``: a
    fall was red even where falling was the goal), grey where it is not; the change written
    beside each bar."""
    if not _usable(impact, "item_id", "change_pct"):
        return empty_spec("No shipped item with a metric and enough days before and after")
    frame = impact.filter(pl.col("change_pct").is_not_null())
    names = [f"{chart_text(i, 12)} · {chart_text(t, 32)}" for i, t in frame.select("item_id", "title").iter_rows()]
    significant = (
        frame["significant"].fill_null(False).to_list() if "significant" in frame.columns else [True] * frame.height
    )
    rows = [
        {
            "item": name,
            "change": change / 100,
            "text": fixed(change, 1, "+") + "%",
            "color": STANDS_OUT if stands_out else MUTED,
        }
        for name, change, stands_out in zip(names, frame["change_pct"], significant, strict=True)
    ]
    y = {"field": "item", "type": "nominal", "sort": None, "title": None, "axis": {"labelLimit": 320}}
    x = {"field": "change", "type": "quantitative"}

    def label(up: bool) -> dict[str, Any]:  # the change beside its bar's end, outwards
        return {
            "transform": [{"filter": "datum.change >= 0" if up else "datum.change < 0"}],
            "mark": {"type": "text", "align": "left" if up else "right", "dx": 4 if up else -4},
            "encoding": {"y": y, "x": x, "text": {"field": "text"}},
        }

    return {
        "data": {"values": rows},
        "height": {"step": 36},
        "encoding": {
            # The decimals its changes need: +0.4% and -0.3% read "+0%" and "-0%" (review).
            "x": {
                **x,
                "axis": {
                    "format": "+" + plotly_tick_format("percent", max((abs(r["change"]) for r in rows), default=1.0)),
                    "title": "Change after shipping vs before",
                },
            },
        },
        "layer": [
            {
                "mark": {"type": "bar", "cornerRadiusEnd": 2},
                "encoding": {
                    "y": y,
                    "color": {"field": "color", "type": "nominal", "scale": None, "legend": None},
                    "tooltip": [{"field": "item", "title": "Item"}, {"field": "text", "title": "Change"}],
                },
            },
            label(up=True),
            label(up=False),
            {"mark": {"type": "rule", "color": "#212121"}, "encoding": {"x": {"datum": 0}}},
        ],
    }


def chart_text(text: object, limit: int | None = None) -> str:
    """Untrusted text for a Vega label: cut when long (Vega draws text as text, so no escaping).

    >>> chart_text("<b>Dark</b> mode and more", 10)
    '<b>Dark</…'
    """
    value = "" if text is None else str(text)
    return closed_bidi(value[: limit - 1] + "…" if limit and len(value) > limit else value)


def empty_spec(message: str) -> dict[str, Any]:
    """A Vega-Lite chart with no axes that says why it is blank (``empty_figure``'s twin)."""
    return {
        "data": {"values": [{"message": message}]},
        "height": 120,
        "mark": {"type": "text", "fontSize": 15, "color": "#607d8b"},
        "encoding": {"text": {"field": "message"}},
        "config": {"view": {"stroke": None}},
    }
