"""Building IDENTITY_MODE=per_user from settings: one Redshift warehouse per database user.

Each identity's warehouse is the configured one (host, database, schemas, TLS, statement
timeout, table descriptions) logged in as that user with the login `CachedLogins` keeps:
IAM's GetClusterCredentials on a provisioned cluster (the `cluster_identifier` option of
WAREHOUSE_URL), or a given `LoginSource` (the tests' PostgreSQL roles). Only Redshift has
database users to map to: DuckDB, and Redshift Serverless (whose credentials are the
worker role's own), are refused with a ConfigError.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bot.config import ConfigError
from executor.config import REDSHIFT_PREFIX, EngineConfig
from executor.governance.credentials import CachedLogins, ClusterCredentials, LoginSource
from executor.governance.identity_pool import IdentityPool
from executor.governance.per_user import PerUserAccess
from executor.warehouse.base import Warehouse
from executor.warehouse.schema_doc import resolve_schema_doc

# Options of WAREHOUSE_URL a per-user login keeps: the rest say how the worker's own
# user authenticates.
_KEPT_OPTIONS = ("sslmode",)


def open_per_user_access(
    config: EngineConfig,
    *,
    logins: LoginSource | None = None,
    redshift_client: Any = None,
    connect: Callable[..., Any] | None = None,
) -> PerUserAccess:
    """The per-user access IDENTITY_MODE=per_user configures; `logins` replaces IAM (tests),
    `redshift_client` is the IAM credentials' client, `connect` the driver's."""
    identity = config.identity
    if identity.identities is None:
        raise ConfigError("IDENTITY_MODE=per_user needs IDENTITY_MAP")
    opener = _identity_warehouses(config, logins, redshift_client, connect)
    pool = IdentityPool(opener, max_identities=identity.max_open, idle_s=identity.idle_s)
    return PerUserAccess(identity.identities, pool)


def _identity_warehouses(
    config: EngineConfig,
    logins: LoginSource | None,
    redshift_client: Any,
    connect: Callable[..., Any] | None,
) -> Callable[[str], Warehouse]:
    if not config.warehouse.url.startswith(REDSHIFT_PREFIX):
        raise ConfigError("IDENTITY_MODE=per_user needs a Redshift WAREHOUSE_URL: only a "
                          "warehouse with database users can run a question as its asker")
    from executor.warehouse.redshift.adapter import RedshiftWarehouse
    from executor.warehouse.redshift.target import parse_url

    warehouse = config.warehouse
    target = parse_url(warehouse.url)
    cached = CachedLogins(logins or _cluster_credentials(config, target.options,
                                                         target.database, redshift_client))
    doc = resolve_schema_doc(warehouse.schema_doc_path)
    options = {k: v for k, v in target.options.items() if k in _KEPT_OPTIONS}
    driver: dict[str, Any] = {"connect": connect} if connect is not None else {}

    def open_identity(db_user: str) -> Warehouse:
        login = cached.login(db_user)
        return RedshiftWarehouse(
            replace(target, user=login.user, options=options),
            password=lambda: cached.login(db_user).password,
            schemas=warehouse.schemas,
            statement_timeout_s=warehouse.statement_timeout_s,
            schema_doc=doc,
            cost_limits=warehouse.cost_limits,
            connections=config.identity.connections,
            **driver,
        )

    return open_identity


def _cluster_credentials(
    config: EngineConfig, options: dict[str, str], database: str, client: Any
) -> ClusterCredentials:
    if options.get("serverless_work_group"):
        raise ConfigError(
            "IDENTITY_MODE=per_user needs a provisioned Redshift cluster: Redshift Serverless "
            "gives credentials only for the worker's own IAM identity (docs/identity.md)"
        )
    cluster = options.get("cluster_identifier")
    if not cluster:
        raise ConfigError("IDENTITY_MODE=per_user needs cluster_identifier=... in "
                          "WAREHOUSE_URL, the cluster IAM gives per-user credentials for")
    if client is None:
        import boto3

        client = boto3.client("redshift", region_name=options.get("region") or config.region)
    return ClusterCredentials(client, cluster_identifier=cluster, database=database,
                              db_groups=config.identity.db_groups,
                              duration_s=config.identity.credentials_s)
