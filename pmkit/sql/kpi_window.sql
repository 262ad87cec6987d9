-- DAU, WAU, MAU, new users, events and revenue for every day from $start to $end, from the
-- user-day rollup. The rolling CTEs (at the marker below) count the distinct users active in
-- the 7 and 30 days ending each day, one of two ways (pmkit.metrics.kpis.kpi_window_sql picks
-- the faster for the span): kpi_rolling.sql for long spans, kpi_rolling_masks.sql for short
-- ones.
WITH active AS (
    SELECT user_key, day FROM user_day WHERE active AND day BETWEEN $start::DATE - 29 AND $end::DATE
), {rolling}, daily AS (
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
