"""Metric speed: every pmkit.metrics function on demo workspaces of 1M and 10M events.

    python bench/bench_metrics.py [--events 1000000 10000000] [--dense] [--runs 5] [--record]

Each workspace is written by ``pmkit.demo.write_demo`` (182 days, "Reportly") and loaded with
``pmkit.ingest`` once, then cached in ``bench/data/metrics_<events>/`` for later runs (a cache
made before the ingest kept the dimension rollup gets it built here, and that build is timed).
Every metric runs over the whole range through one reader, as the app does; each row gives
min / median / max seconds of ``--runs`` calls.

The demo grows by adding users (10M events have ten times the users of 1M), so per-user rollups
grow with it. ``--dense`` adds a workspace that grows only the raw events: the 1M workspace's
files with every event repeated ten times within its day (``dense_workspace``), so the same users
are active on the same days. Set beside the 1M rows, it shows what grows with raw events and what
with active users. Prints a markdown section; ``--record`` also
writes it into bench/RESULTS.md under "Metrics".
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import polars as pl  # noqa: E402

from bench.common import BENCH_DATA, git_commit, machine, stats, timed, versions  # noqa: E402
from bench.results import publish  # noqa: E402
from pmkit import metrics, value_counts  # noqa: E402
from pmkit.config import load_config  # noqa: E402
from pmkit.definitions import load_definitions  # noqa: E402
from pmkit.demo import write_demo  # noqa: E402
from pmkit.ingest import ingest_inbox  # noqa: E402
from pmkit.metrics import Period, Segment, cohorts, feature_days, materialized  # noqa: E402
from pmkit.metrics.rollup import rebuild_dimension_rollup  # noqa: E402
from pmkit.store import Reader, Store  # noqa: E402

END = dt.date(2026, 6, 30)  # a fixed end date: the same files on every run
PRO = Segment(filters=(("plan", "pro"), ("plan", "enterprise")), breakdown="country")


def workspace(events: int) -> tuple[Path, dict[str, float]]:
    """The cached demo workspace of about ``events`` events, and the seconds its setup took."""
    root = BENCH_DATA / f"metrics_{events}"
    setup: dict[str, float] = {}
    config = load_config(root) if (root / "pmkit.toml").exists() else None
    if config is None or Store(config.store_dir).current_version() == 0:
        shutil.rmtree(root, ignore_errors=True)
        began = time.perf_counter()
        write_demo(root, events=events, end=END)
        setup["write demo files"] = time.perf_counter() - began
        setup["ingest (all files, one publish)"] = load_inbox(root)
    return root, setup | brought_up_to_date(root)


def load_inbox(root: Path) -> float:
    """Ingest the workspace's inbox in one publish; the seconds it took. Stops on a rejected file."""
    began = time.perf_counter()
    results = ingest_inbox(load_config(root))
    seconds = time.perf_counter() - began
    bad = [r.summary() for r in results if r.status == "rejected"]
    if bad:
        raise SystemExit(f"{root.name}: files rejected: " + "; ".join(bad))
    return seconds


