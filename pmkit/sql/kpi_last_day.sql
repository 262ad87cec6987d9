-- The daily KPIs of $day, the last loaded day, in one read of `users` (pmkit.ingest: adding the
-- next day's export). A user's last active day is on or before the last loaded day, so the users
-- active in the 7 (30) days ending it are those whose last active day is in them: no 30-day
-- group-by of user_day. Valid only while users.last_active holds every loaded file (the cohort
-- tables' signature matches: pmkit.metrics.cohorts).
INSERT INTO kpi_daily
SELECT $day::DATE,
       coalesce(d.dau, 0)::BIGINT, r.wau::BIGINT, r.mau::BIGINT, n.new_users::BIGINT,
       coalesce(d.events, 0)::BIGINT, coalesce(d.revenue, 0)::DOUBLE
FROM (
    SELECT count(*) FILTER (WHERE last_active BETWEEN $day::DATE - 6 AND $day) AS wau,
           count(*) FILTER (WHERE last_active BETWEEN $day::DATE - 29 AND $day) AS mau
    FROM users
) AS r,
(SELECT count(*) FILTER (WHERE active) AS dau, sum(events) AS events, sum(revenue) AS revenue FROM user_day WHERE day = $day) AS d,
(SELECT count(*) AS new_users FROM users WHERE first_day = $day) AS n
