"""The Redshift warehouse without a server: how it is built from the settings and how
often it reads its catalog."""

from __future__ import annotations

import pytest

from executor.config import WarehouseConfig
from executor.warehouse.redshift.adapter import RedshiftWarehouse
from executor.warehouse.redshift.target import parse_url
from tests.support.redshift_driver import FakeConnection


def test_from_config_needs_some_way_to_authenticate() -> None:
    with pytest.raises(ValueError, match="REDSHIFT_PASSWORD, REDSHIFT_SECRET_ARN or iam=true"):
        RedshiftWarehouse.from_config(WarehouseConfig(url="redshift://a@host/dev"))


def test_a_forced_catalog_read_waits_for_the_minimum_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a warehouse on a fake driver whose catalog is empty
    log: list[str] = []
    warehouse = RedshiftWarehouse(
        parse_url("redshift://analyst@host/dev"),
        password=lambda: "pw",
        connect=lambda **kwargs: FakeConnection(log),
    )

    def catalog_reads() -> int:
        return sum("information_schema.columns" in sql for sql in log)

    # WHEN a refresh is asked for right after the first read, the cache answers
    warehouse.tables()
    warehouse.tables(refresh=True)
    assert catalog_reads() == 1

    # WHEN the minimum interval has passed, only a refresh re-reads before the 10-minute TTL
    monkeypatch.setattr(warehouse._catalog, "min_refresh_s", 0.0)
    warehouse.tables()
    assert catalog_reads() == 1
    warehouse.tables(refresh=True)
    assert catalog_reads() == 2
