"""Ingest: whole files or nothing, duplicates change nothing, inbox files are never lost,
and rollups built a day at a time equal rollups built at once; progress only moves forward."""

import concurrent.futures
import datetime as dt
import hashlib
import json
import os
import random
import sys
import threading
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import pmkit.ingest
from pmkit import metrics
from pmkit.config import Config, load_config
from pmkit.ingest import FILES_SHARE, ingest, ingest_inbox
from pmkit.sources.sniff import sniff
from pmkit.store import Store

HEADER = "event_time,user_id,event,event_id,plan\n"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def random_events(n: int, seed: int, start: dt.datetime = dt.datetime(2026, 1, 1), days: int = 60) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for index in range(n):
        moment = start + dt.timedelta(seconds=rng.randrange(days * 86400))
        lines.append(
            f"{moment:%Y-%m-%dT%H:%M:%S}Z,u{rng.randrange(300)},{rng.choice(['login', 'signup', 'share'])},e{seed}-{index},{rng.choice(['free', 'pro'])}\n"
        )
    return lines


def snapshot(data: Path) -> dict[str, pl.DataFrame]:
    """Everything a viewer can see, to check that a rejected file changed nothing."""
    with Store(data / "store").reader() as reader:
        return {
            "kpi_daily": reader.frame("SELECT * FROM kpi_daily ORDER BY day"),
            "events": reader.frame("SELECT event_time, user_id, event FROM events ORDER BY ALL"),
            "files": reader.frame("SELECT name, rows_loaded FROM loaded_files ORDER BY file_id"),
        }


@pytest.mark.parametrize("hash_first", [True, False], ids=["small file: hashed first", "big file: hashed while parsed"])
def test_loading_the_same_content_twice_is_a_duplicate_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hash_first: bool
) -> None:
    if not hash_first:
        monkeypatch.setattr(pmkit.ingest, "HASH_FIRST_BYTES", 0)
    config = load_config(tmp_path / "ws")
    source = write(tmp_path / "a.csv", HEADER + "".join(random_events(50, 1)))
    (first,) = ingest([source], config)
    before = snapshot(config.data_dir)
    copy = write(tmp_path / "renamed.csv", source.read_bytes())
    sniffed = []
    monkeypatch.setattr(pmkit.ingest, "sniff", lambda path: sniffed.append(path) or sniff(path))
    (second,) = ingest([copy], config)
    assert (first.status, first.rows_loaded) == ("loaded", 50)
    assert second.status == "duplicate"
    assert sniffed == ([] if hash_first else [copy])  # a small duplicate is never parsed
    for name, table in snapshot(config.data_dir).items():
        assert_frame_equal(table, before[name])


def test_a_small_first_file_is_read_while_another_ingest_still_holds_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next day's export is read while the writer waits for and copies the store, not after."""
    config = load_config(tmp_path / "ws")
    source = write(tmp_path / "a.csv", HEADER + "".join(random_events(50, 1)))
    read = threading.Event()
    monkeypatch.setattr(pmkit.ingest, "sniff", lambda path: read.set() or sniff(path))
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        with Store(config.store_dir).writer() as other:
            other.set_meta("held", "by another ingest")
            loading = pool.submit(ingest, [source], config)
            assert read.wait(timeout=60), "the file was not read while the store was held"
            assert not loading.done()
        (result,) = loading.result(timeout=120)
    finally:
        pool.shutdown()
    assert (result.status, result.rows_loaded) == ("loaded", 50)
    with Store(config.store_dir).reader() as reader:
        assert reader.meta("held") == "by another ingest"
        assert reader.frame("SELECT count(*) AS n FROM events")["n"].item() == 50


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread priority is set on Linux only")
def test_the_hash_beside_the_parse_runs_at_the_lowest_priority_and_leaves_other_threads_alone(tmp_path: Path) -> None:
    """The hashing thread gives the CSV reader's threads the cores (nice 19); the ingest's own
    thread, and so the parse, keeps its priority."""
    source = write(tmp_path / "a.csv", HEADER + "".join(random_events(5, 1)))
    caller = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def work(path: Path) -> tuple[int, str]:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id()), pmkit.ingest.content_hash(path)

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        niceness, digest = pool.submit(pmkit.ingest._in_idle_time, work, source).result()
    assert niceness == 19
    assert digest == hashlib.sha256(source.read_bytes()).hexdigest()
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == caller == os.getpriority(os.PRIO_PROCESS, 0)


def test_a_rejected_file_names_row_column_value_and_changes_nothing(tmp_path: Path) -> None:
    config = load_config(tmp_path / "ws")
    ingest([write(tmp_path / "good.csv", HEADER + "".join(random_events(30, 2)))], config)
    before = snapshot(config.data_dir)
    bad = write(
        tmp_path / "bad.csv", HEADER + "2026-03-01T10:00:00Z,u1,login,x1,free\n2026-02-30T10:00:00Z,u2,login,x2,free\n"
    )
    (result,) = ingest([bad], config)
    assert result.status == "rejected" and result.rows_loaded == 0
    (error,) = result.errors
    assert (error.row, error.column) == (3, "event_time")
    assert "2026-02-30T10:00:00Z" in error.message and "e.g." in error.message
    assert result.messages()[0].startswith('bad.csv, row 3, column "event_time": ')
    for name, table in snapshot(config.data_dir).items():
        assert_frame_equal(table, before[name])


def test_skip_bad_rows_loads_the_good_rows_and_records_the_bad(tmp_path: Path) -> None:
    config = load_config(tmp_path / "ws")
    bad = write(
        tmp_path / "mixed.csv",
        HEADER + "2026-03-01T10:00:00Z,u1,login,x1,free\n2026-02-30T10:00:00Z,u2,login,x2,free\n,u3,login,x3,pro\n",
    )
    (result,) = ingest([bad], config, skip_bad_rows=True)
    assert (result.status, result.rows_loaded, result.rows_rejected) == ("loaded", 1, 2)
    with Store(config.store_dir).reader() as reader:
        recorded = json.loads(reader.frame("SELECT errors FROM loaded_files")["errors"].item())
    assert sorted(e["row"] for e in recorded) == [3, 4]


def test_unloadable_files_are_rejected_with_a_reason(tmp_path: Path) -> None:
    config = load_config(tmp_path / "ws")
    cases = {
        "empty.csv": b"",
        "junk.bin": bytes(range(256)) * 20,
        "header_only.csv": HEADER.encode(),
        "no_user.csv": b"event_time,event\n2026-03-01T10:00:00Z,login\n",
        "truncated.json": b'{"event": "login", "properties": {"ti',
    }
    results = ingest([write(tmp_path / name, body) for name, body in cases.items()], config)
    for result in results:
        assert result.status == "rejected", result
        assert result.errors and all(e.message for e in result.errors)
        assert result.messages()[0].startswith(result.name + ": ") or result.messages()[0].startswith(
            result.name + ", row"
        )
    assert Store(config.store_dir).current_version() == 1  # the run published, loading nothing
    assert snapshot(config.data_dir)["files"].height == 0


def test_inbox_files_move_to_archive_or_rejected_and_are_never_deleted(tmp_path: Path) -> None:
    config = load_config(tmp_path / "ws")
    good = write(config.inbox / "events.csv", HEADER + "".join(random_events(10, 3)))
    content = good.read_bytes()
    write(config.inbox / "broken.csv", "event_time,user_id,event\nnot a time,u1,login\n")
    results = ingest_inbox(config)
    assert sorted(r.status for r in results) == ["loaded", "rejected"]
    assert list(config.inbox.iterdir()) == []
    assert (config.archive / "events.csv").read_bytes() == content
    assert (config.rejected / "broken.csv").exists()
    errors = (config.rejected / "broken.csv.errors.txt").read_text()
    assert 'broken.csv, row 2, column "event_time"' in errors
    # The same file dropped again is a duplicate, archived beside the first without overwriting it.
    write(config.inbox / "events.csv", content)
    (again,) = ingest_inbox(config)
    assert again.status == "duplicate"
    assert len(list(config.archive.glob("events*.csv"))) == 2


def test_an_inbox_file_with_a_long_name_is_filed_away_and_the_others_are_reported(tmp_path: Path) -> None:
    """A rejected file named with 246 letters (a legal name) needed a 261-byte errors listing:
    the ingest stopped with "cannot use ...errors.txt" and no result, the good file beside it
    loaded but unreported, and said to be a duplicate the next time (hosted QA). Its name is
    shortened where it is filed away, with room for the listing, and for a second such name's
    time stamp."""
    config = load_config(tmp_path / "ws")
    long = "é" + "L" * 244  # 246 bytes
    write(config.inbox / f"{long}.csv", "event_time,user_id,event\n2026-02-30T10:00:00Z,u1,bad\n")
    write(config.inbox / "good.csv", "event_time,user_id,event\n2026-03-01T10:00:00Z,u1,good\n")
    results = ingest_inbox(config)
    by_name = {r.path.name: r for r in results}
    assert {name: r.status for name, r in by_name.items()} == {f"{long}.csv": "rejected", "good.csv": "loaded"}
    assert list(config.inbox.iterdir()) == []
    assert (config.archive / "good.csv").exists()
    (moved,) = config.rejected.glob("*.csv")
    assert moved.name.startswith("éLLL") and moved.name.endswith(".csv")
    listing = by_name[f"{long}.csv"].listed_in
    assert listing == config.rejected / f"{moved.name}.errors.txt"
    assert "2026-02-30T10:00:00Z" in listing.read_text()
    write(config.inbox / f"{long}.csv", "event_time,user_id,event\n2026-02-31T10:00:00Z,u1,bad\n")
    (again,) = ingest_inbox(config)
    assert again.status == "rejected" and again.listed_in is not None and again.listed_in.exists()
    assert len(list(config.rejected.glob("*.csv"))) == 2
    assert all(len(p.name.encode()) <= 255 for p in config.rejected.iterdir())


def test_two_inbox_loads_at_once_load_each_file_once_and_report_no_rejection(tmp_path: Path) -> None:
    """Two tabs pressed "Load the inbox" together (QA): the second listed the files before the
    first had moved them, then failed moving them (FileNotFoundError, a traceback on the page) and
    logged each as "rejected ... no such file" right after it loaded. Inbox loads now take turns:
    the second finds the inbox empty."""
    config = load_config(tmp_path / "ws")
    write(config.inbox / "big.csv", HEADER + "".join(random_events(20_000, 50)))
    write(config.inbox / "small.csv", HEADER + "".join(random_events(10, 3)))
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        runs = [pool.submit(ingest_inbox, load_config(tmp_path / "ws")) for _ in range(2)]
        outcomes = [run.result() for run in runs]
    statuses = sorted(r.status for results in outcomes for r in results)
    assert statuses == ["loaded", "loaded"]
    assert sorted(p.name for p in config.archive.iterdir()) == ["big.csv", "small.csv"]
    with Store(config.store_dir).reader() as reader:
        logged = reader.frame("SELECT status FROM ingest_log")["status"].to_list()
    assert logged == ["loaded", "loaded"]


def test_a_load_that_rebuilds_for_new_settings_says_so(tmp_path: Path) -> None:
    """A file loaded again after pmkit.toml's time zone changed read "already loaded (same
    content), nothing changed" while the load rebuilt every number in the new zone (QA)."""
    config = load_config(tmp_path / "ws")
    events = write(tmp_path / "events.csv", HEADER + "".join(random_events(10, 3)))
    ingest([events], config)
    (tmp_path / "ws" / "pmkit.toml").write_text('[workspace]\ntimezone = "America/New_York"\n')
    (again,) = ingest([events], load_config(tmp_path / "ws"))
    assert again.status == "duplicate"
    assert again.summary() == (
        "events.csv: already loaded (same content), nothing changed; every number was counted again with "
        "pmkit.toml's time zone and active events"
    )
    (third,) = ingest([events], load_config(tmp_path / "ws"))
    assert third.summary() == "events.csv: already loaded (same content), nothing changed"


def test_overlapping_exports_never_count_an_event_twice(tmp_path: Path) -> None:
    config = load_config(tmp_path / "ws")
    lines = random_events(200, 4)
    ingest([write(tmp_path / "jan.csv", HEADER + "".join(lines[:150]))], config)
    (second,) = ingest([write(tmp_path / "overlap.csv", HEADER + "".join(lines[100:]))], config)
    assert (second.rows_loaded, second.rows_duplicate) == (50, 50)
    with Store(config.store_dir).reader() as reader:
        assert reader.frame("SELECT count(*) AS n FROM events")["n"].item() == 200
        assert reader.frame("SELECT sum(events) AS n FROM kpi_daily")["n"].item() == 200


