-- What is loaded, in one row: the event days, counts, dimensions and when a file was last loaded.
SELECT (SELECT min(day) FROM kpi_daily) AS first_day,
       (SELECT max(day) FROM kpi_daily) AS last_day,
       (SELECT coalesce(sum(events), 0) FROM kpi_daily)::BIGINT AS events,
       (SELECT count(*) FROM users)::BIGINT AS users,
       (SELECT count(*) FROM loaded_files)::BIGINT AS files,
       (SELECT max(loaded_at) FROM loaded_files) AS last_loaded,
       (SELECT count(*) FROM feedback)::BIGINT AS answers,
       (SELECT count(DISTINCT item_id) FROM roadmap_items)::BIGINT AS roadmap_items,
       (SELECT max(snapshot_date) FROM roadmap_items) AS last_snapshot,
       (SELECT count(*) FROM objectives)::BIGINT AS objectives
