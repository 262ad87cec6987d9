"""The only module that opens DuckDB: versioned store files, atomic publish, read-only readers.

Layout of ``data/store/``:

    CURRENT              the published version number, replaced atomically (write, fsync, rename)
    v000007.duckdb       one DuckDB file per published version: catalog, rollups, roadmap, ...
    events/f000012-3f9a0c1b2d4e.parquet  raw events, one immutable Parquet file per loaded file
    writer.lock          held (flock) by the one ingest allowed at a time

Why: DuckDB allows one read-write process per file, so a dashboard holding the database open
would block an ingest. Instead an ingest copies the current version file (small: rollups and
tables, no raw events), applies its changes to the copy, checkpoints and fsyncs it, then points
CURRENT at it. Readers open whichever version CURRENT names, read-only, and never hold a lock an
ingest needs; a kill at any moment leaves CURRENT on the last whole version.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import polars as pl

from pmkit.config import StoreUnreadable

SQL_DIR = Path(__file__).parent / "sql"
VERSION_FILE = re.compile(r"^v(\d{6})\.duckdb$")
# The file id, then a random token (stores from before it have none): file ids restart at 1 in
# every store, and `publish` into a hosted store that had loaded files of its own kept those
# under the same names, so its raw events were another store's.
PARQUET_FILE = re.compile(r"^f\d{6}(-[0-9a-f]{12})?\.parquet$")
TOKENED_PARQUET_FILE = re.compile(r"^f\d{6}-[0-9a-f]{12}\.parquet$")
KEEP_VERSIONS = 3  # older versions are deleted; a reader that still has one open keeps its handle
# Every COMPACT_EVERY-th version (and after a rebuild) DuckDB's checkpoint compacts the tables: it
# drops deleted rows and merges the small row groups each load appends. Compacting at every load
# rewrote whole row groups of the big rollups each time: a 10M store's checkpoint took 0.06-0.25 s
# (0.13 s on average) against 0.035 s without. Skipped in between, the deleted rows of the kept
# tables (the days a load recomputes) and the small row groups stay until the next compaction
# (0.29 s after five loads without): the same work done once; the numbers read do not change.
COMPACT_EVERY = 8
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def sql_text(name: str) -> str:
    """The text of ``pmkit/sql/NAME.sql``; names come from our code, never from user input."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def sql_string(text: str) -> str:
    """A SQL string literal of ``text`` for the statements that take no parameters (ATTACH, a
    view's file list): quotes doubled, so a workspace in ``/Users/o'brien`` stays one literal."""
    return "'" + text.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    """Quote a column name that was checked against the identifier whitelist pattern.

    Dimension names come from file headers, so they are normalised to ``[a-z_][a-z0-9_]*`` at
    ingest; anything else is refused rather than spliced into SQL."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a safe column name: {name!r}")
    return f'"{name}"'


# A roadmap export loaded before is loaded again only as the snapshot of a date that it is not
# the content of now: the date it was loaded for, where another export replaced it since (put
# back), or a date whose nearest earlier or later snapshot of its tool is this content (an
# unchanged export, which is how a stalled item looks: skipped as a duplicate, it hid every stall;
# history loaded newest first counts the same: the week before a week of this content was a
# duplicate, and its stall was lost; roadmap QA). An old export dropped in again after a newer
# snapshot stays a duplicate: loaded, it set the roadmap back to that old state.
ROADMAP_LOADED = """
WITH mine AS (
    SELECT file_id, snapshot_date FROM loaded_files WHERE content_hash = $hash AND kind = 'roadmap'
), present AS (
    SELECT DISTINCT snapshot_date, source FROM roadmap_items WHERE file_id IN (SELECT file_id FROM mine)
), previous AS (
    SELECT source, max(snapshot_date) AS day FROM roadmap_items
    WHERE source IN (SELECT source FROM present) AND snapshot_date < $day GROUP BY source
), following AS (
    SELECT source, min(snapshot_date) AS day FROM roadmap_items
    WHERE source IN (SELECT source FROM present) AND snapshot_date > $day GROUP BY source
)
SELECT EXISTS (SELECT 1 FROM loaded_files WHERE content_hash = $hash AND kind IS DISTINCT FROM 'roadmap')
    OR (EXISTS (SELECT 1 FROM mine) AND (
        EXISTS (SELECT 1 FROM present WHERE snapshot_date = $day)
        OR NOT (
            EXISTS (SELECT 1 FROM mine WHERE snapshot_date = $day)
            OR EXISTS (SELECT 1 FROM present JOIN previous USING (source) WHERE present.snapshot_date = previous.day)
            OR EXISTS (SELECT 1 FROM present JOIN following USING (source) WHERE present.snapshot_date = following.day)
        )
    ))
