-- The first and last local day ($tz) of a survey answer, as the feedback queries count days.
SELECT min(CAST(timezone($tz, timezone('UTC', submitted_at)) AS DATE)) AS first_day,
       max(CAST(timezone($tz, timezone('UTC', submitted_at)) AS DATE)) AS last_day
FROM feedback
