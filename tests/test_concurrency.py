"""Real processes: readers keep answering during an ingest, and kill -9 never breaks the store."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[1]

READER = """
import json, sys, time
from pathlib import Path
from pmkit.store import Store
store, stop = Store(Path(sys.argv[1])), Path(sys.argv[2])
while not stop.exists():
    try:
        with store.reader() as reader:
            row = reader.frame("SELECT (SELECT count(*) FROM events) AS events, (SELECT coalesce(sum(events), 0) FROM kpi_daily) AS rolled").row(0)
            print(json.dumps({"version": reader.version, "events": row[0], "rolled": int(row[1])}), flush=True)
    except Exception as exc:
        print(json.dumps({"error": repr(exc)}), flush=True)
    time.sleep(0.02)
"""


def events_csv(path: Path, rows: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-01-01T00:00:00", "s")
    frame = pl.DataFrame(
        {
            "event_time": (start + rng.integers(0, 90 * 86400, rows).astype("timedelta64[s]")).astype(str),
            "user_id": [f"u{i}" for i in rng.integers(0, 20_000, rows)],
            "event": rng.choice(["login", "signup", "create_report", "share_report"], rows),
            "event_id": [f"s{seed}-{i}" for i in range(rows)],
            "plan": rng.choice(["free", "pro", "enterprise"], rows),
        }
    ).with_columns(pl.col("event_time") + "Z")
    frame.write_csv(path)
    return path


def pmkit(*args: str, reset_sigint: bool = False) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "pmkit", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) if reset_sigint else None,
    )


def count_events(data: Path) -> tuple[int, int]:
    from pmkit.store import Store

    with Store(data / "store").reader() as reader:
        row = reader.frame(
            "SELECT (SELECT count(*) FROM events) AS e, (SELECT coalesce(sum(events), 0) FROM kpi_daily) AS r"
        ).row(0)
    return int(row[0]), int(row[1])


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sources")
    return {"small": events_csv(folder / "small.csv", 20_000, 1), "big": events_csv(folder / "big.csv", 600_000, 2)}


def test_readers_keep_answering_during_an_ingest_and_see_the_new_data(tmp_path: Path, files: dict[str, Path]) -> None:
    data = tmp_path / "ws"
    assert pmkit("ingest", str(files["small"]), "--data", str(data)).wait() == 0
    stop = tmp_path / "stop"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(data / "store"), str(stop)], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    time.sleep(1.5)
    ingest = pmkit("ingest", str(files["big"]), "--data", str(data))
    assert ingest.wait(timeout=300) == 0, ingest.stderr.read()
    finished = time.monotonic()
    time.sleep(2.0)
    stop.write_text("")
    outputs = [reader.communicate(timeout=30)[0] for reader in readers]
    for output in outputs:
        records = [json.loads(line) for line in output.splitlines()]
        assert records and not [r for r in records if "error" in r], output[-500:]
        # Every answer is a whole published version: raw events and rollups agree, and the
        # total is the old one or the new one, never a part of the ingest.
        assert all(r["events"] == r["rolled"] for r in records)
        assert {r["events"] for r in records} == {20_000, 620_000}
        assert records[-1]["events"] == 620_000
    assert time.monotonic() - finished < 10


# Four moments spread over the ingest's stages; each costs a whole load (8-10 s in CI).
@pytest.mark.parametrize("delay", [0.8, 1.7, 2.6, 3.6])
def test_kill_9_at_any_moment_leaves_the_last_version_and_the_next_ingest_works(
    tmp_path: Path, files: dict[str, Path], delay: float
) -> None:
    data = tmp_path / "ws"
    assert pmkit("ingest", str(files["small"]), "--data", str(data)).wait() == 0
    victim = pmkit("ingest", str(files["big"]), "--data", str(data))
    time.sleep(delay)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    events, rolled = count_events(data)
    assert events == rolled
    assert events in (20_000, 620_000)
    retry = pmkit("ingest", str(files["big"]), "--data", str(data), "--json")
    out, err = retry.communicate(timeout=300)
    assert retry.returncode == 0, err
    status = json.loads(out)["files"][0]["status"]
    assert status == ("duplicate" if events == 620_000 else "loaded")
    assert count_events(data) == (620_000, 620_000)
    store = data / "store"
    assert not list(store.glob(".v*.tmp"))
    from pmkit.store import Store

    with Store(store).reader() as reader:
        listed = set(reader.frame("SELECT path FROM batches")["path"].to_list())
    assert {p.name for p in (store / "events").glob("*.parquet")} == listed


def test_an_open_reader_does_not_block_an_ingest(tmp_path: Path, files: dict[str, Path]) -> None:
    from pmkit.store import Store

    data = tmp_path / "ws"
    assert pmkit("ingest", str(files["small"]), "--data", str(data)).wait() == 0
    with Store(data / "store").reader() as held:
        ingest = pmkit("ingest", str(files["big"]), "--data", str(data), "--json")
        out, err = ingest.communicate(timeout=300)
        assert ingest.returncode == 0, err
        assert json.loads(out)["files"][0]["status"] == "loaded"
        assert held.frame("SELECT count(*) AS n FROM events")["n"].item() == 20_000
    assert count_events(data) == (620_000, 620_000)


def test_output_cut_short_by_its_reader_ends_quietly(tmp_path: Path) -> None:
    """`pmkit kpis --json | head`: when the reader closes the pipe, no traceback."""
    data = tmp_path / "ws"
    demo = pmkit("demo", "--out", str(data), "--events", "3000")
    demo.communicate(timeout=300)
    assert demo.returncode == 0
    # Ten years of days: far more output than a pipe holds, so the writer meets the closed pipe.
    proc = pmkit("kpis", "--data", str(data), "--json", "--start", "2016-01-01")
    assert proc.stdout.read(20)
    proc.stdout.close()
    stderr = proc.stderr.read()
    assert proc.wait(timeout=120) == 1
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr


# Each stage of the load's progress line: the signal is sent as the stage starts, so it lands in
# Polars, in DuckDB (the rollups' merge, the daily series) or in the publish.
@pytest.mark.parametrize("stage", ["reading", "storing", "grouping", "merging", "daily metric series", "Publishing"])
def test_ctrl_c_during_an_ingest_says_so_without_a_traceback_and_the_store_is_whole(
    tmp_path: Path, files: dict[str, Path], stage: str
) -> None:
    """Ctrl+C printed a traceback (exit -2); inside a DuckDB query it was reported as a bug in
    pmkit, the inbox file moved to rejected/ and an empty version published (review)."""
    data = tmp_path / "ws"
    assert pmkit("ingest", str(files["small"]), "--data", str(data)).wait() == 0
    (data / "inbox").mkdir(exist_ok=True)
    inbox_file = data / "inbox" / "big.csv"
    inbox_file.write_bytes(files["big"].read_bytes())
    versions = sorted((data / "store").glob("v*.duckdb"))
    # Ctrl+C reaches Python as SIGINT; a child of a background job would inherit it ignored.
    victim = pmkit("ingest", "--data", str(data), reset_sigint=True)
    seen = []
    for line in victim.stderr:
        seen.append(line)
        if stage in line:
            victim.send_signal(signal.SIGINT)
            break
    err = "".join(seen) + victim.stderr.read()
    victim.wait(timeout=120)
    events, rolled = count_events(data)
    if victim.returncode == 0:  # the publish was done before the signal: a whole load
        assert stage == "Publishing" and events == 620_000, err
        return
    assert victim.returncode == 130, err
    assert "pmkit: interrupted" in err and "Traceback" not in err and "bug in pmkit" not in err
    assert events == rolled and events in (20_000, 620_000)
    if events == 20_000:  # not published: the file waits in the inbox, and no version was added
        assert inbox_file.exists() and not (data / "rejected").exists()
        assert sorted((data / "store").glob("v*.duckdb")) == versions
