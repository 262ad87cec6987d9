"""Clearing the demo: it goes, the user's own files loaded beside it stay, and it does not come back."""

from __future__ import annotations

import datetime as dt
import random
import threading
from pathlib import Path

import pytest

from pmkit.config import load_config
from pmkit.demo import write_demo
from pmkit.ingest import ingest, ingest_inbox
from pmkit.store import Store
from pmkit.workspace import clear_demo, is_empty, load_upload, mark_demo

END = dt.date(2026, 3, 31)
OWN_EVENTS = b"event_time,user_id,event\n2026-03-20T10:00:00Z,mine1,login\n2026-03-21T10:00:00Z,mine2,signup\n"
OWN_ROADMAP = b"item_id,title,status\nMY-1,My own item,in progress\n"


def demo_workspace(root: Path) -> Path:
    """What ensure_demo builds, smaller."""
    mark_demo(root, write_demo(root, events=3_000, seed=2, end=END))
    ingest_inbox(load_config(root))
    return root


def loaded(root: Path) -> tuple[list[str], list[str], list[str]]:
    """(loaded file names, event users, roadmap item ids) of the published version."""
    with Store(load_config(root).store_dir).reader() as reader:
        return (
            reader.frame("SELECT name FROM loaded_files ORDER BY file_id")["name"].to_list(),
            sorted(reader.frame("SELECT DISTINCT user_id FROM events")["user_id"].to_list()),
            reader.frame("SELECT item_id FROM roadmap_items ORDER BY item_id")["item_id"].to_list(),
        )


def test_clearing_the_demo_keeps_the_users_own_uploads_and_does_not_rebuild_it(tmp_path: Path) -> None:
    """An upload named like a demo file (feedback.csv holds the user's events here) is the user's:
    files are told apart by content. Before, clearing removed the whole store with the user's
    loads, and the next start built the demo again at once."""
    root = demo_workspace(tmp_path / "ws")
    config = load_config(root)
    version = Store(config.store_dir).current_version()
    assert load_upload(config, "feedback.csv", OWN_EVENTS).status == "loaded"
    assert load_upload(config, "roadmap_2026-03-25.csv", OWN_ROADMAP).status == "loaded"
    results = clear_demo(config)
    assert [(r.name, r.status, r.rows_loaded) for r in results] == [
        (results[0].name, "loaded", 2),
        ("roadmap_2026-03-25.csv", "loaded", 1),
    ]
    names, users, items = loaded(root)
    assert names == [results[0].name, "roadmap_2026-03-25.csv"]
    assert (users, items) == (["mine1", "mine2"], ["MY-1"])
    assert Store(config.store_dir).current_version() > version + 2  # caches keyed by version stay apart
    after = load_config(root)
    assert not after.demo and not is_empty(after)
    assert sorted(p.name for p in config.archive.iterdir()) == sorted(names)
    assert not (root / "demo_files.txt").exists()
    with Store(config.store_dir).reader() as reader:
        snapshot = reader.frame("SELECT DISTINCT snapshot_date FROM roadmap_items")["snapshot_date"].to_list()
    assert snapshot == [dt.date(2026, 3, 25)]


def test_a_file_loaded_from_outside_the_workspace_stops_the_clearing(tmp_path: Path) -> None:
    """The store is pmkit's only copy of it: nothing is removed, and the message says what to do."""
    root = demo_workspace(tmp_path / "ws")
    config = load_config(root)
    outside = tmp_path / "my_export.csv"
    outside.write_bytes(OWN_EVENTS)
    ingest([outside], config)
    before = loaded(root)
    with pytest.raises(
        ValueError, match=r"my_export\.csv was loaded from outside the workspace .* nothing was removed"
    ):
        clear_demo(config)
    assert loaded(root) == before
    assert load_config(root).demo and (root / "demo_files.txt").exists()


