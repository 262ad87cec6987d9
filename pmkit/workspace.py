"""The workspace folder: first-start demo, clearing the demo, saving uploads to the inbox."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tomllib
from pathlib import Path

from pmkit.config import Config, load_config
from pmkit.ingest import FileResult, Progress, file_away, ingest, ingest_inbox
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


def clear_demo(config: Config) -> None:
    """Remove the demo's store, its archived files and its settings. Only a workspace marked
    `demo = true` is cleared, so a user's own data is never deleted by this."""
    if not config.demo:
        raise ValueError("this workspace is not the demo; nothing was removed")
    store = Store(config.store_dir)
    with store.writer():
        pass  # wait for any running ingest to finish before removing its files
    shutil.rmtree(config.store_dir, ignore_errors=True)
    manifest = config.data_dir / DEMO_MANIFEST
    names = set(manifest.read_text().split()) if manifest.exists() else set()
    for folder in (config.archive, config.inbox):
        for name in names:
            (folder / name).unlink(missing_ok=True)
    manifest.unlink(missing_ok=True)
    toml_path = config.data_dir / "pmkit.toml"
    if toml_path.exists() and tomllib.loads(toml_path.read_text()).get("workspace", {}).get("demo"):
        toml_path.unlink()


def mark_demo(workspace: Path, written: list[Path]) -> None:
    """Remember exactly which files the demo wrote, so clearing it removes those and no others."""
    (workspace / DEMO_MANIFEST).write_text("\n".join(p.name for p in written) + "\n")


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
            with path.open("xb") as handle:
                handle.write(content)
        except FileExistsError:
            continue
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
    """Save an upload into the inbox and load it with the same rules as the CLI."""
    config.inbox.mkdir(parents=True, exist_ok=True)
    path = save_new_file(config.inbox, safe_upload_name(name), content)
    (result,) = ingest([path], config, as_of=as_of, skip_bad_rows=skip_bad_rows, progress=progress)
    file_away(result, config)
    return result
