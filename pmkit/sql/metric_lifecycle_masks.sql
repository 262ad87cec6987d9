-- metric_lifecycle.sql without a sort, for at most 64 weeks from $first_week - 7 to $last_week:
-- each user's active weeks as the bits of one 64-bit mask per group (bit i: the week starting
-- $first_week - 7 + 7i), by a hash aggregate. For week w (bit i) a user active in it is new when
-- their first event is in w, else returning when bit i-1 is set too, else resurrecting; a user
-- active in the week before and not in w is dormant in w.
WITH masks AS (
    SELECT grp, user_key,
           bit_or(CAST(1 AS UBIGINT) << CAST((CAST(date_trunc('week', day) AS DATE) - ($first_week::DATE - 7)) // 7 AS INTEGER)) AS weeks
    FROM {user_days} AS s WHERE active GROUP BY grp, user_key
), flags AS (
    SELECT m.grp, CAST(w.range AS DATE) AS week,
           (m.weeks >> CAST((CAST(w.range AS DATE) - ($first_week::DATE - 7)) // 7 AS INTEGER)) & 1 = 1 AS now,
           (m.weeks >> CAST((CAST(w.range AS DATE) - ($first_week::DATE - 7)) // 7 - 1 AS INTEGER)) & 1 = 1 AS before,
           CAST(date_trunc('week', u.first_day) AS DATE) = CAST(w.range AS DATE) AS first
    FROM masks AS m JOIN users AS u USING (user_key)
    CROSS JOIN range($first_week::DATE, $last_week::DATE + 1, INTERVAL 7 DAY) AS w
), counts AS (
    SELECT grp, week,
           count(*) FILTER (WHERE now AND first)::BIGINT AS new,
           count(*) FILTER (WHERE now AND NOT first AND before)::BIGINT AS "returning",
           count(*) FILTER (WHERE now AND NOT first AND NOT before)::BIGINT AS resurrecting,
           count(*) FILTER (WHERE before AND NOT now)::BIGINT AS dormant
    FROM flags GROUP BY grp, week
)
SELECT grp, week, status, users
FROM counts UNPIVOT (users FOR status IN ("new", "returning", "resurrecting", "dormant"))
WHERE users > 0
