"""The Redshift warehouse: the catalog, queries, result columns and exports, each run on
the shared connection (executor.warehouse.redshift.connection) and rolled back.

Exports stream the whole result through a server-side cursor, a chunk at a time, into
the result writers shared with DuckDB.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import redshift_connector

from executor.config import WarehouseConfig
from executor.warehouse.base import ExportResult, FetchedRows, ResultColumn, TableInfo
from executor.warehouse.catalog import SampleCache, TableKey, TableStats, describe_tables
from executor.warehouse.catalog_cache import CatalogCache
from executor.warehouse.cost import NO_LIMITS, CostLimits, PlanEstimate
from executor.warehouse.guard import is_read_only
from executor.warehouse.params import check_params
from executor.warehouse.redshift.connection import RedshiftConnection
from executor.warehouse.redshift.plan import plan_estimate
from executor.warehouse.redshift.pool import ConnectionPool
from executor.warehouse.redshift.target import (
    Password,
    RedshiftTarget,
    no_password,
    parse_url,
    password_source,
)
from executor.warehouse.result_writers import (
    export_suffix,
    open_result_writer,
    statement_body,
)
from executor.warehouse.schema_doc import SchemaDoc, resolve_schema_doc

EXPORT_CHUNK_ROWS = 10_000
CATALOG_TTL_S = 600.0
# The shortest interval between catalog reads forced by tables(refresh=True).
CATALOG_REFRESH_S = 60.0


class RedshiftWarehouse:
    dialect = "redshift"

    def __init__(
        self,
        target: RedshiftTarget,
        *,
        password: Password = no_password,
        schemas: tuple[str, ...] = ("public",),
        statement_timeout_s: float = 60.0,
        schema_doc: SchemaDoc | None = None,
        cost_limits: CostLimits = NO_LIMITS,
        connect: Callable[..., Any] = redshift_connector.connect,
        connections: int = 1,
    ) -> None:
        self.target = target
        # Whom connect_args connects as: under IAM, the URL's `db_user` when it names one.
        iam_user = target.options.get("db_user") if target.iam else None
        self.database_user = iam_user or target.user or ""
        self.schemas = target.schemas or schemas
        self.statement_timeout_s = statement_timeout_s
        self.cost_limits = cost_limits
        self._doc = schema_doc if schema_doc is not None else resolve_schema_doc(None)

        def session() -> RedshiftConnection:
            return RedshiftConnection(target, password=password,
                                      statement_timeout_s=statement_timeout_s, connect=connect)

        # Queries run on one shared session, or on a pool of `connections` sessions (one
        # person's warehouse under IDENTITY_MODE=per_user) whose idle ones are closed.
        self._connection: RedshiftConnection | ConnectionPool = (
            session() if connections == 1 else ConnectionPool(session, size=connections)
        )
        # The catalog and sample values are read on a session of their own, so a refresh
        # never holds the one queries run on.
        self._catalog_connection = session()
        self._samples = SampleCache()
        self._catalog = CatalogCache(
            self._read_described, ttl_s=CATALOG_TTL_S, min_refresh_s=CATALOG_REFRESH_S,
            on_read=self._samples.clear,
        )

    @classmethod
    def from_config(
        cls, config: WarehouseConfig, *, secrets_client: Any = None
    ) -> RedshiftWarehouse:
        target = parse_url(config.url)
        return cls(
            target,
            password=password_source(
                target,
                password=config.redshift_password,
                secret_arn=config.redshift_secret_arn,
                region=config.region,
                secrets_client=secrets_client,
            ),
            schemas=config.schemas,
            statement_timeout_s=config.statement_timeout_s,
            schema_doc=resolve_schema_doc(config.schema_doc_path),
            cost_limits=config.cost_limits,
        )

    def connect(self) -> None:
        """Open both sessions and read the catalog now (a long-running worker, before its
        first job): WarehouseError names a server that cannot be reached or refuses."""
        self._connection.open()
        self._catalog.tables()

    # -- the Warehouse interface ------------------------------------------------------------

    def tables(self, refresh: bool = False) -> list[TableInfo]:
        """Tables of the configured schemas from information_schema, with row counts and
        sizes from the statistics, kept for 10 minutes and then refreshed in the background.

        `refresh` (a query named a table the catalog lacks) re-reads it sooner, but at most
        once a minute, so misspelt names cannot keep the catalog queries running.
        """
        return self._catalog.tables(refresh)

    def with_samples(self, tables: Sequence[TableInfo]) -> list[TableInfo]:
        def work(cursor: Any) -> list[TableInfo]:
            def fetch(sql: str) -> list[tuple[Any, ...]]:
                cursor.execute(sql)
                return [tuple(row) for row in cursor.fetchall()]

            return self._samples.with_samples(fetch, tables)

        sampled: list[TableInfo] = self._catalog_connection.run(work, retry=True)
        return sampled

    def _read_described(self) -> list[TableInfo]:
        return self._doc.describe(self._catalog_connection.run(self._read_catalog, retry=True))

    def _read_catalog(self, cursor: Any) -> list[TableInfo]:
        names = {f"schema{i}": schema for i, schema in enumerate(self.schemas)}
        cursor.execute(
            "SELECT c.table_schema, c.table_name, c.column_name, c.data_type, "
            "c.character_maximum_length, c.numeric_precision, c.numeric_scale "
            # Alone: joined with information_schema.tables it takes seconds on a large
            # catalog, and it lists only what tables and views hold anyway.
            "FROM information_schema.columns c "
            f"WHERE c.table_schema IN ({', '.join(':' + n for n in names)}) "
            # What the session's user may read: information_schema also lists tables it
            # holds any other privilege on (INSERT only, say).
            "AND has_column_privilege(quote_ident(c.table_schema) || '.' || "
            "quote_ident(c.table_name), c.column_name, 'SELECT') "
            "ORDER BY c.table_schema, c.table_name, c.ordinal_position",
            names,
        )
        listed = [
            (schema, table, column, _type_name(*type_parts))
            for schema, table, column, *type_parts in cursor.fetchall()
        ]
        return describe_tables(listed, _table_stats(cursor, names))

    def query(self, sql: str, max_rows: int, params: dict[str, Any] | None = None) -> FetchedRows:
        check_params(sql, params)
        started = time.perf_counter()

        def work(cursor: Any) -> FetchedRows:
            cursor.execute(sql, params or None)
            columns = [d[0] for d in cursor.description or []]
            rows = [tuple(r) for r in cursor.fetchmany(max_rows)] if columns else []
            return FetchedRows(columns, rows, time.perf_counter() - started)

        result: FetchedRows = self._connection.run(work, retry=is_read_only(sql, self.dialect))
        return result

    def result_columns(self, sql: str, params: dict[str, Any] | None = None) -> list[ResultColumn]:
        check_params(sql, params)
        body = statement_body(sql)

        def work(cursor: Any) -> list[ResultColumn]:
            cursor.execute(f"SELECT * FROM ({body}) AS described LIMIT 0", params or None)
            return [
                ResultColumn(d[0], free_text=d[1] not in FIXED_SHAPE_TYPES)
                for d in cursor.description or []
            ]

        columns: list[ResultColumn] = self._connection.run(
            work, retry=is_read_only(body, self.dialect)
        )
        return columns

    def estimate(self, sql: str, params: dict[str, Any] | None = None) -> PlanEstimate | None:
        """EXPLAIN's top cost and largest scan, parameters bound as `query` binds them."""
        if not self.cost_limits.any:
            return None
        check_params(sql, params)
        body = statement_body(sql)

        def work(cursor: Any) -> PlanEstimate:
            cursor.execute(f"EXPLAIN {body}", params or None)
            return plan_estimate((str(row[0]) for row in cursor.fetchall()), self.cost_limits)

        estimate: PlanEstimate = self._connection.run(work, retry=is_read_only(body, self.dialect))
        return estimate

    def export(self, sql: str, path: Path, params: dict[str, Any] | None = None) -> ExportResult:
        """Stream the whole result to CSV or Parquet through a server-side cursor, in chunks."""
        export_suffix(path)
        check_params(sql, params)
        started = time.perf_counter()
        body = statement_body(sql)

        def work(cursor: Any) -> int:
            cursor.execute(f"DECLARE databot_export NO SCROLL CURSOR FOR {body}", params or None)
            written = 0
            with open_result_writer(path) as write:
                while True:
                    cursor.execute(f"FETCH FORWARD {EXPORT_CHUNK_ROWS} FROM databot_export")
                    rows = cursor.fetchall()
                    description = cursor.description or []
                    types = [ARROW_TYPES.get(d[1]) for d in description]
                    write([d[0] for d in description], rows, types)
                    written += len(rows)
                    if len(rows) < EXPORT_CHUNK_ROWS:
                        break
            cursor.execute("CLOSE databot_export")
            return written

        rows: int = self._connection.run(work, retry=is_read_only(body, self.dialect))
        return ExportResult(str(path), rows, time.perf_counter() - started)

    def close(self) -> None:
        self._catalog.wait()
        self._connection.close()
        self._catalog_connection.close()


