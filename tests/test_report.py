"""The executive summary: one HTML file that opens offline, with every piece of data text escaped."""

from __future__ import annotations

import datetime as dt
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from pmkit import cli, demo
from pmkit.config import Config, load_config
from pmkit.formatting import format_date
from pmkit.ingest import ingest, ingest_inbox
from pmkit.report import write_report
from tests.known_workspace import ingested

END = date(2026, 6, 30)
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = '<script>alert("objective")</script>'
METRIC_NAME = "<b>Activation</b> & friends"
# A marker that appears once at the top of Plotly's bundle, e.g. "* plotly.js v4.1.1".
PLOTLY_BUNDLE = re.compile(r"\* plotly\.js v\d")


class Resources(HTMLParser):
    """Every tag's src and href, as a browser would see them (script bodies are not tags)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.links.append((tag, name, value))


@pytest.fixture(scope="module")
def hostile_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo whose titles, owners and a metric name carry HTML, loaded through the ingest."""
    out = tmp_path_factory.mktemp("report_demo")
    files = demo.write_demo(out, events=40_000, seed=3, end=END)
    latest = max(p for p in files if p.name.startswith("roadmap_"))
    roadmap = pl.read_csv(latest, infer_schema=False)
    roadmap = roadmap.with_columns(
        pl.when(pl.col("item_id").is_in(["EP-1", "EP-6"])).then(pl.lit(IMG)).otherwise(pl.col("title")).alias("title")
    )
    roadmap.write_csv(latest)
    objectives = out / "inbox" / "objectives.csv"
    goals = pl.read_csv(objectives, infer_schema=False).with_columns(
        pl.when(pl.col("objective_id") == "OBJ-1").then(pl.lit(SCRIPT)).otherwise(pl.col("title")).alias("title"),
        pl.when(pl.col("objective_id") == "OBJ-2")
        .then(pl.lit("Tom & Jerry"))
        .otherwise(pl.col("owner"))
        .alias("owner"),
    )
    goals.write_csv(objectives)
    toml = (out / "pmkit.toml").read_text(encoding="utf-8")
    (out / "pmkit.toml").write_text(
        toml.replace('name = "Activation rate"', f'name = "{METRIC_NAME}"'), encoding="utf-8"
    )
    assert all(r.status == "loaded" for r in ingest_inbox(load_config(out)))
    return out


