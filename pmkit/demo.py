"""A seeded, realistic demo workspace: the source files of "Reportly", a B2B SaaS reporting tool.

`write_demo` writes pmkit's own CSV formats into ``out/inbox/`` (monthly events files, dated
roadmap snapshots, objectives, feedback) and ``out/pmkit.toml``. Everything is vectorised with
NumPy (no Python loop per event or per user), so 10M events take about ten seconds, and the same seed,
size and end date always give byte-identical files.

The story has true, known effects so the impact view has something real to find:

- "Onboarding checklist" (EP-1, metric ``activation``) ships SHIPS[1]; sign-ups from that day on
  create a report within 7 days with probability ACTIVATION_AFTER instead of ACTIVATION_BEFORE.
- "Sharing v2" (EP-3, metric ``reports_shared``) ships SHIPS[2]; from that day about
  SHARE_FRACTION_AFTER instead of SHARE_FRACTION_BEFORE of in-app events are ``share_report``.
- "Dark mode" (EP-5, metric ``stickiness``) ships SHIPS[0] and changes nothing at all.

`ship_dates(end)` gives the dates these land on for a given end date.

>>> from pathlib import Path
>>> import tempfile
>>> files = write_demo(Path(tempfile.mkdtemp()), events=10_000, end=date(2026, 6, 30))
>>> sorted(p.name for p in files)[:2]
['events_2026-01.csv', 'events_2026-02.csv']
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from pmkit.canonical import OBJECTIVE_COLUMNS, ROADMAP_COLUMNS

DAYS = 182  # about six months of events, ending on `end`
DAY = 86_400  # seconds

# --- the true effects the impact view should find (or, for dark mode, not find) -------------


@dataclass(frozen=True)
class Ship:
    """A roadmap item whose completion date is planted in the events, and what it does there."""

    item_id: str
    title: str
    metric: str  # the metric key the roadmap links it to
    days_before_end: int  # nominal ship day; moved back to a Friday when it falls on a weekend
    effect: str


# Ship days fall 53-118 days into the 182-day range: a 28-day window fits on either side, and
# dark mode's after-window ends before the checklist ships, so nothing else moves in it.
SHIPS = (
    Ship("EP-5", "Dark mode", "stickiness", 126, "none: nothing in the events changes"),
    Ship("EP-1", "Onboarding checklist", "activation", 98, "7-day activation 30% -> 44% for sign-ups from this day"),
    Ship(
        "EP-3",
        "Sharing v2: links and permissions",
        "reports_shared",
        63,
        "shares per active user about 2.3x from this day",
    ),
)
ACTIVATION_BEFORE = 0.30  # P(a sign-up creates a report within 7 days) before the checklist
ACTIVATION_AFTER = 0.44  # ... for sign-ups on or after its ship date
# share_report as a fraction of the drawn in-app events before and after Sharing v2; with
# logins, sign-ups and billing on top it is about 4% -> 9% of all events, and shares per
# active user rise about 2.3x.
SHARE_FRACTION_BEFORE = 0.05
SHARE_FRACTION_AFTER = 0.10
AI_SUMMARIES_DAYS_BEFORE_END = 42  # "AI summaries (beta)" launches the use_ai_summary event
NPS_SHIP = "EP-3"  # NPS improves after Sharing v2: sharing was the top complaint

# --- the product and its users ----------------------------------------------------------------

EVENTS_PER_USER = 36  # sets the number of sign-ups for the requested event count
SIGNUP_GROWTH = np.log(2.5)  # daily sign-ups grow 2.5x over the six months
# B2B: Monday-Friday busy, weekends quiet (Mon=0 .. Sun=6).
SIGNUP_WEEKDAY = np.array([1.0, 1.05, 1.05, 1.0, 0.85, 0.3, 0.25])
ACTIVE_WEEKDAY = np.array([1.0, 1.05, 1.05, 1.0, 0.85, 0.22, 0.18])

COUNTRIES = ("US", "GB", "DE", "IN", "FR", "CA", "BR", "AU")
COUNTRY_SHARES = np.array([0.36, 0.12, 0.11, 0.10, 0.08, 0.09, 0.08, 0.06])
COUNTRY_UTC_OFFSET_H = np.array([-5.0, 0.0, 1.0, 5.5, 1.0, -5.0, -3.0, 10.0])
PLATFORMS = ("web", "ios", "android")
PLATFORM_SHARES = np.array([0.62, 0.23, 0.15])
PLANS = ("free", "pro", "enterprise")

# Event codes: the order of EVENT_NAMES. In-app ("engagement") events are drawn from ENGAGEMENT
# with ENGAGEMENT_SHARES, then adjusted for who the user is and when it happens.
EVENT_NAMES = (
    "signup",
    "login",
    "view_dashboard",
    "create_report",
    "share_report",
    "export_pdf",
    "invite_teammate",
    "schedule_report",
    "use_ai_summary",
    "upgrade",
    "renewal",
)
SIGNUP, LOGIN, VIEW, CREATE, SHARE, EXPORT, INVITE, SCHEDULE, AI_SUMMARY, UPGRADE, RENEWAL = range(11)
ENGAGEMENT = np.array([VIEW, CREATE, SHARE, EXPORT, INVITE, SCHEDULE, AI_SUMMARY], dtype=np.int8)
ENGAGEMENT_SHARES = np.array([0.50, 0.17, SHARE_FRACTION_BEFORE, 0.08, 0.03, 0.06, 0.11])

EVENTS_HEADER = (
    "event_time",
    "user_id",
    "event",
    "event_id",
    "session_id",
    "revenue",
    "plan",
    "country",
    "platform",
    "app_version",
)
# pmkit's own CSV layouts are the canonical tables (the source column is set by the reader).
ROADMAP_HEADER = tuple(column for column in ROADMAP_COLUMNS if column != "source")
OBJECTIVES_HEADER = tuple(OBJECTIVE_COLUMNS)
FEEDBACK_HEADER = ("submitted_at", "user_id", "score", "scale", "comment", "source", "plan", "country")
ROADMAP_SNAPSHOT_WEEKS_BEFORE_END = (20, 15, 10, 6, 2, 0)
# pmkit's CSV time format: ISO-8601 UTC with a Z, e.g. 2026-03-01T10:00:00Z.
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def ship_dates(end: date) -> dict[str, date]:
    """The completion date of each planted ship (SHIPS, plus the AI summaries launch "EP-7")
    for a demo ending on ``end``; a ship day falling on a weekend moves back to the Friday."""
    nominal = {ship.item_id: ship.days_before_end for ship in SHIPS} | {"EP-7": AI_SUMMARIES_DAYS_BEFORE_END}
    dates = {}
    for item_id, days in nominal.items():
        day = end - dt.timedelta(days=days)
        dates[item_id] = day - dt.timedelta(days=max(0, day.weekday() - 4))
    return dates


def write_demo(out: Path, events: int = 100_000, seed: int = 7, end: date | None = None) -> list[Path]:
    """Write a seeded demo workspace: source files into ``out/inbox/`` and ``out/pmkit.toml``.

    Events cover the 182 days ending on ``end`` (default: yesterday, UTC: the last whole day, as
    a nightly export would hold; a demo ending today would be judged to yesterday, today being
    not over, ``Workspace.final_day``) and number about
    ``events`` rows in all, split into one ``events_YYYY-MM.csv`` per month. Returns the files
    written into the inbox. The same ``events``, ``seed`` and ``end`` give byte-identical files.

    >>> import tempfile
    >>> write_demo(Path(tempfile.mkdtemp()), events=10_000, end=date(2026, 6, 30))[-1].name
    'roadmap_2026-06-30.csv'
    """
    out = Path(out)
    end = end or dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=DAYS - 1)
    inbox = out / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    # Independent streams per part, so changing the feedback never reshuffles the events.
    events_rng, feedback_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    sim = _simulate(events, events_rng, start, end)
    written = _write_events(sim, inbox, start)
    written.append(_write_objectives(sim, inbox, start, end))
    written.append(_write_feedback(sim, feedback_rng, inbox, start, end))
    written.extend(_write_roadmap(inbox, start, end))
    (out / "pmkit.toml").write_text(PMKIT_TOML, encoding="utf-8")
    return written


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Simulation:
    """Every event as parallel arrays sorted by time, plus the per-user and per-session facts
    needed to render the dimension columns (kept per user/session to save memory)."""

    time: np.ndarray  # int64 seconds since the start of the range
    user: np.ndarray  # int32 user index (user ids are numbered in sign-up order)
    code: np.ndarray  # int8 index into EVENT_NAMES
    session: np.ndarray  # int32 session index, -1 for server-side renewals
    country: np.ndarray  # per user
    paid_plan: np.ndarray  # per user: 0 stays free, 1 pro, 2 enterprise
    upgrade_time: np.ndarray  # per user: seconds; never reached for free users
    price: np.ndarray  # per user: monthly price of the paid plan
    session_platform: np.ndarray  # per session
    session_version: np.ndarray  # per session, index into _versions()
    session_rank: np.ndarray  # per session: its number in start-time order


def _simulate(target: int, rng: np.random.Generator, start: date, end: date) -> _Simulation:
    days = np.arange(DAYS)
    weekday = (start.weekday() + days) % 7
    range_end = DAYS * DAY - 1
    ships = {k: (v - start).days * DAY for k, v in ship_dates(end).items()}

    # Sign-ups: growing over time, fewer at weekends; user index = sign-up order.
    n_users = max(20, round(target / EVENTS_PER_USER))
    signup_weight = np.exp(SIGNUP_GROWTH * days / (DAYS - 1)) * SIGNUP_WEEKDAY[weekday]
    signup_day = np.sort(rng.choice(DAYS, n_users, p=signup_weight / signup_weight.sum()))
    country = rng.choice(len(COUNTRIES), n_users, p=COUNTRY_SHARES).astype(np.int8)
    signup_time = signup_day * DAY + _time_of_day(rng, country)
    in_order = np.argsort(signup_time, kind="stable")  # ids follow sign-up order within a day too
    signup_time, country = signup_time[in_order], country[in_order]

    # Activation is the planted effect: the checklist raises it for sign-ups from its ship day.
    activation_rate = np.where(signup_time >= ships["EP-1"], ACTIVATION_AFTER, ACTIVATION_BEFORE)
    activated = rng.random(n_users) < activation_rate
    # Churn: most users who never create a report are gone within days; activated users stay.
    short_lived = rng.random(n_users) < np.where(activated, 0.25, 0.65)
    mean_life = np.where(short_lived, np.where(activated, 12.0, 2.5), np.where(activated, 160.0, 30.0))
    lifetime = rng.exponential(mean_life)  # days of activity after sign-up
    # Paying: mostly activated users, after a trial; some enterprise deals are sales-led.
    paid = rng.random(n_users) < np.where(activated, 0.28, 0.04)
    enterprise = paid & (rng.random(n_users) < 0.2)
    sales_led = enterprise & (rng.random(n_users) < 0.4)
    upgrade_delay = np.where(sales_led, 0.0, 1.0 + rng.exponential(14.0, n_users))
    paid &= upgrade_delay < lifetime
    lifetime = np.where(paid, upgrade_delay + rng.exponential(240.0, n_users), lifetime)
    paid_plan = np.where(paid, np.where(enterprise, 2, 1), 0).astype(np.int8)
    price = np.where(enterprise, 299.0, np.where(rng.random(n_users) < 0.7, 49.0, 99.0))
    # Heavy tail: a lognormal intensity sets both how often and how much a user does things.
    intensity = rng.lognormal(0.0, 1.0, n_users) * np.where(paid, 1.5, 1.0)
    daily_p = np.clip(0.25 * intensity**0.6, 0.04, 0.9)
    platform = rng.choice(len(PLATFORMS), n_users, p=PLATFORM_SHARES).astype(np.int8)

    # Active days after the sign-up day: one Bernoulli draw per (user, day) of the user's life.
    last_day = np.minimum(signup_day + np.floor(lifetime).astype(np.int64), DAYS - 1)
    span = np.maximum(last_day - signup_day, 0)
    cand_user = np.repeat(np.arange(n_users, dtype=np.int32), span)
    cand_day = signup_day[cand_user] + 1 + _ranks_within(span)
    keep = rng.random(cand_user.size, dtype=np.float32) < np.minimum(
        daily_p[cand_user] * ACTIVE_WEEKDAY[(start.weekday() + cand_day) % 7], 0.97
    )
    active_user, active_day = cand_user[keep], cand_day[keep]
    del cand_user, cand_day, keep
    per_day = 1 + rng.poisson(np.minimum(0.25 * intensity[active_user], 2.0))
    regular_user = np.repeat(active_user, per_day)
    regular_start = np.repeat(active_day, per_day) * DAY + _time_of_day(rng, country[regular_user])
    del active_user, active_day, per_day

    # Activation: the first report comes in the sign-up session or on a later day of week one.
    later = activated & (rng.random(n_users) < 0.4)
    same = activated & ~later
    later_user = np.flatnonzero(later).astype(np.int32)
    later_start = (signup_day[later_user] + rng.integers(1, 7, later_user.size)) * DAY + np.minimum(
        _time_of_day(rng, country[later_user]), DAY - 601
    )
    # Upgrades: at sign-up for sales-led deals, else on a later day; each in its own session.
    upgrade_user = np.flatnonzero(paid).astype(np.int32)
    upgrade_start = np.where(
        sales_led[upgrade_user],
        signup_time[upgrade_user] + rng.integers(600, 3000, upgrade_user.size),
        (signup_day[upgrade_user] + np.ceil(upgrade_delay[upgrade_user]).astype(np.int64)) * DAY
        + _time_of_day(rng, country[upgrade_user]),
    )

    # One session table: sign-up, regular, activation-later and upgrade sessions.
    s_user = np.concatenate([np.arange(n_users, dtype=np.int32), regular_user, later_user, upgrade_user])
    s_start = np.concatenate([signup_time, regular_start, later_start, upgrade_start]).astype(np.int64)
    s_kind = np.repeat(np.arange(4, dtype=np.int8), [n_users, regular_user.size, later_user.size, upgrade_user.size])
    del regular_user, regular_start
    inside = s_start <= range_end - 3600
    s_user, s_start, s_kind = s_user[inside], s_start[inside], s_kind[inside]

    # Fixed events (not drawn from the mix): sign-up, first report, upgrade, monthly renewals.
    sess_index = np.arange(s_user.size, dtype=np.int32)
    signup_sessions = sess_index[s_kind == 0]
    later_sessions = sess_index[s_kind == 2]
    upgrade_sessions = sess_index[s_kind == 3]
    same_sessions = signup_sessions[same[s_user[signup_sessions]]]
    first_report_time = np.concatenate(
        [
            s_start[same_sessions] + rng.integers(90, 1800, same_sessions.size),
            s_start[later_sessions] + rng.integers(20, 600, later_sessions.size),
        ]
    )
    upgrade_time = np.full(n_users, np.iinfo(np.int64).max, dtype=np.int64)
    upgrade_event_time = s_start[upgrade_sessions] + rng.integers(60, 900, upgrade_sessions.size)
    upgrade_time[s_user[upgrade_sessions]] = upgrade_event_time
    paid_plan = np.where(upgrade_time <= range_end, paid_plan, 0).astype(np.int8)
    renew_user, renew_time = _renewals(upgrade_time, paid_plan, (signup_day + lifetime) * DAY, range_end)
    fixed_time = np.concatenate([s_start[signup_sessions], first_report_time, upgrade_event_time, renew_time])
    fixed_user = np.concatenate(
        [s_user[signup_sessions], s_user[same_sessions], s_user[later_sessions], s_user[upgrade_sessions], renew_user]
    )
    fixed_code = np.repeat(
        np.array([SIGNUP, CREATE, UPGRADE, RENEWAL], dtype=np.int8),
        [signup_sessions.size, same_sessions.size + later_sessions.size, upgrade_sessions.size, renew_user.size],
    )
    fixed_session = np.concatenate(
        [signup_sessions, same_sessions, later_sessions, upgrade_sessions, np.full(renew_user.size, -1, dtype=np.int32)]
    )

    # In-app events: every session gets one, the rest are spread in proportion to intensity,
    # so the total is exactly the requested count (a multinomial split of what is left).
    room = target - fixed_time.size - s_user.size
    if room < 0:  # a tiny target: drop random regular sessions until the fixed part fits
        regular = np.flatnonzero(s_kind == 1)
        drop = rng.choice(regular, min(regular.size, -room), replace=False)
        keep_session = np.ones(s_user.size, dtype=bool)
        keep_session[drop] = False
        remap = np.cumsum(keep_session) - 1
        s_user, s_start, s_kind = s_user[keep_session], s_start[keep_session], s_kind[keep_session]
        fixed_session = np.where(fixed_session >= 0, remap[np.maximum(fixed_session, 0)], -1).astype(np.int32)
        room = max(0, target - fixed_time.size - s_user.size)
    weight = intensity[s_user] * np.where(s_kind == 0, 1.5, 1.0)
    per_session = 1 + rng.multinomial(room, weight / weight.sum())
    e_session = np.repeat(np.arange(s_user.size, dtype=np.int32), per_session)
    gaps = 1 + rng.exponential(55.0, e_session.size).astype(np.int64)
    elapsed = np.cumsum(gaps)
    first = np.cumsum(per_session) - per_session
    e_time = np.minimum(s_start[e_session] + elapsed - (elapsed[first] - gaps[first])[e_session], range_end)
    del gaps, elapsed
    e_user = s_user[e_session]
    e_code = _engagement_codes(
        rng, e_time, e_user, e_session, first, s_kind, signup_time, activated, upgrade_time, ships
    )

    time = np.concatenate([fixed_time, e_time])
    del e_time
    user = np.concatenate([fixed_user, e_user])
    code = np.concatenate([fixed_code, e_code])
    session = np.concatenate([fixed_session, e_session])
    del e_user, e_code, e_session
    order = np.lexsort((code, user, time))
    time, user, code, session = time[order], user[order], code[order], session[order]
    del order

    # Platform per session (mostly the user's own, sometimes the web app on a laptop) and the
    # app version it ran: web is always the latest release, mobile users update with a lag.
    s_platform = np.where(rng.random(s_user.size) < 0.8, platform[s_user], 0).astype(np.int8)
    lag = np.where(s_platform == 0, 0, rng.geometric(0.2, s_user.size) - 1)
    release_days = _release_days()
    s_version = (np.searchsorted(release_days, s_start // DAY - lag, side="right") - 1).clip(0).astype(np.int16)
    # Session ids are numbered in start order, as a tracker hands them out.
    s_rank = np.empty(s_user.size, dtype=np.int64)
    s_rank[np.lexsort((s_user, s_start))] = np.arange(s_user.size)
    return _Simulation(
        time, user, code, session, country, paid_plan, upgrade_time, price, s_platform, s_version, s_rank
    )


def _engagement_codes(
    rng: np.random.Generator,
    time: np.ndarray,
    user: np.ndarray,
    session: np.ndarray,
    first: np.ndarray,
    s_kind: np.ndarray,
    signup_time: np.ndarray,
    activated: np.ndarray,
    upgrade_time: np.ndarray,
    ships: dict[str, int],
) -> np.ndarray:
    """Draw each in-app event from the product's mix, then bend it to the story: logins open
    sessions, new users invite teammates, scheduling is a paid feature, AI summaries and
    Sharing v2 exist only from their ship dates, and users who did not activate create no
    report in their first week (so activation is exactly the planted rate)."""
    code = ENGAGEMENT[rng.choice(ENGAGEMENT.size, time.size, p=ENGAGEMENT_SHARES)]
    age = time - signup_time[user]
    # One uniform per event serves the rules below; each rule rewrites a different event, so
    # sharing the draw keeps them independent enough and saves 40 MB per 10M events.
    draw = rng.random(time.size, dtype=np.float32)
    opens = np.zeros(time.size, dtype=bool)
    opens[first] = s_kind[session[first]] == 1
    code[opens & (draw < 0.6)] = LOGIN
    code[(code == VIEW) & (age < 7 * DAY) & (draw > 0.94)] = INVITE
    free = time < upgrade_time[user]
    code[(code == SCHEDULE) & free & (draw < 0.75)] = VIEW
    ai_ramp = np.clip((time - ships["EP-7"]) / (21 * DAY), 0.0, 1.0)  # adoption grows over 3 weeks
    code[(code == AI_SUMMARY) & (draw >= ai_ramp)] = VIEW
    code[(code == CREATE) & ~activated[user] & (age < 8 * DAY)] = VIEW
    # Sharing v2: turn some dashboard views into shares, doubling the share of share_report.
    share_draw = rng.random(time.size, dtype=np.float32)
    convert = (SHARE_FRACTION_AFTER - SHARE_FRACTION_BEFORE) / ENGAGEMENT_SHARES[0]
    code[(code == VIEW) & (time >= ships["EP-3"]) & (share_draw < convert)] = SHARE
    return code


def _renewals(
    upgrade_time: np.ndarray, paid_plan: np.ndarray, churn_time: np.ndarray, range_end: int
) -> tuple[np.ndarray, np.ndarray]:
    """Monthly renewals every 30 days after the upgrade, while the customer is still around."""
    paying = np.flatnonzero(paid_plan > 0)
    stop = np.minimum(churn_time[paying], range_end).astype(np.int64)
    count = np.maximum((stop - upgrade_time[paying]) // (30 * DAY), 0)
    renew_user = np.repeat(paying, count).astype(np.int32)
    renew_time = upgrade_time[renew_user] + (1 + _ranks_within(count)) * 30 * DAY
    return renew_user, renew_time


def _ranks_within(counts: np.ndarray) -> np.ndarray:
    """0, 1, .., n-1 for each group of a np.repeat(.., counts) layout."""
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) - np.repeat(starts, counts)


def _time_of_day(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """Seconds into the UTC day: office hours (a morning and an afternoon peak) in the user's
    own time zone, wrapped onto the same UTC day so the weekday pattern stays intact."""
    local_hour = np.where(
        rng.random(country.size) < 0.55, rng.normal(10.5, 1.8, country.size), rng.normal(15.0, 2.2, country.size)
    )
    utc_seconds = (local_hour - COUNTRY_UTC_OFFSET_H[country]) * 3600
    return np.mod(utc_seconds, DAY).astype(np.int64)


def _release_days() -> np.ndarray:
    """A release every two weeks, the first shortly before the range starts."""
    return np.arange(-5, DAYS, 14)


def _versions() -> list[str]:
    return [f"4.{k}.0" for k in range(_release_days().size)]


def _write_events(sim: _Simulation, inbox: Path, start: date) -> list[Path]:
    """One CSV per calendar month, built and written a month at a time to bound memory."""
    epoch = (start - date(1970, 1, 1)).days * DAY
    written = []
    month = start.replace(day=1)
    while month <= start + dt.timedelta(days=DAYS - 1):
        following = (month + dt.timedelta(days=32)).replace(day=1)
        lo, hi = np.searchsorted(sim.time, [(month - start).days * DAY, (following - start).days * DAY])
        month_name = f"events_{month:%Y-%m}.csv"
        month = following
        if hi == lo:
            continue
        time, user, code, session = sim.time[lo:hi], sim.user[lo:hi], sim.code[lo:hi], sim.session[lo:hi]
        has_session = session >= 0
        safe_session = np.where(has_session, session, 0)
        paying = (sim.paid_plan[user] > 0) & (time >= sim.upgrade_time[user])
        plan = np.where(paying, sim.paid_plan[user], 0)
        revenue = np.where((code == UPGRADE) | (code == RENEWAL), sim.price[user], np.nan)
        # Renewals are server-side (no session): billed through the web app, latest release.
        platform = np.where(has_session, sim.session_platform[safe_session], 0)
        latest = np.searchsorted(_release_days(), time // DAY, side="right") - 1
        version = np.where(has_session, sim.session_version[safe_session], latest)
        frame = pl.DataFrame(
            {
                "event_time": pl.Series((time + epoch) * 1_000_000, dtype=pl.Int64).cast(pl.Datetime("us")),
                "user_id": _ids("u", user, 6),
                "event": pl.Series(EVENT_NAMES).gather(code),
                "event_id": _ids("ev", np.arange(lo, hi), 9),
                "session_id": _ids("s", sim.session_rank[safe_session], 8).scatter(np.flatnonzero(~has_session), None),
                "revenue": pl.Series(revenue).fill_nan(None),
                "plan": pl.Series(PLANS).gather(plan),
                "country": pl.Series(COUNTRIES).gather(sim.country[user]),
                "platform": pl.Series(PLATFORMS).gather(platform),
                "app_version": pl.Series(_versions()).gather(version),
            }
        ).select(EVENTS_HEADER)
        path = inbox / month_name
        frame.write_csv(path, datetime_format=TIME_FORMAT)
        written.append(path)
    return written


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    """Readable ids such as u000042 or ev000001234, built by Polars without a Python loop."""
    digits = pl.Series(numbers.astype(np.int64)).cast(pl.String).str.zfill(width)
    return (prefix + digits).alias(prefix)


# --- objectives ---------------------------------------------------------------------------------

OBJECTIVE_START_DAY = 56  # objectives were set about eight weeks into the range
OBJECTIVE_TARGET_DAYS_AFTER_END = 35
# (objective_id, title, metric, direction, owner, team)
OBJECTIVES = (
    ("OBJ-1", "Activate new teams in their first week", "activation", "increase", "Maya Chen", "Growth"),
    ("OBJ-2", "Get reports shared beyond their author", "reports_shared", "increase", "Lucas Moreau", "Collaboration"),
    ("OBJ-3", "Keep teams coming back", "stickiness", "stay_above", "Priya Natarajan", "Core UX"),
    ("OBJ-4", "Grow recurring revenue", "revenue", "increase", "Tom Fischer", "Platform"),
)


def _daily_measures(sim: _Simulation) -> dict[str, np.ndarray]:
    """Per-day DAU, MAU, shares and revenue of the simulated events, to set baselines that
    match the data whatever its size."""
    day = sim.time // DAY
    # Distinct (user, day) pairs, sorted by user then day: a flag array beats np.unique here.
    seen = np.zeros(int(sim.user.max()) * DAYS + DAYS, dtype=bool)
    seen[sim.user.astype(np.int64) * DAYS + day] = True
    user_day = np.flatnonzero(seen)
    user, active = user_day // DAYS, user_day % DAYS
    dau = np.bincount(active, minlength=DAYS)
    # MAU as in DESIGN.md: each active day opens [day, min(next active day, day + 30)).
    same_user_next = np.r_[user[1:] == user[:-1], False]
    close = np.minimum(np.where(same_user_next, np.r_[active[1:], 0], active + 30), active + 30)
    mau = np.cumsum(np.bincount(active, minlength=DAYS + 31) - np.bincount(close, minlength=DAYS + 31))[:DAYS]
    billed = (sim.code == UPGRADE) | (sim.code == RENEWAL)
    return {
        "dau": dau,
        "mau": mau,
        "reports_shared": np.bincount(day[sim.code == SHARE], minlength=DAYS),
        "revenue": np.bincount(day[billed], weights=sim.price[sim.user[billed]], minlength=DAYS),
    }


def _write_objectives(sim: _Simulation, inbox: Path, start: date, end: date) -> Path:
    """Baselines are what the data showed in the four weeks before the objectives were set;
    targets are chosen so the demo has objectives on track (OBJ-1, OBJ-2) and behind (OBJ-4)."""
    measures = _daily_measures(sim)
    before = slice(OBJECTIVE_START_DAY - 28, OBJECTIVE_START_DAY)
    last = slice(DAYS - 28, DAYS)
    stickiness = measures["dau"] / np.maximum(measures["mau"], 1)
    shares, revenue = measures["reports_shared"], measures["revenue"]
    values = {
        "OBJ-1": (ACTIVATION_BEFORE, 0.45),
        "OBJ-2": (_round_sig(shares[before].mean()), _round_sig(1.1 * shares[last].mean())),
        "OBJ-3": (round(float(stickiness[before].mean()), 3), round(float(0.85 * stickiness[before].mean()), 2)),
        "OBJ-4": (_round_sig(revenue[before].mean()), _round_sig(1.4 * revenue[last].mean())),
    }
    rows = [
        {
            "objective_id": objective_id,
            "title": title,
            "metric": metric,
            "baseline": values[objective_id][0],
            "target": values[objective_id][1],
            "start_date": start + dt.timedelta(days=OBJECTIVE_START_DAY),
            "target_date": end + dt.timedelta(days=OBJECTIVE_TARGET_DAYS_AFTER_END),
            "direction": direction,
            "owner": owner,
        }
        for objective_id, title, metric, direction, owner, _team in OBJECTIVES
    ]
    path = inbox / "objectives.csv"
    pl.DataFrame(rows).select(OBJECTIVES_HEADER).write_csv(path)
    return path


def _round_sig(value: float, digits: int = 2) -> float:
    """Round to significant digits, as a person writes a target: 1234.5 -> 1200.0."""
    if value <= 0:
        return 0.0
    return round(float(value), digits - 1 - int(np.floor(np.log10(value))))


# --- feedback -----------------------------------------------------------------------------------

PROMOTER_COMMENTS = (
    "Reportly saves me hours every Monday.",
    "Love how quickly I can build a client report.",
    'Great tool, it "just works".',
    "Our leadership team finally reads the numbers.",
    "Support answered within minutes, impressive.",
    "Easiest reporting tool we have tried.",
)
PROMOTER_SHARING_COMMENTS = (
    "Sharing a live link with clients is finally painless.",
    "The new share permissions are exactly what we needed.",
    "Sending a report to my boss is one click now.",
)
PASSIVE_COMMENTS = (
    "Good tool, but PDF exports could look nicer.",
    "Does the job. Would like more chart types.",
    "Solid, a bit pricey for a small team.",
    "The mobile app is fine, the web app is better.",
    "Scheduling reports only on paid plans is a pity.",
)
DETRACTOR_COMMENTS = (
    "Dashboards take forever to load with big data sources.",
    "Pricing jumped when we added seats.",
    "Setup was confusing; I gave up on the first day.",
    "Charts break when a column is renamed upstream.",
)
DETRACTOR_SHARING_COMMENTS = (
    "Sharing a report means exporting a PDF every single time.",
    "We cannot control who can edit a shared report.",
    "Colleagues keep asking me for access to my reports.",
)
CSAT_COMMENTS = (
    "Quick answer from support, thanks!",
    "Solved my data source problem.",
    "Took two days to get a reply.",
    "The agent did not understand my question.",
    "Clear explanation of the billing change.",
)
# Share of NPS answers that are (promoter, passive, detractor), before and after Sharing v2.
NPS_MIX_BEFORE = np.array([0.34, 0.36, 0.30])
NPS_MIX_AFTER = np.array([0.47, 0.33, 0.20])


def _write_feedback(sim: _Simulation, rng: np.random.Generator, inbox: Path, start: date, end: date) -> Path:
    """A few hundred survey answers from users active at the time: NPS in the app or by email,
    CSAT after support chats. NPS improves after Sharing v2, and the comments say why."""
    count = max(50, round(300 * (sim.time.size / 100_000) ** 0.25))
    in_app = np.flatnonzero(sim.code != RENEWAL)
    picked = np.sort(rng.choice(in_app, count))
    user = sim.user[picked]
    time = np.minimum(sim.time[picked] + rng.integers(30, 900, count), DAYS * DAY - 1)
    after = time >= (ship_dates(end)[NPS_SHIP] - start).days * DAY
    is_nps = rng.random(count) < 0.85
    band = np.where(after, _draw(rng, NPS_MIX_AFTER, count), _draw(rng, NPS_MIX_BEFORE, count))
    nps_score = np.choose(
        band,
        [
            rng.integers(9, 11, count),
            rng.integers(7, 9, count),
            _draw(rng, np.array([1, 1, 1, 2, 3, 5, 7]) / 20, count),
        ],
    )
    csat_score = 1 + _draw(rng, np.array([0.05, 0.07, 0.15, 0.38, 0.35]), count)
    comments = []
    comment_draw = rng.random((count, 3))
    for i in range(count):  # a few hundred rows: a readable loop beats clever indexing here
        if comment_draw[i, 0] < 0.35:
            comments.append(None)
            continue
        if not is_nps[i]:
            pool = CSAT_COMMENTS
        elif band[i] == 0:
            pool = PROMOTER_SHARING_COMMENTS if after[i] and comment_draw[i, 1] < 0.5 else PROMOTER_COMMENTS
        elif band[i] == 1:
            pool = PASSIVE_COMMENTS
        else:
            pool = DETRACTOR_SHARING_COMMENTS if not after[i] and comment_draw[i, 1] < 0.5 else DETRACTOR_COMMENTS
        comments.append(pool[int(comment_draw[i, 2] * len(pool))])
    epoch = (start - date(1970, 1, 1)).days * DAY
    plan = np.where(time >= sim.upgrade_time[user], sim.paid_plan[user], 0)
    anonymous = rng.random(count) < 0.08  # email survey answers without a known user
    frame = pl.DataFrame(
        {
            "submitted_at": pl.Series((time + epoch) * 1_000_000, dtype=pl.Int64).cast(pl.Datetime("us")),
            "user_id": _ids("u", user, 6).scatter(np.flatnonzero(anonymous), None),
            "score": np.where(is_nps, nps_score, csat_score),
            "scale": np.where(is_nps, "nps", "csat"),
            "comment": pl.Series(comments, dtype=pl.String),
            "source": np.where(is_nps, np.where(rng.random(count) < 0.75, "in_app", "email"), "support_chat"),
            "plan": pl.Series(PLANS).gather(plan),
            "country": pl.Series(COUNTRIES).gather(sim.country[user]),
        }
    ).select(FEEDBACK_HEADER)
    path = inbox / "feedback.csv"
    frame.write_csv(path, datetime_format=TIME_FORMAT)
    return path


def _draw(rng: np.random.Generator, shares: np.ndarray, count: int) -> np.ndarray:
    return rng.choice(shares.size, count, p=shares / shares.sum())


# --- roadmap ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    """One roadmap item's true history, in day numbers from the start of the range; a snapshot
    shows what was known on its day. ``due`` and ``declared`` are (from_day, value) changes."""

    item_id: str
    title: str
    item_type: str
    parent_id: str | None
    objective_id: str
    owner: str
    team: str
    created: int
    start: int | None = None
    due: tuple[tuple[int, int], ...] = ()
    baseline: int | None = None  # stated baseline due day; None: the first snapshot's due date
    completed: int | None = None
    cancelled: int | None = None
    estimate: int | None = None
    metric: str | None = None
    declared: tuple[tuple[int, str], ...] = ()
    blocked_by: str | None = None


# What each planted roadmap case is, for tests and for the README of the demo.
ROADMAP_CASES = {
    "slip": "EP-2",  # Report template gallery: due date moves later twice as scope grows
    "late": "EP-4",  # Scheduled email digests: past due, not done at `end`
    "declared_disagrees": "EP-4",  # ... while its owner still declares it on_track
    "at_risk": "EP-6",  # Faster dashboard loads: little progress, due days after `end`
    "cancelled": "ISS-22",  # Video walkthroughs per template: cancelled
    "blocked": "EP-8",  # Usage-based billing: started before its blocker EP-7 shipped
}


def _roadmap_items(start: date, end: date) -> list[_Item]:
    """Reportly's roadmap: objectives -> initiatives -> epics -> issues (points)."""
    ships = {k: (v - start).days for k, v in ship_dates(end).items()}
    dark, onboarding, sharing, ai = ships["EP-5"], ships["EP-1"], ships["EP-3"], ships["EP-7"]
    last = DAYS - 1
    target = last + OBJECTIVE_TARGET_DAYS_AFTER_END
    items = [
        _Item(oid, title, "objective", None, oid, owner, team, 0, OBJECTIVE_START_DAY, ((0, target),), metric=metric)
        for oid, title, metric, _direction, owner, team in OBJECTIVES
    ]
    initiatives = {  # id: (title, objective, team, owner)
        "INI-1": ("Guided onboarding", "OBJ-1", "Growth", "Maya Chen"),
        "INI-2": ("Sharing and distribution", "OBJ-2", "Collaboration", "Lucas Moreau"),
        "INI-3": ("Polish and performance", "OBJ-3", "Core UX", "Priya Natarajan"),
        "INI-4": ("Monetise AI summaries", "OBJ-4", "AI", "Sofia Rossi"),
    }
    for iid, (title, oid, team, owner) in initiatives.items():
        items.append(_Item(iid, title, "initiative", oid, oid, owner, team, 0, 10, ((0, target),)))
    engineers = {
        "Growth": ("Ana Souza", "Ben Carter"),
        "Collaboration": ("Chloé Martin", "Dev Patel"),
        "Core UX": ("Emma Larsen", "Felix Wagner"),
        "AI": ("Grace Kim", "Hiro Tanaka"),
        "Platform": ("Ivan Petrov", "Julia Costa"),
    }

    def epic(
        item_id: str, title: str, parent: str, owner: str, *, team: str | None = None, issues: tuple, **facts: object
    ) -> None:
        """An epic and its issues; ``issues`` rows are (title, points, created, start, done, cancelled)."""
        _title, oid, parent_team, _owner = initiatives[parent]
        team = team or parent_team
        items.append(_Item(item_id, title, "epic", parent, oid, owner, team, **facts))  # type: ignore[arg-type]
        for issue_title, points, created, begin, done, cancelled in issues:
            number = sum(item.item_type == "issue" for item in items) + 1
            assignee = engineers[team][number % 2]
            issue = _Item(f"ISS-{number}", issue_title, "issue", item_id, oid, assignee, team, created, begin)
            items.append(replace(issue, completed=done, cancelled=cancelled, estimate=points))

    epic("EP-5", "Dark mode", "INI-3", "Jonas Weber", created=8, start=14, due=((8, dark),), baseline=dark, completed=dark, metric="stickiness", issues=(
        ("Design tokens for the dark theme", 3, 8, 14, 24, None),
        ("Dark chart palette", 5, 8, 20, dark - 14, None),
        ("Theme toggle in settings", 2, 8, 30, dark - 8, None),
        ("Dark mode QA pass", 3, 20, dark - 10, dark, None),
    ))  # fmt: skip
    epic("EP-1", "Onboarding checklist", "INI-1", "Maya Chen", created=20, start=28, due=((20, onboarding + 3),), baseline=onboarding + 3, completed=onboarding, metric="activation", declared=((20, "on_track"),), issues=(
        ("Checklist UI component", 5, 20, 28, 45, None),
        ("Sample data source for new workspaces", 8, 20, 35, onboarding - 14, None),
        ("Checklist progress events", 3, 20, 50, onboarding - 10, None),
        ("First-report nudge email", 2, 40, onboarding - 20, onboarding - 4, None),
        ("Checklist copy and illustrations", 2, 40, onboarding - 15, onboarding, None),
    ))  # fmt: skip
    epic("EP-3", "Sharing v2: links and permissions", "INI-2", "Lucas Moreau", created=55, start=60, due=((55, sharing),), baseline=sharing, completed=sharing, metric="reports_shared", declared=((55, "on_track"),), issues=(
        ("Public links with expiry", 5, 55, 60, 80, None),
        ("Viewer and editor permissions", 8, 55, 70, sharing - 12, None),
        ("Share dialog redesign", 3, 55, 85, sharing - 6, None),
        ("Share to Slack", 3, 70, sharing - 14, sharing - 1, None),
        ("Sharing audit log", 2, 70, sharing - 8, sharing, None),
    ))  # fmt: skip
    epic("EP-7", "AI report summaries (beta)", "INI-4", "Sofia Rossi", created=80, start=90, due=((80, ai),), completed=ai, metric="ai_summary_users", declared=((80, "on_track"),), issues=(
        ("Summary prompt and evaluation set", 8, 80, 90, 115, None),
        ("Summary panel in the report view", 5, 80, 105, ai - 10, None),
        ("Usage limits per plan", 3, 90, 118, ai - 3, None),
        ("Beta flag rollout", 1, 90, ai - 4, ai, None),
    ))  # fmt: skip
    # Slips twice as scope is added; no stated baseline, so the first snapshot's due date is it.
    epic("EP-2", "Report template gallery", "INI-1", "Maya Chen", created=95, start=100, due=((95, 150), (135, 164), (160, 192)), metric="activation", declared=((95, "on_track"), (135, "at_risk")), issues=(
        ("Template data model", 5, 95, 100, 118, None),
        ("Gallery browse page", 8, 95, 110, 142, None),
        ("Template preview rendering", 5, 95, 125, 165, None),
        ("Video walkthroughs per template", 3, 95, None, None, 140),
        ("Ten starter templates", 3, 95, 150, None, None),
        ("Template search", 5, 133, None, None, None),
        ("Custom templates for teams", 8, 158, None, None, None),
    ))  # fmt: skip
    # Late, while its owner keeps declaring it on track.
    epic("EP-4", "Scheduled email digests", "INI-2", "Lucas Moreau", created=110, start=118, due=((110, 170),), baseline=170, metric="reports_shared", declared=((110, "on_track"),), issues=(
        ("Digest scheduler service", 8, 110, 118, 150, None),
        ("Digest email template", 5, 110, 130, 172, None),
        ("Per-user digest settings", 3, 110, 160, None, None),
        ("Unsubscribe and bounce handling", 5, 110, None, None, None),
        ("Digest delivery metrics", 2, 110, None, None, None),
    ))  # fmt: skip
    # Started two weeks before the item it is blocked by shipped.
    epic("EP-8", "Usage-based billing for AI", "INI-4", "Tom Fischer", team="Platform", created=115, start=125, due=((115, last + 30),), metric="revenue", blocked_by="EP-7", issues=(
        ("Metering pipeline for AI calls", 8, 115, 125, 160, None),
        ("Usage page in billing settings", 5, 115, 150, None, None),
        ("Stripe metered prices", 5, 115, None, None, None),
    ))  # fmt: skip
    # At risk: due days after `end` with under a tenth of its points done.
    epic("EP-6", "Faster dashboard loads", "INI-3", "Jonas Weber", created=140, start=150, due=((140, last + 9),), metric="stickiness", declared=((140, "on_track"), (165, "at_risk")), issues=(
        ("Profile the slowest dashboards", 2, 140, 150, 158, None),
        ("Query result cache", 8, 140, 152, None, None),
        ("Lazy-load widgets", 5, 140, 160, None, None),
        ("Pre-aggregate large data sources", 8, 140, None, None, None),
        ("Load-time monitoring", 3, 150, None, None, None),
    ))  # fmt: skip
    return items


