"""The SQL guard, table-driven: safe and unsafe statements in both dialects."""

from __future__ import annotations

import re

import pytest

from executor.errors import UnsafeSQL
from executor.warehouse.base import TableInfo
from executor.warehouse.guard import allowed_tables, check_sql

DIALECTS = ("duckdb", "redshift")
ALLOWED = allowed_tables(
    [
        TableInfo(name="users", columns=[], row_count=0, schema="public"),
        TableInfo(name="interactions", columns=[], row_count=0, schema="public"),
    ]
)

SAFE = [
    "SELECT * FROM users",
    "select user_id, country from users where age > 30",
    "SELECT updated_at, deleted_flag, dataset, created_by FROM users",
    "SELECT u.user_id AS drop_count, 'DELETE FROM users' AS note FROM users u",
    "SELECT count(*) FROM interactions WHERE event_type = 'purchase'",
    "SELECT plan, avg(age) FROM public.users GROUP BY plan HAVING count(*) > 10",
    "SELECT * FROM users u JOIN interactions i ON i.user_id = u.user_id",
    "SELECT * FROM users WHERE user_id IN (SELECT user_id FROM interactions)",
    "SELECT * FROM users WHERE EXISTS "
    "(SELECT 1 FROM interactions i WHERE i.user_id = users.user_id)",
    "WITH buyers AS (SELECT DISTINCT user_id FROM interactions WHERE event_type = 'purchase') "
    "SELECT count(*) FROM buyers",
    "WITH a AS (SELECT * FROM users), b AS (SELECT * FROM a) SELECT * FROM b",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r",
    "SELECT country FROM users UNION SELECT device FROM interactions",
    "SELECT user_id FROM users INTERSECT SELECT user_id FROM interactions",
    "SELECT user_id FROM users EXCEPT SELECT user_id FROM interactions",
    "(SELECT 1)",
    "SELECT 1;",
    "SELECT date_trunc('month', signup_date) AS month, count(*) FROM users GROUP BY 1 ORDER BY 1",
    "SELECT plan, row_number() OVER (PARTITION BY country ORDER BY age DESC) FROM users",
    "SELECT * FROM users WHERE country = :country AND age >= :min_age",
    "SELECT CASE WHEN revenue IS NULL THEN 0 ELSE revenue END FROM interactions",
    "SELECT * FROM users LIMIT 10 OFFSET 20",
    "SELECT table_name, column_name FROM information_schema.columns",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM svv_columns",
    "SELECT * FROM pg_table_def WHERE tablename = 'users'",
    "SELECT * FROM generate_series(1, 10)",
    "SELECT * FROM USERS",
    "SELECT * FROM users -- a trailing comment",
    "SELECT * FROM users u JOIN LATERAL (SELECT 1 AS one) x ON TRUE",
    "SELECT * FROM users AS pg_user",
    "SELECT * FROM information_schema.columns c JOIN users u ON TRUE",
]