def brought_up_to_date(root: Path) -> dict[str, float]:
    """Build what a cached workspace made by an older pmkit lacks (the daily metric series as
    they are kept now, the dimension rollup); the seconds each build took."""
    config = load_config(root)
    setup: dict[str, float] = {}
    store = Store(config.store_dir)
    definitions = load_definitions(config)
    with store.reader() as reader:
        ready = metrics.base.workspace_of(reader).dimension_rollup
        whole = metrics.base.workspace_of(reader).default_period()
        series_kept = {materialized.TABLE, materialized.FUNNEL_TABLE} <= set(reader.frame("SHOW ALL TABLES")["name"])
        series_kept = series_kept and all(
            materialized.read_series(reader, key, materialized.fingerprint(definitions, key), whole) is not None
            for key in materialized.materialised_keys(definitions)
        )
        counted = value_counts.read(reader, "event") is not None
        cohorts_kept = metrics.base.workspace_of(reader).cohort_rollup
        features_kept = metrics.base.workspace_of(reader).feature_rollup
    if not series_kept:  # a cache made before the ingest kept the daily metric series (as they are now)
        began = time.perf_counter()
        with store.writer() as writer:
            writer.rebuilt = True
            materialized.refresh(writer, definitions)
        setup["keep daily metric series (full)"] = time.perf_counter() - began
    if not counted:
        began = time.perf_counter()
        with store.writer() as writer:
            value_counts.fill(writer)
        setup["count event names and dimension values (full)"] = time.perf_counter() - began
    # Tables kept at ingest for unsegmented reads, counted whole when the cache predates them.
    for kept, refresh, what in (
        (cohorts_kept, cohorts.refresh, "count retention cohorts (full)"),
        (features_kept, feature_days.refresh, "count feature adopters (full)"),
    ):
        if not kept:
            began = time.perf_counter()
            with store.writer() as writer:
                writer.rebuilt = True
                refresh(writer)
            setup[what] = time.perf_counter() - began
    if not ready:
        began = time.perf_counter()
        with store.writer() as writer:
            rebuild_dimension_rollup(writer, config.timezone)
        setup["build dimension rollup (full)"] = time.perf_counter() - began
    return setup


def dense_workspace(base: int = 1_000_000, factor: int = 10) -> tuple[Path, dict[str, float]]:
    """``factor`` times the events of the ``base`` demo workspace, from the same users on the same
    days: each event is repeated within its day (its time moved by ``k`` x 601 s around the day,
    its id suffixed), so the per-user-day rollups keep their rows and the raw events multiply."""
    root = BENCH_DATA / f"metrics_{base}_x{factor}"
    setup: dict[str, float] = {}
    config = load_config(root) if (root / "pmkit.toml").exists() else None
    if config is None or Store(config.store_dir).current_version() == 0:
        source, _ = workspace(base)
        shutil.rmtree(root, ignore_errors=True)
        (root / "inbox").mkdir(parents=True)
        shutil.copy(source / "pmkit.toml", root / "pmkit.toml")
        began = time.perf_counter()
        for path in sorted((source / "archive").iterdir()):
            if path.name.startswith("events_"):
                _repeat_within_day(path, root / "inbox" / path.name, factor)
            else:
                shutil.copy(path, root / "inbox" / path.name)
        setup["write demo files"] = time.perf_counter() - began
        setup["ingest (all files, one publish)"] = load_inbox(root)
    return root, setup | brought_up_to_date(root)


def _repeat_within_day(source: Path, target: Path, factor: int) -> None:
    frame = pl.read_csv(source, infer_schema=False)
    when = pl.col("event_time").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC")
    day = when.dt.truncate("1d")
    second = when.dt.hour().cast(pl.Int64) * 3600 + when.dt.minute() * 60 + when.dt.second()
    copies = [
        frame.with_columns(
            (day + pl.duration(seconds=(second + k * 601) % 86400))
            .dt.strftime("%Y-%m-%dT%H:%M:%SZ")
            .alias("event_time"),
            (pl.col("event_id") + f"-{k}").alias("event_id") if k else pl.col("event_id"),
        )
        for k in range(factor)
    ]
    pl.concat(copies).write_csv(target)


