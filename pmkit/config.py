"""Workspace settings: `pmkit.toml` in the workspace, overridden by `PMKIT_*` environment variables.

Every setting is one row of SETTINGS (name, default, help); the README lists them and a test checks
that each is documented there.

| setting | default | help |
|---|---|---|
| see SETTINGS below | | |
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DATA = Path("data")
# The PM's pmkit.toml as `pmkit publish` last copied it into a hosted workspace: its metric and
# objective tables and its settings of the data are used there, under the hosted pmkit.toml
# (which wins, key by key). Without it the hosted app had the PM's events but not their
# definitions: objectives read "no data", and the saved funnel was another one (QA).
PUBLISHED_TOML = "published.toml"
# Settings of the deployment, never taken from the published file.
DEPLOYMENT_SETTINGS = frozenset(
    {"workspace.read_only", "ingest.max_upload_mb", "ingest.max_rows", "app.new_data_check_seconds"}
)


@dataclass(frozen=True)
class Setting:
    key: str  # "section.name" in pmkit.toml
    default: Any
    help: str
    env: str | None = None


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "workspace.timezone", "UTC", "Time zone of day boundaries and of timestamps without an offset", "PMKIT_TIMEZONE"
    ),
    Setting(
        "workspace.read_only",
        False,
        "Hosted read-only mode: no upload, no Data page, store opened read-only",
        "PMKIT_READ_ONLY",
    ),
    Setting("workspace.demo", False, "Set by `pmkit demo`: the workspace holds generated demo data"),
    Setting("workspace.active_events", [], "Events that make a user active (empty: every event)"),
    Setting("ingest.max_upload_mb", 200, "Largest file the app accepts as an upload, in MB", "PMKIT_MAX_UPLOAD_MB"),
    Setting("ingest.max_rows", 20_000_000, "Most rows one file may hold", "PMKIT_MAX_ROWS"),
    Setting(
        "ingest.keep_dimensions",
        [],
        "Columns of events (and feedback) always kept as dimensions, beyond the 30 a workspace keeps",
    ),
    Setting(
        "ingest.mixpanel_project_timezone",
        "",
        "A Mixpanel project made before 2023 exports its times in the project's time zone: name it "
        '(e.g. "US/Pacific"); empty: its times are UTC',
    ),
    Setting(
        "app.new_data_check_seconds",
        30,
        "How often an open page looks for a newly published store version, in seconds",
        "PMKIT_NEW_DATA_CHECK_SECONDS",
    ),
    Setting("roadmap.at_risk_below", 0.9, "Schedule index under which an item is at risk"),
    Setting("roadmap.off_track_below", 0.75, "Schedule index under which an item is off track"),
    Setting("roadmap.slip_tolerance", 0.10, "Forecast or slip beyond this share of the duration is a risk"),
    Setting("impact.window_days", 28, "Days before and after a ship date compared by the impact view"),
)


class ConfigError(ValueError):
    """pmkit.toml cannot be used; the message names the file, the key and the fix."""


class StoreUnreadable(ValueError):
    """The store's published version is missing or damaged; the message names it and the fix.
    Here, not in pmkit.store, so the CLI can catch it without importing DuckDB and Polars."""


@dataclass(frozen=True)
class Config:
    data_dir: Path
    values: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # [metrics.KEY] tables, as written
    objectives: dict[str, dict[str, Any]] = field(default_factory=dict)  # [objectives.ID] tables

    def get(self, key: str) -> Any:
        return self.values[key]

    @property
    def timezone(self) -> str:
        return str(self.values["workspace.timezone"])

    @property
    def read_only(self) -> bool:
        return bool(self.values["workspace.read_only"])

    @property
    def demo(self) -> bool:
        return bool(self.values["workspace.demo"])

    @property
    def inbox(self) -> Path:
        return self.data_dir / "inbox"

    @property
    def archive(self) -> Path:
        return self.data_dir / "archive"

    @property
    def rejected(self) -> Path:
        return self.data_dir / "rejected"

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"


def _truthy(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


def _check_tables(raw: dict[str, Any], toml_path: Path) -> None:
    """Each section a table, and [metrics] and [objectives] tables of tables: `workspace = 3` or
    `metrics = "x"` failed inside pmkit with a traceback."""
    for section in dict.fromkeys(setting.key.split(".")[0] for setting in SETTINGS):
        if not isinstance(raw.get(section, {}), dict):
            raise ConfigError(
                f"{toml_path}: {section} must be a table of settings, written [{section}] on a line of its own "
                f"with one setting per line below it, not {raw[section]!r}"
            )
    for section, example in (("metrics", "[metrics.activation]"), ("objectives", "[objectives.OBJ-1]")):
        found = raw.get(section, {})
        if not isinstance(found, dict):
            raise ConfigError(
                f"{toml_path}: {section} must be one table per entry, each headed like {example}, not {found!r}"
            )
    # A setting pmkit does not know was ignored without a word: `timezone = "Europe/Berlin"` above
    # every table left the workspace in UTC (QA).
    known = {setting.key for setting in SETTINGS}
    sections = {key.split(".")[0] for key in known}
    for key in raw:
        if key in sections or key in ("metrics", "objectives"):
            continue
        owner = next((k for k in known if k.split(".")[1] == key), None)
        where = (
            f"it belongs under [{owner.split('.')[0]}] ({owner})"
            if owner
            else f"the settings are tables: {', '.join(f'[{name}]' for name in sorted(sections))}, [metrics.KEY], [objectives.ID]"
        )
        raise ConfigError(f"{toml_path}: {key} is not a setting at the top of the file: {where}")
    for section in sections:
        for name in raw.get(section, {}):
            if f"{section}.{name}" not in known:
                names = ", ".join(sorted(k.split(".")[1] for k in known if k.startswith(f"{section}.")))
                raise ConfigError(f"{toml_path}: [{section}] has no setting {name} (its settings: {names})")


def load_config(data_dir: Path | str | None = None) -> Config:
    """Settings for the workspace at ``data_dir`` (else $PMKIT_DATA, else ./data)."""
    root = Path(data_dir or os.environ.get("PMKIT_DATA") or DEFAULT_DATA)
    # DuckDB reads a backslash as a folder separator, here as on Windows: the store's files under
    # such a path (or a link to one) could not be opened, and the CLI and the app failed with its
    # IOException.
    for path in dict.fromkeys((root.absolute(), root.resolve())):
        if "\\" in str(path):
            raise ConfigError(
                f"{path}: the workspace's path holds a backslash (\\), which DuckDB reads as a folder "
                "separator: rename that folder, or point --data or PMKIT_DATA at a path without one"
            )
    toml_path = root / "pmkit.toml"
    raw = _read_toml(toml_path)
    published_path = root / PUBLISHED_TOML
    published = _read_toml(published_path)
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}  # where each value came from, for the messages below
    for setting in SETTINGS:
        section, name = setting.key.split(".")
        value, where = setting.default, str(toml_path)
        if name in raw.get(section, {}):
            value = raw[section][name]
        elif setting.key not in DEPLOYMENT_SETTINGS and name in published.get(section, {}):
            value, where = published[section][name], str(published_path)
        if setting.env and os.environ.get(setting.env):
            value, where = os.environ[setting.env], setting.env
            if isinstance(setting.default, bool):
                value = _truthy(value)
            elif isinstance(setting.default, int | float):
                try:
                    value = float(value)
                except ValueError:
                    raise ConfigError(f"{setting.env}: {setting.key} must be a number, not {value!r}") from None
        if isinstance(setting.default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: {setting.key} must be true or false, not {value!r}")
        elif isinstance(setting.default, int | float):
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
                raise ConfigError(
                    f"{where}: {setting.key} must be a number, 0 or more (the default is {setting.default}), not {value!r}"
                )
            value = type(setting.default)(value) if value == type(setting.default)(value) else value
        elif isinstance(setting.default, str) and not isinstance(value, str):
            raise ConfigError(
                f'{where}: {setting.key} must be text in quotes (e.g. "{setting.default}"), not {value!r}'
            )
        elif isinstance(setting.default, list) and (
            not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value)
        ):
            # A string was taken letter by letter: active_events = "login" made every user inactive.
            raise ConfigError(
                f'{where}: {setting.key} must be a list of names in brackets (e.g. {name} = ["login", "create_report"]), '
                f"not {value!r}"
            )
        values[setting.key], origins[setting.key] = value, where
    # A folder of the zone database ("Pacific") raises OSError, not ZoneInfoNotFoundError.
    for key, example in (
        ("workspace.timezone", '"Europe/Berlin"'),
        ("ingest.mixpanel_project_timezone", '"US/Pacific", the zone in the Mixpanel project\'s settings; empty: UTC'),
    ):
        if key != "workspace.timezone" and not values[key]:
            continue
        try:
            ZoneInfo(values[key])
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ConfigError(f"{origins[key]}: {key} {values[key]!r} is not a time zone (e.g. {example})") from exc
    return Config(
        data_dir=root,
        values=values,
        metrics={**published.get("metrics", {}), **raw.get("metrics", {})},
        objectives={**published.get("objectives", {}), **raw.get("objectives", {})},
    )


def _read_toml(path: Path) -> dict[str, Any]:
    """A settings file read and its shape checked; empty when there is none."""
    if not path.exists():
        return {}
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f'{path}: {exc} (fix the TOML syntax, e.g. timezone = "UTC")') from exc
    _check_tables(raw, path)
    return raw


def workspace_today(timezone: str) -> dt.date:
    """Today in the workspace's time zone, the day the pages end on: the machine's own date put a
    Kiritimati workspace's roadmap export on the day before its events' last day (QA)."""
    return dt.datetime.now(ZoneInfo(timezone)).date()
