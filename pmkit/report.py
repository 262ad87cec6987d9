"""The executive summary as one self-contained HTML file that opens offline.

What it shows, as of a date (default: the latest roadmap snapshot, else the last loaded day):

- a few plain sentences built from the numbers below;
- objectives: outcome health and delivery health side by side, with their reasons and callouts,
  and per objective a chart of its metric (7-day values) against the target path;
- top risks: items that are late, off track or at risk (worst first, then by due date), with why;
- recent impact: done items that name their own metric (else every linked done item), most recent
  first, with the before/after change and whether it stands out (correlation, not cause);
- key metrics: DAU, WAU, MAU, stickiness, new users, revenue and NPS over the last 28 days against
  the 28 days before (each by its own bucket rule, ``pmkit.metrics.series``), with charts.

Plotly's JavaScript is inlined once, in the first chart (``include_plotlyjs=True``); later charts
reuse it. The file references nothing outside itself. Every piece of text that came from data
(titles, owners, reasons that quote them, metric names from pmkit.toml) goes through
``html.escape`` before it is written, including the text inside charts.

Example:
    >>> write_report(load_config("data"), Path("summary.html"))  # doctest: +SKIP
    PosixPath('summary.html')
"""

from __future__ import annotations

import datetime as dt
import errno
import functools
import html
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from pmkit import metrics, roadmap_view
from pmkit.charts import STANDS_OUT, largest_y, plot_text
from pmkit.config import Config
from pmkit.dashboard import NOTHING_EARLIER, SHIPPED_DAYS, judged_day, shipped_with_impact, whole_days, why_no_base
from pmkit.formatting import (
    closed_bidi,
    counted,
    fixed,
    format_date,
    format_days,
    percent_words,
    plotly_tick_format,
    whole_points,
)
from pmkit.impact import impact
from pmkit.objectives import MetricSource, format_value, objective_health, path_start
from pmkit.store import Reader, Store, write_atomically

PERIOD_DAYS = 28
CHART_DAYS = 90
MAX_RISKS = 10
MAX_IMPACT = 8
MAX_SENTENCES_PER_TOPIC = 3
RISK_ORDER = ("late", "off_track", "at_risk")
KEY_METRICS = (  # (metric key, label saying how the 28 days become one number)
    ("dau", "DAU (daily average)"),
    ("wau", "WAU (on the last day)"),
    ("mau", "MAU (on the last day)"),
    ("stickiness", "Stickiness, DAU/MAU (daily average)"),
    ("new_users", "New users (total)"),
    ("revenue", "Revenue (total)"),
)
HEALTH_COLOURS = {
    "achieved": "#1a7f37",
    "done": "#1a7f37",
    "on_track": "#1a7f37",
    "at_risk": "#9a6700",
    "off_track": "#cf222e",
    "late": "#cf222e",
    "not_started": "#57606a",
    "no_data": "#57606a",
    "cancelled": "#57606a",
    "stands_out": STANDS_OUT,
}
CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; margin: 0 auto;
       max-width: 1180px; padding: 24px; }
