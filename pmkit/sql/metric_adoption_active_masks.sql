-- metric_adoption_active.sql for a period of at most 35 days, without a sort: each user's days
-- with a feature from $start - 29 to $end as the bits of one 64-bit mask (bit i: day
-- $start - 29 + i), by a hash aggregate. The user adopted the feature on day D (bit offset
-- k = D - $start) when a bit of k..k+29 is set.
WITH masks AS (
    SELECT grp, event AS feature, bit_or(CAST(1 AS UBIGINT) << CAST(day - ($start::DATE - 29) AS INTEGER)) AS mask
    FROM {user_event_days} AS s WHERE list_contains($features::VARCHAR[], event)
    GROUP BY grp, event, user_key
)
SELECT m.grp, m.feature AS event, CAST(c.range AS DATE) AS day,
       count(*) FILTER (WHERE (m.mask >> CAST(CAST(c.range AS DATE) - $start::DATE AS INTEGER)) & 1073741823 <> 0)::BIGINT AS adopters
FROM masks AS m CROSS JOIN range($start::DATE, $end::DATE + 1, INTERVAL 1 DAY) AS c
GROUP BY ALL
