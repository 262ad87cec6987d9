"""KPI computations over the store: exact, explained metrics with segments, comparisons and targets.

Every function takes a ``pmkit.store.Reader`` and returns a Polars frame; none imports
Streamlit. The definitions, in the words shown to users, are in ``DEFINITIONS``.

- ``daily_kpis``: DAU, WAU, MAU, stickiness, new users, events, revenue, ARPU per day.
- ``active_users``, ``activity``: active users, events, revenue, ARPU per day/week/month, by segment.
- ``lifecycle``: new / returning / resurrecting / dormant users per week.
- ``weekly_retention``, ``retention_cohorts``, ``day_retention``: cohort retention and D1/D7/D30.
- ``funnel``, ``funnels``: ordered funnels with a conversion window (``funnels``: several periods at once).
- ``feature_adoption``, ``features_adoption``, ``engagement_matrix``: feature use as a share of MAU, and how often.
- ``nps``, ``csat``: survey scores per period.
- ``metric_series``, ``compare_metric``: any metric key (built-in or from pmkit.toml) per bucket.
- ``compare``, ``rolling_average``, ``target_path``, ``target_status``, ``anomalies``: series tools.

Inputs are frozen values: ``Period(start, end)`` (inclusive local days) and
``Segment(filters=(("plan", "pro"),), breakdown="country")``. A period defaults to the whole
loaded range.
"""

from pmkit.definitions import ANOMALY_RULE, BUILTIN_METRICS, DEFINITIONS, Definitions, MetricDefinition
from pmkit.metrics import funnels as funnels_module
from pmkit.metrics import kpis, retention
from pmkit.metrics.adoption import engagement_matrix, feature_adoption, features_adoption
from pmkit.metrics.base import GRAINS, Period, Segment
from pmkit.metrics.comparisons import COMPARISON_DAYS, compare, comparison_period, rolling_average
from pmkit.metrics.feedback import csat, nps
from pmkit.metrics.funnels import funnel, funnels, saved_funnel
from pmkit.metrics.kpis import active_users, activity, daily_kpis, lifecycle
from pmkit.metrics.retention import day_retention, retention_cohorts, weekly_retention
from pmkit.metrics.series import compare_metric, metric_series
from pmkit.metrics.targets import TargetStatus, anomalies, expected_value, path_mean, target_path, target_status

# The columns of the metrics' results besides a breakdown's: a dimension of one of these names
# cannot be one (``base.finish`` refuses to give two columns one name), so the pages do not offer
# it; filters on it work. Checked against every metric's result in tests/test_metrics_oracle.py.
BREAKDOWN_CLASHES = frozenset(
    {
        "grp",
        "value",
        "day",
        "days",
        "week",
        "complete",
        "dau",
        "wau",
        "mau",
        "stickiness",
        "events",
        "revenue",
        "active_users",
        "new_users",
        "arpu",
        "adopters",
        "adoption",
        "days_used",
        "frequency",
        "event",
        # compare_metric's and the KPI explorer's totals (dashboard.explore)
        "comparison",
        "start",
        "end",
        "base",
        "change",
        "change_pct",
        "no_base",
        *kpis.LIFECYCLE_STATUSES,
        *retention.WEEKLY_COLUMNS,
        *retention.DAY_N_COLUMNS,
        *funnels_module.FUNNEL_COLUMNS,
    }
)

__all__ = [
    "ANOMALY_RULE",
    "BREAKDOWN_CLASHES",
    "BUILTIN_METRICS",
    "COMPARISON_DAYS",
    "DEFINITIONS",
    "GRAINS",
    "Definitions",
    "MetricDefinition",
    "Period",
    "Segment",
    "TargetStatus",
    "active_users",
    "activity",
    "anomalies",
    "compare",
    "compare_metric",
    "comparison_period",
    "csat",
    "daily_kpis",
    "day_retention",
    "engagement_matrix",
    "expected_value",
    "path_mean",
    "feature_adoption",
    "features_adoption",
    "funnel",
    "funnels",
    "lifecycle",
    "metric_series",
    "nps",
    "retention_cohorts",
    "saved_funnel",
    "rolling_average",
    "target_path",
    "target_status",
    "weekly_retention",
]
