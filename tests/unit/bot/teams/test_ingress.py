"""The Teams front door's request path on moto (SQS, DynamoDB) and the local key endpoint:
who is let in, what is queued, what a card action records, what is refused and how."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import pytest

from bot.feedback import UP
from bot.job import GREETING, RETIRE, VERIFY, Job, ReplyTo
from bot.job_store import JobsConfig
from bot.review import Proposal
from bot.teams.activities import ADAPTIVE_CARD_ACTION, NOTICE, CardAction
from bot.teams.ingress import (
    HOW_TO_ASK,
    REVIEWERS_ONLY,
    THANKS,
    TeamsIngress,
    invoke_response,
)
from bot.teams.local_keys import LocalSigningKey
from tests.support.events import load_event
from tests.support.ingress import IngressStack
from tests.support.teams_auth import APP_ID, BOT_ID, TENANT_ID, KeyEndpoint, activity

AAD_ID = "6f1c0b8e-0d4a-4a8e-9f3e-1b2c3d4e5f60"
REVIEWER = frozenset({AAD_ID})


@pytest.fixture
def front_door(ingress_stack: IngressStack, key_endpoint: KeyEndpoint) -> TeamsIngress:
    return ingress_stack.teams(key_endpoint.metadata_url, app_id=APP_ID)


def body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def test_a_signed_channel_mention_is_queued_and_acknowledged(
    front_door: TeamsIngress, ingress_stack: IngressStack, key_endpoint: KeyEndpoint
) -> None:
    response = front_door.handle(key_endpoint.signed("teams_message"))

    assert (response["statusCode"], body(response)) == (200, {})
    (job,) = ingress_stack.queued_jobs()
    assert (job.source, job.text, job.user_id) == (
        "teams", "how many users signed up each month?", AAD_ID)
    assert job.reply_to.kind == "teams"


def test_a_function_url_event_with_a_base64_body_is_read_the_same(
    front_door: TeamsIngress, ingress_stack: IngressStack, key_endpoint: KeyEndpoint
) -> None:
    event = key_endpoint.signed("teams_message")
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True

    assert front_door.handle(event)["statusCode"] == 200
    assert len(ingress_stack.queued_jobs()) == 1


def test_a_retried_activity_queues_one_job(
    front_door: TeamsIngress, ingress_stack: IngressStack, key_endpoint: KeyEndpoint
) -> None:
    # WHEN Bot Framework delivers the same activity twice (each with its own token)
    statuses = [front_door.handle(key_endpoint.signed("teams_message"))["statusCode"]
                for _ in range(2)]

    # THEN both are acknowledged and one job is queued
    assert statuses == [200, 200]
    assert len(ingress_stack.queued_jobs()) == 1


@pytest.mark.parametrize(
    "change",
    [
        "no token",
        "bad signature",
        "wrong issuer",
        "wrong audience",
        "expired",
        "serviceurl mismatch",
        "unknown kid",
    ],
)
def test_requests_not_from_bot_framework_for_this_bot_get_401_and_nothing_is_done(
    front_door: TeamsIngress, ingress_stack: IngressStack, key_endpoint: KeyEndpoint,
    change: str,
) -> None:
    event = {
        "no token": lambda: {**key_endpoint.signed("teams_message"), "headers": {}},
        "wrong issuer": lambda: key_endpoint.signed("teams_message", issuer="https://x.test"),
        "wrong audience": lambda: key_endpoint.signed("teams_message", app_id="other-bot"),
        "expired": lambda: key_endpoint.signed("teams_message", now=0),
        "serviceurl mismatch": lambda: key_endpoint.signed(
            "teams_message", service_url="https://evil.example.com/"),
        "bad signature": lambda: _signed_by(
            LocalSigningKey(key_endpoint.key.kid, LocalSigningKey.generate().private_pem)),
        "unknown kid": lambda: _signed_by(
            LocalSigningKey("never-published", key_endpoint.key.private_pem)),
    }[change]()

    response = front_door.handle(event)

    assert (response["statusCode"], body(response)) == (401, {"error": "unauthorized"})
    assert ingress_stack.queued_jobs() == []


def _signed_by(key: LocalSigningKey) -> dict[str, Any]:
    event = load_event("teams_message")
    token = key.token(app_id=APP_ID, service_url=json.loads(event["body"])["serviceUrl"])
    return {**event, "headers": {**event["headers"], "authorization": f"Bearer {token}"}}


def test_tenants_outside_the_allowlist_and_other_channels_get_401(
    ingress_stack: IngressStack, key_endpoint: KeyEndpoint
) -> None:
    door = ingress_stack.teams(key_endpoint.metadata_url, app_id=APP_ID,
                               tenant_ids=frozenset({"another-tenant"}))
    allowed = ingress_stack.teams(key_endpoint.metadata_url, app_id=APP_ID,
                                  tenant_ids=frozenset({TENANT_ID}))

    assert door.handle(key_endpoint.signed("teams_message"))["statusCode"] == 401
    assert allowed.handle(
        key_endpoint.signed(activity(channelId="webchat")))["statusCode"] == 401
    assert ingress_stack.queued_jobs() == []
    assert allowed.handle(key_endpoint.signed("teams_message"))["statusCode"] == 200
    typing = activity(type="typing")
    assert allowed.handle(key_endpoint.signed(typing))["statusCode"] == 200
    assert door.handle(key_endpoint.signed(typing))["statusCode"] == 401


def test_a_channel_message_without_the_bots_mention_is_ignored(
    front_door: TeamsIngress, ingress_stack: IngressStack, key_endpoint: KeyEndpoint
) -> None:
    response = front_door.handle(key_endpoint.signed(activity(text="just chatting",
                                                              entities=[])))

    assert response["statusCode"] == 200
    assert ingress_stack.queued_jobs() == []


def test_personal_chat_messages_need_no_mention(
    front_door: TeamsIngress, ingress_stack: IngressStack, key_endpoint: KeyEndpoint
) -> None:
    chat = activity(text="users by country", entities=[],
                    conversation={"conversationType": "personal", "id": "a:1xYz"})

    assert front_door.handle(key_endpoint.signed(chat))["statusCode"] == 200

    (job,) = ingress_stack.queued_jobs()
    assert job.text == "users by country"
    assert job.reply_to.conversation_id == "a:1xYz"
    assert job.conversation_id == f"teams:{TENANT_ID}:a:1xYz"


@pytest.mark.parametrize(
    ("text", "notice"),
    [("<at>databot</at>", HOW_TO_ASK),
     ("<at>databot</at> " + "x" * 4001, "Sorry, the question is 4,001 characters long; "
                                        "the limit is 4,000.")],
)
def test_an_empty_or_too_long_question_queues_a_notice_for_the_worker_to_post(
    front_door: TeamsIngress, ingress_stack: IngressStack, key_endpoint: KeyEndpoint,
    text: str, notice: str,
) -> None:
    front_door.handle(key_endpoint.signed(activity(text=text)))

    (job,) = ingress_stack.queued_jobs()
    assert (job.kind, job.text, job.context) == (GREETING, "", {NOTICE: notice})
    assert job.reply_to.activity_id == "1731000000123"


def test_a_personal_install_queues_one_greeting(
    front_door: TeamsIngress, ingress_stack: IngressStack, key_endpoint: KeyEndpoint
) -> None:
    chat = {"conversationType": "personal", "id": "a:1xYz", "tenantId": TENANT_ID}
    install = activity(type="installationUpdate", action="add", text="", entities=[],
                       conversation=chat)
    joined = activity(type="conversationUpdate", id="f:2", membersAdded=[{"id": BOT_ID}],
                      conversation=chat)

    statuses = [front_door.handle(key_endpoint.signed(a))["statusCode"]
                for a in (install, joined)]

    assert statuses == [200, 200]
    (job,) = ingress_stack.queued_jobs()
    assert (job.kind, job.context, job.reply_to.conversation_id) == (GREETING, None, "a:1xYz")


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "installationUpdate", "action": "add"},  # added to a team
        {"type": "conversationUpdate", "membersAdded": [{"id": "29:newcomer"}]},
        {"type": "messageReaction"},
        {"type": "typing"},
        {"type": "invoke", "name": "composeExtension/query", "value": {}},
    ],
)
def test_other_activities_are_acknowledged_and_ignored(
    front_door: TeamsIngress, ingress_stack: IngressStack, key_endpoint: KeyEndpoint,
    fields: dict[str, Any],
) -> None:
    response = front_door.handle(key_endpoint.signed(activity(**fields)))

    assert (response["statusCode"], body(response)) == (200, {})
    assert ingress_stack.queued_jobs() == []


def press(data: dict[str, Any], *, user: str = AAD_ID) -> dict[str, Any]:
    """An Action.Execute press by `user` on the answer card posted as 1731000000777 (each
    press is an activity of its own)."""
    return activity(
        type="invoke", name=ADAPTIVE_CARD_ACTION, replyToId="1731000000777", text="",
        id=f"f:press-{data['action']}-{data['job_id']}",
        entities=[], **{"from": {"id": "29:presser", "aadObjectId": user}},
        value={"action": {"type": "Action.Execute", "verb": data["action"], "data": data}},
    )


def answered(stack: IngressStack, job_id: str, answer: dict[str, Any]) -> None:
    """A job the worker answered, in JOBS_TABLE."""
    job = Job(job_id=job_id, source="teams", conversation_id="c", user_id=AAD_ID,
              text="how many users signed up each month?",
              reply_to=ReplyTo(kind="teams"), received_at="2026-11-21T18:00:00Z")
    store = stack.job_store()
    store.put_queued(job)
    store.mark_done(job_id, answer)


def test_a_feedback_press_is_recorded_and_thanked(
    front_door: TeamsIngress, ingress_stack: IngressStack, key_endpoint: KeyEndpoint
) -> None:
    answered(ingress_stack, "job-1", {"text": "42", "sql": ["select 42"]})

    response = front_door.handle(key_endpoint.signed(
        press(CardAction("feedback", "job-1", value=UP).data())))

    assert (response["statusCode"], body(response)) == (200, invoke_response(THANKS))
    (vote,) = ingress_stack.feedback_store().votes()
    assert (vote.job_id, vote.user_id, vote.value, vote.team_id) == (
        "job-1", AAD_ID, "up", TENANT_ID)
    assert (vote.question, vote.sql) == ("how many users signed up each month?", ["select 42"])
    assert ingress_stack.queued_jobs() == []


def test_a_submitted_vote_is_recorded_with_an_empty_acknowledgement(
    front_door: TeamsIngress, ingress_stack: IngressStack, key_endpoint: KeyEndpoint
) -> None:
    submit = activity(text="", entities=[], replyToId="1731000000777",
                      value=CardAction("feedback", "job-1", value="down").data())

    response = front_door.handle(key_endpoint.signed(submit))

    assert (response["statusCode"], body(response)) == (200, {})
    assert [v.value for v in ingress_stack.feedback_store().votes()] == ["down"]


def test_verify_by_someone_who_is_not_a_reviewer_is_refused(
    ingress_stack: IngressStack, key_endpoint: KeyEndpoint
) -> None:
    door = ingress_stack.teams(key_endpoint.metadata_url, app_id=APP_ID,
                               reviewers=frozenset({"someone-else"}))
    answered(ingress_stack, "job-1", {"text": "42", "sql": ["select 42"]})

    response = door.handle(key_endpoint.signed(press(CardAction("verify", "job-1").data())))

    assert body(response) == invoke_response(REVIEWERS_ONLY)
    assert ingress_stack.queued_jobs() == []


def test_verify_by_a_reviewer_queues_a_verify_job_with_the_answers_proposal(
    ingress_stack: IngressStack, key_endpoint: KeyEndpoint
) -> None:
    door = ingress_stack.teams(key_endpoint.metadata_url, app_id=APP_ID, reviewers=REVIEWER)
    answered(ingress_stack, "job-1", {"text": "42", "sql": ["select 1", "select 42"]})
    proposal = Proposal(question="signups by month", name="signups_by_month", sql="select 42")
    answered(ingress_stack, "job-2", {"text": "42", "sql": ["select 42"],
                                      "proposal": proposal.to_dict()})

    for job_id in ("job-1", "job-2"):
        response = door.handle(key_endpoint.signed(press(CardAction("verify", job_id).data())))
        assert response["statusCode"] == 200

    first, second = sorted(ingress_stack.queued_jobs(), key=lambda j: j.review.source_job_id)
    assert (first.kind, first.user_id, first.reply_to.activity_id) == (
        VERIFY, AAD_ID, "1731000000777")
    assert first.review.proposal == Proposal.default(
        "how many users signed up each month?", ["select 1", "select 42"])
    assert second.review.proposal == proposal


def test_verify_of_an_answer_no_longer_on_record_says_so(
    ingress_stack: IngressStack, key_endpoint: KeyEndpoint
) -> None:
    door = ingress_stack.teams(key_endpoint.metadata_url, app_id=APP_ID, reviewers=REVIEWER)

    response = door.handle(key_endpoint.signed(press(CardAction("verify", "gone").data())))

    assert "no longer on record" in body(response)["value"]
    assert ingress_stack.queued_jobs() == []


def test_retire_by_a_reviewer_queues_a_retire_job(
    ingress_stack: IngressStack, key_endpoint: KeyEndpoint
) -> None:
    door = ingress_stack.teams(key_endpoint.metadata_url, app_id=APP_ID, reviewers=REVIEWER)

    door.handle(key_endpoint.signed(press(
        CardAction("retire", "job-1", entry_id="monthly_signups").data())))

    (job,) = ingress_stack.queued_jobs()
    assert (job.kind, job.review.entry_id, job.review.reviewer) == (
        RETIRE, "monthly_signups", AAD_ID)


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[1, 2]",
        json.dumps({"type": "message"}),
        json.dumps(activity(conversation="19:x")),
        json.dumps(press({"action": "feedback", "job_id": "j", "value": "maybe"})),
        "[" * 100_000,  # nested deeper than the JSON decoder goes
    ],
)
def test_malformed_bodies_get_400_never_500(
    front_door: TeamsIngress, ingress_stack: IngressStack, key_endpoint: KeyEndpoint,
    raw: str,
) -> None:
    event = key_endpoint.signed("teams_message")
    event["body"] = raw

    response = front_door.handle(event)

    assert response["statusCode"] == 400
    assert ingress_stack.queued_jobs() == []


def test_a_body_that_is_not_base64_gets_400(
    front_door: TeamsIngress, key_endpoint: KeyEndpoint
) -> None:
    event = {**key_endpoint.signed("teams_message"), "body": "%%%", "isBase64Encoded": True}

    assert front_door.handle(event)["statusCode"] == 400


def test_only_posts_are_taken(front_door: TeamsIngress, key_endpoint: KeyEndpoint) -> None:
    event = key_endpoint.signed("teams_message")
    event["requestContext"]["http"]["method"] = "GET"

    assert front_door.handle(event)["statusCode"] == 405


def test_a_queue_that_is_down_gets_503_so_bot_framework_retries(
    ingress_stack: IngressStack, key_endpoint: KeyEndpoint
) -> None:
    gone = replace(ingress_stack, ingress=replace(
        ingress_stack.ingress, jobs=JobsConfig(
            queue_url=ingress_stack.ingress.jobs.queue_url + "-missing",
            table=ingress_stack.ingress.jobs.table)))

    response = gone.teams(key_endpoint.metadata_url, app_id=APP_ID).handle(
        key_endpoint.signed("teams_message"))

    assert response["statusCode"] == 503


def test_an_unreachable_key_endpoint_gets_503(ingress_stack: IngressStack,
                                              key_endpoint: KeyEndpoint) -> None:
    door = ingress_stack.teams("http://127.0.0.1:9/openid", app_id=APP_ID)

    assert door.handle(key_endpoint.signed("teams_message"))["statusCode"] == 503
    assert ingress_stack.queued_jobs() == []
