"""Verify and Retire through the real ingress path: signed clicks and modal submissions in,
the Verify modal and refusals through the Slack stand-in, verify and retire jobs on the
queue (moto), the answers read from JOBS_TABLE."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk import WebClient

from bot.answer import Answer, Usage
from bot.ingress.enqueue import EnqueueFailed
from bot.job import ASSISTANT, RETIRE, VERIFY, Job, ReplyTo
from bot.review import Proposal, Review, ReviewParam, entry_name
from bot.slack.render import render_answer
from bot.slack.review import CANNOT_VERIFY, NOT_A_RETIRER, NOT_A_REVIEWER, NOT_TAKEN
from bot.slack.review_buttons import RETIRE_ACTION
from bot.slack.review_modal import VERIFY_VIEW, ReviewAsked
from tests.support.events import slack_payload, with_body
from tests.support.ingress import IngressStack
from tests.support.signing import SignedEvent

JOB = "Ev08ABCDEF"
QUESTION = "how many users signed up in October?"
SQL = "SELECT count(*) FROM users WHERE signed_up >= '2026-10-01'"
THREAD = "1795284000.000100"
REVIEWER = "U0001"
ENTRY = "signups_by_month"
PROPOSAL = Proposal(question="How many users signed up in a month?", name="signups_in_month",
                    sql="SELECT count(*) FROM users WHERE month = '2026-10'",
                    paraphrases=("October sign-ups",),
                    params=(ReviewParam("month", "period", "2026-10"),),
                    definition="Users whose sign-up date falls in the month.")

Change = Callable[[dict[str, Any]], None]


def _form(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    return with_body(name, urlencode({"payload": json.dumps(payload)}),
                     "application/x-www-form-urlencoded")


def verify_click(user: str = REVIEWER, change: Change | None = None) -> dict[str, Any]:
    """events/block_actions_verify.json: `user` pressed Verify on the answer to JOB."""
    payload = slack_payload("block_actions_verify")
    payload["user"]["id"] = user
    if change:
        change(payload)
    return _form("block_actions_verify", payload)


def retire_click(user: str = REVIEWER, change: Change | None = None) -> dict[str, Any]:
    """The same click, on the Retire button of a verified answer."""

    def retire(payload: dict[str, Any]) -> None:
        payload["actions"][0].update(action_id=RETIRE_ACTION, value=json.dumps(
            {"entry_id": ENTRY, "job_id": JOB}))
        if change:
            change(payload)

    return verify_click(user, retire)


def submission(user: str = REVIEWER, change: Change | None = None) -> dict[str, Any]:
    """events/view_submission_verify.json: `user` sent the Verify modal for JOB unedited."""
    payload = slack_payload("view_submission_verify")
    payload["user"]["id"] = user
    if change:
        change(payload)
    return _form("view_submission_verify", payload)


def answered(stack: IngressStack, *, proposal: Proposal | None = None, verified: bool = False,
             channel: str = "C0001", placeholder: bool = True) -> Answer:
    """JOB answered and recorded in JOBS_TABLE as the worker leaves it: with the worker's
    proposal when given (older answers have none), its placeholder when it posted one."""
    answer = Answer(text="1,234 users signed up in October.", sql=[SQL], verified=verified,
                    entry_id=ENTRY if verified else None,
                    usage=Usage(model_id=None if verified else "us.anthropic.claude-sonnet-4"))
    data = answer.to_dict()
    if proposal is not None:
        data["proposal"] = proposal.to_dict()
    jobs = stack.job_store()
    to = ReplyTo(kind="slack", team_id="T0001", channel=channel, thread_ts=THREAD)
    job = Job(job_id=JOB, text=QUESTION, source="slack", conversation_id=f"T0001:C0001:{THREAD}",
              user_id="U0002", received_at="2026-11-30T00:00:00Z", reply_to=to)
    jobs.claim(job, attempt=1)
    if placeholder:
        jobs.set_placeholder(JOB, to.at("1795284010.000200"))
    jobs.mark_done(JOB, data)
    return answer


def opened_view(stack: IngressStack) -> dict[str, Any]:
    [opened] = stack.slack_api.accepted("views.open")
    assert opened.args["trigger_id"] == slack_payload("block_actions_verify")["trigger_id"]
    view = opened.args["view"]
    return json.loads(view) if isinstance(view, str) else dict(view)


def prefilled(view: dict[str, Any]) -> dict[str, str | None]:
    return {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"]}


# ---- who may ------------------------------------------------------------------------------


def test_someone_who_is_not_a_reviewer_is_told_privately_and_nothing_changes(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    # GIVEN an answered job and one reviewer
    answered(ingress_stack)
    handler = ingress_stack.slack(reviewers=frozenset({"U0REVIEWER"}))

    # WHEN someone else presses Verify
    response = handler(signed_event(verify_click(user="U0002")))

    # THEN they alone are told, in the answer's thread; no modal, nothing queued
    assert response["statusCode"] == 200
    [told] = ingress_stack.slack_api.accepted("chat.postEphemeral")
    assert (told.args["user"], told.args["channel"], told.args["thread_ts"]) == (
        "U0002", "C0001", THREAD)
    assert told.args["text"] == NOT_A_REVIEWER == "Only reviewers can verify answers."
    assert ingress_stack.slack_api.count("views.open") == 0
    assert ingress_stack.slack_api.count("chat.postMessage") == 0
    assert ingress_stack.queued_jobs() == []


def test_nobody_may_verify_when_no_reviewers_are_set(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    answered(ingress_stack)

    ingress_stack.slack()(signed_event(verify_click()))

    assert ingress_stack.slack_api.count("views.open") == 0
    assert ingress_stack.slack_api.count("chat.postEphemeral") == 1


def test_a_reviewer_by_user_id_gets_the_modal_prefilled_from_an_older_answer(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    # GIVEN an answer recorded without a proposal (older workers wrote none)
    answered(ingress_stack)
    handler = ingress_stack.slack(reviewers=frozenset({REVIEWER}))

    # WHEN a reviewer presses Verify
    response = handler(signed_event(verify_click()))

    # THEN the modal opens with the click's trigger, every field prefilled from the answer
    assert response["statusCode"] == 200
    view = opened_view(ingress_stack)
    assert view["callback_id"] == VERIFY_VIEW
    assert prefilled(view) == {
        "question": QUESTION, "name": entry_name(QUESTION), "paraphrases": None, "sql": SQL,
        "params": None, "definition": QUESTION,
    }
    # AND it carries the answer's job and thread; no user group was looked up
    assert ReviewAsked.parse(view["private_metadata"]) == ReviewAsked(
        job_id=JOB, team_id="T0001", channel="C0001", thread_ts=THREAD)
    assert ingress_stack.slack_api.count("usergroups.users.list") == 0
    assert ingress_stack.slack_api.count("chat.postEphemeral") == 0
    assert ingress_stack.queued_jobs() == []


def test_a_reviewer_by_user_group_gets_the_modal_prefilled_from_the_workers_proposal(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    # GIVEN an answer with the worker's proposal, and reviewers named by a user group
    answered(ingress_stack, proposal=PROPOSAL)
    ingress_stack.slack_api.set_usergroup("S0REVIEW", ["U0009", REVIEWER])
    handler = ingress_stack.slack(reviewers=frozenset({"S0REVIEW"}))

    # WHEN a member presses Verify
    handler(signed_event(verify_click()))

    # THEN the group was read and the modal shows the proposal
    [listed] = ingress_stack.slack_api.calls_to("usergroups.users.list")
    assert listed.args["usergroup"] == "S0REVIEW"
    assert prefilled(opened_view(ingress_stack)) == {
        "question": PROPOSAL.question, "name": "signups_in_month",
        "paraphrases": "October sign-ups", "sql": PROPOSAL.sql,
        "params": "month period 2026-10", "definition": PROPOSAL.definition,
    }


def test_an_answer_no_longer_recorded_cannot_be_verified(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    ingress_stack.slack(reviewers=frozenset({REVIEWER}))(signed_event(verify_click()))

    [told] = ingress_stack.slack_api.accepted("chat.postEphemeral")
    assert told.args["text"] == CANNOT_VERIFY
    assert ingress_stack.slack_api.count("views.open") == 0


def test_an_expired_trigger_is_logged_and_acknowledged(
    ingress_stack: IngressStack, signed_event: SignedEvent,
    ingress_logs: list[logging.LogRecord],
) -> None:
    answered(ingress_stack)
    ingress_stack.slack_api.fail_next("views.open", error="expired_trigger_id")

    response = ingress_stack.slack(reviewers=frozenset({REVIEWER}))(signed_event(verify_click()))

    assert response["statusCode"] == 200
    assert any("Verify modal not opened" in r.getMessage() for r in ingress_logs)


# ---- submitting ---------------------------------------------------------------------------


def test_a_submission_with_defaults_queues_one_verify_job_replying_in_the_thread(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    # GIVEN a reviewer who opened the modal on an answer
    answered(ingress_stack)
    handler = ingress_stack.slack(reviewers=frozenset({REVIEWER}))
    handler(signed_event(verify_click()))

    # WHEN they submit it unedited
    response = handler(signed_event(submission()))

    # THEN the modal closes (an empty 200) and one verify job is queued
    assert response["statusCode"] == 200 and not response.get("body")
    [job] = ingress_stack.queued_jobs()
    assert Job.from_json(job.to_json()) == job
    assert (job.kind, job.job_id, job.source, job.user_id) == (
        VERIFY, "verify-V0000000002", "slack", REVIEWER)
    assert job.text == QUESTION
    assert job.conversation_id == f"T0001:C0001:{THREAD}"
    assert job.reply_to == ReplyTo(kind="slack", team_id="T0001", channel="C0001",
                                   thread_ts=THREAD)
    assert job.review == Review(JOB, REVIEWER, proposal=Proposal(
        question=QUESTION, name=entry_name(QUESTION), sql=SQL, definition=QUESTION))
    # AND nothing is posted by the ingress: the worker answers in the thread
    assert ingress_stack.slack_api.count("chat.postMessage") == 0
    assert ingress_stack.slack_api.count("chat.postEphemeral") == 0


def test_a_submission_delivered_twice_queues_once(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    handler = ingress_stack.slack(reviewers=frozenset({REVIEWER}))

    assert handler(signed_event(submission()))["statusCode"] == 200
    assert handler(signed_event(submission()))["statusCode"] == 200

    assert [job.job_id for job in ingress_stack.queued_jobs()] == ["verify-V0000000002"]


def _bad_fields(payload: dict[str, Any]) -> None:
    values = payload["view"]["state"]["values"]
    values["name"]["name"]["value"] = "Not A Name"
    values["params"]["params"]["value"] = "month when 2026-10"


def test_fields_a_reviewer_got_wrong_keep_the_modal_open_with_errors(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    handler = ingress_stack.slack(reviewers=frozenset({REVIEWER}))

    response = handler(signed_event(submission(change=_bad_fields)))

    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"name", "params"}
    assert "Line 1: kind must be one of enum, period, int" in body["errors"]["params"]
    assert ingress_stack.queued_jobs() == []


def test_a_submission_by_someone_no_longer_a_reviewer_is_refused(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    handler = ingress_stack.slack(reviewers=frozenset({"U0OTHER"}))

    assert handler(signed_event(submission()))["statusCode"] == 200

    assert ingress_stack.queued_jobs() == []
    [told] = ingress_stack.slack_api.accepted("chat.postEphemeral")
    assert (told.args["user"], told.args["text"]) == (REVIEWER, NOT_A_REVIEWER)


@pytest.mark.parametrize(("placeholder", "surface"), [(False, ASSISTANT), (True, None)])
def test_an_answer_in_an_assistant_thread_is_verified_there(
    ingress_stack: IngressStack, signed_event: SignedEvent, placeholder: bool,
    surface: str | None,
) -> None:
    # GIVEN an answer in a DM thread: the assistant container's has no placeholder
    answered(ingress_stack, channel="D0001", placeholder=placeholder)
    handler = ingress_stack.slack(reviewers=frozenset({REVIEWER}))

    def in_dm(payload: dict[str, Any]) -> None:
        payload["channel"]["id"] = payload["container"]["channel_id"] = "D0001"

    handler(signed_event(verify_click(change=in_dm)))
    metadata = opened_view(ingress_stack)["private_metadata"]

    def opened_here(payload: dict[str, Any]) -> None:
        payload["view"]["private_metadata"] = metadata

    handler(signed_event(submission(change=opened_here)))

    [job] = ingress_stack.queued_jobs()
    assert (job.reply_to.channel, job.reply_to.surface) == ("D0001", surface)


# ---- retiring -----------------------------------------------------------------------------


def test_a_reviewer_retires_an_entry_from_its_answer(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    answered(ingress_stack, verified=True)
    handler = ingress_stack.slack(reviewers=frozenset({REVIEWER}))

    response = handler(signed_event(retire_click()))

    assert response["statusCode"] == 200
    [job] = ingress_stack.queued_jobs()
    assert Job.from_json(job.to_json()) == job
    trigger = slack_payload("block_actions_verify")["trigger_id"]
    assert (job.kind, job.job_id, job.user_id, job.text) == (
        RETIRE, f"retire-{trigger}", REVIEWER, "")
    assert job.review == Review(JOB, REVIEWER, entry_id=ENTRY)
    assert job.reply_to == ReplyTo(kind="slack", team_id="T0001", channel="C0001",
                                   thread_ts=THREAD)
    assert ingress_stack.slack_api.calls == []


def test_someone_who_is_not_a_reviewer_cannot_retire(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    answered(ingress_stack, verified=True)
    handler = ingress_stack.slack(reviewers=frozenset({"U0OTHER"}))

    handler(signed_event(retire_click()))

    assert ingress_stack.queued_jobs() == []
    [told] = ingress_stack.slack_api.accepted("chat.postEphemeral")
    assert (told.args["user"], told.args["text"]) == (REVIEWER, NOT_A_RETIRER)


def test_the_rendered_buttons_lead_to_the_modal_and_the_retire_job(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    # GIVEN an agent answer posted with its buttons (Slack accepts the blocks)
    answer = answered(ingress_stack)
    [message] = render_answer(answer, job_id=JOB).messages
    api = ingress_stack.slack_api
    WebClient(token=api.token, base_url=api.url).chat_postMessage(
        channel="C0001", thread_ts=THREAD, text=message.text, blocks=message.blocks)
    verify = message.blocks[-2]["elements"][0]
    retire = render_answer(Answer(text="x", verified=True, entry_id=ENTRY), job_id=JOB
                           ).messages[0].blocks[-2]["elements"][0]
    handler = ingress_stack.slack(reviewers=frozenset({REVIEWER}))

    # WHEN a reviewer presses each, as Slack sends the click
    def pressed(button: dict[str, Any]) -> Change:
        return lambda p: p["actions"][0].update(action_id=button["action_id"],
                                                value=button["value"])

    handler(signed_event(verify_click(change=pressed(verify))))
    handler(signed_event(verify_click(change=pressed(retire))))

    # THEN the first opened the modal, the second queued the retire job
    assert api.count("views.open") == 1
    assert [job.kind for job in ingress_stack.queued_jobs()] == [RETIRE]


# ---- payloads databot cannot have produced ------------------------------------------------


def _set(path: str, value: Any) -> Change:
    def change(payload: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = payload
        for name in parents:
            target = target[int(name)] if isinstance(target, list) else target[name]
        target[last] = value

    return change


def _drop_sql(payload: dict[str, Any]) -> None:
    del payload["view"]["state"]["values"]["sql"]


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        (lambda: verify_click(change=_set("actions.0.value", "")), "not a job id"),
        (lambda: retire_click(change=_set("actions.0.value", "Ev1")), "not an entry and a job"),
        (lambda: verify_click(change=_set("trigger_id", None)), "no user, team, channel"),
        (lambda: verify_click(change=_set("container", {"channel_id": "C0001"})),
         "no user, team, channel, thread"),
        (lambda: submission(change=_set("view.private_metadata", "{}")), "private_metadata"),
        (lambda: submission(change=_drop_sql), "no sql field"),
        (lambda: submission(change=_set("view.state.values.name.name.value", 7)), "not text"),
        (lambda: submission(change=_set("view.id", None)), "no user or view"),
    ],
)
def test_a_malformed_review_payload_is_a_clear_400(
    ingress_stack: IngressStack, signed_event: SignedEvent,
    ingress_logs: list[logging.LogRecord], event: Callable[[], dict[str, Any]], problem: str,
) -> None:
    response = ingress_stack.slack(reviewers=frozenset({REVIEWER}))(signed_event(event()))

    assert response["statusCode"] == 400
    assert "not a Slack payload" in response["body"]
    assert any(problem in record.getMessage() for record in ingress_logs)
    assert ingress_stack.queued_jobs() == []
    assert ingress_stack.slack_api.calls == []


class BrokenQueue:
    def send(self, job: Job) -> None:
        raise EnqueueFailed(f"job {job.job_id} was not queued: the queue is down")


def test_when_the_queue_fails_the_reviewer_is_told_to_try_again(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    answered(ingress_stack, verified=True)
    handler = ingress_stack.slack(queue=BrokenQueue(), reviewers=frozenset({REVIEWER}))

    # WHEN the queue refuses a submission: the modal stays open and says so
    response = handler(signed_event(submission()))
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"response_action": "errors",
                                            "errors": {"question": NOT_TAKEN}}
    # AND a retire: the reviewer is told privately
    assert handler(signed_event(retire_click()))["statusCode"] == 200
    [told] = ingress_stack.slack_api.accepted("chat.postEphemeral")
    assert (told.args["user"], told.args["text"]) == (REVIEWER, NOT_TAKEN)
