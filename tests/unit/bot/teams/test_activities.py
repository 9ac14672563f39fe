"""Reading Teams activities: questions, reply addresses, memory keys, installs and card
actions, as pure functions of the activity."""

from __future__ import annotations

from typing import Any

import pytest

from bot.job import GREETING, Job
from bot.teams.activities import (
    ADAPTIVE_CARD_ACTION,
    CardAction,
    MalformedActivity,
    parse_activity,
)
from tests.support.teams_auth import BOT_ID, TENANT_ID, activity

CHANNEL = "19:a1b2c3d4e5f6@thread.tacv2"
SERVICE_URL = "https://smba.trafficmanager.net/emea/"
AAD_ID = "6f1c0b8e-0d4a-4a8e-9f3e-1b2c3d4e5f60"


def personal(**fields: Any) -> dict[str, Any]:
    return activity(
        conversation={"conversationType": "personal", "tenantId": TENANT_ID, "id": "a:1xYz"},
        text="how many users?", entities=[], **fields,
    )


def test_a_channel_mention_becomes_a_job_answered_in_its_thread() -> None:
    read = parse_activity(activity())

    job = Job.from_json(read.job(text=read.question()).to_json())

    assert read.mentions_bot
    assert job.text == "how many users signed up each month?"
    assert (job.source, job.user_id) == ("teams", AAD_ID)
    assert job.reply_to.to_dict() == {
        "kind": "teams",
        "service_url": SERVICE_URL,
        "conversation_id": f"{CHANNEL};messageid=1731000000123",
        "activity_id": "1731000000123",
        "tenant_id": TENANT_ID,
        "conversation_type": "channel",
    }
    assert job.conversation_id == f"teams:{TENANT_ID}:{CHANNEL};messageid=1731000000123"
    assert job.job_id.startswith("teams-") and job.job_id == read.key


def test_a_reply_in_a_channel_thread_shares_the_threads_memory_and_address() -> None:
    # GIVEN a reply in the thread whose root is 1731000000123
    root = parse_activity(activity())
    reply = parse_activity(activity(id="1731000000999"))

    # THEN it has its own job, in the same thread and memory
    assert reply.key != root.key
    assert reply.memory_id == root.memory_id
    assert reply.reply_to().conversation_id == root.reply_to().conversation_id
    assert reply.reply_to().activity_id == "1731000000999"


def test_a_channel_post_without_the_thread_mark_is_its_own_threads_root() -> None:
    read = parse_activity(activity(conversation={"conversationType": "channel",
                                                 "id": CHANNEL, "tenantId": TENANT_ID}))

    assert read.thread_conversation_id == f"{CHANNEL};messageid=1731000000123"


def test_personal_and_group_chats_keep_one_memory_per_chat() -> None:
    one = parse_activity(personal())
    two = parse_activity(personal(id="1731000000456"))
    group = parse_activity(activity(
        conversation={"conversationType": "groupChat", "id": "19:meeting@thread.v2",
                      "tenantId": TENANT_ID}))

    assert one.memory_id == two.memory_id == f"teams:{TENANT_ID}:a:1xYz"
    assert one.reply_to().conversation_type == "personal"
    assert one.reply_to().conversation_id == "a:1xYz"
    assert group.memory_id == f"teams:{TENANT_ID}:19:meeting@thread.v2"
    assert group.reply_to().conversation_type == "groupChat"


@pytest.mark.parametrize(
    ("text", "entities", "question"),
    [
        # the bot's mention anywhere, other people's names kept without their tags
        ("<at>databot</at> users by country", None, "users by country"),
        ("Hi <at>databot</at>, users by country?", None, "Hi , users by country?"),
        ("<at>databot</at> compare with <at>Grace Hopper</at>'s numbers",
         [{"type": "mention", "text": "<at>Grace Hopper</at>",
           "mentioned": {"id": "29:grace", "name": "Grace Hopper"}}],
         "compare with Grace Hopper's numbers"),
        ("<at>databot</at>", None, ""),
        ("<at>databot</at>\u00a0\u00a0  ", None, ""),
        # entities as Teams escapes them
        ("<at>databot</at> users with age &lt; 30 &amp; active&nbsp;&nbsp;today", None,
         "users with age < 30 & active today"),
    ],
)
def test_the_bots_mention_is_removed_from_the_question(
    text: str, entities: list[dict[str, Any]] | None, question: str
) -> None:
    bot = {"type": "mention", "text": "<at>databot</at>",
           "mentioned": {"id": BOT_ID, "name": "databot"}}

    read = parse_activity(activity(text=text, entities=[bot, *(entities or [])]))

    assert read.question() == question