def test_an_uploads_messages_name_the_file_the_user_chose(tmp_path: Path) -> None:
    """It was saved as crash_dup_.csv, and the messages named that file, which the user never had."""
    config = load_config(tmp_path / "ws")
    result = load_upload(config, "crash **dup**.csv", b"event_time,user_id,event\nsoon,u1,a\n")
    assert result.messages()[0].startswith('crash **dup**.csv, row 2, column "event_time"')
    assert result.summary() == "crash **dup**.csv (saved as crash_dup_.csv): rejected, nothing loaded"
    assert (config.rejected / "crash_dup_.csv").exists()
    same = load_upload(config, "plain.csv", b"event_time,user_id,event\n2026-03-01T10:00:00Z,u1,a\n")
    assert same.summary().startswith("plain.csv: loaded 1 row")


def test_clearing_the_demo_keeps_settings_the_user_added_to_pmkit_toml(tmp_path: Path) -> None:
    # Clearing wrote a fresh pmkit.toml over a time zone and a metric of the user's: their own
    # files were loaded again in UTC, and the metric was gone (QA).
    from pmkit.workspace import demo_settings_edited

    root = demo_workspace(tmp_path / "ws")
    toml = root / "pmkit.toml"
    assert not demo_settings_edited(load_config(root))
    text = toml.read_text().replace('timezone = "UTC"', 'timezone = "Europe/Berlin"')
    toml.write_text(text + '\n[metrics.my_own]\ntype = "count"\nevent = "login"\n')
    config = load_config(root)
    assert demo_settings_edited(config)
    assert load_upload(config, "mine.csv", OWN_EVENTS).status == "loaded"
    clear_demo(config)
    after = load_config(root)
    assert not after.demo
    assert after.timezone == "Europe/Berlin" and "my_own" in after.metrics
    assert "demo = true" not in toml.read_text()
    with Store(after.store_dir).reader() as reader:
        assert reader.meta("timezone") == "Europe/Berlin"  # the user's file loaded again in their zone


def test_clearing_an_untouched_demo_leaves_the_default_settings(tmp_path: Path) -> None:
    root = demo_workspace(tmp_path / "ws")
    clear_demo(load_config(root))
    assert (root / "pmkit.toml").read_text() == "# pmkit workspace settings: see the README's Settings section.\n"


def test_a_store_without_its_current_is_not_a_new_workspace(tmp_path: Path) -> None:
    """No pmkit.toml (as the CLI leaves a workspace) and CURRENT missing beside a version: the app
    took it for brand new and wrote the demo into it (review)."""
    from pmkit.ingest import ingest
    from pmkit.workspace import is_empty

    events = tmp_path / "events.csv"
    events.write_text("event_time,user_id,event\n2026-03-01T10:00:00Z,u1,login\n")
    config = load_config(tmp_path / "ws")
    assert [r.status for r in ingest([events], config)] == ["loaded"]
    assert not (config.data_dir / "pmkit.toml").exists()
    (config.store_dir / "CURRENT").unlink()
    assert not is_empty(config)


def test_clearing_the_demo_keeps_files_waiting_in_the_inbox_and_rows_loaded_skipping_bad_ones(tmp_path: Path) -> None:
    """Two ways clearing the demo lost the user's data (QA): a file of theirs waiting in the inbox
    under a demo file's name (objectives.csv) and one under the name of a file of theirs loaded
    before were deleted or overwritten; and a file loaded with its bad rows skipped was loaded
    again without skipping them, rejected, its good row gone."""
    root = demo_workspace(tmp_path / "ws")
    config = load_config(root)
    assert load_upload(config, "events.csv", OWN_EVENTS).status == "loaded"
    bad = b"event_time,user_id,event\n2026-03-23T10:00:00Z,mine3,login\n2026-02-30T10:00:00Z,mine4,login\n"
    skipped = load_upload(config, "bad_dates.csv", bad, skip_bad_rows=True)
    assert (skipped.status, skipped.rows_loaded, skipped.rows_rejected) == ("loaded", 1, 1)
    waiting = {
        "objectives.csv": "objective_id,title,metric\nMY-OBJ,My own objective,dau\n",
        "events.csv": "event_time,user_id,event\n2026-03-22T10:00:00Z,waiting1,login\n",
    }
    for name, text in waiting.items():
        (config.inbox / name).write_text(text)
    results = clear_demo(config)
    assert [(r.name, r.status) for r in results] == [("events.csv", "loaded"), ("bad_dates.csv", "loaded")]
    for name, text in waiting.items():
        assert (config.inbox / name).read_text() == text  # still waiting, untouched
    assert not (config.rejected.exists() and any(config.rejected.iterdir()))
    _, users, _ = loaded(root)
    assert users == ["mine1", "mine2", "mine3"]


