"""IDENTITY_MODE=per_user through the engine: each asker on their own database user's
warehouse, a note in the answer saying so, and a refusal (with no statement run) for an
asker nobody maps."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.asker import Asker
from executor.artifacts import LocalArtifactStore
from executor.config import EngineConfig
from executor.engine import Request
from executor.governance.identity import IdentityMap
from executor.governance.identity_pool import IdentityPool
from executor.governance.per_user import NO_WAREHOUSE_USER, NoWarehouseUser, PerUserAccess
from executor.router import build_engine
from executor.verified import Library
from executor.warehouse.base import Warehouse
from executor.warehouse.duckdb import DuckDBWarehouse
from tests.support.recording_warehouse import RecordingWarehouse
from tests.support.verified import TODAY

QUESTION = "how many users are on each plan?"


class _Setup:
    def __init__(self, duckdb: DuckDBWarehouse, text: str) -> None:
        self.opened: dict[str, RecordingWarehouse] = {}
        self.emails: list[str] = []

        def open_identity(user: str) -> Warehouse:
            self.opened[user] = RecordingWarehouse(duckdb)
            return self.opened[user]  # type: ignore[return-value]

        self.access = PerUserAccess(IdentityMap.parse(text),
                                    IdentityPool(open_identity, max_identities=4, idle_s=60))


def _engine(config: EngineConfig, library: Library, duckdb: DuckDBWarehouse,
            setup: _Setup) -> Any:
    return build_engine(config, warehouse=RecordingWarehouse(duckdb),  # type: ignore[arg-type]
                        artifacts=LocalArtifactStore(config.artifacts.results_dir),
                        library=library, today=lambda: TODAY, access=setup.access)


def _request(job_id: str, user: str | None, email: str | None = None) -> Request:
    asker = None if user is None else Asker("slack", user, "T0001", "C0001")
    return Request(job_id=job_id, question=QUESTION, asker=asker, email=lambda: email)


def test_each_asker_runs_as_their_own_database_user(
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse
) -> None:
    setup = _Setup(duckdb_sample, "email_local:db_,U0001=db_ana")
    engine = _engine(offline_config, verified_library, duckdb_sample, setup)
    ana = engine.answer(_request("p1", "U0001"))
    bo = engine.answer(_request("p2", "U0002", "bo.smith@example.com"))
    assert set(setup.opened) == {"db_ana", "db_bo_smith"}
    assert all(any("plan" in sql for sql in w.statements) for w in setup.opened.values())
    assert ana.verified and ana.notes == [
        "results reflect your own warehouse permissions (db_ana)"]
    assert bo.notes == ["results reflect your own warehouse permissions (db_bo_smith)"]


@pytest.mark.parametrize(("user", "email"), [("U0009", None), ("U0009", "x@other.org"),
                                             (None, None)])
def test_an_unmapped_asker_is_refused_and_nothing_runs(
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse,
    user: str | None, email: str | None,
) -> None:
    setup = _Setup(duckdb_sample, "email_local:db_@example.com")
    engine = _engine(offline_config, verified_library, duckdb_sample, setup)
    with pytest.raises(NoWarehouseUser, match="IDENTITY_MAP") as refused:
        engine.answer(_request("p3", user, email))
    assert str(refused.value) == NO_WAREHOUSE_USER
    assert setup.opened == {}
    assert engine.verified.warehouse.statements == []


def test_a_mapping_is_kept_briefly_and_a_refusal_not() -> None:
    now = [0.0]
    looked_up: list[str] = []
    access = PerUserAccess(IdentityMap.parse("email_local:db_"),
                           IdentityPool(lambda user: object(),  # type: ignore[arg-type,return-value]
                                        max_identities=4, idle_s=60),
                           mapping_ttl_s=60, clock=lambda: now[0])

    def email(address: str | None) -> Any:
        def read() -> str | None:
            looked_up.append(str(address))
            return address
        return read

    asker = Asker("slack", "U0001", "T0001")
    for _ in range(2):
        with access.session(Request("j", "q", asker=asker, email=email("ana@x.com"))):
            pass
    now[0] += 60
    with access.session(Request("j", "q", asker=asker, email=email("ana@x.com"))):
        pass
    other = replace(asker, user="U0002")
    for _ in range(2):
        with (pytest.raises(NoWarehouseUser),
              access.session(Request("j", "q", asker=other, email=email(None)))):
            pass
    assert looked_up == ["ana@x.com", "ana@x.com", "None", "None"]
