"""The guard's function allow-list: size-building functions bounded, functions that run SQL
text or read settings and catalogs refused, columns posing as tables refused, and every
verified query still accepted in both dialects."""

from __future__ import annotations

import pytest

from executor.errors import UnsafeSQL
from executor.verified import load_library
from executor.verified.library import Entry
from executor.verified.transpile import to_dialect
from executor.warehouse.base import TableInfo
from executor.warehouse.guard import allowed_tables, check_sql
from executor.warehouse.sql_functions import ALLOWED_FUNCTIONS, MAX_VALUE_CHARS

DIALECTS = ("duckdb", "redshift")
ALLOWED = allowed_tables(
    [
        TableInfo(name="users", columns=[], row_count=0, schema="public"),
        TableInfo(name="interactions", columns=[], row_count=0, schema="public"),
    ]
)

# (statement, words the one-line reason must contain), refused in both dialects.
TOO_BIG = [
    ("SELECT length(repeat('x', 4000000000))", "REPEAT"),
    ("SELECT length(repeat('ab', 5001))", "10,002 characters"),
    ("SELECT repeat(city, 3) FROM users", "REPEAT"),
    ("SELECT repeat('x', age) FROM users", "must be literals"),
    ("SELECT repeat('x', 100 * 100000000)", "must be literals"),
    ("SELECT repeat('x', CAST('4000000000' AS BIGINT))", "must be literals"),
    ("SELECT repeat(repeat('x', 1000), 1000)", "must be literals"),
    ("SELECT lpad('x', 2000000000, 'y')", "LPAD"),
    ("SELECT rpad(city, 10001) FROM users", "RPAD"),
    ("SELECT lpad(city, age * 1000000, '0') FROM users", "length must be a literal"),
    ("SELECT count(*) FROM users WHERE length(rpad(city, 99999999, 'x')) > 1", "RPAD"),
    ("SELECT generate_series(1, 400000000)", "400,000,000 list items"),
    ("SELECT generate_series(1, age) FROM users", "must be literals"),
    ("SELECT count(*) FROM generate_series(1, 100000000000)", "rows"),
    ("SELECT count(*) FROM generate_series(1, (SELECT max(user_id) FROM users))", "literals"),
    ("SELECT replace(city, 'a', repeat('b', 5000)) FROM users", "replacement must be a literal"),
    ("SELECT regexp_replace(city, '', '" + "z" * 101 + "', 'g') FROM users", "longer than 100"),
    ("SELECT 'x'.repeat(1000000000)", "called by its plain name"),
    ("SELECT main.repeat('x', 1000000000)", "called by its plain name"),
]

DUCKDB_ONLY = [
    ("SELECT len(range(400000000))", "400,000,000 list items"),
    ("SELECT unnest(range(0, 1000000000, 1))", "list items"),
    ("SELECT count(*) FROM range(1000000000000)", "rows"),
    ("SELECT list_resize([1], 1000000000)", "LIST_RESIZE"),
    ("SELECT array_resize([1], 1000000000)", "ARRAY_RESIZE"),
    ("SELECT printf('%2000000000d', 1)", "PRINTF"),
    ("SELECT format('{:>2000000000}', 'x')", "FORMAT"),
    ("SELECT bar(1, 0, 1, 1000000000)", "BAR"),
    ("SELECT list_transform([1, 2], x -> repeat('x', x))", "function TRANSFORM"),
    ("SELECT * FROM glob('/*')", "table function GLOB"),
    ("SELECT range(DATE '0001-01-01', DATE '9999-01-01', INTERVAL 1 SECOND)", "list items"),
]

