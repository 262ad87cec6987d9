"""Every page through AppTest: it renders on the demo and on an empty workspace, its visible numbers
are the engine's (checked by hand on tests/known_workspace.py), and its widgets change what it shows.

AppTest cannot see charts: the figure builders are tested in test_charts.py.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pmkit import metrics, ui
from pmkit.config import load_config
from pmkit.formatting import format_date, format_value
from pmkit.ingest import ingest
from pmkit.metrics import Period
from pmkit.store import Store
from tests.known_workspace import HOSTILE_TITLE, build_demo_workspace, build_known_workspace, ingested

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGES = ["summary", "kpis", "retention", "funnels", "engagement", "roadmap", "objectives", "feedback", "data"]


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_workspace(tmp_path_factory.mktemp("pages-demo") / "ws")


@pytest.fixture(scope="module")
def known_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_known_workspace(tmp_path_factory.mktemp("pages-known") / "ws")


@pytest.fixture()
def empty_data(tmp_path: Path) -> Path:
    """A workspace with an (empty) pmkit.toml and no store: not brand new, so no demo is built."""
    root = tmp_path / "empty"
    root.mkdir()
    (root / "pmkit.toml").write_text("")
    return root


def open_page(monkeypatch: pytest.MonkeyPatch, data: Path, page: str, **query: str | list[str]) -> AppTest:
    """The app on ``data`` opened at ``page`` (its file name without .py) with ``query`` in the
    URL, as a new browser tab would open a link."""
    monkeypatch.setenv("PMKIT_DATA", str(data))
    at = AppTest.from_file(APP, default_timeout=60)
    if page != "summary":
        at.switch_page(f"pages/{page}.py")  # before the first run, pages are found by file name
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements: object) -> list[str]:
    return [e.value for e in elements]


def unescape(text: str) -> str:
    """What a reader sees of a safe_text-escaped string."""
    import re

    return re.sub(r"\\(.)", r"\1", text)


def engine_value(data: Path, key: str, period: Period) -> float | None:
    config = load_config(data)
    from pmkit.definitions import load_definitions

    with Store(config.store_dir).reader() as reader:
        return metrics.compare_metric(reader, key, period, definitions=load_definitions(config))["value"].item()


def metric_value(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if unescape(m.label) == label]
    assert found, f"no metric {label!r} in {[m.label for m in at.metric]}"
    return found[0]


# --- every page, demo and empty ----------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_the_demo_workspace(monkeypatch, demo_data, page):
    at = open_page(monkeypatch, demo_data, page)
    assert texts(at.error) == []
    assert at.title and at.title[0].value


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_an_empty_workspace_with_a_helpful_message(monkeypatch, empty_data, page):
    at = open_page(monkeypatch, empty_data, page)
    assert texts(at.error) == []
    messages = " ".join(texts(at.info))
    assert "No events are loaded yet" in messages or "No " in messages or "Nothing loaded yet" in messages, messages


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_one_day_of_events(monkeypatch, workspace, page):
    """Too little data for trends, cohorts or funnels: a helpful message or a "No data" chart,
    never an exception. No roadmap, objectives or survey answers either."""
    workspace.configure()
    workspace.load_events([("2026-03-01T10:00Z", "u1", "signup"), ("2026-03-01T11:00Z", "u2", "login")])
    at = open_page(monkeypatch, workspace.root, page)
    assert texts(at.error) == []


def test_read_only_mode_has_no_data_page(monkeypatch, demo_data):
    monkeypatch.setenv("PMKIT_READ_ONLY", "1")
    monkeypatch.setenv("PMKIT_DATA", str(demo_data))
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["pmkit_auth"] = {"anonymous": True}  # hosted behind its own sign-on (test_ui tests the login)
    at.run()
    assert not at.exception
    assert metric_value(at, "Daily active users")
    with pytest.raises(ValueError):
        at.switch_page("pages/data.py")


# --- the numbers are the engine's ------------------------------------------------------------------------


def test_summary_numbers_on_the_known_workspace(monkeypatch, known_data):
    at = open_page(monkeypatch, known_data, "summary")
    assert metric_value(at, "Daily active users") == "1.40"  # 14 active user-days over 10 days
    assert metric_value(at, "Monthly active users") == "3"
    assert metric_value(at, "New users") == "3"
    assert metric_value(at, "NPS") == "+33"
    narrative = texts(at.markdown)[0]
    assert (
        "- Daily active users is 1.40 (nothing earlier to compare with); "
        "over the 7 days to 11 Mar 2026 it was 1.14, behind the path to 3 by 31 Mar 2026." in unescape(narrative)
    )
    assert "1 of 1 open roadmap items is late" in unescape(narrative)


def test_titles_from_files_are_escaped_wherever_they_are_written(monkeypatch, known_data):
    at = open_page(monkeypatch, known_data, "summary")
    shown = "\n".join(texts(at.markdown) + texts(at.caption) + [m.label for m in at.metric])
    assert ui.safe_text(HOSTILE_TITLE) in shown
    for raw in ("**Bold**", "<b>x</b>", "[link](javascript", ":red[red]", "**daily**", "<b>now</b>"):
        assert raw not in shown


def test_summary_dau_equals_the_engine_and_follows_the_date_range(monkeypatch, demo_data):
    at = open_page(monkeypatch, demo_data, "summary")
    last = load_config(demo_data) and engine_last_day(demo_data)
    expected = engine_value(demo_data, "dau", Period.last(28, last))
    assert metric_value(at, "Daily active users") == format_value(expected)
    at.segmented_control(key="range").set_value("7d").run()
    week = engine_value(demo_data, "dau", Period.last(7, last))
    assert metric_value(at, "Daily active users") == format_value(week)
    assert format_value(week) != format_value(expected)


def test_reruns_of_a_page_after_a_range_change_carry_nothing_over(monkeypatch, known_data):
    """The carry-over of the sidebar's filters to a new page's URL leaves a rerun of the same page
    alone: there the range is bound to a widget already drawn (setting it raised in AppTest,
    whose URL does not follow the widgets)."""
    at = open_page(monkeypatch, known_data, "kpis")
    at.segmented_control(key="range").set_value("7d").run()
    for _ in range(2):
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    assert at.segmented_control(key="range").value == "7d"


def engine_last_day(data: Path) -> dt.date:
    config = load_config(data)
    with Store(config.store_dir).reader() as reader:
        return metrics.daily_kpis(reader)["day"].max()


def test_kpi_explorer_shows_the_chosen_metrics(monkeypatch, known_data):
    at = open_page(monkeypatch, known_data, "kpis")
    assert texts(at.subheader) == ["Daily active users"]
    assert at.metric[0].value == "1.40"
    # The previous 10 days lie before the first loaded day: no "+1.40 (from 0)".
    assert not at.metric[0].delta
    assert at.metric[0].proto.delta_description == "vs previous period: nothing earlier to compare with"
    assert unescape(at.metric[0].proto.help).endswith("The value of a range is the mean of its daily values.")
    at.multiselect(key="metric").set_value(["mau", "activation"]).run()
    assert [unescape(s) for s in texts(at.subheader)] == ["Monthly active users", "Activation"]
    assert at.metric[0].value == "3"
    assert unescape(at.metric[0].proto.help).endswith("The value of a range is the value on its last day.")


def test_a_link_reproduces_the_kpi_view(monkeypatch, demo_data):
    """The URL a click on an objective opens: its metric, with its target path and range."""
    at = open_page(monkeypatch, demo_data, "kpis", metric="reports_shared", objective="OBJ-2", range="90d")
    assert [unescape(s) for s in texts(at.subheader)] == ["Reports shared"]
    assert at.segmented_control(key="range").value == "90d"
    captions = " ".join(unescape(c) for c in texts(at.caption))
    assert "the target path of OBJ-2" in captions
    last = engine_last_day(demo_data)
    assert at.metric[0].value == format_value(engine_value(demo_data, "reports_shared", Period.last(90, last)))


def test_funnel_numbers_and_steps(monkeypatch, known_data):
    at = open_page(monkeypatch, known_data, "funnels")
    at.multiselect(key="steps").set_value(["signup", "create_report"]).run()
    assert metric_value(at, "Started (signup)") == "3"
    assert metric_value(at, "Converted (create_report)") == "2"
    assert metric_value(at, "Conversion") == "66.7%"
    # The range ends on the last loaded day (11 Mar): attempts of 5-11 Mar are not final yet.
    assert any(
        unescape(c).startswith("Users who started on 5 Mar 2026 – 11 Mar 2026 still have time to convert")
        for c in texts(at.caption)
    ), texts(at.caption)
    at.multiselect(key="steps").set_value(["signup"]).run()
    assert "Pick at least two steps" in " ".join(texts(at.info))


@pytest.mark.parametrize(
    ("dates", "shown"),
    [
        # The whole range: nothing is loaded before it ("+3 (from 0)" was shown).
        (["2026-03-02", "2026-03-11"], "vs prior 10d: nothing earlier to compare with"),
        # 5-11 Mar against 26 Feb - 4 Mar, of which 2-4 Mar are loaded (a count of 3 days against 7).
        (["2026-03-05", "2026-03-11"], "vs prior 7d: only loaded from 2 Mar 2026"),
    ],
)
def test_funnel_cards_claim_no_change_against_days_before_the_data(monkeypatch, known_data, dates, shown):
    at = open_page(monkeypatch, known_data, "funnels", range="Custom", dates=dates, steps=["signup", "create_report"])
    cards = [m for m in at.metric if m.label.startswith(("Started", "Converted", "Conversion"))]
    assert len(cards) == 3
    assert [(m.delta or None, unescape(m.proto.delta_description)) for m in cards] == [(None, shown)] * 3


def test_funnel_cards_compare_with_a_loaded_period_before(monkeypatch, known_data):
    # In 1 day, 6-9 Mar against 2-5 Mar: signups 0 against 3 (u1, u2, u3), conversions 0 against
    # 2 (u1 in 1 h, u2 in 21 h). Every attempt's day is over by 11 Mar, the last loaded day.
    at = open_page(
        monkeypatch,
        known_data,
        "funnels",
        range="Custom",
        dates=["2026-03-06", "2026-03-09"],
        steps=["signup", "create_report"],
        window="1",
    )
    started = next(m for m in at.metric if m.label.startswith("Started"))
    converted = next(m for m in at.metric if m.label.startswith("Converted"))
    conversion = next(m for m in at.metric if m.label == "Conversion")
    assert (started.value, started.delta) == ("0", "-100.0%")
    assert (converted.value, converted.delta) == ("0", "-100.0%")
    assert unescape(conversion.proto.delta_description) == "vs prior 4d (66.7%)"


def test_funnel_cards_claim_no_conversion_change_while_attempts_can_still_convert(monkeypatch, known_data):
    """7-11 Mar in 7 days: every attempt of the range can still convert by 18 Mar, the range
    before has had all its time. A flat funnel's Converted read as a drop until the window closed
    (review). Started is final and compared; conversions are not."""
    at = open_page(
        monkeypatch,
        known_data,
        "funnels",
        range="Custom",
        dates=["2026-03-07", "2026-03-11"],
        steps=["signup", "create_report"],
    )
    started = next(m for m in at.metric if m.label.startswith("Started"))
    assert (started.value, started.delta) == ("0", "-100.0%")
    why = "vs prior 5d: users who started from 7 Mar 2026 can still convert, so no change is claimed"
    for label in ("Converted", "Conversion"):
        card = next(m for m in at.metric if m.label.startswith(label))
        assert not card.delta, label
        assert unescape(card.proto.delta_description) == why, label


def test_funnel_conversion_of_a_range_ending_on_the_last_day_compares_its_settled_days(monkeypatch, utc_events):
    """Four visitors a day to 28 Mar, one buying within the hour from 1 to 14 Mar and two from 15
    to 27 Mar. The range 15-28 Mar never showed a conversion change (its last day's visitors can
    still buy): the days whose attempts are settled, 15-27 Mar, are compared with the same days
    of the range before, 1-13 Mar: 26 of 52 (50%) against 13 of 52 (25%)."""
    lines = ["event_time,user_id,event\n"]
    for day in range(1, 29):
        buyers = 0 if day == 28 else 1 if day < 15 else 2
        lines += [f"2026-03-{day:02d}T10:00:00Z,v{day}_{n},visit\n" for n in range(4)]
        lines += [f"2026-03-{day:02d}T10:30:00Z,v{day}_{n},purchase\n" for n in range(buyers)]
    at = open_page(
        monkeypatch,
        utc_events(lines),
        "funnels",
        range="Custom",
        dates=["2026-03-15", "2026-03-28"],
        steps=["visit", "purchase"],
        window="1",
    )
    conversion = next(m for m in at.metric if m.label == "Conversion")
    assert conversion.value == "46.4%"  # 26 of 56, the 28th's visitors included
    assert conversion.delta == "+25.0 pts"
    assert unescape(conversion.proto.delta_description) == (
        "of the users who started 15 Mar 2026 – 27 Mar 2026 against 1 Mar 2026 – 13 Mar 2026: 50.0% against "
        "25.0% (later starters can still convert)"
    )
    converted = next(m for m in at.metric if m.label.startswith("Converted"))
    assert not converted.delta  # a count of 14 days' attempts, some still open: not compared


def test_funnel_conversion_compares_its_settled_days_while_today_is_not_over(monkeypatch, utc_events):
    """The same while today is open (the default range ends today): its settled days end two days
    before it, yesterday's visitors still having time."""
    today = dt.datetime.now(dt.UTC).date()
    lines = ["event_time,user_id,event\n"]
    for back in range(14, 0, -1):
        day = today - dt.timedelta(days=back)
        lines += [f"{day}T10:00:00Z,v{back}_{n},visit\n" for n in range(4)]
        lines += [f"{day}T10:30:00Z,v{back}_{n},purchase\n" for n in range(1 if back > 7 else 2)]
    lines.append(f"{today}T00:01:00Z,early,visit\n")
    at = open_page(monkeypatch, utc_events(lines), "funnels", range="7d", steps=["visit", "purchase"], window="1")
    conversion = next(m for m in at.metric if m.label == "Conversion")
    settled = f"{format_date(today - dt.timedelta(days=6))} – {format_date(today - dt.timedelta(days=2))}"
    before = f"{format_date(today - dt.timedelta(days=13))} – {format_date(today - dt.timedelta(days=9))}"
    assert conversion.delta == "+25.0 pts"
    assert unescape(conversion.proto.delta_description) == (
        f"of the users who started {settled} against {before}: 50.0% against 25.0% (later starters can still convert)"
    )


