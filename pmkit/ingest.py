"""File -> detect -> validate -> canonical rows -> store, atomically, with a report per file.

A file is loaded whole or rejected whole (unless ``skip_bad_rows``); a rejected file changes
nothing that was loaded before; a file whose content was loaded before is reported as duplicate.
Inbox files move to ``archive/`` or ``rejected/`` (with ``<name>.errors.txt``), never deleted.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import re
import shutil
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pmkit import INTERRUPTED, sources, value_counts
from pmkit.canonical import (
    EVENT_OPTIONAL,
    EVENT_REQUIRED,
    FEEDBACK_COLUMNS,
    FEEDBACK_KEY,
    OBJECTIVE_COLUMNS,
    ROADMAP_COLUMNS,
)
from pmkit.config import Config, workspace_today
from pmkit.definitions import BUILTIN_METRICS, Definitions, usable_definitions
from pmkit.formatting import format_date
from pmkit.sources.base import ROW, Parsed, ReadOptions, Rejected, RowError
from pmkit.sources.events_common import INSERT_ID_SCOPE, MAX_DIMENSIONS, RAW_USER, scope_time, stored_name
from pmkit.sources.pmkit_tables import attribute_name
from pmkit.sources.roadmap_common import SHOWN_TEXT, closed_directions
from pmkit.sources.sniff import sniff
from pmkit.store import Reader, Store, Writer, content_hash, quote_identifier

MAX_ERRORS_SHOWN = 20
NAMES_SHOWN = 5  # columns or items named in a summary before "and N more"
# A snapshot date in a file name, e.g. roadmap_2026-03-13.csv or jira-2026-03-13-export.csv.
FILE_NAME_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# (message, fraction of the whole ingest done, 0..1 and never going back), e.g.
# ("Loading events.csv (2 of 4): storing 1,000,000 rows", 0.35).
Progress = Callable[[str, float], None]
# The stages of one file, each with where it starts within the file's share of the bar, as timed
# on events CSVs of 1M and 10M rows: reading and checking takes a third of the load, keying users
# and writing the Parquet a sixth, grouping and merging a quarter each. Other kinds than events
# have only the first two stages.
# The files' stages fill this much of the bar; the daily metric series and the publish the rest.
FILES_SHARE = 0.95
FILE_STAGES = {
    "reading and checking rows": 0.0,
    "storing": 0.35,
    "grouping by day and user": 0.5,
    "merging into the rollups": 0.75,
}


@dataclass
class FileResult:
    """What happened to one file; ``as_json`` is the CLI's --json shape (DESIGN.md)."""

    path: Path
    kind: str | None = None
    format: str | None = None
    status: str = "rejected"  # loaded | duplicate | rejected
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    rows_future: int = 0  # loaded events dated more than a day after now (a clock or zone problem)
    rows_replaced: int = 0  # roadmap items of the same tool and snapshot date this file replaced
    # Items of the tool's previous snapshot this one, now its latest, does not hold: they leave the
    # roadmap (done with in the tool, or another team's export of the same tool).
    items_gone: tuple[str, ...] = ()
    gone_from: dt.date | None = None  # that previous snapshot's date
    # Roadmap items the file's rows name without a row of their own (a Plane module, a Linear
    # project): loaded as items, but not counted as rows ("loaded 12 rows" of a 9-row file).
    items_named: int = 0
    errors: list[RowError] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    snapshot_date: dt.date | None = None
    # Refused for now and left where it is: an inbox file still being written, or a folder.
    left_in_inbox: bool = False
    # The load counted every number again for pmkit.toml's changed settings (``_sync_settings``):
    # "nothing changed" was said of a duplicate while every page's numbers moved (QA).
    rebuilt: bool = False
    # The file beside the moved one listing every problem row (``file_away``).
    listed_in: Path | None = None
    # Rows skipped as copies of stored events (or answers) where one of the two has no id
    # (``_drop_copies_of_loaded_rows``, ``_drop_copies_of_loaded_answers``).
    rows_seen_before: int = 0
    # An objectives file's metrics no built-in or pmkit.toml table defines: loaded (the metric
    # may be defined later), and said with row and column (it loaded without a word; QA).
    metrics_unknown: tuple[str, ...] = ()
    # Events columns with values left out of the workspace's dimensions (at most MAX_DIMENSIONS).
    dimensions_dropped: tuple[str, ...] = ()
    # A survey export's score questions rows left empty (optional questions skipped: no answer to
    # them), with how many rows left each; and the rows that left every one empty, not loaded.
    questions_skipped: dict[str, int] = field(default_factory=dict)
    rows_unanswered: int = 0
    # An upload's own name when it was saved under a safer one (``workspace.safe_upload_name``):
    # the messages name the file the user chose, the summary both.
    uploaded_as: str | None = None

    @property
    def name(self) -> str:
        return self.uploaded_as or self.path.name

    def messages(self, limit: int | None = MAX_ERRORS_SHOWN) -> list[str]:
        """Each error as a sentence naming file, row and column; long lists are cut with a count
        (``limit=None``: every one), which names the file listing them all once there is one."""
        shown = [e.describe(self.name) for e in self.errors[:limit]]
        if limit is not None and len(self.errors) > limit:
            where = f": every one is listed in {self.listed_in}" if self.listed_in else ""
            shown.append(f"{self.name}: {len(self.errors) - limit} more rows with problems{where}")
        return shown

    def summary(self) -> str:
        said = self._summary()
        if self.rebuilt:
            said += "; every number was counted again with pmkit.toml's time zone and active events"
        return said

    def _summary(self) -> str:
        what = f"{self.kind or 'unknown'} ({self.format})" if self.format else (self.kind or "file")
        if self.status == "loaded":
            extra = f", {self.rows_rejected} bad rows skipped" if self.rows_rejected else ""
            thing, key = ("answer", "its key") if self.kind == "feedback" else ("event", "an event_id")
            dupes = (
                f", {self.rows_duplicate:,} repeated {thing}{'s' if self.rows_duplicate > 1 else ''} skipped"
                f" ({key} already read)"
                if self.rows_duplicate
                else ""
            )
            if self.rows_seen_before:
                one = self.rows_seen_before == 1
                same = (
                    "answers loaded before (the same time, respondent, score, scale, comment and source, where "
                    "one of the two has no answer_id"
                    if self.kind == "feedback"
                    else "events loaded before (the same time, user, event and revenue, where one of the two has "
                    "no event_id"
                )
                dupes += (
                    f", {self.rows_seen_before:,} {thing if self.kind == 'feedback' else 'row'}{'' if one else 's'} "
                    f"skipped as {'a copy' if one else 'copies'} of {same}: an overlapping export)"
                )
            future = (
                f"; {self.rows_future:,} of them dated after today (check the export's clock and time zone)"
                if self.rows_future
                else ""
            )
            replaced = (
                f"; it replaced the {self.rows_replaced:,} item{'' if self.rows_replaced == 1 else 's'} loaded before "
                f"for {format_date(self.snapshot_date)} "
                "from the same tool (a tool's latest snapshot is its whole roadmap: load one export holding every "
                "team's items)"
                if self.rows_replaced and self.snapshot_date
                else ""
            )
            named = (
                f", and {self.items_named:,} {'item' if self.items_named == 1 else 'items'} they name "
                "(modules, cycles, projects or initiatives)"
                if self.items_named
                else ""
            )
            # A survey row answering an NPS and a CSAT question is two answers, each a row stored.
            unit = "answer" if self.kind == "feedback" else "row"
            loaded = f"loaded {self.rows_loaded:,} {unit}{'' if self.rows_loaded == 1 else 's'} as {what}"
            return (
                f"{self._named()}: {loaded}{named}{extra}{dupes}{future}{replaced}{self._gone()}{self._dropped()}"
                f"{self._undefined()}{self._skipped()}"
            )
        if self.status == "duplicate":
            return f"{self._named()}: already loaded (same content), nothing changed"
        if self.left_in_inbox:  # not ready yet (a folder, a download, a file being written)
            return f"{self._named()}: not loaded, left in the inbox"
        return f"{self._named()}: rejected, nothing loaded"

    def _gone(self) -> str:
        """The items this snapshot leaves off the roadmap: two teams' exports of one tool loaded on
        different days kept only the later team's items, without a word."""
        gone = self.items_gone
        if not gone or self.gone_from is None:
            return ""
        return (
            f"; {len(gone):,} {'item' if len(gone) == 1 else 'items'} of the same tool's snapshot of "
            f"{format_date(self.gone_from)} {'is' if len(gone) == 1 else 'are'} not in it and "
            f"{'leaves' if len(gone) == 1 else 'leave'} the roadmap ({_some(gone)}): a tool's latest snapshot is its "
            "whole roadmap (if another team's export holds them, load one export holding every team's items)"
        )

    def _skipped(self) -> str:
        """A survey's optional score questions its rows left empty: no answer to them, said, since
        the NPS and CSAT cards then count fewer answers than the export has rows."""
        if not self.questions_skipped:
            return ""
        skipped = " and ".join(
            f'{count:,} {"row" if count == 1 else "rows"} left "{question}" empty'
            for question, count in self.questions_skipped.items()
        )
        questions = "a skipped question" if len(self.questions_skipped) == 1 else "skipped questions"
        unanswered = self.rows_unanswered
        none = (
            f" ({unanswered:,} {'row' if unanswered == 1 else 'rows'} answered no score question and "
            f"{'is' if unanswered == 1 else 'are'} not loaded)"
            if unanswered
            else ""
        )
        return f"; {skipped}: {questions}, no answer counted{none}"

    def _undefined(self) -> str:
        if not self.metrics_unknown:
            return ""
        return (
            f'; column "metric" names {"a metric" if len(self.metrics_unknown) == 1 else "metrics"} not defined '
            f"yet ({'; '.join(self.metrics_unknown)}): define {'it' if len(self.metrics_unknown) == 1 else 'them'} "
            f"in pmkit.toml as [metrics.KEY] tables, or use a built-in metric ({', '.join(BUILTIN_METRICS)}); "
            "until then those objectives have no outcome"
        )

    def _dropped(self) -> str:
        """The columns not kept as dimensions: said, since a filter on one of them finds nothing."""
        dropped = self.dimensions_dropped
        if not dropped:
            return ""
        return (
            f"; {len(dropped):,} {'column' if len(dropped) == 1 else 'columns'} not kept as "
            f"{'a dimension' if len(dropped) == 1 else 'dimensions'} ({_some(dropped)}): a workspace keeps "
            f"{MAX_DIMENSIONS}, its own and the most filled first (name one in pmkit.toml's ingest.keep_dimensions "
            "to keep it from the next file on)"
        )

    def _named(self) -> str:
        saved = self.path.name
        return f"{self.name} (saved as {saved})" if self.name != saved else saved

    def as_json(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "kind": self.kind,
            "format": self.format,
            "status": self.status,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "rows_duplicate": self.rows_duplicate,
            "rows_future": self.rows_future,
            # Every warning the text report gives, for scripts too: rows counted again and metrics
            # not defined were said only in text (ingest QA).
            "rows_seen_before": self.rows_seen_before,
            "metrics_unknown": list(self.metrics_unknown),
            "dimensions_dropped": list(self.dimensions_dropped),
            "questions_skipped": self.questions_skipped,
            "rows_unanswered": self.rows_unanswered,
            "rows_replaced": self.rows_replaced,
            "items_gone": list(self.items_gone),
            "items_gone_from": self.gone_from.isoformat() if self.gone_from else None,
            "items_named": self.items_named,
            "snapshot_date": self.snapshot_date.isoformat() if self.snapshot_date else None,
            "mapping": self.mapping,
            "errors": [e.as_json() for e in self.errors],
            "left_in_inbox": self.left_in_inbox,
            "summary": self.summary(),
        }


