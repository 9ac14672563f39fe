"""Streamed answers: how soon the person sees something, and the answer, with and without
streaming.

Each job goes through the real job runner (`JobRunner.run` on a queue message stamped when
it was sent) to the Slack Web API stand-in (tests/support/slack_api.py), answered by the
real agent on the sample data in DuckDB with a scripted model of 3 turns of 0.5 s each
(run the SQL, draft, confirm on reflection); a streamed turn spreads its 0.5 s over its
events as ConverseStream does. Timed from the message's enqueue, per job, p50 and p95:

- first seen: the first thing in the thread (the assistant status, or the placeholder);
- first text: the first words of the answer (chat.startStream when streaming, else the
  whole answer);
- complete: the answer with its blocks and feedback buttons (chat.stopStream, or the
  post/update carrying it).

Four runs: assistant threads and channel threads, each streaming (SLACK_STREAMING on) and
through the post/update path (off). The job store is in memory (bench/worker.py's), so
DynamoDB's latency is not in the figures; the Slack stand-in is over HTTP.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.worker import MemoryJobStore
from bot.delivery import Channels
from bot.job import Job, ReplyTo, utc_now_iso
from bot.slack.outbox import SlackChannel
from bot.slack.replier import SlackReplier, web_client
from executor.agent import create_agent
from executor.artifacts import open_artifact_store
from executor.config import ArtifactsConfig, ModelConfig, SandboxConfig, WarehouseConfig
from executor.warehouse.factory import open_warehouse
from executor.worker.config import WorkerConfig
from executor.worker.metrics import WorkerMetrics
from executor.worker.queue import QueueMessage
from executor.worker.runner import JobRunner
from tests.support.scripted_model import ScriptedModel, answer_script
from tests.support.slack_api import SlackApiStandIn, SlackCall

JOBS = 20
TURN_DELAY_S = 0.5
SQL = "SELECT plan, COUNT(*) AS users FROM users GROUP BY plan ORDER BY plan"
ANSWER = "\n\n".join([
    "Most users are on the **free** plan, and the paid plans together hold about a third "
    "of everyone who signed up.",
    "- The free plan is the largest by far, as it has been since the first month.",
    "- The pro plan is second; it grew fastest over the last two quarters.",
    "- The team plan is the smallest, but its users are the most active by interactions.",
    "The table below has the counts per plan, with the date of each plan's first sign-up.",
])
VISIBLE = ("assistant.threads.setStatus", "chat.postMessage", "chat.update", "chat.startStream",
           "chat.stopStream")


def main() -> None:
    slack = SlackApiStandIn().start()
    warehouse = open_warehouse(WarehouseConfig())
    try:
        with tempfile.TemporaryDirectory(prefix="databot-bench-") as folder:
            artifacts = open_artifact_store(ArtifactsConfig(results_dir=Path(folder)))
            print(f"jobs per run: {JOBS}, scripted model: 3 turns x {TURN_DELAY_S} s; "
                  f"seconds from enqueue, p50 / p95")
            for surface in ("assistant", None):
                for streaming in (True, False):
                    slack.reset()
                    model = ScriptedModel(answer_script(SQL, ANSWER) * JOBS,
                                          delay_s=TURN_DELAY_S, validate=False)
                    agent = create_agent(ModelConfig(), SandboxConfig(), warehouse, artifacts,
                                         client=model)
                    client = web_client(slack.token, slack.url)
                    runner = JobRunner(
                        agent, MemoryJobStore(), config=WorkerConfig(progress_interval_s=0.5),
                        metrics=WorkerMetrics(None), channels=Channels(
                            {"slack": SlackChannel(SlackReplier(client), streaming=streaming)}))
                    report(surface, streaming, [run(runner, slack, surface, n)
                                                for n in range(JOBS)])
    finally:
        warehouse.close()
        slack.stop()


def run(runner: JobRunner, slack: SlackApiStandIn, surface: str | None, n: int
        ) -> tuple[float, float, float]:
    """One job through the runner: (first seen, first text, complete) seconds."""
    channel = f"{'D' if surface else 'C'}{n:05d}"
    job = Job(job_id=f"Evbench{n:05d}", source="slack", conversation_id=f"T0001:{channel}",
              user_id="U0001", text="How many users are on each plan?",
              reply_to=ReplyTo(kind="slack", team_id="T0001", channel=channel,
                               thread_ts="1730000000.000100", surface=surface),
              received_at=utc_now_iso())
    sent_at = time.time()
    runner.run(QueueMessage(message_id=job.job_id, receipt_handle="rh", body=job.to_json(),
                            receive_count=1, sent_at=sent_at))
    calls = [c for c in slack.calls if c.method in VISIBLE and _channel(c) == channel
             and c.response and c.response.get("ok")]
    seen = calls[0].at
    complete = next(c.at for c in calls if "answer_feedback" in json.dumps(c.args))
    started = [c.at for c in calls if c.method == "chat.startStream"]
    return seen - sent_at, (started[0] if started else complete) - sent_at, complete - sent_at


def report(surface: str | None, streaming: bool, timings: list[tuple[float, float, float]]
           ) -> None:
    where = "assistant thread" if surface else "channel thread"
    how = "streaming" if streaming else "post/update"
    columns = []
    for index, name in enumerate(("first seen", "first text", "complete")):
        values = sorted(t[index] for t in timings)
        p95 = values[max(int(0.95 * len(values)) - 1, 0)]
        columns.append(f"{name} {statistics.median(values):.2f} / {p95:.2f}")
    print(f"{where:16} {how:11} | " + " | ".join(columns), flush=True)


def _channel(call: SlackCall) -> str:
    return str(call.args.get("channel") or call.args.get("channel_id") or "")