def test_funnels_open_on_the_saved_funnel_with_the_engines_numbers(monkeypatch, demo_data):
    # The demo's pmkit.toml saves "activation" (signup -> create_report in 7 days): the page opens
    # on it, says so, and shows the numbers the engine computes from the step events.
    at = open_page(monkeypatch, demo_data, "funnels")
    assert at.multiselect(key="steps").value == ["signup", "create_report"]
    assert at.number_input(key="window").value == 7
    assert any("saved funnel “Activation rate”" in unescape(c) for c in texts(at.caption))
    config = load_config(demo_data)
    with Store(config.store_dir).reader() as reader:
        last = reader.frame("SELECT max(day) AS d FROM kpi_daily")["d"].item()
        table = metrics.funnel(reader, ["signup", "create_report"], 7, Period.last(28, last))
    assert metric_value(at, "Started (signup)") == format_value(float(table["users"][0]), "number")
    assert metric_value(at, "Converted (create_report)") == format_value(float(table["users"][1]), "number")
    at.number_input(key="window").set_value(3).run()  # no longer the saved funnel
    assert not any("saved funnel" in c for c in texts(at.caption))


def test_roadmap_filters_change_the_items(monkeypatch, known_data):
    at = open_page(monkeypatch, known_data, "roadmap")
    assert texts(at.subheader)[0] == "Items (2)"
    at.multiselect(key="rm_health").set_value(["late"]).run()
    assert texts(at.subheader)[0] == "Items (1 of 2)"  # of how many the filters leave one
    assert at.selectbox(key="item").value == "EP-9"  # the item picked for its history is the late one
    assert "5 days ago, 50% done" in unescape(texts(at.markdown)[0])


def test_voice_of_customer_search_and_scale(monkeypatch, known_data):
    at = open_page(monkeypatch, known_data, "feedback")
    assert metric_value(at, "NPS") == "+33"
    assert "2 comments" in texts(at.caption)
    at.text_input(key="q").input("SHARING").run()
    assert any(c.startswith("1 comment") for c in texts(at.caption))
    at.segmented_control(key="scale").set_value("csat").run()
    assert metric_value(at, "CSAT") == "100.0%"


def test_voice_of_customer_card_follows_the_segment(monkeypatch, known_data):
    """plan=free: the NPS answers 10 (u1) and 9 (u3) are both promoters, +100 from 2 answers;
    plan=pro: u2's 6, a detractor, -100 from 1. Every answer: +33 from 3 (the test above)."""
    at = open_page(monkeypatch, known_data, "feedback", f_plan="free")
    assert metric_value(at, "NPS") == "+100"
    assert "2 answers (previous period: 0)" in texts(at.caption)
    assert "Segment: plan is free." in [unescape(c) for c in texts(at.caption)]
    at = open_page(monkeypatch, known_data, "feedback", f_plan="pro")
    assert metric_value(at, "NPS") == "-100"


def test_data_page_says_what_is_loaded(monkeypatch, known_data):
    at = open_page(monkeypatch, known_data, "data")
    assert metric_value(at, "Events") == "15"
    assert metric_value(at, "Users") == "3"
    assert metric_value(at, "Days of events") == "10"
    assert any("activation" in str(df.value) for df in at.dataframe)  # the metric definitions table


def test_data_page_loads_an_upload_and_the_inbox_and_shows_the_results(monkeypatch, empty_data):
    """Each load runs behind a progress bar that is gone when it ends; its result and the new
    "What is loaded" numbers show in the same run."""
    at = open_page(monkeypatch, empty_data, "data")
    upload = b"event_time,user_id,event\n2026-03-01T10:00:00Z,u1,signup\n2026-03-02T10:00:00Z,u2,login\n"
    at.file_uploader[0].set_value(("events <b>march</b>.csv", upload, "text/csv")).run()
    next(b for b in at.button if b.label == "Load files").click().run()
    assert not at.exception, [e.value for e in at.exception]
    # Named as the user picked it (made safe for a path), not with a time stamp in front.
    # (The browser's name is cut at its last "/", here the one of "</b>".)
    want = "b>.csv (saved as b_.csv): loaded 2 rows as events"  # the name the browser sent, and the saved one
    assert any(unescape(s).startswith(want) for s in texts(at.success)), texts(at.success)
    assert len(at.progress) == 0
    assert metric_value(at, "Events") == "2"

    inbox = empty_data / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / "april.csv").write_text("event_time,user_id,event\n2026-04-01T10:00:00Z,u3,signup\n")
    (inbox / "may").mkdir()
    at.run()
    (caption,) = [unescape(c.value) for c in at.caption if "waiting" in c.value]
    assert caption.endswith(": 2 waiting")
    assert [df.value for df in at.dataframe if "file" in df.value.columns][0]["file"].to_list() == ["april.csv", "may/"]
    next(b for b in at.button if b.label == "Load the inbox").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "april.csv: loaded 1 row as events (pmkit events CSV)" in [unescape(s) for s in texts(at.success)]
    assert len(at.progress) == 0
    assert metric_value(at, "Events") == "3"
    assert [p.name for p in inbox.iterdir()] == ["may"]
    assert any(unescape(w).startswith("may: not loaded, left in the inbox") for w in texts(at.warning))
    assert not at.error  # a folder waiting there is not a refused file
    # The listing is of the inbox after the load: the moved file was still said to be waiting.
    (caption,) = [unescape(c.value) for c in at.caption if "waiting" in c.value]
    assert caption.endswith(": 1 waiting")
    assert not [b for b in at.button if b.label == "Load the inbox"]


@pytest.mark.parametrize("room", [100_000, 3_000_000])  # full while saving the upload, or while loading it
def test_an_upload_onto_a_full_disk_says_so_and_keeps_what_was_loaded(monkeypatch, small_disk, room):
    """Lifecycle QA: a disk that filled up during a load showed Streamlit's bare error box. The
    page says the disk is full and that nothing else changed."""
    disk = small_disk("16m")
    data = disk.path / "ws"
    data.mkdir()
    (data / "pmkit.toml").write_text("")
    first = "event_time,user_id,event\n" + "".join(f"2026-03-01T10:{m:02d}:00Z,u{m},a\n" for m in range(50))
    at = open_page(monkeypatch, data, "data")
    at.file_uploader[0].set_value(("first.csv", first.encode(), "text/csv")).run()
    next(b for b in at.button if b.label == "Load files").click().run()
    assert metric_value(at, "Events") == "50"
    rows = "".join(f"2026-03-{1 + n % 28:02d}T10:00:00Z,user{n},event{n % 40}\n" for n in range(60_000))
    disk.fill(room)
    at.file_uploader[0].set_value(("big.csv", ("event_time,user_id,event\n" + rows).encode(), "text/csv")).run()
    next(b for b in at.button if b.label == "Load files").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [
        "The disk holding the workspace is full: free some space and load again. What a load could not finish "
        "was not published; the page shows what is loaded once opened again."
    ]
    # Saved whole, it waits in the inbox to be loaded again; cut off by the disk, it is gone
    # (half a file there loaded as a cut-off export; review).
    waiting = [p.name for p in (data / "inbox").iterdir()]
    assert waiting == ([] if room < 1_000_000 else ["big.csv"])
    disk.empty()
    at = open_page(monkeypatch, data, "data")
    assert metric_value(at, "Events") == "50"


def test_the_data_page_keeps_a_custom_range_of_answers_days(monkeypatch, tmp_path):
    """Review: the Data page draws the other pages' date range so that it stays in the URL. Drawn
    over the events' days alone (1-10 Mar), it cut Voice of customer's custom 12-18 Mar, over the
    answers' days, to 1-10 Mar, saying so, and Voice of customer came back at 1-10 Mar."""
    events = "event_time,user_id,event\n" + "".join(f"2026-03-{d:02d}T10:00:00Z,u{d},open\n" for d in range(1, 11))
    answers = "submitted_at,user_id,score,scale\n" + "".join(
        f"2026-03-{d:02d}T10:00:00Z,u{d},9,nps\n" for d in range(1, 21)
    )
    data = ingested(tmp_path, {"events.csv": events, "feedback.csv": answers})
    at = open_page(monkeypatch, data, "feedback", range="Custom", dates=["2026-03-12", "2026-03-18"])
    shown = (dt.date(2026, 3, 12), dt.date(2026, 3, 18))
    assert at.session_state["dates"] == shown
    at.switch_page("pages/data.py")
    at.run()
    assert not at.warning and not at.exception
    at.switch_page("pages/feedback.py")
    at.run()
    assert at.session_state["dates"] == shown


def test_the_data_page_says_an_unreadable_store_once(monkeypatch, tmp_path):
    """Review: with the filters drawn there, the Data page, where a workspace is mended, said the
    store could not be read six times (each filter, and the inbox's button, read it again)."""
    data = ingested(tmp_path, {"events.csv": "event_time,user_id,event\n2026-03-01T10:00:00Z,u1,a\n"})
    (data / "store" / "v000001.duckdb").write_bytes(b"not a database")
    at = open_page(monkeypatch, data, "data")
    errors = texts(at.error)
    assert errors and len(errors) <= 2, errors  # its two reads of the store, as before the filters came


def test_the_skip_bad_rows_box_applies_to_the_inbox_too(monkeypatch, empty_data):
    """Ticked, it skipped bad rows for uploads only: "Load the inbox" rejected the whole file
    beside it (QA), and the page offered no other way to load an inbox file's good rows."""
    inbox = empty_data / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / "mixed.csv").write_text(
        "event_time,user_id,event\n2026-04-01T10:00:00Z,u1,signup\n2026-02-30T10:00:00Z,u2,signup\n"
    )
    at = open_page(monkeypatch, empty_data, "data")
    next(c for c in at.checkbox if c.label.startswith("Load good rows and skip bad ones")).check().run()
    next(b for b in at.button if b.label == "Load the inbox").click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [unescape(t) for t in texts(at.success) + texts(at.warning)]
    assert any(t.startswith("mixed.csv: loaded 1 row as events") for t in shown), shown
    assert (empty_data / "archive" / "mixed.csv.skipped.txt").exists()


