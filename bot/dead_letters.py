"""What happens to a job that landed in the DLQ: the person is told, the failure recorded.

A message reaches the DLQ after `maxReceiveCount` deliveries that all failed passingly
(throttling, outages) or died with their worker. The job is marked failed in
JOBS_TABLE (unless it was answered after all), and the person reads, on the job's
placeholder or in the thread, that the question could not be answered, with the job id
as reference. An answer already in the thread (its worker died before recording it) is
never overwritten: the job is recorded done instead.
"""

from __future__ import annotations

from bot.delivery import Channels, DeliveryError, Unavailable
from bot.job import Job, PoisonMessage, ReplyTo
from bot.job_store import JobStore
from bot.observability import service_logger

logger = service_logger()

GAVE_UP = (
    "Sorry, I could not answer this question: it failed several times. Please try again later."
)
FAILURE_REASON = "gave up after repeated failures (dead-letter queue)"


def notify_dead_letter(body: str, message_id: str, *, jobs: JobStore, channels: Channels) -> None:
    """Record and announce one dead-lettered job. The platform being unavailable raises
    (the Lambda retries the record); any other refusal is only logged."""
    try:
        job = Job.from_json(body)
    except PoisonMessage as e:
        logger.error("message_id=<%s> | dead-lettered poison message: %s", message_id, e)
        _tell(channels, e.reply_to, message_id)
        return
    # Read only for the placeholder: mark_failed itself refuses a job that is done, even
    # one a worker finished after this read.
    record = jobs.get(job.job_id)
    channel = channels.for_kind(job.reply_to.kind)
    if record is not None and channel.answer_is_out(job, record):
        logger.info("job_id=<%s> | dead-lettered after its answer went out: recorded done",
                    job.job_id)
        jobs.mark_done(job.job_id, None)
        return
    if not jobs.mark_failed(job.job_id, FAILURE_REASON, source=job.source):
        logger.info("job_id=<%s> | dead-lettered but already answered", job.job_id)
        return
    logger.error("job_id=<%s> | dead-lettered: marked failed", job.job_id)
    _tell(channels, job.reply_to if record is None else record.replies_to(job), job.job_id)


def _tell(channels: Channels, to: ReplyTo | None, ref: str) -> None:
    try:
        channels.tell(to, GAVE_UP, ref)
    except Unavailable:
        raise
    except DeliveryError as e:
        # Retrying cannot fix a refusal (not_in_channel, invalid_blocks, not_authed...).
        logger.error("ref=<%s> | cannot tell the person: %s", ref, e)
