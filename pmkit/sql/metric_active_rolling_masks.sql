-- metric_active_rolling.sql for a period of at most 35 days, without a sort: each user's active
-- days from $start - 29 to $end as the bits of one 64-bit mask per group (bit i: day
-- $start - 29 + i), by a hash aggregate. On day D (bit offset k = D - $start) the user counts in
-- DAU when bit k+29 is set, in WAU when a bit of k+23..k+29 is, in MAU when one of k..k+29 is.
WITH masks AS (
    SELECT grp, bit_or(CAST(1 AS UBIGINT) << CAST(day - ($start::DATE - 29) AS INTEGER)) AS mask
    FROM {user_days} AS s WHERE active GROUP BY grp, user_key
), shifted AS (
    SELECT m.grp, CAST(c.range AS DATE) AS day, m.mask >> CAST(CAST(c.range AS DATE) - $start::DATE AS INTEGER) AS bits
    FROM masks AS m CROSS JOIN range($start::DATE, $end::DATE + 1, INTERVAL 1 DAY) AS c
)
SELECT grp, day,
       count(*) FILTER (WHERE (bits >> 29) & 1 <> 0)::BIGINT AS dau,
       count(*) FILTER (WHERE (bits >> 23) & 127 <> 0)::BIGINT AS wau,
       count(*) FILTER (WHERE bits & 1073741823 <> 0)::BIGINT AS mau
FROM shifted GROUP BY grp, day
