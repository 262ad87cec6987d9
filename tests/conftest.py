"""Shared fixtures: real workspaces in temporary directories, loaded through ``pmkit.ingest``.

``workspace`` is an empty workspace: ``configure(timezone=..., active_events=..., metrics=...)``
writes its pmkit.toml; ``load_events`` / ``load_frame`` / ``load_feedback`` each write one CSV
file and run one ingest; ``reader()`` opens the published store (closed after the test).
``workspace_factory`` is the class, for fixtures of module or session scope.
``generated_workspace`` is a seeded, realistic workspace of about 106k events and 800 survey
answers (America/New_York, active events set), shared by the whole session: read it only.
``small_disk(size)`` mounts a real disk of that size (tmpfs) and fills it to ``room`` bytes free
with ``fill``; the test is skipped where mounting needs root.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pmkit.config import Config, load_config
from pmkit.ingest import ingest
from pmkit.metrics import cohorts, feature_days
from pmkit.store import Reader, Store

EVENT_COLUMNS = ("event_time", "user_id", "event")
FEEDBACK_COLUMNS = ("submitted_at", "user_id", "score", "scale")


class Workspace:
    """A workspace directory with a ``pmkit.toml`` and a store, filled through the real ingest."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._files = itertools.count(1)
        self._readers: list[Reader] = []

    def configure(
        self,
        *,
        timezone: str | None = None,
        active_events: Sequence[str] | None = None,
        metrics: str = "",
    ) -> None:
        """Write ``pmkit.toml``; ``metrics`` is TOML text with ``[metrics.KEY]`` tables."""
        lines = ["[workspace]"]
        if timezone:
            lines.append(f"timezone = {json.dumps(timezone)}")
        if active_events is not None:
            lines.append(f"active_events = {json.dumps(list(active_events))}")
        (self.root / "pmkit.toml").write_text("\n".join(lines) + "\n\n" + metrics, encoding="utf-8")

    @property
    def config(self) -> Config:
        return load_config(self.root)

    def load_events(self, rows: Iterable[Sequence[object]], columns: Sequence[str] = EVENT_COLUMNS) -> None:
        """Load event rows, e.g. ``("2026-03-01T10:00Z", "u1", "login")``: times with ``Z`` or an
        offset are UTC, times without one are in the workspace time zone. Extra columns are
        named by ``columns``, e.g. ``("event_time", "user_id", "event", "revenue", "plan")``."""
        self._load(rows, columns)

    def load_event_files(self, *files: Iterable[Sequence[object]]) -> None:
        """Load several files of event rows (as ``load_events``) in one ingest: one publish."""
        paths = [self._write(rows, EVENT_COLUMNS) for rows in files]
        self._ingest(*paths)

    def load_frame(self, frame: pl.DataFrame) -> None:
        """Load a frame of events (event_time as a UTC datetime) as one CSV file."""
        path = self._next_path()
        frame.with_columns(pl.col("event_time").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")).write_csv(path)
        self._ingest(path)

    def load_feedback(self, rows: Iterable[Sequence[object]], columns: Sequence[str] = FEEDBACK_COLUMNS) -> None:
        """Load survey answers, e.g. ``("2026-03-01T10:00:00Z", "u1", 9, "nps")``."""
        self._load(rows, columns)

    def reader(self) -> Reader:
        reader = Store(self.config.store_dir).reader()
        self._readers.append(reader)
        return reader

    def close(self) -> None:
        for reader in self._readers:
            reader.close()

    def _next_path(self) -> Path:
        inbox = self.root / "files"
        inbox.mkdir(exist_ok=True)
        return inbox / f"f{next(self._files):03d}.csv"

    def _load(self, rows: Iterable[Sequence[object]], columns: Sequence[str]) -> None:
        self._ingest(self._write(rows, columns))

    def _write(self, rows: Iterable[Sequence[object]], columns: Sequence[str]) -> Path:
        path = self._next_path()
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            writer.writerows(["" if v is None else v for v in row] for row in rows)
        return path

    def _ingest(self, *paths: Path) -> None:
        results = ingest(list(paths), self.config)
        problems = [m for r in results for m in r.messages()]
        assert all(r.status == "loaded" for r in results), problems


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace(tmp_path / "workspace")
    yield ws
    ws.close()


@pytest.fixture
def utc_events(tmp_path: Path) -> Callable[..., Path]:
    """``load(lines, toml="")``: a workspace in UTC (``tmp_path / "ws"``, with ``toml`` after its
    [workspace] table) with one events CSV of these lines (the header first) loaded, for tests of
    what today's partial day does."""

    def load(lines: Sequence[str], toml: str = "") -> Path:
        root = tmp_path / "ws"
        root.mkdir()
        (root / "pmkit.toml").write_text('[workspace]\ntimezone = "UTC"\n\n' + toml)
        events = tmp_path / "events.csv"
        events.write_text("".join(lines))
        assert ingest([events], load_config(root))[0].status == "loaded"
        return root

    return load


@pytest.fixture(scope="session")
def workspace_factory() -> type[Workspace]:
    """The Workspace class, for fixtures of wider scope: ``workspace_factory(path)``. (Test
    modules cannot import it from ``conftest``: tests/browser has a conftest of its own.)"""
    return Workspace


# --- a generated workspace ---------------------------------------------------------------------

GENERATED_START = dt.date(2026, 1, 5)
GENERATED_DAYS = 120
GENERATED_TIMEZONE = "America/New_York"
GENERATED_EVENTS = ("login", "view_dashboard", "create_report", "share_report", "purchase", "email_open")
GENERATED_ACTIVE = ("login", "view_dashboard", "create_report", "share_report", "purchase")


def generate_events(
    users: int, seed: int, start: dt.date = GENERATED_START, days: int = GENERATED_DAYS
) -> pl.DataFrame:
    """Seeded events with churn and weekly seasonality: a signup, then sessions of product
    events; ``email_open`` is a passive event (not active when active events are configured).
    Columns: event_time (UTC), user_id, event, revenue, plan, country, platform."""
    rng = np.random.default_rng(seed)
    signup_day = rng.integers(0, days, users)
    lifetime = rng.exponential(25.0, users).astype(np.int64) + 1
    rate = rng.gamma(2.0, 0.25, users)  # sessions per day while active
    plan = rng.choice(np.array(["free", "pro", "team"]), users, p=[0.6, 0.3, 0.1])
    country = rng.choice(np.array(["US", "DE", "FR", ""]), users, p=[0.5, 0.2, 0.2, 0.1])
    platform = rng.choice(np.array(["web", "ios", "android"]), users)
    start_ts = np.datetime64(start.isoformat(), "s").astype(np.int64)
    user_parts, day_parts = [np.arange(users)], [signup_day]
    for offset in range(1, 60):
        alive = (offset < lifetime) & (signup_day + offset < days)
        weekend = (start.weekday() + signup_day + offset) % 7 >= 5
        sessions = rng.poisson(rate * np.where(weekend, 0.5, 1.0) * alive)
        chosen = np.repeat(np.arange(users), sessions)
        user_parts.append(chosen)
        day_parts.append(signup_day[chosen] + offset)
    session_user = np.concatenate(user_parts)
    session_day = np.concatenate(day_parts)
    is_signup = np.zeros(session_user.size, bool)
    is_signup[:users] = True
    length = np.where(is_signup, 3, rng.integers(1, 6, session_user.size))
    event_user = np.repeat(session_user, length)
    event_day = np.repeat(session_day, length)
    session_start = rng.integers(0, 86_400, session_user.size)
    event_ts = (
        start_ts + event_day * 86_400 + np.repeat(session_start, length) + rng.integers(0, 3_600, event_user.size)
    )
    names = np.array(GENERATED_EVENTS)
    event = names[rng.choice(len(names), event_user.size, p=[0.3, 0.3, 0.15, 0.08, 0.07, 0.1])]
    first_of_session = np.concatenate([[0], np.cumsum(length)[:-1]])
    signup_rows = first_of_session[:users]
    event[signup_rows] = "signup"
    revenue = np.where(event == "purchase", np.round(rng.uniform(5, 100, event.size), 2), np.nan)
    return pl.DataFrame(
        {
            "event_time": (event_ts * 1_000_000).astype("datetime64[us]"),
            "user_id": np.char.add("user", event_user.astype(str)),
            "event": event,
            "revenue": revenue,
            "plan": plan[event_user],
            "country": country[event_user],
            "platform": platform[event_user],
        }
    ).with_columns(
        pl.col("revenue").fill_nan(None),
        pl.when(pl.col("country") == "").then(None).otherwise(pl.col("country")).alias("country"),
    )


@pytest.fixture(scope="session")
def events_generator() -> Callable[..., pl.DataFrame]:
    """``generate_events``, for tests that load generated events their own way (test modules
    cannot import it from ``conftest``: tests/browser has a conftest of its own)."""
    return generate_events


def generate_feedback(answers: int, seed: int) -> list[tuple[str, str, int, str]]:
    """Survey answers over the generated range: NPS scores 0-10 and CSAT scores 1-5."""
    rng = np.random.default_rng(seed)
    start = dt.datetime(GENERATED_START.year, GENERATED_START.month, GENERATED_START.day)
    rows = []
    for index in range(answers):
        when = start + dt.timedelta(seconds=int(rng.integers(0, GENERATED_DAYS * 86_400)))
        scale = "nps" if rng.random() < 0.7 else "csat"
        score = int(rng.integers(0, 11)) if scale == "nps" else int(rng.integers(1, 6))
        rows.append((when.strftime("%Y-%m-%dT%H:%M:%SZ"), f"user{index}", score, scale))
    return rows


@pytest.fixture(scope="session")
def generated_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """About 106k events from 4,000 users over 120 days in America/New_York, with active events
    configured and revenue, loaded as two files whose days overlap, and 800 survey answers.
    Shared by the session: do not load more into it."""
    ws = Workspace(tmp_path_factory.mktemp("generated") / "workspace")
    ws.configure(timezone=GENERATED_TIMEZONE, active_events=GENERATED_ACTIVE)
    events = generate_events(4_000, seed=7).sort("event_time")
    half = events.height // 2
    ws.load_frame(events.slice(0, half + 500).sample(fraction=1.0, seed=1))
    ws.load_frame(events.slice(half + 500))
    ws.load_feedback(generate_feedback(800, seed=11))
    yield ws
    ws.close()


@pytest.fixture(params=["cohort tables", "user_day"])
def cohort_tables(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Unsegmented retention and lifecycle read the cohort tables kept at ingest (``pmkit.metrics.cohorts``)
    or, in a store without them, ``user_day``: each test using this runs both ways."""
    if request.param == "user_day":
        monkeypatch.setattr(cohorts, "usable", lambda *args: False)
    return request.param


@pytest.fixture(params=["feature table", "user_event_day"])
def feature_table(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Unsegmented adoption of activity reads the feature table kept at ingest
    (``pmkit.metrics.feature_days``) or, in a store without it, ``user_event_day``: each test using
    this runs both ways."""
    if request.param == "user_event_day":
        monkeypatch.setattr(feature_days, "usable", lambda *args: False)
    return request.param


class SmallDisk:
    """A mounted tmpfs of a few megabytes: a disk that fills up for real."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fill(self, room: int) -> None:
        """Leave ``room`` bytes free on it."""
        (self.path / "filler").write_bytes(b"\0" * (shutil.disk_usage(self.path).free - room))

    def empty(self) -> None:
        (self.path / "filler").unlink(missing_ok=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], SmallDisk]]:
    mounted: list[Path] = []

    def mount(size: str) -> SmallDisk:
        path = tmp_path / f"disk{len(mounted)}"
        path.mkdir()
        command = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)]
        if os.geteuid() != 0 or subprocess.run(command).returncode:
            pytest.skip("mounting a small disk needs root")
        mounted.append(path)
        return SmallDisk(path)

    yield mount
    for path in mounted:
        subprocess.run(["umount", "--lazy", str(path)])  # an app test may hold its files open
