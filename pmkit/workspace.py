"""The workspace folder: first-start demo, clearing the demo, saving uploads to the inbox."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

from pmkit.config import Config, load_config
from pmkit.ingest import FileResult, Progress, file_away, inbox_turn, ingest, ingest_inbox
from pmkit.store import Store

DEMO_EVENTS = 100_000
DEMO_MANIFEST = "demo_files.txt"
# Upload names come from the browser: keep letters, digits, dot, dash and underscore only.
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def is_empty(config: Config) -> bool:
    """Nothing loaded, nothing waiting, no settings: a brand-new workspace."""
    inbox_files = any(config.inbox.iterdir()) if config.inbox.exists() else False
    return (
        Store(config.store_dir).current_version() == 0
        # A store with a CURRENT or a version file, damaged or not, is not a new workspace: the demo
        # was written into one whose CURRENT was missing (review).
        and not (config.store_dir / "CURRENT").exists()
        and not any(config.store_dir.glob("v*.duckdb"))
        and not inbox_files
        and not (config.data_dir / "pmkit.toml").exists()
    )


def ensure_demo(config: Config, progress: Progress | None = None) -> Config:
    """On first start of an empty workspace, build the demo there and return its config."""
    if not is_empty(config):
        return config
    from pmkit.demo import write_demo

    mark_demo(config.data_dir, write_demo(config.data_dir, events=DEMO_EVENTS))
    demo_config = load_config(config.data_dir)
    ingest_inbox(demo_config, progress=progress)
    return demo_config


KEPT_SETTINGS_TEXT = (
    "pmkit.toml was edited after the demo wrote it, so it was kept with your settings (only `demo = true` was "
    "taken out): delete the demo's [metrics] and [objectives] tables from it if you do not want them."
)
DEMO_FLAG = re.compile(r"(?m)^[ \t]*demo[ \t]*=[ \t]*true[ \t]*(#[^\n]*)?(\n|$)")


def demo_settings_edited(config: Config) -> bool:
    """Whether pmkit.toml differs from what the demo wrote: then clearing keeps it."""
    from pmkit.demo import PMKIT_TOML

    path = config.data_dir / "pmkit.toml"
    return path.exists() and path.read_text(encoding="utf-8") != PMKIT_TOML


def _settings_without_demo(config: Config) -> str | None:
    """pmkit.toml's text once the demo is cleared: the default when it is the demo's own, else
    the user's file without `demo = true` (clearing wrote the default over a time zone and a
    metric of the user's: their files were loaded again in UTC; QA). None: no file to change."""
    path = config.data_dir / "pmkit.toml"
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8")
    if not tomllib.loads(text).get("workspace", {}).get("demo"):
        return None
    if not demo_settings_edited(config):
        return "# pmkit workspace settings: see the README's Settings section.\n"
    edited = DEMO_FLAG.sub("", text)
    if tomllib.loads(edited).get("workspace", {}).get("demo"):
        raise ValueError(
            f"{path} says demo = true in a way pmkit cannot take out: remove it by hand; nothing was removed"
        )
    return edited


def clear_demo(config: Config) -> list[FileResult]:
    """Remove the demo: what it loaded, its archived files and its settings, and load again the
    user's own files that were loaded beside it (from ``archive/``, found by content, in their
    first load order, each with its snapshot date). Returns those loads' results.

    Only a workspace marked `demo = true` is cleared. If a file of the user's was loaded from
    outside the workspace (the CLI with a path) and is not in ``archive/``, nothing is removed:
    the store is the only copy pmkit has of it. Afterwards the workspace has a `pmkit.toml`, so
    the next start does not build the demo again (it did, right after clearing it)."""
    if not config.demo:
        raise ValueError("this workspace is not the demo; nothing was removed")
    settings = _settings_without_demo(config)  # first: a file it cannot change stops everything
    store = Store(config.store_dir)
    manifest = config.data_dir / DEMO_MANIFEST
    demo_names, written_hashes = _demo_manifest(manifest)
    # Waits for any running ingest; publishes an empty store, with a higher version number than
    # the demo's (the app caches results by version), unless the check below refuses.
    with store.writer(empty=True):
        archived = _archived_by_hash(config)
        # The hashes the demo wrote, and those of its archived files (a manifest from before
        # had names only): a demo whose first load never ran left its files in the inbox, kept
        # there by clearing and then loaded as the user's own (review).
        demo_hashes = written_hashes | {digest for digest, path in archived.items() if path.name in demo_names}
        own = _own_loaded_files(store, demo_hashes)
        missing = [name for name, digest, *_ in own if digest not in archived]
        if missing:
            raise ValueError(
                f"{', '.join(missing)} {'was' if len(missing) == 1 else 'were'} loaded from outside the workspace and "
                f"{'is' if len(missing) == 1 else 'are'} not in {config.archive}: nothing was removed. Copy "
                f"{'it' if len(missing) == 1 else 'them'} into {config.archive} to keep {'it' if len(missing) == 1 else 'them'}, "
                "or load your data into a new workspace (PMKIT_DATA=...)."
            )
    from pmkit.store import content_hash

    # The demo's files only, by content: a file of the user's waiting in the inbox under a demo
    # file's name (objectives.csv) was deleted with them (QA).
    for folder in (config.archive, config.inbox):
        for name in demo_names:
            path = folder / name
            if path.is_file() and content_hash(path) in demo_hashes:
                path.unlink()
    manifest.unlink(missing_ok=True)
    if settings is not None:
        (config.data_dir / "pmkit.toml").write_text(settings, encoding="utf-8")
    fresh = load_config(config.data_dir)
    results = []
    for _, digest, snapshot, skipped_rows in own:
        # Loaded again where it is kept: moved back through the inbox, it replaced a file of the
        # same name waiting there (QA). One loaded with its bad rows skipped is again: its good
        # rows were lost, and it was filed as rejected (QA).
        path = archived[digest]
        (result,) = ingest([path], fresh, as_of=snapshot, skip_bad_rows=bool(skipped_rows))
        if result.status == "rejected":
            file_away(result, fresh)
        results.append(result)
    return results


