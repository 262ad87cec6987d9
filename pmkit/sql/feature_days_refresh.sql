-- The feature table (pmkit.metrics.feature_days) recounted for the days $lo to $hi (at most 35):
-- per event and day, its distinct users and events that day, and its adopters, the distinct
-- users who did it in the 30 days ending that day.
--
-- Each user's days of an event from $lo - 29 to $hi are the bits of one 64-bit mask (bit i: day
-- $lo - 29 + i), made by a hash aggregate with no sort: the user did the event in the 30 days
-- ending day $lo + k when a bit of k..k+29 is set. The day_counts marker (built by the module)
-- counts those users for every day k of the span in one pass over the masks, a list per event:
-- count(*) FILTER (WHERE (mask >> k) & 1073741823 <> 0) for each k (a join of the masks to the
-- days took twice as long).
DELETE FROM feature_days WHERE day BETWEEN $lo AND $hi;
INSERT INTO feature_days
WITH masks AS (
    SELECT event, bit_or(CAST(1 AS UBIGINT) << CAST(day - ($lo::DATE - 29) AS UBIGINT)) AS mask
    FROM user_event_day WHERE day BETWEEN $lo::DATE - 29 AND $hi GROUP BY event, user_key
), per_event AS (
    SELECT event, [{day_counts}] AS counts FROM masks GROUP BY event
), adopted AS (
    SELECT p.event, CAST($lo::DATE + CAST(r.k AS INTEGER) AS DATE) AS day, p.counts[r.k + 1] AS adopters
    FROM per_event AS p CROSS JOIN range($days) AS r(k)
), daily AS (
    SELECT event, day, count(*) AS users, sum(events) AS events
    FROM user_event_day WHERE day BETWEEN $lo AND $hi GROUP BY event, day
)
-- Every (event, day) with a user that day has an adopter: the left join keeps them all.
SELECT a.event, a.day, coalesce(d.users, 0)::BIGINT, coalesce(d.events, 0)::BIGINT, a.adopters::BIGINT
FROM adopted AS a LEFT JOIN daily AS d USING (event, day)
WHERE a.adopters > 0