NOT_A_FILE = "a link or a device, not a file: copy the export itself into the inbox"
# Files below this size are hashed before parsing (a duplicate is then found at once).
HASH_FIRST_BYTES = 32 << 20


def _some(names: tuple[str, ...]) -> str:
    """The first NAMES_SHOWN names, then how many more."""
    more = f" and {len(names) - NAMES_SHOWN:,} more" if len(names) > NAMES_SHOWN else ""
    return ", ".join(names[:NAMES_SHOWN]) + more


def _in_idle_time(work: Callable[[Path], str], path: Path) -> str:
    """``work(path)`` in a thread the OS runs only when a core is free: hashing a big file beside
    its parse, it takes the idle time of the parse's one-core steps instead of a core from the
    CSV reader's two."""
    if sys.platform == "linux":  # where a thread's id names that thread alone to setpriority
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    return work(path)


def name_date_problem(path: Path, timezone: str) -> str | None:
    """What is wrong with the date in a roadmap file's name, if anything: one that is not a date
    became the load date without a word, and one ahead of today the latest snapshot, which the
    roadmap and the report then used by default (``--as-of`` is refused the same way)."""
    match = FILE_NAME_DATE.search(path.name)
    if not match:
        return None
    fix = "rename the file, or with the CLI load it with --as-of DATE"  # the app's upload has no --as-of
    try:
        named = dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return f"the date in its name, {match[0]}, is not a date ({fix})"
    if named > workspace_today(timezone) + dt.timedelta(days=1):  # a day ahead: the exporter's time zone
        return f"the date in its name, {named}, is after today: a roadmap snapshot is dated the day it was exported ({fix})"
    return None


def snapshot_date_for(path: Path, as_of: dt.date | None, timezone: str) -> dt.date:
    """--as-of, else a date in the file name, else today in the workspace's zone (DESIGN.md,
    "roadmap_items")."""
    if as_of:
        return as_of
    match = FILE_NAME_DATE.search(path.name)
    if match:
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    return workspace_today(timezone)


@dataclass(frozen=True)
class FileProgress:
    """One file's stages (``FILE_STAGES``), reported on its share of the whole ingest's bar.

    >>> FileProgress(print, "b.csv", 1, 2).stage("storing", "10 rows")
    Loading b.csv (2 of 2): storing 10 rows 0.64125
    """

    progress: Progress | None
    name: str
    index: int
    count: int

    def stage(self, stage: str, detail: str = "") -> None:
        if self.progress:
            what = f"{stage} {detail}" if detail else stage
            fraction = FILES_SHARE * (self.index + FILE_STAGES[stage]) / self.count
            self.progress(f"Loading {self.name} ({self.index + 1} of {self.count}): {what}", fraction)