def _own_loaded_files(store: Store, demo_hashes: set[str]) -> list[tuple[str, str, dt.date | None, int]]:
    """(name, content hash, snapshot date, bad rows skipped) of each loaded file the demo did not
    write, in load order; by content, so an upload named like a demo file (feedback.csv) is still
    the user's."""
    if store.current_version() == 0:
        return []
    with store.reader() as reader:
        loaded = reader.frame(
            "SELECT name, content_hash, snapshot_date, rows_rejected FROM loaded_files ORDER BY file_id"
        )
    return [row for row in loaded.iter_rows() if row[1] not in demo_hashes]


def _archived_by_hash(config: Config) -> dict[str, Path]:
    """The archived files by content hash (a name may have been stamped to avoid a clash)."""
    from pmkit.store import content_hash

    if not config.archive.exists():
        return {}
    return {
        content_hash(path): path
        for path in sorted(config.archive.iterdir())
        if path.is_file() and not path.name.endswith(".errors.txt")
    }


def mark_demo(workspace: Path, written: list[Path]) -> None:
    """Remember exactly which files the demo wrote, so clearing it removes those and no others."""
    from pmkit.store import content_hash

    (workspace / DEMO_MANIFEST).write_text("".join(f"{p.name}\t{content_hash(p)}\n" for p in written))


def _demo_manifest(manifest: Path) -> tuple[set[str], set[str]]:
    """The names and content hashes of the files the demo wrote (``mark_demo``); a manifest of
    an older pmkit lists names alone."""
    if not manifest.exists():
        return set(), set()
    names, hashes = set(), set()
    for line in manifest.read_text().splitlines():
        name, _, digest = line.strip().partition("\t")
        if name:
            names.add(name)
        if digest:
            hashes.add(digest)
    return names, hashes


def safe_upload_name(name: str) -> str:
    """A file name safe to create in the inbox, whatever the browser sent (no folders, no dots
    at the start, bounded length)."""
    return (UNSAFE_NAME.sub("_", Path(name.replace("\\", "/")).name).lstrip(".") or "upload")[-120:]


def save_new_file(folder: Path, name: str, content: bytes) -> Path:
    """``content`` as a new file in ``folder`` named ``name``, or ``name (2)``, ``(3)``, ... when
    taken: created exclusively, so two uploads at once never overwrite each other, and the
    messages name the file as the user picked it (a time stamp in front made them unreadable)."""
    stem, suffix = Path(name).stem, Path(name).suffix
    for number in range(1, 10_000):
        path = folder / (name if number == 1 else f"{stem} ({number}){suffix}")
        try:
            handle = path.open("xb")
        except FileExistsError:
            continue
        try:
            with handle:  # a small file meets a full disk only when it is closed: inside this try
                handle.write(content)
        except BaseException:
            # A full disk: half a file left in the inbox loaded as a cut-off export (review).
            path.unlink(missing_ok=True)
            raise
        return path
    raise FileExistsError(f"{folder}: too many files named like {name}")


def load_upload(
    config: Config,
    name: str,
    content: bytes,
    *,
    as_of: dt.date | None = None,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
) -> FileResult:
    """Save an upload into the inbox and load it with the same rules as the CLI. It takes its turn
    with inbox loads (``inbox_turn``): one in another tab, between the save and the filing away,
    loaded the upload and moved it, and the upload failed with a traceback (review)."""
    config.inbox.mkdir(parents=True, exist_ok=True)
    with inbox_turn(config):
        path = save_new_file(config.inbox, safe_upload_name(name), content)
        (result,) = ingest([path], config, as_of=as_of, skip_bad_rows=skip_bad_rows, progress=progress)
        file_away(result, config)
    if path.name != name:
        result.uploaded_as = Path(name.replace("\\", "/")).name or name
    return result
