-- Every user's last day with an active event, recounted from user_day (pmkit.metrics.cohorts:
-- after the rollups were rebuilt, or in a store from before the column).
UPDATE users SET last_active = NULL;
UPDATE users SET last_active = l.last_active
FROM (SELECT user_key, max(day) AS last_active FROM user_day WHERE active GROUP BY user_key) AS l
WHERE users.user_key = l.user_key
