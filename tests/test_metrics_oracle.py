"""Each metric on a generated workspace (~106k events, America/New_York, active events set)
against an independent oracle: SQL written here, run on the raw ``events`` view with plain
DuckDB (distinct counts over range joins, explicit joins), or a small Python reference."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pmkit import metrics
from pmkit.definitions import parse_definitions
from pmkit.metrics import Period, Segment
from pmkit.store import sql_text

# The generated workspace's settings (tests/conftest.py; the `reader` fixture checks they agree).
GENERATED_TIMEZONE = "America/New_York"
GENERATED_ACTIVE = ("login", "view_dashboard", "create_report", "share_report", "purchase")
# Local day of an event, written differently from pmkit's SQL (AT TIME ZONE, not timezone()).
LOCAL_DAY = f"CAST((event_time AT TIME ZONE 'UTC') AT TIME ZONE '{GENERATED_TIMEZONE}' AS DATE)"
ACTIVE = "(" + ", ".join(f"'{e}'" for e in GENERATED_ACTIVE) + ")"
# The raw events with their local day; every oracle starts from this.
EVENTS = f"SELECT user_id, event, event_time, coalesce(revenue, 0) AS revenue, plan, country, platform, {LOCAL_DAY} AS day FROM events"
PERIOD = Period(dt.date(2026, 2, 2), dt.date(2026, 3, 29))  # eight whole weeks inside the data


@pytest.fixture(scope="module")
def reader(generated_workspace):
    config = generated_workspace.config
    assert (config.timezone, tuple(config.get("workspace.active_events"))) == (GENERATED_TIMEZONE, GENERATED_ACTIVE)
    return generated_workspace.reader()


@pytest.fixture(scope="module")
def last_day(reader) -> dt.date:
    return reader.frame(f"SELECT max(day) AS d FROM ({EVENTS})")["d"].item()


@pytest.fixture(params=["dimension rollup", "raw events"])
def segment_source(request, monkeypatch, reader):
    """Segments read the dimension rollup, or (in a store without it) the raw events."""
    if request.param == "raw events":
        monkeypatch.setattr(metrics.base, "_table_exists", lambda reader, name: False)
    reader.memo.clear()  # the reader remembers its workspace facts (and results): start afresh
    assert metrics.base.workspace_of(reader).dimension_rollup == (request.param == "dimension rollup")
    yield request.param
    reader.memo.clear()


def on_shared_reader(reader, flag: str, reads_table: bool) -> Iterator[None]:
    """Run a test on the shared reader with its remembered workspace facts (and results) cleared,
    checking that the workspace's ``flag`` says what the parametrised fixture chose."""
    reader.memo.clear()
    assert getattr(metrics.base.workspace_of(reader), flag) == reads_table
    yield
    reader.memo.clear()


@pytest.fixture
def cohort_source(reader, cohort_tables):
    """``cohort_tables`` on the shared reader."""
    yield from on_shared_reader(reader, "cohort_rollup", cohort_tables == "cohort tables")


@pytest.fixture
def feature_source(reader, feature_table):
    """``feature_table`` on the shared reader."""
    yield from on_shared_reader(reader, "feature_rollup", feature_table == "feature table")


@pytest.fixture(params=["masks", "window sort"])
def rolling_method(request, monkeypatch):
    """Rolling users over up to 35 days, and lifecycle over up to 64 weeks, mark each user's days
    or weeks as the bits of one mask; longer ones use a window sort. Both, on the same periods
    (the sort can take any length)."""
    if request.param == "window sort":
        monkeypatch.setattr(metrics.base, "MASK_BITS", 0)
    return request.param


def calendar(start: dt.date, end: dt.date) -> str:
    return f"SELECT CAST(range AS DATE) AS day FROM range(DATE '{start}', DATE '{end}' + 1, INTERVAL 1 DAY)"


def test_the_generated_workspace_is_big_enough(reader):
    assert reader.frame("SELECT count(*) AS n FROM events")["n"].item() >= 100_000


def expected_daily_kpis(reader, start: dt.date, end: dt.date) -> pl.DataFrame:
    return reader.frame(
        f"""
        WITH ev AS ({EVENTS}),
        active AS (SELECT DISTINCT user_id, day FROM ev WHERE event IN {ACTIVE}),
        firsts AS (SELECT user_id, min(day) AS day FROM ev GROUP BY user_id),
        cal AS ({calendar(start, end)}),
        rolling AS (
            SELECT c.day,
                   count(DISTINCT a.user_id) FILTER (WHERE a.day = c.day) AS dau,
                   count(DISTINCT a.user_id) FILTER (WHERE a.day >= c.day - 6) AS wau,
                   count(DISTINCT a.user_id) AS mau
            FROM cal AS c LEFT JOIN active AS a ON a.day BETWEEN c.day - 29 AND c.day
            GROUP BY c.day
        ),
        totals AS (SELECT day, count(*) AS events, sum(revenue) AS revenue FROM ev GROUP BY day),
        newcomers AS (SELECT day, count(*) AS new_users FROM firsts GROUP BY day)
        SELECT r.day, r.dau, r.wau, r.mau,
               CASE WHEN r.mau > 0 THEN r.dau / r.mau END AS stickiness,
               coalesce(n.new_users, 0) AS new_users, coalesce(t.events, 0) AS events,
               coalesce(t.revenue, 0) AS revenue,
               CASE WHEN r.dau > 0 THEN coalesce(t.revenue, 0) / r.dau END AS arpu
        FROM rolling AS r LEFT JOIN totals AS t USING (day) LEFT JOIN newcomers AS n USING (day)
        ORDER BY r.day
        """
    )


