-- DAU, WAU and MAU per day and breakdown group, for days $start..$end, from {user_days} read
-- from $start - 29. Same method as kpi_window.sql: each active day of a user opens the interval
-- [day, min(next active day, day + W)); one user's intervals never overlap, so the users active
-- in the W days ending D are the running sum of +1 at each start and -1 at each end.
WITH active AS (
    SELECT DISTINCT grp, user_key, day FROM {user_days} AS s WHERE active
), spans AS (
    SELECT grp, day, lead(day) OVER (PARTITION BY grp, user_key ORDER BY day) AS next_day FROM active
), deltas AS (
    SELECT grp, day AS d, 1 AS dau, 1 AS w7, 1 AS w30 FROM spans
    UNION ALL SELECT grp, day + 1, -1, 0, 0 FROM spans
    UNION ALL SELECT grp, least(coalesce(next_day, day + 7), day + 7), 0, -1, 0 FROM spans
    UNION ALL SELECT grp, least(coalesce(next_day, day + 30), day + 30), 0, 0, -1 FROM spans
), per_day AS (
    SELECT grp, d, sum(dau) AS dau, sum(w7) AS w7, sum(w30) AS w30 FROM deltas GROUP BY grp, d
), calendar AS (
    SELECT g.grp, CAST(r.range AS DATE) AS day
    FROM (SELECT DISTINCT grp FROM active) AS g
    CROSS JOIN range($start::DATE - 29, $end::DATE + 1, INTERVAL 1 DAY) AS r
), running AS (
    SELECT c.grp, c.day,
           sum(coalesce(p.dau, 0)) OVER w AS dau,
           sum(coalesce(p.w7, 0)) OVER w AS wau,
           sum(coalesce(p.w30, 0)) OVER w AS mau
    FROM calendar AS c LEFT JOIN per_day AS p ON p.grp IS NOT DISTINCT FROM c.grp AND p.d = c.day
    WINDOW w AS (PARTITION BY c.grp ORDER BY c.day)
)
SELECT grp, day, dau::BIGINT AS dau, wau::BIGINT AS wau, mau::BIGINT AS mau
FROM running
WHERE day BETWEEN $start AND $end
