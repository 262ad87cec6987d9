-- Give each new user of the file the next dense key and remember each user's first event.
-- `firsts` (user_id, first_time) is the file's earliest event per user.
INSERT INTO users
SELECT (SELECT coalesce(max(user_key), 0) FROM users) + row_number() OVER (ORDER BY f.first_time, f.user_id),
       f.user_id, f.first_time, CAST(timezone($tz, timezone('UTC', f.first_time)) AS DATE)
FROM firsts AS f
WHERE NOT EXISTS (SELECT 1 FROM users AS u WHERE u.user_id = f.user_id);
-- A file of older events can move a known user's first event earlier.
UPDATE users SET first_time = f.first_time, first_day = CAST(timezone($tz, timezone('UTC', f.first_time)) AS DATE)
FROM firsts AS f
WHERE users.user_id = f.user_id AND f.first_time < users.first_time;
