-- The feature table's row for $day, the last loaded day (pmkit.metrics.feature_days: adding the
-- next day's export). Each user's last day of each event is on or before the last loaded day, so
-- the users who did an event in the 30 days ending it are those whose last day of it is in them:
-- one read of `user_event_last`, no 30-day group-by of user_event_day. Valid only while
-- user_event_last holds every loaded day (the table's signature matches).
DELETE FROM feature_days WHERE day = $day;
INSERT INTO feature_days
SELECT a.event, $day::DATE, coalesce(d.users, 0)::BIGINT, coalesce(d.events, 0)::BIGINT, a.adopters::BIGINT
FROM (
    SELECT event, count(*) AS adopters FROM user_event_last WHERE last_day >= $day::DATE - 29 GROUP BY event
) AS a
LEFT JOIN (
    SELECT event, count(*) AS users, sum(events) AS events FROM span_rows GROUP BY event
) AS d USING (event)
WHERE a.adopters > 0
