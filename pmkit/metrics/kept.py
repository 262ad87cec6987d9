"""What the tables kept at ingest for unsegmented reads (``cohorts``, ``feature_days``) share: a
signature in ``meta`` saying what they were counted under, and the spans of days to recount."""

from __future__ import annotations

import datetime as dt

from pmkit.store import Writer


def prepare(writer: Writer, meta_key: str, wanted: str, tables: tuple[str, ...], create: str) -> bool:
    """Drop ``tables`` when they were counted under another signature than ``wanted`` (other
    settings, an older layout), create what is missing; whether they hold counts under ``wanted``
    (False too in a store from before them)."""
    stored = writer.meta(meta_key)
    if stored not in (None, wanted):
        for table in tables:
            writer.con.execute(f"DROP TABLE IF EXISTS {table}")  # fixed names
    writer.con.execute(create)
    return stored == wanted


def merged_spans(spans: list[tuple[dt.date, dt.date]]) -> list[tuple[dt.date, dt.date]]:
    """Overlapping or touching spans as one: each day is recounted once."""
    merged: list[tuple[dt.date, dt.date]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1] + dt.timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
