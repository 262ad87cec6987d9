"""Ingest speed: pmkit against bare DuckDB, Polars and a pandas loader on the same CSV.

    python bench/bench_ingest.py [--rows 1000000 10000000] [--runs 3]

Prints a markdown section and writes it into bench/RESULTS.md (replacing the previous one).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402
import polars as pl  # noqa: E402

from bench.common import BENCH_DATA, events_csv, git_commit, machine, stats, timed, versions  # noqa: E402
from bench.results import write_section  # noqa: E402
from pmkit.config import load_config  # noqa: E402
from pmkit.demo import DEMO_METRICS_TOML  # noqa: E402
from pmkit.ingest import ingest  # noqa: E402
from pmkit.store import COMPACT_EVERY  # noqa: E402


def fresh(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    # A workspace as a PM sets it up: metrics of their own, whose daily series the ingest keeps.
    (folder / "pmkit.toml").write_text(DEMO_METRICS_TOML, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--pandas-max-rows", type=int, default=1_000_000, help="the pandas loader is slow; skip it above this"
    )
    args = parser.parse_args()
    lines = [
        f"Machine: {machine()}; {versions()}; commit {git_commit()}; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "pmkit loads into a workspace with four metrics in pmkit.toml (a funnel, a count, unique users, a "
        "retention), so its times include keeping their daily series. Every loader reads the same CSV.",
        "",
    ]
    lines += [
        "| rows | loader | min s | median s | max s | ratio to DuckDB CTAS (median) | goal |",
        "|---|---|---|---|---|---|---|",
    ]
    work = Path(tempfile.mkdtemp(prefix="pmkit-bench-"))
    try:
        for rows in args.rows:
            source = events_csv(BENCH_DATA / f"events_{rows}.csv", rows)
            db = work / "bare.duckdb"
            results: dict[str, dict[str, float]] = {}

            def bare() -> None:
                with duckdb.connect(str(db)) as con:
                    con.execute(f"CREATE TABLE events AS SELECT * FROM read_csv('{source}')")

            results["DuckDB CREATE TABLE AS read_csv (file)"] = stats(
                timed(bare, args.runs, setup=lambda: db.unlink(missing_ok=True))
            )
            results["Polars read_csv (memory only)"] = stats(timed(lambda: pl.read_csv(source), args.runs))
            ws = work / "ws"
            results["pmkit ingest (validate, dedupe, Parquet, rollups, publish)"] = stats(
                timed(lambda: ingest([source], load_config(ws)), args.runs, setup=lambda: fresh(ws))
            )
            if rows <= args.pandas_max_rows:
                import pandas as pd

                lite = work / "pandas.sqlite"

                def pandas_loader() -> None:
                    frame = pd.read_csv(source)
                    with sqlite3.connect(lite) as con:
                        frame.to_sql("events", con, index=False, chunksize=100_000)

                results["pandas read_csv + to_sql (sqlite)"] = stats(
                    timed(pandas_loader, max(1, args.runs - 1), setup=lambda: lite.unlink(missing_ok=True))
                )
            # The daily export: each run adds the next new day (own events, own ids) on top of the
            # full store, against loading one such day alone. (Adding the same file again would
            # time the dedupe of an export already loaded, not a day's growth.) COMPACT_EVERY
            # adds in a row: exactly one of them compacts the store, so the mean holds its cost.
            adds = max(args.runs, COMPACT_EVERY)
            day_rows = max(rows // 100, 1000)
            first = dt.date(2026, 6, 30)  # the day after the generated range
            days = [
                events_csv(
                    BENCH_DATA / f"day_{day_rows}_{first + dt.timedelta(days=k)}.csv",
                    day_rows,
                    seed=99 + k,
                    start=str(first + dt.timedelta(days=k)),
                    days=1,
                    first_id=rows + k * day_rows,
                )
                for k in range(adds)
            ]
            fresh(ws)
            ingest([source], load_config(ws))
            alone = work / "alone"
            added = []
            for day in days:
                added += timed(lambda day=day: ingest([day], load_config(ws)), 1)
            results[f"add one day ({day_rows:,} events) to the {rows:,}-event store"] = stats(added)
            results["load that day alone into an empty store"] = stats(
                timed(lambda: ingest([days[0]], load_config(alone)), args.runs, setup=lambda: fresh(alone))
            )
            base = results["DuckDB CREATE TABLE AS read_csv (file)"]["median"]
            goals = {
                "pmkit ingest (validate, dedupe, Parquet, rollups, publish)": "≤ 1.5×",
                "pandas read_csv + to_sql (sqlite)": "pmkit ≥ 3× faster",
            }
            for name, s in results.items():
                lines.append(
                    f"| {rows:,} | {name} | {s['min']:.2f} | {s['median']:.2f} | {s['max']:.2f} | {s['median'] / base:.2f}× | {goals.get(name, '')} |"
                )
            add = results[f"add one day ({day_rows:,} events) to the {rows:,}-event store"]["median"]
            solo = results["load that day alone into an empty store"]["median"]
            mean = statistics.mean(added)
            lines.append(
                f"| {rows:,} | → adding a day costs {add / solo:.2f}× loading it alone (median of {adds} adds; "
                f"their mean, one compacting add included: {mean:.2f} s, {mean / solo:.2f}×) | | | | | ≤ 2× |"
            )
            print("\n".join(lines), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_section("Ingest", "\n".join(lines))


if __name__ == "__main__":
    main()
