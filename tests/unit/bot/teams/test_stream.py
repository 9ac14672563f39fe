"""The answer's text streamed into a Teams personal chat, driven by the job runner against
the Bot Connector stand-in: the stream ends with the answer's card and the placeholder
goes; channels and group chats do not stream; a failing stream falls back to the
placeholder; a discarded draft is rewritten in the same stream; a takeover answers once."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from bot.delivery import DeliveryError, Unreachable
from bot.job import Job
from bot.job_store import DONE, JobStore
from bot.teams.outbox import TeamsChannel
from bot.teams.stream import TeamsDraft
from executor.engine import Request
from executor.worker.runner import JobRunner
from tests.support.aws import AwsStack
from tests.support.scripted_engine import ScriptedEngine
from tests.support.takeover import Killed, KilledOnceDone, message
from tests.support.teams_connector import (
    CHANNEL_THREAD,
    GROUP_CHAT,
    PERSONAL_CHAT,
    TeamsConnectorStandIn,
    teams_job,
)

Runner = Callable[..., JobRunner]
TEXT = "**42** users signed up in March, up from 30 in February."


def personal_job(teams_connector: TeamsConnectorStandIn) -> Job:
    return teams_job(teams_connector.url, conversation_id=PERSONAL_CHAT,
                     conversation_type="personal")


def streamed(tmp_path: Path) -> ScriptedEngine:
    return ScriptedEngine(turns=1, chart_dir=tmp_path, stream=True, text=TEXT)


def stream_calls(teams_connector: TeamsConnectorStandIn) -> list[dict[str, Any]]:
    return [call.body for call in teams_connector.connector_calls("POST")
            if any(e.get("type") == "streaminfo" for e in call.body.get("entities", []))]


def stored_placeholder(aws_stack: AwsStack, job: Job) -> str | None:
    found = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb")).get(job.job_id)
    assert found is not None
    return found.replies_to(job).message


def test_a_personal_chat_streams_the_text_then_ends_the_stream_with_the_card(
    runner: Runner, teams_connector: TeamsConnectorStandIn, aws_stack: AwsStack,
    tmp_path: Path,
) -> None:
    job = personal_job(teams_connector)
    runner(streamed(tmp_path)).run(message(job, 1))
    # THEN the chat holds one message: the stream, ended by the answer's card
    (answer,) = teams_connector.in_conversation(PERSONAL_CHAT)
    stream = teams_connector.streams[answer.id]
    assert stream.final and stream.sequences[0] == 1
    assert answer.body["type"] == "message"
    assert answer.body["attachments"][0]["contentType"] == \
        "application/vnd.microsoft.card.adaptive"
    assert answer.body["entities"] == [{"type": "streaminfo", "streamId": answer.id,
                                        "streamType": "final"}]
    # AND what streamed first was the text as written, in a typing activity
    first = stream_calls(teams_connector)[0]
    assert first["type"] == "typing" and TEXT.startswith(first["text"])
    assert first["entities"][0] == {"type": "streaminfo", "streamType": "streaming",
                                    "streamSequence": 1}
    # AND the placeholder was deleted, the job recorded done naming the streamed message
    assert len(teams_connector.connector_calls("DELETE")) == 1
    assert stored_placeholder(aws_stack, job) == answer.id


@pytest.mark.parametrize(("conversation", "kind"), [(CHANNEL_THREAD, "channel"),
                                                    (GROUP_CHAT, "groupChat")])
def test_channels_and_group_chats_do_not_stream(
    runner: Runner, teams_connector: TeamsConnectorStandIn, tmp_path: Path,
    conversation: str, kind: str,
) -> None:
    job = teams_job(teams_connector.url, conversation_id=conversation, conversation_type=kind)
    runner(streamed(tmp_path)).run(message(job, 1))
    assert stream_calls(teams_connector) == []
    (answer,) = teams_connector.in_conversation(conversation)
    assert answer.body["attachments"] and answer.history[0]["text"] == "⏳ Working on it…"


def test_a_stream_failing_mid_way_falls_back_to_the_card_in_the_placeholder(
    runner: Runner, teams_connector: TeamsConnectorStandIn, aws_stack: AwsStack,
    tmp_path: Path,
) -> None:
    class Stopped(ScriptedEngine):
        def answer(self, request: Request) -> Any:
            assert request.draft is not None
            request.draft.write("**42** users ")
            # The person presses Stop: Teams refuses the rest of the stream.
            teams_connector.fail_next("POST", status=403)
            return ScriptedEngine.answer(self, request)

    job = personal_job(teams_connector)
    runner(Stopped(turns=0, chart_dir=tmp_path, stream=True, text=TEXT)).run(message(job, 1))
    # THEN the streamed draft is gone and the placeholder holds the card: one answer
    (answer,) = teams_connector.in_conversation(PERSONAL_CHAT)
    assert answer.history[0]["text"] == "⏳ Working on it…"
    assert answer.body["attachments"]
    assert answer.id not in teams_connector.streams
    assert stored_placeholder(aws_stack, job) == answer.id
    found = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb")).get(job.job_id)
    assert found is not None and found.status == DONE


def test_a_discarded_draft_is_rewritten_in_the_same_stream(
    runner: Runner, teams_connector: TeamsConnectorStandIn, tmp_path: Path,
) -> None:
    class Rethinks(ScriptedEngine):
        def answer(self, request: Request) -> Any:
            assert request.draft is not None
            request.draft.write("Not the answer after all, a tool is called next.")
            request.draft.discard()
            # Past Teams' one update a second, so the rewrite goes out.
            time.sleep(1.6)
            return ScriptedEngine.answer(self, request)

    job = personal_job(teams_connector)
    runner(Rethinks(turns=0, chart_dir=tmp_path, stream=True, text=TEXT)).run(message(job, 1))
    updates = stream_calls(teams_connector)
    assert [u["type"] for u in updates] == ["typing", "typing", "message"]
    assert updates[0]["text"].startswith("Not the answer")
    # The second update shows the new text only, in the same stream, next in sequence
    assert TEXT.startswith(updates[1]["text"]) and "Not the answer" not in updates[1]["text"]
    stream_id = updates[1]["entities"][0]["streamId"]
    assert updates[1]["entities"][0]["streamSequence"] == 2
    (answer,) = teams_connector.in_conversation(PERSONAL_CHAT)
    assert answer.id == stream_id and teams_connector.streams[stream_id].final


def test_a_worker_killed_before_recording_a_streamed_answer_answers_once(
    runner: Runner, teams_connector: TeamsConnectorStandIn, aws_stack: AwsStack,
    tmp_path: Path,
) -> None:
    job = personal_job(teams_connector)
    with pytest.raises(Killed):
        runner(streamed(tmp_path), store=KilledOnceDone).run(message(job, 1))
    # WHEN another worker takes the job over
    runner(streamed(tmp_path)).run(message(job, 2))
    # THEN the chat holds one answer, in a stream of its own
    (answer,) = teams_connector.in_conversation(PERSONAL_CHAT)
    assert answer.body["attachments"] and teams_connector.streams[answer.id].final
    assert stored_placeholder(aws_stack, job) == answer.id


def test_a_worker_killed_mid_stream_is_taken_over_with_one_answer(
    runner: Runner, teams_connector: TeamsConnectorStandIn, aws_stack: AwsStack,
    tmp_path: Path,
) -> None:
    class DiesStreaming(ScriptedEngine):
        def answer(self, request: Request) -> Any:
            assert request.draft is not None
            request.draft.write("**42** users ")
            raise Killed("streaming")

    job = personal_job(teams_connector)
    with pytest.raises(Killed):
        runner(DiesStreaming(turns=0, chart_dir=tmp_path)).run(message(job, 1))
    unfinished = stored_placeholder(aws_stack, job)
    assert unfinished in teams_connector.streams
    # WHEN another worker takes the job over (the unfinished stream cannot be edited)
    runner(streamed(tmp_path)).run(message(job, 2))
    # THEN the unfinished stream is gone, and one answer ends a stream of its own; the
    # first delivery's placeholder, which the record no longer named, stays behind
    assert unfinished not in teams_connector.activities
    left, answer = teams_connector.in_conversation(PERSONAL_CHAT)
    assert left.body["text"].startswith("⏳") and "attachments" not in left.body
    assert answer.body["attachments"] and teams_connector.streams[answer.id].final
    assert stored_placeholder(aws_stack, job) == answer.id


def test_the_stand_in_checks_streams_as_teams_does(
    teams_connector: TeamsConnectorStandIn,
) -> None:
    channel = TeamsChannel.connect(teams_connector.config())
    url = teams_connector.url

    def post(conversation: str, body: dict[str, Any]) -> str:
        """What the connector made of the answer: sent, refused (403) or bad (400)."""
        try:
            channel.connector.send(url, conversation, body)
        except Unreachable:
            return "refused"
        except DeliveryError:
            return "bad"
        return "sent"

    def typing(text: str, **info: Any) -> dict[str, Any]:
        return {"type": "typing", "text": text,
                "entities": [{"type": "streaminfo", "streamType": "streaming", **info}]}

    # Only personal chats stream; a stream starts at 1 with text
    assert post(CHANNEL_THREAD, typing("a", streamSequence=1)) == "refused"
    assert post(PERSONAL_CHAT, typing("", streamSequence=1)) == "bad"
    assert post(PERSONAL_CHAT, typing("a", streamSequence=2)) == "bad"
    stream_id = channel.connector.send(url, PERSONAL_CHAT, typing("a", streamSequence=1))
    # Later updates name the stream and go up in sequence
    assert post(PERSONAL_CHAT, typing("ab", streamSequence=2)) == "bad"
    assert post(PERSONAL_CHAT, typing("ab", streamSequence=1, streamId=stream_id)) == "bad"
    assert post(PERSONAL_CHAT, typing("ab", streamSequence=2, streamId=stream_id)) == "sent"
    # The final message has no sequence; nothing follows it
    final = {"type": "message", "text": "ab.",
             "entities": [{"type": "streaminfo", "streamType": "final", "streamId": stream_id}]}
    assert post(PERSONAL_CHAT, {**final, "entities": [{**final["entities"][0],
                                                        "streamSequence": 3}]}) == "bad"
    assert post(PERSONAL_CHAT, final) == "sent"
    assert post(PERSONAL_CHAT, typing("abc", streamSequence=3, streamId=stream_id)) == "refused"
    assert teams_connector.streams[stream_id].sequences == [1, 2]
    assert teams_connector.activities[stream_id].body["text"] == "ab."


def test_updates_carry_the_whole_text_at_most_once_an_interval(
    teams_connector: TeamsConnectorStandIn,
) -> None:
    now = [0.0]
    started: list[str] = []
    job = personal_job(teams_connector)
    draft = TeamsDraft(TeamsChannel.connect(teams_connector.config()).connector,
                       job.reply_to, job_id=job.job_id, on_start=started.append,
                       interval_s=1.5, clock=lambda: now[0])
    # WHEN text is written faster than Teams takes updates
    for at, text in ((0.0, "**42** "), (0.5, "users "), (1.0, "signed "), (1.6, "up.")):
        now[0] = at
        draft.write(text)
    # THEN the first goes at once, the next only after the interval, with all text so far
    updates = stream_calls(teams_connector)
    assert [u["text"] for u in updates] == ["**42** ", "**42** users signed up."]
    assert [u["entities"][0]["streamSequence"] for u in updates] == [1, 2]
    assert started == [updates[1]["entities"][0]["streamId"]]
