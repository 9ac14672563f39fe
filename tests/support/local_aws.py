"""databot's AWS resources on a local AWS endpoint (moto's server, LocalStack): the jobs
queue with its DLQ, the jobs / conversations / idempotency tables and the results bucket.

Used by `databot dev` (which starts moto's server in-process when no queue is
configured, with `start_moto_server`), by the tests and by the benchmarks.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

REGION = "us-east-1"
# moto and LocalStack accept any credentials; these only keep boto3 from looking further.
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
# boto3 Sessions are not thread-safe; clients made from one are.
_session_lock = threading.Lock()


@dataclass(frozen=True)
class LocalStack:
    # None: AWS's own endpoints (as intercepted in-process by moto's mock_aws).
    endpoint: str | None
    queue_url: str
    dlq_url: str
    dlq_arn: str
    jobs_table: str
    conversations_table: str
    idempotency_table: str
    feedback_table: str
    bucket: str

    @property
    def env(self) -> dict[str, str]:
        """The environment any databot process needs to use these resources."""
        endpoint = {"AWS_ENDPOINT_URL": self.endpoint} if self.endpoint else {}
        return {
            **LOCAL_CREDENTIALS,
            **endpoint,
            "JOBS_QUEUE_URL": self.queue_url,
            "JOBS_TABLE": self.jobs_table,
            "CONVERSATIONS_TABLE": self.conversations_table,
            "IDEMPOTENCY_TABLE": self.idempotency_table,
            "FEEDBACK_TABLE": self.feedback_table,
            "RESULTS_BUCKET": self.bucket,
        }

    def client(self, service: str) -> Any:
        # One shared Session: building one costs ~70 ms, a client from it little.
        with _session_lock:
            return _shared_session().client(service, endpoint_url=self.endpoint)

    def queue_depth(self, queue_url: str | None = None) -> tuple[int, int]:
        """(visible, in flight) messages on the jobs queue (or the given one)."""
        attrs = self.client("sqs").get_queue_attributes(
            QueueUrl=queue_url or self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attrs["ApproximateNumberOfMessages"]),
            int(attrs["ApproximateNumberOfMessagesNotVisible"]),
        )


def local_session() -> Any:
    return boto3.Session(
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )


@functools.cache
def _shared_session() -> Any:
    return local_session()


def start_moto_server() -> tuple[str, Callable[[], None]]:
    """moto's server (a dev dependency; ImportError without it) in this process on a free
    port: its endpoint URL and the function that stops it."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per call
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}", server.stop


def create_stack(
    endpoint: str | None,
    *,
    visibility_timeout_s: int = 60,
    max_receive_count: int = 3,
    prefix: str = "databot",
) -> LocalStack:
    """Create a fresh, uniquely named set of resources at `endpoint`."""
    name = f"{prefix}-{{}}-{uuid.uuid4().hex[:8]}".format
    session = local_session()
    sqs = session.client("sqs", endpoint_url=endpoint)
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)

    dlq_url = sqs.create_queue(QueueName=name("dlq"))["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
    queue_url = sqs.create_queue(
        QueueName=name("jobs"),
        Attributes={
            "VisibilityTimeout": str(visibility_timeout_s),
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]

    # Keys as in DESIGN.md's contract (and template.yaml).
    tables = {
        "jobs": [("job_id", "S", "HASH")],
        "conversations": [("conversation_id", "S", "HASH"), ("turn", "N", "RANGE")],
        "idempotency": [("id", "S", "HASH")],
        "feedback": [("job_id", "S", "HASH"), ("user_id", "S", "RANGE")],
    }
    table_names = {kind: name(kind) for kind in tables}
    for kind, keys in tables.items():
        dynamodb.create_table(
            TableName=table_names[kind],
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": k, "AttributeType": t} for k, t, _ in keys],
            KeySchema=[{"AttributeName": k, "KeyType": key_type} for k, _, key_type in keys],
        )
    bucket = name("results")
    session.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    return LocalStack(
        endpoint=endpoint,
        queue_url=queue_url,
        dlq_url=dlq_url,
        dlq_arn=dlq_arn,
        jobs_table=table_names["jobs"],
        conversations_table=table_names["conversations"],
        idempotency_table=table_names["idempotency"],
        feedback_table=table_names["feedback"],
        bucket=bucket,
    )
