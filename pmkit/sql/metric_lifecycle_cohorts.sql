-- metric_lifecycle's result without a segment, from the cohort tables kept at ingest
-- (pmkit.metrics.cohorts), for the weeks $first_week to $last_week: new = active users first seen
-- that week; returning = active that week and the week before; resurrecting = the other active
-- users; dormant = active the week before, not this week (the week before's active users less
-- this week's returning ones).
WITH per_week AS (
    SELECT week, sum(users) AS active, sum(users) FILTER (WHERE cohort_week = week) AS new, sum(returning_users) AS ret
    FROM cohort_weeks WHERE week BETWEEN $first_week::DATE - 7 AND $last_week GROUP BY week
), counts AS (
    SELECT CAST(c.range AS DATE) AS week,
           coalesce(n.new, 0)::BIGINT AS new,
           coalesce(n.ret, 0)::BIGINT AS "returning",
           (coalesce(n.active, 0) - coalesce(n.new, 0) - coalesce(n.ret, 0))::BIGINT AS resurrecting,
           (coalesce(p.active, 0) - coalesce(n.ret, 0))::BIGINT AS dormant
    FROM range($first_week::DATE, $last_week::DATE + 1, INTERVAL 7 DAY) AS c
    LEFT JOIN per_week AS n ON n.week = CAST(c.range AS DATE)
    LEFT JOIN per_week AS p ON p.week = CAST(c.range AS DATE) - 7
)
SELECT NULL::VARCHAR AS grp, week, status, users
FROM counts UNPIVOT (users FOR status IN ("new", "returning", "resurrecting", "dormant"))
WHERE users > 0