# Functions that run SQL held in a string, read settings, files or the environment, or
# describe schemas and privileges beyond the warehouse's tables.
REACHES_OUT = [
    "SELECT json_serialize_plan('SELECT current_setting(''s3_secret_access_key'')')",
    "SELECT json_serialize_sql('SELECT 1')",
    "SELECT json_deserialize_sql(json_serialize_sql('SELECT 1'))",
    "SELECT json_execute_serialized_sql(json_serialize_sql('SELECT 1'))",
    "SELECT current_setting('memory_limit')",
    "SELECT getenv('AWS_SECRET_ACCESS_KEY')",
    "SELECT getvariable('x')",
    "SELECT version()",
    "SELECT current_user",
    "SELECT current_database()",
    "SELECT current_schema()",
    "SELECT user_id FROM users WHERE has_table_privilege('pg_catalog.pg_shadow', 'select')",
    "SELECT has_schema_privilege('finance', 'usage')",
    "SELECT has_database_privilege('dev', 'create')",
    "SELECT pg_get_viewdef('finance.salaries')",
    "SELECT pg_get_cols('finance.salaries')",
    "SELECT * FROM pg_get_cols('finance.salaries')",
    "SELECT pg_get_late_binding_view_cols()",
    "SELECT pg_catalog.pg_get_viewdef('finance.salaries')",
    "SELECT pg_sleep(600)",
    "SELECT pg_backend_pid()",
    "SELECT query('SELECT 1')",
    "SELECT * FROM query_table('users')",
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM duckdb_functions()",
    "SELECT * FROM which_secret('s3://bucket', 's3')",
    "SELECT read_text('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM read_json('/etc/passwd')",
    "SELECT * FROM sniff_csv('/etc/passwd')",
    "SELECT * FROM users WHERE city = (SELECT current_setting('home_directory'))",
    "SELECT city FROM users ORDER BY getenv('HOME')",
    "WITH x AS (SELECT version() AS v) SELECT * FROM x",
    "SELECT error('boom')",
    "SELECT nextval('s')",
]

# An alias named like a schema, then schema.table: Redshift reads the second FROM item as
# a walk into a column of the alias, which no table check would see.
COLUMN_AS_TABLE = [
    "SELECT * FROM users AS pg_catalog, pg_catalog.pg_shadow",
    "SELECT * FROM users AS pg_catalog JOIN pg_catalog.pg_user ON TRUE",
    "SELECT * FROM users AS finance, finance.salaries",
    "SELECT * FROM users u, LATERAL (SELECT * FROM users AS information_schema, "
    "information_schema.role_table_grants) x",
    "SELECT * FROM users AS pg_catalog, pg_catalog.pg_shadow.usename",
    "SELECT * FROM users pg_catalog, pg_catalog.pg_shadow",
    'SELECT * FROM users AS "pg_catalog", "pg_catalog"."pg_shadow"',
    "SELECT * FROM (SELECT 1 AS one) AS pg_catalog, pg_catalog.pg_shadow",
    "SELECT * FROM users AS a, a.b.c.d.e",
]

# Analyst queries at the edges of the bounds, and the everyday functions.
ACCEPTED = [
    "SELECT lpad(CAST(user_id AS VARCHAR), 8, '0') AS padded FROM users",
    f"SELECT repeat('-', {MAX_VALUE_CHARS}) AS rule",
    "SELECT repeat('ab', 5000) AS rule",
    "SELECT rpad(city, 20) FROM users",
    "SELECT replace(city, ' ', '_') FROM users",
    "SELECT regexp_replace(city, '[aeiou]', '*') FROM users",
    "SELECT generate_series(1, 12) AS months",
    "SELECT n FROM generate_series(1, 1000000) AS t(n)",
    "SELECT d FROM generate_series(DATE '2024-01-01', DATE '2026-12-31', INTERVAL '1 day') AS t(d)",
    "SELECT city, count(*) AS n, sum(revenue) AS revenue, avg(age) AS age, "
    "min(signup_date), max(signup_date), stddev(age), median(age) "
    "FROM users JOIN interactions USING (user_id) GROUP BY city",
    "SELECT user_id, lag(occurred_at) OVER (PARTITION BY user_id ORDER BY occurred_at), "
    "rank() OVER (ORDER BY revenue DESC), ntile(4) OVER (ORDER BY revenue) FROM interactions",
    "SELECT coalesce(plan, 'none'), nullif(country, ''), greatest(age, 18), least(age, 99), "
    "CASE WHEN age > 30 THEN 'old' ELSE 'young' END, upper(city), lower(city), "
    "length(city), trim(city), substring(city, 1, 3), split_part(city, ' ', 1), "
    "concat(city, ', ', country), city || '!' FROM users",
    "SELECT date_trunc('month', occurred_at), extract(year FROM occurred_at), "
    "datediff(day, signup_date, current_date), round(revenue, 2), abs(revenue), "
    "floor(revenue), ceil(revenue), cast(revenue AS INTEGER), current_date, "
    "count(DISTINCT user_id) FROM interactions JOIN users USING (user_id) GROUP BY 1, 2, 3, 4, "
    "5, 6, 7, 8, 9",
    "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY revenue) FROM interactions",
    "SELECT listagg(DISTINCT plan, ', ') WITHIN GROUP (ORDER BY plan) FROM users",
    "SELECT count(*) FROM users a CROSS JOIN users b",
]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("sql", "reason"), TOO_BIG)
def test_functions_that_build_big_values_are_bounded(dialect: str, sql: str, reason: str) -> None:
    # GIVEN a statement whose function would build a value past the bounds
    # WHEN the guard checks it THEN it is refused with one line naming the problem
    with pytest.raises(UnsafeSQL) as refused:
        check_sql(sql, dialect, allowed=ALLOWED)

    assert reason in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(("sql", "reason"), DUCKDB_ONLY)