def _write_roadmap(inbox: Path, start: date, end: date) -> list[Path]:
    """One dated snapshot per file, as a team exporting its board every few weeks would have."""
    items = _roadmap_items(start, end)
    written = []
    for weeks in ROADMAP_SNAPSHOT_WEEKS_BEFORE_END:
        snapshot = DAYS - 1 - 7 * weeks
        rows = [_snapshot_row(item, snapshot, start) for item in items if item.created <= snapshot]
        path = inbox / f"roadmap_{start + dt.timedelta(days=snapshot):%Y-%m-%d}.csv"
        pl.DataFrame(rows, schema=dict.fromkeys(ROADMAP_HEADER, pl.String), orient="row").write_csv(path)
        written.append(path)
    return written


def _snapshot_row(item: _Item, snapshot: int, start: date) -> tuple[str | None, ...]:
    """The item as exported on ``snapshot``: status from its history, dates as ISO text, and
    any date falling on a weekend moved back to the Friday (teams do not ship on Sundays)."""

    def iso(day: int | None) -> str | None:
        if day is None:
            return None
        when = start + dt.timedelta(days=day)
        return (when - dt.timedelta(days=max(0, when.weekday() - 4))).isoformat()

    def latest(changes: tuple[tuple[int, object], ...]) -> object:
        known = [value for since, value in changes if since <= snapshot]
        return known[-1] if known else None

    started = item.start is not None and item.start <= snapshot
    progress = None
    if item.cancelled is not None and item.cancelled <= snapshot:
        category, status = "cancelled", "Cancelled"
    elif item.completed is not None and item.completed <= snapshot:
        category, status = "done", "Done"
    elif started:
        category, status = "in_progress", "In Progress"
        if item.item_type == "issue":
            # Assignees state progress on open issues; the estimate-weighted roll-up ignores it.
            planned = (item.completed or snapshot + 10) - item.start
            progress = f"{min(0.9, (snapshot - item.start) / max(planned, 1)):.2f}"
            if item.completed is not None and item.completed - snapshot <= 4:
                status = "In Review"
    else:
        category, status = "todo", "To Do"
    return (
        item.item_id,
        item.title,
        item.item_type,
        item.parent_id,
        item.objective_id,
        item.metric,
        item.owner,
        item.team,
        status,
        category,
        iso(item.start) if started or item.item_type != "issue" else None,
        iso(latest(item.due)),  # type: ignore[arg-type]
        iso(item.baseline),
        iso(item.completed) if category == "done" else None,
        None if item.estimate is None else str(item.estimate),
        progress,
        latest(item.declared),  # type: ignore[return-value]
        item.blocked_by,
    )


# --- settings -----------------------------------------------------------------------------------

# The demo's own metrics (the benchmarks load their files into a workspace with these too).
DEMO_METRICS_TOML = """\
[metrics.activation]
name = "Activation rate"
description = "Share of new sign-ups who create a report within 7 days"
type = "funnel"
steps = ["signup", "create_report"]
window_days = 7
format = "percent"

[metrics.reports_shared]
name = "Reports shared"
description = "Reports shared per day"
type = "count"
event = "share_report"
format = "number"

[metrics.ai_summary_users]
name = "AI summary users"
description = "Users who asked for an AI summary of a report"
type = "unique_users"
event = "use_ai_summary"
format = "number"

[metrics.week1_retention]
name = "Week-1 retention"
description = "Share of each weekly sign-up cohort active again in the following week"
type = "retention"
week = 1
format = "percent"
"""
PMKIT_TOML = '[workspace]\ntimezone = "UTC"\ndemo = true\n\n' + DEMO_METRICS_TOML
