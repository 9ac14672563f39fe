"""run_python: run the model's Python in the sandbox, over the job's saved query results.

Saved results (q1, q2, ...) go in as Parquet, loadable with load("q1"); a result cut
short by run_sql's row cap is exported whole through the guarded path first. The code
and its output join the answer; figures become charts; files in out/ become artifacts.
A failure (exception, time or memory limit) goes back to the model to fix its code.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from bot.answer import Chart, CodeRun
from bot.observability import service_logger
from executor.sandbox import SandboxResult
from executor.sandbox.inputs import result_parquet
from executor.tools.base import SavedQuery, Tool, ToolContext, ToolError, ToolInput, ToolOutput
from executor.warehouse.guarded import export_guarded

logger = service_logger()

SPEC: dict[str, Any] = {
    "name": "run_python",
    "description": (
        "Run Python 3 in an isolated sandbox (no network, no files but its own, time and "
        "memory limits) for arithmetic, analysis and machine learning. pandas, numpy, "
        "scikit-learn, scipy, joblib and matplotlib are installed. `load('q1')` returns a "
        "saved run_sql result as a pandas DataFrame (all its rows). print() what the reader "
        "should see; assign a JSON-able value to `result` to get it back as data. Figures "
        "left open become charts in the answer. Files written to the `OUT` folder (a "
        "pathlib.Path, e.g. OUT / 'model.joblib') are stored and linked in the answer. "
        "Errors come back with the exception and traceback so you can fix the code."
    ),
    "inputSchema": {
        "json": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "The Python program to run."},
                "inputs": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": 'Saved results to hand over, e.g. ["q1"]; default: all.',
                },
            },
            "required": ["code"],
        }
    },
}

_ARTIFACT_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def run_python(context: ToolContext, tool_input: ToolInput) -> ToolOutput:
    code = tool_input.get("code")
    if not isinstance(code, str) or not code.strip():
        raise ToolError("`code` must be a non-empty string of Python")
    sandbox = context.sandbox
    if sandbox is None:
        raise ToolError("Python is not available in this job: no sandbox is configured")
    inputs = _inputs(context, tool_input.get("inputs"), sandbox.limits.input_bytes)
    outcome = sandbox.run(code, inputs, None)
    output = _output_text(outcome)
    error = outcome.failure.describe() if outcome.failure else None
    context.code.append(CodeRun(code=code, output=output, error=error))
    charts = [
        _store_chart(context, figure.name, figure.data, figure.title) for figure in outcome.figures
    ]
    files = {}
    for produced in outcome.files:
        name = _artifact_name(produced.name)
        link = context.artifacts.put_bytes(
            context.job_id, name, produced.data, produced.content_type
        )
        context.links[name] = link
        files[produced.name] = name
    logger.info(
        "job_id=<%s>, inputs=<%s>, failure=<%s>, elapsed_s=<%s> | python ran",
        context.job_id,
        ",".join(inputs),
        outcome.failure and outcome.failure.kind,
        outcome.elapsed_s,
    )
    if error is not None:
        raise ToolError(f"the code failed:\n{error}" + _tail("output before the failure", output))
    reply: ToolOutput = {"stdout": output, "seconds": outcome.elapsed_s}
    if outcome.result is not None:
        reply["result"] = outcome.result
    if charts:
        reply["charts"] = charts
    if files:
        reply["files"] = files
    if outcome.notes:
        reply["notes"] = outcome.notes
    return reply


def _inputs(context: ToolContext, names: Any, max_bytes: int) -> dict[str, bytes]:
    if names is None:
        chosen = list(context.queries)
    elif isinstance(names, list) and all(isinstance(n, str) for n in names):
        chosen = [context.query_named(name) for name in names]
    else:
        raise ToolError('`inputs` must be a list of saved result names such as ["q1"]')
    inputs: dict[str, bytes] = {}
    for saved in chosen:
        inputs[saved.name] = _parquet(context, saved)
        total = sum(map(len, inputs.values()))
        if total > max_bytes:
            raise ToolError(
                f"the inputs come to more than {max_bytes} bytes of Parquet; aggregate in SQL "
                "or hand over fewer results"
            )
    return inputs


def _parquet(context: ToolContext, saved: SavedQuery) -> bytes:
    """The saved result as Parquet: from memory, or re-run whole when it was cut short."""
    if not saved.result.truncated:
        return result_parquet(saved.result)
    context.progress(f"Fetching all {saved.result.total_rows:,} rows of {saved.name}")
    with tempfile.TemporaryDirectory(prefix="databot-input-") as folder:
        path = Path(folder) / f"{saved.name}.parquet"
        export_guarded(context.warehouse, saved.sql, path)
        return path.read_bytes()


def _store_chart(context: ToolContext, name: str, data: bytes, title: str) -> str:
    stored = _artifact_name(f"python_{len(context.charts) + 1}_{Path(name).name}")
    path = context.artifacts.scratch_dir(context.job_id) / stored
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    link = context.artifacts.put_file(context.job_id, stored, path, "image/png")
    context.charts.append(Chart(title=title or Path(name).stem, path=str(path), url=link))
    return stored


def _artifact_name(name: str) -> str:
    """An out/ path as a flat artifact name: letters, digits, '.', '_' and '-' only."""
    flat = _ARTIFACT_CHARS.sub("_", name.replace("/", "_")).strip("._-")
    return flat.replace("..", "_")[:128] or "file"


def _output_text(outcome: SandboxResult) -> str:
    text = outcome.stdout
    if outcome.stdout_truncated:
        text += "\n[output cut: only the first part was kept]"
    return text


def _tail(label: str, text: str, limit: int = 2000) -> str:
    if not text.strip():
        return ""
    return f"\n{label}:\n{text[-limit:]}"


TOOL = Tool(spec=SPEC, run=run_python, stage="Running Python")
