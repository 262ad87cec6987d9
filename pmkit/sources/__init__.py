"""One module per export format. Each has KIND, FORMAT, detect(sample) and read(sample, options).

Detection goes from the most specific layout to the most generic, so a PostHog export is never
taken for "any CSV with a timestamp column".
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType

from pmkit.sources.base import Rejected, RowError, Sample

SOURCE_MODULES = (
    "posthog",
    "amplitude",
    "mixpanel",
    "ga4",
    "jira",
    "linear",
    "plane",
    "pmkit_roadmap",
    "pmkit_tables",  # pmkit's own objectives and feedback CSVs
    "events_csv",  # pmkit's own events CSV, and any events file whose columns can be mapped
)


def modules() -> list[ModuleType]:
    return [importlib.import_module(f"pmkit.sources.{name}") for name in SOURCE_MODULES]


def detect(sample: Sample) -> ModuleType:
    """The source module that understands this file, or Rejected naming what was expected."""
    for module in modules():
        if module.detect(sample):
            return module
    shown = ", ".join(sample.columns[:8]) or "(none)"
    first_line = sample.text.lstrip("\ufeff").split("\n", 1)[0].strip().lower()
    if sample.layout == "csv" and re.fullmatch(r'"?sep=.?"?,*', first_line):
        # Excel's delimiter hint, a line Excel itself hides: read as the header, it was "the
        # columns (sep=, ) match no known export" (ingest QA).
        raise Rejected(
            [
                RowError(
                    1,
                    None,
                    f"the first line ({first_line[:12]}) is Excel's delimiter hint, not a header: delete that line "
                    "so that the column names come first, and load the file again",
                )
            ]
        )
    if sample.layout in ("jsonl", "json") and sample.has("event_timestamp", "event_name"):
        # BigQuery's JSON of a GA4 table: told it matched no PostHog, Amplitude or Mixpanel
        # layout, with no word of the export pmkit reads (vendor QA).
        raise Rejected(
            [
                RowError(
                    1,
                    None,
                    "a GA4 BigQuery export as JSON (event_timestamp, event_name) is not read: export the table "
                    "as Parquet (its nested event_params are read), or as a CSV with the parameters selected "
                    "as columns",
                )
            ]
        )
    if sample.layout in ("jsonl", "json"):
        # The advice below (columns event_time,user_id,event) is for tables: a JSON file with
        # those very keys was told it lacked them (QA).
        raise Rejected(
            [
                RowError(
                    1,
                    None,
                    f"JSON is read as a PostHog, Amplitude or Mixpanel export, and these keys ({shown}) match none of "
                    "them (PostHog: event, distinct_id, timestamp, properties; Amplitude: event_type, event_time, "
                    "user_id or device_id; Mixpanel: event, properties with time and distinct_id): export it in one "
                    "of those layouts, or as a CSV with event_time,user_id,event columns",
                )
            ]
        )
    raise Rejected(
        [
            RowError(
                1,
                None,
                f"the columns ({shown}) match no known export; an events file needs a time, a user and an event column (e.g. event_time,user_id,event), a roadmap needs item ids and titles (e.g. a Jira, Linear or Plane CSV export)",
            )
        ]
    )
