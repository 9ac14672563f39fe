"""Amazon Redshift through redshift-connector.

WAREHOUSE_URL is `redshift://user@host:5439/db`, with optional query parameters:
`schemas=a,b` (else WAREHOUSE_SCHEMAS), `sslmode=disable|verify-ca|verify-full`, and
for IAM authentication `iam=true` with `cluster_identifier=...` (provisioned) or
`serverless_work_group=...` (serverless), plus `region`, `profile` and `db_user`.
Without IAM the password comes from REDSHIFT_PASSWORD or the JSON secret named by
REDSHIFT_SECRET_ARN (key `password`), fetched once with an injected client and cached.

One connection is reused across queries behind a lock (queries from the worker's
threads run one at a time on it), with `statement_timeout` set for the session. Every
query runs in a transaction that is rolled back afterwards, so nothing is ever
committed. A connection that breaks (a terminated backend, a server or PgBouncer restart,
a network reset or a silent network) is dropped and re-opened with the session settings;
a read-only statement (what the SQL guard admits) is then retried once, anything else
fails. A statement timeout is the server's answer on a live session, never retried.
"""

from __future__ import annotations

import csv
import errno
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
import redshift_connector
from aws_lambda_powertools import Logger

from bot.config import ConfigError, read_json_secret
from executor.config import WarehouseConfig
from executor.errors import WarehouseError
from executor.warehouse.base import ExportResult, QueryResult, ResultColumn, TableInfo
from executor.warehouse.catalog import describe_tables
from executor.warehouse.csv_cells import neutralise_cell
from executor.warehouse.guard import is_read_only
from executor.warehouse.params import check_params
from executor.warehouse.schema_doc import SchemaDoc, resolve_schema_doc

logger = Logger(service="databot")

DEFAULT_PORT = 5439
URL_OPTIONS = (
    "schemas", "sslmode", "iam", "cluster_identifier", "serverless_work_group", "region",
    "profile", "db_user",
)  # fmt: skip
SSL_MODES = ("disable", "verify-ca", "verify-full")
# The driver's socket timeout covers every read, so it must outlast the statement timeout
# (which the server enforces with a clear error); it only catches a silent network.
SOCKET_TIMEOUT_MARGIN_S = 30
EXPORT_CHUNK_ROWS = 10_000
CATALOG_TTL_S = 600.0
# The shortest interval between catalog reads forced by tables(refresh=True).
CATALOG_REFRESH_S = 60.0
# SQLSTATEs meaning the session is gone: connection exceptions (PgBouncer reports its own
# losses as 08P01), administrator or crash shutdown, a server not yet accepting sessions.
_DISCONNECT_STATES = ("08", "57P01", "57P02", "57P03")
# The driver wraps some socket failures (InterfaceError "BrokenPipe: server socket closed",
# "connection is closed"; OperationalError "connection time out") but lets the socket
# file's own errors through raw: a reset, a write to a closed socket, a read past the
# socket timeout, a TLS stream cut short, and a short read that fails to unpack a header.
_TRANSPORT_ERRORS = (ConnectionError, TimeoutError, ssl.SSLError, struct.error)
_NETWORK_ERRNOS = frozenset(
    {errno.ENETDOWN, errno.ENETUNREACH, errno.ENETRESET, errno.EHOSTDOWN, errno.EHOSTUNREACH,
     errno.ENOTCONN, errno.ETIMEDOUT}
)  # fmt: skip


@dataclass(frozen=True)
class RedshiftTarget:
    """What WAREHOUSE_URL says: where to connect, as whom, how to authenticate."""

    host: str
    port: int
    database: str
    user: str | None
    schemas: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)

    @property
    def iam(self) -> bool:
        return self.options.get("iam", "").lower() in ("1", "true", "yes")


