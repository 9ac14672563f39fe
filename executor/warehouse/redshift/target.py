"""Where to connect to Redshift and as whom: WAREHOUSE_URL, the password and IAM.

WAREHOUSE_URL is `redshift://user@host:5439/db`, with optional query parameters:
`schemas=a,b` (else WAREHOUSE_SCHEMAS), `sslmode=disable|verify-ca|verify-full`, and
for IAM authentication `iam=true` with `cluster_identifier=...` (provisioned) or
`serverless_work_group=...` (serverless), plus `region`, `profile` and `db_user`.
Without IAM the password comes from REDSHIFT_PASSWORD or the JSON secret named by
REDSHIFT_SECRET_ARN (key `password`), fetched once with an injected client and cached.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from bot.config import ConfigError, read_json_secret
from executor.errors import WarehouseError

DEFAULT_PORT = 5439
URL_OPTIONS = (
    "schemas", "sslmode", "iam", "cluster_identifier", "serverless_work_group", "region",
    "profile", "db_user",
)  # fmt: skip
SSL_MODES = ("disable", "verify-ca", "verify-full")

# Gives the password to connect with; called at each (re-)connect, None under IAM.
Password = Callable[[], str | None]


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


def password_source(
    target: RedshiftTarget,
    *,
    password: str | None,
    secret_arn: str | None,
    region: str | None,
    secrets_client: Any = None,
) -> Password:
    """How to get the password: none under IAM, else the given one, else the secret's
    (fetched with `secrets_client`, or a client for `region`)."""
    if target.iam:
        return no_password
    if password:
        return FixedPassword(password)
    if secret_arn:
        return SecretPassword(secret_arn, client=secrets_client, region=region)
    raise ValueError("Redshift needs REDSHIFT_PASSWORD, REDSHIFT_SECRET_ARN or iam=true")


def no_password() -> str | None:
    """IAM authentication: redshift-connector fetches temporary credentials itself."""
    return None


class FixedPassword:
    """A password from the environment; a class so that its repr never shows the value."""

    def __init__(self, password: str) -> None:
        self._password = password

    def __call__(self) -> str:
        return self._password

    def __repr__(self) -> str:
        return "FixedPassword(***)"