def test_daily_kpis_match_distinct_counts_over_range_joins(reader, last_day):
    start = reader.frame(f"SELECT min(day) AS d FROM ({EVENTS})")["d"].item()
    end = last_day + dt.timedelta(days=3)  # three days past the data: the kpi_window path
    assert_frame_equal(metrics.daily_kpis(reader, Period(start, end)), expected_daily_kpis(reader, start, end))


@pytest.mark.parametrize("method", ["kpi_rolling", "kpi_rolling_masks"])
@pytest.mark.parametrize(
    ("offset", "days"),
    [(-3, 1), (-3, 9), (0, 35), (40, 1), (40, 2), (57, 35), (110, 1), (116, 10), (120, 4)],
    ids=lambda v: str(v),
)
def test_both_ways_of_counting_rolling_users_match_the_oracle(reader, last_day, method, offset, days, monkeypatch):
    """kpi_window.sql recomputes kpi_daily at ingest (one day when a day's export is added) and
    the days outside the loaded range. Both ways of counting rolling users, over spans at the
    first days, in the middle, at 35 days (the most a mask holds) and past the last day."""
    first = reader.frame(f"SELECT min(day) AS d FROM ({EVENTS})")["d"].item()
    assert (last_day - first).days == 120
    start = first + dt.timedelta(days=offset)
    end = start + dt.timedelta(days=days - 1)
    monkeypatch.setattr(
        metrics.kpis, "sql_text", lambda name: sql_text(method if name.startswith("kpi_rolling") else name)
    )
    got = reader.frame(metrics.kpis.kpi_window_sql(start, end), start=start, end=end)
    expected = expected_daily_kpis(reader, start, end).select(got.columns)
    assert_frame_equal(got, expected, check_dtypes=False)


@pytest.mark.parametrize(
    "period", [PERIOD, Period(dt.date(2026, 3, 1), dt.date(2026, 4, 4))], ids=["56 days", "35 days"]
)
def test_segmented_active_users_match(reader, segment_source, rolling_method, period):
    segment = Segment(filters=(("plan", "pro"), ("plan", "team")), breakdown="country")
    expected = reader.frame(
        f"""
        WITH ev AS ({EVENTS}),
        active AS (SELECT DISTINCT user_id, country, day FROM ev WHERE event IN {ACTIVE} AND plan IN ('pro', 'team')),
        groups AS (SELECT DISTINCT country FROM active WHERE day BETWEEN DATE '{period.start}' - 29 AND DATE '{period.end}'),
        cal AS (SELECT g.country, c.day FROM groups AS g CROSS JOIN ({calendar(period.start, period.end)}) AS c)
        SELECT c.day, c.country,
               count(DISTINCT a.user_id) FILTER (WHERE a.day = c.day) AS dau,
               count(DISTINCT a.user_id) FILTER (WHERE a.day >= c.day - 6) AS wau,
               count(DISTINCT a.user_id) AS mau
        FROM cal AS c LEFT JOIN active AS a
          ON a.country IS NOT DISTINCT FROM c.country AND a.day BETWEEN c.day - 29 AND c.day
        GROUP BY c.day, c.country
        ORDER BY c.country NULLS LAST, c.day
        """
    ).with_columns(metrics.base.ratio(pl.col("dau"), pl.col("mau")).alias("stickiness"))
    assert_frame_equal(metrics.active_users(reader, period, "day", segment), expected)


@pytest.mark.parametrize(
    ("grain", "segment", "dimension"),
    [
        ("week", Segment(breakdown="plan"), "plan"),
        ("month", Segment(filters=(("country", "US"),)), None),
        ("period", Segment(filters=(("platform", "ios"), ("platform", "web")), breakdown="country"), "country"),
    ],
)
def test_activity_matches(reader, grain, segment, dimension, segment_source):
    trunc = {
        "week": "date_trunc('week', day)",
        "month": "date_trunc('month', day)",
        "period": f"DATE '{PERIOD.start}'",
    }[grain]
    where = (
        " AND ".join(
            f"{d} IN ({', '.join(repr(v) for v in values)})" for d, values in segment.filters_by_dimension().items()
        )
        or "true"
    )
    group = dimension or "NULL::VARCHAR"
    expected = reader.frame(
        f"""
        WITH ev AS ({EVENTS}),
        firsts AS (SELECT user_id, min(day) AS first_day FROM ev GROUP BY user_id),
        seg AS (SELECT *, CAST({trunc} AS DATE) AS bucket, {group} AS grp FROM ev
                WHERE {where} AND day BETWEEN DATE '{PERIOD.start}' AND DATE '{PERIOD.end}'),
        buckets AS (SELECT CAST({trunc} AS DATE) AS bucket, count(*) AS days FROM ({calendar(PERIOD.start, PERIOD.end)}) GROUP BY 1),
        groups AS (SELECT DISTINCT grp FROM seg)
        SELECT b.bucket AS day, g.grp,
               (SELECT count(*) FROM seg AS s WHERE s.bucket = b.bucket AND s.grp IS NOT DISTINCT FROM g.grp) AS events,
               (SELECT coalesce(sum(revenue), 0) FROM seg AS s WHERE s.bucket = b.bucket AND s.grp IS NOT DISTINCT FROM g.grp) AS revenue,
               (SELECT count(DISTINCT user_id) FROM seg AS s
                WHERE s.bucket = b.bucket AND s.grp IS NOT DISTINCT FROM g.grp AND s.event IN {ACTIVE}) AS active_users,
               (SELECT count(DISTINCT s.user_id) FROM seg AS s JOIN firsts AS f ON f.user_id = s.user_id AND f.first_day = s.day
                WHERE s.bucket = b.bucket AND s.grp IS NOT DISTINCT FROM g.grp) AS new_users,
               b.days
        FROM buckets AS b CROSS JOIN groups AS g
        ORDER BY g.grp NULLS LAST, b.bucket
        """
    )
    expected = expected.with_columns(metrics.base.ratio(pl.col("revenue"), pl.col("active_users")).alias("arpu"))
    columns = [
        "day",
        *([dimension] if dimension else []),
        "events",
        "revenue",
        "active_users",
        "new_users",
        "arpu",
        "days",
    ]
    expected = expected.rename({"grp": dimension} if dimension else {}).select(columns)
    assert_frame_equal(metrics.activity(reader, PERIOD, grain, segment), expected)