def zone_changed_after_loading(tmp_path: Path) -> Path:
    """A workspace whose events (1 and 2 Mar, the second at 03:00 UTC) were loaded in UTC, and
    whose pmkit.toml then moved it to New York, not yet rebuilt."""
    from pmkit.ingest import ingest

    data = tmp_path / "ws"
    data.mkdir()
    (data / "pmkit.toml").write_text('[workspace]\ntimezone = "UTC"\n')
    events = tmp_path / "events.csv"
    events.write_text("event_time,user_id,event\n2026-03-01T12:00:00Z,u0,login\n2026-03-02T03:00:00Z,u1,login\n")
    ingest([events], load_config(data))
    (data / "pmkit.toml").write_text('[workspace]\ntimezone = "America/New_York"\n')
    return data


def test_the_data_page_rebuilds_after_a_settings_change_with_nothing_in_the_inbox(monkeypatch, tmp_path: Path):
    """After pmkit.toml's zone changed, the page hid its inbox button with nothing waiting, and
    only the warning's command could rebuild the numbers (QA)."""
    data = zone_changed_after_loading(tmp_path)
    at = open_page(monkeypatch, data, "data")
    assert any("time zone changed" in unescape(w) for w in texts(at.warning))
    next(b for b in at.button if b.label == "Rebuild the numbers with pmkit.toml's settings").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "The numbers are counted with pmkit.toml's settings now." in [unescape(s) for s in texts(at.success)]
    at = open_page(monkeypatch, data, "kpis")
    assert not any("time zone changed" in unescape(w) for w in texts(at.warning))
    assert "(America/New_York days)" in " ".join(unescape(c) for c in texts(at.caption))


def test_objectives_page_links_each_objective_to_its_metric(monkeypatch, known_data):
    at = open_page(monkeypatch, known_data, "objectives")
    assert ui.safe_text("OBJ-9 · Grow **daily** use <b>now</b> :material/check_circle:") in texts(at.subheader)
    links = [p for p in at.get("page_link")]
    assert links, "no link to the KPI explorer"


@pytest.mark.parametrize("page", ["kpis", "retention", "funnels"])
def test_breakdown_by_a_dimension(monkeypatch, demo_data, page):
    at = open_page(monkeypatch, demo_data, page, by="plan")
    assert at.selectbox(key="by").value == "plan"
    assert texts(at.error) == []
    assert any("plan" in df.value.columns for df in at.dataframe)  # the values table has a column per plan


def test_a_segment_filter_changes_the_numbers(monkeypatch, demo_data):
    at = open_page(monkeypatch, demo_data, "kpis")
    everyone = at.metric[0].value
    at.multiselect(key="f_plan").set_value(["enterprise"]).run()
    assert at.metric[0].value != everyone
    assert any("plan is enterprise" in unescape(c) for c in texts(at.caption))


def test_pandas_is_whole_before_any_page_builds_a_chart():
    """Importing pmkit.ui imports pandas: plotly reads sys.modules["pandas"] without importing it,
    and a first import in another session's thread would show it a half-built module."""
    import subprocess
    import sys

    script = "import sys\nfrom pmkit import ui\nprint(hasattr(sys.modules.get('pandas'), 'Series'))\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.split() == ["True"]


def test_after_the_warm_up_the_summary_opens_from_the_cache(monkeypatch, tmp_path):
    """A server that sees a new store version computes the summary's opening results in the
    background; the first viewer's render then computes nothing itself."""
    from pmkit import dashboard

    data = build_demo_workspace(tmp_path / "ws")
    cfg = load_config(data)
    thread = ui.warm_up(cfg)
    assert thread is not None and ui.warm_up(cfg) is None  # once per version
    thread.join(timeout=120)
    computed: list[str] = []
    originals = dict(dashboard.PAGE_MODELS)
    for name, model in originals.items():
        monkeypatch.setitem(
            dashboard.PAGE_MODELS,
            name,
            lambda reader, c, _m=model, _n=name, **kw: computed.append(_n) or _m(reader, c, **kw),
        )
    at = open_page(monkeypatch, data, "summary")
    assert at.metric, "the summary shows its scorecards"
    assert computed == []
    # A page the warm-up does not cover still computes (the recording works).
    open_page(monkeypatch, data, "retention")
    assert "weekly_retention" in computed


def test_retention_says_why_a_segment_has_no_cohort(monkeypatch, known_data):
    """9-11 Mar (the week of 9 Mar) with plan=pro: u2, the one pro user, was first seen on 2 Mar,
    so there is no cohort, and the page says why rather than the general advice to widen the range."""
    at = open_page(
        monkeypatch, known_data, "retention", range="Custom", dates=["2026-03-09", "2026-03-11"], f_plan="pro"
    )
    assert texts(at.info) == [
        "No user of this segment was first seen in this range: a user joins the cohort of their first event ever, "
        "and that event must match the segment."
    ]
    at = open_page(monkeypatch, known_data, "retention", range="Custom", dates=["2026-03-09", "2026-03-11"])
    assert texts(at.info)[0].startswith("Fewer than two weekly cohorts in this range")


def test_retention_says_which_weeks_are_still_in_progress(monkeypatch, known_data):
    """Last loaded day Wednesday 11 Mar: the 2 Mar cohort's week 1 (9-15 Mar) is half loaded, its
    2 of 3 users so far marked and left out of the curves rather than read as a drop."""
    at = open_page(monkeypatch, known_data, "retention")
    (heatmap,) = [c for c in at.get("plotly_chart") if c.key == "heatmap"]
    assert json.loads(heatmap.proto.spec)["data"][0]["text"] == [["100.0%", "66.7% *"]]
    assert (
        "1 cohort week is still in progress on 11 Mar 2026, the last loaded day (marked * in the heatmap): "
        "its share can still rise. The curves leave it out."
    ) in [unescape(t) for t in texts(at.caption)]


def test_clearing_the_demo_on_the_data_page_keeps_it_cleared(monkeypatch, tmp_path):
    """After the click the page says the demo is gone and the app does not build it again (it
    did: the rerun found an empty workspace)."""
    from tests.test_workspace import demo_workspace

    root = demo_workspace(tmp_path / "ws")
    at = open_page(monkeypatch, root, "data")
    (remove,) = [b for b in at.button if b.label == "Remove the demo data"]
    remove.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Demo data removed. Upload your own exports below." in texts(at.success)
    assert not load_config(root).demo
    with Store(load_config(root).store_dir).reader() as reader:
        assert reader.frame("SELECT count(*) AS n FROM loaded_files")["n"].item() == 0
    assert not [b for b in at.button if b.label == "Remove the demo data"]


def test_an_upload_with_events_after_today_is_a_warning_not_a_success(monkeypatch, empty_data):
    """Loaded, but it moves every page's range to its date: said in yellow, not with a green tick."""
    at = open_page(monkeypatch, empty_data, "data")
    later = dt.date.today() + dt.timedelta(days=60)  # not 2099: the daily tables would span 73 years
    upload = f"event_time,user_id,event\n{later - dt.timedelta(days=90)}T10:00:00Z,u1,signup\n{later}T10:00:00Z,u2,login\n".encode()
    at.file_uploader[0].set_value(("late.csv", upload, "text/csv")).run()
    next(b for b in at.button if b.label == "Load files").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert texts(at.success) == []
    assert any(unescape(w).startswith("late.csv: loaded 2 rows as events") for w in texts(at.warning))
    assert any("1 of them dated after today" in unescape(w) for w in texts(at.warning))


def test_an_upload_whose_columns_are_not_all_kept_says_which_as_a_warning(monkeypatch, empty_data):
    """31 dimension columns: the least filled is left out, and a filter on it would find nothing.
    It is named as stored (and as ingest.keep_dimensions takes it), never as markdown."""
    at = open_page(monkeypatch, empty_data, "data")
    hostile = "![x](http://192.0.2.1/x.png)"
    names = [*(f"x{i:02d}" for i in range(1, 31)), hostile]
    cells = ",".join(["v"] * 30)
    upload = f"event_time,user_id,event,{','.join(names)}\n2026-03-02T10:00:00Z,u1,signup,{cells},\n"
    upload += f"2026-03-02T11:00:00Z,u2,signup,{cells},v\n"
    at.file_uploader[0].set_value(("wide.csv", upload.encode(), "text/csv")).run()
    next(b for b in at.button if b.label == "Load files").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert texts(at.success) == []
    (warning,) = [w for w in texts(at.warning) if unescape(w).startswith("wide.csv")]
    assert hostile not in warning
    assert "; 1 column not kept as a dimension (x_http_192_0_2_1_x_png): a workspace keeps 30" in unescape(warning)


def test_voice_of_customer_names_only_the_filters_the_answers_follow(monkeypatch, demo_data):
    """The demo's survey has no app_version: the page says that filter is not applied, and its
    captions no longer add "Segment: app_version is 4.0.0" under the charts."""
    at = open_page(monkeypatch, demo_data, "feedback", f_app_version="4.0.0")
    captions = [unescape(c) for c in texts(at.caption)]
    assert "The answers have no app_version: that filter is not applied here." in captions
    assert not [c for c in captions if "Segment: app_version" in c]
    assert any(c.endswith("Segment: all answers.") for c in captions), captions


def test_kpi_explorer_with_a_breakdown_does_not_claim_a_comparison(monkeypatch, known_data):
    """By plan the chart has one line per plan and no previous period; its caption said
    "Compared to: previous period (...)" all the same."""
    at = open_page(monkeypatch, known_data, "kpis", metric="activation", by="plan")
    captions = [unescape(c) for c in texts(at.caption)]
    assert any("Compared to:** each other value of plan (earlier periods are drawn without" in c for c in captions)
    assert not [c for c in captions if "previous period (" in c or c.startswith("The totals are of")]


def test_kpi_explorer_names_the_days_a_settling_metrics_card_compares(monkeypatch, known_data):
    """A funnel's totals are moved back until final, so its card's comparison is not the chart's
    (QA: "vs previous period: 42.8%" beside a caption naming other days). Over 7 days nothing is
    final yet: the chart says so, not "no data" beside a card with a value."""
    at = open_page(monkeypatch, known_data, "kpis", metric="activation", range="7d")
    (card,) = [m for m in at.metric if m.label.startswith("2")]
    # From the first loaded day, 2 Mar: moved back its whole 7 days, it named 26 Feb - 1 Mar too.
    assert (card.label, card.value) == ("2 Mar 2026 – 4 Mar 2026", "66.7%")
    assert card.proto.delta_description == "vs 27 Feb 2026 – 1 Mar 2026: nothing earlier to compare with"
    (chart,) = [c for c in at.get("plotly_chart") if c.key == "chart-activation"]
    assert "The last 7 days of Activation are not final yet" in chart.proto.spec
    # A whole day range: the card compares with the period before, named as the chart's is.
    at = open_page(monkeypatch, known_data, "kpis", metric="dau", range="7d")
    (card,) = [m for m in at.metric if m.label.startswith("5")]
    assert card.proto.delta_description.startswith("vs previous period: ")


def test_a_segment_from_a_link_is_shown_and_the_summary_cards_say_they_carry_it(monkeypatch, known_data):
    """/?f_plan=pro: the summary (every user) linked its cards to the explorer with the segment,
    which showed other numbers without a word, and the sidebar read "Segment", not filtered."""
    at = open_page(monkeypatch, known_data, "summary", f_plan="pro")
    assert [e.label for e in at.sidebar.expander] == ["Segment (filtered)"]
    links = [unescape(p.proto.label) for p in at.get("page_link") if "KPI explorer" in p.proto.label]
    assert links and all(label == "Open in KPI explorer (segment: plan is pro)" for label in links), links
    at = open_page(monkeypatch, known_data, "summary")
    assert [e.label for e in at.sidebar.expander] == ["Segment"]
    assert {unescape(p.proto.label) for p in at.get("page_link") if "KPI explorer" in p.proto.label} == {
        "Open in KPI explorer"
    }


