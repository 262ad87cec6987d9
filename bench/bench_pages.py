"""Page data: every library call one page makes, replayed at the library level at 1M and 10M events.

    python bench/bench_pages.py [--events 1000000 10000000] [--dense] [--runs 5] [--record]

Which calls a page makes is recorded, not guessed: each page runs once through Streamlit's
AppTest on the workspace with its default state (the last 28 loaded days, no filters), and every
``ui.compute`` call it makes (a ``dashboard.PAGE_MODELS`` entry and its arguments) is written
down. The calls are then replayed outside Streamlit:

- cold: through a new ``dashboard.PageCache``, the version-keyed cache the app reads through,
  as after an ingest publishes a new version: no results, no memo and no reader open yet;
- warm: the same calls again through a ``PageCache`` that has seen them once.

Then the slowest page cold on the largest workspace (not the dense one) is profiled: each of its
calls timed on its own, in page order on a fresh reader, median of the runs.

The workspaces are ``bench_metrics``'s cached demo workspaces; ``--dense`` adds its workspace of
ten times the 1M events from the same users on the same days (raw events grow, active users do
not). Prints a markdown section;
``--record`` writes it into bench/RESULTS.md under "Page data".
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_metrics import dense_workspace, workspace  # noqa: E402
from bench.common import git_commit, machine, stats, versions  # noqa: E402
from bench.results import publish  # noqa: E402
from pmkit import dashboard  # noqa: E402
from pmkit.config import load_config  # noqa: E402
from pmkit.metrics import Period, Segment  # noqa: E402
from pmkit.store import Store  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = {
    "summary": "Executive summary",
    "objectives": "Objectives",
    "roadmap": "Roadmap",
    "kpis": "KPI explorer",
    "retention": "Retention",
    "funnels": "Funnels",
    "engagement": "Engagement",
    "feedback": "Voice of customer",
}
Call = tuple[str, tuple[tuple[str, Any], ...]]


def record_calls(root: Path) -> dict[str, list[Call]]:
    """Per page, the distinct (model name, arguments) it computes on its first run."""
    from streamlit.testing.v1 import AppTest

    calls: list[Call] = []
    originals = dict(dashboard.PAGE_MODELS)

    def recording(name: str):
        def model(reader, cfg, **kwargs):
            calls.append((name, tuple(sorted(kwargs.items()))))
            return originals[name](reader, cfg, **kwargs)

        return model

    os.environ["PMKIT_DATA"] = str(root)
    per_page: dict[str, list[Call]] = {}
    try:
        for name in originals:
            dashboard.PAGE_MODELS[name] = recording(name)
        for page in PAGES:
            calls.clear()
            at = AppTest.from_file(APP, default_timeout=600)
            if page != "summary":
                at.switch_page(f"pages/{page}.py")
            at.run()
            if at.exception:
                raise SystemExit(f"{page}: {[e.value for e in at.exception]}")
            per_page[page] = list(dict.fromkeys(calls))
    finally:
        dashboard.PAGE_MODELS.update(originals)
    return per_page


def replay(root: Path, calls: list[Call], cache: dashboard.PageCache | None = None) -> float:
    """Seconds for the page's calls through ``cache`` (cold: a new one)."""
    config = load_config(root)
    cache = cache or dashboard.PageCache()
    began = time.perf_counter()
    for name, kwargs in calls:
        cache.compute(config, name, **dict(kwargs))
    return time.perf_counter() - began


def describe(name: str, kwargs: tuple[tuple[str, Any], ...]) -> str:
    """A call as the profile table shows it: periods as their length and last day."""
    shown = []
    for key, value in kwargs:
        if isinstance(value, Period):
            value = f"{value.days} days to {value.end}"
        elif isinstance(value, Segment) and value.is_empty:
            value = "none"
        shown.append(f"{key}={value}")
    return f"`{name}`" + (f" ({', '.join(shown)})" if shown else "")


