-- Survey answers of one scale ($scale: nps or csat, scores $low_score..$high_score) per bucket
-- ($trunc: day, week or month; or, when $whole_period, one bucket starting $start) over the local
-- days $start..$end: responses, top (score >= $top_from) and bottom (score <= $bottom_to).
WITH answers AS (
    SELECT CAST(timezone($tz, timezone('UTC', submitted_at)) AS DATE) AS day, score
    FROM feedback
    WHERE lower(trim(scale)) = $scale AND score BETWEEN $low_score AND $high_score
      AND submitted_at >= $start::TIMESTAMP - INTERVAL 1 DAY AND submitted_at < $end::TIMESTAMP + INTERVAL 2 DAY
)
SELECT CASE WHEN $whole_period THEN $start::DATE ELSE CAST(date_trunc($trunc, day) AS DATE) END AS day,
       count(*)::BIGINT AS responses,
       count(*) FILTER (WHERE score >= $top_from)::BIGINT AS top,
       count(*) FILTER (WHERE score <= $bottom_to)::BIGINT AS bottom
FROM answers
WHERE day BETWEEN $start AND $end
GROUP BY 1