def ingest(
    paths: Iterable[Path],
    config: Config,
    *,
    as_of: dt.date | None = None,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
) -> list[FileResult]:
    """Load ``paths`` into the workspace store as one new published version."""
    from pmkit.metrics import cohorts, feature_days, materialized, step_events

    paths = [Path(p) for p in paths]
    results: list[FileResult] = []
    store = Store(config.store_dir)
    # Read once: the step events kept and the series refreshed follow the same definitions.
    definitions = _definitions(config)
    with contextlib.ExitStack() as stack:
        ahead = None
        if paths and _is_small(paths[0]):
            # The next day's export: read while the writer copies and opens the store (0.05-0.1 s
            # at 10M events, the two sharing the cores).
            pool = stack.enter_context(concurrent.futures.ThreadPoolExecutor(max_workers=1))
            ahead = pool.submit(
                _read_ahead, paths[0], config, store, snapshot_date_for(paths[0], as_of, config.timezone)
            )
        writer = stack.enter_context(store.writer())
        rebuilt = _sync_settings(writer, config, progress)
        # The saved funnels' step events of the files already loaded, before this ingest's add theirs.
        _in_transaction(writer, lambda: step_events.sync(writer, definitions))
        for index, path in enumerate(paths):
            file_progress = FileProgress(progress, path.name, index, len(paths))
            result = _ingest_file(
                writer, path, config, as_of, skip_bad_rows, file_progress, ahead if index == 0 else None
            )
            result.rebuilt = rebuilt and index == 0  # said once, with the first file
            _log(writer, result)
            results.append(result)
        if progress and paths:
            progress("Updating the daily metric series", FILES_SHARE)

        def refresh_derived() -> None:
            # The retention cohorts, the feature table and the daily series of the pmkit.toml
            # metrics this ingest changed.
            cohorts.refresh(writer)
            feature_days.refresh(writer)
            materialized.refresh(writer, definitions)

        _in_transaction(writer, refresh_derived)
        if progress:
            progress("Publishing", 1.0)
    return results


def _definitions(config: Config) -> Definitions:
    # The tables the pages can use, kept as the pages will read them (one broken table must not
    # leave the others without their kept series).
    return usable_definitions(config)[0]


def _in_transaction(writer: Writer, work: Callable[[], None]) -> None:
    """``work`` in one transaction: a crash leaves the previous version, as for the rollups."""
    writer.con.execute("BEGIN")
    try:
        work()
        writer.con.execute("COMMIT")
    except BaseException:
        # A COMMIT that failed (a full disk) has ended the transaction already: its ROLLBACK
        # raised again and hid the real error (lifecycle QA).
        with contextlib.suppress(duckdb.Error):
            writer.con.execute("ROLLBACK")
        raise


def ingest_inbox(
    config: Config, *, as_of: dt.date | None = None, skip_bad_rows: bool = False, progress: Progress | None = None
) -> list[FileResult]:
    """Load every file in ``inbox/``, then move each to ``archive/`` or ``rejected/``. A link or
    anything else that is not a plain file is rejected unread: a link to /etc/passwd put its
    first line in the rejection message, and one to a CSV elsewhere would have loaded it.
    Inbox loads take turns (``inbox_turn``): two at once listed the same files, and the second
    failed to move the ones the first had moved (a traceback on the Data page; QA)."""
    with inbox_turn(config):
        return _ingest_inbox(config, as_of=as_of, skip_bad_rows=skip_bad_rows, progress=progress)


@contextlib.contextmanager
def inbox_turn(config: Config) -> Iterator[None]:
    """Held from listing the inbox to filing its files away: the next inbox load lists what is
    left (an flock on its own open file, so two threads of the app take turns too)."""
    config.store_dir.mkdir(parents=True, exist_ok=True)
    with open(config.store_dir / "inbox.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _ingest_inbox(
    config: Config, *, as_of: dt.date | None, skip_bad_rows: bool, progress: Progress | None
) -> list[FileResult]:
    entries = inbox_entries(config)
    odd = [p for p in entries if p.is_symlink() or not (p.is_file() or p.is_dir())]
    folders = [p for p in entries if p not in odd and p.is_dir()]
    unfinished = [p for p in entries if p not in odd and p.is_file() and _in_progress(p.name)]
    files = [p for p in entries if p not in odd and p.is_file() and p not in unfinished]
    refused = [FileResult(p, errors=[RowError(None, None, NOT_A_FILE)]) for p in odd]
    # A folder was skipped without a word ("nothing to load: the inbox is empty").
    refused += [FileResult(p, errors=[RowError(None, None, A_FOLDER)], left_in_inbox=True) for p in folders]
    refused += [FileResult(p, errors=[RowError(None, None, IN_PROGRESS)], left_in_inbox=True) for p in unfinished]
    if files or workspace_rebuild_pending(config):
        # An empty inbox still rebuilds rollups that pmkit.toml's settings left behind: a bare
        # `ingest` after a time zone change did nothing.
        results = ingest(files, config, as_of=as_of, skip_bad_rows=skip_bad_rows, progress=progress)
    else:
        results = []
    for result in [*refused, *results]:
        file_away(result, config)
    return [*refused, *results]


def inbox_entries(config: Config) -> list[Path]:
    """What the inbox holds, by name, hidden names left out: what an inbox ingest looks at."""
    inbox = config.inbox
    return sorted(p for p in inbox.iterdir() if not p.name.startswith(".")) if inbox.exists() else []


def _in_inbox(path: Path, config: Config) -> bool:
    """Whether ``path`` is the inbox's own file: one given on the command line is refused as any
    file is (exit 1), not left "in the inbox" it is not in (`ingest f && rm f` lost it; review)."""
    return path.resolve().parent == config.inbox.resolve()


def _in_progress(name: str) -> bool:
    """A name a browser or an office tool gives a file it is still writing (``~$report.xlsx``)."""
    return name.lower().endswith(IN_PROGRESS_SUFFIXES) or name.startswith("~$")


def workspace_rebuild_pending(config: Config) -> str | None:
    """``rebuild_pending`` of the workspace's published version (None without one)."""
    store = Store(config.store_dir)
    if not store.current_version():
        return None
    with store.reader() as reader:
        return rebuild_pending(reader, config)


def file_away(result: FileResult, config: Config) -> Path:
    """Move an inbox file after its ingest was published; never overwrite or delete anything.
    One refused for now (``left_in_inbox``) stays where it is."""
    if result.left_in_inbox:
        return result.path
    target_dir = config.rejected if result.status == "rejected" else config.archive
    target_dir.mkdir(parents=True, exist_ok=True)
    stem, suffix = result.path.stem, result.path.suffix
    target = target_dir / _fitted(stem, suffix)
    if target.exists():
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        target = target_dir / _fitted(stem, suffix, f".{stamp}")
    shutil.move(str(result.path), target)
    # Every problem row, not the first 20: the rest of a --skip-bad-rows load could be seen only
    # with SQL on the store (ingest QA). Rejected: what to fix; loaded: what was left out.
    suffix = ".errors.txt" if result.status == "rejected" else ".skipped.txt" if result.errors else None
    if suffix is not None:
        listing = target.with_name(target.name + suffix)
        lines = [result.summary(), *result.messages(limit=None)]
        listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
        result.listed_in = listing
    return target


def _fitted(stem: str, suffix: str, stamp: str = "") -> str:
    """``stem + stamp + suffix`` as a file name that leaves room for a listing's suffix after it
    (``.skipped.txt``) within the 255 bytes of a name: the stem cut by whole characters, then the
    suffix from its start (keeping its end, the extension); never the stamp, which keeps a second
    file of the name apart from the first. A rejected file named with 246 letters needed a
    261-byte listing, and the whole ingest stopped on it (hosted QA); "v1." and 252 letters is
    nearly all suffix: cutting the stem alone spun for ever, and cutting the stamp overwrote the
    file archived before (review)."""
    limit = 255 - len(".skipped.txt")
    while len((stem + stamp + suffix).encode()) > limit:
        stem, suffix = (stem[:-1], suffix) if stem else ("", suffix[1:])
    return stem + stamp + suffix


