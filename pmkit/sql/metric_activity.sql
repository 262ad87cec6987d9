-- Events, revenue, active users and new users per bucket ($trunc: day, week or month; or, when
-- $whole_period, one bucket starting $start) and breakdown group, from {user_days} over $start..$end.
-- Active users are counted distinct within the bucket (SELECT DISTINCT first, then count: faster
-- than count(DISTINCT) in DuckDB). New users: users whose first event ever is on a day of the
-- bucket and who have a row of the segment on that day.
WITH s AS (
    SELECT CASE WHEN $whole_period THEN $start::DATE ELSE CAST(date_trunc($trunc, day) AS DATE) END AS bucket,
           day, user_key, grp, events, revenue, active
    FROM {user_days} AS src
), totals AS (
    SELECT grp, bucket, sum(events)::BIGINT AS events, sum(revenue)::DOUBLE AS revenue FROM s GROUP BY grp, bucket
), active_users AS (
    SELECT grp, bucket, count(*)::BIGINT AS active_users
    FROM (SELECT DISTINCT grp, bucket, user_key FROM s WHERE active) AS a GROUP BY grp, bucket
), new_users AS (
    SELECT s.grp, s.bucket, count(*)::BIGINT AS new_users
    FROM s JOIN users AS u ON u.user_key = s.user_key AND u.first_day = s.day
    GROUP BY s.grp, s.bucket
)
SELECT t.grp, t.bucket AS day, t.events, t.revenue,
       coalesce(a.active_users, 0)::BIGINT AS active_users, coalesce(n.new_users, 0)::BIGINT AS new_users
FROM totals AS t
LEFT JOIN active_users AS a ON a.grp IS NOT DISTINCT FROM t.grp AND a.bucket = t.bucket
LEFT JOIN new_users AS n ON n.grp IS NOT DISTINCT FROM t.grp AND n.bucket = t.bucket