def _table_stats(cursor: Any, schemas: dict[str, str]) -> dict[TableKey, TableStats]:
    """Row counts and sizes as the warehouse keeps them: Redshift's SVV_TABLE_INFO
    (estimated rows, size in 1 MB blocks); elsewhere (PostgreSQL, the stand-in the tests
    use) pg_class's estimates. Views have none."""
    cursor.execute("SELECT version()")
    version = " ".join(str(row[0]) for row in cursor.fetchall())
    placeholders = ", ".join(":" + name for name in schemas)
    if "redshift" in version.lower():
        cursor.execute(
            'SELECT "schema", "table", estimated_visible_rows, size * 1048576 '
            f'FROM svv_table_info WHERE "schema" IN ({placeholders})', schemas
        )
    else:
        cursor.execute(
            "SELECT n.nspname, c.relname, c.reltuples, pg_total_relation_size(c.oid) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname IN ({placeholders})", schemas
        )
    return {
        (schema, table): TableStats(
            # PostgreSQL says -1 for a table never analysed: unknown, not empty.
            rows=int(rows) if rows is not None and rows >= 0 else None,
            size_bytes=int(size) if size is not None else None,
        )
        for schema, table, rows, size in cursor.fetchall()
    }


def _type_name(data_type: str, length: int | None, precision: int | None, scale: int | None) -> str:
    if length is not None and "char" in data_type:
        return f"{data_type}({length})"
    if data_type == "numeric" and precision is not None:
        return f"numeric({precision},{scale or 0})"
    return data_type


# Type OIDs of numbers, booleans, dates and times: their printed values cannot start with
# a formula character (see csv_cells).
FIXED_SHAPE_TYPES = frozenset({16, 20, 21, 23, 26, 700, 701, 1700, 1082, 1083, 1114, 1184, 1266})

# Type OIDs → Arrow types, for Parquet. NUMERIC has no fixed scale in a result (avg()
# returns many digits), so Parquet gets it as DOUBLE; CSV keeps it exact. Other types
# become text.
ARROW_TYPES: dict[int, pa.DataType] = {
    16: pa.bool_(), 20: pa.int64(), 21: pa.int16(), 23: pa.int32(), 700: pa.float32(),
    701: pa.float64(), 1700: pa.float64(), 1082: pa.date32(), 1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"), 25: pa.string(), 1042: pa.string(), 1043: pa.string(),
}  # fmt: skip
