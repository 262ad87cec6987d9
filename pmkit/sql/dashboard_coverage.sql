-- Per kind of data: files, rows, the dates the rows cover and when the last file was loaded.
-- Events cover the days of kpi_daily; roadmaps their snapshot dates; feedback its answer times.
WITH files AS (
    SELECT kind, count(*)::BIGINT AS files, coalesce(sum(rows_loaded), 0)::BIGINT AS rows, max(loaded_at) AS last_loaded
    FROM loaded_files GROUP BY kind
), spans AS (
    SELECT 'events' AS kind, min(day) AS first_day, max(day) AS last_day FROM kpi_daily
    UNION ALL SELECT 'roadmap', min(snapshot_date), max(snapshot_date) FROM roadmap_items
    UNION ALL SELECT 'objectives', min(start_date), max(target_date) FROM objectives
    UNION ALL SELECT 'feedback', CAST(min(submitted_at) AS DATE), CAST(max(submitted_at) AS DATE) FROM feedback
)
SELECT files.kind, files.files, files.rows, spans.first_day, spans.last_day, files.last_loaded
FROM files LEFT JOIN spans USING (kind)
ORDER BY CASE files.kind WHEN 'events' THEN 1 WHEN 'roadmap' THEN 2 WHEN 'objectives' THEN 3 WHEN 'feedback' THEN 4 ELSE 5 END
