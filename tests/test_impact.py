"""Impact of shipped work: the placebo test by hand, on synthetic series with and without a lift,
and on the demo workspace, whose planted lifts must be found and whose dark mode must not be."""

from __future__ import annotations

import datetime as dt
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pmkit import demo, roadmap_view
from pmkit.config import load_config
from pmkit.impact import MIN_PLACEBOS, NOTE, before_after, impact, placebo_changes, window_means
from pmkit.ingest import ingest_inbox
from pmkit.store import Store

# --- the placebo logic on hand-made series -------------------------------------------------------


def series(values: list[float] | np.ndarray, start: date = date(2026, 1, 1)) -> pl.DataFrame:
    days = [start + dt.timedelta(days=i) for i in range(len(values))]
    return pl.DataFrame({"day": days, "value": [None if v is None else float(v) for v in values]})


def test_window_means_skip_the_day_itself_and_nulls():
    """Index 3 of [1, 2, 3, 100, 5, nan, 7] with window 2: before (2 + 3) / 2, after (5 + 7) / 1 value."""
    before, after = window_means(np.array([1, 2, 3, 100, 5, np.nan, 7], dtype=float), 2)
    assert before[3] == 2.5
    assert after[3] == 5.0  # index 5 is null: the after window's mean is its one value
    assert np.isnan(before[1]) and np.isnan(after[5])  # windows leaving the series


def test_weighted_days_pool_into_the_windows_rate():
    """Rates 0.25 of 4 users and 1.0 of 1 user pool to 2 / 5 = 0.4 (their plain mean is 0.625)."""
    before, after = window_means(np.array([0.25, 1.0, 9.0, 0.5, 0.0]), 2, weights=np.array([4.0, 1.0, 1.0, 2.0, 2.0]))
    assert before[2] == pytest.approx(0.4)
    assert after[2] == pytest.approx(0.25)


def test_placebo_dates_keep_their_windows_clear_of_the_ship_day():
    """12 days, window 2: indices 2..9 have both windows inside; 3..7 are within 2 days of the ship
    (index 5), so the placebo dates are 2, 8 and 9. On a straight line every change is +3."""
    index, changes = placebo_changes(np.arange(1, 13, dtype=float), ship_index=5, window=2)
    assert index.tolist() == [2, 8, 9]
    assert changes.tolist() == [3.0, 3.0, 3.0]
    # Relative: after / before - 1 at index 2 is mean(4, 5) / mean(1, 2) - 1 = 4.5 / 1.5 - 1 = 2.
    _, relative = placebo_changes(np.arange(1, 13, dtype=float), ship_index=5, window=2, relative=True)
    assert relative.tolist() == pytest.approx([2.0, 10.5 / 7.5 - 1, 11.5 / 8.5 - 1])


def test_before_after_by_hand():
    """[1, 1, 1, 1, 1, 9, 5, 5, 5, 5, 5, 5], ship on index 5 (its 9 is in neither window), window 2:
    before mean(1, 1) = 1, after mean(5, 5) = 5: +4, +400%. Placebo dates 2, 8, 9 all change by 0,
    so the change is above every one of them, but 3 dates are too few to judge."""
    values = [1, 1, 1, 1, 1, 9, 5, 5, 5, 5, 5, 5]
    result = before_after(series(values), date(2026, 1, 6), window_days=2)
    assert result.status == "measured"
    assert (result.before, result.after, result.change, result.change_pct) == (1.0, 5.0, 4.0, 400.0)
    assert result.judged_on == "relative"
    assert result.placebo_changes == (0.0, 0.0, 0.0)
    assert result.percentile == 100.0
    assert result.z_score == float("inf")  # every placebo change equal: the real one stands apart
    assert result.significant is None  # fewer than MIN_PLACEBOS dates


def test_ties_count_half_and_a_steady_trend_is_not_a_lift():
    result = before_after(series(np.arange(1, 13)), date(2026, 1, 6), window_days=2)
    assert result.judged_on == "relative"
    straight = before_after(series(np.full(12, 4.0)), date(2026, 1, 6), window_days=2)
    assert (straight.change, straight.percentile, straight.z_score) == (0.0, 50.0, 0.0)


@pytest.mark.parametrize(("length", "judged"), [(27, True), (26, None)])
def test_twenty_placebo_dates_are_needed_to_judge(length: int, judged: bool | None):
    """Window 2, ship on index 2: placebo dates are 5..length-3, that is length - 7 of them. A level
    step from 10 to 20 right after the ship is a +100% change; after it nothing moves but noise."""
    rng = np.random.default_rng(0)
    values = np.r_[np.full(3, 10.0), 20 + rng.normal(0, 0.1, length - 3)]
    result = before_after(series(values), date(2026, 1, 3), window_days=2)
    assert len(result.placebo_changes) == length - 7
    assert result.significant is judged
    assert (length - 7 >= MIN_PLACEBOS) is (judged is True)


