-- Merge the staged `batch` (events_stage.sql) into user_event_day_dims: one row per day, user,
-- event and combination of dimension values, so filters and breakdowns by any dimension read a
-- rollup instead of the raw events. Only the days $lo..$hi the batch covers are rewritten.
-- The table must already have a VARCHAR column for every dimension (pmkit.metrics.rollup adds
-- them). Dimensions are every batch column but the canonical and internal ones, so the column
-- list follows the loaded files without this text naming any.
CREATE OR REPLACE TEMP TABLE merged_dims AS
SELECT * EXCLUDE (events, revenue), sum(events)::BIGINT AS events, sum(revenue)::DOUBLE AS revenue
FROM (
    SELECT * FROM user_event_day_dims WHERE day BETWEEN $lo AND $hi
    UNION ALL BY NAME
    SELECT day, user_key, event,
           COLUMNS(* EXCLUDE (event_time, user_id, event, event_id, session_id, revenue, user_key, file_id, day)),
           count(*) AS events, coalesce(sum(revenue), 0) AS revenue
    FROM batch GROUP BY ALL
)
GROUP BY ALL;
DELETE FROM user_event_day_dims WHERE day BETWEEN $lo AND $hi;
INSERT INTO user_event_day_dims BY NAME SELECT * FROM merged_dims;
DROP TABLE merged_dims
