-- The events of a funnel's steps ($steps) from the segment's {events} (raw: funnels need each
-- event's time), from a day before $start (UTC; attempts start on local days $start..$end) to
-- $reach_days days after $end, in a global order: by user, time, then step position (events at
-- one instant may serve steps in any order: pmkit.metrics.funnels matches from the instant's
-- first). pmkit.metrics.funnels numbers them in that order (`seq`) and adds their local day:
-- a plain ORDER BY and Polars' time zone conversion, where a row_number() window and DuckDB's
-- conversion took 0.05 s instead of 0.02 s for 122k events.
SELECT user_key, event_time AS t, event, grp, list_position($steps::VARCHAR[], event) AS position
FROM {events} AS e
WHERE list_contains($steps::VARCHAR[], event)
  AND event_time >= $start::TIMESTAMP - INTERVAL 1 DAY
  AND event_time < $end::TIMESTAMP + to_days($reach_days::INTEGER)
ORDER BY user_key, event_time, position
