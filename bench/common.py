"""Shared by the benchmarks: data generation, timing with min/median/max, the machine line."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

BENCH_DATA = Path(__file__).parent / "data"
EVENTS = ["login", "view_dashboard", "create_report", "share_report", "export_pdf", "signup", "upgrade"]


def events_csv(
    path: Path,
    rows: int,
    seed: int = 1,
    start: str = "2026-01-01",
    days: int = 180,
    users: int | None = None,
    first_id: int = 0,
) -> Path:
    """A pmkit events CSV with realistic shapes: heavy-tailed users, a few dimensions, revenue
    on upgrades; event ids ``first_id`` onwards. Written in 1M-row chunks so 10M rows fit in
    memory comfortably."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    users = users or max(rows // 25, 100)
    base = np.datetime64(f"{start}T00:00:00", "s")
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as out:
        for offset in range(0, rows, 1_000_000):
            n = min(1_000_000, rows - offset)
            user = (rng.pareto(1.2, n) * users / 20).astype(np.int64) % users
            event = rng.choice(EVENTS, n, p=[0.3, 0.3, 0.15, 0.1, 0.08, 0.05, 0.02])
            frame = pl.DataFrame(
                {
                    "event_time": (base + rng.integers(0, days * 86400, n).astype("timedelta64[s]")).astype(str),
                    "user_id": pl.Series(user).cast(pl.String),
                    "event": event,
                    "event_id": pl.int_range(first_id + offset, first_id + offset + n, eager=True).cast(pl.String),
                    "revenue": np.where(event == "upgrade", 49.0, np.nan),
                    "plan": rng.choice(["free", "pro", "enterprise"], n, p=[0.7, 0.25, 0.05]),
                    "country": rng.choice(["US", "DE", "GB", "FR", "IN", "BR"], n),
                    "platform": rng.choice(["web", "ios", "android"], n, p=[0.7, 0.2, 0.1]),
                }
            ).with_columns(
                pl.col("event_time") + "Z",
                pl.col("user_id").map_batches(lambda s: "u" + s, return_dtype=pl.String),
                pl.col("revenue").fill_nan(None),
            )
            frame.write_csv(out, include_header=offset == 0)
    tmp.rename(path)
    return path


def timed(fn: Callable[[], object], runs: int, setup: Callable[[], object] | None = None) -> list[float]:
    """Wall-clock seconds of ``runs`` calls of ``fn``, each after an untimed ``setup``."""
    times = []
    for _ in range(runs):
        if setup:
            setup()
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return times


def stats(times: list[float]) -> dict[str, float]:
    return {"min": min(times), "median": statistics.median(times), "max": max(times)}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.node() or 'host'}: {os.cpu_count()} cores, {mem:.0f} GiB, {cpu}, Python {platform.python_version()}"
    )


def versions() -> str:
    import duckdb
    import polars

    return f"duckdb {duckdb.__version__}, polars {polars.__version__}"


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
