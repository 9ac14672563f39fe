"""End to end, with signed Slack payloads through the ingress, the job queue and tables
(moto), the worker's job runner, the Slack stand-in, the sample data and a scripted model:
an agent answer → Verify by someone who is not a reviewer (refused) → Verify by a reviewer
→ the modal submitted as prefilled → the entry stored and announced in the thread → the
same question asked again, answered from the entry with no model call."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bot.answer import Answer
from bot.job import VERIFY, Job
from executor.artifacts import LocalArtifactStore
from executor.config import EngineConfig, ModelConfig
from executor.router import RoutedEngine, build_engine
from executor.verified.library import Library
from executor.warehouse.duckdb import DuckDBWarehouse
from executor.worker.runner import Action
from tests.support.events import load_event, slack_payload, with_body
from tests.support.ingress import IngressStack
from tests.support.review import AGENT_SQL, QUESTION, review_desk
from tests.support.scripted_model import ScriptedModel, answer_script
from tests.support.signing import signed
from tests.support.verified import TODAY

REVIEWER = "U0REVIEW"
THREAD = "1795284000.000100"  # the sample mention's ts: the thread the answer is in
ANSWER = "**2** purchases were made on tablets in France last month."


def mention(event_id: str, text: str, ts: str) -> dict[str, Any]:
    """events/app_mention.json asking `text`, as event `event_id` in THREAD."""
    body = json.loads(load_event("app_mention")["body"])
    body["event_id"] = event_id
    body["event"].update(text=f"<@UBOT> {text}", ts=ts, event_ts=ts)
    if ts != THREAD:
        body["event"]["thread_ts"] = THREAD
    return signed(with_body("app_mention", json.dumps(body), "application/json"))


def form(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    return signed(with_body(name, urlencode({"payload": json.dumps(payload)}),
                            "application/x-www-form-urlencoded"))


def verify_click(user: str) -> dict[str, Any]:
    """events/block_actions_verify.json: `user` pressed Verify on the answer in THREAD."""
    payload = slack_payload("block_actions_verify")
    payload["user"]["id"] = user
    return form("block_actions_verify", payload)


def submitted_as_prefilled(view: dict[str, Any], user: str) -> dict[str, Any]:
    """events/view_submission_verify.json carrying the opened modal, every field left as
    prefilled."""
    payload = slack_payload("view_submission_verify")
    payload["user"]["id"] = user
    state = {
        block["block_id"]: {block["element"]["action_id"]: {
            "type": "plain_text_input", "value": block["element"].get("initial_value")}}
        for block in view["blocks"] if block.get("type") == "input"
    }
    payload["view"].update(private_metadata=view["private_metadata"], state={"values": state})
    return form("view_submission_verify", payload)


class Worker:
    """The worker's job runner on the ingress's queue and tables."""

    def __init__(self, stack: IngressStack, engine: RoutedEngine, reviews: Any) -> None:
        self.stack = stack
        self.runner = stack.runner(engine, reviews=reviews)

    def run_queued(self) -> list[str]:
        """Run every queued job; their kinds."""
        kinds = []
        for message in self.stack.queued_messages():
            assert self.runner.run(message).action is Action.DELETE
            kinds.append(Job.from_json(message.body).kind)
        return kinds

    def answer(self, job_id: str) -> Answer:
        record = self.stack.job_store().get(job_id)
        assert record is not None and record.answer is not None
        return Answer.from_dict(record.answer)


def test_a_reviewer_verifies_an_answer_and_the_question_is_then_answered_from_it(
    ingress_stack: IngressStack, verified_library: Library, duckdb_sample: DuckDBWarehouse,
    offline_config: EngineConfig, tmp_path: Path,
) -> None:
    # GIVEN the ingress with one reviewer, and a worker whose model answers once
    slack = ingress_stack.slack(reviewers=frozenset({REVIEWER}))
    desk = review_desk(verified_library, tmp_path)
    model = ScriptedModel(answer_script(AGENT_SQL, ANSWER))
    engine = build_engine(
        replace(offline_config, model=ModelConfig(provider="bedrock")),
        warehouse=duckdb_sample, artifacts=LocalArtifactStore(tmp_path / "results"),
        bedrock_client=model, library=verified_library, store=desk.store, today=lambda: TODAY,
    )
    worker = Worker(ingress_stack, engine, desk.desk)
    slack_api = ingress_stack.slack_api

    # WHEN the question is asked in a channel
    assert slack(mention("Ev08ABCDEF", QUESTION, THREAD))["statusCode"] == 200
    assert worker.run_queued() == ["answer"]
    # THEN the agent answers in the thread, with a Verify button, proposing the entry
    first = worker.answer("Ev08ABCDEF")
    assert not first.verified and first.proposal is not None and len(model.requests) == 3
    (answer,) = [m for m in slack_api.thread("C0001", THREAD) if m.blocks]
    assert "verify_answer" in json.dumps(answer.blocks)

    # WHEN someone who is not a reviewer presses Verify
    assert slack(verify_click("U0002"))["statusCode"] == 200
    # THEN they alone are told, and nothing opens or is queued
    [told] = slack_api.accepted("chat.postEphemeral")
    assert told.args["user"] == "U0002" and "Only reviewers" in told.args["text"]
    assert slack_api.count("views.open") == 0 and ingress_stack.queued_jobs() == []

    # WHEN a reviewer presses Verify
    assert slack(verify_click(REVIEWER))["statusCode"] == 200
    # THEN the modal opens, prefilled from the answer's proposal
    [opened] = slack_api.accepted("views.open")
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert first.proposal.name in json.dumps(view)

    # WHEN they submit it as prefilled, and the worker takes the verify job
    slack_api.reset()
    assert slack(submitted_as_prefilled(view, REVIEWER))["statusCode"] == 200
    assert worker.run_queued() == [VERIFY]
    # THEN the thread says who verified it, and the entry is stored with its fingerprint
    [notice] = slack_api.accepted("chat.postMessage")
    assert notice.args["thread_ts"] == THREAD
    assert notice.args["text"] == (f"Verified by <@{REVIEWER}>: questions like this are now "
                                   "answered from this query.")
    stored = desk.store.get(first.proposal.name)
    assert stored is not None and stored.verified_by == REVIEWER
    assert stored.source_job_id == "Ev08ABCDEF" and stored.fingerprint is not None

    # WHEN the worker's library reloads (the interval passing) and the question comes again
    engine.verified.library.refresh()
    assert slack(mention("Ev08AGAIN01", QUESTION, "1795284100.000100"))["statusCode"] == 200
    assert worker.run_queued() == ["answer"]
    # THEN it is answered from the verified entry, with no model call
    again = worker.answer("Ev08AGAIN01")
    assert again.verified and again.entry_id == first.proposal.name
    assert len(model.requests) == 3


def test_a_verification_that_would_change_another_answer_is_refused_in_the_thread(
    ingress_stack: IngressStack, verified_library: Library, duckdb_sample: DuckDBWarehouse,
    offline_config: EngineConfig, tmp_path: Path,
) -> None:
    # GIVEN an evaluation set with a near miss, and an agent answer proposing an entry
    near_miss = "How many purchases were made on phones last month?"
    slack = ingress_stack.slack(reviewers=frozenset({REVIEWER}))
    desk = review_desk(verified_library, tmp_path, (near_miss,))
    engine = build_engine(
        replace(offline_config, model=ModelConfig(provider="bedrock")),
        warehouse=duckdb_sample, artifacts=LocalArtifactStore(tmp_path / "results"),
        bedrock_client=ScriptedModel(answer_script(AGENT_SQL, ANSWER)),
        library=verified_library, store=desk.store, today=lambda: TODAY,
    )
    worker = Worker(ingress_stack, engine, desk.desk)
    slack(mention("Ev08ABCDEF", QUESTION, THREAD))
    worker.run_queued()
    slack(verify_click(REVIEWER))
    [opened] = ingress_stack.slack_api.accepted("views.open")
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view

    # WHEN the reviewer drops the country from the question, its parameters and its SQL
    def edited(block: dict[str, Any]) -> dict[str, Any]:
        value = block["element"].get("initial_value") or ""
        value = {"question": value.replace(" in France", ""),
                 "params": "\n".join(line for line in value.splitlines()
                                     if not line.startswith("country")),
                 "sql": value.replace("AND u.country = :country", "")}.get(block["block_id"],
                                                                          value)
        return {**block, "element": {**block["element"], "initial_value": value}}

    view = {**view, "blocks": [edited(block) if block.get("type") == "input" else block
                               for block in view["blocks"]]}
    ingress_stack.slack_api.reset()
    slack(submitted_as_prefilled(view, REVIEWER))
    assert worker.run_queued() == [VERIFY]
    # THEN the thread reads why: the near miss would be answered by the new entry
    [refusal] = ingress_stack.slack_api.accepted("chat.postMessage")
    assert refusal.args["thread_ts"] == THREAD
    assert "Not verified" in refusal.args["text"] and near_miss in refusal.args["text"]
    assert desk.store.entries() == []