# What follows a rebuild_pending text where numbers are shown.
REBUILD_LATER = "but the numbers are still counted as before it: `python -m pmkit ingest` rebuilds them (so does the next file loaded)"


def _wanted_settings(config: Config) -> dict[str, str]:
    """The settings the rollups are built with, as the store's meta keeps them."""
    return {"timezone": config.timezone, "active_events": json.dumps(sorted(config.get("workspace.active_events")))}


def rebuild_pending(reader: Reader, config: Config) -> str | None:
    """What pmkit.toml changed that the published rollups do not follow yet (they are rebuilt
    by the next ingest, ``_sync_settings``), in words; None when they follow it. The numbers
    were shown labelled with the new time zone while still counted in the old one (QA)."""
    if reader.frame("SELECT count(*) AS n FROM batches")["n"].item() == 0:
        return None
    wanted = _wanted_settings(config)
    changes = []
    stored_zone = reader.meta("timezone")
    if stored_zone is not None and stored_zone != wanted["timezone"]:
        changes.append(f"the time zone changed from {stored_zone} to {wanted['timezone']}")
    stored_active = reader.meta("active_events")
    if stored_active is not None and stored_active != wanted["active_events"]:
        changes.append("workspace.active_events changed")
    return " and ".join(changes) or None


def _sync_settings(writer: Writer, config: Config, progress: Progress | None) -> bool:
    """Rollups depend on the time zone and the active events; if either changed since the
    store was built, rebuild the rollups from the raw events before loading more (True)."""
    wanted = _wanted_settings(config)
    stored = {key: writer.meta(key) for key in wanted}
    has_events = writer.con.execute("SELECT count(*) FROM batches").fetchall()[0][0] > 0
    for key, value in wanted.items():
        writer.set_meta(key, value)
    if has_events and stored != wanted:
        if progress:
            progress("Rebuilding the rollups from all events (the time zone or active events changed)", 0.0)
        rebuild_rollups(writer, config)
        return True
    return False


@dataclass
class ReadAhead:
    """A small file hashed and read before the writer holds the store (``_read_ahead``)."""

    digest: str
    parsed: Parsed | None  # None: rejected, or already in the published version (not read)
    rejected: Rejected | None = None
    options: ReadOptions | None = None  # what it was read with
    before: tuple[int, int] | None = None  # the file's size and mtime before it was read


def read_options(config: Config, store: Store | Writer) -> ReadOptions:
    """How a file is read into ``store``: an events file keeps its event dimensions and the ones
    pmkit.toml's ingest.keep_dimensions names, and has room for the most filled of its others up
    to MAX_DIMENSIONS, the named ones not counted; a feedback file the same with its answers'
    attributes."""
    wanted = config.get("ingest.keep_dimensions")
    named = frozenset(stored_name(name) for name in wanted)
    # Each kind names its columns after its own reserved names (event -> source_event; a
    # feedback attribute named event stays event).
    named_attributes = frozenset(attribute_name(name) for name in wanted)
    dimensions, attributes = store.column_names()
    return ReadOptions(
        timezone=config.timezone,
        keep_dimensions=dimensions | named,
        dimension_room=MAX_DIMENSIONS - len(dimensions - named),
        keep_attributes=attributes | named_attributes,
        attribute_room=MAX_DIMENSIONS - len(attributes - named_attributes),
        mixpanel_timezone=config.get("ingest.mixpanel_project_timezone"),
    )


def _is_small(path: Path) -> bool:
    try:
        return path.stat().st_size < HASH_FIRST_BYTES
    except OSError:
        return False  # missing or unreadable: _ingest_file says so


def _read_file(path: Path, options: ReadOptions) -> Parsed:
    sample = sniff(path)
    return sources.detect(sample).read(sample, options)


def _read_ahead(path: Path, config: Config, store: Store, snapshot: dt.date) -> ReadAhead:
    """Hash ``path``, then read it unless the published version already has its content: a
    duplicate still costs no parse. The writer's own check stays the one that counts, and the
    file is read again if the writer's version has other dimensions to keep."""
    before = _size_and_time(path)
    digest = content_hash(path)
    if store.has_loaded(digest, snapshot):
        return ReadAhead(digest, None, before=before)
    options = read_options(config, store)
    try:
        return ReadAhead(digest, _read_file(path, options), options=options, before=before)
    except Rejected as rejected:
        return ReadAhead(digest, None, rejected, options=options, before=before)


