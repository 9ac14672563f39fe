"""The interface every artifact store implements (S3 and a local folder).

Callers code against this alone: a store owns where a job's files are made before they are
stored (its scratch folder) and how a whole query result reaches it (its export route).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from executor.warehouse.base import Warehouse


@dataclass(frozen=True)
class Export:
    """One whole query result to store: `sql` (with `params`) on `warehouse`, written
    through the SQL guard as results/<job_id>/<name> (.csv or .parquet)."""

    warehouse: Warehouse
    job_id: str
    sql: str
    name: str
    params: dict[str, Any] | None = None


class ArtifactStore(Protocol):
    def put_bytes(self, job_id: str, name: str, data: bytes, content_type: str) -> str:
        """Store `data` as results/<job_id>/<name>; return a link (presigned URL or path)."""
        ...

    def put_file(self, job_id: str, name: str, path: Path, content_type: str) -> str:
        """Store a local file as results/<job_id>/<name>; return a link."""
        ...

    def scratch_dir(self, job_id: str) -> Path:
        """A local folder for the job's files before they are stored (charts are drawn and
        uploaded to Slack from here)."""
        ...

    def export(self, export: Export) -> tuple[str, int]:
        """Store the result by the cheapest route this store has; return its link and its
        row count."""
        ...
