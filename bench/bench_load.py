"""Render times of the read-only pages under 10 concurrent sessions during an ingest.

    python bench/bench_load.py [--events 1000000] [--sessions 10]

Builds a demo workspace, starts `streamlit run app.py` in read-only mode with a password login,
starts an ingest of more events in another process, opens the sessions in Debian's chromium, and
writes p50/p95 per page into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from conftest import Server  # noqa: E402

from bench.common import BENCH_DATA, events_csv, git_commit, machine, versions  # noqa: E402
from bench.load import run_sessions  # noqa: E402
from bench.results import write_section  # noqa: E402
from pmkit.auth import hash_password  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=10)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory(prefix="pmkit-load-") as tmp:
        data = Path(tmp) / "ws"
        subprocess.run(
            [sys.executable, "-m", "pmkit", "demo", "--out", str(data), "--events", str(args.events)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        secrets = Path(tmp) / "secrets.toml"
        secrets.write_text(f'[pmkit_auth.passwords]\n"ceo@example.com" = "{hash_password("load-test-password")}"\n')
        extra = events_csv(BENCH_DATA / "events_1000000.csv", 1_000_000)
        server = Server(data, env={"PMKIT_READ_ONLY": "1"}, args=[f"--secrets.files={secrets}"])
        try:
            ingest = subprocess.Popen(
                [sys.executable, "-m", "pmkit", "ingest", str(extra), "--data", str(data)], cwd=ROOT, env=env
            )
            result = run_sessions(server.url, sessions=args.sessions, login=("ceo@example.com", "load-test-password"))
            ingest.wait()
        finally:
            server.stop()
    body = "\n".join(
        [
            f"Machine: {machine()}; {versions()}; commit {git_commit()}; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
            f"{args.sessions} concurrent sessions (Debian chromium, headless) on a {args.events:,}-event demo workspace in read-only mode "
            "with password login, while another process ingests 1,000,000 more events into the same store. "
            "Time from the click on a page's link to the end of its script run (all charts sent).",
            "",
            result.table(),
            "",
            f"Errors: {len(result.errors)}" + ("".join(f"\n- {e}" for e in result.errors[:10])),
        ]
    )
    print(body)
    write_section("Load: concurrent read-only sessions", body)


if __name__ == "__main__":
    main()
