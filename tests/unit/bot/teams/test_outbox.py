"""Teams delivery driven by the job runner against the Bot Connector stand-in: placeholder,
progress, the answer's card in its place; a redelivery answers once; failures, retries and
a personal install's greeting."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import boto3
import pytest

from bot.dead_letters import notify_dead_letter
from bot.delivery import MENTION, WELCOME, Channels, Delivery, OutboxContext
from bot.job import GREETING, Job
from bot.job_store import DONE, FAILED, JobRecord, JobStore
from bot.teams.activities import NOTICE
from bot.teams.outbox import RETRYING, TeamsChannel
from executor.errors import TransientError, UserFacingError
from executor.worker.runner import Action, JobRunner
from tests.support.aws import AwsStack
from tests.support.scripted_engine import STAGES, ScriptedEngine
from tests.support.takeover import Killed, KilledOnceDone, message
from tests.support.teams_connector import CHANNEL_THREAD, TeamsConnectorStandIn, teams_job

Runner = Callable[..., JobRunner]


def record(aws_stack: AwsStack, job: Job) -> JobRecord:
    found = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb")).get(job.job_id)
    assert found is not None
    return found


def card_json(body: dict) -> str:  # type: ignore[type-arg]
    return json.dumps(body["attachments"][0]["content"], ensure_ascii=False)


def test_a_placeholder_shows_progress_then_becomes_the_answer(
    runner: Runner, teams_connector: TeamsConnectorStandIn, aws_stack: AwsStack,
    tmp_path: Path,
) -> None:
    job = teams_job(teams_connector.url)
    # WHEN the runner answers a channel message (each stage taking a moment)
    outcome = runner(ScriptedEngine(chart_dir=tmp_path, delay_s=0.2)).run(message(job, 1))
    assert outcome.action is Action.DELETE
    # THEN one message is in the thread: the placeholder, replying to the person's message
    (reply,) = teams_connector.in_conversation(CHANNEL_THREAD)
    assert reply.reply_to_id == job.reply_to.activity_id
    # AND it showed the stages, then became the answer's card (chart inline, SQL, table)
    shown = [version.get("text") for version in reply.history]
    assert shown[0] == "⏳ Working on it…"
    assert {f"⏳ {stage}" for stage in STAGES} & set(shown)
    card = card_json(reply.body)
    assert "**42** users signed up in March." in card
    assert '"type": "Table"' in card and "data:image/png;base64," in card
    # AND the job is recorded done with the placeholder's address
    done = record(aws_stack, job)
    assert done.status == DONE and done.answer is not None
    assert done.placeholder is not None and done.placeholder.message == reply.id


def test_a_redelivered_answered_job_is_not_answered_again(
    runner: Runner, teams_connector: TeamsConnectorStandIn, tmp_path: Path,
) -> None:
    job = teams_job(teams_connector.url)
    engine = ScriptedEngine(chart_dir=tmp_path)
    runner(engine).run(message(job, 1))
    calls = len(teams_connector.calls)
    # WHEN SQS delivers the message again
    outcome = runner(engine).run(message(job, 2))
    # THEN nothing is sent and the engine is not asked again
    assert outcome.action is Action.DELETE
    assert len(teams_connector.calls) == calls and len(engine.requests) == 1


def test_a_worker_killed_before_recording_its_answer_answers_in_the_same_message(
    runner: Runner, teams_connector: TeamsConnectorStandIn, aws_stack: AwsStack,
    tmp_path: Path,
) -> None:
    job = teams_job(teams_connector.url)
    engine = ScriptedEngine(chart_dir=tmp_path)
    # GIVEN a worker killed right after the answer replaced the placeholder
    with pytest.raises(Killed):
        runner(engine, store=KilledOnceDone).run(message(job, 1))
    # WHEN another worker takes the job over
    assert runner(engine).run(message(job, 2)).action is Action.DELETE
    # THEN the thread still holds one message: the answer, in the first placeholder
    (reply,) = teams_connector.in_conversation(CHANNEL_THREAD)
    assert "**42** users signed up in March." in card_json(reply.body)
    assert record(aws_stack, job).status == DONE


def test_a_retried_job_reuses_its_placeholder(
    runner: Runner, teams_connector: TeamsConnectorStandIn, tmp_path: Path,
) -> None:
    job = teams_job(teams_connector.url)
    failing = ScriptedEngine(turns=0, error=TransientError("model busy"))
    # GIVEN a first delivery that hit a passing failure
    assert runner(failing).run(message(job, 1)).action is Action.RETRY
    (reply,) = teams_connector.in_conversation(CHANNEL_THREAD)
    assert reply.body["text"] == f"⏳ {RETRYING}"
    # WHEN the job is delivered again THEN the same message becomes the answer
    assert runner(ScriptedEngine(chart_dir=tmp_path)).run(message(job, 2)).action \
        is Action.DELETE
    (again,) = teams_connector.in_conversation(CHANNEL_THREAD)
    assert again.id == reply.id and "attachments" in again.body


def test_a_failure_is_told_on_the_placeholder_with_its_reference(
    runner: Runner, teams_connector: TeamsConnectorStandIn, aws_stack: AwsStack,
) -> None:
    job = teams_job(teams_connector.url)
    engine = ScriptedEngine(turns=0, error=UserFacingError("That table does not exist."))
    assert runner(engine).run(message(job, 1)).action is Action.DELETE
    (reply,) = teams_connector.in_conversation(CHANNEL_THREAD)
    assert reply.body["text"].startswith("⚠️ ")
    assert "That table does not exist." in reply.body["text"]
    assert job.job_id in reply.body["text"]
    assert record(aws_stack, job).status == FAILED


def test_a_service_url_outside_the_allow_list_is_never_called(
    runner: Runner, teams_connector: TeamsConnectorStandIn, aws_stack: AwsStack,
) -> None:
    job = teams_job("https://attacker.example.com/amer/")
    engine = ScriptedEngine()
    assert runner(engine).run(message(job, 1)).action is Action.DELETE
    assert teams_connector.calls == []
    assert engine.requests == []
    assert record(aws_stack, job).status == FAILED


def test_a_personal_install_is_greeted_once_with_suggested_prompts(
    runner: Runner, teams_connector: TeamsConnectorStandIn, aws_stack: AwsStack,
) -> None:
    chat = "a:personal-chat-1"
    job = teams_job(teams_connector.url, "", conversation_id=chat, conversation_type="personal",
                    kind=GREETING)
    prompts = ["What was revenue last month?"]
    greeter = runner(ScriptedEngine(), suggest=lambda topic: prompts)
    assert greeter.run(message(job, 1)).action is Action.DELETE
    (welcome,) = teams_connector.in_conversation(chat)
    card = card_json(welcome.body)
    assert WELCOME in card and prompts[0] in card
    assert record(aws_stack, job).status == DONE


def test_a_greeting_with_a_notice_posts_the_notice_instead(
    runner: Runner, teams_connector: TeamsConnectorStandIn,
) -> None:
    job = replace(teams_job(teams_connector.url, "", kind=GREETING),
                  context={NOTICE: "Ask me a question after the mention."})
    assert runner(ScriptedEngine()).run(message(job, 1)).action is Action.DELETE
    (notice,) = teams_connector.in_conversation(CHANNEL_THREAD)
    assert notice.body["text"] == "Ask me a question after the mention."
    assert notice.reply_to_id == job.reply_to.activity_id


def test_a_dead_lettered_job_is_told_on_its_placeholder(
    runner: Runner, teams_connector: TeamsConnectorStandIn, aws_stack: AwsStack,
) -> None:
    # GIVEN a job whose first delivery posted its placeholder, then failed for a while
    job = teams_job(teams_connector.url)
    failing = ScriptedEngine(turns=0, error=TransientError("model busy"))
    assert runner(failing).run(message(job, 1)).action is Action.RETRY
    # WHEN the job lands in the dead-letter queue (in the notifier, a process of its own)
    store = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb"))
    channels = Channels({"teams": TeamsChannel.connect(teams_connector.config())})
    notify_dead_letter(job.to_json(), "m-1", jobs=store, channels=channels)
    # THEN the placeholder says it gave up, with the reference, and the job is failed
    (reply,) = teams_connector.in_conversation(CHANNEL_THREAD)
    assert reply.body["text"].startswith("⚠️ ") and job.job_id in reply.body["text"]
    assert record(aws_stack, job).status == FAILED
    # AND a job recorded done is not told anything
    done = teams_job(teams_connector.url, activity_id="1700000000003")
    runner(ScriptedEngine(turns=0)).run(message(done, 1))
    sent = len(teams_connector.connector_calls())
    notify_dead_letter(done.to_json(), "m-2", jobs=store, channels=channels)
    assert len(teams_connector.connector_calls()) == sent


def test_a_review_notice_is_posted_once_in_the_thread(
    teams_connector: TeamsConnectorStandIn, aws_stack: AwsStack,
) -> None:
    # GIVEN a claimed job and its Teams outbox
    jobs = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb"))
    job = teams_job(teams_connector.url, "")
    channel = TeamsChannel.connect(teams_connector.config())
    context = OutboxContext(jobs, 1.0, on_first_reply=lambda: None)
    notice = f"Verified by {MENTION}: questions like this are now answered from this query."
    # WHEN the review's notice is said, and said again by a redelivery
    delivered = channel.outbox(job, jobs.claim(job, 1).record, context).say(notice,
                                                                           mention="29:1abc")
    again = channel.outbox(job, record(aws_stack, job), context).say(notice, mention="29:1abc")
    # THEN one message in the thread names a reviewer, and the job is recorded done
    assert delivered == again == Delivery()
    (posted,) = teams_connector.in_conversation(CHANNEL_THREAD)
    assert posted.body["text"] == ("Verified by a reviewer: questions like this are now "
                                   "answered from this query.")
    assert record(aws_stack, job).status == DONE
    # AND nothing is streamed and nothing viewed beside it
    outbox = channel.outbox(job, record(aws_stack, job), context)
    assert outbox.draft() is None and outbox.viewing() is None


def test_the_askers_email_comes_from_the_conversation_roster(
    runner: Runner, teams_connector: TeamsConnectorStandIn, tmp_path: Path,
) -> None:
    job = teams_job(teams_connector.url)
    engine = ScriptedEngine(chart_dir=tmp_path)
    runner(engine).run(message(job, 1))
    [request] = engine.requests
    # WHEN the roster knows the member only by their sign-in name THEN that is the email
    teams_connector.set_member(CHANNEL_THREAD, job.user_id, userPrincipalName="ana@example.com")
    assert request.email() == "ana@example.com"
    teams_connector.set_member(CHANNEL_THREAD, job.user_id, email="Ana.Lopez@example.com",
                               userPrincipalName="ana@example.com")
    assert request.email() == "Ana.Lopez@example.com"
    assert [call.path for call in teams_connector.connector_calls("GET")][-1] == (
        "/teams/v3/conversations/19%3Ageneral%40thread.tacv2%3Bmessageid%3D1700000000001"
        "/members/29%3Auser-1")
    # AND a member the roster does not list gives none
    other = teams_job(teams_connector.url, activity_id="1700000000009")
    runner(engine).run(message(replace(other, user_id="29:someone-else"), 1))
    assert engine.requests[-1].email() is None
