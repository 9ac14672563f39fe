"""Building per-user access from settings: only a provisioned Redshift cluster has users
IAM gives credentials for; each identity logs in as its own user with the kept options."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.config import ConfigError
from executor.access import SharedAccess
from executor.config import EngineConfig, IdentityConfig, WarehouseConfig
from executor.governance.audited import AuditedAccess
from executor.governance.credentials import StaticLogins
from executor.governance.identity import IdentityMap
from executor.governance.identity_warehouse import open_per_user_access
from executor.governance.per_user import PerUserAccess
from executor.router import build_engine
from executor.warehouse.cost import CostLimits
from executor.warehouse.duckdb import DuckDBWarehouse
from tests.support.redshift_driver import FakeConnection

IDENTITY = IdentityConfig(mode="per_user", identities=IdentityMap.parse("U0001=db_ana"))


def _config(url: str) -> EngineConfig:
    return EngineConfig(warehouse=WarehouseConfig(url=url, redshift_password="pw"),
                        identity=IDENTITY)


@pytest.mark.parametrize(("url", "message"), [
    ("duckdb://", "needs a Redshift WAREHOUSE_URL"),
    ("redshift://svc@h:5439/dev?iam=true&serverless_work_group=wg", "provisioned"),
    ("redshift://svc@h:5439/dev", "cluster_identifier"),
])  # fmt: skip
def test_per_user_needs_a_provisioned_redshift_cluster(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        open_per_user_access(_config(url), redshift_client=object())


def test_each_identity_connects_as_its_own_user_over_the_same_target() -> None:
    calls: list[dict[str, Any]] = []

    def connect(**kwargs: Any) -> FakeConnection:
        calls.append(kwargs)
        return FakeConnection([])

    config = _config("redshift://svc@db.example.com:5439/dev?iam=true&cluster_identifier=c1"
                     "&region=eu-west-1&sslmode=verify-ca")
    access = open_per_user_access(config, logins=StaticLogins({"db_ana": "ana-pw"}),
                                  connect=connect)
    with access.pool.lease("db_ana") as warehouse:
        warehouse.result_columns("SELECT 1")
    [args] = calls
    assert (args["user"], args["password"], args["host"], args["database"]) == (
        "db_ana", "ana-pw", "db.example.com", "dev")
    assert args["sslmode"] == "verify-ca" and "iam" not in args and "db_user" not in args


def test_each_identity_is_held_to_the_cost_limits() -> None:
    limits = CostLimits(max_cost=1e6, max_scan_rows=1_000)
    config = _config("redshift://svc@h:5439/dev?iam=true&cluster_identifier=c1")
    config = replace(config, warehouse=replace(config.warehouse, cost_limits=limits))
    access = open_per_user_access(config, logins=StaticLogins({"db_ana": "ana-pw"}),
                                  connect=lambda **_: FakeConnection([]))
    with access.pool.lease("db_ana") as warehouse:
        assert warehouse.cost_limits == limits  # type: ignore[attr-defined]


def test_the_engine_takes_its_access_from_the_identity_mode(
    offline_config: EngineConfig, duckdb_sample: DuckDBWarehouse,
) -> None:
    url = "redshift://svc@db.example.com:5439/dev?cluster_identifier=c1&region=eu-west-1"
    per_user = replace(offline_config, identity=IDENTITY,
                       warehouse=WarehouseConfig(url=url, redshift_password="pw"))
    # (each audited: executor/governance/audited.py)
    engine = build_engine(per_user, warehouse=duckdb_sample)
    assert isinstance(engine.access, AuditedAccess)
    assert isinstance(engine.access.wrapped, PerUserAccess)
    shared = build_engine(offline_config, warehouse=duckdb_sample).access
    assert isinstance(shared, AuditedAccess) and isinstance(shared.wrapped, SharedAccess)
    with pytest.raises(ConfigError, match="Redshift WAREHOUSE_URL"):
        build_engine(replace(offline_config, identity=IDENTITY), warehouse=duckdb_sample)
