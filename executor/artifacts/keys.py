"""Artifact names and job folders: built from ids and fixed names only, checked so nothing
leaves its job's folder (results/<job_id>/<name>, and the local scratch folder)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

PREFIX = "results"
# Slack event ids, slash-command trigger ids (digits and dots) and UUIDs all fit.
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class BadArtifactName(ValueError):
    """A job id or file name that could escape its folder or is not a plain file name."""


def checked(kind: str, value: str) -> str:
    if not isinstance(value, str) or not _SAFE.fullmatch(value) or ".." in value:
        raise BadArtifactName(
            f"{kind} {value!r} is not allowed: use letters, digits, '.', '_' or '-' "
            "(no slashes, no '..', at most 128 characters)"
        )
    return value


def artifact_key(job_id: str, name: str) -> str:
    """results/<job_id>/<name>, after checking both parts."""
    return f"{PREFIX}/{checked('job id', job_id)}/{checked('artifact name', name)}"


def scratch_dir(job_id: str) -> Path:
    """A local folder for this job's files (charts are uploaded to Slack from here); the job
    id is checked as artifact keys are, so it cannot point outside."""
    return Path(tempfile.gettempdir()) / "databot" / checked("job id", job_id)