@pytest.mark.parametrize(
    ("segment", "where", "grp"),
    [
        (Segment(), "true", "NULL::VARCHAR"),
        (Segment(filters=(("country", "US"), ("country", "DE")), breakdown="plan"), "country IN ('US', 'DE')", "plan"),
    ],
    ids=["all", "by plan, two countries"],
)
def test_lifecycle_matches_set_logic(reader, segment_source, rolling_method, cohort_source, segment, where, grp):
    """A user's first week is their first event ever; their active weeks are the segment's."""
    first_week = PERIOD.start - dt.timedelta(days=PERIOD.start.weekday())
    expected = reader.frame(
        f"""
        WITH ev AS ({EVENTS}),
        firsts AS (SELECT user_id, CAST(date_trunc('week', min(day)) AS DATE) AS first_week FROM ev GROUP BY user_id),
        weeks AS (SELECT DISTINCT {grp} AS grp, user_id, CAST(date_trunc('week', day) AS DATE) AS week
                  FROM ev WHERE event IN {ACTIVE} AND {where}),
        grps AS (SELECT DISTINCT grp FROM weeks WHERE week BETWEEN DATE '{first_week}' - 7 AND DATE '{PERIOD.end}'),
        cal AS (SELECT DISTINCT g.grp, CAST(date_trunc('week', c.day) AS DATE) AS week
                FROM ({calendar(PERIOD.start, PERIOD.end)}) AS c CROSS JOIN grps AS g)
        SELECT c.week, c.grp,
            (SELECT count(*) FROM weeks w JOIN firsts f USING (user_id)
               WHERE w.grp IS NOT DISTINCT FROM c.grp AND w.week = c.week AND f.first_week = c.week) AS new,
            (SELECT count(*) FROM weeks w JOIN firsts f USING (user_id)
               WHERE w.grp IS NOT DISTINCT FROM c.grp AND w.week = c.week AND f.first_week < c.week
               AND EXISTS (SELECT 1 FROM weeks p WHERE p.grp IS NOT DISTINCT FROM c.grp AND p.user_id = w.user_id
                           AND p.week = c.week - 7)) AS returning,
            (SELECT count(*) FROM weeks w JOIN firsts f USING (user_id)
               WHERE w.grp IS NOT DISTINCT FROM c.grp AND w.week = c.week AND f.first_week < c.week
               AND NOT EXISTS (SELECT 1 FROM weeks p WHERE p.grp IS NOT DISTINCT FROM c.grp AND p.user_id = w.user_id
                               AND p.week = c.week - 7)) AS resurrecting,
            -(SELECT count(*) FROM weeks p WHERE p.grp IS NOT DISTINCT FROM c.grp AND p.week = c.week - 7
               AND NOT EXISTS (SELECT 1 FROM weeks w WHERE w.grp IS NOT DISTINCT FROM c.grp AND w.user_id = p.user_id
                               AND w.week = c.week)) AS dormant,
            true AS complete
        FROM cal AS c ORDER BY c.grp NULLS LAST, c.week
        """
    )
    if segment.breakdown:
        expected = expected.rename({"grp": segment.breakdown}).select("week", segment.breakdown, *expected.columns[2:])
        assert expected[segment.breakdown].n_unique() > 1
    else:
        expected = expected.drop("grp")
    assert_frame_equal(metrics.lifecycle(reader, PERIOD, segment), expected)