def test_a_repeated_event_id_is_skipped_whatever_else_the_file_holds(tmp_path: Path) -> None:
    """An event_id read before (earlier in the file, or in a file loaded before, at any time) is
    skipped and counted, so loaded + duplicate + rejected adds up to the file's rows. Before, an
    id loaded on 1 Mar and sent again on 2 Mar was kept in a file of 2 Mar alone and dropped in a
    file that also held a row of 28 Feb (only the stored events of the file's own range were read)."""
    first = write(
        tmp_path / "first.csv",
        "event_time,user_id,event,event_id\n"
        "2026-03-01T10:00:00Z,u1,a,d1\n"
        "2026-03-01T11:00:00Z,u1,a,d1\n"  # the exporter's retry, another time: the same event
        "2026-03-01T12:00:00Z,u2,a,d2\n"
        "2026-03-01T12:00:00Z,u2,a,d2\n",
    )
    alone = write(
        tmp_path / "alone.csv",
        "event_time,user_id,event,event_id\n2026-03-02T10:00:00Z,u5,a,d2\n2026-03-02T11:00:00Z,u6,a,d3\n",
    )
    wider = write(
        tmp_path / "wider.csv",
        "event_time,user_id,event,event_id\n"
        "2026-02-28T10:00:00Z,u8,a,d9\n"
        "2026-03-02T10:00:00Z,u5,a,d2\n"
        "2026-03-02T11:00:00Z,u6,a,d3\n",
    )
    for second, rows in ((alone, 2), (wider, 3)):
        config = load_config(tmp_path / second.stem)
        (loaded,) = ingest([first], config)
        assert (loaded.rows_loaded, loaded.rows_duplicate) == (2, 2)
        (result,) = ingest([second], config)
        assert (result.rows_loaded, result.rows_duplicate, result.rows_rejected) == (rows - 1, 1, 0)
        assert "1 repeated event skipped" in result.summary()
        with Store(config.store_dir).reader() as reader:
            ids = reader.frame("SELECT event_id, user_id FROM events WHERE event_time >= '2026-03-02' ORDER BY 1")
            dau = reader.frame("SELECT day, dau FROM kpi_daily WHERE day = '2026-03-02'")
        assert ids.rows() == [("d3", "u6")]  # u5's d2 is the event of 1 Mar, sent again
        assert dau.rows() == [(dt.date(2026, 3, 2), 1)]


def test_rollups_built_file_by_file_in_any_order_equal_rollups_built_at_once(tmp_path: Path) -> None:
    lines = sorted(random_events(3000, 5, days=90))
    whole = load_config(tmp_path / "whole")
    ingest([write(tmp_path / "all.csv", HEADER + "".join(lines))], whole)
    # Split by month, then load the latest month first: older events arrive after newer ones,
    # which moves users' first days and must still give the same numbers.
    by_month: dict[str, list[str]] = {}
    for line in lines:
        by_month.setdefault(line[:7], []).append(line)
    pieces = load_config(tmp_path / "pieces")
    for month in sorted(by_month, reverse=True):
        ingest([write(tmp_path / f"{month}.csv", HEADER + "".join(by_month[month]))], pieces)
    assert_same_rollups(whole, pieces)


def test_rollups_built_a_day_at_a_time_equal_rollups_built_at_once(tmp_path: Path) -> None:
    """The daily export: each day's file alone refreshes one day of kpi_daily (the short-span
    way of counting WAU and MAU), and a late day from the middle refreshes the 30 after it."""
    lines = sorted(random_events(3000, 8, days=60))
    whole = load_config(tmp_path / "whole")
    ingest([write(tmp_path / "all.csv", HEADER + "".join(lines))], whole)
    days = sorted({line[:10] for line in lines})
    late, bulk, daily = days[20], days[:50], days[50:]
    pieces = load_config(tmp_path / "pieces")
    ingest(
        [write(tmp_path / "bulk.csv", HEADER + "".join(x for x in lines if x[:10] in bulk and x[:10] != late))], pieces
    )
    for day in [*daily, late]:
        (result,) = ingest(
            [write(tmp_path / f"{day}.csv", HEADER + "".join(x for x in lines if x[:10] == day))], pieces
        )
        assert result.status == "loaded"
    assert_same_rollups(whole, pieces)


def assert_same_rollups(whole: Config, pieces: Config) -> None:
    for table in ("kpi_daily", "user_day", "user_event_day"):
        order = "day" if table == "kpi_daily" else "ALL"
        with Store(whole.store_dir).reader() as a, Store(pieces.store_dir).reader() as b:
            query = (
                f"SELECT t.* EXCLUDE (user_key), u.user_id FROM {table} t JOIN users u USING (user_key) ORDER BY {order}"
                if table != "kpi_daily"
                else "SELECT * FROM kpi_daily ORDER BY day"
            )
            left, right = a.frame(query), b.frame(query)
        assert_frame_equal(left.sort(left.columns), right.sort(right.columns), check_exact=False)


def test_changing_the_time_zone_rebuilds_the_rollups(tmp_path: Path) -> None:
    data = tmp_path / "ws"
    config = load_config(data)
    # 03:00 UTC on 2 March is still 1 March in New York.
    ingest([write(tmp_path / "a.csv", "event_time,user_id,event\n2026-03-02T03:00:00Z,u1,login\n")], config)
    write(data / "pmkit.toml", '[workspace]\ntimezone = "America/New_York"\n')
    ingest([write(tmp_path / "b.csv", "event_time,user_id,event\n2026-03-05T15:00:00Z,u2,login\n")], load_config(data))
    with Store(data / "store").reader() as reader:
        days = reader.frame("SELECT day, dau FROM kpi_daily WHERE dau > 0 ORDER BY day")
    assert days["day"].to_list() == [dt.date(2026, 3, 1), dt.date(2026, 3, 5)]


def test_roadmap_snapshot_date_comes_from_as_of_or_the_file_name(tmp_path: Path) -> None:
    config = load_config(tmp_path / "ws")
    text = "item_id,title,item_type,status_category,due_date\nE1,Checkout,epic,in_progress,2026-04-01\n"
    (named,) = ingest([write(tmp_path / "roadmap_2026-03-13.csv", text)], config)
    (stated,) = ingest(
        [write(tmp_path / "roadmap.csv", text.replace("Checkout", "Checkout v2"))], config, as_of=dt.date(2026, 3, 20)
    )
    assert named.snapshot_date == dt.date(2026, 3, 13)
    assert stated.snapshot_date == dt.date(2026, 3, 20)
    with Store(config.store_dir).reader() as reader:
        assert reader.frame("SELECT count(DISTINCT snapshot_date) AS n FROM roadmap_items")["n"].item() == 2


@pytest.mark.parametrize("hash_first", [True, False], ids=["small file: hashed first", "big file: hashed while parsed"])
def test_an_unchanged_roadmap_export_on_a_new_day_is_that_days_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hash_first: bool
) -> None:
    """A week with no progress is exported as the same file: it was skipped as "already loaded",
    so the stalled item stayed on track, forecast from one snapshot (roadmap QA). On the same
    day, the same export is still a duplicate."""
    if not hash_first:
        monkeypatch.setattr(pmkit.ingest, "HASH_FIRST_BYTES", 0)
    config = load_config(tmp_path / "ws")
    export = write(
        tmp_path / "w19.csv",
        "item_id,title,status_category,start_date,due_date,progress\nA,a,in_progress,2026-10-01,2026-10-31,0.5\n",
    )
    week = [ingest([export], config, as_of=dt.date(2026, 10, day))[0] for day in (8, 15, 15)]
    assert [r.status for r in week] == ["loaded", "loaded", "duplicate"]
    assert [r.snapshot_date for r in week[:2]] == [dt.date(2026, 10, 8), dt.date(2026, 10, 15)]
    renamed = write(tmp_path / "roadmap_2026-10-15.csv", export.read_bytes())  # the date from the name
    assert ingest([renamed], config)[0].status == "duplicate"
    from pmkit.roadmap import item_health

    with Store(config.store_dir).reader() as reader:
        snapshots = reader.frame("SELECT * FROM roadmap_items")
    row = item_health(snapshots, dt.date(2026, 10, 15)).row(0, named=True)
    assert (row["health"], row["forecast_date"]) == ("off_track", None)
    assert row["reason"].endswith("its share done has not grown since 8 Oct 2026: at that rate it never finishes")
    events = write(tmp_path / "e.csv", HEADER + "".join(random_events(5, 3)))
    ingest([events], config, as_of=dt.date(2026, 10, 8))
    assert ingest([events], config, as_of=dt.date(2026, 10, 9))[0].status == "duplicate"  # events: any day


def test_an_old_roadmap_export_dropped_in_again_is_a_duplicate_and_a_replaced_one_can_be_put_back(
    tmp_path: Path,
) -> None:
    """e1 (A 10% done) on 11-01, e2 (50%) on 11-20: e1 again on a later day was loaded as the latest
    snapshot, setting the roadmap back to 10% with "no progress since 11-01" (review QA). It is a
    duplicate now; as a week of history between 11-01 and 11-20 it is that week's snapshot. On
    11-13, e2 replaced e1; e1 again for 11-13 said "already loaded" and left e2's rows: it puts
    e1 back now."""
    head = "item_id,title,status_category,start_date,due_date,progress\n"
    e1 = write(tmp_path / "e1.csv", head + "A,a,in_progress,2026-10-01,2026-12-31,0.1\n")
    e2 = write(tmp_path / "e2.csv", head + "A,a,in_progress,2026-10-01,2026-12-31,0.5\n")

    def load(config: Config, path: Path, day: int) -> str:
        return ingest([path], config, as_of=dt.date(2026, 11, day))[0].status

    def progress_on(config: Config, day: int) -> list[float]:
        with Store(config.store_dir).reader() as reader:
            rows = reader.frame("SELECT snapshot_date, progress FROM roadmap_items ORDER BY ALL")
        return rows.filter(pl.col("snapshot_date") == dt.date(2026, 11, day))["progress"].to_list()

    later = load_config(tmp_path / "later")
    assert [load(later, e1, 1), load(later, e2, 20), load(later, e1, 27)] == ["loaded", "loaded", "duplicate"]
    assert progress_on(later, 27) == []
    # History loaded after a newer snapshot: 11-13 was as 11-01, an unchanged week (review QA).
    assert [load(later, e1, 13), load(later, e1, 14)] == ["loaded", "loaded"]
    assert progress_on(later, 13) == progress_on(later, 14) == [0.1]
    # Weeks loaded newest first: e1 for 11-06 after e1 for 11-13 is the week before an unchanged
    # week, not a duplicate (its stall was lost, and the forecasts changed with the load order;
    # roadmap QA).
    newest_first = load_config(tmp_path / "newest_first")
    loads = [load(newest_first, e2, 20), load(newest_first, e1, 13), load(newest_first, e1, 6)]
    assert loads == ["loaded", "loaded", "loaded"]
    assert progress_on(newest_first, 6) == progress_on(newest_first, 13) == [0.1]
    assert load(newest_first, e1, 27) == "duplicate"  # after the newest (e2): still an old export
    back = load_config(tmp_path / "back")
    assert [load(back, e1, 13), load(back, e2, 13), load(back, e1, 13)] == ["loaded", "loaded", "loaded"]
    assert progress_on(back, 13) == [0.1]
    assert load(back, e1, 13) == "duplicate"


def test_a_roadmap_file_named_with_a_future_or_impossible_date_is_rejected_by_name(tmp_path: Path) -> None:
    """roadmap_2027-03-01.csv loaded as the latest snapshot, and the roadmap then judged every item
    as of March 2027; roadmap_2026-02-30.csv became the load date without a word (roadmap QA)."""
    config = load_config(tmp_path / "ws")
    text = "item_id,title,status_category,start_date,due_date,progress\nA,a,in_progress,2026-10-01,2026-12-31,0.3\n"
    ahead = dt.date.today() + dt.timedelta(days=2)
    (future,) = ingest([write(tmp_path / f"roadmap_{ahead}.csv", text)], config)
    (impossible,) = ingest([write(tmp_path / "roadmap_2026-02-30.csv", text)], config)
    assert (future.status, impossible.status) == ("rejected", "rejected")
    assert future.messages() == [
        f"roadmap_{ahead}.csv: the date in its name, {ahead}, is after today: a roadmap snapshot is dated the day "
        "it was exported (rename the file, or with the CLI load it with --as-of DATE)"
    ]
    assert impossible.messages() == [
        "roadmap_2026-02-30.csv: the date in its name, 2026-02-30, is not a date (rename the file, or with the CLI "
        "load it with --as-of DATE)"
    ]
    assert Store(config.store_dir).current_version() == 2  # the two results logged, nothing loaded
    with Store(config.store_dir).reader() as reader:
        assert reader.frame("SELECT count(*) AS n FROM roadmap_items")["n"].item() == 0
    tomorrow = dt.date.today() + dt.timedelta(days=1)  # the exporter's day may be ahead of ours
    (stated,) = ingest([write(tmp_path / f"roadmap_{ahead}.csv", text)], config, as_of=dt.date(2026, 10, 15))
    (near,) = ingest([write(tmp_path / f"roadmap_{tomorrow}.csv", text.replace(",a,", ",b,"))], config)
    assert (stated.status, stated.snapshot_date, near.status) == ("loaded", dt.date(2026, 10, 15), "loaded")
    events = write(tmp_path / "events_2026-02-30.csv", HEADER + "".join(random_events(5, 3)))
    assert ingest([events], config)[0].status == "loaded"  # only a roadmap is dated by its name


WIDE_DIMS = ["plan"] + [f"x{i:02d}" for i in range(1, 31)]  # 31 dimension columns: one over the cap


