"""Putting an Answer together from query results, the same way for the agent and the
verified answerer: the table preview (PREVIEW_ROWS rows, chosen and labelled by
executor.preview), charts drawn in the job's scratch folder and stored, the data's as-of
date and the reproducible bundle (answer.json and query_<n>.sql, executor.artifacts.bundle).
The whole result goes to the store through executor.artifacts.export.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING

from bot.answer import PREVIEW_ROWS, Answer, Chart, Table
from executor.artifacts import ArtifactStore, save_bundle
from executor.charts.spec import ChartSpec
from executor.preview import preview_table
from executor.verified.periods import Unit
from executor.warehouse.base import QueryResult

if TYPE_CHECKING:
    from executor.charts.plan import ChartPlan


def answer_table(result: QueryResult, as_of: date | None, unit: Unit | None = None) -> Table:
    """The answer's table: at most PREVIEW_ROWS rows of `result`, the ones a reader wants."""
    return preview_table(result, PREVIEW_ROWS, as_of=as_of, unit=unit)


def store_chart(
    store: ArtifactStore,
    job_id: str,
    plan: ChartPlan,
    spec: ChartSpec,
    name: str,
    *,
    title: str | None = None,
) -> Chart:
    """Draw `plan` as `name` in the job's scratch folder (kept there for the upload to
    Slack), store it, and describe it for the answer; the spec is kept for re-running."""
    # matplotlib is loaded only when a chart is actually drawn.
    from executor.charts.draw import draw_chart

    path = draw_chart(plan, store.scratch_dir(job_id) / name)
    link = store.put_file(job_id, name, path, "image/png")
    return Chart(title=title or plan.title, path=str(path), url=link, spec=asdict(spec))


def as_of_text(as_of: date | None) -> str | None:
    """The as-of date as the Answer carries it (an ISO date)."""
    return as_of.isoformat() if as_of else None


def with_bundle(store: ArtifactStore, job_id: str, question: str, answer: Answer) -> Answer:
    """`answer` with the links of its reproducible bundle, when it ran SQL."""
    if answer.sql:
        answer.artifacts |= save_bundle(store, job_id, question, answer)
    return answer
