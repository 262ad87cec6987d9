-- metric_retention_window's result without a segment, for windows of one day each (day-N
-- retention: a = b), from the cohort rollups kept at ingest (pmkit.metrics.cohorts). The cohort
-- of day F is its new users; eligible while F + b is on or before $last_day; retained = those
-- active on F + a.
WITH cohort AS (
    SELECT day AS first_day, new_users FROM kpi_daily WHERE day BETWEEN $start AND $end AND new_users > 0
), windows AS (
    SELECT unnest($from_days::INTEGER[]) AS a, unnest($to_days::INTEGER[]) AS b
)
SELECT NULL::VARCHAR AS grp, c.first_day, w.a, w.b, c.new_users::BIGINT AS eligible,
       coalesce(d.users, 0)::BIGINT AS retained
FROM cohort AS c CROSS JOIN windows AS w
LEFT JOIN cohort_days AS d ON d.first_day = c.first_day AND d.day = c.first_day + w.a
WHERE c.first_day + w.b <= $last_day
