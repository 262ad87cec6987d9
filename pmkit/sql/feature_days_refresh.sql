-- The feature table (pmkit.metrics.feature_days) recounted for the days $lo to $hi (at most 35):
-- per event and day, its distinct users and events that day, and its adopters, the distinct
-- users who did it in the 30 days ending that day.
--
-- Each user's days of an event from $lo - 29 to $hi are the bits of one 64-bit mask (bit i: day
-- $lo - 29 + i), made by a hash aggregate with no sort. Spreading every set bit over the 29 bits
-- above it (shifts of 1, 2, 4, 8 and 14 make 0..29) gives the "cover": its bit 29 + k is set when
-- the user did the event in the 30 days ending day $lo + k. The day_counts marker (built by the
-- module) counts each day's covers in one pass: count(*) FILTER (WHERE (cover >> (29 + k)) & 1 = 1)
-- for each day k of the span, a list per event. Bits shifted past bit 63 are dropped first (an unsigned
-- shift must not overflow): a day past $hi is not counted.
DELETE FROM feature_days WHERE day BETWEEN $lo AND $hi;
INSERT INTO feature_days
WITH masks AS (
    SELECT event, bit_or(CAST(1 AS UBIGINT) << CAST(day - ($lo::DATE - 29) AS UBIGINT)) AS a
    FROM user_event_day WHERE day BETWEEN $lo::DATE - 29 AND $hi GROUP BY event, user_key
), spread AS (
    SELECT event, a | ((a & (~CAST(0 AS UBIGINT) >> 1)) << 1) AS a FROM masks
), spread2 AS (
    SELECT event, a | ((a & (~CAST(0 AS UBIGINT) >> 2)) << 2) AS a FROM spread
), spread4 AS (
    SELECT event, a | ((a & (~CAST(0 AS UBIGINT) >> 4)) << 4) AS a FROM spread2
), spread8 AS (
    SELECT event, a | ((a & (~CAST(0 AS UBIGINT) >> 8)) << 8) AS a FROM spread4
), covers AS (
    SELECT event, a | ((a & (~CAST(0 AS UBIGINT) >> 14)) << 14) AS cover FROM spread8
), per_event AS (
    SELECT event, [{day_counts}] AS counts FROM covers GROUP BY event
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
