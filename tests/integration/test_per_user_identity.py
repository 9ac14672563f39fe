"""IDENTITY_MODE=per_user against a real PostgreSQL with row-level security, through
redshift-connector and PgBouncer: each person's question runs as their own database user,
so the database's grants and policies decide what they get and what the model is shown.

The PostgreSQL roles' passwords stand in for IAM's temporary credentials (StaticLogins in
place of GetClusterCredentials); the pool, the mapping and the engine are the real ones.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.asker import Asker
from executor.artifacts import LocalArtifactStore
from executor.config import (
    ArtifactsConfig,
    EngineConfig,
    IdentityConfig,
    ModelConfig,
    WarehouseConfig,
)
from executor.engine import Request
from executor.governance.credentials import StaticLogins
from executor.governance.identity import IdentityMap
from executor.governance.identity_warehouse import open_per_user_access
from executor.governance.per_user import NoWarehouseUser, PerUserAccess
from executor.router import build_engine
from executor.tools.base import ToolContext, ToolError
from executor.tools.run_sql import run_sql
from executor.verified import Library
from executor.warehouse.redshift.adapter import RedshiftWarehouse
from tests.support.postgres import PostgresServer, free_port, run_pgbouncer
from tests.support.recording_warehouse import RecordingWarehouse
from tests.support.scripted_model import ScriptedModel, answer_script
from tests.support.verified import TODAY

pytestmark = pytest.mark.integration

PASSWORDS = {"db_ana": "ana-pw", "db_bo": "bo-pw"}
COUNTRIES = {"db_ana": "India", "db_bo": "Germany"}
ANA = Asker("slack", "U0001", "T0001", "C0001")
BO = Asker("slack", "U0002", "T0001", "C0001")
STRANGER = Asker("slack", "U0003", "T0001", "C0001")
EMAILS = {"U0002": "bo@example.com", "U0003": "mallory@elsewhere.example.net"}
IDENTITY_MAP = "email_local:db_@example.com,U0001=db_ana"

# A copy of the users in schema `secure`, each role seeing its own country's rows only;
# `secure.salaries` is granted to ana alone, and bo may only insert into
# `secure.suggestions`. The policy reads the mapping of roles to
# countries from schema `rls`, which the warehouse does not list.
RLS_SQL = f"""
CREATE SCHEMA secure;
CREATE TABLE secure.users AS SELECT * FROM public.users;
CREATE TABLE secure.salaries (user_id integer, amount integer);
CREATE TABLE secure.suggestions (body text);
CREATE SCHEMA rls;
CREATE TABLE rls.user_countries (db_user name PRIMARY KEY, country text);
INSERT INTO rls.user_countries VALUES {", ".join(f"('{u}', '{c}')" for u, c in COUNTRIES.items())};
CREATE FUNCTION rls.current_user_country() RETURNS text LANGUAGE sql STABLE
  AS $$ SELECT country FROM rls.user_countries WHERE db_user = current_user $$;