def test_too_recent_and_not_enough_history():
    values = series(np.ones(60))  # 2026-01-01 .. 2026-03-01
    recent = before_after(values, date(2026, 2, 20), window_days=28)
    assert (recent.status, recent.days_remaining) == ("too recent", 19)  # Feb 20 + 28 = Mar 20
    assert before_after(values, date(2026, 1, 15), window_days=14).status == "measured"  # from Jan 1
    early = before_after(values, date(2026, 1, 14), window_days=14)  # would start Dec 31
    assert early.status == "not enough history"


# --- synthetic series: a known lift, and none ---------------------------------------------------


def synthetic(lift: float, seed: int, days: int = 200, ship_day: int = 90, growth: float = 1.0) -> pl.DataFrame:
    """A daily count around 100 with a weekday pattern (weekends at 40%), Poisson noise, optional
    steady growth (``growth`` times over the range) and a multiplicative ``lift`` from the day after
    ``ship_day`` on."""
    rng = np.random.default_rng(seed)
    day = np.arange(days)
    weekday = np.where(day % 7 >= 5, 0.4, 1.0)
    level = 100 * growth ** (day / (days - 1)) * weekday * np.where(day > ship_day, 1 + lift, 1.0)
    return series(rng.poisson(level).astype(float))


SHIP = date(2026, 1, 1) + dt.timedelta(days=90)
SEEDS = range(200)


def test_an_injected_lift_is_found():
    """+25% on a noisy weekly count: 28-day means wobble by about 2% (Poisson), so the lift stands
    far out in every one of 200 series, and its size is measured within a few points."""
    results = [before_after(synthetic(0.25, seed), SHIP) for seed in SEEDS]
    assert all(r.significant is True for r in results)
    assert all(r.percentile > 97.5 and r.z_score > 1.96 for r in results)
    assert np.mean([r.change_pct for r in results]) == pytest.approx(25, abs=1)


def test_no_lift_is_rarely_claimed():
    """Without a lift, "significant" should come up about 5% of the time (two-sided 95%); the
    overlapping placebo windows make it a little more (measured: 6-7%), never much more."""
    results = [before_after(synthetic(0.0, seed), SHIP) for seed in SEEDS]
    assert all(r.significant is not None for r in results)
    assert np.mean([r.significant for r in results]) <= 0.10


def test_growth_alone_is_rarely_a_lift():
    """A product growing 2.5x over the range: absolute changes grow with it, relative ones do not."""
    results = [before_after(synthetic(0.0, seed, growth=2.5), SHIP) for seed in SEEDS]
    assert np.mean([r.change > 0 for r in results]) > 0.9
    assert np.mean([r.significant for r in results]) <= 0.10


# --- the demo workspace ---------------------------------------------------------------------------

END = date(2026, 6, 30)
DEMO_EVENTS = 300_000  # enough users early on for stickiness to be steady; about 2 s to build and load


@pytest.fixture(scope="module")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("impact_demo")
    demo.write_demo(out, events=DEMO_EVENTS, seed=7, end=END)
    results = ingest_inbox(load_config(out))
    assert all(r.status == "loaded" for r in results)
    return out


def demo_impact(out: Path, window_days: int = 28) -> pl.DataFrame:
    config = load_config(out)
    with Store(config.store_dir).reader() as reader:
        items = roadmap_view.item_health(reader, config)
        return impact(reader, config, items, window_days=window_days)


def ship(frame: pl.DataFrame, item_id: str) -> dict:
    return frame.filter(item_id=item_id).row(0, named=True)


def test_demo_lifts_are_found(demo_workspace: Path):
    found = demo_impact(demo_workspace)
    onboarding, sharing = ship(found, "EP-1"), ship(found, "EP-3")
    shipped = demo.ship_dates(END)
    assert onboarding["completed_date"] == shipped["EP-1"]
    assert (onboarding["metric"], onboarding["metric_from"], onboarding["status"]) == ("activation", "item", "measured")
    # Planted: 7-day activation 30% -> 44% for sign-ups from the ship day. Daily rates are pooled
    # by their sign-ups, so each window is its own activation rate (measured: 28.0% -> 43.3%).
    assert onboarding["before"] == pytest.approx(demo.ACTIVATION_BEFORE, abs=0.03)
    assert onboarding["after"] == pytest.approx(demo.ACTIVATION_AFTER, abs=0.03)
    assert onboarding["significant"] is True and onboarding["percentile"] > 97.5
    # Planted: shares per active user about 2.3x; with user growth, shares per day about triple.
    assert sharing["metric"] == "reports_shared"
    assert sharing["change_pct"] > 100
    assert sharing["significant"] is True and sharing["percentile"] > 97.5
    assert onboarding["placebo_dates"] >= MIN_PLACEBOS and sharing["placebo_dates"] >= MIN_PLACEBOS
    assert "stands out" in onboarding["verdict"]
    assert set(found["note"]) == {NOTE}