def _size_and_time(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None  # missing or unreadable: _ingest_file says so
    return stat.st_size, stat.st_mtime_ns


# A file that changed between the start and the end of its read: an export still being written
# (a download, a copy, a tool saving it). It was loaded in part and archived as loaded while the
# rest was still being written into it (ingest QA).
STILL_WRITTEN = (
    "the file changed while it was read (still being written or downloaded?): nothing of it was "
    "loaded. Load it again once it is complete"
)
# Names browsers and office tools give a file they are still writing.
IN_PROGRESS_SUFFIXES = (".part", ".partial", ".crdownload", ".download", ".tmp", ".filepart")
IN_PROGRESS = "still being downloaded or saved (its name says so): it stays in the inbox until it is complete"
A_FOLDER = "a folder: put its files into the inbox itself (folders are not read), then load again"


def _ingest_file(
    writer: Writer,
    path: Path,
    config: Config,
    as_of: dt.date | None,
    skip_bad_rows: bool,
    file_progress: FileProgress,
    ahead: concurrent.futures.Future[ReadAhead] | None = None,
) -> FileResult:
    result = FileResult(path=path)
    file_progress.stage("reading and checking rows")
    before: tuple[int, int] | None = None
    try:
        if not path.exists():
            raise Rejected([RowError(None, None, "no such file (check the path)")])
        parsed: Parsed | None = None
        options = read_options(config, writer)
        early = ahead.result() if ahead is not None else None
        before = early.before if early is not None else _size_and_time(path)
        if early is not None and early.options != options:
            # Another ingest added dimensions between the read ahead and the writer's copy.
            early = ReadAhead(early.digest, None)
        if early is not None:
            digest, parsed = early.digest, early.parsed
        else:
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                # A big file is hashed while it is parsed (sha256 releases the GIL: 0.5-0.7 s off
                # a 10M-row CSV), at idle priority; a small one first, so that a duplicate costs
                # no parse.
                big = not _is_small(path)
                hashing = pool.submit(_in_idle_time, content_hash, path) if big else pool.submit(content_hash, path)
                parsed = _read_file(path, options) if big else None
                digest = hashing.result()
        if writer.has_loaded(digest, snapshot_date_for(path, as_of, config.timezone)):
            result.status = "duplicate"
            return result
        if early is not None and early.rejected is not None:
            raise early.rejected
        if parsed is None:
            parsed = _read_file(path, options)
        result.kind, result.format, result.mapping = parsed.kind, parsed.format, parsed.mapping
        result.dimensions_dropped = parsed.dropped_dimensions
        result.questions_skipped, result.rows_unanswered = parsed.questions_skipped, parsed.rows_unanswered
        result.errors = list(parsed.errors)
        result.rows_rejected = len(parsed.errors)
        if parsed.errors and not skip_bad_rows:
            raise Rejected(list(parsed.errors))
        if parsed.frame.height == 0:
            empty = (
                "no answers to load (every row left every score question empty)"
                if parsed.rows_unanswered
                else "no rows to load (the file has only a header)"
            )
            raise Rejected(result.errors or [RowError(None, None, empty)])
        if parsed.frame.height > int(config.get("ingest.max_rows")):
            raise Rejected(
                [
                    RowError(
                        None,
                        None,
                        f"{parsed.frame.height:,} rows is more than the limit of {int(config.get('ingest.max_rows')):,} (split the export, or raise ingest.max_rows)",
                    )
                ]
            )
        if parsed.kind == "roadmap" and as_of is None and (problem := name_date_problem(path, config.timezone)):
            raise Rejected([RowError(None, None, problem)])
        if _size_and_time(path) != before:
            result.left_in_inbox = _in_inbox(path, config)
            raise Rejected([RowError(None, None, STILL_WRITTEN)])
        file_progress.stage("storing", f"{parsed.frame.height:,} rows")
        writer.con.execute("BEGIN")
        try:
            file_id = writer.next_file_id()
            if parsed.kind == "events":
                _store_events(writer, parsed, file_id, config, result, file_progress)
            elif parsed.kind == "roadmap":
                result.snapshot_date = snapshot_date_for(path, as_of, config.timezone)
                result.gone_from, result.items_gone = _items_gone(writer, parsed, result.snapshot_date)
                result.rows_replaced = _store_roadmap(writer, parsed, file_id, result.snapshot_date)
                result.items_named = int(parsed.frame[ROW].null_count()) if ROW in parsed.frame.columns else 0
                result.rows_loaded = parsed.frame.height - result.items_named
            elif parsed.kind == "objectives":
                _store_objectives(writer, parsed, file_id)
                result.rows_loaded = parsed.frame.height
                result.metrics_unknown = _metrics_unknown(parsed, config)
            elif parsed.kind == "feedback":
                result.rows_loaded, result.rows_seen_before = _store_feedback(writer, parsed, file_id)
                result.rows_duplicate = (
                    parsed.duplicates + parsed.frame.height - result.rows_loaded - result.rows_seen_before
                )
            else:
                raise Rejected([RowError(None, None, f"unknown kind {parsed.kind!r}")])
            writer.con.execute(
                "INSERT INTO loaded_files VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()::TIMESTAMP, $9, NULL, NULL, $10, $11)",
                [
                    file_id,
                    digest,
                    path.name,
                    parsed.kind,
                    parsed.format,
                    result.rows_loaded,
                    result.rows_rejected,
                    # Rows skipped as repeats: of an event_id, or copies of stored rows (no ids).
                    result.rows_duplicate + result.rows_seen_before,
                    result.snapshot_date,
                    json.dumps(parsed.mapping),
                    json.dumps([e.as_json() for e in result.errors[:1000]]),
                ],
            )
            writer.con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # a failed COMMIT has ended it (_in_transaction)
                writer.con.execute("ROLLBACK")
            raise
        result.status = "loaded"
    except Rejected as rejected:
        _reject(result, rejected.errors)
        if before is not None and _size_and_time(path) != before:
            # Cut off mid-row because it is still being written: left in the inbox, not moved to
            # rejected/ under the writer (only a whole-line cut was caught; review).
            result.left_in_inbox = _in_inbox(path, config)
            result.errors = [RowError(None, None, STILL_WRITTEN)]
    except OSError as exc:  # a device, a file cut off by the disk or the network, ...
        if is_disk_full(exc):
            raise  # the workspace's disk, not the file: nothing is rejected, nothing published
        message = f"cannot be read: {exc.strerror or exc} (check that it is a readable, complete file)"
        _reject(result, [RowError(None, None, message)])
    except Exception as exc:
        if INTERRUPTED.is_set() or isinstance(exc, duckdb.InterruptException):
            raise KeyboardInterrupt from exc  # Ctrl+C inside a DuckDB query: stop, as anywhere else
        if is_disk_full(exc):
            raise  # no fault of the file's: the whole load stops, and nothing it wrote is published
        # A fault of pmkit's own on one file: the file's transaction is rolled back, it is moved
        # to rejected/ with this message, and the batch goes on. Raising here once stopped every
        # later file of the inbox, and left the file there to stop the next batch too.
        message = (
            f"pmkit failed on this file ({type(exc).__name__}: {str(exc)[:300]}); the other files were "
            "still loaded. This is a bug in pmkit: please report it with the file's header line"
        )
        _reject(result, [RowError(None, None, message)])
    return result


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk is full: the system's error, or DuckDB's own words for it
    (which the CLI and the Data page say in one line, and which rejects no file)."""
    return (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "No space left on device" in str(exc)


def _reject(result: FileResult, errors: list[RowError]) -> None:
    result.status, result.rows_loaded, result.errors = "rejected", 0, errors
    result.dimensions_dropped = ()  # nothing was loaded, so nothing was left out of it
    result.questions_skipped, result.rows_unanswered = {}, 0


def _log(writer: Writer, result: FileResult) -> None:
    message = "\n".join([result.summary(), *result.messages()[:5]])
    writer.con.execute(
        "INSERT INTO ingest_log VALUES (now()::TIMESTAMP, $1, $2, $3, $4, $5, $6, $7)",
        [result.name, result.kind, result.format, result.status, result.rows_loaded, result.rows_rejected, message],
    )


def _event_frame(parsed: Parsed) -> tuple[pl.DataFrame, list[str]]:
    """Canonical columns first, then dimensions whose names are safe identifiers."""
    frame = parsed.frame
    canonical = [*EVENT_REQUIRED, *EVENT_OPTIONAL]
    for column in EVENT_OPTIONAL:
        if column not in frame.columns:
            frame = frame.with_columns(
                pl.lit(None, dtype=pl.Float64 if column == "revenue" else pl.String).alias(column)
            )
    dims = []
    for column in frame.columns:
        if column in canonical or column in (ROW, RAW_USER):
            continue
        quote_identifier(column)  # sources normalise dimension names; refuse anything else
        dims.append(column)
    own = [RAW_USER] if RAW_USER in frame.columns else []  # for the repeats only, not stored
    frame = frame.select([*canonical, *dims, *own, ROW]).with_columns(pl.col(dims).cast(pl.String))
    return frame, dims


def _store_events(
    writer: Writer,
    parsed: Parsed,
    file_id: int,
    config: Config,
    result: FileResult,
    file_progress: FileProgress,
) -> None:
    """Dedupe, key users, write the file's Parquet, merge the rollups. The row-wise work runs in
    Polars on the parsed frame (no copy into DuckDB); DuckDB only sees the small aggregates."""
    from pmkit.metrics import step_events
    from pmkit.metrics.rollup import merge_dimension_rollup

    frame, dims = _event_frame(parsed)
    con = writer.con
    frame = _drop_loaded_event_ids(writer, frame, parsed.id_scope)
    result.rows_duplicate = parsed.duplicates + parsed.frame.height - frame.height
    frame, result.rows_seen_before = _drop_copies_of_loaded_rows(writer, frame)
    _keep_tied_events(writer, frame, parsed.id_scope)
    frame = frame.drop(RAW_USER, strict=False)
    result.rows_loaded = frame.height
    if frame.height == 0:
        return
    # Loaded all the same (the clock of the machine here may be the one that is wrong), but said:
    # one event in 2030 makes every page's default range end there, empty.
    tomorrow = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=1)
    result.rows_future = int((frame["event_time"] > tomorrow).sum())
    active = list(config.get("workspace.active_events"))
    is_active = pl.lit(not active) | pl.col("event").is_in(active)
    # Lazy: Polars 2.1 runs the same group-by eagerly in twice the time (10M rows, 277k users:
    # 1.5-1.7 s against 0.66-0.79 s).
    firsts = (
        frame.lazy()
        .group_by("user_id")
        .agg(
            pl.col("event_time").min().alias("first_time"),
            pl.col("event_time").filter(is_active).max().alias("last_active_time"),
        )
        .collect()
    )
    with _registered(con, firsts=firsts):
        # Users this file moves earlier leave the cohort of their old first day: those days change.
        moved = con.execute(
            "SELECT min(u.first_day), max(u.first_day) FROM users AS u JOIN firsts AS f USING (user_id) "
            "WHERE f.first_time < u.first_time"
        ).fetchall()[0]
        if moved[0] is not None:
            writer.moved_first_days.append(moved)
        writer.run("events_stage", tz=config.timezone)
        keys = con.sql("SELECT u.user_id, u.user_key FROM users AS u SEMI JOIN firsts AS f USING (user_id)").pl()
    batch = (
        frame.drop(ROW)
        .join(keys, on="user_id", how="left")
        .with_columns(
            pl.lit(file_id, dtype=pl.Int64).alias("file_id"),
            pl.col("event_time")
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone(config.timezone)
            .dt.date()
            .alias("day"),
        )
    )
    parquet = writer.parquet_path(file_id)
    # zstd level 1: as small as the default level here, and twice as fast to write.
    batch.drop("day").write_parquet(parquet, compression="zstd", compression_level=1, statistics=True)
    step_events.add_batch(writer, batch)
    file_progress.stage("grouping by day and user")
    # The three rollups' groups, each straight from the rows, in one Polars query plan: they run
    # side by side on the cores (deriving the smaller ones from the dimension groups, one after
    # the other, took half as long again on 10M rows).
    # Event and dimension names as categories: the group-bys and DuckDB's copy of the groups
    # compare and move small integers instead of text (7.7 -> 6.7 s on 10M random events).
    rows = batch.lazy().with_columns(pl.col("event", *dims).cast(pl.Categorical))
    counted = [pl.len().cast(pl.Int64).alias("events"), pl.col("revenue").fill_null(0.0).sum().alias("revenue")]
    batch_dims, batch_agg, batch_user_day, batch_counts = pl.collect_all(
        [
            rows.group_by("day", "user_key", "event", *dims).agg(*counted),
            rows.group_by("day", "user_key", "event").agg(*counted),
            rows.group_by("day", "user_key").agg(*counted, is_active.any().alias("active")),
            value_counts.batch_counts(rows, dims),
        ]
    )
    file_progress.stage("merging into the rollups")
    lo_time, hi_time = frame["event_time"].min(), frame["event_time"].max()
    lo_day, hi_day = batch_agg["day"].min(), batch_agg["day"].max()
    con.execute(
        "INSERT INTO batches VALUES ($1, $2, $3, $4, $5)", [file_id, parquet.name, batch.height, lo_time, hi_time]
    )
    for dim in dims:
        con.execute("INSERT OR IGNORE INTO dimensions VALUES ($1)", [dim])
    old_last = con.execute("SELECT max(day) FROM kpi_daily").fetchall()[0][0]
    existing = con.execute(
        "SELECT count(*) FROM user_event_day WHERE day BETWEEN $1 AND $2", [lo_day, hi_day]
    ).fetchall()[0][0]
    with (
        _registered(con, batch_agg=batch_agg, batch_user_day=batch_user_day, batch_dims=batch_dims),
        writer.unordered_inserts(),
    ):
        if existing:
            writer.run("rollup_merge", lo=lo_day, hi=hi_day, active=active)
        else:
            writer.run("rollup_insert")
        only_file = con.execute("SELECT count(*) FROM batches").fetchall()[0][0] == 1
        merge_dimension_rollup(writer, lo_day, hi_day, config.timezone, only_file=only_file)
    value_counts.merge(writer, batch_counts)
    refresh_kpi_daily(writer, lo_day, hi_day, old_last)
    writer.changed_days.append((lo_day, hi_day))
    if old_last is not None and hi_day > old_last:  # the last loaded day moved: windows settle
        writer.settled_days.append((old_last, hi_day))


def _drop_loaded_event_ids(writer: Writer, frame: pl.DataFrame, scope: tuple[str, ...] = ()) -> pl.DataFrame:
    """Overlapping exports: an event whose event_id (PostHog uuid, Mixpanel/Amplitude
    $insert_id) was already loaded is dropped, the rule used within a file. Every stored id is
    looked at, whatever its time: reading only the new file's time range made an event's fate
    depend on the file's other rows (an id loaded on day 1 and sent again on day 2 was kept alone
    and dropped beside a day-1 row). DuckDB reads only the stored ids the new ones could match
    (the Parquet statistics of each row group): at 10M stored events, 0.03 s for a day of
    sequential ids, 0.29 s for random ones (UUIDs). With a ``scope`` (Parsed.id_scope), a stored
    event is the same one only if those columns match too; the ids are stored as read, so events
    loaded before the scope existed are compared the same way."""
    if frame["event_id"].null_count() == frame.height:
        return frame
    stored = writer.event_files()
    if not stored:
        return frame
    key = ["event_id", *scope]
    # The time to the whole second, as within a file (events_common.scope_time).
    stored_key = ["date_trunc('second', event_time) AS event_time" if name == "event_time" else name for name in key]
    with _registered(writer.con, new_ids=frame.select(pl.col("event_id").drop_nulls().unique())):
        loaded = writer.con.sql(
            f"SELECT DISTINCT {', '.join(stored_key)} FROM read_parquet($files, union_by_name = true) "  # noqa: S608 - fixed canonical names
            "WHERE event_id IN (SELECT event_id FROM new_ids)",
            params={"files": stored},
        ).pl()
    # Rows without an id never match: no stored id is null.
    if "event_time" not in scope:
        return frame.join(loaded, on=key, how="anti", nulls_equal=True, maintain_order="left")
    # The row's time to the second in a column of its own (no dimension name starts with "_"):
    # the time stored is the one read. Where the file's identities tied a row to another user, a
    # stored event is the same one under either of its users: the one the row names in its file
    # (RAW_USER: the visit stored under its device, from an export before the sign-up) or the one
    # it was tied to (the visit stored under the user, from an export that held the sign-up too:
    # compared by its device alone, the next such export stored it again; review).
    users = [RAW_USER, "user_id"] if RAW_USER in frame.columns and "user_id" in key else ["user_id"]
    if set(scope) == set(INSERT_ID_SCOPE):
        # And under the name its own file gave a stored event tied to another user: the visit
        # stored under the user who signed up, exported again without the sign-up (review).
        with _registered(writer.con, new_ids=frame.select(pl.col("event_id").drop_nulls().unique())):
            tied = writer.con.sql(
                "SELECT DISTINCT event_id, event, event_time, raw_user AS user_id FROM tied_events "
                "WHERE event_id IN (SELECT event_id FROM new_ids)"
            ).pl()
        loaded = pl.concat([loaded.select(key), tied.select(key).cast(loaded.select(key).schema)])
    frame = frame.with_columns(scope_time().alias("_scope_time"))
    for user in users:
        own = {"event_time": "_scope_time", "user_id": user}
        frame = frame.join(
            loaded.rename({name: own[name] for name in own if name in loaded.columns and own[name] != name}),
            on=[own.get(name, name) for name in key],
            how="anti",
            nulls_equal=True,
            maintain_order="left",
        )
    return frame.drop("_scope_time")


def _keep_tied_events(writer: Writer, frame: pl.DataFrame, scope: tuple[str, ...]) -> None:
    """Record the events with an id stored under another user than their file names
    (``tied_events``), where ids are compared with their user (Mixpanel, Amplitude: a PostHog
    uuid is compared alone, and its rows were kept for nothing; review)."""
    if RAW_USER not in frame.columns or set(scope) != set(INSERT_ID_SCOPE):
        return
    tied = frame.filter(pl.col("event_id").is_not_null() & (pl.col(RAW_USER) != pl.col("user_id"))).select(
        "event_id", "event", scope_time().alias("event_time"), pl.col(RAW_USER).alias("raw_user")
    )
    if tied.height:
        with _registered(writer.con, tied=tied):
            writer.con.execute("INSERT INTO tied_events SELECT event_id, event, event_time, raw_user FROM tied")


# What makes a row a copy of a stored event when one of the two has no id
# (``_drop_copies_of_loaded_rows``); a blank revenue is 0, as one export writes it and another not.
COPY_IDENTITY = ("event_time", "user_id", "event", "copy_revenue")


def _drop_copies_of_loaded_rows(writer: Writer, frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Rows that copy events loaded before, where the row or the stored event has no event id:
    equal in time, user, event and revenue, they are skipped, as many times as such an event was
    loaded (the rows left, and how many were skipped). Two overlapping spreadsheet exports
    counted their shared days twice (ingest QA), and so did an export with ids (on every row, or
    only on its purchases) over one without (review). Two equal rows can still be two events, so
    a file holding a row twice where the store holds it once loads it once. A row with an id is
    compared only with stored events without one (those with one were compared by id,
    ``_drop_loaded_event_ids``); a row without, with every stored event. Other columns are not
    compared: a later export with a column more repeats the same events. Only stored files whose
    time range meets this one's are read: none for the next day's export."""
    if frame.height == 0:
        return frame, 0
    lo, hi = frame["event_time"].min(), frame["event_time"].max()
    names = [
        name
        for (name,) in writer.con.execute(
            "SELECT path FROM batches WHERE first_time <= $1 AND last_time >= $2 ORDER BY file_id", [hi, lo]
        ).fetchall()
    ]
    stored = [path for path in writer.event_files() if Path(path).name in names]
    if not stored:
        return frame, 0
    every_row_has_id = frame["event_id"].null_count() == 0
    identity = list(COPY_IDENTITY)
    loaded = writer.con.sql(
        "SELECT event_time, user_id, event, coalesce(revenue, 0)::DOUBLE AS copy_revenue, "
        "count(*) AS loaded_times, count(*) FILTER (WHERE event_id IS NULL) AS loaded_without_id "
        "FROM read_parquet($files, union_by_name = true) WHERE event_time BETWEEN $lo AND $hi "
        # Rows that all have ids meet only stored events without one: the others are not read.
        + ("AND event_id IS NULL " if every_row_has_id else "")
        + "GROUP BY ALL",
        params={"files": stored, "lo": lo, "hi": hi},
    ).pl()
    rows = frame.with_columns(pl.col("revenue").fill_null(0.0).alias("copy_revenue"))
    kept = _without_copies(rows, loaded, identity, "event_id").select(frame.columns)
    return kept, frame.height - kept.height


