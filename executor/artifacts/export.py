"""Full-result export into a job's artifacts, never holding the whole result in memory.

Through the SQL guard, then the cheapest route the store has (`ArtifactStore.export`):
- local store: the warehouse streams straight into results/<job_id>/<name>
  (DuckDB with its own COPY);
- S3 store on Redshift with an UNLOAD role: Redshift writes the file to the bucket
  itself (executor.artifacts.unload), the worker only links it;
- S3 store otherwise: the warehouse streams to a temporary file that is uploaded in
  multipart chunks, then deleted (`export_through_file`).

Every route writes a CSV's cells neutralised against formula injection
(executor.warehouse.csv_cells): the adapters' own exports do it, and an UNLOAD to CSV
selects from the query wrapped in the same rule.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.observability import service_logger
from executor.artifacts.keys import checked
from executor.artifacts.store import ArtifactStore, Export
from executor.warehouse.base import Warehouse
from executor.warehouse.guarded import export_guarded

logger = service_logger()

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
    if suffix not in CONTENT_TYPES:
        raise ValueError(f"export name must end in {' or '.join(CONTENT_TYPES)}: {name!r}")
    checked("job id", job_id)
    started = time.perf_counter()
    link, rows = store.export(Export(warehouse, job_id, sql, name, params))
    elapsed = time.perf_counter() - started
    logger.info("job_id=<%s> | exported %s rows as %s in %.2fs", job_id, rows, name, elapsed)
    return StoredExport(name=name, link=link, rows=rows, elapsed_s=elapsed)


def export_through_file(store: ArtifactStore, export: Export) -> tuple[str, int]:
    """The route for a store with no faster one: the warehouse streams to a temporary file
    that the store takes in (S3: multipart chunks), then the file is deleted."""
    with tempfile.TemporaryDirectory(prefix="databot-export-") as folder:
        local = Path(folder) / export.name
        rows = export_guarded(export.warehouse, export.sql, local, params=export.params).rows
        link = store.put_file(export.job_id, export.name, local,
                              CONTENT_TYPES[local.suffix.lower()])
    return link, rows