# (statement, words the one-line reason must contain)
UNSAFE = [
    ("DROP TABLE users", "found DROP TABLE"),
    ("drop view if exists v", "found DROP VIEW"),
    ("INSERT INTO users (user_id) VALUES (1)", "found INSERT"),
    ("UPDATE users SET age = 1", "found UPDATE"),
    ("DELETE FROM users", "found DELETE"),
    (
        "MERGE INTO users USING interactions i ON users.user_id = i.user_id "
        "WHEN MATCHED THEN UPDATE SET age = 1",
        "found MERGE",
    ),
    ("CREATE TABLE x AS SELECT * FROM users", "found CREATE TABLE"),
    ("CREATE OR REPLACE VIEW v AS SELECT 1", "found CREATE VIEW"),
    ("ALTER TABLE users ADD COLUMN x INT", "found ALTER TABLE"),
    ("TRUNCATE users", "found TRUNCATE"),
    ("GRANT SELECT ON users TO bob", "found GRANT"),
    ("REVOKE SELECT ON users FROM bob", "found REVOKE"),
    ("SELECT * INTO new_users FROM users", "SELECT … INTO"),
    ("COPY users FROM 's3://bucket/users.csv'", "found COPY"),
    ("COPY users TO '/tmp/users.csv'", "found COPY"),
    ("SET search_path TO other", "found SET"),
    ("RESET ALL", "found RESET"),
    ("CALL refresh_everything()", "found CALL"),
    ("VACUUM users", "found VACUUM"),
    ("ANALYZE users", "found ANALYZE"),
    ("EXPLAIN SELECT 1", "found EXPLAIN"),
    ("BEGIN", "found BEGIN"),
    ("COMMIT", "found COMMIT"),
    ("LOCK users", "found LOCK"),
    ("PREPARE p AS SELECT 1", "found PREPARE"),
    ("COMMENT ON TABLE users IS 'x'", "found COMMENT"),
    ("SELECT * FROM users FOR UPDATE", "FOR UPDATE"),
    ("WITH gone AS (DELETE FROM users RETURNING *) SELECT * FROM gone", "found DELETE"),
    ("WITH moved AS (INSERT INTO users SELECT * FROM users RETURNING *) SELECT 1", "INSERT"),
    ("SELECT 1; DROP TABLE users", "found 2 (SELECT, DROP TABLE)"),
    ("SELECT 1; SELECT 2", "found 2"),
    ("", "no SQL statement found"),
    ("  ;  ", "no SQL statement found"),
    ("-- only a comment", "no SQL statement found"),
    ("SELECT FROM WHERE", "could not parse"),
    ("SELECT * FROM pg_catalog.pg_user", "table pg_catalog.pg_user is not allowed"),
    ("SELECT * FROM pg_shadow", "table pg_shadow is not allowed"),
    ("SELECT * FROM stl_query", "table stl_query is not allowed"),
    ("SELECT * FROM stv_sessions", "table stv_sessions is not allowed"),
    ("SELECT * FROM svl_qlog", "table svl_qlog is not allowed"),
    ("SELECT * FROM information_schema.role_table_grants", "not allowed"),
    ("SELECT * FROM other_schema.users", "table other_schema.users is not allowed"),
    ("SELECT * FROM otherdb.public.users", "table otherdb.public.users is not allowed"),
    ("SELECT * FROM secrets", "only interactions, users and the schema-description views"),
    ("SELECT * FROM users WHERE user_id IN (SELECT user_id FROM payroll)", "table payroll"),
    ("WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a", "table b is not allowed"),
    (
        "WITH users AS (SELECT * FROM users) SELECT * FROM users JOIN pg_user ON true",
        "table pg_user",
    ),
    ("SELECT * FROM read_csv('/etc/passwd')", "table function READ_CSV"),
    ("SELECT * FROM read_parquet('s3://bucket/x.parquet')", "table function READ_PARQUET"),
    ("SELECT * FROM 'users.csv'", "table users.csv is not allowed"),
    ("SELECT * FROM query('DROP TABLE users')", "table function QUERY"),
    ("SELECT * FROM duckdb_secrets()", "table function DUCKDB_SECRETS"),
    ("SELECT * FROM users, LATERAL query('DROP TABLE users')", "table function QUERY"),
    ("SELECT * FROM users CROSS JOIN query_table('users')", "table function QUERY_TABLE"),
    ("SELECT * FROM users, LATERAL pg_ls_dir('.')", "table function PG_LS_DIR"),
    ("SELECT * FROM users FOR SHARE", "FOR UPDATE/SHARE"),
    ("SELECT current_setting('s3_secret_access_key')", "function CURRENT_SETTING"),
    ("SELECT pg_read_file('/etc/passwd')", "function PG_READ_FILE"),
    ("SELECT set_config('search_path', 'x', false)", "function SET_CONFIG"),
    ("SELECT pg_terminate_backend(1)", "function PG_TERMINATE_BACKEND"),
    ("SELECT query_to_xml('DELETE FROM users', true, true, '')", "function QUERY_TO_XML"),
    ("SELECT * FROM users WHERE user_id = (SELECT nextval('s'))", "function NEXTVAL"),
]

DUCKDB_ONLY_UNSAFE = [
    ("ATTACH 'other.duckdb'", "found ATTACH"),
    ("INSTALL httpfs", "found INSTALL"),
    ("LOAD httpfs", "found LOAD"),
    ("PRAGMA version", "found PRAGMA"),
    ("SELECT * FROM glob('*')", "table function GLOB"),
    ("SELECT * FROM users, LATERAL glob('*')", "table function GLOB"),
    ("SELECT * FROM read_text('/etc/passwd')", "table function READ_TEXT"),
    ("SUMMARIZE users", "found SUMMARIZE"),
    ("DESCRIBE users", "found DESCRIBE"),
    ("SHOW TABLES", "found SHOW"),
    ("USE other", "found USE"),
    ("UNLOAD ('select 1') TO 's3://b/x'", "could not parse"),
]