def test_duckdb_list_format_and_file_functions_are_refused(sql: str, reason: str) -> None:
    with pytest.raises(UnsafeSQL, match=reason):
        check_sql(sql, "duckdb", allowed=ALLOWED)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("sql", REACHES_OUT)
def test_functions_beyond_the_data_are_refused_naming_the_function(dialect: str, sql: str) -> None:
    # GIVEN a function that is not an analysis function WHEN checked THEN refused by name
    with pytest.raises(UnsafeSQL, match=r"function \w+ (is not allowed|must be called)"):
        check_sql(sql, dialect, allowed=ALLOWED)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("sql", COLUMN_AS_TABLE)
def test_an_alias_named_like_a_schema_does_not_smuggle_a_table(dialect: str, sql: str) -> None:
    with pytest.raises(UnsafeSQL, match=r"is not a table|is not allowed"):
        check_sql(sql, dialect, allowed=ALLOWED)


def test_the_refusal_names_the_function_and_why() -> None:
    with pytest.raises(UnsafeSQL) as refused:
        check_sql("SELECT json_serialize_sql('SELECT 1')", "duckdb", allowed=ALLOWED)

    assert str(refused.value) == (
        "function JSON_SERIALIZE_SQL is not allowed: it is not among the analysis functions"
        " the guard accepts"
    )


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("sql", ACCEPTED)
def test_analyst_functions_within_bounds_pass(dialect: str, sql: str) -> None:
    checked = check_sql(sql, dialect, allowed=ALLOWED)

    assert checked.sql.upper().startswith("SELECT")


def test_duckdb_may_unnest_a_value_computed_from_a_column() -> None:
    # GIVEN a split of a text column into rows (the column is an argument, not a FROM item)
    sql = "SELECT u.user_id, part FROM users AS u, unnest(string_split(u.city, ' ')) AS t(part)"
    # WHEN checked THEN it passes
    assert check_sql(sql, "duckdb", allowed=ALLOWED).tables == {"users"}


ENTRIES = load_library().entries


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry.id for entry in ENTRIES])
def test_every_verified_query_passes_in_both_dialects(entry: Entry) -> None:
    sql = entry.sql
    # GIVEN a verified query as written (Redshift) and as DuckDB runs it
    # WHEN the guard checks both THEN both pass
    assert check_sql(sql, "redshift", allowed=ALLOWED).tables
    assert check_sql(to_dialect(sql, "duckdb"), "duckdb", allowed=ALLOWED).tables


def test_each_dialect_has_its_own_list() -> None:
    assert "GETDATE" in ALLOWED_FUNCTIONS["redshift"] - ALLOWED_FUNCTIONS["duckdb"]
    assert "STRFTIME" in ALLOWED_FUNCTIONS["duckdb"] - ALLOWED_FUNCTIONS["redshift"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT table_schema, table_name FROM information_schema.columns",
        "SELECT * FROM svv_all_tables AS t WHERE t.schema_name = 'finance'",
        "SELECT * FROM pg_catalog.pg_table_def WHERE schemaname = 'finance'",
        "SELECT * FROM users JOIN svv_columns ON TRUE",
    ],
)
def test_description_views_describe_only_the_warehouse_schemas(sql: str) -> None:
    # GIVEN Redshift tables in the schemas public and sales only
    allowed = allowed_tables(
        [
            TableInfo(name="users", columns=[], row_count=0, schema="public"),
            TableInfo(name="events", columns=[], row_count=0, schema="sales"),
        ]
    )
    # WHEN a description view is queried
    checked = check_sql(sql, "redshift", allowed=allowed)
    # THEN what runs reads the view only for those schemas
    assert "IN ('public', 'sales')) AS " in checked.sql
    assert checked.sql.count("IN ('public', 'sales')") == 1
