"""The functions a guarded statement may call, per dialect, and the size bounds on those
that build values larger than their inputs.

An allow-list, not a deny-list: a function this table does not name is refused, so a
function that runs SQL held in a string (`json_serialize_sql`, `query`), reads settings,
files or the environment (`current_setting`, `getenv`, `read_csv`), or describes schemas
outside the warehouse's (`pg_get_viewdef`, `has_table_privilege`, `version`) stays out of
reach, and so does any function a database adds later, until someone adds it here.

Names are sqlglot's: the `sql_name()` of a function sqlglot models (`TIMESTAMP_TRUNC` for
`date_trunc`, `PAD` for `lpad`/`rpad`, `GENERATE_SERIES` for DuckDB's `range`), else the
name as written, upper-cased. `tests/unit/executor/warehouse/test_sql_functions.py` keeps
every verified query passing in both dialects.

Why sizes matter: DuckDB's `memory_limit` governs its buffers (tables, hash tables,
aggregate states, sorts), not the values an expression computes. `repeat('x', 4e9)` or
`range(4e8)` allocate gigabytes outside it before the statement timeout can act, and a
vector holds 2,048 rows, so even a 1 MB value per row is 2 GB per thread. The functions
that make a value from a number (repeat, lpad/rpad, range/generate_series) are therefore
allowed only with literal arguments inside the bounds below.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlglot import exp

# Longest value repeat/lpad/rpad may build (characters): 2,048 rows of it is ~20 MB.
MAX_VALUE_CHARS = 10_000
# Most elements of a list built by range/generate_series used as a value.
MAX_LIST_ITEMS = 10_000
# Most rows of range/generate_series in FROM (rows stream within DuckDB's memory_limit;
# the bound keeps a mistyped bound from running until the statement timeout).
MAX_SERIES_ROWS = 10_000_000
# Longest literal replacement in replace/regexp_replace: one call grows a value at most
# this many times over.
MAX_REPLACEMENT_CHARS = 100

_COMMON = frozenset(
    {
        # Logic and comparison that sqlglot models as functions.
        "AND", "OR", "XOR", "EXISTS", "COLLATE", "REGEXP_LIKE", "REGEXP_I_LIKE",
        "REGEXP_FULL_MATCH",
        # Conditionals and null handling.
        "CASE", "IF", "COALESCE", "NULLIF", "NVL2", "GREATEST", "LEAST", "DECODE_CASE",
        "NULLIFZERO", "ZEROIFNULL",
        # Types.
        "CAST", "TRY_CAST",
        # Aggregates (their state is held to DuckDB's memory_limit).
        "COUNT", "SUM", "AVG", "MIN", "MAX", "MEDIAN", "MODE", "STDDEV", "STDDEV_POP",
        "STDDEV_SAMP", "VARIANCE", "VARIANCE_POP", "CORR", "COVAR_POP", "COVAR_SAMP",
        "REGR_SLOPE", "PERCENTILE_CONT", "PERCENTILE_DISC", "QUANTILE", "APPROX_QUANTILE",
        "APPROX_DISTINCT", "LOGICAL_AND", "LOGICAL_OR", "ANY_VALUE", "ARG_MAX", "ARG_MIN",
        "COUNT_IF", "FIRST", "LAST", "GROUP_CONCAT", "ARRAY_AGG", "SKEWNESS", "KURTOSIS",
        "ENTROPY", "REGR_INTERCEPT", "REGR_R2", "GROUPING", "BITWISE_AND_AGG",
        "BITWISE_OR_AGG",
        # Window functions.
        "ROW_NUMBER", "RANK", "DENSE_RANK", "PERCENT_RANK", "CUME_DIST", "NTILE", "LAG",
        "LEAD", "FIRST_VALUE", "LAST_VALUE", "NTH_VALUE",
        # Arithmetic.
        "ABS", "ROUND", "FLOOR", "CEIL", "TRUNC", "SQRT", "CBRT", "POWER", "EXP", "LN",
        "LOG", "SIGN", "PI", "RAND", "DEGREES", "RADIANS", "SIN", "COS", "TAN", "COT",
        "ATAN2", "GCD", "WIDTH_BUCKET", "IS_NAN", "IS_INF",
        # Text (none produces more than its inputs, except the bounded ones below).
        "LOWER", "UPPER", "LENGTH", "BIT_LENGTH", "TRIM", "SUBSTRING", "LEFT", "RIGHT",
        "STR_POSITION", "SPLIT_PART", "STARTS_WITH", "ENDS_WITH", "CONTAINS", "CONCAT",
        "CONCAT_WS", "INITCAP", "REVERSE", "TRANSLATE", "ASCII", "CHR", "MD5", "SHA2",
        "REGEXP_EXTRACT", "REGEXP_SUBSTR", "REGEXP_COUNT", "REGEXP_INSTR", "LEVENSHTEIN",
        "JAROWINKLER_SIMILARITY", "UNICODE",
        # Dates and times.
        "CURRENT_DATE", "CURRENT_TIMESTAMP", "DATE", "TIMESTAMP", "DATE_TRUNC",
        "TIMESTAMP_TRUNC", "DATETIME_TRUNC", "DATEDIFF", "DATE_ADD", "DATE_SUB",
        "TS_OR_DS_ADD", "TS_OR_DS_DIFF", "TS_OR_DS_TO_DATE", "EXTRACT", "YEAR", "MONTH",
        "DAY", "QUARTER", "WEEK", "WEEK_OF_YEAR", "DAY_OF_WEEK", "DAYOFWEEK_ISO",
        "DAY_OF_YEAR", "DAY_OF_MONTH", "HOUR", "MINUTE", "SECOND", "LAST_DAY",
        "ADD_MONTHS", "MONTHS_BETWEEN", "CONVERT_TIMEZONE", "DATE_FROM_PARTS",
        "STR_TO_TIME", "STR_TO_DATE", "TIME_TO_STR", "UNIX_TO_TIME", "TIME_TO_UNIX",
        "TO_CHAR", "TO_NUMBER", "DATE_PART", "DATEPART", "TIMESTAMP_FROM_PARTS", "DATE_BIN",
        "NEXT_DAY",
        # JSON values in a column.
        "JSON_EXTRACT", "JSON_EXTRACT_SCALAR",
        # Lists written out in the SQL text, and splitting values apart.
        "ARRAY", "ARRAY_SIZE", "ARRAY_CONTAINS", "ARRAY_DISTINCT", "ARRAY_SORT", "SPLIT",
        "UNNEST", "EXPLODE",
        # Bounded: see SIZE_RULES.
        "REPEAT", "PAD", "REPLACE", "REGEXP_REPLACE", "GENERATE_SERIES",
        "EXPLODING_GENERATE_SERIES",
    }
)  # fmt: skip

# Functions sqlglot does not model in one dialect, spelt as that dialect's users write them.
_DUCKDB = frozenset(
    {
        "DATE_DIFF", "DATE_SUB", "AGE", "NOW", "TODAY", "EPOCH", "EPOCH_MS", "DAYNAME",
        "MONTHNAME", "ISODOW", "STRFTIME", "STRPTIME", "MAKE_DATE", "TIME_BUCKET",
        "QUANTILE_CONT", "QUANTILE_DISC", "STRING_SPLIT", "STR_SPLIT", "LIST",
        "LIST_VALUE", "LIST_CONTAINS", "LEN", "OCTET_LENGTH", "REGEXP_MATCHES", "IFNULL",
        "ISNULL", "HASH", "JSON_EXTRACT_STRING", "JSON_ARRAY_LENGTH", "BTRIM", "TIMEZONE",
        "HISTOGRAM", "TRY_STRPTIME", "YEARWEEK", "WEEKDAY", "ISOYEAR", "CENTURY",
        "MILLISECOND", "MICROSECOND", "TO_DAYS", "TO_MONTHS", "DATESUB", "PREFIX", "SUFFIX",
        "STRIP_ACCENTS", "ORD", "ISFINITE", "EVEN", "ROUND_EVEN", "STRUCT_EXTRACT",
        "LIST_EXTRACT", "ARRAY_SLICE", "ARRAY_TO_STRING", "FORMAT_BYTES",
    }
)  # fmt: skip
_REDSHIFT = frozenset(
    {
        "GETDATE", "NVL", "ISNULL", "DATEADD", "DATE_PART", "CHARINDEX", "STRPOS",
        "LISTAGG", "RATIO_TO_REPORT", "JSON_EXTRACT_PATH_TEXT", "JSON_ARRAY_LENGTH",
        "IS_VALID_JSON", "OCTET_LENGTH", "BTRIM", "LEN", "TIMEZONE", "CARDINALITY",
        "FROM_BASE", "DATE_PART_YEAR", "DATE_CMP", "TIMESTAMP_CMP", "CRC32", "FUNC_SHA1",
    }
)  # fmt: skip

ALLOWED_FUNCTIONS: dict[str, frozenset[str]] = {
    "duckdb": _COMMON | _DUCKDB,
    "redshift": _COMMON | _REDSHIFT,
}

# Functions that produce rows in FROM, JOIN or LATERAL position; every other table
# function (read_csv, glob, query, duckdb_*(), pg_ls_dir, ...) reads files, runs SQL
# text or exposes internals.
TABLE_FUNCTIONS = frozenset({"GENERATE_SERIES", "EXPLODING_GENERATE_SERIES", "UNNEST", "EXPLODE"})

_SERIES = frozenset({"GENERATE_SERIES", "EXPLODING_GENERATE_SERIES"})
_SECONDS_PER_UNIT = {
    "SECOND": 1, "MINUTE": 60, "HOUR": 3_600, "DAY": 86_400, "WEEK": 604_800,
    "MONTH": 28 * 86_400, "QUARTER": 90 * 86_400, "YEAR": 365 * 86_400,
}  # fmt: skip


def function_name(node: exp.Func) -> str:
    """The name a refusal shows and the allow-list is keyed by."""
    if isinstance(node, exp.Anonymous):
        return node.name.upper()
    if isinstance(node, exp.Pad):
        return "LPAD" if node.args.get("is_left") else "RPAD"
    return node.sql_name().upper()


def allowed_name(node: exp.Func) -> str:
    return "PAD" if isinstance(node, exp.Pad) else function_name(node)


def size_problem(node: exp.Func, *, as_table: bool) -> str | None:
    """Why a size-producing call is refused, or None when its size is within bounds."""
    name = allowed_name(node)
    if name == "REPEAT":
        text, times = _string(_arg(node, "this", 0)), _integer(_arg(node, "times", 1))
        if text is None or times is None:
            return "its text and count must be literals"
        if len(text) * times > MAX_VALUE_CHARS:
            return f"it would build {len(text) * times:,} characters (at most {MAX_VALUE_CHARS:,})"
    elif name == "PAD":
        length = _integer(_arg(node, "expression", 1))
        if length is None:
            return "its length must be a literal"
        if length > MAX_VALUE_CHARS:
            return f"it would build {length:,} characters (at most {MAX_VALUE_CHARS:,})"
    elif name in ("REPLACE", "REGEXP_REPLACE"):
        replacement = _string(_arg(node, "replacement", 2))
        if replacement is None:
            return "its replacement must be a literal"
        if len(replacement) > MAX_REPLACEMENT_CHARS:
            return f"its replacement is longer than {MAX_REPLACEMENT_CHARS} characters"
    elif name in _SERIES:
        bound = MAX_SERIES_ROWS if as_table else MAX_LIST_ITEMS
        count = _series_length(node)
        if count is None:
            return "its start, stop and step must be literals"
        if count > bound:
            what = "rows" if as_table else "list items"
            return f"it would produce {count:,} {what} (at most {bound:,})"
    return None


def _arg(node: exp.Func, key: str, position: int) -> exp.Expr | None:
    if isinstance(node, exp.Anonymous):
        return node.expressions[position] if len(node.expressions) > position else None
    value = node.args.get(key)
    return value if isinstance(value, exp.Expr) else None


def _string(node: exp.Expr | None) -> str | None:
    return node.name if isinstance(node, exp.Literal) and node.is_string else None


def _integer(node: exp.Expr | None) -> int | None:
    number = _number(node)
    return int(number) if number is not None and number == int(number) else None


def _number(node: exp.Expr | None) -> float | None:
    if isinstance(node, exp.Neg):
        inner = _number(node.this)
        return None if inner is None else -inner
    if isinstance(node, exp.Paren):
        return _number(node.this)
    if isinstance(node, exp.Literal) and node.is_number:
        return float(node.name)
    return None


def _series_length(node: exp.Func) -> int | None:
    """Elements of a literal range/generate_series, None when not all literals."""
    start, stop, step = (node.args.get(key) for key in ("start", "end", "step"))
    numbers = [_number(start), _number(stop), 1.0 if step is None else _number(step)]
    if all(n is not None for n in numbers):
        first, last, by = (float(n) for n in numbers if n is not None)
    else:
        moments = [_moment(start), _moment(stop)]
        seconds = _interval_seconds(step)
        if moments[0] is None or moments[1] is None or seconds is None:
            return None
        first, last, by = 0.0, (moments[1] - moments[0]).total_seconds(), seconds
    if by == 0:
        return None
    steps = (last - first) / by
    if node.args.get("is_end_exclusive"):
        return max(0, math.ceil(steps))
    return max(0, math.floor(steps) + 1)


def _moment(node: exp.Expr | None) -> datetime | None:
    """A DATE/TIMESTAMP literal (`DATE '2024-01-01'`, `'2024-01-01'::date`)."""
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
        try:
            return datetime.fromisoformat(node.this.name)
        except ValueError:
            return None
    return None


def _interval_seconds(node: exp.Expr | None) -> float | None:
    if node is None:
        return float(timedelta(days=1).total_seconds())
    if not isinstance(node, exp.Interval):
        return None
    unit = node.args.get("unit")
    count_text = node.this.name if isinstance(node.this, exp.Literal) else ""
    parts = count_text.split()
    if unit is None and len(parts) == 2:
        count_text, unit_name = parts
    else:
        unit_name = unit.name if unit is not None else ""
    seconds = _SECONDS_PER_UNIT.get(unit_name.upper().rstrip("S"))
    try:
        count = float(count_text)
    except ValueError:
        return None
    return None if seconds is None else count * seconds
