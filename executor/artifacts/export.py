"""Full-result export into a job's artifacts, never holding the whole result in memory.

Through the SQL guard, then the cheapest route the warehouse and store allow:
- local store: the warehouse streams straight into results/<job_id>/<name>
  (DuckDB with its own COPY);
- S3 store on Redshift with an UNLOAD role: Redshift writes the file to the bucket
  itself (UNLOAD), the worker only links it;
- S3 store otherwise: the warehouse streams to a temporary file that is uploaded in
  multipart chunks, then deleted.

Every route writes a CSV's cells neutralised against formula injection
(executor.warehouse.csv_cells): the adapters' own exports do it, and an UNLOAD to CSV
selects from the query wrapped in the same rule.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger

from executor.artifacts.keys import checked
from executor.artifacts.local import LocalArtifactStore
from executor.artifacts.s3 import S3ArtifactStore
from executor.artifacts.store import ArtifactStore
from executor.warehouse.base import Warehouse
from executor.warehouse.csv_cells import neutralising_select
from executor.warehouse.guarded import export_guarded, guard

logger = Logger(service="databot")

CONTENT_TYPES = {".csv": "text/csv", ".parquet": "application/vnd.apache.parquet"}


@dataclass(frozen=True)
class StoredExport:
    name: str
    link: str
    rows: int
    elapsed_s: float


def export_to_store(
    warehouse: Warehouse,
    store: ArtifactStore,
    job_id: str,
    sql: str,
    name: str,
    *,
    params: dict[str, Any] | None = None,
) -> StoredExport:
    """Write the whole result of `sql` as results/<job_id>/<name> (.csv or .parquet)."""
    suffix = Path(checked("artifact name", name)).suffix.lower()
    content_type = CONTENT_TYPES.get(suffix)
    if content_type is None:
        raise ValueError(f"export name must end in {' or '.join(CONTENT_TYPES)}: {name!r}")
    checked("job id", job_id)
    started = time.perf_counter()
    if isinstance(store, LocalArtifactStore):
        result = export_guarded(warehouse, sql, store.path(job_id, name), params=params)
        link, rows = result.location, result.rows
    elif isinstance(store, S3ArtifactStore) and _unloads(warehouse, store, params):
        link, rows = _unload(warehouse, store, job_id, sql, name)
    else:
        with tempfile.TemporaryDirectory(prefix="databot-export-") as folder:
            local = Path(folder) / name
            rows = export_guarded(warehouse, sql, local, params=params).rows
            link = store.put_file(job_id, name, local, content_type)
    elapsed = time.perf_counter() - started
    logger.info("job_id=<%s> | exported %s rows as %s in %.2fs", job_id, rows, name, elapsed)
    return StoredExport(name=name, link=link, rows=rows, elapsed_s=elapsed)


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


def _unloads(warehouse: Warehouse, store: S3ArtifactStore, params: dict[str, Any] | None) -> bool:
    # UNLOAD takes its query as a string literal, so bound parameters cannot go in.
    return warehouse.dialect == "redshift" and store.unload_role_arn is not None and not params


def _unload(
    warehouse: Warehouse, store: S3ArtifactStore, job_id: str, sql: str, name: str
) -> tuple[str, int]:
    """UNLOAD into results/<job_id>/<stem>_000.<ext>; the link and the row count come from
    the manifest Redshift writes beside it (<stem>_manifest)."""
    stem, suffix = name.rsplit(".", 1)
    prefix = store.key(job_id, f"{stem}_")
    checked_sql = guard(warehouse, sql)
    query = checked_sql.sql
    if suffix == "csv":
        # The wrapper also nests any LIMIT, which UNLOAD refuses on the outer SELECT.
        query = neutralising_select(query, warehouse.result_columns(query), warehouse.dialect)
    elif checked_sql.statement.args.get("limit") is not None:
        query = f"SELECT * FROM ({query}) AS limited"
    statement = unload_statement(
        query,
        f"s3://{store.bucket}/{prefix}",
        str(store.unload_role_arn),
        parquet=suffix == "parquet",
    )
    warehouse.query(statement, 1)
    manifest = store.client.get_object(Bucket=store.bucket, Key=f"{prefix}manifest")
    entries = json.loads(manifest["Body"].read())["entries"]
    rows = sum(int(entry["meta"]["record_count"]) for entry in entries)
    if len(entries) > 1:
        logger.warning(
            "job_id=<%s> | UNLOAD wrote %s parts; linking the first", job_id, len(entries)
        )
    # Entries name s3://bucket/results/<job_id>/<file>; the link is built from that file name.
    first = entries[0]["url"].rsplit("/", 1)[1] if entries else f"{stem}_000.{suffix}"
    return store.link(job_id, first), rows
