-- The events and the users first seen up to $shown, the last day the pages show (events are
-- dated after it: see dashboard.facts).
SELECT (SELECT coalesce(sum(events), 0) FROM kpi_daily WHERE day <= $shown)::BIGINT AS events,
       (SELECT count(*) FROM users WHERE first_day <= $shown)::BIGINT AS users,
       (SELECT count(*) FROM kpi_daily WHERE events > 0 AND day <= $shown)::BIGINT AS event_days
