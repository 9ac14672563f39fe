"""Fixtures for the verified-query tests: the library and its matcher, the sample data as
pandas frames, and the offline engine over DuckDB with "today" fixed the day after the
sample data ends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from executor.artifacts import LocalArtifactStore
from executor.settings import DEFAULT_INPUT, Settings
from executor.verified import Library, Matcher, load_library
from executor.verified.answerer import VerifiedEngine
from executor.warehouse.duckdb import DuckDBWarehouse

TODAY = date(2026, 11, 21)


@pytest.fixture(scope="session")
def verified_library() -> Library:
    return load_library()


@pytest.fixture(scope="session")
def verified_matcher(verified_library: Library) -> Matcher:
    return Matcher(verified_library)


@pytest.fixture(scope="session")
def sample_users() -> pd.DataFrame:
    return pd.read_csv(DEFAULT_INPUT / "users.csv", parse_dates=["signup_date", "churned_at"])


@pytest.fixture(scope="session")
def sample_interactions() -> pd.DataFrame:
    return pd.read_csv(DEFAULT_INPUT / "interactions.csv", parse_dates=["occurred_at"])


@pytest.fixture(scope="module")
def duckdb_sample() -> Iterator[DuckDBWarehouse]:
    warehouse = DuckDBWarehouse(DEFAULT_INPUT)
    yield warehouse
    warehouse.close()


@pytest.fixture
def offline_settings(tmp_path: Path) -> Settings:
    """The embedded defaults (DuckDB over input/, offline), results under tmp_path."""
    return Settings(model_provider="offline", results_dir=tmp_path / "results")


@pytest.fixture
def verified_engine(
    verified_library: Library, duckdb_sample: DuckDBWarehouse, offline_settings: Settings
) -> VerifiedEngine:
    return VerifiedEngine(
        verified_library,
        duckdb_sample,
        LocalArtifactStore(offline_settings.results_dir),
        settings=offline_settings,
        today=lambda: TODAY,
    )
