-- What is loaded, in one row: the event days, counts, dimensions and when a file was last loaded.
SELECT (SELECT min(day) FROM kpi_daily) AS first_day,
       (SELECT max(day) FROM kpi_daily) AS last_day,
       (SELECT coalesce(sum(events), 0) FROM kpi_daily)::BIGINT AS events,
       -- Days with an event: the span from the first to the last day counts the days between too.
       (SELECT count(*) FROM kpi_daily WHERE events > 0)::BIGINT AS event_days,
       (SELECT count(*) FROM users)::BIGINT AS users,
       (SELECT count(*) FROM loaded_files)::BIGINT AS files,
       (SELECT max(loaded_at) FROM loaded_files) AS last_loaded,
       (SELECT count(*) FROM feedback)::BIGINT AS answers,
       -- The items of each tool's latest snapshot, as the pages judge them: counting every item
       -- ever loaded said 14 beside a roadmap of 13, one removed the week before.
       (SELECT count(DISTINCT item_id) FROM roadmap_items r
         WHERE snapshot_date = (SELECT max(snapshot_date) FROM roadmap_items l
                                 WHERE l.source IS NOT DISTINCT FROM r.source))::BIGINT AS roadmap_items,
       (SELECT max(snapshot_date) FROM roadmap_items) AS last_snapshot,
       (SELECT count(*) FROM objectives)::BIGINT AS objectives