def test_weekly_retention_matches_explicit_joins(reader, last_day, cohort_source):
    expected = reader.frame(
        f"""
        WITH ev AS ({EVENTS}),
        cohort AS (SELECT user_id, CAST(date_trunc('week', min(day)) AS DATE) AS cohort_week FROM ev GROUP BY user_id),
        weeks AS (SELECT DISTINCT user_id, CAST(date_trunc('week', day) AS DATE) AS week FROM ev WHERE event IN {ACTIVE}),
        cohorts AS (SELECT DISTINCT CAST(date_trunc('week', day) AS DATE) AS cohort_week FROM ({calendar(PERIOD.start, PERIOD.end)})),
        grid AS (
            SELECT c.cohort_week, k.k FROM cohorts AS c
            CROSS JOIN (SELECT CAST(range AS INTEGER) AS k FROM range(0, 60)) AS k
            WHERE c.cohort_week + 7 * k.k <= DATE '{last_day}'
        )
        SELECT g.cohort_week,
               (SELECT count(*) FROM cohort AS c WHERE c.cohort_week = g.cohort_week) AS size,
               g.k AS week,
               (SELECT count(*) FROM cohort AS c WHERE c.cohort_week = g.cohort_week
                  AND EXISTS (SELECT 1 FROM weeks AS w WHERE w.user_id = c.user_id AND w.week = g.cohort_week + 7 * g.k)) AS users_on,
               (SELECT count(*) FROM cohort AS c WHERE c.cohort_week = g.cohort_week
                  AND EXISTS (SELECT 1 FROM weeks AS w WHERE w.user_id = c.user_id AND w.week >= g.cohort_week + 7 * g.k)) AS users_on_or_after
        FROM grid AS g ORDER BY g.cohort_week, g.k
        """
    ).with_columns(
        metrics.base.ratio(pl.col("users_on"), pl.col("size")).alias("share_on"),
        metrics.base.ratio(pl.col("users_on_or_after"), pl.col("size")).alias("share_on_or_after"),
    )
    columns = ["cohort_week", "size", "week", "users_on", "share_on", "users_on_or_after", "share_on_or_after"]
    expected = expected.select(columns).with_columns(pl.col("week").cast(pl.Int64))
    assert_frame_equal(metrics.weekly_retention(reader, PERIOD), expected)


@pytest.mark.parametrize(("grain", "breakdown"), [("week", None), ("period", "platform")])
def test_day_n_retention_matches(reader, last_day, grain, breakdown, segment_source, cohort_source):
    trunc = "date_trunc('week', f.first_day)" if grain == "week" else f"DATE '{PERIOD.start}'"
    group = f"e.{breakdown}" if breakdown else "NULL::VARCHAR"
    same_group = f"e.{breakdown} IS NOT DISTINCT FROM c.grp" if breakdown else "true"
    expected = reader.frame(
        f"""
        WITH ev AS ({EVENTS}),
        firsts AS (SELECT user_id, min(day) AS first_day FROM ev GROUP BY user_id),
        cohort AS (
            SELECT DISTINCT f.user_id, f.first_day, CAST({trunc} AS DATE) AS bucket, {group} AS grp
            FROM firsts AS f JOIN ev AS e ON e.user_id = f.user_id AND e.day = f.first_day
            WHERE f.first_day BETWEEN DATE '{PERIOD.start}' AND DATE '{PERIOD.end}'
        ),
        n AS (SELECT unnest([1, 7, 30]) AS day_n)
        SELECT c.bucket AS day, c.grp, n.day_n,
               count(*) AS users,
               count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM ev AS e WHERE e.user_id = c.user_id AND e.day = c.first_day + n.day_n
                   AND e.event IN {ACTIVE} AND {same_group})) AS retained
        FROM cohort AS c CROSS JOIN n
        WHERE c.first_day + n.day_n <= DATE '{last_day}'
        GROUP BY ALL ORDER BY c.grp NULLS LAST, day, n.day_n
        """
    ).with_columns(
        pl.col("day_n").cast(pl.Int64), metrics.base.ratio(pl.col("retained"), pl.col("users")).alias("rate")
    )
    expected = expected.rename({"grp": breakdown}) if breakdown else expected.drop("grp")
    got = metrics.day_retention(reader, PERIOD, (1, 7, 30), grain, Segment(breakdown=breakdown))
    assert_frame_equal(got, expected.select(got.columns))


# --- funnels: a Python reference over sorted events ---------------------------------------------


def local_day(moment: dt.datetime, timezone: str = GENERATED_TIMEZONE) -> dt.date:
    return moment.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(timezone)).date()


def user_events(reader, steps: list[str]) -> dict[str, list[tuple[dt.datetime, str]]]:
    """Each user's events of the steps, ordered by time and, at the same instant, step position."""
    frame = reader.frame(
        "SELECT user_id, event_time, event FROM events WHERE list_contains($steps, event)", steps=steps
    )
    position = {name: steps.index(name) for name in steps}
    by_user: dict[str, list[tuple[dt.datetime, str]]] = {}
    for user, moment, event in frame.iter_rows():
        by_user.setdefault(user, []).append((moment, event))
    return {u: sorted(evs, key=lambda e: (e[0], position[e[1]])) for u, evs in by_user.items()}


def greedy_attempt(evs, start: int, steps: list[str], window: dt.timedelta) -> list[dt.datetime]:
    """The times an attempt starting at evs[start] reaches, taking for each step the earliest
    event of it at or after the previous step's time that the attempt has not used yet (an event
    at the same instant counts whichever way the export listed it)."""
    chain, used = [evs[start][0]], {start}
    for step in steps[1:]:
        found = next(
            (k for k in range(len(evs)) if k not in used and evs[k][1] == step and evs[k][0] >= chain[-1]), None
        )
        if found is None or evs[found][0] > chain[0] + window:
            break
        chain.append(evs[found][0])
        used.add(found)
    return chain


