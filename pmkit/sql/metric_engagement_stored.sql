-- metric_engagement.sql without a segment, for events that are activity, from the feature table
-- kept at ingest (pmkit.metrics.feature_days) and kpi_daily: the adopters of the 30 days ending
-- $as_of are that day's row; days_used and events add up the days from $start to $as_of. When
-- $as_of has a MAU there is a row even if no listed event was done (event null), as there.
WITH used AS (
    SELECT event, sum(users) AS days_used, sum(events) AS events FROM feature_days
    WHERE day BETWEEN $start AND $as_of AND (len($features::VARCHAR[]) = 0 OR list_contains($features::VARCHAR[], event))
    GROUP BY event
), adopted AS (
    SELECT u.event, f.adopters, u.days_used, u.events
    FROM used AS u JOIN feature_days AS f ON f.event = u.event AND f.day = $as_of
), monthly AS (
    SELECT mau FROM kpi_daily WHERE day = $as_of AND mau > 0
)
SELECT NULL::VARCHAR AS grp, a.event, a.adopters::BIGINT AS adopters, coalesce(a.days_used, 0)::BIGINT AS days_used,
       coalesce(a.events, 0)::BIGINT AS events, m.mau::BIGINT AS mau
FROM monthly AS m LEFT JOIN adopted AS a ON true