REDSHIFT_ONLY_UNSAFE = [
    (
        "UNLOAD ('SELECT * FROM users') TO 's3://bucket/x' IAM_ROLE 'arn:aws:iam::1:role/r'",
        "found UNLOAD",
    ),
    ("COPY users FROM 's3://bucket/x' IAM_ROLE 'arn:aws:iam::1:role/r'", "found COPY"),
    ("DO $$ BEGIN END $$", "found DO"),
    ("SHOW search_path", "found SHOW"),
    ("SELECT * FROM users TABLESAMPLE 10%", "syntax the guard cannot verify"),
]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("sql", SAFE)
def test_safe_statements_pass(sql: str, dialect: str) -> None:
    checked = check_sql(sql, dialect, allowed=ALLOWED)

    assert checked.sql.strip()
    assert checked.capped(5).upper().count("LIMIT") >= 1


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("sql", "reason"), UNSAFE)
def test_unsafe_statements_are_refused_with_a_one_line_reason(
    sql: str, reason: str, dialect: str
) -> None:
    with pytest.raises(UnsafeSQL) as refused:
        check_sql(sql, dialect, allowed=ALLOWED)

    message = str(refused.value)
    assert reason in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("dialect", "sql", "reason"),
    [("duckdb", *case) for case in DUCKDB_ONLY_UNSAFE]
    + [("redshift", *case) for case in REDSHIFT_ONLY_UNSAFE],
)
def test_dialect_specific_statements_are_refused(dialect: str, sql: str, reason: str) -> None:
    with pytest.raises(UnsafeSQL, match=re.escape(reason)):
        check_sql(sql, dialect, allowed=ALLOWED)


def test_the_reason_names_the_statement_exactly() -> None:
    with pytest.raises(UnsafeSQL) as refused:
        check_sql("DROP TABLE users", "redshift", allowed=ALLOWED)

    assert str(refused.value) == "only single SELECT statements are allowed: found DROP TABLE"


@pytest.mark.parametrize(
    ("sql", "capped"),
    [
        ("SELECT * FROM users", "SELECT * FROM users LIMIT 20"),
        ("SELECT * FROM users LIMIT 5", "SELECT * FROM users LIMIT 5"),
        ("SELECT * FROM users LIMIT 500", "SELECT * FROM users LIMIT 20"),
        ("SELECT * FROM users LIMIT 500 OFFSET 3", "SELECT * FROM users LIMIT 20 OFFSET 3"),
        (
            "SELECT plan FROM users UNION SELECT device FROM interactions",
            "SELECT plan FROM users UNION SELECT device FROM interactions LIMIT 20",
        ),
        (
            "SELECT * FROM users LIMIT :n",
            "SELECT * FROM (SELECT * FROM users LIMIT :n) AS capped LIMIT 20",
        ),
        (
            "SELECT * FROM users FETCH FIRST 50 ROWS ONLY",
            "SELECT * FROM (SELECT * FROM users LIMIT 50) AS capped LIMIT 20",
        ),
    ],
)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_preview_cap_adds_or_clamps_a_limit(dialect: str, sql: str, capped: str) -> None:
    checked = check_sql(sql, dialect, allowed=ALLOWED)

    assert checked.capped(20) == capped


def test_the_export_version_keeps_the_whole_query() -> None:
    checked = check_sql("SELECT * FROM users ORDER BY age LIMIT 500", "duckdb", allowed=ALLOWED)

    assert checked.sql == "SELECT * FROM users ORDER BY age LIMIT 500"
    assert checked.capped(10) == "SELECT * FROM users ORDER BY age LIMIT 10"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_named_parameters_survive_as_written(dialect: str) -> None:
    checked = check_sql(
        "SELECT * FROM users WHERE country = :country AND age > :min_age", dialect, allowed=ALLOWED
    )

    assert ":country" in checked.sql
    assert ":min_age" in checked.capped(3)


def test_comments_are_not_carried_into_what_runs() -> None:
    checked = check_sql("SELECT 1 /* ; DROP TABLE users */ FROM users", "redshift", allowed=ALLOWED)

    assert "DROP" not in checked.sql


def test_tables_used_are_reported() -> None:
    checked = check_sql(
        "WITH b AS (SELECT * FROM interactions) SELECT * FROM public.users JOIN b USING (user_id)",
        "redshift",
        allowed=ALLOWED,
    )

    assert checked.tables == {"interactions", "public.users"}


def test_allowed_tables_holds_bare_and_qualified_names() -> None:
    names = allowed_tables([TableInfo(name="Users", columns=[], row_count=1, schema="Sales")])

    assert names == {"users", "sales.users"}


def test_absurdly_nested_sql_is_refused_not_crashed() -> None:
    sql = "SELECT " + "(" * 5000 + "1" + ")" * 5000

    with pytest.raises(UnsafeSQL, match="nested too deeply"):
        check_sql(sql, "duckdb", allowed=ALLOWED)


def test_unknown_dialect_and_bad_cap_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="unknown SQL dialect"):
        check_sql("SELECT 1", "mysql", allowed=ALLOWED)
    with pytest.raises(ValueError, match="at least 1"):
        check_sql("SELECT 1", "duckdb", allowed=ALLOWED).capped(0)