def best_depth(evs, used: frozenset[int], step: int, steps: list[str], deadline: dt.datetime) -> int:
    """Exhaustive: the most steps any choice of distinct events, each at or after the one before,
    reaches once the events ``used`` (in step order) are done."""
    if step == len(steps):
        return step
    best = step
    last = max(evs[k][0] for k in used)  # the previous step's time: steps never go back in time
    for k in range(len(evs)):
        if k not in used and evs[k][1] == steps[step] and last <= evs[k][0] <= deadline:
            best = max(best, best_depth(evs, used | {k}, step + 1, steps, deadline))
    return best


def reference_users(reader, steps, window_days, period, by_day=False, timezone=GENERATED_TIMEZONE):
    """(user, attempt day or None) -> times of the earliest attempt that got furthest."""
    window = dt.timedelta(days=window_days)
    result: dict[tuple[str, dt.date | None], list[dt.datetime]] = {}
    for user, evs in user_events(reader, steps).items():
        for start, (moment, event) in enumerate(evs):
            if event != steps[0] or not period.contains(local_day(moment, timezone)):
                continue
            key = (user, local_day(moment, timezone) if by_day else None)
            chain = greedy_attempt(evs, start, steps, window)
            if len(chain) > len(result.get(key, [])):  # attempts in time order: ties keep the earliest
                result[key] = chain
    return result


def expected_funnel(chains: dict, steps: list[str]) -> pl.DataFrame:
    """The funnel frame's counts and medians from the reference's chains."""
    rows = []
    for index, event in enumerate(steps):
        reached = [c for c in chains.values() if len(c) > index]
        seconds = [(c[index] - c[index - 1]).total_seconds() for c in reached] if index else []
        median = statistics.median(seconds) if seconds else None
        rows.append({"step": index + 1, "event": event, "users": len(reached), "median_seconds": median})
    return pl.DataFrame(
        rows, schema={"step": pl.Int64, "event": pl.String, "users": pl.Int64, "median_seconds": pl.Float64}
    )


@pytest.mark.parametrize(
    ("steps", "window_days"),
    [
        (["signup", "create_report", "share_report"], 7),
        (["login", "login", "purchase"], 1),
        (["view_dashboard", "create_report"], 3),
    ],
)
def test_funnel_matches_a_python_reference(reader, steps, window_days):
    chains = reference_users(reader, steps, window_days, PERIOD)
    expected = expected_funnel(chains, steps)
    got = metrics.funnel(reader, steps, window_days, PERIOD)
    assert_frame_equal(got.select("step", "event", "users", "median_seconds"), expected)
    first = expected["users"][0]
    assert got["conversion"].to_list() == pytest.approx([u / first for u in expected["users"]])


@pytest.mark.parametrize("breakdown", [None, "platform"])
def test_funnels_over_two_periods_match_each_period_on_its_own_and_the_reference(reader, breakdown):
    steps, window = ["signup", "create_report", "share_report"], 7
    periods = (PERIOD, PERIOD.previous(), Period(dt.date(2026, 3, 10), dt.date(2026, 3, 12)))
    together = metrics.funnels(reader, steps, window, periods, Segment(breakdown=breakdown))
    for period, got in zip(periods, together, strict=True):
        assert_frame_equal(got, metrics.funnel(reader, steps, window, period, Segment(breakdown=breakdown)))
        if breakdown is None:
            expected = expected_funnel(reference_users(reader, steps, window, period), steps)
            assert_frame_equal(got.select("step", "event", "users", "median_seconds"), expected)


@pytest.fixture(scope="module")
def tied_reader(tmp_path_factory, workspace_factory):
    """300 users whose events fall on 10-minute marks over three days: many events share an
    instant, and step names repeat."""
    rng = np.random.default_rng(5)
    rows = 6_000
    start = np.datetime64("2026-03-01T00:00:00", "s").astype(np.int64)
    moments = start + rng.integers(0, 3 * 144, rows) * 600
    frame = pl.DataFrame(
        {
            "event_time": (moments * 1_000_000).astype("datetime64[us]"),
            "user_id": np.char.add("u", rng.integers(0, 300, rows).astype(str)),
            "event": rng.choice(np.array(["a", "b", "c"]), rows),
        }
    )
    ws = workspace_factory(tmp_path_factory.mktemp("tied") / "workspace")
    ws.load_frame(frame)
    yield ws.reader()
    ws.close()


@pytest.mark.parametrize(
    ("steps", "window_days"), [(["a", "b", "a"], 1), (["a", "a", "b"], 0.5), (["b", "c", "a", "c"], 2)]
)
def test_funnel_with_ties_and_repeated_steps_matches_the_reference(tied_reader, steps, window_days):
    period = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    chains = reference_users(tied_reader, steps, window_days, period, timezone="UTC")
    got = metrics.funnel(tied_reader, steps, window_days, period)
    assert_frame_equal(got.select("step", "event", "users", "median_seconds"), expected_funnel(chains, steps))
    window = dt.timedelta(days=window_days)
    for evs in user_events(tied_reader, steps).values():
        for start, (moment, event) in enumerate(evs):
            if event == steps[0]:
                assert len(greedy_attempt(evs, start, steps, window)) == best_depth(
                    evs, frozenset([start]), 1, steps, moment + window
                )


