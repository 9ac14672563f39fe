"""Where a job's files go: results/<job_id>/... in S3 (RESULTS_BUCKET, presigned links)
or a local folder (RESULTS_DIR, paths as links). The S3 store, and boto3 with it, is
imported only when a bucket is configured."""

from __future__ import annotations

from typing import Any

from executor.artifacts.bundle import save_bundle
from executor.artifacts.keys import BadArtifactName, artifact_key
from executor.artifacts.local import LocalArtifactStore
from executor.artifacts.store import ArtifactStore
from executor.config import ArtifactsConfig

__all__ = [
    "ArtifactStore",
    "BadArtifactName",
    "LocalArtifactStore",
    "artifact_key",
    "open_artifact_store",
    "save_bundle",
]


def open_artifact_store(config: ArtifactsConfig, *, client: Any = None) -> ArtifactStore:
    """S3 when RESULTS_BUCKET is set, else the local RESULTS_DIR folder."""
    if config.bucket:
        from executor.artifacts.s3 import S3ArtifactStore, s3_client

        return S3ArtifactStore(
            config.bucket,
            client=client or s3_client(config.region),
            link_expiry_s=config.link_expiry_s,
            unload_role_arn=config.unload_role_arn,
        )
    return LocalArtifactStore(config.results_dir)
