-- The cohort tables behind unsegmented retention and lifecycle (pmkit.metrics.cohorts),
-- recounted for the active days from lo to hi: per first day and active day; and per first week
-- and active week, with how many of those users were active the week before too. A change in a
-- week changes the next week's "before": weeks from week_lo (the Monday of lo) to the week after
-- week_hi (the Monday of hi) are recounted. A user counts once per (first day, day) or (first
-- week, week); days and weeks are the workspace's, as in user_day.
DELETE FROM cohort_days WHERE day BETWEEN $lo AND $hi;
INSERT INTO cohort_days
SELECT u.first_day, d.day, count(*)::BIGINT
FROM user_day AS d JOIN users AS u USING (user_key)
WHERE d.active AND d.day BETWEEN $lo AND $hi
GROUP BY u.first_day, d.day;
DELETE FROM cohort_weeks WHERE week BETWEEN $week_lo AND $week_hi + 7;
INSERT INTO cohort_weeks
WITH w AS (
    SELECT DISTINCT user_key, CAST(date_trunc('week', day) AS DATE) AS week
    FROM user_day WHERE active AND day BETWEEN $week_lo - 7 AND $week_hi + 13
)
SELECT CAST(date_trunc('week', u.first_day) AS DATE), w.week, count(*)::BIGINT, count(p.user_key)::BIGINT
FROM w JOIN users AS u USING (user_key)
LEFT JOIN w AS p ON p.user_key = w.user_key AND p.week = w.week - 7
WHERE w.week BETWEEN $week_lo AND $week_hi + 7
GROUP BY 1, 2
