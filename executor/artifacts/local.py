"""The local artifact store: RESULTS_DIR/<job_id>/<name>; links are absolute paths."""

from __future__ import annotations

import shutil
from pathlib import Path

from executor.artifacts.keys import checked, scratch_dir
from executor.artifacts.store import Export
from executor.warehouse.guarded import export_guarded


class LocalArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path(self, job_id: str, name: str) -> Path:
        """Where `name` of `job_id` lives (its folder is created)."""
        folder = self.root / checked("job id", job_id)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / checked("artifact name", name)

    def put_bytes(self, job_id: str, name: str, data: bytes, content_type: str) -> str:
        target = self.path(job_id, name)
        target.write_bytes(data)
        return str(target)

    def put_file(self, job_id: str, name: str, path: Path, content_type: str) -> str:
        target = self.path(job_id, name)
        if path.resolve() != target:
            shutil.copyfile(path, target)
        return str(target)

    def scratch_dir(self, job_id: str) -> Path:
        return scratch_dir(job_id)

    def export(self, export: Export) -> tuple[str, int]:
        # The warehouse streams straight into the results folder (DuckDB with its own COPY).
        target = self.path(export.job_id, export.name)
        result = export_guarded(export.warehouse, export.sql, target, params=export.params)
        return result.location, result.rows