def cases(reader: Reader, root: Path) -> list[tuple[str, Callable[[], object]]]:
    definitions = load_definitions(load_config(root))
    whole = metrics.base.workspace_of(reader).default_period()
    month = Period.last(28, whole.end)
    steps = ["signup", "create_report", "share_report"]
    dau = metrics.metric_series(reader, "dau", whole)
    return [
        ("daily_kpis (182 days)", lambda: metrics.daily_kpis(reader, whole)),
        ("active_users day, filter + breakdown", lambda: metrics.active_users(reader, whole, "day", PRO)),
        ("active_users week", lambda: metrics.active_users(reader, whole, "week")),
        (
            "activity month, breakdown by plan",
            lambda: metrics.activity(reader, whole, "month", Segment(breakdown="plan")),
        ),
        ("activity period (ARPU), filter", lambda: metrics.activity(reader, whole, "period", PRO)),
        ("lifecycle", lambda: metrics.lifecycle(reader, whole)),
        ("weekly_retention", lambda: metrics.weekly_retention(reader, whole)),
        (
            "weekly_retention, breakdown by platform",
            lambda: metrics.weekly_retention(reader, whole, Segment(breakdown="platform")),
        ),
        ("day_retention D1/D7/D30", lambda: metrics.day_retention(reader, whole)),
        ("funnel 3 steps, 7 days (raw events)", lambda: metrics.funnel(reader, steps, 7, whole)),
        (
            "funnel 3 steps, breakdown by country",
            lambda: metrics.funnel(reader, steps, 7, whole, Segment(breakdown="country")),
        ),
        ("funnel, last 28 days", lambda: metrics.funnel(reader, steps, 7, month)),
        ("feature_adoption share_report", lambda: metrics.feature_adoption(reader, "share_report", whole)),
        ("engagement_matrix (30 days)", lambda: metrics.engagement_matrix(reader)),
        ("nps week", lambda: metrics.nps(reader, whole, "week")),
        ("csat week", lambda: metrics.csat(reader, whole, "week")),
        (
            "metric_series activation (funnel) day",
            lambda: metrics.metric_series(reader, "activation", whole, "day", definitions),
        ),
        (
            "metric_series week1_retention week",
            lambda: metrics.metric_series(reader, "week1_retention", whole, "week", definitions),
        ),
        (
            "metric_series reports_shared week, filter",
            lambda: metrics.metric_series(reader, "reports_shared", whole, "week", definitions, PRO),
        ),
        ("metric_series mau month", lambda: metrics.metric_series(reader, "mau", whole, "month", definitions)),
        (
            "compare_metric arpu vs 3 periods",
            lambda: metrics.compare_metric(
                reader, "arpu", month, ("previous_period", "previous_week", "previous_4_weeks")
            ),
        ),
        ("anomalies + rolling_average on DAU", lambda: (metrics.anomalies(dau), metrics.rolling_average(dau))),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--dense", action="store_true", help="also 10x the 1M events from the same users")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--record", action="store_true", help="write the section into bench/RESULTS.md")
    args = parser.parse_args()
    lines = [
        f"Machine: {machine()}; {versions()}; commit {git_commit()}; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
    ]
    lines += ["| events | users | metric | min s | median s | max s |", "|---|---|---|---|---|---|"]
    roots = [lambda events=events: workspace(events) for events in args.events]
    if args.dense:
        roots.append(dense_workspace)
    for make in roots:
        root, setup = make()
        with Store(load_config(root).store_dir).reader() as reader:
            sizes = {
                table: reader.frame(f"SELECT count(*) AS n FROM {table}")["n"].item()
                for table in ("events", "users", "user_day", "user_event_day", "user_event_day_dims")
            }
            label = f"{sizes['events']:,} | {sizes['users']:,}"
            for name, seconds in setup.items():
                lines.append(f"| {label} | setup: {name} | {seconds:.2f} | | |")
            for name, fn in cases(reader, root):
                fn()  # warm: the first call reads the Parquet footers and the version file
                # Each run starts with the reader's memo empty: it would answer a repeat instantly.
                result = stats(timed(fn, args.runs, setup=reader.memo.clear))
                lines.append(
                    f"| {label} | {name} | {result['min']:.3f} | {result['median']:.3f} | {result['max']:.3f} |"
                )
                print(lines[-1], flush=True)
        lines.append(
            f"| {label} | rollup rows: "
            + ", ".join(f"{t} {n:,}" for t, n in sizes.items() if t not in ("events", "users"))
            + " | | | |"
        )
    publish("Metrics", "\n".join(lines), args.record)


if __name__ == "__main__":
    main()
