"""Browser sessions at once on the read-only pages while an ingest runs in another process.

Four here, to keep the suite's time: ten, with their render times and the server's memory, are
measured by bench/bench_load.py (RESULTS.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
from conftest import ROOT, Server

from bench.load import READ_ONLY_PAGES, run_sessions
from pmkit.auth import hash_password

SESSIONS = 4


def test_sessions_at_once_render_every_read_only_page_during_an_ingest(
    browser: object, demo_workspace: Path, tmp_path: Path
) -> None:
    # A copy of the demo, so the ingest below does not change the shared workspace.
    data = tmp_path / "ws"
    subprocess.run(["cp", "-r", str(demo_workspace), str(data)], check=True)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[pmkit_auth.passwords]\n"ceo@example.com" = "{hash_password("load-test-password")}"\n')
    rng = np.random.default_rng(5)
    extra = tmp_path / "more_events.csv"
    pl.DataFrame(
        {
            "event_time": [f"2026-01-{d:02d}T12:00:00Z" for d in rng.integers(1, 28, 100_000)],
            "user_id": [f"load{u}" for u in rng.integers(0, 5000, 100_000)],
            "event": rng.choice(["login", "create_report"], 100_000),
        }
    ).write_csv(extra)
    server = Server(data, env={"PMKIT_READ_ONLY": "1"}, args=[f"--secrets.files={secrets}"])
    ingest = subprocess.Popen(
        [sys.executable, "-m", "pmkit", "ingest", str(extra), "--data", str(data)],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        result = run_sessions(server.url, sessions=SESSIONS, login=("ceo@example.com", "load-test-password"))
        assert ingest.wait(timeout=300) == 0, ingest.stderr.read()
    finally:
        server.stop()
    assert result.errors == []
    for page in READ_ONLY_PAGES:
        assert len(result.times.get(page, [])) == SESSIONS, page
