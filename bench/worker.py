"""Worker benchmark: per-job overhead, throughput against the ideal, peak memory.

Set-up, as in production but local, in three processes: moto's server (SQS, DynamoDB,
S3), `databot worker`, and this one with the Slack Web API stand-in
(tests/support/slack_api.py) and the measurements. The worker has a scripted engine
(tests/support/scripted_engine.py) in place of the model: each job takes `turns` model
calls of `delay` seconds, then posts an answer with SQL, a table and a chart upload.

- overhead: 200 jobs one after another with an instant model; queue to final answer
  (send_message → the chat.update carrying the answer), p50 and p95.
- throughput: 3 turns × 0.5 s per job (1.5 s of model time) at concurrency 1, 8 and 32,
  10 waves of jobs queued at once, against the ideal of concurrency ÷ 1.5 s jobs per second.
- memory: the worker process's peak resident set (VmHWM) at the end.

On a small machine moto's server becomes the bottleneck at concurrency 32 (one Python
process serving every SQS and DynamoDB call; the report shows its CPU). The throughput
runs are therefore repeated with the queue and the job records in memory (`MemoryQueue`,
`MemoryJobStore`, conversation memory off) in the worker's process, which measures the
worker itself; the Slack side stays the HTTP stand-in in both.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bot.job import Job, ReplyTo, utc_now_iso
from bot.job_store import DONE, FAILED, RUNNING, Claim, JobRecord, JobStore
from bot.slack.replier import web_client
from executor.worker.config import WorkerConfig
from executor.worker.metrics import WorkerMetrics
from executor.worker.queue import QueueMessage
from executor.worker.runner import JobRunner
from executor.worker.service import Worker
from tests.support.local_aws import LocalStack, create_stack
from tests.support.paths import REPO
from tests.support.scripted_engine import ScriptedEngine
from tests.support.slack_api import SlackApiStandIn
from tests.support.worker import free_port, slack_channels, wait_for

OVERHEAD_JOBS = 200
TURN_DELAY_S = 0.5
TURNS = 3
CONCURRENCIES = (1, 8, 32)
# Enough waves that the ramp-up (the first wave's set-up all at once) does not dominate.
WAVES = 10
TARGET = 0.90
_REF = re.compile(r"ref `([^`]+)`")


@dataclass
class AnswerClock:
    """When each job's final answer reached the Slack stand-in."""

    slack: SlackApiStandIn
    _answered: dict[str, float] = field(default_factory=dict)
    _seen: int = 0

    def answered_at(self) -> dict[str, float]:
        """job_id → when its final answer reached Slack (the chat.update with its footer);
        reads only the calls that arrived since the last look."""
        calls = self.slack.calls[self._seen :]
        self._seen += len(calls)
        for call in calls:
            if call.method != "chat.update" or "hourglass" in str(call.args.get("text")):
                continue
            match = _REF.search(str(call.args.get("blocks")))
            if match:
                self._answered.setdefault(match.group(1), call.at)
        return self._answered

    def wait(self, sent: dict[str, float], timeout_s: float) -> None:
        wait_for(lambda: set(sent) <= set(self.answered_at()), timeout_s,
                 f"{len(sent)} answers")

    def elapsed(self, sent: dict[str, float]) -> float:
        """Seconds from the first job sent to the last one answered."""
        return max(self.answered_at()[job_id] for job_id in sent) - min(sent.values())


@dataclass
class Rig:
    stack: LocalStack
    slack: SlackApiStandIn
    clock: AnswerClock
    workdir: Path
    sqs: Any
    moto: psutil.Process


@dataclass
class WorkerRun:
    process: subprocess.Popen[bytes]
    health_port: int

    def peak_rss_mb(self) -> float:
        return peak_rss_mb(self.process.pid)


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident set size (VmHWM), in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    kilobytes = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
    return kilobytes / 1024


