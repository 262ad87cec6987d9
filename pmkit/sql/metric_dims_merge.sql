-- Merge the batch into user_event_day_dims: one row per day, user, event and combination of
-- dimension values, so filters and breakdowns by any dimension read a rollup instead of the raw
-- events. Only the days $lo..$hi the batch covers are rewritten. `batch_dims` is the batch
-- already grouped by (day, user_key, event, every dimension) with events and revenue (the ingest
-- groups it in Polars). The table must already have a VARCHAR column for every dimension
-- (pmkit.metrics.rollup adds them), so the column list follows the loaded files.
CREATE OR REPLACE TEMP TABLE merged_dims AS
SELECT * EXCLUDE (events, revenue), sum(events)::BIGINT AS events, sum(revenue)::DOUBLE AS revenue
FROM (
    SELECT * FROM user_event_day_dims WHERE day BETWEEN $lo AND $hi
    UNION ALL BY NAME
    SELECT * FROM batch_dims
)
GROUP BY ALL;
DELETE FROM user_event_day_dims WHERE day BETWEEN $lo AND $hi;
INSERT INTO user_event_day_dims BY NAME SELECT * FROM merged_dims;
DROP TABLE merged_dims
