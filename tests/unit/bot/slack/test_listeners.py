"""The Slack ingress end to end in one process: signed API Gateway events in, SQS jobs and
DynamoDB idempotency records (moto) out, notices through the Slack Web API stand-in."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError
from slack_bolt.context.assistant.thread_context_store.store import AssistantThreadContextStore

from bot.ingress.enqueue import EnqueueFailed, SqsJobQueue
from bot.job import Job
from bot.slack.notices import NOT_ALLOWED, NOT_QUEUED
from executor.worker.queue import QueueMessage
from executor.worker.runner import Action
from tests.support.events import load_event
from tests.support.ingress import IngressStack
from tests.support.scripted_engine import ScriptedEngine
from tests.support.signing import SignedEvent, signed
from tests.support.worker import wait_for


def with_slack_body(name: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """events/<name>.json with its (JSON) Slack body edited by `change`."""
    event = load_event(name)
    body = json.loads(event["body"])
    change(body)
    event["body"] = json.dumps(body)
    return event


def mention_saying(text: str, event_id: str = "Ev09TEXT") -> dict[str, Any]:
    def change(body: dict[str, Any]) -> None:
        body["event"]["text"] = text
        body["event_id"] = event_id

    return with_slack_body("app_mention", change)


def command_saying(text: str) -> dict[str, Any]:
    event = load_event("slash_command")
    form = base64.b64decode(event["body"]).decode()
    form = form.replace("text=top+5+categories+by+revenue+in+2026", f"text={text}")
    event["body"] = base64.b64encode(form.encode()).decode()
    return event


class FailingQueue:
    """SQS that is down for the first `failures` sends, then the real queue."""

    def __init__(self, real: SqsJobQueue, failures: int) -> None:
        self.real = real
        self.failures = failures

    def send(self, job: Job) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise EnqueueFailed("SQS is unavailable")
        self.real.send(job)


# ---- each event kind ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "job_id", "text"),
    [
        ("app_mention", "Ev08ABCDEF", "how many users signed up each month?"),
        ("app_mention_function_url", "Ev08ABCDEF", "how many users signed up each month?"),
        ("message_im", "Ev08DM0001", "what share of pro users churned last quarter?"),
    ],
)
def test_mentions_and_direct_messages_queue_one_job(
    ingress_stack: IngressStack, signed_event: SignedEvent, name: str, job_id: str, text: str
) -> None:
    handler = ingress_stack.slack()

    response = handler(signed_event(name))

    assert response["statusCode"] == 200
    jobs = ingress_stack.queued_jobs()
    assert [(job.job_id, job.text, job.source) for job in jobs] == [(job_id, text, "slack")]
    # No network call to Slack on the ack path: no auth.test, nothing posted.
    assert ingress_stack.slack_api.calls == []


def test_base64_encoded_json_body_is_read(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    event = load_event("app_mention")
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True

    response = ingress_stack.slack()(signed_event(event))

    assert response["statusCode"] == 200
    assert [job.job_id for job in ingress_stack.queued_jobs()] == ["Ev08ABCDEF"]


@pytest.mark.parametrize("name", ["slash_command", "slash_command_function_url"])
def test_slash_command_is_acked_with_the_question_and_queued(
    ingress_stack: IngressStack, signed_event: SignedEvent, name: str
) -> None:
    response = ingress_stack.slack()(signed_event(name))

    assert response["statusCode"] == 200
    assert response["body"].startswith("Working on it")
    assert "top 5 categories by revenue in 2026" in response["body"]
    [job] = ingress_stack.queued_jobs()
    assert job.text == "top 5 categories by revenue in 2026"
    assert job.reply_to.response_url is not None
    assert ingress_stack.slack_api.calls == []


@pytest.mark.parametrize("text", ["average+payload+size", "payload", "payload%3D1+vs+payload"])
def test_a_slash_command_that_mentions_payload_is_still_read(
    ingress_stack: IngressStack, signed_event: SignedEvent, text: str
) -> None:
    # GIVEN a question with the word Bolt takes for an interactivity form
    response = ingress_stack.slack()(signed_event(command_saying(text)))

    # THEN it is read as the command it is, with its text unchanged
    assert response["body"].startswith("Working on it")
    [job] = ingress_stack.queued_jobs()
    assert job.text == unquote_plus(text)


def test_slash_command_name_is_configurable(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    handler = ingress_stack.slack(slash_command="/data")

    handler(signed_event("slash_command"))  # still /ask: not this app's command
    assert ingress_stack.queued_jobs() == []

    event = load_event("slash_command")
    form = base64.b64decode(event["body"]).decode().replace("command=%2Fask", "command=%2Fdata")
    event["body"] = base64.b64encode(form.encode()).decode()
    assert handler(signed_event(event))["statusCode"] == 200
    assert len(ingress_stack.queued_jobs()) == 1


def test_url_verification_is_answered_with_the_challenge(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    response = ingress_stack.slack()(signed_event("url_verification"))

    assert response["statusCode"] == 200
    challenge = json.loads(load_event("url_verification")["body"])["challenge"]
    assert json.loads(response["body"]) == {"challenge": challenge}


# ---- ignored kinds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        load_event("message_bot"),
        load_event("message_changed"),
        with_slack_body("message_im", lambda b: b["event"].update(subtype="message_deleted")),
        with_slack_body("message_im", lambda b: b["event"].update(user="UBOT")),
        with_slack_body("app_mention", lambda b: b["event"].update(bot_id="B0OTHER")),
        with_slack_body("message_im", lambda b: b["event"].update(channel_type="channel")),
        with_slack_body("app_mention", lambda b: b["event"].update(type="reaction_added")),
    ],
    ids=[
        "bot_message",
        "message_changed",
        "message_deleted",
        "own_user",
        "other_bot",
        "channel_message",
        "other_event_type",
    ],
)
def test_events_the_bot_must_not_answer_are_acked_and_queue_nothing(
    ingress_stack: IngressStack, signed_event: SignedEvent, event: dict[str, Any]
) -> None:
    response = ingress_stack.slack()(signed_event(event))

    assert response["statusCode"] == 200
    assert ingress_stack.queued_jobs() == []
    assert ingress_stack.slack_api.calls == []


def test_button_clicks_are_acknowledged(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    response = ingress_stack.slack()(signed_event("block_actions"))

    assert response["statusCode"] == 200
    assert ingress_stack.queued_jobs() == []


# ---- signature failures ------------------------------------------------------------------


def unsigned_variants() -> list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]]:
    def missing(event: dict[str, Any]) -> dict[str, Any]:
        return event

    def wrong(event: dict[str, Any]) -> dict[str, Any]:
        event = signed(event)
        event["headers"]["x-slack-signature"] = "v0=" + "0" * 64
        return event

    def stale(event: dict[str, Any]) -> dict[str, Any]:
        return signed(event, timestamp=int(time.time()) - 6 * 60)

    def non_numeric(event: dict[str, Any]) -> dict[str, Any]:
        event = signed(event)
        event["headers"]["x-slack-request-timestamp"] = "yesterday"
        return event

    def no_timestamp(event: dict[str, Any]) -> dict[str, Any]:
        event = signed(event)
        del event["headers"]["x-slack-request-timestamp"]
        return event

    def tampered(event: dict[str, Any]) -> dict[str, Any]:
        event = signed(event)
        if event["isBase64Encoded"]:
            form = base64.b64decode(event["body"]).decode() + "&text=drop+table"
            event["body"] = base64.b64encode(form.encode()).decode()
        else:
            event["body"] = event["body"].replace('"type"', '"type" ', 1)
        return event

    def garbage(event: dict[str, Any]) -> dict[str, Any]:
        event["body"] = "{not json"
        return event

    return [
        ("missing", missing),
        ("wrong", wrong),
        ("stale", stale),
        ("non_numeric_timestamp", non_numeric),
        ("no_timestamp", no_timestamp),
        ("tampered_body", tampered),
        ("unsigned_garbage", garbage),
    ]


@pytest.mark.parametrize("name", ["app_mention", "slash_command", "url_verification"])
@pytest.mark.parametrize(
    ("case", "spoil"), unsigned_variants(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_requests_without_a_valid_signature_get_401_and_queue_nothing(
    ingress_stack: IngressStack,
    name: str,
    case: str,
    spoil: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    response = ingress_stack.slack()(spoil(load_event(name)))

    assert response["statusCode"] == 401, case
    assert json.loads(response["body"]) == {"error": "invalid request signature"}
    assert "challenge" not in response["body"]
    assert ingress_stack.queued_jobs() == []


def test_the_signature_is_checked_once_before_bolt_not_again_by_bolt(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    # GIVEN an app whose own settings carry another secret than the one SlackIngress checks
    handler = ingress_stack.slack(signing_secret="not-the-verified-secret")

    response = handler(signed_event("app_mention"))

    # THEN Bolt did not check the signature again with it: the job is queued
    assert response["statusCode"] == 200
    assert [job.job_id for job in ingress_stack.queued_jobs()] == ["Ev08ABCDEF"]


def test_the_app_itself_needs_no_signing_secret(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    # GIVEN the Bolt app built without any signing secret (as Socket Mode runs it)
    handler = ingress_stack.slack(signing_secret=None)
    # WHEN SlackIngress has verified the request THEN the job is queued
    assert handler(signed_event("app_mention"))["statusCode"] == 200
    assert [job.job_id for job in ingress_stack.queued_jobs()] == ["Ev08ABCDEF"]


def test_a_signed_body_that_is_not_a_slack_payload_is_400_not_500(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    event = load_event("app_mention")
    event["body"] = "{not json"

    response = ingress_stack.slack()(signed_event(event))

    assert response["statusCode"] == 400


def test_only_posts_are_served(ingress_stack: IngressStack, signed_event: SignedEvent) -> None:
    event = load_event("app_mention")
    event["requestContext"]["http"]["method"] = "GET"

    assert ingress_stack.slack()(signed_event(event))["statusCode"] == 405


# ---- empty, oversized and refused questions ------------------------------------------------


@pytest.mark.parametrize("text", ["<@UBOT>", "<@UBOT>   ", ""])
def test_bare_mention_gets_a_usage_hint_and_queues_nothing(
    ingress_stack: IngressStack, signed_event: SignedEvent, text: str
) -> None:
    response = ingress_stack.slack()(signed_event(mention_saying(text)))

    assert response["statusCode"] == 200
    assert ingress_stack.queued_jobs() == []
    [hint] = ingress_stack.slack_api.calls_to("chat.postEphemeral")
    assert hint.args["channel"] == "C0001"
    assert hint.args["user"] == "U0001"
    assert hint.args["thread_ts"] == "1795284000.000100"
    assert "for example" in hint.args["text"]
    assert "<@UBOT> how many users signed up" in hint.args["text"]


def test_empty_direct_message_gets_a_hint_without_mentions(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    event = with_slack_body("message_im", lambda b: b["event"].update(text="  "))

    ingress_stack.slack()(signed_event(event))

    [hint] = ingress_stack.slack_api.calls_to("chat.postEphemeral")
    assert hint.args["channel"] == "D0001"
    assert "\n• how many users signed up" in hint.args["text"]
    assert ingress_stack.queued_jobs() == []


def test_hint_is_posted_once_even_when_slack_retries_the_event(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    handler = ingress_stack.slack()
    event = mention_saying("<@UBOT>")

    for _ in range(3):
        assert handler(signed_event(event))["statusCode"] == 200

    assert ingress_stack.slack_api.count("chat.postEphemeral") == 1


def test_empty_slash_command_gets_the_usage_hint_in_the_ack(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    response = ingress_stack.slack()(signed_event(command_saying("")))

    assert response["statusCode"] == 200
    assert "for example" in response["body"]
    assert "/ask how many users signed up" in response["body"]
    assert ingress_stack.queued_jobs() == []
    assert ingress_stack.slack_api.calls == []


def test_too_long_question_is_refused_with_the_reason(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    handler = ingress_stack.slack(max_question_chars=50)

    handler(signed_event(mention_saying("<@UBOT> " + "x" * 51)))
    command = handler(signed_event(command_saying("y" * 51)))

    assert ingress_stack.queued_jobs() == []
    [notice] = ingress_stack.slack_api.calls_to("chat.postEphemeral")
    assert "51 characters long; the limit is 50" in notice.args["text"]
    assert "51 characters long; the limit is 50" in command["body"]


def test_question_at_the_default_limit_is_taken_and_one_over_is_not(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    handler = ingress_stack.slack()

    handler(signed_event(mention_saying("<@UBOT> " + "x" * 4000, "Ev1")))
    handler(signed_event(mention_saying("<@UBOT> " + "x" * 4001, "Ev2")))

    assert [job.job_id for job in ingress_stack.queued_jobs()] == ["Ev1"]


@pytest.mark.parametrize(
    "allowlist",
    [
        {"allowed_team_ids": frozenset({"T0OTHER"})},
        {"allowed_channel_ids": frozenset({"C0OTHER"})},
        {"allowed_user_ids": frozenset({"U0OTHER"})},
    ],
)
def test_outside_the_allowlists_people_get_a_polite_refusal_and_nothing_is_queued(
    ingress_stack: IngressStack, signed_event: SignedEvent, allowlist: dict[str, Any]
) -> None:
    handler = ingress_stack.slack(**allowlist)

    handler(signed_event("app_mention"))
    command = handler(signed_event("slash_command"))

    assert ingress_stack.queued_jobs() == []
    [refusal] = ingress_stack.slack_api.calls_to("chat.postEphemeral")
    assert refusal.args["text"] == NOT_ALLOWED
    assert command["body"] == NOT_ALLOWED


def test_a_blocked_channel_is_refused_whatever_the_allowlists_say(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    # GIVEN databot switched off in the channel of both sample requests, though allowed
    handler = ingress_stack.slack(
        allowed_channel_ids=frozenset({"C0001", "C0002"}),
        blocked_channel_ids=frozenset({"C0001", "C0002"}),
    )
    # WHEN a mention and a slash command arrive there
    handler(signed_event("app_mention"))
    command = handler(signed_event("slash_command"))
    # THEN nothing is queued and both are told politely
    assert ingress_stack.queued_jobs() == []
    assert command["body"] == NOT_ALLOWED
    assert len(ingress_stack.slack_api.calls_to("chat.postEphemeral")) == 1


def test_inside_the_allowlists_questions_are_queued(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    handler = ingress_stack.slack(
        allowed_team_ids=frozenset({"T0001"}),
        allowed_channel_ids=frozenset({"C0001", "C0002"}),
        allowed_user_ids=frozenset({"U0001", "U0002"}),
    )

    handler(signed_event("app_mention"))
    handler(signed_event("slash_command"))

    assert len(ingress_stack.queued_jobs()) == 2


# ---- exactly one job per event -------------------------------------------------------------


def test_same_event_four_times_is_answered_once(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    # GIVEN Slack delivering one mention four times (its retries)
    handler = ingress_stack.slack()
    deliveries = ["app_mention", "app_mention_retry", "app_mention_retry", "app_mention_retry"]
    # WHEN each is acknowledged, and the worker receives what was queued
    responses = [handler(signed_event(name)) for name in deliveries]
    messages = ingress_stack.queued_messages()
    engine = ScriptedEngine()
    runner = ingress_stack.runner(engine)
    outcomes = [runner.run(message).action for message in messages]
    # THEN every delivery was acked and queued as the same job, which was answered once:
    # the first message claimed it and the other three found it answered, and were dropped
    assert [r["statusCode"] for r in responses] == [200, 200, 200, 200]
    assert {Job.from_json(m.body).job_id for m in messages} == {"Ev08ABCDEF"}
    assert len({m.message_id for m in messages}) == 4
    assert outcomes == [Action.DELETE] * 4
    assert len(engine.requests) == 1
    assert runner.metrics.counts["DuplicateJobs"] == 3
    answers = [m for m in ingress_stack.slack_api.thread("C0001", "1795284000.000100")
               if engine.text in json.dumps(m.blocks)]
    assert len(answers) == 1


def test_concurrent_duplicates_are_answered_once(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    # GIVEN eight deliveries of one event arriving at once
    handler = ingress_stack.slack()
    events = [signed_event("app_mention_retry") for _ in range(8)]
    start = threading.Barrier(len(events))
    statuses: list[int] = []

    def deliver(event: dict[str, Any]) -> None:
        start.wait(10)
        statuses.append(handler(event)["statusCode"])

    run_together(deliver, events)
    # WHEN eight worker threads each receive one of the queued messages at once, the
    # model taking its time
    messages = ingress_stack.queued_messages()
    release = threading.Event()
    engine = ScriptedEngine(gate=release)
    runner = ingress_stack.runner(engine)
    claimed = threading.Barrier(len(messages))
    outcomes: dict[str, Action] = {}

    def work(message: QueueMessage) -> None:
        claimed.wait(10)
        outcomes[message.message_id] = runner.run(message).action

    threads = [threading.Thread(target=work, args=(message,)) for message in messages]
    for thread in threads:
        thread.start()
    wait_for(lambda: len(outcomes) == len(messages) - 1, 10, "seven outcomes")
    # THEN all were acked, one message holds the job and the seven others were left
    assert statuses == [200] * len(events)
    assert len(messages) == len(events)
    assert list(outcomes.values()) == [Action.LEAVE] * 7
    # WHEN the seven come back while the job still runs
    back = [replace(m, receive_count=2) for m in messages if m.message_id in outcomes]
    again = [runner.run(m).action for m in back]
    # THEN they are left again: a later receive count claims nothing another message holds
    assert again == [Action.LEAVE] * 7 and len(engine.requests) == 1
    # WHEN the job is answered and they come back once more THEN each is dropped
    release.set()
    for thread in threads:
        thread.join(10)
    assert sorted(a.value for a in outcomes.values()) == ["delete"] + ["leave"] * 7
    last = [runner.run(replace(m, receive_count=3)).action for m in back]
    assert last == [Action.DELETE] * 7
    assert len(engine.requests) == 1
    assert runner.metrics.counts["DuplicateJobs"] == 7


def run_together(target: Callable[[Any], None], items: list[Any]) -> None:
    threads = [threading.Thread(target=target, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)


def test_a_retry_is_queued_when_it_is_the_first_delivery_to_arrive(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    """X-Slack-Retry-Num alone is no reason to drop a request."""
    response = ingress_stack.slack()(signed_event("app_mention_retry"))

    assert response["statusCode"] == 200
    assert [job.job_id for job in ingress_stack.queued_jobs()] == ["Ev08ABCDEF"]


def test_sqs_failure_answers_5xx_and_slacks_retry_is_queued(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    real = SqsJobQueue(str(ingress_stack.ingress.jobs.queue_url))
    handler = ingress_stack.slack(queue=FailingQueue(real, failures=1))

    failed = handler(signed_event("app_mention"))
    assert failed["statusCode"] >= 500
    assert ingress_stack.queued_jobs() == []

    retried = handler(signed_event("app_mention_retry"))
    assert retried["statusCode"] == 200
    assert [job.job_id for job in ingress_stack.queued_jobs()] == ["Ev08ABCDEF"]


def test_sqs_failure_on_a_slash_command_tells_the_person(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    real = SqsJobQueue(str(ingress_stack.ingress.jobs.queue_url))
    handler = ingress_stack.slack(queue=FailingQueue(real, failures=1))

    response = handler(signed_event("slash_command"))

    assert response["statusCode"] == 200
    assert response["body"] == NOT_QUEUED
    assert ingress_stack.queued_jobs() == []
    # The trigger is not burnt: the same command can still be queued.
    assert handler(signed_event("slash_command"))["body"].startswith("Working on it")
    assert len(ingress_stack.queued_jobs()) == 1


def test_a_question_is_queued_without_the_idempotency_table(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    # GIVEN an idempotency table that does not exist
    handler = ingress_stack.slack(idempotency_table="no-such-table")
    # WHEN a mention arrives THEN it is queued: the ack path makes no DynamoDB call
    assert handler(signed_event("app_mention"))["statusCode"] == 200
    assert [job.job_id for job in ingress_stack.queued_jobs()] == ["Ev08ABCDEF"]


def test_a_failed_hint_post_is_retried_by_slack(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    handler = ingress_stack.slack()
    ingress_stack.slack_api.fail_next("chat.postEphemeral", error="internal_error")
    event = mention_saying("<@UBOT>")

    assert handler(signed_event(event))["statusCode"] >= 500
    assert handler(signed_event(event))["statusCode"] == 200

    assert ingress_stack.slack_api.count("chat.postEphemeral") == 2
    assert len(ingress_stack.slack_api.calls_to("chat.postEphemeral")) == 2


# ---- Slack's assistant container ---------------------------------------------------------


def test_a_new_assistant_thread_queues_a_greeting_with_its_context_and_calls_no_slack(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    # WHEN a person opens a new assistant thread while viewing #C0REV
    response = ingress_stack.slack()(signed_event("assistant_thread_started"))
    # THEN a greeting job for that thread is queued with the context, and Slack is not
    # called before the ack (the worker greets)
    assert response["statusCode"] == 200
    [job] = ingress_stack.queued_jobs()
    assert (job.job_id, job.kind, job.text) == ("Ev08AT0001", "greeting", "")
    assert job.context == {"channel_id": "C0REV", "team_id": "T0001", "enterprise_id": "E0001"}
    assert (job.reply_to.channel, job.reply_to.thread_ts, job.reply_to.surface) == (
        "D0001", "1795284200.000100", "assistant")
    assert ingress_stack.slack_api.calls == []


def test_a_question_in_an_assistant_thread_is_queued_like_a_dm(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    response = ingress_stack.slack()(signed_event("message_im_assistant"))

    assert response["statusCode"] == 200
    [job] = ingress_stack.queued_jobs()
    assert (job.job_id, job.kind, job.text) == ("Ev08AT0002", "answer",
                                                "what was our total revenue?")
    assert job.reply_to.surface == "assistant"
    assert job.reply_to.thread_ts == "1795284200.000100"
    assert job.conversation_id == "T0001:D0001:1795284200.000100"
    assert ingress_stack.slack_api.calls == []


def context_changed_to(channel_id: str) -> dict[str, Any]:
    """The assistant thread of events/assistant_thread_started.json, now beside `channel_id`."""
    def change(body: dict[str, Any]) -> None:
        body["event"]["type"] = "assistant_thread_context_changed"
        body["event"]["assistant_thread"]["context"]["channel_id"] = channel_id
        body["event_id"] = f"Ev08CC{channel_id}"

    return with_slack_body("assistant_thread_started", change)


ASSISTANT_THREAD = {"channel_id": "D0001", "thread_ts": "1795284200.000100"}


def test_a_context_change_is_acknowledged_without_slack_calls_or_jobs(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    response = ingress_stack.slack()(signed_event(context_changed_to("C0NEW")))

    assert response["statusCode"] == 200
    assert ingress_stack.queued_jobs() == []
    assert ingress_stack.slack_api.calls == []


def test_a_new_assistant_threads_context_is_saved(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    # WHEN a person opens an assistant thread while viewing #C0REV
    ingress_stack.slack()(signed_event("assistant_thread_started"))
    # THEN the thread's context is kept for the questions asked in it
    assert ingress_stack.thread_contexts().find(**ASSISTANT_THREAD) == {
        "channel_id": "C0REV", "team_id": "T0001", "enterprise_id": "E0001"}


def test_a_context_change_replaces_the_saved_context(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    handler = ingress_stack.slack()
    handler(signed_event("assistant_thread_started"))
    # WHEN the person switches to #C0NEW beside the thread
    assert handler(signed_event(context_changed_to("C0NEW")))["statusCode"] == 200
    # THEN the thread's context names the new channel
    found = ingress_stack.thread_contexts().find(**ASSISTANT_THREAD)
    assert found is not None and found.channel_id == "C0NEW"


def test_a_question_in_an_assistant_thread_carries_the_threads_current_context(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    handler = ingress_stack.slack()
    handler(signed_event("assistant_thread_started"))
    handler(signed_event(context_changed_to("C0NEW")))
    # WHEN the person asks in the thread
    handler(signed_event("message_im_assistant"))
    # THEN the question's job carries the channel viewed now, the greeting's the first one
    greeting, question = sorted(ingress_stack.queued_jobs(), key=lambda job: job.job_id)
    assert greeting.context is not None and greeting.context["channel_id"] == "C0REV"
    assert question.context == {"channel_id": "C0NEW", "team_id": "T0001",
                                "enterprise_id": "E0001"}
    assert ingress_stack.slack_api.calls == []


def test_a_question_in_a_thread_with_no_saved_context_carries_none(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    ingress_stack.slack()(signed_event("message_im_assistant"))

    [job] = ingress_stack.queued_jobs()
    assert job.context is None


class CountingContexts(AssistantThreadContextStore):
    """The thread contexts store, counting its reads."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.finds = 0

    def save(self, **kwargs: Any) -> None:
        self.store.save(**kwargs)

    def find(self, **kwargs: Any) -> Any:
        self.finds += 1
        return self.store.find(**kwargs)


