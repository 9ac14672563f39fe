"""The SQL guard: every statement from the model or a person passes here before it runs.

It parses with sqlglot for the warehouse's dialect (never keyword substrings, which would
reject a column such as `updated_at`), accepts exactly one read-only query over the
warehouse's own tables and the schema-description views (read only for the warehouse's
schemas), calling only functions on the dialect's allow-list and within their size bounds
(`executor.warehouse.sql_functions`), and regenerates the SQL from the checked tree so
that what runs is what was checked. Every rejection is an `UnsafeSQL` with a one-line
reason.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError

from executor.errors import UnsafeSQL
from executor.warehouse.base import TableInfo
from executor.warehouse.sql_functions import (
    ALLOWED_FUNCTIONS,
    TABLE_FUNCTIONS,
    allowed_name,
    function_name,
    size_problem,
)

DIALECTS = ("duckdb", "redshift")

# sqlglot warns when it falls back to a generic Command (VACUUM, UNLOAD, ...); the guard
# rejects those with its own one-line reason, so the warning is only noise on stderr.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_TOKEN_REPR = re.compile(r"<Token token_type: [\w.]+, text: (.*?), line: .*?>")

# Views that describe the schema and nothing else, each with its column naming the schema
# a row describes; other system catalogs (pg_user, stl_*, svl_*, pg_shadow,
# duckdb_secrets(), ...) stay out of reach. When the warehouse's tables carry schemas
# (Redshift's WAREHOUSE_SCHEMAS), a view is read only for those schemas.
DESCRIPTION_VIEWS: dict[str, str] = {
    **{
        f"information_schema.{view}": "schema_name" if view == "schemata" else "table_schema"
        for view in (
            "tables",
            "columns",
            "views",
            "schemata",
            "table_constraints",
            "key_column_usage",
        )
    },
    **{
        name: column
        for view, column in (
            ("pg_table_def", "schemaname"),
            ("svv_columns", "table_schema"),
            ("svv_tables", "table_schema"),
            ("svv_all_columns", "schema_name"),
            ("svv_all_tables", "schema_name"),
            ("svv_redshift_columns", "schema_name"),
            ("svv_redshift_tables", "schema_name"),
        )
        for name in (view, f"pg_catalog.{view}")
    },
}

# Statement (and statement-like clause) nodes that are rejected wherever they appear.
FORBIDDEN_NODES: tuple[type[exp.Expr], ...] = (
    exp.DML,
    exp.DDL,
    exp.Drop,
    exp.Alter,
    exp.TruncateTable,
    exp.Grant,
    exp.Revoke,
    exp.Command,
    exp.Set,
    exp.Into,
    exp.Lock,
    exp.Pragma,
    exp.Use,
    exp.Show,
    exp.Describe,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Analyze,
    exp.Attach,
    exp.Detach,
    exp.Install,
    exp.Summarize,
    exp.Comment,
    exp.Kill,
    exp.Cache,
    exp.Uncache,
    exp.Refresh,
    exp.LoadData,
    exp.Export,
    exp.Declare,
    exp.Execute,
)

STATEMENT_NAMES: dict[type[exp.Expr], str] = {
    exp.TruncateTable: "TRUNCATE",
    exp.Into: "SELECT … INTO",
    exp.Lock: "SELECT … FOR UPDATE/SHARE",
    exp.Transaction: "BEGIN",
    exp.LoadData: "LOAD DATA",
}


class UnknownTable(UnsafeSQL):
    """A table outside the allowed set (a caller may re-read the schema once and retry)."""


@dataclass(frozen=True)
class CheckedSQL:
    """A statement the guard accepted.

    `sql` is the whole query, what an export runs; `capped(max_rows)` is the same query
    with its LIMIT added or clamped, for fetching a preview. Both are generated from the
    checked tree, comments dropped and `:name` parameters kept as written.
    """

    sql: str
    dialect: str
    tables: frozenset[str]
    statement: exp.Query = field(repr=False, compare=False)

    def capped(self, max_rows: int) -> str:
        if max_rows < 1:
            raise ValueError(f"max_rows must be at least 1, got {max_rows}")
        return _generate(_capped(self.statement, max_rows), self.dialect)


def allowed_tables(tables: Iterable[TableInfo]) -> frozenset[str]:
    """The names a query may use for `tables`: bare (unqualified names resolve through
    the configured schemas) and schema-qualified, lower-cased."""
    names: set[str] = set()
    for table in tables:
        names.add(table.name.lower())
        if table.schema:
            names.add(f"{table.schema}.{table.name}".lower())
    return frozenset(names)


def check_sql(sql: str, dialect: str, *, allowed: Collection[str]) -> CheckedSQL:
    """Accept one read-only query over `allowed` tables, or raise UnsafeSQL saying why."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}; expected one of {DIALECTS}")
    try:
        statement = _single_statement(sql, dialect)
        _check_nodes(statement, dialect)
        tables = _check_tables(statement, allowed)
        statement = _confine_description_views(statement, allowed)
        generated = _generate(statement, dialect)
    except RecursionError as e:
        raise UnsafeSQL("the SQL is nested too deeply to check") from e
    return CheckedSQL(sql=generated, dialect=dialect, tables=tables, statement=statement)