def test_shipped_items_without_a_percentage_say_why_not_none(monkeypatch, known_data):
    """EP-8 shipped 5 Mar and its 28 days after are not loaded: its change is "–", where the
    table showed "None"."""
    at = open_page(monkeypatch, known_data, "summary")
    (shipped,) = [df.value for df in at.dataframe if "Measured impact (correlation, not cause)" in str(df.proto)]
    assert shipped["change_pct"].to_list() == ["–"]
    assert shipped["verdict"].to_list()[0].startswith("too recent")


def test_the_summary_counts_one_answer_in_the_singular(monkeypatch, known_data):
    at = open_page(monkeypatch, known_data, "summary", range="7d")
    lines = unescape("\n".join(m.value for m in at.markdown))
    assert "- NPS is +100 from 1 answer (+100 pts vs the period before, from 2)." in lines


def test_a_link_with_dates_outside_the_loaded_days_says_what_it_shows_instead(monkeypatch, known_data):
    """Dates before the data were dropped from the URL and another range shown without a word."""
    at = open_page(monkeypatch, known_data, "kpis", range="Custom", dates=["2026-01-01", "2026-02-01"])
    assert [unescape(w.value) for w in at.warning] == [
        "The link asked for 1 Jan 2026 – 1 Feb 2026, outside the loaded days (2 Mar 2026 – 11 Mar 2026): "
        "showing 2 Mar 2026 – 11 Mar 2026 instead."
    ]
    at = open_page(monkeypatch, known_data, "kpis", range="Custom", dates=["2026-03-03", "2026-03-05"])
    assert not at.warning
    # Running past the last loaded day: cut to it, not replaced by the last 28 days (display QA).
    at = open_page(monkeypatch, known_data, "kpis", range="Custom", dates=["2026-03-05", "2026-03-20"])
    assert [unescape(w.value) for w in at.warning] == [
        "The link asked for 5 Mar 2026 – 20 Mar 2026; the loaded days are 2 Mar 2026 – 11 Mar 2026: "
        "showing 5 Mar 2026 – 11 Mar 2026 instead."
    ]
    assert at.sidebar.caption[0].value.startswith("5 Mar 2026 – 11 Mar 2026 (7 days)")
    # Three dates, one outside: the widget takes two at most (a traceback on every page; review).
    open_page(monkeypatch, known_data, "kpis", range="Custom", dates=["2026-03-05", "2026-03-07", "2026-03-20"])


def test_a_breakdown_by_a_filtered_dimension_names_its_one_value(monkeypatch, known_data):
    """by=plan&f_plan=pro drew one unnamed line under "each other value of plan" (UI QA)."""
    at = open_page(monkeypatch, known_data, "kpis", metric="dau", by="plan", f_plan="pro")
    captions = [unescape(c) for c in texts(at.caption)]
    assert any("Compared to:** no other value: pro is the only value of plan here" in c for c in captions), captions
    (chart,) = [c for c in at.get("plotly_chart") if c.key == "chart-dau"]
    figure = json.loads(chart.proto.spec)
    assert figure["layout"]["showlegend"] is True and [t["name"] for t in figure["data"]] == ["pro"]


def test_the_summary_caption_claims_no_change_only_for_events_when_answers_come_before(monkeypatch, tmp_path):
    """Events from 19 Oct and an NPS answer of 10 Oct: the caption said "Nothing is loaded before
    this range, so no change is claimed." above an NPS card with "+150 pts" against that answer
    (QA). It says which metrics claim no change, as the report does."""
    events = tmp_path / "events.csv"
    events.write_text("event_time,user_id,event\n2026-10-19T10:00:00Z,u1,login\n2026-11-01T10:00:00Z,u2,login\n")
    answers = tmp_path / "nps.csv"
    answers.write_text(
        "submitted_at,user_id,score,scale\n2026-10-10T12:00:00Z,old,0,nps\n2026-10-26T12:00:00Z,u1,10,nps\n"
        "2026-10-27T12:00:00Z,u2,7,nps\n"
    )
    data = tmp_path / "ws"
    data.mkdir()
    (data / "pmkit.toml").write_text('[workspace]\ntimezone = "UTC"\n')
    assert [r.status for r in ingest([events, answers], load_config(data))] == ["loaded"] * 2
    at = open_page(monkeypatch, data, "summary", range="All")
    captions = [unescape(c) for c in texts(at.caption)]
    said = "No event is loaded before this range, so no change is claimed for the metrics of events."
    assert any(c.endswith(said) for c in captions), captions
    assert next(m for m in at.metric if m.label == "NPS").delta


def test_the_roadmap_says_an_objectives_row_is_its_own_schedule(monkeypatch, demo_data):
    """The demo's objective rows read "On track" here and "At risk delivery" on the summary: two
    healths of one objective, unexplained (UI QA)."""
    at = open_page(monkeypatch, demo_data, "roadmap")
    assert any(c.startswith("An objective's row is the objective item's own schedule") for c in texts(at.caption))


def test_the_summary_of_the_whole_range_does_not_claim_a_comparison(monkeypatch, known_data):
    """range=All said "Periods are compared with the 10 days before", with nothing loaded then."""
    captions = [unescape(c) for c in texts(open_page(monkeypatch, known_data, "summary", range="All").caption)]
    assert any(c.endswith("Nothing is loaded before this range, so no change is claimed.") for c in captions)
    # 5-11 Mar: the 7 days before are loaded from 2 Mar only, and the cards claim no change (QA),
    # but for NPS: answers of 3 and 4 Mar are loaded.
    captions = [unescape(c) for c in texts(open_page(monkeypatch, known_data, "summary", range="7d").caption)]
    assert any(
        c.endswith(
            "The 7 days before are only loaded from 2 Mar 2026, so no change is claimed for the metrics of events."
        )
        for c in captions
    )
    at = open_page(monkeypatch, known_data, "summary", range="Custom", dates=["2026-03-07", "2026-03-11"])
    captions = [unescape(c) for c in texts(at.caption)]
    assert any(c.endswith("Periods are compared with the 5 days before.") for c in captions)


def test_rejected_files_are_listed_newest_first(monkeypatch, empty_data):
    import os

    rejected = empty_data / "rejected"
    rejected.mkdir()
    for age, name in enumerate(["m_new.csv", "z_middle.csv", "__a_old__.csv"]):
        report = rejected / f"{name}.errors.txt"
        report.write_text(f"{name}: rejected, nothing loaded\n")
        os.utime(report, (1_800_000_000 - age * 60, 1_800_000_000 - age * 60))
    at = open_page(monkeypatch, empty_data, "data")
    # As named on disk, never markdown: "__a_old__.csv" showed as a bold "a_old.csv" (QA).
    assert [unescape(e.label) for e in at.expander][:3] == ["m_new.csv", "z_middle.csv", "__a_old__.csv"]
    assert at.expander[2].label == "\\_\\_a\\_old\\_\\_\\.csv"


def test_roadmap_item_links_to_its_metric_by_name(monkeypatch, known_data):
    """The link said "Open dau in the KPI explorer", the metric's key."""
    at = open_page(monkeypatch, known_data, "roadmap", item="EP-8")
    labels = [unescape(p.proto.label) for p in at.get("page_link")]
    assert "Open Daily active users in the KPI explorer" in labels, labels


FLAT_COLOR, FLAT_ARROW = 2, 2  # Metric proto: GRAY, NONE


def test_no_change_has_no_green_arrow(monkeypatch, known_data):
    """Revenue 7-11 Mar against 2-6 Mar is $0 against $0: "+$0 (from 0)" came with a green up arrow."""
    at = open_page(
        monkeypatch, known_data, "kpis", metric="revenue", range="Custom", dates=["2026-03-07", "2026-03-11"]
    )
    card = at.metric[0].proto
    assert card.delta.startswith("+$0")
    assert (card.color, card.direction) == (FLAT_COLOR, FLAT_ARROW)
    dau = open_page(monkeypatch, known_data, "kpis", range="Custom", dates=["2026-03-07", "2026-03-11"]).metric[0].proto
    assert dau.delta.startswith("-") and (dau.color, dau.direction) != (FLAT_COLOR, FLAT_ARROW)


def test_an_objectives_cancelled_items_are_counted_apart(monkeypatch, demo_data):
    """The delivery reason said "14 items: ..." over a list of 15: the 15th, cancelled, is not counted."""
    import re

    at = open_page(monkeypatch, demo_data, "objectives")
    labels = [e.label for e in at.expander if e.label.startswith("Linked roadmap items")]
    split = [
        re.fullmatch(r"Linked roadmap items \((\d+), of which (\d+) cancelled and not counted above\)", x)
        for x in labels
    ]
    found = [(int(m[1]), int(m[2])) for m in split if m]
    assert found, labels
    words = " ".join(unescape(t) for t in [*texts(at.caption), *texts(at.markdown)])
    for listed, cancelled in found:
        assert f"{listed - cancelled} items:" in words


def test_a_range_before_the_first_roadmap_snapshot_says_the_roadmap_is_not_known(monkeypatch, known_data):
    # The snapshot is of 11 Mar: for a range ending 8 Mar, "No roadmap item is late", "Nothing
    # shipped" and "no roadmap items linked to this objective" were said of items not known yet.
    at = open_page(monkeypatch, known_data, "summary", range="Custom", dates=["2026-03-02", "2026-03-08"])
    unknown = "No roadmap snapshot on or before 8 Mar 2026 (the latest is of 11 Mar 2026): pick a range"
    shown = [unescape(t) for t in texts(at.info)]
    # Once, under one heading: it was said under Top risks and again under Recently shipped.
    assert sum(t.startswith(unknown) for t in shown) == 1, shown
    assert "Top risks and recently shipped" in texts(at.subheader)
    assert not {"Top risks", "Recently shipped"} & set(texts(at.subheader))
    assert not any(t.startswith(("No roadmap item is late", "Nothing shipped")) for t in shown)
    captions = [unescape(c) for c in texts(at.caption)]
    assert any("no roadmap snapshot on or before 8 Mar 2026 (the first is of 11 Mar 2026)" in c for c in captions)
    assert not any("no roadmap items linked" in c for c in captions)
    at = open_page(monkeypatch, known_data, "summary", range="Custom", dates=["2026-03-02", "2026-03-11"])
    assert not any(unescape(t).startswith("No roadmap snapshot") for t in texts(at.info))


def test_the_explorer_says_which_events_of_pmkit_toml_are_not_loaded(monkeypatch, known_data, tmp_path):
    # A typo in an event name showed a metric of 0 with no word (QA).
    import shutil

    data = shutil.copytree(known_data, tmp_path / "ws")
    toml = data / "pmkit.toml"
    toml.write_text(toml.read_text() + '\n[metrics.shares]\ntype = "count"\nevent = "share_reprot"\n')
    at = open_page(monkeypatch, data, "kpis")
    warnings = [unescape(w) for w in texts(at.warning)]
    assert any(
        "metrics.shares: event 'share_reprot' is not in the loaded events (did you mean 'share_report'?)" in w
        for w in warnings
    ), warnings


def test_the_inbox_path_is_shown_as_typed(monkeypatch, tmp_path):
    """The Data page showed the workspace's path as markdown: an image in it was fetched (QA)."""
    root = tmp_path / "![x](http:" / "example.invalid" / "p.png)" / "ws"
    root.mkdir(parents=True)
    (root / "pmkit.toml").write_text("")
    at = open_page(monkeypatch, root, "data")
    (caption,) = [c.value for c in at.caption if "waiting" in c.value]
    assert "![x](http:" not in caption and "\\!\\[x\\]\\(http" in caption


def test_a_workspace_path_with_a_backslash_is_named_on_the_page(monkeypatch, tmp_path):
    """DuckDB reads a backslash as a folder separator: the app showed its IOException's box."""
    odd = tmp_path / "back\\slash"
    at = open_page(monkeypatch, odd, "summary")
    assert "the workspace's path holds a backslash" in at.error[0].value
    assert not odd.exists()  # no demo was started there