def test_demo_dark_mode_is_not_claimed(demo_workspace: Path):
    """Dark mode ships 55 days into the data; stickiness (DAU / MAU) is final only from day 29, so
    the 28 days before it are not all there. With 21-day windows they are, and nothing stands out."""
    dark = ship(demo_impact(demo_workspace), "EP-5")
    assert dark["metric"] == "stickiness"
    assert dark["status"] == "not enough history"
    assert dark["significant"] is None
    assert "final Stickiness (DAU/MAU) values start 29 Jan 2026" in dark["verdict"]
    shorter = ship(demo_impact(demo_workspace, window_days=21), "EP-5")
    assert shorter["status"] == "measured"
    assert shorter["significant"] is False
    assert "within normal variation" in shorter["verdict"]


def test_demo_confounders_and_too_recent_items(demo_workspace: Path):
    found = demo_impact(demo_workspace)
    shipped = demo.ship_dates(END)
    # Dark mode shipped exactly 28 days before the checklist: inside its window.
    assert f"Dark mode (EP-5, {shipped['EP-5']})" in ship(found, "EP-1")["confounders"]
    # The checklist's own issues are part of it, not confounders.
    assert not any("Checklist" in title for title in ship(found, "EP-1")["confounders"])
    recent = found.filter(pl.col("status") == "too recent")
    assert recent.height > 0
    for row in recent.iter_rows(named=True):
        settle = 7 if row["metric"] == "activation" else 0  # a funnel's last week is not final yet
        last_final = END - dt.timedelta(days=settle)
        assert row["days_remaining"] == (row["completed_date"] + dt.timedelta(days=28) - last_final).days
        assert row["significant"] is None
    # Items linked through their objective get its metric.
    issue = found.filter((pl.col("item_type") == "issue") & (pl.col("objective_id") == "OBJ-2")).row(0, named=True)
    assert (issue["metric"], issue["metric_from"]) == ("reports_shared", "objective")


def test_unknown_metric_is_reported_not_raised(demo_workspace: Path):
    config = load_config(demo_workspace)
    with Store(config.store_dir).reader() as reader:
        items = roadmap_view.item_health(reader, config).with_columns(
            pl.when(pl.col("item_id") == "EP-1").then(pl.lit("activaton")).otherwise(pl.col("metric")).alias("metric")
        )
        row = ship(impact(reader, config, items), "EP-1")
    assert row["status"] == "no data"
    assert "'activaton' is not defined" in row["verdict"] and "[metrics.activaton]" in row["verdict"]


def test_arpu_days_are_weighted_by_their_active_users(tmp_path: Path):
    """$10 of revenue a day; 10 users active on weekdays, 2 at weekends, for 70 days; EP-1
    shipped on day 35. Each 28-day window holds 20 weekdays and 8 weekend days: $280 over
    20 x 10 + 8 x 2 = 216 user-days, $1.30 a user a day, where the unweighted mean of daily ARPU
    is (20 x $1 + 8 x $5) / 28 = $2.14 (QA). Hand-written: the same sum from the raw rows."""
    data = tmp_path / "ws"
    data.mkdir()
    (data / "pmkit.toml").write_text('[workspace]\ntimezone = "UTC"\n')
    start, ship = date(2026, 6, 1), date(2026, 7, 6)  # a Monday; day 35
    lines = ["event_time,user_id,event,revenue\n"]
    for i in range(70):
        day = start + dt.timedelta(days=i)
        users = 10 if day.weekday() < 5 else 2
        lines += [f"{day}T09:{n:02d}:00Z,u{n},login,\n" for n in range(users)]
        lines.append(f"{day}T10:00:00Z,u0,purchase,10\n")
    (data / "events.csv").write_text("".join(lines))
    (data / "roadmap.csv").write_text(
        "item_id,title,item_type,metric,status_category,start_date,due_date,completed_date\n"
        f"EP-1,Checkout,epic,arpu,done,2026-05-01,{ship},{ship}\n"
    )
    config = load_config(data)
    from pmkit.ingest import ingest

    assert [r.status for r in ingest([data / "events.csv", data / "roadmap.csv"], config)] == ["loaded", "loaded"]
    with Store(config.store_dir).reader() as reader:
        row = impact(reader, config, roadmap_view.item_health(reader, config)).row(0, named=True)
        days = reader.frame(
            "SELECT d, sum(coalesce(revenue, 0)) AS revenue, count(DISTINCT user_id) AS users FROM "
            "(SELECT CAST(event_time AS DATE) AS d, revenue, user_id FROM events) GROUP BY d"
        )
    before = days.filter(pl.col("d").is_between(ship - dt.timedelta(days=28), ship - dt.timedelta(days=1)))
    assert before["revenue"].sum() / before["users"].sum() == pytest.approx(280 / 216)
    assert row["before"] == pytest.approx(280 / 216)
    assert row["after"] == pytest.approx(280 / 216)
    assert row["verdict"].startswith("ARPU stayed at $1.30 in the 28 days after vs before")