def test_questions_outside_assistant_threads_carry_no_context_and_read_none(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    contexts = CountingContexts(ingress_stack.thread_contexts())
    handler = ingress_stack.slack(thread_contexts=contexts)
    handler(signed_event("assistant_thread_started"))
    contexts.finds = 0
    # WHEN a mention and a DM arrive
    handler(signed_event("app_mention"))
    handler(signed_event("message_im"))
    # THEN their jobs carry no context, and no context was read for them
    jobs = [job for job in ingress_stack.queued_jobs() if job.kind == "answer"]
    assert len(jobs) == 2
    assert all(job.context is None for job in jobs)
    assert contexts.finds == 0


def test_an_assistant_question_reads_the_context_once(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    contexts = CountingContexts(ingress_stack.thread_contexts())

    ingress_stack.slack(thread_contexts=contexts)(signed_event("message_im_assistant"))

    assert contexts.finds == 1


@pytest.mark.parametrize("name", ["assistant_thread_started", "message_im_assistant"])
def test_assistant_events_retried_by_slack_are_queued_as_one_job(
    ingress_stack: IngressStack, signed_event: SignedEvent, name: str
) -> None:
    handler = ingress_stack.slack()

    for _ in range(3):
        assert handler(signed_event(name))["statusCode"] == 200

    # (the worker answers the job once: see test_same_event_four_times_is_answered_once)
    assert len({job.job_id for job in ingress_stack.queued_jobs()}) == 1


@pytest.mark.parametrize(
    "allowlist",
    [{"allowed_team_ids": frozenset({"T0OTHER"})}, {"allowed_user_ids": frozenset({"U0OTHER"})}],
)
def test_the_allowlists_apply_to_assistant_threads(
    ingress_stack: IngressStack, signed_event: SignedEvent, allowlist: dict[str, Any]
) -> None:
    handler = ingress_stack.slack(**allowlist)
    # WHEN someone outside the allowlists opens an assistant thread and asks there
    handler(signed_event("assistant_thread_started"))
    handler(signed_event("message_im_assistant"))
    # THEN nothing is queued: the thread gets no greeting, the question a polite refusal
    assert ingress_stack.queued_jobs() == []
    [refusal] = ingress_stack.slack_api.calls_to("chat.postEphemeral")
    assert refusal.args["text"] == NOT_ALLOWED


def test_a_context_change_that_cannot_be_saved_is_left_for_slack_to_deliver_again(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    class Down(CountingContexts):
        def save(self, **kwargs: Any) -> None:
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}},
                              "PutItem")

    handler = ingress_stack.slack(thread_contexts=Down(ingress_stack.thread_contexts()))

    response = handler(signed_event(context_changed_to("C0NEW")))

    assert response["statusCode"] >= 500