def _without_copies(rows: pl.DataFrame, loaded: pl.DataFrame, identity: list[str], id_column: str) -> pl.DataFrame:
    """``rows`` less the copies of stored rows where one of the two has no id: ``loaded`` holds
    the stored rows' ``identity`` with how many were stored (``loaded_times``) and how many of
    those without an id (``loaded_without_id``). A row is skipped as many times as its identity
    was stored (a file holding a row twice where the store holds it once loads it once)."""
    if loaded.height == 0:
        return rows
    rows = rows.with_columns(pl.col(id_column).is_not_null().alias("has_id"))
    with_id = pl.col("has_id").cast(pl.Int64).sum().over(identity)
    rows = rows.with_columns(
        pl.int_range(1, pl.len() + 1).over([*identity, "has_id"]).alias("copy"), with_id.alias("with_id")
    ).join(
        loaded.cast({c: rows.schema[c] for c in identity}),
        on=identity,
        how="left",
        nulls_equal=True,
        maintain_order="left",
    )
    # Rows with an id take the stored events without one first; the rows without an id, any left.
    without_id_left = pl.col("loaded_without_id").fill_null(0)
    taken_by_ids = pl.min_horizontal(pl.col("with_id"), without_id_left)
    copied = (
        pl.when(pl.col("has_id"))
        .then(pl.col("copy") <= without_id_left)
        .otherwise(pl.col("copy") <= pl.col("loaded_times").fill_null(0) - taken_by_ids)
    )
    return rows.filter(~copied)


