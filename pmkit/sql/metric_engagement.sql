-- Engagement per event (feature) and breakdown group over the 30 days ending $as_of, from
-- {user_event_days} read over those days: mau = users with an active day in the window;
-- adopters = those of them who did the event in the window; days_used = the days on which the
-- adopters did it; events = how often. $features limits the events (empty: all).
WITH s AS (
    SELECT * FROM {user_event_days} AS src
), per_user AS (
    SELECT grp, user_key, bool_or(active) AS in_mau FROM s GROUP BY grp, user_key
), mau AS (
    SELECT grp, count(*) AS mau FROM per_user WHERE in_mau GROUP BY grp
), used AS (
    SELECT grp, event, user_key, count(*) AS days_used, sum(events) AS events
    FROM s WHERE len($features::VARCHAR[]) = 0 OR list_contains($features::VARCHAR[], event)
    GROUP BY grp, event, user_key
), adopted AS (
    -- Grouped first, then checked against the MAU: the join sees one row per user and event,
    -- not one per user-day (0.21 -> 0.16 s at 10M events).
    SELECT u.* FROM used AS u
    SEMI JOIN per_user AS p ON p.grp IS NOT DISTINCT FROM u.grp AND p.user_key = u.user_key AND p.in_mau
)
-- Every group with a MAU gets a row (event null when none of its users did a listed event).
SELECT m.grp, u.event, count(u.user_key)::BIGINT AS adopters, coalesce(sum(u.days_used), 0)::BIGINT AS days_used,
       coalesce(sum(u.events), 0)::BIGINT AS events, any_value(m.mau)::BIGINT AS mau
FROM mau AS m LEFT JOIN adopted AS u ON u.grp IS NOT DISTINCT FROM m.grp
GROUP BY m.grp, u.event
