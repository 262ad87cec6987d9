-- Each user's last day of each event (`user_event_last`, pmkit.metrics.feature_days) moved on by
-- the rows of user_event_day a load changed, staged in `span_rows` (day, user_key, event,
-- events): later days replace, new (user, event) pairs are added. Rollup rows are only ever
-- added, so a user's last day never moves back.
UPDATE user_event_last SET last_day = n.last_day
FROM (SELECT user_key, event, max(day) AS last_day FROM span_rows GROUP BY user_key, event) AS n
WHERE user_event_last.user_key = n.user_key AND user_event_last.event = n.event AND n.last_day > user_event_last.last_day;
INSERT INTO user_event_last
SELECT n.user_key, n.event, max(n.day) FROM span_rows AS n
WHERE NOT EXISTS (SELECT 1 FROM user_event_last AS u WHERE u.user_key = n.user_key AND u.event = n.event)
GROUP BY n.user_key, n.event