@pytest.mark.parametrize("with_events", [False, True])
def test_voice_of_customer_spans_the_answers_days(monkeypatch, tmp_path: Path, with_events: bool):
    """Answers with no events loaded, or on days after the events: the page said no answers were
    loaded, or counted 1 of 4 (its range stopped at the events' days). Scores 10, 9, 9, 6 over
    1-4 Mar: (3 promoters - 1 detractor) / 4 = +50. Without events the presets end on the last
    answer's day; with an event on 1 Mar only, "last 28 days" ends there, as on the summary."""
    from pmkit.ingest import ingest

    feedback = tmp_path / "nps.csv"
    feedback.write_text(
        "submitted_at,user_id,score,scale\n2026-03-01T10:00:00Z,a,10,nps\n2026-03-02T10:00:00Z,b,9,nps\n"
        "2026-03-03T10:00:00Z,c,9,nps\n2026-03-04T10:00:00Z,d,6,nps\n"
    )
    files = [feedback]
    if with_events:
        events = tmp_path / "events.csv"
        events.write_text("event_time,user_id,event\n2026-03-01T09:00:00Z,a,login\n")
        files.append(events)
    data = tmp_path / "ws"
    assert all(r.status == "loaded" for r in ingest(files, load_config(data)))
    # With events, the presets end on the last event day as on every page; custom dates reach the answers.
    at = open_page(monkeypatch, data, "feedback", range="Custom", dates=["2026-03-01", "2026-03-04"])
    (card,) = [m for m in at.metric if m.label == "NPS"]
    assert card.value == "+50"
    assert "4 answers" in " ".join(texts(at.caption))


def test_a_range_before_the_first_roadmap_snapshot_says_so_on_roadmap_and_objectives(monkeypatch, known_data):
    """The known workspace's only snapshot is of 11 Mar; a range ending 5 Mar: the Roadmap page
    said "No roadmap loaded yet" and each objective "No roadmap items are linked"."""
    expected = "No roadmap snapshot on or before 5 Mar 2026 (the latest is of 11 Mar 2026)"
    roadmap = open_page(monkeypatch, known_data, "roadmap", range="Custom", dates=["2026-03-02", "2026-03-05"])
    assert any(expected in text for text in texts(roadmap.info)), texts(roadmap.info)
    objectives = open_page(monkeypatch, known_data, "objectives", range="Custom", dates=["2026-03-02", "2026-03-05"])
    shown = " ".join(unescape(text) for text in texts(objectives.caption))
    assert expected in shown and "No roadmap items are linked" not in shown


def test_a_breakdown_with_one_value_blames_a_filter_only_when_one_is_on_its_dimension(monkeypatch, tmp_path: Path):
    """In FR every user is on plan free: by plan with country = FR, one value, and the filter
    on country did it, not one on plan ("a filter on it leaves one" was said)."""
    from pmkit.ingest import ingest

    events = tmp_path / "events.csv"
    events.write_text(
        "event_time,user_id,event,plan,country\n2026-03-01T10:00:00Z,a,login,free,FR\n"
        "2026-03-01T11:00:00Z,b,login,pro,DE\n2026-03-02T10:00:00Z,a,login,free,FR\n"
    )
    data = tmp_path / "ws"
    ingest([events], load_config(data))
    at = open_page(monkeypatch, data, "kpis", by="plan", f_country="FR", range="All")
    shown = " ".join(unescape(text) for text in texts(at.caption))
    assert "free is the only value of plan here" in shown and "a filter on it" not in shown
    at = open_page(monkeypatch, data, "kpis", by="plan", f_plan="free", range="All")
    shown = " ".join(unescape(text) for text in texts(at.caption))
    assert "free is the only value of plan here (a filter on it leaves one)" in shown


def test_a_link_filters_on_a_value_beyond_the_listed_ones_and_names_one_no_event_has(monkeypatch, tmp_path: Path):
    """205 accounts (the pickers list the 200 most common): a link to account a204, whose 1
    event is the least common, showed every user's 210 events with the filter dropped; a value
    no event has now says so."""
    from pmkit.ingest import ingest

    lines = ["event_time,user_id,event,account"]
    lines += [f"2026-03-01T10:00:00Z,u{n},login,a{n:03d}" for n in range(205)]
    lines += [f"2026-03-01T11:00:00Z,u{n},login,a{n:03d}" for n in range(5)]  # a000..a004 have 2
    events = tmp_path / "events.csv"
    events.write_text("\n".join(lines) + "\n")
    data = tmp_path / "ws"
    ingest([events], load_config(data))
    at = open_page(monkeypatch, data, "kpis", metric="events", f_account="a204", range="All")
    assert metric_value(at, "Total, 1 Mar 2026 – 1 Mar 2026") == "1"
    at = open_page(monkeypatch, data, "kpis", metric="events", f_account="nope", range="All")
    assert any("filters account on nope, which no event has" in unescape(w) for w in texts(at.warning))
    assert metric_value(at, "Total, 1 Mar 2026 – 1 Mar 2026") == "210"


def test_a_stale_roadmap_snapshot_is_flagged(monkeypatch, known_data):
    """The known snapshot is of 11 Mar: judged as of 11 Mar it is current; the health of items
    judged on a snapshot over 30 days old said nothing of its age."""
    at = open_page(monkeypatch, known_data, "roadmap")
    assert not any("snapshot is" in w for w in texts(at.warning))
    from pmkit import dashboard

    assert dashboard.stale_snapshot(dt.date(2026, 3, 11), dt.date(2026, 4, 30)) == (
        "The latest roadmap snapshot is 50 days old (11 Mar 2026): items done or moved since are not known. "
        "Load a fresh export."
    )


def test_a_link_with_an_unknown_metric_or_dates_that_are_not_dates_says_so(monkeypatch, known_data):
    """Both were dropped from the URL without a word: DAU and the last 28 days were shown."""
    at = open_page(monkeypatch, known_data, "kpis", metric="nope")
    assert any("The link asks for nope, which no built-in metric" in unescape(w) for w in texts(at.warning))
    at = open_page(monkeypatch, known_data, "kpis", range="Custom", dates=["foo", "bar"])
    assert any("foo – bar, which are not dates (write them as 2026-03-01)" in unescape(w) for w in texts(at.warning))


def test_voice_of_customer_presets_cover_the_summarys_days(monkeypatch, tmp_path: Path):
    """Events 1-2 Mar, answers 1-5 Mar: "last 7 days" is 24 Feb - 2 Mar on both pages (it ended
    on the last answer's day on Voice of customer, so the two NPS figures differed)."""
    from pmkit.ingest import ingest

    feedback = tmp_path / "nps.csv"
    feedback.write_text(
        "submitted_at,user_id,score,scale\n2026-03-01T10:00:00Z,a,10,nps\n2026-03-02T10:00:00Z,b,10,nps\n"
        "2026-03-05T10:00:00Z,c,0,nps\n"
    )
    events = tmp_path / "events.csv"
    events.write_text("event_time,user_id,event\n2026-03-01T09:00:00Z,a,login\n2026-03-02T09:00:00Z,b,login\n")
    data = tmp_path / "ws"
    ingest([feedback, events], load_config(data))
    voice = open_page(monkeypatch, data, "feedback", range="7d")
    assert [m.value for m in voice.metric if m.label == "NPS"] == ["+100"]


def test_objectives_page_says_an_objectives_metric_problem_once(monkeypatch, tmp_path: Path):
    """An objective known only as a roadmap item was warned "metric '' is not defined ... as
    [metrics.]" under its correct caption; an undefined metric was said twice, in the caption and
    a warning (objectives QA)."""
    from pmkit.ingest import ingest

    events = tmp_path / "events.csv"
    events.write_text("event_time,user_id,event\n2026-03-01T09:00:00Z,a,login\n2026-03-02T09:00:00Z,b,login\n")
    goals = tmp_path / "objectives.csv"
    goals.write_text(
        "objective_id,title,metric,baseline,target,start_date,target_date,direction,owner\n"
        "O4,Signup,signup_rate,0.2,0.3,2026-03-01,2026-12-31,increase,Bob\n"
    )
    roadmap = tmp_path / "roadmap_2026-03-02.csv"
    roadmap.write_text(
        "item_id,title,item_type,objective_id,status,start_date,due_date\n"
        "OBJ1,Grow use,objective,,In Progress,2026-03-01,2026-12-31\n"
    )
    data = tmp_path / "ws"
    assert [r.status for r in ingest([events, goals, roadmap], load_config(data))] == ["loaded"] * 3
    at = open_page(monkeypatch, data, "objectives", range="All")
    shown = [unescape(t) for t in texts(at.warning) + texts(at.caption)]
    assert not any("metric ''" in t or "[metrics.]" in t for t in shown), shown
    assert sum("signup_rate" in t and "not defined" in t for t in shown) == 1, shown
    assert {"OBJ1 · Grow use", "O4 · Signup"} <= {unescape(s) for s in texts(at.subheader)}


def test_the_summary_of_a_roadmap_without_events_shows_its_risks_and_ships(monkeypatch, tmp_path: Path):
    """A roadmap loaded before any events: the summary said only "No events are loaded yet",
    where the report of the same workspace listed the late item (objectives QA)."""
    from pmkit.ingest import ingest

    roadmap = tmp_path / "roadmap_2026-10-19.csv"
    roadmap.write_text(
        "item_id,title,item_type,status,start_date,due_date,completed_date\n"
        "L,Late one,epic,In Progress,2026-09-01,2026-10-15,\n"
        "D,Done one,epic,Done,2026-09-01,2026-10-10,2026-10-09\n"
    )
    data = tmp_path / "ws"
    assert [r.status for r in ingest([roadmap], load_config(data))] == ["loaded"]
    at = open_page(monkeypatch, data, "summary")
    assert any(t.startswith("No events are loaded yet") for t in texts(at.info))
    assert "The roadmap below is as of its latest snapshot, 19 Oct 2026." in [unescape(c) for c in texts(at.caption)]
    tables = [df.value for df in at.dataframe]
    risks = [v for v in tables if "reason" in v.columns]
    assert risks and risks[0]["title"].to_list() == ["Late one"]
    assert risks[0]["health"].to_list() == ["Late"]
    shipped = [v for v in tables if "verdict" in v.columns]
    assert shipped and shipped[0]["title"].to_list() == ["Done one"]


def test_a_time_zone_change_not_yet_rebuilt_is_said_and_the_days_keep_their_zone(monkeypatch, tmp_path: Path):
    """After pmkit.toml's zone changed, the pages labelled the UTC rollups "(America/New_York
    days)" and said nothing until a file was loaded (ingest QA)."""
    data = zone_changed_after_loading(tmp_path)
    at = open_page(monkeypatch, data, "kpis")
    warnings = [unescape(w) for w in texts(at.warning)]
    assert any(
        w.startswith(
            "pmkit.toml: the time zone changed from UTC to America/New_York, but the numbers shown are still "
            "counted as before it (UTC days)."
        )
        for w in warnings
    ), warnings
    captions = " ".join(unescape(c) for c in texts(at.caption))
    assert "(UTC days)" in captions and "America/New_York days" not in captions
    ingest([], load_config(data))
    at = open_page(monkeypatch, data, "kpis")
    assert not any("time zone changed" in unescape(w) for w in texts(at.warning))
    assert "(America/New_York days)" in " ".join(unescape(c) for c in texts(at.caption))


def test_a_link_with_more_metrics_or_comparisons_than_shown_says_which_are_left_out(monkeypatch, known_data):
    """A 5th metric and a 4th comparison were dropped without a word (display QA)."""
    at = open_page(
        monkeypatch,
        known_data,
        "kpis",
        metric=["dau", "wau", "mau", "events", "revenue"],
        compare=["previous_period", "previous_week", "previous_4_weeks", "same_period_last_year"],
    )
    warnings = [unescape(w.value) for w in at.warning]
    assert "The link asks for 5 metrics; up to 4 are shown at once: revenue left out (swap them in below)." in warnings
    assert (
        "The link asks for 4 comparisons; up to 3 are shown at once: Same period last year left out (swap them in below)."
        in warnings
    )
    assert at.multiselect(key="compare").value == ["previous_period", "previous_week", "previous_4_weeks"]
    assert [unescape(s) for s in texts(at.subheader)][:4] == [
        "Daily active users",
        "Weekly active users",
        "Monthly active users",
        "Events",
    ]