def test_a_ratios_days_without_denominator_keep_their_numerator(tmp_path: Path):
    """Only logins are activity. Six days a week u1 and u2 log in and visit, and u1 buys for $10;
    on Sundays only a guest buys, nobody is active and nobody visits: $10 on each Sunday before the
    ship day (day 35), $30 on each after. Each 28-day window holds 24 weekdays and 4 Sundays.
    ARPU before: (24 x $10 + 4 x $10) / (24 x 2) = $5.83, after (240 + 120) / 48 = $7.50; the
    purchases per visit 28 / 48 and 36 / 48. Dropping the Sundays' numerators (as the weighted
    daily values did) read both as "stayed at" $5.00 and 0.50 (QA). Hand-written: the same sums
    from the raw rows."""
    data = tmp_path / "ws"
    data.mkdir()
    (data / "pmkit.toml").write_text(
        '[workspace]\ntimezone = "UTC"\nactive_events = ["login"]\n\n'
        '[metrics.buys]\ntype = "count"\nevents = ["purchase"]\n\n'
        '[metrics.visits]\ntype = "count"\nevents = ["visit"]\n\n'
        '[metrics.buy_per_visit]\ntype = "ratio"\nnumerator = "buys"\ndenominator = "visits"\n'
    )
    start, ship = date(2026, 6, 1), date(2026, 7, 6)  # a Monday; day 35, a Monday
    lines = ["event_time,user_id,event,revenue\n"]
    for i in range(70):
        day = start + dt.timedelta(days=i)
        if day.weekday() == 6:
            lines += [f"{day}T12:0{n}:00Z,guest,purchase,10\n" for n in range(1 if day < ship else 3)]
            continue
        lines += [f"{day}T09:00:00Z,{u},login,\n{day}T09:01:00Z,{u},visit,\n" for u in ("u1", "u2")]
        lines.append(f"{day}T10:00:00Z,u1,purchase,10\n")
    (data / "events.csv").write_text("".join(lines))
    (data / "roadmap.csv").write_text(
        "item_id,title,item_type,metric,status_category,start_date,due_date,completed_date\n"
        f"EP-1,Checkout,epic,arpu,done,2026-05-01,{ship},{ship}\n"
        f"EP-2,Buy button,epic,buy_per_visit,done,2026-05-01,{ship},{ship}\n"
    )
    config = load_config(data)
    from pmkit.ingest import ingest

    assert [r.status for r in ingest([data / "events.csv", data / "roadmap.csv"], config)] == ["loaded", "loaded"]
    with Store(config.store_dir).reader() as reader:
        rows = {r["item_id"]: r for r in impact(reader, config, roadmap_view.item_health(reader, config)).to_dicts()}
        days = reader.frame(
            "SELECT CAST(event_time AS DATE) AS d, sum(coalesce(revenue, 0)) AS revenue, "
            "count(DISTINCT user_id) FILTER (WHERE event = 'login') AS active, "
            "count(*) FILTER (WHERE event = 'purchase') AS buys, count(*) FILTER (WHERE event = 'visit') AS visits "
            "FROM events GROUP BY d"
        )
    windows = {
        "before": days.filter(pl.col("d").is_between(ship - dt.timedelta(days=28), ship - dt.timedelta(days=1))),
        "after": days.filter(pl.col("d").is_between(ship + dt.timedelta(days=1), ship + dt.timedelta(days=28))),
    }
    for side, arpu, per_visit in (("before", 280 / 48, 28 / 48), ("after", 360 / 48, 36 / 48)):
        window = windows[side]
        assert window["revenue"].sum() / window["active"].sum() == pytest.approx(arpu)
        assert window["buys"].sum() / window["visits"].sum() == pytest.approx(per_visit)
        assert rows["EP-1"][side] == pytest.approx(arpu)
        assert rows["EP-2"][side] == pytest.approx(per_visit)
    assert rows["EP-1"]["verdict"].startswith("ARPU rose from $5.83 to $7.50")