ALTER TABLE secure.users ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_country ON secure.users FOR SELECT
  USING (country = rls.current_user_country());
{"".join(f"CREATE ROLE {u} LOGIN PASSWORD '{p}';" for u, p in PASSWORDS.items())}
GRANT USAGE ON SCHEMA secure, rls TO db_ana, db_bo;
GRANT SELECT ON secure.users, rls.user_countries TO db_ana, db_bo;
GRANT SELECT ON secure.salaries TO db_ana;
GRANT INSERT ON secure.suggestions TO db_bo;
ALTER ROLE db_ana SET search_path = secure;
ALTER ROLE db_bo SET search_path = secure;
ANALYZE secure.users;
"""


@dataclass(frozen=True)
class Secured:
    config: EngineConfig
    counts: dict[str, int]


@pytest.fixture(scope="module")
def secured(postgres_server: PostgresServer) -> Iterator[Secured]:
    postgres_server.psql(RLS_SQL)
    counts = {
        user: int(postgres_server.psql(
            f"SELECT count(*) FROM public.users WHERE country = '{country}'"))
        for user, country in COUNTRIES.items()
    }
    assert len(set(counts.values())) == 2 and all(counts.values())
    workdir = postgres_server.workdir / "pgbouncer-identity"
    with run_pgbouncer(postgres_server, workdir, free_port(), users=PASSWORDS) as bouncer:
        config = EngineConfig(
            warehouse=WarehouseConfig(url=bouncer.url, schemas=("secure",),
                                      redshift_password=bouncer.password,
                                      statement_timeout_s=5),
            identity=IdentityConfig(mode="per_user",
                                    identities=IdentityMap.parse(IDENTITY_MAP)),
        )
        yield Secured(config, counts)


@pytest.fixture
def access(secured: Secured) -> Iterator[PerUserAccess]:
    per_user = open_per_user_access(secured.config, logins=StaticLogins(PASSWORDS))
    yield per_user
    per_user.pool.close()


def _engine(secured: Secured, access: PerUserAccess, library: Library, tmp_path: Path,
            model: ScriptedModel | None = None) -> Any:
    provider = "offline" if model is None else "bedrock"
    config = EngineConfig(warehouse=secured.config.warehouse,
                          model=ModelConfig(provider=provider), identity=secured.config.identity,
                          artifacts=ArtifactsConfig(results_dir=tmp_path))
    return build_engine(
        # The worker's own user: recorded, so a test sees that nothing ran as it.
        config, warehouse=RecordingWarehouse(
            RedshiftWarehouse.from_config(secured.config.warehouse)),  # type: ignore[arg-type]
        artifacts=LocalArtifactStore(tmp_path), library=library, bedrock_client=model,
        today=lambda: TODAY, access=access,
    )


def _request(job_id: str, asker: Asker, question: str) -> Request:
    return Request(job_id=job_id, question=question, asker=asker,
                   email=lambda: EMAILS.get(asker.user))


def test_two_people_get_their_own_count_from_the_same_verified_question(
    secured: Secured, access: PerUserAccess, verified_library: Library, tmp_path: Path,
) -> None:
    engine = _engine(secured, access, verified_library, tmp_path)
    # WHEN ana and bo ask the same verified question
    ana = engine.answer(_request("rls-1", ANA, "How many users do we have in each country?"))
    bo = engine.answer(_request("rls-2", BO, "How many users do we have in each country?"))
    # THEN each sees their own country only, as the policy says, and is told why
    assert ana.verified and bo.verified
    assert ana.table is not None and bo.table is not None
    assert ana.table.rows == [["India", secured.counts["db_ana"]]]
    assert bo.table.rows == [["Germany", secured.counts["db_bo"]]]
    assert ana.notes == ["results reflect your own warehouse permissions (db_ana)"]
    assert bo.notes == ["results reflect your own warehouse permissions (db_bo)"]


def test_through_the_agent_counts_and_the_schema_shown_are_each_persons(
    secured: Secured, access: PerUserAccess, verified_library: Library, tmp_path: Path,
) -> None:
    sql = "SELECT COUNT(*) AS people FROM users"
    model = ScriptedModel([*answer_script(sql, "Here is the count."),
                           *answer_script(sql, "Here is the count.")])
    engine = _engine(secured, access, verified_library, tmp_path, model)
    question = "tally the people rows for me"
    ana = engine.answer(_request("rls-3", ANA, question))
    bo = engine.answer(_request("rls-4", BO, question))
    assert not ana.verified and ana.table is not None and bo.table is not None
    assert ana.table.rows == [[secured.counts["db_ana"]]]
    assert bo.table.rows == [[secured.counts["db_bo"]]]
    # the schema in each prompt is what that user may read: salaries is granted to ana only
    ana_prompt = model.requests[0]["system"][0]["text"]
    bo_prompt = model.requests[3]["system"][0]["text"]
    assert "users" in ana_prompt and "users" in bo_prompt
    assert "salaries" in ana_prompt and "salaries" not in bo_prompt
    assert "suggestions" not in ana_prompt and "suggestions" not in bo_prompt
    assert "user_countries" not in ana_prompt


def test_an_unmapped_person_is_refused_before_anything_runs(
    secured: Secured, access: PerUserAccess, verified_library: Library, tmp_path: Path,
) -> None:
    model = ScriptedModel([])
    engine = _engine(secured, access, verified_library, tmp_path, model)
    for asker in (STRANGER, None):
        request = Request(job_id="rls-5", question="How many users do we have in each country?",
                          asker=asker, email=lambda: EMAILS["U0003"])
        with pytest.raises(NoWarehouseUser, match="IDENTITY_MAP"):
            engine.answer(request)
    assert access.pool.open_identities() == [] and model.requests == []
    assert engine.verified.warehouse.statements == []


def test_a_connection_is_never_handed_to_another_person(
    secured: Secured, access: PerUserAccess,
) -> None:
    seen: list[tuple[str, str, int]] = []
    errors: list[BaseException] = []

    def ask(asker: Asker, times: int) -> None:
        try:
            for i in range(times):
                request = _request(f"rls-{asker.user}-{i}", asker, "q")
                with access.session(request) as warehouse:
                    [(user, count)] = warehouse.query(
                        "SELECT current_user, COUNT(*) FROM users", 1).rows
                    # the catalog session too is the person's own
                    assert {t.name for t in warehouse.tables()} >= {"users"}
                    seen.append((asker.user, str(user), int(count)))
        except BaseException as e:  # surfaced by the main thread
            errors.append(e)

    threads = [threading.Thread(target=ask, args=(asker, 8)) for asker in (ANA, BO, ANA, BO)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    expected = {"U0001": "db_ana", "U0002": "db_bo"}
    assert len(seen) == 32
    for user_id, db_user, count in seen:
        assert db_user == expected[user_id] and count == secured.counts[db_user]
    assert sorted(access.pool.open_identities()) == ["db_ana", "db_bo"]


@pytest.mark.parametrize("sql", [
    "SET ROLE db_ana", "SET SESSION AUTHORIZATION db_ana", "RESET ROLE",
    "SET search_path = public", "SELECT set_config('role', 'db_ana', false)",
])  # fmt: skip
def test_a_person_cannot_switch_identity_through_run_sql(
    access: PerUserAccess, sql: str,
) -> None:
    with access.session(_request("rls-6", BO, "q")) as warehouse:
        context = ToolContext(job_id="rls-6", warehouse=warehouse,
                              artifacts=None, progress=lambda stage: None)  # type: ignore[arg-type]
        with pytest.raises(ToolError, match="refused by the SQL guard"):
            run_sql(context, {"sql": sql})
        [(user,)] = warehouse.query("SELECT current_user", 1).rows
    assert user == "db_bo"
