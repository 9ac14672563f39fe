"""X-Ray tracing of the ingress Lambdas with Powertools Tracer, loaded only when it is on.

Importing the X-Ray SDK costs about 0.1 s of CPU on a cold start (it builds two botocore
X-Ray clients for centralised sampling, which Lambda never uses), 0.2-0.35 s on the clock at
the Slack function's 512 MB, and the Slack ingress has 3 seconds to answer. So the tracer
is created on the first invocation, and only when tracing is on: POWERTOOLS_TRACE_DISABLED
(set per function by the template's `XRayTracer` parameter) is not true and the code runs
in Lambda, not under `sam local` (Powertools' own rule). Otherwise the SDK is never
imported and nothing here does anything.

When on, each invocation is a `## handler` subsegment (Powertools' ColdStart and Service
annotations, errors as metadata, responses never recorded: they hold questions and
answers), botocore is patched so every DynamoDB and SQS call is a subsegment of its own,
and each job's work is a `## job` subsegment annotated `job_id`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from bot.config import Env

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

TRACE_DISABLED_ENV = "POWERTOOLS_TRACE_DISABLED"
JOB_ANNOTATION = "job_id"
# The AWS calls only: patching every module the SDK knows would import some just to patch them.
PATCHED_MODULES = ("botocore",)

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@functools.cache
def tracer() -> Tracer | None:
    """The process's tracer, or None when tracing is off (the X-Ray SDK stays unloaded)."""
    env = Env()
    in_lambda = env.text("LAMBDA_TASK_ROOT") and not env.text("AWS_SAM_LOCAL")
    if not in_lambda or env.flag(TRACE_DISABLED_ENV):
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(patch_modules=PATCHED_MODULES)


def capture_lambda_handler(handler: Handler) -> Handler:
    """`handler`, recorded as its invocation's subsegment when tracing is on."""

    @functools.wraps(handler)
    def run(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return _captured(handler)(event, context)

    return run


@functools.cache
def _captured(handler: Handler) -> Handler:
    active = tracer()
    if active is None:
        return handler
    captured: Handler = active.capture_lambda_handler(handler, capture_response=False)
    return captured


@contextmanager
def traced_job(job_id: str | None) -> Iterator[None]:
    """The block as a `## job` subsegment annotated with `job_id`, so X-Ray finds a job's
    trace by `annotation.job_id`; a plain block when tracing is off or there is no id."""
    active = tracer()
    if active is None or not job_id:
        yield
        return
    with active.provider.in_subsegment("## job") as subsegment:
        subsegment.put_annotation(JOB_ANNOTATION, job_id)
        yield