def test_clearing_a_demo_whose_first_load_never_ran_removes_its_files_from_the_inbox(tmp_path: Path) -> None:
    """The demo's files written, its first load cut short: clearing kept all of them in the inbox
    (only archived files were known as the demo's) and the next load took them as the user's
    own (review). They go; a file of the user's named like one of them stays."""
    root = tmp_path / "ws"
    written = write_demo(root, events=300, seed=2, end=END)
    mark_demo(root, written)
    config = load_config(root)
    mine = config.inbox / "objectives.csv"
    mine.write_text("objective_id,title,metric\nMY-OBJ,My own objective,dau\n")
    assert clear_demo(config) == []
    assert [p.name for p in config.inbox.iterdir()] == ["objectives.csv"]
    assert mine.read_text().startswith("objective_id,title,metric\nMY-OBJ")


def test_an_upload_takes_its_turn_with_an_inbox_load_in_another_tab(tmp_path: Path) -> None:
    """Review: an upload saved its file into the inbox, then loaded it; an inbox load in another
    tab in between loaded and moved that file, and the upload failed (FileNotFoundError, a
    traceback on the Data page). Here the other tab loads the inbox again and again while a file
    of 20,000 rows is uploaded: each upload is loaded once, by the upload."""
    config = load_config(tmp_path / "ws")
    config.inbox.mkdir(parents=True)
    rng = random.Random(7)
    lines = [
        f"2026-03-{rng.randint(1, 28):02d}T10:{rng.randint(0, 59):02d}:00Z,u{rng.randint(1, 500)},e\n"
        for _ in range(20_000)
    ]
    uploaded, other_tab, failures = threading.Event(), [], []

    def load_the_inbox() -> None:
        while not uploaded.is_set():
            try:
                other_tab.extend(ingest_inbox(load_config(tmp_path / "ws")))
            except Exception as error:  # noqa: BLE001 - what the other tab would show
                failures.append(error)

    tab = threading.Thread(target=load_the_inbox)
    tab.start()
    try:
        results = [
            load_upload(config, f"upload{k}.csv", ("event_time,user_id,event\n" + "".join(lines[k::3])).encode())
            for k in range(3)
        ]
    finally:
        uploaded.set()
        tab.join()
    assert failures == []
    assert [r.status for r in results] == ["loaded"] * 3
    assert other_tab == []
    assert sorted(p.name for p in config.archive.iterdir()) == ["upload0.csv", "upload1.csv", "upload2.csv"]


def test_a_small_upload_cut_off_by_a_full_disk_leaves_no_file(small_disk):
    """Review: an upload under its file's buffer (a 4 KiB block here) meets a full disk only when it is
    closed, after the write: half a roadmap stayed in the inbox and loaded as a cut-off export."""
    from pmkit.workspace import save_new_file

    disk = small_disk("1m")
    inbox = disk.path / "inbox"
    inbox.mkdir()
    disk.fill(0)
    with pytest.raises(OSError):
        save_new_file(inbox, "roadmap.csv", b"item_id,title\n" + b"A-1,One\n" * 300)  # under a 4 KiB block
    assert list(inbox.iterdir()) == []
