-- Survey answers whose local day ($tz) is in $start..$end, newest first. `attributes` is the
-- JSON object of the file's extra columns (plan, country, ...).
SELECT CAST(timezone($tz, timezone('UTC', submitted_at)) AS DATE) AS day, submitted_at, lower(trim(scale)) AS scale,
       score, comment, source, attributes
FROM feedback
WHERE submitted_at >= $start::TIMESTAMP - INTERVAL 1 DAY AND submitted_at < $end::TIMESTAMP + INTERVAL 2 DAY
  AND CAST(timezone($tz, timezone('UTC', submitted_at)) AS DATE) BETWEEN $start AND $end
ORDER BY submitted_at DESC
