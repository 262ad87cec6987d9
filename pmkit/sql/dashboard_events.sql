-- Every event name with how many times it happened, most frequent first (from the rollup).
SELECT event, sum(events)::BIGINT AS events FROM user_event_day GROUP BY event ORDER BY 2 DESC, 1