def profile(root: Path, calls: list[Call], runs: int) -> list[tuple[str, float]]:
    """(call, median seconds) of each call of one page, cold: a fresh reader per run."""
    config = load_config(root)
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(runs):
        with Store(config.store_dir).reader() as reader:
            for index, (name, kwargs) in enumerate(calls):
                began = time.perf_counter()
                dashboard.PAGE_MODELS[name](reader, config, **dict(kwargs))
                times[index].append(time.perf_counter() - began)
    return [(describe(*call), statistics.median(t)) for call, t in zip(calls, times, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--dense", action="store_true", help="also 10x the 1M events from the same users")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--record", action="store_true", help="write the section into bench/RESULTS.md")
    args = parser.parse_args()
    cold: dict[tuple[str, str], dict[str, float]] = {}
    warm: dict[tuple[str, str], dict[str, float]] = {}
    counts: dict[str, int] = {}
    roots = {f"{events:,}": workspace(events)[0] for events in args.events}
    if args.dense:
        roots["10,000,000 (1M's users)"] = dense_workspace()[0]
    recorded = {events: record_calls(root) for events, root in roots.items()}
    # Run by run, each page on every workspace in turn: the ratios compare times taken side by
    # side, so a shared host slowing down for a while weighs on every size alike (one size after
    # the other, a page's 1M time came out above its 10M time in one run).
    cold_times: dict[tuple[str, str], list[float]] = {}
    warm_times: dict[tuple[str, str], list[float]] = {}
    caches: dict[tuple[str, str], dashboard.PageCache] = {}
    for _ in range(args.runs):
        for page in PAGES:
            for events, root in roots.items():
                calls = recorded[events][page]
                counts[page] = len(calls)
                cold_times.setdefault((page, events), []).append(replay(root, calls))
                if (page, events) not in caches:
                    caches[page, events] = dashboard.PageCache()
                    replay(root, calls, caches[page, events])
                warm_times.setdefault((page, events), []).append(replay(root, calls, caches[page, events]))
    for key, times in cold_times.items():
        cold[key], warm[key] = stats(times), stats(warm_times[key])
        print(*key, cold[key], warm[key], flush=True)
    lines = [
        f"Machine: {machine()}; {versions()}; commit {git_commit()}; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "Every call a page makes on its first render (recorded through AppTest, default state: the last 28 days,"
        " no filters), replayed at the library level through the version-keyed result cache the app uses."
        " Cold: a new cache (no results, no memo, no reader open yet). Warm: again through the same"
        " cache. Goals: warm < 0.3 s and cold < 1.5 s at 10M; cold at 10M within 1.5× of cold at 1M.",
        "",
    ]
    sizes = list(roots)
    header = "| page | calls | " + " | ".join(f"cold s @ {n} (min / median / max)" for n in sizes)
    header += " | " + " | ".join(f"warm s @ {n} (median)" for n in sizes)
    header += "".join(f" | cold {n} ÷ {sizes[0]} (goal ≤ 1.5×)" for n in sizes[1:])
    lines += [header + " |", "|" + "---|" * (header.count("|"))]
    for page, title in PAGES.items():
        row = [title, str(counts[page])]
        row += [
            f"{cold[page, n]['min']:.2f} / {cold[page, n]['median']:.2f} / {cold[page, n]['max']:.2f}" for n in sizes
        ]
        row += [f"{warm[page, n]['median']:.3f}" for n in sizes]
        row += [f"{cold[page, n]['median'] / cold[page, sizes[0]]['median']:.2f}×" for n in sizes[1:]]
        lines.append("| " + " | ".join(row) + " |")
    largest = f"{max(args.events):,}"
    slowest = max(PAGES, key=lambda page: cold[page, largest]["median"])
    parts = profile(roots[largest], recorded[largest][slowest], args.runs)
    total = sum(seconds for _, seconds in parts)
    lines += [
        "",
        f"**Profile of the slowest page**, {PAGES[slowest]} at {largest} events: each of its calls on its own, cold,"
        f" median of {args.runs} runs (see bench/README.md for what was done about it).",
        "",
        "| call | median s | share |",
        "|---|---|---|",
        *(f"| {call} | {seconds:.3f} | {seconds / total:.0%} |" for call, seconds in parts),
    ]
    publish("Page data", "\n".join(lines), args.record)


if __name__ == "__main__":
    main()