def parse_url(url: str) -> RedshiftTarget:
    """Parse `redshift://user@host:port/db?...`; a password in the URL is refused."""
    parts = urlsplit(url)
    if parts.scheme != "redshift" or not parts.hostname:
        raise ValueError("WAREHOUSE_URL must look like redshift://user@host:5439/database")
    if parts.password is not None:
        raise ValueError(
            "WAREHOUSE_URL must not contain a password: use REDSHIFT_PASSWORD or "
            "REDSHIFT_SECRET_ARN"
        )
    database = parts.path.lstrip("/")
    if not database:
        raise ValueError("WAREHOUSE_URL needs a database: redshift://user@host:5439/database")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - set(URL_OPTIONS))
    if unknown:
        raise ValueError(
            f"unknown WAREHOUSE_URL option(s) {', '.join(unknown)}; known: {', '.join(URL_OPTIONS)}"
        )
    if query.get("sslmode", "verify-full") not in SSL_MODES:
        raise ValueError(f"sslmode must be one of {', '.join(SSL_MODES)}")
    schemas = tuple(s.strip() for s in query.pop("schemas", "").split(",") if s.strip())
    return RedshiftTarget(
        host=parts.hostname,
        port=parts.port or DEFAULT_PORT,
        database=unquote(database),
        user=unquote(parts.username) if parts.username else None,
        schemas=schemas,
        options=query,
    )


def connect_args(target: RedshiftTarget, password: str | None) -> dict[str, Any]:
    """Keyword arguments for `redshift_connector.connect` (no network, testable alone)."""
    options = target.options
    args: dict[str, Any] = {
        "host": target.host,
        "port": target.port,
        "database": target.database,
        "application_name": "databot",
    }
    sslmode = options.get("sslmode", "verify-full")
    args.update({"ssl": False} if sslmode == "disable" else {"ssl": True, "sslmode": sslmode})
    if not target.iam:
        if target.user is None or password is None:
            raise ValueError(
                "Redshift password authentication needs a user in WAREHOUSE_URL and "
                "REDSHIFT_PASSWORD or REDSHIFT_SECRET_ARN"
            )
        return {**args, "user": target.user, "password": password}

    args.update(iam=True, db_user=options.get("db_user") or target.user)
    for name in ("region", "profile"):
        if options.get(name):
            args[name] = options[name]
    if options.get("serverless_work_group"):
        args.update(is_serverless=True, serverless_work_group=options["serverless_work_group"])
    elif options.get("cluster_identifier"):
        args["cluster_identifier"] = options["cluster_identifier"]
    else:
        raise ValueError("iam=true needs cluster_identifier=... or serverless_work_group=...")
    return args


class SecretPassword:
    """The `password` field of a Secrets Manager JSON secret, fetched once and cached."""

    def __init__(self, secret_arn: str, *, client: Any = None, region: str | None = None) -> None:
        self.secret_arn = secret_arn
        self._client = client
        self._region = region
        self._password: str | None = None
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if self._password is None:
                self._password = self._fetch()
            return self._password

    def _fetch(self) -> str:
        try:
            password = read_json_secret(
                self.secret_arn, client=self._client, region=self._region
            )["password"]
        except (ConfigError, KeyError) as e:
            # never include the secret's text in the message
            raise WarehouseError(
                f"secret {self.secret_arn} is not a JSON object with a 'password' field"
            ) from e
        return str(password)


def _no_password() -> str | None:
    return None


