"""The HTTP prompt API: POST /prompt queues a job, GET /prompt/{job_id} reports on it."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bot.answer import Answer, Table
from bot.ingress.enqueue import EnqueueFailed
from bot.job import Job
from bot.job_store import DONE, FAILED, QUEUED, JobStore
from tests.support.events import load_event
from tests.support.ingress import IngressStack


def post(body: str | bytes | None, *, base64_body: bool = False) -> dict[str, Any]:
    event = load_event("prompt_post")
    if body is None:
        event.pop("body", None)
    elif base64_body:
        raw = body.encode() if isinstance(body, str) else body
        event["body"] = base64.b64encode(raw).decode()
        event["isBase64Encoded"] = True
    else:
        event["body"] = body
    return event


def get(job_id: str) -> dict[str, Any]:
    event = load_event("prompt_get")
    event["rawPath"] = f"/prompt/{job_id}"
    event["requestContext"]["http"]["path"] = f"/prompt/{job_id}"
    event["pathParameters"] = {"job_id": job_id}
    return event


def body_of(response: dict[str, Any]) -> dict[str, Any]:
    assert response["headers"]["content-type"] == "application/json"
    payload: dict[str, Any] = json.loads(response["body"])
    return payload


def mark(stack: IngressStack, job_id: str, status: str, **attrs: str) -> None:
    """What the worker does to the job's item (its transitions live in the worker)."""
    names = {"#status": "status", **{f"#{k}": k for k in attrs}}
    values = {":status": {"S": status}, **{f":{k}": {"S": v} for k, v in attrs.items()}}
    sets = ", ".join(["#status = :status", *(f"#{k} = :{k}" for k in attrs)])
    stack.aws.dynamodb.update_item(
        TableName=stack.ingress.jobs.table,
        Key={"job_id": {"S": job_id}},
        UpdateExpression=f"SET {sets}",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def test_post_queues_an_api_job_and_answers_202_with_a_status_url(
    ingress_stack: IngressStack,
) -> None:
    response = ingress_stack.prompt_api().handle(load_event("prompt_post"))

    assert response["statusCode"] == 202
    payload = body_of(response)
    job_id = payload["job_id"]
    assert uuid.UUID(job_id).version == 4
    assert payload["status"] == "queued"
    assert payload["status_url"] == (
        f"https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prompt/{job_id}"
    )
    [job] = ingress_stack.queued_jobs()
    assert job.job_id == job_id
    assert job.source == "api"
    assert job.reply_to.kind == "api"
    assert job.text == "how many users signed up each month?"
    assert job.user_id == "arn:aws:sts::123456789012:assumed-role/reporting/reporting"
    assert Job.from_json(job.to_json()) == job


def test_get_reports_queued_then_the_answer_once_done(ingress_stack: IngressStack) -> None:
    api = ingress_stack.prompt_api()
    job_id = body_of(api.handle(load_event("prompt_post")))["job_id"]

    queued = body_of(api.handle(get(job_id)))
    assert queued == {"job_id": job_id, "status": QUEUED, "answer": None, "error": None}

    answer = Answer(
        text="1,234 users signed up in October.",
        sql=["SELECT 1"],
        table=Table(columns=["month", "users"], rows=[["2026-10", 1234]], total_rows=1),
    )
    mark(ingress_stack, job_id, DONE, answer=json.dumps(answer.to_dict()))
    done = api.handle(get(job_id))

    assert done["statusCode"] == 200
    payload = body_of(done)
    assert payload["status"] == DONE
    assert Answer.from_dict(payload["answer"]) == answer


def test_get_reports_a_failure_with_its_message(ingress_stack: IngressStack) -> None:
    api = ingress_stack.prompt_api()
    job_id = body_of(api.handle(load_event("prompt_post")))["job_id"]
    mark(ingress_stack, job_id, FAILED, error="something went wrong (ref x)")

    payload = body_of(api.handle(get(job_id)))

    assert (payload["status"], payload["error"]) == (FAILED, "something went wrong (ref x)")


def test_the_prompt_is_trimmed_and_a_base64_body_is_read(ingress_stack: IngressStack) -> None:
    response = ingress_stack.prompt_api().handle(
        post(json.dumps({"prompt": "  revenue by country \n"}), base64_body=True)
    )

    assert response["statusCode"] == 202
    assert [job.text for job in ingress_stack.queued_jobs()] == ["revenue by country"]


def test_a_named_stage_keeps_its_prefix_in_the_status_url(ingress_stack: IngressStack) -> None:
    event = load_event("prompt_post")
    event["rawPath"] = "/prod/prompt"

    payload = body_of(ingress_stack.prompt_api().handle(event))

    assert payload["status_url"].endswith(f"/prod/prompt/{payload['job_id']}")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "request body is not valid JSON"),
        (None, "request body is not valid JSON"),
        ("[1, 2]", 'non-empty "prompt" string'),
        ("{}", 'non-empty "prompt" string'),
        ('{"prompt": ""}', 'non-empty "prompt" string'),
        ('{"prompt": "   "}', 'non-empty "prompt" string'),
        ('{"prompt": 42}', 'non-empty "prompt" string'),
        (json.dumps({"prompt": "x" * 4001}), "4,001 characters long; the limit is 4,000"),
    ],
)
def test_bad_requests_get_400_with_a_json_error_and_queue_nothing(
    ingress_stack: IngressStack, body: str | None, message: str
) -> None:
    response = ingress_stack.prompt_api().handle(post(body))

    assert response["statusCode"] == 400
    assert message in body_of(response)["error"]
    assert ingress_stack.queued_jobs() == []


