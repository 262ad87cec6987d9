-- metric_retention_weekly's result without a segment, from the cohort tables kept at ingest
-- (pmkit.metrics.cohorts): the same rows (grp, cohort_week, kind, k, users) in time that grows
-- with the weeks, not the users. Cohort sizes are the new users of the cohort's days; 'last'
-- counts the cohort's users by the week of their last active day.
SELECT NULL::VARCHAR AS grp, CAST(date_trunc('week', day) AS DATE) AS cohort_week, 'size' AS kind, 0::BIGINT AS k,
       sum(new_users)::BIGINT AS users
FROM kpi_daily WHERE day BETWEEN $first_week AND $last_week + 6
GROUP BY 2 HAVING sum(new_users) > 0
UNION ALL
SELECT NULL, cohort_week, 'on', (week - cohort_week) // 7, users
FROM cohort_weeks WHERE cohort_week BETWEEN $first_week AND $last_week
UNION ALL
SELECT NULL, cohort_week, 'last', k, count(*) FROM (
    SELECT CAST(date_trunc('week', first_day) AS DATE) AS cohort_week,
           (CAST(date_trunc('week', last_active) AS DATE) - CAST(date_trunc('week', first_day) AS DATE)) // 7 AS k
    FROM users WHERE first_day BETWEEN $first_week AND $last_week + 6 AND last_active IS NOT NULL
) GROUP BY cohort_week, k
