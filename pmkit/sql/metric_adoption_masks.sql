-- metric_adoption.sql for a period of at most 35 days, without a sort: each user's feature days
-- and active days from $start - 29 to $end as the bits of two 64-bit masks (bit i: day
-- $start - 29 + i), by a hash aggregate. On day D (bit offset k = D - $start) the user is in
-- the MAU when an active bit of k..k+29 is set, and an adopter when a feature bit is set too.
WITH masks AS (
    SELECT grp,
           bit_or(CASE WHEN event = $feature THEN CAST(1 AS UBIGINT) << CAST(day - ($start::DATE - 29) AS INTEGER) ELSE 0 END) AS feature,
           bit_or(CASE WHEN active THEN CAST(1 AS UBIGINT) << CAST(day - ($start::DATE - 29) AS INTEGER) ELSE 0 END) AS active
    FROM {user_event_days} AS s GROUP BY grp, user_key
), windowed AS (
    SELECT m.grp, CAST(c.range AS DATE) AS day,
           (m.active >> CAST(CAST(c.range AS DATE) - $start::DATE AS INTEGER)) & 1073741823 <> 0 AS in_mau,
           (m.feature >> CAST(CAST(c.range AS DATE) - $start::DATE AS INTEGER)) & 1073741823 <> 0 AS did_feature
    FROM masks AS m CROSS JOIN range($start::DATE, $end::DATE + 1, INTERVAL 1 DAY) AS c
)
SELECT grp, day, count(*) FILTER (WHERE in_mau AND did_feature)::BIGINT AS adopters,
       count(*) FILTER (WHERE in_mau)::BIGINT AS mau
FROM windowed GROUP BY grp, day
