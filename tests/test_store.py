"""The store publishes whole versions atomically and never lets a reader see half an ingest."""

from pathlib import Path

import pytest

from pmkit.store import COMPACT_EVERY, KEEP_VERSIONS, PARQUET_FILE, Store, quote_identifier, wait_for_cleanup


def publish(store: Store, value: str) -> None:
    with store.writer() as writer:
        writer.set_meta("value", value)


def test_empty_store_has_version_zero_and_an_empty_events_view(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    assert store.current_version() == 0
    with store.reader() as reader:
        assert reader.frame("SELECT count(*) AS n FROM events")["n"].item() == 0
        assert reader.frame("SELECT count(*) AS n FROM kpi_daily")["n"].item() == 0


def test_each_writer_block_publishes_the_next_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    publish(store, "a")
    publish(store, "b")
    assert store.current_version() == 2
    with store.reader() as reader:
        assert reader.meta("value") == "b"


def test_a_failed_writer_publishes_nothing_and_leaves_no_files(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    publish(store, "kept")
    with pytest.raises(RuntimeError), store.writer() as writer:
        writer.set_meta("value", "lost")
        writer.parquet_path(99).write_bytes(b"partial")
        raise RuntimeError("boom")
    assert store.current_version() == 1
    with store.reader() as reader:
        assert reader.meta("value") == "kept"
    assert not list(store.root.glob(".v*"))
    assert not list(store.events_dir.glob("*.parquet"))


def test_an_open_reader_keeps_reading_its_version_while_a_new_one_is_published(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    publish(store, "old")
    with store.reader() as reader:
        publish(store, "new")
        assert reader.meta("value") == "old"
    with store.reader() as reader:
        assert reader.meta("value") == "new"


def test_old_versions_are_removed_but_recent_ones_kept(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    for index in range(KEEP_VERSIONS + 3):
        publish(store, str(index))
    wait_for_cleanup()  # superseded versions are deleted in the background
    versions = sorted(p.name for p in store.root.glob("v*.duckdb"))
    assert len(versions) == KEEP_VERSIONS
    assert versions[-1] == f"v{KEEP_VERSIONS + 3:06d}.duckdb"


def test_a_superseded_version_that_cannot_be_deleted_does_not_fail_the_publish(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    store.root.mkdir(parents=True)
    # Named as the oldest version but a directory: unlinking it fails with an OSError.
    (store.root / "v000000.duckdb").mkdir()
    for index in range(KEEP_VERSIONS + 1):
        publish(store, str(index))
    wait_for_cleanup()
    assert store.current_version() == KEEP_VERSIONS + 1
    with store.reader() as reader:
        assert reader.meta("value") == str(KEEP_VERSIONS)
    # The deletable old version went; the one that could not be deleted stays for a later try.
    versions = sorted(p.name for p in store.root.glob("v*.duckdb"))
    assert versions == ["v000000.duckdb", *(f"v{v:06d}.duckdb" for v in range(2, KEEP_VERSIONS + 2))]


def test_leftovers_of_a_killed_writer_are_cleaned_by_the_next_one(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    publish(store, "a")
    (store.root / ".v000002.duckdb.tmp").write_bytes(b"half written")
    (store.root / ".v000002.duckdb.tmp.wal").write_bytes(b"its log")
    (store.events_dir / "f000042.parquet").write_bytes(b"orphan")
    # A publish into this store that the disk stopped half way (lifecycle QA): never removed.
    (store.events_dir / ".f000004-b8d8ad81527f.parquet.tmp").write_bytes(b"half copied")
    publish(store, "b")
    assert not (store.root / ".v000002.duckdb.tmp").exists()
    assert not (store.root / ".v000002.duckdb.tmp.wal").exists()
    assert not (store.events_dir / "f000042.parquet").exists()
    assert not (store.events_dir / ".f000004-b8d8ad81527f.parquet.tmp").exists()
    with store.reader() as reader:
        assert reader.meta("value") == "b"


def test_the_next_writer_keeps_the_parquet_files_the_store_lists(tmp_path: Path) -> None:
    from pmkit.config import load_config
    from pmkit.ingest import ingest

    config = load_config(tmp_path / "ws")
    csv = tmp_path / "a.csv"
    csv.write_text("event_time,user_id,event\n2026-03-01T10:00:00Z,u1,login\n2026-03-02T10:00:00Z,u2,login\n")
    ingest([csv], config)
    store = Store(config.store_dir)
    (store.events_dir / "f000042.parquet").write_bytes(b"orphan")
    publish(store, "b")
    kept = sorted(p.name for p in store.events_dir.glob("*.parquet"))
    assert len(kept) == 1 and PARQUET_FILE.match(kept[0]) and kept[0].startswith("f000001-")
    with store.reader() as reader:
        assert reader.frame("SELECT count(*) AS n FROM events")["n"].item() == 2


def stored_and_live_rows(store: Store) -> tuple[int, int]:
    with store.reader() as reader:
        stored = reader.frame(
            "SELECT sum(count) AS n FROM pragma_storage_info('t') WHERE column_id = 0 AND segment_type <> 'VALIDITY'"
        )
        live = reader.frame("SELECT count(*) AS n FROM t")
    return int(stored["n"].item()), int(live["n"].item())


def a_store_with_a_table_t(tmp_path: Path) -> Store:
    store = Store(tmp_path / "store")
    with store.writer() as writer:  # three row groups
        writer.con.execute("CREATE TABLE t AS SELECT range AS i FROM range(300000)")
    return store


def test_deleted_rows_stay_in_the_file_until_every_compact_every_th_version(tmp_path: Path) -> None:
    store = a_store_with_a_table_t(tmp_path)
    for version in range(2, COMPACT_EVERY):
        with store.writer() as writer:  # each version deletes rows, like a load's recomputed days
            writer.con.execute("DELETE FROM t WHERE i % 10 = $n", {"n": version})
        stored, live = stored_and_live_rows(store)
        assert stored == 300000 > live
    with store.writer() as writer:
        writer.con.execute("DELETE FROM t WHERE i % 10 = 8")
    assert store.current_version() == COMPACT_EVERY
    assert stored_and_live_rows(store) == (90000, 90000)


def test_a_rebuild_compacts_at_once(tmp_path: Path) -> None:
    store = a_store_with_a_table_t(tmp_path)
    with store.writer() as writer:
        # Over half of each row group deleted: DuckDB merges row groups only then.
        writer.con.execute("DELETE FROM t WHERE i % 10 < 6")
        writer.rebuilt = True
    assert store.current_version() % COMPACT_EVERY
    assert stored_and_live_rows(store) == (120000, 120000)


@pytest.mark.parametrize("name", ["plan", "geo_country", "app_version2"])
def test_safe_identifiers_are_quoted(name: str) -> None:
    assert quote_identifier(name) == f'"{name}"'


@pytest.mark.parametrize("name", ['plan"; DROP TABLE users; --', "Plan", "1x", "a b", ""])
def test_unsafe_identifiers_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        quote_identifier(name)


def test_readers_cannot_touch_files_outside_the_store(tmp_path: Path) -> None:
    import duckdb

    store = Store(tmp_path / "store")
    publish(store, "a")
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    with store.reader() as reader:
        for statement in (
            f"SELECT * FROM read_csv('{secret}')",
            f"COPY (SELECT 1) TO '{tmp_path}/out.csv'",
            "SET enable_external_access = true",
        ):
            with pytest.raises(duckdb.Error):
                reader.frame(statement)
    assert not (tmp_path / "out.csv").exists()


def _events_workspace(root: Path, *rows: str) -> Store:
    from pmkit.config import load_config
    from pmkit.ingest import ingest

    config = load_config(root)
    root.mkdir(parents=True, exist_ok=True)
    for index, text in enumerate(rows):
        csv = root / f"events{index}.csv"
        csv.write_text("event_time,user_id,event\n" + text)
        ingest([csv], config)
    return Store(config.store_dir)


def _raw_events(store: Store) -> list[tuple]:
    with store.reader() as reader:
        return reader.frame("SELECT user_id, event FROM events ORDER BY ALL").rows()


def test_publishing_into_a_store_with_events_of_its_own_serves_the_sources_events(tmp_path: Path) -> None:
    # Both stores number their first file 1: the target's own file was kept under the name the
    # source's file had, and the target's raw events were its own (QA: a funnel read 0 users).
    hosted = _events_workspace(tmp_path / "hosted", "2026-03-01T10:00:00Z,h1,x\n")
    source = _events_workspace(tmp_path / "pm", "2026-03-01T10:00:00Z,u1,y\n2026-03-01T11:00:00Z,u2,y\n")
    source.publish_to(hosted)
    assert _raw_events(hosted) == _raw_events(source) == [("u1", "y"), ("u2", "y")]
    # Published again unchanged: the file is the same one, not copied again.
    (name,) = (p.name for p in source.events_dir.glob("*.parquet"))
    before = (hosted.events_dir / name).stat().st_ino
    source.publish_to(hosted)
    assert (hosted.events_dir / name).stat().st_ino == before


def test_publishing_after_the_source_was_cleared_and_loaded_again_serves_the_new_events(tmp_path: Path) -> None:
    hosted = Store(tmp_path / "hosted" / "store")
    source = _events_workspace(tmp_path / "pm", "2026-03-01T10:00:00Z,demo1,x\n")
    source.publish_to(hosted)
    with source.writer(empty=True):
        pass  # the demo cleared, as pmkit.workspace.clear_demo does
    _events_workspace(tmp_path / "pm", "2026-03-02T10:00:00Z,real1,y\n")
    source.publish_to(hosted)
    assert _raw_events(hosted) == [("real1", "y")]
    # The demo's file is listed by a version the hosted store still keeps, until it is dropped.
    for _ in range(KEEP_VERSIONS):
        source.publish_to(hosted)
    assert len(list(hosted.events_dir.glob("*.parquet"))) == 1


def test_an_older_file_name_without_a_token_is_reused_only_with_the_same_bytes(tmp_path: Path) -> None:
    import duckdb

    hosted = _events_workspace(tmp_path / "hosted", "2026-03-01T10:00:00Z,h1,x\n")
    source = _events_workspace(tmp_path / "pm", "2026-03-01T10:00:00Z,u1,y\n")
    for store in (hosted, source):  # named as stores before the token named them
        (path,) = store.events_dir.glob("*.parquet")
        path.rename(store.events_dir / "f000001.parquet")
        with duckdb.connect(str(store.version_path(store.current_version()))) as con:
            con.execute("UPDATE batches SET path = 'f000001.parquet'")
    source.publish_to(hosted)
    assert _raw_events(hosted) == [("u1", "y")]
    assert (source.events_dir / "f000001.parquet").read_bytes() != (hosted.events_dir / "f000001.parquet").read_bytes()
    # Now the hosted store has a copy of its own under a new name; publishing again reuses it.
    names = sorted(p.name for p in hosted.events_dir.glob("*.parquet"))
    source.publish_to(hosted)
    assert sorted(p.name for p in hosted.events_dir.glob("*.parquet")) == names
    assert _raw_events(hosted) == [("u1", "y")]


def test_publishing_waits_for_an_ingest_into_the_target(tmp_path: Path) -> None:
    # Both wrote the target's .v000002.duckdb.tmp: the ingest failed and the version published
    # was a mix of the two stores.
    import threading

    source, target = Store(tmp_path / "a"), Store(tmp_path / "b")
    publish(source, "from the source")
    publish(target, "the target's own")
    waited = threading.Event()
    outcome: list[int] = []
    with target.writer() as writer:
        thread = threading.Thread(target=lambda: outcome.append(source.publish_to(target, waited.set)))
        thread.start()
        assert waited.wait(10)
        thread.join(0.5)
        assert thread.is_alive() and not outcome  # still waiting for the ingest
        writer.set_meta("value", "the ingest's")
    thread.join(10)
    assert outcome == [3] and target.current_version() == 3
    with target.reader() as reader:
        assert reader.meta("value") == "from the source"


def test_publishing_to_another_store_switches_its_readers_in_one_step(tmp_path: Path) -> None:
    source, target = Store(tmp_path / "a"), Store(tmp_path / "b")
    publish(source, "first")
    assert source.publish_to(target) == 1
    with target.reader() as reader:
        assert reader.meta("value") == "first"
    publish(source, "second")
    assert source.publish_to(target) == 2
    with target.reader() as reader:
        assert reader.meta("value") == "second"


def test_publish_refuses_a_listed_file_name_with_a_folder_in_it(tmp_path: Path) -> None:
    import duckdb

    source = _events_workspace(tmp_path / "pm", "2026-03-01T10:00:00Z,u1,y\n")
    with duckdb.connect(str(source.version_path(source.current_version()))) as con:
        con.execute("UPDATE batches SET path = '../../outside/f000001.parquet'")
    with pytest.raises(ValueError, match="unexpected file name"):
        source.publish_to(Store(tmp_path / "hosted" / "store"))
    assert not (tmp_path / "hosted" / "outside").exists() and not (tmp_path / "outside").exists()


def test_a_reader_open_on_the_hosted_store_keeps_reading_through_a_publish(tmp_path: Path) -> None:
    # Publishing a store at version 4 over a hosted one at version 1 jumped to version 4, dropped
    # version 1 and the Parquet files only it listed: the open reader's next query failed (QA).
    first = _events_workspace(tmp_path / "a", "2026-03-01T10:00:00Z,a1,x\n")
    hosted = Store(tmp_path / "hosted" / "store")
    first.publish_to(hosted)
    other = _events_workspace(tmp_path / "b", *(f"2026-03-0{day}T10:00:00Z,b{day},y\n" for day in range(1, 5)))
    assert other.current_version() == 4
    with hosted.reader() as reader:
        assert other.publish_to(hosted) == 2
        assert reader.frame("SELECT user_id FROM events").rows() == [("a1",)]
    assert len(_raw_events(hosted)) == 4


def test_a_cleared_stores_files_stay_while_a_kept_version_lists_them(tmp_path: Path) -> None:
    """Clearing (the demo's "Clear") deleted the Parquet files as it published: a page still
    reading the version before (another tab, a run pinned to it) failed on its next raw-event
    query. They go once no kept version lists them; a killed ingest's leftovers still go."""
    store = _events_workspace(tmp_path / "ws", "2026-03-01T10:00:00Z,demo1,x\n")
    (demo_file,) = store.events_dir.glob("*.parquet")
    before = store.current_version()
    with store.writer(empty=True):
        pass
    wait_for_cleanup()
    with store.reader(before) as reader:  # the version a page still shows
        assert reader.frame("SELECT user_id FROM events")["user_id"].to_list() == ["demo1"]
    leftover = store.events_dir / demo_file.name.replace(demo_file.stem, f"{demo_file.stem}9")
    leftover.write_bytes(demo_file.read_bytes())  # as a killed ingest leaves its file
    for day in range(2, 2 + KEEP_VERSIONS):
        _events_workspace(tmp_path / "ws", f"2026-03-0{day}T10:00:00Z,real{day},y\n")
        wait_for_cleanup()
        assert not leftover.exists()
        # Listed by a kept version until KEEP_VERSIONS more were published after the clear.
        assert demo_file.exists() == (day < 1 + KEEP_VERSIONS)
    assert _raw_events(store) == [(f"real{day}", "y") for day in range(2, 2 + KEEP_VERSIONS)]
