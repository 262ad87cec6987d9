-- The cohort rollups behind unsegmented retention (pmkit.metrics.cohorts), recounted for the
-- active days from lo to hi: per first day and active day, and per first week and active week
-- (whole Monday weeks: lo is a Monday, hi a Sunday, when called for weeks). A user counts once
-- per (first day, day) or (first week, week); days and weeks are the workspace's, as in user_day.
DELETE FROM cohort_days WHERE day BETWEEN $lo AND $hi;
INSERT INTO cohort_days
SELECT u.first_day, d.day, count(*)::BIGINT
FROM user_day AS d JOIN users AS u USING (user_key)
WHERE d.active AND d.day BETWEEN $lo AND $hi
GROUP BY u.first_day, d.day;
DELETE FROM cohort_weeks WHERE week BETWEEN $week_lo AND $week_hi;
INSERT INTO cohort_weeks
SELECT CAST(date_trunc('week', u.first_day) AS DATE), w.week, count(*)::BIGINT
FROM (
    SELECT DISTINCT user_key, CAST(date_trunc('week', day) AS DATE) AS week
    FROM user_day WHERE active AND day BETWEEN $week_lo AND $week_hi + 6
) AS w JOIN users AS u USING (user_key)
GROUP BY 1, 2