def wide_rows(*rows: tuple[str, str, str, set[str]]) -> str:
    """Events with the 31 WIDE_DIMS columns, every cell filled (plan "pro", the others "v") but
    those named empty in each row."""
    lines = [f"event_time,user_id,event,event_id,{','.join(WIDE_DIMS)}\n"]
    for time, user, event_id, empty in rows:
        cells = ["" if d in empty else ("pro" if d == "plan" else "v") for d in WIDE_DIMS]
        lines.append(f"{time},{user},login,{event_id},{','.join(cells)}\n")
    return "".join(lines)


WIDE_A = [(f"2026-03-02T1{k}:00:00Z", f"u{k + 1}", f"e{k + 1}", set() if k == 0 else {"x30"}) for k in range(4)]
WIDE_B = [("2026-03-03T10:00:00Z", "u1", "e5", set()), ("2026-03-03T11:00:00Z", "u2", "e6", {"plan"})]


def pro_events_by_day(config: Config) -> list[tuple[dt.date, int]]:
    from pmkit import metrics
    from pmkit.metrics import Period, Segment

    with Store(config.store_dir).reader() as reader:
        period = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 3))
        frame = metrics.activity(reader, period, "day", Segment(filters=(("plan", "pro"),)))
    return frame.select("day", "events").rows()


def test_a_file_keeps_the_workspaces_dimensions_so_splitting_an_export_changes_no_number(tmp_path: Path) -> None:
    """Dimensions were chosen per file, the 30 most filled: one export split into a.csv and b.csv
    lost b's plan (its least filled column), and plan = pro on 03-03 counted 0 events against 1
    from the whole file (ingest QA). A file now keeps the workspace's dimensions first, the cap is
    the workspace's, and the columns left out are said."""
    one, two = load_config(tmp_path / "one"), load_config(tmp_path / "two")
    (whole,) = ingest([write(tmp_path / "ab.csv", wide_rows(*WIDE_A, *WIDE_B))], one)
    a, b = (write(tmp_path / f"{n}.csv", wide_rows(*rows)) for n, rows in (("a", WIDE_A), ("b", WIDE_B)))
    (first,), (second,) = ingest([a], two), ingest([b], two)
    assert pro_events_by_day(one) == pro_events_by_day(two) == [(dt.date(2026, 3, 2), 4), (dt.date(2026, 3, 3), 1)]
    assert (whole.dimensions_dropped, first.dimensions_dropped, second.dimensions_dropped) == (("x30",),) * 3
    assert second.as_json()["dimensions_dropped"] == ["x30"]
    for config in (one, two):
        with Store(config.store_dir).reader() as reader:
            assert len(reader.frame("SELECT name FROM dimensions")) == 30
    assert second.summary() == (
        "b.csv: loaded 2 rows as events (pmkit events CSV); 1 column not kept as a dimension (x30): a workspace "
        "keeps 30, its own and the most filled first (name one in pmkit.toml's ingest.keep_dimensions to keep it "
        "from the next file on)"
    )


def test_dimensions_named_in_pmkit_toml_are_kept_whatever_the_files_order(tmp_path: Path) -> None:
    """b.csv first: its least filled column is plan, and a.csv then finds the workspace full, so
    plan is lost for good; named in ingest.keep_dimensions ("Plan", as a header may write it), it
    is kept from the first file on."""
    lost = load_config(tmp_path / "lost")
    ordered = [write(tmp_path / f"{n}.csv", wide_rows(*rows)) for n, rows in (("b", WIDE_B), ("a", WIDE_A))]
    results = [ingest([path], lost)[0] for path in ordered]
    assert [r.dimensions_dropped for r in results] == [("plan",), ("plan",)]
    root = tmp_path / "kept"
    root.mkdir()
    (root / "pmkit.toml").write_text('[ingest]\nkeep_dimensions = ["Plan"]\n')
    kept = load_config(root)
    results = [ingest([path], kept)[0] for path in ordered]
    assert [r.dimensions_dropped for r in results] == [(), ()]  # a named one takes no place of the 30
    assert pro_events_by_day(kept) == [(dt.date(2026, 3, 2), 4), (dt.date(2026, 3, 3), 1)]
    with Store(kept.store_dir).reader() as reader:
        assert len(reader.frame("SELECT name FROM dimensions")) == 31
    root = tmp_path / "absent"  # named but in no file: the 30 places stay (review QA)
    root.mkdir()
    (root / "pmkit.toml").write_text('[ingest]\nkeep_dimensions = ["alpha", "beta"]\n')
    assert ingest([ordered[1]], load_config(root))[0].dimensions_dropped == ("x30",)  # not x28, x29 and x30


def test_a_full_workspace_takes_no_repeat_of_a_name_and_bad_rows_fill_no_column(tmp_path: Path) -> None:
    """Two ways past the cap (review QA): "plan", "Plan " and "$plan" are all plan, stored as plan,
    plan_2 and plan_3, and the repeats were kept as the workspace's own plan, 32 dimensions; and
    with --skip-bad-rows, a column filled only in the rows left out took a place from d29."""
    config = load_config(tmp_path / "ws")
    header = "event_time,user_id,event," + ",".join(["plan", *(f"d{i:02d}" for i in range(29))]) + "\n"
    first = write(tmp_path / "a.csv", header + "2026-03-02T10:00:00Z,u1,login," + ",".join(["v"] * 30) + "\n")
    assert ingest([first], config)[0].dimensions_dropped == ()
    repeats = write(
        tmp_path / "b.csv", "event_time,user_id,event,plan,Plan ,$plan,new1\n2026-03-03T10:00:00Z,u1,login,a,b,c,d\n"
    )
    assert ingest([repeats], config)[0].dimensions_dropped == ("plan_2", "plan_3", "new1")
    with Store(config.store_dir).reader() as reader:
        assert len(reader.frame("SELECT name FROM dimensions")) == 30

    fresh = load_config(tmp_path / "fresh")
    names = [f"d{i:02d}" for i in range(30)]
    good = [f"2026-03-0{d}T10:00:00Z,u{d},login,{','.join(['v'] * 30)},\n" for d in range(1, 4)]
    bad = [f"not a time,u9,login,{',' * 29},zzz\n" for _ in range(5)]
    junk = write(tmp_path / "junk.csv", f"event_time,user_id,event,{','.join(names)},junk\n" + "".join(good + bad))
    (result,) = ingest([junk], fresh, skip_bad_rows=True)
    assert (result.status, result.rows_loaded, result.rows_rejected, result.dimensions_dropped) == ("loaded", 3, 5, ())
    with Store(fresh.store_dir).reader() as reader:
        assert sorted(reader.frame("SELECT name FROM dimensions")["name"]) == names  # junk left out, d29 kept


def test_a_feedback_file_keeps_the_workspaces_attributes_so_splitting_an_export_changes_no_score(
    tmp_path: Path,
) -> None:
    """Feedback's extra columns (31 here) were chosen per file too: the second half of a split
    export, whose plan was its least filled column, lost it, and NPS for plan = pro lost u5's 9."""
    extra = WIDE_DIMS
    header = f"submitted_at,user_id,score,scale,{','.join(extra)}\n"

    def answer(day: int, user: str, score: int, empty: set[str]) -> str:
        cells = ["" if d in empty else ("pro" if d == "plan" else "v") for d in extra]
        return f"2026-03-0{day}T10:00:00Z,{user},{score},nps,{','.join(cells)}\n"

    first = [answer(2, f"u{k}", 10, set() if k == 0 else {"x30"}) for k in range(4)]
    second = [answer(3, "u5", 9, set()), answer(3, "u6", 3, {"plan"})]
    one, two = load_config(tmp_path / "one"), load_config(tmp_path / "two")
    (whole,) = ingest([write(tmp_path / "ab.csv", header + "".join(first + second))], one)
    a, b = write(tmp_path / "a.csv", header + "".join(first)), write(tmp_path / "b.csv", header + "".join(second))
    results = [ingest([a], two)[0], ingest([b], two)[0]]
    assert [r.dimensions_dropped for r in [whole, *results]] == [("x30",)] * 3

    def pro_scores(config: Config) -> list[float]:
        with Store(config.store_dir).reader() as reader:
            rows = reader.frame("SELECT score, attributes ->> 'plan' AS plan FROM feedback ORDER BY submitted_at")
        return rows.filter(pl.col("plan") == "pro")["score"].to_list()

    assert pro_scores(one) == pro_scores(two) == [10, 10, 10, 10, 9]


