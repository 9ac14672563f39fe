"""Retry or reply: what a job's failure means, decided by the exception's class alone.

- transient (TransientError, a chat platform throttling or failing after the client's
  retries, AWS throttling / 5xx / connection errors): the message comes back after an
  exponential back-off, until the queue's maxReceiveCount sends it to the DLQ;
- permanent (UserFacingError, BudgetExceeded, no channel for the job's platform): the
  person reads the message; job done;
- unreachable (the bot cannot write to the conversation): logged; the channel answered
  another way where it could (a slash command's response_url);
- unexpected (anything else, a bug): retried on the next delivery while the receive count
  is below `unexpected_attempts`, because a crash can come from a passing cause nobody
  classified; then answered "something went wrong (ref <job_id>)" so the person is not
  left waiting and an expensive model loop is not repeated on a deterministic bug.
"""

from __future__ import annotations

import enum

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from bot.delivery import NoChannel, Unavailable, Unreachable
from executor.errors import BudgetExceeded, TransientError, UserFacingError

AWS_TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "TooManyRequestsException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalServerError",
        "InternalFailure",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
# SQS caps a message's visibility timeout at 12 hours.
SQS_MAX_VISIBILITY_S = 12 * 3600


class Verdict(enum.Enum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    UNREACHABLE = "unreachable"
    UNEXPECTED = "unexpected"


def classify(error: BaseException) -> Verdict:
    if isinstance(error, TransientError | Unavailable | ConnectionError | HTTPClientError):
        return Verdict.TRANSIENT
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in AWS_TRANSIENT_CODES or status >= 500:
            return Verdict.TRANSIENT
        return Verdict.UNEXPECTED
    if isinstance(error, UserFacingError | BudgetExceeded | NoChannel):
        return Verdict.PERMANENT
    if isinstance(error, Unreachable):
        return Verdict.UNREACHABLE
    return Verdict.UNEXPECTED


def backoff_s(receive_count: int, *, base_s: int, max_s: int) -> int:
    """The visibility delay before delivery `receive_count + 1`: base × 2^(n-1), capped."""
    delay = base_s * 2 ** max(receive_count - 1, 0)
    return int(min(delay, max_s, SQS_MAX_VISIBILITY_S))


def user_message(error: BaseException, verdict: Verdict, job_id: str) -> str:
    """What the person reads for a failure that ends the job."""
    if isinstance(error, BudgetExceeded):
        return f"I could not finish this within the job's limits: {error}"
    if verdict is Verdict.PERMANENT:
        return str(error)
    return f"Something went wrong while answering this (ref {job_id})."
