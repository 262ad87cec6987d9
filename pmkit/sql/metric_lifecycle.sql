-- Lifecycle per Monday-starting week and breakdown group, as PostHog defines it, over the weeks
-- $first_week..$last_week, from {user_days} read from $first_week - 7 (the week before decides
-- "returning" and "dormant"). Of the users active in a week:
--   new           their first event ever is in that week;
--   returning     active the week before too;
--   resurrecting  not active the week before, first event earlier.
-- dormant: active the week before, not active in that week (reported negative by pmkit).
WITH weeks AS (
    SELECT DISTINCT grp, user_key, CAST(date_trunc('week', day) AS DATE) AS week FROM {user_days} AS s WHERE active
), marked AS (
    SELECT w.grp, w.week,
           CAST(date_trunc('week', u.first_day) AS DATE) = w.week AS is_new,
           lag(w.week) OVER (PARTITION BY w.grp, w.user_key ORDER BY w.week) AS previous_week,
           lead(w.week) OVER (PARTITION BY w.grp, w.user_key ORDER BY w.week) AS next_week
    FROM weeks AS w JOIN users AS u USING (user_key)
), statuses AS (
    SELECT grp, week,
           CASE WHEN is_new THEN 'new' WHEN previous_week = week - 7 THEN 'returning' ELSE 'resurrecting' END AS status
    FROM marked
    UNION ALL
    SELECT grp, week + 7, 'dormant' FROM marked WHERE next_week IS NULL OR next_week > week + 7
)
SELECT grp, week, status, count(*)::BIGINT AS users
FROM statuses
WHERE week BETWEEN $first_week AND $last_week
GROUP BY grp, week, status
