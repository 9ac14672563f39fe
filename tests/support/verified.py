"""Fixtures for the verified-query tests: the library and its matcher, the sample data as
pandas frames, the offline engine over DuckDB with "today" fixed the day after the
sample data ends, an environment with no AWS credentials for the commands, and
`sample_with_renamed_column`, which copies the sample data with one column renamed, as an
upstream schema change would."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from executor.artifacts import LocalArtifactStore
from executor.config import (
    DEFAULT_INPUT,
    ArtifactsConfig,
    EngineConfig,
    ModelConfig,
    VerifiedConfig,
)
from executor.verified import Library, Matcher, load_library
from executor.verified.answerer import VerifiedEngine
from executor.verified.live import LiveLibrary
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


AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "MODEL_PROVIDER", "WAREHOUSE_URL", "RESULTS_BUCKET",
)  # fmt: skip


@pytest.fixture
def embedded_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A machine with no AWS credentials: DuckDB over input/, results under tmp_path."""
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path / "results"


@pytest.fixture
def offline_config(tmp_path: Path) -> EngineConfig:
    """The embedded defaults (DuckDB over input/, offline), results, verified entries and
    the spend ledger under tmp_path."""
    return EngineConfig(
        model=ModelConfig(provider="offline"),
        artifacts=ArtifactsConfig(results_dir=tmp_path / "results"),
        verified=VerifiedConfig(path=tmp_path / "results" / "verified_entries.yaml"),
    )


@pytest.fixture
def verified_engine(
    verified_library: Library, duckdb_sample: DuckDBWarehouse, offline_config: EngineConfig
) -> VerifiedEngine:
    return VerifiedEngine(
        LiveLibrary(verified_library),
        duckdb_sample,
        LocalArtifactStore(offline_config.artifacts.results_dir),
        today=lambda: TODAY,
    )


def sample_with_renamed_column(folder: Path, table: str, old: str, new: str) -> Path:
    """The sample tables (and their schema.yaml, which types the columns) in `folder`, with
    `table`.`old` renamed to `new`."""
    for name in ("users.csv", "interactions.csv", "schema.yaml"):
        shutil.copy(DEFAULT_INPUT / name, folder / name)
    csv = folder / f"{table}.csv"
    header, rows = csv.read_text().split("\n", 1)
    csv.write_text(",".join(new if column == old else column
                            for column in header.split(",")) + "\n" + rows)
    schema = folder / "schema.yaml"
    schema.write_text(schema.read_text().replace(f"name: {old}\n", f"name: {new}\n"))
    return folder