def is_read_only(sql: str, dialect: str) -> bool:
    """Whether `sql` is one statement that writes nothing, whatever its tables and functions
    (the guard judged those before the first run): an adapter re-runs only such a statement
    after its connection broke."""
    try:
        statement = _single_statement(sql, dialect)
        return not any(isinstance(node, FORBIDDEN_NODES) for node in statement.walk())
    except (UnsafeSQL, RecursionError):
        return False


def _single_statement(sql: str, dialect: str) -> exp.Query:
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as e:
        raise UnsafeSQL(f"could not parse the SQL as {dialect}: {_parse_problem(e)}") from e
    except SqlglotError as e:
        raise UnsafeSQL(f"could not parse the SQL as {dialect}: {_first_line(e)}") from e
    if not statements:
        raise UnsafeSQL("no SQL statement found")
    if len(statements) > 1:
        kinds = ", ".join(
            "SELECT" if isinstance(s, exp.Query) else _describe(s) for s in statements
        )
        raise UnsafeSQL(
            f"only single SELECT statements are allowed: found {len(statements)} ({kinds})"
        )
    statement = statements[0]
    # "(SELECT ...)" is the same query; "(SELECT ...) LIMIT 5" stays a subquery.
    while isinstance(statement, exp.Subquery) and _only_wraps(statement):
        statement = statement.this
    if not isinstance(statement, exp.Query):
        raise UnsafeSQL(
            f"only single SELECT statements are allowed: found {_describe(statement, sql)}"
        )
    return statement


def _only_wraps(subquery: exp.Subquery) -> bool:
    return all(value is None for key, value in subquery.args.items() if key != "this")


def _check_nodes(statement: exp.Expr, dialect: str) -> None:
    for node in statement.walk():
        if isinstance(node, FORBIDDEN_NODES):
            raise UnsafeSQL(f"only read-only queries are allowed: found {_describe(node)}")
        if isinstance(node, exp.Func):
            _check_function(node, dialect)


def _check_function(node: exp.Func, dialect: str) -> None:
    """Refuse a function off the dialect's allow-list, out of its place, or too big."""
    name = function_name(node)
    if isinstance(node.parent, exp.Dot) and node.arg_key == "expression":
        # `main.repeat(...)` or DuckDB's `'x'.repeat(...)`: the arguments are not where
        # the checks below look for them.
        raise UnsafeSQL(f"function {name} must be called by its plain name, as {name}(...)")
    as_table = _in_from(node)
    if as_table and allowed_name(node) not in TABLE_FUNCTIONS:
        raise UnsafeSQL(f"table function {name} is not allowed: query the warehouse's tables")
    if allowed_name(node) not in ALLOWED_FUNCTIONS[dialect]:
        raise UnsafeSQL(
            f"function {name} is not allowed: it is not among the analysis functions"
            " the guard accepts"
        )
    if as_table and isinstance(node, exp.Unnest | exp.Explode):
        column = next((e for e in node.expressions if isinstance(e, exp.Column | exp.Dot)), None)
        if column is not None:
            # Redshift reads `FROM users AS pg_catalog, pg_catalog.pg_shadow` as a walk
            # into a column named by the alias, which no table check would see.
            raise UnsafeSQL(f"{column.sql(dialect=dialect)} in FROM is not a table")
    problem = size_problem(node, as_table=as_table)
    if problem is not None:
        raise UnsafeSQL(f"function {name} is not allowed here: {problem}")


def _in_from(node: exp.Func) -> bool:
    """In FROM, JOIN or LATERAL position a function produces rows: a table function."""
    return isinstance(node.parent, exp.Table | exp.Lateral | exp.From | exp.Join)


def _check_tables(statement: exp.Expr, allowed: Collection[str]) -> frozenset[str]:
    used: set[str] = set()
    for table in statement.find_all(exp.Table):
        if isinstance(table.this, exp.Func):
            continue  # a table function, checked with the other functions
        if not isinstance(table.this, exp.Identifier):
            raise UnsafeSQL(f"{table.this.sql()} is not a table name")
        if not table.args.get("db") and table.name.lower() in _visible_ctes(table):
            continue
        reference = ".".join(part.name.lower() for part in table.parts)
        if reference not in allowed and reference not in DESCRIPTION_VIEWS:
            raise UnknownTable(
                f"table {reference} is not allowed: only {_listing(allowed)}"
                " and the schema-description views can be queried"
            )
        used.add(reference)
    return frozenset(used)