def test_an_oversized_body_is_refused_before_it_is_parsed(ingress_stack: IngressStack) -> None:
    body = json.dumps({"prompt": "how many users?", "padding": "x" * 2000})
    response = ingress_stack.prompt_api(max_body_bytes=1024).handle(post(body))

    assert response["statusCode"] == 400
    assert body_of(response)["error"] == (
        f"request body is {len(body):,} bytes; the limit is 1,024"
    )
    assert ingress_stack.queued_jobs() == []


def test_a_body_that_is_not_base64_is_400(ingress_stack: IngressStack) -> None:
    event = post("this is not base64!")
    event["isBase64Encoded"] = True

    response = ingress_stack.prompt_api().handle(event)

    assert response["statusCode"] == 400
    assert "base64" in body_of(response)["error"]


def test_an_unknown_job_id_is_404(ingress_stack: IngressStack) -> None:
    response = ingress_stack.prompt_api().handle(get(str(uuid.uuid4())))

    assert response["statusCode"] == 404
    assert body_of(response)["error"].startswith("no job ")


def test_a_malformed_job_id_is_400(ingress_stack: IngressStack) -> None:
    response = ingress_stack.prompt_api().handle(get("Ev08ABCDEF"))

    assert response["statusCode"] == 400
    assert "must be a UUID" in body_of(response)["error"]


def test_jobs_from_slack_are_not_shown(ingress_stack: IngressStack) -> None:
    job_id = str(uuid.uuid4())
    store = ingress_stack.job_store()
    api_job = Job.from_json(
        json.dumps(
            {
                "version": 1,
                "job_id": job_id,
                "source": "slack",
                "conversation_id": "T1:C1:1.2",
                "user_id": "U1",
                "text": "q",
                "reply_to": {"kind": "slack", "channel": "C1"},
                "received_at": "2026-11-21T18:00:00Z",
            }
        )
    )
    store.put_queued(api_job)

    assert ingress_stack.prompt_api().handle(get(job_id))["statusCode"] == 404


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/prompt", 405), ("DELETE", "/prompt/x", 405), ("POST", "/elsewhere", 404)],
)
def test_other_routes_and_methods(
    ingress_stack: IngressStack, method: str, path: str, status: int
) -> None:
    event = load_event("prompt_post")
    event["requestContext"]["http"]["method"] = method
    event["rawPath"] = path

    response = ingress_stack.prompt_api().handle(event)

    assert response["statusCode"] == status
    assert body_of(response)["error"]


def test_sqs_failure_is_503_and_leaves_no_queued_record(ingress_stack: IngressStack) -> None:
    class DownQueue:
        def send(self, job: Job) -> None:
            raise EnqueueFailed("SQS is unavailable")

    job_id = "3f6c1a2e-9b4d-4e7f-8a15-0c2d9e6b7a41"
    api = ingress_stack.prompt_api(queue=DownQueue(), new_job_id=lambda: job_id)

    response = api.handle(load_event("prompt_post"))

    assert response["statusCode"] == 503
    assert "please retry" in body_of(response)["error"]
    assert ingress_stack.job_store().get(job_id) is None


def test_jobs_table_down_is_503_and_queues_nothing(ingress_stack: IngressStack) -> None:
    api = ingress_stack.prompt_api(jobs=ingress_stack.job_store("no-such-table"))

    response = api.handle(load_event("prompt_post"))

    assert response["statusCode"] == 503
    assert ingress_stack.queued_jobs() == []


