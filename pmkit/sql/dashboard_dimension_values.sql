-- The most common values of one event dimension ({dimension}: a column name from the store's
-- `dimensions` list, quoted by store.quote_identifier), most events first.
SELECT CAST({dimension} AS VARCHAR) AS value, count(*)::BIGINT AS events
FROM events
WHERE {dimension} IS NOT NULL
GROUP BY 1
ORDER BY 2 DESC, 1
LIMIT $limit
