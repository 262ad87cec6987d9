-- The batch's days hold no rows yet (the usual case: new days): insert the batch's aggregates
-- as they are, without re-grouping. `batch_agg` is (day, user_key, event, events, revenue);
-- `batch_user_day` is (day, user_key, events, revenue, active).
INSERT INTO user_event_day SELECT day, user_key, event, events, revenue FROM batch_agg;
INSERT INTO user_day SELECT day, user_key, events, revenue, active FROM batch_user_day;