def test_feedback_attributes_are_named_as_feedback_names_them(tmp_path: Path) -> None:
    """keep_dimensions = ["event"] was read as events name it (source_event), so a survey's event
    column, reported dropped as "event", could not be kept; a Day column was stored as the
    attribute day, which the pages' own day hid from every filter (review QA)."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pmkit.toml").write_text('[ingest]\nkeep_dimensions = ["event"]\n')
    config = load_config(root)
    extra = [f"a{i:02d}" for i in range(30)]
    header = f"submitted_at,user_id,score,scale,{','.join(extra)},Event,Day\n"
    cells = {1: ",".join(["v"] * 30) + ",share", 2: ",".join(["v"] * 29) + ",,"}  # a29 and Event: 1 of 2
    rows = [f"2026-03-0{d}T10:00:00Z,u{d},9,nps,{cells[d]},Mon\n" for d in (1, 2)]
    (result,) = ingest([write(tmp_path / "survey.csv", header + "".join(rows))], config)
    assert result.dimensions_dropped == ("a29",)  # Day has 2 of 2; event is named
    from pmkit import dashboard
    from pmkit.metrics import Period

    with Store(config.store_dir).reader() as reader:
        answers = dashboard.feedback_answers(reader, config, Period(dt.date(2026, 3, 1), dt.date(2026, 3, 2)))
    assert answers["event"].to_list() == [None, "share"] and answers["source_day"].to_list() == ["Mon", "Mon"]
    bad = write(tmp_path / "bad.csv", header + rows[0].replace(",9,", ",11,"))
    (rejected,) = ingest([bad], config)
    assert (rejected.status, rejected.as_json()["dimensions_dropped"]) == ("rejected", [])


def test_rows_left_out_by_the_checks_do_not_choose_a_json_exports_columns(tmp_path: Path) -> None:
    """PostHog JSON lines, --skip-bad-rows: five rows dated 1970 carry 61 properties, three good
    rows plan and $os. The 60 most filled properties built were the bad rows', and plan and os,
    the only ones with values in rows that load, were left out where a CSV kept them (review QA)."""
    bad = {f"$p{i:02d}": "v" for i in range(61)}
    lines = [
        {"uuid": f"b{k}", "event": "login", "distinct_id": "u9", "timestamp": "1970-01-01T00:00:00Z", "properties": bad}
        for k in range(5)
    ]
    lines += [
        {"uuid": f"g{k}", "event": "login", "distinct_id": f"u{k}", "timestamp": "2026-03-02T10:00:00Z",
         "properties": {"plan": "pro", "$os": "Mac"}}
        for k in range(3)
    ]  # fmt: skip
    export = write(tmp_path / "ph.jsonl", "".join(json.dumps(line) + "\n" for line in lines))
    config = load_config(tmp_path / "ws")
    (result,) = ingest([export], config, skip_bad_rows=True)
    assert (result.status, result.rows_loaded, result.rows_rejected, result.dimensions_dropped) == ("loaded", 3, 5, ())
    with Store(config.store_dir).reader() as reader:
        assert sorted(reader.frame("SELECT name FROM dimensions")["name"]) == ["os", "plan"]


def test_a_json_export_keeps_the_workspaces_dimensions_past_the_columns_it_builds(tmp_path: Path) -> None:
    """PostHog JSON lines: only the 60 most filled properties are built as columns. The second
    file's plan is the least filled of 66, so it was never built; the workspace has it, so it is.
    The columns left out are all counted, built or not: 65 - 30 = 35, plan named beyond the 30."""

    def export(name: str, day: int, users: int, plan_for: int) -> Path:
        lines = []
        for k in range(users):
            props = {f"$p{i:02d}": "v" for i in range(1, 66)}
            if k < plan_for:
                props["plan"] = "pro"
            record = {"uuid": f"{name}{k}", "event": "login", "distinct_id": f"u{k}"}
            lines.append(json.dumps({**record, "timestamp": f"2026-03-0{day}T10:00:00Z", "properties": props}))
        return write(tmp_path / f"{name}.jsonl", "\n".join(lines) + "\n")

    root = tmp_path / "ws"
    root.mkdir()
    (root / "pmkit.toml").write_text('[ingest]\nkeep_dimensions = ["plan"]\n')
    config = load_config(root)
    (first,) = ingest([export("a", 2, 4, 1)], config)  # plan in 1 of 4 rows: kept as named
    (second,) = ingest([export("b", 3, 2, 1)], config)
    assert (first.status, second.status) == ("loaded", "loaded")
    assert (len(first.dimensions_dropped), len(second.dimensions_dropped)) == (35, 35)
    assert second.dimensions_dropped[-1] == "p65"  # as ingest.keep_dimensions takes it, not "$p65"
    assert "plan" not in first.dimensions_dropped + second.dimensions_dropped
    assert pro_events_by_day(config) == [(dt.date(2026, 3, 2), 1), (dt.date(2026, 3, 3), 1)]


def test_the_roadmap_command_before_the_first_snapshot_names_the_earliest(tmp_path: Path, capsys) -> None:
    """Asked as of a day before any snapshot, it said no roadmap was loaded at all."""
    from pmkit.cli import main

    config = load_config(tmp_path / "ws")
    text = "item_id,title,status_category,due_date\nE1,Checkout,in_progress,2026-04-01\n"
    ingest([write(tmp_path / "roadmap_2026-03-13.csv", text)], config)
    assert main(["roadmap", "--data", str(config.data_dir), "--as-of", "2026-03-01"]) == 0
    assert capsys.readouterr().out.strip() == "no roadmap snapshot on or before 2026-03-01 (the earliest is 2026-03-13)"
    assert main(["roadmap", "--data", str(config.data_dir), "--as-of", "2026-03-13"]) == 0
    assert "Checkout" in capsys.readouterr().out


def test_a_published_copy_answers_like_the_source(tmp_path: Path) -> None:
    from pmkit.cli import main

    source = load_config(tmp_path / "analyst")
    ingest([write(tmp_path / "a.csv", HEADER + "".join(random_events(100, 7)))], source)
    assert main(["publish", "--data", str(source.data_dir), "--to", str(tmp_path / "hosted")]) == 0
    assert_frame_equal(snapshot(tmp_path / "hosted")["kpi_daily"], snapshot(source.data_dir)["kpi_daily"])
    assert snapshot(tmp_path / "hosted")["events"].height == 100


def test_events_dated_after_today_load_and_are_counted(tmp_path: Path) -> None:
    config = load_config(tmp_path / "ws")
    now = dt.datetime.now(dt.UTC)
    soon = now + dt.timedelta(hours=12)  # a clock a little ahead: not counted
    later, latest = now + dt.timedelta(days=40), now + dt.timedelta(days=300)
    (result,) = ingest(
        [
            write(
                tmp_path / "future.csv",
                "event_time,user_id,event\n2026-03-01T10:00:00Z,u1,a\n"
                f"{soon:%Y-%m-%dT%H:%M:%S}Z,u2,a\n{later:%Y-%m-%dT%H:%M:%S}Z,u3,a\n{latest:%Y-%m-%dT%H:%M:%S}Z,u3,b\n",
            )
        ],
        config,
    )
    assert (result.status, result.rows_loaded, result.rows_future) == ("loaded", 4, 2)
    assert result.summary().endswith("; 2 of them dated after today (check the export's clock and time zone)")
    assert result.as_json()["rows_future"] == 2


def test_event_times_before_2000_or_more_than_a_year_ahead_are_bad_rows(tmp_path: Path) -> None:
    """0001-01-01 and 1970-01-01 (an empty time's placeholders) made every daily table span
    centuries: `kpis` used up 24 GB. 9999-12-31 overflowed the date type inside the ingest."""
    from pmkit.sources.events_common import build_events

    config = load_config(tmp_path / "ws")
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    path = write(
        tmp_path / "placeholders.csv",
        "event_time,user_id,event\n2026-03-01T10:00:00Z,u1,a\n0001-01-01T00:00:00Z,u2,a\n1970-01-01T00:00:00Z,u3,a\n"
        f"9999-12-31T23:59:59Z,u4,a\n{ahead:%Y-%m-%dT%H:%M:%S}Z,u5,a\n",
    )
    (result,) = ingest([path], config)
    assert result.status == "rejected"
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "event_time"),
        (4, "event_time"),
        (5, "event_time"),
        (6, "event_time"),
    ]
    assert result.errors[1].message == (
        "'1970-01-01T00:00:00Z' is before the year 2000: a placeholder for a missing time? Fix the time or remove the row"
    )
    assert result.errors[2].message.startswith("'9999-12-31T23:59:59Z' is more than a year after today")
    (skipped,) = ingest([path], config, skip_bad_rows=True)
    assert (skipped.status, skipped.rows_loaded, skipped.rows_rejected) == ("loaded", 1, 4)
    # The bounds themselves: the first moment of 2000 and 360 days ahead are events.
    near = dt.datetime.now(dt.UTC) + dt.timedelta(days=360)
    columns = pl.DataFrame(
        {
            "_row": [2, 3, 4],
            "event_time": ["2000-01-01T00:00:00Z", "1999-12-31T23:59:59Z", f"{near:%Y-%m-%dT%H:%M:%S}Z"],
            "user_id": ["u1", "u2", "u3"],
            "event": ["a", "a", "a"],
        }
    )
    parsed = build_events(columns, {}, fmt="test")
    assert parsed.frame["_row"].to_list() == [2, 4] and [e.row for e in parsed.errors] == [3]


def test_the_cli_refuses_a_folder_or_a_missing_file_as_bad_usage(tmp_path: Path, capsys) -> None:
    """A folder passed as a file gave IsADirectoryError's traceback; a missing file published a
    new store version with nothing in it. Both are bad usage (exit 2), found before anything is
    written, and the store is untouched."""
    from pmkit.cli import main

    config = load_config(tmp_path / "ws")
    ingest([write(tmp_path / "a.csv", HEADER + "".join(random_events(10, 3)))], config)
    version = Store(config.store_dir).current_version()
    folder = tmp_path / "exports"
    write(folder / "b.csv", HEADER + "".join(random_events(10, 4)))
    assert main(["ingest", "--data", str(config.data_dir), str(folder)]) == 2
    assert f"{folder} is a folder: name its files" in capsys.readouterr().err
    assert main(["ingest", "--data", str(config.data_dir), str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv: no such file (check the path)" in capsys.readouterr().err
    assert Store(config.store_dir).current_version() == version
    assert snapshot(config.data_dir)["events"].height == 10


def test_a_workspace_whose_path_holds_quotes_loads_and_reads(tmp_path: Path) -> None:
    # The store's paths reach two statements that take no parameters (ATTACH, the events view).
    config = load_config(tmp_path / "o'brien's \"pm\" data")
    source = write(tmp_path / "a.csv", HEADER + "".join(random_events(40, 3)))
    (second,) = ingest([source], config)
    ingest([write(tmp_path / "b.csv", HEADER + "".join(random_events(10, 4)))], config)
    assert second.status == "loaded"
    seen = snapshot(config.data_dir)
    assert seen["events"].height == 50
    assert seen["kpi_daily"]["events"].sum() == 50


def counted_from_events(data: Path) -> dict[str, list[tuple[str, int]]]:
    """Event names and plan values with their events, most first, counted by hand from the events."""
    with Store(data / "store").reader() as reader:
        return {
            column: list(
                reader.frame(
                    f"SELECT CAST({column} AS VARCHAR) AS value, count(*) AS n FROM events "  # noqa: S608 - fixed names
                    f"WHERE {column} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"
                ).iter_rows()
            )
            for column in ("event", "plan")
        }


def kept_counts(data: Path) -> dict[str, list[tuple[str, int]]]:
    from pmkit import value_counts

    with Store(data / "store").reader() as reader:
        found = {column: value_counts.read(reader, column) for column in ("event", "plan")}
    assert all(frame is not None for frame in found.values())
    return {column: list(frame.iter_rows()) for column, frame in found.items()}


def test_event_and_dimension_value_counts_kept_at_ingest_equal_counts_of_the_events(tmp_path: Path) -> None:
    from pmkit import dashboard

    config = load_config(tmp_path / "ws")
    lines = random_events(400, 11)
    ingest([write(tmp_path / "a.csv", HEADER + "".join(lines[:250]))], config)
    assert kept_counts(config.data_dir) == counted_from_events(config.data_dir)
    # Overlapping ids are skipped, a rejected file adds nothing, a new dimension appears later.
    ingest([write(tmp_path / "b.csv", HEADER + "".join(lines[200:]))], config)
    ingest([write(tmp_path / "bad.csv", HEADER + "not a time,u1,login,zz,free\n")], config)
    extra = "event_time,user_id,event,event_id,plan,country\n2026-03-01T10:00:00Z,u1,export,x1,team,FR\n"
    ingest([write(tmp_path / "c.csv", extra)], config)
    assert kept_counts(config.data_dir) == counted_from_events(config.data_dir)
    with Store(config.store_dir).reader() as reader:
        assert dashboard.dimension_values(reader, config, "country") == ["FR"]
        assert dashboard.event_names(reader, config) == [e for e, _ in counted_from_events(config.data_dir)["event"]]


def test_a_store_from_before_the_value_counts_gets_them_from_all_its_events(tmp_path: Path) -> None:
    from pmkit import value_counts

    config = load_config(tmp_path / "ws")
    lines = random_events(300, 12)
    ingest([write(tmp_path / "a.csv", HEADER + "".join(lines[:200]))], config)
    with Store(config.store_dir).writer() as writer:  # as an older pmkit left it
        writer.con.execute(f"DROP TABLE {value_counts.TABLE}")
        writer.con.execute("DELETE FROM meta WHERE key = $1", [value_counts.META])
    with Store(config.store_dir).reader() as reader:
        assert value_counts.read(reader, "event") is None  # the pages count the events meanwhile
    ingest([write(tmp_path / "b.csv", HEADER + "".join(lines[200:]))], config)
    assert kept_counts(config.data_dir) == counted_from_events(config.data_dir)


def test_a_store_with_user_event_days_first_times_loses_them_at_its_next_ingest(tmp_path: Path) -> None:
    lines = sorted(random_events(600, 13, days=20))
    whole = load_config(tmp_path / "whole")
    ingest([write(tmp_path / "all.csv", HEADER + "".join(lines))], whole)
    pieces = load_config(tmp_path / "pieces")
    ingest([write(tmp_path / "a.csv", HEADER + "".join(lines[:400]))], pieces)
    with Store(pieces.store_dir).writer() as writer:  # as an older pmkit left it
        writer.con.execute("ALTER TABLE user_event_day ADD COLUMN first_time TIMESTAMP")
        writer.con.execute("UPDATE user_event_day SET first_time = day")
    # Both the merge into days already loaded and the insert of new ones write the table.
    middle = lines[400][:10]
    ingest([write(tmp_path / "b.csv", HEADER + "".join(x for x in lines[400:] if x[:10] == middle))], pieces)
    ingest([write(tmp_path / "c.csv", HEADER + "".join(x for x in lines[400:] if x[:10] != middle))], pieces)
    with Store(pieces.store_dir).reader() as reader:
        columns = reader.frame("SELECT column_name FROM (DESCRIBE user_event_day)")["column_name"].to_list()
    assert columns == ["day", "user_key", "event", "events", "revenue"]
    assert_same_rollups(whole, pieces)


def test_a_row_cut_short_in_the_middle_of_a_file_is_rejected_not_padded(tmp_path: Path) -> None:
    config = load_config(tmp_path / "ws")
    text = (
        HEADER
        + "2026-03-01T10:00:00Z,u1,login,x1,free\n2026-03-01T11:00:00Z,u2,login\n2026-03-01T12:00:00Z,u3,login,x3,pro\n"
    )
    (result,) = ingest([write(tmp_path / "cut.csv", text)], config)
    assert result.status == "rejected"
    assert result.messages() == [
        "cut.csv, row 3: this row has 3 fields but the header has 5 (the row is cut short or has an extra comma; fix or remove the row)"
    ]


@pytest.mark.parametrize(
    ("name", "text", "row", "fields"),
    [
        # A quoted field holds the delimiter: the row looks whole by its commas, but is short.
        ("quoted.csv", HEADER + '2026-03-01T10:00:00Z,u1,login,x1,free\n2026-03-01T11:00:00Z,"u,2",login\n', 3, 3),
        # A quoted field holds a line break: lines are no longer rows; the short record is row 3.
        (
            "multiline.csv",
            HEADER + '2026-03-01T10:00:00Z,u1,"log\nin",x1,free\n2026-03-01T11:00:00Z,u2,login\n',
            3,
            3,
        ),
        # And a row with one field too many next to a quoted comma.
        ("extra.csv", HEADER + '2026-03-01T10:00:00Z,"u,1",login,x1,free,pro\n', 2, 6),
    ],
)
def test_a_row_with_the_wrong_number_of_fields_is_found_whatever_its_quotes(
    tmp_path: Path, name: str, text: str, row: int, fields: int
) -> None:
    config = load_config(tmp_path / "ws")
    (result,) = ingest([write(tmp_path / name, text)], config)
    assert result.status == "rejected"
    assert any(
        e.row == row and f"this row has {fields} fields but the header has 5" in e.message for e in result.errors
    ), result.messages()


def test_quoted_delimiters_and_line_breaks_in_whole_rows_load(tmp_path: Path) -> None:
    config = load_config(tmp_path / "ws")
    text = HEADER + '2026-03-01T10:00:00Z,"u,1","log\nin",x1,\n2026-03-01T11:00:00Z,u2,login,x2,\n'
    (result,) = ingest([write(tmp_path / "ok.csv", text)], config)
    assert (result.status, result.rows_loaded) == ("loaded", 2), result.messages()


# --- progress ------------------------------------------------------------------------------------


def reported_progress(paths: list[Path], config: Config) -> list[tuple[str, float]]:
    """Every (message, fraction) an ingest of ``paths`` reports, in order."""
    reports: list[tuple[str, float]] = []
    ingest(paths, config, progress=lambda message, fraction: reports.append((message, fraction)))
    return reports


def assert_moves_forward(reports: list[tuple[str, float]]) -> None:
    fractions = [fraction for _, fraction in reports]
    assert fractions == sorted(fractions), reports
    assert fractions[0] >= 0.0
    assert reports[-1] == ("Publishing", 1.0)


def test_one_file_moves_the_bar_at_each_stage_of_its_load(tmp_path: Path) -> None:
    """A big file does not sit at 0% until it is done: each stage of its load moves the bar on."""
    config = load_config(tmp_path / "ws")
    reports = reported_progress([write(tmp_path / "big.csv", HEADER + "".join(random_events(500, 11)))], config)
    assert_moves_forward(reports)
    assert [message for message, _ in reports] == [
        "Loading big.csv (1 of 1): reading and checking rows",
        "Loading big.csv (1 of 1): storing 500 rows",
        "Loading big.csv (1 of 1): grouping by day and user",
        "Loading big.csv (1 of 1): merging into the rollups",
        "Updating the daily metric series",
        "Publishing",
    ]
    fractions = [fraction for _, fraction in reports]
    assert len(set(fractions)) == len(fractions)  # no stage leaves the bar where it was


def test_several_files_each_move_the_bar_within_their_own_share(tmp_path: Path) -> None:
    """File i of n reports between i/n and (i+1)/n: loaded events go through every stage, a roadmap
    through reading and storing, a rejected or duplicate file stops after reading."""
    config = load_config(tmp_path / "ws")
    events = write(tmp_path / "a.csv", HEADER + "".join(random_events(50, 12)))
    paths = [
        events,
        write(
            tmp_path / "roadmap_2026-03-13.csv",
            "item_id,title,item_type,status_category,due_date\nE1,Checkout,epic,in_progress,2026-04-01\n",
        ),
        write(tmp_path / "bad.csv", "event_time,user_id,event\nnot a time,u1,login\n"),
        write(tmp_path / "copy.csv", events.read_bytes()),
        write(tmp_path / "b.csv", HEADER + "".join(random_events(50, 13))),
    ]
    reports: list[tuple[str, float]] = []
    results = ingest(paths, config, progress=lambda message, fraction: reports.append((message, fraction)))
    assert [r.status for r in results] == ["loaded", "loaded", "rejected", "duplicate", "loaded"]
    assert_moves_forward(reports)
    stages_per_file = []
    for index, path in enumerate(paths):
        own = [f for m, f in reports if m.startswith(f"Loading {path.name} ({index + 1} of 5): ")]
        share = (FILES_SHARE * index / 5, FILES_SHARE * (index + 1) / 5)
        assert all(share[0] <= fraction < share[1] for fraction in own), (path.name, own)
        stages_per_file.append(len(own))
    assert stages_per_file == [4, 2, 1, 1, 4]


def test_a_rollup_rebuild_is_reported_before_the_files(tmp_path: Path) -> None:
    data = tmp_path / "ws"
    ingest([write(tmp_path / "a.csv", "event_time,user_id,event\n2026-03-02T03:00:00Z,u1,login\n")], load_config(data))
    write(data / "pmkit.toml", '[workspace]\ntimezone = "America/New_York"\n')
    reports = reported_progress([write(tmp_path / "b.csv", HEADER + "".join(random_events(20, 14)))], load_config(data))
    assert_moves_forward(reports)
    assert reports[0] == ("Rebuilding the rollups from all events (the time zone or active events changed)", 0.0)


def test_the_cli_says_what_it_computes_only_when_it_takes_longer_than_a_second(capsys) -> None:
    import time

    from pmkit.cli import _slow

    with _slow("Quick sums", after=0.2):
        pass
    with _slow("Following users through the funnel", after=0.05):
        time.sleep(0.3)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "[....] Following users through the funnel"
    assert lines[1].startswith("[done] Following users through the funnel in ")
    assert len(lines) == 2


def test_a_link_in_the_inbox_is_rejected_unread(tmp_path: Path) -> None:
    """A link to /etc/passwd put its first line in the rejection ("the columns (root:x:0:0...)"),
    and a link to a CSV elsewhere would have loaded it (security QA). The link is refused unread
    and filed away; the plain file beside it loads."""
    from pmkit.ingest import NOT_A_FILE, ingest_inbox

    config = load_config(tmp_path / "ws")
    config.inbox.mkdir(parents=True)
    secret = write(tmp_path / "secret.csv", "event_time,user_id,event\n2026-03-01T10:00:00Z,secret_user,a\n")
    (config.inbox / "link.csv").symlink_to(secret)
    write(config.inbox / "plain.csv", "event_time,user_id,event\n2026-03-01T10:00:00Z,u1,a\n")
    results = {r.path.name: r for r in ingest_inbox(config)}
    assert results["link.csv"].status == "rejected"
    assert results["link.csv"].messages() == [f"link.csv: {NOT_A_FILE}"]
    assert results["plain.csv"].status == "loaded"
    assert (config.rejected / "link.csv").is_symlink() and secret.exists()
    assert "secret_user" not in (config.rejected / "link.csv.errors.txt").read_text()
    with Store(config.store_dir).reader() as reader:
        assert reader.frame("SELECT user_id FROM events")["user_id"].to_list() == ["u1"]


def test_json_lines_in_no_known_layout_say_which_layouts_are_read(tmp_path: Path) -> None:
    # A JSON file with the keys event_time, user_id and event was told it needed an event_time,
    # a user_id and an event column (QA).
    from pmkit.config import load_config

    path = tmp_path / "events.jsonl"
    path.write_text('{"event_time": "2026-03-01T10:00:00Z", "user_id": "j", "event": "x"}\n')
    (result,) = ingest([path], load_config(tmp_path / "ws"))
    assert result.status == "rejected"
    (message,) = result.messages()
    assert message.startswith(
        "events.jsonl, row 1: JSON is read as a PostHog, Amplitude or Mixpanel export, and these keys "
        "(event_time, user_id, event) match none of them"
    ), message
    assert message.endswith("or as a CSV with event_time,user_id,event columns")


def test_an_insert_id_or_a_bare_id_dedupes_only_copies_of_the_same_event(tmp_path: Path) -> None:
    """Mixpanel counts a repeat only when event, distinct_id, time and $insert_id all match;
    Amplitude a repeated $insert_id from the same device; a bare `id` column is often the row's
    number, restarting in each week's export. Each used to be an id on its own: one $insert_id
    set to an order number kept 1 of 3 events, and the second week's rows 1 and 2 were dropped
    as the first week's. An export holds what its tool counted, so what is left to drop is an
    overlapping export's copy, equal in the event, the user and the time too. The ids are stored
    as read, so events loaded before this rule are compared the same way."""
    mixpanel = write(
        tmp_path / "mp.jsonl",
        "".join(
            json.dumps({"event": e, "properties": {"time": t, "distinct_id": u, "$insert_id": "order-1001"}}) + "\n"
            for e, t, u in [
                ("Order Completed", 1772359200, "u1"),
                ("Payment Captured", 1772359260, "u1"),  # another event: kept
                ("Order Completed", 1772359300, "u2"),  # another user and time: kept
                ("Order Completed", 1772359200, "u1"),  # the first event again: a repeat
            ]
        ),
    )
    amplitude = write(
        tmp_path / "amp.jsonl",
        "".join(
            json.dumps(
                {"event_type": "reward", "event_time": t, "user_id": "alice", "device_id": d, "$insert_id": "r1"}
            )
            + "\n"
            for t, d in [
                ("2026-03-01 10:00:00.000000", "d1"),
                ("2026-03-01 18:00:00.000000", "d2"),  # the same id from another device: kept
                ("2026-03-01 10:00:00.000000", "d1"),  # the first again: a repeat
            ]
        ),
    )
    # Mixpanel's layout as a CSV: its $insert_id is compared the same way, and matches the JSON's.
    mixpanel_csv = write(
        tmp_path / "mp.csv",
        "time,distinct_id,event,$insert_id\n1772359200,u1,Order Completed,order-1001\n"
        "1772359400,u1,Refund Issued,order-1001\n",
    )
    week1 = write(
        tmp_path / "wk1.csv", "ID,Timestamp,User,Event\n1,2026-03-01 10:00,u1,login\n2,2026-03-01 11:00,u2,login\n"
    )
    week2 = write(
        tmp_path / "wk2.csv", "ID,Timestamp,User,Event\n1,2026-03-08 10:00,u3,login\n2,2026-03-08 11:00,u4,signup\n"
    )
    again = write(tmp_path / "again.csv", "ID,Timestamp,User,Event\n2,2026-03-01 11:00,u2,login\n")
    config = load_config(tmp_path / "ws")
    results = ingest([mixpanel, amplitude, mixpanel_csv, week1, week2, again], config)
    loaded = [(r.rows_loaded, r.rows_duplicate) for r in results]
    assert loaded == [(3, 1), (2, 1), (1, 1), (2, 0), (2, 0), (0, 1)]
    with Store(config.store_dir).reader() as reader:
        assert reader.frame("SELECT count(*) AS n FROM events")["n"].item() == 10
        users = reader.frame("SELECT user_id FROM events WHERE event_time >= '2026-03-08' ORDER BY 1")
        ids = reader.frame("SELECT DISTINCT event_id FROM events WHERE event_id LIKE 'order%'")
    assert users["user_id"].to_list() == ["u3", "u4"]
    assert ids["event_id"].to_list() == ["order-1001"]  # stored as read


def test_an_insert_id_matches_the_same_event_written_in_seconds_or_milliseconds(tmp_path: Path) -> None:
    """Mixpanel writes ``time`` in seconds in its exports and in milliseconds in what was
    imported: the same events exported both ways differed in the time compared with the
    $insert_id (10:00:00 against 10:00:00.123) and were counted twice. The time is compared to
    the whole second, within a file and against the stored events."""

    def line(event: str, time: int, user: str, insert_id: str) -> str:
        record = {"event": event, "properties": {"time": time, "distinct_id": user, "$insert_id": insert_id}}
        return json.dumps(record) + "\n"

    milliseconds = write(
        tmp_path / "imported.jsonl",
        line("Signed up", 1772359200123, "u1", "i1") + line("Signed up", 1772359260456, "u2", "i2"),
    )
    seconds = write(
        tmp_path / "exported.jsonl",
        line("Signed up", 1772359200, "u1", "i1")  # the first event, to the second: a repeat
        + line("Signed up", 1772359261, "u2", "i2")  # a second later: another event
        + line("Signed up", 1772359300, "u3", "i3")
        + line("Signed up", 1772359300, "u3", "i3"),  # the file's own repeat
    )
    config = load_config(tmp_path / "ws")
    results = ingest([milliseconds, seconds], config)
    assert [(r.rows_loaded, r.rows_duplicate) for r in results] == [(2, 0), (2, 2)]
    with Store(config.store_dir).reader() as reader:
        assert reader.frame("SELECT count(*) AS n FROM events")["n"].item() == 4


@pytest.mark.parametrize("by_record", [False, True])
def test_a_visit_before_sign_up_is_the_same_user_as_the_vendor_counts_it(tmp_path: Path, by_record: bool) -> None:
    """PostHog counts a person (person_id), Amplitude an amplitude_id, Mixpanel merges a device
    into the user it signs in as ($device_id beside $user_id): a visit before signing up, under an
    anonymous id, and the sign-up were two users, both new, and a visit -> sign-up funnel converted
    no one (vendor QA). Within a file, the visit is the user's. In Mixpanel another user on the
    same device keeps their own id. Read by column and record by record (a line that is no JSON
    object sends the file to the record path)."""

    def lines(*records: dict) -> str:
        extra = "[]\n" if by_record else ""  # an array line: an error row, read record by record
        return "".join(json.dumps(r) + "\n" for r in records) + extra

    posthog = write(
        tmp_path / "posthog.jsonl",
        lines(
            {
                "uuid": "p1",
                "event": "visit",
                "distinct_id": "anon-1",
                "person_id": "P",
                "timestamp": "2026-03-01T10:00:00Z",
                "properties": {},
            },
            {
                "uuid": "p2",
                "event": "signup",
                "distinct_id": "alice",
                "person_id": "P",
                "timestamp": "2026-03-01T10:05:00Z",
                "properties": {},
            },
            {
                "uuid": "p3",
                "event": "visit",
                "distinct_id": "anon-2",
                "person_id": None,
                "timestamp": "2026-03-01T11:00:00Z",
                "properties": {},
            },
        ),
    )
    amplitude = write(
        tmp_path / "amplitude.jsonl",
        lines(
            {
                "$insert_id": "a1",
                "amplitude_id": 5001,
                "device_id": "dev-A",
                "user_id": None,
                "event_type": "visit",
                "event_time": "2026-03-02 10:00:00.000000",
            },
            {
                "$insert_id": "a2",
                "amplitude_id": 5001,
                "device_id": "dev-A",
                "user_id": "bob",
                "event_type": "signup",
                "event_time": "2026-03-02 10:05:00.000000",
            },
            {
                "$insert_id": "a3",
                "amplitude_id": 5002,
                "device_id": "dev-B",
                "user_id": None,
                "event_type": "visit",
                "event_time": "2026-03-02 11:00:00.000000",
            },
        ),
    )
    mixpanel = write(
        tmp_path / "mixpanel.jsonl",
        lines(
            {
                "event": "visit",
                "properties": {"time": 1772532000, "distinct_id": "$device:D", "$device_id": "D", "$insert_id": "m1"},
            },
            {
                "event": "signup",
                "properties": {
                    "time": 1772532300,
                    "distinct_id": "carol",
                    "$device_id": "D",
                    "$user_id": "carol",
                    "$insert_id": "m2",
                },
            },
            {
                "event": "signup",
                "properties": {
                    "time": 1772535600,
                    "distinct_id": "dave",
                    "$device_id": "D",
                    "$user_id": "dave",
                    "$insert_id": "m3",
                },
            },
        ),
    )
    config = load_config(tmp_path / "ws")
    results = ingest([posthog, amplitude, mixpanel], config, skip_bad_rows=True)
    assert [r.rows_loaded for r in results] == [3, 3, 3]
    with Store(config.store_dir).reader() as reader:
        users = reader.frame("SELECT event_id, user_id FROM events ORDER BY event_time")
        # PostHog's uuid is compared alone: its tied visit is no row to keep (review).
        assert reader.frame("SELECT event_id FROM tied_events ORDER BY 1")["event_id"].to_list() == ["a1", "m1"]
    assert dict(users.rows()) == {
        "p1": "alice",
        "p2": "alice",
        "p3": "anon-2",
        "a1": "bob",
        "a2": "bob",
        "a3": "dev-B",
        "m1": "carol",
        "m2": "carol",
        "m3": "dave",
    }


def amplitude(path: Path, rows: list[tuple[str, str | None, str]]) -> Path:
    """An Amplitude export of one device (amplitude_id 7) at ``path``: rows of (insert id, user
    or None before sign-up, event), the n-th id's event at 10:0n on 2 Mar 2026."""
    return write(
        path,
        "".join(
            json.dumps(
                {
                    "$insert_id": i,
                    "amplitude_id": 7,
                    "device_id": "dev",
                    "user_id": u,
                    "event_type": e,
                    "event_time": f"2026-03-02 10:0{i[-1]}:00.000000",
                }
            )
            + "\n"
            for i, u, e in rows
        ),
    )


def test_a_persons_latest_id_is_by_time_and_an_overlapping_export_stays_deduped(tmp_path: Path) -> None:
    """Review of the identity merge: a PostHog export written newest first named the person by
    its anonymous id (the first row's), and the same Amplitude visit in two overlapping exports,
    under the device in the first and the user in the second, was stored twice: its insert id was
    compared with the user too."""
    newest_first = write(
        tmp_path / "posthog.jsonl",
        "".join(
            json.dumps({"uuid": u, "event": e, "distinct_id": d, "person_id": "P", "timestamp": t, "properties": {}})
            + "\n"
            for u, e, d, t in [
                ("p3", "report", "alice", "2026-03-01T10:10:00Z"),
                ("p2", "signup", "alice", "2026-03-01T10:05:00Z"),
                ("p1", "visit", "anon-1", "2026-03-01T10:00:00Z"),
            ]
        ),
    )

    first = amplitude(tmp_path / "a1.jsonl", [("a1", None, "visit")])
    second = amplitude(tmp_path / "a2.jsonl", [("a1", None, "visit"), ("a2", "bob", "signup")])
    # The next review: a third export holding the same visit and sign-up (the visit stored under
    # its device here, tied to bob in this file) and one event more. Its device's visit in a
    # workspace where that visit was stored under bob is the next test's.
    third = amplitude(tmp_path / "a3.jsonl", [("a1", None, "visit"), ("a2", "bob", "signup"), ("a3", "bob", "report")])
    config = load_config(tmp_path / "ws")
    results = ingest([newest_first, first, second, third], config)
    assert [(r.rows_loaded, r.rows_duplicate) for r in results] == [(3, 0), (1, 0), (1, 1), (1, 2)]
    with Store(config.store_dir).reader() as reader:
        users = dict(reader.frame("SELECT event_id, user_id FROM events").rows())
    assert users == {"p1": "alice", "p2": "alice", "p3": "alice", "a1": "dev", "a2": "bob", "a3": "bob"}


def test_an_export_tying_a_visit_to_its_user_again_stores_it_once(tmp_path: Path) -> None:
    """Review: two overlapping exports that each hold a visit and the sign-up tying it to the
    user stored the visit twice. The first stored it under the user; the second's copy was
    compared by the device it names in its file, and a device is not the user."""

    def mixpanel(name: str, rows: list[tuple[str, str | None, str, int]]) -> Path:
        return write(
            tmp_path / name,
            "".join(
                json.dumps(
                    {
                        "event": e,
                        "properties": {
                            "time": t,
                            "distinct_id": u or "$device:D",
                            "$device_id": "D",
                            "$insert_id": i,
                            **({"$user_id": u} if u else {}),
                        },
                    }
                )
                + "\n"
                for i, u, e, t in rows
            ),
        )

    files = [
        amplitude(tmp_path / "a1.jsonl", [("a1", None, "visit"), ("a2", "bob", "signup")]),
        amplitude(tmp_path / "a2.jsonl", [("a1", None, "visit"), ("a2", "bob", "signup"), ("a3", "bob", "report")]),
        mixpanel("m1.jsonl", [("m1", None, "visit", 1772532000), ("m2", "carol", "signup", 1772532300)]),
        mixpanel(
            "m2.jsonl",
            [
                ("m1", None, "visit", 1772532000),
                ("m2", "carol", "signup", 1772532300),
                ("m3", "carol", "report", 1772618700),
            ],
        ),
    ]
    # The next review: the visit alone, exported again without its sign-up, under the device.
    files += [
        amplitude(tmp_path / "a3.jsonl", [("a1", None, "visit")]),
        mixpanel("m3.jsonl", [("m1", None, "visit", 1772532000)]),
    ]
    config = load_config(tmp_path / "ws")
    results = ingest(files, config)
    assert [(r.rows_loaded, r.rows_duplicate) for r in results] == [(2, 0), (1, 2), (2, 0), (1, 2), (0, 1), (0, 1)]
    with Store(config.store_dir).reader() as reader:
        users = reader.frame("SELECT event_id, user_id FROM events ORDER BY event_id").rows()
        tied = reader.frame("SELECT event_id FROM tied_events ORDER BY event_id")["event_id"].to_list()
    assert tied == ["a1", "m1"]  # each visit once, from the load that stored it
    assert users == [
        ("a1", "bob"),
        ("a2", "bob"),
        ("a3", "bob"),
        ("m1", "carol"),
        ("m2", "carol"),
        ("m3", "carol"),
    ]


def test_identities_are_merged_by_parsed_time_over_the_rows_that_load(tmp_path: Path) -> None:
    """Review: the person's latest id was picked by sorting the time as text, before bad rows
    went. New York's repeated hour (01:50-04:00 is before 01:10-05:00), a fraction ("10:00:00Z"
    sorts after "10:00:00.250Z") and a skipped row dated 2037 each named the person by its
    anonymous id."""

    def person(name: str, rows: list[tuple[str, str, str]]) -> Path:
        return write(
            tmp_path / name,
            "".join(
                json.dumps(
                    {"uuid": u, "event": "e", "distinct_id": d, "person_id": "P", "timestamp": t, "properties": {}}
                )
                + "\n"
                for u, d, t in rows
            ),
        )

    files = [
        person(
            "offsets.jsonl", [("a2", "alice", "2026-11-01T01:10:00-05:00"), ("a1", "anon", "2026-11-01T01:50:00-04:00")]
        ),
        person("fraction.jsonl", [("b2", "bob", "2026-03-01T10:00:00.250Z"), ("b1", "anon", "2026-03-01T10:00:00Z")]),
        person("skipped.jsonl", [("c1", "carol", "2026-03-02T10:00:00Z"), ("c2", "anon", "2037-01-01T00:00:00Z")]),
    ]
    config = load_config(tmp_path / "ws")
    results = ingest(files, config, skip_bad_rows=True)
    assert [(r.rows_loaded, r.rows_rejected) for r in results] == [(2, 0), (2, 0), (1, 1)]
    with Store(config.store_dir).reader() as reader:
        users = dict(reader.frame("SELECT event_id, user_id FROM events").rows())
    assert users == {"a1": "alice", "a2": "alice", "b1": "bob", "b2": "bob", "c1": "carol"}


def test_one_insert_id_on_several_users_events_keeps_them_all(tmp_path: Path) -> None:
    """Review: with the user left out of the insert-id comparison, three users' page views of one
    second with the placeholder id "undefined" loaded as one, and two Amplitude devices' orders
    sharing "order-7" as one. Mixpanel and Amplitude count those as separate events."""
    mixpanel = write(
        tmp_path / "mp.jsonl",
        "".join(
            json.dumps(
                {"event": "page_view", "properties": {"time": 1772359200, "distinct_id": u, "$insert_id": "undefined"}}
            )
            + "\n"
            for u in ("u1", "u2", "u3")
        ),
    )
    amplitude = write(
        tmp_path / "amp.jsonl",
        "".join(
            json.dumps(
                {
                    "$insert_id": "order-7",
                    "device_id": d,
                    "user_id": None,
                    "event_type": "purchase",
                    "event_time": "2026-03-02 10:00:00.000000",
                }
            )
            + "\n"
            for d in ("d1", "d2")
        ),
    )
    config = load_config(tmp_path / "ws")
    assert [r.rows_loaded for r in ingest([mixpanel, amplitude], config)] == [3, 2]


def test_a_name_whose_extension_is_most_of_it_is_filed_away(tmp_path: Path) -> None:
    """Review: "v1." and 252 letters is a legal name whose suffix is 253 bytes; shortening only
    the stem never made room for the listing, and the ingest spun for ever."""
    config = load_config(tmp_path / "ws")
    name = "v1." + "L" * 252
    write(config.inbox / name, "event_time,user_id,event\n2026-02-30T10:00:00Z,u1,bad\n")
    (result,) = ingest_inbox(config)
    assert result.status == "rejected"
    assert result.listed_in is not None and result.listed_in.exists()
    assert all(len(p.name.encode()) <= 255 for p in config.rejected.iterdir())
    # The same name again: filed beside the first with its time stamp, which is never cut (cut, the
    # second name was the first's and replaced it; review).
    write(config.inbox / name, "event_time,user_id,event\n2026-02-31T10:00:00Z,u1,bad\n")
    (again,) = ingest_inbox(config)
    assert again.status == "rejected"
    moved = sorted(p for p in config.rejected.iterdir() if not p.name.endswith(".txt"))
    assert len(moved) == 2
    assert {p.read_text().split("\n")[1] for p in moved} == {
        "2026-02-30T10:00:00Z,u1,bad",
        "2026-02-31T10:00:00Z,u1,bad",
    }


def test_answers_a_cumulative_survey_export_repeats_are_skipped_and_distinct_ones_kept(tmp_path: Path) -> None:
    """Hotjar exports every answer so far: this week's file repeats last week's 3 answers. They
    were stored twice (7 answers where there are 4, NPS counted twice over). An answer's key is
    its survey's question, Number and time, so another survey's answer number 1, or a pmkit CSV
    without an answer_id, is never taken for one loaded before; a pmkit CSV's answer_id is a key."""
    header = "Number,User,Date Submitted,Hotjar User ID,How likely are you to recommend Acme?,Why?\n"
    week1 = ["1,,2026-03-01 10:00:00,a1,9,fast", "2,,2026-03-01 11:00:00,b2,3,slow", "3,,2026-03-02 09:00:00,c3,10,"]
    week2 = [*week1, "4,,2026-03-03 09:00:00,d4,7,ok"]
    other = "Number,Date Submitted,How likely are you to recommend our API?\n1,2026-03-01 10:00:00,9\n"
    plain = "submitted_at,user_id,score,scale\n2026-03-01T10:00:00Z,a1,9,nps\n2026-03-01T10:00:00Z,a1,9,nps\n"
    keyed = "submitted_at,user_id,score,scale,answer_id\n2026-03-04T10:00:00Z,e5,6,nps,r-1\n"
    # Another tool numbers its answers the same way: its own keys (the id alone dropped them all).
    other_tool = "submitted_at,user_id,score,scale,source,answer_id\n2026-03-04T10:00:00Z,g7,4,csat,intercom,r-1\n"
    keyed_again = "submitted_at,user_id,score,scale,answer_id\n2026-03-04T10:00:00Z,e5,6,nps,r-1\n2026-03-05T10:00:00Z,f6,8,nps,r-2\n"
    files = [
        write(tmp_path / "week1.csv", header + "\n".join(week1) + "\n"),
        write(tmp_path / "week2.csv", header + "\n".join(week2) + "\n"),
        write(tmp_path / "other_survey.csv", other),
        write(tmp_path / "plain.csv", plain),
        write(tmp_path / "keyed.csv", keyed),
        write(tmp_path / "keyed_again.csv", keyed_again),
        write(tmp_path / "other_tool.csv", other_tool),
    ]
    config = load_config(tmp_path / "ws")
    results = ingest(files, config)
    assert [(r.status, r.rows_loaded, r.rows_duplicate) for r in results] == [
        ("loaded", 3, 0),
        ("loaded", 1, 3),
        ("loaded", 1, 0),
        ("loaded", 2, 0),  # no key: two equal rows are two answers
        ("loaded", 1, 0),
        ("loaded", 1, 1),
        ("loaded", 1, 0),
    ]
    assert "3 repeated answers skipped" in results[1].summary()
    with Store(config.store_dir).reader() as reader:
        rows = reader.frame("SELECT user_id, score FROM feedback ORDER BY submitted_at, user_id").rows()
    assert rows == [
        ("a1", 9.0),
        ("a1", 9.0),
        ("a1", 9.0),
        (None, 9.0),  # the other survey's number 1
        ("b2", 3.0),
        ("c3", 10.0),
        ("d4", 7.0),
        ("e5", 6.0),
        ("g7", 4.0),
        ("f6", 8.0),
    ]


def test_a_survey_with_nps_and_csat_questions_counts_both_and_skips_repeats_of_each(tmp_path: Path) -> None:
    """QA's Hotjar export asks "How likely ... recommend" and "How satisfied": its CSAT answers
    were kept as an attribute (CSAT: 0 responses), and row 4, which skipped the optional NPS
    question, rejected the whole file. Next week's export repeats all 3 rows and adds row 5
    (both answered) and row 6 (neither): only row 5's 2 answers are new.
    By hand: NPS = 10, 3, 9 -> 3 responses, 2 promoters, 1 detractor, (2 - 1) / 3 = 33.3;
    CSAT = 5, 2, 4, 3 -> 4 responses, 2 satisfied (4-5), 0.5."""
    nps_question, csat_question = (
        "How likely are you to recommend us to a friend?",
        "How satisfied are you with the product?",
    )
    header = f"Number,User,Date Submitted,Country,Device,{nps_question},{csat_question},What is the main reason for your score?\n"
    week1 = [
        "1,,2026-11-02 10:00:00,DE,desktop,10,5,love it",
        "2,,2026-11-03 10:00:00,FR,mobile,3,2,slow",
        "3,,2026-11-04 10:00:00,DE,desktop,,4,no nps answer",
    ]
    week2 = [*week1, "4,u4,2026-11-10 10:00:00,US,mobile,9,3,ok", "5,,2026-11-11 10:00:00,US,desktop,,,just looking"]
    config = load_config(tmp_path / "ws")
    first, second = ingest(
        [
            write(tmp_path / "week1.csv", header + "\n".join(week1) + "\n"),
            write(tmp_path / "week2.csv", header + "\n".join(week2) + "\n"),
        ],
        config,
    )
    assert (first.status, first.rows_loaded, first.rows_duplicate) == ("loaded", 5, 0)
    assert (second.status, second.rows_loaded, second.rows_duplicate) == ("loaded", 2, 5)
    assert (first.mapping["score (nps)"], first.mapping["score (csat)"]) == (nps_question, csat_question)
    assert "how_satisfied_are_you_with_the_product" not in first.mapping
    # Skipped questions are said, in text and in --json, not silent.
    assert first.summary() == (
        "week1.csv: loaded 5 answers as feedback (Hotjar survey CSV); "
        f'1 row left "{nps_question}" empty: a skipped question, no answer counted'
    )
    assert second.summary() == (
        "week2.csv: loaded 2 answers as feedback (Hotjar survey CSV), 5 repeated answers skipped (its key already "
        f'read); 2 rows left "{nps_question}" empty and 1 row left "{csat_question}" empty: skipped questions, no '
        "answer counted (1 row answered no score question and is not loaded)"
    )
    report = second.as_json()
    assert (report["questions_skipped"], report["rows_unanswered"]) == ({nps_question: 2, csat_question: 1}, 1)
    with Store(config.store_dir).reader() as reader:
        nps = metrics.nps(reader, grain="period")
        csat = metrics.csat(reader, grain="period")
        # The oracle: a hand-written query over the stored answers.
        by_hand = reader.frame(
            "SELECT scale, count(*) AS responses, "
            "count(*) FILTER (WHERE scale = 'nps' AND score >= 9) AS promoters, "
            "count(*) FILTER (WHERE scale = 'nps' AND score <= 6) AS detractors, "
            "count(*) FILTER (WHERE scale = 'csat' AND score >= 4) AS satisfied, "
            "count(DISTINCT answer_id) AS keys FROM feedback GROUP BY scale ORDER BY scale"
        )
        answers = reader.frame(
            "SELECT scale, score, submitted_at, user_id, comment, attributes ->> 'country' AS country, "
            "json_keys(attributes) AS attribute_names FROM feedback ORDER BY submitted_at, scale DESC"
        )
    assert nps.select("responses", "promoters", "detractors").row(0) == (3, 2, 1)
    assert nps["nps"].item() == pytest.approx(100 / 3)
    assert csat.select("responses", "satisfied", "csat").row(0) == (4, 2, 0.5)
    assert by_hand.rows() == [("csat", 4, 0, 0, 2, 4), ("nps", 3, 2, 1, 0, 3)]  # each answer its own key
    day = dt.datetime
    assert answers.drop("attribute_names").rows() == [
        ("nps", 10.0, day(2026, 11, 2, 10), None, "love it", "DE"),
        ("csat", 5.0, day(2026, 11, 2, 10), None, "love it", "DE"),
        ("nps", 3.0, day(2026, 11, 3, 10), None, "slow", "FR"),
        ("csat", 2.0, day(2026, 11, 3, 10), None, "slow", "FR"),
        ("csat", 4.0, day(2026, 11, 4, 10), None, "no nps answer", "DE"),
        ("nps", 9.0, day(2026, 11, 10, 10), "u4", "ok", "US"),
        ("csat", 3.0, day(2026, 11, 10, 10), "u4", "ok", "US"),
    ]
    assert set(map(tuple, answers["attribute_names"].to_list())) == {("country", "device")}
    # An export whose every row skipped every score question has nothing to load, and says why.
    (empty,) = ingest([write(tmp_path / "empty.csv", header + "6,,2026-11-12 10:00:00,US,mobile,,,hi\n")], config)
    assert (empty.status, empty.messages()) == (
        "rejected",
        ["empty.csv: no answers to load (every row left every score question empty)"],
    )


def test_unfinished_downloads_and_folders_in_the_inbox_are_named_and_left_there(tmp_path: Path) -> None:
    """A folder was skipped without a word ("nothing to load: the inbox is empty"), and a
    browser's unfinished download (`.crdownload`) was loaded in part and archived (ingest QA)."""
    config = load_config(tmp_path / "ws")
    config.inbox.mkdir(parents=True)
    rows = "event_time,user_id,event\n2026-03-01T10:00:00Z,u1,login\n"
    (config.inbox / "good.csv").write_text(rows)
    (config.inbox / "export.csv.crdownload").write_text(rows)
    (config.inbox / "~$notes.csv").write_text(rows)
    (config.inbox / "march").mkdir()
    (config.inbox / "march" / "inside.csv").write_text(rows)
    results = {r.path.name: r for r in ingest_inbox(config)}
    assert {name: r.status for name, r in results.items()} == {
        "good.csv": "loaded",
        "export.csv.crdownload": "rejected",
        "~$notes.csv": "rejected",
        "march": "rejected",
    }
    assert "still being downloaded or saved" in results["export.csv.crdownload"].errors[0].message
    assert "a folder: put its files into the inbox itself" in results["march"].errors[0].message
    assert sorted(p.name for p in config.inbox.iterdir()) == ["export.csv.crdownload", "march", "~$notes.csv"]
    assert (config.inbox / "march" / "inside.csv").exists()
    assert [p.name for p in config.archive.iterdir()] == ["good.csv"]
    assert not config.rejected.exists() or not list(config.rejected.iterdir())
    # Said as what it is: not loaded yet, waiting in the inbox ("rejected" read as refused; QA).
    assert results["march"].summary() == "march: not loaded, left in the inbox"


def test_a_file_written_while_it_is_read_is_not_loaded_and_stays_in_the_inbox(tmp_path: Path) -> None:
    """An export still being written, caught at a line boundary, loaded 200 of its 400 rows and
    was archived as loaded while the writer went on (ingest QA). Here a thread appends a row
    every 2 ms while a 200,000-row file is read."""
    config = load_config(tmp_path / "ws")
    config.inbox.mkdir(parents=True)
    path = config.inbox / "export.csv"
    lines = ["event_time,user_id,event"] + [f"2026-03-01T10:00:00Z,u{n},login" for n in range(200_000)]
    path.write_text("\n".join(lines) + "\n")
    done = threading.Event()

    def keep_writing() -> None:
        with open(path, "a") as handle:
            while not done.is_set():
                handle.write("2026-03-02T10:00:00Z,late,login\n")
                handle.flush()
                done.wait(0.002)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        (result,) = ingest_inbox(config)
    finally:
        done.set()
        writer.join()
    assert result.status == "rejected" and result.left_in_inbox
    assert "the file changed while it was read" in result.errors[0].message
    assert path.exists() and not config.archive.exists()
    assert Store(config.store_dir).current_version() in (0, 1)
    with Store(config.store_dir).reader() as reader:
        assert reader.frame("SELECT count(*) AS n FROM batches")["n"].item() == 0
    (again,) = ingest_inbox(config)  # once complete, it loads
    assert again.status == "loaded" and again.rows_loaded > 200_000


def test_a_file_cut_mid_row_while_it_is_written_stays_in_the_inbox(tmp_path: Path) -> None:
    """Caught inside a row, as a writer flushing blocks leaves it, the file was rejected as cut
    off and moved to rejected/ under the writer (review). The writer's next bytes land while
    the ingest runs (its progress callback writes them): the row is still cut, the file changed."""
    config = load_config(tmp_path / "ws")
    config.inbox.mkdir(parents=True)
    path = config.inbox / "export.csv"
    path.write_text("event_time,user_id,event\n2026-03-01T10:00:00Z,u1,login\n2026-03-01T11:00:00Z,u")

    def writing_on(message: str, fraction: float) -> None:
        with open(path, "a") as handle:
            handle.write("2")  # still inside the row

    (result,) = ingest_inbox(config, progress=writing_on)
    assert result.status == "rejected" and result.left_in_inbox
    assert "the file changed while it was read" in result.errors[0].message
    assert path.exists() and not config.rejected.exists()
    path.write_text(path.read_text() + ",login\n")  # complete
    (again,) = ingest_inbox(config)
    assert again.status == "loaded" and again.rows_loaded == 2


@pytest.mark.parametrize("skip", [False, True])
def test_every_problem_row_is_listed_beside_the_moved_file(tmp_path: Path, skip: bool) -> None:
    """Only the first 20 were ever shown; with --skip-bad-rows the other 30 could be found only
    with SQL on the store (ingest QA). 50 bad rows of 100: all 50 in rejected/<name>.errors.txt,
    or, loaded without them, in archive/<name>.skipped.txt, which the cut list names."""
    config = load_config(tmp_path / "ws")
    config.inbox.mkdir(parents=True)
    lines = ["event_time,user_id,event"]
    for n in range(100):
        lines.append(f"{'not a time' if n % 2 else '2026-03-01T10:00:00Z'},u{n},login")
    (config.inbox / "half.csv").write_text("\n".join(lines) + "\n")
    (result,) = ingest_inbox(config, skip_bad_rows=skip)
    assert result.status == ("loaded" if skip else "rejected")
    listing = (config.archive / "half.csv.skipped.txt") if skip else (config.rejected / "half.csv.errors.txt")
    text = listing.read_text()
    assert [n for n in range(2, 102) if f"row {n}," in text] == list(range(3, 102, 2))  # rows 3, 5, ... 101
    assert "more rows with problems" not in text
    assert result.messages()[-1] == f"half.csv: 30 more rows with problems: every one is listed in {listing}"
    assert not (config.archive / "half.csv.errors.txt").exists()


def test_an_objective_on_a_metric_not_defined_yet_loads_and_says_so(tmp_path: Path) -> None:
    """It loaded without a word; the reason showed later on the objective, without file, row or
    column (ingest QA). Loaded still: the metric may be defined later."""
    goals = tmp_path / "objectives.csv"
    goals.write_text(
        "objective_id,title,metric,baseline,target,start_date,target_date,direction,owner\n"
        "O1,Grow,dau,1,3,2026-03-01,2026-12-31,increase,Ann\n"
        "O9,Other,no_such_metric,1,3,2026-03-01,2026-12-31,increase,Ann\n"
    )
    (result,) = ingest([goals], load_config(tmp_path / "ws"))
    assert result.status == "loaded" and result.metrics_unknown == ("row 3: 'no_such_metric'",)
    assert "column \"metric\" names a metric not defined yet (row 3: 'no_such_metric'): define it in pmkit.toml" in (
        result.summary()
    )


def test_overlapping_exports_without_ids_count_their_shared_rows_once(tmp_path: Path) -> None:
    """Rows 0-49 then rows 25-59 of one spreadsheet export, no id column: the 25 shared rows
    counted twice (ingest QA; then loaded and only said). They are skipped now, and said; a next
    export that does not overlap reads nothing stored and skips nothing. The store holds the 60
    rows once (a query of its events against the rows written)."""
    rows = [f"2026-03-01T10:{n // 60:02d}:{n % 60:02d}Z,u{n % 7},login" for n in range(60)]
    first, second, later = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    header = "event_time,user_id,event\n"
    first.write_text(header + "\n".join(rows[:50]) + "\n")
    second.write_text(header + "\n".join(rows[25:60]) + "\n")
    later.write_text(header + "2026-03-02T10:00:00Z,u1,login\n")
    config = load_config(tmp_path / "ws")
    a, b, c = ingest([first, second, later], config)
    assert (a.rows_seen_before, b.rows_seen_before, c.rows_seen_before) == (0, 25, 0)
    assert (a.rows_loaded, b.rows_loaded, c.rows_loaded) == (50, 10, 1)
    assert b.summary().endswith(
        "loaded 10 rows as events (pmkit events CSV), 25 rows skipped as copies of events loaded before "
        "(the same time, user, event and revenue, where one of the two has no event_id: an overlapping export)"
    )
    assert "copies" not in c.summary()
    with Store(config.store_dir).reader() as reader:
        stored = reader.frame(
            "SELECT strftime(event_time, '%Y-%m-%dT%H:%M:%SZ') || ',' || user_id || ',' || event AS row FROM events ORDER BY event_time"
        )
        kpis = reader.frame("SELECT day, events FROM kpi_daily ORDER BY day")
    assert stored["row"].to_list() == [*rows, "2026-03-02T10:00:00Z,u1,login"]
    assert kpis.rows() == [(dt.date(2026, 3, 1), 60), (dt.date(2026, 3, 2), 1)]


@pytest.mark.parametrize(
    ("first_ids", "second_ids", "second_revenue"),
    [
        ((None, None, None), (None, None, "o-1"), "20"),  # ids on the purchase only (review: 6 events, $40)
        ((None, None, None), ("e-1", "e-2", "e-3"), "20"),  # ids on every row, over an export without
        (("e-1", "e-2", "e-3"), (None, None, None), "20"),  # an export without ids over one with
        ((None, None, None), (None, None, None), "20.00"),  # the same amount written otherwise
    ],
)
def test_an_export_with_or_without_ids_over_one_with_the_other_counts_each_event_once(
    tmp_path: Path, first_ids: tuple, second_ids: tuple, second_revenue: str
) -> None:
    """Three events (a login with a blank revenue, a view with 0, a $20 purchase), then an
    export of the same three and one more, where one of the two files has ids and the other
    not, or only some rows have them: 3 + 1 events and $20, whichever way round. A blank
    revenue and 0 are the same (review: a 0 copying a blank loaded again)."""
    config = load_config(tmp_path / "ws")
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    rows = [("2026-03-01T10:00:00Z", "u1", "login", ""), ("2026-03-01T10:05:00Z", "u1", "view", "0")]
    header = "event_time,user_id,event,revenue,event_id\n"

    def lines(ids: tuple, revenue: str, revenue_blank: tuple[str, str] = ("", "0")) -> str:
        cells = [(*row[:3], blank) for row, blank in zip(rows, revenue_blank, strict=True)]
        cells.append(("2026-03-01T11:00:00Z", "u2", "buy", revenue))
        return "".join(f"{','.join(c)},{i or ''}\n" for c, i in zip(cells, ids, strict=True))

    first.write_text(header + lines(first_ids, "20"))
    # The second export writes the login's revenue as 0 and the view's as blank.
    second.write_text(header + lines(second_ids, second_revenue, ("0", "")) + "2026-03-02T09:00:00Z,u3,login,,\n")
    a, b = ingest([first, second], config)
    assert (b.rows_loaded, b.rows_seen_before + b.rows_duplicate) == (1, 3)
    with Store(config.store_dir).reader() as reader:
        kpis = reader.frame("SELECT day, events, revenue FROM kpi_daily ORDER BY day")
    assert kpis.rows() == [(dt.date(2026, 3, 1), 3, 20.0), (dt.date(2026, 3, 2), 1, 0.0)]


def test_a_file_without_ids_skips_each_loaded_copy_once(tmp_path: Path) -> None:
    """Equal rows can be two events: a file holding a row twice where the store holds it once
    loads it once. A later export with a column more (a session id, a plan) repeats the same
    events: they are copies all the same (review: 5 events stored of 3, and no word). A row with
    other revenue is another event."""
    config = load_config(tmp_path / "ws")
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(
        "event_time,user_id,event,revenue\n2026-03-01T10:00:00Z,u1,login,\n2026-03-01T11:00:00Z,u2,buy,10.10\n"
    )
    second.write_text(
        "event_time,user_id,event,revenue,session_id,plan\n"
        "2026-03-01T10:00:00Z,u1,login,,s1,\n"  # the copy
        "2026-03-01T10:00:00Z,u1,login,,s1,\n"  # a second event at the same second
        "2026-03-01T11:00:00Z,u2,buy,10.1,s2,pro\n"  # the copy, with a plan and a session now
        "2026-03-01T11:00:00Z,u2,buy,20,s2,pro\n"  # another purchase at the same second
    )
    a, b = ingest([first, second], config)
    assert (b.rows_seen_before, b.rows_loaded) == (2, 2)
    with Store(config.store_dir).reader() as reader:
        counted = reader.frame(
            "SELECT user_id, count(*) AS n, sum(revenue) AS revenue FROM events GROUP BY user_id ORDER BY user_id"
        )
        listed = reader.frame("SELECT name, rows_loaded, rows_duplicate FROM loaded_files ORDER BY file_id")
    assert counted.rows() == [("u1", 2, None), ("u2", 2, 30.1)]
    assert listed.rows() == [("a.csv", 2, 0), ("b.csv", 2, 2)]


def test_a_file_given_by_path_that_changes_while_it_is_read_is_refused(tmp_path: Path) -> None:
    """Not in the inbox, it is refused as any file is (the CLI exits 1), not "left in the inbox"
    with exit 0, after which `ingest f && rm f` deleted a file never loaded (review)."""
    path = tmp_path / "export.csv"
    path.write_text("event_time,user_id,event\n2026-03-01T10:00:00Z,u1,login\n2026-03-01T11:00:00Z,u")

    def writing_on(message: str, fraction: float) -> None:
        with open(path, "a") as handle:
            handle.write("2")

    (result,) = ingest([path], load_config(tmp_path / "ws"), progress=writing_on)
    assert result.status == "rejected" and not result.left_in_inbox
    assert "the file changed while it was read" in result.errors[0].message


def test_a_roadmap_without_a_date_is_the_workspaces_today_not_the_machines(tmp_path: Path) -> None:
    """A Kiritimati workspace (UTC+14) is a day ahead of a UTC machine for 14 hours of each day,
    and the other way round for Pago Pago (UTC-11): the machine's date put the export on the
    day before (or after) the one its events end on (QA)."""
    from zoneinfo import ZoneInfo

    from pmkit.ingest import snapshot_date_for

    path = tmp_path / "roadmap.csv"  # no date in its name
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"):
        expected = dt.datetime.now(ZoneInfo(zone)).date()
        assert snapshot_date_for(path, None, zone) == expected
    assert snapshot_date_for(tmp_path / "jira_2026-03-13.csv", None, "Pacific/Kiritimati") == dt.date(2026, 3, 13)


def test_overlapping_survey_exports_without_ids_count_each_answer_once(tmp_path: Path) -> None:
    """Two exports of the same survey without answer ids, the second repeating the first's last
    answer (u2's 3). They stored 4 answers and the NPS read 0 where 3 answers (a 9, a 3 and a 10)
    give (2 - 1) / 3 = +33 (ingest QA). A copy is skipped as often as it was stored: a third
    file holding u2's answer twice loads it once more; an answer equal but for its comment is
    another answer."""
    header = "submitted_at,user_id,score,scale,comment,source\n"
    first = header + "2026-03-01T10:00:00Z,u1,9,nps,good,typeform\n2026-03-01T11:00:00Z,u2,3,nps,bad,typeform\n"
    second = header + "2026-03-01T11:00:00Z,u2,3,nps,bad,typeform\n2026-03-02T11:00:00Z,u3,10,nps,,typeform\n"
    third = (
        header + "2026-03-01T11:00:00Z,u2,3,nps,bad,typeform\n" * 2 + "2026-03-01T11:00:00Z,u2,3,nps,worse,typeform\n"
    )
    config = load_config(tmp_path / "ws")
    files = [write(tmp_path / name, text) for name, text in (("f1.csv", first), ("f2.csv", second))]
    results = ingest(files, config)
    assert [(r.status, r.rows_loaded, r.rows_seen_before) for r in results] == [("loaded", 2, 0), ("loaded", 1, 1)]
    assert "1 answer skipped as a copy of answers loaded before" in results[1].summary()
    with Store(config.store_dir).reader() as reader:
        scores = reader.frame("SELECT score FROM feedback WHERE scale = 'nps'")["score"].to_list()
        score = metrics.feedback.nps(reader, grain="period")
    assert sorted(scores) == [3.0, 9.0, 10.0]
    promoters, detractors = sum(s >= 9 for s in scores), sum(s <= 6 for s in scores)
    assert score["nps"].item() == pytest.approx((promoters - detractors) / len(scores) * 100) == pytest.approx(100 / 3)
    (again,) = ingest([write(tmp_path / "f3.csv", third)], config)
    assert (again.rows_loaded, again.rows_seen_before) == (2, 1)
    with Store(config.store_dir).reader() as reader:
        u2 = reader.frame("SELECT comment FROM feedback WHERE user_id = 'u2' ORDER BY comment")["comment"].to_list()
    assert u2 == ["bad", "bad", "worse"]


def test_a_file_name_is_never_a_pattern(tmp_path: Path) -> None:
    """`ev*.csv` beside `evz.csv` loaded evz's rows as its own, `week?.csv` was refused with
    another file's errors, and `report [final].csv` as "expanded paths were empty": the CSV
    reader took the name as a glob pattern (QA). Each file is its own rows, Parquet too."""
    header = "event_time,user_id,event\n"
    files = {
        "ev*.csv": header + "2026-03-01T10:00:00Z,a,login\n",
        "evz.csv": header + "2026-03-01T10:00:00Z,z1,login\n2026-03-01T11:00:00Z,z2,login\n",
        "report [final].csv": header + "2026-03-01T12:00:00Z,b,login\n",
        "week?.csv": header + "2026-03-02T10:00:00Z,w,login\n",
        "week3.csv": header + "2026-02-30T10:00:00Z,bad,login\n",
    }
    paths = [write(tmp_path / name, text) for name, text in files.items()]
    pl.DataFrame({"event_time": ["2026-03-03T10:00:00Z"], "user_id": ["p"], "event": ["login"]}).write_parquet(
        tmp_path / "pq*.parquet"
    )
    pl.DataFrame(
        {"event_time": ["2026-03-03T10:00:00Z"] * 2, "user_id": ["q1", "q2"], "event": ["login"] * 2}
    ).write_parquet(tmp_path / "pqx.parquet")
    results = ingest([*paths, tmp_path / "pq*.parquet", tmp_path / "pqx.parquet"], load_config(tmp_path / "ws"))
    assert [(r.name, r.status, r.rows_loaded) for r in results] == [
        ("ev*.csv", "loaded", 1),
        ("evz.csv", "loaded", 2),
        ("report [final].csv", "loaded", 1),
        ("week?.csv", "loaded", 1),
        ("week3.csv", "rejected", 0),
        ("pq*.parquet", "loaded", 1),
        ("pqx.parquet", "loaded", 2),
    ]


def test_a_roadmap_title_that_turns_the_writing_direction_is_closed_and_ids_stay_as_typed(tmp_path: Path) -> None:
    """QA: a title "\u202eevil.exe" (a right-to-left override) went into the report's and the
    summary's sentences open, and the words after it read backwards ("Most urgent: .(enod %03
    ...)"). Titles, owners, teams and statuses are stored closed; ids are stored as typed, so a
    blocker list and an objective id still match (closing every cell broke them; review)."""
    roadmap = write(
        tmp_path / "roadmap.csv",
        "item_id,title,owner,objective_id,blocked_by\n"
        "\u202eA,\u202eevil.exe,\u2067Ann,\u202eOBJ,\n"
        "B,Plain,Bo,\u202eOBJ,\n"
        'C,Blocked,Cy,,"\u202eA, B"\n',
    )
    objectives = write(
        tmp_path / "objectives.csv",
        "objective_id,title,metric,baseline,target,start_date,target_date,direction,owner\n"
        "\u202eOBJ,\u202eGrow,dau,1,2,2026-03-01,2026-06-30,increase,\u202eJo\n",
    )
    config = load_config(tmp_path / "ws")
    ingest([roadmap, objectives], config)
    with Store(config.store_dir).reader() as reader:
        items = reader.frame("SELECT item_id, title, owner, objective_id, blocked_by FROM roadmap_items ORDER BY 1")
        goals = reader.frame("SELECT objective_id, title, owner FROM objectives").rows()
    assert items.rows() == [
        ("B", "Plain", "Bo", "\u202eOBJ", None),
        ("C", "Blocked", "Cy", None, "\u202eA,B"),
        ("\u202eA", "\u202eevil.exe\u202c", "\u2067Ann\u2069", "\u202eOBJ", None),
    ]
    assert goals == [("\u202eOBJ", "\u202eGrow\u202c", "\u202eJo\u202c")]
