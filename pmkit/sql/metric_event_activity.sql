-- Events, revenue and distinct users of the events $events (empty: every event) per bucket
-- ($trunc: day, week or month; or, when $whole_period, one bucket starting $start) and breakdown
-- group, from {user_event_days} over $start..$end. For custom count, unique_users and
-- sum_revenue metrics: users here did one of the events, whether or not it is an active event.
WITH s AS (
    SELECT CASE WHEN $whole_period THEN $start::DATE ELSE CAST(date_trunc($trunc, day) AS DATE) END AS bucket,
           user_key, grp, events, revenue
    FROM {user_event_days} AS src
    WHERE len($events::VARCHAR[]) = 0 OR list_contains($events::VARCHAR[], event)
), totals AS (
    SELECT grp, bucket, sum(events)::BIGINT AS events, sum(revenue)::DOUBLE AS revenue FROM s GROUP BY grp, bucket
), users AS (
    SELECT grp, bucket, count(*)::BIGINT AS users FROM (SELECT DISTINCT grp, bucket, user_key FROM s) AS u GROUP BY grp, bucket
)
SELECT t.grp, t.bucket AS day, t.events, t.revenue, coalesce(u.users, 0)::BIGINT AS users
FROM totals AS t LEFT JOIN users AS u ON u.grp IS NOT DISTINCT FROM t.grp AND u.bucket = t.bucket