def test_greedy_reference_reaches_what_an_exhaustive_search_reaches(reader):
    """The greedy choice (earliest next event) is exact: checked by brute force for 300 users."""
    steps, window = ["login", "create_report", "login", "share_report"], dt.timedelta(days=3)
    for user, evs in list(user_events(reader, steps).items())[:300]:
        for start, (moment, event) in enumerate(evs):
            if event == steps[0]:
                assert len(greedy_attempt(evs, start, steps, window)) == best_depth(
                    evs, frozenset([start]), 1, steps, moment + window
                ), user


# --- adoption and engagement -----------------------------------------------------------------------


def adoption_by_hand(reader, period: Period, feature: str, where: str = "plan = 'pro'") -> pl.DataFrame:
    return reader.frame(
        f"""
        WITH ev AS ({EVENTS} WHERE {where}),
        cal AS ({calendar(period.start, period.end)}),
        active AS (SELECT DISTINCT user_id, day FROM ev WHERE event IN {ACTIVE}),
        feature AS (SELECT DISTINCT user_id, day FROM ev WHERE event = $feature),
        mau AS (SELECT c.day, a.user_id FROM cal AS c JOIN active AS a ON a.day BETWEEN c.day - 29 AND c.day GROUP BY ALL),
        adopters AS (SELECT c.day, f.user_id FROM cal AS c JOIN feature AS f ON f.day BETWEEN c.day - 29 AND c.day GROUP BY ALL)
        SELECT c.day,
               (SELECT count(*) FROM adopters AS a WHERE a.day = c.day
                  AND EXISTS (SELECT 1 FROM mau AS m WHERE m.day = c.day AND m.user_id = a.user_id)) AS adopters,
               (SELECT count(*) FROM mau AS m WHERE m.day = c.day) AS mau
        FROM cal AS c ORDER BY c.day
        """,
        feature=feature,
    ).with_columns(metrics.base.ratio(pl.col("adopters"), pl.col("mau")).alias("adoption"))


def test_feature_adoption_matches(reader, segment_source, rolling_method):
    period = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert metrics.base.rolling_sql("q", period.start, period.end) == ("q_masks" if rolling_method == "masks" else "q")
    got = metrics.feature_adoption(reader, "share_report", period, Segment(filters=(("plan", "pro"),)))
    assert_frame_equal(got, adoption_by_hand(reader, period, "share_report"))


@pytest.mark.parametrize(
    "features",
    [
        ["share_report", "create_report"],  # activity: adopters from the features' own days
        ["share_report", "email_open", "no_such_event"],  # not activity: adopters checked against MAU
    ],
)
@pytest.mark.parametrize("filtered", [True, False])
def test_several_features_in_one_call_match_each_by_hand(
    reader, segment_source, features, filtered, rolling_method, feature_source
):
    period = Period(dt.date(2026, 2, 25), dt.date(2026, 3, 31))  # 35 days: the longest a mask holds
    assert metrics.base.rolling_sql("q", period.start, period.end) == ("q_masks" if rolling_method == "masks" else "q")
    segment = Segment(filters=(("plan", "pro"),)) if filtered else Segment()
    got = metrics.features_adoption(reader, features, period, segment)
    assert got["event"].unique(maintain_order=True).to_list() == features
    for feature in features:
        expected = adoption_by_hand(reader, period, feature, "plan = 'pro'" if filtered else "true")
        assert_frame_equal(got.filter(pl.col("event") == feature).drop("event"), expected)
        assert expected["adopters"].sum() > 0 or feature == "no_such_event"


def test_several_features_broken_down_match_one_at_a_time(reader, segment_source, rolling_method):
    period = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    segment = Segment(breakdown="platform")
    got = metrics.features_adoption(reader, ["share_report", "create_report"], period, segment)
    for feature in ("share_report", "create_report"):
        alone = metrics.feature_adoption(reader, feature, period, segment)
        assert_frame_equal(got.filter(pl.col("event") == feature).drop("event"), alone)
        by_hand = adoption_by_hand(reader, period, feature, "platform = 'ios'")
        assert_frame_equal(alone.filter(pl.col("platform") == "ios").drop("platform"), by_hand)


def test_engagement_matrix_matches(reader):
    as_of = dt.date(2026, 3, 31)
    expected = reader.frame(
        f"""
        WITH ev AS ({EVENTS} WHERE day BETWEEN DATE '{as_of}' - 29 AND DATE '{as_of}'),
        monthly AS (SELECT DISTINCT user_id FROM ev WHERE event IN {ACTIVE}),
        used AS (SELECT event, user_id, count(DISTINCT day) AS days, count(*) AS n FROM ev
                 WHERE user_id IN (SELECT user_id FROM monthly) GROUP BY ALL)
        SELECT event, count(*) AS adopters, (SELECT count(*) FROM monthly) AS mau,
               count(*) / (SELECT count(*) FROM monthly) AS adoption,
               sum(days)::BIGINT AS days_used, sum(days) / count(*) AS frequency, sum(n)::BIGINT AS events
        FROM used GROUP BY event ORDER BY adoption DESC, event
        """
    )
    assert_frame_equal(metrics.engagement_matrix(reader, as_of), expected)


