"""The interface every artifact store implements (S3 and a local folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class ArtifactStore(Protocol):
    def put_bytes(self, job_id: str, name: str, data: bytes, content_type: str) -> str:
        """Store `data` as results/<job_id>/<name>; return a link (presigned URL or path)."""
        ...

    def put_file(self, job_id: str, name: str, path: Path, content_type: str) -> str:
        """Store a local file as results/<job_id>/<name>; return a link."""
        ...
