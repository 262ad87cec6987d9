-- DAU, WAU, MAU, new users, events and revenue for every day from $start to $end, from the
-- user-day rollup. Rolling distinct users without a range join: each active day of a user opens
-- the interval [day, min(next active day, day + W)); one user's intervals never overlap, so the
-- users active in the W days ending D = the running sum of +1 at each start and -1 at each end.
WITH active AS (
    SELECT user_key, day FROM user_day WHERE active AND day BETWEEN $start::DATE - 29 AND $end::DATE
), spans AS (
    SELECT day, lead(day) OVER (PARTITION BY user_key ORDER BY day) AS next_day FROM active
), deltas AS (
    SELECT day AS d, 1 AS w7, 1 AS w30 FROM spans
    UNION ALL SELECT least(coalesce(next_day, day + 7), day + 7), -1, 0 FROM spans
    UNION ALL SELECT least(coalesce(next_day, day + 30), day + 30), 0, -1 FROM spans
), per_day AS (
    SELECT d, sum(w7) AS w7, sum(w30) AS w30 FROM deltas GROUP BY d
), calendar AS (
    SELECT CAST(range AS DATE) AS day FROM range($start::DATE - 29, $end::DATE + 1, INTERVAL 1 DAY)
), running AS (
    SELECT c.day,
           sum(coalesce(p.w7, 0)) OVER (ORDER BY c.day) AS wau,
           sum(coalesce(p.w30, 0)) OVER (ORDER BY c.day) AS mau
    FROM calendar AS c LEFT JOIN per_day AS p ON p.d = c.day
), daily AS (
    SELECT day, count(*) FILTER (WHERE active) AS dau, sum(events) AS events, sum(revenue) AS revenue
    FROM user_day WHERE day BETWEEN $start AND $end GROUP BY day
), newcomers AS (
    SELECT first_day AS day, count(*) AS new_users FROM users WHERE first_day BETWEEN $start AND $end GROUP BY first_day
)
SELECT r.day,
       coalesce(d.dau, 0)::BIGINT AS dau, r.wau::BIGINT AS wau, r.mau::BIGINT AS mau,
       coalesce(n.new_users, 0)::BIGINT AS new_users, coalesce(d.events, 0)::BIGINT AS events,
       coalesce(d.revenue, 0)::DOUBLE AS revenue
FROM running AS r LEFT JOIN daily AS d USING (day) LEFT JOIN newcomers AS n USING (day)
WHERE r.day BETWEEN $start AND $end
ORDER BY r.day