@pytest.mark.parametrize(
    ("page", "query", "said"),
    [
        ("kpis", {"grain": "year"}, "The link's granularity value 'year' is not offered here: showing day instead."),
        (
            "kpis",
            {"range": "bogus"},
            "The link's date range value 'bogus' is not offered here: showing the default instead.",
        ),
        (
            "kpis",
            {"by": "colour"},
            "The link's breakdown value 'colour' is not offered here: showing no breakdown instead.",
        ),
        (
            "funnels",
            {"steps": ["signup", "nope", "zap"]},
            "The link's step values 'nope', 'zap' are not offered here: left out.",
        ),
        ("engagement", {"features": "zzz"}, "The link's feature value 'zzz' is not offered here: left out."),
        (
            "retention",
            {"retained": "always"},
            "The link's retention count value 'always' is not offered here: showing the default instead.",
        ),
        ("roadmap", {"rm_team": "Ghost"}, "The link's team value 'Ghost' is not offered here: left out."),
        ("roadmap", {"item": "ZZ-1"}, "The link's item value 'ZZ-1' is not offered here: showing the default instead."),
        (
            "feedback",
            {"scale": "ces"},
            "The link's survey value 'ces' is not offered here: showing the default instead.",
        ),
        ("feedback", {"vo_by": "bogus"}, "The link's segment value 'bogus' is not offered here: showing plan instead."),
        # Browser QA: a window the number box does not take was dropped without a word.
        (
            "funnels",
            {"window": "500"},
            "The link's window in days '500' is not offered here (1 to 90): showing 7 days instead.",
        ),
        (
            "funnels",
            {"window": "0"},
            "The link's window in days '0' is not offered here (1 to 90): showing 7 days instead.",
        ),
        (
            "funnels",
            {"window": "²"},  # a digit to str.isdigit, and no number to int() (review)
            "The link's window in days '²' is not offered here (1 to 90): showing 7 days instead.",
        ),
    ],
)
def test_a_link_value_a_page_does_not_offer_is_said(monkeypatch, known_data, page, query, said):
    """grain=year, range=bogus, a funnel step no event has or an unknown roadmap item were dropped
    from the URL without a word and the defaults shown, as if the link had worked (QA)."""
    at = open_page(monkeypatch, known_data, page, **query)
    assert said in [unescape(w) for w in texts(at.warning)]
    assert not at.exception


def test_a_link_names_the_retention_count_by_key(monkeypatch, known_data):
    at = open_page(monkeypatch, known_data, "retention", retained="share_on_or_after")
    assert at.session_state["retained"] == "share_on_or_after"
    assert not at.warning


def test_links_name_options_by_key_as_well_as_by_label(monkeypatch, known_data):
    """compare=same_period_last_year, avg=7, scale=csat, rm_health=late and item=EP-8 were
    dropped without a word and the defaults shown: Streamlit matches a widget with labels by its
    labels (QA). The labels the pages write themselves still work."""
    at = open_page(monkeypatch, known_data, "kpis", compare=["previous_week", "same_period_last_year"], avg="7")
    assert at.multiselect(key="compare").value == ["previous_week", "same_period_last_year"]
    assert at.session_state["avg"] == ["7"]
    assert not at.warning
    at = open_page(monkeypatch, known_data, "kpis", compare="Same period last year", avg="28 days")
    assert at.multiselect(key="compare").value == ["same_period_last_year"]
    assert at.session_state["avg"] == ["28"]
    at = open_page(monkeypatch, known_data, "feedback", scale="csat")
    assert metric_value(at, "CSAT") == "100.0%"
    at = open_page(monkeypatch, known_data, "roadmap", rm_health="late", item="EP-8")
    assert texts(at.subheader)[0] == "Items (1 of 2)"
    at = open_page(monkeypatch, known_data, "roadmap", item="EP-8")
    assert at.selectbox(key="item").value == "EP-8"  # not the late EP-9, picked when none is asked for


def test_stickiness_says_when_nothing_is_loaded_before_the_range(monkeypatch, known_data):
    """ "Compared to: the previous 10 days (dashed)" stood under a chart with no dashed line:
    nothing is loaded before 2 Mar (display QA)."""
    at = open_page(monkeypatch, known_data, "engagement", range="All")
    captions = [unescape(c) for c in texts(at.caption)]
    assert any("**Compared to:** the previous 10 days: nothing earlier to compare with" in c for c in captions), (
        captions
    )
    assert not any("(dashed)" in c for c in captions)
    at = open_page(monkeypatch, known_data, "engagement", range="Custom", dates=["2026-03-07", "2026-03-11"])
    captions = [unescape(c) for c in texts(at.caption)]
    assert any("**Compared to:** the previous 5 days (dashed), day by day" in c for c in captions), captions


def test_the_explorers_weekly_values_say_which_days_each_week_holds(monkeypatch, known_data):
    """The table and its CSV dated a week cut by the range by its Monday under "day" (display
    QA): 4-11 Mar by week is the week of 2 Mar from 4 to 8 Mar, and of 9 Mar from 9 to 11 Mar."""
    at = open_page(
        monkeypatch,
        known_data,
        "kpis",
        metric="events",
        grain="week",
        range="Custom",
        dates=["2026-03-04", "2026-03-11"],
    )
    (values,) = [df.value for df in at.dataframe]
    assert list(values.columns) == ["week", "from", "to", "value"]
    assert [str(d)[:10] for d in values["from"]] == ["2026-03-04", "2026-03-09"]
    assert [str(d)[:10] for d in values["to"]] == ["2026-03-08", "2026-03-11"]


def test_weekly_charts_of_a_range_starting_mid_week_say_their_first_week_is_whole(monkeypatch, known_data):
    """4-11 Mar: the lifecycle's first bar, week of 2 Mar, counts 2-3 Mar too, before the range,
    and said nothing (display QA)."""
    at = open_page(monkeypatch, known_data, "engagement", range="Custom", dates=["2026-03-04", "2026-03-11"])
    captions = " ".join(unescape(c) for c in texts(at.caption))
    assert (
        "Weeks run Monday to Sunday: the first, week of 2 Mar 2026, also counts 2 Mar 2026 – 3 Mar 2026, "
        "before the range." in captions
    )
    at = open_page(monkeypatch, known_data, "engagement", range="Custom", dates=["2026-03-02", "2026-03-11"])
    assert "Weeks run Monday to Sunday" not in " ".join(texts(at.caption))


def test_the_retention_heatmap_of_a_range_starting_mid_week_says_its_first_cohort_is_whole(monkeypatch, demo_data):
    """Its first row held users first seen before the range, beside a day-N panel that leaves
    them out (display QA)."""
    last = engine_last_day(demo_data)
    start = last - dt.timedelta(days=35 + last.weekday()) + dt.timedelta(days=2)  # a Wednesday
    at = open_page(monkeypatch, demo_data, "retention", range="Custom", dates=[str(start), str(last)])
    monday = format_date(start - dt.timedelta(days=2))
    captions = " ".join(unescape(c) for c in texts(at.caption))
    assert (
        f"Cohorts are whole weeks: the first, week of {monday}, also holds the users first seen on {monday} – "
        f"{format_date(start - dt.timedelta(days=1))}, before the range" in captions
    ), captions


def test_retention_day_n_waits_for_today_to_be_over(monkeypatch, utc_events):
    """This morning's export: yesterday's new users have had a few hours of their day 1. The
    page's D1 counted them as lost (1 of 4 back so far) and its caption said only users after the
    last loaded day are left out; it says the last whole day now, and D1 is the whole days' 2 of 4."""
    today = dt.datetime.now(dt.UTC).date()
    before, yesterday = today - dt.timedelta(days=2), today - dt.timedelta(days=1)
    lines = ["event_time,user_id,event\n"]
    lines += [f"{before}T10:00:00Z,a{n},signup\n" for n in range(4)]
    lines += [f"{yesterday}T10:00:00Z,a{n},login\n" for n in range(2)]
    lines += [f"{yesterday}T11:00:00Z,b{n},signup\n" for n in range(4)]
    lines.append(f"{today}T00:10:00Z,b0,login\n")
    at = open_page(monkeypatch, utc_events(lines), "retention", range="7d")
    captions = " ".join(unescape(c) for c in texts(at.caption))
    assert (
        f"those whose day N is after {format_date(yesterday)}, the last whole day, are left out "
        f"(today ({format_date(today)}) is not over)" in captions
    ), captions
    (day_n,) = [df.value for df in at.dataframe if "day_n" in df.value.columns]
    first = day_n[day_n["day_n"] == 1]
    assert (first["users"].tolist(), first["retained"].tolist()) == ([4], [2])


def test_objective_charts_say_which_line_is_the_value_judged(monkeypatch, demo_data, tmp_path):
    """The demo's four objectives (a funnel, a count, a level, a sum) draw the value they are
    judged on; a ratio with ARPU on a side is said to pool its days."""
    from pmkit.ingest import ingest

    at = open_page(monkeypatch, demo_data, "objectives")
    captions = [unescape(c) for c in texts(at.caption) if c.startswith("**Compared to:**")]
    judged = [c for c in captions if "the 7-day value the outcome is judged on" in c]
    assert len(judged) == 4 and not any("pooled over 7 days" in c for c in captions), captions
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pmkit.toml").write_text(
        '[metrics.buyers]\ntype = "unique_users"\nevents = ["buy"]\n'
        '[metrics.visitors]\ntype = "unique_users"\nevents = ["visit"]\n'
        '[metrics.arpu_per_visitor]\ntype = "ratio"\nnumerator = "arpu"\ndenominator = "visitors"\n'
        '[objectives.O1]\nmetric = "arpu_per_visitor"\nbaseline = 0.5\ntarget = 0.9\n'
        'start_date = 2026-09-01\ntarget_date = 2026-12-31\ndirection = "increase"\n'
    )
    events = tmp_path / "events.csv"
    events.write_text(
        "event_time,user_id,event\n"
        + "".join(f"2026-10-0{day}T10:00:00Z,u1,visit\n" for day in range(1, 8))
        + "2026-10-01T11:00:00Z,u1,buy\n"
    )
    assert ingest([events], load_config(root))[0].status == "loaded"
    at = open_page(monkeypatch, root, "objectives")
    captions = [unescape(c) for c in texts(at.caption) if c.startswith("**Compared to:**")]
    assert any("the days' values pooled over 7 days" in c for c in captions), captions


def test_a_one_day_funnel_window_and_a_one_day_unsettled_range_read_in_the_singular(monkeypatch, known_data):
    """ "within 1 days of the first step" and "Users who started on 11 Mar 2026 – 11 Mar 2026"
    (display QA)."""
    at = open_page(monkeypatch, known_data, "funnels", steps=["signup", "create_report"], window="1")
    captions = [unescape(c) for c in texts(at.caption)]
    assert any("within 1 day of the first step." in c for c in captions), captions
    assert any(c.startswith("Users who started on 11 Mar 2026 still have time to convert") for c in captions), captions


def test_a_snapshot_after_the_last_event_day_is_judged_on_its_own_day(monkeypatch, tmp_path: Path):
    """Events to 10 Mar, today's export of 11 Mar: the summary, the Roadmap page and the report
    said "no roadmap snapshot on or before 10 Mar" of the roadmap just loaded (review)."""
    from pmkit.ingest import ingest
    from pmkit.report import write_report

    events = tmp_path / "events.csv"
    events.write_text("event_time,user_id,event\n2026-03-01T09:00:00Z,a,login\n2026-03-10T09:00:00Z,b,login\n")
    roadmap = tmp_path / "roadmap_2026-03-11.csv"
    roadmap.write_text(
        "item_id,title,item_type,status,start_date,due_date\nL,Late one,epic,In Progress,2026-02-01,2026-03-05\n"
    )
    data = tmp_path / "ws"
    assert [r.status for r in ingest([events, roadmap], load_config(data))] == ["loaded", "loaded"]
    at = open_page(monkeypatch, data, "summary")
    assert not any(t.startswith("No roadmap snapshot") for t in texts(at.info))
    assert "The roadmap is judged as of its latest snapshot, 11 Mar 2026, after the last event day." in [
        unescape(c) for c in texts(at.caption)
    ]
    (risks,) = [df.value for df in at.dataframe if "reason" in df.value.columns]
    assert risks["title"].to_list() == ["Late one"]
    roadmap_page = open_page(monkeypatch, data, "roadmap")
    assert not any("No roadmap snapshot" in t for t in texts(roadmap_page.info))
    text = write_report(load_config(data), tmp_path / "r.html").read_text(encoding="utf-8")
    assert "As of 11 Mar 2026" in text and "Late one" in text and "no roadmap snapshot on or before" not in text