@contextlib.contextmanager
def _registered(con: duckdb.DuckDBPyConnection, **frames: pl.DataFrame) -> Iterator[None]:
    """Polars frames visible to SQL by name for the block (a scan of the Arrow data, no copy)."""
    for name, data in frames.items():
        con.register(name, data)
    try:
        yield
    finally:
        for name in frames:
            con.unregister(name)


def refresh_kpi_daily(writer: Writer, lo_day: dt.date, hi_day: dt.date, old_last: dt.date | None) -> None:
    """Recompute the materialised daily KPIs for the days a load can change: from its first day
    (or the day after the old last day, if it leaves a gap) to 29 days after its last day."""
    from pmkit.metrics import cohorts
    from pmkit.metrics.kpis import kpi_window_sql

    con = writer.con
    first, last = con.execute("SELECT min(day), max(day) FROM user_day").fetchall()[0]
    start = min(lo_day, old_last + dt.timedelta(days=1)) if old_last else first
    end = min(hi_day + dt.timedelta(days=29), last)
    start = max(start, first)
    con.execute("DELETE FROM kpi_daily WHERE day BETWEEN $1 AND $2", [start, end])
    if start == end == last and not writer.rebuilt and cohorts.usable(writer):
        # The next day's export: only the new last day changes, and each user's last active day
        # (kept as files are keyed) answers its WAU and MAU (0.06 -> 0.01 s at 10M events).
        writer.run("kpi_last_day", day=last)
    else:
        con.execute(f"INSERT INTO kpi_daily {kpi_window_sql(start, end)}", {"start": start, "end": end})
    # A load of older events can move users' first day anywhere: new_users is recounted for
    # every day, which costs the number of users, not events.
    con.execute(
        "UPDATE kpi_daily SET new_users = coalesce(n.new_users, 0) FROM kpi_daily AS k "
        "LEFT JOIN (SELECT first_day AS day, count(*) AS new_users FROM users GROUP BY first_day) AS n USING (day) "
        "WHERE kpi_daily.day = k.day AND kpi_daily.new_users IS DISTINCT FROM coalesce(n.new_users, 0)"
    )
    con.execute(
        "INSERT INTO kpi_daily SELECT CAST(range AS DATE), 0, 0, 0, 0, 0, 0 FROM range($1::DATE, $2::DATE + 1, INTERVAL 1 DAY) "
        "WHERE CAST(range AS DATE) NOT IN (SELECT day FROM kpi_daily)",
        [first, last],
    )


