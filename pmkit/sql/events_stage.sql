-- Give each new user the next dense key, remember each user's first event, and stage the file's
-- events with their key and their day in the workspace time zone.
INSERT INTO users
SELECT (SELECT coalesce(max(user_key), 0) FROM users) + row_number() OVER (ORDER BY s.first_time, s.user_id),
       s.user_id, s.first_time, CAST(timezone($tz, timezone('UTC', s.first_time)) AS DATE)
FROM (SELECT user_id, min(event_time) AS first_time FROM staged GROUP BY user_id) AS s
WHERE NOT EXISTS (SELECT 1 FROM users AS u WHERE u.user_id = s.user_id);
-- A file of older events can move a known user's first event earlier.
UPDATE users SET first_time = s.first_time, first_day = CAST(timezone($tz, timezone('UTC', s.first_time)) AS DATE)
FROM (SELECT user_id, min(event_time) AS first_time FROM staged GROUP BY user_id) AS s
WHERE users.user_id = s.user_id AND s.first_time < users.first_time;
CREATE OR REPLACE TEMP TABLE batch AS
SELECT s.* EXCLUDE (_row), u.user_key, $file_id::BIGINT AS file_id,
       CAST(timezone($tz, timezone('UTC', s.event_time)) AS DATE) AS day
FROM staged AS s JOIN users AS u USING (user_id);
