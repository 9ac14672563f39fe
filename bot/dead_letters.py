"""What happens to a job that landed in the DLQ: the person is told, the failure recorded.

A message reaches the DLQ after `maxReceiveCount` deliveries that all failed passingly
(throttling, outages) or died with their worker. The job is marked failed in
JOBS_TABLE (unless it was answered after all), and the person reads, on the job's
placeholder or in the thread, that the question could not be answered, with the job id
as reference. An answer already in the thread (its worker died before recording it) is
never overwritten: the job is recorded done instead.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

from bot.job import Job, PoisonMessage, ReplyTo
from bot.job_store import JobRecord, JobStore
from bot.slack.render import error_message
from bot.slack.replier import (
    ChannelUnreachable,
    ReplyError,
    SlackReplier,
    SlackUnavailable,
    Thread,
    find_marked,
)

logger = Logger(service="databot")

GAVE_UP = (
    "Sorry, I could not answer this question: it failed several times. Please try again later."
)
FAILURE_REASON = "gave up after repeated failures (dead-letter queue)"


def notify_dead_letter(
    body: str, message_id: str, *, jobs: JobStore, replier: SlackReplier | None
) -> None:
    """Record and announce one dead-lettered job. Slack being unavailable raises (the
    Lambda retries the record); any other Slack refusal is only logged."""
    try:
        job = Job.from_json(body)
    except PoisonMessage as e:
        logger.error("message_id=<%s> | dead-lettered poison message: %s", message_id, e)
        _tell(replier, e.reply_to, message_id, None)
        return
    # Read only for the placeholder: mark_failed itself refuses a job that is done, even
    # one a worker finished after this read.
    record = jobs.get(job.job_id)
    if record is not None and replier is not None and _answer_is_out(replier, job, record):
        logger.info("job_id=<%s> | dead-lettered after its answer went out: recorded done",
                    job.job_id)
        jobs.mark_done(job.job_id, None)
        return
    if not jobs.mark_failed(job.job_id, FAILURE_REASON, source=job.source):
        logger.info("job_id=<%s> | dead-lettered but already answered", job.job_id)
        return
    logger.error("job_id=<%s> | dead-lettered: marked failed", job.job_id)
    placeholder = None
    if record is not None and record.placeholder_channel and record.placeholder_ts:
        placeholder = (record.placeholder_channel, record.placeholder_ts)
    _tell(replier, job.reply_to, job.job_id, placeholder)


def _answer_is_out(replier: SlackReplier, job: Job, record: JobRecord) -> bool:
    """Whether a worker put the job's answer in its thread (a marked message). Slack being
    unavailable raises; a thread the bot cannot read counts as no answer."""
    thread_ts = record.reply_thread_ts or job.reply_to.thread_ts
    if record.finished or record.claims == 0 or not thread_ts:
        return False
    channel = record.placeholder_channel or str(job.reply_to.channel)
    try:
        posted = replier.scan(Thread(channel, thread_ts))
    except ChannelUnreachable as e:
        logger.warning("job_id=<%s> | cannot read the thread back: %s", job.job_id, e)
        return False
    return find_marked(posted, job.job_id, "answer") is not None


def _tell(
    replier: SlackReplier | None,
    reply_to: ReplyTo | None,
    ref: str,
    placeholder: tuple[str, str] | None,
) -> None:
    if reply_to is None or reply_to.kind != "slack":
        return
    if replier is None:
        logger.error("ref=<%s> | cannot tell the person: no Slack token configured", ref)
        return
    try:
        replier.notify(reply_to, error_message(GAVE_UP, ref), placeholder=placeholder)
    except SlackUnavailable:
        raise
    except ReplyError as e:
        # Retrying cannot fix a refusal (not_in_channel, invalid_blocks, not_authed...).
        logger.error("ref=<%s> | cannot tell the person in channel=<%s>: %s", ref,
                     reply_to.channel, e)