def test_sqs_and_jobs_table_failing_together_is_still_a_json_503(
    ingress_stack: IngressStack,
) -> None:
    class DownQueue:
        def send(self, job: Job) -> None:
            raise EnqueueFailed("SQS is unavailable")

    class DeleteFails(JobStore):
        def delete(self, job_id: str) -> None:
            raise ClientError(
                {"Error": {"Code": "InternalServerError", "Message": "down"}}, "DeleteItem"
            )

    jobs = DeleteFails(str(ingress_stack.ingress.jobs.table), client=ingress_stack.aws.dynamodb)
    api = ingress_stack.prompt_api(queue=DownQueue(), jobs=jobs)

    response = api.handle(load_event("prompt_post"))

    assert response["statusCode"] == 503
    assert "please retry" in body_of(response)["error"]


# ---- a job is shown only to the caller that created it ------------------------------------

REPORTING = "arn:aws:sts::123456789012:assumed-role/reporting/reporting"
OTHER_ROLE = "arn:aws:sts::123456789012:assumed-role/marketing/marketing"
OTHER_SESSION = "arn:aws:sts::123456789012:assumed-role/reporting/someone-else"


def as_caller(event: dict[str, Any], user_arn: str | None) -> dict[str, Any]:
    """The event with API Gateway's IAM identity replaced (None: no identity at all)."""
    if user_arn is None:
        event["requestContext"].pop("authorizer", None)
    else:
        event["requestContext"]["authorizer"]["iam"]["userArn"] = user_arn
    return event


def test_the_creator_is_recorded_as_the_jobs_owner(ingress_stack: IngressStack) -> None:
    job_id = body_of(ingress_stack.prompt_api().handle(load_event("prompt_post")))["job_id"]

    record = ingress_stack.job_store().get(job_id)

    assert record is not None
    assert record.owner == REPORTING


@pytest.mark.parametrize("other", [OTHER_ROLE, OTHER_SESSION, None, ""])
def test_another_caller_gets_the_same_404_as_for_an_unknown_job(
    ingress_stack: IngressStack, other: str | None
) -> None:
    # GIVEN a job created by the reporting role
    api = ingress_stack.prompt_api()
    job_id = body_of(api.handle(load_event("prompt_post")))["job_id"]
    assert api.handle(get(job_id))["statusCode"] == 200

    # WHEN another principal (or a request without an identity) asks for it
    response = api.handle(as_caller(get(job_id), other))

    # THEN it looks exactly like a job that does not exist
    unknown_id = str(uuid.uuid4())
    unknown = api.handle(get(unknown_id))
    assert response["statusCode"] == unknown["statusCode"] == 404
    assert response["headers"] == unknown["headers"]
    assert body_of(response) == {"error": f"no job {job_id}"}
    assert body_of(unknown) == {"error": f"no job {unknown_id}"}


def test_each_caller_sees_only_its_own_jobs(ingress_stack: IngressStack) -> None:
    # GIVEN two principals that each submitted a prompt
    api = ingress_stack.prompt_api()
    mine = body_of(api.handle(load_event("prompt_post")))["job_id"]
    theirs = body_of(api.handle(as_caller(load_event("prompt_post"), OTHER_ROLE)))["job_id"]

    # THEN each reads its own job and not the other's
    statuses = {
        (caller, job): api.handle(as_caller(get(job), caller))["statusCode"]
        for caller in (REPORTING, OTHER_ROLE)
        for job in (mine, theirs)
    }
    assert statuses == {
        (REPORTING, mine): 200,
        (REPORTING, theirs): 404,
        (OTHER_ROLE, mine): 404,
        (OTHER_ROLE, theirs): 200,
    }


def test_a_job_recorded_without_an_owner_is_shown_to_no_one(ingress_stack: IngressStack) -> None:
    # GIVEN an API job item written without an owner (before owners were recorded)
    job_id = str(uuid.uuid4())
    job = Job.from_json(
        json.dumps(
            {
                "version": 1,
                "job_id": job_id,
                "source": "api",
                "conversation_id": f"api:{job_id}",
                "user_id": REPORTING,
                "text": "q",
                "reply_to": {"kind": "api"},
                "received_at": "2026-11-21T18:00:00Z",
            }
        )
    )
    ingress_stack.job_store().put_queued(job)

    # THEN not even the caller named in it can read it
    assert ingress_stack.prompt_api().handle(get(job_id))["statusCode"] == 404


def test_a_prompt_without_a_caller_identity_is_refused(ingress_stack: IngressStack) -> None:
    response = ingress_stack.prompt_api().handle(as_caller(load_event("prompt_post"), None))

    assert response["statusCode"] == 403
    assert "IAM caller identity" in body_of(response)["error"]
    assert ingress_stack.queued_jobs() == []


def test_a_deeply_nested_prompt_body_is_400(ingress_stack: IngressStack) -> None:
    response = ingress_stack.prompt_api(max_body_bytes=100_000).handle(post("[" * 50_000))

    assert response["statusCode"] == 400
    assert ingress_stack.queued_jobs() == []
