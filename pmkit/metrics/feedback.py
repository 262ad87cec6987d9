"""NPS and CSAT from the feedback table, per grain bucket of the answers' local day."""

from __future__ import annotations

import polars as pl

from pmkit.metrics.base import Period, bucket_params, buckets, ratio, run, workspace_of
from pmkit.store import Reader


def _answers(
    reader: Reader, period: Period | None, grain: str, scale: str, low: int, high: int, top_from: int, bottom_to: int
) -> pl.DataFrame:
    workspace = workspace_of(reader)
    if period is None:
        # Default: the days with answers of this scale (surveys need not span the event range).
        lo, hi = reader.frame(
            "SELECT min(CAST(timezone($tz, timezone('UTC', submitted_at)) AS DATE)) AS lo, "
            "max(CAST(timezone($tz, timezone('UTC', submitted_at)) AS DATE)) AS hi FROM feedback WHERE lower(trim(scale)) = $scale",
            tz=workspace.timezone,
            scale=scale,
        ).row(0)
        period = Period(lo, hi) if lo else workspace.default_period()
    frame = run(
        reader,
        "metric_feedback",
        scale=scale,
        low_score=low,
        high_score=high,
        top_from=top_from,
        bottom_to=bottom_to,
        tz=workspace.timezone,
        end=period.end,
        **bucket_params(grain, period),
    )
    calendar = buckets(period, grain).select("day")
    return (
        calendar.join(frame, on="day", how="left")
        .with_columns(pl.col("responses", "top", "bottom").fill_null(0))
        .sort("day")
    )


def nps(reader: Reader, period: Period | None = None, grain: str = "week") -> pl.DataFrame:
    """Net Promoter Score per bucket: day (bucket start), responses, promoters (9-10), passives
    (7-8), detractors (0-6), nps = (promoters - detractors) / responses x 100, from -100 to 100
    (null without responses). Answers on the nps scale with a score outside 0..10 are ignored.
    """
    frame = _answers(reader, period, grain, "nps", 0, 10, 9, 6)
    return frame.select(
        "day",
        "responses",
        pl.col("top").alias("promoters"),
        (pl.col("responses") - pl.col("top") - pl.col("bottom")).alias("passives"),
        pl.col("bottom").alias("detractors"),
        (ratio(pl.col("top") - pl.col("bottom"), pl.col("responses")) * 100).alias("nps"),
    )


def csat(reader: Reader, period: Period | None = None, grain: str = "week") -> pl.DataFrame:
    """Customer satisfaction per bucket: day (bucket start), responses, satisfied (4 or 5 on the
    1-5 scale), csat = satisfied / responses, a share from 0 to 1 (null without responses).
    Answers on the csat scale with a score outside 1..5 are ignored."""
    frame = _answers(reader, period, grain, "csat", 1, 5, 4, 0)
    return frame.select(
        "day", "responses", pl.col("top").alias("satisfied"), ratio(pl.col("top"), pl.col("responses")).alias("csat")
    )
