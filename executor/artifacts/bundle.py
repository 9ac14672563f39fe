"""The reproducible bundle saved with every answer that ran SQL: results/<job_id>/answer.json
(the question, every SQL statement, any Python, chart specs, the answer text, the model
and the time) and one query_<n>.sql per statement, enough to re-run the answer."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from bot.answer import Answer
from executor.artifacts.keys import checked
from executor.artifacts.store import ArtifactStore

BUNDLE_VERSION = 1


def bundle(
    job_id: str,
    question: str,
    answer: Answer,
    *,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """answer.json's content."""
    return {
        "version": BUNDLE_VERSION,
        "job_id": checked("job id", job_id),
        "created_at": (created_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "question": question,
        "answer": answer.text,
        "model": answer.usage.model_id,
        "verified": answer.verified,
        "sql": [{"file": query_file(n), "sql": sql} for n, sql in enumerate(answer.sql, start=1)],
        "code": [asdict(run) for run in answer.code],
        "charts": [{"title": chart.title, "spec": chart.spec} for chart in answer.charts],
        "total_rows": answer.table.total_rows if answer.table else None,
        "usage": asdict(answer.usage),
    }


def save_bundle(
    store: ArtifactStore,
    job_id: str,
    question: str,
    answer: Answer,
    *,
    created_at: datetime | None = None,
) -> dict[str, str]:
    """Write answer.json and query_<n>.sql to `store` (an ArtifactStore); name → link."""
    content = bundle(job_id, question, answer, created_at=created_at)
    links = {
        query_file(n): store.put_bytes(job_id, query_file(n), _sql_text(sql), "application/sql")
        for n, sql in enumerate(answer.sql, start=1)
    }
    data = json.dumps(content, indent=2, default=str, ensure_ascii=False).encode()
    links["answer.json"] = store.put_bytes(job_id, "answer.json", data, "application/json")
    return links


def query_file(n: int) -> str:
    return f"query_{n}.sql"


def _sql_text(sql: str) -> bytes:
    return (sql.rstrip().rstrip(";") + ";\n").encode()

