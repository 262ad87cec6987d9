-- Rebuild user_event_day_dims from every loaded Parquet file, with days in the workspace time
-- zone (see metric_dims_merge.sql for what the table holds).
DELETE FROM user_event_day_dims;
INSERT INTO user_event_day_dims BY NAME
SELECT day, user_key, event,
       COLUMNS(* EXCLUDE (event_time, user_id, event, event_id, session_id, revenue, user_key, file_id, day)),
       count(*)::BIGINT AS events, coalesce(sum(revenue), 0)::DOUBLE AS revenue
FROM (
    SELECT *, CAST(timezone($tz, timezone('UTC', event_time)) AS DATE) AS day
    FROM read_parquet($files, union_by_name = true)
)
GROUP BY ALL
