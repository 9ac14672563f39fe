"""input/generate.py: deterministic output, the shared data model, and the patterns built in."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from executor.config import DEFAULT_INPUT

USERS_COLUMNS = [
    "user_id", "signup_date", "country", "city", "age", "gender", "plan",
    "acquisition_channel", "device", "is_active", "churned_at",
]  # fmt: skip
INTERACTIONS_COLUMNS = [
    "interaction_id", "user_id", "occurred_at", "event_type", "item_id", "category",
    "session_id", "device", "duration_seconds", "revenue",
]  # fmt: skip
COUNTRIES = {
    "United States", "United Kingdom", "Germany", "France", "India", "Brazil", "Canada",
    "Australia", "Japan", "Spain",
}  # fmt: skip


@pytest.fixture(scope="module")
def generate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sample_generate", DEFAULT_INPUT / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def users() -> pd.DataFrame:
    return pd.read_csv(DEFAULT_INPUT / "users.csv", keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def interactions() -> pd.DataFrame:
    return pd.read_csv(DEFAULT_INPUT / "interactions.csv", keep_default_na=False, na_values=[""])


def test_default_run_reproduces_the_committed_csvs_byte_for_byte(
    generate: ModuleType, tmp_path: Path
) -> None:
    # WHEN the generator runs with its defaults into an empty folder
    counts = generate.generate(tmp_path)

    # THEN both files equal the committed ones exactly
    for name in ("users.csv", "interactions.csv"):
        assert (tmp_path / name).read_bytes() == (DEFAULT_INPUT / name).read_bytes(), name
    assert counts["users"] == 5_000
    assert (
        counts["interactions"] == len((tmp_path / "interactions.csv").read_text().splitlines()) - 1
    )


def test_committed_csvs_are_small_enough_to_commit() -> None:
    total = sum((DEFAULT_INPUT / n).stat().st_size for n in ("users.csv", "interactions.csv"))
    assert total < 10 * 1024 * 1024


def test_columns_and_value_sets_match_the_shared_data_model(
    users: pd.DataFrame, interactions: pd.DataFrame
) -> None:
    assert list(users.columns) == USERS_COLUMNS
    assert list(interactions.columns) == INTERACTIONS_COLUMNS
    assert len(users) == 5_000
    assert 90_000 <= len(interactions) <= 120_000
    assert set(users["country"]) == COUNTRIES
    assert set(users["gender"]) == {"female", "male", "nonbinary", "undisclosed"}
    assert set(users["plan"]) == {"free", "pro", "enterprise"}
    assert set(users["acquisition_channel"]) == {
        "organic", "paid_search", "social", "referral", "email", "partner",
    }  # fmt: skip
    assert set(users["device"]) == set(interactions["device"]) == {"desktop", "mobile", "tablet"}
    assert set(users["is_active"]) == {True, False}
    assert set(interactions["event_type"]) == {
        "view", "click", "search", "add_to_cart", "purchase", "share",
    }  # fmt: skip
    assert set(interactions["category"]) == {
        "electronics", "books", "home", "fashion", "sports", "beauty", "toys", "grocery",
    }  # fmt: skip
    assert users["age"].between(18, 80).all()
    assert (interactions["duration_seconds"] >= 1).all()


def test_keys_dates_and_nulls_are_consistent(
    users: pd.DataFrame, interactions: pd.DataFrame
) -> None:
    assert users["user_id"].tolist() == list(range(1, len(users) + 1))
    assert interactions["interaction_id"].tolist() == list(range(1, len(interactions) + 1))
    assert interactions["user_id"].isin(users["user_id"]).all()

    signup = pd.to_datetime(users["signup_date"])
    assert signup.min() >= pd.Timestamp("2024-01-01")
    assert signup.max() <= pd.Timestamp("2026-11-20")
    # is_active is exactly "not churned"
    assert (users["is_active"] == users["churned_at"].isna()).all()

    # revenue only, and always, on purchases
    is_purchase = interactions["event_type"] == "purchase"
    assert interactions.loc[is_purchase, "revenue"].notna().all()
    assert interactions.loc[~is_purchase, "revenue"].isna().all()
    assert (interactions.loc[is_purchase, "revenue"] > 0).all()

    # no event before sign-up or after churn
    joined = interactions.merge(users, on="user_id", suffixes=("", "_user"))
    day = pd.to_datetime(joined["occurred_at"]).dt.normalize()
    assert (day >= pd.to_datetime(joined["signup_date"])).all()
    churned = joined["churned_at"].notna()
    assert (day[churned] <= pd.to_datetime(joined.loc[churned, "churned_at"])).all()
    # a session belongs to exactly one user
    assert (interactions.groupby("session_id")["user_id"].nunique() == 1).all()


def test_patterns_the_readme_promises(users: pd.DataFrame, interactions: pd.DataFrame) -> None:
    signup = pd.to_datetime(users["signup_date"])
    # growth: the last full year has far more sign-ups than the first
    assert (signup.dt.year == 2025).sum() > 1.8 * (signup.dt.year == 2024).sum()
    # weekly seasonality: weekends below weekdays
    weekend = signup.dt.day_of_week >= 5
    assert weekend.sum() / 2 < 0.85 * (~weekend).sum() / 5

    sessions = (
        interactions.assign(purchased=interactions["event_type"] == "purchase")
        .groupby("session_id")
        .agg(
            user_id=("user_id", "first"), device=("device", "first"), purchased=("purchased", "max")
        )
    )
    sessions = sessions.merge(users[["user_id", "plan", "acquisition_channel"]], on="user_id")
    by_plan = sessions.groupby("plan")["purchased"].mean()
    assert by_plan["free"] < by_plan["pro"] < by_plan["enterprise"]
    by_device = sessions.groupby("device")["purchased"].mean()
    assert by_device["mobile"] < by_device["desktop"]
    by_channel = sessions.groupby("acquisition_channel")["purchased"].mean()
    assert by_channel["social"] < by_channel["referral"]

    # churn follows engagement: churned users had fewer sessions per month alive
    alive_until = pd.to_datetime(users["churned_at"]).fillna(pd.Timestamp("2026-11-20"))
    days_alive = (alive_until - signup).dt.days + 1
    per_user = sessions.groupby("user_id").size().reindex(users["user_id"], fill_value=0)
    rate = per_user.to_numpy() / days_alive.to_numpy()
    churned = users["churned_at"].notna().to_numpy()
    assert rate[churned].mean() < 0.75 * rate[~churned].mean()

    # revenue is right-skewed
    revenue = interactions["revenue"].dropna()
    assert revenue.mean() > 1.4 * revenue.median()


def test_larger_runs_span_chunks_with_unique_ids(
    generate: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN small chunks, so that the users span three of them
    monkeypatch.setattr(generate, "USERS_PER_CHUNK", 400)
    counts = generate.generate(tmp_path, n_users=1_000, seed=7)

    events = pd.read_csv(
        tmp_path / "interactions.csv", usecols=["interaction_id", "user_id", "session_id"]
    )
    assert counts["interactions"] == len(events)
    assert events["interaction_id"].tolist() == list(range(1, len(events) + 1))
    assert events["user_id"].max() > 2 * 400
    # session numbers run on across chunks: 1..n with no gap or restart, one user each
    numbers = sorted({int(s[1:], 16) for s in events["session_id"]})
    assert numbers == list(range(1, len(numbers) + 1))
    assert (events.groupby("session_id")["user_id"].nunique() == 1).all()


def test_a_user_without_sessions_gives_an_empty_interactions_file(
    generate: ModuleType, tmp_path: Path
) -> None:
    # GIVEN a seed whose only user has no sessions
    counts = generate.generate(tmp_path, n_users=1, seed=6)

    assert counts == {"users": 1, "interactions": 0}
    assert (tmp_path / "interactions.csv").read_text().splitlines() == [
        ",".join(INTERACTIONS_COLUMNS)
    ]


def test_seed_changes_the_data(generate: ModuleType, tmp_path: Path) -> None:
    generate.generate(tmp_path / "a", n_users=300, seed=1)
    generate.generate(tmp_path / "b", n_users=300, seed=2)
    generate.generate(tmp_path / "c", n_users=300, seed=1)
    a, b, c = ((tmp_path / d / "users.csv").read_bytes() for d in "abc")
    assert a == c
    assert a != b


def test_bad_user_count_is_refused(
    generate: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert generate.main(["--users", "0", "--out", str(tmp_path)]) == 2
    assert "--users must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "users.csv").exists()