h1 { margin: 0 0 4px; font-size: 26px; } h2 { margin: 32px 0 8px; font-size: 20px; border-bottom: 1px solid #d0d7de; }
.meta, .note { color: #57606a; font-size: 13px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid #eaeef2; }
th { font-size: 13px; color: #57606a; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px;
         font-weight: 600; white-space: nowrap; }
.callout { display: inline-block; margin: 2px 4px 0 0; padding: 1px 6px; border: 1px solid #9a6700;
           border-radius: 4px; color: #9a6700; font-size: 12px; }
.small { font-size: 13px; color: #57606a; }
.charts { display: grid; /* auto-fill: columns exist before the charts arrive, so each draws at its width */ grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 8px; }
ul.story li { margin: 4px 0; }
"""
PLOT_CONFIG = {"displaylogo": False, "responsive": True}


def write_report(config: Config, out: Path, as_of: dt.date | None = None) -> Path:
    """Write the executive summary for the workspace of ``config`` to ``out`` and return it.

    >>> write_report(config, Path("summary.html"), as_of=date(2026, 6, 30))  # doctest: +SKIP
    """
    out = Path(out)
    with Store(config.store_dir).reader() as reader:
        page = _Report(reader, config, as_of).render()
    out.parent.mkdir(parents=True, exist_ok=True)
    # Whole or not at all: written in place, a full disk left the report before it cut off (review).
    if out.is_dir():  # said of the path given, not of the temporary file beside it
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(out))
    write_atomically(out, page)
    return out


def esc(value: object) -> str:
    """Text for HTML: escaped, with None shown as a dash."""
    return "–" if value is None else html.escape(closed_bidi(str(value)), quote=True)


class _Report:
    """Gathers the numbers once, then renders each section from them."""

    def __init__(self, reader: Reader, config: Config, as_of: dt.date | None) -> None:
        self.reader, self.config = reader, config
        self.source = MetricSource.open(reader, config)
        self.last_day = self.source.last_day
        self.latest_snapshot = roadmap_view.latest_snapshot(reader, None)
        # By default the day the summary page's default range ends on, the last loaded day: the
        # report judged the latest snapshot's day, two weeks before the events' last day, and
        # called an objective on track that the page, with the same data, called off track.
        # A snapshot later than the last event day (today's export beside events to yesterday)
        # is judged on its own day, as the pages do (dashboard.roadmap_day).
        default = judged_day(self.last_day, self.last_day, self.latest_snapshot) if self.last_day else None
        self.as_of = as_of or default or self.latest_snapshot or dt.date.today()
        self.snapshot = roadmap_view.latest_snapshot(reader, self.as_of)
        # Judged on the report's day, from the snapshots up to it: a past-due item is late then.
        self.items = roadmap_view.item_health(reader, config, self.as_of) if self.snapshot else None
        items = self.items if self.items is not None else _no_items()
        self.goals = objective_health(reader, config, items, self.as_of)
        window = int(config.get("impact.window_days"))
        self.window = window
        self.impact = impact(reader, config, items, window_days=window, as_of=self.as_of)
        # Whole days only, as the pages judge (README, "Final days"): today's first hours read as
        # a fall of DAU and of WAU on its last day (QA).
        self.metrics_period = self._metrics_period(min(self.as_of, self.last_day)) if self.last_day else None
        self.metrics_end = self.metrics_period.end if self.metrics_period else None
        self.no_base: str | None = None  # why the key metrics' 28 days before give no base
        self.key_metrics = self._key_metrics()
        self._plotly_included = False

    # --- numbers ----------------------------------------------------------------------------------

    def _metrics_period(self, end: dt.date) -> metrics.Period:
        """The key metrics' days: the last 28 to ``end``, from the first loaded day on ("DAU
        averaged 42.1 over the last 28 days" counted 7 days before the first event as 0; QA),
        moved back to whole days as the pages' cards are (``dashboard.whole_days``)."""
        period = metrics.Period.last(PERIOD_DAYS, end)
        first = self.source.first_day
        if first and period.start < first <= period.end:
            period = metrics.Period(first, period.end)
        return whole_days(period, self.source.final_day, first)

    def _key_metrics(self) -> list[dict[str, Any]]:
        """Each key metric over the last 28 days and the 28 before: label, value, base, change."""
        if self.metrics_period is None:
            return []
        period = self.metrics_period
        # Days before the first loaded day are no data, not zero use: "DAU up 124% on the 28 days
        # before" was said of 28 days of which 17 were before the first event (QA).
        self.no_base = why_no_base(period.previous(), self.source.first_day)
        rows = []
        for key, label in KEY_METRICS:
            compared = metrics.compare_metric(self.reader, key, period, definitions=self.source.definitions)
            row = compared.row(0, named=True) if compared.height else {}
            if self.no_base:
                row = {"value": row.get("value")}
            rows.append(
                {
                    "key": key,
                    "label": label,
                    "value": row.get("value"),
                    "base": row.get("base"),
                    "change_pct": row.get("change_pct"),
                    "change": row.get("change"),
                    "format": self.source.lookup(key).format,  # type: ignore[union-attr]
                }
            )
        now = metrics.nps(self.reader, period, grain="period")
        before = metrics.nps(self.reader, period.previous(), grain="period")
        value, base = now["nps"].item(), before["nps"].item()
        rows.append(
            {
                "key": "nps",
                "label": f"NPS ({counted(now['responses'].item(), 'answer')}; {before['responses'].item()} before)",
                "value": value,
                "base": base,
                "change": None if value is None or base is None else value - base,
                "change_pct": None,  # NPS changes are read in points, not percent
                "format": "nps",
            }
        )
        return rows

    @functools.cached_property
    def _all_risks(self) -> pl.DataFrame:
        """Every late, off-track or at-risk item, the most urgent first (read by the risks table
        and the story above it: worked out once)."""
        if self.items is None:
            return pl.DataFrame()
        rank = {health: index for index, health in enumerate(RISK_ORDER)}
        return (
            self.items.filter(pl.col("health").is_in(RISK_ORDER) & pl.col("item_type").ne_missing("objective"))
            .with_columns(pl.col("health").replace_strict(rank, return_dtype=pl.Int64).alias("rank"))
            .sort(["rank", "due_date", "item_id"], nulls_last=True)
        )

    def _risks(self) -> pl.DataFrame:
        return self._all_risks.head(MAX_RISKS)

    def _recent_impact(self) -> pl.DataFrame:
        items = self.items if self.items is not None else _no_items()
        return shipped_with_impact(items, self.impact, self.as_of).head(MAX_IMPACT)

    # --- page -------------------------------------------------------------------------------------

    def render(self) -> str:
        data_note = f"events through {format_date(self.last_day)}" if self.last_day else "no events loaded"
        today_left_out = self.source.final_day is not None and self.source.final_day != self.last_day
        if today_left_out and self.metrics_end == self.source.final_day:
            data_note += f" (today is not over: the key metrics end on {format_date(self.metrics_end)})"
        roadmap_note = (
            f"roadmap snapshot of {format_date(self.snapshot)}" if self.snapshot else self._no_roadmap().lower()
        )
        generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        body = "\n".join(
            [
                "<header><h1>Executive summary</h1>",
                f'<p class="meta">As of {esc(format_date(self.as_of))}: {esc(data_note)}; {esc(roadmap_note)}. '
                f"Generated {esc(generated)} by pmkit.</p></header>",
                self._story_section(),
                self._objectives_section(),
                self._risks_section(),
                self._impact_section(),
                self._metrics_section(),
            ]
        )
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>Executive summary, {esc(self.as_of)}</title>\n<style>{CSS}</style>\n</head>\n"
            f"<body>\n{body}\n</body>\n</html>\n"
        )

    def _story_section(self) -> str:
        sentences = [*self._objective_story(), *self._risk_story(), *self._impact_story(), *self._metric_story()]
        if not sentences:
            sentences = ["Nothing is loaded yet: run python -m pmkit ingest with your exports, then write this again."]
        items = "".join(f"<li>{esc(sentence)}</li>" for sentence in sentences)
        return f'<section id="summary"><h2>In short</h2><ul class="story">{items}</ul></section>'

    def _objectives_section(self) -> str:
        if self.goals.height == 0:
            return (
                '<section id="objectives"><h2>Objectives</h2><p class="small">No objectives yet: load an '
                "objectives CSV or add [objectives.ID] tables to pmkit.toml.</p></section>"
            )
        rows = []
        for goal in self.goals.iter_rows(named=True):
            callouts = "".join(f'<span class="callout">{esc(c)}</span>' for c in goal["callouts"] or [])
            owner = f'<div class="small">{esc(goal["owner"])}</div>' if goal["owner"] else ""
            rows.append(
                "<tr>"
                f"<td><strong>{esc(goal['title'] or goal['objective_id'])}</strong>"
                f'<div class="small">{esc(goal["objective_id"])}</div>{owner}</td>'
                f"<td>{esc(goal['metric_name'] or goal['metric'])}</td>"
                f"<td>{_badge(goal['outcome_health'])}<div>{esc(goal['outcome_reason'])}</div></td>"
                f"<td>{_badge(goal['delivery_health'])}<div>{esc(goal['delivery_reason'])}</div></td>"
                f"<td>{callouts}</td>"
                "</tr>"
            )
        table = _table(["Objective", "Metric", "Outcome", "Delivery", "Callouts"], rows)
        charts = [self._objective_chart(goal) for goal in self.goals.iter_rows(named=True)]
        chart_html = "".join(c for c in charts if c)
        return (
            '<section id="objectives"><h2>Objectives</h2>'
            '<p class="note">Outcome: the metric against a straight path from its baseline to its target. '
            "Delivery: the worst health of the objective's roadmap items.</p>"
            f'{table}<div class="charts">{chart_html}</div></section>'
        )

    def _risks_section(self) -> str:
        risks = self._risks()
        if risks.height == 0:
            text = f"{self._no_roadmap()}." if self.items is None else "No item is late, off track or at risk."
            return f'<section id="risks"><h2>Top risks</h2><p class="small">{text}</p></section>'
        rows = []
        for item in risks.iter_rows(named=True):
            rows.append(
                "<tr>"
                f"<td><strong>{esc(item['title'] or item['item_id'])}</strong>"
                f'<div class="small">{esc(item["item_id"])} · {esc(item["item_type"])}</div></td>'
                f"<td>{esc(item['owner'])}</td>"
                f"<td>{_badge(item['health'])}</td>"
                f'<td class="num">{esc(item["due_date"])}</td>'
                f"<td>{esc(item['reason'])}</td>"
                "</tr>"
            )
        table = _table(["Item", "Owner", "Health", "Due", "Why"], rows)
        total = self._all_risks.height
        # The summary above counts them all: the table says when it lists only the first.
        cut = f'<p class="small">The {risks.height} most urgent of {total}.</p>' if total > risks.height else ""
        return f'<section id="risks"><h2>Top risks</h2>{cut}{table}</section>'

    def _impact_section(self) -> str:
        recent = self._recent_impact()
        note = (
            f'<p class="note">Correlation, not cause: each metric over the {self.window} days before and after '
            "the item was done, judged against the same comparison at other dates. Other work shipped in "
            "the same weeks is listed.</p>"
        )
        if recent.height == 0:
            text = f"Nothing shipped in the {SHIPPED_DAYS} days before {format_date(self.as_of)}."
            if self.items is None:
                text = f"{self._no_roadmap()}."
            return f'<section id="impact"><h2>Recent impact</h2>{note}<p class="small">{esc(text)}</p></section>'
        rows = []
        for row in recent.iter_rows(named=True):
            fmt = self._format_of(row["metric"])
            change = "–"
            if row["change"] is not None:
                # One decimal as in the app: "-0%" read as a fall of nothing.
                change = (
                    format_value(row["change"], fmt)
                    if row["change_pct"] is None
                    else fixed(row["change_pct"], 1, "+") + "%"
                )
            # A change that stands out is neither good nor bad by itself (a drop can be the goal).
            stands = {True: _badge("stands_out", "stands out"), False: _badge("not_started", "normal variation")}
            # Measured, but with too few other dates to judge it against: not "measured" alone.
            unjudged = "not judged" if row["status"] == "measured" else row["status"]
            judged = stands.get(row["significant"], _badge("no_data", unjudged))
            also = _listed(row["confounders"] or [], "; ")
            before_after = "–"
            if row["before"] is not None or row["after"] is not None:
                before_after = f"{format_value(row['before'], fmt)} → {format_value(row['after'], fmt)}"
            rows.append(
                "<tr>"
                f"<td><strong>{esc(row['title'] or row['item_id'])}</strong>"
                f'<div class="small">{esc(row["item_id"])} · done {esc(row["completed_date"])}</div></td>'
                f"<td>{esc(row['metric_name'])}</td>"
                f'<td class="num">{esc(before_after)}</td>'
                f'<td class="num">{esc(change)}</td>'
                f"<td>{judged}<div class='small'>{esc(row['verdict'])}</div></td>"
                f'<td class="small">{esc(also) if also else "–"}</td>'
                "</tr>"
            )
        table = _table(["Item", "Metric", "Before → after", "Change", "Judged", "Also shipped then"], rows)
        return f'<section id="impact"><h2>Recent impact</h2>{note}{table}</section>'

    def _metrics_section(self) -> str:
        if not self.key_metrics or self.metrics_end is None:
            return '<section id="metrics"><h2>Key metrics</h2><p class="small">No events loaded yet.</p></section>'
        period = self.metrics_period
        rows = []
        for row in self.key_metrics:
            fmt = row["format"]
            if row["change"] is None:
                change = "–"
            elif fmt == "nps":
                change = f"{whole_points(row['change'], sign=True)} points"
            elif fmt == "percent":  # a share moves in points, as on the app's cards
                change = fixed(row["change"] * 100, 1, "+") + " pts"
            elif row["change_pct"] is None:
                change = format_value(row["change"], fmt)
            else:
                change = fixed(row["change_pct"], 1, "+") + "%"
            rows.append(
                f"<tr><td>{esc(row['label'])}</td>"
                f'<td class="num">{esc(_show(row["value"], fmt))}</td>'
                f'<td class="num">{esc(_show(row["base"], fmt))}</td>'
                f'<td class="num">{esc(change)}</td></tr>'
            )
        previous = period.previous()
        headers = [
            "Metric",
            f"{format_date(period.start)} to {format_date(period.end)}",
            f"{format_date(previous.start)} to {format_date(previous.end)}",
            "Change",
        ]
        note = ""
        if self.no_base:
            before = (
                f"Nothing is loaded in the {format_days(period.days)} before"
                if self.no_base == NOTHING_EARLIER
                else f"The {format_days(period.days)} before are {self.no_base}"
            )
            note = f'<p class="note">{esc(before)}: no change is claimed for the metrics of events.</p>'
        charts = "".join(self._metric_charts())
        return (
            f'<section id="metrics"><h2>Key metrics</h2>{note}{_table(headers, rows)}'
            f'<div class="charts">{charts}</div></section>'
        )

    # --- sentences --------------------------------------------------------------------------------

    def _objective_story(self) -> list[str]:
        goals = self.goals
        if goals.height == 0:
            return []
        counts = {h: goals.filter(pl.col("outcome_health") == h).height for h in goals["outcome_health"].unique()}
        good = counts.get("on_track", 0) + counts.get("achieved", 0)
        parts = [f"{good} on track or achieved"]
        for health in ("at_risk", "off_track", "not_started", "no_data"):
            if counts.get(health):
                names = _names(goals.filter(pl.col("outcome_health") == health), "title", "objective_id")
                parts.append(f"{counts[health]} {_words(health)} ({names})")
        if good == goals.height:
            sentences = [
                f"All {goals.height} objectives are on track or achieved."
                if good > 1
                else "The objective is on track or achieved."
            ]
        else:
            sentences = [f"Of {goals.height} objective{'s' if goals.height != 1 else ''}, {_join(parts)}."]
        for callout in ("on time but off target", "shipped but flat"):
            flagged = goals.filter(pl.col("callouts").list.contains(callout))
            if flagged.height:
                sentences.append(f"{callout.capitalize()}: {_names(flagged, 'title', 'objective_id')}.")
        return sentences

    def _risk_story(self) -> list[str]:
        risks = self._risks()
        if self.items is None:
            return []
        everything = self._all_risks
        if everything.height == 0:
            return ["No roadmap item is late, off track or at risk."]
        parts = []
        for health in RISK_ORDER:
            count = everything.filter(pl.col("health") == health).height
            if count:
                parts.append(f"{count} {_words(health)}")
        worst = risks.row(0, named=True)
        sentence = f"{everything.height} roadmap item{'s need' if everything.height != 1 else ' needs'} attention: {_join(parts)}."
        return [
            sentence,
            f"Most urgent: {worst['title'] or worst['item_id']} ({_words(worst['health'])}; {worst['reason']}).",
        ]

    def _impact_story(self) -> list[str]:
        standing = self.impact.filter(pl.col("significant") & (pl.col("metric_from") == "item"))
        sentences = []
        for row in standing.head(MAX_SENTENCES_PER_TOPIC).iter_rows(named=True):
            fmt = self._format_of(row["metric"])
            moved = "rose" if row["change"] > 0 else "fell"
            pct = f" {percent_words(row['change_pct'], sign=False)}" if row["change_pct"] is not None else ""
            sentences.append(
                f"After {row['title'] or row['item_id']} was done on {row['completed_date']}, {row['metric_name']} "
                f"{moved}{pct} ({format_value(row['before'], fmt)} to {format_value(row['after'], fmt)}), more than it "
                "normally moves (correlation, not cause)."
            )
        return sentences

    def _metric_story(self) -> list[str]:
        sentences = []
        if self.metrics_period is None:
            return sentences
        span = f"the {format_days(self.metrics_period.days)} to {format_date(self.metrics_period.end)}"
        for row in self.key_metrics:
            if row["key"] not in ("dau", "revenue", "nps") or row["value"] is None:
                continue
            fmt = row["format"]
            if row["key"] == "nps":
                text = f"NPS was {whole_points(row['value'])} over {span}"
                if row["change"] is not None:
                    text += ", " + _moved(row["change"], f"{whole_points(abs(row['change']))} points", "0 points")
            else:
                verb = "averaged" if row["key"] == "dau" else "totalled"
                name = "DAU" if row["key"] == "dau" else "Revenue"
                text = f"{name} {verb} {format_value(row['value'], fmt)} over {span}"
                if row["change_pct"] is not None:
                    # Under 0.05% either way the key metric is flat, as the summary's narrative says.
                    pct = row["change_pct"]
                    text += ", " + _moved(pct, "0.0%" if abs(pct) < 0.05 else percent_words(pct, sign=False), "0.0%")
            sentences.append(text + ".")
        return sentences

    # --- charts -----------------------------------------------------------------------------------

    def _figure_html(self, figure: Any) -> str:
        """The figure as a <div>; Plotly's JavaScript goes inline with the first one only."""
        first = not self._plotly_included
        self._plotly_included = True
        return figure.to_html(full_html=False, include_plotlyjs=first, config=PLOT_CONFIG)

    def _metric_charts(self) -> Iterable[str]:
        import plotly.graph_objects as go

        assert self.metrics_end is not None
        period = metrics.Period.last(CHART_DAYS, self.metrics_end)
        if self.source.first_day and period.start < self.source.first_day:
            period = metrics.Period(self.source.first_day, self.metrics_end)
        series = {
            key: metrics.metric_series(self.reader, key, period, "day", self.source.definitions)
            for key in ("dau", "wau", "mau", "stickiness", "new_users", "revenue")
        }
        users = go.Figure(
            [
                go.Scatter(x=series[k]["day"], y=series[k]["value"], name=k.upper(), mode="lines")
                for k in ("dau", "wau", "mau")
            ]
        )
        yield self._figure_html(_layout(users, "Active users per day"))
        sticky = go.Figure(
            go.Scatter(x=series["stickiness"]["day"], y=series["stickiness"]["value"], mode="lines", name="DAU/MAU")
        )
        yield self._figure_html(_layout(sticky, "Stickiness (DAU/MAU)", percent=True))
        yield self._figure_html(
            _layout(
                go.Figure(go.Bar(x=series["new_users"]["day"], y=series["new_users"]["value"], name="New users")),
                "New users per day",
            )
        )
        yield self._figure_html(
            _layout(
                go.Figure(go.Bar(x=series["revenue"]["day"], y=series["revenue"]["value"], name="Revenue")),
                "Revenue per day",
            )
        )
        weekly = metrics.nps(self.reader, metrics.Period.last(CHART_DAYS, self.metrics_end), grain="week")
        if weekly["responses"].sum():
            nps = go.Figure(
                go.Bar(
                    x=weekly["day"],
                    y=weekly["nps"],
                    name="NPS",
                    customdata=weekly["responses"],
                    hovertemplate="week of %{x}: NPS %{y:.0f} (%{customdata} answers)<extra></extra>",
                )
            )
            yield self._figure_html(_layout(nps, "NPS per week"))

    def _objective_chart(self, goal: dict[str, Any]) -> str:
        """The objective's metric (7-day values, pooled like the current value) and its target path."""
        import plotly.graph_objects as go

        if goal["outcome_health"] == "no_data" or goal["current_value"] is None or goal["target_date"] is None:
            return ""
        # The value the objective's card gives, on each day (ARPU: the 7 days' revenue over their
        # users), to the last final day loaded: judged on a roadmap day after the data, the chart
        # started after it and drew no line (review).
        last = min(self.as_of, self.source.last_day) if self.source.last_day else self.as_of
        # A held objective without a start is drawn from that day (``objectives.path_start``):
        # from the report's day alone, a target date before it ran the path backwards.
        start = path_start(goal, last)
        through = self.source.final_by(goal["metric"], last)
        shown_from = min(start, through) - dt.timedelta(days=PERIOD_DAYS)  # a start after the data: its last days
        rolling = self.source.seven_day(goal["metric"]).filter(pl.col("day").is_between(shown_from, through))
        # Plotly's own escaping: it shows &lt; as <, but &quot; as typed ('Launch &quot;Teams&quot;').
        name = plot_text(goal["metric_name"] or goal["metric"])
        # Said when the line is not the value judged (a ratio with a side of another kind: review).
        pooled = "" if self.source.seven_day_is_card(goal["metric"]) else " (days pooled, not the value judged)"
        figure = go.Figure(
            go.Scatter(x=rolling["day"], y=rolling["value"], name=f"{name}, 7 days{pooled}", mode="lines")
        )
        path = metrics.target_path(goal["baseline"], goal["target"], start, goal["target_date"], goal["direction"])
        figure.add_trace(
            go.Scatter(x=path["day"], y=path["target"], name="target path", mode="lines", line={"dash": "dash"})
        )
        title = f"{plot_text(goal['title'] or goal['objective_id'])}: {name}"
        return self._figure_html(_layout(figure, title, percent=self._format_of(goal["metric"]) == "percent"))

    def _no_roadmap(self) -> str:
        """Why there are no roadmap items as of the report's day: none loaded, or only later
        snapshots ("no roadmap loaded" was said of a workspace with one, from a later day)."""
        if self.latest_snapshot is None:
            return "No roadmap loaded"
        return f"No roadmap snapshot on or before {format_date(self.as_of)} (the latest is of {format_date(self.latest_snapshot)})"

    def _format_of(self, key: str | None) -> str:
        definition = self.source.lookup(key)
        return definition.format if definition else "number"


def _no_items() -> pl.DataFrame:
    from pmkit.roadmap import ITEM_HEALTH_COLUMNS

    return pl.DataFrame(schema=ITEM_HEALTH_COLUMNS)


def _layout(figure: Any, title: str, *, percent: bool = False) -> Any:
    """Small, quiet charts; ``title`` must already be escaped (Plotly renders some HTML tags)."""
    figure.update_layout(
        title={"text": title, "font": {"size": 14}},
        height=300,
        margin={"l": 48, "r": 16, "t": 48, "b": 32},
        legend={"orientation": "h", "y": -0.2},
        template="plotly_white",
    )
    if percent:  # with the decimals its values' spread needs: the axis need not start at zero (review)
        figure.update_yaxes(tickformat=plotly_tick_format("percent", largest_y(figure, span=True)))
    return figure


def _table(headers: Sequence[str], rows: Sequence[str]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _badge(health: str | None, text: str | None = None) -> str:
    if health is None:
        return _badge("no_data", text or "no items")
    colour = HEALTH_COLOURS.get(health, "#57606a")
    return f'<span class="badge" style="background:{colour}">{esc(text or _words(health))}</span>'


def _words(health: str) -> str:
    return health.replace("_", " ")


def _show(value: float | None, fmt: str) -> str:
    """A key metric's value: WAU 690, not 690.0; DAU's average keeps its decimal.

    >>> _show(690.0, "number"), _show(182.86, "number"), _show(19_890.0, "currency"), _show(0.166, "percent")
    ('690', '182.9', '$19,890', '16.6%')
    """
    if fmt == "nps":
        return "n/a" if value is None else whole_points(value)
    if fmt == "number" and value is not None and float(value).is_integer():
        return fixed(value, 0, ",")
    return format_value(value, fmt)


def _moved(change: float, amount: str, nothing: str) -> str:
    """How a key metric moved on the period before, in the words the amount is shown in: a
    -0.3% change read "down 0%".

    >>> _moved(-0.3, "0.3%", "0.0%"), _moved(-0.04, "0.0%", "0.0%"), _moved(12.0, "12%", "0.0%")
    ('down 0.3% on the 28 days before', 'flat on the 28 days before', 'up 12% on the 28 days before')
    """
    if amount == nothing:
        return f"flat on the {PERIOD_DAYS} days before"
    return f"{'up' if change > 0 else 'down'} {amount} on the {PERIOD_DAYS} days before"


def _names(frame: pl.DataFrame, column: str, fallback: str) -> str:
    return _listed(row[column] or row[fallback] for row in frame.iter_rows(named=True))


def _listed(names: Iterable[str], separator: str = ", ") -> str:
    """Names from files joined, each one's right-to-left override closed at its end: left open,
    it reordered the names after it in the cell (hosted QA)."""
    return separator.join(closed_bidi(name) for name in names)


def _join(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


__all__ = ["esc", "write_report"]
