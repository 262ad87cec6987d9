-- Merge the staged batch into the per user-event-day and per user-day rollups. Only the days
-- the batch covers are rewritten, so adding a day costs what that day costs. `batch_agg` holds
-- the new events grouped by (day, user_key, event): events and revenue.
CREATE OR REPLACE TEMP TABLE merged_user_event_day AS
SELECT day, user_key, event, sum(events)::BIGINT AS events, sum(revenue) AS revenue
FROM (
    SELECT day, user_key, event, events, revenue FROM user_event_day WHERE day BETWEEN $lo AND $hi
    UNION ALL
    SELECT day, user_key, event, events, revenue FROM batch_agg
)
GROUP BY day, user_key, event;
DELETE FROM user_event_day WHERE day BETWEEN $lo AND $hi;
INSERT INTO user_event_day SELECT * FROM merged_user_event_day;
DELETE FROM user_day WHERE day BETWEEN $lo AND $hi;
INSERT INTO user_day
SELECT day, user_key, sum(events)::BIGINT, sum(revenue), bool_or(len($active) = 0 OR list_contains($active, event))
FROM merged_user_event_day GROUP BY day, user_key;
DROP TABLE merged_user_event_day;
