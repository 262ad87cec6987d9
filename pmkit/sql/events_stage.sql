-- Give each new user of the file the next dense key and remember each user's first event and
-- last day with an active event (pmkit.metrics.cohorts). `firsts` (user_id, first_time,
-- last_active_time) is the file's earliest event and latest active event (null: none) per user.
INSERT INTO users (user_key, user_id, first_time, first_day, last_active)
SELECT (SELECT coalesce(max(user_key), 0) FROM users) + row_number() OVER (ORDER BY f.first_time, f.user_id),
       f.user_id, f.first_time, CAST(timezone($tz, timezone('UTC', f.first_time)) AS DATE),
       CAST(timezone($tz, timezone('UTC', f.last_active_time)) AS DATE)
FROM firsts AS f
WHERE NOT EXISTS (SELECT 1 FROM users AS u WHERE u.user_id = f.user_id);
-- A file of older events can move a known user's first event earlier.
UPDATE users SET first_time = f.first_time, first_day = CAST(timezone($tz, timezone('UTC', f.first_time)) AS DATE)
FROM firsts AS f
WHERE users.user_id = f.user_id AND f.first_time < users.first_time;
-- A file of newer events moves a known user's last active day later.
UPDATE users SET last_active = f.last_active
FROM (SELECT user_id, CAST(timezone($tz, timezone('UTC', last_active_time)) AS DATE) AS last_active FROM firsts) AS f
WHERE users.user_id = f.user_id AND f.last_active > coalesce(users.last_active, DATE '0001-01-01')