class MemoryQueue:
    """The SQS behaviour the worker relies on (visibility timeouts, receive counts, long
    polling), in memory."""

    queue_url = "memory://jobs"

    def __init__(self, visibility_s: int = 30) -> None:
        self._visibility_s = visibility_s
        self._changed = threading.Condition()
        self._bodies: dict[str, str] = {}
        self._visible_at: dict[str, float] = {}
        self._receives: dict[str, int] = {}
        self._sent_at: dict[str, float] = {}

    def send(self, body: str) -> None:
        message_id = uuid.uuid4().hex
        with self._changed:
            self._bodies[message_id] = body
            self._visible_at[message_id] = self._sent_at[message_id] = time.time()
            self._receives[message_id] = 0
            self._changed.notify_all()

    def receive(self, max_messages: int, wait_s: int) -> list[QueueMessage]:
        deadline = time.time() + wait_s
        with self._changed:
            while not (ready := self._visible()) and time.time() < deadline:
                self._changed.wait(timeout=min(0.05, max(deadline - time.time(), 0)))
            taken = ready[:max_messages]
            for message_id in taken:
                self._receives[message_id] += 1
                self._visible_at[message_id] = time.time() + self._visibility_s
            return [QueueMessage(message_id, message_id, self._bodies[message_id],
                            self._receives[message_id], self._sent_at[message_id])
                    for message_id in taken]

    def delete(self, message: QueueMessage) -> None:
        with self._changed:
            for table in (self._bodies, self._visible_at, self._receives, self._sent_at):
                table.pop(message.message_id, None)

    def change_visibility(self, message: QueueMessage, seconds: int) -> None:
        self.change_visibility_batch([message], seconds)

    def change_visibility_batch(self, messages: list[QueueMessage], seconds: int) -> list[str]:
        with self._changed:
            refused = [m.message_id for m in messages if m.message_id not in self._bodies]
            for message in messages:
                if message.message_id in self._bodies:
                    self._visible_at[message.message_id] = time.time() + seconds
            self._changed.notify_all()
            return refused

    def _visible(self) -> list[str]:
        now = time.time()
        return [message_id for message_id, at in self._visible_at.items() if at <= now]


class MemoryJobStore(JobStore):
    """JOBS_TABLE's claim / placeholder / done / failed transitions, in memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, JobRecord] = {}

    def claim(self, job: Job, attempt: int) -> Claim:
        with self._lock:
            record = self._records.get(job.job_id)
            if record is not None and (record.finished or record.attempt >= attempt):
                return Claim(claimed=False, record=record)
            now = utc_now_iso()
            record = JobRecord(job.job_id, RUNNING, job.source, job.text, now, now,
                               attempt=attempt)
            self._records[job.job_id] = record
            return Claim(claimed=True, record=record)

    def get(self, job_id: str) -> JobRecord | None:
        with self._lock:
            return self._records.get(job_id)

    def set_placeholder(self, job_id: str, placeholder: ReplyTo) -> None:
        self._update(job_id, placeholder=placeholder)

    def mark_done(self, job_id: str, answer: dict[str, Any]) -> None:
        self._update(job_id, status=DONE, answer=answer)

    def mark_failed(self, job_id: str, error: str, *, source: str | None = None) -> bool:
        self._update(job_id, status=FAILED, error=error)
        return True

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            self._records[job_id] = dataclasses.replace(self._records[job_id], **changes)


@contextmanager
def rig() -> Iterator[Rig]:
    port = free_port()
    moto = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    slack = SlackApiStandIn().start()
    with tempfile.TemporaryDirectory() as workdir:
        try:
            wait_for(lambda: _answers(f"{endpoint}/moto-api/"), 60, "moto's server")
            stack = create_stack(endpoint, max_receive_count=5)
            yield Rig(stack, slack, AnswerClock(slack), Path(workdir), stack.client("sqs"),
                      psutil.Process(moto.pid))
        finally:
            slack.stop()
            moto.terminate()
            moto.wait(timeout=30)


@contextmanager
def worker(rig: Rig, *, concurrency: int, delay_s: float) -> Iterator[WorkerRun]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SLACK_"))},
        **rig.stack.env,
        "SLACK_API_URL": rig.slack.url,
        "SLACK_BOT_TOKEN": rig.slack.token,
        "MODEL_PROVIDER": "offline",
        "WORKER_CONCURRENCY": str(concurrency),
        "HEALTH_PORT": str(port),
        "TEST_ENGINE_TURNS": str(TURNS),
        "TEST_ENGINE_DELAY_S": str(delay_s),
        "PYTHONPATH": str(REPO),
        "TMPDIR": str(rig.workdir),
    }
    log = (rig.workdir / f"worker-{concurrency}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "executor", "--engine",
         "tests.support.scripted_engine:scripted_engine_from_env"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    run = WorkerRun(process, port)
    try:
        wait_for(lambda: _answers(f"http://127.0.0.1:{port}/health"), 60, "the worker's /health")
        yield run
    finally:
        process.terminate()
        process.wait(timeout=120)
        log.close()


def send(rig: Rig, count: int) -> dict[str, float]:
    """Queue `count` jobs on SQS (in batches of 10); return job_id → send time."""
    sent: dict[str, float] = {}
    jobs = [job() for _ in range(count)]
    for start in range(0, count, 10):
        batch = jobs[start : start + 10]
        now = time.time()
        rig.sqs.send_message_batch(
            QueueUrl=rig.stack.queue_url,
            Entries=[{"Id": str(n), "MessageBody": job.to_json()} for n, job in enumerate(batch)],
        )
        sent.update({job.job_id: now for job in batch})
    return sent


def measure_overhead(rig: Rig) -> list[float]:
    latencies = []
    with worker(rig, concurrency=8, delay_s=0.0) as run:
        for _ in range(OVERHEAD_JOBS):
            sent = send(rig, 1)
            rig.clock.wait(sent, 30)
            latencies += [rig.clock.answered_at()[job_id] - at for job_id, at in sent.items()]
        print(f"  worker peak RSS (overhead run): {run.peak_rss_mb():.0f} MB")
    return latencies


def measure_throughput(rig: Rig, concurrency: int) -> str:
    """WAVES × concurrency jobs queued at once on moto's SQS, to a worker subprocess."""
    count = WAVES * concurrency
    with worker(rig, concurrency=concurrency, delay_s=TURN_DELAY_S) as run:
        rig.moto.cpu_percent()
        sent = send(rig, count)
        rig.clock.wait(sent, 300)
        moto_cpu = rig.moto.cpu_percent()
        return (f"{judge(concurrency, count, rig.clock.elapsed(sent))}; worker peak RSS "
                f"{run.peak_rss_mb():.0f} MB; moto server CPU {moto_cpu:.0f}%")


