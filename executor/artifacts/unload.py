"""Redshift's UNLOAD into an S3 store's bucket: Redshift writes the whole result itself and
the worker only links it. Used by the S3 store when it has an UNLOAD role and the warehouse
is Redshift.

A CSV's cells are neutralised against formula injection as every other export route does
(executor.warehouse.csv_cells): the query is wrapped in the same rule.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from bot.observability import service_logger
from executor.warehouse.base import Warehouse
from executor.warehouse.csv_cells import neutralising_select
from executor.warehouse.guarded import guard_to_run

if TYPE_CHECKING:
    from executor.artifacts.s3 import S3ArtifactStore

logger = service_logger()


def unloads(warehouse: Warehouse, role_arn: str | None, params: dict[str, Any] | None) -> bool:
    # UNLOAD takes its query as a string literal, so bound parameters cannot go in.
    return warehouse.dialect == "redshift" and role_arn is not None and not params


def unload_statement(sql: str, s3_prefix: str, role_arn: str, *, parquet: bool) -> str:
    """Redshift's UNLOAD of `sql` to `s3_prefix`: one file (PARALLEL OFF, so there is one
    object to link; Redshift starts another part only past 6.2 GB) and a verbose manifest
    that says how many rows were written."""
    # Redshift string literals treat backslash as an escape: double it and the quotes.
    quoted = sql.replace("\\", "\\\\").replace("'", "''")
    options = "FORMAT PARQUET" if parquet else "FORMAT CSV HEADER"
    extension = "parquet" if parquet else "csv"
    return (
        f"UNLOAD ('{quoted}') TO '{s3_prefix}' IAM_ROLE '{role_arn}' {options} "
        f"PARALLEL OFF MANIFEST VERBOSE ALLOWOVERWRITE EXTENSION '{extension}'"
    )


def unload(
    warehouse: Warehouse, store: S3ArtifactStore, job_id: str, sql: str, name: str
) -> tuple[str, int]:
    """UNLOAD into results/<job_id>/<stem>_000.<ext>; the link and the row count come from
    the manifest Redshift writes beside it (<stem>_manifest)."""
    stem, suffix = name.rsplit(".", 1)
    checked_sql = guard_to_run(warehouse, sql)
    query = checked_sql.sql
    if suffix == "csv":
        # The wrapper also nests any LIMIT, which UNLOAD refuses on the outer SELECT.
        query = neutralising_select(query, warehouse.result_columns(query), warehouse.dialect)
    elif checked_sql.statement.args.get("limit") is not None:
        query = f"SELECT * FROM ({query}) AS limited"
    statement = unload_statement(
        query,
        f"s3://{store.bucket}/{store.key(job_id, f'{stem}_')}",
        str(store.unload_role_arn),
        parquet=suffix == "parquet",
    )
    warehouse.query(statement, 1)
    entries = json.loads(store.read_bytes(job_id, f"{stem}_manifest"))["entries"]
    rows = sum(int(entry["meta"]["record_count"]) for entry in entries)
    if len(entries) > 1:
        logger.warning(
            "job_id=<%s> | UNLOAD wrote %s parts; linking the first", job_id, len(entries)
        )
    # Entries name s3://bucket/results/<job_id>/<file>; the link is built from that file name.
    first = entries[0]["url"].rsplit("/", 1)[1] if entries else f"{stem}_000.{suffix}"
    return store.link(job_id, first), rows
