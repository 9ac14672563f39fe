"""The S3 artifact store: s3://RESULTS_BUCKET/results/<job_id>/<name>, linked with
presigned GET URLs; files go up in multipart chunks, so size never costs memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from executor.artifacts.export import export_through_file
from executor.artifacts.keys import artifact_key, scratch_dir
from executor.artifacts.store import Export
from executor.artifacts.unload import unload, unloads
from executor.config import MAX_LINK_EXPIRY_S

# S3's smallest part (except the last) is 5 MiB; 8 MiB parts reach 80 GB within S3's
# 10,000-part limit while bounding the memory an upload holds.
PART_SIZE = 8 * 1024 * 1024


def s3_client(region: str | None = None) -> Any:
    """An S3 client that presigns with SigV4 (whose limit is the 7-day expiry)."""
    return boto3.client("s3", region_name=region, config=Config(signature_version="s3v4"))


class S3ArtifactStore:
    def __init__(
        self,
        bucket: str,
        *,
        client: Any = None,
        link_expiry_s: int = MAX_LINK_EXPIRY_S,
        part_size: int = PART_SIZE,
        unload_role_arn: str | None = None,
    ) -> None:
        if not 1 <= link_expiry_s <= MAX_LINK_EXPIRY_S:
            raise ValueError(
                f"link expiry must be between 1 and {MAX_LINK_EXPIRY_S} seconds (7 days), "
                f"got {link_expiry_s}"
            )
        if part_size < 5 * 1024 * 1024:
            raise ValueError(f"S3 multipart parts must be at least 5 MiB, got {part_size}")
        self.bucket = bucket
        self.client = client or s3_client()
        self.link_expiry_s = link_expiry_s
        self.part_size = part_size
        # The IAM role Redshift assumes to UNLOAD results straight into this bucket.
        self.unload_role_arn = unload_role_arn

    def key(self, job_id: str, name: str) -> str:
        return artifact_key(job_id, name)

    def link(self, job_id: str, name: str) -> str:
        """A presigned GET URL for an object stored under the job."""
        return str(
            self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": self.key(job_id, name)},
                ExpiresIn=self.link_expiry_s,
            )
        )

    def read_bytes(self, job_id: str, name: str) -> bytes:
        """An object stored under the job (the manifest Redshift's UNLOAD writes, say)."""
        response = self.client.get_object(Bucket=self.bucket, Key=self.key(job_id, name))
        return bytes(response["Body"].read())

    def put_bytes(self, job_id: str, name: str, data: bytes, content_type: str) -> str:
        self.client.put_object(
            Bucket=self.bucket, Key=self.key(job_id, name), Body=data, ContentType=content_type
        )
        return self.link(job_id, name)

    def put_file(self, job_id: str, name: str, path: Path, content_type: str) -> str:
        # Read and sent in parts, at most four in flight: memory stays bounded at any size.
        config = TransferConfig(
            multipart_threshold=self.part_size,
            multipart_chunksize=self.part_size,
            max_concurrency=4,
        )
        self.client.upload_file(
            str(path),
            self.bucket,
            self.key(job_id, name),
            ExtraArgs={"ContentType": content_type},
            Config=config,
        )
        return self.link(job_id, name)

    def scratch_dir(self, job_id: str) -> Path:
        return scratch_dir(job_id)

    def export(self, export: Export) -> tuple[str, int]:
        if unloads(export.warehouse, self.unload_role_arn, export.params):
            return unload(export.warehouse, self, export.job_id, export.sql, export.name)
        return export_through_file(self, export)
