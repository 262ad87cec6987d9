-- Feature adoption per day $start..$end and breakdown group: adopters = users who did the event
-- $feature in the 30 days ending the day AND are in that day's MAU (had an active day in those
-- 30 days); mau = users with an active day in those 30 days. {user_event_days} is read from
-- $start - 29.
-- Exact without a range join: a user's state only changes on days they have rows. After such a
-- day p, with last_feature and last_active the latest feature and active days up to p, the user
-- is in the MAU on days [p, min(next row day, last_active + 30)) and an adopter on days
-- [p, min(next row day, least(last_feature, last_active) + 30)). These intervals never overlap
-- for one user, so each count is a running sum of +1 at starts and -1 at ends.
WITH marks AS (
    SELECT grp, user_key, day, bool_or(event = $feature) AS did_feature, bool_or(active) AS was_active
    FROM {user_event_days} AS s GROUP BY grp, user_key, day
), state AS (
    SELECT grp, day,
           lead(day) OVER (PARTITION BY grp, user_key ORDER BY day) AS next_day,
           max(CASE WHEN did_feature THEN day END) OVER running AS last_feature,
           max(CASE WHEN was_active THEN day END) OVER running AS last_active
    FROM marks
    WINDOW running AS (PARTITION BY grp, user_key ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
), spans AS (
    SELECT grp, day,
           CASE WHEN last_active IS NOT NULL
                THEN CASE WHEN next_day IS NULL THEN last_active + 30 ELSE least(next_day, last_active + 30) END END AS mau_end,
           CASE WHEN last_active IS NOT NULL AND last_feature IS NOT NULL
                THEN CASE WHEN next_day IS NULL THEN least(last_feature, last_active) + 30
                          ELSE least(next_day, least(last_feature, last_active) + 30) END END AS adopter_end
    FROM state
), deltas AS (
    SELECT grp, day AS d, 1 AS mau, 0 AS adopters FROM spans WHERE mau_end > day
    UNION ALL SELECT grp, mau_end, -1, 0 FROM spans WHERE mau_end > day
    UNION ALL SELECT grp, day, 0, 1 FROM spans WHERE adopter_end > day
    UNION ALL SELECT grp, adopter_end, 0, -1 FROM spans WHERE adopter_end > day
), per_day AS (
    SELECT grp, d, sum(mau) AS mau, sum(adopters) AS adopters FROM deltas GROUP BY grp, d
), calendar AS (
    SELECT g.grp, CAST(r.range AS DATE) AS day
    FROM (SELECT DISTINCT grp FROM marks) AS g
    CROSS JOIN range($start::DATE - 29, $end::DATE + 1, INTERVAL 1 DAY) AS r
), running AS (
    SELECT c.grp, c.day,
           sum(coalesce(p.adopters, 0)) OVER w AS adopters,
           sum(coalesce(p.mau, 0)) OVER w AS mau
    FROM calendar AS c LEFT JOIN per_day AS p ON p.grp IS NOT DISTINCT FROM c.grp AND p.d = c.day
    WINDOW w AS (PARTITION BY c.grp ORDER BY c.day)
)
SELECT grp, day, adopters::BIGINT AS adopters, mau::BIGINT AS mau
FROM running
WHERE day BETWEEN $start AND $end