def rebuild_rollups(writer: Writer, config: Config) -> None:
    """Recompute every rollup from the raw events (after a time zone or active-events change)."""
    from pmkit.metrics.rollup import rebuild_dimension_rollup

    con = writer.con
    files = writer.event_files()
    for table in ("user_event_day", "user_day", "kpi_daily"):
        con.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
    con.execute(
        "UPDATE users SET first_day = CAST(timezone($1, timezone('UTC', first_time)) AS DATE)", [config.timezone]
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE batch_agg AS SELECT CAST(timezone($tz, timezone('UTC', event_time)) AS DATE) AS day, "
        "user_key, event, count(*) AS events, coalesce(sum(revenue), 0) AS revenue "
        "FROM read_parquet($files, union_by_name = true) GROUP BY ALL",
        {"tz": config.timezone, "files": files},
    )
    lo_day, hi_day = con.execute("SELECT min(day), max(day) FROM batch_agg").fetchall()[0]
    with writer.unordered_inserts():
        writer.run("rollup_merge", lo=lo_day, hi=hi_day, active=list(config.get("workspace.active_events")))
        con.execute("DROP TABLE batch_agg")
        rebuild_dimension_rollup(writer, config.timezone)
    refresh_kpi_daily(writer, lo_day, hi_day, None)
    writer.rebuilt = True


def _items_gone(writer: Writer, parsed: Parsed, snapshot: dt.date) -> tuple[dt.date | None, tuple[str, ...]]:
    """When this snapshot becomes its tool's latest: the tool's previous snapshot date and the
    items of it that this file does not hold (loading older history changes no current roadmap)."""
    incoming = parsed.frame.select("source", "item_id").unique()
    with _registered(writer.con, incoming=incoming):
        rows = writer.con.execute(
            "WITH dates AS ("
            "  SELECT source, max(snapshot_date) FILTER (WHERE snapshot_date < $1) AS previous, max(snapshot_date) AS latest"
            "  FROM roadmap_items WHERE source IN (SELECT source FROM incoming) GROUP BY source"
            ") SELECT d.previous, r.item_id FROM roadmap_items AS r JOIN dates AS d USING (source) "
            "WHERE r.snapshot_date = d.previous AND d.latest <= $1 "
            "AND NOT EXISTS (SELECT 1 FROM incoming AS i WHERE i.source = r.source AND i.item_id = r.item_id) "
            "ORDER BY r.item_id",
            [snapshot],
        ).fetchall()
    if not rows:
        return None, ()
    return max(day for day, _ in rows), tuple(dict.fromkeys(item for _, item in rows))


def _store_roadmap(writer: Writer, parsed: Parsed, file_id: int, snapshot: dt.date) -> int:
    """Store the snapshot; returns how many items of an earlier file it replaced."""
    frame = closed_directions(parsed.frame.select(list(ROADMAP_COLUMNS)), SHOWN_TEXT).with_columns(
        pl.lit(snapshot).alias("snapshot_date"), pl.lit(file_id, dtype=pl.Int64).alias("file_id")
    )
    sources_in_file = frame["source"].unique().to_list()
    # A second export of the same tool for the same day replaces the first: one snapshot a day.
    ((replaced,),) = writer.con.execute(
        "DELETE FROM roadmap_items WHERE snapshot_date = $1 AND list_contains($2, source)", [snapshot, sources_in_file]
    ).fetchall()
    writer.con.register("incoming", frame)
    try:
        writer.con.execute("INSERT INTO roadmap_items BY NAME SELECT * FROM incoming")
    finally:
        writer.con.unregister("incoming")
    return int(replaced)


def _metrics_unknown(parsed: Parsed, config: Config) -> tuple[str, ...]:
    """``row N: 'key'`` for each objective whose metric no built-in or pmkit.toml table defines."""
    definitions = _definitions(config)
    unknown = []
    for row, key in parsed.frame.select(ROW, "metric").iter_rows():
        try:
            definitions.get(key)
        except KeyError:
            unknown.append(f"row {row}: {key!r}")
    return tuple(unknown)


def _store_objectives(writer: Writer, parsed: Parsed, file_id: int) -> None:
    frame = closed_directions(parsed.frame.select(list(OBJECTIVE_COLUMNS)), SHOWN_TEXT).with_columns(
        pl.lit(file_id, dtype=pl.Int64).alias("file_id")
    )
    # The latest file wins for each objective id, so objectives can be edited and re-exported.
    writer.con.execute(
        "DELETE FROM objectives WHERE list_contains($1, objective_id)", [frame["objective_id"].to_list()]
    )
    writer.con.register("incoming", frame)
    try:
        writer.con.execute("INSERT INTO objectives BY NAME SELECT * FROM incoming")
    finally:
        writer.con.unregister("incoming")


# What makes an answer without a key (FEEDBACK_KEY) the copy of a stored one (the query in
# ``_drop_copies_of_loaded_answers`` names the same columns).
ANSWER_IDENTITY = ("submitted_at", "user_id", "score", "scale", "comment", "source")


def _drop_copies_of_loaded_answers(writer: Writer, frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Answers that copy answers loaded before, where the answer or the stored one has no key,
    equal in every column an answer is counted by (``ANSWER_IDENTITY``): skipped, as events are
    (``_drop_copies_of_loaded_rows``). Two overlapping survey exports without ids stored their
    shared answers twice, and the NPS of 3 answers (+33) read 0 over 4 (ingest QA)."""
    if frame.height == 0:
        return frame, 0
    identity = list(ANSWER_IDENTITY)
    loaded = writer.con.sql(
        "SELECT submitted_at, user_id, score, scale, comment, source, count(*) AS loaded_times, "
        "count(*) FILTER (WHERE answer_id IS NULL) AS loaded_without_id "
        "FROM feedback WHERE submitted_at BETWEEN $lo AND $hi GROUP BY ALL",
        params={"lo": frame["submitted_at"].min(), "hi": frame["submitted_at"].max()},
    ).pl()
    kept = _without_copies(frame, loaded.cast({c: frame.schema[c] for c in identity}), identity, FEEDBACK_KEY)
    kept = kept.select(frame.columns)
    return kept, frame.height - kept.height


def _store_feedback(writer: Writer, parsed: Parsed, file_id: int) -> tuple[int, int]:
    """Store the answers whose key (FEEDBACK_KEY) was not loaded before and that copy no stored
    answer (``_drop_copies_of_loaded_answers``); returns how many were stored, and how many
    were skipped as copies."""
    extra = [c for c in parsed.frame.columns if c not in FEEDBACK_COLUMNS and c not in (ROW, FEEDBACK_KEY)]
    frame = parsed.frame.with_columns(
        (pl.struct(extra).struct.json_encode() if extra else pl.lit("{}")).alias("attributes"),
        pl.lit(file_id, dtype=pl.Int64).alias("file_id"),
    ).select([*FEEDBACK_COLUMNS, FEEDBACK_KEY, "attributes", "file_id"])
    if frame[FEEDBACK_KEY].null_count() < frame.height:
        with _registered(writer.con, new_keys=frame.select(pl.col(FEEDBACK_KEY).drop_nulls())):
            loaded = writer.con.sql(
                "SELECT DISTINCT answer_id FROM feedback WHERE answer_id IN (SELECT answer_id FROM new_keys)"
            ).pl()
        frame = frame.filter(
            pl.col(FEEDBACK_KEY).is_null() | ~pl.col(FEEDBACK_KEY).is_in(loaded[FEEDBACK_KEY].implode())
        )
    frame, copies = _drop_copies_of_loaded_answers(writer, frame)
    with _registered(writer.con, incoming=frame):
        writer.con.execute("INSERT INTO feedback BY NAME SELECT * FROM incoming")
    return frame.height, copies
