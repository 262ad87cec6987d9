-- Engagement per event (feature) and breakdown group over the 30 days ending $as_of, from
-- {user_event_days} read over those days: mau = users with an active day in the window;
-- adopters = those of them who did the event in the window; days_used = the days on which the
-- adopters did it; events = how often. $features limits the events (empty: all).
WITH s AS (
    SELECT * FROM {user_event_days} AS src
), monthly AS (
    SELECT DISTINCT grp, user_key FROM s WHERE active
), mau AS (
    SELECT grp, count(*) AS mau FROM monthly GROUP BY grp
), used AS (
    SELECT s.grp, s.event, s.user_key, count(*) AS days_used, sum(s.events) AS events
    FROM s JOIN monthly AS m ON m.user_key = s.user_key AND m.grp IS NOT DISTINCT FROM s.grp
    WHERE len($features::VARCHAR[]) = 0 OR list_contains($features::VARCHAR[], s.event)
    GROUP BY s.grp, s.event, s.user_key
)
-- Every group with a MAU gets a row (event null when none of its users did a listed event).
SELECT m.grp, u.event, count(u.user_key)::BIGINT AS adopters, coalesce(sum(u.days_used), 0)::BIGINT AS days_used,
       coalesce(sum(u.events), 0)::BIGINT AS events, any_value(m.mau)::BIGINT AS mau
FROM mau AS m LEFT JOIN used AS u ON u.grp IS NOT DISTINCT FROM m.grp
GROUP BY m.grp, u.event
