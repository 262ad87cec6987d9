-- Rolling distinct users for a span of at most 35 days: each user's active days from $start - 29
-- to $end as the bits of one 64-bit mask (bit i: day $start - 29 + i), made by a hash
-- aggregate with no sort. The user counts in MAU on day D (bit offset k = D - $start) when a
-- bit of k..k+29 is set, in WAU when a bit of k+23..k+29 is.
masks AS (
    SELECT bit_or(CAST(1 AS UBIGINT) << CAST(day - ($start::DATE - 29) AS INTEGER)) AS mask
    FROM active GROUP BY user_key
), running AS (
    SELECT CAST(c.range AS DATE) AS day,
           count(*) FILTER (WHERE (m.mask >> CAST(CAST(c.range AS DATE) - $start::DATE + 23 AS INTEGER)) & 127 <> 0) AS wau,
           count(*) FILTER (WHERE (m.mask >> CAST(CAST(c.range AS DATE) - $start::DATE AS INTEGER)) & 1073741823 <> 0) AS mau
    -- LEFT JOIN: a day with nobody active in its 30 days still gets its row (of zeros).
    FROM range($start::DATE, $end::DATE + 1, INTERVAL 1 DAY) AS c LEFT JOIN masks AS m ON true
    GROUP BY ALL
)
