"""Generate the sample warehouse: input/users.csv and input/interactions.csv.

Deterministic: the same --seed and --users always give the same bytes, and the data
ends on a fixed date, so the output never depends on when it runs. The committed CSVs
are the default output (`python input/generate.py`).

Users are generated at once (a million users fit easily); interactions are generated
and appended per chunk of users, so `--users 1000000` (tens of millions of rows) runs
in bounded memory. The patterns built in are described in input/README.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

START_DATE = np.datetime64("2024-01-01")
END_DATE = np.datetime64("2026-11-20")  # last day with data, inclusive
DEFAULT_USERS = 5_000
DEFAULT_SEED = 20261120
# Fixed so that the output of a seed does not depend on memory or machine.
USERS_PER_CHUNK = 10_000
OUTPUT_DIR = Path(__file__).resolve().parent

COUNTRIES = {
    # country: (share of signups, cities)
    "United States": (0.30, ["New York", "San Francisco", "Chicago", "Austin", "Seattle"]),
    "United Kingdom": (0.11, ["London", "Manchester", "Edinburgh", "Bristol"]),
    "Germany": (0.10, ["Berlin", "Munich", "Hamburg", "Cologne"]),
    "France": (0.08, ["Paris", "Lyon", "Marseille", "Toulouse"]),
    "India": (0.12, ["Bengaluru", "Mumbai", "Delhi", "Hyderabad", "Pune"]),
    "Brazil": (0.07, ["São Paulo", "Rio de Janeiro", "Belo Horizonte"]),
    "Canada": (0.07, ["Toronto", "Vancouver", "Montreal"]),
    "Australia": (0.05, ["Sydney", "Melbourne", "Brisbane"]),
    "Japan": (0.05, ["Tokyo", "Osaka", "Yokohama"]),
    "Spain": (0.05, ["Madrid", "Barcelona", "Valencia", "Seville"]),
}
GENDERS = {"female": 0.46, "male": 0.45, "nonbinary": 0.03, "undisclosed": 0.06}
PLANS = ("free", "pro", "enterprise")
DEVICES = ("desktop", "mobile", "tablet")
DEVICE_SHARES = (0.38, 0.52, 0.10)
CHANNELS = ("organic", "paid_search", "social", "referral", "email", "partner")
CHANNEL_SHARES = (0.32, 0.22, 0.18, 0.12, 0.09, 0.07)
# Plan mix by acquisition channel (free, pro, enterprise): partners and referrals bring
# paying customers, social brings mostly free sign-ups.
PLAN_MIX_BY_CHANNEL = (
    (0.72, 0.22, 0.06),
    (0.70, 0.24, 0.06),
    (0.84, 0.14, 0.02),
    (0.58, 0.30, 0.12),
    (0.66, 0.27, 0.07),
    (0.40, 0.32, 0.28),
)
EVENT_TYPES = ("view", "click", "search", "add_to_cart", "purchase", "share")
# Order of events within a session: search first, then browsing, then the funnel.
SESSION_ORDER = ("search", "view", "click", "add_to_cart", "purchase", "share")
CATEGORIES = ("electronics", "books", "home", "fashion", "sports", "beauty", "toys", "grocery")
CATEGORY_SHARES = (0.17, 0.13, 0.14, 0.17, 0.10, 0.10, 0.07, 0.12)
# Median order value in USD per category; revenue is log-normal around it.
CATEGORY_ORDER_VALUE = (180.0, 18.0, 55.0, 45.0, 60.0, 28.0, 32.0, 24.0)
ITEMS_PER_CATEGORY = 500
# Median seconds spent on each event type, in EVENT_TYPES order.
EVENT_SECONDS = (25.0, 8.0, 12.0, 15.0, 30.0, 6.0)

# Relative effects on conversion (a session's chance to end in a purchase).
PLAN_CONVERSION = (0.75, 1.25, 1.6)
DEVICE_CONVERSION = (1.25, 0.8, 1.0)
CHANNEL_CONVERSION = (1.0, 0.95, 0.7, 1.3, 1.2, 1.1)
# Relative effects on engagement (sessions per day) and on churn hazard.
PLAN_ENGAGEMENT = (0.8, 1.3, 1.7)
PLAN_CHURN = (1.4, 0.8, 0.45)
SESSIONS_PER_DAY = 0.013  # median user
CHURN_PER_DAY = 1 / 900  # median user on a neutral plan
# Signups: ~2.3x growth per year, fewer on weekends (Monday first).
SIGNUP_GROWTH_PER_YEAR = 2.3
SIGNUP_WEEKDAY = (1.12, 1.15, 1.1, 1.05, 0.97, 0.78, 0.83)
# Sessions by hour of day (UTC-ish local time), evening peak.
HOUR_WEIGHTS = (
    0.8, 0.5, 0.3, 0.2, 0.2, 0.3, 0.6, 1.0, 1.4, 1.6, 1.7, 1.8,
    2.0, 2.0, 1.8, 1.7, 1.8, 2.0, 2.4, 2.8, 3.0, 2.7, 2.0, 1.3,
)  # fmt: skip


@dataclass(frozen=True)
class Users:
    """The users table as column arrays, plus the hidden traits that drive interactions."""

    frame: pd.DataFrame
    signup: np.ndarray  # datetime64[D]
    engagement: np.ndarray  # sessions per day while the account is alive
    conversion: np.ndarray  # relative purchase propensity
    favourite_category: np.ndarray
    active_until: np.ndarray  # datetime64[D]: churn date, or END_DATE


def _days(start: np.datetime64, end: np.datetime64) -> np.ndarray:
    return np.arange(start, end + np.timedelta64(1, "D"), dtype="datetime64[D]")


def _weekday(days: np.ndarray) -> np.ndarray:
    # 1970-01-01 was a Thursday; shift so Monday is 0.
    return (days.astype("int64") + 3) % 7


def _signup_dates(rng: np.random.Generator, n: int) -> np.ndarray:
    days = _days(START_DATE, END_DATE)
    years = (days - START_DATE).astype("int64") / 365.25
    weights = SIGNUP_GROWTH_PER_YEAR**years * np.take(SIGNUP_WEEKDAY, _weekday(days))
    return np.sort(rng.choice(days, size=n, p=weights / weights.sum()))


def make_users(n: int, seed: int) -> Users:
    rng = np.random.default_rng([seed, 0])
    signup = _signup_dates(rng, n)

    country_names = list(COUNTRIES)
    country_shares = np.array([share for share, _ in COUNTRIES.values()])
    country_idx = rng.choice(len(country_names), size=n, p=country_shares / country_shares.sum())
    city_pick = rng.random(n)
    cities = np.empty(n, dtype=object)
    for i, (_, city_names) in enumerate(COUNTRIES.values()):
        mask = country_idx == i
        # Earlier cities in each list are the bigger ones.
        weights = 1.0 / np.arange(1, len(city_names) + 1)
        edges = np.cumsum(weights / weights.sum())
        picks = np.minimum(np.searchsorted(edges, city_pick[mask]), len(city_names) - 1)
        cities[mask] = np.asarray(city_names, dtype=object)[picks]

    age = np.clip(np.round(rng.gamma(6.0, 5.8, size=n) + 14), 18, 80).astype("int64")
    gender = rng.choice(list(GENDERS), size=n, p=list(GENDERS.values()))
    channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_SHARES)
    mix = np.asarray(PLAN_MIX_BY_CHANNEL)[channel]
    plan = (rng.random(n)[:, None] > np.cumsum(mix, axis=1)).sum(axis=1)
    plan = np.minimum(plan, len(PLANS) - 1)
    # Older users lean desktop.
    desktop_boost = np.clip((age - 35) / 100, -0.1, 0.25)
    device_p = np.asarray(DEVICE_SHARES) + np.outer(desktop_boost, (1.0, -1.0, 0.0))
    device = (rng.random(n)[:, None] > np.cumsum(device_p, axis=1)).sum(axis=1)
    device = np.minimum(device, len(DEVICES) - 1)

    engagement = (
        SESSIONS_PER_DAY
        * rng.lognormal(0.0, 0.9, size=n)
        * np.take(PLAN_ENGAGEMENT, plan)
        * np.where(device == 0, 1.1, 1.0)
    )
    conversion = (
        np.take(PLAN_CONVERSION, plan)
        * np.take(DEVICE_CONVERSION, device)
        * np.take(CHANNEL_CONVERSION, channel)
    )
    # Churn hazard falls with engagement: engaged users stay.
    hazard = CHURN_PER_DAY * np.take(PLAN_CHURN, plan) * (engagement / SESSIONS_PER_DAY) ** -0.7
    lifetime = np.ceil(rng.exponential(1.0 / hazard)).astype("int64")
    churn_date = signup + lifetime.astype("timedelta64[D]")
    churned = churn_date <= END_DATE
    active_until = np.where(churned, churn_date, END_DATE)

    frame = pd.DataFrame(
        {
            "user_id": np.arange(1, n + 1),
            "signup_date": np.datetime_as_string(signup, unit="D"),
            "country": np.asarray(country_names, dtype=object)[country_idx],
            "city": cities,
            "age": age,
            "gender": gender,
            "plan": np.asarray(PLANS, dtype=object)[plan],
            "acquisition_channel": np.asarray(CHANNELS, dtype=object)[channel],
            "device": np.asarray(DEVICES, dtype=object)[device],
            "is_active": np.where(churned, "false", "true"),
            "churned_at": np.where(churned, np.datetime_as_string(churn_date, unit="D"), ""),
        }
    )
    favourite = rng.choice(len(CATEGORIES), size=n, p=CATEGORY_SHARES)
    return Users(frame, signup, engagement, conversion, favourite, active_until)


def make_interactions(
    users: Users, chunk: slice, seed: int, chunk_index: int, first_ids: tuple[int, int]
) -> tuple[pd.DataFrame, int]:
    """Events for the users in `chunk`, ordered by user then time, and the session count.

    `first_ids` are the first interaction and session numbers this chunk may use.
    """
    first_interaction_id, first_session = first_ids
    rng = np.random.default_rng([seed, 1, chunk_index])
    frame = users.frame.iloc[chunk]
    user_ids = frame["user_id"].to_numpy()
    signup = users.signup[chunk]
    alive_days = (users.active_until[chunk] - signup).astype("int64") + 1
    n_sessions = rng.poisson(users.engagement[chunk] * alive_days)

    # One row per session.
    s_user = np.repeat(np.arange(len(user_ids)), n_sessions)
    n = len(s_user)
    day = signup[s_user] + np.floor(rng.random(n) * alive_days[s_user]).astype("timedelta64[D]")
    hour_p = np.asarray(HOUR_WEIGHTS) / sum(HOUR_WEIGHTS)
    second_of_day = rng.choice(24, size=n, p=hour_p) * 3600 + rng.integers(0, 3600, size=n)
    start = day.astype("datetime64[s]") + second_of_day.astype("timedelta64[s]")
    # Sessions numbered in time order per user (s_user is already sorted).
    start = start[np.lexsort((start, s_user))]
    primary = frame["device"].map({d: i for i, d in enumerate(DEVICES)}).to_numpy()[s_user]
    device = np.where(rng.random(n) < 0.8, primary, rng.choice(len(DEVICES), size=n))
    category = np.where(
        rng.random(n) < 0.55,
        users.favourite_category[chunk][s_user],
        rng.choice(len(CATEGORIES), size=n, p=CATEGORY_SHARES),
    )
    # The funnel: views, some clicks, sometimes a cart, and a purchase that depends on
    # plan, channel and the device of this session.
    conversion = users.conversion[chunk][s_user] * np.take(DEVICE_CONVERSION, device)
    conversion /= np.take(DEVICE_CONVERSION, primary)
    views = rng.geometric(0.45, size=n)
    clicks = rng.binomial(views, 0.35)
    searches = rng.poisson(0.45, size=n)
    cart = rng.random(n) < np.clip(0.16 * conversion, 0, 0.9)
    purchase = cart & (rng.random(n) < np.clip(0.42 * conversion, 0, 0.95))
    share = rng.random(n) < 0.04
    counts = np.column_stack([searches, views, clicks, cart, purchase, share]).astype("int64")

    # One row per event, in SESSION_ORDER within each session.
    per_session = counts.sum(axis=1)
    e_session = np.repeat(np.arange(n), per_session)
    e_kind = np.repeat(np.tile(np.arange(len(SESSION_ORDER)), n), counts.ravel())
    m = len(e_session)
    type_code = np.asarray([EVENT_TYPES.index(k) for k in SESSION_ORDER])[e_kind]
    seconds = rng.lognormal(np.log(EVENT_SECONDS)[type_code], 0.7)
    duration = np.maximum(np.round(seconds), 1).astype("int64")
    # Each event starts when the previous one in its session ended.
    ended = np.cumsum(duration)
    # Each session's first event; empty, not [0], when the chunk has no sessions.
    session_first = np.cumsum(per_session) - per_session
    before = ended - duration - np.repeat((ended - duration)[session_first], per_session)
    occurred = start[e_session] + before.astype("timedelta64[s]")

    e_category = category[e_session]
    popularity = np.minimum(rng.zipf(1.6, size=m), ITEMS_PER_CATEGORY)
    item_id = (e_category + 1) * 1000 + popularity
    order_value = np.take(CATEGORY_ORDER_VALUE, e_category) * np.where(
        users.frame["plan"].to_numpy()[chunk][s_user][e_session] == "enterprise", 1.8, 1.0
    )
    revenue = np.round(order_value * rng.lognormal(0.0, 0.75, size=m), 2)
    is_purchase = type_code == EVENT_TYPES.index("purchase")

    session_number = np.arange(n, dtype="int64") + first_session
    order = np.lexsort((occurred, s_user[e_session]))
    events = pd.DataFrame(
        {
            "user_id": user_ids[s_user[e_session]],
            "occurred_at": pd.Series(occurred).dt.strftime("%Y-%m-%d %H:%M:%S"),
            "event_type": np.asarray(EVENT_TYPES, dtype=object)[type_code],
            "item_id": item_id,
            "category": np.asarray(CATEGORIES, dtype=object)[e_category],
            "session_id": pd.Series(session_number[e_session]).map("s{:x}".format),
            "device": np.asarray(DEVICES, dtype=object)[device[e_session]],
            "duration_seconds": duration,
            "revenue": np.where(is_purchase, np.char.mod("%.2f", revenue), ""),
        }
    ).iloc[order]
    events.insert(0, "interaction_id", np.arange(m, dtype="int64") + first_interaction_id)
    return events, n


def generate(
    out_dir: Path, n_users: int = DEFAULT_USERS, seed: int = DEFAULT_SEED
) -> dict[str, int]:
    """Write users.csv and interactions.csv into out_dir; return the row count of each."""
    if n_users < 1:
        raise ValueError(f"--users must be at least 1, got {n_users}")
    out_dir.mkdir(parents=True, exist_ok=True)
    users = make_users(n_users, seed)
    users.frame.to_csv(out_dir / "users.csv", index=False, lineterminator="\n")
    written = sessions = 0
    with open(out_dir / "interactions.csv", "w", encoding="utf-8", newline="") as out:
        for index, begin in enumerate(range(0, n_users, USERS_PER_CHUNK)):
            chunk = slice(begin, min(begin + USERS_PER_CHUNK, n_users))
            events, n_sessions = make_interactions(
                users, chunk, seed, index, (written + 1, sessions + 1)
            )
            events.to_csv(out, index=False, header=index == 0, lineterminator="\n")
            written += len(events)
            sessions += n_sessions
    return {"users": n_users, "interactions": written}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=DEFAULT_USERS, help="number of users")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("--out", type=Path, default=OUTPUT_DIR, help="output folder")
    args = parser.parse_args(argv)
    try:
        counts = generate(args.out, args.users, args.seed)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(
        f"wrote {counts['users']:,} users and {counts['interactions']:,} interactions to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