@pytest.mark.parametrize("as_of", [dt.date(2026, 3, 31), "the last day"])
def test_engagement_matrix_of_activity_matches(reader, last_day, feature_source, as_of):
    """Listed features that are all activity: adopters need no check against the MAU, and without
    a segment the matrix reads the feature table."""
    as_of = last_day if as_of == "the last day" else as_of
    features = ["share_report", "create_report", "purchase"]
    expected = reader.frame(
        f"""
        WITH ev AS ({EVENTS} WHERE day BETWEEN DATE '{as_of}' - 29 AND DATE '{as_of}'),
        monthly AS (SELECT DISTINCT user_id FROM ev WHERE event IN {ACTIVE}),
        used AS (SELECT event, user_id, count(DISTINCT day) AS days, count(*) AS n FROM ev
                 WHERE event IN ('share_report', 'create_report', 'purchase') GROUP BY ALL)
        SELECT event, count(*) AS adopters, (SELECT count(*) FROM monthly) AS mau,
               count(*) / (SELECT count(*) FROM monthly) AS adoption,
               sum(days)::BIGINT AS days_used, sum(days) / count(*) AS frequency, sum(n)::BIGINT AS events
        FROM used GROUP BY event ORDER BY adoption DESC, event
        """
    )
    assert expected.height == 3
    assert_frame_equal(metrics.engagement_matrix(reader, as_of, features), expected)


# --- custom metrics --------------------------------------------------------------------------------

DEFINITIONS = parse_definitions(
    {
        "reports": {"type": "count", "event": "create_report"},
        "sharers": {"type": "unique_users", "events": ["share_report", "create_report"]},
        "purchases_revenue": {"type": "sum_revenue", "event": "purchase"},
        "revenue_per_sharer": {"type": "ratio", "numerator": "purchases_revenue", "denominator": "sharers"},
        "activation": {"type": "funnel", "steps": ["signup", "create_report"], "window_days": 7},
        "week1": {"type": "retention", "week": 1},
        "week2_reports": {"type": "retention", "week": 2, "active_events": ["create_report"]},
    }
)


def test_custom_event_metrics_per_week_match(reader):
    got = {
        key: metrics.metric_series(reader, key, PERIOD, "week", DEFINITIONS)
        for key in ("reports", "sharers", "purchases_revenue", "revenue_per_sharer")
    }
    expected = reader.frame(
        f"""
        WITH ev AS ({EVENTS} WHERE day BETWEEN DATE '{PERIOD.start}' AND DATE '{PERIOD.end}')
        SELECT CAST(date_trunc('week', day) AS DATE) AS day,
               count(*) FILTER (WHERE event = 'create_report')::DOUBLE AS reports,
               count(DISTINCT user_id) FILTER (WHERE event IN ('share_report', 'create_report'))::DOUBLE AS sharers,
               sum(revenue) FILTER (WHERE event = 'purchase') AS purchases_revenue
        FROM ev GROUP BY 1 ORDER BY 1
        """
    ).with_columns((pl.col("purchases_revenue") / pl.col("sharers")).alias("revenue_per_sharer"))
    for key, frame in got.items():
        assert_frame_equal(frame, expected.select("day", pl.col(key).alias("value")))


def test_activation_per_day_matches_the_funnel_reference(reader, last_day):
    chains = reference_users(reader, ["signup", "create_report"], 7, PERIOD, by_day=True)
    per_day: dict[dt.date, list[int]] = {}
    for (_, attempt_day), chain in chains.items():
        per_day.setdefault(attempt_day, []).append(len(chain))
    cutoff = last_day - dt.timedelta(days=7)
    values = []
    for day in pl.date_range(PERIOD.start, PERIOD.end, "1d", eager=True):
        reached = per_day.get(day, [])
        values.append(sum(1 for r in reached if r == 2) / len(reached) if reached and day <= cutoff else None)
    got = metrics.metric_series(reader, "activation", PERIOD, "day", DEFINITIONS)
    assert got["value"].to_list() == pytest.approx(values, nan_ok=True)
    assert got["value"].null_count() == 0  # PERIOD ends long enough before the data's end


@pytest.mark.parametrize(
    ("key", "week", "events"), [("week1", 1, GENERATED_ACTIVE), ("week2_reports", 2, ("create_report",))]
)
def test_retention_metric_per_week_matches(reader, last_day, key, week, events):
    back = "(" + ", ".join(f"'{e}'" for e in events) + ")"
    expected = reader.frame(
        f"""
        WITH ev AS ({EVENTS}),
        firsts AS (SELECT user_id, min(day) AS first_day FROM ev GROUP BY user_id),
        eligible AS (SELECT * FROM firsts WHERE first_day BETWEEN DATE '{PERIOD.start}' AND DATE '{PERIOD.end}'
                       AND first_day + {7 * week + 6} <= DATE '{last_day}')
        SELECT CAST(date_trunc('week', first_day) AS DATE) AS day,
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM ev AS e WHERE e.user_id = f.user_id AND e.event IN {back}
                   AND e.day BETWEEN f.first_day + {7 * week} AND f.first_day + {7 * week + 6})) / count(*) AS value
        FROM eligible AS f GROUP BY 1 ORDER BY 1
        """
    )
    assert_frame_equal(metrics.metric_series(reader, key, PERIOD, "week", DEFINITIONS), expected)


