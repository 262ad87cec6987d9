-- Weekly retention cohorts per breakdown group. A cohort is the users whose first event ever is
-- in a Monday-starting week from $first_week to $last_week and who have a row of the segment on
-- that first day ({user_days} is read from $first_week to the last loaded day). For each
-- cohort member: the weeks (as offsets k from the cohort week) with an active day, and the last
-- such week. pmkit counts "on week k" from the first and "on or after week k" from the second.
-- A breakdown splits a cohort by the value on the first day; an active day of the segment in a
-- later week counts whatever its value (see metric_retention_window.sql).
WITH src AS (
    SELECT * FROM {user_days} AS s
), cohort AS (
    SELECT DISTINCT s.grp, s.user_key, CAST(date_trunc('week', u.first_day) AS DATE) AS cohort_week
    FROM src AS s JOIN users AS u ON u.user_key = s.user_key AND u.first_day = s.day
    WHERE u.first_day BETWEEN $first_week AND $last_week + 6
), weeks AS (
    SELECT DISTINCT user_key, CAST(date_trunc('week', day) AS DATE) AS week FROM src WHERE active
), back AS (
    SELECT c.grp, c.cohort_week, c.user_key, (w.week - c.cohort_week) // 7 AS k
    FROM cohort AS c JOIN weeks AS w ON w.user_key = c.user_key AND w.week >= c.cohort_week
)
-- kind: 'size' (cohort members), 'on' (members active in week k), 'last' (members whose last
-- active week is k).
SELECT grp, cohort_week, 'size' AS kind, 0::BIGINT AS k, count(*)::BIGINT AS users FROM cohort GROUP BY grp, cohort_week
UNION ALL
SELECT grp, cohort_week, 'on', k, count(*) FROM back GROUP BY grp, cohort_week, k
UNION ALL
SELECT grp, cohort_week, 'last', k, count(*) FROM (
    SELECT grp, cohort_week, user_key, max(k) AS k FROM back GROUP BY grp, cohort_week, user_key
) AS l GROUP BY grp, cohort_week, k
