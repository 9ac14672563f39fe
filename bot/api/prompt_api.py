"""The plain HTTP API for clients other than chat: `POST /prompt` queues a job,
`GET /prompt/{job_id}` reports its status and, once done, the Answer as JSON.

Authentication is API Gateway's (IAM); this code trusts the caller it is handed
(`requestContext.authorizer.iam.userArn`). A job is shown only to the caller that created
it: the ARN is recorded on the job at `POST` and compared at `GET`, and any other caller,
or one without an identity, gets the same 404 as for an unknown id, so a job's existence
is not revealed either.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.config import Env
from bot.ingress.config import IngressConfig
from bot.ingress.enqueue import EnqueueFailed, JobQueue, SqsJobQueue
from bot.ingress.http_events import BadEvent, HttpRequest, json_response, parse_http_event
from bot.ingress.metrics import ENQUEUE_FAILURES, EVENTS_RECEIVED, EVENTS_REFUSED, count
from bot.job import Job, ReplyTo, utc_now_iso
from bot.job_store import QUEUED, JobStore
from bot.observability import correlated, service_logger
from bot.questions import length_problem

logger = service_logger()

RESOURCE = "prompt"


class PromptApi:
    def __init__(
        self,
        config: IngressConfig,
        *,
        queue: JobQueue,
        jobs: JobStore,
        new_job_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._config = config
        self._queue = queue
        self._jobs = jobs
        self._new_job_id = new_job_id

    @classmethod
    def from_env(cls, env: Env) -> PromptApi:
        """The API the environment describes: the prompt Lambda's one settings read."""
        config = IngressConfig.from_env(env)
        config.jobs.require()
        return cls(
            config,
            queue=SqsJobQueue(str(config.jobs.queue_url)),
            jobs=JobStore(str(config.jobs.table), ttl_days=config.jobs.ttl_days),
        )

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        try:
            request = parse_http_event(event)
        except BadEvent as e:
            return _error(400, str(e))
        route = _route(request)
        if route is None:
            return _error(404, f"no such resource: {request.path}")
        collection, job_id = route
        if job_id is None and request.method == "POST":
            return self.submit(request, collection)
        if job_id is not None and request.method == "GET":
            with correlated(logger, job_id):
                return self.status(job_id, _caller(request))
        return _error(405, f"{request.method} is not supported on {request.path}")

    def submit(self, request: HttpRequest, collection: str) -> dict[str, Any]:
        count(EVENTS_RECEIVED)
        caller = _caller(request)
        if caller is None:
            count(EVENTS_REFUSED)
            logger.warning("refused a prompt without an IAM caller identity")
            return _error(403, "the request carries no IAM caller identity")
        limit = self._config.max_body_bytes
        if request.body_bytes > limit:
            return _error(
                400, f"request body is {request.body_bytes:,} bytes; the limit is {limit:,}"
            )
        try:
            payload = json.loads(request.text())
        except BadEvent as e:
            return _error(400, str(e))
        except ValueError as e:
            return _error(400, f"request body is not valid JSON: {e}")
        except RecursionError:
            return _error(400, "request body is not valid JSON: it nests too deeply")
        prompt = payload.get("prompt") if isinstance(payload, dict) else None
        if not isinstance(prompt, str) or not prompt.strip():
            return _error(400, 'the body must be a JSON object with a non-empty "prompt" string')
        prompt = prompt.strip()
        problem = length_problem(prompt, self._config.max_question_chars)
        if problem:
            return _error(400, problem)

        job_id = self._new_job_id()
        with correlated(logger, job_id):
            return self._queue_job(job_id, caller, prompt, request, collection)

    def _queue_job(
        self, job_id: str, caller: str, prompt: str, request: HttpRequest, collection: str
    ) -> dict[str, Any]:
        job = Job(
            job_id=job_id,
            source="api",
            conversation_id=f"api:{job_id}",
            user_id=caller,
            text=prompt,
            reply_to=ReplyTo(kind="api"),
            received_at=utc_now_iso(),
        )
        try:
            self._jobs.put_queued(job, owner=caller)
        except (ClientError, BotoCoreError):
            count(ENQUEUE_FAILURES)
            logger.exception("job_id=<%s> | jobs table unavailable", job_id)
            return _error(503, "the job could not be recorded; please retry")
        try:
            self._queue.send(job)
        except EnqueueFailed:
            count(ENQUEUE_FAILURES)
            logger.exception("job_id=<%s> | not queued", job_id)
            try:
                self._jobs.delete(job_id)
            except (ClientError, BotoCoreError):
                # The caller retries with a new job id; this one stays "queued" until its TTL.
                logger.exception("job_id=<%s> | queued record not deleted", job_id)
            return _error(503, "the job could not be queued; please retry")
        logger.info("job_id=<%s> | queued from the prompt API", job_id)
        status_url = f"{collection}/{job_id}"
        if request.domain:
            status_url = f"https://{request.domain}{status_url}"
        return json_response(202, {"job_id": job_id, "status": QUEUED, "status_url": status_url})

    def status(self, job_id: str, caller: str | None) -> dict[str, Any]:
        if not _is_uuid(job_id):
            return _error(400, f"job id must be a UUID, got {job_id!r}")
        try:
            record = self._jobs.get(job_id)
        except (ClientError, BotoCoreError):
            logger.exception("job_id=<%s> | jobs table unavailable", job_id)
            return _error(503, "job status is unavailable; please retry")
        # Jobs from Slack share the table; they are not this API's to show.
        if record is None or record.source != "api":
            return _error(404, f"no job {job_id}")
        if caller is None or record.owner != caller:
            logger.info("job_id=<%s> | status asked by a caller other than its owner", job_id)
            return _error(404, f"no job {job_id}")
        return json_response(
            200,
            {
                "job_id": record.job_id,
                "status": record.status,
                "answer": record.answer,
                "error": record.error,
            },
        )


def _route(request: HttpRequest) -> tuple[str, str | None] | None:
    """(the collection's path, the job id or None) for `/…/prompt` and `/…/prompt/{id}`."""
    parts = request.path.rstrip("/").split("/")
    if parts[-1] == RESOURCE:
        return "/".join(parts), None
    if len(parts) >= 2 and parts[-2] == RESOURCE:
        job_id = request.path_parameters.get("job_id") or parts[-1]
        return "/".join(parts[:-1]), job_id
    return None


def _caller(request: HttpRequest) -> str | None:
    """The IAM ARN API Gateway authenticated (HTTP API payload 2.0), or None. The full ARN:
    for an assumed role it names the session too (an Identity Center user's is their name)."""
    authorizer = request.request_context.get("authorizer")
    iam = authorizer.get("iam") if isinstance(authorizer, dict) else None
    arn = iam.get("userArn") if isinstance(iam, dict) else None
    return arn if isinstance(arn, str) and arn else None


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _error(status: int, message: str) -> dict[str, Any]:
    return json_response(status, {"error": message})
