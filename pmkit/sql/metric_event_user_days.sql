-- The distinct (user, day) pairs with one of the events $events (empty: every event), from
-- {user_event_days}: the days a custom unique_users metric counts a user (metric_event_activity).
SELECT DISTINCT user_key, day
FROM {user_event_days} AS src
WHERE len($events::VARCHAR[]) = 0 OR list_contains($events::VARCHAR[], event)
