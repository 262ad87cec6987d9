-- Rolling distinct users without a range join (for spans of any length): each active day of a
-- user opens the interval [day, min(next active day, day + W)); one user's intervals never
-- overlap, so the users active in the W days ending D = the running sum of +1 at each start and
-- -1 at each end. The window sort costs the rows of the whole span, about 0.1 s per million.
spans AS (
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
)