def test_funnel_cards_count_each_user_once_under_a_breakdown(monkeypatch, tmp_path):
    """u1 signs up on web and on iOS and converts on web; u2 signs up on iOS only. Started 2,
    converted 1, with or without a breakdown by platform: the cards summed the groups, which
    count u1 in both (1,490 starters of 1,240 in the demo, QA)."""
    from pmkit.config import load_config
    from pmkit.ingest import ingest

    events = tmp_path / "events.csv"
    events.write_text(
        "event_time,user_id,event,platform\n"
        "2026-03-02T10:00:00Z,u1,signup,web\n2026-03-02T10:05:00Z,u1,signup,ios\n"
        "2026-03-02T11:00:00Z,u1,create_report,web\n2026-03-02T12:00:00Z,u2,signup,ios\n"
        "2026-03-20T12:00:00Z,u3,login,web\n"
    )
    (result,) = ingest([events], load_config(tmp_path / "ws"))
    assert result.status == "loaded"
    query = {"range": "Custom", "dates": ["2026-03-01", "2026-03-10"], "steps": ["signup", "create_report"]}
    for by in (None, "platform"):
        at = open_page(monkeypatch, tmp_path / "ws", "funnels", **query, **({"by": by} if by else {}))
        assert metric_value(at, "Started (signup)") == "2", by
        assert metric_value(at, "Converted (create_report)") == "1", by
        assert metric_value(at, "Conversion") == "50.0%", by


def test_data_page_counts_the_days_with_events_not_the_span(monkeypatch, tmp_path):
    """Events on 1, 2 and 10 Mar: 3 days of events in a span of 10 (the card said 10; QA)."""
    from pmkit.config import load_config
    from pmkit.ingest import ingest

    events = tmp_path / "events.csv"
    events.write_text(
        "event_time,user_id,event\n2026-03-01T10:00:00Z,u1,login\n2026-03-02T10:00:00Z,u1,login\n"
        "2026-03-10T10:00:00Z,u2,login\n"
    )
    assert ingest([events], load_config(tmp_path / "ws"))[0].status == "loaded"
    at = open_page(monkeypatch, tmp_path / "ws", "data")
    card = next(m for m in at.metric if m.label == "Days of events")
    assert card.value == "3"
    assert card.help == "Days with at least one event, 1 Mar 2026 – 10 Mar 2026: 10 days from the first to the last"


def test_funnel_cards_show_no_arrow_for_no_change(monkeypatch, known_data):
    """No sign-up on 7-8 Mar nor on 5-6 Mar: 0 against 0 was "+0 (from 0)" under a green up arrow."""
    dates = ["2026-03-07", "2026-03-08"]
    at = open_page(monkeypatch, known_data, "funnels", range="Custom", dates=dates, steps=["signup", "create_report"])
    started = next(m for m in at.metric if m.label.startswith("Started"))
    assert started.value == "0"
    assert started.delta == "+0 (from 0)"
    assert (started.proto.direction, started.proto.color) == (started.proto.NONE, started.proto.GRAY)


def test_a_summed_metrics_card_says_it_is_a_total_and_its_mean_a_day(monkeypatch, known_data):
    """15 events on 2-11 Mar: the card read "15" under the dates, where the summary writes the
    same metric per day (QA); a level such as DAU keeps the plain dates."""
    dates = ["2026-03-02", "2026-03-11"]
    at = open_page(monkeypatch, known_data, "kpis", metric="events", range="Custom", dates=dates)
    card = next(m for m in at.metric if m.label == "Total, 2 Mar 2026 – 11 Mar 2026")
    assert card.value == "15"
    assert unescape(card.help).endswith("The value of a range is the sum over its days. That is 1.50 a day.")
    at = open_page(monkeypatch, known_data, "kpis", metric="dau", range="Custom", dates=dates)
    assert metric_value(at, "2 Mar 2026 – 11 Mar 2026") == "1.40"  # (2+2+2+1+1+1+1+2+1+1) / 10


def test_a_dimension_named_like_a_result_column_is_not_offered_as_a_breakdown(monkeypatch, tmp_path):
    """Events with `step`, `size` and `base` properties: picking one as a breakdown replaced the
    funnel, the retention heatmap or the KPI explorer with an error (QA, review). They are left out,
    said so in the picker's help, and a filter on one still works."""
    from pmkit.config import load_config
    from pmkit.ingest import ingest

    events = tmp_path / "events.csv"
    events.write_text(
        "event_time,user_id,event,plan,step,size,base\n2026-03-01T10:00:00Z,u1,login,pro,one,xl,a\n"
        "2026-03-01T11:00:00Z,u2,login,free,two,s,b\n2026-03-02T10:00:00Z,u1,login,pro,one,xl,a\n"
    )
    assert ingest([events], load_config(tmp_path / "ws"))[0].status == "loaded"
    for page in ("kpis", "funnels", "retention"):
        at = open_page(monkeypatch, tmp_path / "ws", page, range="All")
        picker = at.selectbox(key="by")
        assert picker.options == ["plan"], page
        assert unescape(picker.help).startswith("Not offered: base, size, step (a column of the results has that name")
    at = open_page(monkeypatch, tmp_path / "ws", "kpis", metric="events", range="All", f_step="one")
    assert metric_value(at, "Total, 1 Mar 2026 – 2 Mar 2026") == "2"
    at = open_page(monkeypatch, tmp_path / "ws", "funnels", range="All", by="step")  # an old link
    assert at.selectbox(key="by").value is None and not at.error


def test_data_page_counts_the_days_with_events_up_to_the_last_day_shown(monkeypatch, tmp_path):
    """Events yesterday, today and in 5 and 6 days: the card said 4 beside a help of "2 days
    from the first to the last" (review); days after today are not shown, nor counted."""
    import datetime as dt

    from pmkit.config import load_config
    from pmkit.ingest import ingest

    today = dt.datetime.now(dt.UTC).date()
    days = [today + dt.timedelta(days=n) for n in (-1, 0, 5, 6)]
    events = tmp_path / "events.csv"
    events.write_text("event_time,user_id,event\n" + "".join(f"{d}T12:00:00Z,u1,login\n" for d in days))
    assert ingest([events], load_config(tmp_path / "ws"))[0].status == "loaded"
    at = open_page(monkeypatch, tmp_path / "ws", "data")
    card = next(m for m in at.metric if m.label == "Days of events")
    assert card.value == "2"
    assert card.help.endswith(": 2 days from the first to the last")
    events_card = next(m for m in at.metric if m.label == "Events")  # the same days (review)
    assert (events_card.value, events_card.help) == ("2", "2 more dated after today are loaded, not shown")
    assert metric_value(at, "Users") == "1"


def test_a_link_to_a_metric_left_out_for_a_problem_is_not_called_undefined(monkeypatch, tmp_path):
    """?metric=halfday with [metrics.halfday] broken (window_days = 0.5): the page said its
    problem and then "which no built-in metric or pmkit.toml table defines" (QA)."""
    from pmkit.config import load_config
    from pmkit.ingest import ingest

    root = tmp_path / "ws"
    root.mkdir()
    (root / "pmkit.toml").write_text(
        '[metrics.halfday]\ntype = "funnel"\nname = "Half day"\nsteps = ["signup", "login"]\nwindow_days = 0.5\n'
    )
    events = tmp_path / "events.csv"
    events.write_text("event_time,user_id,event\n2026-03-01T09:00:00Z,a,signup\n2026-03-01T10:00:00Z,a,login\n")
    assert ingest([events], load_config(root))[0].status == "loaded"
    at = open_page(monkeypatch, root, "kpis", metric=["halfday", "nosuch"])
    warnings = " ".join(unescape(w) for w in texts(at.warning))
    assert "The link asks for nosuch, which no built-in metric or pmkit.toml table defines" in warnings
    assert "metrics.halfday" in " ".join(unescape(e) for e in texts(at.error) + texts(at.warning))


def test_a_link_filter_on_a_column_no_event_has_is_said(monkeypatch, known_data):
    """?f_nodim=x was dropped without a word, where ?f_plan=zzz said no event has zzz (QA)."""
    at = open_page(monkeypatch, known_data, "kpis", f_nodim="x", f_plan="zzz")
    warnings = [unescape(w) for w in texts(at.warning)]
    assert (
        "The segment filters on nodim, which no loaded event has as a column: that filter is not applied." in warnings
    )
    assert any(
        "The segment filters plan on zzz, which no event has" in unescape(w) for w in warnings
    )  # no "link" (review)


def test_a_moved_back_cards_help_names_its_comparison(monkeypatch, known_data):
    """Activation (7-day window) is measured on days moved back until final: its help read "The
    14 Aug 2026 – 10 Sep 2026 is 14 Aug 2026 – 10 Sep 2026." (QA)."""
    at = open_page(
        monkeypatch, known_data, "kpis", metric="activation", range="Custom", dates=["2026-03-05", "2026-03-11"]
    )
    card = at.metric[0]
    assert unescape(card.proto.help).startswith("The previous period is "), card.proto.help
    assert unescape(card.proto.delta_description).startswith("vs ")


def test_the_summary_says_when_top_risks_holds_only_the_most_urgent(monkeypatch, demo_data):
    """The report listed every item at risk where the summary's table showed five without a
    word (hosted QA): past five, the summary says of how many."""
    from pmkit import dashboard
    from pmkit.store import Store

    at = open_page(monkeypatch, demo_data, "summary")
    config = load_config(demo_data)
    with Store(config.store_dir).reader() as reader:
        facts = dashboard.facts(reader, config)
        every = dashboard.top_risks(
            dashboard.items_health(reader, config, dashboard.roadmap_day(facts, facts.last_day)), None
        )
    said = [c for c in texts(at.caption) if "most urgent of" in c]
    if every.height > 5:
        assert said == [
            f"The 5 most urgent of {every.height} items late, off track or at risk: the Roadmap page lists every one."
        ]
    else:
        assert said == []


def test_a_distinct_users_metrics_card_gives_the_mean_of_its_days(monkeypatch, tmp_path):
    """u1 logs in on 1, 2 and 3 Mar, u2 on 2 Mar, u3 on 3 Mar: 3 distinct users over the days,
    daily 1, 2 and 2, a mean of 1.67 a day, which the summary shows as the metric "per day"
    (the explorer showed the range's 3 alone; QA). The week grain keeps the same card."""
    from pmkit.config import load_config
    from pmkit.ingest import ingest

    root = tmp_path / "ws"
    root.mkdir()
    (root / "pmkit.toml").write_text('[metrics.loggers]\ntype = "unique_users"\nevent = "login"\nname = "Loggers"\n')
    events = tmp_path / "events.csv"
    events.write_text(
        "event_time,user_id,event\n"
        "2026-03-01T10:00:00Z,u1,login\n2026-03-02T10:00:00Z,u1,login\n2026-03-02T11:00:00Z,u2,login\n"
        "2026-03-03T10:00:00Z,u1,login\n2026-03-03T12:00:00Z,u3,login\n2026-03-03T13:00:00Z,u3,signup\n"
    )
    assert ingest([events], load_config(root))[0].status == "loaded"
    dates = ["2026-03-01", "2026-03-03"]
    for grain in ("day", "week"):
        at = open_page(monkeypatch, root, "kpis", metric="loggers", range="Custom", dates=dates, grain=grain)
        card = next(m for m in at.metric if m.label == "Distinct users, 1 Mar 2026 – 3 Mar 2026")
        assert card.value == "3", grain
        assert unescape(card.help).endswith("Its days average 1.67 a day."), grain
    # A level metric keeps the plain dates and no mean.
    at = open_page(monkeypatch, root, "kpis", metric="dau", range="Custom", dates=dates)
    assert metric_value(at, "1 Mar 2026 – 3 Mar 2026") == "1.67"