class RedshiftWarehouse:
    dialect = "redshift"

    def __init__(
        self,
        target: RedshiftTarget,
        *,
        password: Callable[[], str | None] = _no_password,
        schemas: tuple[str, ...] = ("public",),
        statement_timeout_s: float = 60.0,
        schema_doc: SchemaDoc | None = None,
        connect: Callable[..., Any] = redshift_connector.connect,
    ) -> None:
        self.target = target
        self.schemas = target.schemas or schemas
        self.statement_timeout_s = statement_timeout_s
        self._password = password
        self._doc = schema_doc if schema_doc is not None else resolve_schema_doc(None)
        self._connect = connect
        self._conn: Any = None
        self._lock = threading.RLock()
        self._catalog: tuple[float, list[TableInfo]] | None = None

    @classmethod
    def from_config(
        cls, config: WarehouseConfig, *, secrets_client: Any = None
    ) -> RedshiftWarehouse:
        target = parse_url(config.url)
        password: Callable[[], str | None] = _no_password
        if target.iam:
            pass
        elif config.redshift_password:
            password = _FixedPassword(config.redshift_password)
        elif config.redshift_secret_arn:
            password = SecretPassword(
                config.redshift_secret_arn, client=secrets_client, region=config.region
            )
        else:
            raise ValueError("Redshift needs REDSHIFT_PASSWORD, REDSHIFT_SECRET_ARN or iam=true")
        return cls(
            target,
            password=password,
            schemas=config.schemas,
            statement_timeout_s=config.statement_timeout_s,
            schema_doc=resolve_schema_doc(config.schema_doc_path),
        )

    # -- connection -----------------------------------------------------------------------

    def _connection(self) -> Any:
        if self._conn is None:
            started = time.perf_counter()
            conn = None
            try:
                args = connect_args(self.target, self._password())
                args["timeout"] = int(self.statement_timeout_s) + SOCKET_TIMEOUT_MARGIN_S
                conn = self._connect(**args)
                # Committed once, so the rollback after every query keeps it.
                conn.cursor().execute(
                    f"SET statement_timeout = {int(self.statement_timeout_s * 1000)}"
                )
                conn.commit()
            except Exception as e:
                if not _from_the_connection(e):
                    raise
                if conn is not None:
                    _close_quietly(conn)
                raise WarehouseError(
                    f"cannot connect to Redshift at {self.target.host}: {_message(e)}"
                ) from e
            self._conn = conn
            logger.info(
                "connected to redshift %s:%s/%s in %.2fs",
                self.target.host, self.target.port, self.target.database,
                time.perf_counter() - started,
            )  # fmt: skip
        return self._conn

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            _close_quietly(conn)

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A cursor in a transaction that is always rolled back; errors as WarehouseError.

        A broken connection is dropped (so the next call re-opens it) and reported as
        `_Disconnected`. Other errors (a file the export cannot write) pass through as
        they are, after the rollback.
        """
        with self._lock:
            conn = self._connection()
            try:
                cursor = conn.cursor()
                cursor.paramstyle = "named"
                yield cursor
            except Exception as e:
                if _is_disconnect(e):
                    self._drop_connection()
                    raise _Disconnected(_message(e)) from e
                if isinstance(e, redshift_connector.Error):
                    raise WarehouseError(_message(e)) from e
                raise
            finally:
                if self._conn is conn:
                    try:
                        conn.rollback()
                    except Exception as e:
                        if not _from_the_connection(e):
                            raise
                        self._drop_connection()

    def _run(self, work: Callable[[Any], Any], *, retry: bool) -> Any:
        """Run `work(cursor)`; if the connection broke under it and `retry` says the work
        only reads, once more on a fresh connection (that attempt is not retried)."""
        try:
            with self._transaction() as cursor:
                return work(cursor)
        except _Disconnected as e:
            if not retry:
                raise WarehouseError(f"lost the connection to Redshift: {e}") from e
            logger.warning("redshift connection broke (%s); re-opening it and retrying", e)
        return self._run(work, retry=False)

    # -- the Warehouse interface ------------------------------------------------------------

    def tables(self, refresh: bool = False) -> list[TableInfo]:
        """Tables of the configured schemas from information_schema, cached for 10 minutes.

        `refresh` (a query named a table the catalog lacks) re-reads it sooner, but at most
        once a minute, so misspelt names cannot keep the catalog queries running.
        """
        with self._lock:
            if self._catalog is not None:
                read_at, cached = self._catalog
                age = time.monotonic() - read_at
                if age <= CATALOG_TTL_S and not (refresh and age >= CATALOG_REFRESH_S):
                    return cached
            described = self._doc.describe(self._run(self._read_catalog, retry=True))
            self._catalog = (time.monotonic(), described)
            return described

    def _read_catalog(self, cursor: Any) -> list[TableInfo]:
        names = {f"schema{i}": schema for i, schema in enumerate(self.schemas)}
        cursor.execute(
            "SELECT c.table_schema, c.table_name, c.column_name, c.data_type, "
            "c.character_maximum_length, c.numeric_precision, c.numeric_scale "
            "FROM information_schema.columns c JOIN information_schema.tables t "
            "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            f"WHERE c.table_schema IN ({', '.join(':' + n for n in names)}) "
            "AND t.table_type IN ('BASE TABLE', 'VIEW') "
            "ORDER BY c.table_schema, c.table_name, c.ordinal_position",
            names,
        )
        listed = [
            (schema, table, column, _type_name(*type_parts))
            for schema, table, column, *type_parts in cursor.fetchall()
        ]

        def fetch(sql: str) -> list[tuple[Any, ...]]:
            cursor.execute(sql)
            return [tuple(row) for row in cursor.fetchall()]

        return describe_tables(fetch, listed)

    def query(self, sql: str, max_rows: int, params: dict[str, Any] | None = None) -> QueryResult:
        check_params(sql, params)
        started = time.perf_counter()

        def work(cursor: Any) -> QueryResult:
            cursor.execute(sql, params or None)
            columns = [d[0] for d in cursor.description or []]
            rows = [tuple(r) for r in cursor.fetchmany(max_rows)] if columns else []
            # the driver has read the whole result, so rowcount is its size
            total = max(cursor.rowcount, len(rows))
            return QueryResult(columns, rows, total, time.perf_counter() - started)

        result: QueryResult = self._run(work, retry=is_read_only(sql, self.dialect))
        return result

    def result_columns(self, sql: str, params: dict[str, Any] | None = None) -> list[ResultColumn]:
        check_params(sql, params)
        body = _body(sql)

        def work(cursor: Any) -> list[ResultColumn]:
            cursor.execute(f"SELECT * FROM ({body}) AS described LIMIT 0", params or None)
            return [
                ResultColumn(d[0], free_text=d[1] not in FIXED_SHAPE_TYPES)
                for d in cursor.description or []
            ]

        columns: list[ResultColumn] = self._run(work, retry=is_read_only(body, self.dialect))
        return columns

    def export(self, sql: str, path: Path, params: dict[str, Any] | None = None) -> ExportResult:
        """Stream the whole result to CSV or Parquet through a server-side cursor, in chunks."""
        open_writer = EXPORT_WRITERS.get(path.suffix.lower())
        if open_writer is None:
            raise ValueError(f"export path must end in {' or '.join(EXPORT_WRITERS)}: {path}")
        check_params(sql, params)
        started = time.perf_counter()
        body = _body(sql)

        def work(cursor: Any) -> int:
            cursor.execute(f"DECLARE databot_export NO SCROLL CURSOR FOR {body}", params or None)
            written = 0
            with open_writer(path) as write:
                while True:
                    cursor.execute(f"FETCH FORWARD {EXPORT_CHUNK_ROWS} FROM databot_export")
                    rows = cursor.fetchall()
                    description = cursor.description or []
                    write([d[0] for d in description], rows, [d[1] for d in description])
                    written += len(rows)
                    if len(rows) < EXPORT_CHUNK_ROWS:
                        break
            cursor.execute("CLOSE databot_export")
            return written

        rows: int = self._run(work, retry=is_read_only(body, self.dialect))
        return ExportResult(str(path), rows, time.perf_counter() - started)

    def close(self) -> None:
        with self._lock:
            self._drop_connection()


class _FixedPassword:
    """A password from the environment; a class so that its repr never shows the value."""

    def __init__(self, password: str) -> None:
        self._password = password

    def __call__(self) -> str:
        return self._password

    def __repr__(self) -> str:
        return "_FixedPassword(***)"


class _Disconnected(Exception):
    """The connection broke under a statement; the caller may retry on a new one."""


def _is_disconnect(error: BaseException) -> bool:
    """Whether `error` means the session is gone (as opposed to the server refusing or
    cancelling a statement on a live session, e.g. 57014 for a statement timeout)."""
    if isinstance(error, redshift_connector.Error):
        state = _field(error, "C")
        if state:
            return state.startswith(_DISCONNECT_STATES)
        # Without a server response these two are the driver's own socket failures.
        return isinstance(
            error, redshift_connector.InterfaceError | redshift_connector.OperationalError
        )
    if isinstance(error, _TRANSPORT_ERRORS):
        return True
    return isinstance(error, OSError) and error.errno in _NETWORK_ERRNOS


def _from_the_connection(error: BaseException) -> bool:
    """Raised by the driver or its socket (as opposed to a bug, or a local file's error)."""
    return isinstance(error, redshift_connector.Error) or _is_disconnect(error)


def _body(sql: str) -> str:
    """The statement without trailing semicolons, so that it can be wrapped."""
    return sql.strip().rstrip(";").rstrip()


def _close_quietly(conn: Any) -> None:
    try:
        conn.close()
    except Exception:  # it is already broken; closing is best effort
        logger.debug("closing a broken redshift connection failed", exc_info=True)


def _field(error: BaseException, code: str) -> str:
    """A field of the server's error response (C: SQLSTATE, M: message), if there is one."""
    detail = error.args[0] if error.args else None
    return str(detail.get(code, "")) if isinstance(detail, dict) else ""


def _message(error: BaseException) -> str:
    return _field(error, "M") or str(error) or type(error).__name__


def _type_name(data_type: str, length: int | None, precision: int | None, scale: int | None) -> str:
    if length is not None and "char" in data_type:
        return f"{data_type}({length})"
    if data_type == "numeric" and precision is not None:
        return f"numeric({precision},{scale or 0})"
    return data_type


# -- export writers: each receives (column names, rows, column type OIDs) per chunk ---------

ChunkWriter = Callable[[list[str], list[Any], list[int]], None]


@contextmanager
def _csv_writer(path: Path) -> Iterator[ChunkWriter]:
    """CSV in the sample data's conventions (empty for NULL, true/false, ISO dates), its
    cells neutralised against formula injection."""
    with open(path, "w", encoding="utf-8", newline="") as out:
        # RFC 4180 line ends: the csv module quotes a field only for characters of its line
        # terminator, so with "\n" alone a value holding "\r" would split its row.
        writer = csv.writer(out, lineterminator="\r\n")
        started = False

        def write(columns: list[str], rows: list[Any], type_codes: list[int]) -> None:
            nonlocal started
            if not started:
                writer.writerow([neutralise_cell(c) for c in columns])
                started = True
            writer.writerows([neutralise_cell(_csv_value(v)) for v in row] for row in rows)

        yield write


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


# Type OIDs of numbers, booleans, dates and times: their printed values cannot start with
# a formula character (see csv_cells).
FIXED_SHAPE_TYPES = frozenset({16, 20, 21, 23, 26, 700, 701, 1700, 1082, 1083, 1114, 1184, 1266})

# Type OIDs → Arrow types. NUMERIC has no fixed scale in a result (avg() returns many
# digits), so Parquet gets it as DOUBLE; CSV keeps it exact. Other types become text.
_ARROW_TYPES: dict[int, pa.DataType] = {
    16: pa.bool_(), 20: pa.int64(), 21: pa.int16(), 23: pa.int32(), 700: pa.float32(),
    701: pa.float64(), 1700: pa.float64(), 1082: pa.date32(), 1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"), 25: pa.string(), 1042: pa.string(), 1043: pa.string(),
}  # fmt: skip


def _arrow_array(values: list[Any], type_: pa.DataType) -> pa.Array:
    if type_ == pa.float64():
        values = [None if v is None else float(v) for v in values]
    elif type_ == pa.string():
        values = [None if v is None else str(v) for v in values]
    return pa.array(values, type=type_)


@contextmanager
def _parquet_writer(path: Path) -> Iterator[ChunkWriter]:
    writers: list[pq.ParquetWriter] = []

    def write(columns: list[str], rows: list[Any], type_codes: list[int]) -> None:
        types = [_ARROW_TYPES.get(code, pa.string()) for code in type_codes]
        schema = pa.schema(list(zip(columns, types, strict=True)))
        arrays = [_arrow_array([row[i] for row in rows], t) for i, t in enumerate(types)]
        if not writers:
            writers.append(pq.ParquetWriter(path, schema))
        writers[0].write_table(pa.Table.from_arrays(arrays, schema=schema))

    try:
        yield write
    finally:
        for writer in writers:
            writer.close()


EXPORT_WRITERS: dict[str, Callable[[Path], Any]] = {
    ".csv": _csv_writer,
    ".parquet": _parquet_writer,
}
