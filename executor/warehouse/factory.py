"""Open the warehouse WAREHOUSE_URL names: `duckdb:///folder` or `redshift://user@host/db`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.observability import service_logger
from executor.config import DEFAULT_INPUT, DUCKDB_PREFIX, REDSHIFT_PREFIX, WarehouseConfig
from executor.warehouse.base import Warehouse
from executor.warehouse.schema_doc import resolve_schema_doc

logger = service_logger()



def open_warehouse(
    config: WarehouseConfig, *, secrets_client: Any = None, warm: bool = True
) -> Warehouse:
    """The configured warehouse; `secrets_client` fetches a Redshift password secret.

    `warm` (a long-running worker): a DuckDB folder's CSVs are loaded, or Redshift's two
    sessions opened, and the catalog read before this returns, so a broken warehouse
    fails here (WarehouseError) and the first job is as fast as the next. Not `warm` (a
    one-shot command): each CSV is read by the statements that need it, and the warehouse
    starts while the caller goes on (its first call waits for it); Redshift connects on
    first use."""
    url = config.url
    if config.is_duckdb:
        from executor.warehouse.isolated import IsolatedDuckDBWarehouse

        # duckdb:///abs/folder, duckdb://relative/folder, or duckdb:// for input/.
        path = Path(url.removeprefix(DUCKDB_PREFIX) or DEFAULT_INPUT)
        if config.cost_limits.max_cost is not None:
            logger.info(
                "MAX_QUERY_COST is not applied on DuckDB: its planner estimates rows, not"
                " cost; MAX_SCAN_ROWS is"
            )
        # In a memory-capped child process: no statement can exhaust the worker.
        warehouse = IsolatedDuckDBWarehouse(
            path,
            schema_doc=resolve_schema_doc(config.schema_doc_path, path),
            statement_timeout_s=config.statement_timeout_s,
            memory_limit=config.duckdb_memory_limit,
            preload=warm,
            cost_limits=config.cost_limits,
        )
        if warm:
            warehouse.tables()
        return warehouse
    if url.startswith(REDSHIFT_PREFIX):
        from executor.warehouse.redshift.adapter import RedshiftWarehouse

        redshift = RedshiftWarehouse.from_config(config, secrets_client=secrets_client)
        if warm:
            redshift.connect()
        return redshift
    scheme = url.split("://", 1)[0] if "://" in url else "no scheme"  # never echo credentials
    raise ValueError(
        f"WAREHOUSE_URL must start with {DUCKDB_PREFIX} or {REDSHIFT_PREFIX}, got {scheme!r}"
    )