def test_funnel_cards_claim_no_change_while_today_is_not_over(monkeypatch, utc_events):
    """Sign-ups every day for three weeks and one this morning: the cards compared today's first
    hours with whole days ("Started -11.4%" for a flat funnel; review). The range ending today
    shows its numbers and says why there is no change."""
    today = dt.datetime.now(dt.UTC).date()
    lines = ["event_time,user_id,event\n"]
    for back in range(21, 0, -1):
        day = today - dt.timedelta(days=back)
        lines += [f"{day}T10:0{n}:00Z,u{back}_{n},signup\n{day}T11:0{n}:00Z,u{back}_{n},login\n" for n in range(2)]
    lines.append(f"{today}T00:01:00Z,early,signup\n")
    at = open_page(monkeypatch, utc_events(lines), "funnels", range="7d", steps=["signup", "login"])
    started = next(m for m in at.metric if m.label.startswith("Started"))
    assert started.value == "13"  # 2 a day on the 6 days before today, and today's 1
    assert not started.delta
    assert (
        started.proto.delta_description
        == f"vs prior 7d: today ({format_date(today)}) is not over, so no change is claimed"
    )


def test_funnel_cards_of_a_range_ending_yesterday_wait_while_today_is_not_over(monkeypatch, utc_events):
    """Five visits a day at 23:00, each bought just after the next midnight; this morning's export
    holds yesterday's visits and 2 of their 5 purchases so far. The range to yesterday read
    "Converted -15%" (review): counted from the last loaded day, yesterday's attempts were final.
    They still have time, counted from the last whole day."""
    today = dt.datetime.now(dt.UTC).date()
    lines = ["event_time,user_id,event\n"]
    for back in range(8, 0, -1):
        day = today - dt.timedelta(days=back)
        buyers = range(5) if back > 1 else range(2)
        lines += [f"{day}T23:00:00Z,u{back}_{n},visit\n" for n in range(5)]
        lines += [f"{day + dt.timedelta(days=1)}T00:0{n}:00Z,u{back}_{n},purchase\n" for n in buyers]
    root = utc_events(lines)
    yesterday = today - dt.timedelta(days=1)
    dates = [str(yesterday - dt.timedelta(days=2)), str(yesterday)]
    at = open_page(monkeypatch, root, "funnels", range="Custom", dates=dates, steps=["visit", "purchase"], window="1")
    converted = next(m for m in at.metric if m.label.startswith("Converted"))
    assert converted.value == "12"  # 5 and 5 on the first two days, 2 so far of yesterday's
    assert not converted.delta
    assert unescape(converted.proto.delta_description) == (
        f"vs prior 3d: users who started from {format_date(yesterday)} can still convert, so no change is claimed"
    )
    captions = " ".join(unescape(c) for c in texts(at.caption))
    assert f"runs past {format_date(yesterday)}, the last whole day" in captions, captions


def answers_while_today_is_open(
    utc_events, tmp_path: Path, answers: tuple[tuple[int, int], ...], event_days: int = 20
) -> Path:
    """A UTC workspace with three users on plan pro a day for the ``event_days`` to yesterday and
    one this morning, and an NPS answer (days back, score) of the same plan for each of ``answers``."""
    today = dt.datetime.now(dt.UTC).date()
    lines = ["event_time,user_id,event,plan\n"]
    lines += [
        f"{today - dt.timedelta(days=d)}T12:00:00Z,u{n},login,pro\n" for d in range(event_days, 0, -1) for n in range(3)
    ]
    lines.append(f"{today}T00:01:00Z,u0,login,pro\n")
    root = utc_events(lines)
    text = "submitted_at,user_id,score,scale,plan\n" + "".join(
        f"{today - dt.timedelta(days=back)}T09:00:00Z,u{n},{score},nps,pro\n" for n, (back, score) in enumerate(answers)
    )
    (tmp_path / "answers.csv").write_text(text)
    assert ingest([tmp_path / "answers.csv"], load_config(root))[0].rows_loaded == len(answers)
    return root


def test_the_summary_nps_counts_whole_days_as_its_other_cards_do(monkeypatch, utc_events, tmp_path):
    """A 9, a 10 and a 3 in the week to yesterday, and a 0 this morning: the summary's NPS read 0
    from 4 answers beside cards measured to yesterday because today is not over (QA). It is
    (2 promoters - 1 detractor) / 3 = +33 from the whole days, and says which days it covers."""
    today = dt.datetime.now(dt.UTC).date()
    root = answers_while_today_is_open(utc_events, tmp_path, ((3, 9), (2, 10), (1, 3), (0, 0)))
    at = open_page(monkeypatch, root, "summary", range="7d")
    assert metric_value(at, "NPS") == "+33"
    week = f"{format_date(today - dt.timedelta(days=7))} – {format_date(today - dt.timedelta(days=1))}"
    assert any(
        c.startswith("3 answers (previous period: 0)")
        and f"Measured {week}: today ({format_date(today)}) is not over" in c
        for c in map(unescape, texts(at.caption))
    ), texts(at.caption)
    # Voice of customer's card says the same of the same range (review: +0 from 4 answers).
    assert metric_value(open_page(monkeypatch, root, "feedback", range="7d"), "NPS") == "+33"


def test_the_nps_card_counts_the_ranges_answers_before_the_first_event_day(monkeypatch, utc_events, tmp_path):
    """Events from 13 days back, answers from 19: a range over both, while today is open, was
    measured from the first event day, and the two answers before it were counted as the period
    before: +33 from 3 answers, "+133 pts", where the range's whole days hold 0, 1, 2, 10 and 9:
    (2 promoters - 3 detractors) / 5 = -20, with no answer before them (QA)."""
    today = dt.datetime.now(dt.UTC).date()
    answers = ((19, 0), (17, 1), (8, 2), (7, 10), (4, 9))
    root = answers_while_today_is_open(utc_events, tmp_path, answers, event_days=13)
    dates = [str(today - dt.timedelta(days=19)), str(today)]
    at = open_page(monkeypatch, root, "feedback", range="Custom", dates=dates)
    assert metric_value(at, "NPS") == "-20"
    card = next(m for m in at.metric if m.label == "NPS")
    assert not card.delta
    assert any(c.startswith("5 answers (previous period: 0)") for c in map(unescape, texts(at.caption)))


def test_weekly_charts_say_which_days_after_the_range_their_last_week_holds(monkeypatch, known_data):
    """A range ending on a Wednesday (2-4 Mar): the weekly charts' last week runs to Sunday 8 Mar
    and holds the days loaded after the range too; the captions named only the first week's
    extra days (QA)."""
    dates = ["2026-03-02", "2026-03-04"]
    for page, says in (
        (
            "retention",
            "The last, week of 2 Mar 2026, also holds the users first seen on 5 Mar 2026 – 8 Mar 2026, after the range.",
        ),
        ("engagement", "The last, week of 2 Mar 2026, also counts 5 Mar 2026 – 8 Mar 2026, after the range."),
    ):
        at = open_page(monkeypatch, known_data, page, range="Custom", dates=dates)
        assert any(says in unescape(c) for c in texts(at.caption)), (page, texts(at.caption))
    at = open_page(monkeypatch, known_data, "retention", range="Custom", dates=["2026-03-02", "2026-03-08"])
    assert not any("after the range" in unescape(c) for c in texts(at.caption))


def test_each_tools_snapshot_is_named_and_flagged_when_old(monkeypatch, tmp_path):
    """A Jira export of 20 Aug beside a Linear one of 19 Oct, judged as of the events' 28 Oct:
    the caption named only 19 Oct and nothing said the Jira items were judged on a snapshot 69
    days old (QA)."""
    data = ingested(
        tmp_path,
        {
            "events.csv": "event_time,user_id,event\n2026-10-01T10:00:00Z,u1,login\n2026-10-28T10:00:00Z,u1,login\n",
            "jira_2026-08-20.csv": "item_id,title,item_type,status_category,due_date,source\n"
            "J-1,Old epic,epic,in_progress,2026-10-01,jira\n",
            "linear_2026-10-19.csv": "item_id,title,item_type,status_category,due_date,source\n"
            "L-1,New epic,epic,in_progress,2026-12-01,linear\n",
        },
    )
    at = open_page(monkeypatch, data, "roadmap", range="All")
    captions = [unescape(c) for c in texts(at.caption)]
    assert any(
        c.startswith(
            "Health as of 28 Oct 2026, from each tool's latest snapshot on or before it (Jira 20 Aug 2026, Linear 19 Oct 2026)"
        )
        for c in captions
    ), captions
    warnings = [unescape(w) for w in texts(at.warning)]
    assert any(w.startswith("The latest Jira roadmap snapshot is 69 days old (20 Aug 2026)") for w in warnings), (
        warnings
    )
    assert not any("Linear" in w for w in warnings)  # 9 days old


def test_the_segmented_nps_card_counts_the_same_whole_days(monkeypatch, utc_events, tmp_path):
    """Filtered to a plan, the card took the range's answers and then its whole days, which start
    a day earlier: the first day's answer was lost, +100 from 2 where the days hold +33 from 3
    (review)."""
    root = answers_while_today_is_open(utc_events, tmp_path, ((7, 3), (2, 10), (1, 9), (0, 0)))
    for query in ({}, {"f_plan": "pro"}):
        at = open_page(monkeypatch, root, "feedback", range="7d", **query)
        assert metric_value(at, "NPS") == "+33", query


def test_the_summary_card_and_its_table_judge_an_objective_on_one_day(monkeypatch, tmp_path):
    """Events to 1 Nov and a roadmap snapshot of 2 Nov, an objective starting 2 Nov: the table
    beside the cards (judged as of the snapshot's day, as the report and roadmap --json are) read
    "On track" and the card "Not started", judged as of 1 Nov (QA). Both judge the 2nd now, on
    the days measured, all before the start: not started."""
    data = ingested(
        tmp_path,
        {
            "events.csv": "event_time,user_id,event\n"
            + "".join(f"2026-10-{d:02d}T12:00:00Z,u{n},login\n" for d in range(1, 32) for n in range(16))
            + "".join(f"2026-11-01T12:00:00Z,u{n},login\n" for n in range(16)),
            "roadmap_2026-11-02.csv": "item_id,title,item_type,objective_id,status_category\n"
            "E1,Epic,epic,O9,in_progress\n",
            "objectives.csv": "objective_id,title,metric,baseline,target,start_date,target_date,direction,owner\n"
            "O9,More users,dau,16,20,2026-11-02,2026-11-30,increase,\n",
        },
    )
    at = open_page(monkeypatch, data, "summary", range="7d")
    badges = [m for m in texts(at.markdown) if "**Goal:**" in m]
    # The 7 days measured end 1 Nov, before its start: not started, on the card and in the table.
    assert badges and "Not started" in badges[0], badges
    outcomes = [m for m in texts(at.markdown) if m.endswith(" outcome")]
    assert outcomes == [":gray-badge[Not started] outcome"], outcomes
    # The card's day is the table's, the roadmap's (review: the page alone could not tell the two
    # days apart here): its delivery is the 2 Nov snapshot's, and the first-start warm-up asks the same.
    from pmkit import dashboard

    period = Period(dt.date(2026, 10, 26), dt.date(2026, 11, 1))
    with Store(load_config(data).store_dir).reader() as reader:
        (card,) = dashboard.scorecards(reader, load_config(data), period, as_of=dt.date(2026, 11, 2))
        (before,) = dashboard.scorecards(reader, load_config(data), period)
        facts = dashboard.facts(reader, load_config(data))
    assert (card.delivery, before.delivery) == ("on_track", None)
    requests = dict(dashboard.summary_requests(facts, period))
    assert requests["scorecards"] == {"period": period, "as_of": dt.date(2026, 11, 2)}


def test_the_summary_of_a_workspace_without_a_roadmap_says_none_is_loaded(monkeypatch, utc_events):
    """It said "No roadmap item is late, off track or at risk" and "Nothing shipped in the 30
    days before ...", as of a roadmap with nothing to flag, where the report says none is loaded
    (QA)."""
    root = utc_events(["event_time,user_id,event\n", "2026-03-01T10:00:00Z,u1,login\n"])
    at = open_page(monkeypatch, root, "summary", range="All")
    shown = [unescape(t) for t in texts(at.info)]
    assert "No roadmap loaded yet. Load a Jira, Linear, Plane or pmkit roadmap export." in shown, shown
    assert not any(t.startswith(("No roadmap item is late", "Nothing shipped")) for t in shown)
