"""What the front doors count, as CloudWatch EMF (Powertools Metrics): questions received,
duplicate deliveries, refusals (allow-lists, other organisations), jobs that could not be
queued, and the 👍/👎 votes given answers.

The namespace is POWERTOOLS_METRICS_NAMESPACE and the dimension service=<service_name()>
(`slack-ingress`, `prompt-api` in the stack). Each Lambda handler flushes them once per
invocation with `@metrics.log_metrics`, as one JSON line on stdout: no network call on the
ack path. Without a namespace (tests, `databot dev`) nothing is counted.
"""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from bot.observability import service_name

EVENTS_RECEIVED = "EventsReceived"
DUPLICATE_EVENTS = "DuplicateEvents"
EVENTS_REFUSED = "EventsRefused"
ENQUEUE_FAILURES = "EnqueueFailures"
FEEDBACK_UP = "FeedbackUp"
FEEDBACK_DOWN = "FeedbackDown"
INGRESS_METRICS = (EVENTS_RECEIVED, DUPLICATE_EVENTS, EVENTS_REFUSED, ENQUEUE_FAILURES,
                   FEEDBACK_UP, FEEDBACK_DOWN)

metrics = Metrics(service=service_name())


def count(name: str) -> None:
    if metrics.provider.namespace:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
