-- Adopters per day $start..$end, group and feature in $features, when every feature is an active
-- event: doing the feature puts a user in that day's MAU, so the adopters of a day are simply the
-- distinct users who did the feature in the 30 days ending it. Only the feature's own user-days
-- are read ({user_event_days} from $start - 29). Rolling distinct users without a range join:
-- each feature day of a user opens [day, min(next feature day, day + 30)); one user's intervals
-- never overlap, so the count is a running sum of +1 at each start and -1 at each end.
WITH used AS (
    SELECT DISTINCT grp, event AS feature, user_key, day
    FROM {user_event_days} AS s WHERE list_contains($features::VARCHAR[], event)
), spans AS (
    SELECT grp, feature, day, lead(day) OVER (PARTITION BY grp, feature, user_key ORDER BY day) AS next_day FROM used
), deltas AS (
    SELECT grp, feature, day AS d, 1 AS n FROM spans
    UNION ALL SELECT grp, feature, least(coalesce(next_day, day + 30), day + 30), -1 FROM spans
), per_day AS (
    SELECT grp, feature, d, sum(n) AS n FROM deltas GROUP BY grp, feature, d
), calendar AS (
    SELECT g.grp, f.feature, CAST(r.range AS DATE) AS day
    FROM (SELECT DISTINCT grp FROM used) AS g
    CROSS JOIN (SELECT unnest($features::VARCHAR[]) AS feature) AS f
    CROSS JOIN range($start::DATE - 29, $end::DATE + 1, INTERVAL 1 DAY) AS r
), running AS (
    SELECT c.grp, c.feature, c.day, sum(coalesce(p.n, 0)) OVER (PARTITION BY c.grp, c.feature ORDER BY c.day) AS adopters
    FROM calendar AS c
    LEFT JOIN per_day AS p ON p.grp IS NOT DISTINCT FROM c.grp AND p.feature = c.feature AND p.d = c.day
)
SELECT grp, feature AS event, day, adopters::BIGINT AS adopters
FROM running
WHERE day BETWEEN $start AND $end