def _confine_description_views(statement: exp.Query, allowed: Collection[str]) -> exp.Query:
    """Each description view read only for the allowed tables' schemas, so that it cannot
    list the tables and columns of schemas outside them."""
    schemas = sorted({name.split(".")[0] for name in allowed if "." in name})
    if not schemas:
        return statement

    def confine(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Table) or not isinstance(node.this, exp.Identifier):
            return node
        reference = ".".join(part.name.lower() for part in node.parts)
        column = DESCRIPTION_VIEWS.get(reference)
        if column is None or (not node.args.get("db") and reference in _visible_ctes(node)):
            return node
        alias = node.alias or node.name
        view = exp.table_(node.name, db=node.args["db"].name if node.args.get("db") else None)
        where = exp.column(column).isin(*(exp.Literal.string(s) for s in schemas))
        return exp.select("*").from_(view).where(where).subquery(alias)

    confined = statement.transform(confine)
    assert isinstance(confined, exp.Query)
    return confined


def _visible_ctes(table: exp.Table) -> set[str]:
    """CTE names `table` can refer to: every CTE of an enclosing WITH, except that inside
    a CTE's own definition only the earlier ones (and itself, when RECURSIVE) are in scope."""
    names: set[str] = set()
    child: exp.Expr = table
    parent = table.parent
    while parent is not None:
        if isinstance(parent, exp.With):
            ctes = parent.expressions
            index = next(i for i, cte in enumerate(ctes) if cte is child)
            visible = ctes[: index + 1] if parent.args.get("recursive") else ctes[:index]
            names.update(cte.alias_or_name.lower() for cte in visible)
        else:
            with_ = next((v for v in parent.args.values() if isinstance(v, exp.With)), None)
            if with_ is not None and with_ is not child:
                names.update(cte.alias_or_name.lower() for cte in with_.expressions)
        child, parent = parent, parent.parent
    return names


def _capped(statement: exp.Query, max_rows: int) -> exp.Query:
    """The statement with its outer row count limited to max_rows, meaning otherwise kept."""
    capped = statement.copy()
    limit = capped.args.get("limit")
    if limit is None:
        return capped.limit(max_rows, copy=False)
    count = limit.expression if isinstance(limit, exp.Limit) else None
    if isinstance(count, exp.Literal) and count.is_int:
        if int(count.name) > max_rows:
            limit.set("expression", exp.Literal.number(max_rows))
        return capped
    # A FETCH clause or a computed limit: cap from outside.
    return exp.select("*").from_(capped.subquery("capped")).limit(max_rows)


def _generate(statement: exp.Expr, dialect: str) -> str:
    # Keep `:name` parameters as they were written; adapters translate them per driver.
    named = statement.transform(
        lambda node: (
            exp.Var(this=f":{node.name}")
            if isinstance(node, exp.Placeholder) and node.name
            else node
        )
    )
    try:
        return named.sql(dialect=dialect, comments=False, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as e:
        raise UnsafeSQL(f"the SQL uses syntax the guard cannot verify: {_first_line(e)}") from e


def _describe(node: exp.Expr, sql: str | None = None) -> str:
    """A statement's name for a rejection: DROP TABLE, VACUUM, SELECT … INTO, ..."""
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    for cls, name in STATEMENT_NAMES.items():
        if isinstance(node, cls):
            return name
    if isinstance(node, FORBIDDEN_NODES):
        kind = node.args.get("kind")
        keyword = node.key.upper()
        return f"{keyword} {str(kind).upper()}" if isinstance(kind, str) else keyword
    # Parsed as something that is not a statement at all (LOCK t parses as an alias).
    words = (sql or node.sql()).split()
    return words[0].upper() if words else node.key.upper()


def _listing(allowed: Collection[str], most: int = 12) -> str:
    bare = sorted(name for name in allowed if "." not in name)
    if len(bare) > most:
        return f"{', '.join(bare[:most])} (and {len(bare) - most} more)"
    return ", ".join(bare) if bare else "no tables"


def _parse_problem(error: ParseError) -> str:
    if not error.errors:
        return _first_line(error)
    first = error.errors[0]
    description = _TOKEN_REPR.sub(r"'\1'", str(first.get("description", "")))
    return f"{description} at line {first.get('line')}, column {first.get('col')}"


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
