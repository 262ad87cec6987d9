-- The events of a funnel's steps ($steps) from the segment's {events} (raw: funnels need each
-- event's time), from a day before $start (UTC; attempts start on local days $start..$end) to
-- $reach_days days after $end, each with its local day and a global order `seq`: by user, time,
-- then step position, so events at the same instant count as in step order.
SELECT user_key, event_time AS t, event, grp,
       CAST(timezone($tz, timezone('UTC', event_time)) AS DATE) AS day,
       row_number() OVER (ORDER BY user_key, event_time, list_position($steps::VARCHAR[], event)) AS seq
FROM {events} AS e
WHERE list_contains($steps::VARCHAR[], event)
  AND event_time >= $start::TIMESTAMP - INTERVAL 1 DAY
  AND event_time < $end::TIMESTAMP + to_days($reach_days::INTEGER)
ORDER BY seq