"""


def _has_loaded(con: duckdb.DuckDBPyConnection, content_hash: str, snapshot_date: dt.date) -> bool:
    """Whether ``loaded_files`` (of the connection's default database) has this content, so that
    loading it changes nothing: loaded as anything but a roadmap; a roadmap, unless it would be a
    new snapshot (ROADMAP_LOADED)."""
    return bool(con.execute(ROADMAP_LOADED, {"hash": content_hash, "day": snapshot_date}).fetchall()[0][0])


def _column_names(con: duckdb.DuckDBPyConnection) -> tuple[frozenset[str], frozenset[str]]:
    """(event dimensions, feedback attributes) of the connection's default database."""
    dimensions = con.execute("SELECT name FROM dimensions").fetchall()
    attributes = con.execute("SELECT DISTINCT unnest(json_keys(attributes)) FROM feedback").fetchall()
    return frozenset(name for (name,) in dimensions), frozenset(name for (name,) in attributes)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def content_hash(path: Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(4 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def event_files(con: duckdb.DuckDBPyConnection, events_dir: Path) -> list[str]:
    """The paths of the Parquet files ``batches`` lists, in load order. Each name is checked
    whole: one with a folder in it would read, or for publish write, outside the store."""
    names = [name for (name,) in con.execute("SELECT path FROM batches ORDER BY file_id").fetchall()]
    for name in names:
        if not PARQUET_FILE.match(name):
            raise ValueError(f"unexpected file name in the store's batch list: {name!r}")
    return [str(events_dir / name) for name in names]


def write_atomically(path: Path, data: str | bytes) -> None:
    """``data`` as the file ``path``, whole or not at all: written beside it, then renamed over
    it; a failed write (a full disk) leaves neither a half file nor its temporary one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_path(path.parent)


@dataclass(frozen=True)
class Store:
    root: Path  # data/store

    @property
    def events_dir(self) -> Path:
        return self.root / "events"

    def current_version(self) -> int:
        """The published version, 0 when nothing was ever published (or CURRENT is damaged:
        ``reader`` and ``writer`` then say so, ``check_current``)."""
        try:
            return int((self.root / "CURRENT").read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def check_current(self) -> None:
        """Raise StoreUnreadable when CURRENT holds something other than a version number: it was
        read as "nothing loaded", every page said no events were loaded and an ingest would have
        started the store again from nothing (hosted QA)."""
        try:
            text = (self.root / "CURRENT").read_text(errors="replace").strip()
        except FileNotFoundError:
            # Beside a version file it is damage, or a first publish cut short: either way a
            # writer starting from nothing would write version 1 over what is there (review).
            versions = sorted(
                p.name for p in self.root.glob("v*.duckdb") if p.stem[1:].isdigit() and p.stem[1:] != "000000"
            )
            if versions:
                raise StoreUnreadable(
                    f"{self.root / 'CURRENT'} is missing beside published versions ({', '.join(versions[-2:])}). "
                    "Restore the store folder from a backup, or move it aside and load the files again"
                ) from None
            return
        if not text.isdigit() or (text.strip("0") == "" and any(self.root.glob("v*.duckdb"))):
            # Empty too: a truncated CURRENT read as "nothing loaded", and the next ingest wrote
            # version 1 over the published one (review).
            raise StoreUnreadable(
                f"{self.root / 'CURRENT'} should hold the published version's number and holds {text[:40]!r}. "
                "Restore the store folder from a backup, or move it aside and load the files again"
            )

    def version_path(self, version: int) -> Path:
        return self.root / f"v{version:06d}.duckdb"

    def has_loaded(self, content_hash: str, snapshot_date: dt.date) -> bool:
        """Whether the published version has loaded a file of this content (SHA-256 hex), so that
        loading it as of ``snapshot_date`` changes nothing (``_has_loaded``)."""
        return bool(self._from_catalog(lambda con: _has_loaded(con, content_hash, snapshot_date), False))

    def column_names(self) -> tuple[frozenset[str], frozenset[str]]:
        """The published version's (event dimensions, feedback attributes); empty before any."""
        return self._from_catalog(_column_names, (frozenset(), frozenset()))

    def _from_catalog(self, read: Callable[[duckdb.DuckDBPyConnection], Any], nothing: Any) -> Any:
        """``read`` on the published version's tables, else ``nothing`` when there is none. The
        catalog alone, not a Reader: no view over the Parquet files is needed. A version replaced
        and deleted meanwhile also gives ``nothing``: the writer's own check then decides."""
        version = self.current_version()
        if not version:
            return nothing
        with duckdb.connect(":memory:") as con:
            try:
                con.execute(f"ATTACH {sql_string(str(self.version_path(version)))} AS store (READ_ONLY)")
            except duckdb.IOException:
                return nothing
            con.execute("USE store")
            return read(con)

    def reader(self, version: int | None = None) -> Reader:
        """A read-only view of ``version``, else of the current version (an empty one if nothing
        is loaded yet). A version no longer kept (KEEP_VERSIONS newer ones were published since)
        gives the current one."""
        self.check_current()
        if version is not None:
            try:
                return Reader(self, version)
            except duckdb.IOException:
                pass  # deleted: the current version is all there is to read
        for attempts_left in range(4, -1, -1):
            version = self.current_version()
            try:
                return Reader(self, version)
            except duckdb.Error as exc:
                if attempts_left and isinstance(exc, duckdb.IOException):
                    # The version was replaced and cleaned up between reading CURRENT and opening it.
                    time.sleep(0.05)
                    continue
                unreadable = exc
                break
        raise StoreUnreadable(
            f"{self.root / 'CURRENT'} names version {version}, which cannot be read "
            f"({str(unreadable).splitlines()[0]}). Restore the store folder from a backup, or move "
            "it aside and load the files again"
        ) from unreadable

    @contextlib.contextmanager
    def writer(self, empty: bool = False) -> Iterator[Writer]:
        """Exclusive writer on a copy of the current version; published when the block ends
        without an exception, discarded otherwise. ``empty``: on an empty database instead, so
        that everything loaded is gone once it is published (its Parquet files once no kept
        version lists them). The version number still grows: the app's caches are keyed by it."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.events_dir.mkdir(exist_ok=True)
        lock = self._lock()
        try:
            self.check_current()
            self._remove_temp_files()
            base = self.current_version()
            new = base + 1
            tmp = self.root / f".v{new:06d}.duckdb.tmp"
            early: threading.Thread | None = None
            if base and not empty:
                try:
                    shutil.copyfile(self.version_path(base), tmp)
                except BaseException:
                    tmp.unlink(missing_ok=True)  # a disk that filled up: no half copy left on it
                    raise
                # The copy goes to disk while the ingest reads its files: at publish, the fsync
                # then only waits for the blocks the ingest changed (0.1 s less at 200 MB).
                early = threading.Thread(target=_fsync_path, args=(tmp,), daemon=True)
                early.start()
            con = duckdb.connect(str(tmp))
            writer = Writer(self, con, new)
            try:
                if new % COMPACT_EVERY:
                    # Also for the checkpoints DuckDB makes on its own while a big file loads.
                    con.execute("SET max_vacuum_tasks = 0")
                writer.ensure_schema()
                if not empty:  # an empty writer's block may still read the published files
                    self._remove_unlisted_parquet(con)
                yield writer
                if writer.rebuilt:  # every rollup row was deleted and written again
                    con.execute("RESET max_vacuum_tasks")
                con.execute("CHECKPOINT")
                con.close()
                if early is not None:
                    early.join()
                _fsync_path(tmp)
                os.replace(tmp, self.version_path(new))
                _fsync_path(self.root)
                write_atomically(self.root / "CURRENT", f"{new}\n")
                if empty:
                    # The files of what was loaded go once no kept version lists them: a page
                    # still reading an older version (another tab, a run pinned to it) read them.
                    self._drop_old_versions_and_their_files(new)
                # The new version is visible now. Deleting a superseded one of 160 MB took 0.2 s
                # (ext4 frees its blocks, and with the `discard` mount option trims them): it
                # runs beside whatever comes next, so the ingest returns without waiting for it.
                self._drop_old_versions_in_background(new)
            except BaseException:
                with contextlib.suppress(Exception):
                    con.close()
                tmp.unlink(missing_ok=True)
                tmp.with_name(f"{tmp.name}.wal").unlink(missing_ok=True)
                for parquet in writer.new_files:
                    parquet.unlink(missing_ok=True)
                raise
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()

    def _lock(self, waiting: Callable[[], None] | None = None) -> Any:
        """The writer lock (``writer.lock``), held until closed; ``waiting`` is called first when
        another process holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        lock = open(self.root / "writer.lock", "a+")  # noqa: SIM115 - the caller closes it
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting()
            fcntl.flock(lock, fcntl.LOCK_EX)
        return lock

    def publish_to(self, target: Store, waiting: Callable[[], None] | None = None) -> int:
        """Copy the current version into another store (a hosted copy), atomically: Parquet files
        and the version file first, CURRENT last, so the target's readers switch in one step.
        Returns the version published there.

        Holds the target's writer lock, as an ingest does (``waiting`` is called if it must wait
        for one): the two wrote the same temporary file, and the version published was a mix.
        A Parquet file the target already has under the same name is reused only when it is the
        same file: names with a random token are unique to the store that wrote them, and an older
        name without one is compared byte for byte; otherwise it is copied under a new name that
        the published version lists. Parquet files no kept version of the target lists are
        removed (the events of a workspace cleared and loaded again)."""
        self.check_current()
        version = self.current_version()
        if not version:
            raise ValueError("nothing to publish: this store has no data yet")
        lock = target._lock(waiting)
        try:
            target.check_current()  # a damaged one restarted at 1, over the kept v000001 (review)
            target._remove_temp_files()
            target.events_dir.mkdir(parents=True, exist_ok=True)
            with duckdb.connect(":memory:") as con:
                con.execute(f"ATTACH {sql_string(str(self.version_path(version)))} AS v (READ_ONLY)")
                con.execute("USE v")
                files = [Path(path).name for path in event_files(con, self.events_dir)]
            there = {name: self._copy_events_file(name, target) for name in files}
            renamed = {name: copied for name, copied in there.items() if copied != name}
            # The target's own next number: jumping to the source's (v3 to v7) dropped every version
            # a hosted reader still had open, and the Parquet files only those listed (QA).
            new = target.current_version() + 1
            tmp = target.root / f".v{new:06d}.duckdb.tmp"
            try:
                shutil.copyfile(self.version_path(version), tmp)
                if renamed:
                    with duckdb.connect(str(tmp)) as con:
                        for old, name in renamed.items():
                            con.execute("UPDATE batches SET path = $1 WHERE path = $2", [name, old])
                        con.execute("CHECKPOINT")
                _fsync_path(tmp)
            except BaseException:
                # A full target disk: no half copy left there (lifecycle review).
                for left in (tmp, tmp.with_name(f"{tmp.name}.wal")):
                    left.unlink(missing_ok=True)
                raise
            os.replace(tmp, target.version_path(new))
            _fsync_path(target.root)
            write_atomically(target.root / "CURRENT", f"{new}\n")
            target._drop_old_versions_and_their_files(new)
            return new
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()

    def _copy_events_file(self, name: str, target: Store) -> str:
        """Copy one of this store's Parquet files into ``target`` (``name`` checked by
        ``event_files``); returns its name there."""
        source = self.events_dir / name
        destination = target.events_dir / name
        if TOKENED_PARQUET_FILE.match(name):
            if destination.exists():
                return name
        else:
            # An older name: the same bytes under it, or under a copy an earlier publish made.
            stem = name.removesuffix(".parquet")
            size, digest = source.stat().st_size, None
            for candidate in [destination, *sorted(target.events_dir.glob(f"{stem}-*.parquet"))]:
                if candidate.exists() and PARQUET_FILE.match(candidate.name) and candidate.stat().st_size == size:
                    digest = digest or content_hash(source)  # read once, and only for a candidate
                    if content_hash(candidate) == digest:
                        return candidate.name
            if destination.exists():
                destination = target.events_dir / f"{stem}-{secrets.token_hex(6)}.parquet"
        tmp = destination.with_name(f".{destination.name}.tmp")
        try:
            shutil.copyfile(source, tmp)
            _fsync_path(tmp)
        except BaseException:
            tmp.unlink(missing_ok=True)  # a full target: no half copy left there (lifecycle QA)
            raise
        os.replace(tmp, destination)
        return destination.name

    def _drop_old_versions_and_their_files(self, newest: int) -> None:
        """Drop the versions no longer kept, then the Parquet files none of the version files left
        lists. Called with the writer lock held, after ``newest`` was published: a file that
        cannot be cleaned now stays for the next writer."""
        self._drop_old_versions(newest)
        with contextlib.suppress(duckdb.Error, OSError):
            self._remove_parquet_except(self._listed_by_versions())

    def _listed_by_versions(self) -> set[str]:
        """The Parquet files any version file here lists (each opened read-only)."""
        listed: set[str] = set()
        for path in self.root.glob("v*.duckdb"):
            if VERSION_FILE.match(path.name):
                with duckdb.connect(":memory:") as con:
                    con.execute(f"ATTACH {sql_string(str(path))} AS v (READ_ONLY)")
                    listed.update(p for (p,) in con.execute("SELECT path FROM v.batches").fetchall())
        return listed

    def _remove_temp_files(self) -> None:
        """Remove the unpublished version files a killed ingest left, and the half copies of
        Parquet files a killed or failed publish left. Called with the writer lock held."""
        for tmp in [*self.root.glob(".v*.duckdb.tmp*"), *self.events_dir.glob(".*.parquet.tmp")]:
            tmp.unlink(missing_ok=True)

    def _remove_unlisted_parquet(self, con: duckdb.DuckDBPyConnection) -> None:
        """Remove the Parquet files a killed ingest left, and a cleared store's once no kept version
        lists them: those neither the new version's copy of the current one (``con``; read from
        the copy, not a reader of its own: 20 ms at 10M) nor another version file lists. The other
        versions are read only when a file is unlisted by the copy (after a clear or a kill)."""
        listed = {path for (path,) in con.execute("SELECT path FROM batches").fetchall()}
        if any(parquet.name not in listed for parquet in self.events_dir.glob("*.parquet")):
            try:
                listed |= self._listed_by_versions()
            except (duckdb.Error, OSError):
                return  # a version that cannot be read may list any of them: keep them all
        self._remove_parquet_except(listed)

    def _remove_parquet_except(self, listed: set[str]) -> None:
        for parquet in self.events_dir.glob("*.parquet"):
            if parquet.name not in listed:
                parquet.unlink(missing_ok=True)

    def _drop_old_versions_in_background(self, newest: int) -> None:
        # Not a daemon: a CLI ingest's process waits for it before exiting.
        thread = threading.Thread(target=self._drop_old_versions, args=(newest,), name="pmkit-drop-old-versions")
        thread.start()
        # A server ingests for months: finished deletions are not kept.
        _DROPPING[:] = [*(running for running in _DROPPING if running.is_alive()), thread]

    def _drop_old_versions(self, newest: int) -> None:
        for path in self.root.glob("v*.duckdb"):
            match = VERSION_FILE.match(path.name)
            if match and int(match.group(1)) <= newest - KEEP_VERSIONS:
                # One that cannot be deleted now stays for the next publish to try again: the
                # version already published must not be reported as a failed ingest.
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
                    Path(f"{path}.wal").unlink(missing_ok=True)


# The background deletions of superseded versions started by this process (see wait_for_cleanup).
_DROPPING: list[threading.Thread] = []


def wait_for_cleanup() -> None:
    """Wait until every superseded version this process's ingests published over is deleted."""
    while _DROPPING:
        _DROPPING.pop().join()


class Memo(dict):
    """A reader's memo that outlives the reader: results of one store version (workspace facts,
    metric series, funnel rows), shared by the readers of that version. Beyond ``max_bytes`` of
    frames the oldest entries go. Safe to share between threads when read with ``get`` (an entry
    can go at any time) and written by assignment (the same result computed twice is harmless)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__()
        self.max_bytes = max_bytes
        self._bytes = 0
        self._guard = threading.Lock()

    def __setitem__(self, key: Any, value: Any) -> None:
        size = _frame_bytes(value)
        with self._guard:
            self._bytes -= _frame_bytes(self.pop(key, None))
            while self and self._bytes + size > self.max_bytes:
                self._bytes -= _frame_bytes(self.pop(next(iter(self))))
            super().__setitem__(key, value)
            self._bytes += size


T = TypeVar("T")


def remembered(reader: Any, key: Hashable, compute: Callable[[], T]) -> T:
    """``reader.memo[key]``, computed and kept on first use (a caller without a memo computes
    every time). Read once with ``get``: an entry can leave a shared ``Memo`` at any time."""
    memo = getattr(reader, "memo", None)
    found = memo.get(key) if memo is not None else None
    if found is None:
        found = compute()
        if memo is not None:
            memo[key] = found
    return found


def _frame_bytes(value: Any) -> int:
    """What a memo entry counts against its budget: a frame's size, nothing for anything else."""
    return value.estimated_size() if isinstance(value, pl.DataFrame) else 0


class Reader:
    """A read-only connection to one published version; ``events`` is a view over its Parquet
    files. Cheap to open; close it (or use ``with``) when done."""

    def __init__(self, store: Store, version: int) -> None:
        self.store = store
        self.version = version
        # Results that cannot change while this version is open (workspace facts, metric
        # series), kept for this reader's life: one page asks for the same series many times.
        # A caller that opens many readers of the version can give them one Memo instead.
        self.memo: dict[Any, Any] = {}
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        if version:
            path = store.version_path(version)
            self.con.execute(f"ATTACH {sql_string(str(path))} AS store (READ_ONLY)")
            self.con.execute("SET search_path = 'memory.main,store.main'")
            files = event_files(self.con, store.events_dir)
        else:
            self.con.execute(sql_text("schema"))
            files = []
        self.dimensions: list[str] = self.con.sql("SELECT name FROM dimensions ORDER BY name").pl()["name"].to_list()
        create_events_view(self.con, "memory.main.events", files, self.dimensions)
        # Readers only ever need this version's Parquet files: no other file, no network, no
        # ATTACH, and the settings cannot be changed back by a later statement.
        self.con.execute("SET allowed_directories = $dirs", {"dirs": [f"{store.events_dir}/"]})
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def query(self, name: str, **params: Any) -> pl.DataFrame:
        """Run ``pmkit/sql/NAME.sql`` with bound ``$params``; the result as a Polars frame."""
        return self.frame(sql_text(name), **params)

    def frame(self, text: str, **params: Any) -> pl.DataFrame:
        """Run SQL text written in pmkit (never user text) with bound ``$params``."""
        return self.con.sql(text, params=params or None).pl()

    def meta(self, key: str, default: str | None = None) -> str | None:
        # A published version's meta never changes: read once (a page's first workspace facts
        # ask for seven keys, the kept tables' signatures included).
        meta = remembered(self, "meta", lambda: dict(self.con.sql("SELECT key, value FROM meta").fetchall()))
        return meta.get(key, default)


def count_tables(source: Reader | Any, names: list[str]) -> int:
    """How many of ``names`` are tables in ``source`` (a reader, or a writer seen as one)."""
    # duckdb_tables(), not information_schema.tables: that view took 10 ms on a fresh connection.
    found = source.frame(
        "SELECT count(DISTINCT table_name) AS n FROM duckdb_tables() WHERE list_contains($names, table_name)",
        names=names,
    )
    return int(found["n"].item())


def create_events_view(
    con: duckdb.DuckDBPyConnection, name: str, files: list[str], dimensions: list[str], *, temporary: bool = False
) -> None:
    """``name`` (a fixed pmkit name) as a view over the store's Parquet ``files``, or an empty
    view with the event columns when nothing is loaded. ``temporary``: for this connection only."""
    create = "CREATE OR REPLACE TEMP VIEW" if temporary else "CREATE OR REPLACE VIEW"
    if files:
        # Views cannot take parameters: the list is spliced, but every name is one the
        # ingest generated (f000012.parquet), checked again here.
        if not all(PARQUET_FILE.match(Path(f).name) for f in files):
            raise ValueError("unexpected file name in the store's batch list")
        listed = ", ".join(sql_string(f) for f in files)
        con.execute(
            f"{create} {name} AS SELECT * FROM read_parquet([{listed}], union_by_name = true)"  # noqa: S608
        )
    else:
        dims = "".join(f", NULL::VARCHAR AS {quote_identifier(d)}" for d in dimensions)
        con.execute(
            f"{create} {name} AS SELECT NULL::TIMESTAMP AS event_time, NULL::VARCHAR AS user_id, "  # noqa: S608
            "NULL::BIGINT AS user_key, NULL::VARCHAR AS event, NULL::VARCHAR AS event_id, NULL::VARCHAR AS session_id, "
            f"NULL::DOUBLE AS revenue, NULL::BIGINT AS file_id{dims} WHERE false"
        )


class Writer:
    """The read-write connection of one ingest, on the unpublished copy of the next version."""

    def __init__(self, store: Store, con: duckdb.DuckDBPyConnection, version: int) -> None:
        self.store = store
        self.con = con
        self.version = version
        self.new_files: list[Path] = []
        # Days whose rollups this ingest changed (first, last), and whether it rebuilt them all:
        # what the kept tables and metric series must recompute before publishing.
        self.changed_days: list[tuple[dt.date, dt.date]] = []
        # Old first days of known users a file moved earlier (first, last): those cohorts lost
        # users, though no rollup row of those days changed.
        self.moved_first_days: list[tuple[dt.date, dt.date]] = []
        # When the last loaded day moves (old last, new last): the days whose funnel attempts or
        # retention cohorts may now be complete, though no event on them changed.
        self.settled_days: list[tuple[dt.date, dt.date]] = []
        self.rebuilt = False
        self.con.execute("SET TimeZone = 'UTC'")

    def ensure_schema(self) -> None:
        self.con.execute(sql_text("schema"))

    def frame(self, text: str, **params: Any) -> pl.DataFrame:
        return self.con.sql(text, params=params or None).pl()

    def run(self, name: str, markers: Mapping[str, str] | None = None, **params: Any) -> None:
        """Run ``pmkit/sql/NAME.sql`` (one or more statements) with bound ``$params``; each
        statement gets only the parameters it names. ``markers``: ``{marker}`` texts replaced
        first, SQL our code builds from its own constants (never user input)."""
        text = sql_text(name)
        for marker, replacement in (markers or {}).items():
            text = text.replace("{" + marker + "}", replacement)
        for statement in text.split(";\n"):
            if not statement.strip() or statement.strip().startswith("--") and "\n" not in statement.strip():
                continue
            used = {k: v for k, v in params.items() if re.search(rf"\${k}\b", statement)}
            self.con.execute(statement, used or None)

    @contextlib.contextmanager
    def unordered_inserts(self) -> Iterator[None]:
        """For the block, DuckDB may store inserted rows in any order, so it writes them from
        both cores: for rollups, whose rows come grouped in hash order anyway and are never read
        by position. The three rollups of 10M random events: 5.5 s -> 3.4 s."""
        self.con.execute("SET preserve_insertion_order = false")
        try:
            yield
        finally:
            self.con.execute("RESET preserve_insertion_order")

    def set_meta(self, key: str, value: str) -> None:
        self.con.execute("INSERT OR REPLACE INTO meta VALUES ($1, $2)", [key, value])

    def meta(self, key: str, default: str | None = None) -> str | None:
        rows = self.con.execute("SELECT value FROM meta WHERE key = $1", [key]).fetchall()
        return rows[0][0] if rows else default

    def has_loaded(self, content_hash: str, snapshot_date: dt.date) -> bool:
        """Whether this version, the ingest's changes included, has a file of this content, so
        that loading it as of ``snapshot_date`` changes nothing (``_has_loaded``)."""
        return _has_loaded(self.con, content_hash, snapshot_date)

    def column_names(self) -> tuple[frozenset[str], frozenset[str]]:
        """This version's (event dimensions, feedback attributes), the ingest's new ones included."""
        return _column_names(self.con)

    def next_file_id(self) -> int:
        return int(self.con.execute("SELECT coalesce(max(file_id), 0) + 1 FROM loaded_files").fetchall()[0][0])

    def event_files(self) -> list[str]:
        """The Parquet files of this version, as listed so far (``event_files``)."""
        return event_files(self.con, self.store.events_dir)

    def parquet_path(self, file_id: int) -> Path:
        path = self.store.events_dir / f"f{file_id:06d}-{secrets.token_hex(6)}.parquet"
        self.new_files.append(path)
        return path
