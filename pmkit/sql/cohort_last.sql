-- Per first week, the users whose last active day falls in each week (pmkit.metrics.cohorts).
-- That day moves with any load, so this is recounted whole: one scan of user_day's active rows
-- (0.05 s at 10M events).
DELETE FROM cohort_last;
INSERT INTO cohort_last
SELECT CAST(date_trunc('week', u.first_day) AS DATE), CAST(date_trunc('week', l.last_day) AS DATE), count(*)::BIGINT
FROM (SELECT user_key, max(day) AS last_day FROM user_day WHERE active GROUP BY user_key) AS l
JOIN users AS u USING (user_key)
GROUP BY 1, 2
