"""The demo workspace: seeded, in pmkit's own CSV formats, realistic, and with the planted effects
really present in the events. Every check here recomputes from the written files with its own
Polars code, never with the generator's internals."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import polars as pl
import pytest

from pmkit import demo

END = dt.date(2026, 6, 30)
START = END - dt.timedelta(days=181)
EVENT_COLUMNS = [
    "event_time",
    "user_id",
    "event",
    "event_id",
    "session_id",
    "revenue",
    "plan",
    "country",
    "platform",
    "app_version",
]
ROADMAP_COLUMNS = [
    "item_id",
    "title",
    "item_type",
    "parent_id",
    "objective_id",
    "metric",
    "owner",
    "team",
    "status",
    "status_category",
    "start_date",
    "due_date",
    "baseline_due_date",
    "completed_date",
    "estimate",
    "progress",
    "declared_health",
    "blocked_by",
]
OBJECTIVE_COLUMNS = [
    "objective_id",
    "title",
    "metric",
    "baseline",
    "target",
    "start_date",
    "target_date",
    "direction",
    "owner",
]
FEEDBACK_COLUMNS = ["submitted_at", "user_id", "score", "scale", "comment", "source", "plan", "country"]
BUILT_IN_METRICS = {"dau", "wau", "mau", "stickiness", "new_users", "events", "revenue", "arpu"}
# pmkit writes times like 2026-03-01T10:00:00Z.
ISO_Z = "%Y-%m-%dT%H:%M:%SZ"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("demo")
    return out, demo.write_demo(out, events=100_000, seed=7, end=END)


@pytest.fixture(scope="module")
def events(workspace: tuple[Path, list[Path]]) -> pl.DataFrame:
    _, files = workspace
    paths = [p for p in files if p.name.startswith("events_")]
    frame = pl.concat([pl.read_csv(p, schema_overrides={"revenue": pl.Float64}) for p in paths])
    return frame.with_columns(pl.col("event_time").str.to_datetime(ISO_Z)).with_columns(
        day=pl.col("event_time").dt.date()
    )


@pytest.fixture(scope="module")
def roadmap(workspace: tuple[Path, list[Path]]) -> pl.DataFrame:
    _, files = workspace
    snapshots = [p for p in files if p.name.startswith("roadmap_")]
    return pl.concat(
        [
            pl.read_csv(p, infer_schema=False).with_columns(
                snapshot=pl.lit(dt.date.fromisoformat(p.stem.removeprefix("roadmap_")))
            )
            for p in snapshots
        ]
    ).with_columns(
        pl.col("start_date", "due_date", "baseline_due_date", "completed_date").str.to_date(),
        pl.col("estimate", "progress").cast(pl.Float64),
    )


def read_all(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


# --- files and formats ------------------------------------------------------------------------


def test_same_seed_size_and_end_give_byte_identical_files(tmp_path: Path) -> None:
    first = demo.write_demo(tmp_path / "a", events=10_000, seed=3, end=END)
    demo.write_demo(tmp_path / "b", events=10_000, seed=3, end=END)
    demo.write_demo(tmp_path / "c", events=10_000, seed=4, end=END)
    a, b, c = (read_all(tmp_path / name) for name in "abc")
    assert a == b
    assert a != c and a["pmkit.toml"] == c["pmkit.toml"]  # another seed gives other data
    assert {p.parent.name for p in first} == {"inbox"}
    assert "pmkit.toml" in a


@pytest.mark.parametrize("requested", [10_000, 100_000])
def test_event_rows_are_within_five_percent_of_the_request(tmp_path: Path, requested: int) -> None:
    files = demo.write_demo(tmp_path, events=requested, end=END)
    rows = sum(pl.read_csv(p).height for p in files if p.name.startswith("events_"))
    assert abs(rows - requested) <= 0.05 * requested


def test_every_file_parses_with_its_exact_header(workspace: tuple[Path, list[Path]]) -> None:
    out, files = workspace
    assert all(p.parent == out / "inbox" and p.exists() for p in files)
    expected = {
        "events_": EVENT_COLUMNS,
        "roadmap_": ROADMAP_COLUMNS,
        "objectives": OBJECTIVE_COLUMNS,
        "feedback": FEEDBACK_COLUMNS,
    }
    kinds = set()
    for path in files:
        kind = next(k for k in expected if path.name.startswith(k))
        kinds.add(kind)
        assert pl.read_csv(path).columns == expected[kind], path.name
        assert path.read_bytes().decode("utf-8").startswith(",".join(expected[kind]) + "\n")
    assert kinds == set(expected)


def test_events_are_well_formed(events: pl.DataFrame) -> None:
    assert events["event_time"].null_count() == 0
    assert events["day"].min() >= START and events["day"].max() == END
    assert events["event_id"].n_unique() == events.height
    assert events.filter(pl.col("session_id").is_null())["event"].unique().to_list() == ["renewal"]
    paid = events.filter(pl.col("event").is_in(["upgrade", "renewal"]))
    assert paid["revenue"].null_count() == 0 and set(paid["revenue"].unique()) <= {49.0, 99.0, 299.0}
    assert (
        events.filter(~pl.col("event").is_in(["upgrade", "renewal"]))["revenue"].null_count()
        == events.height - paid.height
    )
    wanted = {
        "signup",
        "login",
        "create_report",
        "share_report",
        "export_pdf",
        "invite_teammate",
        "view_dashboard",
        "upgrade",
        "use_ai_summary",
        "schedule_report",
    }
    assert wanted <= set(events["event"].unique())
    # Each user signs up once, and the sign-up is their first event.
    first = events.sort("event_time", "event_id").group_by("user_id").agg(pl.col("event").first())
    assert first.filter(pl.col("event") != "signup").height == 0
    assert events.filter(pl.col("event") == "signup")["user_id"].is_unique().all()


def test_pmkit_toml_defines_the_demo_metrics(workspace: tuple[Path, list[Path]]) -> None:
    out, _ = workspace
    settings = tomllib.loads((out / "pmkit.toml").read_text(encoding="utf-8"))
    assert settings["workspace"] == {"timezone": "UTC", "demo": True}
    metrics = settings["metrics"]
    assert metrics["activation"] == {
        "name": "Activation rate",
        "description": "Share of new sign-ups who create a report within 7 days",
        "type": "funnel",
        "steps": ["signup", "create_report"],
        "window_days": 7,
        "format": "percent",
    }
    assert metrics["reports_shared"] == {
        "name": "Reports shared",
        "description": "Reports shared per day",
        "type": "count",
        "event": "share_report",
        "format": "number",
    }
    required = {
        "funnel": {"steps"},
        "count": {"event"},
        "unique_users": {"event"},
        "ratio": {"numerator", "denominator"},
        "retention": {"week"},
    }
    for key, metric in metrics.items():
        assert required[metric["type"]] <= metric.keys(), key


def test_objectives_name_known_metrics(workspace: tuple[Path, list[Path]]) -> None:
    out, _ = workspace
    objectives = pl.read_csv(out / "inbox" / "objectives.csv", try_parse_dates=True)
    known = BUILT_IN_METRICS | set(tomllib.loads((out / "pmkit.toml").read_text())["metrics"])
    assert 3 <= objectives.height <= 4
    assert set(objectives["metric"]) <= known
    assert set(objectives["direction"]) <= {"increase", "decrease", "stay_above", "stay_below"}
    assert objectives["objective_id"].is_unique().all()
    assert objectives.select((pl.col("start_date") < pl.col("target_date")).all()).item()


def test_feedback_has_nps_and_csat_answers(workspace: tuple[Path, list[Path]]) -> None:
    out, _ = workspace
    feedback = pl.read_csv(out / "inbox" / "feedback.csv").with_columns(pl.col("submitted_at").str.to_datetime(ISO_Z))
    assert 200 <= feedback.height <= 1000
    nps = feedback.filter(pl.col("scale") == "nps")["score"]
    csat = feedback.filter(pl.col("scale") == "csat")["score"]
    assert nps.min() >= 0 and nps.max() <= 10 and csat.min() >= 1 and csat.max() <= 5
    assert csat.len() > 10 and nps.len() > 3 * csat.len()
    assert 0 < feedback["comment"].null_count() < feedback.height


# --- realism ----------------------------------------------------------------------------------


def test_weekdays_are_much_busier_than_weekends(events: pl.DataFrame) -> None:
    per_day = events.group_by("day").len().with_columns(weekend=pl.col("day").dt.weekday() >= 6)
    means = dict(per_day.group_by("weekend").agg(pl.col("len").mean()).iter_rows())
    assert means[False] / means[True] > 1.3


def test_users_grow_churn_and_are_heavy_tailed(events: pl.DataFrame) -> None:
    signups = events.filter(pl.col("event") == "signup")
    first_month = signups.filter(pl.col("day") < START + dt.timedelta(days=28)).height
    last_month = signups.filter(pl.col("day") > END - dt.timedelta(days=28)).height
    assert last_month > 1.5 * first_month
    per_user = (
        events.group_by("user_id").agg(pl.len(), active_days=pl.col("day").n_unique()).sort("len", descending=True)
    )
    top_share = per_user.head(per_user.height // 100)["len"].sum() / events.height
    assert top_share > 0.10  # the top 1% of users do over a tenth of all events
    assert (per_user["active_days"] <= 3).mean() > 0.4  # many users stop within a few days
    assert set(events["plan"]) == {"free", "pro", "enterprise"}
    assert set(events["platform"]) == {"web", "ios", "android"}
    countries = events.group_by("country").len().sort("len", descending=True)
    assert countries.height == 8 and countries["len"][0] > 2 * countries["len"][-1]


def test_app_versions_progress_over_time(events: pl.DataFrame) -> None:
    minor = events.with_columns(minor=pl.col("app_version").str.split(".").list.get(1).cast(pl.Int32))
    early = minor.filter(pl.col("day") < START + dt.timedelta(days=30))["minor"].median()
    late = minor.filter(pl.col("day") > END - dt.timedelta(days=30))["minor"].median()
    assert minor["app_version"].n_unique() >= 6 and late > early + 5


# --- roadmap ----------------------------------------------------------------------------------


def test_roadmap_snapshots_are_dated_and_consistent(roadmap: pl.DataFrame) -> None:
    snapshots = roadmap["snapshot"].unique().sort()
    assert snapshots.len() >= 3 and snapshots[-1] == END
    assert set(roadmap["status_category"]) <= {"todo", "in_progress", "done", "cancelled"}
    assert set(roadmap["item_type"]) == {"objective", "initiative", "epic", "issue"}
    assert set(roadmap["declared_health"].drop_nulls()) <= {"on_track", "at_risk", "off_track"}
    last = roadmap.filter(pl.col("snapshot") == END)
    ids = set(last["item_id"])
    assert set(last["parent_id"].drop_nulls()) <= ids and set(last["objective_id"]) <= ids
    assert last.filter(pl.col("item_type") == "issue")["estimate"].null_count() == 0
    done = roadmap.filter(pl.col("status_category") == "done")
    assert done["completed_date"].null_count() == 0 and (done["completed_date"] <= done["snapshot"]).all()
    # Progress only moves forward: nothing done in one snapshot is open in a later one.
    ever_done = done.group_by("item_id").agg(first_done=pl.col("snapshot").min())
    reopened = roadmap.join(ever_done, on="item_id").filter(
        (pl.col("snapshot") > pl.col("first_done")) & (pl.col("status_category") != "done")
    )
    assert reopened.height == 0


def test_roadmap_has_the_planted_cases(roadmap: pl.DataFrame) -> None:
    last = roadmap.filter(pl.col("snapshot") == END)
    open_items = last.filter(pl.col("status_category").is_in(["todo", "in_progress"]))
    # slip: the due date moved later between the first snapshot showing the item and the last.
    dues = (
        roadmap.sort("snapshot")
        .group_by("item_id")
        .agg(pl.col("due_date").first().alias("first_due"), pl.col("due_date").last().alias("last_due"))
    )
    slipped = dues.filter(pl.col("last_due") > pl.col("first_due"))["item_id"].to_list()
    assert demo.ROADMAP_CASES["slip"] in slipped
    # late: past due and not done at the end; its owner still declares it on track.
    late = open_items.filter(pl.col("due_date") < END)
    assert demo.ROADMAP_CASES["late"] in late["item_id"].to_list()
    assert (
        late.filter(pl.col("item_id") == demo.ROADMAP_CASES["declared_disagrees"])["declared_health"].item()
        == "on_track"
    )
    # at risk: due within two weeks, under a third of its points done.
    points = (
        last.filter(pl.col("item_type") == "issue")
        .group_by("parent_id")
        .agg(
            points_done=pl.col("estimate").filter(pl.col("status_category") == "done").sum()
            / pl.col("estimate").filter(pl.col("status_category") != "cancelled").sum()
        )
    )
    at_risk = open_items.join(points, left_on="item_id", right_on="parent_id").filter(
        pl.col("due_date").is_between(END, END + dt.timedelta(days=14)) & (pl.col("points_done") < 0.33)
    )
    assert demo.ROADMAP_CASES["at_risk"] in at_risk["item_id"].to_list()
    assert demo.ROADMAP_CASES["cancelled"] in last.filter(pl.col("status_category") == "cancelled")["item_id"].to_list()
    # blocked: the item started before the item it is blocked by was completed.
    blocked = last.filter(pl.col("blocked_by").is_not_null()).join(
        last.select(pl.col("item_id").alias("blocked_by"), blocker_done=pl.col("completed_date")), on="blocked_by"
    )
    assert (
        demo.ROADMAP_CASES["blocked"]
        in blocked.filter(pl.col("start_date") < pl.col("blocker_done"))["item_id"].to_list()
    )


def test_ships_are_done_on_their_dates_well_inside_the_event_range(roadmap: pl.DataFrame) -> None:
    last = roadmap.filter(pl.col("snapshot") == END)
    for ship in demo.SHIPS:
        shipped = demo.ship_dates(END)[ship.item_id]
        assert START + dt.timedelta(days=35) <= shipped <= END - dt.timedelta(days=35)
        assert shipped.weekday() < 5
        row = last.filter(pl.col("item_id") == ship.item_id)
        assert row["status_category"].item() == "done" and row["completed_date"].item() == shipped
        assert row["metric"].item() == ship.metric


# --- the planted effects, measured from the events --------------------------------------------


def seven_day_activation(events: pl.DataFrame) -> pl.DataFrame:
    """Per sign-up: did the user create a report within 7 days (604,800 s) of signing up."""
    signups = events.filter(pl.col("event") == "signup").select("user_id", signed_up=pl.col("event_time"))
    reports = events.filter(pl.col("event") == "create_report").select("user_id", created=pl.col("event_time"))
    return (
        signups.join(reports, on="user_id", how="left")
        .with_columns(
            hit=pl.col("created")
            .is_between(pl.col("signed_up"), pl.col("signed_up") + pl.duration(days=7))
            .fill_null(False)
        )
        .group_by("user_id", "signed_up")
        .agg(converted=pl.col("hit").any())
        .filter(pl.col("signed_up").dt.date() <= END - dt.timedelta(days=7))  # a full window
    )


def test_onboarding_checklist_lifts_seven_day_activation(events: pl.DataFrame) -> None:
    shipped = demo.ship_dates(END)["EP-1"]
    rates = dict(
        seven_day_activation(events)
        .group_by(after=pl.col("signed_up").dt.date() >= shipped)
        .agg(pl.col("converted").mean())
        .iter_rows()
    )
    assert rates[True] - rates[False] >= 0.05
    assert abs(rates[False] - demo.ACTIVATION_BEFORE) < 0.06 and abs(rates[True] - demo.ACTIVATION_AFTER) < 0.06


def daily_kpis(events: pl.DataFrame) -> pl.DataFrame:
    """DAU, MAU (distinct users over the 30 days ending the day) and shares, every day."""
    user_days = events.select("user_id", "day").unique()
    spread = user_days.join(pl.DataFrame({"offset": range(30)}), how="cross").with_columns(
        counted=pl.col("day") + pl.duration(days=pl.col("offset"))
    )
    mau = spread.filter(pl.col("counted") <= END).group_by(day=pl.col("counted")).agg(mau=pl.col("user_id").n_unique())
    dau = user_days.group_by("day").agg(dau=pl.len())
    shares = events.group_by("day").agg(shares=(pl.col("event") == "share_report").sum())
    return mau.join(dau, on="day", how="left").join(shares, on="day", how="left").fill_null(0).sort("day")


def before_after(daily: pl.DataFrame, value: pl.Expr, shipped: dt.date, days: int = 28) -> tuple[float, float]:
    window = pl.duration(days=days)
    before = (
        daily.filter(pl.col("day").is_between(pl.lit(shipped) - window, shipped, closed="left"))
        .select(value.mean())
        .item()
    )
    after = (
        daily.filter(pl.col("day").is_between(shipped, pl.lit(shipped) + window, closed="left"))
        .select(value.mean())
        .item()
    )
    return before, after


def test_sharing_v2_lifts_shares_per_active_user(events: pl.DataFrame) -> None:
    before, after = before_after(daily_kpis(events), pl.col("shares") / pl.col("dau"), demo.ship_dates(END)["EP-3"])
    assert after > 1.5 * before


def test_dark_mode_ships_without_a_lift_on_stickiness(events: pl.DataFrame) -> None:
    (dark_mode,) = [s for s in demo.SHIPS if s.item_id == "EP-5"]
    assert dark_mode.metric == "stickiness"
    before, after = before_after(daily_kpis(events), pl.col("dau") / pl.col("mau"), demo.ship_dates(END)["EP-5"])
    assert abs(after / before - 1) < 0.15  # normal drift, far from the planted effects
    # Activation does not move at the dark mode date either.
    shipped = demo.ship_dates(END)["EP-5"]
    window = seven_day_activation(events).filter(
        pl.col("signed_up").dt.date().is_between(shipped - dt.timedelta(days=28), shipped + dt.timedelta(days=27))
    )
    rates = dict(
        window.group_by(after=pl.col("signed_up").dt.date() >= shipped).agg(pl.col("converted").mean()).iter_rows()
    )
    assert abs(rates[True] - rates[False]) < 0.1


def test_nps_improves_after_sharing_v2(workspace: tuple[Path, list[Path]]) -> None:
    out, _ = workspace
    nps = (
        pl.read_csv(out / "inbox" / "feedback.csv")
        .filter(pl.col("scale") == "nps")
        .with_columns(pl.col("submitted_at").str.to_datetime(ISO_Z))
    )
    shipped = demo.ship_dates(END)[demo.NPS_SHIP]
    score = ((pl.col("score") >= 9).mean() - (pl.col("score") <= 6).mean()) * 100
    by_period = dict(nps.group_by(after=pl.col("submitted_at").dt.date() >= shipped).agg(score).iter_rows())
    assert by_period[True] > by_period[False] + 10


def test_an_upload_keeps_its_name_and_never_overwrites_one_waiting(tmp_path: Path) -> None:
    """Uploads are saved in the inbox under the name the user picked (made safe for a path): the
    messages name that file. A second upload of the same name while the first waits gets
    "name (2)", created exclusively, so neither overwrites the other."""
    from pmkit.workspace import safe_upload_name, save_new_file

    name = safe_upload_name("C:\\exports\\events march (v2).csv")
    assert name == "events_march_v2_.csv"
    first = save_new_file(tmp_path, name, b"one")
    second = save_new_file(tmp_path, name, b"two")
    assert (first.name, second.name) == ("events_march_v2_.csv", "events_march_v2_ (2).csv")
    assert (first.read_bytes(), second.read_bytes()) == (b"one", b"two")
    assert safe_upload_name(".hidden") == "hidden" and safe_upload_name("...") == "upload"