def test_a_channel_message_mentioning_someone_else_does_not_mention_the_bot() -> None:
    read = parse_activity(activity(
        text="<at>Grace</at> look", entities=[{"type": "mention", "text": "<at>Grace</at>",
                                              "mentioned": {"id": "29:grace"}}]))

    assert not read.mentions_bot


def test_the_user_is_the_teams_id_when_no_entra_id_is_given() -> None:
    read = parse_activity(activity(**{"from": {"id": "29:guest"}}))

    assert (read.user_id, read.teams_user_id) == ("29:guest", "29:guest")


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "installationUpdate", "action": "add"},
        {"type": "conversationUpdate", "membersAdded": [{"id": BOT_ID}]},
    ],
)
def test_a_personal_install_greets_once_per_chat(fields: dict[str, Any]) -> None:
    read = parse_activity(personal(**fields))

    greeting = read.greeting()

    assert read.adds_bot_to_personal_chat
    assert greeting.kind == GREETING and greeting.context is None
    # the installationUpdate and the conversationUpdate of one install share the job id
    assert greeting.job_id == parse_activity(
        personal(type="installationUpdate", action="add", id="other")).greeting().job_id


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "installationUpdate", "action": "remove"},
        {"type": "conversationUpdate", "membersAdded": [{"id": "29:someone"}]},
    ],
)
def test_removals_and_other_people_joining_are_not_installs(fields: dict[str, Any]) -> None:
    assert not parse_activity(personal(**fields)).adds_bot_to_personal_chat


def test_a_team_install_is_not_a_personal_one() -> None:
    read = parse_activity(activity(type="installationUpdate", action="add"))

    assert not read.adds_bot_to_personal_chat


def execute(data: dict[str, Any], verb: str | None = None, **fields: Any) -> dict[str, Any]:
    """An Action.Execute press on the card posted as activity 1731000000777."""
    return activity(
        type="invoke", name=ADAPTIVE_CARD_ACTION, replyToId="1731000000777", text="",
        value={"action": {"type": "Action.Execute", "verb": verb or data.get("action"),
                          "data": data}, "trigger": "manual"},
        **fields,
    )


@pytest.mark.parametrize(
    "action",
    [
        CardAction("feedback", "job-1", value="up"),
        CardAction("feedback", "job-1", value="down"),
        CardAction("verify", "job-1"),
        CardAction("retire", "job-1", entry_id="monthly_signups"),
    ],
)
def test_card_actions_round_trip_through_execute_and_submit(action: CardAction) -> None:
    executed = parse_activity(execute(action.data()))
    submitted = parse_activity(activity(value=action.data(), replyToId="1731000000777"))

    assert executed.card_action == submitted.card_action == action
    # a review job started from the card answers under the card
    assert executed.reply_to().activity_id == "1731000000777"
    assert submitted.reply_to().activity_id == "1731000000777"


def test_the_execute_verb_names_the_action() -> None:
    read = parse_activity(execute({"job_id": "job-1", "value": "up"}, verb="feedback"))

    assert read.card_action == CardAction("feedback", "job-1", value="up")


@pytest.mark.parametrize(
    "data",
    [
        {"action": "feedback", "job_id": "job-1", "value": "sideways"},
        {"action": "feedback", "value": "up"},
        {"action": "launch", "job_id": "job-1"},
        {"action": "retire", "job_id": "job-1"},
    ],
)
def test_unreadable_card_actions_are_malformed(data: dict[str, Any]) -> None:
    with pytest.raises(MalformedActivity):
        _ = parse_activity(execute(data)).card_action


def test_a_plain_message_carries_no_card_action() -> None:
    assert parse_activity(activity()).card_action is None


@pytest.mark.parametrize(
    "data",
    [
        [],
        "text",
        {"type": "message"},
        activity(channelId=None),
        activity(conversation="19:x"),
        activity(recipient={}),
        activity(**{"from": {"name": "nobody"}}),
        activity(entities="mention"),
        activity(text=42),
    ],
)
def test_bodies_that_are_not_readable_activities_are_malformed(data: Any) -> None:
    with pytest.raises(MalformedActivity):
        parse_activity(data)


def test_other_activity_types_need_only_their_type_channel_and_service_url() -> None:
    read = parse_activity({"type": "typing", "channelId": "msteams",
                           "serviceUrl": SERVICE_URL, "channelData": {"tenant": {"id": "t1"}}})

    assert (read.type, read.tenant_id) == ("typing", "t1")
