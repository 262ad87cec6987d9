-- Retention over windows relative to each user's first day, per first day and breakdown group.
-- The cohort of day F: users whose first event ever is on F ($start..$end) with a row of the
-- segment that day. For each window [F + a, F + b] (the lists $from_days and $to_days, zipped):
-- eligible = cohort members whose window ends on or before the last loaded day $last_day (later
-- ones cannot be judged yet); retained = eligible members with an active day in the window.
-- Day-N retention is the window [F + N, F + N]; "week k after the first day" is [F + 7k, F + 7k + 6].
-- A breakdown splits the cohort by the value on the first day; any active day of the segment
-- after it is a return, whatever its value (a user who upgraded from free to pro is retained in
-- free's cohort, not lost from it, as in PostHog; a user with two values on the first day is in
-- both groups' cohorts).
WITH src AS (
    SELECT * FROM {user_days} AS s
), cohort AS (
    SELECT DISTINCT s.grp, s.user_key, u.first_day
    FROM src AS s JOIN users AS u ON u.user_key = s.user_key AND u.first_day = s.day
    WHERE u.first_day BETWEEN $start AND $end
), windows AS (
    SELECT unnest($from_days::INTEGER[]) AS a, unnest($to_days::INTEGER[]) AS b
), eligible AS (
    SELECT c.grp, c.user_key, c.first_day, w.a, w.b FROM cohort AS c CROSS JOIN windows AS w
    WHERE c.first_day + w.b <= $last_day
), retained AS (
    SELECT DISTINCT e.grp, e.user_key, e.a, e.b
    FROM eligible AS e JOIN src AS s
      ON s.user_key = e.user_key AND s.active
     AND s.day BETWEEN e.first_day + e.a AND e.first_day + e.b
)
SELECT e.grp, e.first_day, e.a, e.b, count(*)::BIGINT AS eligible, count(r.user_key)::BIGINT AS retained
FROM eligible AS e
LEFT JOIN retained AS r ON r.user_key = e.user_key AND r.grp IS NOT DISTINCT FROM e.grp AND r.a = e.a AND r.b = e.b
GROUP BY e.grp, e.first_day, e.a, e.b
