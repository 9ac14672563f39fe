"""Per-user identity through the worker and Slack: the asker's profile email (users.info on
the Slack stand-in) maps them to a database user, the answer's footer says whose
permissions the results reflect, and a person nobody maps is told so in the thread."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from executor.artifacts import LocalArtifactStore
from executor.config import EngineConfig
from executor.governance.identity import IdentityMap
from executor.governance.identity_pool import IdentityPool
from executor.governance.per_user import NO_WAREHOUSE_USER, PerUserAccess
from executor.router import build_engine
from executor.verified import Library
from executor.warehouse.duckdb import DuckDBWarehouse
from executor.worker.runner import Action, JobRunner
from tests.support.recording_warehouse import RecordingWarehouse
from tests.support.slack_api import SlackApiStandIn
from tests.support.takeover import KillSwitch, marked, message
from tests.support.verified import TODAY
from tests.support.worker import slack_job

QUESTION = "How many users are on each plan?"


def _runner(runner_for: Callable[..., JobRunner], config: EngineConfig, library: Library,
            duckdb: DuckDBWarehouse, opened: dict[str, RecordingWarehouse]) -> JobRunner:
    def open_identity(user: str) -> Any:
        opened[user] = RecordingWarehouse(duckdb)
        return opened[user]

    access = PerUserAccess(IdentityMap.parse("email_local:db_@example.com"),
                           IdentityPool(open_identity, max_identities=4, idle_s=60))
    engine = build_engine(config, warehouse=duckdb, library=library, today=lambda: TODAY,
                          artifacts=LocalArtifactStore(config.artifacts.results_dir),
                          access=access)
    return runner_for(KillSwitch(), engine)


def test_the_answer_runs_as_the_asker_and_says_so(
    runner_for: Callable[..., JobRunner], slack_api: SlackApiStandIn,
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse,
) -> None:
    # GIVEN a person whose Slack profile email the map turns into db_ana_lopez
    slack_api.set_user("U0001", "ana.lopez@example.com")
    opened: dict[str, RecordingWarehouse] = {}
    runner = _runner(runner_for, offline_config, verified_library, duckdb_sample, opened)
    job = slack_job(QUESTION)
    # WHEN the worker answers their question
    assert runner.run(message(job, 1)).action is Action.DELETE
    # THEN it ran on their warehouse, and the answer's footer names their identity
    assert list(opened) == ["db_ana_lopez"] and opened["db_ana_lopez"].statements
    (answer,) = marked(slack_api.thread("C0001", str(job.reply_to.thread_ts)), job, "answer")
    assert "results reflect your own warehouse permissions (db_ana_lopez)" in json.dumps(
        answer.blocks)


def test_a_person_nobody_maps_is_told_and_nothing_runs(
    runner_for: Callable[..., JobRunner], slack_api: SlackApiStandIn,
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse,
) -> None:
    # GIVEN a guest from another domain
    slack_api.set_user("U0001", "ana.lopez@elsewhere.example.org")
    opened: dict[str, RecordingWarehouse] = {}
    runner = _runner(runner_for, offline_config, verified_library, duckdb_sample, opened)
    job = slack_job(QUESTION)
    # WHEN they ask
    assert runner.run(message(job, 1)).action is Action.DELETE
    # THEN the thread tells them why, and no warehouse was opened for them
    thread = slack_api.thread("C0001", str(job.reply_to.thread_ts))
    assert any(NO_WAREHOUSE_USER in (msg.text or "") + json.dumps(msg.blocks or [])
               for msg in thread)
    assert opened == {}