def measure_throughput_in_memory(rig: Rig, concurrency: int) -> str:
    """The same load with the queue and job records in memory, in a worker subprocess
    (`python -m bench.worker in-memory N`) that queues the jobs itself."""
    env = {**os.environ, "SLACK_API_URL": rig.slack.url, "SLACK_BOT_TOKEN": rig.slack.token,
           "POWERTOOLS_LOG_LEVEL": "WARNING", "TMPDIR": str(rig.workdir),
           "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.worker", "in-memory", str(concurrency)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None
        sent: dict[str, float] = json.loads(child.stdout.readline())
        rig.clock.wait(sent, 300)
        peak = peak_rss_mb(child.pid)
    finally:
        child.terminate()
        child.wait(timeout=60)
    return (f"{judge(concurrency, len(sent), rig.clock.elapsed(sent))}; worker peak RSS "
            f"{peak:.0f} MB")


def run_in_memory(concurrency: int) -> None:
    """The in-memory worker process: queue WAVES × concurrency jobs, print their send
    times as one JSON line, and work until SIGTERM."""
    config = WorkerConfig(concurrency=concurrency, wait_time_s=1)
    queue = MemoryQueue()
    slack = web_client(os.environ["SLACK_BOT_TOKEN"], os.environ["SLACK_API_URL"])
    runner = JobRunner(
        ScriptedEngine(turns=TURNS, delay_s=TURN_DELAY_S, chart_dir=Path(tempfile.gettempdir())),
        MemoryJobStore(),
        config=config,
        metrics=WorkerMetrics(None),
        channels=slack_channels(slack),
    )
    service = Worker(queue, runner, config)
    signal.signal(signal.SIGTERM, lambda signum, frame: service.stop())
    sent = {}
    for _ in range(WAVES * concurrency):
        queued = job()
        queue.send(queued.to_json())
        sent[queued.job_id] = time.time()
    print(json.dumps(sent), flush=True)
    service.run()


def judge(concurrency: int, count: int, seconds: float) -> str:
    actual = count / seconds
    ideal = concurrency / (TURNS * TURN_DELAY_S)
    verdict = "" if concurrency == 1 else (
        " (target met)" if actual / ideal >= TARGET else f" (BELOW the {TARGET:.0%} target)")
    return (f"concurrency {concurrency:>2}: {count} jobs in {seconds:.2f} s = {actual:.2f} jobs/s"
            f" vs ideal {ideal:.2f}, {actual / ideal:.0%}{verdict}")


def main() -> None:
    with rig() as bench:
        print(f"moto server, worker and Slack stand-in in 3 processes on {os.cpu_count()} CPUs")
        latencies = measure_overhead(bench)
        p50 = statistics.median(latencies)
        p95 = statistics.quantiles(latencies, n=20)[18]
        print(f"overhead, queue to final answer, instant model, {len(latencies)} jobs: "
              f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
        print(f"throughput, {TURNS} turns x {TURN_DELAY_S} s, moto server:")
        for concurrency in CONCURRENCIES:
            print(f"  {measure_throughput(bench, concurrency)}", flush=True)
        print("throughput, queue and job records in memory in the worker's process:")
        for concurrency in CONCURRENCIES[1:]:
            print(f"  {measure_throughput_in_memory(bench, concurrency)}", flush=True)


def job() -> Job:
    job_id = f"Bench{uuid.uuid4().hex[:12]}"
    return Job(job_id=job_id, source="slack", conversation_id=f"T1:C1:{job_id}",
               user_id="U1", text="how many users signed up each month?",
               reply_to=ReplyTo(kind="slack", team_id="T1", channel="C1",
                                thread_ts=f"1731000000.{uuid.uuid4().int % 10**6:06d}"),
               received_at=utc_now_iso())


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


if __name__ == "__main__":
    if sys.argv[1:2] == ["in-memory"]:
        run_in_memory(int(sys.argv[2]))
    else:
        main()