@pytest.fixture(scope="module")
def page(hostile_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("report") / "summary.html"
    assert write_report(load_config(hostile_workspace), out, as_of=END) == out
    return out.read_text(encoding="utf-8")


def test_untrusted_text_is_escaped_everywhere(page: str):
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert IMG not in page
    assert "&lt;script&gt;alert(&quot;objective&quot;)&lt;/script&gt;" in page
    assert "<script>alert(" not in page
    assert "Tom &amp; Jerry" in page
    assert "&lt;b&gt;Activation&lt;/b&gt; &amp; friends" in page
    assert "<b>Activation</b>" not in page


def test_the_file_loads_nothing_from_outside(page: str):
    parser = Resources()
    parser.feed(page)
    external = [link for link in parser.links if re.match(r"(https?:)?//", link[2].strip(), re.IGNORECASE)]
    assert external == []
    assert "link" not in parser.tags  # no stylesheets or fonts to fetch
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    # Outside the inline scripts, no URL of any kind.
    markup = re.sub(r"<script\b.*?</script>", "", page, flags=re.DOTALL | re.IGNORECASE)
    assert not re.search(r"https?://", markup)


def test_plotly_is_inlined_once_for_every_chart(page: str):
    assert len(PLOTLY_BUNDLE.findall(page)) == 1
    charts = page.count('class="plotly-graph-div"')
    assert charts >= 5  # active users, stickiness, new users, revenue, NPS, and objective charts
    # The bundle comes before the first chart's Plotly.newPlot call.
    assert PLOTLY_BUNDLE.search(page).start() < page.index("Plotly.newPlot")


def test_sections_carry_the_numbers(page: str):
    for section in ("summary", "objectives", "risks", "impact", "metrics"):
        assert f'<section id="{section}">' in page
    assert "Correlation, not cause" in page
    assert "DAU (daily average)" in page and "NPS (" in page
    assert "Scheduled email digests" in page  # the demo's late epic is a top risk
    assert "late" in page


def test_an_empty_workspace_still_gets_a_page(tmp_path: Path):
    out = write_report(load_config(tmp_path / "empty"), tmp_path / "empty.html")
    page = out.read_text(encoding="utf-8")
    assert "Nothing is loaded yet" in page
    assert "No events loaded yet." in page
    assert "plotly" not in page.lower()


def test_the_cli_writes_the_report(hostile_workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "cli.html"
    assert cli.main(["report", "--data", str(hostile_workspace), "--out", str(out), "--as-of", "2026-06-30"]) == 0
    assert out.exists() and f"wrote {out}" in capsys.readouterr().out


def test_key_metrics_read_like_the_app(page: str):
    """Money with $, whole counts without ".0", a share's change in points (it said "-0.3%"
    where the app said "-0.1 pts")."""
    import re

    rows = {
        m[0]: m[1:]
        for m in re.findall(
            r'<tr><td>([^<]*)</td><td class="num">([^<]*)</td><td class="num">([^<]*)</td><td class="num">([^<]*)</td></tr>',
            page,
        )
    }
    assert rows["Revenue (total)"][0].startswith("$")
    assert not rows["WAU (on the last day)"][0].endswith(".0")
    assert rows["WAU (on the last day)"][0].replace(",", "").isdigit()
    assert rows["Stickiness, DAU/MAU (daily average)"][2].endswith(" pts")


ROADMAP_HEADER = (
    "item_id,title,item_type,parent_id,objective_id,metric,owner,team,status,status_category,start_date,due_date,"
    "baseline_due_date,completed_date,estimate,progress,declared_health,blocked_by\n"
)


def alpha_and_bravo(tmp_path: Path) -> Config:
    """Events 1 Jan - 19 Apr (3 users a day) and a snapshot of 22 Mar: Alpha shipped 18 Mar on
    DAU, Bravo is due 25 Mar and not started."""

    events = tmp_path / "events.csv"
    start = date(2026, 1, 1)
    rows = ["event_time,user_id,event"]
    for day in range(109):  # 1 Jan - 19 Apr, 3 users a day
        when = start.toordinal() + day
        rows += [f"{date.fromordinal(when)}T10:00:00Z,u{k},login" for k in range(3)]
    events.write_text("\n".join(rows) + "\n")
    roadmap = tmp_path / "roadmap_2026-03-22.csv"
    roadmap.write_text(
        ROADMAP_HEADER
        + "A,Alpha,epic,,,dau,Ana,Growth,Done,done,2026-03-01,2026-03-20,,2026-03-18,,,,\n"
        + "B,Bravo,epic,,,,Ben,Growth,To Do,todo,2026-03-10,2026-03-25,,,,0,,\n"
    )
    config = load_config(tmp_path / "ws")
    assert [r.status for r in ingest([events, roadmap], config)] == ["loaded", "loaded"]
    return config


def bravo_row(text: str) -> str:
    risks = text[text.index("Top risks") :]
    return risks[risks.index("<strong>Bravo</strong>") : risks.index("</tr>", risks.index("<strong>Bravo</strong>"))]


def test_a_report_as_of_a_date_judges_items_and_impact_on_that_date(tmp_path: Path):
    """Snapshot of 22 Mar; report as of 26 Mar. Bravo was due 25 Mar: late on the 26th, where the
    report said "at risk" (judged on the snapshot's day). Alpha shipped 18 Mar: its 28 days after
    run to 15 Apr, and the events to 19 Apr must not be used as of 26 Mar: too recent."""
    config = alpha_and_bravo(tmp_path)
    text = write_report(config, tmp_path / "r.html", as_of=date(2026, 3, 26)).read_text(encoding="utf-8")
    bravo = bravo_row(text)
    assert ">late</span>" in bravo and "due 25 Mar 2026, 1 day ago" in bravo
    assert "too recent: the 28 days after 18 Mar 2026 run to 15 Apr 2026" in text


def test_a_report_without_a_date_judges_the_last_loaded_day_as_the_summary_page_does(tmp_path: Path):
    """Events to 19 Apr, the latest snapshot of 22 Mar: the report judged 22 Mar by default (the
    objective on track there, off track on the page's default range ending 19 Apr, QA), and its
    key metrics stopped four weeks before the data. Now 19 Apr, as the page: Bravo, due 25 Mar,
    late 25 days; Alpha's 28 days after 18 Mar (to 15 Apr) are loaded and measured."""
    from pmkit import dashboard
    from pmkit.store import Store

    config = alpha_and_bravo(tmp_path)
    text = write_report(config, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "As of 19 Apr 2026" in text
    assert "due 25 Mar 2026, 25 days ago" in bravo_row(text)
    assert "too recent" not in text
    with Store(config.store_dir).reader() as reader:
        facts = dashboard.facts(reader, config)
    assert facts.last_day == date(2026, 4, 19)  # the day the summary page's default range ends on


def test_top_risks_say_when_they_list_only_the_most_urgent(tmp_path: Path):
    """12 late items: the summary counts 12, the table lists 10 and said nothing of the other 2."""

    events = tmp_path / "events.csv"
    events.write_text("event_time,user_id,event\n2026-03-19T10:00:00Z,u1,login\n2026-03-20T10:00:00Z,u1,login\n")
    roadmap = tmp_path / "roadmap_2026-03-20.csv"
    roadmap.write_text(
        ROADMAP_HEADER
        + "".join(
            f"L{k},Item {k},epic,,,,Ana,Growth,In Progress,in_progress,2026-03-01,2026-03-{5 + k:02d},,,,0.5,,\n"
            for k in range(1, 13)
        )
    )
    config = load_config(tmp_path / "ws")
    ingest([events, roadmap], config)
    text = write_report(config, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "12 roadmap items need attention: 12 late." in text
    risks = text[text.index('<section id="risks">') : text.index("</section>", text.index('<section id="risks">'))]
    assert "The 10 most urgent of 12." in risks and risks.count("<tr>") == 11  # the header and 10 items


def test_an_impact_measured_against_too_few_dates_says_not_judged(tmp_path: Path):
    """70 days of DAU around a ship on 5 Feb: the 28 days before and after exist, but only a few
    other dates to judge the change against. The badge said "measured" beside "12 comparable dates
    (20 needed)", and a change under 0.5% read "-0%"."""

    events = tmp_path / "events.csv"
    rows = ["event_time,user_id,event"]
    for day in range(70):  # 1 Jan - 11 Mar: 200 users a day, one more from the ship on
        when = date.fromordinal(date(2026, 1, 1).toordinal() + day)
        rows += [f"{when}T10:00:00Z,u{k},login" for k in range(200 + (day >= 35))]
    events.write_text("\n".join(rows) + "\n")
    roadmap = tmp_path / "roadmap_2026-03-11.csv"
    roadmap.write_text(
        ROADMAP_HEADER + "A,Alpha,epic,,,dau,Ana,Growth,Done,done,2026-01-10,2026-02-10,,2026-02-05,,,,\n"
    )
    config = load_config(tmp_path / "ws")
    ingest([events, roadmap], config)
    text = write_report(config, tmp_path / "r.html").read_text(encoding="utf-8")
    impact = text[text.index('<section id="impact">') : text.index("</section>", text.index('<section id="impact">'))]
    assert ">not judged</span>" in impact and ">measured</span>" not in impact
    assert "+0.5%" in impact


def test_chart_titles_show_quotes_as_typed(page: str):
    # Plotly turns &lt; back into <, but shows &quot; as typed: a title read 'Launch &quot;Teams&quot;'.
    # The chart's title, in the figure's JSON (where / is written \u002f).
    assert 'alert(\\"objective\\")&lt;\\u002fscript&gt;: ' in page
    assert "alert(&quot;objective&quot;)&lt;\\u002fscript" not in page


def test_no_change_is_claimed_against_days_before_the_data(hostile_workspace: Path, tmp_path: Path):
    # "DAU up 124% on the 28 days before" was said of 28 days of which 17 were before the first event.
    from pmkit.metrics.base import workspace_of
    from pmkit.store import Store

    config = load_config(hostile_workspace)
    with Store(config.store_dir).reader() as reader:
        first = workspace_of(reader).first_day
    as_of = first + dt.timedelta(days=40)  # the 28 days before the last 28 start 16 days before the first
    page = write_report(config, tmp_path / "early.html", as_of=as_of).read_text(encoding="utf-8")
    assert f"The 28 days before are only loaded from {format_date(first)}: no change is claimed" in page
    assert "% on the 28 days before." not in page  # no "DAU averaged 5, up 124% on the 28 days before."
    later = write_report(config, tmp_path / "later.html", as_of=first + dt.timedelta(days=56))
    text = later.read_text(encoding="utf-8")
    assert "no change is claimed" not in text and "% on the 28 days before." in text


def test_a_right_to_left_override_in_file_text_is_closed_where_the_text_ends():
    """A title "\u202etxt.exe" mirrored everything after it in its cell, other titles and pmkit's
    dates included (hosted QA): it is closed at the end of the title; the title itself shows as
    typed."""
    from pmkit.report import esc

    assert esc("\u202etxt.exe") == "\u202etxt.exe\u202c"
    assert esc("\u2067<b>") == "\u2067&lt;b&gt;\u2069"
    assert esc("closed \u202eA\u202c") == "closed \u202eA\u202c"


def test_the_report_judges_whole_days_and_only_loaded_ones(tmp_path: Path, utc_events):
    """Ten users a day for the 20 days to yesterday, then this morning's export with 2 so far.
    The report said "DAU averaged 9.71 ..., down 3%": today's 2 counted as a day, and the 28 days
    held 8 with nothing loaded, as 0s (review, QA). Now: the 20 whole days, DAU 10, today named
    as left out."""
    today = dt.datetime.now(dt.UTC).date()
    first, yesterday = today - dt.timedelta(days=20), today - dt.timedelta(days=1)
    lines = ["event_time,user_id,event\n"]
    lines += [f"{first + dt.timedelta(days=d)}T12:00:00Z,u{n},login\n" for d in range(20) for n in range(10)]
    lines += [f"{today}T00:01:00Z,u{n},login\n" for n in range(2)]
    config = load_config(utc_events(lines))
    page = write_report(config, tmp_path / "report.html").read_text(encoding="utf-8")
    span = f"the 20 days to {format_date(yesterday)}"
    assert f"DAU averaged 10.0 over {span}" in page
    assert f"today is not over: the key metrics end on {format_date(yesterday)}" in page
    assert f"{format_date(first)} to {format_date(yesterday)}" in page  # the table's column


def test_a_held_objective_whose_target_date_has_passed_gets_its_chart(tmp_path: Path):
    """DAU 1 on each of 10 days; "keep DAU above 1" with no start date, due on the 5th. It is
    judged from its target date (achieved); the report drew its path from the report's day (the
    10th) back to the 5th and failed with a ValueError (QA)."""
    config = load_config(
        ingested(
            tmp_path,
            {
                "events.csv": "event_time,user_id,event\n"
                + "".join(f"2026-09-{d:02d}T12:00:00Z,u1,login\n" for d in range(1, 11)),
                "objectives.csv": "objective_id,title,metric,baseline,target,start_date,target_date,direction,owner\n"
                "K1,Keep DAU,dau,,1,,2026-09-05,stay_above,\n",
            },
        )
    )
    page = write_report(config, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Keep DAU: Daily active users" in page  # the objective's chart title
    assert "target path" in page


def test_an_objective_chart_judged_after_the_data_draws_the_data(tmp_path: Path):
    """Events 1-20 Mar, a roadmap snapshot of 30 Apr (the report's day) and an objective starting
    25 Apr: the chart's metric line started after the data and was empty (review). It draws the
    data's last days."""
    config = load_config(
        ingested(
            tmp_path,
            {
                "events.csv": "event_time,user_id,event\n"
                + "".join(f"2026-03-{d:02d}T09:00:00Z,u{d},login\n" for d in range(1, 21)),
                "roadmap_2026-04-30.csv": "item_id,title,item_type,objective_id,status_category\n"
                "E1,Epic,epic,O6,in_progress\n",
                "objectives.csv": "objective_id,title,metric,baseline,target,start_date,target_date,direction,owner\n"
                "O6,Later,dau,1,3,2026-04-25,2026-12-31,increase,\n",
            },
        )
    )
    page = write_report(config, tmp_path / "report.html").read_text(encoding="utf-8")
    line = re.search(r'"mode":"lines","name":"Daily active users, 7 days[^"]*","x":\[([^\]]*)\]', page)
    assert line is not None and line.group(1).count(",") >= 10, line


def test_each_listed_name_closes_its_own_right_to_left_override():
    """A title with an unclosed U+202E in the "also shipped" cell was closed only at the cell's
    end, so the names after it showed reordered (hosted QA)."""
    from pmkit import report

    frame = pl.DataFrame({"title": ["\u202eevil", None, "b"], "item_id": ["E1", "E2", "E3"]})
    assert report._names(frame, "title", "item_id") == "\u202eevil\u202c, E2, b"
    assert report._listed(["\u202ex", "y"], "; ") == "\u202ex\u202c; y"


def test_a_percent_chart_keeps_the_decimals_small_shares_need():
    """Review: the app's percent axes keep the decimals their values need, the report's charts
    still wrote 0.3% to 0.6% as ticks of 0%, 0%, 0%, 1%."""
    import plotly.graph_objects as go

    from pmkit import report

    small = report._layout(go.Figure(go.Scatter(y=[0.003, 0.006])), "Share", percent=True)
    assert small.layout.yaxis.tickformat == ".2~%"
    large = report._layout(go.Figure(go.Scatter(y=[0.3, 0.6])), "Share", percent=True)
    assert large.layout.yaxis.tickformat == ".0%"
    # Its axis need not start at zero: 40% to 41.2% read 40%, 41%, 41% (the next review).
    narrow = report._layout(go.Figure(go.Scatter(y=[0.40, 0.412])), "Share", percent=True)
    assert narrow.layout.yaxis.tickformat == ".1~%"