# --- feedback ---------------------------------------------------------------------------------------


def test_nps_and_csat_match(reader):
    local = f"CAST((submitted_at AT TIME ZONE 'UTC') AT TIME ZONE '{GENERATED_TIMEZONE}' AS DATE)"
    period = Period(dt.date(2026, 1, 1), dt.date(2026, 4, 30))
    answers = (
        f"SELECT CAST(date_trunc('month', {local}) AS DATE) AS day, score, scale FROM feedback "
        f"WHERE {local} BETWEEN DATE '{period.start}' AND DATE '{period.end}'"
    )
    nps = reader.frame(
        f"""SELECT day, count(*) AS responses, count(*) FILTER (WHERE score >= 9) AS promoters,
                   count(*) FILTER (WHERE score BETWEEN 7 AND 8) AS passives, count(*) FILTER (WHERE score <= 6) AS detractors,
                   100.0 * (count(*) FILTER (WHERE score >= 9) - count(*) FILTER (WHERE score <= 6)) / count(*) AS nps
            FROM ({answers}) WHERE scale = 'nps' GROUP BY day ORDER BY day"""
    )
    assert_frame_equal(metrics.nps(reader, period, "month"), nps)
    csat = reader.frame(
        f"""SELECT day, count(*) AS responses, count(*) FILTER (WHERE score >= 4) AS satisfied,
                   count(*) FILTER (WHERE score >= 4) / count(*) AS csat
            FROM ({answers}) WHERE scale = 'csat' GROUP BY day ORDER BY day"""
    )
    assert_frame_equal(metrics.csat(reader, period, "month"), csat)


def test_daily_kpis_kept_a_day_at_a_time_match_the_oracle(tmp_path, workspace_factory, events_generator, monkeypatch):
    """The daily export: each day's file alone sets that day's KPIs from each user's last active
    day (kpi_last_day.sql); a second file for the last day and a late one for an older day too."""
    from pmkit.store import Store, Writer

    ran: list[str] = []
    run = Writer.run
    monkeypatch.setattr(Writer, "run", lambda self, name, *a, **k: (ran.append(name), run(self, name, *a, **k))[1])
    ws = workspace_factory(tmp_path / "ws")
    ws.configure(timezone=GENERATED_TIMEZONE, active_events=GENERATED_ACTIVE)
    events = events_generator(800, seed=5, days=70).with_columns(
        pl.col("event_time").dt.replace_time_zone("UTC").dt.convert_time_zone(GENERATED_TIMEZONE).dt.date().alias("d")
    )
    days = sorted(events["d"].unique())
    bulk, daily, late = days[:-12], days[-12:], days[-40]
    ws.load_frame(events.filter(pl.col("d").is_in(bulk) & (pl.col("d") != late)).drop("d"))
    with Store(ws.config.store_dir).writer() as writer:  # as a pmkit from before last_active left it
        writer.con.execute("UPDATE users SET last_active = NULL")
        writer.con.execute("DELETE FROM meta WHERE key = $1", [metrics.cohorts.META])
    ran.clear()
    for day in daily:
        today = events.filter(pl.col("d") == day).drop("d")
        ws.load_frame(today.head(today.height // 2))
        # Not in the older store's first load, whose users' last active days are unknown.
        assert ran.count("kpi_last_day") == (day != daily[0]), day
        ran.clear()
        ws.load_frame(today.tail(today.height - today.height // 2))  # the last day again
        assert ran.count("kpi_last_day") == 1, day
        ran.clear()
    ws.load_frame(events.filter(pl.col("d") == late).drop("d"))  # an older day: the 30 after it change
    assert "kpi_last_day" not in ran
    reader = ws.reader()
    period = Period(days[0], days[-1])
    assert_frame_equal(metrics.daily_kpis(reader, period), expected_daily_kpis(reader, days[0], days[-1]))


def test_every_metric_results_columns_besides_the_breakdown_are_breakdown_clashes(reader):
    """A dimension named like a result column (value, step, users) made the page's breakdown an
    error; the pages leave out the names in metrics.BREAKDOWN_CLASHES, which must hold every
    column a metric's result has."""
    by = Segment(breakdown="plan")
    results = [
        metrics.active_users(reader, PERIOD, "day", by),
        metrics.activity(reader, PERIOD, "week", by),
        metrics.lifecycle(reader, PERIOD, by),
        metrics.weekly_retention(reader, PERIOD, by),
        metrics.day_retention(reader, PERIOD, (1, 7), "day", by),
        metrics.funnel(reader, ["signup", "create_report"], 7, PERIOD, by),
        metrics.features_adoption(reader, ["share_report"], PERIOD, by),
        metrics.feature_adoption(reader, "share_report", PERIOD, by),
        metrics.engagement_matrix(reader, PERIOD.end, ["share_report"], by),
        metrics.metric_series(reader, "dau", PERIOD, "week", segment=by),
        metrics.compare_metric(reader, "dau", PERIOD, ("previous_period", "previous_week"), segment=by),
    ]
    for result in results:
        assert set(result.columns) - {"plan"} <= metrics.BREAKDOWN_CLASHES, result.columns
